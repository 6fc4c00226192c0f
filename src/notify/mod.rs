//! Outgoing mail: the transactional outbox, the worker that drains it, the mailer and templates.

pub mod contacts;
pub mod mailer;
pub mod templates;

use actix_web::web;
use tokio::sync::watch;

use crate::state::AppState;

/// Starts the background workers; each stops when `stop` turns true.
pub fn spawn_workers(state: web::Data<AppState>, stop: watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    vec![tokio::spawn(crate::api::incidents::rescore_loop(state, stop))]
}
