//! The component runtime: one wasmtime [`Engine`] with the pooling allocator, plugin
//! loading (contract check, compile once, precompiled artifacts cached on disk by
//! content hash, `InstancePre`), and sandboxed calls (`call`) — on an instance kept
//! warm for one tenant's grant (`warm`) or a fresh one, never shared between tenants,
//! with limits on time, CPU (`overtime`), memory (one process-wide `budget`), tables
//! and instances.
//!
//! What a plugin may touch is decided by its [`Grant`]; the capabilities themselves
//! (log, kv, config, http, clock, and WASI with nothing granted) live in `host`.

pub mod aws_sigv4;
mod bindings;
mod budget;
mod call;
mod contract;
mod host;
pub mod http;
pub mod json_field;
mod offers;
mod overtime;
mod per_tenant;
mod refusals;
mod slots;
pub(crate) use host::{MAX_KV_KEY, MAX_KV_VALUE};
mod v0_1;
mod warm;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config as EngineConfig, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
};

pub use bindings::tools::{CommandInput, CommandOutput, DatasetEntries, OutputFile};
pub use bindings::types::{CommandSpec, DatasetSpec, Param, ParamKind};
pub(crate) use bindings::{
    WitEvent, WitEventKind, built_in_kind_names, event_to_wit, kind_matches, kind_name,
};
pub use bindings::{WitEvent as PluginEvent, event_to_wit as plugin_event};
pub use contract::{Contract, SUPPORTED_CONTRACTS};

use crate::limits::Limits;
use crate::pb;
use crate::store::{DataOf, Store as DataStore};
use budget::MemoryBudget;
use call::{Export, Reply};
use http::OutboundPolicy;
pub use overtime::Fairness;
use overtime::OvertimeThread;
use v0_1::PluginPreV0_1;
use warm::WarmPool;
pub use warm::{Isolation, WarmKey, WarmSettings};

/// How often the engine's epoch advances; the granularity of call deadlines.
const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Address space reserved per linear memory: all a 32-bit index can reach, so the
/// compiled code needs no bounds checks (reserved, not resident).
const GUARDED_RESERVATION: u64 = 4 << 30;

/// Guard after each memory, for a load's static offset past the 4 GiB (wasmtime's
/// default).
const GUARD_BYTES: u64 = 32 << 20;

/// The event a plugin built against contract 0.1.0 receives for `event`, shown with
/// `Debug` (its type is the runtime's own). The contracts' event records are alike,
/// so it reads exactly as `event` does: the fuzz targets (`fuzzing/`) check that the
/// adaptation loses nothing.
#[doc(hidden)]
pub fn legacy_plugin_event_debug(event: &PluginEvent) -> String {
    format!("{:?}", v0_1::event(event))
}

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read plugin {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a WebAssembly component: {reason}")]
    NotComponent { path: PathBuf, reason: String },
    #[error("{path}: {0}", path = .1.display())]
    Contract(contract::ContractError, PathBuf),
    #[error("plugin {path} cannot be linked: {reason}")]
    Link { path: PathBuf, reason: String },
    #[error("plugin {path}: its manifest() failed: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("plugin {path}: its manifest declares a setting wrongly: {reason}")]
    Settings { path: PathBuf, reason: String },
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the plugin runtime: {0}")]
pub struct RuntimeError(String);

/// What a plugin says about itself, read once at load time.
#[derive(Debug, Clone)]
pub struct PluginManifest {
    pub name: String,
    pub version: String,
    pub description: String,
    pub(crate) events: Vec<WitEventKind>,
    pub wants_kv: bool,
    pub outbound_hosts: Vec<String>,
    /// The settings the plugin reads, as declared (`name` or `name: type`).
    pub declared_settings: Vec<String>,
    /// The same declarations, parsed.
    pub settings: Vec<crate::settings::KeySpec>,
    pub cacheable: bool,
    /// Datasets admins import for it (contract 0.2.0 and later).
    pub datasets: Vec<DatasetSpec>,
    /// Commands admins run (contract 0.2.0 and later).
    pub commands: Vec<CommandSpec>,
}

impl PluginManifest {
    /// Whether the plugin handles events of this kind.
    pub(crate) fn handles(&self, kind: &WitEventKind) -> bool {
        self.events.iter().any(|k| kind_matches(k, kind))
    }

    /// The kind of `event` as the contract names it (`customer-message`).
    pub fn kind_of(event: &PluginEvent) -> String {
        kind_name(&event.kind)
    }

    /// Whether the plugin handles `event`: the pipeline skips it otherwise.
    pub fn handles_event(&self, event: &PluginEvent) -> bool {
        self.handles(&event.kind)
    }

    /// Event kinds the plugin subscribes to, as the contract names them.
    pub fn event_names(&self) -> Vec<String> {
        self.events.iter().map(bindings::kind_name).collect()
    }
}

/// A compiled plugin, ready to be instantiated.
pub struct LoadedPlugin {
    /// Hex SHA-256 of the component file.
    pub digest: String,
    /// The contract version it was built against.
    pub contract: Contract,
    pub manifest: PluginManifest,
    pre: Pre,
}

/// A linked component of one of the contract versions the host loads.
#[derive(Clone)]
enum Pre {
    V0_1(PluginPreV0_1<host::CallState>),
    V0_2(bindings::PluginPre<host::CallState>),
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("digest", &self.digest)
            .field("contract", &self.contract)
            .field("manifest", &self.manifest)
            .finish()
    }
}

