//! Turning incident changes into outbox rows, inside the caller's transaction: routing results
//! become obligations and one e-mail per recipient contact; reminders, overdue notices and
//! delivery alerts are enqueued the same way. Nothing here sends anything.

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::db::incidents::Incident;
use crate::db::notifications::{self, NewNotification};
use crate::db::obligations::Obligation;
use crate::db::orgs::Organization;
use crate::db::{self, AnyConnection, DbResult};
use crate::domain::deadlines::jst_date;
use crate::domain::letters::{self, HospitalLine, IncidentSummary, RouteNote, StatusReport};
use crate::domain::obligations::{plan, Planned};
use crate::domain::routing::{route, HospitalFacts, Route, RoutingFacts};
use crate::domain::{Authority, Channel, Locale, Role};
use crate::notify::templates;

/// The domain part of Message-IDs, from the sender address.
pub fn mail_domain(settings: &Settings) -> String {
    settings
        .mail_from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').to_owned())
        .unwrap_or("hikeshi.local".into())
}

/// The routing of an incident's facts at a hospital.
pub fn compute_routes(
    incident_facts: &crate::domain::incident::IncidentFacts,
    hospital: &Organization,
    settings: &Settings,
) -> Vec<Route> {
    route(
        &RoutingFacts::of(incident_facts, &hospital_facts(hospital), settings.rules.active_cyber_defence),
        &settings.deadlines,
    )
}

/// What routing needs of a hospital.
pub fn hospital_facts(hospital: &Organization) -> HospitalFacts {
    HospitalFacts {
        legal_status: hospital.legal_status,
        municipality: hospital.municipality.clone(),
        regional_roles: hospital.regional_roles.clone(),
        beds: hospital.beds,
    }
}

/// The obligations, with their dates, of one route for an incident aware at `aware`.
pub fn obligation_times(r: &Route, aware: DateTime<Utc>, settings: &Settings) -> Vec<Planned> {
    plan(std::slice::from_ref(r), aware, &settings.deadlines)
}

/// What the prepared reports (`domain::reports`) are written from.
pub fn ppc_input<'a>(
    i: &'a Incident,
    h: &'a Organization,
    fulfilled: &'a [crate::domain::reports::Fulfilled],
    status: Option<&'a StatusReport>,
) -> crate::domain::reports::PpcInput<'a> {
    crate::domain::reports::PpcInput {
        reference: &i.reference,
        facts: &i.facts,
        hospital_name: &h.name,
        hospital_code: h.code.as_deref(),
        routes: &i.routing,
        fulfilled,
        prevention: status.map(|s| s.prevention.as_str()),
    }
}

/// The incident as the letters see it.
pub fn summary(
    i: &Incident,
    hospital: &Organization,
    status_report: Option<StatusReport>,
    settings: &Settings,
) -> IncidentSummary {
    let mut s = IncidentSummary::new(
        &i.reference,
        &i.facts,
        HospitalLine { name: hospital.name.clone(), code: hospital.code.clone(), beds: hospital.beds },
        i.prefecture,
        i.reported_at,
        format!("{}/incidents/{}", settings.public_url(), i.id),
    );
    s.status_report = status_report;
    s
}

/// Stores the incident's routes, creates their obligations and enqueues one e-mail per contact for
/// every route not yet told at `stage`. Returns how many messages were enqueued.
pub fn apply_routing(
    conn: &mut AnyConnection,
    settings: &Settings,
    incident: &Incident,
    hospital: &Organization,
    stage: &str,
) -> DbResult<usize> {
    db::incidents::set_routes(conn, &incident.id, &incident.routing, false)?;
    db::obligations::create_missing(conn, &incident.id, &planned(incident, settings))?;
    enqueue_reports(conn, settings, incident, hospital, &incident.routing, stage, Past::Stored)
}

/// [`apply_routing`] for an incident being filed in this transaction: nothing of it is stored but
/// its row, so nothing is read back (no routes to replace, no status report, nothing fulfilled).
/// Returns the obligations created.
pub fn apply_first_routing(
    conn: &mut AnyConnection,
    settings: &Settings,
    incident: &Incident,
    hospital: &Organization,
) -> DbResult<Vec<Obligation>> {
    db::incidents::set_routes(conn, &incident.id, &incident.routing, true)?;
    let created = db::obligations::create_missing(conn, &incident.id, &planned(incident, settings))?;
    enqueue_reports(conn, settings, incident, hospital, &incident.routing, "initial", Past::None)?;
    Ok(created)
}

