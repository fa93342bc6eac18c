//! The search: lazy greedy placement of candidate shifts ([`Candidate`]), and
//! first fit, each followed by local improvement by best response (one agent
//! re-planned at a time by dynamic programming), and the conversion of the better
//! result into a [`Plan`] ([`Scheduler`]).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use jiff::Timestamp;

use crate::forecast::interval_start;
use crate::roster::Agent;

use super::coverage::{AgentInfo, Slot};
use super::{Gap, IMPROVEMENT_ROUNDS, Plan, Shift};

/// Largest single-agent table (entries) the improvement pass builds.
const MAX_TABLE: usize = 4_000_000;

/// A candidate shift.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    agent: usize,
    start: usize,
    len: usize,
    /// Heads it fills.
    gain: usize,
}

impl Ord for Candidate {
    /// Larger gain per interval first, then larger gain, then lower agent index
    /// (agents are sorted by id), then earlier start.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.gain * other.len)
            .cmp(&(other.gain * self.len))
            .then(self.gain.cmp(&other.gain))
            .then(other.agent.cmp(&self.agent))
            .then(other.start.cmp(&self.start))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

pub(super) struct Scheduler {
    /// Heads per interval, then language.
    pub(super) heads: Vec<Vec<u32>>,
    pub(super) masks: Vec<u64>,
    pub(super) infos: Vec<AgentInfo>,
    pub(super) slots: Vec<Slot>,
    /// Each agent's shifts as `[start, end)` interval indices, sorted.
    pub(super) shifts: Vec<Vec<(usize, usize)>>,
    /// Intervals scheduled per agent.
    pub(super) used: Vec<usize>,
    /// Counts changes to the slots.
    pub(super) clock: u64,
    /// Per interval: the clock at its last change.
    pub(super) changed: Vec<u64>,
    /// Per agent: the clock when the agent was last re-planned.
    pub(super) seen: Vec<u64>,
    pub(super) min_len: usize,
    pub(super) max_len: usize,
    pub(super) max_per_day: usize,
}

impl Scheduler {
    /// Plans from two starts, each then improved, and keeps the better plan (more
    /// heads filled, then fewer hours): the greedy's, and first fit's. Best
    /// response alone can stall where two agents would have to move together
    /// (one leaves hours another could cover, to take hours only it can), and
    /// the greedy start leads there on some rosters; first fit is how a team
    /// plans by hand, so the plan never covers less than that.
    pub(super) fn run(&mut self) {
        self.greedy();
        self.improve();
        let greedy = (self.score(), self.take_shifts());
        self.first_fit();
        self.improve();
        if greedy.0 > self.score() {
            self.take_shifts();
            for (agent, shifts) in greedy.1.into_iter().enumerate() {
                for (start, end) in shifts {
                    self.place(agent, start, end);
                }
            }
        }
    }

    /// Heads filled, then (reversed) intervals worked: the larger, the better.
    fn score(&self) -> (u32, std::cmp::Reverse<usize>) {
        (
            self.covered(),
            std::cmp::Reverse(self.used.iter().sum::<usize>()),
        )
    }

    /// Takes every agent off every shift; returns the shifts, by agent.
    fn take_shifts(&mut self) -> Vec<Vec<(usize, usize)>> {
        (0..self.shifts.len())
            .map(|agent| self.take_agent(agent))
            .collect()
    }

    /// First fit: each agent in turn (by id) works each of their availability
    /// blocks from its start, for as long as the shift length, their hours left
    /// and the shifts allowed that day permit.
    fn first_fit(&mut self) {
        for agent in 0..self.infos.len() {
            let n = self.infos[agent].block.len();
            let mut t = 0;
            while t < n {
                let Some(block) = self.infos[agent].block[t] else {
                    t += 1;
                    continue;
                };
                t = block.1;
                let info = &self.infos[agent];
                let (lo, hi) = self.lengths(block);
                let len = hi.min(info.budget.saturating_sub(self.used[agent]));
                let day = info.day[block.0];
                let today = self.shifts[agent]
                    .iter()
                    .filter(|&&(s, _)| info.day[s] == day)
                    .count();
                if len > 0 && len >= lo && today < self.max_per_day {
                    self.place(agent, block.0, block.0 + len);
                }
            }
        }
    }

