//! The process-wide budget of plugin linear memory: every instance, running or
//! waiting on the warm shelf, holds its memory against it, so concurrent calls
//! cannot together ask for more than the operator allows.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Linear memory granted to plugin instances, process-wide.
#[derive(Debug)]
pub(crate) struct MemoryBudget {
    used: AtomicUsize,
    max: usize,
}

impl MemoryBudget {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            used: AtomicUsize::new(0),
            max,
        }
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    pub(crate) fn reserve(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.max)
            })
            .is_ok()
    }

    /// Gives `bytes` back.
    pub(crate) fn release(&self, bytes: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                Some(used.saturating_sub(bytes))
            });
    }

    /// Bytes in use.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_budget_refuses_what_does_not_fit() {
        let budget = MemoryBudget::new(100);
        assert!(budget.reserve(60));
        assert!(!budget.reserve(41));
        assert!(budget.reserve(40));
        budget.release(70);
        assert_eq!(budget.used(), 30);
        budget.release(usize::MAX);
        assert_eq!(budget.used(), 0);
    }
}
