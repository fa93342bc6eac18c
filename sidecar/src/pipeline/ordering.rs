//! One customer's events run one at a time, so that a plugin that
//! read-modify-writes per-customer data (a profile) never loses an update.
//!
//! In a process, a fair lock per (tenant, customer) keeps them in arrival order.
//! The locks of the customers seen last are kept; one that an event holds or
//! waits for is never let go, so two events of one customer always meet at the
//! same lock. Replicas sharing a store (PostgreSQL) also hold a *lease* on
//! the customer in the store while an event runs: a replica that finds another's
//! live lease waits for its release, or for its end when that replica died. The
//! lease lasts the request deadline: no event runs longer. Across replicas the
//! guarantee is one event at a time per customer; the order between two events
//! delivered to two replicas at once is whichever takes the lease first. When
//! the store does not answer within a second, the event runs in its replica's
//! order only (logged): a store outage does not stop events.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Equivalent, Lifecycle, UnitWeighter};

use super::STORE_WAIT;
use crate::store::Store;

/// A replica waiting for another's lease checks again after this, doubling…
const FIRST_WAIT: Duration = Duration::from_millis(2);
/// …up to this.
const LONGEST_WAIT: Duration = Duration::from_millis(100);

/// Customers whose locks are kept (about 100 bytes each). Only a lock nobody
/// holds is let go, so this bounds memory, not correctness.
const KEPT_LOCKS: usize = 100_000;

type Lock = Arc<tokio::sync::Mutex<()>>;

/// The customers' locks of this process, and their leases in a shared store.
pub(crate) struct CustomerOrder {
    locks: Cache<Customer, Lock, UnitWeighter, DefaultHashBuilder, InUse>,
    /// With a shared store: where leases are taken, and this process's name.
    leases: Option<(Store, String)>,
    lease: Duration,
    acquisitions: std::sync::atomic::AtomicU64,
    /// With a shared store: removes the leases whose holders died.
    purger: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for CustomerOrder {
    fn drop(&mut self) {
        if let Some(purger) = &self.purger {
            purger.abort();
        }
    }
}

/// How often ended leases are purged.
const PURGE_EVERY: Duration = Duration::from_secs(60);

async fn purge_ended_leases(store: Store) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = store.purge_leases(store.now_ms()).await {
            tracing::warn!("customers' ended leases not purged: {e}");
        }
    }
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
    /// finds the lease free. A store that does not answer within `STORE_WAIT`
    /// does not hold the event's answer (its plugins have run): the release goes
    /// on beside it, and the lease ends on its own in any case.
    pub(crate) async fn finish(mut self) {
        if let Some(lease) = self.lease.take() {
            let release = tokio::spawn(lease.release());
            if tokio::time::timeout(STORE_WAIT, release).await.is_err() {
                tracing::warn!("a customer's lease is still being released; the event answers");
            }
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
        Self::keeping(KEPT_LOCKS, store, owner, lease)
    }

    /// Keeping the locks of `kept` customers. Within a tokio runtime (with a
    /// shared store, it starts the purge of ended leases).
    fn keeping(kept: usize, store: &Store, owner: String, lease: Duration) -> CustomerOrder {
        let shared = store.is_shared();
        CustomerOrder {
            locks: Cache::with(
                kept,
                u64::try_from(kept).unwrap_or(u64::MAX),
                UnitWeighter,
                DefaultHashBuilder::default(),
                InUse,
            ),
            leases: shared.then(|| (store.clone(), owner)),
            lease,
            acquisitions: std::sync::atomic::AtomicU64::new(0),
            purger: shared.then(|| tokio::spawn(purge_ended_leases(store.clone()))),
        }
    }

    /// Waits for the customer's turn: every event of theirs that arrived before
    /// (here, or running on another replica) has finished.
    pub(crate) async fn turn(&self, tenant: &str, customer: &str) -> Turn {
        let named = CustomerRef { tenant, customer };
        // A lookup borrows the names; only a new customer's are copied.
        let lock = match self.locks.get(&named) {
            Some(lock) => lock,
            None => {
                let new = Customer {
                    tenant: tenant.to_owned(),
                    customer: customer.to_owned(),
                };
                let Ok(lock) = self
                    .locks
                    .get_or_insert_with(&new, || Ok::<_, Infallible>(Lock::default()));
                lock
            }
        };
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
            let now = store.now_ms();
            let until = now.saturating_add(lease_ms);
            let acquired = tokio::time::timeout(
                STORE_WAIT,
                acquire(store, tenant, customer, &holder, now, until),
            )
            .await;
            let taken = match acquired {
                Ok(Ok(taken)) => taken,
                // The store is out: this process's order is all there is.
                Ok(Err(e)) => return Turn::local_only(local, tenant, &e),
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

/// Takes the lease for `holder` in a task of its own: a statement sent runs to
/// its end even when the event that asked is dropped (its request cancelled) or
/// stops waiting, and a lease taken for nobody is then released at once rather
/// than holding the customer's events on every replica until it ends.
async fn acquire(
    store: &Store,
    tenant: &str,
    customer: &str,
    holder: &str,
    now: i64,
    until: i64,
) -> Result<bool, String> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    let store = store.clone();
    let (tenant, customer, holder) = (tenant.to_owned(), customer.to_owned(), holder.to_owned());
    tokio::spawn(async move {
        let taken = store
            .acquire_lease(&tenant, &customer, &holder, now, until)
            .await;
        if let Err(Ok(true)) = answer.send(taken) {
            let lease = Lease {
                store,
                tenant,
                customer,
                holder,
            };
            lease.release().await;
        }
    });
    match answered.await {
        Ok(taken) => taken.map_err(|e| e.to_string()),
        Err(_) => Err("the lease's task ended without an answer".into()),
    }
}

/// A customer of a tenant: the key of their lock.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Customer {
    tenant: String,
    customer: String,
}

/// [`Customer`] borrowed: hashes as it does.
#[derive(Hash)]
struct CustomerRef<'a> {
    tenant: &'a str,
    customer: &'a str,
}

