//! `POST /tallies/import`: tallies from a spreadsheet saved as CSV. Excel on Chinese Windows
//! writes GBK; others write UTF-8 with or without a BOM. The encoding is detected, headers
//! may be field names or their Chinese labels, and errors name the CSV line.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use encoding_rs::{Encoding, GB18030};
use uuid::Uuid;

use super::draft::TallyDraft;
use super::model::{Category, MAX_BATCH, Measure, Source};
use super::upsert::BatchResult;
use super::upsert::Ingest;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::body::{BODY_DEADLINE, declared_length, has_content_type, read_body_within};
use crate::schema::units;
use crate::validate::Checks;

/// API.md: 10 MiB of CSV.
pub const CSV_LIMIT: usize = 10 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    CampaignId,
    EventId,
    TrainingId,
    Category,
    Measure,
    Count,
    TallyDate,
    ReportingUnit,
    Note,
}

const HEADERS: &[(&str, Column)] = &[
    ("campaign_id", Column::CampaignId),
    ("活动周", Column::CampaignId),
    ("event_id", Column::EventId),
    ("活动", Column::EventId),
    ("training_id", Column::TrainingId),
    ("培训", Column::TrainingId),
    ("category", Column::Category),
    ("类别", Column::Category),
    ("measure", Column::Measure),
    ("口径", Column::Measure),
    ("count", Column::Count),
    ("人数", Column::Count),
    ("tally_date", Column::TallyDate),
    ("日期", Column::TallyDate),
    ("reporting_unit_id", Column::ReportingUnit),
    ("填报单位", Column::ReportingUnit),
    ("note", Column::Note),
    ("备注", Column::Note),
];

/// Chinese labels accepted for categories and measures, as people type them in a sheet.
const CATEGORY_LABELS: &[(&str, Category)] = &[
    ("在职人员", Category::Employed),
    ("学生", Category::Student),
    ("在校学生", Category::Student),
    ("外来务工人员", Category::MigrantWorker),
    ("进城务工人员", Category::MigrantWorker),
    ("家庭妇女", Category::Homemaker),
    ("离退休人员", Category::Retiree),
    ("离退休干部职工", Category::Retiree),
    ("返乡人员", Category::Returnee),
    ("失业人员", Category::Unemployed),
    ("退伍军人", Category::Veteran),
    ("残疾人", Category::Disabled),
    ("老年人", Category::Senior),
    ("儿童", Category::Child),
    ("一般市民", Category::General),
    ("市民", Category::General),
];

const MEASURE_LABELS: &[(&str, Measure)] =
    &[("人数", Measure::Headcount), ("人次", Measure::PersonTimes)];

/// Import tallies from CSV (UTF-8 with or without BOM, or GBK; detected, no charset needed).
///
/// Header names are the `TallyInput` field names or their Chinese labels: 活动 `event_id`,
/// 培训 `training_id`, 类别 `category`, 口径 `measure`, 人数 `count`, 日期 `tally_date`,
/// 填报单位 `reporting_unit_id` (a unit id, name or short name; defaults to the caller's unit),
/// 备注 `note`. Categories and measures may be given by their Chinese names (学生, 人次, ...),
/// dates as `2014-10-19` or `2014/10/19`. Rows are upserted like `POST /tallies/batch`: all or
/// nothing, and errors name the line (`line[4].count`).
///
/// Roles: admin; editor or reporter, for rows of its own unit.
#[utoipa::path(
    tag = "tallies",
    operation_id = "importTallies",
    request_body(content = String, content_type = "text/csv",
        example = "活动,类别,口径,人数,日期,备注\n0193c0de-0000-7000-8000-000000000001,学生,人数,120,2014-10-19,开幕式\n"),
    security(("bearer" = [])),
    responses((status = 200, description = "Done", body = BatchResult))
)]
#[post("/tallies/import")]
pub async fn import(
    req: HttpRequest,
    ingest: Ingest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    if !has_content_type(&req, &["text/csv", "application/csv"]) {
        return Err(AppError::unsupported_media_type("text/csv"));
    }
    if declared_length(&req).is_some_and(|len| len > CSV_LIMIT) {
        return Err(AppError::payload_too_large(CSV_LIMIT));
    }
    let bytes = read_body_within(payload.into_inner(), CSV_LIMIT, BODY_DEADLINE).await?;
    let text = decode(&bytes)?;
    let file = {
        let mut conn = ingest.state.conn().await?;
        parse(&mut conn, &text).await?
    };
    ingest
        .apply(&req, file.found, file.drafts, Source::Import, &file.lines)
        .await
}

