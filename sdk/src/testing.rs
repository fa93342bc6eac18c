//! A stand-in host for native unit tests of plugin logic.
//!
//! In native builds the SDK's host functions ([`crate::kv`], [`crate::settings`],
//! [`crate::http`], [`crate::log`], [`crate::clock`]) are served by the
//! [`MockHost`] installed on the current thread. It behaves like the real host:
//! storage and outbound hosts are denied unless granted.
//!
//! ```
//! use crossdesk_sdk::{kv, testing::MockHost};
//!
//! let host = MockHost::new().grant_kv().setting("tag", "vip").install();
//! kv::put("seen", b"yes").unwrap();
//! assert_eq!(host.kv_value("seen"), Some(b"yes".to_vec()));
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::http::{HttpError, Request, Response};
use crate::kv::KvError;

/// The host's storage limits (crossdesk-sidecar's `runtime/host.rs`), met here so
/// that a plugin meets them in its own tests, not first in production.
const MAX_KV_KEY: usize = 512;
const MAX_KV_VALUE: usize = 1 << 20;
const MAX_KV_LIST: usize = crate::kv::MAX_LISTED;

/// The host's refusal of `key`, and of `value` when given.
fn within_limits(key: &str, value: Option<&[u8]>) -> Result<(), KvError> {
    if key.contains('\0') {
        return Err(KvError::Backend(format!(
            "a storage key may not contain a NUL character: {key:?}"
        )));
    }
    if key.len() > MAX_KV_KEY {
        return Err(KvError::TooLarge(format!(
            "key of {} bytes; the limit is {MAX_KV_KEY}",
            key.len()
        )));
    }
    match value {
        Some(value) if value.len() > MAX_KV_VALUE => Err(KvError::TooLarge(format!(
            "value of {} bytes; the limit is {MAX_KV_VALUE}",
            value.len()
        ))),
        _ => Ok(()),
    }
}
use crate::log::Level;

/// The state of a stand-in host. Build it, then [`MockHost::install`] it.
///
/// ```
/// let host = crossdesk_sdk::testing::MockHost::new().install();
/// assert!(host.logs().is_empty());
/// ```
#[derive(Debug, Default)]
pub struct MockHost {
    kv: Option<RefCell<BTreeMap<String, Vec<u8>>>>,
    /// Other plugins' storage this plugin may read, by `@<plugin>/<key>`.
    readable: BTreeMap<String, Vec<u8>>,
    readable_plugins: Vec<String>,
    pub(crate) settings: BTreeMap<String, String>,
    contact_history: Option<Vec<crate::contacts::ContactCount>>,
    responses: Vec<(String, Response)>,
    pub(crate) now_ms: i64,
    pub(crate) logs: RefCell<Vec<(Level, String)>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<MockHost>>> = const { RefCell::new(None) };
}

/// Runs `f` with the installed host; a default one is installed if none is.
pub(crate) fn with<R>(f: impl FnOnce(&MockHost) -> R) -> R {
    let host = CURRENT.with(|current| {
        current
            .borrow_mut()
            .get_or_insert_with(|| Rc::new(MockHost::new()))
            .clone()
    });
    f(&host)
}

impl MockHost {
    /// A host granting nothing, with no settings and the clock at 0.
    ///
    /// ```
    /// let host = crossdesk_sdk::testing::MockHost::new();
    /// # drop(host);
    /// ```
    pub fn new() -> MockHost {
        MockHost::default()
    }

    /// Grants key-value storage (empty at first).
    ///
    /// ```
    /// crossdesk_sdk::testing::MockHost::new().grant_kv().install();
    /// assert!(crossdesk_sdk::kv::get("x").is_ok());
    /// ```
    pub fn grant_kv(mut self) -> MockHost {
        self.kv = Some(RefCell::default());
        self
    }

    /// Lets the plugin read the storage of plugin `plugin` (as the admin's
    /// `kv_read` grant does) and puts `value` under `key` there. The plugin reads it
    /// as `@<plugin>/<key>`; like the real host, writes to such keys are refused.
    ///
    /// ```
    /// use crossdesk_sdk::{kv, testing::MockHost};
    /// MockHost::new().readable_kv("recommend", "kb/article/1", b"{}").install();
    /// assert_eq!(kv::get("@recommend/kb/article/1").unwrap(), Some(b"{}".to_vec()));
    /// assert_eq!(kv::list_keys("@recommend/kb/").unwrap(), ["@recommend/kb/article/1"]);
    /// assert!(kv::put("@recommend/kb/article/1", b"x").is_err());
    /// assert!(kv::get("@other/x").is_err());
    /// ```
    pub fn readable_kv(mut self, plugin: &str, key: &str, value: &[u8]) -> MockHost {
        if !self.readable_plugins.iter().any(|p| p == plugin) {
            self.readable_plugins.push(plugin.to_owned());
        }
        self.readable
            .insert(format!("@{plugin}/{key}"), value.to_vec());
        self
    }

