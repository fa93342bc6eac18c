//! The admin web page in a real browser (headless Chromium through WebDriver):
//! an admin signs in with their token, sees the figures of a known data set and
//! the charts, and a switch turned there changes the next event's pipeline.

use std::time::Duration;

use crossdesk_integration_tests::browser::Browser;
use crossdesk_integration_tests::*;

const OPS: &str = "ops-S3CR3T-token-0123456789";

/// `count` tickets today in `locale`, each rated `score` of 5 after its solve.
async fn tickets(server: &TestServer, locale: &str, count: usize, score: &str) {
    use pb::EventKind as K;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    // Early today (UTC), so that every event falls on the same day.
    let start = now - now % 86_400;
    for n in 0..count {
        let ticket = format!("{locale}-{n}");
        for (kind, offset, suffix) in [
            (K::TicketCreated, 0, "created"),
            (K::AgentReplyDrafted, 300, "reply"),
            (K::TicketSolved, 900, "solved"),
            (K::SatisfactionRated, 960, "rated"),
        ] {
            let mut event = customer_message("acme", &format!("{ticket}-{suffix}"), "hola");
            event.kind = kind as i32;
            event.ticket_id = ticket.clone();
            event.occurred_at = Some(prost_types::Timestamp {
                seconds: start + offset,
                nanos: 0,
            });
            if let Some(customer) = event.customer.as_mut() {
                customer.locale = locale.into();
            }
            if kind == K::SatisfactionRated {
                event.attributes.insert("csat.score".into(), score.into());
            }
            server.handle(event).await;
        }
    }
}

