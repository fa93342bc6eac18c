//! The host functions a plugin may call. Inside a component they are the contract's
//! imports; in native builds (unit tests) they are served by [`crate::testing`].

/// The contract's generated bindings: the only `wit_bindgen::generate!` of the SDK.
#[doc(hidden)]
#[allow(unsafe_code, missing_docs, unreachable_pub, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit/crossdesk-plugin@0.2.1",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_crossdesk_plugin",
        default_bindings_module: "crossdesk_sdk::__private::bindings",
        runtime_path: "crossdesk_sdk::__private::bindings::wit_bindgen_rt",
    });

    #[doc(hidden)]
    pub use wit_bindgen::rt as wit_bindgen_rt;
}

#[cfg(target_arch = "wasm32")]
use bindings::crossdesk::plugin as imports;

/// Persistent key-value storage, scoped to the current tenant and this plugin.
/// The admin must grant it; otherwise every call returns [`kv::KvError::Denied`].
/// A key holds at most 512 bytes, a value 1 MiB, and all of a tenant's entries
/// of this plugin the operator's quota (256 MiB unless configured otherwise;
/// each entry weighs its key, its value and 64 bytes): past any of them,
/// [`kv::KvError::TooLarge`]. A key (or prefix) holding a NUL character is
/// refused with [`kv::KvError::Backend`].
///
/// Keys of the form `@<plugin>/<key>` name the storage of another plugin of the
/// same tenant: readable (`get`, `list_keys`, which returns such keys) only when
/// the admin granted it (`kv_read`), and never writable.
///
/// ```
/// use crossdesk_sdk::{kv, testing::MockHost};
/// let _host = MockHost::new().grant_kv().install();
/// kv::put("visits", b"1").unwrap();
/// assert_eq!(kv::get("visits").unwrap(), Some(b"1".to_vec()));
/// ```
pub mod kv {
    #[cfg(target_arch = "wasm32")]
    use super::imports::kv as wit;

    /// Why a storage call failed.
    ///
    /// ```
    /// let e = crossdesk_sdk::kv::KvError::Denied("not granted".into());
    /// assert_eq!(e.to_string(), "storage denied: not granted");
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum KvError {
        /// Storage is not granted to this plugin for this tenant.
        Denied(String),
        /// The key or value is larger than the host allows, or the write would
        /// pass the plugin's storage quota for the tenant.
        TooLarge(String),
        /// The store failed.
        Backend(String),
    }

