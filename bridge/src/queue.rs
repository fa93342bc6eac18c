//! The bridge's durable queue: an SQLite file (`bridge.db`) in the bridge's data
//! folder. A webhook is acknowledged only after its job is committed here, so a
//! crash or a helpdesk outage loses nothing; the same delivery key is queued once,
//! so a redelivered webhook produces one note.
//!
//! A job remembers the sidecar's response once it has it and how many of its
//! write-back calls have succeeded, so a retry neither runs the plugins again nor
//! repeats a call that went through. Jobs that keep failing end in the dead-letter
//! list, from which an admin replays them.
//!
//! Helpdesks cap the updates of one ticket in a short window, so a job waits a
//! debounce delay before it is due, and jobs of the same ticket that are due
//! together form a *batch* written back as one update. The batch is recorded (each
//! member points to its lead), so a retry writes back exactly the same batch.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

use super::types::Job;

/// Why the queue failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("bridge queue: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("bridge queue: {0}")]
    Json(#[from] serde_json::Error),
    #[error("bridge queue task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("bridge queue lock poisoned")]
    Poisoned,
    #[error("cannot create {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

/// What [`Queue::stats`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStats {
    pub pending: u64,
    pub dead: u64,
    /// Age of the oldest waiting job (0 when none waits).
    pub oldest_pending_ms: i64,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Pending,
    Done,
    /// Gave up: in the dead-letter list.
    Dead,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    fn parse(text: &str) -> JobState {
        match text {
            "done" => JobState::Done,
            "dead" => JobState::Dead,
            _ => JobState::Pending,
        }
    }
}

/// A queued job and its progress.
#[derive(Debug, Clone)]
pub struct QueuedJob {
    pub id: u64,
    /// The configured helpdesk endpoint it came from.
    pub endpoint: String,
    pub job: Job,
    pub state: JobState,
    pub attempts: u32,
    /// The sidecar's response (proto3 JSON), once received.
    pub response: Option<String>,
    /// Write-back calls already made.
    pub calls_done: u32,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
}

/// Jobs written back together: the lead, which carries the batch's progress, and
/// the jobs of the same ticket batched with it, oldest first.
#[derive(Debug, Clone)]
pub struct Batch {
    pub lead: QueuedJob,
    pub members: Vec<QueuedJob>,
}

/// Most jobs in one batch.
const MAX_BATCH: i64 = 20;

/// The queue. Cloning shares the connection.
#[derive(Clone)]
pub struct Queue {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

const SCHEMA: &str = "
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

/// The schema's version (`PRAGMA user_version`): 1 since delivery keys are unique
/// per endpoint. Version 0 had them unique across endpoints.
const SCHEMA_VERSION: i64 = 1;

/// Brings a queue written by an earlier version to [`SCHEMA`], in one transaction,
/// keeping every job. A queue at this version is only read: the bridge may have it
/// open already.
fn migrate(conn: &mut Connection) -> Result<(), QueueError> {
    let version = |conn: &Connection| -> rusqlite::Result<i64> {
        conn.pragma_query_value(None, "user_version", |row| row.get(0))
    };
    if version(conn)? >= SCHEMA_VERSION {
        return Ok(());
    }
    // Immediate: the write lock is taken (waiting out the busy timeout) before
    // anything is read, and a second opener finds the work done.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if version(&tx)? < SCHEMA_VERSION {
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
            tx.execute_batch(SCHEMA)?;
            tx.execute_batch("INSERT INTO jobs SELECT * FROM jobs_v0; DROP TABLE jobs_v0;")?;
        } else {
            tx.execute_batch(SCHEMA)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    tx.commit()?;
    Ok(())
}

/// Milliseconds since the Unix epoch (0 before it, saturating far after).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn row_to_job(row: &rusqlite::Row<'_>) -> rusqlite::Result<(QueuedJobRow, String)> {
    Ok((
        QueuedJobRow {
            id: row.get(0)?,
            endpoint: row.get(1)?,
            state: row.get(3)?,
            attempts: row.get(4)?,
            response: row.get(5)?,
            calls_done: row.get(6)?,
            last_error: row.get(7)?,
            created_at_ms: row.get(8)?,
        },
        row.get(2)?,
    ))
}

struct QueuedJobRow {
    id: i64,
    endpoint: String,
    state: String,
    attempts: i64,
    response: Option<String>,
    calls_done: i64,
    last_error: Option<String>,
    created_at_ms: i64,
}

