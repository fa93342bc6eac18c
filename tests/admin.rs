//! The admin API end to end: a real sidecar with `[admin]` on loopback, tonic
//! clients for both APIs. Changes apply to the next event without a restart, bad
//! settings are refused with the field named, every change is audited, secrets are
//! write-only and sealed at rest, plugins are installed, upgraded, rolled back and
//! removed at runtime, and signatures are enforced when keys are trusted.

use std::time::Duration;

use crossdesk_integration_tests::certs::Authority;
use crossdesk_integration_tests::*;
use pb::admin_service_client::AdminServiceClient;
use tonic::Code;
use tonic::transport::Channel;

const OPS: &str = "ops-S3CR3T-token-0123456789";
const ACME_ADMIN: &str = "acme-admin-S3CR3T-0123";
const BRIDGE: &str = "bridge-event-S3CR3T-0123";

/// A managed sidecar: `[admin]` with `admin_extra` lines, an admin of every tenant
/// (`ops`) and one of `acme` only, the given plugins installed, then `body`.
fn managed(admin_extra: &str, plugins: &[&str], body: &str) -> String {
    format!(
        r#"
[admin]
listen = "127.0.0.1:0"
{admin_extra}
users = [
  {{ name = "ops", token = "{OPS}", tenants = ["*"] }},
  {{ name = "acme-admin", token = "{ACME_ADMIN}", tenants = ["acme"] }},
]
"#
    ) + &install(plugins)
        + body
}

/// Tenant `acme` runs the tagger then the no-op plugin; `globex` the no-op one.
fn two_tenants() -> String {
    managed(
        "",
        &["plugin-tagger", "plugin-noop", "translation"],
        r#"
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "first" }
[[tenants.plugins]]
name = "plugin-noop"

[[tenants]]
id = "globex"
[[tenants.plugins]]
name = "plugin-noop"
"#,
    )
}

async fn send(server: &TestServer, tenant: &str, id: &str) -> pb::HandleEventResponse {
    server
        .client()
        .await
        .handle_event(request(customer_message(tenant, id, "Where is my parcel?")))
        .await
        .unwrap_or_else(|e| panic!("event {id}: {e:?}"))
        .into_inner()
}

fn ran(response: &pb::HandleEventResponse) -> Vec<&str> {
    response
        .outcomes
        .iter()
        .map(|o| o.plugin.as_str())
        .collect()
}

fn configure(tenant: &str, plugin: &str) -> pb::ConfigurePluginRequest {
    pb::ConfigurePluginRequest {
        tenant_id: tenant.into(),
        plugin: plugin.into(),
        ..Default::default()
    }
}

async fn audit(admin: &mut AdminServiceClient<Channel>, tenant: &str) -> Vec<pb::AuditEntry> {
    admin
        .list_audit_log(as_admin(
            OPS,
            pb::ListAuditLogRequest {
                tenant_id: tenant.into(),
                ..Default::default()
            },
        ))
        .await
        .expect("audit log")
        .into_inner()
        .entries
}

/// An admin API call that cannot sign in is turned away on its headers: its
/// body, here a message announced as 60 MiB that never comes, is not waited
/// for. Otherwise anyone who reaches the listener could make the sidecar hold
/// a component's worth of memory per call. So is a plugin's installation by an
/// admin of some tenants only.
#[tokio::test]
async fn a_call_that_cannot_sign_in_is_turned_away_before_its_body() {
    use futures::StreamExt;
    use tonic::client::GrpcService;
    use tonic::codegen::http;
    let server = TestServer::start(&two_tenants()).await;
    let addr = server.admin_addr.expect("admin listener");
    let mut channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let acme_admin = format!("Bearer {ACME_ADMIN}");
    for (token, code) in [
        (None, Code::Unauthenticated),
        (
            Some("Bearer not-an-admin-token-0123456789"),
            Code::Unauthenticated,
        ),
        (Some(acme_admin.as_str()), Code::PermissionDenied),
    ] {
        // A gRPC frame's header (uncompressed, 60 MiB), then nothing.
        let mut announced = vec![0u8];
        announced.extend_from_slice(&(60u32 << 20).to_be_bytes());
        let frames = futures::stream::once(async move {
            Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(bytes::Bytes::from(
                announced,
            )))
        })
        .chain(futures::stream::pending());
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!(
                "http://{addr}/crossdesk.v1.AdminService/InstallPlugin"
            ))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        let request = request
            .body(tonic::body::Body::new(http_body_util::StreamBody::new(
                frames,
            )))
            .expect("request");
        std::future::poll_fn(|cx| channel.poll_ready(cx))
            .await
            .expect("ready");
        let response = tokio::time::timeout(Duration::from_secs(20), channel.call(request))
            .await
            .expect("answered without the body")
            .expect("a response");
        let status = tonic::Status::from_header_map(response.headers()).expect("grpc-status");
        assert_eq!(status.code(), code, "{token:?}: {status:?}");
    }
}

/// Writes `writes` into the server's store as another process would (a
/// newer replica, a hand edit): past the admin API's checks, audited as
/// `action` of `tenant` by `actor`; then the server reloads.
async fn behind_the_apis_back(
    server: &TestServer,
    writes: Vec<crossdesk_sidecar::store::ControlWrite>,
    (actor, tenant, action): (&str, &str, &str),
) {
    let store = crossdesk_sidecar::store::Store::connect(None, None, server.data_dir.path())
        .await
        .expect("the store");
    store
        .apply(
            writes,
            crossdesk_sidecar::store::NewAuditEntry {
                actor: actor.into(),
                tenant: Some(tenant.into()),
                action: action.into(),
                target: tenant.into(),
                before: None,
                after: None,
            },
        )
        .await
        .expect("written behind the API's back");
    server.sidecar.refresh().await.expect("reloaded");
}

/// Installs, as a newer replica would, a plugin this replica cannot load (a
/// future wasm's bytes), and grants it to `tenant`; the tenant's new document.
async fn a_newer_replicas_plugin_for(server: &TestServer, tenant: &str) -> serde_json::Value {
    use crossdesk_sidecar::store::{ControlWrite, PluginBlob};
    use sha2::Digest;
    let bytes = b"\0asm\x0e\0\x01\0 from a newer wasm".to_vec();
    let digest = hex::encode(sha2::Sha256::digest(&bytes));
    let row = stored_tenant(server, tenant).await;
    let mut doc: serde_json::Value = serde_json::from_str(&row.doc).expect("json");
    doc["plugins"]
        .as_array_mut()
        .expect("plugins")
        .push(serde_json::json!({ "name": "plugin-from-a-newer-replica" }));
    let installed = vec![
        ControlWrite::PutPluginBlob(PluginBlob {
            digest: digest.clone(),
            name: "plugin-from-a-newer-replica".into(),
            version: "2.0.0".into(),
            bytes,
            signature: None,
            installed_at_ms: 0,
        }),
        ControlWrite::SetPlugin {
            name: "plugin-from-a-newer-replica".into(),
            active: Some(digest.clone()),
            previous: None,
            // Installed once, granted to the next tenant as it is.
            expected_active: stored_plugin(server, "plugin-from-a-newer-replica").await,
        },
        ControlWrite::PutTenant {
            id: tenant.into(),
            doc: doc.to_string(),
            expected: Some(row.revision),
        },
    ];
    let by_newer = ("newer-replica", tenant, "plugin.install");
    behind_the_apis_back(server, installed, by_newer).await;
    doc
}

/// What the server's store holds of tenants and plugins.
async fn stored_state(server: &TestServer) -> crossdesk_sidecar::store::ControlState {
    crossdesk_sidecar::store::Store::connect(None, None, server.data_dir.path())
        .await
        .expect("the store")
        .control_state()
        .await
        .expect("state")
}

/// The active version of plugin `name` in the server's store, if installed.
async fn stored_plugin(server: &TestServer, name: &str) -> Option<String> {
    let plugins = stored_state(server).await.plugins;
    plugins
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| p.active)
}

/// How many `/metrics` series name `tenant`.
async fn series_of(server: &TestServer, tenant: &str) -> usize {
    let metrics = server.sidecar.render_metrics().await;
    let label = format!("tenant=\"{tenant}\"");
    metrics.lines().filter(|line| line.contains(&label)).count()
}

/// Tenant `id` as the server's store holds it.
async fn stored_tenant(server: &TestServer, id: &str) -> crossdesk_sidecar::store::TenantRow {
    let tenants = stored_state(server).await.tenants;
    tenants.into_iter().find(|t| t.id == id).expect("stored")
}

/// Sends an event of `tenant` that this replica does not serve: UNAVAILABLE
/// (to come again, perhaps to a replica that can), saying so.
async fn not_served_here(server: &TestServer, tenant: &str, id: &str) {
    let refused = server
        .client()
        .await
        .handle_event(request(customer_message(tenant, id, "hello")))
        .await
        .expect_err("not served here");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(
        refused
            .message()
            .contains("cannot be served by this replica"),
        "{refused:?}"
    );
}

