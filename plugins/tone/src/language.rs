//! The language a reply draft is written in.
//!
//! The formulas the plugin adds must be in the language of the reply, not the
//! customer's: a Japanese customer answered in English gets polite English formulas.
//! The translation plugin may have run first, so the draft can already be in the
//! customer's language. Cheap evidence decides:
//!
//! 1. the script of the letters outside protected spans: kana → Japanese, Hangul →
//!    Korean, Han without kana → Chinese (Simplified or Traditional from a list of
//!    characters that differ), Arabic → Arabic. One CJK character weighs as much as
//!    three Latin letters (it is about a word);
//! 2. for Latin script, function words of English, German, French, Spanish,
//!    Portuguese, Italian and Dutch (a word shared by several languages counts for
//!    each a share), plus a few letters only one of them uses (ñ, ß, ã) — never
//!    a mark a rule removes (¡), so a second pass decides as the first did;
//! 3. when the words do not decide, the customer's locale language if the words lean
//!    towards it more than towards the agent's (a short reply just translated by the
//!    translation plugin), else the agent's `working_language`.

use crate::matching::{is_arabic, is_han, is_hangul, is_kana, is_word_char};
use crate::spans::{self, Span};

/// A language the plugin has formulas for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    /// English.
    En,
    /// German.
    De,
    /// French.
    Fr,
    /// Spanish.
    Es,
    /// Portuguese.
    Pt,
    /// Italian.
    It,
    /// Dutch.
    Nl,
    /// Japanese.
    Ja,
    /// Chinese.
    Zh,
    /// Korean.
    Ko,
    /// Arabic.
    Ar,
}

impl Lang {
    /// Every supported language.
    pub const ALL: [Lang; 11] = [
        Lang::En,
        Lang::De,
        Lang::Fr,
        Lang::Es,
        Lang::Pt,
        Lang::It,
        Lang::Nl,
        Lang::Ja,
        Lang::Zh,
        Lang::Ko,
        Lang::Ar,
    ];

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::Pt => "pt",
            Lang::It => "it",
            Lang::Nl => "nl",
            Lang::Ja => "ja",
            Lang::Zh => "zh",
            Lang::Ko => "ko",
            Lang::Ar => "ar",
        }
    }

    /// The English name.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "German",
            Lang::Fr => "French",
            Lang::Es => "Spanish",
            Lang::Pt => "Portuguese",
            Lang::It => "Italian",
            Lang::Nl => "Dutch",
            Lang::Ja => "Japanese",
            Lang::Zh => "Chinese",
            Lang::Ko => "Korean",
            Lang::Ar => "Arabic",
        }
    }

    /// The language of a BCP 47 tag or ISO 639-1 code (`pt_BR`, `de`, `zh-Hant`).
    ///
    /// ```
    /// use tone::language::Lang;
    /// assert_eq!(Lang::from_tag("pt_BR"), Some(Lang::Pt));
    /// assert_eq!(Lang::from_tag("ru"), None);
    /// ```
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// Whether the language is written in Latin script.
    pub fn is_latin(self) -> bool {
        !matches!(self, Lang::Ja | Lang::Zh | Lang::Ko | Lang::Ar)
    }
}

/// The language of a reply, with the Chinese script when it is Chinese.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The language.
    pub lang: Lang,
    /// Traditional Chinese characters (only meaningful for [`Lang::Zh`]).
    pub traditional: bool,
}

/// How the language was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// From the script of the letters.
    Script,
    /// From function words of a Latin-script language.
    Words,
    /// The customer's locale: the words did not decide, but lean towards the
    /// customer's language rather than the agent's (a reply the translation plugin
    /// translated just before).
    Locale,
    /// The agent's working language (the words did not decide).
    Agent,
}

impl Evidence {
    /// A short description for notes.
    pub fn describe(self) -> &'static str {
        match self {
            Evidence::Script => "script",
            Evidence::Words => "function words",
            Evidence::Locale => "customer's locale, the words leaning that way",
            Evidence::Agent => "agent's working language",
        }
    }
}

/// The outcome of detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// A supported language.
    Supported(Reply, Evidence),
    /// Letters of a script the plugin has no formulas for (Cyrillic, Thai, ...).
    Unsupported,
    /// No letters at all, and no agent language to fall back on.
    Unknown,
}

