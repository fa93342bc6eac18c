//! Idempotency: the plugins run once per (tenant, event id), and a redelivery of
//! the event gets the first response back, marked `replayed`.
//!
//! Two layers. In memory ([`memory`], bounded in bytes), the responses this process
//! answered; a delivery that arrives while the same event runs here waits for
//! that run's response ([`running`]). In the store (when `durable`, the
//! default), the response outlives a restart and is seen by every replica sharing
//! the store:
//! - on a store only this process uses (SQLite), a delivery looks for a recorded
//!   response, runs the plugins when there is none, and records what they
//!   answered. It looks only when the store may hold a response memory does not
//!   ([`only_stored`]): a new event costs no read;
//! - on a shared store (PostgreSQL), a delivery first *claims* the event id for a
//!   lease; a replica that finds another's live claim waits for its response (or
//!   for the lease to end, when that replica died), so concurrent deliveries to
//!   two replicas run the plugins once. The lease is the request deadline
//!   (`server.request_timeout_ms`): no event runs longer.
//!
//! Store writes go through one task ([`commit`]) that commits whatever has queued
//! up meanwhile in a single transaction (group commit): under load, many events
//! share one commit instead of paying one each. A claim is waited for; a response is
//! queued and the event answered at once ([`Claim::complete`] says why). When the
//! store cannot record responses, events are still answered (their plugins have
//! run, their actions are the helpdesk's to apply) and the failure is logged.

mod commit;
mod memory;
mod only_stored;
mod running;

use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use tokio::sync::{mpsc, oneshot};

use super::STORE_WAIT;
use super::error::PipelineError;
use crate::config::IdempotencySettings;
use crate::pb;
use crate::store::{EventKey, ResponseWrite, Store, StoreError, StoredResponse, WriteOutcome};
use commit::{Job, commit_batches, purge};
use memory::Memory;
use only_stored::OnlyStored;
use running::{Entered, Running};

/// Writes waiting for the committing task at most; senders wait beyond it.
const QUEUE: usize = 4096;
/// A replica waiting for another's claim checks again after this, doubling…
const FIRST_WAIT: Duration = Duration::from_millis(5);
/// …up to this.
const LONGEST_WAIT: Duration = Duration::from_millis(250);

/// A response, with the hash of the event it answered.
struct Recorded {
    event_hash: [u8; 32],
    response: pb::HandleEventResponse,
    /// Its encoded size: what it weighs in memory.
    weight: u64,
}

impl Recorded {
    fn new(event_hash: [u8; 32], response: pb::HandleEventResponse) -> Recorded {
        let weight = u64::try_from(response.encoded_len()).unwrap_or(u64::MAX);
        Recorded {
            event_hash,
            response,
            weight,
        }
    }
}

/// The remembered responses.
pub(crate) struct Responses {
    memory: Memory,
    running: Running,
    durable: Option<Durable>,
}

/// The store's layer, with the task that commits its writes.
struct Durable {
    store: Store,
    /// On a store of this process's own: the responses it may hold that memory
    /// does not. Any other event is new, and is run without a look at the store.
    only_stored: Option<Arc<OnlyStored>>,
    writes: mpsc::Sender<Job>,
    /// Who this process is in claims (claims are made on a shared store only).
    owner: String,
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

impl Responses {
    /// Must be called within a tokio runtime (it starts the store's tasks).
    /// `lease`: the longest an event may run; `owner`: this process's name in
    /// claims.
    pub(crate) async fn new(
        settings: &IdempotencySettings,
        lease: Duration,
        store: &Store,
        owner: String,
    ) -> Result<Responses, StoreError> {
        let ttl = Duration::from_secs(settings.ttl_secs);
        let only_stored = match settings.durable && !store.is_shared() {
            true => Some(Arc::new(OnlyStored::load(store).await?)),
            false => None,
        };
        // A little longer than the store keeps them: a response memory has
        // forgotten by age, the store has forgotten too.
        let memory = Memory::new(
            settings.memory_max_bytes,
            ttl.saturating_add(Duration::from_secs(1)),
            only_stored.clone(),
        );
        let durable = settings.durable.then(|| {
            let (writes, queue) = mpsc::channel(QUEUE);
            tokio::spawn(commit_batches(store.clone(), queue));
            Durable {
                store: store.clone(),
                only_stored,
                writes,
                owner,
                ttl,
                lease,
                purger: tokio::spawn(purge(store.clone(), settings.store_max_bytes)),
            }
        });
        Ok(Responses {
            memory,
            running: Running::default(),
            durable,
        })
    }