/// A tenant whose stored document cannot be read (a hand edit of the database,
/// a bug) keeps no one else from their tenants: the others are listed, served
/// and changed, and asking for that one says why it cannot be shown.
#[tokio::test]
async fn a_tenant_whose_document_cannot_be_read_holds_no_other_back() {
    use crossdesk_sidecar::store::ControlWrite;
    let server = TestServer::start(&two_tenants()).await;
    let broken = ControlWrite::PutTenant {
        id: "broken".into(),
        // JSON (the store checks that), not a tenant's document.
        doc: r#"{"plugins": "none"}"#.into(),
        expected: None,
    };
    behind_the_apis_back(&server, vec![broken], ("ops", "broken", "tenant.create")).await;
    let mut admin = server.admin().await;
    let listed: Vec<String> = admin
        .list_tenants(as_admin(OPS, pb::ListTenantsRequest {}))
        .await
        .expect("the others are listed")
        .into_inner()
        .tenants
        .into_iter()
        .map(|t| t.tenant_id)
        .collect();
    assert_eq!(listed, ["acme", "globex"]);
    let refused = admin
        .get_tenant(as_admin(
            OPS,
            pb::TenantRef {
                tenant_id: "broken".into(),
            },
        ))
        .await
        .expect_err("unreadable");
    assert!(
        refused.message().contains("unreadable settings document"),
        "{refused:?}"
    );
    // Changes to the others still reach their pipelines.
    let mut off = configure("acme", "plugin-noop");
    off.enabled = Some(false);
    admin
        .configure_plugin(as_admin(OPS, off))
        .await
        .expect("acme changes");
    assert_eq!(ran(&send(&server, "acme", "b-1").await), ["plugin-tagger"]);
    // Its events are to come again (a replica that can read it may be next).
    not_served_here(&server, "broken", "b-2").await;
    // The way out: it can be deleted, its document recorded as stored.
    admin
        .delete_tenant(as_admin(
            OPS,
            pb::TenantRef {
                tenant_id: "broken".into(),
            },
        ))
        .await
        .expect("deleted");
    let deleted = audit(&mut admin, "broken").await;
    assert_eq!(deleted[0].action, "tenant.delete");
    assert!(deleted[0].before_json.contains("none"), "{deleted:?}");
}

/// A secret this replica cannot open (sealed under another master key, or
/// changed in the store) leaves its tenant unserved here, not every tenant.
#[tokio::test]
async fn a_secret_that_cannot_be_opened_holds_no_other_tenant_back() {
    use crossdesk_sidecar::store::{ControlWrite, SecretRow};
    let server = TestServer::start(&two_tenants()).await;
    let secret = ControlWrite::PutSecret(SecretRow {
        tenant: "globex".into(),
        plugin: "plugin-noop".into(),
        host: "api.example.com".into(),
        header: "authorization".into(),
        sealed: b"sealed under another key".to_vec(),
    });
    behind_the_apis_back(&server, vec![secret], ("ops", "globex", "secret.set")).await;
    assert_eq!(
        ran(&send(&server, "acme", "s-1").await),
        ["plugin-tagger", "plugin-noop"]
    );
    not_served_here(&server, "globex", "s-2").await;
    // Suspended, it answers as suspended, whatever this replica can load.
    let mut admin = server.admin().await;
    admin
        .set_tenant_suspended(as_admin(
            OPS,
            pb::SetTenantSuspendedRequest {
                tenant_id: "globex".into(),
                suspended: true,
                expected_revision: 0,
            },
        ))
        .await
        .expect("suspended");
    let refused = server
        .client()
        .await
        .handle_event(request(customer_message("globex", "s-3", "hello")))
        .await
        .expect_err("suspended");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
}

/// A plugin version this replica cannot load (one a newer replica installed
/// during a rolling upgrade; here, bytes that are no component) leaves out
/// only what needs it: the tenant granted it is not served here (its events
/// are to come again, not refused for good), not even as it was, which could
/// run what the change revoked; the other tenants' changes still apply.
#[tokio::test]
async fn a_plugin_this_replica_cannot_load_holds_no_other_tenant_back() {
    use crossdesk_sidecar::store::ControlWrite;
    let server = TestServer::start(&two_tenants()).await;
    let doc = a_newer_replicas_plugin_for(&server, "acme").await;
    not_served_here(&server, "acme", "n-1").await;
    // Nor a tenant new to this replica that needs it.
    let mut newer = doc.clone();
    newer["incarnation"] = serde_json::json!("0123456789abcdef0123456789abcdef");
    let created = ControlWrite::PutTenant {
        id: "initech".into(),
        doc: newer.to_string(),
        expected: None,
    };
    let by_newer = ("newer-replica", "initech", "tenant.create");
    behind_the_apis_back(&server, vec![created], by_newer).await;
    not_served_here(&server, "initech", "n-3").await;
    // Nor are its plugins' imports and commands run here.
    let mut admin = server.admin().await;
    let refused = admin
        .import_plugin_data(as_admin(
            OPS,
            pb::ImportPluginDataRequest {
                tenant_id: "acme".into(),
                plugin: "plugin-noop".into(),
                dataset: "any".into(),
                format: "json".into(),
                content: b"{}".to_vec(),
            },
        ))
        .await
        .expect_err("not served here");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    // The other tenants' changes still apply.
    let mut off = configure("globex", "plugin-noop");
    off.enabled = Some(false);
    admin
        .configure_plugin(as_admin(OPS, off))
        .await
        .expect("globex changes");
    assert!(ran(&send(&server, "globex", "n-2").await).is_empty());
    let install_as = |name: &str, file: &str| pb::InstallPluginRequest {
        name: name.into(),
        component: std::fs::read(plugin(file)).expect("read"),
        ..Default::default()
    };
    // Another plugin's upgrade is not refused for acme, whose grant of the
    // plugin this replica cannot load is checked by the replicas that can.
    let upgrade = install_as("plugin-noop", "plugin-call-counter");
    admin
        .install_plugin(as_admin(OPS, upgrade))
        .await
        .expect("upgraded");
    // A version this replica can load replaces it, and acme is served again.
    let replacement = install_as("plugin-from-a-newer-replica", "plugin-noop");
    admin
        .install_plugin(as_admin(OPS, replacement))
        .await
        .expect("replaced");
    assert_eq!(
        ran(&send(&server, "acme", "n-4").await),
        [
            "plugin-tagger",
            "plugin-noop",
            "plugin-from-a-newer-replica"
        ]
    );
}

/// A tenant deleted while this replica could not serve it is forgotten here as
/// one deleted while served: its event counts leave `/metrics`.
#[tokio::test]
async fn a_tenant_deleted_while_not_served_here_leaves_metrics_too() {
    let server = TestServer::start(&two_tenants()).await;
    let acme_series = async || series_of(&server, "acme").await;
    send(&server, "acme", "u-1").await;
    assert!(acme_series().await > 0);
    a_newer_replicas_plugin_for(&server, "acme").await;
    not_served_here(&server, "acme", "u-2").await;
    assert!(acme_series().await > 0, "kept while it is stored");
    let mut admin = server.admin().await;
    admin
        .delete_tenant(as_admin(
            OPS,
            pb::TenantRef {
                tenant_id: "acme".into(),
            },
        ))
        .await
        .expect("deleted");
    assert_eq!(acme_series().await, 0);
}

/// A newer replica stored fields this version does not know (a rolling
/// upgrade): this one still serves the tenant, ignoring them, but refuses to
/// change it, which would write the document back without them.
#[tokio::test]
async fn a_tenant_a_newer_version_stored_is_served_but_not_rewritten() {
    use crossdesk_sidecar::store::ControlWrite;
    let server = TestServer::start(&two_tenants()).await;
    let row = stored_tenant(&server, "acme").await;
    let mut doc: serde_json::Value = serde_json::from_str(&row.doc).expect("json");
    doc["plugins"][0]["canary"] = serde_json::json!(0.5);
    doc["plugins"][0]["limits"]["cpu_ms"] = serde_json::json!(5);
    doc["region"] = serde_json::json!("eu");
    let changed = ControlWrite::PutTenant {
        id: "acme".into(),
        doc: doc.to_string(),
        expected: Some(row.revision),
    };
    behind_the_apis_back(&server, vec![changed], ("ops", "acme", "plugin.configure")).await;
    assert_eq!(
        ran(&send(&server, "acme", "t-1").await),
        ["plugin-tagger", "plugin-noop"]
    );
    let mut admin = server.admin().await;
    let mut off = configure("acme", "plugin-noop");
    off.enabled = Some(false);
    let refused = admin
        .configure_plugin(as_admin(OPS, off))
        .await
        .expect_err("would drop the newer fields");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    for field in ["plugins[0].canary", "plugins[0].limits.cpu_ms", "region"] {
        assert!(refused.message().contains(field), "{refused:?}");
    }
    let mut off = configure("globex", "plugin-noop");
    off.enabled = Some(false);
    admin
        .configure_plugin(as_admin(OPS, off))
        .await
        .expect("another tenant changes");
}

#[tokio::test]
async fn a_toggle_or_a_setting_applies_to_the_next_event() {
    let server = TestServer::start(&two_tenants()).await;
    let mut admin = server.admin().await;
    let first = send(&server, "acme", "t-1").await;
    assert_eq!(ran(&first), ["plugin-tagger", "plugin-noop"]);
    assert_eq!(tags(&first), ["first"]);

    let mut off = configure("acme", "plugin-tagger");
    off.enabled = Some(false);
    let tenant = admin
        .configure_plugin(as_admin(OPS, off))
        .await
        .expect("disable")
        .into_inner();
    assert!(!tenant.plugins[0].enabled);
    assert_eq!(ran(&send(&server, "acme", "t-2").await), ["plugin-noop"]);

    let mut on = configure("acme", "plugin-tagger");
    on.enabled = Some(true);
    on.set_settings.insert("tag".into(), "second".into());
    admin
        .configure_plugin(as_admin(OPS, on))
        .await
        .expect("enable and set");
    let third = send(&server, "acme", "t-3").await;
    assert_eq!(ran(&third), ["plugin-tagger", "plugin-noop"]);
    assert_eq!(
        tags(&third),
        ["second"],
        "the new setting, not a cached result"
    );
    // The other tenant never noticed.
    assert_eq!(ran(&send(&server, "globex", "g-1").await), ["plugin-noop"]);
}

