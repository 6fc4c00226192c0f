//! Organisations: hospitals, the ministry, responder teams and authorities.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::organizations;
use super::{from_json, parse_enum, to_json, ts, utc, AnyConnection, DbResult, LiteralLimitDsl};
use crate::domain::national::RemoteAccess;
use crate::domain::{Authority, LegalStatus, OrgKind, Prefecture, RegionalRole, Skill};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = organizations)]
struct OrgRow {
    id: String,
    kind: String,
    name: String,
    prefecture: Option<String>,
    beds: Option<i32>,
    code: Option<String>,
    regional_roles: String,
    legal_status: Option<String>,
    municipality: Option<String>,
    authority: Option<String>,
    skills: String,
    remote_access: String,
    coverage: String,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// An organisation.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Organization {
    /// UUID v7.
    pub id: String,
    pub kind: OrgKind,
    pub name: String,
    /// Prefecture (hospitals: required).
    pub prefecture: Option<Prefecture>,
    /// Licensed beds (hospitals).
    pub beds: Option<i32>,
    /// 医療機関コード, 10 digits (hospitals).
    pub code: Option<String>,
    /// Regional roles (hospitals).
    pub regional_roles: Vec<RegionalRole>,
    /// Legal status (hospitals, DOMAIN.md 2.3): only `national_government` hospitals are 行政機関等
    /// with the 100-person PPC threshold. Absent: not on record (the lower threshold applies).
    pub legal_status: Option<LegalStatus>,
    /// JIS X 0402 municipality code, 5 digits (hospitals): selects the health authority.
    pub municipality: Option<String>,
    /// Which authority this organisation is (kind `authority`).
    pub authority: Option<Authority>,
    /// Remote-access products the hospital runs (VPN appliances, remote desktops, maintenance
    /// connections), kept by the hospital: advisories reach the hospitals running a product.
    pub remote_access: Vec<RemoteAccess>,
    /// Skills (responder teams).
    pub skills: Vec<Skill>,
    /// Prefectures covered (responder teams).
    pub coverage: Vec<Prefecture>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Organization {
    fn from_row(r: OrgRow) -> DbResult<Self> {
        Ok(Organization {
            kind: parse_enum(&r.kind)?,
            prefecture: r.prefecture.as_deref().and_then(Prefecture::parse),
            regional_roles: from_json(&r.regional_roles)?,
            legal_status: r.legal_status.as_deref().map(parse_enum).transpose()?,
            municipality: r.municipality,
            authority: r.authority.as_deref().map(parse_enum).transpose()?,
            skills: from_json(&r.skills)?,
            remote_access: from_json(&r.remote_access)?,
            coverage: from_json(&r.coverage)?,
            id: r.id,
            name: r.name,
            beds: r.beds,
            code: r.code,
            version: r.version,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }

    fn to_row(&self) -> OrgRow {
        OrgRow {
            id: self.id.clone(),
            kind: self.kind.as_str().into(),
            name: self.name.clone(),
            prefecture: self.prefecture.map(|p| p.code()),
            beds: self.beds,
            code: self.code.clone(),
            regional_roles: to_json(&self.regional_roles),
            legal_status: self.legal_status.map(|l| l.as_str().into()),
            municipality: self.municipality.clone(),
            authority: self.authority.map(|a| a.as_str().into()),
            skills: to_json(&self.skills),
            remote_access: to_json(&self.remote_access),
            coverage: to_json(&self.coverage),
            version: self.version,
            created_at: ts(self.created_at),
            updated_at: ts(self.updated_at),
        }
    }

    /// A new organisation of `kind` with every optional attribute empty.
    pub fn new(kind: OrgKind, name: &str) -> Self {
        let now = super::now();
        Organization {
            id: super::new_id(),
            kind,
            name: name.to_owned(),
            prefecture: None,
            beds: None,
            code: None,
            regional_roles: Vec::new(),
            legal_status: None,
            municipality: None,
            authority: None,
            remote_access: Vec::new(),
            skills: Vec::new(),
            coverage: Vec::new(),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

pub fn insert(conn: &mut AnyConnection, org: &Organization) -> DbResult<()> {
    diesel::insert_into(organizations::table).values(org.to_row()).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut AnyConnection, id: &str) -> DbResult<Option<Organization>> {
    organizations::table
        .filter(organizations::id.eq(id))
        .select(OrgRow::as_select())
        .first(conn)
        .optional()?
        .map(Organization::from_row)
        .transpose()
}

/// The organisations of `ids` (duplicates allowed), by id: one statement per 5,000 distinct ids
/// (the bind limits of both engines are far above that; Japan has about 8,000 hospitals).
pub fn by_ids(conn: &mut AnyConnection, ids: &[&str]) -> DbResult<std::collections::HashMap<String, Organization>> {
    let distinct: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    let distinct: Vec<&str> = distinct.into_iter().collect();
    let mut out = std::collections::HashMap::with_capacity(distinct.len());
    for chunk in distinct.chunks(5_000) {
        let rows: Vec<OrgRow> =
            organizations::table.filter(organizations::id.eq_any(chunk)).select(OrgRow::as_select()).load(conn)?;
        for r in rows {
            let o = Organization::from_row(r)?;
            out.insert(o.id.clone(), o);
        }
    }
    Ok(out)
}

/// A page of organisations in id order, optionally of one kind, after `after` (keyset cursor).
pub fn list(
    conn: &mut AnyConnection,
    kind: Option<OrgKind>,
    after: Option<&str>,
    limit: i64,
) -> DbResult<Vec<Organization>> {
    let mut q = organizations::table.select(OrgRow::as_select()).into_boxed();
    if let Some(k) = kind {
        q = q.filter(organizations::kind.eq(k.as_str()));
    }
    if let Some(a) = after {
        q = q.filter(organizations::id.gt(a.to_owned()));
    }
    q.order(organizations::id.asc()).literal_limit(limit).load(conn)?.into_iter().map(Organization::from_row).collect()
}

/// Writes `org` if its stored version is still `org.version - 1`; false when stale.
pub fn update(conn: &mut AnyConnection, org: &Organization) -> DbResult<bool> {
    let n = diesel::update(
        organizations::table.filter(organizations::id.eq(&org.id)).filter(organizations::version.eq(org.version - 1)),
    )
    .set(org.to_row())
    .execute(conn)?;
    Ok(n == 1)
}

pub fn count(conn: &mut AnyConnection) -> DbResult<i64> {
    Ok(organizations::table.count().get_result(conn)?)
}
