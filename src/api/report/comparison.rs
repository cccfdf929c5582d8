//! Section 五、与往年比较: this edition beside the earlier ones, as `/trends` gives them, in
//! words, a table and a chart.

use super::block::{Block, Table, chart, num, para, text};
use super::model::{HEADLINES, Report, percent};
use crate::api::summary::trends::{Change, Figure};

/// A figure as shown: counts as they are, ratios as percentages.
pub fn figure_text(f: Figure) -> String {
    match f {
        Figure::Count(n) => n.to_string(),
        Figure::Ratio(r) => percent(r),
    }
}

/// The change against the previous edition: `+12`, `-3`, `+1.2个百分点`.
fn delta_text(f: Figure) -> String {
    match f {
        Figure::Count(n) => format!("{n:+}"),
        Figure::Ratio(r) => format!("{:+.1}个百分点", r * 100.0),
    }
}

pub fn section(r: &Report, out: &mut Vec<Block>) {
    let t = &r.trends;
    let [.., previous, _] = t.editions.as_slice() else {
        out.push(para("本届为首届活动周，暂无往届数据可比。"));
        return;
    };
    let said: Vec<String> = SAID
        .iter()
        .filter_map(|(key, name, unit)| Some(change_text(name, unit, t.changes.get(*key)?)))
        .collect();
    out.push(para(format!(
        "结合前{}届的工作情况，与上届（{}年）相比：{}。",
        t.editions.len() - 1,
        previous.year,
        said.join("；")
    )));
    let mut head: Vec<String> = vec!["指标".into()];
    head.extend(t.editions.iter().map(|e| format!("{}年", e.year)));
    head.extend(["较上届".into(), "增幅".into()]);
    let rows = HEADLINES
        .iter()
        .map(|(key, label)| {
            let mut row = vec![text(*label)];
            for e in &t.editions {
                let f = e.figures.named().into_iter().find(|(k, _)| k == key);
                row.push(num(f.map(|(_, f)| figure_text(f)).unwrap_or_default()));
            }
            let ch = t.changes.get(*key);
            row.push(num(ch.map(|c| delta_text(c.delta)).unwrap_or_default()));
            let rate = ch
                .filter(|c| matches!(c.current, Figure::Count(_)))
                .and_then(|c| c.ratio)
                .map(percent_change);
            row.push(num(rate.unwrap_or_else(|| "—".into())));
            row
        })
        .collect();
    out.push(Block::Table(Table {
        caption: "表9　历届主要数字".into(),
        head,
        rows,
    }));
    out.push(chart(
        "历届活动（项）",
        t.editions.iter().map(|e| {
            let n = match e.figures.events {
                Figure::Count(n) => n,
                Figure::Ratio(_) => 0,
            };
            (format!("{}年", e.year), n)
        }),
    ));
}

/// The headline figures as a sentence names them, with their units.
const SAID: [(&str, &str, &str); 8] = [
    ("partners", "参与单位", "个"),
    ("events", "举办活动", "项"),
    ("event_headcount", "活动参与人数", "人"),
    ("training_person_times", "学习培训", "人次"),
    ("trained", "培训结业", "人"),
    ("employed_after", "培训后就业", "人"),
    ("media_reports", "媒体报道", "篇"),
    ("coverage_ratio", "覆盖率", ""),
];

/// `举办活动44项，比上届增加7项（增长18.9%）`; a ratio moves by percentage points.
fn change_text(name: &str, unit: &str, ch: &Change) -> String {
    let now = figure_text(ch.current);
    match ch.delta {
        Figure::Count(0) => format!("{name}{now}{unit}，与上届持平"),
        Figure::Count(d) => {
            let (verb, grow) = if d > 0 {
                ("增加", "增长")
            } else {
                ("减少", "下降")
            };
            let rate = ch
                .ratio
                .map(|x| format!("（{grow}{:.1}%）", ((x - 1.0) * 100.0).abs()))
                .unwrap_or_default();
            format!("{name}{now}{unit}，比上届{verb}{}{unit}{rate}", d.abs())
        }
        Figure::Ratio(0.0) => format!("{name}{now}，与上届持平"),
        Figure::Ratio(d) => {
            let verb = if d > 0.0 { "提高" } else { "降低" };
            format!("{name}{now}，比上届{verb}{:.1}个百分点", (d * 100.0).abs())
        }
    }
}

/// `current / previous` as a change: `+12.5%`.
fn percent_change(ratio: f64) -> String {
    format!("{:+.1}%", (ratio - 1.0) * 100.0)
}