/// Everything one tenant granted one plugin, fixed for the duration of a call.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The tenant, and the incarnation its plugin storage is written under.
    pub of: Arc<DataOf>,
    pub plugin: String,
    pub limits: Limits,
    /// Key-value storage; `None` when not granted.
    pub kv: Option<DataStore>,
    /// The plugin's settings (only keys its manifest declares).
    pub settings: Vec<(String, String)>,
    /// Outbound HTTP; `None` when no host is allowed.
    pub outbound: Option<OutboundPolicy>,
    /// Read access to other plugins' storage; `None` when not granted.
    pub kv_read: Option<KvRead>,
    /// Read access to the tenant's contact history: given only to commands an
    /// admin runs, never while handling events.
    pub contact_history: Option<DataStore>,
    /// Whether its instances are reused across the tenant's events.
    pub isolation: Isolation,
    /// Where its warm instances wait; a new grant starts with none.
    pub warm: WarmKey,
}

/// Read-only access to the storage of other plugins of the same tenant, which the
/// plugin addresses as `@<plugin>/<key>`.
#[derive(Debug, Clone)]
pub struct KvRead {
    pub store: DataStore,
    /// The plugins (installed names) whose storage may be read.
    pub plugins: Vec<String>,
}

impl Grant {
    pub fn tenant(&self) -> &str {
        &self.of.tenant
    }

    /// A grant of nothing, with the given limits.
    pub fn nothing(tenant: &str, plugin: &str, limits: Limits) -> Grant {
        Grant {
            of: Arc::new(DataOf::tenant(tenant)),
            plugin: plugin.to_owned(),
            limits,
            kv: None,
            settings: Vec::new(),
            outbound: None,
            kv_read: None,
            contact_history: None,
            isolation: Isolation::default(),
            warm: WarmKey::default(),
        }
    }
}

/// How a call went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Failed,
    TimedOut,
    Denied,
    /// The plugin answered, but its actions were refused: too large, or not
    /// making sense for the event.
    InvalidOutput,
    /// The plugin answered with an error of its own (data missing, an engine
    /// unreachable), rather than trapping.
    Reported,
}

/// A call that produced no actions, and why.
#[derive(Debug, Clone)]
pub struct CallFailure {
    pub kind: FailureKind,
    pub message: String,
    /// Whether the same call may succeed later: it ran out of time, the host
    /// was stopping or its plugins' memory budget spent, or the plugin said so
    /// of its own error. A trap, a refusal or a refused output fail again on
    /// the same event.
    pub retryable: bool,
}

