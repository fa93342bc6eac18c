//! The one model of what a tenant grants its plugins, and its one validator.
//!
//! A tenant is a [`TenantDoc`]: its plugins in order ([`GrantDoc`]: enabled,
//! settings, outbound hosts, storage, secrets by name, limits, fail mode),
//! per-event-kind orders, quota and suspension. The configuration file's
//! `[[tenants.plugins]]` deserialize into these same types, the store keeps them as
//! JSON and the admin API converts them at its edge; [`validate`] checks a document
//! against the installed plugins' typed settings and the operator's [`Bounds`],
//! whichever way it came, and [`check_tenant_id`] is the one rule for ids.
//!
//! Who grants matters ([`Granter`]): the operator (the configuration file, an
//! admin of every tenant) is bounded by what the server can hold; an admin of some
//! tenants also by the operator's `[tenant_admins]` ceilings. Loopback, private and
//! link-local targets are opened by the operator alone (`[outbound] private_hosts`).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::limits::{LimitOverrides, Limits, Quota, QuotaOverrides};
use crate::runtime::Isolation;
use crate::runtime::http::PrivateHosts;
use crate::settings::{self, KeySpec};

/// Why a tenant document was refused: the field (`plugins.mt.allowed_hosts[0]`)
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct GrantError {
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> GrantError {
    GrantError {
        field: field.into(),
        message: message.into(),
    }
}

/// Longest tenant id, in bytes.
pub const MAX_TENANT_ID: usize = 128;

/// Entries of one grant's `allowed_hosts`, at most: each may label the
/// outbound metrics' series, and no plugin needs more.
pub const MAX_ALLOWED_HOSTS: usize = 100;

/// The rule for tenant ids, for tenants from the configuration file and from the
/// admin API alike: 1 to 128 ASCII letters, digits, `-`, `_`, `.`.
pub fn check_tenant_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= MAX_TENANT_ID
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{id}' is not a tenant id (1 to {MAX_TENANT_ID} ASCII letters, digits, '-', '_', '.')"
        ))
    }
}

/// One tenant's settings, as stored (JSON) and shown by the admin API. Read from
/// the store only (the file's tenants are `TenantConfig`s).
///
/// Every type a stored document holds ignores fields it does not know: a field a
/// newer replica writes must not make an older one's reads fail during a rolling
/// upgrade (so a new field that restricts a plugin binds each replica only once
/// it is upgraded; and an older replica refuses to write such a document back,
/// which would lose the field: `control::refuse_fields_of_newer_versions`). The
/// configuration file, which shares the grant's types, refuses unknown keys in
/// `Config::parse` instead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantDoc {
    /// Drawn at random when the tenant is created: a tenant deleted and created
    /// again under its id is another tenant to everything a process keeps (warm
    /// instances, cached results, remembered responses), even on a replica that
    /// never saw the deletion. Empty in tenants of the configuration file alone,
    /// and in those created before it existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub incarnation: String,
    #[serde(default)]
    pub suspended: bool,
    /// The suspension is the operator's (the configuration file, an admin of every
    /// tenant): an admin of some tenants may suspend their tenant and resume it,
    /// but not lift this one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspended_by_operator: bool,
    #[serde(default)]
    pub quota: QuotaOverrides,
    /// The quota is the operator's: an admin of some tenants may lower it, not
    /// raise it (the [`Bounds::tenant_admin_quota`] ceiling would let them undo a
    /// quota the operator lowered).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quota_by_operator: bool,
    /// The quota as the operator set it, when `quota_by_operator`: what an admin
    /// of some tenants may lower the quota from, and raise it back to. (Absent in
    /// documents from before it was kept: the quota itself is the ceiling then.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_quota: Option<QuotaOverrides>,
    /// The limits as the operator set them, by plugin, for the grants marked
    /// `limits_by_operator`: likewise the ceiling of an admin of some tenants
    /// (absent: the grant's limits themselves). Kept here rather than in the
    /// grant, which is also the configuration file's type.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operator_limits: BTreeMap<String, LimitOverrides>,
    /// The `allowed_hosts` entries an operator (the configuration file, or an
    /// admin of every tenant) granted, by plugin: only these reach the
    /// operator's `[outbound] private_hosts`, whatever private host is listed
    /// later. Absent in a document from before it was kept: all of them do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_hosts: Option<BTreeMap<String, Vec<String>>>,
    /// Plugins in their default order.
    #[serde(default)]
    pub plugins: Vec<GrantDoc>,
    /// Orders replacing the default one for an event kind.
    #[serde(default)]
    pub pipelines: BTreeMap<String, Vec<String>>,
    /// `event` requires a fresh instance per call for every plugin of the tenant.
    #[serde(default)]
    pub isolation: Isolation,
    /// The tenant's own inquiry categories, for the reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<crate::insights::categories::CategoryRule>,
    /// When the tenant's team works: replies outside count as after hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<crate::insights::hours::BusinessHours>,
}

/// A tenant id as it may appear in a message: at most [`MAX_TENANT_ID`] bytes
/// (cut at a character boundary, marked with `…`), so that an error never echoes
/// a caller's arbitrarily long input back.
pub fn shown_id(id: &str) -> String {
    if id.len() <= MAX_TENANT_ID {
        return id.to_owned();
    }
    format!("{}…", &id[..id.floor_char_boundary(MAX_TENANT_ID)])
}

/// What a tenant grants one plugin, as the configuration file writes it
/// (`[[tenants.plugins]]`), the store keeps it and the admin API shows it. Secrets
/// appear by host and header only; a value in the file is taken out before the
/// grant is stored. Ignores fields it does not know (see [`TenantDoc`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantDoc {
    /// Name of an installed plugin.
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// When true, a failure of this plugin fails the whole event instead of being
    /// reported in its outcome while the others go on.
    #[serde(default)]
    pub fail_closed: bool,
    /// Grants key-value storage.
    #[serde(default)]
    pub kv: bool,
    /// Hosts the plugin may reach: `api.example.com`, `*.example.com`, or
    /// `127.0.0.1:2737`. A host that resolves to a loopback, private or
    /// link-local address is reached only if the operator listed it in
    /// `[outbound] private_hosts`.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Other plugins of the tenant whose storage this one may read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kv_read: Vec<String>,
    /// The plugin's settings for this tenant (`config` is read too, its name
    /// before contract 0.2.0).
    #[serde(default, alias = "config")]
    pub settings: BTreeMap<String, String>,
    /// Overrides of the default limits, within the operator's ceiling.
    #[serde(default)]
    pub limits: LimitOverrides,
    /// The limits are the operator's: an admin of some tenants may lower them,
    /// not raise them, nor detach the grant (which would reset them).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub limits_by_operator: bool,
    /// Credentials the host adds to outbound requests; never shown to the plugin.
    #[serde(default)]
    pub secrets: Vec<SecretRef>,
    /// `tenant` (default): instances are reused across the tenant's events;
    /// `event`: a fresh instance per call. A tenant admin may require `event`;
    /// only an operator may lift it, or detach a grant that requires it.
    #[serde(default)]
    pub isolation: Isolation,
}

