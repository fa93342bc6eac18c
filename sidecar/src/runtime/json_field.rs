//! A secret the host writes into a field of a request's JSON body, for services
//! that take their key there and not in a header (LibreTranslate's `api_key`):
//! the tenant's secret for the host has the header name [`JSON_FIELD_HEADER`] and
//! the value `FIELD=VALUE`. The host sets the top-level `FIELD` of every JSON
//! object body it sends to that host, over anything the plugin put there, and
//! sends it as `application/json`; a request without a body goes as it is (a
//! `GET` of a listing needs no key); a body that is not a JSON object, or is
//! said to be another type or encoding, is refused. The body's other members go
//! as they were written (their order, numbers of any size); a member named like
//! the field, however often, gets the secret.
//! The header itself is never sent.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The secret header name that stands for a JSON body field.
pub const JSON_FIELD_HEADER: &str = "x-crossdesk-json-field";

/// The field and the value of a secret written `FIELD=VALUE`.
pub struct JsonField<'a> {
    pub field: &'a str,
    pub value: &'a str,
}

impl<'a> JsonField<'a> {
    /// Reads `FIELD=VALUE` (split at the first `=`; neither part empty).
    pub fn parse(secret: &'a str) -> Result<JsonField<'a>, String> {
        match secret.split_once('=') {
            Some((field, value)) if !field.is_empty() && !value.is_empty() => {
                Ok(JsonField { field, value })
            }
            _ => Err(format!(
                "a secret of {JSON_FIELD_HEADER} is written FIELD=VALUE, both parts given"
            )),
        }
    }
}

/// Refuses a request whose body would not be read as plain JSON: another
/// content type than `application/json` (a form, whose fields the plugin's
/// text could shape around the key), or any content encoding.
pub fn check_framing(headers: &reqwest::header::HeaderMap) -> Result<(), String> {
    if headers.contains_key(reqwest::header::CONTENT_ENCODING) {
        return Err(format!(
            "a body carrying a {JSON_FIELD_HEADER} secret is sent without content-encoding"
        ));
    }
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default());
    let essence = content_type.map(|t| t.split(';').next().unwrap_or_default().trim());
    match essence {
        None => Ok(()),
        Some(t) if t.eq_ignore_ascii_case("application/json") => Ok(()),
        Some(t) => Err(format!(
            "a body carrying a {JSON_FIELD_HEADER} secret is sent as application/json, not {t:?}"
        )),
    }
}

/// `body` with each field set; an empty body is left empty.
pub fn write_fields(body: Vec<u8>, fields: &[JsonField<'_>]) -> Result<Vec<u8>, String> {
    if body.is_empty() || fields.is_empty() {
        return Ok(body);
    }
    let Members(mut members) = serde_json::from_slice(&body).map_err(|_| {
        format!(
            "the secret for JSON field '{}' goes in a JSON object body, and this request's body is not one",
            fields[0].field
        )
    })?;
    for field in fields {
        let value = serde_json::value::to_raw_value(field.value)
            .map_err(|e| format!("cannot write the request body: {e}"))?;
        let mut found = false;
        for (_, member) in members.iter_mut().filter(|(key, _)| key == field.field) {
            *member = value.clone();
            found = true;
        }
        if !found {
            members.push((field.field.to_owned(), value));
        }
    }
    let mut out = Vec::with_capacity(body.len().saturating_add(64));
    out.push(b'{');
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, key)
            .map_err(|e| format!("cannot write the request body: {e}"))?;
        out.push(b':');
        out.extend_from_slice(value.get().as_bytes());
    }
    out.push(b'}');
    Ok(out)
}

/// A JSON object's members as written: keys in order, values untouched.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Members, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(InOrder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_a_field_and_a_value() {
        let secret = JsonField::parse("api_key=k=1").expect("well written");
        assert_eq!((secret.field, secret.value), ("api_key", "k=1"));
        for bad in ["sekrit", "=sekrit", "api_key=", ""] {
            let error = JsonField::parse(bad).err().expect(bad);
            assert!(error.contains("FIELD=VALUE"), "{error}");
            assert!(!error.contains("sekrit"), "{error}");
        }
    }

    #[test]
    fn the_field_is_set_over_the_plugins_and_the_rest_kept() {
        let secret = JsonField::parse("api_key=sekrit").expect("ok");
        let body = br#"{"q":"hola","api_key":"guess","format":"text"}"#.to_vec();
        let written = write_fields(body, &[secret]).expect("an object");
        let object: serde_json::Value = serde_json::from_slice(&written).expect("JSON");
        assert_eq!(object["api_key"], "sekrit");
        assert_eq!(object["q"], "hola");
        assert_eq!(object["format"], "text");
    }

    #[test]
    fn the_other_members_go_as_written_and_every_copy_of_the_field_is_the_secret() {
        let secret = || JsonField::parse("api_key=sekrit").expect("ok");
        let body = br#"{ "q" : "hola", "n": 123456789012345678901234567890, "api_key": "a",
            "nested": {"z": 1, "a": [2.50, "x"]}, "api_key": "b", "format": "text" }"#;
        let written = write_fields(body.to_vec(), &[secret()]).expect("an object");
        assert_eq!(
            String::from_utf8(written).expect("UTF-8"),
            r#"{"q":"hola","n":123456789012345678901234567890,"api_key":"sekrit","nested":{"z": 1, "a": [2.50, "x"]},"api_key":"sekrit","format":"text"}"#
        );
        // A field the body lacks comes last; a key is escaped as JSON wants.
        let written = write_fields(br#"{"a\"b":1}"#.to_vec(), &[secret()]).expect("an object");
        assert_eq!(written, br#"{"a\"b":1,"api_key":"sekrit"}"#);
    }

    #[test]
    fn an_empty_body_goes_as_it_is_and_other_bodies_are_refused() {
        let secret = || JsonField::parse("api_key=sekrit").expect("ok");
        assert_eq!(write_fields(Vec::new(), &[secret()]), Ok(Vec::new()));
        for body in [&b"[1,2]"[..], b"q=hola&source=es", b"\"text\""] {
            let error = write_fields(body.to_vec(), &[secret()]).expect_err("not an object");
            assert!(error.contains("JSON object body"), "{error}");
            assert!(!error.contains("sekrit"), "{error}");
        }
    }
}
