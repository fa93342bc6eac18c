//! A chat-completions endpoint in OpenAI's format — OpenAI itself, or a local
//! server (llama.cpp, vLLM, Ollama's OpenAI API): `POST {url}/chat/completions`
//! JSON `{"model","temperature":0,"messages":[system, user]}`, answered
//! `{"choices":[{"message":{"content"}}]}`. One text per request. The host adds
//! `Authorization: Bearer …` from the tenant's secrets (a local server may need
//! none). A language model writes every language of the table, so any pair is
//! offered.

use serde_json::{Value, json};

use super::{Engine, EngineError, Formality, Pairs};
use crate::lang;

/// The model asked for when the tenant names none.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

pub(super) fn pairs() -> Pairs {
    let codes: Vec<String> = lang::codes().iter().map(|c| (*c).to_owned()).collect();
    Pairs::any_to_any(&codes)
}

/// The instructions: the languages by name, the placeholders kept, the formality.
fn instructions(src: &str, tgt: &str, markup: bool, formality: Formality) -> String {
    let mut out = format!(
        "You translate customer-support messages from {} to {}. Reply with the translation \
         only, with nothing before or after it.",
        lang::name(src),
        lang::name(tgt)
    );
    if markup {
        out.push_str(
            " The text is HTML-escaped and has empty tags such as <x0/>: keep every tag \
             exactly as written, where it belongs in the translation, and keep the escaping.",
        );
    }
    match formality {
        Formality::More => out.push_str(" Address the reader formally (the polite form of you)."),
        Formality::Less => {
            out.push_str(" Address the reader informally (the familiar form of you).")
        }
        Formality::Default => {}
    }
    out
}

pub(super) fn translate(
    e: &Engine,
    src: &str,
    tgt: &str,
    texts: &[String],
    markup: bool,
    formality: Formality,
) -> Result<Vec<String>, EngineError> {
    let model = if e.model.is_empty() {
        DEFAULT_MODEL
    } else {
        &e.model
    };
    let system = instructions(src, tgt, markup, formality);
    texts
        .iter()
        .map(|text| {
            let body = json!({
                "model": model,
                "temperature": 0,
                "messages": [
                    { "role": "system", "content": system },
                    { "role": "user", "content": text },
                ],
            });
            let reply = e.post_json(&format!("{}/chat/completions", e.url), &[], &body)?;
            reply
                .get("choices")
                .and_then(|c| c.get(0))
                .and_then(|c| c.get("message"))
                .and_then(|m| m.get("content"))
                .and_then(Value::as_str)
                .map(|s| s.trim().to_owned())
                .ok_or_else(|| {
                    e.failure("reply in the wrong shape (no choices[0].message.content)")
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_name_the_languages_and_the_formality() {
        let text = instructions("en", "de", true, Formality::More);
        assert!(text.contains("from English to German"), "{text}");
        assert!(
            text.contains("<x0/>") && text.contains("formally"),
            "{text}"
        );
        assert!(!instructions("en", "es", false, Formality::Default).contains("<x0/>"));
    }
}
