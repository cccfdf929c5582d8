//! The blocks a report is written in (headings, paragraphs, tables, charts), and the small
//! helpers that build them, shared by the sections and laid out by each renderer.

pub enum Block {
    Title(String),
    Heading(String),
    Para(Vec<Span>),
    Table(Table),
    Chart(Chart),
    /// The date under the text, set to the right.
    DateLine(String),
}

pub struct Span {
    pub text: String,
    pub bold: bool,
}

pub struct Table {
    pub caption: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

pub struct Cell {
    pub text: String,
    /// Figures are set to the right.
    pub numeric: bool,
}

/// A bar chart: a label and a value per bar.
pub struct Chart {
    pub title: String,
    pub bars: Vec<(String, f64, String)>,
}

/// A paragraph's spans as marked-up text: each escaped with `escape`, the bold ones between
/// the `bold` marks (`("<strong>", "</strong>")`, `("**", "**")`).
pub(super) fn spans_text(spans: &[Span], escape: fn(&str) -> String, bold: (&str, &str)) -> String {
    spans
        .iter()
        .map(|s| {
            if s.bold {
                format!("{}{}{}", bold.0, escape(&s.text), bold.1)
            } else {
                escape(&s.text)
            }
        })
        .collect()
}

pub(super) fn plain(text: impl Into<String>) -> Span {
    Span {
        text: text.into(),
        bold: false,
    }
}

pub(super) fn bold(text: impl Into<String>) -> Span {
    Span {
        text: text.into(),
        bold: true,
    }
}

pub(super) fn para(text: impl Into<String>) -> Block {
    Block::Para(vec![plain(text)])
}

pub(super) fn text(t: impl Into<String>) -> Cell {
    Cell {
        text: t.into(),
        numeric: false,
    }
}

pub(super) fn num(n: impl ToString) -> Cell {
    Cell {
        text: n.to_string(),
        numeric: true,
    }
}

pub(super) fn table(caption: &str, head: &[&str], rows: Vec<Vec<Cell>>) -> Block {
    Block::Table(Table {
        caption: caption.into(),
        head: head.iter().map(|h| (*h).into()).collect(),
        rows,
    })
}

/// A table of counts by label, closed by their total (合计).
pub(super) fn counts_table<K: Copy>(
    caption: &str,
    head: &[&str],
    counts: &std::collections::BTreeMap<K, i64>,
    label: fn(K) -> &'static str,
    total: i64,
) -> Block {
    let mut rows: Vec<Vec<Cell>> = counts
        .iter()
        .map(|(k, n)| vec![text(label(*k)), num(n)])
        .collect();
    rows.push(vec![text("合计"), num(total)]);
    table(caption, head, rows)
}

pub(super) fn chart(title: &str, bars: impl IntoIterator<Item = (String, i64)>) -> Block {
    Block::Chart(Chart {
        title: title.into(),
        bars: bars
            .into_iter()
            .map(|(label, n)| (label, n as f64, n.to_string()))
            .collect(),
    })
}

/// `A、B、C`.
pub(super) fn joined(names: &[String]) -> String {
    names.join("、")
}

/// Chinese ordinal for sub-items: （一）, （二）, ...
pub(super) fn ordinal(i: usize) -> String {
    const DIGITS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    match i {
        0..=9 => format!("（{}）", DIGITS[i]),
        10..=18 => format!("（十{}）", DIGITS[i - 10]),
        _ => format!("（{}）", i + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_count_on_past_ten() {
        assert_eq!(ordinal(0), "（一）");
        assert_eq!(ordinal(9), "（十）");
        assert_eq!(ordinal(10), "（十一）");
        assert_eq!(ordinal(18), "（十九）");
        assert_eq!(ordinal(19), "（20）");
    }
}
