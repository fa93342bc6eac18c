//! What a plugin call and a tenant may use: the sandbox's [`Limits`] per call and
//! the [`Quota`] per tenant, each with the overrides a tenant's grant may carry
//! (bounded by the operator's ceiling, see `grant::Bounds`). Plain data, shared by
//! the configuration file, the control plane and the runtime.

use serde::{Deserialize, Serialize};

/// Per-call sandbox limits.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Wall-clock deadline of one plugin call, guest code and host calls together.
    pub timeout_ms: u64,
    /// Linear memory one plugin instance may grow to, all its memories together.
    pub max_memory_bytes: u64,
    /// Table elements one plugin instance may use.
    pub max_table_elements: u32,
    /// Core instances one plugin component may create.
    pub max_instances: u32,
    /// Bytes of actions one call may return.
    pub max_output_bytes: usize,
    /// Bytes of an HTTP response body a plugin may receive.
    pub max_http_response_bytes: usize,
    /// Log lines one call may emit; the rest are dropped.
    pub max_log_lines: u32,
    /// Time one outbound HTTP request may take, within the call's deadline (so a
    /// plugin can turn to another server when one is slow); 0: only the call's
    /// deadline bounds it.
    pub http_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout_ms: 2_000,
            max_memory_bytes: 64 << 20,
            max_table_elements: 20_000,
            max_instances: 16,
            max_output_bytes: 1 << 20,
            max_http_response_bytes: 4 << 20,
            max_log_lines: 100,
            http_timeout_ms: 0,
        }
    }
}

/// What one tenant may ask of the sidecar, so that one tenant's burst or slow plugin
/// cannot starve the others. `[quota]` sets every tenant's; `[tenants.quota]`
/// overrides it for one tenant. Over quota, an event gets `RESOURCE_EXHAUSTED` with a
/// retry hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Quota {
    /// Events of the tenant being processed at the same time.
    pub max_in_flight: u32,
    /// Sustained events per second accepted from the tenant.
    pub events_per_second: u32,
    /// Most events accepted at once: the size of the bucket the rate refills.
    pub burst: u32,
}

impl Default for Quota {
    fn default() -> Self {
        Self {
            max_in_flight: 256,
            events_per_second: 2_000,
            burst: 4_000,
        }
    }
}

/// Fields of [`Quota`] a tenant overrides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaOverrides {
    pub max_in_flight: Option<u32>,
    pub events_per_second: Option<u32>,
    pub burst: Option<u32>,
}

impl Quota {
    /// The overrides that bring this quota down to `ceiling`, field by field
    /// (none for a field within it already).
    pub fn capped_by(self, ceiling: Quota) -> QuotaOverrides {
        let cap = |value: u32, max: u32| (value > max).then_some(max);
        QuotaOverrides {
            max_in_flight: cap(self.max_in_flight, ceiling.max_in_flight),
            events_per_second: cap(self.events_per_second, ceiling.events_per_second),
            burst: cap(self.burst, ceiling.burst),
        }
    }

    /// This quota with `overrides` applied.
    pub fn with(self, overrides: &QuotaOverrides) -> Quota {
        Quota {
            max_in_flight: overrides.max_in_flight.unwrap_or(self.max_in_flight),
            events_per_second: overrides
                .events_per_second
                .unwrap_or(self.events_per_second),
            burst: overrides.burst.unwrap_or(self.burst),
        }
    }
}

/// Per-plugin overrides of [`Limits`]; unset fields keep the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitOverrides {
    pub timeout_ms: Option<u64>,
    pub max_memory_bytes: Option<u64>,
    pub max_table_elements: Option<u32>,
    pub max_instances: Option<u32>,
    pub max_output_bytes: Option<usize>,
    pub max_http_response_bytes: Option<usize>,
    pub max_log_lines: Option<u32>,
    pub http_timeout_ms: Option<u64>,
}

impl Limits {
    /// The first limit that is zero, where zero would fail every call (no time,
    /// no instance, no output, no table), by its field name.
    pub fn zero_field(&self) -> Option<&'static str> {
        [
            ("timeout_ms", self.timeout_ms == 0),
            ("max_instances", self.max_instances == 0),
            ("max_output_bytes", self.max_output_bytes == 0),
            ("max_table_elements", self.max_table_elements == 0),
        ]
        .into_iter()
        .find_map(|(field, zero)| zero.then_some(field))
    }

    /// These limits with `overrides` applied.
    pub fn with(self, overrides: &LimitOverrides) -> Limits {
        Limits {
            timeout_ms: overrides.timeout_ms.unwrap_or(self.timeout_ms),
            max_memory_bytes: overrides.max_memory_bytes.unwrap_or(self.max_memory_bytes),
            max_table_elements: overrides
                .max_table_elements
                .unwrap_or(self.max_table_elements),
            max_instances: overrides.max_instances.unwrap_or(self.max_instances),
            max_output_bytes: overrides.max_output_bytes.unwrap_or(self.max_output_bytes),
            max_http_response_bytes: overrides
                .max_http_response_bytes
                .unwrap_or(self.max_http_response_bytes),
            max_log_lines: overrides.max_log_lines.unwrap_or(self.max_log_lines),
            http_timeout_ms: overrides.http_timeout_ms.unwrap_or(self.http_timeout_ms),
        }
    }
}