#[tokio::test]
async fn the_order_changes_for_every_event_or_for_one_kind() {
    let server = TestServer::start(&two_tenants()).await;
    let mut admin = server.admin().await;
    let order = |kind: &str, plugins: &[&str]| pb::SetPipelineOrderRequest {
        tenant_id: "acme".into(),
        event_kind: kind.into(),
        plugins: plugins.iter().map(|p| (*p).to_owned()).collect(),
        expected_revision: 0,
    };
    admin
        .set_pipeline_order(as_admin(OPS, order("", &["plugin-noop", "plugin-tagger"])))
        .await
        .expect("default order");
    assert_eq!(
        ran(&send(&server, "acme", "o-1").await),
        ["plugin-noop", "plugin-tagger"]
    );

    admin
        .set_pipeline_order(as_admin(
            OPS,
            order("customer-message", &["plugin-tagger", "plugin-noop"]),
        ))
        .await
        .expect("order for customer messages");
    assert_eq!(
        ran(&send(&server, "acme", "o-2").await),
        ["plugin-tagger", "plugin-noop"]
    );
    let mut draft = customer_message("acme", "o-3", "Thanks!");
    draft.kind = pb::EventKind::AgentReplyDrafted as i32;
    let reply = server
        .client()
        .await
        .handle_event(request(draft))
        .await
        .expect("draft")
        .into_inner();
    assert_eq!(
        ran(&reply),
        ["plugin-noop", "plugin-tagger"],
        "other kinds keep the default order"
    );

    let refused = admin
        .set_pipeline_order(as_admin(OPS, order("ticket-solved", &["plugin-noop"])))
        .await
        .expect_err("an order must name every plugin");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("pipelines.ticket-solved")
            && refused.message().contains("plugin-tagger"),
        "{}",
        refused.message()
    );
}

#[tokio::test]
async fn bad_settings_are_refused_with_the_field_named_and_change_nothing() {
    let server = TestServer::start(&two_tenants()).await;
    let mut admin = server.admin().await;
    let before = admin
        .get_tenant(as_admin(
            OPS,
            pb::TenantRef {
                tenant_id: "acme".into(),
            },
        ))
        .await
        .expect("tenant")
        .into_inner();
    let audited = audit(&mut admin, "acme").await.len();

    let with = |key: &str, value: &str| {
        let mut request = configure("acme", "translation");
        request.set_settings.insert(key.into(), value.into());
        request
    };
    // Read access to another plugin's storage: only a plugin of this pipeline.
    let reads = |plugin: &str| {
        let mut request = configure("acme", "translation");
        request.kv_read = Some(pb::PluginList {
            plugins: vec![plugin.into()],
        });
        request
    };
    let mut bad_host = configure("acme", "translation");
    bad_host.allowed_hosts = Some(pb::HostList {
        hosts: vec!["http://example.com/path".into()],
    });
    let mut too_big = configure("acme", "translation");
    too_big.limits = Some(pb::LimitOverrides {
        max_memory_bytes: Some(1 << 40),
        ..Default::default()
    });
    let cases = [
        (
            with("engine", "bing"),
            "plugins.translation.settings.engine",
            "apertium",
        ),
        (
            with("min_detect_chars", "many"),
            "plugins.translation.settings.min_detect_chars",
            "many",
        ),
        (
            with("engine_url", "ftp://mt.example.com"),
            "plugins.translation.settings.engine_url",
            "http",
        ),
        (
            with("agent_language", "en_US"),
            "plugins.translation.settings.agent_language",
            "-",
        ),
        (
            with("colour", "blue"),
            "plugins.translation.settings.colour",
            "engine",
        ),
        (
            bad_host,
            "plugins.translation.allowed_hosts[0]",
            "example.com",
        ),
        (
            too_big,
            "plugins.translation.limits.max_memory_bytes",
            "ceiling",
        ),
        (
            configure("acme", "no-such-plugin"),
            "plugins.no-such-plugin",
            "no installed plugin",
        ),
        (
            reads("globex"),
            "plugins.translation.kv_read[0]",
            "not in the tenant's pipeline",
        ),
    ];
    for (request, field, hint) in cases {
        let refused = admin
            .configure_plugin(as_admin(OPS, request))
            .await
            .expect_err(field);
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{field}: {refused:?}"
        );
        assert!(
            refused.message().contains(field) && refused.message().contains(hint),
            "{field}: {}",
            refused.message()
        );
    }
    let after = admin
        .get_tenant(as_admin(
            OPS,
            pb::TenantRef {
                tenant_id: "acme".into(),
            },
        ))
        .await
        .expect("tenant")
        .into_inner();
    assert_eq!(after, before, "a refused change changes nothing");
    assert_eq!(audit(&mut admin, "acme").await.len(), audited);

    // A good value of the same settings goes through.
    admin
        .configure_plugin(as_admin(OPS, with("engine", "deepl")))
        .await
        .expect("a valid value is accepted");
    let granted = admin
        .configure_plugin(as_admin(OPS, reads("plugin-tagger")))
        .await
        .expect("a plugin of the pipeline may be read")
        .into_inner();
    let translation = granted
        .plugins
        .iter()
        .find(|g| g.plugin == "translation")
        .expect("translation attached");
    assert_eq!(translation.kv_read, ["plugin-tagger"]);
}

#[tokio::test]
async fn a_tenant_admin_grants_no_more_than_the_operator_allows() {
    let server = TestServer::start(&managed(
        "",
        &["plugin-tagger", "plugin-noop"],
        r#"
[tenant_admins]
max_limits = { timeout_ms = 3000 }
max_quota = { burst = 100 }

[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "t" }
[[tenants.plugins]]
name = "plugin-noop"

[[tenants]]
id = "globex"
[[tenants.plugins]]
name = "plugin-noop"
"#,
    ))
    .await;
    let mut admin = server.admin().await;
    let timeout = |ms: u64| {
        let mut request = configure("acme", "plugin-tagger");
        request.limits = Some(pb::LimitOverrides {
            timeout_ms: Some(ms),
            ..Default::default()
        });
        request
    };
    let refused = admin
        .configure_plugin(as_admin(ACME_ADMIN, timeout(10_000)))
        .await
        .expect_err("above the tenant admins' ceiling");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused
            .message()
            .contains("plugins.plugin-tagger.limits.timeout_ms")
            && refused.message().contains("tenant_admins"),
        "{refused:?}"
    );
    for (who, ms) in [(ACME_ADMIN, 3_000), (OPS, 10_000)] {
        admin
            .configure_plugin(as_admin(who, timeout(ms)))
            .await
            .unwrap_or_else(|e| panic!("{who} may set {ms} ms: {e:?}"));
    }
    // What the operator set stays through the tenant admin's other changes…
    let mut setting = configure("acme", "plugin-tagger");
    setting.set_settings.insert("tag".into(), "u".into());
    admin
        .configure_plugin(as_admin(ACME_ADMIN, setting))
        .await
        .expect("an unrelated change");
    // …and is not theirs to raise.
    let refused = admin
        .configure_plugin(as_admin(ACME_ADMIN, timeout(20_000)))
        .await
        .expect_err("raised");
    assert_eq!(refused.code(), Code::InvalidArgument);
    // Lowered, it may go back up to the operator's 10 s, above their own ceiling
    // (3 s), and everyone reads what the operator set.
    let lowered = admin
        .configure_plugin(as_admin(ACME_ADMIN, timeout(2_000)))
        .await
        .expect("lowered")
        .into_inner();
    let grant = lowered
        .plugins
        .iter()
        .find(|g| g.plugin == "plugin-tagger")
        .expect("grant");
    assert!(grant.limits_by_operator);
    let operators = grant
        .operator_limits
        .as_ref()
        .expect("the operator's limits");
    assert_eq!(operators.timeout_ms, Some(10_000));
    admin
        .configure_plugin(as_admin(ACME_ADMIN, timeout(10_000)))
        .await
        .expect("back to the operator's");

    let quota = |burst: u32| pb::SetQuotaRequest {
        tenant_id: "acme".into(),
        quota: Some(pb::QuotaOverrides {
            burst: Some(burst),
            ..Default::default()
        }),
        expected_revision: 0,
    };
    let refused = admin
        .set_quota(as_admin(ACME_ADMIN, quota(1_000)))
        .await
        .expect_err("quota above the ceiling");
    assert!(refused.message().contains("quota.burst"), "{refused:?}");
    admin
        .set_quota(as_admin(ACME_ADMIN, quota(50)))
        .await
        .expect("a lower quota");
    // A quota the operator lowers stays theirs: the tenant admin may go lower,
    // and back up to it, not above (not even to what they had, within their
    // ceiling).
    let tenant = admin
        .set_quota(as_admin(OPS, quota(20)))
        .await
        .expect("the operator's quota")
        .into_inner();
    assert!(tenant.quota_by_operator);
    let reset = pb::SetQuotaRequest {
        quota: Some(pb::QuotaOverrides::default()),
        ..quota(0)
    };
    let refused = admin
        .set_quota(as_admin(ACME_ADMIN, quota(50)))
        .await
        .expect_err("the operator's quota undone");
    assert!(refused.message().contains("operator set"), "{refused:?}");
    let tenant = admin
        .set_quota(as_admin(ACME_ADMIN, quota(10)))
        .await
        .expect("lower still")
        .into_inner();
    let operators = tenant.operator_quota.expect("the operator's quota");
    assert_eq!(operators.burst, Some(20));
    admin
        .set_quota(as_admin(ACME_ADMIN, quota(20)))
        .await
        .expect("back up to the operator's");
    let refused = admin
        .set_quota(as_admin(ACME_ADMIN, quota(21)))
        .await
        .expect_err("above the operator's");
    assert!(
        refused
            .message()
            .contains("above 20, which the operator set"),
        "{refused:?}"
    );
    let tenant = admin
        .set_quota(as_admin(OPS, reset))
        .await
        .expect("the operator lifts it")
        .into_inner();
    assert!(!tenant.quota_by_operator);

    // The tenant admin suspends and resumes their tenant, but not what the
    // operator suspended.
    let suspend = |suspended| pb::SetTenantSuspendedRequest {
        tenant_id: "acme".into(),
        suspended,
        expected_revision: 0,
    };
    for suspended in [true, false] {
        let tenant = admin
            .set_tenant_suspended(as_admin(ACME_ADMIN, suspend(suspended)))
            .await
            .expect("their own suspension")
            .into_inner();
        assert_eq!(
            (tenant.suspended, tenant.suspended_by_operator),
            (suspended, false)
        );
    }
    let tenant = admin
        .set_tenant_suspended(as_admin(OPS, suspend(true)))
        .await
        .expect("the operator suspends")
        .into_inner();
    assert!(tenant.suspended && tenant.suspended_by_operator);
    let refused = admin
        .set_tenant_suspended(as_admin(ACME_ADMIN, suspend(false)))
        .await
        .expect_err("the operator's suspension");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("suspended"), "{refused:?}");
    let events = server
        .client()
        .await
        .handle_event(request(customer_message("acme", "s-1", "hi")))
        .await
        .expect_err("still suspended");
    assert_eq!(events.code(), Code::FailedPrecondition);
    let tenant = admin
        .set_tenant_suspended(as_admin(OPS, suspend(false)))
        .await
        .expect("the operator resumes")
        .into_inner();
    assert!(!tenant.suspended && !tenant.suspended_by_operator);

    // Loopback, private and link-local space is the operator file's to open: no
    // admin's grant names it.
    for who in [ACME_ADMIN, OPS] {
        let mut metadata = configure("acme", "plugin-tagger");
        metadata.allowed_hosts = Some(pb::HostList {
            hosts: vec!["169.254.169.254".into()],
        });
        let refused = admin
            .configure_plugin(as_admin(who, metadata))
            .await
            .expect_err("a private address");
        assert_eq!(refused.code(), Code::InvalidArgument, "{who}");
        assert!(refused.message().contains("private_hosts"), "{refused:?}");
    }

    // Who else runs a plugin is not a tenant admin's to know.
    let used_by = |token: &'static str| {
        let mut admin = admin.clone();
        async move {
            let plugins = admin
                .list_plugins(as_admin(token, pb::ListPluginsRequest {}))
                .await
                .expect("list")
                .into_inner()
                .plugins;
            plugins
                .into_iter()
                .find(|p| p.name == "plugin-noop")
                .expect("installed")
                .used_by
        }
    };
    assert_eq!(used_by(OPS).await, ["acme", "globex"]);
    assert_eq!(used_by(ACME_ADMIN).await, ["acme"]);
}

