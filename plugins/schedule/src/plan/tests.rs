//! Tests of the plan module: an independent check of every rule and of the
//! matching, worked examples, and generated rosters against a simple baseline.

use super::*;
use crate::roster::AgentRecord;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use proptest::prelude::*;

fn ts(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

/// Seven days after `week_start` in UTC, which has no daylight-saving change.
fn utc_week_end(week_start: Timestamp) -> Timestamp {
    crate::forecast::week_end(week_start, &TimeZone::UTC).expect("in range")
}

fn record(
    id: &str,
    languages: &[&str],
    zone: &str,
    availability: &[&str],
    max_hours: f64,
) -> AgentRecord {
    AgentRecord {
        id: id.into(),
        name: format!("Agent {id}"),
        languages: languages.iter().map(|s| (*s).to_owned()).collect(),
        time_zone: zone.into(),
        availability: availability.iter().map(|s| (*s).to_owned()).collect(),
        max_hours_per_week: Some(max_hours),
        skills: vec![],
        group: None,
    }
}

fn roster(records: Vec<AgentRecord>) -> Roster {
    Roster::from_records(records).expect("valid roster")
}

/// Requirements from `(language, heads, UTC hour ranges [from, to) per day,
/// days 0 = Monday)`, 30-minute intervals.
fn demand(week_start: Timestamp, items: &[(&str, u32, &[u32], u32, u32)]) -> Requirements {
    let n = 336;
    let mut heads: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for &(language, h, days, from, to) in items {
        let series = heads.entry(language.into()).or_insert_with(|| vec![0; n]);
        for &day in days {
            for half in from * 2..to * 2 {
                series[(day * 48 + half) as usize] += h;
            }
        }
    }
    Requirements {
        week_start,
        week_end: utc_week_end(week_start),
        interval_minutes: 30,
        on_floor: heads.clone(),
        heads,
        aht_secs: BTreeMap::new(),
    }
}

const WEEKDAYS: &[u32] = &[0, 1, 2, 3, 4];
const ALL_DAYS: &[u32] = &[0, 1, 2, 3, 4, 5, 6];

/// Independent check of every rule, of the counts and of the matching.
fn check_plan(plan: &Plan, roster: &Roster, requirements: &Requirements, settings: &PlanSettings) {
    let n = plan.intervals();
    let iv = i64::from(plan.interval_minutes) * 60;
    let ws = plan.week_start;
    let we = plan.interval_start(n);
    let index = |at: Timestamp| ((at.as_second() - ws.as_second()) / iv) as usize;
    let mut on_shift: Vec<Vec<&Agent>> = vec![Vec::new(); n];
    for agent in &roster.agents {
        let mine: Vec<&Shift> = plan
            .shifts
            .iter()
            .filter(|s| s.agent_id == agent.id)
            .collect();
        // Merged, grid-aligned availability blocks.
        let mut blocks: Vec<(i64, i64)> = Vec::new();
        for w in agent.windows(ws, we) {
            let s = (w.start.max(ws).as_second() - ws.as_second() + iv - 1).div_euclid(iv);
            let e = (w.end.min(we).as_second() - ws.as_second()).div_euclid(iv);
            if e <= s {
                continue;
            }
            match blocks.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => blocks.push((s, e)),
            }
        }
        let mut total = 0.0;
        let mut per_day: BTreeMap<Date, u32> = BTreeMap::new();
        for (k, shift) in mine.iter().enumerate() {
            let (s, e) = (index(shift.start) as i64, index(shift.end) as i64);
            let block = blocks.iter().find(|b| b.0 <= s && e <= b.1);
            let block =
                block.unwrap_or_else(|| panic!("{} shift {s}..{e} outside availability", agent.id));
            let hours = shift.hours();
            assert!(hours <= settings.max_shift_hours + 1e-9, "too long");
            let block_hours = (block.1 - block.0) as f64 * iv as f64 / 3600.0;
            assert!(
                hours >= settings.min_shift_hours - 1e-9 || block_hours < settings.min_shift_hours,
                "{}: {hours} h shift in a {block_hours} h block",
                agent.id
            );
            for other in &mine[k + 1..] {
                assert!(
                    other.start > shift.end || other.end < shift.start,
                    "{}: shifts overlap or touch",
                    agent.id
                );
            }
            *per_day
                .entry(agent.time_zone.to_datetime(shift.start).date())
                .or_default() += 1;
            total += hours;
            for t in s..e {
                on_shift[t as usize].push(agent);
            }
        }
        assert!(
            total <= agent.max_hours_per_week + 1e-9,
            "{}: {total} h",
            agent.id
        );
        assert!(per_day.values().all(|&c| c <= settings.max_shifts_per_day));
    }
    // Counts equal the agents actually on shift, and the covered heads are a
    // maximum matching.
    for (t, on_shift) in on_shift.iter().enumerate() {
        let total: u32 = plan.languages.iter().map(|l| plan.at(l, t).1).sum();
        assert_eq!(total as usize, on_shift.len(), "interval {t}");
        for language in &plan.languages {
            let speakers = on_shift.iter().filter(|a| a.speaks(language)).count();
            assert!(plan.at(language, t).1 as usize <= speakers);
        }
        let covered: u32 = plan
            .languages
            .iter()
            .map(|l| {
                let (r, s) = plan.at(l, t);
                r.min(s)
            })
            .sum();
        assert_eq!(
            covered,
            max_matching(on_shift, &plan.languages, |l| plan.at(l, t).0),
            "interval {t}"
        );
    }
    for (language, heads) in &requirements.heads {
        assert_eq!(&plan.required[language], heads);
    }
}

