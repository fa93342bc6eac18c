//! `crossdesk`: the sidecar (`serve`), the integrator's client (`send`), the
//! plugin author's runner and signing tools (`plugin run`, `plugin inspect`,
//! `plugin keygen`, `plugin sign`), the admin API's client (`admin ...`), what
//! plugins offer admins (`plugin exec`, `plugin import`, with the first-party
//! plugins' spellings `translation ...`, `recommend ...`, `schedule ...` as
//! aliases), and the contact history's import (`contacts import`).

mod admin_cli;
mod author_cli;
mod files;
mod grpc_client;
mod plugin_cli;
mod telemetry;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crossdesk_proto::{json, pb};
use crossdesk_sidecar::config::Config;

/// mimalloc instead of glibc's malloc: the event path allocates and frees on
/// whichever worker runs a task, and glibc's arenas then contend (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "crossdesk",
    version,
    about = "Runs sandboxed WebAssembly plugins on helpdesk events"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the event API.
    Serve {
        /// TOML configuration; without it the embedded default is used.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Overrides `listen` of the configuration.
        #[arg(long, value_name = "HOST:PORT")]
        listen: Option<std::net::SocketAddr>,
        /// Overrides `data_dir` of the configuration.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Overrides `plugin_dir` of the configuration.
        #[arg(long, value_name = "DIR")]
        plugin_dir: Option<PathBuf>,
    },
    /// Submit events (proto3 JSON of `crossdesk.v1.Event`) and print the responses.
    Send {
        /// The event API's address (`listen` of the server); `https://` is assumed
        /// when a TLS option is given.
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50051")]
        addr: String,
        /// A caller's bearer token (`[[callers]]` of the server). Prefer the
        /// environment variable: arguments show in `ps` and shell history.
        #[arg(
            long,
            value_name = "TOKEN",
            env = "CROSSDESK_TOKEN",
            hide_env_values = true
        )]
        token: Option<String>,
        #[command(flatten)]
        tls: grpc_client::TlsArgs,
        /// Event files; several are sent in order.
        #[arg(required = true)]
        events: Vec<PathBuf>,
    },
    /// Work with a plugin file directly, without a server.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Manage a running server through its admin API: tenants, pipelines,
    /// secrets, installed plugins and the audit log.
    Admin(Box<admin_cli::AdminArgs>),
    /// A tenant's report from a running server's admin API (the same as `admin
    /// report`): `--tenant T [--since DATE] [--until DATE] [--by language,channel]
    /// [--format table|csv|json]`.
    Report(Box<admin_cli::ReportCommandArgs>),
    /// The translation plugin's commands (alias of `plugin exec translation`):
    /// `import-tmx FILE`, `export-tmx [-o FILE]`, `import-terms FILE`, each with
    /// `--tenant T`.
    #[command(disable_help_flag = true)]
    Translation {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        args: Vec<String>,
    },
    /// The recommendation plugin's datasets (alias of `plugin import recommend`):
    /// `import-catalog FILE`, `import-kb FILE`, each with `--tenant T`.
    #[command(disable_help_flag = true)]
    Recommend {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        args: Vec<String>,
    },
    /// The scheduling plugin's commands (alias of `plugin exec schedule`): `erlang`,
    /// `plan`, `generate`, `roster import FILE`, `roster show`; and
    /// `import-history FILE` (alias of `contacts import`).
    #[command(disable_help_flag = true)]
    Schedule {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        args: Vec<String>,
    },
    /// The tenant's contact history, which staffing plans forecast from.
    Contacts {
        #[command(subcommand)]
        command: ContactsCommand,
    },
    /// Attach a helpdesk: receive its webhooks, run them through the sidecar and
    /// write the actions back through its REST API.
    Bridge {
        #[command(subcommand)]
        command: BridgeCommand,
    },
    /// Print the embedded default configuration.
    DefaultConfig,
    /// Check a sidecar configuration as `serve` reads it (the environment
    /// variables it names must be set), without starting anything.
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum ContactsCommand {
    /// Add contact counts from a CSV file (e.g. a helpdesk export).
    Import(plugin_cli::ContactsImportArgs),
}

