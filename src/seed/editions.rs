//! The invented editions that come with the demo (`seed/maoming-editions.json`): Gaozhou's
//! weeks of 2009-2013 and other Maoming counties' weeks of 2014, so `/trends` and
//! `/regions/{code}/summary` have something to show. The file gives each edition's figures;
//! the rows behind them are generated here, through the same validating inserts the API uses,
//! with deterministic ids. An edition whose campaign exists is left as it is.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use uuid::Uuid;

use super::seed_id;
use crate::api::campaigns::{self, CampaignInput, CampaignStatus};
use crate::api::events::{self, EventInput, EventKind};
use crate::api::media_reports::{self, MediaReportInput, Medium};
use crate::api::partners::{self, PartnerInput, PartnerRole};
use crate::api::shared::{Status, Visibility};
use crate::api::tallies::{self, Category, Measure, Source, TallyDraft, TallyInput};
use crate::api::trainings::{self, TrainingInput, TrainingSubject};
use crate::api::units::{self, UnitInput, UnitKind};
use crate::auth::Authorized;
use crate::error::{AppError, AppResult};
use crate::http::IfMatch;
use crate::schema;

const DATA: &str = include_str!("../../seed/maoming-editions.json");

#[derive(Deserialize)]
struct EditionsFile {
    editions: Vec<Edition>,
}

#[derive(Deserialize)]
struct Edition {
    slug: String,
    place: String,
    region: String,
    region_code: String,
    year: i32,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    theme: String,
    notice_ref: String,
    partners: Roles,
    events: usize,
    event_headcount: i32,
    trainings: TrainingFigures,
    media_reports: usize,
    areas: usize,
    reached: usize,
}

#[derive(Deserialize)]
struct Roles {
    co_host: usize,
    undertaker: usize,
    member: usize,
}

#[derive(Deserialize)]
struct TrainingFigures {
    sessions: usize,
    enrolled: i32,
    completed: i32,
    employed_after: i32,
    person_times: i32,
}

/// The co-hosting departments of a county's week, as the Gaozhou report lists them.
const DEPARTMENTS: [&str; 9] = [
    "教育局",
    "人力资源和社会保障局",
    "文化局",
    "体育局",
    "总工会",
    "团委",
    "妇联",
    "电视台",
    "教育学会",
];

const KINDS: [EventKind; 8] = [
    EventKind::Lecture,
    EventKind::CommunityActivity,
    EventKind::Exhibition,
    EventKind::Competition,
    EventKind::Performance,
    EventKind::ReadingPromotion,
    EventKind::OpenVenue,
    EventKind::Publicity,
];

const CATEGORIES: [Category; 6] = [
    Category::Student,
    Category::Homemaker,
    Category::Retiree,
    Category::MigrantWorker,
    Category::Employed,
    Category::General,
];

/// Loads every edition not there yet (inside the demo's transaction); returns rows added.
pub async fn load(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    gaozhou_units: &[(Uuid, PartnerRole)],
    gaozhou_areas: &[String],
) -> AppResult<usize> {
    let file: EditionsFile = serde_json::from_str(DATA).map_err(AppError::internal)?;
    let mut added = 0;
    for edition in file.editions {
        if campaigns::find(conn, &edition.slug).await.is_ok() {
            continue;
        }
        added += Generator {
            conn: &mut *conn,
            auth,
            e: &edition,
        }
        .run(gaozhou_units, gaozhou_areas)
        .await?;
    }
    Ok(added)
}

struct Generator<'a> {
    conn: &'a mut AsyncPgConnection,
    auth: &'a Authorized,
    e: &'a Edition,
}

