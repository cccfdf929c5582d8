//! The webhook delivery worker, run inside `serve`.
//!
//! Deliveries come from the change log (the outbox written in the same transaction as each
//! change), so a crash or restart loses none: a subscription's `cursor` only moves past a
//! change once its receiver answered 2xx.
//!
//! Up to [`MAX_IN_FLIGHT`] deliveries run at once per process, each to another subscription,
//! so a slow receiver holds one slot for at most [`HTTP_TIMEOUT`] while the others go on.
//! Per subscription, one change is in flight at a time, in commit order: a worker claims a due
//! subscription by leasing it (`leased_until`, with `FOR UPDATE SKIP LOCKED`, so replicas
//! never claim the same one), and only the worker holding the lease clears it, in the same
//! statement that records the outcome: the cursor moved on, or the next attempt scheduled by
//! the backoff. No transaction stays open during the HTTP call.
//!
//! Fairness: claims take the subscriptions due longest first, and a subscription that was just
//! served is due again from that moment, so it queues behind every other waiting one (one
//! change per turn). [`MAX_IN_FLIGHT_PER_UNIT`] keeps one unit's subscriptions (up to
//! [`super::MAX_PER_UNIT`] of them, all perhaps pointing at a slow receiver) from taking
//! every slot.

mod attempt;
mod claim;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_web::web;
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use futures_util::stream::FuturesUnordered;
use tokio::sync::watch;
use uuid::Uuid;

use crate::state::AppState;

pub use attempt::{RETRY_WINDOW, sign};

/// Deliveries in flight at once, per process.
pub const MAX_IN_FLIGHT: usize = 8;
/// Of those, to the subscriptions of one unit (admin-owned ones count as one unit).
pub const MAX_IN_FLIGHT_PER_UNIT: usize = 2;
/// How long a receiver may take to answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// A claim expires after this (longer than an attempt can take), so a worker that died
/// mid-delivery holds up its subscriptions no longer.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// The backlog gauge is recounted at most this often.
const BACKLOG_EVERY: Duration = Duration::from_secs(5);

/// A running worker; [`Worker::stop`] lets the deliveries in flight finish, then ends it.
pub struct Worker {
    stop: watch::Sender<bool>,
    done: actix_web::rt::task::JoinHandle<()>,
}

impl Worker {
    /// Starts the worker on the current (actix) runtime.
    pub fn start(state: web::Data<AppState>) -> Worker {
        let (stop, stopped) = watch::channel(false);
        let done = actix_web::rt::spawn(run(state, stopped));
        Worker { stop, done }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.done.await;
    }
}

/// One delivery in flight; yields the owning unit when it is over.
type InFlight = LocalBoxFuture<'static, Option<Uuid>>;

async fn run(state: web::Data<AppState>, mut stopped: watch::Receiver<bool>) {
    let client = attempt::client(state.config.webhook_allow_private);
    let poll = Duration::from_millis(state.config.webhook_poll_ms.max(10));
    let mut in_flight = FuturesUnordered::<InFlight>::new();
    let mut per_unit: HashMap<Option<Uuid>, usize> = HashMap::new();
    let mut counted_at: Option<Instant> = None;
    let mut stopping = false;
    loop {
        stopping |= *stopped.borrow();
        if stopping {
            if in_flight.is_empty() {
                return;
            }
        } else {
            let free = MAX_IN_FLIGHT - in_flight.len();
            if free > 0 {
                match claim::due(&state, free, &per_unit).await {
                    Ok(claimed) => {
                        for c in claimed {
                            in_flight.push(start(&state, &client, c, &mut per_unit));
                        }
                    }
                    Err(e) => log::warn!("webhook delivery: {e}"),
                }
            }
            if counted_at.is_none_or(|at| at.elapsed() >= BACKLOG_EVERY) {
                counted_at = Some(Instant::now());
                match claim::backlog(&state).await {
                    Ok(n) => state.metrics.set_webhook_backlog(n),
                    Err(e) => log::warn!("webhook backlog: {e}"),
                }
            }
        }
        tokio::select! {
            Some(unit) = in_flight.next(), if !in_flight.is_empty() => {
                if let Some(n) = per_unit.get_mut(&unit) {
                    *n -= 1;
                    if *n == 0 {
                        per_unit.remove(&unit);
                    }
                }
            }
            changed = stopped.changed(), if !stopping => {
                // A dropped `Worker` stops it too.
                stopping |= changed.is_err();
            }
            () = actix_web::rt::time::sleep(poll), if !stopping => {}
        }
    }
}

/// Runs one claimed delivery as its own task, so that it progresses while the scheduler
/// waits on the database.
fn start(
    state: &web::Data<AppState>,
    client: &awc::Client,
    claimed: claim::Claimed,
    per_unit: &mut HashMap<Option<Uuid>, usize>,
) -> InFlight {
    let unit = claimed.webhook.unit_id;
    *per_unit.entry(unit).or_default() += 1;
    let task = actix_web::rt::spawn(attempt::deliver(state.clone(), client.clone(), claimed));
    Box::pin(async move {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::warn!("webhook delivery: {e}"),
            Err(e) => log::error!("webhook delivery task failed: {e}"),
        }
        unit
    })
}
