//! The bridge's durable queue: an SQLite file (`bridge.db`) in the bridge's data
//! folder, or a PostgreSQL database that several bridge replicas share
//! (`[queue] url`/`url_env`). A webhook is acknowledged only after its job is
//! committed here, so a crash or a helpdesk outage loses nothing; the same
//! delivery key at the same endpoint is queued once, so a redelivered webhook
//! produces one note.
//!
//! A job remembers the sidecar's response once it has it and how many of its
//! write-back calls have begun and succeeded, so a retry neither runs the plugins
//! again nor repeats a call recorded as done. A call that began but was never
//! recorded as done (the worker died during it, or its answer was lost) is made
//! again, unless it added a note that the ticket's recent comments show: a public
//! reply or a ticket update may so reach the helpdesk twice, never zero times.
//! Jobs that keep failing end in the dead-letter list, from which an admin
//! replays them.
//!
//! Helpdesks cap the updates of one ticket in a short window, so a job waits a
//! debounce delay before it is due, and jobs of the same ticket that are due
//! together form a *batch* written back as one update. The batch is recorded (each
//! member points to its lead), so a retry writes back exactly the same batch.
//!
//! Workers, in one bridge or in several, take batches by **claiming the ticket**:
//! a lease on the ticket held until `lease_ms` after its last renewal. A ticket has
//! one worker at a time, which takes its due jobs oldest first; a batch whose
//! write-back has begun holds the ticket's later jobs until it is done or dead. A
//! job waiting for a retry before any of its write-back began holds nothing: a
//! later job of its ticket that falls due first goes back first. A worker that
//! dies leaves its lease to expire and another takes the batch over where it
//! stopped. Every write a worker makes to a batch checks that it still holds the
//! ticket ([`QueueError::LeaseLost`] otherwise), so a worker that stalled past its
//! lease cannot record progress over its successor's.

mod postgres;
mod sqlite;

use std::path::Path;

use secrecy::ExposeSecret;
use serde::Deserialize;

use super::types::Job;
pub use postgres::PostgresQueue;
pub use sqlite::SqliteQueue;

/// Why the queue failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("bridge queue: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("bridge queue: {0}")]
    Postgres(String),
    #[error("bridge queue: {0}")]
    Json(#[from] serde_json::Error),
    #[error("bridge queue task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("cannot create {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("bridge queue: {0}")]
    Config(String),
    /// Another worker holds the ticket now: this one's lease ran out.
    #[error("bridge queue: the claim on ticket {0} was taken over by another worker")]
    LeaseLost(String),
    #[error("bridge queue: {0}")]
    Corrupt(String),
    /// A replay or a discard named jobs that are not dead letters: nothing was
    /// done.
    #[error("no dead letter has the id {}: nothing done (`crossdesk bridge dead-letters` lists them)", join_ids(.0))]
    NotDead(Vec<u64>),
}

fn join_ids(ids: &[u64]) -> String {
    ids.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `[queue]` in the bridge's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    /// A PostgreSQL database shared by the bridge's replicas,
    /// `postgres://user@host:port/database`; prefer `url_env` when it holds a
    /// password. Neither: the SQLite file `bridge.db` in `data_dir` (one bridge).
    #[serde(default)]
    pub url: Option<secrecy::SecretString>,
    /// The environment variable holding the URL.
    #[serde(default)]
    pub url_env: Option<String>,
    /// PEM certificates of the CA that signed the database's certificate, trusted
    /// alone (instead of Mozilla's roots) when the URL says `sslmode=require`.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Batches this bridge writes back at once (each on a different ticket).
    #[serde(default = "default_workers")]
    pub workers: u32,
    /// How long a worker's claim on a ticket lasts without renewal (it renews a
    /// third of the way through): how soon another replica takes over the batch
    /// of a bridge that died.
    #[serde(default = "default_lease_ms")]
    pub lease_ms: u64,
    /// How long finished jobs are kept (and a redelivery of them recognised)
    /// before they are purged. Dead-lettered jobs are kept until replayed, or
    /// discarded (which finishes them).
    #[serde(default = "default_retention_secs")]
    pub retention_secs: u64,
}

