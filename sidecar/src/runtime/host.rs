//! The host side of every import a plugin sees, and the per-call state they share.
//!
//! Each capability checks the call's [`Grant`] first: a plugin gets nothing it was not
//! granted, and every refusal is recorded so the call's outcome can say `DENIED`.
//! WASI p2 is linked with nothing granted (no preopened directories, no environment,
//! no network, closed stdio); its context is built only when a plugin first uses it.

use std::sync::Arc;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceAny, ResourceTable};
use wasmtime_wasi::p2::Network;
use wasmtime_wasi::p2::bindings::sockets::network::{
    ErrorCode as SocketErrorCode, IpAddressFamily,
};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use super::Grant;
use super::bindings::{clock, contacts, http, kv, log, settings, types};
use super::budget::{MemoryBudget, Refused, TenantMemory};
use super::http::OutboundError;
use super::refusals::{Refusals, one_line};
use crate::metrics::{Metrics, OutboundOutcome};

/// Longest key a plugin may store, in bytes.
pub(crate) const MAX_KV_KEY: usize = 512;
/// Largest value a plugin may store, in bytes.
pub(crate) const MAX_KV_VALUE: usize = 1 << 20;
/// Most keys one `list-keys` call returns.
const MAX_KV_LIST: usize = 10_000;
/// Host resources (streams, pollables, requests, WASI handles) one instance may
/// hold at once. wasmtime's default, a million, would let a guest that creates
/// them in a loop hold tens of megabytes of the host's memory, outside its own
/// limit, in every call it runs at once.
const MAX_HOST_RESOURCES: usize = 10_000;
/// Longest log line forwarded, in bytes; longer ones are cut.
const MAX_LOG_LINE: usize = 4096;

/// The data of an instance's `Store`. Everything of one call (its grant, refusals,
/// log count, memory flag) is set by [`CallState::begin`] before each call, so that
/// an instance kept warm carries nothing of the host from one call to the next.
pub(crate) struct CallState {
    grant: Arc<Grant>,
    pub(super) limiter: CallLimiter,
    /// Capability refusals, in order: the outcome's message when the call fails.
    denials: Refusals,
    logs_emitted: u32,
    /// Built on first use: most plugins never touch WASI.
    wasi: Option<WasiCtx>,
    /// `wasi:http` is linked only so that components importing it (JavaScript ones
    /// do, even when they never send a request) load; every request is refused.
    /// Plugins reach the network through `crossdesk:plugin/http`.
    wasi_http: WasiHttpCtx,
    wasi_http_refusals: RefuseWasiHttp,
    table: ResourceTable,
    metrics: Arc<Metrics>,
    /// Calls the instance may still serve warm (0: it is dropped after this one).
    pub(super) calls_left: u32,
    /// Its linear memory once instantiated.
    pub(super) born_memory: usize,
    /// Whether the store failed one of this call's storage requests for now.
    pub(super) store_failed: bool,
}

impl CallState {
    /// The state of a new instance: `budget` is the process-wide memory budget
    /// its linear memory counts against (and the grant's tenant's share of it);
    /// `metrics` count its HTTP requests.
    pub(super) fn new(grant: Arc<Grant>, budget: Arc<MemoryBudget>, metrics: Arc<Metrics>) -> Self {
        let limits = grant.limits;
        let share = budget.share_of(grant.tenant());
        Self {
            grant,
            limiter: CallLimiter {
                max_memory: usize::try_from(limits.max_memory_bytes).unwrap_or(usize::MAX),
                max_table: limits.max_table_elements as usize,
                max_instances: limits.max_instances as usize,
                memory_exceeded: false,
                budget_refused: None,
                memory_bytes: 0,
                share,
                budget,
            },
            denials: Refusals::default(),
            logs_emitted: 0,
            wasi: None,
            wasi_http: {
                // A plugin may make `wasi:http` fields and requests, never send
                // them: each holds at most this, as many as the resource table's
                // bound (not 128 KiB each, wasmtime's default).
                let mut ctx = WasiHttpCtx::new();
                ctx.set_field_size_limit(WASI_HTTP_FIELDS_BYTES);
                ctx
            },
            wasi_http_refusals: RefuseWasiHttp::default(),
            table: {
                let mut table = ResourceTable::new();
                table.set_max_capacity(MAX_HOST_RESOURCES);
                table
            },
            calls_left: 0,
            born_memory: 0,
            store_failed: false,
            metrics,
        }
    }

