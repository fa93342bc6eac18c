//! `crossdesk plugin exec` and `crossdesk plugin import`: what a plugin offers
//! admins, run through one generic path. The command line is parsed against the
//! parameters the plugin declares in its manifest, input files are read and
//! handed over, the plugin runs in the sandbox (for a tenant: with its grant),
//! and the files it returns are written only where the admin pointed (a path
//! given for an output parameter, a plain file name in the output folder or the
//! working folder) — never where the plugin alone chose.
//!
//! The spellings of earlier releases (`crossdesk translation import-tmx`,
//! `recommend import-catalog`, `schedule erlang|plan|generate|roster ...`) are
//! thin aliases onto this path. `crossdesk contacts import` loads the host's own
//! contact history.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Arg, ArgAction};

use crossdesk_sidecar::config::Config;
use crossdesk_sidecar::runtime::{
    CommandInput, CommandOutput, CommandSpec, LoadedPlugin, OutputFile, ParamKind, Runtime,
};
use crossdesk_sidecar::store::{ContactCount, Store};
use crossdesk_sidecar::tools;

/// Where a tool runs: the tenant, and the sidecar's configuration and data.
/// These options are the host's; they may appear anywhere on the command line.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct Scope {
    /// The tenant the command or import is for (with its grant and settings).
    #[arg(long)]
    tenant: Option<String>,
    /// The sidecar's configuration (default: the embedded one).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Overrides the configuration's `data_dir` (its SQLite store).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Overrides the configuration's `plugin_dir`.
    #[arg(long, value_name = "DIR")]
    plugin_dir: Option<PathBuf>,
}

/// The host options found among a command's arguments, which keep the rest.
const SCOPE_OPTIONS: &[&str] = &[
    "--tenant",
    "--config",
    "--data-dir",
    "--plugin-dir",
    "--plugin",
];

impl Scope {
    /// Takes the host's options (`--tenant T`, `--tenant=T`, ...) out of `args`;
    /// `--plugin NAME` (the aliases' installed name) is returned apart.
    fn take_from(&mut self, args: &mut Vec<String>) -> Result<Option<String>> {
        let mut plugin = None;
        let mut rest = Vec::with_capacity(args.len());
        let mut iter = std::mem::take(args).into_iter();
        while let Some(arg) = iter.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (arg.clone(), None),
            };
            if !SCOPE_OPTIONS.contains(&name.as_str()) {
                rest.push(arg);
                continue;
            }
            let value = match inline {
                Some(value) => value,
                None => iter
                    .next()
                    .with_context(|| format!("{name} needs a value"))?,
            };
            match name.as_str() {
                "--tenant" => self.tenant = Some(value),
                "--config" => self.config = Some(value.into()),
                "--data-dir" => self.data_dir = Some(value.into()),
                "--plugin-dir" => self.plugin_dir = Some(value.into()),
                _ => plugin = Some(value),
            }
        }
        *args = rest;
        Ok(plugin)
    }

    fn load_config(&self) -> Result<Config> {
        let mut config = Config::load(self.config.as_deref())?;
        if let Some(dir) = &self.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(dir) = &self.plugin_dir {
            config.plugin_dir = dir.clone();
        }
        Ok(config)
    }

    fn tenant(&self) -> Result<&str> {
        self.tenant
            .as_deref()
            .context("give the tenant: --tenant TENANT")
    }

    /// The sidecar a tool of `plugin` runs on, and the name `plugin` is installed
    /// under there. Without `--config`, a component path (`.wasm`) runs alone: a
    /// sidecar of that one plugin, the tenant granted its storage (kept in
    /// `--data-dir`, `.crossdesk` by default, as `plugin run` keeps it), so that
    /// an author tries imports and commands with nothing but the component.
    async fn sidecar_for(&self, plugin: &str) -> Result<(Arc<crossdesk_sidecar::Sidecar>, String)> {
        let (config, name) = if self.config.is_none() && plugin.ends_with(".wasm") {
            let (mut config, name) = Config::of_one_plugin(Path::new(plugin), self.tenant()?)?;
            if let Some(dir) = &self.data_dir {
                config.data_dir = dir.clone();
            }
            (config, name)
        } else {
            (self.load_config()?, plugin.to_owned())
        };
        let sidecar = crossdesk_sidecar::Sidecar::build_tool(&config)
            .await
            .context("cannot start the sidecar's runtime and store")?;
        Ok((sidecar, name))
    }

    async fn store(&self) -> Result<Store> {
        let config = self.load_config()?;
        let url = config.storage.resolve_url()?;
        Ok(Store::connect(
            url.as_deref(),
            config.storage.ca_file.as_deref(),
            &config.data_dir,
        )
        .await?)
    }
}

