//! Translation engines for end-to-end tests: a real Apertium APy started on
//! loopback with the project's script, and an HTTP front that stands before it to
//! count the requests that reach the engine, or to misbehave (hang, send garbage),
//! from the start or from a moment a test chooses ([`EngineFront::set_behaviour`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A free loopback port (bound, then released for the server to take).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.local_addr().expect("local addr").port()
}

/// A real Apertium APy on 127.0.0.1, stopped when dropped.
pub struct Apertium {
    pub port: u16,
    run_dir: tempfile::TempDir,
}

impl Apertium {
    /// The APy this test process shares (it loads every pair once, which takes
    /// seconds), started on first use and stopped by the script's watcher when the
    /// process exits; the watcher removes its run directory too (a static is never
    /// dropped). Tests that count requests put an [`EngineFront`] before it.
    pub fn shared() -> &'static Apertium {
        static SHARED: std::sync::OnceLock<Apertium> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| Self::launch(Some(std::process::id())))
    }

    /// Starts an APy of the caller's own with `scripts/apertium.sh` (which `make
    /// test` has installed).
    pub fn start() -> Apertium {
        Self::launch(None)
    }

    fn launch(owner: Option<u32>) -> Apertium {
        let script = workspace().join("scripts/apertium.sh");
        let mut run_dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut command = std::process::Command::new("bash");
        if let Some(owner) = owner {
            command
                .env("APERTIUM_OWNER_PID", owner.to_string())
                .env("APERTIUM_REMOVE_RUN_DIR", "1");
        }
        let status = command
            .arg(&script)
            .arg("start")
            .arg(port.to_string())
            .env("APERTIUM_RUN_DIR", run_dir.path())
            .status()
            .expect("run scripts/apertium.sh");
        assert!(
            status.success(),
            "Apertium APy did not start; install it with `bash scripts/apertium.sh install` \
             (`make test` does)"
        );
        // The owner's watcher removes it once the server has stopped.
        run_dir.disable_cleanup(owner.is_some());
        Apertium { port, run_dir }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Translates a word with `langpair` (such as `spa|eng`): APy starts a pair's
    /// processes at its first translation, which on a busy machine takes longer
    /// than a test's engine timeout.
    pub async fn warm(&self, langpair: &str) {
        let answer = reqwest::Client::new()
            .get(format!("{}/translate", self.url()))
            .query(&[("langpair", langpair), ("q", "hola")])
            .timeout(std::time::Duration::from_secs(60))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status);
        if let Err(e) = answer {
            panic!("APy did not translate with {langpair}: {e}");
        }
    }
}

impl Drop for Apertium {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(workspace().join("scripts/apertium.sh"))
            .arg("stop")
            .env("APERTIUM_RUN_DIR", self.run_dir.path())
            .status();
    }
}

/// What the front does with a request.
#[derive(Clone)]
pub enum Behaviour {
    /// Forwards to the engine at this base URL.
    Forward(String),
    /// Accepts and never answers.
    Hang,
    /// Answers 200 with a body that is no engine's JSON.
    Garbage,
}

/// An HTTP server on loopback that counts requests by path, in front of an engine.
pub struct EngineFront {
    pub addr: SocketAddr,
    counts: Arc<Counts>,
    behaviour: Arc<Mutex<Behaviour>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Counts {
    translate: AtomicUsize,
    other: AtomicUsize,
}

impl EngineFront {
    pub async fn start(behaviour: Behaviour) -> EngineFront {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let counts = Arc::new(Counts::default());
        let behaviour = Arc::new(Mutex::new(behaviour));
        let client = reqwest::Client::new();
        let shared = (counts.clone(), behaviour.clone(), client);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (counts, behaviour, client) = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        // What the front does now, for this request.
                        let behaviour = behaviour.lock().map_or(Behaviour::Hang, |b| b.clone());
                        handle(request, counts.clone(), behaviour, client.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        EngineFront {
            addr,
            counts,
            behaviour,
            task,
        }
    }

    /// Requests from now on get `behaviour`; those already held stay held.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        if let Ok(mut current) = self.behaviour.lock() {
            *current = behaviour;
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Translation requests that reached the front.
    pub fn translations(&self) -> usize {
        self.counts.translate.load(Ordering::SeqCst)
    }

    /// Other requests (pair lists) that reached the front.
    pub fn other_requests(&self) -> usize {
        self.counts.other.load(Ordering::SeqCst)
    }
}

impl Drop for EngineFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    request: Request<Incoming>,
    counts: Arc<Counts>,
    behaviour: Behaviour,
    client: reqwest::Client,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.uri().path().ends_with("/translate") {
        counts.translate.fetch_add(1, Ordering::SeqCst);
    } else {
        counts.other.fetch_add(1, Ordering::SeqCst);
    }
    let reply = |status: u16, body: Bytes| {
        let mut response = Response::new(Full::new(body));
        *response.status_mut() =
            hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
        Ok(response)
    };
    match behaviour {
        Behaviour::Hang => {
            std::future::pending::<()>().await;
            reply(500, Bytes::new())
        }
        Behaviour::Garbage => reply(200, Bytes::from_static(b"<html>upstream error</html>")),
        Behaviour::Forward(base) => {
            let path = request
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            let method = request.method().clone();
            let content_type = request.headers().get(hyper::header::CONTENT_TYPE).cloned();
            let body = match request.into_body().collect().await {
                Ok(body) => body.to_bytes(),
                Err(_) => return reply(400, Bytes::new()),
            };
            let mut upstream = client.request(method, format!("{base}{path}")).body(body);
            if let Some(content_type) = content_type {
                upstream = upstream.header(hyper::header::CONTENT_TYPE, content_type);
            }
            match upstream.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.bytes().await.unwrap_or_default();
                    reply(status, body)
                }
                Err(_) => reply(502, Bytes::new()),
            }
        }
    }
}
