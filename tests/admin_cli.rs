//! `crossdesk admin ...` and `crossdesk plugin keygen|sign` end to end: the real
//! binary as a subprocess against a sidecar (with `[admin]`) running in the test.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crossdesk_integration_tests::certs::Authority;
use crossdesk_integration_tests::*;
use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

const OPS: &str = "ops-S3CR3T-token-0123456789";
const SECRET: &str = "Bearer S3CR3T-value-7f9c2e";
const ENV_SECRET: &str = "k3y-S3CR3T-env-41d8";

/// `[admin]` with the admin `ops` (every tenant) and `admin_extra` lines, the no-op
/// and hello plugins installed, and tenant `acme`.
fn config(admin_extra: &str) -> String {
    format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\n{admin_extra}\n\
         users = [{{ name = \"ops\", token = \"{OPS}\", tenants = [\"*\"] }}]\n"
    ) + &install(&["plugin-noop", "hello-plugin"])
        + "[[tenants]]\nid = \"acme\"\n"
}

/// What a run of the binary printed.
#[derive(Debug)]
struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

/// A command line of the binary; `admin` ones get the server's address and a token.
struct Cli {
    command: Command,
    stdin: Option<String>,
}

impl Cli {
    fn new(args: &[&str]) -> Cli {
        let mut command = Command::from(crossdesk_command());
        command
            .args(args)
            .env_remove("CROSSDESK_ADMIN_ADDR")
            .env_remove("CROSSDESK_ADMIN_TOKEN")
            .env("RUST_LOG", "warn")
            .kill_on_drop(true);
        Cli {
            command,
            stdin: None,
        }
    }

    /// `crossdesk admin <args>` for `server`, as `ops`.
    fn admin(server: &TestServer, args: &[&str]) -> Cli {
        let addr = server.admin_addr.expect("the config has [admin]");
        let mut cli = Cli::new(&["admin"]);
        cli.command
            .args(args)
            .env("CROSSDESK_ADMIN_ADDR", addr.to_string())
            .env("CROSSDESK_ADMIN_TOKEN", OPS);
        cli
    }

    fn env(mut self, key: &str, value: &str) -> Cli {
        self.command.env(key, value);
        self
    }

    fn env_remove(mut self, key: &str) -> Cli {
        self.command.env_remove(key);
        self
    }

    fn stdin(mut self, text: &str) -> Cli {
        self.stdin = Some(text.to_owned());
        self
    }

    async fn run(mut self) -> Run {
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("start crossdesk");
        if let Some(text) = self.stdin {
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(text.as_bytes()).await.expect("write stdin");
            drop(stdin);
        }
        let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("crossdesk finishes within a minute")
            .expect("crossdesk runs");
        crossdesk_integration_tests::logs::keep("admin-cli", &output);
        Run {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs it, expecting success; returns stdout.
    async fn ok(self) -> String {
        let what = format!("{:?}", self.command.as_std());
        let run = self.run().await;
        assert!(run.success, "{what} failed: {run:#?}");
        run.stdout
    }

    /// Runs it, expecting failure; returns stderr.
    async fn fails(self) -> String {
        let what = format!("{:?}", self.command.as_std());
        let run = self.run().await;
        assert!(!run.success, "{what} succeeded: {run:#?}");
        run.stderr
    }
}

/// Parses proto3 JSON of the message `name`, failing the test when it is not.
fn parse<M: tonic_prost::prost::Message + Default>(name: &str, text: &str) -> M {
    crossdesk_proto::json::from_json(name, text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn tenants_pipelines_secrets_and_the_audit_log_through_the_cli() {
    let server = TestServer::start(&config("")).await;
    let admin = |args: &[&str]| Cli::admin(&server, args);

    let created = admin(&["tenant", "create", "globex"]).ok().await;
    assert!(created.contains("tenant     globex"), "{created}");
    assert!(created.contains("plugins    none"), "{created}");
    let listed = admin(&["tenant", "list"]).ok().await;
    assert!(listed.starts_with("TENANT"), "{listed}");
    assert!(
        listed.contains("acme") && listed.contains("globex"),
        "{listed}"
    );

    admin(&["pipeline", "enable", "globex", "plugin-noop"])
        .ok()
        .await;
    let configured = admin(&[
        "pipeline",
        "configure",
        "globex",
        "hello-plugin",
        "--set",
        "greeting=Servus",
        "--set",
        "signature=The Globex team",
        "--allow-host",
        "api.example.com",
        "--kv",
        "true",
    ])
    .ok()
    .await;
    assert!(
        configured.contains("1. plugin-noop  [enabled]"),
        "{configured}"
    );
    assert!(
        configured.contains("2. hello-plugin  [enabled, kv]"),
        "{configured}"
    );
    assert!(
        configured.contains(r#"greeting="Servus" signature="The Globex team""#),
        "{configured}"
    );
    assert!(
        configured.contains("hosts     api.example.com"),
        "{configured}"
    );

    let ordered = admin(&["pipeline", "order", "globex", "hello-plugin", "plugin-noop"])
        .ok()
        .await;
    let first = ordered.find("1. hello-plugin").expect("hello-plugin first");
    let second = ordered.find("2. plugin-noop").expect("plugin-noop second");
    assert!(first < second, "{ordered}");
    let by_kind = admin(&[
        "pipeline",
        "order",
        "globex",
        "plugin-noop",
        "hello-plugin",
        "--event-kind",
        "agent-reply-drafted",
    ])
    .ok()
    .await;
    assert!(
        by_kind.contains("order for agent-reply-drafted: plugin-noop, hello-plugin"),
        "{by_kind}"
    );
    let reset = admin(&[
        "pipeline",
        "order",
        "globex",
        "--event-kind",
        "agent-reply-drafted",
    ])
    .ok()
    .await;
    assert!(!reset.contains("order for"), "{reset}");

    // Secrets: from stdin (one trailing newline dropped) or an environment variable.
    let set = admin(&[
        "secret",
        "set",
        "globex",
        "hello-plugin",
        "--host",
        "api.example.com",
        "--header",
        "Authorization",
    ])
    .stdin(&format!("{SECRET}\n"))
    .ok()
    .await;
    assert!(
        set.contains("secrets   Authorization for api.example.com"),
        "{set}"
    );
    admin(&[
        "secret",
        "set",
        "globex",
        "hello-plugin",
        "--host",
        "api.example.com",
        "--header",
        "X-Api-Key",
        "--value-env",
        "GLOBEX_API_KEY",
    ])
    .env("GLOBEX_API_KEY", ENV_SECRET)
    .ok()
    .await;
    let shown = admin(&["tenant", "show", "globex"]).ok().await;
    assert!(
        shown
            .contains("secrets   Authorization for api.example.com, X-Api-Key for api.example.com"),
        "{shown}"
    );
    let shown_json = admin(&["--json", "tenant", "show", "globex"]).ok().await;
    let tenant: pb::Tenant = parse("crossdesk.v1.Tenant", &shown_json);
    let hello = tenant
        .plugins
        .iter()
        .find(|g| g.plugin == "hello-plugin")
        .expect("hello-plugin in the pipeline");
    assert_eq!(hello.secrets.len(), 2);
    assert_eq!(
        hello.settings.get("greeting").map(String::as_str),
        Some("Servus")
    );

    let removed = admin(&[
        "secret",
        "delete",
        "globex",
        "hello-plugin",
        "--host",
        "api.example.com",
        "--header",
        "X-Api-Key",
    ])
    .ok()
    .await;
    assert!(!removed.contains("X-Api-Key"), "{removed}");

    // The audit log: every change, by `ops`, newest first; values never appear.
    let audit = admin(&["audit", "--tenant", "globex"]).ok().await;
    let rows: Vec<Vec<&str>> = audit
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let actions: Vec<&str> = rows.iter().map(|r| r[3]).collect();
    assert_eq!(actions.first(), Some(&"secret.delete"), "{audit}");
    assert_eq!(actions.last(), Some(&"tenant.create"), "{audit}");
    assert_eq!(actions.len(), 9, "{audit}");
    for action in ["plugin.enable", "pipeline.order", "secret.set"] {
        assert!(actions.contains(&action), "{action} in {audit}");
    }
    for row in &rows {
        assert_eq!(row[2], "ops", "{audit}");
        assert_eq!(row.last(), Some(&"globex"), "{audit}");
        // RFC 3339, UTC, to the second: 2026-11-18T11:06:40Z.
        let time = row[1].as_bytes();
        assert_eq!(time.len(), 20, "{audit}");
        assert_eq!(
            (time[4], time[10], time[13], time[19]),
            (b'-', b'T', b':', b'Z')
        );
    }
    let changes = admin(&["audit", "--tenant", "globex", "--changes"])
        .ok()
        .await;
    assert!(changes.contains("before") && changes.contains("after"));
    let all = admin(&["--json", "audit", "--limit", "100"]).ok().await;
    let log: pb::ListAuditLogResponse = parse("crossdesk.v1.ListAuditLogResponse", &all);
    assert!(log.entries.iter().any(|e| e.action == "secret.set"));
    // Past the server's page (1000), the hint of more to come would be lost.
    let refused = admin(&["audit", "--limit", "5000"]).fails().await;
    assert!(refused.contains("1..=1000"), "{refused}");
    for text in [&shown, &shown_json, &audit, &changes, &all] {
        assert!(!text.contains(SECRET), "secret value shown: {text}");
        assert!(!text.contains(ENV_SECRET), "secret value shown: {text}");
    }

    let tenants = admin(&["--json", "tenant", "list"]).ok().await;
    let tenants: pb::ListTenantsResponse = parse("crossdesk.v1.ListTenantsResponse", &tenants);
    assert_eq!(tenants.tenants.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn tenant_lifecycle_quotas_limits_and_revisions() {
    let server = TestServer::start(&config("")).await;
    let admin = |args: &[&str]| Cli::admin(&server, args);
    let created = admin(&["--json", "tenant", "create", "initech"]).ok().await;
    let created: pb::Tenant = parse("crossdesk.v1.Tenant", &created);

    let quota = admin(&[
        "tenant",
        "quota",
        "initech",
        "--events-per-second",
        "5",
        "--burst",
        "10",
    ])
    .ok()
    .await;
    assert!(
        quota.contains("quota      max_in_flight=default events_per_second=5 burst=10"),
        "{quota}"
    );

    // A stale revision is refused; the current one is accepted.
    let stale = created.revision.to_string();
    let refused = admin(&[
        "tenant",
        "suspend",
        "initech",
        "--expected-revision",
        &stale,
    ])
    .fails()
    .await;
    assert!(refused.contains("Aborted: "), "{refused}");
    let current = (created.revision + 1).to_string();
    let suspended = admin(&[
        "tenant",
        "suspend",
        "initech",
        "--expected-revision",
        &current,
    ])
    .ok()
    .await;
    assert!(suspended.contains("suspended  yes"), "{suspended}");
    let resumed = admin(&["tenant", "resume", "initech"]).ok().await;
    assert!(resumed.contains("suspended  no"), "{resumed}");

    // Limits given one at a time add up (the CLI keeps the others).
    admin(&["pipeline", "enable", "initech", "plugin-noop"])
        .ok()
        .await;
    admin(&[
        "pipeline",
        "configure",
        "initech",
        "plugin-noop",
        "--timeout-ms",
        "500",
    ])
    .ok()
    .await;
    let limited = admin(&[
        "pipeline",
        "configure",
        "initech",
        "plugin-noop",
        "--max-memory-bytes",
        "33554432",
        "--fail-closed",
        "true",
    ])
    .ok()
    .await;
    assert!(
        limited.contains("limits    timeout_ms=500 max_memory_bytes=33554432"),
        "{limited}"
    );
    assert!(limited.contains("[enabled, fail-closed]"), "{limited}");
    let reset = admin(&[
        "pipeline",
        "configure",
        "initech",
        "plugin-noop",
        "--reset-limits",
    ])
    .ok()
    .await;
    assert!(!reset.contains("limits"), "{reset}");
    let disabled = admin(&["pipeline", "disable", "initech", "plugin-noop"])
        .ok()
        .await;
    assert!(disabled.contains("1. plugin-noop  [disabled"), "{disabled}");
    let bad = admin(&[
        "pipeline",
        "configure",
        "initech",
        "plugin-noop",
        "--set",
        "nonsense=1",
    ])
    .fails()
    .await;
    assert!(bad.contains("InvalidArgument: "), "{bad}");
    let detached = admin(&["pipeline", "detach", "initech", "plugin-noop"])
        .ok()
        .await;
    assert!(detached.contains("plugins    none"), "{detached}");

    let deleted = admin(&["tenant", "delete", "initech"]).ok().await;
    assert_eq!(deleted.trim(), "deleted tenant 'initech'");
    let gone = admin(&["tenant", "show", "initech"]).fails().await;
    assert!(gone.contains("NotFound: "), "{gone}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_or_missing_token_is_refused() {
    let server = TestServer::start(&config("")).await;
    let wrong = Cli::admin(&server, &["tenant", "list"])
        .env("CROSSDESK_ADMIN_TOKEN", "not-the-token-0123456789")
        .fails()
        .await;
    assert!(wrong.contains("Unauthenticated"), "{wrong}");
    let missing = Cli::admin(&server, &["tenant", "list"])
        .env_remove("CROSSDESK_ADMIN_TOKEN")
        .fails()
        .await;
    assert!(missing.contains("Unauthenticated"), "{missing}");
    assert!(missing.contains("CROSSDESK_ADMIN_TOKEN"), "{missing}");
    // The token is taken from the environment, never echoed.
    assert!(!wrong.contains("not-the-token"), "{wrong}");
}

fn copy_plugin(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{name}.wasm"));
    std::fs::copy(plugin(name), &path).expect("copy plugin");
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_signatures_and_installed_plugins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("publisher.key");
    let key_arg = key.to_str().expect("utf-8 path");
    let generated = Cli::new(&["plugin", "keygen", "--out", key_arg]).ok().await;
    let field = |label: &str| {
        generated
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {label} in {generated}"))
    };
    let (public, id) = (field("public key:"), field("key id:"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = Cli::new(&["plugin", "keygen", "--out", key_arg])
        .fails()
        .await;
    assert!(again.contains("exists already"), "{again}");

    // Components the server's configuration does not install already.
    let tagger = copy_plugin(dir.path(), "plugin-tagger");
    let tagger_arg = tagger.to_str().expect("utf-8 path");
    Cli::new(&["plugin", "sign", tagger_arg, "--key", key_arg])
        .ok()
        .await;
    let signature = std::fs::read_to_string(dir.path().join("plugin-tagger.wasm.sig"))
        .expect("signature next to the component");
    let trusted = crossdesk_sidecar::signing::TrustedKeys::parse(std::slice::from_ref(&public))
        .expect("the printed public key");
    let component = std::fs::read(&tagger).expect("component");
    assert_eq!(
        trusted
            .verify(&component, Some(signature.trim()))
            .expect("verifies"),
        id
    );
    let counter = copy_plugin(dir.path(), "plugin-kv-counter");
    let counter_arg = counter.to_str().expect("utf-8 path");
    let counter_sig = dir.path().join("counter.sig");
    let counter_sig_arg = counter_sig.to_str().expect("utf-8 path");
    Cli::new(&[
        "plugin",
        "sign",
        counter_arg,
        "--key",
        key_arg,
        "--out",
        counter_sig_arg,
    ])
    .ok()
    .await;

    // A server trusting that key installs what it signed, and only that.
    let server = TestServer::start(&config(&format!("trusted_keys = [\"{public}\"]"))).await;
    let admin = |args: &[&str]| Cli::admin(&server, args);
    let unsigned_file = copy_plugin(dir.path(), "plugin-noop");
    let unsigned_arg = unsigned_file.to_str().expect("utf-8 path");
    let unsigned = admin(&["plugins", "install", unsigned_arg, "--name", "greeter"])
        .fails()
        .await;
    assert!(unsigned.contains("PermissionDenied: "), "{unsigned}");
    assert!(unsigned.contains("crossdesk plugin sign"), "{unsigned}");
    let installed = admin(&["plugins", "install", tagger_arg, "--name", "greeter"])
        .ok()
        .await;
    assert!(
        installed.contains(&format!("signed by    {id}")),
        "{installed}"
    );
    assert!(installed.contains("previous     none"), "{installed}");
    let upgraded = admin(&[
        "--json",
        "plugins",
        "install",
        counter_arg,
        "--name",
        "greeter",
        "--signature",
        counter_sig_arg,
    ])
    .ok()
    .await;
    let upgraded: pb::InstalledPlugin = parse("crossdesk.v1.InstalledPlugin", &upgraded);
    assert_eq!(upgraded.signed_by, id);
    assert!(!upgraded.previous_digest.is_empty());

    let listed = admin(&["plugins", "list"]).ok().await;
    assert!(listed.starts_with("NAME"), "{listed}");
    let row = listed
        .lines()
        .find(|l| l.starts_with("greeter "))
        .unwrap_or_else(|| panic!("greeter listed: {listed}"));
    assert!(row.contains(&upgraded.digest[..12]), "{listed}");
    assert!(row.contains(&id), "{listed}");

    let rolled_back = admin(&["--json", "plugins", "rollback", "greeter"])
        .ok()
        .await;
    let rolled_back: pb::InstalledPlugin = parse("crossdesk.v1.InstalledPlugin", &rolled_back);
    assert_eq!(rolled_back.digest, upgraded.previous_digest);
    let shown = admin(&["--json", "plugins", "show", "greeter"]).ok().await;
    let shown: pb::InstalledPlugin = parse("crossdesk.v1.InstalledPlugin", &shown);
    assert_eq!(shown.digest, rolled_back.digest);

    // Removal is refused while a tenant uses it.
    admin(&["pipeline", "enable", "acme", "greeter"]).ok().await;
    let in_use = admin(&["plugins", "remove", "greeter"]).fails().await;
    assert!(in_use.contains("FailedPrecondition: "), "{in_use}");
    admin(&["pipeline", "detach", "acme", "greeter"]).ok().await;
    let removed = admin(&["plugins", "remove", "greeter"]).ok().await;
    assert_eq!(removed.trim(), "removed plugin 'greeter'");
    let listed = admin(&["--json", "plugins", "list"]).ok().await;
    let listed: pb::ListPluginsResponse = parse("crossdesk.v1.ListPluginsResponse", &listed);
    assert!(listed.plugins.iter().all(|p| p.name != "greeter"));
    let audit = admin(&["audit"]).ok().await;
    for action in [
        "plugin.install",
        "plugin.upgrade",
        "plugin.rollback",
        "plugin.remove",
    ] {
        assert!(audit.contains(action), "{action} audited: {audit}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mutual_tls_with_a_client_certificate_needs_no_token() {
    let ca = Authority::new("Crossdesk admin CA");
    let files = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.to_str().expect("utf-8 path").to_owned()
    };
    let (cert, key) = ca.issue("localhost", false);
    let (cert, key, ca_file) = (
        write("server.pem", &cert),
        write("server.key", &key),
        write("ca.pem", &ca.cert.pem()),
    );
    let (client_cert, client_key) = ca.issue("ops", true);
    let (client_cert, client_key) = (
        write("client.pem", &client_cert),
        write("client.key", &client_key),
    );
    let tls = format!(
        "tls = {{ cert_file = {cert:?}, key_file = {key:?}, client_ca_file = {ca_file:?} }}"
    );
    let server = TestServer::start(&config(&tls)).await;
    let tls_args = [
        "--ca-file",
        &ca_file,
        "--tls-server-name",
        "localhost",
        "--cert-file",
        &client_cert,
        "--key-file",
        &client_key,
    ];
    let with_cert = |args: &[&str]| {
        Cli::admin(&server, &[&tls_args[..], args].concat()).env_remove("CROSSDESK_ADMIN_TOKEN")
    };
    with_cert(&["tenant", "create", "hooli"]).ok().await;
    let audit = with_cert(&["audit", "--tenant", "hooli"]).ok().await;
    assert!(audit.contains("client-certificate:"), "{audit}");

    // Plain HTTP to a TLS listener, or TLS without the CA, does not get through.
    Cli::admin(&server, &["tenant", "list"]).fails().await;
    let addr = server.admin_addr.expect("admin").to_string();
    let no_ca = Cli::admin(&server, &["tenant", "list"])
        .env("CROSSDESK_ADMIN_ADDR", &format!("https://{addr}"))
        .fails()
        .await;
    assert!(no_ca.contains("--ca-file"), "{no_ca}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_roster_is_imported_through_the_cli_as_csv() {
    let config = format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\n\
         users = [{{ name = \"ops\", token = \"{OPS}\", tenants = [\"*\"] }}]\n"
    ) + &install(&["schedule"])
        + "[[tenants]]\nid = \"acme\"\n[[tenants.plugins]]\nname = \"schedule\"\nkv = true\n";
    let server = TestServer::start(&config).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("roster.csv");
    std::fs::write(
        &csv,
        "id,name,languages,time_zone,availability,max_hours_per_week\n\
         ana,Ana,es;en,Europe/Madrid,mon-fri 09:00-17:00,32\n\
         ken,Ken,ja,Asia/Tokyo,mon-fri 09:00-18:00,\n",
    )
    .expect("write csv");
    let csv = csv.to_str().expect("utf-8 path");
    let args = [
        "import-data",
        "--tenant",
        "acme",
        "--plugin",
        "schedule",
        "--dataset",
        "roster",
        csv,
    ];
    let out = Cli::admin(&server, &args).ok().await;
    assert_eq!(
        out.trim(),
        "roster of tenant 'acme' imported: 2 agent(s), 3 language(s): en, es, ja (replacing 0 entries)"
    );
    let again = Cli::admin(&server, &args).ok().await;
    assert!(again.contains("(replacing 1 entries)"), "{again}");
    // A file whose extension names no format is read as `--format` says.
    let txt = dir.path().join("roster.txt");
    std::fs::copy(csv, &txt).expect("copy");
    let txt = txt.to_str().expect("utf-8 path");
    let by_extension = [&args[..7], &[txt]].concat();
    let refused = Cli::admin(&server, &by_extension).fails().await;
    assert!(refused.contains("no format 'txt'"), "{refused}");
    let as_csv = Cli::admin(&server, &[&by_extension[..], &["--format", "csv"]].concat())
        .ok()
        .await;
    assert!(as_csv.contains("(replacing 1 entries)"), "{as_csv}");
    let wrong = Cli::admin(
        &server,
        &[
            "import-data",
            "--tenant",
            "acme",
            "--plugin",
            "schedule",
            "--dataset",
            "catalog",
            csv,
        ],
    )
    .fails()
    .await;
    assert!(
        wrong.contains("InvalidArgument")
            && wrong.contains("plugin 'schedule' offers no dataset 'catalog' (it offers: roster)"),
        "{wrong}"
    );
}

/// A command's file, named by its plugin (a third party's, maybe), lands in
/// the admin's working folder under a plain name, and never replaces a file
/// there (a plugin naming its file `.bashrc` is refused by the same rule).
#[tokio::test(flavor = "multi_thread")]
async fn a_commands_file_never_replaces_one_in_the_working_folder() {
    let server = TestServer::start(
        &(config("")
            + &install(&["plugin-faq"])
            + "[[tenants.plugins]]\nname = \"plugin-faq\"\nkv = true\n"),
    )
    .await;
    let here = tempfile::tempdir().expect("tempdir");
    let export = || {
        let mut cli = Cli::admin(
            &server,
            &["command", "--tenant", "acme", "plugin-faq", "export"],
        );
        cli.command.current_dir(here.path());
        cli
    };
    let run = export().run().await;
    assert!(run.success, "{run:#?}");
    assert!(run.stderr.contains("wrote answers.csv"), "{run:#?}");
    assert!(!run.stdout.contains("wrote"), "{run:#?}");
    let answers = here.path().join("answers.csv");
    std::fs::write(&answers, "the admin's own\n").expect("write");
    let refused = export().fails().await;
    assert!(refused.contains("answers.csv exists already"), "{refused}");
    assert_eq!(
        std::fs::read_to_string(&answers).expect("kept"),
        "the admin's own\n"
    );
}
