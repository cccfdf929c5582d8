//! Validation and upsert of many tallies at once (PUT, batch, CSV import): a few bulk
//! lookups and three multi-row statements, whatever the number of rows.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Date, Int4, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{
    Category, Measure, Source, Tally, TallyInput, created_entry, plausible_date, record_history,
};
use crate::auth::{Authorized, Principal, Subject, authorize};
use crate::error::{AppError, AppResult, FieldError};
use crate::journal::{self, Entity, Entry};
use crate::schema::{events, tallies, trainings, units};
use crate::state::AppState;
use crate::validate::Checks;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// A tally that passed validation, with its label (`items[3]`, `line 4`) for error messages.
#[derive(Debug, Clone)]
pub struct ValidTally {
    pub label: String,
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
}

type NaturalKey = (Uuid, Category, Measure, NaiveDate, Uuid);

impl ValidTally {
    pub fn field(&self, name: &str) -> String {
        field(&self.label, name)
    }

    fn subject(&self) -> Uuid {
        self.event_id.or(self.training_id).unwrap_or_default()
    }

    fn key(&self) -> NaturalKey {
        (
            self.subject(),
            self.category,
            self.measure,
            self.tally_date,
            self.reporting_unit_id,
        )
    }

    #[allow(clippy::type_complexity)]
    pub fn changeset(
        &self,
    ) -> (
        diesel::dsl::Eq<tallies::campaign_id, Uuid>,
        diesel::dsl::Eq<tallies::event_id, Option<Uuid>>,
        diesel::dsl::Eq<tallies::training_id, Option<Uuid>>,
        diesel::dsl::Eq<tallies::category, Category>,
        diesel::dsl::Eq<tallies::measure, Measure>,
        diesel::dsl::Eq<tallies::count, i32>,
        diesel::dsl::Eq<tallies::tally_date, NaiveDate>,
        diesel::dsl::Eq<tallies::reporting_unit_id, Uuid>,
        diesel::dsl::Eq<tallies::source, Source>,
        diesel::dsl::Eq<tallies::note, Option<String>>,
    ) {
        (
            tallies::campaign_id.eq(self.campaign_id),
            tallies::event_id.eq(self.event_id),
            tallies::training_id.eq(self.training_id),
            tallies::category.eq(self.category),
            tallies::measure.eq(self.measure),
            tallies::count.eq(self.count),
            tallies::tally_date.eq(self.tally_date),
            tallies::reporting_unit_id.eq(self.reporting_unit_id),
            tallies::source.eq(self.source),
            tallies::note.eq(self.note.clone()),
        )
    }
}

fn field(label: &str, name: &str) -> String {
    if label.is_empty() {
        name.to_string()
    } else {
        format!("{label}.{name}")
    }
}

/// One input row (a batch item, a CSV line, a single tally) as far as it could be read: each
/// field that parsed, and an error for each that did not. [`prepare`] checks the rest.
#[derive(Debug, Default)]
pub struct TallyDraft {
    /// `items[3]`, `line[4]`, or empty for a single tally.
    pub label: String,
    pub campaign_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub training_id: Option<Uuid>,
    pub category: Option<Category>,
    pub measure: Option<Measure>,
    pub count: Option<i32>,
    pub tally_date: Option<NaiveDate>,
    pub reporting_unit_id: Option<Uuid>,
    pub source: Option<Source>,
    pub note: Option<String>,
    /// Fields that could not be read, with why.
    pub errors: Vec<FieldError>,
    /// The names of those fields (so checks that depend on them stay quiet).
    unreadable: Vec<&'static str>,
}

impl TallyDraft {
    pub fn new(label: String) -> Self {
        TallyDraft {
            label,
            ..Default::default()
        }
    }

    pub fn from_input(label: String, t: TallyInput) -> Self {
        TallyDraft {
            label,
            campaign_id: t.campaign_id,
            event_id: t.event_id,
            training_id: t.training_id,
            category: Some(t.category),
            measure: Some(t.measure),
            count: Some(t.count),
            tally_date: Some(t.tally_date),
            reporting_unit_id: t.reporting_unit_id,
            source: t.source,
            note: t.note,
            ..Default::default()
        }
    }

    pub fn field(&self, name: &str) -> String {
        field(&self.label, name)
    }

    /// Records that `name` could not be read.
    pub fn unreadable(&mut self, name: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError::new(self.field(name), message));
        self.unreadable.push(name);
    }

    fn readable(&self, name: &str) -> bool {
        !self.unreadable.contains(&name)
    }

    /// The row itself, for errors about no one field.
    pub fn label_or_body(&self) -> String {
        if self.label.is_empty() {
            "body".into()
        } else {
            self.label.clone()
        }
    }
}