fn default_workers() -> u32 {
    4
}
fn default_lease_ms() -> u64 {
    30_000
}
fn default_retention_secs() -> u64 {
    7 * 24 * 3600
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            url: None,
            url_env: None,
            ca_file: None,
            workers: default_workers(),
            lease_ms: default_lease_ms(),
            retention_secs: default_retention_secs(),
        }
    }
}

impl QueueSettings {
    /// Checks the values (not the environment: see [`QueueSettings::url`]).
    pub fn check(&self) -> Result<(), QueueError> {
        if self.workers == 0 {
            return Err(QueueError::Config("queue.workers must be above 0".into()));
        }
        if self.lease_ms < 300 {
            return Err(QueueError::Config(
                "queue.lease_ms must be at least 300 (it is renewed a third of the way)".into(),
            ));
        }
        if self.url.is_some() && self.url_env.is_some() {
            return Err(QueueError::Config(
                "queue: give at most one of `url` and `url_env`".into(),
            ));
        }
        if self.ca_file.is_some() && self.url.is_none() && self.url_env.is_none() {
            return Err(QueueError::Config(
                "queue.ca_file is for a PostgreSQL URL, and there is none (SQLite)".into(),
            ));
        }
        Ok(())
    }

    /// The PostgreSQL URL, when one is configured (read from its variable).
    pub fn url(&self) -> Result<Option<String>, QueueError> {
        match (&self.url, &self.url_env) {
            (None, None) => Ok(None),
            (Some(url), None) => Ok(Some(url.expose_secret().to_owned())),
            (None, Some(var)) => std::env::var(var).map(Some).map_err(|_| {
                QueueError::Config(format!(
                    "queue.url_env: environment variable {var} is not set"
                ))
            }),
            (Some(_), Some(_)) => Err(QueueError::Config(
                "queue: give at most one of `url` and `url_env`".into(),
            )),
        }
    }
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
    /// Write-back calls begun; one more than `calls_done` when a worker died
    /// during a call, which may or may not have reached the helpdesk.
    pub calls_started: u32,
    /// Write-back calls known to have gone through.
    pub calls_done: u32,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
}

/// A worker's hold on a ticket (endpoint, account and ticket id): until its lease
/// runs out, no other worker takes that ticket's jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub ticket: String,
    pub owner: String,
}

/// Jobs written back together: the lead, which carries the batch's progress, and
/// the jobs of the same ticket batched with it, oldest first; claimed by a worker.
#[derive(Debug, Clone)]
pub struct Batch {
    pub lead: QueuedJob,
    pub members: Vec<QueuedJob>,
    pub claim: Claim,
}

/// Most jobs in one batch.
const MAX_BATCH: i64 = 20;

/// A job as a listing shows it: its text read when it can be, else left empty
/// (a job that cannot be read is buried by the next claim that reaches it, its
/// error saying why), so that one such job does not hide the others.
fn listed(mut job: QueuedJob, text: &str) -> QueuedJob {
    if let Ok(read) = serde_json::from_str(text) {
        job.job = read;
    }
    job
}

/// The key of a ticket: jobs with the same key batch together and are claimed
/// together.
fn ticket_key(endpoint: &str, job: &Job) -> String {
    format!(
        "{endpoint}\u{1f}{}\u{1f}{}",
        job.target.account_id, job.target.ticket_id
    )
}

/// What a replay or a discard did to the dead letters it named: each
/// statement runs once per named id (once with `None` for all of them) and
/// acts on that job's batch whole.
#[derive(Default)]
struct DeadLetterTally {
    acted_on: std::collections::BTreeSet<i64>,
    not_dead: Vec<u64>,
}

impl DeadLetterTally {
    /// The ids to run the statement with: each named one, or `None` for all.
    fn named(ids: Option<Vec<u64>>) -> Vec<Option<u64>> {
        match ids {
            None => vec![None],
            Some(ids) => ids.into_iter().map(Some).collect(),
        }
    }

    /// Records the jobs the statement run with `id` acted on.
    fn record(&mut self, id: Option<u64>, acted_on: impl IntoIterator<Item = i64>) {
        self.acted_on.extend(acted_on);
        // Named twice, or with another job of its batch: acted on once.
        if let Some(id) = id.filter(|id| !self.acted_on.contains(&to_i64(*id))) {
            self.not_dead.push(id);
        }
    }

