//! Leases on a tenant's customer, for the pipeline's ordering: held by one
//! replica's event at a time, until released or until they end (their holder
//! died).

use super::{Backend, Store, StoreError};

impl Store {
    /// Takes the lease on the customer for `holder` until `until_ms`, unless
    /// another holder's lease is still live at `now_ms`. Whether it was taken.
    pub async fn acquire_lease(
        &self,
        tenant: &str,
        customer: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        dispatch!(self.acquire_lease(tenant, customer, holder, now_ms, until_ms))
    }

    /// Removes the leases that ended before `now_ms`: their holders died before
    /// releasing them (an ended lease is as good as none to
    /// [`Store::acquire_lease`]), and each names a customer, which should not
    /// stay in the store beyond its use. How many.
    pub async fn purge_leases(&self, now_ms: i64) -> Result<u64, StoreError> {
        dispatch!(self.purge_leases(now_ms))
    }

    /// Ends the lease if `holder` still holds it.
    pub async fn release_lease(
        &self,
        tenant: &str,
        customer: &str,
        holder: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self.release_lease(tenant, customer, holder))
    }
}

/// The SQLite backend's side.
mod on_sqlite {
    use super::super::sqlite::SqliteStore;
    use super::*;
    use rusqlite::params;

    impl SqliteStore {
        pub async fn acquire_lease(
            &self,
            tenant: &str,
            customer: &str,
            holder: &str,
            now_ms: i64,
            until_ms: i64,
        ) -> Result<bool, StoreError> {
            let (t, c, h) = (tenant.to_owned(), customer.to_owned(), holder.to_owned());
            self.with_conn(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO customer_leases (tenant, customer, holder, expires_at_ms)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (tenant, customer) DO UPDATE SET
                         holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
                     WHERE customer_leases.expires_at_ms < ?5",
                )?
                .execute(params![t, c, h, until_ms, now_ms])
                .map(|taken| taken == 1)
            })
            .await
        }

        pub async fn purge_leases(&self, now_ms: i64) -> Result<u64, StoreError> {
            self.with_conn(move |conn| {
                conn.execute(
                    "DELETE FROM customer_leases WHERE expires_at_ms < ?1",
                    params![now_ms],
                )
                .map(|purged| purged as u64)
            })
            .await
        }

        pub async fn release_lease(
            &self,
            tenant: &str,
            customer: &str,
            holder: &str,
        ) -> Result<(), StoreError> {
            let (t, c, h) = (tenant.to_owned(), customer.to_owned(), holder.to_owned());
            self.with_conn(move |conn| {
                conn.prepare_cached(
                    "DELETE FROM customer_leases WHERE tenant = ?1 AND customer = ?2 AND holder = ?3",
                )?
                .execute(params![t, c, h])
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
        pub async fn acquire_lease(
            &self,
            tenant: &str,
            customer: &str,
            holder: &str,
            now_ms: i64,
            until_ms: i64,
        ) -> Result<bool, StoreError> {
            let c = self.pool.get().await?;
            let stmt = c
                .prepare_cached(
                    "INSERT INTO customer_leases (tenant, customer, holder, expires_at_ms)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (tenant, customer) DO UPDATE SET
                         holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
                     WHERE customer_leases.expires_at_ms < $5",
                )
                .await?;
            let taken = c
                .execute(&stmt, &[&tenant, &customer, &holder, &until_ms, &now_ms])
                .await?;
            Ok(taken == 1)
        }

        pub async fn purge_leases(&self, now_ms: i64) -> Result<u64, StoreError> {
            let c = self.pool.get().await?;
            Ok(c.execute(
                "DELETE FROM customer_leases WHERE expires_at_ms < $1",
                &[&now_ms],
            )
            .await?)
        }

        pub async fn release_lease(
            &self,
            tenant: &str,
            customer: &str,
            holder: &str,
        ) -> Result<(), StoreError> {
            let c = self.pool.get().await?;
            let stmt = c
                .prepare_cached(
                    "DELETE FROM customer_leases WHERE tenant = $1 AND customer = $2 AND holder = $3",
                )
                .await?;
            c.execute(&stmt, &[&tenant, &customer, &holder]).await?;
            Ok(())
        }
    }
}
