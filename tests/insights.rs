//! Reports end to end: nine weeks of a tenant's tickets, generated from a fixed
//! seed, sent as events over gRPC; the report the admin API answers is checked
//! against figures this test computes from the generated tickets on its own
//! (medians and p90s within the histogram's 2.2 %), an injected spike is flagged
//! and a normal week is not, the CLI's CSV says what the API says, and a
//! customer's data is exported and erased.

use std::collections::BTreeMap;
use std::time::Duration;

use crossdesk_integration_tests::*;

const OPS: &str = "ops-S3CR3T-token-0123456789";
/// The generator's seed: the history is the same on every run.
const SEED: u64 = 20_261_205;
/// Weeks generated; the report is on the last, the eight before are the spikes'
/// baseline.
const WEEKS: i64 = 9;
/// The day of the injected spike (in the last week) and its extra tickets.
const SPIKE_DAY: i64 = 59;
const SPIKE_TICKETS: u32 = 30;

/// xorshift64*: small, deterministic, good enough to shuffle a history.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A generated ticket: what happened to it, in seconds since the epoch.
#[derive(Debug, Clone)]
struct Ticket {
    id: String,
    customer: String,
    day: i64,
    language: &'static str,
    country: &'static str,
    channel: pb::Channel,
    category: &'static str,
    created: i64,
    reply: Option<i64>,
    solved: Option<i64>,
    reopened: Option<i64>,
    score: Option<u32>,
}

const MARKETS: [(&str, &str, &str); 4] = [
    ("es", "MX", "es-MX"),
    ("de", "DE", "de-DE"),
    ("ja", "JP", "ja-JP"),
    ("pt", "BR", "pt-BR"),
];
const CATEGORIES: [&str; 4] = ["shipping", "returns", "billing", ""];

fn generate(first_day: i64) -> Vec<Ticket> {
    let mut random = Random(SEED);
    let mut tickets = Vec::new();
    for day in 0..WEEKS * 7 {
        let mut count = 8 + random.below(5) as u32;
        if day == SPIKE_DAY {
            count += SPIKE_TICKETS;
        }
        for n in 0..count {
            let spike = day == SPIKE_DAY && n < SPIKE_TICKETS;
            let (language, country, _) = MARKETS[random.below(4) as usize];
            let channel = [
                pb::Channel::Email,
                pb::Channel::Whatsapp,
                pb::Channel::WebChat,
            ][random.below(3) as usize];
            let category = if spike {
                "returns"
            } else {
                CATEGORIES[random.below(4) as usize]
            };
            let created = (first_day + day) * 86_400 + random.below(80_000) as i64;
            let reply = random
                .chance(90)
                .then(|| created + 60 + random.below(20_000) as i64);
            let solved = reply
                .filter(|_| random.chance(75))
                .map(|r| r + 600 + random.below(200_000) as i64);
            let reopened = solved
                .filter(|_| random.chance(10))
                .map(|s| s + 300 + random.below(3_600) as i64);
            let score = solved
                .filter(|_| random.chance(60))
                .map(|_| 1 + random.below(5) as u32);
            tickets.push(Ticket {
                id: format!("t-{day}-{n}"),
                customer: format!("c-{}", random.below(200)),
                day,
                language,
                country,
                channel,
                category,
                created,
                reply,
                solved,
                reopened,
                score,
            });
        }
    }
    tickets
}

fn event(ticket: &Ticket, kind: pb::EventKind, at: i64, suffix: &str) -> pb::Event {
    let locale = MARKETS
        .iter()
        .find(|(l, ..)| *l == ticket.language)
        .map_or("", |m| m.2);
    let mut attributes = std::collections::HashMap::new();
    if !ticket.category.is_empty() {
        attributes.insert("category".to_owned(), ticket.category.to_owned());
    }
    if let (pb::EventKind::SatisfactionRated, Some(score)) = (kind, ticket.score) {
        attributes.insert("csat.score".to_owned(), score.to_string());
    }
    pb::Event {
        tenant_id: "acme".into(),
        event_id: format!("{}-{suffix}", ticket.id),
        kind: kind as i32,
        ticket_id: ticket.id.clone(),
        channel: ticket.channel as i32,
        customer: Some(pb::Customer {
            id: ticket.customer.clone(),
            locale: locale.into(),
            country: ticket.country.into(),
            ..Default::default()
        }),
        text: "…".into(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: at,
            nanos: 0,
        }),
        attributes: attributes.into_iter().collect(),
        ..Default::default()
    }
}

