//! The store's side of idempotency: the first response to each (tenant, event id),
//! kept for a time to live so that a redelivery after a restart, or to another
//! replica, gets it back instead of running the plugins again.
//!
//! A record is either a *claim* (a replica is running the event: no response yet,
//! `expires_at_ms` is the claim's lease) or a *response* (`expires_at_ms` is when
//! it may be forgotten). Writes come in batches ([`Store::write_responses`]), each
//! batch one transaction, so that many events share one durable commit.
//!
//! A record belongs to the tenant's incarnation its event ran under
//! ([`EventKey::of`]): a claim, response or release of a tenant deleted since
//! is not written ([`WriteOutcome::TenantGone`]), so that no replica answers a
//! tenant created again under the same id with what its predecessor was
//! answered, nor drops its claims.

use std::sync::Arc;

use super::{Backend, DataOf, Store, StoreError};

/// A record of one event id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// Hash of the event the record answers; another event under the same id is
    /// refused, not answered with this.
    pub event_hash: Vec<u8>,
    /// The replica (process) that claimed or answered it.
    pub owner: String,
    /// The encoded `HandleEventResponse`; `None` while a claim runs.
    pub response: Option<Vec<u8>>,
    pub expires_at_ms: i64,
}

/// Identifies a record: in the store, the tenant's id and the event id; in a
/// process's memory, the tenant's incarnation too, so that a response of a
/// tenant deleted meanwhile never answers one created again under its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventKey {
    /// The tenant, and the incarnation the event runs under (checked when a
    /// claim or a response is written; see [`DataOf`]).
    pub of: Arc<DataOf>,
    pub event_id: String,
}

impl EventKey {
    /// A key of `tenant` whose writes are not checked against the stored tenant.
    pub fn unchecked(tenant: &str, event_id: &str) -> EventKey {
        EventKey {
            of: Arc::new(DataOf::tenant(tenant)),
            event_id: event_id.to_owned(),
        }
    }

    pub fn tenant(&self) -> &str {
        &self.of.tenant
    }
}

/// One write of a batch.
#[derive(Debug, Clone)]
pub enum ResponseWrite {
    /// Claims the event for `owner` until `lease_until_ms`, unless a live record
    /// (a response, or another claim whose lease has not ended) is there.
    Claim {
        key: EventKey,
        event_hash: Vec<u8>,
        owner: String,
        lease_until_ms: i64,
    },
    /// Records the response, unless another owner's live record is there (a claim
    /// of this owner, or none, is replaced).
    Complete {
        key: EventKey,
        event_hash: Vec<u8>,
        owner: String,
        response: Vec<u8>,
        expires_at_ms: i64,
    },
    /// Drops this owner's claim: the event failed, a redelivery may run it.
    Release { key: EventKey, owner: String },
}

impl ResponseWrite {
    fn key(&self) -> &EventKey {
        match self {
            ResponseWrite::Claim { key, .. }
            | ResponseWrite::Complete { key, .. }
            | ResponseWrite::Release { key, .. } => key,
        }
    }

    /// Whose tenant incarnation the write must find stored. A release too: the
    /// claim it would drop may be of the tenant created again under the id, by
    /// the same replica (its owner).
    fn checked_of(&self) -> Option<&Arc<DataOf>> {
        let of = &self.key().of;
        of.incarnation.is_some().then_some(of)
    }
}

/// The distinct tenant incarnations a batch's writes must find stored.
fn checked_tenants(writes: &[ResponseWrite]) -> Vec<Arc<DataOf>> {
    let mut of: Vec<Arc<DataOf>> = writes
        .iter()
        .filter_map(ResponseWrite::checked_of)
        .cloned()
        .collect();
    of.sort_unstable();
    of.dedup();
    of
}

