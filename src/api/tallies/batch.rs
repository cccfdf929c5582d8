//! `POST /tallies/batch`: up to 5,000 tallies in one transaction, and the answer both bulk
//! paths (batch and CSV import) give.
//!
//! Items are read field by field, not with one `Deserialize` per item: a wrong type in one
//! field must name that field and still let the other fields (and rows) be checked, so one
//! answer lists every problem. Reading never skips an item: each becomes a [`TallyDraft`],
//! and [`super::prepare`] turns every draft into a valid tally or an error.

use std::fmt;
use std::str::FromStr;

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::NaiveDate;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::draft::TallyDraft;
use super::model::{MAX_BATCH, Source, TallyInput};
use super::upsert::{BatchResult, Ingest};
use crate::error::{AppError, AppResult, FieldError, MAX_FIELD_ERRORS};
use crate::http::body::read_json;

/// The body of `POST /tallies/batch`.
#[derive(Debug, ToSchema)]
pub struct BatchInput {
    /// 1 to 5,000 tallies, all applied or none. Every bad item and field is reported in one
    /// answer (`items[3].count`).
    #[schema(value_type = Vec<TallyInput>, min_items = 1, max_items = 5000)]
    pub items: Option<Vec<Value>>,
    /// Keys beside `items`, which are refused (with every bad item, in the same answer).
    #[schema(ignore)]
    pub unknown: Vec<String>,
}

/// Upserts many tallies in one transaction: all land or none. Every bad item and field is
/// named in one 422 (`items[3].count`, up to 100 entries, then `errors_truncated`); rows of
/// other units make it a 403 naming them. A 200 lists every item sent, in order.
///
/// Roles: admin; editor or reporter, for rows of its own unit.
#[utoipa::path(
    tag = "tallies",
    operation_id = "batchUpsertTallies",
    request_body = BatchInput,
    security(("bearer" = [])),
    responses((status = 200, body = BatchResult, description = "Every item, with its outcome"))
)]
#[post("")]
pub async fn batch(
    req: HttpRequest,
    ingest: Ingest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let body: BatchInput = read_json(&req, payload.into_inner()).await?;
    let found: Vec<FieldError> = body
        .unknown
        .into_iter()
        .map(|key| FieldError::new(key, "unknown field"))
        .collect();
    let items = match body.items {
        Some(items) if !items.is_empty() => items,
        None => return Err(refused(found, "is required")),
        Some(_) => return Err(refused(found, "must hold at least one tally")),
    };
    let drafts: Vec<TallyDraft> = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| read_item(format!("items[{i}]"), item))
        .collect();
    ingest.apply(&req, found, drafts, Source::Script, &[]).await
}

/// The body's own problems, with what is wrong with `items`.
fn refused(mut found: Vec<FieldError>, items: &str) -> AppError {
    found.push(FieldError::new("items", items));
    AppError::validation(found)
}

/// The fields of a tally, as clients name them.
const FIELDS: &[&str] = &[
    "campaign_id",
    "event_id",
    "training_id",
    "category",
    "measure",
    "count",
    "tally_date",
    "reporting_unit_id",
    "source",
    "note",
];

/// Reads one JSON item into a draft: every field that has the right type, an error for each
/// that has not, for each unknown field, and for each required field that is missing.
pub fn read_item(label: String, item: Value) -> TallyDraft {
    use Presence::{Optional, Required};
    let mut draft = TallyDraft::new(label);
    let Value::Object(mut fields) = item else {
        draft.unreadable_row(format!("must be a tally object, not {}", kind_of(&item)));
        return draft;
    };
    for name in fields.keys() {
        if !FIELDS.contains(&name.as_str()) {
            let field = draft.field(name);
            draft.errors.push(FieldError::new(field, "unknown field"));
        }
    }
    let f = &mut fields;
    draft.campaign_id = field(&mut draft, f, "campaign_id", Optional, uuid);
    draft.event_id = field(&mut draft, f, "event_id", Optional, uuid);
    draft.training_id = field(&mut draft, f, "training_id", Optional, uuid);
    draft.category = field(&mut draft, f, "category", Required, text_enum);
    draft.measure = field(&mut draft, f, "measure", Required, text_enum);
    draft.count = field(&mut draft, f, "count", Required, whole_number);
    draft.tally_date = field(&mut draft, f, "tally_date", Required, date);
    draft.reporting_unit_id = field(&mut draft, f, "reporting_unit_id", Optional, uuid);
    draft.source = field(&mut draft, f, "source", Optional, text_enum);
    draft.note = field(&mut draft, f, "note", Optional, text);
    draft
}

