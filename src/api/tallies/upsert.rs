//! The upsert of many valid tallies at once (PUT, batch, CSV import): three multi-row
//! statements whatever the number of rows, and the one-at-a-time turn of bulk ingestion.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Date, Int4, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::draft::{NaturalKey, TallyDraft, ValidTally, prepare};
use super::model::{Category, Measure, Source, Tally, created_entry, record_history};
use crate::auth::{Authorized, Principal, Subject, authorize};
use crate::error::{AppError, AppResult, FieldError};
use crate::journal::{self, Entity, Entry};
use crate::schema::tallies;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

#[derive(QueryableByName)]
struct Upserted {
    #[diesel(embed)]
    tally: Tally,
    #[diesel(sql_type = Bool)]
    inserted: bool,
}

const COLUMNS: &str = "tallies.id, tallies.campaign_id, tallies.event_id, tallies.training_id, tallies.category, \
     tallies.measure, tallies.count, tallies.tally_date, tallies.reporting_unit_id, tallies.source, tallies.note, \
     tallies.created_at, tallies.updated_at";

/// Creates or replaces `rows` by natural key; returns each row's tally and what happened to
/// it, in input order. Counts that change are added to the history; only real changes are
/// journaled. Call inside a transaction.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    rows: Vec<ValidTally>,
) -> AppResult<Vec<(Tally, Outcome)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Every writer takes rows in the same (key) order, so concurrent batches that share keys
    // wait for each other instead of deadlocking.
    let mut sorted: Vec<&ValidTally> = rows.iter().collect();
    sorted.sort_by_key(|r| r.key());
    let subjects: Vec<Uuid> = sorted.iter().map(|r| r.subject()).collect();
    let categories: Vec<Category> = sorted.iter().map(|r| r.category).collect();
    let measures: Vec<Measure> = sorted.iter().map(|r| r.measure).collect();
    let dates: Vec<NaiveDate> = sorted.iter().map(|r| r.tally_date).collect();
    let units: Vec<Uuid> = sorted.iter().map(|r| r.reporting_unit_id).collect();

    // Lock what exists, so "before" is exact and concurrent upserts of a key queue up.
    let existing: Vec<Tally> = diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM tallies \
         JOIN unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::uuid[]) \
           AS k(subject_id, category, measure, tally_date, reporting_unit_id) \
           USING (subject_id, category, measure, tally_date, reporting_unit_id) \
         ORDER BY subject_id, category, measure, tally_date, reporting_unit_id \
         FOR UPDATE OF tallies"
    ))
    .bind::<Array<SqlUuid>, _>(&subjects)
    .bind::<Array<Text>, _>(&categories)
    .bind::<Array<Text>, _>(&measures)
    .bind::<Array<Date>, _>(&dates)
    .bind::<Array<SqlUuid>, _>(&units)
    .load(conn)
    .await?;
    let before: HashMap<NaturalKey, Tally> =
        existing.into_iter().map(|t| (key_of(&t), t)).collect();

    let ids: Vec<Uuid> = sorted.iter().map(|_| Uuid::now_v7()).collect();
    let campaigns: Vec<Uuid> = sorted.iter().map(|r| r.campaign_id).collect();
    let event_ids: Vec<Option<Uuid>> = sorted.iter().map(|r| r.event_id).collect();
    let training_ids: Vec<Option<Uuid>> = sorted.iter().map(|r| r.training_id).collect();
    let counts: Vec<i32> = sorted.iter().map(|r| r.count).collect();
    let sources: Vec<Source> = sorted.iter().map(|r| r.source).collect();
    let notes: Vec<Option<&str>> = sorted.iter().map(|r| r.note.as_deref()).collect();
    let written: Vec<Upserted> = diesel::sql_query(format!(
        "INSERT INTO tallies (id, campaign_id, event_id, training_id, category, measure, count, tally_date, \
                              reporting_unit_id, source, note) \
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], \
                              $7::int4[], $8::date[], $9::uuid[], $10::text[], $11::text[]) \
         ON CONFLICT ON CONSTRAINT tallies_natural_key DO UPDATE \
           SET count = EXCLUDED.count, note = EXCLUDED.note, source = EXCLUDED.source, updated_at = now() \
           WHERE (tallies.count, tallies.note) IS DISTINCT FROM (EXCLUDED.count, EXCLUDED.note) \
         RETURNING {COLUMNS}, (xmax = 0) AS inserted"
    ))
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<SqlUuid>, _>(&campaigns)
    .bind::<Array<Nullable<SqlUuid>>, _>(&event_ids)
    .bind::<Array<Nullable<SqlUuid>>, _>(&training_ids)
    .bind::<Array<Text>, _>(&categories)
    .bind::<Array<Text>, _>(&measures)
    .bind::<Array<Int4>, _>(&counts)
    .bind::<Array<Date>, _>(&dates)
    .bind::<Array<SqlUuid>, _>(&units)
    .bind::<Array<Text>, _>(&sources)
    .bind::<Array<Nullable<Text>>, _>(&notes)
    .load(conn)
    .await?;
    let mut written: HashMap<NaturalKey, Upserted> =
        written.into_iter().map(|u| (key_of(&u.tally), u)).collect();

    let mut results = Vec::with_capacity(rows.len());
    let mut history = Vec::new();
    let mut entries = Vec::new();
    for row in &rows {
        let key = row.key();
        let old = before.get(&key);
        match written.remove(&key) {
            Some(Upserted {
                tally,
                inserted: true,
            }) => {
                history.push((tally.id, tally.count));
                entries.push(created_entry(&tally)?);
                results.push((tally, Outcome::Created));
            }
            Some(Upserted {
                tally,
                inserted: false,
            }) => {
                // With no "before", a concurrent request created the row after our lock; its
                // count is unknown here, so record ours.
                if old.is_none_or(|o| o.count != tally.count) {
                    history.push((tally.id, tally.count));
                }
                let entry = match old {
                    Some(o) => Entry::updated(Entity::Tally, tally.id, o, &tally)?,
                    // Created by a concurrent request after our lock: we changed a row we
                    // never saw, so the update has no "before".
                    None => Entry {
                        op: journal::Op::Update,
                        ..Entry::created(Entity::Tally, tally.id, &tally)?
                    },
                };
                entries.push(
                    entry
                        .campaign(tally.campaign_id)
                        .owner(Some(tally.reporting_unit_id)),
                );
                results.push((tally, Outcome::Updated));
            }
            None => {
                let tally = match old {
                    Some(o) => o.clone(),
                    // Created by a concurrent request after our lock, with the same values.
                    None => find_by_key(conn, &key).await?,
                };
                results.push((tally, Outcome::Unchanged));
            }
        }
    }
    record_history(conn, &history, &auth.actor().subject).await?;
    journal::record(conn, auth, &entries).await?;
    Ok(results)
}