    /// Best response, agent by agent, in rounds while coverage rises or hours
    /// fall (at most [`IMPROVEMENT_ROUNDS`]).
    fn improve(&mut self) {
        for _ in 0..IMPROVEMENT_ROUNDS {
            let before = (self.covered(), self.used.iter().sum::<usize>());
            for agent in 0..self.infos.len() {
                // Only worth redoing when someone else came or went in the
                // agent's hours since the agent was last re-planned.
                let info = &self.infos[agent];
                let changed = (0..info.block.len())
                    .any(|t| info.block[t].is_some() && self.changed[t] > self.seen[agent]);
                if changed {
                    self.best_response(agent);
                }
                self.seen[agent] = self.clock;
            }
            let after = (self.covered(), self.used.iter().sum::<usize>());
            if after.0 < before.0 || (after.0 == before.0 && after.1 >= before.1) {
                break;
            }
        }
    }

    fn covered(&self) -> u32 {
        self.slots.iter().map(Slot::covered).sum()
    }

    fn gain(&self, agent: usize, t: usize) -> bool {
        self.slots[t].reach & self.masks[agent] != 0
    }

    fn add(&mut self, agent: usize, t: usize) {
        self.slots[t].add(agent, &self.heads[t], &self.masks);
        self.tick(t);
    }

    fn remove(&mut self, agent: usize, t: usize) {
        self.slots[t].remove(agent, &self.heads[t], &self.masks);
        self.tick(t);
    }

    fn tick(&mut self, t: usize) {
        self.clock += 1;
        self.changed[t] = self.clock;
    }

    /// Length bounds of a shift in the block `[start, end)`.
    fn lengths(&self, block: (usize, usize)) -> (usize, usize) {
        let size = block.1 - block.0;
        if size >= self.min_len {
            (self.min_len, self.max_len.min(size))
        } else {
            (1, size)
        }
    }

    /// The agent's best new shift, if any covers something.
    fn best(&self, agent: usize) -> Option<Candidate> {
        let info = &self.infos[agent];
        let remaining = info.budget.saturating_sub(self.used[agent]);
        if remaining == 0 {
            return None;
        }
        let n = info.block.len();
        let mut free: Vec<bool> = info.block.iter().map(Option::is_some).collect();
        for &(s, e) in &self.shifts[agent] {
            for f in free
                .iter_mut()
                .take((e + 1).min(n))
                .skip(s.saturating_sub(1))
            {
                *f = false;
            }
        }
        let mut prefix = vec![0usize; n + 1];
        for t in 0..n {
            prefix[t + 1] = prefix[t] + usize::from(free[t] && self.gain(agent, t));
        }
        let mut best: Option<Candidate> = None;
        let mut t = 0;
        while t < n {
            let (Some(block), true) = (info.block[t], free[t]) else {
                t += 1;
                continue;
            };
            let run_start = t;
            while t < n && free[t] && info.block[t] == Some(block) {
                t += 1;
            }
            let run_end = t;
            let (lo, hi) = self.lengths(block);
            let hi = hi.min(run_end - run_start).min(remaining);
            if lo > hi || prefix[run_end] == prefix[run_start] {
                continue;
            }
            for s in run_start..=run_end - lo {
                let day = info.day[s];
                if self.shifts[agent]
                    .iter()
                    .filter(|&&(s2, _)| info.day[s2] == day)
                    .count()
                    >= self.max_per_day
                {
                    continue;
                }
                for len in lo..=hi.min(run_end - s) {
                    let gain = prefix[s + len] - prefix[s];
                    let candidate = Candidate {
                        agent,
                        start: s,
                        len,
                        gain,
                    };
                    if gain > 0 && best.is_none_or(|b| candidate > b) {
                        best = Some(candidate);
                    }
                }
            }
        }
        best
    }

    /// Puts `agent` on shift for intervals `[start, end)`.
    fn place(&mut self, agent: usize, start: usize, end: usize) {
        self.shifts[agent].push((start, end));
        self.shifts[agent].sort_unstable();
        self.used[agent] += end - start;
        for t in start..end {
            self.add(agent, t);
        }
    }