    /// Starts a call under `grant`: nothing of an earlier call remains.
    pub(super) fn begin(&mut self, grant: Arc<Grant>) {
        let limits = grant.limits;
        self.grant = grant;
        self.limiter.max_memory = usize::try_from(limits.max_memory_bytes).unwrap_or(usize::MAX);
        self.limiter.max_table = limits.max_table_elements as usize;
        self.limiter.max_instances = limits.max_instances as usize;
        self.limiter.memory_exceeded = false;
        self.limiter.budget_refused = None;
        self.denials.clear();
        self.logs_emitted = 0;
        self.store_failed = false;
        self.wasi_http_refusals.denials.clear();
    }

    /// Ends a call whose instance is kept warm: the grant goes (so that dropping it
    /// retires the instance, `warm.rs`), answering whether the call left nothing of
    /// the host behind (no open resource: response bodies, streams).
    pub(super) fn end(&mut self, idle: Arc<Grant>) -> bool {
        self.grant = idle;
        self.table.is_empty()
    }

    /// Linear memory of the instance.
    pub(super) fn memory_bytes(&self) -> usize {
        self.limiter.memory_bytes
    }

    fn deny(&mut self, what: String) -> String {
        let (what, kept) = self.denials.record(&what);
        if kept {
            tracing::warn!(tenant = %self.grant.tenant(), plugin = %self.grant.plugin, "denied: {}", one_line(&what));
        }
        what
    }

    /// The call's first refusals, `wasi:http`'s included.
    pub(super) fn all_denials(&self) -> Vec<String> {
        let mut all: Vec<String> = self.denials.iter().cloned().collect();
        all.extend(self.wasi_http_refusals.denials.iter().cloned());
        all
    }
}

/// Memory, table and instance limits of one call; remembers whether memory ran out
/// so the outcome can say so instead of reporting a bare trap. Linear memory also
/// counts against the process-wide budget and its tenant's share of it, given back
/// when the instance is dropped.
pub(super) struct CallLimiter {
    max_memory: usize,
    max_table: usize,
    max_instances: usize,
    pub(super) memory_exceeded: bool,
    /// The memory was refused by the process-wide budget or the tenant's share
    /// of it, not the call's limit.
    pub(super) budget_refused: Option<Refused>,
    memory_bytes: usize,
    budget: Arc<MemoryBudget>,
    /// The instance's tenant's share of the budget.
    share: Arc<TenantMemory>,
}

impl Drop for CallLimiter {
    fn drop(&mut self) {
        self.budget.release(&self.share, self.memory_bytes);
    }
}

impl wasmtime::ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Past the memory's own maximum, wasmtime refuses the growth after asking
        // here, and nothing would give the reservation back until the instance
        // goes: refused here first, it is never taken (`memory.grow` gives -1).
        if maximum.is_some_and(|maximum| desired > maximum) {
            return Ok(false);
        }
        // The limit is the instance's: all its memories together.
        let growth = desired.saturating_sub(current);
        if self.memory_bytes.saturating_add(growth) > self.max_memory {
            self.memory_exceeded = true;
            return Ok(false);
        }
        if let Err(refused) = self.budget.reserve(&self.share, growth) {
            self.memory_exceeded = true;
            self.budget_refused = Some(refused);
            return Ok(false);
        }
        self.memory_bytes = self.memory_bytes.saturating_add(growth);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.max_table)
    }

    fn instances(&self) -> usize {
        self.max_instances
    }

    fn tables(&self) -> usize {
        self.max_instances
    }

    fn memories(&self) -> usize {
        self.max_instances
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let ctx = self.wasi.get_or_insert_with(|| {
            // No `inherit_network`, no preopens, no env, no args: nothing is
            // granted. Sockets are refused at their creation, and name lookups, by
            // [`link_refused_sockets`].
            // Random bytes are made by the host before they are copied in: as
            // many as a call asks, 64 MiB by default, memory of the host's.
            WasiCtxBuilder::new()
                .allow_tcp(false)
                .allow_udp(false)
                .max_random_size(MAX_RANDOM_BYTES)
                .build()
        });
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}

