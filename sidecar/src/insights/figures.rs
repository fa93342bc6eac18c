//! The figures kept per tenant, day and slice (a *cell*), and how they add up:
//! counts, ratings, and the distributions of first-response and resolution times
//! as log-bucketed histograms, so a year of cells answers medians and p90s without
//! the tickets.
//!
//! A histogram bucket is a sixteenth of a doubling wide (4.4 %): a quantile read
//! from it, the geometric middle of its bucket, is within 2.2 % of the exact one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Buckets per doubling of a duration.
const STEPS_PER_DOUBLING: f64 = 16.0;

/// Durations in seconds, bucketed: bucket `b` holds durations `d` with
/// `floor(16 · log2(d + 1)) = b`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram(BTreeMap<u16, u64>);

impl Histogram {
    fn bucket(seconds: f64) -> u16 {
        let b = ((seconds.max(0.0) + 1.0).log2() * STEPS_PER_DOUBLING).floor();
        // A duration beyond 2^4096 s is not a duration: the last bucket.
        if b.is_finite() && b < f64::from(u16::MAX) {
            b as u16
        } else {
            u16::MAX
        }
    }

    /// The geometric middle of bucket `b`, in seconds.
    fn middle(b: u16) -> f64 {
        let low = (f64::from(b) / STEPS_PER_DOUBLING).exp2();
        let high = ((f64::from(b) + 1.0) / STEPS_PER_DOUBLING).exp2();
        (low * high).sqrt() - 1.0
    }

    pub fn add(&mut self, seconds: f64) {
        let count = self.0.entry(Self::bucket(seconds)).or_default();
        *count = count.saturating_add(1);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (bucket, n) in &other.0 {
            let count = self.0.entry(*bucket).or_default();
            *count = count.saturating_add(*n);
        }
    }

    pub fn count(&self) -> u64 {
        self.0.values().fold(0u64, |sum, n| sum.saturating_add(*n))
    }

    /// The `q` quantile (0 < q ≤ 1) in seconds, by the nearest-rank rule; `None`
    /// when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        // Nearest rank: the smallest value with at least q·n values at or below.
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (bucket, n) in &self.0 {
            seen = seen.saturating_add(*n);
            if seen >= rank {
                return Some(Self::middle(*bucket));
            }
        }
        self.0.keys().next_back().map(|b| Self::middle(*b))
    }
}

/// What one cell (or a sum of cells) counts about the tickets first seen in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Tickets first seen.
    pub tickets: u64,
    /// Of those, answered by an agent.
    pub replied: u64,
    /// Solved, and not reopened since.
    pub solved: u64,
    /// Reopened at least once (a customer wrote after a solve).
    pub reopened: u64,
    /// Rated by the customer, and rated positively (at least 80 % of the scale).
    pub rated: u64,
    pub positive: u64,
    /// Sum of the ratings, each as a share of its scale (0 to 1).
    pub rating_sum: f64,
    /// First agent reply after the ticket was first seen, in seconds.
    pub first_reply: Histogram,
    /// From first seen to the last solve, for solved tickets.
    pub resolution: Histogram,
    /// First replies timed against the tenant's business hours, and of those,
    /// made after hours.
    pub replies_timed: u64,
    pub after_hours: u64,
}

/// A rating is positive from this share of its scale: 4 or 5 of 5, 8 of 10,
/// "good" of good/bad.
pub const POSITIVE_RATING: f64 = 0.8;

impl Figures {
    pub fn merge(&mut self, other: &Figures) {
        self.tickets = self.tickets.saturating_add(other.tickets);
        self.replied = self.replied.saturating_add(other.replied);
        self.solved = self.solved.saturating_add(other.solved);
        self.reopened = self.reopened.saturating_add(other.reopened);
        self.rated = self.rated.saturating_add(other.rated);
        self.positive = self.positive.saturating_add(other.positive);
        self.rating_sum += other.rating_sum;
        self.first_reply.merge(&other.first_reply);
        self.resolution.merge(&other.resolution);
        self.replies_timed = self.replies_timed.saturating_add(other.replies_timed);
        self.after_hours = self.after_hours.saturating_add(other.after_hours);
    }

    /// Adds one ticket.
    pub fn add(&mut self, ticket: &TicketRow) {
        self.tickets = self.tickets.saturating_add(1);
        if let Some(reply) = ticket.first_reply_s {
            self.replied = self.replied.saturating_add(1);
            self.first_reply
                .add(reply.saturating_sub(ticket.created_s) as f64);
            if let Some(after_hours) = ticket.after_hours {
                self.replies_timed = self.replies_timed.saturating_add(1);
                if after_hours {
                    self.after_hours = self.after_hours.saturating_add(1);
                }
            }
        }
        if ticket.reopens > 0 {
            self.reopened = self.reopened.saturating_add(1);
        }
        if let Some(solved) = ticket.solved_s
            && ticket.last_customer_s.is_none_or(|last| last <= solved)
        {
            self.solved = self.solved.saturating_add(1);
            self.resolution
                .add(solved.saturating_sub(ticket.created_s) as f64);
        }
        if let Some(rating) = ticket.rating.filter(|r| r.is_finite()) {
            let rating = rating.clamp(0.0, 1.0);
            self.rated = self.rated.saturating_add(1);
            self.rating_sum += rating;
            if rating >= POSITIVE_RATING {
                self.positive = self.positive.saturating_add(1);
            }
        }
    }
}

