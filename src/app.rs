//! The application: shared state and the one `build_app` used by `serve`, the tests and the
//! `openapi` command (through [`crate::api::routes`]).

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Logger, from_fn};
use actix_web::{App, Error, HttpResponse, web};
use utoipa_actix_web::AppExt;

use crate::auth::JwtKeys;
use crate::config::Config;
use crate::db::{DbConn, DbPool};
use crate::error::{AppError, AppResult};
use crate::http::{extractor_errors, idempotency, request_id};

pub struct AppState {
    pub pool: DbPool,
    pub jwt: JwtKeys,
    pub config: Arc<Config>,
    /// The schema version this binary needs (for `/readyz`).
    pub schema_version: String,
}

impl AppState {
    pub fn new(pool: DbPool, jwt_secret: &str, config: Config) -> Result<Self, String> {
        Ok(AppState {
            pool,
            jwt: JwtKeys::new(jwt_secret.as_bytes())?,
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
    App::new()
        .into_utoipa_app()
        .app_data(state)
        .app_data(extractor_errors::query_config())
        .app_data(extractor_errors::path_config())
        .configure(crate::api::routes)
        .into_app()
        .configure(crate::openapi::docs_routes)
        .default_service(web::to(no_route))
        .wrap(from_fn(idempotency::middleware))
        .wrap(from_fn(request_id::middleware))
        .wrap(Logger::new(request_id::LOG_FORMAT))
}

async fn no_route() -> Result<HttpResponse, AppError> {
    Err(AppError::not_found())
}