/// A ticket's events, in the order they happened.
fn events(ticket: &Ticket) -> Vec<pb::Event> {
    use pb::EventKind as K;
    let mut events = vec![event(ticket, K::TicketCreated, ticket.created, "created")];
    if let Some(at) = ticket.reply {
        events.push(event(ticket, K::AgentReplyDrafted, at, "reply"));
    }
    if let Some(at) = ticket.solved {
        events.push(event(ticket, K::TicketSolved, at, "solved"));
        if ticket.score.is_some() {
            events.push(event(ticket, K::SatisfactionRated, at + 60, "rated"));
        }
    }
    if let Some(at) = ticket.reopened {
        events.push(event(ticket, K::CustomerMessage, at, "again"));
    }
    events
}

/// Sends every ticket's events in order, tickets side by side.
async fn send_history(server: &TestServer, tickets: &[Ticket]) {
    let sends = tickets
        .chunks(tickets.len().div_ceil(8))
        .map(|chunk| async move {
            let mut client = server.client().await;
            for ticket in chunk {
                for event in events(ticket) {
                    client
                        .handle_event(request(event))
                        .await
                        .unwrap_or_else(|e| panic!("{}: {e:?}", ticket.id));
                }
            }
        });
    futures::future::join_all(sends).await;
}

/// The figures of `tickets`, computed here: what the report must say.
#[derive(Debug, PartialEq)]
struct Expected {
    tickets: u64,
    rated: u64,
    positive_share: f64,
    mean: f64,
    resolution_rate: f64,
    reopen_rate: f64,
    first_reply_median: f64,
    first_reply_p90: f64,
    resolution_median: f64,
}

/// The nearest-rank `q` quantile.
fn quantile(mut values: Vec<i64>, q: f64) -> f64 {
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).max(1);
    values[rank - 1] as f64
}

fn expected(tickets: &[&Ticket]) -> Expected {
    let n = tickets.len() as f64;
    let scores: Vec<u32> = tickets.iter().filter_map(|t| t.score).collect();
    let solved: Vec<&&Ticket> = tickets
        .iter()
        .filter(|t| t.solved.is_some() && t.reopened.is_none())
        .collect();
    Expected {
        tickets: tickets.len() as u64,
        rated: scores.len() as u64,
        positive_share: scores.iter().filter(|s| **s >= 4).count() as f64 / scores.len() as f64,
        mean: scores.iter().map(|s| f64::from(*s) / 5.0).sum::<f64>() / scores.len() as f64,
        resolution_rate: solved.len() as f64 / n,
        reopen_rate: tickets.iter().filter(|t| t.reopened.is_some()).count() as f64 / n,
        first_reply_median: quantile(
            tickets
                .iter()
                .filter_map(|t| Some(t.reply? - t.created))
                .collect(),
            0.5,
        ),
        first_reply_p90: quantile(
            tickets
                .iter()
                .filter_map(|t| Some(t.reply? - t.created))
                .collect(),
            0.9,
        ),
        resolution_median: quantile(
            solved
                .iter()
                .map(|t| t.solved.unwrap_or(0) - t.created)
                .collect(),
            0.5,
        ),
    }
}

fn close(actual: Option<f64>, expected: f64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: absent"));
    let tolerance = expected.abs() * 0.023 + 1e-9 + 1.0;
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} vs {expected}"
    );
}

fn exactly(actual: Option<f64>, expected: f64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: absent"));
    assert!(
        (actual - expected).abs() < 1e-9,
        "{what}: {actual} vs {expected}"
    );
}

