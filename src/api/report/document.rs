//! The report written out once, in Chinese, as a list of blocks (headings, paragraphs, tables,
//! charts) that the Word, HTML and Markdown renderers each lay out in their own way, so the
//! three say the same thing in the same words. The structure is the seed's 工作总结.

use std::collections::BTreeMap;

use super::block::{
    Block, Cell, bold, chart, counts_table, joined, num, ordinal, para, plain, table, text,
};
use super::model::{
    Body, EventItem, Report, body_kind_label, category_label, date_range_zh, date_zh, kind_label,
    medium_label, percent, role_label, subject_label,
};
use crate::api::committee::BodyKind;
use crate::api::events::EventKind;
use crate::api::shared::Status;
use crate::api::summary::Counts;

/// The whole report.
pub fn blocks(r: &Report) -> Vec<Block> {
    let mut out = vec![Block::Title(r.title()), opening(r)];
    out.push(Block::Heading("一、组织领导".into()));
    organization(r, &mut out);
    out.push(Block::Heading("二、宣传".into()));
    publicity(r, &mut out);
    out.push(Block::Heading("三、活动内容".into()));
    activities(r, &mut out);
    trainings(r, &mut out);
    out.push(Block::Heading("四、成效".into()));
    effects(r, &mut out);
    out.push(Block::Heading("五、与往年比较".into()));
    super::comparison::section(r, &mut out);
    out.push(para(
        "本总结由系统根据活动周填报数据生成，各项数字与活动周统计接口同一时点的数字一致。",
    ));
    out.push(Block::DateLine(r.date_line()));
    out
}

fn opening(r: &Report) -> Block {
    let c = &r.campaign;
    let s = &r.summary;
    let mut t = String::new();
    if let Some(notice) = &c.notice_ref {
        t += &format!(
            "按照《关于举办{}年全民终身学习活动周的通知》（{notice}）精神，",
            c.year
        );
    }
    t += &format!(
        "{}于{}举办了“{}”",
        c.region.as_deref().unwrap_or("本地"),
        date_range_zh(c.starts_on, c.ends_on),
        c.name
    );
    if let Some(theme) = &c.theme {
        t += &format!("，主题为“{theme}”");
    }
    t += &format!(
        "。活动周共举办各类活动{}项，参与{}人；开展免费培训{}期，结业{}人；\
         各类媒体报道{}篇；活动覆盖{}个镇（街道）中的{}个。现将活动周工作总结如下。",
        s.events.total,
        s.participants.events.headcount,
        s.trainings.sessions,
        s.trainings.completed,
        s.media_reports.total,
        s.coverage.areas,
        s.coverage.reached,
    );
    para(t)
}

fn organization(r: &Report, out: &mut Vec<Block>) {
    let (n, p) = (&r.names, &r.summary.partners.roles);
    let mut t = String::from("本届活动周");
    if let Some(lead) = &n.lead {
        t += &format!("由{lead}牵头组织，");
    }
    // The lead is one of the co-hosts; named once, as the seed does.
    let others: Vec<String> = n
        .co_hosts
        .iter()
        .filter(|c| Some(*c) != n.lead.as_ref())
        .cloned()
        .collect();
    t += &format!("{}等{}个单位共同主办", joined(&others), p.co_host);
    if !n.undertakers.is_empty() {
        t += &format!("，{}承办", joined(&n.undertakers));
    }
    t += &format!("，{}个成员单位共同参与。", p.member);
    out.push(para(t));
    out.push(table(
        "表1　参与单位",
        &["角色", "单位数", "单位"],
        vec![
            vec![text("主办"), num(p.co_host), text(joined(&n.co_hosts))],
            vec![
                text("承办"),
                num(p.undertaker),
                text(joined(&n.undertakers)),
            ],
            vec![text("成员单位"), num(p.member), text(joined(&n.members))],
            vec![text("合计"), num(p.total()), text("")],
        ],
    ));
    if n.bodies.is_empty() {
        return;
    }
    out.push(para(committee_text(&n.bodies)));
    let full = r.audience == super::model::Audience::Full;
    let mut head = vec!["机构", "类别", "人数"];
    if full {
        head.push("成员");
    }
    let rows = n
        .bodies
        .iter()
        .map(|b| {
            let mut row = vec![text(&b.name), text(body_kind_label(b.kind)), num(b.members)];
            if full {
                let people: Vec<String> = b
                    .people
                    .iter()
                    .map(|p| match &p.position {
                        Some(pos) => format!("{}（{}，{pos}）", p.name, role_label(p.role)),
                        None => format!("{}（{}）", p.name, role_label(p.role)),
                    })
                    .collect();
                row.push(text(joined(&people)));
            }
            row
        })
        .collect();
    out.push(table("表2　组织机构", &head, rows));
}

