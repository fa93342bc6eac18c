//! Spanish: `tú` and `vosotros` forms into `usted`, or `vosotros` into `tú`.
//!
//! Spanish drops the subject, so a second-person verb is recognised by its form. The
//! forms come from [`VERBS`], the verbs support replies use, conjugated by the rules
//! of the Real Academia's *Nueva gramática* (regular endings, the stem changes
//! `ie`/`ue`/`i`, the accented `í`/`ú` of *enviar* and *continuar*, the irregular
//! first-person stem the subjunctive is built on, strong preterites and future
//! stems), with [`IRREGULAR`] giving the few verbs no rule covers. The usted forms
//! are the third person singular; object `te` becomes `le` (the *leísmo de
//! cortesía* the Real Academia accepts for usted, which needs no gender), and `se`
//! when it is reflexive or before `lo`/`la`.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::Pronoun;
use super::words::{Words, respell, unaccented};

/// Verbs: the infinitive, then optionally the stem change (`ie`, `ue`, `i`, `í`,
/// `ú`) and irregular stems: `pres1=` (first person present, the subjunctive's
/// stem), `pret=` (strong preterite), `fut=` (future and conditional), `imp=`
/// (the `tú` imperative).
const VERBS: &[&str] = &[
    "abrir",
    "acceder",
    "aceptar",
    "activar",
    "actualizar",
    "adjuntar",
    "agradecer pres1=agradezc",
    "añadir",
    "aplicar",
    "avisar",
    "ayudar",
    "borrar",
    "buscar",
    "cambiar",
    "cancelar",
    "cerrar ie",
    "comentar",
    "completar",
    "comprar",
    "comprobar ue",
    "conectar",
    "confirmar",
    "conocer pres1=conozc",
    "conseguir i pres1=consig",
    "consultar",
    "contactar",
    "contar ue",
    "contestar",
    "continuar ú",
    "crear",
    "deber",
    "decidir",
    "decir i pres1=dig pret=dij fut=dir imp=di",
    "dejar",
    "desear",
    "descargar",
    "devolver ue",
    "disfrutar",
    "elegir i pres1=elij",
    "empezar ie",
    "encontrar ue",
    "entender ie",
    "entrar",
    "enviar í",
    "escribir",
    "esperar",
    "evitar",
    "explicar",
    "facilitar",
    "firmar",
    "guardar",
    "hablar",
    "hacer pres1=hag pret=hic fut=har imp=haz",
    "incluir",
    "indicar",
    "iniciar",
    "instalar",
    "intentar",
    "leer",
    "llamar",
    "llegar",
    "llevar",
    "mandar",
    "mirar",
    "modificar",
    "necesitar",
    "notar",
    "obtener ie pres1=obteng pret=obtuv fut=obtendr imp=obtén",
    "ofrecer pres1=ofrezc",
    "olvidar",
    "pagar",
    "pedir i",
    "pensar ie",
    "perder ie",
    "poder ue pret=pud fut=podr",
    "poner pres1=pong pret=pus fut=pondr imp=pon",
    "preferir ie",
    "preguntar",
    "presentar",
    "probar ue",
    "proporcionar",
    "querer ie pret=quis fut=querr",
    "realizar",
    "recibir",
    "recordar ue",
    "registrar",
    "rellenar",
    "reservar",
    "responder",
    "revisar",
    "saber pres1=sep pret=sup fut=sabr",
    "salir pres1=salg fut=saldr imp=sal",
    "seguir i pres1=sig",
    "seleccionar",
    "sentir ie",
    "solicitar",
    "subir",
    "tener ie pres1=teng pret=tuv fut=tendr imp=ten",
    "tomar",
    "traer pres1=traig pret=traj",
    "usar",
    "utilizar",
    "valorar",
    "venir ie pres1=veng pret=vin fut=vendr imp=ven",
    "verificar",
    "volver ue",
];