impl CallFailure {
    fn failed(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Failed,
            message: message.into(),
            retryable: false,
        }
    }

    /// A failure of the host's moment, not of the call.
    fn for_now(message: impl Into<String>) -> Self {
        Self {
            retryable: true,
            ..Self::failed(message)
        }
    }
}

/// How instances get their memory, tables and stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    /// Preallocated slots reused call after call: the sidecar's choice.
    Pooling,
    /// Fresh mappings for every instance: wasmtime's default.
    OnDemand,
}

/// How calls share the CPU and instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sharing {
    pub fairness: Fairness,
    pub warm: WarmSettings,
}

/// The sandbox: one engine, one linker, shared by all plugins and tenants.
pub struct Runtime {
    engine: Engine,
    linker: Linker<host::CallState>,
    compiled_dir: PathBuf,
    fairness: Fairness,
    /// Where event calls past their CPU budget finish (`overtime.rs`).
    overtime: OvertimeThread,
    /// The calls running at once, in all and per tenant, for which the pool is
    /// sized (the warm instances waiting have slots of their own).
    calls: slots::CallSlots,
    /// Instances kept between a grant's calls (`warm.rs`).
    warm: Arc<WarmPool>,
    /// Linear memory of all instances, running or warm.
    memory: Arc<MemoryBudget>,
    /// What a warm instance's state holds between calls instead of a grant.
    idle_grant: Arc<Grant>,
    /// The process's metrics: plugin calls count here, and the pipeline's too.
    metrics: Arc<crate::metrics::Metrics>,
    ticker: Option<std::thread::JoinHandle<()>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("compiled_dir", &self.compiled_dir)
            .finish()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // The overtime thread first, while the epoch still ticks: a looping guest
        // it runs yields only at a tick, and without ticks it would spin forever
        // and this drop with it.
        self.overtime.stop();
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

impl Runtime {
    /// Builds the engine. `max` bounds every per-call limit (the pool's slots are sized
    /// by it); `concurrent_calls` is the number of calls running at once (one past
    /// it waits for another to end), each on an instance of its own;
    /// compiled plugins are cached in `compiled_dir`. Call it within the tokio runtime
    /// that will make the calls: calls past their CPU budget finish in its context.
    pub fn new(
        max: &Limits,
        concurrent_calls: u32,
        compiled_dir: &Path,
    ) -> Result<Runtime, RuntimeError> {
        Self::with_allocator(max, concurrent_calls, compiled_dir, Allocator::Pooling)
    }

    /// Like [`Runtime::new`], for a plugin that runs alone (the CLI's `plugin check`,
    /// `run` and `inspect`): no other event waits for the workers, so every call may
    /// use its whole deadline there. In overtime, a machine busy with other work
    /// would starve the call, and what the plugin is found to do would depend on
    /// the machine's load.
    pub fn alone(
        max: &Limits,
        concurrent_calls: u32,
        compiled_dir: &Path,
    ) -> Result<Runtime, RuntimeError> {
        let sharing = Sharing {
            fairness: Fairness {
                cpu_budget: Duration::from_millis(max.timeout_ms),
                ..Fairness::default()
            },
            ..Sharing::default()
        };
        Self::build(
            max,
            concurrent_calls,
            compiled_dir,
            Allocator::Pooling,
            sharing,
        )
    }

    /// Like [`Runtime::new`] with a choice of instance allocator; the on-demand one
    /// is wasmtime's default and serves as the baseline in benchmarks.
    pub fn with_allocator(
        max: &Limits,
        concurrent_calls: u32,
        compiled_dir: &Path,
        allocator: Allocator,
    ) -> Result<Runtime, RuntimeError> {
        let sharing = Sharing::default();
        Self::build(max, concurrent_calls, compiled_dir, allocator, sharing)
    }

