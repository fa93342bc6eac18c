//! What admins run through a plugin's own code, outside the event path: dataset
//! imports and plugin commands (the `tools` export of contract 0.2.0).
//!
//! The host knows no plugin. It reads what a plugin offers from its manifest,
//! runs the plugin's code in the sandbox, and applies the result: a dataset's
//! entries replace the dataset in the plugin's own storage of the tenant in one
//! transaction, with its audit entry when the admin API is on; a command's text and files go
//! back to the caller (the CLI writes the files). Dataset parsing gets the
//! plugin's settings and nothing else; a command run for a tenant gets that
//! tenant's grant, plus read access to its contact history.

use std::sync::Arc;

use crate::config::Limits;
use crate::pipeline::Sidecar;
use crate::runtime::{
    CommandInput, CommandOutput, CommandSpec, Grant, LoadedPlugin, MAX_KV_KEY, MAX_KV_VALUE,
    Runtime,
};
use crate::store::{DataOf, ImportAudit, NewAuditEntry, StoreError};

/// Deadline of a dataset import or a command: admins' work on whole datasets (a
/// week's staffing plan, a catalog) takes longer than an event's plugin call.
pub const TOOL_TIMEOUT_MS: u64 = 60_000;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Records in the new dataset, as the plugin counted them.
    pub records: u64,
    /// Storage entries of the dataset replaced.
    pub replaced: u64,
    /// One line describing the new data, for people and the audit log.
    pub summary: String,
}

/// Why a dataset import or a command did not run; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("no tenant '{0}'")]
    UnknownTenant(String),
    #[error(
        "tenant '{0}' cannot be served by this replica (its settings, a secret or a plugin \
         it needs cannot be loaded here; the sidecar's log says why)"
    )]
    Unserved(String),
    #[error("no installed plugin is named '{0}'")]
    UnknownPlugin(String),
    #[error("plugin '{plugin}' is not in the pipeline of tenant '{tenant}' (or is disabled there)")]
    NotInPipeline { tenant: String, plugin: String },
    #[error("plugin '{plugin}' offers no {what} '{name}' ({offered})")]
    NotOffered {
        plugin: String,
        what: &'static str,
        name: String,
        offered: String,
    },
    #[error("command '{command}' of plugin '{plugin}' runs for a tenant: give --tenant")]
    NeedsTenant { plugin: String, command: String },
    #[error("plugin '{plugin}': {message}")]
    Plugin { plugin: String, message: String },
    #[error(
        "plugin '{plugin}': its storage for the tenant would weigh {weight} bytes with this \
         import, past its quota of {quota} bytes (runtime.kv_quota_mb)"
    )]
    OverQuota {
        plugin: String,
        weight: u64,
        quota: u64,
    },
    #[error("the sidecar is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a plugin offers, for the "offers no ..." errors.
fn offered<'a>(names: impl Iterator<Item = &'a str>, contract: &str) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        format!("it offers none; contract {contract}")
    } else {
        format!("it offers: {}", names.join(", "))
    }
}

impl Sidecar {
    /// The installed plugin named `name`, to read what it offers.
    pub fn installed_plugin(&self, name: &str) -> Result<Arc<LoadedPlugin>, ToolError> {
        self.plugin_named(name)
            .ok_or_else(|| ToolError::UnknownPlugin(name.to_owned()))
    }