/// Verbs no rule covers: (second-person form, its usted form, its tú form).
const IRREGULAR: &[(&str, &str, &str)] = &[
    // ser
    ("eres", "es", "eres"),
    ("sois", "es", "eres"),
    ("seas", "sea", "seas"),
    ("seáis", "sea", "seas"),
    ("fuiste", "fue", "fuiste"),
    ("fuisteis", "fue", "fuiste"),
    ("eras", "era", "eras"),
    ("erais", "era", "eras"),
    ("serás", "será", "serás"),
    ("seréis", "será", "serás"),
    ("serías", "sería", "serías"),
    ("seríais", "sería", "serías"),
    ("sed", "sea", "sé"),
    // estar
    ("estás", "está", "estás"),
    ("estáis", "está", "estás"),
    ("estés", "esté", "estés"),
    ("estéis", "esté", "estés"),
    ("estuviste", "estuvo", "estuviste"),
    ("estuvisteis", "estuvo", "estuviste"),
    ("estabas", "estaba", "estabas"),
    ("estabais", "estaba", "estabas"),
    ("estarás", "estará", "estarás"),
    ("estaréis", "estará", "estarás"),
    ("estarías", "estaría", "estarías"),
    ("estaríais", "estaría", "estarías"),
    // haber
    ("has", "ha", "has"),
    ("habéis", "ha", "has"),
    ("hayas", "haya", "hayas"),
    ("hayáis", "haya", "hayas"),
    ("hubiste", "hubo", "hubiste"),
    ("hubisteis", "hubo", "hubiste"),
    ("habías", "había", "habías"),
    ("habíais", "había", "habías"),
    ("habrás", "habrá", "habrás"),
    ("habréis", "habrá", "habrás"),
    ("habrías", "habría", "habrías"),
    ("habríais", "habría", "habrías"),
    ("hubieras", "hubiera", "hubieras"),
    ("hubierais", "hubiera", "hubieras"),
    // ir
    ("vas", "va", "vas"),
    ("vais", "va", "vas"),
    ("vayas", "vaya", "vayas"),
    ("vayáis", "vaya", "vayas"),
    ("ibas", "iba", "ibas"),
    ("ibais", "iba", "ibas"),
    ("irás", "irá", "irás"),
    ("iréis", "irá", "irás"),
    ("irías", "iría", "irías"),
    ("iríais", "iría", "irías"),
    // dar
    ("das", "da", "das"),
    ("dais", "da", "das"),
    ("des", "dé", "des"),
    ("deis", "dé", "des"),
    ("diste", "dio", "diste"),
    ("disteis", "dio", "diste"),
    ("dabas", "daba", "dabas"),
    ("dabais", "daba", "dabas"),
    ("darás", "dará", "darás"),
    ("daréis", "dará", "darás"),
    ("darías", "daría", "darías"),
    // ver
    ("ves", "ve", "ves"),
    ("veis", "ve", "ves"),
    ("veas", "vea", "veas"),
    ("veáis", "vea", "veas"),
    ("viste", "vio", "viste"),
    ("visteis", "vio", "viste"),
    ("veías", "veía", "veías"),
    ("veíais", "veía", "veías"),
    ("verás", "verá", "verás"),
    ("veréis", "verá", "verás"),
    ("verías", "vería", "verías"),
];

/// `tú` imperatives no rule gives, with their usted forms.
const IRREGULAR_IMPERATIVES: &[(&str, &str)] = &[
    ("da", "dé"),
    ("está", "esté"),
    ("mira", "mire"),
    ("ve", "vaya"),
    ("sé", "sea"),
];

/// Second-person forms that are also everyday nouns (`tus compras`, `las
/// cuentas`): rewritten only after a word that only a verb follows.
const NOUN_LIKE: &[&str] = &[
    "compras", "cuentas", "pruebas", "esperas", "reservas", "notas", "llamas", "miras", "cambias",
    "guardas", "pagas", "sales", "ayudas", "avisas",
];

/// Words after which the next word is not a verb.
const DETERMINERS: &[&str] = &[
    "el", "la", "los", "las", "un", "una", "unos", "unas", "mis", "tus", "sus", "nuestros",
    "nuestras", "vuestros", "vuestras", "estos", "estas", "esos", "esas", "aquellos", "aquellas",
    "muchos", "muchas", "pocos", "pocas", "varios", "varias", "otros", "otras", "algunos",
    "algunas", "sin", "de", "del", "con", "para", "por",
];

