//! Erlang C staffing maths for an inbound queue (M/M/N, no abandonment), the way
//! workforce-management calculators do it.
//!
//! This module owns traffic intensity, the probability of waiting (Erlang C), service
//! level, average speed of answer (ASA), occupancy, the search for the minimum number
//! of agents meeting a service-level target and an occupancy cap, and the shrinkage
//! uplift to a scheduled head count. With A = traffic in Erlangs, N = agents and
//! T = target answer time:
//!
//! - A = contacts × AHT / interval
//! - Erlang B by the stable recurrence B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)):
//!   no factorials or powers, so thousands of Erlangs are fine
//! - Erlang C (probability of waiting) Pw = N·B / (N − A·(1 − B)); 1 when N ≤ A
//! - service level SL = 1 − Pw·exp(−(N − A)·T / AHT); 0 when N ≤ A
//! - ASA = Pw·AHT / (N − A) (infinite when N ≤ A); occupancy = A / N
//! - scheduled = ⌈N / (1 − shrinkage)⌉
//!
//! [`required_agents`] runs the recurrence once, upward from
//! max(⌊A⌋ + 1, ⌈A / max occupancy⌉), so a whole search is O(N).

use serde::{Deserialize, Serialize};

/// Largest traffic [`required_agents`] accepts, in Erlangs.
pub const MAX_TRAFFIC_ERLANGS: f64 = 1_000_000.0;

/// Relative slack when rounding the scheduled head count up, so that a quotient such
/// as 20.000000000000004 (floating-point noise) counts as 20, not 21.
const ROUNDING_SLACK: f64 = 1e-9;

/// An input rule: what a value must be and its test (values must also be finite).
type Rule = (&'static str, fn(f64) -> bool);
const NON_NEGATIVE: Rule = ("a finite number >= 0", |v| v >= 0.0);
const POSITIVE: Rule = ("a finite number > 0", |v| v > 0.0);
const OPEN_UNIT: Rule = ("strictly between 0 and 1", |v| v > 0.0 && v < 1.0);
const CAP: Rule = ("in (0, 1]", |v| v > 0.0 && v <= 1.0);
const SHRINKAGE: Rule = ("in [0, 1)", |v| (0.0..1.0).contains(&v));

/// What the manager gives for one interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StaffingInput {
    /// Contacts arriving in the interval (>= 0).
    pub contacts: f64,
    /// Interval length in seconds, e.g. 1800 (> 0).
    pub interval_secs: f64,
    /// Average handling time in seconds (> 0).
    pub aht_secs: f64,
    /// Service-level answer time in seconds, e.g. 20 (>= 0).
    pub target_secs: f64,
    /// Target fraction answered within `target_secs`, strictly between 0 and 1.
    pub service_level: f64,
    /// Optional occupancy cap, e.g. 0.85, in (0, 1].
    pub max_occupancy: Option<f64>,
    /// Fraction of paid time not available for contacts, in [0, 1).
    pub shrinkage: f64,
}

/// What the calculator answers; every figure is at `agents`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Staffing {
    /// Traffic intensity in Erlangs.
    pub traffic_erlangs: f64,
    /// Minimum agents meeting the service-level target and the occupancy cap.
    pub agents: u32,
    /// Head count to schedule: ⌈agents / (1 − shrinkage)⌉.
    pub scheduled: u32,
    /// Fraction of contacts answered within the target time.
    pub service_level: f64,
    /// Probability that a contact waits (Erlang C).
    pub probability_of_waiting: f64,
    /// Average speed of answer in seconds.
    pub average_speed_of_answer_secs: f64,
    /// Fraction of agent time spent handling contacts.
    pub occupancy: f64,
}

