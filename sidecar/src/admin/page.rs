//! The admin web page, served by the admin listener at `/admin`: a tenant's
//! report for the last seven days, today so far (figures by language, charts of tickets and
//! positive ratings per day) and its pipeline, each plugin with a switch.
//!
//! It is a thin face on the admin API: an admin signs in with their admin token,
//! and every page and switch is an admin API call made with that token, in
//! process, so the page can do exactly what the token may (tenants, audit, the
//! next event's pipeline) and nothing else. The token stays on the server, in a
//! session of this process (eight hours, at most [`SESSIONS_PER_TOKEN`] per token;
//! a replica behind a load balancer needs sticky sessions, or the admin signs in
//! again); the browser holds a random
//! session id in an `HttpOnly`, `SameSite=Strict` cookie, every form carries
//! the session's own anti-forgery token, and signing in and out are taken only
//! from a page of this listener. Every answer forbids scripts, framing (the
//! switches cannot be clicked through a decoy) and caching ([`hardened`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use tonic::Request;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use super::service::AdminApi;
use crate::insights::api;
use crate::insights::chart::{self, escape};
use crate::pb;
use crate::pb::admin_service_server::AdminService;

/// How long a session lasts.
const SESSION: Duration = Duration::from_secs(8 * 3600);
const COOKIE: &str = "crossdesk_admin";
/// How many sessions one admin token may hold at once.
const SESSIONS_PER_TOKEN: usize = 16;

/// A signed-in admin.
#[derive(Clone)]
struct Session {
    token: String,
    /// Every form of the session carries it.
    csrf: String,
    /// When it began.
    since: tokio::time::Instant,
}

struct Page {
    api: AdminApi,
    sessions: moka::future::Cache<String, Session>,
    /// Whether the listener speaks TLS: the cookie is then always `Secure`.
    tls: bool,
    /// Held while a session is kept, so that a token's count of sessions is
    /// exact under concurrent sign-ins.
    signing_in: tokio::sync::Mutex<()>,
}

/// The page's routes, for the admin listener.
pub(crate) fn router(api: AdminApi, tls: bool) -> axum::Router {
    let page = Arc::new(Page {
        api,
        sessions: moka::future::Cache::builder()
            .max_capacity(10_000)
            .time_to_live(SESSION)
            .build(),
        tls,
        signing_in: tokio::sync::Mutex::new(()),
    });
    axum::Router::new()
        .route("/admin", axum::routing::get(dashboard))
        .route("/admin/login", axum::routing::post(login))
        .route("/admin/logout", axum::routing::post(logout))
        .route("/admin/toggle", axum::routing::post(toggle))
        .layer(axum::middleware::map_response(hardened))
        .with_state(page)
}

/// The headers of every answer of the page. It runs no script and loads nothing
/// (its styles and charts are inline), posts only to itself, is never framed (a
/// switch is one click: a page of another port or subdomain could otherwise lay
/// it under a decoy) and never kept (it carries the session's anti-forgery token
/// and the tenant's figures).
async fn hardened(mut response: Response) -> Response {
    use axum::http::HeaderValue;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
        // Not `no-referrer`: its own forms would then post `Origin: null`, which
        // the sign-in check refuses where browsers send no `Sec-Fetch-Site` (plain
        // HTTP to an address other than localhost).
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// 32 random bytes, hex.
fn random_id() -> Result<String, StatusCode> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(hex::encode(bytes))
}

/// An admin API request carrying the session's token.
fn with_token<T>(token: &str, message: T) -> Result<Request<T>, tonic::Status> {
    let mut request = Request::new(message);
    let mut value: tonic::metadata::MetadataValue<_> = format!("Bearer {token}")
        .parse()
        .map_err(|_| tonic::Status::unauthenticated("the token is not valid metadata"))?;
    value.set_sensitive(true);
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}

