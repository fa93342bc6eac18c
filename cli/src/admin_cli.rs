//! `crossdesk admin ...`: a client of a running server's admin API
//! (`crossdesk.v1.AdminService`).
//!
//! - `admin tenant ...`: create, list, show, suspend, resume and delete tenants, and
//!   set their quotas;
//! - `admin pipeline ...`: a tenant's plugins: enable, disable, configure, order,
//!   detach;
//! - `admin secret ...`: the write-only secret headers a tenant's plugin sends to
//!   one of its allowed hosts;
//! - `admin plugins ...`: the plugins installed on the server: install (or
//!   upgrade), list, show, roll back, remove;
//! - `admin audit`: the changes, newest first.
//!
//! Every command prints a short human-readable summary, or with `--json` the
//! response in the proto3 JSON mapping. A gRPC error becomes `CODE: message` and
//! a non-zero exit status.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::{ArgAction, Args, Subcommand};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crossdesk_proto::pb::admin_service_client::AdminServiceClient;
use crossdesk_proto::{json, pb};

/// Arguments of `crossdesk admin`.
#[derive(Args)]
pub(crate) struct AdminArgs {
    #[command(flatten)]
    connection: Connection,
    /// Print responses as proto3 JSON instead of text.
    #[arg(long, global = true, help_heading = GLOBAL)]
    json: bool,
    #[command(subcommand)]
    command: AdminCommand,
}

/// The help heading of the options every `admin` command takes.
const GLOBAL: &str = "Global options";

/// How to reach and authenticate to the admin API.
#[derive(Args)]
#[command(next_help_heading = GLOBAL)]
struct Connection {
    /// The admin API's address (`listen` of the server's `[admin]`); `https://` is
    /// assumed when a TLS option is given.
    #[arg(
        long,
        global = true,
        value_name = "HOST:PORT",
        env = "CROSSDESK_ADMIN_ADDR",
        default_value = "127.0.0.1:50052"
    )]
    addr: String,
    /// An admin's bearer token (`[[admin.users]]` of the server). Prefer the
    /// environment variable: arguments show in `ps` and shell history.
    #[arg(
        long,
        global = true,
        value_name = "TOKEN",
        env = "CROSSDESK_ADMIN_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// CA certificate (PEM) that signed the admin API's certificate; enables TLS.
    #[arg(long, global = true, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS; needs --key-file.
    #[arg(long, global = true, value_name = "PEM", requires = "key_file")]
    cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM); needs --cert-file.
    #[arg(long, global = true, value_name = "PEM", requires = "cert_file")]
    key_file: Option<PathBuf>,
    /// The name the server's certificate must carry, when it differs from the host
    /// of --addr (e.g. `localhost` when connecting to 127.0.0.1).
    #[arg(long, global = true, value_name = "NAME")]
    tls_server_name: Option<String>,
}

#[derive(Subcommand)]
enum AdminCommand {
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
    /// `knowledge-base` (JSON, or CSV for a `.csv` file).
    ImportData(ImportDataArgs),
    /// Show the audit log of changes, newest first.
    Audit(AuditArgs),
}

#[derive(Args)]
struct ImportDataArgs {
    #[arg(long)]
    tenant: String,
    /// The plugin's installed name in the tenant's pipeline.
    #[arg(long)]
    plugin: String,
    /// `roster`, `catalog` or `knowledge-base`.
    #[arg(long)]
    dataset: String,
    /// The file; `.csv` is read as CSV, anything else as JSON.
    file: PathBuf,
}

/// Optimistic concurrency for changes to a tenant.
#[derive(Args)]
struct Revision {
    /// Fail with `Aborted` unless the tenant is still at this revision (as shown
    /// by `admin tenant show`), instead of overwriting a concurrent change.
    #[arg(long, value_name = "N")]
    expected_revision: Option<u64>,
}

impl Revision {
    fn value(&self) -> u64 {
        self.expected_revision.unwrap_or(0)
    }
}

