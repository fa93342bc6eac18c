//! What the plugin keeps in its key-value scope, and how.
//!
//! The layout is public so that what is written outside the event path (the TMX and
//! term-list imports of [`crate::exchange`]) is exactly what the plugin reads. The
//! pure functions (keys, encoding, parsing) need nothing but this crate; the
//! functions that read and write go through the SDK's [`kv`], which only a plugin
//! (or a test's `MockHost`) can call.
//!
//! | key | value | written by |
//! | --- | --- | --- |
//! | `tm/<src>/<tgt>/<sha256>` | JSON [`TmEntry`] `{"source","target","origin"}` | corrections, imports |
//! | `glossary/keep/<term>` | empty (or anything) | admins: never translate `<term>` |
//! | `glossary/term/<src>/<tgt>/<source term>` | the target term, UTF-8 | corrections' `terms`, admins |
//! | `engine-pairs/<engine>-<URL hash>` | JSON [`PairCache`] | the engine client, at most hourly |
//!
//! Each ticket's language is kept apart, while the ticket is active: see
//! [`crate::ticket_language`]; so are the words no engine knew
//! ([`crate::vocabulary`]).
//!
//! `<src>` is an ISO 639-1 code (`en`, `es`); `<tgt>` a [`standard`]: the code, or
//! `zh-Hant` for Traditional Chinese. `<sha256>` is the lower-case
//! hex SHA-256 of the [`normalize`]d source text. Terms are stored as written; the
//! plugin matches them ignoring case, on word boundaries.
//!
//! Writes happen only when a value changes: the host drops cached plugin results
//! when the plugin writes, so a rewrite of the same value would cost every cache.

use crossdesk_sdk::kv::{self, KvError};
use crossdesk_sdk::log;

use crate::engine::Variant;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The written standard a memory entry or a glossary term is kept for: `language`,
/// or `zh-Hant` for Traditional Chinese. What was corrected for readers of
/// Traditional characters is not given to readers of Simplified ones, another
/// script; Portugal's Portuguese and British English share their language's
/// entries (the words are the same, mostly), as do a team's agents whatever the
/// region they name.
///
/// ```
/// use translation::{engine::Variant, memory::standard};
/// assert_eq!(standard("zh", Some(Variant::TraditionalChinese)), "zh-Hant");
/// assert_eq!(standard("zh", None), "zh");
/// assert_eq!(standard("pt", Some(Variant::EuropeanPortuguese)), "pt");
/// assert_eq!(standard("es", Some(Variant::TraditionalChinese)), "es");
/// ```
pub fn standard(language: &str, variant: Option<Variant>) -> String {
    match variant {
        Some(Variant::TraditionalChinese) if language == "zh" => "zh-Hant".to_owned(),
        _ => language.to_owned(),
    }
}

/// The [`standard`] a language code names, if the language is known.
///
/// ```
/// use translation::memory::standard_of_code;
/// assert_eq!(standard_of_code("zh-TW").as_deref(), Some("zh-Hant"));
/// assert_eq!(standard_of_code("zh_Hant").as_deref(), Some("zh-Hant"));
/// assert_eq!(standard_of_code("zh-CN").as_deref(), Some("zh"));
/// assert_eq!(standard_of_code("pt-PT").as_deref(), Some("pt"));
/// assert_eq!(standard_of_code("spa").as_deref(), Some("es"));
/// assert_eq!(standard_of_code("xx"), None);
/// ```
pub fn standard_of_code(code: &str) -> Option<String> {
    let language = crate::lang::from_code(code)?;
    Some(standard(language, Variant::of_locale(code)))
}

/// The language a [`standard`] is of: `zh-Hant` → `zh`.
///
/// ```
/// assert_eq!(translation::memory::language_of("zh-Hant"), "zh");
/// assert_eq!(translation::memory::language_of("es"), "es");
/// ```
pub fn language_of(standard: &str) -> &str {
    standard.split('-').next().unwrap_or(standard)
}

/// A read of the plugin's storage that may fail without stopping the translation
/// (storage not granted or failing): logged, and treated as "nothing stored".
pub(crate) fn or_warn<T: Default>(what: &str, result: Result<T, KvError>) -> T {
    result.unwrap_or_else(|e| {
        log::warn(&format!("{what}: {e}"));
        T::default()
    })
}

/// Prefix of translation-memory keys.
///
/// ```
/// assert!(translation::memory::tm_key("en", "es", "Hi").starts_with(translation::memory::TM_PREFIX));
/// ```
pub const TM_PREFIX: &str = "tm/";

/// Every character of a memory key past [`TM_PREFIX`]: the pair's canonical
/// codes, `/`, and the source's hex digest ([`kv::list_all_keys`] lists by them
/// a memory larger than one listing).
pub const TM_KEY_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789/-_";

