//! Campaigns: incidents at different hospitals linked by what they share (`domain::national`).
//! The detector writes each incident's link keys, finds other hospitals' incidents with the same
//! keys inside the window through one index, and proposes or extends campaigns.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::{campaign_incidents, campaigns, incident_links, incidents, organizations, users};
use super::{parse_enum, ts, utc, AnyConnection, DbResult, LiteralLimitDsl};
use crate::domain::national::Membership;
use crate::domain::{CampaignStatus, CareImpact, Category, IncidentStatus, LinkKind, Prefecture};

/// An incident of a campaign, as officers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignIncident {
    pub id: String,
    pub reference: String,
    pub hospital_id: String,
    pub hospital_name: String,
    pub prefecture: Prefecture,
    pub reported_at: DateTime<Utc>,
    pub category: Category,
    pub care_impact: CareImpact,
    pub status: IncidentStatus,
    pub joined_at: DateTime<Utc>,
}

/// What links incidents: a key they share, and which of the campaign's incidents share it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CampaignLink {
    pub kind: LinkKind,
    /// `ipv4-addr:203.0.113.7`, `CVE-2024-21762`, `fortinet/fortigate` (vendor/product, folded),
    /// `lockbit` (family, folded).
    pub value: String,
    pub incident_ids: Vec<String>,
}

/// Criteria an advisory about a campaign starts from.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct SuggestedCriteria {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prefectures: Vec<Prefecture>,
}

/// A campaign with its evidence.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Campaign {
    pub id: String,
    pub status: CampaignStatus,
    pub drill: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by_name: Option<String>,
    pub note: Option<String>,
    pub version: i32,
    /// The prefectures of its hospitals.
    pub prefectures: Vec<Prefecture>,
    pub incidents: Vec<CampaignIncident>,
    /// Each key shared by incidents of two or more hospitals of the campaign.
    pub links: Vec<CampaignLink>,
    /// For an advisory to the hospitals at risk: the shared product (as its first hospital named
    /// it) and the prefectures hit.
    pub suggested_criteria: SuggestedCriteria,
}

/// What the detector still has to look at: incidents never looked at or changed since.
pub fn pending(conn: &mut AnyConnection, limit: i64) -> DbResult<Vec<String>> {
    Ok(incidents::table
        .filter(incidents::links_checked_at.is_null())
        .order((incidents::reported_at.asc(), incidents::id.asc()))
        .select(incidents::id)
        .literal_limit(limit)
        .load(conn)?)
}

/// Marks an incident looked at, unless it changed since it was read (then it is looked at again).
pub fn mark_checked(conn: &mut AnyConnection, id: &str, version: i32, now: DateTime<Utc>) -> DbResult<bool> {
    let n = diesel::update(incidents::table.filter(incidents::id.eq(id)).filter(incidents::version.eq(version)))
        .set(incidents::links_checked_at.eq(Some(ts(now))))
        .execute(conn)?;
    Ok(n == 1)
}

/// Replaces an incident's link keys.
pub fn replace_links(
    conn: &mut AnyConnection,
    incident_id: &str,
    hospital_id: &str,
    reported_at: DateTime<Utc>,
    drill: bool,
    keys: &BTreeSet<(LinkKind, String)>,
) -> DbResult<()> {
    diesel::delete(incident_links::table.filter(incident_links::incident_id.eq(incident_id))).execute(conn)?;
    if keys.is_empty() {
        return Ok(());
    }
    let at = ts(reported_at);
    let rows: Vec<_> = keys
        .iter()
        .map(|(kind, value)| {
            (
                incident_links::incident_id.eq(incident_id),
                incident_links::kind.eq(kind.as_str()),
                incident_links::value.eq(value.as_str()),
                incident_links::hospital_id.eq(hospital_id),
                incident_links::reported_at.eq(at),
                incident_links::drill.eq(drill),
            )
        })
        .collect();
    crate::with_inner!(conn, |c| diesel::insert_into(incident_links::table).values(&rows).execute(c))?;
    Ok(())
}

