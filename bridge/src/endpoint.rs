//! An endpoint made ready from its configuration: its helpdesk's integration
//! chosen (by [`crate::helpdesk`]), its secrets read, its REST requests paced and
//! its deliveries' replays remembered.

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;

use secrecy::{ExposeSecret, SecretString};

use crate::config::{EndpointConfig, helpdesk};
use crate::types::{Credentials, Helpdesk, NotePolicy, Rules};
use crate::{BridgeError, marker, replay};

/// A configured endpoint, ready: secrets read, integration chosen.
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) config: EndpointConfig,
    pub(crate) helpdesk: Arc<dyn Helpdesk>,
    pub(crate) signing_secret: SecretString,
    pub(crate) auth: HeaderMap,
    pub(crate) rules: Rules,
    /// Paces the API requests to `max_requests_per_minute`.
    pub(crate) pace: governor::DefaultDirectRateLimiter,
    /// Until when the helpdesk asked to be left alone (a `Retry-After`): every
    /// request to it waits until then, not only the one that was refused.
    held_off_until: std::sync::Mutex<Option<tokio::time::Instant>>,
    /// Recent deliveries, for a helpdesk whose signature covers no timestamp.
    pub(crate) replays: replay::Replays,
}

/// A pace of at most `per_minute` requests in any minute: a burst of a tenth of it,
/// the rest spread evenly (a burst of `b` plus a steady `r` a minute never
/// exceeds `b + r` in a sliding minute).
fn pace(per_minute: u32) -> governor::DefaultDirectRateLimiter {
    let per_minute = per_minute.max(1);
    let burst = (per_minute / 10).max(1);
    let steady = per_minute.saturating_sub(burst).max(1);
    let quota = governor::Quota::with_period(
        Duration::from_secs(60)
            .checked_div(steady)
            .unwrap_or(Duration::from_secs(60)),
    )
    .unwrap_or_else(|| governor::Quota::per_minute(std::num::NonZeroU32::MIN))
    .allow_burst(std::num::NonZeroU32::new(burst).unwrap_or(std::num::NonZeroU32::MIN));
    governor::RateLimiter::direct(quota)
}

/// A secret given in the file or, better, in an environment variable.
fn secret(
    value: &Option<SecretString>,
    var: &Option<String>,
    what: &str,
    endpoint: &str,
) -> Result<SecretString, BridgeError> {
    match (value, var) {
        (Some(value), None) => Ok(SecretString::from(value.expose_secret().trim())),
        (None, Some(var)) => env_secret(var, what, endpoint).map(SecretString::from),
        _ => Err(BridgeError::Invalid(format!(
            "endpoint '{endpoint}': give the {what} once, in the file or as an environment variable"
        ))),
    }
}

/// A secret from the environment, without the whitespace around it (a value
/// read from a mounted file often ends in a newline that no helpdesk signed with).
pub(crate) fn env_secret(var: &str, what: &str, endpoint: &str) -> Result<String, BridgeError> {
    std::env::var(var)
        .map(|v| v.trim().to_owned())
        .map_err(|_| {
            BridgeError::Invalid(format!(
                "endpoint '{endpoint}': environment variable {var} ({what}) is not set"
            ))
        })
}

impl Endpoint {
    /// A request to the helpdesk's API at `path` with the integration's headers
    /// (credentials, JSON content type), once the endpoint's pace allows it.
    pub(crate) async fn request(
        &self,
        http: &reqwest::Client,
        method: http::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        // A hold set while this request waited for its turn holds it too.
        loop {
            if let Some(until) = self.held_until() {
                tokio::time::sleep_until(until).await;
            }
            self.pace.until_ready().await;
            if self.held_until().is_none() {
                break;
            }
        }
        let url = format!("{}{path}", self.config.base_url.trim_end_matches('/'));
        http.request(method, url).headers(self.auth.clone())
    }

    /// Whether the helpdesk asked to be left alone for now (see [`Endpoint::hold_off`]).
    pub(crate) fn is_held(&self) -> bool {
        self.held_until().is_some()
    }

    /// Until when the helpdesk's requests wait, if that is still to come.
    fn held_until(&self) -> Option<tokio::time::Instant> {
        let held = *self
            .held_off_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        held.filter(|until| *until > tokio::time::Instant::now())
    }

    /// The helpdesk said to come back after `wait` (a `429`'s or `503`'s
    /// `Retry-After`): the endpoint's other requests wait too, instead of each
    /// worker spending an attempt on a refusal of its own.
    pub(crate) fn hold_off(&self, wait: Duration) {
        let Some(until) = tokio::time::Instant::now().checked_add(wait) else {
            return;
        };
        let mut held = self
            .held_off_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *held = Some(held.map_or(until, |earlier| earlier.max(until)));
    }

    pub(crate) fn new(config: &EndpointConfig) -> Result<Endpoint, BridgeError> {
        let helpdesk = helpdesk(config)?;
        let credentials = Credentials {
            user: config.api_user.clone(),
            token: secret(
                &config.api_token,
                &config.api_token_env,
                "API token",
                &config.name,
            )?,
        };
        let auth = helpdesk
            .auth_headers(&credentials)
            .map_err(|e| BridgeError::Invalid(format!("endpoint '{}': {e}", config.name)))?;
        Ok(Endpoint {
            signing_secret: secret(
                &config.signing_secret,
                &config.signing_secret_env,
                "signing secret",
                &config.name,
            )?,
            rules: Rules {
                agent_prefix: config.agent_prefix.clone(),
                bot_author_ids: config.bot_author_ids.clone(),
                marker: marker::Marker::new(
                    config.marker.clone(),
                    credentials.token.expose_secret(),
                ),
                max_age_secs: config.max_age_secs,
                notes: NotePolicy::Write,
                batch: None,
                field_types: config.field_types.clone(),
            },
            helpdesk,
            auth,
            pace: pace(config.max_requests_per_minute),
            held_off_until: std::sync::Mutex::new(None),
            replays: replay::Replays::new(config.max_age_secs),
            config: config.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_read_without_the_whitespace_around_it() {
        let given = Some(SecretString::from(" signing-S3CR3T\n"));
        let read = secret(&given, &None, "signing secret", "z").expect("given once");
        assert_eq!(read.expose_secret(), "signing-S3CR3T");
    }
}
