//! The computed report: the Gaozhou 2014 demo week against the report's figures, and a small
//! hand-built campaign checked figure by figure (JSON and CSV).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{
    CampaignBuilder, EventBuilder, MediaReportBuilder, Method, TallyBuilder, TestApp,
    TrainingBuilder, assert_redacted_snapshot, uuid,
};

#[actix_web::test]
async fn the_demo_week_matches_the_2014_report() {
    let app = TestApp::spawn().await;
    app.load_demo_week().await;
    let res = app
        .get("/api/v1/campaigns/gaozhou-2014/summary")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let s = res.json();

    // 九个单位共同主办, 市教育局牵头, 高州市职业技术学校承办, 近30个成员单位.
    assert_eq!(s["partners"]["co_host"], 9);
    assert_eq!(s["partners"]["undertaker"], 1);
    let members = s["partners"]["member"].as_i64().unwrap();
    assert!((25..=32).contains(&members), "近30个成员单位: {members}");
    let lead = s["partners"]["lead_unit_id"].as_str().unwrap();
    let unit = app.read(&format!("/api/v1/units/{lead}"), None).await;
    assert_eq!(unit["name"], "高州市教育局");
    // 近万人参加了系列活动.
    let headcount = s["participants"]["events"]["headcount"].as_i64().unwrap();
    assert!((8_000..=12_000).contains(&headcount), "近万人: {headcount}");
    // 参加各类学习培训的人数超过6万人次.
    let person_times = s["participants"]["trainings"]["person_times"]
        .as_i64()
        .unwrap();
    assert!(person_times > 60_000, "超过6万人次: {person_times}");
    // 使500多返乡人员、失业人员、退伍军人得到培训, 大部分人员都找到满意的工作.
    let completed = s["trainings"]["completed"].as_i64().unwrap();
    assert!((500..600).contains(&completed), "500多: {completed}");
    assert!(
        s["trainings"]["employed_after"].as_i64().unwrap() * 2 > completed,
        "大部分"
    );
    // 报道近20余篇.
    let media = s["media_reports"]["total"].as_i64().unwrap();
    assert!((18..=25).contains(&media), "近20余篇: {media}");
    assert!(s["media_reports"]["by_medium"]["tv"].as_i64().unwrap() > 0);
    // 推进覆盖率达95%以上.
    assert!(
        s["coverage"]["ratio"].as_f64().unwrap() >= 0.95,
        "{}",
        s["coverage"]
    );
    assert_eq!(s["coverage"]["areas"], 28);
    assert!(s["events"]["by_kind"]["lecture"].as_i64().unwrap() >= 3);
    assert!(s["events"]["by_kind"]["competition"].as_i64().unwrap() >= 4);

    // Loading again changes nothing: same figures, no new change-feed rows.
    let changes_before = change_count(&app).await;
    let again = app.load_demo_week().await;
    assert!(again.contains("0 rows added"), "{again}");
    assert_eq!(change_count(&app).await, changes_before);
    assert_eq!(
        app.get("/api/v1/campaigns/gaozhou-2014/summary")
            .send()
            .await
            .json(),
        s
    );
}

async fn change_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    crate::common::schema::changes::table
        .count()
        .get_result(&mut app.conn().await)
        .await
        .unwrap()
}

/// The ids of the small campaign that its test changes or looks for.
struct Small {
    cid: Uuid,
    edu: Uuid,
    draft: Uuid,
}

