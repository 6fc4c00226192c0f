//! The triage queue page written as JSON while its rows are read.
//!
//! `GET /incidents` is the officers' most frequent read and its page is tens of kilobytes: read
//! into owned rows and then serialised, each of its ~1,200 values is moved through two structs. Here
//! each row's values are read (text as one short-lived `String`, decoded safely by diesel) and
//! written straight into the item's JSON, the same document `IncidentSummary`
//! serialises to (the test `the_written_queue_page_is_the_typed_one` compares the two on both
//! engines). [`super::incidents::list_items`] stays the typed reading of the same rows.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDateTime, Timelike};
use diesel::deserialize::{self, FromSqlRow};
use diesel::prelude::*;
use diesel::query_builder::{QueryBuilder, QueryFragment};
use diesel::row::Row;
use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamp};
use serde_json::value::RawValue;

use super::conn::MultiBackend;
use super::incidents::{dead_notification, page_query, Cursor, Filters, Order};
use super::schema::{incidents, organizations};
use super::{utc, AnyConnection, DbResult, LiteralLimitDsl, StaticSql};
use crate::auth::Scope;
use crate::domain::{CareImpact, Category, IncidentStatus, LegalStatus, Prefecture, Severity};

/// One queue item: its JSON object and the position a page ending with it continues from.
#[derive(Debug)]
pub struct QueueItem {
    pub json: Vec<u8>,
    pub cursor: Cursor,
}

/// About a kilobyte per item (49 KB measured for 50 items of the benchmark's data).
const ITEM_SIZE_HINT: usize = 1200;

/// One page of visible incidents, each written as the JSON of an `IncidentSummary`.
pub fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    f: &Filters,
    order: Order,
    after: Option<&Cursor>,
    limit: i64,
) -> DbResult<Vec<QueueItem>> {
    Ok(page_query(scope, f, order, after).select(select_list(conn)).literal_limit(limit).load(conn)?)
}

/// [`columns`] as the engine of `conn` spells them, rendered once: diesel would otherwise render
/// its 23 columns again for every page only to find the statement in its cache (a tenth of a
/// page's CPU time).
fn select_list(conn: &AnyConnection) -> StaticSql<QueueRow> {
    static PG: OnceLock<String> = OnceLock::new();
    static SQLITE: OnceLock<String> = OnceLock::new();
    StaticSql::new(match conn {
        AnyConnection::Postgresql(_) => PG.get_or_init(|| {
            let mut sql = diesel::pg::PgQueryBuilder::default();
            columns().to_sql(&mut sql, &diesel::pg::Pg).expect("a select list renders");
            sql.finish()
        }),
        AnyConnection::Sqlite(_) => SQLITE.get_or_init(|| {
            let mut sql = diesel::sqlite::SqliteQueryBuilder::new();
            columns().to_sql(&mut sql, &diesel::sqlite::Sqlite).expect("a select list renders");
            sql.finish()
        }),
    })
}

/// The columns in the order `QueueItem::build_from_row` reads them (see `col`); they have no
/// parameters, so their text is all there is to them.
fn columns(
) -> impl Expression<SqlType = QueueRow> + QueryFragment<diesel::pg::Pg> + QueryFragment<diesel::sqlite::Sqlite> {
    (
        (
            incidents::id,
            incidents::reference,
            incidents::title,
            incidents::category,
            incidents::status,
            incidents::severity,
            incidents::priority_score,
            incidents::priority_factors,
            incidents::hospital_id,
            incidents::prefecture,
            incidents::beds,
        ),
        (
            organizations::name.nullable(),
            organizations::beds.nullable(),
            organizations::regional_roles.nullable(),
            organizations::legal_status.nullable(),
            organizations::code.nullable(),
            incidents::care_impact,
            incidents::drill,
            incidents::overdue_obligations,
            dead_notification(),
            incidents::reported_at,
            incidents::version,
            incidents::updated_at,
        ),
    )
}

/// Column positions of [`list`]'s select.
mod col {
    pub const ID: usize = 0;
    pub const REFERENCE: usize = 1;
    pub const TITLE: usize = 2;
    pub const CATEGORY: usize = 3;
    pub const STATUS: usize = 4;
    pub const SEVERITY: usize = 5;
    pub const SCORE: usize = 6;
    pub const FACTORS: usize = 7;
    pub const HOSPITAL_ID: usize = 8;
    pub const PREFECTURE: usize = 9;
    pub const INCIDENT_BEDS: usize = 10;
    pub const HOSPITAL_NAME: usize = 11;
    pub const HOSPITAL_BEDS: usize = 12;
    pub const ROLES: usize = 13;
    pub const LEGAL_STATUS: usize = 14;
    pub const CODE: usize = 15;
    pub const CARE_IMPACT: usize = 16;
    pub const DRILL: usize = 17;
    pub const OVERDUE: usize = 18;
    pub const DEAD: usize = 19;
    pub const REPORTED_AT: usize = 20;
    pub const VERSION: usize = 21;
    pub const UPDATED_AT: usize = 22;
    pub const COUNT: usize = 23;
}

