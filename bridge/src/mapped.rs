//! A helpdesk described by a mapping file instead of code: how its webhooks are
//! authenticated, where an event's fields are in its payload, and which REST
//! requests write actions back. Attaching another helpdesk is writing such a file
//! (`mapping = "FILE"` on an endpoint); the ones shipped with Crossdesk are
//! embedded ([`builtin`]).
//!
//! The mapping says *where* things are; the rules every helpdesk shares are here:
//! loop prevention (the bridge's own author ids and mark), an agent's internal
//! note becoming the public reply only with the agent prefix, empty messages
//! ignored, a missing field named in the rejection, and write-back requests to the
//! same method and path merged into one when their bodies agree (helpdesks cap
//! updates per ticket). The webhook's signature and its replay defence are in
//! `signature`, the write-back requests in `requests`. The format's reference is
//! in `examples/freshdesk/README.md`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::types::{
    Credentials, Fallback, Helpdesk, Inbound, Job, Rejection, ReplayKey, RestCall, Rules, Target,
};
use super::webhook;
use crate::pb;

mod requests;
mod signature;
use signature::Signature;

/// Mapping files shipped with Crossdesk, by helpdesk name.
const BUILTIN: &[(&str, &str)] = &[
    ("zendesk", include_str!("mappings/zendesk.toml")),
    ("freshdesk", include_str!("mappings/freshdesk.toml")),
];

/// The mapping shipped with Crossdesk for `name`, if any.
pub fn builtin(name: &str) -> Option<Result<Mapped, MappingError>> {
    BUILTIN
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, text)| Mapped::parse(text))
}

/// Names of the shipped mappings.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(name, _)| *name)
}

/// Why a mapping file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// Where and what, never the file's text (see `toml_errors`).
    #[error("mapping file: {0}")]
    Toml(String),
    #[error("mapping file: {0}")]
    Invalid(String),
}

