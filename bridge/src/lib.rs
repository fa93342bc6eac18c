//! The helpdesk bridge (`crossdesk bridge`): attaches Crossdesk to a helpdesk that
//! speaks webhooks and REST instead of gRPC. It is a client of the sidecar's event
//! API like any integrator's: it depends on the API's types (`crossdesk-proto`)
//! and a gRPC client, not on the sidecar.
//!
//! ```text
//! helpdesk ──webhook──▶ /webhooks/{endpoint}: verify signature, map, queue ──▶ 200
//!                                                   │ (durable: queue)
//!                     worker: HandleEvent on the sidecar (gRPC) ◀┘
//!                             write the actions back through the helpdesk's REST
//!                             API, retrying with backoff (429: Retry-After)
//! ```
//!
//! Each configured endpoint names a helpdesk (`zendesk`, `freshdesk`, `chatwoot`, or
//! any helpdesk with a mapping file), the tenant its events belong to, the webhook's
//! signing secret and the API credentials. What is specific to a helpdesk
//! (signatures, payload shapes, customer lookups, REST calls) sits behind
//! [`types::Helpdesk`]: a mapping file run by [`mapped`] (Zendesk and Freshdesk ship
//! as such, in `mappings/`), or a module of its own ([`chatwoot`]). What every
//! helpdesk shares has its own module: the REST calls (`rest`, no redirects),
//! the replay memory (`replay`), the mark on the bridge's notes ([`marker`]).
//!
//! This module runs the listener and queues what it accepts; the configuration
//! file is `config`'s, an endpoint made ready from it `endpoint`'s, and the
//! delivery to the sidecar and back to the helpdesk `worker`'s.

// Arithmetic on values from outside (sizes, counts, times) is checked or saturating:
// an overflow would panic in a debug build and wrap in a release one.
#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

pub mod chatwoot;
mod config;
mod endpoint;
pub mod mapped;
pub mod marker;
mod metrics;
pub mod queue;
mod recent;
mod replay;
mod rest;
pub mod types;
mod webhook;
mod worker;
pub mod writes;
pub mod zendesk;

pub use config::{BridgeConfig, EndpointConfig, helpdesk};
/// Secrets of the configuration print as redacted; `expose_secret` gives them.
pub use secrecy::{ExposeSecret, SecretString};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use tokio::sync::Notify;

use recent::Recent;

use crossdesk_proto::{json, pb};
use endpoint::{Endpoint, env_secret};
use queue::{Claim, Queue, QueueError};
use types::{Inbound, Rejection};
use worker::supervised;

/// Why the bridge could not start.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Where and what, never the file's text (see `toml_errors`).
    #[error("invalid bridge config: {0}")]
    Parse(String),
    #[error("invalid bridge config: {0}")]
    Invalid(String),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The running bridge's shared state.
#[derive(Debug)]
struct Bridge {
    config: BridgeConfig,
    endpoints: HashMap<String, Endpoint>,
    /// The endpoints' names: the jobs a worker of this replica claims.
    endpoint_names: Vec<String>,
    queue: Queue,
    /// This process among the bridge's replicas: its workers claim tickets as
    /// `{replica}/{worker}`.
    replica: String,
    /// The tickets this process's workers hold, given back when it stops.
    claims: std::sync::Mutex<Vec<Claim>>,
    /// How many of this process's workers each endpoint's batches hold now.
    busy: std::sync::Mutex<HashMap<String, usize>>,
    wake: Notify,
    /// Set when the bridge stops: workers take no new batch.
    stopping: std::sync::atomic::AtomicBool,
    http: reqwest::Client,
    /// The sidecar's event API, with the deadlines of a call to it.
    sidecar: tonic::transport::Endpoint,
    sidecar_token: Option<SecretString>,
    /// Helpdesk API reads by endpoint and path ([`rest::lookup_cache`]).
    lookups: moka::future::Cache<(String, String), rest::Lookup>,
    /// What `/readyz` last found.
    readiness: Recent<bool>,
    /// What `/metrics` last found (`None`: the queue could not be read).
    queue_stats: Recent<Option<queue::QueueStats>>,
}

