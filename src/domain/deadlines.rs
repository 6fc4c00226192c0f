//! Day counting for reporting deadlines (DOMAIN.md 2.4).
//!
//! Owns the rule that turns "the day anyone at the hospital learned of the event" plus a number of
//! days into an instant: calendar days in Japan time (Asia/Tokyo), **the day of awareness is day 1**,
//! and a deadline ends at 23:59:59 JST of its last day. The PPC guideline (通則編 3-5-3-4) does not
//! spell out whether the first day counts; the public tools count it, which is the earlier of the two
//! readings, so it is the default (`aware_day_is_day_one`). Also owns the legal deadline after a
//! closed-day move (see `calendar`) and the configurable numbers (5 / 30 / 60 days, reminder days
//! and hour).

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use serde::{Deserialize, Serialize};

use super::calendar::next_open_day;

/// Configurable deadline numbers. Every field has a default, so a partial configuration is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeadlineConfig {
    /// Target day of the PPC 速報 (preliminary report, "速やかに", guidance 概ね3～5日; default 5).
    pub ppc_preliminary_days: u32,
    /// Day on which the hospital is reminded of the PPC 速報 (default 3).
    pub ppc_preliminary_reminder_day: u32,
    /// PPC 確報 (final report) is due at the end of this day (default 30).
    pub ppc_final_days: u32,
    /// PPC 確報 due day when a malicious purpose may be involved (default 60, 施行規則8条2項).
    pub ppc_final_malicious_days: u32,
    /// Day on which the hospital is reminded of the patient notice (本人通知; default 5).
    pub patient_notice_reminder_day: u32,
    /// Hour of the day (JST, 0–23) at which reminders are sent (default 9).
    pub reminder_hour_jst: u32,
    /// The day of awareness is day 1 (default true; false counts from the next day, 民法140条).
    pub aware_day_is_day_one: bool,
    /// Whether a PPC-reportable breach creates the patient-notice task (本人通知, 法26条2項; default
    /// true). The APPI amendment promulgated 2026-07-17 relaxes it where risk is low: a setting.
    pub patient_notice: bool,
}

impl Default for DeadlineConfig {
    fn default() -> Self {
        Self {
            ppc_preliminary_days: 5,
            ppc_preliminary_reminder_day: 3,
            ppc_final_days: 30,
            ppc_final_malicious_days: 60,
            patient_notice_reminder_day: 5,
            reminder_hour_jst: 9,
            aware_day_is_day_one: true,
            patient_notice: true,
        }
    }
}

impl DeadlineConfig {
    /// The PPC 確報 due day: longer when a malicious purpose may be involved (施行規則 第8条第2項).
    pub fn ppc_final_days_for(&self, malicious: bool) -> u32 {
        if malicious {
            self.ppc_final_malicious_days
        } else {
            self.ppc_final_days
        }
    }

    /// The JST date of day `n` counted from the day of `aware_at`.
    pub fn nth_day(&self, aware_at: DateTime<Utc>, n: u32) -> NaiveDate {
        let offset = if self.aware_day_is_day_one { n.saturating_sub(1) } else { n };
        // Only an absurd configuration can overflow the calendar; the farthest date is the honest answer.
        jst_date(aware_at).checked_add_days(Days::new(u64::from(offset))).unwrap_or(NaiveDate::MAX)
    }

    /// The end (23:59:59 JST) of day `n` counted from the day of `aware_at`.
    ///
    /// Aware on 2026-11-20 JST, day 5 → 2026-11-24 23:59:59 JST (DOMAIN.md 2.4).
    pub fn due_at(&self, aware_at: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        end_of_day(self.nth_day(aware_at, n))
    }

    /// The start of the reminder hour (JST) on day `n` counted from the day of `aware_at`.
    ///
    /// An hour above 23 is a configuration mistake; it is treated as 23 so that the reminder still
    /// falls on the intended day rather than spilling into the next one.
    pub fn reminder_at(&self, aware_at: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let time = NaiveTime::from_hms_opt(self.reminder_hour_jst.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
        jst_to_utc(self.nth_day(aware_at, n).and_time(time))
    }
}

/// The legal deadline of a statutory period due at `due`: the end of the next open day when the due
/// day is a Saturday, Sunday, national holiday or in 12/29–1/3 (行政機関の休日に関する法律 第2条).
pub fn legal_due_at(due: DateTime<Utc>) -> DateTime<Utc> {
    end_of_day(next_open_day(jst_date(due)))
}

/// The calendar date in Japan of an instant.
pub fn jst_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Tokyo).date_naive()
}

/// 23:59:59 JST of `date`.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    jst_to_utc(date.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN)))
}

