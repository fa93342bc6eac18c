//! What an operator watches: the operations listener of a `crossdesk serve`
//! process on PostgreSQL. After real traffic, `/metrics` counts each event by
//! tenant, kind and outcome, each plugin call by outcome with its latency, the
//! result cache's hits and misses, and plugins' HTTP requests by host; `/livez`
//! answers; while the database is down, `/readyz` stays ready but says it is
//! degraded, `crossdesk_store_up` says 0, gRPC health stays `SERVING` and events
//! are still answered.

use std::time::{Duration, Instant};

use crossdesk_integration_tests::postgres::TestPostgres;
use crossdesk_integration_tests::process::ServerProcess;
use crossdesk_integration_tests::*;
use pb::event_service_client::EventServiceClient;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

fn config(dir: &std::path::Path, db_url: &str, engine: std::net::SocketAddr) -> String {
    format!(
        r#"data_dir = {data:?}
plugin_dir = {plugins:?}
[ops]
listen = "127.0.0.1:0"
[storage]
url = "{db_url}"
[outbound]
private_hosts = ["127.0.0.1"]
"#,
        data = dir.join("data").display().to_string(),
        plugins = plugin_dir().display().to_string(),
    ) + &install(&[
        "plugin-tagger",
        "plugin-kv-counter",
        "plugin-panics",
        "plugin-forbidden-host",
    ]) + &format!(
        r#"
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-tagger"
settings = {{ tag = "seen" }}
[[tenants.plugins]]
name = "plugin-kv-counter"
kv = true
[[tenants.plugins]]
name = "plugin-panics"
[[tenants.plugins]]
name = "plugin-forbidden-host"
allowed_hosts = ["{engine}"]
settings = {{ url = "http://{engine}/translate" }}

[[tenants]]
id = "beta"
[[tenants.plugins]]
name = "plugin-forbidden-host"
settings = {{ url = "http://{engine}/translate" }}

[[tenants]]
id = "strict"
[[tenants.plugins]]
name = "plugin-kv-counter"
kv = true
fail_closed = true
"#
    )
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{addr}{path}"))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The value of the sample `series` (name and labels, exactly as exposed).
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{metrics}"))
        .parse()
        .unwrap_or_else(|e| panic!("{series}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_real_traffic_and_a_store_outage_is_reported_not_fatal() {
    let postgres = TestPostgres::start();
    let db_url = postgres.create_database("ops", "").await;
    let (engine, _requests) = recording_http_server(Duration::ZERO).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("crossdesk.toml");
    std::fs::write(&path, config(dir.path(), &db_url, engine)).expect("config");
    let server = ServerProcess::start(&path, &[]);
    let ops = server.ops_addr.expect("the ops listener");

    let mut client = EventServiceClient::connect(format!("http://{}", server.addr))
        .await
        .expect("event API");
    let mut send = async |tenant: &str, id: &str| {
        client
            .handle_event(request(customer_message(tenant, id, "Wo ist es?")))
            .await
    };
    // Same text twice: the cacheable tagger misses, then hits.
    send("acme", "e-1").await.expect("e-1");
    send("acme", "e-2").await.expect("e-2");
    let replay = send("acme", "e-1").await.expect("redelivery").into_inner();
    assert!(replay.replayed);
    send("beta", "b-1").await.expect("b-1");
    send("nobody", "n-1").await.expect_err("an unknown tenant");

    let (status, metrics) = get(ops, "/metrics").await;
    assert_eq!(status, 200);
    let events = |labels: &str| sample(&metrics, &format!("crossdesk_events_total{{{labels}}}"));
    assert_eq!(
        events(r#"tenant="acme",kind="customer_message",outcome="ok""#),
        2.0
    );
    assert_eq!(
        events(r#"tenant="acme",kind="customer_message",outcome="replayed""#),
        1.0
    );
    assert_eq!(
        events(r#"tenant="beta",kind="customer_message",outcome="ok""#),
        1.0
    );
    assert_eq!(
        events(r#"tenant="",kind="customer_message",outcome="unknown_tenant""#),
        1.0,
        "an unknown tenant's id is not a label"
    );
    let calls = |labels: &str| {
        sample(
            &metrics,
            &format!("crossdesk_plugin_calls_total{{{labels}}}"),
        )
    };
    assert_eq!(calls(r#"plugin="plugin-kv-counter",outcome="ok""#), 2.0);
    assert_eq!(calls(r#"plugin="plugin-panics",outcome="failed""#), 2.0);
    assert_eq!(calls(r#"plugin="plugin-forbidden-host",outcome="ok""#), 2.0);
    assert_eq!(
        calls(r#"plugin="plugin-forbidden-host",outcome="denied""#),
        1.0
    );
    assert_eq!(
        sample(
            &metrics,
            r#"crossdesk_plugin_call_duration_seconds_count{plugin="plugin-tagger"}"#
        ),
        2.0
    );
    let cache = |outcome: &str| {
        sample(
            &metrics,
            &format!(
                r#"crossdesk_result_cache_total{{plugin="plugin-tagger",outcome="{outcome}"}}"#
            ),
        )
    };
    assert_eq!((cache("miss"), cache("hit")), (1.0, 1.0));
    let outbound = |labels: &str| {
        sample(
            &metrics,
            &format!("crossdesk_outbound_requests_total{{{labels}}}"),
        )
    };
    assert_eq!(
        outbound(r#"plugin="plugin-forbidden-host",host="127.0.0.1",outcome="2xx""#),
        2.0
    );
    assert_eq!(
        outbound(r#"plugin="plugin-forbidden-host",host="",outcome="denied""#),
        1.0,
        "a refused request names no host"
    );
    assert!(sample(&metrics, "crossdesk_warm_instances") >= 1.0);
    assert!(
        metrics.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );

    assert_eq!(get(ops, "/livez").await.0, 200);
    assert_eq!(get(ops, "/readyz").await, (200, "ready\n".to_owned()));
    assert_eq!(sample(&metrics, "crossdesk_store_up"), 1.0);
    postgres.down();
    // The store is shared by every replica: its outage takes none out of service.
    let (status, body) = get(ops, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with("ready, degraded: the store does not answer"),
        "{body}"
    );
    assert_eq!(grpc_health(server.addr).await, ServingStatus::Serving);
    let (_, metrics) = get(ops, "/metrics").await;
    assert_eq!(sample(&metrics, "crossdesk_store_up"), 0.0);
    // Events go on: answered, their storage-less plugins alike.
    let during = send("acme", "e-during-outage")
        .await
        .expect("an event while the store is down")
        .into_inner();
    assert_eq!(
        outcome(&during, "plugin-tagger").status(),
        pb::plugin_outcome::Status::Ok,
        "{during:?}"
    );
    // A fail-closed plugin whose storage failed for now: worth sending again
    // (the plugin's own error says nothing of it).
    let refused = send("strict", "e-strict-outage")
        .await
        .expect_err("fail-closed");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    postgres.up();
    // The pool reconnects on the next use.
    eventually("/readyz to say ready", async || {
        get(ops, "/readyz").await.1 == "ready\n"
    })
    .await;
    let (_, metrics) = get(ops, "/metrics").await;
    assert_eq!(sample(&metrics, "crossdesk_store_up"), 1.0);

    // A database that hangs (here, on a lock the store's read waits for) reads
    // as degraded within a probe's timeout: neither the probe nor a scrape
    // waits for it.
    let locker = TestPostgres::client(&db_url).await;
    locker
        .batch_execute("BEGIN; LOCK TABLE control_version IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let (status, body) = tokio::time::timeout(Duration::from_secs(2), get(ops, "/readyz"))
        .await
        .expect("/readyz answers while the store hangs");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with("ready, degraded: the store does not answer"),
        "{body}"
    );
    let (_, metrics) = tokio::time::timeout(Duration::from_secs(2), get(ops, "/metrics"))
        .await
        .expect("/metrics answers while the store hangs");
    assert_eq!(sample(&metrics, "crossdesk_store_up"), 0.0);
    locker.batch_execute("ROLLBACK").await.expect("unlock");
    eventually("/readyz to say ready once the lock is gone", async || {
        get(ops, "/readyz").await.1 == "ready\n"
    })
    .await;
}

/// Waits until `check` holds, for 30 s at most.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let since = Instant::now();
    while !check().await {
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "waited for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn grpc_health(addr: std::net::SocketAddr) -> ServingStatus {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health")
        .into_inner()
        .status;
    ServingStatus::try_from(status).expect("a known status")
}

/// On SIGTERM the replica drains its requests in flight (here a stream its
/// client keeps open); meanwhile its operations listener goes on, `/readyz`
/// answering 503 (a load balancer's health check sees it leave) and `/metrics`
/// still scraped.
#[tokio::test(flavor = "multi_thread")]
async fn while_draining_readyz_says_stopping_and_metrics_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("crossdesk.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nplugin_dir = {:?}\n[ops]\nlisten = \"127.0.0.1:0\"\n\
             [server]\ndrain_ms = 20000\n{}\
             [[tenants]]\nid = \"acme\"\n[[tenants.plugins]]\nname = \"plugin-tagger\"\n",
            dir.path().join("data").display().to_string(),
            plugin_dir().display().to_string(),
            install(&["plugin-tagger"])
        ),
    )
    .expect("write config");
    let mut server = ServerProcess::start(&config, &[]);
    let ops = server.ops_addr.expect("ops listener");
    assert_eq!(get(ops, "/readyz").await, (200, "ready\n".to_owned()));
    let mut client = EventServiceClient::connect(format!("http://{}", server.addr))
        .await
        .expect("event API");
    let (events, requests) = tokio::sync::mpsc::channel(4);
    events
        .send(request(customer_message("acme", "e-1", "hi")))
        .await
        .expect("queued");
    let mut results = client
        .stream_events(tokio_stream::wrappers::ReceiverStream::new(requests))
        .await
        .expect("stream opens")
        .into_inner();
    results
        .message()
        .await
        .expect("a result")
        .expect("the first event's");
    // The stream stays open: the replica drains it.
    server.terminate();
    eventually("/readyz to say the replica is stopping", async || {
        get(ops, "/readyz").await.0 == 503
    })
    .await;
    let (status, metrics) = get(ops, "/metrics").await;
    assert_eq!(status, 200);
    assert!(metrics.ends_with("# EOF\n"), "{metrics}");
    assert!(!server.exited(), "the stream is still being drained");
    drop(events);
    while results.message().await.is_ok_and(|m| m.is_some()) {}
    let since = Instant::now();
    while !server.exited() {
        assert!(since.elapsed() < Duration::from_secs(30), "still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
