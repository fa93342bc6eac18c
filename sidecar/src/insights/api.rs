//! The admin API's insight calls (`GetReport`, `ExportCustomerData`,
//! `EraseCustomerData`) once the caller may manage the tenant: requests checked,
//! the store read, answers in the API's types.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tonic::Status;

use super::categories::CategoryRule;
use super::chart;
use super::figures::{TicketRow, cells_of};
use super::report::{Dimension, Line, Report};
use super::{DAY_SECS, day_of};
use crate::pb;
use crate::store::Store;

/// The longest period a report covers, in days (ten years).
pub const MAX_REPORT_DAYS: i64 = 3_660;
/// Days a report covers unless told.
pub const DEFAULT_REPORT_DAYS: i64 = 7;
/// Reports built at once, all tenants together. A report of years reads and
/// sums every cell of the period, so more would crowd out events; one asked for
/// beyond these is refused at once, to be asked again.
pub const MAX_REPORTS_AT_ONCE: usize = 2;

fn unavailable(e: crate::store::StoreError) -> Status {
    Status::unavailable(format!("the store cannot be read: {e}"))
}

fn timestamp(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

fn day_timestamp(day: i64) -> prost_types::Timestamp {
    timestamp(day.saturating_mul(DAY_SECS))
}

/// The report a request asks for, on days `[since, until)`, built while it holds
/// one of the `building` slots ([`MAX_REPORTS_AT_ONCE`] of them): the slot goes
/// with the build, so a caller who gives up does not free it while it runs.
pub async fn get_report(
    store: &Store,
    building: &Arc<Semaphore>,
    request: pb::GetReportRequest,
) -> Result<pb::Report, Status> {
    // Each dimension at most once: a report's every line carries a key as long
    // as `by`, so a request of millions of names would hold gigabytes.
    if request.by.len() > Dimension::COUNT {
        return Err(Status::invalid_argument(format!(
            "a report is sliced by {} dimensions at most, each once",
            Dimension::COUNT
        )));
    }
    let mut by: Vec<Dimension> = Vec::with_capacity(request.by.len());
    for name in &request.by {
        let dimension = Dimension::parse(name).ok_or_else(|| {
            Status::invalid_argument(format!(
                "cannot slice by {:?}: give region, country, language, channel, category or group",
                name.chars().take(40).collect::<String>()
            ))
        })?;
        if by.contains(&dimension) {
            return Err(Status::invalid_argument(format!(
                "a report is sliced by {} once only",
                dimension.name()
            )));
        }
        by.push(dimension);
    }
    // Whole days unless told: a period ending with today so far, compared with
    // the whole days before it, would read as a fall. A period asked to start
    // today (or later) ends with that day.
    let since_asked = request.since.as_ref().map(|t| day_of(t.seconds));
    let until_day = request.until.as_ref().map_or_else(
        || {
            let today = day_of(crate::store::now_ms().div_euclid(1_000));
            since_asked.map_or(today, |since| today.max(since.saturating_add(1)))
        },
        |t| day_of(t.seconds),
    );
    let since_day = request.since.as_ref().map_or_else(
        || until_day.saturating_sub(DEFAULT_REPORT_DAYS),
        |t| day_of(t.seconds),
    );
    let days = until_day.saturating_sub(since_day);
    if days <= 0 {
        return Err(Status::invalid_argument("`since` must come before `until`"));
    }
    if days > MAX_REPORT_DAYS {
        return Err(Status::invalid_argument(format!(
            "a report covers at most {MAX_REPORT_DAYS} days"
        )));
    }
    let slot = building.clone().try_acquire_owned().map_err(|_| {
        Status::resource_exhausted(format!(
            "{MAX_REPORTS_AT_ONCE} reports are being built; ask again in a moment"
        ))
    })?;
    let report = super::report(store, &request.tenant_id, since_day, until_day, by, slot)
        .await
        .map_err(unavailable)?;
    Ok(to_proto(&request.tenant_id, since_day, until_day, report))
}

fn line(line: Line) -> pb::ReportLine {
    let m = line.measures;
    pb::ReportLine {
        key: line.key,
        tickets: m.tickets,
        previous_tickets: line.previous_tickets,
        rated: m.rated,
        csat_positive_share: m.csat_positive,
        csat_mean: m.csat_mean,
        resolution_rate: m.resolution_rate,
        first_reply_median_seconds: m.first_reply_median_s,
        first_reply_p90_seconds: m.first_reply_p90_s,
        resolution_median_seconds: m.resolution_median_s,
        resolution_p90_seconds: m.resolution_p90_s,
        reopen_rate: m.reopen_rate,
        after_hours_share: m.after_hours_share,
    }
}

fn to_proto(tenant: &str, since_day: i64, until_day: i64, report: Report) -> pb::Report {
    pb::Report {
        tenant_id: tenant.to_owned(),
        since: Some(day_timestamp(since_day)),
        until: Some(day_timestamp(until_day)),
        by: report.by.iter().map(|d| d.name().to_owned()).collect(),
        total: Some(line(report.total)),
        first_reply_hours: report
            .hours
            .into_iter()
            .map(|h| pb::FirstReplyHour {
                language: h.language,
                hour: u32::from(h.hour),
                replied: h.replied,
                median_seconds: h.median_s,
            })
            .collect(),
        days: report
            .days
            .into_iter()
            .map(|d| pb::ReportDay {
                day: Some(day_timestamp(d.day)),
                tickets: d.measures.tickets,
                rated: d.measures.rated,
                csat_positive_share: d.measures.csat_positive,
                csat_mean: d.measures.csat_mean,
                first_reply_median_seconds: d.measures.first_reply_median_s,
            })
            .collect(),
        lines: report.lines.into_iter().map(line).collect(),
        uncategorised_share: report.uncategorised,
        translation_pairs: report
            .pairs
            .into_iter()
            .map(|p| pb::TranslationPairLine {
                source_language: p.source,
                target_language: p.target,
                translated: p.translated,
                corrected: p.corrected,
                correction_rate: p.correction_rate,
                previous_correction_rate: p.previous_correction_rate,
            })
            .collect(),
        spikes: report
            .spikes
            .into_iter()
            .map(|s| pb::VolumeSpike {
                category: s.category,
                day: Some(day_timestamp(s.day)),
                tickets: s.tickets,
                baseline: s.baseline,
                sigmas: s.sigmas,
            })
            .collect(),
    }
}

/// The day (since the Unix epoch) of an answer's timestamp; 0 when absent.
pub fn timestamp_day(t: Option<&prost_types::Timestamp>) -> i64 {
    t.map_or(0, |t| day_of(t.seconds))
}

/// A report's first day and its number of days.
fn period(report: &pb::Report) -> (i64, usize) {
    let first = timestamp_day(report.since.as_ref());
    let until = timestamp_day(report.until.as_ref());
    (
        first,
        usize::try_from(until.saturating_sub(first)).unwrap_or(0),
    )
}

/// A report's tickets per day, as [`chart::tickets_per_day`] draws them.
pub fn tickets_chart(report: &pb::Report, title: &str) -> String {
    let (first, days) = period(report);
    let tickets: Vec<(i64, u64)> = report
        .days
        .iter()
        .map(|d| (timestamp_day(d.day.as_ref()), d.tickets))
        .collect();
    chart::tickets_per_day(title, first, days, &tickets)
}

/// A report's share of positive ratings per day, as [`chart::share_per_day`]
/// draws it.
pub fn ratings_chart(report: &pb::Report, title: &str) -> String {
    let (first, days) = period(report);
    let shares: Vec<(i64, Option<f64>)> = report
        .days
        .iter()
        .map(|d| (timestamp_day(d.day.as_ref()), d.csat_positive_share))
        .collect();
    chart::share_per_day(title, first, days, &shares)
}

/// A report's first-reply hours that have a median, as
/// [`chart::first_reply_heatmap`] draws them.
pub fn heatmap_chart(report: &pb::Report, title: &str) -> String {
    let cells: Vec<chart::HeatCell> = report
        .first_reply_hours
        .iter()
        .filter_map(|h| {
            Some(chart::HeatCell {
                language: h.language.clone(),
                hour: u8::try_from(h.hour).ok()?,
                replied: h.replied,
                median_s: h.median_seconds?,
            })
        })
        .collect();
    chart::first_reply_heatmap(title, &cells)
}

/// A tenant's category in the admin API's type.
pub fn category_to_pb(rule: CategoryRule) -> pb::Category {
    pb::Category {
        name: rule.name,
        keywords: rule
            .keywords
            .into_iter()
            .map(|(language, words)| (language, pb::Keywords { words }))
            .collect(),
    }
}

/// A category from the admin API (checked with the tenant's document).
pub fn category_from_pb(category: pb::Category) -> CategoryRule {
    CategoryRule {
        name: category.name,
        keywords: category
            .keywords
            .into_iter()
            .map(|(language, words)| (language, words.words))
            .collect(),
    }
}

fn customer_ref(request: &pb::CustomerRef) -> Result<(), Status> {
    if request.customer_id.trim().is_empty() {
        return Err(Status::invalid_argument("name the customer (customer_id)"));
    }
    Ok(())
}

/// What the reports keep about a customer.
pub async fn export_customer(
    store: &Store,
    request: pb::CustomerRef,
) -> Result<pb::CustomerData, Status> {
    customer_ref(&request)?;
    let tickets = store
        .customer_tickets(&request.tenant_id, &request.customer_id)
        .await
        .map_err(unavailable)?;
    Ok(pb::CustomerData {
        tickets: tickets.into_iter().map(customer_ticket).collect(),
    })
}

fn customer_ticket(t: TicketRow) -> pb::CustomerTicket {
    pb::CustomerTicket {
        ticket_id: t.ticket,
        first_seen: Some(timestamp(t.created_s)),
        first_reply: t.first_reply_s.map(timestamp),
        solved: t.solved_s.map(timestamp),
        last_customer_message: t.last_customer_s.map(timestamp),
        reopens: t.reopens,
        rating: t.rating,
        country: t.slice.country,
        language: t.slice.language,
        channel: t.slice.channel,
        category: t.slice.category,
        group: t.slice.group,
    }
}

/// Erases what the reports keep about a customer, marking them erased by
/// `marks` (`ControlPlane::erasure_marks`).
pub async fn erase_customer(
    store: &Store,
    request: pb::CustomerRef,
    marks: &crate::store::ErasureMarks,
    audit: &crate::store::ErasureAudit,
) -> Result<pb::EraseCustomerDataResponse, Status> {
    customer_ref(&request)?;
    let erased = store
        .erase_customer(
            &request.tenant_id,
            &request.customer_id,
            marks,
            audit,
            cells_of,
        )
        .await
        .map_err(unavailable)?;
    Ok(pb::EraseCustomerDataResponse {
        tickets_erased: u32::try_from(erased).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_report_beyond_those_being_built_is_refused_until_one_ends() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let store = Store::open(dir.path()).expect("store");
        let building = Arc::new(Semaphore::new(MAX_REPORTS_AT_ONCE));
        let request = || pb::GetReportRequest {
            tenant_id: "acme".into(),
            by: vec!["language".into()],
            ..Default::default()
        };
        let held = building
            .try_acquire_many(u32::try_from(MAX_REPORTS_AT_ONCE).expect("a few"))
            .expect("free slots");

        let refused = get_report(&store, &building, request())
            .await
            .expect_err("every slot is taken");
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert!(refused.message().contains("ask again"), "{refused:?}");

        drop(held);
        let report = get_report(&store, &building, request())
            .await
            .expect("a slot is free");
        assert_eq!(report.tenant_id, "acme");
        assert_eq!(building.available_permits(), MAX_REPORTS_AT_ONCE);
    }
}
