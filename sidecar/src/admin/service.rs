//! The admin service: who is calling (a token of `[[admin.users]]` or a client
//! certificate), what their scope allows, and each call's work with the control
//! plane.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tonic::{Request, Response, Status};

use super::convert::{
    isolation_from_pb, limits_from_pb, plugin_to_pb, quota_from_pb, tenant_to_pb, tool_status,
};
use crate::auth::{Caller, Callers, FailedSignIns};
use crate::config::{AdminSettings, TlsSettings};
use crate::control::{ControlError, ControlPlane, GrantDoc, TenantRequest, grant_mut};
use crate::limits::{LimitOverrides, QuotaOverrides};
use crate::pb;
use crate::pb::admin_service_server::AdminService;
use crate::pipeline::Sidecar;

/// Largest number of audit entries one call returns.
const MAX_AUDIT_PAGE: u32 = 1000;
/// How long an erasure or a tenant's deletion waits for the facts of recent
/// events to be written.
const FACTS_FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Who is calling the admin API.
#[derive(Debug, Clone)]
struct Admin {
    name: String,
    /// `None`: every tenant.
    scope: Option<Caller>,
}

impl Admin {
    fn may_manage(&self, tenant: &str) -> Result<(), Status> {
        match &self.scope {
            None => Ok(()),
            Some(caller) => caller.authorize(tenant),
        }
    }

    /// A change of `tenant` by this admin, once its scope allows it.
    fn change_of<'a>(
        &'a self,
        tenant: &'a str,
        expected_revision: u64,
    ) -> Result<TenantRequest<'a>, Status> {
        self.may_manage(tenant)?;
        Ok(TenantRequest {
            actor: &self.name,
            tenant_admin: !self.is_global(),
            tenant,
            expected_revision,
        })
    }

    fn is_global(&self) -> bool {
        self.scope.as_ref().is_none_or(Caller::is_global)
    }

    fn require_global(&self, what: &str) -> Result<(), Status> {
        if self.is_global() {
            Ok(())
        } else {
            Err(Status::permission_denied(format!(
                "'{}' may not {what}: it needs an admin of every tenant",
                self.name
            )))
        }
    }
}

/// The admin service over a sidecar whose admin API is configured.
#[derive(Debug, Clone)]
pub struct AdminApi {
    sidecar: Arc<Sidecar>,
    control: Arc<ControlPlane>,
    users: Arc<Callers>,
    /// Whether the listener verifies client certificates (mutual TLS).
    client_certificates: bool,
    max_component_bytes: usize,
    /// Slots of the reports being built (`GetReport`, the admin page's too).
    reports: Arc<Semaphore>,
    /// Addresses whose tokens failed lately (the admin page's sign-ins too).
    failed_sign_ins: Arc<FailedSignIns>,
}

impl AdminApi {
    pub(super) fn new(
        sidecar: Arc<Sidecar>,
        control: Arc<ControlPlane>,
        settings: &AdminSettings,
    ) -> Result<AdminApi, crate::config::ConfigError> {
        Ok(AdminApi {
            sidecar,
            control,
            users: Arc::new(Callers::from_config(&settings.users)?),
            client_certificates: TlsSettings::requires_client_certificates(settings.tls.as_ref()),
            max_component_bytes: settings.max_component_bytes,
            reports: Arc::new(Semaphore::new(crate::insights::api::MAX_REPORTS_AT_ONCE)),
            failed_sign_ins: Arc::default(),
        })
    }

    /// Refuses an admin of some tenants a command or an import for a tenant the
    /// operator suspended: they run under the tenant's grants (its secrets, its
    /// storage), which the operator's suspension stops for all but the operator.
    async fn unless_suspended_by_operator(
        &self,
        admin: &Admin,
        tenant: &str,
    ) -> Result<(), Status> {
        if admin.is_global() {
            return Ok(());
        }
        match self.control.tenant(tenant).await?.doc.suspended_by_operator {
            true => Err(Status::failed_precondition(format!(
                "tenant '{tenant}' is suspended by the operator: its plugins' commands and \
                 imports wait until an admin of every tenant resumes it"
            ))),
            false => Ok(()),
        }
    }

