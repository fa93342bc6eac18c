//! The plugin author's tools: `crossdesk plugin new`, `build`, `run`, `check`,
//! `inspect`, `keygen` and `sign`. Each runs alone, without a server: a plugin
//! file is loaded into a sandbox of its own, with only what the command line
//! grants it.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crossdesk_plugin_build::{Language, template};
use crossdesk_proto::{json, pb};
use crossdesk_sidecar::config::Limits;
use crossdesk_sidecar::conformance;
use crossdesk_sidecar::runtime::http::{OutboundPolicy, PrivateHosts};
use crossdesk_sidecar::runtime::{FailureKind, Grant, KvRead, Runtime};

/// The language of a new plugin project.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum Lang {
    Rust,
    Js,
}

/// What `crossdesk plugin new` takes.
#[derive(clap::Args)]
pub(crate) struct NewArgs {
    /// The plugin's name: lowercase letters, digits and '-'.
    pub(crate) name: String,
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    pub(crate) lang: Lang,
    /// The folder to create (default: ./NAME).
    #[arg(long)]
    pub(crate) dir: Option<PathBuf>,
    /// The SDK's local copy the project depends on: an unpacked `crossdesk-sdk`
    /// crate, or the `@crossdesk/plugin-sdk` folder or tarball. Needed until the
    /// SDK is published on crates.io and npm.
    #[arg(long, value_name = "PATH")]
    pub(crate) sdk: Option<PathBuf>,
}

