//! Failed sign-ins per account (the e-mail as typed) and client: what `auth::throttle` decides from.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::schema::sign_in_failures as f;
use super::{ts, utc, AnyConnection, DbResult};
use crate::auth::throttle::{Policy, Standing};

fn key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The recorded standing of `client` with the account `email` at `now`.
pub fn standing(conn: &mut AnyConnection, email: &str, client: &str, now: DateTime<Utc>) -> DbResult<Standing> {
    let email = key(email);
    let row: Option<(Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>)> = f::table
        .filter(f::email.eq(&email))
        .filter(f::client.eq(client))
        .select((f::wait_until, f::last_success_at))
        .first(conn)
        .optional()?;
    let account_failures_last_hour: Option<i64> = f::table
        .filter(f::email.eq(&email))
        .filter(f::last_failure_at.gt(ts(now - Duration::hours(1))))
        .select(diesel::dsl::sum(f::failures))
        .first(conn)?;
    Ok(Standing {
        wait_until: row.as_ref().and_then(|r| r.0).map(utc),
        known_client: row.is_some_and(|r| r.1.is_some()),
        account_failures_last_hour: account_failures_last_hour.unwrap_or(0),
    })
}

/// Counts a failure of `client` with `email`; returns the failures in a row and the wait it earned.
pub fn record_failure(
    conn: &mut AnyConnection,
    email: &str,
    client: &str,
    now: DateTime<Utc>,
    policy: &Policy,
) -> DbResult<(i32, Option<Duration>)> {
    let email = key(email);
    let row = f::table.filter(f::email.eq(&email)).filter(f::client.eq(client));
    let updated =
        diesel::update(row).set((f::failures.eq(f::failures + 1), f::last_failure_at.eq(ts(now)))).execute(conn)?;
    if updated == 0 {
        diesel::insert_into(f::table)
            .values((
                f::email.eq(&email),
                f::client.eq(client),
                f::failures.eq(1),
                f::last_failure_at.eq(Some(ts(now))),
            ))
            .execute(conn)?;
    }
    let failures: i32 = row.select(f::failures).first(conn)?;
    let wait = policy.wait_after(failures);
    if let Some(w) = wait {
        diesel::update(row).set(f::wait_until.eq(Some(ts(now + w)))).execute(conn)?;
    }
    Ok((failures, wait))
}

/// A successful sign-in: the client's count starts again and it is known to be the owner's.
pub fn record_success(conn: &mut AnyConnection, email: &str, client: &str, now: DateTime<Utc>) -> DbResult<()> {
    let email = key(email);
    let updated = diesel::update(f::table.filter(f::email.eq(&email)).filter(f::client.eq(client)))
        .set((f::failures.eq(0), f::wait_until.eq(None::<chrono::NaiveDateTime>), f::last_success_at.eq(Some(ts(now)))))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(f::table)
            .values((
                f::email.eq(&email),
                f::client.eq(client),
                f::failures.eq(0),
                f::last_success_at.eq(Some(ts(now))),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Lifts every wait on an account (an administrator's `unlock`).
pub fn clear(conn: &mut AnyConnection, email: &str) -> DbResult<usize> {
    Ok(diesel::update(f::table.filter(f::email.eq(key(email))))
        .set((f::failures.eq(0), f::wait_until.eq(None::<chrono::NaiveDateTime>)))
        .execute(conn)?)
}

/// Forgets clients the owner never used whose last failure is older than `failures_before`, and
/// the owner's clients unused since `known_before`, so the table holds only recent attempts.
pub fn prune(conn: &mut AnyConnection, failures_before: DateTime<Utc>, known_before: DateTime<Utc>) -> DbResult<usize> {
    let (failures_before, known_before) = (ts(failures_before), ts(known_before));
    let quiet = f::last_failure_at.is_null().or(f::last_failure_at.lt(failures_before));
    let unused = f::last_success_at.is_null().or(f::last_success_at.lt(known_before));
    Ok(diesel::delete(f::table.filter(quiet).filter(unused)).execute(conn)?)
}
