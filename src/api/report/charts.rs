//! Horizontal bar charts as inline SVG: markup in the page, not a loaded resource, so the page
//! stays self-contained and prints sharp at any resolution.

use std::fmt::Write;

use super::block::Chart;

const WIDTH: f64 = 640.0;
const LABEL_WIDTH: f64 = 150.0;
const VALUE_WIDTH: f64 = 70.0;
const BAR_HEIGHT: f64 = 18.0;
const GAP: f64 = 6.0;
const TOP: f64 = 28.0;

/// The chart as an `<svg>` element with a title, one bar per entry, its value beside it.
pub fn svg(chart: &Chart) -> String {
    let n = chart.bars.len() as f64;
    let height = TOP + n * (BAR_HEIGHT + GAP) + GAP;
    let max = chart
        .bars
        .iter()
        .map(|(_, v, _)| *v)
        .fold(0.0_f64, f64::max);
    let span = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    let mut out = String::new();
    let _ = write!(
        out,
        // No `xmlns`: HTML parsers put `<svg>` in its namespace themselves, and the page holds
        // no URL at all.
        "<svg class=\"chart\" role=\"img\" \
         viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" \
         aria-label=\"{title}\"><title>{title}</title>\
         <text x=\"0\" y=\"18\" class=\"chart-title\">{title}</text>",
        title = escape(&chart.title)
    );
    for (i, (label, value, shown)) in chart.bars.iter().enumerate() {
        let y = TOP + i as f64 * (BAR_HEIGHT + GAP);
        let w = if max > 0.0 { value / max * span } else { 0.0 };
        let text_y = y + BAR_HEIGHT - 4.0;
        let _ = write!(
            out,
            "<text x=\"{lx}\" y=\"{text_y}\" text-anchor=\"end\">{label}</text>\
             <rect x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{w:.1}\" height=\"{BAR_HEIGHT}\"/>\
             <text x=\"{vx:.1}\" y=\"{text_y}\">{shown}</text>",
            lx = LABEL_WIDTH - 8.0,
            label = escape(label),
            vx = LABEL_WIDTH + w + 6.0,
            shown = escape(shown),
        );
    }
    out.push_str("</svg>");
    out
}

/// Text and attribute values: every character HTML gives a meaning to.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_text_is_escaped() {
        let chart = Chart {
            title: "a<b>".into(),
            bars: vec![
                ("x&y".into(), 10.0, "10".into()),
                ("z".into(), 5.0, "5".into()),
            ],
        };
        let svg = svg(&chart);
        assert!(svg.contains("a&lt;b&gt;") && svg.contains("x&amp;y"));
        assert!(svg.contains("width=\"420.0\"") && svg.contains("width=\"210.0\""));
        assert!(!svg.contains("<b>"));
    }

    #[test]
    fn an_empty_or_all_zero_chart_draws_no_bars_of_width() {
        let chart = Chart {
            title: "t".into(),
            bars: vec![("z".into(), 0.0, "0".into())],
        };
        assert!(svg(&chart).contains("width=\"0.0\""));
    }
}