/// Runs the bridge until `shutdown` completes: the webhook listener on `listener`
/// and the worker that drains the queue.
pub async fn run(
    config: BridgeConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), BridgeError> {
    let prepared = Prepared::from(&config)?;
    let lookups = rest::lookup_cache(Duration::from_secs(config.lookup_cache_secs));
    let queue = Queue::open(&config.queue, &config.data_dir).await?;
    queue.drop_stale_claims().await?;
    let bridge = Arc::new(Bridge {
        queue,
        replica: replica_name(),
        claims: std::sync::Mutex::new(Vec::new()),
        busy: std::sync::Mutex::new(HashMap::new()),
        lookups,
        config,
        endpoint_names: prepared.endpoints.keys().cloned().collect(),
        endpoints: prepared.endpoints,
        wake: Notify::new(),
        stopping: std::sync::atomic::AtomicBool::new(false),
        http: prepared.http,
        sidecar: prepared.sidecar,
        sidecar_token: prepared.sidecar_token,
        readiness: Recent::new(PROBE_KEPT),
        queue_stats: Recent::new(PROBE_KEPT),
    });
    let workers: Vec<_> = (0..bridge.config.queue.workers)
        .map(|index| {
            let owner = format!("{}/{index}", bridge.replica);
            tokio::spawn(supervised(bridge.clone(), owner))
        })
        .collect();
    let purging = tokio::spawn(purge(bridge.clone()));
    let gate = Arc::new(WebhookGate {
        slots: tokio::sync::Semaphore::new(
            usize::try_from(bridge.config.max_webhooks_in_flight).unwrap_or(usize::MAX),
        ),
        timeout: Duration::from_millis(bridge.config.webhook_timeout_ms),
    });
    let app = axum::Router::new()
        .route(
            "/webhooks/{endpoint}",
            axum::routing::post(receive).layer(axum::middleware::from_fn_with_state(gate, bounded)),
        )
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route("/readyz", axum::routing::get(ready))
        .route("/metrics", axum::routing::get(metrics))
        .with_state(bridge.clone());
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    // The batches under way finish (a write-back cut off may be made again by
    // whoever takes it over: a public reply twice), for a while.
    bridge
        .stopping
        .store(true, std::sync::atomic::Ordering::Release);
    bridge.wake.notify_waiters();
    let mut workers = workers;
    let finished = futures::future::join_all(workers.iter_mut());
    if tokio::time::timeout(FINISH_WAIT, finished).await.is_err() {
        tracing::warn!(
            "batches still under way after {} s are cut off",
            FINISH_WAIT.as_secs()
        );
    }
    // (A worker that finished has given its output to the join above.)
    for task in workers.into_iter().chain([purging]) {
        if !task.is_finished() {
            task.abort();
            let _ = task.await;
        }
    }
    // Batches cut off here are taken up again at once, by another replica or the
    // next start, rather than after their lease.
    let held = std::mem::take(&mut *bridge.claims.lock().unwrap_or_else(|e| e.into_inner()));
    for claim in held {
        if let Err(e) = bridge.queue.release(&claim).await {
            tracing::warn!("cannot give back the claim on a ticket: {e}");
        }
    }
    served.map_err(|e| BridgeError::Invalid(format!("webhook listener: {e}")))
}

/// How long a stopping bridge lets the batches under way finish: with the 5 s
/// `preStop` and the webhooks' own drain (`webhook_timeout_ms`, 10 s), within a
/// Kubernetes grace period of 30 s (`deploy/`).
const FINISH_WAIT: Duration = Duration::from_secs(10);

/// A name for this process among the bridge's replicas.
fn replica_name() -> String {
    // Without randomness, the pid and start time still tell processes apart.
    let random = getrandom::u64()
        .unwrap_or_else(|_| u64::from(std::process::id()) << 32 ^ queue::now_ms().unsigned_abs());
    format!("bridge-{random:016x}")
}

/// Deletes finished jobs older than the retention period, every minute.
async fn purge(bridge: Arc<Bridge>) {
    let retention_ms =
        i64::try_from(bridge.config.queue.retention_secs.saturating_mul(1_000)).unwrap_or(i64::MAX);
    let shares: Vec<(&str, u32)> = bridge
        .config
        .endpoints
        .iter()
        .map(|endpoint| (endpoint.name.as_str(), endpoint.max_notes_per_ticket))
        .collect();
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        match bridge
            .queue
            .purge(queue::now_ms().saturating_sub(retention_ms), &shares)
            .await
        {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "finished jobs past their retention deleted"),
            Err(e) => tracing::warn!("cannot purge finished jobs: {e}"),
        }
    }
}

