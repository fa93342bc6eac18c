//! Machine-translation engines, reached through the SDK's `http` only.
//!
//! The host decides which hosts the plugin may reach and adds credentials itself
//! (a tenant's `secrets`: DeepL's, Azure's and OpenAI's headers, Google's bearer
//! token, and for Amazon a signature the host computes); the plugin never sees a
//! key.
//!
//! | engine | languages | translate |
//! | --- | --- | --- |
//! | Apertium APy | `GET /listPairs` (ISO 639-3), cached in kv | `GET /translate?langpair=eng\|spa&q=…&markUnknown=no` ([`apertium`]) |
//! | LibreTranslate | `GET /languages`, cached in kv | `POST /translate` JSON `{"q","source","target","format"}` |
//! | DeepL | a fixed table | `POST /v2/translate` JSON `{"text":[…],"source_lang","target_lang","formality"}` |
//! | Google Cloud Translation v3 | `GET {url}/supportedLanguages`, cached | `POST {url}:translateText` JSON `{"contents","sourceLanguageCode","targetLanguageCode","mimeType"}` |
//! | Azure Translator v3 | `GET /languages?api-version=3.0&scope=translation`, cached | `POST /translate?api-version=3.0&from=…&to=…&textType=…` JSON `[{"Text"}]` |
//! | Amazon Translate | `ListLanguages`, cached | `TranslateText` (`X-Amz-Target`, JSON 1.1), one text per request, `Settings.Formality` |
//! | OpenAI-compatible chat | every language of the table | `POST /chat/completions`, one text per request, the model named by `llm_model` |
//!
//! Every engine answers errors the same way here ([`EngineError`]): retryable
//! unless the host refused the request, with the server's `Retry-After` when it
//! gave one (HTTP 429 or 503), which the circuit breaker ([`health`]) honours.

mod amazon;
mod apertium;
mod azure;
mod deepl;
mod google;
pub mod health;
mod libretranslate;
mod openai;
pub use openai::DEFAULT_MODEL;
mod pairs;

use crossdesk_sdk::http::{self, HttpError, Request, Response};
use crossdesk_sdk::{PluginError, clock, log};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::memory;
pub use pairs::Pairs;

/// How long a fetched language list is trusted.
pub const PAIRS_TTL_MS: i64 = 60 * 60 * 1000;

/// The longest `Retry-After` honoured: a server asking for more is down, and the
/// breaker's own cool-down takes over.
pub const MAX_RETRY_AFTER_MS: i64 = 10 * 60 * 1000;

/// Characters escaped in query values: all but RFC 3986's unreserved ones.
pub(crate) const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A written standard of a language that has several, which the customer's
/// locale asks for and which an engine that writes it is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Taiwan, Hong Kong, Macao, or the `Hant` script.
    TraditionalChinese,
    /// Portugal and the other countries writing Portugal's standard.
    EuropeanPortuguese,
    /// Britain, Ireland, Australia, New Zealand.
    BritishEnglish,
}

impl Variant {
    /// The variant a BCP 47 locale asks for (`zh-TW`, `zh-Hant-HK`, `pt-PT`,
    /// `en_GB`); `None` where the engines' default fits (`zh-CN`, `pt-BR`,
    /// `en-US`) or the language has one standard.
    ///
    /// ```
    /// use translation::engine::Variant;
    /// assert_eq!(Variant::of_locale("zh-Hant-HK"), Some(Variant::TraditionalChinese));
    /// assert_eq!(Variant::of_locale("pt_PT"), Some(Variant::EuropeanPortuguese));
    /// assert_eq!(Variant::of_locale("pt-BR"), None);
    /// assert_eq!(Variant::of_locale("zh-CN"), None);
    /// assert_eq!(Variant::of_locale("zh-Hans-TW"), None);
    /// ```
    pub fn of_locale(locale: &str) -> Option<Variant> {
        let mut subtags = locale.split(['-', '_']).map(str::to_ascii_lowercase);
        let language = subtags.next()?;
        let rest: Vec<String> = subtags.collect();
        let has = |tags: &[&str]| rest.iter().any(|t| tags.contains(&t.as_str()));
        match language.as_str() {
            // The script, when named, decides: `zh-Hans-TW` is Simplified.
            "zh" if has(&["hans"]) => None,
            "zh" if has(&["hant", "tw", "hk", "mo"]) => Some(Variant::TraditionalChinese),
            "pt" if has(&["pt", "ao", "mz", "cv", "gw", "st", "tl"]) => {
                Some(Variant::EuropeanPortuguese)
            }
            "en" if has(&["gb", "ie", "au", "nz"]) => Some(Variant::BritishEnglish),
            _ => None,
        }
    }

