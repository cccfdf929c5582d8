//! The report as an Excel workbook, built with `rust_xlsxwriter`: one sheet per section of the
//! report, figures written as numbers (so they sum and chart), and native Excel charts drawn
//! from the cells beside them, which Excel and WPS redraw when someone edits a figure.
//!
//! Every table starts with its caption in column A, then a header row, then one row per item
//! with the label in column A; a blank row ends it.

use chrono::Datelike;
use rust_xlsxwriter::{
    Chart, ChartType, DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError,
};

use super::model::{
    Audience, HEADLINES, Report, body_kind_label, category_label, date_zh, kind_label,
    medium_label, role_label, subject_label,
};
use crate::api::shared::Status;
use crate::api::summary::trends::Figure;
use crate::error::{AppError, AppResult};

/// One sheet being written, top to bottom.
struct Sheet {
    ws: Worksheet,
    name: String,
    row: u32,
    /// Charts go right of the widest table.
    chart_col: u16,
    bold: Format,
    percent: Format,
}

/// The rows a table's data took, for charts.
struct Rows {
    first: u32,
    last: u32,
}

impl Sheet {
    fn new(name: &str, widths: &[f64]) -> Result<Self, XlsxError> {
        let mut ws = Worksheet::new();
        ws.set_name(name)?;
        for (col, w) in widths.iter().enumerate() {
            ws.set_column_width(col as u16, *w)?;
        }
        Ok(Sheet {
            ws,
            name: name.into(),
            row: 0,
            chart_col: widths.len() as u16 + 1,
            bold: Format::new().set_bold(),
            percent: Format::new().set_num_format("0.0%"),
        })
    }

    fn text_row(&mut self, cells: &[&str], bold: bool) -> Result<(), XlsxError> {
        for (col, text) in cells.iter().enumerate() {
            if bold {
                self.ws
                    .write_string_with_format(self.row, col as u16, *text, &self.bold)?;
            } else {
                self.ws.write_string(self.row, col as u16, *text)?;
            }
        }
        self.row += 1;
        Ok(())
    }

    /// A caption and a header row.
    fn table(&mut self, caption: &str, head: &[&str]) -> Result<u32, XlsxError> {
        self.text_row(&[caption], true)?;
        self.text_row(head, true)?;
        Ok(self.row)
    }

    /// A label and its numbers.
    fn figures(&mut self, label: &str, values: &[i64]) -> Result<(), XlsxError> {
        self.ws.write_string(self.row, 0, label)?;
        for (i, v) in values.iter().enumerate() {
            self.ws.write_number(self.row, 1 + i as u16, *v as f64)?;
        }
        self.row += 1;
        Ok(())
    }

    fn end(&mut self, first: u32) -> Rows {
        let rows = Rows {
            first,
            last: self.row.saturating_sub(1).max(first),
        };
        self.row += 1;
        rows
    }

    /// A bar chart of column `col` over `rows`, labelled by column A, set at row `at`.
    fn chart(&mut self, title: &str, rows: &Rows, col: u16, at: u32) -> Result<(), XlsxError> {
        let mut chart = Chart::new(ChartType::Bar);
        let name = self.name.as_str();
        chart
            .add_series()
            .set_name(title)
            .set_categories((name, rows.first, 0, rows.last, 0))
            .set_values((name, rows.first, col, rows.last, col));
        chart.title().set_name(title);
        chart.legend().set_hidden();
        // Bars are drawn bottom-up: reversed, they read in the table's order.
        chart.x_axis().set_reverse();
        self.ws.insert_chart(at, self.chart_col, &chart)?;
        Ok(())
    }
}

pub fn render(report: &Report) -> AppResult<Vec<u8>> {
    build(report).map_err(|e| AppError::internal(format!("xlsx: {e}")))
}