/// Maximum number of heads filled by `agents` (simple augmenting paths).
fn max_matching(agents: &[&Agent], languages: &[String], heads: impl Fn(&str) -> u32) -> u32 {
    let capacity: Vec<u32> = languages.iter().map(|l| heads(l)).collect();
    let mut holder: Vec<Vec<usize>> = vec![Vec::new(); languages.len()];
    fn try_place(
        a: usize,
        agents: &[&Agent],
        languages: &[String],
        capacity: &[u32],
        holder: &mut Vec<Vec<usize>>,
        seen: &mut Vec<bool>,
    ) -> bool {
        for (l, language) in languages.iter().enumerate() {
            if !agents[a].speaks(language) || seen[l] {
                continue;
            }
            seen[l] = true;
            if (holder[l].len() as u32) < capacity[l] {
                holder[l].push(a);
                return true;
            }
            for k in 0..holder[l].len() {
                let b = holder[l][k];
                if try_place(b, agents, languages, capacity, holder, seen) {
                    holder[l][k] = a;
                    return true;
                }
            }
        }
        false
    }
    let mut matched = 0;
    for a in 0..agents.len() {
        let mut seen = vec![false; languages.len()];
        if try_place(a, agents, languages, &capacity, &mut holder, &mut seen) {
            matched += 1;
        }
    }
    matched
}

#[test]
fn an_exactly_sufficient_roster_leaves_no_gaps() {
    let ws = ts("2026-03-02T00:00Z");
    // es needs 2, en 1 on weekdays 09–17 UTC; the bilingual agent (first by id)
    // must end up counting for English. ja needs 1 every night 22–06 UTC, which
    // a Tokyo agent working 07:00–15:00 local covers, the week's edges clipped.
    let requirements = demand(
        ws,
        &[
            ("es", 2, WEEKDAYS, 9, 17),
            ("en", 1, WEEKDAYS, 9, 17),
            ("ja", 1, ALL_DAYS, 0, 6),
            ("ja", 1, ALL_DAYS, 22, 24),
        ],
    );
    let roster = roster(vec![
        record(
            "a-bilingual",
            &["es", "en"],
            "UTC",
            &["mon-fri 09:00-17:00"],
            40.0,
        ),
        record(
            "b-es",
            &["es"],
            "Europe/London",
            &["mon-fri 09:00-17:00"],
            40.0,
        ),
        record("c-es", &["es-MX"], "UTC", &["mon-fri 08:00-18:00"], 40.0),
        record("d-ja", &["ja"], "Asia/Tokyo", &["daily 07:00-15:00"], 56.0),
    ]);
    let settings = PlanSettings::default();
    let plan = schedule_week(&roster, &requirements, ws, &settings).expect("plan");
    assert!(plan.gaps.is_empty(), "{:?}", plan.gaps);
    assert_eq!(plan.uncovered_agent_hours(), 0.0);
    assert_eq!(plan.coverage_ratio(), 1.0);
    check_plan(&plan, &roster, &requirements, &settings);
    let ja: Vec<f64> = plan
        .shifts
        .iter()
        .filter(|s| s.agent_id == "d-ja")
        .map(Shift::hours)
        .collect();
    assert_eq!(ja, [6.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 2.0]);
    // Nothing beyond the demand: c-es works 09–17 only.
    let c: Vec<&Shift> = plan
        .shifts
        .iter()
        .filter(|s| s.agent_id == "c-es")
        .collect();
    assert!(c.iter().all(|s| s.hours() == 8.0));
    assert_eq!(plan.totals()["en"].uncovered_hours, 0.0);
}