    /// Checks `content` with the plugin's own parser and replaces `dataset` of
    /// `plugin` (its installed name) for `tenant` with it, atomically; audited as
    /// `actor` when the admin API is on.
    pub async fn import_dataset(
        &self,
        actor: &str,
        tenant: &str,
        plugin: &str,
        dataset: &str,
        format: &str,
        content: &[u8],
    ) -> Result<Imported, ToolError> {
        let (loaded, grant) = self.tenant_plugin(tenant, plugin)?;
        let offers = &loaded.manifest.datasets;
        let Some(spec) = offers.iter().find(|d| d.name == dataset) else {
            return Err(ToolError::NotOffered {
                plugin: plugin.to_owned(),
                what: "dataset",
                name: dataset.to_owned(),
                offered: offered(
                    offers.iter().map(|d| d.name.as_str()),
                    loaded.contract.version(),
                ),
            });
        };
        if !spec.formats.iter().any(|f| f == format) {
            return Err(ToolError::NotOffered {
                plugin: plugin.to_owned(),
                what: "format",
                name: format.to_owned(),
                offered: format!("dataset '{dataset}' is read as {}", spec.formats.join(", ")),
            });
        }
        // Parsing needs the plugin's settings, nothing else: the host writes.
        let mut parse_grant = Grant::nothing(tenant, plugin, tool_limits(grant.limits));
        parse_grant.settings = grant.settings.clone();
        let slot = self
            .tool_slot(Some(tenant))
            .await
            .ok_or(ToolError::ShuttingDown)?;
        let entries = self
            .runtime()
            .import_dataset(&loaded, &Arc::new(parse_grant), dataset, format, content)
            .await
            .map_err(|failure| ToolError::Plugin {
                plugin: plugin.to_owned(),
                message: failure.message,
            })?;
        drop(slot);
        check_entries(plugin, &entries.prefix, &entries.entries)?;
        // Audited where tenants live in the store (the admin API is on), in the
        // import's own transaction: an import is never left unaudited.
        let audit = self.control().is_some().then(|| ImportAudit {
            actor: actor.to_owned(),
            target: format!("{plugin}/{dataset}"),
            after: serde_json::json!({
                "records": entries.records,
                "summary": entries.summary,
            })
            .to_string(),
        });
        let replaced = self
            .store()
            .kv_replace_prefix(&grant.of, plugin, &entries.prefix, entries.entries, audit)
            .await
            .map_err(|e| match e {
                StoreError::OverQuota { weight, quota } => ToolError::OverQuota {
                    plugin: plugin.to_owned(),
                    weight,
                    quota,
                },
                // What the plugin returned cannot be stored (a key with a NUL).
                StoreError::BadRequest(message) => ToolError::Plugin {
                    plugin: plugin.to_owned(),
                    message,
                },
                e => e.into(),
            })?;
        Ok(Imported {
            records: u64::from(entries.records),
            replaced: replaced as u64,
            summary: entries.summary,
        })
    }

    /// Runs `command` of `plugin` for `tenant` as [`Sidecar::run_command`] does, and
    /// records it in the audit log as `actor`'s (the command may change the
    /// plugin's storage: a glossary term, a memory).
    pub async fn run_command_audited(
        &self,
        actor: &str,
        tenant: &str,
        plugin: &str,
        command: &str,
        input: CommandInput,
    ) -> Result<CommandOutput, ToolError> {
        // Each value as the audit keeps it: its first bytes and its length (a
        // value may be a whole term list, of megabytes, kept forever).
        let values: Vec<String> = input
            .values
            .iter()
            .map(|(name, value)| format!("{name}={}", audited_value(value)))
            .collect();
        let files: Vec<String> = input.files.iter().map(|(name, _)| name.clone()).collect();
        let (result, of) = self
            .run_tenant_command(tenant, plugin, command, input)
            .await;
        // A command that failed once it ran may have written to storage too:
        // recorded, with its error. One refused before it ran changed nothing.
        let ran = match &result {
            Ok(_) => Some(serde_json::json!({ "values": values, "files": files })),
            Err(e @ ToolError::Plugin { .. }) => Some(serde_json::json!({
                "values": values,
                "files": files,
                "error": e.to_string(),
            })),
            Err(_) => None,
        };
        if let (Some(after), Some(of), Some(_)) = (ran, of, self.control()) {
            let audit = NewAuditEntry {
                actor: actor.to_owned(),
                tenant: Some(tenant.to_owned()),
                action: "plugin.command".into(),
                target: format!("{plugin}/{command}"),
                before: None,
                after: Some(after.to_string()),
            };
            let audited = self.store().record_audit(&of, audit).await;
            match (&result, audited) {
                (_, Ok(_)) => {}
                // The command's own error says more than the audit's.
                (Err(_), Err(e)) => tracing::warn!(
                    plugin,
                    command,
                    "a failed command could not be audited: {e}"
                ),
                (Ok(_), Err(e)) => return Err(e.into()),
            }
        }
        result
    }

