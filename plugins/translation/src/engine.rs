//! Machine-translation engines, reached through the SDK's `http` only.
//!
//! The host decides which hosts the plugin may reach and adds credentials (DeepL's
//! `Authorization` header) itself; the plugin never sees a key.
//!
//! | engine | pairs | translate |
//! | --- | --- | --- |
//! | Apertium APy | `GET /listPairs` (ISO 639-3), cached in kv | `GET /translate?langpair=eng\|spa&q=…&markUnknown=no`, or `POST` with the same form when the URL would be long |
//! | LibreTranslate | `GET /languages`, cached in kv | `POST /translate` JSON `{"q","source","target","format"}` |
//! | DeepL | a fixed table | `POST /v2/translate` JSON `{"text":[…],"source_lang","target_lang"}` |
//!
//! A batch of texts goes out in one request where the engine allows it: DeepL and
//! LibreTranslate take arrays; Apertium gets the texts joined by `<p></p>`, which
//! its HTML deformatter turns into a sentence boundary that it copies verbatim (if
//! the boundaries do not all come back, each text is sent alone).

use std::collections::BTreeMap;

use crossdesk_sdk::http::{self, HttpError, Request, Response};
use crossdesk_sdk::{PluginError, clock, log};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::{lang, memory, protect};

/// How long a fetched pair list is trusted.
pub const PAIRS_TTL_MS: i64 = 60 * 60 * 1000;

/// Separates the texts of one Apertium request (a block boundary for APy's HTML
/// deformatter; no space or dot, where APy may cut long input).
const APERTIUM_SEPARATOR: &str = "<p></p>";

/// Above this URL length Apertium requests go as a `POST` form (APy refuses URLs
/// near 64 KiB).
const APERTIUM_MAX_GET_URL: usize = 16 * 1024;

/// Characters escaped in query values: all but RFC 3986's unreserved ones.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Which engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Apertium APy: rule-based, runs locally, a few pairs.
    Apertium,
    /// LibreTranslate: neural, self-hosted.
    LibreTranslate,
    /// DeepL's API.
    DeepL,
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
}

/// The language pairs an engine offers: canonical codes to the engine's codes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs {
    map: BTreeMap<(String, String), (String, String)>,
    /// Languages with an analyser: canonical code → the engine's.
    analysers: BTreeMap<String, String>,
}

impl Pairs {
    /// Pairs from the engine's own codes; codes the language table does not know are
    /// left out. Of a language's varieties (`cat`, `cat_valencia`) the plain code
    /// wins.
    ///
    /// ```
    /// let pairs = translation::engine::Pairs::from_engine_codes(&[
    ///     ("eng".into(), "cat_valencia".into()),
    ///     ("eng".into(), "cat".into()),
    ///     ("spa".into(), "por_BR".into()),
    /// ]);
    /// assert_eq!(pairs.get("en", "ca"), Some(("eng", "cat")));
    /// assert_eq!(pairs.get("es", "pt"), Some(("spa", "por_BR")));
    /// assert_eq!(pairs.get("ca", "en"), None);
    /// ```
    pub fn from_engine_codes(codes: &[(String, String)]) -> Pairs {
        let mut map: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
        for (s, t) in codes {
            let (Some(src), Some(tgt)) = (lang::from_code(s), lang::from_code(t)) else {
                continue;
            };
            if src == tgt {
                continue;
            }
            let variety = |code: &str| code.contains(['_', '-']);
            let key = (src.to_owned(), tgt.to_owned());
            let better = match map.get(&key) {
                None => true,
                Some((es, et)) => (variety(es) || variety(et)) && !(variety(s) || variety(t)),
            };
            if better {
                map.insert(key, (s.clone(), t.clone()));
            }
        }
        // Apertium reads Croatian, Serbian and Bosnian with one Serbo-Croatian
        // analyser (`hbs`): each standard is a source of its pairs.
        let serbo_croatian: Vec<_> = map
            .iter()
            .filter(|((src, _), _)| src == "sh")
            .map(|((_, tgt), codes)| (tgt.clone(), codes.clone()))
            .collect();
        for (tgt, codes) in serbo_croatian {
            for standard in ["hr", "sr", "bs"] {
                if standard != tgt {
                    map.entry((standard.to_owned(), tgt.clone()))
                        .or_insert_with(|| codes.clone());
                }
            }
        }
        Pairs {
            map,
            analysers: BTreeMap::new(),
        }
    }

