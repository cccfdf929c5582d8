//! Snapshots (`insta`) of large rendered outputs, made deterministic first: every UUID becomes
//! `[uuid-N]` (numbered in order of first appearance, so references between parts stay
//! visible) and every time stamp within a day of the clock (creation and change times,
//! DTSTAMP, Atom's `<updated>`) becomes `[now]`. Times the fixtures set (2014) are kept.
//!
//! The snapshots live in `tests/api/snapshots/`. A new or changed one fails the test (and, off
//! CI, is written beside the old one as `.snap.new`); `INSTA_UPDATE=always cargo test --test
//! api` rewrites them for review.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDateTime, Utc};
use regex::{Captures, Regex};

fn uuid_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
            .unwrap()
    })
}

/// RFC 3339 (with or without fractions), iCalendar UTC (`20141019T010000Z`) and HTTP dates.
fn time_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})",
            r"|\d{8}T\d{6}Z",
            r"|[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
        ))
        .unwrap()
    })
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_rfc2822(text))
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// `text` with its UUIDs numbered and its clock times replaced.
pub fn redact(text: &str) -> String {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let text = uuid_pattern().replace_all(text, |c: &Captures| {
        let next = seen.len() + 1;
        let n = *seen.entry(c[0].to_lowercase()).or_insert(next);
        format!("[uuid-{n}]")
    });
    let now = Utc::now();
    time_pattern()
        .replace_all(&text, |c: &Captures| match parse_time(&c[0]) {
            Some(t) if (now - t).num_hours().abs() < 24 => "[now]".to_string(),
            _ => c[0].to_string(),
        })
        .into_owned()
}

/// Asserts that `text`, redacted, is the committed snapshot `name`.
pub fn assert_redacted_snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, redact(text)));
}

#[test]
fn redaction_numbers_uuids_and_hides_only_clock_times() {
    let now = Utc::now();
    let text = format!(
        "a 0190f5c4-6a1b-7c3d-8e9f-0123456789ab b 0190F5C4-6A1B-7C3D-8E9F-0123456789AB \
         c 11111111-2222-4333-8444-555555555555 {} {} {} 2014-10-19T01:00:00Z 20141019T010000Z",
        now.to_rfc3339(),
        now.format("%Y%m%dT%H%M%SZ"),
        now.format("%a, %d %b %Y %H:%M:%S GMT"),
    );
    assert_eq!(
        redact(&text),
        "a [uuid-1] b [uuid-1] c [uuid-2] [now] [now] [now] 2014-10-19T01:00:00Z 20141019T010000Z"
    );
}
