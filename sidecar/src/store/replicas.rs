//! The replicas sharing a store, as their heartbeats say: for the pipeline's
//! admission to share tenants' quotas among them.

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

/// The SQLite backend's side.
mod on_sqlite {
    use super::super::sqlite::SqliteStore;
    use super::*;
    use rusqlite::params;

    impl SqliteStore {
        pub async fn heartbeat(
            &self,
            owner: &str,
            now_ms: i64,
            since_ms: i64,
        ) -> Result<u32, StoreError> {
            let owner = owner.to_owned();
            self.with_conn(move |c| {
                c.prepare_cached(
                    "INSERT INTO replicas (owner, seen_at_ms) VALUES (?1, ?2)
                     ON CONFLICT (owner) DO UPDATE SET seen_at_ms = excluded.seen_at_ms",
                )?
                .execute(params![owner, now_ms])?;
                c.prepare_cached("SELECT COUNT(*) FROM replicas WHERE seen_at_ms >= ?1")?
                    .query_row(params![since_ms], |row| row.get::<_, i64>(0))
                    .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            })
            .await
        }

        pub async fn leave(&self, owner: &str) -> Result<(), StoreError> {
            let owner = owner.to_owned();
            self.with_conn(move |c| {
                c.execute("DELETE FROM replicas WHERE owner = ?1", params![owner])
                    .map(drop)
            })
            .await
        }
    }
}

/// The PostgreSQL backend's side.
mod on_postgres {
    use super::super::postgres::PostgresStore;
    use super::*;

    impl PostgresStore {
        pub async fn heartbeat(
            &self,
            owner: &str,
            now_ms: i64,
            since_ms: i64,
        ) -> Result<u32, StoreError> {
            let c = self.pool.get().await?;
            c.execute(
                "INSERT INTO replicas (owner, seen_at_ms) VALUES ($1, $2)
                 ON CONFLICT (owner) DO UPDATE SET seen_at_ms = excluded.seen_at_ms",
                &[&owner, &now_ms],
            )
            .await?;
            let alive: i64 = c
                .query_one(
                    "SELECT COUNT(*) FROM replicas WHERE seen_at_ms >= $1",
                    &[&since_ms],
                )
                .await?
                .try_get(0)?;
            Ok(u32::try_from(alive).unwrap_or(u32::MAX))
        }

        pub async fn leave(&self, owner: &str) -> Result<(), StoreError> {
            let c = self.pool.get().await?;
            c.execute("DELETE FROM replicas WHERE owner = $1", &[&owner])
                .await?;
            Ok(())
        }
    }
}
