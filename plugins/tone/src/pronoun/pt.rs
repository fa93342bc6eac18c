//! Portuguese: `tu` (and `vós`) forms into `você` forms — Portugal's formal address
//! and Brazil's everyday one — and, in Brazil, `você` into `o senhor` / `a senhora`
//! when the customer's title says which.
//!
//! As in Spanish the subject is dropped, so a `tu` verb is recognised by its form,
//! from [`VERBS`] conjugated by rule (regular endings; the first person's stem the
//! subjunctive is built on, `peço` → `peça`) and [`IRREGULAR`] for the verbs no rule
//! covers. The `você` forms are the third person singular; clitic `te` becomes
//! `lhe` (`se` when reflexive), also inside a verb (`enviar-te-emos` →
//! `enviar-lhe-emos`).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::words::{Words, respell};
use super::{Pronoun, Target, Variety};
use crate::names::TitleKind;

/// Verbs: the infinitive, then optionally `pres1=` (the first person's stem, on
/// which the subjunctive is built).
const VERBS: &[&str] = &[
    "abrir",
    "aceder",
    "aceitar",
    "acessar",
    "adicionar",
    "agradecer pres1=agradeç",
    "ajudar",
    "alterar",
    "anexar",
    "atualizar",
    "avisar",
    "cancelar",
    "clicar",
    "comprar",
    "confirmar",
    "conseguir pres1=consig",
    "contactar",
    "contatar",
    "continuar",
    "criar",
    "dever",
    "desejar",
    "devolver",
    "encontrar",
    "entrar",
    "enviar",
    "escolher",
    "escrever",
    "esperar",
    "experimentar",
    "ficar",
    "gostar",
    "indicar",
    "informar",
    "instalar",
    "levar",
    "ligar",
    "mandar",
    "mudar",
    "necessitar",
    "pagar",
    "pedir pres1=peç",
    "perder pres1=perc",
    "precisar",
    "preencher",
    "preferir pres1=prefir",
    "procurar",
    "receber",
    "reclamar",
    "registar",
    "registrar",
    "responder",
    "seguir pres1=sig",
    "selecionar",
    "tentar",
    "tirar",
    "trocar",
    "usar",
    "utilizar",
    "verificar",
];

/// Verbs no rule covers: (`tu` form, `você` form).
const IRREGULAR: &[(&str, &str)] = &[
    ("és", "é"),
    ("sejas", "seja"),
    ("foste", "foi"),
    ("eras", "era"),
    ("serás", "será"),
    ("serias", "seria"),
    ("estás", "está"),
    ("estejas", "esteja"),
    ("estiveste", "esteve"),
    ("estavas", "estava"),
    ("estarás", "estará"),
    ("tens", "tem"),
    ("tenhas", "tenha"),
    ("tiveste", "teve"),
    ("tinhas", "tinha"),
    ("terás", "terá"),
    ("terias", "teria"),
    ("obténs", "obtém"),
    ("vais", "vai"),
    ("vás", "vá"),
    ("irás", "irá"),
    ("vens", "vem"),
    ("venhas", "venha"),
    ("vieste", "veio"),
    ("virás", "virá"),
    ("fazes", "faz"),
    ("faças", "faça"),
    ("fizeste", "fez"),
    ("farás", "fará"),
    ("farias", "faria"),
    ("fazias", "fazia"),
    ("dizes", "diz"),
    ("digas", "diga"),
    ("disseste", "disse"),
    ("dirás", "dirá"),
    ("podes", "pode"),
    ("possas", "possa"),
    ("pudeste", "pôde"),
    ("podias", "podia"),
    ("poderás", "poderá"),
    ("poderias", "poderia"),
    ("queres", "quer"),
    ("queiras", "queira"),
    ("quiseste", "quis"),
    ("querias", "queria"),
    ("quererás", "quererá"),
    ("sabes", "sabe"),
    ("saibas", "saiba"),
    ("soubeste", "soube"),
    ("dás", "dá"),
    ("dês", "dê"),
    ("deste", "deu"),
    ("vês", "vê"),
    ("vejas", "veja"),
    ("viste", "viu"),
    ("verás", "verá"),
    ("lês", "lê"),
    ("leias", "leia"),
    ("leste", "leu"),
    ("hás", "há"),
    ("hajas", "haja"),
    ("pões", "põe"),
    ("ponhas", "ponha"),
    ("puseste", "pôs"),
    ("trazes", "traz"),
    ("tragas", "traga"),
    ("trouxeste", "trouxe"),
];

