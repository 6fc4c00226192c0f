//! Outgoing mail: the transactional outbox, the worker that drains it, the mailer and templates.

pub mod campaigns;
pub mod contacts;
pub mod correspondence;
pub mod inbox;
pub mod listen;
pub mod mailer;
pub mod outbox;
pub mod templates;
pub mod webhooks;
pub mod worker;

use actix_web::web;
use tokio::sync::watch;

use crate::state::AppState;

/// Starts the background workers; each stops when `stop` turns true.
pub fn spawn_workers(state: web::Data<AppState>, stop: watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = vec![tokio::spawn(worker::housekeeping_loop(state.clone(), stop.clone()))];
    let url = state.settings.database_url.expose().to_owned();
    if crate::db::conn::announces_changes(&url) {
        let (wake, stop) = (state.outbox_wake.clone(), stop.clone());
        tasks.push(tokio::task::spawn_blocking(move || listen::listen(&url, wake, stop)));
    }
    if state.settings.campaigns.enabled {
        tasks.push(tokio::spawn(campaigns::detect_loop(state.clone(), stop.clone())));
    }
    if let Some(url) = inbox::configured(&state.settings) {
        tasks.push(tokio::spawn(inbox::inbox_loop(state.clone(), url, stop.clone())));
    }
    match mailer::Mailer::from_url(state.settings.mail_url.expose(), &state.settings.mail_from) {
        Ok(m) => tasks.push(tokio::spawn(worker::outbox_loop(state, m, stop))),
        // Settings::validate already refused a bad mail URL; this is only reached by a caller that skipped it.
        Err(e) => tracing::error!(error = %e, "outbox worker not started"),
    }
    tasks
}
