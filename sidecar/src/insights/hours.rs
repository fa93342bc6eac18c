//! A tenant's business hours, by which the reports tell a first reply made after
//! hours (the team covering nights, weekends, other time zones) from one made in
//! them: days of the week and opening hours in one IANA time zone.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// When the tenant's team works, as its document and configuration keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    /// IANA time zone, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    /// `HH:MM`, local; opening before closing (no shift over midnight).
    pub open: String,
    pub close: String,
    /// Working days: `mon` … `sun`; default Monday to Friday.
    #[serde(default = "weekdays")]
    pub days: Vec<String>,
}

fn weekdays() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"]
        .map(str::to_owned)
        .to_vec()
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

fn time(text: &str) -> Option<Time> {
    let (hour, minute) = text.trim().split_once(':')?;
    Time::new(hour.parse().ok()?, minute.parse().ok()?, 0, 0).ok()
}

impl BusinessHours {
    /// Why these hours cannot be used, if so.
    pub fn check(&self) -> Result<(), String> {
        TimeZone::get(&self.time_zone)
            .map_err(|_| format!("{:?} is not an IANA time zone", self.time_zone))?;
        let (Some(open), Some(close)) = (time(&self.open), time(&self.close)) else {
            return Err("open and close are HH:MM".into());
        };
        if open >= close {
            return Err("open must come before close".into());
        }
        if self.days.is_empty() {
            return Err("name at least one working day".into());
        }
        if let Some(bad) = self.days.iter().find(|d| weekday(d).is_none()) {
            return Err(format!("{bad:?} is not a day (mon, tue, … sun)"));
        }
        Ok(())
    }

    /// Whether `at` (Unix seconds) falls in business hours; `None` when the hours
    /// cannot be read (they were checked when set).
    pub fn is_open(&self, at: i64) -> Option<bool> {
        let zone = TimeZone::get(&self.time_zone).ok()?;
        let local = jiff::Timestamp::from_second(at).ok()?.to_zoned(zone);
        let (open, close) = (time(&self.open)?, time(&self.close)?);
        let day = local.weekday();
        let working = self.days.iter().any(|d| weekday(d) == Some(day));
        let now = local.time();
        Some(working && now >= open && now < close)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours() -> BusinessHours {
        BusinessHours {
            time_zone: "Asia/Shanghai".into(),
            open: "09:00".into(),
            close: "18:00".into(),
            days: weekdays(),
        }
    }

    #[test]
    fn hours_are_read_in_the_tenants_time_zone() {
        let hours = hours();
        // 2026-12-07 is a Monday. 02:00 UTC is 10:00 in Shanghai: open.
        let monday = 1_796_601_600;
        assert_eq!(hours.is_open(monday + 2 * 3_600), Some(true));
        // 12:00 UTC is 20:00 there: closed.
        assert_eq!(hours.is_open(monday + 12 * 3_600), Some(false));
        // Saturday 10:00 there: closed.
        assert_eq!(hours.is_open(monday + 5 * 86_400 + 2 * 3_600), Some(false));
    }

    #[test]
    fn bad_hours_are_refused() {
        let with = |change: fn(&mut BusinessHours)| {
            let mut h = hours();
            change(&mut h);
            h.check()
        };
        assert!(hours().check().is_ok());
        assert!(with(|h| h.time_zone = "Mars/Olympus".into()).is_err());
        assert!(with(|h| h.open = "9am".into()).is_err());
        assert!(with(|h| h.close = "08:00".into()).is_err());
        assert!(with(|h| h.days = vec!["funday".into()]).is_err());
        assert!(with(|h| h.days.clear()).is_err());
    }
}
