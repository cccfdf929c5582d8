//! `/trainings`: free training sessions and courses, with their outcome counts. Owned by the
//! provider unit; a reporter of that unit may update the outcome counts only.

pub mod model;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::cascade::Dependents;
use crate::api::shared::{Status, Visibility, patch_row};
use crate::auth::{MaybePrincipal, Principal, Subject, authorize};
use crate::error::{AppError, AppResult};
use crate::http::{Cursor, IfMatch, JsonBody, Page, PageParams, created, json_ok};
use crate::journal::{self, Entry};
use crate::schema::trainings;
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
pub struct TrainingFilter {
    pub campaign_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub subject: Option<TrainingSubject>,
    pub status: Option<Status>,
    pub visibility: Option<Visibility>,
    /// The provider unit.
    pub unit_id: Option<Uuid>,
    /// Sessions that end at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Sessions that start before this time.
    pub to: Option<DateTime<Utc>>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Substring of the title (Chinese included).
    pub q: Option<String>,
}

/// List trainings, in order of start time.
///
/// Roles: anyone. Anonymous callers see non-draft public trainings only.
#[utoipa::path(
    tag = "trainings",
    operation_id = "listTrainings",
    params(PageParams, TrainingFilter),
    security((), ("bearer" = [])),
    responses((status = 200, description = "A page of trainings", body = Page<Training>))
)]
#[get("/trainings")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybePrincipal,
    page: web::Query<PageParams>,
    filter: web::Query<TrainingFilter>,
) -> AppResult<HttpResponse> {
    let page = page.validate()?;
    let q = search_term(filter.q.as_deref())?;
    let mut query = crate::keyset_page!(
        trainings::table.select(TrainingRow::as_select()),
        page,
        trainings::starts_at,
        trainings::id
    );
    if !caller.sees_everything() {
        query = query
            .filter(trainings::status.ne(Status::Draft))
            .filter(trainings::visibility.eq(Visibility::Public));
    }
    crate::filter_by!(query,
        filter.campaign_id => trainings::campaign_id,
        filter.event_id => trainings::event_id,
        filter.subject => trainings::subject,
        filter.status => trainings::status,
        filter.visibility => trainings::visibility,
        filter.unit_id => trainings::provider_unit_id,
        filter.from => trainings::ends_at: ge,
        filter.to => trainings::starts_at: lt,
        filter.updated_since => trainings::updated_at: ge,
        q => trainings::title: ilike,
    );
    let rows: Vec<TrainingRow> = query.load(&mut state.conn().await?).await?;
    let items: Vec<Training> = rows.into_iter().map(Training::from).collect();
    Page::from_rows(items, &page, |t: &Training| {
        Cursor::by_time(t.starts_at, t.id)
    })
    .respond(&req)
}

/// Create a training.
///
/// Roles: admin; editor of the provider unit.
#[utoipa::path(
    tag = "trainings",
    operation_id = "createTraining",
    request_body = TrainingInput,
    security(("bearer" = [])),
    responses((status = 201, description = "Created: the new training", body = Training, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/trainings")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<TrainingInput>,
) -> AppResult<HttpResponse> {
    let auth = authorize(
        &principal,
        Subject::Training,
        &[Some(body.0.provider_unit_id)],
    )?;
    let mut conn = state.conn().await?;
    let training = conn
        .transaction::<_, AppError, _>(async |conn| {
            insert(conn, &auth, Uuid::now_v7(), body.0).await
        })
        .await?;
    created(
        &req,
        format!("/api/v1/trainings/{}", training.id),
        &training,
    )
}

/// Get a training.
///
/// Roles: anyone; drafts and internal trainings only with a token (404 otherwise).
#[utoipa::path(
    tag = "trainings",
    operation_id = "getTraining",
    params(("id" = Uuid, Path)),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The training", body = Training, headers(("ETag" = String))))
)]
#[get("/trainings/{id}")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybePrincipal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let row: TrainingRow = trainings::table
        .find(*id)
        .select(TrainingRow::as_select())
        .first(&mut state.conn().await?)
        .await?;
    let training = Training::from(row);
    if !caller.sees_everything() && !training.is_public() {
        return Err(AppError::not_found());
    }
    json_ok(&req, &training)
}

/// Change a training (JSON merge patch). `campaign_id` cannot change.
///
/// Roles: admin; editor of the provider unit; reporter of the provider unit when the patch
/// touches only `enrolled`, `completed` and `employed_after`.
#[utoipa::path(
    tag = "trainings",
    operation_id = "updateTraining",
    params(("id" = Uuid, Path)),
    request_body(content = serde_json::Value, description = "RFC 7396 merge patch of a TrainingInput",
        content_type = "application/merge-patch+json",
        example = json!({"enrolled": 92, "completed": 86, "employed_after": 52})),
    security(("bearer" = [])),
    responses((status = 200, description = "The changed training", body = Training, headers(("ETag" = String))))
)]
#[patch("/trainings/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: JsonBody<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let outcome_only = patch
        .0
        .as_object()
        .is_some_and(|fields| fields.keys().all(|k| OUTCOME_FIELDS.contains(&k.as_str())));
    let subject = if outcome_only {
        Subject::TrainingOutcome
    } else {
        Subject::Training
    };
    let training: Training =
        patch_row(&state, &principal, subject, *id, &if_match, &patch.0).await?;
    json_ok(&req, &training)
}

/// Delete a training and its tallies.
///
/// Roles: admin; editor of the provider unit, when its tallies all belong to that unit too.
#[utoipa::path(
    tag = "trainings",
    operation_id = "deleteTraining",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/trainings/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let before = load_for_update(conn, *id).await?;
        let children = Dependents::of_training(conn, before.id).await?;
        let mut owners = vec![Some(before.provider_unit_id)];
        owners.extend(children.owners());
        let auth = authorize(&principal, Subject::Training, &owners)?;
        if_match.check(&before)?;
        let mut entries = children.detach_and_delete(conn).await?;
        diesel::delete(trainings::table.find(before.id))
            .execute(conn)
            .await?;
        entries.push(Entry::delete_of(&before)?);
        journal::record(conn, &auth, &entries).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