    impl std::fmt::Display for KvError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                KvError::Denied(m) => write!(f, "storage denied: {m}"),
                KvError::TooLarge(m) => write!(f, "storage entry too large: {m}"),
                KvError::Backend(m) => write!(f, "storage failed: {m}"),
            }
        }
    }

    impl std::error::Error for KvError {}

    #[cfg(target_arch = "wasm32")]
    impl From<wit::KvError> for KvError {
        fn from(e: wit::KvError) -> KvError {
            match e {
                wit::KvError::Denied(m) => KvError::Denied(m),
                wit::KvError::TooLarge(m) => KvError::TooLarge(m),
                wit::KvError::Backend(m) => KvError::Backend(m),
            }
        }
    }

    /// The value stored under `key`, if any.
    ///
    /// ```
    /// use crossdesk_sdk::{kv, testing::MockHost};
    /// let _host = MockHost::new().grant_kv().install();
    /// assert_eq!(kv::get("missing").unwrap(), None);
    /// ```
    pub fn get(key: &str) -> Result<Option<Vec<u8>>, KvError> {
        #[cfg(target_arch = "wasm32")]
        return wit::get(key).map_err(Into::into);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with(|h| h.kv_get(key));
    }

    /// Stores `value` under `key`.
    ///
    /// ```
    /// use crossdesk_sdk::{kv, testing::MockHost};
    /// let _host = MockHost::new().install(); // storage not granted
    /// assert!(matches!(kv::put("k", b"v"), Err(kv::KvError::Denied(_))));
    /// ```
    pub fn put(key: &str, value: &[u8]) -> Result<(), KvError> {
        #[cfg(target_arch = "wasm32")]
        return wit::put(key, value).map_err(Into::into);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with(|h| h.kv_put(key, value));
    }

    /// Removes `key`; removing a missing key is not an error.
    ///
    /// ```
    /// use crossdesk_sdk::{kv, testing::MockHost};
    /// let _host = MockHost::new().grant_kv().install();
    /// kv::put("k", b"v").unwrap();
    /// kv::delete("k").unwrap();
    /// assert_eq!(kv::get("k").unwrap(), None);
    /// ```
    pub fn delete(key: &str) -> Result<(), KvError> {
        #[cfg(target_arch = "wasm32")]
        return wit::delete(key).map_err(Into::into);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with(|h| h.kv_delete(key));
    }

    /// Sets `key` to `new` (`None`: deletes it) only if its value is `expected`
    /// (`None`: absent), atomically: no other event's write comes between the
    /// comparison and the write. Whether it did. [`update`] retries for you.
    ///
    /// ```
    /// use crossdesk_sdk::{kv, testing::MockHost};
    /// let _host = MockHost::new().grant_kv().install();
    /// assert!(kv::compare_and_swap("n", None, Some(b"1")).unwrap());
    /// assert!(!kv::compare_and_swap("n", None, Some(b"1")).unwrap(), "not absent any more");
    /// assert!(kv::compare_and_swap("n", Some(b"1"), Some(b"2")).unwrap());
    /// assert_eq!(kv::get("n").unwrap(), Some(b"2".to_vec()));
    /// ```
    pub fn compare_and_swap(
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, KvError> {
        #[cfg(target_arch = "wasm32")]
        return wit::compare_and_swap(key, expected, new).map_err(Into::into);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with(|h| h.kv_compare_and_swap(key, expected, new));
    }

    /// Replaces the value of `key` with what `change` makes of it (`None`:
    /// absent, or delete), without losing another event's update: when the key
    /// changed meanwhile, `change` runs again on the new value. Returns the value
    /// written. Gives up with [`KvError::Backend`] after [`UPDATE_ATTEMPTS`].
    ///
    /// ```
    /// use crossdesk_sdk::{kv, testing::MockHost};
    /// let _host = MockHost::new().grant_kv().install();
    /// let bump = |old: Option<&[u8]>| {
    ///     let n: u64 = old.and_then(|v| std::str::from_utf8(v).ok()?.parse().ok()).unwrap_or(0);
    ///     Some((n + 1).to_string().into_bytes())
    /// };
    /// kv::update("visits", bump).unwrap();
    /// assert_eq!(kv::update("visits", bump).unwrap(), Some(b"2".to_vec()));
    /// ```
    pub fn update(
        key: &str,
        mut change: impl FnMut(Option<&[u8]>) -> Option<Vec<u8>>,
    ) -> Result<Option<Vec<u8>>, KvError> {
        for _ in 0..UPDATE_ATTEMPTS {
            let old = get(key)?;
            let new = change(old.as_deref());
            if compare_and_swap(key, old.as_deref(), new.as_deref())? {
                return Ok(new);
            }
        }
        Err(KvError::Backend(format!(
            "'{key}' kept changing: {UPDATE_ATTEMPTS} attempts to update it failed"
        )))
    }

    /// How many times [`update`] tries before giving up.
    pub const UPDATE_ATTEMPTS: u32 = 64;

    /// Most keys one [`list_keys`] returns.
    pub const MAX_LISTED: usize = 10_000;

    /// Keys starting with `prefix`, ascending: the first [`MAX_LISTED`] of them
    /// (to read more, list narrower prefixes, as [`list_all_keys`] does).
    ///
    /// ```
    /// use crossdesk_sdk::{kv, testing::MockHost};
    /// let _host = MockHost::new().grant_kv().install();
    /// kv::put("profile:2", b"").unwrap();
    /// kv::put("profile:1", b"").unwrap();
    /// kv::put("other", b"").unwrap();
    /// assert_eq!(kv::list_keys("profile:").unwrap(), vec!["profile:1", "profile:2"]);
    /// ```
    pub fn list_keys(prefix: &str) -> Result<Vec<String>, KvError> {
        #[cfg(target_arch = "wasm32")]
        return wit::list_keys(prefix).map_err(Into::into);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with(|h| h.kv_list(prefix));
    }

    /// Every key starting with `prefix`, ascending, however many: where a
    /// listing comes back full ([`MAX_LISTED`]), the keys are listed again under
    /// `prefix` and each character of `alphabet` after it. `alphabet` must hold
    /// every character a key may have past the prefix (for keys of hex digests
    /// after language codes: `abcdefghijklmnopqrstuvwxyz0123456789/-_`); a key
    /// with another is missed.
    ///
    /// ```
    /// use crossdesk_sdk::{kv, testing::MockHost};
    /// let _host = MockHost::new().grant_kv().install();
    /// for n in 0..10_005 {
    ///     kv::put(&format!("h/{n:x}"), b"").unwrap();
    /// }
    /// assert_eq!(kv::list_keys("h/").unwrap().len(), kv::MAX_LISTED);
    /// assert_eq!(kv::list_all_keys("h/", "0123456789abcdef").unwrap().len(), 10_005);
    /// ```
    pub fn list_all_keys(prefix: &str, alphabet: &str) -> Result<Vec<String>, KvError> {
        let listed = list_keys(prefix)?;
        if listed.len() < MAX_LISTED {
            return Ok(listed);
        }
        // The prefix itself, a key, is listed first and under no longer prefix.
        let mut all: Vec<String> = listed.into_iter().take_while(|k| k == prefix).collect();
        for c in alphabet.chars() {
            all.extend(list_all_keys(&format!("{prefix}{c}"), alphabet)?);
        }
        all.sort();
        Ok(all)
    }
}

