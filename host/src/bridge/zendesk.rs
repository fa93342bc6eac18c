//! Zendesk: checks the signature of Zendesk's webhook deliveries, maps its ticket
//! event webhooks to Crossdesk events, and writes actions back with the Tickets API.
//!
//! What this module owns, and the Zendesk documents it follows:
//!
//! - **Signature** ([Verifying webhook authenticity]): every delivery carries
//!   `X-Zendesk-Webhook-Signature` = `base64(HMAC-SHA256(secret, TIMESTAMP + BODY))`
//!   and `X-Zendesk-Webhook-Signature-Timestamp` (ISO 8601, e.g. `2021-03-25T05:09:27Z`,
//!   see [Anatomy of a webhook request]). The secret is the webhook's signing secret,
//!   used as-is (its bytes are the HMAC key).
//! - **Payload** ([Webhook event types], [Ticket events]): webhooks subscribed to
//!   Zendesk events get `{"type": "zen:event-type:ticket.comment_added", "id", "time",
//!   "subject": "zen:ticket:<id>", "account_id", "zendesk_event_version", "detail":
//!   <the ticket>, "event": <what happened>}`. For ticket events `detail` holds the
//!   ticket (`id`, `requester_id`, `submitter_id`, `actor_id`, `via.channel`, `tags`,
//!   `description`, ... — ids as strings) and, for `ticket.comment_added`, `event` is
//!   `{"comment": {"id", "body", "is_public", "author": {"id", "is_staff", "name"}}}`.
//!   Ids are read as strings or numbers, since Zendesk's REST API uses numbers.
//! - **Write-back** ([Tickets API: update ticket], [Ticket comments]): one `PUT
//!   /api/v2/tickets/{id}.json` with `{"ticket": {"comment": {"body", "public"},
//!   "additional_tags", "custom_fields": [{"id", "value"}], "group_id", "assignee_id",
//!   "priority"}}`. An update adds at most one comment, so a public reply next to an
//!   internal note costs a second request.
//! - **Customer lookup** ([Users API: show user]): event webhooks name the requester
//!   only by id, so before an event runs the bridge reads `GET
//!   /api/v2/users/{requester_id}.json` and adds the user's `email`, `phone` (also as
//!   the WhatsApp id on WhatsApp tickets; not when `shared_phone_number`),
//!   `external_id`, `locale` and `iana_time_zone` to the event's customer.
//! - **Authentication** ([API token authentication]): basic auth with
//!   `{email}/token:{api_token}`.
//!
//! [Verifying webhook authenticity]: https://developer.zendesk.com/documentation/webhooks/verifying/
//! [Anatomy of a webhook request]: https://developer.zendesk.com/documentation/webhooks/anatomy-of-a-webhook-request/
//! [Webhook event types]: https://developer.zendesk.com/api-reference/webhooks/event-types/webhook-event-types/
//! [Ticket events]: https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/
//! [Tickets API: update ticket]: https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket
//! [Ticket comments]: https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_comments/
//! [Users API: show user]: https://developer.zendesk.com/api-reference/ticketing/users/users/#show-user
//! [API token authentication]: https://developer.zendesk.com/api-reference/introduction/security-and-auth/#api-token

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::{Value, json};

use super::types::{Credentials, Helpdesk, Inbound, Job, Rejection, RestCall, Rules, Target};
use super::webhook::{self, missing};
use super::writes::Writes;
use crate::pb;

const SIGNATURE_HEADER: &str = "x-zendesk-webhook-signature";
const TIMESTAMP_HEADER: &str = "x-zendesk-webhook-signature-timestamp";
const COMMENT_ADDED: &str = "zen:event-type:ticket.comment_added";
const TICKET_CREATED: &str = "zen:event-type:ticket.created";
pub use super::writes::REVIEW_TAG;

/// The Zendesk integration (stateless: rules and secrets come with each call).
#[derive(Debug, Clone, Copy, Default)]
pub struct Zendesk;

// ---------------------------------------------------------------------------
// Payload shapes, as documented on
// https://developer.zendesk.com/api-reference/webhooks/event-types/webhook-event-types/
// and https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/
// Every field is optional here so that a missing one is reported by its path.
// ---------------------------------------------------------------------------

/// A Zendesk id: a string in event webhooks, a number in the REST API.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(u64),
}

impl Id {
    fn text(&self) -> String {
        match self {
            Id::Text(s) => s.trim().to_owned(),
            Id::Number(n) => n.to_string(),
        }
    }
}

/// Reads an optional id, treating `null`, `""` and `"0"` (Zendesk's "none") as absent.
fn id_of(id: &Option<Id>) -> Option<String> {
    id.as_ref()
        .map(Id::text)
        .filter(|s| !s.is_empty() && s != "0")
}

/// The top level of every Zendesk event webhook.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: Option<String>,
    /// The event's id (a UUID).
    id: Option<String>,
    /// When the event happened, ISO 8601.
    time: Option<String>,
    detail: Option<TicketDetail>,
    event: Option<EventBody>,
}

