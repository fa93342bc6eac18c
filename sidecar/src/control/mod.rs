//! The control plane: what each tenant runs and how, and every change to it.
//!
//! A tenant is a [`TenantDoc`]: its plugins in order ([`GrantDoc`]: enabled, settings,
//! outbound hosts, secrets by name, limits, fail mode), per-event-kind orders, quota
//! and suspension. This module owns validating a document against the installed
//! plugins (errors name the field), and — when the admin API is on — the changes
//! themselves ([`ControlPlane`]): each one is validated, stored with its audit entry
//! in one transaction, and only then applied. Secret values are sealed with the
//! master key before they reach the store and opened only to build outbound
//! policies; no document, audit entry or API answer carries them.
//!
//! What the pipeline runs is a [`Desired`] state: built from the configuration file
//! when there is no admin API, or from the store (seeded once from the file).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use parking_lot::Mutex;

use serde::Serialize;

use crate::config::{Config, TenantConfig};
use crate::grant;
pub use crate::grant::{Bounds, GrantDoc, Granter, SecretRef, TenantDoc};
use crate::runtime::{LoadError, LoadedPlugin, Runtime};
use crate::secrets::{MasterKey, SecretError};
use crate::signing::{SigningError, TrustedKeys};
use crate::store::{
    ControlState, ControlWrite, NewAuditEntry, PluginBlob, SecretRow, Store, StoreError,
};

mod plugins;
mod tenants;

/// Who made a change: an admin's name, or the configuration file's import.
pub const CONFIG_FILE_ACTOR: &str = "config-file";

/// A secret's value, opened, for the outbound policy.
#[derive(Clone)]
pub struct SecretValue {
    pub host: String,
    pub header: String,
    pub value: String,
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretValue({} {}: <redacted>)", self.host, self.header)
    }
}

/// What the pipeline should run: tenants, the plugins they name, and secrets.
#[derive(Debug, Default)]
pub struct Desired {
    /// The store's control version this was read at (0 from a configuration file).
    pub version: u64,
    pub tenants: Vec<(String, TenantDoc)>,
    /// Stored tenants whose document, or one of whose secrets, this replica
    /// cannot read (logged).
    pub unreadable: Vec<String>,
    pub plugins: HashMap<String, Arc<LoadedPlugin>>,
    /// Secrets by (tenant, plugin).
    pub secrets: HashMap<(String, String), Vec<SecretValue>>,
}

/// Why a change or a state was refused.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// A field has a bad value; `field` is its path, e.g.
    /// `plugins.translation.settings.engine`.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    Conflict(String),
    #[error("plugin refused: {0}")]
    Signature(#[from] SigningError),
    #[error("plugin refused: {0}")]
    Plugin(#[from] LoadError),
    /// A stored version this process refused to load before, and why.
    #[error("plugin refused: {0}")]
    Unloadable(String),
    #[error("secrets: {0}")]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Store(StoreError),
    #[error("no randomness for a new tenant's incarnation: {0}")]
    Randomness(getrandom::Error),
}

impl ControlError {
    /// Whether a stored plugin version cannot be loaded by this replica (what
    /// it is, not a store that did not answer): built for a newer contract,
    /// or damaged in the store.
    fn is_unloadable(&self) -> bool {
        matches!(
            self,
            ControlError::Plugin(_)
                | ControlError::Unloadable(_)
                | ControlError::Store(StoreError::Corrupt(_))
        )
    }
}

/// A new tenant's [`TenantDoc::incarnation`]: 128 random bits, in hex.
fn new_incarnation() -> Result<String, ControlError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(ControlError::Randomness)?;
    Ok(hex::encode(bytes))
}

