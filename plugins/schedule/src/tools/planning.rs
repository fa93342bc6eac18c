//! The commands around a week's staffing plan: `generate` (a synthetic tenant's
//! roster and history, to try the planner on) and `plan` (forecast from the
//! tenant's contact history, Erlang C requirements, shifts from the roster, gaps,
//! heatmap). The steps are [`crate::forecast`], [`crate::plan`] and
//! [`crate::heatmap`]; this owns their parameters, the planning settings (the
//! tenant's, overridden by `--set`), the week and the output.

use std::collections::{BTreeMap, BTreeSet};

use crossdesk_sdk::{CommandInput, CommandOutput, CommandSpec, Param, PluginError};
use crossdesk_sdk::{clock, contacts, settings};
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};

use super::{invalid, parse, stored_roster, tenant, value_or};
use crate::forecast::{self, HistoryRow, Method};
use crate::plan::{self, PlanSettings};
use crate::stored::SETTING_KEYS;
use crate::{generate as generator, heatmap};

/// The command writing a synthetic tenant.
pub(super) const GENERATE: &str = "generate";
/// The command planning a week.
pub(super) const PLAN: &str = "plan";

const SEED: &str = "42";
const WEEKS: &str = "4";
/// Most weeks `generate` writes: a year (about 5,000 rows a week); a plan reads
/// [`HISTORY_WEEKS`].
const MAX_WEEKS: u32 = 52;
/// The weeks of history a plan reads.
const HISTORY_WEEKS: i64 = 8;
/// Handled conversations needed before the measured handling time replaces the
/// configured one.
const MIN_HANDLED_FOR_AHT: u64 = 30;
/// Settings that are not planning ones (routing reads them).
const ROUTING_SETTINGS: [&str; 2] = ["translation_plugin", "faq_from"];

pub(super) fn generate_spec() -> CommandSpec {
    CommandSpec::new(
        GENERATE,
        "Write a synthetic multi-language tenant (roster.json and history.csv) for a \
         seed, to try the planner on",
    )
    .param(
        Param::value(
            "seed",
            "The generator's seed; the same seed gives the same files",
        )
        .default_value(SEED),
    )
    .param(Param::value("weeks", "Weeks of history (1 to 52)").default_value(WEEKS))
    .param(Param::value(
        "week",
        "The Monday the history ends at, YYYY-MM-DD (default: the coming Monday, UTC)",
    ))
    .param(Param::output_dir("out", "Folder for roster.json and history.csv").required())
}

pub(super) fn plan_spec() -> CommandSpec {
    CommandSpec::new(
        PLAN,
        "Plan a week: forecast contacts per interval and language from the contact \
         history, agents needed by Erlang C, a shift schedule from the roster, and the gaps",
    )
    .param(Param::value(
        "week",
        "A day of the week to plan, YYYY-MM-DD (its Monday is taken); default: the coming week",
    ))
    .param(
        Param::value(
            "set",
            "Override a planning setting for this run, KEY=VALUE (interval_minutes, \
             service_level_percent, target_seconds, aht_seconds, max_occupancy_percent, \
             shrinkage_percent, min_shift_hours, max_shift_hours, plan_time_zone); repeatable",
        )
        .repeated(),
    )
    .param(Param::value(
        "smoothing",
        "Forecast by exponential smoothing with this alpha (0 to 1) instead of weighted weeks",
    ))
    .param(Param::output_file(
        "heatmap",
        "Where to write the SVG heatmap of required vs scheduled agents by hour and \
         language (default plan-<tenant>-<week>.svg)",
    ))
    .param(Param::flag("no-heatmap", "Do not write a heatmap"))
    .param(Param::flag(
        "json",
        "Print the plan as JSON instead of a table",
    ))
    .for_tenant()
}

