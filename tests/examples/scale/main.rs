//! The scale test (issue 20), run by `make scale`: 1, 2 and 3 release-built
//! sidecar replicas sharing one PostgreSQL behind HAProxy (gRPC balanced per
//! request), under the same load each time:
//!
//! - `SCALE_TENANTS` tenants (default 50), each with one customer whose events
//!   run kv-counter (it counts the tenant's events in its storage: a
//!   read-modify-write that loses updates if two of them interleave);
//! - `SCALE_CONCURRENCY` requests in flight (default 64) for `SCALE_SECONDS`
//!   (default 10) per replica count; every event is delivered twice at once,
//!   so the two deliveries usually reach two replicas.
//!
//! Checks, per replica count: every delivery answered; both deliveries of an
//! event answered alike, one of them `replayed`; each tenant's counts over its
//! events are exactly 1..=n after its warm-up events (a count missing is a lost
//! update, a count twice or beyond n a duplicate run). Prints a Markdown table (throughput of events and
//! of requests, p50 and p99 request latency), writes `SCALE_OUT` (default
//! `target/scale`)/report.json, and exits non-zero when a check fails.

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossdesk_integration_tests::balancer::Balancer;
use crossdesk_integration_tests::postgres::TestPostgres;
use crossdesk_integration_tests::process::{Launch, ServerProcess};
use crossdesk_integration_tests::*;
use pb::event_service_client::EventServiceClient;
use tokio::sync::Mutex;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// What one event's two deliveries answered.
struct Answered {
    tenant: usize,
    notes: [String; 2],
    replayed: [bool; 2],
}

/// One replica count's figures and checks.
#[derive(serde::Serialize)]
struct Round {
    replicas: usize,
    seconds: f64,
    events: u64,
    requests: u64,
    events_per_second: f64,
    requests_per_second: f64,
    p50_us: u64,
    p99_us: u64,
    errors: u64,
    /// Events whose two deliveries were not one run and one replay alike.
    unmatched_deliveries: u64,
    /// Events counted twice, or beyond the tenant's number of events.
    duplicate_runs: u64,
    /// Counts missing from a tenant's 1..=n.
    lost_updates: u64,
}