/// Interprets a wall-clock time in Japan as an instant. Japan Standard Time is UTC+9 all year
/// (no daylight saving since 1952), so the offset is fixed.
fn jst_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&(local - chrono::Duration::hours(9)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("test timestamp").with_timezone(&Utc)
    }

    #[test]
    fn the_domain_example_gives_the_dates_of_domain_md_2_4() {
        // Source: DOMAIN.md 2.4 example. Aware 2026-11-20 JST.
        let cfg = DeadlineConfig::default();
        let aware = utc("2026-11-20T01:00:00Z");
        let jst = |t: DateTime<Utc>| t.with_timezone(&Tokyo).format("%Y-%m-%d %H:%M:%S").to_string();
        assert_eq!(jst(cfg.due_at(aware, cfg.ppc_preliminary_days)), "2026-11-24 23:59:59", "速報 target");
        assert_eq!(jst(cfg.reminder_at(aware, cfg.ppc_preliminary_reminder_day)), "2026-11-22 09:00:00", "reminder");
        let final_30 = cfg.due_at(aware, cfg.ppc_final_days);
        assert_eq!(jst(final_30), "2026-12-19 23:59:59", "確報, 30 days");
        assert_eq!(jst(legal_due_at(final_30)), "2026-12-21 23:59:59", "a Saturday: the legal deadline is Monday");
        let final_60 = cfg.due_at(aware, cfg.ppc_final_malicious_days);
        assert_eq!(jst(final_60), "2027-01-18 23:59:59", "確報, 60 days (malicious purpose)");
        assert_eq!(legal_due_at(final_60), final_60, "an open day does not move");
    }

    #[test]
    fn a_deadline_ends_at_the_end_of_its_last_japanese_day_and_the_day_of_awareness_is_day_1() {
        // Source: DOMAIN.md 2.4 (day 1 = the day of awareness, in Japan time).
        // (aware at, in UTC; days; due at, in UTC; what the row shows)
        #[rustfmt::skip]
        let rows = [
            ("2026-11-20T01:00:00Z", 5, "2026-11-24T14:59:59Z", "aware 11-20 → day 5 ends 11-24 23:59:59 JST"),
            ("2026-11-19T15:00:00Z", 5, "2026-11-24T14:59:59Z", "midnight JST on 11-20 is already 11-20"),
            ("2026-11-20T14:59:59Z", 5, "2026-11-24T14:59:59Z", "the last second of 11-20 JST"),
            ("2026-11-20T20:00:00Z", 5, "2026-11-25T14:59:59Z", "20:00 UTC is already 11-21 in Japan"),
            ("2026-11-19T14:59:59Z", 5, "2026-11-23T14:59:59Z", "one second earlier is still 11-19 in Japan"),
            ("2026-11-20T01:00:00Z", 1, "2026-11-20T14:59:59Z", "day 1 is the day of awareness itself"),
            ("2026-11-20T01:00:00Z", 0, "2026-11-20T14:59:59Z", "a day 0 misconfiguration is read as day 1"),
            ("2026-11-20T01:00:00Z", 2, "2026-11-21T14:59:59Z", "day 2 is the next day"),
            ("2026-11-20T01:00:00Z", 30, "2026-12-19T14:59:59Z", "final report, 30 days"),
            ("2026-11-20T01:00:00Z", 60, "2027-01-18T14:59:59Z", "final report for malicious purpose, 60 days, across the year end"),
            ("2026-01-29T03:00:00Z", 5, "2026-02-02T14:59:59Z", "across a month end"),
            ("2026-01-31T03:00:00Z", 30, "2026-03-01T14:59:59Z", "across a 28-day February"),
            ("2026-04-28T03:00:00Z", 5, "2026-05-02T14:59:59Z", "across a 30-day month"),
            ("2026-12-29T03:00:00Z", 5, "2027-01-02T14:59:59Z", "across the year end"),
            ("2026-12-31T16:00:00Z", 5, "2027-01-05T14:59:59Z", "New Year's Eve in UTC is New Year's Day in Japan"),
            ("2028-02-25T03:00:00Z", 5, "2028-02-29T14:59:59Z", "the leap day 2028-02-29 is a due day"),
            ("2028-02-28T15:00:00Z", 30, "2028-03-29T14:59:59Z", "aware on the leap day (JST) itself"),
            ("2027-02-28T03:00:00Z", 2, "2027-03-01T14:59:59Z", "no leap day in 2027"),
        ];
        let cfg = DeadlineConfig::default();
        for (aware, days, due, why) in rows {
            assert_eq!(cfg.due_at(utc(aware), days), utc(due), "{why}");
        }
    }

    #[test]
    fn counting_from_the_next_day_is_a_setting() {
        // Source: 民法 第140条 (初日不算入), the later reading, kept as a switch.
        let cfg = DeadlineConfig { aware_day_is_day_one: false, ..DeadlineConfig::default() };
        assert_eq!(cfg.due_at(utc("2026-11-20T01:00:00Z"), 5), utc("2026-11-25T14:59:59Z"));
        assert_eq!(cfg.due_at(utc("2026-11-20T01:00:00Z"), 30), utc("2026-12-20T14:59:59Z"));
    }

    #[test]
    fn a_reminder_falls_at_the_configured_hour_of_its_japanese_day() {
        // (aware at; day; hour JST; reminder at, in UTC; what the row shows)
        #[rustfmt::skip]
        let rows = [
            ("2026-11-20T01:00:00Z", 3, 9, "2026-11-22T00:00:00Z", "day 3 at 09:00 JST"),
            ("2026-11-20T20:00:00Z", 3, 9, "2026-11-23T00:00:00Z", "aware on 11-21 in Japan"),
            ("2026-11-20T01:00:00Z", 3, 0, "2026-11-21T15:00:00Z", "midnight JST is the previous evening in UTC"),
            ("2026-11-20T01:00:00Z", 3, 23, "2026-11-22T14:00:00Z", "the last hour of the day"),
            ("2026-11-20T01:00:00Z", 3, 99, "2026-11-22T14:00:00Z", "an impossible hour stays on its day"),
            ("2026-12-31T01:00:00Z", 3, 9, "2027-01-02T00:00:00Z", "across the year end"),
            ("2028-02-27T01:00:00Z", 3, 9, "2028-02-29T00:00:00Z", "on the leap day"),
        ];
        for (aware, day, hour, at, why) in rows {
            let cfg = DeadlineConfig { reminder_hour_jst: hour, ..DeadlineConfig::default() };
            assert_eq!(cfg.reminder_at(utc(aware), day), utc(at), "{why}");
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
        assert!(cfg.reminder_at(aware, cfg.ppc_preliminary_reminder_day) < cfg.due_at(aware, cfg.ppc_preliminary_days));
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