impl Equivalent<Customer> for CustomerRef<'_> {
    fn equivalent(&self, key: &Customer) -> bool {
        self.tenant == key.tenant && self.customer == key.customer
    }
}

/// Keeps a lock that an event holds or waits for: the map's is then not its
/// only reference.
#[derive(Clone)]
struct InUse;

impl Lifecycle<Customer, Lock> for InUse {
    type RequestState = ();

    fn begin_request(&self) {}

    fn is_pinned(&self, _: &Customer, lock: &Lock) -> bool {
        Arc::strong_count(lock) > 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    fn order(kept: usize) -> (tempfile::TempDir, CustomerOrder) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let order = CustomerOrder::keeping(kept, &store, "test".into(), Duration::from_secs(30));
        (dir, order)
    }

    #[tokio::test]
    async fn a_customer_waits_for_their_earlier_event_and_no_one_else_does() {
        let (_dir, order) = order(KEPT_LOCKS);
        let first = order.turn("acme", "c-1").await;
        let mut second = std::pin::pin!(order.turn("acme", "c-1"));
        assert!(
            futures::poll!(&mut second).is_pending(),
            "c-1's next event waits"
        );
        assert!(
            order.turn("acme", "c-2").now_or_never().is_some(),
            "c-2 does not"
        );
        assert!(
            order.turn("other", "c-1").now_or_never().is_some(),
            "nor another tenant's c-1"
        );
        first.finish().await;
        second.await.finish().await;
    }

    #[tokio::test]
    async fn a_lock_in_use_is_kept_however_many_customers_come_after() {
        let (_dir, order) = order(4);
        let held = order.turn("acme", "c-0").await;
        // Customers who come back: the cache prefers keeping them to c-0.
        for n in 1..200 {
            for _ in 0..3 {
                order.turn("acme", &format!("c-{n}")).await.finish().await;
            }
        }
        // Had c-0's lock been let go, a new one would let this event run beside
        // the first.
        let mut next = std::pin::pin!(order.turn("acme", "c-0"));
        assert!(
            futures::poll!(&mut next).is_pending(),
            "c-0's next event still waits"
        );
        held.finish().await;
        next.await.finish().await;
        assert!(order.locks.len() <= 5, "{} locks kept", order.locks.len());
    }

    #[tokio::test]
    async fn a_lease_taken_for_an_event_already_gone_is_released() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        // The event stops waiting as soon as the lease is asked for (its request
        // was cancelled); the lease is taken all the same, for a minute.
        let asked = acquire(&store, "acme", "c-1", "gone", 0, 60_000);
        assert!(asked.now_or_never().is_none(), "not answered at once");
        // Another holder gets it at once, not after that minute.
        let since = std::time::Instant::now();
        while !store
            .acquire_lease("acme", "c-1", "next", 1, 60_001)
            .await
            .expect("acquire")
        {
            assert!(since.elapsed() < Duration::from_secs(10), "never released");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
