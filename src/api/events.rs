//! `/events`: what happens during the week — ceremonies, community days, lectures,
//! exhibitions, competitions, open venues. Owned by the host unit.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::{media_reports, tallies, trainings};
use crate::auth::{Authorized, MaybePrincipal, Principal, Subject, authorize};
use crate::error::{AppError, AppResult};
use crate::http::{Cursor, IfMatch, JsonBody, Page, PageParams, created, json_ok, merge_patch};
use crate::journal::{self, Entity, Entry};
use crate::schema::{campaigns, event_tombstones, events};
use crate::state::AppState;
use crate::validate::{Checks, plausible_time, search_term};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(show)
        .service(update)
        .service(remove);
}

crate::text_enum! {
    pub enum EventKind {
        OpeningCeremony = "opening_ceremony",
        CommunityActivity = "community_activity",
        Lecture = "lecture",
        Training = "training",
        Exhibition = "exhibition",
        Competition = "competition",
        Performance = "performance",
        ReadingPromotion = "reading_promotion",
        OpenVenue = "open_venue",
        Publicity = "publicity",
        Meeting = "meeting",
        Other = "other",
    }
}

crate::text_enum! {
    /// Drafts are seen by token holders only and never counted.
    pub enum Status {
        Draft = "draft",
        Published = "published",
        Cancelled = "cancelled",
        Completed = "completed",
    }
}

crate::text_enum! {
    /// `internal` items are seen by token holders only (but counted in the summary).
    pub enum Visibility {
        Public = "public",
        Internal = "internal",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Venue {
    #[schema(example = "康泰华都小区")]
    pub name: String,
    #[schema(example = "高州市潘州街道康泰华都小区广场")]
    pub address: Option<String>,
}

impl Venue {
    pub fn from_columns(name: Option<String>, address: Option<String>) -> Option<Venue> {
        name.map(|name| Venue { name, address })
    }

    pub fn check(venue: Option<&Venue>, c: &mut Checks) {
        if let Some(v) = venue {
            c.text("venue.name", &v.name, 200);
            c.opt_text("venue.address", v.address.as_deref(), 300);
        }
    }
}

/// An event as sent by clients.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// Cannot be changed later.
    pub campaign_id: Uuid,
    #[schema(example = "低碳生活进家庭", min_length = 1, max_length = 200)]
    pub title: String,
    pub kind: EventKind,
    #[schema(
        example = "倡导家庭低碳生活，现场发放购物竹篮，减少塑料袋使用。",
        max_length = 500
    )]
    pub summary: Option<String>,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    pub venue: Option<Venue>,
    /// One of the campaign's `areas` (when the campaign lists any).
    #[schema(example = "潘州街道")]
    pub area: Option<String>,
    pub starts_at: DateTime<Utc>,
    /// Not before `starts_at`.
    pub ends_at: DateTime<Utc>,
    /// The owning unit.
    pub host_unit_id: Uuid,
    #[serde(default)]
    pub co_organizer_unit_ids: Vec<Uuid>,
    /// Free text.
    #[schema(example = "社区居民、家庭妇女")]
    pub audience: Option<String>,
    #[serde(default = "default_status")]
    pub status: Status,
    #[serde(default = "default_visibility")]
    pub visibility: Visibility,
    #[schema(minimum = 0, example = 300)]
    pub expected_participants: Option<i32>,
    #[serde(default)]
    #[schema(example = json!(["低碳生活", "社区教育"]))]
    pub tags: Vec<String>,
    /// One of the week's highlights (亮点), named in the year's report.
    #[serde(default)]
    pub highlight: bool,
}

pub fn default_status() -> Status {
    Status::Draft
}

pub fn default_visibility() -> Visibility {
    Visibility::Public
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = events, treat_none_as_null = true)]
struct EventValues {
    campaign_id: Uuid,
    title: String,
    kind: EventKind,
    summary: Option<String>,
    description: Option<String>,
    venue_name: Option<String>,
    venue_address: Option<String>,
    area: Option<String>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    host_unit_id: Uuid,
    co_organizer_unit_ids: Vec<Uuid>,
    audience: Option<String>,
    status: Status,
    visibility: Visibility,
    expected_participants: Option<i32>,
    tags: Vec<String>,
    highlight: bool,
}

