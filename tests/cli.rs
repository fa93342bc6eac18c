//! The `crossdesk` binary as integrators and plugin authors use it: `serve` with the
//! embedded defaults and overrides, `send` with proto3 JSON events, `plugin run`,
//! and the translation plugin's data exchange (`translation import-tmx`,
//! `export-tmx`: aliases of `plugin exec translation ...`), all from the
//! workspace's root, as the README shows them.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crossdesk_integration_tests::logs::Logged;
use crossdesk_integration_tests::{
    compiled_dir, crossdesk_command, plugin, plugin_dir, workspace_dir,
};

fn bin() -> Command {
    crossdesk_command()
}

fn root() -> PathBuf {
    workspace_dir()
}

fn hello_plugin() -> PathBuf {
    plugin("hello-plugin")
}

struct Server(Child);

impl Server {
    /// `crossdesk serve` on a free port, its command given more by `configure`,
    /// and its address once it says where it listens.
    fn start(configure: impl FnOnce(&mut Command)) -> (Server, String) {
        let mut serve = bin();
        serve
            .current_dir(root())
            .args(["serve", "--listen", "127.0.0.1:0"]);
        configure(&mut serve);
        let mut child = serve
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start serve");
        let stdout = child.stdout.take().expect("stdout");
        let server = Server(child);
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read");
        let addr = line
            .trim()
            .strip_prefix("crossdesk listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        (server, addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Output piped into a reader that has gone (`| head`) ends the command as it
/// ends Unix tools, not with a panic.
#[test]
fn a_reader_gone_ends_a_command_quietly() {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = bin()
        .arg("default-config")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "{out:?}");
}

/// A caller's token read from the environment loses the white space around it:
/// a Kubernetes Secret mounted from a file ends in a newline no caller sends.
#[test]
fn a_token_from_the_environment_is_read_without_its_newline() {
    let data = tempfile::tempdir().expect("tempdir");
    let defaults = bin()
        .arg("default-config")
        .logged_output()
        .expect("defaults");
    let config = data.path().join("crossdesk.toml");
    std::fs::write(
        &config,
        format!(
            "{}\n[[callers]]\nname = \"bridge\"\ntoken_env = \"CD_TEST_CALLER_TOKEN\"\n\
             tenants = [\"*\"]\n",
            String::from_utf8_lossy(&defaults.stdout)
        ),
    )
    .expect("write config");
    let token = "caller-token-0123456789";
    let (_server, addr) = Server::start(|serve| {
        serve
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(data.path())
            .env("CD_TEST_CALLER_TOKEN", format!("{token}\n"));
    });
    let out = bin()
        .current_dir(root())
        .args(["send", "--addr", &addr, "--token", token])
        .arg("examples/events/customer-message.json")
        .logged_output()
        .expect("send");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn version_states_the_plugin_contracts() {
    let out = bin().arg("--version").logged_output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("plugin contracts: crossdesk:plugin@0.1.0, crossdesk:plugin@0.2.0"),
        "{text}"
    );
}

#[test]
fn serve_on_embedded_defaults_and_send_sample_events() {
    let _ = hello_plugin();
    let data = tempfile::tempdir().expect("tempdir");
    let (server, addr) = Server::start(|serve| {
        serve.arg("--data-dir").arg(data.path());
    });

    let out = bin()
        .current_dir(root())
        .args([
            "send",
            "--addr",
            &addr,
            "examples/events/customer-message.json",
        ])
        .logged_output()
        .expect("send");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"eventId\": \"demo-0001\""), "{text}");
    assert!(
        text.contains("STATUS_OK") && text.contains("refund"),
        "{text}"
    );

    // An unknown tenant: a clear error and a failing exit status.
    let bad = data.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"tenantId": "nobody", "eventId": "x", "kind": "EVENT_KIND_CUSTOMER_MESSAGE"}"#,
    )
    .expect("write");
    let out = bin()
        .args(["send", "--addr", &addr])
        .arg(&bad)
        .logged_output()
        .expect("send");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown tenant"));
    drop(server);
}

/// A TLS file that cannot be read is an error before anything listens, from
/// `check-config` as from `serve`, naming the setting and the file: not a
/// process that says it serves and runs without one of its APIs.
#[test]
fn an_unreadable_tls_file_stops_serve_before_it_listens() {
    let data = tempfile::tempdir().expect("tempdir");
    let config = data.path().join("crossdesk.toml");
    let missing = data.path().join("no-such-cert.pem");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n[server.tls]\ncert_file = {missing:?}\nkey_file = {missing:?}\n",
            data.path().join("data")
        ),
    )
    .expect("write config");
    for command in [&["check-config", "--config"][..], &["serve", "--config"]] {
        let out = bin()
            .args(command)
            .arg(&config)
            .logged_output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command:?}: {stdout}");
        assert!(!stdout.contains("listening"), "{command:?}: {stdout}");
        assert!(
            stderr.contains("server.tls") && stderr.contains("no-such-cert.pem"),
            "{command:?}: {stderr}"
        );
    }
}

