//! `/events`: what happens during the week — ceremonies, community days, lectures,
//! exhibitions, competitions, open venues. Owned by the host unit.

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
use crate::schema::{event_tombstones, events};
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
pub struct EventFilter {
    pub campaign_id: Option<Uuid>,
    pub kind: Option<EventKind>,
    pub status: Option<Status>,
    pub visibility: Option<Visibility>,
    /// Events this unit hosts or co-organizes.
    pub unit_id: Option<Uuid>,
    /// One of the campaign's areas, e.g. 潘州街道.
    pub area: Option<String>,
    /// Events that end at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Events that start before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Only events changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    /// Substring of the title (Chinese included).
    pub q: Option<String>,
}

/// List events, in order of start time.
///
/// Roles: anyone. Anonymous callers see published, cancelled and completed public events only;
/// any valid token sees drafts and internal events too.
#[utoipa::path(
    tag = "events",
    operation_id = "listEvents",
    params(PageParams, EventFilter),
    security((), ("bearer" = [])),
    responses((status = 200, description = "A page of events", body = Page<Event>))
)]
#[get("/events")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybePrincipal,
    page: web::Query<PageParams>,
    filter: web::Query<EventFilter>,
) -> AppResult<HttpResponse> {
    let page = page.validate()?;
    let q = search_term(filter.q.as_deref())?;
    let mut query = crate::keyset_page!(
        events::table.select(EventRow::as_select()),
        page,
        events::starts_at,
        events::id
    );
    if !caller.sees_everything() {
        query = query
            .filter(events::status.ne(Status::Draft))
            .filter(events::visibility.eq(Visibility::Public));
    }
    crate::filter_by!(query,
        filter.campaign_id => events::campaign_id,
        filter.kind => events::kind,
        filter.status => events::status,
        filter.visibility => events::visibility,
        filter.area.clone() => events::area,
        filter.from => events::ends_at: ge,
        filter.to => events::starts_at: lt,
        filter.updated_since => events::updated_at: ge,
        q => events::title: ilike,
    );
    if let Some(unit) = filter.unit_id {
        query = query.filter(
            events::host_unit_id
                .eq(unit)
                .or(events::co_organizer_unit_ids.contains(vec![unit])),
        );
    }
    let rows: Vec<EventRow> = query.load(&mut state.conn().await?).await?;
    let items: Vec<Event> = rows.into_iter().map(Event::from).collect();
    Page::from_rows(items, &page, |e: &Event| Cursor::by_time(e.starts_at, e.id)).respond(&req)
}

/// Create an event.
///
/// Roles: admin; editor of the host unit.
#[utoipa::path(
    tag = "events",
    operation_id = "createEvent",
    request_body = EventInput,
    security(("bearer" = [])),
    responses((status = 201, description = "Created: the new event", body = Event, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/events")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<EventInput>,
) -> AppResult<HttpResponse> {
    let auth = authorize(&principal, Subject::Event, &[Some(body.0.host_unit_id)])?;
    let mut conn = state.conn().await?;
    let event = conn
        .transaction::<_, AppError, _>(async |conn| {
            insert(conn, &auth, Uuid::now_v7(), body.0).await
        })
        .await?;
    created(&req, format!("/api/v1/events/{}", event.id), &event)
}

/// Get an event.
///
/// Roles: anyone; drafts and internal events only with a token (404 otherwise).
#[utoipa::path(
    tag = "events",
    operation_id = "getEvent",
    params(("id" = Uuid, Path)),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The event", body = Event, headers(("ETag" = String))))
)]
#[get("/events/{id}")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybePrincipal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let event = load(&mut conn, *id).await?;
    if !caller.sees_everything() && !event.is_public() {
        return Err(AppError::not_found());
    }
    json_ok(&req, &event)
}

/// Change an event (JSON merge patch). `campaign_id` cannot change.
///
/// Roles: admin; editor of the host unit (and it cannot hand the event to another unit).
#[utoipa::path(
    tag = "events",
    operation_id = "updateEvent",
    params(("id" = Uuid, Path)),
    request_body(content = serde_json::Value, description = "RFC 7396 merge patch of an EventInput",
        content_type = "application/merge-patch+json", example = json!({"status": "published"})),
    security(("bearer" = [])),
    responses((status = 200, description = "The changed event", body = Event, headers(("ETag" = String))))
)]
#[patch("/events/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: JsonBody<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let event: Event =
        patch_row(&state, &principal, Subject::Event, *id, &if_match, &patch.0).await?;
    json_ok(&req, &event)
}

/// Delete an event. Its tallies are deleted with it; trainings and media reports that refer to
/// it are detached (their `event_id` becomes null). The event leaves the calendar feed and
/// shows in the Atom feed as deleted for 30 days.
///
/// Roles: admin; editor of the host unit, when every tally, training and media report it
/// touches belongs to that unit too.
#[utoipa::path(
    tag = "events",
    operation_id = "deleteEvent",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/events/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let before = load_for_update(conn, *id).await?;
        let children = Dependents::of_event(conn, before.id).await?;
        let mut owners = vec![Some(before.host_unit_id)];
        owners.extend(children.owners());
        let auth = authorize(&principal, Subject::Event, &owners)?;
        if_match.check(&before)?;
        let mut entries = children.detach_and_delete(conn).await?;
        diesel::insert_into(event_tombstones::table)
            .values((
                event_tombstones::id.eq(before.id),
                event_tombstones::campaign_id.eq(before.campaign_id),
                event_tombstones::kind.eq(before.kind),
                event_tombstones::host_unit_id.eq(before.host_unit_id),
                event_tombstones::area.eq(&before.area),
                event_tombstones::title.eq(&before.title),
                event_tombstones::was_public.eq(before.is_public()),
                event_tombstones::co_organizer_unit_ids.eq(&before.co_organizer_unit_ids),
            ))
            .on_conflict(event_tombstones::id)
            .do_nothing()
            .execute(conn)
            .await?;
        diesel::delete(events::table.find(before.id))
            .execute(conn)
            .await?;
        entries.push(Entry::delete_of(&before)?);
        journal::record(conn, &auth, &entries).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
