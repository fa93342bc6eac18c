//! Persistent storage of the sidecar, behind one API with two backends: an embedded
//! SQLite database in the data folder (the default) and PostgreSQL (selected by a
//! `postgres://` URL, for several replicas sharing one store).
//!
//! It holds two kinds of data, with the same schema and numbered migrations
//! ([`migrations`]) in both backends:
//! - the plugins' key-value data, scoped by tenant and plugin. Every change bumps
//!   that tenant+plugin's *generation*; cached results of a plugin that reads storage
//!   are keyed by it, so a change (also one made by another process) invalidates them.
//!   Beside the generation, each change adds what it adds to the data's *weight*,
//!   which a write may not take past the store's quota ([`Store::with_kv_quota`]).
//! - the control plane the admin API edits: tenant documents with a revision each,
//!   sealed secrets, installed plugin versions (the component bytes, so every replica
//!   can load them) and the audit log. Every change is one transaction that also bumps
//!   a global *control version*, which replicas poll to notice changes made elsewhere.
//!
//! - the first response to each event id ([`responses`]), for redeliveries.
//!
//! Writes are acknowledged after their transaction commits durably.

pub mod migrations;
mod postgres;
mod sqlite;

use std::path::Path;

pub use postgres::{PostgresStore, TENANT_DATA_LOCK};
pub use sqlite::SqliteStore;

impl StoreError {
    /// Whether the same operation may pass later: the store did not answer or
    /// failed (SQLite busy, PostgreSQL away, a task lost), rather than refusing
    /// the operation itself.
    pub fn is_for_now(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(_) | StoreError::Postgres(_) | StoreError::Join(_)
        )
    }
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("storage error: {0}")]
    Postgres(String),
    #[error("storage task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("cannot create data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    /// A change was based on a state that another change has replaced meanwhile.
    #[error("conflicting change: {0}")]
    Conflict(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The request itself is wrong (a caller's mistake, not the store's).
    #[error("{0}")]
    BadRequest(String),
    /// Data made for a tenant that was deleted since (and perhaps created
    /// again): not written (see [`DataOf`]).
    #[error("tenant '{0}' was deleted after this data was made")]
    TenantGone(String),
    /// A write of plugin storage that would take it past its quota: not written.
    #[error(
        "this plugin's storage for the tenant would weigh {weight} bytes, past its quota \
         of {quota} bytes"
    )]
    OverQuota { weight: u64, quota: u64 },
}

/// Whose data a write carries: the tenant's id and, where tenants live in the
/// store, the incarnation the data was made under
/// ([`crate::grant::TenantDoc::incarnation`]). Writes of what events leave
/// behind carry it: the contact history's counts, the insights' facts, an
/// event's idempotency record ([`EventKey`]), a plugin's storage.
///
/// Such data is made while the tenant may be deleted: facts wait in memory for
/// their batch, a second or, while the store is down, longer, and a replica runs
/// events until it sees the deletion. The write then checks, in its transaction,
/// that the tenant is still stored with that incarnation, so that nothing of a
/// deleted tenant comes back, nor reaches a tenant created again under its id:
/// [`StoreError::TenantGone`] otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataOf {
    pub tenant: String,
    /// `None`: written unchecked (tenants of the configuration file alone, which
    /// the store does not hold; `crossdesk contacts import`, run by an operator
    /// on the store itself; plugins run by `crossdesk plugin run`).
    pub incarnation: Option<String>,
}

impl DataOf {
    /// Data of `tenant`, written unchecked.
    pub fn tenant(tenant: &str) -> DataOf {
        DataOf {
            tenant: tenant.to_owned(),
            incarnation: None,
        }
    }

    /// Ok when the tenant is stored with the incarnation this data was made
    /// under. `stored`: the tenant's row, if any, and in it the document's
    /// `incarnation` (read by the database's JSON functions: the one field of
    /// the document, owned by `control`, that this needs), absent in documents
    /// from before incarnations, which have the empty one.
    fn check(&self, stored: Option<Option<String>>) -> Result<(), StoreError> {
        let Some(expected) = &self.incarnation else {
            return Ok(());
        };
        match stored {
            Some(is) if is.as_deref().unwrap_or_default() == expected => Ok(()),
            _ => Err(StoreError::TenantGone(self.tenant.clone())),
        }
    }
}

/// A tenant's settings document (JSON, owned by `control`) and its revision, which
/// every change increments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    pub id: String,
    pub doc: String,
    pub revision: u64,
}