fn config(dir: &std::path::Path, db_url: &str, tenants: usize) -> std::path::PathBuf {
    let mut text = format!(
        "data_dir = {data:?}\nplugin_dir = {plugins:?}\n\
         [server]\nmax_concurrent_calls = 256\n\
         [quota]\nmax_in_flight = 100000\nevents_per_second = 1000000\nburst = 1000000\n\
         [storage]\nurl = \"{db_url}\"\n",
        data = dir.join("data").display().to_string(),
        plugins = plugin_dir().display().to_string(),
    ) + &install(&["plugin-kv-counter"]);
    for t in 0..tenants {
        text.push_str(&format!(
            "[[tenants]]\nid = \"t{t:02}\"\n[[tenants.plugins]]\nname = \"plugin-kv-counter\"\nkv = true\n"
        ));
    }
    let path = dir.join("crossdesk.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// One tenant's customer message; the same `n` gives the same event.
fn event(tenant: usize, n: u64) -> pb::Event {
    let mut event = customer_message(&format!("t{tenant:02}"), &format!("e-{n}"), "¿Dónde está?");
    if let Some(customer) = event.customer.as_mut() {
        customer.id = format!("customer-of-t{tenant:02}");
    }
    event
}

async fn round(
    postgres: &TestPostgres,
    replicas: usize,
    tenants: usize,
    concurrency: usize,
    seconds: u64,
) -> Round {
    let db_url = postgres
        .create_database(&format!("scale_{replicas}"), "")
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let launch = Launch {
        binary: crossdesk_bin_of("release"),
        log: Some(dir.path().join("sidecars.log")),
        ..Launch::default()
    };
    let servers: Vec<ServerProcess> = (0..replicas)
        .map(|i| {
            let replica_dir = dir.path().join(format!("replica-{i}"));
            std::fs::create_dir_all(&replica_dir).expect("mkdir");
            ServerProcess::launch(&config(&replica_dir, &db_url, tenants), &[], &launch)
        })
        .collect();
    let balancer = Balancer::start(&servers.iter().map(|s| s.addr).collect::<Vec<_>>());
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", balancer.addr))
        .expect("uri")
        .connect()
        .await
        .expect("connect to HAProxy");
    // Warm every replica's plugin instances and connections, off the record:
    // each tenant counts these first.
    const WARM_UP: u64 = 2;
    for n in 0..(tenants as u64 * WARM_UP) {
        let mut client = EventServiceClient::new(channel.clone());
        client
            .handle_event(request(event((n as usize) % tenants, u64::MAX - n)))
            .await
            .expect("a warm-up event");
    }
    let next = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let answered = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..concurrency / 2)
        .map(|_| {
            let (channel, next, latencies, answered, errors) = (
                channel.clone(),
                next.clone(),
                latencies.clone(),
                answered.clone(),
                errors.clone(),
            );
            tokio::spawn(async move {
                let mut mine = Vec::new();
                let mut record = Vec::new();
                while Instant::now() < until {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let tenant = (n as usize) % tenants;
                    let deliver = || {
                        let mut client = EventServiceClient::new(channel.clone());
                        async move {
                            let sent = Instant::now();
                            let result = client.handle_event(request(event(tenant, n))).await;
                            (result, sent.elapsed())
                        }
                    };
                    let ((a, la), (b, lb)) = tokio::join!(deliver(), deliver());
                    mine.extend([la, lb]);
                    match (a, b) {
                        (Ok(a), Ok(b)) => {
                            let (a, b) = (a.into_inner(), b.into_inner());
                            record.push(Answered {
                                tenant,
                                notes: [notes(&a).join(""), notes(&b).join("")],
                                replayed: [a.replayed, b.replayed],
                            });
                        }
                        (a, b) => {
                            for e in [a.err(), b.err()].into_iter().flatten() {
                                eprintln!("delivery failed: {e:?}");
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
                latencies.lock().await.extend(mine);
                answered.lock().await.extend(record);
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();
    drop(balancer);
    drop(servers);

    let mut latencies = std::mem::take(&mut *latencies.lock().await);
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0, |d| d.as_micros() as u64)
    };
    let answered = std::mem::take(&mut *answered.lock().await);
    let unmatched = answered
        .iter()
        .filter(|a| a.notes[0] != a.notes[1] || a.replayed[0] == a.replayed[1])
        .count() as u64;
    let mut counts: HashMap<usize, Vec<u64>> = HashMap::new();
    for a in &answered {
        let count = a.notes[0]
            .trim_start_matches("count: ")
            .parse::<u64>()
            .unwrap_or(0)
            .saturating_sub(WARM_UP);
        counts.entry(a.tenant).or_default().push(count);
    }
    let (mut duplicates, mut lost) = (0u64, 0u64);
    for counts in counts.values_mut() {
        counts.sort_unstable();
        let n = counts.len() as u64;
        let mut seen = BTreeMap::new();
        for c in counts.iter() {
            *seen.entry(*c).or_insert(0u64) += 1;
        }
        duplicates += seen
            .iter()
            .map(|(c, times)| if *c > n || *c == 0 { *times } else { times - 1 })
            .sum::<u64>();
        lost += (1..=n).filter(|c| !seen.contains_key(c)).count() as u64;
    }
    let events = answered.len() as u64;
    Round {
        replicas,
        seconds: elapsed,
        events,
        requests: events * 2,
        events_per_second: events as f64 / elapsed,
        requests_per_second: (events * 2) as f64 / elapsed,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        errors: errors.load(Ordering::Relaxed),
        unmatched_deliveries: unmatched,
        duplicate_runs: duplicates,
        lost_updates: lost,
    }
}

fn main() -> ExitCode {
    let tenants = env_number("SCALE_TENANTS", 50) as usize;
    let concurrency = env_number("SCALE_CONCURRENCY", 64).max(2) as usize;
    let seconds = env_number("SCALE_SECONDS", 10);
    let out = std::env::var("SCALE_OUT").map_or_else(
        |_| workspace_dir().join("target/scale"),
        std::path::PathBuf::from,
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let rounds: Vec<Round> = runtime.block_on(async {
        let postgres = TestPostgres::start();
        let mut rounds = Vec::new();
        for replicas in 1..=3 {
            let round = round(&postgres, replicas, tenants, concurrency, seconds).await;
            eprintln!(
                "{replicas} replica(s): {:.0} events/s, p99 {} µs",
                round.events_per_second, round.p99_us
            );
            rounds.push(round);
        }
        rounds
    });
    println!(
        "| replicas | events/s | requests/s | p50 | p99 | errors | unmatched | duplicate runs | lost updates |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in &rounds {
        println!(
            "| {} | {:.0} | {:.0} | {} µs | {} µs | {} | {} | {} | {} |",
            r.replicas,
            r.events_per_second,
            r.requests_per_second,
            r.p50_us,
            r.p99_us,
            r.errors,
            r.unmatched_deliveries,
            r.duplicate_runs,
            r.lost_updates
        );
    }
    std::fs::create_dir_all(&out).expect("output folder");
    let report = serde_json::json!({
        "tenants": tenants,
        "concurrency": concurrency,
        "seconds_per_round": seconds,
        "rounds": rounds,
    });
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report).expect("json"),
    )
    .expect("write report.json");
    let failed = rounds.iter().any(|r| {
        r.errors > 0 || r.unmatched_deliveries > 0 || r.duplicate_runs > 0 || r.lost_updates > 0
    });
    if failed {
        eprintln!("FAILED: a check failed (see the table)");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