#[test]
fn demand_in_a_language_nobody_speaks_is_a_gap() {
    let ws = ts("2026-03-02T00:00Z");
    let requirements = demand(ws, &[("fr", 2, &[1], 10, 12), ("es", 1, &[1], 10, 12)]);
    let roster = roster(vec![record(
        "ana",
        &["es"],
        "UTC",
        &["daily 08:00-16:00"],
        40.0,
    )]);
    let plan = schedule_week(&roster, &requirements, ws, &PlanSettings::default()).expect("plan");
    assert_eq!(plan.languages, ["es", "fr"]);
    assert_eq!(
        plan.gaps,
        [Gap {
            language: "fr".into(),
            start: ts("2026-03-03T10:00Z"),
            end: ts("2026-03-03T12:00Z"),
            missing: 2,
        }]
    );
    assert!(plan.scheduled["fr"].iter().all(|&s| s == 0));
    assert_eq!(plan.uncovered_agent_hours(), 4.0);
    assert!((plan.coverage_ratio() - 2.0 / 6.0).abs() < 1e-9);
    let text = render_table(&plan, &TimeZone::UTC);
    assert!(
        text.contains("fr        Tue 03 Mar 10:00–12:00  missing 2"),
        "{text}"
    );
}

#[test]
fn a_local_nine_oclock_shift_survives_the_end_of_daylight_saving() {
    // The week of 2026-11-01, when New York goes from UTC−4 to UTC−5.
    let ws = ts("2026-10-26T00:00Z");
    let requirements = demand(ws, &[("en", 1, ALL_DAYS, 0, 24)]);
    let ny = TimeZone::get("America/New_York").expect("zone");
    let roster = roster(vec![record(
        "nina",
        &["en"],
        "America/New_York",
        &["daily 09:00-17:00"],
        56.0,
    )]);
    let plan = schedule_week(&roster, &requirements, ws, &PlanSettings::default()).expect("plan");
    let starts: Vec<String> = plan
        .shifts
        .iter()
        .map(|s| ny.to_datetime(s.start).strftime("%a %H:%M").to_string())
        .collect();
    assert_eq!(
        starts,
        [
            "Mon 09:00",
            "Tue 09:00",
            "Wed 09:00",
            "Thu 09:00",
            "Fri 09:00",
            "Sat 09:00",
            "Sun 09:00"
        ]
    );
    assert_eq!(plan.shifts[5].start, ts("2026-10-31T13:00Z"));
    assert_eq!(plan.shifts[6].start, ts("2026-11-01T14:00Z"));
    let text = render_table(&plan, &TimeZone::UTC);
    assert!(
        text.contains("Sun 01 Nov 09:00–17:00  = Sun 01 Nov 14:00–22:00"),
        "{text}"
    );
}