/// What `crossdesk plugin build` takes.
#[derive(clap::Args)]
pub(crate) struct BuildArgs {
    #[arg(default_value = ".")]
    pub(crate) dir: PathBuf,
    /// Where to write the component (default: target/NAME.wasm for Rust,
    /// dist/NAME.wasm for JavaScript).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

/// What `crossdesk plugin run` takes.
#[derive(clap::Args)]
pub(crate) struct RunArgs {
    /// The component (`.wasm`).
    pub(crate) file: PathBuf,
    /// The event, as proto3 JSON of `crossdesk.v1.Event` (default: a sample of
    /// the first kind the plugin handles; for one that handles customer
    /// messages, a customer message in Spanish).
    #[arg(long)]
    pub(crate) event: Option<PathBuf>,
    /// A setting for the plugin, `KEY=VALUE`; repeatable.
    #[arg(long = "setting", value_name = "KEY=VALUE")]
    pub(crate) settings: Vec<String>,
    /// Grant key-value storage (kept in `--data-dir`).
    #[arg(long)]
    pub(crate) kv: bool,
    /// Let it read this plugin's storage (`@PLUGIN/KEY`, kept in `--data-dir`),
    /// as an admin's `kv_read` grant does; repeatable.
    #[arg(long = "kv-read", value_name = "PLUGIN")]
    pub(crate) kv_read: Vec<String>,
    /// Allow outbound HTTP to this host, on public addresses; repeatable.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub(crate) allow_hosts: Vec<String>,
    /// Let an allowed host resolve to loopback or a private network too (a
    /// local engine); a host name without port, repeatable.
    #[arg(long = "private-host", value_name = "HOST")]
    pub(crate) private_hosts: Vec<String>,
    /// Deadline of the call in milliseconds.
    #[arg(long, default_value_t = Limits::default().timeout_ms)]
    pub(crate) timeout_ms: u64,
    /// Where compiled components and the plugin's storage are kept (the
    /// `plugin new` templates ignore it in git).
    #[arg(long, default_value = ".crossdesk")]
    pub(crate) data_dir: PathBuf,
}

/// What `crossdesk plugin check` takes.
#[derive(clap::Args)]
pub(crate) struct CheckArgs {
    /// The component (`.wasm`).
    pub(crate) file: PathBuf,
    /// An event to call it with, as proto3 JSON of `crossdesk.v1.Event`;
    /// repeatable. Without one, a sample event of every kind.
    #[arg(long = "event", value_name = "FILE")]
    pub(crate) events: Vec<PathBuf>,
    /// A setting for the plugin, `KEY=VALUE`; repeatable.
    #[arg(long = "setting", value_name = "KEY=VALUE")]
    pub(crate) settings: Vec<String>,
    /// Let this host, if the manifest declares it, resolve to loopback or a
    /// private network (a local engine); repeatable. Without it, the plugin's
    /// hosts are reached on public addresses only.
    #[arg(long = "private-host", value_name = "HOST")]
    pub(crate) private_hosts: Vec<String>,
    /// Let it read this plugin's storage (`@PLUGIN/KEY`, kept in `--data-dir`),
    /// as an admin's `kv_read` grant does; repeatable.
    #[arg(long = "kv-read", value_name = "PLUGIN")]
    pub(crate) kv_read: Vec<String>,
    /// Deadline of each call in milliseconds.
    #[arg(long, default_value_t = Limits::default().timeout_ms)]
    pub(crate) timeout_ms: u64,
    /// Print the report as JSON (for CI).
    #[arg(long)]
    pub(crate) json: bool,
    /// Where compiled components and the plugin's storage are kept (the
    /// `plugin new` templates ignore it in git).
    #[arg(long, default_value = ".crossdesk")]
    pub(crate) data_dir: PathBuf,
}

/// What `crossdesk plugin inspect` takes.
#[derive(clap::Args)]
pub(crate) struct InspectArgs {
    pub(crate) file: PathBuf,
    /// Where compiled components and the plugin's storage are kept (the
    /// `plugin new` templates ignore it in git).
    #[arg(long, default_value = ".crossdesk")]
    pub(crate) data_dir: PathBuf,
}

/// What `crossdesk plugin keygen` takes.
#[derive(clap::Args)]
pub(crate) struct KeygenArgs {
    /// File for the secret key; it must not exist yet.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
}

/// What `crossdesk plugin sign` takes.
#[derive(clap::Args)]
pub(crate) struct SignArgs {
    /// The component (`.wasm`).
    pub(crate) file: PathBuf,
    /// File holding the secret key (as `plugin keygen` writes it).
    #[arg(long, value_name = "SECRET_KEY_FILE")]
    pub(crate) key: PathBuf,
    /// Where to write the signature (default: FILE.sig, where `admin plugins
    /// install` looks for it).
    #[arg(long, value_name = "SIG_FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// `plugin new`: a plugin project from the template.
pub(crate) fn new(args: NewArgs) -> Result<()> {
    let NewArgs {
        name,
        lang,
        dir,
        sdk,
    } = args;
    let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
    // A project naming the registry's SDK, which is not published yet, would
    // not build, or would build against whatever someone publishes under its name.
    let Some(sdk) = sdk else {
        bail!(
            "give --sdk PATH: the SDK is not published on crates.io or npm yet. PATH is \
             the crate's folder (`cargo package -p crossdesk-sdk` in the Crossdesk \
             repository leaves it in target/package/) or an `npm pack` tarball of its \
             sdk/js (README, \"Writing your first plugin\")"
        );
    };
    let sdk = template::Sdk::Path(sdk);
    let language = match lang {
        Lang::Rust => Language::Rust,
        Lang::Js => Language::JavaScript,
    };
    for file in template::new_project(&dir, &name, language, &sdk)? {
        println!("created {}", file.display());
    }
    Ok(())
}

/// `plugin build`: the project built into a component, its path printed.
pub(crate) fn build(args: BuildArgs) -> Result<()> {
    let BuildArgs { dir, out } = args;
    let component = crossdesk_plugin_build::build(&dir, out.as_deref())?;
    println!("{}", component.display());
    Ok(())
}

/// `plugin run`: the plugin on one event, its actions printed as JSON.
pub(crate) async fn run(args: RunArgs) -> Result<()> {
    let RunArgs {
        file,
        event,
        settings,
        kv,
        kv_read,
        allow_hosts,
        private_hosts,
        timeout_ms,
        data_dir,
    } = args;
    let outbound = OutboundPolicy::standalone(&allow_hosts, &private_hosts)
        .map_err(|e| anyhow::anyhow!("--allow-host, --private-host: {e}"))?;
    let (runtime, limits) = standalone_runtime(timeout_ms, &data_dir)?;
    let plugin = runtime.load(&file).await?;
    let handled = |event: &pb::Event| {
        plugin
            .manifest
            .handles_event(&crossdesk_sidecar::runtime::plugin_event(event))
    };
    let event = match event {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            json::event_from_json(&text)?
        }
        // The first sample of a kind the plugin handles.
        None => {
            let samples = conformance::sample_events();
            let first = samples.iter().position(&handled).unwrap_or(0);
            samples
                .into_iter()
                .nth(first)
                .context("the conformance kit has no sample event")?
        }
    };
    if !handled(&event) {
        // As the host does: the plugin is not called.
        let kind = crossdesk_sidecar::runtime::PluginManifest::kind_of(
            &crossdesk_sidecar::runtime::plugin_event(&event),
        );
        eprintln!(
            "skipped: the manifest does not handle {kind} events (it handles: {})",
            plugin.manifest.event_names().join(", ")
        );
        let response = pb::HandleEventResponse {
            event_id: event.event_id,
            ..Default::default()
        };
        println!(
            "{}",
            json::to_json("crossdesk.v1.HandleEventResponse", &response)?
        );
        return Ok(());
    }
    let config = key_values(&settings)?;
    // Held to the plugin's declarations, as a tenant admin's settings are.
    crossdesk_sidecar::settings::validate(
        &plugin.manifest.settings,
        &config.iter().cloned().collect(),
    )?;
    let grant = Arc::new(Grant {
        of: Arc::new(crossdesk_sidecar::store::DataOf::tenant(&event.tenant_id)),
        plugin: plugin.manifest.name.clone(),
        limits,
        kv: if kv {
            Some(crossdesk_sidecar::store::Store::open(&data_dir)?)
        } else {
            None
        },
        settings: config,
        outbound,
        kv_read: if kv_read.is_empty() {
            None
        } else {
            Some(KvRead {
                store: crossdesk_sidecar::store::Store::open(&data_dir)?,
                plugins: kv_read,
            })
        },
        contact_history: None,
        isolation: Default::default(),
        warm: Default::default(),
    });
    let wit_event = Arc::new(crossdesk_sidecar::runtime::plugin_event(&event));
    match runtime.call(&plugin, &grant, &wit_event).await {
        Ok(actions) => {
            let response = pb::HandleEventResponse {
                event_id: event.event_id,
                actions,
                ..Default::default()
            };
            println!(
                "{}",
                json::to_json("crossdesk.v1.HandleEventResponse", &response)?
            );
            Ok(())
        }
        Err(failure) if failure.kind == FailureKind::Denied => bail!(
            "Denied: {} (`plugin run` grants nothing unasked: --kv grants storage, \
             --kv-read PLUGIN another plugin's, --allow-host HOST a host, \
             --private-host HOST its loopback or private address)",
            failure.message
        ),
        Err(failure) => bail!("{:?}: {}", failure.kind, failure.message),
    }
}

/// `plugin check`: the conformance report; exits non-zero when a rule fails.
pub(crate) async fn check(args: CheckArgs) -> Result<()> {
    let CheckArgs {
        file,
        events,
        settings,
        private_hosts,
        kv_read,
        timeout_ms,
        json: as_json,
        data_dir,
    } = args;
    // A mistyped host is the caller's error, not a rule the plugin broke.
    PrivateHosts::parse(&private_hosts).map_err(|e| anyhow::anyhow!("--private-host: {e}"))?;
    let (runtime, limits) = standalone_runtime(timeout_ms, &data_dir)?;
    let mut options = conformance::CheckOptions {
        settings: key_values(&settings)?,
        limits,
        private_hosts,
        kv_read,
        ..Default::default()
    };
    for path in events {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        options.events.push(
            json::event_from_json(&text)
                .with_context(|| format!("{} is not an event", path.display()))?,
        );
    }
    let report = conformance::check(&runtime, &file, &options, &data_dir).await;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&file, &report);
    }
    if !report.passed {
        std::process::exit(1);
    }
    Ok(())
}

