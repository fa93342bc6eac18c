//! The run's figures: per phase (the quiet run, each fault and its recovery) and
//! per 10-second window, the latency checks and the memory checks derived from
//! them, and their output — `report.json`, a Markdown table for BENCHMARKS.md
//! and the chart ([`crate::chart`]).

use std::time::Duration;

use crate::checks::Check;
use crate::load::Record;
use crate::plan::{Fault, Plan};
use crate::stats::{Sample, TICKS_PER_SECOND, p50_p99};
use crate::world::{LOOP_TENANT, STALL_TENANTS, is_steady};

/// Width of the windows the chart and `report.json` show.
pub(crate) const WINDOW: Duration = Duration::from_secs(10);
/// Steady tenants' p99 during a fault may be at most this many times the quiet p99.
pub(crate) const P99_RATIO: f64 = 2.0;
/// Events due this long before a SIGKILL and until this long after the restarted
/// sidecar listens are left out of the latency figures (they wait for the restart).
pub(crate) const KILL_BEFORE: Duration = Duration::from_secs(1);
pub(crate) const KILL_AFTER: Duration = Duration::from_secs(5);
/// The sidecar's resident memory must stay below this: four times the most it
/// used in trial runs (75–136 MiB), so that a leak of a few hundred MiB fails.
pub(crate) const RSS_BOUND_MIB: f64 = 512.0;
/// Within one process's life, after its first minute (caches full), the mean
/// RSS of the last quarter may exceed the first quarter's by at most this share.
pub(crate) const RSS_GROWTH: f64 = 0.10;
/// A life shorter than this (after its first minute) is too short to judge growth.
const MIN_GROWTH_SPAN: Duration = Duration::from_secs(30);

/// A fault as it happened.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Injected {
    pub(crate) fault: Fault,
    /// When it began and was lifted (since the load started).
    pub(crate) from: Duration,
    pub(crate) to: Duration,
    /// After a SIGKILL: when the new sidecar listened.
    pub(crate) ready: Option<Duration>,
}

/// What happened to the events left out of the latency figures around each
/// restart: how many were due, how many were acknowledged, the slowest.
pub(crate) fn left_out(injected: &[Injected], records: &[Record]) -> Vec<String> {
    excluded(injected)
        .iter()
        .map(|&(from, to)| {
            let due: Vec<&Record> = records
                .iter()
                .filter(|r| r.scheduled >= from && r.scheduled <= to)
                .collect();
            let slowest = due
                .iter()
                .filter(|r| r.acked)
                .map(|r| r.latency())
                .max()
                .unwrap_or_default();
            format!(
                "{} events due {:.1}–{:.1} s, around the SIGKILL: {} acknowledged, the slowest \
                 after {:.0} ms",
                due.len(),
                from.as_secs_f64(),
                to.as_secs_f64(),
                due.iter().filter(|r| r.acked).count(),
                slowest.as_secs_f64() * 1000.0
            )
        })
        .collect()
}

/// The stretch of time events are left out of latency figures for, around a
/// restart.
pub(crate) fn excluded(injected: &[Injected]) -> Vec<(Duration, Duration)> {
    injected
        .iter()
        .filter_map(|i| {
            i.ready
                .map(|ready| (i.from.saturating_sub(KILL_BEFORE), ready + KILL_AFTER))
        })
        .collect()
}

fn is_excluded(r: &Record, excluded: &[(Duration, Duration)]) -> bool {
    excluded
        .iter()
        .any(|&(from, to)| r.scheduled >= from && r.scheduled <= to)
}

