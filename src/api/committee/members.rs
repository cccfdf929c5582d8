//! `/campaigns/{id}/committee/members`: who sits on which body; phone and email for token
//! holders only.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::model::*;
use crate::api::campaigns;
use crate::api::shared::remove_row;
use crate::auth::{MaybePrincipal, Principal, Subject, authorize};
use crate::error::{AppError, AppResult};
use crate::http::{Cursor, IfMatch, JsonBody, Page, PageParams, created, json_ok, merge_patch};
use crate::journal::{self, Entry};
use crate::schema::committee_members;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberFilter {
    /// Members of this body.
    pub body_id: Option<Uuid>,
    /// Members from this unit.
    pub unit_id: Option<Uuid>,
}

/// The committee's members, as a flat list.
///
/// Roles: anyone; phone and email only with a token.
#[utoipa::path(
    tag = "committee",
    operation_id = "listCommitteeMembers",
    params(("id" = String, Path, description = "Campaign id or slug"), PageParams, MemberFilter),
    security((), ("bearer" = [])),
    responses((status = 200, description = "A page of committee members", body = Page<Member>))
)]
#[get("/campaigns/{id}/committee/members")]
pub async fn list_members(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybePrincipal,
    id: web::Path<String>,
    page: web::Query<PageParams>,
    filter: web::Query<MemberFilter>,
) -> AppResult<HttpResponse> {
    let page = page.validate()?;
    let mut conn = state.conn().await?;
    let campaign = campaigns::find(&mut conn, &id).await?;
    let of_campaign =
        committee_members::table.filter(committee_members::campaign_id.eq(campaign.id));
    let mut query = crate::keyset_page!(
        of_campaign.select(Member::as_select()),
        page,
        committee_members::id
    );
    crate::filter_by!(query,
        filter.body_id => committee_members::body_id,
        filter.unit_id => committee_members::unit_id,
    );
    let rows: Vec<Member> = query.load(&mut conn).await?;
    let rows = rows.into_iter().map(|m| m.seen_by(&caller)).collect();
    Page::from_rows(rows, &page, |m: &Member| Cursor::by_id(m.id)).respond(&req)
}

/// Add a committee member.
///
/// Roles: admin; editor of the member's unit.
#[utoipa::path(
    tag = "committee",
    operation_id = "createCommitteeMember",
    params(("id" = String, Path, description = "Campaign id or slug")),
    request_body = MemberInput,
    security(("bearer" = [])),
    responses((status = 201, description = "Created: the new committee member", body = Member, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/campaigns/{id}/committee/members")]
pub async fn create_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: JsonBody<MemberInput>,
) -> AppResult<HttpResponse> {
    authorize(&principal, Subject::CommitteeMember, &[body.0.unit_id])?;
    let mut conn = state.conn().await?;
    let campaign = campaigns::find(&mut conn, &id).await?;
    let member = conn
        .transaction::<_, AppError, _>(async |conn| {
            // A unit seats its staff in its own working group only, not in the leading group
            // or another unit's: the body's unit is an owner of the seat too.
            let body_unit = unit_of_body(conn, campaign.id, body.0.body_id).await?;
            let auth = authorize(
                &principal,
                Subject::CommitteeMember,
                &[body.0.unit_id, body_unit],
            )?;
            insert_member(conn, &auth, campaign.id, Uuid::now_v7(), body.0).await
        })
        .await?;
    let location = format!(
        "/api/v1/campaigns/{}/committee/members/{}",
        campaign.id, member.id
    );
    created(&req, location, &member)
}

/// A committee member.
///
/// Roles: anyone; phone and email only with a token.
#[utoipa::path(
    tag = "committee",
    operation_id = "getCommitteeMember",
    params(("id" = String, Path, description = "Campaign id or slug"), ("member_id" = Uuid, Path)),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The committee member", body = Member, headers(("ETag" = String))))
)]
#[get("/campaigns/{id}/committee/members/{member_id}")]
pub async fn show_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybePrincipal,
    path: web::Path<(String, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, member_id) = path.into_inner();
    let mut conn = state.conn().await?;
    let campaign = campaigns::find(&mut conn, &id).await?;
    let member = member_in(&mut conn, campaign.id, member_id, false).await?;
    json_ok(&req, &member.seen_by(&caller))
}

/// Change a committee member (JSON merge patch).
///
/// Roles: admin; editor of the member's unit (which it cannot change).
#[utoipa::path(
    tag = "committee",
    operation_id = "updateCommitteeMember",
    params(("id" = String, Path, description = "Campaign id or slug"), ("member_id" = Uuid, Path)),
    request_body(content = serde_json::Value, description = "RFC 7396 merge patch of a MemberInput",
        content_type = "application/merge-patch+json", example = json!({"phone": "0668-6213611"})),
    security(("bearer" = [])),
    responses((status = 200, description = "The changed committee member", body = Member, headers(("ETag" = String))))
)]
#[patch("/campaigns/{id}/committee/members/{member_id}")]
pub async fn update_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, Uuid)>,
    if_match: IfMatch,
    patch: JsonBody<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let (id, member_id) = path.into_inner();
    let mut conn = state.conn().await?;
    let after = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let campaign = campaigns::find(conn, &id).await?;
            let before = member_in(conn, campaign.id, member_id, true).await?;
            // Refuse callers who may not touch the row before looking at what they send.
            authorize(&principal, Subject::CommitteeMember, &[before.unit_id])?;
            let input = merge_patch::merged(&MemberInput::from(&before), &patch.0)?;
            let body_unit = unit_of_body(conn, campaign.id, input.body_id).await?;
            let auth = authorize(
                &principal,
                Subject::CommitteeMember,
                &[before.unit_id, input.unit_id, body_unit],
            )?;
            if_match.check(&before)?;
            input.validate(conn, campaign.id).await?;
            let after: Member = diesel::update(committee_members::table.find(before.id))
                .set((
                    committee_members::body_id.eq(input.body_id),
                    committee_members::name.eq(&input.name),
                    committee_members::position.eq(&input.position),
                    committee_members::committee_role.eq(input.committee_role),
                    committee_members::unit_id.eq(input.unit_id),
                    committee_members::phone.eq(&input.phone),
                    committee_members::email.eq(&input.email),
                    committee_members::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Member::as_returning())
                .get_result(conn)
                .await?;
            journal::record(conn, &auth, &[Entry::update_of(&before, &after)?]).await?;
            Ok(after)
        })
        .await?;
    json_ok(&req, &after)
}

/// Remove a committee member.
///
/// Roles: admin; editor of the member's unit.
#[utoipa::path(
    tag = "committee",
    operation_id = "deleteCommitteeMember",
    params(("id" = String, Path, description = "Campaign id or slug"), ("member_id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Removed"))
)]
#[delete("/campaigns/{id}/committee/members/{member_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, Uuid)>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let key = path.into_inner();
    remove_row::<Member>(&state, &principal, Subject::CommitteeMember, key, &if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}
