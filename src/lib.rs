//! hikeshi (火消し): incident reporting and first-response coordination for hospital cyber
//! incidents in Japan. See the README for the picture and DESIGN.md for the contract.

#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod notify;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
