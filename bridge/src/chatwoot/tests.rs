//! Unit tests of the Chatwoot module: its fixtures mapped, signatures, loop prevention, write-back requests.

use super::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;
use std::time::UNIX_EPOCH;

const WHATSAPP: &str =
    include_str!("../../../tests/fixtures/chatwoot/message_created_whatsapp.json");
const WEB_WIDGET: &str =
    include_str!("../../../tests/fixtures/chatwoot/message_created_web_widget.json");
const PRIVATE_REPLY: &str =
    include_str!("../../../tests/fixtures/chatwoot/message_created_private_reply.json");
const BOT_OUTGOING: &str =
    include_str!("../../../tests/fixtures/chatwoot/message_created_bot_outgoing.json");
const CONVERSATION_CREATED: &str =
    include_str!("../../../tests/fixtures/chatwoot/conversation_created.json");

const SECRET: &str = "whsec-test-3f9a";
const NOW: u64 = 1_795_514_400;

fn rules() -> Rules {
    Rules {
        agent_prefix: "#reply".to_owned(),
        bot_author_ids: vec!["42".to_owned()],
        marker: crate::marker::Marker::new("— crossdesk", "chatwoot-api-token"),
        max_age_secs: 300,
        notes: crate::types::NotePolicy::Write,
        batch: None,
        field_types: Default::default(),
    }
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn signed_headers(secret: &str, timestamp: u64, body: &[u8]) -> http::HeaderMap {
    let ts = timestamp.to_string();
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "X-Chatwoot-Signature",
        sign(secret, &ts, body).parse().expect("header value"),
    );
    headers.insert("X-Chatwoot-Timestamp", ts.parse().expect("header value"));
    headers
}

fn verify(headers: &http::HeaderMap, body: &[u8]) -> Result<(), Rejection> {
    Chatwoot.verify(headers, body, SECRET, now(), &rules())
}

#[test]
fn signature_valid() {
    let body = WHATSAPP.as_bytes();
    verify(&signed_headers(SECRET, NOW - 10, body), body).expect("valid");
    // A little clock skew ahead is fine too.
    verify(&signed_headers(SECRET, NOW + 5, body), body).expect("valid");
}

#[test]
fn signature_wrong_secret() {
    let body = WHATSAPP.as_bytes();
    let headers = signed_headers("another-secret", NOW, body);
    assert!(matches!(
        verify(&headers, body),
        Err(Rejection::BadSignature(_))
    ));
}

#[test]
fn signature_tampered_body_or_timestamp() {
    let body = WHATSAPP.as_bytes();
    let headers = signed_headers(SECRET, NOW, body);
    let tampered = WHATSAPP.replace("1287", "1288");
    assert!(matches!(
        verify(&headers, tampered.as_bytes()),
        Err(Rejection::BadSignature(_))
    ));
    let mut moved = headers.clone();
    moved.insert(
        TIMESTAMP_HEADER,
        (NOW - 1).to_string().parse().expect("header value"),
    );
    assert!(matches!(
        verify(&moved, body),
        Err(Rejection::BadSignature(_))
    ));
    let mut garbled = headers;
    garbled.insert(SIGNATURE_HEADER, "sha256=zz".parse().expect("header value"));
    assert!(matches!(
        verify(&garbled, body),
        Err(Rejection::BadSignature(_))
    ));
}

#[test]
fn signature_missing() {
    let body = WHATSAPP.as_bytes();
    assert!(matches!(
        verify(&http::HeaderMap::new(), body),
        Err(Rejection::BadSignature(_))
    ));
    let mut no_signature = signed_headers(SECRET, NOW, body);
    no_signature.remove(SIGNATURE_HEADER);
    assert!(matches!(
        verify(&no_signature, body),
        Err(Rejection::BadSignature(_))
    ));
    let mut no_timestamp = signed_headers(SECRET, NOW, body);
    no_timestamp.remove(TIMESTAMP_HEADER);
    assert!(matches!(
        verify(&no_timestamp, body),
        Err(Rejection::BadSignature(_))
    ));
    // The bare hex without the `sha256=` scheme is refused.
    let mut bare = signed_headers(SECRET, NOW, body);
    let value = sign(SECRET, &NOW.to_string(), body).replace("sha256=", "");
    bare.insert(SIGNATURE_HEADER, value.parse().expect("header value"));
    assert!(matches!(
        verify(&bare, body),
        Err(Rejection::BadSignature(_))
    ));
}

