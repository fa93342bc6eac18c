//! The pipeline: what happens to one event between the gRPC edge and the plugins.
//!
//! It owns the tenants' plugin chains, event validation, idempotency (the same event
//! id returns the first response without running plugins again), the moka cache of
//! cacheable plugin results, and the outcome of every plugin call. Plugins run one
//! after another in the tenant's order; when a plugin replaces an agent's draft, the
//! plugins after it see the new draft.
//!
//! Events of one customer (tenant and customer id) run one at a time, in arrival
//! order, so plugins that keep per-customer state never lose an update; other
//! events run concurrently ([`ordering`], across replicas too).
//!
//! The chains live in an immutable snapshot swapped atomically when the control
//! plane changes: an event takes the snapshot current when it arrives and finishes
//! with it, so a change applies to the next event and never to half of one. With
//! the admin API on, a background task polls the store's control version, so a
//! change made through another replica is applied here too.
//!
//! This module assembles the sidecar and takes an event from validation to its
//! response; `chains` builds the tenants' chains and `run` runs an event
//! through one. On the way, `admission` applies the tenant's quota, `idempotency`
//! answers redeliveries and `ordering` holds the customer's turn; `error` says why
//! an event got no response.

mod admission;
mod chains;
mod error;
mod idempotency;
mod ordering;
mod run;

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use moka::future::Cache;
use parking_lot::Mutex;
use prost::Message;
use tracing::Instrument;

use crate::config::{Config, Quota};
use crate::control::{Bounds, ControlPlane};
use crate::pb;
use crate::runtime::{self, Grant, LoadedPlugin, Runtime};
use crate::store::Store;
use admission::{Admission, Replicas};
use chains::{Pipelines, watch};
pub use error::{BuildError, PipelineError};
use run::ContentDigest;
pub use run::is_plugin_span;

/// Event attributes with this prefix are set by the host, never by integrators.
pub const HOST_ATTRIBUTE_PREFIX: &str = "crossdesk.";
/// The installed names of the plugins that run for the event, in order, comma
/// separated (e.g. `translation,recommend,schedule`).
pub const PIPELINE_ATTRIBUTE: &str = "crossdesk.pipeline";

/// How long the event path waits for the store (an idempotency claim, a
/// customer's lease and its release, a plugin data's generation) before it goes
/// on without: a store that stops answering slows an event by this much, and does
/// not hold it to its deadline.
const STORE_WAIT: Duration = Duration::from_secs(1);

/// How long the readiness probe and a metrics scrape wait for the store: under a
/// probe's usual one-second timeout, so that a database that hangs reads as
/// "degraded", not as every replica unready at once.
pub const HEALTH_WAIT: Duration = Duration::from_millis(500);

/// How long a stop waits for the responses, report facts and contact counts of the last
/// events to be written (within the runtime's five seconds after the drain).
const SHUTDOWN_WRITE_WAIT: Duration = Duration::from_secs(3);
/// How long a stop waits for the store to hear that this replica leaves.
const SHUTDOWN_LEAVE_WAIT: Duration = Duration::from_secs(1);

/// Admin tool calls that may run at once, all tenants together; one tenant's
/// run one at a time, so that no tenant's admin holds them all.
const MAX_TOOL_CALLS: usize = 2;

/// Room to run an admin tool ([`Sidecar::tool_slot`]), given back when dropped.
pub(crate) struct ToolSlot<'a> {
    _tenants: Option<tokio::sync::OwnedSemaphorePermit>,
    _all: tokio::sync::SemaphorePermit<'a>,
}

/// When the caller of an event stops waiting (from its `grpc-timeout`, `api`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerDeadline {
    pub at: tokio::time::Instant,
    /// The timeout the caller asked for, which the error names.
    pub timeout: Duration,
}

