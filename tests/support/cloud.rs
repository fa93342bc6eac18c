//! Simulators of the cloud translation engines we cannot reach here, each speaking
//! its service's documented protocol: the endpoints, the authentication (DeepL's
//! `DeepL-Auth-Key`, Google's bearer token, Azure's `Ocp-Apim-Subscription-Key`,
//! Amazon's AWS Signature Version 4, verified; OpenAI's bearer key; a keyed
//! LibreTranslate's `api_key` in the request body, as libretranslate.com asks), the request
//! and response shapes, the error bodies, and `429` with `Retry-After`. They
//! translate from a phrase table; a text not in it is a `400`. A test switches a
//! simulator's [`Mode`] to make it fail, stall or throttle, and reads what it
//! received ([`CloudEngine::requests`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use crossdesk_sidecar::runtime::{aws_sigv4, json_field};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// Which service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    DeepL,
    Google,
    Azure,
    Amazon,
    OpenAi,
    /// A LibreTranslate server run with API keys (`--api-keys`).
    LibreTranslate,
}

impl Protocol {
    /// The engine's name in the translation plugin's settings.
    pub fn engine(self) -> &'static str {
        match self {
            Protocol::DeepL => "deepl",
            Protocol::Google => "google",
            Protocol::Azure => "azure",
            Protocol::Amazon => "amazon",
            Protocol::OpenAi => "openai",
            Protocol::LibreTranslate => "libretranslate",
        }
    }
}

/// What the simulator does with the next requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Answers as the service does.
    Answer,
    /// Answers 503 with the service's error body.
    Down,
    /// Answers 429 with `Retry-After: seconds` and the service's error body.
    Throttled { retry_after_secs: u64 },
    /// Answers, after this long.
    Slow(Duration),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Received {
    /// A header's value, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The simulator's key (Amazon's secret access key; its key id is
/// [`AMAZON_KEY_ID`]).
pub const KEY: &str = "sim-secret-0123456789";
/// Amazon's access key id.
pub const AMAZON_KEY_ID: &str = "AKIDSIMULATOR";
/// The languages every simulator offers.
pub const LANGUAGES: &[&str] = &["en", "es", "de", "fr", "pt", "ja", "zh", "ko", "ar"];

/// What a service lists: [`LANGUAGES`], and the written standards it spells
/// apart (Traditional Chinese, European Portuguese) as its documentation does.
fn listed(protocol: Protocol) -> Vec<&'static str> {
    let variants: &[&str] = match protocol {
        Protocol::Google => &["zh-CN", "zh-TW", "pt-PT"],
        Protocol::Azure => &["zh-Hans", "zh-Hant", "pt-pt"],
        Protocol::Amazon => &["zh-TW", "pt-PT"],
        Protocol::LibreTranslate => &["zt"],
        Protocol::DeepL | Protocol::OpenAi => &[],
    };
    LANGUAGES.iter().chain(variants).copied().collect()
}

struct State {
    protocol: Protocol,
    phrases: Vec<(String, String)>,
    mode: Mutex<Mode>,
    received: Mutex<Vec<Received>>,
    /// What the service's language detection answers (Google, Azure).
    detection: Mutex<Option<(String, f64)>>,
}

/// A simulator on loopback, stopped when dropped.
pub struct CloudEngine {
    pub addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl CloudEngine {
    /// Starts a simulator of `protocol` translating by `phrases` (source, target).
    pub async fn start(protocol: Protocol, phrases: &[(&str, &str)]) -> CloudEngine {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State {
            protocol,
            phrases: phrases
                .iter()
                .map(|(s, t)| ((*s).to_owned(), (*t).to_owned()))
                .collect(),
            mode: Mutex::new(Mode::Answer),
            received: Mutex::new(Vec::new()),
            detection: Mutex::new(None),
        });
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(request, addr, &state).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        CloudEngine { addr, state, task }
    }

