//! Running one event through its tenant's chain: each plugin in order, through the
//! result cache when the plugin's output is cacheable, each call's outcome
//! recorded; a replaced draft is what the next plugin sees.

use std::sync::Arc;
use std::time::Instant;

use prost::Message;
use sha2::{Digest, Sha256};
use tracing::Instrument;

use super::chains::{Step, Tenant};
use super::{HOST_ATTRIBUTE_PREFIX, PIPELINE_ATTRIBUTE, PipelineError, STORE_WAIT, Sidecar};
use crate::pb;
use crate::runtime::{self, FailureKind};
use crate::store::Store;

impl Sidecar {
    pub(super) async fn run(
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
            // At `debug`: a log subscriber at `info` formats each span it enables,
            // which cost a 4-plugin chain about 8 % of its CPU per event
            // (BENCHMARKS.md); traces take it at any level ([`is_plugin_span`]).
            let span = tracing::debug_span!(
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
                    tracing::warn!(plugin = %step.name, "plugin {:?}: {}", failure.kind, failure.message);
                    if step.fail_closed {
                        return Err(PipelineError::FailClosed {
                            plugin: step.name.clone(),
                            message: failure.message,
                            retryable: failure.retryable,
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
            let generation = store.generation(grant.tenant(), plugin);
            let generation = match tokio::time::timeout(STORE_WAIT, generation).await {
                Ok(read) => read.map_err(|e| e.to_string()),
                Err(_) => Err(format!("the store did not answer within {STORE_WAIT:?}")),
            };
            match generation {
                Ok(generation) => hasher.update(generation.to_le_bytes()),
                Err(e) => {
                    tracing::warn!(plugin = %step.name, "result cache bypassed: {e}");
                    return call.await.map(|actions| (actions, false));
                }
            }
        }
        hasher.update(step.plugin.digest.as_bytes());
        hasher.update(step.grant_hash);
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
}

/// Whether `metadata` is that of the span of one plugin call (`plugin`, with the
/// call's outcome and duration): a trace exporter's filter lets it through
/// whatever the logs' level.
pub fn is_plugin_span(metadata: &tracing::Metadata<'_>) -> bool {
    metadata.is_span() && metadata.name() == "plugin" && metadata.target() == module_path!()
}

/// Hash of what an event says apart from its id, time and text, computed once per
/// event; the idempotency record and each cacheable step add the text they see.
/// Maps are `BTreeMap`s, so the encoding is deterministic.
pub(super) struct ContentDigest([u8; 32]);

impl ContentDigest {
    /// Hashes `event` without its id, time and text, which it sets aside meanwhile
    /// rather than copying the whole event.
    pub(super) fn of(event: &mut pb::Event) -> ContentDigest {
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
    pub(super) fn with_text(&self, text: &str) -> [u8; 32] {
        Sha256::new()
            .chain_update(self.0)
            .chain_update(text.as_bytes())
            .finalize()
            .into()
    }
}
