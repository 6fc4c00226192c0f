//! Advisories: the ministry's warnings to the hospitals matching criteria, and each hospital's
//! acknowledgement.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::{advisories, advisory_recipients, organizations, users};
use super::{from_json, to_json, ts, utc, AnyConnection, DbResult};
use crate::domain::national::AdvisoryCriteria;
use crate::domain::Prefecture;

/// A hospital an advisory went to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Recipient {
    pub organization_id: String,
    pub organization_name: String,
    pub prefecture: Option<Prefecture>,
    /// When its e-mail was queued (null: the hospital has no user with an e-mail to send it to).
    pub notified_at: Option<DateTime<Utc>>,
    pub reminded_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// Recipients and acknowledgements, counted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Counts {
    pub recipients: usize,
    pub acknowledged: usize,
}

/// An advisory with its recipients.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Advisory {
    pub id: String,
    pub title: String,
    pub body: String,
    pub title_en: Option<String>,
    pub body_en: Option<String>,
    pub criteria: AdvisoryCriteria,
    pub campaign_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by_name: String,
    pub counts: Counts,
    /// Officers: every hospital it went to. A hospital: its own entry only (and no criteria or
    /// campaign: they would name where else attacks happened).
    pub recipients: Vec<Recipient>,
}

/// A new advisory, as written.
#[derive(Debug, Clone)]
pub struct NewAdvisory {
    pub id: String,
    pub title: String,
    pub body: String,
    pub title_en: Option<String>,
    pub body_en: Option<String>,
    pub criteria: AdvisoryCriteria,
    pub campaign_id: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Every hospital with its prefecture and remote-access products (to match criteria against).
pub fn hospitals(conn: &mut AnyConnection) -> DbResult<Vec<(String, Option<String>, String)>> {
    Ok(organizations::table
        .filter(organizations::kind.eq(crate::domain::OrgKind::Hospital.as_str()))
        .order(organizations::id.asc())
        .select((organizations::id, organizations::prefecture, organizations::remote_access))
        .load(conn)?)
}

/// Writes an advisory and its recipients (`notified`: those whose e-mail was queued).
pub fn insert(conn: &mut AnyConnection, a: &NewAdvisory, recipients: &[(String, bool)]) -> DbResult<()> {
    diesel::insert_into(advisories::table)
        .values((
            advisories::id.eq(&a.id),
            advisories::title.eq(&a.title),
            advisories::body.eq(&a.body),
            advisories::title_en.eq(&a.title_en),
            advisories::body_en.eq(&a.body_en),
            advisories::criteria.eq(to_json(&a.criteria)),
            advisories::campaign_id.eq(&a.campaign_id),
            advisories::created_by.eq(&a.created_by),
            advisories::created_at.eq(ts(a.created_at)),
        ))
        .execute(conn)?;
    if recipients.is_empty() {
        return Ok(());
    }
    let at = ts(a.created_at);
    let rows: Vec<_> = recipients
        .iter()
        .map(|(org, notified)| {
            (
                advisory_recipients::advisory_id.eq(&a.id),
                advisory_recipients::org_id.eq(org.as_str()),
                advisory_recipients::notified_at.eq(notified.then_some(at)),
            )
        })
        .collect();
    for chunk in rows.chunks(5000) {
        crate::with_inner!(conn, |c| diesel::insert_into(advisory_recipients::table).values(chunk).execute(c))?;
    }
    Ok(())
}

type HeadRow =
    (String, String, String, Option<String>, Option<String>, String, Option<String>, NaiveDateTime, Option<String>);
type RecipientRow =
    (String, String, String, Option<String>, Option<NaiveDateTime>, Option<NaiveDateTime>, Option<NaiveDateTime>);

/// Advisories newest first (`org`: only those sent to that hospital, with its own entry only).
pub fn list(
    conn: &mut AnyConnection,
    org: Option<&str>,
    before: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> DbResult<Vec<Advisory>> {
    load(conn, org, None, before, limit)
}

/// One advisory (`org`: as that hospital sees it; `None` if it was not sent to it).
pub fn get(conn: &mut AnyConnection, id: &str, org: Option<&str>) -> DbResult<Option<Advisory>> {
    Ok(load(conn, org, Some(id), None, 1)?.pop())
}

fn load(
    conn: &mut AnyConnection,
    org: Option<&str>,
    only: Option<&str>,
    before: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> DbResult<Vec<Advisory>> {
    let mut q = advisories::table.left_join(users::table.on(users::id.eq(advisories::created_by))).into_boxed();
    if let Some(o) = org {
        let sent_to = advisory_recipients::table
            .filter(advisory_recipients::org_id.eq(o.to_owned()))
            .select(advisory_recipients::advisory_id);
        q = q.filter(advisories::id.eq_any(sent_to));
    }
    if let Some(id) = only {
        q = q.filter(advisories::id.eq(id.to_owned()));
    }
    if let Some((at, id)) = before {
        q = q
            .filter(advisories::created_at.lt(ts(at)).or(advisories::created_at.eq(ts(at)).and(advisories::id.lt(id))));
    }
    let heads: Vec<HeadRow> = q
        .order((advisories::created_at.desc(), advisories::id.desc()))
        .limit(limit)
        .select((
            advisories::id,
            advisories::title,
            advisories::body,
            advisories::title_en,
            advisories::body_en,
            advisories::criteria,
            advisories::campaign_id,
            advisories::created_at,
            users::name.nullable(),
        ))
        .load(conn)?;
    complete(conn, heads, org)
}

fn complete(conn: &mut AnyConnection, heads: Vec<HeadRow>, org: Option<&str>) -> DbResult<Vec<Advisory>> {
    let ids: Vec<&str> = heads.iter().map(|h| h.0.as_str()).collect();
    let mut q = advisory_recipients::table
        .inner_join(organizations::table)
        .filter(advisory_recipients::advisory_id.eq_any(ids))
        .into_boxed();
    if let Some(o) = org {
        q = q.filter(advisory_recipients::org_id.eq(o.to_owned()));
    }
    let rows: Vec<RecipientRow> = q
        .order((organizations::prefecture.asc(), organizations::name.asc()))
        .select((
            advisory_recipients::advisory_id,
            advisory_recipients::org_id,
            organizations::name,
            organizations::prefecture,
            advisory_recipients::notified_at,
            advisory_recipients::reminded_at,
            advisory_recipients::acknowledged_at,
        ))
        .load(conn)?;
    heads
        .into_iter()
        .map(|(id, title, body, title_en, body_en, criteria, campaign_id, created_at, created_by_name)| {
            let all: Vec<Recipient> = rows
                .iter()
                .filter(|r| r.0 == id)
                .map(|r| Recipient {
                    organization_id: r.1.clone(),
                    organization_name: r.2.clone(),
                    prefecture: r.3.as_deref().and_then(Prefecture::parse),
                    notified_at: r.4.map(utc),
                    reminded_at: r.5.map(utc),
                    acknowledged_at: r.6.map(utc),
                })
                .collect();
            // A hospital learns neither who else was warned nor how many (its query read only its own).
            let recipients = all;
            let counts = Counts {
                recipients: recipients.len(),
                acknowledged: recipients.iter().filter(|r| r.acknowledged_at.is_some()).count(),
            };
            // Nor which campaign it is about, nor whom else the criteria named (prefectures hit).
            let (criteria, campaign_id) =
                if org.is_some() { (AdvisoryCriteria::default(), None) } else { (from_json(&criteria)?, campaign_id) };
            Ok(Advisory {
                criteria,
                created_at: utc(created_at),
                created_by_name: created_by_name.unwrap_or_default(),
                counts,
                recipients,
                id,
                title,
                body,
                title_en,
                body_en,
                campaign_id,
            })
        })
        .collect()
}

/// Records a hospital's acknowledgement (the first one stands). `None`: it was not a recipient.
pub fn acknowledge(
    conn: &mut AnyConnection,
    id: &str,
    org_id: &str,
    user_id: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<Option<DateTime<Utc>>> {
    let mine = advisory_recipients::table
        .filter(advisory_recipients::advisory_id.eq(id))
        .filter(advisory_recipients::org_id.eq(org_id));
    diesel::update(mine.filter(advisory_recipients::acknowledged_at.is_null()))
        .set((advisory_recipients::acknowledged_at.eq(Some(ts(now))), advisory_recipients::acknowledged_by.eq(user_id)))
        .execute(conn)?;
    let at: Option<Option<NaiveDateTime>> = mine.select(advisory_recipients::acknowledged_at).first(conn).optional()?;
    Ok(at.flatten().map(utc))
}

/// Recipients that have not acknowledged and were last told before `before` (or never told), with
/// whether they were ever told.
pub fn unacknowledged(conn: &mut AnyConnection, id: &str, before: DateTime<Utc>) -> DbResult<Vec<(String, bool)>> {
    let rows: Vec<(String, Option<NaiveDateTime>, Option<NaiveDateTime>)> = advisory_recipients::table
        .filter(advisory_recipients::advisory_id.eq(id))
        .filter(advisory_recipients::acknowledged_at.is_null())
        .select((advisory_recipients::org_id, advisory_recipients::notified_at, advisory_recipients::reminded_at))
        .load(conn)?;
    let cut = ts(before);
    Ok(rows
        .into_iter()
        .filter(|(_, notified, reminded)| reminded.or(*notified).is_none_or(|t| t <= cut))
        .map(|(org, notified, _)| (org, notified.is_some()))
        .collect())
}

/// Marks recipients reminded, or notified when they never were (`(org_id, notified before)`).
pub fn reminded(conn: &mut AnyConnection, id: &str, told: &[(String, bool)], now: DateTime<Utc>) -> DbResult<()> {
    let of = |before: bool| told.iter().filter(|(_, n)| *n == before).map(|(o, _)| o.as_str()).collect::<Vec<_>>();
    let mine = |orgs: Vec<&str>| {
        advisory_recipients::table
            .filter(advisory_recipients::advisory_id.eq(id.to_owned()))
            .filter(advisory_recipients::org_id.eq_any(orgs.into_iter().map(str::to_owned).collect::<Vec<_>>()))
    };
    diesel::update(mine(of(true))).set(advisory_recipients::reminded_at.eq(Some(ts(now)))).execute(conn)?;
    diesel::update(mine(of(false))).set(advisory_recipients::notified_at.eq(Some(ts(now)))).execute(conn)?;
    Ok(())
}