/// The slice a ticket counts in: its customer's country, its language, channel,
/// category and the group it was routed to (empty: unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slice {
    pub country: String,
    pub language: String,
    pub channel: String,
    pub category: String,
    pub group: String,
}

/// A ticket as the store keeps it for the reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketRow {
    pub ticket: String,
    pub customer: String,
    /// When the sidecar first saw the ticket (its earliest event).
    pub created_s: i64,
    pub first_reply_s: Option<i64>,
    /// The last solve.
    pub solved_s: Option<i64>,
    /// The last customer message.
    pub last_customer_s: Option<i64>,
    pub reopens: u32,
    /// The last rating, as a share of its scale.
    pub rating: Option<f64>,
    /// Whether the first reply came after business hours (when the tenant set
    /// them).
    pub after_hours: Option<bool>,
    pub slice: Slice,
}

/// A day's figures of one slice.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    pub slice: Slice,
    pub figures: Figures,
}

/// The first replies of a day's tickets of one language first seen in one hour
/// (UTC): what the heatmap of first-reply times by language and hour reads.
#[derive(Debug, Clone, PartialEq)]
pub struct HourCell {
    pub day: i64,
    pub language: String,
    /// 0 to 23, UTC.
    pub hour: u8,
    pub first_reply: Histogram,
}

/// What a day's tickets make: a cell per slice and one per language and hour.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayCells {
    pub cells: Vec<Cell>,
    pub hours: Vec<HourCell>,
}

/// The cells of `day` from the tickets first seen that day.
pub fn cells_of(day: i64, tickets: &[TicketRow]) -> DayCells {
    let mut by_slice: BTreeMap<&Slice, Figures> = BTreeMap::new();
    let mut by_hour: BTreeMap<(&str, u8), Histogram> = BTreeMap::new();
    for ticket in tickets {
        by_slice.entry(&ticket.slice).or_default().add(ticket);
        if let Some(reply) = ticket.first_reply_s {
            let hour = u8::try_from(ticket.created_s.rem_euclid(86_400) / 3_600).unwrap_or(0);
            by_hour
                .entry((&ticket.slice.language, hour))
                .or_default()
                .add(reply.saturating_sub(ticket.created_s) as f64);
        }
    }
    DayCells {
        cells: by_slice
            .into_iter()
            .map(|(slice, figures)| Cell {
                day,
                slice: slice.clone(),
                figures,
            })
            .collect(),
        hours: by_hour
            .into_iter()
            .map(|((language, hour), first_reply)| HourCell {
                day,
                language: language.to_owned(),
                hour,
                first_reply,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_a_bucket_of_the_exact_ones() {
        let mut histogram = Histogram::default();
        let values: Vec<f64> = (1..=1000).map(|n| f64::from(n) * 37.0).collect();
        for v in &values {
            histogram.add(*v);
        }
        for (q, exact) in [(0.5, 500.0 * 37.0), (0.9, 900.0 * 37.0)] {
            let read = histogram.quantile(q).expect("values");
            assert!(
                (read - exact).abs() / exact < 0.025,
                "q{q}: {read} vs {exact}"
            );
        }
        assert_eq!(Histogram::default().quantile(0.5), None);
        let mut one = Histogram::default();
        one.add(0.0);
        assert!(one.quantile(0.9).expect("one") < 0.1);
    }

    #[test]
    fn a_reopened_ticket_is_not_solved_until_solved_again() {
        let ticket = |solved: Option<i64>, last_customer: Option<i64>, reopens| TicketRow {
            created_s: 1_000,
            first_reply_s: Some(1_600),
            solved_s: solved,
            last_customer_s: last_customer,
            reopens,
            rating: Some(0.8),
            ..TicketRow::default()
        };
        let mut figures = Figures::default();
        figures.add(&ticket(Some(5_000), Some(1_000), 0));
        figures.add(&ticket(Some(5_000), Some(6_000), 1));
        figures.add(&ticket(None, None, 0));
        assert_eq!(
            (
                figures.tickets,
                figures.replied,
                figures.solved,
                figures.reopened
            ),
            (3, 3, 1, 1)
        );
        assert_eq!((figures.rated, figures.positive), (3, 3));
        assert_eq!(figures.resolution.count(), 1);
    }
}
