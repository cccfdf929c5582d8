//! `/campaigns/{id}/committee/bodies`: the leading group, its office, the liaison group and
//! the working groups.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::model::*;
use crate::api::campaigns;
use crate::api::shared::patch_row;
use crate::auth::{MaybePrincipal, Principal, Subject, authorize};
use crate::error::{AppError, AppResult};
use crate::http::{Cursor, IfMatch, JsonBody, Page, PageParams, created, json_ok};
use crate::journal::{self, Entry};
use crate::schema::{committee_bodies, committee_members};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BodyFilter {
    /// Bodies of this unit (working groups).
    pub unit_id: Option<Uuid>,
    pub kind: Option<BodyKind>,
}

/// The committee's bodies, as a flat list (the tree is `GET .../committee`).
///
/// Roles: anyone.
#[utoipa::path(
    tag = "committee",
    operation_id = "listCommitteeBodies",
    params(("id" = String, Path, description = "Campaign id or slug"), PageParams, BodyFilter),
    security((), ("bearer" = [])),
    responses((status = 200, description = "A page of committee bodies", body = Page<Body>))
)]
#[get("/campaigns/{id}/committee/bodies")]
pub async fn list_bodies(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: MaybePrincipal,
    id: web::Path<String>,
    page: web::Query<PageParams>,
    filter: web::Query<BodyFilter>,
) -> AppResult<HttpResponse> {
    let page = page.validate()?;
    let mut conn = state.conn().await?;
    let campaign = campaigns::find(&mut conn, &id).await?;
    let of_campaign = committee_bodies::table.filter(committee_bodies::campaign_id.eq(campaign.id));
    let mut query = crate::keyset_page!(
        of_campaign.select(Body::as_select()),
        page,
        committee_bodies::id
    );
    crate::filter_by!(query,
        filter.unit_id => committee_bodies::unit_id,
        filter.kind => committee_bodies::kind,
    );
    let rows = query.load(&mut conn).await?;
    Page::from_rows(rows, &page, |b: &Body| Cursor::by_id(b.id)).respond(&req)
}

/// Add a committee body.
///
/// Roles: admin.
#[utoipa::path(
    tag = "committee",
    operation_id = "createCommitteeBody",
    params(("id" = String, Path, description = "Campaign id or slug")),
    request_body = BodyInput,
    security(("bearer" = [])),
    responses((status = 201, description = "Created: the new committee body", body = Body, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/campaigns/{id}/committee/bodies")]
pub async fn create_body(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: JsonBody<BodyInput>,
) -> AppResult<HttpResponse> {
    let auth = authorize(&principal, Subject::CommitteeBody, &[])?;
    let mut conn = state.conn().await?;
    let campaign = campaigns::find(&mut conn, &id).await?;
    let created_body = conn
        .transaction::<_, AppError, _>(async |conn| {
            insert_body(conn, &auth, campaign.id, Uuid::now_v7(), body.0).await
        })
        .await?;
    let location = format!(
        "/api/v1/campaigns/{}/committee/bodies/{}",
        campaign.id, created_body.id
    );
    created(&req, location, &created_body)
}

/// A committee body.
///
/// Roles: anyone.
#[utoipa::path(
    tag = "committee",
    operation_id = "getCommitteeBody",
    params(("id" = String, Path, description = "Campaign id or slug"), ("body_id" = Uuid, Path)),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The committee body", body = Body, headers(("ETag" = String))))
)]
#[get("/campaigns/{id}/committee/bodies/{body_id}")]
pub async fn show_body(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: MaybePrincipal,
    path: web::Path<(String, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, body_id) = path.into_inner();
    let mut conn = state.conn().await?;
    let campaign = campaigns::find(&mut conn, &id).await?;
    json_ok(
        &req,
        &body_in(&mut conn, campaign.id, body_id, false).await?,
    )
}

/// Change a committee body (JSON merge patch).
///
/// Roles: admin.
#[utoipa::path(
    tag = "committee",
    operation_id = "updateCommitteeBody",
    params(("id" = String, Path, description = "Campaign id or slug"), ("body_id" = Uuid, Path)),
    request_body(content = serde_json::Value, description = "RFC 7396 merge patch of a BodyInput",
        content_type = "application/merge-patch+json", example = json!({"name": "活动周工作联络小组"})),
    security(("bearer" = [])),
    responses((status = 200, description = "The changed committee body", body = Body, headers(("ETag" = String))))
)]
#[patch("/campaigns/{id}/committee/bodies/{body_id}")]
pub async fn update_body(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, Uuid)>,
    if_match: IfMatch,
    patch: JsonBody<serde_json::Value>,
) -> AppResult<HttpResponse> {
    authorize(&principal, Subject::CommitteeBody, &[])?;
    let (id, body_id) = path.into_inner();
    let after: Body = patch_row(
        &state,
        &principal,
        Subject::CommitteeBody,
        (id, body_id),
        &if_match,
        &patch.0,
    )
    .await?;
    json_ok(&req, &after)
}

/// Remove a committee body and its members. Refused (409) while it has sub-bodies.
///
/// Roles: admin.
#[utoipa::path(
    tag = "committee",
    operation_id = "deleteCommitteeBody",
    params(("id" = String, Path, description = "Campaign id or slug"), ("body_id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Removed"))
)]
#[delete("/campaigns/{id}/committee/bodies/{body_id}")]
pub async fn remove_body(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, Uuid)>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let auth = authorize(&principal, Subject::CommitteeBody, &[])?;
    let (id, body_id) = path.into_inner();
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let campaign = campaigns::find(conn, &id).await?;
        let before = body_in(conn, campaign.id, body_id, true).await?;
        if_match.check(&before)?;
        let members: Vec<Member> = diesel::delete(
            committee_members::table.filter(committee_members::body_id.eq(before.id)),
        )
        .returning(Member::as_returning())
        .get_results(conn)
        .await?;
        diesel::delete(committee_bodies::table.find(before.id))
            .execute(conn)
            .await?;
        let mut entries = members
            .iter()
            .map(Entry::delete_of)
            .collect::<AppResult<Vec<_>>>()?;
        entries.push(Entry::delete_of(&before)?);
        journal::record(conn, &auth, &entries).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