impl From<StoreError> for ControlError {
    fn from(error: StoreError) -> ControlError {
        match error {
            StoreError::Conflict(message) => ControlError::Conflict(message),
            other => ControlError::Store(other),
        }
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ControlError {
    ControlError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks a tenant id with the one rule every path uses ([`grant::check_tenant_id`]).
pub fn check_tenant_id(id: &str) -> Result<(), ControlError> {
    grant::check_tenant_id(id).map_err(|message| invalid("tenant_id", message))
}

/// Checks a whole tenant document against the installed plugins and the bounds
/// ([`grant::validate`], the one validator of the file, the admin API and the CLI),
/// as asked by `granter`.
pub fn validate_tenant(
    doc: &TenantDoc,
    plugins: &HashMap<String, Arc<LoadedPlugin>>,
    bounds: &Bounds,
    granter: Granter<'_>,
) -> Result<(), ControlError> {
    validate_tenant_here(doc, plugins, &HashSet::new(), bounds, granter)
}

/// [`validate_tenant`] on a replica that cannot load the stored plugins named
/// `unloadable`: grants of them are checked as far as can be without their
/// manifests (the replicas that can load them check the rest), rather than
/// refused as of plugins not installed.
fn validate_tenant_here(
    doc: &TenantDoc,
    plugins: &HashMap<String, Arc<LoadedPlugin>>,
    unloadable: &HashSet<String>,
    bounds: &Bounds,
    granter: Granter<'_>,
) -> Result<(), ControlError> {
    let installed = |name: &str| match plugins.get(name) {
        Some(p) => Some(grant::Installed::Settings(p.manifest.settings.as_slice())),
        None => unloadable
            .contains(name)
            .then_some(grant::Installed::NotLoaded),
    };
    grant::validate(doc, &installed, bounds, granter).map_err(|e| invalid(e.field, e.message))
}

/// The stored plugins of `state` that are not among `loaded`: those this
/// replica cannot load ([`ControlPlane::plugins_of`]).
fn unloadable_of(
    state: &ControlState,
    loaded: &HashMap<String, Arc<LoadedPlugin>>,
) -> HashSet<String> {
    state
        .plugins
        .iter()
        .filter(|row| !loaded.contains_key(&row.name))
        .map(|row| row.name.clone())
        .collect()
}

/// The document a configuration file's tenant amounts to, and its secrets' values
/// (which the document itself never carries).
pub fn tenant_from_config(
    tenant: &TenantConfig,
) -> Result<(TenantDoc, HashMap<String, Vec<SecretValue>>), ControlError> {
    let mut secrets = HashMap::new();
    let mut doc = tenant.doc();
    grant::check_changes(&doc, &TenantDoc::default()).map_err(|e| invalid(e.field, e.message))?;
    for grant in &mut doc.plugins {
        for secret in &mut grant.secrets {
            let value = secret
                .take_value()
                .map_err(|e| invalid(format!("plugins.{}.secrets", grant.name), e))?;
            secrets
                .entry(grant.name.clone())
                .or_insert_with(Vec::new)
                .push(SecretValue {
                    host: secret.host.clone(),
                    header: secret.header.clone(),
                    value,
                });
        }
    }
    Ok((doc, secrets))
}

/// The desired state a configuration file describes (no admin API): its plugins
/// loaded from their files, its tenants validated against them.
pub async fn desired_from_config(
    config: &Config,
    runtime: &Runtime,
) -> Result<Desired, ControlError> {
    let mut desired = Desired::default();
    for source in &config.plugins {
        let loaded = runtime.load(&config.plugin_path(source)).await?;
        log_loaded(&source.name, &loaded);
        desired
            .plugins
            .insert(source.name.clone(), Arc::new(loaded));
    }
    let bounds = config
        .bounds()
        .map_err(|e| ControlError::FailedPrecondition(e.to_string()))?;
    for tenant in &config.tenants {
        let (doc, secrets) = tenant_from_config(tenant)?;
        validate_tenant(&doc, &desired.plugins, &bounds, Granter::Operator)
            .map_err(|e| in_tenant(&tenant.id, e))?;
        for (plugin, values) in secrets {
            desired.secrets.insert((tenant.id.clone(), plugin), values);
        }
        desired.tenants.push((tenant.id.clone(), doc));
    }
    Ok(desired)
}

fn log_loaded(name: &str, loaded: &LoadedPlugin) {
    tracing::info!(
        plugin = %name,
        version = %loaded.manifest.version,
        digest = %&loaded.digest[..12],
        "loaded plugin"
    );
}

/// Prefixes a validation error's field with its tenant.
fn in_tenant(tenant: &str, error: ControlError) -> ControlError {
    match error {
        ControlError::Invalid { field, message } => ControlError::Invalid {
            field: format!("tenant '{tenant}' {field}"),
            message,
        },
        other => other,
    }
}

/// A change to make to one tenant, as a function of its current document.
/// A change to a tenant's document. It may name the audit action itself (when
/// the name depends on the document it changes, e.g. enabling a plugin it adds);
/// otherwise the action given with it is recorded.
pub type TenantEdit<'a> =
    Box<dyn FnOnce(&mut TenantDoc) -> Result<Option<&'static str>, ControlError> + Send + 'a>;

/// An installed plugin as the admin API lists it.
#[derive(Debug, Clone)]
pub struct InstalledPlugin {
    pub name: String,
    pub plugin: Arc<LoadedPlugin>,
    pub previous: Option<(String, String)>,
    pub signed_by: Option<String>,
    pub used_by: Vec<String>,
}

/// The admin side of the store: reads the control state, makes changes.
pub struct ControlPlane {
    store: Store,
    runtime: Arc<Runtime>,
    key: MasterKey,
    trusted: TrustedKeys,
    bounds: Bounds,
    /// Loaded plugin versions by digest: a version is compiled once per process.
    loaded: Mutex<HashMap<String, Arc<LoadedPlugin>>>,
    /// Why each stored version this process cannot load was refused (by
    /// digest, which names its bytes): not compiled again on every change.
    unloadable: Mutex<HashMap<String, String>>,
    /// The trusted key that signed each version (by digest), verified once per
    /// process rather than on every listing. Not that none did: another
    /// replica may add a signature, or repair the bytes, later.
    signers: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlane")
            .field("store", &self.store.backend_name())
            .finish_non_exhaustive()
    }
}

/// Who asks for a change to which tenant, and at which revision (0: whatever the
/// current one is).
#[derive(Debug, Clone, Copy)]
pub struct TenantRequest<'a> {
    pub actor: &'a str,
    /// Whether the actor administers only some tenants, and so stays within the
    /// operator's `[tenant_admins]` ceilings.
    pub tenant_admin: bool,
    pub tenant: &'a str,
    pub expected_revision: u64,
}

/// A tenant as read for a change.
#[derive(Debug, Clone)]
pub struct TenantState {
    pub id: String,
    pub doc: TenantDoc,
    pub revision: u64,
}

impl ControlPlane {
    pub fn new(
        store: Store,
        runtime: Arc<Runtime>,
        key: MasterKey,
        trusted: TrustedKeys,
        bounds: Bounds,
    ) -> ControlPlane {
        ControlPlane {
            store,
            runtime,
            key,
            trusted,
            bounds,
            loaded: Mutex::new(HashMap::new()),
            unloadable: Mutex::new(HashMap::new()),
            signers: Mutex::new(HashMap::new()),
        }
    }

