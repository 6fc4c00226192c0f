//! Persistence: the connection pool, and one module per aggregate with plain functions taking
//! `&mut AnyConnection`. Handlers never write SQL; they call these inside one transaction.

pub mod advisories;
pub mod audit;
pub mod audit_check;
pub mod campaigns;
pub mod checklists;
pub mod conn;
pub mod contacts;
pub mod dispatches;
pub mod idempotency;
pub mod incidents;
pub mod leases;
pub mod messages;
pub mod notifications;
pub mod obligations;
pub mod orgs;
pub mod queue_page;
pub mod schema;
pub mod settings;
pub mod sign_in;
pub mod stats;
pub mod updates;
pub mod users;
pub mod webhooks;

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use conn::{AnyConnection, AnyConnectionManager, DbKind};

/// The connection pool.
pub type Pool = r2d2::Pool<AnyConnectionManager>;

/// Builds a pool without connecting yet, so that a server can start while the database is down
/// and recover when it returns.
pub fn build_pool(url: &str, size: u32) -> Pool {
    let size = match DbKind::from_url(url) {
        // SQLite has one writer; a few readers beside it are plenty.
        DbKind::Sqlite => size.min(4),
        DbKind::Postgres => size,
    };
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(3))
        .test_on_check_out(false)
        .build_unchecked(AnyConnectionManager::new(url))
}

/// `LIMIT n` written into the statement's text instead of bound as a parameter.
///
/// PostgreSQL cannot cost a plan whose LIMIT is a parameter (it assumes a tenth of the table), so a
/// prepared page query with a bound LIMIT never earns a reusable generic plan and is planned again
/// at every execution: for the triage queue that planning cost more than running the query. With
/// the limit in the text, each page size is its own prepared statement and is planned once.
#[derive(Debug, Clone, Copy)]
pub struct LiteralLimit<Q> {
    query: Q,
    limit: u64,
}

/// `.literal_limit(n)` on any select statement (see [`LiteralLimit`]); a negative `n` is 0.
pub trait LiteralLimitDsl: Sized {
    fn literal_limit(self, n: i64) -> LiteralLimit<Self> {
        LiteralLimit { query: self, limit: n.max(0).unsigned_abs() }
    }
}

impl<Q: diesel::query_builder::Query> LiteralLimitDsl for Q {}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for LiteralLimit<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for LiteralLimit<Q>
where
    Q: diesel::query_builder::QueryFragment<DB>,
    DB: diesel::backend::Backend,
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> diesel::QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_sql(&self.limit.to_string());
        Ok(())
    }
}

// The text depends on the limit, so the statement cache must key on the SQL, not on the type.
impl<Q> diesel::query_builder::QueryId for LiteralLimit<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, Conn> diesel::RunQueryDsl<Conn> for LiteralLimit<Q> {}

/// A fixed SQL expression of type `ST`. Unlike `diesel::dsl::sql`, whose text may be built at run
/// time and so keeps its statement out of the prepared statement cache, this text is fixed for the
/// life of the process, and it is pushed as it is rather than built again for every statement.
#[derive(Debug)]
pub struct StaticSql<ST>(&'static str, std::marker::PhantomData<ST>);

impl<ST> StaticSql<ST> {
    pub const fn new(sql: &'static str) -> Self {
        StaticSql(sql, std::marker::PhantomData)
    }
}

impl<ST> Clone for StaticSql<ST> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<ST> Copy for StaticSql<ST> {}

/// A fixed SQL condition. For conditions a partial index is defined with: PostgreSQL can use such
/// an index in a reused (generic) plan only when the condition's value is in the statement's text,
/// not a parameter.
pub type StaticCondition = StaticSql<diesel::sql_types::Bool>;

impl<ST: diesel::expression::TypedExpressionType> diesel::expression::Expression for StaticSql<ST> {
    type SqlType = ST;
}

impl<ST, DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for StaticSql<ST> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> diesel::QueryResult<()> {
        out.push_sql(self.0);
        Ok(())
    }
}

impl<ST> diesel::query_builder::QueryId for StaticSql<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, QS> diesel::expression::AppearsOnTable<QS> for StaticSql<ST> where StaticSql<ST>: diesel::Expression {}

impl<ST, QS> diesel::expression::SelectableExpression<QS> for StaticSql<ST> where StaticSql<ST>: diesel::Expression {}

impl<ST, GB> diesel::expression::ValidGrouping<GB> for StaticSql<ST> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// Now, in UTC, truncated to microseconds (PostgreSQL's precision) so round trips are exact.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A time as stored: UTC, microseconds.
pub fn ts(t: DateTime<Utc>) -> NaiveDateTime {
    t.trunc_subsecs(6).naive_utc()
}

/// A stored time back as UTC.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A new time-ordered id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Serializes a value stored as JSON text.
pub fn to_json<T: Serialize + ?Sized>(v: &T) -> String {
    // Serializing plain data types cannot fail; an empty object is a safe fallback regardless.
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Reads a value stored as JSON text; a corrupt row is an internal error, not a panic.
pub fn from_json<T: DeserializeOwned>(s: &str) -> anyhow::Result<T> {
    serde_json::from_str(s).map_err(|e| anyhow::anyhow!("corrupt JSON column: {e}"))
}

/// Parses a stored enumeration value.
pub fn parse_enum<T: std::str::FromStr<Err = String>>(s: &str) -> anyhow::Result<T> {
    s.parse::<T>().map_err(|e| anyhow::anyhow!("corrupt enum column {s:?}: {e}"))
}

/// Errors of the persistence layer: diesel's, or a row that does not decode.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Diesel(#[from] diesel::result::Error),
    #[error(transparent)]
    Corrupt(#[from] anyhow::Error),
}

impl From<DbError> for crate::error::ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Diesel(d) => d.into(),
            DbError::Corrupt(c) => crate::error::ApiError::Internal(c),
        }
    }
}

pub type DbResult<T> = Result<T, DbError>;