    /// The base URL the translation plugin is given for this engine.
    pub fn url(&self) -> String {
        let base = format!("http://{}", self.addr);
        match self.state.protocol {
            Protocol::Google => format!("{base}/v3/projects/simulated/locations/global"),
            Protocol::OpenAi => format!("{base}/v1"),
            _ => base,
        }
    }

    /// `host:port`, for `allowed_hosts` and secrets.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The tenant secret the host adds for this engine: (header, value).
    pub fn secret(&self) -> (&'static str, String) {
        match self.state.protocol {
            Protocol::DeepL => ("Authorization", format!("DeepL-Auth-Key {KEY}")),
            Protocol::Google | Protocol::OpenAi => ("Authorization", format!("Bearer {KEY}")),
            Protocol::Azure => ("Ocp-Apim-Subscription-Key", KEY.to_owned()),
            Protocol::Amazon => (
                aws_sigv4::AWS_SIGV4_HEADER,
                format!("{AMAZON_KEY_ID}:{KEY}:us-east-1:translate"),
            ),
            Protocol::LibreTranslate => (json_field::JSON_FIELD_HEADER, format!("api_key={KEY}")),
        }
    }

    pub fn set_mode(&self, mode: Mode) {
        if let Ok(mut m) = self.state.mode.lock() {
            *m = mode;
        }
    }

    /// What its language detection answers from now on: a language and a
    /// confidence (without one: undetermined, as the services say).
    pub fn set_detection(&self, language: &str, confidence: f64) {
        if let Ok(mut d) = self.state.detection.lock() {
            *d = Some((language.to_owned(), confidence));
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Received> {
        self.state
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

impl Drop for CloudEngine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn reply(status: u16, headers: &[(&str, String)], body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    let content_type = "application/json";
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, v);
    }
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(n, v);
        }
    }
    response
}

/// The service's error body for `status` and `message`.
fn error(protocol: Protocol, status: u16, message: &str) -> Value {
    match protocol {
        Protocol::DeepL => json!({ "message": message }),
        Protocol::Google => json!({ "error": {
            "code": status,
            "message": message,
            "status": match status { 429 => "RESOURCE_EXHAUSTED", 401 => "UNAUTHENTICATED", 400 => "INVALID_ARGUMENT", _ => "UNAVAILABLE" },
        }}),
        Protocol::Azure => {
            json!({ "error": { "code": u32::from(status) * 1000 + 1, "message": message } })
        }
        Protocol::Amazon => json!({
            "__type": match status { 429 => "ThrottlingException", 403 => "InvalidSignatureException", 400 => "ValidationException", _ => "ServiceUnavailableException" },
            "message": message,
        }),
        Protocol::OpenAi => {
            json!({ "error": { "message": message, "type": "invalid_request_error", "code": status } })
        }
        Protocol::LibreTranslate => json!({ "error": message }),
    }
}

