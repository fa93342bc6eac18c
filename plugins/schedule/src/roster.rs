//! The roster: who the tenant's agents are, which languages they speak, where they
//! live and when they can work.
//!
//! Availability is written in the agent's own local time, the way people state it:
//! `"mon-fri 09:00-17:00"`, `"sat,sun 10:00-14:00"`, `"daily 22:00-06:00"` (a window
//! whose end is not after its start runs past midnight; `24:00` ends at midnight).
//! [`Agent::windows`] turns that into concrete instants with the IANA zone database
//! (jiff's bundled copy, so the plugin and the host agree), so a 09:00 start stays
//! 09:00 local across daylight-saving changes. A local time skipped by a change
//! is moved forward by the gap's length (02:30 on a spring-forward night is 03:30),
//! and one repeated in autumn is its first occurrence (RFC 5545's rule).
//!
//! Rosters are imported as JSON (`{"agents": [...]}` or a bare list) or CSV (one
//! agent per row; lists separated by `;`). Every field is checked on import, and
//! an error names the agent and the field.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Weekly hours of an agent whose maximum is not given.
pub const DEFAULT_MAX_HOURS: f64 = 40.0;

/// Why a roster could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// The document is not JSON or CSV of the expected shape.
    #[error("{0}")]
    Format(String),
    /// One agent's field is wrong.
    #[error("agent '{agent}': {field}: {message}")]
    Field {
        agent: String,
        field: &'static str,
        message: String,
    },
    /// Two agents share an id.
    #[error("agent '{0}' appears twice")]
    Duplicate(String),
}

/// One agent as written in an import file and kept in storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentRecord {
    /// Unique within the tenant (the helpdesk's agent id).
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Languages the agent works in (`es`, `pt-BR`, ...).
    pub languages: Vec<String>,
    /// IANA zone, e.g. `Europe/Madrid`.
    pub time_zone: String,
    /// Weekly availability in local time, e.g. `mon-fri 09:00-17:00`.
    pub availability: Vec<String>,
    /// The most hours a week the agent may be scheduled.
    #[serde(default)]
    pub max_hours_per_week: Option<f64>,
    /// Free skill names (`billing`, `vip`).
    #[serde(default)]
    pub skills: Vec<String>,
    /// The helpdesk group conversations for this agent go to.
    #[serde(default)]
    pub group: Option<String>,
}

/// A weekly availability window in the agent's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The day the window starts on.
    pub day: Weekday,
    /// Local start time.
    pub start: Time,
    /// Local end time; at or before `start` means the next day.
    pub end: Time,
    /// Whether `end` is midnight written as `24:00`.
    pub ends_at_midnight: bool,
}

/// A span of time, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Interval {
    /// Whether `at` is inside.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }
}

/// A checked agent.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub name: String,
    /// Canonical language codes (`es`, `pt`), lower-case, without region.
    pub languages: Vec<String>,
    pub time_zone: TimeZone,
    /// The zone's IANA name.
    pub zone_name: String,
    pub availability: Vec<Window>,
    pub max_hours_per_week: f64,
    pub skills: Vec<String>,
    pub group: Option<String>,
}

/// A tenant's checked roster.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub agents: Vec<Agent>,
    /// The records as imported, for storage.
    pub records: Vec<AgentRecord>,
}

