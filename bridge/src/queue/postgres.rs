//! The queue in a PostgreSQL database that several bridge replicas share, with
//! the same semantics as [`super::SqliteQueue`] (the reference).
//!
//! Its tables are prefixed `bridge_`, so the bridge may share the sidecar's
//! database. The schema is migrated like the sidecar's: each step under a
//! transaction-scoped advisory lock, so replicas that start together apply it once.
//!
//! A claim runs in a transaction under another advisory lock: claims are
//! serialized across replicas (one takes a few milliseconds), so two workers can
//! never both see a ticket as free and take two of its jobs out of order, which
//! `FOR UPDATE SKIP LOCKED` on the jobs alone would allow. The work a claim hands
//! out runs in parallel. A write to a claimed batch first locks the claim's row
//! (`FOR SHARE`), so a takeover waits for the write, and a write after a takeover
//! finds the claim gone.
//!
//! The pool, and TLS when the URL asks for it, are [`crossdesk_database`]'s, as
//! the sidecar's.

use std::path::Path;

use crossdesk_database::{Target, describe};
use deadpool_postgres::{Pool, PoolError};
use tokio_postgres::types::ToSql;

use super::{
    Batch, Claim, DeadLetterTally, Finish, JobState, MAX_BATCH, QueueError, QueueStats, QueuedJob,
    Update, now_ms, ticket_key, to_i64, to_u32,
};
use crate::types::Job;

/// A replayed dead letter: due at `$2`, its attempts counted afresh.
const REPLAYED: &str = "state = 'pending', attempts = 0, next_at_ms = $2::BIGINT";

/// A discarded dead letter: finished at `$2`, its row kept until the purge so
/// that its delivery, sent again, is still known as a duplicate.
const DISCARDED: &str = "state = 'done', finished_at_ms = $2::BIGINT,
    last_error = COALESCE(last_error, '') || ' (discarded)'";

/// The dead letters a replay or a discard acts on: all of them (`$1` NULL), or
/// the batch of job `$1` whole, whichever of its jobs it is.
const DEAD_LETTERS_NAMED: &str = "state = 'dead' AND ($1::BIGINT IS NULL OR id = $1
    OR batch_of = $1
    OR id = (SELECT batch_of FROM bridge_jobs WHERE id = $1)
    OR batch_of = (SELECT batch_of FROM bridge_jobs WHERE id = $1))";

/// Connections per bridge process; a call holds one only while it runs.
const MAX_CONNECTIONS: usize = 8;
/// Advisory lock keys (any constants, the same in every bridge version, apart
/// from the sidecar's): "xdbridge" and "xdclaims" in ASCII.
const MIGRATION_LOCK: i64 = 0x7864_6272_6964_6765;
const CLAIM_LOCK: i64 = 0x7864_636c_6169_6d73;

/// The schema, one step per version; a step never changes once released.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE bridge_jobs (
    id             BIGSERIAL PRIMARY KEY,
    endpoint       TEXT NOT NULL,
    delivery_key   TEXT NOT NULL,
    ticket         TEXT NOT NULL,
    agent_reply    BOOLEAN NOT NULL,
    batch_of       BIGINT,
    job            TEXT NOT NULL,
    state          TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at_ms     BIGINT NOT NULL,
    response       TEXT,
    calls_started  INTEGER NOT NULL DEFAULT 0,
    calls_done     INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    created_at_ms  BIGINT NOT NULL,
    finished_at_ms BIGINT,
    UNIQUE (endpoint, delivery_key)
);
CREATE INDEX bridge_jobs_due ON bridge_jobs (state, next_at_ms, id);
CREATE INDEX bridge_jobs_ticket ON bridge_jobs (ticket, state, id);
CREATE INDEX bridge_jobs_batch ON bridge_jobs (batch_of);
CREATE INDEX bridge_jobs_finished ON bridge_jobs (state, finished_at_ms);
CREATE TABLE bridge_ticket_notes (
    endpoint TEXT NOT NULL,
    account  TEXT NOT NULL,
    ticket   TEXT NOT NULL,
    notes    INTEGER NOT NULL,
    PRIMARY KEY (endpoint, account, ticket)
);
CREATE TABLE bridge_ticket_leases (
    ticket   TEXT PRIMARY KEY,
    owner    TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
",
    "
-- When a batch of each noted ticket last finished: the counts of tickets quiet
-- for the retention are purged. Those counted before are taken as active now;
-- the default stays for bridges of the version before, still inserting without
-- it during a rolling upgrade.
ALTER TABLE bridge_ticket_notes ADD COLUMN batch_at_ms BIGINT NOT NULL
    DEFAULT (extract(epoch FROM now()) * 1000)::BIGINT;
CREATE INDEX bridge_ticket_notes_batch_at ON bridge_ticket_notes (batch_at_ms);
",
];