/// The figures of one stretch of the run.
#[derive(Debug, Clone)]
pub(crate) struct Phase {
    pub(crate) name: String,
    pub(crate) fault: Option<Fault>,
    /// Is this the fault itself (not its recovery, nor the quiet run)?
    pub(crate) during_fault: bool,
    pub(crate) from: Duration,
    pub(crate) to: Duration,
    pub(crate) events: usize,
    pub(crate) acked: usize,
    /// Steady tenants' p50 and p99 latency, ms.
    pub(crate) steady: Option<(f64, f64)>,
    /// The tenants under this fault: which, and their p50 and p99, ms.
    pub(crate) faulted: Option<(String, Option<(f64, f64)>)>,
    /// Share of acknowledged events with a plugin that failed or timed out.
    pub(crate) plugin_failures: f64,
    pub(crate) usage: Usage,
}

/// Events due in `[from, to)`, left out around restarts.
fn due<'a>(
    records: &'a [Record],
    from: Duration,
    to: Duration,
    excluded: &[(Duration, Duration)],
) -> impl Iterator<Item = &'a Record> {
    records
        .iter()
        .filter(move |r| r.scheduled >= from && r.scheduled < to && !is_excluded(r, excluded))
}

fn latencies<'a>(records: impl Iterator<Item = &'a Record>) -> Vec<Duration> {
    records.filter(|r| r.acked).map(Record::latency).collect()
}

/// Resources in `[from, to)`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Usage {
    /// The sidecar's largest RSS, MiB.
    pub(crate) rss_max_mib: Option<f64>,
    /// The sidecar's CPU, % of one core.
    pub(crate) cpu_percent: Option<f64>,
    /// The machine's busy share, % of all cores.
    pub(crate) machine_percent: Option<f64>,
}

fn process(samples: &[Sample], from: Duration, to: Duration) -> Usage {
    let inside: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at >= from && s.at < to)
        .collect();
    let rss = inside
        .iter()
        .map(|s| s.rss_kib as f64 / 1024.0)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    // CPU between consecutive samples of the same process.
    let mut ticks = 0u64;
    let mut span = Duration::ZERO;
    let (mut busy, mut total) = (0u64, 0u64);
    for pair in inside.windows(2) {
        if pair[0].pid == pair[1].pid {
            ticks += pair[1].cpu_ticks.saturating_sub(pair[0].cpu_ticks);
            span += pair[1].at - pair[0].at;
        }
        busy += pair[1].machine_busy.saturating_sub(pair[0].machine_busy);
        total += pair[1].machine_total.saturating_sub(pair[0].machine_total);
    }
    Usage {
        rss_max_mib: rss,
        cpu_percent: (span > Duration::ZERO)
            .then(|| ticks as f64 / TICKS_PER_SECOND / span.as_secs_f64() * 100.0),
        machine_percent: (total > 0).then(|| busy as f64 / total as f64 * 100.0),
    }
}

#[allow(clippy::too_many_arguments)]
fn phase(
    name: String,
    fault: Option<Fault>,
    during_fault: bool,
    from: Duration,
    to: Duration,
    records: &[Record],
    samples: &[Sample],
    excluded: &[(Duration, Duration)],
) -> Phase {
    let all: Vec<&Record> = due(records, from, to, excluded).collect();
    let acked: Vec<&&Record> = all.iter().filter(|r| r.acked).collect();
    let steady = p50_p99(&mut latencies(
        all.iter().copied().filter(|r| is_steady(r.tenant)),
    ));
    let faulted = match fault {
        Some(Fault::LoopingPlugin) => Some(format!("t{LOOP_TENANT:03}")),
        Some(Fault::EngineStall) => Some(format!(
            "t{:03}–t{:03}",
            STALL_TENANTS.start,
            STALL_TENANTS.end - 1
        )),
        _ => None,
    }
    .map(|label| {
        let figures = p50_p99(&mut latencies(
            all.iter().copied().filter(|r| !is_steady(r.tenant)),
        ));
        (label, figures)
    });
    let failed = acked.iter().filter(|r| r.failed_plugins > 0).count();
    let usage = process(samples, from, to);
    Phase {
        name,
        fault,
        during_fault,
        from,
        to,
        events: all.len(),
        acked: acked.len(),
        steady,
        faulted,
        plugin_failures: if acked.is_empty() {
            0.0
        } else {
            failed as f64 / acked.len() as f64
        },
        usage,
    }
}

