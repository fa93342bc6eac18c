//! The customers' own words: words an engine did not know in customer messages —
//! slang, brand nicknames, misspellings — collected per language, with the regions
//! they come from, how often, when, and a few short contexts (the words around
//! them, never a whole message unless the tenant's `unknown_words = messages`);
//! translations are suggested from the agents' corrections, and an admin accepts
//! one into the glossary (`accept-word`), which the next message uses.
//!
//! Apertium marks an unknown word with `*`; other engines hand it back untranslated
//! ([`untranslated`] finds those). A record lives under
//! `unknown/<language>/<word>` as JSON.

use std::collections::BTreeMap;

use crossdesk_sdk::kv::{self, KvError};
use serde::{Deserialize, Serialize};

use crate::memory;

/// Prefix of the records.
pub const UNKNOWN_PREFIX: &str = "unknown/";
/// Contexts kept per word.
pub const MAX_EXAMPLES: usize = 3;
/// Words kept on each side of the word in a context.
pub const CONTEXT_WORDS: usize = 3;
/// Unknown words recorded from one message, at most: a message of gibberish must
/// not cost hundreds of storage writes.
pub const MAX_PER_MESSAGE: usize = 8;
/// The longest word recorded, in characters (a longer "word" is no slang).
pub const MAX_WORD_CHARS: usize = 40;

/// The words worth recording out of `words`: letters in them, not too long, the
/// first [`MAX_PER_MESSAGE`].
///
/// ```
/// use translation::vocabulary::worth_recording;
/// let many: Vec<String> = (0..20).map(|i| format!("xq{i}z")).collect();
/// assert_eq!(worth_recording(&many).len(), 8);
/// assert!(worth_recording(&["1234".into(), "a".repeat(41)]).is_empty());
/// ```
pub fn worth_recording(words: &[String]) -> Vec<&str> {
    words
        .iter()
        .map(String::as_str)
        .filter(|w| w.chars().any(char::is_alphabetic) && w.chars().count() <= MAX_WORD_CHARS)
        .take(MAX_PER_MESSAGE)
        .collect()
}

/// What a tenant keeps of the messages an unknown word was seen in (setting
/// `unknown_words`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Nothing is collected.
    Off,
    /// Counts and the words around it (the default).
    Contexts,
    /// Counts and whole messages (the tenant opted in).
    Messages,
}

impl Keep {
    /// `off`, `contexts` or `messages`.
    pub fn parse(value: &str) -> Option<Keep> {
        match value.trim() {
            "off" => Some(Keep::Off),
            "contexts" => Some(Keep::Contexts),
            "messages" => Some(Keep::Messages),
            _ => None,
        }
    }
}

/// One seen context: the source words around the word and the engine's output
/// around it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub source: String,
    pub translation: String,
}

/// What is known of an unknown word.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unknown {
    /// The word, lower case.
    pub word: String,
    /// Its language (canonical code).
    pub language: String,
    /// Messages it was seen in.
    pub count: u64,
    /// Per region (the customer's country, or `-`), messages it was seen in.
    pub regions: BTreeMap<String, u64>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// The first few contexts.
    pub examples: Vec<Example>,
    /// Translations the agents' corrections suggest, as `target language:text`,
    /// with how many corrections suggested each.
    pub suggestions: BTreeMap<String, u32>,
}

impl Unknown {
    /// The suggestion most corrections made into `target`, if any.
    pub fn best_suggestion(&self, target: &str) -> Option<&str> {
        let prefix = format!("{target}:");
        self.suggestions
            .iter()
            .filter_map(|(k, n)| k.strip_prefix(&prefix).map(|text| (text, *n)))
            .max_by_key(|(_, n)| *n)
            .map(|(text, _)| text)
    }
}

/// The record's key.
///
/// ```
/// assert_eq!(translation::vocabulary::key("es", "Celu"), "unknown/es/celu");
/// ```
pub fn key(language: &str, word: &str) -> String {
    format!("{UNKNOWN_PREFIX}{language}/{}", word.to_lowercase())
}

/// The words of `text`, lower case (letters, digits and inner apostrophes).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Up to [`CONTEXT_WORDS`] words each side of the first `word` in `text`, lower
/// case; a word with a digit in it (a phone, an order or a house number) is kept
/// as `#`, and a capitalised one (likely a name) as `_`.
///
/// ```
/// use translation::vocabulary::window;
/// assert_eq!(window("Hola, se me rompió el celu ayer por la tarde", "celu").as_deref(), Some("me rompió el celu ayer por la"));
/// assert_eq!(window("llamen al 5551234 mi celu no prende", "celu").as_deref(), Some("al # mi celu no prende"));
/// assert_eq!(window("Soy Ana Quispe, mi celu no prende", "celu").as_deref(), Some("_ _ mi celu no prende"));
/// ```
pub fn window(text: &str, word: &str) -> Option<String> {
    let all: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .collect();
    let word = word.to_lowercase();
    let at = all.iter().position(|w| w.to_lowercase() == word)?;
    let from = at.saturating_sub(CONTEXT_WORDS);
    let to = (at + CONTEXT_WORDS + 1).min(all.len());
    let shown: Vec<String> = all[from..to]
        .iter()
        .map(|w| {
            if w.chars().any(|c| c.is_ascii_digit()) {
                "#".to_owned()
            } else if w.chars().next().is_some_and(char::is_uppercase) {
                "_".to_owned()
            } else {
                w.to_lowercase()
            }
        })
        .collect();
    Some(shown.join(" "))
}

