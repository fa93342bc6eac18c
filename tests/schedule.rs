//! Scheduling end to end: the schedule plugin built from source, a roster imported
//! with `crossdesk schedule roster import`, customer messages over gRPC at chosen
//! instants across time zones and daylight-saving changes; the after-hours reply
//! with the next shift in the customer's local time and the knowledge-base answer
//! read from the recommend plugin's storage; the contact history the sidecar
//! records; and the `schedule erlang` and `schedule plan` commands.

use std::path::{Path, PathBuf};
use std::process::Command;

use crossdesk_integration_tests::logs::Logged;
use crossdesk_integration_tests::*;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Tenants: `global` runs translation (engine unreachable: it fails, open, and the
/// scheduler still knows the tenant translates), recommend and schedule with
/// read access to recommend's knowledge base; `local` runs schedule alone;
/// `other` runs schedule without a roster; `history` runs schedule and a plugin
/// that tags every message `lang-de` (standing in for any language detector).
fn config() -> String {
    install(&["translation", "recommend", "schedule", "plugin-tagger"])
        + r#"
[outbound]
private_hosts = ["127.0.0.1"]
# The contact history is kept as long as the reports' days: these tests' fixed
# dates (2026) stay inside it whenever they run.
[insights]
retention_days = 36500
[[tenants]]
id = "global"
[[tenants.plugins]]
name = "translation"
kv = true
allowed_hosts = ["127.0.0.1:9"]
settings = { engine = "apertium", engine_url = "http://127.0.0.1:9", agent_language = "en" }
[[tenants.plugins]]
name = "recommend"
kv = true
[[tenants.plugins]]
name = "schedule"
kv = true
kv_read = ["recommend"]

[[tenants]]
id = "local"
[[tenants.plugins]]
name = "recommend"
kv = true
[[tenants.plugins]]
name = "schedule"
kv = true

[[tenants]]
id = "other"
[[tenants.plugins]]
name = "schedule"
kv = true

[[tenants]]
id = "history"
[[tenants.plugins]]
name = "schedule"
kv = true
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "lang-de" }
"#
}

fn crossdesk(args: &[&str], data_dir: &Path) -> String {
    run(crossdesk_command().args(args).args(data_args(data_dir)))
}

fn run(command: &mut Command) -> String {
    let args: Vec<_> = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let output = command.logged_output().expect("run crossdesk");
    assert!(
        output.status.success(),
        "crossdesk {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn import_roster(data_dir: &Path, tenant: &str, file: &Path) {
    let file = file.to_str().expect("utf-8 path");
    let out = crossdesk(
        &["schedule", "roster", "import", "--tenant", tenant, file],
        data_dir,
    );
    assert!(
        out.contains("roster of tenant") && out.contains("agent(s)"),
        "{out}"
    );
}

fn import_kb(data_dir: &Path, tenant: &str) {
    let kb = examples().join("recommend/kb.json");
    crossdesk(
        &[
            "recommend",
            "import-kb",
            "--tenant",
            tenant,
            kb.to_str().expect("utf-8 path"),
        ],
        data_dir,
    );
}

/// A customer message at `at` (RFC 3339) from a customer with this locale and zone.
fn message(tenant: &str, id: &str, at: &str, locale: &str, zone: &str, text: &str) -> pb::Event {
    let mut event = customer_message(tenant, id, text);
    event.ticket_id = format!("T-{id}");
    event.customer = Some(pb::Customer {
        id: format!("c-{id}"),
        locale: locale.into(),
        time_zone: zone.into(),
        ..Default::default()
    });
    event.occurred_at = Some(timestamp(at));
    event
}

fn seconds(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
        .as_second()
}

fn timestamp(rfc3339: &str) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: seconds(rfc3339),
        nanos: 0,
    }
}

