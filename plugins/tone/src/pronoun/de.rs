//! German: `du` into `Sie`.
//!
//! The verbs of `du` are in its clause: next to it (`du hast`, `hast du`), at the
//! end of a subordinate clause (`wenn du es erhalten hast`), or after `und`
//! (`du benutzt die App und änderst …`). Every lower-case `-st` form of that clause
//! agrees with `du`, a `-t` form only next to it (`gesetzt` is a participle); the
//! `Sie` form is the
//! infinitive-like plural: `-st` → `-en` (`schickst` → `schicken`), `-est` → `-en`,
//! `-erst`/`-elst` → `-ern`/`-eln`, a stem in `s`/`ß`/`z` whose `du` form ends in
//! `t` (`du benutzt`), and [`IRREGULAR`] for the vowel changes (`gibst` → `geben`)
//! and the modal verbs. `dich`/`dir` become `sich` where `du` is the subject of the
//! clause (`meldest du dich an` → `melden Sie sich an`), else `Sie`/`Ihnen`; `dein`
//! becomes `Ihr`. A sentence-first imperative of [`IMPERATIVES`] gets its `Sie`
//! form (`Schick uns …` → `Schicken Sie uns …`).

use super::Pronoun;
use super::words::Words;

/// `du` forms the endings do not give: (`du` form, `Sie` form).
const IRREGULAR: &[(&str, &str)] = &[
    ("bist", "sind"),
    ("hast", "haben"),
    ("kannst", "können"),
    ("musst", "müssen"),
    ("willst", "wollen"),
    ("darfst", "dürfen"),
    ("sollst", "sollen"),
    ("magst", "mögen"),
    ("weißt", "wissen"),
    ("wirst", "werden"),
    ("tust", "tun"),
    ("gibst", "geben"),
    ("nimmst", "nehmen"),
    ("siehst", "sehen"),
    ("liest", "lesen"),
    ("hilfst", "helfen"),
    ("fährst", "fahren"),
    ("läufst", "laufen"),
    ("isst", "essen"),
    ("triffst", "treffen"),
    ("sprichst", "sprechen"),
    ("vergisst", "vergessen"),
    ("erhältst", "erhalten"),
    ("hältst", "halten"),
    ("lässt", "lassen"),
    ("trägst", "tragen"),
    ("empfiehlst", "empfehlen"),
    ("wirfst", "werfen"),
    ("stirbst", "sterben"),
    ("ausgibst", "ausgeben"),
    ("angibst", "angeben"),
];

/// Words ending like a `du` form that are not verbs.
const NOT_VERBS: &[&str] = &[
    "ist",
    "selbst",
    "erst",
    "sonst",
    "fast",
    "meist",
    "zuerst",
    "längst",
    "umsonst",
    "fest",
    "einst",
    "zunächst",
    "nächst",
    "best",
    "jetzt",
    "zuletzt",
    "bereits",
    "best",
    "August",
];

/// `du` imperatives that start a sentence (`Schick uns …`), with their infinitive.
const IMPERATIVES: &[(&str, &str)] = &[
    ("schick", "schicken"),
    ("schicke", "schicken"),
    ("sende", "senden"),
    ("prüfe", "prüfen"),
    ("prüf", "prüfen"),
    ("überprüfe", "überprüfen"),
    ("klicke", "klicken"),
    ("klick", "klicken"),
    ("öffne", "öffnen"),
    ("versuche", "versuchen"),
    ("versuch", "versuchen"),
    ("warte", "warten"),
    ("melde", "melden"),
    ("antworte", "antworten"),
    ("teile", "teilen"),
    ("gib", "geben"),
    ("nimm", "nehmen"),
    ("sieh", "sehen"),
    ("lies", "lesen"),
    ("hilf", "helfen"),
    ("lass", "lassen"),
    ("ruf", "rufen"),
    ("rufe", "rufen"),
    ("komm", "kommen"),
    ("lade", "laden"),
    ("installiere", "installieren"),
    ("aktualisiere", "aktualisieren"),
    ("kontaktiere", "kontaktieren"),
    ("bestätige", "bestätigen"),
    ("füge", "fügen"),
    ("wähle", "wählen"),
    ("starte", "starten"),
    ("gehe", "gehen"),
    ("geh", "gehen"),
    ("vergiss", "vergessen"),
    ("beachte", "beachten"),
    ("schreib", "schreiben"),
    ("schreibe", "schreiben"),
];

/// The `Sie` form of a `du` form, if `word` is one.
fn plural(word: &str) -> Option<String> {
    let lower = word.to_lowercase();
    if let Some((_, sie)) = IRREGULAR.iter().find(|(du, _)| *du == lower) {
        return Some((*sie).to_owned());
    }
    if NOT_VERBS.contains(&lower.as_str()) {
        return None;
    }
    if let Some(stem) = lower.strip_suffix("est").filter(|s| s.len() > 1) {
        return Some(format!("{stem}en"));
    }
    if let Some(stem) = lower.strip_suffix("st").filter(|s| s.len() > 1) {
        if stem.ends_with("er") || stem.ends_with("el") {
            return Some(format!("{stem}n"));
        }
        return Some(format!("{stem}en"));
    }
    // `du benutzt`, `du heißt`, `du reist`: the stem ends in s, ß, z or x.
    let stem = lower.strip_suffix('t')?;
    stem.ends_with(['s', 'ß', 'z', 'x'])
        .then(|| format!("{stem}en"))
}

