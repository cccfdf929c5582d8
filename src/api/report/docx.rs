//! The report as a Word document, built with `docx-rs`: real heading styles (so Word's and WPS's
//! navigation pane lists the sections), paragraphs with a two-character first-line indent as
//! Chinese documents have, and tables. Fonts are named for both ASCII and East Asian text: a
//! font named for ASCII only leaves Chinese to whatever the reader's default is.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, Docx, LineSpacing, PageMargin, Paragraph, Run, RunFonts, Shading,
    SpecialIndentType, Style, StyleType, Table, TableCell, TableLayoutType, TableRow, WidthType,
};

use super::block::{Block, Cell, Span};
use super::document;
use super::model::Report;
use crate::error::{AppError, AppResult};

/// 宋体 for the text, 黑体 for headings: what Word and WPS on Chinese systems have.
const BODY_FONT: &str = "宋体";
const HEADING_FONT: &str = "黑体";
const LATIN_FONT: &str = "Times New Roman";

/// A4 in twentieths of a point, and margins close to GB/T 9704's.
const A4: (u32, u32) = (11906, 16838);
const TEXT_WIDTH: usize = 11906 - 1588 - 1474;

fn fonts(east_asia: &str) -> RunFonts {
    RunFonts::new()
        .east_asia(east_asia)
        .ascii(LATIN_FONT)
        .hi_ansi(LATIN_FONT)
        .hint("eastAsia")
}

fn styles(docx: Docx) -> Docx {
    let heading = |id: &str, name: &str, size: usize, level: usize| {
        Style::new(id, StyleType::Paragraph)
            .name(name)
            .based_on("Normal")
            .next("Normal")
            .fonts(fonts(HEADING_FONT))
            .size(size)
            .outline_lvl(level)
            .line_spacing(LineSpacing::new().before(240).after(120))
            .q_format(true)
    };
    docx.add_style(heading("Title", "Title", 44, 0).align(AlignmentType::Center))
        .add_style(heading("Heading1", "heading 1", 32, 0))
        .add_style(
            Style::new("Caption", StyleType::Paragraph)
                .name("caption")
                .based_on("Normal")
                .fonts(fonts(HEADING_FONT))
                .size(21)
                .align(AlignmentType::Center),
        )
}

pub fn render(report: &Report) -> AppResult<Vec<u8>> {
    let day = report
        .campaign
        .ends_on
        .format("%Y-%m-%dT00:00:00Z")
        .to_string();
    let mut docx = styles(
        Docx::new()
            .page_size(A4.0, A4.1)
            .page_margin(
                PageMargin::new()
                    .top(2098)
                    .bottom(1984)
                    .left(1588)
                    .right(1474),
            )
            .default_fonts(fonts(BODY_FONT))
            .default_size(24)
            // 1.5 lines: Chinese text set single-spaced reads cramped.
            .default_line_spacing(LineSpacing::new().line(360))
            // Fixed dates keep the file the same for the same data (and so its ETag).
            .created_at(&day)
            .updated_at(&day),
    );
    for block in document::blocks(report) {
        docx = match block {
            Block::Title(t) => docx.add_paragraph(
                Paragraph::new()
                    .style("Title")
                    .align(AlignmentType::Center)
                    .add_run(Run::new().add_text(t)),
            ),
            Block::Heading(t) => docx.add_paragraph(
                Paragraph::new()
                    .style("Heading1")
                    .keep_next(true)
                    .add_run(Run::new().add_text(t)),
            ),
            Block::Para(spans) => docx.add_paragraph(paragraph(&spans)),
            Block::Table(t) => docx
                .add_paragraph(
                    Paragraph::new()
                        .style("Caption")
                        .keep_next(true)
                        .add_run(Run::new().add_text(t.caption)),
                )
                .add_table(table(&t.head, &t.rows)),
            // Charts are in the xlsx and the HTML; their figures are in the tables here.
            Block::Chart(_) => docx,
            Block::DateLine(t) => docx.add_paragraph(
                Paragraph::new()
                    .align(AlignmentType::Right)
                    .add_run(Run::new().add_text(t)),
            ),
        };
    }
    let mut out = Cursor::new(Vec::new());
    docx.build()
        .pack(&mut out)
        .map_err(|e| AppError::internal(format!("docx: {e}")))?;
    Ok(out.into_inner())
}