    /// How many jobs were acted on, or the named ids that were no dead letter
    /// (the caller then rolls back).
    fn total(self) -> Result<usize, QueueError> {
        if self.not_dead.is_empty() {
            Ok(self.acted_on.len())
        } else {
            Err(QueueError::NotDead(self.not_dead))
        }
    }
}

/// Milliseconds since the Unix epoch (0 before it, saturating far after).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u32(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// The queue, on the configured backend. Cloning shares the connection(s).
#[derive(Clone, Debug)]
pub enum Queue {
    Sqlite(SqliteQueue),
    Postgres(PostgresQueue),
}

/// Runs the same call on whichever backend the queue has.
macro_rules! on_backend {
    ($queue:expr, $q:ident => $call:expr) => {
        match $queue {
            Queue::Sqlite($q) => $call,
            Queue::Postgres($q) => $call,
        }
    };
}

impl Queue {
    /// Checks `settings` as [`Queue::open`] reads them, without opening anything:
    /// a database's URL parsed and its CA file read.
    pub fn check(settings: &QueueSettings) -> Result<(), QueueError> {
        settings.check()?;
        if let Some(url) = settings.url()? {
            postgres::pool(&url, settings.ca_file.as_deref())?;
        }
        Ok(())
    }

    /// Opens the configured queue: connects to PostgreSQL and brings its schema up
    /// to date, or opens (creating) `bridge.db` in `data_dir`.
    pub async fn open(settings: &QueueSettings, data_dir: &Path) -> Result<Queue, QueueError> {
        settings.check()?;
        match settings.url()? {
            Some(url) => Ok(Queue::Postgres(
                PostgresQueue::connect(&url, settings.ca_file.as_deref()).await?,
            )),
            None => Ok(Queue::Sqlite(SqliteQueue::open(data_dir)?)),
        }
    }

    /// Queues a job durably, due after `debounce_ms`; returns false when its
    /// delivery key was queued before at this endpoint (a redelivery), which
    /// changes nothing.
    pub async fn enqueue(
        &self,
        endpoint: &str,
        job: &Job,
        debounce_ms: u64,
    ) -> Result<bool, QueueError> {
        on_backend!(self, q => q.enqueue(endpoint, job, debounce_ms).await)
    }

    /// Claims, for `owner` and `lease_ms`, the ticket of the oldest due job whose
    /// ticket nobody holds, and returns its batch: those it was batched with before
    /// (a retry or a takeover), or else the ticket's other queued jobs, which
    /// arrived during the lead's debounce delay (agents' replies always go alone).
    ///
    /// A batch whose write-back has begun holds its ticket's other jobs until it
    /// is done or dead, even while it waits to be retried (an earlier job waiting
    /// for its own retry included): no other batch of the ticket finishes in
    /// between, so its retry counts the ticket's notes as its first attempt did
    /// and makes the same calls (the worker skips those done). Of two begun
    /// batches (left by a version that let the earlier one wait), the earlier
    /// goes first.
    ///
    /// Jobs of the endpoints in `skip` are left (one the helpdesk asked to wait,
    /// one already holding this process's other workers): a worker that took
    /// them would wait holding its claim while other helpdesks' jobs queue.
    /// On a shared queue, `only` (when given) names the endpoints this replica
    /// has: one started before an endpoint was added leaves its jobs to the
    /// replicas that have it. A queue of one process takes every endpoint's.
    pub async fn claim(
        &self,
        owner: &str,
        lease_ms: u64,
        skip: &[String],
        only: Option<&[String]>,
    ) -> Result<Option<Batch>, QueueError> {
        match self {
            Queue::Sqlite(q) => q.claim(owner, lease_ms, skip).await,
            Queue::Postgres(q) => q.claim(owner, lease_ms, skip, only).await,
        }
    }

    /// Drops the claims an earlier process left in a queue that only this process
    /// works (SQLite), so a restarted bridge takes its batches up at once. A shared
    /// queue (PostgreSQL) leaves them to run out: their owners may be alive.
    pub async fn drop_stale_claims(&self) -> Result<(), QueueError> {
        match self {
            Queue::Sqlite(q) => q.drop_claims().await,
            Queue::Postgres(_) => Ok(()),
        }
    }

