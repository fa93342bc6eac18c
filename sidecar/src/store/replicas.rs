//! The replicas sharing a store, as their heartbeats say: for [`crate::admission`]
//! to share tenants' quotas among them.

use super::{Backend, Store, StoreError};

/// A random name for this process among the replicas: in heartbeats, event
/// claims and customer leases.
pub fn new_replica_name() -> String {
    // Without randomness, the pid and start time still tell processes apart.
    let random = getrandom::u64()
        .unwrap_or_else(|_| u64::from(std::process::id()) << 32 ^ super::now_ms().unsigned_abs());
    format!("{random:016x}")
}

impl Store {
    /// Records `owner` as alive at `now_ms`, and counts the replicas (this one
    /// included) heard of since `since_ms`.
    pub async fn heartbeat(
        &self,
        owner: &str,
        now_ms: i64,
        since_ms: i64,
    ) -> Result<u32, StoreError> {
        dispatch!(self.heartbeat(owner, now_ms, since_ms))
    }

    /// Forgets `owner`: it stops (the others need not wait for its silence).
    pub async fn leave(&self, owner: &str) -> Result<(), StoreError> {
        dispatch!(self.leave(owner))
    }
}
