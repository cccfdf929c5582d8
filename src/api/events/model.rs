//! The rows, inputs and queries of this resource (its handlers are in `mod.rs`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::cascade::Dependents;
use crate::api::crud::{NewRow, Resource};
use crate::api::shared::{
    Changes, DependentRows, Owned, Removable, Status, Venue, VenueColumns, Visibility,
    check_campaign_area, default_status, default_visibility, keep_campaign,
};
use crate::auth::Subject;
use crate::error::AppResult;
use crate::journal::{Entity, Entry, Journaled, RowKey};
use crate::schema::{event_tombstones, events};
use crate::validate::Checks;

pub use crate::vocabulary::EventKind;

/// An event as sent by clients.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Insertable, AsChangeset)]
#[diesel(table_name = events, treat_none_as_null = true)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// Cannot be changed later.
    pub campaign_id: Uuid,
    #[schema(example = "低碳生活进家庭", min_length = 1, max_length = 200)]
    pub title: String,
    pub kind: EventKind,
    #[schema(
        example = "倡导家庭低碳生活，现场发放购物竹篮，减少塑料袋使用。",
        max_length = 500
    )]
    pub summary: Option<String>,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    // Stored as `venue_name` and `venue_address` (`venue_columns`).
    #[diesel(skip_insertion, skip_update)]
    pub venue: Option<Venue>,
    /// One of the campaign's `areas` (when the campaign lists any).
    #[schema(example = "潘州街道")]
    pub area: Option<String>,
    pub starts_at: DateTime<Utc>,
    /// Not before `starts_at`.
    pub ends_at: DateTime<Utc>,
    /// The owning unit.
    pub host_unit_id: Uuid,
    #[serde(default)]
    pub co_organizer_unit_ids: Vec<Uuid>,
    /// Free text.
    #[schema(example = "社区居民、家庭妇女")]
    pub audience: Option<String>,
    #[serde(default = "default_status")]
    pub status: Status,
    #[serde(default = "default_visibility")]
    pub visibility: Visibility,
    #[schema(minimum = 0, example = 300)]
    pub expected_participants: Option<i32>,
    #[serde(default)]
    #[schema(example = json!(["低碳生活", "社区教育"]))]
    pub tags: Vec<String>,
    /// One of the week's highlights (亮点), named in the year's report (default false). No
    /// `default` in the schema: openapi-typescript would make the field required.
    #[serde(default)]
    pub highlight: bool,
}

impl EventInput {
    /// `area_changed`: whether to check `area` against the campaign's current areas (an
    /// unchanged area stays valid even if the campaign's list changed since).
    pub(super) async fn validate(
        self,
        conn: &mut AsyncPgConnection,
        area_changed: bool,
    ) -> AppResult<Self> {
        let mut c = Checks::new();
        c.time("starts_at", &self.starts_at);
        c.time("ends_at", &self.ends_at);
        c.text("title", &self.title, 200);
        c.opt_text("summary", self.summary.as_deref(), 500);
        c.opt_text("description", self.description.as_deref(), 20000);
        c.opt_text("audience", self.audience.as_deref(), 500);
        c.opt_text("area", self.area.as_deref(), 100);
        Venue::check(self.venue.as_ref(), &mut c);
        c.check(
            self.ends_at >= self.starts_at,
            "ends_at",
            "must not be before starts_at",
        );
        c.check(
            self.expected_participants.is_none_or(|n| n >= 0),
            "expected_participants",
            "must not be negative",
        );
        c.labels("tags", &self.tags, 20, 50);
        c.check(
            self.co_organizer_unit_ids.len() <= 50,
            "co_organizer_unit_ids",
            "at most 50 units",
        );
        for (i, unit) in self.co_organizer_unit_ids.iter().enumerate() {
            c.check(
                *unit != self.host_unit_id,
                &format!("co_organizer_unit_ids[{i}]"),
                "is the host unit",
            );
            c.check(
                !self.co_organizer_unit_ids[..i].contains(unit),
                &format!("co_organizer_unit_ids[{i}]"),
                "is listed twice",
            );
        }
        let area = self.area.as_deref().filter(|_| area_changed);
        check_campaign_area(conn, self.campaign_id, area, &mut c).await?;
        let mut refs = vec![("host_unit_id".to_string(), self.host_unit_id)];
        refs.extend(
            self.co_organizer_unit_ids
                .iter()
                .enumerate()
                .map(|(i, id)| (format!("co_organizer_unit_ids[{i}]"), *id)),
        );
        crate::validate::check_units_exist(conn, &refs, &mut c).await?;
        c.finish()?;
        Ok(self)
    }
}

