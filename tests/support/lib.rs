//! Test support: starts the real sidecar on a loopback port with a configuration
//! written by the test, and hands out tonic clients for it.
//!
//! Plugins come from `target/plugins/`, where `make plugins` builds every plugin
//! crate of the workspace (including the hostile fixtures in `tests/plugins/`).
//! Every server and `crossdesk` process of a run shares one folder of compiled
//! plugins ([`compiled_dir`]): artifacts are named by content and engine hash, so
//! each plugin is compiled once per run, not once per server.

pub mod balancer;
pub mod browser;
pub mod certs;
pub mod cloud;
pub mod engine;
pub mod helpdesk;
pub mod logs;
pub mod postgres;
pub mod process;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use crossdesk_proto::pb;
use std::sync::Arc;

use crossdesk_proto::pb::admin_service_client::AdminServiceClient;
use crossdesk_proto::pb::event_service_client::EventServiceClient;
use tokio::sync::watch;
use tonic::transport::Channel;

/// The workspace's root folder.
pub fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Folder holding the built plugins.
pub fn plugin_dir() -> PathBuf {
    workspace_dir().join("target/plugins")
}

/// Compiled plugins shared by every test server and `crossdesk` process.
pub fn compiled_dir() -> PathBuf {
    workspace_dir().join("target/test-compiled")
}

/// Path of a built plugin, e.g. `plugin("plugin-noop")`; panics with the command
/// that builds it when it is missing.
pub fn plugin(name: &str) -> PathBuf {
    let path = plugin_dir().join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run `make plugins` (or `make test`) first",
        path.display()
    );
    path
}

/// The name of the configuration file a [`TestServer`] writes in its data folder.
pub const CONFIG_FILE: &str = "crossdesk.toml";

/// `--config FILE` for a [`TestServer`]'s data folder when it holds the server's
/// configuration, else `--data-dir DIR` (the embedded configuration's tenants).
pub fn data_args(data_dir: &std::path::Path) -> [std::ffi::OsString; 2] {
    let file = data_dir.join(CONFIG_FILE);
    if file.exists() {
        ["--config".into(), file.into()]
    } else {
        ["--data-dir".into(), data_dir.into()]
    }
}