#[derive(Subcommand)]
enum TenantCommand {
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
    /// Delete a tenant with its secrets and its plugins' stored data.
    Delete {
        /// The tenant's id.
        id: String,
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
enum PipelineCommand {
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
        /// Set the order for this kind of event only (e.g. `agent-reply-drafted`);
        /// with no plugins, that kind returns to the default order.
        #[arg(long, value_name = "KIND")]
        event_kind: Option<String>,
        #[command(flatten)]
        revision: Revision,
    },
}

/// `admin pipeline configure`.
#[derive(Args)]
struct ConfigureArgs {
    /// The tenant's id.
    tenant: String,
    /// The plugin's installed name.
    plugin: String,
    /// Set a setting (checked against the plugin's declared settings); repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    set: Vec<(String, String)>,
    /// Remove a setting; repeatable.
    #[arg(long = "unset", value_name = "KEY")]
    unset: Vec<String>,
    /// Allow outbound HTTP to this host (`api.example.com`, `*.example.com`,
    /// `host:port`); repeatable. When given, the list replaces the allowed hosts.
    #[arg(long = "allow-host", value_name = "HOST", conflicts_with = "no_hosts")]
    allow_hosts: Vec<String>,
    /// Remove every allowed host.
    #[arg(long)]
    no_hosts: bool,
    /// Let the plugin read (not write) the storage of another plugin of the
    /// tenant, as keys `@PLUGIN/...`; repeatable. When given, the list replaces
    /// the current one.
    #[arg(
        long = "read-kv-of",
        value_name = "PLUGIN",
        conflicts_with = "no_kv_read"
    )]
    kv_read: Vec<String>,
    /// Remove every read access to other plugins' storage.
    #[arg(long)]
    no_kv_read: bool,
    /// Grant (true) or revoke (false) key-value storage.
    #[arg(long, value_name = "true|false", action = ArgAction::Set)]
    kv: Option<bool>,
    /// Whether a failure of this plugin fails the whole event (true) or is only
    /// reported (false).
    #[arg(long, value_name = "true|false", action = ArgAction::Set)]
    fail_closed: Option<bool>,
    /// Clear the plugin's limit overrides (back to the server's limits) before
    /// applying the limit options given.
    #[arg(long)]
    reset_limits: bool,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    revision: Revision,
}

/// Per-plugin limit overrides; those not given keep their current value.
#[derive(Args)]
struct LimitArgs {
    /// Deadline of one call, in milliseconds.
    #[arg(long, value_name = "N")]
    timeout_ms: Option<u64>,
    /// Linear memory of one instance, in bytes.
    #[arg(long, value_name = "N")]
    max_memory_bytes: Option<u64>,
    /// Table elements of one instance.
    #[arg(long, value_name = "N")]
    max_table_elements: Option<u32>,
    /// Instances of the plugin at once.
    #[arg(long, value_name = "N")]
    max_instances: Option<u32>,
    /// Size of one call's output, in bytes.
    #[arg(long, value_name = "N")]
    max_output_bytes: Option<u64>,
    /// Size of one outbound HTTP response, in bytes.
    #[arg(long, value_name = "N")]
    max_http_response_bytes: Option<u64>,
    /// Log lines kept per call.
    #[arg(long, value_name = "N")]
    max_log_lines: Option<u32>,
}

impl LimitArgs {
    fn any(&self) -> bool {
        self.timeout_ms.is_some()
            || self.max_memory_bytes.is_some()
            || self.max_table_elements.is_some()
            || self.max_instances.is_some()
            || self.max_output_bytes.is_some()
            || self.max_http_response_bytes.is_some()
            || self.max_log_lines.is_some()
    }

    /// `base` with the limits given here replacing its values.
    fn over(&self, base: pb::LimitOverrides) -> pb::LimitOverrides {
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
        }
    }
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got '{text}'")),
    }
}

/// Which secret: a header a tenant's plugin sends to a host.
#[derive(Args)]
struct SecretTarget {
    /// The tenant's id.
    tenant: String,
    /// The plugin's installed name.
    plugin: String,
    /// The host the header is sent to (one of the plugin's allowed hosts).
    #[arg(long, value_name = "HOST")]
    host: String,
    /// The header's name, e.g. `Authorization`.
    #[arg(long, value_name = "NAME")]
    header: String,
}

