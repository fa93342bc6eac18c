//! Charts of a report as standalone SVG: tickets per day (bars), the share of
//! positive ratings per day (a line, gaps where nobody rated), and the median
//! first-reply time by language and hour (a heatmap). Each mark carries what it
//! shows (`data-day`, `data-language`, `data-hour`, `data-value`) and a `<title>`
//! a browser shows on hover, so a chart can be read by people and checked by
//! programs.

use std::fmt::Write as _;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 36.0;

/// `YYYY-MM-DD` of a day since the Unix epoch.
pub fn date(day: i64) -> String {
    jiff::Timestamp::from_second(day.saturating_mul(super::DAY_SECS))
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| day.to_string())
}

/// Text for SVG or HTML: `&`, `<`, `>` and quotes escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A round top for an axis over values up to `max`: 1, 2 or 5 times a power of ten.
fn axis_top(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|top| *top >= max)
        .unwrap_or(10.0 * power)
}

struct Frame {
    first_day: i64,
    days: usize,
    top: f64,
}

impl Frame {
    fn slot(&self) -> f64 {
        (WIDTH - LEFT - RIGHT) / self.days.max(1) as f64
    }

    fn x(&self, day: i64) -> f64 {
        LEFT + day.saturating_sub(self.first_day) as f64 * self.slot()
    }

    fn y(&self, value: f64) -> f64 {
        TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - value / self.top)
    }

    /// The document's start, title, axes and labels.
    fn open(&self, title: &str, label: impl Fn(f64) -> String) -> String {
        let mut svg = String::new();
        let _ = write!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
             viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"11\">\
             <title>{}</title>\
             <text x=\"{LEFT}\" y=\"16\" font-size=\"13\">{}</text>",
            escape(title),
            escape(title)
        );
        for step in 0..=4 {
            let value = self.top * f64::from(step) / 4.0;
            let y = self.y(value);
            let _ = write!(
                svg,
                "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
                 <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                WIDTH - RIGHT,
                LEFT - 4.0,
                y + 4.0,
                escape(&label(value))
            );
        }
        // A date under every seventh day, from the first.
        for offset in (0..self.days).step_by(7) {
            let day = self.first_day.saturating_add(offset as i64);
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\">{}</text>",
                self.x(day),
                HEIGHT - 14.0,
                date(day)
            );
        }
        svg
    }
}

