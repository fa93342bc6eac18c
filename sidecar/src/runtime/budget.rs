//! The process-wide budget of plugin linear memory: every instance, running or
//! waiting on the warm shelf, holds its memory against it, so concurrent calls
//! cannot together ask for more than the operator allows. Each tenant's instances
//! also hold theirs against the tenant's share of it, so that one tenant's calls
//! cannot take the whole budget and leave others' calls without memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::per_tenant::PerTenant;

/// Linear memory granted to plugin instances, process-wide and per tenant.
#[derive(Debug)]
pub(crate) struct MemoryBudget {
    used: AtomicUsize,
    max: usize,
    /// The most one tenant's instances hold together.
    per_tenant: usize,
    /// The shares of tenants with an instance alive.
    shares: PerTenant<TenantMemory>,
}

/// What one tenant's instances hold; shared by them while any lives.
#[derive(Debug, Default)]
pub(crate) struct TenantMemory {
    used: AtomicUsize,
}

/// Why memory was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The tenant's share is spent.
    Tenant,
    /// The whole process's budget is.
    Process,
}

/// Adds `bytes` to `used` unless the total would pass `max`.
fn take(used: &AtomicUsize, bytes: usize, max: usize) -> bool {
    used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
        now.checked_add(bytes).filter(|total| *total <= max)
    })
    .is_ok()
}

fn give_back(used: &AtomicUsize, bytes: usize) {
    let _ = used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
        Some(now.saturating_sub(bytes))
    });
}

impl MemoryBudget {
    /// A budget of `max` bytes, of which one tenant may hold `per_tenant`.
    pub(crate) fn new(max: usize, per_tenant: usize) -> Self {
        Self {
            used: AtomicUsize::new(0),
            max,
            per_tenant,
            shares: PerTenant::default(),
        }
    }

    /// The share the instances of `tenant` hold their memory against.
    pub(crate) fn share_of(&self, tenant: &str) -> Arc<TenantMemory> {
        self.shares.get(tenant, TenantMemory::default)
    }

    /// Takes `bytes` from the tenant's share and from the budget; nothing is taken
    /// when they do not fit in either.
    pub(crate) fn reserve(&self, share: &TenantMemory, bytes: usize) -> Result<(), Refused> {
        if !take(&share.used, bytes, self.per_tenant) {
            return Err(Refused::Tenant);
        }
        if !take(&self.used, bytes, self.max) {
            give_back(&share.used, bytes);
            return Err(Refused::Process);
        }
        Ok(())
    }

    /// Gives `bytes` back, to the share and to the budget.
    pub(crate) fn release(&self, share: &TenantMemory, bytes: usize) {
        give_back(&share.used, bytes);
        give_back(&self.used, bytes);
    }

    /// Bytes in use.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The most one tenant may hold, in bytes.
    pub(crate) fn per_tenant(&self) -> usize {
        self.per_tenant
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_budget_refuses_what_does_not_fit() {
        let budget = MemoryBudget::new(100, 100);
        let share = budget.share_of("acme");
        assert_eq!(budget.reserve(&share, 60), Ok(()));
        assert_eq!(budget.reserve(&share, 41), Err(Refused::Tenant));
        assert_eq!(budget.reserve(&share, 40), Ok(()));
        budget.release(&share, 70);
        assert_eq!(budget.used(), 30);
        budget.release(&share, usize::MAX);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn one_tenant_cannot_take_what_the_others_need() {
        let budget = MemoryBudget::new(100, 60);
        let (acme, globex, initech) = (
            budget.share_of("acme"),
            budget.share_of("globex"),
            budget.share_of("initech"),
        );
        assert!(Arc::ptr_eq(&acme, &budget.share_of("acme")), "one share");
        assert_eq!(budget.reserve(&acme, 50), Ok(()));
        // acme's next 20 would fit the budget, not its share.
        assert_eq!(budget.reserve(&acme, 20), Err(Refused::Tenant));
        assert_eq!(budget.reserve(&globex, 40), Ok(()));
        // The budget is full although initech holds nothing; what was refused
        // took nothing from initech's share.
        assert_eq!(budget.reserve(&initech, 20), Err(Refused::Process));
        assert_eq!(initech.used.load(Ordering::Relaxed), 0);
        budget.release(&acme, 50);
        assert_eq!(budget.reserve(&initech, 20), Ok(()));
        assert_eq!(budget.used(), 60);
    }
}
