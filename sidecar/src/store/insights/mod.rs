//! The insight tables ([`crate::insights`]): a row per ticket, the cells rebuilt
//! from them per day and slice, and translation counts per day and language pair.
//!
//! A ticket's row is merged in SQL (earliest first sight, first reply, last solve,
//! a reopen when a customer writes after the last solve), so replicas recording
//! events of one ticket at once lose nothing. A day's cells are rebuilt whole from
//! its tickets in one transaction; on PostgreSQL under an advisory lock per tenant
//! and day, so the last rebuild reads every change committed before it.
//!
//! The days whose cells are out of date are marked in the store, in the
//! transaction that made them so (facts recorded, tickets erased), and a rebuild
//! takes the mark away unless facts came since it read the tickets: a replica
//! that stops or fails before rebuilding leaves the marks for the next sweep
//! ([`Store::stale_insight_days`]), where the day would otherwise keep its old
//! figures for good, and an erasure whose rebuild failed keeps counting no one.

mod postgres;
mod sqlite;

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Backend, DataOf, Store, StoreError};
use crate::insights::figures::{Cell, DayCells, Figures, Histogram, HourCell, Slice, TicketRow};
use crate::insights::{TicketFacts, TranslationFact, day_of};

/// How a day's tickets become its cells.
pub type Aggregate = fn(i64, &[TicketRow]) -> DayCells;

