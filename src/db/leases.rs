//! Leases: a job that only one instance may run at a time (the inbox reader). The holder renews
//! its lease while it works; when it stops renewing (killed, cut off), another instance takes over
//! after the lease lapses.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::schema::leases;
use super::{ts, AnyConnection, DbResult};

/// Takes or renews the lease `name` for `holder` until `now + length`. `true` while `holder` holds
/// it; `false` when another holder's lease has not lapsed.
pub fn hold(
    conn: &mut AnyConnection,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    length: Duration,
) -> DbResult<bool> {
    let until = ts(now + length);
    crate::with_inner!(conn, |c| diesel::insert_into(leases::table)
        .values((leases::name.eq(name), leases::holder.eq(holder), leases::until.eq(until)))
        .on_conflict_do_nothing()
        .execute(c))?;
    let n = diesel::update(
        leases::table
            .filter(leases::name.eq(name.to_owned()))
            .filter(leases::holder.eq(holder.to_owned()).or(leases::until.lt(ts(now)))),
    )
    .set((leases::holder.eq(holder.to_owned()), leases::until.eq(until)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Gives the lease up at once (a clean stop), so another instance need not wait for it to lapse.
pub fn release(conn: &mut AnyConnection, name: &str, holder: &str) -> DbResult<()> {
    diesel::delete(leases::table.filter(leases::name.eq(name.to_owned())).filter(leases::holder.eq(holder.to_owned())))
        .execute(conn)?;
    Ok(())
}
