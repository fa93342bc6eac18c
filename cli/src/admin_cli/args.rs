//! The command line of `crossdesk admin`: its subcommands, options and their help
//! (clap), apart from what they do (`mod.rs`) and how answers are shown (`text`).

use std::path::PathBuf;

use clap::{ArgAction, Args, Subcommand};

use crossdesk_proto::pb;

/// Arguments of `crossdesk admin`.
#[derive(Args)]
pub(crate) struct AdminArgs {
    #[command(flatten)]
    pub(super) connection: Connection,
    /// Print responses as proto3 JSON instead of text.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub(super) json: bool,
    #[command(subcommand)]
    pub(super) command: AdminCommand,
}

/// The help heading of the options every `admin` command takes.
const GLOBAL: &str = "Global options";

/// How to reach and authenticate to the admin API.
#[derive(Args)]
#[command(next_help_heading = GLOBAL)]
pub(super) struct Connection {
    /// The admin API's address (`listen` of the server's `[admin]`); `https://` is
    /// assumed when a TLS option is given.
    #[arg(
        long,
        global = true,
        value_name = "HOST:PORT",
        env = "CROSSDESK_ADMIN_ADDR",
        default_value = "127.0.0.1:50052"
    )]
    pub(super) addr: String,
    /// An admin's bearer token (`[[admin.users]]` of the server). Prefer the
    /// environment variable: arguments show in `ps` and shell history.
    #[arg(
        long,
        global = true,
        value_name = "TOKEN",
        env = "CROSSDESK_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub(super) token: Option<String>,
    #[command(flatten)]
    pub(super) tls: crate::grpc_client::TlsArgs,
}

#[derive(Subcommand)]
pub(super) enum AdminCommand {
    /// Create, inspect, suspend, resume and delete tenants; set their quotas.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// A tenant's pipeline: enable, disable, configure, order and detach plugins.
    Pipeline {
        #[command(subcommand)]
        command: PipelineCommand,
    },
    /// Secret headers a tenant's plugin sends to one of its allowed hosts
    /// (write-only: no command shows a value).
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
    /// The plugins installed on the server: install or upgrade, list, show, roll
    /// back, remove.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// Replace a dataset of a tenant's plugin with a file, checked whole first:
    /// the schedule plugin's `roster`, the recommend plugin's `catalog` or
    /// `knowledge-base`, read in the format the file's extension names.
    ImportData(ImportDataArgs),
    /// Run a command a tenant's plugin offers, on the server (what `crossdesk plugin
    /// exec` runs locally): `--set NAME=VALUE` per parameter, `--file NAME=PATH` per
    /// input file; output files are written to the working folder.
    Command(CommandArgs),
    /// Show the audit log of changes, newest first.
    Audit(AuditArgs),
    /// A tenant's report: volume, satisfaction, resolution and response times,
    /// sliced by country, language, channel, category or group (also `crossdesk
    /// report`).
    Report(super::report::ReportArgs),
    /// A customer's data in the reports: export or erase it (data-subject
    /// requests).
    Customer {
        #[command(subcommand)]
        command: super::report::CustomerCommand,
    },
}

/// `crossdesk report`: the connection options and the report's.
#[derive(Args)]
pub(crate) struct ReportCommandArgs {
    #[command(flatten)]
    pub(super) connection: Connection,
    #[command(flatten)]
    pub(super) report: super::report::ReportArgs,
}

#[derive(Args)]
pub(super) struct ImportDataArgs {
    #[arg(long)]
    pub(super) tenant: String,
    /// The plugin's installed name in the tenant's pipeline.
    #[arg(long)]
    pub(super) plugin: String,
    /// `roster`, `catalog` or `knowledge-base`.
    #[arg(long)]
    pub(super) dataset: String,
    /// The file to import.
    pub(super) file: PathBuf,
    /// A format the dataset is read as (`crossdesk plugin inspect` lists them;
    /// default: the file's extension, `json` for a file without one).
    #[arg(long)]
    pub(super) format: Option<String>,
}

#[derive(Args)]
pub(super) struct CommandArgs {
    #[arg(long)]
    pub(super) tenant: String,
    /// The plugin's installed name in the tenant's pipeline.
    pub(super) plugin: String,
    /// The command (`unknown-words`, `accept-word`, `languages` …).
    pub(super) command: String,
    /// A parameter's value, `NAME=VALUE` (repeat for each).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub(super) values: Vec<(String, String)>,
    /// An input file, `NAME=PATH`.
    #[arg(long = "file", value_name = "NAME=PATH", value_parser = parse_key_value)]
    pub(super) files: Vec<(String, String)>,
}