impl EventInput {
    /// `area_changed`: whether to check `area` against the campaign's current areas (an
    /// unchanged area stays valid even if the campaign's list changed since).
    async fn validate(
        self,
        conn: &mut AsyncPgConnection,
        area_changed: bool,
    ) -> AppResult<EventValues> {
        let mut c = Checks::new();
        c.check(
            plausible_time(&self.starts_at),
            "starts_at",
            "must be between the years 1990 and 2100",
        );
        c.check(
            plausible_time(&self.ends_at),
            "ends_at",
            "must be between the years 1990 and 2100",
        );
        c.text("title", &self.title, 200);
        c.opt_text("summary", self.summary.as_deref(), 500);
        c.opt_text("description", self.description.as_deref(), 20000);
        c.opt_text("audience", self.audience.as_deref(), 500);
        c.opt_text("area", self.area.as_deref(), 100);
        Venue::check(self.venue.as_ref(), &mut c);
        c.check(
            self.ends_at >= self.starts_at,
            "ends_at",
            "must not be before starts_at",
        );
        c.check(
            self.expected_participants.is_none_or(|n| n >= 0),
            "expected_participants",
            "must not be negative",
        );
        c.labels("tags", &self.tags, 20, 50);
        c.check(
            self.co_organizer_unit_ids.len() <= 50,
            "co_organizer_unit_ids",
            "at most 50 units",
        );
        for (i, unit) in self.co_organizer_unit_ids.iter().enumerate() {
            c.check(
                *unit != self.host_unit_id,
                &format!("co_organizer_unit_ids[{i}]"),
                "is the host unit",
            );
            c.check(
                !self.co_organizer_unit_ids[..i].contains(unit),
                &format!("co_organizer_unit_ids[{i}]"),
                "is listed twice",
            );
        }
        let area = self.area.as_deref().filter(|_| area_changed);
        check_campaign_area(conn, self.campaign_id, area, &mut c).await?;
        let mut refs = vec![("host_unit_id".to_string(), self.host_unit_id)];
        refs.extend(
            self.co_organizer_unit_ids
                .iter()
                .enumerate()
                .map(|(i, id)| (format!("co_organizer_unit_ids[{i}]"), *id)),
        );
        crate::validate::check_units_exist(conn, &refs, &mut c).await?;
        c.finish()?;
        let (venue_name, venue_address) = match self.venue {
            Some(v) => (Some(v.name), v.address),
            None => (None, None),
        };
        Ok(EventValues {
            campaign_id: self.campaign_id,
            title: self.title,
            kind: self.kind,
            summary: self.summary,
            description: self.description,
            venue_name,
            venue_address,
            area: self.area,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            host_unit_id: self.host_unit_id,
            co_organizer_unit_ids: self.co_organizer_unit_ids,
            audience: self.audience,
            status: self.status,
            visibility: self.visibility,
            expected_participants: self.expected_participants,
            tags: self.tags,
            highlight: self.highlight,
        })
    }
}

/// The campaign must exist, and an area must be one of its areas when it lists any.
pub async fn check_campaign_area(
    conn: &mut AsyncPgConnection,
    campaign_id: Uuid,
    area: Option<&str>,
    c: &mut Checks,
) -> AppResult<()> {
    let areas: Option<Vec<String>> = campaigns::table
        .find(campaign_id)
        .select(campaigns::areas)
        .first(conn)
        .await
        .optional()?;
    match (areas, area) {
        (None, _) => c.fail("campaign_id", "no such campaign"),
        (Some(areas), Some(area)) if !areas.is_empty() && !areas.iter().any(|a| a == area) => {
            c.fail("area", "is not one of the campaign's areas")
        }
        _ => {}
    }
    Ok(())
}