/// Prefix of do-not-translate terms.
///
/// ```
/// assert_eq!(translation::memory::keep_key("Crossdesk"), format!("{}Crossdesk", translation::memory::KEEP_PREFIX));
/// ```
pub const KEEP_PREFIX: &str = "glossary/keep/";

/// Prefix of forced terms (followed by `<src>/<tgt>/`).
///
/// ```
/// assert!(translation::memory::term_prefix("en", "es").starts_with(translation::memory::TERM_PREFIX));
/// ```
pub const TERM_PREFIX: &str = "glossary/term/";

/// Prefix of the engines' cached language-pair lists.
///
/// ```
/// assert_eq!(translation::memory::pairs_key("apertium"), format!("{}apertium", translation::memory::PAIRS_PREFIX));
/// ```
pub const PAIRS_PREFIX: &str = "engine-pairs/";

/// The form of a source text the memory matches on: trimmed, every run of
/// whitespace (newlines included) one space. Case and punctuation are kept.
///
/// ```
/// use translation::memory::normalize;
/// assert_eq!(normalize("  Where is\n\tmy  order? "), "Where is my order?");
/// assert_ne!(normalize("Hello"), normalize("hello"));
/// ```
pub fn normalize(source: &str) -> String {
    source.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The lower-case hex SHA-256 of the normalized `source`.
///
/// ```
/// use translation::memory::source_hash;
/// assert_eq!(source_hash("a  b"), source_hash(" a b"));
/// assert_eq!(source_hash("").len(), 64);
/// ```
pub fn source_hash(source: &str) -> String {
    hex::encode(Sha256::digest(normalize(source).as_bytes()))
}

/// The translation-memory key of `source` translated from `src` to `tgt`.
///
/// ```
/// let key = translation::memory::tm_key("en", "es", "Thank you!");
/// assert!(key.starts_with("tm/en/es/"));
/// assert_eq!(key.len(), "tm/en/es/".len() + 64);
/// ```
pub fn tm_key(src: &str, tgt: &str, source: &str) -> String {
    format!("{}{}", tm_prefix(src, tgt), source_hash(source))
}

/// The prefix of every memory entry from `src` to `tgt` (for listing, e.g. a TMX
/// export).
///
/// ```
/// assert_eq!(translation::memory::tm_prefix("fr", "en"), "tm/fr/en/");
/// ```
pub fn tm_prefix(src: &str, tgt: &str) -> String {
    format!("{TM_PREFIX}{src}/{tgt}/")
}

/// The key marking `term` as never to be translated (any pair).
///
/// ```
/// assert_eq!(translation::memory::keep_key("Crossdesk Pro"), "glossary/keep/Crossdesk Pro");
/// ```
pub fn keep_key(term: &str) -> String {
    format!("{KEEP_PREFIX}{term}")
}

/// The prefix of the forced terms from `src` to `tgt`.
///
/// ```
/// assert_eq!(translation::memory::term_prefix("en", "es"), "glossary/term/en/es/");
/// ```
pub fn term_prefix(src: &str, tgt: &str) -> String {
    format!("{TERM_PREFIX}{src}/{tgt}/")
}

/// The key of the forced translation of `term` from `src` to `tgt`.
///
/// ```
/// assert_eq!(translation::memory::term_key("en", "es", "refund"), "glossary/term/en/es/refund");
/// ```
pub fn term_key(src: &str, tgt: &str, term: &str) -> String {
    format!("{}{term}", term_prefix(src, tgt))
}

/// The key of an engine's cached pair list.
///
/// ```
/// assert_eq!(translation::memory::pairs_key("libretranslate"), "engine-pairs/libretranslate");
/// ```
pub fn pairs_key(engine: &str) -> String {
    format!("{PAIRS_PREFIX}{engine}")
}

/// A value that could not be decoded.
///
/// ```
/// let err = translation::memory::TmEntry::decode(b"{").unwrap_err();
/// assert!(err.to_string().starts_with("undecodable"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "undecodable stored value: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// One translation-memory entry: a source text and its approved translation.
///
/// ```
/// use translation::memory::TmEntry;
/// let entry = TmEntry::new("Thanks!", "¡Gracias!", "correction");
/// assert_eq!(TmEntry::decode(&entry.encode()).unwrap(), entry);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmEntry {
    /// The source text as it was submitted (matching uses its [`normalize`]d form).
    pub source: String,
    /// The translation to use.
    pub target: String,
    /// Where it came from: `correction` (an agent's, optionally `correction:<agent
    /// id>`), `import` (a TMX or term-list import), ...
    pub origin: String,
}

