//! Google Cloud Translation, v3 (Advanced): `GET {url}/supportedLanguages` and
//! `POST {url}:translateText` JSON `{"contents":[…],"sourceLanguageCode",
//! "targetLanguageCode","mimeType"}`, answered `{"translations":[{"translatedText"}]}`.
//! `POST {url}:detectLanguage` is the engine's own detection. The URL names the
//! project and location
//! (`https://translation.googleapis.com/v3/projects/PROJECT/locations/global`); the
//! host adds `Authorization: Bearer …` from the tenant's secrets.

use crossdesk_sdk::http::Request;
use serde_json::{Value, json};

use super::{Engine, EngineError};

pub(super) fn languages(e: &Engine) -> Result<Vec<String>, EngineError> {
    let shape = || e.failure("reply in the wrong shape (no languages[].languageCode)");
    let reply = e.json(&e.send(Request::get(format!("{}/supportedLanguages", e.url)))?)?;
    let list = reply
        .get("languages")
        .and_then(Value::as_array)
        .ok_or_else(shape)?;
    let mut codes = Vec::new();
    for language in list {
        let code = language
            .get("languageCode")
            .and_then(Value::as_str)
            .ok_or_else(shape)?;
        let both = ["supportSource", "supportTarget"]
            .iter()
            .all(|k| language.get(*k).and_then(Value::as_bool).unwrap_or(true));
        if both {
            codes.push(code.to_owned());
        }
    }
    Ok(codes)
}

/// `POST {url}:detectLanguage` `{"content"}`, answered `{"languages":
/// [{"languageCode","confidence"}]}`: the first, the likeliest.
pub(super) fn detect(e: &Engine, text: &str) -> Result<Option<(String, f64)>, EngineError> {
    let body = json!({ "content": text, "mimeType": "text/plain" });
    let reply = e.post_json(&format!("{}:detectLanguage", e.url), &[], &body)?;
    let best = reply.get("languages").and_then(|l| l.get(0));
    Ok(best.and_then(|b| {
        let code = b.get("languageCode")?.as_str()?;
        let confidence = b.get("confidence").and_then(Value::as_f64).unwrap_or(0.0);
        Some((code.to_owned(), confidence.clamp(0.0, 1.0)))
    }))
}

pub(super) fn translate(
    e: &Engine,
    s: &str,
    t: &str,
    texts: &[String],
    markup: bool,
) -> Result<Vec<String>, EngineError> {
    let body = json!({
        "contents": texts,
        "sourceLanguageCode": s,
        "targetLanguageCode": t,
        "mimeType": if markup { "text/html" } else { "text/plain" },
    });
    let reply = e.post_json(&format!("{}:translateText", e.url), &[], &body)?;
    e.texts(
        reply.get("translations"),
        "translations[].translatedText",
        |t| t.get("translatedText").and_then(Value::as_str),
    )
}
