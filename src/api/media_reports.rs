//! `/media-reports`: press, TV and online coverage of the week. Owned by the outlet unit when
//! the outlet is a unit (the TV station), else by the unit that logged it.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::events::{check_campaign_area, check_event_campaign};
use crate::auth::{Authorized, Principal, Subject, authorize};
use crate::error::{AppError, AppResult};
use crate::http::{Cursor, IfMatch, JsonBody, Page, PageParams, created, json_ok, merge_patch};
use crate::journal::{self, Entity, Entry};
use crate::schema::media_reports;
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
    pub enum Medium {
        Tv = "tv",
        Radio = "radio",
        Newspaper = "newspaper",
        Online = "online",
        Social = "social",
        PrintMaterial = "print_material",
        Other = "other",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaReportInput {
    /// Cannot be changed later.
    pub campaign_id: Uuid,
    /// The event covered, if any (same campaign).
    pub event_id: Option<Uuid>,
    /// The outlet, when it is a unit (e.g. the city TV station). This or `outlet_name` is required.
    pub outlet_unit_id: Option<Uuid>,
    /// The outlet's name, when it is not a unit.
    #[schema(example = "茂名日报")]
    pub outlet_name: Option<String>,
    /// The unit that logs the report, for outlets that are not units; defaults to the caller's
    /// unit. When `outlet_unit_id` is set it must be that unit.
    pub reporting_unit_id: Option<Uuid>,
    pub medium: Medium,
    #[schema(
        example = "我市全民终身学习活动周隆重开幕",
        min_length = 1,
        max_length = 300
    )]
    pub title: String,
    #[schema(
        example = "https://www.gaozhou.gov.cn/news/2014/10/19/lifelong-learning-week",
        max_length = 2000
    )]
    pub url: Option<String>,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = media_reports, treat_none_as_null = true)]
struct MediaReportValues {
    campaign_id: Uuid,
    event_id: Option<Uuid>,
    outlet_unit_id: Option<Uuid>,
    outlet_name: Option<String>,
    reporting_unit_id: Option<Uuid>,
    medium: Medium,
    title: String,
    url: Option<String>,
    published_at: DateTime<Utc>,
}

impl MediaReportInput {
    /// The unit this report will belong to.
    pub fn owner_unit_id(&self) -> Option<Uuid> {
        self.outlet_unit_id.or(self.reporting_unit_id)
    }

    /// Fills `reporting_unit_id` from the caller's unit when the outlet is not a unit.
    fn with_defaults(mut self, principal: &Principal) -> Self {
        if self.reporting_unit_id.is_none() {
            self.reporting_unit_id = self.outlet_unit_id.or(principal.unit_id);
        }
        self
    }

