//! The plugin's behaviour with a stand-in host: canned engine replies (taken from a
//! real Apertium APy where the text matters), exact URLs, and kv.
//!
//! MockHost refuses every URL that is not registered, so a test that registers no
//! translation URL proves the engine was not called.

use crossdesk_sdk::testing::MockHost;
use crossdesk_sdk::{Action, Agent, Customer, Event, EventKind, Plugin, PluginError};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;
use translation::Translation;
use translation::memory::{self, PairCache, TmEntry};

const APY: &str = "http://127.0.0.1:2737";
const NOW: i64 = 1_700_000_000_000;

/// What the real APy (Debian's apertium-apy 0.11.7 with apertium-eng-spa,
/// apertium-fr-es, apertium-es-pt and apertium-en-ca) answers to /listPairs.
const LIST_PAIRS: &str = r#"{"responseData": [{"sourceLanguage": "eng", "targetLanguage": "cat_iec2017"}, {"sourceLanguage": "eng", "targetLanguage": "cat_valencia"}, {"sourceLanguage": "eng", "targetLanguage": "cat"}, {"sourceLanguage": "spa", "targetLanguage": "eng"}, {"sourceLanguage": "spa", "targetLanguage": "por_BR"}, {"sourceLanguage": "por", "targetLanguage": "spa"}, {"sourceLanguage": "spa", "targetLanguage": "fra"}, {"sourceLanguage": "spa", "targetLanguage": "eng_US"}, {"sourceLanguage": "eng", "targetLanguage": "spa"}, {"sourceLanguage": "spa", "targetLanguage": "por"}, {"sourceLanguage": "cat", "targetLanguage": "eng"}, {"sourceLanguage": "cat", "targetLanguage": "eng_US"}, {"sourceLanguage": "fra", "targetLanguage": "spa"}], "responseDetails": null, "responseStatus": 200}"#;

const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The URL the plugin requests to translate `q` with APy.
fn apy(pair: &str, q: &str) -> String {
    format!(
        "{APY}/translate?langpair={pair}&q={}&markUnknown=yes",
        utf8_percent_encode(q, QUERY_VALUE)
    )
}

/// APy's reply carrying `text`.
fn apy_reply(text: &str) -> Vec<u8> {
    json!({"responseData": {"translatedText": text}, "responseDetails": null, "responseStatus": 200})
        .to_string()
        .into_bytes()
}

/// A host with kv, the clock, and APy's pair list.
fn host() -> MockHost {
    MockHost::new().grant_kv().now_ms(NOW).http_response(
        format!("{APY}/listPairs"),
        200,
        LIST_PAIRS.as_bytes(),
    )
}

trait Canned {
    fn apy(self, pair: &str, q: &str, answer: &str) -> Self;
}

impl Canned for MockHost {
    fn apy(self, pair: &str, q: &str, answer: &str) -> MockHost {
        self.http_response(apy(pair, q), 200, &apy_reply(answer))
    }
}

fn customer(locale: Option<&str>) -> Customer {
    Customer {
        id: "cust-42".into(),
        locale: locale.map(str::to_owned),
        ..Default::default()
    }
}

fn message(text: &str, locale: Option<&str>) -> Event {
    let mut event = Event::new(EventKind::CustomerMessage, text).with_customer(customer(locale));
    event.ticket_id = "T-1".into();
    event
}

fn draft(text: &str, agent_language: &str, locale: Option<&str>) -> Event {
    let mut event = Event::new(EventKind::AgentReplyDrafted, text).with_customer(customer(locale));
    event.ticket_id = "T-1".into();
    event.agent = Some(Agent {
        id: "agent-7".into(),
        working_language: Some(agent_language.into()),
    });
    event
}

