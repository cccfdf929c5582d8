//! learnweek: a JSON REST API over PostgreSQL that runs a city's Lifelong Learning Activity
//! Week. `main.rs` only calls [`cli::run`]; everything else is here so that the tests and the
//! `openapi` command build the very app that `serve` runs.

pub mod api;
pub mod auth;
pub mod change_signal;
pub mod cli;
pub mod config;
pub mod db;
pub mod embedded;
pub mod error;
pub mod http;
pub mod i18n;
pub mod idempotency;
pub mod journal;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod read_cache;
pub mod replica;
pub mod router;
pub mod schema;
pub mod seed;
pub mod state;
pub mod text_enum;
pub mod validate;
pub mod vocabulary;
