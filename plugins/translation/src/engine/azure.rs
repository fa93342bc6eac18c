//! Azure AI Translator, v3: `GET /languages?api-version=3.0&scope=translation`
//! (`{"translation": {"af": {…}, …}}`) and `POST /translate?api-version=3.0&from=…
//! &to=…&textType=html|plain` JSON `[{"Text": …}]`, answered
//! `[{"translations":[{"text","to"}]}]`; `POST /detect?api-version=3.0` is its own
//! detection. The host adds `Ocp-Apim-Subscription-Key`
//! (and `Ocp-Apim-Subscription-Region` for a regional resource) from the tenant's
//! secrets.

use crossdesk_sdk::http::Request;
use serde_json::{Value, json};

use super::{Engine, EngineError};

pub(super) fn languages(e: &Engine) -> Result<Vec<String>, EngineError> {
    let url = format!("{}/languages?api-version=3.0&scope=translation", e.url);
    let reply = e.json(&e.send(Request::get(url))?)?;
    reply
        .get("translation")
        .and_then(Value::as_object)
        .map(|languages| languages.keys().cloned().collect())
        .ok_or_else(|| e.failure("reply in the wrong shape (no translation object)"))
}

/// `POST /detect?api-version=3.0` JSON `[{"Text"}]`, answered
/// `[{"language","score"}]`.
pub(super) fn detect(e: &Engine, text: &str) -> Result<Option<(String, f64)>, EngineError> {
    let url = format!("{}/detect?api-version=3.0", e.url);
    let reply = e.post_json(&url, &[], &json!([{ "Text": text }]))?;
    let best = reply.get(0);
    Ok(best.and_then(|b| {
        let code = b.get("language")?.as_str()?;
        let score = b.get("score").and_then(Value::as_f64).unwrap_or(0.0);
        Some((code.to_owned(), score.clamp(0.0, 1.0)))
    }))
}

pub(super) fn translate(
    e: &Engine,
    s: &str,
    t: &str,
    texts: &[String],
    markup: bool,
) -> Result<Vec<String>, EngineError> {
    let url = format!(
        "{}/translate?api-version=3.0&from={s}&to={t}&textType={}",
        e.url,
        if markup { "html" } else { "plain" }
    );
    let body: Vec<Value> = texts.iter().map(|text| json!({ "Text": text })).collect();
    let reply = e.post_json(&url, &[], &Value::Array(body))?;
    e.texts(Some(&reply), "[].translations[0].text", |item| {
        item.get("translations")?.get(0)?.get("text")?.as_str()
    })
}