/// A secret header value, sealed with the master key (see `secrets`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRow {
    pub tenant: String,
    pub plugin: String,
    pub host: String,
    pub header: String,
    pub sealed: Vec<u8>,
}

/// An installed plugin: the version that runs, and the one a rollback returns to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRow {
    pub name: String,
    /// Digest of the active version's component.
    pub active: String,
    /// Digest of the version active before the last upgrade.
    pub previous: Option<String>,
}

/// One uploaded version of a plugin: the component and what is known about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginBlob {
    /// Hex SHA-256 of `bytes`.
    pub digest: String,
    pub name: String,
    pub version: String,
    pub bytes: Vec<u8>,
    /// Base64 ed25519 signature, when the uploader gave one.
    pub signature: Option<String>,
    pub installed_at_ms: i64,
}

impl PluginBlob {
    /// Whether the stored bytes are the ones its digest names (not damaged in
    /// the store since).
    pub fn is_intact(&self) -> bool {
        plugin_digest(&self.bytes) == self.digest
    }
}

/// The digest that names a plugin version: hex SHA-256 of its component.
pub fn plugin_digest(component: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(component))
}

/// Everything the control plane holds, read in one transaction.
#[derive(Debug, Clone, Default)]
pub struct ControlState {
    pub version: u64,
    pub tenants: Vec<TenantRow>,
    pub plugins: Vec<PluginRow>,
    pub secrets: Vec<SecretRow>,
}

/// One write of a control-plane change. The writes of a change commit together or
/// not at all; an unmet expectation fails the change with [`StoreError::Conflict`].
#[derive(Debug, Clone)]
pub enum ControlWrite {
    /// Creates the tenant (`expected: None`, revision 1) or replaces its document
    /// when its revision is still `expected` (the revision then grows by one).
    PutTenant {
        id: String,
        doc: String,
        expected: Option<u64>,
    },
    /// Deletes the tenant at revision `expected`, with its secrets and plugin data.
    DeleteTenant {
        id: String,
        expected: u64,
    },
    PutSecret(SecretRow),
    DeleteSecret {
        tenant: String,
        plugin: String,
        host: String,
        header: String,
    },
    /// Stores a plugin version; storing a digest already present only adds a
    /// signature it lacked.
    PutPluginBlob(PluginBlob),
    /// Writes `bytes` over those of the stored version `digest` (damaged in the
    /// store). Fails the change with [`StoreError::BadRequest`] unless they
    /// hash to `digest`, with [`StoreError::Conflict`] when no such version is
    /// stored.
    RepairPluginBlob {
        digest: String,
        bytes: Vec<u8>,
    },
    /// Points plugin `name` at a version (creating it), or removes it (`active:
    /// None`), provided its active digest is still `expected_active`.
    SetPlugin {
        name: String,
        active: Option<String>,
        previous: Option<String>,
        expected_active: Option<String>,
    },
}

/// What the audit log records about a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// Who made it (an admin's name, or `config-file` for the first start's import).
    pub actor: String,
    pub tenant: Option<String>,
    /// e.g. `tenant.create`, `plugin.enable`, `plugin.settings`.
    pub action: String,
    /// What was changed, e.g. a plugin name.
    pub target: String,
    /// JSON of the state before and after; secrets never appear.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Who imported a plugin's dataset, recorded in the transaction that writes it
/// (see [`Store::kv_replace_prefix`]).
#[derive(Debug, Clone)]
pub struct ImportAudit {
    pub actor: String,
    /// `plugin/dataset`.
    pub target: String,
    /// JSON of what was imported.
    pub after: String,
}

impl ImportAudit {
    /// The entry of an import into `tenant` that replaced `replaced` entries.
    fn entry(&self, tenant: &str, replaced: usize) -> NewAuditEntry {
        NewAuditEntry {
            actor: self.actor.clone(),
            tenant: Some(tenant.to_owned()),
            action: "plugin.data.import".into(),
            target: self.target.clone(),
            before: Some(format!("{{\"entries\":{replaced}}}")),
            after: Some(self.after.clone()),
        }
    }
}

/// A recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: u64,
    pub at_ms: i64,
    pub entry: NewAuditEntry,
}

/// Metadata of a stored plugin version (without its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginVersionInfo {
    pub digest: String,
    pub name: String,
    pub version: String,
    pub signed: bool,
    pub installed_at_ms: i64,
    pub size: u64,
}

