//! The Chatwoot integration of the bridge: checks Chatwoot's webhook signatures, maps
//! `message_created` / `conversation_created` deliveries to jobs (a conversation
//! resolved, `conversation_status_changed`, and a CSAT survey answered,
//! `message_updated`, to the reports' solves and ratings), and writes a job's
//! actions back through Chatwoot's application API.
//!
//! # Signature
//!
//! Chatwoot signs a webhook delivery when the webhook has a secret: the request carries
//! `X-Chatwoot-Timestamp: <unix seconds>` and
//! `X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{raw body}")>`
//! (plus `X-Chatwoot-Delivery`, unused here). Sources: the `secret` field of Chatwoot's
//! webhook resource in its API reference ("Signed webhook deliveries include
//! `X-Chatwoot-Timestamp` and `X-Chatwoot-Signature`; the signature is `sha256=` followed
//! by the HMAC-SHA256 of `{timestamp}.{raw_request_body}` using this secret"), mirrored
//! at <https://raw.githubusercontent.com/api-evangelist/chatwoot/refs/heads/main/json-schema/webhook.json>,
//! and the receivers built against Chatwoot 4.x. Older Chatwoot releases
//! (`lib/webhooks/trigger.rb` posting the bare JSON) sign nothing; in front of those a
//! reverse proxy must add the same two headers. The signature is checked in constant
//! time (`Mac::verify_slice`); a timestamp further than `Rules::max_age_secs` from now
//! is refused as stale.
//!
//! # Payloads
//!
//! Shapes follow Chatwoot's source (chatwoot/chatwoot): `app/listeners/webhook_listener.rb`
//! (`message_created` = `message.webhook_data` + `event`; `conversation_created` =
//! `conversation.webhook_data` + `event`), `app/models/message.rb#webhook_data` (`id`,
//! `content`, `created_at` as ISO 8601, `message_type` as a string, `private`, `sender`,
//! `conversation`, `account`, `inbox`), `app/models/contact.rb#webhook_data`,
//! `app/models/user.rb#webhook_data` (`type: "user"`) and
//! `app/presenters/conversations/event_data_presenter.rb` (conversation: `id` = the
//! display id used in API paths, `channel` = `Channel::Whatsapp`..., `contact_inbox`,
//! `meta.sender`, and `messages` whose entries are `push_event_data`: integer
//! `message_type` and `created_at`, `account_id`, `sender_type`). A
//! `conversation_created` payload has no `account` object: the account comes from its
//! first message's `account_id`. Its delivery key is that of the first message, so the
//! same message received as `message_created` too is queued once.
//!
//! # Write-back
//!
//! `POST /api/v1/accounts/{account}/conversations/{conversation}/...`: `messages`
//! (private note, public reply), `labels`, `custom_attributes`, `assignments` — one
//! request per kind of write and event, authenticated with the `api_access_token`
//! header (Chatwoot API reference, "Application APIs"). The labels and the custom
//! attributes endpoints replace the whole set: just before writing one, the bridge
//! reads it (`GET .../labels`, whose answer is `{"payload": [...]}`, and the
//! conversation's details, `GET .../conversations/{conversation}`, for
//! `custom_attributes`) and sends it with its additions ([`WholeSet`]).

use std::collections::BTreeMap;
use std::time::SystemTime;

use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use super::types::{
    Credentials, Helpdesk, Inbound, Job, Rejection, RestCall, Rules, Target, WholeSet,
};
use super::webhook::{self, missing};
use crate::pb;

/// `sha256=<hex HMAC>` over `{timestamp}.{body}`.
pub const SIGNATURE_HEADER: &str = "x-chatwoot-signature";
/// Unix seconds of the delivery, part of the signed string.
pub const TIMESTAMP_HEADER: &str = "x-chatwoot-timestamp";
/// The label a review flag puts on the conversation. Chatwoot only applies labels that
/// exist in the account, so it must be created there once.
pub const REVIEW_LABEL: &str = "crossdesk-review";

/// The Chatwoot helpdesk.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chatwoot;