#[derive(Subcommand)]
enum BridgeCommand {
    /// Serve the webhook endpoints and drain the queue.
    Serve {
        /// The bridge's TOML configuration (see examples/zendesk/).
        #[arg(long)]
        config: PathBuf,
        /// Overrides `listen` of the configuration.
        #[arg(long, value_name = "HOST:PORT")]
        listen: Option<std::net::SocketAddr>,
    },
    /// List the jobs that gave up (the dead-letter list), oldest first, with
    /// their last error.
    DeadLetters {
        #[arg(long)]
        config: PathBuf,
        /// Start after this id (the last one a listing with --limit showed).
        #[arg(long, value_name = "ID")]
        after: Option<u64>,
        /// List at most this many (all without it); standard error then names
        /// the next page.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        limit: Option<u32>,
    },
    /// Put dead jobs back in the queue: the given ids, or all with --all.
    Replay {
        #[arg(long)]
        config: PathBuf,
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        ids: Vec<u64>,
        #[arg(long)]
        all: bool,
    },
    /// Take dead jobs that will not be replayed (a ticket deleted in the
    /// helpdesk, say) off the list: the given ids, or all with --all.
    Discard {
        #[arg(long)]
        config: PathBuf,
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        ids: Vec<u64>,
        #[arg(long)]
        all: bool,
    },
    /// Check a bridge configuration as `bridge serve` reads it (the environment
    /// variables it names must be set), without starting anything.
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Run a command a plugin offers (`plugin inspect` lists them), e.g.
    /// `crossdesk plugin exec schedule erlang --contacts 100 --aht 180s`.
    Exec(plugin_cli::ExecArgs),
    /// Replace a dataset a plugin offers for a tenant with a file, checked whole
    /// by the plugin first, e.g. `crossdesk plugin import recommend catalog
    /// catalog.csv --tenant shop`.
    Import(plugin_cli::ImportArgs),
    /// Start a plugin project in a new folder NAME (or --dir): a small working
    /// plugin with native unit tests, in Rust (default) or JavaScript.
    New(author_cli::NewArgs),
    /// Build the plugin project in DIR (default: the current folder) into a
    /// component: Rust for wasm32 (rustup's target, else Debian's toolchain),
    /// JavaScript through componentize-js. Prints the component's path.
    Build(author_cli::BuildArgs),
    /// Run a plugin on one event and print its actions.
    Run(author_cli::RunArgs),
    /// Check a component against the conformance rules (contract, manifest,
    /// settings, events, output, capabilities, determinism, deadline), running it
    /// with exactly what its manifest declares. Exits non-zero when a rule fails.
    Check(author_cli::CheckArgs),
    /// Print a plugin's manifest.
    Inspect(author_cli::InspectArgs),
    /// Generate a signing key: the secret key goes to a new file (mode 0600), the
    /// public key (for `trusted_keys` of `[admin]`) and its id to stdout.
    Keygen(author_cli::KeygenArgs),
    /// Sign a component with a secret key, writing the detached signature.
    Sign(author_cli::SignArgs),
}

