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
//! - `admin audit`: the changes, newest first;
//! - `admin report` (and `crossdesk report`), `admin customer export|erase`: the
//!   tenant's reports and a customer's data in them (`report`).
//!
//! Every command prints a short human-readable summary, or with `--json` the
//! response in the proto3 JSON mapping. A gRPC error becomes `CODE: message` and
//! a non-zero exit status.

use std::io::{IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::grpc_client::Bearer;

use crossdesk_proto::pb::admin_service_client::AdminServiceClient;
use crossdesk_proto::{json, pb};
use crossdesk_sidecar::insights::categories::CategoryRule;

mod args;
mod report;
mod text;

use args::*;
pub(crate) use args::{AdminArgs, ReportCommandArgs};
use text::*;

type Client = AdminServiceClient<InterceptedService<Channel, Bearer>>;

/// Runs `crossdesk admin ...`.
pub(crate) async fn run(args: AdminArgs) -> Result<()> {
    let out = Output { json: args.json };
    let has_token = has_token(&args.connection);
    let mut client = connect(&args.connection).await?;
    let result = match args.command {
        AdminCommand::Tenant { command } => tenant(&mut client, &out, command).await,
        AdminCommand::Pipeline { command } => pipeline(&mut client, &out, command).await,
        AdminCommand::Secret { command } => secret(&mut client, &out, command).await,
        AdminCommand::Plugins { command } => plugins(&mut client, &out, command).await,
        AdminCommand::Audit(audit_args) => audit(&mut client, &out, audit_args).await,
        AdminCommand::ImportData(import) => import_data(&mut client, &out, import).await,
        AdminCommand::Command(command) => plugin_command(&mut client, &out, command).await,
        AdminCommand::Report(args) => report::report(&mut client, args, out.json).await,
        AdminCommand::Customer { command } => report::customer(&mut client, &out, command).await,
    };
    explain(result, has_token)
}

/// Runs `crossdesk report ...`.
pub(crate) async fn run_report(args: ReportCommandArgs) -> Result<()> {
    let has_token = has_token(&args.connection);
    let mut client = connect(&args.connection).await?;
    explain(
        report::report(&mut client, args.report, false).await,
        has_token,
    )
}

fn has_token(connection: &Connection) -> bool {
    Bearer::new(connection.token.as_deref()).is_ok_and(|token| token.is_given())
}

/// A gRPC error as `CODE: message`, with a hint when no token was given.
fn explain(result: Result<()>, has_token: bool) -> Result<()> {
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

/// A tenant's categories as `tenant categories --file` reads them. A key the
/// categories do not have is refused (the stored type ignores it, for documents
/// of newer versions): here it is a typo that would be lost.
fn categories_from_json(text: &[u8]) -> Result<Vec<CategoryRule>> {
    const EXPECTED: &str = "a JSON list of {\"name\", \"keywords\": {language: [words]}}";
    let mut document = serde_json::Deserializer::from_slice(text);
    let (rules, unknown): (Vec<CategoryRule>, _) =
        crossdesk_sidecar::config::with_unknown_keys(&mut document)
            .and_then(|read| document.end().map(|()| read))
            .with_context(|| format!("not {EXPECTED}"))?;
    match unknown.first() {
        Some(key) => bail!("unknown key `{key}`: expected {EXPECTED}"),
        None => Ok(rules),
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

async fn connect(c: &Connection) -> Result<Client> {
    let token = Bearer::new(c.token.as_deref())?;
    let channel = crate::grpc_client::channel(&c.addr, &c.tls, "admin API").await?;
    Ok(AdminServiceClient::with_interceptor(channel, token)
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
        TenantCommand::Hours {
            id,
            time_zone,
            open,
            close,
            days,
            clear,
            revision,
        } => {
            let hours = (!clear).then(|| pb::BusinessHours {
                time_zone: time_zone.unwrap_or_default(),
                open: open.unwrap_or_default(),
                close: close.unwrap_or_default(),
                days,
            });
            client
                .set_business_hours(pb::SetBusinessHoursRequest {
                    tenant_id: id,
                    hours,
                    expected_revision: revision.value(),
                })
                .await?
        }
        TenantCommand::Isolation {
            id,
            isolation,
            revision,
        } => {
            client
                .set_tenant_isolation(pb::SetTenantIsolationRequest {
                    tenant_id: id,
                    isolation: isolation.into(),
                    expected_revision: revision.value(),
                })
                .await?
        }
        TenantCommand::Categories { id, file, revision } => {
            let rules = categories_from_json(&read_file(&file)?)
                .with_context(|| format!("{}", file.display()))?;
            let categories = rules
                .into_iter()
                .map(crossdesk_sidecar::insights::api::category_to_pb)
                .collect();
            client
                .set_categories(pb::SetCategoriesRequest {
                    tenant_id: id,
                    categories,
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
        isolation: args.isolation.map(Into::into),
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
    let format = args
        .format
        .unwrap_or_else(|| crate::plugin_cli::format_of(&args.file));
    let response = client
        .import_plugin_data(pb::ImportPluginDataRequest {
            tenant_id: args.tenant.clone(),
            plugin: args.plugin,
            dataset: args.dataset.clone(),
            format,
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

async fn plugin_command(client: &mut Client, out: &Output, args: CommandArgs) -> Result<()> {
    let mut files = Vec::new();
    for (name, path) in &args.files {
        files.push(pb::CommandFile {
            name: name.clone(),
            content: read_file(std::path::Path::new(path))?,
        });
    }
    let response = client
        .run_plugin_command(pb::RunPluginCommandRequest {
            tenant_id: args.tenant,
            plugin: args.plugin,
            command: args.command,
            values: args
                .values
                .into_iter()
                .map(|(name, value)| pb::CommandValue { name, value })
                .collect(),
            files,
        })
        .await?
        .into_inner();
    if out.json {
        return out.json("crossdesk.v1.RunPluginCommandResponse", &response);
    }
    print!("{}", response.text);
    for file in response.files {
        // The plugin named it (a third party's, maybe): a plain name, in the
        // working folder, never hidden (`.bashrc`), never over a file there.
        let name = crate::plugin_cli::plain_name(&file.name)?;
        crate::files::write_whole(
            std::path::Path::new(name),
            &file.content,
            crate::files::Existing::Keep,
            crate::files::Readers::Usual,
        )?;
        eprintln!("wrote {name}");
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_categories_file_with_a_key_categories_do_not_have_is_refused() {
        let rules =
            categories_from_json(br#"[{"name": "shipping", "keywords": {"es": ["envio"]}}]"#)
                .expect("read");
        assert_eq!(rules[0].keywords["es"], ["envio"]);
        let typo = br#"[{"name": "shipping", "keywords": {}}, {"name": "x", "keywords": {}, "keyword": {}}]"#;
        let err = format!("{:#}", categories_from_json(typo).expect_err("a typo"));
        assert!(err.contains("unknown key `[1].keyword`"), "{err}");
        let err = format!(
            "{:#}",
            categories_from_json(b"[] []").expect_err("trailing")
        );
        assert!(err.contains("not a JSON list"), "{err}");
    }

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
