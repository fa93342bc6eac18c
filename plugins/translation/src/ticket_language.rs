//! The language a customer writes in on each ticket: remembered for the agents'
//! replies while the ticket is active, forgotten once it has been quiet a while,
//! so that a tenant's storage does not grow with every ticket it ever had.
//!
//! | key | value |
//! | --- | --- |
//! | `ticket-lang/<period>/<ticket id>` | the customer's language, e.g. `fr` |
//! | `ticket-lang-periods` | the periods holding keys, e.g. `679,680` |
//!
//! Keys are kept by [`crate::periods`]: a ticket's language is looked up in the
//! current period, then in the one before (and then carried into the current
//! one), so a ticket no customer wrote on for one to two periods is forgotten
//! (the next message is detected again); tickets new to a period sweep the
//! periods past. Keys of the layout before periods (`ticket-language/<ticket
//! id>`) are read last and swept alike.

use crossdesk_sdk::kv::{self, KvError};

use crate::periods::{self, Periodic, SWEEP_BUDGET, period_of};

/// The remembered languages.
pub const LANGUAGES: Periodic = Periodic {
    prefix: "ticket-lang/",
    list_key: "ticket-lang-periods",
};
/// Prefix of the layout before periods: read, then swept.
pub const LEGACY_PREFIX: &str = "ticket-language/";

/// The key of `ticket`'s language in `period`.
///
/// ```
/// assert_eq!(translation::ticket_language::key(680, "T-1"), "ticket-lang/000680/T-1");
/// ```
pub fn key(period: i64, ticket: &str) -> String {
    LANGUAGES.key(period, ticket)
}

fn language_at(key: &str) -> Result<Option<String>, KvError> {
    Ok(kv::get(key)?
        .and_then(|v| String::from_utf8(v).ok())
        .filter(|l| !l.is_empty()))
}

/// The language remembered for `ticket` at `now_ms`, if the ticket was active
/// within the current or the last period.
///
/// ```
/// let _host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
/// assert_eq!(translation::ticket_language::recall("T-1", 0).unwrap(), None);
/// ```
pub fn recall(ticket: &str, now_ms: i64) -> Result<Option<String>, KvError> {
    let period = period_of(now_ms);
    if let Some(language) = language_at(&key(period, ticket))? {
        return Ok(Some(language));
    }
    let earlier = [
        key(period.saturating_sub(1), ticket),
        format!("{LEGACY_PREFIX}{ticket}"),
    ];
    for old in earlier {
        if let Some(language) = language_at(&old)? {
            // Still active: kept for the periods to come.
            remember(ticket, &language, now_ms)?;
            return Ok(Some(language));
        }
    }
    Ok(None)
}

/// Remembers `language` for `ticket` at `now_ms`; `true` if it wrote (a write
/// invalidates the host's cached results: none when nothing changed).
///
/// ```
/// let _host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
/// use translation::ticket_language::{recall, remember};
/// assert!(remember("T-1", "fr", 0).unwrap());
/// assert!(!remember("T-1", "fr", 0).unwrap());
/// assert_eq!(recall("T-1", 0).unwrap().as_deref(), Some("fr"));
/// ```
pub fn remember(ticket: &str, language: &str, now_ms: i64) -> Result<bool, KvError> {
    let period = period_of(now_ms);
    let key = key(period, ticket);
    let stored = kv::get(&key)?;
    if stored.as_deref() == Some(language.as_bytes()) {
        return Ok(false);
    }
    kv::put(&key, language.as_bytes())?;
    if stored.is_none() {
        LANGUAGES.list(period)?;
        if periods::sweeps(ticket) {
            sweep(period)?;
        }
    }
    Ok(true)
}

