//! The helpdesk bridge end to end: webhooks shaped as Zendesk and Chatwoot send
//! them (tests/fixtures/), signed the way each documents, posted to a real bridge
//! that runs them through a real sidecar over gRPC and writes the actions back to a
//! helpdesk simulator that records every call.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use crossdesk_integration_tests::helpdesk::{Answer, Call, Helpdesk};
use crossdesk_integration_tests::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;

mod guards;
mod replicas;

const ZENDESK_SECRET: &str = "zendesk-signing-S3CR3T";
const CHATWOOT_SECRET: &str = "chatwoot-signing-S3CR3T";
/// The password of the Freshdesk automation rule's webhook authentication.
const FRESHDESK_SECRET: &str = "freshdesk-webhook-S3CR3T";
/// The bridge's own Zendesk user (fixture comment_added_bridge_note.json).
const ZENDESK_BOT: &str = "9000000000001";

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(path),
    )
    .expect("fixture")
}

/// The sidecar: tenant acme tags customer messages and signs agents' replies.
async fn sidecar() -> TestServer {
    TestServer::start(
        &(install(&["plugin-tagger", "hello-plugin"])
            + r#"
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "via-bridge" }
[[tenants.plugins]]
name = "hello-plugin"
settings = { signature = "-- Acme support" }
"#),
    )
    .await
}