/// The queue in PostgreSQL. Cloning shares the connection pool.
#[derive(Clone)]
pub struct PostgresQueue {
    pool: Pool,
}

impl std::fmt::Debug for PostgresQueue {
    // The pool's own Debug would print the connection settings.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresQueue")
    }
}

impl From<tokio_postgres::Error> for QueueError {
    fn from(e: tokio_postgres::Error) -> QueueError {
        QueueError::Postgres(describe(&e))
    }
}

impl From<PoolError> for QueueError {
    fn from(e: PoolError) -> QueueError {
        QueueError::Postgres(crossdesk_database::describe_pool(&e))
    }
}

const COLUMNS: &str = "id, endpoint, job, state, attempts, response, calls_started, calls_done, \
                       last_error, created_at_ms";

fn row_to_job(row: &tokio_postgres::Row) -> Result<QueuedJob, QueueError> {
    let (mut job, text) = row_fields(row)?;
    job.job = serde_json::from_str(text)?;
    Ok(job)
}

/// The row's columns, its job's text not yet read.
fn row_fields(row: &tokio_postgres::Row) -> Result<(QueuedJob, &str), QueueError> {
    let job = QueuedJob {
        id: row.try_get::<_, i64>(0)?.unsigned_abs(),
        endpoint: row.try_get(1)?,
        job: Job::default(),
        state: JobState::parse(row.try_get(3)?),
        attempts: to_u32(row.try_get::<_, i32>(4)?.into()),
        response: row.try_get(5)?,
        calls_started: to_u32(row.try_get::<_, i32>(6)?.into()),
        calls_done: to_u32(row.try_get::<_, i32>(7)?.into()),
        last_error: row.try_get(8)?,
        created_at_ms: row.try_get(9)?,
    };
    Ok((job, row.try_get(2)?))
}

/// Sends job $1 to the dead-letter list by itself, out of any batch, with the
/// error $2.
const DEAD_ALONE: &str = "UPDATE bridge_jobs SET batch_of = NULL, state = 'dead', last_error = $2,
                                        attempts = attempts + 1
                          WHERE id = $1";

/// Sends a job whose row cannot be read (written by another version, or by
/// hand) to the dead-letter list with the reason, as the SQLite queue does.
async fn bury(
    tx: &deadpool_postgres::Transaction<'_>,
    row: &tokio_postgres::Row,
    error: &QueueError,
) -> Result<(), QueueError> {
    let id: i64 = row.try_get(0)?;
    tracing::error!(
        job = id,
        "an unreadable job goes to the dead-letter list: {error}"
    );
    tx.execute(DEAD_ALONE, &[&id, &format!("unreadable job: {error}")])
        .await?;
    // A lead's members go on alone, as a refused lead's do.
    tx.execute(
        "UPDATE bridge_jobs SET batch_of = NULL WHERE batch_of = $1",
        &[&id],
    )
    .await?;
    Ok(())
}

