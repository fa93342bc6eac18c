//! Replicas sharing PostgreSQL behave as one sidecar:
//! - one customer's events run one at a time: two `crossdesk serve` processes,
//!   each given half of one customer's events at the same time, never lose an
//!   update of a plugin that read-modify-writes (kv-counter, made to compute
//!   20 ms between its read and its write); the leases behind it are checked on
//!   both backends;
//! - a tenant's quota is for all of them: each replica admits its share;
//! - a plugin's read-modify-write by compare-and-swap (contract 0.2.1) loses no
//!   update even between events of different customers, which run at once.

use std::path::Path;

use crossdesk_integration_tests::postgres::TestPostgres;
use crossdesk_integration_tests::process::ServerProcess;
use crossdesk_integration_tests::*;
use pb::event_service_client::EventServiceClient;

use crate::store::Db;

/// Its spin is the plugin's work, not a runaway: within this CPU budget it stays
/// on the event workers (in overtime, a machine busy with other work could hold
/// it past its deadline).
const SPIN_BUDGET: &str = "[runtime]\ncpu_budget_ms = 1000\n";

/// kv-counter for tenant acme on PostgreSQL, with `sections` (TOML) first, its
/// read and write 20 ms apart.
fn config(dir: &Path, db_url: &str, sections: &str) -> std::path::PathBuf {
    polling(dir, db_url, sections, 50)
}