    /// These pairs, with the engine's analysers (its own language codes).
    pub fn with_analysers(mut self, codes: &[String]) -> Pairs {
        for code in codes {
            if let Some(language) = lang::from_code(code) {
                self.analysers
                    .entry(language.to_owned())
                    .or_insert_with(|| code.clone());
            }
        }
        self
    }

    /// The engine's code of `language`'s analyser, if it has one.
    pub fn analyser(&self, language: &str) -> Option<&str> {
        self.analysers.get(language).map(String::as_str)
    }

    /// The languages `src` translates into directly, in code order.
    pub fn targets(&self, src: &str) -> impl Iterator<Item = &str> {
        self.map
            .keys()
            .filter(move |(s, _)| s == src)
            .map(|(_, t)| t.as_str())
    }

    /// Every language of a pair, in code order.
    pub fn languages(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .map
            .keys()
            .flat_map(|(s, t)| [s.as_str(), t.as_str()])
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The engine's codes for `src` → `tgt`, if it has that pair.
    pub fn get(&self, src: &str, tgt: &str) -> Option<(&str, &str)> {
        self.map
            .get(&(src.to_owned(), tgt.to_owned()))
            .map(|(s, t)| (s.as_str(), t.as_str()))
    }

    /// Whether the engine translates `src` → `tgt` directly.
    pub fn has(&self, src: &str, tgt: &str) -> bool {
        self.get(src, tgt).is_some()
    }
}

/// DeepL's languages: canonical code, source code, target code.
const DEEPL: &[(&str, &str, &str)] = &[
    ("ar", "AR", "AR"),
    ("bg", "BG", "BG"),
    ("cs", "CS", "CS"),
    ("da", "DA", "DA"),
    ("de", "DE", "DE"),
    ("el", "EL", "EL"),
    ("en", "EN", "EN-US"),
    ("es", "ES", "ES"),
    ("et", "ET", "ET"),
    ("fi", "FI", "FI"),
    ("fr", "FR", "FR"),
    ("hu", "HU", "HU"),
    ("id", "ID", "ID"),
    ("it", "IT", "IT"),
    ("ja", "JA", "JA"),
    ("ko", "KO", "KO"),
    ("lt", "LT", "LT"),
    ("lv", "LV", "LV"),
    ("nb", "NB", "NB"),
    ("nl", "NL", "NL"),
    ("pl", "PL", "PL"),
    ("pt", "PT", "PT-BR"),
    ("ro", "RO", "RO"),
    ("ru", "RU", "RU"),
    ("sk", "SK", "SK"),
    ("sl", "SL", "SL"),
    ("sv", "SV", "SV"),
    ("tr", "TR", "TR"),
    ("uk", "UK", "UK"),
    ("zh", "ZH", "ZH"),
];

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

impl Engine {
    /// The engine named `name` (`apertium`, `libretranslate`, `deepl`) at `url`.
    pub fn new(name: &str, url: &str) -> Result<Engine, PluginError> {
        let kind = match name.trim().to_ascii_lowercase().as_str() {
            "apertium" => Kind::Apertium,
            "libretranslate" => Kind::LibreTranslate,
            "deepl" => Kind::DeepL,
            other => {
                return Err(PluginError::new(format!(
                    "setting engine: unknown engine {other:?} (use apertium, libretranslate or deepl)"
                )));
            }
        };
        let url = url.trim().trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(PluginError::new(format!(
                "setting engine_url: {url:?} is not an http(s) URL"
            )));
        }
        Ok(Engine {
            kind,
            url: url.to_owned(),
        })
    }