/// The version of WASI's sockets wasmtime-wasi links (components importing any
/// 0.2.x reach it).
const WASI_SOCKETS: &str = "0.2.12";

/// Links over WASI's socket creation and name lookup functions that refuse every
/// call and record it. wasmtime-wasi refuses a disabled one without a trace, so a
/// plugin's attempt would be neither named in its outcome (`DENIED`) nor end its
/// warm instance, as every other refused capability does; and a socket it did
/// create would be an open file of the host's, refused only at its bind or
/// connect, as many as the plugin liked. Plugins reach the network through
/// `crossdesk:plugin/http`.
pub(super) fn link_refused_sockets(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    fn refuse(
        mut store: StoreContextMut<'_, CallState>,
        what: String,
    ) -> (Result<ResourceAny, SocketErrorCode>,) {
        store.data_mut().deny(format!(
            "{what} is not granted: plugins reach the network through crossdesk:plugin/http"
        ));
        // The resource types are private to wasmtime-wasi; an error has none.
        (Err(SocketErrorCode::AccessDenied),)
    }
    linker.allow_shadowing(true);
    let linked = (|| {
        for (protocol, name) in [("tcp", "TCP"), ("udp", "UDP")] {
            linker
                .instance(&format!(
                    "wasi:sockets/{protocol}-create-socket@{WASI_SOCKETS}"
                ))?
                .func_wrap(
                    &format!("create-{protocol}-socket"),
                    move |store, (_family,): (IpAddressFamily,)| {
                        Ok(refuse(store, format!("creating a {name} socket")))
                    },
                )?;
        }
        linker
            .instance(&format!("wasi:sockets/ip-name-lookup@{WASI_SOCKETS}"))?
            .func_wrap(
                "resolve-addresses",
                |store, (_network, name): (Resource<Network>, String)| {
                    Ok(refuse(store, format!("name lookup of {name}")))
                },
            )?;
        Ok(())
    })();
    linker.allow_shadowing(false);
    linked
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            hooks: &mut self.wasi_http_refusals,
            table: &mut self.table,
            ctx: &mut self.wasi_http,
        }
    }
}

/// Most random bytes one `wasi:random` call gets.
const MAX_RANDOM_BYTES: u64 = 1 << 20;

/// What one `wasi:http` fields resource may hold, as wasmtime weighs it.
const WASI_HTTP_FIELDS_BYTES: usize = 1 << 10;

/// Refuses every `wasi:http` request and records it.
#[derive(Default)]
struct RefuseWasiHttp {
    denials: Refusals,
}

impl WasiHttpHooks for RefuseWasiHttp {
    /// Asked when the plugin takes a request's (or response's) body: a body is
    /// never sent, but held what was written into it, two chunks of 1 MiB by
    /// default, for as long as the plugin kept the request, memory none of its
    /// limits count. Taking one is recorded as a refusal (the outcome says
    /// `DENIED` if the plugin then fails; its instance is not kept either way),
    /// and the body holds a byte.
    fn p2_outgoing_body_buffer_chunks(&mut self) -> usize {
        self.denials.record(
            "a wasi:http body is not granted: plugins reach the network through crossdesk:plugin/http",
        );
        1
    }

    fn p2_outgoing_body_chunk_size(&mut self) -> usize {
        1
    }

