//! Warm instances, seen through the call-counter fixture (`tests/plugins/call-counter`),
//! which notes how many calls its instance has served: one tenant's count never
//! includes another's events, and it starts again after the reuse bound, a trap,
//! memory growth, a refused growth, a timeout, a refused capability, an output
//! refused, an idle time, a settings change, an upgrade or a rollback, a grant's
//! or a secret's change; each call has its own deadline; under
//! `isolation = "event"` it is always 1. A tenant admin may require `event`, never
//! lift it.

use crossdesk_integration_tests::*;
use pb::plugin_outcome::Status;
use tonic::Code;

const COUNTER: &str = "plugin-call-counter";
const OPS: &str = "ops-S3CR3T-warm-0123456789";
const ACME_ADMIN: &str = "acme-admin-S3CR3T-warm";

/// Tenants `acme` and `globex` running the counter, with `extra` after `[runtime]`
/// and `grant` lines in each grant.
fn counters(runtime: &str, grant: &str) -> String {
    install(&[COUNTER])
        + &format!(
            "[runtime]\n{runtime}\n\
             [[tenants]]\nid = \"acme\"\n[[tenants.plugins]]\nname = \"{COUNTER}\"\n{grant}\n\
             [[tenants]]\nid = \"globex\"\n[[tenants.plugins]]\nname = \"{COUNTER}\"\n{grant}\n"
        )
}

/// What the counter noted for `text` sent to `tenant` (`call <n> <label>`), or its
/// failure.
async fn count(server: &TestServer, tenant: &str, id: &str, text: &str) -> Result<String, String> {
    let response = server
        .client()
        .await
        .handle_event(request(customer_message(tenant, id, text)))
        .await
        .unwrap_or_else(|e| panic!("event {id}: {e:?}"))
        .into_inner();
    let outcome = outcome(&response, COUNTER);
    if outcome.status() != Status::Ok {
        return Err(format!("{:?}: {}", outcome.status(), outcome.error));
    }
    match response.actions.first().and_then(|a| a.kind.clone()) {
        Some(pb::action::Kind::InternalNote(note)) => Ok(note.trim().to_owned()),
        other => panic!("no note from the counter: {other:?}"),
    }
}

/// The counts noted for `texts` sent to `tenant` one after the other.
async fn counts(server: &TestServer, tenant: &str, ids: &str, texts: &[&str]) -> Vec<String> {
    let mut noted = Vec::new();
    for (n, text) in texts.iter().enumerate() {
        let id = format!("{ids}-{n}");
        noted.push(count(server, tenant, &id, text).await.unwrap_or_else(|e| e));
    }
    noted
}

#[tokio::test]
async fn a_warm_instance_serves_one_tenant_only() {
    let server = TestServer::start(&counters("", "")).await;
    let hello = ["hello"; 3];
    assert_eq!(
        counts(&server, "acme", "a1", &hello).await,
        ["call 1", "call 2", "call 3"]
    );
    assert_eq!(
        counts(&server, "globex", "g1", &hello[..2]).await,
        ["call 1", "call 2"]
    );
    assert_eq!(counts(&server, "acme", "a2", &hello[..1]).await, ["call 4"]);
}

#[tokio::test]
async fn an_instance_is_recycled_after_its_calls_a_trap_or_memory_growth() {
    let server = TestServer::start(&counters(
        "warm_reuse_calls = [3, 3]\nwarm_growth_mb = 1",
        "",
    ))
    .await;
    let noted = counts(
        &server,
        "acme",
        "r",
        &[
            "a",
            "b",
            "c",
            "d",
            "trap",
            "e",
            "grow",
            "f",
            "grow-refused",
            "g",
        ],
    )
    .await;
    assert_eq!(noted[..4], ["call 1", "call 2", "call 3", "call 1"]);
    assert!(noted[4].starts_with("Failed: trapped"), "{noted:?}");
    // The trap took its instance along; so did growing 2 MiB past the 1 MiB bound,
    // and a growth the limit refused, although the plugin went on.
    assert_eq!(
        noted[5..],
        [
            "call 1",
            "call 2 grew",
            "call 1",
            "call 2 refused true",
            "call 1"
        ]
    );
}

#[tokio::test]
async fn an_instance_is_recycled_after_a_timeout_a_refusal_or_an_output_refused() {
    let server = TestServer::start(&counters(
        "",
        "limits = { timeout_ms = 1000, max_output_bytes = 4096 }",
    ))
    .await;
    let noted = counts(
        &server,
        "acme",
        "t",
        &["a", "spin", "b", "c", "store", "d", "big", "e"],
    )
    .await;
    assert_eq!(noted[0], "call 1");
    assert!(noted[1].starts_with("TimedOut"), "{noted:?}");
    // Each took its instance along: the plugin that went on after its storage
    // was refused too, although its call succeeded.
    assert_eq!(
        noted[2..6],
        ["call 1", "call 2", "call 3 store refused true", "call 1"]
    );
    assert!(noted[6].starts_with("Failed"), "{noted:?}");
    assert_eq!(noted[7], "call 1");
}