/// The plan's week is seven local days of its zone: across a daylight-saving
/// change in Berlin it has 167 or 169 hours, so Sunday's last hour is planned and
/// the next Monday's first is not.
#[test]
fn a_week_with_a_daylight_saving_change_is_planned_to_its_local_end() {
    use crate::forecast::{HistoryRow, Method, forecast};
    use jiff::ToSpan;
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    let roster = roster(vec![record(
        "dora",
        &["de"],
        "Europe/Berlin",
        &["daily 20:00-24:00"],
        40.0,
    )]);
    let settings = PlanSettings {
        interval_minutes: 60,
        service_level: 0.5,
        shrinkage: 0.0,
        ..PlanSettings::default()
    };
    // Sunday 2026-03-29 (spring forward), Sunday 2026-10-25 (fall back), and a
    // week without a change.
    for (monday, hours) in [
        ("2026-03-23", 167),
        ("2026-10-19", 169),
        ("2026-06-01", 168),
    ] {
        let monday: Date = monday.parse().expect("date");
        // Four weeks of one conversation per quarter hour, 20:00–24:00 local.
        let mut history = Vec::new();
        for back in 1..=28i64 {
            let date = monday.checked_sub(back.days()).expect("date");
            for quarter in 0..16 {
                let at = date
                    .at(20 + quarter / 4, (quarter % 4) * 15, 0, 0)
                    .to_zoned(berlin.clone())
                    .expect("local time");
                history.push(HistoryRow {
                    bucket_start: at.timestamp(),
                    language: "de".into(),
                    channel: "chat".into(),
                    arrivals: 1,
                    handled: 0,
                    handle_secs: 0.0,
                });
            }
        }
        let ws = monday
            .to_zoned(berlin.clone())
            .expect("midnight")
            .timestamp();
        let next_monday = monday
            .checked_add(7i64.days())
            .and_then(|d| d.to_zoned(berlin.clone()))
            .expect("next Monday")
            .timestamp();
        let forecast = forecast(&history, ws, 60, Method::default(), &berlin).expect("forecast");
        let requirements = requirements(&forecast, &settings).expect("requirements");
        let plan = schedule_week(&roster, &requirements, ws, &settings).expect("plan");
        check_plan(&plan, &roster, &requirements, &settings);
        assert_eq!(plan.intervals(), hours, "{monday}");
        assert_eq!(plan.week_end, next_monday, "{monday}");
        assert_eq!(
            plan.interval_start(plan.intervals()),
            next_monday,
            "{monday}"
        );
        // One head every evening hour, all seven evenings, and Dora on each.
        let totals = plan.totals()["de"];
        assert_eq!(totals.required_hours, 28.0, "{monday}");
        assert_eq!(totals.uncovered_hours, 0.0, "{monday}");
        let shifts: Vec<String> = plan
            .shifts
            .iter()
            .map(|s| {
                let (start, end) = (berlin.to_datetime(s.start), berlin.to_datetime(s.end));
                format!(
                    "{}–{}",
                    start.strftime("%a %H:%M"),
                    end.strftime("%a %H:%M")
                )
            })
            .collect();
        assert_eq!(shifts.len(), 7, "{monday}: {shifts:?}");
        let sunday = shifts.last().expect("Sunday's shift");
        assert!(
            sunday.starts_with("Sun 20:00") && sunday.ends_with("Mon 00:00"),
            "{monday}: {sunday}"
        );
    }
}

#[test]
fn requirements_follow_erlang_c_per_language() {
    let ws = ts("2026-03-02T00:00Z");
    let mut languages = BTreeMap::new();
    let mut series = vec![0.0; 336];
    series[20] = 30.0;
    series[21] = 0.4;
    languages.insert("es".to_owned(), series);
    let forecast = Forecast {
        week_start: ws,
        week_end: utc_week_end(ws),
        interval_minutes: 30,
        method: "test".into(),
        languages,
        by_channel: BTreeMap::new(),
        weeks_of_history: 4,
    };
    let mut settings = PlanSettings::default();
    settings.aht_by_language.insert("es-ES".into(), 240.0);
    let r = requirements(&forecast, &settings).expect("requirements");
    let expected = required_agents(&StaffingInput {
        contacts: 30.0,
        interval_secs: 1800.0,
        aht_secs: 240.0,
        target_secs: 20.0,
        service_level: 0.8,
        max_occupancy: Some(0.85),
        shrinkage: 0.3,
    })
    .expect("erlang");
    assert_eq!(r.on_floor["es"][20], expected.agents);
    assert_eq!(r.heads["es"][20], expected.scheduled);
    assert!(r.heads["es"][20] > r.on_floor["es"][20]);
    assert!(r.heads["es"][21] >= 1);
    assert_eq!(r.heads["es"][0], 0);
    assert_eq!(r.aht_secs["es"], 240.0);

    settings.interval_minutes = 60;
    let err = requirements(&forecast, &settings).expect_err("mismatch");
    assert_eq!(
        err.to_string(),
        "the forecast has 30-minute intervals but interval_minutes is 60"
    );
    let err = PlanSettings {
        shrinkage: 1.0,
        ..PlanSettings::default()
    }
    .validate()
    .expect_err("bad");
    assert_eq!(err.to_string(), "shrinkage: 1 is not in [0, 1)");
    let err = PlanSettings {
        max_shift_hours: 3.0,
        ..PlanSettings::default()
    }
    .validate()
    .expect_err("bad");
    assert!(
        err.to_string()
            .starts_with("max_shift_hours: 3 is not between"),
        "{err}"
    );
}

