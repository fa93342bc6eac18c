//! One customer's events run one at a time, so that a plugin that
//! read-modify-writes per-customer data (a profile) never loses an update.
//!
//! In a process, a fair lock per (tenant, customer) seen recently keeps them in
//! arrival order. Replicas sharing a store (PostgreSQL) also hold a *lease* on
//! the customer in the store while an event runs: a replica that finds another's
//! live lease waits for its release, or for its end when that replica died. The
//! lease lasts the request deadline: no event runs longer. Across replicas the
//! guarantee is one event at a time per customer; the order between two events
//! delivered to two replicas at once is whichever takes the lease first. When
//! the store does not answer within a second, the event runs in its replica's
//! order only (logged): a store outage does not stop events.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use crate::store::Store;

/// A replica waiting for another's lease checks again after this, doubling…
const FIRST_WAIT: Duration = Duration::from_millis(2);
/// …up to this.
const LONGEST_WAIT: Duration = Duration::from_millis(100);
/// How long taking a lease waits for the store before the event runs without.
const STORE_WAIT: Duration = Duration::from_secs(1);

/// The customers' locks of this process, and their leases in a shared store.
pub(crate) struct CustomerOrder {
    locks: Cache<(String, String), Arc<tokio::sync::Mutex<()>>>,
    /// With a shared store: where leases are taken, and this process's name.
    leases: Option<(Store, String)>,
    lease: Duration,
    acquisitions: std::sync::atomic::AtomicU64,
}

/// Held while a customer's event runs: [`Turn::finish`] ends it; dropped
/// unfinished (the event failed or was cancelled), its lease is released beside.
pub(crate) struct Turn {
    _local: tokio::sync::OwnedMutexGuard<()>,
    lease: Option<Lease>,
}

struct Lease {
    store: Store,
    tenant: String,
    customer: String,
    /// Unique to this acquisition, so that a late release never ends a later one.
    holder: String,
}

impl Lease {
    async fn release(self) {
        if let Err(e) = self
            .store
            .release_lease(&self.tenant, &self.customer, &self.holder)
            .await
        {
            tracing::warn!(
                tenant = %self.tenant,
                "a customer's lease stays until it ends: {e}"
            );
        }
    }
}

impl Turn {
    fn local_only(local: tokio::sync::OwnedMutexGuard<()>, tenant: &str, why: &str) -> Turn {
        tracing::warn!(
            tenant = %tenant,
            "a customer's event runs in this replica's order only (no lease): {why}"
        );
        Turn {
            _local: local,
            lease: None,
        }
    }

    /// Releases the lease, then the local lock: the customer's next event here
    /// finds the lease free.
    pub(crate) async fn finish(mut self) {
        if let Some(lease) = self.lease.take() {
            lease.release().await;
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            // A drop cannot wait: the release runs beside.
            tokio::spawn(lease.release());
        }
    }
}

impl CustomerOrder {
    /// `owner`: this process's name in leases; `lease`: the longest an event runs.
    pub(crate) fn new(store: &Store, owner: String, lease: Duration) -> CustomerOrder {
        CustomerOrder {
            // Idle locks go; a lock in use is held by its events and stays.
            locks: Cache::builder()
                .max_capacity(200_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
            leases: store.is_shared().then(|| (store.clone(), owner)),
            lease,
            acquisitions: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Waits for the customer's turn: every event of theirs that arrived before
    /// (here, or running on another replica) has finished.
    pub(crate) async fn turn(&self, tenant: &str, customer: &str) -> Turn {
        let lock = self
            .locks
            .get_with((tenant.to_owned(), customer.to_owned()), async {
                Arc::new(tokio::sync::Mutex::new(()))
            })
            .await;
        let local = lock.lock_owned().await;
        let Some((store, owner)) = &self.leases else {
            return Turn {
                _local: local,
                lease: None,
            };
        };
        let n = self
            .acquisitions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let holder = format!("{owner}-{n}");
        let lease_ms = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
        let mut wait = FIRST_WAIT;
        loop {
            let now = crate::store::now_ms();
            let until = now.saturating_add(lease_ms);
            let acquired = tokio::time::timeout(
                STORE_WAIT,
                store.acquire_lease(tenant, customer, &holder, now, until),
            )
            .await;
            let taken = match acquired {
                Ok(Ok(taken)) => taken,
                // The store is out: this process's order is all there is.
                Ok(Err(e)) => return Turn::local_only(local, tenant, &e.to_string()),
                Err(_) => return Turn::local_only(local, tenant, "no answer within a second"),
            };
            if taken {
                return Turn {
                    _local: local,
                    lease: Some(Lease {
                        store: store.clone(),
                        tenant: tenant.to_owned(),
                        customer: customer.to_owned(),
                        holder,
                    }),
                };
            }
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2).min(LONGEST_WAIT);
        }
    }
}
