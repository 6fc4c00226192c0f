//! Closed days of Japanese administrative offices: Saturdays, Sundays, national holidays (国民の祝日,
//! including substitute holidays and 国民の休日) and the year-end closure 12/29–1/3.
//!
//! A statutory period whose last day falls on a closed day ends on the next open day
//! (行政機関の休日に関する法律 第2条; 民法 第142条). Holidays come from the `jpholiday` crate, which
//! computes them by the rules of 国民の祝日に関する法律, equinoxes included; the tests pin 2026 and
//! 2027 to the Cabinet Office's published list (内閣府「国民の祝日について」).

use chrono::{Datelike, Days, NaiveDate, Weekday};
use jpholiday::jpholiday::JPHoliday;

/// Why a day is closed, or `None` when offices are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Weekend,
    NationalHoliday,
    YearEnd,
}

/// Whether offices are closed on `date`, and why.
pub fn closed(date: NaiveDate) -> Option<Closed> {
    let (m, d) = (date.month(), date.day());
    if (m == 12 && d >= 29) || (m == 1 && d <= 3) {
        Some(Closed::YearEnd)
    } else if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        Some(Closed::Weekend)
    } else if JPHoliday::new().is_holiday(&date) {
        Some(Closed::NationalHoliday)
    } else {
        None
    }
}

/// `date` itself when offices are open on it, else the next day on which they are.
pub fn next_open_day(date: NaiveDate) -> NaiveDate {
    let mut d = date;
    // At most 3 + 2 + a few holidays in a row; the bound only guards against a broken calendar.
    for _ in 0..30 {
        if closed(d).is_none() {
            return d;
        }
        match d.checked_add_days(Days::new(1)) {
            Some(next) => d = next,
            None => return d,
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("test date")
    }

    /// 内閣府「国民の祝日について」: the holidays of 2026 and 2027, substitute and bridge days included.
    const HOLIDAYS_2026_2027: &[&str] = &[
        "2026-01-01",
        "2026-01-12",
        "2026-02-11",
        "2026-02-23",
        "2026-03-20",
        "2026-04-29",
        "2026-05-03",
        "2026-05-04",
        "2026-05-05",
        "2026-05-06",
        "2026-07-20",
        "2026-08-11",
        "2026-09-21",
        "2026-09-22",
        "2026-09-23",
        "2026-10-12",
        "2026-11-03",
        "2026-11-23",
        "2027-01-01",
        "2027-01-11",
        "2027-02-11",
        "2027-02-23",
        "2027-03-21",
        "2027-03-22",
        "2027-04-29",
        "2027-05-03",
        "2027-05-04",
        "2027-05-05",
        "2027-07-19",
        "2027-08-11",
        "2027-09-20",
        "2027-09-23",
        "2027-10-11",
        "2027-11-03",
        "2027-11-23",
    ];

    #[test]
    fn the_national_holidays_of_2026_and_2027_are_the_cabinet_offices_list() {
        let jp = JPHoliday::new();
        let mut found = Vec::new();
        let mut d = date("2026-01-01");
        while d <= date("2027-12-31") {
            if jp.is_holiday(&d) {
                found.push(d.to_string());
            }
            d = d.succ_opt().expect("in range");
        }
        assert_eq!(found, HOLIDAYS_2026_2027);
    }

    #[test]
    fn a_deadline_on_a_closed_day_moves_to_the_next_open_day() {
        // (due day, legal deadline, why)
        #[rustfmt::skip]
        let rows = [
            ("2026-12-19", "2026-12-21", "DOMAIN.md 2.4 example: a Saturday moves to Monday"),
            ("2026-12-20", "2026-12-21", "a Sunday moves to Monday"),
            ("2026-12-21", "2026-12-21", "an open Monday stays"),
            ("2026-12-28", "2026-12-28", "12/28 is still open"),
            ("2026-12-29", "2027-01-04", "the year-end closure runs to 1/3"),
            ("2027-01-02", "2027-01-04", "1/2 is in the year-end closure"),
            ("2027-01-09", "2027-01-12", "Saturday, Sunday, then 成人の日 on Monday"),
            ("2026-05-02", "2026-05-07", "Golden Week with the substitute holiday of 5/6"),
            ("2026-09-19", "2026-09-24", "Silver Week: 敬老の日, 国民の休日 and 秋分の日"),
            ("2027-03-21", "2027-03-23", "春分 on a Sunday: the substitute holiday is Monday"),
            ("2027-01-18", "2027-01-18", "DOMAIN.md 2.4 example, 60 days: an open Monday"),
            ("2026-12-01", "2026-12-01", "the first days of other months are open"),
            ("2028-01-03", "2028-01-04", "1/3 on a Monday is still closed"),
        ];
        for (due, legal, why) in rows {
            assert_eq!(next_open_day(date(due)), date(legal), "{why}");
        }
    }

    #[test]
    fn each_closed_day_says_why() {
        assert_eq!(closed(date("2026-12-19")), Some(Closed::Weekend));
        assert_eq!(closed(date("2026-11-23")), Some(Closed::NationalHoliday));
        assert_eq!(closed(date("2026-12-30")), Some(Closed::YearEnd));
        assert_eq!(closed(date("2026-12-18")), None);
        assert_eq!(closed(date("2026-12-02")), None, "a Wednesday early in a month");
        assert_eq!(closed(date("2028-01-03")), Some(Closed::YearEnd));
        assert_eq!(closed(date("2026-12-28")), None, "12/28 is open");
    }
}