#[test]
fn signature_stale() {
    let body = WHATSAPP.as_bytes();
    let old = signed_headers(SECRET, NOW - 301, body);
    assert!(matches!(verify(&old, body), Err(Rejection::Stale(_))));
    let ahead = signed_headers(SECRET, NOW + 301, body);
    assert!(matches!(verify(&ahead, body), Err(Rejection::Stale(_))));
    verify(&signed_headers(SECRET, NOW - 300, body), body).expect("at the limit");
}

fn job_of(body: &str) -> (Job, pb::Event) {
    match Chatwoot
        .map("acme", body.as_bytes(), &rules())
        .expect("maps")
    {
        Inbound::Job(job) => {
            let event = crate::json::event_from_json(&job.event_json).expect("proto3 JSON");
            (job, event)
        }
        Inbound::Ignored(reason) => panic!("ignored: {reason}"),
    }
}

fn ignored(body: &str) -> String {
    match Chatwoot
        .map("acme", body.as_bytes(), &rules())
        .expect("maps")
    {
        Inbound::Ignored(reason) => reason,
        Inbound::Job(job) => panic!("unexpected job {}", job.delivery_key),
    }
}

fn edit(body: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(body).expect("fixture is JSON");
    change(&mut value);
    value.to_string()
}

#[test]
fn maps_incoming_whatsapp_message() {
    let (job, event) = job_of(WHATSAPP);
    assert_eq!(job.delivery_key, "chatwoot:3:message:90211");
    assert_eq!(
        job.target,
        Target {
            ticket_id: "1287".to_owned(),
            account_id: "3".to_owned(),
            ..Default::default()
        }
    );
    assert!(!job.agent_reply);
    assert_eq!(event.tenant_id, "acme");
    assert_eq!(event.event_id, "chatwoot:3:message:90211");
    assert_eq!(event.kind(), pb::EventKind::CustomerMessage);
    assert_eq!(event.ticket_id, "1287");
    assert_eq!(event.channel(), pb::Channel::Whatsapp);
    assert_eq!(event.text, "注文した商品がまだ届きません。いつ届きますか？");
    assert_eq!(
        event.occurred_at,
        Some(prost_types::Timestamp {
            seconds: 1_795_514_400,
            nanos: 0
        })
    );
    let customer = event.customer.expect("customer");
    assert_eq!(customer.id, "208");
    assert_eq!(customer.display_name, "山田 花子");
    assert_eq!(
        customer.external_ids.get("phone").map(String::as_str),
        Some("+819012345678")
    );
    assert_eq!(
        customer.external_ids.get("whatsapp").map(String::as_str),
        Some("+819012345678")
    );
    assert!(!customer.external_ids.contains_key("email"));
    assert!(event.agent.is_none());
    assert_eq!(
        event
            .attributes
            .get("chatwoot.inbox_id")
            .map(String::as_str),
        Some("7")
    );
}

#[test]
fn maps_incoming_web_widget_message() {
    let (job, event) = job_of(WEB_WIDGET);
    assert_eq!(job.delivery_key, "chatwoot:3:message:90245");
    assert_eq!(event.kind(), pb::EventKind::CustomerMessage);
    assert_eq!(event.channel(), pb::Channel::WebChat);
    assert_eq!(event.ticket_id, "1291");
    let customer = event.customer.expect("customer");
    assert_eq!(customer.id, "215");
    assert_eq!(customer.display_name, "Claire Martin");
    assert_eq!(customer.locale, "fr");
    assert_eq!(customer.country, "FR");
    assert_eq!(
        customer.external_ids.get("email").map(String::as_str),
        Some("claire.martin@example.fr")
    );
    assert_eq!(
        customer.external_ids.get("identifier").map(String::as_str),
        Some("cust-88412")
    );
    assert!(!customer.external_ids.contains_key("whatsapp"));
    assert_eq!(
        event.occurred_at,
        Some(prost_types::Timestamp {
            seconds: 1_795_514_741,
            nanos: 388_000_000
        })
    );
}

