//! Language codes and language detection.
//!
//! Plugins speak ISO 639-1 (`en`, `es`, `fr`) everywhere: in kv, in tags and in
//! notes. Apertium APy names languages in ISO 639-3 (`eng`, `spa`, `fra`), sometimes
//! with a variety after an underscore (`por_BR`, `cat_valencia`); [`from_code`] and
//! [`to_iso3`] convert between the two with one table, which covers every language
//! whatlang detects and the others Apertium commonly pairs.

/// One row of the table: ISO 639-1, the ISO 639-3 code Apertium uses, other
/// spellings that mean the same language (ISO 639-3 or 639-2/B, and the retired
/// codes Google's translation API still answers: `iw` for Hebrew, `jw` for
/// Javanese), and the English name.
struct Row {
    iso1: &'static str,
    iso3: &'static str,
    aliases: &'static [&'static str],
    name: &'static str,
}

const fn row(
    iso1: &'static str,
    iso3: &'static str,
    aliases: &'static [&'static str],
    name: &'static str,
) -> Row {
    Row {
        iso1,
        iso3,
        aliases,
        name,
    }
}

/// The table. First the languages whatlang detects (in its order), then other
/// languages with Apertium pairs.
const TABLE: &[Row] = &[
    row("eo", "epo", &[], "Esperanto"),
    row("en", "eng", &[], "English"),
    row("ru", "rus", &[], "Russian"),
    row("zh", "zho", &["cmn", "chi"], "Chinese"),
    row("es", "spa", &[], "Spanish"),
    row("pt", "por", &[], "Portuguese"),
    row("it", "ita", &[], "Italian"),
    row("bn", "ben", &[], "Bengali"),
    row("fr", "fra", &["fre"], "French"),
    row("de", "deu", &["ger"], "German"),
    row("uk", "ukr", &[], "Ukrainian"),
    row("ka", "kat", &["geo"], "Georgian"),
    row("ar", "ara", &[], "Arabic"),
    row("hi", "hin", &[], "Hindi"),
    row("ja", "jpn", &[], "Japanese"),
    row("he", "heb", &["iw"], "Hebrew"),
    row("yi", "yid", &[], "Yiddish"),
    row("pl", "pol", &[], "Polish"),
    row("am", "amh", &[], "Amharic"),
    row("jv", "jav", &["jw"], "Javanese"),
    row("ko", "kor", &[], "Korean"),
    row("nb", "nob", &["nor"], "Norwegian Bokmål"),
    row("da", "dan", &[], "Danish"),
    row("sv", "swe", &[], "Swedish"),
    row("fi", "fin", &[], "Finnish"),
    row("tr", "tur", &[], "Turkish"),
    row("nl", "nld", &["dut"], "Dutch"),
    row("hu", "hun", &[], "Hungarian"),
    row("cs", "ces", &["cze"], "Czech"),
    row("el", "ell", &["gre"], "Greek"),
    row("bg", "bul", &[], "Bulgarian"),
    row("be", "bel", &[], "Belarusian"),
    row("mr", "mar", &[], "Marathi"),
    row("kn", "kan", &[], "Kannada"),
    row("ro", "ron", &["rum"], "Romanian"),
    row("sl", "slv", &[], "Slovenian"),
    row("hr", "hrv", &[], "Croatian"),
    row("sr", "srp", &[], "Serbian"),
    row("mk", "mkd", &["mac"], "Macedonian"),
    row("lt", "lit", &[], "Lithuanian"),
    row("lv", "lav", &[], "Latvian"),
    row("et", "est", &[], "Estonian"),
    row("ta", "tam", &[], "Tamil"),
    row("vi", "vie", &[], "Vietnamese"),
    row("ur", "urd", &[], "Urdu"),
    row("th", "tha", &[], "Thai"),
    row("gu", "guj", &[], "Gujarati"),
    row("uz", "uzb", &[], "Uzbek"),
    row("pa", "pan", &[], "Punjabi"),
    row("az", "aze", &[], "Azerbaijani"),
    row("id", "ind", &[], "Indonesian"),
    row("te", "tel", &[], "Telugu"),
    row("fa", "fas", &["pes", "per"], "Persian"),
    row("ml", "mal", &[], "Malayalam"),
    row("or", "ori", &[], "Odia"),
    row("my", "mya", &["bur"], "Burmese"),
    row("ne", "nep", &[], "Nepali"),
    row("si", "sin", &[], "Sinhala"),
    row("km", "khm", &[], "Khmer"),
    row("tk", "tuk", &[], "Turkmen"),
    row("ak", "aka", &[], "Akan"),
    row("zu", "zul", &[], "Zulu"),
    row("sn", "sna", &[], "Shona"),
    row("af", "afr", &[], "Afrikaans"),
    row("la", "lat", &[], "Latin"),
    row("sk", "slk", &["slo"], "Slovak"),
    row("ca", "cat", &[], "Catalan"),
    row("tl", "tgl", &[], "Tagalog"),
    row("hy", "hye", &["arm"], "Armenian"),
    row("cy", "cym", &["wel"], "Welsh"),
    row("gl", "glg", &[], "Galician"),
    row("eu", "eus", &["baq"], "Basque"),
    row("oc", "oci", &[], "Occitan"),
    row("an", "arg", &[], "Aragonese"),
    row("nn", "nno", &[], "Norwegian Nynorsk"),
    row("is", "isl", &["ice"], "Icelandic"),
    row("ga", "gle", &[], "Irish"),
    row("br", "bre", &[], "Breton"),
    row("kk", "kaz", &[], "Kazakh"),
    row("tt", "tat", &[], "Tatar"),
    row("mt", "mlt", &[], "Maltese"),
    row("sq", "sqi", &["alb"], "Albanian"),
    row("ms", "msa", &["zsm", "may"], "Malay"),
    row("sw", "swa", &[], "Swahili"),
    row("bs", "bos", &[], "Bosnian"),
    row("sh", "hbs", &[], "Serbo-Croatian"),
    row("sc", "srd", &[], "Sardinian"),
    // No ISO 639-1 code: the ISO 639-3 one stands for both.
    row("ast", "ast", &[], "Asturian"),
    row("frp", "frp", &[], "Arpitan"),
];