/// `plugin inspect`: the manifest, for people.
pub(crate) async fn inspect(args: InspectArgs) -> Result<()> {
    let InspectArgs { file, data_dir } = args;
    let runtime = Runtime::alone(&Limits::default(), 4, &data_dir.join("compiled"))?;
    let plugin = runtime.load(&file).await?;
    let m = &plugin.manifest;
    println!("name:         {}", m.name);
    println!("version:      {}", m.version);
    println!("description:  {}", m.description);
    println!("digest:       sha256:{}", plugin.digest);
    println!("events:       {}", m.event_names().join(", "));
    println!("kv:           {}", m.wants_kv);
    println!("outbound:     {}", m.outbound_hosts.join(", "));
    println!("settings:     {}", m.declared_settings.join(", "));
    println!("cacheable:    {}", m.cacheable);
    println!(
        "contract:     crossdesk:plugin@{}",
        plugin.contract.version()
    );
    for d in &m.datasets {
        println!(
            "dataset:      {} ({}): {}",
            d.name,
            d.formats.join(", "),
            d.description
        );
    }
    for c in &m.commands {
        let tenant = if c.needs_tenant { ", for a tenant" } else { "" };
        println!("command:      {}{tenant}: {}", c.name, c.description);
    }
    Ok(())
}