impl Roster {
    /// Parses and checks a JSON roster: `{"agents": [...]}` or a bare list.
    pub fn from_json(text: &str) -> Result<Roster, RosterError> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Doc {
            Wrapped { agents: Vec<AgentRecord> },
            Bare(Vec<AgentRecord>),
        }
        let records = match serde_json::from_str::<Doc>(text)
            .map_err(|e| RosterError::Format(format!("roster JSON: {e}")))?
        {
            Doc::Wrapped { agents } | Doc::Bare(agents) => agents,
        };
        Roster::from_records(records)
    }

    /// Parses and checks a CSV roster with a header row naming the columns `id`,
    /// `name`, `languages`, `time_zone`, `availability`, `max_hours_per_week`,
    /// `skills`, `group` (`id`, `languages`, `time_zone` and `availability`
    /// required). List cells separate items with `;`.
    pub fn from_csv(text: &str) -> Result<Roster, RosterError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| RosterError::Format(format!("roster CSV header: {e}")))?
            .clone();
        let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let required = |name: &'static str| {
            column(name).ok_or_else(|| {
                RosterError::Format(format!("roster CSV: the header has no '{name}' column"))
            })
        };
        let (id, languages, zone, availability) = (
            required("id")?,
            required("languages")?,
            required("time_zone")?,
            required("availability")?,
        );
        let (name, max_hours, skills, group) = (
            column("name"),
            column("max_hours_per_week"),
            column("skills"),
            column("group"),
        );
        let list = |cell: &str| -> Vec<String> {
            cell.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut records = Vec::new();
        for (row, result) in reader.records().enumerate() {
            let record = result
                .map_err(|e| RosterError::Format(format!("roster CSV row {}: {e}", row + 2)))?;
            let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").to_owned();
            let agent = cell(Some(id));
            let max_hours_per_week = match cell(max_hours).as_str() {
                "" => None,
                text => Some(text.parse::<f64>().map_err(|_| RosterError::Field {
                    agent: agent.clone(),
                    field: "max_hours_per_week",
                    message: format!("'{text}' is not a number"),
                })?),
            };
            let group = Some(cell(group)).filter(|g| !g.is_empty());
            records.push(AgentRecord {
                id: agent,
                name: cell(name),
                languages: list(&cell(Some(languages))),
                time_zone: cell(Some(zone)),
                availability: list(&cell(Some(availability))),
                max_hours_per_week,
                skills: list(&cell(skills)),
                group,
            });
        }
        Roster::from_records(records)
    }

    /// Checks records (as stored) into a roster.
    pub fn from_records(records: Vec<AgentRecord>) -> Result<Roster, RosterError> {
        let mut agents = Vec::with_capacity(records.len());
        let mut seen = std::collections::BTreeSet::new();
        for record in &records {
            let agent = Agent::from_record(record)?;
            if !seen.insert(agent.id.clone()) {
                return Err(RosterError::Duplicate(agent.id));
            }
            agents.push(agent);
        }
        Ok(Roster { agents, records })
    }

    /// The records as JSON, the form kept in storage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.records).unwrap_or_else(|_| "[]".into())
    }

    /// Every language some agent speaks, sorted.
    pub fn languages(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&String> =
            self.agents.iter().flat_map(|a| &a.languages).collect();
        set.into_iter().cloned().collect()
    }
}

