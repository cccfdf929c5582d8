//! One integration-test binary: the real app over real HTTP against real PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod auth;
mod authz;
mod campaigns;
mod changes;
mod committee;
mod conventions;
mod events;
mod feeds;
mod hostile;
mod idempotency;
mod locale;
mod media_reports;
mod operations;
mod partners;
mod program;
mod regions;
mod reliability;
mod replica;
mod report;
mod report_snapshots;
mod sessions;
mod summary;
mod tallies;
mod tally_shapes;
mod trainings;
mod units;
mod webhooks;