/// What a start reads besides the queue: the secrets the configuration names
/// (from the environment), the files of its TLS, the clients built with them.
struct Prepared {
    endpoints: HashMap<String, Endpoint>,
    sidecar_token: Option<SecretString>,
    http: reqwest::Client,
    sidecar: tonic::transport::Endpoint,
}

impl Prepared {
    fn from(config: &BridgeConfig) -> Result<Prepared, BridgeError> {
        Ok(Prepared {
            endpoints: config
                .endpoints
                .iter()
                .map(|e| Ok((e.name.clone(), Endpoint::new(e)?)))
                .collect::<Result<HashMap<_, _>, BridgeError>>()?,
            sidecar_token: config
                .sidecar_token_env
                .as_deref()
                .map(|var| env_secret(var, "sidecar token", "(bridge)").map(SecretString::from))
                .transpose()?,
            http: rest::client(Duration::from_millis(config.request_timeout_ms))?,
            sidecar: sidecar_endpoint(config)?,
        })
    }
}

/// Checks a configuration as [`run`] reads it: its secrets set in the
/// environment, its TLS files readable, the queue's database URL (and CA file)
/// usable, short of connecting to anything or creating the queue.
pub fn check(config: &BridgeConfig) -> Result<(), BridgeError> {
    Prepared::from(config)?;
    Queue::check(&config.queue)?;
    Ok(())
}

/// Where and how the workers call the sidecar. Each job connects anew (behind a
/// Service that balances connections, jobs spread over the sidecar's replicas),
/// and no step waits forever: the connection's set-up, the call (a sidecar that
/// hangs, or whose node vanished, would hold the ticket's lease renewed for as
/// long), and a silent peer noticed by HTTP/2 pings.
fn sidecar_endpoint(config: &BridgeConfig) -> Result<tonic::transport::Endpoint, BridgeError> {
    let invalid = |e: String| BridgeError::Invalid(format!("sidecar '{}': {e}", config.sidecar));
    let mut endpoint = tonic::transport::Endpoint::from_shared(config.sidecar.clone())
        .map_err(|e| invalid(e.to_string()))?;
    let https = config.sidecar.starts_with("https://");
    match (&config.sidecar_tls, https) {
        (Some(tls), true) => {
            endpoint = endpoint
                .tls_config(sidecar_tls(tls)?)
                .map_err(|e| invalid(format!("TLS: {e}")))?;
        }
        (None, true) => {
            return Err(invalid(
                "an https:// sidecar needs [sidecar_tls] ca_file, the CA that signed its certificate"
                    .into(),
            ));
        }
        (Some(_), false) => {
            return Err(invalid(
                "[sidecar_tls] is set, but the address is not https://".into(),
            ));
        }
        (None, false) => {}
    }
    Ok(endpoint
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_millis(config.sidecar_timeout_ms))
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10)))
}

/// The TLS of calls to the sidecar, its files read once at start (a missing one
/// stops the bridge then, not each job).
fn sidecar_tls(tls: &config::SidecarTls) -> Result<tonic::transport::ClientTlsConfig, BridgeError> {
    use tonic::transport::{Certificate, ClientTlsConfig, Identity};
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| {
            BridgeError::Invalid(format!(
                "[sidecar_tls]: cannot read {}: {e}",
                path.display()
            ))
        })
    };
    let mut config =
        ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(&tls.ca_file)?));
    match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => {
            config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
        }
        (None, None) => {}
        _ => {
            return Err(BridgeError::Invalid(
                "[sidecar_tls]: give cert_file and key_file together".into(),
            ));
        }
    }
    if let Some(name) = &tls.server_name {
        config = config.domain_name(name.clone());
    }
    Ok(config)
}

/// How many deliveries are handled at once, and for how long each at most.
struct WebhookGate {
    slots: tokio::sync::Semaphore,
    timeout: Duration,
}

