//! The sidecar's configuration: one TOML file in which every setting has a default.
//!
//! This module owns parsing, defaults and validation. What a tenant grants a plugin
//! (storage, outbound hosts, secrets, settings) is plain data here, checked at start-up
//! with errors that name the tenant, the plugin and the field.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::grant::GrantDoc;
pub use crate::grant::check_tenant_id;
pub use crate::limits::{LimitOverrides, Limits, Quota, QuotaOverrides};

/// The configuration used when no file is given: listens on loopback, keeps its data
/// in `./.crossdesk`, and runs the plugins built by `make plugins` for a `demo` tenant.
pub const EMBEDDED_DEFAULT: &str = include_str!("default-config.toml");

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Where and what, never the file's text (see `toml_errors`).
    #[error("invalid config: {0}")]
    Parse(String),
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// The whole sidecar configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address of the event API.
    pub listen: SocketAddr,
    /// Folder for persistent data: the key-value store and compiled plugins.
    pub data_dir: PathBuf,
    /// Folder of compiled plugins (default `<data_dir>/compiled`). Artifacts are
    /// named by the component's and the engine's hashes, so several sidecars (or
    /// test servers) may share one; `CROSSDESK_COMPILED_DIR` overrides it.
    pub compiled_dir: Option<PathBuf>,
    /// Folder against which relative plugin paths are resolved.
    pub plugin_dir: PathBuf,
    /// Default limits for every plugin call; tenants may lower or raise them per plugin.
    pub limits: Limits,
    pub server: ServerSettings,
    pub runtime: RuntimeSettings,
    pub cache: CacheSettings,
    pub idempotency: IdempotencySettings,
    pub insights: InsightSettings,
    pub quota: Quota,
    /// The installed plugins.
    pub plugins: Vec<PluginSource>,
    /// The tenants served, with the plugins each one runs, in pipeline order.
    pub tenants: Vec<TenantConfig>,
    /// Who may submit events, and for which tenants. With none configured the event
    /// API is open to anyone who reaches the listener (fine on loopback only).
    pub callers: Vec<CallerConfig>,
    /// Where tenants' settings and plugin data are kept.
    pub storage: StorageSettings,
    /// Where plugins' requests may go beyond public addresses.
    pub outbound: OutboundSettings,
    /// The most an admin limited to some tenants may grant.
    pub tenant_admins: TenantAdminSettings,
    /// The admin API. With it, tenants and plugins live in the store and change at
    /// runtime (this file's `[[plugins]]` and `[[tenants]]` only seed an empty store);
    /// without it, this file is the whole truth and changes need a restart.
    pub admin: Option<AdminSettings>,
    /// The operations listener: metrics, liveness and readiness ([`crate::ops`]).
    pub ops: Option<OpsSettings>,
}

/// Where operators' tools reach the sidecar.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsSettings {
    /// Address of `/metrics`, `/livez` and `/readyz` (plain HTTP).
    pub listen: SocketAddr,
}

/// The store: SQLite in `data_dir` unless a PostgreSQL URL is given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    /// `postgres://user@host:port/database`; prefer `url_env` when it has a password.
    /// It may carry one, so it prints as redacted.
    pub url: Option<SecretString>,
    /// The environment variable holding the URL.
    pub url_env: Option<String>,
    /// PEM certificates of the CA that signed the database's certificate, trusted
    /// alone (instead of Mozilla's roots) when the URL says `sslmode=require`.
    pub ca_file: Option<PathBuf>,
    /// How often a replica looks for changes made through another replica.
    pub poll_ms: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            url: None,
            url_env: None,
            ca_file: None,
            poll_ms: 250,
        }
    }
}

/// A secret from the environment variable `var`, without the white space around
/// it: a value mounted from a file (a Kubernetes Secret made `--from-file`, a
/// YAML `|` block) ends in a newline that no caller sends, and no URL has.
pub fn env_secret(var: &str) -> Result<String, std::env::VarError> {
    std::env::var(var).map(|value| value.trim().to_owned())
}

impl StorageSettings {
    /// The PostgreSQL URL, if one is configured.
    pub fn resolve_url(&self) -> Result<Option<String>, ConfigError> {
        match (&self.url, &self.url_env) {
            (Some(url), None) => Ok(Some(url.expose_secret().to_owned())),
            (None, Some(var)) => env_secret(var).map(Some).map_err(|_| {
                ConfigError::Invalid(format!(
                    "storage.url_env: environment variable {var} is not set"
                ))
            }),
            (None, None) if self.ca_file.is_some() => Err(ConfigError::Invalid(
                "storage.ca_file is for a PostgreSQL URL, and there is none (SQLite)".into(),
            )),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(ConfigError::Invalid(
                "storage: give at most one of `url` and `url_env`".into(),
            )),
        }
    }
}

/// The admin API's listener, who may use it, and how secrets and plugins are
/// protected.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// Address of the admin API (keep it off the event API's network).
    pub listen: SocketAddr,
    /// Admins, each with a bearer token and the tenants they manage (`"*"`: all
    /// tenants, and installing plugins).
    #[serde(default)]
    pub users: Vec<CallerConfig>,
    /// TLS for the admin listener; with `client_ca_file`, a client certificate
    /// signed by that CA authenticates an admin of every tenant.
    #[serde(default)]
    pub tls: Option<TlsSettings>,
    /// File with the master key that encrypts secrets at rest (created when
    /// missing; default `<data_dir>/master.key`). Replicas must share one key.
    #[serde(default)]
    pub master_key_file: Option<PathBuf>,
    /// Environment variable holding the master key (base64 of 32 bytes) instead.
    #[serde(default)]
    pub master_key_env: Option<String>,
    /// Base64 ed25519 public keys. When any is given, a plugin is installed only
    /// with a valid signature by one of them.
    #[serde(default)]
    pub trusted_keys: Vec<String>,
    /// Largest plugin component accepted, in bytes.
    #[serde(default = "default_max_component_bytes")]
    pub max_component_bytes: usize,
}

fn default_max_component_bytes() -> usize {
    64 << 20
}

