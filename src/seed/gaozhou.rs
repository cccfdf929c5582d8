//! `learnweek seed gaozhou-2014`: the 2014 Gaozhou activity week, from `seed/gaozhou-2014.json`
//! (readable data, not code; invented details are marked there). Rows go in through the same
//! validating insert functions the API uses, as the `system:seed` actor, in one transaction.
//! Loading is idempotent: the campaign is found by slug, units by name, everything else by a
//! deterministic id, and tallies are upserts.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use uuid::Uuid;

use super::seed_id;
use crate::api::campaigns::{self, CampaignInput};
use crate::api::committee::{self, BodyInput, BodyKind, CommitteeRole, MemberInput};
use crate::api::events::{self, EventInput, EventKind};
use crate::api::media_reports::{self, MediaReportInput, Medium};
use crate::api::partners::{self, PartnerInput, PartnerRole};
use crate::api::shared::{Status, Venue, Visibility};
use crate::api::tallies::{self, Category, Measure, Source, TallyInput};
use crate::api::trainings::{self, TrainingInput, TrainingSubject};
use crate::api::units::{self, UnitInput, UnitKind};
use crate::auth::Authorized;
use crate::error::{AppError, AppResult};
use crate::http::IfMatch;
use crate::schema;
use crate::state::AppState;

pub const SLUG: &str = "gaozhou-2014";
const DATA: &str = include_str!("../../seed/gaozhou-2014.json");
const SEED_LOCK_KEY: i64 = 0x6c65_6172_6e77_6b03;

#[derive(Deserialize)]
struct SeedFile {
    campaign: CampaignInput,
    units: Vec<SeedUnit>,
    partners: Vec<SeedPartner>,
    committee: Vec<SeedBody>,
    events: Vec<SeedEvent>,
    trainings: Vec<SeedTraining>,
    tallies: Vec<SeedTally>,
    media_reports: Vec<SeedMediaReport>,
}

#[derive(Deserialize)]
struct SeedUnit {
    key: String,
    name: String,
    short_name: Option<String>,
    kind: UnitKind,
}

#[derive(Deserialize)]
struct SeedPartner {
    unit: String,
    role: PartnerRole,
    lead: bool,
}

#[derive(Deserialize)]
struct SeedBody {
    key: String,
    name: String,
    kind: BodyKind,
    unit: Option<String>,
    parent: Option<String>,
    members: Vec<SeedMember>,
}

#[derive(Deserialize)]
struct SeedMember {
    key: String,
    name: String,
    position: Option<String>,
    committee_role: CommitteeRole,
    unit: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
struct SeedEvent {
    key: String,
    title: String,
    kind: EventKind,
    summary: Option<String>,
    description: Option<String>,
    venue: Option<Venue>,
    area: Option<String>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    host: String,
    co_organizers: Vec<String>,
    audience: Option<String>,
    status: Status,
    visibility: Visibility,
    expected_participants: Option<i32>,
    tags: Vec<String>,
    #[serde(default)]
    highlight: bool,
}

#[derive(Deserialize)]
struct SeedTraining {
    key: String,
    event: Option<String>,
    title: String,
    subject: TrainingSubject,
    provider: String,
    target_groups: Vec<Category>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    venue: Option<Venue>,
    capacity: Option<i32>,
    fee_cents: i32,
    enrolled: i32,
    completed: i32,
    employed_after: i32,
    status: Status,
    visibility: Visibility,
}

#[derive(Deserialize)]
struct SeedTally {
    event: Option<String>,
    training: Option<String>,
    category: Category,
    measure: Measure,
    count: i32,
    tally_date: NaiveDate,
    reporter: String,
    note: Option<String>,
}

#[derive(Deserialize)]
struct SeedMediaReport {
    key: String,
    event: Option<String>,
    outlet: Option<String>,
    outlet_name: Option<String>,
    medium: Medium,
    title: String,
    url: Option<String>,
    published_at: DateTime<Utc>,
    reporter: String,
}

/// The deterministic id of a seeded event (used by the sample CSV in `examples/`).
pub fn event_id(key: &str) -> Uuid {
    seed_id("gaozhou-2014/event", key)
}

/// Loads the demo week; returns a one-line account of what was added.
pub async fn load(state: &AppState) -> AppResult<String> {
    let file: SeedFile = serde_json::from_str(DATA).map_err(AppError::internal)?;
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(SEED_LOCK_KEY)
            .execute(conn)
            .await?;
        Loader {
            auth: Authorized::system("seed"),
            units: HashMap::new(),
            added: 0,
        }
        .load(conn, file)
        .await
    })
    .await
}

