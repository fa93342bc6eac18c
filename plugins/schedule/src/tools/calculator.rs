//! The `erlang` command: the Erlang C staffing calculator for one interval, as a
//! table or JSON. The maths is [`crate::erlang`]; this owns the parameters, their
//! defaults and the report.

use std::fmt::Write as _;

use crossdesk_sdk::{CommandInput, CommandOutput, CommandSpec, Param, PluginError};

use super::{duration, invalid, parse, value_or};
use crate::erlang::{self, ErlangError, StaffingInput};

/// The command's name.
pub(super) const NAME: &str = "erlang";

// Defaults, shared by the spec (shown to admins) and the run (tests and hosts
// that pass only what was given).
const INTERVAL: &str = "30m";
const TARGET: &str = "20s";
const SERVICE_LEVEL: &str = "0.8";
const SHRINKAGE: &str = "0";

pub(super) fn spec() -> CommandSpec {
    CommandSpec::new(
        NAME,
        "The Erlang C staffing calculator: agents needed for a service level, the head \
         count to schedule after shrinkage, and the service level, probability of \
         waiting, average speed of answer and occupancy at that count",
    )
    .param(Param::value("contacts", "Contacts arriving in the interval").required())
    .param(
        Param::value("interval", "The interval's length (30m, 1h, 900s)").default_value(INTERVAL),
    )
    .param(Param::value("aht", "Average handling time (180s, 3m)").required())
    .param(
        Param::value("target", "Answer-time target of the service level (20s)")
            .default_value(TARGET),
    )
    .param(
        Param::value("service-level", "Fraction answered within the target (0.8)")
            .default_value(SERVICE_LEVEL),
    )
    .param(Param::value(
        "max-occupancy",
        "Highest occupancy allowed (0.85); none by default",
    ))
    .param(
        Param::value(
            "shrinkage",
            "Fraction of paid time agents are unavailable (breaks, training, absence)",
        )
        .default_value(SHRINKAGE),
    )
    .param(Param::flag("json", "Print JSON instead of a table"))
}

pub(super) fn run(input: &CommandInput) -> Result<CommandOutput, PluginError> {
    let contacts = value_or(input, "contacts", None)?;
    let interval = value_or(input, "interval", Some(INTERVAL))?;
    let aht = value_or(input, "aht", None)?;
    let target = value_or(input, "target", Some(TARGET))?;
    let service_level = value_or(input, "service-level", Some(SERVICE_LEVEL))?;
    let max_occupancy = input.value("max-occupancy");
    let shrinkage = value_or(input, "shrinkage", Some(SHRINKAGE))?;
    let target_secs = duration("target", target)?.as_secs_f64();
    let staffing_input = StaffingInput {
        contacts: parse("contacts", contacts)?,
        interval_secs: duration("interval", interval)?.as_secs_f64(),
        aht_secs: duration("aht", aht)?.as_secs_f64(),
        target_secs,
        service_level: parse("service-level", service_level)?,
        max_occupancy: max_occupancy
            .map(|v| parse("max-occupancy", v))
            .transpose()?,
        shrinkage: parse("shrinkage", shrinkage)?,
    };
    let staffing = erlang::required_agents(&staffing_input).map_err(|e| match e {
        // Name the parameter and the text given, not the calculator's field.
        ErlangError::InvalidInput {
            field, requirement, ..
        } => {
            let (name, given) = match field {
                "contacts" => ("contacts", contacts),
                "interval_secs" => ("interval", interval),
                "aht_secs" => ("aht", aht),
                "target_secs" => ("target", target),
                "service_level" => ("service-level", service_level),
                "max_occupancy" => ("max-occupancy", max_occupancy.unwrap_or("")),
                _ => ("shrinkage", shrinkage),
            };
            invalid(name, given, format!("must be {requirement}"))
        }
        other => PluginError::new(other.to_string()),
    })?;
    if input.flag("json") {
        let mut doc = serde_json::Map::new();
        doc.insert("input".into(), to_value(&staffing_input)?);
        doc.insert("staffing".into(), to_value(&staffing)?);
        let json = serde_json::to_string_pretty(&serde_json::Value::Object(doc))
            .map_err(|e| PluginError::new(format!("cannot write JSON: {e}")))?;
        return Ok(CommandOutput::text(json + "\n"));
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
        staffing_input.shrinkage * 100.0
    );
    let _ = writeln!(
        out,
        "service level           {:.2}% answered within {} s",
        staffing.service_level * 100.0,
        target_secs
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
    Ok(CommandOutput::text(out))
}

fn to_value(value: &impl serde::Serialize) -> Result<serde_json::Value, PluginError> {
    serde_json::to_value(value).map_err(|e| PluginError::new(format!("cannot write JSON: {e}")))
}