/// Whether a word no engine knew is worth keeping, as it was written: not
/// capitalised (likely a name, a customer's or a street's), at least four
/// letters, no digit in it.
///
/// ```
/// use translation::vocabulary::worth_keeping;
/// assert!(worth_keeping("celu"));
/// assert!(!worth_keeping("Quispe") && !worth_keeping("ok") && !worth_keeping("a1b2c3"));
/// ```
pub fn worth_keeping(word: &str) -> bool {
    !word.chars().next().is_some_and(char::is_uppercase)
        && word.chars().filter(|c| c.is_alphabetic()).count() >= 4
        && !word.chars().any(|c| c.is_ascii_digit())
}

/// Words of `source` an engine handed back as they were in `output` (whole words,
/// ignoring case): lower case in the source (a capital is likely a name), at least
/// four letters, not a word the output's language writes often
/// ([`crossdesk_text::detect::WORDS`]).
///
/// ```
/// use translation::vocabulary::untranslated;
/// assert_eq!(untranslated("se me rompió el celu", "my celu broke", "en"), vec!["celu"]);
/// assert!(untranslated("Llamé a Telcel", "I called Telcel", "en").is_empty());
/// ```
pub fn untranslated(source: &str, output: &str, target: &str) -> Vec<String> {
    let out: Vec<String> = words(output);
    let common: Vec<&str> = crossdesk_text::detect::WORDS
        .iter()
        .filter(|(l, _)| *l == target)
        .flat_map(|(_, list)| list.split(' '))
        .collect();
    let mut found = Vec::new();
    for raw in source.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
        let lower = raw.to_lowercase();
        if !worth_keeping(raw) || common.contains(&lower.as_str()) || found.contains(&lower) {
            continue;
        }
        if out.contains(&lower) {
            found.push(lower);
        }
    }
    found
}

/// Records that `word` (of `language`) was not known in a message from `region`,
/// with its context in `source` and the engine's `output`.
pub fn record(
    language: &str,
    region: &str,
    word: &str,
    source: &str,
    output: &str,
    keep: Keep,
    now_ms: i64,
) -> Result<(), KvError> {
    if keep == Keep::Off {
        return Ok(());
    }
    let word = word.to_lowercase();
    let example = Example {
        source: match keep {
            Keep::Messages => source.trim().to_owned(),
            _ => window(source, &word).unwrap_or_default(),
        },
        translation: match keep {
            Keep::Messages => output.trim().to_owned(),
            _ => window(output, &word).unwrap_or_default(),
        },
    };
    kv::update(&key(language, &word), |old| {
        let mut unknown: Unknown = old
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_else(|| Unknown {
                word: word.clone(),
                language: language.to_owned(),
                first_seen_ms: now_ms,
                ..Unknown::default()
            });
        unknown.count = unknown.count.saturating_add(1);
        let seen = unknown.regions.entry(region.to_owned()).or_default();
        *seen = seen.saturating_add(1);
        unknown.last_seen_ms = now_ms;
        if unknown.examples.len() < MAX_EXAMPLES && !unknown.examples.contains(&example) {
            unknown.examples.push(example.clone());
        }
        serde_json::to_vec(&unknown).ok()
    })?;
    Ok(())
}

/// The words between the anchors of `word` in one of `examples`' translations,
/// found in `corrected`: what an agent wrote where the engine left the word.
///
/// ```
/// use translation::vocabulary::{suggestion, Example};
/// let seen = [Example { source: "se me rompió el celu".into(), translation: "it broke me the celu and".into() }];
/// assert_eq!(suggestion("celu", &seen, "It broke me the cellphone and I need help").as_deref(), Some("cellphone"));
/// ```
pub fn suggestion(word: &str, examples: &[Example], corrected: &str) -> Option<String> {
    let corrected = words(corrected);
    for example in examples {
        let output = words(&example.translation);
        let Some(at) = output.iter().position(|w| w == word) else {
            continue;
        };
        let left = &output[at.saturating_sub(2)..at];
        let right = &output[at + 1..(at + 3).min(output.len())];
        // The left anchor, then up to three words, then the right anchor.
        for start in 0..=corrected.len() {
            let after_left = start + left.len();
            if corrected.get(start..after_left) != Some(left) {
                continue;
            }
            for len in 1..=3 {
                let end = after_left + len;
                let tail = corrected.get(end..end + right.len());
                if tail == Some(right) && !right.is_empty() {
                    let found = corrected[after_left..end].join(" ");
                    if found != word {
                        return Some(found);
                    }
                }
            }
        }
    }
    None
}

