//! The tenants' chains: what runs for each tenant, built from the control plane's
//! desired state (or the configuration file) and swapped in whole, so an event
//! never sees half of a change. A tenant whose inputs did not change keeps its
//! built steps, and with them its warm instances and its admission state.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::admission::Admission;
use super::{BuildError, KeptAdmission, Sidecar, every_tick};
use crate::control::{Bounds, Desired, GrantDoc, SecretValue, TenantDoc};
use crate::runtime::http::{OutboundPolicy, PrivateHosts};
use crate::runtime::{self, Grant, LoadedPlugin};
use crate::store::{DataOf, Store};

/// One plugin in a tenant's chain, with everything the tenant granted it.
pub(super) struct Step {
    pub(super) name: String,
    pub(super) plugin: Arc<LoadedPlugin>,
    pub(super) grant: Arc<Grant>,
    pub(super) fail_closed: bool,
    /// Hash of all the tenant granted this plugin under this name (settings,
    /// hosts, secrets and their values, storage, limits) and of the tenant's
    /// incarnation, part of the cache key: results computed under one grant, or
    /// for a tenant since deleted, are never served under another.
    pub(super) grant_hash: [u8; 32],
}

pub(super) struct Tenant {
    pub(super) suspended: bool,
    /// Steps in the default order.
    pub(super) steps: Vec<Arc<Step>>,
    /// Steps in the order set for an event kind, by the kind's contract name.
    pub(super) by_kind: HashMap<String, Vec<Arc<Step>>>,
    pub(super) admission: Arc<Admission>,
    /// The tenant's own categories and business hours, for the reports.
    pub(super) insight_rules: crate::insights::TenantRules,
    /// Hash of everything the tenant was built from, to reuse it when unchanged.
    pub(super) fingerprint: [u8; 32],
    /// See [`TenantDoc::incarnation`].
    pub(super) incarnation: String,
    /// Whose data its events write (report facts, idempotency records, plugin
    /// storage through its steps' grants): checked against the store where
    /// tenants live there (the admin API is on), so that none is written after
    /// the tenant's deletion.
    pub(super) data_of: Arc<DataOf>,
}

/// What runs, as of one control version.
#[derive(Default)]
pub(super) struct Pipelines {
    pub(super) version: u64,
    /// The installed plugins, by name.
    pub(super) plugins: HashMap<String, Arc<LoadedPlugin>>,
    pub(super) tenants: HashMap<String, Arc<Tenant>>,
    /// Stored tenants without a pipeline here: their document, a secret or a
    /// plugin they need cannot be loaded by this replica (an older one, during
    /// a rolling upgrade). Their events are answered UNAVAILABLE, to come again
    /// (a suspended one's as suspended), and what is remembered of them stays.
    pub(super) unserved: HashMap<String, Unserved>,
}

/// A stored tenant this replica does not serve (see [`Pipelines::unserved`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unserved {
    pub(super) suspended: bool,
    /// The incarnation this process last knew of it, served or not; `None`
    /// when it never could read the tenant's document.
    pub(super) incarnation: Option<String>,
}

/// Whether a tenant this process knew as `was` is gone as of `is` (both its
/// incarnation, `None` when unknown): deleted, or deleted and created again.
/// Not knowing either incarnation of a tenant still stored, it is not: what is
/// remembered of it stays.
fn gone_between(was: Option<&str>, is: Option<Option<&str>>) -> bool {
    match (was, is) {
        (_, None) => true,
        (Some(was), Some(Some(is))) => was != is,
        (None, Some(_)) | (Some(_), Some(None)) => false,
    }
}

impl Sidecar {
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

    /// Whether `tenant` is stored but not served here (see
    /// [`Pipelines::unserved`]): `Some(suspended)`.
    pub fn unserved(&self, tenant: &str) -> Option<bool> {
        self.pipelines
            .load()
            .unserved
            .get(tenant)
            .map(|unserved| unserved.suspended)
    }