/// The tenant's settings for this plugin (only keys the manifest declares).
///
/// ```
/// use crossdesk_sdk::{settings, testing::MockHost};
/// let _host = MockHost::new().setting("greeting", "Hi").install();
/// assert_eq!(settings::get("greeting").as_deref(), Some("Hi"));
/// ```
pub mod settings {
    /// The setting `key`, if the admin set it.
    ///
    /// ```
    /// use crossdesk_sdk::{settings, testing::MockHost};
    /// let _host = MockHost::new().install();
    /// assert_eq!(settings::get("greeting"), None);
    /// ```
    pub fn get(key: &str) -> Option<String> {
        #[cfg(target_arch = "wasm32")]
        return super::imports::settings::get(key);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with(|h| h.settings.get(key).cloned());
    }

    /// All settings, as `(key, value)` pairs.
    ///
    /// ```
    /// use crossdesk_sdk::{settings, testing::MockHost};
    /// let _host = MockHost::new().setting("a", "1").install();
    /// assert_eq!(settings::all(), vec![("a".to_string(), "1".to_string())]);
    /// ```
    pub fn all() -> Vec<(String, String)> {
        #[cfg(target_arch = "wasm32")]
        return super::imports::settings::all();
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with(|h| {
            h.settings
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
    }

    /// Every setting with one host call, to take typed ([`crate::Setting`]).
    ///
    /// ```
    /// use crossdesk_sdk::{Setting, settings, testing::MockHost};
    /// const N: Setting = Setting::int("n").default("2");
    /// let _host = MockHost::new().install();
    /// assert_eq!(settings::read().int(&N).unwrap(), 2);
    /// ```
    pub fn read() -> crate::SettingValues {
        crate::SettingValues(all())
    }
}

/// The tenant's contact history (conversations per quarter hour, language and
/// channel), readable in commands an admin runs for a tenant; denied while
/// handling events.
///
/// ```
/// use crossdesk_sdk::{contacts, testing::MockHost};
/// let count = contacts::ContactCount { bucket_start_ms: 0, language: "es".into(),
///     channel: "email".into(), arrivals: 3, handled: 2, handle_secs: 400.0 };
/// let _host = MockHost::new().contact_history(vec![count.clone()]).install();
/// assert_eq!(contacts::history(0, 900_000).unwrap(), vec![count]);
/// ```
pub mod contacts {
    /// Conversations of one quarter hour, language and channel.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ContactCount {
        /// Start of the quarter hour, milliseconds since the Unix epoch (UTC).
        pub bucket_start_ms: i64,
        /// Language code (`es`), or `und` when unknown.
        pub language: String,
        /// `email`, `web-chat`, ...
        pub channel: String,
        /// Conversations that arrived.
        pub arrivals: u64,
        /// Conversations finished with a known handling time.
        pub handled: u64,
        /// Their summed handling time, in seconds.
        pub handle_secs: f64,
    }

    /// The counts of buckets starting in `[from_ms, to_ms)`, oldest first; an
    /// error when the history is not readable here (while handling an event).
    ///
    /// ```
    /// use crossdesk_sdk::{contacts, testing::MockHost};
    /// let _host = MockHost::new().install(); // no history granted
    /// assert!(contacts::history(0, 1).is_err());
    /// ```
    pub fn history(from_ms: i64, to_ms: i64) -> Result<Vec<ContactCount>, String> {
        #[cfg(target_arch = "wasm32")]
        return super::imports::contacts::history(from_ms, to_ms).map(|counts| {
            counts
                .into_iter()
                .map(|c| ContactCount {
                    bucket_start_ms: c.bucket_start_ms,
                    language: c.language,
                    channel: c.channel,
                    arrivals: c.arrivals,
                    handled: c.handled,
                    handle_secs: c.handle_secs,
                })
                .collect()
        });
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with(|h| h.contacts_between(from_ms, to_ms));
    }
}

/// Outbound HTTP, only to hosts the admin allowed; credentials are added by the host.
///
/// ```
/// use crossdesk_sdk::{http, testing::MockHost};
/// let _host = MockHost::new()
///     .http_response("https://api.example.com/v1", 200, b"{\"ok\":true}")
///     .install();
/// let response = http::get("https://api.example.com/v1").unwrap();
/// assert_eq!(response.status, 200);
/// ```
pub mod http {
    #[cfg(target_arch = "wasm32")]
    use super::imports::http as wit;