/// The sidecar's database. Cloning shares the connection (pool).
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// What one tenant's data of one plugin may weigh ([`kv_entry_weight`]).
    kv_quota: u64,
}

/// The storage quota of a store opened without one: 256 MiB per tenant and plugin.
pub const DEFAULT_KV_QUOTA: u64 = 256 << 20;

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Forwards a call to whichever backend this store uses.
/// The tables holding a tenant's data, emptied of it when the tenant is deleted.
const TENANT_DATA_TABLES: [&str; 12] = [
    "tenant_secrets",
    "plugin_kv",
    "plugin_kv_generation",
    "contact_history",
    "event_responses",
    "customer_leases",
    "insight_tickets",
    "insight_cells",
    "insight_translation",
    "insight_hours",
    "insight_erasures",
    "insight_stale_days",
];

/// What an entry of plugin storage weighs beyond its key and value: the row
/// repeats its tenant and plugin and has headers and an index entry. Counting it
/// keeps a quota of many tiny entries near the disk it takes, and their number
/// (which weighing reads through) bounded.
const KV_ENTRY_OVERHEAD: u64 = 64;

/// What an entry of `key_bytes` and `value_bytes` weighs, as [`Store::kv_bytes`]
/// counts it.
fn kv_entry_weight(key_bytes: usize, value_bytes: usize) -> u64 {
    u64::try_from(key_bytes.saturating_add(value_bytes))
        .unwrap_or(u64::MAX)
        .saturating_add(KV_ENTRY_OVERHEAD)
}

/// The width of a contact-history bucket: a quarter hour, so that forecasts can
/// use 15, 30 or 60 minute intervals.
pub const CONTACT_BUCKET_SECS: i64 = 900;
/// The longest handling time one conversation may report: 30 days. Beyond, a
/// figure is a mistake, and enough of them would sum past what a float holds
/// (an infinite average on SQLite, a refused batch on PostgreSQL).
pub const MAX_HANDLE_SECS: f64 = 30.0 * 86_400.0;
/// Most arrivals, or handled conversations, one count may add.
const MAX_CONTACTS_PER_COUNT: u64 = 1_000_000_000;

/// Contacts of one tenant in one quarter hour, language and channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactCount {
    /// Start of the bucket, seconds since the Unix epoch.
    pub bucket_start_s: i64,
    /// Canonical language code (`es`), or `und` when unknown.
    pub language: String,
    pub channel: String,
    /// Conversations that arrived (customer messages that opened or reopened one).
    pub arrivals: u64,
    /// Conversations finished with a known handling time.
    pub handled: u64,
    /// Their summed handling time, in seconds.
    pub handle_secs: f64,
}

impl ContactCount {
    /// Why the count cannot be stored, if it cannot: both stores must keep
    /// every count they accept (PostgreSQL's text refuses a NUL, its integers
    /// and floats refuse to overflow).
    fn fault(&self) -> Option<String> {
        let bucket = self.bucket_start_s;
        if self.language.contains('\0') || self.channel.contains('\0') {
            return Some(format!(
                "the count of bucket {bucket}: its language or channel contains a NUL character"
            ));
        }
        if self.arrivals > MAX_CONTACTS_PER_COUNT || self.handled > MAX_CONTACTS_PER_COUNT {
            return Some(format!(
                "the count of bucket {bucket}: more than {MAX_CONTACTS_PER_COUNT} conversations"
            ));
        }
        // Lossless: `handled` is at most 10^9.
        let most = self.handled as f64 * MAX_HANDLE_SECS;
        if !(self.handle_secs.is_finite() && (0.0..=most).contains(&self.handle_secs)) {
            return Some(format!(
                "the count of bucket {bucket}: {} s of handling for {} conversations \
                 (at most {MAX_HANDLE_SECS} s each)",
                self.handle_secs, self.handled
            ));
        }
        None
    }
}

/// Whether a change of plugin storage that leaves it weighing `weight`, `delta`
/// bytes more than before, stays within `quota`. A change that adds nothing
/// passes whatever the weight, so that data over a lowered quota can shrink.
fn within_quota(weight: i64, delta: i64, quota: u64) -> Result<(), StoreError> {
    let weight = weight.unsigned_abs();
    match delta > 0 && weight > quota {
        true => Err(StoreError::OverQuota { weight, quota }),
        false => Ok(()),
    }
}