/// Optimistic concurrency for changes to a tenant.
#[derive(Args)]
pub(super) struct Revision {
    /// Fail with `Aborted` unless the tenant is still at this revision (as shown
    /// by `admin tenant show`), instead of overwriting a concurrent change.
    #[arg(long, value_name = "N")]
    pub(super) expected_revision: Option<u64>,
}

impl Revision {
    pub(super) fn value(&self) -> u64 {
        self.expected_revision.unwrap_or(0)
    }
}

#[derive(Subcommand)]
pub(super) enum TenantCommand {
    /// Create a tenant with an empty pipeline.
    Create {
        /// The tenant's id, as events carry it.
        id: String,
    },
    /// List the tenants this admin manages.
    List,
    /// Show a tenant: revision, quota, plugins in order with their grants.
    Show {
        /// The tenant's id.
        id: String,
    },
    /// Refuse the tenant's events (with FAILED_PRECONDITION) until resumed.
    Suspend {
        /// The tenant's id.
        id: String,
        #[command(flatten)]
        revision: Revision,
    },
    /// Accept a suspended tenant's events again.
    Resume {
        /// The tenant's id.
        id: String,
        #[command(flatten)]
        revision: Revision,
    },
    /// Delete a tenant with its secrets and its plugins' stored data (an admin of
    /// every tenant only).
    Delete {
        /// The tenant's id.
        id: String,
    },
    /// Replace the tenant's own inquiry categories with those of a JSON file:
    /// `[{"name": "returns", "keywords": {"es": ["devolver"], "*": ["refund"]}}]`.
    Categories {
        /// The tenant's id.
        id: String,
        /// The JSON file (an empty list removes them all).
        file: PathBuf,
        #[command(flatten)]
        revision: Revision,
    },
    /// Set when the tenant's team works (first replies outside count as after hours
    /// in the reports), or clear it.
    Hours {
        /// The tenant's id.
        id: String,
        /// IANA time zone, e.g. Asia/Shanghai.
        #[arg(long, required_unless_present = "clear")]
        time_zone: Option<String>,
        /// Opening time, HH:MM local.
        #[arg(long, required_unless_present = "clear")]
        open: Option<String>,
        /// Closing time, HH:MM local.
        #[arg(long, required_unless_present = "clear")]
        close: Option<String>,
        /// Working days, comma-separated (mon … sun); default Monday to Friday.
        #[arg(long, value_delimiter = ',')]
        days: Vec<String>,
        /// Remove the tenant's business hours.
        #[arg(long, conflicts_with_all = ["time_zone", "open", "close", "days"])]
        clear: bool,
        #[command(flatten)]
        revision: Revision,
    },
    /// Require a fresh instance per call for every plugin of the tenant (`event`),
    /// or let each grant decide (`tenant`; only an admin of every tenant may lift
    /// `event`).
    Isolation {
        /// The tenant's id.
        id: String,
        #[arg(value_name = "tenant|event", value_parser = parse_isolation)]
        isolation: pb::Isolation,
        #[command(flatten)]
        revision: Revision,
    },
    /// Set the tenant's quota; a limit not given returns to the server's default.
    Quota {
        /// The tenant's id.
        id: String,
        /// Events of the tenant processed at once.
        #[arg(long, value_name = "N")]
        max_in_flight: Option<u32>,
        /// Sustained events per second.
        #[arg(long, value_name = "N")]
        events_per_second: Option<u32>,
        /// Events accepted in a burst above the sustained rate.
        #[arg(long, value_name = "N")]
        burst: Option<u32>,
        #[command(flatten)]
        revision: Revision,
    },
}

