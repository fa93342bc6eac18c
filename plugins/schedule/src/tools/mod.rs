//! What the plugin offers admins outside the event path, through the SDK's tools
//! contract: the `roster` dataset (imported whole, JSON or CSV) and the commands
//! `erlang`, `roster-show`, `generate` and `plan` (`crossdesk plugin exec
//! schedule COMMAND ...`).
//!
//! This module owns the specs the manifest lists, the dispatch by name, the roster
//! import and `roster-show`, and the helpers that turn a bad argument into an
//! error naming its parameter (`--aht '0s': must be ...`). The staffing
//! calculator lives in [`calculator`], the synthetic tenant and the week's plan in
//! [`planning`]. The host parses the command line against the specs and writes
//! the files a command returns; a command only reads its [`CommandInput`].

mod calculator;
mod planning;
#[cfg(test)]
mod tests;

use std::str::FromStr;
use std::time::Duration;

use crossdesk_sdk::{
    CommandInput, CommandOutput, CommandSpec, DatasetEntries, DatasetSpec, PluginError,
};

use crate::roster::Roster;
use crate::stored::{ROSTER_KEY, load_roster};

/// The dataset of the agents.
pub const ROSTER_DATASET: &str = "roster";
/// The formats the roster is imported in.
pub const ROSTER_FORMATS: [&str; 2] = ["json", "csv"];
/// The command printing the stored roster.
const ROSTER_SHOW: &str = "roster-show";

/// The datasets the manifest offers.
pub fn datasets() -> Vec<DatasetSpec> {
    vec![
        DatasetSpec::new(
            ROSTER_DATASET,
            "The agents: languages, time zone, weekly availability, hours, group \
             (JSON {\"agents\": [...]} or a list; CSV with a header row)",
        )
        .formats(&ROSTER_FORMATS),
    ]
}

/// The commands the manifest offers, in the order admins see them.
pub fn commands() -> Vec<CommandSpec> {
    vec![
        calculator::spec(),
        CommandSpec::new(
            ROSTER_SHOW,
            "Print the tenant's roster: id, zone, languages, weekly hours, availability",
        )
        .for_tenant(),
        planning::generate_spec(),
        planning::plan_spec(),
    ]
}

/// Checks `content` whole as dataset `dataset` in `format` and returns what
/// replaces it in storage.
pub fn import_dataset(
    dataset: &str,
    format: &str,
    content: &[u8],
) -> Result<DatasetEntries, PluginError> {
    if dataset.trim() != ROSTER_DATASET {
        return Err(PluginError::new(format!(
            "unknown dataset '{dataset}': the schedule plugin offers '{ROSTER_DATASET}'"
        )));
    }
    let format = format.trim().to_ascii_lowercase();
    if !ROSTER_FORMATS.contains(&format.as_str()) {
        return Err(PluginError::new(format!(
            "unknown format '{format}' for dataset '{ROSTER_DATASET}' ({})",
            ROSTER_FORMATS.join(" or ")
        )));
    }
    let text = std::str::from_utf8(content)
        .map_err(|_| PluginError::new("the content is not UTF-8 text"))?;
    let roster = if format == "csv" {
        Roster::from_csv(text)
    } else {
        Roster::from_json(text)
    }
    .map_err(|e| PluginError::new(e.to_string()))?;
    let agents = u32::try_from(roster.agents.len())
        .map_err(|_| PluginError::new(format!("{} agents: too many", roster.agents.len())))?;
    let languages = roster.languages();
    let summary = format!(
        "{} agent(s), {} language(s): {}",
        roster.agents.len(),
        languages.len(),
        languages.join(", ")
    );
    Ok(DatasetEntries::new(ROSTER_KEY)
        .entry(ROSTER_KEY, roster.to_json().into_bytes())
        .summary(agents, summary))
}

/// Runs command `command` with the arguments the host parsed.
pub fn run_command(command: &str, input: &CommandInput) -> Result<CommandOutput, PluginError> {
    match command {
        calculator::NAME => calculator::run(input),
        ROSTER_SHOW => roster_show(input),
        planning::GENERATE => planning::generate(input),
        planning::PLAN => planning::plan(input),
        _ => {
            let offered: Vec<String> = commands().into_iter().map(|c| c.name).collect();
            Err(PluginError::new(format!(
                "unknown command '{command}': the schedule plugin offers {}",
                offered.join(", ")
            )))
        }
    }
}

/// `roster-show`: one line per agent (id, zone, languages, weekly hours,
/// availability), as the host's `schedule roster show` printed it.
fn roster_show(input: &CommandInput) -> Result<CommandOutput, PluginError> {
    let tenant = tenant(input, ROSTER_SHOW)?;
    let roster = stored_roster(tenant)?;
    let mut out = String::new();
    for agent in &roster.agents {
        let record = roster.records.iter().find(|r| r.id.trim() == agent.id);
        out.push_str(&format!(
            "{:<14} {:<18} {:<10} {:>4}h/wk  {}\n",
            agent.id,
            agent.zone_name,
            agent.languages.join(","),
            agent.max_hours_per_week,
            record
                .map(|r| r.availability.join("; "))
                .unwrap_or_default()
        ));
    }
    Ok(CommandOutput::text(out))
}

/// The tenant's roster from storage; an error saying how to import one.
fn stored_roster(tenant: &str) -> Result<Roster, PluginError> {
    load_roster()?.ok_or_else(|| {
        PluginError::new(format!(
            "tenant '{tenant}' has no roster: import one with `crossdesk admin import-data \
             --tenant {tenant} --plugin schedule --dataset {ROSTER_DATASET} FILE`"
        ))
    })
}

/// The tenant a command runs for.
fn tenant<'a>(input: &'a CommandInput, command: &str) -> Result<&'a str, PluginError> {
    input
        .tenant
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            PluginError::new(format!("command '{command}' runs for a tenant (--tenant)"))
        })
}

/// An error about the value given for parameter `name`.
fn invalid(name: &str, value: &str, message: impl std::fmt::Display) -> PluginError {
    PluginError::new(format!("--{name} '{value}': {message}"))
}

/// The value of parameter `name`, else `default`, else an error saying it is
/// required.
fn value_or<'a>(
    input: &'a CommandInput,
    name: &str,
    default: Option<&'a str>,
) -> Result<&'a str, PluginError> {
    input
        .value(name)
        .or(default)
        .ok_or_else(|| PluginError::new(format!("--{name} is required")))
}

/// `value` of parameter `name` parsed as `T`.
fn parse<T>(name: &str, value: &str) -> Result<T, PluginError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    value.trim().parse().map_err(|e| invalid(name, value, e))
}

/// `value` of parameter `name` as a duration (`30m`, `180s`, `1h`), parsed as the
/// host's command line parsed them.
fn duration(name: &str, value: &str) -> Result<Duration, PluginError> {
    humantime::parse_duration(value.trim())
        .map_err(|e| invalid(name, value, format!("{e} (e.g. 30m, 180s, 1h)")))
}