/// Why [`required_agents`] refused its input.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ErlangError {
    /// A field is NaN, infinite or outside its range.
    #[error("{field} must be {requirement}, got {value}")]
    InvalidInput {
        /// The [`StaffingInput`] field at fault.
        field: &'static str,
        /// What the field must be.
        requirement: &'static str,
        /// The value given.
        value: f64,
    },
    /// The traffic is above [`MAX_TRAFFIC_ERLANGS`] (or overflowed).
    #[error("traffic must be at most {max} Erlangs, got {0}", max = MAX_TRAFFIC_ERLANGS)]
    TrafficTooLarge(f64),
    /// A head count would not fit in a `u32`: (which figure, the head count it needs).
    #[error("{0} would need {1} agents, more than the supported {max}", max = u32::MAX)]
    TooManyAgents(&'static str, f64),
}

/// Traffic intensity in Erlangs: `contacts × aht_secs / interval_secs`.
pub fn traffic(contacts: f64, interval_secs: f64, aht_secs: f64) -> f64 {
    contacts * aht_secs / interval_secs
}

/// Probability that a contact waits (Erlang C) with `agents` agents and `traffic`
/// Erlangs; 1.0 when agents <= traffic. O(agents). NaN if `traffic` is negative or
/// not finite.
pub fn erlang_c(agents: u32, traffic: f64) -> f64 {
    if !(traffic.is_finite() && traffic >= 0.0) {
        return f64::NAN;
    }
    if f64::from(agents) <= traffic {
        return 1.0;
    }
    let mut b = ErlangB::new(traffic);
    b.advance_to(agents);
    b.erlang_c()
}

/// Fraction of contacts answered within `target_secs`: 1 − Pw·exp(−(N − A)·T / AHT);
/// 0.0 when agents <= traffic. NaN for a negative or non-finite argument or a
/// non-positive `aht_secs`.
pub fn service_level(agents: u32, traffic: f64, aht_secs: f64, target_secs: f64) -> f64 {
    if !(aht_secs.is_finite() && aht_secs > 0.0 && target_secs.is_finite() && target_secs >= 0.0) {
        return f64::NAN;
    }
    let pw = erlang_c(agents, traffic);
    sl_from_pw(pw, agents, traffic, aht_secs, target_secs)
}

/// Average speed of answer in seconds: Pw·AHT / (N − A); `f64::INFINITY` when
/// agents <= traffic. NaN for a negative or non-finite argument or a non-positive
/// `aht_secs`.
pub fn average_speed_of_answer(agents: u32, traffic: f64, aht_secs: f64) -> f64 {
    if !(aht_secs.is_finite() && aht_secs > 0.0) {
        return f64::NAN;
    }
    asa_from_pw(erlang_c(agents, traffic), agents, traffic, aht_secs)
}

/// Minimum agents meeting `input.service_level` within `input.target_secs` and, if
/// given, occupancy <= `input.max_occupancy`, with the figures at that head count.
/// Zero contacts need zero agents. O(agents): one Erlang B recurrence, no restarts.
pub fn required_agents(input: &StaffingInput) -> Result<Staffing, ErlangError> {
    let i = *input;
    for (field, value, (requirement, ok)) in [
        ("contacts", i.contacts, NON_NEGATIVE),
        ("interval_secs", i.interval_secs, POSITIVE),
        ("aht_secs", i.aht_secs, POSITIVE),
        ("target_secs", i.target_secs, NON_NEGATIVE),
        ("service_level", i.service_level, OPEN_UNIT),
        ("max_occupancy", i.max_occupancy.unwrap_or(1.0), CAP),
        ("shrinkage", i.shrinkage, SHRINKAGE),
    ] {
        if !(value.is_finite() && ok(value)) {
            return Err(ErlangError::InvalidInput {
                field,
                requirement,
                value,
            });
        }
    }
    let a = traffic(i.contacts, i.interval_secs, i.aht_secs);
    if a > MAX_TRAFFIC_ERLANGS {
        return Err(ErlangError::TrafficTooLarge(a));
    }
    if a == 0.0 {
        return Ok(Staffing {
            traffic_erlangs: 0.0,
            agents: 0,
            scheduled: 0,
            service_level: 1.0,
            probability_of_waiting: 0.0,
            average_speed_of_answer_secs: 0.0,
            occupancy: 0.0,
        });
    }
    // a <= 1e6, so the cast is exact. Start at the first stable, cap-compatible count.
    let stable = a.floor() as u32 + 1;
    let start = match i.max_occupancy {
        Some(cap) => stable.max(occupancy_floor(a, cap)?),
        None => stable,
    };
    let mut b = ErlangB::new(a);
    // Always returns early: once B underflows to 0, SL = 1 (by about 2A + 1100 agents).
    for n in start..=u32::MAX {
        b.advance_to(n);
        let pw = b.erlang_c();
        let sl = sl_from_pw(pw, n, a, i.aht_secs, i.target_secs);
        if sl >= i.service_level {
            return Ok(Staffing {
                traffic_erlangs: a,
                agents: n,
                scheduled: scheduled(n, i.shrinkage)?,
                service_level: sl,
                probability_of_waiting: pw,
                average_speed_of_answer_secs: asa_from_pw(pw, n, a, i.aht_secs),
                occupancy: a / f64::from(n),
            });
        }
    }
    Err(ErlangError::TooManyAgents(
        "the service-level target",
        f64::from(u32::MAX) + 1.0,
    ))
}