/// Learns from an agent's correction of a translation from `src` into `tgt`: each
/// unknown word of `source` gets the suggestion the correction makes for it.
/// Returns the suggestions made.
pub fn learn_from_correction(
    src: &str,
    tgt: &str,
    source: &str,
    corrected: &str,
) -> Result<Vec<(String, String)>, KvError> {
    let mut learned = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for word in words(source) {
        if seen.contains(&word) {
            continue;
        }
        seen.push(word.clone());
        let key = key(src, &word);
        let Some(bytes) = kv::get(&key)? else {
            continue;
        };
        let Ok(unknown) = serde_json::from_slice::<Unknown>(&bytes) else {
            continue;
        };
        let Some(found) = suggestion(&word, &unknown.examples, corrected) else {
            continue;
        };
        kv::update(&key, |old| {
            let mut unknown: Unknown = old.and_then(|b| serde_json::from_slice(b).ok())?;
            let n = unknown
                .suggestions
                .entry(format!("{tgt}:{found}"))
                .or_default();
            *n = n.saturating_add(1);
            serde_json::to_vec(&unknown).ok()
        })?;
        learned.push((word, found));
    }
    Ok(learned)
}

/// The most frequent unknown words, of `language` if given, most seen first.
pub fn top(language: Option<&str>, at_most: usize) -> Result<Vec<Unknown>, KvError> {
    let prefix = match language {
        Some(l) => format!("{UNKNOWN_PREFIX}{l}/"),
        None => UNKNOWN_PREFIX.to_owned(),
    };
    let mut all: Vec<Unknown> = Vec::new();
    for key in kv::list_keys(&prefix)? {
        if let Some(bytes) = kv::get(&key)?
            && let Ok(unknown) = serde_json::from_slice(&bytes)
        {
            all.push(unknown);
        }
    }
    all.sort_by(|a, b| b.count.cmp(&a.count).then(a.word.cmp(&b.word)));
    all.truncate(at_most);
    Ok(all)
}

/// Accepts `translation` for `word` from `src` into `tgt`: a glossary term from now
/// on, and the word no longer listed.
pub fn accept(src: &str, tgt: &str, word: &str, translation: &str) -> Result<(), KvError> {
    memory::put_term(src, tgt, &word.to_lowercase(), translation.trim())?;
    kv::delete(&key(src, word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossdesk_sdk::testing::MockHost;

    #[test]
    fn a_word_is_counted_per_region_with_short_contexts_only() {
        let _host = MockHost::new().grant_kv().install();
        let message = "Hola, buenas tardes, se me rompió el celu ayer y no sé qué hacer con él";
        for (region, at) in [("MX", 1), ("MX", 2), ("AR", 3)] {
            record(
                "es",
                region,
                "celu",
                message,
                "my celu broke",
                Keep::Contexts,
                at,
            )
            .unwrap();
        }
        let top = top(Some("es"), 10).unwrap();
        assert_eq!(top.len(), 1);
        let celu = &top[0];
        assert_eq!(
            (celu.count, celu.first_seen_ms, celu.last_seen_ms),
            (3, 1, 3)
        );
        assert_eq!(celu.regions["MX"], 2);
        assert_eq!(celu.examples.len(), 1, "the same context once");
        assert!(
            !celu.examples[0].source.contains("buenas"),
            "{:?}",
            celu.examples
        );
    }

    #[test]
    fn nothing_is_kept_when_the_tenant_says_off() {
        let host = MockHost::new().grant_kv().install();
        record("es", "MX", "celu", "el celu", "the celu", Keep::Off, 1).unwrap();
        assert_eq!(host.kv_value("unknown/es/celu"), None);
    }

    #[test]
    fn a_correction_suggests_and_accepting_makes_a_glossary_term() {
        let host = MockHost::new().grant_kv().install();
        record(
            "es",
            "MX",
            "celu",
            "mi celu no prende",
            "my celu does not turn on",
            Keep::Contexts,
            1,
        )
        .unwrap();
        let learned = learn_from_correction(
            "es",
            "en",
            "mi celu no prende",
            "My cellphone does not turn on",
        )
        .unwrap();
        assert_eq!(learned, vec![("celu".to_owned(), "cellphone".to_owned())]);
        let top = top(None, 5).unwrap();
        assert_eq!(top[0].best_suggestion("en"), Some("cellphone"));
        accept("es", "en", "celu", "cellphone").unwrap();
        assert_eq!(
            host.kv_value("glossary/term/es/en/celu"),
            Some(b"cellphone".to_vec())
        );
        assert!(self::top(None, 5).unwrap().is_empty());
    }
}
