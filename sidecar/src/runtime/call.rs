//! One plugin call: a fresh store under the grant's limits, the deadline and the CPU
//! budget armed, the plugin's function called, and whatever went wrong classified.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use wasmtime::{Store, Trap, UpdateDeadline};

use super::bindings::{self, WitEvent};
use super::overtime::{CpuMeter, Handover};
use super::{
    CallFailure, CommandInput, CommandOutput, DatasetEntries, EPOCH_TICK, FailureKind, Grant, Pre,
    Runtime, host, v0_1,
};

/// The plugin function a call runs.
pub(super) enum Export<'e> {
    Manifest,
    Handle(&'e WitEvent),
    ImportDataset {
        dataset: &'e str,
        format: &'e str,
        content: &'e [u8],
    },
    RunCommand {
        command: &'e str,
        input: &'e CommandInput,
    },
}

/// What the function returned.
pub(super) enum Reply {
    Manifest(bindings::WitPluginManifest),
    Handle(Result<Vec<bindings::WitAction>, bindings::WitPluginError>),
    Dataset(Result<DatasetEntries, bindings::WitPluginError>),
    Command(Result<CommandOutput, bindings::WitPluginError>),
}

impl Reply {
    /// The plugin's own error, when it returned one.
    fn error(&self) -> Option<&bindings::WitPluginError> {
        match self {
            Reply::Manifest(_) => None,
            Reply::Handle(r) => r.as_ref().err(),
            Reply::Dataset(r) => r.as_ref().err(),
            Reply::Command(r) => r.as_ref().err(),
        }
    }
}

impl Runtime {
    /// Instantiates `pre` in a fresh store and calls `export` on it, within the
    /// deadline and limits of `grant`, classifying whatever goes wrong.
    pub(super) async fn run(
        &self,
        pre: &Pre,
        grant: &Arc<Grant>,
        export: Export<'_>,
    ) -> Result<Reply, CallFailure> {
        let limits = grant.limits;
        let timeout = Duration::from_millis(limits.timeout_ms);
        let mut store = Store::new(&self.engine, host::CallState::new(grant.clone()));
        store.limiter(|state| &mut state.limiter);
        // A timeout too long to represent is one that never expires.
        let deadline = Instant::now().checked_add(timeout);
        let meter = CpuMeter::new(self.fairness.cpu_budget, EPOCH_TICK, self.clock.clone());
        let overtime = meter.flag();
        // The admin tools (imports, commands) may take the CPU their deadline allows;
        // what runs for events and loading is metered.
        let metered = matches!(export, Export::Handle(_) | Export::Manifest);
        arm(&mut store, deadline, metered.then_some(meter));
        // The epoch bounds guest code; the timeouts bound time in host calls too.
        // `None`: the deadline passed.
        let ending = if metered {
            // Owned, so that the call can move to the overtime thread.
            let pre = pre.clone();
            let event = match export {
                Export::Handle(event) => Some(event.clone()),
                _ => None,
            };
            let call = Box::pin(async move {
                let export = event.as_ref().map_or(Export::Manifest, Export::Handle);
                let reply = call_export(&pre, &mut store, export).await;
                (reply, store)
            });
            let handover = Handover::new(call, overtime.clone(), &self.overtime);
            match tokio::time::timeout(timeout, handover).await {
                Ok(Ok(returned)) => Some(returned),
                Ok(Err(_abandoned)) => {
                    return Err(CallFailure::failed("the runtime is shutting down"));
                }
                Err(_elapsed) => None,
            }
        } else {
            tokio::time::timeout(timeout, call_export(pre, &mut store, export))
                .await
                .ok()
                .map(|reply| (reply, store))
        };
        let timed_out = || {
            let overtime = if overtime.load(Ordering::Relaxed) {
                format!(
                    " (past its CPU budget of {} ms it ran in overtime, at low priority)",
                    self.fairness.cpu_budget.as_millis()
                )
            } else {
                String::new()
            };
            CallFailure {
                kind: FailureKind::TimedOut,
                message: format!("deadline of {} ms exceeded{overtime}", limits.timeout_ms),
            }
        };
        let Some((reply, store)) = ending else {
            return Err(timed_out());
        };
        let state = store.data();
        let failure = |kind, message: String| CallFailure { kind, message };
        match reply {
            // A plugin that gave up after a refusal was denied, whatever it says.
            Ok(reply) if reply.error().is_some() && !state.all_denials().is_empty() => {
                let error = reply.error().map(|e| e.message.clone()).unwrap_or_default();
                let denial = state.all_denials().remove(0);
                Err(failure(
                    FailureKind::Denied,
                    format!("{denial} (the plugin then failed: {error})"),
                ))
            }
            Ok(reply) => Ok(reply),
            Err(error) => {
                if let Some(denial) = state.all_denials().into_iter().next() {
                    return Err(failure(FailureKind::Denied, denial));
                }
                if state.limiter.memory_exceeded {
                    return Err(failure(
                        FailureKind::Failed,
                        format!("memory limit of {} bytes reached", limits.max_memory_bytes),
                    ));
                }
                match error.downcast_ref::<Trap>() {
                    Some(Trap::Interrupt) => Err(timed_out()),
                    Some(Trap::StackOverflow) => Err(failure(
                        FailureKind::Failed,
                        "stack overflow (recursion too deep)".into(),
                    )),
                    Some(trap) => Err(failure(FailureKind::Failed, format!("trapped: {trap}"))),
                    None => Err(failure(FailureKind::Failed, format!("{error:#}"))),
                }
            }
        }
    }
}

