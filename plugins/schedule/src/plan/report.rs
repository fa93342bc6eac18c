//! The plain-text report of a [`Plan`]: [`render_table`] and its time formatting.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use super::{Plan, Shift};

/// A plain-text report of `plan` with times in `display_zone`: agent-hours per
/// language and local day, the gaps, and every agent's shifts in their own time
/// and in `display_zone`.
pub fn render_table(plan: &Plan, display_zone: &TimeZone) -> String {
    let zone_name = display_zone
        .iana_name()
        .unwrap_or("the display zone")
        .to_owned();
    let hours = plan.interval_hours();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Staffing plan for the week from {} ({zone_name}), {}-minute intervals",
        local(display_zone, plan.week_start).strftime("%a %d %b %Y %H:%M"),
        plan.interval_minutes
    );
    let totals = plan.totals();
    let required: f64 = totals.values().map(|t| t.required_hours).sum();
    let _ = writeln!(
        out,
        "Coverage {:.1} %: {:.1} of {:.1} required agent-hours uncovered; {} shifts.\n",
        plan.coverage_ratio() * 100.0,
        plan.uncovered_agent_hours(),
        required,
        plan.shifts.len()
    );

    let width = plan
        .languages
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(0)
        .max(8);
    let _ = writeln!(
        out,
        "{:<width$}  {:<10}  {:>9}  {:>9}  {:>9}",
        "Language", "Day", "Required", "Scheduled", "Uncovered"
    );
    for language in &plan.languages {
        let mut days: BTreeMap<Date, (f64, f64, f64)> = BTreeMap::new();
        for i in 0..plan.intervals() {
            let (r, s) = plan.at(language, i);
            let day = days
                .entry(local(display_zone, plan.interval_start(i)).date())
                .or_default();
            day.0 += f64::from(r) * hours;
            day.1 += f64::from(s) * hours;
            day.2 += f64::from(r.saturating_sub(s)) * hours;
        }
        for (date, (r, s, u)) in &days {
            let _ = writeln!(
                out,
                "{language:<width$}  {:<10}  {r:>9.1}  {s:>9.1}  {u:>9.1}",
                date.strftime("%a %d %b").to_string()
            );
        }
        let t = totals.get(language).copied().unwrap_or_default();
        let _ = writeln!(
            out,
            "{language:<width$}  {:<10}  {:>9.1}  {:>9.1}  {:>9.1}\n",
            "week", t.required_hours, t.scheduled_hours, t.uncovered_hours
        );
    }

    let _ = writeln!(out, "Gaps ({zone_name})");
    if plan.gaps.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for gap in &plan.gaps {
        let _ = writeln!(
            out,
            "{:<width$}  {}  missing {}",
            gap.language,
            span(display_zone, gap.start, gap.end),
            gap.missing
        );
    }

    let _ = writeln!(out, "\nShifts (agent's time, then {zone_name})");
    let mut by_agent: BTreeMap<&str, Vec<&Shift>> = BTreeMap::new();
    for shift in &plan.shifts {
        by_agent.entry(&shift.agent_id).or_default().push(shift);
    }
    for (id, shifts) in &by_agent {
        let Some(first) = shifts.first() else {
            continue;
        };
        let zone = TimeZone::get(&first.time_zone).unwrap_or(TimeZone::UTC);
        let total: f64 = shifts.iter().map(|s| s.hours()).sum();
        let _ = writeln!(
            out,
            "{id} ({}) {}, {}: {total:.1} h",
            first.agent_name,
            first.time_zone,
            first.languages.join("/")
        );
        for shift in shifts {
            let _ = writeln!(
                out,
                "  {}  = {}",
                span(&zone, shift.start, shift.end),
                span(display_zone, shift.start, shift.end)
            );
        }
    }
    out
}

fn local(zone: &TimeZone, at: Timestamp) -> DateTime {
    zone.to_datetime(at)
}

/// "Tue 02 Dec 22:00–24:00", or with the end's day when it is another one.
fn span(zone: &TimeZone, start: Timestamp, end: Timestamp) -> String {
    let (s, e) = (local(zone, start), local(zone, end));
    let head = s.strftime("%a %d %b %H:%M").to_string();
    if e.date() == s.date() {
        format!("{head}–{}", e.strftime("%H:%M"))
    } else if e.time() == jiff::civil::Time::midnight()
        && s.date().tomorrow().ok() == Some(e.date())
    {
        format!("{head}–24:00")
    } else {
        format!("{head}–{}", e.strftime("%a %d %b %H:%M"))
    }
}
