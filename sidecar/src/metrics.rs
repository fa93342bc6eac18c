//! What operators scrape: the sidecar's counters and histograms in the OpenMetrics
//! text format that Prometheus reads, served with liveness and readiness on the
//! operations listener ([`crate::ops`]).
//!
//! Labels name tenants and installed plugins, never event content. A tenant label
//! per series is what an operator of many tenants asks for (which tenant is
//! failing); Prometheus handles thousands of such series.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// How an event ended, as the `outcome` label says it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)] // label values, as Prometheus users write them
pub enum EventOutcome {
    /// The plugins ran (each plugin's own outcome is counted apart).
    ok,
    /// A redelivery answered with the first response.
    replayed,
    invalid,
    unknown_tenant,
    suspended,
    event_id_reused,
    fail_closed,
    over_quota,
    unavailable,
    /// Not finished within `server.request_timeout_ms`.
    deadline_exceeded,
}

impl EventOutcome {
    const ALL: [EventOutcome; 10] = [
        EventOutcome::ok,
        EventOutcome::replayed,
        EventOutcome::invalid,
        EventOutcome::unknown_tenant,
        EventOutcome::suspended,
        EventOutcome::event_id_reused,
        EventOutcome::fail_closed,
        EventOutcome::over_quota,
        EventOutcome::unavailable,
        EventOutcome::deadline_exceeded,
    ];
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    tenant: String,
    kind: &'static str,
    outcome: EventOutcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginName {
    plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboundLabels {
    plugin: String,
    host: String,
    outcome: &'static str,
}

/// The sidecar's metrics. Cheap to update from any task.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    events: Family<EventLabels, Counter>,
    plugin_calls: Family<PluginLabels, Counter>,
    plugin_seconds: Family<PluginName, Histogram>,
    cache: Family<PluginLabels, Counter>,
    outbound: Family<OutboundLabels, Counter>,
    warm_instances: Gauge,
    plugin_memory: Gauge,
    replicas: Gauge,
    store_up: Gauge,
}

fn call_histogram() -> Histogram {
    // 50 µs to ~3 s: a warm no-op call to a plugin waiting on an engine.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 17))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("crossdesk");
        let events = Family::default();
        registry.register(
            "events",
            "Events handled, by tenant, kind and outcome",
            events.clone(),
        );
        let plugin_calls = Family::default();
        registry.register(
            "plugin_calls",
            "Plugin calls, by installed plugin and outcome (ok, failed, timed_out, denied)",
            plugin_calls.clone(),
        );
        let plugin_seconds = Family::new_with_constructor(call_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "plugin_call_duration",
            "Time of a plugin call, cached results included",
            Unit::Seconds,
            plugin_seconds.clone(),
        );
        let cache = Family::default();
        registry.register(
            "result_cache",
            "Lookups of cacheable plugins' results, by plugin and outcome (hit, miss)",
            cache.clone(),
        );
        let outbound = Family::default();
        registry.register(
            "outbound_requests",
            "Plugins' HTTP requests (engines, APIs), by plugin, host and outcome \
             (2xx, 3xx, 4xx, 5xx, error, denied)",
            outbound.clone(),
        );
        let warm_instances = Gauge::default();
        registry.register(
            "warm_instances",
            "Plugin instances waiting warm for their tenant's next call",
            warm_instances.clone(),
        );
        let plugin_memory = Gauge::default();
        registry.register_with_unit(
            "plugin_memory",
            "Linear memory held by plugin instances, running or warm",
            Unit::Bytes,
            plugin_memory.clone(),
        );
        let replicas = Gauge::default();
        registry.register(
            "replicas",
            "Replicas sharing the store that this one counts (tenants' quotas are shared among them)",
            replicas.clone(),
        );
        let store_up = Gauge::default();
        registry.register(
            "store_up",
            "1 when the store answered this scrape, else 0 (events go on, guarded by each replica's memory)",
            store_up.clone(),
        );
        Metrics {
            registry,
            events,
            plugin_calls,
            plugin_seconds,
            cache,
            outbound,
            warm_instances,
            plugin_memory,
            replicas,
            store_up,
        }
    }

