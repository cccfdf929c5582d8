//! `GET /changes`: incremental sync. Every committed insert, update and delete of every
//! resource, in commit order (see `journal.rs` for how the order is kept), deletions included.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::pagination::{link_next, validate_limit};
use crate::http::{Cursor, json_ok};
use crate::journal::Entity;
use crate::schema::changes;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list);
}

/// The types `principal` may follow (accounts and tokens: the committee office only).
pub fn visible_types(principal: &Principal) -> Vec<&'static str> {
    Entity::ALL
        .iter()
        .filter(|e| principal.is_admin() || !e.admin_only())
        .map(|e| e.as_str())
        .collect()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = changes)]
pub struct ChangeRow {
    pub seq: i64,
    pub type_: String,
    pub entity_id: Uuid,
    pub op: String,
    pub at: DateTime<Utc>,
    pub campaign_id: Option<Uuid>,
}

/// One change. The payload is ids only: GET the resource for its current state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Change {
    /// Resume after this change with `?since=<cursor>`.
    pub cursor: String,
    #[serde(rename = "type")]
    #[schema(example = "event")]
    pub entity_type: String,
    pub id: Uuid,
    /// `upsert` or `delete`.
    #[schema(example = "upsert")]
    pub op: String,
    pub at: DateTime<Utc>,
}

impl From<&ChangeRow> for Change {
    fn from(r: &ChangeRow) -> Self {
        Change {
            cursor: Cursor::by_seq(r.seq).encode(),
            entity_type: r.type_.clone(),
            id: r.entity_id,
            op: r.op.clone(),
            at: r.at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    pub items: Vec<Change>,
    /// Never null: poll again with it (`since=`) to get what happens next.
    pub next_cursor: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeQuery {
    /// A `cursor` or `next_cursor` from an earlier answer; none: from the beginning.
    pub since: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// Only these types, comma-separated, e.g. `event,training`.
    #[serde(rename = "type")]
    #[param(rename = "type", example = "event,training")]
    pub types: Option<String>,
    pub campaign_id: Option<Uuid>,
}

/// Parses a comma-separated type list against what the caller may follow.
pub fn parse_types(
    text: Option<&str>,
    allowed: &[&'static str],
    field: &str,
) -> AppResult<Vec<&'static str>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(allowed.to_vec());
    };
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        match allowed.iter().find(|t| **t == part) {
            Some(t) if !out.contains(t) => out.push(*t),
            Some(_) => {}
            None => {
                return Err(AppError::validation(vec![FieldError::new(
                    field,
                    format!("unknown type `{part}`; one of {}", allowed.join(", ")),
                )]));
            }
        }
    }
    Ok(out)
}

/// Changes after `after` (a seq) of `types`, oldest first.
pub async fn after(
    conn: &mut AsyncPgConnection,
    after: i64,
    types: &[&str],
    campaign_id: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<ChangeRow>> {
    let types: Vec<String> = types.iter().map(|t| t.to_string()).collect();
    let mut query = changes::table
        .select(ChangeRow::as_select())
        .filter(changes::seq.gt(after))
        .filter(changes::type_.eq_any(types))
        .order(changes::seq)
        .limit(limit)
        .into_boxed();
    if let Some(campaign) = campaign_id {
        query = query.filter(changes::campaign_id.eq(campaign));
    }
    Ok(query.load(conn).await?)
}

/// The newest change's seq (0 when there is none).
pub async fn latest_seq(conn: &mut AsyncPgConnection) -> AppResult<i64> {
    let max: Option<i64> = changes::table
        .select(diesel::dsl::max(changes::seq))
        .first(conn)
        .await?;
    Ok(max.unwrap_or(0))
}

/// What changed since a cursor, in commit order, deletions included. Poll with the answer's
/// `next_cursor`; an empty page means nothing new yet. Changes are never skipped, even when
/// concurrent transactions commit out of order.
///
/// Roles: any valid token (`account` and `token` changes: admin only).
#[utoipa::path(
    tag = "changes",
    operation_id = "listChanges",
    params(ChangeQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of changes", body = ChangePage))
)]
#[get("/changes")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ChangeQuery>,
) -> AppResult<HttpResponse> {
    let limit = validate_limit(query.limit)?;
    let since = match query.since.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => Cursor::decode(text)?.seq()?,
        None => 0,
    };
    let allowed = visible_types(&principal);
    let types = parse_types(query.types.as_deref(), &allowed, "type")?;
    let mut conn = state.conn().await?;
    // One more than asked for: whether the next page has something already.
    let mut rows = after(&mut conn, since, &types, query.campaign_id, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = Cursor::by_seq(rows.last().map_or(since, |r| r.seq)).encode();
    let page = ChangePage {
        items: rows.iter().map(Change::from).collect(),
        next_cursor,
    };
    let mut res = json_ok(&req, &page)?;
    if more {
        link_next(&mut res, &req, "since", &page.next_cursor)?;
    }
    Ok(res)
}