    /// The language (canonical code) it is a standard of.
    pub fn language(self) -> &'static str {
        match self {
            Variant::TraditionalChinese => "zh",
            Variant::EuropeanPortuguese => "pt",
            Variant::BritishEnglish => "en",
        }
    }

    /// The engine's code for it, where the engine writes it.
    fn code(self, kind: Kind) -> Option<&'static str> {
        use Variant::*;
        match (kind, self) {
            (Kind::DeepL, TraditionalChinese) => Some("ZH-HANT"),
            (Kind::DeepL, EuropeanPortuguese) => Some("PT-PT"),
            (Kind::DeepL, BritishEnglish) => Some("EN-GB"),
            (Kind::Google | Kind::Amazon, TraditionalChinese) => Some("zh-TW"),
            (Kind::Google | Kind::Amazon, EuropeanPortuguese) => Some("pt-PT"),
            (Kind::Azure, TraditionalChinese) => Some("zh-Hant"),
            (Kind::Azure, EuropeanPortuguese) => Some("pt-pt"),
            (Kind::LibreTranslate, TraditionalChinese) => Some("zt"),
            _ => None,
        }
    }
}

/// Which engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Apertium APy: rule-based, runs locally.
    Apertium,
    /// LibreTranslate: neural, self-hosted.
    LibreTranslate,
    /// DeepL's API.
    DeepL,
    /// Google Cloud Translation, v3.
    Google,
    /// Microsoft Azure AI Translator, v3.
    Azure,
    /// Amazon Translate.
    Amazon,
    /// A chat-completions endpoint in OpenAI's format (OpenAI, or a local server
    /// such as llama.cpp's or vLLM's).
    OpenAi,
}

impl Kind {
    /// The most texts, and bytes of text, one translation request may carry: the
    /// engine's documented limits, with room left for the rest of the request
    /// (DeepL: 50 texts and 128 KiB a request; Azure: 1,000 elements and 50,000
    /// characters; Google: 128 texts of 30,000 code points in all, as advised;
    /// LibreTranslate instances often limit a request's characters). Apertium,
    /// Amazon (one text a call already) and a language model take what they get.
    fn request_limits(self) -> (usize, usize) {
        match self {
            Kind::DeepL => (50, 120_000),
            Kind::Azure => (1_000, 45_000),
            Kind::Google => (128, 28_000),
            Kind::LibreTranslate => (50, 5_000),
            Kind::Apertium | Kind::Amazon | Kind::OpenAi => (usize::MAX, usize::MAX),
        }
    }

    /// Every engine.
    pub const ALL: [Kind; 7] = [
        Kind::Apertium,
        Kind::LibreTranslate,
        Kind::DeepL,
        Kind::Google,
        Kind::Azure,
        Kind::Amazon,
        Kind::OpenAi,
    ];

    /// The name settings and notes use.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Apertium => "apertium",
            Kind::LibreTranslate => "libretranslate",
            Kind::DeepL => "deepl",
            Kind::Google => "google",
            Kind::Azure => "azure",
            Kind::Amazon => "amazon",
            Kind::OpenAi => "openai",
        }
    }
}

/// An engine at a base URL.
///
/// ```
/// let e = translation::engine::Engine::new("apertium", "http://127.0.0.1:2737/").unwrap();
/// assert_eq!(e.name(), "apertium");
/// assert!(translation::engine::Engine::new("babelfish", "http://x").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    kind: Kind,
    url: String,
    /// The model a language-model engine is asked for.
    model: String,
    /// Its pairs once read: an event asks for them to decide the language and again
    /// to translate, and the engine lives for one call.
    pairs: std::cell::OnceCell<Pairs>,
}

/// Why an engine gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineError {
    /// Names the engine, its URL and the reason.
    pub message: String,
    /// Whether asking again later (or another engine now) may help.
    pub retryable: bool,
    /// How long the server asked to be left alone (`Retry-After`), if it did.
    pub retry_after_ms: Option<i64>,
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<EngineError> for PluginError {
    fn from(e: EngineError) -> PluginError {
        if e.retryable {
            PluginError::retryable(e.message)
        } else {
            PluginError::new(e.message)
        }
    }
}