/// Holds each delivery to the gate: the listener faces the internet, and its
/// callers are unauthenticated until their signature is checked, after the
/// body has been read, so neither many uploads nor slow ones may hold the
/// bridge's memory and sockets. A delivery cut off here is not acknowledged:
/// it is answered like one the queue could not take, so that the helpdesk
/// delivers it again (a `408` is not among the codes Zendesk retries, and the
/// time may have run out on our side, the queue being slow), and its
/// redelivery is queued once.
async fn bounded(
    State(gate): State<Arc<WebhookGate>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let Ok(_slot) = gate.slots.try_acquire() else {
        return deliver_again_later("too many deliveries at once; retry\n".into());
    };
    match tokio::time::timeout(gate.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => deliver_again_later("the delivery took too long; retry\n".into()),
    }
}

/// A webhook: verified, mapped and queued before it is acknowledged.
async fn receive(
    State(bridge): State<Arc<Bridge>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let Some(endpoint) = bridge.endpoints.get(&name) else {
        // The caller's text: named, not echoed whole (it is as long as the URL).
        let shown: String = name.chars().take(64).collect();
        return (StatusCode::NOT_FOUND, format!("no endpoint '{shown}'\n")).into_response();
    };
    let helpdesk = &endpoint.helpdesk;
    let refused = |rejection: Rejection| {
        if let Rejection::InProgress(_) = rejection {
            tracing::info!(endpoint = %name, "{rejection}");
            return deliver_again_later(format!("{rejection}\n"));
        }
        if let Rejection::Stale(_) = rejection {
            // Signed by the helpdesk (the signature was checked first), at a
            // time far from this replica's: a replay, which gains nothing here,
            // or a clock that is off, whose deliveries a 401 would lose (a
            // helpdesk does not send a refused delivery again). Asked again
            // later; the clock is the operator's to mend.
            tracing::error!(
                endpoint = %name,
                "{rejection}: a replay, or this replica's clock is off (is it synchronised?)"
            );
            return deliver_again_later(format!("{rejection}\n"));
        }
        if let Rejection::Replayed(_) = rejection {
            // Signed by the helpdesk: its redelivery (our answer lost on the way)
            // or someone's replay. Either way nothing more is to be done, and a
            // 401 would count against the endpoint in the helpdesk's eyes.
            tracing::info!(endpoint = %name, "{rejection}");
            return (StatusCode::OK, "duplicate delivery: already received\n").into_response();
        }
        tracing::warn!(endpoint = %name, "webhook refused: {rejection}");
        let status = match rejection {
            Rejection::BadPayload(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        };
        (status, format!("{rejection}\n")).into_response()
    };
    if let Err(rejection) = helpdesk.verify(
        &headers,
        &body,
        endpoint.signing_secret.expose_secret(),
        SystemTime::now(),
        &endpoint.rules,
    ) {
        return refused(rejection);
    }
    // Remembered once verified (a forged delivery cannot fill the memory), and
    // forgotten if the delivery is not acknowledged (also when this future is
    // dropped, the helpdesk having hung up): its redelivery is welcome.
    let replay_key = match helpdesk.replay_key(&headers, &body) {
        Ok(key) => key,
        Err(rejection) => return refused(rejection),
    };
    let admitted = match &replay_key {
        Some(key) => match endpoint.replays.admit(key).await {
            Ok(admitted) => Some(admitted),
            Err(rejection) => return refused(rejection),
        },
        None => None,
    };
    let answer = accept(&bridge, &name, endpoint, &body, traceparent(&headers)).await;
    if let Some(admitted) = admitted {
        if answer.0.is_success() {
            admitted.acknowledged();
        } else {
            admitted.refused().await;
        }
    }
    if answer.0 == StatusCode::SERVICE_UNAVAILABLE {
        return deliver_again_later(answer.1);
    }
    answer.into_response()
}

/// A delivery not taken now: `503` with `Retry-After`, for Zendesk delivers a
/// 503 again only when it says when, within a minute.
fn deliver_again_later(text: String) -> axum::response::Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, "10")],
        text,
    )
        .into_response()
}