/// A helpdesk run from its mapping file.
#[derive(Debug, Clone)]
pub struct Mapped {
    mapping: Mapping,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mapping {
    /// The helpdesk's name: the prefix of delivery keys and attributes.
    name: String,
    signature: Signature,
    auth: Auth,
    inbound: InboundMapping,
    /// The helpdesk's channel values (as text) → ours (`email`, `web-chat`,
    /// `whatsapp`, `facebook`, `phone`, `sms`, `api`); others become custom channels.
    #[serde(default)]
    channels: BTreeMap<String, String>,
    #[serde(default)]
    lookup: Option<Lookup>,
    write_back: WriteBack,
    /// The API path of the ticket's comments, newest first (`{ticket}`,
    /// `{account}`): see [`Helpdesk::recent_notes`].
    #[serde(default)]
    recent_notes: Option<String>,
}

/// How the bridge's API requests authenticate, from templates over `{user}` and
/// `{token}` (the endpoint's `api_user` and API token).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "scheme", rename_all = "kebab-case", deny_unknown_fields)]
enum Auth {
    Basic { user: String, password: String },
    Header { header: String, value: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct InboundMapping {
    /// Tried in order; the first whose `when` holds maps the delivery.
    rules: Vec<Rule>,
    /// Where each field is, as JSON pointers (RFC 6901) into the payload, or a list
    /// of them (the first with a value wins); a rule can say otherwise.
    fields: BTreeMap<Field, Pointers>,
    /// Event attributes (`name` → pointers), for plugins that want more; a list of
    /// texts is joined with spaces.
    #[serde(default)]
    attributes: BTreeMap<String, Pointers>,
    /// Values that mean "none" (Zendesk writes a missing id as `"0"`), in every
    /// field but the message's text: a customer may answer a menu with `0`.
    #[serde(default)]
    absent: Vec<String>,
    /// Where the delivery says what happened, to name it when no rule maps it.
    #[serde(default)]
    event_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    /// Pointer → the value (or one of the values) it must have.
    #[serde(default)]
    when: BTreeMap<String, Value>,
    /// Pointer → a value (or values) it must not have; a missing value is not one.
    #[serde(default)]
    unless: BTreeMap<String, Value>,
    kind: RuleKind,
    /// Fields read elsewhere for the deliveries of this rule.
    #[serde(default)]
    fields: BTreeMap<Field, Pointers>,
    /// Pointers a delivery of this rule must have: one missing is refused (`400`)
    /// by name.
    #[serde(default)]
    require: Vec<String>,
    /// Why an `ignore` rule ignores, in the webhook's answer.
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RuleKind {
    /// The customer wrote.
    CustomerMessage,
    /// An agent's internal note: their reply to translate when it starts with the
    /// endpoint's agent prefix, otherwise ignored.
    AgentNote,
    /// A new ticket; its text is the first message.
    TicketCreated,
    /// The ticket was solved (reports: resolution, reopens).
    TicketSolved,
    /// The customer rated the ticket: its score in the event's attributes
    /// `csat.score` (and `csat.scale`, 5 if absent; or `good` / `bad`).
    SatisfactionRated,
    /// Acknowledged and dropped.
    Ignore,
}

/// The fields of an event a mapping says where to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Field {
    /// Required.
    TicketId,
    /// Identifies the message (or the ticket, for a new ticket): with the ticket,
    /// the delivery key, so a redelivery is queued once. Without it (helpdesks whose
    /// webhooks carry no message id) the key is a digest of the payload: a
    /// redelivery is the same bytes, but two identical payloads count as one.
    MessageId,
    /// Required.
    Text,
    AuthorId,
    AccountId,
    OccurredAt,
    Channel,
    CustomerId,
    CustomerName,
    CustomerEmail,
    CustomerPhone,
    CustomerLocale,
    CustomerTimeZone,
    CustomerCountry,
}

/// One JSON pointer, or several tried in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Pointers {
    One(String),
    Many(Vec<String>),
}

impl Pointers {
    fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self {
            Pointers::One(p) => (Some(p.as_str()), &[][..]),
            Pointers::Many(ps) => (None, ps.as_slice()),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }
}

/// Reading a customer from the helpdesk's API before the event runs, for webhooks
/// that name the customer only by id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Lookup {
    /// The API path to `GET`, with `{customer_id}` (looked up only when it is made
    /// of letters, digits, `-` and `_`) or `{customer_id:number}` (only digits).
    path: String,
    /// Pointers into the answer.
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    /// When this is `true`, the phone number is shared and identifies nobody.
    #[serde(default)]
    phone_shared: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// One request template per kind of write.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WriteBack {
    note: Request,
    reply: Request,
    #[serde(default)]
    tags: Option<Request>,
    #[serde(default)]
    fields: Option<Request>,
    #[serde(default)]
    route: Option<Request>,
    /// Our priorities (`low`, `normal`, `high`, `urgent`) as the helpdesk writes them.
    #[serde(default)]
    priorities: BTreeMap<String, Value>,
}

/// A request template: `{ticket}` and `{account}` in the path; in the body, a
/// string that is exactly one placeholder becomes that value (`{text}`, `{tags}`
/// as a list, `{fields}` as an object, `{group}`, `{agent}`, `{priority}`;
/// `{group:number}` and `{agent:number}` as numbers, `{text:html}` as HTML), and a
/// key whose value is missing is left out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    method: String,
    path: String,
    body: Value,
}