async fn handle(
    request: Request<Incoming>,
    addr: SocketAddr,
    state: &State,
) -> Response<Full<Bytes>> {
    let protocol = state.protocol;
    let method = request.method().as_str().to_owned();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let raw = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return reply(400, &[], error(protocol, 400, "unreadable body")),
    };
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let received = Received {
        method,
        path_and_query,
        headers,
        body,
    };
    if let Ok(mut r) = state.received.lock() {
        r.push(received.clone());
    }
    let mode = state.mode.lock().map(|m| m.clone()).unwrap_or(Mode::Down);
    match mode {
        Mode::Down => {
            return reply(
                503,
                &[],
                error(protocol, 503, "Service temporarily unavailable"),
            );
        }
        Mode::Throttled { retry_after_secs } => {
            return reply(
                429,
                &[("Retry-After", retry_after_secs.to_string())],
                error(protocol, 429, "Too many requests, slow down"),
            );
        }
        Mode::Slow(wait) => tokio::time::sleep(wait).await,
        Mode::Answer => {}
    }
    if let Err((status, why)) = authenticated(protocol, &received, &raw, addr) {
        return reply(status, &[], error(protocol, status, &why));
    }
    if let Err(why) = well_formed(protocol, &received) {
        return reply(400, &[], error(protocol, 400, &why));
    }
    let translate = |text: &str| {
        state
            .phrases
            .iter()
            .find(|(source, _)| source == text.trim())
            .map(|(_, target)| target.clone())
    };
    let missing = |text: &str| {
        reply(
            400,
            &[],
            error(protocol, 400, &format!("no phrase for {text:?}")),
        )
    };
    let path = received.path_and_query.split('?').next().unwrap_or("/");
    let detection = state.detection.lock().ok().and_then(|d| d.clone());
    match protocol {
        Protocol::DeepL => {
            let mut out = Vec::new();
            for text in received.body["text"].as_array().into_iter().flatten() {
                let text = text.as_str().unwrap_or_default();
                match translate(text) {
                    Some(t) => out.push(json!({ "detected_source_language": "EN", "text": t })),
                    None => return missing(text),
                }
            }
            reply(200, &[], json!({ "translations": out }))
        }
        Protocol::Google if path.ends_with(":detectLanguage") => {
            let (code, confidence) = detection.unwrap_or(("und".into(), 0.0));
            reply(
                200,
                &[],
                json!({ "languages": [{ "languageCode": code, "confidence": confidence }] }),
            )
        }
        Protocol::Azure if path == "/detect" => {
            let (code, score) = detection.unwrap_or((String::new(), 0.0));
            reply(
                200,
                &[],
                json!([{ "language": code, "score": score, "isTranslationSupported": true, "isTransliterationSupported": false }]),
            )
        }
        Protocol::Google if path.ends_with("/supportedLanguages") => reply(
            200,
            &[],
            json!({ "languages": listed(protocol).iter().map(|l| json!({ "languageCode": l, "supportSource": true, "supportTarget": true })).collect::<Vec<_>>() }),
        ),
        Protocol::Google => {
            let mut out = Vec::new();
            for text in received.body["contents"].as_array().into_iter().flatten() {
                let text = text.as_str().unwrap_or_default();
                match translate(text) {
                    Some(t) => out.push(json!({ "translatedText": t })),
                    None => return missing(text),
                }
            }
            reply(200, &[], json!({ "translations": out }))
        }
        Protocol::Azure if path == "/languages" => reply(
            200,
            &[],
            json!({ "translation": listed(protocol).iter().map(|l| ((*l).to_owned(), json!({ "name": l }))).collect::<serde_json::Map<_, _>>() }),
        ),
        Protocol::Azure => {
            let to = received
                .path_and_query
                .split(['?', '&'])
                .find_map(|p| p.strip_prefix("to="))
                .unwrap_or_default()
                .to_owned();
            let mut out = Vec::new();
            for item in received.body.as_array().into_iter().flatten() {
                let text = item["Text"].as_str().unwrap_or_default();
                match translate(text) {
                    Some(t) => out.push(json!({ "translations": [{ "text": t, "to": to }] })),
                    None => return missing(text),
                }
            }
            reply(200, &[], Value::Array(out))
        }
        Protocol::Amazon => match received.header("x-amz-target") {
            Some("AWSShineFrontendService_20170701.ListLanguages") => reply(
                200,
                &[],
                json!({ "Languages": listed(protocol).iter().map(|l| json!({ "LanguageName": l, "LanguageCode": l })).collect::<Vec<_>>() }),
            ),
            Some("AWSShineFrontendService_20170701.TranslateText") => {
                let text = received.body["Text"].as_str().unwrap_or_default();
                match translate(text) {
                    Some(t) => reply(
                        200,
                        &[],
                        json!({
                            "TranslatedText": t,
                            "SourceLanguageCode": received.body["SourceLanguageCode"],
                            "TargetLanguageCode": received.body["TargetLanguageCode"],
                        }),
                    ),
                    None => missing(text),
                }
            }
            _ => reply(400, &[], error(protocol, 400, "unknown X-Amz-Target")),
        },
        Protocol::LibreTranslate if path == "/languages" => reply(
            200,
            &[],
            Value::Array(
                listed(protocol)
                    .iter()
                    .map(|l| json!({ "code": l, "name": l, "targets": listed(protocol) }))
                    .collect(),
            ),
        ),
        Protocol::LibreTranslate => {
            let body = &received.body;
            let translated = |text: &Value| translate(text.as_str().unwrap_or_default());
            match &body["q"] {
                Value::Array(texts) => {
                    let mut out = Vec::new();
                    for text in texts {
                        match translated(text) {
                            Some(t) => out.push(t),
                            None => return missing(text.as_str().unwrap_or_default()),
                        }
                    }
                    reply(200, &[], json!({ "translatedText": out }))
                }
                text => match translated(text) {
                    Some(t) => reply(200, &[], json!({ "translatedText": t })),
                    None => missing(text.as_str().unwrap_or_default()),
                },
            }
        }
        Protocol::OpenAi => {
            let text = received.body["messages"]
                .as_array()
                .and_then(|m| m.iter().find(|m| m["role"] == "user"))
                .and_then(|m| m["content"].as_str())
                .unwrap_or_default();
            match translate(text) {
                Some(t) => reply(
                    200,
                    &[],
                    json!({
                        "id": "chatcmpl-sim",
                        "object": "chat.completion",
                        "model": received.body["model"],
                        "choices": [{ "index": 0, "message": { "role": "assistant", "content": t }, "finish_reason": "stop" }],
                    }),
                ),
                None => missing(text),
            }
        }
    }
}