impl Helpdesk for Chatwoot {
    fn name(&self) -> &str {
        "chatwoot"
    }

    fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        secret: &str,
        now: SystemTime,
        rules: &Rules,
    ) -> Result<(), Rejection> {
        let timestamp = webhook::header(headers, TIMESTAMP_HEADER)?;
        let signature = webhook::header(headers, SIGNATURE_HEADER)?;
        let sent_at: i64 = timestamp.parse().map_err(|_| {
            Rejection::BadSignature(format!("{TIMESTAMP_HEADER} is not unix seconds"))
        })?;
        let hex_mac = signature.strip_prefix("sha256=").ok_or_else(|| {
            Rejection::BadSignature(format!("{SIGNATURE_HEADER} does not start with sha256="))
        })?;
        let expected = hex::decode(hex_mac)
            .map_err(|_| Rejection::BadSignature(format!("{SIGNATURE_HEADER} is not hex")))?;
        webhook::verify_hmac_sha256(secret, &[timestamp.as_bytes(), b".", body], &expected)?;
        webhook::check_age(sent_at, now, rules.max_age_secs)
    }

    fn map(&self, tenant: &str, body: &[u8], rules: &Rules) -> Result<Inbound, Rejection> {
        let payload: Value = serde_json::from_slice(body)
            .map_err(|e| Rejection::BadPayload(format!("not JSON: {e}")))?;
        if !payload.is_object() {
            return Err(Rejection::BadPayload(
                "body is not a JSON object".to_owned(),
            ));
        }
        let event = payload
            .get("event")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("event"))?;
        match event {
            "message_created" => map_message_created(tenant, &payload, rules),
            "conversation_created" => map_conversation_created(tenant, &payload, rules),
            "conversation_status_changed" => map_status_changed(tenant, &payload),
            "message_updated" => map_rating(tenant, &payload),
            other => Ok(Inbound::Ignored(format!("event {other} is not mapped"))),
        }
    }

    fn write_back(
        &self,
        target: &Target,
        actions: &[pb::Action],
        reply: Option<&str>,
        rules: &Rules,
    ) -> Vec<RestCall> {
        write_back_calls(target, actions, reply, rules)
    }

    /// The conversation's latest messages, newest page
    /// (https://developers.chatwoot.com/api-reference/messages/get-messages).
    fn recent_notes(&self, target: &Target) -> Option<String> {
        Some(format!(
            "/api/v1/accounts/{}/conversations/{}/messages",
            target.account_id, target.ticket_id
        ))
    }

    fn auth_headers(&self, credentials: &Credentials) -> Result<http::HeaderMap, String> {
        let token = credentials.token.expose_secret().trim();
        if token.is_empty() {
            return Err("the Chatwoot access token is empty".to_owned());
        }
        let mut value = http::HeaderValue::from_str(token)
            .map_err(|_| "the Chatwoot access token is not a valid header value".to_owned())?;
        value.set_sensitive(true);
        let mut headers = http::HeaderMap::new();
        headers.insert("api_access_token", value);
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Ok(headers)
    }
}

/// An id Chatwoot sends as a number (or, from some proxies, a string).
fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

fn str_field<'v>(value: Option<&'v Value>, key: &str) -> Option<&'v str> {
    value?
        .get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MessageType {
    Incoming,
    Outgoing,
    Activity,
    Template,
}

