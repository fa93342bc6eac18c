//! The bridge's load: Zendesk `comment_added` webhooks from the bridged tenants'
//! customers (the fixture in tests/fixtures/zendesk/, a new ticket each), signed
//! as Zendesk signs them and posted to the bridge at a fixed rate. A delivery is
//! acknowledged by a `200`; anything else is delivered again, as Zendesk does,
//! for up to [`crate::load::GIVE_UP`].

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::load::GIVE_UP;
use crate::world::{BRIDGE_TENANTS, REQUESTERS, SIGNING_SECRET, endpoint, requester};

/// What became of one delivery.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    /// The helpdesk ticket it is about (one ticket per delivery).
    pub(crate) ticket: u64,
    /// The bridge's key for it (`zendesk:<ticket>:<comment>`).
    pub(crate) key: String,
    pub(crate) scheduled: Duration,
    pub(crate) done: Duration,
    pub(crate) acked: bool,
    pub(crate) attempts: u32,
    pub(crate) error: Option<String>,
}

impl Delivery {
    /// From due to acknowledged (or given up).
    pub(crate) fn latency(&self) -> Duration {
        self.done.saturating_sub(self.scheduled)
    }
}

/// The first ticket id of the run's deliveries.
const FIRST_TICKET: u64 = 1_000_000;

/// Posts `rate` deliveries a second from `start` until `stop`; returns each one's
/// record once all are settled.
pub(crate) async fn run(
    bridge: std::net::SocketAddr,
    rate: f64,
    start: Instant,
    stop: Duration,
) -> Vec<Delivery> {
    let fixture: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            crossdesk_integration_tests::workspace_dir()
                .join("tests/fixtures/zendesk/comment_added_email_customer.json"),
        )
        .expect("read the Zendesk fixture"),
    )
    .expect("fixture JSON");
    let fixture = Arc::new(fixture);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client");
    let (records, mut received) = mpsc::unbounded_channel::<Delivery>();
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(record) = received.recv().await {
            all.push(record);
        }
        all
    });
    let interval = Duration::from_secs_f64(1.0 / rate);
    let bridged = BRIDGE_TENANTS.len() as u64;
    for seq in 0u64.. {
        let due = interval.mul_f64(seq as f64);
        if due >= stop {
            break;
        }
        tokio::time::sleep_until(start + due).await;
        let tenant = BRIDGE_TENANTS.start + (seq % bridged) as usize;
        let customer = (seq / bridged) as usize % REQUESTERS;
        let ticket = FIRST_TICKET + seq;
        let comment = 5_000_000_000 + seq;
        let mut payload = (*fixture).clone();
        let author = requester(tenant, customer);
        payload["id"] = format!("soak-delivery-{seq}").into();
        payload["subject"] = format!("zen:ticket:{ticket}").into();
        payload["time"] = jiff::Timestamp::now().to_string().into();
        payload["detail"]["id"] = ticket.to_string().into();
        payload["detail"]["requester_id"] = author.clone().into();
        payload["detail"]["submitter_id"] = author.clone().into();
        payload["detail"]["actor_id"] = author.clone().into();
        payload["event"]["comment"]["id"] = comment.to_string().into();
        payload["event"]["comment"]["author"]["id"] = author.into();
        payload["event"]["comment"]["body"] = format!(
            "Toujours le même problème ce matin avec la commande {seq}, le code de \
             vérification n'arrive jamais."
        )
        .into();
        let body = serde_json::to_vec(&payload).expect("JSON");
        let url = format!("http://{bridge}/webhooks/{}", endpoint(tenant));
        let http = http.clone();
        let records = records.clone();
        tokio::spawn(async move {
            let mut record = Delivery {
                ticket,
                key: format!("zendesk:{ticket}:{comment}"),
                scheduled: due,
                done: due,
                acked: false,
                attempts: 0,
                error: None,
            };
            let mut backoff = Duration::from_millis(200);
            loop {
                record.attempts += 1;
                let result = post(&http, &url, &body).await;
                record.done = start.elapsed();
                match result {
                    Ok(()) => {
                        record.acked = true;
                        record.error = None;
                        break;
                    }
                    Err(Refused::Finally(e)) => {
                        record.error = Some(e);
                        break;
                    }
                    Err(Refused::Retry(e)) => record.error = Some(e),
                }
                if record.done.saturating_sub(due) > GIVE_UP {
                    break;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            let _ = records.send(record);
        });
    }
    drop(records);
    collector.await.expect("collect the deliveries")
}

/// Why a delivery was not acknowledged.
enum Refused {
    /// Delivered again later, as a helpdesk does.
    Retry(String),
    /// Answered, but not queued (ignored by the mapping): a mistake of the soak.
    Finally(String),
}

/// One signed delivery: `Ok` when the bridge queued it (now or before).
async fn post(http: &reqwest::Client, url: &str, body: &[u8]) -> Result<(), Refused> {
    let retry = |e: &dyn std::fmt::Display| Refused::Retry(e.to_string());
    let now = jiff::Timestamp::now().as_second();
    let timestamp = jiff::Timestamp::from_second(now)
        .map_err(|e| retry(&e))?
        .to_string();
    let mut mac =
        Hmac::<Sha256>::new_from_slice(SIGNING_SECRET.as_bytes()).map_err(|e| retry(&e))?;
    mac.update(timestamp.as_bytes());
    mac.update(body);
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-zendesk-webhook-signature", signature)
        .header("x-zendesk-webhook-signature-timestamp", timestamp)
        .body(body.to_vec())
        .send()
        .await
        .map_err(|e| retry(&e))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let text = text.trim();
    match status {
        reqwest::StatusCode::OK if text == "queued" || text.starts_with("duplicate") => Ok(()),
        reqwest::StatusCode::OK => Err(Refused::Finally(format!("not queued: {text}"))),
        _ => Err(Refused::Retry(format!("{status}: {text}"))),
    }
}
