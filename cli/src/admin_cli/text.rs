//! How `crossdesk admin` shows the admin API's answers to people: tables and
//! one-screen summaries of tenants, plugins and the audit log (`--json` prints the
//! proto3 JSON mapping instead, in `mod.rs`).

use std::collections::BTreeMap;

use crossdesk_proto::pb;

/// Columns separated by two spaces, each as wide as its widest cell.
pub(super) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let text = cells
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ");
        format!("{}\n", text.trim_end())
    };
    let mut out = line(&mut headers.iter().copied());
    for row in rows {
        out += &line(&mut row.iter().map(String::as_str));
    }
    out
}

/// The items joined by `separator`, or `-` when there are none.
pub(super) fn or_dash(list: &[String], separator: &str) -> String {
    if list.is_empty() {
        "-".to_owned()
    } else {
        list.join(separator)
    }
}

pub(super) fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

pub(super) fn quota_text(quota: Option<&pb::QuotaOverrides>) -> String {
    let quota = quota.cloned().unwrap_or_default();
    let fields = [
        ("max_in_flight", quota.max_in_flight),
        ("events_per_second", quota.events_per_second),
        ("burst", quota.burst),
    ];
    if fields.iter().all(|(_, v)| v.is_none()) {
        return "server defaults".to_owned();
    }
    fields
        .iter()
        .map(|(name, value)| match value {
            Some(v) => format!("{name}={v}"),
            None => format!("{name}=default"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn limits_text(limits: &pb::LimitOverrides) -> String {
    [
        ("timeout_ms", limits.timeout_ms),
        ("max_memory_bytes", limits.max_memory_bytes),
        (
            "max_table_elements",
            limits.max_table_elements.map(u64::from),
        ),
        ("max_instances", limits.max_instances.map(u64::from)),
        ("max_output_bytes", limits.max_output_bytes),
        ("max_http_response_bytes", limits.max_http_response_bytes),
        ("max_log_lines", limits.max_log_lines.map(u64::from)),
        ("http_timeout_ms", limits.http_timeout_ms),
    ]
    .iter()
    .filter_map(|(name, value)| value.map(|v| format!("{name}={v}")))
    .collect::<Vec<_>>()
    .join(" ")
}

fn suspension_text(t: &pb::Tenant) -> &'static str {
    match (t.suspended, t.suspended_by_operator) {
        (true, true) => "yes (by the operator)",
        (suspended, _) => yes_no(suspended),
    }
}

pub(super) fn tenant_text(t: &pb::Tenant) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "tenant     {}", t.tenant_id);
    let _ = writeln!(out, "revision   {}", t.revision);
    let _ = writeln!(out, "suspended  {}", suspension_text(t));
    // The operator's marks, with the operator's values when a tenant admin has
    // lowered them since (they may raise them back up to those).
    let by_operator = |yes: bool, now: String, operators: Option<String>| match operators {
        _ if !yes => String::new(),
        Some(set) if set != now => format!(" (the operator's: {set})"),
        _ => " (the operator's)".to_owned(),
    };
    let quota = quota_text(t.quota.as_ref());
    let _ = writeln!(
        out,
        "quota      {quota}{}",
        by_operator(
            t.quota_by_operator,
            quota.clone(),
            t.operator_quota.as_ref().map(|q| quota_text(Some(q)))
        )
    );
    if t.plugins.is_empty() {
        let _ = writeln!(out, "plugins    none");
    } else {
        let _ = writeln!(out, "plugins    (default order)");
    }
    for (i, grant) in t.plugins.iter().enumerate() {
        let mut flags = vec![if grant.enabled { "enabled" } else { "disabled" }];
        if grant.kv {
            flags.push("kv");
        }
        if grant.fail_closed {
            flags.push("fail-closed");
        }
        let _ = writeln!(out, "  {}. {}  [{}]", i + 1, grant.plugin, flags.join(", "));
        if !grant.settings.is_empty() {
            let settings: BTreeMap<_, _> = grant.settings.iter().collect();
            let settings = settings
                .iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = writeln!(out, "     settings  {settings}");
        }
        if !grant.allowed_hosts.is_empty() {
            let _ = writeln!(out, "     hosts     {}", grant.allowed_hosts.join(", "));
        }
        if !grant.kv_read.is_empty() {
            let _ = writeln!(out, "     reads kv  {}", grant.kv_read.join(", "));
        }
        if !grant.secrets.is_empty() {
            let secrets = grant
                .secrets
                .iter()
                .map(|s| format!("{} for {}", s.header, s.host))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(out, "     secrets   {secrets}");
        }
        let limits = grant.limits.as_ref().map(limits_text).unwrap_or_default();
        if !limits.is_empty() {
            let _ = writeln!(
                out,
                "     limits    {limits}{}",
                by_operator(
                    grant.limits_by_operator,
                    limits.clone(),
                    grant.operator_limits.as_ref().map(limits_text)
                )
            );
        }
    }
    let orders: BTreeMap<_, _> = t.pipelines.iter().collect();
    for (kind, order) in orders {
        let _ = writeln!(out, "order for {kind}: {}", order.plugins.join(", "));
    }
    if let Some(h) = &t.business_hours {
        let _ = writeln!(
            out,
            "hours      {}-{} {} ({})",
            h.open,
            h.close,
            h.days.join(","),
            h.time_zone
        );
    }
    if !t.categories.is_empty() {
        let names: Vec<&str> = t.categories.iter().map(|c| c.name.as_str()).collect();
        let _ = writeln!(out, "categories {}", names.join(", "));
    }
    out
}

pub(super) fn tenants_text(tenants: &[pb::Tenant]) -> String {
    if tenants.is_empty() {
        return "no tenants\n".to_owned();
    }
    let rows: Vec<Vec<String>> = tenants
        .iter()
        .map(|t| {
            let plugins: Vec<String> = t
                .plugins
                .iter()
                .map(|g| {
                    if g.enabled {
                        g.plugin.clone()
                    } else {
                        format!("{}(disabled)", g.plugin)
                    }
                })
                .collect();
            vec![
                t.tenant_id.clone(),
                t.revision.to_string(),
                suspension_text(t).to_owned(),
                or_dash(&plugins, ","),
            ]
        })
        .collect();
    table(&["TENANT", "REVISION", "SUSPENDED", "PLUGINS"], &rows)
}

pub(super) fn digest_prefix(digest: &str) -> String {
    digest.chars().take(12).collect()
}

pub(super) fn plugins_text(plugins: &[pb::InstalledPlugin]) -> String {
    if plugins.is_empty() {
        return "no plugins installed\n".to_owned();
    }
    let rows: Vec<Vec<String>> = plugins
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.version.clone(),
                digest_prefix(&p.digest),
                if p.signed_by.is_empty() {
                    "-".to_owned()
                } else {
                    p.signed_by.clone()
                },
                or_dash(&p.used_by, ","),
            ]
        })
        .collect();
    table(
        &["NAME", "VERSION", "DIGEST", "SIGNED BY", "USED BY"],
        &rows,
    )
}

