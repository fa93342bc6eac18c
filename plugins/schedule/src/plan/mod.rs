//! Staffing requirements and a week's shift schedule.
//!
//! This module owns the step from a [`Forecast`] to agents on shifts:
//!
//! 1. [`requirements`]: per language and interval, Erlang C
//!    ([`crate::erlang::required_agents`]) turns expected arrivals into agents
//!    needed on the floor and heads to schedule after shrinkage.
//! 2. [`schedule_week`]: places roster agents on shifts inside their availability
//!    to cover the heads, and reports the counts, the gaps and the shifts
//!    ([`Plan`], serializable for `--json`; [`render_table`] for people).
//!
//! Everything sits on the forecast's UTC grid of whole intervals, from the week's
//! start to its end seven local days later in the plan's zone (167 or 169 hours
//! across a daylight-saving change, [`crate::forecast::week_end`]); agents' local
//! windows come in through [`Agent::windows`], so a 09:00 local start stays 09:00
//! across a daylight-saving change.
//!
//! **Coverage.** An agent on shift counts for one language per interval. At every
//! interval the agents on shift are matched to the languages' heads so that as
//! many heads as possible are filled (a maximum bipartite matching kept up to date
//! by augmenting paths): a newly placed agent takes the language among theirs with
//! the largest remaining shortfall, and when all of theirs are already met, an
//! agent already placed moves to another language they speak if that frees a place.
//! Agents beyond the heads are reported under their language with the least
//! surplus. Uncovered demand is the sum over languages and intervals of
//! `max(0, heads − scheduled)`.
//!
//! **Method (a heuristic, not an optimum).**
//!
//! 1. Lazy greedy: repeatedly place the candidate shift (agent, start, length)
//!    with the largest reduction of uncovered demand per hour (ties: the larger
//!    reduction, then agent id, then start) until no candidate reduces it.
//!    Covered demand is submodular in the (agent, interval) placements (a matroid
//!    rank per interval), so an agent's best ratio never rises as others are
//!    placed, and only the agent on top of the queue is re-evaluated, in
//!    O(I·ΔL) for I intervals and ΔL allowed shift lengths (gains from prefix
//!    sums).
//! 2. Local improvement by best response: each agent in turn is taken off and
//!    re-planned optimally with everyone else fixed, by dynamic programming over
//!    (interval, budget left, shifts begun that local day), most heads filled
//!    first, then fewest hours; O(I·H·D·ΔL) for a budget of H intervals and D
//!    shifts a day. This covers extending, shortening, moving, dropping and adding
//!    the agent's shifts and never lowers coverage. Rounds repeat while coverage
//!    rises or hours fall, at most [`IMPROVEMENT_ROUNDS`]; an agent is skipped
//!    when nobody else came or went in their hours since their last turn.
//! 3. A second start: first fit (each agent in turn, by id, works each of their
//!    availability blocks from its start, within the rules), improved the same
//!    way. The better of the two plans is kept, so a plan never covers less than
//!    first fit. Best response alone can stall where two agents would have to
//!    move together, and the greedy start leads there on some rosters.
//!
//! Placing or removing an agent in an interval is one augmenting-path search,
//! O(A·L) for A agents on shift and L languages. Measured with the greedy start
//! alone: 60 agents, 5 languages and 30-minute intervals took about 0.1 s in a
//! release build; both starts take about three times as long (BENCHMARKS.md,
//! "Staffing maths").
//!
//! **Constraints.** A shift is a run of whole intervals inside one availability
//! block (the agent's windows, clipped to the week and merged), between the
//! minimum and maximum shift length, or shorter when the block itself is shorter
//! than the minimum; at most `max_shifts_per_day` shifts start on one local date
//! of the agent; the week's hours stay within `max_hours_per_week`; an agent's
//! shifts neither overlap nor touch (touching shifts would be one longer shift).
//!
//! **Gaps.** One [`Gap`] per run of consecutive intervals of one language with
//! the same number of missing heads. Demand in a language nobody on the roster
//! speaks is reported as gaps like any other.

mod coverage;
mod report;
mod search;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::erlang::{ErlangError, StaffingInput, required_agents};
use crate::forecast::{Forecast, INTERVAL_MINUTES, interval_start, intervals_between};
use crate::roster::{Agent, Roster, canonical_language};