    fn send_request(
        &mut self,
        request: ::http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _io: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        ::http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        self.denials.record(&format!(
            "wasi:http request to {} refused: plugins reach the network through crossdesk:plugin/http",
            request.uri()
        ));
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

impl types::Host for CallState {}

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, message: String) {
        if self.logs_emitted >= self.grant.limits.max_log_lines {
            return;
        }
        self.logs_emitted = self.logs_emitted.saturating_add(1);
        let message = one_line(truncate(&message, MAX_LOG_LINE));
        let (tenant, plugin) = (self.grant.tenant(), &self.grant.plugin);
        match level {
            log::Level::Trace => tracing::trace!(%tenant, %plugin, "{message}"),
            log::Level::Debug => tracing::debug!(%tenant, %plugin, "{message}"),
            log::Level::Info => tracing::info!(%tenant, %plugin, "{message}"),
            log::Level::Warn => tracing::warn!(%tenant, %plugin, "{message}"),
            log::Level::Error => tracing::error!(%tenant, %plugin, "{message}"),
        }
    }
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    &text[..text.floor_char_boundary(max)]
}

impl clock::Host for CallState {
    fn now_ms(&mut self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

impl settings::Host for CallState {
    fn get(&mut self, key: String) -> Option<String> {
        self.grant
            .settings
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }

    fn all(&mut self) -> Vec<(String, String)> {
        self.grant.settings.clone()
    }
}

/// The first whole second at or after `ms`: buckets start on whole seconds, so
/// `[from_ms, to_ms)` in milliseconds holds the same buckets as
/// `[seconds_up(from_ms), seconds_up(to_ms))` in seconds (truncating would
/// drop the bucket starting in `to_ms`'s second, and take one before `from_ms`).
fn seconds_up(ms: i64) -> i64 {
    let whole = ms.div_euclid(1000);
    if ms.rem_euclid(1000) > 0 {
        whole.saturating_add(1)
    } else {
        whole
    }
}

impl contacts::Host for CallState {
    async fn history(
        &mut self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<contacts::ContactCount>, String> {
        let Some(store) = self.grant.contact_history.clone() else {
            return Err(self.deny(format!(
                "the contact history of tenant '{}' is readable only in commands an admin runs",
                self.grant.tenant()
            )));
        };
        let counts = store
            .contact_history(self.grant.tenant(), seconds_up(from_ms), seconds_up(to_ms))
            .await
            .map_err(|e| format!("contact history: {e}"))?;
        Ok(counts
            .into_iter()
            .map(|c| contacts::ContactCount {
                bucket_start_ms: c.bucket_start_s.saturating_mul(1000),
                language: c.language,
                channel: c.channel,
                arrivals: c.arrivals,
                handled: c.handled,
                handle_secs: c.handle_secs,
            })
            .collect())
    }
}

impl CallState {
    /// The store, if granted; records the refusal otherwise.
    fn kv_store(&mut self) -> Result<crate::store::Store, kv::KvError> {
        match &self.grant.kv {
            Some(store) => Ok(store.clone()),
            None => Err(kv::KvError::Denied(self.deny(format!(
                "key-value storage is not granted to plugin '{}' for tenant '{}'",
                self.grant.plugin,
                self.grant.tenant()
            )))),
        }
    }

    /// The store holding another plugin's data, if this plugin may read it;
    /// records the refusal otherwise.
    fn readable(&mut self, shared: &SharedKey<'_>) -> Result<crate::store::Store, kv::KvError> {
        match &self.grant.kv_read {
            Some(read) if read.plugins.iter().any(|p| p == shared.plugin) => Ok(read.store.clone()),
            _ => Err(kv::KvError::Denied(self.deny(format!(
                "plugin '{}' may not read the storage of plugin '{}' for tenant '{}'",
                self.grant.plugin,
                shared.plugin,
                self.grant.tenant()
            )))),
        }
    }

    /// Refuses writes to keys that name another plugin's storage.
    fn writable(&mut self, key: &str) -> Result<(), kv::KvError> {
        match SharedKey::parse(key) {
            Some(shared) => Err(kv::KvError::Denied(self.deny(format!(
                "'{key}' names the storage of plugin '{}', which is read-only to plugin '{}'",
                shared.plugin, self.grant.plugin
            )))),
            None => Ok(()),
        }
    }

    fn check_key(key: &str) -> Result<(), kv::KvError> {
        if key.len() > MAX_KV_KEY {
            return Err(kv::KvError::TooLarge(format!(
                "key of {} bytes; the limit is {MAX_KV_KEY}",
                key.len()
            )));
        }
        Ok(())
    }
}

/// A key in another plugin's storage: `@<plugin>/<key>`. Every key starting with
/// `@` is one, so a plugin cannot write keys that look like them.
struct SharedKey<'a> {
    plugin: &'a str,
    key: &'a str,
}

impl SharedKey<'_> {
    fn parse(key: &str) -> Option<SharedKey<'_>> {
        let rest = key.strip_prefix('@')?;
        let (plugin, key) = rest.split_once('/').unwrap_or((rest, ""));
        Some(SharedKey { plugin, key })
    }
}

