//! Tallies as rows and inputs, and the queries other resources use (an event's or a
//! training's tallies); the handlers are in `mod.rs`, bulk ingestion in `upsert.rs`.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::crud::{Lock, Resource};
use crate::api::shared::Removable;
use crate::auth::Subject;
use crate::error::AppResult;
use crate::journal::{Entity, Entry, Journaled, RowKey};
use crate::schema::{tallies, tally_history};

pub use crate::vocabulary::{Category, Measure, Source};

/// Rows per batch.
pub const MAX_BATCH: usize = 5000;

/// JSON body limit of `POST /tallies/batch` (API.md: 8 MiB).
pub const BATCH_BODY_LIMIT: usize = 8 << 20;

/// A tally as sent by clients.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TallyInput {
    /// Optional: taken from the event or training (422 if it disagrees).
    pub campaign_id: Option<Uuid>,
    /// Exactly one of `event_id` and `training_id`.
    pub event_id: Option<Uuid>,
    pub training_id: Option<Uuid>,
    pub category: Category,
    pub measure: Measure,
    #[schema(minimum = 0, example = 320)]
    pub count: i32,
    #[schema(example = "2014-10-19")]
    pub tally_date: NaiveDate,
    /// Defaults to the caller's unit (required for admin tokens).
    pub reporting_unit_id: Option<Uuid>,
    /// Defaults to `manual` (`script` in batches, `import` for CSV).
    pub source: Option<Source>,
    #[schema(example = "开幕式现场签到统计", max_length = 500)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable, Serialize, ToSchema)]
#[diesel(table_name = tallies)]
pub struct Tally {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub event_id: Option<Uuid>,
    pub training_id: Option<Uuid>,
    pub category: Category,
    pub measure: Measure,
    pub count: i32,
    pub tally_date: NaiveDate,
    pub reporting_unit_id: Uuid,
    pub source: Source,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Tally> for TallyInput {
    fn from(t: &Tally) -> Self {
        TallyInput {
            campaign_id: Some(t.campaign_id),
            event_id: t.event_id,
            training_id: t.training_id,
            category: t.category,
            measure: t.measure,
            count: t.count,
            tally_date: t.tally_date,
            reporting_unit_id: Some(t.reporting_unit_id),
            source: Some(t.source),
            note: t.note.clone(),
        }
    }
}

impl Journaled for Tally {
    const ENTITY: Entity = Entity::Tally;

    fn row_key(&self) -> RowKey {
        RowKey::new(
            self.id,
            Some(self.campaign_id),
            Some(self.reporting_unit_id),
        )
    }
}

crate::stored_by_id!(Tally, tallies);

/// What names a tally besides its id: (event or training, category, measure, date, reporting
/// unit).
pub(super) type NaturalKey = (Uuid, Category, Measure, NaiveDate, Uuid);

impl Tally {
    /// The tally with this natural key, if any (locked for the rest of the transaction when
    /// `lock` says so).
    pub(super) async fn find_by_key(
        conn: &mut AsyncPgConnection,
        key: &NaturalKey,
        lock: Lock,
    ) -> AppResult<Option<Tally>> {
        let (subject, category, measure, date, unit) = *key;
        let query = tallies::table
            .filter(tallies::subject_id.eq(subject))
            .filter(tallies::category.eq(category))
            .filter(tallies::measure.eq(measure))
            .filter(tallies::tally_date.eq(date))
            .filter(tallies::reporting_unit_id.eq(unit))
            .select(Tally::as_select());
        Ok(crate::first_row!(optional query, conn, lock))
    }
}

impl Resource for Tally {
    const SUBJECT: Subject = Subject::Tally;

    fn location(&self) -> String {
        format!("/api/v1/tallies/{}", self.id)
    }
}

impl Removable for Tally {
    /// Its history goes with it (not journaled: it is part of the tally).
    async fn delete(conn: &mut AsyncPgConnection, tally: &Tally) -> AppResult<Vec<Entry>> {
        delete_many(conn, &[tally.id]).await?;
        Ok(Vec::new())
    }
}

pub async fn delete_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> AppResult<()> {
    if !ids.is_empty() {
        diesel::delete(tallies::table.filter(tallies::id.eq_any(ids)))
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub(crate) async fn record_history(
    conn: &mut AsyncPgConnection,
    changes: &[(Uuid, i32)],
    changed_by: &str,
) -> AppResult<()> {
    use diesel::sql_types::{Array, Int4, Text, Uuid as SqlUuid};
    if changes.is_empty() {
        return Ok(());
    }
    let (ids, counts): (Vec<Uuid>, Vec<i32>) = changes.iter().copied().unzip();
    diesel::sql_query(
        "INSERT INTO tally_history (tally_id, count, changed_by) \
         SELECT t.id, t.count, $3 FROM unnest($1::uuid[], $2::int4[]) AS t(id, count)",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<Int4>, _>(counts)
    .bind::<Text, _>(changed_by)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = tally_history)]
pub struct HistoryEntry {
    #[serde(skip)]
    pub id: i64,
    pub count: i32,
    pub changed_at: DateTime<Utc>,
    /// `token:<name>`, `account:<username>` or `system:<task>`.
    pub changed_by: String,
}

/// Plausible calendar dates only.
pub(super) fn plausible_date(d: NaiveDate) -> bool {
    (1990..=2100).contains(&d.year())
}
