//! The queue in an SQLite file (`bridge.db` in the data folder): one bridge
//! process, any number of its workers. Every call runs on the blocking pool with
//! the one connection; a claim is an immediate transaction, so claims are
//! serialized.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    Batch, Claim, DeadLetterTally, Finish, JobState, MAX_BATCH, QueueError, QueueStats, QueuedJob,
    Update, now_ms, ticket_key, to_i64, to_u32,
};
use crate::types::Job;

/// The dead letters a replay or a discard acts on: all of them (`?1` NULL), or
/// the batch of job `?1` whole, whichever of its jobs it is.
const DEAD_LETTERS_NAMED: &str = "state = 'dead' AND (?1 IS NULL OR id = ?1 OR batch_of = ?1
    OR id = (SELECT batch_of FROM jobs WHERE id = ?1)
    OR batch_of = (SELECT batch_of FROM jobs WHERE id = ?1))";

/// A replayed dead letter: due at `?2`, its attempts counted afresh.
const REPLAYED: &str = "state = 'pending', attempts = 0, next_at_ms = ?2";

/// A discarded dead letter: finished at `?2`, its row kept until the purge so
/// that its delivery, sent again, is still known as a duplicate.
const DISCARDED: &str = "state = 'done', finished_at_ms = ?2,
    last_error = COALESCE(last_error, '') || ' (discarded)'";

/// The queue in `bridge.db`. Cloning shares the connection.
#[derive(Clone)]
pub struct SqliteQueue {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteQueue")
    }
}

/// The schema of version 1 (delivery keys unique per endpoint).
const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint      TEXT NOT NULL,
    -- a redelivery is the same key at the same endpoint: two helpdesks may send
    -- the same delivery id
    delivery_key  TEXT NOT NULL,
    -- endpoint, account and ticket: jobs of one ticket batch together
    ticket        TEXT NOT NULL,
    -- agents' replies are written back alone
    agent_reply   INTEGER NOT NULL,
    -- the lead job of the batch this job was written back in
    batch_of      INTEGER,
    job           TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at_ms    INTEGER NOT NULL,
    response      TEXT,
    calls_done    INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (endpoint, delivery_key)
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, next_at_ms, id);
CREATE INDEX IF NOT EXISTS jobs_ticket ON jobs (ticket, state, id);
-- internal notes the bridge has added to each ticket (helpdesks cap comments)
CREATE TABLE IF NOT EXISTS ticket_notes (
    endpoint TEXT NOT NULL,
    account  TEXT NOT NULL,
    ticket   TEXT NOT NULL,
    notes    INTEGER NOT NULL,
    PRIMARY KEY (endpoint, account, ticket)
);
";

/// Version 2: claims on tickets, calls begun, and when a job finished (purge).
const SCHEMA_V2: &str = "
ALTER TABLE jobs ADD COLUMN calls_started INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN finished_at_ms INTEGER;
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (state, finished_at_ms);
CREATE TABLE IF NOT EXISTS ticket_leases (
    ticket   TEXT PRIMARY KEY,
    owner    TEXT NOT NULL,
    until_ms INTEGER NOT NULL
);
";

/// Version 3: when a batch of each noted ticket last finished (the note counts
/// of quiet tickets are purged).
const SCHEMA_V3: &str = "
ALTER TABLE ticket_notes ADD COLUMN batch_at_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS ticket_notes_batch_at ON ticket_notes (batch_at_ms);
";

/// The schema's version (`PRAGMA user_version`). Version 0 had delivery keys
/// unique across endpoints; 1 made them unique per endpoint; 2 added claims;
/// 3 the time of a noted ticket's last batch.
const SCHEMA_VERSION: i64 = 3;

