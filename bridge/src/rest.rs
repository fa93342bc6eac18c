//! The bridge's calls to a helpdesk's REST API: the HTTP client, one write-back
//! request and what its answer means for the job (done, retried after
//! `Retry-After`, given up), reads, and customer lookups through their cache.
//!
//! The client follows no redirect: it would send the request again, API token
//! included, wherever the `Location` points (reqwest drops `Authorization` on a
//! cross-host redirect, not a custom header such as Chatwoot's
//! `api_access_token`). A `3xx` is a failed call that names the host it points
//! to, so the operator corrects `base_url`.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::types::RestCall;
use crate::endpoint::Endpoint;
use crate::types::{Failure, Fallback};
use crate::{Bridge, BridgeError};

/// The longest a helpdesk's `Retry-After` is honoured: a larger value (or a
/// hostile one) waits this long, then the job is retried as usual.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Most bytes of an answer read: a user record is a few KiB (and is kept in the
/// lookup cache), a page of comments a few dozen.
const MAX_LOOKUP_BYTES: usize = 1 << 20;

/// Bytes of answers the lookup cache keeps, all endpoints together (parsed, an
/// answer takes a few times its bytes). A helpdesk whose records are large gets
/// fewer of them cached, not gigabytes held.
pub(crate) const LOOKUP_CACHE_BYTES: u64 = 32 << 20;

/// A helpdesk API read as the lookup cache keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Lookup {
    /// Its JSON; `None`: nothing to learn there.
    answer: Option<Arc<serde_json::Value>>,
    /// The bytes it was read from: its weight in the cache.
    bytes: u32,
}

/// Helpdesk API reads by endpoint and path, kept for `ttl`, weighed by their
/// bytes ([`LOOKUP_CACHE_BYTES`]).
pub(crate) fn lookup_cache(ttl: Duration) -> moka::future::Cache<(String, String), Lookup> {
    moka::future::Cache::builder()
        .max_capacity(LOOKUP_CACHE_BYTES)
        .weigher(|(endpoint, path): &(String, String), lookup: &Lookup| {
            let key = u32::try_from(endpoint.len().saturating_add(path.len()));
            key.unwrap_or(u32::MAX).saturating_add(lookup.bytes)
        })
        .time_to_live(ttl)
        .build()
}

/// Most bytes of a refusal's body read, of which the job's error shows the start.
const MAX_ERROR_BYTES: usize = 4 << 10;
const ERROR_CHARS: usize = 200;

/// The client of every helpdesk call: `timeout` per request, no redirects.
pub(super) fn client(timeout: Duration) -> Result<reqwest::Client, BridgeError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("crossdesk-bridge/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| BridgeError::Invalid(format!("HTTP client: {e}")))
}

/// Makes one REST call; a 429 or 5xx (or no answer) is retried, honouring
/// `Retry-After`; a redirect or another 4xx is permanent, but a call refused as
/// invalid is made again as its [`Fallback`] says. A call that replaces a whole
/// set reads it first ([`WholeSet`](super::types::WholeSet)), and is not made
/// when the set has every addition already.
pub(super) async fn send(
    bridge: &Bridge,
    endpoint: &Endpoint,
    call: &RestCall,
) -> Result<(), Failure> {
    let name = &endpoint.config.name;
    match send_body(bridge, endpoint, call, &call.body).await {
        Err(Sent::Invalid(refused)) => match &call.fallback {
            Some(Fallback::Send(body)) => {
                tracing::warn!(
                    endpoint = %name,
                    "{refused}; sent again without its route and fields, which its note tells"
                );
                send_body(bridge, endpoint, call, body)
                    .await
                    .map_err(Sent::into_failure)
            }
            Some(Fallback::Leave) => {
                tracing::warn!(endpoint = %name, "{refused}; its route or fields are left out");
                Ok(())
            }
            None => Err(Failure::Permanent(refused)),
        },
        sent => sent.map_err(Sent::into_failure),
    }
}

/// How a request went wrong: as [`Failure`]s do, or refused as invalid.
enum Sent {
    Failed(Failure),
    Invalid(String),
}

