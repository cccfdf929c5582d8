//! `/tallies`: participant counts, reported by units for an event or a training.
//!
//! A tally's natural key is (subject, category, measure, tally_date, reporting unit): `PUT`,
//! `POST /tallies/batch` and `POST /tallies/import` upsert on it, so a script that sends the
//! same file twice changes nothing. Every change of a count is kept in the tally's history.

mod batch;
mod draft;
mod import;
pub mod model;
mod upsert;

use actix_web::{HttpRequest, HttpResponse, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::crud::{ListRequest, Listed, Lock, Resource};
use crate::api::shared::Lockable;
use crate::auth::{Principal, Subject, authorize};
use crate::error::{AppError, AppResult};
use crate::http::{
    BodyLimit, Cursor, IfMatch, JsonBody, Page, PageParams, json_ok, json_response, merge_patch,
};
use crate::journal::{self, Entry};
use crate::schema::{tallies, tally_history};
use crate::state::AppState;

pub use batch::BatchInput;
pub use draft::ValidTally;
pub use draft::{TallyDraft, prepare};
pub use upsert::{BatchItemResult, BatchResult};
pub use upsert::{Outcome, upsert};

pub use model::*;
pub use upsert::BulkIngest;

pub fn routes(cfg: &mut ServiceConfig) {
    // `/tallies/batch` and `/tallies/import` before `/tallies/{id}`: the middlewares find a
    // request's route by its path alone, the first pattern registered that fits it.
    cfg.service(create).service(put_tally).service(
        // Its own scope only to give it a larger body limit.
        utoipa_actix_web::scope::scope("/tallies/batch")
            .app_data(BodyLimit(BATCH_BODY_LIMIT))
            .service(batch::batch),
    );
    cfg.service(import::import);
    standard::routes(cfg);
    cfg.service(update).service(history);
}

/// The endpoints a tally shares with every resource (`api/crud`).
mod standard {
    use super::{Tally, TallyFilter};
    use crate::api::crud::prelude::*;

    crate::resource_handlers! {
        #[resource(Tally, tag = "tallies", key id: Uuid = (("id" = Uuid, Path)))]

        #[list("listTallies", "/tallies", token, TallyFilter, "A page of tallies")]
        /// List tallies.
        ///
        /// Roles: any valid token.
        fn list;
        #[show("getTally", "/tallies/{id}", token, "The tally")]
        /// Get a tally.
        ///
        /// Roles: any valid token.
        fn show;
        #[delete("deleteTally", "/tallies/{id}", "Deleted")]
        /// Delete a tally (and its history).
        ///
        /// Roles: admin; editor or reporter of the reporting unit.
        fn remove;
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TallyFilter {
    pub campaign_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub training_id: Option<Uuid>,
    pub category: Option<Category>,
    pub measure: Option<Measure>,
    /// The reporting unit.
    pub unit_id: Option<Uuid>,
    /// Tallies dated on or after this day.
    pub from: Option<NaiveDate>,
    /// Tallies dated on or before this day.
    pub to: Option<NaiveDate>,
    pub updated_since: Option<DateTime<Utc>>,
}

impl Listed for Tally {
    type Filter = TallyFilter;

    async fn page(request: ListRequest<'_>, filter: &TallyFilter) -> AppResult<Vec<Self>> {
        let selected = tallies::table.select(Tally::as_select());
        let mut query = crate::keyset_page!(selected, request.page, tallies::id);
        crate::filter_by!(query,
            filter.campaign_id => tallies::campaign_id,
            filter.event_id => tallies::event_id,
            filter.training_id => tallies::training_id,
            filter.category => tallies::category,
            filter.measure => tallies::measure,
            filter.unit_id => tallies::reporting_unit_id,
            filter.from => tallies::tally_date: ge,
            filter.to => tallies::tally_date: le,
            filter.updated_since => tallies::updated_at: ge,
        );
        Ok(query.load(&mut request.state.conn().await?).await?)
    }
}
/// Create a tally. A tally with the same natural key is a 409; `PUT /tallies` replaces it.
///
/// Roles: admin; editor or reporter of the reporting unit.
#[utoipa::path(
    tag = "tallies",
    operation_id = "createTally",
    request_body = TallyInput,
    security(("bearer" = [])),
    responses((status = 201, description = "Created: the new tally", body = Tally, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/tallies")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let tally = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let (auth, valid) = prepare_posted(conn, &principal, body.0).await?;
            let tally: Tally = diesel::insert_into(tallies::table)
                .values((tallies::id.eq(Uuid::now_v7()), valid.changeset()))
                .returning(Tally::as_returning())
                .get_result(conn)
                .await?;
            record_history(conn, &[(tally.id, tally.count)], &auth.actor().subject).await?;
            journal::record(conn, &auth, &[Entry::create_of(&tally)?]).await?;
            Ok(tally)
        })
        .await?;
    crate::http::created(&req, tally.location(), &tally)
}

/// Create or replace the tally with this natural key: 201 when created, 200 when replaced or
/// unchanged. Re-sending the same tally changes nothing and adds no history.
///
/// With `If-Match`, only the tally with this natural key as the client last read it is
/// replaced: 412 when it changed meanwhile, or when there is none (`If-Match: *` replaces
/// whatever is there, but creates nothing).
///
/// Roles: admin; editor or reporter of the reporting unit.
#[utoipa::path(
    tag = "tallies",
    operation_id = "upsertTally",
    request_body = TallyInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Tally, description = "Created", headers(("Location" = String), ("ETag" = String))),
        (status = 200, body = Tally, description = "Replaced or unchanged", headers(("ETag" = String)))
    )
)]
#[put("/tallies")]
pub async fn put_tally(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
    body: JsonBody<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let (tally, outcome) = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let (auth, valid) = prepare_posted(conn, &principal, body.0).await?;
            if !if_match.is_empty() {
                let current = Tally::find_by_key(conn, &valid.key(), Lock::ForUpdate).await?;
                if_match.check_found(current.as_ref())?;
            }
            let mut results = upsert(conn, &auth, vec![valid]).await?;
            Ok(results.remove(0))
        })
        .await?;
    if outcome == Outcome::Created {
        crate::http::created(&req, tally.location(), &tally)
    } else {
        let mut res = json_response(&req, actix_web::http::StatusCode::OK, &tally)?;
        let location = actix_web::http::header::HeaderValue::try_from(tally.location())
            .map_err(AppError::internal)?;
        res.headers_mut()
            .insert(actix_web::http::header::CONTENT_LOCATION, location);
        Ok(res)
    }
}

