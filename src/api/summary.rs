//! `GET /campaigns/{id}/summary`: the figures of the committee's year-end report, computed by
//! SQL aggregates from the data. Drafts never count; internal and cancelled items do (the
//! report covers everything that happened), and `by_status` tells them apart. Everyone sees
//! the same totals: they are the figures the committee publishes.

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::campaigns::{self, Campaign};
use crate::api::events::{EventKind, Status};
use crate::api::media_reports::Medium;
use crate::api::tallies::{Category, Measure};
use crate::app::AppState;
use crate::auth::MaybePrincipal;
use crate::error::{AppError, AppResult};
use crate::http::conditional::tagged_response;
use crate::http::json_ok;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(summary);
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
    pub co_host: i64,
    pub undertaker: i64,
    pub member: i64,
    pub lead_unit_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct EventCounts {
    /// Events that are not drafts.
    pub total: i64,
    /// Every kind, zero included.
    #[schema(example = json!({"lecture": 3, "exhibition": 4}))]
    pub by_kind: BTreeMap<EventKind, i64>,
    /// `published`, `cancelled`, `completed` (drafts never count).
    #[schema(example = json!({"published": 3, "cancelled": 1, "completed": 40}))]
    pub by_status: BTreeMap<Status, i64>,
    /// Of `total`, how many are internal.
    pub internal: i64,
}

#[derive(Debug, Serialize, ToSchema, PartialEq, Default, Clone, Copy)]
pub struct Counts {
    /// People (人数).
    pub headcount: i64,
    /// Attendances (人次).
    pub person_times: i64,
}

impl Counts {
    fn add(&mut self, measure: Measure, n: i64) {
        match measure {
            Measure::Headcount => self.headcount += n,
            Measure::PersonTimes => self.person_times += n,
        }
    }
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct Participants {
    pub events: Counts,
    pub trainings: Counts,
    /// Events and trainings together, every category (zero included).
    pub by_category: BTreeMap<Category, Counts>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq, Default)]
pub struct TrainingCounts {
    /// Sessions that are not drafts.
    pub sessions: i64,
    pub enrolled: i64,
    pub completed: i64,
    pub employed_after: i64,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct MediaCounts {
    pub total: i64,
    /// Every medium, zero included.
    pub by_medium: BTreeMap<Medium, i64>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct Coverage {
    /// The campaign's areas.
    pub areas: i64,
    /// Areas with at least one published or completed public event.
    pub reached: i64,
    /// `reached / areas`, to three decimals (0 without areas).
    #[schema(example = 0.964)]
    pub ratio: f64,
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
pub async fn summary(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybePrincipal,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let campaign = campaigns::find_for(&state, &caller, &id).await?;
    let fresh = async {
        let mut conn = state.conn().await?;
        // One snapshot for all the figures, so they agree with each other during an import.
        conn.build_transaction()
            .read_only()
            .repeatable_read()
            .run::<_, AppError, _>(async |conn| compute(conn, &campaign).await)
            .await
    };
    // The public is answered from memory while the campaign is unchanged (a change shows as
    // soon as its notification arrives); token holders read their own writes at once.
    let figures = if caller.sees_everything() {
        std::sync::Arc::new(fresh.await?)
    } else {
        state
            .summaries
            .get_or_compute(&state.change_signal, campaign.id, "summary", fresh)
            .await?
    };
    let mut res = if wants_csv(&req) {
        let csv = header::HeaderValue::from_static("text/csv; charset=utf-8");
        tagged_response(&req, StatusCode::OK, csv, to_csv(&figures)?)
    } else {
        json_ok(&req, &*figures)?
    };
    res.headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    Ok(res)
}

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|m| m.trim().starts_with("text/csv")))
}

#[derive(diesel::QueryableByName)]
struct KeyCount {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct TallySum {
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = Text)]
    measure: String,
    #[diesel(sql_type = Bool)]
    for_event: bool,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Numbers {
    #[diesel(sql_type = BigInt)]
    a: i64,
    #[diesel(sql_type = BigInt)]
    b: i64,
    #[diesel(sql_type = BigInt)]
    c: i64,
    #[diesel(sql_type = BigInt)]
    d: i64,
}

#[derive(diesel::QueryableByName)]
struct Lead {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    lead: Option<Uuid>,
}

async fn key_counts(
    conn: &mut AsyncPgConnection,
    sql: &str,
    campaign: Uuid,
) -> AppResult<Vec<(String, i64)>> {
    let rows: Vec<KeyCount> = diesel::sql_query(sql)
        .bind::<SqlUuid, _>(campaign)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.key, r.n)).collect())
}

fn tally<K: Ord + Copy + std::str::FromStr>(all: &[K], rows: &[(String, i64)]) -> BTreeMap<K, i64> {
    let mut map: BTreeMap<K, i64> = all.iter().map(|k| (*k, 0)).collect();
    for (key, n) in rows {
        if let Ok(k) = key.parse() {
            *map.entry(k).or_default() += n;
        }
    }
    map
}