fn routing(response: &pb::HandleEventResponse) -> pb::Routing {
    response
        .actions
        .iter()
        .find_map(|a| match &a.kind {
            Some(pb::action::Kind::Route(r)) => Some(r.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no routing in {response:#?}"))
}

fn auto_reply(response: &pb::HandleEventResponse) -> Option<String> {
    response.actions.iter().find_map(|a| match &a.kind {
        Some(pb::action::Kind::AutoReply(text)) => Some(text.clone()),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_by_language_and_shift_across_zones_and_daylight_saving() {
    let server = TestServer::start(&config()).await;
    let data = server.data_dir.path();
    let roster = examples().join("schedule/roster.json");
    import_roster(data, "global", &roster);
    import_roster(data, "local", &roster);

    // Tuesday 10:30 in Madrid: Ana (Madrid) speaks Spanish and is on shift.
    let es = server
        .handle(message(
            "global",
            "es-1",
            "2026-12-01T09:30:00Z",
            "es-ES",
            "Europe/Madrid",
            "Hola, quiero cambiar la dirección de envío de mi pedido.",
        ))
        .await;
    assert_eq!(
        outcome(&es, "schedule").status(),
        pb::plugin_outcome::Status::Ok
    );
    let route = routing(&es);
    assert_eq!(route.agent_id, "ana", "{route:?}");
    assert_eq!(route.group, "spanish");
    assert!(tags(&es).contains(&"routed-native".to_owned()));
    assert_eq!(auto_reply(&es), None);

    // Portuguese, nobody speaks it: through translation where the tenant runs it...
    let text = "Olá, a minha encomenda ainda não chegou. Podem ajudar?";
    let pt = server
        .handle(message(
            "global",
            "pt-1",
            "2026-12-01T13:00:00Z",
            "pt-BR",
            "America/Sao_Paulo",
            text,
        ))
        .await;
    assert!(
        tags(&pt).contains(&"routed-via-translation".to_owned()),
        "{pt:#?}"
    );
    assert!(routing(&pt).reason.contains("through translation"));
    // ...and flagged as a mismatch where it does not.
    let pt_local = server
        .handle(message(
            "local",
            "pt-2",
            "2026-12-01T13:00:00Z",
            "pt-BR",
            "America/Sao_Paulo",
            text,
        ))
        .await;
    assert!(tags(&pt_local).contains(&"routed-language-mismatch".to_owned()));

    // Sam works 08:00-16:00 in New York. On Friday 30 October (EDT, UTC-4) 12:30 UTC
    // is 08:30 there: on shift. A week later New York is on EST (UTC-5; the change
    // was 1 November): 12:30 UTC is 07:30, and the English speaker on shift is...
    // nobody in the Americas; Lena (Berlin) and Marc (Paris) are.
    let before = server
        .handle(message(
            "local",
            "en-1",
            "2026-10-30T12:30:00Z",
            "en-US",
            "America/New_York",
            "Hello, where is my parcel? It should have arrived by now.",
        ))
        .await;
    let names = routing(&before).reason;
    assert!(names.contains("Sam"), "EDT: Sam is on shift: {names}");
    let after = server
        .handle(message(
            "local",
            "en-2",
            "2026-11-06T12:30:00Z",
            "en-US",
            "America/New_York",
            "Hello, where is my parcel? It should have arrived by now.",
        ))
        .await;
    let names = routing(&after).reason;
    assert!(
        !names.contains("Sam"),
        "EST: Sam starts at 13:00 UTC: {names}"
    );
    assert!(names.contains("Lena"), "{names}");

    // Berlin left summer time on 25 October, New York only on 1 November. On
    // Saturday 31 October nobody works at 22:00 UTC; the first German speaker is
    // Lena, Monday 2 November 08:00 CET = 07:00 UTC, which the German customer
    // reads in Berlin time (CET), not summer time.
    let de = server
        .handle(message(
            "local",
            "de-1",
            "2026-10-31T22:00:00Z",
            "de-DE",
            "Europe/Berlin",
            "Guten Abend, meine Bestellung ist noch nicht angekommen.",
        ))
        .await;
    assert!(tags(&de).contains(&"after-hours".to_owned()), "{de:#?}");
    assert_eq!(routing(&de).agent_id, "lena");
    let reply = auto_reply(&de).expect("an after-hours reply");
    assert!(reply.starts_with("Danke für Ihre Nachricht."), "{reply}");
    assert!(reply.contains("Montag, 2. November, 08:00 Uhr"), "{reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_hours_the_customer_hears_when_in_their_time_with_the_best_article() {
    let server = TestServer::start(&config()).await;
    let data = server.data_dir.path();
    let roster = examples().join("schedule/roster.json");
    for tenant in ["global", "local"] {
        import_roster(data, tenant, &roster);
        import_kb(data, tenant);
    }
    // Sunday 6 December, midnight in Tokyo. Ken starts Monday 09:00 JST.
    let ask = |tenant: &str, id: &str| {
        message(
            tenant,
            id,
            "2026-12-06T15:00:00Z",
            "ja-JP",
            "Asia/Tokyo",
            "オートフォーカスがうまく合いません。どうすればいいですか？",
        )
    };
    let ja = server.handle(ask("global", "ja-1")).await;
    assert_eq!(
        outcome(&ja, "schedule").status(),
        pb::plugin_outcome::Status::Ok
    );
    assert_eq!(routing(&ja).agent_id, "ken");
    let reply = auto_reply(&ja).expect("an after-hours reply");
    assert!(reply.contains("誠にありがとうございます"), "{reply}");
    assert!(reply.contains("12月7日（月）9:00"), "{reply}");
    assert!(
        reply.contains("オートフォーカスの使い方"),
        "the Japanese article of recommend's knowledge base: {reply}"
    );

    // Without the read grant the reply has no article, and says so nowhere else.
    let local = server.handle(ask("local", "ja-2")).await;
    assert_eq!(
        outcome(&local, "schedule").status(),
        pb::plugin_outcome::Status::Ok
    );
    let reply = auto_reply(&local).expect("an after-hours reply");
    assert!(reply.contains("12月7日（月）9:00"), "{reply}");
    assert!(!reply.contains("オートフォーカスの使い方"), "{reply}");

    // A language without a template (Turkish) gets English; the time is still local
    // (São Paulo, UTC-3): Monday 7 December, 09:00 JST = 00:00 UTC = 21:00 on Sunday.
    let tr = server
        .handle(message(
            "global",
            "tr-1",
            "2026-12-06T15:00:00Z",
            "tr-TR",
            "America/Sao_Paulo",
            "Merhaba, siparişim henüz gelmedi.",
        ))
        .await;
    let reply = auto_reply(&tr).expect("an after-hours reply");
    assert!(reply.starts_with("Thank you for your message."), "{reply}");
    assert!(reply.contains("Sunday, December 6 at 9:00 PM"), "{reply}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_without_a_roster_fails_clearly_and_sees_no_other_tenants() {
    let server = TestServer::start(&config()).await;
    import_roster(
        server.data_dir.path(),
        "global",
        &examples().join("schedule/roster.json"),
    );
    let response = server
        .handle(message(
            "other",
            "o-1",
            "2026-12-01T09:30:00Z",
            "es-ES",
            "Europe/Madrid",
            "Hola",
        ))
        .await;
    let outcome = outcome(&response, "schedule");
    assert_eq!(outcome.status(), pb::plugin_outcome::Status::Failed);
    assert!(outcome.error.contains("no roster"), "{}", outcome.error);
    assert!(response.actions.is_empty(), "{response:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sidecar_records_contact_history_once_per_conversation() {
    let server = TestServer::start(&config()).await;
    let data = server.data_dir.path();
    import_roster(data, "history", &examples().join("schedule/roster.json"));
    let mut first = message(
        "history",
        "h-1",
        "2026-12-01T09:31:00Z",
        "es-ES",
        "Europe/Madrid",
        "Hola",
    );
    first.ticket_id = "T-h".into();
    let mut second = first.clone();
    second.event_id = "h-2".into();
    second.occurred_at = Some(timestamp("2026-12-01T09:33:00Z"));
    server.handle(first.clone()).await;
    server.handle(first.clone()).await; // redelivery
    server.handle(second).await; // same conversation
    let mut solved = first.clone();
    solved.event_id = "h-3".into();
    solved.kind = pb::EventKind::TicketSolved as i32;
    solved
        .attributes
        .insert("handle_time_seconds".into(), "240".into());
    server.handle(solved).await;
    let mut german = message(
        "history",
        "h-4",
        "2026-12-01T09:40:00Z",
        "",
        "",
        "Guten Tag, meine Bestellung ist noch nicht angekommen, können Sie helfen?",
    );
    german.ticket_id = "T-g".into();
    server.handle(german).await;
    // The sidecar writes counts in the background, within a second or so.
    let store = crossdesk_sidecar::store::Store::open(data).expect("store");
    let started = std::time::Instant::now();
    let history = loop {
        let history = store
            .contact_history("history", 0, i64::MAX)
            .await
            .expect("history");
        let handled = history.iter().any(|c| c.handled > 0);
        let german = history.iter().any(|c| c.language == "de");
        if (handled && german) || started.elapsed() > std::time::Duration::from_secs(10) {
            break history;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let bucket = seconds("2026-12-01T09:30:00Z");
    let es: Vec<_> = history.iter().filter(|c| c.language == "es").collect();
    assert_eq!(es.len(), 1, "{history:?}");
    assert_eq!(es[0].bucket_start_s, bucket);
    assert_eq!(es[0].channel, "email");
    assert_eq!(
        es[0].arrivals, 1,
        "one conversation, redelivery not counted"
    );
    assert_eq!((es[0].handled, es[0].handle_secs), (1, 240.0));
    let de: Vec<_> = history.iter().filter(|c| c.language == "de").collect();
    assert_eq!(de.len(), 1, "the language a plugin tagged: {history:?}");
    assert_eq!(de[0].arrivals, 1);
    assert!(
        store
            .contact_history("global", 0, i64::MAX)
            .await
            .expect("history")
            .is_empty()
    );
}

#[test]
fn the_erlang_calculator_answers_the_classic_example() {
    let output = crossdesk_command()
        .args([
            "schedule",
            "erlang",
            "--contacts",
            "100",
            "--interval",
            "30m",
            "--aht",
            "180s",
            "--target",
            "20s",
            "--service-level",
            "0.8",
            "--max-occupancy",
            "0.85",
            "--shrinkage",
            "0.3",
            "--json",
        ])
        .logged_output()
        .expect("run crossdesk");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let staffing = &json["staffing"];
    assert_eq!(staffing["traffic_erlangs"], 10.0);
    assert_eq!(staffing["agents"], 14);
    assert_eq!(staffing["scheduled"], 20);
    let level = staffing["service_level"].as_f64().expect("number");
    assert!((level - 0.8883).abs() < 1e-4, "{level}");

    let bad = crossdesk_command()
        .args(["schedule", "erlang", "--contacts", "100", "--aht", "-3s"])
        .logged_output()
        .expect("run crossdesk");
    assert!(!bad.status.success());
    let table = crossdesk_command()
        .args(["schedule", "erlang", "--contacts", "100", "--aht", "0s"])
        .logged_output()
        .expect("run crossdesk");
    assert!(!table.status.success());
    assert!(
        String::from_utf8_lossy(&table.stderr).contains("aht"),
        "{}",
        String::from_utf8_lossy(&table.stderr)
    );
    // `--help` in a command's place lists the plugin's commands.
    let help = crossdesk_command()
        .args(["schedule", "--help"])
        .logged_output()
        .expect("run crossdesk");
    let commands = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success(), "{help:?}");
    assert!(
        commands.contains("  erlang ") && commands.contains("(with --tenant)"),
        "{commands}"
    );
}

#[test]
fn plan_a_generated_week_from_the_command_line() {
    let data = tempfile::tempdir().expect("tempdir");
    let files = tempfile::tempdir().expect("tempdir");
    let out = files.path().to_str().expect("utf-8");
    run(crossdesk_command().args([
        "schedule",
        "generate",
        "--seed",
        "42",
        "--weeks",
        "4",
        "--week",
        "2026-12-07",
        "--out",
        out,
    ]));
    import_roster(data.path(), "planning", &files.path().join("roster.json"));
    let history = files.path().join("history.csv");
    let imported = crossdesk(
        &[
            "schedule",
            "import-history",
            "--tenant",
            "planning",
            history.to_str().expect("utf-8"),
        ],
        data.path(),
    );
    assert!(imported.contains("arrival(s) added"), "{imported}");
    let svg = files.path().join("plan.svg");
    let table = crossdesk(
        &[
            "schedule",
            "plan",
            "--tenant",
            "planning",
            "--week",
            "2026-12-09",
            "--heatmap",
            svg.to_str().expect("utf-8"),
        ],
        data.path(),
    );
    assert!(table.contains("week of 2026-12-07"), "{table}");
    for language in ["en", "es", "de", "ja", "pt"] {
        assert!(table.contains(language), "{language} in {table}");
    }
    let svg = std::fs::read_to_string(&svg).expect("heatmap written");
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..80.min(svg.len())]
    );
    let json = crossdesk(
        &[
            "schedule",
            "plan",
            "--tenant",
            "planning",
            "--week",
            "2026-12-07",
            "--json",
            "--no-heatmap",
        ],
        data.path(),
    );
    let plan: serde_json::Value = serde_json::from_str(&json).expect("json plan");
    assert!(!plan["shifts"].as_array().expect("shifts").is_empty());
    // The gaps are exactly the shortfalls of scheduled against required heads, in
    // agent-intervals, and the generated roster leaves Japanese and Portuguese ones.
    let series = |key: &str, language: &str| -> Vec<i64> {
        plan[key][language]
            .as_array()
            .unwrap_or_else(|| panic!("{key}.{language}"))
            .iter()
            .map(|n| n.as_i64().expect("count"))
            .collect()
    };
    let interval_secs = plan["interval_minutes"].as_i64().expect("interval") * 60;
    let mut shortfall = 0;
    let mut required_total = 0;
    for language in ["de", "en", "es", "ja", "pt"] {
        let (required, scheduled) = (series("required", language), series("scheduled", language));
        required_total += required.iter().sum::<i64>();
        shortfall += required
            .iter()
            .zip(&scheduled)
            .map(|(r, s)| (r - s).max(0))
            .sum::<i64>();
    }
    let gaps = plan["gaps"].as_array().expect("gaps");
    let in_gaps: i64 = gaps
        .iter()
        .map(|g| {
            let span = seconds(g["end"].as_str().expect("end"))
                - seconds(g["start"].as_str().expect("start"));
            g["missing"].as_i64().expect("missing") * span / interval_secs
        })
        .sum();
    assert_eq!(in_gaps, shortfall);
    let coverage = 1.0 - shortfall as f64 / required_total as f64;
    assert!((0.7..0.95).contains(&coverage), "coverage {coverage}");
    for language in ["ja", "pt"] {
        assert!(
            gaps.iter().any(|g| g["language"] == language),
            "{language} gaps"
        );
    }
}
