//! The workers: each claims a ticket's due jobs from the queue, runs each event
//! through the sidecar (gRPC) and writes its actions back through the
//! helpdesk's REST API, retrying with backoff what may succeed later and
//! dead-lettering what cannot.

use std::sync::Arc;
use std::time::Duration;

use crossdesk_proto::pb;
use secrecy::ExposeSecret;

use crate::endpoint::Endpoint;
use crate::queue::{self, Batch, Claim, QueueError};
use crate::types::{Failure, Job, NotePolicy, Rules, Target};
use crate::{Bridge, rest};

/// Runs a worker, and again (after a second) should it panic: the panic is
/// logged, and the ticket it held goes to another worker when its lease ends. A
/// worker lost for good would leave jobs queued that nothing writes back, and
/// the bridge still answering webhooks as if all were well.
pub(crate) async fn supervised(bridge: Arc<Bridge>, owner: String) {
    use futures::FutureExt as _;
    loop {
        let run = std::panic::AssertUnwindSafe(work(bridge.clone(), owner.clone()));
        if let Err(panic) = run.catch_unwind().await {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(worker = %owner, "the worker panicked ({what}); it starts again");
            tokio::time::sleep(Duration::from_secs(1)).await;
        } else {
            // The bridge is stopping.
            return;
        }
    }
}