#[test]
fn maps_agent_private_reply_note() {
    let (job, event) = job_of(PRIVATE_REPLY);
    assert!(job.agent_reply);
    assert_eq!(job.delivery_key, "chatwoot:3:message:90262");
    assert_eq!(event.kind(), pb::EventKind::AgentReplyDrafted);
    assert_eq!(
        event.text,
        "Your parcel left our warehouse today and should arrive on Thursday."
    );
    assert_eq!(event.agent.as_ref().expect("agent").id, "17");
    // The customer comes from the conversation, not from the agent.
    assert_eq!(event.channel(), pb::Channel::Whatsapp);
    let customer = event.customer.expect("customer");
    assert_eq!(customer.id, "208");
}

#[test]
fn ignores_bridge_outgoing_message() {
    let reason = ignored(BOT_OUTGOING);
    assert!(reason.contains("own user"), "{reason}");
    // Another agent's outgoing message is not ours, still not a customer's.
    let other = edit(BOT_OUTGOING, |v| v["sender"]["id"] = json!(17));
    assert!(ignored(&other).contains("outgoing"));
}

#[test]
fn maps_conversation_created_with_first_message() {
    let (job, event) = job_of(CONVERSATION_CREATED);
    // Same key as the message's own message_created: queued once.
    assert_eq!(job.delivery_key, "chatwoot:3:message:90301");
    assert_eq!(
        job.target,
        Target {
            ticket_id: "1302".to_owned(),
            account_id: "3".to_owned(),
            ..Default::default()
        }
    );
    assert_eq!(event.kind(), pb::EventKind::CustomerMessage);
    assert_eq!(event.channel(), pb::Channel::Api);
    assert_eq!(
        event.text,
        "Hallo, ich möchte meine Bestellung 4411 stornieren."
    );
    let customer = event.customer.expect("customer");
    assert_eq!(customer.id, "221");
    assert_eq!(customer.country, "DE");
    assert_eq!(
        event.occurred_at,
        Some(prost_types::Timestamp {
            seconds: 1_795_515_003,
            nanos: 0
        })
    );
    let empty = edit(CONVERSATION_CREATED, |v| v["messages"] = json!([]));
    assert!(ignored(&empty).contains("without a first message"));
}

/// A conversation resolved is a solve; another status is not. The payload is
/// the conversation, as Chatwoot's webhook events document it.
#[test]
fn maps_a_resolved_conversation_to_a_solve() {
    let resolved = edit(CONVERSATION_CREATED, |v| {
        v["event"] = json!("conversation_status_changed");
        v["status"] = json!("resolved");
        v["timestamp"] = json!(1_795_520_000);
    });
    let (job, event) = job_of(&resolved);
    assert_eq!(job.delivery_key, "chatwoot:3:resolved:1302:1795520000");
    assert_eq!(event.kind(), pb::EventKind::TicketSolved);
    assert_eq!(
        (event.ticket_id.as_str(), event.text.as_str()),
        ("1302", "")
    );
    assert_eq!(event.customer.expect("customer").id, "221");
    // Dated when it arrives: `timestamp` is the last activity before it.
    assert_eq!(event.occurred_at, None);
    let pending = edit(&resolved, |v| v["status"] = json!("pending"));
    assert!(ignored(&pending).contains("'pending' is not a solve"));
}