/// `tu` imperatives no rule gives, with their `você` forms.
const IRREGULAR_IMPERATIVES: &[(&str, &str)] = &[
    ("faz", "faça"),
    ("diz", "diga"),
    ("vem", "venha"),
    ("vai", "vá"),
    ("vê", "veja"),
    ("dá", "dê"),
    ("põe", "ponha"),
    ("sê", "seja"),
];

/// `tu` forms that are also everyday nouns (`as compras`, `as contas`).
const NOUN_LIKE: &[&str] = &[
    "compras", "contas", "esperas", "notas", "trocas", "ajudas", "ligas", "entradas",
];

/// Words after which the next word is not a verb.
const DETERMINERS: &[&str] = &[
    "o", "a", "os", "as", "um", "uma", "uns", "umas", "meus", "minhas", "teus", "tuas", "seus",
    "suas", "nossos", "nossas", "vossos", "vossas", "estes", "estas", "esses", "essas", "de", "do",
    "da", "dos", "das", "com", "para", "por", "sem", "pelos", "pelas",
];

struct Lexicon {
    /// `tu` forms → `você` forms.
    finite: HashMap<String, String>,
    /// `tu` imperatives → `você` imperatives.
    imperative: HashMap<String, String>,
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let mut finite: HashMap<String, String> = IRREGULAR
            .iter()
            .map(|(t, v)| ((*t).to_owned(), (*v).to_owned()))
            .collect();
        let mut imperative: HashMap<String, String> = IRREGULAR_IMPERATIVES
            .iter()
            .map(|(t, v)| ((*t).to_owned(), (*v).to_owned()))
            .collect();
        for spec in VERBS {
            conjugate(spec, &mut finite, &mut imperative);
        }
        Lexicon { finite, imperative }
    })
}

fn conjugate(
    spec: &str,
    finite: &mut HashMap<String, String>,
    imperative: &mut HashMap<String, String>,
) {
    let mut parts = spec.split_whitespace();
    let Some(infinitive) = parts.next() else {
        return;
    };
    let pres1 = parts.find_map(|p| p.strip_prefix("pres1="));
    let Some(stem) = infinitive.get(..infinitive.len() - 2) else {
        return;
    };
    let class = &infinitive[infinitive.len() - 2..];
    let ar = class == "ar";
    let mut add = |tu: String, voce: String| {
        finite.entry(tu).or_insert(voce);
    };
    let (t, v) = if ar { ("a", "a") } else { ("e", "e") };
    add(format!("{stem}{t}s"), format!("{stem}{v}"));
    // Subjunctive, on the first person's stem.
    let subj_stem = pres1.map_or_else(
        || {
            if ar {
                spell_before_e(stem)
            } else {
                spell_before_a(stem)
            }
        },
        str::to_owned,
    );
    let s = if ar { "e" } else { "a" };
    let subj = format!("{subj_stem}{s}");
    add(format!("{subj}s"), subj.clone());
    // Preterite.
    let (second, third) = match class {
        "ar" => ("aste", "ou"),
        "er" => ("este", "eu"),
        _ => ("iste", "iu"),
    };
    add(format!("{stem}{second}"), format!("{stem}{third}"));
    // Imperfect, future, conditional, personal infinitive.
    if ar {
        add(format!("{stem}avas"), format!("{stem}ava"));
    } else {
        add(format!("{stem}ias"), format!("{stem}ia"));
    }
    add(format!("{infinitive}ás"), format!("{infinitive}á"));
    add(format!("{infinitive}ias"), format!("{infinitive}ia"));
    add(format!("{infinitive}es"), infinitive.to_owned());
    imperative.entry(format!("{stem}{t}")).or_insert(subj);
}

/// The stem before an `e` ending (the `-ar` subjunctive).
fn spell_before_e(stem: &str) -> String {
    respell(stem, &[("c", "qu"), ("g", "gu"), ("ç", "c")])
}

/// The stem before an `a` ending (the `-er`/`-ir` subjunctive).
fn spell_before_a(stem: &str) -> String {
    respell(stem, &[("gu", "g"), ("g", "j"), ("c", "ç")])
}

