//! When a call to the event API arrived, and its caller's deadline from its
//! `grpc-timeout` header.
//!
//! tonic ends a unary call at that deadline itself, answering `CANCELLED`; the
//! gRPC protocol says `DEADLINE_EXCEEDED`, and an event ended by tonic is not
//! counted in the metrics. So the event ends a little earlier, by the pipeline's
//! own timer, which answers and counts it. Both are stamped by an interceptor,
//! which tonic calls before it starts its timer: they are never later than
//! tonic's, however long the request's upload took. On a stream, tonic's timer
//! ends with the call's first answer, and the caller's deadline bounds each event
//! of the stream instead.

use std::time::Duration;

use tokio::time::Instant;
use tonic::{Request, Status};

use crate::pipeline::CallerDeadline;

/// How much earlier than the caller's deadline an event ends: tokio's timers
/// fire on millisecond ticks, and the answer must reach tonic before its timer.
const AHEAD: Duration = Duration::from_millis(5);

/// When the request arrived; in its extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arrived(pub(crate) Instant);

/// The interceptor that stamps a request with when it [`Arrived`] and its
/// [`CallerDeadline`] (less [`AHEAD`]), when it has a `grpc-timeout` tonic reads
/// (one tonic ignores is ignored here too).
pub(crate) fn stamp(mut request: Request<()>) -> Result<Request<()>, Status> {
    let arrived = Instant::now();
    request.extensions_mut().insert(Arrived(arrived));
    let timeout = request
        .metadata()
        .get("grpc-timeout")
        .and_then(|value| value.to_str().ok())
        .and_then(parse_grpc_timeout);
    if let Some(timeout) = timeout {
        let at = arrived
            .checked_add(timeout.saturating_sub(AHEAD))
            .unwrap_or(arrived);
        request
            .extensions_mut()
            .insert(CallerDeadline { at, timeout });
    }
    Ok(request)
}

/// A `grpc-timeout` value: at most eight digits and a unit (`H`, `M`, `S`, `m`,
/// `u`, `n`), as gRPC over HTTP/2 specifies it, read as tonic reads it (which
/// takes a leading `+` too): a deadline tonic keeps is kept here.
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let split = value.len().checked_sub(1)?;
    let (digits, unit) = value.split_at_checked(split)?;
    if digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_are_read_as_the_protocol_writes_them() {
        assert_eq!(parse_grpc_timeout("300m"), Some(Duration::from_millis(300)));
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("5M"), Some(Duration::from_secs(300)));
        assert_eq!(
            parse_grpc_timeout("99999999u"),
            Some(Duration::from_micros(99_999_999))
        );
        assert_eq!(parse_grpc_timeout("7n"), Some(Duration::from_nanos(7)));
        assert_eq!(parse_grpc_timeout("+5S"), Some(Duration::from_secs(5)));
        for bad in [
            "",
            "m",
            "300",
            "123456789m",
            "-1m",
            "1.5S",
            "10x",
            "１m",
            "3 m",
        ] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_request_is_stamped_only_with_a_timeout_it_carries() {
        let mut asked = Request::new(());
        asked
            .metadata_mut()
            .insert("grpc-timeout", "300m".parse().expect("ascii"));
        let before = Instant::now();
        let stamped = stamp(asked).expect("never refuses");
        let deadline = *stamped
            .extensions()
            .get::<CallerDeadline>()
            .expect("stamped");
        assert_eq!(deadline.timeout, Duration::from_millis(300));
        assert!(deadline.at >= before + Duration::from_millis(295));
        assert!(deadline.at <= Instant::now() + Duration::from_millis(295));

        assert!(
            stamped
                .extensions()
                .get::<Arrived>()
                .is_some_and(|a| a.0 >= before)
        );

        let plain = stamp(Request::new(())).expect("never refuses");
        assert!(plain.extensions().get::<CallerDeadline>().is_none());
        assert!(plain.extensions().get::<Arrived>().is_some());
        let mut garbled = Request::new(());
        garbled
            .metadata_mut()
            .insert("grpc-timeout", "soon".parse().expect("ascii"));
        let garbled = stamp(garbled).expect("never refuses");
        assert!(garbled.extensions().get::<CallerDeadline>().is_none());
    }
}