/// Refuses a key or prefix of plugin storage holding a NUL character, on both
/// backends alike: PostgreSQL's text cannot hold one, and SQLite's string
/// functions stop at it. Reads and deletions of a key pass, so that one SQLite
/// stored before can still be removed.
fn plain_key(key: &str) -> Result<(), StoreError> {
    match key.contains('\0') {
        true => Err(StoreError::BadRequest(format!(
            "a storage key may not contain a NUL character: {key:?}"
        ))),
        false => Ok(()),
    }
}

/// What an entry holding `value` under `key` weighs, for the SQL's integers.
fn entry_weight(key: &str, value: &[u8]) -> i64 {
    i64::try_from(kv_entry_weight(key.len(), value.len())).unwrap_or(i64::MAX)
}

/// What `pairs` add to plugin storage once written: the distinct keys they
/// write and what those keys' entries then weigh (a key given twice is stored
/// once, with its last value).
fn written_weight(pairs: &[(String, Vec<u8>)]) -> (Vec<&str>, i64) {
    let last: std::collections::HashMap<&str, usize> = pairs
        .iter()
        .map(|(key, value)| (key.as_str(), value.len()))
        .collect();
    let weight = last.iter().fold(0u64, |sum, (key, value)| {
        sum.saturating_add(kv_entry_weight(key.len(), *value))
    });
    (
        last.into_keys().collect(),
        i64::try_from(weight).unwrap_or(i64::MAX),
    )
}

macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(s) => s.$method($($arg),*).await,
            Backend::Postgres(p) => p.$method($($arg),*).await,
        }
    };
}

// After the macro: its scope is textual.
mod insights;
mod leases;
mod replicas;
mod responses;
pub use insights::{Aggregate, CellCount, Erased, ErasureAudit, ErasureMarks};
pub use replicas::new_replica_name;
pub use responses::{EventKey, Purged, ResponseWrite, StoredResponse, WriteOutcome};

