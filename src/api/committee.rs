//! `/campaigns/{id}/committee`: the organizing committee as a tree of bodies (leading group,
//! its office, the liaison group, a working group per co-host) with their members.
//! Members' phone and email are omitted for anonymous callers.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::campaigns;
use crate::auth::{Authorized, MaybePrincipal, Principal, Subject, authorize};
use crate::error::{AppError, AppResult};
use crate::http::{Cursor, IfMatch, JsonBody, Page, PageParams, created, json_ok, merge_patch};
use crate::journal::{self, Entity, Entry};
use crate::schema::{committee_bodies, committee_members};
use crate::state::AppState;
use crate::validate::Checks;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(tree)
        .service(list_bodies)
        .service(create_body)
        .service(show_body)
        .service(update_body)
        .service(remove_body)
        .service(list_members)
        .service(create_member)
        .service(show_member)
        .service(update_member)
        .service(remove_member);
}

crate::text_enum! {
    pub enum BodyKind {
        /// 领导小组
        LeadingGroup = "leading_group",
        /// 办公室
        Office = "office",
        /// 联络小组
        LiaisonGroup = "liaison_group",
        /// A co-host's own working group
        UnitWorkingGroup = "unit_working_group",
    }
}

crate::text_enum! {
    pub enum CommitteeRole {
        /// 组长
        Chair = "chair",
        /// 副组长
        ViceChair = "vice_chair",
        /// 成员
        Member = "member",
        /// 主任
        Director = "director",
        /// 联络员
        Liaison = "liaison",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BodyInput {
    #[schema(
        example = "2014年高州市全民终身学习活动周工作领导小组",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    pub kind: BodyKind,
    /// The unit a working group belongs to.
    pub unit_id: Option<Uuid>,
    /// The body this one sits under (same campaign).
    pub parent_id: Option<Uuid>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = committee_bodies)]
pub struct Body {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub name: String,
    pub kind: BodyKind,
    pub unit_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Body> for BodyInput {
    fn from(b: &Body) -> Self {
        BodyInput {
            name: b.name.clone(),
            kind: b.kind,
            unit_id: b.unit_id,
            parent_id: b.parent_id,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub body_id: Uuid,
    #[schema(example = "梁志宏", min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(example = "市教育局局长", max_length = 200)]
    pub position: Option<String>,
    pub committee_role: CommitteeRole,
    /// The member's unit, which owns the entry.
    pub unit_id: Option<Uuid>,
    #[schema(example = "0668-6213610", max_length = 50)]
    pub phone: Option<String>,
    #[schema(example = "liang.zhihong@example.org", max_length = 200)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = committee_members)]
pub struct Member {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub body_id: Uuid,
    pub name: String,
    pub position: Option<String>,
    pub committee_role: CommitteeRole,
    pub unit_id: Option<Uuid>,
    /// Omitted for anonymous callers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Omitted for anonymous callers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Member {
    /// Contacts are for token holders only.
    fn seen_by(mut self, caller: &MaybePrincipal) -> Self {
        if !caller.sees_everything() {
            self.phone = None;
            self.email = None;
        }
        self
    }
}

impl From<&Member> for MemberInput {
    fn from(m: &Member) -> Self {
        MemberInput {
            body_id: m.body_id,
            name: m.name.clone(),
            position: m.position.clone(),
            committee_role: m.committee_role,
            unit_id: m.unit_id,
            phone: m.phone.clone(),
            email: m.email.clone(),
        }
    }
}

/// A body with its members and sub-bodies.
#[derive(Debug, Serialize, ToSchema)]
pub struct BodyNode {
    #[serde(flatten)]
    pub body: Body,
    pub members: Vec<Member>,
    #[schema(no_recursion)]
    pub children: Vec<BodyNode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Committee {
    pub campaign_id: Uuid,
    /// The top-level bodies.
    pub bodies: Vec<BodyNode>,
}

/// The committee as a tree.
///
/// Roles: anyone; members' phone and email only with a token.
#[utoipa::path(
    tag = "committee",
    operation_id = "getCommittee",
    params(("id" = String, Path, description = "Campaign id or slug")),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The committee", body = Committee, headers(("ETag" = String))))
)]
#[get("/campaigns/{id}/committee")]
pub async fn tree(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybePrincipal,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let campaign = campaigns::find(&mut conn, &id).await?;
    let bodies: Vec<Body> = committee_bodies::table
        .filter(committee_bodies::campaign_id.eq(campaign.id))
        .select(Body::as_select())
        .order(committee_bodies::id)
        .load(&mut conn)
        .await?;
    let members: Vec<Member> = committee_members::table
        .filter(committee_members::campaign_id.eq(campaign.id))
        .select(Member::as_select())
        .order(committee_members::id)
        .load(&mut conn)
        .await?;
    let mut members_of: HashMap<Uuid, Vec<Member>> = HashMap::new();
    for m in members {
        members_of
            .entry(m.body_id)
            .or_default()
            .push(m.seen_by(&caller));
    }
    let mut children_of: HashMap<Option<Uuid>, Vec<Body>> = HashMap::new();
    for b in bodies {
        children_of.entry(b.parent_id).or_default().push(b);
    }
    fn build(
        parent: Option<Uuid>,
        children_of: &mut HashMap<Option<Uuid>, Vec<Body>>,
        members_of: &mut HashMap<Uuid, Vec<Member>>,
    ) -> Vec<BodyNode> {
        let bodies = children_of.remove(&parent).unwrap_or_default();
        bodies
            .into_iter()
            .map(|body| BodyNode {
                members: members_of.remove(&body.id).unwrap_or_default(),
                children: build(Some(body.id), children_of, members_of),
                body,
            })
            .collect()
    }
    let tree = Committee {
        campaign_id: campaign.id,
        bodies: build(None, &mut children_of, &mut members_of),
    };
    json_ok(&req, &tree)
}

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
    let mut query = committee_bodies::table
        .filter(committee_bodies::campaign_id.eq(campaign.id))
        .select(Body::as_select())
        .order(committee_bodies::id)
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(committee_bodies::id.gt(after.id()?));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(committee_bodies::unit_id.eq(unit));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(committee_bodies::kind.eq(kind));
    }
    let rows = query.load(&mut conn).await?;
    Page::from_rows(rows, &page, |b: &Body| Cursor::by_id(b.id)).respond(&req)
}

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
    let mut query = committee_members::table
        .filter(committee_members::campaign_id.eq(campaign.id))
        .select(Member::as_select())
        .order(committee_members::id)
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(committee_members::id.gt(after.id()?));
    }
    if let Some(body) = filter.body_id {
        query = query.filter(committee_members::body_id.eq(body));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(committee_members::unit_id.eq(unit));
    }
    let rows: Vec<Member> = query.load(&mut conn).await?;
    let rows = rows.into_iter().map(|m| m.seen_by(&caller)).collect();
    Page::from_rows(rows, &page, |m: &Member| Cursor::by_id(m.id)).respond(&req)
}