impl Mapped {
    /// Reads and checks a mapping file.
    pub fn load(path: &std::path::Path) -> Result<Mapped, MappingError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| MappingError::Invalid(format!("cannot read {}: {e}", path.display())))?;
        Mapped::parse(&text)
    }

    /// Parses and checks a mapping.
    pub fn parse(text: &str) -> Result<Mapped, MappingError> {
        let mapping: Mapping = toml::from_str(text)
            .map_err(|e| MappingError::Toml(crossdesk_proto::toml_errors::describe(text, &e)))?;
        let invalid = |m: String| Err(MappingError::Invalid(m));
        if mapping.name.trim().is_empty() {
            return invalid("`name` is empty".into());
        }
        let inbound = &mapping.inbound;
        let field_pointers = inbound
            .fields
            .values()
            .chain(inbound.attributes.values())
            .chain(inbound.rules.iter().flat_map(|r| r.fields.values()))
            .flat_map(Pointers::iter);
        let rule_pointers = inbound
            .rules
            .iter()
            .flat_map(|r| r.when.keys().chain(r.unless.keys()).chain(&r.require))
            .map(String::as_str);
        let lookup_pointers = mapping.lookup.iter().flat_map(|l| {
            [
                &l.email,
                &l.phone,
                &l.phone_shared,
                &l.external_id,
                &l.locale,
                &l.time_zone,
                &l.name,
            ]
            .into_iter()
            .flatten()
            .map(String::as_str)
        });
        for pointer in field_pointers
            .chain(rule_pointers)
            .chain(lookup_pointers)
            .chain(inbound.event_type.as_deref())
        {
            if !pointer.starts_with('/') {
                return invalid(format!(
                    "`{pointer}` is not a JSON pointer (it must start with /)"
                ));
            }
        }
        for rule in &inbound.rules {
            for field in [Field::TicketId, Field::Text] {
                if !rule.fields.contains_key(&field) && !inbound.fields.contains_key(&field) {
                    return invalid(format!(
                        "`inbound.fields` has no {field:?}: a {:?} rule needs it",
                        rule.kind
                    ));
                }
            }
        }
        if let Some(lookup) = &mapping.lookup
            && (!lookup.path.starts_with('/') || !lookup.path.contains("{customer_id"))
        {
            return invalid(format!(
                "lookup path `{}` must start with / and contain {{customer_id}}",
                lookup.path
            ));
        }
        if let Some(path) = &mapping.recent_notes
            && (!path.starts_with('/') || !path.contains("{ticket}"))
        {
            return invalid(format!(
                "recent_notes path `{path}` must start with / and contain {{ticket}}"
            ));
        }
        if mapping.inbound.rules.is_empty() {
            return invalid("`inbound.rules` is empty: nothing would be mapped".into());
        }
        for (theirs, ours) in &mapping.channels {
            if crossdesk_proto::channel::channel_by_name(ours).is_none() {
                return invalid(format!(
                    "channel `{theirs}` maps to unknown channel `{ours}`"
                ));
            }
        }
        let write = &mapping.write_back;
        for request in mapping.requests() {
            if http::Method::from_bytes(request.method.as_bytes()).is_err() {
                return invalid(format!("`{}` is not an HTTP method", request.method));
            }
            if !request.path.starts_with('/') {
                return invalid(format!("request path `{}` must start with /", request.path));
            }
        }
        if mapping.needs_account() {
            for rule in inbound.rules.iter().filter(|r| r.kind != RuleKind::Ignore) {
                if !rule.fields.contains_key(&Field::AccountId)
                    && !inbound.fields.contains_key(&Field::AccountId)
                {
                    return invalid(format!(
                        "write-back paths use {{account}} but a {:?} rule reads no account_id",
                        rule.kind
                    ));
                }
            }
        }
        for key in write.priorities.keys() {
            if !matches!(key.as_str(), "low" | "normal" | "high" | "urgent") {
                return invalid(format!(
                    "priority `{key}`: ours are low, normal, high and urgent"
                ));
            }
        }
        mapping.signature.check().map_err(MappingError::Invalid)?;
        Ok(Mapped { mapping })
    }

    fn channel(&self, raw: Option<String>) -> (pb::Channel, String) {
        let Some(raw) = raw else {
            return (pb::Channel::Unspecified, String::new());
        };
        match self
            .mapping
            .channels
            .get(&raw)
            .and_then(|c| crossdesk_proto::channel::channel_by_name(c))
        {
            Some(channel) => (channel, String::new()),
            None => (pb::Channel::Custom, raw),
        }
    }
}