impl CallState {
    /// A storage error as the plugin gets it; one of the store's moment marks
    /// the call's failure, if the plugin then fails, as one to try again
    /// (`CallFailure::retryable`), whatever the plugin says of it.
    fn failed_store(&mut self, e: crate::store::StoreError) -> kv::KvError {
        self.store_failed |= e.is_for_now();
        backend(e)
    }
}

fn backend(e: crate::store::StoreError) -> kv::KvError {
    match e {
        // The store holds the quota (`Store::with_kv_quota`), the operator sets it.
        crate::store::StoreError::OverQuota { .. } => {
            kv::KvError::TooLarge(format!("{e} (runtime.kv_quota_mb)"))
        }
        e => kv::KvError::Backend(e.to_string()),
    }
}

impl kv::Host for CallState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, kv::KvError> {
        Self::check_key(&key)?;
        if let Some(shared) = SharedKey::parse(&key) {
            let store = self.readable(&shared)?;
            return store
                .kv_get(self.grant.tenant(), shared.plugin, shared.key)
                .await
                .map_err(|e| self.failed_store(e));
        }
        let store = self.kv_store()?;
        let (tenant, plugin) = (self.grant.tenant(), &self.grant.plugin);
        store
            .kv_get(tenant, plugin, &key)
            .await
            .map_err(|e| self.failed_store(e))
    }

    async fn put(&mut self, key: String, value: Vec<u8>) -> Result<(), kv::KvError> {
        Self::check_key(&key)?;
        self.writable(&key)?;
        let store = self.kv_store()?;
        if value.len() > MAX_KV_VALUE {
            return Err(kv::KvError::TooLarge(format!(
                "value of {} bytes; the limit is {MAX_KV_VALUE}",
                value.len()
            )));
        }
        store
            .kv_put(&self.grant.of, &self.grant.plugin, &key, value)
            .await
            .map_err(|e| self.failed_store(e))
    }

    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> Result<bool, kv::KvError> {
        Self::check_key(&key)?;
        self.writable(&key)?;
        let store = self.kv_store()?;
        if let Some(value) = new.as_ref().filter(|v| v.len() > MAX_KV_VALUE) {
            return Err(kv::KvError::TooLarge(format!(
                "value of {} bytes; the limit is {MAX_KV_VALUE}",
                value.len()
            )));
        }
        store
            .kv_compare_and_swap(&self.grant.of, &self.grant.plugin, &key, expected, new)
            .await
            .map_err(|e| self.failed_store(e))
    }

    async fn delete(&mut self, key: String) -> Result<(), kv::KvError> {
        Self::check_key(&key)?;
        self.writable(&key)?;
        let store = self.kv_store()?;
        store
            .kv_delete(&self.grant.of, &self.grant.plugin, &key)
            .await
            .map_err(|e| self.failed_store(e))
    }

    async fn list_keys(&mut self, prefix: String) -> Result<Vec<String>, kv::KvError> {
        Self::check_key(&prefix)?;
        if let Some(shared) = SharedKey::parse(&prefix) {
            let store = self.readable(&shared)?;
            let keys = store
                .kv_list(self.grant.tenant(), shared.plugin, shared.key, MAX_KV_LIST)
                .await
                .map_err(|e| self.failed_store(e))?;
            let namespace = format!("@{}/", shared.plugin);
            return Ok(keys
                .into_iter()
                .map(|k| format!("{namespace}{k}"))
                .collect());
        }
        let store = self.kv_store()?;
        let (tenant, plugin) = (self.grant.tenant(), &self.grant.plugin);
        store
            .kv_list(tenant, plugin, &prefix, MAX_KV_LIST)
            .await
            .map_err(|e| self.failed_store(e))
    }
}