/// Each call of a warm instance has a deadline of its own: two calls busy for
/// 800 ms each both finish under a deadline of 1.5 s (the second would not if the
/// deadline counted from the instance's first call).
#[tokio::test]
async fn every_call_of_a_warm_instance_has_its_own_deadline() {
    // A budget past the deadline keeps the calls off the overtime thread, which
    // a busy machine may leave without CPU.
    let server = TestServer::start(&counters(
        "cpu_budget_ms = 5000",
        "limits = { timeout_ms = 1500 }",
    ))
    .await;
    assert_eq!(
        counts(&server, "acme", "d", &["busy"; 2]).await,
        ["call 1 busy", "call 2 busy"]
    );
}

#[tokio::test]
async fn an_instance_idle_past_its_time_is_dropped() {
    let server = TestServer::start(&counters("warm_idle_ms = 2000", "")).await;
    assert_eq!(counts(&server, "acme", "i1", &["x"]).await, ["call 1"]);
    let waiting = async || {
        let metrics = server.sidecar.render_metrics().await;
        metrics
            .lines()
            .find_map(|line| line.strip_prefix("crossdesk_warm_instances "))
            .and_then(|n| n.parse::<f64>().ok())
            .expect("the warm instances gauge")
    };
    assert_eq!(waiting().await, 1.0);
    // The sweep runs once a second.
    let swept = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while waiting().await > 0.0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(swept.is_ok(), "the idle instance is still waiting");
    assert_eq!(counts(&server, "acme", "i2", &["x"]).await, ["call 1"]);
}

#[tokio::test]
async fn event_isolation_gives_every_call_a_fresh_instance() {
    let per_grant = TestServer::start(&counters("", "isolation = \"event\"")).await;
    assert_eq!(
        counts(&per_grant, "acme", "e", &["x"; 3]).await,
        ["call 1"; 3]
    );
    let per_tenant = install(&[COUNTER])
        + &format!(
            "[[tenants]]\nid = \"acme\"\nisolation = \"event\"\n\
             [[tenants.plugins]]\nname = \"{COUNTER}\"\n"
        );
    let per_tenant = TestServer::start(&per_tenant).await;
    assert_eq!(
        counts(&per_tenant, "acme", "t", &["x"; 3]).await,
        ["call 1"; 3]
    );
}

/// A managed sidecar where `acme` and `globex` run the counter.
fn managed() -> String {
    format!(
        r#"
[admin]
listen = "127.0.0.1:0"
users = [
  {{ name = "ops", token = "{OPS}", tenants = ["*"] }},
  {{ name = "acme-admin", token = "{ACME_ADMIN}", tenants = ["acme"] }},
]
"#
    ) + &counters("", "")
}