    /// Extends a claim by `lease_ms` from now.
    pub async fn renew(&self, claim: &Claim, lease_ms: u64) -> Result<(), QueueError> {
        on_backend!(self, q => q.renew(claim, lease_ms).await)
    }

    /// Gives a ticket back without finishing its batch (the bridge is stopping).
    pub async fn release(&self, claim: &Claim) -> Result<(), QueueError> {
        on_backend!(self, q => q.release(claim).await)
    }

    /// Whether other bridges may share this queue (PostgreSQL), rather than it
    /// being this process's own (SQLite).
    pub fn is_shared(&self) -> bool {
        matches!(self, Queue::Postgres(_))
    }

    /// Milliseconds until the next pending job may be claimed: it is due and its
    /// ticket's lease, if any, has run out (None: none may be; a job held back
    /// by a begun batch waits for that batch, which a worker is working).
    pub async fn next_wait_ms(&self) -> Result<Option<i64>, QueueError> {
        on_backend!(self, q => q.next_wait_ms().await)
    }

    /// Records the sidecar's response for a job of a claimed batch.
    pub async fn set_response(
        &self,
        claim: &Claim,
        id: u64,
        response: &str,
    ) -> Result<(), QueueError> {
        on_backend!(self, q => q.update(claim, id, Update::Response(response)).await)
    }

    /// Replaces a job's content (its event, once the customer was looked up).
    pub async fn set_job(&self, claim: &Claim, id: u64, job: &Job) -> Result<(), QueueError> {
        let json = serde_json::to_string(job)?;
        on_backend!(self, q => q.update(claim, id, Update::Job(&json)).await)
    }

    /// Records that the job's next write-back call is about to be made.
    pub async fn call_started(&self, claim: &Claim, id: u64) -> Result<(), QueueError> {
        on_backend!(self, q => q.update(claim, id, Update::CallStarted).await)
    }

    /// Takes a job out of the claimed batch, pending: it waits for a later claim
    /// (its lead failed for good, and it should not share that fate).
    pub async fn leave_batch(&self, claim: &Claim, id: u64) -> Result<(), QueueError> {
        on_backend!(self, q => q.update(claim, id, Update::LeaveBatch).await)
    }

    /// Takes a job out of the claimed batch to the dead-letter list with `error`
    /// (the sidecar refused its event for good), so that the rest goes on.
    pub async fn refuse(&self, claim: &Claim, id: u64, error: &str) -> Result<(), QueueError> {
        on_backend!(self, q => q.update(claim, id, Update::Refused(error)).await)
    }

    /// Records that the call begun last went through.
    pub async fn call_done(&self, claim: &Claim, id: u64) -> Result<(), QueueError> {
        on_backend!(self, q => q.update(claim, id, Update::CallDone).await)
    }

    /// How many internal notes the bridge has added to a ticket.
    pub async fn notes_written(
        &self,
        endpoint: &str,
        account: &str,
        ticket: &str,
    ) -> Result<u32, QueueError> {
        on_backend!(self, q => q.notes_written(endpoint, account, ticket).await)
    }

    /// Marks a claimed batch done (counting one more note on its ticket when it
    /// wrote one) and gives the ticket back.
    pub async fn complete(&self, batch: &Batch, wrote_note: bool) -> Result<(), QueueError> {
        let finish = Finish {
            state: JobState::Done,
            error: None,
            retry_in_ms: 0,
            wrote_note,
        };
        on_backend!(self, q => q.finish(batch, finish).await)
    }

    /// Records a failed attempt at a claimed batch: retried after `retry_in_ms`,
    /// or dead; gives the ticket back.
    pub async fn fail(
        &self,
        batch: &Batch,
        error: &str,
        retry_in_ms: Option<i64>,
    ) -> Result<(), QueueError> {
        let finish = Finish {
            state: match retry_in_ms {
                Some(_) => JobState::Pending,
                None => JobState::Dead,
            },
            error: Some(error),
            retry_in_ms: retry_in_ms.unwrap_or(0),
            wrote_note: false,
        };
        on_backend!(self, q => q.finish(batch, finish).await)
    }

    /// How many jobs wait and gave up, and the age of the oldest waiting, at
    /// `now_ms`: what an operator watches.
    pub async fn stats(&self, now_ms: i64) -> Result<QueueStats, QueueError> {
        on_backend!(self, q => q.stats(now_ms).await)
    }