    /// Headers the host sets itself (from the URL and the body) and refuses from
    /// a plugin, with [`HttpError::Denied`]: they route or frame the request.
    /// Names are compared in lower case.
    pub const HOST_SET_HEADERS: [&str; 10] = [
        "host",
        "content-length",
        "transfer-encoding",
        "te",
        "trailer",
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "upgrade",
    ];

    /// Most headers one request may carry ([`HttpError::InvalidRequest`] past it).
    pub const MAX_REQUEST_HEADERS: usize = 100;

    /// An HTTP request.
    ///
    /// ```
    /// let r = crossdesk_sdk::http::Request::post("https://x.example/t", b"q=1".to_vec())
    ///     .header("content-type", "application/x-www-form-urlencoded");
    /// assert_eq!(r.method, "POST");
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Request {
        /// `GET`, `POST`, ...
        pub method: String,
        /// Absolute `http` or `https` URL.
        pub url: String,
        /// Request headers.
        pub headers: Vec<(String, String)>,
        /// Request body.
        pub body: Vec<u8>,
    }

    impl Request {
        /// A `GET` of `url`.
        ///
        /// ```
        /// assert_eq!(crossdesk_sdk::http::Request::get("https://x.example").method, "GET");
        /// ```
        pub fn get(url: impl Into<String>) -> Request {
            Request {
                method: "GET".into(),
                url: url.into(),
                headers: Vec::new(),
                body: Vec::new(),
            }
        }

        /// A `POST` of `body` to `url`.
        ///
        /// ```
        /// let r = crossdesk_sdk::http::Request::post("https://x.example", b"hi".to_vec());
        /// assert_eq!(r.body, b"hi");
        /// ```
        pub fn post(url: impl Into<String>, body: Vec<u8>) -> Request {
            Request {
                method: "POST".into(),
                url: url.into(),
                headers: Vec::new(),
                body,
            }
        }

        /// This request with one more header; the host refuses those of
        /// [`HOST_SET_HEADERS`].
        ///
        /// ```
        /// let r = crossdesk_sdk::http::Request::get("https://x.example").header("accept", "text/plain");
        /// assert_eq!(r.headers.len(), 1);
        /// ```
        pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
            self.headers.push((name.into(), value.into()));
            self
        }
    }

    /// An HTTP response.
    ///
    /// ```
    /// let r = crossdesk_sdk::http::Response { status: 200, headers: vec![], body: b"hi".to_vec() };
    /// assert_eq!(r.text(), "hi");
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Response {
        /// Status code.
        pub status: u16,
        /// Response headers.
        pub headers: Vec<(String, String)>,
        /// Response body.
        pub body: Vec<u8>,
    }

