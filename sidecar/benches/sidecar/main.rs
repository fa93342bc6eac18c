//! `make bench`: the sidecar's cost against baselines measured in the same run.
//!
//! 1. Per call through the runtime (`calls.rs`): the Rust no-op plugin, the
//!    JavaScript no-op and the JavaScript example, fresh with wasmtime's default
//!    allocator (the baseline), fresh with the sidecar's pooling allocator, and
//!    warm.
//! 2. Throughput and p50/p99 latency of `HandleEvent` over loopback for
//!    (a) a bare tonic server implementing the same service with no work, and
//!    (b) the sidecar running a chain of 4 no-op plugins, warm and fresh; ratio b/a.
//!    The sidecar with an empty pipeline is measured too (responses recorded in the
//!    store, and in memory only), to separate what the pipeline costs from what the
//!    plugins cost, and the warm chain with events on tickets (recorded for the
//!    contact history and the reports).
//! 3. The translation plugin against a real Apertium APy on loopback: median latency
//!    of uncached translations (new text each time) and of cached ones (the same
//!    text under new delivery ids), and events/s with a warm cache.
//! 4. A steady tenant's p99 while another tenant's plugin loops, over its quiet p99,
//!    with the runtime's CPU budget and without (`fairness.rs`).
//! 5. Memory held by warm instances at 1,000 tenants (`calls.rs`).
//! 6. Report latency against the history a report covers (`reports.rs`).
//!
//! Results go to stdout and to `target/bench-results.json` as a list of
//! `{name, value, unit, baseline, ratio}`. Settings via environment:
//! `BENCH_SECONDS` (load time per server, split over 3 interleaved rounds, default 6),
//! `BENCH_CONCURRENCY` (default 32), `BENCH_CALLS` (calls per figure, default 20000),
//! `BENCH_ONLY` (some of `calls,chain,translation,fairness,memory,reports`), and
//! `BENCH_PROFILE` (one chain server alone for `BENCH_SECONDS`, to profile: `bare`,
//! `warm`, `fresh`, `empty`, `memory` or `empty-memory`). The sidecar logs as
//! `crossdesk serve` does, into `target/bench.log`; `BENCH_LOG=off` installs no
//! subscriber.

mod calls;
mod fairness;
mod reports;

/// The allocator the `crossdesk` binary uses, so that the sidecar measured here
/// allocates as it does in production.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use crossdesk_proto::pb;
use crossdesk_proto::pb::event_service_client::EventServiceClient;
use crossdesk_proto::pb::event_service_server::{EventService, EventServiceServer};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn noop_plugin() -> Result<PathBuf> {
    plugin("plugin-noop")
}

/// The built component `name` in `target/plugins`.
fn plugin(name: &str) -> Result<PathBuf> {
    let path = workspace().join(format!("target/plugins/{name}.wasm"));
    anyhow::ensure!(
        path.exists(),
        "{} is missing: run `make bench`, which builds it",
        path.display()
    );
    Ok(path)
}

#[derive(serde::Serialize)]
struct Figure {
    name: String,
    value: f64,
    unit: String,
    baseline: Option<f64>,
    ratio: Option<f64>,
}

fn figure(name: &str, value: f64, unit: &str, baseline: Option<f64>) -> Figure {
    Figure {
        name: name.into(),
        value,
        unit: unit.into(),
        baseline,
        ratio: baseline.map(|b| value / b),
    }
}

/// The baseline: tonic serving the same service, doing nothing per request.
#[derive(Clone)]
struct BareEcho;

#[tonic::async_trait]
impl EventService for BareEcho {
    async fn handle_event(
        &self,
        request: tonic::Request<pb::HandleEventRequest>,
    ) -> Result<tonic::Response<pb::HandleEventResponse>, tonic::Status> {
        let event = request.into_inner().event.unwrap_or_default();
        Ok(tonic::Response::new(pb::HandleEventResponse {
            event_id: event.event_id,
            ..Default::default()
        }))
    }

    type StreamEventsStream =
        futures::stream::Empty<Result<pb::StreamEventsResponse, tonic::Status>>;

    async fn stream_events(
        &self,
        _request: tonic::Request<tonic::Streaming<pb::HandleEventRequest>>,
    ) -> Result<tonic::Response<Self::StreamEventsStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("bench baseline"))
    }
}

/// A `[quota]` no load phase can reach.
const UNTHROTTLED: &str =
    "[quota]\nmax_in_flight = 1000000\nevents_per_second = 1000000000\nburst = 1000000000\n";

/// Load phases per server, interleaved.
const ROUNDS: usize = 3;