    fn identify<T>(&self, request: &Request<T>) -> Result<Admin, Status> {
        let has_token = request.metadata().get("authorization").is_some();
        if !has_token && self.client_certificates {
            // rustls verified the chain against the admin CA during the handshake.
            if let Some(cert) = request.peer_certs().as_ref().and_then(|c| c.first()) {
                use sha2::Digest;
                let id = hex::encode(&sha2::Sha256::digest(cert.as_ref())[..8]);
                return Ok(Admin {
                    name: format!("client-certificate:{id}"),
                    scope: None,
                });
            }
        }
        let from = request.remote_addr().map(|address| address.ip());
        let caller = self.caller_of_token(request.metadata(), from)?.clone();
        Ok(Admin {
            name: caller.name.clone(),
            scope: Some(caller),
        })
    }

    /// The admin whose token `metadata` carries; a wrong token counts against
    /// the address it came `from`.
    fn caller_of_token(
        &self,
        metadata: &tonic::metadata::MetadataMap,
        from: Option<std::net::IpAddr>,
    ) -> Result<&Caller, Status> {
        if !self.users.required() {
            return Err(Status::unauthenticated(
                "the admin API requires a client certificate or `authorization: Bearer <token>`",
            ));
        }
        self.failed_sign_ins.check(from)?;
        let has_token = metadata.get("authorization").is_some();
        self.users
            .identify(metadata)
            // A request without a token guesses nothing (a tool not set up).
            .inspect_err(|_| {
                if has_token {
                    self.failed_sign_ins.failed(from);
                }
            })?
            .ok_or_else(|| Status::unauthenticated("admin token required"))
    }

    /// Refuses, on its headers alone, a request that cannot sign in: before its
    /// body is read, which may announce a component's size (`max_component_bytes`)
    /// and arrive as slowly as its sender likes. Its handler identifies the
    /// admin in full; with client certificates, the handshake already asked for one.
    /// A plugin's component, the one body of that size, is for an admin of
    /// every tenant: an admin of some is refused here too.
    pub(super) fn admits_headers(
        &self,
        headers: &http::HeaderMap,
        from: Option<std::net::IpAddr>,
        path: &str,
    ) -> Result<(), Status> {
        if !headers.contains_key(http::header::AUTHORIZATION) && self.client_certificates {
            return Ok(());
        }
        let metadata = tonic::metadata::MetadataMap::from_headers(headers.clone());
        let caller = self.caller_of_token(&metadata, from)?;
        if path.ends_with("/InstallPlugin") {
            let admin = Admin {
                name: caller.name.clone(),
                scope: Some(caller.clone()),
            };
            admin.require_global("install plugins")?;
        }
        Ok(())
    }

    /// Makes the change visible to the next event here (other replicas follow by
    /// polling the store); `tenant`, the tenant changed, if one was.
    async fn applied<T>(&self, tenant: Option<String>, value: T) -> Result<Response<T>, Status> {
        self.sidecar.refresh().await.map_err(|e| {
            // The cause may be any tenant's (the pipelines are rebuilt whole):
            // the log has it, the caller, perhaps an admin of another, does not.
            tracing::error!("a stored admin change could not be applied: {e}");
            Status::internal(
                "the change was stored but could not be applied; the sidecar's log says why",
            )
        })?;
        // A suspended tenant is served as suspended.
        if let Some(tenant) = tenant
            && self.sidecar.unserved(&tenant) == Some(false)
        {
            return Err(Status::internal(format!(
                "the change was stored, but this replica cannot serve tenant '{tenant}' with \
                 it (a secret or a plugin it needs cannot be loaded here); the sidecar's log \
                 says why"
            )));
        }
        Ok(Response::new(value))
    }

    /// Writes the report facts this replica holds before a change that removes
    /// report data (another replica writes its own within a second; doing the
    /// change again after that catches those). UNAVAILABLE, with nothing
    /// `undone`, when they cannot be written.
    async fn write_pending_facts(&self, undone: &str) -> Result<(), Status> {
        if self.sidecar.flush_insights(FACTS_FLUSH_WAIT).await {
            Ok(())
        } else {
            Err(Status::unavailable(format!(
                "the report facts of recent events could not be written first; nothing \
                 was {undone}: try again"
            )))
        }
    }

    async fn edit(
        &self,
        admin: &Admin,
        tenant: &str,
        expected_revision: u64,
        action: &str,
        target: &str,
        edit: crate::control::TenantEdit<'_>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let change = admin.change_of(tenant, expected_revision)?;
        let state = self
            .control
            .edit_tenant(change, action, target, edit, Vec::new())
            .await?;
        self.applied(Some(state.id.clone()), tenant_to_pb(state))
            .await
    }
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn create_tenant(
        &self,
        request: Request<pb::CreateTenantRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let admin = self.identify(&request)?;
        let id = request.into_inner().tenant_id;
        admin.may_manage(&id)?;
        let state = self
            .control
            .create_tenant(&admin.name, &id, !admin.is_global())
            .await?;
        self.applied(Some(state.id.clone()), tenant_to_pb(state))
            .await
    }