pub async fn compute(conn: &mut AsyncPgConnection, campaign: &Campaign) -> AppResult<Summary> {
    let id = campaign.id;

    let roles = key_counts(
        conn,
        "SELECT role AS key, count(*) AS n FROM campaign_partners WHERE campaign_id = $1 GROUP BY role",
        id,
    )
    .await?;
    let lead: Lead = diesel::sql_query(
        "SELECT (SELECT unit_id FROM campaign_partners WHERE campaign_id = $1 AND lead) AS lead",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .await?;
    let role = |r: &str| roles.iter().find(|(k, _)| k == r).map_or(0, |(_, n)| *n);
    let partners = PartnerCounts {
        co_host: role("co_host"),
        undertaker: role("undertaker"),
        member: role("member"),
        lead_unit_id: lead.lead,
    };

    let kinds = key_counts(
        conn,
        "SELECT kind AS key, count(*) AS n FROM events WHERE campaign_id = $1 AND status <> 'draft' GROUP BY kind",
        id,
    )
    .await?;
    let statuses = key_counts(
        conn,
        "SELECT status AS key, count(*) AS n FROM events WHERE campaign_id = $1 AND status <> 'draft' GROUP BY status",
        id,
    )
    .await?;
    let internal: Numbers = diesel::sql_query(
        "SELECT count(*) FILTER (WHERE visibility = 'internal') AS a, 0::bigint AS b, 0::bigint AS c, 0::bigint AS d \
         FROM events WHERE campaign_id = $1 AND status <> 'draft'",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .await?;
    let by_status: BTreeMap<Status, i64> = tally(
        &[Status::Published, Status::Cancelled, Status::Completed],
        &statuses,
    );
    let events = EventCounts {
        total: by_status.values().sum(),
        by_kind: tally(EventKind::ALL, &kinds),
        by_status,
        internal: internal.a,
    };

    // Tallies of draft events and trainings do not count. The drafts are few, so they are
    // excluded by a hashed anti-join rather than by joining every tally to its subject.
    let sums: Vec<TallySum> = diesel::sql_query(
        "SELECT category, measure, event_id IS NOT NULL AS for_event, sum(count)::bigint AS n \
         FROM tallies \
         WHERE campaign_id = $1 \
           AND subject_id NOT IN (SELECT id FROM events WHERE campaign_id = $1 AND status = 'draft' \
                                  UNION ALL \
                                  SELECT id FROM trainings WHERE campaign_id = $1 AND status = 'draft') \
         GROUP BY 1, 2, 3",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)
    .await?;
    let mut participants = Participants {
        events: Counts::default(),
        trainings: Counts::default(),
        by_category: Category::ALL
            .iter()
            .map(|c| (*c, Counts::default()))
            .collect(),
    };
    for s in sums {
        let (Ok(category), Ok(measure)) =
            (s.category.parse::<Category>(), s.measure.parse::<Measure>())
        else {
            return Err(AppError::internal("unknown category or measure in tallies"));
        };
        if s.for_event {
            participants.events.add(measure, s.n);
        } else {
            participants.trainings.add(measure, s.n);
        }
        participants
            .by_category
            .entry(category)
            .or_default()
            .add(measure, s.n);
    }

    let t: Numbers = diesel::sql_query(
        "SELECT count(*) AS a, coalesce(sum(enrolled), 0)::bigint AS b, coalesce(sum(completed), 0)::bigint AS c, \
                coalesce(sum(employed_after), 0)::bigint AS d \
         FROM trainings WHERE campaign_id = $1 AND status <> 'draft'",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .await?;
    let trainings = TrainingCounts {
        sessions: t.a,
        enrolled: t.b,
        completed: t.c,
        employed_after: t.d,
    };

    let media = key_counts(
        conn,
        "SELECT medium AS key, count(*) AS n FROM media_reports WHERE campaign_id = $1 GROUP BY medium",
        id,
    )
    .await?;
    let by_medium: BTreeMap<Medium, i64> = tally(Medium::ALL, &media);
    let media_reports = MediaCounts {
        total: by_medium.values().sum(),
        by_medium,
    };

    let reached: Numbers = diesel::sql_query(
        "SELECT count(*) AS a, 0::bigint AS b, 0::bigint AS c, 0::bigint AS d \
         FROM campaigns c, unnest(c.areas) AS listed(area_name) \
         WHERE c.id = $1 AND EXISTS ( \
           SELECT 1 FROM events e WHERE e.campaign_id = $1 AND e.area = listed.area_name \
             AND e.status IN ('published', 'completed') AND e.visibility = 'public')",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .await?;
    let areas = campaign.areas.len() as i64;
    let coverage = Coverage {
        areas,
        reached: reached.a,
        ratio: if areas == 0 {
            0.0
        } else {
            (reached.a as f64 / areas as f64 * 1000.0).round() / 1000.0
        },
    };

    Ok(Summary {
        campaign_id: id,
        slug: campaign.slug.clone(),
        partners,
        events,
        participants,
        trainings,
        media_reports,
        coverage,
    })
}

/// `section,key,value` rows with a BOM.
fn to_csv(s: &Summary) -> AppResult<Vec<u8>> {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut row =
        |section: &str, key: &str, value: String| rows.push((section.into(), key.into(), value));
    row("campaign", "slug", s.slug.clone());
    row("partners", "co_host", s.partners.co_host.to_string());
    row("partners", "undertaker", s.partners.undertaker.to_string());
    row("partners", "member", s.partners.member.to_string());
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
