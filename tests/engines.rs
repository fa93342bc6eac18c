//! The translation plugin's cloud engines and failover, end to end: the sidecar on
//! loopback, the plugin built from source, a simulator of each cloud service that
//! speaks its documented protocol (tests/support/cloud.rs), and the run's real APy
//! as the engine to fall back on.

use crossdesk_integration_tests::cloud::{CloudEngine, KEY, Mode, Protocol};
use crossdesk_integration_tests::engine::Apertium;
use crossdesk_integration_tests::*;
use pb::plugin_outcome::Status;

const SPANISH: &str = "Hola, mi pedido no ha llegado todavía.";
const ENGLISH: &str = "Hello, my order has not arrived yet.";
const REPLY: &str = "Your order was shipped today.";
const GERMAN_REPLY: &str = "Ihre Bestellung wurde heute versandt.";

async fn simulator(protocol: Protocol) -> CloudEngine {
    CloudEngine::start(protocol, &[(SPANISH, ENGLISH), (REPLY, GERMAN_REPLY)]).await
}

/// Tenant `acme`: the translation plugin with `engines` in order, each simulator's
/// host allowed with its secret, and `limits`.
fn config(engines: &[(&str, String)], sims: &[&CloudEngine], limits: &str) -> String {
    let apy = Apertium::shared().url();
    let mut hosts: Vec<String> = vec![apy.trim_start_matches("http://").to_owned()];
    let mut secrets = Vec::new();
    for sim in sims {
        hosts.push(sim.host());
        let (header, value) = sim.secret();
        secrets.push(format!(
            "{{ host = {:?}, header = {header:?}, value = {value:?} }}",
            sim.host()
        ));
    }
    let engines: Vec<String> = engines.iter().map(|(n, u)| format!("{n}={u}")).collect();
    install(&["translation"])
        + &format!(
            r#"
[outbound]
private_hosts = ["127.0.0.1"]
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "translation"
kv = true
allowed_hosts = {hosts:?}
secrets = [{secrets}]
settings = {{ engines = {engines:?}, agent_language = "en" }}
limits = {{ {limits} }}
"#,
            secrets = secrets.join(", "),
            engines = engines.join(", "),
        )
}

fn event(kind: pb::EventKind, id: &str, text: &str, locale: &str) -> pb::Event {
    pb::Event {
        tenant_id: "acme".into(),
        event_id: id.into(),
        kind: kind as i32,
        ticket_id: format!("T-{id}"),
        channel: pb::Channel::Email as i32,
        customer: Some(pb::Customer {
            id: "cust-1".into(),
            locale: locale.into(),
            ..Default::default()
        }),
        agent: Some(pb::Agent {
            id: "agent-1".into(),
            working_language: "en".into(),
        }),
        text: text.into(),
        ..Default::default()
    }
}

/// The error of the translation plugin, which must have failed, for a Spanish
/// message to a server of `config`.
async fn failed_translation(config: &str, id: &str) -> String {
    let server = TestServer::start(config).await;
    let response = server
        .handle(event(pb::EventKind::CustomerMessage, id, SPANISH, "es-ES"))
        .await;
    let failed = outcome(&response, "translation");
    assert_eq!(failed.status(), Status::Failed, "{response:#?}");
    failed.error.clone()
}

fn header_of(response: &pb::HandleEventResponse) -> String {
    notes(response)
        .into_iter()
        .find(|n| n.starts_with("Translation from") || n.starts_with("Reply translated"))
        .unwrap_or_else(|| panic!("no translation note: {response:#?}"))
}