type Reader<T> = fn(&Value) -> Result<T, String>;

/// Whether a field may be absent or null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    Optional,
    /// Present and not null.
    Required,
}

/// Takes field `name` out of `fields` and reads it, or notes on the draft why it cannot.
fn field<T>(
    draft: &mut TallyDraft,
    fields: &mut Map<String, Value>,
    name: &'static str,
    presence: Presence,
    read: Reader<T>,
) -> Option<T> {
    let value = match (fields.remove(name), presence) {
        (None | Some(Value::Null), Presence::Optional) => return None,
        (None, Presence::Required) => {
            draft.unreadable(name, "is required");
            return None;
        }
        (Some(Value::Null), Presence::Required) => {
            draft.unreadable(name, "must not be null");
            return None;
        }
        (Some(value), _) => value,
    };
    match read(&value) {
        Ok(v) => Some(v),
        Err(message) => {
            draft.unreadable(name, message);
            None
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string(value: &Value, what: &str) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(format!("must be {what}, not {}", kind_of(other))),
    }
}

fn uuid(value: &Value) -> Result<Uuid, String> {
    let s = string(value, "an id (a UUID string)")?;
    Uuid::parse_str(&s).map_err(|_| format!("`{s}` is not an id (a UUID)"))
}

fn text(value: &Value) -> Result<String, String> {
    string(value, "a string")
}

fn text_enum<T: FromStr<Err = String>>(value: &Value) -> Result<T, String> {
    string(value, "a string")?.parse()
}

fn whole_number(value: &Value) -> Result<i32, String> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| format!("`{n}` is not a whole number up to 2147483647")),
        other => Err(format!("must be a whole number, not {}", kind_of(other))),
    }
}

fn date(value: &Value) -> Result<NaiveDate, String> {
    let s = string(value, "a date (YYYY-MM-DD)")?;
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date like 2014-10-19"))
}

impl<'de> Deserialize<'de> for BatchInput {
    /// `{"items": [...]}` with at most [`MAX_BATCH`] items: reading stops at the first item
    /// over the limit, so an 8 MiB array of tiny items is never held whole.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(BatchVisitor)
    }
}

struct BatchVisitor;

impl<'de> Visitor<'de> for BatchVisitor {
    type Value = BatchInput;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object {\"items\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BatchInput, A::Error> {
        let mut items = None;
        let mut unknown = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key != "items" {
                // Named in the answer beside the items' errors (no more than it lists).
                if unknown.len() <= MAX_FIELD_ERRORS {
                    unknown.push(key);
                }
                map.next_value::<de::IgnoredAny>()?;
            } else if items.is_some() {
                return Err(de::Error::duplicate_field("items"));
            } else {
                items = Some(map.next_value_seed(BoundedItems)?);
            }
        }
        // A missing `items` is named beside the unknown keys (a typo like `item`).
        Ok(BatchInput { items, unknown })
    }
}

struct BoundedItems;

impl<'de> DeserializeSeed<'de> for BoundedItems {
    type Value = Vec<Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Value>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for BoundedItems {
    type Value = Vec<Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an array of at most {MAX_BATCH} tallies")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Value>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_BATCH));
        while let Some(item) = seq.next_element::<Value>()? {
            if items.len() == MAX_BATCH {
                return Err(de::Error::custom(format!(
                    "at most {MAX_BATCH} tallies per batch"
                )));
            }
            items.push(item);
        }
        Ok(items)
    }
}