    /// Which engine it is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The engine's name as configured and reported.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::Apertium => "apertium",
            Kind::LibreTranslate => "libretranslate",
            Kind::DeepL => "deepl",
        }
    }

    fn failure(&self, reason: impl std::fmt::Display) -> PluginError {
        PluginError::retryable(format!("{} at {}: {reason}", self.name(), self.url))
    }

    /// Sends a request; a transport failure or an error status is an error naming
    /// the engine. Only a refused host (not allowed) is not worth retrying.
    fn send(&self, request: Request) -> Result<Response, PluginError> {
        let response = http::send(request).map_err(|e| match e {
            HttpError::Denied(_) | HttpError::InvalidRequest(_) => PluginError::new(format!(
                "{} at {}: {e} (is the engine's host in allowed_hosts?)",
                self.name(),
                self.url
            )),
            e => self.failure(e),
        })?;
        if response.status != 200 {
            let reason = engine_message(&response.body)
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            return Err(self.failure(format!("HTTP status {}{reason}", response.status)));
        }
        Ok(response)
    }

    fn json(&self, response: &Response) -> Result<Value, PluginError> {
        if response.body.iter().all(u8::is_ascii_whitespace) {
            return Err(self.failure("empty reply"));
        }
        serde_json::from_slice(&response.body)
            .map_err(|e| self.failure(format!("unreadable reply (not JSON: {e})")))
    }

    /// The pairs the engine offers. Apertium's and LibreTranslate's lists are
    /// fetched at most once an hour per URL and kept in kv (written only when they
    /// are fetched again); DeepL's is a fixed table.
    pub fn pairs(&self) -> Result<Pairs, PluginError> {
        if self.kind == Kind::DeepL {
            let codes: Vec<(String, String)> = DEEPL
                .iter()
                .flat_map(|(s, _, _)| {
                    DEEPL
                        .iter()
                        .map(move |(t, _, _)| (s.to_string(), t.to_string()))
                })
                .collect();
            return Ok(Pairs::from_engine_codes(&codes));
        }
        let now = clock::now_ms();
        let cached = memory::cached_pairs(self.name()).unwrap_or_else(|e| {
            log::warn(&format!("pair list cache unavailable: {e}"));
            None
        });
        if let Some(cache) = &cached {
            let age = now - cache.fetched_at_ms;
            if cache.url == self.url && (0..PAIRS_TTL_MS).contains(&age) {
                return Ok(Pairs::from_engine_codes(&cache.pairs).with_analysers(&cache.analysers));
            }
        }
        let mut codes = self.fetch_pairs()?;
        codes.sort();
        codes.dedup();
        let fresh = memory::PairCache {
            url: self.url.clone(),
            fetched_at_ms: now,
            pairs: codes,
            analysers: self.fetch_analysers(),
        };
        if let Err(e) = memory::store_pairs(self.name(), &fresh) {
            log::warn(&format!("pair list not cached: {e}"));
        }
        Ok(Pairs::from_engine_codes(&fresh.pairs).with_analysers(&fresh.analysers))
    }

    /// Apertium's analysers (`/list?q=analysers`: `{"eus": "eus-morph", …}`); none
    /// for other engines, or when the list cannot be had (detection then goes without
    /// the engine's coverage).
    fn fetch_analysers(&self) -> Vec<String> {
        if self.kind != Kind::Apertium {
            return Vec::new();
        }
        let url = format!("{}/list?q=analysers", self.url);
        match self.send(Request::get(url)).and_then(|r| self.json(&r)) {
            Ok(Value::Object(map)) => map.keys().cloned().collect(),
            Ok(_) => Vec::new(),
            Err(e) => {
                log::warn(&format!("no analyser list: {}", e.message));
                Vec::new()
            }
        }
    }

    /// The share of `text`'s words the engine's analyser of `language` knows
    /// (Apertium's `/calcCoverage`), if it has one.
    pub fn coverage(
        &self,
        pairs: &Pairs,
        language: &str,
        text: &str,
    ) -> Result<Option<f64>, PluginError> {
        let Some(code) = pairs
            .analyser(language)
            .filter(|_| self.kind == Kind::Apertium)
        else {
            return Ok(None);
        };
        let body = format!(
            "lang={}&q={}",
            utf8_percent_encode(code, QUERY_VALUE),
            utf8_percent_encode(text, QUERY_VALUE)
        );
        let request = Request::post(format!("{}/calcCoverage", self.url), body.into_bytes())
            .header("content-type", "application/x-www-form-urlencoded");
        let reply = self.json(&self.send(request)?)?;
        Ok(reply.get(0).and_then(Value::as_f64))
    }

    fn fetch_pairs(&self) -> Result<Vec<(String, String)>, PluginError> {
        let shape = |what: &str| self.failure(format!("reply in the wrong shape ({what})"));
        match self.kind {
            Kind::Apertium => {
                let reply =
                    self.json(&self.send(Request::get(format!("{}/listPairs", self.url)))?)?;
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
            Kind::LibreTranslate => {
                let reply =
                    self.json(&self.send(Request::get(format!("{}/languages", self.url)))?)?;
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
            Kind::DeepL => Ok(Vec::new()),
        }
    }

    /// Translates `texts` from `src` to `tgt` (canonical codes of a pair in
    /// `pairs`); `markup` says whether they carry escaped text and `<xN/>`
    /// placeholders (see [`protect`]) or are plain text. One translation per text,
    /// in order. `formality` reaches the engines that take one (DeepL); Apertium
    /// and LibreTranslate have none, and the tone plugin sets the pronoun after them.
    pub fn translate(
        &self,
        pairs: &Pairs,
        src: &str,
        tgt: &str,
        texts: &[String],
        markup: bool,
        formality: Formality,
    ) -> Result<Vec<String>, PluginError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (s, t) = pairs.get(src, tgt).ok_or_else(|| {
            PluginError::new(format!(
                "unsupported pair {src}→{tgt} for engine {}",
                self.name()
            ))
        })?;
        let out = match self.kind {
            Kind::Apertium => self.apertium(s, t, texts, markup)?,
            Kind::LibreTranslate => self.libretranslate(s, t, texts, markup)?,
            Kind::DeepL => self.deepl(src, tgt, texts, markup, formality)?,
        };
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

    fn apertium(
        &self,
        s: &str,
        t: &str,
        texts: &[String],
        markup: bool,
    ) -> Result<Vec<String>, PluginError> {
        // APy reads HTML: plain text is escaped on the way in and unescaped on the way out.
        let prepared: Vec<String> = texts
            .iter()
            .map(|text| {
                if markup {
                    text.clone()
                } else {
                    protect::escape(text)
                }
            })
            .collect();
        let finish = |out: &str| {
            let out = strip_apertium_marks(out);
            if markup { out } else { protect::unescape(&out) }
        };
        if prepared.len() > 1 {
            let joined = self.apertium_one(s, t, &prepared.join(APERTIUM_SEPARATOR))?;
            let parts: Vec<&str> = joined.split(APERTIUM_SEPARATOR).collect();
            if parts.len() == prepared.len() {
                return Ok(parts.into_iter().map(finish).collect());
            }
            log::warn(&format!(
                "{}: {} of {} boundaries came back; translating the texts one by one",
                self.name(),
                parts.len().saturating_sub(1),
                prepared.len() - 1
            ));
        }
        prepared
            .iter()
            .map(|text| self.apertium_one(s, t, text).map(|out| finish(&out)))
            .collect()
    }

    fn apertium_one(&self, s: &str, t: &str, q: &str) -> Result<String, PluginError> {
        let query = format!(
            "langpair={s}|{t}&q={}&markUnknown=no",
            utf8_percent_encode(q, QUERY_VALUE)
        );
        let get = format!("{}/translate?{query}", self.url);
        let request = if get.len() <= APERTIUM_MAX_GET_URL {
            Request::get(get)
        } else {
            Request::post(format!("{}/translate", self.url), query.into_bytes())
                .header("content-type", "application/x-www-form-urlencoded")
        };
        let reply = self.json(&self.send(request)?)?;
        let status = reply.get("responseStatus").and_then(Value::as_i64);
        let text = reply
            .get("responseData")
            .and_then(|d| d.get("translatedText"))
            .and_then(Value::as_str);
        match (status, text) {
            (Some(200) | None, Some(text)) => Ok(text.to_owned()),
            (Some(status), _) => Err(self.failure(format!(
                "responseStatus {status}: {}",
                reply
                    .get("responseDetails")
                    .and_then(Value::as_str)
                    .unwrap_or("no details")
            ))),
            (None, None) => {
                Err(self.failure("reply in the wrong shape (no responseData.translatedText)"))
            }
        }
    }

    fn libretranslate(
        &self,
        s: &str,
        t: &str,
        texts: &[String],
        markup: bool,
    ) -> Result<Vec<String>, PluginError> {
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
        let reply = self.post_json("/translate", &body)?;
        let shape = || self.failure("reply in the wrong shape (no translatedText)");
        match reply.get("translatedText") {
            Some(Value::String(one)) if texts.len() == 1 => Ok(vec![one.clone()]),
            Some(Value::Array(many)) => many
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(shape))
                .collect(),
            _ => Err(shape()),
        }
    }

    /// POSTs `body` as JSON to `path` of the engine and reads the JSON reply.
    fn post_json(&self, path: &str, body: &Value) -> Result<Value, PluginError> {
        let request = Request::post(format!("{}{path}", self.url), body.to_string().into_bytes())
            .header("content-type", "application/json");
        self.json(&self.send(request)?)
    }

    fn deepl(
        &self,
        src: &str,
        tgt: &str,
        texts: &[String],
        markup: bool,
        formality: Formality,
    ) -> Result<Vec<String>, PluginError> {
        let code = |lang: &str, target: bool| {
            DEEPL
                .iter()
                .find(|(c, _, _)| *c == lang)
                .map(|(_, s, t)| if target { *t } else { *s })
                .unwrap_or_default()
        };
        let mut body = json!({
            "text": texts,
            "source_lang": code(src, false),
            "target_lang": code(tgt, true),
        });
        if markup {
            // Placeholders are empty XML elements; DeepL keeps tags it is told about.
            body["tag_handling"] = json!("xml");
        }
        match formality {
            Formality::More => body["formality"] = json!("prefer_more"),
            Formality::Less => body["formality"] = json!("prefer_less"),
            Formality::Default => {}
        }
        let reply = self.post_json("/v2/translate", &body)?;
        let shape = || self.failure("reply in the wrong shape (no translations[].text)");
        reply
            .get("translations")
            .and_then(Value::as_array)
            .ok_or_else(shape)?
            .iter()
            .map(|t| {
                t.get("text")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(shape)
            })
            .collect()
    }
}

