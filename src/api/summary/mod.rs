//! `GET /campaigns/{id}/summary`: the figures of the committee's year-end report, computed by
//! SQL aggregates from the data. Drafts never count; internal and cancelled items do (the
//! report covers everything that happened), and `by_status` tells them apart. Everyone sees
//! the same totals: they are the figures the committee publishes.

mod figures;
mod regions;
pub mod trends;

use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, web};
use diesel::sql_types::{Nullable, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::campaigns::{Campaign, CampaignIndex};
use crate::auth::MaybePrincipal;
use crate::error::{AppError, AppResult};
use crate::http::conditional::{TaggedJson, tagged_response};
use crate::http::json_ok;
use crate::read_cache::{KeyIndex, ReadCache};
use crate::state::AppState;

pub use figures::{
    Counts, Coverage, EventCounts, Figures, Groups, MediaCounts, Participants, RoleCounts,
    TrainingCounts,
};
pub use regions::RegionSummary;
pub use trends::{HeadlineFigures, Trends};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(summary)
        .service(trends::trends)
        .service(regions::region_summary);
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct Summary {
    pub campaign_id: Uuid,
    #[schema(example = "gaozhou-2014")]
    pub slug: String,
    pub partners: PartnerCounts,
    pub events: EventCounts,
    pub participants: Participants,
    pub trainings: TrainingCounts,
    pub media_reports: MediaCounts,
    pub coverage: Coverage,
}

#[derive(Debug, Serialize, ToSchema, PartialEq, Default)]
pub struct PartnerCounts {
    #[serde(flatten)]
    pub roles: RoleCounts,
    /// The co-host that leads (牵头).
    pub lead_unit_id: Option<Uuid>,
}

/// The campaign's report figures. `Accept: text/csv` gives them as `section,key,value` rows
/// (UTF-8 with a BOM, so Excel shows Chinese correctly).
///
/// Roles: anyone, including anonymous callers.
#[utoipa::path(
    tag = "campaigns",
    operation_id = "getCampaignSummary",
    params(("id" = String, Path, description = "Campaign id or slug")),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The figures", headers(("ETag" = String)),
        content((Summary = "application/json"), (String = "text/csv"))))
)]
#[get("/campaigns/{id}/summary")]
pub async fn summary(req: HttpRequest, read: CampaignRead) -> AppResult<HttpResponse> {
    let CampaignRead {
        state,
        summaries: cache,
        caller,
        campaign,
    } = read;
    // Boxed: the computation's future is large, and an unboxed one would be copied on every
    // request, the cached ones included.
    let figures = async { Box::pin(summary_for(&state, &cache, &caller, &campaign)).await };
    let mut res = if wants_csv(&req) {
        let csv = header::HeaderValue::from_static("text/csv; charset=utf-8");
        tagged_response(&req, StatusCode::OK, csv, to_csv(&*figures.await?)?)
    } else if caller.sees_everything() {
        json_ok(&req, &*figures.await?)?
    } else {
        let signal = &state.change_signal;
        let rendered = async { TaggedJson::new(&*figures.await?) };
        (cache
            .json
            .get_or_compute(signal, campaign.id, "summary", rendered)
            .await?)
            .respond(&req)
    };
    res.headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    Ok(res)
}

/// What a reader of one campaign's figures (its summary, trends, report) starts from: the
/// campaign the path names (`{id}`, an id or a slug) as the caller may see it, found before
/// the handler runs, and the plumbing and caches its figures come from.
pub struct CampaignRead {
    pub state: web::Data<AppState>,
    pub summaries: web::Data<SummaryCache>,
    pub caller: MaybePrincipal,
    pub campaign: Arc<Campaign>,
}

impl FromRequest for CampaignRead {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // In the order a handler taking them as arguments would extract them.
        let parts = <(
            web::Data<AppState>,
            web::Data<CampaignIndex>,
            web::Data<SummaryCache>,
            MaybePrincipal,
            web::Path<String>,
        )>::from_request(req, payload);
        Box::pin(async move {
            let (state, index, summaries, caller, id) = parts.await?;
            let campaign = index.find_for(&state, &caller, &id).await?;
            Ok(CampaignRead {
                state,
                summaries,
                caller,
                campaign,
            })
        })
    }
}

/// Computed summaries and regional sums, kept while unchanged (a `web::Data` of the app).
pub struct SummaryCache {
    /// Per campaign.
    pub summaries: ReadCache<Summary>,
    /// Per campaign, as the public is sent it.
    pub json: ReadCache<TaggedJson>,
    /// Per region and year, while nothing changed anywhere.
    pub regions: ReadCache<RegionSummary>,
    /// Per campaign (by id), while it is unchanged: what regions are summed from.
    pub figures: KeyIndex<Figures>,
}

