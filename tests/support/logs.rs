//! What the servers and commands of a test run say, kept for the leak check.
//!
//! Every secret the suite configures (tokens, signing secrets, secret headers,
//! master keys) carries [`SECRET_MARK`]. The in-process servers log at trace level
//! (every event's whole response, every refusal, every plugin log line) into
//! `target/test-logs/`, where the `crossdesk` processes a test starts write their
//! standard error too; after the suite, `scripts/leak-check.sh` fails the run if
//! the mark appears in any of it.

use std::path::PathBuf;
use std::sync::Once;

/// The mark in every secret of the suite.
pub const SECRET_MARK: &str = "S3CR3T";

/// The folder of the run's logs.
pub fn dir() -> PathBuf {
    crate::workspace_dir().join("target/test-logs")
}

/// The filter the suite's servers log with: everything Crossdesk says, and the
/// warnings of the rest.
pub const FILTER: &str = "warn,crossdesk=trace,crossdesk_sidecar=trace,crossdesk_bridge=trace";

/// Sends this process's tracing to `target/test-logs/suite-<pid>.log` (once).
pub fn record() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = dir();
        std::fs::create_dir_all(&dir).expect("create target/test-logs");
        let file = std::fs::File::create(dir.join(format!("suite-{}.log", std::process::id())))
            .expect("create the suite's log");
        // Another subscriber set first (a test of its own) keeps its place.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(FILTER))
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .try_init();
        // Crossdesk logs through tracing; what comes through the `log` crate is the
        // dependencies' (Cranelift traces every function it compiles), and FILTER
        // keeps only their warnings. Filtered at the macro, not by the subscriber,
        // a plugin compiles 4 times faster.
        log::set_max_level(log::LevelFilter::Warn);
    });
}

/// A file for a child process's standard error in the run's logs.
pub fn child_stderr(name: &str) -> std::process::Stdio {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = dir();
    std::fs::create_dir_all(&dir).expect("create target/test-logs");
    let path = dir.join(format!("{name}-{}-{n}.log", std::process::id()));
    std::fs::File::create(&path)
        .map(std::process::Stdio::from)
        .unwrap_or_else(|e| panic!("create {}: {e}", path.display()))
}

/// Keeps what a finished `crossdesk` command printed (both streams) in the run's logs.
pub fn keep(name: &str, output: &std::process::Output) {
    let path = dir().join(format!("{name}-{}.log", std::process::id()));
    let _ = std::fs::create_dir_all(dir());
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    use std::io::Write;
    file.write_all(&output.stdout)
        .and_then(|()| file.write_all(&output.stderr))
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// `Command::output`, keeping what the command printed in the run's logs.
pub trait Logged {
    fn logged_output(&mut self) -> std::io::Result<std::process::Output>;
}

impl Logged for std::process::Command {
    fn logged_output(&mut self) -> std::io::Result<std::process::Output> {
        let output = self.output()?;
        keep("command", &output);
        Ok(output)
    }
}