/// Validates tallies in bulk: what could not be read, shape, references (one query per
/// table), the campaign agreeing with the event or training, and no natural key twice.
/// Reports every bad row and field at once (up to the cap of a problem's `errors`).
///
/// On success there is exactly one valid tally per draft, in input order: nothing is
/// dropped silently.
pub async fn prepare(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    drafts: Vec<TallyDraft>,
    default_source: Source,
) -> AppResult<Vec<ValidTally>> {
    let input_len = drafts.len();
    let mut c = Checks::new();
    let event_ids: Vec<Uuid> = drafts.iter().filter_map(|t| t.event_id).collect();
    let training_ids: Vec<Uuid> = drafts.iter().filter_map(|t| t.training_id).collect();
    let event_campaigns = campaigns_of_events(conn, &event_ids).await?;
    let training_campaigns = campaigns_of_trainings(conn, &training_ids).await?;
    let unit_ids: Vec<Uuid> = drafts
        .iter()
        .filter_map(|t| t.reporting_unit_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let known_units: HashSet<Uuid> = if unit_ids.is_empty() {
        HashSet::new()
    } else {
        units::table
            .filter(units::id.eq_any(&unit_ids))
            .select(units::id)
            .load::<Uuid>(conn)
            .await?
            .into_iter()
            .collect()
    };

    let mut seen: HashMap<NaturalKey, String> = HashMap::new();
    let mut valid = Vec::with_capacity(drafts.len());
    for t in drafts {
        // This row's problems; the row is valid only without any.
        let mut r = Checks::new();
        r.extend(t.errors.iter().cloned());
        let f = |name: &str| t.field(name);
        if t.count.is_some_and(|n| n < 0) {
            r.fail(&f("count"), "must not be negative");
        }
        if t.tally_date.is_some_and(|d| !plausible_date(d)) {
            r.fail(&f("tally_date"), "must be between 1990 and 2100");
        }
        if let Some(note) = &t.note {
            if note.chars().count() > 500 {
                r.fail(&f("note"), "must be at most 500 characters");
            } else if note
                .chars()
                .any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
            {
                r.fail(&f("note"), "must not contain control characters");
            }
        }
        let subject_campaign = match (t.event_id, t.training_id) {
            _ if !t.readable("event_id") || !t.readable("training_id") => None,
            (Some(_), Some(_)) | (None, None) => {
                r.fail(
                    &f("event_id"),
                    "exactly one of event_id and training_id is required",
                );
                None
            }
            (Some(e), None) => {
                let found = event_campaigns.get(&e).copied();
                if found.is_none() {
                    r.fail(&f("event_id"), "no such event");
                }
                found
            }
            (None, Some(tr)) => {
                let found = training_campaigns.get(&tr).copied();
                if found.is_none() {
                    r.fail(&f("training_id"), "no such training");
                }
                found
            }
        };
        if let (Some(given), Some(actual)) = (t.campaign_id, subject_campaign)
            && given != actual
        {
            r.fail(
                &f("campaign_id"),
                "disagrees with the campaign of the event or training",
            );
        }
        let reporting_unit = t.reporting_unit_id.or(principal.unit_id);
        match reporting_unit {
            _ if !t.readable("reporting_unit_id") => {}
            None => r.fail(
                &f("reporting_unit_id"),
                "is required (admin tokens have no unit)",
            ),
            Some(u) if t.reporting_unit_id.is_some() && !known_units.contains(&u) => {
                r.fail(&f("reporting_unit_id"), "no such unit")
            }
            _ => {}
        }
        let row = match (
            subject_campaign,
            reporting_unit,
            t.category,
            t.measure,
            t.count,
            t.tally_date,
        ) {
            (
                Some(campaign_id),
                Some(reporting_unit_id),
                Some(category),
                Some(measure),
                Some(count),
                Some(tally_date),
            ) if r.is_empty() => ValidTally {
                campaign_id,
                event_id: t.event_id,
                training_id: t.training_id,
                category,
                measure,
                count,
                tally_date,
                reporting_unit_id,
                source: t.source.unwrap_or(default_source),
                note: t.note,
                label: t.label,
            },
            _ => {
                if r.is_empty() {
                    // A draft with a missing field must say so; never drop it unexplained.
                    r.fail(&t.label_or_body(), "could not be read");
                }
                c.extend(r.into_errors());
                continue;
            }
        };
        match seen.get(&row.key()) {
            Some(first) => {
                let first = if first.is_empty() {
                    "another row".to_string()
                } else {
                    first.clone()
                };
                c.fail(
                    &row.field("category"),
                    format!("same subject, category, measure, date and unit as {first}"),
                );
            }
            None => {
                seen.insert(row.key(), row.label.clone());
                valid.push(row);
            }
        }
    }
    c.finish()?;
    if valid.len() != input_len {
        return Err(AppError::internal(format!(
            "{} of {input_len} tallies validated without an error for the others",
            valid.len()
        )));
    }
    Ok(valid)
}

/// The campaign of each event that exists.
async fn campaigns_of_events(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Uuid>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(events::table
        .filter(events::id.eq_any(ids))
        .select((events::id, events::campaign_id))
        .load::<(Uuid, Uuid)>(conn)
        .await?
        .into_iter()
        .collect())
}

/// The campaign of each training that exists.
async fn campaigns_of_trainings(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Uuid>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(trainings::table
        .filter(trainings::id.eq_any(ids))
        .select((trainings::id, trainings::campaign_id))
        .load::<(Uuid, Uuid)>(conn)
        .await?
        .into_iter()
        .collect())
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
