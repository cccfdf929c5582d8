//! Liveness and readiness.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Principal;
use crate::error::AppResult;
use crate::replica::ReplicaStatus;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    status: &'static str,
}

/// The process is up.
#[utoipa::path(
    tag = "operations",
    operation_id = "getHealth",
    security(()),
    responses((status = 200, description = "The process is up", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    status: &'static str,
    /// The primary (`DATABASE_URL`): always `ok` in a 200 (a primary that is down is a 503).
    #[schema(example = "ok")]
    primary: &'static str,
    /// The read replica (`DATABASE_READ_URL`), as last probed: `ok` (anonymous reads go to
    /// it), `lagging` (further behind than `LEARNWEEK_READ_MAX_LAG_MS`) or `down` (reads
    /// use the primary meanwhile), `none` when not configured.
    replica: ReplicaStatus,
}

/// The primary database is reachable and the schema is at this binary's version; the read
/// replica's state beside it (never a reason for a 503: reads fall back to the primary).
#[utoipa::path(
    tag = "operations",
    operation_id = "getReadiness",
    security(()),
    responses((status = 200, description = "Ready to serve", body = Readiness))
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .readiness
        .check(&state.pool, &state.schema_version)
        .await?;
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready",
        primary: "ok",
        replica: state.reads.status(),
    }))
}

/// Prometheus metrics: requests by route and status, latency histogram, connection pool,
/// webhook backlog, password checks. None of it is read from the database.
///
/// Roles: any valid token. Without one, scrape the separate listener of
/// `LEARNWEEK_METRICS_BIND` (meant for an internal network).
#[utoipa::path(
    tag = "operations",
    operation_id = "getMetrics",
    security(("bearer" = [])),
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain", body = String))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, _caller: Principal) -> HttpResponse {
    exposition(&state).await
}

/// The metrics page (also served, without a token, on `LEARNWEEK_METRICS_BIND`).
pub async fn exposition(state: &AppState) -> HttpResponse {
    let text = state.metrics.render(state.pools());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}