impl Sent {
    fn into_failure(self) -> Failure {
        match self {
            Sent::Failed(failure) => failure,
            Sent::Invalid(message) => Failure::Permanent(message),
        }
    }
}

impl From<Failure> for Sent {
    fn from(failure: Failure) -> Sent {
        Sent::Failed(failure)
    }
}

/// Makes `call` with `body` (or, for a whole set, the set read now).
async fn send_body(
    bridge: &Bridge,
    endpoint: &Endpoint,
    call: &RestCall,
    body: &serde_json::Value,
) -> Result<(), Sent> {
    let what = format!("{} {}", call.method, call.path);
    let body = match &call.whole_set {
        None => Cow::Borrowed(body),
        Some(set) => match read(bridge, endpoint, &set.read).await? {
            Some(answer) => match set.body(&answer) {
                Some(Some(body)) => Cow::Owned(body),
                Some(None) => {
                    tracing::debug!("{what}: the ticket has it already; not made");
                    return Ok(());
                }
                None => {
                    tracing::warn!(
                        endpoint = %endpoint.config.name,
                        "{what}: GET {} holds no such set at {}; the webhook's copy is sent",
                        set.read,
                        set.pointer
                    );
                    Cow::Borrowed(body)
                }
            },
            // Why is logged where it was read.
            None => Cow::Borrowed(body),
        },
    };
    let response = endpoint
        .request(&bridge.http, call.method.clone(), &call.path)
        .await
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| Failure::Away(Duration::ZERO, format!("{what}: {e}")))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    if status.is_redirection() {
        return Err(
            Failure::Permanent(format!("{what}: {status}: {}", redirect(&response))).into(),
        );
    }
    let retry_after = retry_after(response.headers(), SystemTime::now());
    if worth_retrying(status) {
        endpoint.hold_off(retry_after);
    }
    let body: String = read_at_most(response, MAX_ERROR_BYTES)
        .await
        .map(|(body, _)| {
            String::from_utf8_lossy(&body)
                .chars()
                .take(ERROR_CHARS)
                .collect()
        })
        .unwrap_or_default();
    let message = format!("{what}: {status}: {body}");
    if away(status) {
        Err(Failure::Away(retry_after, message).into())
    } else if worth_retrying(status) {
        Err(Failure::Retry(retry_after, message).into())
    } else if matches!(
        status,
        reqwest::StatusCode::BAD_REQUEST | reqwest::StatusCode::UNPROCESSABLE_ENTITY
    ) {
        Err(Sent::Invalid(message))
    } else {
        Err(Failure::Permanent(message).into())
    }
}

/// Reads `path` from the helpdesk's API, through the lookup cache. A rate limit, a
/// server error or no answer is retried like a write; any other refusal (not found,
/// not allowed, a redirect) means the event runs without what the helpdesk could
/// have said.
pub(super) async fn lookup(
    bridge: &Bridge,
    endpoint: &Endpoint,
    path: String,
) -> Result<Option<Arc<serde_json::Value>>, Failure> {
    let key = (endpoint.config.name.clone(), path);
    if let Some(known) = bridge.lookups.get(&key).await {
        return Ok(known.answer);
    }
    let (answer, bytes) = read_sized(bridge, endpoint, &key.1).await?;
    let bytes = u32::try_from(bytes).unwrap_or(u32::MAX);
    let kept = Lookup {
        answer: answer.clone(),
        bytes,
    };
    bridge.lookups.insert(key, kept).await;
    Ok(answer)
}

/// Reads `path` from the helpdesk's API: its JSON answer, or `None` (logged) when
/// the helpdesk refused or answered with something else. A rate limit, a server
/// error or no answer is retried like a write.
pub(super) async fn read(
    bridge: &Bridge,
    endpoint: &Endpoint,
    path: &str,
) -> Result<Option<Arc<serde_json::Value>>, Failure> {
    Ok(read_sized(bridge, endpoint, path).await?.0)
}