fn check(line: &pb::ReportLine, expected: &Expected, what: &str) {
    assert_eq!(line.tickets, expected.tickets, "{what}: tickets");
    assert_eq!(line.rated, expected.rated, "{what}: rated");
    exactly(line.csat_positive_share, expected.positive_share, what);
    exactly(line.csat_mean, expected.mean, what);
    exactly(line.resolution_rate, expected.resolution_rate, what);
    exactly(line.reopen_rate, expected.reopen_rate, what);
    close(
        line.first_reply_median_seconds,
        expected.first_reply_median,
        what,
    );
    close(line.first_reply_p90_seconds, expected.first_reply_p90, what);
    close(
        line.resolution_median_seconds,
        expected.resolution_median,
        what,
    );
}

fn day(first_day: i64, offset: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: (first_day + offset) * 86_400,
        nanos: 0,
    })
}

async fn report(server: &TestServer, first_day: i64, weeks: (i64, i64), by: &[&str]) -> pb::Report {
    server
        .admin()
        .await
        .get_report(as_admin(
            OPS,
            pb::GetReportRequest {
                tenant_id: "acme".into(),
                since: day(first_day, weeks.0 * 7),
                until: day(first_day, weeks.1 * 7),
                by: by.iter().map(|b| (*b).to_owned()).collect(),
            },
        ))
        .await
        .expect("a report")
        .into_inner()
}

/// Tenant `acme` running the no-op plugin, its figures rebuilt at every flush,
/// and the admin `ops`.
async fn acme() -> TestServer {
    TestServer::start(&format!(
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
name = "plugin-noop"
"#,
        install(&["plugin-noop"])
    ))
    .await
}

/// What `crossdesk report --tenant acme ARGS` prints, asking the admin API at
/// `admin_addr` as `ops`.
async fn report_cli(admin_addr: &str, args: &[&str]) -> String {
    let command = ["report", "--addr", admin_addr, "--tenant", "acme"];
    crossdesk_output(&[&command[..], args].concat()).await
}

/// What `crossdesk ARGS` prints, as the `ops` admin; it must succeed.
async fn crossdesk_output(args: &[&str]) -> String {
    let mut command = crossdesk_command();
    command.args(args).env("CROSSDESK_ADMIN_TOKEN", OPS);
    // Off the runtime's thread: the server it asks runs on it.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("joined")
        .expect("run crossdesk");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).expect("utf-8")
}

