//! A helpdesk simulator for bridge tests: an HTTP server implementing the part of a
//! helpdesk's REST API the bridge calls (any method and path is accepted), which
//! records every call and answers as the test scripts it: success, `429` with
//! `Retry-After`, a server error, a permanent refusal, or a redirect — call by call
//! ([`Helpdesk::script`]) or, for an outage, everything until a deadline
//! ([`Helpdesk::outage`]).
//!
//! Reads (`GET`, the bridge's customer lookups) are kept apart from writes: they are
//! answered with the records the test put at their path (`404` otherwise), recorded
//! in [`Helpdesk::lookups`], and scripted with [`Helpdesk::script_lookups`].

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request the bridge made.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
    /// The status the simulator answered.
    pub status: u16,
    /// When it arrived.
    pub at: std::time::Instant,
}

/// A scripted answer.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Ok,
    /// `429 Too Many Requests` with `Retry-After: secs`.
    RateLimited(u64),
    /// `503 Service Unavailable`.
    Down,
    /// `500 Internal Server Error`.
    ServerError,
    /// `422 Unprocessable Entity`: trying again will not help.
    Refuse,
    /// `302 Found` to the same path on another server.
    Redirect(SocketAddr),
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    script: VecDeque<Answer>,
    records: std::collections::HashMap<String, serde_json::Value>,
    lookups: Vec<Call>,
    lookup_script: VecDeque<Answer>,
    /// Every request gets this answer until then.
    outage: Option<(Answer, std::time::Instant)>,
}

/// The simulator; stops when dropped.
pub struct Helpdesk {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Helpdesk {
    /// Starts on a free loopback port.
    pub async fn start() -> Helpdesk {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        Self::serve(listener)
    }

    /// Starts on `addr` (a port the bridge was told about before the helpdesk was
    /// up).
    pub async fn start_on(addr: SocketAddr) -> Helpdesk {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind the announced port");
        Self::serve(listener)
    }

    fn serve(listener: tokio::net::TcpListener) -> Helpdesk {
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move { answer(&state, method, uri, headers, body) }
            },
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Helpdesk { addr, state, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next calls get these answers, in order; then `Ok` again.
    pub fn script(&self, answers: &[Answer]) {
        if let Ok(mut state) = self.state.lock() {
            state.script.extend(answers.iter().copied());
        }
    }

    /// Every request, read or write, gets `answer` until `until` (instead of its
    /// script or record); then the helpdesk answers as before.
    pub fn outage(&self, answer: Answer, until: std::time::Instant) {
        if let Ok(mut state) = self.state.lock() {
            state.outage = Some((answer, until));
        }
    }

    /// `GET path` answers `record` from now on.
    pub fn put_record(&self, path: &str, record: serde_json::Value) {
        if let Ok(mut state) = self.state.lock() {
            state.records.insert(path.to_owned(), record);
        }
    }

    /// The next reads get these answers, in order; then their records again.
    pub fn script_lookups(&self, answers: &[Answer]) {
        if let Ok(mut state) = self.state.lock() {
            state.lookup_script.extend(answers.iter().copied());
        }
    }

    /// Every read so far.
    pub fn lookups(&self) -> Vec<Call> {
        self.state
            .lock()
            .map(|s| s.lookups.clone())
            .unwrap_or_default()
    }

    /// Every write so far.
    pub fn calls(&self) -> Vec<Call> {
        self.state
            .lock()
            .map(|s| s.calls.clone())
            .unwrap_or_default()
    }

    /// Waits until `count` calls were answered with success (panics after `within`).
    pub async fn wait_for_ok(&self, count: usize, within: Duration) -> Vec<Call> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let ok: Vec<Call> = self
                .calls()
                .into_iter()
                .filter(|c| c.status < 300)
                .collect();
            if ok.len() >= count {
                return ok;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} successful call(s) after {within:?}, wanted {count}: {:#?}",
                ok.len(),
                self.calls()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Helpdesk {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(
    state: &Mutex<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(mut state) = state.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let read = method == Method::GET;
    let outage = state
        .outage
        .filter(|(_, until)| std::time::Instant::now() < *until)
        .map(|(answer, _)| answer);
    let scripted = match outage {
        Some(answer) => Some(answer),
        None if read => state.lookup_script.pop_front(),
        None => state.script.pop_front(),
    }
    .unwrap_or(Answer::Ok);
    let (status, response) = match scripted {
        Answer::Ok if read => match state.records.get(uri.path()) {
            Some(record) => (
                StatusCode::OK,
                (StatusCode::OK, record.to_string()).into_response(),
            ),
            None => (
                StatusCode::NOT_FOUND,
                (StatusCode::NOT_FOUND, "{\"error\":\"RecordNotFound\"}").into_response(),
            ),
        },
        Answer::Ok => (
            StatusCode::OK,
            (StatusCode::OK, "{\"ok\":true}").into_response(),
        ),
        Answer::RateLimited(secs) => (
            StatusCode::TOO_MANY_REQUESTS,
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", secs.to_string())],
                "{\"error\":\"APIRateLimitExceeded\"}",
            )
                .into_response(),
        ),
        Answer::Down => (
            StatusCode::SERVICE_UNAVAILABLE,
            (StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response(),
        ),
        Answer::Redirect(to) => (
            StatusCode::FOUND,
            (
                StatusCode::FOUND,
                [("location", format!("http://{to}{}", uri.path()))],
            )
                .into_response(),
        ),
        Answer::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "{\"error\":\"InternalError\"}",
            )
                .into_response(),
        ),
        Answer::Refuse => (
            StatusCode::UNPROCESSABLE_ENTITY,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "{\"error\":\"RecordInvalid\"}",
            )
                .into_response(),
        ),
    };
    let call = Call {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        status: status.as_u16(),
        at: std::time::Instant::now(),
    };
    if read {
        state.lookups.push(call);
    } else {
        state.calls.push(call);
    }
    response
}
