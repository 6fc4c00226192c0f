//! The campaign detector: looks at every incident that is new or whose facts changed, off the
//! request path (a filing adds no statement for it), links it to other hospitals' incidents
//! (`domain::national`), proposes or extends campaigns and alerts the duty officers by e-mail and
//! the `campaign.detected` webhook event. One instance runs it at a time (a lease); a filing on
//! this instance wakes it at once, others look every `campaigns.poll_seconds`.

use std::collections::BTreeSet;
use std::time::Duration as StdDuration;

use actix_web::web;
use chrono::Duration;
use serde_json::json;
use tokio::sync::watch;

use crate::auth::Scope;
use crate::db::notifications::NewNotification;
use crate::db::{self, AnyConnection, DbResult};
use crate::domain::national::{decide, link_keys, needs_profile, Decision};
use crate::domain::{IncidentStatus, Locale, Role, WebhookEvent};
use crate::notify::{outbox, templates, webhooks};
use crate::state::AppState;

const LEASE: &str = "campaigns";
const LEASE_SECONDS: i64 = 60;
/// Incidents looked at per round (each in its own transaction).
const BATCH: i64 = 200;

pub async fn detect_loop(state: web::Data<AppState>, mut stop: watch::Receiver<bool>) {
    let holder = db::new_id();
    let every = StdDuration::from_secs(state.settings.campaigns.poll_seconds.max(1));
    loop {
        if *stop.borrow() {
            break;
        }
        let (st, h) = (state.clone(), holder.clone());
        let looked = match crate::notify::worker::blocking(&state, move |c| Ok(detect_once(c, &st, &h)?)).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "campaign detection failed; retrying");
                0
            }
        };
        if looked as i64 >= BATCH {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = state.campaign_wake.notified() => {}
            _ = stop.changed() => {}
        }
    }
    let pool = state.pool.clone();
    let _ =
        tokio::task::spawn_blocking(move || pool.get().map(|mut c| db::leases::release(&mut c, LEASE, &holder))).await;
}

/// One round: while holding the lease, looks at up to [`BATCH`] incidents. Returns how many.
pub fn detect_once(conn: &mut AnyConnection, state: &AppState, holder: &str) -> DbResult<usize> {
    let pending = db::campaigns::pending(conn, BATCH)?;
    let mut alerted = false;
    let mut looked = 0;
    let mut held_until = None;
    for id in &pending {
        // Renewed while less than two thirds of it is left: a round longer than the lease never
        // overlaps another instance's, and a busy round does not write the lease per incident.
        let now = db::now();
        if held_until.is_none_or(|until| until - now < Duration::seconds(LEASE_SECONDS * 2 / 3)) {
            if !db::leases::hold(conn, LEASE, holder, now, Duration::seconds(LEASE_SECONDS))? {
                break;
            }
            held_until = Some(now + Duration::seconds(LEASE_SECONDS));
        }
        looked += 1;
        match conn.write_transaction(|c| link_one(c, state, id)) {
            Ok(a) => alerted |= a,
            // One incident that cannot be linked must not stop the country's detection.
            Err(e) => {
                tracing::error!(incident = %id, error = %e, "campaign detection failed for an incident; it is looked at again when it changes");
                db::campaigns::skip(conn, id, db::now())?;
            }
        }
    }
    if alerted {
        state.outbox_wake.notify_one();
    }
    Ok(looked)
}

