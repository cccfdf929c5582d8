//! One integration-test binary: the real app over real HTTP against real PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod auth;
mod campaigns;
mod conventions;
mod operations;
mod program;
mod units;
