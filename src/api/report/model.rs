//! What a report shows, gathered once per rendering: the figures as `/summary` and `/trends`
//! give them (the same values, not a second count), and the names the figures stand for,
//! read in one snapshot.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use diesel::sql_types::{BigInt, Bool, Date, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::api::campaigns::Campaign;
use crate::api::committee::{BodyKind, CommitteeRole};
use crate::api::events::EventKind;
use crate::api::media_reports::Medium;
use crate::api::summary::{Summary, Trends};
use crate::api::tallies::Category;
use crate::api::trainings::TrainingSubject;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Who the report is for: the public names only public items; a token holder's names every
/// item that is not a draft. The figures are the same in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Public,
    Full,
}

impl Audience {
    pub fn key(self) -> &'static str {
        match self {
            Audience::Public => "public",
            Audience::Full => "full",
        }
    }
}

/// Everything every format needs.
pub struct Report {
    pub audience: Audience,
    pub campaign: Arc<Campaign>,
    pub summary: Arc<Summary>,
    pub trends: Trends,
    pub names: Names,
}

/// The items behind the figures, by name.
#[derive(Default)]
pub struct Names {
    pub lead: Option<String>,
    pub co_hosts: Vec<String>,
    pub undertakers: Vec<String>,
    pub members: Vec<String>,
    pub bodies: Vec<Body>,
    /// Highlights first, then by start.
    pub events: Vec<EventItem>,
    /// Every event that is not a draft, by its first day (in the campaign's time zone).
    pub days: Vec<(NaiveDate, i64)>,
    pub trainings: Vec<TrainingItem>,
    /// Empty in the public edition: media reports are read with a token only.
    pub media: Vec<MediaItem>,
}

pub struct Body {
    pub name: String,
    pub kind: BodyKind,
    pub members: i64,
    /// Empty in the public edition.
    pub people: Vec<Person>,
}

pub struct Person {
    pub name: String,
    pub position: Option<String>,
    pub role: CommitteeRole,
}

#[derive(diesel::QueryableByName)]
pub struct EventItem {
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub kind: EventKind,
    #[diesel(sql_type = Bool)]
    pub highlight: bool,
    #[diesel(sql_type = Bool)]
    pub cancelled: bool,
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = Text)]
    pub host: String,
}

#[derive(diesel::QueryableByName)]
pub struct TrainingItem {
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub subject: TrainingSubject,
    #[diesel(sql_type = Text)]
    pub provider: String,
    #[diesel(sql_type = BigInt)]
    pub enrolled: i64,
    #[diesel(sql_type = BigInt)]
    pub completed: i64,
    #[diesel(sql_type = BigInt)]
    pub employed_after: i64,
}

#[derive(diesel::QueryableByName)]
pub struct MediaItem {
    #[diesel(sql_type = Text)]
    pub medium: Medium,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub outlet: Option<String>,
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
}

pub fn kind_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::OpeningCeremony => "开幕式",
        EventKind::CommunityActivity => "社区教育活动",
        EventKind::Lecture => "专题讲座",
        EventKind::Training => "培训活动",
        EventKind::Exhibition => "成果展示",
        EventKind::Competition => "比赛",
        EventKind::Performance => "文艺展演",
        EventKind::ReadingPromotion => "读书活动",
        EventKind::OpenVenue => "场馆开放",
        EventKind::Publicity => "宣传活动",
        EventKind::Meeting => "工作会议",
        EventKind::Other => "其他活动",
    }
}

pub fn medium_label(medium: Medium) -> &'static str {
    match medium {
        Medium::Tv => "电视",
        Medium::Radio => "广播",
        Medium::Newspaper => "报纸",
        Medium::Online => "网络",
        Medium::Social => "新媒体",
        Medium::PrintMaterial => "宣传品",
        Medium::Other => "其他",
    }
}

pub fn category_label(category: Category) -> &'static str {
    match category {
        Category::Employed => "在职人员",
        Category::Student => "在校学生",
        Category::MigrantWorker => "外来务工人员",
        Category::Homemaker => "家庭妇女",
        Category::Retiree => "离退休人员",
        Category::Returnee => "返乡人员",
        Category::Unemployed => "失业人员",
        Category::Veteran => "退伍军人",
        Category::Disabled => "残疾人",
        Category::Senior => "老年人",
        Category::Child => "儿童",
        Category::General => "一般市民",
    }
}