#[derive(Subcommand)]
enum SecretCommand {
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
enum PluginsCommand {
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
struct AuditArgs {
    /// Only this tenant's changes (required of admins limited to some tenants).
    #[arg(long)]
    tenant: Option<String>,
    /// At most this many entries (server default 50, at most 1000).
    #[arg(long, value_name = "N")]
    limit: Option<u32>,
    /// Only entries older than this id, to page backwards.
    #[arg(long, value_name = "ID")]
    before: Option<u64>,
    /// Also print each change's before and after (JSON).
    #[arg(long)]
    changes: bool,
}

/// Adds `authorization: Bearer <token>` to every request.
#[derive(Clone)]
struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

type Client = AdminServiceClient<InterceptedService<Channel, Bearer>>;

/// Runs `crossdesk admin ...`.
pub(crate) async fn run(args: AdminArgs) -> Result<()> {
    let out = Output { json: args.json };
    let has_token = args
        .connection
        .token
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty());
    let mut client = connect(&args.connection).await?;
    let result = match args.command {
        AdminCommand::Tenant { command } => tenant(&mut client, &out, command).await,
        AdminCommand::Pipeline { command } => pipeline(&mut client, &out, command).await,
        AdminCommand::Secret { command } => secret(&mut client, &out, command).await,
        AdminCommand::Plugins { command } => plugins(&mut client, &out, command).await,
        AdminCommand::Audit(audit_args) => audit(&mut client, &out, audit_args).await,
        AdminCommand::ImportData(import) => import_data(&mut client, &out, import).await,
    };
    result.map_err(|error| match error.downcast::<tonic::Status>() {
        Ok(status) => {
            let hint = if status.code() == tonic::Code::Unauthenticated && !has_token {
                " (give --token or set CROSSDESK_ADMIN_TOKEN)"
            } else {
                ""
            };
            anyhow!("{:?}: {}{hint}", status.code(), status.message())
        }
        Err(error) => error,
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

async fn connect(c: &Connection) -> Result<Client> {
    let tls_options = c.ca_file.is_some() || c.cert_file.is_some() || c.tls_server_name.is_some();
    let uri = if c.addr.contains("://") {
        c.addr.clone()
    } else if tls_options {
        format!("https://{}", c.addr)
    } else {
        format!("http://{}", c.addr)
    };
    let mut endpoint = Endpoint::from_shared(uri.clone())
        .with_context(|| format!("'{uri}' is not a valid address"))?
        .connect_timeout(Duration::from_secs(10));
    if uri.starts_with("https://") {
        let Some(ca_file) = &c.ca_file else {
            bail!(
                "TLS needs --ca-file: the CA certificate (PEM) that signed the admin API's certificate"
            );
        };
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read_file(ca_file)?));
        if let (Some(cert), Some(key)) = (&c.cert_file, &c.key_file) {
            tls = tls.identity(Identity::from_pem(read_file(cert)?, read_file(key)?));
        }
        if let Some(name) = &c.tls_server_name {
            tls = tls.domain_name(name.clone());
        }
        endpoint = endpoint
            .tls_config(tls)
            .context("invalid TLS configuration")?;
    } else if tls_options {
        bail!("--ca-file, --cert-file and --tls-server-name need TLS, but the address is {uri}");
    }
    let token = match c.token.as_deref().map(str::trim) {
        Some(token) if !token.is_empty() => {
            let mut value: MetadataValue<Ascii> = format!("Bearer {token}")
                .parse()
                .map_err(|_| anyhow!("the admin token must be printable ASCII"))?;
            value.set_sensitive(true);
            Some(value)
        }
        _ => None,
    };
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("cannot connect to the admin API at {uri}"))?;
    Ok(AdminServiceClient::with_interceptor(channel, Bearer(token))
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(usize::MAX))
}

/// How responses are printed.
struct Output {
    json: bool,
}

impl Output {
    fn json<M: prost::Message>(&self, name: &str, message: &M) -> Result<()> {
        println!("{}", json::to_json(name, message)?);
        Ok(())
    }

