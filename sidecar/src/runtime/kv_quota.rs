//! The storage quota: what one tenant's data of one plugin may weigh (its keys'
//! and values' bytes and a fixed overhead per entry, [`kv_entry_weight`]), so
//! that no tenant's plugin fills the disk every tenant's data shares.
//!
//! A plugin's write is let through when what the store held at the last look,
//! plus what this replica let through since, leaves room for it. A write that
//! seems not to fit counts only what it adds to the key's present entry (a
//! rewrite in place adds nothing), then looks at the store again (at most once
//! a [`REREAD`]: deletions and rewrites since count only then) before it is
//! refused; and every look ages out after [`FORGET`]. So a replica lets
//! through at most the quota's room per look, and replicas sharing a store
//! together at most that many times over, until their next looks see it. A
//! dataset import is held to the quota by the admin tools (`tools.rs`), against
//! the store's own figure.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::store::{Store, StoreError, kv_entry_weight};

/// How soon a write that seems not to fit may look at the store again: a look
/// reads through every entry, and a plugin refused at its quota must not have
/// the store do so at every write.
const REREAD: Duration = Duration::from_secs(10);
/// How long a look is trusted at all: deletions and other replicas' writes are
/// seen within it.
const FORGET: Duration = Duration::from_secs(60);

/// Why a write was not let through.
#[derive(Debug, thiserror::Error)]
pub(crate) enum QuotaError {
    #[error(
        "this plugin's storage for the tenant weighs about {held} bytes; {wanted} more would \
         pass its quota of {quota} bytes (runtime.kv_quota_mb)"
    )]
    Full { held: u64, wanted: u64, quota: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The quota and what each tenant's plugin is known to hold.
#[derive(Debug)]
pub(crate) struct KvQuota {
    quota: u64,
    /// [`REREAD`], but in tests.
    reread: Duration,
    held: moka::future::Cache<(String, String), Arc<tokio::sync::Mutex<Held>>>,
}

/// What one tenant's data of one plugin holds, as this replica knows it.
#[derive(Debug, Default)]
struct Held {
    bytes: u64,
    /// When the store was last asked; `None`: never.
    looked: Option<Instant>,
}

impl Held {
    /// Takes the store's figure.
    async fn look(&mut self, store: &Store, tenant: &str, plugin: &str) -> Result<(), StoreError> {
        self.bytes = store.kv_bytes(tenant, plugin, "").await?;
        self.looked = Some(Instant::now());
        Ok(())
    }
}

impl KvQuota {
    /// A quota of `quota` bytes per tenant and plugin.
    pub(crate) fn new(quota: u64) -> Self {
        Self {
            quota,
            reread: REREAD,
            held: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(FORGET)
                .build(),
        }
    }

    /// The quota, in bytes.
    pub(crate) fn bytes(&self) -> u64 {
        self.quota
    }

    /// Forgets what is counted of `plugin`'s data for `tenant`.
    pub(crate) async fn forget(&self, tenant: &str, plugin: &str) {
        self.held
            .invalidate(&(tenant.to_owned(), plugin.to_owned()))
            .await;
    }

    /// Lets a write of `value_bytes` under `key` of `plugin`'s data for
    /// `tenant` through, or says why not.
    pub(crate) async fn admit(
        &self,
        store: &Store,
        tenant: &str,
        plugin: &str,
        key: &str,
        value_bytes: usize,
    ) -> Result<(), QuotaError> {
        let mut bytes = kv_entry_weight(key.len(), value_bytes);
        let entry = self
            .held
            .get_with((tenant.to_owned(), plugin.to_owned()), async {
                Arc::new(tokio::sync::Mutex::new(Held::default()))
            })
            .await;
        // One look at a time per tenant and plugin; the others wait for it.
        let mut held = entry.lock().await;
        if held.looked.is_none() {
            held.look(store, tenant, plugin).await?;
        }
        let fits = |held: &Held, bytes: u64| held.bytes.saturating_add(bytes) <= self.quota;
        if !fits(&held, bytes) {
            let present = store.kv_entry_bytes(tenant, plugin, key).await?;
            bytes = bytes.saturating_sub(present.unwrap_or(0));
        }
        let stale = held.looked.is_none_or(|at| at.elapsed() >= self.reread);
        if !fits(&held, bytes) && stale {
            held.look(store, tenant, plugin).await?;
        }
        if !fits(&held, bytes) {
            return Err(QuotaError::Full {
                held: held.bytes,
                wanted: bytes,
                quota: self.quota,
            });
        }
        held.bytes = held.bytes.saturating_add(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DataOf;

    #[tokio::test]
    async fn writes_pass_until_the_quota_and_room_made_is_seen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let acme = DataOf::tenant("acme");
        let mut quota = KvQuota::new(400);
        quota.reread = Duration::from_secs(3600);
        // Each entry weighs its key, its value and 64 bytes: 1 + 35 + 64.
        store
            .kv_put(&acme, "notes", "a", vec![0; 35])
            .await
            .expect("put");
        quota
            .admit(&store, "acme", "notes", "b", 135)
            .await
            .expect("300 of 400");
        let err = quota
            .admit(&store, "acme", "notes", "c", 135)
            .await
            .expect_err("past the quota");
        assert!(
            matches!(
                err,
                QuotaError::Full {
                    held: 300,
                    wanted: 200,
                    quota: 400
                }
            ),
            "{err:?}"
        );
        // Rewriting an entry counts only what it adds.
        quota
            .admit(&store, "acme", "notes", "a", 85)
            .await
            .expect("50 more");
        // Another tenant's, another plugin's data has its own room.
        quota
            .admit(&store, "globex", "notes", "a", 335)
            .await
            .expect("globex");
        quota
            .admit(&store, "acme", "tags", "a", 335)
            .await
            .expect("tags");
        // Room made by a deletion is seen at the next look, not before.
        store.kv_delete(&acme, "notes", "a").await.expect("delete");
        quota
            .admit(&store, "acme", "notes", "c", 135)
            .await
            .expect_err("not looked at again yet");
        quota.reread = Duration::ZERO;
        quota
            .admit(&store, "acme", "notes", "b", 135)
            .await
            .expect("room again");
        store
            .kv_put(&acme, "notes", "b", vec![0; 135])
            .await
            .expect("put");
        let err = quota
            .admit(&store, "acme", "notes", "c", 136)
            .await
            .expect_err("what was written is seen");
        assert!(matches!(err, QuotaError::Full { held: 200, .. }), "{err:?}");
    }

    /// After an import, what the replica counted is forgotten: the store's
    /// figure decides again.
    #[tokio::test]
    async fn a_forgotten_count_is_read_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let mut quota = KvQuota::new(400);
        quota.reread = Duration::from_secs(3600);
        quota
            .admit(&store, "acme", "notes", "a", 300)
            .await
            .expect("365 of 400");
        quota
            .admit(&store, "acme", "notes", "b", 0)
            .await
            .expect_err("65 more is past it");
        quota.forget("acme", "notes").await;
        quota
            .admit(&store, "acme", "notes", "b", 0)
            .await
            .expect("the store holds nothing");
    }
}