/// `crossdesk plugin exec`.
#[derive(clap::Args)]
pub(crate) struct ExecArgs {
    #[command(flatten)]
    scope: Scope,
    /// The plugin: its installed name, or the path of a component (`.wasm`;
    /// with `--tenant` and no `--config`, it runs alone, the tenant granted its
    /// storage).
    plugin: String,
    /// The command and its arguments (`crossdesk plugin exec PLUGIN COMMAND --help`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// `crossdesk plugin import`.
#[derive(clap::Args)]
pub(crate) struct ImportArgs {
    #[command(flatten)]
    scope: Scope,
    /// The plugin's installed name; without `--config`, also the path of a
    /// component (`.wasm`), which then runs alone with the tenant granted its
    /// storage.
    plugin: String,
    /// The dataset, as the plugin names it (`crossdesk plugin inspect` lists them).
    dataset: String,
    /// The file to import.
    file: PathBuf,
    /// A format the dataset is read as (`crossdesk plugin inspect` lists them;
    /// default: the file's extension, `json` for a file without one).
    #[arg(long)]
    format: Option<String>,
}

/// The format a file's extension names (`roster.csv`: `csv`, `catalog.XML`:
/// `xml`); `json` for a file without one. The plugin refuses a format it does
/// not read, naming those it does.
pub(crate) fn format_of(path: &Path) -> String {
    path.extension()
        .and_then(|ext| ext.to_str())
        .map_or_else(|| "json".to_owned(), str::to_ascii_lowercase)
}

pub(crate) async fn exec(mut args: ExecArgs) -> Result<()> {
    if let Some(installed) = args.scope.take_from(&mut args.args)? {
        bail!(
            "--plugin names the plugin for `crossdesk translation|schedule|recommend`; \
             with `plugin exec` the plugin is the first argument (got --plugin {installed} \
             after {})",
            args.plugin
        );
    }
    run_command(&args.scope, &args.plugin, args.args).await
}

pub(crate) async fn import(mut args: ImportArgs) -> Result<()> {
    let format = args.format.take().unwrap_or_else(|| format_of(&args.file));
    import_dataset(
        &args.scope,
        &args.plugin,
        &args.dataset,
        &format,
        &args.file,
    )
    .await
}

/// The spellings of earlier releases, onto `plugin exec` and `plugin import`:
/// `translation ...`, `recommend import-catalog|import-kb ...` and `schedule ...`.
pub(crate) async fn alias(plugin: &str, mut args: Vec<String>) -> Result<()> {
    let mut scope = Scope::default();
    let installed = scope.take_from(&mut args)?;
    let name = installed.as_deref().unwrap_or(plugin);
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match (plugin, words.as_slice()) {
        ("recommend", ["import-catalog", file]) => {
            let file = Path::new(file);
            import_dataset(&scope, name, "catalog", &format_of(file), file).await
        }
        ("recommend", ["import-kb", file]) => {
            let file = Path::new(file);
            import_dataset(&scope, name, "knowledge-base", &format_of(file), file).await
        }
        ("schedule", ["roster", "import", file]) => {
            let file = Path::new(file);
            import_dataset(&scope, name, "roster", &format_of(file), file).await
        }
        ("schedule", ["roster", "show"]) => {
            run_command(&scope, name, vec!["roster-show".into()]).await
        }
        ("schedule", ["import-history", file]) => import_contacts(&scope, Path::new(file)).await,
        _ => {
            // `-o FILE` was the short form of `--output FILE`.
            let args = args
                .into_iter()
                .map(|a| if a == "-o" { "--output".into() } else { a })
                .collect();
            run_command(&scope, name, args).await
        }
    }
}

/// `crossdesk contacts import`: adds a CSV of contact counts to the tenant's
/// history (e.g. a helpdesk export); the sidecar records live events itself.
#[derive(clap::Args)]
pub(crate) struct ContactsImportArgs {
    #[command(flatten)]
    scope: Scope,
    /// CSV with the header `bucket_start,language,channel,arrivals,handled,handle_secs`.
    file: PathBuf,
}

pub(crate) async fn contacts_import(args: ContactsImportArgs) -> Result<()> {
    import_contacts(&args.scope, &args.file).await
}

/// One row of a contact history file.
#[derive(serde::Deserialize)]
struct ContactRow {
    /// RFC 3339, e.g. `2026-11-02T09:15:00Z`.
    bucket_start: jiff::Timestamp,
    language: String,
    channel: String,
    arrivals: u64,
    handled: u64,
    handle_secs: f64,
}

async fn import_contacts(scope: &Scope, file: &Path) -> Result<()> {
    let tenant = scope.tenant()?;
    let mut reader =
        csv::Reader::from_path(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut counts = Vec::new();
    for (i, row) in reader.deserialize::<ContactRow>().enumerate() {
        let row = row.with_context(|| format!("{} row {}", file.display(), i + 2))?;
        if !row.handle_secs.is_finite() || row.handle_secs < 0.0 {
            bail!(
                "{} row {}: handle_secs must be a non-negative number",
                file.display(),
                i + 2
            );
        }
        counts.push(ContactCount {
            bucket_start_s: row.bucket_start.as_second(),
            language: row.language,
            channel: row.channel,
            arrivals: row.arrivals,
            handled: row.handled,
            handle_secs: row.handle_secs,
        });
    }
    let rows = counts.len();
    let arrivals = counts
        .iter()
        .try_fold(0u64, |sum, c| sum.checked_add(c.arrivals))
        .context("the arrivals do not fit a 64-bit count")?;
    // Unchecked, as imports are: the operator names the tenant.
    let of = crossdesk_sidecar::store::DataOf::tenant(tenant);
    scope.store().await?.add_contacts(&of, counts).await?;
    println!("{rows} history row(s), {arrivals} arrival(s) added for tenant '{tenant}'");
    Ok(())
}

async fn import_dataset(
    scope: &Scope,
    plugin: &str,
    dataset: &str,
    format: &str,
    file: &Path,
) -> Result<()> {
    let tenant = scope.tenant()?;
    let content = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (sidecar, plugin) = scope.sidecar_for(plugin).await?;
    let imported = sidecar
        .import_dataset("cli", tenant, &plugin, dataset, format, &content)
        .await
        .with_context(|| file.display().to_string())?;
    println!(
        "{dataset} of tenant '{tenant}' imported: {} (replacing {} entries)",
        imported.summary, imported.replaced
    );
    Ok(())
}

/// Runs `args[0]` of `plugin` with the rest of `args`, prints its text and writes
/// its files.
async fn run_command(scope: &Scope, plugin: &str, args: Vec<String>) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        bail!("name a command: crossdesk plugin exec {plugin} COMMAND [ARGS]");
    };
    if is_help(command) {
        return print_commands(scope, plugin).await;
    }
    let (output, parsed) = match scope.tenant.as_deref() {
        Some(tenant) => {
            let (sidecar, plugin) = scope.sidecar_for(plugin).await?;
            let plugin = plugin.as_str();
            let loaded = sidecar.installed_plugin(plugin)?;
            let spec = tools::command_spec(&loaded, plugin, command)?;
            let parsed = parse(plugin, spec, rest)?;
            let output = sidecar
                .run_command(Some(tenant), plugin, command, parsed.input.clone())
                .await
                .with_context(|| parsed.describe(plugin, command))?;
            (output, parsed)
        }
        None => run_standalone(scope, plugin, command, rest).await?,
    };
    print!("{}", output.text);
    write_files(&parsed, output.files)
}