/// Whether the request carries the service's credentials.
/// Refuses what the real service refuses of a translation request, as its
/// documentation says: the path and method, the target language, how many texts
/// one request may carry.
fn well_formed(protocol: Protocol, request: &Received) -> Result<(), String> {
    let (path, query) = request
        .path_and_query
        .split_once('?')
        .unwrap_or((request.path_and_query.as_str(), ""));
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
    };
    let count = |texts: &Value| texts.as_array().map_or(0, Vec::len);
    match protocol {
        Protocol::DeepL => {
            if (request.method.as_str(), path) != ("POST", "/v2/translate") {
                return Err(format!("no such endpoint: {} {path}", request.method));
            }
            let target = request.body["target_lang"].as_str().unwrap_or_default();
            if !DEEPL_TARGETS.contains(&target) {
                return Err(format!("Value for 'target_lang' not supported: {target:?}"));
            }
            let source = &request.body["source_lang"];
            if !source.is_null() && source.as_str().is_none_or(|s| s.contains('-')) {
                return Err(format!("Value for 'source_lang' not supported: {source}"));
            }
            match count(&request.body["text"]) {
                1..=50 => Ok(()),
                n => Err(format!("'text' carries 1 to 50 texts, not {n}")),
            }
        }
        Protocol::Azure if path == "/translate" => {
            if request.method != "POST" || param("api-version") != Some("3.0") {
                return Err("POST /translate?api-version=3.0 expected".into());
            }
            if param("to").is_none_or(str::is_empty) {
                return Err("The target language is not valid (no 'to')".into());
            }
            match count(&request.body) {
                1..=1000 => Ok(()),
                n => Err(format!("the request carries 1 to 1,000 elements, not {n}")),
            }
        }
        Protocol::LibreTranslate if path == "/translate" => {
            if request.method != "POST" {
                return Err("POST /translate expected".into());
            }
            for field in ["q", "source", "target"] {
                if request.body[field].is_null() {
                    return Err(format!("Invalid request: missing {field} parameter"));
                }
            }
            Ok(())
        }
        Protocol::Google if path.ends_with(":translateText") => {
            if request.body["targetLanguageCode"]
                .as_str()
                .is_none_or(str::is_empty)
            {
                return Err("Target language is required".into());
            }
            match count(&request.body["contents"]) {
                1..=1024 => Ok(()),
                n => Err(format!("'contents' carries 1 to 1,024 texts, not {n}")),
            }
        }
        _ => Ok(()),
    }
}