/// `detail` of a ticket event: the ticket.
#[derive(Debug, Deserialize)]
struct TicketDetail {
    id: Option<Id>,
    requester_id: Option<Id>,
    submitter_id: Option<Id>,
    actor_id: Option<Id>,
    description: Option<String>,
    subject: Option<String>,
    external_id: Option<String>,
    brand_id: Option<Id>,
    via: Option<Via>,
    #[serde(default)]
    tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct Via {
    channel: Option<String>,
}

/// `event` of a ticket event; `comment` for `ticket.comment_added`.
#[derive(Debug, Deserialize)]
struct EventBody {
    comment: Option<Comment>,
}

#[derive(Debug, Deserialize)]
struct Comment {
    id: Option<Id>,
    body: Option<String>,
    is_public: Option<bool>,
    author: Option<Author>,
}

#[derive(Debug, Deserialize)]
struct Author {
    id: Option<Id>,
    is_staff: Option<bool>,
    name: Option<String>,
}

// ---------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------

/// Parses an RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`) into
/// seconds and nanoseconds since the Unix epoch (prost-types' parser).
fn parse_rfc3339(text: &str) -> Option<(i64, u32)> {
    let text = text.trim();
    // prost-types also takes a bare date, or a time without offset as UTC; a
    // signature timestamp has both a time and an offset.
    let offset = text.ends_with(['Z', 'z'])
        || text
            .len()
            .checked_sub(6)
            .and_then(|i| text.as_bytes().get(i))
            .is_some_and(|c| matches!(c, b'+' | b'-'));
    if !text.contains(['T', 't']) || !offset {
        return None;
    }
    let timestamp: prost_types::Timestamp = text.parse().ok()?;
    Some((timestamp.seconds, u32::try_from(timestamp.nanos).ok()?))
}

// ---------------------------------------------------------------------------
// Mapping helpers
// ---------------------------------------------------------------------------

/// Maps Zendesk's `via.channel` to ours; unknown channels become custom ones.
fn channel_of(via: Option<&str>) -> (pb::Channel, String) {
    let Some(raw) = via.map(str::trim).filter(|s| !s.is_empty()) else {
        return (pb::Channel::Unspecified, String::new());
    };
    let channel = match raw.to_ascii_lowercase().as_str() {
        "email" | "mail" => pb::Channel::Email,
        "web" | "web_form" | "web_widget" | "chat" | "native_messaging" | "messaging"
        | "mobile_sdk" | "sdk" => pb::Channel::WebChat,
        "whatsapp" => pb::Channel::Whatsapp,
        "facebook" | "facebook_messenger" | "facebook_post" | "facebook_message" => {
            pb::Channel::Facebook
        }
        "voice" | "phone" | "phone_call_inbound" | "phone_call_outbound" => pb::Channel::Phone,
        "sms" | "text" => pb::Channel::Sms,
        "api" | "web_service" => pb::Channel::Api,
        _ => return (pb::Channel::Custom, raw.to_owned()),
    };
    (channel, String::new())
}

fn timestamp_of(time: Option<&str>) -> Result<Option<prost_types::Timestamp>, Rejection> {
    match time.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => {
            let (seconds, nanos) = parse_rfc3339(t).ok_or_else(|| {
                Rejection::BadPayload(format!("field `time` is not RFC 3339: {t}"))
            })?;
            Ok(Some(prost_types::Timestamp {
                seconds,
                // At most 999_999_999, so it fits.
                nanos: i32::try_from(nanos).unwrap_or(0),
            }))
        }
    }
}

/// The customer: the ticket's requester (the comment's author when it has none).
fn customer_of(detail: &TicketDetail, fallback_id: Option<String>, name: &str) -> pb::Customer {
    let id = id_of(&detail.requester_id)
        .or(fallback_id)
        .unwrap_or_default();
    let mut external_ids = BTreeMap::new();
    // Event webhooks carry no requester identities (e-mail, phone...): only the
    // Zendesk user id, and the ticket's external id when the integration set one.
    if !id.is_empty() {
        external_ids.insert("zendesk".to_owned(), id.clone());
    }
    pb::Customer {
        id,
        display_name: name.to_owned(),
        external_ids,
        ..Default::default()
    }
}

fn attributes_of(detail: &TicketDetail, event_id: &str) -> BTreeMap<String, String> {
    let mut attrs = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            attrs.insert(k.to_owned(), v);
        }
    };
    put("zendesk.event_id", Some(event_id.to_owned()));
    put("zendesk.subject", detail.subject.clone());
    put("zendesk.external_id", detail.external_id.clone());
    put("zendesk.brand_id", id_of(&detail.brand_id));
    put(
        "zendesk.via_channel",
        detail.via.as_ref().and_then(|v| v.channel.clone()),
    );
    put("zendesk.tags", detail.tags.as_ref().map(|t| t.join(" ")));
    attrs
}

fn job(
    event: pb::Event,
    delivery_key: String,
    ticket_id: &str,
    agent_reply: bool,
) -> Result<Inbound, Rejection> {
    let event_json = crate::json::to_json("crossdesk.v1.Event", &event)
        .map_err(|e| Rejection::BadPayload(format!("cannot encode the event: {e}")))?;
    Ok(Inbound::Job(Job {
        delivery_key,
        event_json,
        target: Target {
            ticket_id: ticket_id.to_owned(),
            account_id: String::new(),
        },
        agent_reply,
        customer_looked_up: false,
    }))
}