fn finish(row: QueuedJobRow, job: &str) -> Result<QueuedJob, QueueError> {
    Ok(QueuedJob {
        id: row.id.unsigned_abs(),
        endpoint: row.endpoint,
        job: serde_json::from_str(job)?,
        state: JobState::parse(&row.state),
        attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
        response: row.response,
        calls_done: u32::try_from(row.calls_done).unwrap_or(u32::MAX),
        last_error: row.last_error,
        created_at_ms: row.created_at_ms,
    })
}

const COLUMNS: &str =
    "id, endpoint, job, state, attempts, response, calls_done, last_error, created_at_ms";

impl Queue {
    /// Opens (creating) `bridge.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Queue, QueueError> {
        std::fs::create_dir_all(data_dir).map_err(|source| QueueError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let mut conn = Connection::open(data_dir.join("bridge.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(Queue {
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

    /// Queues a job durably, due after `debounce_ms`; returns false when its
    /// delivery key was queued before (a redelivery), which changes nothing.
    pub async fn enqueue(
        &self,
        endpoint: &str,
        job: &Job,
        debounce_ms: u64,
    ) -> Result<bool, QueueError> {
        let text = serde_json::to_string(job)?;
        let ticket = format!(
            "{endpoint}\u{1f}{}\u{1f}{}",
            job.target.account_id, job.target.ticket_id
        );
        let (endpoint, key, agent_reply) = (
            endpoint.to_owned(),
            job.delivery_key.clone(),
            job.agent_reply,
        );
        let debounce = i64::try_from(debounce_ms).unwrap_or(i64::MAX);
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

    /// The oldest pending job that is due, if any (a batch member is due with its
    /// lead, not on its own).
    pub async fn next_due(&self) -> Result<Option<QueuedJob>, QueueError> {
        Ok(self.next_batch().await?.map(|batch| batch.lead))
    }

    /// The oldest due job with the jobs of its ticket batched with it: those it was
    /// batched with before (a retry), or else the ticket's other queued jobs, which
    /// arrived during the lead's debounce delay (agents' replies always go alone).
    pub async fn next_batch(&self) -> Result<Option<Batch>, QueueError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let now = now_ms();
            let found = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS}, ticket, agent_reply FROM jobs
                     WHERE state = 'pending' AND batch_of IS NULL AND next_at_ms <= ?1
                     ORDER BY id LIMIT 1"
                ))?
                .query_row(params![now], |row| {
                    Ok((
                        row_to_job(row)?,
                        row.get::<_, String>(9)?,
                        row.get::<_, bool>(10)?,
                    ))
                })
                .optional()?;
            let Some(((row, job), ticket, agent_reply)) = found else {
                return Ok(None);
            };
            let lead = finish(row, &job)?;
            let lead_id = lead.id as i64;
            let already: i64 = tx.query_row(
                "SELECT COUNT(*) FROM jobs WHERE batch_of = ?1",
                params![lead_id],
                |r| r.get(0),
            )?;
            // A batch whose write-back has begun keeps its members; a new one takes
            // the ticket's other due jobs.
            if already == 0 && !agent_reply && lead.calls_done == 0 {
                tx.execute(
                    "UPDATE jobs SET batch_of = ?1 WHERE id IN (
                         SELECT id FROM jobs
                         WHERE ticket = ?2 AND state = 'pending' AND batch_of IS NULL
                           AND agent_reply = 0 AND calls_done = 0 AND id > ?1
                         ORDER BY id LIMIT ?3)",
                    params![lead_id, ticket, MAX_BATCH - 1],
                )?;
            }
            let members = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM jobs WHERE batch_of = ?1 AND state != 'done'
                     ORDER BY id"
                ))?
                .query_map(params![lead_id], row_to_job)?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .map(|(row, job)| finish(row, &job))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit()?;
            Ok(Some(Batch { lead, members }))
        })
        .await
    }

    /// Milliseconds until the next pending job is due (None: nothing pending).
    pub async fn next_wait_ms(&self) -> Result<Option<i64>, QueueError> {
        self.with(|c| {
            let next: Option<i64> = c.query_row(
                "SELECT MIN(next_at_ms) FROM jobs WHERE state = 'pending' AND batch_of IS NULL",
                [],
                |row| row.get(0),
            )?;
            Ok(next.map(|at| at.saturating_sub(now_ms()).max(0)))
        })
        .await
    }

    /// Records the sidecar's response for a job.
    pub async fn set_response(&self, id: u64, response: &str) -> Result<(), QueueError> {
        let response = response.to_owned();
        self.with(move |c| {
            c.execute(
                "UPDATE jobs SET response = ?2 WHERE id = ?1",
                params![id as i64, response],
            )?;
            Ok(())
        })
        .await
    }

    /// Replaces a job's content (its event, once the customer was looked up).
    pub async fn set_job(&self, id: u64, job: &Job) -> Result<(), QueueError> {
        let json = serde_json::to_string(job)?;
        self.with(move |c| {
            c.execute(
                "UPDATE jobs SET job = ?2 WHERE id = ?1",
                params![id as i64, json],
            )?;
            Ok(())
        })
        .await
    }

    /// How many internal notes the bridge has added to a ticket.
    pub async fn notes_written(
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
            Ok(u32::try_from(notes.unwrap_or(0)).unwrap_or(u32::MAX))
        })
        .await
    }

    /// Counts one more internal note on a ticket.
    pub async fn note_written(
        &self,
        endpoint: &str,
        account: &str,
        ticket: &str,
    ) -> Result<(), QueueError> {
        let key = [endpoint.to_owned(), account.to_owned(), ticket.to_owned()];
        self.with(move |c| {
            c.execute(
                "INSERT INTO ticket_notes (endpoint, account, ticket, notes) VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (endpoint, account, ticket) DO UPDATE SET notes = notes + 1",
                params![key[0], key[1], key[2]],
            )?;
            Ok(())
        })
        .await
    }

    /// Records that one more write-back call of the job went through.
    pub async fn call_done(&self, id: u64) -> Result<(), QueueError> {
        self.with(move |c| {
            c.execute(
                "UPDATE jobs SET calls_done = calls_done + 1 WHERE id = ?1",
                params![id as i64],
            )?;
            Ok(())
        })
        .await
    }

    /// Marks a job done, with the jobs batched with it.
    pub async fn complete(&self, id: u64) -> Result<(), QueueError> {
        self.set_state(id, JobState::Done, None, 0).await
    }

    /// Records a failed attempt: retried after `retry_in_ms`, or dead.
    pub async fn fail(
        &self,
        id: u64,
        error: &str,
        retry_in_ms: Option<i64>,
    ) -> Result<(), QueueError> {
        let state = if retry_in_ms.is_some() {
            JobState::Pending
        } else {
            JobState::Dead
        };
        self.set_state(id, state, Some(error), retry_in_ms.unwrap_or(0))
            .await
    }

    async fn set_state(
        &self,
        id: u64,
        state: JobState,
        error: Option<&str>,
        retry_in_ms: i64,
    ) -> Result<(), QueueError> {
        let error = error.map(str::to_owned);
        self.with(move |c| {
            // The batch shares its lead's fate: done together, dead together.
            c.execute(
                "UPDATE jobs SET state = ?2, last_error = COALESCE(?3, last_error),
                        attempts = attempts + (?3 IS NOT NULL), next_at_ms = ?4
                 WHERE id = ?1 OR (batch_of = ?1 AND ?2 != 'pending')",
                params![
                    id as i64,
                    state.as_str(),
                    error,
                    now_ms().saturating_add(retry_in_ms)
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// How many jobs wait and gave up, and the age of the oldest waiting, at
    /// `now_ms`: what an operator watches.
    pub async fn stats(&self, now_ms: i64) -> Result<QueueStats, QueueError> {
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

    /// Jobs in a state, oldest first.
    pub async fn list(&self, state: JobState) -> Result<Vec<QueuedJob>, QueueError> {
        self.with(move |c| {
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM jobs WHERE state = ?1 ORDER BY id"
                ))?
                .query_map(params![state.as_str()], row_to_job)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(row, job)| finish(row, &job))
                .collect()
        })
        .await
    }

    /// Puts dead jobs back in the queue (all of them, or those with these ids), with
    /// their attempts reset; returns how many.
    pub async fn replay(&self, ids: Option<Vec<u64>>) -> Result<usize, QueueError> {
        self.with(move |c| {
            let tx = c.transaction()?;
            let mut changed: usize = 0;
            {
                // A batch is replayed whole, whichever of its jobs is named.
                let sql = "UPDATE jobs SET state = 'pending', attempts = 0, next_at_ms = ?2
                           WHERE state = 'dead' AND (?1 IS NULL OR id = ?1 OR batch_of = ?1
                                 OR id = (SELECT batch_of FROM jobs WHERE id = ?1)
                                 OR batch_of = (SELECT batch_of FROM jobs WHERE id = ?1))";
                let mut update = tx.prepare(sql)?;
                match ids {
                    None => {
                        changed =
                            changed.saturating_add(update.execute(params![None::<i64>, now_ms()])?)
                    }
                    Some(ids) => {
                        for id in ids {
                            changed = changed.saturating_add(
                                update.execute(params![Some(id as i64), now_ms()])?,
                            );
                        }
                    }
                }
            }
            tx.commit()?;
            Ok(changed)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Target;

    fn job(key: &str) -> Job {
        on_ticket(key, "1", false)
    }

    fn on_ticket(key: &str, ticket: &str, agent_reply: bool) -> Job {
        Job {
            delivery_key: key.into(),
            event_json: "{}".into(),
            target: Target {
                ticket_id: ticket.into(),
                account_id: String::new(),
                ..Default::default()
            },
            agent_reply,
            customer_looked_up: false,
            traceparent: None,
        }
    }

    #[tokio::test]
    async fn a_delivery_key_is_a_redelivery_only_at_the_same_endpoint() {
        let dir = tempfile::tempdir().expect("dir");
        let queue = Queue::open(dir.path()).expect("open");
        assert!(queue.enqueue("shop-a", &job("42"), 0).await.expect("a"));
        assert!(
            queue.enqueue("shop-b", &job("42"), 0).await.expect("b"),
            "another helpdesk's delivery 42 is another job"
        );
        assert!(!queue.enqueue("shop-a", &job("42"), 0).await.expect("again"));
    }

    #[tokio::test]
    async fn stats_count_waiting_and_dead_jobs_and_the_oldest_ones_age() {
        let dir = tempfile::tempdir().expect("dir");
        let queue = Queue::open(dir.path()).expect("open");
        let empty = queue.stats(now_ms()).await.expect("stats");
        assert_eq!(
            (empty.pending, empty.dead, empty.oldest_pending_ms),
            (0, 0, 0)
        );
        let before = now_ms();
        queue.enqueue("shop", &job("1"), 0).await.expect("1");
        queue.enqueue("shop", &job("2"), 0).await.expect("2");
        let later = queue.stats(before + 5_000).await.expect("stats");
        assert_eq!((later.pending, later.dead), (2, 0));
        assert!(
            (4_000..=5_000).contains(&later.oldest_pending_ms),
            "{later:?}"
        );
    }

    /// A queue written before delivery keys were per endpoint keeps its jobs and
    /// gets the new rule.
    #[tokio::test]
    async fn a_queue_of_the_earlier_schema_is_migrated_with_its_jobs() {
        let dir = tempfile::tempdir().expect("dir");
        {
            let conn = Connection::open(dir.path().join("bridge.db")).expect("db");
            let old = SCHEMA
                .replace("    UNIQUE (endpoint, delivery_key)\n", "")
                .replace(
                    "delivery_key  TEXT NOT NULL,",
                    "delivery_key  TEXT NOT NULL UNIQUE,",
                )
                .replace(
                    "created_at_ms INTEGER NOT NULL,",
                    "created_at_ms INTEGER NOT NULL",
                );
            assert_ne!(old, SCHEMA, "the test builds the earlier schema");
            conn.execute_batch(&old).expect("earlier schema");
            conn.execute(
                "INSERT INTO jobs (endpoint, delivery_key, ticket, agent_reply, job, state,
                                   next_at_ms, created_at_ms)
                 VALUES ('shop-a', '42', 't', 0, ?1, 'pending', 0, 0)",
                [serde_json::to_string(&job("42")).expect("json")],
            )
            .expect("a job");
        }
        let queue = Queue::open(dir.path()).expect("open migrates");
        let due = queue
            .next_due()
            .await
            .expect("due")
            .expect("the job survived");
        assert_eq!(due.job.delivery_key, "42");
        assert!(queue.enqueue("shop-b", &job("42"), 0).await.expect("b"));
        assert!(!queue.enqueue("shop-a", &job("42"), 0).await.expect("again"));
        // Opening again changes nothing.
        drop(queue);
        Queue::open(dir.path()).expect("reopen");
    }

    #[tokio::test]
    async fn due_jobs_of_one_ticket_form_one_batch_that_a_retry_keeps() {
        let dir = tempfile::tempdir().expect("dir");
        let queue = Queue::open(dir.path()).expect("open");
        for (key, ticket, reply) in [
            ("a", "1", false),
            ("b", "2", false),
            ("c", "1", false),
            ("d", "1", true),
            ("e", "1", false),
        ] {
            queue
                .enqueue("zd", &on_ticket(key, ticket, reply), 0)
                .await
                .expect("enqueue");
        }
        let batch = queue.next_batch().await.expect("batch").expect("due");
        let keys = |b: &Batch| {
            std::iter::once(&b.lead)
                .chain(&b.members)
                .map(|j| j.job.delivery_key.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(&batch),
            ["a", "c", "e"],
            "ticket 1, agent replies alone"
        );
        let lead = batch.lead.id;
        queue.fail(lead, "503", Some(0)).await.expect("retry");
        // A job of ticket 1 arriving now does not join the batch being retried.
        queue
            .enqueue("zd", &on_ticket("f", "1", false), 0)
            .await
            .expect("enqueue");
        let retried = queue.next_batch().await.expect("batch").expect("due");
        assert_eq!(keys(&retried), ["a", "c", "e"]);
        queue.complete(lead).await.expect("done");
        assert_eq!(queue.list(JobState::Done).await.expect("done").len(), 3);
        let next = queue.next_batch().await.expect("batch").expect("due");
        assert_eq!(keys(&next), ["b"]);
    }

    #[tokio::test]
    async fn a_job_waits_out_its_debounce_delay() {
        let dir = tempfile::tempdir().expect("dir");
        let queue = Queue::open(dir.path()).expect("open");
        queue
            .enqueue("zd", &job("k"), 60_000)
            .await
            .expect("enqueue");
        assert!(queue.next_batch().await.expect("batch").is_none());
        assert!(queue.next_wait_ms().await.expect("wait").expect("pending") > 50_000);
    }

    #[tokio::test]
    async fn a_delivery_is_queued_once_and_survives_reopening() {
        let dir = tempfile::tempdir().expect("dir");
        let queue = Queue::open(dir.path()).expect("open");
        assert!(queue.enqueue("zd", &job("k1"), 0).await.expect("enqueue"));
        assert!(!queue.enqueue("zd", &job("k1"), 0).await.expect("again"));
        drop(queue);
        let queue = Queue::open(dir.path()).expect("reopen");
        let due = queue.next_due().await.expect("due").expect("one job");
        assert_eq!(due.job.delivery_key, "k1");
        assert_eq!(due.state, JobState::Pending);
    }

    #[tokio::test]
    async fn failures_back_off_then_die_and_replay_revives() {
        let dir = tempfile::tempdir().expect("dir");
        let queue = Queue::open(dir.path()).expect("open");
        queue.enqueue("zd", &job("k1"), 0).await.expect("enqueue");
        let id = queue.next_due().await.expect("due").expect("job").id;
        queue.call_done(id).await.expect("progress");
        queue
            .fail(id, "429", Some(60_000))
            .await
            .expect("retry later");
        assert!(
            queue.next_due().await.expect("due").is_none(),
            "not due yet"
        );
        assert!(queue.next_wait_ms().await.expect("wait").expect("pending") > 50_000);
        queue.fail(id, "gone", None).await.expect("dead");
        let dead = queue.list(JobState::Dead).await.expect("dead list");
        assert_eq!(dead.len(), 1);
        assert_eq!((dead[0].attempts, dead[0].calls_done), (2, 1));
        assert_eq!(dead[0].last_error.as_deref(), Some("gone"));
        assert_eq!(queue.replay(None).await.expect("replay"), 1);
        let again = queue.next_due().await.expect("due").expect("job");
        assert_eq!(
            (again.attempts, again.calls_done),
            (0, 1),
            "progress is kept"
        );
        queue.complete(id).await.expect("done");
        assert!(queue.next_due().await.expect("due").is_none());
        assert_eq!(queue.list(JobState::Done).await.expect("done").len(), 1);
    }

    #[tokio::test]
    async fn a_retry_far_in_the_future_neither_panics_nor_blocks_the_queue() {
        let dir = tempfile::tempdir().expect("dir");
        let queue = Queue::open(&dir.path().join("bridge.db")).expect("queue");
        assert!(queue.enqueue("e", &job("far"), 0).await.expect("enqueue"));
        let id = queue.next_due().await.expect("due").expect("job").id;
        queue
            .fail(id, "429", Some(i64::MAX))
            .await
            .expect("recorded, not overflowed");
        assert!(
            queue.next_due().await.expect("due").is_none(),
            "not due for ages"
        );
        // The queue goes on serving.
        assert!(queue.enqueue("e", &job("next"), 0).await.expect("enqueue"));
        let next = queue.next_due().await.expect("due").expect("job");
        assert_eq!(next.job.delivery_key, "next");
    }
}
