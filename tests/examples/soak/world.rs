//! What the soak runs against, all on loopback, and the levers that break it: the
//! release-built `crossdesk serve` as a child process on a PostgreSQL of its own
//! (started by `scripts/postgres.sh`), a shared Apertium APy behind two engine
//! fronts (one per group of tenants, so that one can stall), the helpdesk
//! simulator, and a bridge (in this process) with a Zendesk endpoint per bridged
//! tenant.
//!
//! The sidecar listens on fixed ports chosen at start, so that the bridge and the
//! load's clients reach its successor after a SIGKILL without being told.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crossdesk_integration_tests::engine::{Apertium, Behaviour, EngineFront};
use crossdesk_integration_tests::helpdesk::{Answer, Helpdesk};
use crossdesk_integration_tests::pb;
use crossdesk_integration_tests::pb::admin_service_client::AdminServiceClient;
use crossdesk_integration_tests::postgres::TestPostgres;
use crossdesk_integration_tests::process::{Launch, ServerProcess};
use crossdesk_integration_tests::{as_admin, plugin, plugin_dir, workspace_dir};
use tonic::transport::Channel;

/// Tenants served, `t000` to `t099`, each running the four first-party plugins.
pub(crate) const TENANTS: usize = 100;
/// The tenant whose pipeline gets the looping plugin.
pub(crate) const LOOP_TENANT: usize = 0;
/// Tenants whose translation engine stalls (the others use another front).
pub(crate) const STALL_TENANTS: Range<usize> = 90..100;
/// Tenants whose settings admins change during the run.
pub(crate) const ADMIN_TENANTS: Range<usize> = 10..20;
/// Tenants whose helpdesk also sends webhooks through the bridge.
pub(crate) const BRIDGE_TENANTS: Range<usize> = 80..90;
/// The hostile plugin (tests/plugins/infinite-loop), installed but not enabled.
pub(crate) const LOOP_PLUGIN: &str = "plugin-infinite-loop";
/// The first-party plugins every tenant runs, in pipeline order.
pub(crate) const PLUGINS: [&str; 4] = ["translation", "tone", "recommend", "schedule"];
pub(crate) const ADMIN_TOKEN: &str = "soak-admin-token-0123456789";
/// Zendesk endpoints' webhook signing secret.
pub(crate) const SIGNING_SECRET: &str = "soak-zendesk-signing-secret";
/// Helpdesk users (requesters) per bridged tenant.
pub(crate) const REQUESTERS: usize = 20;

/// `t007`.
pub(crate) fn tenant(i: usize) -> String {
    format!("t{i:03}")
}

/// Whether tenant `i` is never under a fault of its own: the tenants whose p99
/// is held to the quiet run's.
pub(crate) fn is_steady(i: usize) -> bool {
    i != LOOP_TENANT && !STALL_TENANTS.contains(&i)
}

/// The bridge's endpoint name for tenant `i`.
pub(crate) fn endpoint(i: usize) -> String {
    format!("zendesk-{}", tenant(i))
}

/// A helpdesk user id of tenant `i` (numeric, as Zendesk's are).
pub(crate) fn requester(i: usize, k: usize) -> String {
    format!("{}", 7_000_000_000u64 + (i * 1000 + k) as u64)
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
}

/// The sidecar's settings that shape memory, written to its configuration and
/// repeated in the report.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizing {
    /// Bytes of responses remembered in memory: about a minute of the load.
    pub(crate) idempotency_bytes: u64,
    /// How long a cacheable plugin result is kept.
    pub(crate) cache_ttl_secs: u64,
}