/// Common words of each Latin-script language: articles, pronouns, prepositions,
/// auxiliaries and the vocabulary of support mail.
const FUNCTION_WORDS: &[(Lang, &[&str])] = &[
    (
        Lang::En,
        &[
            "the",
            "and",
            "is",
            "are",
            "you",
            "your",
            "we",
            "will",
            "have",
            "has",
            "this",
            "that",
            "with",
            "be",
            "it",
            "not",
            "please",
            "thank",
            "thanks",
            "our",
            "was",
            "can",
            "would",
            "of",
            "for",
            "to",
            "been",
            "an",
            "at",
            "from",
            "hi",
            "dear",
            "order",
            "sorry",
            "unfortunately",
            "i",
            "my",
            "hope",
            "just",
            "let",
            "know",
            "if",
            "any",
            "questions",
        ],
    ),
    (
        Lang::De,
        &[
            "paket",
            "unterwegs",
            "versandt",
            "wurde",
            "der",
            "die",
            "das",
            "und",
            "ist",
            "sind",
            "sie",
            "ihr",
            "ihre",
            "ihnen",
            "wir",
            "nicht",
            "mit",
            "für",
            "auf",
            "ein",
            "eine",
            "einen",
            "dem",
            "den",
            "des",
            "zu",
            "bitte",
            "danke",
            "vielen",
            "dank",
            "haben",
            "wird",
            "werden",
            "ich",
            "auch",
            "noch",
            "bei",
            "wie",
            "leider",
            "sehr",
            "geehrte",
            "geehrter",
            "grüßen",
            "du",
            "dir",
            "dich",
            "dein",
            "deine",
            "hallo",
            "bestellung",
            "uns",
            "wurde",
            "heute",
        ],
    ),
    (
        Lang::Fr,
        &[
            "colis",
            "demain",
            "aujourd'hui",
            "expédiée",
            "retard",
            "arrivera",
            "le",
            "la",
            "les",
            "et",
            "est",
            "sont",
            "vous",
            "votre",
            "vos",
            "nous",
            "notre",
            "pas",
            "avec",
            "pour",
            "sur",
            "une",
            "des",
            "du",
            "de",
            "que",
            "qui",
            "dans",
            "ce",
            "cette",
            "merci",
            "bonjour",
            "je",
            "avons",
            "être",
            "sera",
            "très",
            "malheureusement",
            "cordialement",
            "commande",
            "été",
            "au",
            "aux",
            "tu",
            "ton",
            "ta",
        ],
    ),
    (
        Lang::Es,
        &[
            "mañana",
            "paquete",
            "llegará",
            "fue",
            "enviado",
            "recibirá",
            "días",
            "compra",
            "el",
            "la",
            "los",
            "las",
            "y",
            "es",
            "son",
            "usted",
            "su",
            "sus",
            "nosotros",
            "nuestro",
            "no",
            "con",
            "para",
            "por",
            "una",
            "un",
            "del",
            "de",
            "que",
            "en",
            "gracias",
            "hola",
            "le",
            "lo",
            "pedido",
            "está",
            "están",
            "hemos",
            "será",
            "muy",
            "lamentablemente",
            "saludos",
            "tu",
            "tú",
            "te",
            "al",
            "ha",
            "sido",
            "hoy",
            "ya",
        ],
    ),
    (
        Lang::Pt,
        &[
            "amanhã",
            "enviei",
            "enviado",
            "chegou",
            "chegará",
            "código",
            "o",
            "a",
            "os",
            "as",
            "e",
            "é",
            "são",
            "você",
            "seu",
            "sua",
            "nós",
            "nosso",
            "não",
            "com",
            "para",
            "por",
            "um",
            "uma",
            "do",
            "da",
            "dos",
            "das",
            "de",
            "que",
            "em",
            "obrigado",
            "obrigada",
            "olá",
            "oi",
            "pedido",
            "está",
            "estão",
            "foi",
            "muito",
            "infelizmente",
            "atenciosamente",
            "hoje",
            "já",
            "ao",
            "pelo",
            "pela",
        ],
    ),
    (
        Lang::It,
        &[
            "spedito",
            "domani",
            "pacco",
            "consegna",
            "rimborso",
            "il",
            "lo",
            "la",
            "gli",
            "le",
            "e",
            "è",
            "sono",
            "lei",
            "suo",
            "sua",
            "noi",
            "nostro",
            "non",
            "con",
            "per",
            "un",
            "una",
            "del",
            "della",
            "di",
            "che",
            "in",
            "grazie",
            "ciao",
            "gentile",
            "ordine",
            "stato",
            "molto",
            "purtroppo",
            "saluti",
            "oggi",
            "già",
            "ha",
            "abbiamo",
            "sarà",
            "tuo",
            "tua",
        ],
    ),
    (
        Lang::Nl,
        &[
            "pakket",
            "onderweg",
            "door",
            "er",
            "vertraging",
            "morgen",
            "komt",
            "aan",
            "ontvangen",
            "retour",
            "de",
            "het",
            "een",
            "en",
            "is",
            "zijn",
            "u",
            "uw",
            "je",
            "jouw",
            "wij",
            "we",
            "ons",
            "onze",
            "niet",
            "met",
            "voor",
            "op",
            "van",
            "dat",
            "die",
            "in",
            "bedankt",
            "hallo",
            "beste",
            "bestelling",
            "wordt",
            "worden",
            "heeft",
            "hebben",
            "helaas",
            "groet",
            "ook",
            "nog",
            "vandaag",
            "verzonden",
            "geachte",
        ],
    ),
];

