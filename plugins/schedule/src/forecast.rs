//! Arrival forecasts: how many conversations each language will bring in each
//! interval of a coming week, from the tenant's 15-minute history.
//!
//! This module owns the history row format ([`HistoryRow`]), the forecasting
//! methods ([`Method`]) and the measured handling time ([`average_handle_secs`]).
//! Two methods, both per language, channel and interval of the week:
//!
//! - **Weighted weeks** (the default, 4 weeks): the same interval in each of the
//!   last `weeks` weeks (7, 14, ... days earlier), weighted most recent heaviest
//!   (`weeks`, `weeks − 1`, ..., 1). The weights are normalized over the weeks for
//!   which there is history at that interval, that is on or after the first history
//!   row, so a tenant with two weeks of history is not forecast half its volume.
//! - **Simple exponential smoothing** with factor `alpha` in (0, 1] of that
//!   interval across every past week in order, started at the oldest observation.
//!   `alpha = 1` repeats last week.
//!
//! Interval `i` of the forecast week starts at `week_start + i × interval` (the
//! plan puts the agents' local shifts on that same grid of instants); the week
//! ends seven days later on the plan zone's calendar ([`week_end`]), so a week with
//! a daylight-saving change has 167 or 169 hours of intervals, not 168. "The
//! same interval a week earlier" is the same local time seven days earlier in the
//! plan's time zone: customers who write at 09:00 keep writing at 09:00 after a
//! daylight-saving change, an hour apart in UTC. (In a repeated hour the two
//! intervals of the same local time are one slot of history; in UTC, which has
//! no changes, everything steps by exactly 7 × 24 hours.) Rows at or after
//! `week_start` are ignored; weeks without a row for an interval count as zero
//! arrivals there. Channels are forecast separately ([`Forecast::by_channel`]) and
//! summed per language ([`Forecast::languages`]). Language tags are reduced to
//! their primary subtag (`pt-BR` → `pt`), as in the roster.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::roster::canonical_language;

/// Length of one history bucket, in minutes.
pub const HISTORY_BUCKET_MINUTES: u32 = 15;

/// The forecast interval lengths accepted, in minutes.
pub const INTERVAL_MINUTES: [u32; 3] = [15, 30, 60];

/// Weeks used by [`Method::default`].
pub const DEFAULT_WEEKS: u32 = 4;

/// The smoothing factor used when `smoothing` is given without one.
pub const DEFAULT_ALPHA: f64 = 0.3;

/// The most weeks [`Method::WeightedWeeks`] may look back (ten years).
pub const MAX_WEEKS: u32 = 520;

/// A week of local wall-clock time (no daylight-saving change), in minutes: the
/// step between "the same interval" of two weeks.
const WEEK_MINUTES: u32 = 7 * 24 * 60;

/// One 15-minute bucket of history for one language and channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    /// Start of the bucket, UTC, on a 15-minute boundary.
    pub bucket_start: Timestamp,
    /// Language of the conversations (`es`, `pt-BR`, ...).
    pub language: String,
    /// Channel (`chat`, `email`, ...).
    pub channel: String,
    /// Conversations that arrived in the bucket.
    pub arrivals: u64,
    /// Conversations finished in the bucket (may be 0).
    #[serde(default)]
    pub handled: u64,
    /// Summed handling seconds of the conversations finished in the bucket.
    #[serde(default)]
    pub handle_secs: f64,
}

/// How past weeks become a forecast.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Method {
    /// The same interval in the last `weeks` weeks, weighted `weeks`, ..., 1 from
    /// the most recent.
    WeightedWeeks {
        /// How many past weeks to use (1 to [`MAX_WEEKS`]).
        weeks: u32,
    },
    /// Simple exponential smoothing of the interval across all past weeks.
    Smoothing {
        /// Weight of the newest week, in (0, 1].
        alpha: f64,
    },
}

impl Default for Method {
    fn default() -> Self {
        Method::WeightedWeeks {
            weeks: DEFAULT_WEEKS,
        }
    }
}

