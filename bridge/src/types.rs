//! What the bridge's parts hand each other: a webhook turned into a job (the event
//! to run and where its actions go back), the actions to write back, and how an
//! attempt at them failed.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where the actions of an event go back to in the helpdesk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The helpdesk's ticket (Zendesk) or conversation (Chatwoot) id.
    pub ticket_id: String,
    /// The account, for helpdesks whose API paths carry it (Chatwoot); empty otherwise.
    #[serde(default)]
    pub account_id: String,
    /// The ticket's tags (labels) when the webhook was sent, for helpdesks whose API
    /// replaces them all (Chatwoot): whether the bridge has new ones to write, and
    /// what it sends with them when the current ones cannot be read ([`WholeSet`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The ticket's custom fields when the webhook was sent, as the helpdesk gave
    /// them, for helpdesks whose API replaces them all (Chatwoot's custom
    /// attributes): as the tags are.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// Whether every character of `id` may stand in one segment of an API path as it
/// is: ASCII letters, digits, `-` and `_` (no `/`, `.`, `?` or `%`).
pub(crate) fn is_path_safe(id: &str) -> bool {
    id.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

impl Target {
    /// Refuses ids that could not be one segment of a write-back path: the
    /// ticket's and account's ids go into the helpdesk's API paths with the
    /// bridge's credentials, so `/`, `..`, `?` or `%` in one (from a payload)
    /// would send a write to another resource.
    pub fn check_ids(&self) -> Result<(), Rejection> {
        let segment = |what: &str, id: &str, required: bool| {
            let ok = (!required || !id.is_empty()) && id.len() <= 128 && is_path_safe(id);
            if ok {
                Ok(())
            } else {
                let shown: String = id.chars().take(64).collect();
                Err(Rejection::BadPayload(format!(
                    "{what} {shown:?} is not an id (1 to 128 ASCII letters, digits, '-', '_')"
                )))
            }
        };
        segment("ticket", &self.ticket_id, true)?;
        segment("account", &self.account_id, false)
    }
}

/// A webhook delivery, mapped: the event to run, or the reason it is ignored.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    Job(Job),
    /// Not for us: our own note coming back (loop), an event kind we do not map, a
    /// message by a bot... The webhook is still acknowledged.
    Ignored(String),
}

/// One unit of work: run `event` through the sidecar, write its actions back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Identifies the delivery across redeliveries (e.g. `zendesk:comment:123`):
    /// the same key twice is queued once.
    pub delivery_key: String,
    /// The event, as proto3 JSON of `crossdesk.v1.Event` (tenant filled in).
    pub event_json: String,
    pub target: Target,
    /// True when the event is an agent's reply written as an internal note with the
    /// configured prefix: its final text goes out as the public reply.
    pub agent_reply: bool,
    /// True once the customer was looked up in the helpdesk and `event_json` carries
    /// what was found: a retry sends the sidecar the same event, not a new lookup's.
    #[serde(default)]
    pub customer_looked_up: bool,
    /// The delivery's W3C `traceparent` header, passed on to the sidecar so that
    /// its spans join the helpdesk's trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// Why a webhook delivery is refused (answered with 401 or 400, not queued).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Missing or wrong signature: 401.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// A good signature with a timestamp too old (or too far ahead): not queued,
    /// which stops replays, and answered `503` with `Retry-After`, for it may
    /// be this replica's clock that is off.
    #[error("stale delivery: {0}")]
    Stale(String),
    /// A signed delivery already received within the endpoint's `max_age_secs`,
    /// for helpdesks whose signature covers no timestamp: acknowledged (200) as a
    /// duplicate, not queued.
    #[error("replayed delivery: {0}")]
    Replayed(String),
    /// The same signed delivery, while its first copy is still being queued:
    /// `503` with `Retry-After`, for the first may yet fail.
    #[error("delivery in progress: {0}")]
    InProgress(String),
    /// Not the payload this helpdesk sends: 400.
    #[error("bad payload: {0}")]
    BadPayload(String),
}

/// A signed delivery as the replay memory knows it: its id (read from the signed
/// body) and its signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReplayKey {
    pub delivery_id: String,
    pub signature: Vec<u8>,
}