#[tokio::test]
async fn a_generated_history_is_reported_as_computed_spikes_flagged_and_customers_erased() {
    let server = acme().await;
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
        / 86_400;
    let first_day = today - WEEKS * 7 - 7;
    let tickets = generate(first_day);
    send_history(&server, &tickets).await;

    // The figures are written within a second: wait for all of them.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let all = loop {
        let all = report(&server, first_day, (0, WEEKS), &[]).await;
        let counted = all.total.as_ref().map_or(0, |t| t.tickets);
        if counted == tickets.len() as u64 && all.total.as_ref().and_then(|t| t.csat_mean).is_some()
        {
            let again = report(&server, first_day, (0, WEEKS), &[]).await;
            if again == all {
                break all;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{counted} of {} tickets reported",
            tickets.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(all.total.expect("total").tickets, tickets.len() as u64);

    // The last week, by language, against the week before.
    let week = |w: i64| -> Vec<&Ticket> { tickets.iter().filter(|t| t.day / 7 == w).collect() };
    let last = report(&server, first_day, (WEEKS - 1, WEEKS), &["language"]).await;
    check(
        last.total.as_ref().expect("total"),
        &expected(&week(WEEKS - 1)),
        "the last week",
    );
    assert_eq!(
        last.total.as_ref().expect("total").previous_tickets,
        week(WEEKS - 2).len() as u64
    );
    for (language, ..) in MARKETS {
        let of: Vec<&Ticket> = week(WEEKS - 1)
            .into_iter()
            .filter(|t| t.language == language)
            .collect();
        let line = last
            .lines
            .iter()
            .find(|l| l.key == [language])
            .unwrap_or_else(|| panic!("no line for {language}: {last:#?}"));
        check(line, &expected(&of), language);
    }
    // By region: Mexico and Brazil are Latin America.
    let regions = report(&server, first_day, (WEEKS - 1, WEEKS), &["region"]).await;
    let latin: Vec<&Ticket> = week(WEEKS - 1)
        .into_iter()
        .filter(|t| matches!(t.country, "MX" | "BR"))
        .collect();
    let line = regions
        .lines
        .iter()
        .find(|l| l.key == ["latin-america"])
        .expect("a Latin America line");
    check(line, &expected(&latin), "latin-america");
    let uncategorised = week(WEEKS - 1)
        .iter()
        .filter(|t| t.category.is_empty())
        .count() as f64
        / week(WEEKS - 1).len() as f64;
    exactly(last.uncategorised_share, uncategorised, "uncategorised");

    // The injected burst of returns is a spike; nothing else is, and a normal
    // week has none.
    assert_eq!(
        last.spikes
            .iter()
            .map(|s| (s.category.as_str(), s.day.as_ref().map(|d| d.seconds)))
            .collect::<Vec<_>>(),
        [("returns", Some((first_day + SPIKE_DAY) * 86_400))],
        "{:#?}",
        last.spikes
    );
    let normal = report(&server, first_day, (WEEKS - 2, WEEKS - 1), &["category"]).await;
    assert!(normal.spikes.is_empty(), "{:#?}", normal.spikes);

    // The CLI's CSV says what the API says.
    let admin_addr = server.admin_addr.expect("admin").to_string();
    let since = jiff::Timestamp::from_second((first_day + (WEEKS - 1) * 7) * 86_400)
        .expect("time")
        .strftime("%Y-%m-%d")
        .to_string();
    let until = jiff::Timestamp::from_second((first_day + WEEKS * 7) * 86_400)
        .expect("time")
        .strftime("%Y-%m-%d")
        .to_string();
    let csv = report_cli(
        &admin_addr,
        &[
            "--since", &since, "--until", &until, "--by", "language", "--format", "csv",
        ],
    )
    .await;
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().expect("a header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let from_csv: BTreeMap<String, (u64, String)> = rows
        .map(|row| {
            let cells: Vec<&str> = row.split(',').collect();
            (
                cells[0].to_owned(),
                (
                    cells[column("tickets")].parse().expect("tickets"),
                    cells[column("csat_positive_share")].to_owned(),
                ),
            )
        })
        .collect();
    for line in &last.lines {
        let (tickets, positive) = &from_csv[&line.key[0]];
        assert_eq!(*tickets, line.tickets, "{}", line.key[0]);
        assert_eq!(
            positive,
            &line
                .csat_positive_share
                .map_or_else(String::new, |v| v.to_string())
        );
    }
    assert_eq!(
        from_csv["(all)"].0,
        last.total.as_ref().expect("total").tickets
    );
    // Not sliced: the total alone (its one line is the total; twice, a sum of
    // the rows would count everything twice).
    let whole = report_cli(
        &admin_addr,
        &["--since", &since, "--until", &until, "--format", "csv"],
    )
    .await;
    let rows: Vec<&str> = whole.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{whole}");
    let counted = rows[0]
        .split(',')
        .nth(column("tickets") - 1)
        .expect("tickets");
    assert_eq!(
        counted.parse::<u64>().expect("a count"),
        last.total.as_ref().expect("total").tickets,
        "{whole}"
    );
    // The admin commands' --json holds for the report too.
    let output = crossdesk_output(&[
        "admin",
        "--addr",
        &admin_addr,
        "report",
        "--tenant",
        "acme",
        "--since",
        &since,
        "--until",
        &until,
        "--json",
    ])
    .await;
    let json: serde_json::Value = serde_json::from_str(&output).expect("proto3 JSON");
    assert_eq!(json["tenantId"], "acme", "{json}");

    // The chart of tickets per day: a bar per day, each the day's count.
    let svg = report_cli(
        &admin_addr,
        &[
            "--since",
            &since,
            "--until",
            &until,
            "--format",
            "volume-svg",
        ],
    )
    .await;
    let bars = bars(&svg);
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    for ticket in week(WEEKS - 1) {
        let date = jiff::Timestamp::from_second((first_day + ticket.day) * 86_400)
            .expect("time")
            .strftime("%Y-%m-%d")
            .to_string();
        *per_day.entry(date).or_default() += 1;
    }
    assert_eq!(bars, per_day);
    assert_eq!(last.days.len(), 7);

    // First replies by language and hour: the API's counts, and the heatmap's
    // medians, against the generated tickets'.
    let mut waits: BTreeMap<(String, u32), Vec<i64>> = BTreeMap::new();
    for ticket in week(WEEKS - 1) {
        if let Some(reply) = ticket.reply {
            let hour = (ticket.created.rem_euclid(86_400) / 3_600) as u32;
            waits
                .entry((ticket.language.to_owned(), hour))
                .or_default()
                .push(reply - ticket.created);
        }
    }
    let from_api: BTreeMap<(String, u32), u64> = last
        .first_reply_hours
        .iter()
        .map(|h| ((h.language.clone(), h.hour), h.replied))
        .collect();
    let counted: BTreeMap<(String, u32), u64> = waits
        .iter()
        .map(|(k, v)| (k.clone(), v.len() as u64))
        .collect();
    assert_eq!(from_api, counted);
    let heatmap = report_cli(
        &admin_addr,
        &[
            "--since",
            &since,
            "--until",
            &until,
            "--format",
            "heatmap-svg",
        ],
    )
    .await;
    let squares = marks(
        &heatmap,
        b"rect",
        &[b"data-language", b"data-hour", b"data-value"],
    );
    assert_eq!(squares.len(), waits.len());
    for square in squares {
        let key = (
            square[0].clone(),
            square[1].parse::<u32>().expect("an hour"),
        );
        let exact = quantile(waits[&key].clone(), 0.5);
        close(Some(square[2].parse().expect("seconds")), exact, "heatmap");
    }

    // A customer's data: exported, then erased from the figures.
    let customer = tickets[0].customer.clone();
    let theirs = tickets.iter().filter(|t| t.customer == customer).count();
    let mut admin = server.admin().await;
    let reference = pb::CustomerRef {
        tenant_id: "acme".into(),
        customer_id: customer.clone(),
    };
    let data = admin
        .export_customer_data(as_admin(OPS, reference.clone()))
        .await
        .expect("export")
        .into_inner();
    assert_eq!(data.tickets.len(), theirs);
    let erased = admin
        .erase_customer_data(as_admin(OPS, reference.clone()))
        .await
        .expect("erase")
        .into_inner();
    assert_eq!(erased.tickets_erased as usize, theirs);
    // Audited, naming the customer by a digest only.
    let audit = admin
        .list_audit_log(as_admin(
            OPS,
            pb::ListAuditLogRequest {
                tenant_id: "acme".into(),
                limit: 1,
                before_id: 0,
            },
        ))
        .await
        .expect("audit")
        .into_inner();
    let entry = &audit.entries[0];
    assert_eq!(
        (entry.action.as_str(), entry.actor.as_str()),
        ("customer.erase", "ops")
    );
    // Keyed: not the plain digest of the id, which anyone could compute.
    assert!(
        entry.target.starts_with("customer hmac-sha256:"),
        "{entry:?}"
    );
    assert!(!entry.target.contains(&customer), "{entry:?}");
    use sha2::Digest as _;
    let plain = hex::encode(&sha2::Sha256::digest(customer.as_bytes())[..16]);
    assert!(!entry.target.contains(&plain), "{entry:?}");
    let after = report(&server, first_day, (0, WEEKS), &[]).await;
    assert_eq!(
        after.total.expect("total").tickets,
        (tickets.len() - theirs) as u64
    );
    let gone = admin
        .export_customer_data(as_admin(OPS, reference))
        .await
        .expect("export")
        .into_inner();
    assert!(gone.tickets.is_empty());
}

#[tokio::test]
async fn an_erasure_right_after_an_event_leaves_nothing_to_come_back() {
    let server = acme().await;
    server
        .handle(customer_message("acme", "fresh-1", "Hallo"))
        .await;
    let mut admin = server.admin().await;
    let reference = pb::CustomerRef {
        tenant_id: "acme".into(),
        customer_id: "cust-1".into(),
    };
    // Within the writer's second: the event's facts are still waiting.
    let erased = admin
        .erase_customer_data(as_admin(OPS, reference.clone()))
        .await
        .expect("erase")
        .into_inner();
    assert_eq!(erased.tickets_erased, 1, "written first, then erased");
    assert!(server.sidecar.flush_insights(Duration::from_secs(10)).await);
    let data = admin
        .export_customer_data(as_admin(OPS, reference))
        .await
        .expect("export")
        .into_inner();
    assert!(data.tickets.is_empty(), "{data:?}");
}

/// `acme` with the facts of one event of customer `cust-1` waiting for their
/// batch, and a second connection to its SQLite file, standing for another
/// replica: unlike the admin API, that one cannot write this one's facts first.
async fn acme_with_facts_pending() -> (TestServer, crossdesk_sidecar::store::Store) {
    let server = acme().await;
    server
        .handle(customer_message("acme", "fresh-1", "Hallo"))
        .await;
    let other = crossdesk_sidecar::store::Store::connect(None, None, server.data_dir.path())
        .await
        .expect("the other replica's store");
    (server, other)
}

/// The tickets of `cust-1` once `server` wrote its pending facts.
async fn tickets_after_the_batch(
    server: &TestServer,
    other: &crossdesk_sidecar::store::Store,
) -> Vec<crossdesk_sidecar::insights::figures::TicketRow> {
    assert!(server.sidecar.flush_insights(Duration::from_secs(10)).await);
    other
        .customer_tickets("acme", "cust-1")
        .await
        .expect("tickets")
}

/// Another replica deletes the tenant, and creates it again, while this one's
/// facts of an event wait: they are not written, under the old tenant nor the
/// new one.
#[tokio::test]
async fn facts_pending_when_another_replica_deletes_the_tenant_are_not_written() {
    use crossdesk_sidecar::store::{ControlWrite, NewAuditEntry};
    let (server, other) = acme_with_facts_pending().await;
    let revision = other
        .control_state()
        .await
        .expect("state")
        .tenants
        .iter()
        .find(|t| t.id == "acme")
        .expect("acme")
        .revision;
    let audit = |action: &str| NewAuditEntry {
        actor: "ops".into(),
        tenant: Some("acme".into()),
        action: action.into(),
        target: "acme".into(),
        before: None,
        after: None,
    };
    other
        .apply(
            vec![ControlWrite::DeleteTenant {
                id: "acme".into(),
                expected: revision,
            }],
            audit("tenant.delete"),
        )
        .await
        .expect("delete");
    other
        .apply(
            vec![ControlWrite::PutTenant {
                id: "acme".into(),
                doc: r#"{"incarnation":"another"}"#.into(),
                expected: None,
            }],
            audit("tenant.create"),
        )
        .await
        .expect("create again");
    let tickets = tickets_after_the_batch(&server, &other).await;
    assert!(tickets.is_empty(), "{tickets:?}");
}

/// Another replica erases the customer while this one's facts of their event
/// wait: the erased customer's ticket does not come back.
#[tokio::test]
async fn facts_pending_when_another_replica_erases_the_customer_are_not_written() {
    let (server, other) = acme_with_facts_pending().await;
    // Replicas share the master key, which names the customer in the marks.
    let key = crossdesk_sidecar::secrets::MasterKey::load_or_create(
        &server.data_dir.path().join("master.key"),
    )
    .expect("the master key");
    let marks: crossdesk_sidecar::store::ErasureMarks =
        std::sync::Arc::new(move |tenant, erased| {
            crossdesk_sidecar::insights::erasure_mark(&key, tenant, erased)
        });
    other
        .erase_customer(
            "acme",
            "cust-1",
            &marks,
            &crossdesk_sidecar::store::ErasureAudit {
                actor: "ops".into(),
                customer: "customer cust-1".into(),
            },
            crossdesk_sidecar::insights::figures::cells_of,
        )
        .await
        .expect("erase");
    let tickets = tickets_after_the_batch(&server, &other).await;
    assert!(tickets.is_empty(), "{tickets:?}");
}

/// The `attributes` of every `element` of an SVG that has them all, read as XML:
/// the chart must be well-formed.
fn marks(svg: &str, element: &[u8], attributes: &[&[u8]]) -> Vec<Vec<String>> {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut found = Vec::new();
    loop {
        match reader.read_event().expect("well-formed SVG") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                if e.name().as_ref() == element =>
            {
                let values: Option<Vec<String>> = attributes
                    .iter()
                    .map(|name| {
                        e.try_get_attribute(*name)
                            .expect("attribute")
                            .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                    })
                    .collect();
                found.extend(values);
            }
            quick_xml::events::Event::Eof => return found,
            _ => {}
        }
    }
}

/// The bars of a chart of tickets per day (`data-day` → `data-value`).
fn bars(svg: &str) -> BTreeMap<String, u64> {
    marks(svg, b"rect", &[b"data-day", b"data-value"])
        .into_iter()
        .map(|m| (m[0].clone(), m[1].parse().expect("a count")))
        .collect()
}

#[tokio::test]
async fn a_report_request_is_checked() {
    let server = TestServer::start(&format!(
        r#"
[admin]
listen = "127.0.0.1:0"
users = [{{ name = "ops", token = "{OPS}", tenants = ["*"] }}]
"#
    ))
    .await;
    let mut admin = server.admin().await;
    let refused = |by: &str, since: i64, until: i64| pb::GetReportRequest {
        tenant_id: "acme".into(),
        since: Some(prost_types::Timestamp {
            seconds: since,
            nanos: 0,
        }),
        until: Some(prost_types::Timestamp {
            seconds: until,
            nanos: 0,
        }),
        by: vec![by.to_owned()],
    };
    for (request, says) in [
        (refused("region-ish", 0, 86_400), "cannot slice by"),
        (refused("language", 86_400, 0), "before"),
        (refused("language", 0, 4_000 * 86_400), "at most"),
        (
            pb::GetReportRequest {
                by: vec!["region".into(), "language".into(), "region".into()],
                ..refused("language", 0, 86_400)
            },
            "region once only",
        ),
        (
            pb::GetReportRequest {
                by: vec!["region".into(); 100_000],
                ..refused("language", 0, 86_400)
            },
            "6 dimensions at most",
        ),
    ] {
        let status = admin
            .get_report(as_admin(OPS, request))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().contains(says), "{}", status.message());
    }
    let unauthenticated = admin
        .get_report(pb::GetReportRequest::default())
        .await
        .expect_err("no token");
    assert_eq!(unauthenticated.code(), tonic::Code::Unauthenticated);
}

#[tokio::test]
async fn a_tenants_own_categories_and_business_hours_shape_its_report() {
    let server = acme().await;
    let mut admin = server.admin().await;
    let category = |name: &str, keywords: &[(&str, &[&str])]| pb::Category {
        name: name.into(),
        keywords: keywords
            .iter()
            .map(|(language, words)| {
                (
                    (*language).to_owned(),
                    pb::Keywords {
                        words: words.iter().map(|w| (*w).to_owned()).collect(),
                    },
                )
            })
            .collect(),
    };
    // A bad category is refused with the field named, and nothing changes.
    let refused = admin
        .set_categories(as_admin(
            OPS,
            pb::SetCategoriesRequest {
                tenant_id: "acme".into(),
                categories: vec![category("Returns!", &[("es", &["devolver"])])],
                expected_revision: 0,
            },
        ))
        .await
        .expect_err("a bad name");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("categories"),
        "{}",
        refused.message()
    );
    let tenant = admin
        .set_categories(as_admin(
            OPS,
            pb::SetCategoriesRequest {
                tenant_id: "acme".into(),
                categories: vec![
                    category(
                        "returns",
                        &[("es", &["devolver", "devolución"]), ("*", &["refund"])],
                    ),
                    category("shipping", &[("es", &["pedido"]), ("ja", &["配送"])]),
                ],
                expected_revision: 0,
            },
        ))
        .await
        .expect("categories set")
        .into_inner();
    assert_eq!(tenant.categories.len(), 2);
    // Business hours in UTC, every day, so that the test does not depend on the
    // weekday it runs on; a bad time zone is refused first.
    let hours = |time_zone: &str| pb::SetBusinessHoursRequest {
        tenant_id: "acme".into(),
        hours: Some(pb::BusinessHours {
            time_zone: time_zone.into(),
            open: "09:00".into(),
            close: "17:00".into(),
            days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .map(str::to_owned)
                .to_vec(),
        }),
        expected_revision: 0,
    };
    let refused = admin
        .set_business_hours(as_admin(OPS, hours("Mars/Olympus")))
        .await
        .expect_err("not a time zone");
    assert!(
        refused.message().contains("business_hours"),
        "{}",
        refused.message()
    );
    let tenant = admin
        .set_business_hours(as_admin(OPS, hours("UTC")))
        .await
        .expect("hours set")
        .into_inner();
    assert_eq!(tenant.business_hours.expect("hours").open, "09:00");
    // Yesterday's: every hour of it is past, whatever the hour the test runs
    // at (an event's time ahead of the sidecar's clock counts as received).
    let yesterday = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
        / 86_400
        - 1;
    for (n, (locale, text)) in [
        ("es-MX", "Quiero devolver las botas"),
        ("es-MX", "¿Dónde está mi pedido?"),
        ("ja-JP", "配送はいつですか"),
        ("en-US", "I want a refund"),
        ("de-DE", "Hallo, eine Frage"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut event = customer_message("acme", &format!("m-{n}"), text);
        event.ticket_id = format!("t-{n}");
        event.occurred_at = Some(prost_types::Timestamp {
            seconds: yesterday * 86_400 + 60,
            nanos: 0,
        });
        if let Some(customer) = event.customer.as_mut() {
            customer.locale = locale.into();
        }
        server.handle(event).await;
    }
    // Replies to three tickets: one in hours (10:00), two after (20:00). The
    // categories are matched in the customer's words, not in an agent's reply:
    // the uncategorised ticket stays so.
    for (n, hour, text) in [
        (0, 10, "respuesta"),
        (1, 20, "respuesta"),
        (4, 20, "You can ask for a refund"),
    ] {
        let mut reply = customer_message("acme", &format!("reply-{n}"), text);
        reply.kind = pb::EventKind::AgentReplyDrafted as i32;
        reply.ticket_id = format!("t-{n}");
        reply.occurred_at = Some(prost_types::Timestamp {
            seconds: yesterday * 86_400 + hour * 3_600,
            nanos: 0,
        });
        server.handle(reply).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let report = admin
            .get_report(as_admin(
                OPS,
                pb::GetReportRequest {
                    tenant_id: "acme".into(),
                    since: day(yesterday, 0),
                    until: day(yesterday, 1),
                    by: vec!["category".into()],
                },
            ))
            .await
            .expect("a report")
            .into_inner();
        let counts: BTreeMap<String, u64> = report
            .lines
            .iter()
            .map(|l| (l.key[0].clone(), l.tickets))
            .collect();
        let expected: BTreeMap<String, u64> = [("returns", 2), ("shipping", 2), ("", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let after_hours = report.total.as_ref().and_then(|t| t.after_hours_share);
        if counts == expected && after_hours.is_some() {
            exactly(report.uncategorised_share, 0.2, "uncategorised");
            exactly(after_hours, 2.0 / 3.0, "after hours");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{counts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
