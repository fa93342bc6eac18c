//! The run as an SVG chart, written as plain text: four panels over the run's
//! time — steady tenants' p50 and p99 latency per 10-second window (log scale),
//! the sidecar's resident memory, events acknowledged per second, and CPU (the
//! sidecar's, and the whole machine's, which it shares) — with the quiet run and
//! each fault's period shaded and named.

use std::fmt::Write as _;

use std::time::Duration;

use crate::report::{Injected, WINDOW, Window};

const WIDTH: f64 = 960.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const PANEL: f64 = 170.0;
const GAP: f64 = 45.0;

/// One panel's vertical scale.
struct Scale {
    top: f64,
    min: f64,
    max: f64,
    log: bool,
}

impl Scale {
    fn y(&self, value: f64) -> f64 {
        let fraction = if self.log {
            (value.max(self.min).ln() - self.min.ln()) / (self.max.ln() - self.min.ln())
        } else {
            (value - self.min) / (self.max - self.min)
        };
        self.top + PANEL * (1.0 - fraction.clamp(0.0, 1.0))
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A polyline through the points that have a value; a window without one breaks
/// the line (the sidecar was down, or nothing was measured).
fn series(
    out: &mut String,
    windows: &[Window],
    x: &dyn Fn(f64) -> f64,
    scale: &Scale,
    value: &dyn Fn(&Window) -> Option<f64>,
    colour: &str,
) {
    let mut run: Vec<String> = Vec::new();
    let flush = |out: &mut String, run: &mut Vec<String>| {
        if run.len() > 1 {
            let _ = writeln!(
                out,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{}"/>"#,
                run.join(" ")
            );
        } else if let Some(point) = run.first() {
            let (cx, cy) = point.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(
                out,
                r#"<circle cx="{cx}" cy="{cy}" r="2" fill="{colour}"/>"#
            );
        }
        run.clear();
    };
    for w in windows {
        match value(w) {
            Some(v) => run.push(format!(
                "{:.1},{:.1}",
                x(w.from.as_secs_f64() + WINDOW.as_secs_f64() / 2.0),
                scale.y(v)
            )),
            None => flush(out, &mut run),
        }
    }
    flush(out, &mut run);
}

fn nice_max(value: f64) -> f64 {
    let value = value.max(1.0) * 1.15;
    let magnitude = 10f64.powf(value.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|s| s * magnitude)
        .find(|s| *s >= value / 4.0)
        .unwrap_or(magnitude * 10.0);
    (value / step).ceil() * step
}

const PANELS: f64 = 4.0;

/// The chart of a run `end_s` seconds long whose quiet run was `quiet`.
pub(crate) fn svg(
    title: &str,
    end_s: f64,
    quiet: (Duration, Duration),
    windows: &[Window],
    injected: &[Injected],
) -> String {
    let plot = WIDTH - LEFT - RIGHT;
    let x = |t: f64| LEFT + plot * (t / end_s).clamp(0.0, 1.0);
    let span = PANELS * PANEL + (PANELS - 1.0) * GAP;
    let height = TOP + span + 45.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{}</text>"#,
        escape(title)
    );
    let max_latency = windows
        .iter()
        .filter_map(|w| w.steady.map(|s| s.1))
        .fold(10.0, f64::max);
    let max_rss = windows
        .iter()
        .filter_map(|w| w.usage.rss_max_mib)
        .fold(1.0, f64::max);
    let max_rate = windows
        .iter()
        .map(|w| w.events_per_second)
        .fold(1.0, f64::max);
    let max_cpu = windows
        .iter()
        .flat_map(|w| [w.usage.cpu_percent, w.usage.machine_percent])
        .flatten()
        .fold(10.0, f64::max);
    let panels = [
        (
            "steady tenants' latency per 10 s (ms, log)",
            Scale {
                top: TOP,
                min: 1.0,
                max: 10f64.powf(max_latency.log10().ceil()).max(100.0),
                log: true,
            },
        ),
        (
            "sidecar RSS (MiB)",
            Scale {
                top: TOP + PANEL + GAP,
                min: 0.0,
                max: nice_max(max_rss),
                log: false,
            },
        ),
        (
            "events acknowledged per second",
            Scale {
                top: TOP + 2.0 * (PANEL + GAP),
                min: 0.0,
                max: nice_max(max_rate),
                log: false,
            },
        ),
        (
            "CPU: sidecar (% of one core), machine (% of all cores, shared)",
            Scale {
                top: TOP + 3.0 * (PANEL + GAP),
                min: 0.0,
                max: nice_max(max_cpu),
                log: false,
            },
        ),
    ];
    let (quiet_from, quiet_to) = (quiet.0.as_secs_f64(), quiet.1.as_secs_f64());
    let _ = writeln!(
        out,
        r##"<rect x="{:.1}" y="{TOP}" width="{:.1}" height="{span:.1}" fill="#9ae6b4" fill-opacity="0.25"/><text x="{:.1}" y="{:.1}" fill="#276749">quiet (baseline)</text>"##,
        x(quiet_from),
        x(quiet_to) - x(quiet_from),
        x(quiet_from) + 2.0,
        TOP + 12.0
    );
    // Fault periods, across all panels.
    for (n, fault) in injected.iter().enumerate() {
        let (from, to) = (fault.from.as_secs_f64(), fault.to.as_secs_f64());
        let _ = writeln!(
            out,
            r##"<rect x="{:.1}" y="{TOP}" width="{:.1}" height="{:.1}" fill="#f4a6a6" fill-opacity="0.35"/>"##,
            x(from),
            (x(to) - x(from)).max(1.0),
            span
        );
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" fill="#a33">{}</text>"##,
            x(from) + 2.0,
            TOP - 6.0 + if n % 2 == 1 { -12.0 } else { 0.0 } + 12.0,
            escape(fault.fault.name())
        );
    }
    for (label, scale) in &panels {
        let bottom = scale.top + PANEL;
        let _ = writeln!(
            out,
            r##"<rect x="{LEFT}" y="{}" width="{plot}" height="{PANEL}" fill="none" stroke="#999"/>"##,
            scale.top
        );
        let _ = writeln!(
            out,
            r#"<text x="{LEFT}" y="{}" font-weight="bold">{}</text>"#,
            bottom + 28.0,
            escape(label)
        );
        let ticks: Vec<f64> = if scale.log {
            let mut t = Vec::new();
            let mut v = scale.min;
            while v <= scale.max * 1.0001 {
                t.push(v);
                v *= 10.0;
            }
            t
        } else {
            (0..=4)
                .map(|i| scale.min + (scale.max - scale.min) * f64::from(i) / 4.0)
                .collect()
        };
        for tick in ticks {
            let y = scale.y(tick);
            let _ = writeln!(
                out,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT + plot,
                LEFT - 5.0,
                y + 4.0,
                if tick >= 10.0 || tick == 0.0 {
                    format!("{tick:.0}")
                } else {
                    format!("{tick}")
                }
            );
        }
        // Time ticks every minute (or every 5 on a long run).
        let step = if end_s > 900.0 { 300.0 } else { 60.0 };
        let mut t = 0.0;
        while t <= end_s {
            let _ = writeln!(
                out,
                r##"<line x1="{0:.1}" y1="{bottom}" x2="{0:.1}" y2="{1}" stroke="#999"/><text x="{0:.1}" y="{2}" text-anchor="middle">{3:.0} s</text>"##,
                x(t),
                bottom + 4.0,
                bottom + 15.0,
                t
            );
            t += step;
        }
    }
    let [latency, rss, rate, cpu] = &panels;
    series(
        &mut out,
        windows,
        &x,
        &latency.1,
        &|w| w.steady.map(|s| s.0),
        "#2b6cb0",
    );
    series(
        &mut out,
        windows,
        &x,
        &latency.1,
        &|w| w.steady.map(|s| s.1),
        "#c05621",
    );
    series(
        &mut out,
        windows,
        &x,
        &rss.1,
        &|w| w.usage.rss_max_mib,
        "#2f855a",
    );
    series(
        &mut out,
        windows,
        &x,
        &rate.1,
        &|w| Some(w.events_per_second),
        "#553c9a",
    );
    series(
        &mut out,
        windows,
        &x,
        &cpu.1,
        &|w| w.usage.cpu_percent,
        "#2f855a",
    );
    series(
        &mut out,
        windows,
        &x,
        &cpu.1,
        &|w| w.usage.machine_percent,
        "#718096",
    );
    let legend_y = TOP + PANEL + 28.0;
    let _ = writeln!(
        out,
        r##"<text x="{:.1}" y="{legend_y}" fill="#2b6cb0">— p50</text><text x="{:.1}" y="{legend_y}" fill="#c05621">— p99</text><text x="{:.1}" y="{legend_y}" fill="#a33">red: fault</text>"##,
        LEFT + plot - 230.0,
        LEFT + plot - 170.0,
        LEFT + plot - 110.0
    );
    let legend_y = TOP + 4.0 * PANEL + 3.0 * GAP + 28.0;
    let _ = writeln!(
        out,
        r##"<text x="{:.1}" y="{legend_y}" fill="#2f855a">— sidecar</text><text x="{:.1}" y="{legend_y}" fill="#718096">— machine</text>"##,
        LEFT + plot - 150.0,
        LEFT + plot - 80.0
    );
    out.push_str("</svg>\n");
    out
}