/// An event API that would take events from anyone beyond loopback is refused
/// by `check-config` and `serve` (its `--listen` included), saying how to guard
/// it; the operator may allow it.
#[test]
fn an_event_api_open_to_anyone_is_refused_unless_allowed() {
    let data = tempfile::tempdir().expect("tempdir");
    let config = data.path().join("crossdesk.toml");
    let write = |listen: &str, extra: &str| {
        let text = format!(
            "listen = {listen:?}\ndata_dir = {:?}\n{extra}",
            data.path().join("data")
        );
        std::fs::write(&config, text).expect("write config");
    };
    let run = |args: &[&str]| bin().args(args).arg(&config).logged_output().expect("run");
    let refused = |out: std::process::Output| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{out:?}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
        assert!(
            stderr.contains("0.0.0.0:0") && stderr.contains("[[callers]]"),
            "{stderr}"
        );
    };
    write("127.0.0.1:0", "");
    let ok = run(&["check-config", "--config"]);
    assert!(ok.status.success(), "loopback: {ok:?}");
    refused(run(&["serve", "--listen", "0.0.0.0:0", "--config"]));
    write("0.0.0.0:0", "");
    refused(run(&["check-config", "--config"]));
    write("0.0.0.0:0", "[server]\nallow_unauthenticated = true\n");
    let ok = run(&["check-config", "--config"]);
    assert!(ok.status.success(), "allowed: {ok:?}");
}

/// The README's reference block for plugins and tenants loads as written (with
/// the plugin folder of this build and the secret it names).
#[test]
fn the_readmes_plugins_and_tenants_block_is_a_valid_configuration() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let after = readme
        .split_once("Plugins are installed by name and enabled per tenant")
        .expect("the section")
        .1;
    let block = after
        .split_once("```toml\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a TOML block")
        .0;
    let data = tempfile::tempdir().expect("tempdir");
    let config = data.path().join("crossdesk.toml");
    std::fs::write(
        &config,
        format!(
            "plugin_dir = {:?}\ndata_dir = {:?}\n{block}",
            plugin_dir(),
            data.path().join("data")
        ),
    )
    .expect("write config");
    let out = bin()
        .args(["check-config", "--config"])
        .arg(&config)
        .env("EXAMPLE_KEY", "example-S3CR3T")
        .logged_output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `check-config` reads the database's CA file as a start would (without
/// connecting), and names it when it cannot.
#[test]
fn check_config_reads_the_databases_ca_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("crossdesk.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\nurl = \"postgres://crossdesk@db.example/crossdesk?sslmode=require\"\n\
             ca_file = {:?}\n",
            dir.path().join("db-ca.pem")
        ),
    )
    .expect("write config");
    let out = bin()
        .args(["check-config", "--config"])
        .arg(&config)
        .logged_output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("db-ca.pem"), "{stderr}");
}

#[test]
fn plugin_run_prints_the_actions() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = bin()
        .current_dir(root())
        .arg("plugin")
        .arg("run")
        .arg(hello_plugin())
        .args([
            "--event",
            "examples/events/customer-message.json",
            "--kv",
            "--setting",
            "greeting=Hola",
            "--data-dir",
        ])
        .arg(data.path())
        .logged_output()
        .expect("plugin run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Hola! First message from Lucía Hernández."),
        "{text}"
    );
    // A setting the plugin does not declare is refused, as the host would.
    let out = bin()
        .current_dir(root())
        .arg("plugin")
        .arg("run")
        .arg(hello_plugin())
        .args(["--setting", "greting=Hola", "--data-dir"])
        .arg(data.path())
        .logged_output()
        .expect("plugin run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("greting"), "{err}");
}

/// `plugin run` calls a plugin only for kinds its manifest handles, as the host
/// does: by default with a sample of such a kind; an event of another is skipped.
#[test]
fn plugin_run_skips_what_the_plugin_does_not_handle() {
    let data = tempfile::tempdir().expect("tempdir");
    let run = |event: &[&str]| {
        bin()
            .current_dir(root())
            .args(["plugin", "run", "--data-dir"])
            .arg(data.path())
            .args(event)
            .arg(plugin("tone"))
            .logged_output()
            .expect("plugin run")
    };
    // Tone handles reply drafts only: the sample is a draft, and it is toned.
    let sample = run(&[]);
    let out = String::from_utf8_lossy(&sample.stdout);
    assert!(sample.status.success(), "{out} {sample:?}");
    assert!(out.contains("replaceDraft"), "{out}");
    let skipped = run(&["--event", "examples/events/customer-message.json"]);
    let err = String::from_utf8_lossy(&skipped.stderr);
    assert!(skipped.status.success(), "{err}");
    assert!(
        err.contains("skipped: the manifest does not handle customer-message events"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&skipped.stdout).contains("replaceDraft"));
}