    /// Runs `command` of `plugin` with `input`: for `tenant` with its grant and
    /// read access to its contact history, or, for a command that needs no
    /// tenant, with nothing granted.
    pub async fn run_command(
        &self,
        tenant: Option<&str>,
        plugin: &str,
        command: &str,
        mut input: CommandInput,
    ) -> Result<CommandOutput, ToolError> {
        let Some(tenant) = tenant else {
            let loaded = self.installed_plugin(plugin)?;
            tenantless_spec(&loaded, plugin, command)?;
            input.tenant = None;
            let limits = self.default_limits();
            let _slot = self.tool_slot(None).await.ok_or(ToolError::ShuttingDown)?;
            return run_tenantless(self.runtime(), &loaded, plugin, command, &input, limits).await;
        };
        self.run_tenant_command(tenant, plugin, command, input)
            .await
            .0
    }

    /// Runs `command` of `plugin` for `tenant`; with the outcome, whose data it
    /// ran with (the tenant's incarnation then), if it ran.
    async fn run_tenant_command(
        &self,
        tenant: &str,
        plugin: &str,
        command: &str,
        mut input: CommandInput,
    ) -> (Result<CommandOutput, ToolError>, Option<Arc<DataOf>>) {
        let (loaded, grant) = match self.command_grant(tenant, plugin, command) {
            Ok(found) => found,
            Err(e) => return (Err(e), None),
        };
        let of = grant.of.clone();
        input.tenant = Some(tenant.to_owned());
        let Some(_slot) = self.tool_slot(Some(tenant)).await else {
            return (Err(ToolError::ShuttingDown), None);
        };
        let outcome = call(self.runtime(), &loaded, grant, plugin, command, &input).await;
        (outcome, Some(of))
    }

    /// What `command` of `plugin` runs with for `tenant`: the loaded plugin and
    /// the tenant's grant, with the tools' limits and the contact history.
    fn command_grant(
        &self,
        tenant: &str,
        plugin: &str,
        command: &str,
    ) -> Result<(Arc<LoadedPlugin>, Grant), ToolError> {
        // Checked before the tenant, as for a command that needs none.
        command_spec(&*self.installed_plugin(plugin)?, plugin, command)?;
        let (loaded, grant) = self.tenant_plugin(tenant, plugin)?;
        let grant = Grant {
            limits: tool_limits(grant.limits),
            contact_history: Some(self.store().clone()),
            ..Grant::clone(&grant)
        };
        Ok((loaded, grant))
    }

    /// The tenant's step for `plugin`: the loaded plugin and the tenant's grant.
    fn tenant_plugin(
        &self,
        tenant: &str,
        plugin: &str,
    ) -> Result<(Arc<LoadedPlugin>, Arc<Grant>), ToolError> {
        match self.step_of(tenant, plugin) {
            Some(found) => Ok(found),
            None if self.unserved(tenant).is_some() => Err(ToolError::Unserved(tenant.to_owned())),
            None if !self.has_tenant(tenant) => Err(ToolError::UnknownTenant(tenant.to_owned())),
            None => Err(ToolError::NotInPipeline {
                tenant: tenant.to_owned(),
                plugin: plugin.to_owned(),
            }),
        }
    }
}

/// The spec of `command` in the plugin's manifest.
pub fn command_spec<'p>(
    loaded: &'p LoadedPlugin,
    plugin: &str,
    command: &str,
) -> Result<&'p CommandSpec, ToolError> {
    let commands = &loaded.manifest.commands;
    commands
        .iter()
        .find(|c| c.name == command)
        .ok_or_else(|| ToolError::NotOffered {
            plugin: plugin.to_owned(),
            what: "command",
            name: command.to_owned(),
            offered: offered(
                commands.iter().map(|c| c.name.as_str()),
                loaded.contract.version(),
            ),
        })
}

/// The spec of a command that runs without a tenant; refused when the command
/// needs one.
pub fn tenantless_spec<'p>(
    loaded: &'p LoadedPlugin,
    plugin: &str,
    command: &str,
) -> Result<&'p CommandSpec, ToolError> {
    let spec = command_spec(loaded, plugin, command)?;
    if spec.needs_tenant {
        return Err(ToolError::NeedsTenant {
            plugin: plugin.to_owned(),
            command: command.to_owned(),
        });
    }
    Ok(spec)
}

