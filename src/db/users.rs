//! User accounts, sessions and refresh-token families.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::{refresh_tokens, sessions, users};
use super::{parse_enum, ts, utc, AnyConnection, DbResult, LiteralLimitDsl};
use crate::domain::{Availability, Role};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = users)]
#[diesel(treat_none_as_null = true)]
struct UserRow {
    id: String,
    org_id: String,
    email: String,
    name: String,
    role: String,
    password_hash: String,
    totp_secret: Option<String>,
    totp_pending_secret: Option<String>,
    totp_last_step: Option<i64>,
    availability: Option<String>,
    active: bool,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// A user account. Secrets are skipped when serialized and hidden from `Debug`.
#[derive(Clone, Serialize, ToSchema)]
pub struct User {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    #[serde(skip)]
    pub totp_secret: Option<String>,
    #[serde(skip)]
    pub totp_pending_secret: Option<String>,
    #[serde(skip)]
    pub totp_last_step: Option<i64>,
    /// Whether two-factor authentication is enrolled.
    pub totp_enabled: bool,
    /// Responders: availability.
    pub availability: Option<Availability>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("org_id", &self.org_id)
            .finish_non_exhaustive()
    }
}

impl User {
    fn from_row(r: UserRow) -> DbResult<Self> {
        Ok(User {
            role: parse_enum(&r.role)?,
            availability: r.availability.as_deref().map(parse_enum).transpose()?,
            totp_enabled: r.totp_secret.is_some(),
            id: r.id,
            org_id: r.org_id,
            email: r.email,
            name: r.name,
            password_hash: r.password_hash,
            totp_secret: r.totp_secret,
            totp_pending_secret: r.totp_pending_secret,
            totp_last_step: r.totp_last_step,
            active: r.active,
            version: r.version,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }

    fn to_row(&self) -> UserRow {
        UserRow {
            id: self.id.clone(),
            org_id: self.org_id.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role.as_str().into(),
            password_hash: self.password_hash.clone(),
            totp_secret: self.totp_secret.clone(),
            totp_pending_secret: self.totp_pending_secret.clone(),
            totp_last_step: self.totp_last_step,
            availability: self.availability.map(|a| a.as_str().into()),
            active: self.active,
            version: self.version,
            created_at: ts(self.created_at),
            updated_at: ts(self.updated_at),
        }
    }

    /// A new active account (the e-mail is stored lower-cased).
    pub fn new(org_id: &str, email: &str, name: &str, role: Role, password_hash: String) -> Self {
        let now = super::now();
        User {
            id: super::new_id(),
            org_id: org_id.to_owned(),
            email: email.trim().to_lowercase(),
            name: name.to_owned(),
            role,
            password_hash,
            totp_secret: None,
            totp_pending_secret: None,
            totp_last_step: None,
            totp_enabled: false,
            availability: (role == Role::Responder).then_some(Availability::Available),
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

pub fn insert(conn: &mut AnyConnection, u: &User) -> DbResult<()> {
    diesel::insert_into(users::table).values(u.to_row()).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut AnyConnection, id: &str) -> DbResult<Option<User>> {
    users::table
        .filter(users::id.eq(id))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::from_row)
        .transpose()
}

pub fn by_email(conn: &mut AnyConnection, email: &str) -> DbResult<Option<User>> {
    users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::from_row)
        .transpose()
}

/// A page of users in id order, optionally of one organisation.
pub fn list(conn: &mut AnyConnection, org_id: Option<&str>, after: Option<&str>, limit: i64) -> DbResult<Vec<User>> {
    let mut q = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(o) = org_id {
        q = q.filter(users::org_id.eq(o.to_owned()));
    }
    if let Some(a) = after {
        q = q.filter(users::id.gt(a.to_owned()));
    }
    q.order(users::id.asc()).literal_limit(limit).load(conn)?.into_iter().map(User::from_row).collect()
}

/// Writes the whole account (sign-in counters, two-factor state, profile) without a version check:
/// used for changes the server itself makes.
pub fn save(conn: &mut AnyConnection, u: &User) -> DbResult<()> {
    diesel::update(users::table.filter(users::id.eq(&u.id))).set(u.to_row()).execute(conn)?;
    Ok(())
}

/// Writes `u` if the stored version is `u.version - 1`; false when stale.
pub fn update_versioned(conn: &mut AnyConnection, u: &User) -> DbResult<bool> {
    let n = diesel::update(users::table.filter(users::id.eq(&u.id)).filter(users::version.eq(u.version - 1)))
        .set(u.to_row())
        .execute(conn)?;
    Ok(n == 1)
}

/// A stored refresh token (only its SHA-256 hash is kept).
#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub user_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert_refresh(
    conn: &mut AnyConnection,
    user_id: &str,
    family_id: &str,
    hash: &str,
    ttl: Duration,
) -> DbResult<()> {
    let now = super::now();
    diesel::insert_into(refresh_tokens::table)
        .values(RefreshTokenRow {
            id: super::new_id(),
            user_id: user_id.into(),
            family_id: family_id.into(),
            token_hash: hash.into(),
            created_at: ts(now),
            expires_at: ts(now + ttl),
            used_at: None,
            revoked_at: None,
        })
        .execute(conn)?;
    Ok(())
}

pub fn refresh_by_hash(conn: &mut AnyConnection, hash: &str) -> DbResult<Option<RefreshTokenRow>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// Marks a token used; false when it was already used (a concurrent or replayed refresh).
pub fn mark_refresh_used(conn: &mut AnyConnection, id: &str) -> DbResult<bool> {
    let n = diesel::update(
        refresh_tokens::table.filter(refresh_tokens::id.eq(id)).filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(ts(super::now())))
    .execute(conn)?;
    Ok(n == 1)
}

/// Ends one session (a refresh-token family): its refresh tokens are revoked and its access tokens
/// refused from the next request on. Returns whether it was live.
pub fn revoke_family(conn: &mut AnyConnection, family_id: &str, reason: &str) -> DbResult<bool> {
    let now = ts(super::now());
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    let n = diesel::update(sessions::table.filter(sessions::id.eq(family_id)).filter(sessions::ended_at.is_null()))
        .set((sessions::ended_at.eq(now), sessions::end_reason.eq(reason)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Starts a session for a sign-in; its id is the refresh-token family.
pub fn start_session(conn: &mut AnyConnection, family_id: &str, user_id: &str) -> DbResult<()> {
    diesel::insert_into(sessions::table)
        .values((sessions::id.eq(family_id), sessions::user_id.eq(user_id), sessions::created_at.eq(ts(super::now()))))
        .execute(conn)?;
    Ok(())
}

/// Whether an access token of `user_id` in session `family_id` may still be used: the session
/// exists, belongs to that user and has not ended.
pub fn session_live(conn: &mut AnyConnection, family_id: &str, user_id: &str) -> DbResult<bool> {
    Ok(live_session_name(conn, family_id, user_id)?.is_some())
}

/// The user's name when the session is live: the one look-up every authenticated request makes, so
/// that writes naming their author (timeline entries) need no second read.
pub fn live_session_name(conn: &mut AnyConnection, family_id: &str, user_id: &str) -> DbResult<Option<String>> {
    Ok(sessions::table
        .inner_join(users::table.on(users::id.eq(sessions::user_id)))
        .filter(sessions::id.eq(family_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::ended_at.is_null())
        .select(users::name)
        .first(conn)
        .optional()?)
}

/// Ends every live session of a user (a password change or reset, disabling, a second factor
/// enrolled or removed). Returns how many ended.
pub fn end_sessions_of(conn: &mut AnyConnection, user_id: &str, reason: &str) -> DbResult<usize> {
    let now = ts(super::now());
    diesel::update(
        refresh_tokens::table.filter(refresh_tokens::user_id.eq(user_id)).filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::ended_at.is_null()))
        .set((sessions::ended_at.eq(now), sessions::end_reason.eq(reason)))
        .execute(conn)?)
}

pub fn count(conn: &mut AnyConnection) -> DbResult<i64> {
    Ok(users::table.count().get_result(conn)?)
}

/// Users of one organisation with one role (e.g. a team's responders, the ministry's duty officers).
pub fn by_org_and_role(conn: &mut AnyConnection, org_id: Option<&str>, role: Role) -> DbResult<Vec<User>> {
    let mut q = users::table
        .select(UserRow::as_select())
        .filter(users::role.eq(role.as_str()))
        .filter(users::active.eq(true))
        .into_boxed();
    if let Some(o) = org_id {
        q = q.filter(users::org_id.eq(o.to_owned()));
    }
    q.order(users::id.asc()).load(conn)?.into_iter().map(User::from_row).collect()
}
