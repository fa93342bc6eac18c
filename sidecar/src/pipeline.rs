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
//! events run concurrently ([`crate::ordering`], across replicas too).
//!
//! The chains live in an immutable snapshot swapped atomically when the control
//! plane changes: an event takes the snapshot current when it arrives and finishes
//! with it, so a change applies to the next event and never to half of one. With
//! the admin API on, a background task polls the store's control version, so a
//! change made through another replica is applied here too.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use moka::future::Cache;
use prost::Message;
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::admission::{Admission, Replicas};
use crate::config::{Config, Quota};
use crate::control::{
    Bounds, ControlError, ControlPlane, Desired, GrantDoc, SecretValue, TenantDoc,
};
use crate::pb;
use crate::runtime::{self, FailureKind, Grant, LoadedPlugin, Runtime, http::OutboundPolicy};
use crate::store::Store;

/// Event attributes with this prefix are set by the host, never by integrators.
pub const HOST_ATTRIBUTE_PREFIX: &str = "crossdesk.";
/// The installed names of the plugins that run for the event, in order, comma
/// separated (e.g. `translation,recommend,schedule`).
pub const PIPELINE_ATTRIBUTE: &str = "crossdesk.pipeline";

/// Why an event got no response. Each maps to one gRPC status code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    InvalidEvent(String),
    #[error("unknown tenant '{0}'")]
    UnknownTenant(String),
    #[error("tenant '{0}' is suspended")]
    Suspended(String),
    #[error("event id '{0}' was already used for a different event")]
    EventIdReused(String),
    #[error("plugin '{plugin}' is fail-closed and did not succeed: {message}")]
    FailClosed { plugin: String, message: String },
    /// Something the event needs is unreachable for now (the store); retry.
    #[error("{0}")]
    Unavailable(String),
    #[error("tenant '{tenant}' is over its quota ({reason}); retry in {} ms", retry_after.as_millis())]
    OverQuota {
        tenant: String,
        reason: String,
        retry_after: Duration,
    },
}

/// Why the sidecar could not be assembled from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Runtime(#[from] runtime::RuntimeError),
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error("tenant '{tenant}' plugin '{plugin}': {message}")]
    Grant {
        tenant: String,
        plugin: String,
        message: String,
    },
    #[error("admin: {0}")]
    Admin(String),
}

/// One plugin in a tenant's chain, with everything the tenant granted it.
struct Step {
    name: String,
    plugin: Arc<LoadedPlugin>,
    grant: Arc<Grant>,
    fail_closed: bool,
    /// Hash of the tenant's settings for this plugin, part of the cache key.
    settings_hash: [u8; 32],
}

struct Tenant {
    suspended: bool,
    /// Steps in the default order.
    steps: Vec<Arc<Step>>,
    /// Steps in the order set for an event kind, by the kind's contract name.
    by_kind: HashMap<String, Vec<Arc<Step>>>,
    admission: Arc<Admission>,
    /// The tenant's own categories and business hours, for the reports.
    insight_rules: crate::insights::TenantRules,
    /// Hash of everything the tenant was built from, to reuse it when unchanged.
    fingerprint: [u8; 32],
}