#[tokio::test]
async fn an_admin_signs_in_reads_the_figures_and_a_switch_changes_the_next_event() {
    let server = TestServer::start(&format!(
        r#"
[admin]
listen = "127.0.0.1:0"
users = [{{ name = "ops", token = "{OPS}", tenants = ["*"] }}]
{}
[insights]
refresh_secs = 0

[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-tagger"
settings = {{ tag = "seen" }}
[[tenants.plugins]]
name = "plugin-noop"
"#,
        install(&["plugin-tagger", "plugin-noop"])
    ))
    .await;
    tickets(&server, "es-MX", 6, "5").await;
    tickets(&server, "de-DE", 4, "2").await;

    let browser = Browser::start().await;
    let admin = format!("http://{}/admin", server.admin_addr.expect("admin"));
    browser.go(&admin).await;
    // A wrong token is refused on the page.
    let token = browser.wait_for("#token").await;
    browser.type_into(&token, "not-the-token").await;
    browser.click(&browser.wait_for("#sign-in").await).await;
    browser
        .wait_for_text("#error", "That token is not valid.")
        .await;
    let token = browser.wait_for("#token").await;
    browser.type_into(&token, OPS).await;
    browser.click(&browser.wait_for("#sign-in").await).await;
    browser.wait_for_text("#tenant", "acme").await;

    // The figures are written within a second of the events: the page shows them
    // once they are (reloading, as an admin would).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        browser.go(&admin).await;
        let shown = browser.wait_for("tr[data-key='all'] .tickets").await;
        if browser.text(&shown).await == "10" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the page never showed 10 tickets"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser
        .wait_for_text("tr[data-key='es'] .tickets", "6")
        .await;
    browser
        .wait_for_text("tr[data-key='de'] .tickets", "4")
        .await;
    assert_eq!(browser.count("svg rect.bar").await, 1, "one day of tickets");
    assert_eq!(browser.count("svg circle.point").await, 1);
    assert_eq!(
        browser.count("svg rect.cell").await,
        2,
        "first replies in es and de, all at one hour"
    );

    // Turning the tagger off there takes it out of the next event's pipeline.
    let before = server
        .handle(customer_message("acme", "before", "hola"))
        .await;
    assert!(before.outcomes.iter().any(|o| o.plugin == "plugin-tagger"));
    browser
        .wait_for_text("td.state[data-plugin='plugin-tagger']", "on")
        .await;
    browser
        .click(&browser.wait_for("#toggle-plugin-tagger").await)
        .await;
    browser
        .wait_for_text("td.state[data-plugin='plugin-tagger']", "off")
        .await;
    let after = server
        .handle(customer_message("acme", "after", "hola"))
        .await;
    assert!(
        after.outcomes.iter().all(|o| o.plugin != "plugin-tagger"),
        "{after:#?}"
    );
    assert!(after.outcomes.iter().any(|o| o.plugin == "plugin-noop"));
}

#[tokio::test]
async fn the_page_asks_for_a_token_and_refuses_forged_switches() {
    let server = acme_with_a_noop().await;
    let base = format!("http://{}", server.admin_addr.expect("admin"));
    let http = no_redirects();
    // Without a session: the sign-in form, and no switch works.
    let page = http
        .get(format!("{base}/admin"))
        .send()
        .await
        .expect("page");
    // Never framed (a switch is one click), never cached, no script.
    for (name, wanted) in [
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
        ("referrer-policy", "same-origin"),
    ] {
        assert_eq!(
            page.headers().get(name).and_then(|v| v.to_str().ok()),
            Some(wanted)
        );
    }
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(
        policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    assert!(page.text().await.expect("text").contains("id=\"token\""));
    let forged = http
        .post(format!("{base}/admin/toggle"))
        .form(&[
            ("csrf", "x"),
            ("tenant", "acme"),
            ("plugin", "plugin-noop"),
            ("enabled", "false"),
            ("revision", "0"),
        ])
        .send()
        .await
        .expect("answer");
    // Without a session (one that ended while the page was open, say), the
    // switch is not made and the admin is told so.
    assert_eq!(forged.status(), reqwest::StatusCode::UNAUTHORIZED);
    let told = forged.text().await.expect("text");
    assert!(
        told.contains("was not switched off") && told.contains("id=\"token\""),
        "{told}"
    );
    // Another site's page cannot sign the browser in (to its own account).
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let forged = http
            .post(format!("{base}/admin/login"))
            .header(name, value)
            .form(&[("token", OPS)])
            .send()
            .await
            .expect("answer");
        assert_eq!(forged.status(), reqwest::StatusCode::FORBIDDEN, "{name}");
        assert!(forged.headers().get("set-cookie").is_none(), "{name}");
    }
    // With a session but another page's anti-forgery token: refused.
    let signed_in = http
        .post(format!("{base}/admin/login"))
        .header("origin", &base)
        .form(&[("token", OPS)])
        .send()
        .await
        .expect("login");
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .expect("a session cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().expect("name=value").to_owned();
    // Another site's form cannot sign the admin out.
    let forged = http
        .post(format!("{base}/admin/logout"))
        .header("cookie", &session)
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf", "x")])
        .send()
        .await
        .expect("answer");
    assert_eq!(forged.status(), reqwest::StatusCode::FORBIDDEN);
    assert!(forged.headers().get("set-cookie").is_none());
    let still_signed_in = page_text(&http, &format!("{base}/admin"), &session).await;
    assert!(
        !still_signed_in.contains("id=\"token\""),
        "{still_signed_in}"
    );
    let forged = http
        .post(format!("{base}/admin/toggle"))
        .header("cookie", &session)
        .form(&[
            ("csrf", "not-this-sessions"),
            ("tenant", "acme"),
            ("plugin", "plugin-noop"),
            ("enabled", "false"),
            ("revision", "0"),
        ])
        .send()
        .await
        .expect("answer");
    assert_eq!(forged.status(), reqwest::StatusCode::FORBIDDEN);
    let still = server
        .handle(customer_message("acme", "still", "hola"))
        .await;
    assert!(still.outcomes.iter().any(|o| o.plugin == "plugin-noop"));
    // The admin API's gRPC still answers on the same listener.
    let tenants = server
        .admin()
        .await
        .list_tenants(as_admin(OPS, pb::ListTenantsRequest {}))
        .await
        .expect("gRPC beside the page")
        .into_inner();
    assert_eq!(tenants.tenants.len(), 1);
    // A switch on a page gone stale (the tenant changed since) is refused: it
    // would otherwise attach again a plugin detached meanwhile.
    let shown = page_text(&http, &format!("{base}/admin?tenant=acme"), &session).await;
    let field = |name: &str| {
        let start = format!("name=\"{name}\" value=\"");
        let at = shown.find(&start).expect(name) + start.len();
        shown[at..].split('"').next().expect("value").to_owned()
    };
    let (csrf, revision) = (field("csrf"), field("revision"));
    server
        .admin()
        .await
        .detach_plugin(as_admin(
            OPS,
            pb::DetachPluginRequest {
                tenant_id: "acme".into(),
                plugin: "plugin-noop".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("detached elsewhere");
    let stale = http
        .post(format!("{base}/admin/toggle"))
        .header("cookie", &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("tenant", "acme"),
            ("plugin", "plugin-noop"),
            ("enabled", "true"),
            ("revision", revision.as_str()),
        ])
        .send()
        .await
        .expect("answer");
    assert_eq!(stale.status(), reqwest::StatusCode::BAD_REQUEST);
    let refused = stale.text().await.expect("text");
    assert!(refused.contains("Aborted"), "{refused}");
    // Back to the tenant's page, not the first tenant's.
    assert!(
        refused.contains("id=\"back\" href=\"/admin?tenant=acme\""),
        "{refused}"
    );
    let tenant = server
        .admin()
        .await
        .get_tenant(as_admin(
            OPS,
            pb::TenantRef {
                tenant_id: "acme".into(),
            },
        ))
        .await
        .expect("tenant")
        .into_inner();
    assert!(tenant.plugins.is_empty(), "not attached again");
    // The page's own sign-out ends the session.
    let out = http
        .post(format!("{base}/admin/logout"))
        .header("cookie", &session)
        .header("origin", &base)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("answer");
    assert!(out.status().is_redirection(), "{}", out.status());
    let cleared = out.headers()["set-cookie"].to_str().expect("ascii");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = page_text(&http, &format!("{base}/admin"), &session).await;
    assert!(after.contains("id=\"token\""), "signed out: {after}");
}

/// The switches do not depend on the report; the session's cookie is found
/// among the host's others; another site cannot sign the admin out.
#[tokio::test]
async fn the_switches_show_without_the_report_and_the_cookie_among_others() {
    let server = acme_with_a_noop().await;
    let base = format!("http://{}", server.admin_addr.expect("admin"));
    let http = no_redirects();
    // Another site's form carries no SameSite=Strict cookie: refused all the
    // same, and nothing cleared.
    let forged = http
        .post(format!("{base}/admin/logout"))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .form(&[("csrf", "x")])
        .send()
        .await
        .expect("answer");
    assert_eq!(forged.status(), reqwest::StatusCode::FORBIDDEN);
    assert!(forged.headers().get("set-cookie").is_none());

    let signed_in = http
        .post(format!("{base}/admin/login"))
        .header("origin", &base)
        .form(&[("token", OPS)])
        .send()
        .await
        .expect("login");
    let session = signed_in.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let dashboard = |request: reqwest::RequestBuilder| async move {
        request
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("text")
    };
    // Beside another application's cookie whose value is not ASCII (cookies
    // ignore ports), in one field and in fields of their own (HTTP/2's way).
    let mixed = reqwest::header::HeaderValue::from_bytes(
        format!("lang=caf\u{e9}; {session}; theme=dark").as_bytes(),
    )
    .expect("a header value");
    let url = format!("{base}/admin?tenant=acme");
    for request in [
        http.get(&url).header("cookie", mixed),
        http.get(&url)
            .header("cookie", "lang=en")
            .header("cookie", &session),
    ] {
        let shown = dashboard(request).await;
        assert!(shown.contains("id=\"toggle-plugin-noop\""), "{shown}");
    }

    // The report's cells cannot be read (here, their table is gone): the
    // switches still show, and say why the report does not.
    rusqlite::Connection::open(server.data_dir.path().join("crossdesk.db"))
        .expect("open")
        .execute_batch("DROP TABLE insight_cells")
        .expect("drop");
    let shown = page_text(&http, &url, &session).await;
    assert!(shown.contains("id=\"report-error\""), "{shown}");
    assert!(shown.contains("id=\"toggle-plugin-noop\""), "{shown}");
}

/// A client that shows each answer as it comes, redirects included.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The page at `url` as the browser holding `session` (a cookie) sees it.
async fn page_text(http: &reqwest::Client, url: &str, session: &str) -> String {
    http.get(url)
        .header("cookie", session)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text")
}

/// A sidecar with the admin API (and page) for the `ops` admin, and tenant
/// `acme` running `plugin-noop`.
async fn acme_with_a_noop() -> TestServer {
    TestServer::start(&format!(
        r#"
[admin]
listen = "127.0.0.1:0"
users = [{{ name = "ops", token = "{OPS}", tenants = ["*"] }}]
{}
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-noop"
"#,
        install(&["plugin-noop"])
    ))
    .await
}

/// Guessing admin tokens is bounded by address: after ten failures within a
/// minute, through the API or the page's sign-in alike, that address is turned
/// away, even with a good token, until the minute ends.
#[tokio::test]
async fn failed_sign_ins_from_one_address_are_bounded() {
    let server = acme_with_a_noop().await;
    let base = format!("http://{}", server.admin_addr.expect("admin"));
    let http = reqwest::Client::new();
    let sign_in = async |token: &str| {
        http.post(format!("{base}/admin/login"))
            .header("origin", &base)
            .form(&[("token", token)])
            .send()
            .await
            .expect("answer")
    };
    let mut admin = server.admin().await;
    let list = |token: &str| as_admin(token, pb::ListTenantsRequest {});
    for n in 0..crossdesk_sidecar::auth::FAILURES_ALLOWED {
        if n % 2 == 0 {
            let refused = admin
                .list_tenants(list("a-wrong-token-of-some-length"))
                .await
                .expect_err("a wrong token");
            assert_eq!(refused.code(), tonic::Code::Unauthenticated);
        } else {
            let refused = sign_in("a-wrong-token-of-some-length").await;
            assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
        }
    }
    let refused = admin
        .list_tenants(list(OPS))
        .await
        .expect_err("turned away");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    let refused = sign_in(OPS).await;
    assert_eq!(refused.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused
            .text()
            .await
            .expect("text")
            .contains("Too many failed sign-ins")
    );
}

/// Behind a proxy that ends TLS, the page's cookie is `Secure` all the same
/// (the form's `Origin` is `https`); and one admin signing in again and again
/// holds 16 sessions at most, the oldest ending first.
#[tokio::test]
async fn sessions_are_secure_over_https_and_bounded_per_token() {
    let server = acme_with_a_noop().await;
    let address = server.admin_addr.expect("admin");
    let base = format!("http://{address}");
    let http = no_redirects();
    let sign_in = async |origin: &str| {
        let answer = http
            .post(format!("{base}/admin/login"))
            .header("origin", origin)
            .form(&[("token", OPS)])
            .send()
            .await
            .expect("answer");
        answer
            .headers()
            .get("set-cookie")
            .and_then(|c| c.to_str().ok())
            .expect("a session cookie")
            .to_owned()
    };
    let proxied = sign_in(&format!("https://{address}")).await;
    assert!(proxied.contains("; Secure"), "{proxied}");
    let plain = sign_in(&base).await;
    assert!(!plain.contains("Secure"), "{plain}");
    let mut sessions = vec![proxied, plain];
    while sessions.len() < 17 {
        sessions.push(sign_in(&base).await);
    }
    let signed_in = async |cookie: &str| {
        let session = cookie.split(';').next().expect("name=value");
        !page_text(&http, &format!("{base}/admin"), session)
            .await
            .contains("id=\"token\"")
    };
    assert!(!signed_in(&sessions[0]).await, "the oldest ended");
    for cookie in &sessions[1..] {
        assert!(signed_in(cookie).await, "{cookie}");
    }
}
