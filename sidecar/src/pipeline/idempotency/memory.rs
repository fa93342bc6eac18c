//! The responses this process remembers: bounded in bytes, forgotten by age as
//! the store forgets them, and the ones let go for room told to [`OnlyStored`].
//!
//! A `quick_cache` rather than moka: every new event inserts here, and moka's
//! insertion (a key lock, a write log for its housekeeping, a timer wheel for
//! the age) took 0.9 µs against 0.2 µs, a third of what the host adds to an
//! event (BENCHMARKS.md, "Where the time goes").

use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, Weighter};

use crate::store::EventKey;

use super::Recorded;
use super::only_stored::OnlyStored;

/// Bytes a response is counted for besides its encoding and its key.
const OVERHEAD_BYTES: u64 = 96;
/// A response's size, for the cache's estimate of how many it holds.
const TYPICAL_BYTES: u64 = 1024;

pub(super) struct Memory {
    cache: Cache<EventKey, Kept, Weight, DefaultHashBuilder, Forgotten>,
    ttl: Duration,
}

/// A response and when memory took it.
#[derive(Clone)]
struct Kept {
    recorded: Arc<Recorded>,
    since: Instant,
}

impl Memory {
    /// Up to `max_bytes` of responses, each for `ttl`.
    pub(super) fn new(
        max_bytes: u64,
        ttl: Duration,
        only_stored: Option<Arc<OnlyStored>>,
    ) -> Memory {
        let estimated = usize::try_from(max_bytes / TYPICAL_BYTES)
            .unwrap_or(usize::MAX)
            .max(1);
        Memory {
            cache: Cache::with(
                estimated,
                max_bytes,
                Weight,
                DefaultHashBuilder::default(),
                Forgotten(only_stored),
            ),
            ttl,
        }
    }

    pub(super) fn get(&self, key: &EventKey) -> Option<Arc<Recorded>> {
        let kept = self.cache.get(key)?;
        // Past its age the store has forgotten it too: the event is new again.
        if kept.since.elapsed() >= self.ttl {
            // Only if it is still that old response: a run of the event that ended
            // meanwhile may have put its own, which must stay.
            self.cache
                .remove_if(key, |kept| kept.since.elapsed() >= self.ttl);
            return None;
        }
        Some(kept.recorded)
    }

    pub(super) fn insert(&self, key: EventKey, recorded: Arc<Recorded>) {
        let since = Instant::now();
        self.cache.insert(key, Kept { recorded, since });
    }

    /// Forgets every response of the tenants `gone` says are gone.
    pub(super) fn forget_tenants(&self, gone: &dyn Fn(&str) -> bool) {
        self.cache.retain(|key, _| !gone(key.tenant()));
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.cache.len()
    }
}

#[derive(Clone)]
struct Weight;

impl Weighter<EventKey, Kept> for Weight {
    fn weight(&self, key: &EventKey, kept: &Kept) -> u64 {
        // The incarnation is shared with the tenant's other keys.
        let key_bytes = key.tenant().len().saturating_add(key.event_id.len());
        kept.recorded
            .weight
            .saturating_add(u64::try_from(key_bytes).unwrap_or(u64::MAX))
            .saturating_add(OVERHEAD_BYTES)
    }
}

/// Tells [`OnlyStored`] of the responses let go for room (or too big to keep):
/// the store may hold them, memory does not.
#[derive(Clone)]
struct Forgotten(Option<Arc<OnlyStored>>);

impl Lifecycle<EventKey, Kept> for Forgotten {
    type RequestState = ();

    fn begin_request(&self) {}

    fn on_evict(&self, _: &mut (), key: EventKey, _: Kept) {
        if let Some(only_stored) = &self.0 {
            only_stored.add(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::key;
    use super::*;

    fn recorded() -> Arc<Recorded> {
        Arc::new(Recorded::new(
            [7; 32],
            crate::pb::HandleEventResponse::default(),
        ))
    }

    #[test]
    fn a_response_is_kept_for_its_age_and_no_longer() {
        let memory = Memory::new(1 << 20, Duration::from_secs(3600), None);
        memory.insert(key("e-1"), recorded());
        assert!(memory.get(&key("e-1")).is_some());
        let aged = Memory::new(1 << 20, Duration::ZERO, None);
        aged.insert(key("e-1"), recorded());
        assert!(aged.get(&key("e-1")).is_none(), "past its age, forgotten");
        assert_eq!(aged.len(), 0);
    }

    #[test]
    fn memory_holds_no_more_than_its_bytes() {
        // Room for about ten responses of 100 bytes.
        let memory = Memory::new(10 * (100 + 96 + 10), Duration::from_secs(3600), None);
        for n in 0..1000 {
            let response = crate::pb::HandleEventResponse {
                event_id: "x".repeat(98),
                ..Default::default()
            };
            memory.insert(
                key(&format!("e-{n:03}")),
                Arc::new(Recorded::new([7; 32], response)),
            );
        }
        assert!(memory.len() <= 10, "{} kept", memory.len());
        assert!(memory.get(&key("e-999")).is_some(), "the newest is kept");
    }
}
