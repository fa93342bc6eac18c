//! HAProxy in front of sidecar replicas: a real gRPC load balancer on loopback
//! (`scripts/haproxy.sh` installs it). HTTP/2 on both sides, balanced per request
//! (round robin over the replicas), so one client connection reaches them all.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running HAProxy; stopped when dropped.
pub struct Balancer {
    child: Child,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

fn haproxy() -> &'static str {
    if std::path::Path::new("/usr/sbin/haproxy").exists() {
        "/usr/sbin/haproxy"
    } else {
        "haproxy"
    }
}

impl Balancer {
    /// Starts HAProxy on a free loopback port, balancing over `backends`, and
    /// waits until it accepts connections.
    pub fn start(backends: &[SocketAddr]) -> Balancer {
        let status = Command::new("bash")
            .arg(crate::workspace_dir().join("scripts/haproxy.sh"))
            .status()
            .expect("run scripts/haproxy.sh");
        assert!(status.success(), "HAProxy could not be installed");
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let dir = tempfile::tempdir().expect("temp dir");
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, backend)| format!("  server replica{i} {backend} proto h2\n"))
            .collect();
        let config = format!(
            "global\n  maxconn 4096\n\
             defaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n\
             frontend grpc\n  bind {addr} proto h2\n  default_backend replicas\n\
             backend replicas\n  balance roundrobin\n{servers}"
        );
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).expect("write haproxy.cfg");
        let child = Command::new(haproxy())
            .arg("-f")
            .arg(&path)
            .arg("-db")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start haproxy");
        let balancer = Balancer {
            child,
            addr,
            _dir: dir,
        };
        let since = Instant::now();
        let mut balancer = balancer;
        while std::net::TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = balancer.child.try_wait() {
                panic!("HAProxy exited ({status}): see its messages above");
            }
            assert!(
                since.elapsed() < Duration::from_secs(10),
                "HAProxy did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        balancer
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
