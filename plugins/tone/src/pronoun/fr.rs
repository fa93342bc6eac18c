//! French: `tu` into `vous`.
//!
//! French always writes the subject, so the verb of `tu` is the word after it and
//! its object pronouns (`tu nous l'as envoyé`), or before it with a hyphen (`peux-tu`).
//! The `vous` form comes from the endings of the *Bescherelle* tables: present
//! `-es` → `-ez` (with `envoies` → `envoyez`, `appelles` → `appelez`), future `-ras`
//! → `-rez`, imperfect and conditional `-ais` → `-iez`, second group `-is` →
//! `-issez`, `-ds` → `-dez`, and [`IRREGULAR`] for the verbs the endings do not
//! give. An imperative is recognised by a hyphenated pronoun after it (`envoie-nous`),
//! or first in a sentence that speaks to the customer (`vérifie ta boîte`).

use super::Pronoun;
use super::words::Words;

/// Forms the endings do not give: (`tu` form, `vous` form).
const IRREGULAR: &[(&str, &str)] = &[
    ("as", "avez"),
    ("es", "êtes"),
    ("vas", "allez"),
    ("va", "allez"),
    ("fais", "faites"),
    ("dis", "dites"),
    ("peux", "pouvez"),
    ("veux", "voulez"),
    ("dois", "devez"),
    ("sais", "savez"),
    ("vois", "voyez"),
    ("crois", "croyez"),
    ("reçois", "recevez"),
    ("prends", "prenez"),
    ("comprends", "comprenez"),
    ("mets", "mettez"),
    ("permets", "permettez"),
    ("viens", "venez"),
    ("reviens", "revenez"),
    ("tiens", "tenez"),
    ("obtiens", "obtenez"),
    ("pars", "partez"),
    ("sors", "sortez"),
    ("sers", "servez"),
    ("connais", "connaissez"),
    ("reconnais", "reconnaissez"),
    ("lis", "lisez"),
    ("écris", "écrivez"),
    ("inscris", "inscrivez"),
    ("suis", "suivez"),
    ("ouvres", "ouvrez"),
    ("sois", "soyez"),
    ("aie", "ayez"),
    ("aies", "ayez"),
    ("sache", "sachez"),
    ("veuille", "veuillez"),
    ("puisses", "puissiez"),
    ("fasses", "fassiez"),
    ("ailles", "alliez"),
    ("saches", "sachiez"),
    ("veuilles", "vouliez"),
    ("préfères", "préférez"),
    ("préfère", "préférez"),
    ("complètes", "complétez"),
    ("complète", "complétez"),
    ("répètes", "répétez"),
    ("espères", "espérez"),
    ("achètes", "achetez"),
    ("achète", "achetez"),
];

/// Pronouns that may stand between `tu` and its verb.
const BETWEEN: &[&str] = &[
    "ne", "n", "me", "m", "nous", "le", "la", "l", "les", "lui", "leur", "y", "en",
];

/// `tu` forms ending as the second group's do, which are not (`tu dis`).
const NOT_SECOND_GROUP: &[&str] = &["dis", "lis", "écris", "inscris", "suis"];

/// The `vous` form of a `tu` form, if the endings give one.
fn plural(form: &str) -> Option<String> {
    if let Some((_, vous)) = IRREGULAR.iter().find(|(tu, _)| *tu == form) {
        return Some((*vous).to_owned());
    }
    let stem_of = |ending: &str| form.strip_suffix(ending).filter(|s| !s.is_empty());
    if let Some(s) = stem_of("rais") {
        return Some(format!("{s}riez"));
    }
    if let Some(s) = stem_of("ras") {
        return Some(format!("{s}rez"));
    }
    if let Some(s) = stem_of("ais") {
        return Some(format!("{s}iez"));
    }
    for (ending, vous) in [("oies", "oyez"), ("uies", "uyez"), ("aies", "ayez")] {
        if let Some(s) = stem_of(ending) {
            return Some(format!("{s}{vous}"));
        }
    }
    if let Some(s) = stem_of("elles") {
        return Some(format!("{s}elez"));
    }
    if let Some(s) = stem_of("ettes") {
        return Some(format!("{s}etez"));
    }
    if let Some(s) = stem_of("es") {
        return Some(format!("{s}ez"));
    }
    if let Some(s) = stem_of("is").filter(|_| !NOT_SECOND_GROUP.contains(&form)) {
        return Some(format!("{s}issez"));
    }
    if let Some(s) = stem_of("ds") {
        return Some(format!("{s}dez"));
    }
    None
}

/// The `vous` imperative of a `tu` imperative (`envoie` → `envoyez`, `fais` →
/// `faites`).
fn imperative(form: &str) -> Option<String> {
    if let Some((_, vous)) = IRREGULAR.iter().find(|(tu, _)| *tu == form) {
        return Some((*vous).to_owned());
    }
    for (ending, vous) in [
        ("oie", "oyez"),
        ("uie", "uyez"),
        ("aie", "ayez"),
        ("elle", "elez"),
    ] {
        if let Some(s) = form.strip_suffix(ending) {
            return Some(format!("{s}{vous}"));
        }
    }
    if let Some(s) = form.strip_suffix('e').filter(|s| s.len() > 1) {
        return Some(format!("{s}ez"));
    }
    plural(&format!("{form}s")).filter(|_| form.ends_with(['i', 'd']))
}