fn build(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let end = report.campaign.ends_on;
    // A fixed creation date keeps the file the same for the same data (and so its ETag).
    let created = ExcelDateTime::from_ymd(end.year() as u16, end.month() as u8, end.day() as u8)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(report.title())
            .set_creation_datetime(&created),
    );
    for sheet in [
        overview(report)?,
        organization(report)?,
        publicity(report)?,
        activities(report)?,
        effects(report)?,
        comparison(report)?,
    ] {
        wb.push_worksheet(sheet.ws);
    }
    wb.save_to_buffer()
}

fn overview(r: &Report) -> Result<Sheet, XlsxError> {
    let mut s = Sheet::new("概况", &[22.0, 60.0])?;
    let c = &r.campaign;
    s.text_row(&[&r.title()], true)?;
    s.row += 1;
    let dates = super::model::date_range_zh(c.starts_on, c.ends_on);
    for (label, value) in [
        ("活动名称", c.name.as_str()),
        ("举办时间", dates.as_str()),
        ("主题", c.theme.as_deref().unwrap_or_default()),
        ("通知文号", c.notice_ref.as_deref().unwrap_or_default()),
        ("版本", audience_text(r.audience)),
        ("落款日期", &r.date_line()),
    ] {
        s.text_row(&[label, value], false)?;
    }
    s.row += 1;
    let first = s.table("主要数字", &["指标", "数值"])?;
    let current = r.trends.editions.last().map(|e| e.figures.named());
    for (key, label) in HEADLINES {
        let figure = current
            .as_ref()
            .and_then(|f| f.iter().find(|(k, _)| *k == key).map(|(_, f)| *f));
        figure_row(&mut s, label, &[figure])?;
    }
    s.end(first);
    Ok(s)
}

fn audience_text(audience: Audience) -> &'static str {
    match audience {
        Audience::Public => "公开版（只列公开的活动与培训）",
        Audience::Full => "完整版",
    }
}

/// A label and figures that may be counts or ratios (ratios formatted as percentages).
fn figure_row(s: &mut Sheet, label: &str, figures: &[Option<Figure>]) -> Result<(), XlsxError> {
    s.ws.write_string(s.row, 0, label)?;
    for (i, f) in figures.iter().enumerate() {
        let col = 1 + i as u16;
        match f {
            Some(Figure::Count(n)) => {
                s.ws.write_number(s.row, col, *n as f64)?;
            }
            Some(Figure::Ratio(x)) => {
                s.ws.write_number_with_format(s.row, col, *x, &s.percent)?;
            }
            None => {}
        }
    }
    s.row += 1;
    Ok(())
}

fn organization(r: &Report) -> Result<Sheet, XlsxError> {
    let mut s = Sheet::new("一、组织领导", &[40.0, 14.0, 16.0, 60.0])?;
    let (n, p) = (&r.names, &r.summary.partners.roles);
    let first = s.table("参与单位", &["角色", "单位数"])?;
    s.figures("主办", &[p.co_host])?;
    s.figures("承办", &[p.undertaker])?;
    s.figures("成员单位", &[p.member])?;
    s.figures("合计", &[p.total()])?;
    s.end(first);
    s.text_row(&["牵头单位", n.lead.as_deref().unwrap_or_default()], false)?;
    s.row += 1;
    let first = s.table("单位名单", &["单位", "角色"])?;
    for (names, role) in [
        (&n.co_hosts, "主办"),
        (&n.undertakers, "承办"),
        (&n.members, "成员单位"),
    ] {
        for name in names {
            s.text_row(&[name, role], false)?;
        }
    }
    s.end(first);
    let first = s.table("组织机构", &["机构", "人数", "类别", "成员"])?;
    for b in &n.bodies {
        s.figures(&b.name, &[b.members])?;
        s.ws.write_string(s.row - 1, 2, body_kind_label(b.kind))?;
        let people: Vec<String> = b
            .people
            .iter()
            .map(|m| format!("{}（{}）", m.name, role_label(m.role)))
            .collect();
        s.ws.write_string(s.row - 1, 3, people.join("、"))?;
    }
    s.end(first);
    Ok(s)
}