/// Removes the marks Apertium puts before words it could not handle (`#` for a
/// form it could not generate, `@` for a word missing from the bilingual
/// dictionary; `markUnknown=no` removes only `*`). The text sent never has such a
/// mark of its own: `#1234` and `@mentions` travel as placeholders.
fn strip_apertium_marks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let word_start =
            previous.is_none_or(|p| !p.is_alphanumeric() && !matches!(p, '#' | '@' | '&'));
        let before_letter = chars.peek().is_some_and(|n| n.is_alphabetic());
        if (c == '#' || c == '@') && word_start && before_letter {
            previous = Some(' ');
            continue;
        }
        out.push(c);
        previous = Some(c);
    }
    out
}

/// The message an engine's JSON error reply gives (`{"message": …}` as DeepL
/// writes it, `{"error": {"message": …}}` as Google, Azure and LibreTranslate
/// do, or `{"error": "…"}`), cut to 200 characters. Never the raw body: an
/// arbitrary server's reply is not the engine's to pass on into errors and logs.
fn engine_message(body: &[u8]) -> Option<String> {
    let reply: Value = serde_json::from_slice(body).ok()?;
    let message = reply
        .get("message")
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
    fn apertium_marks_are_removed() {
        assert_eq!(
            strip_apertium_marks("Las llamadas de #motor en"),
            "Las llamadas de motor en"
        );
        assert_eq!(
            strip_apertium_marks("@word y #1 y C# y a@b"),
            "word y #1 y C# y a@b"
        );
        assert_eq!(strip_apertium_marks("<x0/>#coche"), "<x0/>coche");
        assert_eq!(strip_apertium_marks("&#xe9;"), "&#xe9;");
    }
}
