//! The insight tables on SQLite.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{
    Aggregate, CellCount, ErasureAudit, ErasureMarks, MARK_STALE, NEXT_INSIGHT_TENANT,
    PURGE_TENANT, STALE_DAYS, STALE_GENERATION, TICKET_COLUMNS, UNMARK_STALE, decode,
    decode_histogram, encode, encode_histogram, erased_since, for_sqlite, marks_of, marks_of_fact,
    to_hour, to_u32,
};
use crate::insights::figures::{Cell, HourCell, Slice, TicketRow};
use crate::insights::{TicketFacts, TranslationFact, day_of};
use crate::store::sqlite::{SqliteStore, check_data_of, insert_audit};
use crate::store::{DataOf, StoreError};

/// The merge of a ticket's facts, in SQLite's dialect (`t` the row, `excluded`
/// the facts): first sight the earliest, first reply the earliest, first solve the
/// earliest, last solve and last customer message the latest, a reopen when a
/// customer writes after the last solve, the latest rating, and each slice field
/// once known. However the facts come (two replicas' batches cross), a ticket
/// whose last customer message is later than its first solve counts at least one
/// reopen. Rows from before `first_solved_s` take their last solve for it.
const SQLITE_MERGE: &str = "
INSERT INTO insight_tickets AS t (tenant, ticket, customer, created_s, first_reply_s,
    solved_s, last_customer_s, reopens, rating, rating_s, country, language, channel,
    category, grp, after_hours, first_solved_s)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?6)
