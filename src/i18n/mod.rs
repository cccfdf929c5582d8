//! Problem details in the caller's language. Errors are built in English everywhere; when a
//! caller prefers Chinese, [`crate::http::locale`] runs each `title`, `detail` and
//! `errors[].message` through [`to_chinese`] on the way out.
//!
//! The catalog ([`catalog::ENTRIES`], and [`libraries::ENTRIES`] for what serde, uuid, chrono
//! and std say) pairs English texts with Simplified Chinese ones. An
//! English text may hold placeholders for its dynamic parts, which the Chinese text puts back:
//!
//! - `{}` any non-empty text, kept as it is (a value the client sent, a field name);
//! - `{n}` a number, kept as it is;
//! - `{t}` any non-empty text that is itself translated when the catalog knows it (a role, a
//!   noun, serde's "a string", the reason after `line 4: `).
//!
//! In the Chinese text `{}`, `{n}` and `{t}` take the captures in order; `{0}`, `{1}`, ... take
//! them by position. `{{` and `}}` are literal braces. A text the catalog does not know stays
//! English: nothing is ever dropped.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

mod catalog;
#[cfg(test)]
mod coverage;
mod libraries;
#[cfg(test)]
mod tests;

/// The `Content-Language` of a translated problem. The catalog is Simplified Chinese; callers
/// asking for `zh-TW`/`zh-Hant` get it too (better than English for them).
pub const CHINESE: &str = "zh-CN";
pub const ENGLISH: &str = "en";

/// How deep `{t}` captures are translated in turn.
const MAX_DEPTH: usize = 3;
/// Work allowed per text and pattern (backtracking over long client-sent values is bounded).
const MAX_STEPS: usize = 4096;

/// `text` in Simplified Chinese, or `text` itself when the catalog does not know it.
pub fn to_chinese(text: &str) -> Cow<'_, str> {
    translate(catalog(), text, 0)
}

/// Whether an `Accept-Language` value (the field's lines joined by commas) prefers Chinese:
/// some `zh*` range with q > 0 ranks above every `en*` range (on equal q, the one listed first
/// wins). `*` and other languages choose neither; English is the default.
pub fn prefers_chinese(accept_language: &str) -> bool {
    // (q in thousandths, position) of the best range of each language.
    let mut zh: Option<(u16, usize)> = None;
    let mut en: Option<(u16, usize)> = None;
    for (position, range) in accept_language.split(',').enumerate() {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let mut q = Some(1000);
        for param in parts {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            if name.trim().eq_ignore_ascii_case("q") {
                q = qvalue(value.trim());
            }
        }
        // A malformed weight makes the whole range unusable.
        let Some(q) = q else { continue };
        let primary = tag.split('-').next().unwrap_or("");
        let best = if primary.eq_ignore_ascii_case("zh") {
            &mut zh
        } else if primary.eq_ignore_ascii_case("en") {
            &mut en
        } else {
            continue;
        };
        if best.is_none_or(|(best_q, _)| q > best_q) {
            *best = Some((q, position));
        }
    }
    match (zh, en) {
        (Some((0, _)), _) => false,
        (Some(_), None) => true,
        (Some((zq, zp)), Some((eq, ep))) => zq > eq || (zq == eq && zp < ep),
        (None, _) => false,
    }
}

/// An RFC 9110 `qvalue` in thousandths: `0`, `0.5`, `1`, `1.000`.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// A capture: `{}` (kept), `{n}` (a number, kept), `{t}` (translated in turn).
    Hole(Hole),
    /// In a Chinese template: the capture at this position.
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hole {
    Any,
    Number,
    Translated,
}

/// A piece of a `format!`-style template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    /// A character of literal text (`{{` and `}}` stand for one brace).
    Char(char),
    /// A placeholder, by what stands between its braces (empty for `{}`).
    Hole(&'a str),
    /// A `{` with no `}` after it.
    Unclosed,
}

/// The pieces of a template, in order.
fn pieces(template: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = template;
    std::iter::from_fn(move || {
        let c = rest.chars().next()?;
        if rest.starts_with("{{") || rest.starts_with("}}") {
            rest = &rest[2..];
            return Some(Piece::Char(c));
        }
        if c == '{' {
            let Some(end) = rest.find('}') else {
                rest = &rest[1..];
                return Some(Piece::Unclosed);
            };
            let name = &rest[1..end];
            rest = &rest[end + 1..];
            return Some(Piece::Hole(name));
        }
        rest = &rest[c.len_utf8()..];
        Some(Piece::Char(c))
    })
}

/// Splits a template into literal text and placeholders; `None` for an unknown placeholder.
fn parse_template(template: &str) -> Option<Vec<Part>> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    for piece in pieces(template) {
        let part = match piece {
            Piece::Char(c) => {
                literal.push(c);
                continue;
            }
            Piece::Unclosed => return None,
            Piece::Hole("") => Part::Hole(Hole::Any),
            Piece::Hole("n") => Part::Hole(Hole::Number),
            Piece::Hole("t") => Part::Hole(Hole::Translated),
            Piece::Hole(digits) => Part::Index(digits.parse().ok()?),
        };
        if !literal.is_empty() {
            parts.push(Part::Literal(std::mem::take(&mut literal)));
        }
        parts.push(part);
    }
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Some(parts)
}