    /// Like [`Runtime::with_allocator`], with how calls share CPU and instances.
    pub fn build(
        max: &Limits,
        concurrent_calls: u32,
        compiled_dir: &Path,
        allocator: Allocator,
        sharing: Sharing,
    ) -> Result<Runtime, RuntimeError> {
        let mut pool = PoolingAllocationConfig::default();
        // Warm instances hold their slots between calls.
        let warm_slots = u32::try_from(sharing.warm.max_instances).unwrap_or(u32::MAX);
        let slots = concurrent_calls.max(1).saturating_add(warm_slots);
        let instances = max.max_instances.max(1);
        pool.total_component_instances(slots)
            .total_core_instances(slots.saturating_mul(instances))
            // Components rarely have more than one memory (two with an adapter);
            // the per-component maximum below still allows more.
            .total_memories(slots.saturating_mul(2))
            .total_tables(slots.saturating_mul(4))
            .total_stacks(slots)
            .max_core_instances_per_component(instances)
            .max_memories_per_component(instances)
            .max_tables_per_component(instances)
            .max_memory_size(usize::try_from(max.max_memory_bytes).unwrap_or(usize::MAX))
            .table_elements(max.max_table_elements as usize)
            // Reusing a slot resets its first 2 MiB by hand and keeps them resident,
            // instead of returning memory to the OS and faulting it back in on every
            // fresh instance. Not with PAGEMAP_SCAN, which would reset only the pages
            // it finds dirty and misses a page that was swapped out (README, "Warm
            // instances").
            .pagemap_scan(wasmtime::Enabled::No)
            .linear_memory_keep_resident(2 << 20)
            // A free slot keeps those pages; with warm instances holding slots, new
            // instances spread over many more of them, and the resident memory with
            // them (the 5-minute soak: 527 MiB at wasmtime's default of 100).
            .max_unused_warm_slots(16)
            .table_keep_resident(64 << 10)
            .async_stack_keep_resident(64 << 10);

        let mut config = EngineConfig::new();
        config.allocation_strategy(match allocator {
            Allocator::Pooling => InstanceAllocationStrategy::Pooling(pool),
            Allocator::OnDemand => InstanceAllocationStrategy::OnDemand,
        });
        config
            // Guard pages instead of bounds checks in the compiled code: each memory
            // slot reserves 4 GiB of address space (nothing resident), so a 32-bit
            // plugin's loads and stores need no check. A JavaScript engine computes
            // mostly in memory: its warm call takes 40 % less time. The price is an
            // `mprotect` when a slot changes hands or a memory grows, which makes a
            // fresh instance (`isolation = "event"`) about 20 % dearer (BENCHMARKS.md).
            .signals_based_traps(true)
            .memory_reservation(GUARDED_RESERVATION)
            .memory_guard_size(GUARD_BYTES)
            .guard_before_linear_memory(false)
            .epoch_interruption(true)
            .max_wasm_stack(1 << 20)
            .wasm_component_model(true);
        let engine = Engine::new(&config).map_err(|e| RuntimeError(format!("{e:#}")))?;

        let mut linker = Linker::new(&engine);
        // Every contract version's imports, under their versioned names.
        bindings::Plugin::add_to_linker::<_, HasSelf<host::CallState>>(&mut linker, |s| s)
            .map_err(|e| RuntimeError(format!("{e:#}")))?;
        v0_1::PluginV0_1::add_to_linker::<_, HasSelf<host::CallState>>(&mut linker, |s| s)
            .map_err(|e| RuntimeError(format!("{e:#}")))?;
        // WASI p2 with nothing granted, so components from other toolchains link.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| RuntimeError(format!("{e:#}")))?;
        host::link_refused_sockets(&mut linker).map_err(|e| RuntimeError(format!("{e:#}")))?;
        // wasi:http too, refusing every request: JavaScript components import it.
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| RuntimeError(format!("{e:#}")))?;