/// The round with the median throughput.
fn median(mut rounds: Vec<Load>) -> Load {
    rounds.sort_by(|x, y| x.requests_per_second.total_cmp(&y.requests_per_second));
    rounds.swap_remove(rounds.len() / 2)
}

struct Load {
    requests_per_second: f64,
    p50_us: f64,
    p99_us: f64,
}

fn event(id: u64) -> pb::Event {
    pb::Event {
        tenant_id: "bench".into(),
        event_id: format!("bench-{id}"),
        kind: pb::EventKind::CustomerMessage as i32,
        channel: pb::Channel::WebChat as i32,
        // Many customers, as on a real tenant: one customer's events run one at
        // a time by design, so a single customer would measure that lock.
        customer: Some(pb::Customer {
            id: format!("c-{}", id % 10_000),
            locale: "en-US".into(),
            ..Default::default()
        }),
        text: "Hello, where is my order #1234?".into(),
        ..Default::default()
    }
}

/// [`event`] on a ticket (four messages each) from a customer in a country: the
/// contact history and the reports record it, as a real tenant's.
fn ticketed_event(id: u64) -> pb::Event {
    let mut event = event(id);
    event.ticket_id = format!("t-{}", id / 4);
    if let Some(customer) = event.customer.as_mut() {
        customer.country = "US".into();
    }
    event
}

/// Drives `HandleEvent` at `concurrency` requests in flight for `seconds`, with
/// the events `make` builds from unique ids.
async fn load_events(
    addr: std::net::SocketAddr,
    concurrency: usize,
    seconds: f64,
    id_base: u64,
    make: fn(u64) -> pb::Event,
) -> Result<Load> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for worker in 0..concurrency as u64 {
        let mut client = EventServiceClient::new(channel.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let id = id_base + worker * 10_000_000 + n;
                n += 1;
                let started = Instant::now();
                client
                    .handle_event(pb::HandleEventRequest {
                        event: Some(make(id)),
                    })
                    .await?;
                latencies.push(started.elapsed().as_micros() as u64);
            }
            Ok::<_, tonic::Status>(latencies)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pick = |q: f64| all[((all.len() as f64 - 1.0) * q) as usize] as f64;
    Ok(Load {
        requests_per_second: all.len() as f64 / elapsed,
        p50_us: pick(0.50),
        p99_us: pick(0.99),
    })
}

async fn serve_bare() -> Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(EventServiceServer::new(BareEcho))
            .serve_with_incoming(
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            ),
    );
    Ok(addr)
}

/// Starts the sidecar with configuration `toml` on a free loopback port.
async fn serve_config(toml: &str, data_dir: &std::path::Path) -> Result<std::net::SocketAddr> {
    let mut config = crossdesk_sidecar::Config::parse(toml)?;
    config.data_dir = data_dir.to_owned();
    let sidecar = crossdesk_sidecar::Sidecar::build(&config).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let settings = config.server.clone();
    tokio::spawn(async move {
        let _ = crossdesk_sidecar::api::serve(sidecar, &settings, listener, std::future::pending())
            .await;
    });
    Ok(addr)
}

/// The sidecar with a tenant `bench` whose pipeline is `plugins` no-op plugins, each
/// with `isolation`.
async fn serve_sidecar(
    data_dir: &std::path::Path,
    plugins: usize,
    isolation: &str,
    durable_responses: bool,
) -> Result<std::net::SocketAddr> {
    let noop = noop_plugin()?;
    // The bench is one tenant at full speed: no quota may throttle it.
    let mut toml = String::from(UNTHROTTLED);
    toml.push_str(&format!("[idempotency]\ndurable = {durable_responses}\n"));
    for i in 1..=plugins {
        toml.push_str(&format!(
            "[[plugins]]\nname = \"noop-{i}\"\npath = {:?}\n",
            noop
        ));
    }
    toml.push_str(&format!(
        "[[tenants]]\nid = \"bench\"\nisolation = \"{isolation}\"\n"
    ));
    for i in 1..=plugins {
        toml.push_str(&format!("[[tenants.plugins]]\nname = \"noop-{i}\"\n"));
    }
    serve_config(&toml, data_dir).await
}

/// A real Apertium APy on a free loopback port (installed by `make bench`),
/// stopped when dropped.
struct Apertium {
    port: u16,
    run_dir: tempfile::TempDir,
}