/// A bridge on a free port with a Zendesk and a Chatwoot endpoint for tenant acme,
/// writing back to `helpdesk_url`; stopped when the returned sender drops.
struct Bridge {
    addr: SocketAddr,
    data_dir: tempfile::TempDir,
    config: crossdesk_bridge::BridgeConfig,
    /// The bridge stops when this is dropped.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

async fn bridge(sidecar: &TestServer, helpdesk_url: &str) -> Bridge {
    bridge_with(sidecar, helpdesk_url, 0).await
}

/// Polls the bridge's queue until `done` holds for its pending jobs; panics after
/// 15 s. Tests wait for a state, never for a fixed time.
async fn wait_for_queue(
    bridge: &Bridge,
    what: &str,
    done: impl Fn(&[crossdesk_bridge::queue::QueuedJob]) -> bool,
) {
    let queue = crossdesk_bridge::open_queue(&bridge.config)
        .await
        .expect("queue");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let pending = queue
            .list(crossdesk_bridge::queue::JobState::Pending)
            .await
            .expect("list");
        if done(&pending) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {pending:#?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Asserts that no job of the bridge's queue went to the dead letters.
async fn no_dead_letters(bridge: &Bridge) {
    let dead = crossdesk_bridge::open_queue(&bridge.config)
        .await
        .expect("queue")
        .list(crossdesk_bridge::queue::JobState::Dead)
        .await
        .expect("dead letters");
    assert!(dead.is_empty(), "{dead:#?}");
}

/// Waits until no job is pending: every delivery has been written back or given
/// up, so no further call to the helpdesk can come.
async fn drained(bridge: &Bridge) {
    wait_for_queue(bridge, "the queue did not drain", <[_]>::is_empty).await;
}

async fn bridge_with(sidecar: &TestServer, helpdesk_url: &str, debounce_ms: u64) -> Bridge {
    bridge_configured(sidecar, helpdesk_url, debounce_ms, "").await
}

/// Like [`bridge_with`], with `freshdesk` added to the Freshdesk endpoint's settings.
async fn bridge_configured(
    sidecar: &TestServer,
    helpdesk_url: &str,
    debounce_ms: u64,
    freshdesk: &str,
) -> Bridge {
    bridge_at(&sidecar.uri(), helpdesk_url, debounce_ms, "", freshdesk).await
}

/// A bridge to the sidecar at `sidecar`, with `settings` among its top-level ones
/// (in place of the tests' own values of the same keys).
async fn bridge_at(
    sidecar: &str,
    helpdesk_url: &str,
    debounce_ms: u64,
    settings: &str,
    freshdesk: &str,
) -> Bridge {
    crossdesk_integration_tests::logs::record();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let fast: String = [
        "retry_base_ms = 50",
        "retry_max_ms = 400",
        "max_attempts = 40",
        "request_timeout_ms = 2000",
    ]
    .iter()
    .filter(|line| {
        line.split(' ')
            .next()
            .is_some_and(|key| !settings.contains(key))
    })
    .map(|line| format!("{line}\n"))
    .collect();
    let config = crossdesk_bridge::BridgeConfig::parse(&format!(
        r#"
data_dir = {data:?}
sidecar = "{sidecar}"
{fast}debounce_ms = {debounce_ms}
{settings}

[[endpoints]]
name = "acme-zendesk"
helpdesk = "zendesk"
tenant = "acme"
base_url = "{helpdesk_url}"
signing_secret = "{ZENDESK_SECRET}"
api_user = "bot@acme.example"
api_token = "zendesk-api-S3CR3T"
bot_author_ids = ["{ZENDESK_BOT}"]

[[endpoints]]
name = "acme-chatwoot"
helpdesk = "chatwoot"
tenant = "acme"
base_url = "{helpdesk_url}"
signing_secret = "{CHATWOOT_SECRET}"
api_token = "chatwoot-api-S3CR3T"

[[endpoints]]
name = "acme-freshdesk"
helpdesk = "freshdesk"
tenant = "acme"
base_url = "{helpdesk_url}"
signing_secret = "{FRESHDESK_SECRET}"
api_token = "freshdesk-api-S3CR3T"
bot_author_ids = ["80000000001"]
{freshdesk}
"#,
        data = data_dir.path().display().to_string(),
    ))
    .expect("bridge config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run_config = config.clone();
    tokio::spawn(async move {
        crossdesk_bridge::run(run_config, listener, async {
            let _ = stopped.await;
        })
        .await
        .expect("bridge runs");
    });
    Bridge {
        addr,
        data_dir,
        config,
        stop: Some(stop),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (civil-from-days, proleptic Gregorian).
fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn hmac(secret: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Posts a Zendesk webhook signed as Zendesk does: base64 of HMAC-SHA256 over the
/// timestamp header followed by the raw body.
async fn post_zendesk(
    bridge: &impl Webhooks,
    body: &[u8],
    secret: &str,
    timestamp: &str,
) -> (u16, String) {
    let signature = base64::engine::general_purpose::STANDARD
        .encode(hmac(secret, &[timestamp.as_bytes(), body]));
    post_webhook(
        bridge,
        "acme-zendesk",
        body,
        &[
            ("x-zendesk-webhook-signature", signature),
            (
                "x-zendesk-webhook-signature-timestamp",
                timestamp.to_owned(),
            ),
        ],
    )
    .await
}

/// A bridge that takes webhooks: in this process or another.
trait Webhooks {
    fn webhook_addr(&self) -> SocketAddr;
}

impl Webhooks for Bridge {
    fn webhook_addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Posts `body` as JSON to the bridge's `endpoint` with these headers.
async fn post_webhook(
    bridge: &impl Webhooks,
    endpoint: &str,
    body: &[u8],
    headers: &[(&str, String)],
) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!(
            "http://{}/webhooks/{endpoint}",
            bridge.webhook_addr()
        ))
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request
        .body(body.to_vec())
        .send()
        .await
        .expect("post webhook");
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

async fn zendesk(bridge: &Bridge, fixture_name: &str) -> (u16, String) {
    post_zendesk(
        bridge,
        &fixture(&format!("zendesk/{fixture_name}")),
        ZENDESK_SECRET,
        &rfc3339(now()),
    )
    .await
}

fn comment(call: &Call) -> (&str, bool) {
    let comment = &call.body["ticket"]["comment"];
    (
        comment["body"].as_str().unwrap_or_default(),
        comment["public"].as_bool().unwrap_or(true),
    )
}

#[tokio::test]
async fn a_customer_comment_comes_back_as_a_note_with_tags_in_one_update() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    let (status, text) = zendesk(&bridge, "comment_added_email_customer.json").await;
    assert_eq!((status, text.trim()), (200, "queued"));
    let calls = helpdesk.wait_for_ok(1, Duration::from_secs(10)).await;
    let call = &calls[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("PUT", "/api/v2/tickets/5158.json")
    );
    let (note, public) = comment(call);
    assert!(!public, "an internal note: {call:?}");
    assert!(
        note.contains("echo: Toujours le même problème") && note.contains("via Crossdesk"),
        "{note}"
    );
    let tags = call.body["ticket"]["additional_tags"].to_string();
    assert!(tags.contains("via-bridge"), "{tags}");
    let auth = call.headers["authorization"].to_str().expect("ascii");
    let expected = base64::engine::general_purpose::STANDARD
        .encode("bot@acme.example/token:zendesk-api-S3CR3T");
    assert_eq!(auth, format!("Basic {expected}"));
    drained(&bridge).await;
    assert_eq!(helpdesk.calls().len(), 1, "one update per event");
}

#[tokio::test]
async fn a_burst_on_one_ticket_goes_back_as_one_update() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    // A window wide enough for three posts on a loaded machine.
    let bridge = bridge_with(&sidecar, &helpdesk.url(), 3000).await;
    let first = fixture("zendesk/comment_added_email_customer.json");
    // Two more comments on the same ticket, moments later.
    let mut payload: serde_json::Value = serde_json::from_slice(&first).expect("json");
    let mut burst = vec![first];
    for (id, text) in [
        ("9876543298", "Second message"),
        ("9876543299", "Third message"),
    ] {
        payload["event"]["comment"]["id"] = id.into();
        payload["event"]["comment"]["body"] = text.into();
        burst.push(serde_json::to_vec(&payload).expect("json"));
    }
    for body in &burst {
        let (status, _) = post_zendesk(&bridge, body, ZENDESK_SECRET, &rfc3339(now())).await;
        assert_eq!(status, 200);
    }
    let calls = helpdesk.wait_for_ok(1, Duration::from_secs(10)).await;
    drained(&bridge).await;
    assert_eq!(helpdesk.calls().len(), 1, "{:#?}", helpdesk.calls());
    let (note, _) = comment(&calls[0]);
    let order: Vec<usize> = ["Toujours", "Second message", "Third message"]
        .iter()
        .map(|text| {
            note.find(text)
                .unwrap_or_else(|| panic!("{text} in {note}"))
        })
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "in arrival order: {note}"
    );
}

/// Two comments on one ticket form one batch, and the sidecar cannot run the
/// second yet (its tenant's quota of one event a second is spent by the first):
/// the first goes back at once on its own, the second leaves the batch and goes
/// back when its own retry gets through. (Before, the batch waited for the
/// second, and died with it when its retries ran out.)
#[tokio::test]
async fn an_event_that_fails_for_now_does_not_hold_back_its_batch() {
    let sidecar = TestServer::start(
        &(install(&["plugin-tagger"])
            + r#"
[[tenants]]
id = "acme"
quota = { events_per_second = 1, burst = 1 }
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "via-bridge" }
"#),
    )
    .await;
    let helpdesk = Helpdesk::start().await;
    // A window wide enough for two posts on a loaded machine.
    let bridge = bridge_with(&sidecar, &helpdesk.url(), 3000).await;
    let first = fixture("zendesk/comment_added_email_customer.json");
    let mut second: serde_json::Value = serde_json::from_slice(&first).expect("json");
    second["id"] = "5d1a3a9e-6c1b-4f8e-9d1e-3a9b7c2d4e11".into();
    second["event"]["comment"]["id"] = "9876543298".into();
    second["event"]["comment"]["body"] = "Second message".into();
    for body in [first, serde_json::to_vec(&second).expect("json")] {
        let (status, _) = post_zendesk(&bridge, &body, ZENDESK_SECRET, &rfc3339(now())).await;
        assert_eq!(status, 200);
    }
    let calls = helpdesk.wait_for_ok(2, Duration::from_secs(20)).await;
    let notes: Vec<&str> = calls.iter().map(|call| comment(call).0).collect();
    assert!(
        notes[0].contains("echo: Toujours") && !notes[0].contains("Second message"),
        "the first alone, first: {notes:#?}"
    );
    assert!(notes[1].contains("echo: Second message"), "{notes:#?}");
    drained(&bridge).await;
}

/// A bridge told to stop lets the write-back under way finish: the batch is
/// done, not left half-made for another replica to make again (a public reply
/// would go twice).
#[tokio::test]
async fn a_stopping_bridge_finishes_the_write_back_under_way() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    // Within the bridge's request timeout here (2 s).
    helpdesk.script(&[Answer::Slow(Duration::from_secs(1))]);
    let mut running = bridge(&sidecar, &helpdesk.url()).await;
    zendesk(&running, "comment_added_email_customer.json").await;
    // The helpdesk has the update; its answer is on its way.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while helpdesk.calls().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no write-back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.stop.take();
    // Cut off, the job would wait in the queue for a bridge to take it over.
    drained(&running).await;
    let queue = crossdesk_bridge::open_queue(&running.config)
        .await
        .expect("queue");
    let done = queue
        .list(crossdesk_bridge::queue::JobState::Done)
        .await
        .expect("list");
    assert_eq!(done.len(), 1, "{done:#?}");
}

#[tokio::test]
async fn a_bad_signature_or_a_stale_timestamp_is_refused_and_nothing_is_queued() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    let body = fixture("zendesk/comment_added_email_customer.json");
    let (status, _) = post_zendesk(&bridge, &body, "not-the-secret", &rfc3339(now())).await;
    assert_eq!(status, 401, "wrong secret");
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let timestamp = rfc3339(now());
    let signature = base64::engine::general_purpose::STANDARD
        .encode(hmac(ZENDESK_SECRET, &[timestamp.as_bytes(), &body]));
    let status = reqwest::Client::new()
        .post(format!("http://{}/webhooks/acme-zendesk", bridge.addr))
        .header("x-zendesk-webhook-signature", signature)
        .header("x-zendesk-webhook-signature-timestamp", &timestamp)
        .body(tampered)
        .send()
        .await
        .expect("post")
        .status();
    assert_eq!(status.as_u16(), 401, "body changed after signing");
    // An hour-old delivery is a replay, or this replica's clock is off: not
    // queued, and asked again later (a 401 would lose it for good).
    let (status, text) =
        post_zendesk(&bridge, &body, ZENDESK_SECRET, &rfc3339(now() - 3_600)).await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("stale delivery"), "{text}");
    let unsigned = reqwest::Client::new()
        .post(format!("http://{}/webhooks/acme-zendesk", bridge.addr))
        .body(body.clone())
        .send()
        .await
        .expect("post")
        .status();
    assert_eq!(unsigned.as_u16(), 401);
    // Refused before anything was queued: the queue checks below prove no call
    // can follow.
    assert!(helpdesk.calls().is_empty(), "{:?}", helpdesk.calls());
    let queue = crossdesk_bridge::open_queue(&bridge.config)
        .await
        .expect("queue");
    for state in [
        crossdesk_bridge::queue::JobState::Pending,
        crossdesk_bridge::queue::JobState::Done,
        crossdesk_bridge::queue::JobState::Dead,
    ] {
        assert!(queue.list(state).await.expect("list").is_empty());
    }
}

#[tokio::test]
async fn a_webhook_delivered_twice_produces_one_note() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    let (first, _) = zendesk(&bridge, "comment_added_email_customer.json").await;
    let (second, text) = zendesk(&bridge, "comment_added_email_customer.json").await;
    assert_eq!((first, second), (200, 200));
    assert!(text.contains("duplicate"), "{text}");
    helpdesk.wait_for_ok(1, Duration::from_secs(10)).await;
    drained(&bridge).await;
    assert_eq!(helpdesk.calls().len(), 1);
}