impl Method {
    fn validate(&self) -> Result<(), ForecastError> {
        match *self {
            Method::WeightedWeeks { weeks } if !(1..=MAX_WEEKS).contains(&weeks) => {
                Err(ForecastError::Weeks(weeks))
            }
            Method::Smoothing { alpha } if !(alpha > 0.0 && alpha <= 1.0) => {
                Err(ForecastError::Alpha(alpha))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Method {
    /// A human description, e.g. "weighted weeks 4:3:2:1 over the last 4 weeks".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Method::WeightedWeeks { weeks } => {
                let ratio: Vec<String> = (1..=weeks).rev().map(|w| w.to_string()).collect();
                let span = if weeks == 1 {
                    "the last week".to_owned()
                } else {
                    format!("the last {weeks} weeks")
                };
                write!(f, "weighted weeks {} over {span}", ratio.join(":"))
            }
            Method::Smoothing { alpha } => {
                write!(
                    f,
                    "exponential smoothing (alpha {alpha}) over every past week"
                )
            }
        }
    }
}

impl FromStr for Method {
    type Err = ForecastError;

    /// Parses `weighted`, `weighted:N`, `smoothing` or `smoothing:ALPHA`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (name, arg) = match text.split_once(':') {
            Some((name, arg)) => (name.trim(), Some(arg.trim())),
            None => (text, None),
        };
        let method = match (name.to_ascii_lowercase().as_str(), arg) {
            ("weighted" | "weighted-weeks", None) => Method::default(),
            ("weighted" | "weighted-weeks", Some(n)) => Method::WeightedWeeks {
                weeks: n
                    .parse()
                    .map_err(|_| ForecastError::Method(text.to_owned()))?,
            },
            ("smoothing", None) => Method::Smoothing {
                alpha: DEFAULT_ALPHA,
            },
            ("smoothing", Some(a)) => Method::Smoothing {
                alpha: a
                    .parse()
                    .map_err(|_| ForecastError::Method(text.to_owned()))?,
            },
            _ => return Err(ForecastError::Method(text.to_owned())),
        };
        method.validate()?;
        Ok(method)
    }
}

/// Expected arrivals per language and interval for one week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Start of the forecast week (UTC instant).
    pub week_start: Timestamp,
    /// End of the forecast week, exclusive: seven days after `week_start` on the
    /// plan zone's calendar ([`week_end`]).
    pub week_end: Timestamp,
    /// Interval length in minutes (15, 30 or 60).
    pub interval_minutes: u32,
    /// A human description of the method.
    pub method: String,
    /// Expected arrivals per interval, all channels summed, by language.
    pub languages: BTreeMap<String, Vec<f64>>,
    /// Expected arrivals per interval by language, then channel.
    pub by_channel: BTreeMap<String, BTreeMap<String, Vec<f64>>>,
    /// Weeks, whole or partial, between the first history row and `week_start`.
    pub weeks_of_history: u32,
}

impl Forecast {
    /// Intervals in the week (672, 336 or 168 hourly ones; 167 or 169 hourly ones
    /// in a week with a daylight-saving change).
    pub fn intervals(&self) -> usize {
        intervals_between(self.week_start, self.week_end, self.interval_minutes)
    }

    /// Start of interval `index`.
    pub fn interval_start(&self, index: usize) -> Timestamp {
        interval_start(self.week_start, self.interval_minutes, index)
    }

    /// Expected arrivals over the week in `language` (0 for an unknown language).
    pub fn total(&self, language: &str) -> f64 {
        self.languages
            .get(language)
            .map_or(0.0, |series| series.iter().sum())
    }
}