/// Change a tally (JSON merge patch). A new count is added to its history.
///
/// Roles: admin; editor or reporter of the reporting unit.
#[utoipa::path(
    tag = "tallies",
    operation_id = "updateTally",
    params(("id" = Uuid, Path)),
    request_body(content = serde_json::Value, description = "RFC 7396 merge patch of a TallyInput",
        content_type = "application/merge-patch+json", example = json!({"count": 350})),
    security(("bearer" = [])),
    responses((status = 200, description = "The changed tally", body = Tally, headers(("ETag" = String))))
)]
#[patch("/tallies/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: JsonBody<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let tally = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let before = Tally::lock(conn, *id).await?;
            authorize(
                &principal,
                Subject::Tally,
                &[Some(before.reporting_unit_id)],
            )?;
            if_match.check(&before)?;
            let input = merge_patch::merged(&TallyInput::from(&before), &patch.0)?;
            let draft = TallyDraft::from_input(String::new(), input);
            let (auth, valid) = prepare_one(conn, &principal, draft, before.source).await?;
            let after: Tally = diesel::update(tallies::table.find(before.id))
                .set((valid.changeset(), tallies::updated_at.eq(diesel::dsl::now)))
                .returning(Tally::as_returning())
                .get_result(conn)
                .await?;
            if after.count != before.count {
                record_history(conn, &[(after.id, after.count)], &auth.actor().subject).await?;
            }
            journal::record(conn, &auth, &[Entry::update_of(&before, &after)?]).await?;
            Ok(after)
        })
        .await?;
    json_ok(&req, &tally)
}

/// Every count this tally has had, oldest first.
///
/// Roles: any valid token.
#[utoipa::path(
    tag = "tallies",
    operation_id = "listTallyHistory",
    params(("id" = Uuid, Path), PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of history entries", body = Page<HistoryEntry>))
)]
#[get("/tallies/{id}/history")]
pub async fn history(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: Principal,
    id: web::Path<Uuid>,
    page: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let page = page.validate()?;
    let mut conn = state.conn().await?;
    let exists: Option<Uuid> = tallies::table
        .find(*id)
        .select(tallies::id)
        .first(&mut conn)
        .await
        .optional()?;
    exists.ok_or_else(AppError::not_found)?;
    let selected = tally_history::table
        .filter(tally_history::tally_id.eq(*id))
        .select(HistoryEntry::as_select());
    let rows = crate::keyset_page!(selected, page, oldest first tally_history::id)
        .load(&mut conn)
        .await?;
    Page::from_rows(rows, &page, |h: &HistoryEntry| Cursor::by_seq(h.id)).respond(&req)
}

/// The tally a POST or PUT body describes, as [`prepare_one`] finds it.
async fn prepare_posted(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    body: serde_json::Value,
) -> AppResult<(crate::auth::Authorized, ValidTally)> {
    let draft = batch::read_item(String::new(), body);
    prepare_one(conn, principal, draft, Source::Manual).await
}

/// Validates one tally and authorizes the caller for it.
async fn prepare_one(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    draft: TallyDraft,
    default_source: Source,
) -> AppResult<(crate::auth::Authorized, ValidTally)> {
    // Refuse other units' rows before validating them.
    authorize(
        principal,
        Subject::Tally,
        &[draft.reporting_unit_id.or(principal.unit_id)],
    )?;
    let mut prepared = prepare(conn, principal, vec![draft], default_source).await?;
    let valid = prepared.remove(0);
    let auth = authorize(principal, Subject::Tally, &[Some(valid.reporting_unit_id)])?;
    Ok((auth, valid))
}