use coverage::{AgentInfo, Slot};
use search::Scheduler;

pub use report::render_table;

/// Rounds of the local improvement pass after each start (greedy, first fit).
pub const IMPROVEMENT_ROUNDS: usize = 8;

/// The most languages one plan can hold.
pub const MAX_LANGUAGES: usize = 64;

/// Staffing targets and shift rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanSettings {
    /// Interval length in minutes (15, 30 or 60); must match the forecast.
    pub interval_minutes: u32,
    /// Service-level answer time, in seconds.
    pub target_secs: f64,
    /// Share of contacts to answer within `target_secs`, in (0, 1).
    pub service_level: f64,
    /// Highest occupancy allowed, in (0, 1], if any.
    pub max_occupancy: Option<f64>,
    /// Share of paid time not on the floor (breaks, meetings), in [0, 1).
    pub shrinkage: f64,
    /// Average handling time in seconds where a language has none of its own.
    pub aht_secs: f64,
    /// Average handling time in seconds by language.
    pub aht_by_language: BTreeMap<String, f64>,
    /// Shortest shift in hours (rounded up to whole intervals).
    pub min_shift_hours: f64,
    /// Longest shift in hours (rounded down to whole intervals).
    pub max_shift_hours: f64,
    /// Most shifts an agent starts on one local date.
    pub max_shifts_per_day: u32,
}

impl Default for PlanSettings {
    fn default() -> Self {
        PlanSettings {
            interval_minutes: 30,
            target_secs: 20.0,
            service_level: 0.8,
            max_occupancy: Some(0.85),
            shrinkage: 0.3,
            aht_secs: 300.0,
            aht_by_language: BTreeMap::new(),
            min_shift_hours: 4.0,
            max_shift_hours: 8.0,
            max_shifts_per_day: 1,
        }
    }
}

impl PlanSettings {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), PlanError> {
        let bad = |field: &'static str, message: String| Err(PlanError::Setting { field, message });
        if !INTERVAL_MINUTES.contains(&self.interval_minutes) {
            return bad(
                "interval_minutes",
                format!("{} is not one of 15, 30, 60", self.interval_minutes),
            );
        }
        if !(self.target_secs.is_finite() && self.target_secs >= 0.0) {
            return bad(
                "target_secs",
                format!("{} is not a number of seconds >= 0", self.target_secs),
            );
        }
        if !(self.service_level > 0.0 && self.service_level < 1.0) {
            return bad(
                "service_level",
                format!("{} is not between 0 and 1", self.service_level),
            );
        }
        if let Some(occupancy) = self.max_occupancy
            && !(occupancy > 0.0 && occupancy <= 1.0)
        {
            return bad("max_occupancy", format!("{occupancy} is not in (0, 1]"));
        }
        if !(self.shrinkage >= 0.0 && self.shrinkage < 1.0) {
            return bad("shrinkage", format!("{} is not in [0, 1)", self.shrinkage));
        }
        if !(self.aht_secs.is_finite() && self.aht_secs > 0.0) {
            return bad(
                "aht_secs",
                format!("{} is not a positive number of seconds", self.aht_secs),
            );
        }
        for (language, aht) in &self.aht_by_language {
            if canonical_language(language).is_none() {
                return bad(
                    "aht_by_language",
                    format!("'{language}' is not a language tag"),
                );
            }
            if !(aht.is_finite() && *aht > 0.0) {
                return bad(
                    "aht_by_language",
                    format!("'{language}': {aht} is not a positive number of seconds"),
                );
            }
        }
        if !(self.min_shift_hours > 0.0 && self.min_shift_hours <= 24.0) {
            return bad(
                "min_shift_hours",
                format!("{} is not in (0, 24]", self.min_shift_hours),
            );
        }
        if !(self.max_shift_hours >= self.min_shift_hours && self.max_shift_hours <= 24.0) {
            return bad(
                "max_shift_hours",
                format!(
                    "{} is not between min_shift_hours ({}) and 24",
                    self.max_shift_hours, self.min_shift_hours
                ),
            );
        }
        let (min_len, max_len) = self.shift_lengths();
        if max_len == 0 || min_len > max_len {
            return bad(
                "max_shift_hours",
                format!(
                    "{} h holds no whole {}-minute interval at or above min_shift_hours ({} h)",
                    self.max_shift_hours, self.interval_minutes, self.min_shift_hours
                ),
            );
        }
        if self.max_shifts_per_day == 0 {
            return bad("max_shifts_per_day", "must be at least 1".into());
        }
        Ok(())
    }

    /// Shortest and longest shift in whole intervals.
    fn shift_lengths(&self) -> (usize, usize) {
        let per_hour = 60.0 / f64::from(self.interval_minutes.max(1));
        let min = (self.min_shift_hours * per_hour - 1e-9).ceil().max(1.0) as usize;
        let max = (self.max_shift_hours * per_hour + 1e-9).floor().max(0.0) as usize;
        (min, max)
    }

    /// The handling time used for `language`.
    pub fn aht_for(&self, language: &str) -> f64 {
        self.aht_by_language
            .iter()
            .find(|(tag, _)| canonical_language(tag).as_deref() == Some(language))
            .map_or(self.aht_secs, |(_, aht)| *aht)
    }
}