    async fn validate(self, conn: &mut AsyncPgConnection) -> AppResult<MediaReportValues> {
        let mut c = Checks::new();
        c.check(
            plausible_time(&self.published_at),
            "published_at",
            "must be between the years 1990 and 2100",
        );
        c.text("title", &self.title, 300);
        c.opt_text("outlet_name", self.outlet_name.as_deref(), 200);
        c.check(
            self.outlet_unit_id.is_some() || self.outlet_name.is_some(),
            "outlet_name",
            "either outlet_unit_id or outlet_name is required",
        );
        if let (Some(outlet), Some(reporter)) = (self.outlet_unit_id, self.reporting_unit_id) {
            c.check(
                outlet == reporter,
                "reporting_unit_id",
                "must be the outlet unit when the outlet is a unit",
            );
        }
        if let Some(url) = &self.url {
            let ok =
                (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 2000;
            c.check(
                ok,
                "url",
                "must be an http(s) URL of at most 2000 characters",
            );
        }
        check_campaign_area(conn, self.campaign_id, None, &mut c).await?;
        check_event_campaign(conn, self.event_id, self.campaign_id, &mut c).await?;
        let mut refs = Vec::new();
        if let Some(u) = self.outlet_unit_id {
            refs.push(("outlet_unit_id".to_string(), u));
        }
        if let Some(u) = self
            .reporting_unit_id
            .filter(|u| Some(*u) != self.outlet_unit_id)
        {
            refs.push(("reporting_unit_id".to_string(), u));
        }
        crate::validate::check_units_exist(conn, &refs, &mut c).await?;
        c.finish()?;
        Ok(MediaReportValues {
            campaign_id: self.campaign_id,
            event_id: self.event_id,
            outlet_unit_id: self.outlet_unit_id,
            outlet_name: self.outlet_name,
            reporting_unit_id: self.reporting_unit_id,
            medium: self.medium,
            title: self.title,
            url: self.url,
            published_at: self.published_at,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = media_reports)]
pub struct MediaReport {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub event_id: Option<Uuid>,
    pub outlet_unit_id: Option<Uuid>,
    #[schema(example = "茂名日报")]
    pub outlet_name: Option<String>,
    pub reporting_unit_id: Option<Uuid>,
    pub medium: Medium,
    #[schema(example = "我市全民终身学习活动周隆重开幕")]
    pub title: String,
    pub url: Option<String>,
    pub published_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MediaReport {
    pub fn owner_unit_id(&self) -> Option<Uuid> {
        self.outlet_unit_id.or(self.reporting_unit_id)
    }
}

impl From<&MediaReport> for MediaReportInput {
    fn from(m: &MediaReport) -> Self {
        MediaReportInput {
            campaign_id: m.campaign_id,
            event_id: m.event_id,
            outlet_unit_id: m.outlet_unit_id,
            outlet_name: m.outlet_name.clone(),
            reporting_unit_id: m.reporting_unit_id,
            medium: m.medium,
            title: m.title.clone(),
            url: m.url.clone(),
            published_at: m.published_at,
        }
    }
}

fn entry(e: Entry, m: &MediaReport) -> Entry {
    e.campaign(m.campaign_id).owner(m.owner_unit_id())
}

pub async fn of_event(conn: &mut AsyncPgConnection, event_id: Uuid) -> AppResult<Vec<MediaReport>> {
    Ok(media_reports::table
        .filter(media_reports::event_id.eq(event_id))
        .select(MediaReport::as_select())
        .for_update()
        .load(conn)
        .await?)
}

/// Clears `event_id` (the event is being deleted); returns the journal entry.
pub async fn detach_event(conn: &mut AsyncPgConnection, before: MediaReport) -> AppResult<Entry> {
    let after: MediaReport = diesel::update(media_reports::table.find(before.id))
        .set((
            media_reports::event_id.eq(None::<Uuid>),
            media_reports::updated_at.eq(diesel::dsl::now),
        ))
        .returning(MediaReport::as_returning())
        .get_result(conn)
        .await?;
    Ok(entry(
        Entry::updated(Entity::MediaReport, after.id, &before, &after)?,
        &after,
    ))
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
    let mut query = media_reports::table
        .select(MediaReport::as_select())
        .order((media_reports::published_at, media_reports::id))
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        let (at, id) = after.time_and_id()?;
        query = query.filter(
            media_reports::published_at
                .gt(at)
                .or(media_reports::published_at
                    .eq(at)
                    .and(media_reports::id.gt(id))),
        );
    }
    if let Some(v) = filter.campaign_id {
        query = query.filter(media_reports::campaign_id.eq(v));
    }
    if let Some(v) = filter.event_id {
        query = query.filter(media_reports::event_id.eq(v));
    }
    if let Some(v) = filter.medium {
        query = query.filter(media_reports::medium.eq(v));
    }
    if let Some(v) = filter.unit_id {
        query = query.filter(
            media_reports::outlet_unit_id
                .eq(v)
                .or(media_reports::reporting_unit_id.eq(v)),
        );
    }
    if let Some(v) = filter.from {
        query = query.filter(media_reports::published_at.ge(v));
    }
    if let Some(v) = filter.to {
        query = query.filter(media_reports::published_at.lt(v));
    }
    if let Some(v) = filter.updated_since {
        query = query.filter(media_reports::updated_at.ge(v));
    }
    if let Some(q) = q {
        query = query.filter(media_reports::title.ilike(q));
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

/// Validates and inserts a media report, journaled (POST and the seed loader).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    id: Uuid,
    input: MediaReportInput,
) -> AppResult<MediaReport> {
    let values = input.validate(conn).await?;
    let report: MediaReport = diesel::insert_into(media_reports::table)
        .values((media_reports::id.eq(id), &values))
        .returning(MediaReport::as_returning())
        .get_result(conn)
        .await?;
    journal::record(
        conn,
        auth,
        &[entry(
            Entry::created(Entity::MediaReport, report.id, &report)?,
            &report,
        )],
    )
    .await?;
    Ok(report)
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
    let mut conn = state.conn().await?;
    let report = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let before: MediaReport = media_reports::table
                .find(*id)
                .select(MediaReport::as_select())
                .for_update()
                .first(conn)
                .await?;
            authorize(&principal, Subject::MediaReport, &[before.owner_unit_id()])?;
            let mut input = merge_patch::merged(&MediaReportInput::from(&before), &patch.0)?;
            // A new outlet unit brings its own reporting unit, unless the patch names one.
            let names_reporter = patch.0.get("reporting_unit_id").is_some();
            if input.outlet_unit_id.is_some() && !names_reporter {
                input.reporting_unit_id = input.outlet_unit_id;
            }
            let auth = authorize(
                &principal,
                Subject::MediaReport,
                &[before.owner_unit_id(), input.owner_unit_id()],
            )?;
            if_match.check(&before)?;
            if input.campaign_id != before.campaign_id {
                return Err(AppError::invalid_field("campaign_id", "cannot be changed"));
            }
            let values = input.validate(conn).await?;
            let after: MediaReport = diesel::update(media_reports::table.find(before.id))
                .set((&values, media_reports::updated_at.eq(diesel::dsl::now)))
                .returning(MediaReport::as_returning())
                .get_result(conn)
                .await?;
            let e = entry(
                Entry::updated(Entity::MediaReport, after.id, &before, &after)?,
                &after,
            );
            journal::record(conn, &auth, &[e]).await?;
            Ok(after)
        })
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
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let before: MediaReport = media_reports::table
            .find(*id)
            .select(MediaReport::as_select())
            .for_update()
            .first(conn)
            .await?;
        let auth = authorize(&principal, Subject::MediaReport, &[before.owner_unit_id()])?;
        if_match.check(&before)?;
        diesel::delete(media_reports::table.find(before.id))
            .execute(conn)
            .await?;
        journal::record(
            conn,
            &auth,
            &[entry(
                Entry::deleted(Entity::MediaReport, before.id, &before)?,
                &before,
            )],
        )
        .await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