/// Locks the claim's row for the rest of the transaction, or says it is gone.
async fn holds(tx: &deadpool_postgres::Transaction<'_>, claim: &Claim) -> Result<(), QueueError> {
    let held = tx
        .query_opt(
            "SELECT 1 FROM bridge_ticket_leases WHERE ticket = $1 AND owner = $2 FOR SHARE",
            &[&claim.ticket, &claim.owner],
        )
        .await?;
    match held {
        Some(_) => Ok(()),
        None => Err(QueueError::LeaseLost(claim.ticket.clone())),
    }
}

/// Applies the steps this database has not seen, each in its own transaction.
async fn migrate(pool: &Pool) -> Result<(), QueueError> {
    let mut client = pool.get().await?;
    loop {
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL client_min_messages = warning")
            .await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS bridge_schema_migrations (
                version    INTEGER PRIMARY KEY,
                applied_at BIGINT NOT NULL
            )",
        )
        .await?;
        let applied: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM bridge_schema_migrations",
                &[],
            )
            .await?
            .try_get(0)?;
        let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
        if applied > known {
            return Err(QueueError::Corrupt(format!(
                "the database has bridge schema version {applied}; this bridge knows up to \
                 {known}: upgrade the bridge"
            )));
        }
        let Some(step) = usize::try_from(applied)
            .ok()
            .and_then(|done| MIGRATIONS.get(done))
        else {
            tx.commit().await?;
            return Ok(());
        };
        tx.batch_execute(step).await?;
        tx.execute(
            "INSERT INTO bridge_schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[&applied.saturating_add(1), &now_ms()],
        )
        .await?;
        tx.commit().await?;
    }
}

/// The queue's pool: opens no connection until one is used.
pub(super) fn pool(url: &str, ca_file: Option<&Path>) -> Result<Pool, QueueError> {
    crossdesk_database::pool(&Target {
        url,
        ca_file,
        application_name: "crossdesk-bridge",
        max_connections: MAX_CONNECTIONS,
    })
    .map_err(|e| QueueError::Config(e.to_string()))
}

impl PostgresQueue {
    /// Connects to the database of a `postgres://` URL and brings the bridge's
    /// tables up to date.
    pub async fn connect(url: &str, ca_file: Option<&Path>) -> Result<PostgresQueue, QueueError> {
        let pool = pool(url, ca_file)?;
        migrate(&pool).await?;
        Ok(PostgresQueue { pool })
    }