/// An optional `event_id` must name an event of the same campaign.
pub async fn check_event_campaign(
    conn: &mut AsyncPgConnection,
    event_id: Option<Uuid>,
    campaign_id: Uuid,
    c: &mut Checks,
) -> AppResult<()> {
    let Some(event_id) = event_id else {
        return Ok(());
    };
    let event_campaign: Option<Uuid> = events::table
        .find(event_id)
        .select(events::campaign_id)
        .first(conn)
        .await
        .optional()?;
    match event_campaign {
        None => c.fail("event_id", "no such event"),
        Some(campaign) if campaign != campaign_id => {
            c.fail("event_id", "belongs to another campaign")
        }
        _ => {}
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub title: String,
    pub kind: EventKind,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub venue_name: Option<String>,
    pub venue_address: Option<String>,
    pub area: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub host_unit_id: Uuid,
    pub co_organizer_unit_ids: Vec<Uuid>,
    pub audience: Option<String>,
    pub status: Status,
    pub visibility: Visibility,
    pub expected_participants: Option<i32>,
    pub tags: Vec<String>,
    pub sequence: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub highlight: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Event {
    pub id: Uuid,
    pub campaign_id: Uuid,
    #[schema(example = "低碳生活进家庭")]
    pub title: String,
    pub kind: EventKind,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub venue: Option<Venue>,
    #[schema(example = "潘州街道")]
    pub area: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub host_unit_id: Uuid,
    pub co_organizer_unit_ids: Vec<Uuid>,
    pub audience: Option<String>,
    pub status: Status,
    pub visibility: Visibility,
    pub expected_participants: Option<i32>,
    pub tags: Vec<String>,
    /// One of the week's highlights (亮点).
    pub highlight: bool,
    /// Rises with every change (the iCalendar SEQUENCE).
    pub sequence: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Self {
        Event {
            id: r.id,
            campaign_id: r.campaign_id,
            title: r.title,
            kind: r.kind,
            summary: r.summary,
            description: r.description,
            venue: Venue::from_columns(r.venue_name, r.venue_address),
            area: r.area,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            host_unit_id: r.host_unit_id,
            co_organizer_unit_ids: r.co_organizer_unit_ids,
            audience: r.audience,
            status: r.status,
            visibility: r.visibility,
            expected_participants: r.expected_participants,
            tags: r.tags,
            highlight: r.highlight,
            sequence: r.sequence,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl From<&Event> for EventInput {
    fn from(e: &Event) -> Self {
        EventInput {
            campaign_id: e.campaign_id,
            title: e.title.clone(),
            kind: e.kind,
            summary: e.summary.clone(),
            description: e.description.clone(),
            venue: e.venue.clone(),
            area: e.area.clone(),
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            host_unit_id: e.host_unit_id,
            co_organizer_unit_ids: e.co_organizer_unit_ids.clone(),
            audience: e.audience.clone(),
            status: e.status,
            visibility: e.visibility,
            expected_participants: e.expected_participants,
            tags: e.tags.clone(),
            highlight: e.highlight,
        }
    }
}

impl Event {
    /// What anonymous callers may see: no drafts, nothing internal.
    pub fn is_public(&self) -> bool {
        self.status != Status::Draft && self.visibility == Visibility::Public
    }
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

async fn load(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Event> {
    let row: EventRow = events::table
        .find(id)
        .select(EventRow::as_select())
        .first(conn)
        .await?;
    Ok(row.into())
}

async fn load_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Event> {
    let row: EventRow = events::table
        .find(id)
        .select(EventRow::as_select())
        .for_update()
        .first(conn)
        .await?;
    Ok(row.into())
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
    let mut query = events::table
        .select(EventRow::as_select())
        .order((events::starts_at, events::id))
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        let (at, id) = after.time_and_id()?;
        query = query.filter(
            events::starts_at
                .gt(at)
                .or(events::starts_at.eq(at).and(events::id.gt(id))),
        );
    }
    if !caller.sees_everything() {
        query = query
            .filter(events::status.ne(Status::Draft))
            .filter(events::visibility.eq(Visibility::Public));
    }
    if let Some(campaign) = filter.campaign_id {
        query = query.filter(events::campaign_id.eq(campaign));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(events::kind.eq(kind));
    }
    if let Some(status) = filter.status {
        query = query.filter(events::status.eq(status));
    }
    if let Some(visibility) = filter.visibility {
        query = query.filter(events::visibility.eq(visibility));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(
            events::host_unit_id
                .eq(unit)
                .or(events::co_organizer_unit_ids.contains(vec![unit])),
        );
    }
    if let Some(area) = &filter.area {
        query = query.filter(events::area.eq(area.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(events::ends_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(events::starts_at.lt(to));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(events::updated_at.ge(since));
    }
    if let Some(q) = q {
        query = query.filter(events::title.ilike(q));
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

/// Validates and inserts an event, journaled (POST and the seed loader).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    id: Uuid,
    input: EventInput,
) -> AppResult<Event> {
    let values = input.validate(conn, true).await?;
    let row: EventRow = diesel::insert_into(events::table)
        .values((events::id.eq(id), &values))
        .returning(EventRow::as_returning())
        .get_result(conn)
        .await?;
    let event = Event::from(row);
    let entry = Entry::created(Entity::Event, event.id, &event)?
        .campaign(event.campaign_id)
        .owner(Some(event.host_unit_id));
    journal::record(conn, auth, &[entry]).await?;
    Ok(event)
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
    let mut conn = state.conn().await?;
    let event = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let before = load_for_update(conn, *id).await?;
            // Refuse callers who may not touch the row before looking at what they send.
            authorize(&principal, Subject::Event, &[Some(before.host_unit_id)])?;
            let input = merge_patch::merged(&EventInput::from(&before), &patch.0)?;
            let auth = authorize(
                &principal,
                Subject::Event,
                &[Some(before.host_unit_id), Some(input.host_unit_id)],
            )?;
            if_match.check(&before)?;
            if input.campaign_id != before.campaign_id {
                return Err(AppError::invalid_field("campaign_id", "cannot be changed"));
            }
            let area_changed = input.area != before.area;
            let values = input.validate(conn, area_changed).await?;
            let row: EventRow = diesel::update(events::table.find(before.id))
                .set((
                    &values,
                    events::updated_at.eq(diesel::dsl::now),
                    events::sequence.eq(events::sequence + 1),
                ))
                .returning(EventRow::as_returning())
                .get_result(conn)
                .await?;
            let after = Event::from(row);
            let entry = Entry::updated(Entity::Event, after.id, &before, &after)?
                .campaign(after.campaign_id)
                .owner(Some(after.host_unit_id));
            journal::record(conn, &auth, &[entry]).await?;
            Ok(after)
        })
        .await?;
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
        entries.push(
            Entry::deleted(Entity::Event, before.id, &before)?
                .campaign(before.campaign_id)
                .owner(Some(before.host_unit_id)),
        );
        journal::record(conn, &auth, &entries).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What refers to an event (or a training): deleted or detached with it.
pub struct Dependents {
    tallies: Vec<tallies::Tally>,
    trainings: Vec<trainings::Training>,
    media_reports: Vec<media_reports::MediaReport>,
}

impl Dependents {
    pub async fn of_event(conn: &mut AsyncPgConnection, event_id: Uuid) -> AppResult<Self> {
        Ok(Dependents {
            tallies: tallies::of_event(conn, event_id).await?,
            trainings: trainings::of_event(conn, event_id).await?,
            media_reports: media_reports::of_event(conn, event_id).await?,
        })
    }

    pub async fn of_training(conn: &mut AsyncPgConnection, training_id: Uuid) -> AppResult<Self> {
        Ok(Dependents {
            tallies: tallies::of_training(conn, training_id).await?,
            trainings: Vec::new(),
            media_reports: Vec::new(),
        })
    }

    /// The owning unit of every dependent row.
    pub fn owners(&self) -> Vec<Option<Uuid>> {
        let mut owners: Vec<Option<Uuid>> = Vec::new();
        owners.extend(self.tallies.iter().map(|t| Some(t.reporting_unit_id)));
        owners.extend(self.trainings.iter().map(|t| Some(t.provider_unit_id)));
        owners.extend(self.media_reports.iter().map(|m| m.owner_unit_id()));
        owners
    }

    /// Deletes the tallies and detaches the rest (the foreign keys do the same; this records
    /// each change in the journal).
    pub async fn detach_and_delete(self, conn: &mut AsyncPgConnection) -> AppResult<Vec<Entry>> {
        let mut entries = Vec::new();
        for tally in &self.tallies {
            entries.push(tallies::deleted_entry(tally)?);
        }
        tallies::delete_many(conn, &self.tallies.iter().map(|t| t.id).collect::<Vec<_>>()).await?;
        for training in self.trainings {
            entries.push(trainings::detach_event(conn, training).await?);
        }
        for report in self.media_reports {
            entries.push(media_reports::detach_event(conn, report).await?);
        }
        Ok(entries)
    }
}
