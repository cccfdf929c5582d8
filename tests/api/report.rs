//! The year's report in its four formats, read back with independent readers (calamine for the
//! workbook, the zip's XML for Word) and held figure by figure to `/summary` and `/trends`;
//! what the public and a token's holder are shown; conditional GET and the cache.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::time::Duration;

use calamine::{Data, Range, Reader, Xlsx};
use serde_json::{Value, json};

use crate::common::{TestApp, eventually};

const SLUG: &str = "/api/v1/campaigns/gaozhou-2014";
const INTERNAL: &str = "活动周工作协调推进会";
const DRAFT: &str = "活动周闭幕暨市民学习成果汇报（草案）";
const HEADINGS: [&str; 5] = [
    "一、组织领导",
    "二、宣传",
    "三、活动内容",
    "四、成效",
    "五、与往年比较",
];

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "opening_ceremony" => "开幕式",
        "community_activity" => "社区教育活动",
        "lecture" => "专题讲座",
        "training" => "培训活动",
        "exhibition" => "成果展示",
        "competition" => "比赛",
        "performance" => "文艺展演",
        "reading_promotion" => "读书活动",
        "open_venue" => "场馆开放",
        "publicity" => "宣传活动",
        "meeting" => "工作会议",
        "other" => "其他活动",
        other => panic!("new kind {other}"),
    }
}

fn medium_label(medium: &str) -> &'static str {
    match medium {
        "tv" => "电视",
        "radio" => "广播",
        "newspaper" => "报纸",
        "online" => "网络",
        "social" => "新媒体",
        "print_material" => "宣传品",
        "other" => "其他",
        other => panic!("new medium {other}"),
    }
}

fn category_label(category: &str) -> &'static str {
    match category {
        "employed" => "在职人员",
        "student" => "在校学生",
        "migrant_worker" => "外来务工人员",
        "homemaker" => "家庭妇女",
        "retiree" => "离退休人员",
        "returnee" => "返乡人员",
        "unemployed" => "失业人员",
        "veteran" => "退伍军人",
        "disabled" => "残疾人",
        "senior" => "老年人",
        "child" => "儿童",
        "general" => "一般市民",
        other => panic!("new category {other}"),
    }
}

const HEADLINES: [(&str, &str); 8] = [
    ("partners", "参与单位（个）"),
    ("events", "活动（项）"),
    ("event_headcount", "活动参与（人）"),
    ("training_person_times", "学习培训（人次）"),
    ("trained", "培训结业（人）"),
    ("employed_after", "培训后就业（人）"),
    ("media_reports", "媒体报道（篇）"),
    ("coverage_ratio", "覆盖率"),
];

