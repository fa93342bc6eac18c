//! The SQLite backend: one database file, `crossdesk.db`, in the data folder.
//!
//! SQLite is synchronous; every call runs on tokio's blocking pool so an event's
//! task never stalls a runtime worker. Writes are acknowledged after the
//! transaction commits (WAL journal, `synchronous = FULL`).

use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::migrations::{self, MIGRATIONS};
use super::{
    AuditEntry, ContactCount, ControlState, ControlWrite, DataOf, NewAuditEntry, PluginBlob,
    PluginRow, PluginVersionInfo, SecretRow, StoreError, TenantRow, entry_weight, within_quota,
    written_weight,
};

/// Checks, first in a write's transaction, that the tenant whose data it writes
/// is still stored with that data's incarnation (see [`DataOf`]). The
/// transaction must be IMMEDIATE: it then holds the database's one write lock
/// from its start, so no deletion comes between the check and the write (and a
/// deferred one that reads first fails with "database is locked" when it comes
/// to write, if another connection committed meanwhile).
pub(super) fn check_data_of(tx: &Connection, of: &DataOf) -> Result<(), StoreError> {
    if of.incarnation.is_none() {
        return Ok(());
    }
    let stored: Option<Option<String>> = tx
        .prepare_cached("SELECT json_extract(doc, '$.incarnation') FROM tenants WHERE id = ?1")?
        .query_row(params![of.tenant], |row| row.get(0))
        .optional()?;
    of.check(stored)
}

/// The SQLite database. Cloning shares the connections.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Event responses have a connection of their own, committing with
    /// `synchronous = NORMAL`: in WAL mode a commit then survives the process
    /// being killed, not the machine losing power. Losing the last responses
    /// recorded before a power cut costs a second run of those events if they
    /// are redelivered; an fsync per commit would cost a third of the event
    /// throughput (BENCHMARKS.md). Everything else stays `FULL`.
    pub(super) responses: Arc<Mutex<Connection>>,
    /// Looking up a response (every event does) on a connection of its own: in
    /// WAL mode it reads while a batch of responses commits, instead of waiting.
    pub(super) response_reads: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

/// Counts a change to a tenant's plugin data that adds `delta` bytes to its
/// weight, in the change's transaction (IMMEDIATE: no other write comes between
/// the weights it read and this); refuses it past `quota`, the transaction then
/// to be dropped.
fn count_change(
    c: &Connection,
    (tenant, plugin): (&str, &str),
    delta: i64,
    quota: u64,
) -> Result<(), StoreError> {
    let weight: i64 = c
        .prepare_cached(
            "INSERT INTO plugin_kv_generation (tenant, plugin, generation, bytes)
             VALUES (?1, ?2, 1, max(?3, 0))
             ON CONFLICT (tenant, plugin)
             DO UPDATE SET generation = generation + 1, bytes = max(bytes + ?3, 0)
             RETURNING bytes",
        )?
        .query_row(params![tenant, plugin, delta], |row| row.get(0))?;
    within_quota(weight, delta, quota)
}

/// What this tenant's data of this plugin weighs, as its writes counted.
fn counted_weight(c: &Connection, (tenant, plugin): (&str, &str)) -> rusqlite::Result<i64> {
    c.prepare_cached("SELECT bytes FROM plugin_kv_generation WHERE tenant=?1 AND plugin=?2")?
        .query_row(params![tenant, plugin], |row| row.get(0))
        .optional()
        .map(|bytes| bytes.unwrap_or(0))
}

/// What the entries of `keys` weigh now (absent ones nothing).
fn stored_weight(
    c: &Connection,
    (tenant, plugin): (&str, &str),
    keys: &[&str],
) -> rusqlite::Result<i64> {
    let mut read = c.prepare_cached(
        "SELECT length(CAST(key AS BLOB)) + length(value) + ?4
         FROM plugin_kv WHERE tenant=?1 AND plugin=?2 AND key=?3",
    )?;
    let overhead = to_i64(super::KV_ENTRY_OVERHEAD);
    let mut sum: i64 = 0;
    for key in keys {
        let weight: Option<i64> = read
            .query_row(params![tenant, plugin, key, overhead], |row| row.get(0))
            .optional()?;
        sum = sum.saturating_add(weight.unwrap_or(0));
    }
    Ok(sum)
}