fn is_help(arg: &str) -> bool {
    matches!(arg, "-h" | "--help")
}

/// `crossdesk plugin exec PLUGIN --help`: the commands the plugin offers.
async fn print_commands(scope: &Scope, plugin: &str) -> Result<()> {
    let commands = match scope.tenant {
        Some(_) => {
            let (sidecar, plugin) = scope.sidecar_for(plugin).await?;
            sidecar.installed_plugin(&plugin)?.manifest.commands.clone()
        }
        None => load_alone(scope, plugin).await?.1.manifest.commands.clone(),
    };
    if commands.is_empty() {
        println!("plugin '{plugin}' offers no commands");
        return Ok(());
    }
    println!("Commands of plugin '{plugin}' (`crossdesk plugin exec {plugin} COMMAND --help`):");
    let width = commands.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for command in commands {
        let tenant = if command.needs_tenant {
            " (with --tenant)"
        } else {
            ""
        };
        println!(
            "  {:<width$}  {}{tenant}",
            command.name, command.description
        );
    }
    Ok(())
}

/// The plugin without a sidecar: from the configuration's `[[plugins]]`, or a
/// component path.
async fn load_alone(scope: &Scope, plugin: &str) -> Result<(Config, LoadedPlugin, Runtime)> {
    let config = scope.load_config()?;
    let path = if plugin.ends_with(".wasm") {
        PathBuf::from(plugin)
    } else {
        let source = config
            .plugins
            .iter()
            .find(|p| p.name == plugin)
            .with_context(|| {
                format!(
                    "no plugin '{plugin}' in the configuration's [[plugins]] \
                     (give a component's path, or --tenant for an installed one)"
                )
            })?;
        config.plugin_dir.join(&source.path)
    };
    let runtime = Runtime::alone(&config.max_limits(), 2, &config.compiled_dir())?;
    let loaded = runtime.load(&path).await?;
    Ok((config, loaded, runtime))
}