impl AdminSettings {
    fn validate(&self, config: &Config) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(format!("admin: {msg}")));
        if self.listen == config.listen && self.listen.port() != 0 {
            return invalid(format!(
                "listen {} is the event API's address; the admin API needs its own",
                self.listen
            ));
        }
        let client_certificates = TlsSettings::requires_client_certificates(self.tls.as_ref());
        if self.users.is_empty() && !client_certificates {
            return invalid(
                "the admin API requires authentication: add [[admin.users]] or \
                 admin.tls.client_ca_file"
                    .into(),
            );
        }
        if self.master_key_file.is_some() && self.master_key_env.is_some() {
            return invalid("give at most one of master_key_file and master_key_env".into());
        }
        let mut names = std::collections::HashSet::new();
        let mut event_tokens = std::collections::HashSet::new();
        for caller in &config.callers {
            event_tokens.insert(caller.resolve()?);
        }
        for user in &self.users {
            if !names.insert(user.name.as_str()) {
                return invalid(format!("user '{}' is configured twice", user.name));
            }
            // Every client then holds a certificate, and a certificate without a
            // token is an admin of every tenant: a scoped user would leave its
            // token out and be one.
            if client_certificates && !user.tenants.iter().any(|t| t == "*") {
                return invalid(format!(
                    "user '{}' is an admin of some tenants only, but with \
                     admin.tls.client_ca_file every client presents a certificate, \
                     and a certificate without a token acts for every tenant: \
                     scoped admins need an admin API without client certificates",
                    user.name
                ));
            }
            if event_tokens.contains(&user.resolve()?) {
                return invalid(format!(
                    "user '{}' has the token of an event-API caller; admin tokens must differ",
                    user.name
                ));
            }
        }
        crate::signing::TrustedKeys::parse(&self.trusted_keys)
            .map_err(|e| ConfigError::Invalid(format!("admin.trusted_keys: {e}")))?;
        Ok(())
    }
}

/// A client of the event API (a helpdesk bridge), identified by a bearer token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallerConfig {
    /// Shown in logs and refusals.
    pub name: String,
    /// The token, written here (prefer `token_env`); it prints as redacted.
    #[serde(default)]
    pub token: Option<SecretString>,
    /// The environment variable holding the token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Tenants whose events this caller may submit; `"*"` for all.
    pub tenants: Vec<String>,
}

impl CallerConfig {
    /// The caller's token, read from the environment when configured so.
    pub fn resolve(&self) -> Result<String, ConfigError> {
        let invalid = |msg: String| ConfigError::Invalid(format!("caller '{}': {msg}", self.name));
        let token = match (&self.token, &self.token_env) {
            (Some(token), None) => token.expose_secret().to_owned(),
            (None, Some(var)) => env_secret(var)
                .map_err(|_| invalid(format!("environment variable {var} is not set")))?,
            _ => {
                return Err(invalid(
                    "give exactly one of `token` and `token_env`".into(),
                ));
            }
        };
        if token.len() < 16 {
            return Err(invalid("the token must have at least 16 characters".into()));
        }
        Ok(token)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from(".crossdesk"),
            compiled_dir: None,
            plugin_dir: PathBuf::from("target/plugins"),
            limits: Limits::default(),
            server: ServerSettings::default(),
            runtime: RuntimeSettings::default(),
            cache: CacheSettings::default(),
            idempotency: IdempotencySettings::default(),
            insights: InsightSettings::default(),
            quota: Quota::default(),
            plugins: Vec::new(),
            tenants: Vec::new(),
            callers: Vec::new(),
            storage: StorageSettings::default(),
            outbound: OutboundSettings::default(),
            tenant_admins: TenantAdminSettings::default(),
            admin: None,
            ops: None,
        }
    }
}

/// Plugins' outbound requests, beyond what each tenant grants.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundSettings {
    /// Hosts a plugin may reach although they resolve to loopback, private or
    /// link-local addresses (an MT engine on this machine, a service of the
    /// operator's network): exact names or addresses, no port. A tenant still lists
    /// the host in its grant's `allowed_hosts`; no tenant can open one itself.
    pub private_hosts: Vec<String>,
}

/// What an admin of some tenants (not `"*"`) may grant, above which only the
/// operator may go: unset fields are the `[limits]` and `[quota]` defaults, so by
/// default such an admin may lower a limit, never raise it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantAdminSettings {
    pub max_limits: LimitOverrides,
    pub max_quota: QuotaOverrides,
}

/// Limits of the gRPC edge.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Largest encoded request accepted; bigger ones get `OUT_OF_RANGE`.
    pub max_request_bytes: usize,
    /// Largest message or draft text accepted, in bytes.
    pub max_text_bytes: usize,
    /// Events of one `StreamEvents` stream processed at the same time.
    pub stream_concurrency: usize,
    /// Requests served at the same time on one connection (and HTTP/2 streams
    /// open on it). Above a tenant's `quota.max_in_flight`: past this limit a
    /// request waits, unseen by the quotas, so a tenant at its quota could
    /// otherwise hold a connection other tenants' events share.
    pub concurrency_per_connection: usize,
    /// Deadline for a whole request, all plugins included.
    pub request_timeout_ms: u64,
    /// Largest number of plugin calls running at once in the whole process.
    pub max_concurrent_calls: u32,
    /// After a stop signal, how long the requests in flight (on every listener)
    /// may take to finish before they are cut off and the process stops.
    pub drain_ms: u64,
    /// TLS for the event API; without it the listener speaks plaintext HTTP/2.
    pub tls: Option<TlsSettings>,
    /// Serve events from anyone who reaches a listener beyond loopback, with no
    /// `[[callers]]` and no client certificates: for a network only trusted
    /// callers reach. Without it such a configuration is refused.
    pub allow_unauthenticated: bool,
}

/// The event listener's certificate, and the CA whose client certificates it
/// requires (mutual TLS) when `client_ca_file` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM certificate chain of the server.
    pub cert_file: PathBuf,
    /// PEM private key of the server.
    pub key_file: PathBuf,
    /// PEM CA certificates; clients must present a certificate they signed.
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
}

