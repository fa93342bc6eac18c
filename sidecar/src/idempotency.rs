//! Idempotency: the plugins run once per (tenant, event id), and a redelivery of
//! the event gets the first response back, marked `replayed`.
//!
//! Two layers. In memory (moka, bounded in bytes), concurrent deliveries to this
//! process wait for the first one's result. In the store (when `durable`, the
//! default), the response outlives a restart and is seen by every replica sharing
//! the store:
//! - on a store only this process uses (SQLite), a delivery looks for a recorded
//!   response, runs the plugins when there is none, and records what they answered;
//! - on a shared store (PostgreSQL), a delivery first *claims* the event id for a
//!   lease; a replica that finds another's live claim waits for its response (or
//!   for the lease to end, when that replica died), so concurrent deliveries to
//!   two replicas run the plugins once. The lease is the request deadline
//!   (`server.request_timeout_ms`): no event runs longer.
//!
//! Store writes go through one task that commits whatever has queued up meanwhile
//! in a single transaction (group commit): under load, many events share one
//! durable commit instead of paying one each.
//!
//! A response is returned only after it is recorded, or after recording it failed
//! (logged): the plugins have run and their actions are the helpdesk's to apply,
//! and an error instead would make the helpdesk deliver it again.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use prost::Message;
use tokio::sync::{mpsc, oneshot};

use crate::config::IdempotencySettings;
use crate::pb;
use crate::pipeline::PipelineError;
use crate::store::{EventKey, ResponseWrite, Store, StoredResponse, WriteOutcome};

/// Writes committed together at most; more wait for the next transaction.
const MAX_BATCH: usize = 512;
/// Writes waiting for the committing task at most; senders wait beyond it.
const QUEUE: usize = 4096;
/// How often expired records are purged from the store.
const PURGE_EVERY: Duration = Duration::from_secs(60);
/// A replica waiting for another's claim checks again after this, doubling…
const FIRST_WAIT: Duration = Duration::from_millis(5);
/// …up to this.
const LONGEST_WAIT: Duration = Duration::from_millis(250);

/// A response, with the hash of the event it answered.
struct Recorded {
    event_hash: [u8; 32],
    response: pb::HandleEventResponse,
    /// Found in the store rather than produced by this delivery's run.
    from_store: bool,
}

/// The remembered responses.
pub(crate) struct Responses {
    memory: Cache<EventKey, Arc<Recorded>>,
    durable: Option<Durable>,
}

/// The store's layer, with the task that commits its writes.
struct Durable {
    store: Store,
    writes: mpsc::Sender<Job>,
    /// Who this process is in claims: random per process.
    owner: String,
    /// Claim before running: the store is shared with other replicas.
    claims: bool,
    ttl: Duration,
    lease: Duration,
    purger: tokio::task::JoinHandle<()>,
}

impl Drop for Durable {
    fn drop(&mut self) {
        // The committing task ends by itself once its queue's senders are gone.
        self.purger.abort();
    }
}

struct Job {
    write: ResponseWrite,
    done: oneshot::Sender<Result<WriteOutcome, String>>,
}