/// `plugin run` grants nothing unasked; a plugin refused storage is told which
/// flag grants it, and runs with it.
#[test]
fn plugin_run_names_the_flag_a_refusal_calls_for() {
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(compiled_dir()).expect("compiled folder");
    std::os::unix::fs::symlink(compiled_dir(), data.path().join("compiled")).expect("link");
    let run = |grant: &[&str]| {
        bin()
            .args(["plugin", "run", "--data-dir"])
            .arg(data.path())
            .args(grant)
            .arg(plugin("plugin-kv-counter"))
            .logged_output()
            .expect("plugin run")
    };
    let refused = run(&[]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("--kv grants storage"), "{err}");
    let granted = run(&["--kv"]);
    let out = String::from_utf8_lossy(&granted.stdout);
    assert!(granted.status.success(), "{out}");
    assert!(out.contains("count: 1"), "{out}");

    // Another plugin's storage, which only an admin's kv_read grants (no
    // manifest declares it): refused, then read with --kv-read.
    let sample: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/events/customer-message.json"))
            .expect("sample"),
    )
    .expect("JSON");
    let mut event = sample;
    // The tenant of the sample the counter ran on.
    event["tenantId"] = "conformance".into();
    event["attributes"] = serde_json::json!({ "read": "@kv-counter/count" });
    let event_file = data.path().join("read-other.json");
    std::fs::write(&event_file, event.to_string()).expect("write");
    let probe = |grant: &[&str]| {
        bin()
            .args(["plugin", "run", "--kv", "--data-dir"])
            .arg(data.path())
            .arg("--event")
            .arg(&event_file)
            .args(grant)
            .arg(plugin("plugin-kv-probe"))
            .logged_output()
            .expect("plugin run")
    };
    let refused = probe(&[]);
    let out = String::from_utf8_lossy(&refused.stdout);
    assert!(
        out.contains("may not read the storage of plugin 'kv-counter'"),
        "{out} {refused:?}"
    );
    let read = probe(&["--kv-read", "kv-counter"]);
    let out = String::from_utf8_lossy(&read.stdout);
    assert!(read.status.success(), "{out} {read:?}");
    assert!(out.contains("read @kv-counter/count: 1"), "{out}");
}

