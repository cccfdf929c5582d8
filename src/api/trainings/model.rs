//! The rows, inputs and queries of this resource (its handlers are in `mod.rs`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::crud::{NewRow, Resource};
use crate::api::shared::{
    Changes, Owned, Status, Venue, VenueColumns, Visibility, check_campaign_area,
    check_event_campaign, default_status, default_visibility, keep_campaign,
};
use crate::api::tallies::Category;
use crate::auth::Subject;
use crate::error::AppResult;
use crate::journal::{Entity, Journaled, RowKey};
use crate::schema::trainings;
use crate::validate::Checks;

pub use crate::vocabulary::TrainingSubject;

/// The fields a reporter may change.
const OUTCOME_FIELDS: &[&str] = &["enrolled", "completed", "employed_after"];

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Insertable, AsChangeset)]
#[diesel(table_name = trainings, treat_none_as_null = true)]
#[serde(deny_unknown_fields)]
pub struct TrainingInput {
    /// Cannot be changed later.
    pub campaign_id: Uuid,
    /// The event this session belongs to, if any (same campaign).
    pub event_id: Option<Uuid>,
    #[schema(
        example = "免费电脑操作与办公应用培训班",
        min_length = 1,
        max_length = 200
    )]
    pub title: String,
    pub subject: TrainingSubject,
    /// The owning unit.
    pub provider_unit_id: Uuid,
    #[serde(default)]
    #[schema(example = json!(["returnee", "unemployed", "veteran"]))]
    pub target_groups: Vec<Category>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    // Stored as `venue_name` and `venue_address` (`venue_columns`).
    #[diesel(skip_insertion, skip_update)]
    pub venue: Option<Venue>,
    #[schema(minimum = 0, example = 100)]
    pub capacity: Option<i32>,
    /// 0 means free.
    #[serde(default)]
    #[schema(minimum = 0, example = 0)]
    pub fee_cents: i32,
    /// `employed_after <= completed <= enrolled <= capacity`.
    #[serde(default)]
    #[schema(minimum = 0, example = 92)]
    pub enrolled: i32,
    #[serde(default)]
    #[schema(minimum = 0, example = 86)]
    pub completed: i32,
    #[serde(default)]
    #[schema(minimum = 0, example = 52)]
    pub employed_after: i32,
    #[serde(default = "default_status")]
    pub status: Status,
    #[serde(default = "default_visibility")]
    pub visibility: Visibility,
}

impl TrainingInput {
    pub(super) async fn validate(self, conn: &mut AsyncPgConnection) -> AppResult<Self> {
        let mut c = Checks::new();
        c.time("starts_at", &self.starts_at);
        c.time("ends_at", &self.ends_at);
        c.text("title", &self.title, 200);
        Venue::check(self.venue.as_ref(), &mut c);
        c.check(
            self.ends_at >= self.starts_at,
            "ends_at",
            "must not be before starts_at",
        );
        c.check(self.fee_cents >= 0, "fee_cents", "must not be negative");
        c.check(
            self.capacity.is_none_or(|n| n >= 0),
            "capacity",
            "must not be negative",
        );
        c.check(self.enrolled >= 0, "enrolled", "must not be negative");
        c.check(
            (0..=self.enrolled.max(0)).contains(&self.completed),
            "completed",
            "must be between 0 and enrolled",
        );
        c.check(
            (0..=self.completed.max(0)).contains(&self.employed_after),
            "employed_after",
            "must be between 0 and completed",
        );
        if let Some(capacity) = self.capacity {
            c.check(
                self.enrolled <= capacity,
                "enrolled",
                "must not exceed capacity",
            );
        }
        for (i, group) in self.target_groups.iter().enumerate() {
            c.check(
                !self.target_groups[..i].contains(group),
                &format!("target_groups[{i}]"),
                "is listed twice",
            );
        }
        check_campaign_area(conn, self.campaign_id, None, &mut c).await?;
        check_event_campaign(conn, self.event_id, self.campaign_id, &mut c).await?;
        crate::validate::check_units_exist(
            conn,
            &[("provider_unit_id".into(), self.provider_unit_id)],
            &mut c,
        )
        .await?;
        c.finish()?;
        Ok(self)
    }
}

