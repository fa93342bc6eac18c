//! A coverage heat map of a [`Plan`] as one self-contained SVG document.
//!
//! This module owns the picture: one panel per language, rows Monday to Sunday
//! (local days in the display zone), 24 columns for the local hours. A cell
//! summarizes the plan's intervals that start in that local hour, conservatively:
//! the **largest** requirement and the **smallest** scheduled count among them, so
//! a half hour short shows even when the other half is covered. Colours: reds for
//! a shortfall, darker as a larger share of the requirement is missing; light
//! green where the requirement is met exactly, darker green where it is exceeded;
//! light grey where nothing is required; white where the week has no interval
//! (the hour skipped by a spring-forward change). When the week does not start at
//! local midnight, a weekday row holds the week's first and last partial days.
//! Cells show `scheduled/required` when they are large enough, and a tooltip.
//!
//! The SVG is built with `format!`, every text escaped; no dependency.

use std::fmt::Write as _;

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::plan::Plan;

/// Cell size of the heat map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeatmapStyle {
    /// Width of an hour cell in pixels.
    pub cell_width: u32,
    /// Height of a day row in pixels.
    pub cell_height: u32,
}

impl Default for HeatmapStyle {
    fn default() -> Self {
        HeatmapStyle {
            cell_width: 34,
            cell_height: 22,
        }
    }
}

/// Smallest cell that shows its `s/r` text.
const TEXT_MIN_WIDTH: u32 = 28;
const TEXT_MIN_HEIGHT: u32 = 14;

const LEFT: u32 = 96;
const RIGHT: u32 = 16;
const HEADER: u32 = 96;
const PANEL_TITLE: u32 = 22;
const HOUR_LABELS: u32 = 16;
const PANEL_GAP: u32 = 20;

const NO_INTERVAL: &str = "#ffffff";
const NO_DEMAND: &str = "#eeeeee";
const MET: &str = "#a1d99b";
const OVER: &str = "#41ab5d";
/// Reds for up to 25 %, 50 %, 75 % and more of the requirement missing.
const SHORT: [&str; 4] = ["#fcbba1", "#fc9272", "#ef3b2c", "#a50f15"];

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// One hour of one local weekday.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    intervals: u32,
    required: u32,
    scheduled: u32,
}

impl Cell {
    fn add(&mut self, required: u32, scheduled: u32) {
        if self.intervals == 0 {
            self.required = required;
            self.scheduled = scheduled;
        } else {
            self.required = self.required.max(required);
            self.scheduled = self.scheduled.min(scheduled);
        }
        self.intervals += 1;
    }

    /// Fill and text colour.
    fn colours(&self) -> (&'static str, &'static str) {
        if self.intervals == 0 {
            return (NO_INTERVAL, "#999999");
        }
        if self.required == 0 {
            return (NO_DEMAND, "#777777");
        }
        if self.scheduled >= self.required {
            return if self.scheduled == self.required {
                (MET, "#000000")
            } else {
                (OVER, "#000000")
            };
        }
        let missing = f64::from(self.required - self.scheduled) / f64::from(self.required);
        let step = ((missing * 4.0).ceil() as usize).clamp(1, 4) - 1;
        (SHORT[step], if step >= 2 { "#ffffff" } else { "#000000" })
    }
}

/// The heat map of `plan` with local days and hours in `display_zone`, default
/// cell size.
pub fn heatmap_svg(plan: &Plan, display_zone: &TimeZone) -> String {
    heatmap_svg_with(plan, display_zone, &HeatmapStyle::default())
}

