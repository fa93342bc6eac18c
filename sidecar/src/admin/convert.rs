//! The mapping between the admin API's messages and the control plane's
//! documents, both ways, and of the control plane's errors to gRPC statuses:
//! what arrives is checked here (sizes, enum values) with errors that name the
//! field.

use tonic::Status;

use crate::config::{LimitOverrides, QuotaOverrides};
use crate::control::{ControlError, GrantDoc, InstalledPlugin, TenantState};
use crate::pb;
use crate::runtime::Isolation;

impl From<ControlError> for Status {
    fn from(error: ControlError) -> Status {
        let message = error.to_string();
        let status = match error {
            ControlError::Invalid { .. } => Status::invalid_argument(message),
            ControlError::NotFound(_) => Status::not_found(message),
            ControlError::AlreadyExists(_) => Status::already_exists(message),
            ControlError::FailedPrecondition(_) => Status::failed_precondition(message),
            ControlError::Conflict(_) => Status::aborted(message),
            ControlError::Signature(_) => Status::permission_denied(message),
            ControlError::Plugin(_) | ControlError::Unloadable(_) => {
                Status::invalid_argument(message)
            }
            ControlError::Secret(_) | ControlError::Store(_) | ControlError::Randomness(_) => {
                tracing::error!("admin change failed: {message}");
                Status::internal(message)
            }
        };
        if status.code() != tonic::Code::Internal {
            tracing::debug!(code = ?status.code(), "admin change refused: {}", status.message());
        }
        status
    }
}

pub(super) fn quota_from_pb(quota: Option<pb::QuotaOverrides>) -> QuotaOverrides {
    let quota = quota.unwrap_or_default();
    QuotaOverrides {
        max_in_flight: quota.max_in_flight,
        events_per_second: quota.events_per_second,
        burst: quota.burst,
    }
}

pub(super) fn limits_from_pb(limits: pb::LimitOverrides) -> Result<LimitOverrides, Status> {
    let size = |field: &str, value: Option<u64>| {
        value
            .map(usize::try_from)
            .transpose()
            .map_err(|_| Status::invalid_argument(format!("limits.{field} is too large")))
    };
    Ok(LimitOverrides {
        timeout_ms: limits.timeout_ms,
        max_memory_bytes: limits.max_memory_bytes,
        max_table_elements: limits.max_table_elements,
        max_instances: limits.max_instances,
        max_output_bytes: size("max_output_bytes", limits.max_output_bytes)?,
        max_http_response_bytes: size("max_http_response_bytes", limits.max_http_response_bytes)?,
        max_log_lines: limits.max_log_lines,
        http_timeout_ms: limits.http_timeout_ms,
    })
}

pub(super) fn tenant_to_pb(state: TenantState) -> pb::Tenant {
    let doc = state.doc;
    let operator_limits = doc.operator_limits;
    pb::Tenant {
        tenant_id: state.id,
        suspended: doc.suspended,
        suspended_by_operator: doc.suspended_by_operator,
        quota_by_operator: doc.quota_by_operator,
        operator_quota: doc
            .operator_quota
            .filter(|_| doc.quota_by_operator)
            .map(quota_to_pb),
        revision: state.revision,
        quota: Some(quota_to_pb(doc.quota)),
        plugins: doc
            .plugins
            .into_iter()
            .map(|grant| {
                let operators = operator_limits
                    .get(&grant.name)
                    .copied()
                    .filter(|_| grant.limits_by_operator);
                grant_to_pb(grant, operators)
            })
            .collect(),
        pipelines: doc
            .pipelines
            .into_iter()
            .map(|(kind, plugins)| (kind, pb::PluginOrder { plugins }))
            .collect(),
        isolation: isolation_to_pb(doc.isolation).into(),
        business_hours: doc.business_hours.map(|h| pb::BusinessHours {
            time_zone: h.time_zone,
            open: h.open,
            close: h.close,
            days: h.days,
        }),
        categories: doc
            .categories
            .into_iter()
            .map(crate::insights::api::category_to_pb)
            .collect(),
    }
}

