//! `crossdesk schedule ...`: the staffing calculator, the roster and contact
//! history imports, and the week's plan (forecast, Erlang C requirements, shift
//! schedule, gaps, heatmap) from the data the sidecar keeps.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};

use crossdesk::store::{CONTACT_BUCKET_SECS, ContactCount, Store};
use schedule::erlang::{self, StaffingInput};
use schedule::forecast::{self, HistoryRow, Method};
use schedule::plan::{self, PlanSettings};
use schedule::{Roster, heatmap};

use crate::DataScope;

// The store's history buckets are the forecast's.
const _: () = assert!(CONTACT_BUCKET_SECS == forecast::HISTORY_BUCKET_MINUTES as i64 * 60);

/// The weeks of history a plan reads.
const HISTORY_WEEKS: i64 = 8;
/// Handled conversations needed before the measured handling time replaces the
/// configured one.
const MIN_HANDLED_FOR_AHT: u64 = 30;

#[derive(Subcommand)]
pub(crate) enum ScheduleCommand {
    /// The Erlang C staffing calculator: agents needed for a service level, the
    /// head count to schedule after shrinkage, and the service level, probability
    /// of waiting, average speed of answer and occupancy at that count.
    Erlang(ErlangArgs),
    /// Replace the tenant's roster with a JSON or CSV file (checked whole first).
    Roster {
        #[command(subcommand)]
        command: RosterCommand,
    },
    /// Add contacts to the tenant's history from a CSV file (columns
    /// `bucket_start,language,channel,arrivals,handled,handle_secs`), e.g. a
    /// helpdesk export. The sidecar records live events itself.
    ImportHistory {
        #[command(flatten)]
        scope: DataScope,
        file: PathBuf,
    },
    /// Write a synthetic multi-language tenant (roster JSON and history CSV) for a
    /// seed, to try the planner on.
    Generate {
        /// The generator's seed; the same seed gives the same files.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Weeks of history.
        #[arg(long, default_value_t = 4)]
        weeks: u32,
        /// The Monday the history ends at (default: the coming Monday, UTC).
        #[arg(long, value_name = "YYYY-MM-DD")]
        week: Option<Date>,
        /// Folder for `roster.json` and `history.csv`.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Plan a week: forecast contacts per interval and language from the history,
    /// agents needed by Erlang C, a shift schedule from the roster, and the gaps.
    Plan(PlanArgs),
}

#[derive(Subcommand)]
pub(crate) enum RosterCommand {
    /// Replace the roster with FILE (`.json`: `{"agents": [...]}` or a list;
    /// `.csv`: a header row with id, languages, time_zone, availability, ...).
    Import {
        #[command(flatten)]
        scope: DataScope,
        file: PathBuf,
    },
    /// Print the roster.
    Show {
        #[command(flatten)]
        scope: DataScope,
    },
}

#[derive(Args)]
pub(crate) struct ErlangArgs {
    /// Contacts arriving in the interval.
    #[arg(long)]
    contacts: f64,
    /// The interval's length (`30m`, `1h`, `900s`).
    #[arg(long, default_value = "30m", value_parser = duration)]
    interval: Duration,
    /// Average handling time (`180s`, `3m`).
    #[arg(long, value_parser = duration)]
    aht: Duration,
    /// Answer-time target of the service level (`20s`).
    #[arg(long, default_value = "20s", value_parser = duration)]
    target: Duration,
    /// Fraction answered within the target (`0.8`).
    #[arg(long, default_value_t = 0.8)]
    service_level: f64,
    /// Highest occupancy allowed (`0.85`); none by default.
    #[arg(long)]
    max_occupancy: Option<f64>,
    /// Fraction of paid time agents are unavailable (breaks, training, absence).
    #[arg(long, default_value_t = 0.0)]
    shrinkage: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    scope: DataScope,
    /// A day of the week to plan (its Monday is taken); default: the coming week.
    #[arg(long, value_name = "YYYY-MM-DD")]
    week: Option<Date>,
    /// Override a planning setting for this run, `KEY=VALUE` (the plugin's
    /// settings: interval_minutes, service_level_percent, target_seconds,
    /// aht_seconds, max_occupancy_percent, shrinkage_percent, min_shift_hours,
    /// max_shift_hours, plan_time_zone); repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Forecast by exponential smoothing with this alpha instead of weighted weeks.
    #[arg(long, value_name = "ALPHA")]
    smoothing: Option<f64>,
    /// Where to write the heatmap of required vs scheduled agents by hour and
    /// language (SVG); default `plan-<tenant>-<week>.svg` in the current folder.
    #[arg(long, value_name = "FILE", conflicts_with = "no_heatmap")]
    heatmap: Option<PathBuf>,
    /// Do not write a heatmap.
    #[arg(long)]
    no_heatmap: bool,
    /// Print the plan as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("'{text}': {e} (e.g. 30m, 180s, 1h)"))
}

pub(crate) async fn run(command: ScheduleCommand) -> Result<()> {
    match command {
        ScheduleCommand::Erlang(args) => erlang_calculator(&args),
        ScheduleCommand::Roster { command } => roster(command).await,
        ScheduleCommand::ImportHistory { scope, file } => import_history(&scope, &file).await,
        ScheduleCommand::Generate {
            seed,
            weeks,
            week,
            out,
        } => generate(seed, weeks, week, &out),
        ScheduleCommand::Plan(args) => plan(args).await,
    }
}

fn erlang_calculator(args: &ErlangArgs) -> Result<()> {
    let input = StaffingInput {
        contacts: args.contacts,
        interval_secs: args.interval.as_secs_f64(),
        aht_secs: args.aht.as_secs_f64(),
        target_secs: args.target.as_secs_f64(),
        service_level: args.service_level,
        max_occupancy: args.max_occupancy,
        shrinkage: args.shrinkage,
    };
    let staffing = erlang::required_agents(&input)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "input": input,
                "staffing": staffing,
            }))?
        );
        return Ok(());
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "traffic                 {:.2} Erlangs",
        staffing.traffic_erlangs
    );
    let _ = writeln!(out, "agents needed           {}", staffing.agents);
    let _ = writeln!(
        out,
        "scheduled head count    {} (shrinkage {:.0}%)",
        staffing.scheduled,
        args.shrinkage * 100.0
    );
    let _ = writeln!(
        out,
        "service level           {:.2}% answered within {} s",
        staffing.service_level * 100.0,
        args.target.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "probability of waiting  {:.2}%",
        staffing.probability_of_waiting * 100.0
    );
    let _ = writeln!(
        out,
        "average speed of answer {:.1} s",
        staffing.average_speed_of_answer_secs
    );
    let _ = writeln!(
        out,
        "occupancy               {:.2}%",
        staffing.occupancy * 100.0
    );
    print!("{out}");
    Ok(())
}

