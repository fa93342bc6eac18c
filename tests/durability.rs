//! Admin changes are never lost, and replicas agree. A change acknowledged by the
//! admin API survives the sidecar being killed with SIGKILL (as a process: no
//! shutdown, nothing flushed), on SQLite and on PostgreSQL; three sidecars sharing
//! one PostgreSQL apply a change made through any of them within a second.
//!
//! PostgreSQL is the real server, installed and started on loopback by
//! `scripts/postgres.sh` (a throwaway cluster per test).

use std::path::Path;
use std::time::{Duration, Instant};

use crossdesk_integration_tests::postgres::TestPostgres;
use crossdesk_integration_tests::process::ServerProcess;
use crossdesk_integration_tests::*;
use pb::admin_service_client::AdminServiceClient;
use pb::event_service_client::EventServiceClient;

const OPS: &str = "ops-S3CR3T-token-0123456789";
/// Replicas sharing a store share the key that seals its secrets.
const MASTER_KEY_ENV: &str = "CROSSDESK_TEST_MASTER_KEY";

/// A managed configuration: tagger (tag "first") then no-op for tenant acme, on
/// `storage` (TOML lines of `[storage]`, or nothing for SQLite).
fn config(storage: &str, master_key_env: bool) -> String {
    let key = if master_key_env {
        format!("master_key_env = \"{MASTER_KEY_ENV}\"\n")
    } else {
        String::new()
    };
    format!(
        r#"
plugin_dir = {plugin_dir:?}
[server]
max_concurrent_calls = 16
[storage]
{storage}
[admin]
listen = "127.0.0.1:0"
{key}users = [{{ name = "ops", token = "{OPS}", tenants = ["*"] }}]
"#,
        plugin_dir = plugin_dir().display().to_string(),
    ) + &install(&["plugin-tagger", "plugin-noop"])
        + r#"
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "first" }
[[tenants.plugins]]
name = "plugin-noop"
"#
}

fn master_key() -> String {
    crossdesk_sidecar::secrets::MasterKey::generate()
        .expect("key")
        .to_base64()
}

async fn set_tag(admin_addr: std::net::SocketAddr, tag: &str) {
    let mut admin = AdminServiceClient::connect(format!("http://{admin_addr}"))
        .await
        .expect("admin API");
    let mut request = pb::ConfigurePluginRequest {
        tenant_id: "acme".into(),
        plugin: "plugin-tagger".into(),
        ..Default::default()
    };
    request.set_settings.insert("tag".into(), tag.into());
    admin
        .configure_plugin(as_admin(OPS, request))
        .await
        .expect("the change is acknowledged");
}

async fn tag_seen(addr: std::net::SocketAddr, event_id: &str) -> Vec<String> {
    let mut client = EventServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("event API");
    client
        .handle_event(request(customer_message("acme", event_id, "Where is it?")))
        .await
        .expect("event")
        .into_inner()
        .actions
        .into_iter()
        .filter_map(|a| match a.kind {
            Some(pb::action::Kind::AddTags(tags)) => Some(tags.tags),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Writes `config` to a file in `dir`, with `data_dir` inside it.
fn write_config(dir: &Path, config: &str) -> std::path::PathBuf {
    let path = dir.join("crossdesk.toml");
    let data = dir.join("data");
    std::fs::write(
        &path,
        format!("data_dir = {:?}\n", data.display().to_string()) + config,
    )
    .expect("write config");
    path
}

/// Change, SIGKILL, restart, check: the change is there, with its audit entry.
async fn survives_sigkill(config_text: &str, envs: &[(&str, &str)]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), config_text);
    let server = ServerProcess::start(&config, envs);
    let admin_addr = server.admin_addr.expect("admin API");
    assert_eq!(tag_seen(server.addr, "d-1").await, ["first"]);
    set_tag(admin_addr, "durable").await;
    server.kill();

    let server = ServerProcess::start(&config, envs);
    assert_eq!(tag_seen(server.addr, "d-2").await, ["durable"]);
    let mut admin =
        AdminServiceClient::connect(format!("http://{}", server.admin_addr.expect("admin API")))
            .await
            .expect("admin API");
    let entries = admin
        .list_audit_log(as_admin(
            OPS,
            pb::ListAuditLogRequest {
                tenant_id: "acme".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("audit")
        .into_inner()
        .entries;
    assert!(
        entries[0].after_json.contains("durable"),
        "{:?}",
        entries[0]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_acknowledged_change_survives_sigkill_on_sqlite() {
    survives_sigkill(&config("", false), &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_acknowledged_change_survives_sigkill_on_postgres() {
    let url = TestPostgres::fresh_database().await;
    let key = master_key();
    survives_sigkill(
        &config(&format!("url = \"{url}\""), true),
        &[(MASTER_KEY_ENV, &key)],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn three_replicas_on_one_postgres_apply_a_change_at_their_next_polls() {
    let url = TestPostgres::fresh_database().await;
    let key = master_key();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut replicas = Vec::new();
    for i in 0..3 {
        // Each replica has a data folder of its own (compiled plugins); the
        // tenants, settings and plugin data live in PostgreSQL.
        let replica_dir = dir.path().join(format!("replica-{i}"));
        std::fs::create_dir_all(&replica_dir).expect("mkdir");
        let config = write_config(&replica_dir, &config(&format!("url = \"{url}\""), true));
        replicas.push(ServerProcess::start(&config, &[(MASTER_KEY_ENV, &key)]));
    }
    for (i, replica) in replicas.iter().enumerate() {
        assert_eq!(tag_seen(replica.addr, &format!("r{i}-0")).await, ["first"]);
    }

    set_tag(replicas[0].admin_addr.expect("admin API"), "everywhere").await;
    let changed = Instant::now();
    assert_eq!(
        tag_seen(replicas[0].addr, "r0-1").await,
        ["everywhere"],
        "the replica that made the change applies it to the next event"
    );
    for (i, replica) in replicas.iter().enumerate().skip(1) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let seen = tag_seen(replica.addr, &format!("r{i}-{attempt}")).await;
            if seen == ["everywhere"] {
                break;
            }
            // They poll every 250 ms: a few polls on a loaded machine.
            assert!(
                changed.elapsed() < Duration::from_secs(5),
                "replica {i} still ran the old setting {:?} after {:?}",
                seen,
                changed.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