    /// A keyed digest of `value` under the master key (see [`MasterKey::digest`]).
    pub fn digest(&self, purpose: &str, value: &str) -> [u8; 32] {
        self.key.digest(purpose, value)
    }

    /// The marks of erasures under this process's master key (see
    /// [`crate::insights::erasure_mark`]).
    pub fn erasure_marks(self: &Arc<Self>) -> crate::store::ErasureMarks {
        let control = self.clone();
        Arc::new(move |tenant, erased| crate::insights::erasure_mark(&control.key, tenant, erased))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether installing requires a trusted signature.
    pub fn requires_signatures(&self) -> bool {
        !self.trusted.is_empty()
    }

    /// On a store that has never been changed, imports the configuration file's
    /// plugins and tenants (one change, audited as `config-file`).
    pub async fn seed_from_config(&self, config: &Config) -> Result<bool, ControlError> {
        if self.store.control_version().await? > 0 {
            return Ok(false);
        }
        let mut writes = Vec::new();
        let mut plugins = HashMap::new();
        for source in &config.plugins {
            let path = config.plugin_path(source);
            let bytes = std::fs::read(&path).map_err(|source_err| LoadError::Read {
                path: path.clone(),
                source: source_err,
            })?;
            let loaded = self.load_bytes(&bytes, &path).await?;
            writes.push(ControlWrite::PutPluginBlob(PluginBlob {
                digest: loaded.digest.clone(),
                name: source.name.clone(),
                version: loaded.manifest.version.clone(),
                bytes,
                signature: None,
                installed_at_ms: crate::store::now_ms(),
            }));
            writes.push(ControlWrite::SetPlugin {
                name: source.name.clone(),
                active: Some(loaded.digest.clone()),
                previous: None,
                expected_active: None,
            });
            plugins.insert(source.name.clone(), loaded);
        }
        let mut ids = Vec::new();
        for tenant in &config.tenants {
            let (mut doc, secrets) = tenant_from_config(tenant)?;
            doc.incarnation = new_incarnation()?;
            validate_tenant(&doc, &plugins, &self.bounds, Granter::Operator)
                .map_err(|e| in_tenant(&tenant.id, e))?;
            for (plugin, values) in secrets {
                for secret in values {
                    writes.push(ControlWrite::PutSecret(
                        self.seal(&tenant.id, &plugin, &secret)?,
                    ));
                }
            }
            writes.push(ControlWrite::PutTenant {
                id: tenant.id.clone(),
                doc: to_json(&doc),
                expected: None,
            });
            ids.push(tenant.id.clone());
        }
        let audit = NewAuditEntry {
            actor: CONFIG_FILE_ACTOR.into(),
            tenant: None,
            action: "store.seed".into(),
            target: "configuration file".into(),
            before: None,
            after: Some(
                serde_json::json!({
                    "plugins": config.plugins.iter().map(|p| &p.name).collect::<Vec<_>>(),
                    "tenants": ids,
                })
                .to_string(),
            ),
        };
        match self.store.apply(writes, audit).await {
            Ok(_) => Ok(true),
            // Another replica seeded the same empty store first.
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The desired state as stored, if its version is newer than `known`.
    pub async fn desired_if_newer(&self, known: u64) -> Result<Option<Desired>, ControlError> {
        let state = self.store.control_state().await?;
        if state.version <= known && known != 0 {
            return Ok(None);
        }
        self.desired(state).await.map(Some)
    }

    async fn desired(&self, state: ControlState) -> Result<Desired, ControlError> {
        let mut desired = Desired {
            version: state.version,
            ..Desired::default()
        };
        desired.plugins = self.plugins_of(&state).await?;
        for row in state.tenants {
            // A document that cannot be read leaves its tenant without a
            // pipeline (its events: UNAVAILABLE), not every other tenant
            // without their changes, nor the server without a start.
            match parse_doc(&row.id, &row.doc) {
                Ok(doc) => desired.tenants.push((row.id, doc)),
                Err(e) => {
                    tracing::error!(tenant = %row.id, "left out: {e}");
                    desired.unreadable.push(row.id);
                }
            }
        }
        for row in state.secrets {
            let value = match self.key.open(&row.sealed, &secret_context(&row)) {
                Ok(value) => value,
                // Its tenant is left out like one whose document cannot be
                // read (this replica's master key is not the one that sealed
                // it, or the value was changed in the store), not every tenant.
                Err(e) => {
                    tracing::error!(tenant = %row.tenant, plugin = %row.plugin, "left out: {e}");
                    // A suspended tenant runs nothing: served as such without it.
                    let suspended = desired
                        .tenants
                        .iter()
                        .any(|(id, doc)| *id == row.tenant && doc.suspended);
                    if !suspended {
                        desired.unreadable.push(row.tenant);
                    }
                    continue;
                }
            };
            desired
                .secrets
                .entry((row.tenant.clone(), row.plugin.clone()))
                .or_default()
                .push(SecretValue {
                    host: row.host,
                    header: row.header,
                    value,
                });
        }
        let unreadable = &desired.unreadable;
        desired.tenants.retain(|(id, _)| !unreadable.contains(id));
        Ok(desired)
    }

    /// A stored plugin version, loaded (compiled once per process).
    async fn plugin_version(&self, digest: &str) -> Result<Arc<LoadedPlugin>, ControlError> {
        if let Some(plugin) = self.cached(digest) {
            return Ok(plugin);
        }
        if let Some(why) = self.unloadable.lock().get(digest) {
            return Err(ControlError::Unloadable(why.clone()));
        }
        let blob = self.store.plugin_blob(digest).await?.ok_or_else(|| {
            ControlError::Store(StoreError::Corrupt(format!(
                "plugin version {digest} is named but not stored"
            )))
        })?;
        // The digest names what was installed (and signed, when keys are
        // trusted): bytes changed in the store since are not run.
        let stored = crate::store::plugin_digest(&blob.bytes);
        if stored != digest {
            return Err(ControlError::Store(StoreError::Corrupt(format!(
                "plugin version {digest} ('{}'): the stored component is another one \
                 (sha256:{stored}); install it again",
                blob.name
            ))));
        }
        let path =
            std::path::PathBuf::from(format!("{} {} (sha256:{digest})", blob.name, blob.version));
        match self.load_bytes(&blob.bytes, &path).await {
            // What the bytes alone decide; not a file that could not be read,
            // nor a manifest() call that may have run out of time on a busy
            // replica: those are tried again at the next change.
            Err(ControlError::Plugin(e))
                if matches!(
                    e,
                    LoadError::NotComponent { .. }
                        | LoadError::Contract(..)
                        | LoadError::Link { .. }
                        | LoadError::Settings { .. }
                ) =>
            {
                self.unloadable
                    .lock()
                    .insert(digest.to_owned(), e.to_string());
                Err(ControlError::Plugin(e))
            }
            loaded => loaded,
        }
    }

    fn cached(&self, digest: &str) -> Option<Arc<LoadedPlugin>> {
        self.loaded.lock().get(digest).cloned()
    }

    async fn load_bytes(
        &self,
        bytes: &[u8],
        origin: &std::path::Path,
    ) -> Result<Arc<LoadedPlugin>, ControlError> {
        let digest = crate::store::plugin_digest(bytes);
        if let Some(plugin) = self.cached(&digest) {
            return Ok(plugin);
        }
        let loaded = Arc::new(self.runtime.load_bytes(bytes, origin).await?);
        log_loaded(&loaded.manifest.name, &loaded);
        self.loaded.lock().insert(digest, loaded.clone());
        Ok(loaded)
    }

    fn seal(
        &self,
        tenant: &str,
        plugin: &str,
        secret: &SecretValue,
    ) -> Result<SecretRow, ControlError> {
        let mut row = SecretRow {
            tenant: tenant.to_owned(),
            plugin: plugin.to_owned(),
            host: secret.host.clone(),
            header: secret.header.clone(),
            sealed: Vec::new(),
        };
        row.sealed = self.key.seal(&secret.value, &secret_context(&row))?;
        Ok(row)
    }

    /// The installed plugins (active versions), by name.
    pub async fn installed(&self) -> Result<HashMap<String, Arc<LoadedPlugin>>, ControlError> {
        self.plugins_of(&self.store.control_state().await?).await
    }

    /// The active versions this replica can load. One it cannot (a newer
    /// replica's, installed during a rolling upgrade; a component damaged in
    /// the store) is logged and left out, with the tenants that need it, not
    /// every change of every tenant. A store that does not answer fails it all.
    async fn plugins_of(
        &self,
        state: &ControlState,
    ) -> Result<HashMap<String, Arc<LoadedPlugin>>, ControlError> {
        let mut plugins = HashMap::new();
        for row in &state.plugins {
            match self.plugin_version(&row.active).await {
                Ok(plugin) => {
                    plugins.insert(row.name.clone(), plugin);
                }
                Err(e) if e.is_unloadable() => {
                    tracing::error!(plugin = %row.name, "left out: {e}");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(plugins)
    }
}

/// Every tenant of a control state that can be read: one whose document cannot
/// is logged and left out (asked for by its id, it says why), so that it keeps
/// no admin from the others. Ascending by id.
fn tenants_of(state: &ControlState) -> Result<Vec<TenantState>, ControlError> {
    Ok(state
        .tenants
        .iter()
        .filter_map(|row| match tenant_state(row) {
            Ok(tenant) => Some(tenant),
            Err(e) => {
                tracing::error!(tenant = %row.id, "{e}");
                None
            }
        })
        .collect())
}

/// One tenant of a control state.
fn tenant_of(state: &ControlState, id: &str) -> Result<TenantState, ControlError> {
    state
        .tenants
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(|| ControlError::NotFound(format!("unknown tenant '{id}'")))
        .and_then(tenant_state)
}

fn tenant_state(row: &crate::store::TenantRow) -> Result<TenantState, ControlError> {
    Ok(TenantState {
        doc: parse_doc(&row.id, &row.doc)?,
        id: row.id.clone(),
        revision: row.revision,
    })
}

/// The grant of `plugin` in `doc`.
pub fn grant_mut<'a>(
    doc: &'a mut TenantDoc,
    plugin: &str,
) -> Result<&'a mut GrantDoc, ControlError> {
    doc.plugins
        .iter_mut()
        .find(|g| g.name == plugin)
        .ok_or_else(|| {
            ControlError::NotFound(format!("plugin '{plugin}' is not in the tenant's pipeline"))
        })
}

/// Where a sealed secret belongs: sealing binds the ciphertext to it, so a value
/// copied to another tenant, plugin, host or header does not open.
fn secret_context(row: &SecretRow) -> String {
    format!(
        "crossdesk-secret\0{}\0{}\0{}\0{}",
        row.tenant, row.plugin, row.host, row.header
    )
}

/// Refuses to change a tenant whose stored document holds fields this version
/// does not know (a newer replica's, during a rolling upgrade): they are read
/// past, and a document written back from what was read would lose them.
fn refuse_fields_of_newer_versions(state: &ControlState, id: &str) -> Result<(), ControlError> {
    let Some(row) = state.tenants.iter().find(|t| t.id == id) else {
        return Ok(());
    };
    let mut document = serde_json::Deserializer::from_str(&row.doc);
    // Whether it parses at all is `parse_doc`'s to say.
    let Ok((_, unknown)) = crate::config::with_unknown_keys::<TenantDoc, _>(&mut document) else {
        return Ok(());
    };
    if unknown.is_empty() {
        return Ok(());
    }
    Err(ControlError::FailedPrecondition(format!(
        "tenant '{id}' holds settings this version does not know ({}), stored by a newer \
         one: change it through an upgraded replica, which keeps them",
        unknown.join(", ")
    )))
}

fn parse_doc(id: &str, json: &str) -> Result<TenantDoc, ControlError> {
    serde_json::from_str(json).map_err(|e| {
        ControlError::Store(StoreError::Corrupt(format!(
            "tenant '{id}' has an unreadable settings document: {e}"
        )))
    })
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Serializing plain data structs with string keys cannot fail.
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn version_json(plugin: &LoadedPlugin) -> String {
    version_value(plugin).to_string()
}

/// [`version_json`], to add to.
fn version_value(plugin: &LoadedPlugin) -> serde_json::Value {
    serde_json::json!({
        "version": plugin.manifest.version,
        "digest": plugin.digest,
    })
}