/// Each cloud engine: its languages listed, a customer message translated with
/// the tenant's key added by the host (never seen by the plugin, never in a note),
/// a reply asked in the formal register where the service takes one, and a wrong
/// key refused by the simulator and reported with the engine's name.
#[tokio::test]
async fn each_cloud_engine_is_spoken_to_in_its_protocol() {
    for protocol in [
        Protocol::DeepL,
        Protocol::Google,
        Protocol::Azure,
        Protocol::Amazon,
        Protocol::OpenAi,
        Protocol::LibreTranslate,
    ] {
        let sim = simulator(protocol).await;
        let name = protocol.engine();
        let server =
            TestServer::start(&config(&[(name, sim.url())], &[&sim], "timeout_ms = 10000")).await;
        let response = server
            .handle(event(
                pb::EventKind::CustomerMessage,
                "in-1",
                SPANISH,
                "es-ES",
            ))
            .await;
        let header = header_of(&response);
        assert!(
            header.contains(&format!("· engine {name} ·")),
            "{name}: {header}"
        );
        assert!(
            notes(&response).iter().any(|n| n.ends_with(ENGLISH)),
            "{name}: {response:#?}"
        );
        let response = server
            .handle(event(
                pb::EventKind::AgentReplyDrafted,
                "out-1",
                REPLY,
                "de-DE",
            ))
            .await;
        let replaced = response.actions.iter().find_map(|a| match &a.kind {
            Some(pb::action::Kind::ReplaceDraft(t)) => Some(t.clone()),
            _ => None,
        });
        assert_eq!(
            replaced.as_deref(),
            Some(GERMAN_REPLY),
            "{name}: {response:#?}"
        );
        // Formality where the protocol has it.
        let last = sim.requests().pop().expect("a request");
        match protocol {
            Protocol::DeepL => assert_eq!(last.body["formality"], "prefer_more"),
            Protocol::Amazon => assert_eq!(last.body["Settings"]["Formality"], "FORMAL"),
            Protocol::OpenAi => assert!(
                last.body["messages"][0]["content"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("formally"),
                "{:?}",
                last.body
            ),
            Protocol::Google | Protocol::Azure | Protocol::LibreTranslate => {}
        }
        // The host added the credentials (a keyed LibreTranslate takes its key in
        // the body of a translation); nothing of the key reached the plugin's output.
        let credentialed = sim.requests().iter().all(|r| match protocol {
            Protocol::LibreTranslate => {
                r.path_and_query.starts_with("/languages") || r.body["api_key"] == KEY
            }
            _ => {
                r.header("authorization").is_some()
                    || r.header("ocp-apim-subscription-key").is_some()
            }
        });
        assert!(credentialed, "{name}: a request without credentials");
        assert!(!format!("{response:?}").contains(KEY), "{name}");
        drop(server);

        // A wrong key: refused, reported with the engine's name, the key not echoed.
        let wrong = config(&[(name, sim.url())], &[&sim], "timeout_ms = 10000")
            .replace(KEY, "not-the-key-0000");
        let refused = failed_translation(&wrong, "in-2").await;
        assert!(refused.contains(&format!("{name} at")), "{refused}");
        assert!(refused.contains("HTTP status 40"), "{refused}");
        assert!(!refused.contains("not-the-key"), "{refused}");

        // Throttled: 429 with Retry-After, read and reported.
        sim.set_mode(Mode::Throttled {
            retry_after_secs: 7,
        });
        let throttled = failed_translation(
            &config(&[(name, sim.url())], &[&sim], "timeout_ms = 10000"),
            "in-3",
        )
        .await;
        assert!(
            throttled.contains("HTTP status 429") && throttled.contains("(retry after 7 s)"),
            "{name}: {throttled}"
        );
    }
}

/// A long reply is many texts: DeepL takes 50 a request, and the simulator
/// refuses more, as the service does; the plugin sends them in batches.
#[tokio::test]
async fn a_long_reply_goes_to_deepl_in_requests_it_accepts() {
    let sim = simulator(Protocol::DeepL).await;
    let server = TestServer::start(&config(
        &[("deepl", sim.url())],
        &[&sim],
        "timeout_ms = 10000",
    ))
    .await;
    let long = vec![REPLY; 60].join("\n");
    let response = server
        .handle(event(
            pb::EventKind::AgentReplyDrafted,
            "long-1",
            &long,
            "de-DE",
        ))
        .await;
    let translated = outcome(&response, "translation");
    assert_eq!(translated.status(), Status::Ok, "{response:#?}");
    let batches: Vec<usize> = sim
        .requests()
        .iter()
        .filter(|r| r.path_and_query.starts_with("/v2/translate"))
        .map(|r| r.body["text"].as_array().map_or(0, Vec::len))
        .collect();
    assert!(
        batches.len() >= 2 && batches.iter().all(|n| *n <= 50),
        "{batches:?}"
    );
    assert_eq!(batches.iter().sum::<usize>(), 60, "{batches:?}");
}

/// A customer in Taipei reads Traditional Chinese, one in Lisbon Portugal's
/// Portuguese: each engine that writes the standard is asked for it, by its own
/// spelling of it.
#[tokio::test]
async fn a_reply_is_written_in_the_customers_own_standard() {
    const TRADITIONAL: &str = "您的訂單今天已寄出。";
    for (protocol, name, locale, asked) in [
        (Protocol::DeepL, "deepl", "zh-TW", "ZH-HANT"),
        (Protocol::DeepL, "deepl", "pt-PT", "PT-PT"),
        (Protocol::Azure, "azure", "zh-Hant-HK", "zh-Hant"),
        (Protocol::Google, "google", "zh-TW", "zh-TW"),
        (Protocol::Amazon, "amazon", "pt-PT", "pt-PT"),
        (Protocol::LibreTranslate, "libretranslate", "zh-TW", "zt"),
    ] {
        let sim = CloudEngine::start(protocol, &[(REPLY, TRADITIONAL)]).await;
        let server =
            TestServer::start(&config(&[(name, sim.url())], &[&sim], "timeout_ms = 10000")).await;
        let response = server
            .handle(event(
                pb::EventKind::AgentReplyDrafted,
                "std-1",
                REPLY,
                locale,
            ))
            .await;
        assert_eq!(
            outcome(&response, "translation").status(),
            Status::Ok,
            "{name} {locale}: {response:#?}"
        );
        let last = sim.requests().into_iter().last().expect("a request");
        let target = match protocol {
            Protocol::DeepL => last.body["target_lang"].as_str().map(str::to_owned),
            Protocol::Google => last.body["targetLanguageCode"].as_str().map(str::to_owned),
            Protocol::Amazon => last.body["TargetLanguageCode"].as_str().map(str::to_owned),
            Protocol::LibreTranslate => last.body["target"].as_str().map(str::to_owned),
            _ => last
                .path_and_query
                .split(['?', '&'])
                .find_map(|p| p.strip_prefix("to="))
                .map(str::to_owned),
        };
        assert_eq!(target.as_deref(), Some(asked), "{name} {locale}");
        drop(server);
    }
}

/// A customer in Taiwan with no locale, whose ticket is in Chinese: the reply is
/// asked of the engine in Traditional Chinese, the standard of the country (the
/// tone plugin greets them as the Taiwan profile does).
#[tokio::test]
async fn without_a_locale_the_customers_country_decides_the_standard() {
    const CUSTOMER: &str = "您好，我的訂單到現在還沒有收到，請問什麼時候會寄出？";
    let sim = CloudEngine::start(
        Protocol::DeepL,
        &[
            (
                CUSTOMER,
                "Hello, my order has still not arrived; when will it ship?",
            ),
            (REPLY, "您的訂單今天已寄出。"),
        ],
    )
    .await;
    let server = TestServer::start(&config(
        &[("deepl", sim.url())],
        &[&sim],
        "timeout_ms = 10000",
    ))
    .await;
    // No locale, or one that names no language.
    for locale in ["", "und"] {
        let in_taiwan = |kind, id: &str, text| {
            let mut event = event(kind, &format!("{id}-{locale}"), text, locale);
            event.ticket_id = format!("T-taipei-{locale}");
            if let Some(customer) = event.customer.as_mut() {
                customer.country = "TW".into();
            }
            event
        };
        for (kind, id, text) in [
            (pb::EventKind::CustomerMessage, "tw-1", CUSTOMER),
            (pb::EventKind::AgentReplyDrafted, "tw-2", REPLY),
        ] {
            let response = server.handle(in_taiwan(kind, id, text)).await;
            assert_eq!(
                outcome(&response, "translation").status(),
                Status::Ok,
                "{locale}: {response:#?}"
            );
        }
        let last = sim.requests().into_iter().last().expect("a request");
        assert_eq!(last.body["text"][0], REPLY, "{locale}: {last:?}");
        assert_eq!(last.body["target_lang"], "ZH-HANT", "{locale}: {last:?}");
    }
}

/// A team in Shenzhen: the agents work in Chinese, the customers write Spanish
/// and Japanese, through a cloud engine.
#[tokio::test]
async fn agents_working_in_chinese_reach_spanish_and_japanese_customers() {
    let sim = CloudEngine::start(
        Protocol::Azure,
        &[
            (SPANISH, "你好，我的订单还没有到。"),
            (
                "您的订单今天已发货。",
                "ご注文の商品は本日発送いたしました。",
            ),
        ],
    )
    .await;
    let server = TestServer::start(
        &config(&[("azure", sim.url())], &[&sim], "timeout_ms = 10000")
            .replace("agent_language = \"en\"", "agent_language = \"zh\""),
    )
    .await;
    let mut inbound = event(pb::EventKind::CustomerMessage, "zh-1", SPANISH, "es-MX");
    if let Some(agent) = inbound.agent.as_mut() {
        agent.working_language = "zh-CN".into();
    }
    let response = server.handle(inbound).await;
    let header = header_of(&response);
    assert!(header.contains("route es→zh"), "{header}");
    assert!(
        notes(&response)
            .iter()
            .any(|n| n.ends_with("你好，我的订单还没有到。")),
        "{response:#?}"
    );
    let mut outbound = event(
        pb::EventKind::AgentReplyDrafted,
        "zh-2",
        "您的订单今天已发货。",
        "ja-JP",
    );
    if let Some(agent) = outbound.agent.as_mut() {
        agent.working_language = "zh-CN".into();
    }
    let response = server.handle(outbound).await;
    let replaced = response.actions.iter().find_map(|a| match &a.kind {
        Some(pb::action::Kind::ReplaceDraft(t)) => Some(t.clone()),
        _ => None,
    });
    assert_eq!(
        replaced.as_deref(),
        Some("ご注文の商品は本日発送いたしました。"),
        "{response:#?}"
    );
    let last = sim.requests().pop().expect("a request");
    assert!(
        last.path_and_query.contains("from=zh") && last.path_and_query.contains("to=ja"),
        "{}",
        last.path_and_query
    );
}

/// The first engine answers 429 with `Retry-After: 30`: the message is translated
/// by the next engine and the note says why; until the 30 s are over the first is
/// not asked again.
#[tokio::test]
async fn a_throttled_engine_is_passed_over_for_its_retry_after() {
    let sim = simulator(Protocol::Google).await;
    sim.set_mode(Mode::Throttled {
        retry_after_secs: 30,
    });
    let apy = Apertium::shared().url();
    let server = TestServer::start(&config(
        &[("google", sim.url()), ("apertium", apy)],
        &[&sim],
        "timeout_ms = 10000",
    ))
    .await;
    let response = server
        .handle(event(
            pb::EventKind::CustomerMessage,
            "t-1",
            SPANISH,
            "es-ES",
        ))
        .await;
    let header = header_of(&response);
    assert!(
        header.contains("engine apertium (after google at"),
        "{header}"
    );
    assert!(
        header.contains("HTTP status 429") && header.contains("(retry after 30 s)"),
        "{header}"
    );
    let asked = sim.requests().len();
    let response = server
        .handle(event(
            pb::EventKind::CustomerMessage,
            "t-2",
            "Buenas tardes, quiero devolver un producto.",
            "es-ES",
        ))
        .await;
    let header = header_of(&response);
    // What is left of the 30 s, rounded up: less when the machine is slow.
    let left: u32 = header
        .split("google: skipped for ")
        .nth(1)
        .and_then(|rest| rest.split(" s more after failing").next())
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("no time left named: {header}"));
    assert!((1..=30).contains(&left), "{header}");
    assert_eq!(
        sim.requests().len(),
        asked,
        "the throttled engine was asked again"
    );
}

