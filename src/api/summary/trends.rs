//! `GET /campaigns/{id}/trends`: this edition of the week beside up to five earlier ones held
//! in the same place (same `region_code`), with the change from the one before (the seed's
//! 结合前五年的工作情况).

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, get};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Serialize, Serializer};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{CampaignRead, Summary, SummaryCache, summary_for};
use crate::api::campaigns::Campaign;
use crate::auth::MaybePrincipal;
use crate::error::{AppError, AppResult};
use crate::http::json_ok;
use crate::schema::campaigns as campaigns_table;
use crate::state::AppState;

/// Earlier editions shown beside this one.
const EARLIER: i64 = 5;

/// A figure: a count, or a ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    Count(i64),
    Ratio(f64),
}

impl Figure {
    pub fn value(self) -> f64 {
        match self {
            Figure::Count(n) => n as f64,
            Figure::Ratio(r) => r,
        }
    }
}

impl Serialize for Figure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Figure::Count(n) => s.serialize_i64(*n),
            Figure::Ratio(r) => s.serialize_f64(*r),
        }
    }
}

/// The summary's headline numbers.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct HeadlineFigures {
    /// Partner units of every role.
    #[schema(value_type = i64)]
    pub partners: Figure,
    /// Events that are not drafts.
    #[schema(value_type = i64)]
    pub events: Figure,
    /// People at events (人数).
    #[schema(value_type = i64)]
    pub event_headcount: Figure,
    /// Attendances of trainings (人次).
    #[schema(value_type = i64)]
    pub training_person_times: Figure,
    /// Trainees who completed (the trainings' `completed`).
    #[schema(value_type = i64)]
    pub trained: Figure,
    #[schema(value_type = i64)]
    pub employed_after: Figure,
    #[schema(value_type = i64)]
    pub media_reports: Figure,
    #[schema(value_type = f64, example = 0.964)]
    pub coverage_ratio: Figure,
}

impl HeadlineFigures {
    pub fn of(s: &Summary) -> Self {
        HeadlineFigures {
            partners: Figure::Count(s.partners.roles.total()),
            events: Figure::Count(s.events.total),
            event_headcount: Figure::Count(s.participants.events.headcount),
            training_person_times: Figure::Count(s.participants.trainings.person_times),
            trained: Figure::Count(s.trainings.completed),
            employed_after: Figure::Count(s.trainings.employed_after),
            media_reports: Figure::Count(s.media_reports.total),
            coverage_ratio: Figure::Ratio(s.coverage.ratio),
        }
    }