impl TmEntry {
    /// An entry.
    ///
    /// ```
    /// let e = translation::memory::TmEntry::new("a", "b", "import");
    /// assert_eq!(e.origin, "import");
    /// ```
    pub fn new(
        source: impl Into<String>,
        target: impl Into<String>,
        origin: impl Into<String>,
    ) -> TmEntry {
        TmEntry {
            source: source.into(),
            target: target.into(),
            origin: origin.into(),
        }
    }

    /// The stored form: compact JSON.
    ///
    /// ```
    /// let e = translation::memory::TmEntry::new("a", "b", "import");
    /// assert_eq!(e.encode(), br#"{"source":"a","target":"b","origin":"import"}"#);
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        // Serializing three strings cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a stored entry.
    ///
    /// ```
    /// let e = translation::memory::TmEntry::decode(br#"{"source":"a","target":"b","origin":"x"}"#).unwrap();
    /// assert_eq!(e.target, "b");
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<TmEntry, DecodeError> {
        serde_json::from_slice(bytes).map_err(|e| DecodeError(e.to_string()))
    }
}

/// An engine's language pairs as last fetched, in the engine's own codes.
///
/// ```
/// use translation::memory::PairCache;
/// let cache = PairCache { url: "http://127.0.0.1:2737".into(), fetched_at_ms: 5, pairs: vec![("eng".into(), "spa".into())], analysers: vec![], languages: vec![] };
/// assert_eq!(PairCache::decode(&cache.encode()).unwrap(), cache);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairCache {
    /// The engine URL the list came from; another URL means another list.
    pub url: String,
    /// When it was fetched (`clock::now_ms()`).
    pub fetched_at_ms: i64,
    /// `(source, target)` codes as the engine spells them, sorted.
    pub pairs: Vec<(String, String)>,
    /// Languages the engine has an analyser for, as it spells them (Apertium's
    /// `/list?q=analysers`), for its coverage of a message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub analysers: Vec<String>,
    /// For an engine that translates any of its languages into any other (Google,
    /// Azure, Amazon): those languages, as it spells them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
}

impl PairCache {
    /// The stored form: compact JSON.
    ///
    /// ```
    /// let c = translation::memory::PairCache { url: "u".into(), fetched_at_ms: 1, pairs: vec![], analysers: vec![], languages: vec![] };
    /// assert_eq!(c.encode(), br#"{"url":"u","fetched_at_ms":1,"pairs":[]}"#);
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a stored list.
    ///
    /// ```
    /// assert!(translation::memory::PairCache::decode(b"[]").is_err());
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<PairCache, DecodeError> {
        serde_json::from_slice(bytes).map_err(|e| DecodeError(e.to_string()))
    }
}

/// Parses a term list: `source term=target term; other=autre`. Entries are
/// separated by `;` or new lines, and each side is trimmed; blank entries are
/// skipped.
///
/// ```
/// use translation::memory::parse_terms;
/// assert_eq!(
///     parse_terms("refund = reembolso; order=pedido").unwrap(),
///     vec![("refund".to_string(), "reembolso".to_string()), ("order".to_string(), "pedido".to_string())],
/// );
/// assert!(parse_terms("refund").unwrap_err().contains("refund"));
/// ```
pub fn parse_terms(spec: &str) -> Result<Vec<(String, String)>, String> {
    let mut terms = Vec::new();
    for entry in spec.split([';', '\n']) {
        if entry.trim().is_empty() {
            continue;
        }
        let Some((source, target)) = entry.split_once('=') else {
            return Err(format!(
                "term entry {:?} has no '=' (write `source term=target term`)",
                entry.trim()
            ));
        };
        let (source, target) = (normalize(source), normalize(target));
        if source.is_empty() || target.is_empty() {
            return Err(format!(
                "term entry {:?} has an empty side (write `source term=target term`)",
                entry.trim()
            ));
        }
        terms.push((source, target));
    }
    Ok(terms)
}

/// The glossary that applies to one language pair.
///
/// ```
/// let g = translation::memory::Glossary::default();
/// assert!(g.keep.is_empty() && g.terms.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Glossary {
    /// Terms never translated.
    pub keep: Vec<String>,
    /// `(source term, target term)`: the target term always appears for the source.
    pub terms: Vec<(String, String)>,
}

// ---- Through the SDK's kv: for the plugin (and tests with MockHost). ----

/// Puts `value` under `key` unless it is already there; `true` if it wrote.
fn put_if_changed(key: &str, value: &[u8]) -> Result<bool, KvError> {
    if kv::get(key)?.as_deref() == Some(value) {
        return Ok(false);
    }
    kv::put(key, value)?;
    Ok(true)
}

