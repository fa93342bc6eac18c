//! Helpdesk webhooks as the bridge receives them: the signature check of each
//! helpdesk, the mapping of a delivery to a job (Zendesk and Freshdesk through
//! their shipped mapping files, Chatwoot through its module), the write-back of a
//! job's actions — and mapping files themselves.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use crossdesk_bridge::chatwoot::{self, Chatwoot};
use crossdesk_bridge::mapped::{self, Mapped};
use crossdesk_bridge::types::{Credentials, Helpdesk, Inbound, Job, NotePolicy, Rejection, Rules};
use crossdesk_proto::{json, pb};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::Sha256;

/// The tenant deliveries are mapped for.
const TENANT: &str = "acme";
/// The webhooks' signing secret.
pub(crate) const SECRET: &str = "fuzz-signing-secret-0123456789";
/// When deliveries arrive: 2026-11-24T10:00:00Z.
pub(crate) const NOW_SECS: u64 = 1_795_514_400;

/// Payloads shaped as the helpdesks document them (`tests/fixtures/`), delivered
/// through every mapping file the `mapping` target reads.
const PAYLOADS: &[&str] = &[
    include_str!("../../tests/fixtures/zendesk/comment_added_agent_reply_note.json"),
    include_str!("../../tests/fixtures/zendesk/comment_added_bridge_note.json"),
    include_str!("../../tests/fixtures/zendesk/comment_added_email_customer.json"),
    include_str!("../../tests/fixtures/zendesk/comment_added_whatsapp_customer.json"),
    include_str!("../../tests/fixtures/zendesk/ticket_created_web.json"),
    include_str!("../../tests/fixtures/freshdesk/agent_note_reply.json"),
    include_str!("../../tests/fixtures/freshdesk/customer_reply_email.json"),
    include_str!("../../tests/fixtures/freshdesk/ticket_created_whatsapp.json"),
];

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

/// An endpoint's rules, as `examples/zendesk/bridge.toml` sets them.
fn rules() -> Rules {
    Rules {
        agent_prefix: "#reply".into(),
        bot_author_ids: vec!["9000000000001".into()],
        marker: crossdesk_bridge::marker::Marker::new("— via Crossdesk", "fuzz-api-token"),
        max_age_secs: 300,
        notes: NotePolicy::Write,
        batch: None,
        // The fields `actions` sets, typed, so that their conversion is fuzzed
        // too (the language is fuzzed text; "vip" is no boolean).
        field_types: [
            (
                "language".to_owned(),
                crossdesk_bridge::types::FieldType::Decimal,
            ),
            (
                "360001".to_owned(),
                crossdesk_bridge::types::FieldType::Boolean,
            ),
        ]
        .into(),
    }
}

/// How a helpdesk signs a delivery, as its documents say (`bridge/src/`'s module
/// docs): the headers for `body` with the timestamp `at` (ignored by helpdesks
/// that sign no time).
struct Scheme {
    /// The header carrying the signed timestamp, if any.
    timestamp_header: Option<&'static str>,
    /// [`NOW_SECS`] as that header writes it.
    now: &'static str,
    sign: fn(body: &[u8], at: &str) -> HeaderMap,
}

fn hmac_sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()) {
        Ok(mac) => mac,
        Err(e) => panic!("HMAC takes keys of any length: {e}"),
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let value = HeaderValue::from_str(value)
            .unwrap_or_else(|_| panic!("{name}: {value:?} is not a header value"));
        map.insert(HeaderName::from_static(name), value);
    }
    map
}

/// Zendesk: `base64(HMAC-SHA256(secret, timestamp + body))`, RFC 3339 timestamp.
const ZENDESK: Scheme = Scheme {
    timestamp_header: Some("x-zendesk-webhook-signature-timestamp"),
    now: "2026-11-24T10:00:00Z",
    sign: |body, at| {
        headers(&[
            (
                "x-zendesk-webhook-signature",
                BASE64.encode(hmac_sha256(&[at.as_bytes(), body])),
            ),
            ("x-zendesk-webhook-signature-timestamp", at.to_owned()),
        ])
    },
};