impl TlsSettings {
    /// Whether a listener with `tls` takes only clients presenting a
    /// certificate its `client_ca_file` signed (mutual TLS): then a client's
    /// certificate is its credential.
    pub fn requires_client_certificates(tls: Option<&TlsSettings>) -> bool {
        tls.is_some_and(|tls| tls.client_ca_file.is_some())
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            max_request_bytes: 256 << 10,
            max_text_bytes: 64 << 10,
            stream_concurrency: 32,
            concurrency_per_connection: 1024,
            request_timeout_ms: 30_000,
            max_concurrent_calls: 512,
            drain_ms: 30_000,
            tls: None,
            allow_unauthenticated: false,
        }
    }
}

/// How the sandbox shares the CPU, instances and memory between plugin calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeSettings {
    /// Guest CPU an event call runs on the event workers; past it, the call
    /// finishes on the overtime thread, which runs only on idle CPU.
    pub cpu_budget_ms: u64,
    /// Linear memory of all plugin instances, running or warm, in MiB.
    pub memory_budget_mb: u64,
    /// The part of it one tenant's instances may hold together, in MiB; by
    /// default half of it (at least one call's memory limit).
    pub tenant_memory_mb: Option<u64>,
    /// Event calls one tenant runs at once, calls in overtime included; by
    /// default half of `server.max_concurrent_calls` (at least 1).
    pub tenant_calls: Option<u32>,
    /// Warm instances waiting at once, all tenants together (0: none are kept).
    pub warm_instances: usize,
    /// Warm instances waiting at once for one tenant.
    pub warm_per_tenant: usize,
    /// Linear memory the waiting warm instances may hold together, in MiB.
    pub warm_memory_mb: u64,
    /// A warm instance not called for this long is dropped.
    pub warm_idle_ms: u64,
    /// Calls a warm instance serves, drawn at random in `[min, max]` when it is
    /// created.
    pub warm_reuse_calls: [u32; 2],
    /// A warm instance whose memory grew by more than this since it was created is
    /// dropped, in MiB.
    pub warm_growth_mb: u64,
    /// Keys and values one tenant's data of one plugin may hold, in MiB; a
    /// plugin's write past it is refused.
    pub kv_quota_mb: u64,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        let sharing = crate::runtime::Sharing::default();
        let warm = sharing.warm;
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let mib = |bytes: usize| u64::try_from(bytes >> 20).unwrap_or(u64::MAX);
        Self {
            cpu_budget_ms: millis(sharing.fairness.cpu_budget),
            memory_budget_mb: mib(warm.memory_budget_bytes),
            tenant_memory_mb: None,
            tenant_calls: None,
            warm_instances: warm.max_instances,
            warm_per_tenant: warm.max_per_tenant,
            warm_memory_mb: mib(warm.max_idle_memory_bytes),
            warm_idle_ms: millis(warm.idle),
            warm_reuse_calls: [warm.reuse_calls.0, warm.reuse_calls.1],
            warm_growth_mb: mib(warm.max_growth_bytes),
            kv_quota_mb: crate::store::DEFAULT_KV_QUOTA >> 20,
        }
    }
}

impl RuntimeSettings {
    /// The runtime's settings, for calls of at most `max_memory_bytes` each.
    pub fn sharing(&self, max_memory_bytes: u64) -> crate::runtime::Sharing {
        let bytes = |mib: u64| usize::try_from(mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        crate::runtime::Sharing {
            fairness: crate::runtime::Fairness {
                cpu_budget: Duration::from_millis(self.cpu_budget_ms),
                tenant_calls: self
                    .tenant_calls
                    .map(|calls| usize::try_from(calls).unwrap_or(usize::MAX)),
            },
            warm: crate::runtime::WarmSettings {
                max_instances: self.warm_instances,
                max_per_tenant: self.warm_per_tenant,
                idle: Duration::from_millis(self.warm_idle_ms),
                reuse_calls: (self.warm_reuse_calls[0], self.warm_reuse_calls[1]),
                max_growth_bytes: bytes(self.warm_growth_mb),
                memory_budget_bytes: bytes(self.memory_budget_mb),
                tenant_memory_bytes: usize::try_from(self.tenant_memory_bytes(max_memory_bytes))
                    .unwrap_or(usize::MAX),
                max_idle_memory_bytes: bytes(self.warm_memory_mb),
            },
        }
    }

    /// What one tenant's data of one plugin may weigh in storage, in bytes.
    pub fn kv_quota_bytes(&self) -> u64 {
        self.kv_quota_mb.saturating_mul(1 << 20)
    }

    /// What one tenant's instances may hold: `tenant_memory_mb`, or half the
    /// budget and at least one call's limit (never more than the budget).
    fn tenant_memory_bytes(&self, max_memory_bytes: u64) -> u64 {
        let budget = self.memory_budget_mb.saturating_mul(1 << 20);
        match self.tenant_memory_mb {
            Some(mib) => mib.saturating_mul(1 << 20),
            None => (budget / 2).max(max_memory_bytes.min(budget)),
        }
    }

    fn validate(&self, max_memory_bytes: u64) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(format!("runtime.{msg}")));
        if self.cpu_budget_ms == 0 {
            return invalid("cpu_budget_ms must be at least 1".into());
        }
        if self.kv_quota_mb == 0 {
            return invalid("kv_quota_mb must be at least 1".into());
        }
        let [low, high] = self.warm_reuse_calls;
        if low == 0 || low > high {
            return invalid(format!(
                "warm_reuse_calls must be [min, max] with 1 <= min <= max, not [{low}, {high}]"
            ));
        }
        let budget = self.memory_budget_mb.saturating_mul(1 << 20);
        if budget < max_memory_bytes {
            return invalid(format!(
                "memory_budget_mb ({} MiB) must hold at least one call's memory limit ({} bytes)",
                self.memory_budget_mb, max_memory_bytes
            ));
        }
        if let Some(mib) = self.tenant_memory_mb
            && (mib.saturating_mul(1 << 20) < max_memory_bytes || mib > self.memory_budget_mb)
        {
            return invalid(format!(
                "tenant_memory_mb ({mib} MiB) must hold at least one call's memory limit ({} \
                 bytes) and not exceed memory_budget_mb ({})",
                max_memory_bytes, self.memory_budget_mb
            ));
        }
        if self.warm_memory_mb > self.memory_budget_mb {
            return invalid(format!(
                "warm_memory_mb ({}) must not exceed memory_budget_mb ({})",
                self.warm_memory_mb, self.memory_budget_mb
            ));
        }
        Ok(())
    }
}