#[test]
fn schedule_checks_its_inputs() {
    let ws = ts("2026-03-02T00:00Z");
    let roster = roster(vec![record(
        "ana",
        &["es"],
        "UTC",
        &["daily 08:00-16:00"],
        40.0,
    )]);
    let mut requirements = demand(ws, &[("es", 1, &[0], 9, 10)]);
    let later = ts("2026-03-09T00:00Z");
    let err =
        schedule_week(&roster, &requirements, later, &PlanSettings::default()).expect_err("week");
    assert!(
        err.to_string()
            .starts_with("week_start 2026-03-09T00:00:00Z is not"),
        "{err}"
    );
    requirements.heads.insert("de".into(), vec![1; 10]);
    let err =
        schedule_week(&roster, &requirements, ws, &PlanSettings::default()).expect_err("shape");
    assert_eq!(
        err.to_string(),
        "requirements for 'de' have 10 intervals, expected 336"
    );
}

#[test]
fn plans_serialize_for_json_output() {
    let ws = ts("2026-03-02T00:00Z");
    let requirements = demand(ws, &[("es", 1, &[0], 9, 13)]);
    let roster = roster(vec![record(
        "ana",
        &["es"],
        "Europe/Madrid",
        &["mon 09:00-17:00"],
        40.0,
    )]);
    let plan = schedule_week(&roster, &requirements, ws, &PlanSettings::default()).expect("plan");
    let json = serde_json::to_string(&plan).expect("json");
    assert!(json.contains("\"agent_id\":\"ana\""), "{json}");
    let back: Plan = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, plan);
}

#[test]
fn a_sixty_agent_five_language_week_keeps_every_rule() {
    let ws = ts("2026-03-02T00:00Z");
    let zones = [
        "Europe/Madrid",
        "America/New_York",
        "Asia/Tokyo",
        "Europe/Berlin",
        "America/Sao_Paulo",
        "Asia/Manila",
    ];
    let langs = ["en", "es", "de", "ja", "pt"];
    let records: Vec<AgentRecord> = (0..60)
        .map(|i| {
            let first = langs[i % 5];
            let second = langs[(i / 5) % 5];
            let hour = 6 + (i * 7) % 12;
            let window = format!("mon-fri {hour:02}:00-{:02}:00", (hour + 9) % 24);
            let weekend = format!("sat,sun {:02}:00-{:02}:00", 8 + i % 6, 16 + i % 6);
            record(
                &format!("agent{i:02}"),
                &[first, second],
                zones[i % 6],
                &[&window, &weekend],
                40.0,
            )
        })
        .collect();
    let roster = roster(records);
    let items: Vec<(&str, u32, &[u32], u32, u32)> = langs
        .iter()
        .enumerate()
        .flat_map(|(k, l)| {
            [
                (
                    *l,
                    2,
                    WEEKDAYS,
                    (k as u32 * 3) % 12,
                    12 + (k as u32 * 3) % 12,
                ),
                (*l, 1, ALL_DAYS, 0, 24),
            ]
        })
        .collect();
    let requirements = demand(ws, &items);
    let settings = PlanSettings::default();
    let plan = schedule_week(&roster, &requirements, ws, &settings).expect("plan");
    // About 0.05 s in a release build; 97.9 % of the heads are filled.
    assert!(plan.coverage_ratio() > 0.95, "{}", plan.coverage_ratio());
    check_plan(&plan, &roster, &requirements, &settings);
}

// ---- generated rosters -------------------------------------------------

const ZONES: [&str; 6] = [
    "UTC",
    "Europe/Madrid",
    "America/New_York",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "America/Sao_Paulo",
];
const DAYS: [&str; 6] = ["mon-fri", "sat,sun", "daily", "tue,thu", "fri-mon", "wed"];
const LANGS: [&str; 3] = ["en", "es", "de"];

