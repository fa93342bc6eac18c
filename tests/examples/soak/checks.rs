//! What must hold after the run, each a named pass/fail with the figures behind
//! it. The durable ones are read after a last SIGKILL and restart, from the
//! restarted sidecar's admin API and from the database itself.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use crossdesk_integration_tests::as_admin;
use crossdesk_integration_tests::helpdesk::Call;
use crossdesk_integration_tests::pb;
use crossdesk_integration_tests::pb::admin_service_client::AdminServiceClient;
use crossdesk_sidecar::store::Store;
use tonic::transport::Channel;

use crate::admin::{Change, What};
use crate::load::Record;
use crate::webhooks::Delivery;
use crate::world::{ADMIN_TOKEN, TENANTS, tenant};

/// One line of the verdict.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub(crate) name: String,
    pub(crate) passed: bool,
    pub(crate) detail: String,
}

impl Check {
    pub(crate) fn new(name: &str, passed: bool, detail: String) -> Check {
        Check {
            name: name.to_owned(),
            passed,
            detail,
        }
    }
}

/// Every event got a response, retrying as a client would.
pub(crate) fn all_acknowledged(records: &[Record]) -> Check {
    let refused: Vec<&Record> = records.iter().filter(|r| !r.acked).collect();
    let retried = records.iter().filter(|r| r.acked && r.attempts > 1).count();
    let mut errors: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &refused {
        *errors.entry(r.error.as_deref().unwrap_or("?")).or_default() += 1;
    }
    Check::new(
        "every event acknowledged",
        refused.is_empty(),
        format!(
            "{} of {} events acknowledged ({retried} after a retry); not acknowledged: {:?}",
            records.len() - refused.len(),
            records.len(),
            errors.iter().take(3).collect::<Vec<_>>()
        ),
    )
}

/// Every purchase the recommend plugin acknowledged (outcome OK) is in its
/// customer's stored profile, by item and time.
pub(crate) async fn purchases(store: &Store, records: &[Record], purchase_kind: usize) -> Check {
    let expected: Vec<&Record> = records
        .iter()
        .filter(|r| r.kind == purchase_kind && r.acked && r.recommend_ok)
        .collect();
    let mut stored: HashSet<(usize, String, i64)> = HashSet::new();
    let mut profiles = 0;
    for i in 0..TENANTS {
        let keys = store
            .kv_list(&tenant(i), "recommend", "profile/", 100_000)
            .await
            .expect("list the stored profiles");
        for key in keys {
            let Some(bytes) = store
                .kv_get(&tenant(i), "recommend", &key)
                .await
                .expect("read a stored profile")
            else {
                continue;
            };
            profiles += 1;
            let profile: serde_json::Value =
                serde_json::from_slice(&bytes).expect("a profile is JSON");
            for purchase in profile["purchases"].as_array().into_iter().flatten() {
                if let (Some(item), Some(time)) =
                    (purchase["item_id"].as_str(), purchase["time_ms"].as_i64())
                {
                    stored.insert((i, item.to_owned(), time));
                }
            }
        }
    }
    let missing: Vec<String> = expected
        .iter()
        .filter(|r| {
            !stored.contains(&(r.tenant, r.item.clone().unwrap_or_default(), r.occurred_ms))
        })
        .map(|r| format!("soak-{} ({})", r.seq, tenant(r.tenant)))
        .collect();
    let not_recorded = records
        .iter()
        .filter(|r| r.kind == purchase_kind && r.acked && !r.recommend_ok)
        .count();
    Check::new(
        "acknowledged purchases stored",
        missing.is_empty(),
        format!(
            "{} of {} purchases the recommend plugin acknowledged are in the {profiles} \
             stored profiles (missing: {:?}); {not_recorded} more were acknowledged with \
             the plugin failed (PostgreSQL down), so not expected",
            expected.len() - missing.len(),
            expected.len(),
            missing.iter().take(5).collect::<Vec<_>>()
        ),
    )
}

/// Arrivals on the phone channel in the stored contact history, per tenant.
pub(crate) async fn phone_arrivals(store: &Store) -> Vec<u64> {
    let mut counts = Vec::with_capacity(TENANTS);
    for i in 0..TENANTS {
        let history = store
            .contact_history(&tenant(i), 0, i64::MAX)
            .await
            .expect("read the contact history");
        counts.push(
            history
                .iter()
                .filter(|c| c.channel == "phone")
                .map(|c| c.arrivals)
                .sum(),
        );
    }
    counts
}