impl Page {
    /// The session the request's cookie names. Every `Cookie` field is read (over
    /// HTTP/2 a browser sends each cookie in one of its own), byte by byte: a
    /// cookie of another application of the host with a value that is not
    /// ASCII does not hide ours.
    async fn session(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = headers
            .get_all(header::COOKIE)
            .iter()
            .flat_map(|field| field.as_bytes().split(|&b| b == b';'))
            .filter_map(|pair| {
                let (name, value) = pair
                    .trim_ascii()
                    .split_at(pair.trim_ascii().iter().position(|&b| b == b'=')?);
                (name == COOKIE.as_bytes())
                    .then(|| value.get(1..))
                    .flatten()
            })
            .find_map(|value| std::str::from_utf8(value).ok())?
            .to_owned();
        let session = self.sessions.get(&id).await?;
        Some((id, session))
    }

    /// Keeps a new session under `id`. An admin token holds at most
    /// [`SESSIONS_PER_TOKEN`], its oldest ending first: one admin signing in
    /// again and again cannot fill the sessions of everyone else.
    async fn sign_in(&self, id: String, session: Session) {
        let _alone = self.signing_in.lock().await;
        let mut held: Vec<(Arc<String>, tokio::time::Instant)> = self
            .sessions
            .iter()
            .filter(|(_, other)| other.token == session.token)
            .map(|(id, other)| (id, other.since))
            .collect();
        // Room for this one: the oldest go.
        let surplus = held
            .len()
            .saturating_add(1)
            .saturating_sub(SESSIONS_PER_TOKEN);
        held.sort_by_key(|(_, since)| *since);
        for (old, _) in held.into_iter().take(surplus) {
            self.sessions.invalidate(old.as_str()).await;
        }
        self.sessions.insert(id, session).await;
    }
    /// The session cookie holding `id` for `lasting`. `Secure` when the browser's
    /// page came over HTTPS: this listener's own TLS, or a proxy's in front of it
    /// that ends TLS (the listener then speaks plain HTTP, but the form's
    /// `Origin` says `https`), so the browser never sends it over plain HTTP.
    fn cookie(&self, headers: &HeaderMap, id: &str, lasting: Duration) -> String {
        let over_https = self.tls
            || headers
                .get(header::ORIGIN)
                .and_then(|v| v.to_str().ok())
                .and_then(|origin| origin.get(..8))
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
        let secure = if over_https { "; Secure" } else { "" };
        format!(
            "{COOKIE}={id}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            lasting.as_secs()
        )
    }
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{}</title><style>\
         body{{font-family:sans-serif;margin:2em;max-width:64em}}\
         table{{border-collapse:collapse;margin:1em 0}}\
         td,th{{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:left}}\
         .num{{text-align:right}}</style></head><body>{body}</body></html>",
        escape(title)
    ))
}

fn login_page(error: Option<&str>) -> Html<String> {
    let error = error.map_or_else(String::new, |e| {
        format!("<p id=\"error\" role=\"alert\">{}</p>", escape(e))
    });
    page(
        "Crossdesk admin",
        &format!(
            "<h1>Crossdesk admin</h1>{error}\
             <form method=\"post\" action=\"/admin/login\">\
             <label>Admin token <input id=\"token\" name=\"token\" type=\"password\" \
             autocomplete=\"current-password\" required></label> \
             <button id=\"sign-in\" type=\"submit\">Sign in</button></form>"
        ),
    )
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// Whether a form was posted from a page of this listener. Browsers say where a
/// POST comes from (`Sec-Fetch-Site`, or else `Origin`); a client that says
/// neither is not a browser, and no other site can make it post.
fn posted_from_here(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match (text("origin"), text("host")) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    }
}

