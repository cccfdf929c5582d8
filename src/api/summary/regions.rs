//! `GET /regions/{code}/summary?year=`: a province's or prefecture's view of the week, the
//! summary's figures summed over every campaign of the year whose `region_code` lies under
//! `code`, with one entry per next-level division present.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::SummaryCache;
use super::figures::{self, Figures, Groups};
use crate::api::shared::region_prefix;
use crate::auth::MaybePrincipal;
use crate::error::{AppError, AppResult};
use crate::http::json_ok;
use crate::schema::campaigns;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionChild {
    /// The next-level division: a prefecture (`XXYY00`) of a province, a county of a
    /// prefecture.
    #[schema(example = "440981")]
    pub region_code: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionSummary {
    #[schema(example = "440900")]
    pub region_code: String,
    #[schema(example = 2014)]
    pub year: i32,
    #[serde(flatten)]
    pub figures: Figures,
    /// One entry per next-level division with campaigns, by code.
    pub children: Vec<RegionChild>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionQuery {
    /// The year of the week.
    #[param(minimum = 1990, maximum = 2100, example = 2014)]
    pub year: i32,
}

/// A province's or prefecture's week: the summary's figures summed over its campaigns.
///
/// `code` is a six-digit division code (GB/T 2260): `440000` sums all of Guangdong, `440900`
/// all of Maoming, `440981` Gaozhou alone. Every campaign of `year` whose `region_code` lies
/// under it is counted; `children` breaks the sums down by the next-level division.
///
/// Roles: anyone, including anonymous callers.
#[utoipa::path(
    tag = "regions",
    operation_id = "getRegionSummary",
    params(("code" = String, Path, description = "Six-digit division code", pattern = "^[0-9]{6}$"),
        RegionQuery),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The region's figures", body = RegionSummary,
        headers(("ETag" = String))))
)]
#[get("/regions/{code}/summary")]
pub async fn region_summary(
    req: HttpRequest,
    state: web::Data<AppState>,
    cache: web::Data<SummaryCache>,
    caller: MaybePrincipal,
    code: web::Path<String>,
    query: web::Query<RegionQuery>,
) -> AppResult<HttpResponse> {
    let prefix = region_prefix(&code).ok_or_else(AppError::not_found)?;
    if !(1990..=2100).contains(&query.year) {
        return Err(AppError::invalid_field(
            "year",
            "must be between 1990 and 2100",
        ));
    }
    let fresh = compute(&state, &cache, &code, prefix, query.year);
    let summary = if caller.sees_everything() {
        std::sync::Arc::new(fresh.await?)
    } else {
        // Any change anywhere may concern a region: the whole-database stamp validates it.
        let key = format!("region:{code}:{}", query.year);
        cache
            .regions
            .get_or_compute(&state.change_signal, Uuid::nil(), &key, fresh)
            .await?
    };
    json_ok(&req, &*summary)
}

async fn compute(
    state: &AppState,
    cache: &SummaryCache,
    code: &str,
    prefix: &str,
    year: i32,
) -> AppResult<RegionSummary> {
    let child_len = match prefix.len() {
        2 => 4,
        4 => 6,
        _ => 0,
    };
    let mut conn = state.conn().await?;
    let found: Vec<(Uuid, Option<String>)> = campaigns::table
        .filter(campaigns::year.eq(year))
        .filter(campaigns::region_code.like(format!("{prefix}%")))
        .select((campaigns::id, campaigns::region_code))
        .load(&mut conn)
        .await?;
    drop(conn);
    let per_campaign = campaign_figures(state, cache, &found).await?;
    let mut total = Figures::default();
    let mut by_child: BTreeMap<String, Figures> = BTreeMap::new();
    for ((_, region_code), figures) in found.iter().zip(&per_campaign) {
        total.add(figures);
        let child = child_of(region_code.as_deref().unwrap_or_default(), child_len);
        // A campaign of the region itself (a province-wide week) is in the total, under no
        // next-level division.
        if child_len > 0 && child != code {
            by_child.entry(child).or_default().add(figures);
        }
    }
    Ok(RegionSummary {
        region_code: code.to_owned(),
        year,
        figures: total,
        children: by_child
            .into_iter()
            .map(|(region_code, f)| RegionChild {
                region_code,
                figures: f,
            })
            .collect(),
    })
}

/// Each campaign's figures, in the order of `found`: kept per campaign while it is unchanged,
/// so after a change only that campaign is computed again (one set-based query for all the
/// campaigns not kept), and a national year is a sum of a few thousand figures in memory.
async fn campaign_figures(
    state: &AppState,
    cache: &SummaryCache,
    found: &[(Uuid, Option<String>)],
) -> AppResult<Vec<Arc<Figures>>> {
    // Stamps first: a change after this point leaves the kept figures stale, never wrong.
    let stamps: Vec<_> = found
        .iter()
        .map(|(id, _)| state.change_signal.campaign_stamp(*id))
        .collect();
    let kept: Vec<Option<Arc<Figures>>> = found
        .iter()
        .map(|(id, _)| cache.figures.get(&state.change_signal, &id.to_string()))
        .collect();
    let missing: Vec<Uuid> = found
        .iter()
        .zip(&kept)
        .filter(|(_, kept)| kept.is_none())
        .map(|((id, _), _)| *id)
        .collect();
    let mut computed = if missing.is_empty() {
        BTreeMap::new()
    } else {
        let groups = Groups {
            groups: missing.iter().map(Uuid::to_string).collect(),
            campaigns: missing,
        };
        // On the primary: a replica that has not replayed a change its stamp counts would
        // have these figures kept as fresh.
        let mut conn = crate::replica::on_primary(state.conn()).await?;
        conn.build_transaction()
            .read_only()
            .repeatable_read()
            .run::<_, AppError, _>(async |conn| figures::compute(conn, &groups).await)
            .await?
    };
    Ok(found
        .iter()
        .zip(stamps)
        .zip(kept)
        .map(|(((id, _), stamp), kept)| {
            kept.unwrap_or_else(|| {
                let key = id.to_string();
                let figures = Arc::new(computed.remove(&key).unwrap_or_default());
                if let Some(stamp) = stamp {
                    cache.figures.put(&key, *id, stamp, figures.clone());
                }
                figures
            })
        })
        .collect())
}

/// The next-level division a campaign's code belongs to: `440981` in a province → `440900`.
fn child_of(code: &str, child_len: usize) -> String {
    match child_len {
        4 => format!("{}00", &code[..4.min(code.len())]),
        6 => code.to_owned(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_the_next_level() {
        assert_eq!(child_of("440981", 4), "440900");
        assert_eq!(child_of("440981", 6), "440981");
        assert_eq!(region_prefix("440000"), Some("44"));
        assert_eq!(region_prefix("440900"), Some("4409"));
        assert_eq!(region_prefix("440981"), Some("440981"));
        assert_eq!(region_prefix("44098"), None);
    }
}