#[tokio::test]
async fn every_change_is_audited_with_who_what_and_before_after() {
    let server = TestServer::start(&two_tenants()).await;
    let mut admin = server.admin().await;
    admin
        .create_tenant(as_admin(
            ACME_ADMIN,
            pb::CreateTenantRequest {
                tenant_id: "acme".into(),
            },
        ))
        .await
        .expect_err("acme exists already");
    let mut request = configure("acme", "plugin-tagger");
    request.set_settings.insert("tag".into(), "audited".into());
    admin
        .configure_plugin(as_admin(ACME_ADMIN, request))
        .await
        .expect("configure");
    admin
        .set_tenant_suspended(as_admin(
            OPS,
            pb::SetTenantSuspendedRequest {
                tenant_id: "acme".into(),
                suspended: true,
                expected_revision: 0,
            },
        ))
        .await
        .expect("suspend");

    let entries = audit(&mut admin, "acme").await;
    let summary: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("ops", "tenant.suspend"),
            ("acme-admin", "plugin.configure"),
        ],
        "newest first; the refused create left no entry; the seed is not a tenant's entry"
    );
    let configured = &entries[1];
    assert_eq!(configured.target, "plugin-tagger");
    assert!(
        configured.before_json.contains("\"first\""),
        "{configured:?}"
    );
    assert!(
        configured.after_json.contains("\"audited\""),
        "{configured:?}"
    );
    assert!(
        configured
            .at
            .as_ref()
            .is_some_and(|t| t.seconds > 1_700_000_000)
    );

    let all = admin
        .list_audit_log(as_admin(OPS, pb::ListAuditLogRequest::default()))
        .await
        .expect("whole log")
        .into_inner()
        .entries;
    let oldest = all.last().expect("entries");
    assert_eq!(
        (oldest.actor.as_str(), oldest.action.as_str()),
        ("config-file", "store.seed"),
        "the first start imported the configuration file"
    );
    // Paging backwards.
    let page = admin
        .list_audit_log(as_admin(
            OPS,
            pb::ListAuditLogRequest {
                limit: 1,
                before_id: all[0].id,
                ..Default::default()
            },
        ))
        .await
        .expect("page")
        .into_inner()
        .entries;
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, all[1].id);
}

#[tokio::test]
async fn both_apis_refuse_the_wrong_credentials_and_other_tenants() {
    let config =
        format!("[[callers]]\nname = \"bridge\"\ntoken = \"{BRIDGE}\"\ntenants = [\"acme\"]\n")
            + &two_tenants();
    let server = TestServer::start(&config).await;
    let mut admin = server.admin().await;
    let list = || pb::ListTenantsRequest {};

    let anonymous = admin
        .list_tenants(tonic::Request::new(list()))
        .await
        .expect_err("no token");
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    for token in ["not-a-token-at-all-000", BRIDGE] {
        let refused = admin
            .list_tenants(as_admin(token, list()))
            .await
            .expect_err("not an admin token");
        assert_eq!(refused.code(), Code::Unauthenticated, "{token}");
    }
    // An admin token is no event-API credential either.
    let mut events = server.client().await;
    let refused = events
        .handle_event(as_admin(
            OPS,
            request(customer_message("acme", "x-1", "hi")),
        ))
        .await
        .expect_err("admin token on the event API");
    assert_eq!(refused.code(), Code::Unauthenticated);
    let refused = events
        .handle_event(as_admin(
            BRIDGE,
            request(customer_message("globex", "x-2", "hi")),
        ))
        .await
        .expect_err("the bridge is acme's");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // An admin of acme sees and changes acme only.
    let visible: Vec<String> = admin
        .list_tenants(as_admin(ACME_ADMIN, list()))
        .await
        .expect("list")
        .into_inner()
        .tenants
        .into_iter()
        .map(|t| t.tenant_id)
        .collect();
    assert_eq!(visible, ["acme"]);
    let denied = [
        admin
            .get_tenant(as_admin(
                ACME_ADMIN,
                pb::TenantRef {
                    tenant_id: "globex".into(),
                },
            ))
            .await
            .map(drop),
        admin
            .configure_plugin(as_admin(ACME_ADMIN, configure("globex", "plugin-noop")))
            .await
            .map(drop),
        admin
            .list_audit_log(as_admin(
                ACME_ADMIN,
                pb::ListAuditLogRequest {
                    tenant_id: "globex".into(),
                    ..Default::default()
                },
            ))
            .await
            .map(drop),
        admin
            .list_audit_log(as_admin(ACME_ADMIN, pb::ListAuditLogRequest::default()))
            .await
            .map(drop),
        admin
            .install_plugin(as_admin(
                ACME_ADMIN,
                pb::InstallPluginRequest {
                    component: std::fs::read(plugin("plugin-noop")).expect("read"),
                    ..Default::default()
                },
            ))
            .await
            .map(drop),
    ];
    for (i, result) in denied.into_iter().enumerate() {
        let status = result.expect_err("denied");
        assert_eq!(
            status.code(),
            Code::PermissionDenied,
            "case {i}: {status:?}"
        );
    }
}

/// Replica `b` never sees `acme` deleted: it is deleted and created again through
/// `a` while `b` does not reload. Yet when `b` reloads, no warm instance, cached
/// result or remembered response of the former `acme` serves the new one.
#[tokio::test]
async fn a_tenant_created_again_is_new_to_a_replica_that_missed_its_deletion() {
    let url = crossdesk_integration_tests::postgres::TestPostgres::fresh_database().await;
    // Neither polls the store: each reloads after its own admin changes only.
    let storage = format!("[storage]\nurl = \"{url}\"\npoll_ms = 3600000\n");
    let config = managed("", &["plugin-cache-unstable"], &storage);
    let a = TestServer::start(&config).await;
    let b = TestServer::start(&config).await;
    let (mut admin_a, mut admin_b) = (a.admin().await, b.admin().await);
    let create = |id: &str| {
        as_admin(
            OPS,
            pb::CreateTenantRequest {
                tenant_id: id.into(),
            },
        )
    };
    let plugin = "plugin-cache-unstable";
    let send_b = |id: &'static str, text: &'static str| {
        let b = &b;
        async move {
            let response = b
                .client()
                .await
                .handle_event(request(customer_message("acme", id, text)))
                .await
                .unwrap_or_else(|e| panic!("event {id}: {e:?}"))
                .into_inner();
            let hit = !response.outcomes.is_empty() && outcome(&response, plugin).cache_hit;
            (notes(&response).join(""), hit, response.replayed)
        }
    };
    admin_b.create_tenant(create("acme")).await.expect("create");
    let attach = |admin: &mut AdminServiceClient<Channel>| {
        let mut admin = admin.clone();
        async move {
            admin
                .configure_plugin(as_admin(OPS, configure("acme", plugin)))
                .await
                .expect("attach")
        }
    };
    attach(&mut admin_b).await;
    assert_eq!(send_b("k-1", "one").await, ("call 1".into(), false, false));
    assert_eq!(send_b("k-2", "two").await, ("call 2".into(), false, false));
    assert_eq!(send_b("k-3", "one").await, ("call 1".into(), true, false));

    let acme = pb::TenantRef {
        tenant_id: "acme".into(),
    };
    admin_a
        .delete_tenant(as_admin(OPS, acme))
        .await
        .expect("delete");
    admin_a.create_tenant(create("acme")).await.expect("again");
    attach(&mut admin_a).await;
    // `b` reloads after a change of its own, and finds `acme` as it was, but for
    // its incarnation.
    admin_b
        .create_tenant(create("globex"))
        .await
        .expect("reload");

    // Computed, on a fresh instance: not the former tenant's cached result, nor
    // its warm instance.
    assert_eq!(send_b("k-4", "one").await, ("call 1".into(), false, false));
    assert_eq!(
        send_b("k-5", "three").await,
        ("call 2".into(), false, false)
    );
    // An event id of the former life is not replayed from `b`'s memory.
    let (_, _, replayed) = send_b("k-2", "two").await;
    assert!(
        !replayed,
        "k-2 answered from the deleted tenant's responses"
    );
}