/// Incidents of other hospitals sharing one of `keys`, reported within `window_days` of
/// `reported_at`, drills with drills only. One statement on `incident_links_by_value`.
pub fn matches(
    conn: &mut AnyConnection,
    hospital_id: &str,
    reported_at: DateTime<Utc>,
    drill: bool,
    window_days: i64,
    keys: &BTreeSet<(LinkKind, String)>,
) -> DbResult<BTreeSet<String>> {
    if keys.is_empty() {
        return Ok(BTreeSet::new());
    }
    let kinds: BTreeSet<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    let values: BTreeSet<&str> = keys.iter().map(|(_, v)| v.as_str()).collect();
    let window = Duration::days(window_days);
    let rows: Vec<(String, String, String)> = incident_links::table
        .filter(incident_links::kind.eq_any(kinds))
        .filter(incident_links::value.eq_any(values))
        .filter(incident_links::reported_at.between(ts(reported_at - window), ts(reported_at + window)))
        .filter(incident_links::hospital_id.ne(hospital_id))
        .filter(incident_links::drill.eq(drill))
        .select((incident_links::incident_id, incident_links::kind, incident_links::value))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, k, v)| keys.iter().any(|(kk, vv)| kk.as_str() == k && vv == v))
        .map(|(id, _, _)| id)
        .collect())
}

/// The campaigns any of `incident_ids` belongs to, each with all its incidents.
pub fn memberships(conn: &mut AnyConnection, incident_ids: &BTreeSet<String>) -> DbResult<Vec<Membership>> {
    let ids: Vec<&str> = incident_ids.iter().map(String::as_str).collect();
    let campaign_ids: Vec<String> = campaign_incidents::table
        .filter(campaign_incidents::incident_id.eq_any(ids))
        .select(campaign_incidents::campaign_id)
        .distinct()
        .load(conn)?;
    if campaign_ids.is_empty() {
        return Ok(Vec::new());
    }
    let heads: Vec<(String, String, NaiveDateTime)> = campaigns::table
        .filter(campaigns::id.eq_any(&campaign_ids))
        .select((campaigns::id, campaigns::status, campaigns::created_at))
        .load(conn)?;
    let members: Vec<(String, String)> = campaign_incidents::table
        .filter(campaign_incidents::campaign_id.eq_any(&campaign_ids))
        .select((campaign_incidents::campaign_id, campaign_incidents::incident_id))
        .load(conn)?;
    heads
        .into_iter()
        .map(|(id, status, created_at)| {
            Ok(Membership {
                incident_ids: members.iter().filter(|(c, _)| *c == id).map(|(_, i)| i.clone()).collect(),
                status: parse_enum(&status)?,
                created_at: utc(created_at),
                campaign_id: id,
            })
        })
        .collect()
}

/// A new proposed campaign of `incident_ids`; returns its id.
pub fn propose(conn: &mut AnyConnection, incident_ids: &[String], drill: bool, now: DateTime<Utc>) -> DbResult<String> {
    let id = super::new_id();
    diesel::insert_into(campaigns::table)
        .values((
            campaigns::id.eq(&id),
            campaigns::status.eq(CampaignStatus::Proposed.as_str()),
            campaigns::drill.eq(drill),
            campaigns::created_at.eq(ts(now)),
            campaigns::updated_at.eq(ts(now)),
            campaigns::version.eq(1),
        ))
        .execute(conn)?;
    join(conn, &id, incident_ids, now)?;
    Ok(id)
}

/// Adds incidents to a campaign, unless it was dismissed meanwhile (then `false`, nothing written).
pub fn join(
    conn: &mut AnyConnection,
    campaign_id: &str,
    incident_ids: &[String],
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let open = diesel::update(
        campaigns::table
            .filter(campaigns::id.eq(campaign_id))
            .filter(campaigns::status.ne(CampaignStatus::Dismissed.as_str())),
    )
    .set((campaigns::updated_at.eq(ts(now)), campaigns::version.eq(campaigns::version + 1)))
    .execute(conn)?;
    if open == 0 {
        return Ok(false);
    }
    let rows: Vec<_> = incident_ids
        .iter()
        .map(|i| {
            (
                campaign_incidents::campaign_id.eq(campaign_id),
                campaign_incidents::incident_id.eq(i.as_str()),
                campaign_incidents::joined_at.eq(ts(now)),
            )
        })
        .collect();
    crate::with_inner!(conn, |c| diesel::insert_into(campaign_incidents::table).values(&rows).execute(c))?;
    Ok(true)
}

/// Has the detector look again at a hospital's incidents (its remote-access products changed).
pub fn recheck_hospital(conn: &mut AnyConnection, hospital_id: &str) -> DbResult<usize> {
    Ok(diesel::update(incidents::table.filter(incidents::hospital_id.eq(hospital_id)))
        .set(incidents::links_checked_at.eq(None::<NaiveDateTime>))
        .execute(conn)?)
}

