//! The event load: the sample events of `examples/events/` made into a stream of
//! mixed kinds for the hundred tenants at a fixed rate, sent over the event API
//! by a bounded number of concurrent requests and recorded one by one.
//!
//! Each event is scheduled at `start + seq / rate` whatever happened to the ones
//! before it (an open loop), and its latency runs from that moment, so time spent
//! waiting for a free request slot counts too: a stall cannot hide by slowing the
//! load down. A failed request is retried as a careful client would (same event
//! id, backing off) for up to [`GIVE_UP`]; only a response is an acknowledgement.

use std::sync::Arc;
use std::time::Duration;

use crossdesk_integration_tests::pb;
use crossdesk_integration_tests::pb::event_service_client::EventServiceClient;
use crossdesk_integration_tests::workspace_dir;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tonic::transport::Channel;

use crate::world::{TENANTS, tenant};

/// How long a client keeps retrying one event.
pub(crate) const GIVE_UP: Duration = Duration::from_secs(60);
/// Requests in flight at most; later events wait for a slot.
pub(crate) const MAX_IN_FLIGHT: usize = 128;
/// Customers per tenant (each with one recommendation profile).
pub(crate) const CUSTOMERS: u64 = 20;
/// HTTP/2 connections the load is spread over.
const CONNECTIONS: usize = 4;

/// One sample event and how often it is sent, relative to the others.
struct Template {
    name: &'static str,
    weight: u32,
    event: pb::Event,
}

/// The sample events, and the products a purchase may name.
pub(crate) struct Mix {
    templates: Vec<Template>,
    total_weight: u32,
    products: Vec<(String, String, String)>,
}

/// (file stem in examples/events, weight): customers' messages and agents' replies
/// dominate, as in a helpdesk; every kind the plugins handle is in.
const WEIGHTS: [(&str, u32); 13] = [
    ("customer-message", 30),
    ("agent-reply-drafted", 14),
    ("reply-for-german-customer", 3),
    ("reply-for-japanese-customer", 3),
    ("reply-for-us-customer", 3),
    ("ticket-created", 10),
    ("ticket-solved", 5),
    ("satisfaction-rated", 5),
    ("purchase-recorded", 10),
    ("customer-registered", 4),
    ("profile-updated", 4),
    ("translation-corrected", 2),
    ("custom-kind", 3),
];

impl Mix {
    pub(crate) fn load() -> Mix {
        let templates = WEIGHTS
            .iter()
            .map(|&(name, weight)| {
                let path = workspace_dir().join(format!("examples/events/{name}.json"));
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
                let event = crossdesk_proto::json::from_json("crossdesk.v1.Event", &text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                Template {
                    name,
                    weight,
                    event,
                }
            })
            .collect::<Vec<_>>();
        let catalog: serde_json::Value = serde_json::from_slice(
            &std::fs::read(workspace_dir().join("examples/recommend/catalog.json"))
                .expect("read examples/recommend/catalog.json"),
        )
        .expect("catalog JSON");
        let products = catalog
            .as_array()
            .expect("a catalog is a list")
            .iter()
            .map(|p| {
                let text = |k: &str| match &p[k] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (text("id"), text("category"), text("price"))
            })
            .collect();
        Mix {
            total_weight: templates.iter().map(|t| t.weight).sum(),
            templates,
            products,
        }
    }

    pub(crate) fn kind_names(&self) -> Vec<&'static str> {
        self.templates.iter().map(|t| t.name).collect()
    }

    /// The index of the kind `name`.
    pub(crate) fn kind(&self, name: &str) -> usize {
        self.templates
            .iter()
            .position(|t| t.name == name)
            .unwrap_or_else(|| panic!("no sample event {name}"))
    }

    /// Event `seq` of the run: its tenant, kind and customer drawn from `seq`
    /// (the same run sends the same events), ids unique in the run.
    pub(crate) fn event(&self, seq: u64, base_ms: i64) -> Planned {
        let mut draw = SplitMix(seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x50A4);
        let tenant_index = (draw.next_u64() % TENANTS as u64) as usize;
        let mut pick = (draw.next_u64() % u64::from(self.total_weight)) as u32;
        let kind = self
            .templates
            .iter()
            .position(|t| {
                if pick < t.weight {
                    true
                } else {
                    pick -= t.weight;
                    false
                }
            })
            .unwrap_or(0);
        let customer = draw.next_u64() % CUSTOMERS;
        let tenant_id = tenant(tenant_index);
        let template = &self.templates[kind];
        let mut event = template.event.clone();
        event.tenant_id.clone_from(&tenant_id);
        event.event_id = format!("soak-{seq}");
        // Unique per event, so that a purchase is known by (item, time).
        let occurred_ms = base_ms + i64::try_from(seq).unwrap_or(0);
        event.occurred_at = Some(prost_types::Timestamp {
            seconds: occurred_ms.div_euclid(1000),
            nanos: i32::try_from(occurred_ms.rem_euclid(1000) * 1_000_000).unwrap_or(0),
        });
        let customer_id = format!("c{customer}");
        if let Some(c) = event.customer.as_mut() {
            c.id.clone_from(&customer_id);
            // Identities of this customer only: profiles are not merged across
            // customers.
            for (kind, value) in c.external_ids.iter_mut() {
                *value = match kind.as_str() {
                    "email" => format!("{customer_id}@{tenant_id}.example"),
                    "whatsapp" | "phone" => {
                        format!("+1555{tenant_index:03}{customer:04}")
                    }
                    _ => format!("{kind}-{tenant_id}-{customer_id}"),
                };
            }
        }
        // A bounded set of tickets per customer: the sidecar's ticket memory
        // stays the same size whatever the run's length.
        event.ticket_id = format!("T-{customer_id}-{}", seq % 5);
        // New text each time (an order number), so the engine translates it.
        event.text = event.text.replace("4471", &seq.to_string());
        let mut item = None;
        match template.name {
            "ticket-created" => {
                // Counted in the contact history as an arrival on this channel.
                event.set_channel(pb::Channel::Phone);
            }
            "purchase-recorded" => {
                let (id, category, price) =
                    &self.products[(draw.next_u64() % self.products.len() as u64) as usize];
                event.attributes = [
                    ("purchase.item_id", id.as_str()),
                    ("purchase.category", category.as_str()),
                    ("purchase.price", price.as_str()),
                    ("purchase.currency", "EUR"),
                ]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
                item = Some(id.clone());
            }
            _ => {}
        }
        Planned {
            seq,
            tenant: tenant_index,
            kind,
            occurred_ms,
            item,
            event,
        }
    }
}

