//! The report's figures, computed by SQL aggregates over a set of campaigns at once and summed
//! per group: one campaign (the summary), each of a campaign's editions (trends), or the
//! campaigns of a province or prefecture grouped by their next-level division (regions). One
//! way of counting for all three, so a region's sums are the sums of its campaigns' summaries.
//!
//! Drafts never count; internal and cancelled items do (the report covers everything that
//! happened), and `by_status` tells them apart.

use std::collections::BTreeMap;

use diesel::sql_types::{Array, BigInt, Bool, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::events::EventKind;
use crate::api::media_reports::Medium;
use crate::api::shared::Status;
use crate::api::tallies::{Category, Measure};
use crate::error::{AppError, AppResult};

/// Partner units by role.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Default)]
pub struct RoleCounts {
    pub co_host: i64,
    pub undertaker: i64,
    pub member: i64,
}

impl RoleCounts {
    pub fn total(&self) -> i64 {
        self.co_host + self.undertaker + self.member
    }

    fn add(&mut self, other: &RoleCounts) {
        self.co_host += other.co_host;
        self.undertaker += other.undertaker;
        self.member += other.member;
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
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

impl EventCounts {
    fn add(&mut self, other: &EventCounts) {
        self.total += other.total;
        self.internal += other.internal;
        add_by(&mut self.by_kind, &other.by_kind);
        add_by(&mut self.by_status, &other.by_status);
    }
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

    fn plus(&mut self, other: Counts) {
        self.headcount += other.headcount;
        self.person_times += other.person_times;
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Participants {
    pub events: Counts,
    pub trainings: Counts,
    /// Events and trainings together, every category (zero included).
    pub by_category: BTreeMap<Category, Counts>,
}

impl Participants {
    fn add(&mut self, other: &Participants) {
        self.events.plus(other.events);
        self.trainings.plus(other.trainings);
        for (k, c) in &other.by_category {
            self.by_category.entry(*k).or_default().plus(*c);
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Default)]
pub struct TrainingCounts {
    /// Sessions that are not drafts.
    pub sessions: i64,
    pub enrolled: i64,
    pub completed: i64,
    pub employed_after: i64,
}

impl TrainingCounts {
    fn add(&mut self, other: &TrainingCounts) {
        self.sessions += other.sessions;
        self.enrolled += other.enrolled;
        self.completed += other.completed;
        self.employed_after += other.employed_after;
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct MediaCounts {
    pub total: i64,
    /// Every medium, zero included.
    pub by_medium: BTreeMap<Medium, i64>,
}

impl MediaCounts {
    fn add(&mut self, other: &MediaCounts) {
        self.total += other.total;
        add_by(&mut self.by_medium, &other.by_medium);
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Coverage {
    /// The campaign's areas (summed over campaigns for a region).
    pub areas: i64,
    /// Areas with at least one published or completed public event.
    pub reached: i64,
    /// `reached / areas`, to three decimals (0 without areas), recomputed from the sums.
    #[schema(example = 0.964)]
    pub ratio: f64,
}

impl Coverage {
    fn of(areas: i64, reached: i64) -> Coverage {
        let ratio = if areas == 0 {
            0.0
        } else {
            (reached as f64 / areas as f64 * 1000.0).round() / 1000.0
        };
        Coverage {
            areas,
            reached,
            ratio,
        }
    }
}

/// The figures of a set of campaigns, in the summary's shape.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(as = RegionFigures)]
pub struct Figures {
    /// How many campaigns were summed.
    pub campaigns: i64,
    pub partners: RoleCounts,
    pub events: EventCounts,
    pub participants: Participants,
    pub trainings: TrainingCounts,
    pub media_reports: MediaCounts,
    /// `areas` and `reached` summed; `ratio` recomputed from the sums, never averaged.
    pub coverage: Coverage,
}

/// Every value of an enumeration, counted 0.
fn zero_by<K: Ord + Copy>(all: &[K]) -> BTreeMap<K, i64> {
    all.iter().map(|k| (*k, 0)).collect()
}

impl Default for Figures {
    fn default() -> Self {
        Figures {
            campaigns: 0,
            partners: RoleCounts::default(),
            events: EventCounts {
                total: 0,
                by_kind: zero_by(EventKind::ALL),
                by_status: [Status::Published, Status::Cancelled, Status::Completed]
                    .into_iter()
                    .map(|s| (s, 0))
                    .collect(),
                internal: 0,
            },
            participants: Participants {
                events: Counts::default(),
                trainings: Counts::default(),
                by_category: Category::ALL
                    .iter()
                    .map(|c| (*c, Counts::default()))
                    .collect(),
            },
            trainings: TrainingCounts::default(),
            media_reports: MediaCounts {
                total: 0,
                by_medium: zero_by(Medium::ALL),
            },
            coverage: Coverage::of(0, 0),
        }
    }
}

impl Figures {
    /// Adds `other`'s figures to these (coverage recomputed from the summed areas).
    pub fn add(&mut self, other: &Figures) {
        self.campaigns += other.campaigns;
        self.partners.add(&other.partners);
        self.events.add(&other.events);
        self.participants.add(&other.participants);
        self.trainings.add(&other.trainings);
        self.media_reports.add(&other.media_reports);
        self.coverage = Coverage::of(
            self.coverage.areas + other.coverage.areas,
            self.coverage.reached + other.coverage.reached,
        );
    }
}

/// Adds each of `other`'s counts to the one of the same key.
fn add_by<K: Ord + Copy>(counts: &mut BTreeMap<K, i64>, other: &BTreeMap<K, i64>) {
    for (k, n) in other {
        *counts.entry(*k).or_default() += n;
    }
}

/// Campaigns and the group each is counted in.
pub struct Groups {
    pub campaigns: Vec<Uuid>,
    pub groups: Vec<String>,
}

#[derive(diesel::QueryableByName)]
struct GroupKey {
    #[diesel(sql_type = Text)]
    grp: String,
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct GroupTally {
    #[diesel(sql_type = Text)]
    grp: String,
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = Text)]
    measure: String,
    #[diesel(sql_type = Bool)]
    for_event: bool,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The campaigns of the set with their group: joined to every table below.
const GROUPS: &str = "unnest($1::uuid[], $2::text[]) AS g(campaign_id, grp)";

/// `(group, key, count)` rows of one aggregate.
async fn keyed(conn: &mut AsyncPgConnection, sql: &str, set: &Groups) -> AppResult<Vec<GroupKey>> {
    Ok(diesel::sql_query(sql.replace("{GROUPS}", GROUPS))
        .bind::<Array<SqlUuid>, _>(&set.campaigns)
        .bind::<Array<Text>, _>(&set.groups)
        .load(conn)
        .await?)
}

/// The figures of every group of `set`. Run it in one snapshot (REPEATABLE READ) so the
/// figures agree with each other during an import.
pub async fn compute(
    conn: &mut AsyncPgConnection,
    set: &Groups,
) -> AppResult<BTreeMap<String, Figures>> {
    let mut out: BTreeMap<String, Figures> = BTreeMap::new();
    fn figures<'a>(out: &'a mut BTreeMap<String, Figures>, grp: &str) -> &'a mut Figures {
        out.entry(grp.to_owned()).or_default()
    }
    // `campaign_id = ANY($1)` beside the join lets the planner use each table's campaign index.
    let counts = keyed(
        conn,
        "SELECT g.grp, 'campaigns' AS key, count(*) AS n FROM {GROUPS} GROUP BY 1 \
         UNION ALL SELECT g.grp, 'partner:' || p.role, count(*) FROM campaign_partners p \
           JOIN {GROUPS} USING (campaign_id) WHERE p.campaign_id = ANY($1) GROUP BY 1, 2 \
         UNION ALL SELECT g.grp, 'kind:' || e.kind, count(*) FROM events e \
           JOIN {GROUPS} USING (campaign_id) WHERE e.campaign_id = ANY($1) AND e.status <> 'draft' GROUP BY 1, 2 \
         UNION ALL SELECT g.grp, 'status:' || e.status, count(*) FROM events e \
           JOIN {GROUPS} USING (campaign_id) WHERE e.campaign_id = ANY($1) AND e.status <> 'draft' GROUP BY 1, 2 \
         UNION ALL SELECT g.grp, 'internal', count(*) FROM events e \
           JOIN {GROUPS} USING (campaign_id) WHERE e.campaign_id = ANY($1) AND e.status <> 'draft' \
             AND e.visibility = 'internal' GROUP BY 1 \
         UNION ALL SELECT g.grp, 'medium:' || m.medium, count(*) FROM media_reports m \
           JOIN {GROUPS} USING (campaign_id) WHERE m.campaign_id = ANY($1) GROUP BY 1, 2 \
         UNION ALL SELECT g.grp, t.key, sum(t.n)::bigint FROM trainings tr JOIN {GROUPS} USING (campaign_id), \
           LATERAL (VALUES ('sessions', 1::bigint), ('enrolled', tr.enrolled::bigint), \
                           ('completed', tr.completed::bigint), ('employed_after', tr.employed_after::bigint)) AS t(key, n) \
           WHERE tr.campaign_id = ANY($1) AND tr.status <> 'draft' GROUP BY 1, 2 \
         UNION ALL SELECT g.grp, 'areas', coalesce(sum(cardinality(c.areas)), 0)::bigint FROM campaigns c \
           JOIN {GROUPS} ON g.campaign_id = c.id GROUP BY 1 \
         UNION ALL SELECT g.grp, 'reached', count(*) FROM campaigns c JOIN {GROUPS} ON g.campaign_id = c.id, \
           unnest(c.areas) AS listed(area_name) \
           WHERE EXISTS (SELECT 1 FROM events e WHERE e.campaign_id = c.id AND e.area = listed.area_name \
                           AND e.status IN ('published', 'completed') AND e.visibility = 'public') GROUP BY 1",
        set,
    )
    .await?;
    let mut areas: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for row in counts {
        let f = figures(&mut out, &row.grp);
        let (kind, value) = row.key.split_once(':').unwrap_or((row.key.as_str(), ""));
        match kind {
            "campaigns" => f.campaigns += row.n,
            "partner" => match value {
                "co_host" => f.partners.co_host += row.n,
                "undertaker" => f.partners.undertaker += row.n,
                _ => f.partners.member += row.n,
            },
            "kind" => *f.events.by_kind.entry(parse(value)?).or_default() += row.n,
            "status" => {
                *f.events.by_status.entry(parse(value)?).or_default() += row.n;
                f.events.total += row.n;
            }
            "internal" => f.events.internal += row.n,
            "medium" => {
                *f.media_reports.by_medium.entry(parse(value)?).or_default() += row.n;
                f.media_reports.total += row.n;
            }
            "sessions" => f.trainings.sessions += row.n,
            "enrolled" => f.trainings.enrolled += row.n,
            "completed" => f.trainings.completed += row.n,
            "employed_after" => f.trainings.employed_after += row.n,
            "areas" => areas.entry(row.grp).or_default().0 += row.n,
            "reached" => areas.entry(row.grp).or_default().1 += row.n,
            other => return Err(AppError::internal(format!("figures: unknown key {other}"))),
        }
    }
    for (grp, (listed, reached)) in areas {
        figures(&mut out, &grp).coverage = Coverage::of(listed, reached);
    }

    // Tallies of draft events and trainings do not count. The drafts are few, so they are
    // excluded by a hashed anti-join rather than by joining every tally to its subject.
    let sums: Vec<GroupTally> = diesel::sql_query(format!(
        "SELECT g.grp, t.category, t.measure, t.event_id IS NOT NULL AS for_event, sum(t.count)::bigint AS n \
         FROM tallies t JOIN {GROUPS} USING (campaign_id) \
         WHERE t.campaign_id = ANY($1) \
           AND t.subject_id NOT IN (SELECT id FROM events WHERE campaign_id = ANY($1) AND status = 'draft' \
                                    UNION ALL \
                                    SELECT id FROM trainings WHERE campaign_id = ANY($1) AND status = 'draft') \
         GROUP BY 1, 2, 3, 4"
    ))
    .bind::<Array<SqlUuid>, _>(&set.campaigns)
    .bind::<Array<Text>, _>(&set.groups)
    .load(conn)
    .await?;
    for s in sums {
        let (category, measure): (Category, Measure) = (parse(&s.category)?, parse(&s.measure)?);
        let p = &mut figures(&mut out, &s.grp).participants;
        if s.for_event {
            p.events.add(measure, s.n);
        } else {
            p.trainings.add(measure, s.n);
        }
        p.by_category.entry(category).or_default().add(measure, s.n);
    }
    Ok(out)
}

fn parse<T: std::str::FromStr>(value: &str) -> AppResult<T> {
    value
        .parse()
        .map_err(|_| AppError::internal(format!("figures: unknown value {value}")))
}