/// How a helpdesk's agents and our own writes are recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// An internal note starting with this prefix is an agent's reply to translate
    /// and send as the public reply (e.g. `#reply`).
    pub agent_prefix: String,
    /// Author ids of the bridge's own API user: their comments never trigger the
    /// pipeline again (loop prevention).
    pub bot_author_ids: Vec<String>,
    /// What the bridge puts at the end of every note it writes; a comment carrying
    /// its tag for the ticket is ignored (loop prevention when the author id is
    /// not known).
    pub marker: crate::marker::Marker,
    /// Longest accepted age of a signed delivery, in seconds.
    pub max_age_secs: u64,
    /// Whether a write-back may add an internal note to the ticket.
    pub notes: NotePolicy,
    /// The batch being written back (its lead's delivery key): its note carries a
    /// mark of it ([`crate::marker::Marker::batch_mark`]).
    pub batch: Option<String>,
    /// The helpdesk's custom fields that are not text, by name (or id).
    pub field_types: std::collections::BTreeMap<String, FieldType>,
}

impl Rules {
    /// The line that closes a note written back to `target` under these rules.
    pub fn note_line(&self, target: &Target) -> Option<String> {
        self.marker
            .line(&target.account_id, &target.ticket_id, self.batch.as_deref())
    }

    /// The JSON value of custom field `name` set to `text`, as the field's type
    /// wants it (a plugin's values are text); `Err` with a line for the agent's
    /// note when `text` is not of that type.
    pub fn field_value(&self, name: &str, text: &str) -> Result<serde_json::Value, String> {
        let Some(kind) = self.field_types.get(name) else {
            return Ok(serde_json::Value::String(text.to_owned()));
        };
        let trimmed = text.trim();
        let value = match kind {
            FieldType::Text => Some(serde_json::Value::String(text.to_owned())),
            FieldType::Number => trimmed.parse::<i64>().ok().map(serde_json::Value::from),
            FieldType::Decimal => trimmed
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(serde_json::Value::Number),
            FieldType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Some(serde_json::Value::Bool(true)),
                "false" | "no" | "0" => Some(serde_json::Value::Bool(false)),
                _ => None,
            },
        };
        value.ok_or_else(|| format!("{name}: {text} (not set: the field takes {kind})"))
    }
}

/// What a helpdesk's custom field holds. Helpdesks refuse a value of another type
/// (Freshdesk: "Value set is of type String. It should be a/an Integer").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    /// A whole number.
    Number,
    /// A number with decimals.
    Decimal,
    /// A checkbox: `true`/`false` (`yes`/`no`, `1`/`0` are taken too).
    Boolean,
}

impl std::fmt::Display for FieldType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FieldType::Text => "text",
            FieldType::Number => "a whole number (64 bits)",
            FieldType::Decimal => "a number",
            FieldType::Boolean => "true or false",
        })
    }
}

/// Whether a write-back may add an internal note: helpdesks cap the comments of a
/// ticket (Zendesk: 5,000), so the bridge stops adding notes to a ticket once it
/// has written `max_notes_per_ticket` there; tags, fields, routing and replies go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NotePolicy {
    #[default]
    Write,
    /// The last note the ticket gets from the bridge: it says so.
    Last,
    /// The ticket has had its share of notes.
    Skip,
}

/// One REST request of a write-back, relative to the helpdesk's base URL.
#[derive(Debug, Clone, PartialEq)]
pub struct RestCall {
    pub method: http::Method,
    /// e.g. `/api/v2/tickets/123.json`.
    pub path: String,
    pub body: serde_json::Value,
    /// Whether the request adds an internal note (counted against the ticket's
    /// share of notes).
    pub note: bool,
    /// For a request that replaces a whole set on the ticket: where the set is
    /// read just before it is made, `body` being what is sent when it cannot be.
    pub whole_set: Option<WholeSet>,
    /// What to do when the helpdesk refuses the request as invalid (`400`,
    /// `422`) and it carries a route or fields: its likeliest cause (an agent
    /// not in the group, a value a dropdown lacks), which would otherwise lose
    /// the note merged with them, for good.
    pub fallback: Option<Fallback>,
}