    fn tenant(&self, tenant: &pb::Tenant) -> Result<()> {
        if self.json {
            return self.json("crossdesk.v1.Tenant", tenant);
        }
        print!("{}", tenant_text(tenant));
        Ok(())
    }

    fn plugin(&self, plugin: &pb::InstalledPlugin) -> Result<()> {
        if self.json {
            return self.json("crossdesk.v1.InstalledPlugin", plugin);
        }
        print!("{}", plugin_text(plugin));
        Ok(())
    }
}

async fn tenant(client: &mut Client, out: &Output, command: TenantCommand) -> Result<()> {
    let tenant = match command {
        TenantCommand::Create { id } => {
            client
                .create_tenant(pb::CreateTenantRequest { tenant_id: id })
                .await?
        }
        TenantCommand::List => {
            let response = client
                .list_tenants(pb::ListTenantsRequest {})
                .await?
                .into_inner();
            if out.json {
                return out.json("crossdesk.v1.ListTenantsResponse", &response);
            }
            print!("{}", tenants_text(&response.tenants));
            return Ok(());
        }
        TenantCommand::Show { id } => client.get_tenant(pb::TenantRef { tenant_id: id }).await?,
        TenantCommand::Suspend { id, revision } => {
            client
                .set_tenant_suspended(pb::SetTenantSuspendedRequest {
                    tenant_id: id,
                    suspended: true,
                    expected_revision: revision.value(),
                })
                .await?
        }
        TenantCommand::Resume { id, revision } => {
            client
                .set_tenant_suspended(pb::SetTenantSuspendedRequest {
                    tenant_id: id,
                    suspended: false,
                    expected_revision: revision.value(),
                })
                .await?
        }
        TenantCommand::Delete { id } => {
            let response = client
                .delete_tenant(pb::TenantRef {
                    tenant_id: id.clone(),
                })
                .await?
                .into_inner();
            if out.json {
                return out.json("crossdesk.v1.DeleteTenantResponse", &response);
            }
            println!("deleted tenant '{id}'");
            return Ok(());
        }
        TenantCommand::Quota {
            id,
            max_in_flight,
            events_per_second,
            burst,
            revision,
        } => {
            client
                .set_quota(pb::SetQuotaRequest {
                    tenant_id: id,
                    quota: Some(pb::QuotaOverrides {
                        max_in_flight,
                        events_per_second,
                        burst,
                    }),
                    expected_revision: revision.value(),
                })
                .await?
        }
    };
    out.tenant(tenant.get_ref())
}

async fn pipeline(client: &mut Client, out: &Output, command: PipelineCommand) -> Result<()> {
    let enable = |tenant: String, plugin: String, enabled: bool, revision: Revision| {
        pb::ConfigurePluginRequest {
            tenant_id: tenant,
            plugin,
            enabled: Some(enabled),
            expected_revision: revision.value(),
            ..Default::default()
        }
    };
    let tenant = match command {
        PipelineCommand::Enable {
            tenant,
            plugin,
            revision,
        } => {
            client
                .configure_plugin(enable(tenant, plugin, true, revision))
                .await?
        }
        PipelineCommand::Disable {
            tenant,
            plugin,
            revision,
        } => {
            client
                .configure_plugin(enable(tenant, plugin, false, revision))
                .await?
        }
        PipelineCommand::Configure(args) => {
            let request = configure_request(client, args).await?;
            client.configure_plugin(request).await?
        }
        PipelineCommand::Detach {
            tenant,
            plugin,
            revision,
        } => {
            client
                .detach_plugin(pb::DetachPluginRequest {
                    tenant_id: tenant,
                    plugin,
                    expected_revision: revision.value(),
                })
                .await?
        }
        PipelineCommand::Order {
            tenant,
            plugins,
            event_kind,
            revision,
        } => {
            client
                .set_pipeline_order(pb::SetPipelineOrderRequest {
                    tenant_id: tenant,
                    event_kind: event_kind.unwrap_or_default(),
                    plugins,
                    expected_revision: revision.value(),
                })
                .await?
        }
    };
    out.tenant(tenant.get_ref())
}

/// The request of `pipeline configure`. The RPC replaces all limit overrides at
/// once, so changing some of them reads the current ones first (and then expects
/// the revision read, unless --expected-revision says otherwise).
async fn configure_request(
    client: &mut Client,
    args: ConfigureArgs,
) -> Result<pb::ConfigurePluginRequest> {
    let mut expected_revision = args.revision.value();
    let limits = if args.reset_limits || args.limits.any() {
        let base = if args.reset_limits {
            pb::LimitOverrides::default()
        } else {
            let current = client
                .get_tenant(pb::TenantRef {
                    tenant_id: args.tenant.clone(),
                })
                .await?
                .into_inner();
            if expected_revision == 0 {
                expected_revision = current.revision;
            }
            current
                .plugins
                .into_iter()
                .find(|g| g.plugin == args.plugin)
                .and_then(|g| g.limits)
                .unwrap_or_default()
        };
        Some(args.limits.over(base))
    } else {
        None
    };
    let allowed_hosts = if args.no_hosts || !args.allow_hosts.is_empty() {
        Some(pb::HostList {
            hosts: args.allow_hosts,
        })
    } else {
        None
    };
    let kv_read = (args.no_kv_read || !args.kv_read.is_empty()).then_some(pb::PluginList {
        plugins: args.kv_read,
    });
    Ok(pb::ConfigurePluginRequest {
        tenant_id: args.tenant,
        plugin: args.plugin,
        enabled: None,
        fail_closed: args.fail_closed,
        kv: args.kv,
        allowed_hosts,
        set_settings: args.set.into_iter().collect(),
        unset_settings: args.unset,
        limits,
        expected_revision,
        kv_read,
    })
}

async fn secret(client: &mut Client, out: &Output, command: SecretCommand) -> Result<()> {
    let tenant = match command {
        SecretCommand::Set {
            target,
            value_env,
            revision,
        } => {
            let value = secret_value(value_env.as_deref(), &target)?;
            client
                .set_secret(pb::SetSecretRequest {
                    tenant_id: target.tenant,
                    plugin: target.plugin,
                    host: target.host,
                    header: target.header,
                    value,
                    expected_revision: revision.value(),
                })
                .await?
        }
        SecretCommand::Delete { target, revision } => {
            client
                .delete_secret(pb::DeleteSecretRequest {
                    tenant_id: target.tenant,
                    plugin: target.plugin,
                    host: target.host,
                    header: target.header,
                    expected_revision: revision.value(),
                })
                .await?
        }
    };
    out.tenant(tenant.get_ref())
}

/// The secret's value: from the environment variable `env`, else from stdin.
fn secret_value(env: Option<&str>, target: &SecretTarget) -> Result<String> {
    let text = match env {
        Some(var) => std::env::var(var)
            .with_context(|| format!("environment variable {var} is not set (or not UTF-8)"))?,
        None if std::io::stdin().is_terminal() => {
            let echo_off = EchoOff::new();
            eprint!(
                "value of {} for {} ({}){}: ",
                target.header,
                target.host,
                target.plugin,
                if echo_off.is_some() {
                    ""
                } else {
                    " (typing is visible)"
                }
            );
            let mut line = String::new();
            let read = std::io::stdin().read_line(&mut line);
            drop(echo_off);
            eprintln!();
            read.context("cannot read the secret value")?;
            line
        }
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the secret value from stdin")?;
            text
        }
    };
    let value = text
        .strip_suffix('\n')
        .map(|v| v.strip_suffix('\r').unwrap_or(v))
        .unwrap_or(&text);
    if value.is_empty() {
        bail!("the secret value is empty");
    }
    Ok(value.to_owned())
}