struct Loader {
    auth: Authorized,
    units: HashMap<String, Uuid>,
    added: usize,
}

/// Whether a row with this id is already there.
macro_rules! exists {
    ($conn:expr, $table:path, $id:expr) => {{
        use $table as table;
        diesel::select(diesel::dsl::exists(table::table.find($id)))
            .get_result::<bool>($conn)
            .await?
    }};
}

impl Loader {
    fn unit(&self, key: &str) -> AppResult<Uuid> {
        self.units
            .get(key)
            .copied()
            .ok_or_else(|| AppError::internal(format!("seed data names unknown unit `{key}`")))
    }

    fn units(&self, keys: &[String]) -> AppResult<Vec<Uuid>> {
        keys.iter().map(|k| self.unit(k)).collect()
    }

    async fn load(mut self, conn: &mut AsyncPgConnection, file: SeedFile) -> AppResult<String> {
        let areas = file.campaign.areas.clone();
        let campaign = match campaigns::find(conn, SLUG).await {
            Ok(c) => c,
            Err(e) if e.status().as_u16() == 404 => {
                self.added += 1;
                campaigns::insert(conn, &self.auth, seed_id("campaign", SLUG), file.campaign)
                    .await?
            }
            Err(e) => return Err(e),
        };
        let cid = campaign.id;
        let id = |kind: &str, key: &str| seed_id(&format!("{SLUG}/{kind}"), key);

        for unit in file.units {
            let existing: Option<Uuid> = schema::units::table
                .filter(schema::units::name.eq(&unit.name))
                .select(schema::units::id)
                .first(conn)
                .await
                .optional()?;
            let unit_id = match existing {
                Some(id) => id,
                None => {
                    self.added += 1;
                    let input = UnitInput {
                        name: unit.name,
                        short_name: unit.short_name,
                        kind: unit.kind,
                    };
                    units::insert(conn, &self.auth, seed_id("unit", &unit.key), input)
                        .await?
                        .id
                }
            };
            self.units.insert(unit.key, unit_id);
        }

        for p in &file.partners {
            let input = PartnerInput {
                role: p.role,
                lead: p.lead,
            };
            let (_, is_new) = partners::set(
                conn,
                &self.auth,
                cid,
                self.unit(&p.unit)?,
                input,
                &IfMatch::default(),
            )
            .await?;
            self.added += usize::from(is_new);
        }

        let mut bodies: HashMap<String, Uuid> = HashMap::new();
        for body in file.committee {
            let body_id = id("committee_body", &body.key);
            if !exists!(conn, schema::committee_bodies, body_id) {
                let parent_id = match &body.parent {
                    Some(key) => Some(
                        *bodies
                            .get(key)
                            .ok_or_else(|| AppError::internal("seed: parent body after child"))?,
                    ),
                    None => None,
                };
                let input = BodyInput {
                    name: body.name,
                    kind: body.kind,
                    unit_id: body.unit.as_deref().map(|k| self.unit(k)).transpose()?,
                    parent_id,
                };
                committee::insert_body(conn, &self.auth, cid, body_id, input).await?;
                self.added += 1;
            }
            bodies.insert(body.key.clone(), body_id);
            for m in body.members {
                let member_id = id("committee_member", &format!("{}/{}", body.key, m.key));
                if exists!(conn, schema::committee_members, member_id) {
                    continue;
                }
                let input = MemberInput {
                    body_id,
                    name: m.name,
                    position: m.position,
                    committee_role: m.committee_role,
                    unit_id: m.unit.as_deref().map(|k| self.unit(k)).transpose()?,
                    phone: m.phone,
                    email: m.email,
                };
                committee::insert_member(conn, &self.auth, cid, member_id, input).await?;
                self.added += 1;
            }
        }

        for e in file.events {
            let event_id = event_id(&e.key);
            if exists!(conn, schema::events, event_id) {
                continue;
            }
            let input = EventInput {
                campaign_id: cid,
                title: e.title,
                kind: e.kind,
                summary: e.summary,
                description: e.description,
                venue: e.venue,
                area: e.area,
                starts_at: e.starts_at,
                ends_at: e.ends_at,
                host_unit_id: self.unit(&e.host)?,
                co_organizer_unit_ids: self.units(&e.co_organizers)?,
                audience: e.audience,
                status: e.status,
                visibility: e.visibility,
                expected_participants: e.expected_participants,
                tags: e.tags,
                highlight: e.highlight,
            };
            events::insert(conn, &self.auth, event_id, input).await?;
            self.added += 1;
        }

        for t in file.trainings {
            let training_id = id("training", &t.key);
            if exists!(conn, schema::trainings, training_id) {
                continue;
            }
            let input = TrainingInput {
                campaign_id: cid,
                event_id: t.event.as_deref().map(event_id),
                title: t.title,
                subject: t.subject,
                provider_unit_id: self.unit(&t.provider)?,
                target_groups: t.target_groups,
                starts_at: t.starts_at,
                ends_at: t.ends_at,
                venue: t.venue,
                capacity: t.capacity,
                fee_cents: t.fee_cents,
                enrolled: t.enrolled,
                completed: t.completed,
                employed_after: t.employed_after,
                status: t.status,
                visibility: t.visibility,
            };
            trainings::insert(conn, &self.auth, training_id, input).await?;
            self.added += 1;
        }

        let mut rows = Vec::with_capacity(file.tallies.len());
        for (i, t) in file.tallies.into_iter().enumerate() {
            rows.push(tallies::TallyDraft::from_input(
                format!("tallies[{i}]"),
                TallyInput {
                    campaign_id: Some(cid),
                    event_id: t.event.as_deref().map(event_id),
                    training_id: t.training.as_deref().map(|k| id("training", k)),
                    category: t.category,
                    measure: t.measure,
                    count: t.count,
                    tally_date: t.tally_date,
                    reporting_unit_id: Some(self.unit(&t.reporter)?),
                    source: Some(Source::Import),
                    note: t.note,
                },
            ));
        }
        let valid = tallies::prepare(conn, self.auth.actor(), rows, Source::Import).await?;
        let outcomes = tallies::upsert(conn, &self.auth, valid).await?;
        self.added += outcomes
            .iter()
            .filter(|(_, o)| *o != tallies::Outcome::Unchanged)
            .count();

        for m in file.media_reports {
            let report_id = id("media_report", &m.key);
            if exists!(conn, schema::media_reports, report_id) {
                continue;
            }
            let input = MediaReportInput {
                campaign_id: cid,
                event_id: m.event.as_deref().map(event_id),
                outlet_unit_id: m.outlet.as_deref().map(|k| self.unit(k)).transpose()?,
                outlet_name: m.outlet_name,
                reporting_unit_id: Some(self.unit(&m.reporter)?),
                medium: m.medium,
                title: m.title,
                url: m.url,
                published_at: m.published_at,
            };
            media_reports::insert(conn, &self.auth, report_id, input).await?;
            self.added += 1;
        }

        // The invented earlier editions and neighbouring counties, with Gaozhou's units (the
        // lead first).
        let mut partner_units = Vec::new();
        for p in &file.partners {
            partner_units.push((self.unit(&p.unit)?, p.role, p.lead));
        }
        partner_units.sort_by_key(|(_, _, lead)| !*lead);
        let partner_units: Vec<(Uuid, PartnerRole)> =
            partner_units.into_iter().map(|(u, r, _)| (u, r)).collect();
        self.added += super::editions::load(conn, &self.auth, &partner_units, &areas).await?;

        Ok(format!(
            "demo campaign {SLUG} ({cid}) loaded: {} rows added{}",
            self.added,
            if self.added == 0 {
                " (it was already there)"
            } else {
                ""
            }
        ))
    }
}
