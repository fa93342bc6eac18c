//! The committing task: every store write of idempotency records goes through it,
//! and it commits whatever has queued up meanwhile in one transaction (group
//! commit). A claim is waited for; a response is not, so a batch of responses
//! only lingers a few milliseconds for company, trading nothing but a crash
//! window for fewer commits. A flush waits until everything queued before it is
//! committed (a graceful stop).

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::store::{ResponseWrite, Store, WriteOutcome};

/// Writes committed together at most; more wait for the next transaction.
const MAX_BATCH: usize = 512;
/// How long writes nobody waits for (responses) wait for others to share their
/// transaction.
const LINGER: Duration = Duration::from_millis(5);
/// How often expired records are purged from the store.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// What the committing task is asked.
pub(super) enum Job {
    Write {
        write: ResponseWrite,
        /// Who waits for the outcome: a claim's delivery. A response's does not
        /// (see [`super::Claim::complete`]); the task reports its failures.
        done: Option<oneshot::Sender<Result<WriteOutcome, String>>>,
    },
    /// Answered once every job queued before it is committed.
    Flush(oneshot::Sender<()>),
}

impl Job {
    fn is_waited(&self) -> bool {
        !matches!(self, Job::Write { done: None, .. })
    }
}

/// Commits the queued writes, as many as have arrived, one transaction at a time.
pub(super) async fn commit_batches(store: Store, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Nobody waits for these: gather more into this transaction, for fewer
        // commits (each writes its dirty pages to the journal again).
        if !batch.iter().any(Job::is_waited) {
            let lingering = tokio::time::sleep(LINGER);
            tokio::pin!(lingering);
            while batch.len() < MAX_BATCH {
                let room = MAX_BATCH.saturating_sub(batch.len());
                tokio::select! {
                    _ = &mut lingering => break,
                    received = queue.recv_many(&mut batch, room) => if received == 0 { break },
                }
            }
        }
        let mut writes = Vec::with_capacity(batch.len());
        let mut waiting = Vec::with_capacity(batch.len());
        let mut flushes = Vec::new();
        for job in batch.drain(..) {
            match job {
                Job::Write { write, done } => {
                    writes.push(write);
                    waiting.push(done);
                }
                Job::Flush(done) => flushes.push(done),
            }
        }
        if !writes.is_empty() {
            commit(&store, writes, waiting).await;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

async fn commit(
    store: &Store,
    writes: Vec<ResponseWrite>,
    waiting: Vec<Option<oneshot::Sender<Result<WriteOutcome, String>>>>,
) {
    let unwaited = waiting.iter().filter(|d| d.is_none()).count();
    // Each claim's release, by its place in the batch, should its delivery be
    // gone when the claim is made. Responses, a batch's bulk, need none.
    let releases: Vec<(usize, ResponseWrite)> = writes
        .iter()
        .enumerate()
        .filter_map(|(at, write)| match write {
            ResponseWrite::Claim { key, owner, .. } => Some((
                at,
                ResponseWrite::Release {
                    key: key.clone(),
                    owner: owner.clone(),
                },
            )),
            _ => None,
        })
        .collect();
    match store.write_responses(writes, store.now_ms()).await {
        Ok(outcomes) => {
            let mut kept_another = 0usize;
            let mut of_gone_tenants = 0usize;
            let mut abandoned_at = Vec::new();
            for (at, (done, outcome)) in waiting.into_iter().zip(outcomes).enumerate() {
                match done {
                    Some(done) => {
                        // The delivery was dropped (its request cancelled) or gave
                        // up waiting: nobody runs the event under this claim.
                        if let Err(Ok(WriteOutcome::Claimed)) = done.send(Ok(outcome)) {
                            abandoned_at.push(at);
                        }
                    }
                    None if outcome == WriteOutcome::Completed(false) => {
                        kept_another = kept_another.saturating_add(1);
                    }
                    None if outcome == WriteOutcome::TenantGone => {
                        of_gone_tenants = of_gone_tenants.saturating_add(1);
                    }
                    None => {}
                }
            }
            if kept_another > 0 {
                tracing::warn!(
                    responses = kept_another,
                    "another replica recorded these events' responses: the claims' leases had ended"
                );
            }
            if of_gone_tenants > 0 {
                tracing::info!(
                    writes = of_gone_tenants,
                    "records of events not written: their tenant was deleted while they ran"
                );
            }
            let abandoned: Vec<ResponseWrite> = releases
                .into_iter()
                .filter(|(at, _)| abandoned_at.contains(at))
                .map(|(_, release)| release)
                .collect();
            if !abandoned.is_empty()
                && let Err(e) = store.write_responses(abandoned, store.now_ms()).await
            {
                tracing::warn!("claims of dropped deliveries stay until their leases end: {e}");
            }
        }
        Err(e) => {
            let message = e.to_string();
            if unwaited > 0 {
                tracing::warn!(
                    writes = unwaited,
                    "responses or releases not recorded; a redelivery will run those events again: {message}"
                );
            }
            for done in waiting.into_iter().flatten() {
                let _ = done.send(Err(message.clone()));
            }
        }
    }
}

/// Removes expired records, and the oldest beyond `max_bytes`, every minute.
pub(super) async fn purge(store: Store, max_bytes: u64) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match store.purge_responses(store.now_ms(), max_bytes).await {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EventKey;

    #[tokio::test]
    async fn a_claim_made_for_a_delivery_already_gone_is_released() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let (jobs, queue) = mpsc::channel(16);
        tokio::spawn(commit_batches(store.clone(), queue));
        let key = EventKey::unchecked("acme", "e-1");
        let claim = ResponseWrite::Claim {
            key: key.clone(),
            event_hash: vec![7; 32],
            owner: "replica-a".into(),
            lease_until_ms: i64::MAX,
        };
        // The delivery that asked is gone before the claim is made.
        let (done, answer) = oneshot::channel();
        drop(answer);
        jobs.send(Job::Write {
            write: claim,
            done: Some(done),
        })
        .await
        .expect("queued");
        let (flushed, flush) = oneshot::channel();
        jobs.send(Job::Flush(flushed)).await.expect("queued");
        flush.await.expect("flushed");
        assert_eq!(store.response(&key, 0).await.expect("read"), None);
    }
}