/// See [`RestCall::fallback`].
#[derive(Debug, Clone, PartialEq)]
pub enum Fallback {
    /// Send this body instead: the request without the route and fields, which
    /// its note tells.
    Send(serde_json::Value),
    /// Leave the request out: it carried nothing but a route or fields.
    Leave,
}

/// A set the helpdesk's API replaces whole (Chatwoot's labels, its custom
/// attributes), written as the set read just before the write with the
/// bridge's additions: the webhook's copy of the set may be minutes old when
/// the write is made (debounced, queued, retried), and sending it back would
/// undo what an agent changed meanwhile.
#[derive(Debug, Clone, PartialEq)]
pub struct WholeSet {
    /// The API path (read with `GET`) whose answer holds the set.
    pub read: String,
    /// Where the set is in that answer (a JSON pointer, RFC 6901).
    pub pointer: String,
    /// The field of the request's body that carries the set.
    pub field: String,
    /// What the bridge adds: items of a list (after the current ones, each once)
    /// or keys of an object (over the current ones).
    pub additions: serde_json::Value,
}

impl WholeSet {
    /// The body to send given the read `answer`: `None` when the answer holds no
    /// set of the additions' kind there, `Some(None)` when the set has every
    /// addition already (nothing to write).
    pub fn body(&self, answer: &serde_json::Value) -> Option<Option<serde_json::Value>> {
        use serde_json::Value;
        let current = answer.pointer(&self.pointer)?;
        let set = match (current, &self.additions) {
            (Value::Array(current), Value::Array(additions)) => {
                let mut set = current.clone();
                for item in additions {
                    if !set.contains(item) {
                        set.push(item.clone());
                    }
                }
                (set.len() > current.len()).then_some(Value::Array(set))
            }
            (Value::Object(current), Value::Object(additions)) => {
                let mut set = current.clone();
                set.extend(additions.iter().map(|(k, v)| (k.clone(), v.clone())));
                (&set != current).then_some(Value::Object(set))
            }
            // Chatwoot answers `null` for a conversation without attributes.
            (Value::Null, Value::Object(additions)) => {
                (!additions.is_empty()).then(|| Value::Object(additions.clone()))
            }
            _ => return None,
        };
        Some(set.map(|set| serde_json::json!({ &self.field: set })))
    }
}

/// What a helpdesk integration provides: webhook checks, mapping, write-back.
pub trait Helpdesk: Send + Sync + std::fmt::Debug {
    /// `zendesk`, `chatwoot`, a mapping's name: the prefix of its delivery keys.
    fn name(&self) -> &str;

    /// Checks the delivery's signature over the raw body with the webhook's signing
    /// secret, in constant time, and refuses stale timestamps.
    fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        secret: &str,
        now: std::time::SystemTime,
        rules: &Rules,
    ) -> Result<(), Rejection>;

    /// What identifies a verified delivery for the replay memory, when the
    /// signature covers no timestamp to refuse an old one by: the bridge refuses a
    /// key it has seen within `max_age_secs`. `None`: the signature's age check
    /// (or its scheme) is all there is.
    fn replay_key(
        &self,
        _headers: &http::HeaderMap,
        _body: &[u8],
    ) -> Result<Option<ReplayKey>, Rejection> {
        Ok(None)
    }

    /// Maps a verified delivery to a job for `tenant`, or says why it is ignored.
    fn map(&self, tenant: &str, body: &[u8], rules: &Rules) -> Result<Inbound, Rejection>;

    /// The requests that write an event's actions back, batched so that one event
    /// costs as few requests as the API allows (helpdesks cap updates per ticket).
    /// `reply` is the text to post as the public reply for an agent's reply job.
    fn write_back(
        &self,
        target: &Target,
        actions: &[crate::pb::Action],
        reply: Option<&str>,
        rules: &Rules,
    ) -> Vec<RestCall>;

    /// The API path (read with `GET`) that tells more about the event's customer than
    /// the webhook does, e.g. Zendesk's requester in the Users API; `None` when there
    /// is nothing to look up.
    fn customer_lookup(&self, _event: &crate::pb::Event) -> Option<String> {
        None
    }

    /// Adds what the lookup's answer says about the customer (identities such as
    /// e-mail, phone and WhatsApp number, locale, time zone) to the event, so that
    /// profiles unify across channels. What the webhook itself gave is kept.
    fn enrich_customer(&self, _event: &mut crate::pb::Event, _answer: &serde_json::Value) {}

    /// The API path (read with `GET`) listing the ticket's most recent comments,
    /// where a worker taking over an interrupted write-back looks for its note's
    /// mark, so the note is not written twice; `None` when the helpdesk has no
    /// such list (the interrupted call is made again).
    fn recent_notes(&self, _target: &Target) -> Option<String> {
        None
    }

    /// Headers that authenticate the bridge's API requests, from the configured
    /// credentials (e.g. Zendesk: `email/token:API_TOKEN` as basic auth; Chatwoot:
    /// `api_access_token`).
    fn auth_headers(&self, credentials: &Credentials) -> Result<http::HeaderMap, String>;
}

