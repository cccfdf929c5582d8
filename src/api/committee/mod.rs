//! `/campaigns/{id}/committee`: the organizing committee as a tree of bodies (leading group,
//! its office, the liaison group, a working group per co-host) with their members.
//! Members' phone and email are omitted for anonymous callers.

mod bodies;
mod members;
mod model;

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::campaigns;
use crate::auth::MaybePrincipal;
use crate::error::AppResult;
use crate::http::json_ok;
use crate::schema::{committee_bodies, committee_members};
use crate::state::AppState;

pub use model::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(tree)
        .configure(bodies::routes)
        .configure(members::routes);
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
            .push(m.redacted_for(&caller));
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