pub fn subject_label(subject: TrainingSubject) -> &'static str {
    match subject {
        TrainingSubject::Computer => "电脑",
        TrainingSubject::English => "英语",
        TrainingSubject::Housekeeping => "家政",
        TrainingSubject::Etiquette => "礼仪",
        TrainingSubject::HrDevelopment => "人力资源开发",
        TrainingSubject::SelfImprovement => "学习发展与自我提升",
        TrainingSubject::Employment => "就业再就业",
        TrainingSubject::Other => "其他",
    }
}

pub fn body_kind_label(kind: BodyKind) -> &'static str {
    match kind {
        BodyKind::LeadingGroup => "领导小组",
        BodyKind::Office => "办公室",
        BodyKind::LiaisonGroup => "联络小组",
        BodyKind::UnitWorkingGroup => "主办单位工作机构",
    }
}

pub fn role_label(role: CommitteeRole) -> &'static str {
    match role {
        CommitteeRole::Chair => "组长",
        CommitteeRole::ViceChair => "副组长",
        CommitteeRole::Member => "成员",
        CommitteeRole::Director => "主任",
        CommitteeRole::Liaison => "联络员",
    }
}

/// The trends' figures by their key, in the order shown.
pub const HEADLINES: [(&str, &str); 8] = [
    ("partners", "参与单位（个）"),
    ("events", "活动（项）"),
    ("event_headcount", "活动参与（人）"),
    ("training_person_times", "学习培训（人次）"),
    ("trained", "培训结业（人）"),
    ("employed_after", "培训后就业（人）"),
    ("media_reports", "媒体报道（篇）"),
    ("coverage_ratio", "覆盖率"),
];

/// `2014年10月25日`.
pub fn date_zh(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// `2014年10月19日至25日`, naming the year and month again only when they change.
pub fn date_range_zh(from: NaiveDate, to: NaiveDate) -> String {
    let end = if from.year() != to.year() {
        date_zh(to)
    } else if from.month() != to.month() {
        format!("{}月{}日", to.month(), to.day())
    } else {
        format!("{}日", to.day())
    };
    format!("{}至{end}", date_zh(from))
}

/// `96.4%` from a ratio with three decimals.
pub fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

impl Report {
    /// `2014年高州市全民终身学习活动周工作总结`.
    pub fn title(&self) -> String {
        let c = &self.campaign;
        format!(
            "{}年{}全民终身学习活动周工作总结",
            c.year,
            c.region.as_deref().unwrap_or_default()
        )
    }

    /// The date line under the report: the last day of the week. Not the day of rendering,
    /// so that the same data always gives the same document (and the same `ETag`), and a
    /// cached copy never goes stale by the calendar alone.
    pub fn date_line(&self) -> String {
        date_zh(self.campaign.ends_on)
    }
}

/// The names of `campaign`'s items for `audience`, in one read-only snapshot.
pub async fn gather(state: &AppState, campaign: &Campaign, audience: Audience) -> AppResult<Names> {
    let mut conn = state.conn().await?;
    let (id, full) = (campaign.id, audience == Audience::Full);
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run::<_, AppError, _>(async |conn| {
            let mut names = Names::default();
            partners(conn, id, &mut names).await?;
            names.bodies = bodies(conn, id, full).await?;
            names.events = events(conn, id, full).await?;
            names.days = days(conn, id).await?;
            names.trainings = trainings(conn, id, full).await?;
            if full {
                names.media = media(conn, id).await?;
            }
            Ok(names)
        })
        .await
}

#[derive(diesel::QueryableByName)]
struct PartnerRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Bool)]
    lead: bool,
}

