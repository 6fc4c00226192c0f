//! Persistence: the connection pool, and one module per aggregate with plain functions taking
//! `&mut AnyConnection`. Handlers never write SQL; they call these inside one transaction.

pub mod audit;
pub mod conn;
pub mod contacts;
pub mod dispatches;
pub mod idempotency;
pub mod incidents;
pub mod notifications;
pub mod obligations;
pub mod orgs;
pub mod schema;
pub mod settings;
pub mod stats;
pub mod updates;
pub mod users;

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
