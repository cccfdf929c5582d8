//! The one `build_app` used by `serve` and the tests (the `openapi` command reads the same
//! [`crate::api::routes`]): what the app is given, the middlewares in their order, CORS and
//! security headers, and the answer for paths no route matches.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{Condition, DefaultHeaders, Logger, from_fn};
use actix_web::{App, Error, HttpResponse, web};
use utoipa_actix_web::AppExt;

use crate::api::campaigns::CampaignIndex;
use crate::api::feeds::FeedCache;
use crate::api::report::ReportCache;
use crate::api::summary::SummaryCache;
use crate::api::tallies::BulkIngest;
use crate::error::AppError;
use crate::http::extractor_errors;
use crate::metrics::Metrics;
use crate::middleware::rate_limit::RateLimits;
use crate::middleware::route_info::RouteTable;
use crate::middleware::{idempotency, locale, metrics, rate_limit, request_id};
use crate::state::AppState;

/// Everything the app is given, created once per process (every HTTP worker shares it):
/// the plumbing in [`AppState`] and each part's own state.
#[derive(Clone)]
pub struct AppData {
    pub state: web::Data<AppState>,
    pub metrics: web::Data<Metrics>,
    pub rate_limits: web::Data<RateLimits>,
    pub campaigns: web::Data<CampaignIndex>,
    pub summaries: web::Data<SummaryCache>,
    pub reports: web::Data<ReportCache>,
    pub feeds: web::Data<FeedCache>,
    pub bulk_ingest: web::Data<BulkIngest>,
}

impl AppData {
    pub fn new(state: AppState) -> Self {
        let config = &state.config;
        AppData {
            metrics: web::Data::from(state.metrics.clone()),
            rate_limits: web::Data::new(RateLimits::new(
                config.rate_limit_per_minute,
                config.login_rate_per_minute,
            )),
            campaigns: web::Data::new(CampaignIndex::new(10_000)),
            summaries: web::Data::new(SummaryCache::default()),
            reports: web::Data::new(ReportCache::default()),
            feeds: web::Data::new(FeedCache::new(config.pool_size)),
            bulk_ingest: web::Data::new(BulkIngest::default()),
            state: web::Data::new(state),
        }
    }
}

pub fn build_app(
    data: AppData,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let cors = cors(&data.state.config.cors_origins);
    App::new()
        .into_utoipa_app()
        .app_data(data.state)
        .app_data(data.metrics)
        .app_data(data.rate_limits)
        .app_data(data.campaigns)
        .app_data(data.summaries)
        .app_data(data.reports)
        .app_data(data.feeds)
        .app_data(data.bulk_ingest)
        .app_data(routes())
        .app_data(extractor_errors::query_config())
        .app_data(extractor_errors::path_config())
        .configure(crate::api::routes)
        .into_app()
        .configure(crate::openapi::docs_routes)
        .default_service(web::to(no_route))
        // Innermost first: a request passes these bottom-up. The read route is innermost so
        // that its scope holds exactly the handler (and its extractors).
        .wrap(from_fn(crate::middleware::read_routing::middleware))
        .wrap(from_fn(idempotency::middleware))
        .wrap(from_fn(rate_limit::middleware))
        .wrap(from_fn(metrics::middleware))
        .wrap(Condition::new(cors.is_some(), cors.unwrap_or_default()))
        .wrap(security_headers())
        .wrap(from_fn(request_id::middleware))
        .wrap(from_fn(locale::middleware))
        .wrap(Condition::new(
            access_log_enabled(),
            Logger::new(request_id::LOG_FORMAT),
        ))
}

/// The access log builds its line's strings on every request even when its level is off, so
/// it is only in the chain when the line will be written (`RUST_LOG` at `info` for it).
fn access_log_enabled() -> bool {
    log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info)
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
