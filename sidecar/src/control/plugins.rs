//! The installed plugins through the control plane: install (or upgrade, with
//! the signature checked when keys are trusted), roll back, remove, and list them
//! with who signed each version and which tenants use it. An upgrade or a
//! rollback keeps every tenant's settings valid, and with trusted keys neither
//! activates a version none of them signed.

use super::*;

impl ControlPlane {
    /// Installs a plugin, or upgrades the one of that name. The signature is
    /// checked first when keys are trusted; then the component must load.
    pub async fn install_plugin(
        &self,
        actor: &str,
        name: Option<&str>,
        bytes: Vec<u8>,
        signature: Option<&str>,
    ) -> Result<InstalledPlugin, ControlError> {
        let signer = if self.trusted.is_empty() {
            None
        } else {
            let key = self.trusted.verify(&bytes, signature)?;
            tracing::info!(key, "plugin signature verified");
            Some(key)
        };
        let loaded = self
            .load_bytes(&bytes, std::path::Path::new("uploaded component"))
            .await?;
        let name = name
            .filter(|n| !n.is_empty())
            .unwrap_or(&loaded.manifest.name)
            .to_owned();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(invalid("name", format!("'{name}' is not a plugin name")));
        }
        let state = self.store.control_state().await?;
        let current = state.plugins.iter().find(|p| p.name == name);
        let stored = self.stored(&loaded.digest).await?;
        if let Some(row) = current.filter(|p| p.active == loaded.digest) {
            if stored == Stored::Intact {
                return Err(ControlError::AlreadyExists(format!(
                    "plugin '{name}' already runs this component (sha256:{})",
                    loaded.digest
                )));
            }
            self.repair_plugin(actor, row, &loaded, bytes, signature, stored)
                .await?;
            self.remember_signer(&loaded.digest, signer);
            return self.installed_plugin(&name).await;
        }
        let before = match current {
            Some(row) => match self.plugin_version(&row.active).await {
                Ok(active) => Some(active),
                // One this replica cannot load (damaged in the store): replaced.
                Err(e) if e.is_unloadable() => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        if current.is_some() {
            let change = format!("upgrade '{name}' to {}", loaded.manifest.version);
            self.check_tenants_with(&state, &name, &loaded, &change)
                .await?;
        }
        let audit = NewAuditEntry {
            actor: actor.to_owned(),
            tenant: None,
            action: if current.is_some() {
                "plugin.upgrade".into()
            } else {
                "plugin.install".into()
            },
            target: name.clone(),
            before: before.as_ref().map(|p| version_json(p)),
            after: Some({
                let mut after = version_value(&loaded);
                if stored == Stored::Damaged {
                    after["repaired"] = "the stored component was damaged".into();
                }
                after.to_string()
            }),
        };
        // A version stored before and damaged since (one rolled back from)
        // gets its bytes back.
        let repair = (stored == Stored::Damaged).then(|| ControlWrite::RepairPluginBlob {
            digest: loaded.digest.clone(),
            bytes: bytes.clone(),
        });
        let mut writes = vec![ControlWrite::PutPluginBlob(PluginBlob {
            digest: loaded.digest.clone(),
            name: name.clone(),
            version: loaded.manifest.version.clone(),
            bytes,
            signature: signature.map(str::to_owned),
            installed_at_ms: crate::store::now_ms(),
        })];
        writes.extend(repair);
        writes.push(ControlWrite::SetPlugin {
            name: name.clone(),
            active: Some(loaded.digest.clone()),
            previous: current.map(|p| p.active.clone()),
            expected_active: current.map(|p| p.active.clone()),
        });
        self.store.apply(writes, audit).await?;
        self.remember_signer(&loaded.digest, signer);
        self.installed_plugin(&name).await
    }

    /// Notes the trusted key that signed a version just installed.
    fn remember_signer(&self, digest: &str, signer: Option<String>) {
        if let Some(key) = signer {
            self.signers.lock().insert(digest.to_owned(), key);
        }
    }

    /// Returns a plugin to the version its last upgrade replaced.
    pub async fn rollback_plugin(
        &self,
        actor: &str,
        name: &str,
    ) -> Result<InstalledPlugin, ControlError> {
        let state = self.store.control_state().await?;
        let row = installed_row(&state, name)?;
        let previous = row.previous.clone().ok_or_else(|| {
            ControlError::FailedPrecondition(format!(
                "plugin '{name}' has no earlier version to roll back to"
            ))
        })?;
        // The active version need not load here: rolling back from one damaged
        // in the store, or one this replica is too old for, is what it is for.
        let from = self.audited_version(&row.active).await?;
        let to = self.plugin_version(&previous).await?;
        let change = format!("roll back '{name}' to {}", to.manifest.version);
        // With trusted keys, no code runs that none of them signed: the version
        // replaced may have been installed before the keys, or from the file.
        if !self.trusted.is_empty() && self.signer(&previous).await?.is_none() {
            return Err(ControlError::FailedPrecondition(format!(
                "cannot {change}: that version is signed by none of the trusted keys"
            )));
        }
        self.check_tenants_with(&state, name, &to, &change).await?;
        let audit = NewAuditEntry {
            actor: actor.to_owned(),
            tenant: None,
            action: "plugin.rollback".into(),
            target: name.to_owned(),
            before: Some(from),
            after: Some(version_json(&to)),
        };
        self.store
            .apply(
                vec![ControlWrite::SetPlugin {
                    name: name.to_owned(),
                    active: Some(previous),
                    previous: Some(row.active.clone()),
                    expected_active: Some(row.active.clone()),
                }],
                audit,
            )
            .await?;
        self.installed_plugin(name).await
    }

    /// Uninstalls a plugin no tenant names any more, whether or not its active
    /// version loads here.
    pub async fn remove_plugin(&self, actor: &str, name: &str) -> Result<(), ControlError> {
        let state = self.store.control_state().await?;
        let row = installed_row(&state, name)?;
        let used_by = tenants_using(&state, name)?;
        if !used_by.is_empty() {
            return Err(ControlError::FailedPrecondition(format!(
                "plugin '{name}' is still in the pipeline of tenant(s) {}: detach it first",
                used_by.join(", ")
            )));
        }
        let audit = NewAuditEntry {
            actor: actor.to_owned(),
            tenant: None,
            action: "plugin.remove".into(),
            target: name.to_owned(),
            before: Some(self.audited_version(&row.active).await?),
            after: None,
        };
        self.store
            .apply(
                vec![ControlWrite::SetPlugin {
                    name: name.to_owned(),
                    active: None,
                    previous: None,
                    expected_active: Some(row.active.clone()),
                }],
                audit,
            )
            .await?;
        Ok(())
    }

    /// Every installed plugin, by name.
    pub async fn list_plugins(&self) -> Result<Vec<InstalledPlugin>, ControlError> {
        let state = self.store.control_state().await?;
        let mut out = Vec::new();
        for row in &state.plugins {
            match self.describe(row, &state).await {
                Ok(plugin) => out.push(plugin),
                // Logged when it was left out of the pipelines.
                Err(e) if e.is_unloadable() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    async fn installed_plugin(&self, name: &str) -> Result<InstalledPlugin, ControlError> {
        let state = self.store.control_state().await?;
        let row = installed_row(&state, name)?;
        self.describe(row, &state).await
    }

    /// Checks that every tenant's settings stay valid with `version` installed as
    /// `name` (`change` says what would do that, for the error).
    async fn check_tenants_with(
        &self,
        state: &ControlState,
        name: &str,
        version: &Arc<LoadedPlugin>,
        change: &str,
    ) -> Result<(), ControlError> {
        let mut plugins = self.plugins_of(state).await?;
        plugins.insert(name.to_owned(), version.clone());
        let unloadable = unloadable_of(state, &plugins);
        for tenant in tenants_of(state)? {
            let granter = Granter::Operator;
            validate_tenant_here(&tenant.doc, &plugins, &unloadable, &self.bounds, granter)
                .map_err(|e| {
                    ControlError::FailedPrecondition(format!(
                        "cannot {change}: tenant '{}' {e}",
                        tenant.id
                    ))
                })?;
        }
        Ok(())
    }

    /// The trusted key that signed a version, if keys are trusted and one did.
    async fn signer(&self, digest: &str) -> Result<Option<String>, ControlError> {
        if self.trusted.is_empty() {
            return Ok(None);
        }
        let known = self.signers.lock().get(digest).cloned();
        if known.is_some() {
            return Ok(known);
        }
        let Some(blob) = self.store.plugin_blob(digest).await? else {
            return Ok(None);
        };
        // Bytes damaged in the store are signed by no one, until repaired.
        if !blob.is_intact() {
            return Ok(None);
        }
        let signer = self
            .trusted
            .verify(&blob.bytes, blob.signature.as_deref())
            .ok();
        if let Some(key) = &signer {
            self.signers.lock().insert(digest.to_owned(), key.clone());
        }
        Ok(signer)
    }

    async fn describe(
        &self,
        row: &crate::store::PluginRow,
        state: &ControlState,
    ) -> Result<InstalledPlugin, ControlError> {
        let plugin = self.plugin_version(&row.active).await?;
        let previous = match &row.previous {
            Some(digest) => match self.plugin_version(digest).await {
                Ok(version) => Some((version.manifest.version.clone(), digest.clone())),
                // Not one to roll back to here.
                Err(e) if e.is_unloadable() => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let signed_by = self.signer(&row.active).await?;
        Ok(InstalledPlugin {
            name: row.name.clone(),
            plugin,
            previous,
            signed_by,
            used_by: tenants_using(state, &row.name)?,
        })
    }

    /// Installs `loaded`, whose digest `row` names, again: its stored bytes were
    /// damaged or missing. The plugin's versions are left as they are.
    async fn repair_plugin(
        &self,
        actor: &str,
        row: &crate::store::PluginRow,
        loaded: &Arc<LoadedPlugin>,
        bytes: Vec<u8>,
        signature: Option<&str>,
        stored: Stored,
    ) -> Result<(), ControlError> {
        let why = match stored {
            Stored::Absent => "the component installed is not stored",
            Stored::Damaged | Stored::Intact => "the stored component is not the one installed",
        };
        let audit = NewAuditEntry {
            actor: actor.to_owned(),
            tenant: None,
            action: "plugin.repair".into(),
            target: row.name.clone(),
            // Not `audited_version`: the bytes just uploaded are loaded by now.
            before: Some(
                serde_json::json!({ "digest": row.active, "unloadable": why }).to_string(),
            ),
            after: Some(version_json(loaded)),
        };
        let writes = vec![
            // For a signature the stored version lacked; its bytes are the next write's.
            ControlWrite::PutPluginBlob(PluginBlob {
                digest: loaded.digest.clone(),
                name: row.name.clone(),
                version: loaded.manifest.version.clone(),
                bytes: bytes.clone(),
                signature: signature.map(str::to_owned),
                installed_at_ms: crate::store::now_ms(),
            }),
            // The version's bytes only: right whatever another change did to
            // the plugin meanwhile (its versions are not rewritten from what
            // was read before this transaction).
            ControlWrite::RepairPluginBlob {
                digest: loaded.digest.clone(),
                bytes,
            },
        ];
        self.store.apply(writes, audit).await?;
        tracing::info!(plugin = %row.name, "damaged component installed again");
        Ok(())
    }

    /// How the store holds version `digest`.
    async fn stored(&self, digest: &str) -> Result<Stored, ControlError> {
        Ok(match self.store.plugin_blob(digest).await? {
            None => Stored::Absent,
            Some(blob) if blob.is_intact() => Stored::Intact,
            Some(_) => Stored::Damaged,
        })
    }

    /// What the audit log says of a version: its number and digest, or, when it
    /// cannot be loaded here, its digest and why.
    async fn audited_version(&self, digest: &str) -> Result<String, ControlError> {
        match self.plugin_version(digest).await {
            Ok(version) => Ok(version_json(&version)),
            Err(e) if e.is_unloadable() => Ok(serde_json::json!({
                "digest": digest,
                "unloadable": e.to_string(),
            })
            .to_string()),
            Err(e) => Err(e),
        }
    }
}

/// How the store holds a plugin version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    Absent,
    /// The very bytes its digest names.
    Intact,
    /// Other bytes under its digest (a disk, a hand edit).
    Damaged,
}

/// Plugin `name`'s row in `state`, or NOT_FOUND.
fn installed_row<'a>(
    state: &'a ControlState,
    name: &str,
) -> Result<&'a crate::store::PluginRow, ControlError> {
    state
        .plugins
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| ControlError::NotFound(format!("no installed plugin '{name}'")))
}

/// The tenants whose pipelines name plugin `name`.
fn tenants_using(state: &ControlState, name: &str) -> Result<Vec<String>, ControlError> {
    Ok(tenants_of(state)?
        .into_iter()
        .filter(|tenant| tenant.doc.plugins.iter().any(|g| g.name == name))
        .map(|tenant| tenant.id)
        .collect())
}