impl Apertium {
    fn start() -> Result<Apertium> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let run_dir = tempfile::tempdir()?;
        let status = std::process::Command::new("bash")
            .arg(workspace().join("scripts/apertium.sh"))
            .args(["start", &port.to_string()])
            .env("APERTIUM_RUN_DIR", run_dir.path())
            .status()?;
        anyhow::ensure!(
            status.success(),
            "Apertium APy did not start (`make bench` installs it)"
        );
        Ok(Apertium { port, run_dir })
    }
}

impl Drop for Apertium {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(workspace().join("scripts/apertium.sh"))
            .arg("stop")
            .env("APERTIUM_RUN_DIR", self.run_dir.path())
            .status();
    }
}

/// An English reply draft for a Spanish-speaking customer of tenant `translate`.
fn reply(id: u64, text: String) -> pb::Event {
    pb::Event {
        tenant_id: "translate".into(),
        event_id: format!("reply-{id}"),
        kind: pb::EventKind::AgentReplyDrafted as i32,
        ticket_id: "T-1".into(),
        channel: pb::Channel::Email as i32,
        customer: Some(pb::Customer {
            id: "c-1".into(),
            locale: "es-ES".into(),
            ..Default::default()
        }),
        text,
        ..Default::default()
    }
}

/// The same reply every time (only the delivery id changes): served from the cache
/// once warm.
fn same_reply(id: u64) -> pb::Event {
    reply(
        id,
        "Your parcel left our warehouse yesterday. Thank you for your patience.".into(),
    )
}

/// The sidecar with tenant `translate` running the translation plugin against APy.
async fn serve_translation(
    data_dir: &std::path::Path,
    apertium: &Apertium,
) -> Result<std::net::SocketAddr> {
    let plugin = workspace().join("target/plugins/translation.wasm");
    anyhow::ensure!(
        plugin.exists(),
        "{} is missing: run `make plugins`",
        plugin.display()
    );
    let toml = format!(
        "{UNTHROTTLED}[outbound]\nprivate_hosts = [\"127.0.0.1\"]\n\
         [[plugins]]\nname = \"translation\"\npath = {plugin:?}\n\
         [[tenants]]\nid = \"translate\"\n\
         [[tenants.plugins]]\nname = \"translation\"\nkv = true\n\
         allowed_hosts = [\"127.0.0.1:{port}\"]\n\
         config = {{ engine_url = \"http://127.0.0.1:{port}\" }}\n",
        port = apertium.port
    );
    serve_config(&toml, data_dir).await
}

/// Median latency of `requests` sequential calls, checking each one's cache flag.
async fn translation_latency(
    client: &mut EventServiceClient<tonic::transport::Channel>,
    events: impl Iterator<Item = pb::Event>,
    expect_cache_hit: bool,
) -> Result<f64> {
    let mut latencies = Vec::new();
    for event in events {
        let started = Instant::now();
        let response = client
            .handle_event(pb::HandleEventRequest { event: Some(event) })
            .await?
            .into_inner();
        latencies.push(started.elapsed().as_secs_f64() * 1e6);
        let outcome = response
            .outcomes
            .first()
            .context("no outcome for the translation plugin")?;
        anyhow::ensure!(
            outcome.status() == pb::plugin_outcome::Status::Ok
                && outcome.cache_hit == expect_cache_hit,
            "unexpected outcome (wanted cache_hit = {expect_cache_hit}): {outcome:?}"
        );
    }
    latencies.sort_by(f64::total_cmp);
    Ok(latencies[latencies.len() / 2])
}

/// Cached against uncached translation latency through the sidecar, and events/s
/// with a warm cache.
async fn translation_figures(
    data_dir: &std::path::Path,
    concurrency: usize,
    seconds: f64,
    figures: &mut Vec<Figure>,
) -> Result<()> {
    let apertium = Apertium::start()?;
    let addr = serve_translation(data_dir, &apertium).await?;
    let mut client = EventServiceClient::connect(format!("http://{addr}")).await?;
    // The first request fetches the engine's pair list into the plugin's storage.
    translation_latency(
        &mut client,
        std::iter::once(reply(0, "Hello.".into())),
        false,
    )
    .await?;
    // Uncached: every text is new (the order number differs), so the engine runs.
    let uncached = translation_latency(
        &mut client,
        (1..=60).map(|i| reply(i, format!("Your order #{} has shipped today.", 1000 + i))),
        false,
    )
    .await?;
    // Warm the cache with one text, then ask for it again under new delivery ids.
    translation_latency(&mut client, std::iter::once(same_reply(100)), false).await?;
    let cached = translation_latency(&mut client, (101..=400).map(same_reply), true).await?;
    let warm = load_events(
        addr,
        concurrency,
        seconds / ROUNDS as f64,
        1 << 30,
        same_reply,
    )
    .await?;
    figures.push(figure(
        "translation en→es through the sidecar, uncached: p50 latency",
        uncached,
        "us",
        None,
    ));
    figures.push(figure(
        "translation en→es through the sidecar, cached: p50 latency",
        cached,
        "us",
        Some(uncached),
    ));
    figures.push(figure(
        "translation with a warm cache: throughput",
        warm.requests_per_second,
        "events/s",
        None,
    ));
    Ok(())
}