/// An English template with placeholders and its Chinese text.
#[derive(Debug)]
struct Pattern {
    english: Vec<Part>,
    chinese: Vec<Part>,
    /// How much literal text the English template has: the most specific match wins.
    weight: usize,
}

#[derive(Debug, Default)]
struct Catalog {
    exact: HashMap<&'static str, &'static str>,
    /// Most specific first.
    patterns: Vec<Pattern>,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| build(entries()))
}

fn entries() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    catalog::ENTRIES.iter().chain(libraries::ENTRIES)
}

/// Entries that do not parse are skipped here (and fail `tests::every_entry_is_well_formed`).
fn build<'a>(entries: impl Iterator<Item = &'a (&'static str, &'static str)>) -> Catalog {
    let mut catalog = Catalog::default();
    for &(english, chinese) in entries {
        let has_holes = english.replace("{{", "").contains('{');
        if !has_holes {
            catalog
                .exact
                .insert(leak_unescaped(english), leak_unescaped(chinese));
            continue;
        }
        if let (Some(english), Some(chinese)) = (parse_template(english), parse_template(chinese)) {
            let weight = english
                .iter()
                .map(|p| match p {
                    Part::Literal(l) => l.chars().count(),
                    _ => 0,
                })
                .sum();
            catalog.patterns.push(Pattern {
                english,
                chinese,
                weight,
            });
        }
    }
    catalog
        .patterns
        .sort_by_key(|p| std::cmp::Reverse(p.weight));
    catalog
}

/// An exact entry as clients see it (`{{` → `{`); borrowed when it has no escapes.
fn leak_unescaped(text: &'static str) -> &'static str {
    if text.contains("{{") || text.contains("}}") {
        // Built once per process, for the few entries with braces.
        Box::leak(text.replace("{{", "{").replace("}}", "}").into_boxed_str())
    } else {
        text
    }
}

fn translate<'a>(catalog: &Catalog, text: &'a str, depth: usize) -> Cow<'a, str> {
    if let Some(chinese) = catalog.exact.get(text) {
        return Cow::Borrowed(chinese);
    }
    if depth >= MAX_DEPTH || text.is_empty() {
        return Cow::Borrowed(text);
    }
    for pattern in &catalog.patterns {
        let mut captures = Vec::new();
        let mut steps = 0;
        if matches(&pattern.english, text, &mut captures, &mut steps) {
            return Cow::Owned(fill(catalog, pattern, &captures, depth));
        }
    }
    Cow::Borrowed(text)
}

/// Matches `text` against `parts`, greedily (a capture takes as much as it can), backtracking
/// within [`MAX_STEPS`].
fn matches<'a>(
    parts: &[Part],
    text: &'a str,
    captures: &mut Vec<(Hole, &'a str)>,
    steps: &mut usize,
) -> bool {
    *steps += 1;
    if *steps > MAX_STEPS {
        return false;
    }
    let Some((first, rest)) = parts.split_first() else {
        return text.is_empty();
    };
    match first {
        Part::Literal(literal) => text
            .strip_prefix(literal.as_str())
            .is_some_and(|text| matches(rest, text, captures, steps)),
        Part::Hole(hole) => {
            match rest.first() {
                None => {
                    let ok = fits(*hole, text);
                    if ok {
                        captures.push((*hole, text));
                    }
                    ok
                }
                Some(Part::Literal(next)) => {
                    for (at, _) in text.rmatch_indices(next.as_str()) {
                        let captured = &text[..at];
                        if !fits(*hole, captured) {
                            continue;
                        }
                        captures.push((*hole, captured));
                        if matches(rest, &text[at..], captures, steps) {
                            return true;
                        }
                        captures.pop();
                        if *steps > MAX_STEPS {
                            return false;
                        }
                    }
                    false
                }
                // Two holes side by side cannot be told apart (the catalog test refuses them).
                Some(_) => false,
            }
        }
        Part::Index(_) => false,
    }
}

fn fits(hole: Hole, captured: &str) -> bool {
    match hole {
        Hole::Any | Hole::Translated => !captured.is_empty(),
        Hole::Number => {
            captured.bytes().any(|b| b.is_ascii_digit())
                && captured
                    .bytes()
                    .enumerate()
                    .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && b == b'-'))
        }
    }
}

fn fill(catalog: &Catalog, pattern: &Pattern, captures: &[(Hole, &str)], depth: usize) -> String {
    let mut out = String::new();
    let mut next = 0;
    for part in &pattern.chinese {
        let index = match part {
            Part::Literal(literal) => {
                out.push_str(literal);
                continue;
            }
            Part::Hole(_) => {
                next += 1;
                next - 1
            }
            Part::Index(i) => *i,
        };
        if let Some((hole, captured)) = captures.get(index) {
            match hole {
                Hole::Translated => out.push_str(&translate(catalog, captured, depth + 1)),
                Hole::Any | Hole::Number => out.push_str(captured),
            }
        }
    }
    out
}