    pub fn event(&self, tenant: &str, kind: &'static str, outcome: EventOutcome) {
        self.events
            .get_or_create(&EventLabels {
                tenant: tenant.to_owned(),
                kind,
                outcome,
            })
            .inc();
    }

    /// Drops a deleted tenant's event series: a deployment whose tenants come
    /// and go would otherwise export every tenant it ever served until restart.
    pub fn forget_tenant(&self, tenant: &str) {
        let kinds = (0..=i32::from(u8::MAX))
            .filter_map(|value| crate::pb::EventKind::try_from(value).ok())
            .map(kind_label);
        for kind in kinds {
            for outcome in EventOutcome::ALL {
                self.events.remove(&EventLabels {
                    tenant: tenant.to_owned(),
                    kind,
                    outcome,
                });
            }
        }
    }

    /// A plugin call that ran (skipped ones are not calls).
    pub fn plugin_call(&self, plugin: &str, outcome: &'static str, seconds: f64) {
        self.plugin_calls
            .get_or_create(&PluginLabels {
                plugin: plugin.to_owned(),
                outcome,
            })
            .inc();
        self.plugin_seconds
            .get_or_create(&PluginName {
                plugin: plugin.to_owned(),
            })
            .observe(seconds);
    }

    pub fn cache_lookup(&self, plugin: &str, hit: bool) {
        self.cache
            .get_or_create(&PluginLabels {
                plugin: plugin.to_owned(),
                outcome: if hit { "hit" } else { "miss" },
            })
            .inc();
    }

    /// A plugin's HTTP request: `status` when a response came, else `denied` (by
    /// its grant) or an error reaching the host.
    pub fn outbound(&self, plugin: &str, host: &str, outcome: OutboundOutcome) {
        let outcome = match outcome {
            OutboundOutcome::Status(status) => match status / 100 {
                2 => "2xx",
                3 => "3xx",
                4 => "4xx",
                _ => "5xx",
            },
            OutboundOutcome::Denied => "denied",
            OutboundOutcome::Error => "error",
        };
        self.outbound
            .get_or_create(&OutboundLabels {
                plugin: plugin.to_owned(),
                host: host.to_owned(),
                outcome,
            })
            .inc();
    }

    /// The text a scrape gets, with the gauges read now.
    pub fn render(
        &self,
        warm_instances: usize,
        plugin_memory_bytes: usize,
        replicas: u32,
        store_up: bool,
    ) -> String {
        self.replicas.set(i64::from(replicas));
        self.store_up.set(i64::from(store_up));
        self.warm_instances
            .set(i64::try_from(warm_instances).unwrap_or(i64::MAX));
        self.plugin_memory
            .set(i64::try_from(plugin_memory_bytes).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The `kind` label of an event kind: its proto name, lowercase, without the
/// `EVENT_KIND_` prefix.
pub fn kind_label(kind: crate::pb::EventKind) -> &'static str {
    use crate::pb::EventKind as K;
    match kind {
        K::Unspecified => "unspecified",
        K::CustomerMessage => "customer_message",
        K::AgentReplyDrafted => "agent_reply_drafted",
        K::TicketCreated => "ticket_created",
        K::TicketSolved => "ticket_solved",
        K::SatisfactionRated => "satisfaction_rated",
        K::CustomerRegistered => "customer_registered",
        K::PurchaseRecorded => "purchase_recorded",
        K::ProfileUpdated => "profile_updated",
        K::TranslationCorrected => "translation_corrected",
        K::Custom => "custom",
    }
}

/// How a plugin's HTTP request ended, for [`Metrics::outbound`].
#[derive(Debug, Clone, Copy)]
pub enum OutboundOutcome {
    Status(u16),
    Denied,
    Error,
}