impl Agent {
    fn from_record(record: &AgentRecord) -> Result<Agent, RosterError> {
        let id = record.id.trim().to_owned();
        let field = |field: &'static str, message: String| RosterError::Field {
            agent: if id.is_empty() {
                "?".into()
            } else {
                id.clone()
            },
            field,
            message,
        };
        if id.is_empty() {
            return Err(field("id", "must not be empty".into()));
        }
        let mut languages = Vec::new();
        for tag in &record.languages {
            let code = canonical_language(tag)
                .ok_or_else(|| field("languages", format!("'{tag}' is not a language tag")))?;
            if !languages.contains(&code) {
                languages.push(code);
            }
        }
        if languages.is_empty() {
            return Err(field("languages", "at least one language is needed".into()));
        }
        let zone_name = record.time_zone.trim().to_owned();
        let time_zone = TimeZone::get(&zone_name).map_err(|_| {
            field(
                "time_zone",
                format!("'{zone_name}' is not an IANA time zone (e.g. Europe/Madrid)"),
            )
        })?;
        let mut availability = Vec::new();
        for text in &record.availability {
            availability.extend(
                parse_availability(text).map_err(|message| field("availability", message))?,
            );
        }
        let max_hours_per_week = record.max_hours_per_week.unwrap_or(DEFAULT_MAX_HOURS);
        if !(0.0..=168.0).contains(&max_hours_per_week) {
            return Err(field(
                "max_hours_per_week",
                format!("{max_hours_per_week} is not between 0 and 168"),
            ));
        }
        Ok(Agent {
            name: if record.name.trim().is_empty() {
                id.clone()
            } else {
                record.name.trim().to_owned()
            },
            id,
            languages,
            time_zone,
            zone_name,
            availability,
            max_hours_per_week,
            skills: record.skills.clone(),
            group: record.group.clone().filter(|g| !g.trim().is_empty()),
        })
    }

    /// Whether the agent works in `language` (a canonical code).
    pub fn speaks(&self, language: &str) -> bool {
        self.languages.iter().any(|l| l == language)
    }

    /// The agent's availability windows as instants, every one that overlaps
    /// `[from, to)`, in order of start.
    pub fn windows(&self, from: Timestamp, to: Timestamp) -> Vec<Interval> {
        let mut out = Vec::new();
        if from >= to {
            return out;
        }
        // A window may start the day before `from` (overnight) in local time.
        let first = self.time_zone.to_datetime(from).date().yesterday();
        let last = self.time_zone.to_datetime(to).date();
        let (Ok(first), Ok(last)) = (first, Ok::<Date, jiff::Error>(last)) else {
            return out;
        };
        let mut date = first;
        while date <= last {
            for window in self.availability.iter().filter(|w| w.day == date.weekday()) {
                if let Some(interval) = self.concrete(date, window)
                    && interval.end > from
                    && interval.start < to
                {
                    out.push(interval);
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        out.sort();
        out
    }

    /// Whether `at` falls in one of the agent's windows.
    pub fn available_at(&self, at: Timestamp) -> bool {
        let hour = SignedDuration::from_hours(1);
        let (Ok(from), Ok(to)) = (at.checked_sub(hour), at.checked_add(hour)) else {
            return false;
        };
        self.windows(from, to).iter().any(|w| w.contains(at))
    }

    /// One window on one local date, as instants.
    fn concrete(&self, date: Date, window: &Window) -> Option<Interval> {
        let start = self.instant(date.to_datetime(window.start))?;
        let end_date = if window.ends_at_midnight || window.end <= window.start {
            date.tomorrow().ok()?
        } else {
            date
        };
        let end = self.instant(end_date.to_datetime(window.end))?;
        (end > start).then_some(Interval { start, end })
    }

    fn instant(&self, local: DateTime) -> Option<Timestamp> {
        self.time_zone
            .to_ambiguous_zoned(local)
            .compatible()
            .ok()
            .map(|z| z.timestamp())
    }
}

/// The canonical code of a language tag, as routing names a customer's
/// (`crossdesk_text::lang::from_code`: `pt-BR` → `pt`, `fra` → `fr`, Norwegian
/// `no` → `nb`), else its primary subtag, lower-case. `None` for what is not a
/// tag. Rosters, the contact history and customers all go through it, so a
/// Norwegian agent listed as `no` serves a customer whose locale is `nb-NO`.
pub fn canonical_language(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    if !((2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_lowercase())) {
        return None;
    }
    Some(crossdesk_text::lang::from_code(&primary).map_or(primary, str::to_owned))
}

/// Parses one availability entry: `DAYS HH:MM-HH:MM`, where DAYS is `daily`, a
/// day (`mon`), a range (`mon-fri`, `fri-mon`) or a comma list of those.
pub fn parse_availability(text: &str) -> Result<Vec<Window>, String> {
    let text = text.trim();
    let (days, times) = text.split_once(char::is_whitespace).ok_or_else(|| {
        format!("'{text}' is not 'DAYS HH:MM-HH:MM' (e.g. 'mon-fri 09:00-17:00')")
    })?;
    let (start, end) = times
        .trim()
        .split_once('-')
        .ok_or_else(|| format!("'{times}' is not 'HH:MM-HH:MM'"))?;
    let start = parse_clock(start).ok_or_else(|| format!("'{start}' is not a time (HH:MM)"))?;
    let (end, ends_at_midnight) = match end.trim() {
        "24:00" => (Time::midnight(), true),
        other => (
            parse_clock(other).ok_or_else(|| format!("'{other}' is not a time (HH:MM)"))?,
            false,
        ),
    };
    let mut windows = Vec::new();
    for day in parse_days(days)? {
        windows.push(Window {
            day,
            start,
            end,
            ends_at_midnight,
        });
    }
    Ok(windows)
}

fn parse_clock(text: &str) -> Option<Time> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m) = (h.parse::<i8>().ok()?, m.parse::<i8>().ok()?);
    Time::new(h, m, 0, 0).ok()
}