/// Turns the terminal's echo off while it lives (best effort, through `stty`).
struct EchoOff;

impl EchoOff {
    fn new() -> Option<EchoOff> {
        if !cfg!(unix) {
            return None;
        }
        let off = std::process::Command::new("stty")
            .arg("-echo")
            .stdin(std::process::Stdio::inherit())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        off.then_some(EchoOff)
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = std::process::Command::new("stty")
            .arg("echo")
            .stdin(std::process::Stdio::inherit())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Where a component's detached signature is by default: `FILE.sig`.
pub(crate) fn signature_path(component: &Path) -> PathBuf {
    let mut path = component.as_os_str().to_owned();
    path.push(".sig");
    PathBuf::from(path)
}

async fn plugins(client: &mut Client, out: &Output, command: PluginsCommand) -> Result<()> {
    let plugin = match command {
        PluginsCommand::Install {
            file,
            name,
            signature,
        } => {
            let component = read_file(&file)?;
            let signature_file = signature.or_else(|| {
                let default = signature_path(&file);
                default.exists().then_some(default)
            });
            let signature = match &signature_file {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    if !out.json {
                        eprintln!("signature: {}", path.display());
                    }
                    text.trim().to_owned()
                }
                None => String::new(),
            };
            client
                .install_plugin(pb::InstallPluginRequest {
                    component,
                    signature,
                    name: name.unwrap_or_default(),
                })
                .await?
                .into_inner()
        }
        PluginsCommand::List => {
            let response = client
                .list_plugins(pb::ListPluginsRequest {})
                .await?
                .into_inner();
            if out.json {
                return out.json("crossdesk.v1.ListPluginsResponse", &response);
            }
            print!("{}", plugins_text(&response.plugins));
            return Ok(());
        }
        PluginsCommand::Show { name } => client
            .list_plugins(pb::ListPluginsRequest {})
            .await?
            .into_inner()
            .plugins
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| anyhow!("NotFound: no installed plugin is named '{name}'"))?,
        PluginsCommand::Rollback { name } => client
            .rollback_plugin(pb::PluginRef { name })
            .await?
            .into_inner(),
        PluginsCommand::Remove { name } => {
            let response = client
                .remove_plugin(pb::PluginRef { name: name.clone() })
                .await?
                .into_inner();
            if out.json {
                return out.json("crossdesk.v1.RemovePluginResponse", &response);
            }
            println!("removed plugin '{name}'");
            return Ok(());
        }
    };
    out.plugin(&plugin)
}

