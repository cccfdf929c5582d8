//! The report as Markdown: the same blocks, tables as GitHub-flavoured tables; charts are left
//! out (their figures are in the tables beside them).

use std::fmt::Write;

use super::block::{Block, Table, spans_text};
use super::document::blocks;
use super::model::Report;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for block in blocks(report) {
        match block {
            Block::Title(t) => {
                let _ = writeln!(out, "# {}\n", inline(&t));
            }
            Block::Heading(t) => {
                let _ = writeln!(out, "## {}\n", inline(&t));
            }
            Block::Para(spans) => {
                let _ = writeln!(out, "{}\n", spans_text(&spans, inline, ("**", "**")));
            }
            Block::Table(t) => table(&mut out, &t),
            Block::Chart(_) => {}
            Block::DateLine(t) => {
                let _ = writeln!(out, "<p align=\"right\">{}</p>", inline(&t));
            }
        }
    }
    out
}

fn table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "**{}**\n", inline(&t.caption));
    let _ = writeln!(
        out,
        "| {} |",
        t.head
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let align: Vec<&str> = (0..t.head.len())
        .map(|i| {
            let numeric = t.rows.iter().any(|r| r.get(i).is_some_and(|c| c.numeric));
            if numeric { "---:" } else { "---" }
        })
        .collect();
    let _ = writeln!(out, "| {} |", align.join(" | "));
    for row in &t.rows {
        let cells: Vec<String> = row.iter().map(|c| cell(&c.text)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// Text with Markdown's and HTML's active characters escaped, so a title cannot start a list,
/// a link or a tag.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn cell(text: &str) -> String {
    inline(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_titles_is_escaped() {
        assert_eq!(inline("a|b *c* <x>"), "a\\|b \\*c\\* &lt;x&gt;");
        assert_eq!(inline("第一行\n[链接](x)"), "第一行 \\[链接\\](x)");
    }
}