fn is_t_word(lower: &str) -> bool {
    matches!(lower, "tu" | "te" | "t" | "toi" | "ton" | "ta" | "tes")
}

pub(super) fn rewrite(words: &mut Words, wanted: Pronoun) {
    if wanted != Pronoun::Formal {
        return;
    }
    let speaks_to_customer = |words: &Words, i: usize| {
        words
            .sentence_of(i)
            .any(|j| j != i && (is_t_word(&words.lower(j)) || words.is_changed(j)))
    };
    for i in 0..words.len() {
        let lower = words.lower(i);
        match lower.as_str() {
            "tu" => {
                // Inverted: `peux-tu` — the verb is before the hyphen.
                if i > 0 && words.gap_before(i) == "-" {
                    if let Some(vous) = plural(&words.lower(i - 1)) {
                        words.set(i - 1, &vous);
                    }
                    words.set(i, "vous");
                    continue;
                }
                words.set(i, "vous");
                let mut j = i + 1;
                while j < words.len() && BETWEEN.contains(&words.lower(j).as_str()) {
                    j += 1;
                }
                if j < words.len()
                    && let Some(vous) = plural(&words.lower(j))
                {
                    words.set(j, &vous);
                }
            }
            "te" => words.set(i, "vous"),
            "t" if words.gap_after(i).starts_with(['\'', '’']) => {
                // `t'` elides before a vowel; `vous` does not.
                words.set(i, "vous");
                let gap: String = words.gap_after(i).chars().skip(1).collect();
                words.set_gap_after(i, &format!(" {gap}"));
            }
            "toi" => words.set(i, "vous"),
            "ton" | "ta" => words.set(i, "votre"),
            "tes" => words.set(i, "vos"),
            "tien" | "tienne" if i > 0 && matches!(words.lower(i - 1).as_str(), "le" | "la") => {
                words.set(i, "vôtre");
            }
            _ => {
                // An imperative: a hyphenated pronoun after it, or first in a
                // sentence that speaks to the customer.
                let hyphenated = words.gap_after(i) == "-"
                    && matches!(
                        words.lower(i + 1).as_str(),
                        "nous" | "moi" | "toi" | "le" | "la" | "les" | "en" | "y" | "lui" | "leur"
                    );
                let bare = words.starts_sentence(i)
                    && (lower.ends_with('e') || IRREGULAR.iter().any(|(t, _)| *t == lower))
                    && speaks_to_customer(words, i);
                if (hyphenated || bare)
                    && !words.is_changed(i)
                    && let Some(vous) = imperative(&lower)
                {
                    words.set(i, &vous);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Pronoun, Target, Variety, rewrite};
    use crate::language::Lang;

    fn vous(text: &str) -> String {
        rewrite(
            text,
            Target {
                lang: Lang::Fr,
                variety: Variety::Brazil,
                pronoun: Pronoun::Formal,
                title: None,
            },
        )
        .text
    }

    #[test]
    fn apertium_replies_come_out_in_vous() {
        let cases = [
            (
                "Tu peux suivre votre ordre ici. Tu veux un remboursement?",
                "Vous pouvez suivre votre ordre ici. Vous voulez un remboursement?",
            ),
            (
                "Nous t'enverrons un nouveau.",
                "Nous vous enverrons un nouveau.",
            ),
            ("Tu l'as reçu.", "Vous l'avez reçu."),
        ];
        for (before, after) in cases {
            assert_eq!(vous(before), after, "{before}");
        }
    }

    #[test]
    fn verbs_agree_with_vous_in_every_tense() {
        let cases = [
            ("Tu envoies la photo.", "Vous envoyez la photo."),
            ("Tu recevras un e-mail.", "Vous recevrez un e-mail."),
            (
                "Si tu pouvais, tu choisirais.",
                "Si vous pouviez, vous choisiriez.",
            ),
            (
                "Tu choisis, tu attends, tu finis.",
                "Vous choisissez, vous attendez, vous finissez.",
            ),
            ("Tu ne nous as pas écrit.", "Vous ne nous avez pas écrit."),
            (
                "Peux-tu vérifier ton adresse et tes colis?",
                "Pouvez-vous vérifier votre adresse et vos colis?",
            ),
            ("Tu appelles, tu es là.", "Vous appelez, vous êtes là."),
            ("Envoie-nous une photo.", "Envoyez-nous une photo."),
            (
                "Vérifie ta boîte de réception.",
                "Vérifiez votre boîte de réception.",
            ),
            (
                "Dis-moi si c'est pour toi.",
                "Dites-moi si c'est pour vous.",
            ),
        ];
        for (before, after) in cases {
            assert_eq!(vous(before), after, "{before}");
        }
    }

    #[test]
    fn vous_replies_and_third_persons_stay() {
        let text = "Votre colis arrive demain. Le livreur passe à 10 h.";
        assert_eq!(vous(text), text);
    }
}
