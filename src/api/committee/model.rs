//! The committee's rows and inputs, their validation and their inserts (POST and the seed).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::campaigns;
use crate::api::shared::{Lockable, Patchable, Removable};
use crate::auth::{Authorized, MaybePrincipal};
use crate::error::AppResult;
use crate::journal::{self, Entity, Entry, Journaled, RowKey};
use crate::schema::{committee_bodies, committee_members};
use crate::validate::Checks;

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
    pub(super) fn seen_by(mut self, caller: &MaybePrincipal) -> Self {
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

pub(super) async fn body_in(
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

pub(super) async fn member_in(
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
    pub(super) async fn validate(
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

impl Journaled for Body {
    const ENTITY: Entity = Entity::CommitteeBody;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, Some(self.campaign_id), self.unit_id)
    }
}

impl Lockable for Body {
    /// The campaign's id or slug, and the body's id.
    type Key = (String, Uuid);

    async fn lock(conn: &mut AsyncPgConnection, (id, body_id): (String, Uuid)) -> AppResult<Body> {
        let campaign = campaigns::find(conn, &id).await?;
        body_in(conn, campaign.id, body_id, true).await
    }
}

impl Patchable for Body {
    type Input = BodyInput;

    fn new_owners(input: &mut BodyInput, _: &serde_json::Value) -> Vec<Option<Uuid>> {
        vec![input.unit_id]
    }

    async fn store(
        conn: &mut AsyncPgConnection,
        before: &Body,
        input: BodyInput,
    ) -> AppResult<Body> {
        input
            .validate(conn, before.campaign_id, Some(before.id))
            .await?;
        Ok(diesel::update(committee_bodies::table.find(before.id))
            .set((
                committee_bodies::name.eq(&input.name),
                committee_bodies::kind.eq(input.kind),
                committee_bodies::unit_id.eq(input.unit_id),
                committee_bodies::parent_id.eq(input.parent_id),
                committee_bodies::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Body::as_returning())
            .get_result(conn)
            .await?)
    }
}

impl Lockable for Member {
    /// The campaign's id or slug, and the member's id.
    type Key = (String, Uuid);

    async fn lock(
        conn: &mut AsyncPgConnection,
        (id, member_id): (String, Uuid),
    ) -> AppResult<Member> {
        let campaign = campaigns::find(conn, &id).await?;
        member_in(conn, campaign.id, member_id, true).await
    }
}

impl Removable for Member {
    async fn delete(conn: &mut AsyncPgConnection, member: &Member) -> AppResult<()> {
        diesel::delete(committee_members::table.find(member.id))
            .execute(conn)
            .await?;
        Ok(())
    }
}

impl Journaled for Member {
    const ENTITY: Entity = Entity::CommitteeMember;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, Some(self.campaign_id), self.unit_id)
    }
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
    journal::record(conn, auth, &[Entry::create_of(&body)?]).await?;
    Ok(body)
}

impl MemberInput {
    pub(super) async fn validate(
        &self,
        conn: &mut AsyncPgConnection,
        campaign_id: Uuid,
    ) -> AppResult<()> {
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

/// The unit a body belongs to (`None` for the leading group, the office, ...). An unknown body
/// is left to validation (422 on `body_id`), so it counts as no unit here.
pub(super) async fn unit_of_body(
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
    journal::record(conn, auth, &[Entry::create_of(&member)?]).await?;
    Ok(member)
}
