//! The sidecar as a separate process (`crossdesk serve`), for tests that kill it
//! with SIGKILL and start it again on the same data.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A running `crossdesk serve`; killed (SIGKILL) when dropped.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    pub admin_addr: Option<SocketAddr>,
}

impl ServerProcess {
    /// Starts `crossdesk serve --config <config>` with `envs`, listening on free
    /// loopback ports, and waits until it says where it listens.
    pub fn start(config: &Path, envs: &[(&str, &str)]) -> ServerProcess {
        let mut command = crate::crossdesk_command();
        command
            .arg("serve")
            .arg("--config")
            .arg(config)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env("RUST_LOG", crate::logs::FILTER)
            .stdout(Stdio::piped())
            .stderr(crate::logs::child_stderr("serve"));
        for (key, value) in envs {
            command.env(key, value);
        }
        // Owned by the guard from the start: killed and reaped whatever happens.
        let mut server = ServerProcess {
            child: command.spawn().expect("start crossdesk serve"),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_addr: None,
        };
        let stdout = server.child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("crossdesk serve printed where it listens");
            if let Some(addr) = line.strip_prefix("crossdesk admin API listening on ") {
                server.admin_addr = Some(addr.parse().expect("admin address"));
            } else if let Some(addr) = line.strip_prefix("crossdesk listening on ") {
                server.addr = addr.parse().expect("address");
                return server;
            }
        }
    }

    /// Kills the process with SIGKILL (no shutdown, no flushing) and reaps it.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