/// (language bits, zone, windows as (days, start half-hour, length in
/// half-hours), max hours).
type GenAgent = (u8, usize, Vec<(usize, u32, u32)>, u32);
/// (agents, demand as (language, start, length, heads), (min shift hours,
/// extra max hours, shifts per day), week).
type GenCase = (
    Vec<GenAgent>,
    Vec<(usize, usize, usize, u32)>,
    (u32, u32, u32),
    usize,
);

fn arb_agent() -> impl Strategy<Value = GenAgent> {
    (
        1u8..8,
        0..ZONES.len(),
        proptest::collection::vec((0..DAYS.len(), 0u32..48, 3u32..24), 1..3),
        0u32..50,
    )
}

fn arb_case() -> impl Strategy<Value = GenCase> {
    (
        proptest::collection::vec(arb_agent(), 1..12),
        proptest::collection::vec((0..4usize, 0..336usize, 1..120usize, 1u32..4), 1..16),
        (1u32..6, 0u32..5, 1u32..3),
        0..2usize,
    )
}

fn build(case: &GenCase) -> (Roster, Requirements, PlanSettings, Timestamp) {
    let (agents, demand_items, (min_h, extra_h, per_day), week) = case;
    let ws = [ts("2026-03-02T00:00Z"), ts("2026-10-26T00:00Z")][*week];
    let records = agents
        .iter()
        .enumerate()
        .map(|(i, (langs, zone, windows, max_hours))| {
            let languages: Vec<&str> = (0..3)
                .filter(|b| langs & (1 << b) != 0)
                .map(|b| LANGS[b])
                .collect();
            let availability: Vec<String> = windows
                .iter()
                .map(|&(d, start, len)| {
                    let end = (start + len) % 48;
                    format!(
                        "{} {:02}:{:02}-{:02}:{:02}",
                        DAYS[d],
                        start / 2,
                        start % 2 * 30,
                        end / 2,
                        end % 2 * 30
                    )
                })
                .collect();
            let availability: Vec<&str> = availability.iter().map(String::as_str).collect();
            record(
                &format!("g{i}"),
                &languages,
                ZONES[*zone],
                &availability,
                f64::from(*max_hours),
            )
        })
        .collect();
    let mut heads: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for &(l, start, len, h) in demand_items {
        // Language 3 ("pt") is spoken by nobody.
        let language = ["en", "es", "de", "pt"][l];
        let series = heads.entry(language.into()).or_insert_with(|| vec![0; 336]);
        for slot in series.iter_mut().take(start + len).skip(start) {
            *slot += h;
        }
    }
    let requirements = Requirements {
        week_start: ws,
        week_end: utc_week_end(ws),
        interval_minutes: 30,
        on_floor: heads.clone(),
        heads,
        aht_secs: BTreeMap::new(),
    };
    let settings = PlanSettings {
        min_shift_hours: f64::from(*min_h),
        max_shift_hours: f64::from(min_h + extra_h),
        max_shifts_per_day: *per_day,
        ..PlanSettings::default()
    };
    (roster(records), requirements, settings, ws)
}

/// Each agent (by id) works the first max-shift-hours of each availability
/// block in order, within the rules, until their hours run out.
fn baseline_uncovered(
    roster: &Roster,
    requirements: &Requirements,
    settings: &PlanSettings,
    ws: Timestamp,
) -> u32 {
    let n = 336usize;
    let iv = 1800i64;
    let we = interval_start(ws, 30, n);
    let (min_len, max_len) = settings.shift_lengths();
    let mut on_shift: Vec<Vec<&Agent>> = vec![Vec::new(); n];
    let mut agents: Vec<&Agent> = roster.agents.iter().collect();
    agents.sort_by(|a, b| a.id.cmp(&b.id));
    for agent in agents {
        let mut available = vec![false; n];
        for w in agent.windows(ws, we) {
            let s = (w.start.max(ws).as_second() - ws.as_second() + iv - 1)
                .div_euclid(iv)
                .max(0) as usize;
            let e = ((w.end.min(we).as_second() - ws.as_second())
                .div_euclid(iv)
                .max(0) as usize)
                .min(n);
            for a in available.iter_mut().take(e).skip(s) {
                *a = true;
            }
        }
        let mut budget = (agent.max_hours_per_week * 2.0 + 1e-9).floor() as usize;
        let mut per_day: BTreeMap<Date, u32> = BTreeMap::new();
        let mut t = 0;
        while t < n {
            if !available[t] {
                t += 1;
                continue;
            }
            let s = t;
            while t < n && available[t] {
                t += 1;
            }
            let size = t - s;
            let len = size.min(max_len).min(budget);
            let day = agent
                .time_zone
                .to_datetime(interval_start(ws, 30, s))
                .date();
            let count = per_day.entry(day).or_default();
            if len == 0
                || (size >= min_len && len < min_len)
                || *count >= settings.max_shifts_per_day
            {
                continue;
            }
            *count += 1;
            budget -= len;
            for slot in on_shift.iter_mut().skip(s).take(len) {
                slot.push(agent);
            }
        }
    }
    let languages: Vec<String> = requirements.heads.keys().cloned().collect();
    let required: u32 = requirements.heads.values().flatten().sum();
    let covered: u32 = (0..n)
        .map(|t| max_matching(&on_shift[t], &languages, |l| requirements.heads[l][t]))
        .sum();
    required - covered
}