/// An event about to be sent.
pub(crate) struct Planned {
    pub(crate) seq: u64,
    pub(crate) tenant: usize,
    pub(crate) kind: usize,
    pub(crate) occurred_ms: i64,
    pub(crate) item: Option<String>,
    pub(crate) event: pb::Event,
}

/// What became of one event.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) seq: u64,
    pub(crate) tenant: usize,
    pub(crate) kind: usize,
    pub(crate) occurred_ms: i64,
    pub(crate) item: Option<String>,
    /// When it was due, since the load started.
    pub(crate) scheduled: Duration,
    /// When its last attempt ended.
    pub(crate) done: Duration,
    /// A response arrived.
    pub(crate) acked: bool,
    pub(crate) attempts: u32,
    /// Why it was not acknowledged (the last error).
    pub(crate) error: Option<String>,
    /// Plugins that failed, timed out or were denied in the response.
    pub(crate) failed_plugins: u32,
    /// The recommend plugin ran and succeeded.
    pub(crate) recommend_ok: bool,
}

impl Record {
    pub(crate) fn latency(&self) -> Duration {
        self.done.saturating_sub(self.scheduled)
    }
}

/// A small deterministic generator (SplitMix64), enough to draw a load mix.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Codes after which the same request may succeed later.
fn retryable(code: tonic::Code) -> bool {
    use tonic::Code::*;
    matches!(
        code,
        Unavailable | ResourceExhausted | DeadlineExceeded | Internal | Unknown | Cancelled
    )
}

/// Sends `rate` events a second from `start` until `stop`, and returns every
/// event's record once the last one is settled.
pub(crate) async fn run(
    mix: Arc<Mix>,
    addr: std::net::SocketAddr,
    rate: f64,
    start: Instant,
    stop: Duration,
    base_ms: i64,
) -> Vec<Record> {
    let clients: Vec<EventServiceClient<Channel>> = (0..CONNECTIONS)
        .map(|_| {
            EventServiceClient::new(
                Channel::from_shared(format!("http://{addr}"))
                    .expect("event API URI")
                    .connect_timeout(Duration::from_secs(1))
                    .tcp_nodelay(true)
                    .connect_lazy(),
            )
        })
        .collect();
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let (records, mut received) = mpsc::unbounded_channel::<Record>();
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(record) = received.recv().await {
            all.push(record);
        }
        all
    });
    let interval = Duration::from_secs_f64(1.0 / rate);
    for seq in 0u64.. {
        let due = interval.mul_f64(seq as f64);
        if due >= stop {
            break;
        }
        tokio::time::sleep_until(start + due).await;
        let planned = mix.event(seq, base_ms);
        let client = clients[(seq as usize) % CONNECTIONS].clone();
        let slots = slots.clone();
        let records = records.clone();
        tokio::spawn(async move {
            let record = send(client, slots, planned, start, due).await;
            let _ = records.send(record);
        });
    }
    drop(records);
    collector.await.expect("collect the records")
}

async fn send(
    mut client: EventServiceClient<Channel>,
    slots: Arc<Semaphore>,
    planned: Planned,
    start: Instant,
    scheduled: Duration,
) -> Record {
    let _slot = slots.acquire_owned().await.expect("the semaphore is open");
    let mut record = Record {
        seq: planned.seq,
        tenant: planned.tenant,
        kind: planned.kind,
        occurred_ms: planned.occurred_ms,
        item: planned.item,
        scheduled,
        done: scheduled,
        acked: false,
        attempts: 0,
        error: None,
        failed_plugins: 0,
        recommend_ok: false,
    };
    let mut backoff = Duration::from_millis(50);
    loop {
        record.attempts += 1;
        let mut request = tonic::Request::new(pb::HandleEventRequest {
            event: Some(planned.event.clone()),
        });
        request.set_timeout(Duration::from_secs(35));
        let result = client.handle_event(request).await;
        record.done = start.elapsed();
        match result {
            Ok(response) => {
                let response = response.into_inner();
                use pb::plugin_outcome::Status;
                record.acked = true;
                record.error = None;
                record.failed_plugins = response
                    .outcomes
                    .iter()
                    .filter(|o| {
                        matches!(
                            o.status(),
                            Status::Failed | Status::TimedOut | Status::Denied
                        )
                    })
                    .count() as u32;
                record.recommend_ok = response
                    .outcomes
                    .iter()
                    .any(|o| o.plugin == "recommend" && o.status() == Status::Ok);
                return record;
            }
            Err(status) => {
                record.error = Some(format!("{:?}: {}", status.code(), status.message()));
                if !retryable(status.code()) || record.done.saturating_sub(scheduled) > GIVE_UP {
                    return record;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}
