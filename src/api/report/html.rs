//! The report as one self-contained HTML page, laid out for A4 paper: inline style, charts as
//! inline SVG, no fonts, scripts, images or links fetched from anywhere, so it works offline
//! and under a `default-src 'none'` policy (with inline style allowed).

use std::fmt::Write;

use super::block::{Block, Table, spans_text};
use super::charts::{self, escape};
use super::document::blocks;
use super::model::{Audience, Report};

/// Print first: A4 with the margins of a Chinese official document (GB/T 9704 sets 37 mm
/// top, 28 mm left); on screen the page is shown as a sheet of the same width.
const STYLE: &str = r#"
@page { size: A4; margin: 30mm 26mm 28mm 28mm; }
:root { color: #111; background: #e8e8e8; }
body { margin: 0; font-family: "Noto Serif CJK SC", "Source Han Serif SC", "SimSun", "Songti SC", serif;
  font-size: 12pt; line-height: 1.75; }
main { box-sizing: border-box; width: 210mm; min-height: 297mm; margin: 0 auto; padding: 24mm 26mm;
  background: #fff; }
h1 { font-size: 20pt; text-align: center; margin: 0 0 1.2em; line-height: 1.4;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "Heiti SC", sans-serif; }
h2 { font-size: 14pt; margin: 1.4em 0 0.5em;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "Heiti SC", sans-serif;
  break-after: avoid; }
p { margin: 0 0 0.6em; text-indent: 2em; text-align: justify; }
p.date { text-align: right; text-indent: 0; margin-top: 2em; }
p.audience { text-indent: 0; font-size: 9pt; color: #555; text-align: center; }
table { border-collapse: collapse; width: 100%; margin: 0.4em 0 1em; font-size: 10pt;
  line-height: 1.4; break-inside: avoid; }
caption { font-weight: bold; padding: 0.3em; }
th, td { border: 0.5pt solid #444; padding: 0.2em 0.4em; vertical-align: top; }
th { background: #f0f0f0; white-space: nowrap; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
figure { margin: 0.4em 0 1.2em; break-inside: avoid; }
svg.chart { display: block; max-width: 100%; height: auto; font-size: 12px; }
svg.chart rect { fill: #b22222; }
svg.chart text { fill: #222; }
svg.chart .chart-title { font-weight: bold; font-size: 13px; }
@media print {
  :root { background: none; }
  main { width: auto; min-height: 0; margin: 0; padding: 0; }
}
"#;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(&report.title())
    );
    for block in blocks(report) {
        match block {
            Block::Title(t) => {
                let _ = writeln!(out, "<h1>{}</h1>", escape(&t));
                if report.audience == Audience::Public {
                    out.push_str("<p class=\"edition\">公开版</p>\n");
                }
            }
            Block::Heading(t) => {
                let _ = writeln!(out, "<h2>{}</h2>", escape(&t));
            }
            Block::Para(spans) => {
                let _ = writeln!(
                    out,
                    "<p>{}</p>",
                    spans_text(&spans, escape, ("<strong>", "</strong>"))
                );
            }
            Block::Table(t) => table(&mut out, &t),
            Block::Chart(c) => {
                let _ = writeln!(out, "<figure>{}</figure>", charts::svg(&c));
            }
            Block::DateLine(t) => {
                let _ = writeln!(out, "<p class=\"date\">{}</p>", escape(&t));
            }
        }
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn table(out: &mut String, t: &Table) {
    let _ = write!(
        out,
        "<table>\n<caption>{}</caption>\n<thead><tr>",
        escape(&t.caption)
    );
    for h in &t.head {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for c in row {
            let class = if c.numeric { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(&c.text));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_become_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }

    #[test]
    fn the_style_loads_nothing() {
        for banned in ["url(", "@import", "http:", "https:", "src="] {
            assert!(!STYLE.contains(banned), "{banned}");
        }
    }
}
