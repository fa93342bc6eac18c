//! Leases on a tenant's customer, for [`crate::ordering`]: held by one replica's
//! event at a time, until released or until they end (their holder died).

use super::{Backend, Store, StoreError};

impl Store {
    /// Takes the lease on the customer for `holder` until `until_ms`, unless
    /// another holder's lease is still live at `now_ms`. Whether it was taken.
    pub async fn acquire_lease(
        &self,
        tenant: &str,
        customer: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        dispatch!(self.acquire_lease(tenant, customer, holder, now_ms, until_ms))
    }

    /// Ends the lease if `holder` still holds it.
    pub async fn release_lease(
        &self,
        tenant: &str,
        customer: &str,
        holder: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self.release_lease(tenant, customer, holder))
    }
}