        let compiled_dir = compiled_dir.to_owned();
        std::fs::create_dir_all(&compiled_dir)
            .map_err(|e| RuntimeError(format!("cannot create {}: {e}", compiled_dir.display())))?;

        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let warm = Arc::new(WarmPool::new(sharing.warm));
        let ticker = {
            let engine = engine.clone();
            let stop = stop.clone();
            let warm = warm.clone();
            std::thread::Builder::new()
                .name("crossdesk-epoch".into())
                .spawn(move || {
                    let mut tick: u64 = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        tick = tick.wrapping_add(1);
                        engine.increment_epoch();
                        // Once a second, the instances idle too long go, dropped
                        // on a thread of their own: dropping one resets its pool
                        // slot, and every call's deadline and yield waits on the
                        // next tick. (Should that thread not start, here.)
                        if tick.is_multiple_of(1000)
                            && let Some(expired) = warm.sweep()
                            && !expired.items().is_empty()
                        {
                            let _ = std::thread::Builder::new()
                                .name("crossdesk-sweep".into())
                                .spawn(move || drop(expired));
                        }
                    }
                })
                .map_err(|e| RuntimeError(format!("cannot start the epoch thread: {e}")))?
        };
        Ok(Runtime {
            engine,
            linker,
            compiled_dir,
            fairness: sharing.fairness,
            overtime: OvertimeThread::start()
                .map_err(|e| RuntimeError(format!("cannot start the overtime thread: {e}")))?,
            memory: Arc::new(MemoryBudget::new(
                sharing.warm.memory_budget_bytes,
                sharing.warm.tenant_memory_bytes,
            )),
            calls: {
                let all = usize::try_from(concurrent_calls).unwrap_or(usize::MAX);
                slots::CallSlots::new(all, sharing.fairness.tenant_calls.unwrap_or(all / 2))
            },
            warm,
            idle_grant: Arc::new(Grant::nothing("", "", Limits::default())),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            ticker: Some(ticker),
            stop,
        })
    }

    /// Warm instances waiting, and the linear memory they hold.
    pub fn warm_instances(&self) -> (usize, usize) {
        self.warm.waiting()
    }

    /// Linear memory of all instances, running or warm.
    pub fn plugin_memory_bytes(&self) -> usize {
        self.memory.used()
    }

    /// The process's metrics.
    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        &self.metrics
    }

    /// Loads a component: checks its contract version, compiles it (or loads the
    /// precompiled artifact for the same bytes), links it and reads its manifest.
    pub async fn load(&self, path: &Path) -> Result<LoadedPlugin, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        self.load_bytes(&bytes, path).await
    }

    /// Like [`Runtime::load`] for a component in memory; `origin` names it in errors.
    pub async fn load_bytes(&self, bytes: &[u8], origin: &Path) -> Result<LoadedPlugin, LoadError> {
        let path = origin;
        let digest = crate::store::plugin_digest(bytes);
        let component = self.compile(bytes, &digest, path)?;
        let images = with_retries(&MEMORY_IMAGE_RETRIES, || {
            component.initialize_copy_on_write_image()
        })
        .await;
        if let Err(e) = images {
            // Its first instantiation will try again.
            tracing::warn!(plugin = %path.display(), "memory images not built: {e:#}");
        }
        let contract = contract::check(&self.engine, &component)
            .map_err(|e| LoadError::Contract(e, path.to_owned()))?;
        let link_error = |e: wasmtime::Error| LoadError::Link {
            path: path.to_owned(),
            reason: format!("{e:#}"),
        };
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(link_error)?;
        let pre = match contract {
            Contract::V0_1 => Pre::V0_1(PluginPreV0_1::new(instance_pre).map_err(link_error)?),
            // 0.2.1's bindings serve 0.2.0 components too (it only adds).
            Contract::V0_2 | Contract::V0_2_1 => {
                Pre::V0_2(bindings::PluginPre::new(instance_pre).map_err(link_error)?)
            }
        };
        let probe = Arc::new(Grant::nothing("", "", Limits::default()));
        let (Reply::Manifest(manifest), _, _) = self
            .run(&pre, &probe, Export::Manifest, false)
            .await
            .map_err(|e| LoadError::Manifest {
                path: path.to_owned(),
                reason: e.message,
            })?
        else {
            unreachable!("run answers an Export with its own Reply")
        };
        offers::check(&manifest.datasets, &manifest.commands).map_err(|reason| {
            LoadError::Manifest {
                path: path.to_owned(),
                reason,
            }
        })?;
        let settings =
            crate::settings::parse_specs(&manifest.capabilities.settings).map_err(|e| {
                LoadError::Settings {
                    path: path.to_owned(),
                    reason: e.to_string(),
                }
            })?;
        Ok(LoadedPlugin {
            digest,
            contract,
            manifest: PluginManifest {
                settings,
                name: manifest.name,
                version: manifest.version,
                description: manifest.description,
                events: manifest.events,
                wants_kv: manifest.capabilities.kv,
                outbound_hosts: manifest.capabilities.outbound_hosts,
                declared_settings: manifest.capabilities.settings,
                cacheable: manifest.cacheable,
                datasets: manifest.datasets,
                commands: manifest.commands,
            },
            pre,
        })
    }

    fn compile(&self, bytes: &[u8], digest: &str, path: &Path) -> Result<Component, LoadError> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        let artifact = self
            .compiled_dir
            .join(format!("{digest}-{:016x}.cwasm", hasher.finish()));
        // One compilation per artifact, however many runtimes or processes share
        // the folder (replicas on one host, test servers starting together): the
        // others wait on this lock, then load what the first one wrote. Without
        // the lock file (a read-only folder) each compiles for itself.
        let _compiling = std::fs::File::create(artifact.with_extension("lock"))
            .and_then(|file| file.lock().map(|()| file))
            .inspect_err(
                |e| tracing::debug!(artifact = %artifact.display(), "compiling unlocked: {e}"),
            )
            .ok();
        if artifact.exists() {
            // SAFETY: the artifact was written by `Component::serialize` of this
            // process's engine configuration (the file name carries the content hash
            // and the engine's compatibility hash) into the sidecar's own data folder,
            // which is as trusted as the binary. wasmtime checks the header again.
            #[allow(unsafe_code)]
            let loaded = unsafe { Component::deserialize_file(&self.engine, &artifact) };
            match loaded {
                Ok(component) => return Ok(component),
                Err(e) => tracing::warn!(artifact = %artifact.display(), "recompiling: {e:#}"),
            }
        }
        let component =
            Component::new(&self.engine, bytes).map_err(|e| LoadError::NotComponent {
                path: path.to_owned(),
                reason: format!("{e:#}"),
            })?;
        // Write then rename, so a crash never leaves a half-written artifact; the
        // temporary name is unique, as other runtimes may share the folder.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        match component.serialize() {
            Ok(serialized) => {
                let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let tmp = artifact.with_extension(format!("tmp{}-{write}", std::process::id()));
                if let Err(e) =
                    std::fs::write(&tmp, serialized).and_then(|()| std::fs::rename(&tmp, &artifact))
                {
                    tracing::warn!(artifact = %artifact.display(), "cannot cache compiled plugin: {e}");
                }
            }
            Err(e) => tracing::warn!("cannot serialize compiled plugin: {e:#}"),
        }
        Ok(component)
    }

    /// Runs the plugin's `handle` on `event` under the grant's limits and returns its
    /// actions, attributed to the grant's plugin name.
    pub async fn call(
        &self,
        plugin: &LoadedPlugin,
        grant: &Arc<Grant>,
        event: &Arc<WitEvent>,
    ) -> Result<Vec<pb::Action>, CallFailure> {
        let keep = grant.isolation == Isolation::Tenant;
        let export = Export::Handle(event);
        let (reply, kept, permit) = self.run(&plugin.pre, grant, export, keep).await?;
        let Reply::Handle(result) = reply else {
            unreachable!("run answers an Export with its own Reply")
        };
        // The permit is held until the instance is back on its shelf or dropped.
        let accepted = self.accept(result, kept, grant, event);
        drop(permit);
        accepted
    }

    /// The actions of a call's `result`, held to the grant's limits and the
    /// event; `kept` goes back to the shelf only if they pass.
    fn accept(
        &self,
        result: Result<Vec<bindings::WitAction>, bindings::WitPluginError>,
        kept: Option<warm::Warm>,
        grant: &Arc<Grant>,
        event: &Arc<WitEvent>,
    ) -> Result<Vec<pb::Action>, CallFailure> {
        let actions = result.map_err(|e| CallFailure {
            kind: FailureKind::Reported,
            retryable: e.retryable,
            message: if e.retryable {
                format!("{} (retryable)", refusals::plugin_error(&e.message))
            } else {
                refusals::plugin_error(&e.message)
            },
        })?;
        let actions: Vec<pb::Action> = actions
            .into_iter()
            .map(|a| bindings::action_from_wit(&grant.plugin, a))
            .collect();
        let size: usize = actions.iter().map(prost::Message::encoded_len).sum();
        let invalid = |message| CallFailure {
            kind: FailureKind::InvalidOutput,
            message,
            retryable: false,
        };
        if size > grant.limits.max_output_bytes {
            return Err(invalid(format!(
                "output of {size} bytes exceeds the limit of {} bytes",
                grant.limits.max_output_bytes
            )));
        }
        validate_actions(&actions, event).map_err(invalid)?;
        // Only now: an instance whose output was refused is dropped with it.
        if let Some(kept) = kept {
            self.warm.put(&grant.warm, grant.tenant(), kept);
        }
        Ok(actions)
    }

    /// Runs the plugin's `import-dataset` under the grant's limits: the entries
    /// that replace `dataset`, as the plugin parsed `content`. The caller writes them.
    pub async fn import_dataset(
        &self,
        plugin: &LoadedPlugin,
        grant: &Arc<Grant>,
        dataset: &str,
        format: &str,
        content: &[u8],
    ) -> Result<DatasetEntries, CallFailure> {
        let export = Export::ImportDataset {
            dataset,
            format,
            content,
        };
        let (Reply::Dataset(result), _, _) = self.run(&plugin.pre, grant, export, false).await?
        else {
            unreachable!("run answers an Export with its own Reply")
        };
        result.map_err(|e| CallFailure::failed(refusals::plugin_error(&e.message)))
    }

    /// Runs the plugin's `run-command` under the grant's limits.
    pub async fn run_command(
        &self,
        plugin: &LoadedPlugin,
        grant: &Arc<Grant>,
        command: &str,
        input: &CommandInput,
    ) -> Result<CommandOutput, CallFailure> {
        let export = Export::RunCommand { command, input };
        let (Reply::Command(result), _, _) = self.run(&plugin.pre, grant, export, false).await?
        else {
            unreachable!("run answers an Export with its own Reply")
        };
        result.map_err(|e| CallFailure::failed(refusals::plugin_error(&e.message)))
    }
}

