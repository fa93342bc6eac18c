//! What every helpdesk's webhook check shares: reading a signature header, an
//! HMAC-SHA256 over the signed parts compared in constant time
//! (`Mac::verify_slice`), the age of the signed timestamp, RFC 3339 times and
//! payload times kept to the years an event can carry, and the rejection of a
//! payload field that is missing. Each helpdesk module says what is signed and how
//! the signature and timestamp are written.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::types::Rejection;

/// The header's value, trimmed; missing, not text or empty is a bad signature.
pub(super) fn header<'h>(headers: &'h http::HeaderMap, name: &str) -> Result<&'h str, Rejection> {
    let value = headers
        .get(name)
        .ok_or_else(|| Rejection::BadSignature(format!("missing header {name}")))?;
    let text = value
        .to_str()
        .map(str::trim)
        .map_err(|_| Rejection::BadSignature(format!("header {name} is not text")))?;
    if text.is_empty() {
        return Err(Rejection::BadSignature(format!("header {name} is empty")));
    }
    Ok(text)
}

/// Checks that `expected` is the HMAC-SHA256 under `secret` of `parts`, one after
/// the other.
pub(super) fn verify_hmac_sha256(
    secret: &str,
    parts: &[&[u8]],
    expected: &[u8],
) -> Result<(), Rejection> {
    if secret.is_empty() {
        return Err(Rejection::BadSignature(
            "no signing secret configured".to_owned(),
        ));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| Rejection::BadSignature(format!("unusable secret: {e}")))?;
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(expected)
        .map_err(|_| Rejection::BadSignature("signature does not match".to_owned()))
}

/// Refuses a signature made more than `max_age_secs` before or after `now`
/// (a replay, or a clock far off).
pub(super) fn check_age(
    signed_at_secs: i64,
    now: SystemTime,
    max_age_secs: u64,
) -> Result<(), Rejection> {
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let age = now_secs.saturating_sub(signed_at_secs);
    if age.unsigned_abs() > max_age_secs {
        return Err(Rejection::Stale(format!(
            "signed {age} s from now, more than {max_age_secs} s"
        )));
    }
    Ok(())
}

/// Parses an RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`) into
/// seconds and nanoseconds since the Unix epoch (prost-types' parser).
pub(super) fn parse_rfc3339(text: &str) -> Option<(i64, u32)> {
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

/// The first and last second an event's time can be (0001-01-01T00:00:00Z and
/// 9999-12-31T23:59:59Z): proto3 JSON writes no other year.
const FIRST_SECOND: i64 = -62_135_596_800;
const LAST_SECOND: i64 = 253_402_300_799;

/// A time read from a payload, as an event's timestamp; `None` outside the years
/// an event can carry (the event could not be encoded).
pub(super) fn timestamp(seconds: i64, nanos: u32) -> Option<prost_types::Timestamp> {
    let nanos = i32::try_from(nanos).ok().filter(|n| *n < 1_000_000_000)?;
    (FIRST_SECOND..=LAST_SECOND)
        .contains(&seconds)
        .then_some(prost_types::Timestamp { seconds, nanos })
}

/// Unix seconds written as a JSON number, whole or with a fraction.
pub(super) fn unix_timestamp(number: &serde_json::Number) -> Option<prost_types::Timestamp> {
    if let Some(seconds) = number.as_i64() {
        return timestamp(seconds, 0);
    }
    let value = number.as_f64()?;
    let whole = value.floor();
    // Checked before the casts: in range, `whole` is an integer that an i64 holds
    // exactly (JSON has no NaN or infinity), and the fraction is in [0, 1).
    let range = FIRST_SECOND as f64..=LAST_SECOND as f64;
    if !range.contains(&whole) {
        return None;
    }
    let (seconds, nanos) = (
        whole as i64,
        ((value - whole) * 1e9).min(999_999_999.0) as u32,
    );
    timestamp(seconds, nanos)
}

/// A payload field the mapping needs is missing or has the wrong type.
pub(super) fn missing(field: &str) -> Rejection {
    Rejection::BadPayload(format!("missing or invalid field `{field}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_from_outside_stay_within_what_an_event_carries() {
        let at = |json: &str| unix_timestamp(&serde_json::from_str(json).expect("a number"));
        let ts = |seconds, nanos| Some(prost_types::Timestamp { seconds, nanos });
        assert_eq!(at("1795515003"), ts(1_795_515_003, 0));
        assert_eq!(at("1795515003.25"), ts(1_795_515_003, 250_000_000));
        // A fraction before 1970 counts forward from the earlier second.
        assert_eq!(at("-1.5"), ts(-2, 500_000_000));
        assert_eq!(at("253402300799"), ts(LAST_SECOND, 0));
        assert_eq!(at("-62135596800"), ts(FIRST_SECOND, 0));
        for outside in [
            "253402300800",
            "-62135596801",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "1e300",
            "-1e300",
        ] {
            assert_eq!(at(outside), None, "{outside}");
        }
        assert_eq!(timestamp(0, 1_000_000_000), None);
        assert_eq!(timestamp(0, u32::MAX), None);
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
}
