//! Coverage: every message a client can see has a translation. Walks `src/`, collects the
//! string literals that can end up in a problem, and checks that each translates.

use std::path::Path;

use super::{Piece, pieces, to_chinese};

fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Files that never build a response: command line, startup, embedded cluster, seed data,
/// OpenAPI prose, metric help texts, the change listener, the journal, the feed and report
/// renderers (documents, not problems). (And this module.)
const NOT_CLIENT_FACING: &[&str] = &[
    "src/api/feeds/atom.rs",
    "src/api/feeds/ics.rs",
    "src/api/feeds/json.rs",
    "src/api/report",
    "src/cli.rs",
    "src/config.rs",
    "src/embedded.rs",
    "src/db.rs",
    "src/seed",
    "src/openapi",
    "src/metrics.rs",
    "src/change_signal.rs",
    "src/replica.rs",
    "src/journal.rs",
    "src/schema.rs",
    "src/i18n",
];

/// Calls whose text never reaches a client: causes of 5xx (logged, the client gets a fixed
/// detail), log lines, SQL, test assertions.
const SILENT_CALLS: &[&str] = &[
    "AppError::internal",
    "AppError::unavailable",
    "internal",
    "sql_query",
    // matching other programs' texts (database errors), schema prose
    "contains",
    "description",
    "log::error!",
    "log::warn!",
    "log::info!",
    "log::debug!",
    "log::trace!",
    "assert!",
    "assert_eq!",
    "panic!",
];

/// Literals outside those that are not messages (each with what it is).
const NOT_MESSAGES: &[&str] = &[
    // SQL (the figures' campaign groups).
    "unnest($1::uuid[], $2::text[]) AS g(campaign_id, grp)",
    // header values, media types, formats
    "default-src 'none'; frame-ancestors 'none'",
    "public, max-age=60",
    "text/calendar; charset=utf-8",
    "application/atom+xml; charset=utf-8",
    "application/feed+json; charset=utf-8",
    "text/plain; version=0.0.4; charset=utf-8",
    "text/csv; charset=utf-8",
    "<{}>; rel=\"next\"",
    "%a \"%r\" %s %b %Ts rid=%{x-request-id}o",
    "Bearer realm=\"learnweek\", error=\"invalid_token\"",
    "%Y-%m-%d %H:%M",
    "Bearer realm=\"learnweek\"",
    // the feeds' response descriptions in the OpenAPI document (`feed_handler!`)
    "iCalendar (`text/calendar; charset=utf-8`)",
    "Atom feed",
    "JSON Feed 1.1",
    // feed text built from the data (event times, venues), iCalendar's product id and folding
    "{}–{end} ({})",
    "{name}, {address}",
    "-//learnweek//Lifelong Learning Activity Week//ZH",
    "\r\n ",
    // the log line of a 5xx (`Display for AppError`)
    " ({cause})",
    // list separators and parsing aids
    ", ",
    " at line ",
    "missing field",
    // why a webhook subscription was disabled: stored, shown in the subscription, not a problem
    "the endpoint answered 410 Gone",
    "deliveries failed for 3 days",
];