/// A CSAT survey answered (`message_updated` of its `input_csat` message) is a
/// rating out of 5; the survey sent but not answered is nothing.
#[test]
fn maps_an_answered_survey_to_a_rating() {
    let survey = edit(WHATSAPP, |v| {
        v["event"] = json!("message_updated");
        v["message_type"] = json!("template");
        v["content_type"] = json!("input_csat");
        v["content"] = json!("Please rate the conversation");
        v["sender"] = Value::Null;
    });
    assert!(ignored(&survey).contains("no answered rating survey"));
    let answered = edit(&survey, |v| {
        v["content_attributes"] = json!({"submitted_values": {"csat_survey_response":
            {"rating": 2, "feedback_message": "Tardaron mucho."}}});
    });
    let (job, event) = job_of(&answered);
    assert!(
        job.delivery_key.starts_with("chatwoot:") && job.delivery_key.ends_with(":2"),
        "{}",
        job.delivery_key
    );
    assert!(
        job.delivery_key.contains(":rating:"),
        "{}",
        job.delivery_key
    );
    assert_eq!(event.kind(), pb::EventKind::SatisfactionRated);
    assert_eq!(event.attributes["csat.score"], "2");
    assert_eq!(event.attributes["csat.scale"], "5");
    assert_eq!(event.text, "Tardaron mucho.");
    // The customer is the conversation's contact.
    assert!(!event.customer.expect("customer").id.is_empty());
}

/// The line that closes the bridge's notes on conversation 1287 of account 3.
fn mark() -> String {
    rules().marker.line("3", "1287", None).expect("a marker")
}

#[test]
fn loop_prevention_by_sender_id_and_mark() {
    // A private note by the bridge's user, even with the prefix.
    let by_bot = edit(PRIVATE_REPLY, |v| v["sender"]["id"] = json!(42));
    assert!(ignored(&by_bot).contains("own user"));
    // A note carrying the bridge's mark for this conversation, whoever wrote it.
    let marked = edit(PRIVATE_REPLY, |v| {
        v["content"] = json!(format!("#reply translated text\n\n{}", mark()))
    });
    assert!(ignored(&marked).contains("mark"));
    let marked_incoming = edit(WHATSAPP, |v| {
        v["content"] = json!(format!("hello {}", mark()))
    });
    assert!(ignored(&marked_incoming).contains("mark"));
    // The marker's visible text, or the mark of another conversation, typed by a
    // customer: their message.
    let other = rules().marker.line("3", "1288", None).expect("a marker");
    for typed in ["hello — crossdesk".to_owned(), format!("hello {other}")] {
        let body = edit(WHATSAPP, |v| v["content"] = json!(typed));
        assert_eq!(job_of(&body).1.text, typed);
    }
    // A contact whose id equals a bot user id is still a customer (other table).
    let contact_42 = edit(WHATSAPP, |v| v["sender"]["id"] = json!(42));
    let (_, event) = job_of(&contact_42);
    assert_eq!(event.customer.expect("customer").id, "42");
}

#[test]
fn ignores_other_notes_activity_and_events() {
    let plain_note = edit(PRIVATE_REPLY, |v| {
        v["content"] = json!("called the carrier")
    });
    assert!(ignored(&plain_note).contains("not an agent reply"));
    let empty_reply = edit(PRIVATE_REPLY, |v| v["content"] = json!("#reply   "));
    assert!(ignored(&empty_reply).contains("no text"));
    let activity = edit(WHATSAPP, |v| {
        v["message_type"] = json!(2);
        v["sender"] = Value::Null;
    });
    assert!(ignored(&activity).contains("activity"));
    let updated = edit(WHATSAPP, |v| v["event"] = json!("message_updated"));
    assert!(ignored(&updated).contains("message_updated"));
}

