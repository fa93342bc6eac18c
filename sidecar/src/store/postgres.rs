//! The PostgreSQL backend: one database shared by every replica of the sidecar,
//! reached through a pool of connections.
//!
//! It owns the connection pool, the migration of the shared schema (serialized
//! between replicas that start together) and the SQL of every store operation, with
//! the same semantics as the SQLite backend ([`super::SqliteStore`] is the
//! reference): the same rows, orderings (byte-wise on text, as SQLite's), generation
//! bumps and conflict messages.
//!
//! The pool, and TLS when the URL asks for it, are [`crossdesk_database`]'s.

use std::path::Path;

use crossdesk_database::{Target, describe};
use deadpool_postgres::{GenericClient, Pool, PoolError};
use futures::future::try_join_all;
use tokio_postgres::IsolationLevel;
use tokio_postgres::types::ToSql;

use super::migrations::{self, MIGRATIONS};
use super::{
    AuditEntry, ContactCount, ControlState, ControlWrite, DataOf, NewAuditEntry, PluginBlob,
    PluginRow, PluginVersionInfo, SecretRow, StoreError, TenantRow, entry_weight, within_quota,
    written_weight,
};

/// Checks, first in a write's transaction, that the tenant whose data it writes
/// is still stored with that data's incarnation (see [`DataOf`]). The row is
/// held `FOR SHARE` until the write commits: a deletion (or a customer's
/// erasure, which takes the row `FOR UPDATE`) waits for it and then deletes
/// what it wrote, or it waits for them and sees what they did. For the batches
/// of gathered facts, a few a second; the writes of every event take
/// [`gone_tenants`] instead, which locks no row.
pub(super) async fn check_data_of(tx: &impl GenericClient, of: &DataOf) -> Result<(), StoreError> {
    if of.incarnation.is_none() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached("SELECT doc::json->>'incarnation' FROM tenants WHERE id = $1 FOR SHARE")
        .await?;
    let stored: Option<Option<String>> = tx
        .query_opt(&stmt, &[&of.tenant])
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    of.check(stored)
}

/// The advisory lock of a tenant's data is `(TENANT_DATA_LOCK, hashtext(id))`: a
/// deletion of the tenant holds it exclusively ([`apply_write`]), a write of an
/// event's data shared ([`gone_tenants`]). Keys of two `int4` never meet the
/// `bigint` keys of the other advisory locks (migrations, day rebuilds); two
/// tenants whose ids hash alike only refuse each other's writes while one of
/// them is being deleted.
pub const TENANT_DATA_LOCK: i32 = 0x7465_6e61;

/// A transaction of a write of tenant data: READ COMMITTED, whatever the
/// database's default, since the data lock's scheme needs each statement to see
/// what committed before it (a deletion's statements, the writes they wait for;
/// a write's read, the deletion its lock came after).
pub(super) async fn data_transaction(
    c: &mut deadpool_postgres::Object,
) -> Result<deadpool_postgres::Transaction<'_>, StoreError> {
    Ok(c.build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?)
}

/// Which of `of` (checked ones, see [`DataOf`]) a write made now may not write:
/// tenants deleted since, or created again, or being deleted now. Called first
/// in the write's transaction; the others' data locks are held shared until it
/// commits, so that a deletion waits for the write and then deletes what it
/// wrote.
///
/// For the writes every event makes (idempotency records, plugin storage): a
/// row lock, as [`check_data_of`] takes, would have every event contend for
/// its tenant's row, and the row's stream of share locks could keep an edit or
/// a deletion of a busy tenant waiting. The advisory lock is only tried: a
/// tenant whose deletion holds it, or waits for it, is gone, and nobody waits.
pub(super) async fn gone_tenants<'a>(
    tx: &impl GenericClient,
    of: &[&'a DataOf],
) -> Result<Vec<&'a DataOf>, StoreError> {
    let checked: Vec<&DataOf> = of
        .iter()
        .copied()
        .filter(|o| o.incarnation.is_some())
        .collect();
    if checked.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = checked.iter().map(|o| o.tenant.as_str()).collect();
    let lock = tx
        .prepare_cached(
            "SELECT t, pg_try_advisory_xact_lock_shared($2, hashtext(t))
             FROM unnest($1::text[]) AS t",
        )
        .await?;
    let read = tx
        .prepare_cached("SELECT id, doc::json->>'incarnation' FROM tenants WHERE id = ANY($1)")
        .await?;
    // Sent together, run in order: the read's snapshot is taken once the locks
    // are held, so it sees any deletion that committed before them.
    let (lock_params, read_params): ([&(dyn ToSql + Sync); 2], [&(dyn ToSql + Sync); 1]) =
        ([&ids, &TENANT_DATA_LOCK], [&ids]);
    let (locked, stored) =
        futures::try_join!(tx.query(&lock, &lock_params), tx.query(&read, &read_params),)?;
    let mut free = std::collections::HashSet::new();
    for row in &locked {
        if row.try_get::<_, bool>(1)? {
            free.insert(row.try_get::<_, String>(0)?);
        }
    }
    let mut incarnations = std::collections::HashMap::new();
    for row in &stored {
        incarnations.insert(
            row.try_get::<_, String>(0)?,
            row.try_get::<_, Option<String>>(1)?,
        );
    }
    Ok(checked
        .into_iter()
        .filter(|o| {
            !free.contains(&o.tenant) || o.check(incarnations.get(&o.tenant).cloned()).is_err()
        })
        .collect())
}

