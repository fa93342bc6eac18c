//! A circuit breaker per engine, kept in the plugin's storage so that every call
//! sees it: after [`FAILURES_TO_OPEN`] failures in a row an engine is left alone for
//! [`OPEN_FOR_MS`], and at once for as long as its `Retry-After` asked; then one
//! call tries it again, and a success closes the breaker. The state is written only
//! when it changes (a kv write invalidates the host's cached results).

use crossdesk_sdk::{clock, kv, log};
use serde::{Deserialize, Serialize};

use super::{Engine, EngineError};

/// Failures in a row that open the breaker.
pub const FAILURES_TO_OPEN: u32 = 3;

/// How long an open breaker keeps the engine out.
pub const OPEN_FOR_MS: i64 = 30_000;

/// Prefix of the breakers' keys.
pub const HEALTH_PREFIX: &str = "engine-health/";

/// One engine's breaker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Failures in a row.
    pub failures: u32,
    /// Until when (`clock::now_ms()`) the engine is left alone; 0 when closed.
    pub open_until_ms: i64,
    /// The last failure, for the note.
    pub last_error: String,
}

/// The key of `engine`'s breaker: its name and a hash of its URL.
///
/// ```
/// let e = translation::engine::Engine::new("deepl", "https://api.deepl.com").unwrap();
/// assert!(translation::engine::health::key(&e).starts_with("engine-health/deepl-"));
/// ```
pub fn key(engine: &Engine) -> String {
    let hash = crate::memory::source_hash(engine.url());
    format!("{HEALTH_PREFIX}{}-{}", engine.name(), &hash[..12])
}

/// `engine`'s breaker as stored (closed when nothing is, or storage fails).
pub fn load(engine: &Engine) -> Health {
    match kv::get(&key(engine)) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Ok(None) => Health::default(),
        Err(e) => {
            log::warn(&format!("engine health unavailable: {e}"));
            Health::default()
        }
    }
}

impl Health {
    /// How long the breaker still keeps the engine out, if it does.
    pub fn open_for_ms(&self, now_ms: i64) -> Option<i64> {
        (self.open_until_ms > now_ms).then(|| self.open_until_ms - now_ms)
    }

    /// The breaker after `error` at `now_ms`.
    ///
    /// ```
    /// use translation::engine::{EngineError, health::{Health, OPEN_FOR_MS}};
    /// let down = EngineError { message: "down".into(), retryable: true, retry_after_ms: None };
    /// let mut h = Health::default();
    /// for _ in 0..3 { h = h.after_failure(&down, 1_000); }
    /// assert_eq!(h.open_until_ms, 1_000 + OPEN_FOR_MS);
    /// let busy = EngineError { retry_after_ms: Some(120_000), ..down };
    /// assert_eq!(Health::default().after_failure(&busy, 0).open_until_ms, 120_000);
    /// ```
    pub fn after_failure(&self, error: &EngineError, now_ms: i64) -> Health {
        let failures = self.failures.saturating_add(1);
        let mut open_until_ms = self.open_until_ms;
        if failures >= FAILURES_TO_OPEN {
            open_until_ms = open_until_ms.max(now_ms.saturating_add(OPEN_FOR_MS));
        }
        if let Some(wait) = error.retry_after_ms {
            open_until_ms = open_until_ms.max(now_ms.saturating_add(wait));
        }
        Health {
            failures,
            open_until_ms,
            last_error: error.message.chars().take(200).collect(),
        }
    }
}

/// Records a failure of `engine` (only retryable ones count: a refused host is
/// the tenant's configuration, not the engine's health).
pub fn record_failure(engine: &Engine, before: &Health, error: &EngineError) {
    if !error.retryable {
        return;
    }
    let after = before.after_failure(error, clock::now_ms());
    if let Ok(bytes) = serde_json::to_vec(&after)
        && let Err(e) = kv::put(&key(engine), &bytes)
    {
        log::warn(&format!("engine health not recorded: {e}"));
    }
}

/// Records a success: a breaker that counted failures is closed.
pub fn record_success(engine: &Engine, before: &Health) {
    if *before != Health::default()
        && let Err(e) = kv::delete(&key(engine))
    {
        log::warn(&format!("engine health not reset: {e}"));
    }
}