/// The bridge running in this process.
pub(crate) struct Bridge {
    pub(crate) addr: SocketAddr,
    pub(crate) config: crossdesk_bridge::BridgeConfig,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub(crate) struct World {
    pub(crate) dir: tempfile::TempDir,
    config: PathBuf,
    pub(crate) log: PathBuf,
    pub(crate) db_url: String,
    postgres: &'static TestPostgres,
    /// The engine of every tenant but the stalling group.
    pub(crate) engine: EngineFront,
    /// The engine of [`STALL_TENANTS`].
    pub(crate) stalling_engine: EngineFront,
    pub(crate) helpdesk: Helpdesk,
    pub(crate) sidecar_addr: SocketAddr,
    pub(crate) admin_addr: SocketAddr,
    launch: Launch,
    server: std::sync::Mutex<Option<ServerProcess>>,
    /// The running sidecar's pid, 0 while there is none.
    pub(crate) pid: Arc<AtomicU32>,
    pub(crate) bridge: Bridge,
    pub(crate) sizing: Sizing,
}

impl World {
    /// Starts everything and loads each tenant's datasets (catalog, knowledge
    /// base, roster) through the admin API.
    pub(crate) async fn start(rate: f64) -> World {
        let postgres = tokio::task::spawn_blocking(TestPostgres::shared)
            .await
            .expect("start PostgreSQL");
        let db_url = TestPostgres::fresh_database().await;
        let apertium = tokio::task::spawn_blocking(Apertium::shared)
            .await
            .expect("start Apertium APy");
        let engine = EngineFront::start(Behaviour::Forward(apertium.url())).await;
        let stalling_engine = EngineFront::start(Behaviour::Forward(apertium.url())).await;
        let helpdesk = Helpdesk::start().await;
        for i in BRIDGE_TENANTS {
            for k in 0..REQUESTERS {
                let id = requester(i, k);
                helpdesk.put_record(
                    &format!("/api/v2/users/{id}.json"),
                    serde_json::json!({"user": {
                        "id": id,
                        "name": format!("Client {k}"),
                        "email": format!("client{k}@{}.example", tenant(i)),
                        "locale": "fr-FR",
                        "iana_time_zone": "Europe/Paris",
                    }}),
                );
            }
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let sizing = Sizing {
            // A response here is well under 2 KiB.
            idempotency_bytes: (rate * 60.0 * 2048.0).ceil() as u64,
            cache_ttl_secs: 60,
        };
        let sidecar_addr = free_addr();
        let admin_addr = free_addr();
        let config = dir.path().join("crossdesk.toml");
        // The master key file is made there on the first start.
        std::fs::create_dir_all(dir.path().join("data")).expect("create the data folder");
        std::fs::write(
            &config,
            sidecar_config(
                &dir.path().join("data"),
                &db_url,
                admin_addr,
                &engine,
                &stalling_engine,
                sizing,
            ),
        )
        .expect("write the sidecar's configuration");
        let log = dir.path().join("sidecar.log");
        let launch = Launch {
            listen: sidecar_addr,
            binary: crossdesk_integration_tests::crossdesk_bin_of("release"),
            log: Some(log.clone()),
        };
        let bridge = start_bridge(dir.path(), sidecar_addr, &helpdesk.url()).await;
        let world = World {
            dir,
            config,
            log,
            db_url,
            postgres,
            engine,
            stalling_engine,
            helpdesk,
            sidecar_addr,
            admin_addr,
            launch,
            server: std::sync::Mutex::new(None),
            pid: Arc::new(AtomicU32::new(0)),
            bridge,
            sizing,
        };
        world.start_sidecar().await;
        world.import_datasets().await;
        world
    }

    /// Starts `crossdesk serve` and waits until it says it listens; returns how long
    /// that took.
    pub(crate) async fn start_sidecar(&self) -> Duration {
        let started = Instant::now();
        let config = self.config.clone();
        let launch = self.launch.clone();
        let server =
            tokio::task::spawn_blocking(move || ServerProcess::launch(&config, &[], &launch))
                .await
                .expect("start the sidecar");
        assert_eq!(server.addr, self.sidecar_addr, "the sidecar's address");
        self.pid.store(server.pid(), Ordering::SeqCst);
        if let Ok(mut slot) = self.server.lock() {
            *slot = Some(server);
        }
        started.elapsed()
    }

    /// SIGKILLs the sidecar (no shutdown, nothing flushed).
    pub(crate) async fn kill_sidecar(&self) {
        let server = self.server.lock().ok().and_then(|mut s| s.take());
        self.pid.store(0, Ordering::SeqCst);
        if let Some(server) = server {
            tokio::task::spawn_blocking(move || server.kill())
                .await
                .expect("kill the sidecar");
        }
    }

    /// An admin API client; it reconnects by itself to a restarted sidecar.
    pub(crate) fn admin(&self) -> AdminServiceClient<Channel> {
        AdminServiceClient::new(
            Channel::from_shared(format!("http://{}", self.admin_addr))
                .expect("admin URI")
                .connect_timeout(Duration::from_secs(2))
                .timeout(Duration::from_secs(30))
                .connect_lazy(),
        )
    }

    pub(crate) async fn postgres_down(&self) {
        let postgres = self.postgres;
        tokio::task::spawn_blocking(move || postgres.down())
            .await
            .expect("stop PostgreSQL");
    }

    pub(crate) async fn postgres_up(&self) {
        let postgres = self.postgres;
        tokio::task::spawn_blocking(move || postgres.up())
            .await
            .expect("start PostgreSQL");
    }

    /// The stalling group's engine holds every request (or forwards again).
    pub(crate) fn stall_engine(&self, stalled: bool) {
        self.stalling_engine.set_behaviour(if stalled {
            Behaviour::Hang
        } else {
            Behaviour::Forward(Apertium::shared().url())
        });
    }

    /// The helpdesk answers 429 (`Retry-After: 5`) until `until_429`, then 500
    /// until `until`.
    pub(crate) async fn helpdesk_outage(&self, until_429: Instant, until: Instant) {
        self.helpdesk.outage(Answer::RateLimited(5), until_429);
        tokio::time::sleep_until(until_429.into()).await;
        self.helpdesk.outage(Answer::ServerError, until);
    }

    async fn import_datasets(&self) {
        let read = |path: &str| {
            std::fs::read(workspace_dir().join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
        };
        let datasets = [
            (
                "recommend",
                "catalog",
                read("examples/recommend/catalog.json"),
            ),
            (
                "recommend",
                "knowledge-base",
                read("examples/recommend/kb.json"),
            ),
            ("schedule", "roster", read("examples/schedule/roster.json")),
        ];
        let mut admin = self.admin();
        for i in 0..TENANTS {
            for (plugin, dataset, content) in &datasets {
                admin
                    .import_plugin_data(as_admin(
                        ADMIN_TOKEN,
                        pb::ImportPluginDataRequest {
                            tenant_id: tenant(i),
                            plugin: (*plugin).into(),
                            dataset: (*dataset).into(),
                            format: "json".into(),
                            content: content.clone(),
                        },
                    ))
                    .await
                    .unwrap_or_else(|e| panic!("import {dataset} for {}: {e:?}", tenant(i)));
            }
        }
    }
}

/// The sidecar's configuration: PostgreSQL, the admin API, the five plugins and
/// the hundred tenants (the store is seeded from it on the first start).
fn sidecar_config(
    data_dir: &Path,
    db_url: &str,
    admin_addr: SocketAddr,
    engine: &EngineFront,
    stalling_engine: &EngineFront,
    sizing: Sizing,
) -> String {
    let mut config = format!(
        r#"data_dir = {data_dir:?}
plugin_dir = {plugin_dir:?}

# Caches sized to fill within the first minute, so that memory still growing
# after it is a leak, not a cache filling up.
[idempotency]
memory_max_bytes = {idempotency_bytes}
[cache]
ttl_secs = {ttl}

[storage]
url = "{db_url}"

# The MT engine (and its stalling front) run on loopback: the operator opens it.
[outbound]
private_hosts = ["127.0.0.1"]

[admin]
listen = "{admin_addr}"
users = [{{ name = "soak", token = "{ADMIN_TOKEN}", tenants = ["*"] }}]
"#,
        data_dir = data_dir.display().to_string(),
        plugin_dir = plugin_dir().display().to_string(),
        idempotency_bytes = sizing.idempotency_bytes,
        ttl = sizing.cache_ttl_secs,
    );
    for name in PLUGINS.iter().chain([&LOOP_PLUGIN]) {
        // Fails early, with the command that builds it, when a plugin is missing.
        let _ = plugin(name);
        config.push_str(&format!(
            "\n[[plugins]]\nname = \"{name}\"\npath = \"{name}.wasm\"\n"
        ));
    }
    for i in 0..TENANTS {
        let engine_addr = if STALL_TENANTS.contains(&i) {
            stalling_engine.addr
        } else {
            engine.addr
        };
        config.push_str(&format!(
            r#"
[[tenants]]
id = "{tenant}"
[[tenants.plugins]]
name = "translation"
kv = true
allowed_hosts = ["{engine_addr}"]
settings = {{ engine = "apertium", engine_url = "http://{engine_addr}", agent_language = "en" }}
[[tenants.plugins]]
name = "tone"
[[tenants.plugins]]
name = "recommend"
kv = true
settings = {{ top_k = "5" }}
[[tenants.plugins]]
name = "schedule"
kv = true
kv_read = ["recommend"]
"#,
            tenant = tenant(i),
        ));
    }
    config
}

/// A bridge with one Zendesk endpoint per bridged tenant, writing back to the
/// helpdesk simulator, with the bridge's default retry policy.
async fn start_bridge(dir: &Path, sidecar: SocketAddr, helpdesk_url: &str) -> Bridge {
    let mut text = format!(
        "data_dir = {:?}\nsidecar = \"http://{sidecar}\"\n",
        dir.join("bridge").display().to_string()
    );
    for i in BRIDGE_TENANTS {
        text.push_str(&format!(
            r#"
[[endpoints]]
name = "{endpoint}"
helpdesk = "zendesk"
tenant = "{tenant}"
base_url = "{helpdesk_url}"
signing_secret = "{SIGNING_SECRET}"
api_user = "bot@{tenant}.example"
api_token = "zendesk-api-token-{tenant}"
bot_author_ids = ["9000000000001"]
"#,
            endpoint = endpoint(i),
            tenant = tenant(i),
        ));
    }
    let config = crossdesk_bridge::BridgeConfig::parse(&text).expect("bridge config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the bridge");
    let addr = listener.local_addr().expect("bridge address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run_config = config.clone();
    tokio::spawn(async move {
        crossdesk_bridge::run(run_config, listener, async {
            let _ = stopped.await;
        })
        .await
        .expect("the bridge runs");
    });
    Bridge {
        addr,
        config,
        _stop: stop,
    }
}
