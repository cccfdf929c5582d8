//! The upsert of many valid tallies at once (PUT, batch, CSV import) as set operations, and
//! the one-at-a-time turn of bulk ingestion.
//!
//! The rows travel as one array per column (`unnest`), not through `COPY`: diesel-async 0.9
//! offers no `COPY FROM STDIN` and keeps its `tokio_postgres::Client` private, and a second
//! connection could not share the transaction. One statement with a dozen array binds does
//! what a staging table would: the tallies, their history and their audit rows are written
//! by one `INSERT ... SELECT ... ON CONFLICT` and two data-modifying CTEs, whatever the
//! number of rows, and nothing is serialized row by row on this side.

use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Date, Int4, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::draft::{TallyDraft, ValidTally, prepare};
use super::model::NaturalKey;
use super::model::{Source, Tally};
use crate::api::crud::Lock;
use crate::auth::{Authorized, Principal, Subject, authorize};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::json_ok;
use crate::journal::{self, Entity, Entry, Op};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// One row of a batch or CSV answer, in input order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// 0-based position in `items` (or among the CSV file's data rows).
    pub index: usize,
    /// The CSV line the row came from (CSV imports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub id: Uuid,
    pub outcome: Outcome,
}

/// What happened to each row: `items` has exactly one entry per input row.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub items: Vec<BatchItemResult>,
}

