//! Reading from a streaming replica (`DATABASE_READ_URL`): which connection a piece of code
//! gets, and how the replica's health and lag are known.
//!
//! **Where the decision is made.** Once per request, by [`middleware`]: a `GET`/`HEAD` without
//! an `Authorization` header is an anonymous read, and the rest of the request (extractors,
//! handler, everything it awaits) runs inside a [`tokio::task_local!`] scope that says so.
//! [`crate::state::AppState::conn`], which every handler uses, reads that scope; handlers stay
//! unchanged. Every write and every request with a token runs outside such a scope and gets
//! the primary, so a client always reads its own writes. So does everything outside a request
//! (migrations, the change listener, the webhook worker, housekeeping, the CLI): the default
//! is the primary, and only an explicit scope opens the replica.
//!
//! actix polls the handler's future inside the middleware's (the route service's future is
//! what `next.call(req)` returns), so the scope covers it. Work a handler hands to a spawned
//! task does not inherit the scope and gets the primary, unless it took its connection first
//! (the big feeds do: the connection is taken in the handler, then streamed from).
//!
//! **When the replica is used.** Only while the background [`probe`] last found it reachable
//! and caught up within `LEARNWEEK_READ_MAX_LAG_MS`; else reads fall back to the primary.
//! Requests never wait for the probe: they read its verdict from atomics.
//!
//! **Lag.** Compared by WAL position, not by the time of the last replayed commit (which
//! would call an idle, caught-up replica "lagging"): when the replica has replayed the
//! primary's current write position, the lag is 0. Otherwise the lag is the time since the
//! first probe that found the primary beyond what the replica has now replayed: the replica
//! certainly misses what was written by then. The resolution is the probe's interval.
//!
//! **Caches.** The read caches ([`crate::read_cache`]) keep a value while the change signal's
//! stamp is unchanged. The stamp moves when a change's notification arrives from the
//! primary; a replica that has not yet replayed that change would compute the old value,
//! which would then be kept as fresh until the next change. So a value that goes into a cache
//! is read from the primary, unless the probe has verified that the replica has replayed every
//! change the signal had counted when the value's connection was taken ([`for_cache`]): the
//! probe reads the signal's epoch, then the primary's WAL position, then the replica's replay
//! position; a notification is sent after its commit is flushed, so if the replica has
//! replayed that position, it has every change counted in that epoch. Values read before the
//! stamp and kept with it (a campaign by its slug) are always read from the primary
//! ([`on_primary`]). Cache misses are rare (one per change and key), so the primary's share of
//! anonymous reads stays small.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Bool, Nullable};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

use crate::change_signal::ChangeSignal;
use crate::db::{DbPool, Lanes};

/// How often the probe looks at both servers.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(250);
/// A probe query that takes longer than this counts as the server being down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The replica as `/readyz` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReplicaStatus {
    /// No `DATABASE_READ_URL`.
    None,
    /// Reachable and within the lag bound: anonymous reads go to it.
    Ok,
    /// Reachable but further behind than `LEARNWEEK_READ_MAX_LAG_MS`: reads use the primary.
    Lagging,
    /// Unreachable, not a standby, or not probed yet: reads use the primary.
    Down,
}

impl ReplicaStatus {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => ReplicaStatus::Ok,
            2 => ReplicaStatus::Lagging,
            3 => ReplicaStatus::Down,
            _ => ReplicaStatus::None,
        }
    }
}

/// Where the current task's connections come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// An anonymous read: the replica when it is healthy.
    Replica,
    /// Inside an anonymous read, a value about to be cached: the replica only when it is
    /// verified to hold every change the signal has counted.
    Cache,
    /// The primary, whatever the request.
    Primary,
}

tokio::task_local! {
    static ROUTE: Route;
}

fn current_route() -> Route {
    ROUTE.try_with(|r| *r).unwrap_or(Route::Primary)
}

/// Runs `fut` as an anonymous read (the replica when healthy).
pub async fn anonymous_read<F: Future>(fut: F) -> F::Output {
    ROUTE.scope(Route::Replica, fut).await
}

/// Runs `fut`, whose result goes into a read cache, so that it reads nothing older than the
/// change signal's current state (see the module's documentation). Outside an anonymous read
/// it changes nothing.
pub async fn for_cache<F: Future>(fut: F) -> F::Output {
    match current_route() {
        Route::Replica => ROUTE.scope(Route::Cache, fut).await,
        _ => fut.await,
    }
}

/// Runs `fut` on the primary.
pub async fn on_primary<F: Future>(fut: F) -> F::Output {
    ROUTE.scope(Route::Primary, fut).await
}

/// The replica's pool and what the probe last found; one per process.
pub struct ReadRouting {
    pool: Option<DbPool>,
    /// The replica's pools per worker thread, as the primary's (see [`Lanes`]).
    lanes: Lanes,
    read_url: Option<String>,
    max_lag: Duration,
    status: AtomicU8,
    /// The change signal's epoch + 1 the replica is verified to have replayed (0: none).
    verified_epoch: AtomicU64,
    /// The last measured lag, in milliseconds (for logs and metrics).
    lag_ms: AtomicU64,
}

