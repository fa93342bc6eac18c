//! Which events a store of this process's own (SQLite) may hold a response for
//! that memory does not, so that every other event runs without a read of the
//! store first.

use std::collections::HashSet;

use crate::store::{EventKey, Store, StoreError};

/// The event ids (hashed) whose responses a store of this process's own holds
/// and memory does not: those recorded before the process started, and those
/// memory dropped for room. A hash collision costs one needless read. Beyond
/// [`MAX_ONLY_STORED`] ids it stops telling them apart, and every event that is
/// not in memory is looked up in the store.
pub(super) struct OnlyStored {
    hashes: parking_lot::Mutex<Option<HashSet<u64>>>,
}

/// Ids [`OnlyStored`] remembers at most (8 bytes each, and the set's overhead).
const MAX_ONLY_STORED: usize = 1 << 20;

impl OnlyStored {
    pub(super) async fn load(store: &Store) -> Result<OnlyStored, StoreError> {
        let limit = MAX_ONLY_STORED.saturating_add(1);
        let keys = store.response_keys(store.now_ms(), limit).await?;
        let hashes = (keys.len() <= MAX_ONLY_STORED).then(|| keys.iter().map(hash).collect());
        Ok(OnlyStored {
            hashes: parking_lot::Mutex::new(hashes),
        })
    }

    pub(super) fn may_hold(&self, key: &EventKey) -> bool {
        self.hashes
            .lock()
            .as_ref()
            .is_none_or(|hashes| hashes.contains(&hash(key)))
    }

    pub(super) fn add(&self, key: &EventKey) {
        let mut hashes = self.hashes.lock();
        if let Some(set) = hashes.as_mut() {
            if set.len() < MAX_ONLY_STORED {
                set.insert(hash(key));
            } else {
                *hashes = None;
            }
        }
    }
}

/// The store keeps one record per tenant id and event id, whatever incarnation
/// of the tenant wrote it: the incarnation is not hashed.
fn hash(key: &EventKey) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    (key.tenant(), &key.event_id).hash(&mut hasher);
    hasher.finish()
}