    pub(super) async fn enqueue(
        &self,
        endpoint: &str,
        job: &Job,
        debounce_ms: u64,
    ) -> Result<bool, QueueError> {
        let text = serde_json::to_string(job)?;
        let ticket = ticket_key(endpoint, job);
        let now = now_ms();
        let client = self.pool.get().await?;
        let added = client
            .execute(
                "INSERT INTO bridge_jobs (endpoint, delivery_key, ticket, agent_reply, job, state,
                                          next_at_ms, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)
                 ON CONFLICT (endpoint, delivery_key) DO NOTHING",
                &[
                    &endpoint,
                    &job.delivery_key,
                    &ticket,
                    &job.agent_reply,
                    &text,
                    &now.saturating_add(to_i64(debounce_ms)),
                    &now,
                ],
            )
            .await?;
        Ok(added == 1)
    }

    pub(super) async fn claim(
        &self,
        owner: &str,
        lease_ms: u64,
        skip: &[String],
        only: Option<&[String]>,
    ) -> Result<Option<Batch>, QueueError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CLAIM_LOCK])
            .await?;
        // Read after the lock: every earlier claim is committed and seen.
        let now = now_ms();
        let found = tx
            .query_opt(
                &format!(
                    "SELECT {COLUMNS}, ticket, agent_reply FROM bridge_jobs j
                     WHERE state = 'pending' AND batch_of IS NULL AND next_at_ms <= $1
                       AND NOT (endpoint = ANY($2::TEXT[]))
                       AND ($3::TEXT[] IS NULL OR endpoint = ANY($3::TEXT[]))
                       AND NOT EXISTS (SELECT 1 FROM bridge_ticket_leases l
                                       WHERE l.ticket = j.ticket AND l.until_ms > $1)
                       AND NOT EXISTS (SELECT 1 FROM bridge_jobs begun
                                       WHERE begun.ticket = j.ticket
                                         AND begun.state = 'pending'
                                         AND begun.calls_started > 0 AND begun.id != j.id
                                         AND (j.calls_started = 0 OR begun.id < j.id))
                     ORDER BY id LIMIT 1"
                ),
                &[&now, &skip, &only],
            )
            .await?;
        let Some(row) = found else {
            return Ok(None);
        };
        let lead = match row_to_job(&row) {
            Ok(lead) => lead,
            Err(e) => {
                bury(&tx, &row, &e).await?;
                tx.commit().await?;
                return Ok(None);
            }
        };
        let ticket: String = row.try_get(10)?;
        let agent_reply: bool = row.try_get(11)?;
        tx.execute(
            "INSERT INTO bridge_ticket_leases (ticket, owner, until_ms) VALUES ($1, $2, $3)
             ON CONFLICT (ticket) DO UPDATE SET owner = EXCLUDED.owner,
                                                until_ms = EXCLUDED.until_ms",
            &[&ticket, &owner, &now.saturating_add(to_i64(lease_ms))],
        )
        .await?;
        let lead_id = to_i64(lead.id);
        let already: i64 = tx
            .query_one(
                "SELECT COUNT(*) FROM bridge_jobs WHERE batch_of = $1",
                &[&lead_id],
            )
            .await?
            .try_get(0)?;
        // A batch whose write-back has begun keeps its members; a new one takes
        // the ticket's other due jobs.
        if already == 0 && !agent_reply && lead.calls_started == 0 {
            tx.execute(
                "UPDATE bridge_jobs SET batch_of = $1 WHERE id IN (
                     SELECT id FROM bridge_jobs
                     WHERE ticket = $2 AND state = 'pending' AND batch_of IS NULL
                       AND NOT agent_reply AND calls_started = 0 AND id > $1
                     ORDER BY id LIMIT $3)",
                &[&lead_id, &ticket, &(MAX_BATCH - 1)],
            )
            .await?;
        }
        let rows = tx
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM bridge_jobs WHERE batch_of = $1 AND state != 'done'
                     ORDER BY id"
                ),
                &[&lead_id],
            )
            .await?;
        let mut members = Vec::with_capacity(rows.len());
        for row in &rows {
            match row_to_job(row) {
                Ok(member) => members.push(member),
                Err(e) => bury(&tx, row, &e).await?,
            }
        }
        tx.commit().await?;
        Ok(Some(Batch {
            lead,
            members,
            claim: Claim {
                ticket,
                owner: owner.to_owned(),
            },
        }))
    }

    pub(super) async fn renew(&self, claim: &Claim, lease_ms: u64) -> Result<(), QueueError> {
        let client = self.pool.get().await?;
        let renewed = client
            .execute(
                "UPDATE bridge_ticket_leases SET until_ms = $3 WHERE ticket = $1 AND owner = $2",
                &[
                    &claim.ticket,
                    &claim.owner,
                    &now_ms().saturating_add(to_i64(lease_ms)),
                ],
            )
            .await?;
        if renewed == 1 {
            Ok(())
        } else {
            Err(QueueError::LeaseLost(claim.ticket.clone()))
        }
    }

    pub(super) async fn release(&self, claim: &Claim) -> Result<(), QueueError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "DELETE FROM bridge_ticket_leases WHERE ticket = $1 AND owner = $2",
                &[&claim.ticket, &claim.owner],
            )
            .await?;
        Ok(())
    }

    pub(super) async fn next_wait_ms(&self) -> Result<Option<i64>, QueueError> {
        let client = self.pool.get().await?;
        let next: Option<i64> = client
            .query_one(
                "SELECT MIN(GREATEST(j.next_at_ms, COALESCE(l.until_ms, 0)))
                 FROM bridge_jobs j LEFT JOIN bridge_ticket_leases l ON l.ticket = j.ticket
                 WHERE j.state = 'pending' AND j.batch_of IS NULL
                   AND NOT EXISTS (SELECT 1 FROM bridge_jobs begun
                                   WHERE begun.ticket = j.ticket
                                     AND begun.state = 'pending'
                                     AND begun.calls_started > 0 AND begun.id != j.id
                                     AND (j.calls_started = 0 OR begun.id < j.id))",
                &[],
            )
            .await?
            .try_get(0)?;
        Ok(next.map(|at| at.saturating_sub(now_ms()).max(0)))
    }

    pub(super) async fn update(
        &self,
        claim: &Claim,
        id: u64,
        update: Update<'_>,
    ) -> Result<(), QueueError> {
        let id = to_i64(id);
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        holds(&tx, claim).await?;
        match update {
            Update::Response(text) => {
                tx.execute(
                    "UPDATE bridge_jobs SET response = $2 WHERE id = $1",
                    &[&id, &text],
                )
                .await?
            }
            Update::Job(text) => {
                tx.execute(
                    "UPDATE bridge_jobs SET job = $2 WHERE id = $1",
                    &[&id, &text],
                )
                .await?
            }
            Update::CallStarted => {
                tx.execute(
                    "UPDATE bridge_jobs SET calls_started = calls_done + 1 WHERE id = $1",
                    &[&id],
                )
                .await?
            }
            Update::CallDone => {
                tx.execute(
                    "UPDATE bridge_jobs SET calls_done = calls_done + 1,
                                            calls_started = calls_done + 1
                     WHERE id = $1",
                    &[&id],
                )
                .await?
            }
            Update::LeaveBatch => {
                tx.execute(
                    "UPDATE bridge_jobs SET batch_of = NULL WHERE id = $1",
                    &[&id],
                )
                .await?
            }
            Update::Refused(error) => tx.execute(DEAD_ALONE, &[&id, &error]).await?,
        };
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn notes_written(
        &self,
        endpoint: &str,
        account: &str,
        ticket: &str,
    ) -> Result<u32, QueueError> {
        let client = self.pool.get().await?;
        let notes: Option<i32> = client
            .query_opt(
                "SELECT notes FROM bridge_ticket_notes
                 WHERE endpoint = $1 AND account = $2 AND ticket = $3",
                &[&endpoint, &account, &ticket],
            )
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        Ok(to_u32(notes.unwrap_or(0).into()))
    }

    pub(super) async fn finish(&self, batch: &Batch, how: Finish<'_>) -> Result<(), QueueError> {
        let id = to_i64(batch.lead.id);
        let Finish {
            state,
            error,
            retry_in_ms,
            wrote_note,
        } = how;
        let now = now_ms();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        holds(&tx, &batch.claim).await?;
        // The batch shares its lead's fate: done together, dead together.
        let params: [&(dyn ToSql + Sync); 5] = [
            &id,
            &state.as_str(),
            &error,
            &now.saturating_add(retry_in_ms),
            &now,
        ];
        tx.execute(
            "UPDATE bridge_jobs SET state = $2, last_error = COALESCE($3, last_error),
                    attempts = attempts + (CASE WHEN $3::TEXT IS NULL THEN 0 ELSE 1 END),
                    next_at_ms = $4,
                    finished_at_ms = CASE WHEN $2 = 'done' THEN $5::BIGINT END
             WHERE id = $1 OR (batch_of = $1 AND $2 != 'pending')",
            &params,
        )
        .await?;
        let counted = match wrote_note {
            true => {
                "INSERT INTO bridge_ticket_notes (endpoint, account, ticket, notes, batch_at_ms)
                 VALUES ($1, $2, $3, 1, $4)
                 ON CONFLICT (endpoint, account, ticket)
                 DO UPDATE SET notes = bridge_ticket_notes.notes + 1,
                               batch_at_ms = excluded.batch_at_ms"
            }
            // A ticket past its share gets no note and stays counted, for as
            // long as its batches go on.
            false => {
                "UPDATE bridge_ticket_notes SET batch_at_ms = $4
                 WHERE endpoint = $1 AND account = $2 AND ticket = $3"
            }
        };
        let target = &batch.lead.job.target;
        tx.execute(
            counted,
            &[
                &batch.lead.endpoint,
                &target.account_id,
                &target.ticket_id,
                &now,
            ],
        )
        .await?;
        tx.execute(
            "DELETE FROM bridge_ticket_leases WHERE ticket = $1 AND owner = $2",
            &[&batch.claim.ticket, &batch.claim.owner],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn stats(&self, now_ms: i64) -> Result<QueueStats, QueueError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT COUNT(*) FILTER (WHERE state = 'pending'),
                        MIN(created_at_ms) FILTER (WHERE state = 'pending'),
                        COUNT(*) FILTER (WHERE state = 'dead')
                 FROM bridge_jobs WHERE state IN ('pending', 'dead')",
                &[],
            )
            .await?;
        let (pending, oldest, dead): (i64, Option<i64>, i64) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        Ok(QueueStats {
            pending: pending.unsigned_abs(),
            dead: dead.unsigned_abs(),
            oldest_pending_ms: oldest.map_or(0, |at| now_ms.saturating_sub(at).max(0)),
        })
    }

    pub(super) async fn page(
        &self,
        state: JobState,
        after: i64,
        limit: i64,
    ) -> Result<Vec<QueuedJob>, QueueError> {
        let client = self.pool.get().await?;
        client
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM bridge_jobs WHERE state = $1 AND id > $2
                     ORDER BY id LIMIT $3"
                ),
                &[&state.as_str(), &after, &limit],
            )
            .await?
            .iter()
            .map(|row| {
                let (job, text) = row_fields(row)?;
                Ok(super::listed(job, text))
            })
            .collect()
    }

    pub(super) async fn replay(&self, ids: Option<Vec<u64>>) -> Result<usize, QueueError> {
        self.on_dead_letters(ids, REPLAYED).await
    }

    pub(super) async fn discard(&self, ids: Option<Vec<u64>>) -> Result<usize, QueueError> {
        self.on_dead_letters(ids, DISCARDED).await
    }

    /// Sets `changes` (which may use `$2`, now) on the dead letters `ids`
    /// names, all in one transaction.
    async fn on_dead_letters(
        &self,
        ids: Option<Vec<u64>>,
        changes: &str,
    ) -> Result<usize, QueueError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let statement = tx
            .prepare(&format!(
                "UPDATE bridge_jobs SET {changes} WHERE {DEAD_LETTERS_NAMED} RETURNING id"
            ))
            .await?;
        let now = now_ms();
        let mut tally = DeadLetterTally::default();
        for id in DeadLetterTally::named(ids) {
            let rows = tx.query(&statement, &[&id.map(to_i64), &now]).await?;
            let acted_on = rows
                .iter()
                .map(|row| row.try_get::<_, i64>(0))
                .collect::<Result<Vec<_>, _>>()?;
            tally.record(id, acted_on);
        }
        // Dropping the transaction rolls it back.
        let total = tally.total()?;
        tx.commit().await?;
        Ok(total)
    }

    pub(super) async fn purge(
        &self,
        before_ms: i64,
        shares: Vec<(String, i64)>,
    ) -> Result<u64, QueueError> {
        let client = self.pool.get().await?;
        let purged = client
            .execute(
                "DELETE FROM bridge_jobs WHERE state = 'done' AND finished_at_ms < $1",
                &[&before_ms],
            )
            .await?;
        client
            .execute(
                "DELETE FROM bridge_ticket_leases WHERE until_ms < $1",
                &[&before_ms],
            )
            .await?;
        for (endpoint, full) in &shares {
            client
                .execute(
                    "DELETE FROM bridge_ticket_notes
                     WHERE endpoint = $1 AND batch_at_ms < $2 AND notes < $3::BIGINT",
                    &[endpoint, &before_ms, full],
                )
                .await?;
        }
        Ok(purged)
    }
}