/// What an erasure marks: the customer, and each ticket erased with them (so
/// that a fact that names the ticket alone, an agent's reply, is dropped too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erased<'a> {
    Customer(&'a str),
    Ticket(&'a str),
}

/// How the marks of a tenant's erasures name what they mark: a digest keyed
/// with the master key (`insights::erasure_mark`), so that they keep no id of
/// someone who asked to be forgotten, and no reader of the database finds one
/// by hashing guesses.
pub type ErasureMarks = Arc<dyn Fn(&str, Erased<'_>) -> String + Send + Sync>;

impl Store {
    /// Merges what events said about their tickets; returns the days (of first
    /// sight) whose cells are now out of date. [`StoreError::TenantGone`], with
    /// nothing written, when the tenant was deleted since (see [`DataOf`]).
    /// With `marks` (where customers can be erased), facts gathered before the
    /// erasure of their customer or ticket are left out (see
    /// [`Store::erase_customer`]).
    pub async fn record_tickets(
        &self,
        of: &DataOf,
        facts: Vec<TicketFacts>,
        marks: Option<&ErasureMarks>,
    ) -> Result<BTreeSet<i64>, StoreError> {
        dispatch!(self.record_tickets(of, facts, marks))
    }

    /// Rebuilds the cells of `day` from the tickets first seen that day, and
    /// takes the day's stale mark away unless facts marked it again meanwhile.
    pub async fn rebuild_day(
        &self,
        tenant: &str,
        day: i64,
        aggregate: Aggregate,
    ) -> Result<(), StoreError> {
        dispatch!(self.rebuild_day(tenant, day, aggregate))
    }

    /// The days (tenant and day) whose cells are out of date, marked at or before
    /// `marked_ms` (milliseconds since the epoch), at most `limit` of them,
    /// the longest marked first.
    pub async fn stale_insight_days(
        &self,
        marked_ms: i64,
        limit: usize,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        dispatch!(self.stale_insight_days(marked_ms, limit))
    }

    /// The cells of days `[from_day, to_day)`.
    pub async fn insight_cells(
        &self,
        tenant: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<Cell>, StoreError> {
        dispatch!(self.insight_cells(tenant, from_day, to_day))
    }

    /// The ticket counts of the cells of days `[from_day, to_day)`: what the
    /// period before a report and the spikes' baseline need, without the figures.
    pub async fn insight_counts(
        &self,
        tenant: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<CellCount>, StoreError> {
        dispatch!(self.insight_counts(tenant, from_day, to_day))
    }

    /// The first replies by language and hour of days `[from_day, to_day)`.
    pub async fn insight_hours(
        &self,
        tenant: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<HourCell>, StoreError> {
        dispatch!(self.insight_hours(tenant, from_day, to_day))
    }

    /// Adds translated replies and corrections (unless the tenant is gone, as
    /// for [`Store::record_tickets`]).
    pub async fn add_translations(
        &self,
        of: &DataOf,
        facts: Vec<TranslationFact>,
    ) -> Result<(), StoreError> {
        dispatch!(self.add_translations(of, facts))
    }

    /// Translation counts of days `[from_day, to_day)`, by day and pair.
    pub async fn translations(
        &self,
        tenant: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<TranslationFact>, StoreError> {
        dispatch!(self.translations(tenant, from_day, to_day))
    }

    /// The tickets of one customer (a GDPR access request).
    pub async fn customer_tickets(
        &self,
        tenant: &str,
        customer: &str,
    ) -> Result<Vec<TicketRow>, StoreError> {
        dispatch!(self.customer_tickets(tenant, customer))
    }

    /// Deletes the tickets of one customer (a GDPR erasure request), marks the
    /// days they counted in stale and rebuilds them; returns how many tickets.
    /// Once the tickets are deleted the erasure is done: a day that cannot be
    /// rebuilt now is logged and keeps its mark, so that the insights' next sweep
    /// rebuilds it, on whichever replica, and the erasure still answers: it is
    /// done, and audited.
    ///
    /// In the same transaction, it writes the audit entry (nothing is erased
    /// unaudited, and no entry tells of an erasure that did not happen) and,
    /// when the tenant is stored, marks the
    /// customer and their tickets erased now, named by `marks`: facts of theirs
    /// that a replica gathered before that and writes after (its batch waits a
    /// second, longer while the store is down) are dropped, while those of
    /// their later messages count ([`TicketFacts::gathered_ms`], on the
    /// store's clock: [`Store::now_ms`]). On PostgreSQL the erasure first waits for the tenant's
    /// batches being written (which hold its row `FOR SHARE`, see
    /// `check_data_of`).
    pub async fn erase_customer(
        &self,
        tenant: &str,
        customer: &str,
        marks: &ErasureMarks,
        audit: &ErasureAudit,
        aggregate: Aggregate,
    ) -> Result<usize, StoreError> {
        let erased = dispatch!(self.erase_customer_tickets(tenant, customer, marks, audit))?;
        let days: BTreeSet<i64> = erased.iter().map(|&(_, at)| day_of(at)).collect();
        for day in days {
            if let Err(e) = self.rebuild_day(tenant, day, aggregate).await {
                tracing::warn!(
                    %tenant,
                    day,
                    "after an erasure, the figures of a day still count its tickets: {e}"
                );
            }
        }
        Ok(erased.len())
    }

    /// Deletes every tenant's tickets, cells, translation counts and contact
    /// history of days before `before_day` (retention), and erasure marks older
    /// than that: one
    /// tenant at a time, each in a short transaction reading its tables' keys
    /// ([`PURGE_TENANT`]), so that the purge holds up no event's writes for long.
    pub async fn purge_insights(&self, before_day: i64) -> Result<(), StoreError> {
        let mut after = String::new();
        while let Some(tenant) = dispatch!(self.next_insight_tenant(&after))? {
            dispatch!(self.purge_tenant_insights(&tenant, before_day))?;
            after = tenant;
        }
        Ok(())
    }
}

/// Who erased a customer's data, and how the audit log names the customer.
#[derive(Debug, Clone)]
pub struct ErasureAudit {
    pub actor: String,
    /// Not the id: the log is read by more people than may know it.
    pub customer: String,
}

impl ErasureAudit {
    /// The entry of an erasure of `tickets_erased` tickets of `tenant`.
    fn entry(&self, tenant: &str, tickets_erased: usize) -> crate::store::NewAuditEntry {
        crate::store::NewAuditEntry {
            actor: self.actor.clone(),
            tenant: Some(tenant.to_owned()),
            action: "customer.erase".into(),
            target: self.customer.clone(),
            before: None,
            after: Some(format!("{{\"tickets_erased\":{tickets_erased}}}")),
        }
    }
}

/// The first tenant after the one given with data in the insight tables: a
/// search of each table's key, tenant first, rather than a scan. Tenant ids are
/// never empty, so `''` starts the walk.
const NEXT_INSIGHT_TENANT: &str = "
SELECT min(t) FROM (
    SELECT (SELECT tenant FROM insight_tickets WHERE tenant > $1 ORDER BY tenant LIMIT 1) AS t
    UNION ALL
    SELECT (SELECT tenant FROM insight_cells WHERE tenant > $1 ORDER BY tenant LIMIT 1)
    UNION ALL
    SELECT (SELECT tenant FROM insight_translation WHERE tenant > $1 ORDER BY tenant LIMIT 1)
    UNION ALL
    SELECT (SELECT tenant FROM insight_hours WHERE tenant > $1 ORDER BY tenant LIMIT 1)
    UNION ALL
    SELECT (SELECT tenant FROM insight_erasures WHERE tenant > $1 ORDER BY tenant LIMIT 1)
    UNION ALL
    SELECT (SELECT tenant FROM insight_stale_days WHERE tenant > $1 ORDER BY tenant LIMIT 1)
    UNION ALL
    SELECT (SELECT tenant FROM contact_history WHERE tenant > $1 ORDER BY tenant LIMIT 1)
) AS firsts";

/// The unit of a purge statement's bound.
#[derive(Debug, Clone, Copy)]
enum Bound {
    Day,
    Second,
    Millisecond,
}

impl Bound {
    fn of(self, before_day: i64) -> i64 {
        let before_s = before_day.saturating_mul(crate::insights::DAY_SECS);
        match self {
            Bound::Day => before_day,
            Bound::Second => before_s,
            Bound::Millisecond => before_s.saturating_mul(1000),
        }
    }
}

/// What the retention purge deletes of one tenant (`$1`) before its bound
/// (`$2`). Each reads a range of its table's key or index (tenant, then the
/// day or time); an erasure's marks, keyed by tenant and mark, are few.
const PURGE_TENANT: [(&str, Bound); 7] = [
    (
        "DELETE FROM insight_tickets WHERE tenant = $1 AND created_s < $2",
        Bound::Second,
    ),
    (
        "DELETE FROM insight_cells WHERE tenant = $1 AND day < $2",
        Bound::Day,
    ),
    (
        "DELETE FROM insight_translation WHERE tenant = $1 AND day < $2",
        Bound::Day,
    ),
    (
        "DELETE FROM insight_hours WHERE tenant = $1 AND day < $2",
        Bound::Day,
    ),
    (
        "DELETE FROM insight_stale_days WHERE tenant = $1 AND day < $2",
        Bound::Day,
    ),
    (
        "DELETE FROM insight_erasures WHERE tenant = $1 AND erased_ms < $2",
        Bound::Millisecond,
    ),
    // The staffing forecasts' history (`crate::history`) keeps as long.
    (
        "DELETE FROM contact_history WHERE tenant = $1 AND bucket_start_s < $2",
        Bound::Second,
    ),
];

/// Marks a tenant's day stale (`$1` tenant, `$2` day, `$3` now in ms): each
/// mark counts up its generation, so that a rebuild that read the tickets
/// before it leaves it.
const MARK_STALE: &str = "
INSERT INTO insight_stale_days AS s (tenant, day, generation, marked_ms)
VALUES ($1, $2, 1, $3)
ON CONFLICT (tenant, day) DO UPDATE
SET generation = s.generation + 1, marked_ms = excluded.marked_ms";

/// A day's mark as a rebuild reads it before reading the tickets.
const STALE_GENERATION: &str =
    "SELECT generation FROM insight_stale_days WHERE tenant = $1 AND day = $2";

/// Takes a rebuilt day's mark away, unless marked again since it was read.
const UNMARK_STALE: &str =
    "DELETE FROM insight_stale_days WHERE tenant = $1 AND day = $2 AND generation = $3";

const STALE_DAYS: &str = "SELECT tenant, day FROM insight_stale_days WHERE marked_ms <= $1
    ORDER BY marked_ms LIMIT $2";

/// `sql` with SQLite's numbered parameters (`?1`) for PostgreSQL's (`$1`).
fn for_sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}

/// The tickets of one day and slice.
#[derive(Debug, Clone, PartialEq)]
pub struct CellCount {
    pub day: i64,
    pub slice: Slice,
    pub tickets: u64,
}

const TICKET_COLUMNS: &str = "ticket, customer, created_s, first_reply_s, solved_s, \
    last_customer_s, reopens, rating, country, language, channel, category, grp, after_hours";

/// Whether `facts` date from before the erasure of their customer or ticket
/// at `erased_ms` (the later of the two marks; `None`: neither erased), and so
/// are not to be written: their event arrived before it, or happened before it
/// and was delivered late (a backlog resent, a redelivery).
fn erased_since(erased_ms: Option<i64>, facts: &TicketFacts) -> bool {
    let dated = facts.gathered_ms.min(facts.seen_s.saturating_mul(1000));
    erased_ms.is_some_and(|erased| dated <= erased)
}

/// The marks that name a fact's customer (when it names one) and its ticket.
fn marks_of_fact(marks: &ErasureMarks, tenant: &str, facts: &TicketFacts) -> [Option<String>; 2] {
    [
        (!facts.customer.is_empty()).then(|| marks(tenant, Erased::Customer(&facts.customer))),
        Some(marks(tenant, Erased::Ticket(&facts.ticket))),
    ]
}

/// The marks an erasure of `customer` writes: theirs and their tickets'.
fn marks_of(
    marks: &ErasureMarks,
    tenant: &str,
    customer: &str,
    tickets: &[(String, i64)],
) -> Vec<String> {
    std::iter::once(marks(tenant, Erased::Customer(customer)))
        .chain(
            tickets
                .iter()
                .map(|(ticket, _)| marks(tenant, Erased::Ticket(ticket))),
        )
        .collect()
}

fn to_u32(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn encode_histogram(histogram: &Histogram) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(histogram).map_err(|e| StoreError::Corrupt(format!("insight hour: {e}")))
}

fn decode_histogram(bytes: &[u8]) -> Result<Histogram, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Corrupt(format!("insight hour: {e}")))
}

fn to_hour(hour: i64) -> u8 {
    u8::try_from(hour.clamp(0, 23)).unwrap_or(0)
}

/// A cell's figures as stored: postcard, compact and quick to read back (a year of
/// a busy tenant is some 700,000 cells).
fn encode(figures: &Figures) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(figures).map_err(|e| StoreError::Corrupt(format!("insight cell: {e}")))
}

fn decode(bytes: &[u8]) -> Result<Figures, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Corrupt(format!("insight cell: {e}")))
}