/// [`gone_tenants`] for one write's tenant: [`StoreError::TenantGone`] if gone.
async fn check_event_data_of(tx: &impl GenericClient, of: &DataOf) -> Result<(), StoreError> {
    match gone_tenants(tx, &[of]).await?.is_empty() {
        true => Ok(()),
        false => Err(StoreError::TenantGone(of.tenant.clone())),
    }
}

/// Connections per process; every store call holds one only while it runs.
const MAX_CONNECTIONS: usize = 16;
/// Key of the advisory lock that serializes migrations between processes (any
/// constant, the same in every host version: "crossdesk" in ASCII, truncated).
const MIGRATION_LOCK: i64 = 0x6372_6f73_7364_6573;

/// A PostgreSQL store. Cloning shares the connection pools.
#[derive(Clone)]
pub struct PostgresStore {
    pub(super) pool: Pool,
    /// One connection of its own for [`PostgresStore::health`]: behind the
    /// event traffic's pool, a busy replica would read as a database away.
    health: Pool,
    /// The server's clock, which every replica's times in the store follow.
    pub(super) clock: std::sync::Arc<crossdesk_database::ServerClock>,
}

impl std::fmt::Debug for PostgresStore {
    // The pool's own Debug would print the connection settings.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresStore")
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        StoreError::Postgres(describe(&e))
    }
}

impl From<PoolError> for StoreError {
    fn from(e: PoolError) -> StoreError {
        StoreError::Postgres(crossdesk_database::describe_pool(&e))
    }
}

pub(super) fn to_u64(n: i64) -> u64 {
    n.unsigned_abs()
}

pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Takes the row that counts this tenant's data of this plugin, for a write's
/// transaction (after its data lock): every write takes it first, so the
/// weights a write reads stay true until it commits, and no two writes lock in
/// opposite orders. Returns what the data weighs.
async fn lock_count(c: &impl GenericClient, tenant: &str, plugin: &str) -> Result<i64, StoreError> {
    let create = c
        .prepare_cached(
            "INSERT INTO plugin_kv_generation (tenant, plugin, generation, bytes)
             VALUES ($1, $2, 0, 0) ON CONFLICT (tenant, plugin) DO NOTHING",
        )
        .await?;
    let lock = c
        .prepare_cached(
            "SELECT bytes FROM plugin_kv_generation WHERE tenant = $1 AND plugin = $2 FOR UPDATE",
        )
        .await?;
    let params: [&(dyn ToSql + Sync); 2] = [&tenant, &plugin];
    // Pipelined: one round trip.
    let (created, counted) = tokio::join!(c.execute(&create, &params), c.query_opt(&lock, &params));
    // The first statement's error, if any: the second then fails only because
    // the transaction was aborted.
    created?;
    let counted = counted?;
    // None: a tenant's deletion removed the row meanwhile (an unchecked write
    // takes no data lock); the write then counts from nothing.
    Ok(counted.map(|row| row.try_get(0)).transpose()?.unwrap_or(0))
}

/// Counts a change to a tenant's plugin data that adds `delta` bytes to its
/// weight, under [`lock_count`]; refuses it past `quota`, the transaction then
/// to be dropped.
async fn count_change(
    c: &impl GenericClient,
    (tenant, plugin): (&str, &str),
    delta: i64,
    quota: u64,
) -> Result<(), StoreError> {
    let stmt = c
        .prepare_cached(
            // An upsert: an unchecked write (`DataOf::incarnation` None) takes
            // no data lock, and a tenant's deletion may have removed the row.
            "INSERT INTO plugin_kv_generation (tenant, plugin, generation, bytes)
             VALUES ($1, $2, 1, GREATEST($3::BIGINT, 0))
             ON CONFLICT (tenant, plugin) DO UPDATE
             SET generation = plugin_kv_generation.generation + 1,
                 bytes = GREATEST(plugin_kv_generation.bytes + $3::BIGINT, 0)
             RETURNING bytes",
        )
        .await?;
    let weight: i64 = c
        .query_one(&stmt, &[&tenant, &plugin, &delta])
        .await?
        .try_get(0)?;
    within_quota(weight, delta, quota)
}