/// The heat map of `plan` with local days and hours in `display_zone`.
pub fn heatmap_svg_with(plan: &Plan, display_zone: &TimeZone, style: &HeatmapStyle) -> String {
    let (cw, ch) = (style.cell_width.max(1), style.cell_height.max(1));
    let zone_name = display_zone.iana_name().unwrap_or("display zone");
    let panel_height = PANEL_TITLE + HOUR_LABELS + 7 * ch + PANEL_GAP;
    let width = LEFT + 24 * cw + RIGHT;
    let height = HEADER + panel_height * plan.languages.len().max(1) as u32;
    let show_text = cw >= TEXT_MIN_WIDTH && ch >= TEXT_MIN_HEIGHT;

    // Local weekday and hour of every interval, and a date for each row label.
    let mut positions = Vec::with_capacity(plan.intervals());
    let mut row_dates: [Option<Date>; 7] = [None; 7];
    for i in 0..plan.intervals() {
        let local = display_zone.to_datetime(plan.interval_start(i));
        let row = local.date().weekday().to_monday_zero_offset() as usize;
        row_dates[row].get_or_insert(local.date());
        positions.push((row, local.hour() as usize));
    }

    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"##
    );
    svg.push('\n');
    let _ = writeln!(
        svg,
        r##"<rect width="{width}" height="{height}" fill="#ffffff"/>"##
    );
    let start = display_zone.to_datetime(plan.week_start);
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="24" font-size="16" font-weight="bold">{}</text>"##,
        escape(&format!(
            "Coverage by hour, week from {} ({zone_name}): {:.1} % covered",
            start.strftime("%a %d %b %Y %H:%M"),
            plan.coverage_ratio() * 100.0
        ))
    );
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="42" fill="#555555">{}</text>"##,
        escape(&format!(
            "Cells: scheduled/required agents, the hour's smallest and largest over its {}-minute intervals.",
            plan.interval_minutes
        ))
    );
    legend(&mut svg, 62);

    let totals = plan.totals();
    for (p, language) in plan.languages.iter().enumerate() {
        let mut cells = [[Cell::default(); 24]; 7];
        for (i, &(row, hour)) in positions.iter().enumerate() {
            let (required, scheduled) = plan.at(language, i);
            cells[row][hour].add(required, scheduled);
        }
        let top = HEADER + p as u32 * panel_height;
        let grid_top = top + PANEL_TITLE + HOUR_LABELS;
        let _ = writeln!(
            svg,
            r##"<g class="panel" data-language="{lang}">"##,
            lang = escape(language)
        );
        let t = totals.get(language).copied().unwrap_or_default();
        let _ = writeln!(
            svg,
            r##"<text x="8" y="{}" font-size="14" font-weight="bold">{}</text>"##,
            top + 15,
            escape(&format!(
                "{language}: {:.1} of {:.1} required agent-hours uncovered",
                t.uncovered_hours, t.required_hours
            ))
        );
        // Axis labels: hours across the top, days down the left.
        let _ = writeln!(
            svg,
            r##"<text x="8" y="{}" font-size="10" fill="#555555">{}</text>"##,
            grid_top - 4,
            escape(&format!("day \\ hour ({zone_name})"))
        );
        for hour in 0..24u32 {
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#555555">{hour:02}</text>"##,
                LEFT + hour * cw + cw / 2,
                grid_top - 4
            );
        }
        for (row, day) in WEEKDAYS.iter().enumerate() {
            let label = row_dates[row].map_or_else(
                || (*day).to_owned(),
                |date| date.strftime("%a %d %b").to_string(),
            );
            let y = grid_top + row as u32 * ch;
            let _ = writeln!(
                svg,
                r##"<text x="8" y="{}" dominant-baseline="middle">{}</text>"##,
                y + ch / 2,
                escape(&label)
            );
            for (hour, cell) in cells[row].iter().enumerate() {
                let x = LEFT + hour as u32 * cw;
                let (fill, ink) = cell.colours();
                let tip = if cell.intervals == 0 {
                    format!("{language} {day} {hour:02}:00: not in the week")
                } else {
                    format!(
                        "{language} {day} {hour:02}:00: required {}, scheduled {}",
                        cell.required, cell.scheduled
                    )
                };
                let _ = writeln!(
                    svg,
                    r##"<rect class="cell" data-day="{row}" data-hour="{hour}" x="{x}" y="{y}" width="{cw}" height="{ch}" fill="{fill}" stroke="#ffffff"><title>{}</title></rect>"##,
                    escape(&tip)
                );
                if show_text && cell.intervals > 0 && (cell.required > 0 || cell.scheduled > 0) {
                    let _ = writeln!(
                        svg,
                        r##"<text x="{}" y="{}" font-size="10" text-anchor="middle" dominant-baseline="middle" fill="{ink}">{}/{}</text>"##,
                        x + cw / 2,
                        y + ch / 2,
                        cell.scheduled,
                        cell.required
                    );
                }
            }
        }
        let _ = writeln!(svg, "</g>");
    }
    if plan.languages.is_empty() {
        let _ = writeln!(
            svg,
            r##"<text x="{LEFT}" y="{}">No languages in this plan.</text>"##,
            HEADER + 20
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The colour legend, one swatch per class.
fn legend(svg: &mut String, y: u32) {
    let entries = [
        (NO_DEMAND, "no demand"),
        (MET, "met"),
        (OVER, "over"),
        (SHORT[0], "short ≤25 %"),
        (SHORT[1], "short ≤50 %"),
        (SHORT[2], "short ≤75 %"),
        (SHORT[3], "short >75 %"),
    ];
    let _ = writeln!(svg, r##"<g class="legend">"##);
    let mut x = LEFT;
    for (fill, label) in entries {
        let _ = writeln!(
            svg,
            r##"<rect x="{x}" y="{y}" width="14" height="14" fill="{fill}" stroke="#999999"/><text x="{}" y="{}">{}</text>"##,
            x + 18,
            y + 11,
            escape(label)
        );
        x += 26 + 7 * label.chars().count() as u32;
    }
    let _ = writeln!(svg, "</g>");
}

/// Escapes text for XML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Gap, Plan};
    use jiff::Timestamp;
    use quick_xml::Reader;
    use quick_xml::events::Event;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    /// es: 1 required and 1 scheduled on weekdays 09–17 UTC, 2 scheduled on
    /// Wednesday; fr: 2 required Tuesday 10–12 UTC, nobody scheduled.
    fn plan() -> Plan {
        let n = 336;
        let mut es_required = vec![0; n];
        let mut es_scheduled = vec![0; n];
        for day in 0..5 {
            for half in 18..34 {
                es_required[day * 48 + half] = 1;
                es_scheduled[day * 48 + half] = if day == 2 { 2 } else { 1 };
            }
        }
        let mut fr_required = vec![0; n];
        for half in 20..24 {
            fr_required[48 + half] = 2;
        }
        Plan {
            week_start: ts("2026-03-02T00:00Z"),
            week_end: ts("2026-03-09T00:00Z"),
            interval_minutes: 30,
            shifts: vec![],
            languages: vec!["es".into(), "fr".into()],
            required: [("es".into(), es_required), ("fr".into(), fr_required)].into(),
            scheduled: [("es".into(), es_scheduled), ("fr".into(), vec![0; n])].into(),
            gaps: vec![Gap {
                language: "fr".into(),
                start: ts("2026-03-03T10:00Z"),
                end: ts("2026-03-03T12:00Z"),
                missing: 2,
            }],
        }
    }

    /// Parses the document, checking that every tag closes in order.
    fn check_well_formed(svg: &str) {
        let mut reader = Reader::from_str(svg);
        let mut stack: Vec<Vec<u8>> = Vec::new();
        let mut root = false;
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) => {
                    root |= stack.is_empty() && e.name().as_ref() == b"svg";
                    stack.push(e.name().as_ref().to_vec());
                }
                Event::End(e) => {
                    assert_eq!(stack.pop().as_deref(), Some(e.name().as_ref()));
                }
                Event::Text(t) => {
                    t.unescape().expect("text escapes");
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert!(root, "the root is <svg>");
        assert!(stack.is_empty(), "unclosed: {stack:?}");
    }

    /// The fill of the cell of `language` on weekday `day` (0 = Monday), `hour`.
    fn fill(svg: &str, language: &str, day: usize, hour: usize) -> (u8, u8, u8) {
        let panel = svg
            .split(r##"<g class="panel" data-language=""##)
            .find(|p| p.starts_with(&format!("{language}\"")))
            .expect("panel");
        let needle = format!(r##"data-day="{day}" data-hour="{hour}""##);
        let at = panel.find(&needle).expect("cell");
        let rest = &panel[at..];
        let start = rest.find("fill=\"#").expect("fill") + 7;
        let hex = &rest[start..start + 6];
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex");
        (byte(0), byte(2), byte(4))
    }

    #[test]
    fn the_svg_is_well_formed_with_one_panel_per_language() {
        let svg = heatmap_svg(&plan(), &TimeZone::UTC);
        check_well_formed(&svg);
        assert_eq!(svg.matches(r##"<g class="panel""##).count(), 2);
        assert!(svg.contains(r##"data-language="es""##));
        assert!(svg.contains(r##"data-language="fr""##));
        assert_eq!(svg.matches(r##"class="cell""##).count(), 2 * 7 * 24);
        assert!(svg.contains("Coverage by hour, week from Mon 02 Mar 2026 00:00 (UTC): "));
        assert!(svg.contains("Tue 03 Mar"));
    }

    #[test]
    fn shortfalls_are_red_and_covered_hours_green() {
        let svg = heatmap_svg(&plan(), &TimeZone::UTC);
        let (r, g, b) = fill(&svg, "fr", 1, 10);
        assert!(
            r > 120 && r as u32 > g as u32 + 60 && r as u32 > b as u32 + 60,
            "{r} {g} {b}"
        );
        assert!(svg.contains(">0/2</text>"));
        let (r, g, _) = fill(&svg, "es", 0, 9);
        assert!(g > r, "met is green");
        assert_eq!(fill(&svg, "es", 2, 9), fill(&svg, "es", 2, 10), "over");
        assert_ne!(
            fill(&svg, "es", 2, 9),
            fill(&svg, "es", 0, 9),
            "over is not met"
        );
        assert_eq!(
            fill(&svg, "es", 5, 9),
            (0xee, 0xee, 0xee),
            "no demand is grey"
        );
    }

    #[test]
    fn days_and_hours_follow_the_display_zone() {
        let tokyo = TimeZone::get("Asia/Tokyo").expect("zone");
        let svg = heatmap_svg(&plan(), &tokyo);
        check_well_formed(&svg);
        // Tuesday 10:00 UTC is Tuesday 19:00 in Tokyo.
        let (r, g, _) = fill(&svg, "fr", 1, 19);
        assert!(r > g);
        assert_eq!(fill(&svg, "fr", 1, 10), (0xee, 0xee, 0xee));
        // The week starts Monday 09:00 there: Monday's early hours are the next Monday's.
        assert!(svg.contains("Asia/Tokyo"));
    }

    #[test]
    fn a_half_hour_short_marks_its_hour_and_small_cells_have_no_text() {
        let mut plan = plan();
        plan.scheduled.get_mut("es").expect("es")[18] = 0; // Monday 09:00–09:30
        let svg = heatmap_svg_with(
            &plan,
            &TimeZone::UTC,
            &HeatmapStyle {
                cell_width: 12,
                cell_height: 10,
            },
        );
        check_well_formed(&svg);
        let (r, g, _) = fill(&svg, "es", 0, 9);
        assert!(r > g, "the hour shows its worst interval");
        assert!(!svg.contains("/1</text>"));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r##"<a & "b" 'c'>"##),
            "&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;"
        );
        let svg = heatmap_svg(
            &Plan {
                languages: vec![],
                ..plan()
            },
            &TimeZone::UTC,
        );
        check_well_formed(&svg);
        assert!(svg.contains("No languages"));
    }
}
