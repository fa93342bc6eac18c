//! The translation plugin end to end: the real sidecar on loopback, a tonic client,
//! the plugin built from source, and a real Apertium APy on loopback as the engine
//! (behind a front that counts the requests reaching it).

use crossdesk_integration_tests::engine::{Apertium, Behaviour, EngineFront};
use crossdesk_integration_tests::*;
use crossdesk_sidecar::runtime::CommandInput;
use pb::plugin_outcome::Status;

#[path = "../plugins/translation/tests/common/protection_cases.rs"]
mod protection_cases;

/// A tenant `acme` running the translation plugin (agents work in English) against
/// the engine at `engine_url`, then the tagger, which must run whatever happens to
/// the translation.
fn config(engine_url: &str, timeout_ms: u64) -> String {
    install(&["translation", "plugin-tagger"])
        + LOOPBACK_OUTBOUND
        + "[[tenants]]\nid = \"acme\"\n"
        + &translation_step(
            engine_url,
            "agent_language = \"en\"",
            &format!("limits = {{ timeout_ms = {timeout_ms} }}"),
        )
        + "[[tenants.plugins]]\nname = \"plugin-tagger\"\nsettings = { tag = \"seen\" }\n"
}

fn event(kind: pb::EventKind, id: &str, text: &str, customer_locale: &str) -> pb::Event {
    pb::Event {
        tenant_id: "acme".into(),
        event_id: id.into(),
        kind: kind as i32,
        ticket_id: "T-1".into(),
        channel: pb::Channel::WebChat as i32,
        customer: Some(pb::Customer {
            id: "cust-1".into(),
            locale: customer_locale.into(),
            ..Default::default()
        }),
        agent: Some(pb::Agent {
            id: "agent-7".into(),
            working_language: "en".into(),
        }),
        text: text.into(),
        ..Default::default()
    }
}

fn message(id: &str, text: &str, locale: &str) -> pb::Event {
    event(pb::EventKind::CustomerMessage, id, text, locale)
}

fn reply(id: &str, text: &str, locale: &str) -> pb::Event {
    event(pb::EventKind::AgentReplyDrafted, id, text, locale)
}