#[tokio::test]
async fn a_rate_limited_write_back_waits_for_retry_after_then_succeeds() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    helpdesk.script(&[Answer::RateLimited(1), Answer::Down]);
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    zendesk(&bridge, "comment_added_email_customer.json").await;
    let ok = helpdesk.wait_for_ok(1, Duration::from_secs(15)).await;
    let calls = helpdesk.calls();
    let statuses: Vec<u16> = calls.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [429, 503, 200]);
    assert!(
        calls[1].at - calls[0].at >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured: {:?}",
        calls[1].at - calls[0].at
    );
    assert_eq!(
        ok[0].body, calls[0].body,
        "the same update, once it is let through"
    );
    let _ = &bridge.data_dir;
}

/// A route the helpdesk refuses as invalid (an agent outside the group) does not
/// take the note merged with it down: the update goes again without it, and the
/// note tells the agent the route.
#[tokio::test]
async fn a_refused_route_leaves_the_note_to_be_written_without_it() {
    let sidecar = TestServer::start(
        &(install(&["plugin-tagger"])
            + r#"
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "via-bridge", route_agent = "42" }
"#),
    )
    .await;
    let helpdesk = Helpdesk::start().await;
    helpdesk.refuse_bodies_with("assignee_id");
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    zendesk(&bridge, "comment_added_email_customer.json").await;
    let ok = helpdesk.wait_for_ok(1, Duration::from_secs(20)).await;
    let note = ok[0].body.to_string();
    assert!(note.contains("echo: "), "{note}");
    assert!(note.contains("Suggested routing: agent 42"), "{note}");
    let refused: Vec<_> = helpdesk
        .calls()
        .into_iter()
        .filter(|c| c.status == 422)
        .collect();
    assert_eq!(refused.len(), 1, "{refused:#?}");
    drained(&bridge).await;
}

/// A helpdesk that asked to wait holds no worker: with its backlog queued first,
/// another helpdesk's message is still written back at once.
#[tokio::test]
async fn a_helpdesk_asking_to_wait_does_not_hold_the_others_back() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    helpdesk.script(&[Answer::RateLimited(30)]);
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    zendesk(&bridge, "comment_added_email_customer.json").await;
    while !helpdesk.calls().iter().any(|c| c.status == 429) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // More of Zendesk's tickets than the bridge has workers, then Chatwoot's.
    let mut other: serde_json::Value =
        serde_json::from_slice(&fixture("zendesk/comment_added_email_customer.json"))
            .expect("JSON");
    for n in 0..6 {
        other["id"] = format!("0b9e8e8a-6d0e-4a57-9b8e-2c3c1c1f7e1{n}").into();
        other["detail"]["id"] = format!("516{n}").into();
        let body = serde_json::to_vec(&other).expect("JSON");
        let (status, _) = post_zendesk(&bridge, &body, ZENDESK_SECRET, &rfc3339(now())).await;
        assert_eq!(status, 200);
    }
    let posted = std::time::Instant::now();
    let (status, _) =
        post_chatwoot(&bridge, &fixture("chatwoot/message_created_whatsapp.json")).await;
    assert_eq!(status, 200);
    let written = loop {
        let calls = helpdesk.calls();
        if let Some(call) = calls
            .iter()
            .find(|c| c.path.contains("/conversations/") && c.status < 300)
        {
            break call.at;
        }
        assert!(
            posted.elapsed() < Duration::from_secs(20),
            "Chatwoot's write-back waited for Zendesk's Retry-After: {calls:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(written.duration_since(posted) < Duration::from_secs(10));
    let zendesk_during_hold = helpdesk
        .calls()
        .iter()
        .filter(|c| c.path.contains("/api/v2/tickets/"))
        .count();
    assert_eq!(
        zendesk_during_hold, 1,
        "only the refused call, until the hold ends"
    );
}

/// A `Retry-After` holds every request to that helpdesk, not only the refused
/// one: another ticket's write-back, due meanwhile, waits for it too.
#[tokio::test]
async fn a_retry_after_holds_the_helpdesks_other_tickets_too() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    helpdesk.script(&[Answer::RateLimited(2)]);
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    zendesk(&bridge, "comment_added_email_customer.json").await;
    let refused_at = loop {
        if let Some(call) = helpdesk.calls().iter().find(|c| c.status == 429) {
            break call.at;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    // Another ticket, another delivery.
    let mut other: serde_json::Value =
        serde_json::from_slice(&fixture("zendesk/comment_added_email_customer.json"))
            .expect("JSON");
    other["id"] = "0b9e8e8a-6d0e-4a57-9b8e-2c3c1c1f7e01".into();
    other["detail"]["id"] = "5159".into();
    let body = serde_json::to_vec(&other).expect("JSON");
    let (status, _) = post_zendesk(&bridge, &body, ZENDESK_SECRET, &rfc3339(now())).await;
    assert_eq!(status, 200);
    helpdesk.wait_for_ok(2, Duration::from_secs(20)).await;
    let calls = helpdesk.calls();
    for call in calls.iter().filter(|c| c.at > refused_at) {
        assert!(
            call.at - refused_at >= Duration::from_millis(1_950),
            "{} came {:?} after the 429 with Retry-After: 2",
            call.path,
            call.at - refused_at
        );
    }
    assert!(calls.iter().any(|c| c.path.contains("5159")), "{calls:#?}");
}

/// Two comments on one ticket go back as one batch; the sidecar refuses one
/// for good (its text is over the sidecar's limit): that one alone goes to the
/// dead letters, and the other's note is written.
#[tokio::test]
async fn an_event_the_sidecar_refuses_does_not_take_its_batch_down() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge_with(&sidecar, &helpdesk.url(), 3000).await;
    zendesk(&bridge, "comment_added_email_customer.json").await;
    let mut long: serde_json::Value =
        serde_json::from_slice(&fixture("zendesk/comment_added_email_customer.json"))
            .expect("JSON");
    long["id"] = "5d1a3a9e-6c1b-4f8e-9d1e-3a9b7c2d4e10".into();
    long["event"]["comment"]["id"] = "9876543211".into();
    long["event"]["comment"]["body"] = "trop long ".repeat(20_000).into();
    let body = serde_json::to_vec(&long).expect("JSON");
    let (status, _) = post_zendesk(&bridge, &body, ZENDESK_SECRET, &rfc3339(now())).await;
    assert_eq!(status, 200);
    let written = helpdesk.wait_for_ok(1, Duration::from_secs(20)).await;
    assert!(written[0].path.contains("5158"), "{written:#?}");
    let queue = crossdesk_bridge::open_queue(&bridge.config)
        .await
        .expect("queue");
    let dead = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let dead = queue
                .list(crossdesk_bridge::queue::JobState::Dead)
                .await
                .expect("dead letters");
            if !dead.is_empty() {
                return dead;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the refused event among the dead letters");
    assert_eq!(dead.len(), 1, "{dead:#?}");
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("sidecar"),
        "{dead:#?}"
    );
}

#[tokio::test]
async fn a_helpdesk_down_for_a_while_loses_nothing() {
    let sidecar = sidecar().await;
    // The helpdesk's port, announced to the bridge before anything listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let bridge = bridge(&sidecar, &format!("http://{port}")).await;
    for fixture_name in [
        "comment_added_email_customer.json",
        "comment_added_whatsapp_customer.json",
    ] {
        let (status, text) = zendesk(&bridge, fixture_name).await;
        assert_eq!(status, 200, "{fixture_name}: {text}");
    }
    // Both deliveries have met the closed port at least once.
    wait_for_queue(&bridge, "no write-back was attempted", |pending| {
        pending.len() == 2 && pending.iter().all(|j| j.attempts >= 1)
    })
    .await;
    let helpdesk = Helpdesk::start_on(port).await;
    let calls = helpdesk.wait_for_ok(2, Duration::from_secs(15)).await;
    let mut bodies: Vec<&str> = calls.iter().map(|c| comment(c).0).collect();
    bodies.sort();
    assert_eq!(bodies.len(), 2);
    assert!(bodies.iter().all(|b| b.contains("echo: ")), "{bodies:?}");
}

#[tokio::test]
async fn the_bridges_own_notes_do_not_trigger_the_pipeline_again() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    let (status, text) = zendesk(&bridge, "comment_added_bridge_note.json").await;
    assert_eq!(status, 200);
    assert!(text.starts_with("ignored"), "{text}");
    drained(&bridge).await;
    assert!(helpdesk.calls().is_empty());
}