/// Words after which the next word can only be a verb.
const VERB_CONTEXT: &[&str] = &[
    "tú", "te", "no", "ya", "me", "nos", "lo", "la", "los", "las", "le", "les", "se", "os",
    "vosotros", "vosotras",
];

/// Clitics that attach to an imperative (`envíanos`, `dímelo`).
const CLITICS: &[&str] = &[
    "nos", "me", "te", "lo", "la", "los", "las", "le", "les", "se",
];

/// A second-person form and what it becomes.
#[derive(Debug, Clone)]
struct Forms {
    usted: String,
    tu: String,
}

struct Lexicon {
    /// Finite forms and `vosotros` imperatives.
    finite: HashMap<String, Forms>,
    /// `tú` imperatives, unaccented, with their usted forms.
    imperative: HashMap<String, String>,
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let mut finite = HashMap::new();
        let mut imperative = HashMap::new();
        for spec in VERBS {
            conjugate(spec, &mut finite, &mut imperative);
        }
        for (form, usted, tu) in IRREGULAR {
            finite.insert(
                (*form).to_owned(),
                Forms {
                    usted: (*usted).to_owned(),
                    tu: (*tu).to_owned(),
                },
            );
        }
        for (tu, usted) in IRREGULAR_IMPERATIVES {
            imperative.insert(unaccented(tu), (*usted).to_owned());
        }
        Lexicon { finite, imperative }
    })
}

/// The stem with its last `from` vowel changed to `to` (`ten` + ie → `tien`).
fn change_last(stem: &str, from: char, to: &str) -> String {
    match stem.rfind(from) {
        Some(at) => format!("{}{}{}", &stem[..at], to, &stem[at + from.len_utf8()..]),
        None => stem.to_owned(),
    }
}