async fn demo() -> TestApp {
    let app = TestApp::spawn().await;
    learnweek::seed::gaozhou::load(&app.state).await.unwrap();
    app
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> crate::common::Resp {
    let req = app.get(path);
    let req = match token {
        Some(t) => req.bearer(t),
        None => req,
    };
    let res = req.send().await;
    assert_eq!(res.status, 200, "{path}: {}", res.text());
    res
}

/// The numbers of the row labelled `label` in the table captioned `caption`.
fn row(sheet: &Range<Data>, caption: &str, label: &str) -> Vec<f64> {
    let rows: Vec<&[Data]> = sheet.rows().collect();
    let start = rows
        .iter()
        .position(|r| {
            r.first()
                .is_some_and(|c| matches!(c, Data::String(s) if s == caption))
        })
        .unwrap_or_else(|| panic!("no table {caption}"));
    let found = rows[start + 1..]
        .iter()
        .take_while(|r| r.iter().any(|c| !matches!(c, Data::Empty)))
        .find(|r| {
            r.first()
                .is_some_and(|c| matches!(c, Data::String(s) if s == label))
        })
        .unwrap_or_else(|| panic!("no row {label} in {caption}"));
    found[1..]
        .iter()
        .filter_map(|c| match c {
            Data::Float(f) => Some(*f),
            Data::Int(i) => Some(*i as f64),
            Data::String(s) => panic!("{caption}/{label}: a number written as text: {s}"),
            _ => None,
        })
        .collect()
}

fn n(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[actix_web::test]
async fn the_workbook_holds_the_summary_and_trends_figures_and_native_charts() {
    let app = demo().await;
    let summary = get(&app, &format!("{SLUG}/summary"), None).await.json();
    let trends = get(&app, &format!("{SLUG}/trends"), None).await.json();
    let res = get(&app, &format!("{SLUG}/report.xlsx"), None).await;
    assert_eq!(
        res.header("content-type").unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = res.header("content-disposition").unwrap();
    assert!(disposition.starts_with("attachment; filename=\"gaozhou-2014-report.xlsx\""));
    assert!(
        disposition.contains("filename*=UTF-8''2014%E5%B9%B4%E9%AB%98%E5%B7%9E%E5%B8%82"),
        "{disposition}"
    );

    // Without the change listener nothing is cached: a second rendering gives the same bytes.
    let again = get(&app, &format!("{SLUG}/report.xlsx"), None).await;
    assert_eq!(again.header("etag"), res.header("etag"), "deterministic");

    let mut book = Xlsx::new(Cursor::new(res.body.clone())).unwrap();
    check_figures(&mut book, &summary);
    check_editions(&mut book, &trends);
    check_charts(&res.body);
}

type Book = Xlsx<Cursor<Vec<u8>>>;

fn sheet(book: &mut Book, name: &str) -> Range<Data> {
    book.worksheet_range(name).unwrap()
}

/// Every figure of /summary, in its sheet.
fn check_figures(book: &mut Book, summary: &Value) {
    let activities = sheet(book, "三、活动内容");
    let s = &summary;
    assert_eq!(
        row(&activities, "活动状态", "合计"),
        [n(&s["events"]["total"])]
    );
    for (kind, count) in s["events"]["by_kind"].as_object().unwrap() {
        assert_eq!(
            row(&activities, "活动类别", kind_label(kind)),
            [n(count)],
            "{kind}"
        );
    }
    let t = &s["trainings"];
    for (label, key) in [
        ("报名", "enrolled"),
        ("结业", "completed"),
        ("就业", "employed_after"),
    ] {
        assert_eq!(row(&activities, "培训", label), [n(&t[key])], "{key}");
    }
    assert_eq!(row(&activities, "培训", "期数"), [n(&t["sessions"])]);

    let effects = sheet(book, "四、成效");
    for (category, counts) in s["participants"]["by_category"].as_object().unwrap() {
        assert_eq!(
            row(&effects, "参加人员", category_label(category)),
            [n(&counts["headcount"]), n(&counts["person_times"])],
            "{category}"
        );
    }
    let events = &s["participants"]["events"];
    assert_eq!(
        row(&effects, "参加人员小计", "活动"),
        [n(&events["headcount"]), n(&events["person_times"])]
    );
    let c = &s["coverage"];
    assert_eq!(row(&effects, "覆盖情况", "区域数"), [n(&c["areas"])]);
    assert_eq!(row(&effects, "覆盖情况", "已覆盖"), [n(&c["reached"])]);
    assert_eq!(row(&effects, "覆盖情况", "覆盖率"), [n(&c["ratio"])]);

    let publicity = sheet(book, "二、宣传");
    for (medium, count) in s["media_reports"]["by_medium"].as_object().unwrap() {
        assert_eq!(
            row(&publicity, "媒体报道", medium_label(medium)),
            [n(count)]
        );
    }
    assert_eq!(
        row(&publicity, "媒体报道", "合计"),
        [n(&s["media_reports"]["total"])]
    );

    let organization = sheet(book, "一、组织领导");
    for role in ["co_host", "undertaker", "member"] {
        let label = match role {
            "co_host" => "主办",
            "undertaker" => "承办",
            _ => "成员单位",
        };
        assert_eq!(
            row(&organization, "参与单位", label),
            [n(&s["partners"][role])]
        );
    }
}

/// The editions, year by year, as /trends gives them.
fn check_editions(book: &mut Book, trends: &Value) {
    let comparison = sheet(book, "五、与往年比较");
    let editions = trends["editions"].as_array().unwrap();
    assert!(editions.len() >= 2, "the demo has earlier editions");
    let years: Vec<f64> = row(&comparison, "历届主要数字", "指标");
    let expected: Vec<f64> = editions.iter().map(|e| n(&e["year"])).collect();
    assert_eq!(years, expected);
    for (key, label) in HEADLINES {
        let per_year: Vec<f64> = editions.iter().map(|e| n(&e["figures"][key])).collect();
        assert_eq!(row(&comparison, "历届主要数字", label), per_year, "{key}");
        let change = &trends["changes"][key];
        let shown = row(&comparison, "较上届", label);
        assert_eq!(
            shown[..3],
            [
                n(&change["previous"]),
                n(&change["current"]),
                n(&change["delta"])
            ]
        );
    }
}

/// Native charts: parts of the package, not pictures.
fn check_charts(xlsx: &[u8]) {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx.to_vec())).unwrap();
    let charts = zip
        .file_names()
        .filter(|f| f.starts_with("xl/charts/chart") && f.ends_with(".xml"))
        .count();
    assert!(charts >= 6, "{charts} charts");
    let mut chart = String::new();
    zip.by_name("xl/charts/chart1.xml")
        .unwrap()
        .read_to_string(&mut chart)
        .unwrap();
    assert!(chart.contains("<c:barChart>"), "{chart}");
}

/// The text of a docx: its paragraphs' runs, one paragraph a line.
fn docx_text(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    let mut styles = String::new();
    zip.by_name("word/styles.xml")
        .unwrap()
        .read_to_string(&mut styles)
        .unwrap();
    assert!(styles.contains("w:eastAsia=\"宋体\"") && styles.contains("w:eastAsia=\"黑体\""));
    let xml = xml.replace("</w:p>", "\n");
    let mut text = String::new();
    let mut in_tag = false;
    for c in xml.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
}

/// What every edition of the text must say: title, sections, highlights, figures.
fn check_text(format: &str, text: &str, summary: &Value, highlights: &[String]) {
    assert!(
        text.contains("2014年高州市全民终身学习活动周工作总结"),
        "{format}: title"
    );
    assert!(text.contains("2014年10月19日至25日"), "{format}: dates");
    assert!(
        text.contains("全民终身学习　创造出彩人生"),
        "{format}: theme"
    );
    assert!(text.contains("2014年10月25日"), "{format}: date line");
    for h in HEADINGS {
        assert!(text.contains(h), "{format}: {h}");
    }
    for title in highlights {
        assert!(text.contains(title.as_str()), "{format}: highlight {title}");
    }
    let s = summary;
    for figure in [
        &s["participants"]["events"]["headcount"],
        &s["participants"]["trainings"]["person_times"],
        &s["trainings"]["completed"],
        &s["trainings"]["employed_after"],
        &s["media_reports"]["total"],
        &s["coverage"]["reached"],
        &s["events"]["total"],
    ] {
        assert!(
            text.contains(&figure.to_string()),
            "{format}: figure {figure}"
        );
    }
    assert!(text.contains("市教育局牵头"), "{format}: the lead");
    assert!(!text.contains(DRAFT), "{format}: a draft named");
}

async fn highlights(app: &TestApp) -> Vec<String> {
    let campaign = get(app, "/api/v1/campaigns/gaozhou-2014", None)
        .await
        .json();
    let id = campaign["id"].as_str().unwrap();
    let page = get(
        app,
        &format!("/api/v1/events?campaign_id={id}&limit=200"),
        Some(&app.admin),
    )
    .await
    .json();
    let titles: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["highlight"] == true)
        .map(|e| e["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(titles.len() >= 3, "{titles:?}");
    titles
}

#[actix_web::test]
async fn word_and_markdown_tell_the_same_report_and_name_internal_items_to_token_holders() {
    let app = demo().await;
    let summary = get(&app, &format!("{SLUG}/summary"), None).await.json();
    assert_eq!(summary["participants"]["events"]["headcount"], 9602);
    assert_eq!(summary["participants"]["trainings"]["person_times"], 61860);
    assert_eq!(summary["trainings"]["completed"], 544);
    assert_eq!(summary["trainings"]["employed_after"], 337);
    assert_eq!(summary["media_reports"]["total"], 20);
    assert_eq!(summary["coverage"]["reached"], 27);
    let highlights = highlights(&app).await;
    let admin = app.admin.clone();
    let mut texts = BTreeMap::new();
    for (who, token) in [("public", None), ("full", Some(admin.as_str()))] {
        let docx = get(&app, &format!("{SLUG}/report.docx"), token).await;
        assert!(
            docx.header("content-disposition")
                .unwrap()
                .starts_with("attachment;")
        );
        let again = get(&app, &format!("{SLUG}/report.docx"), token).await;
        assert_eq!(again.body, docx.body, "deterministic");
        let text = docx_text(&docx.body);
        check_text(&format!("docx/{who}"), &text, &summary, &highlights);
        let md = get(&app, &format!("{SLUG}/report.md"), token).await;
        assert_eq!(
            md.header("content-type").unwrap(),
            "text/markdown; charset=utf-8"
        );
        let md = md.text().replace('\\', "");
        assert!(
            md.contains("| --- |") || md.contains("| --- | ---:"),
            "GFM tables"
        );
        assert!(
            md.contains("**“低碳生活”社区教育一日行**"),
            "highlights in bold"
        );
        check_text(&format!("md/{who}"), &md, &summary, &highlights);
        texts.insert(who, (text, md));
    }
    let (public_docx, public_md) = &texts["public"];
    let (full_docx, full_md) = &texts["full"];
    assert!(!public_docx.contains(INTERNAL) && !public_md.contains(INTERNAL));
    assert!(full_docx.contains(INTERNAL) && full_md.contains(INTERNAL));
    // Committee members by name, and media titles, only with a token; contacts never.
    assert!(!public_docx.contains("梁志宏") && full_docx.contains("梁志宏"));
    assert!(!full_docx.contains("0668-") && !full_docx.contains("@example.org"));
    assert!(!public_md.contains("我市全民终身学习活动周隆重开幕"));
    assert!(full_md.contains("我市全民终身学习活动周隆重开幕"));
}

#[actix_web::test]
async fn the_page_is_self_contained_and_print_ready() {
    let app = demo().await;
    let summary = get(&app, &format!("{SLUG}/summary"), None).await.json();
    let res = get(&app, &format!("{SLUG}/report.html"), None).await;
    assert_eq!(
        res.header("content-type").unwrap(),
        "text/html; charset=utf-8"
    );
    let csp = res.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("style-src 'unsafe-inline'"));
    let html = res.text();
    for banned in [
        "http://", "https://", "src=", "@import", "url(", "<script", "<link",
    ] {
        assert!(!html.contains(banned), "{banned}");
    }
    assert!(html.contains("<svg") && html.contains("@page") && html.contains("size: A4"));
    assert!(html.contains("\"Noto Serif CJK SC\""));
    check_text("html", &html, &summary, &highlights(&app).await);
    assert!(!html.contains(INTERNAL));
    assert_eq!(
        html.matches("<svg").count(),
        6,
        "one chart per figure group"
    );
}

#[actix_web::test]
async fn a_report_is_kept_until_its_campaign_or_an_earlier_edition_changes() {
    let app = demo().await;
    let _listening =
        learnweek::change_signal::spawn_listener(app.state.change_signal.clone(), app.db.url());
    eventually(Duration::from_secs(10), "listening", || async {
        app.state.change_signal.epoch().is_some()
    })
    .await;
    let path = format!("{SLUG}/report.md");
    let first = get(&app, &path, None).await;
    let etag = first.header("etag").unwrap();
    let again = app.get(&path).header("If-None-Match", &etag).send().await;
    assert_eq!(again.status, 304);
    assert_eq!(again.header("etag").unwrap(), etag);
    assert!(again.header("vary").unwrap().contains("Authorization"));

    // A write that bypasses the journal (no notification) is not seen: the report is served
    // from memory, not recomputed.
    let mut conn = app.conn().await;
    use diesel_async::RunQueryDsl;
    diesel::sql_query("UPDATE events SET title = '改名的开幕式' WHERE title = '高州市2014年全民终身学习活动周开幕式'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(get(&app, &path, None).await.header("etag").unwrap(), etag);

    // A new tally in this campaign changes the report.
    let before = get(&app, &format!("{SLUG}/summary"), None).await.json();
    let event = first_event(&app, "gaozhou-2014").await;
    tally(&app, &event, 1234).await;
    let etag2 = changed_etag(&app, &path, &etag).await;
    let text = get(&app, &path, None).await.text();
    let headcount = before["participants"]["events"]["headcount"]
        .as_i64()
        .unwrap()
        + 1234;
    assert!(text.contains(&headcount.to_string()), "the new figure");
    assert!(text.contains("改名的开幕式"), "recomputed now");

    // So does a change in an earlier edition, shown in section 五.
    let earlier = first_event(&app, "gaozhou-2013").await;
    tally(&app, &earlier, 777).await;
    changed_etag(&app, &path, &etag2).await;
}

async fn changed_etag(app: &TestApp, path: &str, old: &str) -> String {
    eventually(Duration::from_secs(10), "a new ETag", || async {
        let res = app.get(path).header("If-None-Match", old).send().await;
        res.status == 200
    })
    .await;
    let etag = get(app, path, None).await.header("etag").unwrap();
    assert_ne!(etag, old);
    etag
}

/// A completed public event of the campaign `slug`, with its host unit.
async fn first_event(app: &TestApp, slug: &str) -> Value {
    let campaign = get(app, &format!("/api/v1/campaigns/{slug}"), None)
        .await
        .json();
    let id = campaign["id"].as_str().unwrap();
    let page = get(
        app,
        &format!("/api/v1/events?campaign_id={id}&status=completed&limit=1"),
        None,
    )
    .await
    .json();
    page["items"][0].clone()
}

async fn tally(app: &TestApp, event: &Value, count: i64) {
    let res = app
        .put("/api/v1/tallies")
        .bearer(&app.admin)
        .json(json!({
            "event_id": event["id"], "category": "general", "measure": "headcount",
            "count": count, "tally_date": "2014-10-26", "reporting_unit_id": event["host_unit_id"],
        }))
        .send()
        .await;
    assert!(res.status == 201 || res.status == 200, "{}", res.text());
}
