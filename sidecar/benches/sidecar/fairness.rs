//! A steady tenant's latency while another tenant's plugin loops.
//!
//! Two sidecars that differ only in the runtime's CPU budget: the default (then the
//! overtime thread) and one whose budget outlasts any deadline (every call
//! runs on the event workers until it ends, as before the overtime thread). Each gets an open-loop
//! load of the steady tenant's events (a chain of 4 no-op plugins, `RATE` events/s,
//! each one's latency counted from when it was due), first quiet, then while the
//! looping tenant keeps `LOOPERS` events in flight, each looping until its 2 s
//! deadline. The figure is the steady p99 during the loop over the quiet p99, for
//! each sidecar; the two runs alternate over the rounds and each keeps its median.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Result;
use crossdesk_proto::pb;
use crossdesk_proto::pb::event_service_client::EventServiceClient;

use super::{Figure, UNTHROTTLED, figure, plugin};

/// Steady tenant's events per second.
const RATE: f64 = 200.0;
/// Looping events in flight at once.
const LOOPERS: usize = 4;
/// Rounds of (quiet, looping) per sidecar.
const ROUNDS: usize = 3;
/// Length of each phase: at `RATE`, 1,000 latencies, whose p99 is the tenth slowest.
const PHASE_SECONDS: f64 = 5.0;

/// A sidecar with tenants `steady` (4 no-op plugins) and `looping` (the
/// infinite-loop fixture, 2 s deadline); `cpu_budget_ms` as given.
async fn serve(data_dir: &std::path::Path, cpu_budget_ms: u64) -> Result<SocketAddr> {
    let noop = plugin("plugin-noop")?;
    let looping = plugin("plugin-infinite-loop")?;
    let mut toml = format!("{UNTHROTTLED}[runtime]\ncpu_budget_ms = {cpu_budget_ms}\n");
    for i in 1..=4 {
        toml.push_str(&format!(
            "[[plugins]]\nname = \"noop-{i}\"\npath = {noop:?}\n"
        ));
    }
    toml.push_str(&format!(
        "[[plugins]]\nname = \"loop\"\npath = {looping:?}\n\
         [[tenants]]\nid = \"looping\"\n[[tenants.plugins]]\nname = \"loop\"\n\
         limits = {{ timeout_ms = 2000 }}\n[[tenants]]\nid = \"steady\"\n"
    ));
    for i in 1..=4 {
        toml.push_str(&format!("[[tenants.plugins]]\nname = \"noop-{i}\"\n"));
    }
    super::serve_config(&toml, data_dir).await
}

fn message(tenant: &str, id: String) -> pb::HandleEventRequest {
    pb::HandleEventRequest {
        event: Some(pb::Event {
            tenant_id: tenant.into(),
            event_id: id.clone(),
            kind: pb::EventKind::CustomerMessage as i32,
            channel: pb::Channel::WebChat as i32,
            customer: Some(pb::Customer {
                id,
                locale: "en-US".into(),
                ..Default::default()
            }),
            text: "Hello, where is my order #1234?".into(),
            ..Default::default()
        }),
    }
}

/// p99 of the steady tenant's latency over `seconds` of open-loop load, in µs.
async fn steady_p99(addr: SocketAddr, seconds: f64, ids: &str) -> Result<f64> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let interval = Duration::from_secs_f64(1.0 / RATE);
    let count = (seconds * RATE) as u32;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..count {
        let due = start + interval * n;
        tokio::time::sleep_until(due.into()).await;
        let mut client = EventServiceClient::new(channel.clone());
        let request = message("steady", format!("{ids}-{n}"));
        tasks.push(tokio::spawn(async move {
            client.handle_event(request).await?;
            Ok::<_, tonic::Status>(due.elapsed().as_secs_f64() * 1e6)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.push(task.await??);
    }
    latencies.sort_by(f64::total_cmp);
    let at = ((latencies.len() as f64 - 1.0) * 0.99) as usize;
    Ok(latencies[at])
}

/// The steady p99 quiet, then while the looping tenant keeps `LOOPERS` events
/// running; checks that the loops really ran and timed out.
async fn round(addr: SocketAddr, seconds: f64, round: usize) -> Result<(f64, f64)> {
    let quiet = steady_p99(addr, seconds, &format!("quiet-{round}")).await?;
    let stop = Instant::now() + Duration::from_secs_f64(seconds);
    let mut loopers = Vec::new();
    for looper in 0..LOOPERS {
        let mut client = EventServiceClient::connect(format!("http://{addr}")).await?;
        loopers.push(tokio::spawn(async move {
            let mut n = 0;
            while Instant::now() < stop {
                let id = format!("loop-{round}-{looper}-{n}");
                let response = client.handle_event(message("looping", id)).await?;
                let outcome = response.into_inner().outcomes.into_iter().next();
                anyhow::ensure!(
                    outcome.as_ref().map(|o| o.status())
                        == Some(pb::plugin_outcome::Status::TimedOut),
                    "the looping plugin did not time out: {outcome:?}"
                );
                n += 1;
            }
            Ok(())
        }));
    }
    // Let every looper be past its budget before measuring.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let looping = steady_p99(addr, seconds - 0.1, &format!("looping-{round}")).await?;
    for looper in loopers {
        looper.await??;
    }
    Ok((quiet, looping))
}

/// The fairness figures: each sidecar's steady p99 while looping over quiet.
pub(crate) async fn figures(data_dir: &std::path::Path, figures: &mut Vec<Figure>) -> Result<()> {
    let budget = crossdesk_sidecar::runtime::Fairness::default().cpu_budget;
    let budget_ms = u64::try_from(budget.as_millis())?;
    let fair = serve(&data_dir.join("fair"), budget_ms).await?;
    // A budget no 2 s deadline reaches: no call ever goes into overtime.
    let unmetered = serve(&data_dir.join("unmetered"), 3_600_000).await?;
    let mut p99s = (Vec::new(), Vec::new());
    for n in 0..ROUNDS {
        let (quiet, looping) = round(fair, PHASE_SECONDS, n).await?;
        p99s.0.push((quiet, looping));
        let (quiet, looping) = round(unmetered, PHASE_SECONDS, n).await?;
        p99s.1.push((quiet, looping));
    }
    // The round with the median ratio.
    let median_pair = |mut pairs: Vec<(f64, f64)>| {
        pairs.sort_by(|x, y| (x.1 / x.0).total_cmp(&(y.1 / y.0)));
        pairs[pairs.len() / 2]
    };
    let (fair_quiet, fair_looping) = median_pair(p99s.0);
    let (open_quiet, open_looping) = median_pair(p99s.1);
    figures.push(figure(
        "steady tenant p99, another tenant looping, no CPU budget",
        open_looping,
        "us",
        Some(open_quiet),
    ));
    figures.push(figure(
        &format!("steady tenant p99, another tenant looping, {budget_ms} ms budget"),
        fair_looping,
        "us",
        Some(fair_quiet),
    ));
    Ok(())
}
