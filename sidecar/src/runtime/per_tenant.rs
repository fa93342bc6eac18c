//! One value per tenant, shared by whatever of the tenant's is alive (its
//! instances' memory share, its calls' slots) and forgotten when nothing holds
//! it, so that tenants come and go without the map growing.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

/// The live values, by tenant.
#[derive(Debug)]
pub(crate) struct PerTenant<T> {
    inner: Mutex<Entries<T>>,
}

#[derive(Debug)]
struct Entries<T> {
    by_tenant: HashMap<String, Weak<T>>,
    /// Entries past which the dead ones are swept out.
    sweep_at: usize,
}

impl<T> Default for PerTenant<T> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Entries {
                by_tenant: HashMap::new(),
                sweep_at: 0,
            }),
        }
    }
}

impl<T> PerTenant<T> {
    /// The value of `tenant`, made by `make` when nothing holds one.
    pub(crate) fn get(&self, tenant: &str, make: impl FnOnce() -> T) -> Arc<T> {
        let mut entries = self.inner.lock();
        if let Some(value) = entries.by_tenant.get(tenant).and_then(Weak::upgrade) {
            return value;
        }
        let value = Arc::new(make());
        entries
            .by_tenant
            .insert(tenant.to_owned(), Arc::downgrade(&value));
        if entries.by_tenant.len() > entries.sweep_at {
            entries
                .by_tenant
                .retain(|_, value| value.strong_count() > 0);
            entries.sweep_at = entries.by_tenant.len().saturating_mul(2).max(64);
        }
        value
    }

    /// How many tenants have an entry, alive or not yet swept.
    #[cfg(test)]
    pub(crate) fn entries(&self) -> usize {
        self.inner.lock().by_tenant.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_has_one_value_while_it_is_held() {
        let values = PerTenant::<u32>::default();
        let acme = values.get("acme", || 1);
        assert!(Arc::ptr_eq(&acme, &values.get("acme", || 2)), "one value");
        assert_eq!(*values.get("globex", || 3), 3);
        drop(acme);
        assert_eq!(
            *values.get("acme", || 4),
            4,
            "made again once nothing held it"
        );
    }

    #[test]
    fn tenants_holding_nothing_leave_no_entry_behind() {
        let values = PerTenant::<u32>::default();
        for n in 0..1000 {
            drop(values.get(&format!("tenant-{n}"), || n));
        }
        assert!(values.entries() <= 128, "{}", values.entries());
    }
}