/// Why a forecast could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    /// The history is empty.
    #[error("no history: a forecast needs past arrivals (at least one week of 15-minute rows)")]
    NoHistory,
    /// Every row is at or after the forecast week.
    #[error("no history before the week starting {week_start}: all {rows} rows are at or after it")]
    NoHistoryBefore {
        /// The forecast week asked for.
        week_start: Timestamp,
        /// Rows given.
        rows: usize,
    },
    /// The interval is not 15, 30 or 60 minutes.
    #[error("interval_minutes: {0} is not one of 15, 30, 60")]
    Interval(u32),
    /// The smoothing factor is outside (0, 1].
    #[error("smoothing alpha: {0} is not in (0, 1]")]
    Alpha(f64),
    /// The number of weighted weeks is outside 1..=MAX_WEEKS.
    #[error("weighted weeks: {0} is not between 1 and {MAX_WEEKS}")]
    Weeks(u32),
    /// The week does not start on a bucket boundary.
    #[error("week_start: {0} is not on a 15-minute boundary (UTC)")]
    WeekStart(Timestamp),
    /// The week runs past the end of representable time.
    #[error("week_start: {0}: the week is outside the supported time range")]
    OutOfRange(Timestamp),
    /// A history row's language is not a language tag.
    #[error("history row at {at}: language '{language}' is not a language tag (e.g. es, pt-BR)")]
    Language {
        /// The row's bucket.
        at: Timestamp,
        /// The language as given.
        language: String,
    },
    /// A method name that is not understood.
    #[error("method '{0}': expected weighted, weighted:WEEKS, smoothing or smoothing:ALPHA")]
    Method(String),
}

/// `at` as seconds of local wall-clock time in `zone` (as if that time were UTC):
/// a week earlier in local time is exactly 7 × 24 hours earlier in these.
fn wall_clock_secs(at: Timestamp, zone: &TimeZone) -> i64 {
    let offset = zone.to_offset(at);
    at.as_second().saturating_add(i64::from(offset.seconds()))
}

/// Forecasts the week starting at `week_start` from `history`, weeks stepping
/// in local time in `zone` (see the module's documentation).
///
/// `interval_minutes` must be 15, 30 or 60 and `week_start` on a 15-minute
/// boundary. Rows at or after `week_start` are ignored.
pub fn forecast(
    history: &[HistoryRow],
    week_start: Timestamp,
    interval_minutes: u32,
    method: Method,
    zone: &TimeZone,
) -> Result<Forecast, ForecastError> {
    if !INTERVAL_MINUTES.contains(&interval_minutes) {
        return Err(ForecastError::Interval(interval_minutes));
    }
    method.validate()?;
    let bucket_secs = i64::from(HISTORY_BUCKET_MINUTES) * 60;
    if week_start.subsec_nanosecond() != 0 || week_start.as_second().rem_euclid(bucket_secs) != 0 {
        return Err(ForecastError::WeekStart(week_start));
    }
    if history.is_empty() {
        return Err(ForecastError::NoHistory);
    }

    // Arrivals by (language, channel) and interval slot of local time, slot 0
    // being the first interval of the forecast week (past slots are negative).
    let interval_secs = i64::from(interval_minutes) * 60;
    let origin = wall_clock_secs(week_start, zone);
    let slot_of = |at: Timestamp| (wall_clock_secs(at, zone) - origin).div_euclid(interval_secs);
    let mut series: BTreeMap<(String, String), HashMap<i64, f64>> = BTreeMap::new();
    let mut first_slot: Option<i64> = None;
    for row in history {
        if row.bucket_start >= week_start {
            continue;
        }
        let language =
            canonical_language(&row.language).ok_or_else(|| ForecastError::Language {
                at: row.bucket_start,
                language: row.language.clone(),
            })?;
        let channel = match row.channel.trim() {
            "" => "unknown".to_owned(),
            name => name.to_lowercase(),
        };
        let slot = slot_of(row.bucket_start);
        *series
            .entry((language, channel))
            .or_default()
            .entry(slot)
            .or_insert(0.0) += row.arrivals as f64;
        first_slot = Some(first_slot.map_or(slot, |first| first.min(slot)));
    }
    let first = first_slot.ok_or(ForecastError::NoHistoryBefore {
        week_start,
        rows: history.len(),
    })?;

    let week_end = week_end(week_start, zone).ok_or(ForecastError::OutOfRange(week_start))?;
    let n = intervals_between(week_start, week_end, interval_minutes);
    // Slots are local wall-clock time: a week of them is always 7 × 24 hours,
    // whatever the week's real length.
    let week = intervals_per_week(interval_minutes) as i64;
    // The local-time slot of each interval of the forecast week: `i` itself
    // unless a daylight-saving change falls in the week (an hour skipped, or two
    // intervals of a repeated hour on one slot).
    let slots: Vec<i64> = (0..n)
        .map(|i| slot_of(interval_start(week_start, interval_minutes, i)))
        .collect();
    // `first` is negative: the number of weeks, whole or partial, it reaches back.
    let weeks_back = (-first + week - 1) / week;
    let mut languages: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut by_channel: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for ((language, channel), counts) in &series {
        let value = |slot: i64| counts.get(&slot).copied().unwrap_or(0.0);
        let predicted: Vec<f64> = slots
            .iter()
            .map(|&i| match method {
                Method::WeightedWeeks { weeks } => {
                    let (mut sum, mut weights) = (0.0, 0.0);
                    for w in 1..=i64::from(weeks) {
                        let slot = i - w * week;
                        if slot >= first {
                            let weight = (i64::from(weeks) - w + 1) as f64;
                            sum += weight * value(slot);
                            weights += weight;
                        }
                    }
                    if weights > 0.0 { sum / weights } else { 0.0 }
                }
                Method::Smoothing { alpha } => {
                    let mut level: Option<f64> = None;
                    for w in (1..=weeks_back).rev() {
                        let slot = i - w * week;
                        if slot >= first {
                            let x = value(slot);
                            level = Some(level.map_or(x, |s| alpha * x + (1.0 - alpha) * s));
                        }
                    }
                    level.unwrap_or(0.0)
                }
            })
            .collect();
        let total = languages
            .entry(language.clone())
            .or_insert_with(|| vec![0.0; n]);
        for (sum, x) in total.iter_mut().zip(&predicted) {
            *sum += x;
        }
        by_channel
            .entry(language.clone())
            .or_default()
            .insert(channel.clone(), predicted);
    }

    Ok(Forecast {
        week_start,
        week_end,
        interval_minutes,
        method: method.to_string(),
        languages,
        by_channel,
        weeks_of_history: u32::try_from(weeks_back).unwrap_or(u32::MAX),
    })
}