const DAY_NAMES: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// A day's name whole or shortened to three letters or more (`mon`, `tues.`,
/// `Thursday`): anything else (`mon/wed`, `monfri`) is refused, not read as its
/// first three letters.
fn parse_day(text: &str) -> Result<Weekday, String> {
    const FULL: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let lower = text.trim().to_ascii_lowercase();
    let word = lower.strip_suffix('.').unwrap_or(&lower);
    let is_word = word.len() >= 3 && word.bytes().all(|b| b.is_ascii_lowercase());
    DAY_NAMES
        .iter()
        .zip(FULL)
        .find(|(_, full)| is_word && full.starts_with(word))
        .map(|((_, day), _)| *day)
        .ok_or_else(|| format!("'{text}' is not a day (mon, tue, ... sun, or their full names)"))
}

fn parse_days(text: &str) -> Result<Vec<Weekday>, String> {
    let mut days = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        if part.eq_ignore_ascii_case("daily") {
            days.extend(DAY_NAMES.iter().map(|(_, d)| *d));
        } else if let Some((from, to)) = part.split_once('-') {
            let (mut day, to) = (parse_day(from)?, parse_day(to)?);
            days.push(day);
            while day != to {
                day = day.next();
                days.push(day);
            }
        } else {
            days.push(parse_day(part)?);
        }
    }
    days.dedup();
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One code per language wherever it comes from: a roster, a locale, the
    /// contact history.
    #[test]
    fn a_language_has_one_code_whoever_names_it() {
        for (tag, code) in [
            ("no", "nb"),
            ("nb-NO", "nb"),
            ("NO", "nb"),
            ("fra", "fr"),
            ("pt-BR", "pt"),
            ("es_419", "es"),
            ("tlh", "tlh"),
        ] {
            assert_eq!(canonical_language(tag).as_deref(), Some(code), "{tag}");
        }
        assert_eq!(canonical_language("x"), None);
        assert_eq!(canonical_language("123"), None);
        // The customer's side: routing names a Norwegian locale so.
        assert_eq!(
            crate::plugin::language_of(Some("no-NO"), ""),
            canonical_language("no")
        );
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn agent(zone: &str, availability: &[&str]) -> Agent {
        let record = AgentRecord {
            id: "a1".into(),
            name: String::new(),
            languages: vec!["es-ES".into()],
            time_zone: zone.into(),
            availability: availability.iter().map(|s| (*s).to_owned()).collect(),
            max_hours_per_week: None,
            skills: vec![],
            group: None,
        };
        Agent::from_record(&record).expect("valid agent")
    }

    #[test]
    fn parses_day_ranges_lists_and_overnight_windows() {
        let windows = parse_availability("fri-mon 22:00-06:00").expect("parses");
        let days: Vec<Weekday> = windows.iter().map(|w| w.day).collect();
        assert_eq!(
            days,
            [
                Weekday::Friday,
                Weekday::Saturday,
                Weekday::Sunday,
                Weekday::Monday
            ]
        );
        assert_eq!(
            parse_availability("daily 00:00-24:00")
                .expect("parses")
                .len(),
            7
        );
        assert_eq!(
            parse_availability("sat,sun 10:00-14:00")
                .expect("parses")
                .len(),
            2
        );
        assert!(parse_availability("funday 09:00-17:00").is_err());
        assert!(parse_availability("mon 9-17").is_err());
        assert!(parse_availability("mon 25:00-26:00").is_err());
    }

    #[test]
    fn a_local_nine_oclock_start_follows_daylight_saving() {
        let madrid = agent("Europe/Madrid", &["mon-fri 09:00-17:00"]);
        // Winter: CET = UTC+1.
        let winter = madrid.windows(ts("2026-03-23T00:00Z"), ts("2026-03-24T00:00Z"));
        assert_eq!(winter[0].start, ts("2026-03-23T08:00Z"));
        // After the last Sunday of March: CEST = UTC+2.
        let summer = madrid.windows(ts("2026-03-30T00:00Z"), ts("2026-03-31T00:00Z"));
        assert_eq!(summer[0].start, ts("2026-03-30T07:00Z"));
        assert_eq!(summer[0].end, ts("2026-03-30T15:00Z"));
    }

    #[test]
    fn overnight_windows_run_into_the_next_day() {
        let tokyo = agent("Asia/Tokyo", &["sun 22:00-06:00"]);
        // Sunday 22:00 JST = Sunday 13:00 UTC, to Monday 06:00 JST = Sunday 21:00 UTC.
        assert!(tokyo.available_at(ts("2026-11-29T20:59Z")));
        assert!(!tokyo.available_at(ts("2026-11-29T21:00Z")));
        assert!(!tokyo.available_at(ts("2026-11-29T12:59Z")));
    }

    #[test]
    fn a_window_on_a_spring_forward_night_is_not_lost() {
        let ny = agent("America/New_York", &["sun 02:30-04:00"]);
        // 2026-03-08 02:30 does not exist in New York; the window starts an hour
        // later, at 03:30 EDT, and still ends at 04:00 EDT.
        let w = ny.windows(ts("2026-03-08T00:00Z"), ts("2026-03-09T00:00Z"));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].start, ts("2026-03-08T07:30Z"));
        assert_eq!(w[0].end, ts("2026-03-08T08:00Z"));
    }

    #[test]
    fn json_and_csv_imports_agree_and_errors_name_the_field() {
        let json = r#"{"agents": [{"id": "ana", "languages": ["es", "en-GB"],
            "time_zone": "Europe/Madrid", "availability": ["mon-fri 09:00-17:00"],
            "max_hours_per_week": 32, "group": "emea"}]}"#;
        let csv = "id,languages,time_zone,availability,max_hours_per_week,group\n\
                   ana,es;en-GB,Europe/Madrid,mon-fri 09:00-17:00,32,emea\n";
        let (a, b) = (
            Roster::from_json(json).expect("json"),
            Roster::from_csv(csv).expect("csv"),
        );
        assert_eq!(a.records, b.records);
        assert_eq!(a.agents[0].languages, ["es", "en"]);
        assert_eq!(a.languages(), ["en", "es"]);
        let bad = Roster::from_csv(
            "id,languages,time_zone,availability\nbo,es,Mars/Olympus,mon 09:00-10:00\n",
        )
        .expect_err("bad zone");
        assert_eq!(
            bad.to_string(),
            "agent 'bo': time_zone: 'Mars/Olympus' is not an IANA time zone (e.g. Europe/Madrid)"
        );
        let missing = Roster::from_csv("id,languages\nbo,es\n").expect_err("no column");
        assert!(missing.to_string().contains("'time_zone'"), "{missing}");
        let twice = Roster::from_json(
            r#"[{"id":"x","languages":["en"],"time_zone":"UTC","availability":[]},
                {"id":"x","languages":["en"],"time_zone":"UTC","availability":[]}]"#,
        )
        .expect_err("duplicate");
        assert_eq!(twice.to_string(), "agent 'x' appears twice");
        let stored = Roster::from_json(&a.to_json()).expect("round trip");
        assert_eq!(stored.records, a.records);
    }

    #[test]
    fn a_day_written_with_multi_byte_characters_is_refused_not_a_panic() {
        for text in ["éé", "mö", "月曜日", "ü"] {
            assert!(parse_day(text).is_err(), "{text}");
        }
        assert_eq!(parse_day("Monday"), Ok(Weekday::Monday));
    }

    /// Not read as their first three letters: `mon/wed/fri` was Monday alone,
    /// the agent missing from two of their three days.
    #[test]
    fn a_day_list_not_written_as_the_roster_reads_it_is_refused() {
        for (text, day) in [
            ("mon", Weekday::Monday),
            ("Tues.", Weekday::Tuesday),
            ("thurs", Weekday::Thursday),
            ("SUNDAY", Weekday::Sunday),
        ] {
            assert_eq!(parse_day(text), Ok(day), "{text}");
        }
        for text in ["mon/wed/fri", "monfri", "Mon–Fri", "mo", "mondays"] {
            assert!(parse_day(text).is_err(), "{text}");
        }
        assert!(parse_availability("mon/wed/fri 09:00-17:00").is_err());
        assert_eq!(
            parse_availability("mon,wed,fri 09:00-17:00").map(|w| w.len()),
            Ok(3)
        );
    }
}
