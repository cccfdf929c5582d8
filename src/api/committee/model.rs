//! The committee's rows and inputs, their validation and their inserts (POST and the seed).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::crud::{NewInCampaign, Resource};
use crate::api::shared::{Changes, Owned, Removable};
use crate::auth::{MaybePrincipal, Subject};
use crate::error::AppResult;
use crate::journal::{Entity, Entry, Journaled, RowKey};
use crate::schema::{committee_bodies, committee_members};
use crate::validate::Checks;

pub use crate::vocabulary::{BodyKind, CommitteeRole};

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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Insertable, AsChangeset)]
#[diesel(table_name = committee_members, treat_none_as_null = true)]
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
    pub(super) fn redacted_for(mut self, caller: &MaybePrincipal) -> Self {
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

crate::stored_by_id!(Body in campaign, committee_bodies);

impl Resource for Body {
    const SUBJECT: Subject = Subject::CommitteeBody;
    const ADMIN_ONLY: bool = true;

    fn location(&self) -> String {
        format!(
            "/api/v1/campaigns/{}/committee/bodies/{}",
            self.campaign_id, self.id
        )
    }
}

impl Removable for Body {
    /// Its members go with it (refused while it has sub-bodies).
    async fn delete(conn: &mut AsyncPgConnection, before: &Body) -> AppResult<Vec<Entry>> {
        let members: Vec<Member> = diesel::delete(
            committee_members::table.filter(committee_members::body_id.eq(before.id)),
        )
        .returning(Member::as_returning())
        .get_results(conn)
        .await?;
        diesel::delete(committee_bodies::table.find(before.id))
            .execute(conn)
            .await?;
        members.iter().map(Entry::delete_of).collect()
    }
}

/// Bodies are the committee office's to write; a working group belongs to its unit.
impl Owned for BodyInput {
    fn owners(&self) -> Vec<Option<Uuid>> {
        vec![self.unit_id]
    }
}

impl Changes<Body> for BodyInput {
    async fn update(self, conn: &mut AsyncPgConnection, before: &Body) -> AppResult<Body> {
        self.validate(conn, before.campaign_id, Some(before.id))
            .await?;
        Ok(diesel::update(committee_bodies::table.find(before.id))
            .set((
                committee_bodies::name.eq(&self.name),
                committee_bodies::kind.eq(self.kind),
                committee_bodies::unit_id.eq(self.unit_id),
                committee_bodies::parent_id.eq(self.parent_id),
                committee_bodies::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Body::as_returning())
            .get_result(conn)
            .await?)
    }
}

crate::stored_by_id!(Member in campaign, committee_members);
crate::removable_by_id!(Member, committee_members);

impl Resource for Member {
    const SUBJECT: Subject = Subject::CommitteeMember;

    fn location(&self) -> String {
        format!(
            "/api/v1/campaigns/{}/committee/members/{}",
            self.campaign_id, self.id
        )
    }

    fn seen_by(self, caller: &MaybePrincipal) -> AppResult<Member> {
        Ok(self.redacted_for(caller))
    }
}

impl Journaled for Member {
    const ENTITY: Entity = Entity::CommitteeMember;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, Some(self.campaign_id), self.unit_id)
    }
}

impl NewInCampaign for BodyInput {
    type Row = Body;

    async fn store(
        self,
        conn: &mut AsyncPgConnection,
        campaign_id: Uuid,
        id: Uuid,
    ) -> AppResult<Body> {
        self.validate(conn, campaign_id, None).await?;
        Ok(diesel::insert_into(committee_bodies::table)
            .values((
                committee_bodies::id.eq(id),
                committee_bodies::campaign_id.eq(campaign_id),
                committee_bodies::name.eq(&self.name),
                committee_bodies::kind.eq(self.kind),
                committee_bodies::unit_id.eq(self.unit_id),
                committee_bodies::parent_id.eq(self.parent_id),
            ))
            .returning(Body::as_returning())
            .get_result(conn)
            .await?)
    }
}

/// Validates and inserts a body or a member, journaled (POST and the seed loader).
pub use crate::api::crud::insert_in_campaign as insert_body;
pub use crate::api::crud::insert_in_campaign as insert_member;

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

impl Owned for MemberInput {
    fn owners(&self) -> Vec<Option<Uuid>> {
        vec![self.unit_id]
    }
}

impl Changes<Member> for MemberInput {
    /// The body's unit (see [`NewInCampaign::owners_in`]).
    async fn owners_found(
        &self,
        conn: &mut AsyncPgConnection,
        before: &Member,
    ) -> AppResult<Vec<Option<Uuid>>> {
        Ok(vec![
            unit_of_body(conn, before.campaign_id, self.body_id).await?,
        ])
    }

    async fn update(self, conn: &mut AsyncPgConnection, before: &Member) -> AppResult<Member> {
        self.validate(conn, before.campaign_id).await?;
        Ok(diesel::update(committee_members::table.find(before.id))
            .set((&self, committee_members::updated_at.eq(diesel::dsl::now)))
            .returning(Member::as_returning())
            .get_result(conn)
            .await?)
    }
}

impl NewInCampaign for MemberInput {
    type Row = Member;

    /// A unit seats its staff in its own working group only, not in the leading group or
    /// another unit's: the body's unit is an owner of the seat too.
    async fn owners_in(
        &self,
        conn: &mut AsyncPgConnection,
        campaign_id: Uuid,
    ) -> AppResult<Vec<Option<Uuid>>> {
        let body_unit = unit_of_body(conn, campaign_id, self.body_id).await?;
        Ok(vec![self.unit_id, body_unit])
    }

    async fn store(
        self,
        conn: &mut AsyncPgConnection,
        campaign_id: Uuid,
        id: Uuid,
    ) -> AppResult<Member> {
        self.validate(conn, campaign_id).await?;
        Ok(diesel::insert_into(committee_members::table)
            .values((
                committee_members::id.eq(id),
                committee_members::campaign_id.eq(campaign_id),
                &self,
            ))
            .returning(Member::as_returning())
            .get_result(conn)
            .await?)
    }
}
