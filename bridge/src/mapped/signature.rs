//! How a mapped helpdesk's webhook delivery proves where it comes from (the
//! mapping's `[signature]`), and what stops a captured delivery from being sent
//! again: the age of a signed timestamp or, for a helpdesk that signs only the
//! body, the delivery's id ([`Signature::replay_key`]), remembered in memory for
//! `max_age_secs`, and its job kept by the queue for `retention_secs`. Sent
//! again after both, it is taken as new (README, "Helpdesk bridge").
//!
//! A mapping whose HMAC covers no `{timestamp}` must name that id
//! (`delivery_id`) or it does not load: otherwise a captured delivery would be
//! accepted again once the memory forgot it, minutes later. Token and basic
//! schemes send the shared secret itself, so whoever can capture a delivery can
//! forge any: remembering ids would not protect them, and they need none.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::text_at;
use crate::types::{Rejection, ReplayKey, Rules};
use crate::webhook;

/// How a webhook delivery proves where it comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "scheme", rename_all = "kebab-case", deny_unknown_fields)]
pub(super) enum Signature {
    /// `header` = `prefix` + encoding of HMAC-SHA256(secret, `signed`), where
    /// `signed` is a template of `{timestamp}`, `{body}` and literal text.
    HmacSha256 {
        header: String,
        #[serde(default)]
        prefix: String,
        encoding: Encoding,
        #[serde(default)]
        timestamp_header: Option<String>,
        #[serde(default)]
        timestamp_format: Option<TimestampFormat>,
        signed: String,
        /// A JSON pointer to the delivery's id in the (signed) body: a delivery
        /// seen again within `max_age_secs` is refused as a replay. Required
        /// when `signed` has no `{timestamp}`. Not a header: an unsigned header
        /// is changed at will by whoever replays.
        #[serde(default)]
        delivery_id: Option<String>,
    },
    /// The helpdesk sends the shared secret itself in `header` (for helpdesks that
    /// sign nothing but let the admin add a header); compared in constant time.
    Token { header: String },
    /// The helpdesk authenticates its webhook calls with HTTP basic auth (for
    /// helpdesks that sign nothing): the password is the shared secret, compared in
    /// constant time; the user name is not checked.
    Basic,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Encoding {
    Base64,
    Hex,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum TimestampFormat {
    Unix,
    Rfc3339,
}

impl Signature {
    /// Whether the signature can be used, and defends against replays.
    pub(super) fn check(&self) -> Result<(), String> {
        let Signature::HmacSha256 {
            signed,
            timestamp_header,
            timestamp_format,
            delivery_id,
            ..
        } = self
        else {
            return Ok(());
        };
        if !signed.contains("{body}") {
            return Err("`signature.signed` must contain {body}".into());
        }
        let has_timestamp = signed.contains("{timestamp}");
        if has_timestamp && (timestamp_header.is_none() || timestamp_format.is_none()) {
            return Err(
                "`signature.signed` uses {timestamp}: give timestamp_header and timestamp_format"
                    .into(),
            );
        }
        match delivery_id {
            Some(pointer) if !pointer.starts_with('/') => Err(format!(
                "`signature.delivery_id` `{pointer}` is not a JSON pointer (it must start with /)"
            )),
            None if !has_timestamp => Err(
                "`signature.signed` has no {timestamp}, so a captured delivery would be \
                 accepted again forever: sign the helpdesk's timestamp (add {timestamp} to \
                 `signed`, with timestamp_header and timestamp_format) or, if the helpdesk \
                 signs only the body, name the delivery's id in it with \
                 `signature.delivery_id` (a JSON pointer such as \"/id\")"
                    .into(),
            ),
            _ => Ok(()),
        }
    }

    pub(super) fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        secret: &str,
        now: SystemTime,
        rules: &Rules,
    ) -> Result<(), Rejection> {
        if secret.is_empty() {
            return Err(Rejection::BadSignature(
                "no signing secret configured".to_owned(),
            ));
        }
        match self {
            Signature::Basic => {
                let given = webhook::header(headers, http::header::AUTHORIZATION.as_str())?;
                let password = given
                    .strip_prefix("Basic ")
                    .and_then(|b| BASE64.decode(b.trim()).ok())
                    .and_then(|pair| {
                        let colon = pair.iter().position(|&b| b == b':')?;
                        pair.get(colon..)
                            .and_then(|rest| rest.get(1..))
                            .map(<[u8]>::to_vec)
                    })
                    .ok_or_else(|| {
                        Rejection::BadSignature("authorization is not basic auth".to_owned())
                    })?;
                if bool::from(password.ct_eq(secret.as_bytes())) {
                    Ok(())
                } else {
                    Err(Rejection::BadSignature("wrong webhook password".to_owned()))
                }
            }
            Signature::Token { header } => {
                let given = webhook::header(headers, header)?;
                if bool::from(given.as_bytes().ct_eq(secret.as_bytes())) {
                    Ok(())
                } else {
                    Err(Rejection::BadSignature(format!("wrong {header}")))
                }
            }
            Signature::HmacSha256 {
                header,
                prefix,
                encoding,
                timestamp_header,
                timestamp_format,
                signed,
                ..
            } => {
                let expected = mac_of(headers, header, prefix, *encoding)?;
                let timestamp = match timestamp_header {
                    Some(name) if signed.contains("{timestamp}") => {
                        Some(webhook::header(headers, name)?)
                    }
                    _ => None,
                };
                let mut parts: Vec<&[u8]> = Vec::new();
                for (i, piece) in signed.split("{body}").enumerate() {
                    if i > 0 {
                        parts.push(body);
                    }
                    for (j, literal) in piece.split("{timestamp}").enumerate() {
                        if j > 0 {
                            parts.push(timestamp.unwrap_or_default().as_bytes());
                        }
                        parts.push(literal.as_bytes());
                    }
                }
                webhook::verify_hmac_sha256(secret, &parts, &expected)?;
                if let (Some(timestamp), Some(format)) = (timestamp, timestamp_format) {
                    let signed_at = match format {
                        TimestampFormat::Unix => timestamp.parse::<i64>().ok(),
                        TimestampFormat::Rfc3339 => {
                            webhook::parse_rfc3339(timestamp).map(|(seconds, _)| seconds)
                        }
                    }
                    .ok_or_else(|| {
                        Rejection::BadSignature(format!("unreadable timestamp {timestamp:?}"))
                    })?;
                    webhook::check_age(signed_at, now, rules.max_age_secs)?;
                }
                Ok(())
            }
        }
    }

    /// What the bridge remembers of a verified delivery to refuse it a second
    /// time; `None` when the signature has no delivery id to go by.
    pub(super) fn replay_key(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Option<ReplayKey>, Rejection> {
        let Signature::HmacSha256 {
            header,
            prefix,
            encoding,
            delivery_id: Some(pointer),
            ..
        } = self
        else {
            return Ok(None);
        };
        let payload: Value = serde_json::from_slice(body)
            .map_err(|e| Rejection::BadPayload(format!("not JSON: {e}")))?;
        let delivery_id = text_at(&payload, pointer).ok_or_else(|| webhook::missing(pointer))?;
        Ok(Some(ReplayKey {
            delivery_id,
            signature: mac_of(headers, header, prefix, *encoding)?,
        }))
    }
}

/// The MAC a delivery carries in `header`, decoded.
fn mac_of(
    headers: &http::HeaderMap,
    header: &str,
    prefix: &str,
    encoding: Encoding,
) -> Result<Vec<u8>, Rejection> {
    let given = webhook::header(headers, header)?;
    let mac = given
        .strip_prefix(prefix)
        .ok_or_else(|| Rejection::BadSignature(format!("{header} does not start with {prefix}")))?;
    match encoding {
        Encoding::Base64 => BASE64.decode(mac).ok(),
        Encoding::Hex => hex::decode(mac).ok(),
    }
    .ok_or_else(|| Rejection::BadSignature(format!("{header} is not encoded")))
}
