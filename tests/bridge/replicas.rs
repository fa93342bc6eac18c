//! Bridge replicas on one PostgreSQL queue, as `crossdesk bridge serve`
//! processes: a delivery to either is queued once, every job is written back
//! once, and a bridge killed with SIGKILL in the middle of a write-back leaves the
//! job to another replica, which finds the note already on the ticket (Zendesk's
//! List Comments, in the simulator) and does not write it again.

use crossdesk_integration_tests::postgres::TestPostgres;
use crossdesk_integration_tests::process::BridgeProcess;

use super::*;

impl Webhooks for BridgeProcess {
    fn webhook_addr(&self) -> SocketAddr {
        self.addr
    }
}

/// A bridge configuration on the queue at `database`, its claims lasting 1 s,
/// with the Zendesk endpoint of the in-process bridges' tests.
fn replica_config(
    dir: &std::path::Path,
    database: &str,
    sidecar: &TestServer,
    helpdesk: &str,
) -> std::path::PathBuf {
    let path = dir.join("bridge.toml");
    let text = format!(
        r#"
sidecar = "{sidecar}"
data_dir = {data:?}
retry_base_ms = 50
retry_max_ms = 400
max_attempts = 40
request_timeout_ms = 120000
debounce_ms = 0

[queue]
url = "{database}"
workers = 2
lease_ms = 1000

[[endpoints]]
name = "acme-zendesk"
helpdesk = "zendesk"
tenant = "acme"
base_url = "{helpdesk}"
signing_secret = "{ZENDESK_SECRET}"
api_user = "bot@acme.example"
api_token = "zendesk-api-S3CR3T"
bot_author_ids = ["{ZENDESK_BOT}"]
look_up_customers = false
"#,
        sidecar = sidecar.uri(),
        data = dir.join("unused").display().to_string(),
    );
    std::fs::write(&path, text).expect("write the bridge's configuration");
    path
}

/// A customer's comment `comment` on Zendesk ticket `ticket`, saying `text`.
fn comment_on(ticket: u32, comment: u32, text: &str) -> Vec<u8> {
    let mut body: serde_json::Value =
        serde_json::from_slice(&fixture("zendesk/comment_added_email_customer.json"))
            .expect("fixture JSON");
    body["detail"]["id"] = ticket.to_string().into();
    body["event"]["comment"]["id"] = comment.to_string().into();
    body["event"]["comment"]["body"] = text.into();
    body["id"] = format!("delivery-{comment}").into();
    serde_json::to_vec(&body).expect("JSON")
}

async fn post(bridge: &BridgeProcess, body: &[u8]) -> (u16, String) {
    post_zendesk(bridge, body, ZENDESK_SECRET, &rfc3339(now())).await
}