/// Apertium's Serbo-Croatian pairs write each standard as a variety of `hbs`.
const SERBO_CROATIAN_STANDARDS: &[(&str, &str)] = &[("hr", "hr"), ("sr", "sr"), ("bs", "bs")];

/// The canonical (ISO 639-1, lower-case) code of a language given as an ISO 639-1
/// or 639-3 code, a locale (`es-MX`, `pt_BR`) or an Apertium variety (`por_BR`,
/// `cat_valencia`). `None` for what the table does not know.
///
/// ```
/// use crossdesk_text::lang::from_code;
/// assert_eq!(from_code("es-MX"), Some("es"));
/// assert_eq!(from_code("fra"), Some("fr"));
/// assert_eq!(from_code("por_BR"), Some("pt"));
/// assert_eq!(from_code("klingon"), None);
/// ```
pub fn from_code(code: &str) -> Option<&'static str> {
    let mut parts = code.trim().split(['-', '_']);
    let base = parts.next().unwrap_or_default().to_ascii_lowercase();
    if base == "hbs" {
        let variety = parts.next().unwrap_or_default().to_ascii_lowercase();
        if let Some((_, standard)) = SERBO_CROATIAN_STANDARDS.iter().find(|(v, _)| *v == variety) {
            return Some(standard);
        }
    }
    if base.is_empty() {
        return None;
    }
    // Norwegian without a written standard ("no") is written Bokmål nearly always.
    if base == "no" {
        return Some("nb");
    }
    TABLE
        .iter()
        .find(|r| r.iso1 == base || r.iso3 == base || r.aliases.contains(&base.as_str()))
        .map(|r| r.iso1)
}

/// Whether two language tags name one language: `pt-br` and `pt`, `no` and
/// `nb-NO`, `fra` and `fr` (their canonical codes agree, else their primary
/// subtags, case aside). A help centre's articles carry region tags
/// (`pt-br`, `zh-tw`) where a customer's language is a bare code.
///
/// ```
/// use crossdesk_text::lang::same_language;
/// assert!(same_language("pt-br", "pt"));
/// assert!(same_language("no", "nb-NO"));
/// assert!(!same_language("pt", "es"));
/// assert!(!same_language("", ""));
/// ```
pub fn same_language(a: &str, b: &str) -> bool {
    let primary = |tag: &str| {
        tag.trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    match (from_code(a), from_code(b)) {
        (Some(x), Some(y)) => x == y,
        _ => !primary(a).is_empty() && primary(a) == primary(b),
    }
}

/// Every canonical code of the table.
///
/// ```
/// assert!(crossdesk_text::lang::codes().contains(&"eu"));
/// ```
pub fn codes() -> Vec<&'static str> {
    TABLE.iter().map(|r| r.iso1).collect()
}