impl Responses {
    /// Must be called within a tokio runtime (it starts the store's tasks).
    /// `lease`: the longest an event may run.
    pub(crate) fn new(settings: &IdempotencySettings, lease: Duration, store: &Store) -> Responses {
        let ttl = Duration::from_secs(settings.ttl_secs);
        let memory = Cache::builder()
            .max_capacity(settings.memory_max_bytes)
            .weigher(|key: &EventKey, recorded: &Arc<Recorded>| {
                let bytes = [key.tenant.len(), key.event_id.len(), 96]
                    .into_iter()
                    .fold(recorded.response.encoded_len(), usize::saturating_add);
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .time_to_live(ttl)
            .build();
        let durable = settings.durable.then(|| {
            let (writes, queue) = mpsc::channel(QUEUE);
            tokio::spawn(commit_batches(store.clone(), queue));
            Durable {
                store: store.clone(),
                writes,
                owner: process_owner(),
                claims: store.is_shared(),
                ttl,
                lease,
                purger: tokio::spawn(purge(store.clone(), settings.store_max_bytes)),
            }
        });
        Responses { memory, durable }
    }

    /// The response to the event: the recorded one for a redelivery (`replayed`
    /// set), otherwise what `run` answers, recorded. An event id reused for a
    /// different event (another `event_hash`) is refused.
    pub(crate) async fn answer(
        &self,
        key: EventKey,
        event_hash: [u8; 32],
        run: impl Future<Output = Result<pb::HandleEventResponse, PipelineError>>,
    ) -> Result<pb::HandleEventResponse, PipelineError> {
        let event_id = key.event_id.clone();
        let entry = self
            .memory
            .entry(key.clone())
            .or_try_insert_with(async {
                let claim = match &self.durable {
                    None => None,
                    Some(durable) => match durable.begin(&key, &event_hash).await? {
                        Begun::Recorded(recorded) => return Ok(Arc::new(recorded)),
                        Begun::Run(claim) => Some(claim),
                    },
                };
                // On failure, or when the request is dropped, the claim is released.
                let response = run.await?;
                if let Some(claim) = claim {
                    claim.complete(&response).await;
                }
                Ok(Arc::new(Recorded {
                    event_hash,
                    response,
                    from_store: false,
                }))
            })
            .await
            .map_err(|e: Arc<PipelineError>| (*e).clone())?;
        let recorded = entry.value();
        if recorded.event_hash != event_hash {
            return Err(PipelineError::EventIdReused(event_id));
        }
        let mut response = recorded.response.clone();
        response.replayed = !entry.is_fresh() || recorded.from_store;
        Ok(response)
    }
}

/// How a delivery begins.
enum Begun<'a> {
    /// A response was recorded: this is a redelivery.
    Recorded(Recorded),
    /// The plugins are this delivery's to run.
    Run(Claim<'a>),
}

/// A delivery that runs the plugins: on a shared store, it holds the event's claim
/// until [`Claim::complete`]; dropped before (the run failed, or the request was
/// cancelled), it releases the claim so that a redelivery need not wait for the
/// lease.
struct Claim<'a> {
    durable: &'a Durable,
    key: EventKey,
    event_hash: [u8; 32],
    settled: bool,
}

impl Claim<'_> {
    async fn complete(mut self, response: &pb::HandleEventResponse) {
        self.settled = true;
        let key = &self.key;
        let write = ResponseWrite::Complete {
            key: key.clone(),
            event_hash: self.event_hash.to_vec(),
            owner: self.durable.owner.clone(),
            response: response.encode_to_vec(),
            expires_at_ms: crate::store::now_ms().saturating_add(millis(self.durable.ttl)),
        };
        match self.durable.write(write).await {
            Ok(WriteOutcome::Completed(true)) => {}
            Ok(_) => tracing::warn!(
                tenant = %key.tenant,
                event_id = %key.event_id,
                "another replica recorded this event's response: its lease had ended"
            ),
            Err(e) => tracing::warn!(
                tenant = %key.tenant,
                event_id = %key.event_id,
                "the response was not recorded; a redelivery will run the plugins again: {e}"
            ),
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if self.settled || !self.durable.claims {
            return;
        }
        // Not awaited (a drop cannot wait): when the queue is full, the lease ends
        // the claim instead.
        let (done, _) = oneshot::channel();
        let write = ResponseWrite::Release {
            key: self.key.clone(),
            owner: self.durable.owner.clone(),
        };
        let _ = self.durable.writes.try_send(Job { write, done });
    }
}

impl Durable {
    /// The recorded response, if any; otherwise the event is this delivery's to
    /// run (claimed, on a shared store).
    async fn begin(
        &self,
        key: &EventKey,
        event_hash: &[u8; 32],
    ) -> Result<Begun<'_>, PipelineError> {
        let run = || {
            Begun::Run(Claim {
                durable: self,
                key: key.clone(),
                event_hash: *event_hash,
                settled: false,
            })
        };
        if !self.claims {
            let found = self
                .store
                .response(key, crate::store::now_ms())
                .await
                .map_err(|e| unavailable(&e.to_string()))?;
            return match found {
                Some(stored) if stored.response.is_some() => recorded(stored).map(Begun::Recorded),
                _ => Ok(run()),
            };
        }
        let mut wait = FIRST_WAIT;
        loop {
            let lease_until_ms = crate::store::now_ms().saturating_add(millis(self.lease));
            let claim = ResponseWrite::Claim {
                key: key.clone(),
                event_hash: event_hash.to_vec(),
                owner: self.owner.clone(),
                lease_until_ms,
            };
            match self.write(claim).await.map_err(|e| unavailable(&e))? {
                WriteOutcome::Claimed => return Ok(run()),
                WriteOutcome::Held(stored) if stored.response.is_some() => {
                    return recorded(stored).map(Begun::Recorded);
                }
                WriteOutcome::Held(stored) if stored.event_hash != event_hash => {
                    return Err(PipelineError::EventIdReused(key.event_id.clone()));
                }
                // Another replica runs it: its response comes, or its lease ends.
                _ => {
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2).min(LONGEST_WAIT);
                }
            }
        }
    }

    /// Queues one write and waits for the transaction that commits it.
    async fn write(&self, write: ResponseWrite) -> Result<WriteOutcome, String> {
        let (done, outcome) = oneshot::channel();
        self.writes
            .send(Job { write, done })
            .await
            .map_err(|_| "the sidecar is shutting down".to_owned())?;
        outcome
            .await
            .map_err(|_| "the sidecar is shutting down".to_owned())?
    }
}