pub(super) fn generate(input: &CommandInput) -> Result<CommandOutput, PluginError> {
    let seed: u64 = parse("seed", value_or(input, "seed", Some(SEED))?)?;
    let weeks_text = value_or(input, "weeks", Some(WEEKS))?;
    let weeks: u32 = parse("weeks", weeks_text)?;
    if !(1..=MAX_WEEKS).contains(&weeks) {
        return Err(invalid(
            "weeks",
            weeks_text,
            format!("must be between 1 and {MAX_WEEKS}"),
        ));
    }
    let week = input.value("week").map(|v| date("week", v)).transpose()?;
    let week_start = monday_of(week, &TimeZone::UTC)?;
    let generated = generator::generate(seed, weeks, week_start.timestamp());
    let mut doc = serde_json::Map::new();
    let records = serde_json::to_value(&generated.roster.records).map_err(json_error)?;
    doc.insert("agents".into(), records);
    let roster =
        serde_json::to_string_pretty(&serde_json::Value::Object(doc)).map_err(json_error)?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in &generated.history {
        writer
            .serialize(row)
            .map_err(|e| PluginError::new(format!("cannot write history.csv: {e}")))?;
    }
    let history = writer
        .into_inner()
        .map_err(|e| PluginError::new(format!("cannot write history.csv: {e}")))?;
    let text = format!(
        "seed {seed}: {} agent(s) in roster.json, {} arrival(s) over {weeks} week(s) before {} in history.csv\n",
        generated.roster.agents.len(),
        generated.history.iter().map(|r| r.arrivals).sum::<u64>(),
        week_start.date(),
    );
    Ok(CommandOutput::text(text)
        .file("", "roster.json", roster.into_bytes())
        .file("", "history.csv", history))
}

pub(super) fn plan(input: &CommandInput) -> Result<CommandOutput, PluginError> {
    let tenant = tenant(input, PLAN)?;
    let no_heatmap = input.flag("no-heatmap");
    if no_heatmap && input.value("heatmap").is_some() {
        return Err(PluginError::new(
            "--heatmap and --no-heatmap cannot be given together",
        ));
    }
    let method = match input.value("smoothing") {
        Some(text) => {
            let alpha: f64 = parse("smoothing", text)?;
            if !(alpha > 0.0 && alpha <= 1.0) {
                return Err(invalid("smoothing", text, "must be in (0, 1]"));
            }
            Method::Smoothing { alpha }
        }
        None => Method::WeightedWeeks {
            weeks: forecast::DEFAULT_WEEKS,
        },
    };
    let week = input.value("week").map(|v| date("week", v)).transpose()?;
    let (mut settings, zone) = plan_settings(&input.values_of("set"))?;
    let roster = stored_roster(tenant)?;
    let monday = monday_of(week, &zone)?;
    let week_start = monday.timestamp();
    // Whole local weeks back: 7 × 24 hours would miss or add an hour across a
    // daylight-saving change.
    let from = monday
        .checked_sub((7 * HISTORY_WEEKS).days())
        .map_err(|e| PluginError::new(format!("the week of {week_start}: {e}")))?
        .timestamp();
    let history: Vec<HistoryRow> =
        contacts::history(from.as_millisecond(), week_start.as_millisecond())
            .map_err(|e| {
                PluginError::new(format!("the contact history of tenant '{tenant}': {e}"))
            })?
            .into_iter()
            .filter_map(|c| {
                Some(HistoryRow {
                    bucket_start: Timestamp::from_millisecond(c.bucket_start_ms).ok()?,
                    language: c.language,
                    channel: c.channel,
                    arrivals: c.arrivals,
                    handled: c.handled,
                    handle_secs: c.handle_secs,
                })
            })
            .collect();
    let forecast = forecast::forecast(
        &history,
        week_start,
        settings.interval_minutes,
        method,
        &zone,
    )
    .map_err(|e| PluginError::new(format!("tenant '{tenant}': {e}")))?;
    for language in forecast.languages.keys() {
        if let Some(aht) = forecast::average_handle_secs(&history, language, MIN_HANDLED_FOR_AHT) {
            settings.aht_by_language.insert(language.clone(), aht);
        }
    }
    let plan_error = |e: plan::PlanError| PluginError::new(format!("tenant '{tenant}': {e}"));
    let requirements = plan::requirements(&forecast, &settings).map_err(plan_error)?;
    let plan =
        plan::schedule_week(&roster, &requirements, week_start, &settings).map_err(plan_error)?;
    let week = week_start.to_zoned(zone.clone()).date();
    let text = if input.flag("json") {
        serde_json::to_string_pretty(&plan).map_err(json_error)? + "\n"
    } else {
        format!(
            "Tenant '{tenant}', week of {week}; forecast: {} ({} week(s) of history)\n{}",
            forecast.method,
            forecast.weeks_of_history,
            plan::render_table(&plan, &zone)
        )
    };
    let mut output = CommandOutput::text(text);
    if !no_heatmap {
        output = output.file(
            "heatmap",
            format!("plan-{tenant}-{week}.svg"),
            heatmap::heatmap_svg(&plan, &zone).into_bytes(),
        );
    }
    Ok(output)
}

