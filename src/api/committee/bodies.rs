//! `/campaigns/{id}/committee/bodies`: the leading group, its office, the liaison group and
//! the working groups.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::*;
use crate::api::crud::prelude::*;
use crate::api::crud::{InCampaign, ListRequest, Listed};

use crate::schema::committee_bodies;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BodyFilter {
    /// Bodies of this unit (working groups).
    pub unit_id: Option<Uuid>,
    pub kind: Option<BodyKind>,
}

impl Listed for Body {
    type Filter = InCampaign<BodyFilter>;

    async fn page(
        request: ListRequest<'_>,
        scoped: &InCampaign<BodyFilter>,
    ) -> AppResult<Vec<Self>> {
        let InCampaign { campaign, filter } = scoped;
        let bodies = committee_bodies::table;
        let select = Body::as_select();
        let (mut query, mut conn) =
            crate::campaign_page!(request, campaign, bodies, committee_bodies, select);
        crate::filter_by!(query,
            filter.unit_id => committee_bodies::unit_id,
            filter.kind => committee_bodies::kind,
        );
        Ok(query.load(&mut conn).await?)
    }
}

crate::resource_handlers! {
    #[resource(
        Body, tag = "committee",
        key path: (String, Uuid) =
            (("id" = String, Path, description = "Campaign id or slug"), ("body_id" = Uuid, Path))
    )]

    #[list_in_campaign("listCommitteeBodies", "/campaigns/{id}/committee/bodies",
        public, BodyFilter, "A page of committee bodies")]
    /// The committee's bodies, as a flat list (the tree is `GET .../committee`).
    ///
    /// Roles: anyone.
    fn list_bodies;

    #[create_in_campaign("createCommitteeBody", "/campaigns/{id}/committee/bodies",
        BodyInput, "Created: the new committee body")]
    /// Add a committee body.
    ///
    /// Roles: admin.
    fn create_body;

    #[show("getCommitteeBody", "/campaigns/{id}/committee/bodies/{body_id}", public,
        "The committee body")]
    /// A committee body.
    ///
    /// Roles: anyone.
    fn show_body;

    #[update("updateCommitteeBody", "/campaigns/{id}/committee/bodies/{body_id}",
        BodyInput, "RFC 7396 merge patch of a BodyInput", json!({"name": "活动周工作联络小组"}),
        "The changed committee body")]
    /// Change a committee body (JSON merge patch).
    ///
    /// Roles: admin.
    fn update_body;

    #[delete("deleteCommitteeBody", "/campaigns/{id}/committee/bodies/{body_id}",
        "Removed")]
    /// Remove a committee body and its members. Refused (409) while it has sub-bodies.
    ///
    /// Roles: admin.
    fn remove_body;
}
