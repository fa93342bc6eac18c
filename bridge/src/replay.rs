//! The bridge's memory of recent signed deliveries, per endpoint, for helpdesks
//! whose signature covers no timestamp (a mapping's `signature.delivery_id`):
//! the same delivery (id and signature) received again within the endpoint's
//! `max_age_secs` is refused as a replay.
//!
//! The memory is bounded in time (`max_age_secs`) and size ([`CAPACITY`]): past
//! either, a repeat is no longer refused here, and the queue's delivery keys
//! still run a delivery's event once. It lives in memory: a restart forgets it.

use std::time::Duration;

use crate::types::{Rejection, ReplayKey};

/// Deliveries remembered per endpoint; beyond, the least recently seen go first.
const CAPACITY: u64 = 100_000;

/// One endpoint's recent deliveries.
#[derive(Debug)]
pub(crate) struct Replays {
    seen: moka::future::Cache<ReplayKey, ()>,
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

    /// Remembers `key`; refuses it when it was already there (in one step, so two
    /// copies arriving together cannot both pass).
    pub(crate) async fn first_time(&self, key: &ReplayKey) -> Result<(), Rejection> {
        let entry = self.seen.entry(key.clone()).or_insert(()).await;
        if entry.is_fresh() {
            Ok(())
        } else {
            Err(Rejection::Replayed(format!(
                "delivery {:?} was already received in the last {} s",
                key.delivery_id.chars().take(64).collect::<String>(),
                self.max_age_secs
            )))
        }
    }

    /// Forgets `key`: its delivery was not acknowledged, so the helpdesk's
    /// redelivery is welcome.
    pub(crate) async fn forget(&self, key: &ReplayKey) {
        self.seen.invalidate(key).await;
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

    #[tokio::test]
    async fn a_delivery_is_let_in_once_within_the_max_age() {
        let replays = Replays::new(1);
        assert_eq!(replays.first_time(&key("d-1", b"mac")).await, Ok(()));
        let again = replays.first_time(&key("d-1", b"mac")).await;
        assert!(
            matches!(&again, Err(Rejection::Replayed(m)) if m.contains("d-1")),
            "{again:?}"
        );
        // Another delivery, or the same id signed over other bytes.
        assert_eq!(replays.first_time(&key("d-2", b"mac")).await, Ok(()));
        assert_eq!(replays.first_time(&key("d-1", b"other")).await, Ok(()));
        // A delivery that was not acknowledged may come again.
        replays.forget(&key("d-2", b"mac")).await;
        assert_eq!(replays.first_time(&key("d-2", b"mac")).await, Ok(()));
        // Past the max age it is no longer remembered.
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        assert_eq!(replays.first_time(&key("d-1", b"mac")).await, Ok(()));
    }
}