/// Why requirements or a schedule could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A setting is out of range.
    #[error("{field}: {message}")]
    Setting {
        /// The setting's name.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The forecast (or requirements) and the settings disagree on the interval.
    #[error("the {what} has {given}-minute intervals but interval_minutes is {settings}")]
    IntervalMismatch {
        /// `forecast` or `requirements`.
        what: &'static str,
        /// Their interval.
        given: u32,
        /// The settings' interval.
        settings: u32,
    },
    /// Erlang C refused an interval's input.
    #[error("staffing for '{language}' at {at}: {source}")]
    Erlang {
        /// The language.
        language: String,
        /// Start of the interval.
        at: Timestamp,
        /// The Erlang error.
        #[source]
        source: ErlangError,
    },
    /// The week to schedule is not the requirements' week.
    #[error("week_start {week_start} is not the requirements' week ({requirements})")]
    WeekMismatch {
        /// The week asked for.
        week_start: Timestamp,
        /// The requirements' week.
        requirements: Timestamp,
    },
    /// A requirement series has the wrong number of intervals.
    #[error("requirements for '{language}' have {len} intervals, expected {expected}")]
    Shape {
        /// The language.
        language: String,
        /// Intervals given.
        len: usize,
        /// Intervals in the week.
        expected: usize,
    },
    /// More languages than the scheduler handles.
    #[error("{0} languages between demand and roster: at most {MAX_LANGUAGES} are supported")]
    TooManyLanguages(usize),
    /// The week ends where it starts, or before.
    #[error("the week from {week_start} to {week_end} holds no interval")]
    EmptyWeek {
        /// The week's start.
        week_start: Timestamp,
        /// The requirements' end of the week.
        week_end: Timestamp,
    },
}

/// Heads needed per language and interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requirements {
    /// Start of the week (UTC instant).
    pub week_start: Timestamp,
    /// End of the week, exclusive (the forecast's: seven local days later).
    pub week_end: Timestamp,
    /// Interval length in minutes.
    pub interval_minutes: u32,
    /// Agents needed on the floor, by language and interval (Erlang C).
    pub on_floor: BTreeMap<String, Vec<u32>>,
    /// Agents to schedule after shrinkage, by language and interval.
    pub heads: BTreeMap<String, Vec<u32>>,
    /// The handling time used per language, in seconds.
    pub aht_secs: BTreeMap<String, f64>,
}