async fn body_in(
    conn: &mut AsyncPgConnection,
    campaign_id: Uuid,
    id: Uuid,
    lock: bool,
) -> AppResult<Body> {
    let query = committee_bodies::table
        .filter(committee_bodies::campaign_id.eq(campaign_id))
        .filter(committee_bodies::id.eq(id))
        .select(Body::as_select());
    Ok(if lock {
        query.for_update().first(conn).await?
    } else {
        query.first(conn).await?
    })
}

async fn member_in(
    conn: &mut AsyncPgConnection,
    campaign_id: Uuid,
    id: Uuid,
    lock: bool,
) -> AppResult<Member> {
    let query = committee_members::table
        .filter(committee_members::campaign_id.eq(campaign_id))
        .filter(committee_members::id.eq(id))
        .select(Member::as_select());
    Ok(if lock {
        query.for_update().first(conn).await?
    } else {
        query.first(conn).await?
    })
}

impl BodyInput {
    /// `id`: the body being changed (None on create), to refuse cycles.
    async fn validate(
        &self,
        conn: &mut AsyncPgConnection,
        campaign_id: Uuid,
        id: Option<Uuid>,
    ) -> AppResult<()> {
        let mut c = Checks::new();
        c.text("name", &self.name, 200);
        if let Some(unit) = self.unit_id {
            crate::validate::check_units_exist(conn, &[("unit_id".into(), unit)], &mut c).await?;
        }
        if let Some(parent) = self.parent_id {
            // Walk up from the new parent: it must be in this campaign and not below `id`.
            let mut cursor = Some(parent);
            let mut steps = 0;
            while let Some(current) = cursor {
                if Some(current) == id {
                    c.fail("parent_id", "would make the body its own ancestor");
                    break;
                }
                let found: Option<(Uuid, Option<Uuid>)> = committee_bodies::table
                    .find(current)
                    .select((committee_bodies::campaign_id, committee_bodies::parent_id))
                    .first(conn)
                    .await
                    .optional()?;
                match found {
                    Some((campaign, next)) if campaign == campaign_id => cursor = next,
                    _ => {
                        c.fail("parent_id", "no such body in this campaign");
                        break;
                    }
                }
                steps += 1;
                if steps > 100 {
                    c.fail("parent_id", "the committee is nested too deeply");
                    break;
                }
            }
        }
        c.finish()
    }
}