/// A sidecar running in this process on 127.0.0.1, stopped when dropped. With an
/// `[admin]` section in its configuration it also serves the admin API.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The admin API's address, when `[admin]` is configured.
    pub admin_addr: Option<SocketAddr>,
    pub data_dir: tempfile::TempDir,
    pub sidecar: Arc<crossdesk_sidecar::Sidecar>,
    stop: Option<watch::Sender<bool>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server with `config` (TOML). `listen`, `data_dir` and `plugin_dir`
    /// are set by this function.
    pub async fn start(config: &str) -> TestServer {
        let data_dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(config, data_dir).await
    }

    /// Like [`TestServer::start`], keeping data in `data_dir` (to test restarts).
    /// The configuration is also written to [`TestServer::config_file`], for the
    /// `crossdesk` commands a test runs against this server's data.
    pub async fn start_in(config: &str, data_dir: tempfile::TempDir) -> TestServer {
        logs::record();
        let file = format!(
            "data_dir = {:?}\nplugin_dir = {:?}\ncompiled_dir = {:?}\n{config}",
            data_dir.path(),
            plugin_dir(),
            compiled_dir()
        );
        std::fs::write(data_dir.path().join(CONFIG_FILE), file).expect("write the config file");
        let mut config = crossdesk_sidecar::Config::parse(config).expect("test config is valid");
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.data_dir = data_dir.path().to_owned();
        config.plugin_dir = plugin_dir();
        config.compiled_dir = Some(compiled_dir());
        let sidecar = crossdesk_sidecar::Sidecar::build(&config)
            .await
            .expect("sidecar starts");
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let admin_listener = match &config.admin {
            Some(_) => Some(
                tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                    .await
                    .expect("bind loopback (admin)"),
            ),
            None => None,
        };
        let admin_addr = admin_listener
            .as_ref()
            .map(|l| l.local_addr().expect("local addr"));
        let (stop, stopped) = watch::channel(false);
        let until_stopped = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        let settings = config.server.clone();
        let admin = config.admin.clone();
        let event_sidecar = sidecar.clone();
        let admin_sidecar = sidecar.clone();
        let task = tokio::spawn(async move {
            let events = crossdesk_sidecar::api::serve(
                event_sidecar,
                &settings,
                listener,
                until_stopped(stopped.clone()),
            );
            let admin = async {
                if let (Some(settings), Some(listener)) = (admin, admin_listener) {
                    crossdesk_sidecar::admin::serve_admin(
                        admin_sidecar,
                        &settings,
                        listener,
                        until_stopped(stopped),
                    )
                    .await
                    .expect("admin API runs");
                }
            };
            let (events, ()) = tokio::join!(events, admin);
            events.expect("server runs");
        });
        TestServer {
            addr,
            admin_addr,
            data_dir,
            sidecar,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A connected admin API client (the server must have `[admin]`); give each
    /// request a token with [`as_admin`].
    pub async fn admin(&self) -> AdminServiceClient<Channel> {
        let addr = self
            .admin_addr
            .expect("the test config has an [admin] section");
        AdminServiceClient::connect(format!("http://{addr}"))
            .await
            .expect("connect to the admin API")
    }

    /// The server's configuration as a file (`--config` of `crossdesk` commands).
    pub fn config_file(&self) -> PathBuf {
        self.data_dir.path().join(CONFIG_FILE)
    }

    /// The `http://` URI of the server.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A connected event API client.
    pub async fn client(&self) -> EventServiceClient<Channel> {
        EventServiceClient::connect(self.uri())
            .await
            .expect("connect to the test server")
    }

    /// Sends one event with a fresh client and returns the response; panics, naming
    /// the event, when the call fails.
    pub async fn handle(&self, event: pb::Event) -> pb::HandleEventResponse {
        let id = event.event_id.clone();
        self.client()
            .await
            .handle_event(request(event))
            .await
            .unwrap_or_else(|e| panic!("event {id}: {e:?}"))
            .into_inner()
    }

    /// A raw channel, for health and reflection clients.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.uri())
            .expect("uri")
            .connect()
            .await
            .expect("connect")
    }

    /// Stops the server and waits for it, keeping the data folder.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.shutdown().await;
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.data_dir, dir)
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }
}

/// `message` as a request carrying `authorization: Bearer <token>`.
pub fn as_admin<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii token"),
    );
    request
}

/// The `crossdesk` binary (`make test` builds it before the tests).
pub fn crossdesk_bin() -> PathBuf {
    crossdesk_bin_of("debug")
}

/// The `crossdesk` binary built with cargo profile folder `profile` (`debug`,
/// `release`), in this build's target folder; panics with the command that builds
/// it when it is missing.
pub fn crossdesk_bin_of(profile: &str) -> PathBuf {
    let target = option_env!("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let path = target.join(profile).join("crossdesk");
    let flag = if profile == "debug" { "" } else { " --release" };
    assert!(
        path.exists(),
        "{} is missing: run `cargo build{flag} -p crossdesk` (make test does the debug build)",
        path.display()
    );
    path
}

/// The `crossdesk` binary as a command run from the workspace's root (where the
/// embedded configuration finds `target/plugins`), sharing [`compiled_dir`].
pub fn crossdesk_command() -> std::process::Command {
    crossdesk_command_of(&crossdesk_bin())
}

/// Like [`crossdesk_command`], running `binary` (e.g. [`crossdesk_bin_of`]`("release")`).
pub fn crossdesk_command_of(binary: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(binary);
    command
        .current_dir(workspace_dir())
        .env("CROSSDESK_COMPILED_DIR", compiled_dir());
    command
}

/// A customer message for `tenant` with id `event_id`.
pub fn customer_message(tenant: &str, event_id: &str, text: &str) -> pb::Event {
    pb::Event {
        tenant_id: tenant.into(),
        event_id: event_id.into(),
        kind: pb::EventKind::CustomerMessage as i32,
        ticket_id: "T-1".into(),
        channel: pb::Channel::Email as i32,
        customer: Some(pb::Customer {
            id: "cust-1".into(),
            locale: "de-DE".into(),
            country: "DE".into(),
            time_zone: "Europe/Berlin".into(),
            ..Default::default()
        }),
        text: text.into(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: 1_795_000_000,
            nanos: 0,
        }),
        ..Default::default()
    }
}

