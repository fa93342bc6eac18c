//! The operations listener (`[ops] listen`), for the tools operators already run:
//! - `GET /metrics`: the sidecar's metrics ([`crate::metrics`]) in the OpenMetrics
//!   text format, for Prometheus;
//! - `GET /livez`: 200 while the process serves HTTP (a liveness probe);
//! - `GET /readyz`: 200 when the pipelines are built and the store answers, 503
//!   with the reason otherwise (a readiness probe; the event API's gRPC health
//!   service answers the same question for gRPC probes).
//!
//! Nothing here is secret (no event content, no settings), but it belongs on the
//! operators' network, not the helpdesk's.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::Sidecar;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves the operations endpoints on `listener` until `shutdown` completes.
pub async fn serve(
    sidecar: Arc<Sidecar>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/livez", get(|| async { "live\n" }))
        .route("/readyz", get(ready))
        .with_state(sidecar);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn metrics(State(sidecar): State<Arc<Sidecar>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, OPENMETRICS)],
        sidecar.render_metrics(),
    )
}

async fn ready(State(sidecar): State<Arc<Sidecar>>) -> impl IntoResponse {
    match sidecar.readiness().await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    }
}