    /// Sets a plugin setting.
    ///
    /// ```
    /// crossdesk_sdk::testing::MockHost::new().setting("k", "v").install();
    /// assert_eq!(crossdesk_sdk::settings::get("k").as_deref(), Some("v"));
    /// ```
    pub fn setting(mut self, key: impl Into<String>, value: impl Into<String>) -> MockHost {
        self.settings.insert(key.into(), value.into());
        self
    }

    /// Makes the tenant's contact history readable (as in a command an admin runs)
    /// with these counts.
    ///
    /// ```
    /// crossdesk_sdk::testing::MockHost::new().contact_history(vec![]).install();
    /// assert_eq!(crossdesk_sdk::contacts::history(0, 1).unwrap(), vec![]);
    /// ```
    pub fn contact_history(mut self, counts: Vec<crate::contacts::ContactCount>) -> MockHost {
        self.contact_history = Some(counts);
        self
    }

    /// Allows requests to `url` and answers them with `status` and `body`. URLs not
    /// registered are denied, as an unlisted host is by the real host.
    ///
    /// ```
    /// crossdesk_sdk::testing::MockHost::new().http_response("https://a.example/", 200, b"ok").install();
    /// assert_eq!(crossdesk_sdk::http::get("https://a.example/").unwrap().text(), "ok");
    /// ```
    pub fn http_response(mut self, url: impl Into<String>, status: u16, body: &[u8]) -> MockHost {
        self.responses.push((
            url.into(),
            Response {
                status,
                headers: Vec::new(),
                body: body.to_vec(),
            },
        ));
        self
    }

    /// Sets the clock.
    ///
    /// ```
    /// crossdesk_sdk::testing::MockHost::new().now_ms(42).install();
    /// assert_eq!(crossdesk_sdk::clock::now_ms(), 42);
    /// ```
    pub fn now_ms(mut self, now_ms: i64) -> MockHost {
        self.now_ms = now_ms;
        self
    }

    /// Makes this the host of the current thread, replacing any other, and returns a
    /// handle to inspect it afterwards.
    ///
    /// ```
    /// let host = crossdesk_sdk::testing::MockHost::new().install();
    /// crossdesk_sdk::log::info("x");
    /// assert_eq!(host.logs().len(), 1);
    /// ```
    pub fn install(self) -> Rc<MockHost> {
        let host = Rc::new(self);
        CURRENT.with(|current| *current.borrow_mut() = Some(host.clone()));
        host
    }

    /// Installs this host for plugin `P`, held to `P`'s manifest as the real host
    /// holds it: a setting the manifest does not declare, which no admin could
    /// set, fails the test (naming it), and storage is granted only when the
    /// manifest asks for it.
    ///
    /// ```
    /// use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError, settings};
    /// struct Greeter;
    /// impl Plugin for Greeter {
    ///     fn manifest() -> Manifest {
    ///         Manifest::new("greeter", "0.1.0").handles(EventKind::CustomerMessage).reads_setting("greeting")
    ///     }
    ///     fn handle(_: Event) -> Result<Vec<Action>, PluginError> { Ok(vec![]) }
    /// }
    /// crossdesk_sdk::testing::MockHost::new().setting("greeting", "Hola").install_for::<Greeter>();
    /// assert_eq!(settings::get("greeting").as_deref(), Some("Hola"));
    /// ```
    pub fn install_for<P: crate::Plugin>(mut self) -> Rc<MockHost> {
        let manifest = P::manifest();
        let declared: Vec<&str> = manifest
            .settings
            .iter()
            .map(|declaration| declaration.split(':').next().unwrap_or_default().trim())
            .collect();
        let undeclared: Vec<&String> = self
            .settings
            .keys()
            .filter(|key| !declared.contains(&key.as_str()))
            .collect();
        assert!(
            undeclared.is_empty(),
            "settings the manifest of '{}' does not declare, which no admin can set: {undeclared:?} \
             (it declares {declared:?})",
            manifest.name
        );
        if !manifest.kv {
            self.kv = None;
        }
        self.install()
    }

