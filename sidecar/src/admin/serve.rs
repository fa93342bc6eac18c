//! The admin listener: the admin API and the admin web page on one port (gRPC
//! for tools, HTTP/1.1 for browsers), with the admin TLS settings.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use super::service::AdminApi;
use crate::config::AdminSettings;
use crate::pb::admin_service_server::AdminServiceServer;
use crate::pipeline::Sidecar;

/// Why the admin API could not be served.
#[derive(Debug, thiserror::Error)]
pub enum AdminServeError {
    #[error("the admin API is configured but the sidecar has no control plane")]
    NoControlPlane,
    #[error("admin users: {0}")]
    Users(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Serve(#[from] crate::api::ServeError),
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
}

/// Admin API calls one connection may have open at once.
const STREAMS_PER_CONNECTION: u32 = 16;

/// How long an admin's connection takes new calls: a client certificate of a
/// CA the operator has since replaced in `client_ca_file` keeps no connection
/// for longer. The connection is then closed gracefully (HTTP/2 GOAWAY): its
/// calls under way finish, within [`CALL_TIMEOUT`]. (With tonic's
/// `max_connection_age_grace` set too, it would be cut instead, at age plus
/// grace, without a GOAWAY.)
const CONNECTION_AGE: Duration = Duration::from_secs(3600);

/// The longest an admin API call runs.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Serves the admin API on `listener` until `shutdown` completes.
pub async fn serve_admin(
    sidecar: Arc<Sidecar>,
    settings: &AdminSettings,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), AdminServeError> {
    let control = sidecar
        .control()
        .cloned()
        .ok_or(AdminServeError::NoControlPlane)?;
    let api = AdminApi::new(sidecar, control, settings)?;
    let page = super::page::router(api.clone(), settings.tls.is_some());
    let api_for_sign_in = api.clone();
    let service = AdminServiceServer::new(api)
        // Components travel in InstallPlugin; the server's own limit applies after.
        .max_decoding_message_size(settings.max_component_bytes.saturating_add(64 << 10))
        .max_encoding_message_size(64 << 20);
    let tls = settings
        .tls
        .as_ref()
        .map(crate::api::TlsFiles::load)
        .transpose()?;
    // The admin web page shares the listener: browsers speak HTTP/1.1.
    let routes = tonic::service::Routes::from(page)
        .add_service(service)
        .into_axum_router()
        .layer(axum::middleware::from_fn_with_state(
            api_for_sign_in,
            signed_in_before_body,
        ))
        .layer(axum::middleware::from_fn(grpc_clients_only));
    let routes = tonic::service::Routes::from(routes);
    let router = tonic::transport::Server::builder()
        .accept_http1(true)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        // Admins make a few calls at a time; a connection holding more streams
        // (each may carry a component) waits on HTTP/2 rather than here.
        .max_concurrent_streams(Some(STREAMS_PER_CONNECTION))
        .timeout(CALL_TIMEOUT)
        .max_connection_age(CONNECTION_AGE)
        .trace_fn(|request| tracing::info_span!("admin", path = %request.uri().path()))
        .add_routes(routes);
    match tls {
        Some(tls) => {
            let incoming = crate::api::tls_incoming(listener, Arc::new(tls));
            router
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
        }
        None => {
            let incoming = crate::api::plain_incoming(listener);
            router
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
        }
    }?;
    Ok(())
}

/// The admin API answers gRPC clients only. A browser holding an admin's client
/// certificate presents it with any site's request, and the service routes a
/// request by its path alone: a page elsewhere could post a gRPC frame as
/// `text/plain` (which needs no CORS preflight) and act as an admin of every
/// tenant. No such request can carry `content-type: application/grpc`. The
/// page's own routes have their session and anti-forgery token.
async fn grpc_clients_only(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path();
    let is_rpc = path.starts_with("/crossdesk.") || path.starts_with("/grpc.");
    let from_grpc_client = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/grpc"));
    if is_rpc && !from_grpc_client {
        return (
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the admin API takes gRPC requests (content-type: application/grpc) only\n",
        )
            .into_response();
    }
    next.run(request).await
}

/// Turns away an admin API call that cannot sign in before its body is read
/// (see [`AdminApi::admits_headers`]): without it, anyone who reaches the
/// listener could make it hold a component's worth of memory per stream.
async fn signed_in_before_body(
    axum::extract::State(api): axum::extract::State<AdminApi>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    if path.starts_with("/crossdesk.") {
        let from = remote_address(request.extensions());
        if let Err(status) = api.admits_headers(request.headers(), from, path) {
            return status.into_http();
        }
    }
    next.run(request).await
}

/// The address a request came from, as tonic's listener records it.
fn remote_address(extensions: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
    let tcp = extensions.get::<TcpConnectInfo>().or_else(|| {
        extensions
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .map(TlsConnectInfo::get_ref)
    });
    tcp.and_then(TcpConnectInfo::remote_addr)
        .map(|address| address.ip())
}
