//! A throwaway PostgreSQL server for tests, started on loopback with the project's
//! script (`scripts/postgres.sh`) in a folder of its own, and stopped (its folder
//! removed) when dropped.

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
    /// Installs PostgreSQL if needed and starts a fresh cluster.
    pub fn start() -> TestPostgres {
        install();
        let run_dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let output = Command::new("bash")
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

    /// `postgres://postgres@127.0.0.1:PORT/crossdesk`.
    pub fn url(&self) -> &str {
        &self.url
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