#[test]
fn every_client_visible_literal_is_translated() {
    let mut literals = Vec::new();
    walk(Path::new(env!("CARGO_MANIFEST_DIR")), "src", &mut literals);
    assert!(
        literals.len() > 100,
        "found only {} literals",
        literals.len()
    );
    let mut missing = Vec::new();
    for (place, text) in literals {
        // PostgreSQL's texts that mean "the database is not there" are not messages either.
        let not_a_message = NOT_MESSAGES.contains(&text.as_str())
            || crate::error::UNAVAILABLE_SIGNS.contains(&text.as_str());
        if !looks_like_a_message(&text) || not_a_message {
            continue;
        }
        // As written, or as `format!` fills it.
        if !has_cjk(&to_chinese(&text)) && !has_cjk(&to_chinese(&fill_sample(&text))) {
            missing.push(format!("{place}: {text:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "add these to src/i18n/catalog.rs (or to NOT_MESSAGES when a client never sees them):\n{}",
        missing.join("\n")
    );
}

fn walk(root: &Path, dir: &str, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let rel = format!("{dir}/{}", entry.file_name().to_string_lossy());
        if NOT_CLIENT_FACING.contains(&rel.as_str()) {
            continue;
        }
        if entry.path().is_dir() {
            walk(root, &rel, out);
        } else if rel.ends_with(".rs") {
            let source = std::fs::read_to_string(entry.path()).unwrap_or_default();
            // Unit tests sit at the end of a file.
            let code = source
                .find("\n#[cfg(test)]\nmod ")
                .map_or(source.as_str(), |at| &source[..at]);
            for (line, text) in string_literals(code) {
                out.push((format!("{rel}:{line}"), text));
            }
        }
    }
}

/// Prose: words (not only `column.names` or `{placeholders}`) with spaces between, and not SQL.
fn looks_like_a_message(text: &str) -> bool {
    let sql = [
        "SELECT ", "INSERT ", "UPDATE ", "DELETE ", "WITH ", "LISTEN ", "CREATE ",
    ];
    let has_a_word = text.split_whitespace().any(|w| {
        let w = w.trim_matches(|c: char| c.is_ascii_punctuation() && c != '_' && c != '.');
        w.len() > 1 && w.chars().all(|c| c.is_ascii_alphabetic())
    });
    text.contains(' ') && has_a_word && !sql.iter().any(|k| text.trim_start().starts_with(k))
}

/// `format!` placeholders replaced by a sample value.
fn fill_sample(text: &str) -> String {
    pieces(text)
        .map(|piece| match piece {
            Piece::Char(c) => c,
            Piece::Hole(_) => '7',
            Piece::Unclosed => '{',
        })
        .collect()
}

/// The string literals of Rust source with their line numbers, leaving out comments,
/// attributes (`#[utoipa::path(...)]` prose), byte strings and the arguments of
/// [`SILENT_CALLS`].
fn string_literals(code: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    // Where a skipped region (attribute, silent call) ends: the depth of brackets to leave.
    let mut skip_depth: Option<usize> = None;
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\n' => line += 1,
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '/' if next == Some('*') => {
                let mut nest = 0;
                while i < chars.len() {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        nest += 1;
                        i += 1;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        nest -= 1;
                        i += 1;
                        if nest == 0 {
                            i += 1;
                            break;
                        }
                    } else if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
                continue;
            }
            '\'' => {
                // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
                if next == Some('\\') {
                    i += 3;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 2;
                }
            }
            // An attribute: skipped up to its closing bracket.
            '#' if skip_depth.is_none()
                && (next == Some('[') || (next == Some('!') && chars.get(i + 2) == Some(&'['))) =>
            {
                skip_depth = Some(depth);
            }
            '(' | '[' | '{' => {
                if skip_depth.is_none() && c == '(' && silent_call_before(&chars, i) {
                    skip_depth = Some(depth);
                }
                depth += 1;
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                if skip_depth == Some(depth) {
                    skip_depth = None;
                }
            }
            '"' | 'r' | 'b' => {
                if let Some((text, end, is_bytes)) = literal_at(&chars, i) {
                    if skip_depth.is_none() && !is_bytes {
                        out.push((line, text));
                    }
                    line += chars[i..end].iter().filter(|c| **c == '\n').count();
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn silent_call_before(chars: &[char], open: usize) -> bool {
    let before: String = chars[open.saturating_sub(40)..open].iter().collect();
    SILENT_CALLS.iter().any(|call| {
        before.ends_with(call)
            && !before[..before.len() - call.len()]
                .ends_with(|c: char| c.is_alphanumeric() || c == '_')
    })
}

/// A string literal starting at `i`: its value, where it ends, and whether it is a byte
/// string. `None` when `i` starts no literal (e.g. the `r` of `return`).
fn literal_at(chars: &[char], i: usize) -> Option<(String, usize, bool)> {
    // An identifier's letter is not a prefix.
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i;
    let is_bytes = chars[j] == 'b';
    if is_bytes {
        j += 1;
    }
    if chars.get(j) == Some(&'r') {
        j += 1;
        let hashes = chars[j..].iter().take_while(|c| **c == '#').count();
        j += hashes;
        if chars.get(j) != Some(&'"') {
            return None;
        }
        let start = j + 1;
        let mut k = start;
        while k < chars.len() {
            if chars[k] == '"'
                && chars[k + 1..]
                    .iter()
                    .take(hashes)
                    .filter(|c| **c == '#')
                    .count()
                    == hashes
            {
                let text: String = chars[start..k].iter().collect();
                return Some((text, k + 1 + hashes, is_bytes));
            }
            k += 1;
        }
        return None;
    }
    if chars.get(j) != Some(&'"') {
        return None;
    }
    let mut text = String::new();
    let mut k = j + 1;
    while k < chars.len() {
        match chars[k] {
            '"' => return Some((text, k + 1, is_bytes)),
            '\\' => {
                k += 1;
                match chars.get(k) {
                    Some('n') => text.push('\n'),
                    Some('r') => text.push('\r'),
                    Some('t') => text.push('\t'),
                    Some('0') => text.push('\0'),
                    Some('\n') => {
                        // A line continuation: the newline and the next line's indent go.
                        while chars.get(k + 1).is_some_and(|c| c.is_whitespace()) {
                            k += 1;
                        }
                    }
                    Some('u') => {
                        let end = chars[k..].iter().position(|c| *c == '}').unwrap_or(0);
                        let hex: String = chars[k + 2..k + end].iter().collect();
                        if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                        {
                            text.push(c);
                        }
                        k += end;
                    }
                    Some(other) => text.push(*other),
                    None => {}
                }
            }
            other => text.push(other),
        }
        k += 1;
    }
    None
}