impl Owned for EventInput {
    fn owners(&self) -> Vec<Option<Uuid>> {
        vec![Some(self.host_unit_id)]
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = events)]
pub struct Event {
    pub id: Uuid,
    pub campaign_id: Uuid,
    #[schema(example = "低碳生活进家庭")]
    pub title: String,
    pub kind: EventKind,
    pub summary: Option<String>,
    pub description: Option<String>,
    #[diesel(
        select_expression = (events::venue_name, events::venue_address),
        deserialize_as = VenueColumns
    )]
    pub venue: Option<Venue>,
    #[schema(example = "潘州街道")]
    pub area: Option<String>,
    #[serde(serialize_with = "crate::http::timestamp::serialize")]
    pub starts_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::http::timestamp::serialize")]
    pub ends_at: DateTime<Utc>,
    pub host_unit_id: Uuid,
    pub co_organizer_unit_ids: Vec<Uuid>,
    pub audience: Option<String>,
    pub status: Status,
    pub visibility: Visibility,
    pub expected_participants: Option<i32>,
    pub tags: Vec<String>,
    /// One of the week's highlights (亮点).
    pub highlight: bool,
    /// Rises with every change (the iCalendar SEQUENCE).
    pub sequence: i32,
    #[serde(serialize_with = "crate::http::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::http::timestamp::serialize")]
    pub updated_at: DateTime<Utc>,
}

impl From<&Event> for EventInput {
    fn from(e: &Event) -> Self {
        EventInput {
            campaign_id: e.campaign_id,
            title: e.title.clone(),
            kind: e.kind,
            summary: e.summary.clone(),
            description: e.description.clone(),
            venue: e.venue.clone(),
            area: e.area.clone(),
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            host_unit_id: e.host_unit_id,
            co_organizer_unit_ids: e.co_organizer_unit_ids.clone(),
            audience: e.audience.clone(),
            status: e.status,
            visibility: e.visibility,
            expected_participants: e.expected_participants,
            tags: e.tags.clone(),
            highlight: e.highlight,
        }
    }
}

impl Journaled for Event {
    const ENTITY: Entity = Entity::Event;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, Some(self.campaign_id), Some(self.host_unit_id))
    }
}

impl Event {
    /// What anonymous callers may see: no drafts, nothing internal.
    pub fn is_public(&self) -> bool {
        self.status != Status::Draft && self.visibility == Visibility::Public
    }
}

crate::stored_by_id!(Event, events);

impl Resource for Event {
    const SUBJECT: Subject = Subject::Event;

    fn location(&self) -> String {
        format!("/api/v1/events/{}", self.id)
    }

    fn is_public(&self) -> bool {
        Event::is_public(self)
    }
}

impl Removable for Event {
    async fn dependents(
        conn: &mut AsyncPgConnection,
        event: &Event,
    ) -> AppResult<Option<Box<dyn DependentRows>>> {
        Ok(Some(Box::new(Dependents::of_event(conn, event.id).await?)))
    }

    /// Leaves a tombstone (the Atom feed shows the event as deleted for 30 days).
    async fn delete(conn: &mut AsyncPgConnection, before: &Event) -> AppResult<Vec<Entry>> {
        diesel::insert_into(event_tombstones::table)
            .values((
                event_tombstones::id.eq(before.id),
                event_tombstones::campaign_id.eq(before.campaign_id),
                event_tombstones::kind.eq(before.kind),
                event_tombstones::host_unit_id.eq(before.host_unit_id),
                event_tombstones::area.eq(&before.area),
                event_tombstones::title.eq(&before.title),
                event_tombstones::was_public.eq(before.is_public()),
                event_tombstones::co_organizer_unit_ids.eq(&before.co_organizer_unit_ids),
            ))
            .on_conflict(event_tombstones::id)
            .do_nothing()
            .execute(conn)
            .await?;
        diesel::delete(events::table.find(before.id))
            .execute(conn)
            .await?;
        Ok(Vec::new())
    }
}

impl Changes<Event> for EventInput {
    async fn update(self, conn: &mut AsyncPgConnection, before: &Event) -> AppResult<Event> {
        keep_campaign(before.campaign_id, self.campaign_id)?;
        let area_changed = self.area != before.area;
        let input = self.validate(conn, area_changed).await?;
        Ok(diesel::update(events::table.find(before.id))
            .set((
                &input,
                Venue::columns(
                    input.venue.as_ref(),
                    events::venue_name,
                    events::venue_address,
                ),
                events::updated_at.eq(diesel::dsl::now),
                events::sequence.eq(events::sequence + 1),
            ))
            .returning(Event::as_returning())
            .get_result(conn)
            .await?)
    }
}

impl NewRow for EventInput {
    type Row = Event;

    async fn store(self, conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Event> {
        let input = self.validate(conn, true).await?;
        Ok(diesel::insert_into(events::table)
            .values((
                events::id.eq(id),
                &input,
                Venue::columns(
                    input.venue.as_ref(),
                    events::venue_name,
                    events::venue_address,
                ),
            ))
            .returning(Event::as_returning())
            .get_result(conn)
            .await?)
    }
}

pub use crate::api::crud::insert;