    /// Builds pipelines for `desired` and makes them current. Tenants whose inputs
    /// did not change keep their built steps.
    pub(super) fn install(&self, desired: Desired) -> Result<(), BuildError> {
        let current = self.pipelines.load_full();
        let mut tenants = HashMap::new();
        // The incarnation this process knew of a tenant before this change.
        let known = |id: &str| -> Option<&str> {
            match current.tenants.get(id) {
                Some(was) => Some(was.incarnation.as_str()),
                None => current.unserved.get(id)?.incarnation.as_deref(),
            }
        };
        let mut unserved: HashMap<String, Unserved> = desired
            .unreadable
            .iter()
            .map(|id| {
                let still = Unserved {
                    suspended: false,
                    incarnation: known(id).map(str::to_owned),
                };
                (id.clone(), still)
            })
            .collect();
        for (id, doc) in &desired.tenants {
            let fingerprint = fingerprint(id, doc, &desired);
            let tenant = match current.tenants.get(id) {
                Some(existing) if existing.fingerprint == fingerprint => existing.clone(),
                _ => match self.build_tenant(id, doc, &desired, fingerprint) {
                    Ok(built) => Arc::new(built),
                    // A configuration file is checked whole, at the start.
                    Err(e) if self.control.is_none() => return Err(e),
                    // In the store, one tenant's pipeline that cannot be built
                    // (a plugin this replica cannot load) holds no other
                    // tenant's change back. Nor does it keep the pipeline it
                    // had: that may run what the change revoked (a host, a
                    // secret, the tenant itself, suspended). The next change
                    // of any tenant tries it again.
                    Err(e) => {
                        tracing::error!(tenant = %id, "not served here: {e}");
                        let this = Unserved {
                            suspended: doc.suspended,
                            incarnation: Some(doc.incarnation.clone()),
                        };
                        unserved.insert(id.clone(), this);
                        continue;
                    }
                },
            };
            tenants.insert(id.clone(), tenant);
        }
        self.admissions
            .lock()
            .retain(|id, _| tenants.contains_key(id));
        // Gone: deleted, or deleted and created again (another incarnation), even
        // if this process missed the moment it was not there, and whether it
        // served the tenant then or not. A tenant still stored but not served
        // here is not gone: its data stays remembered.
        let is = |id: &str| match (tenants.get(id), unserved.get(id)) {
            (Some(is), _) => Some(Some(is.incarnation.as_str())),
            (None, Some(this)) => Some(this.incarnation.as_deref()),
            (None, None) => None,
        };
        // Decided once per tenant, not per remembered response.
        let gone: HashSet<&str> = (current.tenants.keys())
            .chain(current.unserved.keys())
            .map(String::as_str)
            .filter(|id| gone_between(known(id), is(id)))
            .collect();
        if !gone.is_empty() {
            self.responses.forget_tenants(&|id| gone.contains(id));
        }
        // A deleted tenant's event counts leave `/metrics` (one created again
        // counts from zero, as its other data starts again).
        for id in &gone {
            self.runtime.metrics().forget_tenant(id);
        }
        tracing::info!(
            version = desired.version,
            tenants = tenants.len(),
            "pipelines updated"
        );
        self.pipelines.store(Arc::new(Pipelines {
            version: desired.version,
            plugins: desired.plugins.clone(),
            tenants,
            unserved,
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
        // Checked against the stored tenant only where tenants live in the store.
        let data_of = Arc::new(DataOf {
            tenant: id.to_owned(),
            incarnation: self.control.is_some().then(|| doc.incarnation.clone()),
        });
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
            let stored = desired
                .secrets
                .get(&(id.to_owned(), grant.name.clone()))
                .map_or(&[][..], Vec::as_slice);
            let secrets = named_secrets(grant, stored);
            let step = Arc::new(make_step(
                &self.bounds,
                &data_of,
                doc,
                grant,
                plugin,
                &secrets,
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
            // Kept across rebuilds while the quota stays, for the same tenant (not
            // one created again under its id).
            match admissions.get(id) {
                Some(kept) if kept.quota == quota && kept.incarnation == doc.incarnation => {
                    kept.admission.clone()
                }
                _ => {
                    let admission = Arc::new(Admission::new(quota, self.replicas.clone()));
                    admissions.insert(
                        id.to_owned(),
                        KeptAdmission {
                            quota,
                            incarnation: doc.incarnation.clone(),
                            admission: admission.clone(),
                        },
                    );
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
            incarnation: doc.incarnation.clone(),
            data_of,
        })
    }
}

/// The stored secrets the grant names. A row it does not name (one left behind
/// when a detach raced a secret's setting) is never sent: the grant says what
/// the plugin's requests carry.
fn named_secrets(grant: &GrantDoc, stored: &[SecretValue]) -> Vec<SecretValue> {
    stored
        .iter()
        .filter(|secret| {
            grant.secrets.iter().any(|named| {
                named.host == secret.host && named.header.eq_ignore_ascii_case(&secret.header)
            })
        })
        .cloned()
        .collect()
}

/// Builds a tenant's step from its (validated) grant: the limits, storage, settings
/// and outbound policy the plugin gets. `tenant`: whose data its storage holds,
/// and its incarnation (whether or not the store checks it).
fn make_step(
    bounds: &Bounds,
    data_of: &Arc<DataOf>,
    doc: &TenantDoc,
    grant: &GrantDoc,
    plugin: Arc<LoadedPlugin>,
    secrets: &[SecretValue],
    store: &Store,
) -> Result<Step, BuildError> {
    let tenant = data_of.tenant.as_str();
    let isolation = grant.isolation.max(doc.isolation);
    // Only what the operator granted this plugin opens the operator's private
    // hosts (a tenant admin's entry may match one listed after it was made).
    let private = doc.private_hosts_of(&grant.name, &bounds.private_hosts);
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
        Some(OutboundPolicy::new(&grant.allowed_hosts, &headers, private.clone()).map_err(error)?)
    };
    Ok(Step {
        name: grant.name.clone(),
        grant: Arc::new(Grant {
            of: data_of.clone(),
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
        grant_hash: grant_hash(&doc.incarnation, grant, &private, secrets),
    })
}

/// See [`Step::grant_hash`]; `secrets` are the values the grant names.
fn grant_hash(
    incarnation: &str,
    grant: &GrantDoc,
    private: &PrivateHosts,
    secrets: &[SecretValue],
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update((incarnation.len() as u64).to_le_bytes());
    hasher.update(incarnation.as_bytes());
    hasher.update(serde_json::to_vec(grant).unwrap_or_default());
    // What the grant may reach of the operator's private hosts (a value of this
    // process: the hash keys in-memory caches only).
    hasher.update(format!("{private:?}").as_bytes());
    for part in secrets.iter().flat_map(|s| [&s.host, &s.header, &s.value]) {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
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
pub(super) async fn watch(sidecar: Weak<Sidecar>, every: Duration) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::SecretRef;

    #[test]
    fn a_tenant_is_gone_when_no_longer_stored_or_stored_as_another() {
        // No longer stored, whether its incarnation was known.
        assert!(gone_between(Some("a"), None));
        assert!(gone_between(None, None));
        // Stored as another incarnation: deleted and created again.
        assert!(gone_between(Some("a"), Some(Some("b"))));
        // The same, or one side unknown (a document that cannot be read).
        assert!(!gone_between(Some("a"), Some(Some("a"))));
        assert!(!gone_between(Some("a"), Some(None)));
        assert!(!gone_between(None, Some(Some("b"))));
    }

    #[test]
    fn only_the_secrets_the_grant_names_are_sent() {
        let value = |host: &str, header: &str| SecretValue {
            host: host.into(),
            header: header.into(),
            value: "v".into(),
        };
        let mut grant = GrantDoc::new("mt");
        grant.secrets = vec![SecretRef::named("api.deepl.com", "Authorization")];
        let stored = [
            value("api.deepl.com", "authorization"),
            value("api.deepl.com", "x-left-behind"),
            value("other.example", "Authorization"),
        ];
        let sent: Vec<_> = named_secrets(&grant, &stored)
            .into_iter()
            .map(|s| (s.host, s.header))
            .collect();
        assert_eq!(sent, [("api.deepl.com".into(), "authorization".into())]);
        grant.secrets.clear();
        assert!(named_secrets(&grant, &stored).is_empty());
    }

    #[test]
    fn cached_results_are_keyed_by_the_whole_grant_and_the_tenants_incarnation() {
        let secret = |value: &str| SecretValue {
            host: "api.deepl.com".into(),
            header: "authorization".into(),
            value: value.into(),
        };
        let mut base = GrantDoc::new("mt");
        base.allowed_hosts = vec!["api.deepl.com".into()];
        base.secrets = vec![SecretRef::named("api.deepl.com", "authorization")];
        let none = PrivateHosts::default();
        let local = PrivateHosts::parse(&["mt.internal".to_owned()]).expect("a host");
        let key = grant_hash("i1", &base, &none, &[secret("k1")]);
        assert_eq!(key, grant_hash("i1", &base.clone(), &none, &[secret("k1")]));

        // The same component under another name, another secret value, another
        // host, a lower output limit, storage, a private host the operator's
        // entries reach: each a grant of its own.
        let renamed = GrantDoc {
            name: "mt-2".into(),
            ..base.clone()
        };
        let mut more_hosts = base.clone();
        more_hosts.allowed_hosts.push("api.example.com".into());
        let mut limited = base.clone();
        limited.limits.max_output_bytes = Some(1024);
        let mut stored = base.clone();
        stored.kv = true;
        let mut set = base.clone();
        set.settings.insert("engine".into(), "deepl".into());
        for (what, other) in [
            ("name", grant_hash("i1", &renamed, &none, &[secret("k1")])),
            (
                "secret value",
                grant_hash("i1", &base, &none, &[secret("k2")]),
            ),
            ("no secret", grant_hash("i1", &base, &none, &[])),
            (
                "hosts",
                grant_hash("i1", &more_hosts, &none, &[secret("k1")]),
            ),
            ("limits", grant_hash("i1", &limited, &none, &[secret("k1")])),
            ("storage", grant_hash("i1", &stored, &none, &[secret("k1")])),
            ("settings", grant_hash("i1", &set, &none, &[secret("k1")])),
            (
                "private hosts",
                grant_hash("i1", &base, &local, &[secret("k1")]),
            ),
            (
                "tenant created again",
                grant_hash("i2", &base, &none, &[secret("k1")]),
            ),
        ] {
            assert_ne!(key, other, "{what}");
        }
    }
}
