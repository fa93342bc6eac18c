//! Tenants' quotas at work: events in flight and the rate of new ones.
//!
//! A quota is for the whole deployment. Replicas sharing a store (PostgreSQL)
//! each enforce an equal share of it: the quota divided by the replicas alive
//! (rounded up, at least 1), which they count through heartbeats in the store
//! ([`Replicas`]). Behind a balancer that spreads a tenant's events evenly, the
//! tenant gets its quota; spread unevenly, less. The rounding can give more, by
//! less than one event per replica (a quota of 5 on 2 replicas: 3 each, so 6
//! together). When a replica joins or leaves, the shares change within a
//! heartbeat or two, a tenant's rate limit starts afresh at its new share, and
//! events admitted under the old share are not counted in the new one: for as
//! long as they run, more can be in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;

use super::error::PipelineError;
use crate::config::Quota;
use crate::store::{Store, StoreError};

/// How long a caller turned away for too many events in flight should wait: they
/// end within a plugin deadline or two, usually much sooner.
const IN_FLIGHT_RETRY: Duration = Duration::from_millis(50);

/// Heartbeats a replica may miss before the others stop counting it.
const SILENCE: u32 = 10;

/// How many replicas share the tenants' quotas (1 without a shared store).
#[derive(Debug, Clone)]
pub(crate) struct Replicas(Arc<AtomicU32>);

impl Default for Replicas {
    fn default() -> Self {
        Replicas(Arc::new(AtomicU32::new(1)))
    }
}

impl Replicas {
    pub(crate) fn count(&self) -> u32 {
        self.0.load(Ordering::Relaxed).max(1)
    }

    /// Records this replica as alive and counts those heard of within the last
    /// [`SILENCE`] heartbeats, `every` apart; keeps the count for
    /// [`Replicas::count`].
    pub(crate) async fn heartbeat(
        &self,
        store: &Store,
        owner: &str,
        every: Duration,
    ) -> Result<u32, StoreError> {
        let alive_for = every.saturating_mul(SILENCE);
        let now = store.now_ms();
        let since = now.saturating_sub(i64::try_from(alive_for.as_millis()).unwrap_or(i64::MAX));
        let alive = store.heartbeat(owner, now, since).await?.max(1);
        let before = self.0.swap(alive, Ordering::Relaxed);
        if before != alive {
            tracing::info!(
                replicas = alive,
                "replicas sharing the store changed: quotas are shared anew"
            );
        }
        Ok(alive)
    }
}

/// One tenant's quota at work.
pub(crate) struct Admission {
    quota: Quota,
    replicas: Replicas,
    share: ArcSwap<Share>,
}

/// This replica's share of the quota.
struct Share {
    replicas: u32,
    in_flight: Arc<tokio::sync::Semaphore>,
    max_in_flight: u32,
    rate: governor::DefaultDirectRateLimiter,
    events_per_second: u32,
}

impl Share {
    fn new(quota: Quota, replicas: u32) -> Share {
        let part = |n: u32| n.div_ceil(replicas.max(1)).max(1);
        let at_least_one =
            |n: u32| std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN);
        let (max_in_flight, events_per_second) =
            (part(quota.max_in_flight), part(quota.events_per_second));
        let rate = governor::Quota::per_second(at_least_one(events_per_second))
            .allow_burst(at_least_one(part(quota.burst)));
        Share {
            replicas,
            in_flight: Arc::new(tokio::sync::Semaphore::new(max_in_flight as usize)),
            max_in_flight,
            rate: governor::RateLimiter::direct(rate),
            events_per_second,
        }
    }
}

impl Admission {
    pub(crate) fn new(quota: Quota, replicas: Replicas) -> Admission {
        let share = Share::new(quota, replicas.count());
        Admission {
            quota,
            replicas,
            share: ArcSwap::from_pointee(share),
        }
    }

    /// Admits one event of `tenant`, or says when to try again. The permit is
    /// held while the event is processed. The in-flight bound is checked first:
    /// an event it refuses takes none of the per-second rate (the rate counts
    /// events admitted).
    pub(crate) fn admit(
        &self,
        tenant: &str,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, PipelineError> {
        use governor::clock::{Clock, DefaultClock};
        let replicas = self.replicas.count();
        let mut share = self.share.load_full();
        if share.replicas != replicas {
            share = Arc::new(Share::new(self.quota, replicas));
            self.share.store(share.clone());
        }
        let permit =
            share
                .in_flight
                .clone()
                .try_acquire_owned()
                .map_err(|_| PipelineError::OverQuota {
                    tenant: tenant.to_owned(),
                    reason: format!(
                        "{} events in flight{}",
                        share.max_in_flight,
                        per_replica(replicas)
                    ),
                    retry_after: IN_FLIGHT_RETRY,
                })?;
        if let Err(not_until) = share.rate.check() {
            return Err(PipelineError::OverQuota {
                tenant: tenant.to_owned(),
                reason: format!(
                    "{} events per second{}",
                    share.events_per_second,
                    per_replica(replicas)
                ),
                retry_after: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .max(Duration::from_millis(1)),
            });
        }
        Ok(permit)
    }
}

fn per_replica(replicas: u32) -> String {
    match replicas {
        1 => String::new(),
        n => format!(" on this replica, its share of the quota among {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(admitted: Result<tokio::sync::OwnedSemaphorePermit, PipelineError>) -> String {
        match admitted {
            Err(PipelineError::OverQuota { reason, .. }) => reason,
            Err(other) => panic!("not a quota refusal: {other:?}"),
            Ok(_) => panic!("admitted"),
        }
    }

    /// Events the in-flight bound refuses take none of the per-second rate: once
    /// the running one ends, the next is admitted within the burst. (Time only
    /// adds tokens: the test holds however long it takes.)
    #[test]
    fn a_refused_event_takes_no_share_of_the_rate() {
        let quota = Quota {
            max_in_flight: 1,
            events_per_second: 1,
            burst: 2,
        };
        let admission = Admission::new(quota, Replicas::default());
        let running = admission.admit("acme").expect("the first");
        for _ in 0..3 {
            let reason = refusal(admission.admit("acme"));
            assert_eq!(reason, "1 events in flight");
        }
        drop(running);
        drop(admission.admit("acme").expect("the second of the burst"));
    }
}
