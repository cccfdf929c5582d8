//! iCalendar (RFC 5545), written event by event.
//!
//! The calendar's own properties are written here, not by the `icalendar` crate: it leaves
//! `NAME` (RFC 7986) unescaped, so a campaign name with a line break would start new content
//! lines (a forged `VEVENT`, say). Every TEXT value built from stored text goes through
//! [`text_value`] and every line through [`fold`].

use icalendar::{Component, EventLike, EventStatus};

use super::{Feed, location, without_controls};
use crate::api::events::Event;
use crate::api::shared::Status;

/// RFC 5545 3.1: content lines are at most 75 octets, excluding the line break.
const MAX_LINE_OCTETS: usize = 75;
const PRODID: &str = "-//learnweek//Lifelong Learning Activity Week//ZH";
/// How often clients should refetch (`REFRESH-INTERVAL`, `X-PUBLISHED-TTL`).
const REFRESH: &str = "PT3600S";

pub(super) fn head(feed: &Feed, out: &mut Vec<u8>) {
    let name = text_value(&feed.campaign.name);
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        format!("PRODID:{PRODID}"),
        "CALSCALE:GREGORIAN".into(),
        format!("NAME:{name}"),
        format!("X-WR-CALNAME:{name}"),
        format!("REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}"),
        format!("X-PUBLISHED-TTL:{REFRESH}"),
    ];
    for line in lines {
        fold(&line, out);
    }
}