fn publicity(r: &Report) -> Result<Sheet, XlsxError> {
    let mut s = Sheet::new("二、宣传", &[16.0, 44.0, 16.0, 14.0])?;
    let m = &r.summary.media_reports;
    let first = s.table("媒体报道", &["媒体", "篇数"])?;
    for (medium, n) in &m.by_medium {
        s.figures(medium_label(*medium), &[*n])?;
    }
    let rows = Rows {
        first,
        last: s.row - 1,
    };
    s.figures("合计", &[m.total])?;
    s.end(first);
    s.chart("媒体报道（篇）", &rows, 1, 0)?;
    let first = s.table("报道篇目", &["媒体", "标题", "媒体单位", "日期"])?;
    if r.audience == Audience::Public {
        s.text_row(&["报道篇目仅在登录后的完整版中列出"], false)?;
    }
    for item in &r.names.media {
        let day = date_zh(item.day);
        let outlet = item.outlet.as_deref().unwrap_or_default();
        s.text_row(
            &[medium_label(item.medium), &item.title, outlet, &day],
            false,
        )?;
    }
    s.end(first);
    Ok(s)
}

fn activities(r: &Report) -> Result<Sheet, XlsxError> {
    let mut s = Sheet::new("三、活动内容", &[44.0, 12.0, 12.0, 12.0, 14.0, 18.0])?;
    let e = &r.summary.events;
    let first = s.table("活动类别", &["类别", "项数"])?;
    for (kind, n) in &e.by_kind {
        s.figures(kind_label(*kind), &[*n])?;
    }
    let kinds = s.end(first);
    s.chart("各类活动（项）", &kinds, 1, 0)?;
    let first = s.table("活动状态", &["状态", "项数"])?;
    let status = |st: Status| e.by_status.get(&st).copied().unwrap_or(0);
    s.figures("合计", &[e.total])?;
    s.figures("已完成", &[status(Status::Completed)])?;
    s.figures("已发布", &[status(Status::Published)])?;
    s.figures("取消", &[status(Status::Cancelled)])?;
    s.figures("内部工作活动", &[e.internal])?;
    s.end(first);
    let first = s.table("每日活动", &["日期", "项数"])?;
    for (day, n) in &r.names.days {
        s.figures(&date_zh(*day), &[*n])?;
    }
    let days = s.end(first);
    s.chart("每日活动（项）", &days, 1, 22)?;
    trainings(r, &mut s)?;
    let first = s.table(
        "活动名单",
        &["活动", "类别", "亮点", "状态", "日期", "主办单位"],
    )?;
    for item in &r.names.events {
        let day = date_zh(item.day);
        let status = if item.cancelled { "取消" } else { "" };
        let highlight = if item.highlight { "亮点" } else { "" };
        s.text_row(
            &[
                &item.title,
                kind_label(item.kind),
                highlight,
                status,
                &day,
                &item.host,
            ],
            false,
        )?;
    }
    s.end(first);
    Ok(s)
}

fn trainings(r: &Report, s: &mut Sheet) -> Result<(), XlsxError> {
    let t = &r.summary.trainings;
    let first = s.table("培训", &["人数", "人"])?;
    s.figures("期数", &[t.sessions])?;
    let funnel_first = s.row;
    s.figures("报名", &[t.enrolled])?;
    s.figures("结业", &[t.completed])?;
    s.figures("就业", &[t.employed_after])?;
    s.end(first);
    let funnel = Rows {
        first: funnel_first,
        last: funnel_first + 2,
    };
    s.chart("培训：报名、结业与就业（人）", &funnel, 1, 44)?;
    let first = s.table(
        "培训项目",
        &["培训项目", "报名", "结业", "就业", "类别", "举办单位"],
    )?;
    for i in &r.names.trainings {
        s.figures(&i.title, &[i.enrolled, i.completed, i.employed_after])?;
        s.ws.write_string(s.row - 1, 4, subject_label(i.subject))?;
        s.ws.write_string(s.row - 1, 5, &i.provider)?;
    }
    s.end(first);
    Ok(())
}

