//! A throwaway PostgreSQL server for tests, started on loopback with the project's
//! script (`scripts/postgres.sh`) in a folder of its own. A test run shares one
//! server ([`TestPostgres::shared`]) and each test takes a database of its own
//! ([`TestPostgres::fresh_database`]); the script stops the shared server once the
//! test process has exited. A test that must kill its server starts one of its own
//! ([`TestPostgres::start`]), stopped when dropped. [`TestPostgres::down`] and
//! [`TestPostgres::up`] restart a server on the same data, as an operator would.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn script() -> PathBuf {
    workspace().join("scripts/postgres.sh")
}

/// A free loopback port (bound, then released for the server to take).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.local_addr().expect("local addr").port()
}

/// Runs `scripts/postgres.sh install` once per test process (it returns at once
/// when PostgreSQL is there already).
fn install() {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let installed = *INSTALLED.get_or_init(|| {
        Command::new("bash")
            .arg(script())
            .arg("install")
            .status()
            .is_ok_and(|status| status.success())
    });
    assert!(
        installed,
        "PostgreSQL is missing and `bash scripts/postgres.sh install` failed (it needs root \
         and Debian's package registry)"
    );
}

/// A PostgreSQL server on 127.0.0.1 with an empty database `crossdesk`, stopped
/// when dropped.
pub struct TestPostgres {
    pub port: u16,
    url: String,
    run_dir: tempfile::TempDir,
}

impl TestPostgres {
    /// The server this test process shares, started on first use; stopped by the
    /// script's watcher when the process exits.
    pub fn shared() -> &'static TestPostgres {
        static SHARED: OnceLock<TestPostgres> = OnceLock::new();
        SHARED.get_or_init(|| Self::launch(Some(std::process::id())))
    }

    /// An empty database of its own on the shared server, for one test: its URL.
    pub async fn fresh_database() -> String {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self::shared()
            .create_database(&format!("test_{n}"), "")
            .await
    }

    /// Installs PostgreSQL if needed and starts a cluster of the caller's own, for
    /// a test that stops or kills it.
    pub fn start() -> TestPostgres {
        Self::launch(None)
    }

    fn launch(owner: Option<u32>) -> TestPostgres {
        install();
        let run_dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut command = Command::new("bash");
        if let Some(owner) = owner {
            command.env("POSTGRES_OWNER_PID", owner.to_string());
        }
        let output = command
            .arg(script())
            .arg("start")
            .arg(port.to_string())
            .env("POSTGRES_RUN_DIR", run_dir.path())
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/postgres.sh");
        assert!(
            output.status.success(),
            "PostgreSQL did not start (see the script's messages above)"
        );
        // The script prints the URL as its last line.
        let url = String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .map(str::trim)
            .unwrap_or_default()
            .to_owned();
        assert!(
            url.starts_with("postgres://"),
            "scripts/postgres.sh printed no URL: {url:?}"
        );
        TestPostgres { port, url, run_dir }
    }

    /// Stops the server cleanly (`pg_ctl stop -m fast`: sessions end, committed
    /// data stays), keeping its cluster for [`TestPostgres::up`].
    pub fn down(&self) {
        self.run_script("down");
    }

    /// Starts the cluster [`TestPostgres::down`] stopped again, on the same port;
    /// returns once it accepts connections.
    pub fn up(&self) {
        self.run_script("up");
    }

    fn run_script(&self, command: &str) {
        let status = Command::new("bash")
            .arg(script())
            .arg(command)
            .env("POSTGRES_RUN_DIR", self.run_dir.path())
            .stdin(Stdio::null())
            .status()
            .expect("run scripts/postgres.sh");
        assert!(
            status.success(),
            "scripts/postgres.sh {command} failed (see its messages above)"
        );
    }

    /// `postgres://postgres@127.0.0.1:PORT/crossdesk`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA that signed this server's certificate (scripts/postgres.sh makes
    /// both), for clients that ask for TLS.
    pub fn ca_file(&self) -> PathBuf {
        self.run_dir.path().join("tls/ca.crt")
    }

    /// The URL of database `name` on this server.
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A plain client of the database at `url`, for what a test does behind the
    /// store's back (its connection runs on a task of the current runtime).
    pub async fn client(url: &str) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to the test PostgreSQL");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }

    /// Creates an empty database `name` (extra SQL after `CREATE DATABASE name`,
    /// e.g. a collation, in `options`) and returns its URL.
    pub async fn create_database(&self, name: &str, options: &str) -> String {
        Self::client(&self.url)
            .await
            .batch_execute(&format!("CREATE DATABASE \"{name}\" {options}"))
            .await
            .unwrap_or_else(|e| panic!("create database {name}: {e:?}"));
        self.database_url(name)
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .env("POSTGRES_RUN_DIR", self.run_dir.path())
            .stdin(Stdio::null())
            .status();
    }
}