async fn roster(command: RosterCommand) -> Result<()> {
    match command {
        RosterCommand::Import { scope, file } => {
            let format = crossdesk::datasets::Format::of_path(&file);
            let dataset = crossdesk::datasets::Dataset::Roster;
            crate::import_dataset(&scope, "schedule", dataset, format, &file).await
        }
        RosterCommand::Show { scope } => {
            let roster = load_roster(&scope.store().await?, &scope).await?;
            for agent in &roster.agents {
                let record = roster.records.iter().find(|r| r.id.trim() == agent.id);
                println!(
                    "{:<14} {:<18} {:<10} {:>4}h/wk  {}",
                    agent.id,
                    agent.zone_name,
                    agent.languages.join(","),
                    agent.max_hours_per_week,
                    record
                        .map(|r| r.availability.join("; "))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

async fn load_roster(store: &Store, scope: &DataScope) -> Result<Roster> {
    let bytes = store
        .kv_get(
            &scope.tenant,
            scope.plugin("schedule"),
            schedule::ROSTER_KEY,
        )
        .await?
        .with_context(|| {
            format!(
                "tenant '{}' has no roster: import one with `crossdesk schedule roster import`",
                scope.tenant
            )
        })?;
    let records = serde_json::from_slice(&bytes).context("the stored roster is not readable")?;
    Ok(Roster::from_records(records)?)
}

async fn import_history(scope: &DataScope, file: &PathBuf) -> Result<()> {
    let mut reader =
        csv::Reader::from_path(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut counts = Vec::new();
    for (i, row) in reader.deserialize::<HistoryRow>().enumerate() {
        let row = row.with_context(|| format!("{} row {}", file.display(), i + 2))?;
        counts.push(ContactCount {
            bucket_start_s: row.bucket_start.as_second(),
            language: row.language,
            channel: row.channel,
            arrivals: row.arrivals,
            handled: row.handled,
            handle_secs: row.handle_secs,
        });
    }
    let (rows, arrivals) = (counts.len(), counts.iter().map(|c| c.arrivals).sum::<u64>());
    scope
        .store()
        .await?
        .add_contacts(&scope.tenant, counts)
        .await?;
    println!(
        "{rows} history row(s), {arrivals} arrival(s) added for tenant '{}'",
        scope.tenant
    );
    Ok(())
}

fn generate(seed: u64, weeks: u32, week: Option<Date>, out: &PathBuf) -> Result<()> {
    let week_start = monday_of(week, &TimeZone::UTC)?;
    let generated = schedule::generate::generate(seed, weeks, week_start.timestamp());
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let roster_path = out.join("roster.json");
    std::fs::write(
        &roster_path,
        serde_json::to_string_pretty(&serde_json::json!({"agents": generated.roster.records}))?,
    )
    .with_context(|| format!("cannot write {}", roster_path.display()))?;
    let history_path = out.join("history.csv");
    let mut writer = csv::Writer::from_path(&history_path)
        .with_context(|| format!("cannot write {}", history_path.display()))?;
    for row in &generated.history {
        writer.serialize(row)?;
    }
    writer.flush()?;
    println!(
        "seed {seed}: {} agent(s) in {}, {} arrival(s) over {weeks} week(s) before {} in {}",
        generated.roster.agents.len(),
        roster_path.display(),
        generated.history.iter().map(|r| r.arrivals).sum::<u64>(),
        week_start.date(),
        history_path.display()
    );
    Ok(())
}

/// Monday 00:00 of the week of `day` (default: the coming week) in `zone`.
fn monday_of(day: Option<Date>, zone: &TimeZone) -> Result<Zoned> {
    let day = match day {
        Some(day) => day,
        None => Timestamp::now()
            .to_zoned(zone.clone())
            .date()
            .nth_weekday(1, Weekday::Monday)?,
    };
    let monday = day.checked_sub((day.weekday().to_monday_zero_offset() as i64).days())?;
    Ok(monday.to_zoned(zone.clone())?)
}

/// The tenant's settings of the schedule plugin: from the admin API's store
/// when the tenant lives there, else from the configuration file.
async fn plugin_settings(store: &Store, scope: &DataScope) -> Result<BTreeMap<String, String>> {
    let plugin = scope.plugin("schedule");
    let state = store.control_state().await?;
    if let Some(row) = state.tenants.iter().find(|t| t.id == scope.tenant) {
        let doc: crossdesk::control::TenantDoc =
            serde_json::from_str(&row.doc).context("the stored tenant is not readable")?;
        return Ok(doc
            .plugins
            .into_iter()
            .find(|g| g.name == plugin)
            .map(|g| g.settings)
            .unwrap_or_default());
    }
    let config = crossdesk::config::Config::load(scope.config.as_deref())?;
    Ok(config
        .tenants
        .into_iter()
        .find(|t| t.id == scope.tenant)
        .and_then(|t| t.plugins.into_iter().find(|g| g.name == plugin))
        .map(|g| g.config)
        .unwrap_or_default())
}

/// Planning settings from the plugin's settings (defaults where unset).
fn plan_settings(settings: &BTreeMap<String, String>) -> Result<(PlanSettings, TimeZone)> {
    let mut plan = PlanSettings::default();
    let number = |key: &str| -> Result<Option<f64>> {
        settings
            .get(key)
            .map(|v| {
                v.trim()
                    .parse::<f64>()
                    .with_context(|| format!("setting {key}: '{v}' is not a number"))
            })
            .transpose()
    };
    if let Some(v) = number("interval_minutes")? {
        plan.interval_minutes = v as u32;
    }
    if let Some(v) = number("service_level_percent")? {
        plan.service_level = v / 100.0;
    }
    if let Some(v) = number("target_seconds")? {
        plan.target_secs = v;
    }
    if let Some(v) = number("aht_seconds")? {
        plan.aht_secs = v;
    }
    if let Some(v) = number("max_occupancy_percent")? {
        plan.max_occupancy = Some(v / 100.0);
    }
    if let Some(v) = number("shrinkage_percent")? {
        plan.shrinkage = v / 100.0;
    }
    if let Some(v) = number("min_shift_hours")? {
        plan.min_shift_hours = v;
    }
    if let Some(v) = number("max_shift_hours")? {
        plan.max_shift_hours = v;
    }
    let zone_name = settings.get("plan_time_zone").map_or("UTC", String::as_str);
    let zone = TimeZone::get(zone_name)
        .with_context(|| format!("setting plan_time_zone: '{zone_name}' is not an IANA zone"))?;
    Ok((plan, zone))
}

async fn plan(args: PlanArgs) -> Result<()> {
    let store = args.scope.store().await?;
    let roster = load_roster(&store, &args.scope).await?;
    let mut settings = plugin_settings(&store, &args.scope).await?;
    for item in &args.set {
        let Some((key, value)) = item.split_once('=') else {
            bail!("--set takes KEY=VALUE, got '{item}'");
        };
        settings.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    let (mut settings, zone) = plan_settings(&settings)?;
    let week_start = monday_of(args.week, &zone)?.timestamp();
    let from = week_start.checked_sub(jiff::SignedDuration::from_hours(24 * 7 * HISTORY_WEEKS))?;
    let history: Vec<HistoryRow> = store
        .contact_history(&args.scope.tenant, from.as_second(), week_start.as_second())
        .await?
        .into_iter()
        .filter_map(|c| {
            Some(HistoryRow {
                bucket_start: Timestamp::from_second(c.bucket_start_s).ok()?,
                language: c.language,
                channel: c.channel,
                arrivals: c.arrivals,
                handled: c.handled,
                handle_secs: c.handle_secs,
            })
        })
        .collect();
    let method = match args.smoothing {
        Some(alpha) => Method::Smoothing { alpha },
        None => Method::WeightedWeeks { weeks: 4 },
    };
    let forecast = forecast::forecast(&history, week_start, settings.interval_minutes, method)
        .with_context(|| format!("tenant '{}'", args.scope.tenant))?;
    for language in forecast.languages.keys() {
        if let Some(aht) = forecast::average_handle_secs(&history, language, MIN_HANDLED_FOR_AHT) {
            settings.aht_by_language.insert(language.clone(), aht);
        }
    }
    let requirements = plan::requirements(&forecast, &settings)?;
    let plan = plan::schedule_week(&roster, &requirements, week_start, &settings)?;
    let heatmap_path = (!args.no_heatmap).then(|| {
        args.heatmap.clone().unwrap_or_else(|| {
            let week = week_start.to_zoned(zone.clone()).date();
            PathBuf::from(format!("plan-{}-{week}.svg", args.scope.tenant))
        })
    });
    if let Some(path) = &heatmap_path {
        std::fs::write(path, heatmap::heatmap_svg(&plan, &zone))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("heatmap: {}", path.display());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        println!(
            "Tenant '{}', week of {}; forecast: {} ({} week(s) of history)",
            args.scope.tenant,
            week_start.to_zoned(zone.clone()).date(),
            forecast.method,
            forecast.weeks_of_history
        );
        print!("{}", plan::render_table(&plan, &zone));
    }
    Ok(())
}