/// As the seed says it: the leading group, the bodies under it, and how many units set up
/// working groups of their own.
fn committee_text(bodies: &[Body]) -> String {
    let named = |kinds: &[BodyKind]| -> Vec<String> {
        bodies
            .iter()
            .filter(|b| kinds.contains(&b.kind))
            .map(|b| b.name.clone())
            .collect()
    };
    let leading = named(&[BodyKind::LeadingGroup]);
    let under = named(&[BodyKind::Office, BodyKind::LiaisonGroup]);
    let units = bodies
        .iter()
        .filter(|b| b.kind == BodyKind::UnitWorkingGroup)
        .count();
    let mut t = String::from("活动周");
    if !leading.is_empty() {
        t += &format!("成立了{}", joined(&leading));
    }
    if !under.is_empty() {
        t += &format!("，下设{}", joined(&under));
    }
    t += "，负责组织活动周具体工作";
    if units > 0 {
        t += &format!("；{units}个单位成立了相应的工作机构，组织本系统有关单位配合活动周工作");
    }
    t + "。"
}

fn publicity(r: &Report, out: &mut Vec<Block>) {
    let m = &r.summary.media_reports;
    let parts: Vec<String> = m
        .by_medium
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{}{n}篇", medium_label(*k)))
        .collect();
    let mut t = format!(
        "围绕活动周主题，充分借助各类媒体进行广泛宣传。活动周期间，各类媒体共报道{}篇",
        m.total
    );
    if !parts.is_empty() {
        t += &format!("，其中{}", parts.join("、"));
    }
    out.push(para(t + "。"));
    out.push(counts_table(
        "表3　媒体报道",
        &["媒体", "篇数"],
        &m.by_medium,
        medium_label,
        m.total,
    ));
    out.push(chart(
        "媒体报道（篇）",
        m.by_medium
            .iter()
            .map(|(k, n)| (medium_label(*k).into(), *n)),
    ));
    if r.audience == super::model::Audience::Public {
        out.push(para("（报道篇目仅在登录后的完整版中列出。）"));
        return;
    }
    for medium in m.by_medium.keys() {
        let titles: Vec<String> = r
            .names
            .media
            .iter()
            .filter(|i| i.medium == *medium)
            .map(|i| match &i.outlet {
                Some(o) => format!("《{}》（{o}，{}）", i.title, date_zh(i.day)),
                None => format!("《{}》（{}）", i.title, date_zh(i.day)),
            })
            .collect();
        if !titles.is_empty() {
            out.push(Block::Para(vec![
                bold(format!("{}：", medium_label(*medium))),
                plain(format!("{}。", titles.join("、"))),
            ]));
        }
    }
}

fn activities(r: &Report, out: &mut Vec<Block>) {
    let e = &r.summary.events;
    let status = |s: Status| e.by_status.get(&s).copied().unwrap_or(0);
    out.push(para(format!(
        "活动周以丰富多彩的方式开展各类公益性活动，共举办活动{}项，其中已完成{}项、\
         已发布{}项、取消{}项（内部工作活动{}项）。",
        e.total,
        status(Status::Completed),
        status(Status::Published),
        status(Status::Cancelled),
        e.internal
    )));
    let highlights: Vec<&EventItem> = r.names.events.iter().filter(|i| i.highlight).collect();
    if !highlights.is_empty() {
        let mut spans = vec![bold("活动亮点：")];
        for (i, h) in highlights.iter().enumerate() {
            if i > 0 {
                spans.push(plain("；"));
            }
            spans.push(bold(h.title.clone()));
            spans.push(plain(format!("（{}，{}）", h.host, date_zh(h.day))));
        }
        spans.push(plain("。"));
        out.push(Block::Para(spans));
    }
    out.push(counts_table(
        "表4　活动类别",
        &["类别", "项数"],
        &e.by_kind,
        kind_label,
        e.total,
    ));
    out.push(chart(
        "各类活动（项）",
        e.by_kind
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (kind_label(*k).into(), *n)),
    ));
    let days = &r.names.days;
    out.push(table(
        "表5　每日活动",
        &["日期", "活动（项）"],
        days.iter()
            .map(|(d, n)| vec![text(date_zh(*d)), num(n)])
            .collect(),
    ));
    out.push(chart(
        "每日活动（项）",
        days.iter()
            .map(|(d, n)| (d.format("%m-%d").to_string(), *n)),
    ));
    by_kind(r, out);
}