/// Freshdesk: basic auth whose password is the secret.
const FRESHDESK: Scheme = Scheme {
    timestamp_header: None,
    now: "",
    sign: |_, _| {
        headers(&[(
            "authorization",
            format!("Basic {}", BASE64.encode(format!("freshdesk:{SECRET}"))),
        )])
    },
};

/// Chatwoot: `sha256=` + hex HMAC-SHA256 of `{timestamp}.{body}`, unix seconds.
const CHATWOOT: Scheme = Scheme {
    timestamp_header: Some(chatwoot::TIMESTAMP_HEADER),
    now: "1795514400",
    sign: |body, at| {
        headers(&[
            (
                chatwoot::SIGNATURE_HEADER,
                format!(
                    "sha256={}",
                    hex::encode(hmac_sha256(&[at.as_bytes(), b".", body]))
                ),
            ),
            (chatwoot::TIMESTAMP_HEADER, at.to_owned()),
        ])
    },
};

/// A delivery of `body` to `helpdesk` (`zendesk`, `freshdesk` or `chatwoot`) in
/// the format of the webhook targets ([`webhook`]), signed now as that helpdesk
/// signs: the seeds' form of the fixture payloads.
pub(crate) fn signed_delivery(helpdesk: &str, body: &[u8]) -> Vec<u8> {
    let scheme = match helpdesk {
        "zendesk" => &ZENDESK,
        "freshdesk" => &FRESHDESK,
        _ => &CHATWOOT,
    };
    let mut delivery = Vec::new();
    for (name, value) in &(scheme.sign)(body, scheme.now) {
        delivery.extend_from_slice(name.as_str().as_bytes());
        delivery.extend_from_slice(b": ");
        delivery.extend_from_slice(value.as_bytes());
        delivery.push(b'\n');
    }
    delivery.push(b'\n');
    delivery.extend_from_slice(body);
    delivery
}

fn shipped(name: &str) -> Mapped {
    match mapped::builtin(name) {
        Some(Ok(mapping)) => mapping,
        Some(Err(e)) => panic!("the shipped {name} mapping is invalid: {e}"),
        None => panic!("no shipped {name} mapping"),
    }
}

/// A Zendesk delivery (see [`webhook`] for the format) through the shipped
/// mapping.
pub fn zendesk(data: &[u8]) {
    static MAPPING: OnceLock<Mapped> = OnceLock::new();
    webhook(MAPPING.get_or_init(|| shipped("zendesk")), &ZENDESK, data);
}

/// A Freshdesk delivery (see [`webhook`]) through the shipped mapping.
pub fn freshdesk(data: &[u8]) {
    static MAPPING: OnceLock<Mapped> = OnceLock::new();
    webhook(
        MAPPING.get_or_init(|| shipped("freshdesk")),
        &FRESHDESK,
        data,
    );
}

/// A Chatwoot delivery (see [`webhook`]).
pub fn chatwoot(data: &[u8]) {
    webhook(&Chatwoot, &CHATWOOT, data);
}

/// A mapping file (TOML), loaded, then every fixture payload delivered through it.
pub fn mapping(data: &[u8]) {
    let Some(text) = crate::text(data) else {
        return;
    };
    let Ok(mapping) = Mapped::parse(text) else {
        return;
    };
    assert!(!mapping.name().trim().is_empty());
    let rules = rules();
    for payload in PAYLOADS {
        let body = payload.as_bytes();
        // Whichever scheme the file names, a check never panics.
        for scheme in [&ZENDESK, &FRESHDESK, &CHATWOOT] {
            let _ = mapping.verify(
                &(scheme.sign)(body, scheme.now),
                body,
                SECRET,
                now(),
                &rules,
            );
        }
        deliver(&mapping, body, &rules, Notes::AsTheFileSays);
    }
    let _ = mapping.auth_headers(&credentials());
}

