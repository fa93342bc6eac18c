//! The soak's timeline: a warm-up, the quiet run, then one slot per fault (the
//! fault, then recovery), all derived from the run's length so that a short run
//! keeps every phase and a long one gives each fault a full minute.

use std::time::Duration;

/// What goes wrong in a slot, in the order the slots run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// One tenant's pipeline gets the looping plugin through the admin API.
    LoopingPlugin,
    /// The translation engine of a group of tenants holds every connection.
    EngineStall,
    /// PostgreSQL is stopped (cleanly) and started again on the same data.
    PostgresRestart,
    /// The helpdesk answers 429 with `Retry-After`, then 500.
    HelpdeskOutage,
    /// The sidecar is killed with SIGKILL and started again on the same database.
    Sigkill,
}

impl Fault {
    pub(crate) const ALL: [Fault; 5] = [
        Fault::LoopingPlugin,
        Fault::EngineStall,
        Fault::PostgresRestart,
        Fault::HelpdeskOutage,
        Fault::Sigkill,
    ];

    /// A short name for reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Fault::LoopingPlugin => "looping plugin",
            Fault::EngineStall => "MT engine stall",
            Fault::PostgresRestart => "PostgreSQL restart",
            Fault::HelpdeskOutage => "helpdesk 429/500",
            Fault::Sigkill => "SIGKILL + restart",
        }
    }
}

/// One fault's slot, as offsets from the start of the load.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub(crate) fault: Fault,
    pub(crate) start: Duration,
    /// When the fault is lifted (the engine answers again, the helpdesk recovers…);
    /// recovery runs from here to `end`.
    pub(crate) fault_end: Duration,
    pub(crate) end: Duration,
}

/// The whole run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Load before the quiet run is measured: plugins compiled into memory, pools
    /// and caches filled.
    pub(crate) warmup: Duration,
    /// The quiet run: same load, no fault; its p99 is the baseline.
    pub(crate) quiet: (Duration, Duration),
    pub(crate) slots: Vec<Slot>,
    /// How long PostgreSQL stays down in its slot.
    pub(crate) postgres_down: Duration,
}

impl Plan {
    /// The timeline of a run of `total` (at least three minutes, so that each of
    /// the six phases gets about 30 s).
    pub(crate) fn new(total: Duration) -> Plan {
        let total = total.max(Duration::from_secs(180));
        // Every tenant's first events fill its caches (the engine's pair list,
        // compiled instances, pooled connections).
        let warmup = (total / 30).clamp(Duration::from_secs(20), Duration::from_secs(40));
        let slot = (total - warmup) / 6;
        // A fault lasts a minute when the run is long enough, else most of its
        // slot, leaving recovery time.
        let fault = slot.mul_f64(0.6).min(Duration::from_secs(60));
        let quiet = (warmup, warmup + slot);
        let slots = Fault::ALL
            .iter()
            .enumerate()
            .map(|(i, &fault_kind)| {
                let start = quiet.1 + slot * u32::try_from(i).unwrap_or(0);
                Slot {
                    fault: fault_kind,
                    start,
                    fault_end: start + fault,
                    end: start + slot,
                }
            })
            .collect();
        Plan {
            warmup,
            quiet,
            slots,
            postgres_down: (fault / 2).min(Duration::from_secs(20)),
        }
    }

    /// When the load stops.
    pub(crate) fn end(&self) -> Duration {
        self.slots.last().map_or(self.quiet.1, |s| s.end)
    }
}