/// A first engine that is down, then one that is slow (cut off by the per-request
/// timeout), each hands the message to the next; after three failures in a row the
/// down one is left alone.
#[tokio::test]
async fn down_and_slow_engines_fail_over_and_a_failing_one_is_left_alone() {
    let down = simulator(Protocol::Azure).await;
    down.set_mode(Mode::Down);
    let slow = simulator(Protocol::DeepL).await;
    slow.set_mode(Mode::Slow(std::time::Duration::from_secs(3)));
    let apertium = Apertium::shared();
    apertium.warm("spa|eng").await;
    let apy = apertium.url();
    let server = TestServer::start(&config(
        &[
            ("azure", down.url()),
            ("deepl", slow.url()),
            ("apertium", apy),
        ],
        &[&down, &slow],
        // The per-request timeout cuts off the slow engine, and the real APy too
        // when it is slower: on a machine busy with other tests APy has taken more
        // than 400 ms, so 1.5 s, still well under the slow engine's 3 s.
        "timeout_ms = 15000, http_timeout_ms = 1500",
    ))
    .await;
    let texts = [
        "Hola, ¿dónde está mi paquete?",
        "Necesito cambiar la dirección de entrega.",
        "El producto llegó roto, quiero un reembolso.",
        "¿Cuándo llega mi pedido?",
    ];
    let mut headers = Vec::new();
    let mut asked = 0;
    for (n, text) in texts.iter().enumerate() {
        asked = down.requests().len() + slow.requests().len();
        let response = server
            .handle(event(
                pb::EventKind::CustomerMessage,
                &format!("f-{n}"),
                text,
                "es-ES",
            ))
            .await;
        assert_eq!(
            outcome(&response, "translation").status(),
            Status::Ok,
            "{response:#?}"
        );
        headers.push(header_of(&response));
    }
    // The order of engines, and what each said, is in the note.
    assert!(
        headers[0].contains("engine apertium (after azure at"),
        "{}",
        headers[0]
    );
    assert!(headers[0].contains("HTTP status 503"), "{}", headers[0]);
    assert!(
        headers[0].contains("deepl at") && headers[0].contains("request timed out"),
        "{}",
        headers[0]
    );
    // Three failures in a row open each breaker: the fourth message skips both.
    assert!(headers[3].contains("azure: skipped for"), "{}", headers[3]);
    assert!(headers[3].contains("deepl: skipped for"), "{}", headers[3]);
    assert_eq!(
        down.requests().len() + slow.requests().len(),
        asked,
        "an engine left alone was asked: {headers:?}"
    );
}