fn correction(id: &str, source: &str, corrected: &str) -> pb::Event {
    let mut event = event(pb::EventKind::TranslationCorrected, id, corrected, "es-ES");
    event.attributes = [
        ("source_language", "en"),
        ("target_language", "es"),
        ("source_text", source),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    event
}

/// The replacement draft of a response.
fn draft(response: &pb::HandleEventResponse) -> Option<String> {
    response.actions.iter().find_map(|a| match &a.kind {
        Some(pb::action::Kind::ReplaceDraft(text)) => Some(text.clone()),
        _ => None,
    })
}

/// The sidecar in front of the run's real APy, through a counting front, with the
/// given glossary and memory imported first through the plugin's own commands
/// (`import-terms`, `import-tmx`), as `crossdesk translation ...` runs them.
struct Setup {
    server: TestServer,
    front: EngineFront,
}

async fn setup(terms_csv: Option<&str>, tmx: Option<&str>) -> Setup {
    let front = EngineFront::start(Behaviour::Forward(Apertium::shared().url())).await;
    let server = TestServer::start(&config(&front.url(), 10_000)).await;
    for (command, content) in [("import-terms", terms_csv), ("import-tmx", tmx)] {
        let Some(content) = content else { continue };
        let input = CommandInput {
            tenant: None,
            values: Vec::new(),
            files: vec![("file".into(), content.as_bytes().to_vec())],
        };
        server
            .sidecar
            .run_command(Some("acme"), "translation", command, input)
            .await
            .unwrap_or_else(|e| panic!("{command}: {e}"));
    }
    Setup { server, front }
}

#[tokio::test]
async fn a_spanish_customer_and_an_english_agent_understand_each_other() {
    let s = setup(None, None).await;
    let inbound = s
        .server
        .handle(message(
            "in-1",
            "Hola, mi pedido #4471 no ha llegado todavía. ¿Dónde está mi paquete?",
            "es-ES",
        ))
        .await;
    assert_eq!(
        outcome(&inbound, "translation").status(),
        Status::Ok,
        "{inbound:#?}"
    );
    let note = notes(&inbound)
        .into_iter()
        .find(|n| n.contains("es→en"))
        .unwrap_or_else(|| panic!("no translation note: {inbound:#?}"));
    assert!(note.contains("#4471"), "{note}");
    assert!(note.contains("Spanish"), "{note}");
    // English words from the engine, and the Spanish original is not repeated as-is.
    assert!(note.contains("order") || note.contains("request"), "{note}");
    assert!(note.to_lowercase().contains("where"), "{note}");
    assert_eq!(outcome(&inbound, "plugin-tagger").status(), Status::Ok);

    let outbound = s
        .server
        .handle(reply(
            "out-1",
            "Your order #4471 left our warehouse yesterday. Thank you for your patience.",
            "es-ES",
        ))
        .await;
    assert_eq!(
        outcome(&outbound, "translation").status(),
        Status::Ok,
        "{outbound:#?}"
    );
    let spanish = draft(&outbound).unwrap_or_else(|| panic!("no draft: {outbound:#?}"));
    assert!(spanish.contains("#4471"), "{spanish}");
    assert!(
        spanish.contains("pedido") || spanish.contains("orden"),
        "{spanish}"
    );
    assert!(spanish.contains("paciencia"), "{spanish}");
    // The agent's original is kept as a note.
    assert!(
        notes(&outbound)
            .iter()
            .any(|n| n.contains("Thank you for your patience.")),
        "{outbound:#?}"
    );
    assert!(s.front.translations() >= 2);
}

#[tokio::test]
async fn french_reaches_an_english_agent_through_a_spanish_pivot() {
    let s = setup(None, None).await;
    let response = s
        .server
        .handle(message(
            "fr-1",
            "Bonjour, ma commande n'est pas arrivée. Pouvez-vous m'aider ?",
            "fr-FR",
        ))
        .await;
    assert_eq!(
        outcome(&response, "translation").status(),
        Status::Ok,
        "{response:#?}"
    );
    let note = notes(&response)
        .into_iter()
        .find(|n| n.contains("fr→es→en"))
        .unwrap_or_else(|| panic!("no pivot route in the notes: {response:#?}"));
    assert!(note.to_lowercase().contains("help"), "{note}");
}

#[tokio::test]
async fn glossary_terms_and_placeholders_survive_a_real_engine() {
    use protection_cases::{CASES, FORCED_TERMS_EN_ES, KEEP_TERMS};
    let mut csv = String::from("source_language,target_language,source,target\n");
    for term in KEEP_TERMS {
        csv.push_str(&format!(",,{term},\n"));
    }
    for (term, target) in FORCED_TERMS_EN_ES {
        csv.push_str(&format!("en,es,{term},{target}\n"));
    }
    let s = setup(Some(&csv), None).await;
    assert!(CASES.len() >= 30);
    for (i, case) in CASES.iter().enumerate() {
        let mut event = reply(&format!("case-{i}"), case.text, case.tgt);
        if let Some(agent) = event.agent.as_mut() {
            agent.working_language = case.src.into();
        }
        let response = s.server.handle(event).await;
        assert_eq!(
            outcome(&response, "translation").status(),
            Status::Ok,
            "{:?}: {response:#?}",
            case.text
        );
        let translated = draft(&response)
            .unwrap_or_else(|| panic!("{:?} was not translated: {response:#?}", case.text));
        for span in case.spans {
            assert_eq!(
                translated.matches(span).count(),
                case.expected_count(span),
                "{span:?} did not survive {}→{}:\n  source: {:?}\n  output: {translated:?}",
                case.src,
                case.tgt,
                case.text
            );
        }
    }
}

const MEMORY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
  <header creationtool="test" creationtoolversion="1" segtype="sentence" o-tmf="test"
          adminlang="en" srclang="en" datatype="plaintext"/>
  <body>
    <tu>
      <tuv xml:lang="en-US"><seg>Thank you for your patience.</seg></tuv>
      <tuv xml:lang="es-ES"><seg>Mil gracias por su paciencia.</seg></tuv>
    </tu>
  </body>
</tmx>"#;

#[tokio::test]
async fn a_translation_memory_match_does_not_call_the_engine() {
    let s = setup(None, Some(MEMORY)).await;
    let response = s
        .server
        .handle(reply("tm-1", "Thank you for   your patience.", "es-MX"))
        .await;
    assert_eq!(
        draft(&response).as_deref(),
        Some("Mil gracias por su paciencia.")
    );
    assert_eq!(
        s.front.translations(),
        0,
        "the engine was asked to translate"
    );
    assert_eq!(
        s.front.other_requests(),
        0,
        "the engine was asked for its pairs"
    );
    // Text not in the memory goes to the engine.
    s.server
        .handle(reply("tm-2", "Your parcel has arrived.", "es-MX"))
        .await;
    assert!(s.front.translations() >= 1);
}

#[tokio::test]
async fn a_correction_is_used_the_next_time_the_same_text_comes() {
    let s = setup(None, None).await;
    let source = "Your refund has been issued.";
    let machine =
        draft(&s.server.handle(reply("c-1", source, "es-ES")).await).expect("machine translation");
    let corrected = "Le hemos emitido el reembolso.";
    assert_ne!(machine, corrected);
    let learned = s.server.handle(correction("c-2", source, corrected)).await;
    assert_eq!(
        outcome(&learned, "translation").status(),
        Status::Ok,
        "{learned:#?}"
    );
    let engine_calls = s.front.translations();
    let again = s.server.handle(reply("c-3", source, "es-ES")).await;
    assert_eq!(draft(&again).as_deref(), Some(corrected));
    assert_eq!(
        s.front.translations(),
        engine_calls,
        "the engine was asked again"
    );
}

#[tokio::test]
async fn identical_requests_are_served_from_the_cache_until_the_memory_changes() {
    let s = setup(None, None).await;
    // The plugin keeps the engine's pair list in its storage: a first request fetches
    // it, a change to the data that invalidates what was cached before.
    s.server
        .handle(reply("k-0", "Good morning.", "es-ES"))
        .await;
    let text = "We will send a new charger tomorrow.";
    let first = s.server.handle(reply("k-1", text, "es-ES")).await;
    assert!(!outcome(&first, "translation").cache_hit);
    let calls = s.front.translations();
    // Another delivery id, same content: the cache answers, the engine is not asked.
    let second = s.server.handle(reply("k-2", text, "es-ES")).await;
    assert!(outcome(&second, "translation").cache_hit, "{second:#?}");
    assert_eq!(draft(&second), draft(&first));
    assert_eq!(s.front.translations(), calls);
    // A correction changes the memory: the cached translation is no longer served.
    s.server
        .handle(correction(
            "k-3",
            text,
            "Mañana le enviaremos un cargador nuevo.",
        ))
        .await;
    let third = s.server.handle(reply("k-4", text, "es-ES")).await;
    assert!(!outcome(&third, "translation").cache_hit, "{third:#?}");
    assert_eq!(
        draft(&third).as_deref(),
        Some("Mañana le enviaremos un cargador nuevo.")
    );
}

#[tokio::test]
async fn an_engine_that_is_down_fails_the_translation_only() {
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let server = TestServer::start(&config(&format!("http://{closed}"), 5_000)).await;
    let response = server
        .handle(reply("down-1", "Your parcel has arrived.", "es-ES"))
        .await;
    let translation = outcome(&response, "translation");
    assert_eq!(translation.status(), Status::Failed, "{response:#?}");
    assert!(
        translation.error.contains("apertium"),
        "{}",
        translation.error
    );
    assert!(draft(&response).is_none());
    // The customer-message plugins still run on the next event.
    let next = server
        .handle(message("down-2", "Hola, ¿dónde está mi pedido?", "es-ES"))
        .await;
    assert_eq!(outcome(&next, "plugin-tagger").status(), Status::Ok);
}

#[tokio::test]
async fn an_engine_that_hangs_is_cut_off_at_the_deadline() {
    let front = EngineFront::start(Behaviour::Hang).await;
    let server = TestServer::start(&config(&front.url(), 1_000)).await;
    let response = server
        .handle(message("hang-1", "Hola, ¿dónde está mi pedido?", "es-ES"))
        .await;
    let translation = outcome(&response, "translation");
    assert_eq!(translation.status(), Status::TimedOut, "{response:#?}");
    assert!(
        translation.error.contains("1000 ms"),
        "{}",
        translation.error
    );
    assert_eq!(outcome(&response, "plugin-tagger").status(), Status::Ok);
}

#[tokio::test]
async fn an_engine_that_answers_garbage_is_reported() {
    let front = EngineFront::start(Behaviour::Garbage).await;
    let server = TestServer::start(&config(&front.url(), 5_000)).await;
    let response = server
        .handle(message("junk-1", "Hola, ¿dónde está mi pedido?", "es-ES"))
        .await;
    let translation = outcome(&response, "translation");
    assert_eq!(translation.status(), Status::Failed, "{response:#?}");
    assert!(
        translation.error.contains("apertium"),
        "{}",
        translation.error
    );
    assert_eq!(outcome(&response, "plugin-tagger").status(), Status::Ok);
}

/// Short chat messages with no locale: the words, the letters, whatlang, the
/// languages the engine reaches and its analysers' coverage decide, where
/// whatlang alone said Italian, Tagalog or nothing.
#[tokio::test]
async fn short_messages_without_a_locale_get_their_language() {
    let s = setup(None, None).await;
    let cases = [
        (
            "Hola, mi pedido #4471 no ha llegado y quiero un reembolso.",
            "es",
        ),
        ("ya pagué y nada", "es"),
        ("Egun on, eskaera ez da iritsi", "eu"),
        ("Bos días, o pedido non chegou", "gl"),
        ("min beställning har inte kommit", "sv"),
        ("a minha encomenda ainda não chegou", "pt"),
        ("où est ma commande ?", "fr"),
    ];
    let mut wrong = Vec::new();
    for (n, (text, language)) in cases.iter().enumerate() {
        let response = s
            .server
            .handle(message(&format!("short-{n}"), text, ""))
            .await;
        let tags = tags(&response);
        if !tags.contains(&format!("lang-{language}")) {
            wrong.push(format!("{text:?}: {tags:?} {:?}", notes(&response)));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A German message with no engine for German: tagged `lang-de` for routing and
/// reports, with a note saying why it was not translated; not a failure.
#[tokio::test]
async fn a_language_the_engine_cannot_serve_is_tagged_and_noted() {
    let s = setup(None, None).await;
    let response = s
        .server
        .handle(message(
            "de-1",
            "Hallo, meine Bestellung ist noch nicht angekommen. Wo ist sie?",
            "",
        ))
        .await;
    let translation = outcome(&response, "translation");
    assert_eq!(translation.status(), Status::Ok, "{response:#?}");
    assert!(
        tags(&response).contains(&"lang-de".to_owned()),
        "{response:#?}"
    );
    let note = notes(&response)
        .into_iter()
        .find(|n| n.starts_with("Not translated from German (de)"))
        .unwrap_or_else(|| panic!("no note: {response:#?}"));
    assert!(
        note.contains("unsupported pair German (de) → English (en) for engine apertium"),
        "{note}"
    );
}

#[tokio::test]
async fn offline_pairs_reach_the_agent_through_pivots() {
    let s = setup(None, None).await;
    let inbound = [
        (
            "it",
            "it-IT",
            "Buongiorno, il mio ordine non è ancora arrivato e vorrei sapere quando arriverà.",
            "it→es→en",
        ),
        (
            "gl",
            "gl-ES",
            "Bos días, o meu pedido aínda non chegou e quero saber cando vai chegar.",
            "gl→en",
        ),
        (
            "ro",
            "ro-RO",
            "Bună ziua, comanda mea nu a sosit încă și aș vrea să știu când va sosi.",
            "ro→es→en",
        ),
        (
            "eu",
            "eu-ES",
            "Egun on, nire eskaera ez da oraindik iritsi eta noiz iritsiko den jakin nahi dut.",
            "eu→en",
        ),
        (
            "sv",
            "sv-SE",
            "Hej, min beställning har inte kommit än och jag vill veta när den kommer.",
            "sv→is→en",
        ),
        (
            "nb",
            "nb-NO",
            "Hei, bestillingen min har ikke kommet ennå, og jeg vil vite når den kommer.",
            "nb→sv→is→en",
        ),
    ];
    let mut failures = Vec::new();
    for (n, (language, locale, text, route)) in inbound.iter().enumerate() {
        let response = s
            .server
            .handle(message(&format!("in-{n}"), text, locale))
            .await;
        let note = notes(&response)
            .into_iter()
            .find(|n| n.starts_with("Translation from"));
        let tagged = tags(&response).contains(&format!("lang-{language}"));
        match note {
            Some(note) if note.contains(&format!("route {route}")) && tagged => {
                // Something English came back, not the source text again.
                let body = note.split("\n\n").nth(1).unwrap_or_default();
                if body == *text || body.trim().is_empty() {
                    failures.push(format!("{language}: untranslated: {note}"));
                }
            }
            other => failures.push(format!(
                "{language}: {other:?} (tagged: {tagged})\n{response:#?}"
            )),
        }
    }
    // Each to a customer of a ticket of their own (on T-1 the reply would go in
    // the language written there last).
    let outbound = [("it-IT", "en→es→it"), ("gl-ES", "en→gl"), ("eo", "en→eo")];
    for (n, (locale, route)) in outbound.iter().enumerate() {
        let mut event = reply(
            &format!("out-{n}"),
            "Your order #4471 has been shipped today.",
            locale,
        );
        event.ticket_id = format!("T-out-{n}");
        let response = s.server.handle(event).await;
        let translated = draft(&response).unwrap_or_default();
        let noted = notes(&response)
            .iter()
            .any(|n| n.contains(&format!("route {route}")));
        if !noted || !translated.contains("#4471") || translated.contains("has been shipped") {
            failures.push(format!(
                "reply to {locale}: {translated:?}\n{:?}",
                notes(&response)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `crossdesk plugin exec translation languages` lists what the tenant's engine
/// reaches; for the demo's engine that table is `docs/languages.md`, which must
/// not fall behind the installed pairs (`CROSSDESK_UPDATE_DOCS=1` rewrites it).
#[tokio::test]
async fn the_languages_command_lists_what_the_engine_reaches() {
    let s = setup(None, None).await;
    let output = s
        .server
        .sidecar
        .run_command(
            Some("acme"),
            "translation",
            "languages",
            CommandInput {
                tenant: None,
                values: Vec::new(),
                files: Vec::new(),
            },
        )
        .await
        .expect("languages");
    let table = output.text;
    for row in [
        "| Swedish (sv) | sv→is→en | — |",
        "| Spanish (es) | es→en | en→es |",
        "| Italian (it) | it→es→en | en→es→it |",
    ] {
        assert!(table.contains(row), "{row} missing:\n{table}");
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/languages.md");
    let doc = format!(
        "# What the demo's offline engine serves\n\n\
         Generated by `tests/translation.rs` (`the_languages_command_lists_what_the_engine_reaches`) \
         from Apertium APy's `/listPairs` with the pairs `scripts/apertium.sh install` puts in; \
         `crossdesk plugin exec translation languages --tenant ID` prints the same table for a \
         tenant's own engine. Run the test with `CROSSDESK_UPDATE_DOCS=1` after changing the \
         pairs.\n\n{table}"
    );
    if std::env::var_os("CROSSDESK_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &doc).expect("write docs/languages.md");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        committed, doc,
        "docs/languages.md is stale: rerun with CROSSDESK_UPDATE_DOCS=1"
    );
}

const ADMIN_TOKEN: &str = "ops-token-0f3b9d2a7c41";

/// `crossdesk admin <args>` against `server` as `ops`, without blocking the test's
/// runtime; its standard output.
async fn admin_cli(server: &TestServer, args: &[&str]) -> String {
    let addr = server.admin_addr.expect("the config has [admin]");
    let mut command = tokio::process::Command::from(crossdesk_command());
    command
        .arg("admin")
        .args(args)
        .env("CROSSDESK_ADMIN_ADDR", addr.to_string())
        .env("CROSSDESK_ADMIN_TOKEN", ADMIN_TOKEN)
        .kill_on_drop(true);
    let output = command.output().await.expect("run crossdesk admin");
    assert!(
        output.status.success(),
        "crossdesk admin {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A word customers use that the engine does not know: counted per region from
/// their messages (with a few words of context, never the whole message), a
/// translation suggested from an agent's correction, accepted by an admin, and
/// from then on translated through the glossary.
#[tokio::test]
async fn a_customers_word_is_collected_suggested_accepted_and_then_translated() {
    let admin = format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\n\
         users = [{{ name = \"ops\", token = \"{ADMIN_TOKEN}\", tenants = [\"*\"] }}]\n"
    );
    let server = TestServer::start(&(admin + &config(&Apertium::shared().url(), 10_000))).await;
    let messages = [
        ("mi celu no prende desde ayer", "MX"),
        ("se me cayó el celu y se rompió la pantalla", "MX"),
        ("el celu nuevo no carga nada", "AR"),
    ];
    let mut first_translation = String::new();
    for (n, (text, country)) in messages.iter().enumerate() {
        let mut event = message(&format!("celu-{n}"), text, "es-MX");
        if let Some(c) = event.customer.as_mut() {
            c.country = (*country).into();
        }
        let response = server.handle(event).await;
        let note = notes(&response)
            .into_iter()
            .find(|n| n.starts_with("Translation from"))
            .unwrap_or_else(|| panic!("{response:#?}"));
        if n == 0 {
            first_translation = note.split("\n\n").nth(1).unwrap_or_default().to_owned();
        }
    }
    assert!(first_translation.contains("celu"), "{first_translation}");
    // The admin API runs the plugin's commands for the tenant.
    let mut api = server.admin().await;
    let mut run = async |command: &str, values: &[(&str, &str)]| {
        let mut request = tonic::Request::new(pb::RunPluginCommandRequest {
            tenant_id: "acme".into(),
            plugin: "translation".into(),
            command: command.into(),
            values: values
                .iter()
                .map(|(name, value)| pb::CommandValue {
                    name: (*name).into(),
                    value: (*value).into(),
                })
                .collect(),
            files: Vec::new(),
        });
        let bearer = format!("Bearer {ADMIN_TOKEN}")
            .parse()
            .expect("header value");
        request.metadata_mut().insert("authorization", bearer);
        api.run_plugin_command(request)
            .await
            .unwrap_or_else(|e| panic!("{command}: {e}"))
            .into_inner()
            .text
    };
    let listed = run("unknown-words", &[("language", "es")]).await;
    assert!(
        listed.contains("| celu | es | 3 | AR 1, MX 2 |"),
        "{listed}"
    );
    assert!(
        !listed.contains("pantalla"),
        "a whole message was kept:\n{listed}"
    );

    // The agent corrects the first message's translation, fixing only that word.
    let corrected = first_translation.replace("celu", "cellphone");
    let mut fix = correction("celu-fix", "mi celu no prende desde ayer", &corrected);
    fix.attributes.insert("source_language".into(), "es".into());
    fix.attributes.insert("target_language".into(), "en".into());
    let response = server.handle(fix).await;
    assert!(
        notes(&response)
            .iter()
            .any(|n| n.contains("Suggested for the glossary: celu → cellphone")),
        "{response:#?}"
    );
    // The same list through the CLI, with the suggestion.
    let listed = admin_cli(
        &server,
        &[
            "command",
            "--tenant",
            "acme",
            "translation",
            "unknown-words",
        ],
    )
    .await;
    assert!(
        listed.contains("| celu | es | 3 |") && listed.contains("| cellphone |"),
        "{listed}"
    );

    let accepted = run(
        "accept-word",
        &[
            ("word", "celu"),
            ("translation", "cellphone"),
            ("language", "es"),
        ],
    )
    .await;
    assert!(
        accepted.contains("'celu' (es) is translated as 'cellphone' (en)"),
        "{accepted}"
    );
    let response = server
        .handle(message(
            "celu-next",
            "necesito ayuda urgente con mi celu",
            "es-MX",
        ))
        .await;
    let note = notes(&response)
        .into_iter()
        .find(|n| n.starts_with("Translation from"))
        .unwrap_or_else(|| panic!("{response:#?}"));
    assert!(
        note.contains("cellphone") && !note.ends_with("celu"),
        "{note}"
    );
    let listed = run("unknown-words", &[("language", "es")]).await;
    assert!(!listed.contains("| celu |"), "{listed}");
    // What the admin ran is in the audit log.
    let mut request = tonic::Request::new(pb::ListAuditLogRequest {
        tenant_id: "acme".into(),
        limit: 10,
        ..Default::default()
    });
    let bearer = format!("Bearer {ADMIN_TOKEN}")
        .parse()
        .expect("header value");
    request.metadata_mut().insert("authorization", bearer);
    let audit = server
        .admin()
        .await
        .list_audit_log(request)
        .await
        .expect("audit")
        .into_inner();
    assert!(
        audit
            .entries
            .iter()
            .any(|e| e.action == "plugin.command" && e.target == "translation/accept-word"),
        "{audit:#?}"
    );
}