fn map_comment(
    tenant: &str,
    envelope: &Envelope,
    detail: &TicketDetail,
    ticket_id: &str,
    rules: &Rules,
) -> Result<Inbound, Rejection> {
    let comment = envelope
        .event
        .as_ref()
        .ok_or_else(|| missing("event"))?
        .comment
        .as_ref()
        .ok_or_else(|| missing("event.comment"))?;
    let comment_id = id_of(&comment.id).ok_or_else(|| missing("event.comment.id"))?;
    let body = comment
        .body
        .as_deref()
        .ok_or_else(|| missing("event.comment.body"))?;
    let author = comment
        .author
        .as_ref()
        .ok_or_else(|| missing("event.comment.author"))?;
    let author_id = id_of(&author.id).ok_or_else(|| missing("event.comment.author.id"))?;
    let is_public = comment
        .is_public
        .ok_or_else(|| missing("event.comment.is_public"))?;
    let is_staff = author.is_staff.unwrap_or(false);

    if rules.bot_author_ids.iter().any(|b| b.trim() == author_id)
        || (!rules.marker.is_empty() && body.contains(&rules.marker))
    {
        return Ok(Inbound::Ignored(
            "our own write (loop prevention)".to_owned(),
        ));
    }

    let delivery_key = format!("zendesk:{ticket_id}:comment:{comment_id}");
    let (channel, custom_channel) =
        channel_of(detail.via.as_ref().and_then(|v| v.channel.as_deref()));
    let occurred_at = timestamp_of(envelope.time.as_deref())?;
    let author_name = author.name.clone().unwrap_or_default();
    let base = pb::Event {
        tenant_id: tenant.to_owned(),
        event_id: delivery_key.clone(),
        ticket_id: ticket_id.to_owned(),
        channel: channel as i32,
        custom_channel,
        occurred_at,
        attributes: attributes_of(detail, envelope.id.as_deref().unwrap_or_default()),
        ..Default::default()
    };

    match (is_public, is_staff) {
        (true, false) => {
            if body.trim().is_empty() {
                return Ok(Inbound::Ignored("empty customer comment".to_owned()));
            }
            let event = pb::Event {
                kind: pb::EventKind::CustomerMessage as i32,
                customer: Some(customer_of(detail, Some(author_id.clone()), &author_name)),
                text: body.to_owned(),
                ..base
            };
            job(event, delivery_key, ticket_id, false)
        }
        (false, true) => {
            let prefix = rules.agent_prefix.trim();
            let trimmed = body.trim_start();
            match trimmed.strip_prefix(prefix) {
                Some(rest) if !prefix.is_empty() => {
                    let text = rest.trim();
                    if text.is_empty() {
                        return Ok(Inbound::Ignored("agent reply note is empty".to_owned()));
                    }
                    let event = pb::Event {
                        kind: pb::EventKind::AgentReplyDrafted as i32,
                        customer: Some(customer_of(detail, None, "")),
                        agent: Some(pb::Agent {
                            id: author_id,
                            ..Default::default()
                        }),
                        text: text.to_owned(),
                        ..base
                    };
                    job(event, delivery_key, ticket_id, true)
                }
                _ => Ok(Inbound::Ignored(
                    "internal note without the agent reply prefix".to_owned(),
                )),
            }
        }
        (true, true) => Ok(Inbound::Ignored(
            "public comment by an agent (already sent to the customer)".to_owned(),
        )),
        (false, false) => Ok(Inbound::Ignored(
            "internal note by a non-staff user".to_owned(),
        )),
    }
}

fn map_created(
    tenant: &str,
    envelope: &Envelope,
    detail: &TicketDetail,
    ticket_id: &str,
    rules: &Rules,
) -> Result<Inbound, Rejection> {
    let submitter = id_of(&detail.submitter_id).or_else(|| id_of(&detail.actor_id));
    let description = detail.description.as_deref().unwrap_or_default();
    if submitter
        .as_ref()
        .is_some_and(|s| rules.bot_author_ids.iter().any(|b| b.trim() == s))
        || (!rules.marker.is_empty() && description.contains(&rules.marker))
    {
        return Ok(Inbound::Ignored(
            "our own write (loop prevention)".to_owned(),
        ));
    }
    let delivery_key = format!("zendesk:{ticket_id}:created");
    let (channel, custom_channel) =
        channel_of(detail.via.as_ref().and_then(|v| v.channel.as_deref()));
    let event = pb::Event {
        tenant_id: tenant.to_owned(),
        event_id: delivery_key.clone(),
        kind: pb::EventKind::TicketCreated as i32,
        ticket_id: ticket_id.to_owned(),
        channel: channel as i32,
        custom_channel,
        customer: Some(customer_of(detail, submitter, "")),
        text: description.to_owned(),
        occurred_at: timestamp_of(envelope.time.as_deref())?,
        attributes: attributes_of(detail, envelope.id.as_deref().unwrap_or_default()),
        ..Default::default()
    };
    job(event, delivery_key, ticket_id, false)
}

// ---------------------------------------------------------------------------
// Write-back helpers
// ---------------------------------------------------------------------------