async fn import_data(client: &mut Client, out: &Output, args: ImportDataArgs) -> Result<()> {
    let format = crate::plugin_cli::format_of(&args.file);
    let response = client
        .import_plugin_data(pb::ImportPluginDataRequest {
            tenant_id: args.tenant.clone(),
            plugin: args.plugin,
            dataset: args.dataset.clone(),
            format: format.into(),
            content: read_file(&args.file)?,
        })
        .await?
        .into_inner();
    if out.json {
        return out.json("crossdesk.v1.ImportPluginDataResponse", &response);
    }
    println!(
        "{} of tenant '{}' imported: {} (replacing {} entries)",
        args.dataset, args.tenant, response.summary, response.replaced
    );
    Ok(())
}

async fn audit(client: &mut Client, out: &Output, args: AuditArgs) -> Result<()> {
    let limit = args.limit.unwrap_or(0);
    let response = client
        .list_audit_log(pb::ListAuditLogRequest {
            tenant_id: args.tenant.unwrap_or_default(),
            limit,
            before_id: args.before.unwrap_or(0),
        })
        .await?
        .into_inner();
    if out.json {
        return out.json("crossdesk.v1.ListAuditLogResponse", &response);
    }
    print!("{}", audit_text(&response.entries, args.changes));
    let page = if limit == 0 { 50 } else { limit };
    if let Some(last) = response.entries.last()
        && response.entries.len() >= page as usize
    {
        eprintln!("(more may follow: --before {})", last.id);
    }
    Ok(())
}

// Text output.

/// Columns separated by two spaces, each as wide as its widest cell.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let text = cells
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ");
        format!("{}\n", text.trim_end())
    };
    let mut out = line(&mut headers.iter().copied());
    for row in rows {
        out += &line(&mut row.iter().map(String::as_str));
    }
    out
}