/// Bare tonic against the sidecar with 4 no-op plugins and with none.
async fn chain_figures(
    data_dir: &std::path::Path,
    concurrency: usize,
    seconds: f64,
    figures: &mut Vec<Figure>,
) -> Result<()> {
    let bare = serve_bare().await?;
    let warm = serve_sidecar(&data_dir.join("s"), 4, "tenant", true).await?;
    let fresh = serve_sidecar(&data_dir.join("f"), 4, "event", true).await?;
    let empty = serve_sidecar(&data_dir.join("e"), 0, "tenant", true).await?;
    let in_memory = serve_sidecar(&data_dir.join("m"), 4, "tenant", false).await?;
    let ticketed = serve_sidecar(&data_dir.join("t"), 4, "tenant", true).await?;
    let empty_in_memory = serve_sidecar(&data_dir.join("em"), 0, "tenant", false).await?;
    // The chain really runs: four OK outcomes, no cache.
    for sidecar in [warm, fresh, in_memory] {
        let check = EventServiceClient::connect(format!("http://{sidecar}"))
            .await?
            .handle_event(pb::HandleEventRequest {
                event: Some(event(u64::MAX)),
            })
            .await?
            .into_inner();
        let ok = check
            .outcomes
            .iter()
            .filter(|o| o.status() == pb::plugin_outcome::Status::Ok && !o.cache_hit)
            .count();
        anyhow::ensure!(ok == 4, "the no-op chain did not run cleanly: {check:?}");
    }
    // One server alone, for a profiler (`perf record` on this process).
    if let Ok(which) = std::env::var("BENCH_PROFILE") {
        let server = match which.as_str() {
            "bare" => bare,
            "warm" => warm,
            "fresh" => fresh,
            "empty" => empty,
            "memory" => in_memory,
            "empty-memory" => empty_in_memory,
            other => anyhow::bail!(
                "BENCH_PROFILE={other}: one of bare, warm, fresh, empty, memory, empty-memory"
            ),
        };
        load_events(server, concurrency, 1.0, 1 << 40, event).await?;
        let load = load_events(server, concurrency, seconds, 2 << 40, event).await?;
        eprintln!("{which}: {:.0} req/s", load.requests_per_second);
        return Ok(());
    }
    // Warm every server (connections, caches, allocator slots, warm instances).
    let servers = [
        bare,
        warm,
        fresh,
        empty,
        in_memory,
        ticketed,
        empty_in_memory,
    ];
    // The last server gets events on tickets.
    let events = |server| {
        if server == ticketed {
            ticketed_event
        } else {
            event
        }
    };
    for server in servers {
        load_events(server, concurrency, 0.5, 1 << 40, events(server)).await?;
    }
    // The machine's speed drifts: interleave the servers over several rounds and
    // keep each one's median round.
    let mut rounds: [Vec<Load>; 7] = Default::default();
    for round in 0..ROUNDS {
        let ids = (round as u64 + 2) << 40;
        for (server, rounds) in servers.iter().zip(rounds.iter_mut()) {
            let seconds = seconds / ROUNDS as f64;
            let load = load_events(*server, concurrency, seconds, ids, events(*server)).await?;
            // Each round shows: on 2 cores, tokio's scheduling sometimes keeps a
            // client and its server on one worker, and a round runs twice as fast.
            eprintln!(
                "chain round {round}, {server}: {:.0} req/s",
                load.requests_per_second
            );
            rounds.push(load);
        }
    }
    let [a, b, f, e, m, t, em] = rounds.map(median);
    figures.push(figure(
        "bare tonic unary: throughput (baseline)",
        a.requests_per_second,
        "req/s",
        None,
    ));
    figures.push(figure(
        "bare tonic unary: p50 latency",
        a.p50_us,
        "us",
        None,
    ));
    figures.push(figure(
        "bare tonic unary: p99 latency",
        a.p99_us,
        "us",
        None,
    ));
    figures.push(figure(
        "sidecar, 4 no-op plugins, warm (tenant): throughput",
        b.requests_per_second,
        "req/s",
        Some(a.requests_per_second),
    ));
    figures.push(figure(
        "sidecar, 4 no-op plugins, warm (tenant): p50 latency",
        b.p50_us,
        "us",
        Some(a.p50_us),
    ));
    figures.push(figure(
        "sidecar, 4 no-op plugins, warm (tenant): p99 latency",
        b.p99_us,
        "us",
        Some(a.p99_us),
    ));
    figures.push(figure(
        "sidecar, 4 no-op plugins, fresh (event): throughput",
        f.requests_per_second,
        "req/s",
        Some(a.requests_per_second),
    ));
    // What the pipeline costs without plugins (validation, idempotency, outcomes).
    figures.push(figure(
        "sidecar, empty pipeline: throughput",
        e.requests_per_second,
        "req/s",
        Some(a.requests_per_second),
    ));
    // The same with responses in memory only: the host's own work per event
    // without the store's.
    figures.push(figure(
        "sidecar, empty pipeline, responses in memory only: throughput",
        em.requests_per_second,
        "req/s",
        Some(a.requests_per_second),
    ));
    // What recording each response durably (SQLite, group commit) costs, against
    // remembering it in memory only.
    figures.push(figure(
        "sidecar, 4 no-op plugins, warm, responses in memory only: throughput",
        m.requests_per_second,
        "req/s",
        Some(a.requests_per_second),
    ));
    figures.push(figure(
        "sidecar, 4 no-op plugins, warm: durable responses vs in memory only",
        b.requests_per_second,
        "req/s",
        Some(m.requests_per_second),
    ));
    // What recording events on tickets (contact history, reports) costs, against
    // the same events without a ticket.
    figures.push(figure(
        "sidecar, 4 no-op plugins, warm: events on tickets vs without",
        t.requests_per_second,
        "req/s",
        Some(b.requests_per_second),
    ));
    Ok(())
}