/// Every acknowledged ticket creation is counted in the contact history, except
/// at most those acknowledged in the flush interval before a SIGKILL (the
/// documented loss: counts are written once a second); a ticket whose delivery
/// straddled the kill may be counted twice (idempotency is in memory).
pub(crate) fn history(
    stored: &[u64],
    records: &[Record],
    created_kind: usize,
    kills: &[(Duration, Duration)],
) -> Check {
    let flush_window = crossdesk_sidecar::history::FLUSH_EVERY * 2;
    let created: Vec<&Record> = records.iter().filter(|r| r.kind == created_kind).collect();
    let acked = created.iter().filter(|r| r.acked).count() as u64;
    let at_risk = created
        .iter()
        .filter(|r| {
            r.acked
                && kills
                    .iter()
                    .any(|&(killed, _)| r.done <= killed && r.done + flush_window >= killed)
        })
        .count() as u64;
    // Sent before a kill, acknowledged after it: perhaps counted before it too.
    let straddling = created
        .iter()
        .filter(|r| {
            kills
                .iter()
                .any(|&(killed, _)| r.scheduled <= killed && (r.done > killed || !r.acked))
        })
        .count() as u64;
    let total: u64 = stored.iter().sum();
    let passed = total + at_risk >= acked && total <= acked + straddling;
    Check::new(
        "acknowledged ticket creations in the contact history",
        passed,
        format!(
            "{total} arrivals stored for {acked} acknowledged ticket creations \
             (allowed: {} to {}: {at_risk} acknowledged within {flush_window:?} before a \
             SIGKILL may be lost, {straddling} in flight across one may count twice); lost: {}",
            acked.saturating_sub(at_risk),
            acked + straddling,
            acked.saturating_sub(total)
        ),
    )
}

/// The setting or switch a change touches, as the tenant shows it.
fn current(tenant: &pb::Tenant, change: &Change) -> Option<String> {
    let grant = tenant.plugins.iter().find(|g| g.plugin == change.plugin)?;
    match &change.what {
        What::Setting(key, _) => grant.settings.get(key).cloned(),
        What::Enabled(_) => Some(grant.enabled.to_string()),
    }
}

fn value(what: &What) -> String {
    match what {
        What::Setting(_, value) => value.clone(),
        What::Enabled(enabled) => enabled.to_string(),
    }
}

/// The value a change sets, read from an audit entry's document.
fn audited(after_json: &str, change: &Change) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(after_json).ok()?;
    let grant = doc["plugins"]
        .as_array()?
        .iter()
        .find(|g| g["name"] == change.plugin.as_str())?;
    match &change.what {
        What::Setting(key, _) => grant["settings"][key].as_str().map(str::to_owned),
        What::Enabled(_) => Some(grant["enabled"].as_bool().unwrap_or(true).to_string()),
    }
}

/// Every acknowledged change is in the store after the restarts: each tenant shows
/// its last acknowledged value (or that of a later change whose answer was lost),
/// and the audit log holds every acknowledged change, in order.
pub(crate) async fn admin_changes(
    admin: &mut AdminServiceClient<Channel>,
    changes: &[Change],
) -> Check {
    let mut groups: BTreeMap<(usize, String, String), Vec<&Change>> = BTreeMap::new();
    for change in changes {
        let kind = match &change.what {
            What::Setting(key, _) => key.clone(),
            What::Enabled(_) => "enabled".into(),
        };
        groups
            .entry((change.tenant, change.plugin.clone(), kind))
            .or_default()
            .push(change);
    }
    let mut problems = Vec::new();
    let mut audited_count = 0;
    for ((tenant_index, plugin, kind), group) in &groups {
        let id = tenant(*tenant_index);
        let shown = admin
            .get_tenant(as_admin(
                ADMIN_TOKEN,
                pb::TenantRef {
                    tenant_id: id.clone(),
                },
            ))
            .await
            .expect("read the tenant")
            .into_inner();
        let last_acked = group.iter().rposition(|c| c.acked);
        // The last acknowledged value, or that of a later change whose answer was
        // lost (it may have been stored before the failure).
        let allowed: Vec<String> = match last_acked {
            Some(at) => group[at..].iter().map(|c| value(&c.what)).collect(),
            None => continue,
        };
        let acked_revision = group
            .iter()
            .filter(|c| c.acked)
            .map(|c| c.revision)
            .max()
            .unwrap_or(0);
        if shown.revision < acked_revision {
            problems.push(format!(
                "{id} is at revision {}, below the acknowledged {acked_revision}",
                shown.revision
            ));
        }
        let now = current(&shown, group[0]);
        if !now.as_ref().is_some_and(|v| allowed.contains(v)) {
            problems.push(format!(
                "{id} {plugin}.{kind} is {now:?}, expected one of {allowed:?}"
            ));
        }
        // The audit log, oldest first, must contain the acknowledged values in
        // the order they were acknowledged.
        let entries = audit_log(admin, &id).await;
        let values: Vec<String> = entries
            .iter()
            .filter(|e| e.target == *plugin && e.action.starts_with("plugin."))
            .filter_map(|e| audited(&e.after_json, group[0]))
            .collect();
        let mut found = values.iter();
        for change in group.iter().filter(|c| c.acked) {
            let wanted = value(&change.what);
            if found.any(|v| *v == wanted) {
                audited_count += 1;
            } else {
                problems.push(format!(
                    "{id} {plugin}.{kind} = {wanted} (at {:?}) is not in the audit log in order",
                    change.at
                ));
                break;
            }
        }
    }
    let acked = changes.iter().filter(|c| c.acked).count();
    Check::new(
        "acknowledged admin changes survive",
        problems.is_empty(),
        format!(
            "{acked} of {} changes acknowledged; {audited_count} found in the audit log in \
             order, every tenant shows its last acknowledged value at a revision no \
             lower than acknowledged{}",
            changes.len(),
            if problems.is_empty() {
                String::new()
            } else {
                format!("; problems: {:?}", &problems[..problems.len().min(5)])
            }
        ),
    )
}

