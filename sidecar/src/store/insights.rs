//! The insight tables ([`crate::insights`]): a row per ticket, the cells rebuilt
//! from them per day and slice, and translation counts per day and language pair.
//!
//! A ticket's row is merged in SQL (earliest first sight, first reply, last solve,
//! a reopen when a customer writes after the last solve), so replicas recording
//! events of one ticket at once lose nothing. A day's cells are rebuilt whole from
//! its tickets in one transaction; on PostgreSQL under an advisory lock per tenant
//! and day, so the last rebuild reads every change committed before it.

use std::collections::BTreeSet;

use rusqlite::params;

use super::postgres::PostgresStore;
use super::sqlite::SqliteStore;
use super::{Backend, Store, StoreError};
use crate::insights::figures::{Cell, DayCells, Figures, Histogram, HourCell, Slice, TicketRow};
use crate::insights::{TicketFacts, TranslationFact, day_of};

/// How a day's tickets become its cells.
pub type Aggregate = fn(i64, &[TicketRow]) -> DayCells;

impl Store {
    /// Merges what events said about their tickets; returns the days (of first
    /// sight) whose cells are now out of date.
    pub async fn record_tickets(
        &self,
        tenant: &str,
        facts: Vec<TicketFacts>,
    ) -> Result<BTreeSet<i64>, StoreError> {
        dispatch!(self.record_tickets(tenant, facts))
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

    /// Adds translated replies and corrections.
    pub async fn add_translations(
        &self,
        tenant: &str,
        facts: Vec<TranslationFact>,
    ) -> Result<(), StoreError> {
        dispatch!(self.add_translations(tenant, facts))
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
    /// the days they counted in; returns how many tickets.
    pub async fn erase_customer(
        &self,
        tenant: &str,
        customer: &str,
        aggregate: Aggregate,
    ) -> Result<usize, StoreError> {
        let tickets = self.customer_tickets(tenant, customer).await?;
        let days: BTreeSet<i64> = tickets.iter().map(|t| day_of(t.created_s)).collect();
        dispatch!(self.delete_customer_tickets(tenant, customer))?;
        for day in days {
            self.rebuild_day(tenant, day, aggregate).await?;
        }
        Ok(tickets.len())
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

/// The merge of a ticket's facts, in SQLite's dialect (`t` the row, `excluded`
/// the facts): first sight the earliest, first reply the earliest, last solve and
/// last customer message the latest, a reopen when a customer writes after the
/// last solve, the latest rating, and each slice field once known.
const SQLITE_MERGE: &str = "
INSERT INTO insight_tickets AS t (tenant, ticket, customer, created_s, first_reply_s,
    solved_s, last_customer_s, reopens, rating, rating_s, country, language, channel,
    category, grp, after_hours)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
ON CONFLICT (tenant, ticket) DO UPDATE SET
    after_hours = CASE WHEN excluded.first_reply_s IS NOT NULL
                        AND (t.first_reply_s IS NULL OR excluded.first_reply_s < t.first_reply_s)
                       THEN excluded.after_hours ELSE t.after_hours END,
    customer = CASE WHEN t.customer = '' THEN excluded.customer ELSE t.customer END,
    created_s = min(t.created_s, excluded.created_s),
    first_reply_s = CASE WHEN t.first_reply_s IS NULL THEN excluded.first_reply_s
                         WHEN excluded.first_reply_s IS NULL THEN t.first_reply_s
                         ELSE min(t.first_reply_s, excluded.first_reply_s) END,
    reopens = t.reopens + COALESCE(t.solved_s IS NOT NULL
                                   AND excluded.last_customer_s > t.solved_s, 0),
    solved_s = CASE WHEN excluded.solved_s IS NULL THEN t.solved_s
                    WHEN t.solved_s IS NULL THEN excluded.solved_s
                    ELSE max(t.solved_s, excluded.solved_s) END,
    last_customer_s = CASE WHEN excluded.last_customer_s IS NULL THEN t.last_customer_s
                           WHEN t.last_customer_s IS NULL THEN excluded.last_customer_s
                           ELSE max(t.last_customer_s, excluded.last_customer_s) END,
    rating = CASE WHEN excluded.rating IS NOT NULL
                   AND (t.rating_s IS NULL OR excluded.rating_s >= t.rating_s)
                  THEN excluded.rating ELSE t.rating END,
    rating_s = CASE WHEN excluded.rating IS NOT NULL
                     AND (t.rating_s IS NULL OR excluded.rating_s >= t.rating_s)
                    THEN excluded.rating_s ELSE t.rating_s END,
    country = CASE WHEN t.country = '' THEN excluded.country ELSE t.country END,
    language = CASE WHEN t.language = '' THEN excluded.language ELSE t.language END,
    channel = CASE WHEN t.channel = '' THEN excluded.channel ELSE t.channel END,
    category = CASE WHEN t.category = '' THEN excluded.category ELSE t.category END,
    grp = CASE WHEN t.grp = '' THEN excluded.grp ELSE t.grp END
RETURNING created_s";

/// The same merge in PostgreSQL's dialect.
const POSTGRES_MERGE: &str = "
INSERT INTO insight_tickets AS t (tenant, ticket, customer, created_s, first_reply_s,
    solved_s, last_customer_s, reopens, rating, rating_s, country, language, channel,
    category, grp, after_hours)
VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (tenant, ticket) DO UPDATE SET
    after_hours = CASE WHEN excluded.first_reply_s IS NOT NULL
                        AND (t.first_reply_s IS NULL OR excluded.first_reply_s < t.first_reply_s)
                       THEN excluded.after_hours ELSE t.after_hours END,
    customer = CASE WHEN t.customer = '' THEN excluded.customer ELSE t.customer END,
    created_s = LEAST(t.created_s, excluded.created_s),
    first_reply_s = LEAST(t.first_reply_s, excluded.first_reply_s),
    reopens = t.reopens + (CASE WHEN t.solved_s IS NOT NULL
                                 AND excluded.last_customer_s > t.solved_s
                                THEN 1 ELSE 0 END),
    solved_s = GREATEST(t.solved_s, excluded.solved_s),
    last_customer_s = GREATEST(t.last_customer_s, excluded.last_customer_s),
    rating = CASE WHEN excluded.rating IS NOT NULL
                   AND (t.rating_s IS NULL OR excluded.rating_s >= t.rating_s)
                  THEN excluded.rating ELSE t.rating END,
    rating_s = CASE WHEN excluded.rating IS NOT NULL
                     AND (t.rating_s IS NULL OR excluded.rating_s >= t.rating_s)
                    THEN excluded.rating_s ELSE t.rating_s END,
    country = CASE WHEN t.country = '' THEN excluded.country ELSE t.country END,
    language = CASE WHEN t.language = '' THEN excluded.language ELSE t.language END,
    channel = CASE WHEN t.channel = '' THEN excluded.channel ELSE t.channel END,
    category = CASE WHEN t.category = '' THEN excluded.category ELSE t.category END,
    grp = CASE WHEN t.grp = '' THEN excluded.grp ELSE t.grp END
RETURNING created_s";

/// The slice in the five columns from `first` on: country, language, channel,
/// category, group.
fn sqlite_slice(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Slice> {
    Ok(Slice {
        country: row.get(first)?,
        language: row.get(first.saturating_add(1))?,
        channel: row.get(first.saturating_add(2))?,
        category: row.get(first.saturating_add(3))?,
        group: row.get(first.saturating_add(4))?,
    })
}

/// [`sqlite_slice`] on PostgreSQL.
fn postgres_slice(row: &tokio_postgres::Row, first: usize) -> Result<Slice, StoreError> {
    Ok(Slice {
        country: row.try_get(first)?,
        language: row.try_get(first.saturating_add(1))?,
        channel: row.try_get(first.saturating_add(2))?,
        category: row.try_get(first.saturating_add(3))?,
        group: row.try_get(first.saturating_add(4))?,
    })
}

fn sqlite_ticket(row: &rusqlite::Row<'_>) -> rusqlite::Result<TicketRow> {
    Ok(TicketRow {
        ticket: row.get(0)?,
        customer: row.get(1)?,
        created_s: row.get(2)?,
        first_reply_s: row.get(3)?,
        solved_s: row.get(4)?,
        last_customer_s: row.get(5)?,
        reopens: to_u32(row.get(6)?),
        rating: row.get(7)?,
        after_hours: row.get(13)?,
        slice: sqlite_slice(row, 8)?,
    })
}

fn postgres_ticket(row: &tokio_postgres::Row) -> Result<TicketRow, StoreError> {
    Ok(TicketRow {
        ticket: row.try_get(0)?,
        customer: row.try_get(1)?,
        created_s: row.try_get(2)?,
        first_reply_s: row.try_get(3)?,
        solved_s: row.try_get(4)?,
        last_customer_s: row.try_get(5)?,
        reopens: to_u32(row.try_get::<_, i32>(6)?.into()),
        rating: row.try_get(7)?,
        after_hours: row.try_get(13)?,
        slice: postgres_slice(row, 8)?,
    })
}

impl SqliteStore {
    pub async fn insight_counts(
        &self,
        tenant: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<CellCount>, StoreError> {
        let tenant = tenant.to_owned();
        self.with_conn(move |c| {
            c.prepare_cached(
                "SELECT day, country, language, channel, category, grp, tickets
                 FROM insight_cells WHERE tenant = ?1 AND day >= ?2 AND day < ?3",
            )?
            .query_map(params![tenant, from_day, to_day], |row| {
                Ok(CellCount {
                    day: row.get(0)?,
                    slice: sqlite_slice(row, 1)?,
                    tickets: row.get::<_, i64>(6)?.unsigned_abs(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await
    }

    pub async fn insight_hours(
        &self,
        tenant: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<HourCell>, StoreError> {
        let tenant = tenant.to_owned();
        self.with_conn(move |c| {
            let rows = c
                .prepare_cached(
                    "SELECT day, language, hour, first_reply FROM insight_hours
                     WHERE tenant = ?1 AND day >= ?2 AND day < ?3",
                )?
                .query_map(params![tenant, from_day, to_day], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, Vec<u8>>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(day, language, hour, bytes)| {
                    Ok(HourCell {
                        day,
                        language,
                        hour: to_hour(hour),
                        first_reply: decode_histogram(&bytes)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await
    }

    pub async fn record_tickets(
        &self,
        tenant: &str,
        facts: Vec<TicketFacts>,
    ) -> Result<BTreeSet<i64>, StoreError> {
        let tenant = tenant.to_owned();
        self.with_conn(move |c| {
            let tx = c.transaction()?;
            let mut days = BTreeSet::new();
            {
                let mut merge = tx.prepare_cached(SQLITE_MERGE)?;
                for f in &facts {
                    let created: i64 = merge.query_row(
                        params![
                            tenant,
                            f.ticket,
                            f.customer,
                            f.seen_s,
                            f.replied_s,
                            f.solved_s,
                            f.customer_s,
                            f.rating,
                            f.rating.map(|_| f.seen_s),
                            f.slice.country,
                            f.slice.language,
                            f.slice.channel,
                            f.slice.category,
                            f.slice.group,
                            f.replied_after_hours
                        ],
                        |row| row.get(0),
                    )?;
                    days.insert(day_of(created));
                }
            }
            tx.commit()?;
            Ok::<_, StoreError>(days)
        })
        .await
    }

    pub async fn rebuild_day(
        &self,
        tenant: &str,
        day: i64,
        aggregate: Aggregate,
    ) -> Result<(), StoreError> {
        let tenant = tenant.to_owned();
        self.with_conn(move |c| {
            let tx = c.transaction()?;
            let from = day.saturating_mul(crate::insights::DAY_SECS);
            let to = from.saturating_add(crate::insights::DAY_SECS);
            let tickets = tx
                .prepare_cached(&format!(
                    "SELECT {TICKET_COLUMNS} FROM insight_tickets
                     WHERE tenant = ?1 AND created_s >= ?2 AND created_s < ?3"
                ))?
                .query_map(params![tenant, from, to], sqlite_ticket)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            tx.execute(
                "DELETE FROM insight_cells WHERE tenant = ?1 AND day = ?2",
                params![tenant, day],
            )?;
            tx.execute(
                "DELETE FROM insight_hours WHERE tenant = ?1 AND day = ?2",
                params![tenant, day],
            )?;
            let made = aggregate(day, &tickets);
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO insight_cells (tenant, day, country, language, channel,
                                                category, grp, tickets, figures)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?;
                for cell in &made.cells {
                    let s = &cell.slice;
                    insert.execute(params![
                        tenant,
                        day,
                        s.country,
                        s.language,
                        s.channel,
                        s.category,
                        s.group,
                        i64::try_from(cell.figures.tickets).unwrap_or(i64::MAX),
                        encode(&cell.figures)?
                    ])?;
                }
                let mut insert = tx.prepare_cached(
                    "INSERT INTO insight_hours (tenant, day, language, hour, first_reply)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for hour in &made.hours {
                    insert.execute(params![
                        tenant,
                        day,
                        hour.language,
                        hour.hour,
                        encode_histogram(&hour.first_reply)?
                    ])?;
                }
            }
            tx.commit()?;
            Ok::<_, StoreError>(())
        })
        .await
    }

    pub async fn insight_cells(
        &self,
        tenant: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<Cell>, StoreError> {
        let tenant = tenant.to_owned();
        self.with_conn(move |c| {
            let rows = c
                .prepare_cached(
                    "SELECT day, country, language, channel, category, grp, figures
                     FROM insight_cells WHERE tenant = ?1 AND day >= ?2 AND day < ?3
                     ORDER BY day",
                )?
                .query_map(params![tenant, from_day, to_day], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        sqlite_slice(row, 1)?,
                        row.get::<_, Vec<u8>>(6)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(day, slice, figures)| {
                    Ok(Cell {
                        day,
                        slice,
                        figures: decode(&figures)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await
    }

    pub async fn add_translations(
        &self,
        tenant: &str,
        facts: Vec<TranslationFact>,
    ) -> Result<(), StoreError> {
        let tenant = tenant.to_owned();
        self.with_conn(move |c| {
            let tx = c.transaction()?;
            {
                let mut add = tx.prepare_cached(
                    "INSERT INTO insight_translation AS t
                         (tenant, day, source, target, translated, corrected)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (tenant, day, source, target) DO UPDATE SET
                         translated = t.translated + excluded.translated,
                         corrected = t.corrected + excluded.corrected",
                )?;
                for f in &facts {
                    add.execute(params![
                        tenant,
                        f.day,
                        f.source,
                        f.target,
                        i64::try_from(f.translated).unwrap_or(i64::MAX),
                        i64::try_from(f.corrected).unwrap_or(i64::MAX)
                    ])?;
                }
            }
            tx.commit()
        })
        .await
    }

    pub async fn translations(
        &self,
        tenant: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<TranslationFact>, StoreError> {
        let tenant = tenant.to_owned();
        self.with_conn(move |c| {
            c.prepare_cached(
                "SELECT day, source, target, translated, corrected FROM insight_translation
                 WHERE tenant = ?1 AND day >= ?2 AND day < ?3 ORDER BY day, source, target",
            )?
            .query_map(params![tenant, from_day, to_day], |row| {
                Ok(TranslationFact {
                    day: row.get(0)?,
                    source: row.get(1)?,
                    target: row.get(2)?,
                    translated: row.get::<_, i64>(3)?.unsigned_abs(),
                    corrected: row.get::<_, i64>(4)?.unsigned_abs(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await
    }

    pub async fn customer_tickets(
        &self,
        tenant: &str,
        customer: &str,
    ) -> Result<Vec<TicketRow>, StoreError> {
        let (tenant, customer) = (tenant.to_owned(), customer.to_owned());
        self.with_conn(move |c| {
            c.prepare_cached(&format!(
                "SELECT {TICKET_COLUMNS} FROM insight_tickets
                 WHERE tenant = ?1 AND customer = ?2 ORDER BY created_s, ticket"
            ))?
            .query_map(params![tenant, customer], sqlite_ticket)?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await
    }

    pub async fn delete_customer_tickets(
        &self,
        tenant: &str,
        customer: &str,
    ) -> Result<(), StoreError> {
        let (tenant, customer) = (tenant.to_owned(), customer.to_owned());
        self.with_conn(move |c| {
            c.execute(
                "DELETE FROM insight_tickets WHERE tenant = ?1 AND customer = ?2",
                params![tenant, customer],
            )
            .map(drop)
        })
        .await
    }

    pub async fn purge_insights(&self, before_day: i64) -> Result<(), StoreError> {
        self.with_conn(move |c| {
            let tx = c.transaction()?;
            let before_s = before_day.saturating_mul(crate::insights::DAY_SECS);
            tx.execute(
                "DELETE FROM insight_tickets WHERE created_s < ?1",
                params![before_s],
            )?;
            tx.execute(
                "DELETE FROM insight_cells WHERE day < ?1",
                params![before_day],
            )?;
            tx.execute(
                "DELETE FROM insight_translation WHERE day < ?1",
                params![before_day],
            )?;
            tx.execute(
                "DELETE FROM insight_hours WHERE day < ?1",
                params![before_day],
            )?;
            tx.commit()
        })
        .await
    }
}

/// The advisory lock of one tenant's day: rebuilds of it run one at a time.
const REBUILD_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, $2))";

impl PostgresStore {
    pub async fn insight_counts(
        &self,
        tenant: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<CellCount>, StoreError> {
        let c = self.pool.get().await?;
        c.query(
            "SELECT day, country, language, channel, category, grp, tickets
             FROM insight_cells WHERE tenant = $1 AND day >= $2 AND day < $3",
            &[&tenant, &from_day, &to_day],
        )
        .await?
        .iter()
        .map(|row| {
            Ok(CellCount {
                day: row.try_get(0)?,
                slice: postgres_slice(row, 1)?,
                tickets: row.try_get::<_, i64>(6)?.unsigned_abs(),
            })
        })
        .collect()
    }

    pub async fn insight_hours(
        &self,
        tenant: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<HourCell>, StoreError> {
        let c = self.pool.get().await?;
        c.query(
            "SELECT day, language, hour, first_reply FROM insight_hours
             WHERE tenant = $1 AND day >= $2 AND day < $3",
            &[&tenant, &from_day, &to_day],
        )
        .await?
        .iter()
        .map(|row| {
            Ok(HourCell {
                day: row.try_get(0)?,
                language: row.try_get(1)?,
                hour: to_hour(row.try_get::<_, i32>(2)?.into()),
                first_reply: decode_histogram(row.try_get(3)?)?,
            })
        })
        .collect()
    }

    pub async fn record_tickets(
        &self,
        tenant: &str,
        facts: Vec<TicketFacts>,
    ) -> Result<BTreeSet<i64>, StoreError> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let merge = tx.prepare_cached(POSTGRES_MERGE).await?;
        let mut days = BTreeSet::new();
        for f in &facts {
            let rating_s = f.rating.map(|_| f.seen_s);
            let created: i64 = tx
                .query_one(
                    &merge,
                    &[
                        &tenant,
                        &f.ticket,
                        &f.customer,
                        &f.seen_s,
                        &f.replied_s,
                        &f.solved_s,
                        &f.customer_s,
                        &f.rating,
                        &rating_s,
                        &f.slice.country,
                        &f.slice.language,
                        &f.slice.channel,
                        &f.slice.category,
                        &f.slice.group,
                        &f.replied_after_hours,
                    ],
                )
                .await?
                .try_get(0)?;
            days.insert(day_of(created));
        }
        tx.commit().await?;
        Ok(days)
    }

    pub async fn rebuild_day(
        &self,
        tenant: &str,
        day: i64,
        aggregate: Aggregate,
    ) -> Result<(), StoreError> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        tx.execute(REBUILD_LOCK, &[&tenant, &day]).await?;
        let from = day.saturating_mul(crate::insights::DAY_SECS);
        let to = from.saturating_add(crate::insights::DAY_SECS);
        let tickets = tx
            .query(
                &format!(
                    "SELECT {TICKET_COLUMNS} FROM insight_tickets
                     WHERE tenant = $1 AND created_s >= $2 AND created_s < $3"
                ),
                &[&tenant, &from, &to],
            )
            .await?
            .iter()
            .map(postgres_ticket)
            .collect::<Result<Vec<_>, _>>()?;
        tx.execute(
            "DELETE FROM insight_cells WHERE tenant = $1 AND day = $2",
            &[&tenant, &day],
        )
        .await?;
        tx.execute(
            "DELETE FROM insight_hours WHERE tenant = $1 AND day = $2",
            &[&tenant, &day],
        )
        .await?;
        let made = aggregate(day, &tickets);
        let insert = tx
            .prepare_cached(
                "INSERT INTO insight_cells (tenant, day, country, language, channel,
                                            category, grp, tickets, figures)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .await?;
        for cell in &made.cells {
            let s = &cell.slice;
            let figures = encode(&cell.figures)?;
            let tickets = i64::try_from(cell.figures.tickets).unwrap_or(i64::MAX);
            tx.execute(
                &insert,
                &[
                    &tenant,
                    &day,
                    &s.country,
                    &s.language,
                    &s.channel,
                    &s.category,
                    &s.group,
                    &tickets,
                    &figures,
                ],
            )
            .await?;
        }
        let insert = tx
            .prepare_cached(
                "INSERT INTO insight_hours (tenant, day, language, hour, first_reply)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .await?;
        for hour in &made.hours {
            let first_reply = encode_histogram(&hour.first_reply)?;
            let h = i32::from(hour.hour);
            tx.execute(&insert, &[&tenant, &day, &hour.language, &h, &first_reply])
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn insight_cells(
        &self,
        tenant: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<Cell>, StoreError> {
        let c = self.pool.get().await?;
        c.query(
            "SELECT day, country, language, channel, category, grp, figures
             FROM insight_cells WHERE tenant = $1 AND day >= $2 AND day < $3 ORDER BY day",
            &[&tenant, &from_day, &to_day],
        )
        .await?
        .iter()
        .map(|row| {
            Ok(Cell {
                day: row.try_get(0)?,
                slice: postgres_slice(row, 1)?,
                figures: decode(row.try_get(6)?)?,
            })
        })
        .collect()
    }

    pub async fn add_translations(
        &self,
        tenant: &str,
        facts: Vec<TranslationFact>,
    ) -> Result<(), StoreError> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let add = tx
            .prepare_cached(
                "INSERT INTO insight_translation AS t
                     (tenant, day, source, target, translated, corrected)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (tenant, day, source, target) DO UPDATE SET
                     translated = t.translated + excluded.translated,
                     corrected = t.corrected + excluded.corrected",
            )
            .await?;
        for f in &facts {
            let translated = i64::try_from(f.translated).unwrap_or(i64::MAX);
            let corrected = i64::try_from(f.corrected).unwrap_or(i64::MAX);
            tx.execute(
                &add,
                &[
                    &tenant,
                    &f.day,
                    &f.source,
                    &f.target,
                    &translated,
                    &corrected,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn translations(
        &self,
        tenant: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<TranslationFact>, StoreError> {
        let c = self.pool.get().await?;
        c.query(
            "SELECT day, source, target, translated, corrected FROM insight_translation
             WHERE tenant = $1 AND day >= $2 AND day < $3 ORDER BY day, source, target",
            &[&tenant, &from_day, &to_day],
        )
        .await?
        .iter()
        .map(|row| {
            Ok(TranslationFact {
                day: row.try_get(0)?,
                source: row.try_get(1)?,
                target: row.try_get(2)?,
                translated: row.try_get::<_, i64>(3)?.unsigned_abs(),
                corrected: row.try_get::<_, i64>(4)?.unsigned_abs(),
            })
        })
        .collect()
    }

    pub async fn customer_tickets(
        &self,
        tenant: &str,
        customer: &str,
    ) -> Result<Vec<TicketRow>, StoreError> {
        let c = self.pool.get().await?;
        c.query(
            &format!(
                "SELECT {TICKET_COLUMNS} FROM insight_tickets
                 WHERE tenant = $1 AND customer = $2 ORDER BY created_s, ticket"
            ),
            &[&tenant, &customer],
        )
        .await?
        .iter()
        .map(postgres_ticket)
        .collect()
    }

    pub async fn delete_customer_tickets(
        &self,
        tenant: &str,
        customer: &str,
    ) -> Result<(), StoreError> {
        let c = self.pool.get().await?;
        c.execute(
            "DELETE FROM insight_tickets WHERE tenant = $1 AND customer = $2",
            &[&tenant, &customer],
        )
        .await?;
        Ok(())
    }

    pub async fn purge_insights(&self, before_day: i64) -> Result<(), StoreError> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let before_s = before_day.saturating_mul(crate::insights::DAY_SECS);
        tx.execute(
            "DELETE FROM insight_tickets WHERE created_s < $1",
            &[&before_s],
        )
        .await?;
        tx.execute("DELETE FROM insight_cells WHERE day < $1", &[&before_day])
            .await?;
        tx.execute(
            "DELETE FROM insight_translation WHERE day < $1",
            &[&before_day],
        )
        .await?;
        tx.execute("DELETE FROM insight_hours WHERE day < $1", &[&before_day])
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
