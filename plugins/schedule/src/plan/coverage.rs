//! Per-interval coverage bookkeeping: what the scheduler knows about each agent
//! ([`AgentInfo`]) and, per interval, the agents on shift matched to the
//! languages' heads ([`Slot`], a maximum matching kept up to date by augmenting
//! paths).

use std::collections::VecDeque;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::forecast::interval_start;
use crate::roster::Agent;

/// What the scheduler knows about one agent.
pub(super) struct AgentInfo {
    /// Bit `l` set when the agent speaks language `l`.
    pub(super) mask: u64,
    /// Per interval: the availability block `[start, end)` holding it.
    pub(super) block: Vec<Option<(usize, usize)>>,
    /// Per interval: the agent's local date at its start.
    pub(super) day: Vec<Date>,
    /// Intervals the agent may work in the week.
    pub(super) budget: usize,
}

impl AgentInfo {
    pub(super) fn new(
        agent: &Agent,
        languages: &[String],
        from: Timestamp,
        to: Timestamp,
        iv: u32,
        n: usize,
    ) -> AgentInfo {
        let mask = agent
            .languages
            .iter()
            .filter_map(|l| languages.iter().position(|x| x == l))
            .fold(0u64, |m, l| m | (1 << l));
        let iv_secs = i64::from(iv) * 60;
        let origin = from.as_second();
        let mut available = vec![false; n];
        for window in agent.windows(from, to) {
            let start = window.start.max(from).as_second() - origin;
            let end = window.end.min(to).as_second() - origin;
            let first = (start + iv_secs - 1).div_euclid(iv_secs).max(0) as usize;
            let last = (end.div_euclid(iv_secs).max(0) as usize).min(n);
            for slot in available.iter_mut().take(last).skip(first) {
                *slot = true;
            }
        }
        let mut block = vec![None; n];
        let mut t = 0;
        while t < n {
            if available[t] {
                let start = t;
                while t < n && available[t] {
                    t += 1;
                }
                for b in block.iter_mut().take(t).skip(start) {
                    *b = Some((start, t));
                }
            } else {
                t += 1;
            }
        }
        let day = (0..n)
            .map(|t| {
                agent
                    .time_zone
                    .to_datetime(interval_start(from, iv, t))
                    .date()
            })
            .collect();
        let budget = (agent.max_hours_per_week * 60.0 / f64::from(iv) + 1e-9)
            .floor()
            .max(0.0) as usize;
        AgentInfo {
            mask,
            block,
            day,
            budget,
        }
    }
}

/// The agents on shift in one interval and which language each counts for.
#[derive(Clone)]
pub(super) struct Slot {
    /// (agent, language it counts for; `None` when beyond every head).
    pub(super) members: Vec<(usize, Option<usize>)>,
    /// Matched agents per language (never above the heads).
    pub(super) assigned: Vec<u32>,
    /// Languages from which an augmenting path reaches a shortfall: an agent
    /// speaking one of them would raise the coverage.
    pub(super) reach: u64,
}

impl Slot {
    pub(super) fn new(languages: usize) -> Slot {
        Slot {
            members: Vec::new(),
            assigned: vec![0; languages],
            reach: 0,
        }
    }

    pub(super) fn covered(&self) -> u32 {
        self.assigned.iter().sum()
    }

    fn deficit(&self, heads: &[u32]) -> u64 {
        self.assigned
            .iter()
            .zip(heads)
            .enumerate()
            .filter(|(_, (a, h))| a < h)
            .fold(0, |m, (l, _)| m | (1 << l))
    }

    /// Recomputes [`Slot::reach`].
    pub(super) fn refresh(&mut self, heads: &[u32], masks: &[u64]) {
        let mut reach = self.deficit(heads);
        loop {
            let before = reach;
            for &(agent, language) in &self.members {
                if let Some(x) = language
                    && reach & (1 << x) == 0
                    && masks[agent] & reach != 0
                {
                    reach |= 1 << x;
                }
            }
            if reach == before {
                break;
            }
        }
        self.reach = reach;
    }

    /// Finds a language for an agent speaking `mask`, moving placed agents along
    /// an augmenting path when needed; returns the language, counted as assigned.
    fn augment(&mut self, mask: u64, heads: &[u32], masks: &[u64]) -> Option<usize> {
        let deficit = self.deficit(heads);
        let direct = bits(mask & deficit).max_by(|&a, &b| {
            let short = |l: usize| heads[l] - self.assigned[l];
            short(a).cmp(&short(b)).then(b.cmp(&a))
        });
        if let Some(l) = direct {
            self.assigned[l] += 1;
            return Some(l);
        }
        let mut prev: Vec<Option<(usize, usize)>> = vec![None; heads.len()];
        let mut visited = mask;
        let mut queue: VecDeque<usize> = bits(mask).collect();
        let mut found = None;
        'search: while let Some(x) = queue.pop_front() {
            for (i, &(agent, language)) in self.members.iter().enumerate() {
                if language != Some(x) {
                    continue;
                }
                for y in bits(masks[agent] & !visited) {
                    visited |= 1 << y;
                    prev[y] = Some((x, i));
                    if deficit & (1 << y) != 0 {
                        found = Some(y);
                        break 'search;
                    }
                    queue.push_back(y);
                }
            }
        }
        let mut current = found?;
        while let Some((from, i)) = prev[current] {
            self.members[i].1 = Some(current);
            self.assigned[current] += 1;
            self.assigned[from] -= 1;
            current = from;
        }
        self.assigned[current] += 1;
        Some(current)
    }

    pub(super) fn add(&mut self, agent: usize, heads: &[u32], masks: &[u64]) {
        let language = self.augment(masks[agent], heads, masks);
        self.members.push((agent, language));
        self.refresh(heads, masks);
    }

    pub(super) fn remove(&mut self, agent: usize, heads: &[u32], masks: &[u64]) {
        let Some(position) = self.members.iter().position(|&(a, _)| a == agent) else {
            return;
        };
        let (_, language) = self.members.remove(position);
        if let Some(x) = language {
            self.assigned[x] -= 1;
            // Removing one agent lowers the maximum by at most one; an augmenting
            // path from an unmatched agent restores it when possible.
            for j in 0..self.members.len() {
                let (other, None) = self.members[j] else {
                    continue;
                };
                if let Some(l) = self.augment(masks[other], heads, masks) {
                    self.members[j].1 = Some(l);
                    break;
                }
            }
        }
        self.refresh(heads, masks);
    }
}

/// The set bits of `mask`, lowest first.
fn bits(mask: u64) -> impl Iterator<Item = usize> {
    (0..64).filter(move |l| mask & (1u64 << l) != 0)
}