/// A command that needs no tenant runs with nothing granted, without a store
/// (see [`load_alone`]); so does the help of any command.
async fn run_standalone(
    scope: &Scope,
    plugin: &str,
    command: &str,
    rest: &[String],
) -> Result<(CommandOutput, Parsed)> {
    let (config, loaded, runtime) = load_alone(scope, plugin).await?;
    let spec = if rest.iter().any(|arg| is_help(arg)) {
        // Printed by `parse`, which exits: nothing runs.
        tools::command_spec(&loaded, plugin, command)?
    } else {
        tools::tenantless_spec(&loaded, plugin, command)?
    };
    let parsed = parse(plugin, spec, rest)?;
    let output = tools::run_tenantless(
        &runtime,
        &loaded,
        plugin,
        command,
        &parsed.input,
        config.limits,
    )
    .await
    .with_context(|| parsed.describe(plugin, command))?;
    Ok((output, parsed))
}

/// A command line parsed against a command's parameters.
struct Parsed {
    input: CommandInput,
    /// The input files' paths as given, to name them in errors.
    input_paths: Vec<String>,
    /// The command's output-file parameters, by name: a file the plugin returns
    /// must be for one of them (or for the output folder).
    output_params: Vec<String>,
    /// Paths the admin gave for output-file parameters, by parameter name.
    output_files: Vec<(String, PathBuf)>,
    /// The output folder, when the command has one and it was given.
    output_dir: Option<PathBuf>,
}

impl Parsed {
    /// What ran, on which files: the context of a command's error.
    fn describe(&self, plugin: &str, command: &str) -> String {
        match self.input_paths.as_slice() {
            [] => format!("{plugin} {command}"),
            paths => format!("{plugin} {command} on {}", paths.join(", ")),
        }
    }
}