impl Store {
    /// Opens (creating if needed) the SQLite database `crossdesk.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Sqlite(SqliteStore::open(data_dir)?),
            kv_quota: DEFAULT_KV_QUOTA,
        })
    }

    /// This store, holding each tenant's data of each plugin to `bytes`
    /// ([`DEFAULT_KV_QUOTA`] unless set): a write that would take it past them
    /// fails with [`StoreError::OverQuota`], whichever process makes it.
    pub fn with_kv_quota(mut self, bytes: u64) -> Store {
        self.kv_quota = bytes;
        self
    }

    /// Opens the store a configuration names: PostgreSQL for a `postgres://` (or
    /// `postgresql://`) URL (its server's certificate checked against `ca_file`
    /// too, when the URL asks for TLS), otherwise SQLite in `data_dir`.
    pub async fn connect(
        url: Option<&str>,
        ca_file: Option<&Path>,
        data_dir: &Path,
    ) -> Result<Store, StoreError> {
        match url {
            Some(url) => Ok(Store {
                backend: Backend::Postgres(PostgresStore::connect(url, ca_file).await?),
                kv_quota: DEFAULT_KV_QUOTA,
            }),
            None => Store::open(data_dir),
        }
    }

    /// Which backend this is, for logs: `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Now, in milliseconds since the epoch, on the clock every process sharing
    /// this store follows for the times it writes there (leases, claims,
    /// heartbeats, expiries): the database server's, as this process last
    /// measured it ([`Store::measure_clock`]); SQLite's is this process's own.
    pub fn now_ms(&self) -> i64 {
        match &self.backend {
            Backend::Postgres(store) => store.clock.now_ms(),
            Backend::Sqlite(_) => now_ms(),
        }
    }

    /// Measures again how far this process's clock is from the database
    /// server's (nothing to do on SQLite).
    pub async fn measure_clock(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Postgres(store) => {
                store.clock.measure(&store.pool.get().await?).await?;
                Ok(())
            }
            Backend::Sqlite(_) => Ok(()),
        }
    }

    /// Whether other processes may share this store (PostgreSQL), rather than it
    /// being this process's own (SQLite).
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// How many changes this tenant's data of this plugin has seen (0 for none).
    pub async fn generation(&self, tenant: &str, plugin: &str) -> Result<u64, StoreError> {
        dispatch!(self.generation(tenant, plugin))
    }

    /// What this tenant's data of this plugin weighs, as the quota counts it:
    /// its keys' and values' bytes and [`KV_ENTRY_OVERHEAD`] per entry.
    pub async fn kv_bytes(&self, tenant: &str, plugin: &str) -> Result<u64, StoreError> {
        dispatch!(self.kv_bytes(tenant, plugin))
    }

    /// The value under `key` for this tenant and plugin.
    pub async fn kv_get(
        &self,
        tenant: &str,
        plugin: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        plain_key(key)?;
        dispatch!(self.kv_get(tenant, plugin, key))
    }

    /// Stores `value` under `key`, replacing what was there. Writing the value a key
    /// already has changes nothing, not even the generation.
    ///
    /// This and the other writes of plugin storage take whose data it is: with
    /// nothing written, [`StoreError::TenantGone`] once its tenant was deleted
    /// (an event that ran on meanwhile, an import that was under way). Those
    /// that add weight fail with [`StoreError::OverQuota`], nothing written,
    /// when it would pass the quota.
    pub async fn kv_put(
        &self,
        of: &DataOf,
        plugin: &str,
        key: &str,
        value: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.kv_put_many(of, plugin, vec![(key.to_owned(), value)])
            .await
            .map(drop)
    }

    /// Stores every pair in one transaction; returns how many keys changed.
    pub async fn kv_put_many(
        &self,
        of: &DataOf,
        plugin: &str,
        pairs: Vec<(String, Vec<u8>)>,
    ) -> Result<usize, StoreError> {
        pairs.iter().try_for_each(|(key, _)| plain_key(key))?;
        let quota = self.kv_quota;
        dispatch!(self.kv_put_many(of, plugin, pairs, quota))
    }

    /// Replaces every key under `prefix` with `pairs`, atomically: a reader sees
    /// the old set or the new one, never a mix. Every key of `pairs` must start with
    /// `prefix`. Returns how many keys were there before. With `audit`, the
    /// import's audit entry commits with it, or neither does.
    pub async fn kv_replace_prefix(
        &self,
        of: &DataOf,
        plugin: &str,
        prefix: &str,
        pairs: Vec<(String, Vec<u8>)>,
        audit: Option<ImportAudit>,
    ) -> Result<usize, StoreError> {
        if let Some((key, _)) = pairs.iter().find(|(k, _)| !k.starts_with(prefix)) {
            return Err(StoreError::BadRequest(format!(
                "key '{key}' is not under the prefix '{prefix}' being replaced"
            )));
        }
        plain_key(prefix)?;
        pairs.iter().try_for_each(|(key, _)| plain_key(key))?;
        let quota = self.kv_quota;
        dispatch!(self.kv_replace_prefix(of, plugin, prefix, pairs, quota, audit))
    }

    /// Sets `key` to `new` (`None`: deletes it) only if its value is `expected`
    /// (`None`: absent), in one transaction; whether it did. A write that changes
    /// the value bumps the generation.
    pub async fn kv_compare_and_swap(
        &self,
        of: &DataOf,
        plugin: &str,
        key: &str,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> Result<bool, StoreError> {
        plain_key(key)?;
        let quota = self.kv_quota;
        dispatch!(self.kv_compare_and_swap(of, plugin, key, expected, new, quota))
    }

    /// Removes `key`; removing a missing key is not an error.
    pub async fn kv_delete(&self, of: &DataOf, plugin: &str, key: &str) -> Result<(), StoreError> {
        plain_key(key)?;
        dispatch!(self.kv_delete(of, plugin, key))
    }

    /// Every key and value under `prefix`, ascending by key.
    pub async fn kv_scan(
        &self,
        tenant: &str,
        plugin: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        plain_key(prefix)?;
        dispatch!(self.kv_scan(tenant, plugin, prefix))
    }

    /// Adds counts to the tenant's contact history, each to its quarter-hour
    /// bucket (`bucket_start_s` is rounded down to a multiple of 900), in one
    /// transaction; [`StoreError::TenantGone`], with nothing written, when the
    /// tenant was deleted since they were counted (see [`DataOf`]).
    pub async fn add_contacts(
        &self,
        of: &DataOf,
        counts: Vec<ContactCount>,
    ) -> Result<(), StoreError> {
        if let Some(why) = counts.iter().find_map(ContactCount::fault) {
            return Err(StoreError::BadRequest(why));
        }
        let counts = counts
            .into_iter()
            .map(|mut c| {
                // Saturating: a time from an import may be any i64.
                c.bucket_start_s = c
                    .bucket_start_s
                    .div_euclid(CONTACT_BUCKET_SECS)
                    .saturating_mul(CONTACT_BUCKET_SECS);
                c
            })
            .collect();
        dispatch!(self.add_contacts(of, counts))
    }

    /// The tenant's contact history with buckets starting in `[from_s, to_s)`,
    /// ascending by bucket, language and channel.
    pub async fn contact_history(
        &self,
        tenant: &str,
        from_s: i64,
        to_s: i64,
    ) -> Result<Vec<ContactCount>, StoreError> {
        dispatch!(self.contact_history(tenant, from_s, to_s))
    }

    /// Keys starting with `prefix`, ascending, at most `limit` of them.
    pub async fn kv_list(
        &self,
        tenant: &str,
        plugin: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        plain_key(prefix)?;
        dispatch!(self.kv_list(tenant, plugin, prefix, limit))
    }

    /// The control version: how many control-plane changes were committed.
    pub async fn control_version(&self) -> Result<u64, StoreError> {
        dispatch!(self.control_version())
    }

    /// Whether the store answers a read. On PostgreSQL it asks on a connection
    /// of its own, so that a replica whose pool is busy with events does not
    /// read as one whose database is away.
    pub async fn health(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.control_version().await.map(drop),
            Backend::Postgres(p) => p.health().await,
        }
    }

    /// The whole control plane (without plugin bytes), consistent with its version.
    pub async fn control_state(&self) -> Result<ControlState, StoreError> {
        dispatch!(self.control_state())
    }

    /// A stored plugin version, with its component bytes.
    pub async fn plugin_blob(&self, digest: &str) -> Result<Option<PluginBlob>, StoreError> {
        dispatch!(self.plugin_blob(digest))
    }

    /// Every stored version, newest first.
    pub async fn plugin_versions(&self) -> Result<Vec<PluginVersionInfo>, StoreError> {
        dispatch!(self.plugin_versions())
    }

    /// Commits `writes` and the audit entry in one transaction and returns the new
    /// control version.
    pub async fn apply(
        &self,
        writes: Vec<ControlWrite>,
        audit: NewAuditEntry,
    ) -> Result<u64, StoreError> {
        for write in &writes {
            if let ControlWrite::RepairPluginBlob { digest, bytes } = write {
                let named = plugin_digest(bytes);
                if named != *digest {
                    return Err(StoreError::BadRequest(format!(
                        "plugin version {digest} cannot be repaired with other bytes \
                         (sha256:{named})"
                    )));
                }
            }
        }
        dispatch!(self.apply(writes, audit))
    }

    /// Appends `audit`, of work an admin had a plugin do on the data of tenant
    /// `of` (a command), if that tenant is still stored as `of` says: an entry of
    /// one deleted meanwhile would show in the history of one created again
    /// under its id ([`StoreError::TenantGone`]). The control version stays:
    /// nothing a replica loads has changed.
    pub async fn record_audit(&self, of: &DataOf, audit: NewAuditEntry) -> Result<(), StoreError> {
        dispatch!(self.record_audit(of, audit))
    }

    /// Audit entries, newest first: those of `tenant` when given, with an id below
    /// `before` when given, at most `limit`.
    pub async fn audit_log(
        &self,
        tenant: Option<&str>,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        dispatch!(self.audit_log(tenant, before, limit))
    }

    /// The id of the latest audit entry of `tenant` with `action`, if any.
    pub async fn last_audit_id(
        &self,
        tenant: &str,
        action: &str,
    ) -> Result<Option<u64>, StoreError> {
        dispatch!(self.last_audit_id(tenant, action))
    }
}

/// Milliseconds since the Unix epoch, for audit entries and plugin versions.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A tenant's document names a plugin another change removed.
fn removed_meanwhile(plugin: &str) -> StoreError {
    StoreError::Conflict(format!("plugin '{plugin}' was removed meanwhile"))
}

/// A plugin version to repair is not stored (removed meanwhile).
fn not_stored(digest: &str) -> StoreError {
    StoreError::Conflict(format!("plugin version {digest} is not stored"))
}

/// A plugin being removed was put in a tenant's pipeline by another change.
fn attached_meanwhile(plugin: &str, tenant: &str) -> StoreError {
    StoreError::Conflict(format!(
        "plugin '{plugin}' was put in tenant '{tenant}''s pipeline meanwhile"
    ))
}
