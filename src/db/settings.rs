//! Key-value settings kept in the database (the generated JWT key, the two-factor policy).

use diesel::prelude::*;

use super::schema::settings;
use super::AnyConnection;

pub fn get(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<String>> {
    settings::table.filter(settings::key.eq(key)).select(settings::value).first(conn).optional()
}

/// Inserts the value unless the key exists, then returns the stored value: several instances
/// starting at once agree on the first one written.
pub fn get_or_insert(conn: &mut AnyConnection, key: &str, value: &str) -> QueryResult<String> {
    diesel::sql_query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind::<diesel::sql_types::Text, _>(key)
        .bind::<diesel::sql_types::Text, _>(value)
        .execute(conn)?;
    settings::table.filter(settings::key.eq(key)).select(settings::value).first(conn)
}

pub fn put(conn: &mut AnyConnection, key: &str, value: &str) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind::<diesel::sql_types::Text, _>(key)
    .bind::<diesel::sql_types::Text, _>(value)
    .execute(conn)?;
    Ok(())
}