/// `plugin keygen`: a new signing key.
pub(crate) fn keygen(args: KeygenArgs) -> Result<()> {
    let KeygenArgs { out } = args;
    write_secret_key(&out)
}

/// `plugin sign`: a component's detached signature.
pub(crate) fn sign(args: SignArgs) -> Result<()> {
    let SignArgs { file, key, out } = args;
    write_signature(&file, &key, out)
}

/// The sandbox for running a plugin file alone, without a server: default limits
/// but the deadline, its compiled plugins cached in `data_dir`.
fn standalone_runtime(timeout_ms: u64, data_dir: &std::path::Path) -> Result<(Runtime, Limits)> {
    let limits = Limits {
        timeout_ms,
        ..Limits::default()
    };
    let runtime = Runtime::alone(&limits, 4, &data_dir.join("compiled"))?;
    Ok((runtime, limits))
}

/// `--setting KEY=VALUE` arguments as pairs.
fn key_values(settings: &[String]) -> Result<Vec<(String, String)>> {
    settings
        .iter()
        .map(|setting| match setting.split_once('=') {
            Some((key, value)) => Ok((key.to_owned(), value.to_owned())),
            None => bail!("--setting takes KEY=VALUE, got '{setting}'"),
        })
        .collect()
}

/// `plugin check`'s report for people: one line per rule, a reason under a failure.
fn print_report(file: &std::path::Path, report: &conformance::Report) {
    println!(
        "{} ({})",
        file.display(),
        report.plugin.as_deref().unwrap_or("manifest not read")
    );
    for rule in conformance::Rule::ALL {
        let Some(finding) = report.findings.iter().find(|f| f.rule == rule.id()) else {
            continue;
        };
        let verdict = match finding.verdict {
            conformance::Verdict::Passed => "pass",
            conformance::Verdict::Failed => "FAIL",
            conformance::Verdict::NotChecked => "-   ",
        };
        println!("  {verdict}  {:<13} {}", rule.id(), rule.asks());
        if !finding.detail.is_empty() {
            println!("        {:<13} {}", "", finding.detail);
        }
    }
    println!(
        "{}",
        if report.passed {
            "conformant"
        } else {
            "NOT conformant"
        }
    );
}

/// A new secret key in `out` (created, readable by its owner only).
fn write_secret_key(out: &std::path::Path) -> Result<()> {
    use crate::files::{Existing, Readers, write_whole};
    let secret = crossdesk_sidecar::signing::generate_secret_key()?;
    let public = crossdesk_sidecar::signing::public_key_of(&secret)?;
    let id = crossdesk_sidecar::signing::key_id(&public)?;
    // Never over a key: the plugins it signed would no longer verify.
    write_whole(
        out,
        format!("{secret}\n").as_bytes(),
        Existing::Keep,
        Readers::Owner,
    )?;
    eprintln!("secret key written to {} (keep it private)", out.display());
    println!("public key: {public}");
    println!("key id:     {id}");
    Ok(())
}

/// The detached signature of `file` by the secret key in `key`, written to `out`
/// (default: next to `file`, where `admin plugins install` looks for it).
fn write_signature(
    file: &std::path::Path,
    key: &std::path::Path,
    out: Option<PathBuf>,
) -> Result<()> {
    let component =
        std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let secret =
        std::fs::read_to_string(key).with_context(|| format!("cannot read {}", key.display()))?;
    let signature = crossdesk_sidecar::signing::sign(secret.trim(), &component)?;
    let id = crossdesk_sidecar::signing::key_id(&crossdesk_sidecar::signing::public_key_of(
        secret.trim(),
    )?)?;
    let out = out.unwrap_or_else(|| crate::admin_cli::signature_path(file));
    crate::files::write_whole(
        &out,
        format!("{signature}\n").as_bytes(),
        crate::files::Existing::Replace,
        crate::files::Readers::Usual,
    )?;
    println!("signed {} with key {id}: {}", file.display(), out.display());
    Ok(())
}