fn main() -> Result<()> {
    // `crossdesk --version` also states which plugin contracts this host loads.
    let contracts = crossdesk_sidecar::runtime::SUPPORTED_CONTRACTS
        .iter()
        .map(|v| format!("crossdesk:plugin@{v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let matches = Cli::command()
        .long_version(format!(
            "{}\nplugin contracts: {contracts}",
            env!("CARGO_PKG_VERSION")
        ))
        .get_matches();
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.exit())?;
    // Servers log what they do; a one-shot command (an import, a plugin command)
    // shows its own output and only warnings. RUST_LOG overrides both.
    let serving = matches!(
        cli.command,
        Command::Serve { .. }
            | Command::Bridge {
                command: BridgeCommand::Serve { .. }
            }
    );
    // A one-shot command piped into `head` ends quietly when the reader goes, as
    // Unix tools do, rather than panicking in `println!`. Servers keep SIGPIPE
    // ignored (Rust's start-up default): their writes' errors are theirs to handle.
    if !serving {
        sigpipe::reset();
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let telemetry = {
        let _in_runtime = runtime.enter();
        telemetry::init(serving)?
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve {
                config,
                listen,
                data_dir,
                plugin_dir,
            } => serve(config, listen, data_dir, plugin_dir).await,
            Command::Send {
                addr,
                token,
                tls,
                events,
            } => send(&addr, token.as_deref(), &tls, &events).await,
            Command::Plugin { command } => plugin(command).await,
            Command::Admin(args) => admin_cli::run(*args).await,
            Command::Report(args) => admin_cli::run_report(*args).await,
            Command::Translation { args } => plugin_cli::alias("translation", args).await,
            Command::Recommend { args } => plugin_cli::alias("recommend", args).await,
            Command::Schedule { args } => plugin_cli::alias("schedule", args).await,
            Command::Contacts {
                command: ContactsCommand::Import(args),
            } => plugin_cli::contacts_import(args).await,
            Command::Bridge { command } => bridge(command).await,
            Command::DefaultConfig => {
                print!("{}", crossdesk_sidecar::config::EMBEDDED_DEFAULT);
                Ok(())
            }
            Command::CheckConfig { config } => {
                let checked = Config::load(Some(&config))?;
                checked.bounds()?;
                checked.check_event_api_access()?;
                let url = checked.storage.resolve_url()?;
                check_listeners_tls(&checked)?;
                // The URL parsed and its TLS's CA file read, as a start would,
                // short of connecting (the pool opens connections when used).
                if let Some(url) = &url {
                    crossdesk_database::pool(&crossdesk_database::Target {
                        url,
                        ca_file: checked.storage.ca_file.as_deref(),
                        application_name: "crossdesk check-config",
                        max_connections: 1,
                    })
                    .context("storage")?;
                }
                if let Some(admin) = &checked.admin {
                    // What `serve` reads of the admin's keys, short of creating a
                    // key file (that is the first start's to do).
                    if let Some(var) = &admin.master_key_env {
                        crossdesk_sidecar::secrets::MasterKey::from_env(var)?;
                    }
                    crossdesk_sidecar::signing::TrustedKeys::parse(&admin.trusted_keys)
                        .context("admin.trusted_keys")?;
                }
                println!(
                    "{}: valid ({} plugins, {} tenants)",
                    config.display(),
                    checked.plugins.len(),
                    checked.tenants.len()
                );
                Ok(())
            }
        }
    });
    telemetry.shutdown();
    // Requests given up at the end of a drain, and blocking work (a report's
    // build), stop with the runtime: the exit waits for them this long at most.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    result
}

