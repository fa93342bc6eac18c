//! The operations listener (`[ops] listen`), for the tools operators already run:
//! - `GET /metrics`: the sidecar's metrics ([`crate::metrics`]) in the OpenMetrics
//!   text format, for Prometheus;
//! - `GET /livez`: 200 while the process serves HTTP (a liveness probe);
//! - `GET /readyz`: 200 once the sidecar serves events (a readiness probe; the
//!   event API's gRPC health says `SERVING` then too), 503 once it is stopping:
//!   the listener goes on through the drain, so that a load balancer's health
//!   check sees the replica leave, and the drain's last counts are scraped. A store that does not
//!   answer does not make a replica unready: events go on without it (guarded by
//!   the replica's memory), and every replica shares the store, so an outage
//!   would otherwise take them all out of service at once. The body says so, and
//!   `crossdesk_store_up` is there to alert on.
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

/// What the endpoints read: the sidecar, and whether the process is stopping.
#[derive(Clone)]
struct Ops {
    sidecar: Arc<Sidecar>,
    stopping: tokio::sync::watch::Receiver<bool>,
}

/// Serves the operations endpoints on `listener` for as long as the process runs;
/// `/readyz` answers 503 once `stopping` turns true.
pub async fn serve(
    sidecar: Arc<Sidecar>,
    listener: tokio::net::TcpListener,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/livez", get(|| async { "live\n" }))
        .route("/readyz", get(ready))
        .with_state(Ops { sidecar, stopping });
    axum::serve(listener, app).await
}

async fn metrics(State(ops): State<Ops>) -> impl IntoResponse {
    let text = ops.sidecar.render_metrics().await;
    ([(header::CONTENT_TYPE, OPENMETRICS)], text)
}

async fn ready(State(ops): State<Ops>) -> (StatusCode, String) {
    if *ops.stopping.borrow() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "stopping: the events in flight finish, no new ones are taken\n".to_owned(),
        );
    }
    let body = match ops.sidecar.store_health().await {
        Ok(()) => "ready\n".to_owned(),
        Err(why) => format!(
            "ready, degraded: the store does not answer ({why}); \
             events run guarded by this replica's memory\n"
        ),
    };
    (StatusCode::OK, body)
}
