//! What goes with an event or a training when it is deleted: its tallies are deleted, the
//! trainings and media reports that refer to it are detached, and each of those changes is
//! journaled (the foreign keys would do the same, silently).

use diesel_async::AsyncPgConnection;
use futures_util::future::BoxFuture;
use uuid::Uuid;

use crate::api::media_reports::model as media_reports;
use crate::api::shared::DependentRows;
use crate::api::tallies::model as tallies;
use crate::api::trainings::model as trainings;
use crate::error::AppResult;
use crate::journal::Entry;

/// What refers to an event (or a training): deleted or detached with it.
pub struct Dependents {
    tallies: Vec<tallies::Tally>,
    trainings: Vec<trainings::Training>,
    media_reports: Vec<media_reports::MediaReport>,
}

impl Dependents {
    pub async fn of_event(conn: &mut AsyncPgConnection, event_id: Uuid) -> AppResult<Self> {
        Ok(Dependents {
            tallies: tallies::of_event(conn, event_id).await?,
            trainings: trainings::of_event(conn, event_id).await?,
            media_reports: media_reports::of_event(conn, event_id).await?,
        })
    }

    pub async fn of_training(conn: &mut AsyncPgConnection, training_id: Uuid) -> AppResult<Self> {
        Ok(Dependents {
            tallies: tallies::of_training(conn, training_id).await?,
            trainings: Vec::new(),
            media_reports: Vec::new(),
        })
    }
}

impl DependentRows for Dependents {
    fn owners(&self) -> Vec<Option<Uuid>> {
        let mut owners: Vec<Option<Uuid>> = Vec::new();
        owners.extend(self.tallies.iter().map(|t| Some(t.reporting_unit_id)));
        owners.extend(self.trainings.iter().map(|t| Some(t.provider_unit_id)));
        owners.extend(self.media_reports.iter().map(|m| m.owner_unit_id()));
        owners
    }

    /// Deletes the tallies and detaches the rest (the foreign keys do the same; this records
    /// each change in the journal).
    fn detach_and_delete<'a>(
        self: Box<Self>,
        conn: &'a mut AsyncPgConnection,
    ) -> BoxFuture<'a, AppResult<Vec<Entry>>> {
        Box::pin(async move {
            let mut entries = Vec::new();
            for tally in &self.tallies {
                entries.push(tallies::deleted_entry(tally)?);
            }
            let ids: Vec<Uuid> = self.tallies.iter().map(|t| t.id).collect();
            tallies::delete_many(conn, &ids).await?;
            for training in self.trainings {
                entries.push(trainings::detach_event(conn, training).await?);
            }
            for report in self.media_reports {
                entries.push(media_reports::detach_event(conn, report).await?);
            }
            Ok(entries)
        })
    }
}
