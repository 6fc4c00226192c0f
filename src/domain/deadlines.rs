//! Day counting for reporting deadlines (DOMAIN.md "Day counting").
//!
//! Owns the rule that turns "the day the hospital became aware" plus a number of days into an instant:
//! calendar days in Japan time (Asia/Tokyo), the first day not counted (民法 140条 初日不算入), a
//! deadline ending at 23:59:59 JST of its last day. Also owns the configurable numbers (5 / 30 / 60 days,
//! the reminder day and hour), because the PPC's own counting rule is UNCONFIRMED.

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use serde::{Deserialize, Serialize};

/// Configurable deadline numbers. Every field has a default, so a partial configuration is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeadlineConfig {
    /// PPC 速報 (preliminary report) is due at the end of this day (default 5).
    pub ppc_preliminary_days: u32,
    /// Day on which the hospital is reminded of the PPC 速報 (default 3).
    pub ppc_preliminary_reminder_day: u32,
    /// PPC 確報 (final report) is due at the end of this day (default 30).
    pub ppc_final_days: u32,
    /// PPC 確報 due day when the purpose was malicious (default 60).
    pub ppc_final_malicious_days: u32,
    /// Hour of the day (JST, 0–23) at which reminders are sent (default 9).
    pub reminder_hour_jst: u32,
}

impl Default for DeadlineConfig {
    fn default() -> Self {
        Self {
            ppc_preliminary_days: 5,
            ppc_preliminary_reminder_day: 3,
            ppc_final_days: 30,
            ppc_final_malicious_days: 60,
            reminder_hour_jst: 9,
        }
    }
}

impl DeadlineConfig {
    /// The PPC 確報 due day: longer when the purpose was malicious (施行規則 第8条第2項).
    pub fn ppc_final_days_for(&self, malicious: bool) -> u32 {
        if malicious {
            self.ppc_final_malicious_days
        } else {
            self.ppc_final_days
        }
    }
}

/// The calendar date in Japan of an instant.
pub fn jst_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Tokyo).date_naive()
}

/// The end (23:59:59 JST) of day `days` counted from the day of `aware_at`, the first day not counted.
///
/// Aware on 2026-11-20 JST, 5 days → 2026-11-25 23:59:59 JST.
pub fn due_at(aware_at: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let last_day = nth_day(aware_at, days);
    jst_to_utc(last_day.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN)))
}

