#!/usr/bin/env python3
"""Short messages for measuring language detection, from Debian's translation
catalogs (/usr/share/locale/*/LC_MESSAGES/*.mo): strings of 3 to 8 words that
people wrote in each language, none of them written or chosen by us.

    scripts/detection-set.py OUT_DIR [PER_LANGUAGE]

writes OUT_DIR/dev.tsv and OUT_DIR/test.tsv (language <TAB> text). A catalog goes
wholly to one of them (by a hash of its file name), so a string tuned on never
reaches the held-out set; each language keeps at most PER_LANGUAGE (default 60)
strings per file, sampled with a fixed seed. English comes from the catalogs'
source strings.
"""
import gettext
import glob
import hashlib
import os
import random
import re
import sys

# The languages the demo's offline engine reaches (docs/languages.md), by the
# locale directory their catalogs are in.
LANGUAGES = {
    "an": "an", "ast": "ast", "bg": "bg", "br": "br", "bs": "bs", "ca": "ca",
    "da": "da", "eo": "eo", "es": "es", "eu": "eu", "fr": "fr", "frp": "frp",
    "gl": "gl", "hr": "hr", "is": "is", "it": "it", "mk": "mk", "nb": "nb",
    "nn": "nn", "oc": "oc", "pt": "pt", "ro": "ro", "sc": "sc", "sl": "sl",
    "sr@latin": "sr", "sv": "sv",
}
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def usable(text):
    if any(c in text for c in "%$&_{}<>\\/=|[]@#*~^`\t\n"):
        return False
    words = text.split()
    return 3 <= len(words) <= 8 and all(WORD.fullmatch(w.strip(".,;:!?¿¡()\"'«»")) for w in words)


def catalog(path):
    try:
        with open(path, "rb") as f:
            return gettext.GNUTranslations(f)._catalog
    except Exception:
        return {}


def main():
    out = sys.argv[1]
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    rng = random.Random(20261205)
    sets = {"dev": [], "test": []}
    english = {"dev": set(), "test": set()}
    for directory, language in sorted(LANGUAGES.items()):
        pool = {"dev": set(), "test": set()}
        for path in sorted(glob.glob(f"/usr/share/locale/{directory}/LC_MESSAGES/*.mo")):
            split = "dev" if hashlib.sha256(os.path.basename(path).encode()).digest()[0] % 2 else "test"
            for source, text in catalog(path).items():
                if isinstance(source, str) and source and isinstance(text, str):
                    text = text.strip()
                    if usable(text) and text != source:
                        pool[split].add(text)
                    if usable(source):
                        english[split].add(source)
        for split, texts in pool.items():
            chosen = sorted(texts)
            rng.shuffle(chosen)
            sets[split] += [(language, t) for t in chosen[:per]]
    for split, texts in english.items():
        chosen = sorted(texts)
        rng.shuffle(chosen)
        sets[split] += [("en", t) for t in chosen[:per]]
    os.makedirs(out, exist_ok=True)
    for split, rows in sets.items():
        with open(os.path.join(out, f"{split}.tsv"), "w") as f:
            for language, text in rows:
                f.write(f"{language}\t{text}\n")
        print(f"{split}: {len(rows)} messages", file=sys.stderr)


if __name__ == "__main__":
    main()