/// Measured average handling time in `language`, in seconds, over all of
/// `history`: summed `handle_secs` over summed `handled`. `None` when fewer than
/// `min_handled` (or no) conversations were handled. Rows whose `handle_secs` is
/// negative or not finite are skipped.
pub fn average_handle_secs(
    history: &[HistoryRow],
    language: &str,
    min_handled: u64,
) -> Option<f64> {
    let language = canonical_language(language)?;
    let (handled, secs) = history
        .iter()
        .filter(|row| usable_handling(row))
        .filter(|row| canonical_language(&row.language).as_deref() == Some(language.as_str()))
        .fold((0u64, 0.0), |(n, s), row| {
            (n.saturating_add(row.handled), s + row.handle_secs)
        });
    (handled > 0 && handled >= min_handled).then(|| secs / handled as f64)
}

/// [`average_handle_secs`] for every language in `history` with at least
/// `min_handled` handled conversations; suits `PlanSettings::aht_by_language`.
pub fn average_handle_by_language(
    history: &[HistoryRow],
    min_handled: u64,
) -> BTreeMap<String, f64> {
    let mut sums: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    for row in history.iter().filter(|row| usable_handling(row)) {
        if let Some(language) = canonical_language(&row.language) {
            let entry = sums.entry(language).or_insert((0, 0.0));
            entry.0 = entry.0.saturating_add(row.handled);
            entry.1 += row.handle_secs;
        }
    }
    sums.into_iter()
        .filter(|(_, (n, _))| *n > 0 && *n >= min_handled)
        .map(|(language, (n, secs))| (language, secs / n as f64))
        .collect()
}

fn usable_handling(row: &HistoryRow) -> bool {
    row.handle_secs.is_finite() && row.handle_secs >= 0.0
}

/// Intervals in a week of local wall-clock time of `interval_minutes` (0 for 0).
pub(crate) fn intervals_per_week(interval_minutes: u32) -> usize {
    WEEK_MINUTES.checked_div(interval_minutes).unwrap_or(0) as usize
}

