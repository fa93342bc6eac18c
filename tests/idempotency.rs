//! The plugins run once per event id, whatever the deliveries: a redelivery after
//! the sidecar was killed (SIGKILL) gets the first response back, a graceful stop
//! writes what its last events left to write, and concurrent
//! deliveries to two replicas sharing PostgreSQL run the plugins once. The store's
//! records (claims, responses, their purge) are checked on both backends.
//!
//! The plugin is `kv-counter`: it counts the tenant's customer messages in its
//! storage and says the count in a note, so a second run shows as a second count.

use std::path::Path;

use crossdesk_integration_tests::postgres::TestPostgres;
use crossdesk_integration_tests::process::ServerProcess;
use crossdesk_integration_tests::*;
use crossdesk_sidecar::store::{EventKey, ResponseWrite, Store, StoredResponse, WriteOutcome};
use pb::event_service_client::EventServiceClient;

use crate::store::Db;

fn config(dir: &Path, sections: &str) -> std::path::PathBuf {
    kv_counter_config(dir, sections, "")
}

async fn deliver(addr: std::net::SocketAddr, event_id: &str) -> pb::HandleEventResponse {
    EventServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("event API")
        .handle_event(request(customer_message("acme", event_id, "Wo ist es?")))
        .await
        .expect("event")
        .into_inner()
}