    /// What is stored under `key`.
    ///
    /// ```
    /// let host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
    /// assert_eq!(host.kv_value("nothing"), None);
    /// ```
    pub fn kv_value(&self, key: &str) -> Option<Vec<u8>> {
        self.kv.as_ref()?.borrow().get(key).cloned()
    }

    /// The lines logged so far.
    ///
    /// ```
    /// let host = crossdesk_sdk::testing::MockHost::new().install();
    /// assert!(host.logs().is_empty());
    /// ```
    pub fn logs(&self) -> Vec<(Level, String)> {
        self.logs.borrow().clone()
    }

    fn store(&self) -> Result<&RefCell<BTreeMap<String, Vec<u8>>>, KvError> {
        self.kv
            .as_ref()
            .ok_or_else(|| KvError::Denied("key-value storage is not granted".into()))
    }

    /// For a key naming another plugin's storage (`@<plugin>/...`): whether this
    /// plugin may read it.
    fn shared(&self, key: &str) -> Option<Result<(), KvError>> {
        let rest = key.strip_prefix('@')?;
        let plugin = rest.split('/').next().unwrap_or(rest);
        Some(if self.readable_plugins.iter().any(|p| p == plugin) {
            Ok(())
        } else {
            Err(KvError::Denied(format!(
                "reading the storage of plugin '{plugin}' is not granted"
            )))
        })
    }

    fn refuse_shared_write(key: &str) -> Result<(), KvError> {
        if key.starts_with('@') {
            return Err(KvError::Denied(format!(
                "'{key}' names another plugin's storage, which is read-only"
            )));
        }
        Ok(())
    }