/// Every route's obligations, with their dates.
fn planned(incident: &Incident, settings: &Settings) -> Vec<Planned> {
    plan(&incident.routing, incident.facts.aware_at, &settings.deadlines)
}

/// What the letters may cite of an incident's past.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Past {
    /// It is being filed: there is none.
    None,
    /// Read it from the database (the newest status report, the obligations fulfilled).
    Stored,
}

/// Enqueues the report of each of `routes` to each of its e-mail contacts, once per `stage`: one
/// read of the contacts, one multi-row insert.
fn enqueue_reports(
    conn: &mut AnyConnection,
    settings: &Settings,
    incident: &Incident,
    hospital: &Organization,
    routes: &[Route],
    stage: &str,
    past: Past,
) -> DbResult<usize> {
    let status_report = match past {
        Past::None => None,
        Past::Stored => latest_status_report(conn, &incident.id)?,
    };
    let mut s = summary(incident, hospital, status_report.clone(), settings);
    if routes.iter().any(|r| r.authority == Authority::Ppc) {
        let fulfilled = match past {
            Past::None => Vec::new(),
            Past::Stored => db::obligations::fulfilled(&db::obligations::for_incident(conn, &incident.id)?),
        };
        let report =
            crate::domain::reports::ppc_report(&ppc_input(incident, hospital, &fulfilled, status_report.as_ref()));
        s.ppc_items = report.items;
    }
    let domain = mail_domain(settings);
    let at = db::contacts::ContactsFor {
        prefecture: incident.prefecture,
        municipality: hospital.municipality.as_deref(),
        hospital_id: &incident.hospital_id,
    };
    let authorities: Vec<Authority> = routes.iter().map(|r| r.authority).collect();
    let contacts = db::contacts::select_for_each(conn, &authorities, at, incident.facts.drill, jst_date(db::now()))?;
    let mut messages = Vec::new();
    for (r, contacts) in routes.iter().zip(contacts) {
        let note = RouteNote {
            requirement: r.requirement,
            reasons: r.reasons.iter().map(|x| (x.ja.clone(), x.en.clone())).collect(),
            obligations: obligation_times(r, incident.facts.aware_at, settings)
                .into_iter()
                .map(|p| (p.kind, p.due_at))
                .collect(),
        };
        for c in contacts.into_iter().filter(|c| c.channel == Channel::Email) {
            let m = templates::render(&letters::authority_report(r.authority, c.locale, &s, &note, stage));
            messages.push(NewNotification {
                thread: Default::default(),
                incident_id: Some(incident.id.clone()),
                kind: "authority_report".into(),
                authority: Some(r.authority),
                dedup_key: format!("route:{}:{}:{}:{stage}", incident.id, r.authority, c.id),
                contact_id: Some(c.id),
                recipients: vec![c.address],
                locale: c.locale,
                subject: m.subject,
                body_text: m.text,
                body_html: m.html,
            });
        }
    }
    notifications::enqueue_many(conn, messages, &domain)
}

/// The newest status report on the timeline, for the templates.
pub fn latest_status_report(conn: &mut AnyConnection, incident_id: &str) -> DbResult<Option<StatusReport>> {
    Ok(db::updates::latest_status_report(conn, incident_id)?.map(|v| StatusReport {
        damage: v["damage"].as_str().unwrap_or_default().to_owned(),
        response: v["response"].as_str().unwrap_or_default().to_owned(),
        recovery: v["recovery"].as_str().unwrap_or_default().to_owned(),
        prevention: v["prevention"].as_str().unwrap_or_default().to_owned(),
    }))
}

/// Sends a follow-up under the four headings to MHLW (its guideline asks for status reports).
pub fn status_report_to_mhlw(
    conn: &mut AnyConnection,
    settings: &Settings,
    incident: &Incident,
    hospital: &Organization,
    update_id: &str,
) -> DbResult<usize> {
    let mhlw: Vec<Route> = incident.routing.iter().filter(|r| r.authority == Authority::Mhlw).cloned().collect();
    enqueue_reports(conn, settings, incident, hospital, &mhlw, &format!("status_report:{update_id}"), Past::Stored)
}

