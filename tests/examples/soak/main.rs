//! The soak with faults (issue 17), run by `make soak`: a bounded load on loopback
//! against the release-built sidecar while things break, one after another, and
//! the checks that what was acknowledged survived.
//!
//! - **Load**: `SOAK_RATE` events a second (default 60) of the sample events'
//!   kinds across 100 tenants, each running the four first-party plugins on
//!   PostgreSQL; `SOAK_WEBHOOK_RATE` Zendesk webhooks a second (default 3) through
//!   the bridge for ten of them; an admin change a second.
//! - **Phases** (`SOAK_MINUTES`, default 20; at least 3): a warm-up, the quiet run
//!   (the baseline), then a slot per fault — one tenant's pipeline gets the looping
//!   plugin; ten tenants' translation engine holds every connection; PostgreSQL
//!   restarts; the helpdesk answers 429 then 500; the sidecar is SIGKILLed and
//!   restarted on the same database — each for up to a minute, then recovery.
//! - **Checks** (after the bridge drained and a last SIGKILL and restart): every
//!   event acknowledged; acknowledged purchases in the stored profiles;
//!   acknowledged ticket creations in the contact history; acknowledged admin
//!   changes in the store and the audit log; acknowledged webhooks written back
//!   once; steady tenants' p99 in each fault at most twice the quiet run's; RSS
//!   bounded and not growing.
//!
//! Writes `report.json` and `soak.svg` in `SOAK_OUT` (default `target/soak`),
//! prints the phases as a Markdown table, and exits non-zero when a check fails.

mod admin;
mod chart;
mod checks;
mod load;
mod plan;
mod report;
mod stats;
mod webhooks;
mod world;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crossdesk_integration_tests::workspace_dir;
use tokio::time::Instant;

use crate::admin::{Changes, What};
use crate::plan::{Fault, Plan};
use crate::report::Injected;
use crate::world::{LOOP_PLUGIN, LOOP_TENANT, World, is_steady, tenant};

/// The tenant whose setting is changed just before the SIGKILL (no other change
/// touches it, so the last acknowledged value is known).
const KILL_TENANT: usize = 20;

struct Settings {
    duration: Duration,
    rate: f64,
    webhook_rate: f64,
    out: std::path::PathBuf,
}

fn env_number(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .unwrap_or_else(|| panic!("{name}={text:?} is not a positive number")),
        Err(_) => default,
    }
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            duration: Duration::from_secs_f64(env_number("SOAK_MINUTES", 20.0) * 60.0),
            rate: env_number("SOAK_RATE", 60.0),
            webhook_rate: env_number("SOAK_WEBHOOK_RATE", 3.0),
            out: std::env::var_os("SOAK_OUT")
                .map_or_else(|| workspace_dir().join("target/soak"), Into::into),
        }
    }
}

