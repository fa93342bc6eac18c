//! Apertium APy: `GET /listPairs` (ISO 639-3 codes, varieties such as `por_BR`),
//! `GET /translate?langpair=eng|spa&q=…&markUnknown=yes` (a `POST` of the same form
//! when the URL would be long), `GET /list?q=analysers` and `POST /calcCoverage`.
//!
//! A batch of texts goes out in one request: the texts joined by `<p></p>`, which
//! APy's HTML deformatter turns into a sentence boundary that it copies verbatim
//! (if the boundaries do not all come back, each text is sent alone).

use crossdesk_sdk::http::Request;
use crossdesk_sdk::log;
use percent_encoding::utf8_percent_encode;
use serde_json::Value;

use super::{Engine, EngineError, QUERY_VALUE};
use crate::protect;

/// Separates the texts of one request (a block boundary for APy's HTML
/// deformatter; no space or dot, where APy may cut long input).
const SEPARATOR: &str = "<p></p>";

/// Above this URL length requests go as a `POST` form (APy refuses URLs near 64
/// KiB).
const MAX_GET_URL: usize = 16 * 1024;

/// What a text's own `*` travels as (U+2217 ASTERISK OPERATOR, which APy copies
/// as punctuation): a `*` in APy's answer is then always its mark of an unknown
/// word, and a customer's `*emphasis*` comes back whole.
const ASTERISK_STAND_IN: char = '\u{2217}';

pub(super) fn pairs(e: &Engine) -> Result<Vec<(String, String)>, EngineError> {
    let shape = |what: &str| e.failure(format!("reply in the wrong shape ({what})"));
    let reply = e.json(&e.send(Request::get(format!("{}/listPairs", e.url)))?)?;
    let list = reply
        .get("responseData")
        .and_then(Value::as_array)
        .ok_or_else(|| shape("no responseData list"))?;
    list.iter()
        .map(|p| {
            let s = p.get("sourceLanguage").and_then(Value::as_str);
            let t = p.get("targetLanguage").and_then(Value::as_str);
            match (s, t) {
                (Some(s), Some(t)) => Ok((s.to_owned(), t.to_owned())),
                _ => Err(shape("a pair without sourceLanguage/targetLanguage")),
            }
        })
        .collect()
}

/// The analysers (`{"eus": "eus-morph", …}`); none when the list cannot be had
/// (detection then goes without the engine's coverage).
pub(super) fn analysers(e: &Engine) -> Vec<String> {
    let url = format!("{}/list?q=analysers", e.url);
    match e.send(Request::get(url)).and_then(|r| e.json(&r)) {
        Ok(Value::Object(map)) => map.keys().cloned().collect(),
        Ok(_) => Vec::new(),
        Err(err) => {
            log::warn(&format!("no analyser list: {err}"));
            Vec::new()
        }
    }
}

/// The share of `text`'s words the analyser `code` knows.
pub(super) fn coverage(e: &Engine, code: &str, text: &str) -> Result<Option<f64>, EngineError> {
    let body = format!(
        "lang={}&q={}",
        utf8_percent_encode(code, QUERY_VALUE),
        utf8_percent_encode(text, QUERY_VALUE)
    );
    let request = Request::post(format!("{}/calcCoverage", e.url), body.into_bytes())
        .header("content-type", "application/x-www-form-urlencoded");
    let reply = e.json(&e.send(request)?)?;
    Ok(reply.get(0).and_then(Value::as_f64))
}

