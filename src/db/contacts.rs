//! Authority contacts: data with effective dates, never code (the ministry reorganises in 2026).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema::contacts;
use super::{parse_enum, ts, utc, AnyConnection, DbResult, LiteralLimitDsl};
use crate::domain::{Authority, Channel, Locale, Prefecture};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = contacts)]
#[diesel(treat_none_as_null = true)]
struct ContactRow {
    id: String,
    authority: String,
    prefecture: Option<String>,
    hospital_id: Option<String>,
    name: String,
    channel: String,
    address: String,
    instructions: Option<String>,
    locale: String,
    drill: bool,
    effective_from: NaiveDate,
    effective_until: Option<NaiveDate>,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    municipality: Option<String>,
}

/// Where an authority is reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub id: String,
    pub authority: Authority,
    /// Absent: national contact.
    pub prefecture: Option<Prefecture>,
    /// JIS X 0402 code: a contact for the hospitals of one municipality only (the health department
    /// of a 保健所設置市 or 特別区), preferred there over the prefecture's.
    pub municipality: Option<String>,
    /// For `vendor` contacts: the hospital whose vendor this is.
    pub hospital_id: Option<String>,
    /// Office name, e.g. 警視庁 サイバー犯罪対策課.
    pub name: String,
    pub channel: Channel,
    /// E-mail address, or the portal URL for `manual` contacts.
    pub address: String,
    /// How to file on a portal (manual channel), in Japanese.
    pub instructions: Option<String>,
    pub locale: Locale,
    /// A drill contact: receives only drill incidents; real contacts never do.
    pub drill: bool,
    pub effective_from: NaiveDate,
    /// Last day this contact is used (inclusive).
    pub effective_until: Option<NaiveDate>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Contact {
    fn from_row(r: ContactRow) -> DbResult<Self> {
        Ok(Contact {
            authority: parse_enum(&r.authority)?,
            prefecture: r.prefecture.as_deref().and_then(Prefecture::parse),
            municipality: r.municipality,
            channel: parse_enum(&r.channel)?,
            locale: parse_enum(&r.locale)?,
            id: r.id,
            hospital_id: r.hospital_id,
            name: r.name,
            address: r.address,
            instructions: r.instructions,
            drill: r.drill,
            effective_from: r.effective_from,
            effective_until: r.effective_until,
            version: r.version,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }

    fn to_row(&self) -> ContactRow {
        ContactRow {
            id: self.id.clone(),
            authority: self.authority.as_str().into(),
            prefecture: self.prefecture.map(|p| p.code()),
            municipality: self.municipality.clone(),
            hospital_id: self.hospital_id.clone(),
            name: self.name.clone(),
            channel: self.channel.as_str().into(),
            address: self.address.clone(),
            instructions: self.instructions.clone(),
            locale: self.locale.as_str().into(),
            drill: self.drill,
            effective_from: self.effective_from,
            effective_until: self.effective_until,
            version: self.version,
            created_at: ts(self.created_at),
            updated_at: ts(self.updated_at),
        }
    }

    /// Whether the contact is in force on `day`.
    pub fn effective_on(&self, day: NaiveDate) -> bool {
        self.effective_from <= day && self.effective_until.is_none_or(|u| day <= u)
    }
}

pub fn insert(conn: &mut AnyConnection, c: &Contact) -> DbResult<()> {
    diesel::insert_into(contacts::table).values(c.to_row()).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut AnyConnection, id: &str) -> DbResult<Option<Contact>> {
    contacts::table
        .filter(contacts::id.eq(id))
        .select(ContactRow::as_select())
        .first(conn)
        .optional()?
        .map(Contact::from_row)
        .transpose()
}

/// Writes `c` if the stored version is `c.version - 1`.
pub fn update(conn: &mut AnyConnection, c: &Contact) -> DbResult<bool> {
    let n = diesel::update(contacts::table.filter(contacts::id.eq(&c.id)).filter(contacts::version.eq(c.version - 1)))
        .set(c.to_row())
        .execute(conn)?;
    Ok(n == 1)
}

/// Filters of the contact list.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    pub authority: Option<Authority>,
    pub prefecture: Option<Prefecture>,
    pub drill: Option<bool>,
}

pub fn list(conn: &mut AnyConnection, f: &ContactFilter, after: Option<&str>, limit: i64) -> DbResult<Vec<Contact>> {
    let mut q = contacts::table.select(ContactRow::as_select()).into_boxed();
    if let Some(a) = f.authority {
        q = q.filter(contacts::authority.eq(a.as_str()));
    }
    if let Some(p) = f.prefecture {
        q = q.filter(contacts::prefecture.eq(p.code()));
    }
    if let Some(d) = f.drill {
        q = q.filter(contacts::drill.eq(d));
    }
    if let Some(a) = after {
        q = q.filter(contacts::id.gt(a.to_owned()));
    }
    q.order(contacts::id.asc()).literal_limit(limit).load(conn)?.into_iter().map(Contact::from_row).collect()
}

/// The contacts an authority is reached through for a hospital on a day: the hospital's own (vendor),
/// else its prefecture's, else the national ones. Drill incidents use only drill contacts, real ones
/// only real contacts.
pub fn select_for(
    conn: &mut AnyConnection,
    authority: Authority,
    at: ContactsFor<'_>,
    drill: bool,
    day: NaiveDate,
) -> DbResult<Vec<Contact>> {
    Ok(select_for_each(conn, &[authority], at, drill, day)?.pop().unwrap_or_default())
}

/// [`select_for`] of several authorities in one statement, in their order.
pub fn select_for_each(
    conn: &mut AnyConnection,
    authorities: &[Authority],
    at: ContactsFor<'_>,
    drill: bool,
    day: NaiveDate,
) -> DbResult<Vec<Vec<Contact>>> {
    let ContactsFor { prefecture, municipality, hospital_id } = at;
    if authorities.is_empty() {
        return Ok(Vec::new());
    }
    // Only rows that can apply: the hospital's own, its prefecture's and the national ones.
    let candidates: Vec<Contact> = contacts::table
        .filter(contacts::authority.eq_any(authorities.iter().map(|a| a.as_str())))
        .filter(contacts::drill.eq(drill))
        .filter(
            contacts::hospital_id.eq(hospital_id).or(contacts::hospital_id
                .is_null()
                .and(contacts::prefecture.is_null().or(contacts::prefecture.eq(prefecture.code())))),
        )
        .select(ContactRow::as_select())
        .order(contacts::id.asc())
        .load(conn)?
        .into_iter()
        .map(Contact::from_row)
        .collect::<DbResult<Vec<_>>>()?;
    Ok(authorities
        .iter()
        .map(|&a| {
            let live = candidates.iter().filter(|c| c.authority == a && c.effective_on(day)).cloned().collect();
            choose(live, hospital_id, prefecture, municipality)
        })
        .collect())
}

/// Of an authority's live contacts, those that reach this hospital, most specific first.
fn choose(live: Vec<Contact>, hospital_id: &str, prefecture: Prefecture, municipality: Option<&str>) -> Vec<Contact> {
    let own: Vec<Contact> = live.iter().filter(|c| c.hospital_id.as_deref() == Some(hospital_id)).cloned().collect();
    if !own.is_empty() {
        return own;
    }
    let general = live.into_iter().filter(|c| c.hospital_id.is_none());
    let (local, national): (Vec<Contact>, Vec<Contact>) = general.partition(|c| c.prefecture.is_some());
    let local: Vec<Contact> = local.into_iter().filter(|c| c.prefecture == Some(prefecture)).collect();
    // The municipality's own contacts first; the prefecture's (no municipality) otherwise.
    let (city, wide): (Vec<Contact>, Vec<Contact>) = local.into_iter().partition(|c| c.municipality.is_some());
    let city: Vec<Contact> = city.into_iter().filter(|c| c.municipality.as_deref() == municipality).collect();
    if !city.is_empty() {
        city
    } else if !wide.is_empty() {
        wide
    } else {
        national
    }
}

/// The hospital a contact is looked up for.
#[derive(Debug, Clone, Copy)]
pub struct ContactsFor<'a> {
    pub prefecture: Prefecture,
    /// JIS X 0402 code, when on record.
    pub municipality: Option<&'a str>,
    pub hospital_id: &'a str,
}

pub fn count(conn: &mut AnyConnection) -> DbResult<i64> {
    Ok(contacts::table.count().get_result(conn)?)
}