    /// Forgets what this process remembers of tenants that are gone (deleted):
    /// one created again under the same id starts from nothing here too, as in
    /// the store.
    pub(crate) fn forget_tenants(&self, gone: &dyn Fn(&str) -> bool) {
        self.memory.forget_tenants(gone);
    }

    /// Returns once every response queued so far is committed (a graceful stop).
    pub(crate) async fn flush(&self) {
        let Some(durable) = &self.durable else {
            return;
        };
        let (done, flushed) = oneshot::channel();
        if durable.writes.send(Job::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
    }

    /// The recorded response to a redelivery this process remembers, if any (as
    /// [`Responses::answer`] would replay it): asked before the tenant's quota,
    /// since a replay runs nothing.
    pub(crate) fn remembered(
        &self,
        key: &EventKey,
        event_hash: &[u8; 32],
    ) -> Option<Result<pb::HandleEventResponse, PipelineError>> {
        self.memory
            .get(key)
            .map(|recorded| replay(&recorded, key, event_hash))
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
        let runner = loop {
            if let Some(recorded) = self.memory.get(&key) {
                return replay(&recorded, &key, &event_hash);
            }
            match self.running.enter(&key).await {
                Entered::Runs(runner) => break runner,
                Entered::Answered(recorded) => return replay(&recorded, &key, &event_hash),
                Entered::Retry => {}
            }
        };
        let claim = match &self.durable {
            None => None,
            Some(durable) => match durable.begin(&key, &event_hash).await? {
                Begun::Recorded(recorded) => {
                    let recorded = Arc::new(recorded);
                    self.memory.insert(key.clone(), recorded.clone());
                    runner.answered(&recorded);
                    return replay(&recorded, &key, &event_hash);
                }
                Begun::Run(claim) => Some(claim),
            },
        };
        // On failure, or when the request is dropped, the claim is released and
        // the deliveries waiting for this one go on.
        let response = run.await?;
        if let Some(claim) = claim {
            claim.complete(&response).await;
        }
        let recorded = Arc::new(Recorded::new(event_hash, response));
        self.memory.insert(key, recorded.clone());
        runner.answered(&recorded);
        Ok(recorded.response.clone())
    }
}

/// A recorded response, answered again.
fn replay(
    recorded: &Recorded,
    key: &EventKey,
    event_hash: &[u8; 32],
) -> Result<pb::HandleEventResponse, PipelineError> {
    if recorded.event_hash != *event_hash {
        return Err(PipelineError::EventIdReused(key.event_id.clone()));
    }
    let mut response = recorded.response.clone();
    response.replayed = true;
    Ok(response)
}

/// The event runs with this process's memory as its only guard: the shared
/// store did not answer. The tenants' events go on during a store outage (their
/// plugins' own storage fails meanwhile); a delivery of the same event to another
/// replica in that time may run it too.
fn unguarded<'a>(key: &EventKey, why: &str, run: impl FnOnce() -> Begun<'a>) -> Begun<'a> {
    tracing::warn!(
        tenant = %key.tenant(),
        event_id = %key.event_id,
        "runs without a claim on the event (memory guards this replica only): {why}"
    );
    match run() {
        Begun::Run(mut claim) => {
            // Nothing to release here: a claim that commits after all finds
            // nobody waiting, and the committing task releases it.
            claim.settled = true;
            Begun::Run(claim)
        }
        recorded => recorded,
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
    /// Queues the response for the next batch and returns without waiting for
    /// its commit (asynchronous commit). The queue is bounded: a store that
    /// falls behind slows events down, nothing is dropped. Waiting for the commit
    /// would add a batch's time to every event's latency, for one case only: the
    /// process dies in the millisecond between answering and committing *and*
    /// the caller, who got the answer, delivers the event again.
    async fn complete(mut self, response: &pb::HandleEventResponse) {
        self.settled = true;
        let write = ResponseWrite::Complete {
            key: self.key.clone(),
            event_hash: self.event_hash.to_vec(),
            owner: self.durable.owner.clone(),
            response: response.encode_to_vec(),
            expires_at_ms: self
                .durable
                .store
                .now_ms()
                .saturating_add(millis(self.durable.ttl)),
        };
        let job = Job::Write { write, done: None };
        // A queue still full after this wait means the store is down or far
        // behind: the event is answered all the same, its record dropped.
        if let Err(e) = self.durable.writes.send_timeout(job, STORE_WAIT).await {
            tracing::warn!(
                tenant = %self.key.tenant(),
                event_id = %self.key.event_id,
                "the response was not recorded (the store is behind, or the sidecar stops): {e}"
            );
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if self.settled || !self.durable.store.is_shared() {
            return;
        }
        // Not awaited (a drop cannot wait): when the queue is full, the lease ends
        // the claim instead.
        let write = ResponseWrite::Release {
            key: self.key.clone(),
            owner: self.durable.owner.clone(),
        };
        let _ = self
            .durable
            .writes
            .try_send(Job::Write { write, done: None });
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
        if let Some(only_stored) = &self.only_stored
            && !only_stored.may_hold(key)
        {
            return Ok(run());
        }
        if !self.store.is_shared() {
            let found = self
                .store
                .response(key, self.store.now_ms())
                .await
                .map_err(|e| {
                    // The store's own words (a file, a statement) stay in the log.
                    tracing::error!(tenant = %key.tenant(), "idempotency records unreadable: {e}");
                    unavailable("cannot be read (the sidecar's log says why)")
                })?;
            return match found {
                Some(stored) if stored.response.is_some() => recorded(stored).map(Begun::Recorded),
                _ => Ok(run()),
            };
        }
        let mut wait = FIRST_WAIT;
        loop {
            let lease_until_ms = self.store.now_ms().saturating_add(millis(self.lease));
            let claim = ResponseWrite::Claim {
                key: key.clone(),
                event_hash: event_hash.to_vec(),
                owner: self.owner.clone(),
                lease_until_ms,
            };
            let outcome = match tokio::time::timeout(STORE_WAIT, self.write(claim)).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(e)) => return Ok(unguarded(key, &e, run)),
                Err(_) => return Ok(unguarded(key, "no answer within a second", run)),
            };
            match outcome {
                WriteOutcome::Claimed => return Ok(run()),
                // This replica has not seen the deletion yet. Retrying finds the
                // tenant unknown, or created again, and runs the event for it.
                WriteOutcome::TenantGone => {
                    return Err(PipelineError::Unavailable(format!(
                        "tenant '{}' was deleted or created again while the event arrived; retry",
                        crate::grant::shown_id(key.tenant())
                    )));
                }
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
            .send(Job::Write {
                write,
                done: Some(done),
            })
            .await
            .map_err(|_| "the sidecar is shutting down".to_owned())?;
        outcome
            .await
            .map_err(|_| "the sidecar is shutting down".to_owned())?
    }
}

fn recorded(stored: StoredResponse) -> Result<Recorded, PipelineError> {
    let bytes = stored.response.unwrap_or_default();
    let response = pb::HandleEventResponse::decode(bytes.as_slice())
        .map_err(|e| unavailable(&format!("a recorded response is unreadable: {e}")))?;
    let event_hash = <[u8; 32]>::try_from(stored.event_hash.as_slice())
        .map_err(|_| unavailable("a recorded event hash is not 32 bytes"))?;
    Ok(Recorded::new(event_hash, response))
}

fn unavailable(message: &str) -> PipelineError {
    PipelineError::Unavailable(format!("idempotency records: {message}"))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn key(event_id: &str) -> EventKey {
        EventKey::unchecked("acme", event_id)
    }

    fn response(note: &str) -> pb::HandleEventResponse {
        pb::HandleEventResponse {
            event_id: note.into(),
            ..Default::default()
        }
    }

    /// Answers `event_id`; `runs` counts the runs of the plugins.
    async fn answer(
        responses: &Responses,
        event_id: &str,
        runs: &std::sync::atomic::AtomicU32,
    ) -> pb::HandleEventResponse {
        answer_as(responses, key(event_id), runs).await
    }

    async fn answer_as(
        responses: &Responses,
        key: EventKey,
        runs: &std::sync::atomic::AtomicU32,
    ) -> pb::HandleEventResponse {
        let event_id = key.event_id.clone();
        responses
            .answer(key, [7; 32], async {
                runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(response(&event_id))
            })
            .await
            .expect("answer")
    }

    #[tokio::test]
    async fn a_response_memory_dropped_for_room_is_replayed_from_the_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let settings = IdempotencySettings {
            // Room for no response: each goes to the store only.
            memory_max_bytes: 1,
            ..Default::default()
        };
        let responses = Responses::new(&settings, Duration::from_secs(30), &store, "test".into())
            .await
            .expect("responses");
        let runs = std::sync::atomic::AtomicU32::new(0);
        for id in ["e-1", "e-2"] {
            assert!(!answer(&responses, id, &runs).await.replayed);
        }
        responses.flush().await;
        assert_eq!(responses.memory.len(), 0, "memory kept nothing");
        for id in ["e-1", "e-2"] {
            let again = answer(&responses, id, &runs).await;
            assert!(again.replayed);
            assert_eq!(again.event_id, id);
        }
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
        // A new event is not looked up in the store: it is known to be new.
        let only_stored = responses
            .durable
            .as_ref()
            .and_then(|d| d.only_stored.clone())
            .expect("SQLite keeps the ids only the store has");
        assert!(only_stored.may_hold(&key("e-1")));
        assert!(!only_stored.may_hold(&key("e-3")));
    }

    #[tokio::test]
    async fn a_restarted_process_knows_which_responses_its_store_holds() {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = IdempotencySettings::default();
        let runs = std::sync::atomic::AtomicU32::new(0);
        {
            let store = Store::open(dir.path()).expect("store");
            let responses =
                Responses::new(&settings, Duration::from_secs(30), &store, "test".into())
                    .await
                    .expect("responses");
            answer(&responses, "e-1", &runs).await;
            responses.flush().await;
        }
        let store = Store::open(dir.path()).expect("store");
        let responses = Responses::new(&settings, Duration::from_secs(30), &store, "test".into())
            .await
            .expect("responses");
        assert!(answer(&responses, "e-1", &runs).await.replayed);
        assert!(!answer(&responses, "e-2", &runs).await.replayed);
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    /// The response of an event whose tenant another replica deletes, and
    /// creates again, while it runs: not recorded, and not answered to the new
    /// tenant's delivery of the same event id from memory either.
    #[tokio::test]
    async fn a_response_of_a_tenant_deleted_during_its_run_answers_no_one_else() {
        use crate::store::{ControlWrite, DataOf, NewAuditEntry};
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let change = |write: ControlWrite| {
            let store = store.clone();
            async move {
                let audit = NewAuditEntry {
                    actor: "admin".into(),
                    tenant: Some("acme".into()),
                    action: "tenant.change".into(),
                    target: "acme".into(),
                    before: None,
                    after: None,
                };
                store.apply(vec![write], audit).await.expect("applied");
            }
        };
        let put = |incarnation: &str| ControlWrite::PutTenant {
            id: "acme".into(),
            doc: format!(r#"{{"incarnation":"{incarnation}"}}"#),
            expected: None,
        };
        let of = |incarnation: &str| EventKey {
            of: Arc::new(DataOf {
                tenant: "acme".into(),
                incarnation: Some(incarnation.into()),
            }),
            event_id: "e-1".into(),
        };
        change(put("aa")).await;
        let responses = Responses::new(
            &IdempotencySettings::default(),
            Duration::from_secs(30),
            &store,
            "test".into(),
        )
        .await
        .expect("responses");
        let runs = std::sync::atomic::AtomicU32::new(0);
        let first = responses
            .answer(of("aa"), [7; 32], async {
                runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                change(ControlWrite::DeleteTenant {
                    id: "acme".into(),
                    expected: 1,
                })
                .await;
                change(put("cc")).await;
                Ok(response("for the old tenant"))
            })
            .await
            .expect("answered");
        assert!(!first.replayed);
        responses.flush().await;
        assert_eq!(store.response(&of("cc"), 0).await.expect("read"), None);
        let again = answer_as(&responses, of("cc"), &runs).await;
        assert!(!again.replayed, "the new tenant's delivery runs the event");
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    /// Responses in memory only, with room for many.
    async fn in_memory() -> (tempfile::TempDir, Responses) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let settings = IdempotencySettings {
            durable: false,
            ..Default::default()
        };
        let responses = Responses::new(&settings, Duration::from_secs(30), &store, "test".into())
            .await
            .expect("responses");
        (dir, responses)
    }

    #[tokio::test]
    async fn deliveries_during_a_run_wait_for_its_response() {
        let (_dir, responses) = in_memory().await;
        let runs = std::sync::atomic::AtomicU32::new(0);
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let mut first = std::pin::pin!(responses.answer(key("e-1"), [7; 32], async {
            runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            released.await.expect("released");
            Ok(response("first"))
        }));
        assert!(futures::poll!(&mut first).is_pending(), "the first runs");
        let mut others = std::pin::pin!(futures::future::join_all(
            (0..3).map(|_| answer(&responses, "e-1", &runs))
        ));
        assert!(futures::poll!(&mut others).is_pending(), "the others wait");
        release.send(()).expect("the run waits");
        let (first, others) = tokio::join!(first, others);
        assert!(!first.expect("first").replayed);
        for other in others {
            assert!(other.replayed);
            assert_eq!(other.event_id, "first");
        }
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(responses.running.len(), 0, "no run is left behind");
    }

    #[tokio::test]
    async fn a_failed_or_cancelled_run_lets_a_waiting_delivery_run_the_event() {
        let (_dir, responses) = in_memory().await;
        let runs = std::sync::atomic::AtomicU32::new(0);
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let mut failing = std::pin::pin!(responses.answer(key("e-1"), [7; 32], async {
            released.await.expect("released");
            Err(PipelineError::Unavailable("the plugins failed".into()))
        }));
        assert!(futures::poll!(&mut failing).is_pending());
        let mut waiting = std::pin::pin!(answer(&responses, "e-1", &runs));
        assert!(futures::poll!(&mut waiting).is_pending());
        release.send(()).expect("the run waits");
        let (failed, waited) = tokio::join!(failing, waiting);
        assert!(failed.is_err());
        assert!(
            !waited.replayed,
            "the waiting delivery ran the event itself"
        );
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        // A run dropped unfinished (the caller went away) lets the next one in.
        let cancelled = responses.answer(key("e-2"), [7; 32], std::future::pending());
        assert!(futures::FutureExt::now_or_never(cancelled).is_none());
        assert!(!answer(&responses, "e-2", &runs).await.replayed);
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(responses.running.len(), 0);
    }
}