    async fn list_tenants(
        &self,
        request: Request<pb::ListTenantsRequest>,
    ) -> Result<Response<pb::ListTenantsResponse>, Status> {
        let admin = self.identify(&request)?;
        let tenants = self
            .control
            .tenants()
            .await?
            .into_iter()
            .filter(|t| admin.may_manage(&t.id).is_ok())
            .map(tenant_to_pb)
            .collect();
        Ok(Response::new(pb::ListTenantsResponse { tenants }))
    }

    async fn get_tenant(
        &self,
        request: Request<pb::TenantRef>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let admin = self.identify(&request)?;
        let id = request.into_inner().tenant_id;
        admin.may_manage(&id)?;
        Ok(Response::new(tenant_to_pb(self.control.tenant(&id).await?)))
    }

    async fn set_tenant_suspended(
        &self,
        request: Request<pb::SetTenantSuspendedRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        let suspended = r.suspended;
        let action = if suspended {
            "tenant.suspend"
        } else {
            "tenant.resume"
        };
        // An admin of some tenants suspends as the tenant; validation refuses
        // their lifting the operator's suspension.
        let by_operator = admin.is_global();
        self.edit(
            &admin,
            &r.tenant_id,
            r.expected_revision,
            action,
            &r.tenant_id,
            Box::new(move |doc| {
                doc.suspended = suspended;
                if by_operator {
                    doc.suspended_by_operator = suspended;
                }
                Ok(None)
            }),
        )
        .await
    }

    async fn delete_tenant(
        &self,
        request: Request<pb::TenantRef>,
    ) -> Result<Response<pb::DeleteTenantResponse>, Status> {
        let admin = self.identify(&request)?;
        let id = request.into_inner().tenant_id;
        // What the operator set for the tenant (its isolation, a lower quota, a
        // suspension) would not survive deleting it and creating it again.
        admin.require_global("delete a tenant")?;
        // Report facts of its events not written yet would outlive it, for a
        // tenant created again under its id to see: written first, then deleted.
        self.write_pending_facts("deleted").await?;
        self.control.delete_tenant(&admin.name, &id).await?;
        self.applied(None, pb::DeleteTenantResponse {}).await
    }

    async fn set_quota(
        &self,
        request: Request<pb::SetQuotaRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        let quota = quota_from_pb(r.quota);
        // The operator's quota is a ceiling for the tenant's own admins; one left
        // at the defaults is nobody's.
        let by_operator = admin.is_global();
        self.edit(
            &admin,
            &r.tenant_id,
            r.expected_revision,
            "tenant.quota",
            &r.tenant_id,
            Box::new(move |doc| {
                doc.quota = quota;
                if by_operator {
                    doc.quota_by_operator = quota != QuotaOverrides::default();
                    doc.operator_quota = doc.quota_by_operator.then_some(quota);
                }
                Ok(None)
            }),
        )
        .await
    }

    async fn configure_plugin(
        &self,
        request: Request<pb::ConfigurePluginRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        let limits = r.limits.map(limits_from_pb).transpose()?;
        let isolation = r.isolation.map(isolation_from_pb).transpose()?;
        let plugin = r.plugin.clone();
        let by_operator = admin.is_global();
        admin.may_manage(&r.tenant_id)?;
        self.edit(
            &admin,
            &r.tenant_id,
            r.expected_revision,
            "plugin.configure",
            &r.plugin,
            Box::new(move |doc| {
                let adding = !doc.plugins.iter().any(|g| g.name == plugin);
                let action = match r.enabled {
                    Some(false) => "plugin.disable",
                    Some(true) => "plugin.enable",
                    // A plugin added to the pipeline runs unless told otherwise.
                    None if adding => "plugin.enable",
                    None => "plugin.configure",
                };
                if adding {
                    doc.plugins.push(GrantDoc::new(&plugin));
                    // A new plugin runs last in every order, too.
                    for order in doc.pipelines.values_mut() {
                        order.push(plugin.clone());
                    }
                }
                let grant = grant_mut(doc, &plugin)?;
                if let Some(enabled) = r.enabled {
                    grant.enabled = enabled;
                }
                if let Some(fail_closed) = r.fail_closed {
                    grant.fail_closed = fail_closed;
                }
                if let Some(kv) = r.kv {
                    grant.kv = kv;
                }
                if let Some(hosts) = r.allowed_hosts {
                    grant.allowed_hosts = hosts.hosts;
                }
                if let Some(readable) = r.kv_read {
                    grant.kv_read = readable.plugins;
                }
                for key in &r.unset_settings {
                    grant.settings.remove(key);
                }
                grant.settings.extend(r.set_settings);
                let mut operators = None;
                if let Some(limits) = limits {
                    grant.limits = limits;
                    if by_operator {
                        grant.limits_by_operator = limits != LimitOverrides::default();
                        operators = Some(limits);
                    }
                }
                if let Some(isolation) = isolation {
                    grant.isolation = isolation;
                }
                match operators {
                    Some(limits) if limits != LimitOverrides::default() => {
                        doc.operator_limits.insert(plugin.clone(), limits);
                    }
                    Some(_) => {
                        doc.operator_limits.remove(&plugin);
                    }
                    None => {}
                }
                Ok(Some(action))
            }),
        )
        .await
    }