impl MessageType {
    /// `message_type` as `webhook_data` (string) or `push_event_data` (integer) sends it.
    fn parse(value: Option<&Value>) -> Option<Self> {
        match value? {
            Value::String(s) => match s.as_str() {
                "incoming" => Some(Self::Incoming),
                "outgoing" => Some(Self::Outgoing),
                "activity" => Some(Self::Activity),
                "template" => Some(Self::Template),
                _ => None,
            },
            Value::Number(n) => match n.as_u64()? {
                0 => Some(Self::Incoming),
                1 => Some(Self::Outgoing),
                2 => Some(Self::Activity),
                3 => Some(Self::Template),
                _ => None,
            },
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Incoming => "incoming",
            Self::Outgoing => "outgoing",
            Self::Activity => "activity",
            Self::Template => "template",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SenderKind {
    Contact,
    User,
    AgentBot,
    Unknown,
}

/// From the sender's `type` (`contact`, `user`, `agent_bot`) or the message's
/// `sender_type` (`Contact`, `User`, `AgentBot`); older Chatwoot contacts carry no
/// `type`, and only contacts send incoming messages.
fn sender_kind(message: &Value, sender: Option<&Value>, message_type: MessageType) -> SenderKind {
    let named = str_field(sender, "type").or_else(|| str_field(Some(message), "sender_type"));
    match named.map(str::to_ascii_lowercase).as_deref() {
        Some("contact") => SenderKind::Contact,
        Some("user") => SenderKind::User,
        Some("agent_bot" | "agentbot") => SenderKind::AgentBot,
        Some(_) => SenderKind::Unknown,
        None if sender.is_some() && message_type == MessageType::Incoming => SenderKind::Contact,
        None => SenderKind::Unknown,
    }
}

/// One message of a delivery, whichever event carried it.
struct Message<'v> {
    id: String,
    account_id: String,
    conversation_id: String,
    /// The conversation object (`push_data`): channel, contact_inbox, meta.
    conversation: &'v Value,
    message_type: MessageType,
    private: bool,
    content: &'v str,
    sender: Option<&'v Value>,
    sender_id: Option<String>,
    sender_kind: SenderKind,
    created_at: Option<&'v Value>,
}

fn map_message_created(tenant: &str, payload: &Value, rules: &Rules) -> Result<Inbound, Rejection> {
    classify(tenant, &message_of(payload)?, rules)
}

/// The message a `message_created` or `message_updated` delivery is about.
fn message_of(payload: &Value) -> Result<Message<'_>, Rejection> {
    let id = id_text(payload.get("id")).ok_or_else(|| missing("id"))?;
    let conversation = payload
        .get("conversation")
        .filter(|c| c.is_object())
        .ok_or_else(|| missing("conversation"))?;
    let conversation_id =
        id_text(conversation.get("id")).ok_or_else(|| missing("conversation.id"))?;
    let account_id = id_text(payload.get("account").and_then(|a| a.get("id")))
        .or_else(|| id_text(payload.get("account_id")))
        .or_else(|| id_text(conversation.get("account_id")))
        .ok_or_else(|| missing("account.id"))?;
    let message_type =
        MessageType::parse(payload.get("message_type")).ok_or_else(|| missing("message_type"))?;
    let sender = payload.get("sender").filter(|s| s.is_object());
    let message = Message {
        id,
        account_id,
        conversation_id,
        conversation,
        message_type,
        private: payload
            .get("private")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        content: payload.get("content").and_then(Value::as_str).unwrap_or(""),
        sender,
        sender_id: id_text(sender.and_then(|s| s.get("id"))),
        sender_kind: sender_kind(payload, sender, message_type),
        created_at: payload.get("created_at"),
    };
    Ok(message)
}

/// A conversation resolved is the ticket's solve (`conversation_status_changed`
/// with `status: resolved`; the payload is the conversation, as for
/// `conversation_created`). Its key names the conversation and its last
/// activity, so that a conversation resolved again after a reopen is another.
fn map_status_changed(tenant: &str, payload: &Value) -> Result<Inbound, Rejection> {
    let status = str_field(Some(payload), "status").unwrap_or_default();
    if status != "resolved" {
        return Ok(Inbound::Ignored(format!(
            "conversation status '{status}' is not a solve"
        )));
    }
    let conversation_id = id_text(payload.get("id")).ok_or_else(|| missing("id"))?;
    let account_id = id_text(payload.get("account").and_then(|a| a.get("id")))
        .or_else(|| id_text(payload.get("account_id")))
        .or_else(|| {
            payload
                .get("messages")
                .and_then(Value::as_array)
                .and_then(|messages| messages.iter().find_map(|m| id_text(m.get("account_id"))))
        })
        .ok_or_else(|| missing("messages[].account_id"))?;
    // `timestamp` is the conversation's last activity before the resolution:
    // it tells one resolution from the next, but it dates none (a conversation
    // resolved after a week of silence was not solved a week ago), so the solve
    // counts when it arrives.
    let key = format!(
        "resolved:{conversation_id}:{}",
        id_text(payload.get("timestamp")).unwrap_or_default()
    );
    let contact = payload.get("meta").and_then(|m| m.get("sender"));
    let message = Message {
        id: conversation_id.clone(),
        account_id,
        conversation_id,
        conversation: payload,
        message_type: MessageType::Activity,
        private: false,
        content: "",
        sender: contact,
        sender_id: id_text(contact.and_then(|c| c.get("id"))),
        sender_kind: SenderKind::Contact,
        created_at: None,
    };
    job(tenant, &message, pb::EventKind::TicketSolved, "", &key, &[])
}

/// A CSAT survey answered: Chatwoot updates its `input_csat` message with
/// `content_attributes.submitted_values.csat_survey_response` (`rating` 1 to 5,
/// `feedback_message`) and sends `message_updated`. Another rating of the same
/// survey is another event.
fn map_rating(tenant: &str, payload: &Value) -> Result<Inbound, Rejection> {
    let response = payload.pointer("/content_attributes/submitted_values/csat_survey_response");
    let rating = id_text(response.and_then(|r| r.get("rating")));
    let (Some("input_csat"), Some(rating)) = (str_field(Some(payload), "content_type"), rating)
    else {
        return Ok(Inbound::Ignored(
            "message_updated of a message that is no answered rating survey".to_owned(),
        ));
    };
    let message = message_of(payload)?;
    let feedback = str_field(response, "feedback_message").unwrap_or_default();
    let key = format!("rating:{}:{rating}", message.id);
    let scale = [
        ("csat.score", rating.clone()),
        ("csat.scale", "5".to_owned()),
    ];
    job(
        tenant,
        &message,
        pb::EventKind::SatisfactionRated,
        feedback,
        &key,
        &scale,
    )
}

fn map_conversation_created(
    tenant: &str,
    payload: &Value,
    rules: &Rules,
) -> Result<Inbound, Rejection> {
    let conversation_id = id_text(payload.get("id")).ok_or_else(|| missing("id"))?;
    let messages = payload
        .get("messages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let first = messages.iter().find(|m| {
        MessageType::parse(m.get("message_type")) == Some(MessageType::Incoming)
            && m.get("content")
                .and_then(Value::as_str)
                .is_some_and(|c| !c.trim().is_empty())
    });
    let Some(first) = first else {
        return Ok(Inbound::Ignored(
            "conversation created without a first message".to_owned(),
        ));
    };
    let id = id_text(first.get("id")).ok_or_else(|| missing("messages[].id"))?;
    let account_id = id_text(payload.get("account").and_then(|a| a.get("id")))
        .or_else(|| id_text(payload.get("account_id")))
        .or_else(|| id_text(first.get("account_id")))
        .ok_or_else(|| missing("messages[].account_id"))?;
    let sender = first
        .get("sender")
        .filter(|s| s.is_object())
        .or_else(|| payload.get("meta").and_then(|m| m.get("sender")));
    let message = Message {
        id,
        account_id,
        conversation_id,
        conversation: payload,
        message_type: MessageType::Incoming,
        private: first
            .get("private")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        content: first.get("content").and_then(Value::as_str).unwrap_or(""),
        sender,
        sender_id: id_text(first.get("sender_id"))
            .or_else(|| id_text(sender.and_then(|s| s.get("id")))),
        sender_kind: sender_kind(first, sender, MessageType::Incoming),
        created_at: first.get("created_at"),
    };
    classify(tenant, &message, rules)
}