/// Applies the migrations this database has not seen, each in its own transaction.
///
/// Replicas may start together against one database: every step holds a
/// transaction-scoped advisory lock and re-reads the applied version under it, so
/// each migration runs once, and a replica that waited skips what another applied.
async fn migrate(pool: &Pool) -> Result<(), StoreError> {
    let mut client = pool.get().await?;
    loop {
        let tx = client.transaction().await?;
        // Quiet the "already exists, skipping" notice the driver would log each time.
        tx.batch_execute("SET LOCAL client_min_messages = warning")
            .await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                applied_at BIGINT NOT NULL
            )",
        )
        .await?;
        let applied: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .try_get(0)?;
        let applied = i64::from(applied);
        if applied > i64::from(migrations::latest()) {
            return Err(StoreError::Corrupt(format!(
                "the database has schema version {applied}; this host knows up to {}: \
                 upgrade the host",
                migrations::latest()
            )));
        }
        let Some(migration) = MIGRATIONS.iter().find(|m| i64::from(m.version) > applied) else {
            tx.commit().await?;
            return Ok(());
        };
        let version = i32::try_from(migration.version).map_err(|_| {
            StoreError::Corrupt(format!("migration version {} too large", migration.version))
        })?;
        tx.batch_execute(migration.postgres).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[&version, &super::now_ms()],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version = migration.version, "{}", migration.description);
    }
}

impl PostgresStore {
    /// Connects to the database of a `postgres://user@host:port/db` URL and brings
    /// its schema up to date.
    pub async fn connect(url: &str, ca_file: Option<&Path>) -> Result<PostgresStore, StoreError> {
        let pool_of = |application_name, max_connections| {
            crossdesk_database::pool(&Target {
                url,
                ca_file,
                application_name,
                max_connections,
            })
            .map_err(|e| StoreError::Postgres(e.to_string()))
        };
        let pool = pool_of("crossdesk", MAX_CONNECTIONS)?;
        let health = pool_of("crossdesk health", 1)?;
        migrate(&pool).await?;
        let clock = std::sync::Arc::new(crossdesk_database::ServerClock::default());
        clock.measure(&pool.get().await?).await?;
        Ok(PostgresStore {
            pool,
            health,
            clock,
        })
    }

    /// How many changes this tenant's data of this plugin has seen (0 for none).
    pub async fn generation(&self, tenant: &str, plugin: &str) -> Result<u64, StoreError> {
        let c = self.pool.get().await?;
        let stmt = c
            .prepare_cached(
                "SELECT generation FROM plugin_kv_generation WHERE tenant = $1 AND plugin = $2",
            )
            .await?;
        let row = c.query_opt(&stmt, &[&tenant, &plugin]).await?;
        Ok(match row {
            Some(row) => to_u64(row.try_get(0)?),
            None => 0,
        })
    }

    /// What this tenant's data of this plugin weighs, as counted by its writes.
    pub async fn kv_bytes(&self, tenant: &str, plugin: &str) -> Result<u64, StoreError> {
        let c = self.pool.get().await?;
        let stmt = c
            .prepare_cached(
                "SELECT bytes FROM plugin_kv_generation WHERE tenant = $1 AND plugin = $2",
            )
            .await?;
        let row = c.query_opt(&stmt, &[&tenant, &plugin]).await?;
        Ok(row
            .map(|row| row.try_get::<_, i64>(0))
            .transpose()?
            .map_or(0, i64::unsigned_abs))
    }

