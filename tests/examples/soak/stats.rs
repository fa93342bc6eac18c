//! Figures over time: latency percentiles of recorded events (exact: every
//! latency is kept, a run holds at most a few hundred thousand), and the
//! sidecar's memory and CPU read from `/proc` once a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// The `q` quantile (0..=1) of `values` by nearest rank; sorts them.
pub(crate) fn quantile(values: &mut [Duration], q: f64) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (q * values.len() as f64).ceil() as usize;
    Some(values[rank.clamp(1, values.len()) - 1])
}

/// p50 and p99 of `values`, in milliseconds.
pub(crate) fn p50_p99(values: &mut [Duration]) -> Option<(f64, f64)> {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Some((ms(quantile(values, 0.5)?), ms(quantile(values, 0.99)?)))
}

/// One reading of the sidecar process.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) at: Duration,
    pub(crate) pid: u32,
    /// Resident set (`VmRSS`), KiB.
    pub(crate) rss_kib: u64,
    /// User + system CPU time so far, in clock ticks.
    pub(crate) cpu_ticks: u64,
    /// The whole machine's busy and total CPU time so far (all cores), in ticks.
    pub(crate) machine_busy: u64,
    pub(crate) machine_total: u64,
}

/// The machine's busy and total CPU ticks (first line of `/proc/stat`).
fn machine() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let times: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = times.iter().sum();
    // idle and iowait are the 4th and 5th.
    let idle = times.get(3)? + times.get(4)?;
    Some((total - idle, total))
}

/// Linux's `USER_HZ`, the unit of `/proc/<pid>/stat`'s CPU times (100 on every
/// architecture the sidecar runs on).
pub(crate) const TICKS_PER_SECOND: f64 = 100.0;

fn read(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after `)`.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((rss_kib, ticks))
}

/// Reads the process whose pid `pid` holds (none while it is 0) every second
/// from `start` until `stop` says so.
pub(crate) async fn sample(
    pid: Arc<AtomicU32>,
    start: Instant,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval_at(start, Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return samples,
        }
        let pid = pid.load(Ordering::SeqCst);
        if pid == 0 {
            continue;
        }
        if let (Some((rss_kib, cpu_ticks)), Some((machine_busy, machine_total))) =
            (read(pid), machine())
        {
            samples.push(Sample {
                at: start.elapsed(),
                pid,
                rss_kib,
                cpu_ticks,
                machine_busy,
                machine_total,
            });
        }
    }
}