impl ReadRouting {
    /// `read_url`: `DATABASE_READ_URL`; its pool has the primary pool's settings.
    pub fn new(
        read_url: Option<&str>,
        pool_size: usize,
        max_lag: Duration,
    ) -> Result<Self, String> {
        let pool = read_url
            .map(|url| crate::db::build_pool(url, pool_size))
            .transpose()
            .map_err(|e| format!("DATABASE_READ_URL: {e}"))?;
        let status = match pool {
            // Unknown until the first probe: the primary meanwhile.
            Some(_) => ReplicaStatus::Down,
            None => ReplicaStatus::None,
        };
        Ok(ReadRouting {
            pool,
            lanes: Lanes::none(),
            read_url: read_url.map(str::to_owned),
            max_lag,
            status: AtomicU8::new(status as u8),
            verified_epoch: AtomicU64::new(0),
            lag_ms: AtomicU64::new(0),
        })
    }

    /// Gives each of `workers` threads a pool of its own (of `pool_size` in all).
    pub fn add_lanes(&mut self, workers: usize, pool_size: usize) -> Result<(), String> {
        if let Some(url) = &self.read_url {
            self.lanes = Lanes::build(url, workers, pool_size)
                .map_err(|e| format!("DATABASE_READ_URL: {e}"))?;
        }
        Ok(())
    }

    pub fn is_configured(&self) -> bool {
        self.pool.is_some()
    }

    pub fn status(&self) -> ReplicaStatus {
        ReplicaStatus::from_u8(self.status.load(Ordering::Acquire))
    }

    pub fn lag_ms(&self) -> u64 {
        self.lag_ms.load(Ordering::Relaxed)
    }

    /// The replica's pool if the current task may read from it now, else `None` (the
    /// primary). The one place where the choice is made.
    pub fn pool_for_current_task(&self, signal: &ChangeSignal) -> Option<&DbPool> {
        let pool = self.pool.as_ref()?;
        let usable = match current_route() {
            Route::Primary => false,
            Route::Replica => self.status() == ReplicaStatus::Ok,
            Route::Cache => {
                self.status() == ReplicaStatus::Ok
                    && signal
                        .epoch()
                        .is_some_and(|epoch| self.verified_epoch.load(Ordering::Acquire) > epoch)
            }
        };
        usable.then(|| self.lanes.for_this_thread().unwrap_or(pool))
    }

    /// Logs transitions only (with `why`, never the URL: it may hold a password).
    fn set_status(&self, status: ReplicaStatus, why: &str) {
        let before = ReplicaStatus::from_u8(self.status.swap(status as u8, Ordering::AcqRel));
        if before != status {
            log::info!("read replica: {before:?} -> {status:?} ({why})");
            if status == ReplicaStatus::Down {
                // Its idle connections are most likely broken: drop them rather than let the
                // next requests find out once the replica is back.
                for pool in self.pool.iter().chain(self.lanes.pools()) {
                    pool.retain(|_, _| false);
                }
            }
        }
    }
}

/// Stops the probe when dropped or when [`ProbeHandle::stop`] is called.
pub struct ProbeHandle {
    stop: watch::Sender<bool>,
}

impl ProbeHandle {
    pub fn stop(self) {
        let _ = self.stop.send(true);
    }
}

/// Starts the probe on a task of its own (a no-op task without `DATABASE_READ_URL`).
pub fn spawn_probe(
    reads: Arc<ReadRouting>,
    signal: Arc<ChangeSignal>,
    primary_url: String,
) -> ProbeHandle {
    let (stop, stopped) = watch::channel(false);
    if reads.is_configured() {
        actix_web::rt::spawn(probe(reads, signal, primary_url, stopped));
    }
    ProbeHandle { stop }
}

#[derive(diesel::QueryableByName)]
struct Position {
    #[diesel(sql_type = Nullable<BigInt>)]
    lsn: Option<i64>,
    #[diesel(sql_type = Bool)]
    in_recovery: bool,
}