/// Waits until the store in `dir` holds the response to `event_id` (responses
/// are committed a few milliseconds after they are answered).
async fn recorded(dir: &Path, event_id: &str) {
    let store = Store::open(&dir.join("data")).expect("the sidecar's store");
    let since = std::time::Instant::now();
    while store
        .response(&key(event_id), 0)
        .await
        .expect("read")
        .is_none()
    {
        assert!(
            since.elapsed() < std::time::Duration::from_secs(10),
            "{event_id} never recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivery_after_sigkill_gets_the_first_response() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(dir.path(), "");
    let server = ServerProcess::start(&config, &[]);
    let first = deliver(server.addr, "e-1").await;
    assert_eq!(notes(&first), ["count: 1"]);
    assert!(!first.replayed);
    recorded(dir.path(), "e-1").await;
    server.kill();

    let server = ServerProcess::start(&config, &[]);
    let again = deliver(server.addr, "e-1").await;
    assert!(again.replayed, "{again:?}");
    assert_eq!(notes(&again), ["count: 1"], "the plugin did not run again");
    assert_eq!(again.outcomes, first.outcomes);
    let next = deliver(server.addr, "e-2").await;
    assert_eq!(notes(&next), ["count: 2"]);
    assert!(!next.replayed);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_graceful_stop_records_every_response_it_gave() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(dir.path(), "");
    let server = ServerProcess::start(&config, &[]);
    const EVENTS: usize = 50;
    for n in 0..EVENTS {
        deliver(server.addr, &format!("e-{n}")).await;
    }
    // A last event on a ticket of its own, its report facts and contact count
    // gathered for the next second's write.
    let mut last = customer_message("acme", "e-last", "Wo ist es?");
    last.ticket_id = "T-last".into();
    EventServiceClient::connect(format!("http://{}", server.addr))
        .await
        .expect("event API")
        .handle_event(request(last))
        .await
        .expect("the last event");
    // Answered, perhaps not yet committed: SIGTERM commits them before exiting,
    // and writes the last events' facts and counts.
    server.stop();
    let store = Store::open(&dir.path().join("data")).expect("the sidecar's store");
    let tickets = store
        .customer_tickets("acme", "cust-1")
        .await
        .expect("the report's tickets");
    assert!(
        tickets.iter().any(|row| row.ticket == "T-last"),
        "{tickets:?}"
    );
    let arrivals: u64 = store
        .contact_history("acme", i64::MIN, i64::MAX)
        .await
        .expect("the contact history")
        .iter()
        .map(|count| count.arrivals)
        .sum();
    assert_eq!(arrivals, 2, "T-1 and T-last");
    drop(store);
    let server = ServerProcess::start(&config, &[]);
    for n in 0..EVENTS {
        let again = deliver(server.addr, &format!("e-{n}")).await;
        assert!(again.replayed, "e-{n}: {again:?}");
        assert_eq!(notes(&again), [format!("count: {}", n + 1)]);
    }
}

/// A request that never ends (an admin page's form whose body never comes) holds a
/// stop for `server.drain_ms` only, not for the admin API's 120 s: then it is cut
/// off, the responses given are written, and the process exits.
#[tokio::test(flavor = "multi_thread")]
async fn a_request_in_flight_holds_a_stop_for_the_drain_only() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(
        dir.path(),
        "[server]\ndrain_ms = 300\n[admin]\nlisten = \"127.0.0.1:0\"\n\
         users = [{ name = \"ops\", token = \"ops-0123456789abcdef\", tenants = [\"*\"] }]\n",
    );
    let server = ServerProcess::start(&config, &[]);
    assert_eq!(notes(&deliver(server.addr, "e-1").await), ["count: 1"]);
    let mut stalled = tokio::net::TcpStream::connect(server.admin_addr.expect("admin API"))
        .await
        .expect("connect");
    stalled
        .write_all(
            b"POST /admin/login HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Content-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 64\r\nExpect: 100-continue\r\n\r\n",
        )
        .await
        .expect("request head");
    // The server asks for the body once its handler reads it: the request is in
    // flight from then on.
    let mut interim = [0u8; 25];
    stalled
        .read_exact(&mut interim)
        .await
        .expect("100 Continue");
    assert!(interim.starts_with(b"HTTP/1.1 100 Continue"), "{interim:?}");

    server.stop_within(std::time::Duration::from_secs(15));
    let server = ServerProcess::start(&config, &[]);
    let again = deliver(server.addr, "e-1").await;
    assert!(
        again.replayed,
        "the response given before the stop was written"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_deliveries_to_two_replicas_run_the_plugins_once() {
    let url = TestPostgres::fresh_database().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = format!("[storage]\nurl = \"{url}\"");
    let replicas = ServerProcess::replicas(dir.path(), 2, |d| config(d, &storage), &[]);
    const EVENTS: usize = 40;
    let mut counts = Vec::new();
    for n in 0..EVENTS {
        let id = format!("e-{n}");
        let (a, b) = tokio::join!(
            deliver(replicas[0].addr, &id),
            deliver(replicas[1].addr, &id)
        );
        assert_eq!(notes(&a), notes(&b), "{id}: both replicas answer alike");
        assert!(
            a.replayed != b.replayed,
            "{id}: exactly one delivery ran the plugins: {} {}",
            a.replayed,
            b.replayed
        );
        counts.push(notes(&a).join(""));
    }
    let expected: Vec<String> = (1..=EVENTS).map(|n| format!("count: {n}")).collect();
    assert_eq!(counts, expected, "each event counted once");
    // A later redelivery, to either replica, is a replay too.
    for replica in &replicas {
        let again = deliver(replica.addr, "e-0").await;
        assert!(again.replayed);
        assert_eq!(notes(&again), ["count: 1"]);
    }
}

// The store's records, on both backends.

fn key(event_id: &str) -> EventKey {
    EventKey::unchecked("acme", event_id)
}

fn claim(event_id: &str, owner: &str, lease_until_ms: i64) -> ResponseWrite {
    ResponseWrite::Claim {
        key: key(event_id),
        event_hash: vec![1; 32],
        owner: owner.into(),
        lease_until_ms,
    }
}

fn complete(event_id: &str, owner: &str, response: &[u8], expires_at_ms: i64) -> ResponseWrite {
    ResponseWrite::Complete {
        key: key(event_id),
        event_hash: vec![1; 32],
        owner: owner.into(),
        response: response.to_vec(),
        expires_at_ms,
    }
}

async fn write(store: &Store, write: ResponseWrite, now_ms: i64) -> WriteOutcome {
    let mut outcomes = store
        .write_responses(vec![write], now_ms)
        .await
        .expect("write");
    assert_eq!(outcomes.len(), 1);
    outcomes.remove(0)
}

fn held(owner: &str, response: Option<&[u8]>, expires_at_ms: i64) -> WriteOutcome {
    WriteOutcome::Held(StoredResponse {
        event_hash: vec![1; 32],
        owner: owner.into(),
        response: response.map(<[u8]>::to_vec),
        expires_at_ms,
    })
}

async fn a_claim_holds_until_its_owner_completes_or_releases_it(db: &Db) {
    let (a, b) = (db.open().await, db.open().await);
    let now = 1_000;
    assert_eq!(
        write(&a, claim("e", "A", 5_000), now).await,
        WriteOutcome::Claimed
    );
    assert_eq!(
        write(&b, claim("e", "B", 5_000), now).await,
        held("A", None, 5_000)
    );
    assert_eq!(
        write(&b, complete("e", "B", b"by B", 9_000), now).await,
        WriteOutcome::Completed(false),
        "another owner's live claim is kept"
    );
    assert_eq!(
        write(&a, complete("e", "A", b"by A", 9_000), now).await,
        WriteOutcome::Completed(true)
    );
    assert_eq!(
        write(&b, claim("e", "B", 5_000), now).await,
        held("A", Some(b"by A"), 9_000)
    );
    assert_eq!(
        b.response(&key("e"), now).await.expect("read"),
        Some(StoredResponse {
            event_hash: vec![1; 32],
            owner: "A".into(),
            response: Some(b"by A".to_vec()),
            expires_at_ms: 9_000,
        })
    );

    // A release drops the owner's claim only, and never a response.
    assert_eq!(
        write(&a, claim("f", "A", 5_000), now).await,
        WriteOutcome::Claimed
    );
    let release = |event_id: &str, owner: &str| ResponseWrite::Release {
        key: key(event_id),
        owner: owner.into(),
    };
    write(&b, release("f", "B"), now).await;
    assert_eq!(
        write(&b, claim("f", "B", 5_000), now).await,
        held("A", None, 5_000)
    );
    write(&a, release("f", "A"), now).await;
    assert_eq!(
        write(&b, claim("f", "B", 5_000), now).await,
        WriteOutcome::Claimed
    );
    write(&a, release("e", "A"), now).await;
    assert!(b.response(&key("e"), now).await.expect("read").is_some());
}

async fn an_expired_record_gives_way(db: &Db) {
    let store = db.open().await;
    assert_eq!(
        write(&store, claim("e", "A", 2_000), 1_000).await,
        WriteOutcome::Claimed
    );
    // A's process died: after its lease, B takes the event over, and A's late
    // completion does not replace B's.
    assert_eq!(
        write(&store, claim("e", "B", 9_000), 2_001).await,
        WriteOutcome::Claimed
    );
    assert_eq!(
        write(&store, complete("e", "A", b"late", 50_000), 2_002).await,
        WriteOutcome::Completed(false)
    );
    assert_eq!(
        write(&store, complete("e", "B", b"by B", 50_000), 2_003).await,
        WriteOutcome::Completed(true)
    );
    // A response past its time to live is no longer found, and gives way.
    assert!(
        store
            .response(&key("e"), 50_000)
            .await
            .expect("read")
            .is_some()
    );
    assert_eq!(store.response(&key("e"), 50_001).await.expect("read"), None);
    assert_eq!(
        write(&store, claim("e", "C", 60_000), 50_001).await,
        WriteOutcome::Claimed
    );
}

async fn purging_drops_the_expired_then_the_oldest_beyond_the_byte_bound(db: &Db) {
    let store = db.open().await;
    let writes = (0..10)
        .map(|n| complete(&format!("e-{n}"), "A", &[0; 100], 10_000 + n))
        .chain([claim("pending", "A", 20_000)])
        .collect();
    store.write_responses(writes, 0).await.expect("write");
    // e-0 and e-1 expired; of the rest, the 5 that expire last fit in 500 bytes.
    let purged = store.purge_responses(10_002, 500).await.expect("purge");
    assert_eq!((purged.expired, purged.over_bound), (2, 3));
    for n in 0..10 {
        let kept = store
            .response(&key(&format!("e-{n}")), 0)
            .await
            .expect("read")
            .is_some();
        assert_eq!(kept, n >= 5, "e-{n}");
    }
    assert!(
        store
            .response(&key("pending"), 0)
            .await
            .expect("read")
            .is_some(),
        "a claim takes no bytes and stays for its lease"
    );
}

/// A replica that has not yet seen a tenant's deletion still runs its events
/// for a moment: their claims and responses are not written, so that nothing of
/// the deleted tenant stays, and a tenant created again under its id is never
/// answered with what its predecessor was.
async fn records_of_a_deleted_tenant_are_not_written(db: &Db) {
    use crate::store::{create_tenant, delete_tenant};
    use crossdesk_sidecar::store::DataOf;
    let store = db.open().await;
    let of = |incarnation: &str, event_id: &str| EventKey {
        of: std::sync::Arc::new(DataOf {
            tenant: "acme".into(),
            incarnation: Some(incarnation.into()),
        }),
        event_id: event_id.into(),
    };
    let claim_of = |key: EventKey| ResponseWrite::Claim {
        key,
        event_hash: vec![1; 32],
        owner: "A".into(),
        lease_until_ms: 5_000,
    };
    let complete_of = |key: EventKey| ResponseWrite::Complete {
        key,
        event_hash: vec![1; 32],
        owner: "A".into(),
        response: b"answer".to_vec(),
        expires_at_ms: 9_000,
    };
    let now = 1_000;
    create_tenant(&store, "acme", "aa").await;
    // One batch, two incarnations: each write is checked against its own.
    let outcomes = store
        .write_responses(
            vec![
                claim_of(of("aa", "e-1")),
                complete_of(of("bb", "e-2")),
                complete_of(of("aa", "e-3")),
                claim_of(of("bb", "e-4")),
            ],
            now,
        )
        .await
        .expect("write");
    assert_eq!(
        outcomes,
        [
            WriteOutcome::Claimed,
            WriteOutcome::TenantGone,
            WriteOutcome::Completed(true),
            WriteOutcome::TenantGone,
        ]
    );
    delete_tenant(&store, "acme").await;
    assert_eq!(
        write(&store, complete_of(of("aa", "e-1")), now).await,
        WriteOutcome::TenantGone,
        "the run that had claimed e-1 ends after the deletion"
    );
    assert_eq!(
        write(&store, claim_of(of("aa", "e-5")), now).await,
        WriteOutcome::TenantGone
    );
    create_tenant(&store, "acme", "cc").await;
    assert_eq!(
        write(&store, complete_of(of("aa", "e-6")), now).await,
        WriteOutcome::TenantGone,
        "the old tenant's"
    );
    for event_id in ["e-1", "e-3", "e-5", "e-6"] {
        assert_eq!(
            store.response(&key(event_id), now).await.expect("read"),
            None,
            "{event_id}"
        );
    }
    assert_eq!(
        write(&store, claim_of(of("cc", "e-3")), now).await,
        WriteOutcome::Claimed,
        "the new tenant's first delivery of e-3 runs it"
    );
    // The old tenant's run of e-3, on the same replica (owner), fails late:
    // its release does not drop the new tenant's claim.
    let release = ResponseWrite::Release {
        key: of("aa", "e-3"),
        owner: "A".into(),
    };
    assert_eq!(write(&store, release, now).await, WriteOutcome::TenantGone);
    assert_eq!(
        write(&store, claim("e-3", "B", 5_000), now).await,
        held("A", None, 5_000),
        "the new tenant's claim holds"
    );
    // Unchecked keys (tenants of the configuration file alone) are written.
    assert_eq!(
        write(&store, claim("e-7", "A", 5_000), now).await,
        WriteOutcome::Claimed
    );
}

crate::store::on_both_backends!(
    a_claim_holds_until_its_owner_completes_or_releases_it,
    an_expired_record_gives_way,
    purging_drops_the_expired_then_the_oldest_beyond_the_byte_bound,
    records_of_a_deleted_tenant_are_not_written,
);