#[tokio::test]
async fn a_suspended_tenant_is_refused_and_a_deleted_one_loses_its_data() {
    let server = TestServer::start(&managed(
        "",
        &["plugin-kv-counter"],
        "[[tenants]]\nid = \"acme\"\n[[tenants.plugins]]\nname = \"plugin-kv-counter\"\nkv = true\n",
    ))
    .await;
    let mut admin = server.admin().await;
    assert_eq!(notes(&send(&server, "acme", "k-1").await), ["count: 1"]);
    let suspend = |suspended| pb::SetTenantSuspendedRequest {
        tenant_id: "acme".into(),
        suspended,
        expected_revision: 0,
    };
    admin
        .set_tenant_suspended(as_admin(OPS, suspend(true)))
        .await
        .expect("suspend");
    let refused = server
        .client()
        .await
        .handle_event(request(customer_message("acme", "k-2", "hi")))
        .await
        .expect_err("suspended");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    admin
        .set_tenant_suspended(as_admin(OPS, suspend(false)))
        .await
        .expect("resume");
    assert_eq!(notes(&send(&server, "acme", "k-3").await), ["count: 2"]);
    let acme_series = async || series_of(&server, "acme").await;
    assert!(acme_series().await > 0);

    admin
        .delete_tenant(as_admin(
            OPS,
            pb::TenantRef {
                tenant_id: "acme".into(),
            },
        ))
        .await
        .expect("delete");
    let gone = server
        .client()
        .await
        .handle_event(request(customer_message("acme", "k-4", "hi")))
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Code::NotFound);
    // Its event counts leave `/metrics` with it.
    assert_eq!(acme_series().await, 0);
    // A tenant created again under the same id starts from nothing.
    admin
        .create_tenant(as_admin(
            OPS,
            pb::CreateTenantRequest {
                tenant_id: "acme".into(),
            },
        ))
        .await
        .expect("create");
    let mut counter = configure("acme", "plugin-kv-counter");
    counter.kv = Some(true);
    admin
        .configure_plugin(as_admin(OPS, counter))
        .await
        .expect("enable");
    assert_eq!(notes(&send(&server, "acme", "k-5").await), ["count: 1"]);
    // An event id its former life answered runs again: nothing remembers it,
    // neither the store nor this process's memory.
    let again = send(&server, "acme", "k-1").await;
    assert!(!again.replayed, "{again:?}");
    assert_eq!(notes(&again), ["count: 2"]);
    // Its admin reads the audit of its present life only; the operator all.
    let actions = |token: &'static str| {
        let mut admin = admin.clone();
        async move {
            admin
                .list_audit_log(as_admin(
                    token,
                    pb::ListAuditLogRequest {
                        tenant_id: "acme".into(),
                        limit: 100,
                        before_id: 0,
                    },
                ))
                .await
                .expect("audit")
                .into_inner()
                .entries
                .into_iter()
                .map(|e| e.action)
                .collect::<Vec<_>>()
        }
    };
    let theirs = actions(ACME_ADMIN).await;
    assert_eq!(theirs.len(), 2, "{theirs:?}");
    assert!(
        theirs
            .iter()
            .all(|a| a != "tenant.delete" && a != "tenant.suspend")
    );
    let all = actions(OPS).await;
    assert!(
        all.iter().any(|a| a == "tenant.delete") && all.len() > 2,
        "{all:?}"
    );
}

#[tokio::test]
async fn an_event_in_flight_finishes_with_the_settings_it_started_with() {
    // The fetcher waits on a slow server, so the first event is still running when
    // the tagger's setting changes.
    let (addr, mut requests) = recording_http_server(Duration::from_millis(1500)).await;
    let server = TestServer::start(&managed(
        "",
        &["plugin-forbidden-host", "plugin-tagger"],
        &format!(
            r#"
[outbound]
private_hosts = ["127.0.0.1"]
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-forbidden-host"
allowed_hosts = ["127.0.0.1:{port}"]
settings = {{ url = "http://127.0.0.1:{port}/slow" }}
[[tenants.plugins]]
name = "plugin-tagger"
settings = {{ tag = "before" }}
"#,
            port = addr.port()
        ),
    ))
    .await;
    let mut client = server.client().await;
    let in_flight = tokio::spawn(async move {
        client
            .handle_event(request(customer_message("acme", "f-1", "first")))
            .await
            .expect("first event")
            .into_inner()
    });
    requests.recv().await.expect("the first event is running");
    let mut change = configure("acme", "plugin-tagger");
    change.set_settings.insert("tag".into(), "after".into());
    server
        .admin()
        .await
        .configure_plugin(as_admin(OPS, change))
        .await
        .expect("change while in flight");
    let next = send(&server, "acme", "f-2").await;
    let first = in_flight.await.expect("task");
    assert_eq!(tags(&first), ["before"], "{first:?}");
    assert_eq!(tags(&next), ["after"], "{next:?}");
}

#[tokio::test]
async fn plugins_are_installed_upgraded_rolled_back_and_removed_at_runtime() {
    let server = TestServer::start(&two_tenants()).await;
    let mut admin = server.admin().await;
    let install = |file: &str| pb::InstallPluginRequest {
        component: std::fs::read(plugin(file)).expect("read plugin"),
        signature: String::new(),
        name: "extra".into(),
    };
    let v1 = admin
        .install_plugin(as_admin(OPS, install("plugin-noop")))
        .await
        .expect("install")
        .into_inner();
    assert_eq!(
        (v1.name.as_str(), v1.previous_digest.as_str()),
        ("extra", "")
    );
    let twice = admin
        .install_plugin(as_admin(OPS, install("plugin-noop")))
        .await
        .expect_err("same component twice");
    assert_eq!(twice.code(), Code::AlreadyExists);

    admin
        .configure_plugin(as_admin(OPS, configure("acme", "extra")))
        .await
        .expect("enable for acme");
    let response = send(&server, "acme", "p-1").await;
    assert_eq!(outcome(&response, "extra").plugin_version, "0.1.0");
    assert!(tags(&response).len() == 1, "only the tagger tags");

    // Upgrade: another component under the same name.
    let v2 = admin
        .install_plugin(as_admin(OPS, install("plugin-tagger")))
        .await
        .expect("upgrade")
        .into_inner();
    assert_eq!(v2.previous_digest, v1.digest);
    assert_eq!(v2.used_by, ["acme"]);
    let upgraded = send(&server, "acme", "p-2").await;
    assert_eq!(
        tags(&upgraded).len(),
        2,
        "the new version tags too: {upgraded:?}"
    );

    let back = admin
        .rollback_plugin(as_admin(
            OPS,
            pb::PluginRef {
                name: "extra".into(),
            },
        ))
        .await
        .expect("rollback")
        .into_inner();
    assert_eq!(back.digest, v1.digest);
    assert_eq!(tags(&send(&server, "acme", "p-3").await).len(), 1);

    let in_use = admin
        .remove_plugin(as_admin(
            OPS,
            pb::PluginRef {
                name: "extra".into(),
            },
        ))
        .await
        .expect_err("acme still runs it");
    assert_eq!(in_use.code(), Code::FailedPrecondition);
    assert!(in_use.message().contains("acme"), "{}", in_use.message());
    admin
        .detach_plugin(as_admin(
            OPS,
            pb::DetachPluginRequest {
                tenant_id: "acme".into(),
                plugin: "extra".into(),
                expected_revision: 0,
            },
        ))
        .await
        .expect("detach");
    admin
        .remove_plugin(as_admin(
            OPS,
            pb::PluginRef {
                name: "extra".into(),
            },
        ))
        .await
        .expect("remove");
    let names: Vec<String> = admin
        .list_plugins(as_admin(OPS, pb::ListPluginsRequest {}))
        .await
        .expect("list")
        .into_inner()
        .plugins
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["plugin-noop", "plugin-tagger", "translation"]);
    let actions: Vec<String> = audit(&mut admin, "")
        .await
        .into_iter()
        .filter(|e| e.target == "extra")
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "plugin.remove",
            "plugin.detach",
            "plugin.rollback",
            "plugin.upgrade",
            "plugin.enable",
            "plugin.install"
        ]
    );
}

