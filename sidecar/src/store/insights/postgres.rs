//! The insight tables on PostgreSQL.

use std::collections::{BTreeSet, HashMap};

use super::{
    Aggregate, CellCount, ErasureAudit, ErasureMarks, MARK_STALE, NEXT_INSIGHT_TENANT,
    PURGE_TENANT, STALE_DAYS, STALE_GENERATION, TICKET_COLUMNS, UNMARK_STALE, decode,
    decode_histogram, encode, encode_histogram, erased_since, marks_of, marks_of_fact, to_hour,
    to_u32,
};
use crate::insights::figures::{Cell, HourCell, Slice, TicketRow};
use crate::insights::{TicketFacts, TranslationFact, day_of};
use crate::store::postgres::{PostgresStore, check_data_of, data_transaction, insert_audit};
use crate::store::{DataOf, StoreError};

/// The merge of a ticket's facts (see `sqlite.rs`) in PostgreSQL's dialect.
/// Answers the ticket's creation time before the merge too (`merged_from_s`): a
/// ticket that moves to an earlier day leaves its old day's figures stale. It is
/// taken from the row the update locked, not read before the statement: when
/// another replica inserts the ticket meanwhile, its row is not in this
/// statement's snapshot, but the update waits for it and merges into it.
const POSTGRES_MERGE: &str = "
INSERT INTO insight_tickets AS t (tenant, ticket, customer, created_s, first_reply_s,
    solved_s, last_customer_s, reopens, rating, rating_s, country, language, channel,
    category, grp, after_hours, first_solved_s, merged_from_s)
VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10, $11, $12, $13, $14, $15, $6, NULL)
ON CONFLICT (tenant, ticket) DO UPDATE SET
    merged_from_s = t.created_s,
    after_hours = CASE WHEN excluded.first_reply_s IS NOT NULL
                        AND (t.first_reply_s IS NULL OR excluded.first_reply_s < t.first_reply_s)
                       THEN excluded.after_hours ELSE t.after_hours END,
    customer = CASE WHEN t.customer = '' THEN excluded.customer ELSE t.customer END,
    created_s = LEAST(t.created_s, excluded.created_s),
    first_reply_s = LEAST(t.first_reply_s, excluded.first_reply_s),
    reopens = GREATEST(t.reopens + (CASE WHEN t.solved_s IS NOT NULL
                                         AND excluded.last_customer_s > t.solved_s
                                         AND (t.last_customer_s IS NULL
                                              OR t.last_customer_s <= t.solved_s)
                                        THEN 1 ELSE 0 END),
                       CASE WHEN GREATEST(t.last_customer_s, excluded.last_customer_s)
                                 > LEAST(t.first_solved_s, t.solved_s, excluded.solved_s)
                            THEN 1 ELSE 0 END),
    first_solved_s = LEAST(t.first_solved_s, t.solved_s, excluded.solved_s),
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
RETURNING created_s, merged_from_s";