fn yes() -> bool {
    true
}

impl GrantDoc {
    /// A grant of nothing but running, for `plugin`.
    pub fn new(plugin: &str) -> GrantDoc {
        GrantDoc {
            name: plugin.to_owned(),
            enabled: true,
            fail_closed: false,
            kv: false,
            allowed_hosts: Vec::new(),
            kv_read: Vec::new(),
            settings: BTreeMap::new(),
            limits: LimitOverrides::default(),
            limits_by_operator: false,
            secrets: Vec::new(),
            isolation: Isolation::default(),
        }
    }
}

/// A secret header, named: the host's requests it is added to and the header.
/// In the configuration file it also carries its value (`value`, or `value_env`
/// naming an environment variable); those are never serialized, so no stored
/// document or API answer carries them.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SecretRef {
    pub host: String,
    pub header: String,
    #[serde(default, skip_serializing)]
    value: Option<String>,
    #[serde(default, skip_serializing)]
    value_env: Option<String>,
}

impl std::fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretRef")
            .field("host", &self.host)
            .field("header", &self.header)
            .field("value", &self.value.as_ref().map(|_| "<redacted>"))
            .field("value_env", &self.value_env)
            .finish()
    }
}

impl SecretRef {
    /// The secret of `header` for `host`, by name only.
    pub fn named(host: &str, header: &str) -> SecretRef {
        SecretRef {
            host: host.to_owned(),
            header: header.to_owned(),
            value: None,
            value_env: None,
        }
    }

    /// Takes the value the configuration file gave (read from the environment
    /// when so configured), leaving the reference by name only.
    pub fn take_value(&mut self) -> Result<String, String> {
        match (self.value.take(), self.value_env.take()) {
            (Some(value), None) => Ok(value),
            (None, Some(var)) => crate::config::env_secret(&var).map_err(|_| {
                format!(
                    "secret header '{}' for host '{}': environment variable {var} is not set",
                    self.header, self.host
                )
            }),
            _ => Err(format!(
                "secret header '{}' for host '{}': give exactly one of `value` and `value_env`",
                self.header, self.host
            )),
        }
    }
}

/// Bounds a tenant's settings must respect: the server's default limits, the
/// ceiling its plugin pool was sized for, the default quota, the operator's
/// ceilings for tenant admins, and the private hosts the operator opened.
#[derive(Debug, Clone)]
pub struct Bounds {
    pub limits: Limits,
    pub ceiling: Limits,
    pub quota: Quota,
    /// The most an admin of some tenants may grant a plugin call.
    pub tenant_admin_limits: Limits,
    /// The most an admin of some tenants may give their tenant.
    pub tenant_admin_quota: Quota,
    pub private_hosts: Arc<PrivateHosts>,
}

impl Bounds {
    /// The defaults everywhere, tenant admins bounded by them, no private host.
    pub fn defaults() -> Bounds {
        Bounds {
            limits: Limits::default(),
            ceiling: Limits::default(),
            quota: Quota::default(),
            tenant_admin_limits: Limits::default(),
            tenant_admin_quota: Quota::default(),
            private_hosts: Arc::default(),
        }
    }
}

/// Who asks for a tenant document, which decides the ceiling it is checked against.
#[derive(Debug, Clone, Copy)]
pub enum Granter<'a> {
    /// The configuration file, or an admin of every tenant.
    Operator,
    /// An admin of some tenants, changing `before`: a value above the operator's
    /// `[tenant_admins]` ceiling is refused unless it is the one `before` had (set
    /// by the operator), so such an admin can lower it or leave it, never raise it.
    TenantAdmin { before: &'a TenantDoc },
}

/// What [`validate`] knows of an installed plugin's settings.
#[derive(Debug, Clone, Copy)]
pub enum Installed<'p> {
    /// Its typed settings, from its loaded manifest.
    Settings(&'p [KeySpec]),
    /// Installed, not loaded yet (a configuration file being parsed): its
    /// settings are checked again once it is loaded.
    NotLoaded,
}