impl Generator<'_> {
    fn id(&self, kind: &str, n: usize) -> Uuid {
        seed_id(&format!("{}/{kind}", self.e.slug), &n.to_string())
    }

    async fn run(
        mut self,
        gaozhou_units: &[(Uuid, PartnerRole)],
        gaozhou_areas: &[String],
    ) -> AppResult<usize> {
        let e = self.e;
        let areas: Vec<String> = if e.region_code == "440981" {
            gaozhou_areas.iter().take(e.areas).cloned().collect()
        } else {
            (1..=e.areas)
                .map(|i| format!("{}第{i}镇街（示例）", e.place))
                .collect()
        };
        let input = CampaignInput {
            slug: e.slug.clone(),
            name: format!("{}{}年全民终身学习活动周", e.place, e.year),
            theme: Some(e.theme.clone()),
            region: Some(e.region.clone()),
            region_code: Some(e.region_code.clone()),
            year: Some(e.year),
            starts_on: e.starts_on,
            ends_on: e.ends_on,
            timezone: campaigns::DEFAULT_TIMEZONE.into(),
            notice_ref: Some(e.notice_ref.clone()),
            areas: areas.clone(),
            status: CampaignStatus::Closed,
        };
        let cid = campaigns::insert(self.conn, self.auth, seed_id("campaign", &e.slug), input)
            .await?
            .id;
        let partners = self.partners(cid, gaozhou_units).await?;
        let host = partners[0];
        let events = self
            .events(cid, &partners, &areas[..e.reached.min(areas.len())])
            .await?;
        let trainings = self.trainings(cid, &partners).await?;
        self.tallies(cid, host, &events, &trainings).await?;
        self.media(cid, host, &events).await?;
        Ok(1 + partners.len() + events.len() + trainings.len() + e.media_reports)
    }

    /// The partner units, lead co-host first: Gaozhou's own (its 2014 units, in the order of
    /// the 2014 seed), or units named after the county's departments.
    async fn partners(
        &mut self,
        cid: Uuid,
        gaozhou_units: &[(Uuid, PartnerRole)],
    ) -> AppResult<Vec<Uuid>> {
        let e = self.e;
        let wanted = [
            (PartnerRole::CoHost, e.partners.co_host),
            (PartnerRole::Undertaker, e.partners.undertaker),
            (PartnerRole::Member, e.partners.member),
        ];
        let mut chosen: Vec<(Uuid, PartnerRole)> = Vec::new();
        for (role, n) in wanted {
            if e.region_code == "440981" {
                chosen.extend(gaozhou_units.iter().filter(|(_, r)| *r == role).take(n));
                continue;
            }
            for i in 0..n {
                let (name, kind) = match role {
                    PartnerRole::CoHost => (
                        format!("{}{}", e.place, DEPARTMENTS[i % DEPARTMENTS.len()]),
                        UnitKind::GovernmentDepartment,
                    ),
                    PartnerRole::Undertaker => {
                        (format!("{}职业技术学校", e.place), UnitKind::School)
                    }
                    PartnerRole::Member => (
                        format!("{}成员单位{:02}（示例）", e.place, i + 1),
                        UnitKind::TrainingInstitution,
                    ),
                };
                chosen.push((self.unit(&name, kind).await?, role));
            }
        }
        for (i, (unit, role)) in chosen.iter().enumerate() {
            let input = PartnerInput {
                role: *role,
                lead: i == 0,
            };
            partners::set(self.conn, self.auth, cid, *unit, input, &IfMatch::default()).await?;
        }
        Ok(chosen.into_iter().map(|(u, _)| u).collect())
    }

    async fn unit(&mut self, name: &str, kind: UnitKind) -> AppResult<Uuid> {
        let existing: Option<Uuid> = schema::units::table
            .filter(schema::units::name.eq(name))
            .select(schema::units::id)
            .first(self.conn)
            .await
            .optional()?;
        if let Some(id) = existing {
            return Ok(id);
        }
        let input = UnitInput {
            name: name.to_owned(),
            short_name: None,
            kind,
        };
        Ok(
            units::insert(self.conn, self.auth, seed_id("unit", name), input)
                .await?
                .id,
        )
    }

    /// On the week's days, over the first `reached` areas (so exactly those are reached).
    async fn events(
        &mut self,
        cid: Uuid,
        partners: &[Uuid],
        areas: &[String],
    ) -> AppResult<Vec<Uuid>> {
        let e = self.e;
        let mut ids = Vec::with_capacity(e.events);
        for i in 0..e.events {
            let kind = if i == 0 {
                EventKind::OpeningCeremony
            } else {
                KINDS[i % KINDS.len()]
            };
            let starts_at = self.day(i % 7, 9);
            let title = if i == 0 {
                format!("{}{}年全民终身学习活动周开幕式", e.place, e.year)
            } else {
                format!("{}{}（示例{i}）", e.place, kind_title(kind))
            };
            let input = EventInput {
                campaign_id: cid,
                title,
                kind,
                summary: None,
                description: None,
                venue: None,
                area: areas.get(i % areas.len().max(1)).cloned(),
                starts_at,
                ends_at: starts_at + Duration::hours(2),
                host_unit_id: partners[i % partners.len().min(3)],
                co_organizer_unit_ids: Vec::new(),
                audience: None,
                status: Status::Completed,
                visibility: Visibility::Public,
                expected_participants: None,
                tags: Vec::new(),
                highlight: i < 2,
            };
            let id = self.id("event", i);
            events::insert(self.conn, self.auth, id, input).await?;
            ids.push(id);
        }
        Ok(ids)
    }

    async fn trainings(&mut self, cid: Uuid, partners: &[Uuid]) -> AppResult<Vec<(Uuid, i32)>> {
        let t = &self.e.trainings;
        let subjects = [
            TrainingSubject::Computer,
            TrainingSubject::Housekeeping,
            TrainingSubject::Employment,
            TrainingSubject::English,
        ];
        let mut out = Vec::with_capacity(t.sessions);
        for i in 0..t.sessions {
            let share = |total: i32| split(total, t.sessions, i);
            let starts_at = self.day(i % 7, 14);
            let input = TrainingInput {
                campaign_id: cid,
                event_id: None,
                title: format!("免费技能培训班（示例{}）", i + 1),
                subject: subjects[i % subjects.len()],
                provider_unit_id: partners[partners.len().min(self.e.partners.co_host + 1) - 1],
                target_groups: vec![Category::Returnee, Category::Unemployed, Category::Veteran],
                starts_at,
                ends_at: starts_at + Duration::hours(3),
                venue: None,
                capacity: None,
                fee_cents: 0,
                enrolled: share(t.enrolled),
                completed: share(t.completed),
                employed_after: share(t.employed_after),
                status: Status::Completed,
                visibility: Visibility::Public,
            };
            let id = self.id("training", i);
            trainings::insert(self.conn, self.auth, id, input).await?;
            out.push((id, share(t.completed)));
        }
        Ok(out)
    }

    /// Event headcounts and training attendances adding up to the edition's figures.
    async fn tallies(
        &mut self,
        cid: Uuid,
        unit: Uuid,
        events: &[Uuid],
        trainings: &[(Uuid, i32)],
    ) -> AppResult<()> {
        let e = self.e;
        let mut drafts = Vec::new();
        let mut tally = |event: Option<Uuid>, training: Option<Uuid>, category, measure, count| {
            let input = TallyInput {
                campaign_id: Some(cid),
                event_id: event,
                training_id: training,
                category,
                measure,
                count,
                tally_date: e.starts_on,
                reporting_unit_id: Some(unit),
                source: Some(Source::Import),
                note: None,
            };
            drafts.push(TallyDraft::from_input(
                format!("tallies[{}]", drafts.len()),
                input,
            ));
        };
        for (i, event) in events.iter().enumerate() {
            let category = CATEGORIES[i % CATEGORIES.len()];
            tally(
                Some(*event),
                None,
                category,
                Measure::Headcount,
                split(e.event_headcount, events.len(), i),
            );
        }
        for (i, (training, completed)) in trainings.iter().enumerate() {
            let times = split(e.trainings.person_times, trainings.len(), i);
            tally(
                None,
                Some(*training),
                Category::Returnee,
                Measure::Headcount,
                *completed,
            );
            tally(
                None,
                Some(*training),
                Category::Returnee,
                Measure::PersonTimes,
                times,
            );
        }
        let valid = tallies::prepare(self.conn, self.auth.actor(), drafts, Source::Import).await?;
        tallies::upsert(self.conn, self.auth, valid).await?;
        Ok(())
    }

    async fn media(&mut self, cid: Uuid, unit: Uuid, events: &[Uuid]) -> AppResult<()> {
        let e = self.e;
        let media = [Medium::Tv, Medium::Newspaper, Medium::Radio, Medium::Online];
        for i in 0..e.media_reports {
            let input = MediaReportInput {
                campaign_id: cid,
                event_id: events.get(i % events.len().max(1)).copied(),
                outlet_unit_id: None,
                outlet_name: Some(format!("{}融媒体（示例）", e.place)),
                reporting_unit_id: Some(unit),
                medium: media[i % media.len()],
                title: format!(
                    "{}{}年全民终身学习活动周报道（示例{}）",
                    e.place,
                    e.year,
                    i + 1
                ),
                url: None,
                published_at: self.day(i % 7, 20),
            };
            let id = self.id("media_report", i);
            media_reports::insert(self.conn, self.auth, id, input).await?;
        }
        Ok(())
    }

    /// A time on day `n` of the week (China Standard Time, UTC+8).
    fn day(&self, n: usize, hour: u32) -> DateTime<Utc> {
        let date = self.e.starts_on + Duration::days(n as i64);
        let local = date.and_hms_opt(hour, 0, 0).unwrap_or_default();
        Utc.from_utc_datetime(&local) - Duration::hours(8)
    }
}

/// Share `i` of `total` split into `parts` near-equal whole parts (they add up to `total`).
fn split(total: i32, parts: usize, i: usize) -> i32 {
    let parts = parts.max(1) as i32;
    let i = i as i32;
    total / parts + i32::from(i < total % parts)
}

fn kind_title(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Lecture => "终身学习专题讲座",
        EventKind::CommunityActivity => "社区教育进村居活动",
        EventKind::Exhibition => "社区教育成果展示",
        EventKind::Competition => "市民学习技能竞赛",
        EventKind::Performance => "群众文艺演出",
        EventKind::ReadingPromotion => "全民阅读推广活动",
        EventKind::OpenVenue => "公共文化场馆免费开放",
        EventKind::Publicity => "活动周宣传进社区",
        _ => "学习活动",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shares_add_up() {
        for (total, parts) in [(3150, 15), (7, 3), (0, 4), (544, 8)] {
            let sum: i32 = (0..parts).map(|i| super::split(total, parts, i)).sum();
            assert_eq!(sum, total);
        }
    }
}