/// The ISO 639-3 code Apertium uses for a canonical code.
///
/// ```
/// assert_eq!(crossdesk_text::lang::to_iso3("es"), Some("spa"));
/// ```
pub fn to_iso3(iso1: &str) -> Option<&'static str> {
    TABLE.iter().find(|r| r.iso1 == iso1).map(|r| r.iso3)
}

/// The English name of a canonical code, or the code itself when unknown.
///
/// ```
/// assert_eq!(crossdesk_text::lang::name("fr"), "French");
/// assert_eq!(crossdesk_text::lang::name("xx"), "xx");
/// ```
pub fn name(iso1: &str) -> &str {
    TABLE
        .iter()
        .find(|r| r.iso1 == iso1)
        .map_or(iso1, |r| r.name)
}

/// What detection concluded about a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Canonical code.
    pub language: &'static str,
    /// whatlang's confidence, 0 to 1.
    pub confidence: f64,
    /// Whether whatlang considers the guess reliable.
    pub reliable: bool,
}

/// Detects the language of `text` with whatlang. `None` when whatlang has no guess
/// or guesses a language the table does not know.
///
/// ```
/// let d = crossdesk_text::lang::detect("Bonjour, je voudrais savoir où est ma commande.").unwrap();
/// assert_eq!(d.language, "fr");
/// ```
pub fn detect(text: &str) -> Option<Detection> {
    let info = whatlang::detect(text)?;
    Some(Detection {
        language: from_code(info.lang().code())?,
        confidence: info.confidence(),
        reliable: info.is_reliable(),
    })
}

/// Detects the language of `text` among `languages` (canonical codes) with
/// whatlang; languages whatlang does not know are left out. `None` when none is
/// left or whatlang has no guess.
///
/// ```
/// let d = crossdesk_text::lang::detect_among("ya pagué y nada", &["es", "pt", "en"]).unwrap();
/// assert_eq!(d.language, "es");
/// ```
pub fn detect_among(text: &str, languages: &[&str]) -> Option<Detection> {
    let allowed: Vec<whatlang::Lang> = languages
        .iter()
        .filter_map(|code| {
            let row = TABLE.iter().find(|r| r.iso1 == *code)?;
            std::iter::once(row.iso3)
                .chain(row.aliases.iter().copied())
                .find_map(whatlang::Lang::from_code)
        })
        .collect();
    if allowed.is_empty() {
        return None;
    }
    let info = whatlang::Detector::with_allowlist(allowed).detect(text)?;
    Some(Detection {
        language: from_code(info.lang().code())?,
        confidence: info.confidence(),
        reliable: info.is_reliable(),
    })
}

/// How many letters (alphabetic characters) `text` has: the measure of
/// `min_detect_chars`, so that URLs, numbers and emoji do not count.
///
/// ```
/// assert_eq!(crossdesk_text::lang::letter_count("ok 👍 #123"), 2);
/// ```
pub fn letter_count(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphabetic()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_detectable_language_has_a_row() {
        for lang in whatlang::Lang::all() {
            assert!(
                from_code(lang.code()).is_some(),
                "{} ({}) is missing from the table",
                lang.eng_name(),
                lang.code()
            );
        }
    }

    #[test]
    fn codes_round_trip() {
        for row in TABLE {
            assert_eq!(from_code(row.iso1), Some(row.iso1));
            assert_eq!(from_code(row.iso3), Some(row.iso1));
            assert_eq!(to_iso3(row.iso1), Some(row.iso3));
            for alias in row.aliases {
                assert_eq!(from_code(alias), Some(row.iso1), "{alias}");
            }
        }
        assert!(TABLE.len() >= 40);
    }

    #[test]
    fn locales_and_varieties() {
        assert_eq!(from_code("EN-us"), Some("en"));
        assert_eq!(from_code("cat_valencia"), Some("ca"));
        assert_eq!(from_code("eng_US"), Some("en"));
        assert_eq!(from_code("no-NO"), Some("nb"));
        assert_eq!(from_code("hbs"), Some("sh"));
        assert_eq!(from_code("hbs_HR"), Some("hr"));
        assert_eq!(from_code("srd"), Some("sc"));
        assert_eq!(from_code("ast"), Some("ast"));
        // Google's supportedLanguages and detectLanguage answer the retired codes.
        assert_eq!(from_code("iw"), Some("he"));
        assert_eq!(from_code("jw"), Some("jv"));
        assert_eq!(from_code(""), None);
        assert_eq!(from_code("-"), None);
    }
}