/// Links one incident; true when officers were alerted.
fn link_one(conn: &mut AnyConnection, state: &AppState, id: &str) -> DbResult<bool> {
    let Some(incident) = db::incidents::get_visible(conn, id, &Scope::All)? else { return Ok(false) };
    let now = db::now();
    // A withdrawn report was a mistake: it links nothing.
    let keys = if incident.status == IncidentStatus::Withdrawn {
        BTreeSet::new()
    } else {
        let remote = if needs_profile(&incident.facts) {
            db::orgs::get(conn, &incident.hospital_id)?.map(|h| h.remote_access).unwrap_or_default()
        } else {
            Vec::new()
        };
        link_keys(&incident.facts, &remote)
    };
    let drill = incident.facts.drill;
    db::campaigns::replace_links(conn, id, &incident.hospital_id, incident.reported_at, drill, &keys)?;
    let window = state.settings.campaigns.window_days;
    let matches = db::campaigns::matches(conn, &incident.hospital_id, incident.reported_at, drill, window, &keys)?;
    let memberships = if matches.is_empty() {
        Vec::new()
    } else {
        let mut involved = matches.clone();
        involved.insert(id.to_owned());
        db::campaigns::memberships(conn, &involved)?
    };
    let (campaign_id, joined, added) = match decide(id, &matches, &memberships) {
        Decision::Nothing => (None, false, Vec::new()),
        Decision::Propose(ids) => (Some(db::campaigns::propose(conn, &ids, drill, now)?), false, ids),
        Decision::Join { campaign_id, add } => {
            if !db::campaigns::join(conn, &campaign_id, &add, now)? {
                // Dismissed since it was read: decided again in the next round.
                return Ok(false);
            }
            (Some(campaign_id), true, add)
        }
    };
    // Incidents older than the window (the first run after an upgrade links years of them) are
    // linked without alerting anyone.
    let recent = incident.reported_at >= now - Duration::days(window);
    let alerted = match campaign_id {
        Some(c) if recent => {
            alert(conn, state, &c, joined, &added, id)?;
            true
        }
        _ => false,
    };
    if !db::campaigns::mark_checked(conn, id, incident.version, now)? {
        // Changed while being looked at: the next round looks again (links are idempotent).
        tracing::debug!(incident = id, "incident changed during campaign detection");
    }
    Ok(alerted)
}

/// Tells the duty officers (e-mail) and subscribers (`campaign.detected`), and writes the audit entry.
fn alert(
    conn: &mut AnyConnection,
    state: &AppState,
    campaign_id: &str,
    joined: bool,
    added: &[String],
    trigger: &str,
) -> DbResult<()> {
    let Some(c) = db::campaigns::get(conn, campaign_id)? else { return Ok(()) };
    let change = if joined { "joined" } else { "proposed" };
    let hospitals: BTreeSet<&str> = c.incidents.iter().map(|i| i.hospital_id.as_str()).collect();
    let url = format!("{}/campaigns/{}", state.settings.public_url(), c.id);
    let links: Vec<_> = c.links.iter().map(|l| (l.kind, l.value.clone())).collect();
    let letter = crate::domain::letters::campaign_alert(joined, hospitals.len(), &c.prefectures, &links, &url, c.drill);
    let rendered = templates::render(&letter);
    let officers: Vec<String> =
        db::users::by_org_and_role(conn, None, Role::DutyOfficer)?.into_iter().map(|u| u.email).collect();
    let domain = outbox::mail_domain(&state.settings);
    if !officers.is_empty() {
        db::notifications::enqueue(
            conn,
            NewNotification {
                incident_id: None,
                kind: "campaign".into(),
                authority: None,
                contact_id: None,
                // The campaign's version: each change of it is told once.
                dedup_key: format!("campaign:{}:{}", c.id, c.version),
                recipients: officers,
                locale: Locale::Ja,
                subject: rendered.subject,
                body_text: rendered.text,
                body_html: rendered.html,
                thread: Default::default(),
            },
            &domain,
        )?;
    }
    // Subscriptions of officers and administrators only: the event names every hospital. It
    // carries the incidents that came in with this change, not the whole campaign again (a
    // campaign of hundreds of hospitals would send its whole list with every join).
    let data = json!({
        "change": change,
        "campaign": {"id": c.id, "status": c.status, "drill": c.drill, "version": c.version,
            "prefectures": c.prefectures, "incident_count": c.incidents.len(), "links": c.links},
        "added_incidents": c.incidents.iter().filter(|i| added.contains(&i.id)).map(|i| json!({"id": i.id,
            "reference": i.reference, "hospital": {"id": i.hospital_id, "name": i.hospital_name,
            "prefecture": i.prefecture}})).collect::<Vec<_>>()});
    webhooks::emit_national(conn, state, WebhookEvent::CampaignDetected, data, &format!("{}:{}", c.id, c.version))?;
    db::audit::append(
        conn,
        &db::audit::AuditEvent {
            actor_id: None,
            actor_label: "campaign detector",
            action: if joined { "campaign.join" } else { "campaign.propose" },
            target_type: "campaign",
            target_id: &c.id,
            incident_id: None,
            request_id: None,
            details: json!({"incidents": added, "trigger": trigger, "links": c.links}),
        },
    )?;
    Ok(())
}