fn configure(tenant: &str) -> pb::ConfigurePluginRequest {
    pb::ConfigurePluginRequest {
        tenant_id: tenant.into(),
        plugin: COUNTER.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_upgrade_a_rollback_or_a_settings_change_retires_the_instances() {
    let server = TestServer::start(&managed()).await;
    let mut admin = server.admin().await;
    assert_eq!(
        counts(&server, "acme", "s1", &["x"; 2]).await,
        ["call 1", "call 2"]
    );
    // An upgrade (here to another component), then a rollback to the counter's
    // very bytes: each is a new version, served by a fresh instance.
    let upgrade = pb::InstallPluginRequest {
        component: std::fs::read(plugin("plugin-noop")).expect("read plugin"),
        signature: String::new(),
        name: COUNTER.into(),
    };
    admin
        .install_plugin(as_admin(OPS, upgrade))
        .await
        .expect("upgrade");
    let upgraded = server
        .client()
        .await
        .handle_event(request(customer_message("acme", "u-1", "x")))
        .await
        .expect("served")
        .into_inner();
    assert_eq!(outcome(&upgraded, COUNTER).status(), Status::Ok);
    assert!(upgraded.actions.is_empty(), "the no-op ran: {upgraded:?}");
    admin
        .rollback_plugin(as_admin(
            OPS,
            pb::PluginRef {
                name: COUNTER.into(),
            },
        ))
        .await
        .expect("rollback");
    assert_eq!(
        counts(&server, "acme", "s2", &["x"; 2]).await,
        ["call 1", "call 2"]
    );

    let mut change = configure("acme");
    change.set_settings.insert("label".into(), "blue".into());
    admin
        .configure_plugin(as_admin(OPS, change))
        .await
        .expect("settings change");
    assert_eq!(
        counts(&server, "acme", "s3", &["x"; 2]).await,
        ["call 1 blue", "call 2 blue"]
    );
    // Another tenant's change leaves acme's instance be.
    let mut other = configure("globex");
    other.set_settings.insert("label".into(), "red".into());
    admin
        .configure_plugin(as_admin(OPS, other))
        .await
        .expect("globex's change");
    assert_eq!(counts(&server, "acme", "s4", &["x"]).await, ["call 3 blue"]);

    // A grant's change (a host it may reach) and a secret's (set, then another
    // value) each retire acme's instance too.
    let mut grant = configure("acme");
    grant.allowed_hosts = Some(pb::HostList {
        hosts: vec!["api.example.com".into()],
    });
    admin
        .configure_plugin(as_admin(OPS, grant))
        .await
        .expect("grant change");
    assert_eq!(
        counts(&server, "acme", "s5", &["x"; 2]).await,
        ["call 1 blue", "call 2 blue"]
    );
    for (n, value) in ["Bearer one", "Bearer two"].into_iter().enumerate() {
        admin
            .set_secret(as_admin(
                OPS,
                pb::SetSecretRequest {
                    tenant_id: "acme".into(),
                    plugin: COUNTER.into(),
                    host: "api.example.com".into(),
                    header: "authorization".into(),
                    value: value.into(),
                    ..Default::default()
                },
            ))
            .await
            .expect("secret set");
        assert_eq!(
            counts(&server, "acme", &format!("s6-{n}"), &["x"; 2]).await,
            ["call 1 blue", "call 2 blue"],
            "after secret {n}"
        );
    }
}

#[tokio::test]
async fn a_tenant_admin_may_require_event_isolation_and_never_lift_it() {
    let server = TestServer::start(&managed()).await;
    let mut admin = server.admin().await;
    let isolate = |tenant: &str, isolation: pb::Isolation| pb::ConfigurePluginRequest {
        isolation: Some(isolation.into()),
        ..configure(tenant)
    };
    let tenant = admin
        .configure_plugin(as_admin(ACME_ADMIN, isolate("acme", pb::Isolation::Event)))
        .await
        .expect("a tenant admin may require event isolation")
        .into_inner();
    assert_eq!(tenant.plugins[0].isolation(), pb::Isolation::Event);
    assert_eq!(
        counts(&server, "acme", "i1", &["x"; 2]).await,
        ["call 1", "call 1"]
    );
    let refused = admin
        .configure_plugin(as_admin(ACME_ADMIN, isolate("acme", pb::Isolation::Tenant)))
        .await
        .expect_err("only an operator lifts it");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(
        refused
            .message()
            .contains(&format!("plugins.{COUNTER}.isolation")),
        "{refused:?}"
    );
    // Nor by detaching the plugin (attached again, it would start warm), nor by
    // deleting the tenant (created again, it would start from the defaults).
    let detach = pb::DetachPluginRequest {
        tenant_id: "acme".into(),
        plugin: COUNTER.into(),
        expected_revision: 0,
    };
    let refused = admin
        .detach_plugin(as_admin(ACME_ADMIN, detach))
        .await
        .expect_err("detaching would lift it");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(
        refused
            .message()
            .contains(&format!("plugins.{COUNTER}.isolation")),
        "{refused:?}"
    );
    let refused = admin
        .delete_tenant(as_admin(
            ACME_ADMIN,
            pb::TenantRef {
                tenant_id: "acme".into(),
            },
        ))
        .await
        .expect_err("only an admin of every tenant deletes one");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    admin
        .configure_plugin(as_admin(OPS, isolate("acme", pb::Isolation::Tenant)))
        .await
        .expect("the operator lifts it");
    assert_eq!(
        counts(&server, "acme", "i2", &["x"; 2]).await,
        ["call 1", "call 2"]
    );

    // The same for the whole tenant, whatever each grant says.
    let whole = |isolation: pb::Isolation| pb::SetTenantIsolationRequest {
        tenant_id: "acme".into(),
        isolation: isolation.into(),
        expected_revision: 0,
    };
    let tenant = admin
        .set_tenant_isolation(as_admin(ACME_ADMIN, whole(pb::Isolation::Event)))
        .await
        .expect("a tenant admin may require it for the tenant")
        .into_inner();
    assert_eq!(tenant.isolation(), pb::Isolation::Event);
    assert_eq!(tenant.plugins[0].isolation(), pb::Isolation::Tenant);
    assert_eq!(
        counts(&server, "acme", "i3", &["x"; 2]).await,
        ["call 1", "call 1"]
    );
    let refused = admin
        .set_tenant_isolation(as_admin(ACME_ADMIN, whole(pb::Isolation::Tenant)))
        .await
        .expect_err("only an operator lifts it");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("isolation"), "{refused:?}");
    let refused = admin
        .set_tenant_isolation(as_admin(
            ACME_ADMIN,
            pb::SetTenantIsolationRequest {
                tenant_id: "globex".into(),
                ..whole(pb::Isolation::Event)
            },
        ))
        .await
        .expect_err("not its tenant");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    admin
        .set_tenant_isolation(as_admin(OPS, whole(pb::Isolation::Tenant)))
        .await
        .expect("the operator lifts it");
    assert_eq!(
        counts(&server, "acme", "i4", &["x"; 2]).await,
        ["call 1", "call 2"]
    );
}