/// Loop prevention and the choice between a customer message, an agent's reply and
/// nothing.
fn classify(tenant: &str, message: &Message<'_>, rules: &Rules) -> Result<Inbound, Rejection> {
    let by_us = message.sender_kind != SenderKind::Contact
        && message
            .sender_id
            .as_ref()
            .is_some_and(|id| rules.bot_author_ids.iter().any(|bot| bot.trim() == id));
    if by_us {
        return Ok(Inbound::Ignored(format!(
            "message {} is by the bridge's own user",
            message.id
        )));
    }
    if rules.marker.is_on(
        message.content,
        &message.account_id,
        &message.conversation_id,
    ) {
        return Ok(Inbound::Ignored(format!(
            "message {} carries the bridge's mark",
            message.id
        )));
    }
    if message.private {
        let prefix = rules.agent_prefix.trim();
        let draft = (message.sender_kind == SenderKind::User && !prefix.is_empty())
            .then(|| message.content.trim_start().strip_prefix(prefix))
            .flatten();
        return match draft.map(str::trim) {
            Some(text) if !text.is_empty() => job(
                tenant,
                message,
                pb::EventKind::AgentReplyDrafted,
                text,
                &format!("message:{}", message.id),
                &[],
            ),
            Some(_) => Ok(Inbound::Ignored(format!(
                "agent reply note {} has no text",
                message.id
            ))),
            None => Ok(Inbound::Ignored(format!(
                "private note {} is not an agent reply",
                message.id
            ))),
        };
    }
    if message.message_type != MessageType::Incoming {
        return Ok(Inbound::Ignored(format!(
            "{} message {} is not from the customer",
            message.message_type.name(),
            message.id
        )));
    }
    if message.sender_kind != SenderKind::Contact {
        return Ok(Inbound::Ignored(format!(
            "incoming message {} is not by a contact",
            message.id
        )));
    }
    let text = message.content.trim();
    if text.is_empty() {
        return Ok(Inbound::Ignored(format!(
            "message {} has no text",
            message.id
        )));
    }
    job(
        tenant,
        message,
        pb::EventKind::CustomerMessage,
        text,
        &format!("message:{}", message.id),
        &[],
    )
}