/// The bridge's credentials for a helpdesk's API.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// Zendesk: the agent e-mail the API token belongs to.
    pub user: String,
    /// Zendesk API token; Chatwoot access token.
    pub token: secrecy::SecretString,
}

/// How an attempt at a job went wrong.
pub(crate) enum Failure {
    /// Try again after this long.
    Retry(Duration, String),
    /// The helpdesk or the sidecar is away, or asked to be left alone this long
    /// (unreachable, `429`, `502`-`504`, `UNAVAILABLE`, `RESOURCE_EXHAUSTED`):
    /// tried again, past `max_attempts`, until `max_outage_secs` after the job
    /// came.
    Away(Duration, String),
    /// Trying again cannot help.
    Permanent(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_that_is_not_one_path_segment_is_refused() {
        let target = |ticket: &str, account: &str| Target {
            ticket_id: ticket.into(),
            account_id: account.into(),
            ..Target::default()
        };
        assert!(target("5158", "").check_ids().is_ok());
        assert!(target("0b8f-4a_2", "17").check_ids().is_ok());
        for (ticket, account) in [
            ("", ""),
            ("../users/1", ""),
            ("1/../../admin", ""),
            ("1?role=admin", ""),
            ("1%2F2", ""),
            ("1", "2/3"),
            ("1", ".."),
        ] {
            let refused = target(ticket, account).check_ids();
            assert!(
                matches!(refused, Err(Rejection::BadPayload(_))),
                "{ticket:?} {account:?}"
            );
        }
    }

    fn whole_set(pointer: &str, field: &str, additions: serde_json::Value) -> WholeSet {
        WholeSet {
            read: "/read".into(),
            pointer: pointer.into(),
            field: field.into(),
            additions,
        }
    }

    #[test]
    fn a_whole_set_is_sent_as_read_with_the_additions() {
        use serde_json::json;
        let labels = whole_set("/payload", "labels", json!(["ja", "vip"]));
        assert_eq!(
            labels.body(&json!({ "payload": ["refund", "ja"] })),
            Some(Some(json!({ "labels": ["refund", "ja", "vip"] })))
        );
        assert_eq!(
            labels.body(&json!({ "payload": ["vip", "refund", "ja"] })),
            Some(None),
            "every addition there already: nothing to write"
        );
        let fields = whole_set(
            "/custom_attributes",
            "custom_attributes",
            json!({ "tier": "gold", "lang": "ja" }),
        );
        assert_eq!(
            fields.body(
                &json!({ "id": 7, "custom_attributes": { "order": "A-1", "tier": "silver" } })
            ),
            Some(Some(json!({
                "custom_attributes": { "order": "A-1", "tier": "gold", "lang": "ja" }
            })))
        );
        assert_eq!(
            fields.body(&json!({ "custom_attributes": null })),
            Some(Some(
                json!({ "custom_attributes": { "tier": "gold", "lang": "ja" } })
            ))
        );
        assert_eq!(
            fields.body(&json!({ "custom_attributes": { "tier": "gold", "lang": "ja" } })),
            Some(None)
        );
        // No set of the additions' kind where it should be: the caller falls back.
        assert_eq!(labels.body(&json!({ "labels": ["a"] })), None);
        assert_eq!(labels.body(&json!({ "payload": { "a": 1 } })), None);
        assert_eq!(fields.body(&json!({ "custom_attributes": ["a"] })), None);
    }
}