    pub(crate) fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        within_limits(key, None)?;
        if let Some(allowed) = self.shared(key) {
            return allowed.map(|()| self.readable.get(key).cloned());
        }
        Ok(self.store()?.borrow().get(key).cloned())
    }

    pub(crate) fn kv_put(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        within_limits(key, Some(value))?;
        Self::refuse_shared_write(key)?;
        self.store()?
            .borrow_mut()
            .insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    pub(crate) fn kv_compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, KvError> {
        within_limits(key, new)?;
        Self::refuse_shared_write(key)?;
        let store = self.store()?;
        let mut store = store.borrow_mut();
        if store.get(key).map(Vec::as_slice) != expected {
            return Ok(false);
        }
        match new {
            Some(value) => store.insert(key.to_owned(), value.to_vec()),
            None => store.remove(key),
        };
        Ok(true)
    }

    pub(crate) fn kv_delete(&self, key: &str) -> Result<(), KvError> {
        within_limits(key, None)?;
        Self::refuse_shared_write(key)?;
        self.store()?.borrow_mut().remove(key);
        Ok(())
    }

    pub(crate) fn kv_list(&self, prefix: &str) -> Result<Vec<String>, KvError> {
        within_limits(prefix, None)?;
        if let Some(allowed) = self.shared(prefix) {
            return allowed.map(|()| {
                self.readable
                    .keys()
                    .filter(|k| k.starts_with(prefix))
                    .take(MAX_KV_LIST)
                    .cloned()
                    .collect()
            });
        }
        Ok(self
            .store()?
            .borrow()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .take(MAX_KV_LIST)
            .cloned()
            .collect())
    }

    pub(crate) fn http_send(&self, request: &Request) -> Result<Response, HttpError> {
        use crate::http::{HOST_SET_HEADERS, MAX_REQUEST_HEADERS};
        if request.headers.len() > MAX_REQUEST_HEADERS {
            return Err(HttpError::InvalidRequest(format!(
                "{} headers: a request has at most {MAX_REQUEST_HEADERS}",
                request.headers.len()
            )));
        }
        if let Some((name, _)) = request
            .headers
            .iter()
            .find(|(name, _)| HOST_SET_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
        {
            return Err(HttpError::Denied(format!(
                "header '{}' is set by the host (from the URL and the body), not by plugins",
                name.to_ascii_lowercase()
            )));
        }
        self.responses
            .iter()
            .find(|(url, _)| *url == request.url)
            .map(|(_, response)| response.clone())
            .ok_or_else(|| HttpError::Denied(format!("{} is not allowed", request.url)))
    }

    pub(crate) fn contacts_between(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<crate::contacts::ContactCount>, String> {
        let counts = self.contact_history.as_ref().ok_or_else(|| {
            "the contact history is readable only in commands run for a tenant".to_owned()
        })?;
        let mut between: Vec<_> = counts
            .iter()
            .filter(|c| (from_ms..to_ms).contains(&c.bucket_start_ms))
            .cloned()
            .collect();
        // As the host answers: oldest first, then by language and channel.
        between.sort_by(|a, b| {
            (a.bucket_start_ms, &a.language, &a.channel).cmp(&(
                b.bucket_start_ms,
                &b.language,
                &b.channel,
            ))
        });
        Ok(between)
    }
}

#[cfg(test)]
mod tests {
    use super::MockHost;
    use crate::kv::{self, KvError};

    #[test]
    fn storage_is_held_to_the_hosts_limits() {
        let _host = MockHost::new().grant_kv().install();
        let long_key = "k".repeat(513);
        assert!(matches!(
            kv::put(&long_key, b"v"),
            Err(KvError::TooLarge(_))
        ));
        assert!(matches!(kv::get(&long_key), Err(KvError::TooLarge(_))));
        let big = vec![0; (1 << 20) + 1];
        assert!(matches!(kv::put("k", &big), Err(KvError::TooLarge(_))));
        assert!(matches!(
            kv::compare_and_swap("k", None, Some(&big)),
            Err(KvError::TooLarge(_))
        ));
        kv::put(&"k".repeat(512), &vec![0; 1 << 20]).expect("at the limits");
        assert!(matches!(kv::put("a\0b", b"v"), Err(KvError::Backend(m)) if m.contains("NUL")));
        assert!(matches!(kv::list_keys("a\0"), Err(KvError::Backend(_))));
    }

    #[test]
    fn the_contact_history_comes_oldest_first_as_the_host_answers() {
        use crate::contacts::{self, ContactCount};
        let count = |bucket_start_ms: i64, language: &str| ContactCount {
            bucket_start_ms,
            language: language.into(),
            channel: "email".into(),
            arrivals: 1,
            handled: 1,
            handle_secs: 60.0,
        };
        let _host = MockHost::new()
            .contact_history(vec![
                count(1_800_000, "es"),
                count(900_000, "es"),
                count(900_000, "en"),
            ])
            .install();
        let got: Vec<(i64, String)> = contacts::history(0, 3_600_000)
            .expect("history")
            .into_iter()
            .map(|c| (c.bucket_start_ms, c.language))
            .collect();
        assert_eq!(
            got,
            [
                (900_000, "en".to_owned()),
                (900_000, "es".to_owned()),
                (1_800_000, "es".to_owned())
            ]
        );
    }

    struct Tagger;

    impl crate::Plugin for Tagger {
        fn manifest() -> crate::Manifest {
            crate::Manifest::new("tagger", "0.1.0").reads_setting("signature: text")
        }

        fn handle(_: crate::Event) -> Result<Vec<crate::Action>, crate::PluginError> {
            Ok(Vec::new())
        }
    }

    /// A setting the manifest does not declare (a typo) fails the plugin's own
    /// test, as no admin could ever set it; storage it does not ask for is not
    /// granted.
    #[test]
    fn a_host_for_a_plugin_holds_it_to_its_manifest() {
        let typo = std::panic::catch_unwind(|| {
            MockHost::new()
                .setting("sigature", "x")
                .install_for::<Tagger>();
        });
        let message = typo
            .expect_err("refused")
            .downcast::<String>()
            .map(|m| *m)
            .unwrap_or_default();
        assert!(message.contains("\"sigature\""), "{message}");
        let _host = MockHost::new()
            .grant_kv()
            .setting("signature", "-- Acme")
            .install_for::<Tagger>();
        assert_eq!(
            crate::settings::get("signature").as_deref(),
            Some("-- Acme")
        );
        assert!(matches!(kv::get("k"), Err(KvError::Denied(_))));
    }

    #[test]
    fn requests_are_held_to_the_hosts_rules_on_headers() {
        use crate::http::{self, HttpError, Request};
        let url = "https://a.example/";
        let _host = MockHost::new().http_response(url, 200, b"ok").install();
        http::send(Request::get(url).header("Accept", "text/plain")).expect("answered");
        assert!(matches!(
            http::send(Request::get(url).header("Content-Length", "0")),
            Err(HttpError::Denied(m)) if m.contains("'content-length' is set by the host")
        ));
        let many = (0..101).fold(Request::get(url), |r, i| r.header(format!("x-{i}"), "1"));
        assert!(matches!(
            http::send(many),
            Err(HttpError::InvalidRequest(_))
        ));
    }
}