/// The end of the week starting at `week_start`: the same local time seven days
/// later in `zone`. That is 168 hours later, but 167 across a spring-forward change
/// and 169 across a fall-back one: the week of `plan_time_zone` ends at its next
/// local Monday, not an hour before or after. `None` past the end of time.
///
/// ```
/// use jiff::{Timestamp, tz::TimeZone};
/// let berlin = TimeZone::get("Europe/Berlin").unwrap();
/// // Monday 2026-03-23 00:00 CET; clocks go forward on Sunday 2026-03-29.
/// let start: Timestamp = "2026-03-22T23:00Z".parse().unwrap();
/// let end = schedule::forecast::week_end(start, &berlin).unwrap();
/// assert_eq!(end.to_string(), "2026-03-29T22:00:00Z"); // Monday 00:00 CEST
/// assert_eq!(end.duration_since(start).as_hours(), 167);
/// ```
pub fn week_end(week_start: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
    week_start
        .to_zoned(zone.clone())
        .checked_add(7.days())
        .ok()
        .map(|end| end.timestamp())
}

/// Intervals of `interval_minutes` from `start` to `end`, the last one partial
/// when the span is not a whole number of them (a 30-minute daylight-saving change
/// under hourly intervals): no time of the week goes unplanned.
pub(crate) fn intervals_between(start: Timestamp, end: Timestamp, interval_minutes: u32) -> usize {
    let secs = end.as_second().saturating_sub(start.as_second()).max(0);
    let interval = i64::from(interval_minutes).saturating_mul(60);
    secs.saturating_add(interval.saturating_sub(1))
        .checked_div(interval)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
}