/// Simplified characters whose Traditional form differs, and those forms.
const SIMPLIFIED: &str = "们这说请谢过还发货时间题对为么东个国会关没应该经单订递运户务联给问贵达处钱额将迟来见谅号码从费体与专点电话机网页买卖换";
const TRADITIONAL: &str = "們這說請謝過還發貨時間題對為麼東個國會關沒應該經單訂遞運戶務聯給問貴達處錢額將遲來見諒號碼從費體與專點電話機網頁買賣換";

/// Detects the language of `text`, ignoring protected spans; `agent_language` (a
/// BCP 47 tag) decides when the words do not. `locale` (the customer's) breaks a tie
/// between Simplified and Traditional Chinese after the agent's language.
///
/// ```
/// use tone::language::{detect, Detected, Evidence, Lang};
/// let d = detect("ご注文の商品は本日発送いたしました。", &[], None, None);
/// assert!(matches!(d, Detected::Supported(r, Evidence::Script) if r.lang == Lang::Ja));
/// let d = detect("Your order has shipped and will arrive on Monday.", &[], Some("de"), None);
/// assert!(matches!(d, Detected::Supported(r, Evidence::Words) if r.lang == Lang::En));
/// ```
pub fn detect(
    text: &str,
    spans: &[Span],
    agent_language: Option<&str>,
    locale: Option<&str>,
) -> Detected {
    let text = spans::masked(text, spans);
    let (mut latin, mut kana, mut han, mut hangul, mut arabic, mut other) = (0, 0, 0, 0, 0, 0);
    for c in text.chars() {
        if is_kana(c) {
            kana += 1;
        } else if is_han(c) {
            han += 1;
        } else if is_hangul(c) {
            hangul += 1;
        } else if is_arabic(c) {
            arabic += 1;
        } else if c.is_alphabetic() {
            if c.is_ascii() || ('\u{00C0}'..='\u{024F}').contains(&c) {
                latin += 1;
            } else {
                other += 1;
            }
        }
    }
    let agent = agent_language.and_then(Lang::from_tag);
    let scripts = [
        (Some(Lang::Ja), (kana + han) * 3, kana > 0),
        (Some(Lang::Zh), han * 3, kana == 0),
        (Some(Lang::Ko), hangul * 3, true),
        (Some(Lang::Ar), arabic, true),
        (None, other, true),
    ];
    let best_non_latin = scripts
        .iter()
        .filter(|(_, weight, eligible)| *eligible && *weight > 0)
        .max_by_key(|(_, weight, _)| *weight);
    if let Some((lang, weight, _)) = best_non_latin
        && *weight >= latin
    {
        return match lang {
            Some(lang) => Detected::Supported(
                Reply {
                    lang: *lang,
                    traditional: *lang == Lang::Zh
                        && is_traditional(&text, agent_language.or(locale)),
                },
                Evidence::Script,
            ),
            None => Detected::Unsupported,
        };
    }
    if latin == 0 {
        return match agent {
            Some(lang) => {
                Detected::Supported(reply_in(lang, agent_language.or(locale)), Evidence::Agent)
            }
            None => Detected::Unknown,
        };
    }
    let scores = latin_scores(&text);
    match latin_by_words(&scores) {
        Some(lang) => Detected::Supported(reply_in(lang, None), Evidence::Words),
        // Undecided: between the agent's language and the customer's, the one the
        // words lean towards (a short translated reply has few function words).
        None if locale
            .and_then(Lang::from_tag)
            .filter(|l| l.is_latin() && Some(*l) != agent)
            .is_some_and(|l| {
                score_of(&scores, l) > agent.map_or(0.0, |a| score_of(&scores, a))
            }) =>
        {
            let lang = locale.and_then(Lang::from_tag).unwrap_or(Lang::En);
            Detected::Supported(reply_in(lang, locale), Evidence::Locale)
        }
        None => match agent.filter(|l| l.is_latin()) {
            Some(lang) => Detected::Supported(reply_in(lang, agent_language), Evidence::Agent),
            None => Detected::Supported(reply_in(Lang::En, None), Evidence::Agent),
        },
    }
}