/// UTF-8 (BOM or not), UTF-16 with a BOM, else GB18030 (a superset of GBK).
fn decode(bytes: &[u8]) -> AppResult<Cow<'_, str>> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return encoding
            .decode_without_bom_handling_and_without_replacement(&bytes[bom_len..])
            .ok_or_else(|| {
                AppError::bad_request(format!("the file is not valid {}", encoding.name()))
            });
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .ok_or_else(|| AppError::bad_request("the file is neither UTF-8 nor GBK text"))
}

/// A data row's non-empty cells by column, or why the row could not be split into them.
type Record = Result<HashMap<Column, String>, String>;

/// A file's rows as drafts, with the CSV line each came from.
struct ParsedFile {
    /// The header's problems, refused with the rows'.
    found: Vec<FieldError>,
    drafts: Vec<TallyDraft>,
    lines: Vec<u64>,
}

/// Parses the CSV into tally drafts, reading every cell it can: a bad cell becomes an error of
/// its row, and every non-blank row counts against the row limit. Reading stops once there
/// are more errors than a problem lists.
async fn parse(conn: &mut AsyncPgConnection, text: &str) -> AppResult<ParsedFile> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| AppError::bad_request(format!("cannot read the CSV header: {e}")))?
        .clone();
    let (columns, found) = read_header(&headers)?;

    // Only for stopping early, once there are more problems than an answer lists.
    let mut checks = Checks::new();
    checks.extend(found.iter().cloned());
    let mut records = Vec::new();
    let mut lines = LineCounter::default();
    for record in reader.records() {
        let record = record.map_err(|e| AppError::bad_request(format!("malformed CSV: {e}")))?;
        // The physical line, as a spreadsheet shows it (the reader skips blank lines).
        let line = record
            .position()
            .map_or(0, |p| lines.line_of(text, p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if records.len() == MAX_BATCH {
            return Err(AppError::invalid_field(
                "body",
                format!("at most {MAX_BATCH} rows per file"),
            ));
        }
        if record.len() != columns.len() {
            let message = format!(
                "line {line} has {} cells, the header {}",
                record.len(),
                columns.len()
            );
            checks.fail(&format!("line[{line}]"), message.clone());
            records.push((line, Err(message)));
        } else {
            // Cells under a column refused in the header are not read.
            let cells: HashMap<Column, String> = columns
                .iter()
                .zip(record.iter())
                .filter_map(|(column, v)| Some(((*column)?, v.to_string())))
                .filter(|(_, v)| !v.is_empty())
                .collect();
            records.push((line, Ok(cells)));
        }
        if checks.is_full() {
            return Err(AppError::validation(checks.into_errors()).truncated());
        }
    }
    if records.is_empty() {
        return Err(AppError::invalid_field("body", "the file has no data rows"));
    }
    let unit_names = resolve_unit_names(conn, &records).await?;
    let mut file = ParsedFile {
        found,
        drafts: Vec::with_capacity(records.len()),
        lines: Vec::with_capacity(records.len()),
    };
    for (line, cells) in records {
        let mut draft = TallyDraft::new(format!("line[{line}]"));
        match cells {
            Ok(cells) => read_row(&mut draft, line, &cells, &unit_names),
            Err(misshapen) => draft.unreadable_row(misshapen),
        }
        file.drafts.push(draft);
        file.lines.push(line);
    }
    Ok(file)
}

/// The columns, in order (`None` for one refused), and an error for each unknown or repeated
/// one: the rows are still read, so one answer names them too. A missing required column is a
/// 422 at once (every row would lack it).
fn read_header(headers: &csv::StringRecord) -> AppResult<(Vec<Option<Column>>, Vec<FieldError>)> {
    let mut columns: Vec<Option<Column>> = Vec::new();
    let mut seen: HashSet<Column> = HashSet::new();
    let mut checks = Checks::new();
    for (i, name) in headers.iter().enumerate() {
        let key = name.trim_start_matches('\u{feff}').trim().to_lowercase();
        let column = match HEADERS.iter().find(|(h, _)| *h == key) {
            Some((_, col)) if !seen.insert(*col) => {
                let message = format!("column `{name}` appears twice");
                checks.fail(&format!("header[{i}]"), message);
                None
            }
            Some((_, col)) => Some(*col),
            None => {
                checks.fail(&format!("header[{i}]"), format!("unknown column `{name}`"));
                None
            }
        };
        columns.push(column);
    }
    let found = checks.into_errors();
    let mut checks = Checks::new();
    for (required, label) in [
        (Column::Category, "category/类别"),
        (Column::Measure, "measure/口径"),
        (Column::Count, "count/人数"),
        (Column::TallyDate, "tally_date/日期"),
    ] {
        if !seen.contains(&required) {
            checks.fail("header", format!("column {label} is required"));
        }
    }
    if !seen.contains(&Column::EventId) && !seen.contains(&Column::TrainingId) {
        checks.fail(
            "header",
            "an event_id/活动 or training_id/培训 column is required",
        );
    }
    if !checks.is_empty() {
        let mut all = found;
        all.extend(checks.into_errors());
        return Err(AppError::validation(all));
    }
    Ok((columns, found))
}

/// Reads one row's cells into `draft`: each cell that parses, an error for each that does not.
fn read_row(
    draft: &mut TallyDraft,
    line: u64,
    cells: &HashMap<Column, String>,
    unit_names: &HashMap<String, Option<Uuid>>,
) {
    let uuid = |draft: &mut TallyDraft, col: Column, name: &'static str| -> Option<Uuid> {
        let value = cells.get(&col)?;
        let id = Uuid::parse_str(value).ok();
        if id.is_none() {
            draft.unreadable(name, format!("line {line}: `{value}` is not an id"));
        }
        id
    };
    draft.campaign_id = uuid(draft, Column::CampaignId, "campaign_id");
    draft.event_id = uuid(draft, Column::EventId, "event_id");
    draft.training_id = uuid(draft, Column::TrainingId, "training_id");
    draft.category = cell(draft, cells, Column::Category, "category", line, |v| {
        parse_labelled(v, CATEGORY_LABELS).ok_or_else(|| format!("unknown category `{v}`"))
    });
    draft.measure = cell(draft, cells, Column::Measure, "measure", line, |v| {
        parse_labelled(v, MEASURE_LABELS)
            .ok_or_else(|| format!("unknown measure `{v}` (人数/headcount or 人次/person_times)"))
    });
    draft.count = cell(draft, cells, Column::Count, "count", line, |v| {
        v.replace(',', "")
            .parse::<i32>()
            .map_err(|_| format!("`{v}` is not a whole number"))
    });
    draft.tally_date = cell(draft, cells, Column::TallyDate, "tally_date", line, |v| {
        parse_date(v).ok_or_else(|| format!("`{v}` is not a date like 2014-10-19"))
    });
    if let Some(v) = cells.get(&Column::ReportingUnit) {
        draft.reporting_unit_id = Uuid::parse_str(v)
            .ok()
            .or_else(|| unit_names.get(v.as_str()).copied().flatten());
        if draft.reporting_unit_id.is_none() {
            let why = if unit_names.contains_key(v.as_str()) {
                "names more than one unit"
            } else {
                "no such unit"
            };
            draft.unreadable("reporting_unit_id", format!("line {line}: `{v}` {why}"));
        }
    }
    draft.note = cells.get(&Column::Note).cloned();
    draft.source = Some(Source::Import);
}