fn conjugate(
    spec: &str,
    finite: &mut HashMap<String, Forms>,
    imperative: &mut HashMap<String, String>,
) {
    let mut parts = spec.split_whitespace();
    let Some(infinitive) = parts.next() else {
        return;
    };
    let (mut change, mut pres1, mut pret, mut fut, mut imp) = ("", None, None, None, None);
    for part in parts {
        match part.split_once('=') {
            Some(("pres1", v)) => pres1 = Some(v),
            Some(("pret", v)) => pret = Some(v),
            Some(("fut", v)) => fut = Some(v),
            Some(("imp", v)) => imp = Some(v),
            _ => change = part,
        }
    }
    let Some(stem) = infinitive.get(..infinitive.len() - 2) else {
        return;
    };
    let class = &infinitive[infinitive.len() - 2..];
    let ar = class == "ar";
    let ir = class == "ir";
    // The stem where the stress falls on it (tú, usted), and where -ir verbs close
    // their vowel when it does not (pidió, durmió, pidáis).
    let stressed = match change {
        "ie" => change_last(stem, 'e', "ie"),
        "ue" => change_last(stem, 'o', "ue"),
        "i" => change_last(stem, 'e', "i"),
        "í" => change_last(stem, 'i', "í"),
        "ú" => change_last(stem, 'u', "ú"),
        _ => stem.to_owned(),
    };
    let closed = match (ir, change) {
        (true, "ie" | "i") => change_last(stem, 'e', "i"),
        (true, "ue") => change_last(stem, 'o', "u"),
        _ => stem.to_owned(),
    };
    let mut add = |form: String, usted: String, tu: String| {
        finite.entry(form).or_insert(Forms { usted, tu });
    };
    // Present indicative.
    let (t2, t3, p2) = if ar {
        ("as", "a", "áis")
    } else if ir {
        ("es", "e", "ís")
    } else {
        ("es", "e", "éis")
    };
    let pres2 = format!("{stressed}{t2}");
    let pres3 = format!("{stressed}{t3}");
    add(pres2.clone(), pres3.clone(), pres2.clone());
    add(format!("{stem}{p2}"), pres3.clone(), pres2.clone());
    // Present subjunctive: on the first person's stem, with the spelling that keeps
    // the sound before the new vowel (busque, pague, empiece).
    let subj_stem = match pres1 {
        Some(s) => s.to_owned(),
        None if ar => spell_before_e(&stressed),
        None => spell_before_a(&stressed),
    };
    let subj_closed = match pres1 {
        Some(s) => s.to_owned(),
        None if ar => spell_before_e(stem),
        None => spell_before_a(&closed),
    };
    let (s2, s3, sp) = if ar {
        ("es", "e", "éis")
    } else {
        ("as", "a", "áis")
    };
    let subj2 = format!("{subj_stem}{s2}");
    let subj3 = format!("{subj_stem}{s3}");
    add(subj2.clone(), subj3.clone(), subj2.clone());
    add(format!("{subj_closed}{sp}"), subj3.clone(), subj2);
    // Preterite.
    match pret {
        Some(strong) => {
            let third = if let Some(base) = strong.strip_suffix('c') {
                format!("{base}zo")
            } else {
                format!("{strong}o")
            };
            let second = format!("{strong}iste");
            add(second.clone(), third.clone(), second.clone());
            add(format!("{strong}isteis"), third, second);
        }
        None => {
            let vowel_stem = !ar && stem.ends_with(['a', 'e', 'o', 'u']);
            let (second, third) = if ar {
                (format!("{stem}aste"), format!("{stem}ó"))
            } else if vowel_stem && !stem.ends_with('u') {
                (format!("{stem}íste"), format!("{stem}yó"))
            } else if vowel_stem {
                (format!("{stem}iste"), format!("{stem}yó"))
            } else {
                (format!("{stem}iste"), format!("{closed}ió"))
            };
            let plural = format!("{}is", second);
            add(second.clone(), third.clone(), second.clone());
            add(plural, third, second);
        }
    }
    // Imperfect.
    let (i2, i3, ip) = if ar {
        ("abas", "aba", "abais")
    } else {
        ("ías", "ía", "íais")
    };
    add(
        format!("{stem}{i2}"),
        format!("{stem}{i3}"),
        format!("{stem}{i2}"),
    );
    add(
        format!("{stem}{ip}"),
        format!("{stem}{i3}"),
        format!("{stem}{i2}"),
    );
    // Future and conditional.
    let future = fut.map_or_else(|| infinitive.to_owned(), str::to_owned);
    for (second, third, plural) in [("ás", "á", "éis"), ("ías", "ía", "íais")] {
        add(
            format!("{future}{second}"),
            format!("{future}{third}"),
            format!("{future}{second}"),
        );
        add(
            format!("{future}{plural}"),
            format!("{future}{third}"),
            format!("{future}{second}"),
        );
    }
    // Imperatives: tú (the third person's form unless irregular), vosotros (-ad,
    // -ed, -id), both becoming the usted subjunctive.
    let tu_imperative = imp.map_or(pres3, str::to_owned);
    imperative.insert(unaccented(&tu_imperative), subj3.clone());
    add(
        format!("{}d", &infinitive[..infinitive.len() - 1]),
        subj3,
        tu_imperative,
    );
}

/// The stem before an `e` ending (the `-ar` subjunctive).
fn spell_before_e(stem: &str) -> String {
    respell(stem, &[("c", "qu"), ("g", "gu"), ("z", "c")])
}

/// The stem before an `a` ending (the `-er`/`-ir` subjunctive).
fn spell_before_a(stem: &str) -> String {
    respell(stem, &[("gu", "g"), ("g", "j"), ("c", "z")])
}

/// The second-person verb form of word `i`, if it is one here.
fn verb_at<'l>(words: &Words, i: usize, lexicon: &'l Lexicon) -> Option<&'l Forms> {
    let lower = words.lower(i);
    let forms = lexicon.finite.get(&lower)?;
    let previous = i.checked_sub(1).map(|p| words.lower(p));
    let after_determiner = previous
        .as_deref()
        .is_some_and(|p| DETERMINERS.contains(&p) && !words.starts_sentence(i));
    if after_determiner {
        return None;
    }
    if NOUN_LIKE.contains(&lower.as_str()) {
        let verbal = previous
            .as_deref()
            .is_some_and(|p| VERB_CONTEXT.contains(&p) && !words.starts_sentence(i));
        if !verbal {
            return None;
        }
    }
    Some(forms)
}