/// With trusted keys, a version this replica found signed by none of them is
/// listed as signed once another replica adds a signature (the same component
/// installed signed): that no key signed is not a verdict kept.
#[tokio::test]
async fn a_signature_another_replica_adds_is_seen_here() {
    use crossdesk_sidecar::signing;
    use crossdesk_sidecar::store::{ControlWrite, PluginBlob};
    use sha2::Digest;
    let publisher = signing::generate_secret_key().expect("key");
    let trusted = signing::public_key_of(&publisher).expect("public key");
    let server = TestServer::start(&managed(
        &format!("trusted_keys = [\"{trusted}\"]"),
        &["plugin-noop"],
        "",
    ))
    .await;
    let admin = server.admin().await;
    let signed_by = async || {
        let mut admin = admin.clone();
        let listed = admin
            .list_plugins(as_admin(OPS, pb::ListPluginsRequest {}))
            .await
            .expect("list")
            .into_inner()
            .plugins;
        listed
            .into_iter()
            .find(|p| p.name == "plugin-noop")
            .expect("installed")
            .signed_by
    };
    // The configuration file installed it unsigned.
    assert_eq!(signed_by().await, "");
    let bytes = std::fs::read(plugin("plugin-noop")).expect("read");
    let signature = signing::sign(&publisher, &bytes).expect("sign");
    let signed = ControlWrite::PutPluginBlob(PluginBlob {
        digest: hex::encode(sha2::Sha256::digest(&bytes)),
        name: "plugin-noop".into(),
        version: "0.1.0".into(),
        bytes,
        signature: Some(signature),
        installed_at_ms: 0,
    });
    behind_the_apis_back(&server, vec![signed], ("ops", "-", "plugin.install")).await;
    assert_eq!(signed_by().await, signing::key_id(&trusted).expect("id"));
}

#[tokio::test]
async fn with_trusted_keys_only_a_component_they_signed_is_installed() {
    let publisher = crossdesk_sidecar::signing::generate_secret_key().expect("key");
    let stranger = crossdesk_sidecar::signing::generate_secret_key().expect("key");
    let trusted = crossdesk_sidecar::signing::public_key_of(&publisher).expect("public key");
    let server = TestServer::start(&managed(
        &format!("trusted_keys = [\"{trusted}\"]"),
        &["plugin-noop"],
        "",
    ))
    .await;
    let mut admin = server.admin().await;
    let component = std::fs::read(plugin("plugin-tagger")).expect("read");
    let install = |signature: String| pb::InstallPluginRequest {
        component: component.clone(),
        signature,
        name: "tagger".into(),
    };
    let unsigned = admin
        .install_plugin(as_admin(OPS, install(String::new())))
        .await
        .expect_err("unsigned");
    assert_eq!(unsigned.code(), Code::PermissionDenied);
    assert!(
        unsigned.message().contains("not signed"),
        "{}",
        unsigned.message()
    );

    let wrong = crossdesk_sidecar::signing::sign(&stranger, &component).expect("sign");
    let refused = admin
        .install_plugin(as_admin(OPS, install(wrong)))
        .await
        .expect_err("signed by a stranger");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(
        refused.message().contains("does not verify"),
        "{}",
        refused.message()
    );
    let mut tampered = component.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let good_signature = crossdesk_sidecar::signing::sign(&publisher, &component).expect("sign");
    let refused = admin
        .install_plugin(as_admin(
            OPS,
            pb::InstallPluginRequest {
                component: tampered,
                signature: good_signature.clone(),
                name: "tagger".into(),
            },
        ))
        .await
        .expect_err("a changed component");
    assert_eq!(refused.code(), Code::PermissionDenied);

    let installed = admin
        .install_plugin(as_admin(OPS, install(good_signature)))
        .await
        .expect("signed by the trusted key")
        .into_inner();
    assert_eq!(
        installed.signed_by,
        crossdesk_sidecar::signing::key_id(&trusted).expect("id")
    );

    // The file's plugin-noop was installed unsigned: upgraded to a signed
    // build, it cannot come back by a rollback.
    let signed = std::fs::read(plugin("plugin-kv-counter")).expect("read");
    admin
        .install_plugin(as_admin(
            OPS,
            pb::InstallPluginRequest {
                signature: crossdesk_sidecar::signing::sign(&publisher, &signed).expect("sign"),
                component: signed,
                name: "plugin-noop".into(),
            },
        ))
        .await
        .expect("a signed upgrade");
    let refused = admin
        .rollback_plugin(as_admin(
            OPS,
            pb::PluginRef {
                name: "plugin-noop".into(),
            },
        ))
        .await
        .expect_err("back to an unsigned version");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("none of the trusted keys"),
        "{}",
        refused.message()
    );
}

#[tokio::test]
async fn an_upgrade_keeps_every_tenants_settings_valid() {
    let server = TestServer::start(&two_tenants()).await;
    let mut admin = server.admin().await;
    // acme gives the tagger a `tag`; the no-op build declares no setting.
    let refused = admin
        .install_plugin(as_admin(
            OPS,
            pb::InstallPluginRequest {
                component: std::fs::read(plugin("plugin-noop")).expect("read"),
                signature: String::new(),
                name: "plugin-tagger".into(),
            },
        ))
        .await
        .expect_err("acme's settings would not fit");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("tenant 'acme'")
            && refused
                .message()
                .contains("plugins.plugin-tagger.settings.tag"),
        "{}",
        refused.message()
    );
    // Nothing changed: acme's events are still tagged.
    let response = server
        .client()
        .await
        .handle_event(request(customer_message("acme", "up-1", "hi")))
        .await
        .expect("event")
        .into_inner();
    assert!(
        response.actions.iter().any(|a| matches!(
            &a.kind,
            Some(pb::action::Kind::AddTags(t)) if t.tags.iter().any(|t| t == "first")
        )),
        "{response:?}"
    );
}

#[tokio::test]
async fn secrets_are_write_only_sealed_at_rest_and_added_by_the_host() {
    let secret = "Bearer admin-set-S3CR3T-value";
    let (addr, mut requests) = recording_http_server(Duration::ZERO).await;
    let server = TestServer::start(&managed(
        "",
        &["plugin-forbidden-host"],
        &format!(
            r#"
[outbound]
private_hosts = ["127.0.0.1"]
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-forbidden-host"
allowed_hosts = ["127.0.0.1:{port}"]
settings = {{ url = "http://127.0.0.1:{port}/v1" }}
"#,
            port = addr.port()
        ),
    ))
    .await;
    let mut admin = server.admin().await;
    let set = |host: String| pb::SetSecretRequest {
        tenant_id: "acme".into(),
        plugin: "plugin-forbidden-host".into(),
        host,
        header: "Authorization".into(),
        value: secret.into(),
        expected_revision: 0,
    };
    let refused = admin
        .set_secret(as_admin(OPS, set("api.elsewhere.example".into())))
        .await
        .expect_err("a secret for a host the plugin may not reach");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let tenant = admin
        .set_secret(as_admin(OPS, set(format!("127.0.0.1:{}", addr.port()))))
        .await
        .expect("set secret")
        .into_inner();
    assert_eq!(tenant.plugins[0].secrets.len(), 1);

    let response = send(&server, "acme", "s-1").await;
    let head = requests.recv().await.expect("request");
    assert!(
        head.to_lowercase()
            .contains(&format!("authorization: {}", secret.to_lowercase())),
        "{head}"
    );
    let everything_shown = format!(
        "{response:?}{:?}{:?}",
        admin
            .get_tenant(as_admin(
                OPS,
                pb::TenantRef {
                    tenant_id: "acme".into()
                }
            ))
            .await
            .expect("tenant")
            .into_inner(),
        audit(&mut admin, "acme").await
    );
    assert!(!everything_shown.contains(secret), "{everything_shown}");
    // At rest: neither the database nor its journal holds the value.
    for entry in std::fs::read_dir(server.data_dir.path()).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let bytes = std::fs::read(&path).expect("read");
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds the secret in clear",
                path.display()
            );
        }
    }
}

#[tokio::test]
async fn admins_may_authenticate_with_a_client_certificate() {
    let ca = Authority::new("Crossdesk admin CA");
    let stranger = Authority::new("Someone else");
    let files = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let (cert, key) = ca.issue("localhost", false);
    let (cert, key, ca_file) = (
        write("server.pem", &cert),
        write("server.key", &key),
        write("ca.pem", &ca.cert.pem()),
    );
    let config = format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\ntls = {{ cert_file = {cert:?}, key_file = {key:?}, \
         client_ca_file = {ca_file:?} }}\n"
    ) + &install(&["plugin-noop"])
        + "[[tenants]]\nid = \"acme\"\n";
    let server = TestServer::start(&config).await;
    let port = server.admin_addr.expect("admin").port();
    let connect = |identity: Option<(String, String)>| {
        let mut tls = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(ca.cert.pem()))
            .domain_name("localhost");
        if let Some((cert, key)) = identity {
            tls = tls.identity(tonic::transport::Identity::from_pem(cert, key));
        }
        async move {
            let channel = Channel::from_shared(format!("https://localhost:{port}"))
                .expect("uri")
                .tls_config(tls)
                .expect("tls")
                .connect()
                .await
                .map_err(|e| format!("{e:?}"))?;
            AdminServiceClient::new(channel)
                .list_tenants(pb::ListTenantsRequest {})
                .await
                .map(|r| r.into_inner())
                .map_err(|e| format!("{e:?}"))
        }
    };
    let listed = connect(Some(ca.issue("ops", true)))
        .await
        .expect("a certificate from the admin CA");
    assert_eq!(listed.tenants.len(), 1);
    connect(None).await.expect_err("no certificate");
    connect(Some(stranger.issue("ops", true)))
        .await
        .expect_err("a certificate from another CA");

    // A browser holding the certificate presents it to any site's request: a
    // page elsewhere posting a gRPC frame as text/plain (no CORS preflight) must
    // not act as an admin.
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(ca.cert.pem()))
        .domain_name("localhost")
        .identity({
            let (cert, key) = ca.issue("ops", true);
            tonic::transport::Identity::from_pem(cert, key)
        });
    let mut browser = Channel::from_shared(format!("https://localhost:{port}"))
        .expect("uri")
        .tls_config(tls)
        .expect("tls")
        .connect()
        .await
        .expect("connected");
    // DeleteTenant { tenant_id: "acme" }, framed as gRPC frames a message.
    const FRAME: &[u8] = &[0, 0, 0, 0, 6, 0x0a, 4, b'a', b'c', b'm', b'e'];
    let request = tonic::codegen::http::Request::post(format!(
        "https://localhost:{port}/crossdesk.v1.AdminService/DeleteTenant"
    ))
    .header("content-type", "text/plain")
    .body(tonic::body::Body::new(http_body_util::Full::new(
        bytes::Bytes::from_static(FRAME),
    )))
    .expect("request");
    use tonic::codegen::Service;
    futures::future::poll_fn(|cx| browser.poll_ready(cx))
        .await
        .expect("ready");
    let forged = browser.call(request).await.expect("answered");
    assert_eq!(forged.status(), 415, "{:?}", forged.headers());
    let listed = connect(Some(ca.issue("ops", true)))
        .await
        .expect("a certificate from the admin CA");
    assert_eq!(listed.tenants.len(), 1, "acme is still there");
}

