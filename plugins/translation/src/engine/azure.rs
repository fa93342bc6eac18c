//! Azure AI Translator, v3: `GET /languages?api-version=3.0&scope=translation`
//! (`{"translation": {"af": {…}, …}}`) and `POST /translate?api-version=3.0&from=…
//! &to=…&textType=html|plain` JSON `[{"Text": …}]`, answered
//! `[{"translations":[{"text","to"}]}]`. The host adds `Ocp-Apim-Subscription-Key`
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
