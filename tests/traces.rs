//! Traces reach an OpenTelemetry collector over OTLP/gRPC, and continue the
//! caller's trace: a `crossdesk serve` process told of a collector by
//! OpenTelemetry's standard variable exports its spans to a stand-in collector
//! (the OTLP `TraceService` from `opentelemetry-proto`'s own types, behind a
//! tonic server); an event sent with a W3C `traceparent` comes back as spans of
//! that trace, the first a child of the caller's span.

use std::sync::{Arc, Mutex};

use crossdesk_integration_tests::process::ServerProcess;
use crossdesk_integration_tests::*;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::Span;
use pb::event_service_client::EventServiceClient;

/// The collector stand-in: keeps every span exported to it, with its service name.
#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<(String, Span)>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().expect("lock");
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref())
                .map(|v| format!("{:?}", v.value))
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                spans.extend(scope.spans.into_iter().map(|s| (service.clone(), s)));
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "multi_thread")]
async fn an_events_spans_reach_the_collector_in_the_callers_trace() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let collector_addr = listener.local_addr().expect("addr");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("crossdesk.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nplugin_dir = {:?}\n",
            dir.path().join("data").display().to_string(),
            plugin_dir().display().to_string()
        ) + &install(&["plugin-tagger"])
            + "[[tenants]]\nid = \"acme\"\n[[tenants.plugins]]\nname = \"plugin-tagger\"\nsettings = { tag = \"t\" }\n",
    )
    .expect("config");
    let endpoint = format!("http://{collector_addr}");
    let server = ServerProcess::start(
        &config,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_SERVICE_NAME", "crossdesk-test"),
            // The logs' level in production, not the suite's `trace`: the plugin
            // span is below it and must reach the collector all the same.
            ("RUST_LOG", "info"),
        ],
    );
    let mut request = tonic::Request::new(request(customer_message("acme", "e-1", "Hallo")));
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-{PARENT_SPAN_ID}-01")
            .parse()
            .expect("metadata"),
    );
    EventServiceClient::connect(format!("http://{}", server.addr))
        .await
        .expect("event API")
        .handle_event(request)
        .await
        .expect("event");
    // SIGTERM: the process exports what it buffered before it exits.
    server.stop();

    let spans = collector.spans.lock().expect("lock").clone();
    let ours: Vec<&(String, Span)> = spans
        .iter()
        .filter(|(_, s)| hex::encode(&s.trace_id) == TRACE_ID)
        .collect();
    let names: Vec<&str> = ours.iter().map(|(_, s)| s.name.as_str()).collect();
    for expected in ["grpc", "event", "plugin"] {
        assert!(
            names.contains(&expected),
            "no {expected} span in the caller's trace: {names:?} (all: {:?})",
            spans.iter().map(|(_, s)| &s.name).collect::<Vec<_>>()
        );
    }
    let grpc = ours
        .iter()
        .find(|(_, s)| s.name == "grpc")
        .expect("grpc span");
    assert_eq!(
        hex::encode(&grpc.1.parent_span_id),
        PARENT_SPAN_ID,
        "the request's span is a child of the caller's"
    );
    assert!(
        grpc.0.contains("crossdesk-test"),
        "service name: {}",
        grpc.0
    );
    let plugin = ours
        .iter()
        .find(|(_, s)| s.name == "plugin")
        .expect("plugin span");
    assert!(
        plugin
            .1
            .attributes
            .iter()
            .any(|kv| kv.key == "plugin" && format!("{:?}", kv.value).contains("plugin-tagger")),
        "{:?}",
        plugin.1.attributes
    );
}
