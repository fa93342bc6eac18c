//! Unit tests of the mapping engine: the shipped mappings against their fixtures, signatures, rules, requests.

use super::requests::merge_or_push;
use super::*;
use hmac::{Hmac, Mac};
use serde_json::json;
use std::time::{Duration, UNIX_EPOCH};

const SECRET: &str = "freshdesk-webhook-password";
const CUSTOMER_REPLY: &str =
    include_str!("../../../tests/fixtures/freshdesk/customer_reply_email.json");
const TICKET_CREATED: &str =
    include_str!("../../../tests/fixtures/freshdesk/ticket_created_whatsapp.json");
const AGENT_NOTE: &str = include_str!("../../../tests/fixtures/freshdesk/agent_note_reply.json");

fn freshdesk() -> Mapped {
    builtin("freshdesk").expect("shipped").expect("valid")
}

fn rules() -> Rules {
    Rules {
        agent_prefix: "#reply".into(),
        bot_author_ids: vec!["80000000001".into()],
        marker: crate::marker::Marker::new("— via Crossdesk", "freshdesk-api-key"),
        max_age_secs: 300,
        notes: crate::types::NotePolicy::Write,
        batch: None,
        field_types: Default::default(),
    }
}

fn mapped(helpdesk: &Mapped, body: &str) -> (Job, pb::Event) {
    match helpdesk.map("acme", body.as_bytes(), &rules()) {
        Ok(Inbound::Job(job)) => {
            let event = crate::json::event_from_json(&job.event_json).expect("event");
            (job, event)
        }
        other => panic!("not mapped: {other:?}"),
    }
}

fn ignored(body: &str) -> String {
    match freshdesk().map("acme", body.as_bytes(), &rules()) {
        Ok(Inbound::Ignored(why)) => why,
        other => panic!("not ignored: {other:?}"),
    }
}

fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                http::HeaderValue::from_str(v).expect("value"),
            )
        })
        .collect()
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{user}:{password}")))
}

#[test]
fn every_shipped_mapping_is_valid() {
    for name in builtin_names() {
        let mapping = builtin(name).expect("listed").expect("valid");
        assert_eq!(mapping.name(), name);
    }
}

#[test]
fn basic_auth_webhooks_need_the_secret_as_password() {
    let now = SystemTime::now();
    let check = |h: &http::HeaderMap| freshdesk().verify(h, b"{}", SECRET, now, &rules());
    assert_eq!(
        check(&headers(&[("authorization", &basic("freshdesk", SECRET))])),
        Ok(())
    );
    for bad in [
        headers(&[("authorization", &basic("freshdesk", "guess"))]),
        headers(&[("authorization", &basic("freshdesk", ""))]),
        headers(&[("authorization", "Bearer token")]),
        headers(&[("authorization", "Basic !!!")]),
        headers(&[]),
    ] {
        assert!(
            matches!(check(&bad), Err(Rejection::BadSignature(_))),
            "{bad:?}"
        );
    }
    // No secret configured: nothing is accepted, not even an empty password.
    let empty = headers(&[("authorization", &basic("freshdesk", ""))]);
    assert!(
        freshdesk()
            .verify(&empty, b"{}", "", now, &rules())
            .is_err()
    );
}

/// A mapping for a helpdesk that signs like Chatwoot: `sha256=` + hex HMAC over
/// `{timestamp}.{body}`, unix seconds.
fn hmac_mapping() -> Mapped {
    let text = include_str!("../mappings/freshdesk.toml").replace(
        "[signature]\nscheme = \"basic\"",
        "[signature]\nscheme = \"hmac-sha256\"\nheader = \"x-signature\"\nprefix = \"sha256=\"\n\
         encoding = \"hex\"\ntimestamp_header = \"x-timestamp\"\ntimestamp_format = \"unix\"\n\
         signed = \"{timestamp}.{body}\"",
    );
    Mapped::parse(&text).expect("valid")
}