/// Installs the subscriber `crossdesk serve` installs (`info`, formatted lines), so
/// that the sidecar's spans and logs cost here what they cost in production. The
/// lines go to `target/bench.log` instead of stderr, which carries the rounds.
fn log_as_served() -> Result<()> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let path = workspace().join("target/bench.log");
    let file = std::fs::File::create(&path).with_context(|| format!("{}", path.display()))?;
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(tracing_subscriber::fmt::layer().with_writer(std::sync::Mutex::new(file)))
        .try_init()?;
    Ok(())
}

fn main() -> Result<()> {
    let seconds: f64 = env_or("BENCH_SECONDS", 6.0);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 32);
    let calls: usize = env_or("BENCH_CALLS", 20_000);
    // `BENCH_ONLY=chain,fairness` runs those parts only.
    let only: Option<String> = std::env::var("BENCH_ONLY").ok();
    let runs = |part: &str| {
        only.as_deref()
            .is_none_or(|only| only.split(',').any(|p| p == part))
    };
    if std::env::var("BENCH_LOG").as_deref() != Ok("off") {
        log_as_served()?;
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let data = tempfile::tempdir()?;
    let dir = |part: &str| data.path().join(part);
    let figures = runtime.block_on(async {
        let mut figures = Vec::new();
        if runs("calls") {
            calls::figures(&dir("calls"), calls, &mut figures).await?;
        }
        if runs("chain") {
            chain_figures(&dir("chain"), concurrency, seconds, &mut figures).await?;
        }
        if runs("translation") {
            translation_figures(&dir("translation"), concurrency, seconds, &mut figures).await?;
        }
        if runs("fairness") {
            fairness::figures(&dir("fairness"), &mut figures).await?;
        }
        if runs("memory") {
            calls::memory_figures(&dir("memory"), &mut figures).await?;
        }
        if runs("reports") {
            reports::figures(&dir("reports"), &mut figures).await?;
        }
        Ok::<_, anyhow::Error>(figures)
    })?;

    println!(
        "{:<58} {:>12} {:<6} {:>12} {:>7}",
        "benchmark", "value", "unit", "baseline", "ratio"
    );
    for f in &figures {
        println!(
            "{:<58} {:>12.1} {:<6} {:>12} {:>7}",
            f.name,
            f.value,
            f.unit,
            f.baseline.map(|b| format!("{b:.1}")).unwrap_or_default(),
            f.ratio.map(|r| format!("{r:.2}")).unwrap_or_default(),
        );
    }
    let out = workspace().join("target/bench-results.json");
    std::fs::write(&out, serde_json::to_string_pretty(&figures)?)
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!("written to {}", out.display());
    Ok(())
}