/// The job's event as the sidecar gets it: named after its endpoint too
/// (`ENDPOINT/DELIVERY-KEY`: the sidecar knows an event by its tenant and id,
/// and two endpoints feeding one tenant, two Zendesk brands say, may deliver
/// the same key), and refused at the webhook if the sidecar would refuse it for
/// its sizes or time (an over-long id or field from the payload), rather than
/// queued to end in the dead-letter list. The text's limit is each sidecar's
/// own setting, so it is left to the sidecar.
fn prepared(job: &mut types::Job, endpoint: &str) -> Result<(), Rejection> {
    let bad = |e: &dyn std::fmt::Display| Rejection::BadPayload(format!("the mapped event: {e}"));
    let mut event = crate::json::event_from_json(&job.event_json).map_err(|e| bad(&e))?;
    event.event_id = format!("{endpoint}/{}", job.delivery_key);
    crossdesk_proto::rules::check(&event, usize::MAX).map_err(|e| bad(&e))?;
    job.event_json = crate::json::to_json("crossdesk.v1.Event", &event).map_err(|e| bad(&e))?;
    Ok(())
}

/// How long `/readyz` and `/metrics` answer what they last found: they are on the
/// listener that faces the helpdesk (and anyone), so asking them often costs no
/// more than a query a second each ([`Recent`]).
const PROBE_KEPT: Duration = Duration::from_secs(1);
/// How long a probe waits for the queue's answer.
const PROBE_WAIT: Duration = Duration::from_secs(2);

/// `GET /metrics`: the queue's figures for Prometheus, at most [`PROBE_KEPT`] old.
async fn metrics(
    State(bridge): State<Arc<Bridge>>,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    let reader = bridge.clone();
    let stats = bridge
        .queue_stats
        .get(|_| async move {
            match tokio::time::timeout(PROBE_WAIT, reader.queue.stats(queue::now_ms())).await {
                Ok(Ok(stats)) => Some(stats),
                // The listener faces the helpdesk: the cause goes to the log only.
                Ok(Err(e)) => {
                    tracing::error!("metrics: the queue cannot be read: {e}");
                    None
                }
                Err(_) => {
                    tracing::error!(
                        "metrics: the queue did not answer within {} s",
                        PROBE_WAIT.as_secs()
                    );
                    None
                }
            }
        })
        .await
        .flatten();
    match stats {
        Some(stats) => (
            StatusCode::OK,
            [("content-type", OPENMETRICS)],
            metrics::render(stats),
        ),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [("content-type", "text/plain; charset=utf-8")],
            "the queue cannot be read\n".to_owned(),
        ),
    }
}

/// Readiness: whether a webhook can be queued now. `/healthz` says only that the
/// process serves HTTP (a liveness probe: restarting the bridge mends no queue).
/// A queue of its own that does not answer turns every webhook away with 503, so
/// the replica says so: the helpdesk's retries then go to replicas that can queue
/// them. A shared queue that does not answer fails every replica at once: they
/// stay ready (degraded), for a replica taken out of service cannot answer a
/// webhook with the `Retry-After` that makes the helpdesk deliver it again.
/// Logged when it changes, not at every probe.
async fn ready(State(bridge): State<Arc<Bridge>>) -> (StatusCode, &'static str) {
    let reader = bridge.clone();
    let ready = bridge
        .readiness
        .get(|was| async move {
            let answer = tokio::time::timeout(PROBE_WAIT, reader.queue.next_wait_ms()).await;
            let ready = matches!(answer, Ok(Ok(_)));
            if was != Some(ready) {
                // The listener faces the helpdesk: the cause goes to the log only.
                match answer {
                    Ok(Ok(_)) if was.is_some() => tracing::info!("ready: the queue answers again"),
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!("not ready: the queue cannot be read: {e}"),
                    Err(_) => tracing::warn!(
                        "not ready: the queue did not answer within {} s",
                        PROBE_WAIT.as_secs()
                    ),
                }
            }
            ready
        })
        .await
        .unwrap_or(false);
    match ready {
        true => (StatusCode::OK, "ready\n"),
        false if bridge.queue.is_shared() => (
            StatusCode::OK,
            "ready, degraded: the queue cannot be read; webhooks get 503 with Retry-After\n",
        ),
        false => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the queue cannot be read\n",
        ),
    }
}

/// The delivery's W3C `traceparent`, when it has a well-formed one
/// (`00-<32 hex>-<16 hex>-<2 hex>`).
fn traceparent(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("traceparent")?.to_str().ok()?;
    let parts: Vec<&str> = value.split('-').collect();
    let well_formed = matches!(parts.as_slice(), [version, trace, span, flags]
        if [(version, 2), (trace, 32), (span, 16), (flags, 2)]
            .iter()
            .all(|(part, len)| part.len() == *len && part.bytes().all(|b| b.is_ascii_hexdigit())));
    well_formed.then(|| value.to_owned())
}