/// The formality a reply is asked in, for engines that take one (DeepL's
/// `formality`: `prefer_more` / `prefer_less`, which fall back to the default for
/// a language without formality instead of failing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formality {
    /// The engine's own choice.
    Default,
    /// The formal pronoun (usted, Sie, vous).
    More,
    /// The informal pronoun (tú, du, tu).
    Less,
}

impl Formality {
    /// `formal`, `informal` or `default`.
    pub fn parse(value: &str) -> Option<Formality> {
        match value {
            "formal" => Some(Formality::More),
            "informal" => Some(Formality::Less),
            "default" => Some(Formality::Default),
            _ => None,
        }
    }
}

/// `Retry-After` in milliseconds (delay-seconds only; an HTTP date is ignored),
/// capped at [`MAX_RETRY_AFTER_MS`].
fn retry_after_ms(headers: &[(String, String)]) -> Option<i64> {
    let value = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))?;
    let seconds: i64 = value.1.trim().parse().ok()?;
    Some(seconds.saturating_mul(1000).clamp(0, MAX_RETRY_AFTER_MS))
}

impl Engine {
    /// The engine named `name` (`apertium`, `libretranslate`, `deepl`, `google`,
    /// `azure`, `amazon`, `openai`) at `url`.
    pub fn new(name: &str, url: &str) -> Result<Engine, PluginError> {
        let wanted = name.trim().to_ascii_lowercase();
        let kind = Kind::ALL
            .into_iter()
            .find(|k| k.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                PluginError::new(format!(
                    "setting engine: unknown engine {wanted:?} (use {})",
                    names.join(", ")
                ))
            })?;
        let url = url.trim().trim_end_matches('/');
        // Every error about an engine names its URL (notes, logs, the breaker's
        // last error): one carrying credentials is refused without being shown.
        let authority = url.split("://").nth(1).unwrap_or_default();
        let authority = authority.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(PluginError::new(format!(
                "setting engines: the URL of engine {wanted:?} carries credentials \
                 (user:password@host); give them to the host as the tenant's secret for that host"
            )));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(PluginError::new(format!(
                "setting engine_url: {url:?} is not an http(s) URL"
            )));
        }
        Ok(Engine {
            kind,
            url: url.to_owned(),
            model: String::new(),
            pairs: std::cell::OnceCell::new(),
        })
    }

    /// This engine asking for `model` (language-model engines).
    pub fn with_model(mut self, model: &str) -> Engine {
        model.trim().clone_into(&mut self.model);
        self
    }

    /// Which engine it is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The engine's name as configured and reported.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// Its base URL, without a trailing `/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A failure worth retrying (the engine may recover): the reply is not the
    /// engine's answer, or it never came.
    pub(crate) fn failure(&self, reason: impl std::fmt::Display) -> EngineError {
        EngineError {
            message: format!("{} at {}: {reason}", self.name(), self.url),
            retryable: true,
            retry_after_ms: None,
        }
    }

    /// Sends a request; a transport failure or an error status is an error naming
    /// the engine. Not worth retrying: a refused host (not allowed), and a status
    /// that says the request or the account is wrong (see [`transient`]).
    pub(crate) fn send(&self, request: Request) -> Result<Response, EngineError> {
        let response = http::send(request).map_err(|e| match e {
            HttpError::Denied(_) | HttpError::InvalidRequest(_) => EngineError {
                message: format!(
                    "{} at {}: {e} (is the engine's host in allowed_hosts?)",
                    self.name(),
                    self.url
                ),
                retryable: false,
                retry_after_ms: None,
            },
            e => self.failure(e),
        })?;
        if !(200..300).contains(&response.status) {
            // A refused credential's message may quote the key, masked in a way
            // the host's cut of echoed secrets does not recognise (OpenAI's
            // "sk-proj-ab****wxyz"): for those, the status says enough.
            let reason = match response.status {
                401 | 403 => {
                    ": the engine refused the credential (check the tenant's secret)".to_owned()
                }
                _ => engine_message(&response.body)
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default(),
            };
            let retry_after_ms = retry_after_ms(&response.headers);
            let wait = retry_after_ms
                .map(|ms| format!(" (retry after {} s)", ms / 1000))
                .unwrap_or_default();
            let mut error = self.failure(format!("HTTP status {}{reason}{wait}", response.status));
            error.retry_after_ms = retry_after_ms;
            error.retryable = transient(response.status);
            return Err(error);
        }
        Ok(response)
    }

    pub(crate) fn json(&self, response: &Response) -> Result<Value, EngineError> {
        if response.body.iter().all(u8::is_ascii_whitespace) {
            return Err(self.failure("empty reply"));
        }
        serde_json::from_slice(&response.body)
            .map_err(|e| self.failure(format!("unreadable reply (not JSON: {e})")))
    }

    /// The text of each element of `list` (`text` picks it), or an error saying
    /// the reply is not in the `expected` shape.
    pub(crate) fn texts<'v>(
        &self,
        list: Option<&'v Value>,
        expected: &str,
        text: impl Fn(&'v Value) -> Option<&'v str>,
    ) -> Result<Vec<String>, EngineError> {
        let shape = || self.failure(format!("reply in the wrong shape (no {expected})"));
        list.and_then(Value::as_array)
            .ok_or_else(shape)?
            .iter()
            .map(|item| text(item).map(str::to_owned).ok_or_else(shape))
            .collect()
    }

    /// POSTs `body` as JSON to `url` with `headers`, and reads the JSON reply.
    pub(crate) fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Result<Value, EngineError> {
        let mut request = Request::post(url, body.to_string().into_bytes())
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.json(&self.send(request)?)
    }

    /// The engine's pairs: fetched at most once an hour per URL and kept in kv
    /// (written only when fetched again); DeepL's is a fixed table, a language
    /// model's every language of the table. Read once per engine value.
    pub fn pairs(&self) -> Result<&Pairs, EngineError> {
        if let Some(pairs) = self.pairs.get() {
            return Ok(pairs);
        }
        let pairs = self.load_pairs()?;
        Ok(self.pairs.get_or_init(|| pairs))
    }

    /// Under what name ([`memory::pairs_key`]) the engine's pair list is
    /// cached: its kind and a hash of its URL, as its breaker. Two engines of
    /// one kind (a failover pair) would otherwise take turns replacing each
    /// other's list, each message fetching both and writing storage twice.
    ///
    /// ```
    /// let e = translation::engine::Engine::new("apertium", "http://127.0.0.1:2737").unwrap();
    /// assert!(e.pairs_cache_name().starts_with("apertium-"));
    /// ```
    pub fn pairs_cache_name(&self) -> String {
        format!("{}-{}", self.name(), &memory::source_hash(&self.url)[..12])
    }

    fn load_pairs(&self) -> Result<Pairs, EngineError> {
        match self.kind {
            Kind::DeepL => return Ok(deepl::pairs()),
            Kind::OpenAi => return Ok(openai::pairs()),
            _ => {}
        }
        let now = clock::now_ms();
        let cached_as = self.pairs_cache_name();
        let cached = memory::cached_pairs(&cached_as).unwrap_or_else(|e| {
            log::warn(&format!("pair list cache unavailable: {e}"));
            None
        });
        if let Some(cache) = &cached {
            let age = now - cache.fetched_at_ms;
            if cache.url == self.url && (0..PAIRS_TTL_MS).contains(&age) {
                return Ok(pairs_of(cache));
            }
        }
        let mut fresh = memory::PairCache {
            url: self.url.clone(),
            fetched_at_ms: now,
            pairs: Vec::new(),
            analysers: Vec::new(),
            languages: Vec::new(),
        };
        match self.kind {
            Kind::Apertium => {
                fresh.pairs = apertium::pairs(self)?;
                fresh.analysers = apertium::analysers(self);
            }
            Kind::LibreTranslate => fresh.pairs = libretranslate::pairs(self)?,
            Kind::Google => fresh.languages = google::languages(self)?,
            Kind::Azure => fresh.languages = azure::languages(self)?,
            Kind::Amazon => fresh.languages = amazon::languages(self)?,
            Kind::DeepL | Kind::OpenAi => {}
        }
        fresh.pairs.sort();
        fresh.pairs.dedup();
        fresh.languages.sort();
        fresh.languages.dedup();
        if let Err(e) = memory::store_pairs(&cached_as, &fresh) {
            log::warn(&format!("pair list not cached: {e}"));
        }
        Ok(pairs_of(&fresh))
    }

    /// Translates `texts` from `src` to `tgt` (canonical codes of a pair in
    /// `pairs`); `markup` says whether they carry escaped text and `<xN/>`
    /// placeholders (see [`crate::protect`]) or are plain text. One translation per
    /// text, in order. `formality` reaches the engines that take one (DeepL, Amazon,
    /// a language model); the others have none, and the tone plugin sets the
    /// pronoun after them. The words the engine marked as unknown (Apertium's `*`)
    /// are added to `unknown`, lower case, and removed from the output's marks.
    /// `variant`, a standard of `tgt` the reader writes, is asked for where the
    /// engine writes it (DeepL always; others when they list its code).
    #[allow(clippy::too_many_arguments)]
    pub fn translate(
        &self,
        pairs: &Pairs,
        src: &str,
        tgt: &str,
        texts: &[String],
        markup: bool,
        formality: Formality,
        variant: Option<Variant>,
        unknown: &mut Vec<String>,
    ) -> Result<Vec<String>, EngineError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (s, t) = pairs.get(src, tgt).ok_or_else(|| EngineError {
            message: format!("unsupported pair {src}→{tgt} for engine {}", self.name()),
            retryable: false,
            retry_after_ms: None,
        })?;
        let variant = variant
            .filter(|v| v.language() == tgt)
            .and_then(|v| v.code(self.kind))
            .filter(|code| self.kind == Kind::DeepL || pairs.lists(code));
        let t = variant.unwrap_or(t);
        // A long message is many texts: sent in requests the engine accepts.
        let (max_texts, max_bytes) = self.kind.request_limits();
        let mut out = Vec::with_capacity(texts.len());
        for batch in batches(texts, max_texts, max_bytes) {
            let texts = &texts[batch];
            out.extend(match self.kind {
                Kind::Apertium => apertium::translate(self, s, t, texts, markup, unknown)?,
                Kind::LibreTranslate => libretranslate::translate(self, s, t, texts, markup)?,
                Kind::DeepL => deepl::translate(self, src, tgt, variant, texts, markup, formality)?,
                Kind::Google => google::translate(self, s, t, texts, markup)?,
                Kind::Azure => azure::translate(self, s, t, texts, markup)?,
                Kind::Amazon => amazon::translate(self, s, t, texts, formality)?,
                Kind::OpenAi => openai::translate(self, src, tgt, texts, markup, formality)?,
            });
        }
        if out.len() != texts.len() {
            return Err(self.failure(format!(
                "reply in the wrong shape ({} translations for {} texts)",
                out.len(),
                texts.len()
            )));
        }
        if out
            .iter()
            .zip(texts)
            .any(|(o, t)| o.trim().is_empty() && !t.trim().is_empty())
        {
            return Err(self.failure("empty translation"));
        }
        Ok(out)
    }

    /// The engine's own guess of `text`'s language, as it spells it, with its
    /// confidence (Google's `:detectLanguage`, Azure's `/detect`); `None` for an
    /// engine that does not detect.
    pub fn detect(&self, text: &str) -> Result<Option<(String, f64)>, EngineError> {
        match self.kind {
            Kind::Google => google::detect(self, text),
            Kind::Azure => azure::detect(self, text),
            _ => Ok(None),
        }
    }

    /// The share of `text`'s words the engine's analyser of `language` knows
    /// (Apertium's `/calcCoverage`), if it has one.
    pub fn coverage(
        &self,
        pairs: &Pairs,
        language: &str,
        text: &str,
    ) -> Result<Option<f64>, EngineError> {
        match (self.kind, pairs.analyser(language)) {
            (Kind::Apertium, Some(code)) => apertium::coverage(self, code, text),
            _ => Ok(None),
        }
    }
}