    pub fn named(&self) -> [(&'static str, Figure); 8] {
        [
            ("partners", self.partners),
            ("events", self.events),
            ("event_headcount", self.event_headcount),
            ("training_person_times", self.training_person_times),
            ("trained", self.trained),
            ("employed_after", self.employed_after),
            ("media_reports", self.media_reports),
            ("coverage_ratio", self.coverage_ratio),
        ]
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Edition {
    pub campaign_id: Uuid,
    #[schema(example = "gaozhou-2013")]
    pub slug: String,
    #[schema(example = 2013)]
    pub year: i32,
    pub figures: HeadlineFigures,
}

impl Edition {
    fn of(campaign: &Campaign, summary: &Summary) -> Self {
        Edition {
            campaign_id: campaign.id,
            slug: campaign.slug.clone(),
            year: campaign.year,
            figures: HeadlineFigures::of(summary),
        }
    }
}

/// One figure, this edition against the one before.
// Named apart from the change feed's `Change`: one component name for both made /trends
// answers fail their own schema.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(as = FigureChange)]
pub struct Change {
    #[schema(value_type = f64)]
    pub previous: Figure,
    #[schema(value_type = f64)]
    pub current: Figure,
    /// `current - previous`.
    #[schema(value_type = f64)]
    pub delta: Figure,
    /// `current / previous`; null when `previous` is 0.
    pub ratio: Option<f64>,
}

impl Change {
    fn between(previous: Figure, current: Figure) -> Change {
        let delta = match (previous, current) {
            (Figure::Count(p), Figure::Count(c)) => Figure::Count(c - p),
            // Ratios carry three decimals: so does their difference.
            _ => Figure::Ratio(((current.value() - previous.value()) * 1000.0).round() / 1000.0),
        };
        let ratio = (previous.value() != 0.0).then(|| current.value() / previous.value());
        Change {
            previous,
            current,
            delta,
            ratio,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Trends {
    #[schema(example = "440981")]
    pub region_code: Option<String>,
    /// Oldest first: up to five earlier editions with the same `region_code`, then this one.
    pub editions: Vec<Edition>,
    /// This edition against the one before it, by figure (empty without an earlier edition).
    pub changes: BTreeMap<String, Change>,
}

/// This edition and up to five earlier ones held in the same place, with the changes.
///
/// Editions share the campaign's `region_code` and are earlier by `year`. Every figure is the
/// one `GET /campaigns/{id}/summary` gives for that edition.
///
/// Roles: anyone, including anonymous callers.
#[utoipa::path(
    tag = "campaigns",
    operation_id = "getCampaignTrends",
    params(("id" = String, Path, description = "Campaign id or slug")),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The editions and their changes", body = Trends,
        headers(("ETag" = String))))
)]
#[get("/campaigns/{id}/trends")]
pub async fn trends(req: HttpRequest, read: CampaignRead) -> AppResult<HttpResponse> {
    let trends = compute(&read.state, &read.summaries, &read.caller, &read.campaign).await?;
    json_ok(&req, &trends)
}

/// The trends of `campaign`, each edition's figures from its (cached) summary.
pub async fn compute(
    state: &AppState,
    cache: &SummaryCache,
    caller: &MaybePrincipal,
    campaign: &Arc<Campaign>,
) -> AppResult<Trends> {
    let earlier = earlier_editions(state, campaign).await?;
    let current = summary_for(state, cache, caller, campaign).await?;
    of_editions(state, cache, caller, campaign, &earlier, &current).await
}

/// Up to five earlier editions held in the same place, oldest first.
pub async fn earlier_editions(state: &AppState, campaign: &Campaign) -> AppResult<Vec<Campaign>> {
    let Some(code) = &campaign.region_code else {
        return Ok(Vec::new());
    };
    let earlier = campaigns_table::table
        .filter(campaigns_table::region_code.eq(code))
        .filter(campaigns_table::year.lt(campaign.year))
        .order((
            campaigns_table::year.desc(),
            campaigns_table::starts_on.desc(),
        ))
        .limit(EARLIER)
        .select(Campaign::as_select());
    // On the primary: the report keeps these rows in its cache under a stamp read after them,
    // which a lagging replica's rows would not match (see `replica.rs`).
    let mut earlier: Vec<Campaign> = crate::replica::on_primary(async {
        Ok::<_, AppError>(earlier.load(&mut state.conn().await?).await?)
    })
    .await?;
    earlier.reverse();
    Ok(earlier)
}

/// The trends of `campaign` given its earlier editions and its own summary (a caller that
/// shows both, like the report, so the two cannot disagree).
pub async fn of_editions(
    state: &AppState,
    cache: &SummaryCache,
    caller: &MaybePrincipal,
    campaign: &Campaign,
    earlier: &[Campaign],
    current: &Summary,
) -> AppResult<Trends> {
    let mut out = Vec::with_capacity(earlier.len() + 1);
    for edition in earlier {
        let summary = summary_for(state, cache, caller, edition).await?;
        out.push(Edition::of(edition, &summary));
    }
    out.push(Edition::of(campaign, current));
    let changes = match out.as_slice() {
        [.., previous, current] => previous
            .figures
            .named()
            .into_iter()
            .zip(current.figures.named())
            .map(|((name, p), (_, c))| (name.to_owned(), Change::between(p, c)))
            .collect(),
        _ => BTreeMap::new(),
    };
    Ok(Trends {
        region_code: campaign.region_code.clone(),
        editions: out,
        changes,
    })
}