/// Running Erlang B recurrence: `b` = B(`n`, `a`).
struct ErlangB {
    a: f64,
    n: u32,
    b: f64,
}

impl ErlangB {
    fn new(a: f64) -> Self {
        Self { a, n: 0, b: 1.0 }
    }

    /// Steps the recurrence up to `n` agents. Once B underflows to 0 it stays 0
    /// exactly, so the remaining steps are skipped.
    fn advance_to(&mut self, n: u32) {
        while self.n < n {
            if self.b == 0.0 {
                self.n = n;
                return;
            }
            self.n += 1;
            let ab = self.a * self.b;
            self.b = ab / (f64::from(self.n) + ab);
        }
    }

    /// Erlang C at the current `n`: N·B / (N − A·(1 − B)), 1 when N <= A.
    fn erlang_c(&self) -> f64 {
        let n = f64::from(self.n);
        if n <= self.a {
            return 1.0;
        }
        (n * self.b / (n - self.a * (1.0 - self.b))).clamp(0.0, 1.0)
    }
}

fn sl_from_pw(pw: f64, agents: u32, traffic: f64, aht: f64, target: f64) -> f64 {
    let n = f64::from(agents);
    if n <= traffic {
        return 0.0;
    }
    (1.0 - pw * (-(n - traffic) * target / aht).exp()).clamp(0.0, 1.0)
}

fn asa_from_pw(pw: f64, agents: u32, traffic: f64, aht: f64) -> f64 {
    let n = f64::from(agents);
    if n <= traffic {
        return f64::INFINITY;
    }
    pw * aht / (n - traffic)
}

/// Whether `n` agents keep occupancy `a / n` within `cap`.
fn occupancy_ok(a: f64, n: u32, cap: f64) -> bool {
    a / f64::from(n) <= cap
}

/// Smallest `n` with `a / n <= cap`, exact for the predicate [`occupancy_ok`].
fn occupancy_floor(a: f64, cap: f64) -> Result<u32, ErlangError> {
    let guess = (a / cap).ceil();
    if guess >= f64::from(u32::MAX) {
        return Err(ErlangError::TooManyAgents("the occupancy cap", guess));
    }
    let mut n = (guess as u32).max(1);
    while n > 1 && occupancy_ok(a, n - 1, cap) {
        n -= 1;
    }
    while !occupancy_ok(a, n, cap) {
        n += 1;
    }
    Ok(n)
}

