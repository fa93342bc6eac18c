//! Where the binary's logs and traces go: logs to stderr always; traces to an
//! OpenTelemetry collector over OTLP/gRPC too when OpenTelemetry's standard
//! variables name one (`OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_SERVICE_NAME`, `OTEL_BSP_*` and the
//! exporter's other variables apply as documented by OpenTelemetry).
//!
//! A caller's W3C `traceparent` (gRPC metadata) continues its trace: the
//! propagator is W3C Trace Context.

use anyhow::{Context, Result};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::{FilterExt, filter_fn};
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// How long a stop waits for the last traces to reach the collector.
const TRACE_FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The exporter, to be flushed before the process exits.
pub(crate) struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

fn otlp_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()))
}

/// Installs the subscriber. Servers log at `info`, one-shot commands at `warn`;
/// `RUST_LOG` overrides both. Call within the tokio runtime (the exporter's
/// connection lives there).
pub(crate) fn init(serving: bool) -> Result<Telemetry> {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(if serving { "info" } else { "warn" })
        })
    };
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter());
    let provider = if serving && otlp_configured() {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
            .context("cannot set up the OTLP exporter")?;
        let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "crossdesk".into());
        Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(
                    opentelemetry_sdk::Resource::builder()
                        .with_service_name(service)
                        .build(),
                )
                .build(),
        )
    } else {
        None
    };
    // Traces take what the logs take, and each plugin call's span, which the
    // sidecar creates below `info` to spare the logs formatting it.
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("crossdesk"))
            .with_filter(
                filter().or(filter_fn(crossdesk_sidecar::pipeline::is_plugin_span)
                    .with_max_level_hint(tracing::Level::DEBUG)),
            )
    });
    tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .init();
    Ok(Telemetry { provider })
}

impl Telemetry {
    /// Exports the spans still buffered. Call outside the runtime's tasks, while
    /// the runtime still runs.
    /// Exports what is buffered, for [`TRACE_FLUSH_WAIT`] at most: a collector
    /// away must not hold a stopping replica past its grace period (SIGKILL).
    pub(crate) fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown_with_timeout(TRACE_FLUSH_WAIT)
        {
            eprintln!("traces not all exported: {e}");
        }
    }
}
