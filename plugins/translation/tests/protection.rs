//! The protection table: varied messages translated through responses recorded
//! from a real Apertium APy (tests/fixtures/apertium.json), asserting that every
//! protected span comes through byte-identical.
//!
//! To record the fixtures again (after changing the protection or the cases):
//!
//! ```sh
//! scripts/apertium.sh install && scripts/apertium.sh start 2737
//! CARGO_TARGET_DIR=/tmp/tr-target cargo test -p translation --test protection \
//!     -- --ignored record_apertium_fixtures
//! scripts/apertium.sh stop
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use crossdesk_sdk::testing::MockHost;
use crossdesk_sdk::{Action, Agent, Customer, Event, EventKind, Plugin};
use translation::Translation;

const ENGINE_URL: &str = "http://127.0.0.1:2737";

#[path = "common/protection_cases.rs"]
mod protection_cases;
use protection_cases::{CASES, Case};

fn fixtures_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/apertium.json")
}

fn load_fixtures() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(fixtures_path()).expect("tests/fixtures/apertium.json");
    serde_json::from_str(&text).expect("fixtures are a JSON object of URL to body")
}

fn host(fixtures: &BTreeMap<String, String>) -> MockHost {
    let mut host = MockHost::new()
        .grant_kv()
        .setting("engine_url", ENGINE_URL)
        .now_ms(1_700_000_000_000);
    for (url, body) in fixtures {
        host = host.http_response(url.clone(), 200, body.as_bytes());
    }
    host
}

fn seed_glossary() {
    for term in protection_cases::KEEP_TERMS {
        translation::memory::put_keep(term).expect("kv");
    }
    for (term, target) in protection_cases::FORCED_TERMS_EN_ES {
        translation::memory::put_term("en", "es", term, target).expect("kv");
    }
}

fn draft(case: &Case) -> Event {
    let mut event = Event::new(EventKind::AgentReplyDrafted, case.text).with_customer(Customer {
        id: "c-1".into(),
        locale: Some(case.tgt.into()),
        ..Default::default()
    });
    event.agent = Some(Agent {
        id: "a-1".into(),
        working_language: Some(case.src.into()),
    });
    event
}

fn translate(case: &Case, fixtures: &BTreeMap<String, String>) -> Result<String, String> {
    host(fixtures).install();
    seed_glossary();
    let actions = Translation::handle(draft(case)).map_err(|e| e.message)?;
    match actions.first() {
        Some(Action::ReplaceDraft(text)) => Ok(text.clone()),
        other => Err(format!("no draft replacement: {other:?}")),
    }
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn every_protected_span_survives_byte_identical() {
    assert!(CASES.len() >= 30);
    let fixtures = load_fixtures();
    for case in CASES {
        let translated = translate(case, &fixtures)
            .unwrap_or_else(|e| panic!("{:?} ({}→{}): {e}", case.text, case.src, case.tgt));
        assert_ne!(translated, case.text, "not translated: {:?}", case.text);
        for span in case.spans {
            let expected = case.expected_count(span);
            assert_eq!(
                count(&translated, span),
                expected,
                "{span:?} did not survive {}→{}:\n  source: {:?}\n  output: {translated:?}",
                case.src,
                case.tgt,
                case.text
            );
        }
        // Nothing protected may appear that the source did not have.
        for span in translation::protect::find_spans(case.text, &Default::default()) {
            let original = &case.text[span.start..span.end];
            assert!(
                translated.contains(original),
                "{original:?} ({:?}) lost in {translated:?}",
                span.kind
            );
        }
    }
}

#[test]
fn the_forced_term_replaces_the_engine_choice() {
    let fixtures = load_fixtures();
    let case = CASES
        .iter()
        .find(|c| c.text.contains("refund today"))
        .unwrap();
    let translated = translate(case, &fixtures).unwrap();
    assert!(!translated.contains("refund"), "{translated}");
    assert_eq!(count(&translated, "reembolso"), 2, "{translated}");
}

/// Records the APy responses the cases need into tests/fixtures/apertium.json,
/// from the server at APY_URL (default http://127.0.0.1:2737).
#[test]
#[ignore = "needs a running Apertium APy (scripts/apertium.sh start 2737)"]
fn record_apertium_fixtures() {
    let real = std::env::var("APY_URL").unwrap_or_else(|_| ENGINE_URL.to_owned());
    let mut fixtures = BTreeMap::new();
    let fetch = |url: &str| -> String {
        let real_url = url.replacen(ENGINE_URL, &real, 1);
        let out = std::process::Command::new("curl")
            .args(["-sS", "--fail", "--max-time", "30", &real_url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{real_url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let pairs = format!("{ENGINE_URL}/listPairs");
    fixtures.insert(pairs.clone(), fetch(&pairs));
    for case in CASES {
        // Each request the plugin makes is refused with its URL until recorded.
        for _ in 0..20 {
            match translate(case, &fixtures) {
                Ok(_) => break,
                Err(message) => {
                    let url = message
                        .split("request denied: ")
                        .nth(1)
                        .and_then(|rest| rest.split(" is not allowed").next())
                        .unwrap_or_else(|| panic!("{:?}: {message}", case.text))
                        .to_owned();
                    let body = fetch(&url);
                    fixtures.insert(url, body);
                }
            }
        }
    }
    let json = serde_json::to_string_pretty(&fixtures).unwrap();
    std::fs::write(fixtures_path(), json + "\n").unwrap();
}

/// Prints what the engine receives and returns for each case (for humans).
#[test]
#[ignore = "prints the cases' markup and translations"]
fn show_cases() {
    let fixtures = load_fixtures();
    for case in CASES {
        let glossary = translation::memory::Glossary {
            keep: vec!["Crossdesk".into(), "Magic Mouse".into()],
            terms: vec![("refund".into(), "reembolso".into())],
        };
        let doc = translation::protect::Document::new(case.text, &glossary, case.tgt);
        println!("{}→{} {:?}", case.src, case.tgt, case.text);
        for markup in doc.markup() {
            println!("   markup {markup:?}");
        }
        println!("   result {:?}", translate(case, &fixtures));
    }
}