fn paragraph(spans: &[Span]) -> Paragraph {
    // Two characters of 12 pt, in twips: a character count (`firstLineChars`) is not read by
    // every word processor.
    let indent = Some(SpecialIndentType::FirstLine(480));
    spans
        .iter()
        .fold(Paragraph::new().indent(None, indent, None, None), |p, s| {
            let run = Run::new().add_text(&s.text);
            p.add_run(if s.bold {
                run.bold().fonts(fonts(HEADING_FONT))
            } else {
                run
            })
        })
}

fn table(head: &[String], rows: &[Vec<Cell>]) -> Table {
    let widths = column_widths(head, rows);
    let small = |text: &str, bold: bool, right: bool| {
        let run = Run::new().add_text(text).size(20);
        let p = Paragraph::new()
            .line_spacing(LineSpacing::new().line(264))
            .add_run(if bold { run.bold() } else { run });
        p.align(if right {
            AlignmentType::Right
        } else {
            AlignmentType::Left
        })
    };
    let header = TableRow::new(
        head.iter()
            .zip(&widths)
            .map(|(h, w)| {
                TableCell::new()
                    .width(*w, WidthType::Dxa)
                    .shading(Shading::new().fill("F0F0F0"))
                    .add_paragraph(small(h, true, false))
            })
            .collect(),
    )
    .cant_split();
    let body = rows.iter().map(|row| {
        TableRow::new(
            row.iter()
                .zip(&widths)
                .map(|(c, w)| {
                    TableCell::new()
                        .width(*w, WidthType::Dxa)
                        .add_paragraph(small(&c.text, false, c.numeric))
                })
                .collect(),
        )
        .cant_split()
    });
    Table::new(std::iter::once(header).chain(body).collect())
        .set_grid(widths)
        .layout(TableLayoutType::Fixed)
        .width(TEXT_WIDTH, WidthType::Dxa)
}

/// Column widths in twips: short columns (counts, kinds, dates) as wide as their longest text,
/// long ones (lists of names) sharing the rest; all scaled down together when even the short
/// ones do not fit. Text is measured in half-width units: a Chinese character takes two.
fn column_widths(head: &[String], rows: &[Vec<Cell>]) -> Vec<usize> {
    /// A half-width unit of 10 pt text, and a cell's left and right margins.
    const UNIT: usize = 100;
    const PADDING: usize = 240;
    const SHORT: usize = 20;
    let units =
        |text: &str| -> usize { text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum() };
    let wanted: Vec<usize> = (0..head.len())
        .map(|i| {
            std::iter::once(units(&head[i]))
                .chain(rows.iter().filter_map(|r| r.get(i)).map(|c| units(&c.text)))
                .max()
                .unwrap_or(1)
                .max(2)
        })
        .collect();
    let natural: Vec<usize> = wanted
        .iter()
        .map(|u| u.min(&SHORT) * UNIT + PADDING)
        .collect();
    let short: usize = natural
        .iter()
        .zip(&wanted)
        .filter(|(_, u)| **u <= SHORT)
        .map(|(n, _)| n)
        .sum();
    let long: usize = wanted.iter().filter(|u| **u > SHORT).sum();
    if short >= TEXT_WIDTH || long == 0 {
        // Nothing to stretch or too little room: every column in proportion.
        let total = natural.iter().sum::<usize>().max(1);
        return natural.iter().map(|n| TEXT_WIDTH * n / total).collect();
    }
    let room = TEXT_WIDTH - short;
    natural
        .iter()
        .zip(&wanted)
        .map(|(n, u)| if *u <= SHORT { *n } else { room * u / long })
        .collect()
}
