//! What the bridge tells Prometheus (`GET /metrics` on its listener, OpenMetrics
//! text): its queue as the database has it (read at most once a second, `recent`), so the figures survive
//! restarts and are the same whoever asks.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::queue::QueueStats;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

/// The text of a scrape, from the queue's figures now.
pub(crate) fn render(stats: QueueStats) -> String {
    let mut registry = Registry::with_prefix("crossdesk_bridge");
    let jobs = Family::<StateLabel, Gauge>::default();
    registry.register(
        "queue_jobs",
        "Jobs waiting (pending: to run or to write back) and given up (dead: the dead-letter list)",
        jobs.clone(),
    );
    let oldest = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    registry.register_with_unit(
        "queue_oldest_pending_age",
        "Age of the oldest waiting job (0 when none waits)",
        Unit::Seconds,
        oldest.clone(),
    );
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    jobs.get_or_create(&StateLabel { state: "pending" })
        .set(count(stats.pending));
    jobs.get_or_create(&StateLabel { state: "dead" })
        .set(count(stats.dead));
    // Milliseconds as seconds: exact enough for a gauge.
    #[allow(clippy::cast_precision_loss)]
    oldest.set(stats.oldest_pending_ms as f64 / 1000.0);
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
    text
}