impl Mapping {
    /// Every write-back request template.
    fn requests(&self) -> impl Iterator<Item = &Request> {
        let write = &self.write_back;
        [Some(&write.note), Some(&write.reply)]
            .into_iter()
            .chain([
                write.tags.as_ref(),
                write.fields.as_ref(),
                write.route.as_ref(),
            ])
            .flatten()
    }

    /// Whether write-back paths carry the account (`{account}`).
    fn needs_account(&self) -> bool {
        self.requests().any(|r| r.path.contains("{account}"))
    }
}

/// The value at `pointer` as text: strings trimmed, numbers and booleans written
/// out, a list of those joined with spaces; absent, `null` and empty are `None`.
fn text_at(payload: &Value, pointer: &str) -> Option<String> {
    let scalar = |value: &Value| match value {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match payload.pointer(pointer)? {
        Value::Array(items) => {
            let texts: Vec<String> = items.iter().filter_map(scalar).collect();
            Some(texts.join(" ")).filter(|t| !t.is_empty())
        }
        value => scalar(value),
    }
}

/// A delivery's payload read through a rule's fields.
struct Reader<'m> {
    payload: &'m Value,
    inbound: &'m InboundMapping,
    rule_fields: Option<&'m BTreeMap<Field, Pointers>>,
}

impl<'m> Reader<'m> {
    fn pointers(&self, field: Field) -> Option<&'m Pointers> {
        self.rule_fields
            .and_then(|f| f.get(&field))
            .or_else(|| self.inbound.fields.get(&field))
    }

    /// The text at `pointer`, unless it is one of the mapping's "none" values.
    fn text(&self, pointer: &str) -> Option<String> {
        text_at(self.payload, pointer).filter(|t| !self.inbound.absent.contains(t))
    }

    fn first(&self, pointers: &Pointers) -> Option<String> {
        pointers.iter().find_map(|p| self.text(p))
    }

    fn field(&self, field: Field) -> Option<String> {
        let pointers = self.pointers(field)?;
        match field {
            Field::Text => pointers.iter().find_map(|p| text_at(self.payload, p)),
            _ => self.first(pointers),
        }
    }

    /// A field that must be there; refused naming its (first) pointer.
    fn required(&self, field: Field) -> Result<String, Rejection> {
        self.field(field).ok_or_else(|| {
            let name = self
                .pointers(field)
                .and_then(|p| p.iter().next())
                .unwrap_or("?");
            webhook::missing(name)
        })
    }

    /// An RFC 3339 time or unix seconds (a fraction kept), at the first of the
    /// field's pointers that has a value.
    fn timestamp(&self, field: Field) -> Result<Option<prost_types::Timestamp>, Rejection> {
        let Some(pointers) = self.pointers(field) else {
            return Ok(None);
        };
        let Some((pointer, value)) = pointers.iter().find_map(|p| {
            self.payload
                .pointer(p)
                .filter(|v| !v.is_null())
                .map(|v| (p, v))
        }) else {
            return Ok(None);
        };
        let not_a_time = || Rejection::BadPayload(format!("field `{pointer}` is not a time"));
        match value {
            Value::Number(n) => webhook::unix_timestamp(n).map(Some).ok_or_else(not_a_time),
            Value::String(s) => webhook::parse_rfc3339(s)
                .and_then(|(seconds, nanos)| webhook::timestamp(seconds, nanos))
                .map(Some)
                .ok_or_else(not_a_time),
            _ => Err(webhook::missing(pointer)),
        }
    }

    /// Whether the delivery is one of the bridge's own writes (loop prevention):
    /// by the bridge's user, or carrying the mark the bridge puts on this ticket's
    /// notes (not merely the marker's visible text, which anyone can type).
    fn is_ours(&self, rules: &Rules) -> bool {
        let by_us = self
            .field(Field::AuthorId)
            .is_some_and(|a| rules.bot_author_ids.iter().any(|b| b.trim() == a));
        let marked = || {
            let ticket = self.field(Field::TicketId).unwrap_or_default();
            let account = self.field(Field::AccountId).unwrap_or_default();
            self.field(Field::Text)
                .is_some_and(|t| rules.marker.is_on(&t, &account, &ticket))
        };
        by_us || marked()
    }
}

