//! A tenant's report for a period, from its cells: the figures of the period,
//! sliced by the dimensions asked for, each with the change against the period of
//! the same length just before it (week over week for a week); translation
//! correction rates per language pair; and the categories whose volume spiked.
//!
//! **Spikes.** A category's volume on a day is compared with the same weekday of
//! the [`BASELINE_WEEKS`] weeks before (weekly seasonality): with `m` their median
//! and `s` = max(1.4826 · MAD, √max(m, 1)) (the median absolute deviation scaled
//! to a standard deviation, floored at the Poisson noise of such counts), the day
//! is a spike when its count is at least `m + 4 s` and at least `m + 5`. Median
//! and MAD ignore a past spike (they are robust), and the floor keeps a category
//! that is usually silent from being flagged for a handful of tickets. Only
//! weeks since the tenant's first day with tickets (or the oldest kept) count,
//! and a day with fewer than [`MIN_BASELINE_WEEKS`] of them is not judged: a new
//! tenant's ordinary days are not spikes over the zeros before it began.

use std::collections::{BTreeMap, HashMap};

use super::TranslationFact;
use super::figures::{Cell, Figures, Histogram, HourCell, Slice};
use crate::store::CellCount;

/// Weeks of the same weekday a day's volume is compared with.
pub const BASELINE_WEEKS: i64 = 8;
/// Fewest of those weeks with data for a day to be judged at all.
pub const MIN_BASELINE_WEEKS: usize = 4;
/// A spike is this many (robust) standard deviations above the baseline...
pub const SPIKE_SIGMAS: f64 = 4.0;
/// ...and at least this many tickets above it.
pub const SPIKE_MIN_EXCESS: f64 = 5.0;

/// What a report can be sliced by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dimension {
    /// The country's region ([`super::regions`]).
    Region,
    Country,
    Language,
    Channel,
    Category,
    Group,
}

impl Dimension {
    /// How many dimensions there are (the last one's number, plus one).
    pub const COUNT: usize = Dimension::Group as usize + 1;

    pub fn parse(name: &str) -> Option<Dimension> {
        Some(match name.trim() {
            "region" => Dimension::Region,
            "country" => Dimension::Country,
            "language" => Dimension::Language,
            "channel" => Dimension::Channel,
            "category" => Dimension::Category,
            "group" => Dimension::Group,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Dimension::Region => "region",
            Dimension::Country => "country",
            Dimension::Language => "language",
            Dimension::Channel => "channel",
            Dimension::Category => "category",
            Dimension::Group => "group",
        }
    }

    fn of(self, slice: &Slice) -> &str {
        match self {
            Dimension::Region => super::regions::region_of(&slice.country),
            Dimension::Country => &slice.country,
            Dimension::Language => &slice.language,
            Dimension::Channel => &slice.channel,
            Dimension::Category => &slice.category,
            Dimension::Group => &slice.group,
        }
    }
}

/// The measures of a set of tickets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measures {
    pub tickets: u64,
    /// Share of ratings that were positive, and the mean rating (share of scale).
    pub csat_positive: Option<f64>,
    pub csat_mean: Option<f64>,
    pub rated: u64,
    /// Share of tickets solved (and not reopened since).
    pub resolution_rate: Option<f64>,
    pub first_reply_median_s: Option<f64>,
    pub first_reply_p90_s: Option<f64>,
    pub resolution_median_s: Option<f64>,
    pub resolution_p90_s: Option<f64>,
    /// Share of tickets reopened at least once.
    pub reopen_rate: Option<f64>,
    /// Share of first replies made outside the tenant's business hours.
    pub after_hours_share: Option<f64>,
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl Measures {
    pub fn of(f: &Figures) -> Measures {
        Measures {
            tickets: f.tickets,
            csat_positive: share(f.positive, f.rated),
            csat_mean: (f.rated > 0).then(|| f.rating_sum / f.rated as f64),
            rated: f.rated,
            resolution_rate: share(f.solved, f.tickets),
            first_reply_median_s: f.first_reply.quantile(0.5),
            first_reply_p90_s: f.first_reply.quantile(0.9),
            resolution_median_s: f.resolution.quantile(0.5),
            resolution_p90_s: f.resolution.quantile(0.9),
            reopen_rate: share(f.reopened, f.tickets),
            after_hours_share: share(f.after_hours, f.replies_timed),
        }
    }
}

/// One line of a report: a slice's values (in the order of the dimensions), its
/// measures, and its ticket count in the previous period.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub key: Vec<String>,
    pub measures: Measures,
    pub previous_tickets: u64,
}

