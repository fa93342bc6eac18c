//! The customers' own words: words an engine did not know in customer messages —
//! slang, brand nicknames, misspellings — collected per language, with the regions
//! they come from, how often, when, and a few short contexts (the words around
//! them, never a whole message unless the tenant's `unknown_words = messages`);
//! translations are suggested from the agents' corrections, and an admin accepts
//! one into the glossary (`accept-word`), which the next message uses.
//!
//! Apertium marks an unknown word with `*`; other engines hand it back untranslated
//! ([`untranslated`] finds those). A record is JSON ([`Unknown`]):
//!
//! | key | holds |
//! | --- | --- |
//! | `unknown-once/<period>/<language>/<word>` | a word seen in one message so far ([`ONCE`]) |
//! | `unknown-once-periods` | the periods holding such words |
//! | `unknown/<language>/<word>` | a word seen again, kept until an admin accepts it |
//!
//! Most words an engine does not know are seen once (a typo, a name written in
//! lower case, gibberish): they are forgotten after one to two periods of 30 days
//! ([`crate::periods`]) unless seen again, so that storage holds the words
//! customers keep using, not every word ever misspelt.

use std::collections::{BTreeMap, BTreeSet};

use crossdesk_sdk::kv::{self, KvError};
use serde::{Deserialize, Serialize};

use crate::memory;
use crate::periods::{self, Periodic, SWEEP_BUDGET, period_of};

/// Prefix of the words seen again.
pub const UNKNOWN_PREFIX: &str = "unknown/";
/// The words seen once so far.
pub const ONCE: Periodic = Periodic {
    prefix: "unknown-once/",
    list_key: "unknown-once-periods",
};
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
    /// A hash of the event it was last seen in ([`crate::periods::hash`] of its
    /// id; not the id, which names the customer's comment): the same event run
    /// again right after (delivered again after a failure) is not another
    /// message.
    #[serde(default)]
    pub last_event: u32,
}

/// A customer's message an unknown word was seen in.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// Its event's id.
    pub event_id: &'a str,
    /// The customer's country, or `-`.
    pub region: &'a str,
    /// What the customer wrote.
    pub source: &'a str,
    /// What the engine made of it.
    pub output: &'a str,
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

/// The key of a word seen again.
///
/// ```
/// assert_eq!(translation::vocabulary::key("es", "Celu"), "unknown/es/celu");
/// ```
pub fn key(language: &str, word: &str) -> String {
    format!("{UNKNOWN_PREFIX}{language}/{}", word.to_lowercase())
}

/// The key of a word seen once, in `period`.
///
/// ```
/// assert_eq!(translation::vocabulary::once_key(680, "es", "Celu"), "unknown-once/000680/es/celu");
/// ```
pub fn once_key(period: i64, language: &str, word: &str) -> String {
    ONCE.key(period, &format!("{language}/{}", word.to_lowercase()))
}

/// Where `word` may be recorded at `now_ms`: seen again, then seen once in this
/// period and in the one before.
fn places(language: &str, word: &str, now_ms: i64) -> [String; 3] {
    let period = period_of(now_ms);
    [
        key(language, word),
        once_key(period, language, word),
        once_key(period.saturating_sub(1), language, word),
    ]
}