async fn serve(
    path: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
    data_dir: Option<PathBuf>,
    plugin_dir: Option<PathBuf>,
) -> Result<()> {
    let mut config = Config::load(path.as_deref())?;
    if let Some(listen) = listen {
        config.listen = listen;
    }
    if let Some(dir) = data_dir {
        config.data_dir = dir;
    }
    if let Some(dir) = plugin_dir {
        config.plugin_dir = dir;
    }
    config.check_event_api_access()?;
    check_listeners_tls(&config)?;
    let sidecar = crossdesk_sidecar::Sidecar::build(&config)
        .await
        .context("cannot start the sidecar")?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    let admin_listener = match &config.admin {
        Some(admin) => Some(
            tokio::net::TcpListener::bind(admin.listen)
                .await
                .with_context(|| format!("cannot listen on {} (admin)", admin.listen))?,
        ),
        None => None,
    };
    let ops_listener = match &config.ops {
        Some(ops) => Some(
            tokio::net::TcpListener::bind(ops.listen)
                .await
                .with_context(|| format!("cannot listen on {} (ops)", ops.listen))?,
        ),
        None => None,
    };
    // Scripts wait for these lines (and read the ports when listening on port 0).
    if let Some(admin) = &admin_listener {
        println!("crossdesk admin API listening on {}", admin.local_addr()?);
    }
    if let Some(ops) = &ops_listener {
        println!("crossdesk ops listening on {}", ops.local_addr()?);
    }
    println!("crossdesk listening on {local}");
    tracing::info!(
        %local,
        tenants = config.tenants.len(),
        plugins = config.plugins.len(),
        contracts = ?crossdesk_sidecar::runtime::SUPPORTED_CONTRACTS,
        "serving"
    );
    // One signal stops every listener, and so does the event or admin API
    // failing: a process serving half its APIs would look alive to its
    // supervisor. (The ops listener failing is logged: /livez then goes
    // unanswered, which is how a supervisor hears of it.)
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop = std::sync::Arc::new(stop);
    let on_signal = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = on_signal.send(true);
    });
    // The first failure, kept to be reported even when the drain ends first.
    let failure = std::sync::OnceLock::new();
    let stopping_others = |result: Result<(), anyhow::Error>| {
        if let Err(e) = &result {
            let _ = failure.set(format!("{e:#}"));
            let _ = stop.send(true);
        }
        result
    };
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    if let Some(ops_listener) = ops_listener {
        // Through the drain too: `/readyz` then says 503, and its counts are scraped.
        let ops = crossdesk_sidecar::ops::serve(sidecar.clone(), ops_listener, stopped.clone());
        tokio::spawn(async move {
            if let Err(e) = ops.await {
                tracing::error!("the ops listener stopped: {e}");
            }
        });
    }
    let events = async {
        let served = crossdesk_sidecar::api::serve(
            sidecar.clone(),
            &config.server,
            listener,
            until_stopped(stopped.clone()),
        )
        .await;
        stopping_others(served.context("the event API stopped"))
    };
    let serving = async {
        match (admin_listener, &config.admin) {
            (Some(admin_listener), Some(admin)) => {
                let admin_api = async {
                    let served = crossdesk_sidecar::admin::serve_admin(
                        sidecar.clone(),
                        admin,
                        admin_listener,
                        until_stopped(stopped.clone()),
                    )
                    .await;
                    stopping_others(served.context("the admin API stopped"))
                };
                let (events, admin_api) = tokio::join!(events, admin_api);
                events.and(admin_api)
            }
            _ => events.await,
        }
    };
    // The listeners wait for the requests in flight, and an admin request may
    // take 120 s: past `drain_ms` after a stop (a signal or a failure) they are
    // given up, so that what follows runs before a supervisor's grace period ends
    // in SIGKILL. Their connections close when the runtime stops, and their
    // callers deliver again.
    let drain = std::time::Duration::from_millis(config.server.drain_ms);
    let drained = async {
        until_stopped(stopped.clone()).await;
        tokio::time::sleep(drain).await;
    };
    let served = tokio::select! {
        served = serving => served,
        () = drained => {
            tracing::warn!(?drain, "requests still in flight after the drain are given up");
            match failure.get() {
                Some(failure) => Err(anyhow::anyhow!("{failure}")),
                None => Ok(()),
            }
        }
    };
    // Stopped by a signal or by a failure alike: the responses still queued are
    // written and this replica leaves the store, then the failure is reported.
    sidecar.shutdown().await;
    tracing::info!("stopped");
    served
}