/// The slice in the five columns from `first` on: country, language, channel,
/// category, group.
fn postgres_slice(row: &tokio_postgres::Row, first: usize) -> Result<Slice, StoreError> {
    Ok(Slice {
        country: row.try_get(first)?,
        language: row.try_get(first.saturating_add(1))?,
        channel: row.try_get(first.saturating_add(2))?,
        category: row.try_get(first.saturating_add(3))?,
        group: row.try_get(first.saturating_add(4))?,
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
        of: &DataOf,
        facts: Vec<TicketFacts>,
        marks: Option<&ErasureMarks>,
    ) -> Result<BTreeSet<i64>, StoreError> {
        let tenant = of.tenant.as_str();
        let mut c = self.pool.get().await?;
        let tx = data_transaction(&mut c).await?;
        check_data_of(&tx, of).await?;
        // Most tenants never erase anyone: their facts need no marks.
        let erased_someone = match marks {
            Some(_) => tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM insight_erasures WHERE tenant = $1)",
                    &[&tenant],
                )
                .await?
                .try_get::<_, bool>(0)?,
            None => false,
        };
        let fact_marks: Vec<[Option<String>; 2]> = match marks.filter(|_| erased_someone) {
            Some(marks) => facts
                .iter()
                .map(|f| marks_of_fact(marks, tenant, f))
                .collect(),
            None => Vec::new(),
        };
        let asked: Vec<&str> = fact_marks
            .iter()
            .flatten()
            .flatten()
            .map(String::as_str)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let erased: HashMap<String, i64> = if asked.is_empty() {
            HashMap::new()
        } else {
            tx.query(
                "SELECT mark, erased_ms FROM insight_erasures WHERE tenant = $1 AND mark = ANY($2)",
                &[&tenant, &asked],
            )
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, StoreError>>()?
        };
        let merge = tx.prepare_cached(POSTGRES_MERGE).await?;
        let mut days = BTreeSet::new();
        for (i, f) in facts.iter().enumerate() {
            let marked = fact_marks
                .get(i)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|mark| erased.get(mark).copied())
                .max();
            if erased_since(marked, f) {
                continue;
            }
            let rating_s = f.rating.map(|_| f.seen_s);
            let merged = tx
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
                .await?;
            let created: i64 = merged.try_get(0)?;
            let before: Option<i64> = merged.try_get(1)?;
            days.insert(day_of(created));
            days.extend(before.map(day_of));
        }
        mark_stale(&tx, tenant, &days, self.clock.now_ms()).await?;
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
        let tx = data_transaction(&mut c).await?;
        // As a batch of facts: a deletion of the tenant comes wholly before this
        // (which then finds no tickets) or after (and deletes the cells).
        tx.execute("SELECT 1 FROM tenants WHERE id = $1 FOR SHARE", &[&tenant])
            .await?;
        tx.execute(REBUILD_LOCK, &[&tenant, &day]).await?;
        let generation: Option<i64> = tx
            .query_opt(STALE_GENERATION, &[&tenant, &day])
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
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
        // Read committed: a mark counted up by facts committed since the read
        // above is not the one read, and stays.
        if let Some(generation) = generation {
            tx.execute(UNMARK_STALE, &[&tenant, &day, &generation])
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
        of: &DataOf,
        facts: Vec<TranslationFact>,
    ) -> Result<(), StoreError> {
        let tenant = of.tenant.as_str();
        let mut c = self.pool.get().await?;
        let tx = data_transaction(&mut c).await?;
        check_data_of(&tx, of).await?;
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

    /// Deletes the customer's tickets, answering each one's id and creation
    /// time, and marks them and the customer erased now (the database's
    /// clock) when the tenant is stored. First takes the tenant's row: a batch
    /// of its facts being written holds it `FOR SHARE` (`check_data_of`), so
    /// this waits for it to commit and then deletes what it wrote, and the next
    /// batch waits for this and sees the marks.
    pub async fn erase_customer_tickets(
        &self,
        tenant: &str,
        customer: &str,
        marks: &ErasureMarks,
        audit: &ErasureAudit,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut c = self.pool.get().await?;
        let tx = data_transaction(&mut c).await?;
        let stored = tx
            .execute("SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE", &[&tenant])
            .await?
            > 0;
        let erased = tx
            .query(
                "DELETE FROM insight_tickets WHERE tenant = $1 AND customer = $2
                 RETURNING ticket, created_s",
                &[&tenant, &customer],
            )
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<Vec<(String, i64)>, StoreError>>()?;
        if stored {
            tx.execute(
                "INSERT INTO insight_erasures (tenant, mark, erased_ms)
                 SELECT $1, mark, (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT
                 FROM unnest($2::TEXT[]) AS mark
                 ON CONFLICT (tenant, mark) DO UPDATE SET erased_ms = excluded.erased_ms",
                &[&tenant, &marks_of(marks, tenant, customer, &erased)],
            )
            .await?;
        }
        let days: BTreeSet<i64> = erased.iter().map(|&(_, at)| day_of(at)).collect();
        mark_stale(&tx, tenant, &days, self.clock.now_ms()).await?;
        insert_audit(&tx, &audit.entry(tenant, erased.len())).await?;
        tx.commit().await?;
        Ok(erased)
    }

    pub async fn stale_insight_days(
        &self,
        marked_ms: i64,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let c = self.pool.get().await?;
        c.query(STALE_DAYS, &[&marked_ms, &limit])
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    pub async fn next_insight_tenant(&self, after: &str) -> Result<Option<String>, StoreError> {
        let c = self.pool.get().await?;
        Ok(c.query_one(NEXT_INSIGHT_TENANT, &[&after])
            .await?
            .try_get(0)?)
    }

    pub async fn purge_tenant_insights(
        &self,
        tenant: &str,
        before_day: i64,
    ) -> Result<(), StoreError> {
        let mut c = self.pool.get().await?;
        let tx = data_transaction(&mut c).await?;
        for (sql, bound) in PURGE_TENANT {
            tx.execute(sql, &[&tenant, &bound.of(before_day)]).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Marks `days` of the tenant stale (see `Store::rebuild_day`) `now`, in
/// ascending order, so that two transactions marking the same days lock them
/// alike.
async fn mark_stale(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: &str,
    days: &BTreeSet<i64>,
    now: i64,
) -> Result<(), StoreError> {
    let mark = tx.prepare_cached(MARK_STALE).await?;
    for day in days {
        tx.execute(&mark, &[&tenant, day, &now]).await?;
    }
    Ok(())
}
