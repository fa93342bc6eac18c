//! The sidecar (`crossdesk serve`) and the bridge (`crossdesk bridge serve`) as
//! separate processes, for tests that kill them with SIGKILL and start them again
//! on the same data.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A running `crossdesk serve`; killed (SIGKILL) when dropped.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    pub admin_addr: Option<SocketAddr>,
    /// The operations listener (`[ops]`), when configured.
    pub ops_addr: Option<SocketAddr>,
}

/// How [`ServerProcess::launch`] starts the sidecar, beyond its configuration.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The event API's address (`--listen`); a free port by default. A fixed one
    /// lets a restarted sidecar take its predecessor's place for its clients.
    pub listen: SocketAddr,
    /// The `crossdesk` binary (default: the debug build, [`crate::crossdesk_bin`]).
    pub binary: PathBuf,
    /// Where the server's log goes (appended); the run's logs
    /// (`target/test-logs`, see [`crate::logs`]) by default.
    pub log: Option<PathBuf>,
}

impl Default for Launch {
    fn default() -> Self {
        Launch {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            binary: crate::crossdesk_bin(),
            log: None,
        }
    }
}

impl ServerProcess {
    /// Starts `crossdesk serve --config <config>` with `envs`, listening on free
    /// loopback ports, and waits until it says where it listens.
    pub fn start(config: &Path, envs: &[(&str, &str)]) -> ServerProcess {
        Self::launch(config, envs, &Launch::default())
    }

    /// `count` replicas, each with a folder of its own in `dir` (`replica-N`),
    /// where `config` writes its configuration.
    pub fn replicas(
        dir: &Path,
        count: usize,
        config: impl Fn(&Path) -> PathBuf,
        envs: &[(&str, &str)],
    ) -> Vec<ServerProcess> {
        (0..count)
            .map(|i| {
                let replica_dir = dir.join(format!("replica-{i}"));
                std::fs::create_dir_all(&replica_dir).expect("a replica's folder");
                ServerProcess::start(&config(&replica_dir), envs)
            })
            .collect()
    }

    /// Like [`ServerProcess::start`], started as `launch` says.
    pub fn launch(config: &Path, envs: &[(&str, &str)], launch: &Launch) -> ServerProcess {
        // By default the server logs everything into the run's logs, for the leak
        // check; a log of the launcher's own (the soak's) gets warnings only.
        let (stderr, filter) = match &launch.log {
            None => (crate::logs::child_stderr("serve"), crate::logs::FILTER),
            Some(path) => (
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map(Stdio::from)
                    .unwrap_or_else(|e| panic!("open the server log {}: {e}", path.display())),
                "warn",
            ),
        };
        let mut command = crate::crossdesk_command_of(&launch.binary);
        command
            .arg("serve")
            .arg("--config")
            .arg(config)
            .arg("--listen")
            .arg(launch.listen.to_string())
            .env("RUST_LOG", filter)
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (key, value) in envs {
            command.env(key, value);
        }
        // Owned by the guard from the start: killed and reaped whatever happens.
        let mut server = ServerProcess {
            child: command.spawn().expect("start crossdesk serve"),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_addr: None,
            ops_addr: None,
        };
        let rx = stdout_lines(&mut server.child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|e| {
                // The server's own words, when they went to a file.
                let log = launch.log.as_ref().map_or_else(String::new, |path| {
                    let text = std::fs::read_to_string(path).unwrap_or_default();
                    let lines: Vec<&str> = text.lines().collect();
                    format!(
                        "; the end of its log:\n{}",
                        lines[lines.len().saturating_sub(20)..].join("\n")
                    )
                });
                panic!("crossdesk serve did not say where it listens ({e}){log}")
            });
            if let Some(addr) = line.strip_prefix("crossdesk admin API listening on ") {
                server.admin_addr = Some(addr.parse().expect("admin address"));
            } else if let Some(addr) = line.strip_prefix("crossdesk ops listening on ") {
                server.ops_addr = Some(addr.parse().expect("ops address"));
            } else if let Some(addr) = line.strip_prefix("crossdesk listening on ") {
                server.addr = addr.parse().expect("address");
                return server;
            }
        }
    }

    /// The process id (to read its memory use in `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the process with SIGTERM, as an orchestrator does, and waits for it
    /// to exit by itself (five minutes at most).
    pub fn stop(self) {
        self.stop_within(Duration::from_secs(300));
    }

    /// Sends SIGTERM, as an orchestrator does, and returns: the process drains.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_some()
    }

    /// Stops the process with SIGTERM; it must exit by itself, and successfully,
    /// within `limit` (else it is killed when dropped, and the test fails).
    pub fn stop_within(mut self, limit: Duration) {
        self.terminate();
        let deadline = Instant::now() + limit;
        let exit = loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                break exit;
            }
            assert!(
                Instant::now() < deadline,
                "crossdesk serve still runs {limit:?} after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            exit.success(),
            "crossdesk serve exited with {exit} on SIGTERM"
        );
    }

    /// Kills the process with SIGKILL (no shutdown, no flushing) and reaps it.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

/// The lines the child prints, read on a thread of their own.
fn stdout_lines(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// A running `crossdesk bridge serve`; killed (SIGKILL) when dropped.
pub struct BridgeProcess {
    child: Child,
    /// Where it takes webhooks.
    pub addr: SocketAddr,
}

impl BridgeProcess {
    /// Starts `crossdesk bridge serve --config <config>` on a free loopback port
    /// and waits until it says where it listens.
    pub fn start(config: &Path, envs: &[(&str, &str)]) -> BridgeProcess {
        let mut command = crate::crossdesk_command_of(&crate::crossdesk_bin());
        command
            .args(["bridge", "serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(config)
            .env("RUST_LOG", crate::logs::FILTER)
            .stdout(Stdio::piped())
            .stderr(crate::logs::child_stderr("bridge"));
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut bridge = BridgeProcess {
            child: command.spawn().expect("start crossdesk bridge serve"),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let lines = stdout_lines(&mut bridge.child);
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|e| panic!("crossdesk bridge did not say where it listens ({e})"));
            if let Some(addr) = line.strip_prefix("crossdesk bridge listening on ") {
                bridge.addr = addr.parse().expect("address");
                return bridge;
            }
        }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kills the process with SIGKILL (no shutdown) and reaps it.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for BridgeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