/// The planning settings: the tenant's settings of this plugin, overridden by
/// `--set KEY=VALUE` items (defaults where neither gives one), and the zone of the
/// week. An error names the `--set` item or the setting at fault.
fn plan_settings(overrides: &[&str]) -> Result<(PlanSettings, TimeZone), PluginError> {
    let known: Vec<&str> = SETTING_KEYS
        .iter()
        .filter_map(|key| key.split(':').next())
        .map(str::trim)
        .filter(|key| !ROUTING_SETTINGS.contains(key))
        .collect();
    let mut values: BTreeMap<String, String> = settings::all().into_iter().collect();
    let mut given = BTreeSet::new();
    for item in overrides {
        let Some((key, value)) = item.split_once('=') else {
            return Err(invalid("set", item, "expected KEY=VALUE"));
        };
        let key = key.trim();
        if !known.contains(&key) {
            return Err(invalid(
                "set",
                item,
                format!("'{key}' is not a planning setting ({})", known.join(", ")),
            ));
        }
        values.insert(key.to_owned(), value.trim().to_owned());
        given.insert(key.to_owned());
    }
    // Where a value came from, for the error.
    let source = |key: &str| match values.get(key) {
        Some(v) if given.contains(key) => format!("--set '{key}={v}'"),
        Some(v) => format!("setting {key} '{v}'"),
        None => format!("setting {key}"),
    };
    let number = |key: &str| -> Result<Option<f64>, PluginError> {
        values
            .get(key)
            .map(|v| {
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| PluginError::new(format!("{}: not a number", source(key))))
            })
            .transpose()
    };
    let mut plan = PlanSettings::default();
    if let Some(v) = values.get("interval_minutes") {
        plan.interval_minutes = v.trim().parse().map_err(|_| {
            PluginError::new(format!(
                "{}: not a whole number of minutes",
                source("interval_minutes")
            ))
        })?;
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
    let zone_name = values.get("plan_time_zone").map_or("UTC", |v| v.trim());
    let zone = TimeZone::get(zone_name).map_err(|_| {
        PluginError::new(format!(
            "{}: not an IANA time zone",
            source("plan_time_zone")
        ))
    })?;
    plan.validate().map_err(|e| match &e {
        // Name the setting (or `--set` item) the field came from.
        plan::PlanError::Setting { field, message } => match setting_of(field) {
            Some(key) => PluginError::new(format!("{}: {message}", source(key))),
            None => PluginError::new(e.to_string()),
        },
        _ => PluginError::new(e.to_string()),
    })?;
    Ok((plan, zone))
}

/// The setting a [`PlanSettings`] field is read from.
fn setting_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "interval_minutes" => "interval_minutes",
        "target_secs" => "target_seconds",
        "service_level" => "service_level_percent",
        "max_occupancy" => "max_occupancy_percent",
        "shrinkage" => "shrinkage_percent",
        "aht_secs" => "aht_seconds",
        "min_shift_hours" => "min_shift_hours",
        "max_shift_hours" => "max_shift_hours",
        _ => return None,
    })
}

/// `value` of parameter `name` as a date (`YYYY-MM-DD`).
fn date(name: &str, value: &str) -> Result<Date, PluginError> {
    value
        .trim()
        .parse()
        .map_err(|e| invalid(name, value, format!("not a date YYYY-MM-DD ({e})")))
}

/// Monday 00:00 of the week of `day` (default: the coming week, by the host's
/// clock) in `zone`.
fn monday_of(day: Option<Date>, zone: &TimeZone) -> Result<Zoned, PluginError> {
    let out_of_range = |e: jiff::Error| PluginError::new(format!("--week: {e}"));
    let day = match day {
        Some(day) => day,
        None => Timestamp::from_millisecond(clock::now_ms())
            .map_err(|e| PluginError::new(format!("the host's clock: {e}")))?
            .to_zoned(zone.clone())
            .date()
            .nth_weekday(1, Weekday::Monday)
            .map_err(out_of_range)?,
    };
    let monday = day
        .checked_sub(i64::from(day.weekday().to_monday_zero_offset()).days())
        .map_err(out_of_range)?;
    monday.to_zoned(zone.clone()).map_err(out_of_range)
}

fn json_error(e: serde_json::Error) -> PluginError {
    PluginError::new(format!("cannot write JSON: {e}"))
}
