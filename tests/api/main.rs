//! The integration test binary `api`: every database test runs on SQLite and PostgreSQL.

#[macro_use]
mod helpers;

mod auth;
mod errors;
mod health;
mod schema;
