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
//!
//! Like Zendesk, it keeps the comments that ticket updates added and lists them at
//! `GET /api/v2/tickets/{id}/comments.json` (`sort_order=desc`: newest first) in
//! the shape of Zendesk's List Comments
//! (https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_comments/#list-comments).

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
    /// `401 Unauthorized`, as Zendesk answers a revoked API token.
    Unauthorized,
    /// `302 Found` to the same path on another server.
    Redirect(SocketAddr),
    /// Applied at once (recorded, its comment listed), answered `200` only after
    /// this long: a client that dies meanwhile never learns it went through.
    Slow(Duration),
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
    /// A write whose body holds this is refused `422`, every time.
    invalid: Option<String>,
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
                async move {
                    let (response, delay) = answer(&state, method, uri, headers, body);
                    tokio::time::sleep(delay).await;
                    response
                }
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
    /// Refuses every write whose body holds `text` with `422 RecordInvalid`, as
    /// Zendesk refuses an update naming an agent outside the group, however
    /// often it is sent.
    pub fn refuse_bodies_with(&self, text: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.invalid = Some(text.to_owned());
        }
    }

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

/// The comments that successful updates of ticket `id` added, as Zendesk lists
/// them (oldest first; newest first with `sort_order=desc`).
fn zendesk_comments(calls: &[Call], ticket: &str, query: Option<&str>) -> serde_json::Value {
    let path = format!("/api/v2/tickets/{ticket}.json");
    let mut comments: Vec<serde_json::Value> = calls
        .iter()
        .filter(|c| c.method == "PUT" && c.path == path && c.status < 300)
        .filter_map(|c| c.body.pointer("/ticket/comment"))
        .enumerate()
        .map(|(n, comment)| {
            let body = comment.get("body").cloned().unwrap_or_default();
            serde_json::json!({
                "id": n + 1,
                "type": "Comment",
                "body": body,
                "plain_body": body,
                "public": comment.get("public").cloned().unwrap_or(serde_json::Value::Bool(true)),
                "author_id": 9000000000001u64,
                "attachments": [],
            })
        })
        .collect();
    if query.is_some_and(|q| q.split('&').any(|p| p == "sort_order=desc")) {
        comments.reverse();
    }
    let count = comments.len();
    serde_json::json!({
        "comments": comments,
        "next_page": null,
        "previous_page": null,
        "count": count,
    })
}

/// The answer to a request, recorded, and how long to wait before giving it.
fn answer(
    state: &Mutex<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (Response, Duration) {
    let Ok(mut state) = state.lock() else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            Duration::ZERO,
        );
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
    let invalid = !read
        && state
            .invalid
            .as_deref()
            .is_some_and(|text| String::from_utf8_lossy(&body).contains(text));
    let scripted = if invalid { Answer::Refuse } else { scripted };
    let comments_of = uri
        .path()
        .strip_prefix("/api/v2/tickets/")
        .and_then(|rest| rest.strip_suffix("/comments.json"));
    let listed = comments_of.map(|ticket| zendesk_comments(&state.calls, ticket, uri.query()));
    let (status, response) = match scripted {
        Answer::Ok if read => match state.records.get(uri.path()).or(listed.as_ref()) {
            Some(record) => (
                StatusCode::OK,
                (StatusCode::OK, record.to_string()).into_response(),
            ),
            None => (
                StatusCode::NOT_FOUND,
                (StatusCode::NOT_FOUND, "{\"error\":\"RecordNotFound\"}").into_response(),
            ),
        },
        Answer::Ok | Answer::Slow(_) => (
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
        Answer::Unauthorized => (
            StatusCode::UNAUTHORIZED,
            (
                StatusCode::UNAUTHORIZED,
                "{\"error\":\"Couldn't authenticate you\"}",
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
    let delay = match scripted {
        Answer::Slow(delay) => delay,
        _ => Duration::ZERO,
    };
    (response, delay)
}