/// Applies the migrations this database has not seen, each in its own transaction.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            applied_at INTEGER NOT NULL
        )",
    )?;
    let applied: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )?;
    if applied > i64::from(migrations::latest()) {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {applied}; this host knows up to {}: \
             upgrade the host",
            migrations::latest()
        )));
    }
    for migration in MIGRATIONS.iter().filter(|m| i64::from(m.version) > applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sqlite)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![migration.version, super::now_ms()],
        )?;
        tx.commit()?;
        tracing::info!(version = migration.version, "{}", migration.description);
    }
    Ok(())
}

pub(super) fn to_u64(n: i64) -> u64 {
    n.unsigned_abs()
}

pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl SqliteStore {
    /// Opens (creating if needed) `crossdesk.db` in `data_dir` and brings its schema
    /// up to date.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let mut conn = Connection::open(data_dir.join("crossdesk.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        let responses = Connection::open(data_dir.join("crossdesk.db"))?;
        responses.pragma_update(None, "synchronous", "NORMAL")?;
        responses.busy_timeout(std::time::Duration::from_secs(5))?;
        let response_reads = Connection::open(data_dir.join("crossdesk.db"))?;
        response_reads.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            responses: Arc::new(Mutex::new(responses)),
            response_reads: Arc::new(Mutex::new(response_reads)),
        })
    }

    pub(super) async fn with_conn<R, E>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, E> + Send + 'static,
    ) -> Result<R, StoreError>
    where
        R: Send + 'static,
        E: Into<StoreError> + Send + 'static,
    {
        Self::on(self.conn.clone(), f).await
    }

    /// Runs `f` on `conn` on the blocking pool.
    pub(super) async fn on<R, E>(
        conn: Arc<Mutex<Connection>>,
        f: impl FnOnce(&mut Connection) -> Result<R, E> + Send + 'static,
    ) -> Result<R, StoreError>
    where
        R: Send + 'static,
        E: Into<StoreError> + Send + 'static,
    {
        tokio::task::spawn_blocking(move || {
            // parking_lot does not poison: a closure that panicked left no open
            // transaction behind (rusqlite rolls back on drop), so the next call
            // finds a usable connection.
            let mut conn = conn.lock();
            f(&mut conn).map_err(Into::into)
        })
        .await?
    }

    /// How many changes this tenant's data of this plugin has seen (0 for none).
    pub async fn generation(&self, tenant: &str, plugin: &str) -> Result<u64, StoreError> {
        let (t, p) = (tenant.to_owned(), plugin.to_owned());
        self.with_conn(move |c| {
            c.prepare_cached(
                "SELECT generation FROM plugin_kv_generation WHERE tenant=?1 AND plugin=?2",
            )?
            .query_row(params![t, p], |row| row.get::<_, i64>(0))
            .optional()
            .map(|g| g.map_or(0, |g| g.unsigned_abs()))
        })
        .await
    }

    /// What this tenant's data of this plugin weighs, as counted by its writes.
    pub async fn kv_bytes(&self, tenant: &str, plugin: &str) -> Result<u64, StoreError> {
        let (t, p) = (tenant.to_owned(), plugin.to_owned());
        self.with_conn(move |c| counted_weight(c, (&t, &p)).map(i64::unsigned_abs))
            .await
    }

    /// The value under `key` for this tenant and plugin.
    pub async fn kv_get(
        &self,
        tenant: &str,
        plugin: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (t, p, k) = (tenant.to_owned(), plugin.to_owned(), key.to_owned());
        self.with_conn(move |c| {
            c.prepare_cached(
                "SELECT value FROM plugin_kv WHERE tenant=?1 AND plugin=?2 AND key=?3",
            )?
            .query_row(params![t, p, k], |row| row.get(0))
            .optional()
        })
        .await
    }

    /// Stores every pair in one transaction; returns how many keys changed.
    pub async fn kv_put_many(
        &self,
        of: &DataOf,
        plugin: &str,
        pairs: Vec<(String, Vec<u8>)>,
        quota: u64,
    ) -> Result<usize, StoreError> {
        let (of, p) = (of.clone(), plugin.to_owned());
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            check_data_of(&tx, &of)?;
            let t = &of.tenant;
            let (keys, written) = written_weight(&pairs);
            let before = stored_weight(&tx, (t, &p), &keys)?;
            let mut changed: usize = 0;
            {
                let mut put = tx.prepare_cached(
                    "INSERT INTO plugin_kv (tenant, plugin, key, value) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (tenant, plugin, key) DO UPDATE SET value = excluded.value
                     WHERE value IS NOT excluded.value",
                )?;
                for (key, value) in &pairs {
                    changed = changed.saturating_add(put.execute(params![t, p, key, value])?);
                }
            }
            if changed > 0 {
                count_change(&tx, (t, &p), written.saturating_sub(before), quota)?;
            }
            tx.commit()?;
            Ok::<_, StoreError>(changed)
        })
        .await
    }

    /// Replaces every key under `prefix` with `pairs` in one transaction; returns
    /// how many keys were there before.
    pub async fn kv_replace_prefix(
        &self,
        of: &DataOf,
        plugin: &str,
        prefix: &str,
        pairs: Vec<(String, Vec<u8>)>,
        quota: u64,
        audit: Option<super::ImportAudit>,
    ) -> Result<usize, StoreError> {
        let (of, p, prefix) = (of.clone(), plugin.to_owned(), prefix.to_owned());
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            check_data_of(&tx, &of)?;
            let t = &of.tenant;
            let (removed, before): (usize, i64) = {
                let mut delete = tx.prepare_cached(
                    "DELETE FROM plugin_kv WHERE tenant=?1 AND plugin=?2
                     AND substr(key, 1, length(?3)) = ?3
                     RETURNING length(CAST(key AS BLOB)) + length(value) + ?4",
                )?;
                let overhead = to_i64(super::KV_ENTRY_OVERHEAD);
                let mut weights = delete
                    .query_map(params![t, p, prefix, overhead], |row| row.get::<_, i64>(0))?;
                weights.try_fold((0usize, 0i64), |(n, sum), weight| {
                    weight.map(|w| (n.saturating_add(1), sum.saturating_add(w)))
                })?
            };
            // Every key is under the prefix, emptied above.
            let (_, written) = written_weight(&pairs);
            let delta = written.saturating_sub(before);
            // Refused before the entries are written: an import can be large.
            within_quota(
                counted_weight(&tx, (t, &p))?.saturating_add(delta),
                delta,
                quota,
            )?;
            {
                let mut put = tx.prepare_cached(
                    "INSERT INTO plugin_kv (tenant, plugin, key, value) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (tenant, plugin, key) DO UPDATE SET value = excluded.value",
                )?;
                for (key, value) in &pairs {
                    put.execute(params![t, p, key, value])?;
                }
            }
            if removed > 0 || !pairs.is_empty() {
                count_change(&tx, (t, &p), delta, quota)?;
            }
            if let Some(audit) = &audit {
                insert_audit(&tx, &audit.entry(t, removed))?;
            }
            tx.commit()?;
            Ok::<_, StoreError>(removed)
        })
        .await
    }

    /// Sets `key` to `new` (None: deletes it) if it holds `expected` (None:
    /// absent), in one step; whether it did.
    pub async fn kv_compare_and_swap(
        &self,
        of: &DataOf,
        plugin: &str,
        key: &str,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
        quota: u64,
    ) -> Result<bool, StoreError> {
        let (of, p, k) = (of.clone(), plugin.to_owned(), key.to_owned());
        self.with_conn(move |c| {
            // IMMEDIATE: the write lock is taken before the reads, so nothing
            // writes between the comparison and the swap.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            check_data_of(&tx, &of)?;
            let t = &of.tenant;
            let current: Option<Vec<u8>> = tx
                .prepare_cached(
                    "SELECT value FROM plugin_kv WHERE tenant=?1 AND plugin=?2 AND key=?3",
                )?
                .query_row(params![t, p, k], |row| row.get(0))
                .optional()?;
            if current != expected {
                return Ok(false);
            }
            if current != new {
                match &new {
                    Some(value) => tx
                        .prepare_cached(
                            "INSERT INTO plugin_kv (tenant, plugin, key, value) VALUES (?1, ?2, ?3, ?4)
                             ON CONFLICT (tenant, plugin, key) DO UPDATE SET value = excluded.value",
                        )?
                        .execute(params![t, p, k, value])?,
                    None => tx
                        .prepare_cached(
                            "DELETE FROM plugin_kv WHERE tenant=?1 AND plugin=?2 AND key=?3",
                        )?
                        .execute(params![t, p, k])?,
                };
                let weight = |value: &Option<Vec<u8>>| value.as_ref().map_or(0, |v| entry_weight(&k, v));
                count_change(&tx, (t, &p), weight(&new).saturating_sub(weight(&current)), quota)?;
            }
            tx.commit()?;
            Ok::<_, StoreError>(true)
        })
        .await
    }

    pub async fn kv_delete(&self, of: &DataOf, plugin: &str, key: &str) -> Result<(), StoreError> {
        let (of, p, k) = (of.clone(), plugin.to_owned(), key.to_owned());
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            check_data_of(&tx, &of)?;
            let t = &of.tenant;
            let removed: Option<i64> = tx
                .prepare_cached(
                    "DELETE FROM plugin_kv WHERE tenant=?1 AND plugin=?2 AND key=?3
                     RETURNING length(CAST(key AS BLOB)) + length(value) + ?4",
                )?
                .query_row(params![t, p, k, to_i64(super::KV_ENTRY_OVERHEAD)], |row| {
                    row.get(0)
                })
                .optional()?;
            if let Some(weight) = removed {
                count_change(&tx, (t, &p), weight.saturating_neg(), u64::MAX)?;
            }
            Ok::<_, StoreError>(tx.commit()?)
        })
        .await
    }

    /// Every key and value under `prefix`, ascending by key.
    pub async fn kv_scan(
        &self,
        tenant: &str,
        plugin: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let (t, p, prefix) = (tenant.to_owned(), plugin.to_owned(), prefix.to_owned());
        self.with_conn(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT key, value FROM plugin_kv WHERE tenant=?1 AND plugin=?2
                 AND substr(key, 1, length(?3)) = ?3 ORDER BY key",
            )?;
            stmt.query_map(params![t, p, prefix], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .await
    }

    /// Keys starting with `prefix`, ascending, at most `limit` of them.
    pub async fn kv_list(
        &self,
        tenant: &str,
        plugin: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let (t, p, prefix) = (tenant.to_owned(), plugin.to_owned(), prefix.to_owned());
        self.with_conn(move |c| {
            // Compare on the prefix itself rather than LIKE, whose wildcards a key may contain.
            let mut stmt = c.prepare_cached(
                "SELECT key FROM plugin_kv WHERE tenant=?1 AND plugin=?2
                 AND substr(key, 1, length(?3)) = ?3 ORDER BY key LIMIT ?4",
            )?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            stmt.query_map(params![t, p, prefix, limit], |row| row.get(0))?
                .collect()
        })
        .await
    }

    pub async fn add_contacts(
        &self,
        of: &DataOf,
        counts: Vec<ContactCount>,
    ) -> Result<(), StoreError> {
        let of = of.clone();
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            check_data_of(&tx, &of)?;
            let tenant = of.tenant.as_str();
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO contact_history
                     (tenant, bucket_start_s, language, channel, arrivals, handled, handle_secs)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (tenant, bucket_start_s, language, channel) DO UPDATE SET
                       arrivals = arrivals + excluded.arrivals,
                       handled = handled + excluded.handled,
                       handle_secs = handle_secs + excluded.handle_secs",
                )?;
                for count in &counts {
                    stmt.execute(params![
                        tenant,
                        count.bucket_start_s,
                        count.language,
                        count.channel,
                        to_i64(count.arrivals),
                        to_i64(count.handled),
                        count.handle_secs,
                    ])?;
                }
            }
            tx.commit()?;
            Ok::<_, StoreError>(())
        })
        .await
    }

    pub async fn contact_history(
        &self,
        tenant: &str,
        from_s: i64,
        to_s: i64,
    ) -> Result<Vec<ContactCount>, StoreError> {
        let tenant = tenant.to_owned();
        self.with_conn(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT bucket_start_s, language, channel, arrivals, handled, handle_secs
                 FROM contact_history WHERE tenant = ?1 AND bucket_start_s >= ?2
                 AND bucket_start_s < ?3 ORDER BY bucket_start_s, language, channel",
            )?;
            stmt.query_map(params![tenant, from_s, to_s], |row| {
                Ok(ContactCount {
                    bucket_start_s: row.get(0)?,
                    language: row.get(1)?,
                    channel: row.get(2)?,
                    arrivals: to_u64(row.get(3)?),
                    handled: to_u64(row.get(4)?),
                    handle_secs: row.get(5)?,
                })
            })?
            .collect()
        })
        .await
    }

    pub async fn control_version(&self) -> Result<u64, StoreError> {
        self.with_conn(|c| {
            c.prepare_cached("SELECT version FROM control_version WHERE id = 1")?
                .query_row([], |row| row.get::<_, i64>(0))
                .map(to_u64)
        })
        .await
    }

    pub async fn control_state(&self) -> Result<ControlState, StoreError> {
        self.with_conn(|c| {
            let tx = c.transaction()?;
            let version = tx.query_row(
                "SELECT version FROM control_version WHERE id = 1",
                [],
                |row| row.get::<_, i64>(0),
            )?;
            let tenants = tx
                .prepare("SELECT id, doc, revision FROM tenants ORDER BY id")?
                .query_map([], |row| {
                    Ok(TenantRow {
                        id: row.get(0)?,
                        doc: row.get(1)?,
                        revision: to_u64(row.get(2)?),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let plugins = tx
                .prepare("SELECT name, active, previous FROM plugins ORDER BY name")?
                .query_map([], |row| {
                    Ok(PluginRow {
                        name: row.get(0)?,
                        active: row.get(1)?,
                        previous: row.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let secrets = tx
                .prepare(
                    "SELECT tenant, plugin, host, header, sealed FROM tenant_secrets
                     ORDER BY tenant, plugin, host, header",
                )?
                .query_map([], |row| {
                    Ok(SecretRow {
                        tenant: row.get(0)?,
                        plugin: row.get(1)?,
                        host: row.get(2)?,
                        header: row.get(3)?,
                        sealed: row.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            tx.commit()?;
            Ok::<_, StoreError>(ControlState {
                version: to_u64(version),
                tenants,
                plugins,
                secrets,
            })
        })
        .await
    }

    pub async fn plugin_blob(&self, digest: &str) -> Result<Option<PluginBlob>, StoreError> {
        let digest = digest.to_owned();
        self.with_conn(move |c| {
            c.prepare_cached(
                "SELECT digest, name, version, bytes, signature, installed_at_ms
                 FROM plugin_blobs WHERE digest = ?1",
            )?
            .query_row(params![digest], |row| {
                Ok(PluginBlob {
                    digest: row.get(0)?,
                    name: row.get(1)?,
                    version: row.get(2)?,
                    bytes: row.get(3)?,
                    signature: row.get(4)?,
                    installed_at_ms: row.get(5)?,
                })
            })
            .optional()
        })
        .await
    }

    pub async fn plugin_versions(&self) -> Result<Vec<PluginVersionInfo>, StoreError> {
        self.with_conn(|c| {
            c.prepare_cached(
                "SELECT digest, name, version, signature IS NOT NULL, installed_at_ms,
                        length(bytes)
                 FROM plugin_blobs ORDER BY installed_at_ms DESC, digest",
            )?
            .query_map([], |row| {
                Ok(PluginVersionInfo {
                    digest: row.get(0)?,
                    name: row.get(1)?,
                    version: row.get(2)?,
                    signed: row.get(3)?,
                    installed_at_ms: row.get(4)?,
                    size: to_u64(row.get(5)?),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await
    }

    pub async fn apply(
        &self,
        writes: Vec<ControlWrite>,
        audit: NewAuditEntry,
    ) -> Result<u64, StoreError> {
        self.with_conn(move |c| {
            // IMMEDIATE: take the write lock first, so the expectations checked
            // below still hold when the transaction commits.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for write in writes {
                apply_write(&tx, write)?;
            }
            insert_audit(&tx, &audit)?;
            let version: i64 = tx.query_row(
                "UPDATE control_version SET version = version + 1 WHERE id = 1 RETURNING version",
                [],
                |row| row.get(0),
            )?;
            tx.commit()?;
            Ok::<_, StoreError>(to_u64(version))
        })
        .await
    }

    pub async fn record_audit(&self, of: &DataOf, audit: NewAuditEntry) -> Result<(), StoreError> {
        let of = of.clone();
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            check_data_of(&tx, &of)?;
            insert_audit(&tx, &audit)?;
            tx.commit()?;
            Ok::<_, StoreError>(())
        })
        .await
    }

    pub async fn last_audit_id(
        &self,
        tenant: &str,
        action: &str,
    ) -> Result<Option<u64>, StoreError> {
        let (tenant, action) = (tenant.to_owned(), action.to_owned());
        self.with_conn(move |c| {
            c.prepare_cached("SELECT MAX(id) FROM audit_log WHERE tenant = ?1 AND action = ?2")?
                .query_row(params![tenant, action], |row| row.get::<_, Option<i64>>(0))
                .map(|id| id.map(to_u64))
        })
        .await
    }

    pub async fn audit_log(
        &self,
        tenant: Option<&str>,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let tenant = tenant.map(str::to_owned);
        let before = to_i64(before.unwrap_or(u64::MAX));
        let limit = to_i64(limit as u64);
        self.with_conn(move |c| {
            c.prepare_cached(
                "SELECT id, at_ms, actor, tenant, action, target, before, after FROM audit_log
                 WHERE (?1 IS NULL OR tenant = ?1) AND id < ?2
                 ORDER BY id DESC LIMIT ?3",
            )?
            .query_map(params![tenant, before, limit], |row| {
                Ok(AuditEntry {
                    id: to_u64(row.get(0)?),
                    at_ms: row.get(1)?,
                    entry: NewAuditEntry {
                        actor: row.get(2)?,
                        tenant: row.get(3)?,
                        action: row.get(4)?,
                        target: row.get(5)?,
                        before: row.get(6)?,
                        after: row.get(7)?,
                    },
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await
    }
}

/// Appends `audit` to the audit log within `tx`: with the change it records.
pub(crate) fn insert_audit(
    tx: &rusqlite::Transaction<'_>,
    audit: &NewAuditEntry,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO audit_log (at_ms, actor, tenant, action, target, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            super::now_ms(),
            audit.actor,
            audit.tenant,
            audit.action,
            audit.target,
            audit.before,
            audit.after
        ],
    )?;
    Ok(())
}

/// One write of a control change, inside its transaction.
fn apply_write(tx: &rusqlite::Transaction<'_>, write: ControlWrite) -> Result<(), StoreError> {
    match write {
        ControlWrite::PutTenant { id, doc, expected } => {
            let changed = match expected {
                None => tx.execute(
                    "INSERT INTO tenants (id, doc, revision) VALUES (?1, ?2, 1)
                     ON CONFLICT (id) DO NOTHING",
                    params![id, doc],
                )?,
                Some(revision) => tx.execute(
                    "UPDATE tenants SET doc = ?2, revision = revision + 1
                     WHERE id = ?1 AND revision = ?3",
                    params![id, doc, to_i64(revision)],
                )?,
            };
            if changed == 0 {
                return Err(StoreError::Conflict(match expected {
                    None => format!("tenant '{id}' already exists"),
                    Some(_) => format!("tenant '{id}' was changed or deleted meanwhile"),
                }));
            }
            // Checked here, in the transaction: a removal may have committed
            // since the document was validated.
            let missing: Option<String> = tx
                .query_row(
                    "SELECT named FROM (
                         SELECT CASE WHEN p.type = 'object'
                                     THEN json_extract(p.value, '$.name') END AS named
                         FROM json_each(?1, '$.plugins') AS p)
                     WHERE named IS NOT NULL AND named NOT IN (SELECT name FROM plugins)
                     LIMIT 1",
                    params![doc],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(plugin) = missing {
                return Err(super::removed_meanwhile(&plugin));
            }
        }
        ControlWrite::DeleteTenant { id, expected } => {
            let removed = tx.execute(
                "DELETE FROM tenants WHERE id = ?1 AND revision = ?2",
                params![id, to_i64(expected)],
            )?;
            if removed == 0 {
                return Err(StoreError::Conflict(format!(
                    "tenant '{id}' was changed or deleted meanwhile"
                )));
            }
            for table in super::TENANT_DATA_TABLES {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE tenant = ?1"),
                    params![id],
                )?;
            }
        }
        ControlWrite::PutSecret(row) => {
            tx.execute(
                "INSERT INTO tenant_secrets (tenant, plugin, host, header, sealed)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tenant, plugin, host, header) DO UPDATE SET sealed = excluded.sealed",
                params![row.tenant, row.plugin, row.host, row.header, row.sealed],
            )?;
        }
        ControlWrite::DeleteSecret {
            tenant,
            plugin,
            host,
            header,
        } => {
            tx.execute(
                "DELETE FROM tenant_secrets
                 WHERE tenant = ?1 AND plugin = ?2 AND host = ?3 AND header = ?4",
                params![tenant, plugin, host, header],
            )?;
        }
        ControlWrite::PutPluginBlob(blob) => {
            tx.execute(
                "INSERT INTO plugin_blobs (digest, name, version, bytes, signature, installed_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (digest) DO UPDATE
                 SET signature = COALESCE(excluded.signature, plugin_blobs.signature)",
                params![
                    blob.digest,
                    blob.name,
                    blob.version,
                    blob.bytes,
                    blob.signature,
                    blob.installed_at_ms
                ],
            )?;
        }
        ControlWrite::RepairPluginBlob { digest, bytes } => {
            let changed = tx.execute(
                "UPDATE plugin_blobs SET bytes = ?1 WHERE digest = ?2",
                params![bytes, digest],
            )?;
            if changed == 0 {
                return Err(super::not_stored(&digest));
            }
        }
        ControlWrite::SetPlugin {
            name,
            active,
            previous,
            expected_active,
        } => {
            let current: Option<String> = tx
                .query_row(
                    "SELECT active FROM plugins WHERE name = ?1",
                    params![name],
                    |row| row.get(0),
                )
                .optional()?;
            if current != expected_active {
                return Err(StoreError::Conflict(format!(
                    "plugin '{name}' was changed meanwhile"
                )));
            }
            if active.is_none() {
                let user: Option<String> = tx
                    .query_row(
                        "SELECT t.id FROM tenants AS t, json_each(t.doc, '$.plugins') AS p
                         WHERE CASE WHEN p.type = 'object'
                                    THEN json_extract(p.value, '$.name') END = ?1
                         LIMIT 1",
                        params![name],
                        |row| row.get(0),
                    )
                    .optional()?;
                if let Some(tenant) = user {
                    return Err(super::attached_meanwhile(&name, &tenant));
                }
            }
            match active {
                Some(active) => tx.execute(
                    "INSERT INTO plugins (name, active, previous) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET active = excluded.active,
                                                      previous = excluded.previous",
                    params![name, active, previous],
                )?,
                None => tx.execute("DELETE FROM plugins WHERE name = ?1", params![name])?,
            };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_that_panics_leaves_the_store_usable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("open");
        let panicked = store
            .with_conn(|conn| -> Result<(), rusqlite::Error> {
                let tx = conn.transaction()?;
                tx.execute(
                    "INSERT INTO plugin_kv (tenant, plugin, key, value) VALUES ('t', 'p', 'k', x'00')",
                    [],
                )?;
                panic!("a bug while the connection is held");
            })
            .await;
        assert!(matches!(panicked, Err(StoreError::Join(_))), "{panicked:?}");
        // The lock is free, the half-done transaction rolled back.
        assert_eq!(store.kv_get("t", "p", "k").await.expect("read"), None);
        store
            .kv_put_many(
                &DataOf::tenant("t"),
                "p",
                vec![("k".into(), b"v".to_vec())],
                1024,
            )
            .await
            .expect("write");
        assert_eq!(
            store.kv_get("t", "p", "k").await.expect("read").as_deref(),
            Some(&b"v"[..])
        );
    }
}