    /// Lazy greedy: only the agent on top of the queue is re-evaluated, as no
    /// agent's best ratio rises when others are placed.
    fn greedy(&mut self) {
        let mut queue: BinaryHeap<Candidate> =
            (0..self.infos.len()).filter_map(|a| self.best(a)).collect();
        while let Some(top) = queue.pop() {
            let Some(fresh) = self.best(top.agent) else {
                continue;
            };
            if queue.peek().is_none_or(|next| fresh >= *next) {
                self.place(fresh.agent, fresh.start, fresh.start + fresh.len);
                if let Some(again) = self.best(fresh.agent) {
                    queue.push(again);
                }
            } else {
                queue.push(fresh);
            }
        }
    }

    /// Takes `agent` off and re-plans their week as well as possible with
    /// everyone else fixed ([`Scheduler::plan_alone`]). Never lowers coverage nor
    /// adds hours for nothing: the old shifts come back unless the new ones are
    /// better. (They usually are one of the plans the table considers, but not
    /// always: it caps the shifts a day at what shifts of the minimum length
    /// allow, and first fit may start more, shorter ones in short blocks.)
    fn best_response(&mut self, agent: usize) {
        if !self.dp_fits(agent) {
            return;
        }
        let before = self.score();
        let old = self.take_agent(agent);
        for (s, e) in self.plan_alone(agent) {
            self.place(agent, s, e);
        }
        if self.score() < before {
            self.take_agent(agent);
            for (s, e) in old {
                self.place(agent, s, e);
            }
        }
    }

    /// Takes `agent` off every shift; returns the shifts.
    fn take_agent(&mut self, agent: usize) -> Vec<(usize, usize)> {
        let shifts = std::mem::take(&mut self.shifts[agent]);
        for &(s, e) in &shifts {
            for t in s..e {
                self.remove(agent, t);
            }
        }
        self.used[agent] = 0;
        shifts
    }

    /// Dimensions of the single-agent table: (intervals left, shifts per day).
    fn dp_dims(&self, agent: usize) -> (usize, usize) {
        let info = &self.infos[agent];
        let available = info.block.iter().filter(|b| b.is_some()).count();
        let per_day = info.block.len() / 7;
        let starts = per_day / (self.min_len.min(per_day).max(1) + 1) + 1;
        (info.budget.min(available), self.max_per_day.min(starts))
    }

    /// Whether the single-agent table stays small (it always does for sane
    /// settings; an agent above the limit keeps the shifts the start gave them).
    fn dp_fits(&self, agent: usize) -> bool {
        let (budget, days) = self.dp_dims(agent);
        (self.infos[agent].block.len() + 1) * (budget + 1) * (days + 1) <= MAX_TABLE
    }