#[tokio::test]
async fn changes_survive_a_restart_and_the_file_does_not_override_them() {
    let config = two_tenants();
    let server = TestServer::start(&config).await;
    let mut admin = server.admin().await;
    let mut off = configure("acme", "plugin-tagger");
    off.enabled = Some(false);
    admin
        .configure_plugin(as_admin(OPS, off))
        .await
        .expect("disable");
    drop(admin);
    let data = server.stop().await;
    let server = TestServer::start_in(&config, data).await;
    assert_eq!(
        ran(&send(&server, "acme", "r-1").await),
        ["plugin-noop"],
        "the store, not the file, says what acme runs"
    );
}

/// A component changed in the store under the digest it was installed (and
/// perhaps signed) as is not run: the sidecar does not start on it.
#[tokio::test]
async fn a_component_changed_in_the_store_is_not_run() {
    let config = two_tenants();
    let server = TestServer::start(&config).await;
    let data = server.stop().await;
    {
        let db = rusqlite::Connection::open(data.path().join("crossdesk.db")).expect("open");
        let other = std::fs::read(plugin("plugin-kv-counter")).expect("read");
        let changed = db
            .execute(
                "UPDATE plugin_blobs SET bytes = ?1 WHERE name = 'plugin-noop'",
                [other],
            )
            .expect("update");
        assert_eq!(changed, 1);
    }
    let file = std::fs::read_to_string(data.path().join(CONFIG_FILE)).expect("config");
    let config = crossdesk_sidecar::Config::parse(&file).expect("config");
    // It starts (one damaged component holds no other plugin back), without
    // the tenants that need it: both run plugin-noop.
    let sidecar = crossdesk_sidecar::Sidecar::build(&config)
        .await
        .expect("started");
    for tenant in ["acme", "globex"] {
        let refused = sidecar
            .handle(customer_message(tenant, "c-1", "hello"))
            .await
            .expect_err("not run");
        assert!(
            refused
                .to_string()
                .contains("cannot be served by this replica"),
            "{refused}"
        );
    }
}

/// The operator can still act on a plugin whose component was damaged in the
/// store (a disk, a hand edit), which no replica started since can load: roll
/// it back, remove it when no tenant uses it, or install the same component
/// again, which mends the stored copy (the store writes a digest's bytes once
/// otherwise).
#[tokio::test]
async fn a_plugin_damaged_in_the_store_is_rolled_back_removed_or_installed_again() {
    use sha2::Digest;
    let config = two_tenants();
    let server = TestServer::start(&config).await;
    let mut admin = server.admin().await;
    let install_as = |name: &str, file: &str| pb::InstallPluginRequest {
        name: name.into(),
        component: std::fs::read(plugin(file)).expect("read"),
        ..Default::default()
    };
    let named = |name: &str| pb::PluginRef { name: name.into() };
    // plugin-noop upgraded (its first version kept to roll back to), and a
    // spare no tenant uses.
    for (name, file) in [
        ("plugin-noop", "plugin-call-counter"),
        ("spare", "plugin-panics"),
    ] {
        admin
            .install_plugin(as_admin(OPS, install_as(name, file)))
            .await
            .expect("installed");
    }
    let data = server.stop().await;
    {
        let db = rusqlite::Connection::open(data.path().join("crossdesk.db")).expect("open");
        for damaged in ["plugin-call-counter", "plugin-panics", "plugin-tagger"] {
            let digest = hex::encode(sha2::Sha256::digest(
                std::fs::read(plugin(damaged)).expect("read"),
            ));
            let changed = db
                .execute(
                    "UPDATE plugin_blobs SET bytes = ?1 WHERE digest = ?2",
                    rusqlite::params![b"no longer the component".to_vec(), digest],
                )
                .expect("update");
            assert_eq!(changed, 1, "{damaged}");
        }
    }
    let server = TestServer::start_in(&config, data).await;
    not_served_here(&server, "globex", "d-1").await;
    let mut admin = server.admin().await;
    admin
        .remove_plugin(as_admin(OPS, named("spare")))
        .await
        .expect("removed");
    admin
        .rollback_plugin(as_admin(OPS, named("plugin-noop")))
        .await
        .expect("rolled back");
    assert_eq!(ran(&send(&server, "globex", "d-2").await), ["plugin-noop"]);
    // acme's tagger is still damaged, until its component is installed again.
    not_served_here(&server, "acme", "d-3").await;
    admin
        .install_plugin(as_admin(OPS, install_as("plugin-tagger", "plugin-tagger")))
        .await
        .expect("mended");
    assert_eq!(
        ran(&send(&server, "acme", "d-4").await),
        ["plugin-tagger", "plugin-noop"]
    );
    let again = admin
        .install_plugin(as_admin(OPS, install_as("plugin-tagger", "plugin-tagger")))
        .await
        .expect_err("mended already");
    assert_eq!(again.code(), Code::AlreadyExists, "{again:?}");
    let audited: Vec<(String, String, String)> = audit(&mut admin, "")
        .await
        .into_iter()
        .take(3)
        .map(|e| (e.action, e.target, e.before_json))
        .collect();
    let actions: Vec<&str> = audited.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        ["plugin.repair", "plugin.rollback", "plugin.remove"],
        "{audited:?}"
    );
    for (action, _, before) in &audited {
        assert!(before.contains("unloadable"), "{action}: {before}");
    }
    // The version rolled back from, installed again, is mended too: a replica
    // started since runs it.
    admin
        .install_plugin(as_admin(
            OPS,
            install_as("plugin-noop", "plugin-call-counter"),
        ))
        .await
        .expect("upgraded again");
    let upgrade = audit(&mut admin, "").await.remove(0);
    assert_eq!(upgrade.action, "plugin.upgrade");
    assert!(upgrade.after_json.contains("repaired"), "{upgrade:?}");
    let data = server.stop().await;
    let server = TestServer::start_in(&config, data).await;
    let response = send(&server, "globex", "d-5").await;
    assert_eq!(ran(&response), ["plugin-noop"]);
    assert!(
        notes(&response).iter().any(|n| n.starts_with("call")),
        "{response:?}"
    );
}