/// A campaign of three areas with four partners, events of every status (one internal, one
/// draft), two trainings (one a draft), tallies of each and three media reports.
async fn small_campaign(app: &TestApp) -> Small {
    let campaign = CampaignBuilder::new("tiny-2024")
        .name("小型活动周")
        .starts_on("2024-10-20")
        .ends_on("2024-10-26")
        .areas(["甲街道", "乙镇", "丙镇"]);
    let cid = uuid(&campaign.insert(app).await);
    let [edu, women, school, library] = [
        app.unit("教育局").await,
        app.unit("妇联").await,
        app.unit("职业学校").await,
        app.unit("图书馆").await,
    ];
    for (unit, role) in [
        (edu, json!({"role": "co_host", "lead": true})),
        (women, json!({"role": "co_host"})),
        (school, json!({"role": "undertaker"})),
        (library, json!({"role": "member"})),
    ] {
        let path = format!("/api/v1/campaigns/{cid}/partners/{unit}");
        app.expect(201, &app.admin, vec![(Method::PUT, &path, role)])
            .await;
    }

    let event = |title: &str, kind: &str, area: &str, status: &str| {
        let e = EventBuilder::new(cid, edu)
            .title(title)
            .kind(kind)
            .area(area);
        e.status(status)
            .at("2024-10-20T01:00:00Z", "2024-10-20T03:00:00Z")
    };
    let lecture = event("消防安全、牢记心间", "lecture", "甲街道", "published");
    let lecture = uuid(&lecture.visibility("public").insert(app).await);
    let meeting = event("动员大会", "meeting", "乙镇", "completed");
    let meeting = uuid(&meeting.visibility("internal").insert(app).await);
    let reading = event("户外读书会", "reading_promotion", "丙镇", "cancelled");
    reading.visibility("public").insert(app).await;
    let draft = event("还在筹备", "exhibition", "丙镇", "draft");
    let draft = uuid(&draft.visibility("public").insert(app).await);
    let training = |title: &str, status: &str| {
        let t = TrainingBuilder::new(cid, school)
            .title(title)
            .status(status);
        let t = t
            .starts_at("2024-10-21T01:00:00Z")
            .ends_at("2024-10-25T09:00:00Z");
        t.capacity(30).outcomes(20, 18, 9)
    };
    let course = uuid(&training("电脑培训", "completed").insert(app).await);
    let draft_course = uuid(&training("未开班", "draft").insert(app).await);
    let tallies = [
        TallyBuilder::event(lecture, edu).count(10),
        TallyBuilder::event(lecture, edu)
            .measure("person_times")
            .count(25),
        TallyBuilder::event(meeting, edu)
            .category("retiree")
            .count(5),
        TallyBuilder::event(draft, edu)
            .category("general")
            .count(100),
        TallyBuilder::training(course, school)
            .category("returnee")
            .count(18),
        TallyBuilder::training(course, school)
            .category("returnee")
            .measure("person_times")
            .count(90),
        TallyBuilder::training(draft_course, school)
            .category("veteran")
            .count(7),
    ]
    .map(|tally| {
        (
            Method::PUT,
            "/api/v1/tallies",
            tally.date("2024-10-21").json(),
        )
    });
    app.expect(201, &app.admin, tallies.into()).await;
    for (medium, outlet) in [
        ("tv", "市电视台"),
        ("tv", "市电视台"),
        ("newspaper", "茂名日报"),
    ] {
        let report = MediaReportBuilder::new(cid)
            .medium(medium)
            .outlet_name(outlet);
        let report = report.reporting_unit(edu).title("活动周报道");
        report
            .published_at("2024-10-21T12:00:00Z")
            .insert(app)
            .await;
    }
    Small { cid, edu, draft }
}