/// Runs a command that needs no tenant (see [`tenantless_spec`]): nothing
/// granted, `limits` with the tools' deadline. The CLI runs such commands from a
/// component alone, without a sidecar.
pub async fn run_tenantless(
    runtime: &Runtime,
    loaded: &LoadedPlugin,
    plugin: &str,
    command: &str,
    input: &CommandInput,
    limits: Limits,
) -> Result<CommandOutput, ToolError> {
    let grant = Grant::nothing("", plugin, tool_limits(limits));
    call(runtime, loaded, grant, plugin, command, input).await
}

/// Calls the command in the sandbox, the plugin's failure as a [`ToolError`].
async fn call(
    runtime: &Runtime,
    loaded: &LoadedPlugin,
    grant: Grant,
    plugin: &str,
    command: &str,
    input: &CommandInput,
) -> Result<CommandOutput, ToolError> {
    runtime
        .run_command(loaded, &Arc::new(grant), command, input)
        .await
        .map_err(|failure| ToolError::Plugin {
            plugin: plugin.to_owned(),
            message: failure.message,
        })
}

/// Limits with the tools' deadline.
fn tool_limits(limits: Limits) -> Limits {
    Limits {
        timeout_ms: TOOL_TIMEOUT_MS,
        ..limits
    }
}

/// A plugin's dataset may only replace keys of its own, under a prefix it names,
/// within the sizes its own writes are held to.
fn check_entries(
    plugin: &str,
    prefix: &str,
    entries: &[(String, Vec<u8>)],
) -> Result<(), ToolError> {
    let refuse = |message: String| {
        Err(ToolError::Plugin {
            plugin: plugin.to_owned(),
            message,
        })
    };
    if prefix.is_empty() || prefix.starts_with('@') {
        // An empty prefix would wipe all of the plugin's storage; `@` names others'.
        return refuse(format!("invalid dataset prefix {prefix:?}"));
    }
    for (key, value) in entries {
        if !key.starts_with(prefix) {
            return refuse(format!(
                "dataset entry '{key}' is outside its prefix '{prefix}'"
            ));
        }
        if key.len() > MAX_KV_KEY || value.len() > MAX_KV_VALUE {
            return refuse(format!(
                "dataset entry '{key}' exceeds the storage limits ({MAX_KV_KEY}-byte keys, \
                 {MAX_KV_VALUE}-byte values)"
            ));
        }
    }
    Ok(())
}

/// The most of one command value an audit entry keeps, in bytes.
pub const MAX_AUDITED_VALUE: usize = 256;

/// A command value as the audit log keeps it: whole when short, else its first
/// [`MAX_AUDITED_VALUE`] bytes (at a character boundary) and its length.
fn audited_value(value: &str) -> String {
    if value.len() <= MAX_AUDITED_VALUE {
        return value.to_owned();
    }
    let head = &value[..value.floor_char_boundary(MAX_AUDITED_VALUE)];
    format!("{head}… ({} bytes)", value.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_stay_under_their_own_prefix() {
        let ok = vec![("roster".to_owned(), b"{}".to_vec())];
        assert!(check_entries("p", "roster", &ok).is_ok());
        let outside = vec![("catalog/1".to_owned(), Vec::new())];
        let err = check_entries("p", "roster", &outside).expect_err("refused");
        assert!(err.to_string().contains("outside its prefix"), "{err}");
        assert!(check_entries("p", "", &[]).is_err());
        assert!(check_entries("p", "@other/", &[]).is_err());
    }

    /// A term list passed as a value is not kept whole in the audit, forever.
    #[test]
    fn audited_values_keep_their_start_and_length() {
        assert_eq!(audited_value("es"), "es");
        // Three-byte characters: byte 256 falls inside one.
        let long = "語".repeat(MAX_AUDITED_VALUE);
        let kept = audited_value(&long);
        assert!(
            kept.ends_with(&format!("… ({} bytes)", long.len())),
            "{kept}"
        );
        assert!(kept.len() < MAX_AUDITED_VALUE + 32, "{}", kept.len());
    }

    #[test]
    fn oversized_entries_are_refused() {
        let big = vec![("k/".repeat(MAX_KV_KEY), Vec::new())];
        assert!(check_entries("p", "k/", &big).is_err());
        let value = vec![("k/1".to_owned(), vec![0; MAX_KV_VALUE + 1])];
        assert!(check_entries("p", "k/", &value).is_err());
    }
}
