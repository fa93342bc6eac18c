//! The store's side of idempotency: the first response to each (tenant, event id),
//! kept for a time to live so that a redelivery after a restart, or to another
//! replica, gets it back instead of running the plugins again.
//!
//! A record is either a *claim* (a replica is running the event: no response yet,
//! `expires_at_ms` is the claim's lease) or a *response* (`expires_at_ms` is when
//! it may be forgotten). Writes come in batches ([`Store::write_responses`]), each
//! batch one transaction, so that many events share one durable commit.

use super::{Backend, Store, StoreError};

/// A record of one event id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// Hash of the event the record answers; another event under the same id is
    /// refused, not answered with this.
    pub event_hash: Vec<u8>,
    /// The replica (process) that claimed or answered it.
    pub owner: String,
    /// The encoded `HandleEventResponse`; `None` while a claim runs.
    pub response: Option<Vec<u8>>,
    pub expires_at_ms: i64,
}

/// Identifies a record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventKey {
    pub tenant: String,
    pub event_id: String,
}

/// One write of a batch.
#[derive(Debug, Clone)]
pub enum ResponseWrite {
    /// Claims the event for `owner` until `lease_until_ms`, unless a live record
    /// (a response, or another claim whose lease has not ended) is there.
    Claim {
        key: EventKey,
        event_hash: Vec<u8>,
        owner: String,
        lease_until_ms: i64,
    },
    /// Records the response, unless another owner's live record is there (a claim
    /// of this owner, or none, is replaced).
    Complete {
        key: EventKey,
        event_hash: Vec<u8>,
        owner: String,
        response: Vec<u8>,
        expires_at_ms: i64,
    },
    /// Drops this owner's claim: the event failed, a redelivery may run it.
    Release { key: EventKey, owner: String },
}

/// What one write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The claim is this owner's.
    Claimed,
    /// A live record was there; the claim was not made.
    Held(StoredResponse),
    /// The response was recorded (`false`: another owner's record was kept).
    Completed(bool),
    Released,
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Records whose time to live, or lease, had passed.
    pub expired: u64,
    /// The oldest responses removed to bring their bytes under the bound.
    pub over_bound: u64,
}

impl Store {
    /// The live record of an event id (`now_ms` decides what has expired).
    pub async fn response(
        &self,
        key: &EventKey,
        now_ms: i64,
    ) -> Result<Option<StoredResponse>, StoreError> {
        dispatch!(self.response(key, now_ms))
    }

    /// The keys of live responses (not claims), at most `limit`.
    pub async fn response_keys(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<EventKey>, StoreError> {
        dispatch!(self.response_keys(now_ms, limit))
    }

    /// Applies `writes` in order in one transaction, returning one outcome each.
    pub async fn write_responses(
        &self,
        writes: Vec<ResponseWrite>,
        now_ms: i64,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        dispatch!(self.write_responses(writes, now_ms))
    }

    /// Removes expired records, then the responses that expire first until the
    /// stored responses take at most `max_bytes`.
    pub async fn purge_responses(&self, now_ms: i64, max_bytes: u64) -> Result<Purged, StoreError> {
        dispatch!(self.purge_responses(now_ms, max_bytes))
    }
}