fn body_entry(e: Entry, b: &Body) -> Entry {
    e.campaign(b.campaign_id).owner(b.unit_id)
}

fn member_entry(e: Entry, m: &Member) -> Entry {
    e.campaign(m.campaign_id).owner(m.unit_id)
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

/// Validates and inserts a body, journaled (POST and the seed loader).
pub async fn insert_body(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    campaign_id: Uuid,
    id: Uuid,
    input: BodyInput,
) -> AppResult<Body> {
    input.validate(conn, campaign_id, None).await?;
    let body: Body = diesel::insert_into(committee_bodies::table)
        .values((
            committee_bodies::id.eq(id),
            committee_bodies::campaign_id.eq(campaign_id),
            committee_bodies::name.eq(&input.name),
            committee_bodies::kind.eq(input.kind),
            committee_bodies::unit_id.eq(input.unit_id),
            committee_bodies::parent_id.eq(input.parent_id),
        ))
        .returning(Body::as_returning())
        .get_result(conn)
        .await?;
    journal::record(
        conn,
        auth,
        &[body_entry(
            Entry::created(Entity::CommitteeBody, body.id, &body)?,
            &body,
        )],
    )
    .await?;
    Ok(body)
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
    let auth = authorize(&principal, Subject::CommitteeBody, &[])?;
    let (id, body_id) = path.into_inner();
    let mut conn = state.conn().await?;
    let after = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let campaign = campaigns::find(conn, &id).await?;
            let before = body_in(conn, campaign.id, body_id, true).await?;
            if_match.check(&before)?;
            let input = merge_patch::merged(&BodyInput::from(&before), &patch.0)?;
            input.validate(conn, campaign.id, Some(before.id)).await?;
            let after: Body = diesel::update(committee_bodies::table.find(before.id))
                .set((
                    committee_bodies::name.eq(&input.name),
                    committee_bodies::kind.eq(input.kind),
                    committee_bodies::unit_id.eq(input.unit_id),
                    committee_bodies::parent_id.eq(input.parent_id),
                    committee_bodies::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Body::as_returning())
                .get_result(conn)
                .await?;
            journal::record(
                conn,
                &auth,
                &[body_entry(
                    Entry::updated(Entity::CommitteeBody, after.id, &before, &after)?,
                    &after,
                )],
            )
            .await?;
            Ok(after)
        })
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
        let mut entries = Vec::new();
        for m in &members {
            entries.push(member_entry(
                Entry::deleted(Entity::CommitteeMember, m.id, m)?,
                m,
            ));
        }
        entries.push(body_entry(
            Entry::deleted(Entity::CommitteeBody, before.id, &before)?,
            &before,
        ));
        journal::record(conn, &auth, &entries).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

impl MemberInput {
    async fn validate(&self, conn: &mut AsyncPgConnection, campaign_id: Uuid) -> AppResult<()> {
        let mut c = Checks::new();
        c.text("name", &self.name, 100);
        c.opt_text("position", self.position.as_deref(), 200);
        c.opt_text("phone", self.phone.as_deref(), 50);
        if let Some(email) = &self.email {
            let plausible = email.len() <= 200
                && email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !email.contains(' ')
                });
            c.check(plausible, "email", "is not an email address");
        }
        let body_campaign: Option<Uuid> = committee_bodies::table
            .find(self.body_id)
            .select(committee_bodies::campaign_id)
            .first(conn)
            .await
            .optional()?;
        c.check(
            body_campaign == Some(campaign_id),
            "body_id",
            "no such body in this campaign",
        );
        if let Some(unit) = self.unit_id {
            crate::validate::check_units_exist(conn, &[("unit_id".into(), unit)], &mut c).await?;
        }
        c.finish()
    }
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