    /// The best week for `agent` alone given everyone else's shifts: dynamic
    /// programming over (interval, intervals of budget left, shifts already
    /// started on that local date), maximizing heads filled, then minimizing
    /// hours. O(I·B·D·(L_max − L_min + 1)).
    fn plan_alone(&self, agent: usize) -> Vec<(usize, usize)> {
        let info = &self.infos[agent];
        let n = info.block.len();
        let (budget, days) = self.dp_dims(agent);
        let width = (budget + 1) * (days + 1);
        let at = |t: usize, b: usize, c: usize| t * width + b * (days + 1) + c;
        let mut prefix = vec![0u32; n + 1];
        for t in 0..n {
            prefix[t + 1] = prefix[t] + u32::from(info.block[t].is_some() && self.gain(agent, t));
        }
        // (heads filled, intervals worked) from interval t on; row n is all zero.
        let mut value = vec![(0u32, 0u32); (n + 1) * width];
        let mut choice = vec![0u16; n * width];
        for t in (0..n).rev() {
            let same_day = |p: usize| p < n && info.day[p] == info.day[t];
            let next_same = same_day(t + 1);
            // A shift covering nothing is never better than not working, so
            // starts with nothing to gain within reach are not tried.
            let lengths = info.block[t]
                .map(|block| {
                    let (lo, hi) = self.lengths(block);
                    (lo, hi.min(block.1 - t))
                })
                .filter(|&(lo, hi)| lo <= hi && prefix[t + hi] > prefix[t]);
            for b in 0..=budget {
                for c in 0..=days {
                    let next_c = if next_same { c } else { 0 };
                    let mut best = value[at(t + 1, b, next_c)];
                    let mut pick = 0u16;
                    if let (Some((lo, hi)), true) = (lengths, c < days) {
                        for len in lo..=hi.min(b) {
                            let p = (t + len + 1).min(n);
                            let pc = if same_day(p) { c + 1 } else { 0 };
                            let rest = value[at(p, b - len, pc.min(days))];
                            let gain = prefix[t + len] - prefix[t] + rest.0;
                            let worked = len as u32 + rest.1;
                            if gain > best.0 || (gain == best.0 && worked < best.1) {
                                best = (gain, worked);
                                pick = len as u16;
                            }
                        }
                    }
                    value[at(t, b, c)] = best;
                    choice[at(t, b, c)] = pick;
                }
            }
        }
        let mut shifts = Vec::new();
        let (mut t, mut b, mut c) = (0, budget, 0);
        while t < n {
            let len = usize::from(choice[at(t, b, c)]);
            if len == 0 {
                c = if t + 1 < n && info.day[t + 1] == info.day[t] {
                    c
                } else {
                    0
                };
                t += 1;
            } else {
                shifts.push((t, t + len));
                let p = (t + len + 1).min(n);
                c = if p < n && info.day[p] == info.day[t] {
                    (c + 1).min(days)
                } else {
                    0
                };
                b -= len;
                t = p;
            }
        }
        shifts
    }

    pub(super) fn into_plan(
        self,
        agents: &[&Agent],
        languages: &[String],
        week_start: Timestamp,
        week_end: Timestamp,
        iv: u32,
    ) -> Plan {
        let n = self.slots.len();
        let nl = languages.len();
        let mut scheduled = vec![vec![0u32; n]; nl];
        for (t, slot) in self.slots.iter().enumerate() {
            let mut count = slot.assigned.clone();
            for &(agent, language) in &slot.members {
                if language.is_none() {
                    // Beyond every head: reported under the language of theirs
                    // with the least surplus (their first listed on a tie).
                    let spoken = agents[agent]
                        .languages
                        .iter()
                        .filter_map(|l| languages.iter().position(|x| x == l));
                    let target =
                        spoken.min_by_key(|&l| i64::from(count[l]) - i64::from(self.heads[t][l]));
                    if let Some(l) = target {
                        count[l] += 1;
                    }
                }
            }
            for (l, c) in count.into_iter().enumerate() {
                scheduled[l][t] = c;
            }
        }
        let mut required = BTreeMap::new();
        let mut scheduled_map = BTreeMap::new();
        let mut gaps = Vec::new();
        for (l, language) in languages.iter().enumerate() {
            let need: Vec<u32> = (0..n).map(|t| self.heads[t][l]).collect();
            let mut t = 0;
            while t < n {
                let missing = need[t].saturating_sub(scheduled[l][t]);
                if missing == 0 {
                    t += 1;
                    continue;
                }
                let start = t;
                while t < n && need[t].saturating_sub(scheduled[l][t]) == missing {
                    t += 1;
                }
                gaps.push(Gap {
                    language: language.clone(),
                    start: interval_start(week_start, iv, start),
                    end: interval_start(week_start, iv, t),
                    missing,
                });
            }
            required.insert(language.clone(), need);
            scheduled_map.insert(language.clone(), std::mem::take(&mut scheduled[l]));
        }
        let mut shifts = Vec::new();
        for (agent, own) in agents.iter().zip(&self.shifts) {
            for &(s, e) in own {
                shifts.push(Shift {
                    agent_id: agent.id.clone(),
                    agent_name: agent.name.clone(),
                    time_zone: agent.zone_name.clone(),
                    start: interval_start(week_start, iv, s),
                    end: interval_start(week_start, iv, e),
                    languages: agent.languages.clone(),
                });
            }
        }
        Plan {
            week_start,
            week_end,
            interval_minutes: iv,
            shifts,
            languages: languages.to_vec(),
            required,
            scheduled: scheduled_map,
            gaps,
        }
    }
}
