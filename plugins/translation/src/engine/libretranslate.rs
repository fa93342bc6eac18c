//! LibreTranslate: `GET /languages` (each language with its targets) and `POST
//! /translate` JSON `{"q","source","target","format"}`, `q` an array for several
//! texts.

use crossdesk_sdk::http::Request;
use serde_json::{Value, json};

use super::{Engine, EngineError};

pub(super) fn pairs(e: &Engine) -> Result<Vec<(String, String)>, EngineError> {
    let shape = |what: &str| e.failure(format!("reply in the wrong shape ({what})"));
    let reply = e.json(&e.send(Request::get(format!("{}/languages", e.url)))?)?;
    let list = reply
        .as_array()
        .ok_or_else(|| shape("not a list of languages"))?;
    let mut pairs = Vec::new();
    for language in list {
        let code = language
            .get("code")
            .and_then(Value::as_str)
            .ok_or_else(|| shape("a language without code"))?;
        let targets = language
            .get("targets")
            .and_then(Value::as_array)
            .ok_or_else(|| shape("a language without targets"))?;
        for target in targets.iter().filter_map(Value::as_str) {
            pairs.push((code.to_owned(), target.to_owned()));
        }
    }
    Ok(pairs)
}

pub(super) fn translate(
    e: &Engine,
    s: &str,
    t: &str,
    texts: &[String],
    markup: bool,
) -> Result<Vec<String>, EngineError> {
    let q = match texts {
        [one] => json!(one),
        many => json!(many),
    };
    let body = json!({
        "q": q,
        "source": s,
        "target": t,
        "format": if markup { "html" } else { "text" },
    });
    let reply = e.post_json(&format!("{}/translate", e.url), &[], &body)?;
    let shape = || e.failure("reply in the wrong shape (no translatedText)");
    match reply.get("translatedText") {
        Some(Value::String(one)) if texts.len() == 1 => Ok(vec![one.clone()]),
        Some(Value::Array(many)) => many
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(shape))
            .collect(),
        _ => Err(shape()),
    }
}