/// The assembled sidecar: runtime, plugins, tenants, caches.
pub struct Sidecar {
    runtime: Arc<Runtime>,
    store: Store,
    /// Arrivals and handling times, for the scheduler's forecasts.
    history: crate::history::ContactHistory,
    /// Tickets' figures, for the admins' reports.
    insights: crate::insights::Insights,
    bounds: Bounds,
    pipelines: ArcSwap<Pipelines>,
    /// With the admin API on: the store's tenants and plugins.
    control: Option<Arc<ControlPlane>>,
    /// One rebuild of the pipelines at a time.
    reload: tokio::sync::Mutex<()>,
    /// Admission state by tenant, kept across rebuilds while the quota and the
    /// tenant's incarnation are unchanged (a change of settings must not reset a
    /// tenant's rate limit).
    admissions: Mutex<HashMap<String, KeptAdmission>>,
    /// How many replicas share the quotas (counted by heartbeats in a shared store).
    replicas: Replicas,
    /// This process's name among the replicas.
    owner: String,
    watcher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    heartbeat: Mutex<Option<tokio::task::JoinHandle<()>>>,
    results: Cache<[u8; 32], Arc<Vec<pb::Action>>>,
    responses: idempotency::Responses,
    /// A customer's events run one at a time, here and across replicas.
    customers: ordering::CustomerOrder,
    /// Admin tool calls running at once (see [`Sidecar::tool_slot`]).
    tool_calls: tokio::sync::Semaphore,
    /// Each tenant's one tool call at a time, by tenant.
    tenant_tool_calls: Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
    max_text_bytes: usize,
    /// No event runs longer: the claim on its id and its customer's lease
    /// (`idempotency`, `ordering`) last this long.
    request_timeout: Duration,
    callers: crate::auth::Callers,
}

/// A tenant's admission state, with the quota and the incarnation it is for.
struct KeptAdmission {
    quota: Quota,
    incarnation: String,
    admission: Arc<Admission>,
}

impl std::fmt::Debug for Sidecar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sidecar")
            .field(
                "tenants",
                &self.pipelines.load().tenants.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        if let Some(watcher) = self.watcher.lock().take() {
            watcher.abort();
        }
        if let Some(heartbeat) = self.heartbeat.lock().take() {
            heartbeat.abort();
        }
    }
}

/// Runs `task` every `every` until the sidecar is dropped (no reference to it is
/// held between ticks).
async fn every_tick<F, Fut>(sidecar: Weak<Sidecar>, every: Duration, task: F)
where
    F: Fn(Arc<Sidecar>) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(sidecar) = sidecar.upgrade() else {
            return;
        };
        task(sidecar).await;
    }
}

/// Keeps this replica counted among those sharing the store, and the count
/// current, and its reading of the store's clock, every `every`.
async fn heartbeat(sidecar: Weak<Sidecar>, every: Duration) {
    every_tick(sidecar, every, |sidecar| async move {
        if let Err(e) = sidecar
            .replicas
            .heartbeat(&sidecar.store, &sidecar.owner, every)
            .await
        {
            tracing::warn!("cannot count the replicas: {e}");
        }
        // This process's clock drifts from the store's: measured again.
        if let Err(e) = sidecar.store.measure_clock().await {
            tracing::warn!("cannot read the store's clock: {e}");
        }
    })
    .await;
}

/// What a sidecar is built for: serving events, or one tool's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Replica,
    Tool,
}

impl Sidecar {
    /// Opens the store, starts the runtime, loads the plugins and builds every
    /// tenant's pipeline. With the admin API configured, tenants and plugins come
    /// from the store (seeded from `config` when it is empty) and a task keeps them
    /// up to date with changes made through other replicas. On a shared store it
    /// counts itself among the replicas, which share every tenant's quota.
    pub async fn build(config: &Config) -> Result<Arc<Sidecar>, BuildError> {
        Self::build_as(config, Role::Replica).await
    }

    /// As [`Sidecar::build`], for a one-shot tool (`crossdesk plugin exec`,
    /// `plugin import` against a deployment's store): it takes no part in the
    /// replica count, which would shrink every tenant's quota while it runs,
    /// and follows no later changes.
    pub async fn build_tool(config: &Config) -> Result<Arc<Sidecar>, BuildError> {
        Self::build_as(config, Role::Tool).await
    }