fn reply_in(lang: Lang, tag: Option<&str>) -> Reply {
    let traditional = lang == Lang::Zh && tag.is_some_and(tag_is_traditional);
    Reply { lang, traditional }
}

/// Whether a Chinese locale or tag implies Traditional characters. A script it
/// names decides before its region: `zh-Hans-TW` is Simplified (as the
/// translation plugin reads it).
///
/// ```
/// use tone::language::tag_is_traditional;
/// assert!(tag_is_traditional("zh-TW") && tag_is_traditional("zh_Hant"));
/// assert!(!tag_is_traditional("zh-Hans-TW") && !tag_is_traditional("zh-CN"));
/// ```
pub fn tag_is_traditional(tag: &str) -> bool {
    let tag = tag.to_ascii_lowercase().replace('_', "-");
    if tag_names_simplified(&tag) {
        return false;
    }
    tag.contains("hant") || ["-tw", "-hk", "-mo"].iter().any(|r| tag.ends_with(r))
}

/// Whether a tag names the Simplified script (`zh-Hans`, `zh-Hans-TW`).
pub fn tag_names_simplified(tag: &str) -> bool {
    names_subtag(tag, "hans")
}

/// Whether a tag names a script of Chinese (`zh-Hans-TW`, `zh-Hant-CN`).
pub fn tag_names_script(tag: &str) -> bool {
    names_subtag(tag, "hans") || names_subtag(tag, "hant")
}

fn names_subtag(tag: &str, wanted: &str) -> bool {
    tag.split(['-', '_'])
        .any(|subtag| subtag.eq_ignore_ascii_case(wanted))
}

/// Whether Chinese `text` uses Traditional characters; ties go to `hint`.
pub fn is_traditional(text: &str, hint: Option<&str>) -> bool {
    let simplified = text.chars().filter(|c| SIMPLIFIED.contains(*c)).count();
    let traditional = text.chars().filter(|c| TRADITIONAL.contains(*c)).count();
    match traditional.cmp(&simplified) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => hint.is_some_and(tag_is_traditional),
    }
}

/// The evidence for each Latin-script language, in [`FUNCTION_WORDS`] order.
fn latin_scores(text: &str) -> [f64; 7] {
    let mut scores = [0.0f64; 7];
    let lower = text.to_lowercase();
    for word in lower.split(|c: char| !is_word_char(c) && c != '\'') {
        let word = word.trim_matches('\'');
        if word.is_empty() {
            continue;
        }
        let owners: Vec<usize> = FUNCTION_WORDS
            .iter()
            .enumerate()
            .filter(|(_, (_, words))| words.contains(&word))
            .map(|(i, _)| i)
            .collect();
        for i in &owners {
            scores[*i] += 1.0 / owners.len() as f64;
        }
    }
    for (c, lang, weight) in [
        ('ñ', Lang::Es, 2.0),
        ('¿', Lang::Es, 2.0),
        ('ß', Lang::De, 2.0),
        ('ä', Lang::De, 1.0),
        ('ü', Lang::De, 0.5),
        ('ã', Lang::Pt, 2.0),
        ('õ', Lang::Pt, 2.0),
        ('ç', Lang::Pt, 0.5),
        ('ç', Lang::Fr, 0.5),
        ('ù', Lang::Fr, 1.0),
        ('ê', Lang::Fr, 0.5),
        ('ì', Lang::It, 1.0),
        ('ò', Lang::It, 1.0),
        ('ĳ', Lang::Nl, 2.0),
    ] {
        let n = lower.matches(c).count() as f64;
        if let Some(i) = FUNCTION_WORDS.iter().position(|(l, _)| *l == lang) {
            scores[i] += n * weight;
        }
    }
    scores
}

/// The evidence for `lang` (0 for a language without function words).
fn score_of(scores: &[f64; 7], lang: Lang) -> f64 {
    FUNCTION_WORDS
        .iter()
        .position(|(l, _)| *l == lang)
        .map_or(0.0, |i| scores[i])
}