/// Addresses that reach a hospital about an incident: its reporters and the incident's contact e-mail.
pub fn hospital_recipients(conn: &mut AnyConnection, incident: &Incident) -> DbResult<Vec<String>> {
    let mut to: Vec<String> = db::users::by_org_and_role(conn, Some(&incident.hospital_id), Role::Reporter)?
        .into_iter()
        .map(|u| u.email)
        .collect();
    if let Some(e) = &incident.facts.contact.email {
        if !to.contains(e) {
            to.push(e.clone());
        }
    }
    Ok(to)
}

/// Enqueues the reminder (or overdue notice) of an obligation to the hospital.
pub fn obligation_notice(
    conn: &mut AnyConnection,
    settings: &Settings,
    incident: &Incident,
    hospital: &Organization,
    o: &Obligation,
    overdue: bool,
) -> DbResult<bool> {
    let Some(due) = o.due_at else { return Ok(false) };
    let to = hospital_recipients(conn, incident)?;
    if to.is_empty() {
        return Ok(false);
    }
    let url = format!("{}/incidents/{}", settings.public_url(), incident.id);
    let m = templates::render(&letters::obligation_reminder(
        Locale::Ja,
        &incident.reference,
        &hospital.name,
        o.kind,
        due,
        &url,
        incident.facts.drill,
        overdue,
    ));
    notifications::enqueue(
        conn,
        NewNotification {
            thread: Default::default(),
            incident_id: Some(incident.id.clone()),
            kind: if overdue { "overdue".into() } else { "reminder".into() },
            authority: None,
            contact_id: None,
            dedup_key: format!("{}:{}", if overdue { "overdue" } else { "reminder" }, o.id),
            recipients: to,
            locale: Locale::Ja,
            subject: m.subject,
            body_text: m.text,
            body_html: m.html,
        },
        &mail_domain(settings),
    )
}

/// Alerts every duty officer that a notification is dead (could not be delivered).
pub fn dead_letter(conn: &mut AnyConnection, settings: &Settings, n: &notifications::Notification) -> DbResult<bool> {
    let officers: Vec<String> =
        db::users::by_org_and_role(conn, None, Role::DutyOfficer)?.into_iter().map(|u| u.email).collect();
    let Some(incident_id) = &n.incident_id else { return Ok(false) };
    if officers.is_empty() || n.kind == "dead_letter" {
        return Ok(false);
    }
    let Some(incident) = db::incidents::get_visible(conn, incident_id, &crate::auth::Scope::All)? else {
        return Ok(false);
    };
    let url = format!("{}/incidents/{}", settings.public_url(), incident.id);
    let letter = if n.kind == crate::notify::webhooks::KIND {
        letters::webhook_dead_alert(
            &incident.reference,
            &n.subject,
            &n.recipients.join(", "),
            n.attempts,
            n.last_error.as_deref().unwrap_or(""),
            &url,
            incident.facts.drill,
        )
    } else {
        letters::dead_letter_alert(
            &incident.reference,
            n.authority.unwrap_or(Authority::Mhlw),
            &n.recipients.join(", "),
            n.attempts,
            n.last_error.as_deref().unwrap_or(""),
            &url,
            incident.facts.drill,
        )
    };
    let m = templates::render(&letter);
    notifications::enqueue(
        conn,
        NewNotification {
            thread: Default::default(),
            incident_id: Some(incident.id.clone()),
            kind: "dead_letter".into(),
            authority: None,
            contact_id: None,
            dedup_key: format!("dead:{}", n.id),
            recipients: officers,
            locale: Locale::Ja,
            subject: m.subject,
            body_text: m.text,
            body_html: m.html,
        },
        &mail_domain(settings),
    )
}

/// Tells an account's owner that one client keeps failing to sign in and now waits (one e-mail per
/// client and day).
pub fn sign_in_throttled(
    conn: &mut AnyConnection,
    settings: &Settings,
    user: &crate::db::users::User,
    client: &str,
    failures: i32,
    wait: chrono::Duration,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let url = format!("{}/login", settings.public_url());
    let m = templates::render(&letters::sign_in_throttled(client, failures, wait.num_seconds(), now, &url));
    notifications::enqueue(
        conn,
        NewNotification {
            thread: Default::default(),
            incident_id: None,
            kind: "sign_in_throttled".into(),
            authority: None,
            contact_id: None,
            dedup_key: format!("throttled:{}:{client}:{}", user.id, jst_date(now)),
            recipients: vec![user.email.clone()],
            locale: Locale::Ja,
            subject: m.subject,
            body_text: m.text,
            body_html: m.html,
        },
        &mail_domain(settings),
    )
}