    /// The value under `key` for this tenant and plugin.
    pub async fn kv_get(
        &self,
        tenant: &str,
        plugin: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let c = self.pool.get().await?;
        let stmt = c
            .prepare_cached(
                "SELECT value FROM plugin_kv WHERE tenant = $1 AND plugin = $2 AND key = $3",
            )
            .await?;
        let row = c.query_opt(&stmt, &[&tenant, &plugin, &key]).await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    /// Stores every pair in one transaction; returns how many keys changed.
    pub async fn kv_put_many(
        &self,
        of: &DataOf,
        plugin: &str,
        mut pairs: Vec<(String, Vec<u8>)>,
        quota: u64,
    ) -> Result<usize, StoreError> {
        // One lock order for every batch, so two batches over the same keys never
        // deadlock (stable: of a key given twice, the last value still wins).
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut c = self.pool.get().await?;
        let tx = data_transaction(&mut c).await?;
        check_event_data_of(&tx, of).await?;
        let tenant = of.tenant.as_str();
        lock_count(&tx, tenant, plugin).await?;
        let (keys, written) = written_weight(&pairs);
        let weigh = tx
            .prepare_cached(
                "SELECT COALESCE(SUM(octet_length(key) + octet_length(value) + $4::BIGINT), 0)::BIGINT
                 FROM plugin_kv WHERE tenant = $1 AND plugin = $2 AND key = ANY($3)",
            )
            .await?;
        let overhead = to_i64(super::KV_ENTRY_OVERHEAD);
        let before: i64 = tx
            .query_one(&weigh, &[&tenant, &plugin, &keys, &overhead])
            .await?
            .try_get(0)?;
        // Writing the value a key has is no change: the WHERE leaves the row alone,
        // and the statement counts no row.
        let put = tx
            .prepare_cached(
                "INSERT INTO plugin_kv (tenant, plugin, key, value) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant, plugin, key) DO UPDATE SET value = excluded.value
                 WHERE plugin_kv.value IS DISTINCT FROM excluded.value",
            )
            .await?;
        // Sent together (pipelined, in order) rather than one round trip per key.
        let params: Vec<[&(dyn ToSql + Sync); 4]> = pairs
            .iter()
            .map(|(key, value)| [&tenant as &(dyn ToSql + Sync), &plugin, key, value])
            .collect();
        let counts = try_join_all(params.iter().map(|p| tx.execute(&put, p))).await?;
        let changed: u64 = counts.iter().sum();
        if changed > 0 {
            let delta = written.saturating_sub(before);
            count_change(&tx, (tenant, plugin), delta, quota).await?;
        }
        tx.commit().await?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
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
        let mut c = self.pool.get().await?;
        let tx = data_transaction(&mut c).await?;
        check_event_data_of(&tx, of).await?;
        let tenant = of.tenant.as_str();
        let held = lock_count(&tx, tenant, plugin).await?;
        let overhead = to_i64(super::KV_ENTRY_OVERHEAD);
        let removed = tx
            .query_one(
                "WITH gone AS (
                     DELETE FROM plugin_kv WHERE tenant = $1 AND plugin = $2
                     AND left(key, length($3::text)) = $3::text
                     RETURNING octet_length(key) + octet_length(value) + $4::BIGINT AS weight)
                 SELECT count(*)::BIGINT, COALESCE(SUM(weight), 0)::BIGINT FROM gone",
                &[&tenant, &plugin, &prefix, &overhead],
            )
            .await?;
        let (removed, before): (i64, i64) = (removed.try_get(0)?, removed.try_get(1)?);
        // Every key is under the prefix, emptied above.
        let (_, written) = written_weight(&pairs);
        let delta = written.saturating_sub(before);
        // Refused before the entries are sent: an import can be large, and the
        // count's lock is held until the end.
        within_quota(held.saturating_add(delta), delta, quota)?;
        let put = tx
            .prepare_cached(
                "INSERT INTO plugin_kv (tenant, plugin, key, value) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant, plugin, key) DO UPDATE SET value = excluded.value",
            )
            .await?;
        // Pipelined, in order (of a key given twice, the last value wins).
        let params: Vec<[&(dyn ToSql + Sync); 4]> = pairs
            .iter()
            .map(|(key, value)| [&tenant as &(dyn ToSql + Sync), &plugin, key, value])
            .collect();
        try_join_all(params.iter().map(|p| tx.execute(&put, p))).await?;
        if removed > 0 || !pairs.is_empty() {
            count_change(&tx, (tenant, plugin), delta, quota).await?;
        }
        let removed = usize::try_from(removed).unwrap_or(usize::MAX);
        if let Some(audit) = &audit {
            insert_audit(&tx, &audit.entry(tenant, removed)).await?;
        }
        tx.commit().await?;
        Ok(removed)
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
        let mut c = self.pool.get().await?;
        let tx = data_transaction(&mut c).await?;
        check_event_data_of(&tx, of).await?;
        let tenant = of.tenant.as_str();
        lock_count(&tx, tenant, plugin).await?;
        // Each statement compares and writes in one step (the row lock holds
        // between them); an absent key is compared by inserting only if absent.
        let swapped = match (&expected, &new) {
            (None, None) => {
                let read = tx
                    .prepare_cached(
                        "SELECT 1 FROM plugin_kv WHERE tenant = $1 AND plugin = $2 AND key = $3",
                    )
                    .await?;
                tx.query_opt(&read, &[&tenant, &plugin, &key])
                    .await?
                    .is_none()
            }
            (None, Some(value)) => {
                let insert = tx
                    .prepare_cached(
                        "INSERT INTO plugin_kv (tenant, plugin, key, value) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (tenant, plugin, key) DO NOTHING",
                    )
                    .await?;
                let inserted = tx
                    .execute(&insert, &[&tenant, &plugin, &key, value])
                    .await?;
                if inserted == 1 {
                    let delta = entry_weight(key, value);
                    count_change(&tx, (tenant, plugin), delta, quota).await?;
                }
                inserted == 1
            }
            (Some(old), Some(value)) => {
                let update = tx
                    .prepare_cached(
                        "UPDATE plugin_kv SET value = $5
                         WHERE tenant = $1 AND plugin = $2 AND key = $3 AND value = $4",
                    )
                    .await?;
                let updated = tx
                    .execute(&update, &[&tenant, &plugin, &key, old, value])
                    .await?;
                if updated == 1 && old != value {
                    let delta = entry_weight(key, value).saturating_sub(entry_weight(key, old));
                    count_change(&tx, (tenant, plugin), delta, quota).await?;
                }
                updated == 1
            }
            (Some(old), None) => {
                let delete = tx
                    .prepare_cached(
                        "DELETE FROM plugin_kv
                         WHERE tenant = $1 AND plugin = $2 AND key = $3 AND value = $4",
                    )
                    .await?;
                let deleted = tx.execute(&delete, &[&tenant, &plugin, &key, old]).await?;
                if deleted == 1 {
                    let delta = entry_weight(key, old).saturating_neg();
                    count_change(&tx, (tenant, plugin), delta, quota).await?;
                }
                deleted == 1
            }
        };
        tx.commit().await?;
        Ok(swapped)
    }