fn numeric(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn put_ticket(ticket_id: &str, ticket: serde_json::Map<String, Value>) -> RestCall {
    RestCall {
        method: http::Method::PUT,
        path: format!("/api/v2/tickets/{ticket_id}.json"),
        body: json!({ "ticket": Value::Object(ticket) }),
    }
}

impl Helpdesk for Zendesk {
    fn name(&self) -> &str {
        "zendesk"
    }

    fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        secret: &str,
        now: SystemTime,
        rules: &Rules,
    ) -> Result<(), Rejection> {
        let signature = webhook::header(headers, SIGNATURE_HEADER)?;
        let timestamp = webhook::header(headers, TIMESTAMP_HEADER)?;
        let expected = BASE64
            .decode(signature)
            .map_err(|_| Rejection::BadSignature("signature is not base64".to_owned()))?;
        webhook::verify_hmac_sha256(secret, &[timestamp.as_bytes(), body], &expected)?;
        let (signed_at, _) = parse_rfc3339(timestamp).ok_or_else(|| {
            Rejection::BadSignature(format!("unreadable signature timestamp {timestamp:?}"))
        })?;
        webhook::check_age(signed_at, now, rules.max_age_secs)
    }

    fn map(&self, tenant: &str, body: &[u8], rules: &Rules) -> Result<Inbound, Rejection> {
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|e| Rejection::BadPayload(format!("not a Zendesk event webhook: {e}")))?;
        let kind = envelope.kind.as_deref().ok_or_else(|| missing("type"))?;
        if kind != COMMENT_ADDED && kind != TICKET_CREATED {
            return Ok(Inbound::Ignored(format!("event type {kind} is not mapped")));
        }
        let detail = envelope.detail.as_ref().ok_or_else(|| missing("detail"))?;
        let ticket_id = id_of(&detail.id).ok_or_else(|| missing("detail.id"))?;
        if kind == COMMENT_ADDED {
            map_comment(tenant, &envelope, detail, &ticket_id, rules)
        } else {
            map_created(tenant, &envelope, detail, &ticket_id, rules)
        }
    }

    fn write_back(
        &self,
        target: &Target,
        actions: &[pb::Action],
        reply: Option<&str>,
        rules: &Rules,
    ) -> Vec<RestCall> {
        let mut writes = Writes::from_actions(actions, reply);
        let mut ticket = serde_json::Map::new();
        // Zendesk's `custom_fields` are keyed by the numeric ticket field id; a key
        // that is not one cannot be set, so it goes into the note for the agent to
        // see. Sorted by id for a stable request body.
        let mut fields: BTreeMap<u64, String> = BTreeMap::new();
        for (key, value) in std::mem::take(&mut writes.fields) {
            match numeric(&key) {
                Some(id) => {
                    fields.insert(id, value);
                }
                None => writes.notes.push(format!("{key}: {value}")),
            }
        }
        for (name, id, field) in [
            ("group", writes.group.take(), "group_id"),
            ("agent", writes.agent.take(), "assignee_id"),
        ] {
            match id.as_deref().map(|id| (id, numeric(id))) {
                Some((_, Some(number))) => {
                    ticket.insert(field.to_owned(), json!(number));
                }
                Some((id, None)) => writes.unrouted.push(format!("{name} {id}")),
                None => {}
            }
        }
        if let Some(priority) = writes.priority.take() {
            if matches!(priority.as_str(), "low" | "normal" | "high" | "urgent") {
                ticket.insert("priority".to_owned(), json!(priority));
            } else {
                writes.unrouted.push(format!("priority {priority}"));
            }
        }
        if !writes.tags.is_empty() {
            ticket.insert("additional_tags".to_owned(), json!(writes.tags));
        }
        if !fields.is_empty() {
            let list: Vec<Value> = fields
                .into_iter()
                .map(|(id, value)| json!({ "id": id, "value": value }))
                .collect();
            ticket.insert("custom_fields".to_owned(), Value::Array(list));
        }
        let public = writes.public_reply();

        let mut calls = Vec::new();
        if let Some(body) = writes.note_text(&rules.marker) {
            ticket.insert(
                "comment".to_owned(),
                json!({ "body": body, "public": false }),
            );
        }
        match public {
            // An update carries one comment: with a note, the public reply comes in a
            // second update, after the note.
            Some(text) if ticket.contains_key("comment") => {
                calls.push(put_ticket(&target.ticket_id, ticket));
                let mut second = serde_json::Map::new();
                second.insert(
                    "comment".to_owned(),
                    json!({ "body": text, "public": true }),
                );
                calls.push(put_ticket(&target.ticket_id, second));
            }
            Some(text) => {
                ticket.insert(
                    "comment".to_owned(),
                    json!({ "body": text, "public": true }),
                );
                calls.push(put_ticket(&target.ticket_id, ticket));
            }
            None if !ticket.is_empty() => calls.push(put_ticket(&target.ticket_id, ticket)),
            None => {}
        }
        calls
    }

    fn customer_lookup(&self, event: &pb::Event) -> Option<String> {
        let id = numeric(&event.customer.as_ref()?.id)?;
        Some(format!("/api/v2/users/{id}.json"))
    }

    fn enrich_customer(&self, event: &mut pb::Event, answer: &Value) {
        let Some(user) = answer.get("user").filter(|u| u.is_object()) else {
            return;
        };
        let text = |key: &str| {
            user.get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let on_whatsapp = event.channel() == pb::Channel::Whatsapp;
        let customer = event.customer.get_or_insert_with(Default::default);
        let mut add_id = |kind: &str, value: Option<String>| {
            if let Some(value) = value {
                customer
                    .external_ids
                    .entry(kind.to_owned())
                    .or_insert(value);
            }
        };
        add_id("email", text("email"));
        // A number several people share (an office's, a family's) identifies nobody.
        let shared = user
            .get("shared_phone_number")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !shared {
            add_id("phone", text("phone"));
            if on_whatsapp {
                add_id("whatsapp", text("phone"));
            }
        }
        add_id("external_id", text("external_id"));
        let fill = |field: &mut String, value: Option<String>| {
            if field.is_empty() {
                *field = value.unwrap_or_default();
            }
        };
        fill(&mut customer.locale, text("locale"));
        fill(&mut customer.time_zone, text("iana_time_zone"));
        fill(&mut customer.display_name, text("name"));
    }

    fn auth_headers(&self, credentials: &Credentials) -> Result<http::HeaderMap, String> {
        let user = credentials.user.trim();
        let token = credentials.token.trim();
        if user.is_empty() || token.is_empty() {
            return Err("zendesk needs the agent e-mail (user) and an API token".to_owned());
        }
        let encoded = BASE64.encode(format!("{user}/token:{token}"));
        let mut auth = http::HeaderValue::from_str(&format!("Basic {encoded}"))
            .map_err(|_| "zendesk credentials make an invalid header".to_owned())?;
        auth.set_sensitive(true);
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, auth);
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    use std::time::Duration;
    use std::time::UNIX_EPOCH;

    const SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
    const BOT: &str = "9000000000001";
    const MARKER: &str = "— crossdesk";

    const EMAIL: &str =
        include_str!("../../../tests/fixtures/zendesk/comment_added_email_customer.json");
    const WHATSAPP: &str =
        include_str!("../../../tests/fixtures/zendesk/comment_added_whatsapp_customer.json");
    const AGENT_REPLY: &str =
        include_str!("../../../tests/fixtures/zendesk/comment_added_agent_reply_note.json");
    const BRIDGE_NOTE: &str =
        include_str!("../../../tests/fixtures/zendesk/comment_added_bridge_note.json");
    const CREATED: &str = include_str!("../../../tests/fixtures/zendesk/ticket_created_web.json");

    fn rules() -> Rules {
        Rules {
            agent_prefix: "#reply".to_owned(),
            bot_author_ids: vec![BOT.to_owned()],
            marker: MARKER.to_owned(),
            max_age_secs: 300,
        }
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// 2024-05-01T12:00:00Z
    const SIGNED_AT: u64 = 1_714_564_800;

    fn signed(secret: &str, timestamp: &str, body: &[u8]) -> http::HeaderMap {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
        mac.update(timestamp.as_bytes());
        mac.update(body);
        let signature = BASE64.encode(mac.finalize().into_bytes());
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "X-Zendesk-Webhook-Signature",
            signature.parse().expect("header"),
        );
        headers.insert(
            "X-Zendesk-Webhook-Signature-Timestamp",
            timestamp.parse().expect("header"),
        );
        headers
    }

    fn verify(headers: &http::HeaderMap, body: &[u8], now: SystemTime) -> Result<(), Rejection> {
        Zendesk.verify(headers, body, SECRET, now, &rules())
    }

    fn job_of(fixture: &str, rules: &Rules) -> (Job, pb::Event) {
        match Zendesk
            .map("acme", fixture.as_bytes(), rules)
            .expect("mapped")
        {
            Inbound::Job(job) => {
                let event = crate::json::event_from_json(&job.event_json).expect("event json");
                (job, event)
            }
            Inbound::Ignored(why) => panic!("ignored: {why}"),
        }
    }

    fn ignored(body: &str, rules: &Rules) -> String {
        match Zendesk.map("acme", body.as_bytes(), rules).expect("mapped") {
            Inbound::Ignored(why) => why,
            Inbound::Job(job) => panic!("unexpected job {}", job.delivery_key),
        }
    }

    fn target() -> Target {
        Target {
            ticket_id: "5158".to_owned(),
            account_id: String::new(),
        }
    }

    fn action(kind: pb::action::Kind) -> pb::Action {
        pb::Action {
            plugin: "test".to_owned(),
            kind: Some(kind),
        }
    }

    // --- signature ---------------------------------------------------------

    #[test]
    fn verify_accepts_a_valid_signature() {
        let body = EMAIL.as_bytes();
        let headers = signed(SECRET, "2024-05-01T12:00:00Z", body);
        assert_eq!(verify(&headers, body, at(SIGNED_AT + 10)), Ok(()));
    }

    #[test]
    fn verify_signs_timestamp_then_body() {
        // Computed independently (Python hmac) over "2021-07-25T10:00:00Z" + body.
        let body = br#"{"say": "hello"}"#;
        let mut headers = http::HeaderMap::new();
        headers.insert(
            SIGNATURE_HEADER,
            "Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk="
                .parse()
                .expect("header"),
        );
        headers.insert(
            TIMESTAMP_HEADER,
            "2021-07-25T10:00:00Z".parse().expect("header"),
        );
        let now = at(1_627_207_200);
        assert_eq!(
            Zendesk.verify(
                &headers,
                body,
                "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=",
                now,
                &rules()
            ),
            Ok(())
        );
    }

    #[test]
    fn verify_rejects_a_wrong_secret() {
        let body = EMAIL.as_bytes();
        let headers = signed("another-secret", "2024-05-01T12:00:00Z", body);
        assert!(matches!(
            verify(&headers, body, at(SIGNED_AT)),
            Err(Rejection::BadSignature(_))
        ));
    }

    #[test]
    fn verify_rejects_a_tampered_body() {
        let headers = signed(SECRET, "2024-05-01T12:00:00Z", EMAIL.as_bytes());
        let tampered = EMAIL.replace("Toujours", "Encore");
        assert!(matches!(
            verify(&headers, tampered.as_bytes(), at(SIGNED_AT)),
            Err(Rejection::BadSignature(_))
        ));
    }

    #[test]
    fn verify_rejects_a_tampered_timestamp() {
        let body = EMAIL.as_bytes();
        let mut headers = signed(SECRET, "2024-05-01T12:00:00Z", body);
        headers.insert(
            TIMESTAMP_HEADER,
            "2024-05-01T12:00:01Z".parse().expect("header"),
        );
        assert!(matches!(
            verify(&headers, body, at(SIGNED_AT)),
            Err(Rejection::BadSignature(_))
        ));
    }

    #[test]
    fn verify_rejects_missing_headers_and_garbage() {
        let body = EMAIL.as_bytes();
        let full = signed(SECRET, "2024-05-01T12:00:00Z", body);
        for name in [SIGNATURE_HEADER, TIMESTAMP_HEADER] {
            let mut headers = full.clone();
            headers.remove(name);
            let err = verify(&headers, body, at(SIGNED_AT)).expect_err("refused");
            assert!(
                matches!(&err, Rejection::BadSignature(m) if m.contains(name)),
                "{err:?}"
            );
        }
        let mut headers = full.clone();
        headers.insert(SIGNATURE_HEADER, "not base64!".parse().expect("header"));
        assert!(matches!(
            verify(&headers, body, at(SIGNED_AT)),
            Err(Rejection::BadSignature(_))
        ));
        assert!(matches!(
            Zendesk.verify(&full, body, "", at(SIGNED_AT), &rules()),
            Err(Rejection::BadSignature(_))
        ));
    }

    #[test]
    fn verify_rejects_stale_and_future_timestamps() {
        let body = EMAIL.as_bytes();
        let headers = signed(SECRET, "2024-05-01T12:00:00Z", body);
        assert_eq!(verify(&headers, body, at(SIGNED_AT + 300)), Ok(()));
        assert_eq!(verify(&headers, body, at(SIGNED_AT - 300)), Ok(()));
        assert!(matches!(
            verify(&headers, body, at(SIGNED_AT + 301)),
            Err(Rejection::Stale(_))
        ));
        assert!(matches!(
            verify(&headers, body, at(SIGNED_AT - 301)),
            Err(Rejection::Stale(_))
        ));
        // Same instant with an offset and fractional seconds.
        let headers = signed(SECRET, "2024-05-01T14:00:00.250+02:00", body);
        assert_eq!(verify(&headers, body, at(SIGNED_AT)), Ok(()));
        // A signed but unreadable timestamp.
        let headers = signed(SECRET, "yesterday", body);
        assert!(matches!(
            verify(&headers, body, at(SIGNED_AT)),
            Err(Rejection::BadSignature(_))
        ));
    }

    #[test]
    fn rfc3339_parses_and_refuses() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(
            parse_rfc3339("2024-05-01T12:00:00Z"),
            Some((1_714_564_800, 0))
        );
        assert_eq!(
            parse_rfc3339("2024-05-01T07:30:00-04:30"),
            Some((1_714_564_800, 0))
        );
        assert_eq!(
            parse_rfc3339("2025-01-08T14:25:30.123456789Z"),
            Some((1_736_346_330, 123_456_789))
        );
        assert_eq!(
            parse_rfc3339("2025-01-08T14:25:30.5Z"),
            Some((1_736_346_330, 500_000_000))
        );
        assert_eq!(
            parse_rfc3339("2000-02-29T23:59:59Z"),
            Some((951_868_799, 0))
        );
        assert_eq!(parse_rfc3339("1969-12-31T00:00:00Z"), Some((-86_400, 0)));
        for bad in [
            "",
            "2024-05-01",
            "2024-05-01T12:00:00",
            "2024-05-01T12:00:00.Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T12:00:00+0200",
            "2024-05-01T12:00:00Zjunk",
            "2024/05/01T12:00:00Z",
            "２０２４-05-01T12:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    // --- mapping -----------------------------------------------------------

    #[test]
    fn maps_a_customer_email_comment() {
        let (job, event) = job_of(EMAIL, &rules());
        assert_eq!(job.delivery_key, "zendesk:5158:comment:9876543210");
        assert_eq!(job.target, target());
        assert!(!job.agent_reply);
        assert_eq!(event.tenant_id, "acme");
        assert_eq!(event.event_id, job.delivery_key);
        assert_eq!(event.kind(), pb::EventKind::CustomerMessage);
        assert_eq!(event.ticket_id, "5158");
        assert_eq!(event.channel(), pb::Channel::Email);
        assert_eq!(
            event.text,
            "Toujours le même problème ce matin, le code de vérification n'arrive jamais."
        );
        let customer = event.customer.expect("customer");
        assert_eq!(customer.id, "8447388090494");
        assert_eq!(customer.display_name, "Camille Martin");
        assert_eq!(
            customer.external_ids.get("zendesk").map(String::as_str),
            Some("8447388090494")
        );
        let at = event.occurred_at.expect("occurred_at");
        assert_eq!((at.seconds, at.nanos), (1_736_346_330, 123_456_789));
        assert_eq!(
            event.attributes.get("zendesk.event_id").map(String::as_str),
            Some("d4f5c389-8f4a-4c2e-a1b9-8e4f39c71d52")
        );
        assert!(event.agent.is_none());
    }

    #[test]
    fn maps_a_customer_whatsapp_comment() {
        let (job, event) = job_of(WHATSAPP, &rules());
        assert_eq!(job.delivery_key, "zendesk:6021:comment:31000000442");
        assert_eq!(event.kind(), pb::EventKind::CustomerMessage);
        assert_eq!(event.channel(), pb::Channel::Whatsapp);
        assert_eq!(
            event.text,
            "注文した商品がまだ届いていません。注文番号は A-1042 です。"
        );
        assert_eq!(event.customer.expect("customer").id, "8512200331177");
        assert_eq!(
            event
                .attributes
                .get("zendesk.external_id")
                .map(String::as_str),
            Some("wa-conv-7f3c9a")
        );
        assert_eq!(event.occurred_at.expect("time").seconds, 1_740_960_072);
    }

    #[test]
    fn maps_an_agent_reply_note() {
        let (job, event) = job_of(AGENT_REPLY, &rules());
        assert!(job.agent_reply);
        assert_eq!(job.delivery_key, "zendesk:5158:comment:9876543299");
        assert_eq!(event.kind(), pb::EventKind::AgentReplyDrafted);
        assert_eq!(
            event.text,
            "Sorry about that! We have reset your two-factor settings, please try logging in again."
        );
        assert_eq!(event.agent.expect("agent").id, "8447388090495");
        assert_eq!(event.customer.expect("customer").id, "8447388090494");
        // 14:40:02+01:00
        assert_eq!(event.occurred_at.expect("time").seconds, 1_736_343_602);
    }

    #[test]
    fn maps_a_ticket_created_event() {
        let (job, event) = job_of(CREATED, &rules());
        assert_eq!(job.delivery_key, "zendesk:5999:created");
        assert_eq!(job.target.ticket_id, "5999");
        assert_eq!(event.kind(), pb::EventKind::TicketCreated);
        assert_eq!(event.channel(), pb::Channel::WebChat);
        assert_eq!(
            event.text,
            "Hola, quiero cambiar la dirección de envío de mi pedido."
        );
        assert_eq!(event.customer.expect("customer").id, "8600112233445");
    }

    #[test]
    fn ignores_our_own_writes_by_author_and_by_marker() {
        assert_eq!(
            ignored(BRIDGE_NOTE, &rules()),
            "our own write (loop prevention)"
        );
        let no_ids = Rules {
            bot_author_ids: vec![],
            ..rules()
        };
        assert_eq!(
            ignored(BRIDGE_NOTE, &no_ids),
            "our own write (loop prevention)"
        );
        // A customer comment quoting the marker is not processed either.
        let quoted = EMAIL.replace("jamais.", &format!("jamais. {MARKER}"));
        assert_eq!(
            ignored(&quoted, &rules()),
            "our own write (loop prevention)"
        );
        // The bot's public comments (the replies it posts) too.
        let public_by_bot = BRIDGE_NOTE.replace("\"is_public\": false", "\"is_public\": true");
        let no_marker = Rules {
            marker: String::new(),
            ..rules()
        };
        assert_eq!(
            ignored(&public_by_bot, &no_marker),
            "our own write (loop prevention)"
        );
    }

    #[test]
    fn ignores_other_comments_and_event_types() {
        let staff_public = AGENT_REPLY.replace("\"is_public\": false", "\"is_public\": true");
        assert!(ignored(&staff_public, &rules()).contains("public comment by an agent"));
        let plain_note = AGENT_REPLY.replace("#reply  Sorry", "Sorry");
        assert!(ignored(&plain_note, &rules()).contains("without the agent reply prefix"));
        let empty_reply = AGENT_REPLY.replace(
            "#reply  Sorry about that! We have reset your two-factor settings, please try logging in again.",
            "#reply   ",
        );
        assert!(ignored(&empty_reply, &rules()).contains("empty"));
        let no_prefix_rule = Rules {
            agent_prefix: String::new(),
            ..rules()
        };
        assert!(ignored(AGENT_REPLY, &no_prefix_rule).contains("without the agent reply prefix"));
        let other = r#"{"type": "zen:event-type:user.active_changed", "id": "x",
            "detail": {"id": "6596848315901"}, "event": {"current": false, "previous": true}}"#;
        assert!(ignored(other, &rules()).contains("user.active_changed"));
    }

    #[test]
    fn rejects_malformed_payloads_naming_the_field() {
        let bad = |body: &str| match Zendesk.map("acme", body.as_bytes(), &rules()) {
            Err(Rejection::BadPayload(m)) => m,
            other => panic!("expected BadPayload, got {other:?}"),
        };
        assert!(bad("not json").contains("not a Zendesk event webhook"));
        assert!(bad(r#"{"detail": {}}"#).contains("`type`"));
        assert!(bad(r#"{"type": "zen:event-type:ticket.comment_added"}"#).contains("`detail`"));
        assert!(bad(&EMAIL.replace("\"id\": \"5158\"", "\"id\": null")).contains("`detail.id`"));
        assert!(bad(&EMAIL.replace("\"id\": \"9876543210\",", "")).contains("`event.comment.id`"));
        assert!(
            bad(&EMAIL.replace("\"body\":", "\"html_body\":")).contains("`event.comment.body`")
        );
        assert!(
            bad(&EMAIL.replace("\"is_public\": true,\n      \"author\"", "\"author\""))
                .contains("`event.comment.is_public`")
        );
        assert!(bad(&EMAIL.replace("2025-01-08T14:25:30.123456789Z", "soon")).contains("`time`"));
    }

    #[test]
    fn accepts_numeric_ids() {
        let numeric = EMAIL
            .replace("\"id\": \"5158\"", "\"id\": 5158")
            .replace("\"id\": \"9876543210\"", "\"id\": 9876543210");
        let (job, _) = job_of(&numeric, &rules());
        assert_eq!(job.delivery_key, "zendesk:5158:comment:9876543210");
    }

    #[test]
    fn maps_channels() {
        for (via, want) in [
            ("email", pb::Channel::Email),
            ("web", pb::Channel::WebChat),
            ("chat", pb::Channel::WebChat),
            ("native_messaging", pb::Channel::WebChat),
            ("whatsapp", pb::Channel::Whatsapp),
            ("facebook", pb::Channel::Facebook),
            ("voice", pb::Channel::Phone),
            ("sms", pb::Channel::Sms),
            ("api", pb::Channel::Api),
            ("web_service", pb::Channel::Api),
        ] {
            assert_eq!(channel_of(Some(via)), (want, String::new()), "{via}");
        }
        assert_eq!(
            channel_of(Some("line")),
            (pb::Channel::Custom, "line".to_owned())
        );
        assert_eq!(channel_of(None), (pb::Channel::Unspecified, String::new()));
    }

    // --- write-back --------------------------------------------------------

    fn typical_actions() -> Vec<pb::Action> {
        use pb::action::Kind;
        vec![
            action(Kind::InternalNote(
                "Translation (fr → en): hello".to_owned(),
            )),
            action(Kind::AddTags(pb::Tags {
                tags: vec!["lang-fr".to_owned(), "translated".to_owned()],
            })),
            action(Kind::SetFields(pb::Fields {
                fields: [
                    ("360001234567".to_owned(), "fr".to_owned()),
                    ("sentiment".to_owned(), "negative".to_owned()),
                ]
                .into_iter()
                .collect(),
            })),
            action(Kind::Route(pb::Routing {
                group: "360000111222".to_owned(),
                agent_id: "tier2-bob".to_owned(),
                priority: "High".to_owned(),
                reason: "French speaker".to_owned(),
            })),
            action(Kind::FlagForReview(pb::ReviewFlag {
                category: "legal".to_owned(),
                reason: "mentions a lawyer".to_owned(),
            })),
            action(Kind::AddTags(pb::Tags {
                tags: vec!["translated".to_owned()],
            })),
            action(Kind::ReplaceDraft("ignored without reply".to_owned())),
        ]
    }

    #[test]
    fn writes_a_typical_action_list_in_one_update() {
        let calls = Zendesk.write_back(&target(), &typical_actions(), None, &rules());
        assert_eq!(calls.len(), 1);
        let call = &calls[0];
        assert_eq!(call.method, http::Method::PUT);
        assert_eq!(call.path, "/api/v2/tickets/5158.json");
        assert_eq!(
            call.body,
            json!({"ticket": {
                "comment": {
                    "body": "Translation (fr → en): hello\n\nRouting: French speaker\n\nFlagged for review (legal): mentions a lawyer\n\nsentiment: negative\n\nSuggested routing: agent tier2-bob\n\n— crossdesk",
                    "public": false
                },
                "additional_tags": ["lang-fr", "translated", "crossdesk-review"],
                "custom_fields": [{"id": 360001234567u64, "value": "fr"}],
                "group_id": 360000111222u64,
                "priority": "high"
            }})
        );
    }

    #[test]
    fn writes_the_reply_as_a_second_public_update() {
        let calls = Zendesk.write_back(
            &target(),
            &typical_actions(),
            Some("Bonjour ! Nous avons réinitialisé vos paramètres."),
            &rules(),
        );
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].body["ticket"]["comment"]["public"], json!(false));
        assert_eq!(
            calls[1].body,
            json!({"ticket": {"comment": {
                "body": "Bonjour ! Nous avons réinitialisé vos paramètres.",
                "public": true
            }}})
        );
        assert_eq!(calls[1].path, "/api/v2/tickets/5158.json");
    }

    #[test]
    fn writes_a_lone_reply_or_auto_reply_in_one_update() {
        use pb::action::Kind;
        let draft = [action(Kind::ReplaceDraft("draft".to_owned()))];
        let calls = Zendesk.write_back(&target(), &draft, Some("Hola"), &rules());
        assert_eq!(
            calls.iter().map(|c| c.body.clone()).collect::<Vec<_>>(),
            vec![json!({"ticket": {"comment": {"body": "Hola", "public": true}}})]
        );
        let auto = [
            action(Kind::AutoReply("Thanks, we got it.".to_owned())),
            action(Kind::AddTags(pb::Tags {
                tags: vec!["auto".to_owned()],
            })),
        ];
        let calls = Zendesk.write_back(&target(), &auto, None, &rules());
        assert_eq!(
            calls.iter().map(|c| c.body.clone()).collect::<Vec<_>>(),
            vec![json!({"ticket": {
                "comment": {"body": "Thanks, we got it.", "public": true},
                "additional_tags": ["auto"]
            }})]
        );
    }

    #[test]
    fn writes_nothing_without_actions() {
        use pb::action::Kind;
        assert!(
            Zendesk
                .write_back(&target(), &[], None, &rules())
                .is_empty()
        );
        let nothing = [
            action(Kind::ReplaceDraft("draft".to_owned())),
            action(Kind::InternalNote("  ".to_owned())),
            pb::Action {
                plugin: "x".to_owned(),
                kind: None,
            },
        ];
        assert!(
            Zendesk
                .write_back(&target(), &nothing, None, &rules())
                .is_empty()
        );
    }

    // --- auth ----------------------------------------------------------------

    #[test]
    fn auth_headers_use_api_token_basic_auth() {
        let credentials = Credentials {
            user: "bridge@acme.example".to_owned(),
            token: "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv".to_owned(),
        };
        let headers = Zendesk.auth_headers(&credentials).expect("headers");
        let auth = headers
            .get(http::header::AUTHORIZATION)
            .expect("authorization");
        assert!(auth.is_sensitive());
        let expected = format!(
            "Basic {}",
            BASE64.encode("bridge@acme.example/token:6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv")
        );
        assert_eq!(auth.to_str().expect("ascii"), expected);
        assert_eq!(
            headers
                .get(http::header::CONTENT_TYPE)
                .expect("content type"),
            "application/json"
        );
        assert!(Zendesk.auth_headers(&Credentials::default()).is_err());
        assert_eq!(Zendesk.name(), "zendesk");
    }

    const WHATSAPP_USER: &str =
        include_str!("../../../tests/fixtures/zendesk/user_whatsapp_requester.json");

    #[test]
    fn the_requester_is_looked_up_by_numeric_id_only() {
        let (_, event) = job_of(WHATSAPP, &rules());
        assert_eq!(
            Zendesk.customer_lookup(&event).as_deref(),
            Some("/api/v2/users/8512200331177.json")
        );
        for id in ["", "abc", "12/../34"] {
            let mut event = event.clone();
            event.customer.as_mut().expect("customer").id = id.to_owned();
            assert_eq!(Zendesk.customer_lookup(&event), None, "{id:?}");
        }
        let mut event = event;
        event.customer = None;
        assert_eq!(Zendesk.customer_lookup(&event), None);
    }

    #[test]
    fn a_looked_up_requester_adds_identities_locale_and_zone() {
        let (_, mut event) = job_of(WHATSAPP, &rules());
        let answer: Value = serde_json::from_str(WHATSAPP_USER).expect("fixture");
        Zendesk.enrich_customer(&mut event, &answer);
        let customer = event.customer.expect("customer");
        let ids: Vec<(&str, &str)> = customer
            .external_ids
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            ids,
            [
                ("email", "yuki.tanaka@example.jp"),
                ("external_id", "crm-88213"),
                ("phone", "+819012345678"),
                ("whatsapp", "+819012345678"),
                ("zendesk", "8512200331177"),
            ]
        );
        assert_eq!(customer.locale, "ja");
        assert_eq!(customer.time_zone, "Asia/Tokyo");
        // The webhook's own name stays.
        assert_eq!(customer.display_name, "Yuki Tanaka");
    }

    #[test]
    fn a_shared_phone_number_is_no_identity_and_webhook_fields_win() {
        let (_, mut event) = job_of(EMAIL, &rules());
        let customer = event.customer.as_mut().expect("customer");
        customer.locale = "fr-FR".into();
        customer
            .external_ids
            .insert("email".into(), "given@example.fr".into());
        let answer = json!({ "user": {
            "email": "other@example.fr", "phone": "+33123456789",
            "shared_phone_number": true, "locale": "en-US",
            "iana_time_zone": "Europe/Paris", "external_id": null
        }});
        Zendesk.enrich_customer(&mut event, &answer);
        let customer = event.customer.expect("customer");
        assert_eq!(customer.external_ids["email"], "given@example.fr");
        assert!(!customer.external_ids.contains_key("phone"), "{customer:?}");
        assert!(!customer.external_ids.contains_key("external_id"));
        assert_eq!(customer.locale, "fr-FR");
        assert_eq!(customer.time_zone, "Europe/Paris");
        // An answer that is no user changes nothing.
        let (_, mut event) = job_of(EMAIL, &rules());
        let before = event.clone();
        Zendesk.enrich_customer(&mut event, &json!({ "error": "RecordNotFound" }));
        assert_eq!(event, before);
    }
}
