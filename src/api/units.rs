//! `/units`: the organizations taking part (bureaus, mass organizations, schools, ...).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::shared::{Lockable, Patchable, Removable, patch_row, remove_row};
use crate::auth::{Authorized, MaybePrincipal, Principal, Subject, authorize};
use crate::error::{AppError, AppResult};
use crate::http::{Cursor, IfMatch, JsonBody, Page, PageParams, created, json_ok};
use crate::journal::{self, Entity, Entry, Journaled, RowKey};
use crate::schema::units;
use crate::state::AppState;
use crate::validate::{Checks, search_term};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(show)
        .service(update)
        .service(remove);
}

crate::text_enum! {
    pub enum UnitKind {
        GovernmentDepartment = "government_department",
        MassOrganization = "mass_organization",
        Media = "media",
        Association = "association",
        School = "school",
        CommunityEducation = "community_education",
        TrainingInstitution = "training_institution",
        StreetOffice = "street_office",
        Enterprise = "enterprise",
        Other = "other",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Insertable, AsChangeset)]
#[diesel(table_name = units, treat_none_as_null = true)]
#[serde(deny_unknown_fields)]
pub struct UnitInput {
    /// Full name, unique.
    #[schema(example = "高州市教育局", min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(example = "市教育局", max_length = 100)]
    pub short_name: Option<String>,
    pub kind: UnitKind,
}

impl UnitInput {
    fn validate(self) -> AppResult<Self> {
        let mut c = Checks::new();
        c.text("name", &self.name, 200);
        c.opt_text("short_name", self.short_name.as_deref(), 100);
        c.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = units)]
pub struct Unit {
    pub id: Uuid,
    #[schema(example = "高州市教育局")]
    pub name: String,
    #[schema(example = "市教育局")]
    pub short_name: Option<String>,
    pub kind: UnitKind,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Journaled for Unit {
    const ENTITY: Entity = Entity::Unit;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, None, None)
    }
}

impl Lockable for Unit {
    type Key = Uuid;

    async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Unit> {
        find_for_update(conn, id).await
    }
}

impl Removable for Unit {
    async fn delete(conn: &mut AsyncPgConnection, unit: &Unit) -> AppResult<()> {
        diesel::delete(units::table.find(unit.id))
            .execute(conn)
            .await?;
        Ok(())
    }
}

impl Patchable for Unit {
    type Input = UnitInput;

    fn new_owners(_: &mut UnitInput, _: &serde_json::Value) -> Vec<Option<Uuid>> {
        vec![]
    }

    async fn store(
        conn: &mut AsyncPgConnection,
        before: &Unit,
        input: UnitInput,
    ) -> AppResult<Unit> {
        let values = input.validate()?;
        Ok(diesel::update(units::table.find(before.id))
            .set((&values, units::updated_at.eq(diesel::dsl::now)))
            .returning(Unit::as_returning())
            .get_result(conn)
            .await?)
    }
}

impl From<&Unit> for UnitInput {
    fn from(u: &Unit) -> Self {
        UnitInput {
            name: u.name.clone(),
            short_name: u.short_name.clone(),
            kind: u.kind,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitFilter {
    pub kind: Option<UnitKind>,
    /// Substring of the name or short name (Chinese included).
    pub q: Option<String>,
    /// Only units changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Unit> {
    Ok(units::table
        .find(id)
        .select(Unit::as_select())
        .for_update()
        .first(conn)
        .await?)
}

/// List units.
///
/// Roles: anyone, including anonymous callers.
#[utoipa::path(
    tag = "units",
    operation_id = "listUnits",
    params(PageParams, UnitFilter),
    security((), ("bearer" = [])),
    responses((status = 200, body = Page<Unit>, description = "A page of units, oldest first"))
)]
#[get("/units")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: MaybePrincipal,
    page: web::Query<PageParams>,
    filter: web::Query<UnitFilter>,
) -> AppResult<HttpResponse> {
    let page = page.validate()?;
    let q = search_term(filter.q.as_deref())?;
    let mut query = crate::keyset_page!(units::table.select(Unit::as_select()), page, units::id);
    crate::filter_by!(query,
        filter.kind => units::kind,
        filter.updated_since => units::updated_at: ge,
    );
    if let Some(q) = q {
        query = query.filter(units::name.ilike(q.clone()).or(units::short_name.ilike(q)));
    }
    let rows = query.load(&mut state.conn().await?).await?;
    Page::from_rows(rows, &page, |u: &Unit| Cursor::by_id(u.id)).respond(&req)
}

/// Create a unit.
///
/// Roles: admin.
#[utoipa::path(
    tag = "units",
    operation_id = "createUnit",
    request_body = UnitInput,
    security(("bearer" = [])),
    responses((status = 201, body = Unit, description = "Created",
        headers(("Location" = String, description = "URL of the new unit"), ("ETag" = String))))
)]
#[post("/units")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<UnitInput>,
) -> AppResult<HttpResponse> {
    let auth = authorize(&principal, Subject::Unit, &[])?;
    let mut conn = state.conn().await?;
    let unit = conn
        .transaction::<_, AppError, _>(async |conn| {
            insert(conn, &auth, Uuid::now_v7(), body.0).await
        })
        .await?;
    created(&req, format!("/api/v1/units/{}", unit.id), &unit)
}

/// Validates and inserts a unit, journaled (POST and the seed loader).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    id: Uuid,
    input: UnitInput,
) -> AppResult<Unit> {
    let values = input.validate()?;
    let unit: Unit = diesel::insert_into(units::table)
        .values((units::id.eq(id), &values))
        .returning(Unit::as_returning())
        .get_result(conn)
        .await?;
    journal::record(conn, auth, &[Entry::create_of(&unit)?]).await?;
    Ok(unit)
}

/// Get a unit.
///
/// Roles: anyone, including anonymous callers.
#[utoipa::path(
    tag = "units",
    operation_id = "getUnit",
    params(("id" = Uuid, Path)),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The unit", body = Unit, headers(("ETag" = String))))
)]
#[get("/units/{id}")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: MaybePrincipal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let unit: Unit = units::table
        .find(*id)
        .select(Unit::as_select())
        .first(&mut state.conn().await?)
        .await?;
    json_ok(&req, &unit)
}

/// Change a unit (JSON merge patch).
///
/// Roles: admin.
#[utoipa::path(
    tag = "units",
    operation_id = "updateUnit",
    params(("id" = Uuid, Path)),
    request_body(content = serde_json::Value, description = "RFC 7396 merge patch of a UnitInput",
        content_type = "application/merge-patch+json", example = json!({"short_name": "市教育局"})),
    security(("bearer" = [])),
    responses((status = 200, description = "The changed unit", body = Unit, headers(("ETag" = String))))
)]
#[patch("/units/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: JsonBody<serde_json::Value>,
) -> AppResult<HttpResponse> {
    authorize(&principal, Subject::Unit, &[])?;
    let unit: Unit = patch_row(&state, &principal, Subject::Unit, *id, &if_match, &patch.0).await?;
    json_ok(&req, &unit)
}

/// Delete a unit. Refused (409) while anything refers to it (events, partners, accounts, ...).
///
/// Roles: admin.
#[utoipa::path(
    tag = "units",
    operation_id = "deleteUnit",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/units/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    authorize(&principal, Subject::Unit, &[])?;
    remove_row::<Unit>(&state, &principal, Subject::Unit, *id, &if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}
