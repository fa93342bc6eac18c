//! Speed of the staffing maths, against a baseline, in one run:
//!
//! * `required_agents` (one Erlang B recurrence carried upward, O(N)) against the
//!   textbook search that recomputes Erlang C from scratch for every candidate
//!   head count (O(N²)), for 100, 1,000 and 10,000 contacts per 30 minutes;
//! * the whole week's plan of the generated tenant (seed 42): forecast, Erlang C
//!   requirements and the shift schedule.
//!
//! `cargo run --release -p schedule --example bench`; figures are medians of
//! repeated runs. The results are recorded in BENCHMARKS.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use schedule::erlang::{self, StaffingInput};
use schedule::forecast::{self, Method};
use schedule::plan::{self, PlanSettings};

/// Median time of `f` over `runs` runs of `batch` calls each, per call.
fn median_per_call(runs: usize, batch: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..batch {
                f();
            }
            started.elapsed() / u32::try_from(batch).unwrap_or(u32::MAX)
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// The textbook search: Erlang C recomputed from scratch (the same stable
/// recurrence, restarted) for each head count from ⌊A⌋+1 up, until the service
/// level is met.
fn textbook_agents(input: &StaffingInput) -> u32 {
    let traffic = erlang::traffic(input.contacts, input.interval_secs, input.aht_secs);
    let mut agents = traffic.floor() as u32 + 1;
    loop {
        let level = erlang::service_level(agents, traffic, input.aht_secs, input.target_secs);
        if level >= input.service_level {
            return agents;
        }
        agents += 1;
    }
}

fn main() {
    println!(
        "| contacts / 30 min | traffic | agents | required_agents | textbook search | ratio |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for contacts in [100.0, 1_000.0, 10_000.0] {
        let input = StaffingInput {
            contacts,
            interval_secs: 1800.0,
            aht_secs: 300.0,
            target_secs: 20.0,
            service_level: 0.8,
            max_occupancy: None,
            shrinkage: 0.3,
        };
        let Ok(ours) = erlang::required_agents(&input) else {
            eprintln!("invalid input {input:?}");
            std::process::exit(1);
        };
        let textbook = textbook_agents(&input);
        assert_eq!(ours.agents, textbook, "both searches agree");
        let batch = if contacts > 5_000.0 { 2 } else { 50 };
        let fast = median_per_call(31, batch, || {
            black_box(erlang::required_agents(black_box(&input)).ok());
        });
        let slow = median_per_call(11, 1, || {
            black_box(textbook_agents(black_box(&input)));
        });
        println!(
            "| {contacts:.0} | {:.1} E | {} | {:.1} µs | {:.1} µs | {:.4} |",
            ours.traffic_erlangs,
            ours.agents,
            fast.as_secs_f64() * 1e6,
            slow.as_secs_f64() * 1e6,
            fast.as_secs_f64() / slow.as_secs_f64()
        );
    }

    let week_start: jiff::Timestamp = match "2026-12-07T00:00:00Z".parse() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let generated = schedule::generate::generate(42, 4, week_start);
    let settings = PlanSettings {
        target_secs: 60.0,
        ..PlanSettings::default()
    };
    let mut last = None;
    let took = median_per_call(5, 1, || {
        let forecast = forecast::forecast(
            &generated.history,
            week_start,
            settings.interval_minutes,
            Method::WeightedWeeks { weeks: 4 },
            &jiff::tz::TimeZone::UTC,
        );
        let plan = forecast.ok().and_then(|f| {
            let requirements = plan::requirements(&f, &settings).ok()?;
            plan::schedule_week(&generated.roster, &requirements, week_start, &settings).ok()
        });
        last = plan;
    });
    let Some(plan) = last else {
        eprintln!("the generated week could not be planned");
        std::process::exit(1);
    };
    println!();
    println!(
        "plan of the generated week (seed 42: {} agents, {} languages, {} intervals, {} shifts): \
         {:.0} ms, coverage {:.1} %",
        generated.roster.agents.len(),
        plan.languages.len(),
        plan.intervals(),
        plan.shifts.len(),
        took.as_secs_f64() * 1e3,
        plan.coverage_ratio() * 100.0
    );
}