/// Whether the sentence of word `i` addresses the customer with a `tú` or
/// `vosotros` form somewhere else (so a bare imperative there is one too).
fn sentence_has_t_form(words: &Words, i: usize, lexicon: &Lexicon) -> bool {
    words.sentence_of(i).filter(|j| *j != i).any(|j| {
        matches!(
            words.lower(j).as_str(),
            "tu" | "tus"
                | "te"
                | "ti"
                | "contigo"
                | "tuyo"
                | "tuya"
                | "vuestro"
                | "vuestra"
                | "vuestros"
                | "vuestras"
                | "os"
        ) || (words.is_changed(j))
            || verb_at(words, j, lexicon).is_some()
    })
}

/// Puts the written accent a clitic needs: `escriba` + `nos` → `escríbanos`.
fn attach(base: &str, clitics: &str) -> String {
    if base.chars().any(|c| "áéíóú".contains(c)) || clitics.is_empty() {
        return format!("{base}{clitics}");
    }
    // The stress of a word ending in a vowel falls on its second-to-last syllable;
    // with a clitic after it, that syllable needs the accent.
    let chars: Vec<char> = base.chars().collect();
    let vowel = |c: char| "aeiou".contains(c);
    let mut groups: Vec<usize> = Vec::new(); // index of the strong vowel of each group
    let mut k = 0;
    while k < chars.len() {
        if vowel(chars[k]) {
            let start = k;
            while k < chars.len() && vowel(chars[k]) {
                k += 1;
            }
            let group = &chars[start..k];
            let strong = group
                .iter()
                .position(|c| "aeo".contains(*c))
                .unwrap_or(group.len() - 1);
            groups.push(start + strong);
        } else {
            k += 1;
        }
    }
    if groups.len() < 2 {
        return format!("{base}{clitics}");
    }
    let at = groups[groups.len() - 2];
    let accented: String = chars
        .iter()
        .enumerate()
        .map(|(n, c)| {
            if n == at {
                match c {
                    'a' => 'á',
                    'e' => 'é',
                    'i' => 'í',
                    'o' => 'ó',
                    'u' => 'ú',
                    other => *other,
                }
            } else {
                *c
            }
        })
        .collect();
    format!("{accented}{clitics}")
}

/// An imperative with clitics attached (`envíanos`, `dímelo`, `enviadnos`): its
/// usted form, clitics kept (`te` becomes `se`).
fn imperative_with_clitics(word: &str, lexicon: &Lexicon) -> Option<String> {
    let lower = word.to_lowercase();
    let mut rest = lower.as_str();
    let mut clitics: Vec<&str> = Vec::new();
    for _ in 0..2 {
        match CLITICS
            .iter()
            .find(|c| rest.len() > c.len() + 1 && rest.ends_with(*c))
        {
            Some(c) => {
                clitics.insert(0, c);
                rest = &rest[..rest.len() - c.len()];
            }
            None => break,
        }
    }
    if clitics.is_empty() {
        return None;
    }
    let clitics: String = clitics
        .iter()
        .map(|c| if *c == "te" { "se" } else { c })
        .collect();
    if let Some(usted) = lexicon.imperative.get(&unaccented(rest)) {
        return Some(attach(usted, &clitics));
    }
    // vosotros: `enviadnos`, `decidme`.
    let forms = lexicon.finite.get(rest).filter(|_| rest.ends_with('d'))?;
    Some(attach(&forms.usted, &clitics))
}

/// `te` or `os` at word `i`: reflexive (`te has registrado`) when a verb of the
/// customer's follows, or before `lo`/`la` (`se lo enviamos`); else an object.
fn object_pronoun(words: &Words, i: usize, lexicon: &Lexicon) -> &'static str {
    let next = words.lower(i + 1);
    if words.joined_to_next(i) && matches!(next.as_str(), "lo" | "la" | "los" | "las") {
        return "se";
    }
    if words.joined_to_next(i) && verb_at(words, i + 1, lexicon).is_some() {
        return "se";
    }
    "le"
}