/// Calls `f` with the text of column `i` (None if NULL).
fn with_text<'r, R, T>(
    row: &R,
    i: usize,
    f: impl FnOnce(Option<&str>) -> deserialize::Result<T>,
) -> deserialize::Result<T>
where
    R: Row<'r, MultiBackend>,
{
    let value = row.get_value::<Nullable<Text>, Option<String>, usize>(i)?;
    f(value.as_deref())
}

fn required<'a>(s: Option<&'a str>, what: &str) -> deserialize::Result<&'a str> {
    s.ok_or_else(|| format!("{what} is NULL").into())
}

/// The JSON being written.
struct Out(Vec<u8>);

impl Out {
    fn raw(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }

    fn string(&mut self, s: &str) {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.0, s);
    }

    /// A text column that cannot be NULL.
    fn text(&mut self, s: Option<&str>, what: &str) -> deserialize::Result<()> {
        self.string(required(s, what)?);
        Ok(())
    }

    /// A nullable text column.
    fn opt_text(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.raw("null"),
        }
    }

    fn int(&mut self, n: i32) {
        let _ = serde_json::to_writer(&mut self.0, &n);
    }

    fn opt_int(&mut self, n: Option<i32>) {
        match n {
            Some(n) => self.int(n),
            None => self.raw("null"),
        }
    }

    fn bool(&mut self, b: bool) {
        self.raw(if b { "true" } else { "false" });
    }

    /// A UTC time as chrono serialises a `DateTime<Utc>` (RFC 3339, `Z`, fractional seconds in
    /// 3, 6 or 9 digits as needed), so that lists and details spell times alike; written by hand
    /// because chrono's formatting machinery was a tenth of the page's JSON time.
    fn time(&mut self, t: NaiveDateTime) {
        let year = t.year();
        if !(0..=9999).contains(&year) || t.nanosecond() >= 1_000_000_000 {
            // Signed years and leap seconds: chrono's own spelling.
            let _ = serde_json::to_writer(&mut self.0, &utc(t));
            return;
        }
        let mut b = *b"\"0000-00-00T00:00:00.000000000";
        let mut put = |at: usize, n: u32, digits: usize| {
            let mut n = n;
            for i in (0..digits).rev() {
                b[at + i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(1, year as u32, 4);
        put(6, t.month(), 2);
        put(9, t.day(), 2);
        put(12, t.hour(), 2);
        put(15, t.minute(), 2);
        put(18, t.second(), 2);
        let nanos = t.nanosecond();
        put(21, nanos, 9);
        let len = match nanos {
            0 => 20,
            n if n % 1_000_000 == 0 => 24,
            n if n % 1_000 == 0 => 27,
            _ => 30,
        };
        self.0.extend_from_slice(&b[..len]);
        self.0.extend_from_slice(b"Z\"");
    }

    /// A stored enumeration value, checked to be one.
    fn word(&mut self, s: Option<&str>, what: &str, valid: fn(&str) -> bool) -> deserialize::Result<()> {
        let s = required(s, what)?;
        if !valid(s) {
            return Err(format!("corrupt enum column {what}: {s:?}").into());
        }
        self.string(s);
        Ok(())
    }

    /// A stored JSON document, checked to be one and passed through.
    fn json(&mut self, s: Option<&str>, what: &str) -> deserialize::Result<()> {
        let raw: &RawValue =
            serde_json::from_str(required(s, what)?).map_err(|e| format!("corrupt JSON column {what}: {e}"))?;
        self.raw(raw.get());
        Ok(())
    }
}

/// The SQL types of [`list`]'s select.
type QueueRow = (
    (Text, Text, Text, Text, Text, Text, Integer, Text, Text, Text, Nullable<Integer>),
    (
        Nullable<Text>,
        Nullable<Integer>,
        Nullable<Text>,
        Nullable<Text>,
        Nullable<Text>,
        Text,
        Bool,
        Integer,
        Bool,
        Timestamp,
        Integer,
        Timestamp,
    ),
);

impl FromSqlRow<QueueRow, MultiBackend> for QueueItem {
    fn build_from_row<'a>(row: &impl Row<'a, MultiBackend>) -> deserialize::Result<Self> {
        if row.field_count() != col::COUNT {
            return Err(format!("a queue row has {} columns, not {}", row.field_count(), col::COUNT).into());
        }
        let int = |i| row.get_value::<Integer, i32, usize>(i);
        let opt_int = |i| row.get_value::<Nullable<Integer>, Option<i32>, usize>(i);
        let time = |i| row.get_value::<Timestamp, NaiveDateTime, usize>(i);
        let mut o = Out(Vec::with_capacity(ITEM_SIZE_HINT));

        o.raw("{\"id\":");
        let id = with_text(row, col::ID, |s| Ok(required(s, "id")?.to_owned()))?;
        o.string(&id);
        o.raw(",\"reference\":");
        with_text(row, col::REFERENCE, |s| o.text(s, "reference"))?;
        o.raw(",\"title\":");
        with_text(row, col::TITLE, |s| o.text(s, "title"))?;
        o.raw(",\"category\":");
        with_text(row, col::CATEGORY, |s| o.word(s, "category", |s| Category::parse(s).is_some()))?;
        o.raw(",\"status\":");
        with_text(row, col::STATUS, |s| o.word(s, "status", |s| IncidentStatus::parse(s).is_some()))?;
        o.raw(",\"severity\":");
        with_text(row, col::SEVERITY, |s| o.word(s, "severity", |s| Severity::parse(s).is_some()))?;
        let score = int(col::SCORE)?;
        o.raw(",\"priority\":{\"score\":");
        o.int(score);
        o.raw(",\"factors\":");
        with_text(row, col::FACTORS, |s| o.json(s, "priority_factors"))?;

        o.raw("},\"hospital\":{\"id\":");
        with_text(row, col::HOSPITAL_ID, |s| o.text(s, "hospital_id"))?;
        // A missing hospital row still shows the incident, with what the incident knows.
        let found = with_text(row, col::HOSPITAL_NAME, |name| {
            o.raw(",\"name\":");
            o.string(name.unwrap_or(""));
            Ok(name.is_some())
        })?;
        let prefecture = with_text(row, col::PREFECTURE, |s| {
            let s = required(s, "prefecture")?;
            let p = Prefecture::parse(s).ok_or_else(|| format!("corrupt prefecture {s:?}"))?;
            // The stored code is the wire spelling once it parses.
            o.raw(",\"prefecture\":");
            o.string(s);
            Ok(p)
        })?;
        o.raw(",\"prefecture_name\":");
        o.string(prefecture.name_ja());
        o.raw(",\"beds\":");
        o.opt_int(opt_int(if found { col::HOSPITAL_BEDS } else { col::INCIDENT_BEDS })?);
        o.raw(",\"regional_roles\":");
        if found {
            with_text(row, col::ROLES, |s| o.json(s, "regional_roles"))?;
        } else {
            o.raw("[]");
        }
        o.raw(",\"legal_status\":");
        with_text(row, col::LEGAL_STATUS, |s| match s.filter(|_| found) {
            Some(s) => o.word(Some(s), "legal_status", |s| LegalStatus::parse(s).is_some()),
            None => {
                o.raw("null");
                Ok(())
            }
        })?;
        o.raw(",\"code\":");
        with_text(row, col::CODE, |s| {
            o.opt_text(s.filter(|_| found));
            Ok(())
        })?;

        o.raw("},\"care_impact\":");
        with_text(row, col::CARE_IMPACT, |s| o.word(s, "care_impact", |s| CareImpact::parse(s).is_some()))?;
        o.raw(",\"drill\":");
        o.bool(row.get_value::<Bool, bool, usize>(col::DRILL)?);
        o.raw(",\"overdue_obligations\":");
        o.int(int(col::OVERDUE)?);
        o.raw(",\"delivery_failed\":");
        o.bool(row.get_value::<Bool, bool, usize>(col::DEAD)?);
        let reported_at = time(col::REPORTED_AT)?;
        o.raw(",\"reported_at\":");
        o.time(reported_at);
        o.raw(",\"version\":");
        o.int(int(col::VERSION)?);
        o.raw(",\"updated_at\":");
        o.time(time(col::UPDATED_AT)?);
        o.raw("}");
        Ok(QueueItem { json: o.0, cursor: Cursor { score, reported_at: utc(reported_at), id } })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveDateTime};

    #[test]
    fn times_are_spelled_as_chrono_spells_them() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let mut times: Vec<NaiveDateTime> = [0, 1_000_000, 123_000_000, 1_000, 784_680_000, 1, 999_999_999]
            .iter()
            .map(|n| day.and_hms_nano_opt(9, 5, 7, *n).unwrap())
            .collect();
        times.push(NaiveDate::from_ymd_opt(1, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap());
        times.push(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap().and_hms_micro_opt(23, 59, 59, 999_999).unwrap());
        times.push(NaiveDate::from_ymd_opt(-1, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap());
        times.push(NaiveDate::from_ymd_opt(10000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap());
        times.push(day.and_hms_milli_opt(23, 59, 59, 1_500).unwrap());
        for t in times {
            let mut out = super::Out(vec![]);
            out.time(t);
            assert_eq!(String::from_utf8(out.0).unwrap(), serde_json::to_string(&t.and_utc()).unwrap(), "{t:?}");
        }
    }
}