/// The memory entry for `source` from `src` to `tgt`, if any. An entry that does
/// not decode, or whose source differs (a hash collision), is no match.
///
/// ```
/// use translation::memory::{self, TmEntry};
/// let _host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
/// memory::store_tm("en", "es", &TmEntry::new("Thanks!", "¡Gracias!", "correction")).unwrap();
/// assert_eq!(memory::lookup_tm("en", "es", "  Thanks! ").unwrap().unwrap().target, "¡Gracias!");
/// assert_eq!(memory::lookup_tm("en", "fr", "Thanks!").unwrap(), None);
/// ```
pub fn lookup_tm(src: &str, tgt: &str, source: &str) -> Result<Option<TmEntry>, KvError> {
    let Some(bytes) = kv::get(&tm_key(src, tgt, source))? else {
        return Ok(None);
    };
    Ok(TmEntry::decode(&bytes)
        .ok()
        .filter(|entry| normalize(&entry.source) == normalize(source)))
}

/// Stores `entry` for `src` to `tgt`; `true` if it wrote (`false`: the same entry
/// was already there).
///
/// ```
/// use translation::memory::{self, TmEntry};
/// let _host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
/// let entry = TmEntry::new("Hi", "Hola", "correction");
/// assert!(memory::store_tm("en", "es", &entry).unwrap());
/// assert!(!memory::store_tm("en", "es", &entry).unwrap());
/// ```
pub fn store_tm(src: &str, tgt: &str, entry: &TmEntry) -> Result<bool, KvError> {
    put_if_changed(&tm_key(src, tgt, &entry.source), &entry.encode())
}

/// The glossary for `src` to `tgt`: every do-not-translate term and the pair's
/// forced terms (entries that are not UTF-8 or are empty are skipped).
///
/// ```
/// use translation::memory;
/// let _host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
/// memory::put_keep("Crossdesk").unwrap();
/// memory::put_term("en", "es", "refund", "reembolso").unwrap();
/// let g = memory::load_glossary("en", "es").unwrap();
/// assert_eq!(g.keep, vec!["Crossdesk"]);
/// assert_eq!(g.terms, vec![("refund".to_string(), "reembolso".to_string())]);
/// assert!(memory::load_glossary("en", "fr").unwrap().terms.is_empty());
/// ```
pub fn load_glossary(src: &str, tgt: &str) -> Result<Glossary, KvError> {
    let keep = kv::list_keys(KEEP_PREFIX)?
        .into_iter()
        .filter_map(|key| key.strip_prefix(KEEP_PREFIX).map(str::to_owned))
        .filter(|term| !term.trim().is_empty())
        .collect();
    let prefix = term_prefix(src, tgt);
    let mut terms = Vec::new();
    for key in kv::list_keys(&prefix)? {
        let Some(term) = key.strip_prefix(&prefix) else {
            continue;
        };
        let Some(target) = kv::get(&key)?.and_then(|v| String::from_utf8(v).ok()) else {
            continue;
        };
        if !term.trim().is_empty() && !target.trim().is_empty() {
            terms.push((term.to_owned(), target));
        }
    }
    Ok(Glossary { keep, terms })
}

/// Marks `term` as never to be translated; `true` if it wrote.
///
/// ```
/// let _host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
/// assert!(translation::memory::put_keep("Crossdesk").unwrap());
/// assert!(!translation::memory::put_keep("Crossdesk").unwrap());
/// ```
pub fn put_keep(term: &str) -> Result<bool, KvError> {
    put_if_changed(&keep_key(term), b"")
}

/// Forces `term` to be translated as `target` from `src` to `tgt`; `true` if it
/// wrote.
///
/// ```
/// let host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
/// assert!(translation::memory::put_term("en", "es", "order", "pedido").unwrap());
/// assert_eq!(host.kv_value("glossary/term/en/es/order"), Some(b"pedido".to_vec()));
/// ```
pub fn put_term(src: &str, tgt: &str, term: &str, target: &str) -> Result<bool, KvError> {
    put_if_changed(&term_key(src, tgt, term), target.as_bytes())
}

/// The cached pair list of `engine`, if any and decodable.
///
/// ```
/// let _host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
/// assert_eq!(translation::memory::cached_pairs("apertium").unwrap(), None);
/// ```
pub fn cached_pairs(engine: &str) -> Result<Option<PairCache>, KvError> {
    Ok(kv::get(&pairs_key(engine))?.and_then(|v| PairCache::decode(&v).ok()))
}

/// Caches the pair list of `engine`; `true` if it wrote.
///
/// ```
/// use translation::memory::{self, PairCache};
/// let _host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
/// let cache = PairCache { url: "u".into(), fetched_at_ms: 1, pairs: vec![], analysers: vec![], languages: vec![] };
/// assert!(memory::store_pairs("apertium", &cache).unwrap());
/// assert_eq!(memory::cached_pairs("apertium").unwrap(), Some(cache));
/// ```
pub fn store_pairs(engine: &str, cache: &PairCache) -> Result<bool, KvError> {
    put_if_changed(&pairs_key(engine), &cache.encode())
}