    pub async fn kv_delete(&self, of: &DataOf, plugin: &str, key: &str) -> Result<(), StoreError> {
        let mut c = self.pool.get().await?;
        let tx = data_transaction(&mut c).await?;
        check_event_data_of(&tx, of).await?;
        let tenant = of.tenant.as_str();
        lock_count(&tx, tenant, plugin).await?;
        let stmt = tx
            .prepare_cached(
                "DELETE FROM plugin_kv WHERE tenant = $1 AND plugin = $2 AND key = $3
                 RETURNING (octet_length(key) + octet_length(value) + $4::BIGINT)::BIGINT",
            )
            .await?;
        let overhead = to_i64(super::KV_ENTRY_OVERHEAD);
        if let Some(row) = tx
            .query_opt(&stmt, &[&tenant, &plugin, &key, &overhead])
            .await?
        {
            let weight: i64 = row.try_get(0)?;
            count_change(&tx, (tenant, plugin), weight.saturating_neg(), u64::MAX).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every key and value under `prefix`, ascending by key.
    pub async fn kv_scan(
        &self,
        tenant: &str,
        plugin: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let c = self.pool.get().await?;
        // The prefix is compared as it is rather than with LIKE, whose wildcards a key
        // may contain; COLLATE "C" orders by bytes, as SQLite does, whatever the
        // database's collation.
        let stmt = c
            .prepare_cached(
                "SELECT key, value FROM plugin_kv WHERE tenant = $1 AND plugin = $2
                 AND left(key, length($3::text)) = $3::text ORDER BY key COLLATE \"C\"",
            )
            .await?;
        c.query(&stmt, &[&tenant, &plugin, &prefix])
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// Keys starting with `prefix`, ascending, at most `limit` of them.
    pub async fn kv_list(
        &self,
        tenant: &str,
        plugin: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let c = self.pool.get().await?;
        let stmt = c
            .prepare_cached(
                "SELECT key FROM plugin_kv WHERE tenant = $1 AND plugin = $2
                 AND left(key, length($3::text)) = $3::text ORDER BY key COLLATE \"C\" LIMIT $4",
            )
            .await?;
        let limit = to_i64(limit as u64);
        c.query(&stmt, &[&tenant, &plugin, &prefix, &limit])
            .await?
            .iter()
            .map(|row| Ok(row.try_get(0)?))
            .collect()
    }

    pub async fn add_contacts(
        &self,
        of: &DataOf,
        counts: Vec<ContactCount>,
    ) -> Result<(), StoreError> {
        let tenant = of.tenant.as_str();
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        check_data_of(&tx, of).await?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO contact_history AS h
                 (tenant, bucket_start_s, language, channel, arrivals, handled, handle_secs)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (tenant, bucket_start_s, language, channel) DO UPDATE SET
                   arrivals = h.arrivals + excluded.arrivals,
                   handled = h.handled + excluded.handled,
                   handle_secs = h.handle_secs + excluded.handle_secs",
            )
            .await?;
        for count in &counts {
            let (arrivals, handled) = (to_i64(count.arrivals), to_i64(count.handled));
            tx.execute(
                &stmt,
                &[
                    &tenant,
                    &count.bucket_start_s,
                    &count.language,
                    &count.channel,
                    &arrivals,
                    &handled,
                    &count.handle_secs,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn contact_history(
        &self,
        tenant: &str,
        from_s: i64,
        to_s: i64,
    ) -> Result<Vec<ContactCount>, StoreError> {
        let c = self.pool.get().await?;
        let stmt = c
            .prepare_cached(
                "SELECT bucket_start_s, language, channel, arrivals, handled, handle_secs
                 FROM contact_history WHERE tenant = $1 AND bucket_start_s >= $2
                 AND bucket_start_s < $3
                 ORDER BY bucket_start_s, language COLLATE \"C\", channel COLLATE \"C\"",
            )
            .await?;
        c.query(&stmt, &[&tenant, &from_s, &to_s])
            .await?
            .iter()
            .map(|row| {
                Ok(ContactCount {
                    bucket_start_s: row.try_get(0)?,
                    language: row.try_get(1)?,
                    channel: row.try_get(2)?,
                    arrivals: to_u64(row.try_get(3)?),
                    handled: to_u64(row.try_get(4)?),
                    handle_secs: row.try_get(5)?,
                })
            })
            .collect()
    }

    pub async fn control_version(&self) -> Result<u64, StoreError> {
        read_control_version(&self.pool).await
    }

    /// Whether the database answers, on the health connection.
    pub async fn health(&self) -> Result<(), StoreError> {
        read_control_version(&self.health).await.map(drop)
    }

    pub async fn control_state(&self) -> Result<ControlState, StoreError> {
        let mut c = self.pool.get().await?;
        // One snapshot for the four reads, so the state matches its version.
        let tx = c
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let version = tx
            .prepare_cached("SELECT version FROM control_version WHERE id = 1")
            .await?;
        let tenants = tx
            .prepare_cached("SELECT id, doc, revision FROM tenants ORDER BY id COLLATE \"C\"")
            .await?;
        let plugins = tx
            .prepare_cached(
                "SELECT name, active, previous FROM plugins ORDER BY name COLLATE \"C\"",
            )
            .await?;
        let secrets = tx
            .prepare_cached(
                "SELECT tenant, plugin, host, header, sealed FROM tenant_secrets
                 ORDER BY tenant COLLATE \"C\", plugin COLLATE \"C\", host COLLATE \"C\",
                          header COLLATE \"C\"",
            )
            .await?;
        let (version, tenants, plugins, secrets) = tokio::try_join!(
            tx.query_one(&version, &[]),
            tx.query(&tenants, &[]),
            tx.query(&plugins, &[]),
            tx.query(&secrets, &[]),
        )?;
        let state = ControlState {
            version: to_u64(version.try_get(0)?),
            tenants: tenants
                .iter()
                .map(|row| {
                    Ok(TenantRow {
                        id: row.try_get(0)?,
                        doc: row.try_get(1)?,
                        revision: to_u64(row.try_get(2)?),
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            plugins: plugins
                .iter()
                .map(|row| {
                    Ok(PluginRow {
                        name: row.try_get(0)?,
                        active: row.try_get(1)?,
                        previous: row.try_get(2)?,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            secrets: secrets
                .iter()
                .map(|row| {
                    Ok(SecretRow {
                        tenant: row.try_get(0)?,
                        plugin: row.try_get(1)?,
                        host: row.try_get(2)?,
                        header: row.try_get(3)?,
                        sealed: row.try_get(4)?,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
        };
        tx.commit().await?;
        Ok(state)
    }

    pub async fn plugin_blob(&self, digest: &str) -> Result<Option<PluginBlob>, StoreError> {
        let c = self.pool.get().await?;
        let stmt = c
            .prepare_cached(
                "SELECT digest, name, version, bytes, signature, installed_at_ms
                 FROM plugin_blobs WHERE digest = $1",
            )
            .await?;
        let Some(row) = c.query_opt(&stmt, &[&digest]).await? else {
            return Ok(None);
        };
        Ok(Some(PluginBlob {
            digest: row.try_get(0)?,
            name: row.try_get(1)?,
            version: row.try_get(2)?,
            bytes: row.try_get(3)?,
            signature: row.try_get(4)?,
            installed_at_ms: row.try_get(5)?,
        }))
    }

    pub async fn plugin_versions(&self) -> Result<Vec<PluginVersionInfo>, StoreError> {
        let c = self.pool.get().await?;
        let stmt = c
            .prepare_cached(
                "SELECT digest, name, version, signature IS NOT NULL, installed_at_ms,
                        octet_length(bytes)::bigint
                 FROM plugin_blobs ORDER BY installed_at_ms DESC, digest COLLATE \"C\"",
            )
            .await?;
        c.query(&stmt, &[])
            .await?
            .iter()
            .map(|row| {
                Ok(PluginVersionInfo {
                    digest: row.try_get(0)?,
                    name: row.try_get(1)?,
                    version: row.try_get(2)?,
                    signed: row.try_get(3)?,
                    installed_at_ms: row.try_get(4)?,
                    size: to_u64(row.try_get(5)?),
                })
            })
            .collect()
    }

    pub async fn apply(
        &self,
        writes: Vec<ControlWrite>,
        audit: NewAuditEntry,
    ) -> Result<u64, StoreError> {
        let mut c = self.pool.get().await?;
        // Its deletions of tenants' data wait for writes under way (see
        // `gone_tenants`), then must see what they committed.
        let tx = data_transaction(&mut c).await?;
        // First, so the row lock it takes serializes concurrent changes (from any
        // replica) like SQLite's write lock: the expectations checked below still
        // hold at commit, and each statement after it sees every earlier change.
        let version: i64 = tx
            .query_one(
                "UPDATE control_version SET version = version + 1 WHERE id = 1 RETURNING version",
                &[],
            )
            .await?
            .try_get(0)?;
        for write in writes {
            apply_write(&tx, write).await?;
        }
        insert_audit(&tx, &audit).await?;
        tx.commit().await?;
        Ok(to_u64(version))
    }

    pub async fn record_audit(&self, of: &DataOf, audit: NewAuditEntry) -> Result<(), StoreError> {
        let mut c = self.pool.get().await?;
        let tx = data_transaction(&mut c).await?;
        check_data_of(&tx, of).await?;
        insert_audit(&tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn last_audit_id(
        &self,
        tenant: &str,
        action: &str,
    ) -> Result<Option<u64>, StoreError> {
        let c = self.pool.get().await?;
        let stmt = c
            .prepare_cached("SELECT MAX(id) FROM audit_log WHERE tenant = $1 AND action = $2")
            .await?;
        let id: Option<i64> = c.query_one(&stmt, &[&tenant, &action]).await?.try_get(0)?;
        Ok(id.map(to_u64))
    }

    pub async fn audit_log(
        &self,
        tenant: Option<&str>,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let before = to_i64(before.unwrap_or(u64::MAX));
        let limit = to_i64(limit as u64);
        let c = self.pool.get().await?;
        let stmt = c
            .prepare_cached(
                "SELECT id, at_ms, actor, tenant, action, target, before, after FROM audit_log
                 WHERE ($1::text IS NULL OR tenant = $1::text) AND id < $2
                 ORDER BY id DESC LIMIT $3",
            )
            .await?;
        c.query(&stmt, &[&tenant, &before, &limit])
            .await?
            .iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: to_u64(row.try_get(0)?),
                    at_ms: row.try_get(1)?,
                    entry: NewAuditEntry {
                        actor: row.try_get(2)?,
                        tenant: row.try_get(3)?,
                        action: row.try_get(4)?,
                        target: row.try_get(5)?,
                        before: row.try_get(6)?,
                        after: row.try_get(7)?,
                    },
                })
            })
            .collect()
    }
}

/// Appends `audit` to the audit log within `tx`: with the change it records.
pub(crate) async fn insert_audit(
    tx: &impl GenericClient,
    audit: &NewAuditEntry,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO audit_log (at_ms, actor, tenant, action, target, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &super::now_ms(),
            &audit.actor,
            &audit.tenant,
            &audit.action,
            &audit.target,
            &audit.before,
            &audit.after,
        ],
    )
    .await?;
    Ok(())
}

/// One write of a control change, inside its transaction.
async fn apply_write(tx: &impl GenericClient, write: ControlWrite) -> Result<(), StoreError> {
    match write {
        ControlWrite::PutTenant { id, doc, expected } => {
            let changed = match expected {
                None => {
                    tx.execute(
                        "INSERT INTO tenants (id, doc, revision) VALUES ($1, $2, 1)
                         ON CONFLICT (id) DO NOTHING",
                        &[&id, &doc],
                    )
                    .await?
                }
                Some(revision) => {
                    tx.execute(
                        "UPDATE tenants SET doc = $2, revision = revision + 1
                         WHERE id = $1 AND revision = $3",
                        &[&id, &doc, &to_i64(revision)],
                    )
                    .await?
                }
            };
            if changed == 0 {
                return Err(StoreError::Conflict(match expected {
                    None => format!("tenant '{id}' already exists"),
                    Some(_) => format!("tenant '{id}' was changed or deleted meanwhile"),
                }));
            }
            // Checked here, in the transaction (the control lock is held): a
            // removal may have committed since the document was validated.
            let missing = tx
                .query_opt(
                    "SELECT named #>> '{}' FROM jsonb_path_query($1::text::jsonb, '$.plugins[*].name') AS named
                     WHERE NOT EXISTS (SELECT 1 FROM plugins WHERE name = named #>> '{}')
                     LIMIT 1",
                    &[&doc],
                )
                .await?;
            if let Some(row) = missing {
                let plugin: String = row.try_get(0)?;
                return Err(super::removed_meanwhile(&plugin));
            }
        }
        ControlWrite::DeleteTenant { id, expected } => {
            let removed = tx
                .execute(
                    "DELETE FROM tenants WHERE id = $1 AND revision = $2",
                    &[&id, &to_i64(expected)],
                )
                .await?;
            if removed == 0 {
                return Err(StoreError::Conflict(format!(
                    "tenant '{id}' was changed or deleted meanwhile"
                )));
            }
            // Waits for the writes of events that hold it shared; the ones that
            // come now find it taken, or the tenant gone (see `gone_tenants`).
            tx.execute(
                "SELECT pg_advisory_xact_lock($2, hashtext($1))",
                &[&id, &TENANT_DATA_LOCK],
            )
            .await?;
            for table in super::TENANT_DATA_TABLES {
                tx.execute(&format!("DELETE FROM {table} WHERE tenant = $1"), &[&id])
                    .await?;
            }
        }
        ControlWrite::PutSecret(row) => {
            tx.execute(
                "INSERT INTO tenant_secrets (tenant, plugin, host, header, sealed)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (tenant, plugin, host, header) DO UPDATE SET sealed = excluded.sealed",
                &[
                    &row.tenant,
                    &row.plugin,
                    &row.host,
                    &row.header,
                    &row.sealed,
                ],
            )
            .await?;
        }
        ControlWrite::DeleteSecret {
            tenant,
            plugin,
            host,
            header,
        } => {
            tx.execute(
                "DELETE FROM tenant_secrets
                 WHERE tenant = $1 AND plugin = $2 AND host = $3 AND header = $4",
                &[&tenant, &plugin, &host, &header],
            )
            .await?;
        }
        ControlWrite::PutPluginBlob(blob) => {
            tx.execute(
                "INSERT INTO plugin_blobs (digest, name, version, bytes, signature, installed_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (digest) DO UPDATE
                 SET signature = COALESCE(excluded.signature, plugin_blobs.signature)",
                &[
                    &blob.digest,
                    &blob.name,
                    &blob.version,
                    &blob.bytes,
                    &blob.signature,
                    &blob.installed_at_ms,
                ],
            )
            .await?;
        }
        ControlWrite::RepairPluginBlob { digest, bytes } => {
            let changed = tx
                .execute(
                    "UPDATE plugin_blobs SET bytes = $1 WHERE digest = $2",
                    &[&bytes, &digest],
                )
                .await?;
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
                .query_opt("SELECT active FROM plugins WHERE name = $1", &[&name])
                .await?
                .map(|row| row.try_get(0))
                .transpose()?;
            if current != expected_active {
                return Err(StoreError::Conflict(format!(
                    "plugin '{name}' was changed meanwhile"
                )));
            }
            if active.is_none() {
                let user = tx
                    .query_opt(
                        "SELECT id FROM tenants
                         WHERE jsonb_path_exists(doc::jsonb, '$.plugins[*].name ? (@ == $n)',
                                                 jsonb_build_object('n', $1::text))
                         LIMIT 1",
                        &[&name],
                    )
                    .await?;
                if let Some(row) = user {
                    let tenant: String = row.try_get(0)?;
                    return Err(super::attached_meanwhile(&name, &tenant));
                }
            }
            match active {
                Some(active) => {
                    tx.execute(
                        "INSERT INTO plugins (name, active, previous) VALUES ($1, $2, $3)
                         ON CONFLICT (name) DO UPDATE SET active = excluded.active,
                                                          previous = excluded.previous",
                        &[&name, &active, &previous],
                    )
                    .await?
                }
                None => {
                    tx.execute("DELETE FROM plugins WHERE name = $1", &[&name])
                        .await?
                }
            };
        }
    }
    Ok(())
}

async fn read_control_version(pool: &Pool) -> Result<u64, StoreError> {
    let c = pool.get().await?;
    let stmt = c
        .prepare_cached("SELECT version FROM control_version WHERE id = 1")
        .await?;
    Ok(to_u64(c.query_one(&stmt, &[]).await?.try_get(0)?))
}