pub(super) fn rewrite(words: &mut Words, wanted: Pronoun) {
    let lexicon = lexicon();
    // Whether each sentence speaks to the customer, asked once per sentence.
    let mut speaks: HashMap<usize, bool> = HashMap::new();
    let formal = wanted == Pronoun::Formal;
    // The last verb of the customer's seen, for `para registrarte` (reflexive) vs
    // `para ayudarte` (object).
    let mut customer_verb_in_sentence = false;
    for i in 0..words.len() {
        if words.starts_sentence(i) {
            customer_verb_in_sentence = false;
        }
        let lower = words.lower(i);
        let next_is_verb = words.joined_to_next(i) && verb_at(words, i + 1, lexicon).is_some();
        let replacement: Option<String> = match lower.as_str() {
            "vosotros" | "vosotras" => Some(if formal { "usted" } else { "tú" }.into()),
            "vuestro" | "vuestra" => Some(if formal { "su" } else { "tu" }.into()),
            "vuestros" | "vuestras" => Some(if formal { "sus" } else { "tus" }.into()),
            "os" if formal => Some(object_pronoun(words, i, lexicon).into()),
            "os" => Some("te".into()),
            _ if !formal => verb_at(words, i, lexicon)
                .filter(|_| lower.ends_with("is") || lower.ends_with('d'))
                .map(|f| f.tu.clone()),
            "tú" => Some("usted".into()),
            "tu" if next_is_verb => Some("usted".into()),
            "tu" => Some("su".into()),
            "tus" => Some("sus".into()),
            "ti" => Some("usted".into()),
            "contigo" => Some("con usted".into()),
            "tuyo" | "tuya" | "tuyos" | "tuyas" => Some(format!("su{}", &lower[2..])),
            "te" => Some(object_pronoun(words, i, lexicon).into()),
            _ => {
                if let Some(forms) = verb_at(words, i, lexicon) {
                    customer_verb_in_sentence = true;
                    Some(forms.usted.clone())
                } else if let Some(usted) = imperative_with_clitics(&lower, lexicon) {
                    customer_verb_in_sentence = true;
                    Some(usted)
                } else if let Some(usted) = lexicon
                    .imperative
                    .get(&unaccented(&lower))
                    .filter(|_| words.starts_clause(i))
                    .filter(|_| {
                        *speaks
                            .entry(words.sentence_of(i).start)
                            .or_insert_with(|| sentence_has_t_form(words, i, lexicon))
                    })
                {
                    customer_verb_in_sentence = true;
                    Some(usted.clone())
                } else {
                    enclitic_te(&lower, customer_verb_in_sentence)
                }
            }
        };
        if let Some(new) = replacement {
            words.set(i, &new);
        }
    }
}