/// A verified delivery mapped and queued, or why not.
async fn accept(
    bridge: &Bridge,
    name: &str,
    endpoint: &Endpoint,
    body: &[u8],
    traceparent: Option<String>,
) -> (StatusCode, String) {
    let mut job = match endpoint
        .helpdesk
        .map(&endpoint.config.tenant, body, &endpoint.rules)
    {
        Ok(Inbound::Job(mut job)) => match job
            .target
            .check_ids()
            .and_then(|()| prepared(&mut job, name))
        {
            Ok(()) => job,
            Err(rejection) => {
                // Signed, so the helpdesk's own: dropped, and the log says why.
                tracing::warn!(endpoint = %name, "webhook refused: {rejection}");
                return (StatusCode::BAD_REQUEST, format!("{rejection}\n"));
            }
        },
        Ok(Inbound::Ignored(reason)) => {
            tracing::debug!(endpoint = %name, "webhook ignored: {reason}");
            return (StatusCode::OK, format!("ignored: {reason}\n"));
        }
        Err(rejection @ Rejection::BadPayload(_)) => {
            tracing::warn!(endpoint = %name, "webhook refused: {rejection}");
            return (StatusCode::BAD_REQUEST, format!("{rejection}\n"));
        }
        Err(rejection) => return (StatusCode::UNAUTHORIZED, format!("{rejection}\n")),
    };
    job.traceparent = traceparent;
    match bridge
        .queue
        .enqueue(name, &job, bridge.config.debounce_ms)
        .await
    {
        Ok(true) => {
            bridge.wake.notify_one();
            (StatusCode::OK, "queued\n".into())
        }
        Ok(false) => (
            StatusCode::OK,
            "duplicate delivery: already queued\n".into(),
        ),
        // Not acknowledged: the helpdesk delivers it again later.
        Err(e) => {
            tracing::error!(endpoint = %name, "cannot queue a webhook: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot queue; retry\n".into(),
            )
        }
    }
}

