//! Keys that are forgotten with time: a family of keys written under 30-day
//! periods, the periods holding keys listed under one key of their own, and the
//! periods past deleted a little at a time by the events that write new keys.
//!
//! | key | value |
//! | --- | --- |
//! | `<prefix><period>/<rest>` | the family's value |
//! | `<list key>` | the periods holding keys, e.g. `679,680` |
//!
//! A period is [`PERIOD_DAYS`] days since the Unix epoch, written with six
//! digits. Keys of the current period and the one before are live; older ones
//! are deleted by sweeps: one in [`SWEEP_ONE_IN`] keys new to a period (chosen by
//! a [`hash`] of what the key names, so no randomness is needed) deletes up to
//! [`SWEEP_BUDGET`] keys of periods past, and takes a period off the list once
//! it is empty. Ticket languages ([`crate::ticket_language`]) and the words seen
//! once ([`crate::vocabulary`]) are kept this way.

use crossdesk_sdk::kv::{self, KvError};

/// Days in a period.
pub const PERIOD_DAYS: i64 = 30;
/// A sweep runs for one in this many keys new to a period.
pub const SWEEP_ONE_IN: u32 = 16;
/// Keys one sweep deletes, at most: each is a write to the store within the
/// event, so a sweep stays small; four per new key, on average, outpace the one
/// each adds.
pub const SWEEP_BUDGET: usize = 64;

/// The period of `now_ms`.
///
/// ```
/// use translation::periods::period_of;
/// assert_eq!(period_of(0), 0);
/// assert_eq!(period_of(30 * 86_400_000), 1);
/// ```
pub fn period_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(86_400_000).div_euclid(PERIOD_DAYS)
}

/// A small, stable hash (FNV-1a) of what a key names, to choose the keys that
/// sweep.
pub fn hash(name: &str) -> u32 {
    name.bytes().fold(2_166_136_261_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    })
}

/// Whether the key new to a period that names `name` sweeps.
pub fn sweeps(name: &str) -> bool {
    hash(name).is_multiple_of(SWEEP_ONE_IN)
}

/// One family of keys kept by period.
#[derive(Debug, Clone, Copy)]
pub struct Periodic {
    /// What every key of the family starts with, e.g. `ticket-lang/`.
    pub prefix: &'static str,
    /// The key listing the periods that hold keys.
    pub list_key: &'static str,
}

impl Periodic {
    /// The key of `rest` in `period`.
    ///
    /// ```
    /// use translation::periods::Periodic;
    /// let family = Periodic { prefix: "p/", list_key: "p-periods" };
    /// assert_eq!(family.key(680, "T-1"), "p/000680/T-1");
    /// ```
    pub fn key(&self, period: i64, rest: &str) -> String {
        format!("{}{rest}", self.period_prefix(period))
    }

    /// What the keys of `period` start with.
    pub fn period_prefix(&self, period: i64) -> String {
        format!("{}{period:06}/", self.prefix)
    }

    fn read_list(&self) -> Result<(Option<Vec<u8>>, Vec<i64>), KvError> {
        let stored = kv::get(self.list_key)?;
        let periods = stored
            .as_deref()
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(|text| {
                text.split(',')
                    .filter_map(|p| p.trim().parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        Ok((stored, periods))
    }

    /// The periods holding keys, ascending.
    pub fn listed(&self) -> Result<Vec<i64>, KvError> {
        Ok(self.read_list()?.1)
    }

    /// Changes the list of periods with `change`, against other events' changes.
    fn change_list(&self, change: impl Fn(&mut Vec<i64>)) -> Result<(), KvError> {
        for _ in 0..8 {
            let (stored, mut periods) = self.read_list()?;
            let before = periods.clone();
            change(&mut periods);
            periods.sort_unstable();
            periods.dedup();
            if periods == before {
                return Ok(());
            }
            let text = periods
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            if kv::compare_and_swap(self.list_key, stored.as_deref(), Some(text.as_bytes()))? {
                return Ok(());
            }
        }
        // Others kept changing it: the next key new to the period lists it again.
        Ok(())
    }

    /// Lists `period` as holding keys: call it after writing a key new to it.
    pub fn list(&self, period: i64) -> Result<(), KvError> {
        if self.listed()?.contains(&period) {
            return Ok(());
        }
        self.change_list(|periods| periods.push(period))
    }

    /// Deletes up to `budget` keys of the periods before the one before
    /// `period`; takes emptied periods off the list. Returns the budget left.
    pub fn sweep(&self, period: i64, mut budget: usize) -> Result<usize, KvError> {
        let expired: Vec<i64> = self
            .listed()?
            .into_iter()
            .filter(|p| *p < period.saturating_sub(1))
            .collect();
        let mut emptied = Vec::new();
        for old in expired {
            if budget == 0 {
                break;
            }
            let keys = kv::list_keys(&self.period_prefix(old))?;
            for key in keys.iter().take(budget) {
                kv::delete(key)?;
            }
            if keys.len() <= budget {
                emptied.push(old);
            }
            budget = budget.saturating_sub(keys.len());
        }
        if !emptied.is_empty() {
            self.change_list(|periods| periods.retain(|p| !emptied.contains(p)))?;
        }
        Ok(budget)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_in_so_many_names_sweeps() {
        let sweeping = (0..16_000).filter(|i| sweeps(&format!("{i}"))).count();
        assert!((800..1_200).contains(&sweeping), "{sweeping}");
    }
}