/// Wraps an event in a request.
pub fn request(event: pb::Event) -> pb::HandleEventRequest {
    pb::HandleEventRequest { event: Some(event) }
}

/// The outcome of `plugin` in a response.
pub fn outcome<'a>(response: &'a pb::HandleEventResponse, plugin: &str) -> &'a pb::PluginOutcome {
    response
        .outcomes
        .iter()
        .find(|o| o.plugin == plugin)
        .unwrap_or_else(|| panic!("no outcome for {plugin} in {response:#?}"))
}

/// The texts of all internal notes of a response.
pub fn notes(response: &pb::HandleEventResponse) -> Vec<String> {
    response
        .actions
        .iter()
        .filter_map(|a| match &a.kind {
            Some(pb::action::Kind::InternalNote(text)) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// Every tag added by a response's actions.
pub fn tags(response: &pb::HandleEventResponse) -> Vec<String> {
    response
        .actions
        .iter()
        .filter_map(|a| match &a.kind {
            Some(pb::action::Kind::AddTags(t)) => Some(t.tags.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Writes `dir/crossdesk.toml` (data in `dir/data`): `sections` (TOML, e.g.
/// `[storage]`), then kv-counter for tenant acme with storage and `settings` (the
/// body of a TOML inline table, e.g. `spin_ms = "20"`). Returns its path.
pub fn kv_counter_config(dir: &std::path::Path, sections: &str, settings: &str) -> PathBuf {
    let path = dir.join("crossdesk.toml");
    let text = format!(
        "data_dir = {data:?}\nplugin_dir = {plugins:?}\n{sections}\n",
        data = dir.join("data").display().to_string(),
        plugins = plugin_dir().display().to_string(),
    ) + &install(&["plugin-kv-counter"])
        + &format!(
            "[[tenants]]\nid = \"acme\"\n[[tenants.plugins]]\nname = \"plugin-kv-counter\"\n\
             kv = true\nsettings = {{ {settings} }}\n"
        );
    std::fs::write(&path, text).expect("write config");
    path
}

/// `[outbound]` listing loopback as private: the engines and simulators tests
/// start listen there, and loopback is refused otherwise.
pub const LOOPBACK_OUTBOUND: &str = "[outbound]\nprivate_hosts = [\"127.0.0.1\"]\n";

/// A tenant's `[[tenants.plugins]]` entry for the translation plugin with storage,
/// reaching the engine at `engine_url` (its host allowed), with `settings` (the
/// body of an inline table, `engine_url` added) and `extra` lines (`limits = …`,
/// `secrets = …`).
pub fn translation_step(engine_url: &str, settings: &str, extra: &str) -> String {
    let host = engine_url
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap_or_default();
    let settings = if settings.is_empty() {
        format!("engine_url = {engine_url:?}")
    } else {
        format!("engine_url = {engine_url:?}, {settings}")
    };
    format!(
        "[[tenants.plugins]]\nname = \"translation\"\nkv = true\nallowed_hosts = [{host:?}]\n\
         settings = {{ {settings} }}\n{extra}\n"
    )
}

/// A config installing the named built plugins (`name` = file stem) and nothing else.
pub fn install(plugins: &[&str]) -> String {
    plugins
        .iter()
        .map(|name| {
            // Fail early, with the build command, when a plugin is missing.
            let _ = plugin(name);
            format!("[[plugins]]\nname = \"{name}\"\npath = \"{name}.wasm\"\n")
        })
        .collect()
}

/// A loopback HTTP server that records each request head and answers after `delay`.
pub async fn recording_http_server(
    delay: std::time::Duration,
) -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
                tokio::time::sleep(delay).await;
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
                    )
                    .await;
            });
        }
    });
    (addr, rx)
}