/// A language pair's translated replies and corrections.
#[derive(Debug, Clone, PartialEq)]
pub struct PairLine {
    pub source: String,
    pub target: String,
    pub translated: u64,
    pub corrected: u64,
    /// Corrections per translated reply, and the same in the previous period.
    pub correction_rate: Option<f64>,
    pub previous_correction_rate: Option<f64>,
}

/// A category's day far above its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    pub category: String,
    pub day: i64,
    pub tickets: u64,
    /// The median of the same weekday over the baseline weeks.
    pub baseline: f64,
    /// How many robust standard deviations above it.
    pub sigmas: f64,
}

/// One day of the period, all slices together.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub day: i64,
    pub measures: Measures,
}

/// First replies to a language's tickets first seen in one hour of the day (UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct HourLine {
    pub language: String,
    pub hour: u8,
    pub replied: u64,
    pub median_s: Option<f64>,
}

/// A report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The period's first-reply times by language and hour, for the heatmap.
    pub hours: Vec<HourLine>,
    pub by: Vec<Dimension>,
    pub total: Line,
    /// Each day of the period with tickets, in order.
    pub days: Vec<Day>,
    pub lines: Vec<Line>,
    /// Share of the period's tickets without a category.
    pub uncategorised: Option<f64>,
    pub pairs: Vec<PairLine>,
    pub spikes: Vec<Spike>,
}

/// The first day whose ticket counts a report starting on `since_day` reads: the
/// period before it (as long) and the spikes' baseline weeks. Only the period's
/// own days are read whole.
pub fn earliest_day_read(since_day: i64, until_day: i64) -> i64 {
    let length = until_day.saturating_sub(since_day).max(1);
    let back = length.max(BASELINE_WEEKS.saturating_mul(7));
    since_day.saturating_sub(back)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let half = values.len() / 2;
    let upper = values.get(half).copied().unwrap_or(0.0);
    match half.checked_sub(1).and_then(|i| values.get(i)) {
        Some(lower) if values.len().is_multiple_of(2) => (lower + upper) / 2.0,
        _ => upper,
    }
}

/// The report on days `[since_day, until_day)` sliced `by`, from the period's
/// cells, the ticket counts of the days before it back to [`earliest_day_read`],
/// and the translation counts of both.
pub fn build(
    cells: &[Cell],
    hours: &[HourCell],
    earlier: &[CellCount],
    translations: &[TranslationFact],
    since_day: i64,
    until_day: i64,
    by: &[Dimension],
) -> Report {
    let length = until_day.saturating_sub(since_day).max(1);
    let previous_since = since_day.saturating_sub(length);
    let key = |slice: &Slice| {
        by.iter()
            .map(|d| d.of(slice).to_owned())
            .collect::<Vec<_>>()
    };

    let mut total = Figures::default();
    let mut previous_total = 0u64;
    let mut current: BTreeMap<Vec<String>, Figures> = BTreeMap::new();
    let mut previous: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    let mut uncategorised = 0u64;
    // (category, day) → tickets, for the spikes.
    let mut daily: HashMap<(&str, i64), u64> = HashMap::new();
    let mut count_daily = |category, day, tickets: u64| {
        let daily_count = daily.entry((category, day)).or_default();
        *daily_count = daily_count.saturating_add(tickets);
    };
    // A slice recurs every day: summed per slice first, keyed (allocated) once.
    let mut by_slice: HashMap<&Slice, Figures> = HashMap::new();
    let mut by_day: BTreeMap<i64, Figures> = BTreeMap::new();
    for cell in cells
        .iter()
        .filter(|c| (since_day..until_day).contains(&c.day))
    {
        count_daily(&cell.slice.category, cell.day, cell.figures.tickets);
        by_slice
            .entry(&cell.slice)
            .or_default()
            .merge(&cell.figures);
        by_day.entry(cell.day).or_default().merge(&cell.figures);
    }
    for (slice, figures) in &by_slice {
        total.merge(figures);
        current.entry(key(slice)).or_default().merge(figures);
        if slice.category.is_empty() {
            uncategorised = uncategorised.saturating_add(figures.tickets);
        }
    }
    for count in earlier.iter().filter(|c| c.day < since_day) {
        count_daily(&count.slice.category, count.day, count.tickets);
        if count.day >= previous_since {
            previous_total = previous_total.saturating_add(count.tickets);
            let sum = previous.entry(key(&count.slice)).or_default();
            *sum = sum.saturating_add(count.tickets);
        }
    }
    let mut lines: Vec<Line> = current
        .iter()
        .map(|(key, figures)| Line {
            key: key.clone(),
            measures: Measures::of(figures),
            previous_tickets: previous.get(key).copied().unwrap_or(0),
        })
        .collect();
    // Slices seen only before: their volume fell to nothing.
    for (key, tickets) in &previous {
        if !current.contains_key(key) {
            lines.push(Line {
                key: key.clone(),
                measures: Measures::default(),
                previous_tickets: *tickets,
            });
        }
    }
    lines.sort_by(|a, b| {
        b.measures
            .tickets
            .cmp(&a.measures.tickets)
            .then_with(|| a.key.cmp(&b.key))
    });

    let mut by_hour: BTreeMap<(&str, u8), Histogram> = BTreeMap::new();
    for cell in hours
        .iter()
        .filter(|c| (since_day..until_day).contains(&c.day))
    {
        by_hour
            .entry((&cell.language, cell.hour))
            .or_default()
            .merge(&cell.first_reply);
    }
    Report {
        hours: by_hour
            .into_iter()
            .map(|((language, hour), histogram)| HourLine {
                language: language.to_owned(),
                hour,
                replied: histogram.count(),
                median_s: histogram.quantile(0.5),
            })
            .collect(),
        by: by.to_vec(),
        total: Line {
            key: Vec::new(),
            measures: Measures::of(&total),
            previous_tickets: previous_total,
        },
        days: by_day
            .iter()
            .map(|(day, figures)| Day {
                day: *day,
                measures: Measures::of(figures),
            })
            .collect(),
        lines,
        uncategorised: share(uncategorised, total.tickets),
        pairs: pairs(translations, previous_since, since_day, until_day),
        spikes: spikes(&daily, since_day, until_day),
    }
}

