//! `/media-reports`: press, TV and online coverage of the week. Owned by the outlet unit when
//! the outlet is a unit (the TV station), else by the unit that logged it.

pub mod model;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::shared::{patch_row, remove_row};
use crate::auth::{Principal, Subject, authorize};
use crate::error::{AppError, AppResult};
use crate::http::{Cursor, IfMatch, JsonBody, Page, PageParams, created, json_ok};
use crate::schema::media_reports;
use crate::state::AppState;
use crate::validate::search_term;

pub use model::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(show)
        .service(update)
        .service(remove);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MediaReportFilter {
    pub campaign_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub medium: Option<Medium>,
    /// The outlet or reporting unit.
    pub unit_id: Option<Uuid>,
    /// Published at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Published before this time.
    pub to: Option<DateTime<Utc>>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Substring of the title (Chinese included).
    pub q: Option<String>,
}

/// List media reports, in order of publication.
///
/// Roles: any valid token.
#[utoipa::path(
    tag = "media-reports",
    operation_id = "listMediaReports",
    params(PageParams, MediaReportFilter),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of media reports", body = Page<MediaReport>))
)]
#[get("/media-reports")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: Principal,
    page: web::Query<PageParams>,
    filter: web::Query<MediaReportFilter>,
) -> AppResult<HttpResponse> {
    let page = page.validate()?;
    let q = search_term(filter.q.as_deref())?;
    let mut query = crate::keyset_page!(
        media_reports::table.select(MediaReport::as_select()),
        page,
        media_reports::published_at,
        media_reports::id
    );
    crate::filter_by!(query,
        filter.campaign_id => media_reports::campaign_id,
        filter.event_id => media_reports::event_id,
        filter.medium => media_reports::medium,
        filter.from => media_reports::published_at: ge,
        filter.to => media_reports::published_at: lt,
        filter.updated_since => media_reports::updated_at: ge,
        q => media_reports::title: ilike,
    );
    if let Some(v) = filter.unit_id {
        query = query.filter(
            media_reports::outlet_unit_id
                .eq(v)
                .or(media_reports::reporting_unit_id.eq(v)),
        );
    }
    let rows = query.load(&mut state.conn().await?).await?;
    Page::from_rows(rows, &page, |m: &MediaReport| {
        Cursor::by_time(m.published_at, m.id)
    })
    .respond(&req)
}

/// Log a media report.
///
/// Roles: admin; editor or reporter of the owning unit (the outlet unit, or the reporting unit
/// for outlets that are not units).
#[utoipa::path(
    tag = "media-reports",
    operation_id = "createMediaReport",
    request_body = MediaReportInput,
    security(("bearer" = [])),
    responses((status = 201, description = "Created: the new media report", body = MediaReport, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/media-reports")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<MediaReportInput>,
) -> AppResult<HttpResponse> {
    let input = body.0.with_defaults(&principal);
    let auth = authorize(&principal, Subject::MediaReport, &[input.owner_unit_id()])?;
    let mut conn = state.conn().await?;
    let report = conn
        .transaction::<_, AppError, _>(async |conn| {
            insert(conn, &auth, Uuid::now_v7(), input).await
        })
        .await?;
    created(
        &req,
        format!("/api/v1/media-reports/{}", report.id),
        &report,
    )
}

/// Get a media report.
///
/// Roles: any valid token.
#[utoipa::path(
    tag = "media-reports",
    operation_id = "getMediaReport",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The media report", body = MediaReport, headers(("ETag" = String))))
)]
#[get("/media-reports/{id}")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: Principal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let report: MediaReport = media_reports::table
        .find(*id)
        .select(MediaReport::as_select())
        .first(&mut state.conn().await?)
        .await?;
    json_ok(&req, &report)
}

/// Change a media report (JSON merge patch). `campaign_id` cannot change.
///
/// Roles: admin; editor or reporter of the owning unit (which it cannot change).
#[utoipa::path(
    tag = "media-reports",
    operation_id = "updateMediaReport",
    params(("id" = Uuid, Path)),
    request_body(content = serde_json::Value, description = "RFC 7396 merge patch of a MediaReportInput",
        content_type = "application/merge-patch+json", example = json!({"url": "https://example.org/news/1"})),
    security(("bearer" = [])),
    responses((status = 200, description = "The changed media report", body = MediaReport, headers(("ETag" = String))))
)]
#[patch("/media-reports/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: JsonBody<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let report: MediaReport = patch_row(
        &state,
        &principal,
        Subject::MediaReport,
        *id,
        &if_match,
        &patch.0,
    )
    .await?;
    json_ok(&req, &report)
}

/// Delete a media report.
///
/// Roles: admin; editor or reporter of the owning unit.
#[utoipa::path(
    tag = "media-reports",
    operation_id = "deleteMediaReport",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/media-reports/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    remove_row::<MediaReport>(&state, &principal, Subject::MediaReport, *id, &if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}