/// The Latin-script language whose function words dominate, if one clearly does.
fn latin_by_words(scores: &[f64; 7]) -> Option<Lang> {
    let mut ranked: Vec<(usize, f64)> = scores.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, best_score) = ranked[0];
    let second = ranked[1].1;
    (best_score >= 1.5 && best_score >= second * 1.3 + 0.5).then(|| FUNCTION_WORDS[best].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(text: &str) -> Option<Lang> {
        match detect(text, &spans::find(text, &[]), None, None) {
            Detected::Supported(r, _) => Some(r.lang),
            _ => None,
        }
    }

    #[test]
    fn a_short_translated_reply_leaning_to_the_customer_language_is_in_it() {
        let text = "Vuestro orden #4471 dejó nuestro almacén ayer.";
        let d = detect(text, &spans::find(text, &[]), Some("en"), Some("es-MX"));
        assert!(
            matches!(d, Detected::Supported(r, Evidence::Locale) if r.lang == Lang::Es),
            "{d:?}"
        );
        // Without any lean towards the customer's language, the agent's decides.
        let text = "Lucía: ok.";
        let d = detect(text, &spans::find(text, &[]), Some("en"), Some("es-MX"));
        assert!(
            matches!(d, Detected::Supported(r, Evidence::Agent) if r.lang == Lang::En),
            "{d:?}"
        );
    }

    #[test]
    fn scripts() {
        assert_eq!(lang("山田様、ご注文ありがとうございます。"), Some(Lang::Ja));
        assert_eq!(lang("您的订单已经发货了。"), Some(Lang::Zh));
        assert_eq!(lang("주문하신 상품이 발송되었습니다."), Some(Lang::Ko));
        assert_eq!(lang("تم شحن طلبك اليوم."), Some(Lang::Ar));
        assert_eq!(lang("Ваш заказ отправлен."), None);
    }

    #[test]
    fn latin_languages_by_function_words() {
        assert_eq!(
            lang("Your parcel is on its way and will arrive on Monday."),
            Some(Lang::En)
        );
        assert_eq!(
            lang("Ihre Bestellung ist leider noch nicht bei uns eingegangen."),
            Some(Lang::De)
        );
        assert_eq!(
            lang("Votre commande a été expédiée aujourd'hui, merci pour votre patience."),
            Some(Lang::Fr)
        );
        assert_eq!(
            lang("Su pedido ha sido enviado hoy y llegará el lunes."),
            Some(Lang::Es)
        );
        assert_eq!(
            lang("Seu pedido foi enviado hoje e chegará na segunda-feira."),
            Some(Lang::Pt)
        );
        assert_eq!(
            lang("Il suo ordine è stato spedito oggi e arriverà lunedì."),
            Some(Lang::It)
        );
        assert_eq!(
            lang("Uw bestelling is vandaag verzonden en komt maandag aan."),
            Some(Lang::Nl)
        );
    }

    #[test]
    fn english_with_a_japanese_name_is_english() {
        assert_eq!(
            lang("Dear 山田 太郎, your order #4471 has shipped today."),
            Some(Lang::En)
        );
    }

    #[test]
    fn japanese_with_a_product_name_is_japanese() {
        assert_eq!(lang("ご注文のMacBook Proは発送済みです。"), Some(Lang::Ja));
    }

    #[test]
    fn undecided_words_fall_back_to_the_agent() {
        let d = detect("OK 👍", &[], Some("nl-NL"), None);
        assert!(matches!(d, Detected::Supported(r, Evidence::Agent) if r.lang == Lang::Nl));
        assert_eq!(detect("👍", &[], None, None), Detected::Unknown);
    }

    #[test]
    fn chinese_scripts() {
        let d = detect("您的訂單已經發貨，謝謝。", &[], None, None);
        assert!(matches!(d, Detected::Supported(r, _) if r.lang == Lang::Zh && r.traditional));
        let d = detect("您的订单已经发货，谢谢。", &[], Some("zh-TW"), None);
        assert!(matches!(d, Detected::Supported(r, _) if r.lang == Lang::Zh && !r.traditional));
        let d = detect("您的退款三天", &[], None, Some("zh-TW"));
        assert!(matches!(d, Detected::Supported(r, _) if r.traditional));
        let d = detect("您的退款三天", &[], None, None);
        assert!(matches!(d, Detected::Supported(r, _) if r.lang == Lang::Zh && !r.traditional));
    }
}