#[tokio::test]
async fn an_agents_prefixed_note_goes_out_as_the_public_reply() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    let (status, text) = zendesk(&bridge, "comment_added_agent_reply_note.json").await;
    assert_eq!((status, text.trim()), (200, "queued"));
    let calls = helpdesk.wait_for_ok(1, Duration::from_secs(10)).await;
    let replies: Vec<&str> = calls
        .iter()
        .map(comment)
        .filter(|(_, public)| *public)
        .map(|(body, _)| body)
        .collect();
    assert_eq!(replies.len(), 1, "{calls:#?}");
    assert!(
        replies[0].starts_with("Sorry about that!") && replies[0].ends_with("-- Acme support"),
        "the draft as the plugins left it, without the prefix: {:?}",
        replies[0]
    );
}

/// A plugin that fails on an agent's reply (here: its output over the limit)
/// leaves the draft as the agent wrote it: not sent to the customer, and the
/// agent told so in a note.
#[tokio::test]
async fn a_reply_a_plugin_failed_on_is_held_back_and_the_agent_told() {
    let (calls, _bridge) = agent_reply_with_hello_plugin("", &[]).await;
    assert_held_back(&calls, "hello-plugin failed");
}

/// A fail-closed plugin that fails on an agent's reply fails the event (the
/// sidecar refuses it for good): the reply is held back and the agent told all
/// the same, not left in the dead letters, where no agent looks and whose
/// replay would send the reply after they wrote it again. The helpdesk is down
/// for the first write: the next attempt, its calls begun, holds the reply
/// back as the first did, without asking the sidecar again.
#[tokio::test]
async fn a_reply_a_fail_closed_plugin_failed_on_is_held_back_and_the_agent_told() {
    let (calls, bridge) =
        agent_reply_with_hello_plugin("fail_closed = true", &[Answer::Down]).await;
    assert_held_back(&calls, "'hello-plugin' is fail-closed and did not succeed");
    no_dead_letters(&bridge).await;
}

/// An agent's reply the sidecar does not answer through all the bridge's
/// tries (here 2; other events wait out an outage for a day) is held back and
/// the agent told, not sent to the customer hours after they moved on.
#[tokio::test]
async fn a_reply_the_sidecar_does_not_answer_is_held_back_after_its_tries() {
    let helpdesk = Helpdesk::start().await;
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let sidecar = format!("http://{}", nobody.local_addr().expect("address"));
    drop(nobody);
    let bridge = bridge_at(&sidecar, &helpdesk.url(), 0, "max_attempts = 2", "").await;
    let (status, text) = zendesk(&bridge, "comment_added_agent_reply_note.json").await;
    assert_eq!((status, text.trim()), (200, "queued"));
    drained(&bridge).await;
    assert_held_back(&helpdesk.calls(), "it could not be run (");
}

/// An agent's `#reply` note through a bridge to a sidecar whose `acme` runs
/// the hello plugin with too little room for its output, and `grant` more:
/// the helpdesk's calls once the queue is drained, its writes answered
/// `script` first.
async fn agent_reply_with_hello_plugin(grant: &str, script: &[Answer]) -> (Vec<Call>, Bridge) {
    let sidecar = TestServer::start(&format!(
        r#"{}
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "hello-plugin"
settings = {{ signature = "-- Acme support" }}
limits = {{ max_output_bytes = 1 }}
{grant}
"#,
        install(&["hello-plugin"])
    ))
    .await;
    let helpdesk = Helpdesk::start().await;
    helpdesk.script(script);
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    let (status, text) = zendesk(&bridge, "comment_added_agent_reply_note.json").await;
    assert_eq!((status, text.trim()), (200, "queued"));
    helpdesk.wait_for_ok(1, Duration::from_secs(10)).await;
    drained(&bridge).await;
    (helpdesk.calls(), bridge)
}

/// Nothing went to the customer; a note telling the agent `why`, and the tag.
fn assert_held_back(calls: &[Call], why: &str) {
    let comments: Vec<(&str, bool)> = helpdesk_comments(calls);
    assert!(comments.iter().all(|(_, public)| !public), "{calls:#?}");
    assert!(
        comments.iter().any(|(body, _)| body
            .starts_with("Crossdesk did not send this reply to the customer: ")
            && body.contains(why)),
        "{calls:#?}"
    );
    let tags: Vec<String> = calls
        .iter()
        .map(|c| c.body["ticket"]["additional_tags"].to_string())
        .collect();
    assert!(
        tags.iter().any(|t| t.contains("crossdesk-reply-held")),
        "a ticket past its share of notes still gets the tag: {tags:?}"
    );
}

fn helpdesk_comments(calls: &[Call]) -> Vec<(&str, bool)> {
    calls
        .iter()
        .map(comment)
        .filter(|(body, _)| !body.is_empty())
        .collect()
}

