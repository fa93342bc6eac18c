//! The routing decision for one customer message, from the roster, the
//! customer's language and the time: pure, so it is tested natively.
//!
//! In order of preference:
//! 1. **Native**: agents on shift now who speak the customer's language.
//! 2. **Through translation**: when the tenant runs the translation plugin, agents
//!    on shift in any language (the translation plugin writes the internal note
//!    and translates their reply back).
//! 3. **Any language**: agents are on shift but none speaks it and there is no
//!    translation; the conversation goes to them, flagged, rather than waiting.
//! 4. **After hours**: nobody is on shift. The conversation is queued for the
//!    people who start first — those speaking the language, or anyone when
//!    translation is available and someone else starts sooner — and the customer
//!    gets an auto-reply saying when.
//!
//! Among the candidates, the group is the one most of them belong to, and one
//! agent is picked by a hash of the ticket id, so redeliveries and later messages
//! of the ticket name the same person while tickets spread across the team.

use jiff::{SignedDuration, Timestamp};

use crate::roster::{Agent, Roster};

/// How far ahead the next shift is looked for.
pub const LOOKAHEAD_DAYS: i64 = 8;

/// Which rule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Native,
    ThroughTranslation,
    AnyLanguage,
    AfterHours,
}

impl Rule {
    /// The tag the plugin adds for this rule.
    pub fn tag(self) -> &'static str {
        match self {
            Rule::Native => "routed-native",
            Rule::ThroughTranslation => "routed-via-translation",
            Rule::AnyLanguage => "routed-language-mismatch",
            Rule::AfterHours => "after-hours",
        }
    }
}

/// What the router concluded.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub rule: Rule,
    /// The helpdesk group most candidates belong to.
    pub group: Option<String>,
    /// One candidate, stable for the ticket.
    pub agent_id: Option<String>,
    /// Why, for the agent reading the ticket.
    pub reason: String,
    /// After hours: when the first candidate starts.
    pub next_start: Option<Timestamp>,
}

/// What the router needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    pub roster: &'a Roster,
    /// Canonical code of the customer's language, if known.
    pub language: Option<&'a str>,
    pub now: Timestamp,
    /// Whether the tenant runs the translation plugin (before this one).
    pub translation: bool,
    pub ticket_id: &'a str,
}

/// Decides where the conversation goes.
pub fn decide(s: Situation<'_>) -> Decision {
    let on_shift: Vec<&Agent> = s
        .roster
        .agents
        .iter()
        .filter(|a| a.available_at(s.now))
        .collect();
    let language = s.language.unwrap_or("und");
    let speaks = |a: &&Agent| s.language.is_none_or(|l| a.speaks(l));
    let native: Vec<&Agent> = on_shift.iter().copied().filter(speaks).collect();
    if !native.is_empty() {
        let reason = format!(
            "{} on shift speak{} {language}: {}",
            count(native.len()),
            if native.len() == 1 { "s" } else { "" },
            names(&native)
        );
        return pick(Rule::Native, &native, s.ticket_id, reason, None);
    }
    if !on_shift.is_empty() {
        let (rule, reason) = if s.translation {
            (
                Rule::ThroughTranslation,
                format!(
                    "nobody on shift speaks {language}; {} on shift through translation: {}",
                    count(on_shift.len()),
                    names(&on_shift)
                ),
            )
        } else {
            (
                Rule::AnyLanguage,
                format!(
                    "nobody on shift speaks {language} and translation is not enabled; \
                     {} on shift: {}",
                    count(on_shift.len()),
                    names(&on_shift)
                ),
            )
        };
        return pick(rule, &on_shift, s.ticket_id, reason, None);
    }
    // Nobody on shift: who starts first?
    let horizon = s
        .now
        .checked_add(SignedDuration::from_hours(24 * LOOKAHEAD_DAYS))
        .unwrap_or(Timestamp::MAX);
    let speakers = first_to_start(s.roster.agents.iter().filter(|a| speaks(a)), s.now, horizon);
    let anyone = first_to_start(s.roster.agents.iter(), s.now, horizon);
    let chosen = match (speakers, anyone) {
        (Some(speakers), Some(anyone)) if s.translation && anyone.0 < speakers.0 => Some(anyone),
        (Some(speakers), _) => Some(speakers),
        (None, anyone) => anyone,
    };
    match chosen {
        Some((start, agents)) => {
            let reason = format!(
                "after hours: nobody on shift; next: {} from {start}",
                names(&agents)
            );
            pick(Rule::AfterHours, &agents, s.ticket_id, reason, Some(start))
        }
        None => Decision {
            rule: Rule::AfterHours,
            group: None,
            agent_id: None,
            reason: format!(
                "after hours: nobody on shift, and nobody in the roster is available in the \
                 next {LOOKAHEAD_DAYS} days"
            ),
            next_start: None,
        },
    }
}