impl Owned for TrainingInput {
    fn owners(&self) -> Vec<Option<Uuid>> {
        vec![Some(self.provider_unit_id)]
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = trainings)]
pub struct Training {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub event_id: Option<Uuid>,
    #[schema(example = "免费电脑操作与办公应用培训班")]
    pub title: String,
    pub subject: TrainingSubject,
    pub provider_unit_id: Uuid,
    pub target_groups: Vec<Category>,
    #[serde(serialize_with = "crate::http::timestamp::serialize")]
    pub starts_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::http::timestamp::serialize")]
    pub ends_at: DateTime<Utc>,
    #[diesel(
        select_expression = (trainings::venue_name, trainings::venue_address),
        deserialize_as = VenueColumns
    )]
    pub venue: Option<Venue>,
    pub capacity: Option<i32>,
    pub fee_cents: i32,
    pub enrolled: i32,
    pub completed: i32,
    pub employed_after: i32,
    pub status: Status,
    pub visibility: Visibility,
    #[serde(serialize_with = "crate::http::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::http::timestamp::serialize")]
    pub updated_at: DateTime<Utc>,
}

impl From<&Training> for TrainingInput {
    fn from(t: &Training) -> Self {
        TrainingInput {
            campaign_id: t.campaign_id,
            event_id: t.event_id,
            title: t.title.clone(),
            subject: t.subject,
            provider_unit_id: t.provider_unit_id,
            target_groups: t.target_groups.clone(),
            starts_at: t.starts_at,
            ends_at: t.ends_at,
            venue: t.venue.clone(),
            capacity: t.capacity,
            fee_cents: t.fee_cents,
            enrolled: t.enrolled,
            completed: t.completed,
            employed_after: t.employed_after,
            status: t.status,
            visibility: t.visibility,
        }
    }
}

impl Training {
    pub fn is_public(&self) -> bool {
        self.status != Status::Draft && self.visibility == Visibility::Public
    }
}

impl Journaled for Training {
    const ENTITY: Entity = Entity::Training;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, Some(self.campaign_id), Some(self.provider_unit_id))
    }
}

crate::stored_by_id!(Training, trainings);

impl Resource for Training {
    const SUBJECT: Subject = Subject::Training;

    fn location(&self) -> String {
        format!("/api/v1/trainings/{}", self.id)
    }

    fn is_public(&self) -> bool {
        Training::is_public(self)
    }

    /// A reporter may change the outcome counts alone.
    fn patch_subject(patch: &serde_json::Value) -> Subject {
        let outcome_only = patch
            .as_object()
            .is_some_and(|fields| fields.keys().all(|k| OUTCOME_FIELDS.contains(&k.as_str())));
        if outcome_only {
            Subject::TrainingOutcome
        } else {
            Subject::Training
        }
    }
}

impl Changes<Training> for TrainingInput {
    async fn update(self, conn: &mut AsyncPgConnection, before: &Training) -> AppResult<Training> {
        keep_campaign(before.campaign_id, self.campaign_id)?;
        let input = self.validate(conn).await?;
        Ok(diesel::update(trainings::table.find(before.id))
            .set((
                &input,
                Venue::columns(
                    input.venue.as_ref(),
                    trainings::venue_name,
                    trainings::venue_address,
                ),
                trainings::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Training::as_returning())
            .get_result(conn)
            .await?)
    }
}

impl NewRow for TrainingInput {
    type Row = Training;

    async fn store(self, conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Training> {
        let input = self.validate(conn).await?;
        Ok(diesel::insert_into(trainings::table)
            .values((
                trainings::id.eq(id),
                &input,
                Venue::columns(
                    input.venue.as_ref(),
                    trainings::venue_name,
                    trainings::venue_address,
                ),
            ))
            .returning(Training::as_returning())
            .get_result(conn)
            .await?)
    }
}

pub use crate::api::crud::insert;
