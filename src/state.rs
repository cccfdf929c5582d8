//! What every part of the service shares: the database pool, the signing keys, the settings,
//! the change signal, readiness and metrics. Plumbing only: a resource's own state (its caches)
//! is a `web::Data` of its own, registered by the router.

use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::change_signal::ChangeSignal;
use crate::config::Config;
use crate::db::{DbConn, DbPool, Lanes, ReadinessProbe};
use crate::error::AppResult;
use crate::idempotency::KeysInFlight;
use crate::metrics::Metrics;
use crate::replica::ReadRouting;

pub struct AppState {
    /// For background tasks and commands; request handlers use their worker's lane.
    pub pool: DbPool,
    lanes: Lanes,
    pub jwt: JwtKeys,
    pub config: Arc<Config>,
    /// The schema version this binary needs (for `/readyz`).
    pub schema_version: String,
    pub metrics: Arc<Metrics>,
    /// Moves on every committed change (while `serve`'s listener runs).
    pub change_signal: Arc<ChangeSignal>,
    pub readiness: ReadinessProbe,
    /// The read replica, if any, and whether the current request may use it.
    pub reads: Arc<ReadRouting>,
    /// Idempotency keys whose request is running in this process.
    pub keys_in_flight: KeysInFlight,
}

impl AppState {
    pub fn new(pool: DbPool, jwt_secret: &str, config: Config) -> Result<Self, String> {
        Ok(AppState {
            pool,
            lanes: Lanes::none(),
            jwt: JwtKeys::new(jwt_secret.as_bytes())?,
            metrics: Arc::new(Metrics::new().map_err(|e| e.to_string())?),
            change_signal: Arc::default(),
            readiness: ReadinessProbe::default(),
            keys_in_flight: KeysInFlight::default(),
            reads: Arc::new(ReadRouting::new(
                config.database_read_url.as_deref(),
                config.pool_size,
                std::time::Duration::from_millis(config.read_max_lag_ms),
            )?),
            config: Arc::new(config),
            schema_version: crate::db::latest_migration_version(),
        })
    }

    /// For `serve`: a lane of connections per worker thread (see [`Lanes`]), to the primary
    /// and to the replica if there is one. Call before the state is shared.
    pub fn with_worker_lanes(mut self, database_url: &str, workers: usize) -> Result<Self, String> {
        let pool_size = self.config.pool_size;
        self.lanes = Lanes::build(database_url, workers, pool_size)?;
        // Not shared yet, or the replica keeps one pool for all threads.
        if let Some(reads) = Arc::get_mut(&mut self.reads) {
            reads.add_lanes(workers, pool_size)?;
        }
        Ok(self)
    }

    /// A connection for the current task: the read replica inside an anonymous read while
    /// it is healthy (decided in [`ReadRouting::pool_for_current_task`]), else the primary.
    pub async fn conn(&self) -> AppResult<DbConn> {
        if let Some(replica) = self.reads.pool_for_current_task(&self.change_signal) {
            match replica.get().await {
                Ok(conn) => {
                    self.metrics.checked_out("replica");
                    return Ok(conn);
                }
                // The probe has not noticed yet; the primary answers meanwhile.
                Err(e) => log::debug!("read replica connection: {e}; using the primary"),
            }
        }
        self.metrics.checked_out("primary");
        let pool = self.lanes.for_this_thread().unwrap_or(&self.pool);
        crate::db::conn(pool).await
    }

    /// Every primary pool: the shared one and the workers' lanes.
    pub fn pools(&self) -> impl Iterator<Item = &DbPool> {
        std::iter::once(&self.pool).chain(self.lanes.pools())
    }
}
