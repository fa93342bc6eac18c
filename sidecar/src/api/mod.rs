//! The gRPC edge: `crossdesk.v1.EventService`, standard health checking and server
//! reflection, and the tower stack in front of them, all assembled in [`serve`];
//! `deadline` reads the caller's deadline.

mod deadline;
mod tls;

pub use tls::TlsFiles;
pub(crate) use tls::incoming as tls_incoming;

use deadline::Arrived;

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status, Streaming};

use crate::config::ServerSettings;
use crate::pb;
use crate::pb::event_service_server::{EventService, EventServiceServer};
use tonic_types::{ErrorDetails, StatusExt};

use crate::pipeline::{CallerDeadline, PipelineError, Sidecar};

impl From<PipelineError> for Status {
    fn from(error: PipelineError) -> Status {
        let message = error.to_string();
        match error {
            PipelineError::InvalidEvent(_) => Status::invalid_argument(message),
            PipelineError::UnknownTenant(_) => Status::not_found(message),
            PipelineError::Suspended(_) => Status::failed_precondition(message),
            PipelineError::EventIdReused(_) => Status::already_exists(message),
            PipelineError::DeadlineExceeded(_) | PipelineError::CallerDeadlineExceeded(_) => {
                Status::deadline_exceeded(message)
            }
            // A fail-closed plugin that would fail the same way again (a trap,
            // a refusal, a refused output, an error it says is for good): sent
            // again, the event would run its whole pipeline again for nothing.
            PipelineError::FailClosed {
                retryable: false, ..
            } => Status::failed_precondition(message),
            PipelineError::FailClosed { .. } | PipelineError::Unavailable(_) => {
                Status::unavailable(message)
            }
            // google.rpc.RetryInfo tells well-behaved clients when to come back.
            PipelineError::OverQuota { retry_after, .. } => Status::with_error_details(
                tonic::Code::ResourceExhausted,
                message,
                ErrorDetails::with_retry_info(Some(retry_after)),
            ),
        }
    }
}

/// A stream's result for an event refused with `status`: its code, message and
/// retry hint (a unary call's `google.rpc.RetryInfo` detail).
fn event_error(status: &Status) -> pb::EventError {
    use tonic_types::StatusExt as _;
    let retry_after = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
        .and_then(|delay| prost_types::Duration::try_from(delay).ok());
    pb::EventError {
        code: status.code() as i32,
        message: status.message().to_owned(),
        retry_after,
    }
}

/// The event service over an assembled [`Sidecar`].
#[derive(Debug, Clone)]
pub struct EventApi {
    sidecar: Arc<Sidecar>,
    stream_concurrency: usize,
}

impl EventApi {
    pub fn new(sidecar: Arc<Sidecar>, stream_concurrency: usize) -> Self {
        Self {
            sidecar,
            stream_concurrency: stream_concurrency.max(1),
        }
    }
}

fn required_event(request: pb::HandleEventRequest) -> Result<pb::Event, PipelineError> {
    request
        .event
        .ok_or_else(|| PipelineError::InvalidEvent("request.event is required".into()))
}