#[derive(Subcommand)]
pub(super) enum PipelineCommand {
    /// Enable a plugin for a tenant (added at the end of the pipeline when it is
    /// not in it yet).
    Enable {
        /// The tenant's id.
        tenant: String,
        /// The plugin's installed name.
        plugin: String,
        #[command(flatten)]
        revision: Revision,
    },
    /// Keep a plugin in the tenant's pipeline but stop running it.
    Disable {
        /// The tenant's id.
        tenant: String,
        /// The plugin's installed name.
        plugin: String,
        #[command(flatten)]
        revision: Revision,
    },
    /// Change how a plugin runs for a tenant (adding it, enabled, when it is not in
    /// the pipeline yet); options not given keep their current value.
    Configure(ConfigureArgs),
    /// Take a plugin out of the tenant's pipeline, with its secrets.
    Detach {
        /// The tenant's id.
        tenant: String,
        /// The plugin's installed name.
        plugin: String,
        #[command(flatten)]
        revision: Revision,
    },
    /// Set the order the tenant's plugins run in.
    Order {
        /// The tenant's id.
        tenant: String,
        /// Every plugin of the pipeline, once, in the new order.
        #[arg(required_unless_present = "event_kind")]
        plugins: Vec<String>,
        /// Set the order for this kind of event only: the contract's name
        /// (`customer-message`, `agent-reply-drafted`, `ticket-solved` …) or a
        /// custom kind as events name it; with no plugins, that kind returns to
        /// the default order.
        #[arg(long, value_name = "KIND")]
        event_kind: Option<String>,
        #[command(flatten)]
        revision: Revision,
    },
}

/// `admin pipeline configure`.
#[derive(Args)]
pub(super) struct ConfigureArgs {
    /// The tenant's id.
    pub(super) tenant: String,
    /// The plugin's installed name.
    pub(super) plugin: String,
    /// Set a setting (checked against the plugin's declared settings); repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub(super) set: Vec<(String, String)>,
    /// Remove a setting; repeatable.
    #[arg(long = "unset", value_name = "KEY")]
    pub(super) unset: Vec<String>,
    /// Allow outbound HTTP to this host (`api.example.com`, `*.example.com`,
    /// `host:port`); repeatable. When given, the list replaces the allowed hosts.
    #[arg(long = "allow-host", value_name = "HOST", conflicts_with = "no_hosts")]
    pub(super) allow_hosts: Vec<String>,
    /// Remove every allowed host.
    #[arg(long)]
    pub(super) no_hosts: bool,
    /// Let the plugin read (not write) the storage of another plugin of the
    /// tenant, as keys `@PLUGIN/...`; repeatable. When given, the list replaces
    /// the current one.
    #[arg(
        long = "read-kv-of",
        value_name = "PLUGIN",
        conflicts_with = "no_kv_read"
    )]
    pub(super) kv_read: Vec<String>,
    /// Remove every read access to other plugins' storage.
    #[arg(long)]
    pub(super) no_kv_read: bool,
    /// Grant (true) or revoke (false) key-value storage.
    #[arg(long, value_name = "true|false", action = ArgAction::Set)]
    pub(super) kv: Option<bool>,
    /// Whether a failure of this plugin fails the whole event (true) or is only
    /// reported (false).
    #[arg(long, value_name = "true|false", action = ArgAction::Set)]
    pub(super) fail_closed: Option<bool>,
    /// `tenant`: instances are kept warm across the tenant's events; `event`: a
    /// fresh instance per call (an admin of some tenants may require it, only an
    /// operator lift it).
    #[arg(long, value_name = "tenant|event", value_parser = parse_isolation)]
    pub(super) isolation: Option<pb::Isolation>,
    /// Clear the plugin's limit overrides (back to the server's limits) before
    /// applying the limit options given. Without it, the options given change the
    /// grant's current limits, the others kept: from an admin of every tenant, all
    /// of them then become the operator's, also those a tenant's admin had lowered.
    #[arg(long)]
    pub(super) reset_limits: bool,
    #[command(flatten)]
    pub(super) limits: LimitArgs,
    #[command(flatten)]
    pub(super) revision: Revision,
}

/// Per-plugin limit overrides; those not given keep their current value.
#[derive(Args)]
pub(super) struct LimitArgs {
    /// Deadline of one call, in milliseconds.
    #[arg(long, value_name = "N")]
    pub(super) timeout_ms: Option<u64>,
    /// Linear memory of one instance, in bytes.
    #[arg(long, value_name = "N")]
    pub(super) max_memory_bytes: Option<u64>,
    /// Table elements of one instance.
    #[arg(long, value_name = "N")]
    pub(super) max_table_elements: Option<u32>,
    /// Instances of the plugin at once.
    #[arg(long, value_name = "N")]
    pub(super) max_instances: Option<u32>,
    /// Size of one call's output, in bytes.
    #[arg(long, value_name = "N")]
    pub(super) max_output_bytes: Option<u64>,
    /// Size of one outbound HTTP response, in bytes.
    #[arg(long, value_name = "N")]
    pub(super) max_http_response_bytes: Option<u64>,
    /// Log lines kept per call.
    #[arg(long, value_name = "N")]
    pub(super) max_log_lines: Option<u32>,
    /// Time one outbound HTTP request may take, in milliseconds (0: the call's deadline).
    #[arg(long, value_name = "MS")]
    pub(super) http_timeout_ms: Option<u64>,
}

