//! One plugin call: an instance (warm, or fresh in a new store) under the grant's
//! limits, the deadline and the CPU budget armed, the plugin's function called,
//! whatever went wrong classified, and the instance kept only if it may serve again.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use wasmtime::{Store, Trap, UpdateDeadline};

use super::bindings::{self, WitEvent};
use super::budget::Refused;
use super::overtime::{CpuMeter, Handover};
use super::warm::{Instantiated, Warm};
use super::{
    CallFailure, CommandInput, CommandOutput, DatasetEntries, EPOCH_TICK, FailureKind, Grant, Pre,
    Runtime, host, v0_1,
};

pub(super) use super::slots::CallPermit;

/// The plugin function a call runs.
pub(super) enum Export<'e> {
    Manifest,
    Handle(&'e Arc<WitEvent>),
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

    fn error_mut(&mut self) -> Option<&mut bindings::WitPluginError> {
        match self {
            Reply::Manifest(_) => None,
            Reply::Handle(r) => r.as_mut().err(),
            Reply::Dataset(r) => r.as_mut().err(),
            Reply::Command(r) => r.as_mut().err(),
        }
    }
}

impl Runtime {
    /// Calls `export` of `pre` within the deadline and limits of `grant`, on a
    /// fresh instance or, with `keep`, on one of the grant's warm instances, and
    /// classifies whatever goes wrong. With `keep`, the instance comes back when it
    /// may serve another call of the same grant.
    ///
    /// It first waits for a call slot of all (the pool is sized for them) and,
    /// for an event, of the grant's tenant's share before it. The permit goes
    /// with the instance: a call abandoned at its deadline in overtime holds its
    /// pool slot until the overtime thread drops it, and so does its permit, so
    /// that such calls can never take the slots of new ones, nor one tenant's
    /// those of the others. A call that ends well gives it back to the caller,
    /// to hold until the kept instance is back on its shelf.
    pub(super) async fn run(
        &self,
        pre: &Pre,
        grant: &Arc<Grant>,
        export: Export<'_>,
        keep: bool,
    ) -> Result<(Reply, Option<Warm>, CallPermit), CallFailure> {
        // Event calls count in their tenant's share: they are the ones that can
        // loop into overtime on a tenant's behalf.
        let tenant = matches!(export, Export::Handle(_)).then(|| grant.tenant());
        let permit = self
            .calls
            .acquire(tenant)
            .await
            .map_err(|_| CallFailure::for_now("the runtime is shutting down"))?;
        let warm = if keep {
            self.warm.take(&grant.warm)
        } else {
            None
        };
        let limits = grant.limits;
        let timeout = Duration::from_millis(limits.timeout_ms);
        let (mut store, instance) = match warm {
            Some(warm) => (warm.store, Some(warm.instance)),
            None => {
                let state =
                    host::CallState::new(grant.clone(), self.memory.clone(), self.metrics.clone());
                let mut store = Store::new(&self.engine, state);
                store.limiter(|state| &mut state.limiter);
                // Drawn (a getrandom call) only for an instance that may be kept.
                if keep {
                    store.data_mut().calls_left = self.warm.settings.draw_calls();
                }
                (store, None)
            }
        };
        store.data_mut().begin(grant.clone());
        store.set_hostcall_fuel(hostcall_fuel(limits.max_memory_bytes));
        // A timeout too long to represent is one that never expires.
        let deadline = Instant::now().checked_add(timeout);
        let meter = CpuMeter::new(self.fairness.cpu_budget, EPOCH_TICK);
        let overtime = meter.flag();
        let resumptions = meter.resumptions();
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
                Export::Handle(event) => Some(Arc::clone(event)),
                _ => None,
            };
            let call = Box::pin(resumptions.wrap(async move {
                let export = event.as_ref().map_or(Export::Manifest, Export::Handle);
                (call_on(&pre, store, instance, export).await, permit)
            }));
            let handover = Handover::new(call, overtime.clone(), &self.overtime);
            match tokio::time::timeout(timeout, handover).await {
                Ok(Ok(returned)) => Some(returned),
                Ok(Err(_abandoned)) => {
                    return Err(CallFailure::for_now("the runtime is shutting down"));
                }
                Err(_elapsed) => None,
            }
        } else {
            tokio::time::timeout(timeout, call_on(pre, store, instance, export))
                .await
                .ok()
                .map(|returned| (returned, permit))
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
                retryable: true,
            }
        };
        let Some((returned, permit)) = ending else {
            return Err(timed_out());
        };
        // Bound after the permit, so dropped before it on every early return: a
        // slot freed while its instance still held a place of the pool would
        // let a new call find the pool full.
        let (reply, mut store, instance) = returned;
        let state = store.data();
        let denials = state.all_denials();
        // A call that failed after the store failed one of its requests (a
        // PostgreSQL failover) may pass later, whatever the plugin made of it
        // (an error it did not call retryable, a trap on an unwrap).
        let for_now = state.store_failed;
        let failure = |kind, message: String| CallFailure {
            retryable: for_now && !matches!(kind, FailureKind::Denied),
            kind,
            message,
        };
        let reply = match reply {
            // A plugin that gave up after a refusal was denied, whatever it says.
            Ok(reply) if reply.error().is_some() && !denials.is_empty() => {
                let error = reply
                    .error()
                    .map(|e| super::refusals::plugin_error(&e.message))
                    .unwrap_or_default();
                let denial = &denials[0];
                return Err(failure(
                    FailureKind::Denied,
                    format!("{denial} (the plugin then failed: {error})"),
                ));
            }
            Ok(reply) => reply,
            Err(error) => {
                if let Some(denial) = denials.into_iter().next() {
                    return Err(failure(FailureKind::Denied, denial));
                }
                if let Some(refused) = state.limiter.budget_refused {
                    let why = match refused {
                        Refused::Process => {
                            "the plugins' memory budget of the process is spent".to_owned()
                        }
                        Refused::Tenant => format!(
                            "this tenant's plugin instances hold their whole share of the \
                             memory budget ({} MiB)",
                            self.memory.per_tenant() >> 20
                        ),
                    };
                    // Spent by the other calls of the moment.
                    return Err(CallFailure {
                        retryable: true,
                        ..failure(FailureKind::Failed, format!("out of memory: {why}"))
                    });
                }
                if state.limiter.memory_exceeded {
                    return Err(failure(
                        FailureKind::Failed,
                        format!("memory limit of {} bytes reached", limits.max_memory_bytes),
                    ));
                }
                return match error.downcast_ref::<Trap>() {
                    Some(Trap::Interrupt) => Err(timed_out()),
                    Some(Trap::StackOverflow) => Err(failure(
                        FailureKind::Failed,
                        "stack overflow (recursion too deep)".into(),
                    )),
                    Some(trap) => Err(failure(FailureKind::Failed, format!("trapped: {trap}"))),
                    None => Err(failure(FailureKind::Failed, format!("{error:#}"))),
                };
            }
        };
        // Kept only after a call that went well, with calls left, no open host
        // resource, no refusal (of a capability or of memory: a guest that
        // survived a refused growth may be left half-built) and no memory grown
        // past the bound.
        let mut reply = reply;
        if let Some(error) = reply.error_mut().filter(|_| for_now) {
            error.retryable = true;
        }
        let state = store.data_mut();
        let clean = reply.error().is_none()
            && denials.is_empty()
            && !state.limiter.memory_exceeded
            && state.limiter.budget_refused.is_none();
        state.calls_left = state.calls_left.saturating_sub(1);
        let grown = state.memory_bytes().saturating_sub(state.born_memory)
            > self.warm.settings.max_growth_bytes;
        let released = state.end(self.idle_grant.clone());
        let kept = match instance {
            Some(instance) if keep && clean && released && !grown && state.calls_left > 0 => {
                Some(Warm { store, instance })
            }
            _ => None,
        };
        Ok((reply, kept, permit))
    }
}