pub(super) fn plugin_text(p: &pb::InstalledPlugin) -> String {
    let previous = if p.previous_version.is_empty() && p.previous_digest.is_empty() {
        "none".to_owned()
    } else {
        format!(
            "{} (sha256:{})",
            p.previous_version,
            digest_prefix(&p.previous_digest)
        )
    };
    let lines = [
        ("name", p.name.clone()),
        ("version", p.version.clone()),
        ("digest", format!("sha256:{}", p.digest)),
        ("description", p.description.clone()),
        ("events", or_dash(&p.events, ", ")),
        ("kv", yes_no(p.wants_kv).to_owned()),
        ("outbound", or_dash(&p.outbound_hosts, ", ")),
        ("settings", or_dash(&p.settings, ", ")),
        ("cacheable", yes_no(p.cacheable).to_owned()),
        ("previous", previous),
        (
            "signed by",
            if p.signed_by.is_empty() {
                "-".to_owned()
            } else {
                p.signed_by.clone()
            },
        ),
        ("used by", or_dash(&p.used_by, ", ")),
    ];
    lines
        .iter()
        .map(|(label, value)| format!("{label:<12} {value}\n"))
        .collect()
}

/// RFC 3339 in UTC, to the second.
pub(super) fn time_text(at: Option<&prost_types::Timestamp>) -> String {
    match at {
        Some(at) => prost_types::Timestamp {
            seconds: at.seconds,
            nanos: 0,
        }
        .to_string(),
        None => "-".to_owned(),
    }
}

pub(super) fn audit_text(entries: &[pb::AuditEntry], changes: bool) -> String {
    if entries.is_empty() {
        return "no audit entries\n".to_owned();
    }
    let row = |e: &pb::AuditEntry| {
        vec![
            e.id.to_string(),
            time_text(e.at.as_ref()),
            e.actor.clone(),
            e.action.clone(),
            e.target.clone(),
            if e.tenant_id.is_empty() {
                "-".to_owned()
            } else {
                e.tenant_id.clone()
            },
        ]
    };
    let headers = ["ID", "TIME", "ACTOR", "ACTION", "TARGET", "TENANT"];
    if !changes {
        let rows: Vec<Vec<String>> = entries.iter().map(row).collect();
        return table(&headers, &rows);
    }
    let mut out = String::new();
    for e in entries {
        out += &row(e).join("  ");
        out.push('\n');
        for (label, json) in [("before", &e.before_json), ("after", &e.after_json)] {
            if !json.is_empty() {
                out += &format!("  {label:<7}{json}\n");
            }
        }
    }
    out
}