/// The summary `small_campaign` must have: every kind, category and medium, zeros included.
fn small_summary(small: &Small) -> Value {
    let mut by_kind = json!({"lecture": 1, "meeting": 1, "reading_promotion": 1});
    for k in [
        "opening_ceremony",
        "community_activity",
        "training",
        "exhibition",
        "competition",
        "performance",
        "open_venue",
        "publicity",
        "other",
    ] {
        by_kind[k] = json!(0);
    }
    let mut by_category = json!({"student": {"headcount": 10, "person_times": 25},
                                 "retiree": {"headcount": 5, "person_times": 0},
                                 "returnee": {"headcount": 18, "person_times": 90}});
    for c in [
        "employed",
        "migrant_worker",
        "homemaker",
        "unemployed",
        "veteran",
        "disabled",
        "senior",
        "child",
        "general",
    ] {
        by_category[c] = json!({"headcount": 0, "person_times": 0});
    }
    let by_medium = json!({"tv": 2, "radio": 0, "newspaper": 1, "online": 0, "social": 0,
                           "print_material": 0, "other": 0});
    json!({
        "campaign_id": small.cid,
        "slug": "tiny-2024",
        "partners": {"co_host": 2, "undertaker": 1, "member": 1, "lead_unit_id": small.edu},
        "events": {"total": 3, "by_kind": by_kind,
                   "by_status": {"published": 1, "cancelled": 1, "completed": 1}, "internal": 1},
        "participants": {
            "events": {"headcount": 15, "person_times": 25},
            "trainings": {"headcount": 18, "person_times": 90},
            "by_category": by_category
        },
        "trainings": {"sessions": 1, "enrolled": 20, "completed": 18, "employed_after": 9},
        "media_reports": {"total": 3, "by_medium": by_medium},
        "coverage": {"areas": 3, "reached": 1, "ratio": 0.333}
    })
}

#[actix_web::test]
async fn every_figure_of_a_small_campaign() {
    let app = TestApp::spawn().await;
    let small = small_campaign(&app).await;
    let summary = "/api/v1/campaigns/tiny-2024/summary";
    assert_eq!(app.read(summary, None).await, small_summary(&small));

    // The same figures as CSV, with a BOM so Excel reads the Chinese.
    let as_csv = || app.get(summary).header("Accept", "text/csv");
    let res = as_csv().send().await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").unwrap().starts_with("text/csv"));
    assert!(res.body.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(res.body[3..].to_vec()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<(String, String, String)> = reader.deserialize().map(|r| r.unwrap()).collect();
    let get = |section: &str, key: &str| {
        let row = rows.iter().find(|(s, k, _)| s == section && k == key);
        row.map(|(_, _, v)| v.clone())
            .unwrap_or_else(|| panic!("{section},{key}"))
    };
    let edu = small.edu.to_string();
    for (section, key, value) in [
        ("partners", "co_host", "2"),
        ("partners", "lead_unit_id", edu.as_str()),
        ("events.by_status", "cancelled", "1"),
        ("participants.events", "headcount", "15"),
        ("participants.by_category.returnee", "person_times", "90"),
        ("trainings", "employed_after", "9"),
        ("media_reports.by_medium", "tv", "2"),
        ("coverage", "ratio", "0.333"),
    ] {
        assert_eq!(get(section, key), value, "{section},{key}");
    }
    let csv_etag = res.header("etag").unwrap();
    let again = as_csv().header("If-None-Match", &csv_etag).send().await;
    assert_eq!(again.status, 304);

    // Publishing the draft changes the figures (and the ETag).
    let json_etag = app.get(summary).send().await.header("etag").unwrap();
    let path = format!("/api/v1/events/{}", small.draft);
    let published = json!({"status": "published"});
    app.expect(200, &app.admin, vec![(Method::PATCH, &path, published)])
        .await;
    let res = app
        .get(summary)
        .header("If-None-Match", &json_etag)
        .send()
        .await;
    let s = res.ok(200);
    assert_eq!(s["participants"]["events"]["headcount"], 115);
    assert_eq!(s["coverage"]["reached"], 2);
    app.get_problem("/api/v1/campaigns/nowhere-2024/summary", 404)
        .await;
}

/// The demo week's summary, whole, against the committed snapshot
/// (`tests/api/snapshots/demo_summary.snap`), its unit ids redacted.
#[actix_web::test]
async fn the_demo_weeks_summary_is_the_snapshot() {
    let app = TestApp::spawn().await;
    app.load_demo_week().await;
    let summary = app
        .read("/api/v1/campaigns/gaozhou-2014/summary", None)
        .await;
    let text = serde_json::to_string_pretty(&summary).unwrap();
    assert_redacted_snapshot("demo_summary", &text);
}