/// The event and admin listeners' TLS files, read and parsed as serving will.
fn check_listeners_tls(config: &Config) -> Result<()> {
    if let Some(tls) = &config.server.tls {
        crossdesk_sidecar::api::check_tls(tls).context("server.tls")?;
    }
    if let Some(tls) = config.admin.as_ref().and_then(|a| a.tls.as_ref()) {
        crossdesk_sidecar::api::check_tls(tls).context("admin.tls")?;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn send(
    addr: &str,
    token: Option<&str>,
    tls: &grpc_client::TlsArgs,
    files: &[PathBuf],
) -> Result<()> {
    // Read every event first: a bad file is reported before anything is sent.
    let mut events = Vec::with_capacity(files.len());
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let event = json::event_from_json(&text).with_context(|| format!("{}", file.display()))?;
        events.push((file, event));
    }
    let bearer = grpc_client::Bearer::new(token)?;
    let hint = if bearer.is_given() {
        ""
    } else {
        " (give --token or set CROSSDESK_TOKEN)"
    };
    let channel = grpc_client::channel(addr, tls, "event API").await?;
    let mut client =
        pb::event_service_client::EventServiceClient::with_interceptor(channel, bearer);
    for (file, event) in events {
        let response = client
            .handle_event(pb::HandleEventRequest { event: Some(event) })
            .await
            .map_err(|status| {
                let hint = match status.code() {
                    tonic::Code::Unauthenticated => hint,
                    _ => "",
                };
                anyhow::anyhow!(
                    "{}: {:?}: {}{hint}",
                    file.display(),
                    status.code(),
                    status.message()
                )
            })?
            .into_inner();
        println!(
            "{}",
            json::to_json("crossdesk.v1.HandleEventResponse", &response)?
        );
    }
    Ok(())
}

async fn bridge(command: BridgeCommand) -> Result<()> {
    use crossdesk_bridge::{BridgeConfig, open_queue};
    match command {
        BridgeCommand::Serve { config, listen } => {
            let mut config = BridgeConfig::load(&config)?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            // Scripts wait for this line (and read the port when listening on port 0).
            println!("crossdesk bridge listening on {}", listener.local_addr()?);
            crossdesk_bridge::run(config, listener, shutdown_signal()).await?;
        }
        BridgeCommand::DeadLetters {
            config,
            after,
            limit,
        } => {
            let queue = open_queue(&BridgeConfig::load(&config)?).await?;
            let pages = Pages {
                after,
                limit,
                size: DEAD_LETTERS_PAGE,
            };
            list_dead_letters(
                &queue,
                pages,
                &mut std::io::stdout(),
                &mut std::io::stderr(),
            )
            .await?;
        }
        BridgeCommand::Replay { config, ids, all } => {
            let queue = open_queue(&BridgeConfig::load(&config)?).await?;
            let replayed = queue.replay(if all { None } else { Some(ids) }).await?;
            println!("{replayed} job(s) queued again");
        }
        BridgeCommand::Discard { config, ids, all } => {
            let queue = open_queue(&BridgeConfig::load(&config)?).await?;
            let discarded = queue.discard(if all { None } else { Some(ids) }).await?;
            println!("{discarded} dead job(s) discarded");
        }
        BridgeCommand::CheckConfig { config: path } => {
            let config = BridgeConfig::load(&path)?;
            crossdesk_bridge::check(&config)?;
            println!(
                "{}: valid ({} endpoints)",
                path.display(),
                config.endpoints.len()
            );
        }
    }
    Ok(())
}

/// Dead letters read from the queue at once by `bridge dead-letters`: a long
/// list is never held whole.
const DEAD_LETTERS_PAGE: u32 = 1_000;

/// Which dead letters a listing shows, and how many it reads at once.
struct Pages {
    /// Those after this id.
    after: Option<u64>,
    /// At most this many (all without it).
    limit: Option<u32>,
    size: u32,
}

/// Writes the dead letters `pages` asks for to `out`, a line each; when a
/// limit leaves some out, `notes` says how to list the next ones.
async fn list_dead_letters(
    queue: &crossdesk_bridge::queue::Queue,
    pages: Pages,
    out: &mut dyn std::io::Write,
    notes: &mut dyn std::io::Write,
) -> Result<()> {
    let Pages {
        mut after,
        limit,
        size,
    } = pages;
    let from = after;
    let mut listed: u32 = 0;
    loop {
        let room = limit.map_or(size, |limit| limit.saturating_sub(listed).min(size));
        // One more than there is room for tells whether more follow.
        let page = queue
            .page(
                crossdesk_bridge::queue::JobState::Dead,
                after,
                room.saturating_add(1),
            )
            .await?;
        let more = page.len() > room as usize;
        for job in page.into_iter().take(room as usize) {
            writeln!(
                out,
                "{}\t{}\t{}\tattempts {}\t{}",
                job.id,
                one_line(&job.endpoint),
                one_line(&job.job.delivery_key),
                job.attempts,
                one_line(job.last_error.as_deref().unwrap_or_default())
            )?;
            listed = listed.saturating_add(1);
            after = Some(job.id);
        }
        match (more, after) {
            (true, Some(last)) if limit.is_some_and(|limit| listed >= limit) => {
                writeln!(notes, "more: list them with --after {last}")?;
                break;
            }
            (true, _) => continue,
            (false, _) => break,
        }
    }
    match (listed, from) {
        (0, None) => writeln!(out, "no dead letters")?,
        (0, Some(id)) => writeln!(out, "no dead letters after {id}")?,
        _ => {}
    }
    Ok(())
}

/// `text` on one line of a tab-separated listing: control characters (a
/// helpdesk's error body may hold newlines, tabs or a terminal's escape
/// sequences) written as escapes.
fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            line.extend(c.escape_debug());
        } else {
            line.push(c);
        }
    }
    line
}