/// A delivery, as text: its headers (`name: value`, one per line), an empty line,
/// then the body. Without an empty line, the whole input is the body.
fn webhook(helpdesk: &dyn Helpdesk, scheme: &Scheme, data: &[u8]) {
    let (given, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (parse_headers(&data[..at]), &data[at + 2..]),
        None => (HeaderMap::new(), data),
    };
    let rules = rules();
    let _ = helpdesk.verify(&given, body, SECRET, now(), &rules);
    // Signed with the delivery's own timestamp: the signature matches, whatever
    // the check then says of the time.
    let at = scheme
        .timestamp_header
        .and_then(|name| given.get(name))
        .and_then(|v| v.to_str().ok())
        .unwrap_or(scheme.now);
    if let Err(Rejection::BadSignature(why)) =
        helpdesk.verify(&(scheme.sign)(body, at), body, SECRET, now(), &rules)
    {
        // Compared whole: the other reasons quote the delivery's timestamp.
        assert_ne!(why, "signature does not match", "a correct signature");
    }
    // Signed now, as the helpdesk documents: accepted, and only with the secret.
    let signed = (scheme.sign)(body, scheme.now);
    if let Err(e) = helpdesk.verify(&signed, body, SECRET, now(), &rules) {
        panic!(
            "a delivery signed as {} signs is refused: {e}",
            helpdesk.name()
        );
    }
    assert!(
        helpdesk
            .verify(&signed, body, "another-secret", now(), &rules)
            .is_err()
    );
    deliver(helpdesk, body, &rules, Notes::Marked);
}

fn parse_headers(text: &[u8]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for line in text.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = HeaderName::from_bytes(line[..colon].trim_ascii());
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (name, value) {
            map.append(name, value);
        }
    }
    map
}

fn credentials() -> Credentials {
    Credentials {
        user: "crossdesk-bot@acme.com".into(),
        token: "api-token-0123456789".into(),
    }
}

/// Whether the integration's note requests carry the note's text, marker
/// included: true of the shipped ones; a mapping file may write notes otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notes {
    Marked,
    AsTheFileSays,
}

/// A verified delivery mapped, and the job it makes carried through the bridge.
fn deliver(helpdesk: &dyn Helpdesk, body: &[u8], rules: &Rules, notes: Notes) {
    let Ok(Inbound::Job(job)) = helpdesk.map(TENANT, body, rules) else {
        return;
    };
    check_job(helpdesk, &job, body, rules, notes);
}

