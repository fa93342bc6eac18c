//! The insight tables ([`crate::insights`]): a row per ticket, the cells rebuilt
//! from them per day and slice, and translation counts per day and language pair.
//!
//! A ticket's row is merged in SQL (earliest first sight, first reply, last solve,
//! a reopen when a customer writes after the last solve), so replicas recording
//! events of one ticket at once lose nothing. A day's cells are rebuilt whole from
//! its tickets in one transaction; on PostgreSQL under an advisory lock per tenant
//! and day, so the last rebuild reads every change committed before it.

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

    /// Rebuilds the cells of `day` from the tickets first seen that day.
    pub async fn rebuild_day(
        &self,
        tenant: &str,
        day: i64,
        aggregate: Aggregate,
    ) -> Result<(), StoreError> {
        dispatch!(self.rebuild_day(tenant, day, aggregate))
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

    /// Deletes the tickets of one customer (a GDPR erasure request) and rebuilds
    /// the days they counted in; returns how many tickets. Once the tickets are
    /// deleted the erasure is done (a day's figures hold counts, no customer):
    /// a day that cannot be rebuilt now is logged and keeps counting them until
    /// its next rebuild, and the erasure still answers, so that it is audited.
    ///
    /// In the same transaction, when the tenant is stored, it marks the
    /// customer and their tickets erased now, named by `marks`: facts of theirs
    /// that a replica gathered before that and writes after (its batch waits a
    /// second, longer while the store is down) are dropped, while those of
    /// their later messages count ([`TicketFacts::gathered_ms`]). Replicas'
    /// clocks are compared with the store's, so a skew between them moves that
    /// line by as much. On PostgreSQL the erasure first waits for the tenant's
    /// batches being written (which hold its row `FOR SHARE`, see
    /// `check_data_of`).
    pub async fn erase_customer(
        &self,
        tenant: &str,
        customer: &str,
        marks: &ErasureMarks,
        aggregate: Aggregate,
    ) -> Result<usize, StoreError> {
        let erased = dispatch!(self.erase_customer_tickets(tenant, customer, marks))?;
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

    /// Deletes every tenant's tickets, cells and translation counts of days
    /// before `before_day` (retention).
    pub async fn purge_insights(&self, before_day: i64) -> Result<(), StoreError> {
        dispatch!(self.purge_insights(before_day))
    }
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