/// The quiet run, then each fault and its recovery.
pub(crate) fn phases(
    plan: &Plan,
    injected: &[Injected],
    records: &[Record],
    samples: &[Sample],
) -> Vec<Phase> {
    let excluded = excluded(injected);
    let mut phases = vec![phase(
        "quiet".into(),
        None,
        false,
        plan.quiet.0,
        plan.quiet.1,
        records,
        samples,
        &excluded,
    )];
    for (i, slot) in injected.iter().zip(&plan.slots) {
        // After a SIGKILL the fault's figures start once the restart is behind.
        let from = i.ready.map_or(i.from, |ready| ready + KILL_AFTER);
        phases.push(phase(
            i.fault.name().into(),
            Some(i.fault),
            true,
            from,
            i.to.max(from),
            records,
            samples,
            &excluded,
        ));
        phases.push(phase(
            format!("{} – recovery", i.fault.name()),
            Some(i.fault),
            false,
            i.to.max(from),
            slot.end,
            records,
            samples,
            &excluded,
        ));
    }
    phases
}

/// Steady tenants' p99 in each fault within [`P99_RATIO`] of the quiet run's.
pub(crate) fn latency_checks(phases: &[Phase]) -> Vec<Check> {
    let Some(quiet) = phases.first().and_then(|p| p.steady).map(|(_, p99)| p99) else {
        return vec![Check::new(
            "quiet run measured",
            false,
            "no event of a steady tenant was acknowledged in the quiet run".into(),
        )];
    };
    phases
        .iter()
        .filter(|p| p.during_fault)
        .map(|p| {
            let name = format!("steady p99 during {}", p.name);
            match p.steady {
                Some((_, p99)) => Check::new(
                    &name,
                    p99 <= P99_RATIO * quiet,
                    format!(
                        "{p99:.1} ms against {quiet:.1} ms quiet ({:.2}×, at most {P99_RATIO}×){}",
                        p99 / quiet,
                        if p.fault == Some(Fault::Sigkill) {
                            format!(
                                "; events due from {KILL_BEFORE:?} before the kill to \
                                 {KILL_AFTER:?} after the new sidecar listened are left out"
                            )
                        } else {
                            String::new()
                        }
                    ),
                ),
                None => Check::new(
                    &name,
                    false,
                    "no acknowledged event of a steady tenant".into(),
                ),
            }
        })
        .collect()
}

