//! Call slots: how many plugin calls run at once, in all and, for events, per
//! tenant (the instance pool is sized for them). A call holds its slots until
//! its instance is dropped or back on the warm shelf, in overtime too, where an
//! event call abandoned at its deadline waits for idle CPU to be dropped: so a
//! tenant whose plugin loops holds at most its share of the slots (half by
//! default: two such tenants together can still hold them all, which a smaller
//! share prevents). Loading a manifest and the admin tools
//! (which have slots of their own, `tools.rs`) take a slot of all only.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::per_tenant::PerTenant;

/// The slots of running calls.
#[derive(Debug)]
pub(crate) struct CallSlots {
    all: Arc<Semaphore>,
    /// The most one tenant's event calls hold at once.
    per_tenant: usize,
    /// Each tenant's share, alive while one of its calls holds a slot of it.
    tenants: PerTenant<Semaphore>,
}

/// A running call's slots, given back when it is dropped.
#[derive(Debug)]
pub(crate) struct CallPermit {
    _tenant: Option<OwnedSemaphorePermit>,
    _all: OwnedSemaphorePermit,
}

/// The runtime is shutting down: no slot is given any more.
#[derive(Debug)]
pub(crate) struct Closed;

impl CallSlots {
    /// `all` slots (at least one), of which one tenant may hold `per_tenant`.
    pub(crate) fn new(all: usize, per_tenant: usize) -> Self {
        let all = all.max(1);
        Self {
            all: Arc::new(Semaphore::new(all)),
            per_tenant: per_tenant.clamp(1, all),
            tenants: PerTenant::default(),
        }
    }

    /// Waits for a slot of `tenant`'s share, if any, then for one of all.
    pub(crate) async fn acquire(&self, tenant: Option<&str>) -> Result<CallPermit, Closed> {
        // The tenant's first: a call waiting for its tenant's share holds none
        // of the slots the other tenants wait for.
        let tenant = match tenant {
            Some(tenant) => {
                let share = self.tenants.get(tenant, || Semaphore::new(self.per_tenant));
                Some(share.acquire_owned().await.map_err(|_| Closed)?)
            }
            None => None,
        };
        let all = Arc::clone(&self.all)
            .acquire_owned()
            .await
            .map_err(|_| Closed)?;
        Ok(CallPermit {
            _tenant: tenant,
            _all: all,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A slot of `tenant`'s share (`None`: of no tenant) if one is free at once.
    async fn at_once(slots: &CallSlots, tenant: Option<&str>) -> Option<CallPermit> {
        tokio::time::timeout(Duration::from_millis(20), slots.acquire(tenant))
            .await
            .ok()
            .map(|permit| permit.expect("open"))
    }

    #[tokio::test]
    async fn a_tenant_holds_its_share_and_the_others_the_rest() {
        let slots = CallSlots::new(4, 2);
        let mut acme = Vec::new();
        for _ in 0..2 {
            acme.push(at_once(&slots, Some("acme")).await.expect("acme's share"));
        }
        assert!(
            at_once(&slots, Some("acme")).await.is_none(),
            "past acme's share"
        );
        let globex = at_once(&slots, Some("globex"))
            .await
            .expect("globex's share");
        let initech = at_once(&slots, Some("initech")).await.expect("the last");
        assert!(
            at_once(&slots, Some("umbrella")).await.is_none(),
            "all held"
        );
        assert!(
            at_once(&slots, None).await.is_none(),
            "no tenant: all held too"
        );
        drop(acme);
        assert!(
            at_once(&slots, Some("umbrella")).await.is_some(),
            "acme's came back"
        );
        drop((globex, initech));
    }

    #[tokio::test]
    async fn a_call_of_no_tenant_takes_no_share() {
        let slots = CallSlots::new(4, 1);
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(at_once(&slots, None).await.expect("a slot of all"));
        }
        assert!(
            at_once(&slots, Some("acme")).await.is_some(),
            "acme's share is whole"
        );
    }

    #[tokio::test]
    async fn a_share_is_never_more_than_all_nor_less_than_one() {
        assert_eq!(CallSlots::new(4, 10).per_tenant, 4);
        assert_eq!(CallSlots::new(4, 0).per_tenant, 1);
        assert_eq!(CallSlots::new(0, 0).per_tenant, 1);
    }
}