/// The earliest time one of `agents` is available in `[now, horizon)`, and who
/// is available then.
fn first_to_start<'a>(
    agents: impl Iterator<Item = &'a Agent>,
    now: Timestamp,
    horizon: Timestamp,
) -> Option<(Timestamp, Vec<&'a Agent>)> {
    let mut best: Option<(Timestamp, Vec<&'a Agent>)> = None;
    for agent in agents {
        let Some(start) = agent
            .windows(now, horizon)
            .into_iter()
            .map(|w| w.start.max(now))
            .min()
        else {
            continue;
        };
        match &mut best {
            Some((at, group)) if *at == start => group.push(agent),
            Some((at, _)) if *at < start => {}
            _ => best = Some((start, vec![agent])),
        }
    }
    best
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 agent".into()
    } else {
        format!("{n} agents")
    }
}

/// Up to five names, then how many more.
fn names(agents: &[&Agent]) -> String {
    let mut listed: Vec<&str> = agents.iter().take(5).map(|a| a.name.as_str()).collect();
    let more = agents.len().saturating_sub(5);
    let more_text = format!("and {more} more");
    if more > 0 {
        listed.push(&more_text);
    }
    listed.join(", ")
}

fn pick(
    rule: Rule,
    candidates: &[&Agent],
    ticket_id: &str,
    reason: String,
    next_start: Option<Timestamp>,
) -> Decision {
    let mut sorted: Vec<&Agent> = candidates.to_vec();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let agent =
        (!sorted.is_empty()).then(|| sorted[(fnv1a(ticket_id) % sorted.len() as u64) as usize]);
    // The agent's own group; for one without, the group most candidates share
    // (the alphabetically first among equals).
    let group = agent
        .and_then(|a| a.group.clone())
        .or_else(|| most_shared_group(&sorted));
    let agent_id = agent.map(|a| a.id.clone());
    Decision {
        rule,
        group,
        agent_id,
        reason,
        next_start,
    }
}

/// The group most of `agents` belong to; the alphabetically first among equals.
fn most_shared_group(agents: &[&Agent]) -> Option<String> {
    let mut groups: std::collections::BTreeMap<&str, usize> = Default::default();
    for group in agents.iter().filter_map(|a| a.group.as_deref()) {
        *groups.entry(group).or_default() += 1;
    }
    groups
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(g, _)| (*g).to_owned())
}