/// Rejects actions that make no sense for the event, so a buggy plugin cannot
/// send the helpdesk nonsense.
fn validate_actions(actions: &[pb::Action], event: &WitEvent) -> Result<(), String> {
    use pb::action::Kind;
    for action in actions {
        match &action.kind {
            Some(Kind::ReplaceDraft(_))
                if !matches!(event.kind, WitEventKind::AgentReplyDrafted) =>
            {
                return Err("invalid output: replace-draft on an event that has no draft".into());
            }
            Some(Kind::AddTags(tags)) => {
                if let Some(bad) = tags
                    .tags
                    .iter()
                    .find(|t| t.is_empty() || t.chars().any(char::is_whitespace))
                {
                    return Err(format!(
                        "invalid output: tag {bad:?} is empty or has whitespace"
                    ));
                }
            }
            Some(Kind::SetFields(fields)) if fields.fields.keys().any(String::is_empty) => {
                return Err("invalid output: a field with an empty name".into());
            }
            Some(Kind::Recommend(recs)) if recs.items.iter().any(|r| !r.score.is_finite()) => {
                return Err("invalid output: a recommendation score is not a finite number".into());
            }
            _ => {}
        }
    }
    Ok(())
}

/// Pauses before each new attempt to build a component's memory images.
///
/// They are built at load rather than at the first instantiation, and again when
/// the kernel refuses: on Linux each image is a memfd that wasmtime seals, and the
/// seal fails (`EBUSY`) while some of its pages are still held elsewhere. Seen once
/// on a loaded machine, where `plugin check` then failed a plugin's manifest with
/// "cannot add seals to the memfd".
const MEMORY_IMAGE_RETRIES: [Duration; 2] = [Duration::from_millis(20), Duration::from_millis(200)];