/// Parses `args` against `spec` (with clap, so `--help` and errors look like the
/// rest of the CLI) and reads the input files.
fn parse(plugin: &str, spec: &CommandSpec, args: &[String]) -> Result<Parsed> {
    let mut command = clap::Command::new(format!("crossdesk plugin exec {plugin} {}", spec.name))
        .about(spec.description.clone())
        .no_binary_name(true);
    for param in &spec.params {
        let mut arg = Arg::new(param.name.clone()).help(param.help.clone());
        if !param.positional {
            arg = arg.long(param.name.clone());
        }
        arg = match param.kind {
            ParamKind::Flag => arg.action(ArgAction::SetTrue),
            _ if param.repeated => arg.action(ArgAction::Append),
            _ => arg.action(ArgAction::Set),
        };
        if param.required {
            arg = arg.required(true);
        }
        if let Some(default) = &param.default_value {
            arg = arg.default_value(default.clone());
        }
        command = command.arg(arg);
    }
    let matches = match command.try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(e) if !e.use_stderr() => e.exit(), // --help
        Err(e) => bail!("{}", e.render().to_string().trim_end()),
    };
    let mut parsed = Parsed {
        input: CommandInput {
            tenant: None,
            values: Vec::new(),
            files: Vec::new(),
        },
        input_paths: Vec::new(),
        output_params: spec
            .params
            .iter()
            .filter(|p| p.kind == ParamKind::OutputFile)
            .map(|p| p.name.clone())
            .collect(),
        output_files: Vec::new(),
        output_dir: None,
    };
    for param in &spec.params {
        let name = param.name.as_str();
        if param.kind == ParamKind::Flag {
            if matches.get_flag(name) {
                parsed.input.values.push((name.to_owned(), "true".into()));
            }
            continue;
        }
        let values: Vec<String> = matches
            .get_many::<String>(name)
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
        for value in values {
            match param.kind {
                ParamKind::Flag | ParamKind::Value => {
                    parsed.input.values.push((name.to_owned(), value));
                }
                ParamKind::InputFile => {
                    let content = std::fs::read(&value)
                        .with_context(|| format!("--{name}: cannot read {value}"))?;
                    parsed.input.files.push((name.to_owned(), content));
                    parsed.input_paths.push(value);
                }
                // The plugin is told the parameter was given (with the path, which
                // it need not read): a command may print what it would otherwise
                // write, as a pipeline expects, when no file is asked for.
                ParamKind::OutputFile => {
                    parsed.input.values.push((name.to_owned(), value.clone()));
                    parsed.output_files.push((name.to_owned(), value.into()));
                }
                ParamKind::OutputDir => {
                    parsed.input.values.push((name.to_owned(), value.clone()));
                    parsed.output_dir = Some(value.into());
                }
            }
        }
    }
    Ok(parsed)
}

/// Writes a command's files where the admin pointed: the path given for its
/// output-file parameter, else its plain name in the working folder; files for
/// the output folder go there.
fn write_files(parsed: &Parsed, files: Vec<OutputFile>) -> Result<()> {
    for file in files {
        let path = if file.param.is_empty() {
            let dir = parsed
                .output_dir
                .as_ref()
                .context("the plugin returned a file for an output folder none was given for")?;
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir.join(plain_name(&file.name)?)
        } else {
            if !parsed.output_params.contains(&file.param) {
                bail!(
                    "the plugin returned a file for '{}', which is no output-file parameter \
                     of the command",
                    file.param
                );
            }
            match parsed.output_files.iter().find(|(p, _)| *p == file.param) {
                Some((_, path)) => path.clone(),
                None => PathBuf::from(plain_name(&file.name)?),
            }
        };
        // The admin named the path, or chose the folder: replaced whole.
        crate::files::write_whole(
            &path,
            &file.content,
            crate::files::Existing::Replace,
            crate::files::Readers::Usual,
        )?;
        let label = if file.param.is_empty() {
            "wrote"
        } else {
            file.param.as_str()
        };
        eprintln!("{label}: {}", path.display());
    }
    Ok(())
}

/// A file name the plugin chose, accepted only as a plain name: no folder, no
/// `..`, not hidden.
pub(crate) fn plain_name(name: &str) -> Result<&str> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && Path::new(name).file_name().is_some_and(|n| n == name);
    if !plain {
        bail!("the plugin named an output file {name:?}, which is not a plain file name");
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_options_are_taken_from_anywhere() {
        let mut scope = Scope::default();
        let mut args: Vec<String> = [
            "plan",
            "--tenant",
            "acme",
            "--week=2026-12-07",
            "--data-dir=/d",
            "--plugin",
            "sched",
        ]
        .map(String::from)
        .to_vec();
        let plugin = scope.take_from(&mut args).expect("parsed");
        assert_eq!(args, ["plan", "--week=2026-12-07"]);
        assert_eq!(scope.tenant.as_deref(), Some("acme"));
        assert_eq!(scope.data_dir.as_deref(), Some(Path::new("/d")));
        assert_eq!(plugin.as_deref(), Some("sched"));
        let mut missing = vec!["--tenant".to_owned()];
        assert!(Scope::default().take_from(&mut missing).is_err());
    }

    #[test]
    fn plugins_choose_plain_file_names_only() {
        assert_eq!(plain_name("plan.svg").expect("plain"), "plan.svg");
        for bad in ["", "../x", "a/b", "/etc/passwd", ".hidden", "..", "a\\b"] {
            assert!(plain_name(bad).is_err(), "{bad}");
        }
    }
}