/// Every engine down: a retryable failure naming each, and nothing in a wrong
/// language.
#[tokio::test]
async fn all_engines_down_is_a_retryable_failure_naming_each() {
    let a = simulator(Protocol::Google).await;
    let b = simulator(Protocol::OpenAi).await;
    a.set_mode(Mode::Down);
    b.set_mode(Mode::Down);
    let error = failed_translation(
        &config(
            &[("google", a.url()), ("openai", b.url())],
            &[&a, &b],
            "timeout_ms = 10000",
        ),
        "d-1",
    )
    .await;
    assert!(
        error.starts_with("no engine translated es→en: google at"),
        "{error}"
    );
    assert!(error.contains("openai at"), "{error}");
}

/// A short message the words leave open, and a cloud engine without analysers:
/// the engine's own detection (Google's `:detectLanguage`) decides, and the note
/// says so.
#[tokio::test]
async fn a_cloud_engines_own_detection_decides_a_close_call() {
    let sim = CloudEngine::start(Protocol::Google, &[("de nada", "you are welcome")]).await;
    sim.set_detection("pt", 0.92);
    let server = TestServer::start(&config(
        &[("google", sim.url())],
        &[&sim],
        "timeout_ms = 10000",
    ))
    .await;
    let response = server
        .handle(event(
            pb::EventKind::CustomerMessage,
            "det-1",
            "de nada",
            "",
        ))
        .await;
    assert!(
        tags(&response).contains(&"lang-pt".to_owned()),
        "{response:#?}"
    );
    let header = header_of(&response);
    assert!(
        header.contains("engine detection google pt 0.92"),
        "{header}"
    );
    assert!(
        sim.requests()
            .iter()
            .any(|r| r.path_and_query.ends_with(":detectLanguage")),
        "the engine was not asked"
    );
}
