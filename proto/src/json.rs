//! The proto3 JSON mapping of the API's messages, for the CLI and for sample events:
//! `crossdesk send` reads a `crossdesk.v1.Event` in that mapping and prints the
//! response in it, exactly as any other proto3 JSON tool would.

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};

/// Why a JSON document could not be mapped.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("descriptor error: {0}")]
    Descriptor(String),
    #[error("not a valid {message} in proto3 JSON: {source}")]
    Parse {
        message: String,
        source: serde_json::Error,
    },
    #[error("cannot re-encode {0}: {1}")]
    Encode(String, String),
}

fn pool() -> Result<DescriptorPool, JsonError> {
    DescriptorPool::decode(crate::pb::FILE_DESCRIPTOR_SET)
        .map_err(|e| JsonError::Descriptor(e.to_string()))
}

fn descriptor(name: &str) -> Result<prost_reflect::MessageDescriptor, JsonError> {
    pool()?
        .get_message_by_name(name)
        .ok_or_else(|| JsonError::Descriptor(format!("message {name} not found")))
}

/// Parses `text` as the proto3 JSON form of the message `M` named `name`.
pub fn from_json<M: Message + Default>(name: &str, text: &str) -> Result<M, JsonError> {
    let desc = descriptor(name)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let dynamic =
        DynamicMessage::deserialize(desc, &mut de).map_err(|source| JsonError::Parse {
            message: name.to_owned(),
            source,
        })?;
    de.end().map_err(|source| JsonError::Parse {
        message: name.to_owned(),
        source,
    })?;
    M::decode(dynamic.encode_to_vec().as_slice())
        .map_err(|e| JsonError::Encode(name.to_owned(), e.to_string()))
}

/// Renders `message`, a message named `name`, as pretty proto3 JSON.
pub fn to_json<M: Message>(name: &str, message: &M) -> Result<String, JsonError> {
    let desc = descriptor(name)?;
    let dynamic = DynamicMessage::decode(desc, message.encode_to_vec().as_slice())
        .map_err(|e| JsonError::Encode(name.to_owned(), e.to_string()))?;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::pretty(&mut out);
    dynamic
        .serialize_with_options(&mut ser, &SerializeOptions::new().skip_default_fields(true))
        .map_err(|e| JsonError::Encode(name.to_owned(), e.to_string()))?;
    String::from_utf8(out).map_err(|e| JsonError::Encode(name.to_owned(), e.to_string()))
}

/// Parses a `crossdesk.v1.Event`.
pub fn event_from_json(text: &str) -> Result<crate::pb::Event, JsonError> {
    from_json("crossdesk.v1.Event", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_round_trips_through_proto3_json() {
        let event = event_from_json(
            r#"{"tenantId": "acme", "eventId": "e1", "kind": "EVENT_KIND_CUSTOMER_MESSAGE",
                "customer": {"id": "c1", "locale": "ja-JP", "externalIds": {"email": "a@b.c"}},
                "text": "こんにちは", "occurredAt": "2026-11-24T10:00:00Z"}"#,
        )
        .expect("valid event");
        assert_eq!(event.kind(), crate::pb::EventKind::CustomerMessage);
        assert_eq!(
            event.occurred_at.as_ref().map(|t| t.seconds),
            Some(1_795_514_400)
        );
        let json = to_json("crossdesk.v1.Event", &event).expect("render");
        assert!(json.contains("\"tenantId\": \"acme\""), "{json}");
    }

    #[test]
    fn unknown_field_is_an_error_that_names_it() {
        let err = event_from_json(r#"{"tenant": "acme"}"#).expect_err("must fail");
        assert!(err.to_string().contains("tenant"), "{err}");
    }
}
