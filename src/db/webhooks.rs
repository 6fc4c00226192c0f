//! Webhook subscriptions: where events are pushed, signed with the subscription's secret.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::webhooks;
use super::{from_json, to_json, ts, utc, AnyConnection, DbResult};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = webhooks)]
#[diesel(treat_none_as_null = true)]
struct WebhookRow {
    id: String,
    url: String,
    events: String,
    owner_id: String,
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<NaiveDateTime>,
    active: bool,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// A subscription. The secrets sign deliveries; they leave the service only in the answer that
/// creates or rotates them.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<crate::domain::WebhookEvent>,
    /// The user whose need-to-know applies to the payloads.
    pub owner_id: String,
    pub secret: String,
    /// The secret before the last rotation, still signing (beside the new one) until `previous_until`.
    pub previous_secret: Option<String>,
    pub previous_until: Option<DateTime<Utc>>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn from_row(r: WebhookRow) -> DbResult<Webhook> {
    Ok(Webhook {
        events: from_json(&r.events)?,
        previous_until: r.previous_until.map(utc),
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
        id: r.id,
        url: r.url,
        owner_id: r.owner_id,
        secret: r.secret,
        previous_secret: r.previous_secret,
        active: r.active,
        version: r.version,
    })
}

fn to_row(w: &Webhook) -> WebhookRow {
    WebhookRow {
        id: w.id.clone(),
        url: w.url.clone(),
        events: to_json(&w.events),
        owner_id: w.owner_id.clone(),
        secret: w.secret.clone(),
        previous_secret: w.previous_secret.clone(),
        previous_until: w.previous_until.map(ts),
        active: w.active,
        version: w.version,
        created_at: ts(w.created_at),
        updated_at: ts(w.updated_at),
    }
}

pub fn insert(conn: &mut AnyConnection, w: &Webhook) -> DbResult<()> {
    diesel::insert_into(webhooks::table).values(to_row(w)).execute(conn)?;
    Ok(())
}

/// Every subscription, oldest first.
pub fn list(conn: &mut AnyConnection) -> DbResult<Vec<Webhook>> {
    let rows: Vec<WebhookRow> =
        webhooks::table.order((webhooks::created_at, webhooks::id)).select(WebhookRow::as_select()).load(conn)?;
    rows.into_iter().map(from_row).collect()
}

pub fn get(conn: &mut AnyConnection, id: &str) -> DbResult<Option<Webhook>> {
    let row: Option<WebhookRow> = webhooks::table.find(id).select(WebhookRow::as_select()).first(conn).optional()?;
    row.map(from_row).transpose()
}

/// Writes `w` (its version already moved on) unless another writer came first.
pub fn update(conn: &mut AnyConnection, w: &Webhook) -> DbResult<bool> {
    let n = diesel::update(webhooks::table.find(&w.id).filter(webhooks::version.eq(w.version - 1)))
        .set(to_row(w))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn delete(conn: &mut AnyConnection, id: &str) -> DbResult<bool> {
    Ok(diesel::delete(webhooks::table.find(id)).execute(conn)? == 1)
}