/// What one write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The claim is this owner's.
    Claimed,
    /// A live record was there; the claim was not made.
    Held(StoredResponse),
    /// The response was recorded (`false`: another owner's record was kept).
    Completed(bool),
    Released,
    /// Nothing written: the tenant was deleted (perhaps created again) after the
    /// event began.
    TenantGone,
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Records whose time to live, or lease, had passed.
    pub expired: u64,
    /// The oldest responses removed to bring their bytes under the bound.
    pub over_bound: u64,
}

impl Store {
    /// The live record of an event id (`now_ms` decides what has expired).
    pub async fn response(
        &self,
        key: &EventKey,
        now_ms: i64,
    ) -> Result<Option<StoredResponse>, StoreError> {
        dispatch!(self.response(key, now_ms))
    }

    /// The keys of live responses (not claims), at most `limit`.
    pub async fn response_keys(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<EventKey>, StoreError> {
        dispatch!(self.response_keys(now_ms, limit))
    }

    /// Applies `writes` in order in one transaction, returning one outcome each.
    pub async fn write_responses(
        &self,
        writes: Vec<ResponseWrite>,
        now_ms: i64,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        dispatch!(self.write_responses(writes, now_ms))
    }

    /// Removes expired records, then the responses that expire first until the
    /// stored responses take at most `max_bytes`.
    pub async fn purge_responses(&self, now_ms: i64, max_bytes: u64) -> Result<Purged, StoreError> {
        dispatch!(self.purge_responses(now_ms, max_bytes))
    }
}

/// The SQLite backend's side.
mod on_sqlite {
    use super::super::sqlite::{SqliteStore, check_data_of};
    use super::*;
    use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

    impl SqliteStore {
        pub async fn response(
            &self,
            key: &EventKey,
            now_ms: i64,
        ) -> Result<Option<StoredResponse>, StoreError> {
            fn read(
                c: &Connection,
                key: &EventKey,
                now_ms: i64,
            ) -> rusqlite::Result<Option<StoredResponse>> {
                c.prepare_cached(
                    "SELECT event_hash, owner, response, expires_at_ms FROM event_responses
                     WHERE tenant = ?1 AND event_id = ?2 AND expires_at_ms >= ?3",
                )?
                .query_row(params![key.tenant(), key.event_id, now_ms], stored_response)
                .optional()
            }
            // A lookup by primary key takes microseconds, less than a hop to the
            // blocking pool and back: it runs here, unless the connection is busy.
            if let Some(c) = self.response_reads.try_lock() {
                return Ok(read(&c, key, now_ms)?);
            }
            let key = key.clone();
            Self::on(self.response_reads.clone(), move |c| read(c, &key, now_ms)).await
        }