/// The moka cache of cacheable plugin results.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheSettings {
    /// Total weight (approximate bytes of actions) kept.
    pub max_bytes: u64,
    /// How long a result is served before the plugin runs again.
    pub ttl_secs: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            max_bytes: 64 << 20,
            ttl_secs: 600,
        }
    }
}

/// How responses are remembered for redeliveries of the same event id
/// (the pipeline's `idempotency`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdempotencySettings {
    /// How long a response is remembered.
    pub ttl_secs: u64,
    /// Bytes of responses kept in memory, for redeliveries to this process.
    pub memory_max_bytes: u64,
    /// Also record responses in the store: they survive a restart and reach every
    /// replica sharing it. Off, only memory remembers them.
    pub durable: bool,
    /// Bytes of responses kept in the store; the oldest go first beyond it.
    pub store_max_bytes: u64,
}

impl Default for IdempotencySettings {
    fn default() -> Self {
        Self {
            ttl_secs: 24 * 3600,
            memory_max_bytes: 64 << 20,
            durable: true,
            store_max_bytes: 1 << 30,
        }
    }
}

/// What the admins' reports keep ([`crate::insights`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InsightSettings {
    /// Days a ticket's figures are kept, counted from when it was first seen.
    pub retention_days: u32,
    /// A day's figures are rebuilt at most this often: reports lag the events by
    /// at most this (and a second).
    pub refresh_secs: u64,
}

impl Default for InsightSettings {
    fn default() -> Self {
        Self {
            retention_days: 730,
            refresh_secs: 10,
        }
    }
}

/// An installed plugin: a component file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSource {
    /// The name tenants use to enable it.
    pub name: String,
    /// Path of the component, relative to `plugin_dir` unless absolute.
    pub path: PathBuf,
}

impl TenantConfig {
    /// The tenant's document, as the control plane keeps it (secrets' values,
    /// where the file gives them, still inside: see `control::tenant_from_config`).
    pub fn doc(&self) -> crate::grant::TenantDoc {
        crate::grant::TenantDoc {
            // Given when the control plane stores it (a tenant of the file alone
            // lives as long as the process).
            incarnation: String::new(),
            suspended: self.suspended,
            suspended_by_operator: self.suspended,
            quota: self.quota,
            // The file is the operator's.
            quota_by_operator: self.quota != crate::limits::QuotaOverrides::default(),
            operator_quota: (self.quota != crate::limits::QuotaOverrides::default())
                .then_some(self.quota),
            plugins: self
                .plugins
                .iter()
                .map(|grant| crate::grant::GrantDoc {
                    limits_by_operator: grant.limits_by_operator
                        || grant.limits != crate::limits::LimitOverrides::default(),
                    ..grant.clone()
                })
                .collect(),
            operator_limits: self
                .plugins
                .iter()
                .filter(|grant| grant.limits != crate::limits::LimitOverrides::default())
                .map(|grant| (grant.name.clone(), grant.limits))
                .collect(),
            operator_hosts: Some(
                self.plugins
                    .iter()
                    .filter(|grant| !grant.allowed_hosts.is_empty())
                    .map(|grant| (grant.name.clone(), grant.allowed_hosts.clone()))
                    .collect(),
            ),
            pipelines: self.pipelines.clone(),
            isolation: self.isolation,
            categories: self.categories.clone(),
            business_hours: self.business_hours.clone(),
        }
    }
}

/// One tenant and its pipeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub id: String,
    /// Plugins in the order they run: the grant model the control plane keeps.
    #[serde(default)]
    pub plugins: Vec<GrantDoc>,
    /// This tenant's quota, where it differs from `[quota]`.
    #[serde(default)]
    pub quota: QuotaOverrides,
    /// A suspended tenant's events are refused. The file is the operator's, so an
    /// admin of this tenant alone cannot resume it.
    #[serde(default)]
    pub suspended: bool,
    /// Orders that replace the default one for an event kind, e.g.
    /// `agent-reply-drafted = ["translation", "tone"]`; each names every plugin of
    /// the pipeline once.
    #[serde(default)]
    pub pipelines: BTreeMap<String, Vec<String>>,
    /// `event` requires a fresh instance per call for all its plugins.
    #[serde(default)]
    pub isolation: crate::runtime::Isolation,
    /// The tenant's own inquiry categories (`[[tenants.categories]] name,
    /// keywords = { es = [...], "*" = [...] }`), for the reports.
    #[serde(default)]
    pub categories: Vec<crate::insights::categories::CategoryRule>,
    /// When the tenant's team works (`time_zone`, `open`, `close`, `days`): first
    /// replies outside count as after hours in the reports.
    #[serde(default)]
    pub business_hours: Option<crate::insights::hours::BusinessHours>,
}

impl Config {
    /// Parses a TOML document and checks it.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let refused = |e: toml::de::Error| {
            ConfigError::Parse(crossdesk_proto::toml_errors::describe(text, &e))
        };
        let document = toml::Deserializer::parse(text).map_err(refused)?;
        // The types the file shares with the store (a tenant's grants, quota,
        // limits, categories, hours) ignore fields they do not know, so that a
        // document a newer replica stored stays readable; in this file, an
        // unknown key is a mistake.
        let (config, unknown): (Config, _) = with_unknown_keys(document).map_err(refused)?;
        if let Some(key) = unknown.first() {
            return Err(ConfigError::Parse(format!("unknown key `{key}`")));
        }
        config.validate()?;
        Ok(config)
    }
}

/// `document` read as a `T`, with the keys `T` does not know, in the order
/// met, each by its path as the document writes it
/// (`tenants[0].plugins[1].enabeld`): what a strict reader refuses (this file,
/// an admin's file) and a lenient one reads past (a stored tenant document).
pub fn with_unknown_keys<'de, T, D>(document: D) -> Result<(T, Vec<String>), D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    let mut unknown = Vec::new();
    let value = serde_ignored::deserialize(document, |path| unknown.push(key_path(&path)))?;
    Ok((value, unknown))
}