type ResultStream = Pin<Box<dyn Stream<Item = Result<pb::StreamEventsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl EventService for EventApi {
    async fn handle_event(
        &self,
        request: Request<pb::HandleEventRequest>,
    ) -> Result<Response<pb::HandleEventResponse>, Status> {
        let caller = self
            .sidecar
            .callers()
            .identify(request.metadata())?
            .cloned();
        let deadline = request.extensions().get::<CallerDeadline>().copied();
        // The server's deadline counts from the request's arrival, as tonic's
        // timer does, so that the pipeline's ends first.
        let arrived = request.extensions().get::<Arrived>().map(|a| a.0);
        let event = required_event(request.into_inner())?;
        authorized(caller.as_ref(), &event)?;
        let result = self
            .sidecar
            .handle_until(event, arrived, deadline)
            .await
            .map_err(Status::from);
        Ok(Response::new(answered(result)?))
    }

    type StreamEventsStream = ResultStream;

    async fn stream_events(
        &self,
        request: Request<Streaming<pb::HandleEventRequest>>,
    ) -> Result<Response<Self::StreamEventsStream>, Status> {
        let sidecar = self.sidecar.clone();
        // The stream's caller is known once; each event is checked against it.
        let caller = sidecar.callers().identify(request.metadata())?.cloned();
        // The call's deadline bounds each of its events (tonic's own ends with
        // this function's answer, the stream's start).
        let deadline = request.extensions().get::<CallerDeadline>().copied();
        // `buffered` runs up to `stream_concurrency` events at once and yields their
        // results in arrival order; it stops reading the client's stream while that
        // many are pending, which is the backpressure HTTP/2 flow control passes on.
        // Each event runs in a task of its own: the response stream is polled only
        // while the client reads it, and an event run inside it would stop there,
        // holding its customer's lock, its tenant's permits and its plugins'
        // slots, for as long as the client did not read. The tasks are aborted
        // when the stream is dropped (the client went away).
        let results = request
            .into_inner()
            .map(move |item| {
                let sidecar = sidecar.clone();
                let caller = caller.clone();
                let event_id = item
                    .as_ref()
                    .ok()
                    .and_then(|request| request.event.as_ref())
                    .map(|e| e.event_id.clone())
                    .unwrap_or_default();
                let answered_as = event_id.clone();
                let event = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
                    let request = item?;
                    let result = match required_event(request) {
                        Ok(event) => match authorized(caller.as_ref(), &event) {
                            Err(refused) => Err(refused),
                            Ok(()) => sidecar
                                .handle_until(event, None, deadline)
                                .await
                                .map_err(Status::from),
                        },
                        Err(e) => Err(Status::from(e)),
                    };
                    let result = answered(result);
                    Ok(pb::StreamEventsResponse {
                        event_id,
                        result: Some(match result {
                            Ok(response) => pb::stream_events_response::Result::Response(response),
                            Err(status) => {
                                pb::stream_events_response::Result::Error(event_error(&status))
                            }
                        }),
                    })
                }));
                // A panic is that event's INTERNAL error: an Err item would end
                // the stream, and every other event under way on it.
                async move {
                    event.await.unwrap_or_else(|failed| {
                        tracing::error!(event_id = %answered_as, "an event of a stream failed: {failed}");
                        Ok(pb::StreamEventsResponse {
                            event_id: answered_as,
                            result: Some(pb::stream_events_response::Result::Error(
                                pb::EventError {
                                    code: tonic::Code::Internal as i32,
                                    message: "the event failed in the sidecar".to_owned(),
                                    retry_after: None,
                                },
                            )),
                        })
                    })
                }
            })
            .buffered(self.stream_concurrency);
        Ok(Response::new(Box::pin(results)))
    }
}

/// Whether the caller may send this event: one of a tenant it was given. An
/// event naming no tenant is about none: its validation refuses it, naming the
/// field (`INVALID_ARGUMENT`), before anything runs, where a refusal of the
/// caller would send the integrator looking at its tokens.
fn authorized(caller: Option<&crate::auth::Caller>, event: &pb::Event) -> Result<(), Status> {
    match caller {
        Some(caller) if !event.tenant_id.is_empty() => caller.authorize(&event.tenant_id),
        _ => Ok(()),
    }
}

/// What the event API answers, as it answers it: a refusal at debug level, the
/// whole response (every plugin's actions and errors) at trace level, so an
/// operator can follow an event and the test suite can check that no secret is
/// ever in what a caller is told.
fn answered(
    result: Result<pb::HandleEventResponse, Status>,
) -> Result<pb::HandleEventResponse, Status> {
    match &result {
        Ok(response) => tracing::trace!(event_id = %response.event_id, ?response, "answered"),
        Err(status) => tracing::debug!(code = ?status.code(), "refused: {}", status.message()),
    }
    result
}

/// Why the event API could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("TLS: cannot read {path}: {source}")]
    TlsFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("TLS: {path}: {message}")]
    TlsInvalid {
        path: std::path::PathBuf,
        message: String,
    },
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
}

/// Reads the TLS files and builds the listener's rustls configuration from them,
/// as serving will: a missing file or a bad certificate or key is found before
/// anything listens (and by `check-config`), not after the process says it serves.
pub fn check_tls(tls: &crate::config::TlsSettings) -> Result<(), ServeError> {
    TlsFiles::load(tls).map(drop)
}