    async fn build_as(config: &Config, role: Role) -> Result<Arc<Sidecar>, BuildError> {
        let store = Store::connect(
            config.storage.resolve_url()?.as_deref(),
            config.storage.ca_file.as_deref(),
            &config.data_dir,
        )
        .await?
        .with_kv_quota(config.runtime.kv_quota_bytes());
        let max_calls = config.server.max_concurrent_calls.max(1);
        let runtime = Arc::new(Runtime::build(
            &config.max_limits(),
            max_calls,
            &config.compiled_dir(),
            runtime::Allocator::Pooling,
            config.runtime.sharing(config.max_limits().max_memory_bytes),
        )?);
        let bounds = config.bounds()?;
        let control = match &config.admin {
            None => None,
            Some(admin) => {
                let key = match (&admin.master_key_env, &admin.master_key_file) {
                    (Some(var), _) => crate::secrets::MasterKey::from_env(var),
                    (None, Some(file)) => crate::secrets::MasterKey::load_or_create(file),
                    (None, None) => crate::secrets::MasterKey::load_or_create(
                        &config.data_dir.join("master.key"),
                    ),
                }
                .map_err(|e| BuildError::Admin(e.to_string()))?;
                let trusted = crate::signing::TrustedKeys::parse(&admin.trusted_keys)
                    .map_err(|e| BuildError::Admin(format!("trusted_keys: {e}")))?;
                let control =
                    ControlPlane::new(store.clone(), runtime.clone(), key, trusted, bounds.clone());
                if control.seed_from_config(config).await? {
                    tracing::info!(
                        backend = store.backend_name(),
                        "store seeded from the configuration file"
                    );
                }
                Some(Arc::new(control))
            }
        };
        let desired = match &control {
            Some(control) => control.desired_if_newer(0).await?.unwrap_or_default(),
            None => crate::control::desired_from_config(config, &runtime).await?,
        };
        let results = Cache::builder()
            .max_capacity(config.cache.max_bytes)
            .weigher(|_key, actions: &Arc<Vec<pb::Action>>| {
                let bytes: usize = actions.iter().map(Message::encoded_len).sum();
                u32::try_from(bytes.saturating_add(64)).unwrap_or(u32::MAX)
            })
            .time_to_live(Duration::from_secs(config.cache.ttl_secs))
            .build();
        // One name for this process in the shared store: heartbeats, claims, leases.
        let owner = crate::store::new_replica_name();
        let responses = idempotency::Responses::new(
            &config.idempotency,
            Duration::from_millis(config.server.request_timeout_ms),
            &store,
            owner.clone(),
        )
        .await?;
        let customers = ordering::CustomerOrder::new(
            &store,
            owner.clone(),
            Duration::from_millis(config.server.request_timeout_ms),
        );
        let sidecar = Arc::new(Sidecar {
            runtime,
            history: crate::history::ContactHistory::new(store.clone()),
            insights: crate::insights::Insights::new(
                store.clone(),
                &config.insights,
                control.as_ref().map(ControlPlane::erasure_marks),
            ),
            store,
            bounds,
            pipelines: ArcSwap::from_pointee(Pipelines::default()),
            control,
            reload: tokio::sync::Mutex::new(()),
            admissions: Mutex::new(HashMap::new()),
            replicas: Replicas::default(),
            owner,
            watcher: Mutex::new(None),
            heartbeat: Mutex::new(None),
            results,
            responses,
            customers,
            tool_calls: tokio::sync::Semaphore::new(MAX_TOOL_CALLS),
            tenant_tool_calls: Mutex::default(),
            max_text_bytes: config.server.max_text_bytes,
            request_timeout: Duration::from_millis(config.server.request_timeout_ms),
            callers: crate::auth::Callers::from_config(&config.callers)?,
        });
        sidecar.install(desired)?;
        if role == Role::Tool {
            return Ok(sidecar);
        }
        let poll = Duration::from_millis(config.storage.poll_ms.max(10));
        if sidecar.store.is_shared() {
            sidecar
                .replicas
                .heartbeat(&sidecar.store, &sidecar.owner, poll)
                .await?;
            let task = tokio::spawn(heartbeat(Arc::downgrade(&sidecar), poll));
            *sidecar.heartbeat.lock() = Some(task);
        }
        if sidecar.control.is_some() {
            let task = tokio::spawn(watch(Arc::downgrade(&sidecar), poll));
            *sidecar.watcher.lock() = Some(task);
        }
        Ok(sidecar)
    }

