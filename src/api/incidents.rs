//! Incidents (being written).
use actix_web::web;
pub fn routes(_cfg: &mut web::ServiceConfig) {}
pub async fn rescore_loop(_state: web::Data<crate::state::AppState>, _stop: tokio::sync::watch::Receiver<bool>) {}