/// One worker: claims the ticket of the oldest due job that no worker holds and
/// writes its batch back (when a later job may go first: the queue's docs), waking
/// on new jobs and when a retry falls due; returns when the bridge stops, between
/// batches.
pub(crate) async fn work(bridge: Arc<Bridge>, owner: String) {
    loop {
        if bridge.stopping.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        let skip = endpoints_to_skip(&bridge);
        match bridge
            .queue
            .claim(
                &owner,
                bridge.config.queue.lease_ms,
                &skip,
                Some(&bridge.endpoint_names),
            )
            .await
        {
            Ok(Some(batch)) => {
                held(&bridge, &batch.claim, true);
                let _busy = Busy::enter(&bridge, &batch.lead.endpoint);
                process(&bridge, batch).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!("bridge queue: {e}"),
        }
        // Also wake now and then: `crossdesk bridge replay` changes the queue from
        // another process. Due jobs of a skipped endpoint are looked at again a
        // little later (or when a worker is freed), not every few milliseconds.
        // So are due jobs no claim takes (another replica's endpoint's).
        let soonest = if skip.is_empty() { 10 } else { 250 };
        let wait = match bridge.queue.next_wait_ms().await {
            Ok(Some(ms)) if ms <= 0 => 250,
            Ok(Some(ms)) => ms.clamp(soonest, 1_000),
            _ => 1_000,
        };
        let wait = Duration::from_millis(u64::try_from(wait).unwrap_or(1_000));
        tokio::select! {
            () = bridge.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// The endpoints whose jobs a worker leaves now: one whose helpdesk asked to be
/// left alone (a `Retry-After`), and, where endpoints share the workers, one
/// whose batches hold all the others but this one (waiting on its pace, or on a
/// slow helpdesk): another helpdesk's jobs always find a worker.
fn endpoints_to_skip(bridge: &Bridge) -> Vec<String> {
    let workers = usize::try_from(bridge.config.queue.workers).unwrap_or(usize::MAX);
    let shared = bridge.endpoints.len() > 1 && workers > 1;
    let busy = bridge.busy.lock().unwrap_or_else(|e| e.into_inner());
    bridge
        .endpoints
        .iter()
        .filter(|(name, endpoint)| {
            endpoint.is_held()
                || (shared && busy.get(*name).copied().unwrap_or(0) >= workers.saturating_sub(1))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// A worker's batch of an endpoint, counted in [`Bridge::busy`] while it runs.
struct Busy<'a> {
    bridge: &'a Bridge,
    endpoint: String,
}

impl<'a> Busy<'a> {
    fn enter(bridge: &'a Bridge, endpoint: &str) -> Busy<'a> {
        let mut busy = bridge.busy.lock().unwrap_or_else(|e| e.into_inner());
        let count = busy.entry(endpoint.to_owned()).or_default();
        *count = count.saturating_add(1);
        Busy {
            bridge,
            endpoint: endpoint.to_owned(),
        }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let mut busy = self.bridge.busy.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = busy.get_mut(&self.endpoint) {
            *count = count.saturating_sub(1);
        }
        drop(busy);
        // A worker waiting because this endpoint was skipped may take it now.
        self.bridge.wake.notify_waiters();
    }
}

/// Records that this process holds a claim, or no longer does.
fn held(bridge: &Bridge, claim: &Claim, holding: bool) {
    let mut claims = bridge.claims.lock().unwrap_or_else(|e| e.into_inner());
    claims.retain(|c| c != claim);
    if holding {
        claims.push(claim.clone());
    }
}

/// Renews the claim a third of the way through its lease until it is lost; a
/// database error is logged and tried again at the next renewal.
async fn keep(bridge: &Bridge, claim: &Claim) -> QueueError {
    let lease_ms = bridge.config.queue.lease_ms;
    let every = Duration::from_millis(lease_ms / 3);
    loop {
        tokio::time::sleep(every).await;
        match bridge.queue.renew(claim, lease_ms).await {
            Err(lost @ QueueError::LeaseLost(_)) => return lost,
            Err(e) => tracing::warn!("cannot renew the claim on a ticket: {e}"),
            Ok(()) => {}
        }
    }
}

async fn process(bridge: &Bridge, batch: Batch) {
    let id = batch.lead.id;
    let attempts = batch.lead.attempts;
    let outcome = tokio::select! {
        outcome = attempt(bridge, &batch) => outcome,
        lost = keep(bridge, &batch.claim) => {
            // Another worker has the batch now; it goes on from the progress
            // recorded.
            tracing::warn!(job = id, "{lost}; the batch is left to that worker");
            held(bridge, &batch.claim, false);
            return;
        }
    };
    held(bridge, &batch.claim, false);
    // An outage keeps a job retried past its attempts, up to its bound.
    let age_ms = queue::now_ms().saturating_sub(batch.lead.created_at_ms);
    let outage_ms = bridge.config.max_outage_secs.saturating_mul(1_000);
    let away = matches!(outcome, Err(Failure::Away(..)));
    let tried_again = attempts.saturating_add(1) < bridge.config.max_attempts
        || (away && u64::try_from(age_ms).unwrap_or(0) < outage_ms);
    let recorded = match outcome {
        Ok(wrote_note) => bridge.queue.complete(&batch, wrote_note).await,
        Err(Failure::Retry(after, error) | Failure::Away(after, error)) if tried_again => {
            let backoff = bridge
                .config
                .retry_base_ms
                .saturating_mul(1 << attempts.min(20))
                .min(bridge.config.retry_max_ms);
            let wait = after.max(Duration::from_millis(backoff));
            tracing::warn!(
                job = id,
                attempts = attempts.saturating_add(1),
                "retrying in {wait:?}: {error}"
            );
            bridge
                .queue
                .fail(
                    &batch,
                    &error,
                    Some(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
                )
                .await
        }
        Err(Failure::Retry(_, error) | Failure::Away(_, error) | Failure::Permanent(error)) => {
            tracing::error!(job = id, "dead-lettered: {error}");
            bridge.queue.fail(&batch, &error, None).await
        }
    };
    if let Err(e) = recorded {
        tracing::error!(job = id, "cannot record the job's progress: {e}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The sidecar's response to a job: remembered from an earlier attempt, or asked
/// for now and remembered.
async fn response_of(
    bridge: &Bridge,
    endpoint: &Endpoint,
    claim: &Claim,
    job: &queue::QueuedJob,
) -> Result<pb::HandleEventResponse, Failure> {
    if let Some(json) = &job.response {
        return crate::json::from_json("crossdesk.v1.HandleEventResponse", json)
            .map_err(|e| Failure::Permanent(format!("stored response unreadable: {e}")));
    }
    let looked_up = with_customer(bridge, endpoint, claim, job).await?;
    let response = run_event(bridge, looked_up.as_ref().unwrap_or(&job.job)).await?;
    recorded(bridge, claim, job, response).await
}

/// `response`, once recorded as the job's: every later attempt of its batch
/// reads it rather than asking again.
async fn recorded(
    bridge: &Bridge,
    claim: &Claim,
    job: &queue::QueuedJob,
    response: pb::HandleEventResponse,
) -> Result<pb::HandleEventResponse, Failure> {
    let json = crate::json::to_json("crossdesk.v1.HandleEventResponse", &response)
        .map_err(|e| Failure::Permanent(format!("cannot encode the response: {e}")))?;
    bridge
        .queue
        .set_response(claim, job.id, &json)
        .await
        .map_err(queue_failure)?;
    Ok(response)
}

/// How long a job of an endpoint this replica does not have waits before any
/// replica claims it again.
const UNKNOWN_ENDPOINT_WAIT: Duration = Duration::from_secs(30);

/// A queue error in the middle of an attempt: the attempt is tried again.
fn queue_failure(e: QueueError) -> Failure {
    Failure::Retry(Duration::ZERO, e.to_string())
}

/// Writes a claimed batch back; true when it added a note to the ticket.
async fn attempt(bridge: &Bridge, batch: &Batch) -> Result<bool, Failure> {
    let lead = &batch.lead;
    let endpoint = bridge.endpoints.get(&lead.endpoint).ok_or_else(|| {
        if bridge.queue.is_shared() {
            // A claim takes only this replica's endpoints' jobs: a job claimed
            // before the configuration changed under it. Left for a replica
            // that has the endpoint.
            Failure::Away(
                UNKNOWN_ENDPOINT_WAIT,
                format!(
                    "endpoint '{}' is not configured on this replica; left to one that has it",
                    lead.endpoint
                ),
            )
        } else {
            Failure::Permanent(format!(
                "endpoint '{}' is no longer configured",
                lead.endpoint
            ))
        }
    })?;
    // Whether the ticket still gets notes from the bridge. Counted per finished
    // batch, and no other batch of the ticket finishes while this one is begun
    // (`Queue::claim`), so a retry makes the same calls as its first attempt.
    let ticket = &lead.job.target;
    let written = bridge
        .queue
        .notes_written(&lead.endpoint, &ticket.account_id, &ticket.ticket_id)
        .await
        .map_err(queue_failure)?;
    let max = endpoint.config.max_notes_per_ticket;
    let rules = Rules {
        notes: match written.saturating_add(1).cmp(&max) {
            std::cmp::Ordering::Less => NotePolicy::Write,
            std::cmp::Ordering::Equal => NotePolicy::Last,
            std::cmp::Ordering::Greater => NotePolicy::Skip,
        },
        batch: Some(lead.job.delivery_key.clone()),
        ..endpoint.rules.clone()
    };
    // The batch's actions, in the order its events arrived.
    let mut actions = Vec::new();
    let mut reply = None;
    let begun = lead.calls_started > 0;
    // The members written back with the lead: all, unless one fails.
    let mut members = batch.members.as_slice();
    for (index, job) in std::iter::once(lead).chain(&batch.members).enumerate() {
        let response = match response_of(bridge, endpoint, &batch.claim, job).await {
            Ok(response) => response,
            // An event that may succeed later, before any call of the batch is
            // made: it and the jobs after it leave the batch, each to be retried
            // on its own schedule, and those before it go back now. One failing
            // event then holds back neither the ticket's earlier jobs nor, for
            // its whole retry schedule, its later ones.
            // An agent's reply the sidecar has not answered through all its
            // tries (`max_attempts`; the outage bound is for other events):
            // held back and the agent told, rather than sent to the customer
            // hours after the agent has moved on.
            Err(Failure::Retry(_, error) | Failure::Away(_, error))
                if !begun
                    && job.job.agent_reply
                    && job.attempts.saturating_add(1) >= bridge.config.max_attempts =>
            {
                let why = format!("it could not be run ({})", first_line(&error));
                not_run(bridge, &batch.claim, job, why).await?
            }
            Err(failure @ (Failure::Retry(..) | Failure::Away(..))) if !begun => {
                let (kept, leaving) = batch.members.split_at(index.saturating_sub(1));
                for member in leaving {
                    bridge
                        .queue
                        .leave_batch(&batch.claim, member.id)
                        .await
                        .map_err(queue_failure)?;
                }
                if index == 0 {
                    return Err(failure);
                }
                tracing::warn!(
                    job = job.id,
                    "its event failed; it and the {} after it leave the batch",
                    leaving.len().saturating_sub(1)
                );
                members = kept;
                break;
            }
            // An agent's reply the sidecar refuses for good (a fail-closed
            // plugin failed on it): held back and the agent told, as when a
            // plugin fails on it. A dead letter would leave them believing it
            // sent, and its replay would send it after they wrote it again.
            Err(Failure::Permanent(error)) if !begun && job.job.agent_reply => {
                let why = format!("the sidecar refused it ({})", first_line(&error));
                not_run(bridge, &batch.claim, job, why).await?
            }
            // An event the sidecar refuses for good, before any call of the
            // batch is made: the others need not share its fate.
            Err(Failure::Permanent(error)) if !begun => {
                if index == 0 {
                    // The lead: its members wait for a claim of their own.
                    for member in &batch.members {
                        bridge
                            .queue
                            .leave_batch(&batch.claim, member.id)
                            .await
                            .map_err(queue_failure)?;
                    }
                    return Err(Failure::Permanent(error));
                }
                tracing::error!(job = job.id, "dead-lettered, apart from its batch: {error}");
                bridge
                    .queue
                    .refuse(&batch.claim, job.id, &error)
                    .await
                    .map_err(queue_failure)?;
                continue;
            }
            Err(failure) => return Err(failure),
        };
        if job.job.agent_reply {
            match held_back(&response) {
                None => reply = Some(final_reply(&job.job, &response)),
                Some(note) => {
                    tracing::warn!(job = job.id, "an agent's reply is held back: {note}");
                    hold_reply(&mut actions, note);
                }
            }
        }
        actions.extend(response.actions);
    }
    // The ticket as the newest delivery of the batch saw it (its tags and fields).
    let latest = &members.last().unwrap_or(lead).job.target;
    let target = Target {
        tags: latest.tags.clone(),
        fields: latest.fields.clone(),
        ..lead.job.target.clone()
    };
    let calls = endpoint
        .helpdesk
        .write_back(&target, &actions, reply.as_deref(), &rules);
    // Calls that went through on an earlier attempt are not made again. Each is
    // recorded as begun before it is made, so that a worker taking over after a
    // crash knows which call may have reached the helpdesk.
    let claim = &batch.claim;
    let done = usize::try_from(lead.calls_done).unwrap_or(usize::MAX);
    for (index, call) in calls.iter().enumerate().skip(done) {
        let interrupted = index == done && lead.calls_started > lead.calls_done;
        if interrupted && call.note && note_landed(bridge, endpoint, &target, &rules).await? {
            tracing::info!(
                job = lead.id,
                "the note of an interrupted write-back reached the ticket; not written again"
            );
        } else {
            if interrupted {
                tracing::warn!(
                    job = lead.id,
                    "a write-back call was interrupted and cannot be checked; it is made again"
                );
            }
            bridge
                .queue
                .call_started(claim, lead.id)
                .await
                .map_err(queue_failure)?;
            rest::send(bridge, endpoint, call).await?;
        }
        bridge
            .queue
            .call_done(claim, lead.id)
            .await
            .map_err(queue_failure)?;
    }
    Ok(calls.iter().any(|c| c.note))
}

/// Whether the note of this batch is among the ticket's recent comments (its
/// batch mark, [`marker::Marker::batch_mark`]); false when the helpdesk cannot
/// tell.
async fn note_landed(
    bridge: &Bridge,
    endpoint: &Endpoint,
    target: &Target,
    rules: &Rules,
) -> Result<bool, Failure> {
    let Some(mark) = rules.marker.batch_mark(
        &target.account_id,
        &target.ticket_id,
        rules.batch.as_deref(),
    ) else {
        return Ok(false);
    };
    let Some(path) = endpoint.helpdesk.recent_notes(target) else {
        return Ok(false);
    };
    let Some(comments) = rest::read(bridge, endpoint, &path).await? else {
        return Ok(false);
    };
    Ok(mentions(&comments, &mark))
}

/// Whether any text in `value` contains `needle`.
fn mentions(value: &serde_json::Value, needle: &str) -> bool {
    match value {
        serde_json::Value::String(text) => text.contains(needle),
        serde_json::Value::Array(items) => items.iter().any(|v| mentions(v, needle)),
        serde_json::Value::Object(fields) => fields.values().any(|v| mentions(v, needle)),
        _ => false,
    }
}

/// The job with its customer looked up in the helpdesk, when the integration has a
/// lookup for it and this job has not had one yet (`None`: run the job as it is).
/// The enriched job is stored before the event runs, so a retry sends the sidecar
/// the very same event (the sidecar refuses an event id reused with other content).
async fn with_customer(
    bridge: &Bridge,
    endpoint: &Endpoint,
    claim: &Claim,
    job: &queue::QueuedJob,
) -> Result<Option<Job>, Failure> {
    if job.job.customer_looked_up || !endpoint.config.look_up_customers {
        return Ok(None);
    }
    let mut event = crate::json::event_from_json(&job.job.event_json)
        .map_err(|e| Failure::Permanent(format!("queued event unreadable: {e}")))?;
    let Some(path) = endpoint.helpdesk.customer_lookup(&event) else {
        return Ok(None);
    };
    if let Some(answer) = rest::lookup(bridge, endpoint, path).await? {
        endpoint.helpdesk.enrich_customer(&mut event, &answer);
    }
    let event_json = crate::json::to_json("crossdesk.v1.Event", &event)
        .map_err(|e| Failure::Permanent(format!("cannot encode the event: {e}")))?;
    let enriched = Job {
        event_json,
        customer_looked_up: true,
        ..job.job.clone()
    };
    bridge
        .queue
        .set_job(claim, job.id, &enriched)
        .await
        .map_err(queue_failure)?;
    Ok(Some(enriched))
}

/// The response recorded for an event the bridge gives up running, `why`: an
/// outcome of no plugin, failed. Recorded like the sidecar's, so that every
/// later attempt of the batch makes the same calls, whatever the sidecar
/// would answer by then.
async fn not_run(
    bridge: &Bridge,
    claim: &Claim,
    job: &queue::QueuedJob,
    why: String,
) -> Result<pb::HandleEventResponse, Failure> {
    tracing::error!(job = job.id, "not run: {why}");
    let response = pb::HandleEventResponse {
        outcomes: vec![pb::PluginOutcome {
            status: pb::plugin_outcome::Status::Failed.into(),
            error: why,
            ..Default::default()
        }],
        ..Default::default()
    };
    recorded(bridge, claim, job, response).await
}

/// Why an agent's reply is not sent, if a plugin of the pipeline failed on it:
/// the customer would get the draft untranslated, or not adjusted to them, in
/// the agent's words. The note tells the agent, who sends it again (a later
/// `#reply` note is another event) or answers the customer themselves.
fn held_back(response: &pb::HandleEventResponse) -> Option<String> {
    use pb::plugin_outcome::Status;
    let failed: Vec<String> = response
        .outcomes
        .iter()
        .filter(|o| {
            matches!(
                o.status(),
                Status::Failed | Status::TimedOut | Status::Denied
            )
        })
        .map(|o| {
            let why = match o.status() {
                Status::TimedOut => "ran out of time".to_owned(),
                Status::Denied => "was refused a capability".to_owned(),
                _ => format!("failed ({})", first_line(&o.error)),
            };
            match o.plugin.is_empty() {
                // The bridge's own outcome: the event was not run (`not_run`).
                true => o.error.clone(),
                false => format!("{} {why}", o.plugin),
            }
        })
        .collect();
    (!failed.is_empty()).then(|| held_reply_note(&failed.join("; ")))
}

/// An error's first line, shortened: for a note an agent reads, not a log.
fn first_line(error: &str) -> String {
    error
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

/// The note that tells an agent their reply was not sent, and `why`.
fn held_reply_note(why: &str) -> String {
    format!(
        "Crossdesk did not send this reply to the customer: {why}. Write it again as a \
         reply note, or answer the customer yourself."
    )
}

/// The actions that hold an agent's reply back: the note, and a tag, which a
/// ticket past its share of notes still gets.
fn hold_reply(actions: &mut Vec<pb::Action>, note: String) {
    let tags = pb::Tags {
        tags: vec![crate::writes::REPLY_HELD_TAG.to_owned()],
    };
    for kind in [
        pb::action::Kind::InternalNote(note),
        pb::action::Kind::AddTags(tags),
    ] {
        actions.push(pb::Action {
            plugin: String::new(),
            kind: Some(kind),
        });
    }
}

/// The reply an agent's note becomes: the draft as the last plugin left it.
fn final_reply(job: &Job, response: &pb::HandleEventResponse) -> String {
    response
        .actions
        .iter()
        .rev()
        .find_map(|a| match &a.kind {
            Some(pb::action::Kind::ReplaceDraft(text)) => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_else(|| {
            crate::json::event_from_json(&job.event_json)
                .map(|e| e.text)
                .unwrap_or_default()
        })
}

async fn run_event(bridge: &Bridge, job: &Job) -> Result<pb::HandleEventResponse, Failure> {
    let event = crate::json::event_from_json(&job.event_json)
        .map_err(|e| Failure::Permanent(format!("queued event unreadable: {e}")))?;
    let channel = bridge
        .sidecar
        .connect()
        .await
        .map_err(|e| Failure::Away(Duration::ZERO, format!("sidecar unreachable: {e}")))?;
    let mut client = pb::event_service_client::EventServiceClient::new(channel);
    let mut request = tonic::Request::new(pb::HandleEventRequest { event: Some(event) });
    if let Some(token) = &bridge.sidecar_token {
        let mut value: tonic::metadata::MetadataValue<_> =
            format!("Bearer {}", token.expose_secret())
                .parse()
                .map_err(|_| {
                    Failure::Permanent("the sidecar token is not valid metadata".into())
                })?;
        // Left out of any Debug of the request.
        value.set_sensitive(true);
        request.metadata_mut().insert("authorization", value);
    }
    if let Some(value) = job.traceparent.as_deref().and_then(|t| t.parse().ok()) {
        request.metadata_mut().insert("traceparent", value);
    }
    match client.handle_event(request).await {
        Ok(response) => Ok(response.into_inner()),
        Err(status) => {
            let message = format!("sidecar: {:?}: {}", status.code(), status.message());
            if matches!(
                status.code(),
                tonic::Code::Unavailable | tonic::Code::ResourceExhausted
            ) {
                // Over the tenant's quota, the sidecar says when to come back.
                use tonic_types::StatusExt as _;
                let after = status
                    .get_details_retry_info()
                    .and_then(|info| info.retry_delay)
                    .unwrap_or_default();
                Err(Failure::Away(after, message))
            } else if matches!(
                status.code(),
                tonic::Code::Unauthenticated | tonic::Code::PermissionDenied
            ) {
                // The bridge's token and the sidecar's callers disagree: a
                // rotation under way (one rolled out before the other), or a
                // mistake an operator fixes. Events wait for it, up to the
                // endpoint's outage bound, rather than go to the dead letters.
                Err(Failure::Away(
                    Duration::ZERO,
                    format!(
                        "{message} (check the bridge's sidecar token and the sidecar's [[callers]])"
                    ),
                ))
            } else if sidecar_may_answer_later(status.code()) {
                Err(Failure::Retry(Duration::ZERO, message))
            } else {
                Err(Failure::Permanent(message))
            }
        }
    }
}

/// Whether an event the sidecar answered with `code` may succeed when sent again
/// (the sidecar answers a redelivered event id from its first run, or runs it once
/// if it never finished).
fn sidecar_may_answer_later(code: tonic::Code) -> bool {
    use tonic::Code;
    match code {
        Code::Unavailable
        | Code::ResourceExhausted
        | Code::DeadlineExceeded
        | Code::Internal
        | Code::Unknown
        | Code::Aborted
        // The bridge cancels nothing: a cancelled call was cut off on its way,
        // e.g. by the sidecar dying with the request queued on its connection.
        | Code::Cancelled => true,
        Code::Ok
        | Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::PermissionDenied
        | Code::FailedPrecondition
        | Code::OutOfRange
        | Code::Unimplemented
        | Code::DataLoss
        | Code::Unauthenticated => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_cut_off_on_its_way_is_tried_again() {
        // What a client sees when the sidecar is killed with the request queued
        // on its connection (found by the soak, issue 17): the job was
        // dead-lettered instead of waiting for the sidecar to come back.
        assert!(sidecar_may_answer_later(tonic::Code::Cancelled));
        assert!(sidecar_may_answer_later(tonic::Code::Unavailable));
        assert!(!sidecar_may_answer_later(tonic::Code::InvalidArgument));
        assert!(!sidecar_may_answer_later(tonic::Code::FailedPrecondition));
    }
}
