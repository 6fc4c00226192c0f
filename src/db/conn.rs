//! The one place that knows there are two database engines: connecting, pragmas, transactions,
//! row locking and migrations differ here and nowhere else.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// A connection to either engine.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// The engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Postgres,
    Sqlite,
}

impl DbKind {
    /// `postgres://` and `postgresql://` select PostgreSQL; anything else is a SQLite path or URL.
    pub fn from_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DbKind::Postgres
        } else {
            DbKind::Sqlite
        }
    }
}

impl DbKind {
    /// SQL for the seconds from column `earlier` to column `later` (both UTC TIMESTAMP).
    pub fn seconds_between(self, later: &str, earlier: &str) -> String {
        match self {
            DbKind::Postgres => format!("EXTRACT(EPOCH FROM ({later} - {earlier}))::double precision"),
            DbKind::Sqlite => format!("((julianday({later}) - julianday({earlier})) * 86400.0)"),
        }
    }

    /// SQL for the Japan-time month `YYYY-MM` of a UTC TIMESTAMP column.
    /// The Japanese calendar day of a timestamp column, comparable with a DATE column.
    pub fn jst_date(self, col: &str) -> String {
        match self {
            DbKind::Postgres => format!("CAST({col} + INTERVAL '9 hours' AS DATE)"),
            DbKind::Sqlite => format!("date({col}, '+9 hours')"),
        }
    }

    pub fn jst_month(self, col: &str) -> String {
        match self {
            DbKind::Postgres => format!("to_char({col} + INTERVAL '9 hours', 'YYYY-MM')"),
            DbKind::Sqlite => format!("strftime('%Y-%m', {col}, '+9 hours')"),
        }
    }
}

/// Whether the engine tells other processes of new outbox rows (PostgreSQL's LISTEN/NOTIFY); SQLite
/// has one process per database, whose sender is woken in-process.
pub fn announces_changes(url: &str) -> bool {
    DbKind::from_url(url) == DbKind::Postgres
}

/// True when the URL names a SQLite file that no longer exists (deleted or moved away while pooled
/// handles still point at it); never for a server database, which the pool itself checks.
pub fn database_file_missing(url: &str) -> bool {
    DbKind::from_url(url) == DbKind::Sqlite && !std::path::Path::new(sqlite_path(url)).exists()
}

