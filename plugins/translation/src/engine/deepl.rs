//! DeepL's API v2: `POST /v2/translate` JSON `{"text":[…],"source_lang",
//! "target_lang","tag_handling","formality"}`, its languages a fixed table. The key
//! goes in `Authorization: DeepL-Auth-Key …`, added by the host.

use serde_json::{Value, json};

use super::{Engine, EngineError, Formality, Pairs};

/// DeepL's languages: canonical code, source code, target code.
const DEEPL: &[(&str, &str, &str)] = &[
    ("ar", "AR", "AR"),
    ("bg", "BG", "BG"),
    ("cs", "CS", "CS"),
    ("da", "DA", "DA"),
    ("de", "DE", "DE"),
    ("el", "EL", "EL"),
    ("en", "EN", "EN-US"),
    ("es", "ES", "ES"),
    ("et", "ET", "ET"),
    ("fi", "FI", "FI"),
    ("fr", "FR", "FR"),
    ("hu", "HU", "HU"),
    ("id", "ID", "ID"),
    ("it", "IT", "IT"),
    ("ja", "JA", "JA"),
    ("ko", "KO", "KO"),
    ("lt", "LT", "LT"),
    ("lv", "LV", "LV"),
    ("nb", "NB", "NB"),
    ("nl", "NL", "NL"),
    ("pl", "PL", "PL"),
    ("pt", "PT", "PT-BR"),
    ("ro", "RO", "RO"),
    ("ru", "RU", "RU"),
    ("sk", "SK", "SK"),
    ("sl", "SL", "SL"),
    ("sv", "SV", "SV"),
    ("tr", "TR", "TR"),
    ("uk", "UK", "UK"),
    ("zh", "ZH", "ZH"),
];

/// Every language of the table into every other.
pub(super) fn pairs() -> Pairs {
    let codes: Vec<(String, String)> = DEEPL
        .iter()
        .flat_map(|(s, _, _)| {
            DEEPL
                .iter()
                .map(move |(t, _, _)| (s.to_string(), t.to_string()))
        })
        .collect();
    Pairs::from_engine_codes(&codes)
}

/// `variant`: DeepL's code of the reader's standard of `tgt` (`ZH-HANT`), when
/// there is one.
pub(super) fn translate(
    e: &Engine,
    src: &str,
    tgt: &str,
    variant: Option<&str>,
    texts: &[String],
    markup: bool,
    formality: Formality,
) -> Result<Vec<String>, EngineError> {
    let code = |lang: &str, target: bool| {
        DEEPL
            .iter()
            .find(|(c, _, _)| *c == lang)
            .map(|(_, s, t)| if target { *t } else { *s })
            .unwrap_or_default()
    };
    let mut body = json!({
        "text": texts,
        "source_lang": code(src, false),
        "target_lang": variant.unwrap_or_else(|| code(tgt, true)),
    });
    if markup {
        // Placeholders are empty XML elements; DeepL keeps tags it is told about.
        body["tag_handling"] = json!("xml");
    }
    match formality {
        Formality::More => body["formality"] = json!("prefer_more"),
        Formality::Less => body["formality"] = json!("prefer_less"),
        Formality::Default => {}
    }
    let reply = e.post_json(&format!("{}/v2/translate", e.url), &[], &body)?;
    e.texts(reply.get("translations"), "translations[].text", |t| {
        t.get("text").and_then(Value::as_str)
    })
}