/// `attempt`, tried again after each pause of `pauses` while it fails.
async fn with_retries<T, E>(
    pauses: &[Duration],
    mut attempt: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let mut result = attempt();
    for pause in pauses {
        if result.is_ok() {
            break;
        }
        tokio::time::sleep(*pause).await;
        result = attempt();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn load_text(wat: &str) -> Result<LoadedPlugin, LoadError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let runtime = Runtime::new(&Limits::default(), 2, dir.path()).expect("runtime");
        let path = dir.path().join("plugin.wat");
        std::fs::write(&path, wat).expect("write");
        runtime.load(&path).await
    }

    #[tokio::test]
    async fn a_plugin_for_another_contract_version_is_refused_with_both_versions() {
        let err = load_text(
            r#"(component
                 (instance $handler)
                 (export "crossdesk:plugin/handler@9.9.9" (instance $handler)))"#,
        )
        .await
        .expect_err("refused");
        let message = err.to_string();
        assert!(
            message.contains("9.9.9") && message.contains("0.1.0, 0.2.0, 0.2.1"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_refused_attempt_is_tried_again_after_each_pause() {
        let pauses = [Duration::from_millis(1), Duration::from_millis(2)];
        let mut attempts = 0;
        let started = std::time::Instant::now();
        let result = with_retries(&pauses, || {
            attempts += 1;
            if attempts < 3 {
                Err("busy")
            } else {
                Ok(attempts)
            }
        })
        .await;
        assert_eq!(result, Ok(3));
        assert!(started.elapsed() >= Duration::from_millis(3));

        let mut attempts = 0;
        let result: Result<(), &str> = with_retries(&pauses, || {
            attempts += 1;
            Err("busy")
        })
        .await;
        assert_eq!((result, attempts), (Err("busy"), 3));

        let mut attempts = 0;
        let result: Result<(), &str> = with_retries(&pauses, || {
            attempts += 1;
            Ok(())
        })
        .await;
        assert_eq!((result, attempts), (Ok(()), 1));
    }

    #[tokio::test]
    async fn a_component_that_is_no_plugin_is_refused() {
        let err = load_text("(component)").await.expect_err("refused");
        assert!(err.to_string().contains("not a Crossdesk plugin"), "{err}");
    }

    #[tokio::test]
    async fn compiled_components_are_cached_on_disk_by_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let runtime =
            Runtime::new(&Limits::default(), 2, &dir.path().join("compiled")).expect("runtime");
        let artifacts = || {
            std::fs::read_dir(dir.path().join("compiled"))
                .expect("compiled dir")
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".cwasm"))
                .collect::<Vec<_>>()
        };
        let a = dir.path().join("a.wat");
        let b = dir.path().join("b.wat");
        std::fs::write(&a, "(component)").expect("write");
        std::fs::write(&b, "(component)").expect("write");
        // Refused as no plugin, but compiled (and cached) first.
        assert!(runtime.load(&a).await.is_err());
        assert_eq!(artifacts().len(), 1);
        // Same bytes under another name: the same artifact.
        assert!(runtime.load(&b).await.is_err());
        assert_eq!(artifacts().len(), 1);
        std::fs::write(&b, "(component (core module))").expect("write");
        assert!(runtime.load(&b).await.is_err());
        let names = artifacts();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.iter().all(|n| n.ends_with(".cwasm")), "{names:?}");
    }

    #[tokio::test]
    async fn bytes_that_are_no_component_are_refused() {
        let err = load_text("this is not wasm").await.expect_err("refused");
        assert!(matches!(err, LoadError::NotComponent { .. }), "{err}");
    }
}