/// Deletes up to [`SWEEP_BUDGET`] keys of the layout before periods, then of the
/// periods past.
fn sweep(period: i64) -> Result<(), KvError> {
    let legacy = kv::list_keys(LEGACY_PREFIX)?;
    for old in legacy.iter().take(SWEEP_BUDGET) {
        kv::delete(old)?;
    }
    LANGUAGES.sweep(period, SWEEP_BUDGET.saturating_sub(legacy.len()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::periods::PERIOD_DAYS;
    use crossdesk_sdk::testing::MockHost;

    const DAY_MS: i64 = 86_400_000;

    #[test]
    fn a_language_lasts_while_its_ticket_is_active_and_is_carried_forward() {
        let host = MockHost::new().grant_kv().install();
        let start = 680 * PERIOD_DAYS * DAY_MS;
        remember("T-1", "fr", start).expect("remember");
        assert_eq!(host.kv_value(LANGUAGES.list_key), Some(b"680".to_vec()));
        // In the next period: found in the last one, carried into this one.
        let next = start + PERIOD_DAYS * DAY_MS;
        assert_eq!(recall("T-1", next).expect("recall").as_deref(), Some("fr"));
        assert_eq!(host.kv_value(&key(681, "T-1")), Some(b"fr".to_vec()));
        // Two periods on with no message since: forgotten.
        let later = next + 2 * PERIOD_DAYS * DAY_MS;
        assert_eq!(recall("T-1", later).expect("recall"), None);
    }

    #[test]
    fn the_layout_before_periods_is_read_then_swept() {
        let host = MockHost::new().grant_kv().install();
        kv::put("ticket-language/T-old", b"de").expect("put");
        kv::put("ticket-language/T-gone", b"it").expect("put");
        assert_eq!(recall("T-old", 0).expect("recall").as_deref(), Some("de"));
        assert_eq!(host.kv_value(&key(0, "T-old")), Some(b"de".to_vec()));
        let sweeper = (0..)
            .map(|i| format!("T-{i}"))
            .find(|t| periods::sweeps(t))
            .expect("a ticket that sweeps");
        remember(&sweeper, "es", 0).expect("remember");
        assert_eq!(host.kv_value("ticket-language/T-old"), None);
        assert_eq!(host.kv_value("ticket-language/T-gone"), None);
    }

    #[test]
    fn sweeps_delete_the_periods_past_and_keep_the_live_ones() {
        let host = MockHost::new().grant_kv().install();
        let period_ms = PERIOD_DAYS * DAY_MS;
        let tickets: Vec<String> = (0..100).map(|i| format!("T-{i}")).collect();
        for ticket in &tickets {
            remember(ticket, "ja", 10 * period_ms).expect("remember");
        }
        // A ticket of the last period stays; those of period 10 go once a
        // ticket new to period 12 sweeps.
        remember("live", "ko", 11 * period_ms).expect("remember");
        let mut sweepers = (0..)
            .map(|i| format!("N-{i}"))
            .filter(|t| periods::sweeps(t));
        let mut sweep_once = || {
            let sweeper = sweepers.next().expect("a ticket that sweeps");
            remember(&sweeper, "es", 12 * period_ms).expect("remember");
        };
        // 100 keys against a budget of 64: the period stays listed until a
        // second sweep empties it.
        sweep_once();
        let left = tickets
            .iter()
            .filter(|t| host.kv_value(&key(10, t)).is_some())
            .count();
        assert_eq!(left, 100 - SWEEP_BUDGET);
        assert_eq!(
            host.kv_value(LANGUAGES.list_key),
            Some(b"10,11,12".to_vec())
        );
        sweep_once();
        for ticket in &tickets {
            assert_eq!(host.kv_value(&key(10, ticket)), None, "{ticket}");
        }
        assert_eq!(host.kv_value(&key(11, "live")), Some(b"ko".to_vec()));
        assert_eq!(host.kv_value(LANGUAGES.list_key), Some(b"11,12".to_vec()));
        assert_eq!(
            recall("live", 12 * period_ms).expect("recall").as_deref(),
            Some("ko")
        );
    }
}