#[test]
fn send_refuses_an_event_that_is_not_proto3_json() {
    let data = tempfile::tempdir().expect("tempdir");
    let bad = data.path().join("bad.json");
    std::fs::write(&bad, r#"{"tenant": "x"}"#).expect("write");
    let out = bin()
        .args(["send", "--addr", "127.0.0.1:9"])
        .arg(&bad)
        .logged_output()
        .expect("send");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tenant"), "{err}");
}

#[test]
fn translation_memory_goes_in_as_tmx_and_comes_back_out() {
    let data = tempfile::tempdir().expect("tempdir");
    let tmx = data.path().join("in.tmx");
    std::fs::write(
        &tmx,
        r#"<tmx version="1.4"><header srclang="en"/><body>
        <tu><tuv xml:lang="en"><seg>See you soon!</seg></tuv>
            <tuv xml:lang="de-DE"><seg>Bis bald!</seg></tuv></tu>
        </body></tmx>"#,
    )
    .expect("write");
    let run = |args: &[&str]| {
        bin()
            .args(["translation"])
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .logged_output()
            .expect("run")
    };
    let tmx_arg = tmx.to_str().expect("utf-8 path");
    let out = run(&["import-tmx", "--tenant", "demo", tmx_arg]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 new or changed"),
        "{out:?}"
    );
    let out = run(&["export-tmx", "--tenant", "demo"]);
    let exported = String::from_utf8_lossy(&out.stdout);
    assert!(
        exported.contains(r#"<tuv xml:lang="de"><seg>Bis bald!</seg></tuv>"#),
        "{exported}"
    );
    // Into a file when one is named, and nothing printed.
    let file = data.path().join("memory.tmx");
    let out = run(&[
        "export-tmx",
        "--tenant",
        "demo",
        "-o",
        file.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("<tmx"),
        "{out:?}"
    );
    let written = std::fs::read_to_string(&file).expect("the file named");
    assert!(written.contains("<seg>Bis bald!</seg>"), "{written}");
    // Another tenant's memory is empty.
    let out = run(&["export-tmx", "--tenant", "support"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("<tu "),
        "{out:?}"
    );
    // A broken file is refused, naming the file and the problem.
    std::fs::write(
        &tmx,
        "<tmx><body><tu><tuv xml:lang=\"en\"><seg>x</seg></tuv></tu></body></tmx>",
    )
    .expect("write");
    let out = run(&["import-tmx", "--tenant", "demo", tmx_arg]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in.tmx") && err.contains("unit 1"), "{err}");
}

/// An operator's dead-letter commands on the bridge's own queue file: the list,
/// a discard of one that will not be replayed, a replay of the rest; an id that
/// is no dead letter fails and says so.
#[tokio::test]
async fn bridge_dead_letters_are_listed_discarded_and_replayed() {
    use crossdesk_bridge::queue::JobState;
    use crossdesk_bridge::types::{Job, Target};
    let data = tempfile::tempdir().expect("temp dir");
    let file = data.path().join("bridge.toml");
    let config = format!(
        r#"
data_dir = {data:?}
sidecar = "http://127.0.0.1:1"

[[endpoints]]
name = "acme-zendesk"
helpdesk = "zendesk"
tenant = "acme"
base_url = "http://127.0.0.1:1"
signing_secret = "whsec-not-a-secret"
api_user = "bot@acme.example"
api_token = "token-not-a-secret"
"#,
        data = data.path().display().to_string()
    );
    std::fs::write(&file, config).expect("write the configuration");
    let config = crossdesk_bridge::BridgeConfig::load(&file).expect("valid");
    let queue = crossdesk_bridge::open_queue(&config).await.expect("queue");
    for ticket in ["1", "2"] {
        let job = Job {
            delivery_key: format!("d-{ticket}"),
            event_json: "{}".into(),
            target: Target {
                ticket_id: ticket.into(),
                ..Default::default()
            },
            ..Job::default()
        };
        queue
            .enqueue("acme-zendesk", &job, 0)
            .await
            .expect("queued");
        let batch = queue
            .claim("worker", 60_000, &[], None)
            .await
            .expect("claim")
            .expect("due");
        queue
            .fail(&batch, "404: the ticket was deleted", None)
            .await
            .expect("dead");
    }
    let dead = queue.list(JobState::Dead).await.expect("dead letters");
    let run = |args: &[&str]| {
        let output = bin()
            .arg("bridge")
            .args(args)
            .arg("--config")
            .arg(&file)
            .output()
            .expect("crossdesk bridge");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), stdout + &stderr)
    };
    let (ok, listed) = run(&["dead-letters"]);
    assert!(ok, "{listed}");
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.contains("the ticket was deleted"), "{listed}");
    let first = dead[0].id.to_string();
    // A page at a time: the next one named on standard error, which scripts
    // reading the listing do not see.
    let page = |args: &[&str]| {
        let output = bin()
            .args(["bridge", "dead-letters"])
            .args(args)
            .arg("--config")
            .arg(&file)
            .output()
            .expect("crossdesk bridge dead-letters");
        assert!(output.status.success(), "{output:?}");
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (text(&output.stdout), text(&output.stderr))
    };
    let (listed, next) = page(&["--limit", "1"]);
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.starts_with(&format!("{first}\t")), "{listed}");
    assert!(
        next.trim_end().ends_with(&format!("--after {first}")),
        "{next}"
    );
    let (listed, next) = page(&["--limit", "1", "--after", &first]);
    assert!(listed.starts_with(&format!("{}\t", dead[1].id)), "{listed}");
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(next.is_empty(), "the last page names none after it: {next}");
    // Ids and --all together are a mistake, not "all".
    let (ok, out) = run(&["discard", &first, "--all"]);
    assert!(!ok && out.contains("cannot be used with"), "{out}");
    let (ok, out) = run(&["discard", &first]);
    assert!(ok && out.contains("1 dead job(s) discarded"), "{out}");
    let (ok, out) = run(&["discard", &first]);
    assert!(!ok && out.contains("no dead letter has the id"), "{out}");
    let (ok, out) = run(&["replay", "--all"]);
    assert!(ok && out.contains("1 job(s) queued again"), "{out}");
    let (ok, listed) = run(&["dead-letters"]);
    assert!(ok && listed.contains("no dead letters"), "{listed}");
    let pending = queue.list(JobState::Pending).await.expect("pending");
    let keys: Vec<&str> = pending
        .iter()
        .map(|j| j.job.delivery_key.as_str())
        .collect();
    assert_eq!(keys, ["d-2"]);
}
