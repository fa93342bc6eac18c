//! Admin changes during the run: every second an admin sets the recommend
//! plugin's `top_k` of one of [`ADMIN_TENANTS`] to a new value (and the fault
//! driver enables and disables the looping plugin), each change recorded with
//! what the admin API answered. A change is acknowledged when the API returned
//! the tenant; one that failed may or may not have been stored.

use std::sync::Mutex;
use std::time::Duration;

use crossdesk_integration_tests::as_admin;
use crossdesk_integration_tests::pb;
use crossdesk_integration_tests::pb::admin_service_client::AdminServiceClient;
use tokio::time::Instant;
use tonic::transport::Channel;

use crate::world::{ADMIN_TENANTS, ADMIN_TOKEN, tenant};

/// The setting admins change.
pub(crate) const SETTING: (&str, &str) = ("recommend", "top_k");

/// What a change sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum What {
    Setting(String, String),
    Enabled(bool),
}

/// One change and its answer.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) at: Duration,
    pub(crate) tenant: usize,
    pub(crate) plugin: String,
    pub(crate) what: What,
    pub(crate) acked: bool,
    /// The tenant's revision in the answer.
    pub(crate) revision: u64,
    pub(crate) error: Option<String>,
}

/// Every change made, in the order made.
#[derive(Default)]
pub(crate) struct Changes(Mutex<Vec<Change>>);

impl Changes {
    /// Makes one change and records it; true when acknowledged.
    pub(crate) async fn make(
        &self,
        admin: &mut AdminServiceClient<Channel>,
        start: Instant,
        tenant_index: usize,
        plugin: &str,
        what: What,
    ) -> bool {
        let mut request = pb::ConfigurePluginRequest {
            tenant_id: tenant(tenant_index),
            plugin: plugin.into(),
            ..Default::default()
        };
        match &what {
            What::Setting(key, value) => {
                request.set_settings.insert(key.clone(), value.clone());
            }
            What::Enabled(enabled) => request.enabled = Some(*enabled),
        }
        let answer = admin.configure_plugin(as_admin(ADMIN_TOKEN, request)).await;
        let mut change = Change {
            at: start.elapsed(),
            tenant: tenant_index,
            plugin: plugin.into(),
            what,
            acked: false,
            revision: 0,
            error: None,
        };
        match answer {
            Ok(tenant) => {
                change.acked = true;
                change.revision = tenant.into_inner().revision;
            }
            Err(status) => {
                change.error = Some(format!("{:?}: {}", status.code(), status.message()));
            }
        }
        let acked = change.acked;
        if let Ok(mut all) = self.0.lock() {
            all.push(change);
        }
        acked
    }

    pub(crate) fn all(&self) -> Vec<Change> {
        self.0.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// The value of change `n` to the setting: each tenant's successive values differ.
fn value(n: u64) -> String {
    let per_tenant = n / ADMIN_TENANTS.len() as u64;
    (per_tenant % 19 + 1).to_string()
}

/// One change a second, round the admin tenants, from `start` until `stop`.
pub(crate) async fn run(
    mut admin: AdminServiceClient<Channel>,
    changes: &Changes,
    start: Instant,
    stop: Duration,
) {
    for n in 0u64.. {
        let due = Duration::from_secs(n);
        if due >= stop {
            return;
        }
        tokio::time::sleep_until(start + due).await;
        let tenant_index = ADMIN_TENANTS.start + (n as usize) % ADMIN_TENANTS.len();
        changes
            .make(
                &mut admin,
                start,
                tenant_index,
                SETTING.0,
                What::Setting(SETTING.1.into(), value(n)),
            )
            .await;
    }
}