/// [`config`], the store polled every `poll_ms`.
fn polling(dir: &Path, db_url: &str, sections: &str, poll_ms: u64) -> std::path::PathBuf {
    let sections =
        format!("{sections}\n{SPIN_BUDGET}[storage]\nurl = \"{db_url}\"\npoll_ms = {poll_ms}\n");
    kv_counter_config(dir, &sections, r#"spin_ms = "20""#)
}

/// A one-shot tool on a deployment's store (`crossdesk plugin exec --config`)
/// is no replica: counted as one, it would shrink every tenant's quota while
/// it runs. A replica that stops leaves the count.
#[tokio::test(flavor = "multi_thread")]
async fn a_tool_on_the_shared_store_is_not_counted_as_a_replica() {
    let url = TestPostgres::fresh_database().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(config(dir.path(), &url, "")).expect("config");
    let config = crossdesk_sidecar::Config::parse(&text).expect("config");
    let db = TestPostgres::client(&url).await;
    let counted = async || -> i64 {
        db.query_one("SELECT COUNT(*) FROM replicas", &[])
            .await
            .expect("count")
            .get(0)
    };
    let tool = crossdesk_sidecar::Sidecar::build_tool(&config)
        .await
        .expect("tool");
    assert_eq!(counted().await, 0, "a tool is no replica");
    drop(tool);
    let replica = crossdesk_sidecar::Sidecar::build(&config)
        .await
        .expect("replica");
    assert_eq!(counted().await, 1);
    replica.shutdown().await;
    assert_eq!(counted().await, 0, "it left");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_customers_events_on_two_replicas_lose_no_update() {
    let url = TestPostgres::fresh_database().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let replicas = ServerProcess::replicas(dir.path(), 2, |d| config(d, &url, ""), &[]);
    let mut clients = Vec::new();
    for replica in &replicas {
        clients.push(
            EventServiceClient::connect(format!("http://{}", replica.addr))
                .await
                .expect("event API"),
        );
    }
    const PAIRS: usize = 10;
    let mut counts = Vec::new();
    for n in 0..PAIRS {
        let (mut a, mut b) = (clients[0].clone(), clients[1].clone());
        let (x, y) = tokio::join!(
            a.handle_event(request(customer_message("acme", &format!("a-{n}"), "?"))),
            b.handle_event(request(customer_message("acme", &format!("b-{n}"), "?"))),
        );
        for response in [x, y] {
            counts.push(notes(&response.expect("event").into_inner()).join(""));
        }
    }
    counts.sort_by_key(|note| {
        note.trim_start_matches("count: ")
            .parse::<usize>()
            .unwrap_or(0)
    });
    let expected: Vec<String> = (1..=2 * PAIRS).map(|n| format!("count: {n}")).collect();
    assert_eq!(counts, expected, "every event counted, none over another");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenants_quota_is_shared_by_the_replicas() {
    let url = TestPostgres::fresh_database().await;
    let dir = tempfile::tempdir().expect("temp dir");
    // A burst of 6 events for the deployment, refilled at 1 a second.
    let quota = "[quota]\nburst = 6\nevents_per_second = 1\n[ops]\nlisten = \"127.0.0.1:0\"\n";
    // A replica is counted while its heartbeats (one a poll) are under ten polls
    // old: half a second apart, a loaded machine does not stall past that.
    let replicas = ServerProcess::replicas(dir.path(), 2, |d| polling(d, &url, quota, 500), &[]);
    // Each counts the other within a heartbeat.
    for replica in &replicas {
        let ops = replica.ops_addr.expect("ops");
        let since = std::time::Instant::now();
        loop {
            let metrics = reqwest::get(format!("http://{ops}/metrics"))
                .await
                .expect("metrics")
                .text()
                .await
                .expect("body");
            if metrics.lines().any(|l| l == "crossdesk_replicas 2") {
                break;
            }
            assert!(
                since.elapsed() < std::time::Duration::from_secs(10),
                "the replicas did not count each other:\n{metrics}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    let mut admitted = [0u64; 2];
    let started = std::time::Instant::now();
    for (i, replica) in replicas.iter().enumerate() {
        let mut client = EventServiceClient::connect(format!("http://{}", replica.addr))
            .await
            .expect("event API");
        for n in 0..6 {
            let event = customer_message("acme", &format!("r{i}-{n}"), "?");
            match client.handle_event(request(event)).await {
                Ok(_) => admitted[i] += 1,
                Err(status) => {
                    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
                    assert!(status.message().contains("share"), "{}", status.message());
                }
            }
        }
    }
    // Each replica's share is a burst of 3 and half the refill (one event every
    // two seconds) while the test runs: not the 6 each that a per-process quota
    // would give.
    let refills = started.elapsed().as_secs() / 2 + 1;
    for (i, admitted) in admitted.iter().enumerate() {
        assert!(
            (3..=(3 + refills).min(5)).contains(admitted),
            "replica {i} admitted {admitted} of 6 in {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn compare_and_swap_loses_no_update_between_customers() {
    let server = TestServer::start(
        &(install(&["plugin-kv-counter"])
            + SPIN_BUDGET
            + r#"
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-kv-counter"
kv = true
settings = { spin_ms = "5", atomic = "true" }
"#),
    )
    .await;
    const EVENTS: usize = 16;
    let sends = (0..EVENTS).map(|n| {
        let mut event = customer_message("acme", &format!("e-{n}"), "?");
        // A customer each: nothing orders these events; they run at once.
        if let Some(customer) = event.customer.as_mut() {
            customer.id = format!("customer-{n}");
        }
        let server = &server;
        async move { notes(&server.handle(event).await).join("") }
    });
    let mut counts = futures::future::join_all(sends).await;
    counts.sort_by_key(|note| {
        note.trim_start_matches("count: ")
            .parse::<usize>()
            .unwrap_or(0)
    });
    let expected: Vec<String> = (1..=EVENTS).map(|n| format!("count: {n}")).collect();
    assert_eq!(counts, expected, "each event's increment kept");
}

async fn compare_and_swap_writes_only_over_what_it_expected(db: &Db) {
    let store = db.open().await;
    let cas = |expected: Option<&[u8]>, new: Option<&[u8]>| {
        let store = store.clone();
        let (expected, new) = (expected.map(<[u8]>::to_vec), new.map(<[u8]>::to_vec));
        async move {
            store
                .kv_compare_and_swap(
                    &crossdesk_sidecar::store::DataOf::tenant("acme"),
                    "p",
                    "k",
                    expected,
                    new,
                )
                .await
                .expect("cas")
        }
    };
    let generation = || {
        let store = store.clone();
        async move { store.generation("acme", "p").await.expect("generation") }
    };
    assert!(cas(None, None).await, "absent, as expected: nothing to do");
    assert_eq!(generation().await, 0);
    assert!(cas(None, Some(b"1")).await);
    assert!(!cas(None, Some(b"x")).await, "not absent any more");
    assert!(!cas(Some(b"0"), Some(b"x")).await, "not 0");
    assert!(cas(Some(b"1"), Some(b"2")).await);
    assert_eq!(generation().await, 2);
    assert!(
        cas(Some(b"2"), Some(b"2")).await,
        "the same value: no change"
    );
    assert_eq!(generation().await, 2);
    assert!(!cas(Some(b"1"), None).await);
    assert!(cas(Some(b"2"), None).await, "deleted");
    assert_eq!(store.kv_get("acme", "p", "k").await.expect("get"), None);
    assert_eq!(generation().await, 3);
}

// The leases, on both backends.

async fn a_lease_has_one_holder_until_released_or_ended(db: &Db) {
    let (a, b) = (db.open().await, db.open().await);
    let take = |store: &crossdesk_sidecar::store::Store, holder: &str, now: i64| {
        let store = store.clone();
        let holder = holder.to_owned();
        async move {
            store
                .acquire_lease("acme", "cust-1", &holder, now, now + 1_000)
                .await
                .expect("acquire")
        }
    };
    assert!(take(&a, "A", 0).await);
    assert!(!take(&b, "B", 10).await, "A holds it");
    assert!(
        !take(&a, "A-next", 10).await,
        "nor another holder (a later event) of the same process"
    );
    assert!(
        a.acquire_lease("acme", "cust-2", "B", 10, 1_010)
            .await
            .expect("acquire"),
        "another customer is free"
    );
    b.release_lease("acme", "cust-1", "B")
        .await
        .expect("release");
    assert!(!take(&b, "B", 20).await, "only its holder releases a lease");
    a.release_lease("acme", "cust-1", "A")
        .await
        .expect("release");
    assert!(take(&b, "B", 30).await);
    // B died: its lease ends at 1,030, then another may take it.
    assert!(!take(&a, "A2", 1_030).await);
    assert!(take(&a, "A2", 1_031).await);
}

crate::store::on_both_backends!(
    a_lease_has_one_holder_until_released_or_ended,
    compare_and_swap_writes_only_over_what_it_expected,
);