fn effects(r: &Report) -> Result<Sheet, XlsxError> {
    let mut s = Sheet::new("四、成效", &[20.0, 12.0, 12.0])?;
    let p = &r.summary.participants;
    let first = s.table("参加人员", &["类别", "人数", "人次"])?;
    for (category, n) in &p.by_category {
        s.figures(category_label(*category), &[n.headcount, n.person_times])?;
    }
    let categories = s.end(first);
    s.chart("参加人员（人）", &categories, 1, 0)?;
    let first = s.table("参加人员小计", &["口径", "人数", "人次"])?;
    s.figures("活动", &[p.events.headcount, p.events.person_times])?;
    s.figures("培训", &[p.trainings.headcount, p.trainings.person_times])?;
    s.figures(
        "合计",
        &[
            p.events.headcount + p.trainings.headcount,
            p.events.person_times + p.trainings.person_times,
        ],
    )?;
    s.end(first);
    let c = &r.summary.coverage;
    let first = s.table("覆盖情况", &["指标", "数值"])?;
    s.figures("区域数", &[c.areas])?;
    s.figures("已覆盖", &[c.reached])?;
    figure_row(&mut s, "覆盖率", &[Some(Figure::Ratio(c.ratio))])?;
    s.end(first);
    Ok(s)
}

fn comparison(r: &Report) -> Result<Sheet, XlsxError> {
    let mut s = Sheet::new(
        "五、与往年比较",
        &[20.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0],
    )?;
    let t = &r.trends;
    s.text_row(&["历届主要数字"], true)?;
    s.ws.write_string_with_format(s.row, 0, "指标", &s.bold)?;
    for (i, e) in t.editions.iter().enumerate() {
        s.ws.write_number_with_format(s.row, 1 + i as u16, e.year, &s.bold)?;
    }
    let header = s.row;
    s.row += 1;
    let first = s.row;
    for (key, label) in HEADLINES {
        let figures: Vec<Option<Figure>> = t
            .editions
            .iter()
            .map(|e| {
                e.figures
                    .named()
                    .into_iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, f)| f)
            })
            .collect();
        figure_row(&mut s, label, &figures)?;
    }
    s.end(first);
    let years = t.editions.len() as u16;
    let compared = s.table("较上届", &["指标", "上届", "本届", "增减", "增幅"])?;
    for (key, label) in HEADLINES {
        let Some(ch) = t.changes.get(key) else {
            continue;
        };
        figure_row(
            &mut s,
            label,
            &[Some(ch.previous), Some(ch.current), Some(ch.delta)],
        )?;
        // A growth rate of a rate says little: coverage moves by points (the delta).
        if let (Some(ratio), Figure::Count(_)) = (ch.ratio, ch.current) {
            s.ws.write_number_with_format(s.row - 1, 4, ratio - 1.0, &s.percent)?;
        }
    }
    if t.changes.is_empty() {
        s.text_row(&["本届为首届活动周，暂无往届数据可比"], false)?;
    }
    s.end(compared);
    let below = s.row;
    trend_charts(&mut s, header, first, years, below)?;
    Ok(s)
}

/// Line charts of the figures year by year, grouped by scale (tens, thousands, hundreds), so
/// that no line lies flat under another's.
fn trend_charts(
    s: &mut Sheet,
    header: u32,
    first: u32,
    years: u16,
    at: u32,
) -> Result<(), XlsxError> {
    let name = s.name.clone();
    let groups: [(&str, &[u32]); 3] = [
        ("历届参与单位、活动与报道", &[0, 1, 6]),
        ("历届活动参与人数与培训人次", &[2, 3]),
        ("历届培训结业与就业（人）", &[4, 5]),
    ];
    for (i, (title, figures)) in groups.iter().enumerate() {
        let mut chart = Chart::new(ChartType::Line);
        for f in figures.iter() {
            let row = first + f;
            chart
                .add_series()
                .set_name((name.as_str(), row, 0))
                .set_categories((name.as_str(), header, 1, header, years))
                .set_values((name.as_str(), row, 1, row, years));
        }
        chart.title().set_name(*title);
        s.ws.insert_chart(at + 16 * i as u32, 0, &chart)?;
    }
    Ok(())
}
