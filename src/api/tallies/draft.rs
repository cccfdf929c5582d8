//! Rows as they arrive (a batch item, a CSV line, a single tally), and their validation:
//! every field that could be read, every problem of every row, and one valid tally per row
//! or a 422 that names them all.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::methods::LoadQuery;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{Category, Measure, NaturalKey, Source, TallyInput, plausible_date};
use crate::auth::Principal;
use crate::error::{AppError, AppResult, FieldError};
use crate::schema::{events, tallies, trainings, units};
use crate::validate::Checks;

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
    /// No field could be read: the row was not an object, or a CSV line of the wrong length.
    unreadable_row: bool,
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

    /// Records that the row could not be read at all: its one error, and no checks of the
    /// fields it could not have.
    pub fn unreadable_row(&mut self, message: impl Into<String>) {
        self.errors
            .push(FieldError::new(self.label_or_body(), message));
        self.unreadable_row = true;
    }

    fn readable(&self, name: &str) -> bool {
        !self.unreadable_row && !self.unreadable.contains(&name)
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

impl ValidTally {
    pub fn field(&self, name: &str) -> String {
        field(&self.label, name)
    }

    pub(super) fn subject(&self) -> Uuid {
        self.event_id.or(self.training_id).unwrap_or_default()
    }

    pub(super) fn key(&self) -> NaturalKey {
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

/// What the rows refer to, looked up once for all of them.
struct References {
    event_campaigns: HashMap<Uuid, Uuid>,
    training_campaigns: HashMap<Uuid, Uuid>,
    units: HashSet<Uuid>,
}

impl References {
    async fn load(conn: &mut AsyncPgConnection, drafts: &[TallyDraft]) -> AppResult<Self> {
        let event_ids: Vec<Uuid> = drafts.iter().filter_map(|t| t.event_id).collect();
        let training_ids: Vec<Uuid> = drafts.iter().filter_map(|t| t.training_id).collect();
        let unit_ids: Vec<Uuid> = drafts
            .iter()
            .filter_map(|t| t.reporting_unit_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        Ok(References {
            units: look_up(conn, unit_ids, |ids| {
                units::table.filter(units::id.eq_any(ids)).select(units::id)
            })
            .await?,
            event_campaigns: look_up(conn, event_ids, |ids| {
                let found = events::table.filter(events::id.eq_any(ids));
                found.select((events::id, events::campaign_id))
            })
            .await?,
            training_campaigns: look_up(conn, training_ids, |ids| {
                let found = trainings::table.filter(trainings::id.eq_any(ids));
                found.select((trainings::id, trainings::campaign_id))
            })
            .await?,
        })
    }
}

/// What the query `of` makes of `ids` finds, collected; without ids, nothing (and no query).
async fn look_up<Q, T, C>(
    conn: &mut AsyncPgConnection,
    ids: Vec<Uuid>,
    of: impl FnOnce(Vec<Uuid>) -> Q,
) -> AppResult<C>
where
    Q: LoadQuery<'static, AsyncPgConnection, T> + 'static,
    T: Send,
    C: FromIterator<T> + Default,
{
    if ids.is_empty() {
        return Ok(C::default());
    }
    Ok(of(ids).load::<T>(conn).await?.into_iter().collect())
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
    let refs = References::load(conn, &drafts).await?;
    let mut c = Checks::new();
    let mut seen: HashMap<NaturalKey, String> = HashMap::new();
    let mut valid = Vec::with_capacity(drafts.len());
    for t in drafts {
        let row = match check_row(t, &refs, principal.unit_id, default_source) {
            Ok(row) => row,
            Err(errors) => {
                c.extend(errors);
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

/// One row: valid, or every problem it has (never none: a row is not dropped unexplained).
fn check_row(
    t: TallyDraft,
    refs: &References,
    caller_unit: Option<Uuid>,
    default_source: Source,
) -> Result<ValidTally, Vec<FieldError>> {
    let mut r = Checks::new();
    r.extend(t.errors.iter().cloned());
    check_values(&t, &mut r);
    let subject_campaign = subject_campaign(&t, refs, &mut r);
    let reporting_unit = t.reporting_unit_id.or(caller_unit);
    match reporting_unit {
        _ if !t.readable("reporting_unit_id") => {}
        None => r.fail(
            &t.field("reporting_unit_id"),
            "is required (admin tokens have no unit)",
        ),
        Some(u) if t.reporting_unit_id.is_some() && !refs.units.contains(&u) => {
            r.fail(&t.field("reporting_unit_id"), "no such unit")
        }
        _ => {}
    }
    match (
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
        ) if r.is_empty() => Ok(ValidTally {
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
        }),
        _ => {
            if r.is_empty() {
                r.fail(&t.label_or_body(), "could not be read");
            }
            Err(r.into_errors())
        }
    }
}

/// The checks of the row's own values.
fn check_values(t: &TallyDraft, r: &mut Checks) {
    if t.count.is_some_and(|n| n < 0) {
        r.fail(&t.field("count"), "must not be negative");
    }
    if t.tally_date.is_some_and(|d| !plausible_date(d)) {
        r.fail(&t.field("tally_date"), "must be between 1990 and 2100");
    }
    if let Some(note) = &t.note {
        if note.chars().count() > 500 {
            r.fail(&t.field("note"), "must be at most 500 characters");
        } else if note
            .chars()
            .any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
        {
            r.fail(&t.field("note"), "must not contain control characters");
        }
    }
}

/// The campaign of the row's subject (exactly one of an event and a training, which must
/// exist and agree with a given `campaign_id`).
fn subject_campaign(t: &TallyDraft, refs: &References, r: &mut Checks) -> Option<Uuid> {
    let found = match (t.event_id, t.training_id) {
        _ if !t.readable("event_id") || !t.readable("training_id") => None,
        (Some(_), Some(_)) | (None, None) => {
            r.fail(
                &t.field("event_id"),
                "exactly one of event_id and training_id is required",
            );
            None
        }
        (Some(e), None) => {
            let found = refs.event_campaigns.get(&e).copied();
            if found.is_none() {
                r.fail(&t.field("event_id"), "no such event");
            }
            found
        }
        (None, Some(tr)) => {
            let found = refs.training_campaigns.get(&tr).copied();
            if found.is_none() {
                r.fail(&t.field("training_id"), "no such training");
            }
            found
        }
    };
    if let (Some(given), Some(actual)) = (t.campaign_id, found)
        && given != actual
    {
        r.fail(
            &t.field("campaign_id"),
            "disagrees with the campaign of the event or training",
        );
    }
    found
}