async fn plugin(command: PluginCommand) -> Result<()> {
    match command {
        PluginCommand::Exec(args) => plugin_cli::exec(args).await,
        PluginCommand::Import(args) => plugin_cli::import(args).await,
        PluginCommand::New(args) => author_cli::new(args),
        PluginCommand::Build(args) => author_cli::build(args),
        PluginCommand::Run(args) => author_cli::run(args).await,
        PluginCommand::Check(args) => author_cli::check(args).await,
        PluginCommand::Inspect(args) => author_cli::inspect(args).await,
        PluginCommand::Keygen(args) => author_cli::keygen(args),
        PluginCommand::Sign(args) => author_cli::sign(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every dead letter is listed however many pages they take, and a limit
    /// names where the next page starts.
    #[tokio::test]
    async fn dead_letters_are_listed_a_page_at_a_time() {
        use crossdesk_bridge::queue::{JobState, Queue, QueueSettings};
        use crossdesk_bridge::types::{Job, Target};
        let dir = tempfile::tempdir().expect("temp dir");
        let queue = Queue::open(&QueueSettings::default(), dir.path())
            .await
            .expect("queue");
        for ticket in ["1", "2", "3"] {
            let job = Job {
                delivery_key: format!("d-{ticket}"),
                target: Target {
                    ticket_id: ticket.into(),
                    ..Default::default()
                },
                ..Job::default()
            };
            queue.enqueue("zd", &job, 0).await.expect("queued");
            let batch = queue
                .claim("worker", 60_000, &[], None)
                .await
                .expect("claim")
                .expect("due");
            queue.fail(&batch, "404", None).await.expect("dead");
        }
        let ids: Vec<u64> = queue
            .list(JobState::Dead)
            .await
            .expect("dead")
            .iter()
            .map(|job| job.id)
            .collect();
        let listing = async |after, limit| {
            let (mut out, mut notes) = (Vec::new(), Vec::new());
            let pages = Pages {
                after,
                limit,
                size: 2,
            };
            list_dead_letters(&queue, pages, &mut out, &mut notes)
                .await
                .expect("listed");
            let first_fields = |text: Vec<u8>| -> Vec<String> {
                String::from_utf8(text)
                    .expect("utf-8")
                    .lines()
                    .map(|line| line.split('\t').next().unwrap_or_default().to_owned())
                    .collect()
            };
            (first_fields(out), String::from_utf8(notes).expect("utf-8"))
        };
        let id = |n: usize| ids[n].to_string();
        let (all, notes) = listing(None, None).await;
        assert_eq!(all, [id(0), id(1), id(2)], "over two pages");
        assert!(notes.is_empty(), "{notes}");
        let (two, notes) = listing(None, Some(2)).await;
        assert_eq!(two, [id(0), id(1)]);
        assert_eq!(
            notes.trim_end(),
            format!("more: list them with --after {}", id(1))
        );
        let (rest, notes) = listing(Some(ids[1]), Some(2)).await;
        assert_eq!(rest, [id(2)]);
        assert!(
            notes.is_empty(),
            "the last page names none after it: {notes}"
        );
        let (none, _) = listing(Some(ids[2]), None).await;
        assert_eq!(none, [format!("no dead letters after {}", id(2))]);
    }

    #[test]
    fn a_dead_letter_error_stays_on_its_line() {
        assert_eq!(
            one_line("422 {\"error\":\n\t\"bad\"}\u{1b}[2J café"),
            "422 {\"error\":\\n\\t\"bad\"}\\u{1b}[2J café"
        );
    }
}