/// The unit a body belongs to (`None` for the leading group, the office, ...). An unknown body
/// is left to validation (422 on `body_id`), so it counts as no unit here.
async fn unit_of_body(
    conn: &mut AsyncPgConnection,
    campaign_id: Uuid,
    body_id: Uuid,
) -> AppResult<Option<Uuid>> {
    let unit: Option<Option<Uuid>> = committee_bodies::table
        .filter(committee_bodies::campaign_id.eq(campaign_id))
        .filter(committee_bodies::id.eq(body_id))
        .select(committee_bodies::unit_id)
        .first(conn)
        .await
        .optional()?;
    Ok(unit.flatten())
}

/// Validates and inserts a member, journaled (POST and the seed loader).
pub async fn insert_member(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    campaign_id: Uuid,
    id: Uuid,
    input: MemberInput,
) -> AppResult<Member> {
    input.validate(conn, campaign_id).await?;
    let member: Member = diesel::insert_into(committee_members::table)
        .values((
            committee_members::id.eq(id),
            committee_members::campaign_id.eq(campaign_id),
            committee_members::body_id.eq(input.body_id),
            committee_members::name.eq(&input.name),
            committee_members::position.eq(&input.position),
            committee_members::committee_role.eq(input.committee_role),
            committee_members::unit_id.eq(input.unit_id),
            committee_members::phone.eq(&input.phone),
            committee_members::email.eq(&input.email),
        ))
        .returning(Member::as_returning())
        .get_result(conn)
        .await?;
    journal::record(
        conn,
        auth,
        &[member_entry(
            Entry::created(Entity::CommitteeMember, member.id, &member)?,
            &member,
        )],
    )
    .await?;
    Ok(member)
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
            journal::record(
                conn,
                &auth,
                &[member_entry(
                    Entry::updated(Entity::CommitteeMember, after.id, &before, &after)?,
                    &after,
                )],
            )
            .await?;
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
    let (id, member_id) = path.into_inner();
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let campaign = campaigns::find(conn, &id).await?;
        let before = member_in(conn, campaign.id, member_id, true).await?;
        let auth = authorize(&principal, Subject::CommitteeMember, &[before.unit_id])?;
        if_match.check(&before)?;
        diesel::delete(committee_members::table.find(before.id))
            .execute(conn)
            .await?;
        journal::record(
            conn,
            &auth,
            &[member_entry(
                Entry::deleted(Entity::CommitteeMember, before.id, &before)?,
                &before,
            )],
        )
        .await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