fn main() -> ExitCode {
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if runtime.block_on(soak(settings)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn say(start: Instant, text: &str) {
    eprintln!("soak [{:>6.1} s] {text}", start.elapsed().as_secs_f64());
}

/// Injects each fault at its slot's start and lifts it at its end.
async fn faults(world: &World, plan: &Plan, changes: &Changes, start: Instant) -> Vec<Injected> {
    let mut admin = world.admin();
    let mut injected = Vec::new();
    for slot in &plan.slots {
        tokio::time::sleep_until(start + slot.start).await;
        say(start, &format!("fault: {}", slot.fault.name()));
        let from = start.elapsed();
        let mut ready = None;
        match slot.fault {
            Fault::LoopingPlugin => {
                let on = What::Enabled(true);
                let off = What::Enabled(false);
                changes
                    .make(&mut admin, start, LOOP_TENANT, LOOP_PLUGIN, on)
                    .await;
                tokio::time::sleep_until(start + slot.fault_end).await;
                changes
                    .make(&mut admin, start, LOOP_TENANT, LOOP_PLUGIN, off)
                    .await;
            }
            Fault::EngineStall => {
                world.stall_engine(true);
                tokio::time::sleep_until(start + slot.fault_end).await;
                world.stall_engine(false);
            }
            Fault::PostgresRestart => {
                world.postgres_down().await;
                tokio::time::sleep_until(start + slot.start + plan.postgres_down).await;
                world.postgres_up().await;
                say(start, "PostgreSQL is back");
                tokio::time::sleep_until(start + slot.fault_end).await;
            }
            Fault::HelpdeskOutage => {
                let half = (slot.fault_end - slot.start) / 2;
                let now = std::time::Instant::now();
                world
                    .helpdesk_outage(now + half, now + (slot.fault_end - slot.start))
                    .await;
                tokio::time::sleep_until(start + slot.fault_end).await;
            }
            Fault::Sigkill => {
                // A change acknowledged an instant before the kill must survive it.
                let value = What::Setting(admin::SETTING.1.into(), "17".into());
                let acked = changes
                    .make(&mut admin, start, KILL_TENANT, admin::SETTING.0, value)
                    .await;
                world.kill_sidecar().await;
                let killed = start.elapsed();
                say(
                    start,
                    &format!("SIGKILL (a change acknowledged just before: {acked})"),
                );
                let took = world.start_sidecar().await;
                ready = Some(start.elapsed());
                say(start, &format!("restarted in {took:?}"));
                injected.push(Injected {
                    fault: slot.fault,
                    from: killed,
                    to: slot.fault_end,
                    ready,
                });
                continue;
            }
        }
        injected.push(Injected {
            fault: slot.fault,
            from,
            to: start.elapsed(),
            ready,
        });
    }
    injected
}

/// Waits until the bridge has nothing pending; returns how long that took.
async fn drain_bridge(world: &World) -> Duration {
    let started = Instant::now();
    let queue = crossdesk_bridge::open_queue(&world.bridge.config)
        .await
        .expect("the bridge's queue");
    loop {
        let pending = queue
            .list(crossdesk_bridge::queue::JobState::Pending)
            .await
            .expect("list the bridge's queue");
        if pending.is_empty() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the bridge still has {} pending jobs after 10 minutes",
            pending.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until the contact history stops changing (its writer flushes every
/// second); returns the arrivals per tenant.
async fn settled_history(store: &crossdesk_sidecar::store::Store) -> Vec<u64> {
    let mut last = checks::phone_arrivals(store).await;
    loop {
        tokio::time::sleep(crossdesk_sidecar::history::FLUSH_EVERY * 2).await;
        let now = checks::phone_arrivals(store).await;
        if now == last {
            return now;
        }
        last = now;
    }
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or_else(String::new, |kib| format!(", {} GiB", kib / (1 << 20)));
    format!("{cores} × {model}{memory}")
}

async fn soak(settings: Settings) -> bool {
    let plan = Plan::new(settings.duration);
    let boot = Instant::now();
    say(
        boot,
        "starting PostgreSQL, Apertium, the helpdesk, the bridge and the sidecar",
    );
    let world = World::start(settings.rate).await;
    say(
        boot,
        &format!(
            "ready: sidecar on {} (log {}), {} events/s, {} webhooks/s, load for {:.0} s",
            world.sidecar_addr,
            world.log.display(),
            settings.rate,
            settings.webhook_rate,
            plan.end().as_secs_f64()
        ),
    );
    let mix = Arc::new(load::Mix::load());
    let changes = Arc::new(Changes::default());
    let base_ms = jiff::Timestamp::now().as_millisecond();
    let start = Instant::now();
    let stop = plan.end();
    let (stop_sampling, sampling) = tokio::sync::watch::channel(false);
    let sampler = tokio::spawn(stats::sample(world.pid.clone(), start, sampling));
    let events = tokio::spawn(load::run(
        mix.clone(),
        world.sidecar_addr,
        settings.rate,
        start,
        stop,
        base_ms,
    ));
    let hooks = tokio::spawn(webhooks::run(
        world.bridge.addr,
        settings.webhook_rate,
        start,
        stop,
    ));
    let admin_task = {
        let changes = changes.clone();
        let admin = world.admin();
        tokio::spawn(async move { admin::run(admin, &changes, start, stop).await })
    };
    say(
        start,
        &format!("warm-up, then the quiet run from {:?}", plan.quiet.0),
    );
    let injected = faults(&world, &plan, &changes, start).await;
    let records = events.await.expect("the load");
    let deliveries = hooks.await.expect("the webhooks");
    admin_task.await.expect("the admin changes");
    say(start, "load stopped; draining the bridge");
    let drain = drain_bridge(&world).await;
    say(start, &format!("bridge drained in {drain:?}"));
    let store =
        crossdesk_sidecar::store::Store::connect(Some(&world.db_url), None, world.dir.path())
            .await
            .expect("connect to the soak's database");
    let before_kill = settled_history(&store).await;
    let final_kill = start.elapsed();
    world.kill_sidecar().await;
    world.start_sidecar().await;
    let final_ready = start.elapsed();
    say(start, "killed and restarted once more; checking");
    let _ = stop_sampling.send(true);
    let samples = sampler.await.expect("the samples");

    let mut checks = vec![checks::all_acknowledged(&records)];
    checks.push(checks::purchases(&store, &records, mix.kind("purchase-recorded")).await);
    let stored = checks::phone_arrivals(&store).await;
    let mut kills: Vec<(Duration, Duration)> = injected
        .iter()
        .filter_map(|i| i.ready.map(|ready| (i.from, ready)))
        .collect();
    kills.push((final_kill, final_ready));
    let mut history = checks::history(&stored, &records, mix.kind("ticket-created"), &kills);
    if stored != before_kill {
        history.passed = false;
        history
            .detail
            .push_str("; the last SIGKILL changed the stored history");
    }
    checks.push(history);
    checks.push(checks::admin_changes(&mut world.admin(), &changes.all()).await);
    let (accounted, once) =
        checks::bridge(&world.bridge.config, &deliveries, &world.helpdesk.calls()).await;
    checks.push(accounted);
    checks.push(once);
    let phases = report::phases(&plan, &injected, &records, &samples);
    checks.extend(report::latency_checks(&phases));
    checks.push(report::recovery_check(&phases));
    checks.extend(report::rss_checks(&samples, stop));

    let windows = report::windows(stop, &injected, &records, &samples);
    let excluded = report::excluded(&injected);
    let quiet_per_tenant: Vec<(String, f64)> = (0..world::TENANTS)
        .filter(|&t| is_steady(t))
        .filter_map(|t| {
            let mut latencies: Vec<Duration> = records
                .iter()
                .filter(|r| {
                    r.tenant == t
                        && r.acked
                        && r.scheduled >= plan.quiet.0
                        && r.scheduled < plan.quiet.1
                        && !excluded
                            .iter()
                            .any(|&(a, b)| r.scheduled >= a && r.scheduled <= b)
                })
                .map(load::Record::latency)
                .collect();
            stats::quantile(&mut latencies, 0.99).map(|p99| (tenant(t), p99.as_secs_f64() * 1000.0))
        })
        .collect();
    let mut hook_latencies: Vec<Duration> = deliveries
        .iter()
        .filter(|d| d.acked)
        .map(webhooks::Delivery::latency)
        .collect();
    let hook_p99 = stats::quantile(&mut hook_latencies, 0.99);
    let meta = serde_json::json!({
        "machine": machine(),
        "minutes": settings.duration.as_secs_f64() / 60.0,
        "events_per_second": settings.rate,
        "webhooks_per_second": settings.webhook_rate,
        "tenants": world::TENANTS,
        "events": records.len(),
        "deliveries": deliveries.len(),
        "webhook_ack_p99_ms": hook_p99.map(|d| d.as_secs_f64() * 1000.0),
        "webhooks_delivered_again": deliveries.iter().filter(|d| d.attempts > 1).count(),
        "webhooks_not_acknowledged": deliveries
            .iter()
            .filter(|d| !d.acked)
            .map(|d| format!("{}: {}", d.key, d.error.clone().unwrap_or_default()))
            .take(10)
            .collect::<Vec<_>>(),
        "translations_requested": world.engine.translations()
            + world.stalling_engine.translations(),
        "admin_changes": changes.all().len(),
        "bridge_drain_s": drain.as_secs_f64(),
        "idempotency_memory_max_bytes": world.sizing.idempotency_bytes,
        "cache_ttl_secs": world.sizing.cache_ttl_secs,
        "event_kinds": mix.kind_names(),
        "steady_tenants": "all but t000 (looping plugin) and t090–t099 (stalling engine)",
    });
    let left_out = report::left_out(&injected, &records);
    let report = report::json(
        meta,
        &plan,
        &injected,
        &phases,
        &windows,
        &checks,
        &quiet_per_tenant,
        &left_out,
    );
    std::fs::create_dir_all(&settings.out).expect("create the output folder");
    let out = settings.out.canonicalize().unwrap_or(settings.out.clone());
    let json_path = out.join("report.json");
    std::fs::write(
        &json_path,
        serde_json::to_string_pretty(&report).expect("JSON"),
    )
    .expect("write report.json");
    let svg_path = out.join("soak.svg");
    let title = format!(
        "Crossdesk soak: {:.0} min, {} events/s over {} tenants, faults shaded",
        settings.duration.as_secs_f64() / 60.0,
        settings.rate,
        world::TENANTS
    );
    std::fs::write(
        &svg_path,
        chart::svg(&title, stop.as_secs_f64(), plan.quiet, &windows, &injected),
    )
    .expect("write the chart");

    println!("\n{}", report::markdown(&phases));
    for line in &left_out {
        println!("left out of the latency figures: {line}");
    }
    println!();
    let passed = checks.iter().all(|c| c.passed);
    for check in &checks {
        println!(
            "{} {}: {}",
            if check.passed { "PASS" } else { "FAIL" },
            check.name,
            check.detail
        );
    }
    // The sidecar's log (warnings and errors) outlives the run's folder.
    let log = out.join("sidecar.log");
    let _ = std::fs::copy(&world.log, &log);
    println!(
        "\nreport: {}\nchart:  {}\nsidecar log: {}",
        json_path.display(),
        svg_path.display(),
        log.display()
    );
    passed
}