/// The file path of a `sqlite://path` URL (or a bare path).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url)
}

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Key of the PostgreSQL advisory lock that lets one instance migrate while the others wait.
const MIGRATION_LOCK_KEY: i64 = 0x6869_6b65_7368_6931;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl AnyConnection {
    /// Connects by URL scheme (the derived `establish` tries each engine in turn and hides errors).
    pub fn connect(url: &str) -> ConnectionResult<Self> {
        match DbKind::from_url(url) {
            DbKind::Postgres => Ok(AnyConnection::Postgresql(PgConnection::establish(url)?)),
            DbKind::Sqlite => {
                let mut c = SqliteConnection::establish(sqlite_path(url))?;
                c.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                )
                .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                Ok(AnyConnection::Sqlite(c))
            }
        }
    }

    pub fn kind(&self) -> DbKind {
        match self {
            AnyConnection::Postgresql(_) => DbKind::Postgres,
            AnyConnection::Sqlite(_) => DbKind::Sqlite,
        }
    }

    /// A read-then-write transaction: `BEGIN IMMEDIATE` on SQLite takes the write lock up front, so two
    /// writers queue on `busy_timeout` instead of failing with "database is locked" at their first write.
    pub fn write_transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        match self {
            AnyConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
            AnyConnection::Postgresql(c) => {
                <AnsiTransactionManager as TransactionManager<PgConnection>>::begin_transaction(c)?
            }
        }
        match f(self) {
            Ok(v) => {
                <AnyConnection as TransactionManager<AnyConnection>>::commit_transaction(self)?;
                Ok(v)
            }
            Err(e) => {
                // The original error matters more than a failed rollback (the connection is then
                // marked broken and dropped by the pool).
                let _ = <AnyConnection as TransactionManager<AnyConnection>>::rollback_transaction(self);
                Err(e)
            }
        }
    }

    /// Applies pending migrations. On PostgreSQL an advisory lock makes concurrent starters wait for
    /// the one that migrates. Refuses a database whose schema is newer than this binary.
    pub fn migrate(&mut self) -> Result<Vec<String>, BoxError> {
        self.check_schema_not_newer()?;
        // Nothing pending: touch nothing, so that a service role without rights on the schema
        // (README, "PostgreSQL roles for the audit trail") starts on a database migrated by its owner.
        let applied = self.applied_versions()?;
        if self.known_versions()?.iter().all(|v| applied.contains(v)) {
            return Ok(Vec::new());
        }
        match self {
            AnyConnection::Postgresql(c) => {
                diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(c)?;
                let result = c
                    .run_pending_migrations(PG_MIGRATIONS)
                    .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>());
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(c)?;
                result
            }
            AnyConnection::Sqlite(c) => {
                c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.iter().map(|m| m.to_string()).collect())
            }
        }
    }

    fn embedded(&self) -> EmbeddedMigrations {
        match self {
            AnyConnection::Postgresql(_) => PG_MIGRATIONS,
            AnyConnection::Sqlite(_) => SQLITE_MIGRATIONS,
        }
    }

    /// Versions known to this binary.
    fn known_versions(&self) -> Result<Vec<String>, BoxError> {
        let set = self.embedded();
        let migrations = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&set)?;
        Ok(migrations.iter().map(|m| m.name().version().to_string()).collect())
    }

    /// Versions recorded in the database (empty when it was never migrated).
    fn applied_versions(&mut self) -> Result<Vec<String>, BoxError> {
        #[derive(QueryableByName)]
        struct V {
            #[diesel(sql_type = diesel::sql_types::Text)]
            version: String,
        }
        let exists_sql = match self.kind() {
            DbKind::Postgres => {
                "SELECT CAST(COUNT(*) AS INTEGER) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '__diesel_schema_migrations'"
            }
            DbKind::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' \
                 AND name = '__diesel_schema_migrations'"
            }
        };
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            n: i32,
        }
        let n: N = diesel::sql_query(exists_sql).get_result(self)?;
        if n.n == 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<V> = diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load(self)?;
        Ok(rows.into_iter().map(|r| r.version).collect())
    }

    fn check_schema_not_newer(&mut self) -> Result<(), BoxError> {
        let known = self.known_versions()?;
        let unknown: Vec<String> = self.applied_versions()?.into_iter().filter(|v| !known.contains(v)).collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the database schema is newer than this binary (unknown migrations: {}); \
                 upgrade hikeshi before starting it on this database",
                unknown.join(", ")
            )
            .into())
        }
    }

    /// True when every migration this binary knows is applied (for `/readyz`).
    pub fn migrations_applied(&mut self) -> Result<bool, BoxError> {
        let applied = self.applied_versions()?;
        Ok(self.known_versions()?.iter().all(|v| applied.contains(v)))
    }
}

/// Runs a typed query that only one engine's dialect supports, compiling it once per engine.
#[macro_export]
macro_rules! with_inner {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::conn::AnyConnection::Postgresql($c) => $body,
            $crate::db::conn::AnyConnection::Sqlite($c) => $body,
        }
    };
}

/// r2d2 manager that connects by scheme and keeps the real connection error.
#[derive(Clone)]
pub struct AnyConnectionManager {
    url: String,
}

impl AnyConnectionManager {
    pub fn new(url: &str) -> Self {
        Self { url: url.to_owned() }
    }
}

impl std::fmt::Debug for AnyConnectionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnyConnectionManager").field("url", &crate::config::redact_url(&self.url)).finish()
    }
}

impl r2d2::ManageConnection for AnyConnectionManager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        AnyConnection::connect(&self.url).map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, c: &mut AnyConnection) -> Result<(), Self::Error> {
        c.batch_execute("SELECT 1").map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, c: &mut AnyConnection) -> bool {
        std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(c)
    }
}