/// FNV-1a: a stable hash (std's is randomly seeded per process).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster() -> Roster {
        Roster::from_json(
            r#"[
            {"id": "ana", "languages": ["es", "en"], "time_zone": "Europe/Madrid",
             "availability": ["mon-fri 09:00-17:00"], "group": "emea"},
            {"id": "ken", "languages": ["ja"], "time_zone": "Asia/Tokyo",
             "availability": ["mon-fri 09:00-18:00"], "group": "apac"},
            {"id": "sam", "languages": ["en"], "time_zone": "America/New_York",
             "availability": ["mon-fri 09:00-17:00"], "group": "amer"}
        ]"#,
        )
        .expect("roster")
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn decide_at(now: &str, language: Option<&str>, translation: bool) -> Decision {
        let roster = roster();
        decide(Situation {
            roster: &roster,
            language,
            now: at(now),
            translation,
            ticket_id: "t-1",
        })
    }

    #[test]
    fn a_speaker_on_shift_gets_the_conversation() {
        // Tuesday 10:00 in Madrid.
        let d = decide_at("2026-12-01T09:00Z", Some("es"), false);
        assert_eq!(d.rule, Rule::Native);
        assert_eq!(d.agent_id.as_deref(), Some("ana"));
        assert_eq!(d.group.as_deref(), Some("emea"));
        assert!(
            d.reason.contains("1 agent on shift speaks es: ana"),
            "{}",
            d.reason
        );
    }

    #[test]
    fn without_a_speaker_translation_reaches_whoever_is_on_shift() {
        // Tuesday 10:00 in Madrid: nobody speaking Japanese is on shift.
        let via = decide_at("2026-12-01T09:00Z", Some("ja"), true);
        assert_eq!(via.rule, Rule::ThroughTranslation);
        assert_eq!(via.agent_id.as_deref(), Some("ana"));
        let mismatch = decide_at("2026-12-01T09:00Z", Some("ja"), false);
        assert_eq!(mismatch.rule, Rule::AnyLanguage);
    }

    #[test]
    fn after_hours_names_the_first_speaker_to_start() {
        // Saturday: nobody works; Ken starts Monday 09:00 JST = Monday 00:00 UTC.
        let d = decide_at("2026-12-05T12:00Z", Some("ja"), false);
        assert_eq!(d.rule, Rule::AfterHours);
        assert_eq!(d.next_start, Some(at("2026-12-07T00:00Z")));
        assert_eq!(d.agent_id.as_deref(), Some("ken"));
        // Spanish: Ana, Monday 09:00 CET = 08:00 UTC, even though Ken starts first...
        let es = decide_at("2026-12-05T12:00Z", Some("es"), false);
        assert_eq!(es.next_start, Some(at("2026-12-07T08:00Z")));
        // ...unless translation lets Ken answer sooner.
        let via = decide_at("2026-12-05T12:00Z", Some("es"), true);
        assert_eq!(via.next_start, Some(at("2026-12-07T00:00Z")));
        assert_eq!(via.agent_id.as_deref(), Some("ken"));
    }

    #[test]
    fn the_group_is_the_picked_agents() {
        // Two groups on shift, one agent in the bigger: every ticket goes to
        // its agent's own group, never another agent's.
        let roster = Roster::from_json(
            r#"[{"id": "a", "languages": ["en"], "time_zone": "UTC", "availability": ["daily 00:00-24:00"], "group": "emea"},
                {"id": "b", "languages": ["en"], "time_zone": "UTC", "availability": ["daily 00:00-24:00"], "group": "emea"},
                {"id": "c", "languages": ["en"], "time_zone": "UTC", "availability": ["daily 00:00-24:00"], "group": "apac"},
                {"id": "d", "languages": ["en"], "time_zone": "UTC", "availability": ["daily 00:00-24:00"]}]"#,
        )
        .expect("roster");
        let mut seen = std::collections::BTreeSet::new();
        for n in 0..40 {
            let ticket = format!("t-{n}");
            let d = decide(Situation {
                roster: &roster,
                language: Some("en"),
                now: at("2026-12-01T09:00Z"),
                translation: false,
                ticket_id: &ticket,
            });
            let agent = d.agent_id.expect("an agent");
            let expected = match agent.as_str() {
                "a" | "b" => "emea",
                "c" => "apac",
                // No group of its own: the one most candidates share.
                _ => "emea",
            };
            assert_eq!(d.group.as_deref(), Some(expected), "{agent}");
            seen.insert(agent);
        }
        assert!(
            seen.contains("c"),
            "40 tickets spread over the agents: {seen:?}"
        );
    }

    #[test]
    fn the_same_ticket_always_names_the_same_agent() {
        let roster = Roster::from_json(
            r#"[{"id": "a", "languages": ["en"], "time_zone": "UTC", "availability": ["daily 00:00-24:00"]},
                {"id": "b", "languages": ["en"], "time_zone": "UTC", "availability": ["daily 00:00-24:00"]},
                {"id": "c", "languages": ["en"], "time_zone": "UTC", "availability": ["daily 00:00-24:00"]}]"#,
        )
        .expect("roster");
        let pick_for = |ticket: &str| {
            decide(Situation {
                roster: &roster,
                language: Some("en"),
                now: at("2026-12-01T00:00Z"),
                translation: false,
                ticket_id: ticket,
            })
            .agent_id
        };
        assert_eq!(pick_for("t-9"), pick_for("t-9"));
        let spread: std::collections::BTreeSet<_> = (0..30)
            .filter_map(|i| pick_for(&format!("t-{i}")))
            .collect();
        assert_eq!(spread.len(), 3, "tickets spread across the team");
    }

    #[test]
    fn an_empty_week_is_said_plainly() {
        let roster = Roster::default();
        let d = decide(Situation {
            roster: &roster,
            language: Some("en"),
            now: at("2026-12-01T00:00Z"),
            translation: true,
            ticket_id: "t",
        });
        assert_eq!(d.rule, Rule::AfterHours);
        assert_eq!(d.next_start, None);
        assert!(d.reason.contains("nobody in the roster"), "{}", d.reason);
    }
}