impl Default for SummaryCache {
    fn default() -> Self {
        SummaryCache {
            summaries: ReadCache::new(10_000),
            json: ReadCache::new(10_000),
            regions: ReadCache::new(1_000),
            figures: KeyIndex::new(20_000),
        }
    }
}

/// The summary of `campaign` for `caller`: the public is answered from memory while the
/// campaign is unchanged (a change shows as soon as its notification arrives); token holders
/// read their own writes at once.
pub async fn summary_for(
    state: &AppState,
    cache: &SummaryCache,
    caller: &MaybePrincipal,
    campaign: &Campaign,
) -> AppResult<Arc<Summary>> {
    let fresh = async {
        let mut conn = state.conn().await?;
        // One snapshot for all the figures, so they agree with each other during an import.
        conn.build_transaction()
            .read_only()
            .repeatable_read()
            .run::<_, AppError, _>(async |conn| compute(conn, campaign).await)
            .await
    };
    if caller.sees_everything() {
        return Ok(Arc::new(fresh.await?));
    }
    cache
        .summaries
        .get_or_compute(&state.change_signal, campaign.id, "summary", fresh)
        .await
}

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|m| m.trim().starts_with("text/csv")))
}

#[derive(diesel::QueryableByName)]
struct Lead {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    lead: Option<Uuid>,
}

/// The summary of one campaign. Run it in one snapshot (see [`figures::compute`]).
pub async fn compute(conn: &mut AsyncPgConnection, campaign: &Campaign) -> AppResult<Summary> {
    let set = Groups {
        campaigns: vec![campaign.id],
        groups: vec![String::new()],
    };
    let f = figures::compute(conn, &set)
        .await?
        .remove("")
        .unwrap_or_default();
    let lead: Lead = diesel::sql_query(
        "SELECT (SELECT unit_id FROM campaign_partners WHERE campaign_id = $1 AND lead) AS lead",
    )
    .bind::<SqlUuid, _>(campaign.id)
    .get_result(conn)
    .await?;
    Ok(Summary {
        campaign_id: campaign.id,
        slug: campaign.slug.clone(),
        partners: PartnerCounts {
            roles: f.partners,
            lead_unit_id: lead.lead,
        },
        events: f.events,
        participants: f.participants,
        trainings: f.trainings,
        media_reports: f.media_reports,
        coverage: f.coverage,
    })
}

/// `section,key,value` rows with a BOM.
fn to_csv(s: &Summary) -> AppResult<Vec<u8>> {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut row =
        |section: &str, key: &str, value: String| rows.push((section.into(), key.into(), value));
    row("campaign", "slug", s.slug.clone());
    row("partners", "co_host", s.partners.roles.co_host.to_string());
    row(
        "partners",
        "undertaker",
        s.partners.roles.undertaker.to_string(),
    );
    row("partners", "member", s.partners.roles.member.to_string());
    row(
        "partners",
        "lead_unit_id",
        s.partners
            .lead_unit_id
            .map(|u| u.to_string())
            .unwrap_or_default(),
    );
    row("events", "total", s.events.total.to_string());
    row("events", "internal", s.events.internal.to_string());
    for (k, n) in &s.events.by_kind {
        row("events.by_kind", k.as_str(), n.to_string());
    }
    for (k, n) in &s.events.by_status {
        row("events.by_status", k.as_str(), n.to_string());
    }
    for (section, counts) in [
        ("participants.events", s.participants.events),
        ("participants.trainings", s.participants.trainings),
    ] {
        row(section, "headcount", counts.headcount.to_string());
        row(section, "person_times", counts.person_times.to_string());
    }
    for (category, counts) in &s.participants.by_category {
        let section = format!("participants.by_category.{category}");
        row(&section, "headcount", counts.headcount.to_string());
        row(&section, "person_times", counts.person_times.to_string());
    }
    row("trainings", "sessions", s.trainings.sessions.to_string());
    row("trainings", "enrolled", s.trainings.enrolled.to_string());
    row("trainings", "completed", s.trainings.completed.to_string());
    row(
        "trainings",
        "employed_after",
        s.trainings.employed_after.to_string(),
    );
    row("media_reports", "total", s.media_reports.total.to_string());
    for (k, n) in &s.media_reports.by_medium {
        row("media_reports.by_medium", k.as_str(), n.to_string());
    }
    row("coverage", "areas", s.coverage.areas.to_string());
    row("coverage", "reached", s.coverage.reached.to_string());
    row("coverage", "ratio", format!("{:.3}", s.coverage.ratio));

    let mut out = Vec::from(b"\xEF\xBB\xBF".as_slice());
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer
            .write_record(["section", "key", "value"])
            .map_err(AppError::internal)?;
        for (section, key, value) in rows {
            writer
                .write_record([section, key, value])
                .map_err(AppError::internal)?;
        }
        writer.flush().map_err(AppError::internal)?;
    }
    Ok(out)
}
