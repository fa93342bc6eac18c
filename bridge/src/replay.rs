//! The bridge's memory of recent signed deliveries, per endpoint, for helpdesks
//! whose signature covers no timestamp (a mapping's `signature.delivery_id`):
//! the same delivery (id and signature) received again within the endpoint's
//! `max_age_secs` is acknowledged as a duplicate and not queued again, once its
//! first copy was; while that copy is still being queued, the repeat is asked to
//! come back (the first may yet fail).
//!
//! The memory is bounded in time (`max_age_secs`) and size ([`CAPACITY`]): past
//! either, a repeat is no longer refused here, and the queue's delivery keys
//! still run a delivery's event once while its job is kept (`retention_secs`).
//! It lives in memory: a restart forgets it. A delivery is remembered from the
//! moment it is let in; one the bridge did not acknowledge (an error, or the
//! helpdesk hanging up first) is forgotten again, so that its redelivery is let
//! in.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::types::{Rejection, ReplayKey};

/// Deliveries remembered per endpoint; beyond, the least recently seen go first.
const CAPACITY: u64 = 100_000;

/// One endpoint's recent deliveries.
#[derive(Debug)]
pub(crate) struct Replays {
    /// Each delivery let in, and whether it has been acknowledged.
    seen: moka::future::Cache<ReplayKey, Arc<AtomicBool>>,
    max_age_secs: u64,
}

impl Replays {
    /// Remembers deliveries for `max_age_secs` (at least a second).
    pub(crate) fn new(max_age_secs: u64) -> Replays {
        let max_age_secs = max_age_secs.max(1);
        Replays {
            seen: moka::future::Cache::builder()
                .max_capacity(CAPACITY)
                // Least recently used out, every new delivery in (the default
                // policy may turn a new key away, which would let its repeat pass).
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .time_to_live(Duration::from_secs(max_age_secs))
                .build(),
            max_age_secs,
        }
    }

    /// Remembers `key` until the returned [`Admitted`] is dropped unacknowledged;
    /// refuses it when it was already there (in one step, so two copies arriving
    /// together cannot both pass).
    pub(crate) async fn admit(&self, key: &ReplayKey) -> Result<Admitted, Rejection> {
        let entry = self
            .seen
            .entry(key.clone())
            .or_insert_with(async { Arc::new(AtomicBool::new(false)) })
            .await;
        let shown = || key.delivery_id.chars().take(64).collect::<String>();
        if entry.is_fresh() {
            Ok(Admitted {
                seen: self.seen.clone(),
                key: Some(key.clone()),
                acknowledged: entry.into_value(),
            })
        } else if entry.value().load(Ordering::Acquire) {
            Err(Rejection::Replayed(format!(
                "delivery {:?} was already received in the last {} s",
                shown(),
                self.max_age_secs
            )))
        } else {
            Err(Rejection::InProgress(format!(
                "delivery {:?} is being queued; send it again shortly",
                shown()
            )))
        }
    }
}

/// A delivery let in. Unless [`Admitted::acknowledged`], it is forgotten: at
/// once by [`Admitted::refused`], or when dropped (the request was cancelled, as
/// when the helpdesk hangs up while the job is being queued).
#[derive(Debug)]
pub(crate) struct Admitted {
    seen: moka::future::Cache<ReplayKey, Arc<AtomicBool>>,
    /// `None` once acknowledged or forgotten.
    key: Option<ReplayKey>,
    /// What the memory says of it: set once it is acknowledged.
    acknowledged: Arc<AtomicBool>,
}

impl Admitted {
    /// The delivery was queued and answered: a repeat is a replay.
    pub(crate) fn acknowledged(mut self) {
        self.acknowledged.store(true, Ordering::Release);
        self.key = None;
    }

    /// The delivery was not acknowledged: the helpdesk's redelivery is welcome.
    pub(crate) async fn refused(mut self) {
        if let Some(key) = self.key.take() {
            self.seen.invalidate(&key).await;
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let seen = self.seen.clone();
        // A cancelled request's future is dropped on the runtime.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { seen.invalidate(&key).await });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, signature: &[u8]) -> ReplayKey {
        ReplayKey {
            delivery_id: id.to_owned(),
            signature: signature.to_vec(),
        }
    }

    /// Lets `key` in and acknowledges it.
    async fn acknowledge(replays: &Replays, key: &ReplayKey) -> Result<(), Rejection> {
        replays.admit(key).await.map(Admitted::acknowledged)
    }

    #[tokio::test]
    async fn a_delivery_is_let_in_once_within_the_max_age() {
        let replays = Replays::new(1);
        assert_eq!(acknowledge(&replays, &key("d-1", b"mac")).await, Ok(()));
        let again = acknowledge(&replays, &key("d-1", b"mac")).await;
        assert!(
            matches!(&again, Err(Rejection::Replayed(m)) if m.contains("d-1")),
            "{again:?}"
        );
        // Another delivery, or the same id signed over other bytes.
        assert_eq!(acknowledge(&replays, &key("d-2", b"mac")).await, Ok(()));
        assert_eq!(acknowledge(&replays, &key("d-1", b"other")).await, Ok(()));
        // Past the max age it is no longer remembered.
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        assert_eq!(acknowledge(&replays, &key("d-1", b"mac")).await, Ok(()));
    }

    #[tokio::test]
    async fn a_delivery_not_acknowledged_may_come_again() {
        let replays = Replays::new(300);
        let refused = replays.admit(&key("d-1", b"mac")).await.expect("first");
        // A copy arriving meanwhile is asked to come back: the first may fail.
        let meanwhile = replays.admit(&key("d-1", b"mac")).await;
        assert!(
            matches!(&meanwhile, Err(Rejection::InProgress(_))),
            "{meanwhile:?}"
        );
        refused.refused().await;
        assert!(replays.admit(&key("d-1", b"mac")).await.is_ok());
        // Dropped unanswered, as when the helpdesk hangs up: forgotten too.
        let cancelled = replays.admit(&key("d-2", b"mac")).await.expect("first");
        drop(cancelled);
        let mut again = replays.admit(&key("d-2", b"mac")).await;
        while again.is_err() {
            // The drop's forgetting runs as a task of its own.
            tokio::task::yield_now().await;
            again = replays.admit(&key("d-2", b"mac")).await;
        }
    }
}