fn isolation_to_pb(isolation: Isolation) -> pb::Isolation {
    match isolation {
        Isolation::Tenant => pb::Isolation::Tenant,
        Isolation::Event => pb::Isolation::Event,
    }
}

pub(super) fn isolation_from_pb(value: i32) -> Result<Isolation, Status> {
    match pb::Isolation::try_from(value) {
        Ok(pb::Isolation::Unspecified | pb::Isolation::Tenant) => Ok(Isolation::Tenant),
        Ok(pb::Isolation::Event) => Ok(Isolation::Event),
        Err(_) => Err(Status::invalid_argument(format!(
            "isolation: {value} is not one of the values the API defines"
        ))),
    }
}

fn quota_to_pb(quota: QuotaOverrides) -> pb::QuotaOverrides {
    pb::QuotaOverrides {
        max_in_flight: quota.max_in_flight,
        events_per_second: quota.events_per_second,
        burst: quota.burst,
    }
}

fn limits_to_pb(limits: LimitOverrides) -> pb::LimitOverrides {
    pb::LimitOverrides {
        timeout_ms: limits.timeout_ms,
        max_memory_bytes: limits.max_memory_bytes,
        max_table_elements: limits.max_table_elements,
        max_instances: limits.max_instances,
        max_output_bytes: limits.max_output_bytes.map(|n| n as u64),
        max_http_response_bytes: limits.max_http_response_bytes.map(|n| n as u64),
        max_log_lines: limits.max_log_lines,
        http_timeout_ms: limits.http_timeout_ms,
    }
}

/// `operators`: the limits as the operator set them, when they are the operator's.
fn grant_to_pb(grant: GrantDoc, operators: Option<LimitOverrides>) -> pb::PluginGrant {
    pb::PluginGrant {
        limits_by_operator: grant.limits_by_operator,
        operator_limits: operators.map(limits_to_pb),
        plugin: grant.name,
        enabled: grant.enabled,
        fail_closed: grant.fail_closed,
        kv: grant.kv,
        allowed_hosts: grant.allowed_hosts,
        kv_read: grant.kv_read,
        settings: grant.settings,
        limits: Some(limits_to_pb(grant.limits)),
        secrets: grant
            .secrets
            .into_iter()
            .map(|s| pb::SecretRef {
                host: s.host,
                header: s.header,
            })
            .collect(),
        isolation: isolation_to_pb(grant.isolation).into(),
    }
}

pub(super) fn plugin_to_pb(installed: InstalledPlugin) -> pb::InstalledPlugin {
    let manifest = &installed.plugin.manifest;
    let (previous_version, previous_digest) = installed.previous.unwrap_or_default();
    pb::InstalledPlugin {
        name: installed.name,
        version: manifest.version.clone(),
        digest: installed.plugin.digest.clone(),
        description: manifest.description.clone(),
        events: manifest.event_names(),
        wants_kv: manifest.wants_kv,
        outbound_hosts: manifest.outbound_hosts.clone(),
        settings: manifest.settings.iter().map(ToString::to_string).collect(),
        cacheable: manifest.cacheable,
        previous_version,
        previous_digest,
        signed_by: installed.signed_by.unwrap_or_default(),
        used_by: installed.used_by,
    }
}

/// The status of a dataset import that did not run.
pub(super) fn tool_status(error: crate::tools::ToolError) -> Status {
    use crate::tools::ToolError as E;
    match error {
        E::UnknownTenant(_) | E::UnknownPlugin(_) => Status::not_found(error.to_string()),
        // Deleted, or deleted and created again (which this replica may not
        // have seen yet): the admin may retry.
        E::Store(crate::store::StoreError::TenantGone(tenant)) => Status::aborted(format!(
            "tenant '{tenant}' was deleted, or created again, while this ran; its data was not written"
        )),
        E::Store(e) => Status::internal(format!("store: {e}")),
        E::ShuttingDown | E::Unserved(_) => Status::unavailable(error.to_string()),
        E::OverQuota { .. } => Status::resource_exhausted(error.to_string()),
        E::NotInPipeline { .. }
        | E::NotOffered { .. }
        | E::NeedsTenant { .. }
        | E::Plugin { .. } => Status::invalid_argument(error.to_string()),
    }
}
