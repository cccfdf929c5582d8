//! `/trainings`: free training sessions and courses, with their outcome counts. Owned by the
//! provider unit; a reporter of that unit may update the outcome counts only.

pub mod model;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::cascade::Dependents;
use crate::api::crud::prelude::*;
use crate::api::crud::{ListRequest, Listed};
use crate::api::shared::{Status, Visibility};
use crate::http::Cursor;
use crate::schema::trainings;

pub use model::*;

// Its tallies go with a training, its media reports are detached (see `api/cascade.rs`).
crate::removable_by_id!(Training, trainings, with Dependents::of_training);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrainingFilter {
    pub campaign_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub subject: Option<TrainingSubject>,
    pub status: Option<Status>,
    pub visibility: Option<Visibility>,
    /// The provider unit.
    pub unit_id: Option<Uuid>,
    /// Sessions that end at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Sessions that start before this time.
    pub to: Option<DateTime<Utc>>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Substring of the title (Chinese included).
    pub q: Option<String>,
}

impl Listed for Training {
    type Filter = TrainingFilter;

    fn cursor(&self) -> Cursor {
        Cursor::by_time(self.starts_at, self.id)
    }

    async fn page(request: ListRequest<'_>, filter: &TrainingFilter) -> AppResult<Vec<Self>> {
        let mut query = crate::calendar_page!(request, filter, trainings, Training);
        crate::filter_by!(query,
            filter.event_id => trainings::event_id,
            filter.subject => trainings::subject,
            filter.unit_id => trainings::provider_unit_id,
        );
        Ok(query.load(&mut request.state.conn().await?).await?)
    }
}

crate::resource_handlers! {
    #[resource(Training, tag = "trainings", key id: Uuid = (("id" = Uuid, Path)))]

    #[list("listTrainings", "/trainings", public, TrainingFilter, "A page of trainings")]
    /// List trainings, in order of start time.
    ///
    /// Roles: anyone. Anonymous callers see non-draft public trainings only.
    fn list;

    #[create("createTraining", "/trainings", TrainingInput, "Created: the new training")]
    /// Create a training.
    ///
    /// Roles: admin; editor of the provider unit.
    fn create;

    #[show("getTraining", "/trainings/{id}", public, "The training")]
    /// Get a training.
    ///
    /// Roles: anyone; drafts and internal trainings only with a token (404 otherwise).
    fn show;

    #[update("updateTraining", "/trainings/{id}", TrainingInput, "RFC 7396 merge patch of a TrainingInput",
        json!({"enrolled": 92, "completed": 86, "employed_after": 52}), "The changed training")]
    /// Change a training (JSON merge patch). `campaign_id` cannot change.
    ///
    /// Roles: admin; editor of the provider unit; reporter of the provider unit when the patch
    /// touches only `enrolled`, `completed` and `employed_after`.
    fn update;

    #[delete("deleteTraining", "/trainings/{id}", "Deleted")]
    /// Delete a training and its tallies.
    ///
    /// Roles: admin; editor of the provider unit, when its tallies all belong to that unit too.
    fn remove;
}