impl LimitArgs {
    pub(super) fn any(&self) -> bool {
        self.timeout_ms.is_some()
            || self.max_memory_bytes.is_some()
            || self.max_table_elements.is_some()
            || self.max_instances.is_some()
            || self.max_output_bytes.is_some()
            || self.max_http_response_bytes.is_some()
            || self.max_log_lines.is_some()
            || self.http_timeout_ms.is_some()
    }

    /// `base` with the limits given here replacing its values.
    pub(super) fn over(&self, base: pb::LimitOverrides) -> pb::LimitOverrides {
        pb::LimitOverrides {
            timeout_ms: self.timeout_ms.or(base.timeout_ms),
            max_memory_bytes: self.max_memory_bytes.or(base.max_memory_bytes),
            max_table_elements: self.max_table_elements.or(base.max_table_elements),
            max_instances: self.max_instances.or(base.max_instances),
            max_output_bytes: self.max_output_bytes.or(base.max_output_bytes),
            max_http_response_bytes: self
                .max_http_response_bytes
                .or(base.max_http_response_bytes),
            max_log_lines: self.max_log_lines.or(base.max_log_lines),
            http_timeout_ms: self.http_timeout_ms.or(base.http_timeout_ms),
        }
    }
}

pub(super) fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got '{text}'")),
    }
}

/// Which secret: a header a tenant's plugin sends to a host.
#[derive(Args)]
pub(super) struct SecretTarget {
    /// The tenant's id.
    pub(super) tenant: String,
    /// The plugin's installed name.
    pub(super) plugin: String,
    /// The host the header is sent to (one of the plugin's allowed hosts).
    #[arg(long, value_name = "HOST")]
    pub(super) host: String,
    /// The header's name, e.g. `Authorization`.
    #[arg(long, value_name = "NAME")]
    pub(super) header: String,
}

#[derive(Subcommand)]
pub(super) enum SecretCommand {
    /// Set a secret header. The value is read from stdin (a prompt without echo on
    /// a terminal; one trailing newline is dropped) or from --value-env, never
    /// from the command line.
    Set {
        #[command(flatten)]
        target: SecretTarget,
        /// Read the value from this environment variable instead of stdin.
        #[arg(long, value_name = "VAR")]
        value_env: Option<String>,
        #[command(flatten)]
        revision: Revision,
    },
    /// Delete a secret header.
    Delete {
        #[command(flatten)]
        target: SecretTarget,
        #[command(flatten)]
        revision: Revision,
    },
}

#[derive(Subcommand)]
pub(super) enum PluginsCommand {
    /// Install a plugin component, or upgrade the installed plugin of that name
    /// (the version it replaces stays available to `rollback`).
    Install {
        /// The component (`.wasm`).
        file: PathBuf,
        /// The name tenants use (default: the name in the plugin's manifest).
        #[arg(long)]
        name: Option<String>,
        /// Its detached signature, as `crossdesk plugin sign` writes it (default:
        /// FILE.sig when that exists). Required when the server trusts keys.
        #[arg(long, value_name = "FILE")]
        signature: Option<PathBuf>,
    },
    /// List the installed plugins.
    List,
    /// Show one installed plugin: manifest, digest, signer, previous version.
    Show {
        /// The plugin's installed name.
        name: String,
    },
    /// Return a plugin to the version its last upgrade replaced.
    Rollback {
        /// The plugin's installed name.
        name: String,
    },
    /// Remove an installed plugin (refused while a tenant's pipeline names it).
    Remove {
        /// The plugin's installed name.
        name: String,
    },
}

/// `admin audit`.
#[derive(Args)]
pub(super) struct AuditArgs {
    /// Only this tenant's changes (required of admins limited to some tenants).
    #[arg(long)]
    pub(super) tenant: Option<String>,
    /// At most this many entries (server default 50, at most 1000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(super) limit: Option<u32>,
    /// Only entries older than this id, to page backwards.
    #[arg(long, value_name = "ID")]
    pub(super) before: Option<u64>,
    /// Also print each change's before and after (JSON).
    #[arg(long)]
    pub(super) changes: bool,
}

fn parse_isolation(text: &str) -> Result<pb::Isolation, String> {
    match text {
        "tenant" => Ok(pb::Isolation::Tenant),
        "event" => Ok(pb::Isolation::Event),
        other => Err(format!("'{other}' is neither tenant nor event")),
    }
}