        pub async fn response_keys(
            &self,
            now_ms: i64,
            limit: usize,
        ) -> Result<Vec<EventKey>, StoreError> {
            let limit = super::super::sqlite::to_i64(limit as u64);
            Self::on(self.responses.clone(), move |c| {
                c.prepare(
                    "SELECT tenant, event_id FROM event_responses
                     WHERE expires_at_ms >= ?1 AND response IS NOT NULL LIMIT ?2",
                )?
                .query_map(params![now_ms, limit], |row| {
                    let (tenant, event_id): (String, String) = (row.get(0)?, row.get(1)?);
                    Ok(EventKey::unchecked(&tenant, &event_id))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await
        }

        pub async fn write_responses(
            &self,
            writes: Vec<ResponseWrite>,
            now_ms: i64,
        ) -> Result<Vec<WriteOutcome>, StoreError> {
            Self::on(self.responses.clone(), move |c| {
                // Immediate: it reads the tenants before it writes, and a deferred
                // transaction that read fails to write once another connection
                // has committed meanwhile.
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let mut gone = Vec::new();
                for of in checked_tenants(&writes) {
                    match check_data_of(&tx, &of) {
                        Ok(()) => {}
                        Err(StoreError::TenantGone(_)) => gone.push(of),
                        Err(e) => return Err(e),
                    }
                }
                let outcomes = writes
                    .into_iter()
                    .map(|write| match write.checked_of() {
                        Some(of) if gone.contains(of) => Ok(WriteOutcome::TenantGone),
                        _ => write_response(&tx, write, now_ms),
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                tx.commit()?;
                Ok(outcomes)
            })
            .await
        }

        pub async fn purge_responses(
            &self,
            now_ms: i64,
            max_bytes: u64,
        ) -> Result<Purged, StoreError> {
            Self::on(self.responses.clone(), move |c| {
                let tx = c.transaction()?;
                let expired = tx.execute(
                    "DELETE FROM event_responses WHERE expires_at_ms < ?1",
                    params![now_ms],
                )?;
                // The newest responses that fit in `max_bytes` stay.
                let over_bound = tx.execute(
                    "DELETE FROM event_responses WHERE rowid IN (
                         SELECT rowid FROM (
                             SELECT rowid, SUM(size) OVER (
                                 ORDER BY expires_at_ms DESC, rowid DESC
                             ) AS kept
                             FROM event_responses WHERE response IS NOT NULL
                         ) WHERE kept > ?1
                     )",
                    params![super::super::sqlite::to_i64(max_bytes)],
                )?;
                tx.commit()?;
                Ok::<_, rusqlite::Error>(Purged {
                    expired: expired as u64,
                    over_bound: over_bound as u64,
                })
            })
            .await
        }
    }

    fn stored_response(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredResponse> {
        Ok(StoredResponse {
            event_hash: row.get(0)?,
            owner: row.get(1)?,
            response: row.get(2)?,
            expires_at_ms: row.get(3)?,
        })
    }

    fn write_response(
        tx: &rusqlite::Transaction<'_>,
        write: ResponseWrite,
        now_ms: i64,
    ) -> rusqlite::Result<WriteOutcome> {
        Ok(match write {
            ResponseWrite::Claim {
                key,
                event_hash,
                owner,
                lease_until_ms,
            } => {
                // Only an expired record gives way (a claim whose replica died, or a
                // response past its time to live).
                let claimed = tx
                    .prepare_cached(
                        "INSERT INTO event_responses
                             (tenant, event_id, event_hash, owner, response, size, expires_at_ms)
                         VALUES (?1, ?2, ?3, ?4, NULL, 0, ?5)
                         ON CONFLICT (tenant, event_id) DO UPDATE SET
                             event_hash = excluded.event_hash, owner = excluded.owner,
                             response = NULL, size = 0, expires_at_ms = excluded.expires_at_ms
                         WHERE event_responses.expires_at_ms < ?6",
                    )?
                    .execute(params![
                        key.tenant(),
                        key.event_id,
                        event_hash,
                        owner,
                        lease_until_ms,
                        now_ms
                    ])?;
                if claimed == 1 {
                    WriteOutcome::Claimed
                } else {
                    tx.prepare_cached(
                        "SELECT event_hash, owner, response, expires_at_ms FROM event_responses
                         WHERE tenant = ?1 AND event_id = ?2",
                    )?
                    .query_row(params![key.tenant(), key.event_id], stored_response)
                    .map(WriteOutcome::Held)?
                }
            }
            ResponseWrite::Complete {
                key,
                event_hash,
                owner,
                response,
                expires_at_ms,
            } => {
                let size = super::super::sqlite::to_i64(response.len() as u64);
                let recorded = tx
                    .prepare_cached(
                        "INSERT INTO event_responses
                             (tenant, event_id, event_hash, owner, response, size, expires_at_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT (tenant, event_id) DO UPDATE SET
                             event_hash = excluded.event_hash, owner = excluded.owner,
                             response = excluded.response, size = excluded.size,
                             expires_at_ms = excluded.expires_at_ms
                         WHERE (event_responses.owner = excluded.owner
                                AND event_responses.response IS NULL)
                            OR event_responses.expires_at_ms < ?8",
                    )?
                    .execute(params![
                        key.tenant(),
                        key.event_id,
                        event_hash,
                        owner,
                        response,
                        size,
                        expires_at_ms,
                        now_ms
                    ])?;
                WriteOutcome::Completed(recorded == 1)
            }
            ResponseWrite::Release { key, owner } => {
                tx.prepare_cached(
                    "DELETE FROM event_responses
                     WHERE tenant = ?1 AND event_id = ?2 AND owner = ?3 AND response IS NULL",
                )?
                .execute(params![key.tenant(), key.event_id, owner])?;
                WriteOutcome::Released
            }
        })
    }
}

/// The PostgreSQL backend's side.
mod on_postgres {
    use super::super::postgres::{PostgresStore, data_transaction, gone_tenants};
    use super::*;
    use deadpool_postgres::GenericClient;

    impl PostgresStore {
        pub async fn response(
            &self,
            key: &EventKey,
            now_ms: i64,
        ) -> Result<Option<StoredResponse>, StoreError> {
            let c = self.pool.get().await?;
            let stmt = c
                .prepare_cached(
                    "SELECT event_hash, owner, response, expires_at_ms FROM event_responses
                     WHERE tenant = $1 AND event_id = $2 AND expires_at_ms >= $3",
                )
                .await?;
            let row = c
                .query_opt(&stmt, &[&key.tenant(), &key.event_id, &now_ms])
                .await?;
            Ok(row.map(|row| stored_response(&row)).transpose()?)
        }

        pub async fn response_keys(
            &self,
            now_ms: i64,
            limit: usize,
        ) -> Result<Vec<EventKey>, StoreError> {
            let c = self.pool.get().await?;
            let rows = c
                .query(
                    "SELECT tenant, event_id FROM event_responses
                     WHERE expires_at_ms >= $1 AND response IS NOT NULL LIMIT $2",
                    &[&now_ms, &super::super::postgres::to_i64(limit as u64)],
                )
                .await?;
            rows.iter()
                .map(|row| {
                    let (tenant, event_id): (String, String) = (row.try_get(0)?, row.try_get(1)?);
                    Ok(EventKey::unchecked(&tenant, &event_id))
                })
                .collect()
        }

        pub async fn write_responses(
            &self,
            writes: Vec<ResponseWrite>,
            now_ms: i64,
        ) -> Result<Vec<WriteOutcome>, StoreError> {
            // Records are locked in key order, so two replicas' batches never
            // deadlock; the tenants' data locks are only tried (`gone_tenants`).
            let mut order: Vec<usize> = (0..writes.len()).collect();
            order.sort_by(|&a, &b| {
                let (a, b) = (writes[a].key(), writes[b].key());
                (a.tenant(), &a.event_id).cmp(&(b.tenant(), &b.event_id))
            });
            let mut c = self.pool.get().await?;
            let tx = data_transaction(&mut c).await?;
            let checked = checked_tenants(&writes);
            let checked: Vec<&DataOf> = checked.iter().map(|of| &**of).collect();
            let gone = gone_tenants(&tx, &checked).await?;
            let mut outcomes = vec![WriteOutcome::Released; writes.len()];
            let mut writes: Vec<Option<ResponseWrite>> = writes.into_iter().map(Some).collect();
            for i in order {
                let Some(write) = writes[i].take() else {
                    continue;
                };
                outcomes[i] = match write.checked_of() {
                    Some(of) if gone.contains(&&**of) => WriteOutcome::TenantGone,
                    _ => write_response(&tx, write, now_ms).await?,
                };
            }
            tx.commit().await?;
            Ok(outcomes)
        }

        pub async fn purge_responses(
            &self,
            now_ms: i64,
            max_bytes: u64,
        ) -> Result<Purged, StoreError> {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            let expired = tx
                .execute(
                    "DELETE FROM event_responses WHERE expires_at_ms < $1",
                    &[&now_ms],
                )
                .await?;
            // The newest responses that fit in `max_bytes` stay. (A sum of BIGINTs is a
            // NUMERIC: cast back to compare with the bound.)
            let over_bound = tx
                .execute(
                    "DELETE FROM event_responses r USING (
                         SELECT tenant, event_id, (SUM(size) OVER (
                             ORDER BY expires_at_ms DESC, tenant DESC, event_id DESC
                         ))::BIGINT AS kept
                         FROM event_responses WHERE response IS NOT NULL
                     ) o
                     WHERE o.kept > $1 AND r.tenant = o.tenant AND r.event_id = o.event_id",
                    &[&super::super::postgres::to_i64(max_bytes)],
                )
                .await?;
            tx.commit().await?;
            Ok(Purged {
                expired,
                over_bound,
            })
        }
    }

    fn stored_response(row: &tokio_postgres::Row) -> Result<StoredResponse, tokio_postgres::Error> {
        Ok(StoredResponse {
            event_hash: row.try_get(0)?,
            owner: row.try_get(1)?,
            response: row.try_get(2)?,
            expires_at_ms: row.try_get(3)?,
        })
    }

    async fn write_response(
        tx: &impl GenericClient,
        write: ResponseWrite,
        now_ms: i64,
    ) -> Result<WriteOutcome, StoreError> {
        Ok(match write {
            ResponseWrite::Claim {
                key,
                event_hash,
                owner,
                lease_until_ms,
            } => {
                // Only an expired record gives way (a claim whose replica died, or a
                // response past its time to live).
                let claim = tx
                    .prepare_cached(
                        "INSERT INTO event_responses
                             (tenant, event_id, event_hash, owner, response, size, expires_at_ms)
                         VALUES ($1, $2, $3, $4, NULL, 0, $5)
                         ON CONFLICT (tenant, event_id) DO UPDATE SET
                             event_hash = excluded.event_hash, owner = excluded.owner,
                             response = NULL, size = 0, expires_at_ms = excluded.expires_at_ms
                         WHERE event_responses.expires_at_ms < $6",
                    )
                    .await?;
                let claimed = tx
                    .execute(
                        &claim,
                        &[
                            &key.tenant(),
                            &key.event_id,
                            &event_hash,
                            &owner,
                            &lease_until_ms,
                            &now_ms,
                        ],
                    )
                    .await?;
                if claimed == 1 {
                    WriteOutcome::Claimed
                } else {
                    let read = tx
                        .prepare_cached(
                            "SELECT event_hash, owner, response, expires_at_ms FROM event_responses
                             WHERE tenant = $1 AND event_id = $2",
                        )
                        .await?;
                    let row = tx.query_one(&read, &[&key.tenant(), &key.event_id]).await?;
                    WriteOutcome::Held(stored_response(&row)?)
                }
            }
            ResponseWrite::Complete {
                key,
                event_hash,
                owner,
                response,
                expires_at_ms,
            } => {
                let size = super::super::postgres::to_i64(response.len() as u64);
                let complete = tx
                    .prepare_cached(
                        "INSERT INTO event_responses
                             (tenant, event_id, event_hash, owner, response, size, expires_at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (tenant, event_id) DO UPDATE SET
                             event_hash = excluded.event_hash, owner = excluded.owner,
                             response = excluded.response, size = excluded.size,
                             expires_at_ms = excluded.expires_at_ms
                         WHERE (event_responses.owner = excluded.owner
                                AND event_responses.response IS NULL)
                            OR event_responses.expires_at_ms < $8",
                    )
                    .await?;
                let recorded = tx
                    .execute(
                        &complete,
                        &[
                            &key.tenant(),
                            &key.event_id,
                            &event_hash,
                            &owner,
                            &response,
                            &size,
                            &expires_at_ms,
                            &now_ms,
                        ],
                    )
                    .await?;
                WriteOutcome::Completed(recorded == 1)
            }
            ResponseWrite::Release { key, owner } => {
                let release = tx
                    .prepare_cached(
                        "DELETE FROM event_responses
                         WHERE tenant = $1 AND event_id = $2 AND owner = $3 AND response IS NULL",
                    )
                    .await?;
                tx.execute(&release, &[&key.tenant(), &key.event_id, &owner])
                    .await?;
                WriteOutcome::Released
            }
        })
    }
}