/// Tickets per day, one bar each, over days `[first_day, first_day + days)`.
pub fn tickets_per_day(title: &str, first_day: i64, days: usize, tickets: &[(i64, u64)]) -> String {
    let max = tickets.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let frame = Frame {
        first_day,
        days,
        top: axis_top(max as f64),
    };
    let mut svg = frame.open(title, |v| format!("{v:.0}"));
    let width = (frame.slot() * 0.8).max(1.0);
    for (day, n) in tickets {
        let y = frame.y(*n as f64);
        let _ = write!(
            svg,
            "<rect class=\"bar\" data-day=\"{}\" data-value=\"{n}\" x=\"{:.1}\" y=\"{y:.1}\" \
             width=\"{width:.1}\" height=\"{:.1}\" fill=\"#3b6ea8\"><title>{}: {n} tickets</title></rect>",
            date(*day),
            frame.x(*day),
            (HEIGHT - BOTTOM - y).max(0.0),
            date(*day)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// A share (0 to 1) per day as a line, with a dot per day that has one.
pub fn share_per_day(
    title: &str,
    first_day: i64,
    days: usize,
    shares: &[(i64, Option<f64>)],
) -> String {
    let frame = Frame {
        first_day,
        days,
        top: 1.0,
    };
    let mut svg = frame.open(title, |v| format!("{:.0}%", v * 100.0));
    let middle = frame.slot() / 2.0;
    // The line breaks where a day has no value, or is not given (no tickets).
    let mut path = String::new();
    let mut pen_down = false;
    let mut last_day: Option<i64> = None;
    for (day, share) in shares {
        let follows = last_day.is_some_and(|last| last.saturating_add(1) == *day);
        last_day = Some(*day);
        match share {
            Some(share) => {
                let command = if pen_down && follows { 'L' } else { 'M' };
                let _ = write!(
                    path,
                    "{command}{:.1} {:.1} ",
                    frame.x(*day) + middle,
                    frame.y(share.clamp(0.0, 1.0))
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let _ = write!(
        svg,
        "<path d=\"{}\" fill=\"none\" stroke=\"#2e8b57\" stroke-width=\"2\"/>",
        path.trim_end()
    );
    for (day, share) in shares {
        if let Some(share) = share {
            let _ = write!(
                svg,
                "<circle class=\"point\" data-day=\"{}\" data-value=\"{share}\" cx=\"{:.1}\" \
                 cy=\"{:.1}\" r=\"2.5\" fill=\"#2e8b57\"><title>{}: {:.1}%</title></circle>",
                date(*day),
                frame.x(*day) + middle,
                frame.y(share.clamp(0.0, 1.0)),
                date(*day),
                share * 100.0
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// One square of the heatmap: a language's first replies to tickets first seen
/// in one hour (UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct HeatCell {
    pub language: String,
    pub hour: u8,
    pub replied: u64,
    pub median_s: f64,
}

/// Median first-reply time by language (rows) and hour of the day (columns):
/// the darker, the longer customers of that language waited.
pub fn first_reply_heatmap(title: &str, cells: &[HeatCell]) -> String {
    let mut languages: Vec<&str> = cells.iter().map(|c| c.language.as_str()).collect();
    languages.sort_unstable();
    languages.dedup();
    let row = 18.0;
    let column = (WIDTH - LEFT - RIGHT) / 24.0;
    let height = TOP + row * languages.len() as f64 + BOTTOM;
    // Darkness grows with the logarithm of the wait, up to the longest one.
    let longest = cells.iter().map(|c| c.median_s).fold(1.0_f64, f64::max);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"11\">\
         <title>{}</title><text x=\"{LEFT}\" y=\"16\" font-size=\"13\">{}</text>",
        escape(title),
        escape(title)
    );
    for (index, language) in languages.iter().enumerate() {
        let y = TOP + row * index as f64;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT - 4.0,
            y + row * 0.7,
            escape(if language.is_empty() { "?" } else { language })
        );
        for cell in cells.iter().filter(|c| c.language == *language) {
            let depth = ((cell.median_s + 1.0).ln() / (longest + 1.0).ln()).clamp(0.0, 1.0);
            let lightness = 95.0 - depth * 60.0;
            let _ = write!(
                svg,
                "<rect class=\"cell\" data-language=\"{}\" data-hour=\"{}\" data-value=\"{:.0}\" \
                 x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" \
                 fill=\"hsl(25, 80%, {lightness:.0}%)\"><title>{} at {:02}:00 UTC: median {:.0} min \
                 ({} replies)</title></rect>",
                escape(language),
                cell.hour,
                cell.median_s,
                LEFT + column * f64::from(cell.hour),
                column - 1.0,
                row - 1.0,
                escape(language),
                cell.hour,
                cell.median_s / 60.0,
                cell.replied
            );
        }
    }
    for hour in (0..24).step_by(3) {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\">{hour:02}h</text>",
            LEFT + column * f64::from(hour),
            height - 14.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heatmap_has_a_square_per_language_and_hour_with_replies() {
        let cell = |language: &str, hour, median_s| HeatCell {
            language: language.into(),
            hour,
            replied: 3,
            median_s,
        };
        let svg = first_reply_heatmap(
            "waits",
            &[
                cell("es", 9, 120.0),
                cell("es", 22, 7_200.0),
                cell("ja", 3, 600.0),
            ],
        );
        assert_eq!(svg.matches("class=\"cell\"").count(), 3);
        assert!(
            svg.contains("data-language=\"es\" data-hour=\"22\" data-value=\"7200\""),
            "{svg}"
        );
        // Two rows: es and ja.
        assert!(svg.contains(">es</text>") && svg.contains(">ja</text>"));
    }

    #[test]
    fn a_share_line_breaks_where_a_day_has_no_value_or_no_tickets() {
        let svg = share_per_day(
            "acme",
            20_000,
            5,
            &[
                (20_000, Some(0.5)),
                (20_001, Some(0.6)),
                (20_003, Some(0.7)),
                (20_004, None),
            ],
        );
        let path = svg.split("<path d=\"").nth(1).expect("a path");
        let moves = path
            .split('"')
            .next()
            .expect("its data")
            .matches('M')
            .count();
        assert_eq!(moves, 2, "a line from day 0 to 1, a point on day 3: {path}");
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(axis_top(0.0), 1.0);
        assert_eq!(axis_top(7.0), 10.0);
        assert_eq!(axis_top(42.0), 50.0);
        assert_eq!(axis_top(120.0), 200.0);
        assert_eq!(axis_top(1.0), 1.0);
    }

    #[test]
    fn a_chart_escapes_its_title_and_marks_each_day() {
        let svg = tickets_per_day("acme <&> \"co\"", 20_000, 3, &[(20_000, 4), (20_002, 9)]);
        assert!(svg.contains("acme &lt;&amp;&gt; &quot;co&quot;"), "{svg}");
        assert_eq!(svg.matches("class=\"bar\"").count(), 2);
        assert!(
            svg.contains("data-day=\"2024-10-06\" data-value=\"9\""),
            "{svg}"
        );
        let line = share_per_day(
            "csat",
            20_000,
            3,
            &[(20_000, Some(0.5)), (20_001, None), (20_002, Some(1.0))],
        );
        assert_eq!(line.matches("class=\"point\"").count(), 2);
        // The gap day breaks the line: two moves, no line-to.
        let path = line
            .split("<path d=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a path");
        assert_eq!(
            (path.matches('M').count(), path.matches('L').count()),
            (2, 0),
            "{path}"
        );
    }
}
