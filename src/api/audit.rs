//! `/audit`: every write, who made it, and the row before and after.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Principal;
use crate::auth::policy::require_admin;
use crate::error::AppResult;
use crate::http::{Cursor, Page, PageParams};
use crate::schema::audit_log;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list);
}

#[derive(Debug, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `token:<name>`, `account:<username>` or `system:<task>`.
    pub actor: String,
    pub actor_token_id: Option<Uuid>,
    pub actor_role: String,
    pub actor_unit_id: Option<Uuid>,
    #[serde(rename = "type")]
    #[diesel(column_name = type_)]
    #[schema(example = "event")]
    pub entity_type: String,
    pub entity_id: Uuid,
    /// `create`, `update` or `delete`.
    pub op: String,
    /// The unit that owns the row (host, provider, reporting or outlet unit).
    pub owner_unit_id: Option<Uuid>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Resource type, e.g. `event`, `tally`, `unit`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub entity_type: Option<String>,
    /// The changed row's id.
    pub id: Option<Uuid>,
    /// Writes by this unit or to rows this unit owns.
    pub unit_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The audit log, newest first.
///
/// Roles: admin.
#[utoipa::path(
    tag = "audit",
    operation_id = "listAuditEntries",
    params(PageParams, AuditFilter),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of audit entries", body = Page<AuditEntry>))
)]
#[get("/audit")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageParams>,
    filter: web::Query<AuditFilter>,
) -> AppResult<HttpResponse> {
    require_admin(&principal)?;
    let page = page.validate()?;
    let selected = audit_log::table.select(AuditEntry::as_select());
    let mut query = crate::keyset_page!(selected, page, newest first audit_log::id);
    crate::filter_by!(query,
        filter.entity_type.clone() => audit_log::type_,
        filter.id => audit_log::entity_id,
        filter.from => audit_log::at: ge,
        filter.to => audit_log::at: lt,
    );
    if let Some(unit) = filter.unit_id {
        query = query.filter(
            audit_log::actor_unit_id
                .eq(unit)
                .or(audit_log::owner_unit_id.eq(unit)),
        );
    }
    let rows = query.load(&mut state.conn().await?).await?;
    Page::from_rows(rows, &page, |e: &AuditEntry| Cursor::by_seq(e.id)).respond(&req)
}