/// The `você` form of word `i` if it is a `tu` verb here.
fn verb_at<'l>(words: &Words, i: usize, lexicon: &'l Lexicon) -> Option<&'l String> {
    let lower = words.lower(i);
    let voce = lexicon.finite.get(&lower)?;
    let previous = i.checked_sub(1).map(|p| words.lower(p));
    let after = |list: &[&str]| {
        previous
            .as_deref()
            .is_some_and(|p| list.contains(&p) && !words.starts_sentence(i))
    };
    // A personal infinitive (`para receberes`) follows a preposition.
    let personal_infinitive = ["ares", "eres", "ires"].iter().any(|e| lower.ends_with(e));
    if after(DETERMINERS) && !personal_infinitive {
        return None;
    }
    if NOUN_LIKE.contains(&lower.as_str())
        && !after(&["tu", "te", "não", "já", "me", "nos", "se", "o", "a"])
    {
        return None;
    }
    Some(voce)
}

/// Whether the text around word `i` is hyphenated to it (`envia-nos`,
/// `enviar-te-emos`).
fn hyphen_before(words: &Words, i: usize) -> bool {
    words.gap_before(i) == "-"
}

pub(super) fn rewrite(words: &mut Words, target: Target) {
    let lexicon = lexicon();
    // Whether each sentence speaks to the customer, asked once per sentence.
    let mut speaks: HashMap<usize, bool> = HashMap::new();
    let brazil = target.variety == Variety::Brazil;
    let to_third = brazil || target.pronoun == Pronoun::Formal;
    let mut customer_verb_before = false;
    for i in 0..words.len() {
        if words.starts_sentence(i) {
            customer_verb_before = false;
        }
        let lower = words.lower(i);
        let next_is_verb = words.joined_to_next(i) && verb_at(words, i + 1, lexicon).is_some();
        let replacement: Option<String> = match lower.as_str() {
            "vosso" | "vossa" | "vossos" | "vossas" => Some(possessive(&lower, to_third).into()),
            "vós" => Some(if to_third { "você" } else { "tu" }.into()),
            "vos" => Some(if to_third { "lhe" } else { "te" }.into()),
            _ if !to_third => None,
            "tu" => Some("você".into()),
            "teu" | "tua" | "teus" | "tuas" => Some(possessive(&lower, true).into()),
            "ti" => Some(if brazil { "você" } else { "si" }.into()),
            "contigo" => Some(if brazil { "com você" } else { "consigo" }.into()),
            "te" => {
                let reflexive =
                    next_is_verb || (hyphen_before(words, i) && i > 0 && customer_verb_before);
                Some(if reflexive { "se" } else { "lhe" }.into())
            }
            _ => {
                if let Some(voce) = verb_at(words, i, lexicon) {
                    customer_verb_before = true;
                    Some(voce.clone())
                } else if let Some(voce) = lexicon.imperative.get(&lower).filter(|_| {
                    // An imperative: first in its sentence and followed by a
                    // hyphenated clitic (`envia-nos`), or in a sentence that
                    // speaks to the customer.
                    words.starts_clause(i)
                        && (words.gap_after(i) == "-"
                            || *speaks
                                .entry(words.sentence_of(i).start)
                                .or_insert_with(|| sentence_has_t_form(words, i)))
                }) {
                    customer_verb_before = true;
                    Some(voce.clone())
                } else {
                    None
                }
            }
        };
        if let Some(new) = replacement {
            words.set(i, &new);
        }
    }
    if brazil && target.pronoun == Pronoun::Formal {
        senhor(words, target.title);
    }
}

/// The possessive of `você` (`seu`) or of `tu` (`teu`) agreeing as `word` does.
fn possessive(word: &str, third: bool) -> &'static str {
    let feminine = word.ends_with('a') || word.ends_with("as");
    let plural = word.ends_with('s');
    match (third, feminine, plural) {
        (true, false, false) => "seu",
        (true, true, false) => "sua",
        (true, false, true) => "seus",
        (true, true, true) => "suas",
        (false, false, false) => "teu",
        (false, true, false) => "tua",
        (false, false, true) => "teus",
        (false, true, true) => "tuas",
    }
}

fn sentence_has_t_form(words: &Words, i: usize) -> bool {
    words.sentence_of(i).filter(|j| *j != i).any(|j| {
        matches!(
            words.lower(j).as_str(),
            "tu" | "te" | "teu" | "tua" | "teus" | "tuas" | "ti" | "contigo" | "vosso" | "vossa"
        ) || words.is_changed(j)
    })
}