pub(super) fn translate(
    e: &Engine,
    s: &str,
    t: &str,
    texts: &[String],
    markup: bool,
    unknown: &mut Vec<String>,
) -> Result<Vec<String>, EngineError> {
    // APy reads HTML: plain text is escaped on the way in and unescaped on the way out.
    // A text that holds the asterisk's stand-in itself keeps its `*` as it is.
    let shields: Vec<bool> = texts
        .iter()
        .map(|text| !text.contains(ASTERISK_STAND_IN))
        .collect();
    let prepared: Vec<String> = texts
        .iter()
        .zip(&shields)
        .map(|(text, &shield)| {
            let text = if markup {
                text.clone()
            } else {
                protect::escape(text)
            };
            if shield {
                text.replace('*', &ASTERISK_STAND_IN.to_string())
            } else {
                text
            }
        })
        .collect();
    let mut finish = |out: &str, shield: bool| {
        let mut out = strip_apertium_marks(out, unknown);
        if shield {
            out = out.replace(ASTERISK_STAND_IN, "*");
        }
        if markup { out } else { protect::unescape(&out) }
    };
    if prepared.len() > 1 {
        let joined = one(e, s, t, &prepared.join(SEPARATOR))?;
        let parts: Vec<&str> = joined.split(SEPARATOR).collect();
        if parts.len() == prepared.len() {
            return Ok(parts
                .into_iter()
                .zip(&shields)
                .map(|(part, &shield)| finish(part, shield))
                .collect());
        }
        log::warn(&format!(
            "{}: {} of {} boundaries came back; translating the texts one by one",
            e.name(),
            parts.len().saturating_sub(1),
            prepared.len() - 1
        ));
    }
    prepared
        .iter()
        .zip(&shields)
        .map(|(text, &shield)| one(e, s, t, text).map(|out| finish(&out, shield)))
        .collect()
}

fn one(e: &Engine, s: &str, t: &str, q: &str) -> Result<String, EngineError> {
    let query = format!(
        "langpair={s}|{t}&q={}&markUnknown=yes",
        utf8_percent_encode(q, QUERY_VALUE)
    );
    let get = format!("{}/translate?{query}", e.url);
    let request = if get.len() <= MAX_GET_URL {
        Request::get(get)
    } else {
        Request::post(format!("{}/translate", e.url), query.into_bytes())
            .header("content-type", "application/x-www-form-urlencoded")
    };
    let reply = e.json(&e.send(request)?)?;
    let status = reply.get("responseStatus").and_then(Value::as_i64);
    let text = reply
        .get("responseData")
        .and_then(|d| d.get("translatedText"))
        .and_then(Value::as_str);
    match (status, text) {
        (Some(200) | None, Some(text)) => Ok(text.to_owned()),
        (Some(status), _) => Err(e.failure(format!(
            "responseStatus {status}: {}",
            reply
                .get("responseDetails")
                .and_then(Value::as_str)
                .unwrap_or("no details")
        ))),
        (None, None) => Err(e.failure("reply in the wrong shape (no responseData.translatedText)")),
    }
}

/// Removes the marks Apertium puts before words it could not handle (`*` for a
/// word it does not know, added to `unknown` in lower case when
/// [`crate::vocabulary::worth_keeping`]; `#` for a form it
/// could not generate; `@` for a word missing from the bilingual dictionary). The
/// text sent never has such a mark of its own: `#1234` and `@mentions` travel as
/// placeholders, and its `*` as [`ASTERISK_STAND_IN`].
fn strip_apertium_marks(text: &str, unknown: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let word_start =
            previous.is_none_or(|p| !p.is_alphanumeric() && !matches!(p, '#' | '@' | '&' | '*'));
        let before_letter = chars.peek().is_some_and(|n| n.is_alphabetic());
        if matches!(c, '#' | '@' | '*') && word_start && before_letter {
            if c == '*' {
                let word: String = chars
                    .clone()
                    .take_while(|n| n.is_alphanumeric() || *n == '\'')
                    .collect();
                let lower = word.to_lowercase();
                // The same rule as for other engines: a name is not kept.
                if crate::vocabulary::worth_keeping(&word) && !unknown.contains(&lower) {
                    unknown.push(lower);
                }
            }
            previous = Some(' ');
            continue;
        }
        out.push(c);
        previous = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apertium_marks_are_removed_and_unknown_words_kept() {
        let mut unknown = Vec::new();
        let mut strip = |text: &str| strip_apertium_marks(text, &mut unknown);
        assert_eq!(
            strip("Las llamadas de #motor en"),
            "Las llamadas de motor en"
        );
        assert_eq!(strip("@word y #1 y C# y a@b"), "word y #1 y C# y a@b");
        assert_eq!(strip("<x0/>#coche"), "<x0/>coche");
        assert_eq!(strip("&#xe9;"), "&#xe9;");
        assert_eq!(
            strip("My *celu does not *prende, 5*3"),
            "My celu does not prende, 5*3"
        );
        // Marked too, not kept: a name (capitalised), a short word.
        assert_eq!(strip("*Quispe *ya *prende"), "Quispe ya prende");
        assert_eq!(unknown, ["celu", "prende"]);
    }
}