fn note(actions: &[Action]) -> &str {
    actions
        .iter()
        .find_map(|a| match a {
            Action::InternalNote(n) => Some(n.as_str()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no note in {actions:?}"))
}

/// Where the language of ticket `T-1` is remembered at `NOW`.
fn ticket_language_key() -> String {
    use translation::{periods::period_of, ticket_language::key};
    key(period_of(NOW), "T-1")
}

fn replaced(actions: &[Action]) -> &str {
    actions
        .iter()
        .find_map(|a| match a {
            Action::ReplaceDraft(n) => Some(n.as_str()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no draft in {actions:?}"))
}

const FRENCH: &str =
    "Bonjour, je voudrais savoir où est ma commande #4471, elle n'est toujours pas arrivée.";
const FRENCH_MARKUP: &str =
    "Bonjour, je voudrais savoir où est ma commande <x0/>, elle n'est toujours pas arrivée.";
// Recorded from APy: fra|spa (with its `#` mark for a form it could not generate),
// then spa|eng of the Spanish without the mark.
const FRENCH_IN_SPANISH: &str =
    "Saludo, querría saber donde es mi encargo <x0/>, no es siempre #pas llegada.";
const SPANISH_CLEAN: &str =
    "Saludo, querría saber donde es mi encargo <x0/>, no es siempre pas llegada.";
const FRENCH_IN_ENGLISH: &str =
    "Greeting, would want to know where is my commission <x0/>, is not always pas arrival.";

fn french_host() -> MockHost {
    host().apy("fra|spa", FRENCH_MARKUP, FRENCH_IN_SPANISH).apy(
        "spa|eng",
        SPANISH_CLEAN,
        FRENCH_IN_ENGLISH,
    )
}

// ---- Inbound ----

#[test]
fn detects_french_and_translates_through_the_spanish_pivot() {
    let host = french_host().install();
    let actions = Translation::handle(message(FRENCH, Some("es-MX"))).unwrap();
    let note = note(&actions);
    let (header, body) = note.split_once("\n\n").unwrap();
    assert_eq!(
        header,
        "Translation from French (fr) · detected (score 1.85, no other candidate) · engine apertium · route fr→es→en"
    );
    assert!(!header.contains('\n'));
    assert_eq!(
        body,
        "Greeting, would want to know where is my commission #4471, is not always pas arrival."
    );
    assert!(actions.contains(&Action::AddTags(vec!["lang-fr".into()])));
    assert_eq!(host.kv_value(&ticket_language_key()), Some(b"fr".to_vec()));
}

#[test]
fn short_text_falls_back_to_the_customer_locale() {
    host().apy("spa|eng", "Hola!", "Hello!").install();
    let actions = Translation::handle(message("Hola!", Some("es-MX"))).unwrap();
    let note = note(&actions);
    assert!(
        note.starts_with("Translation from Spanish (es) · customer locale (text too short: 4 letters, under 24; detected "),
        "{note}"
    );
    assert!(note.contains("route es→en"), "{note}");
    assert!(note.ends_with("\n\nHello!"), "{note}");
    assert!(actions.contains(&Action::AddTags(vec!["lang-es".into()])));
}

/// A customer's own asterisks are not Apertium's marks of unknown words: they
/// travel as U+2217 and come back whole (the answer is the real APy's).
#[test]
fn a_customers_asterisks_survive_apertiums_marks() {
    host()
        .apy(
            "spa|eng",
            "Mi \u{2217}celu\u{2217} no prende",
            "My \u{2217}*celu\u{2217} no *prende",
        )
        .install();
    let actions = Translation::handle(message("Mi *celu* no prende", Some("es-MX"))).unwrap();
    let note = note(&actions);
    assert!(note.ends_with("\n\nMy *celu* no prende"), "{note}");
}

#[test]
fn min_detect_chars_is_configurable() {
    french_host().setting("min_detect_chars", "200").install();
    // Under 200 letters the locale decides, even for a reliably detected text.
    let actions = Translation::handle(message(FRENCH, Some("fr-CA"))).unwrap();
    assert!(
        note(&actions).starts_with("Translation from French (fr) · customer locale (text too short: 64 letters, under 200; detected French (fr), score 2.25"),
        "{}",
        note(&actions)
    );
}

#[test]
fn the_customer_text_is_never_altered_and_same_language_only_tags() {
    let host = host().install();
    let event = message(
        "Hello, my parcel never arrived and I would like a refund please.",
        Some("en-GB"),
    );
    let actions = Translation::handle(event.clone()).unwrap();
    assert_eq!(actions, vec![Action::AddTags(vec!["lang-en".into()])]);
    assert!(!actions.iter().any(|a| matches!(a, Action::ReplaceDraft(_))));
    assert_eq!(host.kv_value(&ticket_language_key()), Some(b"en".to_vec()));
}

#[test]
fn the_agents_working_language_overrides_the_setting() {
    // The agent reads Spanish: a Spanish message needs no translation.
    host().setting("agent_language", "fr").install();
    let mut event = message(
        "Hola, necesito ayuda con mi pedido por favor, gracias.",
        Some("es"),
    );
    event.agent = Some(Agent {
        id: "agent-9".into(),
        working_language: Some("es-ES".into()),
    });
    assert_eq!(
        Translation::handle(event).unwrap(),
        vec![Action::AddTags(vec!["lang-es".into()])]
    );
}

#[test]
fn a_message_of_codes_and_emoji_is_not_sent_anywhere() {
    // No URL registered but the pair list: nothing was translated, nothing lost.
    MockHost::new().grant_kv().install();
    let actions = Translation::handle(message("#4471 👍", Some("fr"))).unwrap();
    let note = note(&actions);
    assert!(note.ends_with("\n\n#4471 👍"), "{note}");
    assert!(note.contains("route nothing to translate"), "{note}");
}

// ---- Outbound ----

#[test]
fn a_draft_is_translated_into_the_customer_locale() {
    let text = "Your refund for order #4471 has been issued.";
    host()
        .apy(
            "eng|spa",
            "Your refund for order <x0/> has been issued.",
            "Vuestro reembolso para orden <x0/> ha sido emitido.",
        )
        .install();
    let actions = Translation::handle(draft(text, "en", Some("es-MX"))).unwrap();
    assert_eq!(
        replaced(&actions),
        "Vuestro reembolso para orden #4471 ha sido emitido."
    );
    let note = note(&actions);
    assert!(
        note.starts_with("Reply translated into Spanish (es, from the customer locale) · engine apertium · route en→es"),
        "{note}"
    );
    assert!(
        note.ends_with(&format!("Agent's original:\n{text}")),
        "{note}"
    );
}

/// An English draft on a ticket where the customer wrote Spanish, to a
/// customer of `locale`: translated into Spanish, from the ticket's language.
fn reply_on_a_spanish_ticket(locale: Option<&str>) {
    let text = "Your refund for order #4471 has been issued.";
    let _host = host()
        .apy(
            "eng|spa",
            "Your refund for order <x0/> has been issued.",
            "Vuestro reembolso para orden <x0/> ha sido emitido.",
        )
        .install();
    translation::ticket_language::remember("T-1", "es", NOW).expect("remembered");
    let actions = Translation::handle(draft(text, "en", locale)).expect("handled");
    assert_eq!(
        replaced(&actions),
        "Vuestro reembolso para orden #4471 ha sido emitido."
    );
    assert!(note(&actions).contains("from the ticket language"));
}

#[test]
fn without_a_locale_the_tickets_language_is_used() {
    reply_on_a_spanish_ticket(None);
}

/// A helpdesk's default locale (every e-mail customer `en-US`) does not have a
/// customer who writes Spanish answered in English.
#[test]
fn the_language_the_customer_wrote_in_wins_over_their_locale() {
    reply_on_a_spanish_ticket(Some("en-US"));
}

#[test]
fn without_any_target_language_a_draft_is_left_alone() {
    host().install();
    assert_eq!(
        Translation::handle(draft("Your refund has been issued.", "en", None)).unwrap(),
        vec![]
    );
    // Same language: nothing either.
    assert_eq!(
        Translation::handle(draft("Your refund has been issued.", "en", Some("en-US"))).unwrap(),
        vec![]
    );
}

// ---- Memory ----

#[test]
fn a_memory_hit_does_not_call_the_engine() {
    // No HTTP response registered at all: any engine call would fail.
    let _host = MockHost::new().grant_kv().install();
    memory::store_tm(
        "en",
        "es",
        &TmEntry::new(
            "Your refund has been issued.",
            "Su reembolso ya fue emitido.",
            "import",
        ),
    )
    .unwrap();
    let actions =
        Translation::handle(draft("  Your refund has been\nissued. ", "en", Some("es"))).unwrap();
    assert_eq!(replaced(&actions), "Su reembolso ya fue emitido.");
    assert!(note(&actions).contains("route memory"));
}

#[test]
fn a_correction_is_learned_and_reused() {
    let host = MockHost::new().grant_kv().install();
    let mut correction = Event::new(
        EventKind::TranslationCorrected,
        "Su reembolso del pedido #4471 ya fue emitido.",
    )
    .with_attribute("source_language", "en")
    .with_attribute("target_language", "es-MX")
    .with_attribute(
        "source_text",
        "Your refund for order #4471 has been issued.",
    );
    correction.agent = Some(Agent {
        id: "agent-7".into(),
        working_language: Some("en".into()),
    });
    let actions = Translation::handle(correction.clone()).unwrap();
    let learned = note(&actions);
    assert!(
        learned.starts_with("Learned for the translation memory en→es"),
        "{learned}"
    );
    let key = memory::tm_key("en", "es", "Your refund for order #4471 has been issued.");
    let stored = TmEntry::decode(&host.kv_value(&key).unwrap()).unwrap();
    assert_eq!(stored.origin, "correction:agent-7");

    // The same correction again writes nothing and says so.
    let again = Translation::handle(correction).unwrap();
    assert!(note(&again).starts_with("Already in the translation memory"));

    // The next draft with that source uses it, without the engine.
    let actions = Translation::handle(draft(
        "Your refund for order #4471 has been issued.",
        "en",
        Some("es-ES"),
    ))
    .unwrap();
    assert_eq!(
        replaced(&actions),
        "Su reembolso del pedido #4471 ya fue emitido."
    );
}

/// Chinese is written in two standards: a correction made for a customer in
/// Taiwan serves the next customer reading Traditional Chinese, never one reading
/// Simplified (where the engines translate as before: here, none has the pair).
#[test]
fn a_correction_serves_readers_of_its_own_standard_only() {
    const SOURCE: &str = "Your refund has been issued.";
    const TRADITIONAL: &str = "您的退款已經發出。";
    let host = host().install();
    let correction = Event::new(EventKind::TranslationCorrected, TRADITIONAL)
        .with_attribute("source_language", "en")
        .with_attribute("target_language", "zh-TW")
        .with_attribute("source_text", SOURCE);
    let actions = Translation::handle(correction).unwrap();
    assert!(
        note(&actions).starts_with("Learned for the translation memory en→zh-Hant"),
        "{actions:?}"
    );
    assert!(
        host.kv_value(&memory::tm_key("en", "zh-Hant", SOURCE))
            .is_some()
    );
    assert!(host.kv_value(&memory::tm_key("en", "zh", SOURCE)).is_none());
    for locale in ["zh-TW", "zh-Hant-HK"] {
        let actions = Translation::handle(draft(SOURCE, "en", Some(locale))).unwrap();
        assert_eq!(replaced(&actions), TRADITIONAL, "{locale}");
    }
    for locale in ["zh-CN", "zh"] {
        let actions = Translation::handle(draft(SOURCE, "en", Some(locale))).unwrap();
        assert!(
            actions
                .iter()
                .all(|a| !matches!(a, Action::ReplaceDraft(_))),
            "{locale}: {actions:?}"
        );
        assert!(
            note(&actions).starts_with("Reply not translated"),
            "{locale}: {actions:?}"
        );
    }
}

/// A team that reads Traditional Chinese (`agent_language = zh-TW`) gets its own
/// corrections on customer messages, whether or not an agent is named.
#[test]
fn agents_reading_traditional_chinese_get_their_corrections() {
    const SPANISH: &str = "Hola!";
    const TRADITIONAL: &str = "你好！";
    let host = host().setting("agent_language", "zh-TW").install();
    let correction = Event::new(EventKind::TranslationCorrected, TRADITIONAL)
        .with_attribute("source_language", "es")
        .with_attribute("target_language", "zh-TW")
        .with_attribute("source_text", SPANISH);
    Translation::handle(correction).unwrap();
    assert!(
        host.kv_value(&memory::tm_key("es", "zh-Hant", SPANISH))
            .is_some()
    );
    let actions = Translation::handle(message(SPANISH, Some("es-MX"))).unwrap();
    assert!(
        note(&actions).ends_with(&format!("\n\n{TRADITIONAL}")),
        "{actions:?}"
    );
}

#[test]
fn a_correction_without_an_attribute_names_it() {
    MockHost::new().grant_kv().install();
    let full = [
        ("source_language", "en"),
        ("target_language", "es"),
        ("source_text", "Hello"),
    ];
    for missing in ["source_language", "target_language", "source_text"] {
        let mut event = Event::new(EventKind::TranslationCorrected, "Hola");
        for (k, v) in full.iter().filter(|(k, _)| *k != missing) {
            event = event.with_attribute(*k, *v);
        }
        let err = Translation::handle(event).unwrap_err();
        assert!(!err.retryable);
        assert_eq!(
            err.message,
            format!("translation correction without attribute {missing}")
        );
    }
    let mut bad = Event::new(EventKind::TranslationCorrected, "Hola");
    for (k, v) in full {
        bad = bad.with_attribute(k, v);
    }
    let err = Translation::handle(bad.clone().with_attribute("terms", "refund")).unwrap_err();
    assert!(
        err.message.starts_with("attribute terms:"),
        "{}",
        err.message
    );
    bad.text = "  ".into();
    assert!(
        Translation::handle(bad)
            .unwrap_err()
            .message
            .contains("empty text")
    );
}

// ---- Glossary ----

#[test]
fn correction_terms_are_forced_in_later_translations() {
    let host = host()
        .apy(
            "eng|spa",
            // "refund" travels as a placeholder; the engine cannot choose another word.
            "Your <x0/> for order <x1/> has been issued.",
            "Vuestro <x0/> para el orden <x1/> ha sido emitido.",
        )
        .install();
    let correction = Event::new(
        EventKind::TranslationCorrected,
        "Su reembolso ya fue emitido.",
    )
    .with_attribute("source_language", "en")
    .with_attribute("target_language", "es")
    .with_attribute("source_text", "Your refund has been issued.")
    .with_attribute("terms", "refund=reembolso; order number = número de pedido");
    let learned = Translation::handle(correction).unwrap();
    assert!(
        note(&learned)
            .contains("Glossary terms en→es: refund → reembolso; order number → número de pedido")
    );
    assert_eq!(
        host.kv_value("glossary/term/en/es/order number"),
        Some("número de pedido".as_bytes().to_vec())
    );
    let actions = Translation::handle(draft(
        "Your refund for order #4471 has been issued.",
        "en",
        Some("es"),
    ))
    .unwrap();
    assert_eq!(
        replaced(&actions),
        "Vuestro reembolso para el orden #4471 ha sido emitido."
    );
}

#[test]
fn do_not_translate_terms_come_through() {
    let _host = host()
        .apy(
            "eng|spa",
            "The <x0/> team thanks you.",
            "El <x0/> equipo te das las gracias a.",
        )
        .install();
    memory::put_keep("Crossdesk").unwrap();
    let actions =
        Translation::handle(draft("The crossdesk team thanks you.", "en", Some("es"))).unwrap();
    // Matched without case, put back as written.
    assert_eq!(
        replaced(&actions),
        "El crossdesk equipo te das las gracias a."
    );
}

// ---- Protection fallback ----

#[test]
fn a_lost_placeholder_falls_back_to_segments() {
    // The engine drops the placeholder: the unit is translated segment by segment
    // (one request, segments joined by APy's block boundary) and rebuilt around the
    // span.
    host()
        .apy(
            "eng|spa",
            "Your order <x0/> has been issued.",
            "Vuestro orden ha sido emitido.",
        )
        .apy(
            "eng|spa",
            "Your order<p></p>has been issued.",
            "Vuestro orden<p></p>Ha sido emitido.",
        )
        .install();
    let actions =
        Translation::handle(draft("Your order #4471 has been issued.", "en", Some("es"))).unwrap();
    assert_eq!(replaced(&actions), "Vuestro orden #4471 ha sido emitido.");
    assert!(note(&actions).contains("route en→es, segment by segment"));
}

#[test]
fn lost_batch_boundaries_fall_back_to_one_request_per_text() {
    host()
        .apy("eng|spa", "Hello<p></p>Goodbye", "Hola adiós")
        .apy("eng|spa", "Hello", "Hola")
        .apy("eng|spa", "Goodbye", "Adiós")
        .install();
    let actions = Translation::handle(draft("Hello\nGoodbye", "en", Some("es"))).unwrap();
    assert_eq!(replaced(&actions), "Hola\nAdiós");
}

// ---- Engine failures ----

fn failure(host: MockHost) -> PluginError {
    host.install();
    Translation::handle(draft("Your refund has been issued.", "en", Some("es")))
        .expect_err("the translation should fail")
}

#[test]
fn an_engine_that_is_down_is_a_retryable_error() {
    let err = failure(host().http_response(
        apy("eng|spa", "Your refund has been issued."),
        503,
        b"Service Unavailable",
    ));
    assert!(err.retryable);
    assert_eq!(
        err.message,
        "apertium at http://127.0.0.1:2737: HTTP status 503"
    );
    let err = failure(MockHost::new().grant_kv().http_response(
        format!("{APY}/listPairs"),
        502,
        b"",
    ));
    assert!(err.retryable);
    assert_eq!(
        err.message,
        "apertium at http://127.0.0.1:2737: HTTP status 502"
    );
}

#[test]
fn a_refused_engine_host_names_the_engine() {
    let err = failure(MockHost::new().grant_kv());
    assert!(!err.retryable);
    assert!(
        err.message
            .starts_with("apertium at http://127.0.0.1:2737: request denied"),
        "{}",
        err.message
    );
}

#[test]
fn garbage_empty_or_misshapen_replies_are_retryable_errors() {
    let url = apy("eng|spa", "Your refund has been issued.");
    let cases: [(&[u8], &str); 5] = [
        (b"<html>oops</html>", "unreadable reply (not JSON"),
        (b"", "empty reply"),
        (br#"{"responseData": {}}"#, "reply in the wrong shape"),
        (
            br#"{"responseData": null, "responseDetails": "internal error", "responseStatus": 503}"#,
            "responseStatus 503: internal error",
        ),
        (br#"{"responseData": {"translatedText": "  "}, "responseStatus": 200}"#, "empty translation"),
    ];
    for (body, expected) in cases {
        let err = failure(host().http_response(url.clone(), 200, body));
        assert!(err.retryable, "{}", err.message);
        assert!(
            err.message
                .starts_with("apertium at http://127.0.0.1:2737: "),
            "{}",
            err.message
        );
        assert!(
            err.message.contains(expected),
            "{} lacks {expected}",
            err.message
        );
    }
    let err = failure(MockHost::new().grant_kv().http_response(
        format!("{APY}/listPairs"),
        200,
        br#"{"responseData": [{"source": "eng"}]}"#,
    ));
    assert!(err.retryable);
    assert!(err.message.contains("wrong shape"), "{}", err.message);
}

#[test]
fn a_language_no_engine_translates_is_tagged_and_noted_not_failed() {
    host().install();
    let actions = Translation::handle(message(
        "こんにちは、注文した商品がまだ届いていません。いつ届きますか？",
        Some("ja-JP"),
    ))
    .unwrap();
    // Routing and reports still see the customer's language.
    assert!(actions.contains(&Action::AddTags(vec!["lang-ja".into()])));
    let note = note(&actions);
    assert!(
        note.starts_with("Not translated from Japanese (ja)"),
        "{note}"
    );
    assert!(
        note.contains("unsupported pair Japanese (ja) → English (en) for engine apertium"),
        "{note}"
    );
    assert!(!actions.iter().any(|a| matches!(a, Action::ReplaceDraft(_))));
}

// ---- Pair list cache ----

/// The name the APy engine's pair list is cached under.
fn apertium_cache() -> String {
    translation::engine::Engine::new("apertium", APY)
        .expect("the test engine")
        .pairs_cache_name()
}

#[test]
fn the_pair_list_is_cached_for_an_hour() {
    let first = host().apy("spa|eng", "Hola!", "Hello!").install();
    Translation::handle(message("Hola!", Some("es"))).unwrap();
    let cached = memory::cached_pairs(&apertium_cache()).unwrap().unwrap();
    assert_eq!(cached.fetched_at_ms, NOW);
    assert_eq!(cached.url, APY);
    assert!(cached.pairs.contains(&("fra".into(), "spa".into())));
    assert!(
        first
            .kv_value(&memory::pairs_key(&apertium_cache()))
            .is_some()
    );

    // A fresh cache is used without fetching (no /listPairs registered now).
    let _host = MockHost::new()
        .grant_kv()
        .now_ms(NOW + 30 * 60 * 1000)
        .apy("spa|eng", "Hola!", "Hello!")
        .install();
    memory::store_pairs(&apertium_cache(), &cached).unwrap();
    Translation::handle(message("Hola!", Some("es"))).unwrap();

    // An hour later it is fetched again.
    let later = NOW + 61 * 60 * 1000;
    let _host = MockHost::new().grant_kv().now_ms(later).install();
    memory::store_pairs(&apertium_cache(), &cached).unwrap();
    let err = Translation::handle(message("Hola!", Some("es"))).unwrap_err();
    assert!(err.message.contains("/listPairs"), "{}", err.message);

    let _host = host()
        .now_ms(later)
        .apy("spa|eng", "Hola!", "Hello!")
        .install();
    memory::store_pairs(&apertium_cache(), &cached).unwrap();
    Translation::handle(message("Hola!", Some("es"))).unwrap();
    assert_eq!(
        memory::cached_pairs(&apertium_cache())
            .unwrap()
            .unwrap()
            .fetched_at_ms,
        later
    );

    // Another engine URL means another list.
    let _host = MockHost::new()
        .grant_kv()
        .now_ms(NOW)
        .setting("engine_url", "http://apy.internal:2737")
        .install();
    memory::store_pairs(
        &apertium_cache(),
        &PairCache {
            url: APY.into(),
            ..cached
        },
    )
    .unwrap();
    let err = Translation::handle(message("Hola!", Some("es"))).unwrap_err();
    assert!(
        err.message.contains("http://apy.internal:2737/listPairs"),
        "{}",
        err.message
    );
}

// ---- Other engines ----

#[test]
fn libretranslate_lists_languages_and_translates_batches() {
    let lt = "http://lt.example:5000";
    MockHost::new()
        .grant_kv()
        .setting("engine", "libretranslate")
        .setting("engine_url", format!("{lt}/"))
        .http_response(
            format!("{lt}/languages"),
            200,
            br#"[{"code":"en","name":"English","targets":["es","fr"]},{"code":"es","name":"Spanish","targets":["en"]}]"#,
        )
        .http_response(
            format!("{lt}/translate"),
            200,
            r#"{"translatedText":["Hola <x0/>","Adiós"]}"#.as_bytes(),
        )
        .install();
    let actions = Translation::handle(draft("Hello @ana\nGoodbye", "en", Some("es"))).unwrap();
    assert_eq!(replaced(&actions), "Hola @ana\nAdiós");
    assert!(note(&actions).contains("engine libretranslate · route en→es"));
}

#[test]
fn libretranslate_single_text_and_errors() {
    let lt = "http://lt.example:5000";
    let base = || {
        MockHost::new()
            .grant_kv()
            .setting("engine", "libretranslate")
            .setting("engine_url", lt)
            .http_response(
                format!("{lt}/languages"),
                200,
                br#"[{"code":"en","targets":["es"]}]"#,
            )
    };
    base()
        .http_response(
            format!("{lt}/translate"),
            200,
            br#"{"translatedText":"Hola"}"#,
        )
        .install();
    assert_eq!(
        replaced(&Translation::handle(draft("Hello", "en", Some("es"))).unwrap()),
        "Hola"
    );
    base()
        .http_response(
            format!("{lt}/translate"),
            400,
            br#"{"error":"Invalid request"}"#,
        )
        .install();
    let err = Translation::handle(draft("Hello", "en", Some("es"))).unwrap_err();
    assert!(!err.retryable, "a bad request fails the same way again");
    assert_eq!(
        err.message,
        "libretranslate at http://lt.example:5000: HTTP status 400: Invalid request"
    );
    // A refused credential: the engine's words may quote the key, masked so
    // that the host's cut of echoed secrets misses it; they are left out.
    base()
        .http_response(
            format!("{lt}/translate"),
            401,
            br#"{"error":"Incorrect API key provided: sk-proj-ab****wxyz"}"#,
        )
        .install();
    let err = Translation::handle(draft("Hello", "en", Some("es"))).unwrap_err();
    assert!(!err.retryable);
    assert!(!err.message.contains("sk-proj"), "{}", err.message);
    assert!(
        err.message.contains("refused the credential"),
        "{}",
        err.message
    );
    // The server's own trouble may clear up.
    base()
        .http_response(format!("{lt}/translate"), 503, br#"{"error":"Overloaded"}"#)
        .install();
    let err = Translation::handle(draft("Hello", "en", Some("es"))).unwrap_err();
    assert!(err.retryable, "{err:?}");
    // es→en is not offered, and no pivot helps: the draft stays, a note says why.
    base().install();
    let actions = Translation::handle(draft("Hola", "es", Some("en"))).unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert!(
        note(&actions).starts_with("Reply not translated into English (en, from the customer locale): unsupported pair Spanish (es) → English (en) for engine libretranslate"),
        "{actions:?}"
    );
}

#[test]
fn deepl_uses_its_fixed_table() {
    let deepl = "https://api-free.deepl.com";
    MockHost::new()
        .grant_kv()
        .setting("engine", "deepl")
        .setting("engine_url", deepl)
        .http_response(
            format!("{deepl}/v2/translate"),
            200,
            r#"{"translations":[{"detected_source_language":"EN","text":"Ihre Bestellung <x0/> ist unterwegs."}]}"#.as_bytes(),
        )
        .install();
    let actions = Translation::handle(draft(
        "Your order #4471 is on its way.",
        "en",
        Some("de-AT"),
    ))
    .unwrap();
    assert_eq!(replaced(&actions), "Ihre Bestellung #4471 ist unterwegs.");
    // A locale the language table does not know is no target.
    assert_eq!(
        Translation::handle(draft("x", "en", Some("xh"))).unwrap(),
        vec![]
    );
}

/// A URL's and an e-mail address's parts come back as they went: they are no
/// unknown words, and they name the customer.
#[test]
fn words_of_addresses_are_not_kept_as_unknown() {
    let deepl = "https://api-free.deepl.com";
    let _host = MockHost::new()
        .grant_kv()
        .setting("engine", "deepl")
        .setting("engine_url", deepl)
        .http_response(
            format!("{deepl}/v2/translate"),
            200,
            r#"{"translations":[{"detected_source_language":"ES","text":"my celu does not turn on, see <x0/>, my mail is <x1/>"}]}"#.as_bytes(),
        )
        .install();
    let text = "mi celu no prende, mira https://tienda.example.com/pedidos, mi correo es maria.lopez@gmail.com";
    Translation::handle(message(text, Some("es"))).unwrap();
    let kept: Vec<String> =
        translation::vocabulary::top(Some("es"), 50, crossdesk_sdk::clock::now_ms())
            .expect("listed")
            .into_iter()
            .map(|u| u.word)
            .collect();
    assert_eq!(kept, ["celu"], "only the slang is kept");
}

#[test]
fn bad_settings_name_their_key() {
    for (key, value, expected) in [
        (
            "engine",
            "babelfish",
            "setting engine: unknown engine \"babelfish\"",
        ),
        ("engine_url", "ftp://x", "setting engine_url:"),
        (
            "agent_language",
            "elvish",
            "setting agent_language: unknown language \"elvish\"",
        ),
        (
            "pivot_languages",
            "es, xx",
            "setting pivot_languages: unknown language \"xx\"",
        ),
        (
            "formality",
            "es-ES=polite",
            "setting formality: \"es-ES=polite\" is not locale=formal|informal|default",
        ),
        (
            "min_detect_chars",
            "many",
            "setting min_detect_chars: \"many\" is not a whole number",
        ),
    ] {
        host().setting(key, value).install();
        let err = Translation::handle(message("Hola!", Some("es"))).unwrap_err();
        assert!(!err.retryable);
        assert!(err.message.starts_with(expected), "{}", err.message);
    }
}

#[test]
fn the_manifest_declares_what_the_plugin_uses() {
    let m = Translation::manifest();
    assert_eq!(m.name, "translation");
    assert_eq!(
        m.events,
        vec![
            EventKind::CustomerMessage,
            EventKind::AgentReplyDrafted,
            EventKind::TranslationCorrected
        ]
    );
    assert!(m.kv && m.cacheable);
    // Declared with their types (`key: type`), so the host checks values when an
    // admin sets them.
    let keys: Vec<&str> = m
        .settings
        .iter()
        .map(|d| d.split(':').next().unwrap_or_default().trim())
        .collect();
    assert_eq!(
        keys,
        [
            "engine",
            "engine_url",
            "engines",
            "llm_model",
            "agent_language",
            "pivot_languages",
            "max_legs",
            "min_detect_chars",
            "formality",
            "unknown_words"
        ]
    );
    assert!(m.settings.contains(
        &"engine: one-of(apertium|libretranslate|deepl|google|azure|amazon|openai)".to_owned()
    ));
}

#[test]
fn a_long_text_goes_to_apertium_as_a_post() {
    let long = "The red car is big. ".repeat(1000);
    let long = long.trim_end();
    MockHost::new()
        .grant_kv()
        .http_response(format!("{APY}/listPairs"), 200, LIST_PAIRS.as_bytes())
        .http_response(
            format!("{APY}/translate"),
            200,
            &apy_reply(&"El coche rojo es grande. ".repeat(1000)),
        )
        .install();
    let actions = Translation::handle(draft(long, "en", Some("es"))).unwrap();
    assert!(replaced(&actions).starts_with("El coche rojo es grande. El coche"));
}