/// Commits the queued writes, as many as have arrived, one transaction at a time.
async fn commit_batches(store: Store, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (writes, done): (Vec<_>, Vec<_>) = batch.drain(..).map(|j| (j.write, j.done)).unzip();
        match store.write_responses(writes, crate::store::now_ms()).await {
            Ok(outcomes) => {
                for (done, outcome) in done.into_iter().zip(outcomes) {
                    let _ = done.send(Ok(outcome));
                }
            }
            Err(e) => {
                let message = e.to_string();
                for done in done {
                    let _ = done.send(Err(message.clone()));
                }
            }
        }
    }
}

async fn purge(store: Store, max_bytes: u64) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match store
            .purge_responses(crate::store::now_ms(), max_bytes)
            .await
        {
            Ok(purged) if purged.over_bound > 0 => tracing::info!(
                expired = purged.expired,
                over_bound = purged.over_bound,
                "event responses purged; the oldest went to stay within store_max_bytes"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("event responses not purged: {e}"),
        }
    }
}

fn recorded(stored: StoredResponse) -> Result<Recorded, PipelineError> {
    let bytes = stored.response.unwrap_or_default();
    let response = pb::HandleEventResponse::decode(bytes.as_slice())
        .map_err(|e| unavailable(&format!("a recorded response is unreadable: {e}")))?;
    let event_hash = <[u8; 32]>::try_from(stored.event_hash.as_slice())
        .map_err(|_| unavailable("a recorded event hash is not 32 bytes"))?;
    Ok(Recorded {
        event_hash,
        response,
        from_store: true,
    })
}

fn unavailable(message: &str) -> PipelineError {
    PipelineError::Unavailable(format!("idempotency records: {message}"))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A random name for this process in claims.
fn process_owner() -> String {
    // Without randomness, the pid and start time still tell processes apart.
    let random = getrandom::u64().unwrap_or_else(|_| {
        u64::from(std::process::id()) << 32 ^ crate::store::now_ms().unsigned_abs()
    });
    format!("{random:016x}")
}