    impl Response {
        /// The body as text (invalid UTF-8 replaced).
        ///
        /// ```
        /// let r = crossdesk_sdk::http::Response { status: 200, headers: vec![], body: vec![0xff] };
        /// assert_eq!(r.text(), "\u{fffd}");
        /// ```
        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }
    }

    /// Why a request failed.
    ///
    /// ```
    /// let e = crossdesk_sdk::http::HttpError::Timeout;
    /// assert_eq!(e.to_string(), "request timed out");
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum HttpError {
        /// The host, its address or the scheme is not allowed.
        Denied(String),
        /// The request was malformed.
        InvalidRequest(String),
        /// No answer in time.
        Timeout,
        /// The connection failed.
        Transport(String),
        /// The response was larger than the host allows.
        TooLarge,
    }

    impl std::fmt::Display for HttpError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                HttpError::Denied(m) => write!(f, "request denied: {m}"),
                HttpError::InvalidRequest(m) => write!(f, "invalid request: {m}"),
                HttpError::Timeout => f.write_str("request timed out"),
                HttpError::Transport(m) => write!(f, "request failed: {m}"),
                HttpError::TooLarge => f.write_str("response too large"),
            }
        }
    }

    impl std::error::Error for HttpError {}

    /// Sends `request`.
    ///
    /// ```
    /// use crossdesk_sdk::{http, testing::MockHost};
    /// let _host = MockHost::new().install(); // no host allowed
    /// let err = http::send(http::Request::get("https://api.example.com")).unwrap_err();
    /// assert!(matches!(err, http::HttpError::Denied(_)));
    /// ```
    pub fn send(request: Request) -> Result<Response, HttpError> {
        #[cfg(target_arch = "wasm32")]
        {
            let request = wit::Request {
                method: request.method,
                url: request.url,
                headers: request.headers,
                body: request.body,
            };
            return match wit::fetch(&request) {
                Ok(r) => Ok(Response {
                    status: r.status,
                    headers: r.headers,
                    body: r.body,
                }),
                Err(wit::HttpError::Denied(m)) => Err(HttpError::Denied(m)),
                Err(wit::HttpError::InvalidRequest(m)) => Err(HttpError::InvalidRequest(m)),
                Err(wit::HttpError::Timeout) => Err(HttpError::Timeout),
                Err(wit::HttpError::Transport(m)) => Err(HttpError::Transport(m)),
                Err(wit::HttpError::TooLarge) => Err(HttpError::TooLarge),
            };
        }
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with(|h| h.http_send(&request));
    }

    /// Sends a `GET` of `url`.
    ///
    /// ```
    /// use crossdesk_sdk::{http, testing::MockHost};
    /// let _host = MockHost::new().http_response("https://x.example/a", 404, b"").install();
    /// assert_eq!(http::get("https://x.example/a").unwrap().status, 404);
    /// ```
    pub fn get(url: &str) -> Result<Response, HttpError> {
        send(Request::get(url))
    }
}

/// Log lines, forwarded to the host's logs with the tenant and plugin attached.
///
/// ```
/// use crossdesk_sdk::{log, testing::MockHost};
/// let host = MockHost::new().install();
/// log::info("looked up the profile");
/// assert_eq!(host.logs(), vec![(log::Level::Info, "looked up the profile".to_string())]);
/// ```
pub mod log {
    /// How important a line is.
    ///
    /// ```
    /// assert!(crossdesk_sdk::log::Level::Warn > crossdesk_sdk::log::Level::Info);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    pub enum Level {
        /// Very detailed.
        Trace,
        /// For developers.
        Debug,
        /// Normal operation.
        Info,
        /// Something looks wrong.
        Warn,
        /// Something failed.
        Error,
    }

    /// Logs `message` at `level`.
    ///
    /// ```
    /// use crossdesk_sdk::{log, testing::MockHost};
    /// let host = MockHost::new().install();
    /// log::log(log::Level::Debug, "x");
    /// assert_eq!(host.logs().len(), 1);
    /// ```
    pub fn log(level: Level, message: &str) {
        #[cfg(target_arch = "wasm32")]
        {
            use super::imports::log as wit;
            let level = match level {
                Level::Trace => wit::Level::Trace,
                Level::Debug => wit::Level::Debug,
                Level::Info => wit::Level::Info,
                Level::Warn => wit::Level::Warn,
                Level::Error => wit::Level::Error,
            };
            wit::log(level, message);
        }
        #[cfg(not(target_arch = "wasm32"))]
        crate::testing::with(|h| h.logs.borrow_mut().push((level, message.to_owned())));
    }

    /// Logs `message` at info level.
    ///
    /// ```
    /// crossdesk_sdk::testing::MockHost::new().install();
    /// crossdesk_sdk::log::info("hello");
    /// ```
    pub fn info(message: &str) {
        log(Level::Info, message);
    }

    /// Logs `message` at warning level.
    ///
    /// ```
    /// crossdesk_sdk::testing::MockHost::new().install();
    /// crossdesk_sdk::log::warn("odd input");
    /// ```
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }
}

/// Wall-clock time.
///
/// ```
/// use crossdesk_sdk::{clock, testing::MockHost};
/// let _host = MockHost::new().now_ms(1_700_000_000_000).install();
/// assert_eq!(clock::now_ms(), 1_700_000_000_000);
/// ```
pub mod clock {
    /// Milliseconds since the Unix epoch (UTC).
    ///
    /// ```
    /// crossdesk_sdk::testing::MockHost::new().now_ms(5).install();
    /// assert_eq!(crossdesk_sdk::clock::now_ms(), 5);
    /// ```
    pub fn now_ms() -> i64 {
        #[cfg(target_arch = "wasm32")]
        return super::imports::clock::now_ms();
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with(|h| h.now_ms);
    }
}
