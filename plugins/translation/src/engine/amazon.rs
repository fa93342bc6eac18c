//! Amazon Translate (JSON 1.1 protocol): `POST /` with `X-Amz-Target:
//! AWSShineFrontendService_20170701.ListLanguages` or `….TranslateText` and
//! `Content-Type: application/x-amz-json-1.1`. `TranslateText` takes one text:
//! `{"Text","SourceLanguageCode","TargetLanguageCode","Settings":{"Formality"}}`,
//! answered `{"TranslatedText"}`. Requests are signed with AWS Signature Version 4
//! by the host, from a tenant secret whose header is `x-crossdesk-aws-sigv4`: the
//! plugin never holds the key (README, "Secrets").
//!
//! `TranslateText` reads plain text: a text with placeholders goes as it is, and
//! when a placeholder does not come back the protection translates segment by
//! segment instead.

use serde_json::{Value, json};

use super::{Engine, EngineError, Formality};

const TARGET_PREFIX: &str = "AWSShineFrontendService_20170701.";

fn call(e: &Engine, operation: &str, body: &Value) -> Result<Value, EngineError> {
    let target = format!("{TARGET_PREFIX}{operation}");
    let request =
        crossdesk_sdk::http::Request::post(format!("{}/", e.url), body.to_string().into_bytes())
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target);
    e.json(&e.send(request)?)
}

pub(super) fn languages(e: &Engine) -> Result<Vec<String>, EngineError> {
    let reply = call(e, "ListLanguages", &json!({ "MaxResults": 500 }))?;
    e.texts(reply.get("Languages"), "Languages[].LanguageCode", |l| {
        l.get("LanguageCode").and_then(Value::as_str)
    })
}

pub(super) fn translate(
    e: &Engine,
    s: &str,
    t: &str,
    texts: &[String],
    formality: Formality,
) -> Result<Vec<String>, EngineError> {
    texts
        .iter()
        .map(|text| {
            let mut body = json!({
                "Text": text,
                "SourceLanguageCode": s,
                "TargetLanguageCode": t,
            });
            match formality {
                Formality::More => body["Settings"] = json!({ "Formality": "FORMAL" }),
                Formality::Less => body["Settings"] = json!({ "Formality": "INFORMAL" }),
                Formality::Default => {}
            }
            let reply = call(e, "TranslateText", &body)?;
            reply
                .get("TranslatedText")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| e.failure("reply in the wrong shape (no TranslatedText)"))
        })
        .collect()
}
