//! Field checks that collect every problem of a request into one 422.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::error::{AppError, AppResult, FieldError, MAX_FIELD_ERRORS};
use crate::schema::units;

/// Collects field errors; keeps one more than a problem lists, so the 422 can say that it
/// was truncated without holding every error of a huge input.
#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        if !self.is_full() {
            self.errors.push(FieldError::new(field, message));
        }
    }

    /// Takes errors found elsewhere (e.g. while reading a row).
    pub fn extend(&mut self, errors: impl IntoIterator<Item = FieldError>) {
        for e in errors {
            if self.is_full() {
                break;
            }
            self.errors.push(e);
        }
    }

    /// More errors than a problem lists: further input need not be looked at.
    pub fn is_full(&self) -> bool {
        self.errors.len() > MAX_FIELD_ERRORS
    }

    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) {
        if !ok {
            self.fail(field, message);
        }
    }

    /// A time this API stores (see [`plausible_time`]).
    pub fn time(&mut self, field: &str, t: &chrono::DateTime<chrono::Utc>) {
        self.check(
            plausible_time(t),
            field,
            "must be between the years 1990 and 2100",
        );
    }

    /// Required text: not blank, at most `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.fail(field, "must not be blank");
        } else if value.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        } else if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            // They break calendars, feeds and spreadsheets, and are never meant.
            self.fail(field, "must not contain control characters");
        }
    }

    /// Required single-line text (a name, a title): as [`Checks::text`], and no line breaks,
    /// tabs or other control characters at all. Such values end up in places where a line
    /// break starts something new: an iCalendar property, a CSV cell, a log line.
    pub fn line(&mut self, field: &str, value: &str, max: usize) {
        let before = self.errors.len();
        self.text(field, value, max);
        if self.errors.len() == before
            && value
                .chars()
                .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
        {
            self.fail(field, "must be a single line without control characters");
        }
    }

    /// Optional single-line text: when present, the same rules as [`Checks::line`].
    pub fn opt_line(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(value) = value {
            self.line(field, value, max);
        }
    }

    /// Optional text: when present, the same rules as [`Checks::text`].
    pub fn opt_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(value) = value {
            self.text(field, value, max);
        }
    }

    /// A list of distinct, non-blank short strings.
    pub fn labels(&mut self, field: &str, values: &[String], max_items: usize, max_len: usize) {
        if values.len() > max_items {
            self.fail(field, format!("must have at most {max_items} entries"));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, value) in values.iter().enumerate() {
            self.text(&format!("{field}[{i}]"), value, max_len);
            if !seen.insert(value.as_str()) {
                self.fail(&format!("{field}[{i}]"), "is listed twice");
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }

    pub fn finish(self) -> AppResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::validation(self.errors))
        }
    }
}

/// `%` and `_` in a search string are literal characters, not LIKE wildcards.
pub fn like_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Search strings: non-blank, at most 100 characters.
pub fn search_term(q: Option<&str>) -> AppResult<Option<String>> {
    match q.map(str::trim) {
        None | Some("") => Ok(None),
        Some(q) if q.chars().count() > 100 => Err(AppError::invalid_field(
            "q",
            "must be at most 100 characters",
        )),
        Some(q) => Ok(Some(like_pattern(q))),
    }
}

/// Times this API stores: years 1990 to 2100 (PostgreSQL would refuse some others outright).
pub fn plausible_time(t: &chrono::DateTime<chrono::Utc>) -> bool {
    use chrono::Datelike;
    (1990..=2100).contains(&t.year())
}

/// Checks that every id in `refs` names a unit; a failure names its field (with an index for
/// lists).
pub async fn check_units_exist(
    conn: &mut AsyncPgConnection,
    refs: &[(String, Uuid)],
    c: &mut Checks,
) -> AppResult<()> {
    if refs.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = refs.iter().map(|(_, id)| *id).collect();
    let found: Vec<Uuid> = units::table
        .filter(units::id.eq_any(&ids))
        .select(units::id)
        .load(conn)
        .await?;
    for (field, _) in refs.iter().filter(|(_, id)| !found.contains(id)) {
        c.fail(field, "no such unit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_errors(value: &str) -> usize {
        let mut c = Checks::new();
        c.line("name", value, 20);
        c.len()
    }

    #[test]
    fn a_line_has_no_breaks_or_controls() {
        assert_eq!(line_errors("高州市 活动周 (2014); a, b"), 0);
        for bad in [
            "a\nb",
            "a\r\nb",
            "a\rb",
            "a\tb",
            "a\u{0b}b",
            "a\u{2028}b",
            " ",
            &"x".repeat(21),
        ] {
            assert_eq!(line_errors(bad), 1, "{bad:?}");
        }
    }
}