/// Units by their short name where they have one (as the seed's report names them), the lead
/// first, then government departments before mass organizations, media and the rest.
async fn partners(conn: &mut AsyncPgConnection, id: Uuid, names: &mut Names) -> AppResult<()> {
    let rows: Vec<PartnerRow> = diesel::sql_query(
        "SELECT coalesce(u.short_name, u.name) AS name, p.role, p.lead \
         FROM campaign_partners p JOIN units u ON u.id = p.unit_id \
         WHERE p.campaign_id = $1 \
         ORDER BY p.lead DESC, array_position(ARRAY['government_department', 'mass_organization', \
           'media', 'association', 'school', 'community_education', 'training_institution', \
           'street_office', 'enterprise'], u.kind) NULLS LAST, u.name",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)
    .await?;
    for row in rows {
        if row.lead {
            names.lead = Some(row.name.clone());
        }
        match row.role.as_str() {
            "co_host" => names.co_hosts.push(row.name),
            "undertaker" => names.undertakers.push(row.name),
            _ => names.members.push(row.name),
        }
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct BodyRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: BodyKind,
    #[diesel(sql_type = BigInt)]
    members: i64,
}

#[derive(diesel::QueryableByName)]
struct PersonRow {
    #[diesel(sql_type = SqlUuid)]
    body_id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    position: Option<String>,
    #[diesel(sql_type = Text)]
    committee_role: CommitteeRole,
}

/// The committee's bodies, the leading group first; members by name in the full edition only.
async fn bodies(conn: &mut AsyncPgConnection, id: Uuid, full: bool) -> AppResult<Vec<Body>> {
    let rows: Vec<BodyRow> = diesel::sql_query(
        "SELECT b.id, b.name, b.kind, count(m.id) AS members \
         FROM committee_bodies b LEFT JOIN committee_members m ON m.body_id = b.id \
         WHERE b.campaign_id = $1 GROUP BY b.id \
         ORDER BY array_position(ARRAY['leading_group', 'office', 'liaison_group'], b.kind) \
           NULLS LAST, b.name",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)
    .await?;
    let people: Vec<PersonRow> = if full {
        diesel::sql_query(
            "SELECT body_id, name, position, committee_role FROM committee_members \
             WHERE campaign_id = $1 \
             ORDER BY array_position(ARRAY['chair', 'vice_chair', 'director', 'member', \
               'liaison'], committee_role), name",
        )
        .bind::<SqlUuid, _>(id)
        .load(conn)
        .await?
    } else {
        Vec::new()
    };
    Ok(rows
        .into_iter()
        .map(|b| Body {
            people: people
                .iter()
                .filter(|p| p.body_id == b.id)
                .map(|p| Person {
                    name: p.name.clone(),
                    position: p.position.clone(),
                    role: p.committee_role,
                })
                .collect(),
            name: b.name,
            kind: b.kind,
            members: b.members,
        })
        .collect())
}

async fn events(conn: &mut AsyncPgConnection, id: Uuid, full: bool) -> AppResult<Vec<EventItem>> {
    Ok(diesel::sql_query(
        "SELECT e.title, e.kind, e.highlight, e.status = 'cancelled' AS cancelled, \
           (e.starts_at AT TIME ZONE c.timezone)::date AS day, coalesce(u.short_name, u.name) AS host \
         FROM events e JOIN campaigns c ON c.id = e.campaign_id JOIN units u ON u.id = e.host_unit_id \
         WHERE e.campaign_id = $1 AND e.status <> 'draft' AND ($2 OR e.visibility = 'public') \
         ORDER BY e.highlight DESC, e.starts_at, e.title",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Bool, _>(full)
    .load(conn)
    .await?)
}

#[derive(diesel::QueryableByName)]
struct DayRow {
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Events per day, every event that counts in the summary (a count names nothing).
async fn days(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Vec<(NaiveDate, i64)>> {
    let rows: Vec<DayRow> = diesel::sql_query(
        "SELECT (e.starts_at AT TIME ZONE c.timezone)::date AS day, count(*) AS n \
         FROM events e JOIN campaigns c ON c.id = e.campaign_id \
         WHERE e.campaign_id = $1 AND e.status <> 'draft' GROUP BY 1 ORDER BY 1",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.day, r.n)).collect())
}

async fn trainings(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    full: bool,
) -> AppResult<Vec<TrainingItem>> {
    // The counts as bigint, as the report adds them up.
    Ok(diesel::sql_query(
        "SELECT t.title, t.subject, coalesce(u.short_name, u.name) AS provider, \
           t.enrolled::int8 AS enrolled, t.completed::int8 AS completed, \
           t.employed_after::int8 AS employed_after \
         FROM trainings t JOIN units u ON u.id = t.provider_unit_id \
         WHERE t.campaign_id = $1 AND t.status <> 'draft' AND ($2 OR t.visibility = 'public') \
         ORDER BY t.starts_at, t.title",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Bool, _>(full)
    .load(conn)
    .await?)
}

async fn media(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Vec<MediaItem>> {
    Ok(diesel::sql_query(
        "SELECT m.medium, m.title, coalesce(u.short_name, u.name, m.outlet_name) AS outlet, \
           (m.published_at AT TIME ZONE c.timezone)::date AS day \
         FROM media_reports m JOIN campaigns c ON c.id = m.campaign_id \
           LEFT JOIN units u ON u.id = m.outlet_unit_id \
         WHERE m.campaign_id = $1 ORDER BY m.published_at, m.title",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)
    .await?)
}