/// After each fault is lifted, plugins fail no more often than in the quiet run
/// (within [`RECOVERED_MARGIN`]): the sidecar reconnected to what came back.
pub(crate) fn recovery_check(phases: &[Phase]) -> Check {
    let quiet = phases.first().map_or(0.0, |p| p.plugin_failures);
    let recoveries: Vec<&Phase> = phases
        .iter()
        .filter(|p| p.fault.is_some() && !p.during_fault)
        .collect();
    let worse: Vec<String> = recoveries
        .iter()
        .filter(|p| p.plugin_failures > quiet + RECOVERED_MARGIN)
        .map(|p| format!("{}: {:.1} %", p.name, p.plugin_failures * 100.0))
        .collect();
    Check::new(
        "recovered after each fault",
        worse.is_empty() && !recoveries.is_empty(),
        format!(
            "events with a failed plugin after each fault, against {:.1} % in the quiet run \
             (the sample replies to German and Japanese customers ask for pairs the engine \
             lacks): {}",
            quiet * 100.0,
            recoveries
                .iter()
                .map(|p| format!("{:.1} %", p.plugin_failures * 100.0))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// How much more often plugins may fail after a fault than in the quiet run.
const RECOVERED_MARGIN: f64 = 0.02;

/// The figures of one window of the chart.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) from: Duration,
    pub(crate) steady: Option<(f64, f64)>,
    /// Events acknowledged per second (all tenants).
    pub(crate) events_per_second: f64,
    pub(crate) usage: Usage,
}

pub(crate) fn windows(
    end: Duration,
    injected: &[Injected],
    records: &[Record],
    samples: &[Sample],
) -> Vec<Window> {
    let excluded = excluded(injected);
    let count = end.as_secs().div_ceil(WINDOW.as_secs());
    (0..count)
        .map(|w| {
            let from = WINDOW * u32::try_from(w).unwrap_or(0);
            let to = from + WINDOW;
            let steady = p50_p99(&mut latencies(
                due(records, from, to, &excluded).filter(|r| is_steady(r.tenant)),
            ));
            let acked = records
                .iter()
                .filter(|r| r.acked && r.done >= from && r.done < to)
                .count();
            Window {
                from,
                steady,
                events_per_second: acked as f64 / WINDOW.as_secs_f64(),
                usage: process(samples, from, to),
            }
        })
        .collect()
}

/// Peak RSS below [`RSS_BOUND_MIB`], and no growth within a process's life once
/// its caches are full.
pub(crate) fn rss_checks(samples: &[Sample], load_end: Duration) -> Vec<Check> {
    let peak = samples
        .iter()
        .map(|s| s.rss_kib as f64 / 1024.0)
        .fold(0.0, f64::max);
    let mut checks = vec![Check::new(
        "peak RSS bounded",
        peak > 0.0 && peak < RSS_BOUND_MIB,
        format!("peak {peak:.0} MiB (bound {RSS_BOUND_MIB:.0} MiB)"),
    )];
    let mut lives: Vec<u32> = samples.iter().map(|s| s.pid).collect();
    lives.dedup();
    let mut findings = Vec::new();
    let mut grew = false;
    for (n, pid) in lives.iter().enumerate() {
        let life: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.pid == *pid && s.at <= load_end)
            .collect();
        let Some(first) = life.first() else { continue };
        let settled: Vec<f64> = life
            .iter()
            .filter(|s| s.at >= first.at + Duration::from_secs(60))
            .map(|s| s.rss_kib as f64 / 1024.0)
            .collect();
        let span = life
            .last()
            .map_or(Duration::ZERO, |l| l.at.saturating_sub(first.at));
        if span < Duration::from_secs(60) + MIN_GROWTH_SPAN || settled.len() < 8 {
            findings.push(format!(
                "life {} ({:.0} s under load): too short to judge",
                n + 1,
                span.as_secs_f64()
            ));
            continue;
        }
        let quarter = settled.len() / 4;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let early = mean(&settled[..quarter]);
        let late = mean(&settled[settled.len() - quarter..]);
        let growth = late / early - 1.0;
        grew |= growth > RSS_GROWTH;
        findings.push(format!(
            "life {} ({:.0} s under load): {early:.0} → {late:.0} MiB ({:+.1} %)",
            n + 1,
            span.as_secs_f64(),
            growth * 100.0
        ));
    }
    checks.push(Check::new(
        "RSS not growing",
        !grew,
        format!(
            "mean of the first against the last quarter of each process's life after its \
             first minute, at most {:+.0} %: {}",
            RSS_GROWTH * 100.0,
            findings.join("; ")
        ),
    ));
    checks
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}

fn opt(v: Option<f64>) -> serde_json::Value {
    v.map_or(serde_json::Value::Null, |v| {
        ((v * 10.0).round() / 10.0).into()
    })
}

/// `report.json`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn json(
    meta: serde_json::Value,
    plan: &Plan,
    injected: &[Injected],
    phases: &[Phase],
    windows: &[Window],
    checks: &[Check],
    quiet_per_tenant: &[(String, f64)],
    left_out: &[String],
) -> serde_json::Value {
    serde_json::json!({
        "run": meta,
        "left_out_of_latency": left_out,
        "plan": {
            "warmup_s": plan.warmup.as_secs_f64(),
            "quiet_s": [ms(plan.quiet.0), ms(plan.quiet.1)],
            "postgres_down_s": ms(plan.postgres_down),
        },
        "faults": injected.iter().map(|i| serde_json::json!({
            "fault": i.fault.name(),
            "from_s": ms(i.from),
            "to_s": ms(i.to),
            "restarted_s": i.ready.map(ms),
        })).collect::<Vec<_>>(),
        "phases": phases.iter().map(|p| serde_json::json!({
            "name": p.name,
            "during_fault": p.during_fault,
            "from_s": ms(p.from),
            "to_s": ms(p.to),
            "events": p.events,
            "acked": p.acked,
            "steady_p50_ms": opt(p.steady.map(|s| s.0)),
            "steady_p99_ms": opt(p.steady.map(|s| s.1)),
            "faulted_tenants": p.faulted.as_ref().map(|f| f.0.clone()),
            "faulted_p50_ms": opt(p.faulted.as_ref().and_then(|f| f.1).map(|s| s.0)),
            "faulted_p99_ms": opt(p.faulted.as_ref().and_then(|f| f.1).map(|s| s.1)),
            "plugin_failure_share": (p.plugin_failures * 1000.0).round() / 1000.0,
            "rss_max_mib": opt(p.usage.rss_max_mib),
            "sidecar_cpu_percent_of_a_core": opt(p.usage.cpu_percent),
            "machine_cpu_percent": opt(p.usage.machine_percent),
        })).collect::<Vec<_>>(),
        "quiet_p99_ms_per_steady_tenant": quiet_per_tenant
            .iter()
            .map(|(t, p99)| (t.clone(), serde_json::Value::from((p99 * 10.0).round() / 10.0)))
            .collect::<serde_json::Map<_, _>>(),
        "windows": windows.iter().map(|w| serde_json::json!({
            "from_s": w.from.as_secs(),
            "steady_p50_ms": opt(w.steady.map(|s| s.0)),
            "steady_p99_ms": opt(w.steady.map(|s| s.1)),
            "events_per_second": (w.events_per_second * 10.0).round() / 10.0,
            "rss_max_mib": opt(w.usage.rss_max_mib),
            "sidecar_cpu_percent_of_a_core": opt(w.usage.cpu_percent),
            "machine_cpu_percent": opt(w.usage.machine_percent),
        })).collect::<Vec<_>>(),
        "checks": checks.iter().map(|c| serde_json::json!({
            "name": c.name,
            "passed": c.passed,
            "detail": c.detail,
        })).collect::<Vec<_>>(),
        "passed": checks.iter().all(|c| c.passed),
    })
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.1}"))
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |c| format!("{c:.0} %"))
}

/// The phases as a Markdown table, for BENCHMARKS.md.
pub(crate) fn markdown(phases: &[Phase]) -> String {
    let mut out = String::from(
        "| phase | window (s) | events | steady p50 (ms) | steady p99 (ms) | tenants under fault: p99 (ms) | plugin failures | RSS max (MiB) | sidecar CPU (of a core) | machine CPU (all cores) |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for p in phases {
        out.push_str(&format!(
            "| {} | {:.0}–{:.0} | {} | {} | {} | {} | {:.1} % | {} | {} | {} |\n",
            p.name,
            p.from.as_secs_f64(),
            p.to.as_secs_f64(),
            p.events,
            cell(p.steady.map(|s| s.0)),
            cell(p.steady.map(|s| s.1)),
            p.faulted.as_ref().map_or_else(
                || "–".into(),
                |(label, f)| format!("{label}: {}", cell(f.map(|s| s.1)))
            ),
            p.plugin_failures * 100.0,
            cell(p.usage.rss_max_mib),
            percent(p.usage.cpu_percent),
            percent(p.usage.machine_percent),
        ));
    }
    out
}