/// A required cell, parsed; an error naming the line when it is empty or unreadable.
fn cell<T>(
    draft: &mut TallyDraft,
    cells: &HashMap<Column, String>,
    col: Column,
    name: &'static str,
    line: u64,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Option<T> {
    let Some(value) = cells.get(&col) else {
        draft.unreadable(name, format!("line {line}: {name} is required"));
        return None;
    };
    match parse(value) {
        Ok(v) => Some(v),
        Err(why) => {
            draft.unreadable(name, format!("line {line}: {why}"));
            None
        }
    }
}

/// Line numbers of records, counted on from the previous record (records come in order), so
/// a file is scanned once.
#[derive(Default)]
struct LineCounter {
    byte: usize,
    /// Newlines before `byte`.
    newlines: u64,
}

impl LineCounter {
    /// The line a record starts on. The reader reports the offset where it began looking,
    /// which is before any blank lines it skipped.
    fn line_of(&mut self, text: &str, byte: u64) -> u64 {
        let bytes = text.as_bytes();
        let mut start = usize::try_from(byte)
            .unwrap_or(bytes.len())
            .clamp(self.byte, bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
            start += 1;
        }
        self.newlines += bytes[self.byte..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.byte = start;
        self.newlines + 1
    }
}

fn parse_labelled<T: std::str::FromStr + Copy>(value: &str, labels: &[(&str, T)]) -> Option<T> {
    value
        .to_lowercase()
        .parse()
        .ok()
        .or_else(|| labels.iter().find(|(l, _)| *l == value).map(|(_, v)| *v))
}

fn parse_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%Y/%m/%d"))
        .ok()
}

/// Unit names and short names used in the 填报单位 column → the unit (`None` if ambiguous).
async fn resolve_unit_names(
    conn: &mut AsyncPgConnection,
    records: &[(u64, Record)],
) -> AppResult<HashMap<String, Option<Uuid>>> {
    let names: Vec<String> = records
        .iter()
        .filter_map(|(_, cells)| cells.as_ref().ok()?.get(&Column::ReportingUnit))
        .filter(|v| Uuid::parse_str(v).is_err())
        .cloned()
        .collect();
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let found: Vec<(Uuid, String, Option<String>)> = units::table
        .filter(
            units::name
                .eq_any(&names)
                .or(units::short_name.eq_any(&names)),
        )
        .select((units::id, units::name, units::short_name))
        .load(conn)
        .await?;
    let mut by_name: HashMap<String, Option<Uuid>> = HashMap::new();
    for (id, name, short) in found {
        for key in std::iter::once(name).chain(short) {
            by_name
                .entry(key)
                .and_modify(|existing| {
                    if *existing != Some(id) {
                        *existing = None;
                    }
                })
                .or_insert(Some(id));
        }
    }
    Ok(by_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_utf8_bom_and_gbk() {
        let text = "类别,人数\n学生,12\n";
        assert_eq!(decode(text.as_bytes()).unwrap(), text);
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode(&bom).unwrap(), text);
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert!(std::str::from_utf8(&gbk).is_err());
        assert_eq!(decode(&gbk).unwrap(), text);
    }

    #[test]
    fn labels_and_dates() {
        assert_eq!(
            parse_labelled("学生", CATEGORY_LABELS),
            Some(Category::Student)
        );
        assert_eq!(
            parse_labelled("Student", CATEGORY_LABELS),
            Some(Category::Student)
        );
        assert_eq!(
            parse_labelled("人次", MEASURE_LABELS),
            Some(Measure::PersonTimes)
        );
        assert_eq!(
            parse_date("2014/10/9"),
            NaiveDate::from_ymd_opt(2014, 10, 9)
        );
        assert_eq!(parse_date("19.10.2014"), None);
    }
}