/// [`read`], with the number of bytes the answer was read from.
async fn read_sized(
    bridge: &Bridge,
    endpoint: &Endpoint,
    path: &str,
) -> Result<(Option<Arc<serde_json::Value>>, usize), Failure> {
    let name = &endpoint.config.name;
    let mut bytes = 0;
    let response = endpoint
        .request(&bridge.http, http::Method::GET, path)
        .await
        .send()
        .await
        .map_err(|e| Failure::Away(Duration::ZERO, format!("GET {path}: {e}")))?;
    let status = response.status();
    // The API token refused: nothing read would be true of the customer or the
    // ticket, and every write will be refused alike. The job fails here, before
    // it is recorded as looked up, so that its replay (once the token is mended)
    // reads again.
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(Failure::Permanent(format!(
            "GET {path}: {status}: the helpdesk refuses the endpoint's API token"
        )));
    }
    if worth_retrying(status) {
        let wait = retry_after(response.headers(), SystemTime::now());
        endpoint.hold_off(wait);
        let message = format!("GET {path}: {status}");
        return Err(match away(status) {
            true => Failure::Away(wait, message),
            false => Failure::Retry(wait, message),
        });
    }
    let answer = if status.is_success() {
        let (body, cut) = read_at_most(response, MAX_LOOKUP_BYTES)
            .await
            .map_err(|e| Failure::Retry(Duration::ZERO, format!("GET {path}: {e}")))?;
        bytes = body.len();
        if cut {
            tracing::warn!(endpoint = %name, "GET {path}: answer over {MAX_LOOKUP_BYTES} bytes; not read");
            None
        } else {
            match serde_json::from_slice(&body) {
                Ok(value) => Some(Arc::new(value)),
                Err(e) => {
                    tracing::warn!(endpoint = %name, "GET {path}: not JSON ({e}); not read");
                    None
                }
            }
        }
    } else if status.is_redirection() {
        tracing::warn!(endpoint = %name, "GET {path}: {status}: {}; not read", redirect(&response));
        None
    } else {
        tracing::warn!(endpoint = %name, "GET {path}: {status}; not read");
        None
    };
    Ok((answer, bytes))
}

/// Whether trying again later can help: the helpdesk is rate-limiting or down,
/// timed the request out (`408`), or had the ticket changed by another request
/// at the same moment (`409`: Zendesk's answer to concurrent updates of one
/// ticket, to be retried).
fn worth_retrying(status: reqwest::StatusCode) -> bool {
    use reqwest::StatusCode;
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT | StatusCode::CONFLICT
    ) || status.is_server_error()
}

/// Whether `status` says the helpdesk is away or busy, not that this request
/// went wrong: the job waits for it however many attempts that takes.
fn away(status: reqwest::StatusCode) -> bool {
    use reqwest::StatusCode;
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}

/// What a `3xx` says, for the job's error: the host it points to (not the whole
/// `Location`, which may carry a token of its own) and what to do.
fn redirect(response: &reqwest::Response) -> String {
    let host = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|location| response.url().join(location.trim()).ok())
        .and_then(|url| {
            let host = url.host_str()?.chars().take(100).collect::<String>();
            Some(match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        });
    let to = host.map_or_else(
        || "with no readable Location".to_owned(),
        |host| format!("to {host}"),
    );
    format!(
        "the helpdesk redirects {to}; not followed, as that would send the API token along: \
         set the endpoint's base_url to the API's own address"
    )
}

