//! `/campaigns/{id}/committee/members`: who sits on which body; phone and email for token
//! holders only.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::*;
use crate::api::crud::prelude::*;
use crate::api::crud::{InCampaign, ListRequest, Listed};
use crate::api::shared::Lockable;
use crate::auth::{Subject, authorize};
use crate::error::AppError;
use crate::http::{json_ok, merge_patch};
use crate::journal::{self, Entry};
use crate::schema::committee_members;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberFilter {
    /// Members of this body.
    pub body_id: Option<Uuid>,
    /// Members from this unit.
    pub unit_id: Option<Uuid>,
}

impl Listed for Member {
    type Filter = InCampaign<MemberFilter>;

    async fn page(
        request: ListRequest<'_>,
        scoped: &InCampaign<MemberFilter>,
    ) -> AppResult<Vec<Self>> {
        let InCampaign { campaign, filter } = scoped;
        let members = committee_members::table;
        let select = Member::as_select();
        let (mut query, mut conn) =
            crate::campaign_page!(request, campaign, members, committee_members, select);
        crate::filter_by!(query,
            filter.body_id => committee_members::body_id,
            filter.unit_id => committee_members::unit_id,
        );
        let rows: Vec<Member> = query.load(&mut conn).await?;
        Ok(rows
            .into_iter()
            .map(|m| m.redacted_for(request.caller))
            .collect())
    }
}

crate::resource_handlers! {
    #[resource(
        Member, tag = "committee",
        key path: (String, Uuid) =
            (("id" = String, Path, description = "Campaign id or slug"), ("member_id" = Uuid, Path))
    )]

    #[list_in_campaign("listCommitteeMembers", "/campaigns/{id}/committee/members",
        public, MemberFilter, "A page of committee members")]
    /// The committee's members, as a flat list.
    ///
    /// Roles: anyone; phone and email only with a token.
    fn list_members;

    #[create_in_campaign("createCommitteeMember",
        "/campaigns/{id}/committee/members", MemberInput, "Created: the new committee member")]
    /// Add a committee member.
    ///
    /// Roles: admin; editor of the member's unit.
    fn create_member;

    #[show("getCommitteeMember", "/campaigns/{id}/committee/members/{member_id}",
        public, "The committee member")]
    /// A committee member.
    ///
    /// Roles: anyone; phone and email only with a token.
    fn show_member;

    #[custom]
    fn update_member;

    #[delete("deleteCommitteeMember",
        "/campaigns/{id}/committee/members/{member_id}", "Removed")]
    /// Remove a committee member.
    ///
    /// Roles: admin; editor of the member's unit.
    fn remove_member;
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
    let mut conn = state.conn().await?;
    let after = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let before = Member::lock(conn, path.into_inner()).await?;
            // Refuse callers who may not touch the row before looking at what they send.
            authorize(&principal, Subject::CommitteeMember, &[before.unit_id])?;
            let input = merge_patch::merged(&MemberInput::from(&before), &patch.0)?;
            let body_unit = unit_of_body(conn, before.campaign_id, input.body_id).await?;
            let auth = authorize(
                &principal,
                Subject::CommitteeMember,
                &[before.unit_id, input.unit_id, body_unit],
            )?;
            if_match.check(&before)?;
            input.validate(conn, before.campaign_id).await?;
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