/// The clause of word `i`: the words between punctuation marks.
fn clause_of(words: &Words, i: usize) -> std::ops::Range<usize> {
    let boundary = |k: usize| {
        k == 0
            || words
                .gap_before(k)
                .contains([',', '.', ';', ':', '!', '?', '\n', '(', ')', '–'])
    };
    let mut start = i;
    while !boundary(start) {
        start -= 1;
    }
    let mut end = i + 1;
    while end < words.len() && !boundary(end) {
        end += 1;
    }
    start..end
}

pub(super) fn rewrite(words: &mut Words, wanted: Pronoun) {
    if wanted != Pronoun::Formal {
        return;
    }
    // Clauses whose subject is `du` (or an imperative's): their `dich`/`dir` are
    // reflexive, and their `-st` forms agree with it.
    let mut du_clauses: Vec<std::ops::Range<usize>> = Vec::new();
    for i in 0..words.len() {
        let lower = words.lower(i);
        if lower == "du" {
            du_clauses.push(clause_of(words, i));
            continue;
        }
        let Some((_, infinitive)) = IMPERATIVES.iter().find(|(du, _)| *du == lower) else {
            continue;
        };
        let clause = clause_of(words, i);
        if clause.start == i && words.lower(i + 1) != "du" {
            words.set(i, &format!("{infinitive} Sie"));
            du_clauses.push(clause);
        }
    }
    for clause in &du_clauses {
        for at in clause.clone() {
            let word = words.get(at).to_owned();
            let lower = word.to_lowercase();
            let next_to_du = words.lower(at + 1) == "du"
                || at.checked_sub(1).is_some_and(|b| words.lower(b) == "du");
            let capital = word.chars().next().is_some_and(char::is_uppercase);
            if words.is_changed(at) || (capital && at != clause.start) {
                continue; // done, or a noun
            }
            let agrees = next_to_du
                || (lower.ends_with("st") && !lower.ends_with("sst") && !lower.ends_with("ßst"));
            if let Some(sie) = plural(&word).filter(|_| agrees && lower != "du") {
                words.set(at, &sie);
            }
        }
    }
    for i in 0..words.len() {
        let lower = words.lower(i);
        match lower.as_str() {
            "du" => words.set_exact(i, "Sie"),
            "dich" | "dir" => {
                let reflexive = du_clauses.iter().any(|c| c.contains(&i));
                let new = match (reflexive, lower.as_str()) {
                    (true, _) => "sich",
                    (false, "dich") => "Sie",
                    _ => "Ihnen",
                };
                words.set_exact(i, new);
            }
            _ if lower.starts_with("dein") => {
                let ending = &lower[4..];
                if ["", "e", "en", "em", "er", "es"].contains(&ending) {
                    words.set_exact(i, &format!("Ihr{ending}"));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Pronoun, Target, Variety, rewrite};
    use crate::language::Lang;

    fn sie(text: &str) -> String {
        rewrite(
            text,
            Target {
                lang: Lang::De,
                variety: Variety::Brazil,
                pronoun: Pronoun::Formal,
                title: None,
            },
        )
        .text
    }

    #[test]
    fn du_becomes_sie_with_its_verbs() {
        let cases = [
            ("Du hast recht.", "Sie haben recht."),
            (
                "Kannst du uns ein Foto schicken?",
                "Können Sie uns ein Foto schicken?",
            ),
            (
                "Wenn du das Paket erhalten hast, melde dich.",
                "Wenn Sie das Paket erhalten haben, melden Sie sich.",
            ),
            (
                "Du bekommst dein Geld zurück.",
                "Sie bekommen Ihr Geld zurück.",
            ),
            (
                "Wir schicken dir deine Rechnung.",
                "Wir schicken Ihnen Ihre Rechnung.",
            ),
            (
                "Du benutzt die App und änderst deine Adresse.",
                "Sie benutzen die App und ändern Ihre Adresse.",
            ),
            ("Gibst du uns deine Nummer?", "Geben Sie uns Ihre Nummer?"),
            ("Hattest du dich angemeldet?", "Hatten Sie sich angemeldet?"),
            (
                "Schick uns bitte ein Foto.",
                "Schicken Sie uns bitte ein Foto.",
            ),
        ];
        for (before, after) in cases {
            assert_eq!(sie(before), after, "{before}");
        }
    }

    #[test]
    fn sie_replies_and_nouns_stay() {
        let text = "Ihr Paket ist unterwegs. Die Post kommt morgen, selbst am Samstag.";
        assert_eq!(sie(text), text);
    }
}
