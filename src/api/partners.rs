//! `/campaigns/{id}/partners`: the role each unit plays in a campaign — co-host (主办),
//! undertaker (承办) or member (成员单位) — and the one lead co-host (牵头).

use actix_web::put;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::campaigns;
use crate::api::crud::prelude::*;
use crate::api::crud::{InCampaign, ListRequest, Listed, Lock, Resource, Stored};
use crate::auth::{Authorized, Subject, authorize};
use crate::error::AppError;
use crate::http::json_response;
use crate::journal::{self, Entity, Entry, Journaled, RowKey};
use crate::schema::{campaign_partners, units};

pub use crate::vocabulary::PartnerRole;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerInput {
    pub role: PartnerRole,
    /// The lead co-host (牵头). At most one per campaign: setting it here moves it.
    #[serde(default)]
    pub lead: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = campaign_partners)]
struct PartnerRow {
    id: Uuid,
    campaign_id: Uuid,
    unit_id: Uuid,
    role: PartnerRole,
    lead: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Partner {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub unit_id: Uuid,
    #[schema(example = "高州市教育局")]
    pub unit_name: String,
    pub role: PartnerRole,
    pub lead: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Partner {
    fn new(row: PartnerRow, unit_name: String) -> Self {
        Partner {
            id: row.id,
            campaign_id: row.campaign_id,
            unit_id: row.unit_id,
            unit_name,
            role: row.role,
            lead: row.lead,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl Journaled for Partner {
    const ENTITY: Entity = Entity::Partner;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, Some(self.campaign_id), Some(self.unit_id))
    }
}

impl Resource for Partner {
    const SUBJECT: Subject = Subject::Partner;
    const ADMIN_ONLY: bool = true;

    fn location(&self) -> String {
        format!(
            "/api/v1/campaigns/{}/partners/{}",
            self.campaign_id, self.unit_id
        )
    }
}

impl Stored for Partner {
    /// The campaign's id or slug, and the unit's id.
    type Key = (String, Uuid);

    async fn read(
        conn: &mut AsyncPgConnection,
        (id, unit_id): (String, Uuid),
        lock: Lock,
    ) -> AppResult<Partner> {
        let campaign = campaigns::find(conn, &id).await?;
        find(conn, campaign.id, unit_id, lock)
            .await?
            .ok_or_else(AppError::not_found)
    }
}

crate::removable_by_id!(Partner, campaign_partners);

async fn find(
    conn: &mut AsyncPgConnection,
    campaign_id: Uuid,
    unit_id: Uuid,
    lock: Lock,
) -> AppResult<Option<Partner>> {
    let query = campaign_partners::table
        .inner_join(units::table)
        .filter(campaign_partners::campaign_id.eq(campaign_id))
        .filter(campaign_partners::unit_id.eq(unit_id))
        .select((PartnerRow::as_select(), units::name));
    let found: Option<(PartnerRow, String)> = crate::first_row!(optional query, conn, lock);
    Ok(found.map(|(row, name)| Partner::new(row, name)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartnerFilter {
    pub role: Option<PartnerRole>,
}

impl Listed for Partner {
    type Filter = InCampaign<PartnerFilter>;

    async fn page(
        request: ListRequest<'_>,
        scoped: &InCampaign<PartnerFilter>,
    ) -> AppResult<Vec<Self>> {
        let InCampaign { campaign, filter } = scoped;
        let with_names = campaign_partners::table.inner_join(units::table);
        let select = (PartnerRow::as_select(), units::name);
        let (mut query, mut conn) =
            crate::campaign_page!(request, campaign, with_names, campaign_partners, select);
        crate::filter_by!(query, filter.role => campaign_partners::role);
        let rows: Vec<(PartnerRow, String)> = query.load(&mut conn).await?;
        Ok(rows.into_iter().map(|(r, n)| Partner::new(r, n)).collect())
    }
}

crate::resource_handlers! {
    #[resource(
        Partner, tag = "partners",
        key path: (String, Uuid) =
            (("id" = String, Path, description = "Campaign id or slug"), ("unit_id" = Uuid, Path))
    )]

    #[list_in_campaign("listPartners", "/campaigns/{id}/partners", public, PartnerFilter,
        "A page of partners")]
    /// The campaign's partner units.
    ///
    /// Roles: anyone, including anonymous callers.
    fn list;

    #[show("getPartner", "/campaigns/{id}/partners/{unit_id}", public, "The partner")]
    /// One unit's part in the campaign.
    ///
    /// Roles: anyone, including anonymous callers.
    fn show;

    #[custom]
    fn put_partner;

    #[delete("deletePartner", "/campaigns/{id}/partners/{unit_id}", "Removed")]
    /// Remove a unit from the campaign's partners.
    ///
    /// Roles: admin.
    fn remove;
}

/// Set a unit's role in the campaign: 201 when it becomes a partner, 200 when changed.
/// `lead: true` (co-hosts only) moves the lead from whichever co-host had it.
///
/// Roles: admin.
#[utoipa::path(
    tag = "partners",
    operation_id = "putPartner",
    params(("id" = String, Path, description = "Campaign id or slug"), ("unit_id" = Uuid, Path)),
    request_body = PartnerInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Partner, description = "Now a partner", headers(("Location" = String), ("ETag" = String))),
        (status = 200, body = Partner, description = "Changed", headers(("ETag" = String)))
    )
)]
#[put("/campaigns/{id}/partners/{unit_id}")]
pub async fn put_partner(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, Uuid)>,
    if_match: IfMatch,
    body: JsonBody<PartnerInput>,
) -> AppResult<HttpResponse> {
    let auth = authorize(&principal, Subject::Partner, &[])?;
    let (id, unit_id) = path.into_inner();
    let mut conn = state.conn().await?;
    let (partner, is_new) = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let campaign = campaigns::find(conn, &id).await?;
            set(conn, &auth, campaign.id, unit_id, body.0, &if_match).await
        })
        .await?;
    if is_new {
        crate::http::created(&req, partner.location(), &partner)
    } else {
        json_response(&req, actix_web::http::StatusCode::OK, &partner)
    }
}