/// `week_start + index × interval`, saturating at the end of time.
pub(crate) fn interval_start(
    week_start: Timestamp,
    interval_minutes: u32,
    index: usize,
) -> Timestamp {
    let secs = i64::from(interval_minutes) * 60 * index as i64;
    week_start
        .checked_add(SignedDuration::from_secs(secs))
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn at(base: Timestamp, minutes: i64) -> Timestamp {
        base.checked_add(SignedDuration::from_mins(minutes))
            .expect("in range")
    }

    fn row(bucket_start: Timestamp, language: &str, channel: &str, arrivals: u64) -> HistoryRow {
        HistoryRow {
            bucket_start,
            language: language.into(),
            channel: channel.into(),
            arrivals,
            handled: arrivals,
            handle_secs: arrivals as f64 * 300.0,
        }
    }

    /// A week pattern: arrivals in 15-minute bucket `b` of the week.
    fn pattern(b: i64) -> u64 {
        ((b * 7 + 3) % 11) as u64
    }

    /// `weeks` identical weeks of history for `en` (chat) ending at `week_start`.
    fn repeated(week_start: Timestamp, weeks: i64) -> Vec<HistoryRow> {
        let mut rows = Vec::new();
        for w in 1..=weeks {
            for b in 0..672 {
                let start = at(week_start, -w * 7 * 24 * 60 + b * 15);
                rows.push(row(start, "en-US", "chat", pattern(b)));
            }
        }
        rows
    }

    /// Adds `value` arrivals at the first bucket of the week `w` weeks back.
    fn single(week_start: Timestamp, values: &[(i64, u64)]) -> Vec<HistoryRow> {
        values
            .iter()
            .map(|&(w, v)| row(at(week_start, -w * 7 * 24 * 60), "es", "chat", v))
            .collect()
    }

    #[test]
    fn a_history_that_repeats_one_week_forecasts_that_week() {
        // The week contains the end of US daylight saving time (2026-11-01): in
        // UTC that is irrelevant.
        let week_start = ts("2026-10-26T00:00Z");
        let history = repeated(week_start, 5);
        for minutes in INTERVAL_MINUTES {
            let per = i64::from(minutes / 15);
            let expected: Vec<f64> = (0..672 / per)
                .map(|i| (0..per).map(|k| pattern(i * per + k) as f64).sum())
                .collect();
            for method in [
                Method::default(),
                Method::WeightedWeeks { weeks: 2 },
                Method::Smoothing { alpha: 0.3 },
                Method::Smoothing { alpha: 1.0 },
            ] {
                let f = forecast(&history, week_start, minutes, method, &TimeZone::UTC)
                    .expect("forecast");
                assert_eq!(f.intervals(), expected.len());
                assert_eq!(f.languages.keys().collect::<Vec<_>>(), ["en"]);
                for (got, want) in f.languages["en"].iter().zip(&expected) {
                    assert!((got - want).abs() < 1e-9, "{method}: {got} != {want}");
                }
                assert_eq!(f.weeks_of_history, 5);
            }
        }
    }

    #[test]
    fn recent_weeks_weigh_more() {
        let week_start = ts("2026-03-02T00:00Z");
        // 10 last week, 20 two weeks back, 30, 40; a fifth week is outside the window.
        let history = single(week_start, &[(1, 10), (2, 20), (3, 30), (4, 40), (5, 1000)]);
        let f = forecast(&history, week_start, 30, Method::default(), &TimeZone::UTC)
            .expect("forecast");
        let expected = (4.0 * 10.0 + 3.0 * 20.0 + 2.0 * 30.0 + 40.0) / 10.0;
        assert!((f.languages["es"][0] - expected).abs() < 1e-9);
        assert_eq!(f.languages["es"][1], 0.0);
        assert_eq!(f.method, "weighted weeks 4:3:2:1 over the last 4 weeks");
        assert_eq!(f.weeks_of_history, 5);
    }

    #[test]
    fn weeks_before_the_history_starts_do_not_dilute() {
        let week_start = ts("2026-03-02T00:00Z");
        let history = single(week_start, &[(1, 10), (2, 20)]);
        let f = forecast(&history, week_start, 15, Method::default(), &TimeZone::UTC)
            .expect("forecast");
        assert!((f.languages["es"][0] - (4.0 * 10.0 + 3.0 * 20.0) / 7.0).abs() < 1e-9);
        assert_eq!(f.weeks_of_history, 2);

        // History that starts mid-week: intervals before its start use one week less.
        let mut history = single(week_start, &[(1, 10)]);
        let mid = at(week_start, -7 * 24 * 60 - 3 * 24 * 60); // Friday, two weeks back
        history.push(row(mid, "es", "chat", 6));
        let f = forecast(&history, week_start, 15, Method::default(), &TimeZone::UTC)
            .expect("forecast");
        assert!(
            (f.languages["es"][0] - 10.0).abs() < 1e-9,
            "Monday: last week only"
        );
        let friday = 4 * 24 * 4; // the same slot in the forecast week
        assert!((f.languages["es"][friday] - 3.0 * 6.0 / 7.0).abs() < 1e-9);
    }

    #[test]
    fn smoothing_follows_the_weeks_in_order() {
        let week_start = ts("2026-03-02T00:00Z");
        let history = single(week_start, &[(4, 40), (3, 30), (2, 20), (1, 10)]);
        let last = forecast(
            &history,
            week_start,
            60,
            Method::Smoothing { alpha: 1.0 },
            &TimeZone::UTC,
        )
        .expect("forecast");
        assert_eq!(last.languages["es"][0], 10.0);
        let half = forecast(
            &history,
            week_start,
            60,
            Method::Smoothing { alpha: 0.5 },
            &TimeZone::UTC,
        )
        .expect("forecast");
        // 40 → 35 → 27.5 → 18.75
        assert!((half.languages["es"][0] - 18.75).abs() < 1e-9);
        assert!(half.method.contains("alpha 0.5"), "{}", half.method);
    }

    #[test]
    fn channels_are_summed_and_kept_apart() {
        let week_start = ts("2026-03-02T00:00Z");
        let back = at(week_start, -7 * 24 * 60);
        let history = vec![
            row(back, "pt-BR", "chat", 3),
            row(back, "pt", "Email", 2),
            row(at(back, 15), "pt", "chat", 1),
            row(week_start, "pt", "chat", 99), // the forecast week itself: ignored
        ];
        let f = forecast(&history, week_start, 30, Method::default(), &TimeZone::UTC)
            .expect("forecast");
        assert_eq!(f.languages["pt"][0], 6.0);
        assert_eq!(f.by_channel["pt"]["chat"][0], 4.0);
        assert_eq!(f.by_channel["pt"]["email"][0], 2.0);
        assert_eq!(f.total("pt"), 6.0);
        assert_eq!(f.interval_start(2), ts("2026-03-02T01:00Z"));
    }

    #[test]
    fn a_week_after_a_daylight_saving_change_keeps_the_local_hours() {
        let madrid = TimeZone::get("Europe/Madrid").expect("zone");
        // Monday 30 March 2026, 00:00 in Madrid: summer time began the day before.
        let week_start = ts("2026-03-29T22:00Z");
        // Four Mondays of winter time, ten conversations at 09:00 local (08:00 UTC).
        let history: Vec<HistoryRow> = ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]
            .iter()
            .map(|day| row(ts(&format!("{day}T08:00Z")), "es", "chat", 10))
            .collect();
        let peak_local_hour = |zone: &TimeZone| {
            let f = forecast(&history, week_start, 60, Method::default(), zone).expect("forecast");
            let series = &f.languages["es"];
            let (peak, value) = series
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .expect("intervals");
            assert_eq!(*value, 10.0);
            f.interval_start(peak).to_zoned(madrid.clone()).hour()
        };
        assert_eq!(peak_local_hour(&madrid), 9, "the customers' 09:00");
        // Stepping by 7 × 24 hours would put them at 10:00 all summer.
        assert_eq!(peak_local_hour(&TimeZone::UTC), 10);
    }

    /// One arrival in every quarter hour of the local hours `[from, to)` of every
    /// day of the `weeks` local weeks before `monday`, and the week's start (local
    /// midnight).
    fn local_evenings(
        monday: &str,
        zone: &TimeZone,
        weeks: i64,
        (from, to): (i8, i8),
    ) -> (Timestamp, Vec<HistoryRow>) {
        let monday: jiff::civil::Date = monday.parse().expect("date");
        let mut rows = Vec::new();
        for back in 1..=weeks * 7 {
            let date = monday.checked_sub(back.days()).expect("date");
            for hour in from..to {
                for quarter in 0..4 {
                    let local = date.at(hour, quarter * 15, 0, 0);
                    let at = local.to_zoned(zone.clone()).expect("local time");
                    rows.push(row(at.timestamp(), "de", "chat", 1));
                }
            }
        }
        let start = monday.to_zoned(zone.clone()).expect("midnight");
        (start.timestamp(), rows)
    }

    #[test]
    fn a_week_with_a_daylight_saving_change_ends_at_the_next_local_monday() {
        let berlin = TimeZone::get("Europe/Berlin").expect("zone");
        let new_york = TimeZone::get("America/New_York").expect("zone");
        for (monday, zone, hours) in [
            ("2026-03-16", &berlin, 168),
            // Summer time begins Sunday 2026-03-29 in Berlin, 2026-03-08 in New York.
            ("2026-03-23", &berlin, 167),
            ("2026-03-02", &new_york, 167),
            // It ends Sunday 2026-10-25 in Berlin, 2026-11-01 in New York.
            ("2026-10-19", &berlin, 169),
            ("2026-10-26", &new_york, 169),
        ] {
            // Hours clear of the changes themselves (02:00 in Berlin, 01:00–03:00
            // in New York), whose skipped or repeated hour has one interval less or
            // more.
            for (evening, per_day) in [((20, 24), 16.0), ((0, 1), 4.0)] {
                let (week_start, history) = local_evenings(monday, zone, 4, evening);
                let f =
                    forecast(&history, week_start, 60, Method::default(), zone).expect("forecast");
                assert_eq!(f.intervals(), hours, "{monday} {evening:?}");
                let end = f.interval_start(hours).to_zoned(zone.clone());
                assert_eq!(end.weekday(), jiff::civil::Weekday::Monday, "{monday}");
                assert_eq!(end.time(), jiff::civil::Time::midnight(), "{monday}");
                assert_eq!(f.week_end, end.timestamp(), "{monday}");
                // Every local day once: not the next Monday's first hours as well,
                // nor without Sunday's last hour.
                assert_eq!(f.total("de"), 7.0 * per_day, "{monday} {evening:?}");
                let last = f.interval_start(hours - 1).to_zoned(zone.clone());
                assert_eq!(
                    (last.weekday(), last.hour()),
                    (jiff::civil::Weekday::Sunday, 23),
                    "{monday}"
                );
            }
        }
    }

    #[test]
    fn errors_name_the_bad_input() {
        let week_start = ts("2026-03-02T00:00Z");
        let history = single(week_start, &[(1, 10)]);
        let err = |h: &[HistoryRow], w: Timestamp, m: u32, method: Method| {
            forecast(h, w, m, method, &TimeZone::UTC)
                .expect_err("must fail")
                .to_string()
        };
        assert!(err(&[], week_start, 30, Method::default()).starts_with("no history"));
        assert_eq!(
            err(&history, week_start, 20, Method::default()),
            "interval_minutes: 20 is not one of 15, 30, 60"
        );
        for alpha in [0.0, 1.5, f64::NAN] {
            assert!(
                err(&history, week_start, 30, Method::Smoothing { alpha })
                    .starts_with("smoothing alpha")
            );
        }
        assert!(
            err(&history, week_start, 30, Method::WeightedWeeks { weeks: 0 })
                .starts_with("weighted weeks: 0")
        );
        assert!(err(&history, at(week_start, 5), 30, Method::default()).starts_with("week_start"));
        let future = single(week_start, &[(0, 3)]);
        assert!(
            err(&future, week_start, 30, Method::default())
                .starts_with("no history before the week starting 2026-03-02T00:00:00Z")
        );
        let mut bad = history.clone();
        bad[0].language = "??".into();
        assert!(err(&bad, week_start, 30, Method::default()).contains("language '??'"));
    }

    #[test]
    fn methods_parse_from_text() {
        assert_eq!("weighted".parse::<Method>(), Ok(Method::default()));
        assert_eq!(
            "weighted:6".parse::<Method>(),
            Ok(Method::WeightedWeeks { weeks: 6 })
        );
        assert_eq!(
            "smoothing:0.5".parse::<Method>(),
            Ok(Method::Smoothing { alpha: 0.5 })
        );
        assert_eq!(
            "smoothing:2".parse::<Method>(),
            Err(ForecastError::Alpha(2.0))
        );
        assert!("median".parse::<Method>().is_err());
        assert_eq!(
            Method::WeightedWeeks { weeks: 1 }.to_string(),
            "weighted weeks 1 over the last week"
        );
    }

    #[test]
    fn measured_handle_time_needs_enough_conversations() {
        let t = ts("2026-03-02T00:00Z");
        let mut history = vec![row(t, "es-MX", "chat", 3), row(t, "es", "email", 1)];
        history[1].handle_secs = 700.0; // 3 × 300 + 700 over 4
        history.push(HistoryRow {
            handle_secs: f64::NAN,
            ..row(t, "es", "chat", 5)
        });
        assert_eq!(average_handle_secs(&history, "es", 4), Some(400.0));
        assert_eq!(average_handle_secs(&history, "es", 5), None);
        assert_eq!(average_handle_secs(&history, "de", 0), None);
        assert_eq!(average_handle_by_language(&history, 1)["es"], 400.0);
    }

    proptest! {
        #[test]
        fn a_weighted_forecast_stays_within_the_weeks_it_averages(
            values in proptest::collection::vec(0u64..50, 1..8),
            weeks in 1u32..6,
        ) {
            let week_start = ts("2026-03-02T00:00Z");
            let pairs: Vec<(i64, u64)> =
                values.iter().enumerate().map(|(w, v)| (w as i64 + 1, *v)).collect();
            let f = forecast(&single(week_start, &pairs), week_start, 15,
                Method::WeightedWeeks { weeks }, &TimeZone::UTC).expect("forecast");
            let used = &values[..values.len().min(weeks as usize)];
            let (lo, hi) = (used.iter().min().copied().unwrap_or(0), used.iter().max().copied().unwrap_or(0));
            let got = f.languages["es"][0];
            prop_assert!(got >= lo as f64 - 1e-9 && got <= hi as f64 + 1e-9);
        }
    }
}