    async fn detach_plugin(
        &self,
        request: Request<pb::DetachPluginRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        let change = admin.change_of(&r.tenant_id, r.expected_revision)?;
        let state = self.control.detach_plugin(change, &r.plugin).await?;
        self.applied(Some(state.id.clone()), tenant_to_pb(state))
            .await
    }

    async fn set_categories(
        &self,
        request: Request<pb::SetCategoriesRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        admin.may_manage(&r.tenant_id)?;
        let categories: Vec<_> = r
            .categories
            .into_iter()
            .map(crate::insights::api::category_from_pb)
            .collect();
        self.edit(
            &admin,
            &r.tenant_id,
            r.expected_revision,
            "tenant.categories",
            "categories",
            Box::new(move |doc| {
                doc.categories = categories;
                Ok(Some("tenant.categories"))
            }),
        )
        .await
    }

    async fn set_business_hours(
        &self,
        request: Request<pb::SetBusinessHoursRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        admin.may_manage(&r.tenant_id)?;
        let hours = r.hours.map(|h| crate::insights::hours::BusinessHours {
            time_zone: h.time_zone,
            open: h.open,
            close: h.close,
            days: if h.days.is_empty() {
                ["mon", "tue", "wed", "thu", "fri"]
                    .map(str::to_owned)
                    .to_vec()
            } else {
                h.days
            },
        });
        self.edit(
            &admin,
            &r.tenant_id,
            r.expected_revision,
            "tenant.business_hours",
            "business hours",
            Box::new(move |doc| {
                doc.business_hours = hours;
                Ok(Some("tenant.business_hours"))
            }),
        )
        .await
    }

    async fn set_tenant_isolation(
        &self,
        request: Request<pb::SetTenantIsolationRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        admin.may_manage(&r.tenant_id)?;
        let isolation = isolation_from_pb(r.isolation)?;
        // Lifting an `event` the tenant had is the operator's only: `edit`
        // validates the change as its admin's.
        self.edit(
            &admin,
            &r.tenant_id,
            r.expected_revision,
            "tenant.isolation",
            "isolation",
            Box::new(move |doc| {
                doc.isolation = isolation;
                Ok(Some("tenant.isolation"))
            }),
        )
        .await
    }

    async fn set_pipeline_order(
        &self,
        request: Request<pb::SetPipelineOrderRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        let kind = r.event_kind.clone();
        let target = if kind.is_empty() {
            "default".to_owned()
        } else {
            kind.clone()
        };
        self.edit(
            &admin,
            &r.tenant_id,
            r.expected_revision,
            "pipeline.order",
            &target,
            Box::new(move |doc| {
                if kind.is_empty() {
                    // The default order: the grants themselves, rearranged.
                    let mut reordered = Vec::with_capacity(doc.plugins.len());
                    for name in &r.plugins {
                        match doc.plugins.iter().position(|g| &g.name == name) {
                            Some(i) => reordered.push(doc.plugins.remove(i)),
                            None => {
                                return Err(ControlError::Invalid {
                                    field: "plugins".into(),
                                    message: format!(
                                        "'{name}' is not in the tenant's pipeline (or is listed twice)"
                                    ),
                                });
                            }
                        }
                    }
                    if !doc.plugins.is_empty() {
                        let missing: Vec<&str> =
                            doc.plugins.iter().map(|g| g.name.as_str()).collect();
                        return Err(ControlError::Invalid {
                            field: "plugins".into(),
                            message: format!(
                                "must name every plugin of the pipeline once; missing: {}",
                                missing.join(", ")
                            ),
                        });
                    }
                    doc.plugins = reordered;
                } else if r.plugins.is_empty() {
                    doc.pipelines.remove(&kind);
                } else {
                    doc.pipelines.insert(kind, r.plugins);
                }
                Ok(None)
            }),
        )
        .await
    }

