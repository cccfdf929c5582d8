//! What goes with an event or a training when it is deleted: its tallies are deleted, the
//! trainings and media reports that refer to it are detached, and each of those changes is
//! journaled (the foreign keys would do the same, silently).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::future::BoxFuture;
use uuid::Uuid;

use crate::api::media_reports::model::MediaReport;
use crate::api::shared::DependentRows;
use crate::api::tallies::model::{self as tallies, Tally};
use crate::api::trainings::model::Training;
use crate::error::AppResult;
use crate::journal::Entry;
use crate::schema::{media_reports, tallies as tally_rows, trainings};

/// The rows of `$table` (read as `$row`) whose `$column` is `$id`, locked until the deletion
/// commits.
macro_rules! referring {
    ($conn:ident, $row:ty, $table:ident::$column:ident = $id:expr) => {
        $table::table
            .filter($table::$column.eq($id))
            .select(<$row>::as_select())
            .for_update()
            .load::<$row>($conn)
            .await?
    };
}

/// Clears a row's `event_id` (the event is being deleted): its journal entry.
macro_rules! detach_from_event {
    ($conn:ident, $row:ty, $table:ident, $before:expr) => {{
        let before = $before;
        let after: $row = diesel::update($table::table.find(before.id))
            .set((
                $table::event_id.eq(None::<Uuid>),
                $table::updated_at.eq(diesel::dsl::now),
            ))
            .returning(<$row>::as_returning())
            .get_result($conn)
            .await?;
        Entry::update_of(&before, &after)?
    }};
}

/// What refers to an event (or a training): deleted or detached with it.
pub struct Dependents {
    tallies: Vec<Tally>,
    trainings: Vec<Training>,
    media_reports: Vec<MediaReport>,
}

impl Dependents {
    pub async fn of_event(conn: &mut AsyncPgConnection, event_id: Uuid) -> AppResult<Self> {
        Ok(Dependents {
            tallies: referring!(conn, Tally, tally_rows::event_id = event_id),
            trainings: referring!(conn, Training, trainings::event_id = event_id),
            media_reports: referring!(conn, MediaReport, media_reports::event_id = event_id),
        })
    }

    pub async fn of_training(conn: &mut AsyncPgConnection, training_id: Uuid) -> AppResult<Self> {
        Ok(Dependents {
            tallies: referring!(conn, Tally, tally_rows::training_id = training_id),
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
                entries.push(Entry::delete_of(tally)?);
            }
            let ids: Vec<Uuid> = self.tallies.iter().map(|t| t.id).collect();
            tallies::delete_many(conn, &ids).await?;
            for training in self.trainings {
                entries.push(detach_from_event!(conn, Training, trainings, training));
            }
            for report in self.media_reports {
                entries.push(detach_from_event!(conn, MediaReport, media_reports, report));
            }
            Ok(entries)
        })
    }
}