/// What runs, as of one control version.
#[derive(Default)]
struct Pipelines {
    version: u64,
    /// The installed plugins, by name.
    plugins: HashMap<String, Arc<LoadedPlugin>>,
    tenants: HashMap<String, Arc<Tenant>>,
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
    /// Admission state by tenant, kept across rebuilds while the quota is unchanged
    /// (a change of settings must not reset a tenant's rate limit).
    admissions: Mutex<HashMap<String, (Quota, Arc<Admission>)>>,
    /// How many replicas share the quotas (counted by heartbeats in a shared store).
    replicas: Replicas,
    /// This process's name among the replicas.
    owner: String,
    watcher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    heartbeat: Mutex<Option<tokio::task::JoinHandle<()>>>,
    results: Cache<[u8; 32], Arc<Vec<pb::Action>>>,
    responses: crate::idempotency::Responses,
    /// A customer's events run one at a time, here and across replicas.
    customers: crate::ordering::CustomerOrder,
    calls: Arc<tokio::sync::Semaphore>,
    max_text_bytes: usize,
    callers: crate::auth::Callers,
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
/// current, every `every`.
async fn heartbeat(sidecar: Weak<Sidecar>, every: Duration) {
    every_tick(sidecar, every, |sidecar| async move {
        if let Err(e) = sidecar
            .replicas
            .heartbeat(&sidecar.store, &sidecar.owner, every)
            .await
        {
            tracing::warn!("cannot count the replicas: {e}");
        }
    })
    .await;
}

impl Sidecar {
    /// Opens the store, starts the runtime, loads the plugins and builds every
    /// tenant's pipeline. With the admin API configured, tenants and plugins come
    /// from the store (seeded from `config` when it is empty) and a task keeps them
    /// up to date with changes made through other replicas.
    pub async fn build(config: &Config) -> Result<Arc<Sidecar>, BuildError> {
        let store =
            Store::connect(config.storage.resolve_url()?.as_deref(), &config.data_dir).await?;
        let max_calls = config.server.max_concurrent_calls.max(1);
        let runtime = Arc::new(Runtime::build(
            &config.max_limits(),
            max_calls,
            &config.compiled_dir(),
            runtime::Allocator::Pooling,
            config.runtime.sharing(),
        )?);
        let bounds = config.bounds()?;
        let control = match &config.admin {
            None => None,
            Some(admin) => {
                let key = match (&admin.master_key_env, &admin.master_key_file) {
                    (Some(var), _) => {
                        let text = std::env::var(var).map_err(|_| {
                            BuildError::Admin(format!(
                                "environment variable {var} (master key) is not set"
                            ))
                        })?;
                        crate::secrets::MasterKey::from_base64(&text)
                    }
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
        let responses = crate::idempotency::Responses::new(
            &config.idempotency,
            Duration::from_millis(config.server.request_timeout_ms),
            &store,
            owner.clone(),
        )
        .await?;
        let customers = crate::ordering::CustomerOrder::new(
            &store,
            owner.clone(),
            Duration::from_millis(config.server.request_timeout_ms),
        );
        let sidecar = Arc::new(Sidecar {
            runtime,
            history: crate::history::ContactHistory::new(store.clone()),
            insights: crate::insights::Insights::new(store.clone(), &config.insights),
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
            calls: Arc::new(tokio::sync::Semaphore::new(max_calls as usize)),
            max_text_bytes: config.server.max_text_bytes,
            callers: crate::auth::Callers::from_config(&config.callers)?,
        });
        sidecar.install(desired)?;
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

    /// Rebuilds the pipelines when the store holds a newer control state. Called
    /// after every admin change and by the polling task.
    pub async fn refresh(&self) -> Result<(), BuildError> {
        let Some(control) = &self.control else {
            return Ok(());
        };
        let _one_at_a_time = self.reload.lock().await;
        if let Some(desired) = control.desired_if_newer(self.control_version()).await? {
            self.install(desired)?;
        }
        Ok(())
    }

    /// Builds pipelines for `desired` and makes them current. Tenants whose inputs
    /// did not change keep their built steps.
    fn install(&self, desired: Desired) -> Result<(), BuildError> {
        let current = self.pipelines.load_full();
        let mut tenants = HashMap::new();
        for (id, doc) in &desired.tenants {
            let fingerprint = fingerprint(id, doc, &desired);
            let tenant = match current.tenants.get(id) {
                Some(existing) if existing.fingerprint == fingerprint => existing.clone(),
                _ => Arc::new(self.build_tenant(id, doc, &desired, fingerprint)?),
            };
            tenants.insert(id.clone(), tenant);
        }
        self.admissions
            .lock()
            .retain(|id, _| tenants.contains_key(id));
        tracing::info!(
            version = desired.version,
            tenants = tenants.len(),
            "pipelines updated"
        );
        self.pipelines.store(Arc::new(Pipelines {
            version: desired.version,
            plugins: desired.plugins.clone(),
            tenants,
        }));
        Ok(())
    }

    fn build_tenant(
        &self,
        id: &str,
        doc: &TenantDoc,
        desired: &Desired,
        fingerprint: [u8; 32],
    ) -> Result<Tenant, BuildError> {
        let mut steps = HashMap::new();
        let mut order = Vec::new();
        for grant in doc.plugins.iter().filter(|g| g.enabled) {
            let plugin =
                desired
                    .plugins
                    .get(&grant.name)
                    .cloned()
                    .ok_or_else(|| BuildError::Grant {
                        tenant: id.to_owned(),
                        plugin: grant.name.clone(),
                        message: "no installed plugin has that name".into(),
                    })?;
            let secrets = desired
                .secrets
                .get(&(id.to_owned(), grant.name.clone()))
                .map_or(&[][..], Vec::as_slice);
            let step = Arc::new(make_step(
                &self.bounds,
                id,
                grant.isolation.max(doc.isolation),
                grant,
                plugin,
                secrets,
                &self.store,
            )?);
            steps.insert(grant.name.clone(), step.clone());
            order.push(step);
        }
        let by_kind = doc
            .pipelines
            .iter()
            .map(|(kind, names)| {
                let chain = names.iter().filter_map(|n| steps.get(n).cloned()).collect();
                (kind.clone(), chain)
            })
            .collect();
        let quota = self.bounds.quota.with(&doc.quota);
        let admission = {
            let mut admissions = self.admissions.lock();
            match admissions.get(id) {
                Some((q, admission)) if *q == quota => admission.clone(),
                _ => {
                    let admission = Arc::new(Admission::new(quota, self.replicas.clone()));
                    admissions.insert(id.to_owned(), (quota, admission.clone()));
                    admission
                }
            }
        };
        Ok(Tenant {
            suspended: doc.suspended,
            steps: order,
            by_kind,
            admission,
            insight_rules: crate::insights::TenantRules {
                categories: crate::insights::categories::prepared(&doc.categories),
                business_hours: doc.business_hours.clone(),
            },
            fingerprint,
        })
    }

    /// Who may submit events for which tenant.
    pub fn callers(&self) -> &crate::auth::Callers {
        &self.callers
    }

    pub(crate) fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
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
        use crate::metrics::EventOutcome;
        let tenant = event.tenant_id.clone();
        let kind = crate::metrics::kind_label(event.kind());
        let result = self.handle_counted(event).await;
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
    /// committed. Call it when the listeners have stopped.
    pub async fn shutdown(&self) {
        self.responses.flush().await;
        if self.store.is_shared()
            && let Err(e) = self.store.leave(&self.owner).await
        {
            tracing::warn!("the other replicas count this one until it falls silent: {e}");
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

    /// Whether the store answers now. Events do not wait for it: without it they
    /// run guarded by this replica's memory (see [`crate::idempotency`]).
    pub async fn store_health(&self) -> Result<(), String> {
        self.store
            .control_version()
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    async fn handle_counted(
        &self,
        mut event: pb::Event,
    ) -> Result<pb::HandleEventResponse, PipelineError> {
        self.validate(&event)?;
        // The event keeps this snapshot to the end, whatever changes meanwhile.
        let tenant = self
            .pipelines
            .load()
            .tenants
            .get(&event.tenant_id)
            .cloned()
            .ok_or_else(|| {
                PipelineError::UnknownTenant(crate::grant::shown_id(&event.tenant_id))
            })?;
        if tenant.suspended {
            return Err(PipelineError::Suspended(event.tenant_id.clone()));
        }
        let _admitted = tenant.admission.admit(&event.tenant_id)?;
        let content = ContentDigest::of(&mut event);
        let event_hash = content.with_text(&event.text);
        let key = crate::store::EventKey {
            tenant: event.tenant_id.clone(),
            event_id: event.event_id.clone(),
        };
        let span = tracing::info_span!(
            "event",
            tenant = %event.tenant_id,
            event_id = %event.event_id,
            kind = ?event.kind(),
        );
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
            self.history.record(&event, &response.actions).await;
            self.insights
                .record(&event, &response.actions, &tenant.insight_rules);
            Ok(response)
        });
        self.responses
            .answer(key, event_hash, run)
            .instrument(span)
            .await
    }

    async fn run(
        &self,
        tenant: &Tenant,
        event: &pb::Event,
        content: &ContentDigest,
    ) -> Result<pb::HandleEventResponse, PipelineError> {
        let mut response = pb::HandleEventResponse {
            event_id: event.event_id.clone(),
            ..Default::default()
        };
        if tenant.steps.is_empty() {
            return Ok(response);
        }
        let mut wit_event = runtime::event_to_wit(event);
        let steps = tenant
            .by_kind
            .get(&runtime::kind_name(&wit_event.kind))
            .unwrap_or(&tenant.steps);
        // Plugins may adapt to their neighbours (the scheduler offers routing
        // through translation only when the tenant runs it); the host states the
        // pipeline, and an integrator cannot.
        wit_event
            .attributes
            .retain(|(key, _)| !key.starts_with(HOST_ATTRIBUTE_PREFIX));
        wit_event.attributes.push((
            PIPELINE_ATTRIBUTE.to_owned(),
            steps
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(","),
        ));
        // Shared with each call (one that moves to the overtime thread owns its
        // event); copied only if a plugin replaces the draft while a call holds it.
        let mut wit_event = Arc::new(wit_event);
        response.outcomes.reserve(steps.len());
        for step in steps {
            let manifest = &step.plugin.manifest;
            let mut outcome = pb::PluginOutcome {
                plugin: step.name.clone(),
                plugin_version: manifest.version.clone(),
                ..Default::default()
            };
            if !manifest.handles(&wit_event.kind) {
                outcome.set_status(pb::plugin_outcome::Status::Skipped);
                response.outcomes.push(outcome);
                continue;
            }
            let started = Instant::now();
            let span = tracing::info_span!(
                "plugin",
                plugin = %step.name,
                outcome = tracing::field::Empty,
                duration_us = tracing::field::Empty,
            );
            let result = Box::pin(self.call_step(step, content, &wit_event))
                .instrument(span.clone())
                .await;
            let elapsed = started.elapsed();
            outcome.duration_micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
            self.runtime.metrics().plugin_call(
                &step.name,
                match &result {
                    Ok(_) => "ok",
                    Err(failure) => match failure.kind {
                        FailureKind::TimedOut => "timed_out",
                        FailureKind::Denied => "denied",
                        _ => "failed",
                    },
                },
                elapsed.as_secs_f64(),
            );
            match result {
                Ok((step_actions, cache_hit)) => {
                    outcome.set_status(pb::plugin_outcome::Status::Ok);
                    outcome.cache_hit = cache_hit;
                    // Later plugins see the draft as this one left it.
                    if let Some(draft) = step_actions.iter().rev().find_map(|a| match &a.kind {
                        Some(pb::action::Kind::ReplaceDraft(text)) => Some(text.clone()),
                        _ => None,
                    }) {
                        Arc::make_mut(&mut wit_event).text = draft;
                    }
                    response.actions.extend(step_actions.iter().cloned());
                }
                Err(failure) => {
                    use pb::plugin_outcome::Status;
                    outcome.set_status(match failure.kind {
                        FailureKind::Failed
                        | FailureKind::InvalidOutput
                        | FailureKind::Reported => Status::Failed,
                        FailureKind::TimedOut => Status::TimedOut,
                        FailureKind::Denied => Status::Denied,
                    });
                    outcome.error = failure.message.clone();
                    tracing::warn!(parent: &span, plugin = %step.name, "plugin {:?}: {}", failure.kind, failure.message);
                    if step.fail_closed {
                        return Err(PipelineError::FailClosed {
                            plugin: step.name.clone(),
                            message: failure.message,
                        });
                    }
                }
            }
            span.record("outcome", outcome.status().as_str_name());
            span.record("duration_us", outcome.duration_micros);
            response.outcomes.push(outcome);
        }
        Ok(response)
    }

    /// Runs one plugin, through the result cache when its output is cacheable.
    async fn call_step(
        &self,
        step: &Step,
        content: &ContentDigest,
        wit_event: &Arc<runtime::WitEvent>,
    ) -> Result<(Arc<Vec<pb::Action>>, bool), runtime::CallFailure> {
        let call = Box::pin(async {
            let _permit = self
                .calls
                .acquire()
                .await
                .map_err(|_| runtime::CallFailure {
                    kind: FailureKind::Failed,
                    message: "the sidecar is shutting down".into(),
                })?;
            self.runtime
                .call(&step.plugin, &step.grant, wit_event)
                .await
                .map(Arc::new)
        });
        if !step.plugin.manifest.cacheable {
            return call.await.map(|actions| (actions, false));
        }
        // A plugin that reads storage answers differently once its data changed (a
        // translation memory learned a correction): the data's generation is part of
        // the key, so such a change invalidates the plugin's cached results.
        // So is the data of the plugins whose storage it reads.
        let grant = &step.grant;
        let mut sources: Vec<(&Store, &str)> = Vec::new();
        if let Some(store) = &grant.kv {
            sources.push((store, &grant.plugin));
        }
        if let Some(read) = &grant.kv_read {
            sources.extend(read.plugins.iter().map(|p| (&read.store, p.as_str())));
        }
        let mut hasher = Sha256::new();
        for (store, plugin) in sources {
            match store.generation(&grant.tenant, plugin).await {
                Ok(generation) => hasher.update(generation.to_le_bytes()),
                Err(e) => {
                    tracing::warn!(plugin = %step.name, "result cache bypassed: {e}");
                    return call.await.map(|actions| (actions, false));
                }
            }
        }
        hasher.update(step.plugin.digest.as_bytes());
        hasher.update(step.settings_hash);
        for (key, value) in &wit_event.attributes {
            if key.starts_with(HOST_ATTRIBUTE_PREFIX) {
                hasher.update((key.len() as u64).to_le_bytes());
                hasher.update(key.as_bytes());
                hasher.update((value.len() as u64).to_le_bytes());
                hasher.update(value.as_bytes());
            }
        }
        hasher.update(content.with_text(&wit_event.text));
        let key: [u8; 32] = hasher.finalize().into();
        let mut computed = false;
        let actions = self
            .results
            .try_get_with(key, async {
                computed = true;
                call.await
            })
            .await
            .map_err(|e| (*e).clone())?;
        self.runtime.metrics().cache_lookup(&step.name, !computed);
        Ok((actions, !computed))
    }

    fn validate(&self, event: &pb::Event) -> Result<(), PipelineError> {
        crossdesk_proto::rules::check(event, self.max_text_bytes)
            .map_err(PipelineError::InvalidEvent)
    }
}

/// Builds a tenant's step from its (validated) grant: the limits, storage, settings
/// and outbound policy the plugin gets.
fn make_step(
    bounds: &Bounds,
    tenant: &str,
    isolation: runtime::Isolation,
    grant: &GrantDoc,
    plugin: Arc<LoadedPlugin>,
    secrets: &[SecretValue],
    store: &Store,
) -> Result<Step, BuildError> {
    let error = |message: String| BuildError::Grant {
        tenant: tenant.to_owned(),
        plugin: grant.name.clone(),
        message,
    };
    if plugin.manifest.wants_kv && !grant.kv {
        tracing::info!(%tenant, plugin = %grant.name, "plugin asks for key-value storage, not granted");
    }
    let outbound = if grant.allowed_hosts.is_empty() {
        None
    } else {
        let headers: Vec<crate::runtime::http::Secret<'_>> = secrets
            .iter()
            .map(|s| crate::runtime::http::Secret {
                host: &s.host,
                header: &s.header,
                value: &s.value,
            })
            .collect();
        Some(
            OutboundPolicy::new(&grant.allowed_hosts, &headers, bounds.private_hosts.clone())
                .map_err(error)?,
        )
    };
    let mut hasher = Sha256::new();
    for (key, value) in &grant.settings {
        hasher.update((key.len() as u64).to_le_bytes());
        hasher.update(key.as_bytes());
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value.as_bytes());
    }
    Ok(Step {
        name: grant.name.clone(),
        grant: Arc::new(Grant {
            tenant: tenant.to_owned(),
            plugin: grant.name.clone(),
            limits: bounds.limits.with(&grant.limits),
            kv: grant.kv.then(|| store.clone()),
            settings: grant
                .settings
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            outbound,
            kv_read: (!grant.kv_read.is_empty()).then(|| crate::runtime::KvRead {
                store: store.clone(),
                plugins: grant.kv_read.clone(),
            }),
            contact_history: None,
            isolation,
            // New with the step: the tenant is rebuilt on any change of its
            // document, plugin versions or secrets, and the old instances retire.
            warm: runtime::WarmKey::default(),
        }),
        plugin,
        fail_closed: grant.fail_closed,
        settings_hash: hasher.finalize().into(),
    })
}

/// Hash of everything a tenant's pipeline is built from: its document, the
/// digests of the plugins it names and its secrets.
fn fingerprint(id: &str, doc: &TenantDoc, desired: &Desired) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(id.as_bytes());
    hasher.update(serde_json::to_vec(doc).unwrap_or_default());
    for grant in &doc.plugins {
        hasher.update(grant.name.as_bytes());
        if let Some(plugin) = desired.plugins.get(&grant.name) {
            hasher.update(plugin.digest.as_bytes());
        }
        for secret in desired
            .secrets
            .get(&(id.to_owned(), grant.name.clone()))
            .into_iter()
            .flatten()
        {
            for part in [&secret.host, &secret.header, &secret.value] {
                hasher.update((part.len() as u64).to_le_bytes());
                hasher.update(part.as_bytes());
            }
        }
    }
    hasher.finalize().into()
}

/// Polls the store for changes made elsewhere until the sidecar is dropped.
async fn watch(sidecar: Weak<Sidecar>, every: Duration) {
    every_tick(sidecar, every, |sidecar| async move {
        let Some(control) = sidecar.control.clone() else {
            return;
        };
        match control.store().control_version().await {
            Ok(version) if version > sidecar.control_version() => {
                if let Err(e) = sidecar.refresh().await {
                    tracing::error!("cannot apply control change {version}: {e}");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot read the control version: {e}"),
        }
    })
    .await;
}

/// Hash of what an event says apart from its id, time and text, computed once per
/// event; the idempotency record and each cacheable step add the text they see.
/// Maps are `BTreeMap`s, so the encoding is deterministic.
struct ContentDigest([u8; 32]);

impl ContentDigest {
    /// Hashes `event` without its id, time and text, which it sets aside meanwhile
    /// rather than copying the whole event.
    fn of(event: &mut pb::Event) -> ContentDigest {
        let event_id = std::mem::take(&mut event.event_id);
        let occurred_at = event.occurred_at.take();
        let text = std::mem::take(&mut event.text);
        let digest = Sha256::digest(event.encode_to_vec()).into();
        event.event_id = event_id;
        event.occurred_at = occurred_at;
        event.text = text;
        ContentDigest(digest)
    }

    /// The digest of the event as it reads with `text`.
    fn with_text(&self, text: &str) -> [u8; 32] {
        Sha256::new()
            .chain_update(self.0)
            .chain_update(text.as_bytes())
            .finalize()
            .into()
    }
}