/// Whether the value at `pointer` is `expected` (or one of `expected`'s values).
fn holds(payload: &Value, pointer: &str, expected: &Value) -> bool {
    let actual = payload.pointer(pointer).unwrap_or(&Value::Null);
    match expected {
        Value::Array(options) => options.iter().any(|o| o == actual),
        one => one == actual,
    }
}

/// `{user}` and `{token}` in a template.
fn credential_template(template: &str, credentials: &Credentials) -> String {
    template
        .replace("{user}", credentials.user.trim())
        .replace("{token}", credentials.token.expose_secret().trim())
}

impl Helpdesk for Mapped {
    fn name(&self) -> &str {
        &self.mapping.name
    }

    fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        secret: &str,
        now: SystemTime,
        rules: &Rules,
    ) -> Result<(), Rejection> {
        self.mapping
            .signature
            .verify(headers, body, secret, now, rules)
    }

    fn replay_key(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Option<ReplayKey>, Rejection> {
        self.mapping.signature.replay_key(headers, body)
    }

    fn map(&self, tenant: &str, body: &[u8], rules: &Rules) -> Result<Inbound, Rejection> {
        let payload: Value = serde_json::from_slice(body)
            .map_err(|e| Rejection::BadPayload(format!("not JSON: {e}")))?;
        if !payload.is_object() {
            return Err(Rejection::BadPayload(
                "body is not a JSON object".to_owned(),
            ));
        }
        let inbound = &self.mapping.inbound;
        let our_own = || {
            Ok(Inbound::Ignored(
                "our own write (loop prevention)".to_owned(),
            ))
        };
        // The bridge's own writes are never work, whatever rule they would match.
        let general = Reader {
            payload: &payload,
            inbound,
            rule_fields: None,
        };
        if general.is_ours(rules) {
            return our_own();
        }
        let Some(rule) = inbound.rules.iter().find(|rule| {
            rule.when
                .iter()
                .all(|(pointer, expected)| holds(&payload, pointer, expected))
                && !rule
                    .unless
                    .iter()
                    .any(|(pointer, refused)| holds(&payload, pointer, refused))
        }) else {
            let what = inbound
                .event_type
                .as_deref()
                .and_then(|p| text_at(&payload, p));
            return Ok(Inbound::Ignored(match what {
                Some(what) => format!("{what} is not mapped"),
                None => "no rule of the mapping matches".to_owned(),
            }));
        };
        if rule.kind == RuleKind::Ignore {
            let reason = rule.reason.as_deref().unwrap_or("the mapping ignores it");
            return Ok(Inbound::Ignored(reason.to_owned()));
        }
        for pointer in &rule.require {
            if payload.pointer(pointer).is_none_or(Value::is_null) {
                return Err(webhook::missing(pointer));
            }
        }
        let read = Reader {
            payload: &payload,
            inbound,
            rule_fields: Some(&rule.fields),
        };
        if read.is_ours(rules) {
            return our_own();
        }
        let ticket_id = read.required(Field::TicketId)?;
        let message_id = match read.pointers(Field::MessageId) {
            Some(_) => read.required(Field::MessageId)?,
            None => {
                use sha2::Digest as _;
                let digest = sha2::Sha256::digest(body);
                format!("sha256-{}", hex::encode(&digest[..16]))
            }
        };
        let text = read.field(Field::Text).unwrap_or_default();
        let author = read.field(Field::AuthorId);
        let (kind, text) = match rule.kind {
            RuleKind::CustomerMessage if text.is_empty() => {
                return Ok(Inbound::Ignored("empty customer message".to_owned()));
            }
            RuleKind::CustomerMessage => (pb::EventKind::CustomerMessage, text),
            RuleKind::TicketCreated => (pb::EventKind::TicketCreated, text),
            RuleKind::TicketSolved => (pb::EventKind::TicketSolved, text),
            RuleKind::SatisfactionRated => (pb::EventKind::SatisfactionRated, text),
            RuleKind::AgentNote => {
                let prefix = rules.agent_prefix.trim();
                match text.strip_prefix(prefix).map(str::trim) {
                    Some(reply) if !prefix.is_empty() && !reply.is_empty() => {
                        (pb::EventKind::AgentReplyDrafted, reply.to_owned())
                    }
                    Some(_) if !prefix.is_empty() => {
                        return Ok(Inbound::Ignored("agent reply note is empty".to_owned()));
                    }
                    _ => {
                        return Ok(Inbound::Ignored(
                            "internal note without the agent reply prefix".to_owned(),
                        ));
                    }
                }
            }
            RuleKind::Ignore => unreachable!("handled above"),
        };
        let name = &self.mapping.name;
        // Without its account, a helpdesk whose paths carry one could not be written to.
        let account_id = if self.mapping.needs_account() {
            read.required(Field::AccountId)?
        } else {
            read.field(Field::AccountId).unwrap_or_default()
        };
        let delivery_key = if account_id.is_empty() {
            format!("{name}:{ticket_id}:{message_id}")
        } else {
            format!("{name}:{account_id}:{ticket_id}:{message_id}")
        };
        let (channel, custom_channel) = self.channel(read.field(Field::Channel));
        let mut external_ids = BTreeMap::new();
        let customer_id = read.field(Field::CustomerId).unwrap_or_default();
        if !customer_id.is_empty() {
            external_ids.insert(name.clone(), customer_id.clone());
        }
        if let Some(email) = read.field(Field::CustomerEmail) {
            external_ids.insert("email".to_owned(), email);
        }
        if let Some(phone) = read.field(Field::CustomerPhone) {
            if channel == pb::Channel::Whatsapp {
                external_ids.insert("whatsapp".to_owned(), phone.clone());
            }
            external_ids.insert("phone".to_owned(), phone);
        }
        let attributes = inbound
            .attributes
            .iter()
            .filter_map(|(key, pointers)| read.first(pointers).map(|v| (key.clone(), v)))
            .collect();
        let agent_reply = kind == pb::EventKind::AgentReplyDrafted;
        let event = pb::Event {
            tenant_id: tenant.to_owned(),
            event_id: delivery_key.clone(),
            kind: kind as i32,
            ticket_id: ticket_id.clone(),
            channel: channel as i32,
            custom_channel,
            customer: Some(pb::Customer {
                id: customer_id,
                locale: read.field(Field::CustomerLocale).unwrap_or_default(),
                country: read.field(Field::CustomerCountry).unwrap_or_default(),
                time_zone: read.field(Field::CustomerTimeZone).unwrap_or_default(),
                display_name: read.field(Field::CustomerName).unwrap_or_default(),
                external_ids,
            }),
            agent: agent_reply.then(|| pb::Agent {
                id: author.unwrap_or_default(),
                working_language: String::new(),
            }),
            text,
            occurred_at: read.timestamp(Field::OccurredAt)?,
            attributes,
            ..Default::default()
        };
        let event_json = crate::json::to_json("crossdesk.v1.Event", &event)
            .map_err(|e| Rejection::BadPayload(format!("cannot encode the event: {e}")))?;
        Ok(Inbound::Job(Job {
            delivery_key,
            event_json,
            target: Target {
                ticket_id,
                account_id,
                ..Default::default()
            },
            agent_reply,
            customer_looked_up: false,
            traceparent: None,
        }))
    }

    fn recent_notes(&self, target: &Target) -> Option<String> {
        let path = self.mapping.recent_notes.as_ref()?;
        if path.contains("{account}") && target.account_id.is_empty() {
            return None;
        }
        // The ids were checked to be one path segment each when the job was queued.
        Some(
            path.replace("{ticket}", &target.ticket_id)
                .replace("{account}", &target.account_id),
        )
    }

    fn customer_lookup(&self, event: &pb::Event) -> Option<String> {
        let lookup = self.mapping.lookup.as_ref()?;
        let id = event.customer.as_ref()?.id.trim();
        if lookup.path.contains("{customer_id:number}") {
            (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
                .then(|| lookup.path.replace("{customer_id:number}", id))
        } else {
            (!id.is_empty() && crate::types::is_path_safe(id))
                .then(|| lookup.path.replace("{customer_id}", id))
        }
    }

    fn enrich_customer(&self, event: &mut pb::Event, answer: &Value) {
        let Some(lookup) = &self.mapping.lookup else {
            return;
        };
        let text = |pointer: &Option<String>| pointer.as_deref().and_then(|p| text_at(answer, p));
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
        add_id("email", text(&lookup.email));
        // A number several people share (an office's, a family's) identifies nobody.
        let shared = lookup
            .phone_shared
            .as_deref()
            .and_then(|p| answer.pointer(p))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !shared {
            add_id("phone", text(&lookup.phone));
            if on_whatsapp {
                add_id("whatsapp", text(&lookup.phone));
            }
        }
        add_id("external_id", text(&lookup.external_id));
        let fill = |field: &mut String, value: Option<String>| {
            if field.is_empty() {
                *field = value.unwrap_or_default();
            }
        };
        fill(&mut customer.locale, text(&lookup.locale));
        fill(&mut customer.time_zone, text(&lookup.time_zone));
        fill(&mut customer.display_name, text(&lookup.name));
    }

    fn write_back(
        &self,
        target: &Target,
        actions: &[pb::Action],
        reply: Option<&str>,
        rules: &Rules,
    ) -> Vec<RestCall> {
        requests::write_back(&self.mapping.write_back, target, actions, reply, rules)
    }

    fn auth_headers(&self, credentials: &Credentials) -> Result<http::HeaderMap, String> {
        if credentials.token.expose_secret().trim().is_empty() {
            return Err(format!("{} needs an API token", self.mapping.name));
        }
        let templates = match &self.mapping.auth {
            Auth::Basic { user, password } => [user, password],
            Auth::Header { header, value } => [header, value],
        };
        if credentials.user.trim().is_empty() && templates.iter().any(|t| t.contains("{user}")) {
            return Err(format!(
                "{} needs the API user (api_user) with the token",
                self.mapping.name
            ));
        }
        let (name, value) = match &self.mapping.auth {
            Auth::Basic { user, password } => {
                let pair = format!(
                    "{}:{}",
                    credential_template(user, credentials),
                    credential_template(password, credentials)
                );
                (
                    http::header::AUTHORIZATION,
                    format!("Basic {}", BASE64.encode(pair)),
                )
            }
            Auth::Header { header, value } => (
                http::HeaderName::from_bytes(header.as_bytes())
                    .map_err(|_| format!("`{header}` is not a header name"))?,
                credential_template(value, credentials),
            ),
        };
        let mut value = http::HeaderValue::from_str(&value)
            .map_err(|_| "the credentials make an invalid header".to_owned())?;
        value.set_sensitive(true);
        let mut headers = http::HeaderMap::new();
        headers.insert(name, value);
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Ok(headers)
    }
}

#[cfg(test)]
mod tests;