/// The start of hour `hour_jst` (JST) on day `day` counted from the day of `aware_at`.
///
/// An hour above 23 is a configuration mistake; it is treated as 23 so that the reminder still falls
/// on the intended day rather than spilling into the next one.
pub fn reminder_at(aware_at: DateTime<Utc>, day: u32, hour_jst: u32) -> DateTime<Utc> {
    let date = nth_day(aware_at, day);
    let time = NaiveTime::from_hms_opt(hour_jst.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
    jst_to_utc(date.and_time(time))
}

/// The JST date `days` calendar days after the JST date of `aware_at`.
fn nth_day(aware_at: DateTime<Utc>, days: u32) -> NaiveDate {
    // Only an absurd configuration can overflow the calendar; the farthest date is the honest answer.
    jst_date(aware_at).checked_add_days(Days::new(u64::from(days))).unwrap_or(NaiveDate::MAX)
}

/// Interprets a wall-clock time in Japan as an instant.
fn jst_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    match Tokyo.from_local_datetime(&local).earliest() {
        Some(t) => t.with_timezone(&Utc),
        // Japan has had no daylight saving time since 1951, so every local time exists; the fixed
        // +09:00 offset is the same answer should the time-zone database ever say otherwise.
        None => Utc.from_utc_datetime(&(local - chrono::Duration::hours(9))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("test timestamp").with_timezone(&Utc)
    }

    #[test]
    fn a_deadline_ends_at_the_end_of_its_last_japanese_day_and_the_first_day_is_not_counted() {
        // (aware at, in UTC; days; due at, in UTC; what the row shows)
        #[rustfmt::skip]
        let rows = [
            ("2026-11-20T01:00:00Z", 5, "2026-11-25T14:59:59Z", "DOMAIN.md example: aware 11-20 → day 5 ends 11-25 23:59:59 JST"),
            ("2026-11-19T15:00:00Z", 5, "2026-11-25T14:59:59Z", "midnight JST on 11-20 is still 11-20"),
            ("2026-11-20T14:59:59Z", 5, "2026-11-25T14:59:59Z", "the last second of 11-20 JST"),
            ("2026-11-20T20:00:00Z", 5, "2026-11-26T14:59:59Z", "20:00 UTC is already 11-21 in Japan"),
            ("2026-11-19T14:59:59Z", 5, "2026-11-24T14:59:59Z", "one second earlier is still 11-19 in Japan"),
            ("2026-11-20T01:00:00Z", 0, "2026-11-20T14:59:59Z", "day 0 is the end of the day of awareness"),
            ("2026-11-20T01:00:00Z", 1, "2026-11-21T14:59:59Z", "day 1 is the next day"),
            ("2026-11-20T01:00:00Z", 30, "2026-12-20T14:59:59Z", "final report, 30 days"),
            ("2026-11-20T01:00:00Z", 60, "2027-01-19T14:59:59Z", "final report for malicious purpose, 60 days, across the year end"),
            ("2026-01-28T03:00:00Z", 5, "2026-02-02T14:59:59Z", "across a month end"),
            ("2026-01-31T03:00:00Z", 30, "2026-03-02T14:59:59Z", "across a 28-day February"),
            ("2026-04-28T03:00:00Z", 5, "2026-05-03T14:59:59Z", "across a 30-day month"),
            ("2026-12-29T03:00:00Z", 5, "2027-01-03T14:59:59Z", "across the year end"),
            ("2026-12-31T16:00:00Z", 5, "2027-01-06T14:59:59Z", "New Year's Eve in UTC is New Year's Day in Japan"),
            ("2028-02-25T03:00:00Z", 5, "2028-03-01T14:59:59Z", "counting through the leap day 2028-02-29"),
            ("2028-02-28T03:00:00Z", 1, "2028-02-29T14:59:59Z", "the leap day itself can be a due day"),
            ("2028-02-28T15:00:00Z", 30, "2028-03-30T14:59:59Z", "aware on the leap day (JST) itself"),
            ("2027-02-28T03:00:00Z", 1, "2027-03-01T14:59:59Z", "no leap day in 2027"),
        ];
        for (aware, days, due, why) in rows {
            assert_eq!(due_at(utc(aware), days), utc(due), "{why}");
        }
    }

    #[test]
    fn a_reminder_falls_at_the_configured_hour_of_its_japanese_day() {
        // (aware at; day; hour JST; reminder at, in UTC; what the row shows)
        #[rustfmt::skip]
        let rows = [
            ("2026-11-20T01:00:00Z", 3, 9, "2026-11-23T00:00:00Z", "day 3 at 09:00 JST"),
            ("2026-11-20T20:00:00Z", 3, 9, "2026-11-24T00:00:00Z", "aware on 11-21 in Japan"),
            ("2026-11-20T01:00:00Z", 3, 0, "2026-11-22T15:00:00Z", "midnight JST is the previous evening in UTC"),
            ("2026-11-20T01:00:00Z", 3, 23, "2026-11-23T14:00:00Z", "the last hour of the day"),
            ("2026-11-20T01:00:00Z", 3, 99, "2026-11-23T14:00:00Z", "an impossible hour stays on its day"),
            ("2026-12-30T01:00:00Z", 3, 9, "2027-01-02T00:00:00Z", "across the year end"),
            ("2028-02-27T01:00:00Z", 2, 9, "2028-02-29T00:00:00Z", "on the leap day"),
        ];
        for (aware, day, hour, at, why) in rows {
            assert_eq!(reminder_at(utc(aware), day, hour), utc(at), "{why}");
        }
    }

    #[test]
    fn the_japanese_date_changes_at_15_00_utc() {
        let rows = [
            ("2026-11-20T00:00:00Z", "2026-11-20"),
            ("2026-11-20T14:59:59Z", "2026-11-20"),
            ("2026-11-20T15:00:00Z", "2026-11-21"),
            ("2026-12-31T15:00:00Z", "2027-01-01"),
            ("2028-02-28T15:00:00Z", "2028-02-29"),
        ];
        for (t, date) in rows {
            assert_eq!(jst_date(utc(t)).to_string(), date, "{t}");
        }
    }

    #[test]
    fn the_default_reminder_comes_before_the_preliminary_deadline() {
        let cfg = DeadlineConfig::default();
        let aware = utc("2026-11-20T01:00:00Z");
        assert!(
            reminder_at(aware, cfg.ppc_preliminary_reminder_day, cfg.reminder_hour_jst)
                < due_at(aware, cfg.ppc_preliminary_days)
        );
    }

    #[test]
    fn the_final_report_is_due_later_when_the_purpose_was_malicious() {
        let cfg = DeadlineConfig::default();
        assert_eq!(cfg.ppc_final_days_for(false), 30);
        assert_eq!(cfg.ppc_final_days_for(true), 60);
    }

    #[test]
    fn a_partial_configuration_keeps_the_other_defaults() {
        let cfg: DeadlineConfig = serde_json::from_str(r#"{"ppc_preliminary_days": 4}"#).expect("valid config");
        assert_eq!(cfg, DeadlineConfig { ppc_preliminary_days: 4, ..DeadlineConfig::default() });
    }
}