/// Erlang C for every language and interval of `forecast`.
pub fn requirements(
    forecast: &Forecast,
    settings: &PlanSettings,
) -> Result<Requirements, PlanError> {
    settings.validate()?;
    if forecast.interval_minutes != settings.interval_minutes {
        return Err(PlanError::IntervalMismatch {
            what: "forecast",
            given: forecast.interval_minutes,
            settings: settings.interval_minutes,
        });
    }
    let expected = forecast.intervals();
    let mut result = Requirements {
        week_start: forecast.week_start,
        week_end: forecast.week_end,
        interval_minutes: forecast.interval_minutes,
        on_floor: BTreeMap::new(),
        heads: BTreeMap::new(),
        aht_secs: BTreeMap::new(),
    };
    for (language, arrivals) in &forecast.languages {
        if arrivals.len() != expected {
            return Err(PlanError::Shape {
                language: language.clone(),
                len: arrivals.len(),
                expected,
            });
        }
        let aht = settings.aht_for(language);
        let (mut floor, mut heads) = (Vec::with_capacity(expected), Vec::with_capacity(expected));
        for (i, &contacts) in arrivals.iter().enumerate() {
            let input = StaffingInput {
                contacts: contacts.max(0.0),
                interval_secs: f64::from(settings.interval_minutes) * 60.0,
                aht_secs: aht,
                target_secs: settings.target_secs,
                service_level: settings.service_level,
                max_occupancy: settings.max_occupancy,
                shrinkage: settings.shrinkage,
            };
            let staffing = required_agents(&input).map_err(|source| PlanError::Erlang {
                language: language.clone(),
                at: forecast.interval_start(i),
                source,
            })?;
            floor.push(staffing.agents);
            heads.push(staffing.scheduled);
        }
        result.on_floor.insert(language.clone(), floor);
        result.heads.insert(language.clone(), heads);
        result.aht_secs.insert(language.clone(), aht);
    }
    Ok(result)
}

/// One agent's shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shift {
    /// The agent's id.
    pub agent_id: String,
    /// The agent's display name.
    pub agent_name: String,
    /// The agent's IANA time zone.
    pub time_zone: String,
    /// Start (UTC instant).
    pub start: Timestamp,
    /// End, exclusive (UTC instant).
    pub end: Timestamp,
    /// The languages the agent works in.
    pub languages: Vec<String>,
}

impl Shift {
    /// Length in hours.
    pub fn hours(&self) -> f64 {
        self.end.duration_since(self.start).as_secs_f64() / 3600.0
    }
}

/// A run of consecutive intervals of one language short of the same number of
/// heads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// The language.
    pub language: String,
    /// Start of the first interval.
    pub start: Timestamp,
    /// End of the last interval.
    pub end: Timestamp,
    /// Heads missing in each of its intervals.
    pub missing: u32,
}

/// A language's totals over the week, in agent-hours.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LanguageTotals {
    /// Heads required.
    pub required_hours: f64,
    /// Agents scheduled (including those beyond the requirement).
    pub scheduled_hours: f64,
    /// Required heads that are scheduled.
    pub covered_hours: f64,
    /// Required heads that are not.
    pub uncovered_hours: f64,
}

/// A week's schedule and how well it covers the requirements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Start of the week (UTC instant).
    pub week_start: Timestamp,
    /// End of the week, exclusive: seven days later on the plan zone's calendar
    /// (167 or 169 hours across a daylight-saving change).
    pub week_end: Timestamp,
    /// Interval length in minutes.
    pub interval_minutes: u32,
    /// Shifts by agent id, then start.
    pub shifts: Vec<Shift>,
    /// Languages with demand or spoken on the roster, sorted.
    pub languages: Vec<String>,
    /// Heads required by language and interval.
    pub required: BTreeMap<String, Vec<u32>>,
    /// Agents counted for each language per interval.
    pub scheduled: BTreeMap<String, Vec<u32>>,
    /// Shortfalls, by language then start.
    pub gaps: Vec<Gap>,
}

impl Plan {
    /// Intervals in the week.
    pub fn intervals(&self) -> usize {
        intervals_between(self.week_start, self.week_end, self.interval_minutes)
    }

    /// Start of interval `index`.
    pub fn interval_start(&self, index: usize) -> Timestamp {
        interval_start(self.week_start, self.interval_minutes, index)
    }

    /// Length of one interval in hours.
    pub fn interval_hours(&self) -> f64 {
        f64::from(self.interval_minutes) / 60.0
    }

    /// Required and scheduled heads of `language` at interval `index` (zeros
    /// where unknown).
    pub fn at(&self, language: &str, index: usize) -> (u32, u32) {
        let get = |map: &BTreeMap<String, Vec<u32>>| {
            map.get(language)
                .and_then(|v| v.get(index))
                .copied()
                .unwrap_or(0)
        };
        (get(&self.required), get(&self.scheduled))
    }