#[test]
fn rejects_malformed_payloads() {
    let bad = |body: &str| match Chatwoot.map("acme", body.as_bytes(), &rules()) {
        Err(Rejection::BadPayload(reason)) => reason,
        other => panic!("expected BadPayload, got {other:?}"),
    };
    assert!(bad("{not json").contains("JSON"));
    assert!(bad("[1]").contains("object"));
    assert!(bad(r#"{"id": 1}"#).contains("`event`"));
    let no_conversation = edit(WHATSAPP, |v| v["conversation"] = Value::Null);
    assert!(bad(&no_conversation).contains("`conversation`"));
    let no_id = edit(WHATSAPP, |v| v["id"] = Value::Null);
    assert!(bad(&no_id).contains("`id`"));
    let no_account = edit(WHATSAPP, |v| {
        v["account"] = Value::Null;
    });
    assert!(bad(&no_account).contains("`account.id`"));
    let bad_type = edit(WHATSAPP, |v| v["message_type"] = json!("weird"));
    assert!(bad(&bad_type).contains("`message_type`"));
    // Not a time, or one no event can carry (proto3 JSON has years 1 to 9999).
    for time in [
        json!("yesterday"),
        json!("0000-01-01T00:00:00Z"),
        json!(1e300),
        json!(-1e300),
        json!(i64::MAX),
    ] {
        let bad_time = edit(WHATSAPP, |v| v["created_at"] = time.clone());
        assert!(
            bad(&bad_time).contains("`created_at` is not a time"),
            "{time}"
        );
    }
}

#[test]
fn older_created_at_format_parses() {
    let old = edit(WHATSAPP, |v| {
        v["created_at"] = json!("2026-11-24 10:00:00 UTC")
    });
    let (_, event) = job_of(&old);
    assert_eq!(event.occurred_at.map(|t| t.seconds), Some(1_795_514_400));
    // `push_event_data`'s unix seconds, with a fraction (kept, not cast away).
    let fractional = edit(WHATSAPP, |v| v["created_at"] = json!(1_795_514_400.25));
    let (_, event) = job_of(&fractional);
    assert_eq!(
        event.occurred_at,
        Some(prost_types::Timestamp {
            seconds: 1_795_514_400,
            nanos: 250_000_000
        })
    );
}

fn target() -> Target {
    Target {
        ticket_id: "1287".to_owned(),
        account_id: "3".to_owned(),
        ..Default::default()
    }
}

fn action(kind: pb::action::Kind) -> pb::Action {
    pb::Action {
        plugin: "test".to_owned(),
        kind: Some(kind),
    }
}

#[test]
fn write_back_batches_a_typical_action_list() {
    use pb::action::Kind;
    let actions = vec![
        action(Kind::InternalNote(
            "Customer writes in Japanese.".to_owned(),
        )),
        action(Kind::AddTags(pb::Tags {
            tags: vec!["shipping".to_owned(), "ja".to_owned()],
        })),
        action(Kind::SetFields(pb::Fields {
            fields: [("language".to_owned(), "ja".to_owned())].into(),
        })),
        action(Kind::InternalNote(
            "Translation: my order has not arrived.".to_owned(),
        )),
        action(Kind::AddTags(pb::Tags {
            tags: vec!["ja".to_owned(), "vip".to_owned()],
        })),
        action(Kind::SetFields(pb::Fields {
            fields: [("sentiment".to_owned(), "negative".to_owned())].into(),
        })),
        action(Kind::Route(pb::Routing {
            group: "4".to_owned(),
            agent_id: String::new(),
            priority: String::new(),
            reason: "Japanese desk".to_owned(),
        })),
        action(Kind::FlagForReview(pb::ReviewFlag {
            category: "refund".to_owned(),
            reason: "asks for money back".to_owned(),
        })),
    ];
    let calls = Chatwoot.write_back(&target(), &actions, None, &rules());
    let base = "/api/v1/accounts/3/conversations/1287";
    let summary: Vec<(http::Method, String, Value)> = calls
        .into_iter()
        .map(|c| (c.method, c.path, c.body))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                http::Method::POST,
                format!("{base}/messages"),
                json!({
                    "content": "Customer writes in Japanese.\n\nTranslation: my order has not arrived.\n\nRouting: Japanese desk\n\nFlagged for review (refund): asks for money back\n\n".to_owned() + &mark(),
                    "message_type": "outgoing",
                    "private": true
                })
            ),
            (
                http::Method::POST,
                format!("{base}/labels"),
                json!({ "labels": ["shipping", "ja", "vip", "crossdesk-review"] })
            ),
            (
                http::Method::POST,
                format!("{base}/custom_attributes"),
                json!({ "custom_attributes": { "language": "ja", "sentiment": "negative" } })
            ),
            (
                http::Method::POST,
                format!("{base}/assignments"),
                json!({ "team_id": 4 })
            ),
        ]
    );
}

