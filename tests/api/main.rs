//! The integration test binary `api`: every database test runs on SQLite and PostgreSQL.

#[macro_use]
mod helpers;

mod attacker;
mod audit_trail;
mod auth;
mod contract;
mod correspondence;
mod delivery;
mod dispatch;
mod errors;
mod hardening;
mod health;
mod imap_server;
mod incidents;
mod national;
mod routing;
mod scaleout;
mod scenarios;
mod schema;
mod session;
mod sharing;
mod stats;
mod webhooks;
