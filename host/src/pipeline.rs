//! The pipeline: what happens to one event between the gRPC edge and the plugins.
//!
//! It owns the tenants' plugin chains, event validation, idempotency (the same event
//! id returns the first response without running plugins again), the moka cache of
//! cacheable plugin results, and the outcome of every plugin call. Plugins run one
//! after another in the tenant's order; when a plugin replaces an agent's draft, the
//! plugins after it see the new draft.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use prost::Message;
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::config::{Config, PluginGrant};
use crate::pb;
use crate::runtime::{self, FailureKind, Grant, LoadedPlugin, Runtime, http::OutboundPolicy};
use crate::store::Store;

/// Longest accepted event id, in bytes.
const MAX_EVENT_ID: usize = 256;

/// Why an event got no response. Each maps to one gRPC status code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    InvalidEvent(String),
    #[error("unknown tenant '{0}'")]
    UnknownTenant(String),
    #[error("event id '{0}' was already used for a different event")]
    EventIdReused(String),
    #[error("plugin '{plugin}' is fail-closed and did not succeed: {message}")]
    FailClosed { plugin: String, message: String },
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
    #[error("plugin '{name}': {source}")]
    Load {
        name: String,
        source: runtime::LoadError,
    },
    #[error("tenant '{tenant}' plugin '{plugin}': {message}")]
    Grant {
        tenant: String,
        plugin: String,
        message: String,
    },
}

/// One plugin in a tenant's chain, with everything the tenant granted it.
struct Step {
    name: String,
    plugin: Arc<LoadedPlugin>,
    grant: Arc<Grant>,
    fail_closed: bool,
    /// Hash of the tenant's settings for this plugin, part of the cache key.
    config_hash: [u8; 32],
}

struct Tenant {
    steps: Vec<Step>,
    admission: Admission,
}

/// A tenant's quota at work: events in flight and the rate of new ones.
struct Admission {
    in_flight: tokio::sync::Semaphore,
    max_in_flight: u32,
    rate: governor::DefaultDirectRateLimiter,
    events_per_second: u32,
}

/// How long a caller turned away for too many events in flight should wait: they
/// end within a plugin deadline or two, usually much sooner.
const IN_FLIGHT_RETRY: Duration = Duration::from_millis(50);

impl Admission {
    fn new(quota: crate::config::Quota) -> Admission {
        let at_least_one =
            |n: u32| std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN);
        let rate = governor::Quota::per_second(at_least_one(quota.events_per_second))
            .allow_burst(at_least_one(quota.burst));
        Admission {
            in_flight: tokio::sync::Semaphore::new(quota.max_in_flight as usize),
            max_in_flight: quota.max_in_flight,
            rate: governor::RateLimiter::direct(rate),
            events_per_second: quota.events_per_second,
        }
    }

    /// Admits one event of `tenant`, or says when to try again. The permit is held
    /// while the event is processed.
    fn admit(&self, tenant: &str) -> Result<tokio::sync::SemaphorePermit<'_>, PipelineError> {
        use governor::clock::{Clock, DefaultClock};
        if let Err(not_until) = self.rate.check() {
            return Err(PipelineError::OverQuota {
                tenant: tenant.to_owned(),
                reason: format!("{} events per second", self.events_per_second),
                retry_after: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .max(Duration::from_millis(1)),
            });
        }
        self.in_flight
            .try_acquire()
            .map_err(|_| PipelineError::OverQuota {
                tenant: tenant.to_owned(),
                reason: format!("{} events in flight", self.max_in_flight),
                retry_after: IN_FLIGHT_RETRY,
            })
    }
}

/// A response remembered for redelivery, with the hash of the event it answered.
struct Recorded {
    event_hash: [u8; 32],
    response: pb::HandleEventResponse,
}

/// The assembled sidecar: runtime, plugins, tenants, caches.
pub struct Sidecar {
    runtime: Arc<Runtime>,
    tenants: HashMap<String, Tenant>,
    results: Cache<[u8; 32], Arc<Vec<pb::Action>>>,
    responses: Cache<(String, String), Arc<Recorded>>,
    calls: Arc<tokio::sync::Semaphore>,
    max_text_bytes: usize,
    callers: crate::auth::Callers,
}