/// A batch's messages each answered with the same offline notice: the customer
/// gets it once. A route's priority and reason, which Chatwoot's assignment
/// cannot carry, are in the note.
#[test]
fn write_back_sends_one_auto_reply_and_notes_what_routing_cannot_carry() {
    use pb::action::Kind;
    let actions = vec![
        action(Kind::AutoReply("We are closed.".to_owned())),
        action(Kind::AutoReply("We are closed.".to_owned())),
        action(Kind::Route(pb::Routing {
            group: String::new(),
            agent_id: "17".to_owned(),
            priority: "urgent".to_owned(),
            reason: "VIP".to_owned(),
        })),
    ];
    let calls = Chatwoot.write_back(&target(), &actions, None, &rules());
    assert_eq!(
        calls[0].body,
        json!({ "content": "We are closed.", "message_type": "outgoing", "private": false })
    );
    let note = calls[1].body["content"].as_str().expect("a note");
    assert!(
        note.starts_with("Routing: VIP\n\nSuggested routing: priority urgent\n"),
        "{note}"
    );
    assert_eq!(calls[2].body, json!({ "assignee_id": 17 }));
}

#[test]
fn write_back_with_reply_and_auto_reply() {
    use pb::action::Kind;
    let actions = vec![
        action(Kind::ReplaceDraft(
            "お荷物は木曜日に到着予定です。".to_owned(),
        )),
        action(Kind::AutoReply("ignored when there is a reply".to_owned())),
        action(Kind::Route(pb::Routing {
            group: "4".to_owned(),
            agent_id: "17".to_owned(),
            priority: String::new(),
            reason: String::new(),
        })),
    ];
    let calls = Chatwoot.write_back(
        &target(),
        &actions,
        Some("お荷物は木曜日に到着予定です。"),
        &rules(),
    );
    assert_eq!(calls.len(), 3);
    assert_eq!(
        calls[0].path,
        "/api/v1/accounts/3/conversations/1287/messages"
    );
    assert_eq!(
        calls[0].body,
        json!({ "content": "お荷物は木曜日に到着予定です。", "message_type": "outgoing", "private": false })
    );
    // One assignment per request: the agent; the team is told in the note.
    assert_eq!(calls[1].body["private"], json!(true));
    let note = calls[1].body["content"].as_str().expect("a note");
    assert!(note.starts_with("Suggested routing: team 4\n"), "{note}");
    assert_eq!(calls[2].body, json!({ "assignee_id": 17 }));

    // Without a reply the auto reply goes out publicly, the draft as a note.
    let calls = Chatwoot.write_back(&target(), &actions[..2], None, &rules());
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0].body,
        json!({ "content": "ignored when there is a reply", "message_type": "outgoing", "private": false })
    );
    assert_eq!(calls[1].body["private"], json!(true));
    assert!(
        calls[1].body["content"]
            .as_str()
            .is_some_and(|c| c.starts_with("Suggested reply:") && c.ends_with(&mark()))
    );
}

#[test]
fn write_back_empty() {
    assert!(
        Chatwoot
            .write_back(&target(), &[], None, &rules())
            .is_empty()
    );
    let blank = vec![action(pb::action::Kind::InternalNote("  ".to_owned()))];
    assert!(
        Chatwoot
            .write_back(&target(), &blank, None, &rules())
            .is_empty()
    );
}