/// A tenant's audit log, oldest first.
async fn audit_log(admin: &mut AdminServiceClient<Channel>, id: &str) -> Vec<pb::AuditEntry> {
    let mut entries = Vec::new();
    let mut before_id = 0;
    loop {
        let page = admin
            .list_audit_log(as_admin(
                ADMIN_TOKEN,
                pb::ListAuditLogRequest {
                    tenant_id: id.to_owned(),
                    limit: 1000,
                    before_id,
                },
            ))
            .await
            .expect("read the audit log")
            .into_inner()
            .entries;
        let Some(last) = page.last() else { break };
        before_id = last.id;
        entries.extend(page);
    }
    entries.reverse();
    entries
}

/// The bridge's side: every acknowledged delivery was written back (its job is
/// done, with as many successful calls to the helpdesk as the bridge counted),
/// and no write reached the helpdesk twice.
pub(crate) async fn bridge(
    config: &crossdesk_bridge::BridgeConfig,
    deliveries: &[Delivery],
    calls: &[Call],
) -> (Check, Check) {
    use crossdesk_bridge::queue::JobState;
    let queue = crossdesk_bridge::open_queue(config)
        .await
        .expect("open the bridge's queue");
    let mut jobs = HashMap::new();
    let mut pending = 0;
    let mut dead = Vec::new();
    for state in [JobState::Pending, JobState::Done, JobState::Dead] {
        for job in queue.list(state).await.expect("list the queue") {
            match state {
                JobState::Pending => pending += 1,
                JobState::Dead => dead.push(job.last_error.clone().unwrap_or_default()),
                JobState::Done => {}
            }
            jobs.insert(job.job.delivery_key.clone(), job);
        }
    }
    // Successful writes per ticket (`PUT /api/v2/tickets/<id>.json`).
    let mut written: HashMap<u64, u32> = HashMap::new();
    let mut refused = 0;
    for call in calls {
        let ticket = call
            .path
            .strip_prefix("/api/v2/tickets/")
            .and_then(|p| p.strip_suffix(".json"))
            .and_then(|t| t.parse::<u64>().ok());
        match ticket {
            Some(ticket) if call.status < 300 => *written.entry(ticket).or_default() += 1,
            _ => refused += 1,
        }
    }
    let acked: Vec<&Delivery> = deliveries.iter().filter(|d| d.acked).collect();
    let mut unaccounted = Vec::new();
    let mut duplicates = Vec::new();
    let mut notes = 0;
    for delivery in &acked {
        let writes = written.get(&delivery.ticket).copied().unwrap_or(0);
        match jobs.get(&delivery.key) {
            Some(job) if job.state == JobState::Done && job.calls_done == writes => {
                notes += writes;
            }
            Some(job) => unaccounted.push(format!(
                "{} ({:?}, {} calls counted, {writes} received)",
                delivery.key, job.state, job.calls_done
            )),
            None => unaccounted.push(format!("{} (not in the queue)", delivery.key)),
        }
        if writes > 1 {
            duplicates.push(format!("ticket {}: {writes} writes", delivery.ticket));
        }
    }
    let accounted = Check::new(
        "acknowledged webhook deliveries written back",
        unaccounted.is_empty() && pending == 0 && dead.is_empty(),
        format!(
            "{} of {} deliveries acknowledged, {} written back ({notes} successful writes, \
             {refused} refused by the helpdesk and retried); {pending} pending, {} \
             dead-lettered {:?}; unaccounted: {:?}",
            acked.len(),
            deliveries.len(),
            acked.len() - unaccounted.len(),
            dead.len(),
            dead.iter().take(3).collect::<Vec<_>>(),
            unaccounted.iter().take(5).collect::<Vec<_>>()
        ),
    );
    let once = Check::new(
        "no duplicate write-back",
        duplicates.is_empty(),
        format!(
            "most successful writes to one delivery's ticket: {}; duplicates: {:?}",
            written.values().max().copied().unwrap_or(0),
            duplicates.iter().take(5).collect::<Vec<_>>()
        ),
    );
    (accounted, once)
}