ON CONFLICT (tenant, ticket) DO UPDATE SET
    after_hours = CASE WHEN excluded.first_reply_s IS NOT NULL
                        AND (t.first_reply_s IS NULL OR excluded.first_reply_s < t.first_reply_s)
                       THEN excluded.after_hours ELSE t.after_hours END,
    customer = CASE WHEN t.customer = '' THEN excluded.customer ELSE t.customer END,
    created_s = min(t.created_s, excluded.created_s),
    first_reply_s = CASE WHEN t.first_reply_s IS NULL THEN excluded.first_reply_s
                         WHEN excluded.first_reply_s IS NULL THEN t.first_reply_s
                         ELSE min(t.first_reply_s, excluded.first_reply_s) END,
    reopens = max(t.reopens + COALESCE(t.solved_s IS NOT NULL
                                       AND excluded.last_customer_s > t.solved_s
                                       AND (t.last_customer_s IS NULL
                                            OR t.last_customer_s <= t.solved_s), 0),
                  COALESCE(max(COALESCE(t.last_customer_s, excluded.last_customer_s),
                               COALESCE(excluded.last_customer_s, t.last_customer_s))
                           > min(COALESCE(t.first_solved_s, t.solved_s, excluded.solved_s),
                                 COALESCE(excluded.solved_s, t.first_solved_s, t.solved_s)),
                           0)),
    first_solved_s = min(COALESCE(t.first_solved_s, t.solved_s, excluded.solved_s),
                         COALESCE(excluded.solved_s, t.first_solved_s, t.solved_s)),
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
        of: &DataOf,
        facts: Vec<TicketFacts>,
        marks: Option<&ErasureMarks>,
    ) -> Result<BTreeSet<i64>, StoreError> {
        let (of, marks) = (of.clone(), marks.cloned());
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            check_data_of(&tx, &of)?;
            let tenant = of.tenant.as_str();
            let mut days = BTreeSet::new();
            // Most tenants never erase anyone: their facts need no marks.
            let marks = match marks {
                Some(marks) if tenant_erased_someone(&tx, tenant)? => Some(marks),
                _ => None,
            };
            {
                let mut created_before = tx.prepare_cached(
                    "SELECT created_s FROM insight_tickets WHERE tenant = ?1 AND ticket = ?2",
                )?;
                let mut merge = tx.prepare_cached(SQLITE_MERGE)?;
                let mut erased_at = tx.prepare_cached(
                    "SELECT erased_ms FROM insight_erasures WHERE tenant = ?1 AND mark = ?2",
                )?;
                for f in &facts {
                    if let Some(marks) = &marks {
                        let mut marked = None;
                        for mark in marks_of_fact(marks, tenant, f).into_iter().flatten() {
                            let erased: Option<i64> = erased_at
                                .query_row(params![tenant, mark], |row| row.get(0))
                                .optional()?;
                            marked = marked.max(erased);
                        }
                        if erased_since(marked, f) {
                            continue;
                        }
                    }
                    // A ticket that moves to an earlier day leaves its old day's
                    // figures stale too.
                    let before: Option<i64> = created_before
                        .query_row(params![tenant, f.ticket], |row| row.get(0))
                        .optional()?;
                    days.extend(before.map(day_of));
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
            mark_stale(&tx, tenant, &days)?;
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
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let generation: Option<i64> = tx
                .prepare_cached(&for_sqlite(STALE_GENERATION))?
                .query_row(params![tenant, day], |row| row.get(0))
                .optional()?;
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
            if let Some(generation) = generation {
                tx.prepare_cached(&for_sqlite(UNMARK_STALE))?
                    .execute(params![tenant, day, generation])?;
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
        of: &DataOf,
        facts: Vec<TranslationFact>,
    ) -> Result<(), StoreError> {
        let of = of.clone();
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            check_data_of(&tx, &of)?;
            let tenant = of.tenant.as_str();
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
            tx.commit()?;
            Ok::<_, StoreError>(())
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

    /// Deletes the customer's tickets, answering each one's id and creation
    /// time, and marks them and the customer erased now when the tenant is
    /// stored (a mark of no tenant would outlive its purpose). Facts are
    /// written on the same one connection: no batch comes between.
    pub async fn erase_customer_tickets(
        &self,
        tenant: &str,
        customer: &str,
        marks: &ErasureMarks,
        audit: &ErasureAudit,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let (tenant, customer, marks) = (tenant.to_owned(), customer.to_owned(), marks.clone());
        let audit = audit.clone();
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let stored = tx
                .query_row(
                    "SELECT 1 FROM tenants WHERE id = ?1",
                    params![tenant],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            let erased = tx
                .prepare(
                    "DELETE FROM insight_tickets WHERE tenant = ?1 AND customer = ?2
                     RETURNING ticket, created_s",
                )?
                .query_map(params![tenant, customer], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?
                .collect::<rusqlite::Result<Vec<(String, i64)>>>()?;
            if stored {
                let mut mark = tx.prepare(
                    "INSERT INTO insight_erasures (tenant, mark, erased_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (tenant, mark) DO UPDATE SET erased_ms = excluded.erased_ms",
                )?;
                let now = crate::store::now_ms();
                for erasure in marks_of(&marks, &tenant, &customer, &erased) {
                    mark.execute(params![tenant, erasure, now])?;
                }
            }
            let days: BTreeSet<i64> = erased.iter().map(|&(_, at)| day_of(at)).collect();
            mark_stale(&tx, &tenant, &days)?;
            insert_audit(&tx, &audit.entry(&tenant, erased.len()))?;
            tx.commit()?;
            Ok::<_, StoreError>(erased)
        })
        .await
    }

    pub async fn stale_insight_days(
        &self,
        marked_ms: i64,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        self.with_conn(move |c| {
            c.prepare_cached(&for_sqlite(STALE_DAYS))?
                .query_map(params![marked_ms, limit], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await
    }

    pub async fn next_insight_tenant(&self, after: &str) -> Result<Option<String>, StoreError> {
        let after = after.to_owned();
        self.with_conn(move |c| {
            c.prepare_cached(&for_sqlite(NEXT_INSIGHT_TENANT))?
                .query_row(params![after], |row| row.get(0))
        })
        .await
    }

    pub async fn purge_tenant_insights(
        &self,
        tenant: &str,
        before_day: i64,
    ) -> Result<(), StoreError> {
        let tenant = tenant.to_owned();
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (sql, bound) in PURGE_TENANT {
                tx.prepare_cached(&for_sqlite(sql))?
                    .execute(params![tenant, bound.of(before_day)])?;
            }
            tx.commit()
        })
        .await
    }
}

/// Marks `days` of the tenant stale (see `Store::rebuild_day`).
fn mark_stale(
    tx: &rusqlite::Connection,
    tenant: &str,
    days: &BTreeSet<i64>,
) -> rusqlite::Result<()> {
    let now = crate::store::now_ms();
    let mut mark = tx.prepare_cached(&for_sqlite(MARK_STALE))?;
    for day in days {
        mark.execute(params![tenant, day, now])?;
    }
    Ok(())
}

/// Whether the tenant has marked any erasure (see `Store::erase_customer`).
fn tenant_erased_someone(tx: &rusqlite::Connection, tenant: &str) -> rusqlite::Result<bool> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM insight_erasures WHERE tenant = ?1)",
        params![tenant],
        |row| row.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The retention purge reads each table's key or index, tenant first, and
    /// scans none: it runs beside the events' writes on a store of years.
    #[tokio::test]
    async fn the_purge_searches_keys_and_scans_no_table() {
        let dir = tempfile::tempdir().expect("temp dir");
        crate::store::Store::connect(None, None, dir.path())
            .await
            .expect("store");
        let c = rusqlite::Connection::open(dir.path().join("crossdesk.db")).expect("open");
        let statements = PURGE_TENANT
            .iter()
            .map(|(sql, _)| *sql)
            .chain([NEXT_INSIGHT_TENANT]);
        for sql in statements {
            let mut explain = c
                .prepare(&format!("EXPLAIN QUERY PLAN {}", for_sqlite(sql)))
                .expect("plan");
            let args: Vec<rusqlite::types::Value> = vec!["acme".to_owned().into(), 1_i64.into()];
            let count = explain.parameter_count();
            let plan: Vec<String> = explain
                .query_map(
                    rusqlite::params_from_iter(args.into_iter().take(count)),
                    |row| row.get(3),
                )
                .expect("plan")
                .collect::<rusqlite::Result<_>>()
                .expect("plan");
            assert!(
                plan.iter().all(|step| !step.starts_with("SCAN insight_")),
                "{sql}: {plan:?}"
            );
            assert!(
                plan.iter().any(|step| step.starts_with("SEARCH")),
                "{sql}: {plan:?}"
            );
        }
    }
}