#[test]
fn hmac_signatures_are_checked_over_the_signed_template_and_age() {
    let body = br#"{"event":"customer_reply"}"#;
    let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    let sign = |timestamp: &str, body: &[u8]| {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    let helpdesk = hmac_mapping();
    let check = |timestamp: &str, signature: &str, body: &[u8]| {
        let h = headers(&[("x-timestamp", timestamp), ("x-signature", signature)]);
        helpdesk.verify(&h, body, SECRET, now, &rules())
    };
    let fresh = "1790000000";
    assert_eq!(check(fresh, &sign(fresh, body), body), Ok(()));
    assert!(matches!(
        check(fresh, &sign(fresh, body), b"{}"),
        Err(Rejection::BadSignature(_))
    ));
    assert!(matches!(
        check("1789999000", &sign(fresh, body), body),
        Err(Rejection::BadSignature(_))
    ));
    let old = "1789999000";
    assert!(matches!(
        check(old, &sign(old, body), body),
        Err(Rejection::Stale(_))
    ));
    let unprefixed = sign(fresh, body).replace("sha256=", "");
    assert!(check(fresh, &unprefixed, body).is_err());
}

/// The HMAC mapping signing only the body, hex, with the delivery's id at
/// `delivery_id` (none when `None`).
fn body_signed_mapping(delivery_id: Option<&str>) -> Result<Mapped, MappingError> {
    let id = delivery_id.map_or(String::new(), |p| format!("delivery_id = \"{p}\"\n"));
    let text = include_str!("../mappings/freshdesk.toml").replace(
        "[signature]\nscheme = \"basic\"",
        &format!(
            "[signature]\nscheme = \"hmac-sha256\"\nheader = \"x-signature\"\n\
             encoding = \"hex\"\nsigned = \"{{body}}\"\n{id}"
        ),
    );
    Mapped::parse(&text)
}

#[test]
fn a_signature_without_timestamp_needs_a_delivery_id() {
    let refused = body_signed_mapping(None).expect_err("replayable forever");
    let message = refused.to_string();
    for says in ["{timestamp}", "timestamp_header", "signature.delivery_id"] {
        assert!(message.contains(says), "{says}: {message}");
    }
    let not_a_pointer = body_signed_mapping(Some("id")).expect_err("not a pointer");
    assert!(not_a_pointer.to_string().contains("not a JSON pointer"));
    body_signed_mapping(Some("/delivery")).expect("a delivery id: valid");
    // Signing a timestamp is enough, as before; token and basic schemes sign
    // nothing and take no delivery id.
    hmac_mapping();
    let token = include_str!("../mappings/freshdesk.toml").replace(
        "[signature]\nscheme = \"basic\"",
        "[signature]\nscheme = \"token\"\nheader = \"x-token\"\ndelivery_id = \"/id\"",
    );
    assert!(
        Mapped::parse(&token)
            .expect_err("unknown field")
            .to_string()
            .contains("delivery_id")
    );
}

#[test]
fn a_body_signed_delivery_is_known_by_its_id_and_signature() {
    let helpdesk = body_signed_mapping(Some("/delivery")).expect("valid");
    let body = br#"{"event":"customer_reply","delivery":"d-81"}"#;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body);
    let signature = mac.finalize().into_bytes().to_vec();
    let h = headers(&[("x-signature", &hex::encode(&signature))]);
    assert_eq!(
        helpdesk.verify(&h, body, SECRET, SystemTime::now(), &rules()),
        Ok(())
    );
    assert_eq!(
        helpdesk.replay_key(&h, body),
        Ok(Some(ReplayKey {
            delivery_id: "d-81".into(),
            signature
        }))
    );
    // A signed body without its id is refused naming the pointer.
    let missing = helpdesk.replay_key(&h, br#"{"event":"customer_reply"}"#);
    assert!(
        matches!(&missing, Err(Rejection::BadPayload(m)) if m.contains("/delivery")),
        "{missing:?}"
    );
    // Timestamped signatures and other schemes have no key: their age (or their
    // scheme) is their defence.
    assert_eq!(hmac_mapping().replay_key(&h, body), Ok(None));
    assert_eq!(freshdesk().replay_key(&h, body), Ok(None));
}

#[test]
fn a_customer_reply_becomes_a_customer_message_with_identities() {
    let (job, event) = mapped(&freshdesk(), CUSTOMER_REPLY);
    assert_eq!(event.kind(), pb::EventKind::CustomerMessage);
    assert_eq!(event.ticket_id, "4711");
    assert_eq!(event.channel(), pb::Channel::Email);
    assert!(event.text.starts_with("Bonjour, ma commande A-2208"));
    assert_eq!(event.occurred_at.map(|t| t.seconds), Some(1_795_513_267));
    let customer = event.customer.expect("customer");
    assert_eq!(customer.display_name, "Camille Martin");
    assert_eq!(customer.external_ids["freshdesk"], "80011234567");
    assert_eq!(customer.external_ids["email"], "camille.martin@example.fr");
    assert!(!customer.external_ids.contains_key("phone"));
    assert_eq!(event.attributes["freshdesk.tags"], "livraison");
    assert!(!job.agent_reply);
    assert_eq!(job.target.ticket_id, "4711");
    // The delivery key: the same bytes again are the same delivery; another
    // message on the ticket is another.
    let (again, _) = mapped(&freshdesk(), CUSTOMER_REPLY);
    assert_eq!(again.delivery_key, job.delivery_key);
    assert!(job.delivery_key.starts_with("freshdesk:4711:sha256-"));
    let other = CUSTOMER_REPLY.replace("Pouvez-vous", "Pourriez-vous");
    assert_ne!(
        mapped(&freshdesk(), &other).0.delivery_key,
        job.delivery_key
    );
}

/// Solves and ratings, each from an automation rule of its own (the body of
/// examples/freshdesk/README.md).
#[test]
fn solves_and_ratings_become_their_events() {
    let solved = CUSTOMER_REPLY
        .replace("\"customer_reply\"", "\"ticket_solved\"")
        .replace("\"text\": \"Bonjour", "\"ignored\": \"Bonjour");
    let (_, event) = mapped(&freshdesk(), &solved);
    assert_eq!(event.kind(), pb::EventKind::TicketSolved);
    assert_eq!(
        (event.ticket_id.as_str(), event.text.as_str()),
        ("4711", "")
    );
    let rated = CUSTOMER_REPLY
        .replace("\"customer_reply\"", "\"satisfaction_rated\"")
        .replace("\"time\":", "\"score\": 4, \"scale\": \"5\", \"time\":");
    let (_, event) = mapped(&freshdesk(), &rated);
    assert_eq!(event.kind(), pb::EventKind::SatisfactionRated);
    assert_eq!(
        (
            &event.attributes["csat.score"],
            &event.attributes["csat.scale"]
        ),
        (&"4".to_owned(), &"5".to_owned())
    );
    let unscored = CUSTOMER_REPLY.replace("\"customer_reply\"", "\"satisfaction_rated\"");
    match freshdesk().map("acme", unscored.as_bytes(), &rules()) {
        Err(Rejection::BadPayload(why)) => assert!(why.contains("/score"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_whatsapp_ticket_carries_the_number_as_whatsapp_id() {
    let (_, event) = mapped(&freshdesk(), TICKET_CREATED);
    assert_eq!(event.kind(), pb::EventKind::TicketCreated);
    assert_eq!(event.channel(), pb::Channel::Whatsapp);
    let ids = event.customer.expect("customer").external_ids;
    assert_eq!(ids["whatsapp"], "+5511912345678");
    assert_eq!(ids["phone"], "+5511912345678");
    assert!(!ids.contains_key("email"));
    // A source the mapping does not know is kept as a custom channel.
    let other = TICKET_CREATED.replace("\"source\": \"13\"", "\"source\": 42");
    let (_, event) = mapped(&freshdesk(), &other);
    assert_eq!(
        (event.channel(), event.custom_channel.as_str()),
        (pb::Channel::Custom, "42")
    );
}

#[test]
fn an_agents_prefixed_note_is_their_reply_and_other_notes_are_not() {
    let (job, event) = mapped(&freshdesk(), AGENT_NOTE);
    assert!(job.agent_reply);
    assert_eq!(event.kind(), pb::EventKind::AgentReplyDrafted);
    assert_eq!(
        event.text,
        "Your parcel left our warehouse yesterday; it will arrive on Thursday."
    );
    assert_eq!(event.agent.expect("agent").id, "80000000042");
    assert_eq!(event.customer.expect("customer").id, "80011234567");
    let plain = AGENT_NOTE.replace("#reply ", "");
    assert!(ignored(&plain).contains("without the agent reply prefix"));
    let empty = AGENT_NOTE.replace(
        "#reply Your parcel left our warehouse yesterday; it will arrive on Thursday.",
        "#reply   ",
    );
    assert!(ignored(&empty).contains("empty"));
}

#[test]
fn our_own_writes_and_unknown_events_are_ignored() {
    let by_bot = CUSTOMER_REPLY.replace("\"author_id\": 80011234567", "\"author_id\": 80000000001");
    assert!(ignored(&by_bot).contains("loop prevention"));
    // Carrying the mark the bridge puts on this ticket's notes: ours.
    let marked = CUSTOMER_REPLY.replace("vérifier ?", &format!("vérifier ?\\n{}", mark()));
    assert!(ignored(&marked).contains("loop prevention"));
    // The marker's visible text alone, as a customer may type it: theirs.
    let typed = CUSTOMER_REPLY.replace("vérifier ?", "vérifier ? — via Crossdesk");
    assert!(
        mapped(&freshdesk(), &typed)
            .1
            .text
            .ends_with("— via Crossdesk")
    );
    let unknown = CUSTOMER_REPLY.replace("customer_reply", "ticket_merged");
    assert!(ignored(&unknown).contains("no rule"));
    let blank = CUSTOMER_REPLY.replace(
        "Bonjour, ma commande A-2208 n'est toujours pas arrivée. Pouvez-vous vérifier ?",
        "  ",
    );
    assert!(ignored(&blank).contains("empty"));
}

#[test]
fn malformed_payloads_are_refused_naming_the_field() {
    let refused = |body: &str| match freshdesk().map("acme", body.as_bytes(), &rules()) {
        Err(Rejection::BadPayload(why)) => why,
        other => panic!("not refused: {other:?}"),
    };
    assert!(refused("not json").contains("not JSON"));
    assert!(refused("[1]").contains("not a JSON object"));
    let no_ticket = CUSTOMER_REPLY.replace("\"id\": 4711,", "");
    assert!(refused(&no_ticket).contains("/ticket/id"));
    // Not a time, or one no event can carry (proto3 JSON has years 1 to 9999).
    for time in [
        "\"yesterday\"",
        "\"0000-01-01T00:00:00Z\"",
        "9223372036854775807",
        "1e300",
    ] {
        let bad_time = CUSTOMER_REPLY.replace("\"2026-11-24T09:41:07Z\"", time);
        assert!(
            refused(&bad_time).contains("`/time` is not a time"),
            "{time}"
        );
    }
}

fn action(kind: pb::action::Kind) -> pb::Action {
    pb::Action {
        plugin: "p".into(),
        kind: Some(kind),
    }
}

/// The line that closes the bridge's notes on ticket 4711.
fn mark() -> String {
    rules().marker.line("", "4711", None).expect("a marker")
}

fn target() -> Target {
    Target {
        ticket_id: "4711".into(),
        account_id: String::new(),
        ..Default::default()
    }
}

#[test]
fn write_back_merges_ticket_updates_and_keeps_tags_in_the_note() {
    use pb::action::Kind;
    let actions = [
        action(Kind::InternalNote(
            "Translation (fr→en): <my order> never came".into(),
        )),
        action(Kind::AddTags(pb::Tags {
            tags: vec!["fr".into(), "shipping".into()],
        })),
        action(Kind::SetFields(pb::Fields {
            fields: [("cf_language".to_owned(), "fr".to_owned())].into(),
        })),
        action(Kind::Route(pb::Routing {
            group: "5000123".into(),
            agent_id: "camille-agent".into(),
            priority: "high".into(),
            reason: "French speaker on shift".into(),
        })),
    ];
    let calls = freshdesk().write_back(&target(), &actions, None, &rules());
    let summary: Vec<(String, &str)> = calls
        .iter()
        .map(|c| (c.method.to_string(), c.path.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("POST".to_owned(), "/api/v2/tickets/4711/notes"),
            ("PUT".to_owned(), "/api/v2/tickets/4711"),
        ]
    );
    let note = calls[0].body["body"].as_str().expect("note");
    assert_eq!(calls[0].body["private"], json!(true));
    assert_eq!(
        note,
        "Translation (fr→en): &lt;my order&gt; never came<br><br>\
         Routing: French speaker on shift<br><br>Tags: fr, shipping<br><br>\
         Suggested routing: agent camille-agent\
         <br><br>"
            .to_owned()
            + &mark()
    );
    assert_eq!(
        calls[1].body,
        json!({ "custom_fields": { "cf_language": "fr" }, "group_id": 5000123, "priority": 3 })
    );
}

/// A helpdesk refuses an update whose route or field it finds invalid (Zendesk's
/// 422 for an agent not in the group, a dropdown value it lacks) whole, note
/// included: each request carrying them says how to go without them.
#[test]
fn requests_carrying_a_route_or_fields_can_go_without_them() {
    use crate::types::Fallback;
    use pb::action::Kind;
    let actions = [
        action(Kind::InternalNote("Translation: where is my order".into())),
        action(Kind::SetFields(pb::Fields {
            fields: [("360001".to_owned(), "vip".to_owned())].into(),
        })),
        action(Kind::Route(pb::Routing {
            group: String::new(),
            agent_id: "42".into(),
            priority: String::new(),
            reason: String::new(),
        })),
    ];
    let zendesk = builtin("zendesk").expect("shipped").expect("valid");
    let calls = zendesk.write_back(&target(), &actions, None, &rules());
    assert_eq!(calls.len(), 1, "one update: {calls:#?}");
    assert!(
        calls[0].body.to_string().contains("assignee_id"),
        "{calls:#?}"
    );
    let Some(Fallback::Send(without)) = &calls[0].fallback else {
        panic!("no fallback: {calls:#?}");
    };
    let text = without.to_string();
    assert!(
        !text.contains("assignee_id") && !text.contains("custom_fields"),
        "{text}"
    );
    assert!(
        text.contains("Suggested routing: agent 42") && text.contains("360001: vip"),
        "{text}"
    );
    // Freshdesk's note is a request of its own: the update with the route goes
    // without it, and nothing else is lost.
    let calls = freshdesk().write_back(&target(), &actions, None, &rules());
    assert_eq!(calls[1].fallback, Some(Fallback::Leave), "{calls:#?}");
    // Nothing to leave out: no fallback.
    let plain = freshdesk().write_back(&target(), &actions[..1], None, &rules());
    assert!(plain.iter().all(|c| c.fallback.is_none()), "{plain:#?}");
}

/// Freshdesk refuses a whole update whose custom field has a value of the wrong
/// type ("Value set is of type String. It should be a/an Integer"), routing and
/// all: values go as the endpoint's `field_types` say, and one that is not of its
/// type goes into the note instead.
#[test]
fn custom_fields_go_as_their_types_and_a_value_of_another_type_goes_into_the_note() {
    use crate::types::FieldType;
    use pb::action::Kind;
    let fields = [
        ("cf_language", "fr"),
        ("cf_orders", " 42 "),
        ("cf_vip", "Yes"),
        ("cf_rating", "4.5"),
        ("cf_visits", "many"),
    ];
    let actions = [
        action(Kind::SetFields(pb::Fields {
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })),
        action(Kind::Route(pb::Routing {
            group: "5000123".into(),
            ..Default::default()
        })),
    ];
    let rules = Rules {
        field_types: [
            ("cf_orders", FieldType::Number),
            ("cf_vip", FieldType::Boolean),
            ("cf_rating", FieldType::Decimal),
            ("cf_visits", FieldType::Number),
        ]
        .into_iter()
        .map(|(k, t)| (k.to_owned(), t))
        .collect(),
        ..rules()
    };
    let calls = freshdesk().write_back(&target(), &actions, None, &rules);
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert_eq!(
        calls[1].body,
        json!({
            "custom_fields": { "cf_language": "fr", "cf_orders": 42, "cf_vip": true, "cf_rating": 4.5 },
            "group_id": 5000123
        })
    );
    let note = calls[0].body["body"].as_str().expect("note");
    assert!(
        note.starts_with("cf_visits: many (not set: the field takes a whole number (64 bits))"),
        "{note}"
    );
}

#[test]
fn write_back_posts_the_reply_and_nothing_without_actions() {
    let rules = rules();
    let none = freshdesk().write_back(&target(), &[], None, &rules);
    assert!(none.is_empty(), "{none:?}");
    let calls = freshdesk().write_back(&target(), &[], Some("See you on Thursday"), &rules);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, "/api/v2/tickets/4711/reply");
    assert_eq!(calls[0].body, json!({ "body": "See you on Thursday" }));
}

#[test]
fn requests_to_one_path_merge_only_when_they_agree() {
    let put = |body: Value| RestCall {
        method: http::Method::PUT,
        path: "/t/1".into(),
        body,
        note: false,
        whole_set: None,
        fallback: None,
    };
    let mut calls = vec![put(json!({ "ticket": { "comment": { "body": "note" } } }))];
    merge_or_push(&mut calls, put(json!({ "ticket": { "tags": ["a"] } })));
    assert_eq!(calls.len(), 1);
    merge_or_push(
        &mut calls,
        put(json!({ "ticket": { "comment": { "body": "reply" } } })),
    );
    assert_eq!(calls.len(), 2, "a second comment is a second update");
    assert_eq!(
        calls[0].body,
        json!({ "ticket": { "comment": { "body": "note" }, "tags": ["a"] } })
    );
}

#[test]
fn api_requests_authenticate_with_the_key_as_user() {
    let headers = freshdesk()
        .auth_headers(&Credentials {
            user: String::new(),
            token: "fd-api-key".into(),
        })
        .expect("headers");
    assert_eq!(
        headers[http::header::AUTHORIZATION],
        basic("fd-api-key", "X").as_str()
    );
    assert!(freshdesk().auth_headers(&Credentials::default()).is_err());
}

#[test]
fn invalid_mappings_are_refused_naming_what_is_wrong() {
    let shipped = include_str!("../mappings/freshdesk.toml");
    for (from, to, expected) in [
        (
            "ticket_id = \"/ticket/id\"",
            "ticket_id = \"ticket.id\"",
            "not a JSON pointer",
        ),
        (
            "\"13\" = \"whatsapp\"",
            "\"13\" = \"telegram\"",
            "unknown channel",
        ),
        (
            "method = \"PUT\"",
            "method = \"P U T\"",
            "not an HTTP method",
        ),
        ("urgent = 4", "critical = 4", "priority `critical`"),
        ("name = \"freshdesk\"", "name = \" \"", "`name` is empty"),
        (
            "scheme = \"basic\"\n\n#",
            "scheme = \"sign-it\"\n\n#",
            "unknown variant, expected one of `hmac-sha256`",
        ),
        ("[[inbound.rules]]", "[[inbound.rulez]]", "rulez"),
    ] {
        assert!(shipped.contains(from), "{from}");
        let text = shipped.replacen(from, to, 1);
        let error = Mapped::parse(&text).expect_err(expected).to_string();
        assert!(error.contains(expected), "{expected}: {error}");
    }
}

#[test]
fn recent_notes_name_the_tickets_comments_or_nothing() {
    let zendesk = crate::mapped::builtin("zendesk")
        .expect("shipped")
        .expect("valid");
    assert_eq!(
        zendesk.recent_notes(&target()).as_deref(),
        Some("/api/v2/tickets/4711/comments.json?sort_order=desc")
    );
    assert_eq!(freshdesk().recent_notes(&target()), None, "not configured");
    let shipped = include_str!("../mappings/freshdesk.toml");
    let with = |path: &str| {
        shipped.replacen(
            "name = \"freshdesk\"\n",
            &format!("name = \"freshdesk\"\nrecent_notes = \"{path}\"\n"),
            1,
        )
    };
    let error = Mapped::parse(&with("/api/v2/tickets/comments"))
        .expect_err("no {ticket}")
        .to_string();
    assert!(error.contains("recent_notes"), "{error}");
    let by_account = Mapped::parse(&with("/a/{account}/t/{ticket}/notes")).expect("valid");
    assert_eq!(
        by_account.recent_notes(&target()),
        None,
        "a path with the account needs one"
    );
}

#[test]
fn fallbacks_absent_values_and_lookup_paths() {
    let text = include_str!("../mappings/freshdesk.toml")
        .replace(
            "customer_id = \"/requester/id\"",
            "customer_id = [\"/requester/id\", \"/requester/legacy_id\"]",
        )
        .replace(
            "[channels]",
            "[lookup]\npath = \"/contacts/{customer_id}\"\nlocale = \"/language\"\n\n[channels]",
        )
        .replace(
            "[inbound.fields]",
            "[inbound]\nabsent = [\"none\"]\n\n[inbound.fields]",
        );
    let helpdesk = Mapped::parse(&text).expect("valid");
    // The first pointer is "none": the next one gives the customer.
    let body = CUSTOMER_REPLY.replace(
        "\"id\": 80011234567,",
        "\"id\": \"none\", \"legacy_id\": \"c-77_b\",",
    );
    let (_, mut event) = mapped(&helpdesk, &body);
    let customer = event.customer.as_ref().expect("customer");
    assert_eq!(customer.id, "c-77_b");
    assert_eq!(
        helpdesk.customer_lookup(&event).as_deref(),
        Some("/contacts/c-77_b")
    );
    helpdesk.enrich_customer(&mut event, &json!({ "language": "fr" }));
    assert_eq!(event.customer.as_ref().expect("customer").locale, "fr");
    // An id that could leave the path is not looked up.
    for id in ["../admin", "a b", "x?y=1", ""] {
        event.customer.as_mut().expect("customer").id = id.to_owned();
        assert_eq!(helpdesk.customer_lookup(&event), None, "{id:?}");
    }
    // Without a lookup section, nothing is looked up.
    let (_, event) = mapped(&freshdesk(), CUSTOMER_REPLY);
    assert_eq!(freshdesk().customer_lookup(&event), None);
    // A message is what it says, even a "none" value (an answer to a menu).
    let body = CUSTOMER_REPLY.replace(
        "\"text\": \"Bonjour, ma commande A-2208 n'est toujours pas arrivée. Pouvez-vous vérifier ?\"",
        "\"text\": \"none\"",
    );
    assert_ne!(body, CUSTOMER_REPLY);
    let (_, event) = mapped(&helpdesk, &body);
    assert_eq!(event.text, "none");
}

#[test]
fn an_auth_template_with_the_user_needs_one() {
    let zendesk = builtin("zendesk").expect("shipped").expect("valid");
    let token_only = Credentials {
        user: String::new(),
        token: "t".into(),
    };
    let error = zendesk.auth_headers(&token_only).expect_err("no user");
    assert!(error.contains("api_user"), "{error}");
}

#[test]
fn a_ticket_past_its_share_of_notes_gets_the_other_writes() {
    use crate::types::NotePolicy;
    use pb::action::Kind;
    let actions = [
        action(Kind::InternalNote("Translation: hello".into())),
        action(Kind::SetFields(pb::Fields {
            fields: [("cf_language".to_owned(), "fr".to_owned())].into(),
        })),
    ];
    let with = |notes| {
        let rules = Rules { notes, ..rules() };
        freshdesk().write_back(&target(), &actions, Some("Merci !"), &rules)
    };
    let paths = |calls: &[RestCall]| -> Vec<(String, bool)> {
        calls.iter().map(|c| (c.path.clone(), c.note)).collect()
    };
    let all = with(NotePolicy::Write);
    assert_eq!(
        paths(&all),
        [
            ("/api/v2/tickets/4711/notes".to_owned(), true),
            ("/api/v2/tickets/4711".to_owned(), false),
            ("/api/v2/tickets/4711/reply".to_owned(), false),
        ]
    );
    let last = with(NotePolicy::Last);
    let note = last[0].body["body"].as_str().expect("note");
    assert!(note.contains("adds no more notes to this ticket"), "{note}");
    let skipped = with(NotePolicy::Skip);
    assert_eq!(
        paths(&skipped),
        [
            ("/api/v2/tickets/4711".to_owned(), false),
            ("/api/v2/tickets/4711/reply".to_owned(), false),
        ]
    );
}

#[test]
fn a_helpdesk_whose_paths_carry_the_account_needs_it_in_every_delivery() {
    let with_account = include_str!("../mappings/freshdesk.toml").replace(
        "/api/v2/tickets/{ticket}/notes",
        "/api/v2/accounts/{account}/tickets/{ticket}/notes",
    );
    let error = Mapped::parse(&with_account).expect_err("no account_id field");
    assert!(error.to_string().contains("account_id"), "{error}");
    let helpdesk = Mapped::parse(&with_account.replace(
        "ticket_id = \"/ticket/id\"",
        "ticket_id = \"/ticket/id\"\naccount_id = \"/account\"",
    ))
    .expect("valid");
    match helpdesk.map("acme", CUSTOMER_REPLY.as_bytes(), &rules()) {
        Err(Rejection::BadPayload(why)) => assert!(why.contains("/account"), "{why}"),
        other => panic!("not refused: {other:?}"),
    }
    let body = CUSTOMER_REPLY.replacen("{", "{\n  \"account\": 12,", 1);
    let (job, _) = mapped(&helpdesk, &body);
    assert_eq!(job.target.account_id, "12");
    let calls = helpdesk.write_back(
        &job.target,
        &[action(pb::action::Kind::InternalNote("hello".into()))],
        None,
        &rules(),
    );
    assert_eq!(calls[0].path, "/api/v2/accounts/12/tickets/4711/notes");
}