fn check_job(helpdesk: &dyn Helpdesk, job: &Job, body: &[u8], rules: &Rules, notes: Notes) {
    // The queue keeps a job as JSON.
    let stored = serde_json::to_string(job).unwrap_or_else(|e| panic!("{e}"));
    let back: Job = serde_json::from_str(&stored)
        .unwrap_or_else(|e| panic!("a queued job does not parse: {e}\n{stored}"));
    assert_eq!(&back, job, "the job changed through the queue");
    assert!(
        job.delivery_key
            .starts_with(&format!("{}:", helpdesk.name())),
        "{}",
        job.delivery_key
    );

    // The event the worker sends the sidecar.
    let event = json::event_from_json(&job.event_json)
        .unwrap_or_else(|e| panic!("a mapped event does not parse: {e}\n{}", job.event_json));
    assert_eq!(event.tenant_id, TENANT);
    assert_eq!(event.event_id, job.delivery_key);
    assert_eq!(event.ticket_id, job.target.ticket_id);
    assert_eq!(
        job.agent_reply,
        event.kind() == pb::EventKind::AgentReplyDrafted
    );
    // The sidecar runs what the bridge queues. Not checked here: its bounds on
    // sizes and times (an id from the payload may make the event id longer than
    // 256 bytes, a field or the text longer than allowed), which no shipped
    // mapping enforces.
    if let Err(e) = crossdesk_proto::rules::check(&event, usize::MAX)
        && !(e.contains("the limit is") || e.contains("occurred_at"))
    {
        panic!(
            "the sidecar refuses a mapped event: {e}\n{}",
            job.event_json
        );
    }
    crate::events::check_event(&event);

    // Loop prevention: what the bridge wrote (its notes carry the mark of their
    // ticket, its user is a bot author) never comes back as work; nor does an
    // empty message.
    assert!(
        !rules
            .marker
            .is_on(&event.text, &job.target.account_id, &job.target.ticket_id),
        "the bridge's own note became work: {:?}",
        event.text
    );
    if let Some(agent) = &event.agent {
        assert!(
            !rules
                .bot_author_ids
                .iter()
                .any(|bot| bot.trim() == agent.id),
            "the bridge's own user wrote {:?}",
            event.text
        );
    }
    if matches!(
        event.kind(),
        pb::EventKind::CustomerMessage | pb::EventKind::AgentReplyDrafted
    ) {
        assert!(
            !event.text.trim().is_empty(),
            "an empty message became work"
        );
    }
    assert!(!job.target.ticket_id.is_empty());

    // The customer looked up in the helpdesk: the lookup's answer (here, the
    // delivery itself) adds to what the webhook said and overwrites nothing.
    if let Some(path) = helpdesk.customer_lookup(&event) {
        assert!(path.starts_with('/'), "lookup path {path:?}");
        // The customer id fills one segment of the shipped lookups' paths.
        if notes == Notes::Marked {
            assert!(
                path.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'))
                    && !path.contains(".."),
                "lookup path {path:?}"
            );
        }
    }
    if let Ok(answer) = serde_json::from_slice::<serde_json::Value>(body) {
        let mut enriched = event.clone();
        helpdesk.enrich_customer(&mut enriched, &answer);
        if let (Some(before), Some(after)) = (&event.customer, &enriched.customer) {
            for (kind, id) in &before.external_ids {
                assert_eq!(after.external_ids.get(kind), Some(id), "{kind} changed");
            }
            for (was, is) in [
                (&before.locale, &after.locale),
                (&before.time_zone, &after.time_zone),
                (&before.display_name, &after.display_name),
            ] {
                assert!(was.is_empty() || was == is, "{was:?} became {is:?}");
            }
        }
    }

    // The write-back of every kind of action, with the event's own text in them.
    let reply = job.agent_reply.then_some(event.text.as_str());
    for call in helpdesk.write_back(&job.target, &actions(&event), reply, rules) {
        assert!(call.path.starts_with('/'), "{} {}", call.method, call.path);
        if call.note && notes == Notes::Marked {
            // So that the helpdesk's webhook for the note is recognised as ours.
            assert!(
                rules.marker.is_on(
                    &call.body.to_string(),
                    &job.target.account_id,
                    &job.target.ticket_id
                ),
                "a note without the marker: {}",
                call.body
            );
        }
    }
    let _ = helpdesk.auth_headers(&credentials());
}

/// One action of each kind, carrying the event's text and ids.
fn actions(event: &pb::Event) -> Vec<pb::Action> {
    use pb::action::Kind;
    let text = &event.text;
    let kinds = [
        Kind::InternalNote(format!("Translated: {text}")),
        Kind::ReplaceDraft(text.clone()),
        Kind::AddTags(pb::Tags {
            tags: vec!["lang-es".into(), event.ticket_id.clone()],
        }),
        Kind::SetFields(pb::Fields {
            fields: BTreeMap::from([
                ("360001".to_owned(), "vip".to_owned()),
                ("language".to_owned(), text.chars().take(20).collect()),
            ]),
        }),
        Kind::Recommend(pb::Recommendations {
            items: vec![pb::Recommendation {
                kind: "product".into(),
                id: "lens-85".into(),
                title: text.chars().take(40).collect(),
                reason: "bought a camera".into(),
                score: 0.5,
            }],
        }),
        Kind::Route(pb::Routing {
            group: "2001".into(),
            agent_id: event
                .customer
                .as_ref()
                .map(|c| c.id.clone())
                .unwrap_or_default(),
            priority: "high".into(),
            reason: "speaks Spanish".into(),
        }),
        Kind::AutoReply(text.clone()),
        Kind::FlagForReview(pb::ReviewFlag {
            category: "legal".into(),
            reason: text.chars().take(30).collect(),
        }),
    ];
    kinds
        .into_iter()
        .map(|kind| pb::Action {
            plugin: "fuzz".into(),
            kind: Some(kind),
        })
        .collect()
}