/// Marks an incident looked at whatever its version: the detector could not link it (logged), and
/// it is looked at again when it changes.
pub fn skip(conn: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> DbResult<()> {
    diesel::update(incidents::table.filter(incidents::id.eq(id)))
        .set(incidents::links_checked_at.eq(Some(ts(now))))
        .execute(conn)?;
    Ok(())
}

/// Confirms or dismisses a campaign at `version`; false when it changed meanwhile.
pub fn decide(
    conn: &mut AnyConnection,
    id: &str,
    version: i32,
    status: CampaignStatus,
    user_id: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let n = diesel::update(campaigns::table.filter(campaigns::id.eq(id)).filter(campaigns::version.eq(version)))
        .set((
            campaigns::status.eq(status.as_str()),
            campaigns::decided_at.eq(Some(ts(now))),
            campaigns::decided_by.eq(Some(user_id)),
            campaigns::note.eq(note),
            campaigns::updated_at.eq(ts(now)),
            campaigns::version.eq(version + 1),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

type HeadRow =
    (String, String, bool, NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>, Option<String>, Option<String>, i32);

/// Campaigns, newest first: of one status, or every open one (proposed and confirmed).
pub fn list(
    conn: &mut AnyConnection,
    status: Option<CampaignStatus>,
    before: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> DbResult<Vec<Campaign>> {
    load(conn, Which::Listed(status), before, limit)
}

/// One campaign.
pub fn get(conn: &mut AnyConnection, id: &str) -> DbResult<Option<Campaign>> {
    Ok(load(conn, Which::One(id), None, 1)?.pop())
}

/// Which campaigns [`load`] reads.
enum Which<'a> {
    /// Of one status, or every open one.
    Listed(Option<CampaignStatus>),
    One(&'a str),
}

fn load(
    conn: &mut AnyConnection,
    which: Which<'_>,
    before: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> DbResult<Vec<Campaign>> {
    let mut q =
        campaigns::table.left_join(users::table.on(users::id.nullable().eq(campaigns::decided_by))).into_boxed();
    q = match which {
        Which::One(id) => q.filter(campaigns::id.eq(id.to_owned())),
        Which::Listed(Some(s)) => q.filter(campaigns::status.eq(s.as_str())),
        Which::Listed(None) => q.filter(campaigns::status.ne(CampaignStatus::Dismissed.as_str())),
    };
    if let Some((at, id)) = before {
        q = q.filter(campaigns::created_at.lt(ts(at)).or(campaigns::created_at.eq(ts(at)).and(campaigns::id.lt(id))));
    }
    let heads: Vec<HeadRow> = q
        .order((campaigns::created_at.desc(), campaigns::id.desc()))
        .limit(limit)
        .select((
            campaigns::id,
            campaigns::status,
            campaigns::drill,
            campaigns::created_at,
            campaigns::updated_at,
            campaigns::decided_at,
            users::name.nullable(),
            campaigns::note,
            campaigns::version,
        ))
        .load(conn)?;
    complete(conn, heads)
}

/// The incidents sharing one key, and their hospitals.
type Sharing<'a> = (Vec<String>, BTreeSet<&'a str>);

type MemberRow = (String, String, String, String, String, NaiveDateTime, String, String, String, NaiveDateTime, String);

/// Adds incidents, links and suggested criteria to campaign heads (three statements for a page).
fn complete(conn: &mut AnyConnection, heads: Vec<HeadRow>) -> DbResult<Vec<Campaign>> {
    let ids: Vec<&str> = heads.iter().map(|h| h.0.as_str()).collect();
    let members: Vec<MemberRow> = campaign_incidents::table
        .inner_join(incidents::table.inner_join(organizations::table))
        .filter(campaign_incidents::campaign_id.eq_any(&ids))
        .order((incidents::reported_at.asc(), incidents::id.asc()))
        .select((
            campaign_incidents::campaign_id,
            incidents::id,
            incidents::reference,
            incidents::hospital_id,
            organizations::name,
            incidents::reported_at,
            incidents::prefecture,
            incidents::category,
            incidents::care_impact,
            campaign_incidents::joined_at,
            incidents::status,
        ))
        .load(conn)?;
    let incident_ids: Vec<&str> = members.iter().map(|m| m.1.as_str()).collect();
    let keys: Vec<(String, String, String, String)> = incident_links::table
        .filter(incident_links::incident_id.eq_any(&incident_ids))
        .select((incident_links::incident_id, incident_links::kind, incident_links::value, incident_links::hospital_id))
        .load(conn)?;
    let products = product_names(conn, &members)?;
    heads
        .into_iter()
        .map(|(id, status, drill, created_at, updated_at, decided_at, decided_by_name, note, version)| {
            let mine: Vec<&MemberRow> = members.iter().filter(|m| m.0 == id).collect();
            let incidents = mine
                .iter()
                .map(|m| {
                    Ok(CampaignIncident {
                        id: m.1.clone(),
                        reference: m.2.clone(),
                        hospital_id: m.3.clone(),
                        hospital_name: m.4.clone(),
                        reported_at: utc(m.5),
                        prefecture: Prefecture::parse(&m.6)
                            .ok_or_else(|| anyhow::anyhow!("corrupt prefecture column {:?}", m.6))?,
                        category: parse_enum(&m.7)?,
                        care_impact: parse_enum(&m.8)?,
                        joined_at: utc(m.9),
                        status: parse_enum(&m.10)?,
                    })
                })
                .collect::<DbResult<Vec<_>>>()?;
            let members_of: BTreeSet<&str> = mine.iter().map(|m| m.1.as_str()).collect();
            let mut shared: BTreeMap<(LinkKind, String), Sharing<'_>> = BTreeMap::new();
            for (incident_id, kind, value, hospital_id) in keys.iter().filter(|k| members_of.contains(k.0.as_str())) {
                let entry = shared.entry((parse_enum(kind)?, value.clone())).or_default();
                entry.0.push(incident_id.clone());
                entry.1.insert(hospital_id.as_str());
            }
            let links: Vec<CampaignLink> = shared
                .into_iter()
                .filter(|(_, (_, hospitals))| hospitals.len() >= 2)
                .map(|((kind, value), (incident_ids, _))| CampaignLink { kind, value, incident_ids })
                .collect();
            let mut prefectures: Vec<Prefecture> = incidents.iter().map(|i| i.prefecture).collect();
            prefectures.sort();
            prefectures.dedup();
            let product =
                links.iter().find(|l| l.kind == LinkKind::Product).and_then(|l| products.get(&l.value).cloned());
            Ok(Campaign {
                status: parse_enum(&status)?,
                drill,
                created_at: utc(created_at),
                updated_at: utc(updated_at),
                decided_at: decided_at.map(utc),
                decided_by_name,
                note,
                version,
                suggested_criteria: SuggestedCriteria {
                    vendor: product.as_ref().map(|(v, _)| v.clone()),
                    product: product.map(|(_, p)| p),
                    prefectures: prefectures.clone(),
                },
                prefectures,
                incidents,
                links,
                id,
            })
        })
        .collect()
}

/// The vendor and product as a hospital wrote them, by folded key: from the member incidents'
/// `entry_point`, else their hospitals' profiles.
fn product_names(conn: &mut AnyConnection, members: &[MemberRow]) -> DbResult<BTreeMap<String, (String, String)>> {
    use crate::domain::national::{product_key, RemoteAccess};
    let ids: Vec<&str> = members.iter().map(|m| m.1.as_str()).collect();
    let hospitals: Vec<&str> = members.iter().map(|m| m.3.as_str()).collect();
    let facts: Vec<String> = incidents::table.filter(incidents::id.eq_any(&ids)).select(incidents::facts).load(conn)?;
    let profiles: Vec<String> = organizations::table
        .filter(organizations::id.eq_any(&hospitals))
        .select(organizations::remote_access)
        .load(conn)?;
    let mut names = BTreeMap::new();
    let mut add = |r: &RemoteAccess| {
        if let Some(k) = product_key(&r.vendor, &r.product) {
            names.entry(k).or_insert_with(|| (r.vendor.clone(), r.product.clone()));
        }
    };
    for f in facts {
        if let Some(p) = serde_json::from_str::<serde_json::Value>(&f)
            .ok()
            .and_then(|v| v.get("entry_point").cloned())
            .and_then(|v| serde_json::from_value::<RemoteAccess>(v).ok())
        {
            add(&p);
        }
    }
    for p in profiles {
        for r in serde_json::from_str::<Vec<RemoteAccess>>(&p).unwrap_or_default() {
            add(&r);
        }
    }
    Ok(names)
}

/// Every incident of an open campaign, as (campaign id, status, prefecture): the national map.
pub fn open_by_prefecture(conn: &mut AnyConnection) -> DbResult<Vec<(String, String, String)>> {
    Ok(campaign_incidents::table
        .inner_join(campaigns::table)
        .inner_join(incidents::table)
        .filter(campaigns::status.ne(CampaignStatus::Dismissed.as_str()))
        .filter(campaigns::drill.eq(false))
        .filter(incidents::status.ne(crate::domain::IncidentStatus::Withdrawn.as_str()))
        .select((campaigns::id, campaigns::status, incidents::prefecture))
        .load(conn)?)
}