fn decode(bytes: Option<&[u8]>) -> Option<Unknown> {
    bytes.and_then(|b| serde_json::from_slice(b).ok())
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

/// Records that `word` (of `language`) was not known in `message`, with its
/// context. The event it was last recorded for counts once, however often it
/// runs in a row (an event run again after another one saw the word counts
/// again: a record remembers one event).
pub fn record(
    language: &str,
    word: &str,
    message: &Message<'_>,
    keep: Keep,
    now_ms: i64,
) -> Result<(), KvError> {
    if keep == Keep::Off {
        return Ok(());
    }
    let Message {
        event_id,
        region,
        source,
        output,
    } = *message;
    let event = crate::periods::hash(event_id);
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
    let seen = |old: Option<Unknown>| {
        let mut unknown = old.unwrap_or_else(|| Unknown {
            word: word.clone(),
            language: language.to_owned(),
            first_seen_ms: now_ms,
            ..Unknown::default()
        });
        unknown.count = unknown.count.saturating_add(1);
        let in_region = unknown.regions.entry(region.to_owned()).or_default();
        *in_region = in_region.saturating_add(1);
        unknown.last_seen_ms = now_ms;
        unknown.last_event = event;
        if unknown.examples.len() < MAX_EXAMPLES && !unknown.examples.contains(&example) {
            unknown.examples.push(example.clone());
        }
        serde_json::to_vec(&unknown).ok()
    };
    let this_event = |old: Option<&[u8]>| decode(old).is_some_and(|u| u.last_event == event);
    // A record of this very event stays as it is.
    let seen_unless_again = |old: Option<&[u8]>| match this_event(old) {
        true => old.map(<[u8]>::to_vec),
        false => seen(decode(old)),
    };
    let [again, once, once_before] = places(language, &word, now_ms);
    if kv::get(&again)?.is_some() {
        kv::update(&again, seen_unless_again)?;
        return Ok(());
    }
    for earlier in [&once, &once_before] {
        let Some(bytes) = kv::get(earlier)? else {
            continue;
        };
        if this_event(Some(&bytes)) {
            // Not seen again: the same message, run again.
            return Ok(());
        }
        // Seen again: kept from now on. Another event may have moved it first;
        // then this sighting is added to what that one wrote.
        let promoted = seen(decode(Some(&bytes)));
        if !kv::compare_and_swap(&again, None, promoted.as_deref())? {
            kv::update(&again, seen_unless_again)?;
        }
        kv::delete(earlier)?;
        return Ok(());
    }
    let mut new = false;
    kv::update(&once, |old| {
        new = old.is_none();
        seen_unless_again(old)
    })?;
    if new {
        let period = period_of(now_ms);
        ONCE.list(period)?;
        if periods::sweeps(&format!("{language}/{word}")) {
            ONCE.sweep(period, SWEEP_BUDGET)?;
        }
    }
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

/// The record of `word` at `now_ms` and where it is, if it is recorded.
fn find(language: &str, word: &str, now_ms: i64) -> Result<Option<(String, Unknown)>, KvError> {
    for place in places(language, word, now_ms) {
        if let Some(unknown) = decode(kv::get(&place)?.as_deref()) {
            return Ok(Some((place, unknown)));
        }
    }
    Ok(None)
}

/// Learns from an agent's correction, at `now_ms`, of a translation from `src`
/// into `tgt`: each unknown word of `source` gets the suggestion the correction
/// makes for it. Returns the suggestions made.
pub fn learn_from_correction(
    src: &str,
    tgt: &str,
    source: &str,
    corrected: &str,
    now_ms: i64,
) -> Result<Vec<(String, String)>, KvError> {
    let mut learned = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for word in words(source) {
        if seen.contains(&word) {
            continue;
        }
        seen.push(word.clone());
        let Some((key, unknown)) = find(src, &word, now_ms)? else {
            continue;
        };
        let Some(found) = suggestion(&word, &unknown.examples, corrected) else {
            continue;
        };
        kv::update(&key, |old| {
            let mut unknown = decode(old)?;
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

/// The most frequent unknown words at `now_ms`, of `language` if given, most
/// seen first: those seen again, then those seen once in this period or the last.
pub fn top(language: Option<&str>, at_most: usize, now_ms: i64) -> Result<Vec<Unknown>, KvError> {
    let within = |prefix: String| match language {
        Some(l) => format!("{prefix}{l}/"),
        None => prefix,
    };
    let period = period_of(now_ms);
    let mut prefixes = vec![within(UNKNOWN_PREFIX.to_owned())];
    for live in [period.saturating_sub(1), period] {
        prefixes.push(within(ONCE.period_prefix(live)));
    }
    let mut all: Vec<Unknown> = Vec::new();
    // A word moved by one event while another wrote it once again is listed once.
    let mut listed: BTreeSet<(String, String)> = BTreeSet::new();
    for prefix in prefixes {
        for key in kv::list_keys(&prefix)? {
            if let Some(unknown) = decode(kv::get(&key)?.as_deref())
                && listed.insert((unknown.language.clone(), unknown.word.clone()))
            {
                all.push(unknown);
            }
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
    kv::delete(&key(src, word))?;
    for period in ONCE.listed()? {
        kv::delete(&once_key(period, src, word))?;
    }
    Ok(())
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
            let id = format!("e-{at}");
            let seen_in = in_message(&id, region, message, "my celu broke");
            record("es", "celu", &seen_in, Keep::Contexts, at).unwrap();
        }
        let top = top(Some("es"), 10, 3).unwrap();
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
        let seen_in = in_message("e-1", "MX", "el celu", "the celu");
        record("es", "celu", &seen_in, Keep::Off, 1).unwrap();
        assert_eq!(host.kv_value("unknown/es/celu"), None);
    }

    #[test]
    fn a_correction_suggests_and_accepting_makes_a_glossary_term() {
        let host = MockHost::new().grant_kv().install();
        let seen_in = in_message("e-1", "MX", "mi celu no prende", "my celu does not turn on");
        record("es", "celu", &seen_in, Keep::Contexts, 1).unwrap();
        let learned = learn_from_correction(
            "es",
            "en",
            "mi celu no prende",
            "My cellphone does not turn on",
            2,
        )
        .unwrap();
        assert_eq!(learned, vec![("celu".to_owned(), "cellphone".to_owned())]);
        let top = top(None, 5, 2).unwrap();
        assert_eq!(top[0].best_suggestion("en"), Some("cellphone"));
        accept("es", "en", "celu", "cellphone").unwrap();
        assert_eq!(
            host.kv_value("glossary/term/es/en/celu"),
            Some(b"cellphone".to_vec())
        );
        assert!(self::top(None, 5, 2).unwrap().is_empty());
        assert_eq!(host.kv_value(&once_key(0, "es", "celu")), None);
    }

    const PERIOD_MS: i64 = crate::periods::PERIOD_DAYS * 86_400_000;

    fn seen(word: &str, at: i64) {
        let text = format!("mi {word} no prende");
        let id = format!("e-{word}-{at}");
        record(
            "es",
            word,
            &in_message(&id, "MX", &text, &text),
            Keep::Contexts,
            at,
        )
        .unwrap();
    }

    /// A message from `region`, of event `event_id`.
    fn in_message<'a>(
        event_id: &'a str,
        region: &'a str,
        source: &'a str,
        output: &'a str,
    ) -> Message<'a> {
        Message {
            event_id,
            region,
            source,
            output,
        }
    }

    /// An event run again (delivered again after a failure) is one message: a
    /// word seen once is not taken as seen again, one kept is not counted twice.
    #[test]
    fn an_event_run_again_counts_once() {
        let host = MockHost::new().grant_kv().install();
        let message = in_message("e-1", "MX", "mi celu no prende", "my celu does not turn on");
        for _ in 0..2 {
            record("es", "celu", &message, Keep::Contexts, 10 * PERIOD_MS).unwrap();
        }
        assert!(
            host.kv_value(&once_key(10, "es", "celu")).is_some(),
            "seen once"
        );
        assert_eq!(host.kv_value("unknown/es/celu"), None);
        let other = in_message("e-2", "MX", "mi celu no prende", "my celu does not turn on");
        for _ in 0..2 {
            record("es", "celu", &other, Keep::Contexts, 10 * PERIOD_MS + 1).unwrap();
        }
        let kept: Unknown =
            serde_json::from_slice(&host.kv_value("unknown/es/celu").expect("kept")).unwrap();
        assert_eq!((kept.count, kept.regions["MX"]), (2, 2), "e-1 and e-2");
    }

    #[test]
    fn a_word_seen_again_within_two_periods_is_kept() {
        let host = MockHost::new().grant_kv().install();
        seen("celu", 10 * PERIOD_MS);
        assert!(host.kv_value(&once_key(10, "es", "celu")).is_some());
        assert_eq!(host.kv_value("unknown-once-periods"), Some(b"10".to_vec()));
        seen("celu", 11 * PERIOD_MS + 5);
        assert_eq!(host.kv_value(&once_key(10, "es", "celu")), None);
        let kept: Unknown =
            serde_json::from_slice(&host.kv_value("unknown/es/celu").expect("kept")).unwrap();
        assert_eq!(
            (kept.count, kept.first_seen_ms, kept.last_seen_ms),
            (2, 10 * PERIOD_MS, 11 * PERIOD_MS + 5)
        );
        // Kept for good: years later it is still counted.
        seen("celu", 90 * PERIOD_MS);
        assert_eq!(top(Some("es"), 5, 90 * PERIOD_MS).unwrap()[0].count, 3);
    }

    #[test]
    fn words_seen_once_are_forgotten_and_swept() {
        let host = MockHost::new().grant_kv().install();
        let typos: Vec<String> = (0..100).map(|i| format!("tipo{i}x")).collect();
        for typo in &typos {
            seen(typo, 10 * PERIOD_MS);
        }
        seen("celu", 10 * PERIOD_MS);
        seen("celu", 10 * PERIOD_MS + 1);
        assert_eq!(top(None, 500, 11 * PERIOD_MS).unwrap().len(), 101);
        // Two periods on: only the word seen again is listed, and new words
        // sweep the old period's keys away.
        assert_eq!(top(None, 500, 12 * PERIOD_MS).unwrap().len(), 1);
        let mut new_words = (0..)
            .map(|i| format!("nuevo{i}x"))
            .filter(|w| crate::periods::sweeps(&format!("es/{w}")));
        for _ in 0..2 {
            seen(&new_words.next().expect("a sweeping word"), 12 * PERIOD_MS);
        }
        for typo in &typos {
            assert_eq!(host.kv_value(&once_key(10, "es", typo)), None, "{typo}");
        }
        assert_eq!(host.kv_value("unknown-once-periods"), Some(b"12".to_vec()));
        assert!(host.kv_value("unknown/es/celu").is_some());
    }

    #[test]
    fn a_correction_finds_a_word_seen_once_in_the_last_period() {
        let _host = MockHost::new().grant_kv().install();
        let seen_in = in_message("e-1", "MX", "mi celu no prende", "my celu does not turn on");
        record("es", "celu", &seen_in, Keep::Contexts, 10 * PERIOD_MS).unwrap();
        let learned = learn_from_correction(
            "es",
            "en",
            "mi celu no prende",
            "My cellphone does not turn on",
            11 * PERIOD_MS,
        )
        .unwrap();
        assert_eq!(learned, vec![("celu".to_owned(), "cellphone".to_owned())]);
        let listed = top(None, 5, 11 * PERIOD_MS).unwrap();
        assert_eq!(listed[0].best_suggestion("en"), Some("cellphone"));
    }
}