fn key_of(t: &Tally) -> NaturalKey {
    (
        t.event_id.or(t.training_id).unwrap_or_default(),
        t.category,
        t.measure,
        t.tally_date,
        t.reporting_unit_id,
    )
}

async fn find_by_key(conn: &mut AsyncPgConnection, key: &NaturalKey) -> AppResult<Tally> {
    let (subject, category, measure, date, unit) = *key;
    Ok(tallies::table
        .filter(tallies::subject_id.eq(subject))
        .filter(tallies::category.eq(category))
        .filter(tallies::measure.eq(measure))
        .filter(tallies::tally_date.eq(date))
        .filter(tallies::reporting_unit_id.eq(unit))
        .select(Tally::as_select())
        .first(conn)
        .await?)
}

/// Turns for bulk ingestion (tally batches and CSV imports): one at a time per process (a
/// `web::Data` of the app).
pub struct BulkIngest(tokio::sync::Semaphore);

impl Default for BulkIngest {
    fn default() -> Self {
        BulkIngest(tokio::sync::Semaphore::new(1))
    }
}

/// Validates, authorizes (every row) and upserts, in one transaction.
pub(super) async fn apply_many(
    state: &AppState,
    turns: &BulkIngest,
    principal: &Principal,
    drafts: Vec<TallyDraft>,
    default_source: Source,
) -> AppResult<Vec<(Tally, Outcome)>> {
    let input_len = drafts.len();
    // One bulk ingestion at a time per process: each holds tens of megabytes while it runs
    // (rows, history, audit), and on a small box the database sets the pace anyway. Taken
    // only now that the body is read and parsed: a slow sender holds no turn.
    let _turn = turns.0.acquire().await.map_err(AppError::internal)?;
    let mut conn = state.conn().await?;
    let outcomes = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let valid = prepare(conn, principal, drafts, default_source).await?;
            let owners: Vec<Option<Uuid>> =
                valid.iter().map(|v| Some(v.reporting_unit_id)).collect();
            let auth = match authorize(principal, Subject::Tally, &owners) {
                Ok(auth) => auth,
                Err(e) => {
                    let refused: Vec<FieldError> = valid
                        .iter()
                        .filter(|v| {
                            authorize(principal, Subject::Tally, &[Some(v.reporting_unit_id)])
                                .is_err()
                        })
                        .map(|v| {
                            FieldError::new(
                                v.field("reporting_unit_id"),
                                "not a unit this token may report for",
                            )
                        })
                        .collect();
                    return Err(e.with_errors(refused));
                }
            };
            upsert(conn, &auth, valid).await
        })
        .await;
    // The connection's buffers have grown to this batch's size; close it rather than keep
    // megabytes in an idle pooled connection.
    drop(diesel_async::pooled_connection::deadpool::Object::take(
        conn,
    ));
    let outcomes = outcomes?;
    // A 2xx answer accounts for every row it was sent.
    if outcomes.len() != input_len {
        return Err(AppError::internal(format!(
            "{} outcomes for {input_len} rows",
            outcomes.len()
        )));
    }
    Ok(outcomes)
}