/// Brazil's formal address: `você` → `o senhor` / `a senhora` (with the
/// contractions `do`, `ao`, `no`, `pelo`), when the title says which. Without a
/// title, `você` stays: a guessed gender is worse than the everyday pronoun.
fn senhor(words: &mut Words, title: Option<TitleKind>) {
    let (article, noun) = match title {
        Some(TitleKind::Female) => ("a", "senhora"),
        Some(TitleKind::Male) => ("o", "senhor"),
        _ => return,
    };
    for i in 0..words.len() {
        if !matches!(words.lower(i).as_str(), "você" | "voce") {
            continue;
        }
        let previous = i.checked_sub(1).map(|p| words.lower(p));
        let contracted = match (previous.as_deref(), article) {
            (Some("de"), "o") => Some("do"),
            (Some("de"), _) => Some("da"),
            (Some("a"), "o") => Some("ao"),
            (Some("a"), _) => Some("à"),
            (Some("em"), "o") => Some("no"),
            (Some("em"), _) => Some("na"),
            (Some("por"), "o") => Some("pelo"),
            (Some("por"), _) => Some("pela"),
            _ => None,
        };
        match contracted {
            Some(c) if i > 0 && words.joined_to_next(i - 1) => {
                words.set(i - 1, c);
                words.set(i, noun);
            }
            _ => words.set(i, &format!("{article} {noun}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Pronoun, Target, Variety, rewrite};
    use crate::language::Lang;
    use crate::names::TitleKind;

    fn to(text: &str, variety: Variety, pronoun: Pronoun, title: Option<TitleKind>) -> String {
        rewrite(
            text,
            Target {
                lang: Lang::Pt,
                variety,
                pronoun,
                title,
            },
        )
        .text
    }

    #[test]
    fn portugal_formal_turns_tu_into_voce_forms() {
        let cases = [
            (
                "Vosso reembolso para ordem #4471 tem sido emitido.",
                "Seu reembolso para ordem #4471 tem sido emitido.",
            ),
            (
                "Podes seguir vossa ordem aqui. Queres um reembolso?",
                "Pode seguir sua ordem aqui. Quer um reembolso?",
            ),
            ("Enviar-te-emos um novo.", "Enviar-lhe-emos um novo."),
            ("Recebeste-o.", "Recebeu-o."),
            ("Envia-nos o teu endereço.", "Envie-nos o seu endereço."),
            ("Se preferires, fizeste bem.", "Se preferir, fez bem."),
            (
                "Tu tens razão e podes pedir.",
                "Você tem razão e pode pedir.",
            ),
            (
                "Para receberes o código, verifica o teu email.",
                "Para receber o código, verifique o seu email.",
            ),
        ];
        for (before, after) in cases {
            assert_eq!(
                to(before, Variety::Portugal, Pronoun::Formal, None),
                after,
                "{before}"
            );
        }
    }

    #[test]
    fn portugal_informal_keeps_tu_and_drops_vos() {
        assert_eq!(
            to(
                "Podes seguir vossa ordem.",
                Variety::Portugal,
                Pronoun::Informal,
                None
            ),
            "Podes seguir tua ordem."
        );
    }

    #[test]
    fn brazil_uses_voce_and_o_senhor_when_the_title_says_so() {
        assert_eq!(
            to(
                "Pode seguir vossa ordem aqui.",
                Variety::Brazil,
                Pronoun::Informal,
                None
            ),
            "Pode seguir sua ordem aqui."
        );
        assert_eq!(
            to(
                "Enviaremos a você um novo. Isso é para você.",
                Variety::Brazil,
                Pronoun::Formal,
                Some(TitleKind::Female)
            ),
            "Enviaremos à senhora um novo. Isso é para a senhora."
        );
        assert_eq!(
            to(
                "Você pode ver de você.",
                Variety::Brazil,
                Pronoun::Formal,
                Some(TitleKind::Male)
            ),
            "O senhor pode ver do senhor."
        );
        let text = "Você pode seguir seu pedido.";
        assert_eq!(to(text, Variety::Brazil, Pronoun::Formal, None), text);
    }

    #[test]
    fn nouns_stay() {
        let text = "As compras e as contas estão prontas.";
        assert_eq!(to(text, Variety::Portugal, Pronoun::Formal, None), text);
    }
}
