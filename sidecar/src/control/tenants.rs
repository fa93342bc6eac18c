//! Tenants through the control plane: reading them, and creating, deleting and
//! editing a tenant's document, its secrets, and detaching a plugin from its
//! pipeline — each change validated, stored with its audit entry in one
//! transaction, then applied.

use super::*;
use crate::limits::QuotaOverrides;

impl ControlPlane {
    /// Every tenant, ascending by id.
    pub async fn tenants(&self) -> Result<Vec<TenantState>, ControlError> {
        tenants_of(&self.store.control_state().await?)
    }

    /// One tenant.
    pub async fn tenant(&self, id: &str) -> Result<TenantState, ControlError> {
        tenant_of(&self.store.control_state().await?, id)
    }

    /// Creates an empty tenant. One an admin of some tenants creates gets the
    /// server's default quota no higher than their ceiling (`tenant_admins`):
    /// creating a tenant gives it a quota as much as setting one does.
    pub async fn create_tenant(
        &self,
        actor: &str,
        id: &str,
        by_tenant_admin: bool,
    ) -> Result<TenantState, ControlError> {
        check_tenant_id(id)?;
        // Only an admin of every tenant deletes one, and what they set for it
        // (a suspension, a lower quota) would not come back with it: an admin
        // of some tenants, whose token may still name it, does not create it
        // again.
        if by_tenant_admin
            && self
                .store
                .last_audit_id(id, "tenant.delete")
                .await?
                .is_some()
        {
            return Err(ControlError::FailedPrecondition(format!(
                "tenant '{id}' was deleted by an admin of every tenant: only such an admin \
                 may create it again"
            )));
        }
        let quota = match by_tenant_admin {
            true => self.bounds.quota.capped_by(self.bounds.tenant_admin_quota),
            false => QuotaOverrides::default(),
        };
        let doc = TenantDoc {
            incarnation: new_incarnation()?,
            quota,
            operator_hosts: Some(Default::default()),
            ..TenantDoc::default()
        };
        let audit = NewAuditEntry {
            actor: actor.to_owned(),
            tenant: Some(id.to_owned()),
            action: "tenant.create".into(),
            target: id.to_owned(),
            before: None,
            after: Some(to_json(&doc)),
        };
        let write = ControlWrite::PutTenant {
            id: id.to_owned(),
            doc: to_json(&doc),
            expected: None,
        };
        self.store
            .apply(vec![write], audit)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    ControlError::AlreadyExists(format!("tenant '{id}' already exists"))
                }
                other => other.into(),
            })?;
        self.tenant(id).await
    }

    /// Deletes a tenant with its secrets and plugin data.
    pub async fn delete_tenant(&self, actor: &str, id: &str) -> Result<(), ControlError> {
        let state = self.store.control_state().await?;
        let current = state
            .tenants
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| ControlError::NotFound(format!("unknown tenant '{id}'")))?;
        // One whose document cannot be read is deleted all the same (the way
        // out of a document damaged in the store), recorded as stored.
        let before = match parse_doc(id, &current.doc) {
            Ok(doc) => to_json(&doc),
            Err(_) => current.doc.clone(),
        };
        let audit = NewAuditEntry {
            actor: actor.to_owned(),
            tenant: Some(id.to_owned()),
            action: "tenant.delete".into(),
            target: id.to_owned(),
            before: Some(before),
            after: None,
        };
        self.store
            .apply(
                vec![ControlWrite::DeleteTenant {
                    id: id.to_owned(),
                    expected: current.revision,
                }],
                audit,
            )
            .await?;
        Ok(())
    }

    /// Applies `edit` to a tenant's document, validates the result and stores it
    /// with an audit entry naming `action` and `target`. `expected_revision` (when
    /// not 0) must match the stored one. Secret writes go in the same transaction.
    pub async fn edit_tenant(
        &self,
        request: TenantRequest<'_>,
        action: &str,
        target: &str,
        edit: TenantEdit<'_>,
        mut secret_writes: Vec<ControlWrite>,
    ) -> Result<TenantState, ControlError> {
        let TenantRequest {
            actor,
            tenant_admin,
            tenant: id,
            expected_revision,
        } = request;
        let state = self.store.control_state().await?;
        let current = tenant_of(&state, id)?;
        refuse_fields_of_newer_versions(&state, id)?;
        if expected_revision != 0 && expected_revision != current.revision {
            return Err(ControlError::Conflict(format!(
                "tenant '{id}' is at revision {}, not {expected_revision}: reload and retry",
                current.revision
            )));
        }
        let mut doc = current.doc.clone();
        let action = edit(&mut doc)?.unwrap_or(action);
        crate::grant::check_changes(&doc, &current.doc).map_err(|e| invalid(e.field, e.message))?;
        crate::grant::record_operator_hosts(
            &mut doc,
            &current.doc,
            !tenant_admin,
            &self.bounds.private_hosts,
        );
        let granter = if tenant_admin {
            Granter::TenantAdmin {
                before: &current.doc,
            }
        } else {
            Granter::Operator
        };
        let plugins = self.plugins_of(&state).await?;
        let unloadable = unloadable_of(&state, &plugins);
        validate_tenant_here(&doc, &plugins, &unloadable, &self.bounds, granter)?;
        let audit = NewAuditEntry {
            actor: actor.to_owned(),
            tenant: Some(id.to_owned()),
            action: action.to_owned(),
            target: target.to_owned(),
            before: Some(to_json(&current.doc)),
            after: Some(to_json(&doc)),
        };
        let mut writes = vec![ControlWrite::PutTenant {
            id: id.to_owned(),
            doc: to_json(&doc),
            expected: Some(current.revision),
        }];
        writes.append(&mut secret_writes);
        self.store.apply(writes, audit).await?;
        Ok(TenantState {
            id: id.to_owned(),
            doc,
            revision: current.revision.saturating_add(1),
        })
    }

    /// Sets a secret header of a tenant's plugin (write-only).
    pub async fn set_secret(
        &self,
        request: TenantRequest<'_>,
        plugin: &str,
        host: &str,
        header: &str,
        value: &str,
    ) -> Result<TenantState, ControlError> {
        let tenant = request.tenant;
        if value.is_empty() {
            return Err(invalid("value", "is empty"));
        }
        crate::runtime::http::check_secret(host, header, value)
            .map_err(|(field, why)| invalid(field, why))?;
        let row = self.seal(
            tenant,
            plugin,
            &SecretValue {
                host: host.to_owned(),
                header: header.to_owned(),
                value: value.to_owned(),
            },
        )?;
        let reference = SecretRef::named(host, header);
        let plugin_name = plugin.to_owned();
        self.edit_tenant(
            request,
            "secret.set",
            &format!("{plugin} {host} {header}"),
            Box::new(move |doc| {
                let grant = grant_mut(doc, &plugin_name)?;
                if !grant.secrets.contains(&reference) {
                    grant.secrets.push(reference);
                    grant.secrets.sort();
                }
                Ok(None)
            }),
            vec![ControlWrite::PutSecret(row)],
        )
        .await
    }

    /// Removes a secret header.
    pub async fn delete_secret(
        &self,
        request: TenantRequest<'_>,
        plugin: &str,
        host: &str,
        header: &str,
    ) -> Result<TenantState, ControlError> {
        let tenant = request.tenant;
        let reference = SecretRef::named(host, header);
        let plugin_name = plugin.to_owned();
        self.edit_tenant(
            request,
            "secret.delete",
            &format!("{plugin} {host} {header}"),
            Box::new(move |doc| {
                let grant = grant_mut(doc, &plugin_name)?;
                let before = grant.secrets.len();
                grant.secrets.retain(|s| s != &reference);
                if grant.secrets.len() == before {
                    return Err(ControlError::NotFound(format!(
                        "plugin '{plugin_name}' has no secret {} for {}",
                        reference.header, reference.host
                    )));
                }
                Ok(None)
            }),
            vec![ControlWrite::DeleteSecret {
                tenant: tenant.to_owned(),
                plugin: plugin.to_owned(),
                host: host.to_owned(),
                header: header.to_owned(),
            }],
        )
        .await
    }

    /// Takes a plugin out of a tenant's pipeline, with its secrets.
    pub async fn detach_plugin(
        &self,
        request: TenantRequest<'_>,
        plugin: &str,
    ) -> Result<TenantState, ControlError> {
        let tenant = request.tenant;
        let current = self.tenant(tenant).await?;
        let secret_writes = current
            .doc
            .plugins
            .iter()
            .filter(|g| g.name == plugin)
            .flat_map(|g| &g.secrets)
            .map(|s| ControlWrite::DeleteSecret {
                tenant: tenant.to_owned(),
                plugin: plugin.to_owned(),
                host: s.host.clone(),
                header: s.header.clone(),
            })
            .collect();
        let name = plugin.to_owned();
        self.edit_tenant(
            request,
            "plugin.detach",
            plugin,
            Box::new(move |doc| {
                grant_mut(doc, &name)?;
                doc.plugins.retain(|g| g.name != name);
                for order in doc.pipelines.values_mut() {
                    order.retain(|n| n != &name);
                }
                Ok(None)
            }),
            secret_writes,
        )
        .await
    }
}