    async fn import_plugin_data(
        &self,
        request: Request<pb::ImportPluginDataRequest>,
    ) -> Result<Response<pb::ImportPluginDataResponse>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        admin.may_manage(&r.tenant_id)?;
        self.unless_suspended_by_operator(&admin, &r.tenant_id)
            .await?;
        let format = if r.format.is_empty() {
            "json"
        } else {
            r.format.as_str()
        };
        let imported = self
            .sidecar
            .import_dataset(
                &admin.name,
                &r.tenant_id,
                &r.plugin,
                &r.dataset,
                format,
                &r.content,
            )
            .await
            .map_err(tool_status)?;
        Ok(Response::new(pb::ImportPluginDataResponse {
            records: imported.records,
            replaced: imported.replaced,
            summary: imported.summary,
        }))
    }

    async fn run_plugin_command(
        &self,
        request: Request<pb::RunPluginCommandRequest>,
    ) -> Result<Response<pb::RunPluginCommandResponse>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        admin.may_manage(&r.tenant_id)?;
        self.unless_suspended_by_operator(&admin, &r.tenant_id)
            .await?;
        let input = crate::runtime::CommandInput {
            tenant: None,
            values: r.values.into_iter().map(|v| (v.name, v.value)).collect(),
            files: r.files.into_iter().map(|f| (f.name, f.content)).collect(),
        };
        let output = self
            .sidecar
            .run_command_audited(&admin.name, &r.tenant_id, &r.plugin, &r.command, input)
            .await
            .map_err(tool_status)?;
        Ok(Response::new(pb::RunPluginCommandResponse {
            text: output.text,
            files: output
                .files
                .into_iter()
                .map(|f| pb::CommandOutputFile {
                    param: f.param,
                    name: f.name,
                    content: f.content,
                })
                .collect(),
        }))
    }

    async fn set_secret(
        &self,
        request: Request<pb::SetSecretRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        let change = admin.change_of(&r.tenant_id, r.expected_revision)?;
        let state = self
            .control
            .set_secret(change, &r.plugin, &r.host, &r.header, &r.value)
            .await?;
        self.applied(Some(state.id.clone()), tenant_to_pb(state))
            .await
    }

    async fn delete_secret(
        &self,
        request: Request<pb::DeleteSecretRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        let change = admin.change_of(&r.tenant_id, r.expected_revision)?;
        let state = self
            .control
            .delete_secret(change, &r.plugin, &r.host, &r.header)
            .await?;
        self.applied(Some(state.id.clone()), tenant_to_pb(state))
            .await
    }

    async fn install_plugin(
        &self,
        request: Request<pb::InstallPluginRequest>,
    ) -> Result<Response<pb::InstalledPlugin>, Status> {
        let admin = self.identify(&request)?;
        admin.require_global("install plugins")?;
        let r = request.into_inner();
        if r.component.len() > self.max_component_bytes {
            return Err(Status::invalid_argument(format!(
                "component is {} bytes; this server accepts at most {}",
                r.component.len(),
                self.max_component_bytes
            )));
        }
        let signature = Some(r.signature.as_str()).filter(|s| !s.trim().is_empty());
        let installed = self
            .control
            .install_plugin(&admin.name, Some(&r.name), r.component, signature)
            .await?;
        self.applied(None, plugin_to_pb(installed)).await
    }

    async fn list_plugins(
        &self,
        request: Request<pb::ListPluginsRequest>,
    ) -> Result<Response<pb::ListPluginsResponse>, Status> {
        let admin = self.identify(&request)?;
        let plugins = self
            .control
            .list_plugins()
            .await?
            .into_iter()
            .map(|mut installed| {
                // Other tenants' names are theirs.
                installed
                    .used_by
                    .retain(|tenant| admin.may_manage(tenant).is_ok());
                plugin_to_pb(installed)
            })
            .collect();
        Ok(Response::new(pb::ListPluginsResponse { plugins }))
    }

    async fn rollback_plugin(
        &self,
        request: Request<pb::PluginRef>,
    ) -> Result<Response<pb::InstalledPlugin>, Status> {
        let admin = self.identify(&request)?;
        admin.require_global("roll back plugins")?;
        let name = request.into_inner().name;
        let installed = self.control.rollback_plugin(&admin.name, &name).await?;
        self.applied(None, plugin_to_pb(installed)).await
    }

    async fn remove_plugin(
        &self,
        request: Request<pb::PluginRef>,
    ) -> Result<Response<pb::RemovePluginResponse>, Status> {
        let admin = self.identify(&request)?;
        admin.require_global("remove plugins")?;
        let name = request.into_inner().name;
        self.control.remove_plugin(&admin.name, &name).await?;
        self.applied(None, pb::RemovePluginResponse {}).await
    }

    async fn list_audit_log(
        &self,
        request: Request<pb::ListAuditLogRequest>,
    ) -> Result<Response<pb::ListAuditLogResponse>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        let tenant = if r.tenant_id.is_empty() {
            admin.require_global("read every tenant's audit log (name a tenant)")?;
            None
        } else {
            admin.may_manage(&r.tenant_id)?;
            Some(r.tenant_id.as_str())
        };
        let limit = match r.limit {
            0 => 50,
            n => n.min(MAX_AUDIT_PAGE),
        };
        let before = (r.before_id != 0).then_some(r.before_id);
        let store = self.control.store();
        // An admin of some tenants reads their tenant's present life only: a
        // tenant deleted and created again under the same id was another's.
        let born_after = match tenant {
            Some(id) if !admin.is_global() => store
                .last_audit_id(id, "tenant.delete")
                .await
                .map_err(ControlError::from)?
                .unwrap_or(0),
            _ => 0,
        };
        let entries = store
            .audit_log(tenant, before, limit as usize)
            .await
            .map_err(ControlError::from)?
            .into_iter()
            .filter(|e| e.id > born_after)
            .map(|e| pb::AuditEntry {
                id: e.id,
                at: Some(prost_types::Timestamp {
                    seconds: e.at_ms.div_euclid(1000),
                    nanos: i32::try_from(e.at_ms.rem_euclid(1000).saturating_mul(1_000_000))
                        .unwrap_or(0),
                }),
                actor: e.entry.actor,
                tenant_id: e.entry.tenant.unwrap_or_default(),
                action: e.entry.action,
                target: e.entry.target,
                before_json: e.entry.before.unwrap_or_default(),
                after_json: e.entry.after.unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(pb::ListAuditLogResponse { entries }))
    }

    async fn get_report(
        &self,
        request: Request<pb::GetReportRequest>,
    ) -> Result<Response<pb::Report>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        admin.may_manage(&r.tenant_id)?;
        crate::insights::api::get_report(self.control.store(), &self.reports, r)
            .await
            .map(Response::new)
    }

    async fn export_customer_data(
        &self,
        request: Request<pb::CustomerRef>,
    ) -> Result<Response<pb::CustomerData>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        admin.may_manage(&r.tenant_id)?;
        crate::insights::api::export_customer(self.control.store(), r)
            .await
            .map(Response::new)
    }

    async fn erase_customer_data(
        &self,
        request: Request<pb::CustomerRef>,
    ) -> Result<Response<pb::EraseCustomerDataResponse>, Status> {
        let admin = self.identify(&request)?;
        let r = request.into_inner();
        admin.may_manage(&r.tenant_id)?;
        tracing::info!(admin = %admin.name, tenant = %r.tenant_id, "erasing a customer's insight data");
        // The audit log names the customer by a digest keyed with the master key:
        // it shows which id was erased to whoever holds the key and the id, and no
        // reader of the log can find the id by hashing guesses.
        let customer = {
            let digest = self.control.digest(
                "customer.erase",
                &format!("{}\0{}", r.tenant_id, r.customer_id),
            );
            format!("customer hmac-sha256:{}", hex::encode(&digest[..16]))
        };
        let audit = crate::store::ErasureAudit {
            actor: admin.name.clone(),
            customer,
        };
        // Facts of this replica's events not written yet would bring the rows back
        // after the erasure: written first.
        self.write_pending_facts("erased").await?;
        let marks = self.control.erasure_marks();
        let erased =
            crate::insights::api::erase_customer(self.control.store(), r, &marks, &audit).await?;
        Ok(Response::new(erased))
    }
}
