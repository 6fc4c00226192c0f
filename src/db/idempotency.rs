//! Idempotency records: a repeated `POST /incidents` with the same key replays the first answer.

use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::{ts, AnyConnection, DbResult};

/// The stored first answer to a keyed request.
#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRecord {
    pub user_id: String,
    pub idem_key: String,
    pub request_hash: String,
    pub response_status: i32,
    pub response_body: String,
    pub resource_id: String,
    pub created_at: chrono::NaiveDateTime,
}

pub fn get(conn: &mut AnyConnection, user_id: &str, key: &str) -> DbResult<Option<IdempotencyRecord>> {
    Ok(idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(user_id))
        .filter(idempotency_keys::idem_key.eq(key))
        .select(IdempotencyRecord::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
    request_hash: &str,
    status: u16,
    body: &str,
    resource_id: &str,
) -> DbResult<bool> {
    let record = IdempotencyRecord {
        user_id: user_id.into(),
        idem_key: key.into(),
        request_hash: request_hash.into(),
        response_status: i32::from(status),
        response_body: body.into(),
        resource_id: resource_id.into(),
        created_at: ts(super::now()),
    };
    let n = crate::with_inner!(conn, |c| diesel::insert_into(idempotency_keys::table)
        .values(&record)
        .on_conflict((idempotency_keys::user_id, idempotency_keys::idem_key))
        .do_nothing()
        .execute(c))?;
    Ok(n == 1)
}
