//! `/events`: what happens during the week — ceremonies, community days, lectures,
//! exhibitions, competitions, open venues. Owned by the host unit.

pub mod model;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::crud::prelude::*;
use crate::api::crud::{ListRequest, Listed};
use crate::api::shared::{Status, Visibility};
use crate::http::Cursor;
use crate::schema::events;

pub use model::*;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    pub campaign_id: Option<Uuid>,
    pub kind: Option<EventKind>,
    pub status: Option<Status>,
    pub visibility: Option<Visibility>,
    /// Events this unit hosts or co-organizes.
    pub unit_id: Option<Uuid>,
    /// One of the campaign's areas, e.g. 潘州街道.
    pub area: Option<String>,
    /// Events that end at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Events that start before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Only events changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    /// Substring of the title (Chinese included).
    pub q: Option<String>,
}

impl Listed for Event {
    type Filter = EventFilter;

    fn cursor(&self) -> Cursor {
        Cursor::by_time(self.starts_at, self.id)
    }

    async fn page(request: ListRequest<'_>, filter: &EventFilter) -> AppResult<Vec<Self>> {
        let mut query = crate::calendar_page!(request, filter, events, Event);
        crate::filter_by!(query,
            filter.kind => events::kind,
            filter.area.clone() => events::area,
        );
        if let Some(unit) = filter.unit_id {
            query = query.filter(
                events::host_unit_id
                    .eq(unit)
                    .or(events::co_organizer_unit_ids.contains(vec![unit])),
            );
        }
        Ok(query.load(&mut request.state.conn().await?).await?)
    }
}

crate::resource_handlers! {
    #[resource(Event, tag = "events", key id: Uuid = (("id" = Uuid, Path)))]

    #[list("listEvents", "/events", public, EventFilter, "A page of events")]
    /// List events, in order of start time.
    ///
    /// Roles: anyone. Anonymous callers see published, cancelled and completed public events only;
    /// any valid token sees drafts and internal events too.
    fn list;

    #[create("createEvent", "/events", EventInput, "Created: the new event")]
    /// Create an event.
    ///
    /// Roles: admin; editor of the host unit.
    fn create;

    #[show("getEvent", "/events/{id}", public, "The event")]
    /// Get an event.
    ///
    /// Roles: anyone; drafts and internal events only with a token (404 otherwise).
    fn show;

    #[update("updateEvent", "/events/{id}", EventInput, "RFC 7396 merge patch of an EventInput",
        json!({"status": "published"}), "The changed event")]
    /// Change an event (JSON merge patch). `campaign_id` cannot change.
    ///
    /// Roles: admin; editor of the host unit (and it cannot hand the event to another unit).
    fn update;

    #[delete("deleteEvent", "/events/{id}", "Deleted")]
    /// Delete an event. Its tallies are deleted with it; trainings and media reports that refer to
    /// it are detached (their `event_id` becomes null). The event leaves the calendar feed and
    /// shows in the Atom feed as deleted for 30 days.
    ///
    /// Roles: admin; editor of the host unit, when every tally, training and media report it
    /// touches belongs to that unit too.
    fn remove;
}