impl BatchResult {
    /// `lines`: the CSV line of each row, or empty for a JSON batch.
    pub fn from_outcomes(outcomes: &[(Tally, Outcome)], lines: &[u64]) -> Self {
        let count = |o: Outcome| outcomes.iter().filter(|(_, x)| *x == o).count();
        BatchResult {
            created: count(Outcome::Created),
            updated: count(Outcome::Updated),
            unchanged: count(Outcome::Unchanged),
            items: outcomes
                .iter()
                .enumerate()
                .map(|(index, (t, outcome))| BatchItemResult {
                    index,
                    line: lines.get(index).copied(),
                    id: t.id,
                    outcome: *outcome,
                })
                .collect(),
        }
    }
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

#[derive(QueryableByName)]
struct Upserted {
    #[diesel(embed)]
    tally: Tally,
    #[diesel(sql_type = Bool)]
    inserted: bool,
    #[diesel(sql_type = Bool)]
    unchanged: bool,
}

/// Locks the rows that exist, in key order (the order of the arrays): "before" is then exact,
/// and concurrent writers of the same keys queue up instead of deadlocking.
const LOCK: &str = "SELECT tallies.id FROM tallies \
     JOIN unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::uuid[]) \
       AS k(subject_id, category, measure, tally_date, reporting_unit_id) \
       USING (subject_id, category, measure, tally_date, reporting_unit_id) \
     ORDER BY subject_id, category, measure, tally_date, reporting_unit_id \
     FOR UPDATE OF tallies";

/// The upsert, in one statement. `before` reads the rows locked by [`LOCK`] (`$18`; every part
/// of a statement sees the snapshot taken before it, so these are the values before the write;
/// a row committed by another writer since then has no "before", as its values are unknown); history gets
/// a row where a count is new or changed; the audit log one row per tally written, in input
/// order, with the tallies as JSON the way serde writes [`Tally`] (times in UTC with `Z` and
/// the fraction in groups of three digits, as chrono does), so audit rows look alike whoever
/// wrote them. Returns the rows written, then the unchanged ones.
const UPSERT: &str = "WITH input AS (SELECT * FROM unnest($1::int4[], $2::uuid[], $3::uuid[], $4::uuid[], \
         $5::uuid[], $6::text[], $7::text[], $8::int4[], $9::date[], $10::uuid[], $11::text[], $12::text[]) \
       AS i(ord, id, campaign_id, event_id, training_id, category, measure, count, tally_date, \
            reporting_unit_id, source, note)), \
     before AS (SELECT i.ord, t.* FROM input i JOIN tallies t \
       ON t.subject_id = coalesce(i.event_id, i.training_id) AND t.category = i.category \
      AND t.measure = i.measure AND t.tally_date = i.tally_date AND t.reporting_unit_id = i.reporting_unit_id \
       WHERE t.id = ANY($18::uuid[])), \
     written AS (INSERT INTO tallies (id, campaign_id, event_id, training_id, category, measure, count, \
                                      tally_date, reporting_unit_id, source, note) \
       SELECT id, campaign_id, event_id, training_id, category, measure, count, tally_date, \
              reporting_unit_id, source, note FROM input \
       ON CONFLICT ON CONSTRAINT tallies_natural_key DO UPDATE \
         SET count = EXCLUDED.count, note = EXCLUDED.note, source = EXCLUDED.source, updated_at = now() \
         WHERE (tallies.count, tallies.note) IS DISTINCT FROM (EXCLUDED.count, EXCLUDED.note) \
       RETURNING tallies.*, (xmax = 0) AS inserted), \
     history AS (INSERT INTO tally_history (tally_id, count, changed_by) \
       SELECT w.id, w.count, $13 FROM written w LEFT JOIN before b ON b.id = w.id \
       WHERE b.count IS DISTINCT FROM w.count), \
     audit AS (INSERT INTO audit_log (actor, actor_token_id, actor_role, actor_unit_id, type, entity_id, op, \
                                      owner_unit_id, before, after, request_id) \
       SELECT $13, $14, $15, $16, 'tally', w.id, CASE WHEN w.inserted THEN 'create' ELSE 'update' END, \
              w.reporting_unit_id, \
              CASE WHEN b.id IS NOT NULL THEN to_jsonb(b) - 'ord' - 'subject_id' || jsonb_build_object( \
                'created_at', regexp_replace(to_char(b.created_at AT TIME ZONE 'UTC', \
                  'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '(\\.000000|000)$', '') || 'Z', \
                'updated_at', regexp_replace(to_char(b.updated_at AT TIME ZONE 'UTC', \
                  'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '(\\.000000|000)$', '') || 'Z') END, \
              to_jsonb(w) - 'inserted' - 'subject_id' || jsonb_build_object( \
                'created_at', regexp_replace(to_char(w.created_at AT TIME ZONE 'UTC', \
                  'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '(\\.000000|000)$', '') || 'Z', \
                'updated_at', regexp_replace(to_char(w.updated_at AT TIME ZONE 'UTC', \
                  'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '(\\.000000|000)$', '') || 'Z'), \
              $17 \
       FROM written w LEFT JOIN before b ON b.id = w.id LEFT JOIN input i ON i.id = w.id \
       ORDER BY coalesce(b.ord, i.ord)) \
     SELECT id, campaign_id, event_id, training_id, category, measure, count, tally_date, reporting_unit_id, \
            source, note, created_at, updated_at, inserted, false AS unchanged FROM written \
     UNION ALL \
     SELECT id, campaign_id, event_id, training_id, category, measure, count, tally_date, reporting_unit_id, \
            source, note, created_at, updated_at, false, true FROM before b \
       WHERE NOT EXISTS (SELECT FROM written w WHERE w.id = b.id)";

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
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| rows[i].key());
    let sorted: Vec<&ValidTally> = order.iter().map(|&i| &rows[i]).collect();
    macro_rules! column {
        ($f:expr) => {
            sorted.iter().map($f).collect::<Vec<_>>()
        };
    }
    let (categories, measures, dates) = (
        column!(|r| r.category),
        column!(|r| r.measure),
        column!(|r| r.tally_date),
    );
    let units = column!(|r| r.reporting_unit_id);
    let locked: Vec<Locked> = diesel::sql_query(LOCK)
        .bind::<Array<SqlUuid>, _>(column!(|r| r.subject()))
        .bind::<Array<Text>, _>(&categories)
        .bind::<Array<Text>, _>(&measures)
        .bind::<Array<Date>, _>(&dates)
        .bind::<Array<SqlUuid>, _>(&units)
        .load(conn)
        .await?;

    let actor = auth.actor();
    let written: Vec<Upserted> = diesel::sql_query(UPSERT)
        .bind::<Array<Int4>, _>(order.iter().map(|&i| i as i32).collect::<Vec<_>>())
        .bind::<Array<SqlUuid>, _>(column!(|_| Uuid::now_v7()))
        .bind::<Array<SqlUuid>, _>(column!(|r| r.campaign_id))
        .bind::<Array<Nullable<SqlUuid>>, _>(column!(|r| r.event_id))
        .bind::<Array<Nullable<SqlUuid>>, _>(column!(|r| r.training_id))
        .bind::<Array<Text>, _>(categories)
        .bind::<Array<Text>, _>(measures)
        .bind::<Array<Int4>, _>(column!(|r| r.count))
        .bind::<Array<Date>, _>(dates)
        .bind::<Array<SqlUuid>, _>(units)
        .bind::<Array<Text>, _>(column!(|r| r.source))
        .bind::<Array<Nullable<Text>>, _>(column!(|r| r.note.as_deref()))
        .bind::<Text, _>(&actor.subject)
        .bind::<Nullable<SqlUuid>, _>((!actor.token_id.is_nil()).then_some(actor.token_id))
        .bind::<Text, _>(actor.role.as_str())
        .bind::<Nullable<SqlUuid>, _>(actor.unit_id)
        .bind::<Nullable<Text>, _>(actor.request_id.as_deref())
        .bind::<Array<SqlUuid>, _>(locked.into_iter().map(|l| l.id).collect::<Vec<_>>())
        .load(conn)
        .await?;
    let mut written: HashMap<NaturalKey, Upserted> =
        written.into_iter().map(|u| (key_of(&u.tally), u)).collect();

    let mut results = Vec::with_capacity(rows.len());
    let mut entries = Vec::new();
    for row in &rows {
        let (tally, outcome) = match written.remove(&row.key()) {
            Some(u) if u.unchanged => (u.tally, Outcome::Unchanged),
            Some(u) => {
                let op = if u.inserted { Op::Create } else { Op::Update };
                entries.push(
                    Entry::new(Entity::Tally, u.tally.id, op)
                        .campaign(u.tally.campaign_id)
                        .owner(Some(u.tally.reporting_unit_id)),
                );
                let outcome = if u.inserted {
                    Outcome::Created
                } else {
                    Outcome::Updated
                };
                (u.tally, outcome)
            }
            // Created by a concurrent request after our lock, with the same values.
            None => {
                let unchanged = Tally::find_by_key(conn, &row.key(), Lock::No).await?;
                let unchanged =
                    unchanged.ok_or_else(|| AppError::internal("an upserted tally is gone"))?;
                (unchanged, Outcome::Unchanged)
            }
        };
        results.push((tally, outcome));
    }
    journal::record_audited(conn, auth, &entries).await?;
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