/// Sets a unit's role in a campaign; returns the partner and whether it is new. Setting
/// `lead` moves it from the previous lead co-host. Re-sending the same role changes nothing.
pub async fn set(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    campaign_id: Uuid,
    unit_id: Uuid,
    input: PartnerInput,
    if_match: &IfMatch,
) -> AppResult<(Partner, bool)> {
    if input.lead && input.role != PartnerRole::CoHost {
        return Err(AppError::invalid_field(
            "lead",
            "only a co_host can be the lead",
        ));
    }
    let unit_exists: Option<Uuid> = units::table
        .find(unit_id)
        .select(units::id)
        .first(conn)
        .await
        .optional()?;
    unit_exists.ok_or_else(AppError::not_found)?;
    let before = find(conn, campaign_id, unit_id, Lock::ForUpdate).await?;
    if_match.check_found(before.as_ref())?;
    if let Some(b) = &before
        && b.role == input.role
        && b.lead == input.lead
    {
        return Ok((b.clone(), false));
    }
    let mut entries = Vec::new();
    if input.lead {
        // Move the lead: the previous lead co-host stays a co-host.
        let previous: Vec<Uuid> = campaign_partners::table
            .filter(campaign_partners::campaign_id.eq(campaign_id))
            .filter(campaign_partners::lead)
            .filter(campaign_partners::unit_id.ne(unit_id))
            .select(campaign_partners::unit_id)
            .load(conn)
            .await?;
        for other in previous {
            if let Some(old) = find(conn, campaign_id, other, Lock::ForUpdate).await? {
                diesel::update(campaign_partners::table.find(old.id))
                    .set((
                        campaign_partners::lead.eq(false),
                        campaign_partners::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
                let new = find(conn, campaign_id, other, Lock::No)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                entries.push(Entry::update_of(&old, &new)?);
            }
        }
    }
    diesel::insert_into(campaign_partners::table)
        .values((
            campaign_partners::id.eq(Uuid::now_v7()),
            campaign_partners::campaign_id.eq(campaign_id),
            campaign_partners::unit_id.eq(unit_id),
            campaign_partners::role.eq(input.role),
            campaign_partners::lead.eq(input.lead),
        ))
        .on_conflict((campaign_partners::campaign_id, campaign_partners::unit_id))
        .do_update()
        .set((
            campaign_partners::role.eq(input.role),
            campaign_partners::lead.eq(input.lead),
            campaign_partners::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let after = find(conn, campaign_id, unit_id, Lock::No)
        .await?
        .ok_or_else(AppError::not_found)?;
    entries.push(match &before {
        None => Entry::create_of(&after)?,
        Some(b) => Entry::update_of(b, &after)?,
    });
    journal::record(conn, auth, &entries).await?;
    Ok((after, before.is_none()))
}
