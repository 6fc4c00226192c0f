//! The two migration trees describe the same schema.

use std::collections::BTreeSet;
use std::path::Path;

use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use hikeshi::db::AnyConnection;

use crate::helpers::{pg_admin_url, PgDatabase};

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

fn columns(conn: &mut AnyConnection, sql: &str) -> BTreeSet<(String, String)> {
    let rows: Vec<Column> = diesel::sql_query(sql).load(conn).expect("column query");
    rows.into_iter().map(|c| (c.table_name, c.column_name)).collect()
}

const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name \
     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'";

const PG_COLUMNS: &str = "SELECT CAST(table_name AS TEXT) AS table_name, CAST(column_name AS TEXT) AS column_name \
     FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'";

fn migration_names(engine: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(engine);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_engines_have_the_same_migration_names() {
    let pg = migration_names("postgres");
    let sqlite = migration_names("sqlite");
    assert!(!pg.is_empty(), "no migrations found");
    assert_eq!(pg, sqlite, "migrations/postgres and migrations/sqlite must list the same names");
}

#[test]
fn sqlite_and_postgres_migrations_create_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let mut lite = AnyConnection::connect(&format!("sqlite://{}", dir.path().join("schema.db").display())).unwrap();
    let applied = lite.migrate().expect("SQLite migrations apply");
    assert!(!applied.is_empty());
    let sqlite = columns(&mut lite, SQLITE_COLUMNS);
    assert!(!sqlite.is_empty(), "SQLite migrations created no tables");
    assert!(sqlite.contains(&("users".to_owned(), "email".to_owned())), "{sqlite:?}");
    // Migrating again is a no-op.
    assert!(lite.migrate().unwrap().is_empty());

    let Some(admin) = pg_admin_url() else { return };
    let db = PgDatabase::create(&admin);
    let mut pg = AnyConnection::connect(&db.url).expect("connect to the fresh PostgreSQL database");
    pg.migrate().expect("PostgreSQL migrations apply");
    let postgres = columns(&mut pg, PG_COLUMNS);
    drop(pg);

    let only_pg: Vec<_> = postgres.difference(&sqlite).collect();
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    assert!(
        only_pg.is_empty() && only_sqlite.is_empty(),
        "schemas differ:\n  only in PostgreSQL: {only_pg:?}\n  only in SQLite: {only_sqlite:?}"
    );
}