#[test]
fn labels_the_conversation_had_are_sent_along_with_ours() {
    let (job, _) = job_of(WEB_WIDGET);
    assert_eq!(job.target.tags, ["login"]);
    let tags = |names: &[&str]| {
        vec![action(pb::action::Kind::AddTags(pb::Tags {
            tags: names.iter().map(|t| (*t).to_owned()).collect(),
        }))]
    };
    let calls = Chatwoot.write_back(&job.target, &tags(&["fr", "login"]), None, &rules());
    let labels: Vec<&Value> = calls.iter().map(|c| &c.body["labels"]).collect();
    assert_eq!(labels, [&json!(["login", "fr"])]);
    // The webhook's labels are the fallback: the call reads the current ones.
    let set = calls[0].whole_set.as_ref().expect("a whole set");
    assert_eq!(set.read, calls[0].path);
    assert_eq!(
        (set.pointer.as_str(), set.field.as_str()),
        ("/payload", "labels")
    );
    assert_eq!(set.additions, json!(["fr", "login"]));
    // Nothing new: no request.
    let calls = Chatwoot.write_back(&job.target, &tags(&["login"]), None, &rules());
    assert!(calls.is_empty(), "{calls:?}");
}

#[test]
fn custom_attributes_the_conversation_had_are_sent_along_with_ours() {
    let mut payload: Value = serde_json::from_str(WEB_WIDGET).expect("JSON");
    payload["conversation"]["custom_attributes"] = json!({ "plan": "pro", "orders": 3 });
    let (job, _) = job_of(&payload.to_string());
    let fields = |pairs: &[(&str, &str)]| {
        vec![action(pb::action::Kind::SetFields(pb::Fields {
            fields: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }))]
    };
    let calls = Chatwoot.write_back(
        &job.target,
        &fields(&[("language", "fr"), ("plan", "enterprise")]),
        None,
        &rules(),
    );
    let sent: Vec<&Value> = calls.iter().map(|c| &c.body["custom_attributes"]).collect();
    assert_eq!(
        sent,
        [&json!({ "plan": "enterprise", "orders": 3, "language": "fr" })]
    );
    let set = calls[0].whole_set.as_ref().expect("a whole set");
    assert_eq!(
        format!("{}/custom_attributes", set.read),
        calls[0].path,
        "read from the conversation's details"
    );
    assert_eq!(set.pointer, "/custom_attributes");
    assert_eq!(
        set.additions,
        json!({ "plan": "enterprise", "language": "fr" })
    );
    // What the conversation already has: no request.
    let calls = Chatwoot.write_back(&job.target, &fields(&[("plan", "pro")]), None, &rules());
    assert!(calls.is_empty(), "{calls:?}");
    // A number attribute gets numbers (the same one is no change); text that is
    // none goes into the note.
    let typed = Rules {
        field_types: [("orders".to_owned(), crate::types::FieldType::Number)].into(),
        ..rules()
    };
    let calls = Chatwoot.write_back(&job.target, &fields(&[("orders", "3")]), None, &typed);
    assert!(calls.is_empty(), "{calls:?}");
    let calls = Chatwoot.write_back(&job.target, &fields(&[("orders", "4")]), None, &typed);
    let sent: Vec<&Value> = calls.iter().map(|c| &c.body["custom_attributes"]).collect();
    assert_eq!(sent, [&json!({ "plan": "pro", "orders": 4 })]);
    let calls = Chatwoot.write_back(&job.target, &fields(&[("orders", "lots")]), None, &typed);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].note, "{calls:?}");
    let note = calls[0].body["content"].as_str().expect("note");
    assert!(note.contains("orders: lots (not set"), "{note}");
}

#[test]
fn auth_headers_carry_the_token() {
    let headers = Chatwoot
        .auth_headers(&Credentials {
            user: String::new(),
            token: "tok-123".into(),
        })
        .expect("headers");
    let token = headers.get("api_access_token").expect("token header");
    assert_eq!(token, "tok-123");
    assert!(token.is_sensitive());
    assert_eq!(
        headers
            .get(http::header::CONTENT_TYPE)
            .expect("content type"),
        "application/json"
    );
    assert!(Chatwoot.auth_headers(&Credentials::default()).is_err());
    assert_eq!(Chatwoot.name(), "chatwoot");
}