/// The pairs of a cached (or just fetched) list.
fn pairs_of(cache: &memory::PairCache) -> Pairs {
    let pairs = if cache.languages.is_empty() {
        Pairs::from_engine_codes(&cache.pairs)
    } else {
        Pairs::any_to_any(&cache.languages)
    };
    pairs.with_analysers(&cache.analysers)
}

/// Consecutive ranges of `texts` of at most `max_texts` texts and `max_bytes`
/// bytes each; a text longer than `max_bytes` alone (the engine says whether it
/// takes it).
fn batches(texts: &[String], max_texts: usize, max_bytes: usize) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let (mut start, mut bytes) = (0, 0usize);
    for (i, text) in texts.iter().enumerate() {
        let full = i - start >= max_texts || bytes.saturating_add(text.len()) > max_bytes;
        if i > start && full {
            ranges.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes = bytes.saturating_add(text.len());
    }
    if start < texts.len() {
        ranges.push(start..texts.len());
    }
    ranges
}

/// Whether an error status may clear up by itself: a timeout, too many requests
/// (429), the server's own trouble (5xx). The rest (400 a bad request, 401 or 403
/// a bad key, DeepL's 456 a spent quota, 413 too large) fail the same way again,
/// so they neither count against the engine's health nor ask the helpdesk to
/// retry the event.
fn transient(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || status >= 500
}