fn pairs(
    translations: &[TranslationFact],
    previous_since: i64,
    since_day: i64,
    until_day: i64,
) -> Vec<PairLine> {
    // (source, target) → (translated, corrected) now and before.
    let mut now: BTreeMap<(&str, &str), (u64, u64)> = BTreeMap::new();
    let mut before: BTreeMap<(&str, &str), (u64, u64)> = BTreeMap::new();
    for t in translations {
        let into = if (since_day..until_day).contains(&t.day) {
            &mut now
        } else if (previous_since..since_day).contains(&t.day) {
            &mut before
        } else {
            continue;
        };
        let sums = into.entry((&t.source, &t.target)).or_default();
        sums.0 = sums.0.saturating_add(t.translated);
        sums.1 = sums.1.saturating_add(t.corrected);
    }
    now.iter()
        .map(|((source, target), (translated, corrected))| {
            let earlier = before.get(&(source, target)).copied().unwrap_or_default();
            PairLine {
                source: (*source).to_owned(),
                target: (*target).to_owned(),
                translated: *translated,
                corrected: *corrected,
                correction_rate: share(*corrected, *translated),
                previous_correction_rate: share(earlier.1, earlier.0),
            }
        })
        .collect()
}

fn spikes(daily: &HashMap<(&str, i64), u64>, since_day: i64, until_day: i64) -> Vec<Spike> {
    // Only a day with tickets can be a spike (its excess must reach
    // SPIKE_MIN_EXCESS), so the work follows the data, not categories × days:
    // categories come from the event API, and a report may span ten years.
    let mut days: Vec<(&str, i64, u64)> = daily
        .iter()
        .filter(|((category, day), tickets)| {
            !category.is_empty() && (since_day..until_day).contains(day) && **tickets > 0
        })
        .map(|((category, day), tickets)| (*category, *day, *tickets))
        .collect();
    days.sort_unstable();
    // Before it, no day is known to have had no tickets.
    let Some(first_day) = daily.keys().map(|(_, day)| *day).min() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (category, day, tickets) in days {
        let mut baseline: Vec<f64> = (1..=BASELINE_WEEKS)
            .map(|week| day.saturating_sub(week.saturating_mul(7)))
            .filter(|earlier| *earlier >= first_day)
            .map(|earlier| daily.get(&(category, earlier)).copied().unwrap_or(0) as f64)
            .collect();
        if baseline.len() < MIN_BASELINE_WEEKS {
            continue;
        }
        let m = median(&mut baseline);
        let mut deviations: Vec<f64> = baseline.iter().map(|x| (x - m).abs()).collect();
        let mad = median(&mut deviations);
        let sigma = (1.4826 * mad).max(m.max(1.0).sqrt());
        let excess = tickets as f64 - m;
        if excess >= SPIKE_SIGMAS * sigma && excess >= SPIKE_MIN_EXCESS {
            found.push(Spike {
                category: category.to_owned(),
                day,
                tickets,
                baseline: m,
                sigmas: excess / sigma,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report from cells of any days, as the store would split them.
    fn report_of(cells: &[Cell], since: i64, until: i64) -> Report {
        let earlier: Vec<CellCount> = cells
            .iter()
            .filter(|c| c.day < since)
            .map(|c| CellCount {
                day: c.day,
                slice: c.slice.clone(),
                tickets: c.figures.tickets,
            })
            .collect();
        build(
            cells,
            &[],
            &earlier,
            &[],
            since,
            until,
            &[Dimension::Category],
        )
    }

    fn cell(day: i64, category: &str, tickets: u64) -> Cell {
        Cell {
            day,
            slice: Slice {
                category: category.into(),
                ..Slice::default()
            },
            figures: Figures {
                tickets,
                ..Figures::default()
            },
        }
    }

    #[test]
    fn a_burst_above_the_weekly_baseline_is_a_spike_and_noise_is_not() {
        // Ten weeks of "returns" at 20 a day ± 3, weekends at 8; then one day at 60.
        let mut cells = Vec::new();
        for day in 0..70 {
            let weekend = day % 7 >= 5;
            let noise = [0i64, 3, -2, 1, -3, 2, -1][(day % 7) as usize];
            let base = if weekend { 8 } else { 20 };
            cells.push(cell(day, "returns", (base + noise) as u64));
            cells.push(cell(day, "shipping", 2));
        }
        cells.push(cell(66, "returns", 40));
        let report = report_of(&cells, 63, 70);
        assert_eq!(report.spikes.len(), 1, "{:?}", report.spikes);
        assert_eq!(
            (report.spikes[0].category.as_str(), report.spikes[0].day),
            ("returns", 66)
        );
        // A quiet category does not spike on a few tickets more.
        let mut quiet = cells.clone();
        quiet.push(cell(65, "shipping", 4));
        let report = report_of(&quiet, 63, 70);
        assert!(report.spikes.iter().all(|s| s.category != "shipping"));
        // A new tenant's ordinary days are not spikes over the days before it began.
        let young: Vec<_> = cells.iter().filter(|c| c.day >= 35).cloned().collect();
        let report = report_of(&young, 63, 70);
        assert_eq!(
            report.spikes.len(),
            1,
            "with four weeks known, the burst alone: {:?}",
            report.spikes
        );
        let younger: Vec<_> = cells.iter().filter(|c| c.day >= 49).cloned().collect();
        assert!(
            report_of(&younger, 63, 70).spikes.is_empty(),
            "two weeks are too few to judge"
        );
    }

    #[test]
    fn correction_rates_per_pair_compare_with_the_period_before() {
        let fact = |day, translated, corrected| TranslationFact {
            day,
            source: "zh".into(),
            target: "es".into(),
            translated,
            corrected,
        };
        let facts = [fact(0, 10, 1), fact(7, 8, 2), fact(8, 2, 0), fact(20, 5, 5)];
        let report = build(&[], &[], &[], &facts, 7, 14, &[]);
        assert_eq!(report.pairs.len(), 1);
        let pair = &report.pairs[0];
        assert_eq!((pair.translated, pair.corrected), (10, 2));
        assert_eq!(pair.correction_rate, Some(0.2));
        assert_eq!(pair.previous_correction_rate, Some(0.1));
    }

    #[test]
    fn lines_compare_with_the_period_before() {
        let cells = [
            cell(0, "a", 3),
            cell(7, "a", 5),
            cell(7, "", 5),
            cell(0, "b", 2),
        ];
        let report = report_of(&cells, 7, 14);
        let line = |name: &str| {
            report
                .lines
                .iter()
                .find(|l| l.key == [name])
                .expect("a line")
                .clone()
        };
        assert_eq!(
            (line("a").measures.tickets, line("a").previous_tickets),
            (5, 3)
        );
        assert_eq!(
            (line("b").measures.tickets, line("b").previous_tickets),
            (0, 2)
        );
        assert_eq!(report.uncategorised, Some(0.5));
        assert_eq!(
            (report.total.measures.tickets, report.total.previous_tickets),
            (10, 5)
        );
    }
}