async fn login(
    State(page): State<Arc<Page>>,
    tcp: Option<Extension<TcpConnectInfo>>,
    tls: Option<Extension<TlsConnectInfo<TcpConnectInfo>>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    // Signing in sets the session cookie, which `SameSite` does not guard: a page
    // elsewhere could sign a browser in as its own admin (login forgery), and
    // the victim would then work, unaware, in the attacker's session.
    if !posted_from_here(&headers) {
        return (StatusCode::FORBIDDEN, "sign in from this page\n").into_response();
    }
    let token = form.token.trim().to_owned();
    // The token is good when the admin API takes it, from the browser's address
    // (which the API counts failures by).
    let Ok(mut request) = with_token(&token, pb::ListTenantsRequest {}) else {
        return (
            StatusCode::UNAUTHORIZED,
            login_page(Some("That token is not valid.")),
        )
            .into_response();
    };
    if let Some(Extension(tcp)) = tcp {
        request.extensions_mut().insert(tcp);
    }
    if let Some(Extension(tls)) = tls {
        request.extensions_mut().insert(tls);
    }
    match page.api.list_tenants(request).await {
        Ok(_) => {}
        Err(refused) if refused.code() == tonic::Code::ResourceExhausted => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                login_page(Some(
                    "Too many failed sign-ins from this address: try again in a minute.",
                )),
            )
                .into_response();
        }
        Err(refused)
            if matches!(
                refused.code(),
                tonic::Code::Unauthenticated | tonic::Code::PermissionDenied
            ) =>
        {
            return (
                StatusCode::UNAUTHORIZED,
                login_page(Some("That token is not valid.")),
            )
                .into_response();
        }
        // The token may well be right: trying others would only count failures
        // against this address.
        Err(failed) => {
            tracing::warn!("the admin page's sign-in failed: {failed}");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                login_page(Some(
                    "The sign-in could not be checked now (the store may be down): try again in a moment.",
                )),
            )
                .into_response();
        }
    }
    let (Ok(id), Ok(csrf)) = (random_id(), random_id()) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let since = tokio::time::Instant::now();
    page.sign_in(id.clone(), Session { token, csrf, since })
        .await;
    let cookie = page.cookie(&headers, &id, SESSION);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/admin")).into_response()
}

impl Session {
    /// Whether a form carries this session's anti-forgery token. Compared as
    /// digests, so the time taken says nothing of how much of it was right.
    fn forms_match(&self, csrf: &str) -> bool {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.csrf.as_bytes()) == Sha256::digest(csrf.as_bytes())
    }
}

async fn logout(State(page): State<Arc<Page>>, headers: HeaderMap) -> Response {
    // Only this listener's page signs the admin out (another site's form would
    // otherwise do it at will), whether or not a session cookie came: a
    // browser sends none of its SameSite=Strict cookie with another site's
    // form, and the answer would still clear it. The page of an earlier
    // session too (a tab left open since): the admin means to sign out.
    if !posted_from_here(&headers) {
        return (StatusCode::FORBIDDEN, "sign out from this page\n").into_response();
    }
    if let Some((id, _)) = page.session(&headers).await {
        page.sessions.invalidate(&id).await;
    }
    let cookie = page.cookie(&headers, "", Duration::ZERO);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/admin")).into_response()
}

#[derive(Deserialize)]
struct ToggleForm {
    csrf: String,
    tenant: String,
    plugin: String,
    enabled: bool,
    /// The tenant's revision the page showed: a switch on a page gone stale
    /// (a plugin detached since, say) is refused instead of attaching it again.
    revision: u64,
}

async fn toggle(
    State(page): State<Arc<Page>>,
    headers: HeaderMap,
    Form(form): Form<ToggleForm>,
) -> Response {
    let Some((_, session)) = page.session(&headers).await else {
        // Signed out, or the session ended while the page was open: the switch
        // is not made, and the admin is told so rather than shown the sign-in.
        return (
            StatusCode::UNAUTHORIZED,
            login_page(Some(&format!(
                "Your session ended: '{}' was not switched {}. Sign in and switch it again.",
                form.plugin,
                if form.enabled { "on" } else { "off" }
            ))),
        )
            .into_response();
    };
    if !session.forms_match(&form.csrf) {
        return (StatusCode::FORBIDDEN, "the form is not from this session\n").into_response();
    }
    let request = pb::ConfigurePluginRequest {
        tenant_id: form.tenant.clone(),
        plugin: form.plugin,
        enabled: Some(form.enabled),
        expected_revision: form.revision,
        ..Default::default()
    };
    let Ok(request) = with_token(&session.token, request) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let back = format!("/admin?tenant={}", urlencode(&form.tenant));
    if let Err(status) = page.api.configure_plugin(request).await {
        return (
            StatusCode::BAD_REQUEST,
            page_error(&format!("{:?}: {}", status.code(), status.message()), &back),
        )
            .into_response();
    }
    Redirect::to(&back).into_response()
}