    /// Every job in a state, oldest first (for tests and small queues; see
    /// [`Queue::page`]).
    pub async fn list(&self, state: JobState) -> Result<Vec<QueuedJob>, QueueError> {
        self.page(state, None, u32::MAX).await
    }

    /// At most `limit` jobs in a state, oldest first, from the one after the id
    /// `after` when given: a listing of a long dead-letter list a page at a time.
    pub async fn page(
        &self,
        state: JobState,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<QueuedJob>, QueueError> {
        let after = after.map_or(0, to_i64);
        on_backend!(self, q => q.page(state, after, i64::from(limit)).await)
    }

    /// Puts dead jobs back in the queue (all of them, or those with these ids, a
    /// batch whole), with their attempts reset; returns how many. Named ids that
    /// are not dead letters (a typo, a job replayed already) replay nothing:
    /// [`QueueError::NotDead`].
    pub async fn replay(&self, ids: Option<Vec<u64>>) -> Result<usize, QueueError> {
        on_backend!(self, q => q.replay(ids).await)
    }

    /// Finishes dead jobs an operator will not replay (all of them, or those
    /// with these ids, a batch whole): off the dead-letter list, purged with the
    /// other finished jobs, their deliveries still known as duplicates until
    /// then. Returns how many. Named ids that are not dead letters discard
    /// nothing: [`QueueError::NotDead`].
    pub async fn discard(&self, ids: Option<Vec<u64>>) -> Result<usize, QueueError> {
        on_backend!(self, q => q.discard(ids).await)
    }

    /// Deletes jobs finished before `before_ms`, the claims that ran out then,
    /// and, of the endpoints in `shares` (each with its full share of notes
    /// per ticket), the note counts below that share of tickets no batch has
    /// finished on since; returns how many jobs. A ticket that had its full
    /// share stays counted: counted from 0 again, it would get another share,
    /// and its comments could pass the helpdesk's cap. Counts of endpoints not
    /// in `shares` (another bridge's, on a shared queue) are left alone.
    pub async fn purge(&self, before_ms: i64, shares: &[(&str, u32)]) -> Result<u64, QueueError> {
        let shares: Vec<(String, i64)> = shares
            .iter()
            .map(|(endpoint, full)| ((*endpoint).to_owned(), i64::from(*full)))
            .collect();
        on_backend!(self, q => q.purge(before_ms, shares).await)
    }
}

/// A write to one job of a claimed batch.
#[derive(Debug, Clone, Copy)]
enum Update<'a> {
    Response(&'a str),
    Job(&'a str),
    CallStarted,
    CallDone,
    /// Out of its batch, pending, to be claimed again on its own.
    LeaveBatch,
    /// Out of its batch, dead with this error.
    Refused(&'a str),
}

/// How a claimed batch ends its turn: done, pending again (a retry after
/// `retry_in_ms`) or dead; a failed attempt has an error.
#[derive(Debug, Clone, Copy)]
struct Finish<'a> {
    state: JobState,
    error: Option<&'a str>,
    retry_in_ms: i64,
    /// A note was added to the ticket (counted against its share).
    wrote_note: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let check = |toml: &str| {
            toml::from_str::<QueueSettings>(toml).map(|s| s.check().and_then(|()| s.url()))
        };
        assert!(matches!(check(""), Ok(Ok(None))));
        assert!(matches!(
            check("url = \"postgres://q@h/db\""),
            Ok(Ok(Some(url))) if url == "postgres://q@h/db"
        ));
        assert!(matches!(
            check("workers = 0"),
            Ok(Err(QueueError::Config(_)))
        ));
        assert!(matches!(
            check("lease_ms = 10"),
            Ok(Err(QueueError::Config(_)))
        ));
        assert!(matches!(
            check("url = \"a\"\nurl_env = \"B\""),
            Ok(Err(QueueError::Config(_)))
        ));
        let missing = check("url_env = \"CROSSDESK_TEST_NO_SUCH_VARIABLE\"");
        assert!(
            matches!(&missing, Ok(Err(QueueError::Config(m))) if m.contains("CROSSDESK_TEST_NO_SUCH_VARIABLE")),
            "{missing:?}"
        );
        assert!(check("workerz = 2").is_err(), "unknown keys are refused");
    }
}