/// The queue of a bridge configuration, for the dead-letter commands.
pub async fn open_queue(config: &BridgeConfig) -> Result<Queue, BridgeError> {
    Ok(Queue::open(&config.queue, &config.data_dir).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_well_formed_traceparent_is_passed_on() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("traceparent", value.parse().expect("header"));
            traceparent(&headers)
        };
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(with(good).as_deref(), Some(good));
        for bad in [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
            "garbage",
        ] {
            assert_eq!(with(bad), None, "{bad}");
        }
        assert_eq!(traceparent(&HeaderMap::new()), None);
    }

    use super::*;

    #[test]
    fn a_delivery_is_not_accepted_for_longer_than_its_job_is_kept() {
        let with = |max_age: u64, retention: u64| {
            BridgeConfig::parse(&format!(
                "sidecar = \"http://127.0.0.1:1\"\n[queue]\nretention_secs = {retention}\n[[endpoints]]\nname = \"z\"\n\
                 helpdesk = \"zendesk\"\ntenant = \"acme\"\nbase_url = \"https://acme.example\"\n\
                 max_age_secs = {max_age}\n"
            ))
        };
        assert!(with(300, 300).is_ok(), "{:?}", with(300, 300).err());
        assert!(with(299, 300).is_ok());
        let err = with(301, 300).expect_err("refused").to_string();
        assert!(err.contains("max_age_secs (301)"), "{err}");
    }

    /// What would fail every delivery or write of an endpoint is refused at load.
    #[test]
    fn an_endpoint_that_could_never_work_is_refused() {
        let with = |lines: &str| {
            BridgeConfig::parse(&format!(
                "sidecar = \"http://127.0.0.1:1\"\n[[endpoints]]\nname = \"z\"\n\
                 helpdesk = \"zendesk\"\n{lines}\n"
            ))
            .map(drop)
            .map_err(|e| e.to_string())
        };
        let tenant = "tenant = \"acme\"\n";
        for (lines, said) in [
            (
                "tenant = \" \"\nbase_url = \"https://acme.example\"",
                "tenant is empty",
            ),
            (
                "base_url = \"acme.zendesk.com\"",
                "base_url 'acme.zendesk.com'",
            ),
            ("base_url = \"http://acme.example\"", "plain http"),
            ("base_url = \"ftp://acme.example\"", "the scheme is ftp"),
            (
                "base_url = \"https://acme.example\"\nmax_age_secs = 0",
                "max_age_secs must be above 0",
            ),
        ] {
            let lines = if lines.starts_with("tenant") {
                lines.to_owned()
            } else {
                format!("{tenant}{lines}")
            };
            let refused = with(&lines).expect_err(&lines);
            assert!(refused.contains(said), "{lines}: {refused}");
        }
        for fine in [
            "base_url = \"https://acme.example\"",
            "base_url = \"http://127.0.0.1:8080\"",
            "base_url = \"http://[::1]:8080\"",
            "base_url = \"http://chatwoot.internal:3000\"\nallow_plain_http = true",
        ] {
            with(&format!("{tenant}{fine}")).expect(fine);
        }
    }

    #[test]
    fn a_printed_config_or_endpoint_shows_no_secret() {
        let config = BridgeConfig::parse(
            "sidecar = \"http://127.0.0.1:1\"\n[[endpoints]]\nname = \"z\"\n\
             helpdesk = \"zendesk\"\ntenant = \"acme\"\nbase_url = \"https://acme.example\"\n\
             api_user = \"bot@acme.example\"\n\
             signing_secret = \"whsec-S3CR3T\"\napi_token = \"token-S3CR3T\"\n\
             [queue]\nurl = \"postgres://bridge:pw-S3CR3T@db.example/bridge\"\n",
        )
        .expect("valid");
        let endpoint = endpoint::Endpoint::new(&config.endpoints[0]).expect("endpoint");
        assert_eq!(endpoint.signing_secret.expose_secret(), "whsec-S3CR3T");
        let credentials = types::Credentials {
            user: "bot@acme.example".into(),
            token: "token-S3CR3T".into(),
        };
        for printed in [
            format!("{config:?}"),
            format!("{endpoint:?}"),
            format!("{credentials:?}"),
        ] {
            assert!(!printed.contains("S3CR3T"), "{printed}");
            assert!(printed.contains("REDACTED"), "{printed}");
        }
    }

    #[test]
    fn a_config_error_names_the_place_not_the_secret() {
        let endpoint = "sidecar = \"http://127.0.0.1:1\"\n[[endpoints]]\nname = \"z\"\n\
                        helpdesk = \"zendesk\"\ntenant = \"acme\"\nbase_url = \"https://acme.example\"\n";
        for line in [
            "signing_secert = \"whsec-S3CR3T\"",
            "api_token = 4242424242424242",
        ] {
            let err = BridgeConfig::parse(&format!("{endpoint}{line}\n"))
                .expect_err("invalid")
                .to_string();
            assert!(
                err.starts_with("invalid bridge config: line 7, column "),
                "{err}"
            );
            assert!(
                !err.contains("S3CR3T") && !err.contains("4242424242424242"),
                "{err}"
            );
        }
    }

    #[test]
    fn an_event_the_sidecar_would_refuse_is_refused_at_the_webhook() {
        let job = |display_name: &str| types::Job {
            delivery_key: "zendesk:comment:1".into(),
            event_json: serde_json::json!({
                "tenantId": "acme",
                "eventId": "zendesk:comment:1",
                "kind": "EVENT_KIND_CUSTOMER_MESSAGE",
                "customer": { "displayName": display_name },
                "text": "hola"
            })
            .to_string(),
            target: types::Target {
                ticket_id: "1".into(),
                ..types::Target::default()
            },
            agent_reply: false,
            customer_looked_up: false,
            traceparent: None,
        };
        let mut accepted = job("Ana");
        assert_eq!(prepared(&mut accepted, "acme-zendesk"), Ok(()));
        let event = crate::json::event_from_json(&accepted.event_json).expect("event");
        assert_eq!(event.event_id, "acme-zendesk/zendesk:comment:1");
        let refused = prepared(
            &mut job(&"A".repeat(crossdesk_proto::rules::MAX_FIELD + 1)),
            "acme-zendesk",
        );
        assert!(
            matches!(&refused, Err(Rejection::BadPayload(m)) if m.contains("display_name")),
            "{refused:?}"
        );
    }
}