/// Arms the store's epoch callback: guest code yields to the executor at every
/// tick, so a busy plugin never holds a runtime thread, and traps once `deadline`
/// has passed; `meter` counts the ticks of a metered call.
///
/// It yields through tokio's `yield_now`, which the runtime resumes only once it
/// has run the other ready tasks and polled the network: a plain wake-up (`Yield`)
/// puts a looping guest straight back on the run queue, and a worker that always
/// has work polls its sockets only every few dozen tasks — every few dozen
/// milliseconds of a looping guest, for every other request on that worker.
fn arm(store: &mut Store<host::CallState>, deadline: Option<Instant>, meter: Option<CpuMeter>) {
    let mut meter = meter;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Err(Trap::Interrupt.into());
        }
        let yielded = match &mut meter {
            Some(meter) => meter.tick(),
            None => Box::pin(tokio::task::yield_now()),
        };
        Ok(UpdateDeadline::YieldCustom(1, yielded))
    });
}

/// Instantiates `pre` in `store` and calls `export`.
async fn call_export(
    pre: &Pre,
    store: &mut Store<host::CallState>,
    export: Export<'_>,
) -> wasmtime::Result<Reply> {
    match pre {
        Pre::V0_2(pre) => {
            let instance = pre.instantiate_async(&mut *store).await?;
            let handler = instance.crossdesk_plugin_handler();
            match export {
                Export::Manifest => handler.call_manifest(store).await.map(Reply::Manifest),
                Export::Handle(event) => handler.call_handle(store, event).await.map(Reply::Handle),
                Export::ImportDataset {
                    dataset,
                    format,
                    content,
                } => instance
                    .crossdesk_plugin_tools()
                    .call_import_dataset(store, dataset, format, content)
                    .await
                    .map(Reply::Dataset),
                Export::RunCommand { command, input } => instance
                    .crossdesk_plugin_tools()
                    .call_run_command(store, command, input)
                    .await
                    .map(Reply::Command),
            }
        }
        Pre::V0_1(pre) => {
            let instance = pre.instantiate_async(&mut *store).await?;
            let handler = instance.crossdesk_plugin_handler();
            match export {
                Export::Manifest => handler
                    .call_manifest(store)
                    .await
                    .map(|m| Reply::Manifest(v0_1::manifest(m))),
                Export::Handle(event) => handler
                    .call_handle(store, &v0_1::event(event))
                    .await
                    .map(|r| Reply::Handle(v0_1::handled(r))),
                // Its manifest offers neither; callers check it first.
                Export::ImportDataset { .. } | Export::RunCommand { .. } => {
                    Err(wasmtime::Error::msg(
                        "a plugin of contract 0.1.0 offers no datasets or commands",
                    ))
                }
            }
        }
    }
}