/// An infinitive or gerund ending in `te`/`os` (`ayudarte`, `enviándote`,
/// `enviártelo`): `le` for an object, `se` when the customer's own verb came
/// before it in the sentence (`puede registrarse`).
fn enclitic_te(lower: &str, reflexive: bool) -> Option<String> {
    let pronoun = if reflexive { "se" } else { "le" };
    for (ending, tail) in [("te", ""), ("telo", "lo"), ("tela", "la"), ("os", "")] {
        let Some(base) = lower.strip_suffix(ending) else {
            continue;
        };
        let verbal = [
            "ar", "er", "ir", "ír", "ár", "ér", "ando", "iendo", "ándo", "iéndo",
        ]
        .iter()
        .any(|e| base.ends_with(e));
        if verbal && base.len() > 3 {
            let pronoun = if tail.is_empty() { pronoun } else { "se" };
            return Some(format!("{base}{pronoun}{tail}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::{Pronoun, Target, Variety, rewrite};
    use crate::language::Lang;

    fn usted(text: &str) -> String {
        to(text, Pronoun::Formal)
    }

    fn to(text: &str, pronoun: Pronoun) -> String {
        rewrite(
            text,
            Target {
                lang: Lang::Es,
                variety: Variety::Brazil,
                pronoun,
                title: None,
            },
        )
        .text
    }

    #[test]
    fn apertium_replies_come_out_in_usted() {
        let cases = [
            (
                "Vuestro reembolso para orden #4471 ha sido emitido.",
                "Su reembolso para orden #4471 ha sido emitido.",
            ),
            (
                "Gracias por vuestro mensaje. Puedes seguir vuestro pedido aquí.",
                "Gracias por su mensaje. Puede seguir su pedido aquí.",
            ),
            (
                "¿Podrías enviarnos una foto? Te enviaremos uno nuevo.",
                "¿Podría enviarnos una foto? Le enviaremos uno nuevo.",
            ),
            (
                "Comprueba vuestro email y dinos si lo has recibido.",
                "Compruebe su email y díganos si lo ha recibido.",
            ),
            (
                "Tienes razón, nos disculpamos. ¿Quieres un reembolso?",
                "Tiene razón, nos disculpamos. ¿Quiere un reembolso?",
            ),
        ];
        for (before, after) in cases {
            assert_eq!(usted(before), after, "{before}");
        }
    }

    #[test]
    fn every_tense_of_the_second_person_becomes_the_third() {
        let cases = [
            ("Recibiste el paquete.", "Recibió el paquete."),
            ("Pediste dos unidades.", "Pidió dos unidades."),
            ("Hiciste el pedido ayer.", "Hizo el pedido ayer."),
            ("Recibirás un correo.", "Recibirá un correo."),
            (
                "Si prefieres, podrías esperar.",
                "Si prefiere, podría esperar.",
            ),
            (
                "Cuando recibas el código, escríbenos.",
                "Cuando reciba el código, escríbanos.",
            ),
            (
                "No olvides revisar tu correo.",
                "No olvide revisar su correo.",
            ),
            (
                "Eres nuestro cliente desde 2020.",
                "Es nuestro cliente desde 2020.",
            ),
            ("Leíste las condiciones.", "Leyó las condiciones."),
            ("Envíanos tu dirección.", "Envíenos su dirección."),
            ("Hazlo cuando puedas.", "Hágalo cuando pueda."),
        ];
        for (before, after) in cases {
            assert_eq!(usted(before), after, "{before}");
        }
    }

    #[test]
    fn te_becomes_le_as_an_object_and_se_as_a_reflexive() {
        assert_eq!(usted("Te lo enviamos hoy."), "Se lo enviamos hoy.");
        assert_eq!(usted("¿Te has registrado?"), "¿Se ha registrado?");
        assert_eq!(usted("Podemos ayudarte."), "Podemos ayudarle.");
        assert_eq!(usted("Puedes registrarte aquí."), "Puede registrarse aquí.");
        assert_eq!(usted("Es para ti, contigo."), "Es para usted, con usted.");
    }

    #[test]
    fn vosotros_forms_become_usted_or_tu() {
        assert_eq!(
            usted("Habéis pedido dos. Os lo enviamos. Enviadnos la factura."),
            "Ha pedido dos. Se lo enviamos. Envíenos la factura."
        );
        assert_eq!(
            to(
                "Habéis pedido dos. Vuestro pedido os llegará.",
                Pronoun::Informal
            ),
            "Has pedido dos. Tu pedido te llegará."
        );
    }

    #[test]
    fn nouns_that_look_like_verbs_stay() {
        assert_eq!(
            usted("Tus compras y las cuentas están listas."),
            "Sus compras y las cuentas están listas."
        );
        assert_eq!(
            usted("El producto llega mañana."),
            "El producto llega mañana."
        );
        // A bare imperative is one only where the sentence speaks to the customer.
        assert_eq!(usted("Revisa tu correo."), "Revise su correo.");
        assert_eq!(usted("Llega mañana."), "Llega mañana.");
    }

    #[test]
    fn usted_replies_are_left_alone() {
        let text = "Le enviamos su pedido. Puede seguirlo aquí.";
        assert_eq!(usted(text), text);
        assert_eq!(to(text, Pronoun::Informal), text);
    }
}