/// The job of `message`, keyed `chatwoot:<account>:<key>`, with `extra`
/// attributes.
fn job(
    tenant: &str,
    message: &Message<'_>,
    kind: pb::EventKind,
    text: &str,
    key: &str,
    extra: &[(&str, String)],
) -> Result<Inbound, Rejection> {
    let delivery_key = format!("chatwoot:{}:{key}", message.account_id);
    let (channel, custom_channel) = channel(message.conversation);
    let agent_reply = kind == pb::EventKind::AgentReplyDrafted;
    let contact = if message.sender_kind == SenderKind::Contact {
        message.sender
    } else {
        None
    }
    .or_else(|| {
        message
            .conversation
            .get("meta")
            .and_then(|m| m.get("sender"))
    });
    let mut attributes = BTreeMap::new();
    attributes.insert("chatwoot.account_id".to_owned(), message.account_id.clone());
    attributes.insert("chatwoot.message_id".to_owned(), message.id.clone());
    if let Some(inbox) = id_text(message.conversation.get("inbox_id")) {
        attributes.insert("chatwoot.inbox_id".to_owned(), inbox);
    }
    if let Some(raw) = str_field(Some(message.conversation), "channel") {
        attributes.insert("chatwoot.channel".to_owned(), raw.to_owned());
    }
    for (name, value) in extra {
        attributes.insert((*name).to_owned(), value.clone());
    }
    let event = pb::Event {
        tenant_id: tenant.to_owned(),
        event_id: delivery_key.clone(),
        kind: kind as i32,
        ticket_id: message.conversation_id.clone(),
        channel: channel as i32,
        custom_channel,
        customer: Some(customer(contact, message.conversation, channel)),
        agent: agent_reply.then(|| pb::Agent {
            id: message.sender_id.clone().unwrap_or_default(),
            working_language: String::new(),
        }),
        text: text.to_owned(),
        occurred_at: occurred_at(message.created_at)?,
        attributes,
        ..Default::default()
    };
    let event_json = crate::json::to_json("crossdesk.v1.Event", &event)
        .map_err(|e| Rejection::BadPayload(format!("cannot encode the event: {e}")))?;
    Ok(Inbound::Job(Job {
        delivery_key,
        event_json,
        target: Target {
            ticket_id: message.conversation_id.clone(),
            account_id: message.account_id.clone(),
            tags: message
                .conversation
                .get("labels")
                .and_then(Value::as_array)
                .map(|labels| {
                    labels
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            fields: message
                .conversation
                .get("custom_attributes")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        },
        agent_reply,
        customer_looked_up: false,
        traceparent: None,
    }))
}

/// The conversation's `channel` (the inbox's channel class).
fn channel(conversation: &Value) -> (pb::Channel, String) {
    let Some(raw) = str_field(Some(conversation), "channel") else {
        return (pb::Channel::Unspecified, String::new());
    };
    let source = str_field(conversation.get("contact_inbox"), "source_id").unwrap_or("");
    let name = raw.strip_prefix("Channel::").unwrap_or(raw);
    // `Channel::` alone names no channel. As a custom channel it would have no
    // name, which the sidecar refuses (INVALID_ARGUMENT): the job would go to the
    // dead-letter list (fuzz/regressions/chatwoot/empty-channel-class.txt).
    if name.is_empty() {
        return (pb::Channel::Unspecified, String::new());
    }
    let mapped = match name {
        "Whatsapp" => pb::Channel::Whatsapp,
        // Twilio carries WhatsApp too: its source ids are `whatsapp:+...`.
        "TwilioSms" if source.starts_with("whatsapp:") => pb::Channel::Whatsapp,
        "TwilioSms" | "Sms" => pb::Channel::Sms,
        "FacebookPage" => pb::Channel::Facebook,
        "WebWidget" => pb::Channel::WebChat,
        "Email" => pb::Channel::Email,
        "Api" => pb::Channel::Api,
        "Voice" => pb::Channel::Phone,
        _ => pb::Channel::Custom,
    };
    let custom = if mapped == pb::Channel::Custom {
        to_snake(name)
    } else {
        String::new()
    };
    (mapped, custom)
}

/// `TwitterProfile` → `twitter_profile`.
fn to_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn customer(contact: Option<&Value>, conversation: &Value, channel: pb::Channel) -> pb::Customer {
    let mut external_ids = BTreeMap::new();
    let email = str_field(contact, "email");
    let phone = str_field(contact, "phone_number");
    if let Some(email) = email {
        external_ids.insert("email".to_owned(), email.to_owned());
    }
    if let Some(phone) = phone {
        external_ids.insert("phone".to_owned(), phone.to_owned());
    }
    if let Some(identifier) = str_field(contact, "identifier") {
        external_ids.insert("identifier".to_owned(), identifier.to_owned());
    }
    if channel == pb::Channel::Whatsapp {
        // The WhatsApp id: the contact's number, else the inbox source id (the wa_id,
        // digits without `+`; `whatsapp:+...` on Twilio).
        let source = str_field(conversation.get("contact_inbox"), "source_id")
            .map(|s| s.strip_prefix("whatsapp:").unwrap_or(s));
        if let Some(wa) = phone.or(source) {
            external_ids.insert("whatsapp".to_owned(), wa.to_owned());
        }
    }
    let extra = contact.and_then(|c| c.get("additional_attributes"));
    let country = str_field(extra, "country_code")
        .filter(|c| c.len() == 2)
        .map(str::to_ascii_uppercase)
        .unwrap_or_default();
    // The web widget records the visitor's browser language on the conversation.
    let locale = str_field(
        conversation.get("additional_attributes"),
        "browser_language",
    )
    .unwrap_or_default()
    .to_owned();
    pb::Customer {
        id: id_text(contact.and_then(|c| c.get("id"))).unwrap_or_default(),
        locale,
        country,
        time_zone: String::new(),
        display_name: str_field(contact, "name").unwrap_or_default().to_owned(),
        external_ids,
    }
}

/// `created_at`: ISO 8601 in `webhook_data` (`2026-11-24T10:00:00.000Z`, or
/// `2026-11-24 10:00:00 UTC` in older releases), unix seconds in `push_event_data`.
fn occurred_at(value: Option<&Value>) -> Result<Option<prost_types::Timestamp>, Rejection> {
    let bad = || Rejection::BadPayload("field `created_at` is not a time".to_owned());
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => webhook::unix_timestamp(n).map(Some).ok_or_else(bad),
        Some(Value::String(s)) => {
            let s = s.trim();
            let normal = match s.strip_suffix(" UTC") {
                Some(rest) => format!("{rest}Z"),
                None => s.to_owned(),
            };
            normal
                .parse::<prost_types::Timestamp>()
                .ok()
                .and_then(|t| webhook::timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
                .map(Some)
                .ok_or_else(bad)
        }
        Some(_) => Err(bad()),
    }
}

/// What a route does on Chatwoot: the assignment its one request carries (an
/// agent, else a team: the endpoint takes one of them), and note lines, worded
/// as on the other helpdesks, for its reason and for what it cannot apply (the
/// other of the two, a non-numeric id, the priority).
fn routing(route: &pb::Routing) -> (Option<Value>, Vec<String>) {
    let agent = route.agent_id.trim();
    let team = route.group.trim();
    let priority = route.priority.trim();
    let reason = route.reason.trim();
    let mut unapplied = Vec::new();
    let assignment = if let Ok(id) = agent.parse::<u64>() {
        Some(json!({ "assignee_id": id }))
    } else if let Ok(id) = team.parse::<u64>() {
        Some(json!({ "team_id": id }))
    } else {
        None
    };
    let assigned = |key: &str| assignment.as_ref().is_some_and(|a| a.get(key).is_some());
    if !team.is_empty() && !assigned("team_id") {
        unapplied.push(format!("team {team}"));
    }
    if !agent.is_empty() && !assigned("assignee_id") {
        unapplied.push(format!("agent {agent}"));
    }
    if !priority.is_empty() {
        unapplied.push(format!("priority {priority}"));
    }
    let mut lines = Vec::new();
    if !reason.is_empty() {
        lines.push(format!("Routing: {reason}"));
    }
    if !unapplied.is_empty() {
        lines.push(format!("Suggested routing: {}", unapplied.join(", ")));
    }
    (assignment, lines)
}

/// The requests that write `actions` back, one per kind of write.
fn write_back_calls(
    target: &Target,
    actions: &[pb::Action],
    reply: Option<&str>,
    rules: &Rules,
) -> Vec<RestCall> {
    use pb::action::Kind;

    let mut notes: Vec<String> = Vec::new();
    let mut auto_replies: Vec<&str> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut assignment: Option<Value> = None;
    for action in actions {
        match &action.kind {
            Some(Kind::InternalNote(text)) if !text.trim().is_empty() => {
                notes.push(text.trim().to_owned());
            }
            // Chatwoot has no draft to replace: outside an agent's reply (whose final
            // text comes as `reply`) the suggestion is left for the agent as a note.
            Some(Kind::ReplaceDraft(text)) if reply.is_none() && !text.trim().is_empty() => {
                notes.push(format!("Suggested reply:\n{}", text.trim()));
            }
            Some(Kind::AutoReply(text)) if !text.trim().is_empty() => {
                auto_replies.push(text.trim());
            }
            Some(Kind::AddTags(tags)) => {
                for tag in &tags.tags {
                    super::writes::add_tag(&mut labels, tag);
                }
            }
            Some(Kind::SetFields(set)) => {
                fields.extend(set.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            Some(Kind::Recommend(recs)) if !recs.items.is_empty() => {
                let lines: Vec<String> = recs
                    .items
                    .iter()
                    .map(|r| {
                        let mut line = format!("- {} ({} {})", r.title, r.kind, r.id);
                        if !r.reason.is_empty() {
                            line.push_str(&format!(": {}", r.reason));
                        }
                        line
                    })
                    .collect();
                notes.push(format!("Recommended:\n{}", lines.join("\n")));
            }
            Some(Kind::Route(route)) => {
                let (applied, line) = routing(route);
                if applied.is_some() {
                    assignment = applied;
                }
                notes.extend(line);
            }
            Some(Kind::FlagForReview(flag)) => {
                super::writes::add_tag(&mut labels, REVIEW_LABEL);
                let mut line = "Flagged for review".to_owned();
                if !flag.category.is_empty() {
                    line.push_str(&format!(" ({})", flag.category));
                }
                if !flag.reason.is_empty() {
                    line.push_str(&format!(": {}", flag.reason));
                }
                notes.push(line);
            }
            _ => {}
        }
    }

    // Each value as its attribute's type wants it; one that is not of that type
    // goes into the note instead.
    let mut typed = Vec::with_capacity(fields.len());
    for (name, text) in fields {
        match rules.field_value(&name, &text) {
            Ok(value) => typed.push((name, value)),
            Err(line) => notes.push(line),
        }
    }
    let base = format!(
        "/api/v1/accounts/{}/conversations/{}",
        target.account_id, target.ticket_id
    );
    let mut calls = Vec::new();
    let public = match reply.map(str::trim).filter(|r| !r.is_empty()) {
        Some(reply) => Some(reply.to_owned()),
        // A batch's messages each got the same offline notice, say: the
        // customer is sent the last, once (as on the other helpdesks).
        None => auto_replies.last().map(|text| (*text).to_owned()),
    };
    if let Some(content) = public {
        calls.push(post(
            format!("{base}/messages"),
            json!({ "content": content, "message_type": "outgoing", "private": false }),
        ));
    }
    if let Some(content) =
        super::writes::note_body(notes, rules.note_line(target).as_deref(), rules.notes)
    {
        calls.push(RestCall {
            note: true,
            ..post(
                format!("{base}/messages"),
                json!({ "content": content, "message_type": "outgoing", "private": true }),
            )
        });
    }
    // Chatwoot's labels endpoint *replaces* the conversation's labels with the ones
    // sent (LabelConcern#create → update_labels) and drops titles the account does
    // not define: the labels it has when the call is made go along, read then (the
    // webhook's, when they cannot be). Whether there is a call at all is decided on
    // the webhook's labels, so that a retry makes the same calls as the first
    // attempt: nothing new to them, no request.
    let mut all_labels = target.tags.clone();
    for label in &labels {
        super::writes::add_tag(&mut all_labels, label);
    }
    if all_labels.len() > target.tags.len() {
        calls.push(RestCall {
            whole_set: Some(WholeSet {
                read: format!("{base}/labels"),
                pointer: "/payload".to_owned(),
                field: "labels".to_owned(),
                additions: json!(labels),
            }),
            ..post(format!("{base}/labels"), json!({ "labels": all_labels }))
        });
    }
    if !typed.is_empty() {
        // The endpoint replaces the conversation's custom attributes with those
        // sent (ConversationCustomAttributesConcern): the ones it has go along, as
        // the labels do, with the plugins' over them.
        let mut map: Map<String, Value> = target.fields.clone();
        let before = map.clone();
        let additions: Map<String, Value> = typed.into_iter().collect();
        map.extend(additions.clone());
        if map != before {
            calls.push(RestCall {
                whole_set: Some(WholeSet {
                    read: base.clone(),
                    pointer: "/custom_attributes".to_owned(),
                    field: "custom_attributes".to_owned(),
                    additions: Value::Object(additions),
                }),
                ..post(
                    format!("{base}/custom_attributes"),
                    json!({ "custom_attributes": map }),
                )
            });
        }
    }
    if let Some(body) = assignment {
        calls.push(post(format!("{base}/assignments"), body));
    }
    calls
}

fn post(path: String, body: Value) -> RestCall {
    RestCall {
        method: http::Method::POST,
        path,
        body,
        note: false,
        whole_set: None,
        fallback: None,
    }
}

#[cfg(test)]
mod tests;