/// Checks a whole tenant document: its quota, and each grant against the
/// installed plugins (`installed` says what is known of the plugin installed
/// under a name, `None` when nothing is) and the operator's bounds. The one
/// validator of tenants from the configuration file, the admin API and the CLI;
/// the error names the field (`plugins.translation.settings.engine`).
pub fn validate<'p>(
    doc: &TenantDoc,
    installed: &dyn Fn(&str) -> Option<Installed<'p>>,
    bounds: &Bounds,
    granter: Granter<'_>,
) -> Result<(), GrantError> {
    crate::insights::categories::check(&doc.categories)
        .map_err(|message| invalid("categories", &message))?;
    if let Some(hours) = &doc.business_hours {
        hours
            .check()
            .map_err(|message| invalid("business_hours", &message))?;
    }
    let quota = bounds.quota.with(&doc.quota);
    let quota_before = match granter {
        Granter::TenantAdmin { before } => Some(bounds.quota.with(&before.quota)),
        Granter::Operator => None,
    };
    let fields = |q: Quota| {
        [
            ("quota.max_in_flight", q.max_in_flight),
            ("quota.events_per_second", q.events_per_second),
            ("quota.burst", q.burst),
        ]
    };
    // The operator's quota, as a ceiling for a tenant admin.
    let operators_quota = match granter {
        Granter::TenantAdmin { before } if before.quota_by_operator => Some(
            bounds
                .quota
                .with(before.operator_quota.as_ref().unwrap_or(&before.quota)),
        ),
        _ => None,
    };
    for (i, (field, value)) in fields(quota).into_iter().enumerate() {
        if value == 0 {
            return Err(invalid(field, "must be above 0"));
        }
        if let Some(before) = quota_before {
            let (_, max) = fields(bounds.tenant_admin_quota)[i];
            let (_, was) = fields(before)[i];
            // The operator's value may be above the tenant admins' ceiling: up to
            // it is theirs to go back to.
            let within_operators = operators_quota.is_some_and(|o| value <= fields(o)[i].1);
            if value > max && value != was && !within_operators {
                return Err(above_tenant_admin_ceiling(field, value.into(), max.into()));
            }
            if let Some(operators) = operators_quota {
                let (_, set) = fields(operators)[i];
                if value > set {
                    return Err(above_operators(field, value.into(), set.into()));
                }
            }
        }
    }
    if let Granter::TenantAdmin { before } = granter
        && (doc.quota_by_operator != before.quota_by_operator
            || doc.operator_quota != before.operator_quota)
    {
        return Err(invalid(
            "quota",
            "only an admin of every tenant decides whether the quota is the operator's",
        ));
    }
    if doc.suspended_by_operator && !doc.suspended {
        return Err(invalid(
            "suspended",
            "is false while suspended_by_operator is true",
        ));
    }
    if let Granter::TenantAdmin { before } = granter {
        if doc.suspended_by_operator != before.suspended_by_operator
            || (before.suspended_by_operator && !doc.suspended)
        {
            return Err(invalid(
                "suspended",
                "the operator suspended this tenant: only an admin of every tenant may \
                 resume it",
            ));
        }
        if before.isolation == Isolation::Event && doc.isolation != Isolation::Event {
            return Err(relaxed_isolation("isolation".into()));
        }
        // Detaching the grant would lift it too: attached again, a grant starts
        // with the default isolation.
        if let Some(required) = before.plugins.iter().find(|was| {
            was.isolation == Isolation::Event && !doc.plugins.iter().any(|g| g.name == was.name)
        }) {
            return Err(relaxed_isolation(format!(
                "plugins.{}.isolation",
                required.name
            )));
        }
        // Likewise the operator's limits: attached again, a grant has the defaults.
        if let Some(limited) = before
            .plugins
            .iter()
            .find(|was| was.limits_by_operator && !doc.plugins.iter().any(|g| g.name == was.name))
        {
            return Err(invalid(
                format!("plugins.{}.limits", limited.name),
                "the operator set this plugin's limits: only an admin of every tenant may \
                 detach it",
            ));
        }
    }
    let mut names = HashSet::new();
    for grant in &doc.plugins {
        let at = format!("plugins.{}", grant.name);
        let plugin = installed(&grant.name)
            .ok_or_else(|| invalid(&at, "no installed plugin has that name"))?;
        if !names.insert(grant.name.as_str()) {
            return Err(invalid(&at, "listed twice in the pipeline"));
        }
        if let Installed::Settings(specs) = plugin {
            settings::validate(specs, &grant.settings).map_err(|e| {
                invalid(
                    format!("{at}.settings.{}", e.key),
                    // The key is in the field already.
                    e.reason,
                )
            })?;
        }
        for (i, host) in grant.allowed_hosts.iter().enumerate() {
            bounds
                .private_hosts
                .check_grant(host)
                .map_err(|e| invalid(format!("{at}.allowed_hosts[{i}]"), e))?;
            // The operator's private hosts serve whichever tenant the operator
            // meant, on its own network (secrets go there in clear): another
            // tenant's admin may not point their plugins at one.
            if let Granter::TenantAdmin { before } = granter
                && let Some(private) = bounds.private_hosts.opened_by(host)
                && !before
                    .plugins
                    .iter()
                    .any(|g| g.name == grant.name && g.allowed_hosts.contains(host))
            {
                return Err(invalid(
                    format!("{at}.allowed_hosts[{i}]"),
                    format!(
                        "'{private}' is one of the operator's private hosts: only an admin \
                         of every tenant may grant it"
                    ),
                ));
            }
        }
        for secret in &grant.secrets {
            if !grant.allowed_hosts.contains(&secret.host) {
                return Err(invalid(
                    format!("{at}.secrets"),
                    format!(
                        "secret for host '{}', which is not in allowed_hosts",
                        secret.host
                    ),
                ));
            }
        }
        check_limits(&at, &grant.limits, bounds)?;
        if let Granter::TenantAdmin { before } = granter {
            let was = before.plugins.iter().find(|g| g.name == grant.name);
            check_tenant_admin_limits(
                &at,
                bounds.limits.with(&grant.limits),
                was.map(|g| {
                    let operators = g.limits_by_operator.then(|| {
                        bounds
                            .limits
                            .with(before.operator_limits.get(&g.name).unwrap_or(&g.limits))
                    });
                    (bounds.limits.with(&g.limits), operators)
                }),
                bounds,
            )?;
            if grant.limits_by_operator != was.is_some_and(|g| g.limits_by_operator)
                || doc.operator_limits.get(&grant.name) != before.operator_limits.get(&grant.name)
            {
                return Err(invalid(
                    format!("{at}.limits"),
                    "only an admin of every tenant decides whether the limits are the operator's",
                ));
            }
            if was.is_some_and(|g| g.isolation == Isolation::Event)
                && grant.isolation != Isolation::Event
            {
                return Err(relaxed_isolation(format!("{at}.isolation")));
            }
        }
    }
    // Read access is to the storage of plugins in the same tenant's pipeline.
    for grant in &doc.plugins {
        for (i, other) in grant.kv_read.iter().enumerate() {
            if !names.contains(other.as_str()) {
                return Err(invalid(
                    format!("plugins.{}.kv_read[{i}]", grant.name),
                    format!("'{other}' is not in the tenant's pipeline"),
                ));
            }
        }
    }
    for (kind, order) in &doc.pipelines {
        let at = format!("pipelines.{kind}");
        if kind.is_empty() {
            return Err(invalid("pipelines", "an event kind is empty"));
        }
        let mut seen = HashSet::new();
        for name in order {
            if !names.contains(name.as_str()) {
                return Err(invalid(
                    &at,
                    format!("'{name}' is not in the tenant's pipeline"),
                ));
            }
            if !seen.insert(name.as_str()) {
                return Err(invalid(&at, format!("'{name}' is listed twice")));
            }
        }
        if seen.len() != names.len() {
            let missing: Vec<&str> = names.difference(&seen).copied().collect();
            return Err(invalid(
                &at,
                format!(
                    "must name every plugin of the pipeline once; missing: {}",
                    missing.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn check_limits(at: &str, overrides: &LimitOverrides, bounds: &Bounds) -> Result<(), GrantError> {
    let limits = bounds.limits.with(overrides);
    let ceiling = &bounds.ceiling;
    if let Some(field) = limits.zero_field() {
        return Err(invalid(format!("{at}.limits.{field}"), "must be above 0"));
    }
    if limits.max_memory_bytes < 64 << 10 {
        return Err(invalid(
            format!("{at}.limits.max_memory_bytes"),
            "must be at least 65536 (one wasm page)",
        ));
    }
    let above = |field: &str, value: u64, max: u64| {
        Err(invalid(
            format!("{at}.limits.{field}"),
            format!(
                "{value} is above this server's ceiling {max} (set by the [limits] of its \
                 configuration file; raising it needs a restart)"
            ),
        ))
    };
    if limits.max_memory_bytes > ceiling.max_memory_bytes {
        return above(
            "max_memory_bytes",
            limits.max_memory_bytes,
            ceiling.max_memory_bytes,
        );
    }
    if limits.max_table_elements > ceiling.max_table_elements {
        return above(
            "max_table_elements",
            limits.max_table_elements.into(),
            ceiling.max_table_elements.into(),
        );
    }
    if limits.max_instances > ceiling.max_instances {
        return above(
            "max_instances",
            limits.max_instances.into(),
            ceiling.max_instances.into(),
        );
    }
    Ok(())
}

fn above_tenant_admin_ceiling(field: &str, value: u64, max: u64) -> GrantError {
    let (value, max) = (shown(value), shown(max));
    invalid(
        field,
        format!(
            "{value} is above {max}, the most an admin of some tenants may grant (the \
             operator's [tenant_admins] ceiling)"
        ),
    )
}

fn above_operators(field: &str, value: u64, set: u64) -> GrantError {
    let (value, set) = (shown(value), shown(set));
    invalid(
        field,
        format!(
            "{value} is above {set}, which the operator set: an admin of some tenants may \
             lower it, and raise it back up to that, not above"
        ),
    )
}

/// A limit as the admin wrote it: the unbounded one (`http_timeout_ms = 0`) is
/// compared as the largest.
fn shown(value: u64) -> String {
    match value {
        u64::MAX => "0 (no bound of its own)".to_owned(),
        value => value.to_string(),
    }
}

fn relaxed_isolation(field: String) -> GrantError {
    invalid(
        field,
        "is event, which only an operator may relax (an admin of some tenants may \
         require a fresh instance per event, not lift it)",
    )
}

fn wide(bytes: usize) -> u64 {
    u64::try_from(bytes).unwrap_or(u64::MAX)
}

/// Each limit of a grant within the operator's ceiling for tenant admins, or
/// unchanged from what the grant had (`was`: its limits, and the operator's when
/// the operator set them); and none above the operator's.
fn check_tenant_admin_limits(
    at: &str,
    limits: Limits,
    was: Option<(Limits, Option<Limits>)>,
    bounds: &Bounds,
) -> Result<(), GrantError> {
    let fields = |l: &Limits| -> [(&str, u64); 8] {
        [
            ("timeout_ms", l.timeout_ms),
            ("max_memory_bytes", l.max_memory_bytes),
            ("max_table_elements", l.max_table_elements.into()),
            ("max_instances", l.max_instances.into()),
            ("max_output_bytes", wide(l.max_output_bytes)),
            ("max_http_response_bytes", wide(l.max_http_response_bytes)),
            ("max_log_lines", l.max_log_lines.into()),
            // 0: no bound of its own, the most of all.
            (
                "http_timeout_ms",
                match l.http_timeout_ms {
                    0 => u64::MAX,
                    ms => ms,
                },
            ),
        ]
    };
    let ceiling = fields(&bounds.tenant_admin_limits);
    let before = was.as_ref().map(|(limits, _)| fields(limits));
    let operators = was
        .as_ref()
        .and_then(|(_, operators)| operators.as_ref().map(fields));
    for (i, (field, value)) in fields(&limits).into_iter().enumerate() {
        let (_, max) = ceiling[i];
        let old = before.map(|b| b[i].1);
        // The operator's value may be above the tenant admins' ceiling: up to it
        // is theirs to go back to.
        let within_operators = operators.is_some_and(|o| value <= o[i].1);
        if value > max && old != Some(value) && !within_operators {
            return Err(above_tenant_admin_ceiling(
                &format!("{at}.limits.{field}"),
                value,
                max,
            ));
        }
        if let Some((_, set)) = operators.map(|o| o[i]).filter(|&(_, set)| value > set) {
            return Err(above_operators(&format!("{at}.limits.{field}"), value, set));
        }
    }
    Ok(())
}

/// The rules a tenant document is held to where it changes from `before` (the
/// stored one; an empty document for the configuration file's): added after
/// documents were stored that break them, which keep working as they are.
///
/// - at most [`MAX_ALLOWED_HOSTS`] entries in a grant's `allowed_hosts`;
/// - `kv_read` does not name the plugin itself (its own storage is `kv`'s, and
///   turning that off must leave it none);
/// - a `pipelines` key does not spell a contract kind another way
///   (`agent_reply_drafted`, as the metrics write it), which no event would use.
pub fn check_changes(doc: &TenantDoc, before: &TenantDoc) -> Result<(), GrantError> {
    for grant in &doc.plugins {
        let at = format!("plugins.{}", grant.name);
        let was = before.plugins.iter().find(|g| g.name == grant.name);
        if was.is_none_or(|g| g.allowed_hosts != grant.allowed_hosts)
            && grant.allowed_hosts.len() > MAX_ALLOWED_HOSTS
        {
            return Err(invalid(
                format!("{at}.allowed_hosts"),
                format!(
                    "{} hosts; at most {MAX_ALLOWED_HOSTS} (a wildcard such as \
                     '*.example.com' names many)",
                    grant.allowed_hosts.len()
                ),
            ));
        }
        if was.is_none_or(|g| g.kv_read != grant.kv_read)
            && let Some(i) = grant.kv_read.iter().position(|p| *p == grant.name)
        {
            return Err(invalid(
                format!("{at}.kv_read[{i}]"),
                "a plugin's own storage is granted by `kv`, not `kv_read`",
            ));
        }
    }
    for kind in doc.pipelines.keys() {
        if !before.pipelines.contains_key(kind)
            && let Some(name) = misspelt_kind(kind)
        {
            return Err(invalid(
                format!("pipelines.{kind}"),
                format!("'{kind}' is not how the kind is named: '{name}'"),
            ));
        }
    }
    Ok(())
}

/// Keeps [`TenantDoc::operator_hosts`] of `doc`, an edit of `before`: an entry
/// keeps who granted it, and one new to a plugin's grant is the operator's when
/// the operator (`by_operator`) made the edit. So an operator's later edit of
/// something else does not make a tenant admin's entry theirs; to grant one,
/// the operator takes it out and adds it again. Of a document from before they
/// were recorded, the entries that reach one of the operator's `private` hosts
/// now count as the operator's (they did already); the others do not.
pub fn record_operator_hosts(
    doc: &mut TenantDoc,
    before: &TenantDoc,
    by_operator: bool,
    private: &PrivateHosts,
) {
    let previous_grant = |plugin: &str| before.plugins.iter().find(|g| g.name == plugin);
    let mut by_plugin = BTreeMap::new();
    for grant in &doc.plugins {
        let had = previous_grant(&grant.name).map_or(&[][..], |g| g.allowed_hosts.as_slice());
        let was_operators = |entry: &String| match &before.operator_hosts {
            Some(recorded) => recorded
                .get(&grant.name)
                .is_some_and(|entries| entries.contains(entry)),
            None => had.contains(entry) && private.opened_by(entry).is_some(),
        };
        let operators: Vec<String> = grant
            .allowed_hosts
            .iter()
            .filter(|entry| was_operators(entry) || (by_operator && !had.contains(entry)))
            .cloned()
            .collect();
        if !operators.is_empty() {
            by_plugin.insert(grant.name.clone(), operators);
        }
    }
    doc.operator_hosts = Some(by_plugin);
}

impl TenantDoc {
    /// The operator's `private` hosts that `plugin`'s grant may reach: those the
    /// entries the operator granted it name.
    pub fn private_hosts_of(&self, plugin: &str, private: &Arc<PrivateHosts>) -> Arc<PrivateHosts> {
        match &self.operator_hosts {
            Some(by_plugin) => {
                Arc::new(private.reached_by(by_plugin.get(plugin).map_or(&[], Vec::as_slice)))
            }
            None => private.clone(),
        }
    }
}

/// The contract's name of the kind `key` spells another way (case, `_` for `-`,
/// the proto's `EVENT_KIND_` prefix), if it does.
fn misspelt_kind(key: &str) -> Option<String> {
    let plain = key.trim().to_ascii_lowercase().replace('_', "-");
    let plain = plain.strip_prefix("event-kind-").unwrap_or(&plain);
    crate::runtime::built_in_kind_names()
        .into_iter()
        .find(|name| name == plain && name != key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> Bounds {
        Bounds::defaults()
    }

    /// `mt` (settings `engine: one-of(apertium|deepl)`) and `tone` installed.
    fn check(doc: &TenantDoc) -> Result<(), GrantError> {
        let specs = settings::parse_specs(&["engine: one-of(apertium|deepl)"]).expect("specs");
        let installed = |name: &str| match name {
            "mt" => Some(Installed::Settings(specs.as_slice())),
            "tone" => Some(Installed::Settings(&[][..])),
            _ => None,
        };
        validate(doc, &installed, &bounds(), Granter::Operator)?;
        // As a new document: every part of it is a change.
        check_changes(doc, &TenantDoc::default())
    }

    fn doc(toml_grants: &str) -> TenantDoc {
        #[derive(Deserialize)]
        struct File {
            plugins: Vec<GrantDoc>,
        }
        let file: File = toml::from_str(toml_grants).expect("grants parse");
        TenantDoc {
            plugins: file.plugins,
            ..TenantDoc::default()
        }
    }

    /// A document as a newer replica might store it, with a field unknown here at
    /// every level: read, the fields ignored, the rest kept.
    #[test]
    fn a_stored_document_with_fields_from_a_newer_version_is_read() {
        let stored = r#"{
            "incarnation": "0f",
            "quota": { "max_in_flight": 3, "queue": 9 },
            "operator_quota": { "burst": 4, "queue": 9 },
            "operator_limits": { "mt": { "timeout_ms": 50, "cpu_ms": 1 } },
            "plugins": [{
                "name": "mt",
                "limits": { "timeout_ms": 50, "cpu_ms": 1 },
                "secrets": [{ "host": "api.example.com", "header": "Authorization",
                              "rotated": true }],
                "allowed_hosts": ["api.example.com"],
                "canary": 0.5
            }],
            "categories": [{ "name": "shipping", "keywords": {}, "colour": "red" }],
            "business_hours": { "time_zone": "Asia/Shanghai", "open": "09:00",
                                "close": "18:00", "holidays": [] },
            "region": "eu"
        }"#;
        let doc: TenantDoc = serde_json::from_str(stored).expect("read");
        assert_eq!(doc.incarnation, "0f");
        assert_eq!(doc.quota.max_in_flight, Some(3));
        assert_eq!(doc.operator_quota.and_then(|q| q.burst), Some(4));
        assert_eq!(doc.operator_limits["mt"].timeout_ms, Some(50));
        let grant = &doc.plugins[0];
        assert_eq!(grant.limits.timeout_ms, Some(50));
        assert_eq!(
            grant.secrets,
            vec![SecretRef::named("api.example.com", "Authorization")]
        );
        assert_eq!(doc.categories[0].name, "shipping");
        assert_eq!(
            doc.business_hours.map(|h| h.time_zone).as_deref(),
            Some("Asia/Shanghai")
        );
    }

    fn field_of(toml_grants: &str) -> String {
        match check(&doc(toml_grants)) {
            Err(e) => e.field,
            Ok(()) => panic!("accepted: {toml_grants:?}"),
        }
    }

    #[test]
    fn a_valid_tenant_passes_and_settings_are_typed() {
        let ok = "[[plugins]]\nname = \"mt\"\nsettings = { engine = \"deepl\" }\n\
                  [[plugins]]\nname = \"tone\"\n";
        assert_eq!(check(&doc(ok)), Ok(()));
        let err = check(&doc(
            "[[plugins]]\nname = \"mt\"\nsettings = { engine = \"bing\" }\n",
        ))
        .expect_err("refused");
        assert_eq!(err.field, "plugins.mt.settings.engine");
        assert!(err.message.contains("bing"), "{err}");
    }

    #[test]
    fn every_field_is_named_when_refused() {
        let cases = [
            ("[[plugins]]\nname = \"ghost\"\n", "plugins.ghost"),
            (
                "[[plugins]]\nname = \"mt\"\n[[plugins]]\nname = \"mt\"\n",
                "plugins.mt",
            ),
            (
                "[[plugins]]\nname = \"mt\"\nallowed_hosts = [\"exa mple.com\"]\n",
                "plugins.mt.allowed_hosts[0]",
            ),
            (
                "[[plugins]]\nname = \"mt\"\nsecrets = [{ host = \"api.deepl.com\", header = \"A\" }]\n",
                "plugins.mt.secrets",
            ),
            (
                "[[plugins]]\nname = \"mt\"\nlimits = { timeout_ms = 0 }\n",
                "plugins.mt.limits.timeout_ms",
            ),
            (
                "[[plugins]]\nname = \"mt\"\nlimits = { max_output_bytes = 0 }\n",
                "plugins.mt.limits.max_output_bytes",
            ),
            (
                "[[plugins]]\nname = \"mt\"\nlimits = { max_instances = 0 }\n",
                "plugins.mt.limits.max_instances",
            ),
            (
                "[[plugins]]\nname = \"mt\"\nkv_read = [\"recommend\"]\n",
                "plugins.mt.kv_read[0]",
            ),
            (
                "[[plugins]]\nname = \"mt\"\nkv_read = [\"mt\"]\n",
                "plugins.mt.kv_read[0]",
            ),
            (
                &format!(
                    "[[plugins]]\nname = \"mt\"\nallowed_hosts = [{}]\n",
                    (0..=MAX_ALLOWED_HOSTS)
                        .map(|i| format!("\"h{i}.example.com\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "plugins.mt.allowed_hosts",
            ),
        ];
        for (grants, field) in cases {
            assert_eq!(field_of(grants), field, "{grants}");
        }
    }

    #[test]
    fn a_grant_cannot_exceed_the_operators_ceiling() {
        let above = format!(
            "[[plugins]]\nname = \"mt\"\nlimits = {{ max_memory_bytes = {} }}\n",
            Limits::default().max_memory_bytes + 1
        );
        let err = check(&doc(&above)).expect_err("refused");
        assert_eq!(err.field, "plugins.mt.limits.max_memory_bytes");
        assert!(err.message.contains("ceiling"), "{err}");
    }

    #[test]
    fn a_tenant_admin_may_require_event_isolation_and_not_lift_it() {
        let installed = |name: &str| (name == "mt").then_some(Installed::Settings(&[][..]));
        let bounds = bounds();
        let warm = doc("[[plugins]]\nname = \"mt\"\n");
        let fresh = doc("[[plugins]]\nname = \"mt\"\nisolation = \"event\"\n");
        let as_admin_of = |before| Granter::TenantAdmin { before };
        assert_eq!(
            validate(&fresh, &installed, &bounds, as_admin_of(&warm)),
            Ok(())
        );
        let err = validate(&warm, &installed, &bounds, as_admin_of(&fresh)).expect_err("lifted");
        assert_eq!(err.field, "plugins.mt.isolation");
        assert_eq!(
            validate(&warm, &installed, &bounds, Granter::Operator),
            Ok(())
        );
        // Detaching the plugin would lift it as well: attached again, it starts warm.
        let detached = TenantDoc::default();
        let err =
            validate(&detached, &installed, &bounds, as_admin_of(&fresh)).expect_err("detached");
        assert_eq!(err.field, "plugins.mt.isolation");
        assert_eq!(
            validate(&detached, &installed, &bounds, Granter::Operator),
            Ok(())
        );
        // The same for a whole tenant.
        let tenant_fresh = TenantDoc {
            isolation: Isolation::Event,
            ..warm.clone()
        };
        let err =
            validate(&warm, &installed, &bounds, as_admin_of(&tenant_fresh)).expect_err("lifted");
        assert_eq!(err.field, "isolation");
    }

    #[test]
    fn a_tenant_admin_resumes_their_own_suspension_not_the_operators() {
        let installed = |_: &str| None;
        let bounds = bounds();
        let active = TenantDoc::default();
        let by_tenant = TenantDoc {
            suspended: true,
            ..TenantDoc::default()
        };
        let by_operator = TenantDoc {
            suspended: true,
            suspended_by_operator: true,
            ..TenantDoc::default()
        };
        let as_admin_of = |before| Granter::TenantAdmin { before };
        assert_eq!(
            validate(&by_tenant, &installed, &bounds, as_admin_of(&active)),
            Ok(())
        );
        assert_eq!(
            validate(&active, &installed, &bounds, as_admin_of(&by_tenant)),
            Ok(())
        );
        for (doc, before) in [
            (&active, &by_operator),
            (&by_tenant, &by_operator),
            (&by_operator, &active),
        ] {
            let err = validate(doc, &installed, &bounds, as_admin_of(before))
                .expect_err("the operator's suspension");
            assert_eq!(err.field, "suspended");
        }
        // The operator's own change, and a document that contradicts itself.
        assert_eq!(
            validate(&active, &installed, &bounds, Granter::Operator),
            Ok(())
        );
        let contradiction = TenantDoc {
            suspended_by_operator: true,
            ..TenantDoc::default()
        };
        let err = validate(&contradiction, &installed, &bounds, Granter::Operator)
            .expect_err("contradiction");
        assert_eq!(err.field, "suspended");
    }

    #[test]
    fn a_tenant_admin_stays_under_the_operators_ceilings() {
        let mut bounds = bounds();
        bounds.ceiling.timeout_ms = 60_000;
        bounds.tenant_admin_limits.timeout_ms = 5_000;
        bounds.tenant_admin_quota.burst = 100;
        let specs = settings::parse_specs(&["engine: one-of(apertium|deepl)"]).expect("specs");
        let installed =
            |name: &str| (name == "mt").then_some(Installed::Settings(specs.as_slice()));
        let before = doc("[[plugins]]\nname = \"mt\"\n");
        let admin = Granter::TenantAdmin { before: &before };

        let raised = doc("[[plugins]]\nname = \"mt\"\nlimits = { timeout_ms = 30000 }\n");
        assert_eq!(
            validate(&raised, &installed, &bounds, Granter::Operator),
            Ok(())
        );
        let err = validate(&raised, &installed, &bounds, admin).expect_err("refused");
        assert_eq!(err.field, "plugins.mt.limits.timeout_ms");
        assert!(err.message.contains("tenant_admins"), "{err}");
        for field in [
            "max_output_bytes",
            "max_http_response_bytes",
            "max_log_lines",
        ] {
            let raised = doc(&format!(
                "[[plugins]]\nname = \"mt\"\nlimits = {{ {field} = 999999999 }}\n"
            ));
            let err = validate(&raised, &installed, &bounds, admin).expect_err(field);
            assert_eq!(err.field, format!("plugins.mt.limits.{field}"));
        }
        let lowered = doc("[[plugins]]\nname = \"mt\"\nlimits = { timeout_ms = 500 }\n");
        assert_eq!(validate(&lowered, &installed, &bounds, admin), Ok(()));

        // What the operator set above the ceiling stays through a tenant admin's edit.
        let by_operator = raised.clone();
        let mut edited = raised.clone();
        edited.plugins[0]
            .settings
            .insert("engine".into(), "deepl".into());
        let admin = Granter::TenantAdmin {
            before: &by_operator,
        };
        assert_eq!(validate(&edited, &installed, &bounds, admin), Ok(()));

        let mut quota = before.clone();
        quota.quota.burst = Some(1_000);
        let admin = Granter::TenantAdmin { before: &before };
        let err = validate(&quota, &installed, &bounds, admin).expect_err("refused");
        assert_eq!(err.field, "quota.burst");
        assert_eq!(
            validate(&quota, &installed, &bounds, Granter::Operator),
            Ok(())
        );
    }

    /// The time of one outbound request is a limit like the others: within the
    /// tenant admins' ceiling, and not above what the operator set; its 0 (no
    /// bound but the call's deadline) is above every other value.
    #[test]
    fn a_tenant_admin_cannot_raise_the_http_timeout_past_the_operator() {
        let installed = |name: &str| (name == "mt").then_some(Installed::Settings(&[][..]));
        let mut bounds = bounds();
        bounds.tenant_admin_limits.http_timeout_ms = 1_000;
        let fresh = TenantDoc::default();
        let admin = Granter::TenantAdmin { before: &fresh };
        let granted = |ms: u64| {
            let mut doc = doc("[[plugins]]\nname = \"mt\"\n");
            doc.plugins[0].limits.http_timeout_ms = Some(ms);
            doc
        };
        assert_eq!(validate(&granted(800), &installed, &bounds, admin), Ok(()));
        for ms in [5_000, 0] {
            let err = validate(&granted(ms), &installed, &bounds, admin).expect_err("above");
            assert_eq!(err.field, "plugins.mt.limits.http_timeout_ms", "{ms}");
        }
        let err = validate(&granted(0), &installed, &bounds, admin).expect_err("unbounded");
        assert!(
            err.message
                .starts_with("0 (no bound of its own) is above 1000"),
            "{err}"
        );

        // The operator's 300 ms: lower is the tenant admin's, higher is not.
        let mut before = granted(300);
        before.plugins[0].limits_by_operator = true;
        before
            .operator_limits
            .insert("mt".into(), before.plugins[0].limits);
        let admin = Granter::TenantAdmin { before: &before };
        let mut lowered = before.clone();
        lowered.plugins[0].limits.http_timeout_ms = Some(200);
        assert_eq!(validate(&lowered, &installed, &bounds, admin), Ok(()));
        for ms in [500, 0] {
            let mut raised = before.clone();
            raised.plugins[0].limits.http_timeout_ms = Some(ms);
            let err = validate(&raised, &installed, &bounds, admin).expect_err("raised");
            assert_eq!(err.field, "plugins.mt.limits.http_timeout_ms", "{ms}");
        }
    }

    /// A quota or limits the operator lowered (the tenant admins' ceiling is
    /// higher) stay a ceiling for the tenant's own admins: lower, and back up to
    /// the operator's values, not higher; the marks, the values and the grant stay.
    #[test]
    fn a_tenant_admin_lowers_the_operators_quota_and_limits_and_raises_them_back_not_above() {
        let specs = settings::parse_specs(&["engine: one-of(apertium|deepl)"]).expect("specs");
        let installed =
            |name: &str| (name == "mt").then_some(Installed::Settings(specs.as_slice()));
        let bounds = bounds();
        let mut before = doc("[[plugins]]\nname = \"mt\"\nlimits = { timeout_ms = 500 }\n");
        before.plugins[0].limits_by_operator = true;
        before.quota.max_in_flight = Some(5);
        before.quota_by_operator = true;
        let admin = Granter::TenantAdmin { before: &before };

        // Back to the defaults (256 in flight, a 2 s timeout): within the tenant
        // admins' ceilings, yet above what the operator set.
        let mut undone = before.clone();
        undone.quota.max_in_flight = None;
        let err = validate(&undone, &installed, &bounds, admin).expect_err("quota raised");
        assert_eq!(err.field, "quota.max_in_flight");
        assert!(err.message.contains("operator set"), "{err}");
        let mut undone = before.clone();
        undone.plugins[0].limits.timeout_ms = None;
        let err = validate(&undone, &installed, &bounds, admin).expect_err("limit raised");
        assert_eq!(err.field, "plugins.mt.limits.timeout_ms");

        // Lower is fine, the marks kept.
        let mut lowered = before.clone();
        lowered.quota.max_in_flight = Some(3);
        lowered.plugins[0].limits.timeout_ms = Some(300);
        assert_eq!(validate(&lowered, &installed, &bounds, admin), Ok(()));

        // Neither mark is the tenant admin's to clear, nor the grant to detach.
        let mut unmarked = before.clone();
        unmarked.quota_by_operator = false;
        assert_eq!(
            validate(&unmarked, &installed, &bounds, admin).map_err(|e| e.field),
            Err("quota".to_owned())
        );
        let mut unmarked = before.clone();
        unmarked.plugins[0].limits_by_operator = false;
        assert_eq!(
            validate(&unmarked, &installed, &bounds, admin).map_err(|e| e.field),
            Err("plugins.mt.limits".to_owned())
        );
        let mut detached = before.clone();
        detached.plugins.clear();
        assert_eq!(
            validate(&detached, &installed, &bounds, admin).map_err(|e| e.field),
            Err("plugins.mt.limits".to_owned())
        );
        // The operator does as it likes.
        assert_eq!(
            validate(&detached, &installed, &bounds, Granter::Operator),
            Ok(())
        );

        // Lowered, then raised back up to what the operator set, kept beside the
        // marks; not above it. Nor are the operator's values the tenant admin's.
        let mut set = before.clone();
        set.operator_quota = Some(set.quota);
        set.operator_limits
            .insert("mt".into(), set.plugins[0].limits);
        let mut lowered = set.clone();
        lowered.quota.max_in_flight = Some(3);
        lowered.plugins[0].limits.timeout_ms = Some(300);
        let after_lowering = Granter::TenantAdmin { before: &lowered };
        assert_eq!(
            validate(&set, &installed, &bounds, after_lowering),
            Ok(()),
            "back to the operator's"
        );
        let mut above = set.clone();
        above.quota.max_in_flight = Some(6);
        let err = validate(&above, &installed, &bounds, after_lowering).expect_err("above");
        assert!(
            err.message.contains("above 5, which the operator set"),
            "{err}"
        );
        let mut above = set.clone();
        above.plugins[0].limits.timeout_ms = Some(501);
        let err = validate(&above, &installed, &bounds, after_lowering).expect_err("above");
        assert_eq!(err.field, "plugins.mt.limits.timeout_ms");
        let mut moved = lowered.clone();
        moved.operator_quota = Some(QuotaOverrides::default());
        assert_eq!(
            validate(&moved, &installed, &bounds, after_lowering).map_err(|e| e.field),
            Err("quota".to_owned())
        );
        let mut moved = lowered.clone();
        moved.operator_limits.clear();
        assert_eq!(
            validate(&moved, &installed, &bounds, after_lowering).map_err(|e| e.field),
            Err("plugins.mt.limits".to_owned())
        );
    }

    #[test]
    fn a_private_address_needs_the_operators_listing() {
        let tenant = doc("[[plugins]]\nname = \"mt\"\nallowed_hosts = [\"169.254.169.254\"]\n");
        let err = check(&tenant).expect_err("refused");
        assert_eq!(err.field, "plugins.mt.allowed_hosts[0]");
        assert!(err.message.contains("operator"), "{err}");
        let mut bounds = bounds();
        bounds.private_hosts =
            Arc::new(PrivateHosts::parse(&["169.254.169.254".into()]).expect("hosts"));
        let installed = |_: &str| Some(Installed::NotLoaded);
        assert_eq!(
            validate(&tenant, &installed, &bounds, Granter::Operator),
            Ok(())
        );
    }

    #[test]
    fn only_the_operator_points_a_plugin_at_a_private_host() {
        let mut bounds = bounds();
        bounds.private_hosts =
            Arc::new(PrivateHosts::parse(&["mt.internal".into()]).expect("hosts"));
        let installed = |_: &str| Some(Installed::NotLoaded);
        let before = doc("[[plugins]]\nname = \"mt\"\n");
        let admin = Granter::TenantAdmin { before: &before };
        for host in ["mt.internal", "*.internal", "mt.internal:8080"] {
            let granted = doc(&format!(
                "[[plugins]]\nname = \"mt\"\nallowed_hosts = [{host:?}]\n"
            ));
            let err = validate(&granted, &installed, &bounds, admin).expect_err(host);
            assert_eq!(err.field, "plugins.mt.allowed_hosts[0]", "{host}");
            assert!(err.message.contains("'mt.internal'"), "{err}");
            assert_eq!(
                validate(&granted, &installed, &bounds, Granter::Operator),
                Ok(()),
                "{host}"
            );
        }
        // What the operator granted stays through the tenant admin's other edits.
        let granted = doc("[[plugins]]\nname = \"mt\"\nallowed_hosts = [\"mt.internal\"]\n");
        let mut edited = granted.clone();
        edited.plugins[0].kv = true;
        let admin = Granter::TenantAdmin { before: &granted };
        assert_eq!(validate(&edited, &installed, &bounds, admin), Ok(()));
        // A public host is anyone's.
        let public = doc("[[plugins]]\nname = \"mt\"\nallowed_hosts = [\"api.deepl.com\"]\n");
        let admin = Granter::TenantAdmin { before: &before };
        assert_eq!(validate(&public, &installed, &bounds, admin), Ok(()));
    }

    #[test]
    fn orders_name_every_plugin_once() {
        let mut tenant = doc("[[plugins]]\nname = \"mt\"\n[[plugins]]\nname = \"tone\"\n");
        tenant
            .pipelines
            .insert("agent-reply-drafted".into(), vec!["tone".into()]);
        let err = check(&tenant).expect_err("refused");
        assert_eq!(err.field, "pipelines.agent-reply-drafted");
        assert!(err.message.contains("missing: mt"), "{err}");
    }

    #[test]
    fn a_kind_spelt_another_way_is_refused_and_custom_kinds_are_not() {
        let plugins = "[[plugins]]\nname = \"mt\"\n[[plugins]]\nname = \"tone\"\n";
        let order = || vec!["tone".to_owned(), "mt".to_owned()];
        for misspelt in [
            "agent_reply_drafted",
            "AGENT-REPLY-DRAFTED",
            "EVENT_KIND_AGENT_REPLY_DRAFTED",
        ] {
            let mut tenant = doc(plugins);
            tenant.pipelines.insert(misspelt.into(), order());
            let err = check(&tenant).expect_err(misspelt);
            assert_eq!(err.field, format!("pipelines.{misspelt}"));
            assert!(err.message.contains("'agent-reply-drafted'"), "{err}");
        }
        for fine in ["agent-reply-drafted", "refund-issued"] {
            let mut tenant = doc(plugins);
            tenant.pipelines.insert(fine.into(), order());
            assert_eq!(check(&tenant), Ok(()), "{fine}");
        }
        // A document stored before the rule keeps working, and can be edited:
        // only what changes is held to it.
        let mut stored = doc(plugins);
        stored
            .pipelines
            .insert("agent_reply_drafted".into(), order());
        stored.plugins[0].kv_read = vec!["mt".into()];
        let mut edited = stored.clone();
        edited.plugins[1].kv = true;
        assert_eq!(check_changes(&edited, &stored), Ok(()));
        edited.plugins[0].kv_read.push("tone".into());
        assert_eq!(
            check_changes(&edited, &stored)
                .expect_err("kv_read changed")
                .field,
            "plugins.mt.kv_read[0]"
        );
    }

    #[test]
    fn who_granted_an_allowed_host_is_kept_through_edits() {
        let private = PrivateHosts::parse(&["localhost".to_owned()]).expect("hosts");
        let grant = |hosts: &[&str]| {
            doc(&format!(
                "[[plugins]]\nname = \"mt\"\nallowed_hosts = [{}]\n",
                hosts
                    .iter()
                    .map(|h| format!("\"{h}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        };
        let recorded = |doc: &TenantDoc| doc.operator_hosts.as_ref().map(|m| m["mt"].clone());
        // A document from before the record: what reaches a listed host now was
        // reaching it already; a name that reaches none does not count later.
        let legacy = grant(&["localhost:8080", "*.svc.cluster.local"]);
        let mut edited = legacy.clone();
        record_operator_hosts(&mut edited, &legacy, false, &private);
        assert_eq!(recorded(&edited), Some(vec!["localhost:8080".to_owned()]));
        // The tenant admin adds an entry: not the operator's.
        let mut added = grant(&["localhost:8080", "*.svc.cluster.local", "localhost:9"]);
        record_operator_hosts(&mut added, &edited, false, &private);
        assert_eq!(recorded(&added), Some(vec!["localhost:8080".to_owned()]));
        // The operator's edit of something else makes it no more theirs; the
        // operator's own addition is.
        let mut by_operator = added.clone();
        by_operator.plugins[0]
            .allowed_hosts
            .push("api.example.com".into());
        record_operator_hosts(&mut by_operator, &added, true, &private);
        assert_eq!(
            recorded(&by_operator),
            Some(vec![
                "localhost:8080".to_owned(),
                "api.example.com".to_owned()
            ])
        );
    }

    #[test]
    fn a_plugin_not_loaded_yet_has_its_settings_checked_later() {
        let tenant = doc("[[plugins]]\nname = \"later\"\nsettings = { anything = \"x\" }\n");
        let installed = |_: &str| Some(Installed::NotLoaded);
        assert_eq!(
            validate(&tenant, &installed, &bounds(), Granter::Operator),
            Ok(())
        );
    }

    #[test]
    fn a_zero_quota_is_refused() {
        let mut tenant = TenantDoc::default();
        tenant.quota.burst = Some(0);
        assert_eq!(check(&tenant).expect_err("refused").field, "quota.burst");
    }

    #[test]
    fn a_long_id_is_shown_cut_at_a_character_boundary() {
        assert_eq!(shown_id("acme"), "acme");
        let long = "é".repeat(MAX_TENANT_ID);
        let shown = shown_id(&long);
        assert!(shown.len() <= MAX_TENANT_ID + "…".len(), "{}", shown.len());
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn tenant_ids_follow_one_rule() {
        for good in ["acme", "acme.eu-1_b", &"a".repeat(MAX_TENANT_ID)] {
            assert!(check_tenant_id(good).is_ok(), "{good}");
        }
        for bad in ["", "ac me", "a/b", "ü", &"a".repeat(MAX_TENANT_ID + 1)] {
            assert!(check_tenant_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_secrets_value_is_taken_out_and_never_serialized() {
        let mut grant = doc(
            "[[plugins]]\nname = \"mt\"\nallowed_hosts = [\"api.deepl.com\"]\n\
             secrets = [{ host = \"api.deepl.com\", header = \"Authorization\", value = \"sekrit\" }]\n",
        )
        .plugins
        .remove(0);
        let json = serde_json::to_string(&grant).expect("json");
        assert!(!json.contains("sekrit"), "{json}");
        assert!(!format!("{grant:?}").contains("sekrit"));
        assert_eq!(grant.secrets[0].take_value().as_deref(), Ok("sekrit"));
        assert!(grant.secrets[0].take_value().is_err(), "taken once");
        let both = "[[plugins]]\nname = \"mt\"\nsecrets = [{ host = \"h\", header = \"A\" }]\n";
        assert!(
            doc(both).plugins[0].secrets[0]
                .clone()
                .take_value()
                .is_err()
        );
    }
}
