//! What every part of the service shares: the database pool, the signing keys, the settings,
//! the change signal, readiness and metrics. Plumbing only: a resource's own state (its caches)
//! is a `web::Data` of its own, registered by the router.

use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::change_signal::ChangeSignal;
use crate::config::Config;
use crate::db::{DbConn, DbPool, ReadinessProbe};
use crate::error::AppResult;
use crate::metrics::Metrics;

pub struct AppState {
    pub pool: DbPool,
    pub jwt: JwtKeys,
    pub config: Arc<Config>,
    /// The schema version this binary needs (for `/readyz`).
    pub schema_version: String,
    pub metrics: Arc<Metrics>,
    /// Moves on every committed change (while `serve`'s listener runs).
    pub change_signal: Arc<ChangeSignal>,
    pub readiness: ReadinessProbe,
}

impl AppState {
    pub fn new(pool: DbPool, jwt_secret: &str, config: Config) -> Result<Self, String> {
        Ok(AppState {
            pool,
            jwt: JwtKeys::new(jwt_secret.as_bytes())?,
            metrics: Arc::new(Metrics::new().map_err(|e| e.to_string())?),
            change_signal: Arc::default(),
            readiness: ReadinessProbe::default(),
            config: Arc::new(config),
            schema_version: crate::db::latest_migration_version(),
        })
    }

    pub async fn conn(&self) -> AppResult<DbConn> {
        crate::db::conn(&self.pool).await
    }
}