/// ⌈agents / (1 − shrinkage)⌉, ignoring floating-point noise below [`ROUNDING_SLACK`].
fn scheduled(agents: u32, shrinkage: f64) -> Result<u32, ErlangError> {
    let raw = f64::from(agents) / (1.0 - shrinkage);
    let rounded = (raw * (1.0 - ROUNDING_SLACK)).ceil();
    if rounded > f64::from(u32::MAX) {
        return Err(ErlangError::TooManyAgents("the scheduled head count", raw));
    }
    Ok((rounded as u32).max(agents))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Spoil = (&'static str, fn(&mut StaffingInput));

    /// Input with a 20 s / 80 % target; `cap` and `shrink` as given.
    fn input(contacts: f64, secs: f64, aht: f64, cap: Option<f64>, shrink: f64) -> StaffingInput {
        StaffingInput {
            contacts,
            interval_secs: secs,
            aht_secs: aht,
            target_secs: 20.0,
            service_level: 0.8,
            max_occupancy: cap,
            shrinkage: shrink,
        }
    }

    fn close(got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "got {got}, want {want} ± {tol}");
    }

    /// Independent reference: terms a^k/k! in log space, combined by log-sum-exp.
    fn erlang_c_log_space(n: u32, a: f64) -> f64 {
        let mut logs = vec![0.0_f64];
        for k in 1..=n {
            logs.push(logs[logs.len() - 1] + (a / f64::from(k)).ln());
        }
        let top = logs[n as usize] + (f64::from(n) / (f64::from(n) - a)).ln();
        let m = logs.iter().copied().fold(top, f64::max);
        let rest: f64 = logs[..n as usize].iter().map(|l| (l - m).exp()).sum();
        (top - m).exp() / (rest + (top - m).exp())
    }

    // Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example"
    // (callcentrehelper.com): 100 calls in 30 min, AHT 180 s, 80 % in 20 s, max occupancy
    // 85 %, shrinkage 30 %. Re-derived exactly with Python `fractions`: Pw(11..14) =
    // 0.68212, 0.44939, 0.28527, 0.17413 (the usual 4-place table values are right), but
    // SL(13) = 0.79559 < 0.80, so the answer is 14 agents (SL 0.88835, ASA 7.836 s,
    // occupancy 71.4 %) and 14 / 0.7 = 20 scheduled; the 85 % cap does not bind.
    #[test]
    fn call_centre_helper_example() {
        assert_eq!(traffic(100.0, 1800.0, 180.0), 10.0);
        for (n, pw) in [(11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741)] {
            close(erlang_c(n, 10.0), pw, 5e-5);
        }
        close(erlang_c(13, 10.0), 0.285_270_453_036_492_9, 1e-14);
        close(service_level(13, 10.0, 180.0, 20.0), 0.7956, 5e-5);
        let s = required_agents(&input(100.0, 1800.0, 180.0, Some(0.85), 0.3)).unwrap();
        assert_eq!((s.agents, s.scheduled), (14, 20));
        close(s.probability_of_waiting, 0.1741, 5e-5);
        close(s.service_level, 0.8884, 5e-5);
        close(s.average_speed_of_answer_secs, 7.836, 5e-4);
        close(s.occupancy, 10.0 / 14.0, 1e-15);
        // A tighter cap binds: 70 % needs ⌈10 / 0.7⌉ = 15 agents.
        let capped = required_agents(&input(100.0, 1800.0, 180.0, Some(0.7), 0.0));
        assert_eq!(capped.unwrap().agents, 15);
    }

    // Westbay Engineers, "The Erlang-C Formula" (erlang.com): 360 calls per half hour,
    // 4 min calls, 55 agents, 15 s target, so A = 48 Erlangs. Expected values from exact
    // evaluation with Python `fractions`: Pw 0.23870, ASA 8.184 s, SL 0.84588, occupancy 0.873.
    #[test]
    fn westbay_example() {
        let a = traffic(360.0, 1800.0, 240.0);
        close(a, 48.0, 1e-12);
        close(erlang_c(55, a), 0.2387, 5e-5);
        close(average_speed_of_answer(55, a, 240.0), 8.184, 5e-4);
        close(service_level(55, a, 240.0, 15.0), 0.8459, 5e-5);
    }

    // Textbook closed forms (e.g. Kleinrock, Queueing Systems vol. 1, M/M/1 and M/M/2):
    // C(1, A) = A, C(2, A) = A² / (2 + A), C(3, 2) = 4/9 by hand, Wq(M/M/1) = A·AHT / (1 − A).
    #[test]
    fn textbook_closed_forms() {
        close(erlang_c(3, 2.0), 4.0 / 9.0, 1e-15);
        close(erlang_c(1, 0.3), 0.3, 1e-15);
        close(erlang_c(2, 1.5), 9.0 / 14.0, 1e-15);
        close(average_speed_of_answer(1, 0.5, 60.0), 60.0, 1e-12);
        assert_eq!(erlang_c(10, 10.0), 1.0);
        assert_eq!(average_speed_of_answer(9, 10.0, 60.0), f64::INFINITY);
        assert_eq!(service_level(9, 10.0, 60.0, 20.0), 0.0);
        assert!(erlang_c(3, f64::NAN).is_nan() && erlang_c(3, -1.0).is_nan());
    }

    #[test]
    fn zero_contacts_need_no_one() {
        let s = required_agents(&input(0.0, 1800.0, 300.0, Some(0.85), 0.3)).unwrap();
        assert_eq!((s.agents, s.scheduled, s.service_level), (0, 0, 1.0));
        assert_eq!(
            (s.probability_of_waiting, s.average_speed_of_answer_secs),
            (0.0, 0.0)
        );
        assert_eq!(s.occupancy, 0.0);
    }

    // Exact answers from Python `fractions`: A = 2500/3 needs 848 agents (SL 0.81099,
    // Pw 0.50248616204696723; 847 gives 0.78744); A = 5000/3 needs 1683 (1682: 0.78150).
    #[test]
    fn large_centres() {
        for (contacts, want) in [(5_000.0, 848), (10_000.0, 1683)] {
            let s = required_agents(&input(contacts, 1800.0, 300.0, None, 0.0)).unwrap();
            let a = s.traffic_erlangs;
            assert_eq!(s.agents, want);
            assert!(s.service_level >= 0.8 && s.average_speed_of_answer_secs.is_finite());
            assert!(service_level(want - 1, a, 300.0, 20.0) < 0.8);
            assert!(f64::from(want) > a && f64::from(want) < a * 1.03);
        }
        let a = traffic(5_000.0, 1800.0, 300.0);
        close(erlang_c(848, a), 0.502_486_162_046_967_2, 1e-12);
        for n in [834, 848, 900] {
            let (fast, slow) = (erlang_c(n, a), erlang_c_log_space(n, a));
            assert!(
                (fast - slow).abs() <= 1e-9 * slow,
                "n={n}: {fast} vs {slow}"
            );
        }
        // Python `decimal` (45 digits) gives C(1_001_000, 999_000) = 0.026876976220006883.
        let c = erlang_c(1_001_000, 999_000.0);
        assert!((c - 0.026_876_976_220_006_883).abs() <= 1e-12 * c);
        // An 85 % cap binds at ⌈833.33 / 0.85⌉ = 981.
        let s = required_agents(&input(5_000.0, 1800.0, 300.0, Some(0.85), 0.0)).unwrap();
        assert!(s.agents == 981 && s.occupancy <= 0.85 && a / 980.0 > 0.85);
        // Near the traffic limit, and with a tiny cap, the search stays fast and finite.
        let huge = required_agents(&input(999_000.0, 1800.0, 1800.0, None, 0.0)).unwrap();
        assert!(huge.agents > 999_000 && huge.agents < 1_002_000);
        let tiny_cap = required_agents(&input(100.0, 1.0, 10.0, Some(1e-3), 0.0));
        assert_eq!(tiny_cap.unwrap().agents, 1_000_000);
    }

    #[test]
    fn invalid_inputs_name_the_field() {
        let ok = input(100.0, 1800.0, 180.0, None, 0.0);
        let mut bad = ok;
        bad.aht_secs = -3.0;
        let message = required_agents(&bad).unwrap_err().to_string();
        assert_eq!(message, "aht_secs must be a finite number > 0, got -3");
        let cases: [Spoil; 10] = [
            ("contacts", |i| i.contacts = -1.0),
            ("contacts", |i| i.contacts = f64::NAN),
            ("interval_secs", |i| i.interval_secs = 0.0),
            ("aht_secs", |i| i.aht_secs = f64::INFINITY),
            ("target_secs", |i| i.target_secs = -1.0),
            ("service_level", |i| i.service_level = 1.0),
            ("service_level", |i| i.service_level = 0.0),
            ("max_occupancy", |i| i.max_occupancy = Some(0.0)),
            ("max_occupancy", |i| i.max_occupancy = Some(1.5)),
            ("shrinkage", |i| i.shrinkage = 1.0),
        ];
        for (name, spoil) in cases {
            let mut inp = ok;
            spoil(&mut inp);
            let err = required_agents(&inp).unwrap_err();
            let named = matches!(err, ErlangError::InvalidInput { field, .. } if field == name);
            assert!(named, "{name}: {err}");
        }
        let too_big = required_agents(&input(1e7, 1800.0, 300.0, None, 0.0));
        assert!(matches!(too_big, Err(ErlangError::TrafficTooLarge(_))));
        let overflow = required_agents(&input(1e300, 1800.0, 1e300, None, 0.0));
        assert!(matches!(overflow, Err(ErlangError::TrafficTooLarge(_))));
        let shrunk = required_agents(&input(100.0, 1800.0, 180.0, Some(1e-6), 0.9999));
        assert!(matches!(shrunk, Err(ErlangError::TooManyAgents(..))));
    }

    fn any_input() -> impl Strategy<Value = StaffingInput> {
        let cap = prop_oneof![Just(None), (0.5..=1.0_f64).prop_map(Some)];
        let load = (0.0..20_000.0, 900.0..3600.0, 10.0..1200.0, cap, 0.0..0.5);
        (load, 0.0..120.0, 0.5..0.99).prop_map(|((c, i, aht, cap, sh), t, sl)| StaffingInput {
            target_secs: t,
            service_level: sl,
            ..input(c, i, aht, cap, sh)
        })
    }

    proptest! {
        #[test]
        fn more_traffic_never_needs_fewer_agents(inp in any_input(), extra in 0.0..5_000.0) {
            let base = required_agents(&inp).unwrap();
            let more = required_agents(&StaffingInput { contacts: inp.contacts + extra, ..inp });
            prop_assert!(more.unwrap().agents >= base.agents);
        }

        #[test]
        fn one_more_agent_helps(n in 0u32..3000, a in 0.0..2500.0, aht in 1.0..900.0, t in 0.0..120.0) {
            prop_assert!((0.0..=1.0).contains(&erlang_c(n, a)));
            prop_assert!(service_level(n + 1, a, aht, t) >= service_level(n, a, aht, t) - 1e-12);
            let asa = |n| average_speed_of_answer(n, a, aht);
            prop_assert!(asa(n + 1) <= asa(n) * (1.0 + 1e-12));
        }

        #[test]
        fn answer_meets_target_and_is_minimal(inp in any_input()) {
            let s = required_agents(&inp).unwrap();
            let a = s.traffic_erlangs;
            prop_assert!(s.service_level >= inp.service_level && s.scheduled >= s.agents);
            prop_assert!(inp.max_occupancy.is_none_or(|cap| s.occupancy <= cap));
            let prev = s.agents.saturating_sub(1);
            let prev_fits = inp.max_occupancy.is_none_or(|cap| occupancy_ok(a, prev, cap));
            if prev > 0 && f64::from(prev) > a && prev_fits {
                prop_assert!(service_level(prev, a, inp.aht_secs, inp.target_secs) < inp.service_level);
            }
        }
    }
}
