//! Persistent storage of the sidecar: the plugins' key-value data, scoped by tenant
//! and plugin, in an embedded SQLite database in the data folder.
//!
//! Every change to a tenant's plugin data bumps that tenant+plugin's *generation*, kept
//! in the same database so that changes made by another process (the CLI importing a
//! translation memory while the server runs) count too. Cached results of a plugin
//! that reads storage are keyed by the generation, so a change invalidates them.
//!
//! SQLite is synchronous; every call runs on tokio's blocking pool so an event's
//! task never stalls a runtime worker. Writes are acknowledged after the
//! transaction commits (WAL journal, `synchronous = FULL`).

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("storage task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("storage lock poisoned")]
    Poisoned,
    #[error("cannot create data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

/// The sidecar's database. Cloning shares the connection.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS plugin_kv (
    tenant TEXT NOT NULL,
    plugin TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  BLOB NOT NULL,
    PRIMARY KEY (tenant, plugin, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS plugin_kv_generation (
    tenant     TEXT NOT NULL,
    plugin     TEXT NOT NULL,
    generation INTEGER NOT NULL,
    PRIMARY KEY (tenant, plugin)
) WITHOUT ROWID;
";

/// Counts a change to a tenant's plugin data; run in the change's transaction.
fn bump_generation(c: &Connection, tenant: &str, plugin: &str) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO plugin_kv_generation (tenant, plugin, generation) VALUES (?1, ?2, 1)
         ON CONFLICT (tenant, plugin) DO UPDATE SET generation = generation + 1",
    )?
    .execute(params![tenant, plugin])
    .map(drop)
}

impl Store {
    /// Opens (creating if needed) `crossdesk.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let conn = Connection::open(data_dir.join("crossdesk.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with_conn<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<R, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().map_err(|_| StoreError::Poisoned)?;
            Ok(f(&mut conn)?)
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

    /// Stores `value` under `key`, replacing what was there. Writing the value a key
    /// already has changes nothing, not even the generation.
    pub async fn kv_put(
        &self,
        tenant: &str,
        plugin: &str,
        key: &str,
        value: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.kv_put_many(tenant, plugin, vec![(key.to_owned(), value)])
            .await
            .map(drop)
    }

    /// Stores every pair in one transaction; returns how many keys changed.
    pub async fn kv_put_many(
        &self,
        tenant: &str,
        plugin: &str,
        pairs: Vec<(String, Vec<u8>)>,
    ) -> Result<usize, StoreError> {
        let (t, p) = (tenant.to_owned(), plugin.to_owned());
        self.with_conn(move |c| {
            let tx = c.transaction()?;
            let mut changed = 0;
            {
                let mut put = tx.prepare_cached(
                    "INSERT INTO plugin_kv (tenant, plugin, key, value) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (tenant, plugin, key) DO UPDATE SET value = excluded.value
                     WHERE value IS NOT excluded.value",
                )?;
                for (key, value) in &pairs {
                    changed += put.execute(params![t, p, key, value])?;
                }
            }
            if changed > 0 {
                bump_generation(&tx, &t, &p)?;
            }
            tx.commit()?;
            Ok(changed)
        })
        .await
    }

    /// Removes `key`; removing a missing key is not an error.
    pub async fn kv_delete(&self, tenant: &str, plugin: &str, key: &str) -> Result<(), StoreError> {
        let (t, p, k) = (tenant.to_owned(), plugin.to_owned(), key.to_owned());
        self.with_conn(move |c| {
            let tx = c.transaction()?;
            let removed = tx
                .prepare_cached("DELETE FROM plugin_kv WHERE tenant=?1 AND plugin=?2 AND key=?3")?
                .execute(params![t, p, k])?;
            if removed > 0 {
                bump_generation(&tx, &t, &p)?;
            }
            tx.commit()
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn kv_is_scoped_and_survives_reopen() {
        let dir = tempdir();
        let store = Store::open(&dir).expect("open");
        store
            .kv_put("a", "p", "k%1", b"one".to_vec())
            .await
            .expect("put");
        store
            .kv_put("a", "p", "k_2", b"two".to_vec())
            .await
            .expect("put");
        store
            .kv_put("b", "p", "k%1", b"other".to_vec())
            .await
            .expect("put");
        assert_eq!(store.kv_get("a", "q", "k%1").await.expect("get"), None);
        assert_eq!(
            store.kv_list("a", "p", "k%", 10).await.expect("list"),
            vec!["k%1".to_owned()]
        );
        drop(store);
        let store = Store::open(&dir).expect("reopen");
        assert_eq!(
            store.kv_get("b", "p", "k%1").await.expect("get"),
            Some(b"other".to_vec())
        );
        store.kv_delete("b", "p", "k%1").await.expect("delete");
        assert_eq!(store.kv_get("b", "p", "k%1").await.expect("get"), None);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn only_real_changes_bump_the_generation() {
        let dir = tempdir();
        let store = Store::open(&dir).expect("open");
        let generation = || store.generation("t", "p");
        assert_eq!(generation().await.expect("gen"), 0);
        store
            .kv_put("t", "p", "k", b"v".to_vec())
            .await
            .expect("put");
        assert_eq!(generation().await.expect("gen"), 1);
        // The same value again is no change.
        store
            .kv_put("t", "p", "k", b"v".to_vec())
            .await
            .expect("put");
        assert_eq!(generation().await.expect("gen"), 1);
        store
            .kv_put("t", "p", "k", b"w".to_vec())
            .await
            .expect("put");
        assert_eq!(generation().await.expect("gen"), 2);
        // Deleting a missing key is no change; deleting a present one is.
        store.kv_delete("t", "p", "missing").await.expect("delete");
        assert_eq!(generation().await.expect("gen"), 2);
        store.kv_delete("t", "p", "k").await.expect("delete");
        assert_eq!(generation().await.expect("gen"), 3);
        // Other tenants and plugins count separately.
        assert_eq!(store.generation("t", "q").await.expect("gen"), 0);
        assert_eq!(store.generation("u", "p").await.expect("gen"), 0);
        // A second connection (another process, such as the CLI) is seen.
        let other = Store::open(&dir).expect("open again");
        let changed = other
            .kv_put_many(
                "t",
                "p",
                vec![("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec())],
            )
            .await
            .expect("put many");
        assert_eq!(changed, 2);
        assert_eq!(generation().await.expect("gen"), 4);
        assert_eq!(
            store.kv_scan("t", "p", "").await.expect("scan"),
            vec![
                ("a".to_owned(), b"1".to_vec()),
                ("b".to_owned(), b"2".to_vec())
            ]
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempdir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "crossdesk-store-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).expect("tempdir");
        dir
    }
}