/// The connections of a listener without TLS.
pub(crate) fn plain_incoming(listener: TcpListener) -> tonic::transport::server::TcpIncoming {
    // Latency matters more than packet count for small RPCs: without TCP_NODELAY
    // a response split over several writes waits for the client's delayed ACK
    // (~40 ms).
    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// Makes `span` a child of the caller's span when the request carries a W3C
/// `traceparent` (the process's propagator reads it; the binary installs W3C
/// Trace Context). Without an OpenTelemetry layer there is nothing to continue.
fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    struct Headers<'a>(&'a http::HeaderMap);
    impl opentelemetry::propagation::Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(http::HeaderName::as_str).collect()
        }
    }
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&Headers(headers))
    });
    // Only fails without an OpenTelemetry layer: then no trace is exported.
    let _ = span.set_parent(parent);
}

/// How much longer than `server.request_timeout_ms` tonic lets a request run: a
/// backstop, for the pipeline's timer counts from the same moment.
const BACKSTOP: Duration = Duration::from_secs(1);

/// How long a connection authenticated by a client certificate takes new
/// requests (callers then reconnect, as after any replica's restart).
const CERTIFIED_CONNECTION_AGE: Duration = Duration::from_secs(3600);

/// Serves the event API, health and reflection on `listener` until `shutdown`
/// completes, then drains in-flight requests.
pub async fn serve(
    sidecar: Arc<Sidecar>,
    settings: &ServerSettings,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<EventServiceServer<EventApi>>()
        .await;

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| tracing::error!("reflection disabled: {e}"))
        .ok();
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| tracing::error!("reflection (v1alpha) disabled: {e}"))
        .ok();

    let events = EventServiceServer::new(EventApi::new(sidecar, settings.stream_concurrency))
        // Bigger requests are refused by tonic with OUT_OF_RANGE before decoding.
        .max_decoding_message_size(settings.max_request_bytes)
        .max_encoding_message_size(64 << 20);

    // rustls; with a client CA, a client without a certificate it signed is
    // turned away during the handshake.
    let tls = settings.tls.as_ref().map(TlsFiles::load).transpose()?;
    let mut server = tonic::transport::Server::builder();
    if crate::config::TlsSettings::requires_client_certificates(settings.tls.as_ref()) {
        // A caller's certificate is its credential, checked once per
        // connection: one of a CA since replaced in the file gets no new
        // requests on it after the age. The connection is closed gracefully
        // (GOAWAY; its requests and streams under way finish): tonic's
        // `max_connection_age_grace` would cut them instead, with no GOAWAY.
        server = server.max_connection_age(CERTIFIED_CONNECTION_AGE);
    }
    let router = server
        // Dead clients are noticed and their connections released.
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        // One connection cannot occupy the whole process; streams past the limit
        // are refused by HTTP/2 (the client holds them) rather than parked here
        // without a deadline.
        .concurrency_limit_per_connection(settings.concurrency_per_connection)
        .max_concurrent_streams(u32::try_from(settings.concurrency_per_connection).ok())
        // No request, all plugins included, runs forever. A backstop: an event
        // ends by the pipeline's own timer first (at `request_timeout_ms`, or at
        // the caller's `grpc-timeout`, stamped by `deadline`), which answers
        // DEADLINE_EXCEEDED where tonic's would answer CANCELLED.
        .timeout(Duration::from_millis(settings.request_timeout_ms).saturating_add(BACKSTOP))
        // Before tonic starts its timer for the caller's deadline.
        .layer(tonic::service::InterceptorLayer::new(deadline::stamp))
        .trace_fn(|request| {
            let span = tracing::info_span!("grpc", path = %request.uri().path());
            continue_trace(&span, request.headers());
            span
        })
        .add_service(health_service)
        .add_optional_service(reflection_v1)
        .add_optional_service(reflection_v1alpha)
        .add_service(events);
    match tls {
        Some(tls) => {
            let incoming = tls_incoming(listener, Arc::new(tls));
            router
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
        }
        None => {
            let incoming = plain_incoming(listener);
            router
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
        }
    }?;
    Ok(())
}