    /// Totals per language.
    pub fn totals(&self) -> BTreeMap<String, LanguageTotals> {
        let hours = self.interval_hours();
        self.languages
            .iter()
            .map(|language| {
                let mut totals = LanguageTotals::default();
                for i in 0..self.intervals() {
                    let (required, scheduled) = self.at(language, i);
                    totals.required_hours += f64::from(required) * hours;
                    totals.scheduled_hours += f64::from(scheduled) * hours;
                    totals.covered_hours += f64::from(required.min(scheduled)) * hours;
                    totals.uncovered_hours += f64::from(required.saturating_sub(scheduled)) * hours;
                }
                (language.clone(), totals)
            })
            .collect()
    }

    /// Required agent-hours not scheduled, over all languages.
    pub fn uncovered_agent_hours(&self) -> f64 {
        self.totals().values().map(|t| t.uncovered_hours).sum()
    }

    /// Share of required agent-hours that are scheduled (1 when nothing is required).
    pub fn coverage_ratio(&self) -> f64 {
        let (covered, required) = self.totals().values().fold((0.0, 0.0), |(c, r), t| {
            (c + t.covered_hours, r + t.required_hours)
        });
        if required > 0.0 {
            covered / required
        } else {
            1.0
        }
    }
}

/// Places `roster`'s agents on shifts for the week at `week_start` to cover
/// `requirements` (see the module documentation for the method and rules).
pub fn schedule_week(
    roster: &Roster,
    requirements: &Requirements,
    week_start: Timestamp,
    settings: &PlanSettings,
) -> Result<Plan, PlanError> {
    settings.validate()?;
    if requirements.week_start != week_start {
        return Err(PlanError::WeekMismatch {
            week_start,
            requirements: requirements.week_start,
        });
    }
    if requirements.interval_minutes != settings.interval_minutes {
        return Err(PlanError::IntervalMismatch {
            what: "requirements",
            given: requirements.interval_minutes,
            settings: settings.interval_minutes,
        });
    }
    let iv = settings.interval_minutes;
    // The requirements' week: seven local days of the plan's zone, not 7 × 24
    // hours, which would plan an hour of the next week or leave one out.
    let week_end = requirements.week_end;
    let n = intervals_between(week_start, week_end, iv);
    if n == 0 {
        return Err(PlanError::EmptyWeek {
            week_start,
            week_end,
        });
    }
    for (language, heads) in &requirements.heads {
        if heads.len() != n {
            return Err(PlanError::Shape {
                language: language.clone(),
                len: heads.len(),
                expected: n,
            });
        }
    }

    let mut languages: Vec<String> = requirements.heads.keys().cloned().collect();
    languages.extend(roster.languages());
    languages.sort();
    languages.dedup();
    if languages.len() > MAX_LANGUAGES {
        return Err(PlanError::TooManyLanguages(languages.len()));
    }
    let index_of = |language: &str| languages.iter().position(|l| l == language);
    let mut heads = vec![vec![0u32; languages.len()]; n];
    for (language, series) in &requirements.heads {
        if let Some(l) = index_of(language) {
            for (t, &h) in series.iter().enumerate() {
                heads[t][l] = h;
            }
        }
    }

    let mut agents: Vec<&Agent> = roster.agents.iter().collect();
    agents.sort_by(|a, b| a.id.cmp(&b.id));
    let infos: Vec<AgentInfo> = agents
        .iter()
        .map(|agent| AgentInfo::new(agent, &languages, week_start, week_end, iv, n))
        .collect();
    let (min_len, max_len) = settings.shift_lengths();
    let mut scheduler = Scheduler {
        heads,
        masks: infos.iter().map(|i| i.mask).collect(),
        slots: (0..n).map(|_| Slot::new(languages.len())).collect(),
        shifts: vec![Vec::new(); infos.len()],
        used: vec![0; infos.len()],
        clock: 0,
        changed: vec![0; n],
        seen: vec![0; infos.len()],
        infos,
        min_len,
        max_len,
        max_per_day: settings.max_shifts_per_day as usize,
    };
    for (slot, heads) in scheduler.slots.iter_mut().zip(&scheduler.heads) {
        slot.refresh(heads, &scheduler.masks);
    }
    scheduler.run();
    Ok(scheduler.into_plan(&agents, &languages, week_start, week_end, iv))
}