pub(super) fn event(e: &Event, out: &mut Vec<u8>) {
    let mut ve = icalendar::Event::new();
    ve.uid(&format!("{}@learnweek", e.id))
        .timestamp(e.updated_at)
        .created(e.created_at)
        .last_modified(e.updated_at)
        .sequence(u32::try_from(e.sequence).unwrap_or(0))
        .status(if e.status == Status::Cancelled {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        })
        .summary(&without_controls(&e.title))
        .starts(e.starts_at);
    // RFC 5545 3.8.2.2: DTEND must be later than DTSTART; an instant has none.
    if e.ends_at > e.starts_at {
        ve.ends(e.ends_at);
    }
    if let Some(location) = location(e) {
        ve.location(&without_controls(&location));
    }
    let description = [e.summary.as_deref(), e.description.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n\n");
    if !description.is_empty() {
        ve.description(&without_controls(&description));
    }
    if !e.tags.is_empty() {
        ve.categories(e.tags.iter().map(|t| without_controls(t).into_owned()));
    }
    // The crate escapes the TEXT values of these properties itself.
    refold(&ve.done().to_string(), out);
}

pub(super) const TAIL: &[u8] = b"END:VCALENDAR\r\n";

/// RFC 5545 3.3.11 TEXT: backslash, semicolon and comma escaped, a line break as `\n`;
/// control characters other than line breaks and tabs dropped.
pub(super) fn text_value(text: &str) -> String {
    let text = without_controls(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded to 75 octets at character boundaries (never inside a UTF-8
/// sequence), with CRLF.
fn fold(line: &str, out: &mut Vec<u8>) {
    let mut rest = line;
    let mut limit = MAX_LINE_OCTETS;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.extend_from_slice(&rest.as_bytes()[..cut]);
        out.extend_from_slice(b"\r\n ");
        rest = &rest[cut..];
        // The continuation's leading space counts.
        limit = MAX_LINE_OCTETS - 1;
    }
    out.extend_from_slice(rest.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// icalendar 0.17 folds content lines on character boundaries, but its loop stops while up to
/// 75 octets remain and then writes them after the continuation's leading space: the last
/// continuation of a long line can be 76 octets. Re-fold only the lines that are too long.
fn refold(ics: &str, out: &mut Vec<u8>) {
    if ics.split("\r\n").all(|line| line.len() <= MAX_LINE_OCTETS) {
        out.extend_from_slice(ics.as_bytes());
        return;
    }
    for line in ics.split_inclusive("\r\n") {
        match line.strip_suffix("\r\n") {
            Some(content) => fold(content, out),
            None => out.extend_from_slice(line.as_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::feeds::tests::{campaign, feed};

    fn folded(line: &str) -> String {
        let mut out = Vec::new();
        fold(line, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn calendar_with_summary(summary: &str) -> String {
        let mut cal = icalendar::Calendar::empty();
        cal.push(icalendar::Event::new().uid("u").summary(summary).done());
        cal.done().to_string()
    }

    fn refolded(ics: &str) -> String {
        let mut out = Vec::new();
        refold(ics, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// The crate's own folding, on a line of exactly 150 octets, leaves a 76-octet line.
    #[test]
    fn icalendar_folding_overruns_and_is_fixed() {
        let summary = "x".repeat(150 - "SUMMARY:".len());
        let raw = calendar_with_summary(&summary);
        assert!(raw.split("\r\n").any(|l| l.len() > MAX_LINE_OCTETS));
        let fixed = refolded(&raw);
        assert!(fixed.split("\r\n").all(|l| l.len() <= MAX_LINE_OCTETS));
        assert!(icalendar::parser::unfold(&fixed).contains(&format!("SUMMARY:{summary}\r\n")));
    }

    #[test]
    fn folding_keeps_characters_whole_at_every_length() {
        for alphabet in ["x", "高", "😀", "高 州", "é a"] {
            for n in 0..200 {
                for pad in 0..4 {
                    let summary: String =
                        "a".repeat(pad) + &alphabet.chars().cycle().take(n).collect::<String>();
                    let expected = format!("SUMMARY:{summary}\r\n");
                    for ics in [
                        refolded(&calendar_with_summary(&summary)),
                        folded(&expected),
                    ] {
                        assert!(ics.split("\r\n").all(|l| l.len() <= MAX_LINE_OCTETS));
                        let unfolded = icalendar::parser::unfold(&ics);
                        assert!(unfolded.contains(&expected), "{alphabet} {n} {pad}");
                    }
                }
            }
        }
    }

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(text_value("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
        assert_eq!(text_value("x\r\ny\rz\u{0b}"), "x\\ny\\nz");
    }

    /// A campaign named to forge an event (or to break the calendar's properties) stays one
    /// NAME and one X-WR-CALNAME, each one logical line, and reads back as it was stored.
    #[test]
    fn the_campaign_name_cannot_inject_lines() {
        let name = "高州; a, b \\ c\r\nBEGIN:VEVENT\r\nUID:forged\r\nSUMMARY:伪造\r\nEND:VEVENT\nX";
        let feed = feed(campaign(name));
        let mut out = Vec::new();
        head(&feed, &mut out);
        out.extend_from_slice(TAIL);
        let ics = String::from_utf8(out).unwrap();
        let unfolded = icalendar::parser::unfold(&ics);
        let lines: Vec<&str> = unfolded.trim_end().split("\r\n").collect();
        let keys: Vec<&str> = lines
            .iter()
            .map(|l| l.split([':', ';']).next().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "BEGIN",
                "VERSION",
                "PRODID",
                "CALSCALE",
                "NAME",
                "X-WR-CALNAME",
                "REFRESH-INTERVAL",
                "X-PUBLISHED-TTL",
                "END"
            ],
            "{ics}"
        );
        let escaped =
            "高州\\; a\\, b \\\\ c\\nBEGIN:VEVENT\\nUID:forged\\nSUMMARY:伪造\\nEND:VEVENT\\nX";
        assert_eq!(lines[4], format!("NAME:{escaped}"));
        assert_eq!(lines[5], format!("X-WR-CALNAME:{escaped}"));
        assert!(ics.split("\r\n").all(|l| l.len() <= MAX_LINE_OCTETS));

        let calendar: icalendar::Calendar = ics.parse().unwrap();
        assert_eq!(calendar.events().count(), 0);
        // (The crate unescapes X-WR-CALNAME but does not know that NAME is TEXT too.)
        let stored = name.replace("\r\n", "\n");
        assert_eq!(
            calendar.property_value("X-WR-CALNAME"),
            Some(stored.as_str())
        );
        assert_eq!(calendar.property_value("NAME"), Some(escaped));
    }
}