/// The server's WAL position in bytes: on the primary where it writes, on a standby what it
/// has replayed.
async fn position(conn: &mut AsyncPgConnection) -> Result<Position, String> {
    use diesel_async::RunQueryDsl;
    let query = diesel::sql_query(
        "SELECT pg_is_in_recovery() AS in_recovery, \
                (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
                      ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint AS lsn",
    );
    match tokio::time::timeout(PROBE_TIMEOUT, query.get_result(conn)).await {
        Ok(Ok(p)) => Ok(p),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}

/// A connection of the probe's own (never a pooled one: a busy pool must not read as "down").
async fn connect(url: &str) -> Result<AsyncPgConnection, String> {
    match tokio::time::timeout(PROBE_TIMEOUT, AsyncPgConnection::establish(url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}

/// The primary's positions at recent probes, to tell how long ago the replica's position
/// was the primary's.
struct History {
    samples: VecDeque<(Instant, i64)>,
    keep: Duration,
}

impl History {
    fn push(&mut self, at: Instant, lsn: i64) {
        self.samples.push_back((at, lsn));
        while self.samples.len() > 2
            && self
                .samples
                .front()
                .is_some_and(|(t, _)| at.duration_since(*t) > self.keep)
        {
            self.samples.pop_front();
        }
    }

    /// How far behind a replica that has replayed `replayed` is, at `now`: the time since the
    /// first probe that saw the primary beyond `replayed` (the replica certainly misses what
    /// was there then). Measured to the probe's interval; 0 once the replica has the primary's
    /// latest position, however long ago that was written.
    fn lag(&self, now: Instant, replayed: i64) -> Duration {
        let since = self
            .samples
            .iter()
            .rev()
            .take_while(|(_, lsn)| *lsn > replayed)
            .last()
            .map_or(now, |(t, _)| *t);
        now.saturating_duration_since(since)
    }
}

async fn probe(
    reads: Arc<ReadRouting>,
    signal: Arc<ChangeSignal>,
    primary_url: String,
    mut stop: watch::Receiver<bool>,
) {
    let Some(read_url) = reads.read_url.clone() else {
        return;
    };
    let mut history = History {
        samples: VecDeque::new(),
        keep: reads.max_lag * 2 + Duration::from_secs(1),
    };
    let (mut primary, mut replica) = (None, None);
    let mut tick = actix_web::rt::time::interval(PROBE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        // The epoch first, then the primary's position, then the replica's: see the module's
        // documentation for why this order verifies the epoch.
        let epoch = signal.epoch();
        let primary_lsn = match sample(&mut primary, &primary_url).await {
            Ok(p) if !p.in_recovery => p.lsn,
            Ok(_) => None,
            Err(e) => {
                log::debug!("read probe: primary: {e}");
                None
            }
        };
        let Some(primary_lsn) = primary_lsn else {
            // Without the primary's position nothing is verified; the replica's status stays.
            continue;
        };
        history.push(Instant::now(), primary_lsn);
        let replayed = match sample(&mut replica, &read_url).await {
            Ok(Position {
                in_recovery: true,
                lsn: Some(lsn),
            }) => lsn,
            Ok(_) => {
                // A promoted or unrelated server: its data may have diverged from the
                // primary's. Never read from it.
                reads.set_status(ReplicaStatus::Down, "DATABASE_READ_URL is not a standby");
                continue;
            }
            Err(e) => {
                reads.set_status(ReplicaStatus::Down, &format!("unreachable: {e}"));
                continue;
            }
        };
        if replayed >= primary_lsn {
            reads
                .verified_epoch
                .store(epoch.map_or(0, |e| e + 1), Ordering::Release);
        }
        let lag = history.lag(Instant::now(), replayed);
        reads.lag_ms.store(
            u64::try_from(lag.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let status = if lag > reads.max_lag {
            ReplicaStatus::Lagging
        } else {
            ReplicaStatus::Ok
        };
        reads.set_status(status, &format!("lag {} ms", lag.as_millis()));
    }
}

/// One position query on the probe's connection to `url`, (re)connecting as needed.
async fn sample(conn: &mut Option<AsyncPgConnection>, url: &str) -> Result<Position, String> {
    if conn.is_none() {
        *conn = Some(connect(url).await?);
    }
    let Some(c) = conn.as_mut() else {
        return Err("no connection".into());
    };
    let result = position(c).await;
    if result.is_err() {
        // Reconnect next time: the connection may be the broken part.
        *conn = None;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ten-second window of probes that saw the primary at these positions, these many
    /// milliseconds after `t0`.
    fn probed(t0: Instant, probes: &[(u64, i64)]) -> History {
        let mut h = History {
            samples: VecDeque::new(),
            keep: Duration::from_secs(10),
        };
        for &(ms, lsn) in probes {
            h.push(t0 + Duration::from_millis(ms), lsn);
        }
        h
    }

    #[test]
    fn lag_is_zero_once_the_replica_has_the_primarys_position_however_old_it_is() {
        let t0 = Instant::now();
        let h = probed(t0, &[(0, 100), (5_000, 100)]);
        assert_eq!(h.lag(t0 + Duration::from_secs(5), 100), Duration::ZERO);
    }

    #[test]
    fn lag_counts_from_the_first_probe_that_saw_the_primary_beyond_the_replica() {
        let t0 = Instant::now();
        let h = probed(t0, &[(0, 100), (250, 200), (500, 300)]);
        let now = t0 + Duration::from_millis(600);
        assert_eq!(h.lag(now, 300), Duration::ZERO);
        assert_eq!(h.lag(now, 200), Duration::from_millis(100));
        assert_eq!(h.lag(now, 150), Duration::from_millis(350));
        // Behind every probe kept: at least the window's age.
        assert_eq!(h.lag(now, 50), Duration::from_millis(600));
    }
}
