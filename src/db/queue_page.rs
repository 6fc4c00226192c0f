//! The triage queue page written as JSON while its rows are read.
//!
//! `GET /incidents` is the officers' most frequent read and its page is tens of kilobytes. Each row
//! is read as text (decoded by diesel), its enumerations checked, and serialised by serde from a
//! struct that borrows that text, the stored JSON documents passing through as `RawValue` instead
//! of being decoded into owned structures and encoded again. It is the same document
//! `IncidentSummary` serialises to (the test `the_written_queue_page_is_the_typed_one` compares the
//! two on both engines); [`super::incidents::list_items`] stays the typed reading of the same rows.

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::deserialize::{self, FromSqlRow};
use diesel::prelude::*;
use diesel::query_builder::{QueryBuilder, QueryFragment};
use diesel::row::Row;
use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamp};
use serde::Serialize;
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

/// The text of column `i` (None if NULL).
fn text<'r>(row: &impl Row<'r, MultiBackend>, i: usize) -> deserialize::Result<Option<String>> {
    row.get_value::<Nullable<Text>, Option<String>, usize>(i)
}

fn required<'a>(s: Option<&'a str>, what: &str) -> deserialize::Result<&'a str> {
    s.ok_or_else(|| format!("{what} is NULL").into())
}

/// A stored enumeration value, checked to be one.
fn word<T>(s: Option<&str>, what: &str, parse: fn(&str) -> Option<T>) -> deserialize::Result<T> {
    let s = required(s, what)?;
    parse(s).ok_or_else(|| format!("corrupt enum column {what}: {s:?}").into())
}

/// A stored JSON document, checked to be one and passed through as it is.
fn json<'a>(s: Option<&'a str>, what: &str) -> deserialize::Result<&'a RawValue> {
    serde_json::from_str(required(s, what)?).map_err(|e| format!("corrupt JSON column {what}: {e}").into())
}

/// `[]`, for a hospital whose row is missing.
fn empty_list() -> &'static RawValue {
    static EMPTY: OnceLock<Box<RawValue>> = OnceLock::new();
    EMPTY.get_or_init(|| RawValue::from_string("[]".to_owned()).expect("[] is JSON"))
}

/// One item as `IncidentSummary` serialises it, borrowing the row's text: the stored JSON documents
/// pass through as they are (`RawValue`), nothing is decoded into owned structures first.
#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    reference: &'a str,
    title: &'a str,
    category: Category,
    status: IncidentStatus,
    severity: Severity,
    priority: ItemPriority<'a>,
    hospital: ItemHospital<'a>,
    care_impact: CareImpact,
    drill: bool,
    overdue_obligations: i32,
    delivery_failed: bool,
    reported_at: DateTime<Utc>,
    version: i32,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct ItemPriority<'a> {
    score: i32,
    factors: &'a RawValue,
}

#[derive(Serialize)]
struct ItemHospital<'a> {
    id: &'a str,
    name: &'a str,
    prefecture: &'a str,
    prefecture_name: &'static str,
    beds: Option<i32>,
    regional_roles: &'a RawValue,
    legal_status: Option<LegalStatus>,
    code: Option<&'a str>,
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
        let time = |i| row.get_value::<Timestamp, NaiveDateTime, usize>(i).map(utc);
        let [id, reference, title, category, status, severity, factors, hospital_id, prefecture] = [
            col::ID,
            col::REFERENCE,
            col::TITLE,
            col::CATEGORY,
            col::STATUS,
            col::SEVERITY,
            col::FACTORS,
            col::HOSPITAL_ID,
            col::PREFECTURE,
        ]
        .map(|i| text(row, i));
        let [name, roles, legal_status, org_code, care_impact] =
            [col::HOSPITAL_NAME, col::ROLES, col::LEGAL_STATUS, col::CODE, col::CARE_IMPACT].map(|i| text(row, i));
        let (id, reference, title, factors, hospital_id, prefecture) =
            (id?, reference?, title?, factors?, hospital_id?, prefecture?);
        let (name, roles, legal_status, org_code) = (name?, roles?, legal_status?, org_code?);
        // A missing hospital row still shows the incident, with what the incident knows.
        let found = name.is_some();
        let pref_code = required(prefecture.as_deref(), "prefecture")?;
        let pref = Prefecture::parse(pref_code).ok_or_else(|| format!("corrupt prefecture {pref_code:?}"))?;
        let id_str = required(id.as_deref(), "id")?;
        let score = int(col::SCORE)?;
        let reported_at = time(col::REPORTED_AT)?;
        let item = Item {
            id: id_str,
            reference: required(reference.as_deref(), "reference")?,
            title: required(title.as_deref(), "title")?,
            category: word(category?.as_deref(), "category", Category::parse)?,
            status: word(status?.as_deref(), "status", IncidentStatus::parse)?,
            severity: word(severity?.as_deref(), "severity", Severity::parse)?,
            priority: ItemPriority { score, factors: json(factors.as_deref(), "priority_factors")? },
            hospital: ItemHospital {
                id: required(hospital_id.as_deref(), "hospital_id")?,
                name: name.as_deref().unwrap_or(""),
                // The stored code is the wire spelling once it parses.
                prefecture: pref_code,
                prefecture_name: pref.name_ja(),
                beds: row.get_value::<Nullable<Integer>, Option<i32>, usize>(if found {
                    col::HOSPITAL_BEDS
                } else {
                    col::INCIDENT_BEDS
                })?,
                regional_roles: if found { json(roles.as_deref(), "regional_roles")? } else { empty_list() },
                legal_status: match legal_status.as_deref().filter(|_| found) {
                    Some(s) => Some(word(Some(s), "legal_status", LegalStatus::parse)?),
                    None => None,
                },
                code: org_code.as_deref().filter(|_| found),
            },
            care_impact: word(care_impact?.as_deref(), "care_impact", CareImpact::parse)?,
            drill: row.get_value::<Bool, bool, usize>(col::DRILL)?,
            overdue_obligations: int(col::OVERDUE)?,
            delivery_failed: row.get_value::<Bool, bool, usize>(col::DEAD)?,
            reported_at,
            version: int(col::VERSION)?,
            updated_at: time(col::UPDATED_AT)?,
        };
        let mut json = Vec::with_capacity(ITEM_SIZE_HINT);
        serde_json::to_writer(&mut json, &item).map_err(|e| format!("a queue item: {e}"))?;
        Ok(QueueItem { json, cursor: Cursor { score, reported_at, id: id_str.to_owned() } })
    }
}