fn key_path(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", key_path(parent)),
        Path::Map { parent, key } => match key_path(parent) {
            above if above.is_empty() => key.clone(),
            above => format!("{above}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => key_path(parent),
    }
}

impl Config {
    /// Where compiled plugins are cached: `CROSSDESK_COMPILED_DIR`, else
    /// `compiled_dir`, else `<data_dir>/compiled`.
    pub fn compiled_dir(&self) -> PathBuf {
        match std::env::var_os("CROSSDESK_COMPILED_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => self
                .compiled_dir
                .clone()
                .unwrap_or_else(|| self.data_dir.join("compiled")),
        }
    }

    /// Reads and checks a TOML file; `None` gives the embedded default.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        match path {
            None => Config::parse(EMBEDDED_DEFAULT),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Config::parse(&text)
            }
        }
    }

    /// A configuration of one plugin, the component at `path`, installed under
    /// its file's name (returned), with `tenant` granted its storage: what
    /// `crossdesk plugin import` and `plugin exec --tenant` run on when an author
    /// names a component and no configuration. Its data stay in `.crossdesk`.
    pub fn of_one_plugin(path: &Path, tenant: &str) -> Result<(Config, String), ConfigError> {
        let name = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_default()
            .to_owned();
        let mut config = Config::parse("")?;
        config.plugins.push(PluginSource {
            name: name.clone(),
            path: std::path::absolute(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?,
        });
        config.tenants.push(TenantConfig {
            id: tenant.to_owned(),
            plugins: vec![crate::grant::GrantDoc {
                kv: true,
                ..crate::grant::GrantDoc::new(&name)
            }],
            quota: QuotaOverrides::default(),
            suspended: false,
            pipelines: BTreeMap::new(),
            isolation: crate::runtime::Isolation::default(),
            categories: Vec::new(),
            business_hours: None,
        });
        config.validate()?;
        Ok((config, name))
    }

    /// The file of an installed plugin.
    pub fn plugin_path(&self, source: &PluginSource) -> PathBuf {
        if source.path.is_absolute() {
            source.path.clone()
        } else {
            self.plugin_dir.join(&source.path)
        }
    }

    /// Refuses an event API open to anyone who reaches a listener beyond
    /// loopback (no `[[callers]]`, no client certificates), unless the operator
    /// says so (`server.allow_unauthenticated`). Checked with the listener
    /// `serve --listen` may have set.
    pub fn check_event_api_access(&self) -> Result<(), ConfigError> {
        let client_certificates =
            TlsSettings::requires_client_certificates(self.server.tls.as_ref());
        let open = self.callers.is_empty() && !client_certificates;
        if !open || self.listen.ip().is_loopback() || self.server.allow_unauthenticated {
            return Ok(());
        }
        Err(ConfigError::Invalid(format!(
            "the event API on {} would accept events from anyone who reaches it: declare \
             [[callers]] with tokens, require client certificates (server.tls.client_ca_file), \
             listen on loopback, or set server.allow_unauthenticated = true if only trusted \
             callers can reach it",
            self.listen
        )))
    }

    /// What every tenant's grants must stay within: the default limits, the
    /// ceiling the plugin pool is sized for, the default quota, the ceilings of
    /// tenant admins and the private hosts the operator opened.
    pub fn bounds(&self) -> Result<crate::grant::Bounds, ConfigError> {
        let private_hosts = crate::runtime::http::PrivateHosts::parse(&self.outbound.private_hosts)
            .map_err(|e| ConfigError::Invalid(format!("outbound.private_hosts: {e}")))?;
        Ok(crate::grant::Bounds {
            limits: self.limits,
            ceiling: self.max_limits(),
            quota: self.quota,
            tenant_admin_limits: self.limits.with(&self.tenant_admins.max_limits),
            tenant_admin_quota: self.quota.with(&self.tenant_admins.max_quota),
            private_hosts: std::sync::Arc::new(private_hosts),
        })
    }

    /// The largest limits any grant asks for: the pooling allocator is sized by them.
    pub fn max_limits(&self) -> Limits {
        let mut max = self.limits;
        for grant in self.tenants.iter().flat_map(|t| &t.plugins) {
            let limits = self.limits.with(&grant.limits);
            max.max_memory_bytes = max.max_memory_bytes.max(limits.max_memory_bytes);
            max.max_table_elements = max.max_table_elements.max(limits.max_table_elements);
            max.max_instances = max.max_instances.max(limits.max_instances);
        }
        max
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        let mut names = std::collections::HashSet::new();
        for plugin in &self.plugins {
            if !names.insert(plugin.name.as_str()) {
                return invalid(format!("plugin '{}' is installed twice", plugin.name));
            }
        }
        let bounds = self.bounds()?;
        let mut tenants = std::collections::HashSet::new();
        for tenant in &self.tenants {
            check_tenant_id(&tenant.id)
                .map_err(|e| ConfigError::Invalid(format!("tenants: {e}")))?;
            if !tenants.insert(tenant.id.as_str()) {
                return invalid(format!("tenant '{}' is configured twice", tenant.id));
            }
            // The control plane's validator, before the plugins are loaded (their
            // typed settings are checked again once they are).
            let installed = |name: &str| {
                names
                    .contains(name)
                    .then_some(crate::grant::Installed::NotLoaded)
            };
            let operator = crate::grant::Granter::Operator;
            crate::grant::validate(&tenant.doc(), &installed, &bounds, operator)
                .map_err(|e| ConfigError::Invalid(format!("tenant '{}' {e}", tenant.id)))?;
            for grant in &tenant.plugins {
                for secret in &grant.secrets {
                    let in_grant = |e: String| {
                        ConfigError::Invalid(format!(
                            "tenant '{}' plugins.{}.secrets: {e}",
                            tenant.id, grant.name
                        ))
                    };
                    let value = secret.clone().take_value().map_err(in_grant)?;
                    // As the admin API checks a secret it is given: a header the
                    // outbound policy cannot send would fail the tenant's pipeline
                    // at start-up, or, once seeded into the store, every start
                    // (fuzz/regressions/config/secret-header-with-a-space.toml).
                    crate::runtime::http::check_secret(&secret.host, &secret.header, &value)
                        .map_err(|(_, why)| in_grant(why))?;
                }
            }
        }
        let mut callers = std::collections::HashSet::new();
        for caller in &self.callers {
            if !callers.insert(caller.name.as_str()) {
                return invalid(format!("caller '{}' is configured twice", caller.name));
            }
            caller.resolve()?;
            // With the admin API, tenants are created at runtime.
            if let Some(unknown) = caller
                .tenants
                .iter()
                .find(|t| self.admin.is_none() && *t != "*" && !tenants.contains(t.as_str()))
            {
                return invalid(format!(
                    "caller '{}': tenant '{unknown}' is not configured",
                    caller.name
                ));
            }
        }
        self.runtime.validate(self.max_limits().max_memory_bytes)?;
        self.storage.resolve_url()?;
        if let Some(admin) = &self.admin {
            admin.validate(self)?;
        }
        if let Some(ops) = &self.ops {
            let taken = [
                Some(("the event API's", self.listen)),
                self.admin.as_ref().map(|a| ("the admin API's", a.listen)),
            ];
            if let Some((whose, _)) = taken
                .into_iter()
                .flatten()
                .find(|(_, addr)| *addr == ops.listen && addr.port() != 0)
            {
                return invalid(format!(
                    "ops: listen {} is {whose} address; the ops listener needs its own",
                    ops.listen
                ));
            }
        }
        // Zero would make every request, call or record fail (or be forgotten at
        // once): a typo, not a setting.
        let zeros = [
            (
                "server.request_timeout_ms",
                self.server.request_timeout_ms == 0,
            ),
            (
                "server.max_concurrent_calls",
                self.server.max_concurrent_calls == 0,
            ),
            (
                "server.max_request_bytes",
                self.server.max_request_bytes == 0,
            ),
            ("server.max_text_bytes", self.server.max_text_bytes == 0),
            // No drain at all: every stop would cut off requests in flight.
            ("server.drain_ms", self.server.drain_ms == 0),
            (
                "server.stream_concurrency",
                self.server.stream_concurrency == 0,
            ),
            (
                "server.concurrency_per_connection",
                self.server.concurrency_per_connection == 0,
            ),
            ("idempotency.ttl_secs", self.idempotency.ttl_secs == 0),
            ("insights.retention_days", self.insights.retention_days == 0),
        ];
        if let Some((field, _)) = zeros.iter().find(|(_, zero)| *zero) {
            return invalid(format!("{field} must be above 0"));
        }
        if let Some(field) = self.limits.zero_field() {
            return invalid(format!("limits.{field} must be above 0"));
        }
        if usize::try_from(self.quota.max_in_flight)
            .is_ok_and(|quota| self.server.concurrency_per_connection <= quota)
        {
            return invalid(format!(
                "server.concurrency_per_connection ({}) must be above quota.max_in_flight ({}): \
                 requests past a connection's limit wait, unseen by the quotas, and one \
                 tenant at its quota would hold a connection others share",
                self.server.concurrency_per_connection, self.quota.max_in_flight
            ));
        }
        if let Some(calls) = self.runtime.tenant_calls
            && (calls == 0 || calls > self.server.max_concurrent_calls)
        {
            return invalid(format!(
                "runtime.tenant_calls ({calls}) must be at least 1 and at most \
                 server.max_concurrent_calls ({})",
                self.server.max_concurrent_calls
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses() {
        let config = Config::parse(EMBEDDED_DEFAULT).expect("embedded default is valid");
        assert_eq!(config.listen.ip().to_string(), "127.0.0.1");
        assert!(!config.tenants.is_empty());
    }

    #[test]
    fn a_tenant_quota_overrides_the_default_and_zero_is_refused() {
        let config = Config::parse(
            "[quota]\nmax_in_flight = 10\n[[tenants]]\nid = \"a\"\nquota = { burst = 7 }\n",
        )
        .expect("valid");
        let quota = config.quota.with(&config.tenants[0].quota);
        assert_eq!((quota.max_in_flight, quota.burst), (10, 7));
        assert_eq!(quota.events_per_second, Quota::default().events_per_second);
        let err = Config::parse("[[tenants]]\nid = \"a\"\nquota = { max_in_flight = 0 }\n")
            .expect_err("zero refused")
            .to_string();
        assert!(err.contains("tenant 'a'") && err.contains("quota"), "{err}");
    }

    /// Past a connection's limit, requests wait where no quota sees them: the
    /// limit must leave a tenant at its quota room to be refused.
    #[test]
    fn a_connection_holds_more_requests_than_a_tenants_quota() {
        let defaults = Config::parse("").expect("defaults");
        assert!(
            defaults.server.concurrency_per_connection
                > usize::try_from(defaults.quota.max_in_flight).expect("fits")
        );
        let err = Config::parse(
            "[server]\nconcurrency_per_connection = 64\n[quota]\nmax_in_flight = 64\n",
        )
        .expect_err("refused")
        .to_string();
        assert!(
            err.contains("server.concurrency_per_connection (64)"),
            "{err}"
        );
        Config::parse("[server]\nconcurrency_per_connection = 65\n[quota]\nmax_in_flight = 64\n")
            .expect("valid");
    }

    #[test]
    fn a_parse_error_names_the_place_not_the_value() {
        // A misspelt key and a value of the wrong type, both on a token's line.
        for text in [
            "[admin]\nlisten = \"127.0.0.1:1\"\n[[admin.users]]\nname = \"ops\"\ntokn = \"S3CR3T-0123456789\"\n",
            "[admin]\nlisten = \"127.0.0.1:1\"\n[[admin.users]]\nname = \"ops\"\ntoken = 31415926535897932\n",
        ] {
            let err = Config::parse(text).expect_err("invalid").to_string();
            assert!(err.starts_with("invalid config: line 5, column "), "{err}");
            assert!(
                !err.contains("S3CR3T") && !err.contains("31415926535897932"),
                "{err}"
            );
        }
    }

    #[test]
    fn empty_file_gives_defaults() {
        let config = Config::parse("").expect("empty config is valid");
        assert_eq!(config.limits, Limits::default());
    }

    #[test]
    fn unknown_plugin_in_tenant_is_named() {
        let err = Config::parse(
            r#"
            [[tenants]]
            id = "acme"
            [[tenants.plugins]]
            name = "ghost"
            "#,
        )
        .expect_err("must be refused");
        let msg = err.to_string();
        assert!(msg.contains("acme") && msg.contains("ghost"), "{msg}");
    }

    #[test]
    fn the_runtime_settings_are_read_and_checked() {
        let config = Config::parse(
            "[runtime]\ncpu_budget_ms = 20\nwarm_reuse_calls = [3, 3]\nwarm_idle_ms = 50\n",
        )
        .expect("valid");
        let max_memory = config.max_limits().max_memory_bytes;
        let sharing = config.runtime.sharing(max_memory);
        assert_eq!(sharing.fairness.cpu_budget, Duration::from_millis(20));
        assert_eq!(sharing.warm.reuse_calls, (3, 3));
        assert_eq!(sharing.warm.idle, Duration::from_millis(50));
        assert_eq!(
            Config::parse("")
                .expect("valid")
                .runtime
                .sharing(max_memory),
            crate::runtime::Sharing::default()
        );
        // A tenant's share: half the budget by default, never below one call.
        for (toml, share) in [
            ("memory_budget_mb = 512", 256 << 20),
            ("memory_budget_mb = 64\nwarm_memory_mb = 32", 64 << 20),
            ("tenant_memory_mb = 100", 100 << 20),
        ] {
            let config = Config::parse(&format!("[runtime]\n{toml}\n")).expect(toml);
            let sharing = config.runtime.sharing(max_memory);
            assert_eq!(sharing.warm.tenant_memory_bytes, share, "{toml}");
        }
        for (toml, field) in [
            ("[runtime]\ncpu_budget_ms = 0\n", "runtime.cpu_budget_ms"),
            ("[runtime]\nkv_quota_mb = 0\n", "runtime.kv_quota_mb"),
            (
                "[runtime]\nwarm_reuse_calls = [5, 2]\n",
                "runtime.warm_reuse_calls",
            ),
            (
                "[runtime]\nwarm_reuse_calls = [0, 2]\n",
                "runtime.warm_reuse_calls",
            ),
            (
                "[runtime]\nmemory_budget_mb = 1\n",
                "runtime.memory_budget_mb",
            ),
            (
                "[runtime]\ntenant_memory_mb = 1\n",
                "runtime.tenant_memory_mb",
            ),
            (
                "[runtime]\ntenant_memory_mb = 4096\n",
                "runtime.tenant_memory_mb",
            ),
            ("[runtime]\ntenant_calls = 0\n", "runtime.tenant_calls"),
            (
                "[server]\nmax_concurrent_calls = 8\n[runtime]\ntenant_calls = 9\n",
                "runtime.tenant_calls",
            ),
        ] {
            let err = Config::parse(toml).expect_err(toml).to_string();
            assert!(err.contains(field), "{toml}: {err}");
        }
    }

    #[test]
    fn unknown_field_is_refused() {
        let err = Config::parse("listen_port = 5").expect_err("must be refused");
        assert!(err.to_string().contains("listen_port"), "{err}");
    }

    /// The grant's types ignore unknown fields in stored documents; the file
    /// still refuses them, wherever they are, naming the key.
    #[test]
    fn an_unknown_key_in_a_tenants_grant_is_refused_by_its_path() {
        let tenant = r#"
            [[plugins]]
            name = "mt"
            path = "mt.wasm"
            [[tenants]]
            id = "acme"
            [[tenants.plugins]]
            name = "mt"
            allowed_hosts = ["api.example.com"]
        "#;
        for (extra, key) in [
            ("enabeld = true\n", "tenants[0].plugins[0].enabeld"),
            (
                "limits = { timeout_ms = 5, max_memory = 1 }\n",
                "tenants[0].plugins[0].limits.max_memory",
            ),
            (
                "secrets = [{ host = \"api.example.com\", header = \"Authorization\", \
                 value = \"v\", vaule_env = \"X\" }]\n",
                "tenants[0].plugins[0].secrets[0].vaule_env",
            ),
            (
                "[tenants.quota]\nmax_in_flight = 2\nburst_size = 3\n",
                "tenants[0].quota.burst_size",
            ),
            (
                "[[tenants.categories]]\nname = \"shipping\"\nkeywords = {}\nlabel = \"x\"\n",
                "tenants[0].categories[0].label",
            ),
            (
                "[tenants.business_hours]\ntime_zone = \"Asia/Shanghai\"\nopen = \"09:00\"\n\
                 close = \"18:00\"\nzone = \"x\"\n",
                "tenants[0].business_hours.zone",
            ),
        ] {
            let err = Config::parse(&format!("{tenant}{extra}"))
                .expect_err(extra)
                .to_string();
            assert!(
                err.contains(&format!("unknown key `{key}`")),
                "{extra}: {err}"
            );
        }
        Config::parse(tenant).expect("valid without them");
    }

    #[test]
    fn a_printed_config_shows_no_secret() {
        let config = Config::parse(
            r#"
            callers = [{ name = "bridge", token = "caller-S3CR3T-token-1", tenants = ["*"] }]
            [storage]
            url = "postgres://crossdesk:db-S3CR3T@db:5432/crossdesk"
            [admin]
            listen = "127.0.0.1:50052"
            users = [{ name = "ops", token = "admin-S3CR3T-token-1", tenants = ["*"] }]
            [[plugins]]
            name = "mt"
            path = "mt.wasm"
            [[tenants]]
            id = "acme"
            [[tenants.plugins]]
            name = "mt"
            allowed_hosts = ["api.deepl.com"]
            secrets = [{ host = "api.deepl.com", header = "Authorization", value = "deepl-S3CR3T" }]
            "#,
        )
        .expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains("S3CR3T"), "{printed}");
        assert!(printed.contains("REDACTED"), "{printed}");
        assert_eq!(
            config.storage.resolve_url().expect("url").as_deref(),
            Some("postgres://crossdesk:db-S3CR3T@db:5432/crossdesk")
        );
        assert_eq!(
            config.callers[0].resolve().expect("token"),
            "caller-S3CR3T-token-1"
        );
    }

    #[test]
    fn secret_needs_an_allowed_host() {
        let err = Config::parse(
            r#"
            [[plugins]]
            name = "mt"
            path = "mt.wasm"
            [[tenants]]
            id = "acme"
            [[tenants.plugins]]
            name = "mt"
            secrets = [{ host = "api.deepl.com", header = "Authorization", value = "k" }]
            "#,
        )
        .expect_err("must be refused");
        assert!(err.to_string().contains("api.deepl.com"), "{err}");
    }

    #[test]
    fn a_json_field_secret_is_written_field_equals_value() {
        let config = |value: &str| {
            format!(
                r#"
                [[plugins]]
                name = "mt"
                path = "mt.wasm"
                [[tenants]]
                id = "acme"
                [[tenants.plugins]]
                name = "mt"
                allowed_hosts = ["lt.example.com"]
                secrets = [{{ host = "lt.example.com", header = "x-crossdesk-json-field", value = "{value}" }}]
                "#
            )
        };
        Config::parse(&config("api_key=k-123")).expect("well written");
        let err = Config::parse(&config("k-123")).expect_err("no field");
        assert!(err.to_string().contains("FIELD=VALUE"), "{err}");
        assert!(!err.to_string().contains("k-123"), "{err}");
        // Not ASCII: every request would fail reading it, so it is refused here.
        let err = Config::parse(&config("api_key=clé-123")).expect_err("not ASCII");
        assert!(
            err.to_string().contains("not a valid header value"),
            "{err}"
        );
    }

    #[test]
    fn zero_is_refused_where_it_would_stop_everything() {
        for (section, key) in [
            ("server", "request_timeout_ms"),
            ("server", "max_concurrent_calls"),
            ("server", "max_text_bytes"),
            ("server", "drain_ms"),
            ("limits", "max_output_bytes"),
            ("limits", "max_instances"),
            ("idempotency", "ttl_secs"),
            ("insights", "retention_days"),
        ] {
            let err = Config::parse(&format!("[{section}]\n{key} = 0\n"))
                .expect_err(key)
                .to_string();
            assert!(
                err.contains(&format!("{section}.{key} must be above 0")),
                "{err}"
            );
        }
    }

    #[test]
    fn the_ops_listener_needs_an_address_of_its_own() {
        let err =
            Config::parse("listen = \"127.0.0.1:50051\"\n[ops]\nlisten = \"127.0.0.1:50051\"\n")
                .expect_err("the same address")
                .to_string();
        assert!(
            err.contains("ops: listen 127.0.0.1:50051 is the event API's"),
            "{err}"
        );
    }

    #[test]
    fn scoped_admins_and_client_certificates_do_not_mix() {
        let config = |tenants: &str| {
            format!(
                "[admin]\nlisten = \"127.0.0.1:0\"\n\
                 tls = {{ cert_file = \"c.pem\", key_file = \"k.pem\", client_ca_file = \"ca.pem\" }}\n\
                 [[admin.users]]\nname = \"acme-it\"\ntoken = \"acme-it-token-0123456789\"\ntenants = {tenants}\n"
            )
        };
        let err = Config::parse(&config("[\"acme\"]"))
            .expect_err("a scoped admin with client certificates")
            .to_string();
        assert!(
            err.contains("user 'acme-it'") && err.contains("client_ca_file"),
            "{err}"
        );
        Config::parse(&config("[\"*\"]")).expect("an admin of every tenant");
    }

    #[test]
    fn overrides_apply() {
        let limits = Limits::default().with(&LimitOverrides {
            timeout_ms: Some(5),
            ..Default::default()
        });
        assert_eq!(limits.timeout_ms, 5);
        assert_eq!(limits.max_memory_bytes, Limits::default().max_memory_bytes);
    }

    #[test]
    fn tenants_from_the_file_follow_the_admin_apis_id_rule() {
        for bad in ["", "ac me", "acme/../x", "ü"] {
            let text = format!("[[tenants]]\nid = {bad:?}\n");
            let err = Config::parse(&text).expect_err(bad).to_string();
            assert!(err.contains("is not a tenant id"), "{bad}: {err}");
        }
        let long = "a".repeat(crate::grant::MAX_TENANT_ID + 1);
        assert!(Config::parse(&format!("[[tenants]]\nid = \"{long}\"\n")).is_err());
        assert!(Config::parse("[[tenants]]\nid = \"acme.eu-1_b\"\n").is_ok());
    }

    #[test]
    fn plugin_settings_are_settings_with_config_still_read() {
        let text = |key: &str| {
            format!(
                "[[plugins]]\nname = \"p\"\npath = \"p.wasm\"\n\
                 [[tenants]]\nid = \"t\"\n[[tenants.plugins]]\nname = \"p\"\n{key} = {{ a = \"1\" }}\n"
            )
        };
        for key in ["settings", "config"] {
            let config = Config::parse(&text(key)).expect(key);
            assert_eq!(config.tenants[0].plugins[0].settings["a"], "1", "{key}");
        }
    }

    #[test]
    fn an_event_api_open_beyond_loopback_is_refused_unless_allowed() {
        let check = |text: &str| {
            Config::parse(text)
                .expect("valid")
                .check_event_api_access()
                .map_err(|e| e.to_string())
        };
        let open = "listen = \"0.0.0.0:50051\"\n";
        assert!(check(open).is_err_and(
            |e| e.contains("0.0.0.0:50051") && e.contains("server.allow_unauthenticated")
        ),);
        assert_eq!(check(""), Ok(()), "loopback");
        let callers =
            "[[callers]]\nname = \"b\"\ntoken = \"0123456789abcdef\"\ntenants = [\"*\"]\n";
        assert_eq!(check(&format!("{open}{callers}")), Ok(()));
        let mutual = "[server.tls]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n";
        assert!(check(&format!("{open}{mutual}")).is_err(), "TLS alone");
        assert_eq!(
            check(&format!("{open}{mutual}client_ca_file = \"ca.pem\"\n")),
            Ok(())
        );
        assert_eq!(
            check(&format!("{open}[server]\nallow_unauthenticated = true\n")),
            Ok(())
        );
    }
}