/// Turns for bulk ingestion (tally batches and CSV imports): one at a time per process (a
/// `web::Data` of the app).
pub struct BulkIngest(tokio::sync::Semaphore);

impl Default for BulkIngest {
    fn default() -> Self {
        BulkIngest(tokio::sync::Semaphore::new(1))
    }
}

/// A bulk ingestion (a batch or a CSV import) as it arrives: its sender, refused before a
/// byte of the body is read if it may not send tallies at all, and what applying takes.
pub(super) struct Ingest {
    pub(super) state: web::Data<AppState>,
    turns: web::Data<BulkIngest>,
    principal: Principal,
}

impl FromRequest for Ingest {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts =
            <(web::Data<AppState>, web::Data<BulkIngest>, Principal)>::from_request(req, payload);
        Box::pin(async move {
            let (state, turns, principal) = parts.await?;
            authorize(&principal, Subject::Tally, &[])?;
            Ok(Ingest {
                state,
                turns,
                principal,
            })
        })
    }
}

impl Ingest {
    /// [`apply_many`], answered with every row's outcome (`lines`: each row's CSV line, or
    /// empty for a JSON batch). `found`: what is wrong with the request beside its rows
    /// (an unknown key, a CSV column), refused together with every bad row.
    pub(super) async fn apply(
        &self,
        req: &HttpRequest,
        found: Vec<FieldError>,
        drafts: Vec<TallyDraft>,
        default_source: Source,
        lines: &[u64],
    ) -> AppResult<HttpResponse> {
        let Ingest {
            state,
            turns,
            principal,
        } = self;
        let outcomes = apply_many(state, turns, principal, found, drafts, default_source).await?;
        json_ok(req, &BatchResult::from_outcomes(&outcomes, lines))
    }
}

/// The request's own problems (`found`: an unknown key, a CSV column) refuse it, named before
/// every bad row's.
fn refused_with(
    found: Vec<FieldError>,
    checked: AppResult<Vec<ValidTally>>,
) -> AppResult<Vec<ValidTally>> {
    match checked {
        _ if found.is_empty() => checked,
        Ok(_) => Err(AppError::validation(found)),
        Err(e) if e.status() == actix_web::http::StatusCode::UNPROCESSABLE_ENTITY => {
            Err(e.after(found))
        }
        Err(e) => Err(e),
    }
}

/// Validates, authorizes (every row) and upserts, in one transaction.
async fn apply_many(
    state: &AppState,
    turns: &BulkIngest,
    principal: &Principal,
    found: Vec<FieldError>,
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
            let valid = refused_with(
                found,
                prepare(conn, principal, drafts, default_source).await,
            )?;
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