/// Brings a queue written by an earlier version to the current schema, in one
/// transaction, keeping every job. A queue at this version is only read: the
/// bridge may have it open already.
fn migrate(conn: &mut Connection) -> Result<(), QueueError> {
    let version = |conn: &Connection| -> rusqlite::Result<i64> {
        conn.pragma_query_value(None, "user_version", |row| row.get(0))
    };
    let found = version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(too_new(found));
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    // Immediate: the write lock is taken (waiting out the busy timeout) before
    // anything is read, and a second opener finds the work done.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(too_new(found));
    }
    if found < 1 {
        let has_jobs: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs')",
            [],
            |row| row.get(0),
        )?;
        if has_jobs {
            // Version 0. SQLite cannot change a constraint in place: the table is
            // built anew.
            tx.execute_batch(
                "DROP INDEX IF EXISTS jobs_due;
                 DROP INDEX IF EXISTS jobs_ticket;
                 ALTER TABLE jobs RENAME TO jobs_v0;",
            )?;
            tx.execute_batch(SCHEMA_V1)?;
            tx.execute_batch("INSERT INTO jobs SELECT * FROM jobs_v0; DROP TABLE jobs_v0;")?;
        } else {
            tx.execute_batch(SCHEMA_V1)?;
        }
    }
    if found < 2 {
        tx.execute_batch(SCHEMA_V2)?;
        // Jobs finished before version 2 are purged from now on.
        tx.execute(
            "UPDATE jobs SET finished_at_ms = ?1 WHERE state = 'done'",
            params![now_ms()],
        )?;
    }
    if found < 3 {
        tx.execute_batch(SCHEMA_V3)?;
        // Tickets counted before version 3 are taken as active now.
        tx.execute(
            "UPDATE ticket_notes SET batch_at_ms = ?1",
            params![now_ms()],
        )?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

fn too_new(found: i64) -> QueueError {
    QueueError::Corrupt(format!(
        "bridge.db has schema version {found}; this bridge knows up to {SCHEMA_VERSION}: \
         upgrade the bridge"
    ))
}

const COLUMNS: &str = "id, endpoint, job, state, attempts, response, calls_started, calls_done, \
                       last_error, created_at_ms";

fn row_to_job(row: &rusqlite::Row<'_>) -> rusqlite::Result<(QueuedJob, String)> {
    let job = QueuedJob {
        id: row.get::<_, i64>(0)?.unsigned_abs(),
        endpoint: row.get(1)?,
        // Parsed from the text by `finish_row`: bad JSON is not SQLite's error.
        job: Job::default(),
        state: JobState::parse(&row.get::<_, String>(3)?),
        attempts: to_u32(row.get(4)?),
        response: row.get(5)?,
        calls_started: to_u32(row.get(6)?),
        calls_done: to_u32(row.get(7)?),
        last_error: row.get(8)?,
        created_at_ms: row.get(9)?,
    };
    Ok((job, row.get(2)?))
}

fn finish_row((mut job, text): (QueuedJob, String)) -> Result<QueuedJob, QueueError> {
    job.job = serde_json::from_str(&text)?;
    Ok(job)
}

/// Sends job ?1 to the dead-letter list by itself, out of any batch, with the
/// error ?2.
const DEAD_ALONE: &str = "UPDATE jobs SET batch_of = NULL, state = 'dead', last_error = ?2,
                                 attempts = attempts + 1
                          WHERE id = ?1";

/// Sends a job whose text cannot be read (written by another version, or by
/// hand) to the dead-letter list with the reason, rather than let it stop every
/// claim that reaches it. Replayed, it is read again.
fn bury(tx: &rusqlite::Transaction<'_>, id: u64, error: &QueueError) -> Result<(), QueueError> {
    tracing::error!(
        job = id,
        "an unreadable job goes to the dead-letter list: {error}"
    );
    tx.execute(
        DEAD_ALONE,
        params![to_i64(id), format!("unreadable job: {error}")],
    )?;
    // A lead's members go on alone, as a refused lead's do.
    tx.execute(
        "UPDATE jobs SET batch_of = NULL WHERE batch_of = ?1",
        params![to_i64(id)],
    )?;
    Ok(())
}

/// Whether `claim` still holds its ticket; run in the transaction of the write it
/// guards (SQLite transactions are serialized, so nobody takes it meanwhile).
fn holds(tx: &rusqlite::Transaction<'_>, claim: &Claim) -> Result<(), QueueError> {
    let held = tx
        .prepare_cached("SELECT 1 FROM ticket_leases WHERE ticket = ?1 AND owner = ?2")?
        .exists(params![claim.ticket, claim.owner])?;
    if held {
        Ok(())
    } else {
        Err(QueueError::LeaseLost(claim.ticket.clone()))
    }
}

impl SqliteQueue {
    /// Opens (creating) `bridge.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<SqliteQueue, QueueError> {
        std::fs::create_dir_all(data_dir).map_err(|source| QueueError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let mut conn = Connection::open(data_dir.join("bridge.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(SqliteQueue {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, QueueError> + Send + 'static,
    ) -> Result<R, QueueError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A call that panicked cannot have left a transaction open (rusqlite
            // rolls back on drop), so the connection stays usable: recover it
            // rather than answer every later delivery with an error.
            let mut conn = conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut conn)
        })
        .await?
    }

    pub(super) async fn enqueue(
        &self,
        endpoint: &str,
        job: &Job,
        debounce_ms: u64,
    ) -> Result<bool, QueueError> {
        let text = serde_json::to_string(job)?;
        let ticket = ticket_key(endpoint, job);
        let (endpoint, key, agent_reply) = (
            endpoint.to_owned(),
            job.delivery_key.clone(),
            job.agent_reply,
        );
        let debounce = to_i64(debounce_ms);
        self.with(move |c| {
            let now = now_ms();
            let added = c.execute(
                "INSERT INTO jobs (endpoint, delivery_key, ticket, agent_reply, job, state,
                                   next_at_ms, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)
                 ON CONFLICT (endpoint, delivery_key) DO NOTHING",
                params![
                    endpoint,
                    key,
                    ticket,
                    agent_reply,
                    text,
                    now.saturating_add(debounce),
                    now
                ],
            )?;
            Ok(added == 1)
        })
        .await
    }

    pub(super) async fn claim(
        &self,
        owner: &str,
        lease_ms: u64,
        skip: &[String],
    ) -> Result<Option<Batch>, QueueError> {
        let owner = owner.to_owned();
        let skip = serde_json::to_string(skip)?;
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_ms();
            let found = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS}, ticket, agent_reply FROM jobs
                     WHERE state = 'pending' AND batch_of IS NULL AND next_at_ms <= ?1
                       AND endpoint NOT IN (SELECT value FROM json_each(?2))
                       AND NOT EXISTS (SELECT 1 FROM ticket_leases l
                                       WHERE l.ticket = jobs.ticket AND l.until_ms > ?1)
                       AND NOT EXISTS (SELECT 1 FROM jobs begun
                                       WHERE begun.ticket = jobs.ticket
                                         AND begun.state = 'pending'
                                         AND begun.calls_started > 0 AND begun.id != jobs.id
                                         AND (jobs.calls_started = 0 OR begun.id < jobs.id))
                     ORDER BY id LIMIT 1"
                ))?
                .query_row(params![now, skip], |row| {
                    Ok((
                        row_to_job(row)?,
                        row.get::<_, String>(10)?,
                        row.get::<_, bool>(11)?,
                    ))
                })
                .optional()?;
            let Some((lead, ticket, agent_reply)) = found else {
                return Ok(None);
            };
            let id = lead.0.id;
            let lead = match finish_row(lead) {
                Ok(lead) => lead,
                Err(e) => {
                    bury(&tx, id, &e)?;
                    tx.commit()?;
                    return Ok(None);
                }
            };
            tx.execute(
                "INSERT INTO ticket_leases (ticket, owner, until_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (ticket) DO UPDATE SET owner = excluded.owner,
                                                    until_ms = excluded.until_ms",
                params![ticket, owner, now.saturating_add(to_i64(lease_ms))],
            )?;
            let lead_id = to_i64(lead.id);
            let already: i64 = tx.query_row(
                "SELECT COUNT(*) FROM jobs WHERE batch_of = ?1",
                params![lead_id],
                |r| r.get(0),
            )?;
            // A batch whose write-back has begun keeps its members; a new one takes
            // the ticket's other due jobs.
            if already == 0 && !agent_reply && lead.calls_started == 0 {
                tx.execute(
                    "UPDATE jobs SET batch_of = ?1 WHERE id IN (
                         SELECT id FROM jobs
                         WHERE ticket = ?2 AND state = 'pending' AND batch_of IS NULL
                           AND agent_reply = 0 AND calls_started = 0 AND id > ?1
                         ORDER BY id LIMIT ?3)",
                    params![lead_id, ticket, MAX_BATCH - 1],
                )?;
            }
            let rows = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM jobs WHERE batch_of = ?1 AND state != 'done'
                     ORDER BY id"
                ))?
                .query_map(params![lead_id], row_to_job)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut members = Vec::with_capacity(rows.len());
            for row in rows {
                let id = row.0.id;
                match finish_row(row) {
                    Ok(member) => members.push(member),
                    Err(e) => bury(&tx, id, &e)?,
                }
            }
            tx.commit()?;
            Ok(Some(Batch {
                lead,
                members,
                claim: Claim { ticket, owner },
            }))
        })
        .await
    }

    pub(super) async fn drop_claims(&self) -> Result<(), QueueError> {
        self.with(|c| {
            c.execute("DELETE FROM ticket_leases", [])?;
            Ok(())
        })
        .await
    }

    pub(super) async fn renew(&self, claim: &Claim, lease_ms: u64) -> Result<(), QueueError> {
        let claim = claim.clone();
        self.with(move |c| {
            let renewed = c.execute(
                "UPDATE ticket_leases SET until_ms = ?3 WHERE ticket = ?1 AND owner = ?2",
                params![
                    claim.ticket,
                    claim.owner,
                    now_ms().saturating_add(to_i64(lease_ms))
                ],
            )?;
            if renewed == 1 {
                Ok(())
            } else {
                Err(QueueError::LeaseLost(claim.ticket))
            }
        })
        .await
    }

    pub(super) async fn release(&self, claim: &Claim) -> Result<(), QueueError> {
        let claim = claim.clone();
        self.with(move |c| {
            c.execute(
                "DELETE FROM ticket_leases WHERE ticket = ?1 AND owner = ?2",
                params![claim.ticket, claim.owner],
            )?;
            Ok(())
        })
        .await
    }

    pub(super) async fn next_wait_ms(&self) -> Result<Option<i64>, QueueError> {
        self.with(|c| {
            let next: Option<i64> = c.query_row(
                "SELECT MIN(MAX(j.next_at_ms, COALESCE(l.until_ms, 0)))
                 FROM jobs j LEFT JOIN ticket_leases l ON l.ticket = j.ticket
                 WHERE j.state = 'pending' AND j.batch_of IS NULL
                   AND NOT EXISTS (SELECT 1 FROM jobs begun
                                   WHERE begun.ticket = j.ticket
                                     AND begun.state = 'pending'
                                     AND begun.calls_started > 0 AND begun.id != j.id
                                     AND (j.calls_started = 0 OR begun.id < j.id))",
                [],
                |row| row.get(0),
            )?;
            Ok(next.map(|at| at.saturating_sub(now_ms()).max(0)))
        })
        .await
    }

    pub(super) async fn update(
        &self,
        claim: &Claim,
        id: u64,
        update: Update<'_>,
    ) -> Result<(), QueueError> {
        let claim = claim.clone();
        let (sql, text) = match update {
            Update::Response(text) => (
                "UPDATE jobs SET response = ?2 WHERE id = ?1",
                Some(text.to_owned()),
            ),
            Update::Job(text) => (
                "UPDATE jobs SET job = ?2 WHERE id = ?1",
                Some(text.to_owned()),
            ),
            Update::CallStarted => (
                "UPDATE jobs SET calls_started = calls_done + 1 WHERE id = ?1",
                None,
            ),
            Update::CallDone => (
                "UPDATE jobs SET calls_done = calls_done + 1, calls_started = calls_done + 1
                 WHERE id = ?1",
                None,
            ),
            Update::LeaveBatch => ("UPDATE jobs SET batch_of = NULL WHERE id = ?1", None),
            Update::Refused(error) => (DEAD_ALONE, Some(error.to_owned())),
        };
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            holds(&tx, &claim)?;
            match text {
                Some(text) => tx.execute(sql, params![to_i64(id), text])?,
                None => tx.execute(sql, params![to_i64(id)])?,
            };
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(super) async fn notes_written(
        &self,
        endpoint: &str,
        account: &str,
        ticket: &str,
    ) -> Result<u32, QueueError> {
        let key = [endpoint.to_owned(), account.to_owned(), ticket.to_owned()];
        self.with(move |c| {
            let notes: Option<i64> = c
                .query_row(
                    "SELECT notes FROM ticket_notes WHERE endpoint = ?1 AND account = ?2 AND ticket = ?3",
                    params![key[0], key[1], key[2]],
                    |row| row.get(0),
                )
                .optional()?;
            Ok(to_u32(notes.unwrap_or(0)))
        })
        .await
    }

    pub(super) async fn finish(&self, batch: &Batch, how: Finish<'_>) -> Result<(), QueueError> {
        let claim = batch.claim.clone();
        let id = to_i64(batch.lead.id);
        let endpoint = batch.lead.endpoint.clone();
        let target = batch.lead.job.target.clone();
        let Finish {
            state,
            error,
            retry_in_ms,
            wrote_note,
        } = how;
        let error = error.map(str::to_owned);
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            holds(&tx, &claim)?;
            let now = now_ms();
            // The batch shares its lead's fate: done together, dead together.
            tx.execute(
                "UPDATE jobs SET state = ?2, last_error = COALESCE(?3, last_error),
                        attempts = attempts + (?3 IS NOT NULL), next_at_ms = ?4,
                        finished_at_ms = CASE WHEN ?2 = 'done' THEN ?5 END
                 WHERE id = ?1 OR (batch_of = ?1 AND ?2 != 'pending')",
                params![
                    id,
                    state.as_str(),
                    error,
                    now.saturating_add(retry_in_ms),
                    now
                ],
            )?;
            let counted = match wrote_note {
                true => {
                    "INSERT INTO ticket_notes (endpoint, account, ticket, notes, batch_at_ms)
                     VALUES (?1, ?2, ?3, 1, ?4)
                     ON CONFLICT (endpoint, account, ticket)
                     DO UPDATE SET notes = notes + 1, batch_at_ms = excluded.batch_at_ms"
                }
                // A ticket past its share gets no note and stays counted, for as
                // long as its batches go on.
                false => {
                    "UPDATE ticket_notes SET batch_at_ms = ?4
                     WHERE endpoint = ?1 AND account = ?2 AND ticket = ?3"
                }
            };
            tx.execute(
                counted,
                params![endpoint, target.account_id, target.ticket_id, now],
            )?;
            tx.execute(
                "DELETE FROM ticket_leases WHERE ticket = ?1 AND owner = ?2",
                params![claim.ticket, claim.owner],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(super) async fn stats(&self, now_ms: i64) -> Result<QueueStats, QueueError> {
        self.with(move |c| {
            let (pending, oldest): (i64, Option<i64>) = c
                .prepare_cached(
                    "SELECT COUNT(*), MIN(created_at_ms) FROM jobs WHERE state = 'pending'",
                )?
                .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            let dead: i64 = c
                .prepare_cached("SELECT COUNT(*) FROM jobs WHERE state = 'dead'")?
                .query_row([], |row| row.get(0))?;
            Ok(QueueStats {
                pending: pending.unsigned_abs(),
                dead: dead.unsigned_abs(),
                oldest_pending_ms: oldest.map_or(0, |at| now_ms.saturating_sub(at).max(0)),
            })
        })
        .await
    }

    pub(super) async fn page(
        &self,
        state: JobState,
        after: i64,
        limit: i64,
    ) -> Result<Vec<QueuedJob>, QueueError> {
        self.with(move |c| {
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM jobs WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
                ))?
                .query_map(params![state.as_str(), after, limit], row_to_job)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows
                .into_iter()
                .map(|(job, text)| super::listed(job, &text))
                .collect())
        })
        .await
    }

    pub(super) async fn replay(&self, ids: Option<Vec<u64>>) -> Result<usize, QueueError> {
        self.on_dead_letters(ids, REPLAYED).await
    }

    pub(super) async fn discard(&self, ids: Option<Vec<u64>>) -> Result<usize, QueueError> {
        self.on_dead_letters(ids, DISCARDED).await
    }

    /// Sets `changes` (which may use `?2`, now) on the dead letters `ids`
    /// names, all in one transaction.
    async fn on_dead_letters(
        &self,
        ids: Option<Vec<u64>>,
        changes: &'static str,
    ) -> Result<usize, QueueError> {
        self.with(move |c| {
            let tx = c.transaction()?;
            let total = {
                let mut update = tx.prepare(&format!(
                    "UPDATE jobs SET {changes} WHERE {DEAD_LETTERS_NAMED} RETURNING id"
                ))?;
                let now = now_ms();
                let mut tally = DeadLetterTally::default();
                for id in DeadLetterTally::named(ids) {
                    let rows = update.query_map(params![id.map(to_i64), now], |row| row.get(0))?;
                    tally.record(id, rows.collect::<Result<Vec<_>, _>>()?);
                }
                tally.total()?
            };
            tx.commit()?;
            Ok(total)
        })
        .await
    }

    pub(super) async fn purge(
        &self,
        before_ms: i64,
        shares: Vec<(String, i64)>,
    ) -> Result<u64, QueueError> {
        self.with(move |c| {
            let purged = c.execute(
                "DELETE FROM jobs WHERE state = 'done' AND finished_at_ms < ?1",
                params![before_ms],
            )?;
            c.execute(
                "DELETE FROM ticket_leases WHERE until_ms < ?1",
                params![before_ms],
            )?;
            for (endpoint, full) in &shares {
                c.prepare_cached(
                    "DELETE FROM ticket_notes
                     WHERE endpoint = ?1 AND batch_at_ms < ?2 AND notes < ?3",
                )?
                .execute(params![endpoint, before_ms, full])?;
            }
            Ok(u64::try_from(purged).unwrap_or(u64::MAX))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Target;

    fn job(key: &str) -> Job {
        Job {
            delivery_key: key.into(),
            event_json: "{}".into(),
            target: Target {
                ticket_id: "1".into(),
                ..Default::default()
            },
            agent_reply: false,
            customer_looked_up: false,
            traceparent: None,
        }
    }

    /// A queue written before delivery keys were per endpoint keeps its jobs and
    /// gets the new rule, the claims of version 2, and its tickets' note counts,
    /// taken as written at the upgrade (version 3).
    #[tokio::test]
    async fn a_queue_of_the_earliest_schema_is_migrated_with_its_jobs() {
        let dir = tempfile::tempdir().expect("dir");
        {
            let conn = Connection::open(dir.path().join("bridge.db")).expect("db");
            let old = SCHEMA_V1
                .replace("    UNIQUE (endpoint, delivery_key)\n", "")
                .replace(
                    "delivery_key  TEXT NOT NULL,",
                    "delivery_key  TEXT NOT NULL UNIQUE,",
                )
                .replace(
                    "created_at_ms INTEGER NOT NULL,",
                    "created_at_ms INTEGER NOT NULL",
                );
            assert_ne!(old, SCHEMA_V1, "the test builds the earlier schema");
            conn.execute_batch(&old).expect("earlier schema");
            conn.execute(
                "INSERT INTO jobs (endpoint, delivery_key, ticket, agent_reply, job, state,
                                   next_at_ms, created_at_ms)
                 VALUES ('shop-a', '42', 't', 0, ?1, 'pending', 0, 0)",
                [serde_json::to_string(&job("42")).expect("json")],
            )
            .expect("a job");
            conn.execute(
                "INSERT INTO ticket_notes (endpoint, account, ticket, notes)
                 VALUES ('shop-a', '', 't', 7)",
                [],
            )
            .expect("a note count");
        }
        let queue = SqliteQueue::open(dir.path()).expect("open migrates");
        let an_hour_ago = now_ms().saturating_sub(3_600_000);
        let shares = vec![("shop-a".to_owned(), i64::MAX)];
        queue.purge(an_hour_ago, shares).await.expect("purge");
        assert_eq!(
            queue.notes_written("shop-a", "", "t").await.expect("notes"),
            7,
            "counted before the upgrade, kept for the retention"
        );
        let batch = queue
            .claim("w", 1_000, &[])
            .await
            .expect("claim")
            .expect("the job survived");
        assert_eq!(batch.lead.job.delivery_key, "42");
        assert!(queue.enqueue("shop-b", &job("42"), 0).await.expect("b"));
        assert!(!queue.enqueue("shop-a", &job("42"), 0).await.expect("again"));
        // Opening again changes nothing.
        drop(queue);
        SqliteQueue::open(dir.path()).expect("reopen");
    }

    #[tokio::test]
    async fn a_queue_of_a_later_version_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        {
            let conn = Connection::open(dir.path().join("bridge.db")).expect("db");
            conn.pragma_update(None, "user_version", 0)
                .expect("version");
            conn.execute_batch("CREATE TABLE jobs (id INTEGER PRIMARY KEY);")
                .expect("a table");
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .expect("version");
        }
        let refused = SqliteQueue::open(dir.path());
        assert!(
            matches!(&refused, Err(QueueError::Corrupt(m)) if m.contains("upgrade the bridge")),
            "{refused:?}"
        );
    }
}