/// An error, with a link `back` to the page it came from.
fn page_error(message: &str, back: &str) -> Html<String> {
    page(
        "Crossdesk admin",
        &format!(
            "<p id=\"error\" role=\"alert\">{}</p><p><a id=\"back\" href=\"{}\">Back</a></p>",
            escape(message),
            escape(back)
        ),
    )
}

/// A tenant id for a query string: ids are printable, but may hold `&` or `#`.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct DashboardQuery {
    tenant: Option<String>,
}

async fn dashboard(
    State(page): State<Arc<Page>>,
    headers: HeaderMap,
    Query(query): Query<DashboardQuery>,
) -> Response {
    let Some((_, session)) = page.session(&headers).await else {
        return login_page(None).into_response();
    };
    match render(&page, &session, query.tenant).await {
        Ok(html) => html.into_response(),
        Err(status) => {
            // Busy (reports being built) or a store away: the page may be asked
            // again; anything else is this request's to fix.
            let http = match status.code() {
                tonic::Code::ResourceExhausted | tonic::Code::Unavailable => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                _ => StatusCode::BAD_REQUEST,
            };
            let message = format!("{:?}: {}", status.code(), status.message());
            (http, page_error(&message, "/admin")).into_response()
        }
    }
}

fn share(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// A wait as people read it: seconds under a minute (a chat's first reply is
/// often that quick), then minutes, then hours.
fn wait(seconds: Option<f64>) -> String {
    match seconds {
        None => "–".to_owned(),
        Some(s) if s < 59.5 => format!("{s:.0} s"),
        Some(s) if s < 5_970.0 => format!("{:.0} min", s / 60.0),
        Some(s) => format!("{:.1} h", s / 3_600.0),
    }
}

/// The dashboard of `tenant` (the first the admin manages by default).
async fn render(
    page: &Page,
    session: &Session,
    tenant: Option<String>,
) -> Result<Html<String>, tonic::Status> {
    let tenants = page
        .api
        .list_tenants(with_token(&session.token, pb::ListTenantsRequest {})?)
        .await?
        .into_inner()
        .tenants;
    let csrf = escape(&session.csrf);
    let mut body = format!(
        "<h1>Crossdesk admin</h1><form method=\"post\" action=\"/admin/logout\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\">Sign out</button></form><nav>"
    );
    for t in &tenants {
        body.push_str(&format!(
            "<a href=\"/admin?tenant={}\">{}</a> ",
            urlencode(&t.tenant_id),
            escape(&t.tenant_id)
        ));
    }
    body.push_str("</nav>");
    let chosen = tenant.or_else(|| tenants.first().map(|t| t.tenant_id.clone()));
    let Some(tenant_id) = chosen else {
        body.push_str("<p>No tenants.</p>");
        return Ok(page_html(body));
    };
    let tenant = page
        .api
        .get_tenant(with_token(
            &session.token,
            pb::TenantRef {
                tenant_id: tenant_id.clone(),
            },
        )?)
        .await?
        .into_inner();
    let escaped = escape(&tenant_id);
    body.push_str(&format!("<h2 id=\"tenant\">{escaped}</h2><h3>Pipeline</h3><table id=\"pipeline\"><tr><th>plugin</th><th>state</th><th></th></tr>"));
    let revision = tenant.revision;
    for grant in &tenant.plugins {
        let name = escape(&grant.plugin);
        let (state, action, label) = if grant.enabled {
            ("on", "false", "Turn off")
        } else {
            ("off", "true", "Turn on")
        };
        body.push_str(&format!(
            "<tr><td>{name}</td><td class=\"state\" data-plugin=\"{name}\">{state}</td><td>\
             <form method=\"post\" action=\"/admin/toggle\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"tenant\" value=\"{escaped}\">\
             <input type=\"hidden\" name=\"plugin\" value=\"{name}\">\
             <input type=\"hidden\" name=\"enabled\" value=\"{action}\">\
             <input type=\"hidden\" name=\"revision\" value=\"{revision}\">\
             <button type=\"submit\" id=\"toggle-{name}\">{label}</button></form></td></tr>"
        ));
    }
    body.push_str("</table>");
    // The switches do not wait on the report: it may be refused (two are built
    // at once, for every tenant) or fail while the settings can be read.
    match report_section(page, session, &tenant_id).await {
        Ok(section) => body.push_str(&section),
        Err(status) => {
            tracing::warn!(tenant = %tenant_id, "the admin page's report: {status}");
            body.push_str(&format!(
                "<p id=\"report-error\" role=\"status\">The report cannot be shown now \
                 ({}); reload the page in a moment.</p>",
                escape(status.message())
            ));
        }
    }
    Ok(page_html(body))
}

/// The report part of the dashboard: the last seven days of `tenant_id`.
async fn report_section(
    page: &Page,
    session: &Session,
    tenant_id: &str,
) -> Result<String, tonic::Status> {
    // The last seven days with today so far (the API's default is whole days):
    // a tenant's first day shows at once. The page compares with nothing.
    let today = crate::insights::day_of(crate::store::now_ms().div_euclid(1_000));
    let day_start = |day: i64| prost_types::Timestamp {
        seconds: day.saturating_mul(crate::insights::DAY_SECS),
        nanos: 0,
    };
    let report = page
        .api
        .get_report(with_token(
            &session.token,
            pb::GetReportRequest {
                tenant_id: tenant_id.to_owned(),
                since: Some(day_start(today.saturating_sub(6))),
                until: Some(day_start(today.saturating_add(1))),
                by: vec!["language".into()],
            },
        )?)
        .await?
        .into_inner();
    let mut body = String::from(
        "<h3>The last seven days, today so far (UTC days)</h3><table id=\"report\"><tr><th>language</th><th class=\"num\">tickets</th><th class=\"num\">positive ratings</th><th class=\"num\">resolved</th><th class=\"num\">first reply (median)</th></tr>",
    );
    let total = report.total.clone().unwrap_or_default();
    let all = pb::ReportLine {
        key: vec!["all".into()],
        ..total
    };
    // A language seen only in the week before has a line with no tickets: the
    // page compares with nothing, so it is left out.
    let seen = report.lines.iter().filter(|line| line.tickets > 0);
    for line in seen.chain(std::iter::once(&all)) {
        let key = line
            .key
            .first()
            .map_or("?", |k| if k.is_empty() { "?" } else { k });
        body.push_str(&format!(
            "<tr data-key=\"{k}\"><td>{k}</td><td class=\"num tickets\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            line.tickets,
            share(line.csat_positive_share),
            share(line.resolution_rate),
            wait(line.first_reply_median_seconds),
            k = escape(key),
        ));
    }
    body.push_str("</table>");
    body.push_str(&api::tickets_chart(&report, "Tickets per day"));
    body.push_str(&api::ratings_chart(&report, "Positive ratings per day"));
    body.push_str(&api::heatmap_chart(
        &report,
        "Median first reply by language and hour (UTC)",
    ));
    for spike in &report.spikes {
        body.push_str(&format!(
            "<p class=\"spike\">Spike: {} on {}: {} tickets (usually {:.0}).</p>",
            escape(&spike.category),
            chart::date(api::timestamp_day(spike.day.as_ref())),
            spike.tickets,
            spike.baseline
        ));
    }
    Ok(body)
}

fn page_html(body: String) -> Html<String> {
    page("Crossdesk admin", &body)
}

#[cfg(test)]
mod tests {
    use super::wait;

    #[test]
    fn waits_read_in_the_unit_they_are_short_in() {
        assert_eq!(wait(Some(25.0)), "25 s");
        assert_eq!(wait(Some(89.0)), "1 min");
        assert_eq!(wait(Some(3_000.0)), "50 min");
        assert_eq!(wait(Some(9_000.0)), "2.5 h");
        assert_eq!(wait(None), "–");
    }
}