impl http::Host for CallState {
    async fn fetch(&mut self, request: http::Request) -> Result<http::Response, http::HttpError> {
        let grant = self.grant.clone();
        let Some(policy) = &grant.outbound else {
            self.metrics
                .outbound(&grant.plugin, "", OutboundOutcome::Denied);
            return Err(http::HttpError::Denied(self.deny(format!(
                "outbound HTTP is not granted to plugin '{}' for tenant '{}' (asked for {})",
                grant.plugin,
                grant.tenant(),
                request.url
            ))));
        };
        let send = policy.send(
            &request.method,
            &request.url,
            request.headers,
            request.body,
            grant.limits.max_http_response_bytes,
        );
        // The call's deadline bounds every request; `http_timeout_ms` one request.
        let result = match grant.limits.http_timeout_ms {
            0 => send.await,
            ms => tokio::time::timeout(std::time::Duration::from_millis(ms), send)
                .await
                .unwrap_or(Err(OutboundError::Timeout)),
        };
        let outcome = match &result {
            Ok((status, ..)) => OutboundOutcome::Status(*status),
            Err(OutboundError::Denied(_)) => OutboundOutcome::Denied,
            Err(_) => OutboundOutcome::Error,
        };
        // Named by the grant, not the host asked for: under `*.example.com` a
        // plugin could fill the metrics with made-up names. A refusal names none.
        let host = match outcome {
            OutboundOutcome::Denied => String::new(),
            _ => policy.granted_name(&request.url),
        };
        self.metrics.outbound(&grant.plugin, &host, outcome);
        match result {
            Ok((status, headers, body)) => Ok(http::Response {
                status,
                headers,
                body,
            }),
            Err(OutboundError::Denied(why)) => Err(http::HttpError::Denied(self.deny(why))),
            Err(OutboundError::Invalid(why)) => Err(http::HttpError::InvalidRequest(why)),
            Err(OutboundError::Timeout) => Err(http::HttpError::Timeout),
            Err(OutboundError::Transport(why)) => Err(http::HttpError::Transport(why)),
            Err(OutboundError::TooLarge(_)) => Err(http::HttpError::TooLarge),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bucket at second `t` is in `[from_ms, to_ms)` exactly when it is in
    /// the seconds the store is asked for, negative times too.
    #[test]
    fn history_bounds_keep_their_buckets_in_whole_seconds() {
        for t in [-3_i64, -1, 0, 1, 7] {
            for from_ms in [t * 1000 - 1, t * 1000, t * 1000 + 1] {
                for to_ms in [t * 1000, t * 1000 + 1, t * 1000 + 999, t * 1000 + 1000] {
                    let in_ms = from_ms <= t * 1000 && t * 1000 < to_ms;
                    let in_s = seconds_up(from_ms) <= t && t < seconds_up(to_ms);
                    assert_eq!(in_ms, in_s, "t {t}, [{from_ms}, {to_ms})");
                }
            }
        }
    }
    use crate::limits::Limits;

    fn state() -> CallState {
        let grant = Arc::new(Grant::nothing("acme", "p", Limits::default()));
        CallState::new(
            grant,
            Arc::new(MemoryBudget::new(1 << 30, 1 << 30)),
            Arc::new(Metrics::new()),
        )
    }

    #[test]
    fn a_call_begins_with_nothing_of_the_one_before() {
        let mut state = state();
        state.deny("an earlier refusal".into());
        state.logs_emitted = 7;
        state.limiter.memory_exceeded = true;
        let next = Arc::new(Grant::nothing("acme", "p", Limits::default()));
        state.begin(next.clone());
        assert!(state.all_denials().is_empty());
        assert_eq!(state.logs_emitted, 0);
        assert!(!state.limiter.memory_exceeded);
        assert!(Arc::ptr_eq(&state.grant, &next));
    }

    #[test]
    fn an_instance_holding_a_host_resource_is_not_kept() {
        let idle = Arc::new(Grant::nothing("", "", Limits::default()));
        let mut clean = state();
        assert!(clean.end(idle.clone()));
        assert!(Arc::ptr_eq(&clean.grant, &idle), "the grant is let go");
        let mut holding = state();
        holding.table.push(42u32).expect("pushed");
        assert!(!holding.end(idle));
    }

    #[test]
    fn its_memory_goes_back_to_the_budget_when_the_instance_goes() {
        // The tenant's share would allow more: the process's budget refuses.
        let budget = Arc::new(MemoryBudget::new(10 << 20, 20 << 20));
        let grant = Arc::new(Grant::nothing("acme", "p", Limits::default()));
        let mut state = CallState::new(grant, budget.clone(), Arc::new(Metrics::new()));
        use wasmtime::ResourceLimiter;
        assert!(
            state
                .limiter
                .memory_growing(0, 4 << 20, None)
                .expect("asked")
        );
        assert!(
            !state
                .limiter
                .memory_growing(4 << 20, 11 << 20, None)
                .expect("asked")
        );
        assert_eq!(state.limiter.budget_refused, Some(Refused::Process));
        assert_eq!(budget.used(), 4 << 20);
        drop(state);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn a_tenants_instances_together_hold_no_more_than_its_share() {
        use wasmtime::ResourceLimiter;
        let budget = Arc::new(MemoryBudget::new(100 << 20, 10 << 20));
        let instance = |tenant: &str| {
            let grant = Arc::new(Grant::nothing(tenant, "p", Limits::default()));
            CallState::new(grant, budget.clone(), Arc::new(Metrics::new()))
        };
        let (mut first, mut second, mut other) =
            (instance("acme"), instance("acme"), instance("globex"));
        let grow = |state: &mut CallState, bytes: usize| {
            state.limiter.memory_growing(0, bytes, None).expect("asked")
        };
        assert!(grow(&mut first, 8 << 20));
        assert!(!grow(&mut second, 4 << 20), "acme's share is 10 MiB");
        assert_eq!(second.limiter.budget_refused, Some(Refused::Tenant));
        assert!(grow(&mut other, 4 << 20), "globex has its own");
        drop(first);
        assert!(grow(&mut second, 4 << 20), "given back with the instance");
    }

    #[test]
    fn a_growth_past_the_memorys_own_maximum_takes_nothing_from_the_budget() {
        let budget = Arc::new(MemoryBudget::new(1 << 30, 1 << 30));
        let grant = Arc::new(Grant::nothing("acme", "p", Limits::default()));
        let mut state = CallState::new(grant, budget.clone(), Arc::new(Metrics::new()));
        use wasmtime::ResourceLimiter;
        // `(memory 1 1)` asked again and again to grow.
        for _ in 0..100 {
            assert!(
                !state
                    .limiter
                    .memory_growing(64 << 10, 32 << 20, Some(64 << 10))
                    .expect("asked")
            );
        }
        assert_eq!(budget.used(), 0);
        assert!(!state.limiter.memory_exceeded, "the guest's own bound");
    }

    #[test]
    fn the_memory_limit_is_the_instances_all_memories_together() {
        let budget = Arc::new(MemoryBudget::new(1 << 30, 1 << 30));
        let limits = Limits {
            max_memory_bytes: 64 << 20,
            ..Limits::default()
        };
        let grant = Arc::new(Grant::nothing("acme", "p", limits));
        let mut state = CallState::new(grant, budget.clone(), Arc::new(Metrics::new()));
        use wasmtime::ResourceLimiter;
        for _ in 0..2 {
            assert!(
                state
                    .limiter
                    .memory_growing(0, 32 << 20, None)
                    .expect("asked")
            );
        }
        // A third memory of 32 MiB, each under the limit, all three above it.
        assert!(
            !state
                .limiter
                .memory_growing(0, 32 << 20, None)
                .expect("asked")
        );
        assert!(state.limiter.memory_exceeded);
        assert_eq!(budget.used(), 64 << 20);
    }
}