/// The message an engine's JSON error reply gives (`{"message": …}` as DeepL
/// writes it, `{"error": {"message": …}}` as Google, Azure, OpenAI and
/// LibreTranslate do, `{"error": "…"}`, or Amazon's `{"__type", "message"}`), cut
/// to 200 characters. Never the raw body: an arbitrary server's reply is not the
/// engine's to pass on into errors and logs.
fn engine_message(body: &[u8]) -> Option<String> {
    let reply: Value = serde_json::from_slice(body).ok()?;
    let message = reply
        .get("message")
        .or_else(|| reply.get("Message"))
        .or_else(|| reply.get("error").and_then(|e| e.get("message")))
        .or_else(|| reply.get("error"))
        .and_then(Value::as_str)?;
    let message: String = message.trim().chars().take(200).collect();
    (!message.is_empty()).then_some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_go_in_requests_within_the_engines_limits() {
        let texts =
            |sizes: &[usize]| -> Vec<String> { sizes.iter().map(|n| "x".repeat(*n)).collect() };
        // By count: 120 short lines, 50 a request.
        assert_eq!(
            batches(&texts(&[1; 120]), 50, 1_000),
            [0..50, 50..100, 100..120]
        );
        // By size: a request stays under its bytes, a longer text goes alone.
        assert_eq!(
            batches(&texts(&[40, 40, 40, 300, 10]), 50, 100),
            [0..2, 2..3, 3..4, 4..5]
        );
        assert_eq!(batches(&texts(&[5, 5]), usize::MAX, usize::MAX), vec![0..2]);
        assert!(batches(&[], 50, 100).is_empty());
        // DeepL's limits, as documented: 50 texts a request.
        let (texts_a_request, _) = Kind::DeepL.request_limits();
        assert_eq!(texts_a_request, 50);
    }

    #[test]
    fn an_error_reply_is_reported_by_its_message_never_its_raw_body() {
        assert_eq!(
            engine_message(br#"{"message": "Quota Exceeded"}"#).as_deref(),
            Some("Quota Exceeded")
        );
        assert_eq!(
            engine_message(br#"{"error": {"code": 403, "message": "bad key"}}"#).as_deref(),
            Some("bad key")
        );
        // An internal page, a metadata document: nothing of it is passed on.
        assert_eq!(engine_message(b"<html>admin console</html>"), None);
        assert_eq!(engine_message(br#"{"AccessKeyId": "AKIA"}"#), None);
        let long = format!(r#"{{"message": "{}"}}"#, "y".repeat(500));
        let cut = engine_message(long.as_bytes()).expect("message");
        assert_eq!(cut.chars().count(), 200);
    }

    #[test]
    fn an_engine_url_with_credentials_is_refused_without_showing_them() {
        for url in [
            "https://key:S3CR3T@lt.example",
            "https://S3CR3T@lt.example/translate",
        ] {
            let Err(error) = Engine::new("libretranslate", url) else {
                panic!("{url} accepted");
            };
            assert!(error.message.contains("credentials"), "{}", error.message);
            assert!(!error.message.contains("S3CR3T"), "{}", error.message);
        }
        // An @ further on (a path, a query) is no credential.
        assert!(Engine::new("libretranslate", "https://lt.example/a@b?to=x@y").is_ok());
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_capped() {
        let headers = |v: &str| vec![("Retry-After".to_owned(), v.to_owned())];
        assert_eq!(retry_after_ms(&headers("30")), Some(30_000));
        assert_eq!(retry_after_ms(&headers("86400")), Some(MAX_RETRY_AFTER_MS));
        assert_eq!(
            retry_after_ms(&headers("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(retry_after_ms(&[]), None);
    }

    #[test]
    fn every_engine_is_named_and_parsed_back() {
        for kind in Kind::ALL {
            let engine = Engine::new(kind.name(), "https://engine.example").expect("engine");
            assert_eq!(engine.kind(), kind);
        }
        let err = Engine::new("babelfish", "https://x.example").unwrap_err();
        assert!(err.message.contains("openai"), "{}", err.message);
    }
}