impl std::fmt::Debug for Sidecar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sidecar")
            .field("tenants", &self.tenants.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Sidecar {
    /// Opens the store, starts the runtime and loads every installed plugin.
    pub async fn build(config: &Config) -> Result<Sidecar, BuildError> {
        let store = Store::open(&config.data_dir)?;
        let max_calls = config.server.max_concurrent_calls.max(1);
        let runtime = Arc::new(Runtime::new(
            &config.max_limits(),
            max_calls,
            &config.data_dir,
        )?);
        let mut plugins = HashMap::new();
        for source in &config.plugins {
            let loaded = runtime
                .load(&config.plugin_path(source))
                .await
                .map_err(|source_err| BuildError::Load {
                    name: source.name.clone(),
                    source: source_err,
                })?;
            tracing::info!(
                plugin = %source.name,
                version = %loaded.manifest.version,
                digest = %&loaded.digest[..12],
                "loaded plugin"
            );
            plugins.insert(source.name.clone(), Arc::new(loaded));
        }
        let mut tenants = HashMap::new();
        for tenant in &config.tenants {
            let mut steps = Vec::new();
            for grant in tenant.plugins.iter().filter(|g| g.enabled) {
                let plugin =
                    plugins
                        .get(&grant.name)
                        .cloned()
                        .ok_or_else(|| BuildError::Grant {
                            tenant: tenant.id.clone(),
                            plugin: grant.name.clone(),
                            message: "no installed plugin has that name".into(),
                        })?;
                steps.push(make_step(config, &tenant.id, grant, plugin, &store)?);
            }
            let admission = Admission::new(config.quota.with(&tenant.quota));
            tenants.insert(tenant.id.clone(), Tenant { steps, admission });
        }
        let results = Cache::builder()
            .max_capacity(config.cache.max_bytes)
            .weigher(|_key, actions: &Arc<Vec<pb::Action>>| {
                let bytes: usize = actions.iter().map(Message::encoded_len).sum();
                u32::try_from(bytes + 64).unwrap_or(u32::MAX)
            })
            .time_to_live(Duration::from_secs(config.cache.ttl_secs))
            .build();
        let responses = Cache::builder()
            .max_capacity(config.idempotency.max_entries)
            .time_to_live(Duration::from_secs(config.idempotency.ttl_secs))
            .build();
        Ok(Sidecar {
            runtime,
            tenants,
            results,
            responses,
            calls: Arc::new(tokio::sync::Semaphore::new(max_calls as usize)),
            max_text_bytes: config.server.max_text_bytes,
            callers: crate::auth::Callers::from_config(&config.callers)?,
        })
    }

    /// Who may submit events for which tenant.
    pub fn callers(&self) -> &crate::auth::Callers {
        &self.callers
    }

    /// Handles one event: validates it, answers a redelivery from memory, or runs the
    /// tenant's pipeline.
    pub async fn handle(&self, event: pb::Event) -> Result<pb::HandleEventResponse, PipelineError> {
        self.validate(&event)?;
        let tenant = self
            .tenants
            .get(&event.tenant_id)
            .ok_or_else(|| PipelineError::UnknownTenant(event.tenant_id.clone()))?;
        let _admitted = tenant.admission.admit(&event.tenant_id)?;
        let event_hash = hash_event(&event, &event.text);
        let key = (event.tenant_id.clone(), event.event_id.clone());
        let span = tracing::info_span!(
            "event",
            tenant = %event.tenant_id,
            event_id = %event.event_id,
            kind = ?event.kind(),
        );
        // Concurrent deliveries of one event id wait for the first one's result.
        let entry = self
            .responses
            .entry(key)
            .or_try_insert_with(
                async {
                    let response = self.run(tenant, &event).await?;
                    Ok::<_, PipelineError>(Arc::new(Recorded {
                        event_hash,
                        response,
                    }))
                }
                .instrument(span),
            )
            .await
            .map_err(|e: Arc<PipelineError>| (*e).clone())?;
        let recorded = entry.value();
        if recorded.event_hash != event_hash {
            return Err(PipelineError::EventIdReused(event.event_id));
        }
        let mut response = recorded.response.clone();
        response.replayed = !entry.is_fresh();
        Ok(response)
    }

    async fn run(
        &self,
        tenant: &Tenant,
        event: &pb::Event,
    ) -> Result<pb::HandleEventResponse, PipelineError> {
        let mut wit_event = runtime::event_to_wit(event);
        let mut actions = Vec::new();
        let mut outcomes = Vec::with_capacity(tenant.steps.len());
        for step in &tenant.steps {
            let manifest = &step.plugin.manifest;
            let mut outcome = pb::PluginOutcome {
                plugin: step.name.clone(),
                plugin_version: manifest.version.clone(),
                ..Default::default()
            };
            if !manifest.handles(&wit_event.kind) {
                outcome.set_status(pb::plugin_outcome::Status::Skipped);
                outcomes.push(outcome);
                continue;
            }
            let started = Instant::now();
            let span = tracing::info_span!(
                "plugin",
                plugin = %step.name,
                outcome = tracing::field::Empty,
                duration_us = tracing::field::Empty,
            );
            let result = self
                .call_step(step, event, &wit_event)
                .instrument(span.clone())
                .await;
            outcome.duration_micros =
                u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            match result {
                Ok((step_actions, cache_hit)) => {
                    outcome.set_status(pb::plugin_outcome::Status::Ok);
                    outcome.cache_hit = cache_hit;
                    // Later plugins see the draft as this one left it.
                    if let Some(draft) = step_actions.iter().rev().find_map(|a| match &a.kind {
                        Some(pb::action::Kind::ReplaceDraft(text)) => Some(text.clone()),
                        _ => None,
                    }) {
                        wit_event.text = draft;
                    }
                    actions.extend(step_actions.iter().cloned());
                }
                Err(failure) => {
                    use pb::plugin_outcome::Status;
                    outcome.set_status(match failure.kind {
                        FailureKind::Failed => Status::Failed,
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
            outcomes.push(outcome);
        }
        Ok(pb::HandleEventResponse {
            event_id: event.event_id.clone(),
            actions,
            outcomes,
            replayed: false,
        })
    }

    /// Runs one plugin, through the result cache when its output is cacheable.
    async fn call_step(
        &self,
        step: &Step,
        event: &pb::Event,
        wit_event: &runtime::WitEvent,
    ) -> Result<(Arc<Vec<pb::Action>>, bool), runtime::CallFailure> {
        let call = async {
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
        };
        if !step.plugin.manifest.cacheable {
            return call.await.map(|actions| (actions, false));
        }
        // A plugin that reads storage answers differently once its data changed (a
        // translation memory learned a correction): the data's generation is part of
        // the key, so such a change invalidates the plugin's cached results.
        let generation = match &step.grant.kv {
            None => 0,
            Some(store) => match store
                .generation(&step.grant.tenant, &step.grant.plugin)
                .await
            {
                Ok(generation) => generation,
                Err(e) => {
                    tracing::warn!(plugin = %step.name, "result cache bypassed: {e}");
                    return call.await.map(|actions| (actions, false));
                }
            },
        };
        let mut hasher = Sha256::new();
        hasher.update(step.plugin.digest.as_bytes());
        hasher.update(step.config_hash);
        hasher.update(generation.to_le_bytes());
        hasher.update(hash_event(event, &wit_event.text));
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
        Ok((actions, !computed))
    }

    fn validate(&self, event: &pb::Event) -> Result<(), PipelineError> {
        let invalid = |msg: String| Err(PipelineError::InvalidEvent(msg));
        if event.tenant_id.is_empty() {
            return invalid("event.tenant_id is required".into());
        }
        if event.event_id.is_empty() {
            return invalid("event.event_id is required (it is the idempotency key)".into());
        }
        if event.event_id.len() > MAX_EVENT_ID {
            return invalid(format!(
                "event.event_id is longer than {MAX_EVENT_ID} bytes"
            ));
        }
        match pb::EventKind::try_from(event.kind) {
            Err(_) => return invalid(format!("event.kind: unknown value {}", event.kind)),
            Ok(pb::EventKind::Unspecified) => return invalid("event.kind is required".into()),
            Ok(pb::EventKind::Custom) if event.custom_kind.is_empty() => {
                return invalid(
                    "event.custom_kind is required when kind is EVENT_KIND_CUSTOM".into(),
                );
            }
            Ok(_) => {}
        }
        match pb::Channel::try_from(event.channel) {
            Err(_) => return invalid(format!("event.channel: unknown value {}", event.channel)),
            Ok(pb::Channel::Custom) if event.custom_channel.is_empty() => {
                return invalid(
                    "event.custom_channel is required when channel is CHANNEL_CUSTOM".into(),
                );
            }
            Ok(_) => {}
        }
        if event.text.len() > self.max_text_bytes {
            return invalid(format!(
                "event.text is {} bytes; the limit is {}",
                event.text.len(),
                self.max_text_bytes
            ));
        }
        Ok(())
    }
}

/// Builds a tenant's step: checks the settings against the manifest and prepares
/// the grant.
fn make_step(
    config: &Config,
    tenant: &str,
    grant: &PluginGrant,
    plugin: Arc<LoadedPlugin>,
    store: &Store,
) -> Result<Step, BuildError> {
    let error = |message: String| BuildError::Grant {
        tenant: tenant.to_owned(),
        plugin: grant.name.clone(),
        message,
    };
    let manifest = &plugin.manifest;
    for key in grant.config.keys() {
        if !manifest.config_keys.contains(key) {
            return Err(error(format!(
                "config key '{key}' is not one the plugin reads (it reads: {})",
                if manifest.config_keys.is_empty() {
                    "none".to_owned()
                } else {
                    manifest.config_keys.join(", ")
                }
            )));
        }
    }
    if manifest.wants_kv && !grant.kv {
        tracing::info!(%tenant, plugin = %grant.name, "plugin asks for key-value storage, not granted");
    }
    let outbound = if grant.allowed_hosts.is_empty() {
        None
    } else {
        Some(OutboundPolicy::new(&grant.allowed_hosts, &grant.secrets).map_err(error)?)
    };
    let mut hasher = Sha256::new();
    for (key, value) in &grant.config {
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
            limits: config.limits.with(&grant.limits),
            kv: grant.kv.then(|| store.clone()),
            config: grant
                .config
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            outbound,
        }),
        plugin,
        fail_closed: grant.fail_closed,
        config_hash: hasher.finalize().into(),
    })
}

/// Hash of what an event says, without its id and timestamp, with `text` as the
/// current text. Maps are `BTreeMap`s, so the encoding is deterministic.
fn hash_event(event: &pb::Event, text: &str) -> [u8; 32] {
    let content = pb::Event {
        event_id: String::new(),
        occurred_at: None,
        text: text.to_owned(),
        ..event.clone()
    };
    Sha256::digest(content.encode_to_vec()).into()
}