/// Waits until the queue at `database` has `count` jobs done and none pending.
async fn all_done(database: &str, count: usize) -> Vec<crossdesk_bridge::queue::QueuedJob> {
    use crossdesk_bridge::queue::{JobState, Queue, QueueSettings};
    let settings = QueueSettings {
        url: Some(crossdesk_bridge::SecretString::from(database)),
        ..QueueSettings::default()
    };
    let queue = Queue::open(&settings, std::path::Path::new("unused"))
        .await
        .expect("the shared queue");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let done = queue.list(JobState::Done).await.expect("done");
        let pending = queue.list(JobState::Pending).await.expect("pending");
        if done.len() >= count && pending.is_empty() {
            return done;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} done, {} pending: {pending:#?}",
            done.len(),
            pending.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The notes (internal comments) the helpdesk received that contain `text`.
fn notes_saying(helpdesk: &Helpdesk, text: &str) -> usize {
    helpdesk
        .calls()
        .iter()
        .filter(|call| call.status < 300)
        .filter(|call| {
            let (body, public) = comment(call);
            !public && body.contains(text)
        })
        .count()
}

#[tokio::test]
async fn two_replicas_share_one_queue_and_each_delivery_is_written_back_once() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let database = TestPostgres::fresh_database().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = replica_config(dir.path(), &database, &sidecar, &helpdesk.url());
    let replicas = [
        BridgeProcess::start(&config, &[]),
        BridgeProcess::start(&config, &[]),
    ];
    const DELIVERIES: u32 = 12;
    for n in 0..DELIVERIES {
        let body = comment_on(7000 + n % 4, 100 + n, &format!("message {n}"));
        let (first, second) = (
            &replicas[(n % 2) as usize],
            &replicas[((n + 1) % 2) as usize],
        );
        let (status, text) = post(first, &body).await;
        assert_eq!((status, text.trim()), (200, "queued"));
        // The helpdesk redelivers it, and the load balancer picks the other replica.
        let (status, text) = post(second, &body).await;
        assert_eq!(
            (status, text.trim()),
            (200, "duplicate delivery: already queued")
        );
    }
    all_done(&database, DELIVERIES as usize).await;
    for n in 0..DELIVERIES {
        assert_eq!(
            notes_saying(&helpdesk, &format!("echo: message {n}\n")),
            1,
            "message {n}: {:#?}",
            helpdesk.calls()
        );
    }
}

#[tokio::test]
async fn a_bridge_killed_during_its_write_back_leaves_one_note_written_by_another() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    // The helpdesk applies the update at once and answers it a minute later: the
    // bridge dies not knowing the note went through.
    helpdesk.script(&[Answer::Slow(Duration::from_secs(60))]);
    let database = TestPostgres::fresh_database().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = replica_config(dir.path(), &database, &sidecar, &helpdesk.url());
    let first = BridgeProcess::start(&config, &[]);
    let (status, text) = post(&first, &comment_on(5158, 1, "où est ma commande ?")).await;
    assert_eq!((status, text.trim()), (200, "queued"));
    helpdesk.wait_for_ok(1, Duration::from_secs(15)).await;
    first.kill();
    let second = BridgeProcess::start(&config, &[]);
    let done = all_done(&database, 1).await;
    assert_eq!((done[0].calls_started, done[0].calls_done), (1, 1));
    assert_eq!(
        notes_saying(&helpdesk, "echo: où est ma commande ?"),
        1,
        "one note, not two: {:#?}",
        helpdesk.calls()
    );
    assert_eq!(helpdesk.calls().len(), 1, "no second update");
    let checked = helpdesk.lookups();
    assert!(
        checked
            .iter()
            .any(|read| read.path == "/api/v2/tickets/5158/comments.json"),
        "the new owner read the ticket's comments: {checked:#?}"
    );
    drop(second);
}

/// `/healthz` says the bridge lives; `/readyz` whether it can queue a webhook.
/// While its shared queue's database refuses connections, which fails every
/// replica alike, it stays ready but says it is degraded (and no more than that
/// to whoever asks), so that it answers webhooks 503 with `Retry-After`, which
/// the helpdesk delivers again; once the database is back it is ready again,
/// with no restart.
#[tokio::test]
async fn a_bridge_is_ready_while_its_queue_answers() {
    let sidecar = sidecar().await;
    let database = TestPostgres::fresh_database().await;
    let name = database.rsplit('/').next().expect("a database name");
    let bridge = bridge_at(
        &sidecar.uri(),
        "http://127.0.0.1:9",
        0,
        &format!("[queue]\nurl = \"{database}\"\nworkers = 1\n"),
        "",
    )
    .await;
    let get = async |path: &str| {
        let response = reqwest::get(format!("http://{}{path}", bridge.addr))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    };
    // Its listener is bound already: the request waits until it serves.
    let ready = get("/readyz").await;
    assert_eq!(ready, (200, "ready\n".to_owned()));
    let admin = TestPostgres::client(TestPostgres::shared().url()).await;
    let allow = async |allowed: bool| {
        admin
            .batch_execute(&format!(
                "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {allowed};
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = '{name}' AND NOT {allowed}"
            ))
            .await
            .expect("alter the database");
    };
    allow(false).await;
    let until = async |wanted: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let (status, body) = get("/readyz").await;
            if body == wanted {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "{status} {body}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    assert_eq!(
        until("ready, degraded: the queue cannot be read; webhooks get 503 with Retry-After\n")
            .await,
        200,
        "the cause is the log's, not the caller's"
    );
    let (status, text) = zendesk(&bridge, "comment_added_email_customer.json").await;
    assert_eq!((status, text.as_str()), (503, "cannot queue; retry\n"));
    assert_eq!(get("/healthz").await, (200, "ok".to_owned()), "alive");
    allow(true).await;
    assert_eq!(until("ready\n").await, 200);
}
