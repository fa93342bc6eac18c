//! How long a report takes against the history it covers: a busy tenant's
//! tickets (`TICKETS_PER_DAY`, about four events each: some 10 million events a
//! year) recorded through the store's real path (ticket merge, then each day's
//! cells rebuilt), for one month, three and twelve; then the median of
//! `RUNS` reports of the last week by language and of the whole history by
//! country, channel and category, on the embedded SQLite store.

use std::time::Instant;

use anyhow::Result;
use crossdesk_sidecar::insights::figures::{Slice, cells_of};
use crossdesk_sidecar::insights::report::Dimension;
use crossdesk_sidecar::insights::{self, TicketFacts};
use crossdesk_sidecar::store::Store;

use super::{Figure, figure};

/// A busy tenant: 7,000 tickets a day, ~2.5 million a year.
const TICKETS_PER_DAY: u64 = 7_000;
const RUNS: usize = 5;
/// Slices' values: their combinations give a day about 2,000 cells.
const COUNTRIES: [&str; 8] = ["MX", "ES", "DE", "JP", "BR", "FR", "US", "KR"];
const CHANNELS: [&str; 4] = ["email", "whatsapp", "web-chat", "phone"];
const CATEGORIES: [&str; 13] = [
    "", "shipping", "returns", "billing", "sizing", "warranty", "login", "payment", "delivery",
    "refund", "exchange", "promo", "other",
];
const GROUPS: [&str; 5] = ["latam", "emea", "apac", "vip", "tier2"];

/// The tickets of `day`, from a fixed seed.
fn tickets_of(day: i64, random: &mut u64) -> Vec<TicketFacts> {
    let mut next = || {
        *random ^= *random << 13;
        *random ^= *random >> 7;
        *random ^= *random << 17;
        *random
    };
    (0..TICKETS_PER_DAY)
        .map(|n| {
            let r = next();
            let seen = day * 86_400 + (r % 86_000) as i64;
            let country = (r >> 8) as usize % COUNTRIES.len();
            TicketFacts {
                ticket: format!("{day}-{n}"),
                customer: format!("c{}", (r >> 20) % 100_000),
                seen_s: seen,
                replied_s: Some(seen + 60 + ((r >> 30) % 20_000) as i64),
                replied_after_hours: Some((r >> 50) % 4 == 0),
                solved_s: ((r >> 40) % 4 != 0).then_some(seen + 30_000),
                customer_s: Some(seen),
                rating: ((r >> 44) % 3 == 0).then_some(((r >> 46) % 5 + 1) as f64 / 5.0),
                slice: Slice {
                    country: COUNTRIES[country].into(),
                    language: COUNTRIES[country].to_ascii_lowercase(),
                    channel: CHANNELS[(r >> 12) as usize % CHANNELS.len()].into(),
                    category: CATEGORIES[(r >> 16) as usize % CATEGORIES.len()].into(),
                    group: GROUPS[(r >> 24) as usize % GROUPS.len()].into(),
                },
                ..TicketFacts::default()
            }
        })
        .collect()
}

/// Records `days` more days of history (after `from_day`) the way the sidecar does.
async fn record(store: &Store, from_day: i64, days: i64, random: &mut u64) -> Result<()> {
    for day in from_day..from_day + days {
        store
            .record_tickets(
                &crossdesk_sidecar::store::DataOf::tenant("busy"),
                tickets_of(day, random),
                None,
            )
            .await?;
        store.rebuild_day("busy", day, cells_of).await?;
    }
    Ok(())
}

/// The median of `RUNS` reports, in milliseconds.
async fn median_ms(store: &Store, since: i64, until: i64, by: &[Dimension]) -> Result<f64> {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let report = insights::report(store, "busy", since, until, by.to_vec(), ()).await?;
        times.push(started.elapsed().as_secs_f64() * 1_000.0);
        std::hint::black_box(report);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[RUNS / 2])
}

pub(super) async fn figures(dir: &std::path::Path, figures: &mut Vec<Figure>) -> Result<()> {
    let store = Store::open(dir)?;
    let first_day = 20_000;
    let mut random = 0x2026_1205_u64;
    let mut recorded = 0;
    for months in [1, 3, 12] {
        let days = months * 365 / 12;
        let started = Instant::now();
        record(&store, first_day + recorded, days - recorded, &mut random).await?;
        let per_day = started.elapsed().as_secs_f64() * 1_000.0 / (days - recorded) as f64;
        recorded = days;
        let until = first_day + days;
        let tickets = TICKETS_PER_DAY * days.unsigned_abs();
        let cells = store.insight_cells("busy", first_day, until).await?.len();
        println!(
            "reports: {months} month(s), {tickets} tickets, {cells} cells, recorded at {per_day:.0} ms/day"
        );
        figures.push(figure(
            &format!("report of the last week by language, {months} month(s) of history"),
            median_ms(&store, until - 7, until, &[Dimension::Language]).await?,
            "ms",
            None,
        ));
        figures.push(figure(
            &format!("report of {months} month(s) by country, channel and category"),
            median_ms(
                &store,
                first_day,
                until,
                &[Dimension::Country, Dimension::Channel, Dimension::Category],
            )
            .await?,
            "ms",
            None,
        ));
    }
    Ok(())
}
