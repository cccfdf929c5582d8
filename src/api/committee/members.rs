//! `/campaigns/{id}/committee/members`: who sits on which body; phone and email for token
//! holders only.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::*;
use crate::api::crud::prelude::*;
use crate::api::crud::{InCampaign, ListRequest, Listed};
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

    #[update("updateCommitteeMember", "/campaigns/{id}/committee/members/{member_id}",
        MemberInput, "RFC 7396 merge patch of a MemberInput", json!({"phone": "0668-6213611"}),
        "The changed committee member")]
    /// Change a committee member (JSON merge patch).
    ///
    /// Roles: admin; editor of the member's unit (which it cannot change).
    fn update_member;

    #[delete("deleteCommitteeMember",
        "/campaigns/{id}/committee/members/{member_id}", "Removed")]
    /// Remove a committee member.
    ///
    /// Roles: admin; editor of the member's unit.
    fn remove_member;
}