/// Heads the plan leaves unfilled, summed over languages and intervals.
fn uncovered(plan: &Plan) -> u32 {
    plan.languages
        .iter()
        .flat_map(|l| (0..336).map(move |t| plan.at(l, t)))
        .map(|(required, scheduled)| required.saturating_sub(scheduled))
        .sum()
}

/// Found by the property below: from the greedy start, best response fills 15
/// heads where first fit fills 19. `g1` (Kolkata) takes Tuesday 03:30–07:00 UTC,
/// the only hours `g0` (UTC) could work that day; `g1` should take the night
/// before instead, but neither gains by moving alone.
#[test]
fn a_plan_fills_as_many_heads_as_first_fit_where_one_agent_cannot_move_alone() {
    let case: GenCase = (
        vec![
            (7, 0, vec![(2, 9, 6)], 21),
            (3, 4, vec![(2, 18, 7), (2, 7, 6)], 21),
        ],
        vec![(0, 0, 62, 1)],
        (1, 3, 1),
        0,
    );
    let (roster, requirements, settings, ws) = build(&case);
    let plan = schedule_week(&roster, &requirements, ws, &settings).expect("plan");
    check_plan(&plan, &roster, &requirements, &settings);
    assert_eq!(
        baseline_uncovered(&roster, &requirements, &settings, ws),
        43
    );
    assert_eq!(uncovered(&plan), 43, "{:#?}", plan.shifts);
}

/// Twelve half-hour windows on one day, shorter than the minimum shift: first fit
/// works each of them, more shifts than the single-agent table allows a day, so
/// its re-plan fills fewer heads; the agent keeps first fit's shifts.
#[test]
fn a_re_plan_that_would_fill_fewer_heads_is_not_kept() {
    let ws = ts("2026-03-02T00:00Z");
    let windows: Vec<String> = (0..12)
        .map(|h| format!("mon {:02}:00-{:02}:30", h * 2, h * 2))
        .collect();
    let windows: Vec<&str> = windows.iter().map(String::as_str).collect();
    let roster = roster(vec![record("a", &["en"], "UTC", &windows, 40.0)]);
    let requirements = demand(ws, &[("en", 1, &[0], 0, 24)]);
    let settings = PlanSettings {
        min_shift_hours: 2.0,
        max_shift_hours: 4.0,
        max_shifts_per_day: 12,
        ..PlanSettings::default()
    };
    let plan = schedule_week(&roster, &requirements, ws, &settings).expect("plan");
    check_plan(&plan, &roster, &requirements, &settings);
    assert_eq!(plan.shifts.len(), 12, "{:#?}", plan.shifts);
    assert_eq!(uncovered(&plan), 48 - 12);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn generated_plans_keep_every_rule_and_beat_the_baseline(case in arb_case()) {
        let (roster, requirements, settings, ws) = build(&case);
        let plan = schedule_week(&roster, &requirements, ws, &settings).expect("plan");
        check_plan(&plan, &roster, &requirements, &settings);
        let uncovered = uncovered(&plan);
        let gap_total: u32 = plan.gaps.iter().map(|g| g.missing * ((g.end.as_second() - g.start.as_second()) / 1800) as u32).sum();
        prop_assert_eq!(uncovered, gap_total);
        let baseline = baseline_uncovered(&roster, &requirements, &settings, ws);
        prop_assert!(uncovered <= baseline, "greedy {} > baseline {}", uncovered, baseline);
    }
}