/// DeepL's target languages, as its API spells them (a region only where it
/// takes one: `EN-GB`/`EN-US`, `PT-BR`/`PT-PT`, `ZH-HANS`/`ZH-HANT`).
const DEEPL_TARGETS: [&str; 36] = [
    "AR", "BG", "CS", "DA", "DE", "EL", "EN", "EN-GB", "EN-US", "ES", "ET", "FI", "FR", "HU", "ID",
    "IT", "JA", "KO", "LT", "LV", "NB", "NL", "PL", "PT", "PT-BR", "PT-PT", "RO", "RU", "SK", "SL",
    "SV", "TR", "UK", "ZH", "ZH-HANS", "ZH-HANT",
];

/// Whether the request carries the service's credentials; if not, the status
/// and message the service answers with.
fn authenticated(
    protocol: Protocol,
    request: &Received,
    raw: &[u8],
    addr: SocketAddr,
) -> Result<(), (u16, String)> {
    // DeepL and Amazon answer a bad key with 403, the others with 401.
    let status = match protocol {
        Protocol::Amazon | Protocol::DeepL => 403,
        Protocol::LibreTranslate => return libretranslate_key(request),
        _ => 401,
    };
    signed_in(protocol, request, raw, addr).map_err(|why| (status, why))
}

/// Whether a request to a keyed LibreTranslate carries the key: the listing of
/// languages needs none; a translation without a key is a `400` asking for one,
/// with a wrong key a `403` (LibreTranslate's `api_key` checks).
fn libretranslate_key(request: &Received) -> Result<(), (u16, String)> {
    if request.path_and_query.starts_with("/languages") {
        return Ok(());
    }
    match request.body["api_key"].as_str() {
        None | Some("") => Err((
            400,
            "Visit https://portal.libretranslate.com to get an API key".into(),
        )),
        Some(KEY) => Ok(()),
        Some(_) => Err((403, "Invalid API key".into())),
    }
}

fn signed_in(
    protocol: Protocol,
    request: &Received,
    raw: &[u8],
    addr: SocketAddr,
) -> Result<(), String> {
    let header = |name: &str| request.header(name).unwrap_or_default();
    let expect = |name: &str, value: String| {
        if header(name) == value {
            Ok(())
        } else {
            Err(format!("missing or wrong {name}"))
        }
    };
    match protocol {
        Protocol::DeepL => expect("authorization", format!("DeepL-Auth-Key {KEY}")),
        Protocol::Google | Protocol::OpenAi => expect("authorization", format!("Bearer {KEY}")),
        Protocol::Azure => expect("ocp-apim-subscription-key", KEY.to_owned()),
        Protocol::LibreTranslate => libretranslate_key(request).map_err(|(_, why)| why),
        Protocol::Amazon => {
            // Recompute the signature over the headers it says it signed.
            let authorization = header("authorization");
            let signed = authorization
                .split("SignedHeaders=")
                .nth(1)
                .and_then(|s| s.split(',').next())
                .ok_or("no SignedHeaders")?;
            let headers: Vec<(String, String)> = signed
                .split(';')
                .map(|name| {
                    let value = if name == "host" {
                        addr.to_string()
                    } else {
                        header(name).to_owned()
                    };
                    (name.to_owned(), value)
                })
                .collect();
            let credentials = aws_sigv4::Credentials::parse(
                &format!("{AMAZON_KEY_ID}:{KEY}:us-east-1:translate"),
                "127.0.0.1",
            )?;
            let payload = aws_sigv4::payload_hash(raw);
            if header("x-amz-content-sha256") != payload {
                return Err("x-amz-content-sha256 does not match the body".into());
            }
            let (path, query) = request
                .path_and_query
                .split_once('?')
                .unwrap_or((request.path_and_query.as_str(), ""));
            let expected = aws_sigv4::authorization(
                &credentials,
                &aws_sigv4::Signed {
                    method: &request.method,
                    path,
                    query,
                    headers: &headers,
                    payload_hash: &payload,
                    amz_date: header("x-amz-date"),
                },
            );
            if expected == authorization {
                Ok(())
            } else {
                Err(
                    "The request signature we calculated does not match the signature you provided"
                        .into(),
                )
            }
        }
    }
}