/// The body of `response`, at most `limit` bytes of it; true when it was cut.
async fn read_at_most(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// How long `Retry-After` asks to wait from `now`: delta-seconds or an HTTP date
/// (RFC 9110 §10.2.3; IMF-fixdate and the two obsolete forms), at most
/// [`MAX_RETRY_AFTER`]; zero when absent, unreadable or a date already past.
fn retry_after(headers: &reqwest::header::HeaderMap, now: SystemTime) -> Duration {
    let Some(value) = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    else {
        return Duration::ZERO;
    };
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More seconds than a u64 holds is still longer than the cap.
        value.parse().map_or(MAX_RETRY_AFTER, Duration::from_secs)
    } else {
        httpdate::parse_http_date(value)
            .ok()
            .and_then(|at| at.duration_since(now).ok())
            .unwrap_or(Duration::ZERO)
    };
    wait.min(MAX_RETRY_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str, now: SystemTime) -> Duration {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::RETRY_AFTER,
            value.parse().expect("header value"),
        );
        retry_after(&headers, now)
    }

    #[tokio::test]
    async fn the_lookup_cache_keeps_a_bounded_number_of_bytes() {
        let cache = lookup_cache(Duration::from_secs(60));
        for n in 0..100 {
            let record = Lookup {
                answer: Some(Arc::new(serde_json::json!({ "id": n }))),
                bytes: 1 << 20,
            };
            cache
                .insert(("e".into(), format!("/users/{n}")), record)
                .await;
        }
        cache.run_pending_tasks().await;
        assert!(cache.weighted_size() <= LOOKUP_CACHE_BYTES);
        assert!(cache.entry_count() <= 32, "{}", cache.entry_count());
        assert!(cache.entry_count() > 0);
    }

    #[tokio::test]
    async fn a_helpdesks_answer_is_read_up_to_a_limit() {
        let answer = |body: &str| reqwest::Response::from(http::Response::new(body.to_owned()));
        let read = read_at_most(answer("0123456789"), 4).await.expect("read");
        assert_eq!(read, (b"0123".to_vec(), true));
        let read = read_at_most(answer("0123456789"), 10).await.expect("read");
        assert_eq!(read, (b"0123456789".to_vec(), false));
        let read = read_at_most(answer(""), 0).await.expect("read");
        assert_eq!(read, (Vec::new(), false));
    }

    #[test]
    fn a_retry_after_in_seconds_is_read_and_capped() {
        let now = SystemTime::now();
        assert_eq!(
            retry_after(&reqwest::header::HeaderMap::new(), now),
            Duration::ZERO
        );
        assert_eq!(with("30", now), Duration::from_secs(30));
        assert_eq!(with(" 0 ", now), Duration::ZERO);
        assert_eq!(with("18446744073709551615", now), MAX_RETRY_AFTER);
        assert_eq!(with("99999999999999999999999", now), MAX_RETRY_AFTER);
        for unreadable in ["soon", "-5", "+30", "1.5", ""] {
            assert_eq!(with(unreadable, now), Duration::ZERO, "{unreadable:?}");
        }
    }

    #[test]
    fn a_retry_after_as_an_http_date_waits_until_then_capped() {
        // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example).
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            with("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Duration::from_secs(30)
        );
        // The obsolete forms a recipient must also accept.
        assert_eq!(
            with("Sunday, 06-Nov-94 08:50:07 GMT", now),
            Duration::from_secs(30)
        );
        assert_eq!(
            with("Sun Nov  6 08:50:07 1994", now),
            Duration::from_secs(30)
        );
        // Far ahead: the cap. Now or past: retry now.
        assert_eq!(with("Mon, 07 Nov 1994 08:49:37 GMT", now), MAX_RETRY_AFTER);
        assert_eq!(with("Sun, 06 Nov 1994 08:49:37 GMT", now), Duration::ZERO);
        assert_eq!(with("Sat, 05 Nov 1994 08:49:37 GMT", now), Duration::ZERO);
        for unreadable in [
            "Sun, 06 Nov 1994 08:50:07",
            "Sun, 32 Nov 1994 08:50:07 GMT",
            "2024-05-01T12:00:00Z",
        ] {
            assert_eq!(with(unreadable, now), Duration::ZERO, "{unreadable:?}");
        }
    }

    #[test]
    fn conflicts_timeouts_limits_and_outages_are_tried_again_mistakes_are_not() {
        use reqwest::StatusCode;
        for status in [409, 408, 429, 500, 503] {
            let status = StatusCode::from_u16(status).expect("a status");
            assert!(worth_retrying(status), "{status}");
        }
        for status in [400, 401, 403, 404, 422] {
            let status = StatusCode::from_u16(status).expect("a status");
            assert!(!worth_retrying(status), "{status}");
        }
    }
}