/// Arms the store's epoch callback: guest code yields to the executor at every
/// tick, so a busy plugin never holds a runtime thread, and traps once `deadline`
/// has passed; `meter` charges a metered call its CPU.
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

/// Calls `export` on `instance`, or on a new instance of `pre` in `store`; gives
/// the store back with the instance, whatever happened.
async fn call_on(
    pre: &Pre,
    mut store: Store<host::CallState>,
    instance: Option<Instantiated>,
    export: Export<'_>,
) -> (
    wasmtime::Result<Reply>,
    Store<host::CallState>,
    Option<Instantiated>,
) {
    let instance = match instance {
        Some(instance) => instance,
        None => match instantiate(pre, &mut store).await {
            Ok(instance) => {
                let state = store.data_mut();
                state.born_memory = state.memory_bytes();
                instance
            }
            Err(error) => return (Err(error), store, None),
        },
    };
    let reply = call_export(&instance, &mut store, export).await;
    (reply, store, Some(instance))
}

/// A new instance of `pre` in `store`.
async fn instantiate(
    pre: &Pre,
    store: &mut Store<host::CallState>,
) -> wasmtime::Result<Instantiated> {
    Ok(match pre {
        Pre::V0_2(pre) => Instantiated::V0_2(pre.instantiate_async(store).await?),
        Pre::V0_1(pre) => Instantiated::V0_1(pre.instantiate_async(store).await?),
    })
}

/// Calls `export` on `instance`.
async fn call_export(
    instance: &Instantiated,
    store: &mut Store<host::CallState>,
    export: Export<'_>,
) -> wasmtime::Result<Reply> {
    match instance {
        Instantiated::V0_2(instance) => {
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
        Instantiated::V0_1(instance) => {
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

/// What a plugin may hand the host in one host call or result (bytes, about):
/// what its memory can hold. Canonical ABI lifting copies every element of a
/// list, so a list whose strings all point at one would otherwise have the host
/// allocate up to wasmtime's default (128 MiB) per call from a plugin of 1 MiB.
fn hostcall_fuel(max_memory_bytes: u64) -> usize {
    const WASMTIME_DEFAULT: usize = 128 << 20;
    usize::try_from(max_memory_bytes).map_or(WASMTIME_DEFAULT, |bytes| bytes.min(WASMTIME_DEFAULT))
}
