#!/usr/bin/env python3
"""The coverage of each message of a detection set by each language's Apertium
analyser (the share of its words the analyser knows: what APy's /calcCoverage
answers), computed with lt-proc in one batch per language, for tuning the
detection weights offline (plugins/text/examples/detection_tuning.rs).

    scripts/detection-coverage.py SET.tsv OUT.cov

Each line of OUT.cov is `language<TAB>code=share code=share ...`, in SET.tsv's
order. The analysers are the ones scripts/apertium.sh makes modes of.
"""
import glob
import os
import subprocess
import sys

# Two-letter pair prefixes, as crossdesk_text's language table spells them.
CODES = {
    "eng": "en", "en": "en", "spa": "es", "es": "es", "por": "pt", "pt": "pt",
    "fra": "fr", "fr": "fr", "ita": "it", "it": "it", "cat": "ca", "ca": "ca",
    "glg": "gl", "gl": "gl", "ron": "ro", "ro": "ro", "eus": "eu", "eu": "eu",
    "oci": "oc", "oc": "oc", "arg": "an", "ast": "ast", "srd": "sc", "frp": "frp",
    "bre": "br", "br": "br", "epo": "eo", "eo": "eo", "swe": "sv", "dan": "da",
    "nob": "nb", "nno": "nn", "isl": "is", "hbs": "sh", "slv": "sl", "mkd": "mk",
    "bul": "bg",
}


def analysers():
    found = {}
    for path in sorted(glob.glob("/usr/share/apertium/*/*.automorf.bin")):
        base = os.path.basename(path).split(".")[0]
        if "@" in base or base.startswith("eco-"):
            continue
        language = CODES.get(base.split("-")[0])
        if language and language not in found:
            found[language] = path
    return found


def coverage(path, texts):
    out = subprocess.run(
        ["lt-proc", "-w", path],
        input="\n".join(t.replace("\n", " ") for t in texts) + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    shares = []
    for line in out[: len(texts)]:
        units = [u.split("$")[0] for u in line.split("^")[1:]]
        words = [u for u in units if any(c.isalpha() for c in u.split("/")[0])]
        known = [u for u in words if "/*" not in u]
        shares.append(len(known) / len(words) if words else 0.0)
    return shares


def main():
    rows = [line.rstrip("\n").split("\t", 1) for line in open(sys.argv[1]) if "\t" in line]
    texts = [text for _, text in rows]
    table = {language: coverage(path, texts) for language, path in analysers().items()}
    with open(sys.argv[2], "w") as out:
        for i, (language, _) in enumerate(rows):
            shares = " ".join(f"{l}={table[l][i]:.2f}" for l in sorted(table))
            out.write(f"{language}\t{shares}\n")


if __name__ == "__main__":
    main()
