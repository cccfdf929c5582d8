//! The application: shared state and the one `build_app` used by `serve`, the tests and the
//! `openapi` command (through [`crate::api::routes`]).

use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{Condition, DefaultHeaders, Logger, from_fn};
use actix_web::{App, Error, HttpResponse, web};
use utoipa_actix_web::AppExt;

use crate::api::feeds::ValidatorCache;
use crate::auth::JwtKeys;
use crate::change_signal::ChangeSignal;
use crate::config::Config;
use crate::db::{DbConn, DbPool};
use crate::error::{AppError, AppResult};
use crate::http::metrics::Metrics;
use crate::http::rate_limit::RateLimits;
use crate::http::route_info::RouteTable;
use crate::http::{extractor_errors, idempotency, metrics, rate_limit, request_id};
use crate::read_cache::{KeyIndex, ReadCache};

pub struct AppState {
    pub pool: DbPool,
    pub jwt: JwtKeys,
    pub config: Arc<Config>,
    /// The schema version this binary needs (for `/readyz`).
    pub schema_version: String,
    pub rate_limits: Arc<RateLimits>,
    pub metrics: Arc<Metrics>,
    /// Moves on every committed change (while `serve`'s listener runs).
    pub change_signal: Arc<ChangeSignal>,
    pub feed_validators: ValidatorCache,
    /// Turns for bulk ingestion (tally batches and CSV imports): one at a time.
    pub bulk_ingest: tokio::sync::Semaphore,
    pub readiness: crate::db::ReadinessProbe,
    /// Campaigns by id or slug, while unchanged.
    pub campaigns_by_key: KeyIndex<crate::api::campaigns::Campaign>,
    /// Computed summaries, while their campaign is unchanged.
    pub summaries: ReadCache<crate::api::summary::Summary>,
    /// Regional sums, while nothing changed anywhere.
    pub regions: ReadCache<crate::api::summary::RegionSummary>,
    /// Rendered reports, while their campaign and its earlier editions are unchanged.
    pub reports: ReadCache<Vec<u8>>,
}

impl AppState {
    pub fn new(pool: DbPool, jwt_secret: &str, config: Config) -> Result<Self, String> {
        Ok(AppState {
            pool,
            jwt: JwtKeys::new(jwt_secret.as_bytes())?,
            rate_limits: Arc::new(RateLimits::new(
                config.rate_limit_per_minute,
                config.login_rate_per_minute,
            )),
            metrics: Arc::new(Metrics::new().map_err(|e| e.to_string())?),
            change_signal: Arc::default(),
            feed_validators: ValidatorCache::default(),
            bulk_ingest: tokio::sync::Semaphore::new(1),
            readiness: Default::default(),
            campaigns_by_key: KeyIndex::new(10_000),
            summaries: ReadCache::new(10_000),
            regions: ReadCache::new(1_000),
            reports: ReadCache::new(crate::api::report::CACHED_REPORTS),
            config: Arc::new(config),
            schema_version: crate::db::latest_migration_version(),
        })
    }

    pub async fn conn(&self) -> AppResult<DbConn> {
        crate::db::conn(&self.pool).await
    }
}

pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let cors = cors(&state.config.cors_origins);
    App::new()
        .into_utoipa_app()
        .app_data(state)
        .app_data(routes())
        .app_data(extractor_errors::query_config())
        .app_data(extractor_errors::path_config())
        .configure(crate::api::routes)
        .into_app()
        .configure(crate::openapi::docs_routes)
        .default_service(web::to(no_route))
        // Innermost first: a request passes these bottom-up.
        .wrap(from_fn(idempotency::middleware))
        .wrap(from_fn(rate_limit::middleware))
        .wrap(from_fn(metrics::middleware))
        .wrap(Condition::new(cors.is_some(), cors.unwrap_or_default()))
        .wrap(security_headers())
        .wrap(from_fn(request_id::middleware))
        .wrap(Logger::new(request_id::LOG_FORMAT))
}

/// The route metadata the middlewares decide by, read once from the OpenAPI document.
fn routes() -> web::Data<RouteTable> {
    static ROUTES: std::sync::OnceLock<web::Data<RouteTable>> = std::sync::OnceLock::new();
    ROUTES
        .get_or_init(|| web::Data::new(RouteTable::from_document(crate::openapi::document())))
        .clone()
}

/// 405 with `Allow` for a known path with another method, else 404.
async fn no_route(req: actix_web::HttpRequest) -> Result<HttpResponse, AppError> {
    match crate::openapi::methods_for(req.path()) {
        Some(allow) => Err(AppError::method_not_allowed(allow)),
        None => Err(AppError::not_found()),
    }
}

/// CORS for browser frontends on the configured origins only (none: no CORS at all).
fn cors(origins: &[String]) -> Option<Cors> {
    if origins.is_empty() {
        return None;
    }
    let cors = origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin));
    Some(
        cors.allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
            .allowed_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                header::IF_MODIFIED_SINCE,
                header::HeaderName::from_static("idempotency-key"),
                header::HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([
                header::ETAG,
                header::LOCATION,
                header::LINK,
                header::RETRY_AFTER,
                header::LAST_MODIFIED,
                header::HeaderName::from_static("x-request-id"),
                header::HeaderName::from_static("idempotent-replayed"),
                header::HeaderName::from_static("ratelimit-limit"),
                header::HeaderName::from_static("ratelimit-remaining"),
                header::HeaderName::from_static("ratelimit-reset"),
            ])
            .max_age(3600),
    )
}

/// On every response (Swagger UI sets its own, looser Content-Security-Policy first).
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
}