#[tokio::test]
async fn plugin_data_is_imported_checked_scoped_and_audited() {
    let server = TestServer::start(&managed(
        "",
        &["schedule", "recommend", "plugin-noop"],
        r#"
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "recommend"
kv = true
[[tenants.plugins]]
name = "schedule"
kv = true

[[tenants]]
id = "globex"
[[tenants.plugins]]
name = "plugin-noop"
"#,
    ))
    .await;
    let mut admin = server.admin().await;
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let roster = std::fs::read(examples.join("schedule/roster.json")).expect("roster");
    let import = |tenant: &str, plugin: &str, dataset: &str, format: &str, content: &[u8]| {
        pb::ImportPluginDataRequest {
            tenant_id: tenant.into(),
            plugin: plugin.into(),
            dataset: dataset.into(),
            format: format.into(),
            content: content.to_vec(),
        }
    };

    let imported = admin
        .import_plugin_data(as_admin(
            ACME_ADMIN,
            import("acme", "schedule", "roster", "json", &roster),
        ))
        .await
        .expect("roster imported")
        .into_inner();
    assert_eq!((imported.records, imported.replaced), (7, 0));
    assert!(
        imported.summary.contains("de, en, es, fr, ja"),
        "{}",
        imported.summary
    );
    // The plugin reads it at once: Ana is on shift on a Tuesday morning in Madrid.
    let mut event = customer_message("acme", "r-1", "Hola, ¿dónde está mi pedido?");
    event.customer = Some(pb::Customer {
        id: "c-1".into(),
        locale: "es-ES".into(),
        ..Default::default()
    });
    event.occurred_at = Some(prost_types::Timestamp {
        seconds: 1_796_117_400, // 2026-12-01T09:30:00Z
        nanos: 0,
    });
    let routed = server.handle(event).await;
    assert!(
        routed.actions.iter().any(|a| matches!(&a.kind,
            Some(pb::action::Kind::Route(r)) if r.agent_id == "ana")),
        "{routed:#?}"
    );

    let csv_catalog = import(
        "acme",
        "recommend",
        "catalog",
        "csv",
        b"id,category,price\nlens-1,lenses,cheap\n",
    );
    let bad_zone = import(
        "acme",
        "schedule",
        "roster",
        "csv",
        b"id,languages,time_zone,availability\nbo,es,Mars/Olympus,mon 09:00-10:00\n",
    );
    let refusals = [
        (
            import("acme", "recommend", "roster", "json", &roster),
            Code::InvalidArgument,
            "plugin 'recommend' offers no dataset 'roster' (it offers: catalog, knowledge-base)",
        ),
        (bad_zone, Code::InvalidArgument, "agent 'bo': time_zone"),
        (
            csv_catalog,
            Code::InvalidArgument,
            "price: 'cheap' is not a number",
        ),
        (
            import("acme", "schedule", "shifts", "json", b"[]"),
            Code::InvalidArgument,
            "plugin 'schedule' offers no dataset 'shifts' (it offers: roster)",
        ),
        (
            import("globex", "schedule", "roster", "json", &roster),
            Code::PermissionDenied,
            "globex",
        ),
    ];
    for (request, code, hint) in refusals {
        let refused = admin
            .import_plugin_data(as_admin(ACME_ADMIN, request))
            .await
            .expect_err(hint);
        assert_eq!(refused.code(), code, "{hint}: {refused:?}");
        assert!(
            refused.message().contains(hint),
            "{hint}: {}",
            refused.message()
        );
    }
    let not_attached = admin
        .import_plugin_data(as_admin(
            OPS,
            import("globex", "schedule", "roster", "json", &roster),
        ))
        .await
        .expect_err("not in globex's pipeline");
    assert!(
        not_attached.message().contains("not in the pipeline"),
        "{not_attached:?}"
    );

    let entries = audit(&mut admin, "acme").await;
    let entry = entries
        .iter()
        .find(|e| e.action == "plugin.data.import")
        .expect("the import is audited");
    assert_eq!(entry.actor, "acme-admin");
    assert_eq!(entry.target, "schedule/roster");
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "plugin.data.import")
            .count(),
        1,
        "refused imports leave no entry"
    );
}

/// A tenant admin's commands are audited, failed ones too (a command may have
/// written before it failed), and no replica reloads for one; while the operator suspends the tenant its admin
/// runs no command and imports nothing (they run under the tenant's grants),
/// the operator does; and a tenant its admin creates gets no more quota than
/// they may give.
#[tokio::test]
async fn a_tenant_admins_commands_are_audited_held_by_a_suspension_and_bounded() {
    let server = TestServer::start(&managed(
        "",
        &["plugin-faq"],
        r#"
[tenant_admins]
max_quota = { burst = 100 }

[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-faq"
kv = true
"#,
    ))
    .await;
    let mut admin = server.admin().await;
    let command = |name: &str, values: &[(&str, &str)]| pb::RunPluginCommandRequest {
        tenant_id: "acme".into(),
        plugin: "plugin-faq".into(),
        command: name.into(),
        values: values
            .iter()
            .map(|(name, value)| pb::CommandValue {
                name: (*name).into(),
                value: (*value).into(),
            })
            .collect(),
        files: Vec::new(),
    };
    let version = stored_state(&server).await.version;
    admin
        .run_plugin_command(as_admin(ACME_ADMIN, command("echo", &[("times", "2")])))
        .await
        .expect("a command");
    admin
        .run_plugin_command(as_admin(ACME_ADMIN, command("echo", &[("times", "many")])))
        .await
        .expect_err("a command that fails");
    assert_eq!(
        stored_state(&server).await.version,
        version,
        "no replica reloads its pipelines for a command"
    );
    let commands: Vec<pb::AuditEntry> = audit(&mut admin, "acme")
        .await
        .into_iter()
        .filter(|e| e.action == "plugin.command")
        .collect();
    assert_eq!(commands.len(), 2, "{commands:#?}");
    assert!(
        commands[0].after_json.contains("\"error\"") && commands[0].actor == "acme-admin",
        "the failed one, newest first: {commands:#?}"
    );
    assert!(
        !commands[1].after_json.contains("\"error\""),
        "{commands:#?}"
    );

    let suspend = |suspended| pb::SetTenantSuspendedRequest {
        tenant_id: "acme".into(),
        suspended,
        expected_revision: 0,
    };
    admin
        .set_tenant_suspended(as_admin(OPS, suspend(true)))
        .await
        .expect("the operator suspends");
    let refused = admin
        .run_plugin_command(as_admin(ACME_ADMIN, command("list", &[])))
        .await
        .expect_err("suspended by the operator");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("suspended"), "{refused:?}");
    let import = pb::ImportPluginDataRequest {
        tenant_id: "acme".into(),
        plugin: "plugin-faq".into(),
        dataset: "answers".into(),
        format: "csv".into(),
        content: b"hours,9 to 5\n".to_vec(),
    };
    let refused = admin
        .import_plugin_data(as_admin(ACME_ADMIN, import.clone()))
        .await
        .expect_err("suspended by the operator");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    admin
        .import_plugin_data(as_admin(OPS, import))
        .await
        .expect("the operator imports");
    let listed = admin
        .run_plugin_command(as_admin(OPS, command("list", &[])))
        .await
        .expect("the operator runs it")
        .into_inner();
    assert!(listed.text.contains("hours: 9 to 5"), "{listed:?}");

    admin
        .delete_tenant(as_admin(
            OPS,
            pb::TenantRef {
                tenant_id: "acme".into(),
            },
        ))
        .await
        .expect("delete");
    // Its admin does not create it again (a_tenant_the_operator_deleted_...).
    let refused = admin
        .create_tenant(as_admin(
            ACME_ADMIN,
            pb::CreateTenantRequest {
                tenant_id: "acme".into(),
            },
        ))
        .await
        .expect_err("deleted by the operator");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
}

/// A private host the operator lists later opens only what the operator
/// granted: an entry a tenant admin made while nothing was listed (accepted
/// then: it reached nothing) stays refused once one it names is listed.
#[tokio::test]
async fn a_private_host_listed_later_opens_only_the_operators_grants() {
    use pb::plugin_outcome::Status;
    let (addr, mut requests) = recording_http_server(Duration::ZERO).await;
    let host = format!("localhost:{}", addr.port());
    let config = |private: &str| {
        managed(
            "",
            &["plugin-forbidden-host"],
            &format!("[outbound]\nprivate_hosts = [{private}]\n"),
        )
    };
    let server = TestServer::start(&config("")).await;
    let mut admin = server.admin().await;
    admin
        .create_tenant(as_admin(
            OPS,
            pb::CreateTenantRequest {
                tenant_id: "acme".into(),
            },
        ))
        .await
        .expect("created");
    let grant = |hosts: Vec<String>| {
        let mut change = configure("acme", "plugin-forbidden-host");
        change.allowed_hosts = Some(pb::HostList { hosts });
        change
            .set_settings
            .insert("url".into(), format!("http://{host}/"));
        change
    };
    admin
        .configure_plugin(as_admin(ACME_ADMIN, grant(vec![host.clone()])))
        .await
        .expect("a name no private host matches yet");
    let outcome_of = |response: pb::HandleEventResponse| {
        let outcome = outcome(&response, "plugin-forbidden-host").clone();
        (outcome.status(), outcome.error)
    };
    let (status, error) = outcome_of(send(&server, "acme", "before").await);
    assert_eq!(status, Status::Denied, "{error}");

    // The operator lists localhost (for another tenant, say) and restarts.
    let data = server.stop().await;
    let server = TestServer::start_in(&config("\"localhost\""), data).await;
    let (status, error) = outcome_of(send(&server, "acme", "after").await);
    assert_eq!(status, Status::Denied, "the tenant admin's entry: {error}");
    assert!(requests.try_recv().is_err(), "the request went out");

    // What the operator grants does reach it.
    let mut admin = server.admin().await;
    for hosts in [vec![], vec![host.clone()]] {
        admin
            .configure_plugin(as_admin(OPS, grant(hosts)))
            .await
            .expect("the operator grants");
    }
    let (status, error) = outcome_of(send(&server, "acme", "granted").await);
    assert_eq!(status, Status::Ok, "{error}");
    assert!(requests.recv().await.is_some());
}

/// A tenant the operator deleted is not created again by an admin of that
/// tenant alone (whose token may still name it): the operator's decision, and
/// what they had set for it, would be undone.
#[tokio::test]
async fn a_tenant_the_operator_deleted_is_created_again_by_the_operator_only() {
    let server = TestServer::start(&managed(
        "",
        &["plugin-noop"],
        "[tenant_admins]\nmax_quota = { burst = 100 }\n",
    ))
    .await;
    let admin = server.admin().await;
    let create = |token: &'static str| {
        let mut admin = admin.clone();
        async move {
            admin
                .create_tenant(as_admin(
                    token,
                    pb::CreateTenantRequest {
                        tenant_id: "acme".into(),
                    },
                ))
                .await
        }
    };
    let created = create(ACME_ADMIN)
        .await
        .expect("its admin creates it")
        .into_inner();
    let quota = created.quota.expect("quota");
    assert_eq!(
        (quota.burst, quota.events_per_second),
        (Some(100), None),
        "the default burst (4000) down to the tenant admins' ceiling"
    );
    admin
        .clone()
        .delete_tenant(as_admin(
            OPS,
            pb::TenantRef {
                tenant_id: "acme".into(),
            },
        ))
        .await
        .expect("the operator deletes it");
    let refused = create(ACME_ADMIN).await.expect_err("not again");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused.message().contains("admin of every tenant"),
        "{refused:?}"
    );
    create(OPS).await.expect("the operator may");
}