    /// The control plane, when the admin API is configured.
    pub fn control(&self) -> Option<&Arc<ControlPlane>> {
        self.control.as_ref()
    }

    /// The control version the running pipelines were built from.
    pub fn control_version(&self) -> u64 {
        self.pipelines.load().version
    }

    /// Who may submit events for which tenant.
    pub fn callers(&self) -> &crate::auth::Callers {
        &self.callers
    }

    pub(crate) fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Writes the report facts of the events handled here so far (see
    /// [`crate::insights::Insights::flush`]).
    pub async fn flush_insights(&self, wait: Duration) -> bool {
        self.insights.flush(wait).await
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Waits for room to run an admin tool (a dataset import, a command): one of
    /// the few tool calls that may run at once (the runtime then takes one of
    /// its call permits, as for events). Tools are not metered like events (they
    /// may use their whole deadline's CPU), so their number is what keeps admins'
    /// work from crowding out events. A tenant's tool calls (`tenant`: whose)
    /// take one slot at a time, waiting for it before they take one of all's,
    /// so that one tenant's admin cannot hold them all. `None` once the sidecar
    /// shuts down.
    pub(crate) async fn tool_slot(&self, tenant: Option<&str>) -> Option<ToolSlot<'_>> {
        let tenants = match tenant {
            Some(tenant) => {
                let one = self
                    .tenant_tool_calls
                    .lock()
                    .entry(tenant.to_owned())
                    .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(1)))
                    .clone();
                Some(one.acquire_owned().await.ok()?)
            }
            None => None,
        };
        Some(ToolSlot {
            _tenants: tenants,
            _all: self.tool_calls.acquire().await.ok()?,
        })
    }

    /// The server's default limits of a plugin call.
    pub(crate) fn default_limits(&self) -> crate::config::Limits {
        self.bounds.limits
    }

    /// The installed plugin of that name, as of the running pipelines.
    pub(crate) fn plugin_named(&self, name: &str) -> Option<Arc<LoadedPlugin>> {
        self.pipelines.load().plugins.get(name).cloned()
    }

    pub(crate) fn has_tenant(&self, tenant: &str) -> bool {
        self.pipelines.load().tenants.contains_key(tenant)
    }

    /// The loaded plugin and grant of `plugin` in the tenant's running pipeline,
    /// when the tenant has it enabled.
    pub(crate) fn step_of(
        &self,
        tenant: &str,
        plugin: &str,
    ) -> Option<(Arc<LoadedPlugin>, Arc<Grant>)> {
        let pipelines = self.pipelines.load();
        let step = pipelines
            .tenants
            .get(tenant)?
            .steps
            .iter()
            .find(|s| s.name == plugin)?
            .clone();
        Some((step.plugin.clone(), step.grant.clone()))
    }

    /// Handles one event: validates it, answers a redelivery from memory, or runs the
    /// tenant's pipeline.
    pub async fn handle(&self, event: pb::Event) -> Result<pb::HandleEventResponse, PipelineError> {
        self.handle_until(event, None, None).await
    }

    /// [`Sidecar::handle`], ended by the caller's deadline when it comes before
    /// the server's own (`server.request_timeout_ms`, counted from `arrived`, or
    /// from now).
    pub async fn handle_until(
        &self,
        event: pb::Event,
        arrived: Option<tokio::time::Instant>,
        caller: Option<CallerDeadline>,
    ) -> Result<pb::HandleEventResponse, PipelineError> {
        use crate::metrics::EventOutcome;
        let tenant = event.tenant_id.clone();
        let kind = crate::metrics::kind_label(event.kind());
        // The gRPC server's deadline is a backstop (`api`): this one ends every
        // event, of a stream too, and answers DEADLINE_EXCEEDED.
        let caller_left = caller.map(|caller| {
            let left = caller
                .at
                .saturating_duration_since(tokio::time::Instant::now());
            (left, caller.timeout)
        });
        let own_left = self
            .request_timeout
            .saturating_sub(arrived.map_or(Duration::ZERO, |at| at.elapsed()));
        let (limit, exceeded) = match caller_left {
            Some((left, asked)) if left < own_left => {
                (left, PipelineError::CallerDeadlineExceeded(asked))
            }
            _ => (
                own_left,
                PipelineError::DeadlineExceeded(self.request_timeout),
            ),
        };
        let result = tokio::time::timeout(limit, self.handle_counted(event))
            .await
            .unwrap_or(Err(exceeded));
        let outcome = match &result {
            Ok(response) if response.replayed => EventOutcome::replayed,
            Ok(_) => EventOutcome::ok,
            Err(PipelineError::InvalidEvent(_)) => EventOutcome::invalid,
            Err(PipelineError::UnknownTenant(_)) => EventOutcome::unknown_tenant,
            Err(PipelineError::Suspended(_)) => EventOutcome::suspended,
            Err(PipelineError::EventIdReused(_)) => EventOutcome::event_id_reused,
            Err(PipelineError::FailClosed { .. }) => EventOutcome::fail_closed,
            Err(PipelineError::OverQuota { .. }) => EventOutcome::over_quota,
            Err(PipelineError::Unavailable(_)) => EventOutcome::unavailable,
            Err(PipelineError::DeadlineExceeded(_) | PipelineError::CallerDeadlineExceeded(_)) => {
                EventOutcome::deadline_exceeded
            }
        };
        // An unknown tenant's id is whatever the caller sent: not a label.
        let tenant = match outcome {
            EventOutcome::unknown_tenant | EventOutcome::invalid => "",
            _ => tenant.as_str(),
        };
        self.runtime.metrics().event(tenant, kind, outcome);
        result
    }

    /// Finishes what outlives events: the responses not yet recorded are
    /// committed, and the report facts and contact counts not yet written (a
    /// second's worth) are written. Call it when the listeners have stopped.
    pub async fn shutdown(&self) {
        // Each bounded: a store that hangs must not hold the stop past the
        // supervisor's grace period, which ends in SIGKILL.
        let (responses, facts, contacts) = tokio::join!(
            tokio::time::timeout(SHUTDOWN_WRITE_WAIT, self.responses.flush()),
            self.insights.flush(SHUTDOWN_WRITE_WAIT),
            self.history.flush(SHUTDOWN_WRITE_WAIT),
        );
        if responses.is_err() {
            tracing::warn!(
                "responses queued not all written within {SHUTDOWN_WRITE_WAIT:?} (the store \
                 is down or slow): their events run again if delivered again"
            );
        }
        if !(facts && contacts) {
            tracing::warn!(
                "report facts or contact counts of the last events not all written within \
                 {SHUTDOWN_WRITE_WAIT:?} (the store is down or slow): they are lost"
            );
        }
        if self.store.is_shared() {
            // A heartbeat after the leave would count this replica again.
            if let Some(heartbeat) = self.heartbeat.lock().take() {
                heartbeat.abort();
            }
            match tokio::time::timeout(SHUTDOWN_LEAVE_WAIT, self.store.leave(&self.owner)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!("the other replicas count this one until it falls silent: {e}")
                }
                Err(_) => tracing::warn!(
                    "the other replicas count this one until it falls silent: the store did \
                     not answer within {SHUTDOWN_LEAVE_WAIT:?}"
                ),
            }
        }
    }

    /// The metrics as a scrape returns them.
    pub async fn render_metrics(&self) -> String {
        let (warm, _) = self.runtime.warm_instances();
        let store_up = self.store_health().await.is_ok();
        self.runtime.metrics().render(
            warm,
            self.runtime.plugin_memory_bytes(),
            self.replicas.count(),
            store_up,
        )
    }

    /// Whether the store answers now, within [`HEALTH_WAIT`]: a probe or a scrape
    /// must not hang on a database that stopped answering. Events do not wait
    /// for it: without it they run guarded by this replica's memory (see
    /// [`idempotency`]).
    pub async fn store_health(&self) -> Result<(), String> {
        match tokio::time::timeout(HEALTH_WAIT, self.store.health()).await {
            Ok(answer) => answer.map_err(|e| e.to_string()),
            Err(_) => Err(format!("no answer within {HEALTH_WAIT:?}")),
        }
    }

    async fn handle_counted(
        &self,
        mut event: pb::Event,
    ) -> Result<pb::HandleEventResponse, PipelineError> {
        self.validate(&event)?;
        // The event keeps this snapshot to the end, whatever changes meanwhile.
        let pipelines = self.pipelines.load();
        let tenant = pipelines
            .tenants
            .get(&event.tenant_id)
            .cloned()
            .ok_or_else(|| {
                let id = crate::grant::shown_id(&event.tenant_id);
                match pipelines
                    .unserved
                    .get(&event.tenant_id)
                    .map(|u| u.suspended)
                {
                    Some(true) => PipelineError::Suspended(id),
                    // Not the reason: the log has it, for the operator.
                    Some(false) => PipelineError::Unavailable(format!(
                        "tenant '{id}' cannot be served by this replica: its settings, a \
                         secret or a plugin they need cannot be loaded here (the sidecar's \
                         log says why)"
                    )),
                    None => PipelineError::UnknownTenant(id),
                }
            })?;
        drop(pipelines);
        if tenant.suspended {
            return Err(PipelineError::Suspended(event.tenant_id.clone()));
        }
        let content = ContentDigest::of(&mut event);
        let event_hash = content.with_text(&event.text);
        let key = crate::store::EventKey {
            of: tenant.data_of.clone(),
            event_id: event.event_id.clone(),
        };
        // A redelivery this replica remembers runs nothing: it is answered before
        // the quota, which bounds the events that run (a helpdesk retrying a
        // burst gets its answers, and its new events keep their share).
        if let Some(replayed) = self.responses.remembered(&key, &event_hash) {
            return replayed;
        }
        let _admitted = tenant.admission.admit(&event.tenant_id)?;
        let span = tracing::info_span!(
            "event",
            tenant = %event.tenant_id,
            event_id = %event.event_id,
            kind = ?event.kind(),
        );
        // What the reports record of the event dates from its arrival: an event
        // that arrived before an erasure of its customer is of before it (both
        // on the store's clock).
        let received_ms = self.store.now_ms();
        // Boxed, as the steps below: an event's future nests idempotency's, the
        // pipeline's and each call's, and unboxed it weighed 72 KB,
        // copied on every move (a tenth of the chain bench's CPU was `memmove`).
        let run = Box::pin(async {
            let turn = match event.customer.as_ref().map(|c| c.id.as_str()) {
                Some(customer) if !customer.is_empty() => {
                    Some(self.customers.turn(&event.tenant_id, customer).await)
                }
                _ => None,
            };
            let response = self.run(&tenant, &event, &content).await;
            if let Some(turn) = turn {
                turn.finish().await;
            }
            let response = response?;
            self.history
                .record(&tenant.data_of, &event, &response.actions)
                .await;
            self.insights.record(
                &tenant.data_of,
                (&event, received_ms),
                &response.actions,
                &tenant.insight_rules,
            );
            Ok(response)
        });
        self.responses
            .answer(key, event_hash, run)
            .instrument(span)
            .await
    }

    fn validate(&self, event: &pb::Event) -> Result<(), PipelineError> {
        crossdesk_proto::rules::check(event, self.max_text_bytes)
            .map_err(PipelineError::InvalidEvent)
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    /// A tenant's tool calls take one slot at a time: a second waits for the
    /// first, while another tenant's takes the other slot at once.
    #[tokio::test]
    async fn one_tenant_holds_one_tool_slot_at_a_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::parse("").expect("config");
        config.data_dir = dir.path().to_owned();
        let sidecar = Sidecar::build(&config).await.expect("sidecar");
        let acme = sidecar.tool_slot(Some("acme")).await.expect("a slot");
        let mut again = Box::pin(sidecar.tool_slot(Some("acme")));
        assert!(
            (&mut again).now_or_never().is_none(),
            "acme waits for its first"
        );
        let globex = sidecar.tool_slot(Some("globex")).now_or_never().flatten();
        assert!(globex.is_some(), "globex takes the other slot");
        drop(acme);
        assert!(
            again.now_or_never().flatten().is_some(),
            "then acme's second"
        );
    }
}