#[tokio::test]
async fn a_refused_write_back_is_dead_lettered_and_can_be_replayed() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    helpdesk.script(&[Answer::Refuse]);
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    zendesk(&bridge, "comment_added_email_customer.json").await;
    let queue = crossdesk_bridge::open_queue(&bridge.config)
        .await
        .expect("queue");
    let dead = loop {
        let dead = queue
            .list(crossdesk_bridge::queue::JobState::Dead)
            .await
            .expect("dead letters");
        if !dead.is_empty() {
            break dead;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("422"),
        "{dead:?}"
    );
    assert_eq!(helpdesk.calls().len(), 1, "a 422 is not retried");
    // Operators see it: the dead-letter list's length in the bridge's metrics.
    let metrics = reqwest::get(format!("http://{}/metrics", bridge.addr))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    assert!(
        metrics.contains("crossdesk_bridge_queue_jobs{state=\"dead\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("crossdesk_bridge_queue_jobs{state=\"pending\"} 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("crossdesk_bridge_queue_oldest_pending_age_seconds 0.0\n"),
        "{metrics}"
    );
    assert_eq!(
        queue.replay(Some(vec![dead[0].id])).await.expect("replay"),
        1
    );
    helpdesk.wait_for_ok(1, Duration::from_secs(10)).await;
}

/// A sidecar that takes the connection and never answers (hung, or its node gone
/// without a word) holds a job no longer than `sidecar_timeout_ms`: the attempt
/// fails, to be retried, instead of the ticket's lease being renewed forever.
#[tokio::test]
async fn a_sidecar_that_never_answers_is_given_up_on_and_tried_again() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = silent.local_addr().expect("addr");
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge_at(
        &format!("http://{addr}"),
        &helpdesk.url(),
        0,
        "sidecar_timeout_ms = 300",
        "",
    )
    .await;
    assert_eq!(
        zendesk(&bridge, "comment_added_email_customer.json")
            .await
            .0,
        200
    );
    let queue = crossdesk_bridge::open_queue(&bridge.config)
        .await
        .expect("queue");
    let failed_attempt = async {
        loop {
            let pending = queue
                .list(crossdesk_bridge::queue::JobState::Pending)
                .await
                .expect("pending jobs");
            if let Some(error) = pending.iter().find_map(|j| j.last_error.clone()) {
                break error;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    // Well under the HTTP/2 pings' 40 s, which would end the call too.
    let error = tokio::time::timeout(Duration::from_secs(20), failed_attempt)
        .await
        .expect("the attempt ended, with an error to retry");
    assert!(error.contains("sidecar"), "{error}");
    assert!(helpdesk.calls().is_empty(), "nothing written back");
}

/// While the sidecar is unreachable a job is retried past `max_attempts`, up to
/// `max_outage_secs` after it came: an outage does not fill the dead letters.
#[tokio::test]
async fn an_outage_keeps_jobs_queued_up_to_its_bound() {
    let helpdesk = Helpdesk::start().await;
    for (outage_secs, dies) in [(3_600, false), (1, true)] {
        let bridge = bridge_at(
            "http://127.0.0.1:1",
            &helpdesk.url(),
            0,
            &format!("max_attempts = 2\nmax_outage_secs = {outage_secs}"),
            "",
        )
        .await;
        assert_eq!(
            zendesk(&bridge, "comment_added_email_customer.json")
                .await
                .0,
            200
        );
        let queue = crossdesk_bridge::open_queue(&bridge.config)
            .await
            .expect("queue");
        let since = std::time::Instant::now();
        loop {
            let dead = queue
                .list(crossdesk_bridge::queue::JobState::Dead)
                .await
                .expect("dead");
            let pending = queue
                .list(crossdesk_bridge::queue::JobState::Pending)
                .await
                .expect("pending");
            if dies {
                if !dead.is_empty() {
                    assert!(since.elapsed() >= Duration::from_secs(1));
                    assert!(dead[0].attempts >= 2, "{:?}", dead[0]);
                    break;
                }
            } else {
                assert!(dead.is_empty(), "dead-lettered within its outage: {dead:?}");
                if pending.first().is_some_and(|job| job.attempts >= 5) {
                    break;
                }
            }
            assert!(
                since.elapsed() < Duration::from_secs(30),
                "{pending:?} {dead:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A sidecar that refuses the bridge's token (here: none, where callers must
/// give one) is a rotation under way or an operator's mistake to mend: the
/// job waits, past `max_attempts`, instead of going to the dead letters.
#[tokio::test]
async fn a_refused_token_keeps_jobs_queued() {
    let sidecar = TestServer::start(
        &(install(&["plugin-tagger"])
            + r#"
[[callers]]
name = "bridge"
token = "bridge-caller-S3CR3T-0123456789"
tenants = ["acme"]
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-tagger"
"#),
    )
    .await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge_at(&sidecar.uri(), &helpdesk.url(), 0, "max_attempts = 2", "").await;
    assert_eq!(
        zendesk(&bridge, "comment_added_email_customer.json")
            .await
            .0,
        200
    );
    wait_for_queue(
        &bridge,
        "the job was retried past max_attempts",
        |pending| {
            pending.first().is_some_and(|job| {
                job.attempts >= 4
                    && job
                        .last_error
                        .as_deref()
                        .is_some_and(|e| e.contains("Unauthenticated") && e.contains("[[callers]]"))
            })
        },
    )
    .await;
    no_dead_letters(&bridge).await;
    assert!(helpdesk.calls().is_empty());
}

/// On a queue replicas share, a job of an endpoint this replica does not have
/// (one being added while its configuration rolls out) is left for a replica
/// that has it: never claimed here, so neither tried nor dead-lettered, while
/// this replica's own jobs go on.
#[tokio::test]
async fn a_shared_queue_leaves_an_unknown_endpoints_jobs_to_another_replica() {
    let url = crossdesk_integration_tests::postgres::TestPostgres::fresh_database().await;
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge_at(
        &sidecar.uri(),
        &helpdesk.url(),
        0,
        &format!("max_attempts = 1\n[queue]\nurl = \"{url}\""),
        "",
    )
    .await;
    let queue = crossdesk_bridge::open_queue(&bridge.config)
        .await
        .expect("queue");
    let event = crossdesk_proto::json::to_json(
        "crossdesk.v1.Event",
        &customer_message("acme", "helpscout:1", "hola"),
    )
    .expect("proto3 JSON");
    let job = crossdesk_bridge::types::Job {
        delivery_key: "helpscout:1".into(),
        event_json: event,
        target: crossdesk_bridge::types::Target {
            ticket_id: "1".into(),
            ..Default::default()
        },
        agent_reply: false,
        customer_looked_up: false,
        traceparent: None,
    };
    assert!(
        queue
            .enqueue("acme-helpscout", &job, 0)
            .await
            .expect("queued")
    );
    // This replica's own endpoint's job goes through meanwhile.
    let (status, _) = zendesk(&bridge, "comment_added_email_customer.json").await;
    assert_eq!(status, 200);
    helpdesk.wait_for_ok(1, Duration::from_secs(10)).await;
    let done = finished_events(&bridge, 1, Duration::from_secs(10)).await;
    assert_eq!(done.len(), 1);
    let pending = queue
        .list(crossdesk_bridge::queue::JobState::Pending)
        .await
        .expect("pending");
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(
        (pending[0].endpoint.as_str(), pending[0].attempts),
        ("acme-helpscout", 0),
        "never claimed here"
    );
    no_dead_letters(&bridge).await;
}

/// A sidecar that speaks TLS and requires client certificates: the bridge,
/// given the CA and its own certificate (`[sidecar_tls]`), runs its events there.
#[tokio::test]
async fn the_bridge_reaches_a_sidecar_over_mutual_tls() {
    let ca = crossdesk_integration_tests::certs::Authority::new("Crossdesk test CA");
    let (sidecar, files) = crate::tls::tls_server(&ca, true, "").await;
    let (cert, key) = ca.issue("helpdesk-bridge", true);
    let cert_file = files.path().join("bridge.pem");
    let key_file = files.path().join("bridge.key");
    std::fs::write(&cert_file, cert).expect("write certificate");
    std::fs::write(&key_file, key).expect("write key");
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge_at(
        &format!("https://localhost:{}", sidecar.addr.port()),
        &helpdesk.url(),
        0,
        &format!(
            "[sidecar_tls]\nca_file = {:?}\ncert_file = {cert_file:?}\nkey_file = {key_file:?}",
            files.path().join("ca.pem")
        ),
        "",
    )
    .await;
    assert_eq!(
        zendesk(&bridge, "comment_added_email_customer.json")
            .await
            .0,
        200
    );
    let events = finished_events(&bridge, 1, Duration::from_secs(20)).await;
    assert_eq!(events[0].tenant_id, "acme");
}

/// The webhook listener holds its callers to a gate: a delivery whose body
/// comes too slowly is answered 503 with Retry-After when its time is up (a
/// helpdesk retries that, not a 408), and while the slots are taken another is
/// answered the same; then deliveries go on.
#[tokio::test]
async fn slow_or_too_many_deliveries_are_turned_away_and_then_served_again() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge_at(
        &sidecar.uri(),
        &helpdesk.url(),
        0,
        // Time for the loop below to be turned away on a loaded machine.
        "max_webhooks_in_flight = 1\nwebhook_timeout_ms = 3000",
        "",
    )
    .await;
    // Announces a body and sends a byte of it.
    let mut slow = tokio::net::TcpStream::connect(bridge.addr)
        .await
        .expect("connect");
    slow.write_all(
        b"POST /webhooks/acme-zendesk HTTP/1.1\r\nhost: bridge\r\n\
          content-type: application/json\r\ncontent-length: 1000\r\n\r\n{",
    )
    .await
    .expect("send the head");
    // Once it holds the only slot, the next delivery is turned away.
    let busy = async {
        loop {
            let (status, text) = post_webhook(&bridge, "acme-zendesk", b"{}", &[]).await;
            if status == 503 {
                break text;
            }
            assert_eq!(status, 401, "{text}");
        }
    };
    let text = tokio::time::timeout(Duration::from_secs(10), busy)
        .await
        .expect("the slow delivery takes the slot");
    assert!(text.contains("retry"), "{text}");
    let mut answer = String::new();
    let _ = slow.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 10"), "{answer}");
    let (status, text) = zendesk(&bridge, "comment_added_email_customer.json").await;
    assert_eq!((status, text.trim()), (200, "queued"));
}

/// Posts a Chatwoot webhook with the signature scheme of the chatwoot module.
async fn post_chatwoot(bridge: &Bridge, body: &[u8]) -> (u16, String) {
    let timestamp = now().to_string();
    let signature = format!(
        "sha256={}",
        hex::encode(hmac(CHATWOOT_SECRET, &[timestamp.as_bytes(), b".", body]))
    );
    post_webhook(
        bridge,
        "acme-chatwoot",
        body,
        &[
            ("x-chatwoot-signature", signature),
            ("x-chatwoot-timestamp", timestamp),
        ],
    )
    .await
}

#[tokio::test]
async fn a_chatwoot_whatsapp_message_comes_back_as_a_private_note_and_labels() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    let (status, text) =
        post_chatwoot(&bridge, &fixture("chatwoot/message_created_whatsapp.json")).await;
    assert_eq!((status, text.trim()), (200, "queued"));
    let calls = helpdesk.wait_for_ok(2, Duration::from_secs(10)).await;
    let note = calls
        .iter()
        .find(|c| c.path.ends_with("/messages"))
        .expect("a message call");
    assert_eq!(
        note.body["private"],
        serde_json::Value::Bool(true),
        "{note:?}"
    );
    assert!(
        note.body["content"]
            .as_str()
            .unwrap_or_default()
            .contains("echo: "),
        "{note:?}"
    );
    assert_eq!(
        note.headers["api_access_token"].to_str().expect("ascii"),
        "chatwoot-api-S3CR3T"
    );
    let labels = calls
        .iter()
        .find(|c| c.path.ends_with("/labels"))
        .expect("a labels call");
    assert!(labels.body.to_string().contains("via-bridge"), "{labels:?}");
}

#[tokio::test]
async fn labels_an_agent_added_since_the_webhook_are_kept() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    // The webhook says the conversation has no labels; by the time the bridge
    // writes, an agent has labelled it.
    helpdesk.put_record(
        "/api/v1/accounts/3/conversations/1287/labels",
        serde_json::json!({ "payload": ["refund"] }),
    );
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    let (status, _) =
        post_chatwoot(&bridge, &fixture("chatwoot/message_created_whatsapp.json")).await;
    assert_eq!(status, 200);
    let calls = helpdesk.wait_for_ok(2, Duration::from_secs(10)).await;
    let labels = calls
        .iter()
        .find(|c| c.path.ends_with("/labels"))
        .expect("a labels call");
    let sent: Vec<&str> = labels.body["labels"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    assert_eq!(sent.first(), Some(&"refund"), "{sent:?}");
    assert!(sent.contains(&"via-bridge"), "{sent:?}");
    let read = helpdesk.lookups();
    assert!(
        read.iter().any(|c| c.path.ends_with("/1287/labels")),
        "{read:?}"
    );
}

/// The events of the jobs the bridge has finished, as they went to the sidecar;
/// waits until there are `count` (panics after `within`).
async fn finished_events(
    bridge: &Bridge,
    count: usize,
    within: Duration,
) -> Vec<crossdesk_proto::pb::Event> {
    let queue = crossdesk_bridge::open_queue(&bridge.config)
        .await
        .expect("queue");
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let done = queue
            .list(crossdesk_bridge::queue::JobState::Done)
            .await
            .expect("list jobs");
        if done.len() >= count {
            return done
                .iter()
                .map(|j| crossdesk_proto::json::event_from_json(&j.job.event_json).expect("event"))
                .collect();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} finished job(s), wanted {count}",
            done.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_zendesk_requester_is_looked_up_once_and_reaches_the_plugins_with_identities() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let user: serde_json::Value =
        serde_json::from_slice(&fixture("zendesk/user_whatsapp_requester.json")).expect("json");
    helpdesk.put_record("/api/v2/users/8512200331177.json", user);
    // The first read is rate-limited: the event waits for it instead of running
    // without the customer.
    helpdesk.script_lookups(&[Answer::RateLimited(1)]);
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    let first = fixture("zendesk/comment_added_whatsapp_customer.json");
    let mut second: serde_json::Value = serde_json::from_slice(&first).expect("json");
    second["event"]["comment"]["id"] = "31000000443".into();
    second["event"]["comment"]["body"] = "追跡番号を教えてください。".into();
    for body in [first, serde_json::to_vec(&second).expect("json")] {
        let (status, text) = post_zendesk(&bridge, &body, ZENDESK_SECRET, &rfc3339(now())).await;
        assert_eq!((status, text.trim()), (200, "queued"));
    }
    let events = finished_events(&bridge, 2, Duration::from_secs(15)).await;
    for event in &events {
        let customer = event.customer.as_ref().expect("customer");
        assert_eq!(customer.locale, "ja", "{event:?}");
        assert_eq!(customer.time_zone, "Asia/Tokyo");
        assert_eq!(customer.display_name, "Yuki Tanaka");
        for (kind, id) in [
            ("zendesk", "8512200331177"),
            ("email", "yuki.tanaka@example.jp"),
            ("phone", "+819012345678"),
            ("whatsapp", "+819012345678"),
        ] {
            assert_eq!(
                customer.external_ids.get(kind).map(String::as_str),
                Some(id)
            );
        }
    }
    // One read answered (after the rate-limited one): the second comment's customer
    // came from the cache.
    let lookups = helpdesk.lookups();
    let statuses: Vec<u16> = lookups.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [429, 200], "{lookups:#?}");
    assert!(
        lookups[1].headers["authorization"]
            .to_str()
            .expect("ascii")
            .starts_with("Basic ")
    );
    // Both comments were written back.
    let notes: String = helpdesk
        .wait_for_ok(1, Duration::from_secs(10))
        .await
        .iter()
        .map(|c| comment(c).0.to_owned())
        .collect();
    assert!(notes.contains("追跡番号"), "{notes}");
}

#[tokio::test]
async fn a_customer_the_helpdesk_does_not_know_is_no_reason_to_wait() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    let (status, _) = zendesk(&bridge, "comment_added_email_customer.json").await;
    assert_eq!(status, 200);
    helpdesk.wait_for_ok(1, Duration::from_secs(10)).await;
    let lookups = helpdesk.lookups();
    assert_eq!(lookups.len(), 1, "{lookups:#?}");
    assert_eq!(lookups[0].status, 404);
    let events = finished_events(&bridge, 1, Duration::from_secs(5)).await;
    let customer = events[0].customer.as_ref().expect("customer");
    assert_eq!(customer.id, "8447388090494");
    assert!(customer.locale.is_empty() && customer.time_zone.is_empty());
}

/// A lookup the helpdesk refuses for the API token (revoked): the job fails
/// before it is recorded as looked up, so that its replay, once the token is
/// mended, reads the customer again instead of running without them.
#[tokio::test]
async fn a_refused_api_token_fails_the_lookup_and_its_replay_reads_again() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    helpdesk.script_lookups(&[Answer::Unauthorized]);
    let (status, _) = zendesk(&bridge, "comment_added_email_customer.json").await;
    assert_eq!(status, 200);
    let queue = crossdesk_bridge::open_queue(&bridge.config)
        .await
        .expect("queue");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let dead = loop {
        let dead = queue
            .list(crossdesk_bridge::queue::JobState::Dead)
            .await
            .expect("dead");
        if !dead.is_empty() {
            break dead;
        }
        assert!(std::time::Instant::now() < deadline, "never dead-lettered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let error = dead[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("API token"), "{error}");
    assert!(!dead[0].job.customer_looked_up, "{:?}", dead[0]);
    assert!(
        helpdesk.calls().is_empty(),
        "nothing written with a refused token"
    );
    assert_eq!(
        queue.replay(Some(vec![dead[0].id])).await.expect("replay"),
        1
    );
    helpdesk.wait_for_ok(1, Duration::from_secs(10)).await;
    assert_eq!(helpdesk.lookups().len(), 2, "read again on the replay");
}

/// Posts a webhook as a Freshdesk automation rule does, with basic auth.
async fn post_freshdesk(bridge: &Bridge, body: &[u8], password: &str) -> (u16, String) {
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("freshdesk:{password}"));
    post_webhook(
        bridge,
        "acme-freshdesk",
        body,
        &[("authorization", format!("Basic {credentials}"))],
    )
    .await
}

#[tokio::test]
async fn a_helpdesk_attached_by_a_mapping_file_gets_notes_and_replies() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    let reply = fixture("freshdesk/customer_reply_email.json");
    let (status, _) = post_freshdesk(&bridge, &reply, "guess").await;
    assert_eq!(status, 401);
    let (status, text) = post_freshdesk(&bridge, &reply, FRESHDESK_SECRET).await;
    assert_eq!((status, text.trim()), (200, "queued"));
    let (status, text) = post_freshdesk(&bridge, &reply, FRESHDESK_SECRET).await;
    assert_eq!(
        (status, text.trim()),
        (200, "duplicate delivery: already queued")
    );
    let calls = helpdesk.wait_for_ok(1, Duration::from_secs(10)).await;
    let note = &calls[0];
    assert_eq!(
        (note.method.as_str(), note.path.as_str()),
        ("POST", "/api/v2/tickets/4711/notes")
    );
    assert_eq!(note.body["private"], serde_json::Value::Bool(true));
    let text = note.body["body"].as_str().unwrap_or_default();
    for expected in [
        "echo: Bonjour, ma commande A-2208",
        "Tags: via-bridge",
        "via Crossdesk",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    let auth = note.headers["authorization"].to_str().expect("ascii");
    let expected = base64::engine::general_purpose::STANDARD.encode("freshdesk-api-S3CR3T:X");
    assert_eq!(auth, format!("Basic {expected}"));

    // The agent answers in a prefixed private note: it goes out as the reply, signed
    // by the tenant's plugin.
    let (status, _) = post_freshdesk(
        &bridge,
        &fixture("freshdesk/agent_note_reply.json"),
        FRESHDESK_SECRET,
    )
    .await;
    assert_eq!(status, 200);
    let calls = helpdesk.wait_for_ok(2, Duration::from_secs(10)).await;
    let reply = &calls[1];
    assert_eq!(
        (reply.method.as_str(), reply.path.as_str()),
        ("POST", "/api/v2/tickets/4711/reply")
    );
    let text = reply.body["body"].as_str().unwrap_or_default();
    assert!(
        text.contains("arrive on Thursday") && text.contains("Acme support"),
        "{text}"
    );
    drained(&bridge).await;
    assert_eq!(helpdesk.calls().len(), 2, "{:#?}", helpdesk.calls());
}

#[tokio::test]
async fn api_requests_are_paced_to_the_helpdesks_rate_limit() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    // 30 a minute: a burst of 3, then one every 60 s / 27 ≈ 2.2 s.
    let bridge =
        bridge_configured(&sidecar, &helpdesk.url(), 0, "max_requests_per_minute = 30").await;
    let reply: serde_json::Value =
        serde_json::from_slice(&fixture("freshdesk/customer_reply_email.json")).expect("json");
    // Five customers writing on five tickets: five notes.
    for ticket in 1..=5 {
        let mut body = reply.clone();
        body["ticket"]["id"] = ticket.into();
        let body = serde_json::to_vec(&body).expect("json");
        let (status, _) = post_freshdesk(&bridge, &body, FRESHDESK_SECRET).await;
        assert_eq!(status, 200);
    }
    let mut calls = helpdesk.wait_for_ok(5, Duration::from_secs(30)).await;
    calls.sort_by_key(|c| c.at);
    let since_first: Vec<Duration> = calls.iter().map(|c| c.at - calls[0].at).collect();
    // After the burst, each request waited for its turn: the n-th after the burst
    // went n turns after the first request at the earliest. (Not a gap of a turn
    // between two requests: when load delays the burst's last request, the next
    // turn comes sooner after it.)
    for (n, elapsed) in since_first.iter().enumerate().skip(3) {
        let turns = u32::try_from(n - 2).expect("a few requests");
        assert!(
            *elapsed >= Duration::from_secs(2) * turns,
            "request {n}: {since_first:?}"
        );
    }
}

#[tokio::test]
async fn a_ticket_gets_no_more_notes_than_its_share() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge_configured(&sidecar, &helpdesk.url(), 0, "max_notes_per_ticket = 2").await;
    let reply: serde_json::Value =
        serde_json::from_slice(&fixture("freshdesk/customer_reply_email.json")).expect("json");
    for (n, text) in ["Premier message", "Deuxième message", "Troisième message"]
        .iter()
        .enumerate()
    {
        let mut body = reply.clone();
        body["text"] = (*text).into();
        let body = serde_json::to_vec(&body).expect("json");
        let (status, _) = post_freshdesk(&bridge, &body, FRESHDESK_SECRET).await;
        assert_eq!(status, 200);
        // One at a time: each is written back (or not) before the next arrives.
        finished_events(&bridge, n + 1, Duration::from_secs(10)).await;
    }
    let calls = helpdesk.calls();
    let notes: Vec<&str> = calls
        .iter()
        .map(|c| c.body["body"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(notes.len(), 2, "{calls:#?}");
    assert!(notes[0].contains("Premier message"), "{}", notes[0]);
    assert!(
        notes[1].contains("Deuxième message") && notes[1].contains("no more notes"),
        "{}",
        notes[1]
    );
}

#[test]
fn a_mapping_file_is_read_beside_the_configuration_and_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../bridge/src/mappings/freshdesk.toml"),
    )
    .expect("shipped mapping");
    std::fs::write(
        dir.path().join("ourdesk.toml"),
        shipped.replace("name = \"freshdesk\"", "name = \"ourdesk\""),
    )
    .expect("write mapping");
    let config = |helpdesk: &str, mapping: &str| {
        let path = dir.path().join("bridge.toml");
        std::fs::write(
            &path,
            format!(
                "sidecar = \"http://127.0.0.1:1\"\n[[endpoints]]\nname = \"e\"\n\
                 helpdesk = \"{helpdesk}\"\nmapping = \"{mapping}\"\ntenant = \"acme\"\n\
                 base_url = \"https://desk.example\"\nsigning_secret = \"s\"\napi_token = \"t\"\n"
            ),
        )
        .expect("write config");
        crossdesk_bridge::BridgeConfig::load(&path)
    };
    let loaded = config("ourdesk", "ourdesk.toml").expect("a helpdesk from its mapping");
    assert_eq!(
        loaded.endpoints[0].mapping.as_deref(),
        Some(dir.path().join("ourdesk.toml").as_path())
    );
    let wrong_name = config("freshdesk", "ourdesk.toml").expect_err("name mismatch");
    assert!(
        wrong_name
            .to_string()
            .contains("describes helpdesk 'ourdesk'"),
        "{wrong_name}"
    );
    let missing = config("ourdesk", "nowhere.toml").expect_err("no file");
    assert!(missing.to_string().contains("nowhere.toml"), "{missing}");
}

#[tokio::test]
async fn chatwoot_deliveries_are_checked_deduplicated_retried_and_never_loop() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    let body = fixture("chatwoot/message_created_whatsapp.json");
    let signed = |secret: &str, timestamp: String| {
        let mac = hmac(secret, &[timestamp.as_bytes(), b".", &body]);
        vec![
            (
                "x-chatwoot-signature",
                format!("sha256={}", hex::encode(mac)),
            ),
            ("x-chatwoot-timestamp", timestamp),
        ]
    };
    // A wrong secret (401) and a replayed old delivery (503: it may be this
    // replica's clock): refused, nothing queued.
    for (headers, refused) in [
        (signed("guess", now().to_string()), 401),
        (signed(CHATWOOT_SECRET, (now() - 3_600).to_string()), 503),
    ] {
        let (status, _) = post_webhook(&bridge, "acme-chatwoot", &body, &headers).await;
        assert_eq!(status, refused);
    }
    // The first write-back is rate-limited, then goes through; the redelivery in
    // between is queued once.
    helpdesk.script(&[Answer::RateLimited(1)]);
    let (status, text) = post_chatwoot(&bridge, &body).await;
    assert_eq!((status, text.trim()), (200, "queued"));
    let (status, text) = post_chatwoot(&bridge, &body).await;
    assert_eq!(
        (status, text.trim()),
        (200, "duplicate delivery: already queued")
    );
    helpdesk.wait_for_ok(2, Duration::from_secs(15)).await;
    drained(&bridge).await;
    let calls = helpdesk.calls();
    assert_eq!(calls[0].status, 429, "{calls:#?}");
    let notes: Vec<&Call> = calls
        .iter()
        .filter(|c| c.status < 300 && c.body["private"] == serde_json::Value::Bool(true))
        .collect();
    assert_eq!(notes.len(), 1, "one note for the message: {calls:#?}");
    // The bridge's own note coming back (here even as the customer's message, as
    // nothing tells its author): acknowledged, not run.
    let mut ours: serde_json::Value = serde_json::from_slice(&body).expect("json");
    ours["id"] = 90999.into();
    ours["content"] = notes[0].body["content"].clone();
    let (status, text) = post_chatwoot(&bridge, &serde_json::to_vec(&ours).expect("json")).await;
    assert_eq!(status, 200);
    assert!(text.starts_with("ignored"), "{text}");
    drained(&bridge).await;
    assert_eq!(
        helpdesk.calls().len(),
        calls.len(),
        "our own note was not run"
    );
}

#[test]
fn the_example_configurations_are_valid() {
    for example in ["zendesk", "chatwoot", "freshdesk"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(example)
            .join("bridge.toml");
        let config = crossdesk_bridge::BridgeConfig::load(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(config.endpoints[0].helpdesk, example);
    }
}

/// Solves and ratings reach the reports through the bridge: Zendesk's status
/// change to solved, and the rating a trigger sends (examples/zendesk/README.md).
#[tokio::test]
async fn solves_and_ratings_from_zendesk_reach_the_reports() {
    const OPS: &str = "ops-S3CR3T-token-0123456789";
    let sidecar = TestServer::start(&format!(
        r#"
[admin]
listen = "127.0.0.1:0"
users = [{{ name = "ops", token = "{OPS}", tenants = ["*"] }}]
{}
[insights]
refresh_secs = 0

[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-tagger"
settings = {{ tag = "via-bridge" }}
"#,
        install(&["plugin-tagger"])
    ))
    .await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    // Yesterday, so that the fixtures' times are past and within the retention.
    let yesterday = now() / 86_400 - 1;
    let date = rfc3339(yesterday * 86_400)[..10].to_owned();
    for name in [
        "ticket_created_web.json",
        "status_changed_solved.json",
        "satisfaction_rated_trigger.json",
    ] {
        let body = String::from_utf8(fixture(&format!("zendesk/{name}")))
            .expect("UTF-8")
            .replace("2025-02-14", &date);
        let (status, text) =
            post_zendesk(&bridge, body.as_bytes(), ZENDESK_SECRET, &rfc3339(now())).await;
        assert_eq!((status, text.trim()), (200, "queued"), "{name}");
    }
    let kinds: Vec<_> = finished_events(&bridge, 3, Duration::from_secs(15))
        .await
        .iter()
        .map(|e| e.kind())
        .collect();
    assert!(
        kinds.contains(&crossdesk_proto::pb::EventKind::TicketSolved)
            && kinds.contains(&crossdesk_proto::pb::EventKind::SatisfactionRated),
        "{kinds:?}"
    );
    let day = |d: u64| {
        Some(prost_types::Timestamp {
            seconds: i64::try_from(d * 86_400).expect("a time"),
            nanos: 0,
        })
    };
    let mut admin = sidecar.admin().await;
    // The facts are written in batches: ask until the ticket is there.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let total = loop {
        let report = admin
            .get_report(as_admin(
                OPS,
                crossdesk_proto::pb::GetReportRequest {
                    tenant_id: "acme".into(),
                    since: day(yesterday),
                    until: day(yesterday + 2),
                    by: vec![],
                },
            ))
            .await
            .expect("a report")
            .into_inner();
        let total = report.total.unwrap_or_default();
        if total.rated == 1 || std::time::Instant::now() > deadline {
            break total;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!((total.tickets, total.rated), (1, 1), "{total:?}");
    assert_eq!(total.resolution_rate, Some(1.0), "{total:?}");
    assert_eq!(
        total.csat_positive_share,
        Some(0.0),
        "a bad rating: {total:?}"
    );
    // Created 09:30, solved 11:05:12.
    let resolution = total.resolution_median_seconds.expect("a resolution time");
    assert!(
        (resolution - 5_712.0).abs() < 5_712.0 * 0.03,
        "{resolution}"
    );
}