/// One paragraph per kind: its count, then its events by title, highlights first and bold.
fn by_kind(r: &Report, out: &mut Vec<Block>) {
    let mut named: BTreeMap<EventKind, Vec<&EventItem>> = BTreeMap::new();
    for item in &r.names.events {
        named.entry(item.kind).or_default().push(item);
    }
    let kinds = r.summary.events.by_kind.iter().filter(|(_, n)| **n > 0);
    for (i, (kind, count)) in kinds.enumerate() {
        let items = named.get(kind).map(Vec::as_slice).unwrap_or_default();
        let mut spans = vec![bold(format!(
            "{}{}{count}项",
            ordinal(i),
            kind_label(*kind)
        ))];
        spans.push(plain(if items.is_empty() { "。" } else { "：" }));
        for (j, item) in items.iter().enumerate() {
            if j > 0 {
                spans.push(plain("、"));
            }
            let title = if item.title.starts_with(['“', '《']) {
                item.title.clone()
            } else {
                format!("“{}”", item.title)
            };
            spans.push(if item.highlight {
                bold(title)
            } else {
                plain(title)
            });
            if item.cancelled {
                spans.push(plain("（已取消）"));
            }
        }
        let unnamed = *count - items.len() as i64;
        if !items.is_empty() {
            spans.push(plain("。"));
        }
        if unnamed > 0 && !items.is_empty() {
            spans.push(plain(format!("另有{unnamed}项未公开。")));
        }
        out.push(Block::Para(spans));
    }
}

fn trainings(r: &Report, out: &mut Vec<Block>) {
    let t = &r.summary.trainings;
    let employed = if t.completed > 0 {
        format!(
            "，占结业人数的{}",
            percent(t.employed_after as f64 / t.completed as f64)
        )
    } else {
        String::new()
    };
    out.push(Block::Para(vec![
        bold("免费教育培训："),
        plain(format!(
            "共开办培训{}期，报名{}人，结业{}人，培训后就业{}人{employed}。",
            t.sessions, t.enrolled, t.completed, t.employed_after
        )),
    ]));
    let mut rows: Vec<Vec<Cell>> = r
        .names
        .trainings
        .iter()
        .map(|i| {
            vec![
                text(&i.title),
                text(subject_label(i.subject)),
                text(&i.provider),
                num(i.enrolled),
                num(i.completed),
                num(i.employed_after),
            ]
        })
        .collect();
    rows.push(vec![
        text(format!("合计（{}期）", t.sessions)),
        text(""),
        text(""),
        num(t.enrolled),
        num(t.completed),
        num(t.employed_after),
    ]);
    out.push(table(
        "表6　免费培训",
        &["培训项目", "类别", "举办单位", "报名", "结业", "就业"],
        rows,
    ));
    out.push(chart(
        "培训：报名、结业与就业（人）",
        [
            ("报名".to_string(), t.enrolled),
            ("结业".to_string(), t.completed),
            ("就业".to_string(), t.employed_after),
        ],
    ));
}

fn effects(r: &Report, out: &mut Vec<Block>) {
    let p = &r.summary.participants;
    let c = &r.summary.coverage;
    let groups: Vec<String> = p
        .by_category
        .iter()
        .filter(|(_, n)| n.headcount + n.person_times > 0)
        .map(|(k, _)| category_label(*k).to_string())
        .collect();
    out.push(para(format!(
        "活动周期间，参加各类活动{}，参加学习培训{}。参加人员有{}。\
         活动覆盖{}个镇（街道）中的{}个，覆盖率达{}。",
        people(p.events),
        people(p.trainings),
        joined(&groups),
        c.areas,
        c.reached,
        percent(c.ratio),
    )));
    let mut rows: Vec<Vec<Cell>> = p
        .by_category
        .iter()
        .map(|(k, n)| {
            vec![
                text(category_label(*k)),
                num(n.headcount),
                num(n.person_times),
            ]
        })
        .collect();
    rows.push(vec![
        text("活动小计"),
        num(p.events.headcount),
        num(p.events.person_times),
    ]);
    rows.push(vec![
        text("培训小计"),
        num(p.trainings.headcount),
        num(p.trainings.person_times),
    ]);
    rows.push(vec![
        text("合计"),
        num(p.events.headcount + p.trainings.headcount),
        num(p.events.person_times + p.trainings.person_times),
    ]);
    out.push(table("表7　参加人员", &["类别", "人数", "人次"], rows));
    out.push(chart(
        "参加人员（人）",
        p.by_category
            .iter()
            .filter(|(_, n)| n.headcount > 0)
            .map(|(k, n)| (category_label(*k).into(), n.headcount)),
    ));
    out.push(table(
        "表8　覆盖情况",
        &["区域数", "已覆盖", "覆盖率"],
        vec![vec![num(c.areas), num(c.reached), num(percent(c.ratio))]],
    ));
}

/// `9602人、1200人次`, leaving out a measure nobody reported.
fn people(c: Counts) -> String {
    match (c.headcount, c.person_times) {
        (h, 0) => format!("{h}人"),
        (0, t) => format!("{t}人次"),
        (h, t) => format!("{h}人、{t}人次"),
    }
}