/// The items joined by `separator`, or `-` when there are none.
fn or_dash(list: &[String], separator: &str) -> String {
    if list.is_empty() {
        "-".to_owned()
    } else {
        list.join(separator)
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn quota_text(quota: Option<&pb::QuotaOverrides>) -> String {
    let quota = quota.cloned().unwrap_or_default();
    let fields = [
        ("max_in_flight", quota.max_in_flight),
        ("events_per_second", quota.events_per_second),
        ("burst", quota.burst),
    ];
    if fields.iter().all(|(_, v)| v.is_none()) {
        return "server defaults".to_owned();
    }
    fields
        .iter()
        .map(|(name, value)| match value {
            Some(v) => format!("{name}={v}"),
            None => format!("{name}=default"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn limits_text(limits: &pb::LimitOverrides) -> String {
    [
        ("timeout_ms", limits.timeout_ms),
        ("max_memory_bytes", limits.max_memory_bytes),
        (
            "max_table_elements",
            limits.max_table_elements.map(u64::from),
        ),
        ("max_instances", limits.max_instances.map(u64::from)),
        ("max_output_bytes", limits.max_output_bytes),
        ("max_http_response_bytes", limits.max_http_response_bytes),
        ("max_log_lines", limits.max_log_lines.map(u64::from)),
    ]
    .iter()
    .filter_map(|(name, value)| value.map(|v| format!("{name}={v}")))
    .collect::<Vec<_>>()
    .join(" ")
}

fn tenant_text(t: &pb::Tenant) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "tenant     {}", t.tenant_id);
    let _ = writeln!(out, "revision   {}", t.revision);
    let _ = writeln!(out, "suspended  {}", yes_no(t.suspended));
    let _ = writeln!(out, "quota      {}", quota_text(t.quota.as_ref()));
    if t.plugins.is_empty() {
        let _ = writeln!(out, "plugins    none");
    } else {
        let _ = writeln!(out, "plugins    (default order)");
    }
    for (i, grant) in t.plugins.iter().enumerate() {
        let mut flags = vec![if grant.enabled { "enabled" } else { "disabled" }];
        if grant.kv {
            flags.push("kv");
        }
        if grant.fail_closed {
            flags.push("fail-closed");
        }
        let _ = writeln!(out, "  {}. {}  [{}]", i + 1, grant.plugin, flags.join(", "));
        if !grant.settings.is_empty() {
            let settings: BTreeMap<_, _> = grant.settings.iter().collect();
            let settings = settings
                .iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = writeln!(out, "     settings  {settings}");
        }
        if !grant.allowed_hosts.is_empty() {
            let _ = writeln!(out, "     hosts     {}", grant.allowed_hosts.join(", "));
        }
        if !grant.kv_read.is_empty() {
            let _ = writeln!(out, "     reads kv  {}", grant.kv_read.join(", "));
        }
        if !grant.secrets.is_empty() {
            let secrets = grant
                .secrets
                .iter()
                .map(|s| format!("{} for {}", s.header, s.host))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(out, "     secrets   {secrets}");
        }
        let limits = grant.limits.as_ref().map(limits_text).unwrap_or_default();
        if !limits.is_empty() {
            let _ = writeln!(out, "     limits    {limits}");
        }
    }
    let orders: BTreeMap<_, _> = t.pipelines.iter().collect();
    for (kind, order) in orders {
        let _ = writeln!(out, "order for {kind}: {}", order.plugins.join(", "));
    }
    out
}

fn tenants_text(tenants: &[pb::Tenant]) -> String {
    if tenants.is_empty() {
        return "no tenants\n".to_owned();
    }
    let rows: Vec<Vec<String>> = tenants
        .iter()
        .map(|t| {
            let plugins: Vec<String> = t
                .plugins
                .iter()
                .map(|g| {
                    if g.enabled {
                        g.plugin.clone()
                    } else {
                        format!("{}(disabled)", g.plugin)
                    }
                })
                .collect();
            vec![
                t.tenant_id.clone(),
                t.revision.to_string(),
                yes_no(t.suspended).to_owned(),
                or_dash(&plugins, ","),
            ]
        })
        .collect();
    table(&["TENANT", "REVISION", "SUSPENDED", "PLUGINS"], &rows)
}

fn digest_prefix(digest: &str) -> String {
    digest.chars().take(12).collect()
}

fn plugins_text(plugins: &[pb::InstalledPlugin]) -> String {
    if plugins.is_empty() {
        return "no plugins installed\n".to_owned();
    }
    let rows: Vec<Vec<String>> = plugins
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.version.clone(),
                digest_prefix(&p.digest),
                if p.signed_by.is_empty() {
                    "-".to_owned()
                } else {
                    p.signed_by.clone()
                },
                or_dash(&p.used_by, ","),
            ]
        })
        .collect();
    table(
        &["NAME", "VERSION", "DIGEST", "SIGNED BY", "USED BY"],
        &rows,
    )
}

fn plugin_text(p: &pb::InstalledPlugin) -> String {
    let previous = if p.previous_version.is_empty() && p.previous_digest.is_empty() {
        "none".to_owned()
    } else {
        format!(
            "{} (sha256:{})",
            p.previous_version,
            digest_prefix(&p.previous_digest)
        )
    };
    let lines = [
        ("name", p.name.clone()),
        ("version", p.version.clone()),
        ("digest", format!("sha256:{}", p.digest)),
        ("description", p.description.clone()),
        ("events", or_dash(&p.events, ", ")),
        ("kv", yes_no(p.wants_kv).to_owned()),
        ("outbound", or_dash(&p.outbound_hosts, ", ")),
        ("settings", or_dash(&p.settings, ", ")),
        ("cacheable", yes_no(p.cacheable).to_owned()),
        ("previous", previous),
        (
            "signed by",
            if p.signed_by.is_empty() {
                "-".to_owned()
            } else {
                p.signed_by.clone()
            },
        ),
        ("used by", or_dash(&p.used_by, ", ")),
    ];
    lines
        .iter()
        .map(|(label, value)| format!("{label:<12} {value}\n"))
        .collect()
}

/// RFC 3339 in UTC, to the second.
fn time_text(at: Option<&prost_types::Timestamp>) -> String {
    match at {
        Some(at) => prost_types::Timestamp {
            seconds: at.seconds,
            nanos: 0,
        }
        .to_string(),
        None => "-".to_owned(),
    }
}

fn audit_text(entries: &[pb::AuditEntry], changes: bool) -> String {
    if entries.is_empty() {
        return "no audit entries\n".to_owned();
    }
    let row = |e: &pb::AuditEntry| {
        vec![
            e.id.to_string(),
            time_text(e.at.as_ref()),
            e.actor.clone(),
            e.action.clone(),
            e.target.clone(),
            if e.tenant_id.is_empty() {
                "-".to_owned()
            } else {
                e.tenant_id.clone()
            },
        ]
    };
    let headers = ["ID", "TIME", "ACTOR", "ACTION", "TARGET", "TENANT"];
    if !changes {
        let rows: Vec<Vec<String>> = entries.iter().map(row).collect();
        return table(&headers, &rows);
    }
    let mut out = String::new();
    for e in entries {
        out += &row(e).join("  ");
        out.push('\n');
        for (label, json) in [("before", &e.before_json), ("after", &e.after_json)] {
            if !json.is_empty() {
                out += &format!("  {label:<7}{json}\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let text = table(
            &["A", "BB"],
            &[
                vec!["long".into(), "x".into()],
                vec!["s".into(), "y".into()],
            ],
        );
        assert_eq!(text, "A     BB\nlong  x\ns     y\n");
    }

    #[test]
    fn audit_times_are_rfc3339_utc() {
        let at = prost_types::Timestamp {
            seconds: 1_795_000_000,
            nanos: 123_000_000,
        };
        assert_eq!(time_text(Some(&at)), "2026-11-18T11:06:40Z");
    }

    #[test]
    fn signature_path_appends_sig() {
        assert_eq!(
            signature_path(Path::new("dir/p.wasm")),
            PathBuf::from("dir/p.wasm.sig")
        );
    }
}
