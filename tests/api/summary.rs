//! The computed report: the Gaozhou 2014 demo week against the report's figures, and a small
//! hand-built campaign checked figure by figure (JSON and CSV).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::TestApp;

#[actix_web::test]
async fn the_demo_week_matches_the_2014_report() {
    let app = TestApp::spawn().await;
    learnweek::seed::gaozhou::load(&app.state).await.unwrap();
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
    let unit = app
        .get(&format!("/api/v1/units/{lead}"))
        .send()
        .await
        .json();
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
    let again = learnweek::seed::gaozhou::load(&app.state).await.unwrap();
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
    learnweek::schema::changes::table
        .count()
        .get_result(&mut app.conn().await)
        .await
        .unwrap()
}

async fn post(app: &TestApp, path: &str, body: Value) -> Uuid {
    let res = app.post(path).bearer(&app.admin).json(body).send().await;
    assert_eq!(res.status, 201, "{path}: {}", res.text());
    res.id()
}

async fn put(app: &TestApp, path: &str, body: Value) {
    let res = app.put(path).bearer(&app.admin).json(body).send().await;
    assert!(
        res.status == 201 || res.status == 200,
        "{path}: {}",
        res.text()
    );
}

#[actix_web::test]
async fn every_figure_of_a_small_campaign() {
    let app = TestApp::spawn().await;
    let c = app
        .post("/api/v1/campaigns")
        .bearer(&app.admin)
        .json(json!({"slug": "tiny-2024", "name": "小型活动周", "starts_on": "2024-10-20", "ends_on": "2024-10-26",
                     "areas": ["甲街道", "乙镇", "丙镇"]}))
        .send()
        .await;
    let cid = c.id();
    let edu = app.unit("教育局").await;
    let women = app.unit("妇联").await;
    let school = app.unit("职业学校").await;
    let library = app.unit("图书馆").await;
    let base = format!("/api/v1/campaigns/{cid}/partners");
    put(
        &app,
        &format!("{base}/{edu}"),
        json!({"role": "co_host", "lead": true}),
    )
    .await;
    put(&app, &format!("{base}/{women}"), json!({"role": "co_host"})).await;
    put(
        &app,
        &format!("{base}/{school}"),
        json!({"role": "undertaker"}),
    )
    .await;
    put(
        &app,
        &format!("{base}/{library}"),
        json!({"role": "member"}),
    )
    .await;

    let event = |title: &str, kind: &str, area: &str, status: &str, visibility: &str| {
        json!({"campaign_id": cid, "title": title, "kind": kind, "area": area, "status": status, "visibility": visibility,
               "starts_at": "2024-10-20T01:00:00Z", "ends_at": "2024-10-20T03:00:00Z", "host_unit_id": edu})
    };
    let lecture = post(
        &app,
        "/api/v1/events",
        event(
            "消防安全、牢记心间",
            "lecture",
            "甲街道",
            "published",
            "public",
        ),
    )
    .await;
    let meeting = post(
        &app,
        "/api/v1/events",
        event("动员大会", "meeting", "乙镇", "completed", "internal"),
    )
    .await;
    post(
        &app,
        "/api/v1/events",
        event(
            "户外读书会",
            "reading_promotion",
            "丙镇",
            "cancelled",
            "public",
        ),
    )
    .await;
    let draft = post(
        &app,
        "/api/v1/events",
        event("还在筹备", "exhibition", "丙镇", "draft", "public"),
    )
    .await;
    let training = |title: &str, status: &str| {
        json!({"campaign_id": cid, "title": title, "subject": "computer", "provider_unit_id": school, "status": status,
               "starts_at": "2024-10-21T01:00:00Z", "ends_at": "2024-10-25T09:00:00Z",
               "capacity": 30, "enrolled": 20, "completed": 18, "employed_after": 9})
    };
    let course = post(&app, "/api/v1/trainings", training("电脑培训", "completed")).await;
    let draft_course = post(&app, "/api/v1/trainings", training("未开班", "draft")).await;
    let count = |subject: &str, id: Uuid, category: &str, measure: &str, n: i32, unit: Uuid| json!({subject: id, "category": category, "measure": measure, "count": n, "tally_date": "2024-10-21", "reporting_unit_id": unit});
    put(
        &app,
        "/api/v1/tallies",
        count("event_id", lecture, "student", "headcount", 10, edu),
    )
    .await;
    put(
        &app,
        "/api/v1/tallies",
        count("event_id", lecture, "student", "person_times", 25, edu),
    )
    .await;
    put(
        &app,
        "/api/v1/tallies",
        count("event_id", meeting, "retiree", "headcount", 5, edu),
    )
    .await;
    put(
        &app,
        "/api/v1/tallies",
        count("event_id", draft, "general", "headcount", 100, edu),
    )
    .await;
    put(
        &app,
        "/api/v1/tallies",
        count("training_id", course, "returnee", "headcount", 18, school),
    )
    .await;
    put(
        &app,
        "/api/v1/tallies",
        count(
            "training_id",
            course,
            "returnee",
            "person_times",
            90,
            school,
        ),
    )
    .await;
    put(
        &app,
        "/api/v1/tallies",
        count(
            "training_id",
            draft_course,
            "veteran",
            "headcount",
            7,
            school,
        ),
    )
    .await;
    for (medium, outlet) in [
        ("tv", "市电视台"),
        ("tv", "市电视台"),
        ("newspaper", "茂名日报"),
    ] {
        post(&app, "/api/v1/media-reports", json!({"campaign_id": cid, "medium": medium, "outlet_name": outlet,
            "reporting_unit_id": edu, "title": "活动周报道", "published_at": "2024-10-21T12:00:00Z"})).await;
    }

    let res = app.get("/api/v1/campaigns/tiny-2024/summary").send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let s = res.json();
    let zero_kinds: Vec<&str> = vec![
        "opening_ceremony",
        "community_activity",
        "training",
        "exhibition",
        "competition",
        "performance",
        "open_venue",
        "publicity",
        "other",
    ];
    let mut by_kind = json!({"lecture": 1, "meeting": 1, "reading_promotion": 1});
    for k in zero_kinds {
        by_kind[k] = json!(0);
    }
    let mut by_category = json!({"student": {"headcount": 10, "person_times": 25}, "retiree": {"headcount": 5, "person_times": 0},
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
    let expected = json!({
        "campaign_id": cid,
        "slug": "tiny-2024",
        "partners": {"co_host": 2, "undertaker": 1, "member": 1, "lead_unit_id": edu},
        "events": {"total": 3, "by_kind": by_kind, "by_status": {"published": 1, "cancelled": 1, "completed": 1}, "internal": 1},
        "participants": {
            "events": {"headcount": 15, "person_times": 25},
            "trainings": {"headcount": 18, "person_times": 90},
            "by_category": by_category
        },
        "trainings": {"sessions": 1, "enrolled": 20, "completed": 18, "employed_after": 9},
        "media_reports": {"total": 3, "by_medium": {"tv": 2, "radio": 0, "newspaper": 1, "online": 0, "social": 0, "print_material": 0, "other": 0}},
        "coverage": {"areas": 3, "reached": 1, "ratio": 0.333}
    });
    assert_eq!(s, expected);

    // The same figures as CSV, with a BOM so Excel reads the Chinese.
    let res = app
        .get("/api/v1/campaigns/tiny-2024/summary")
        .header("Accept", "text/csv")
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").unwrap().starts_with("text/csv"));
    assert!(res.body.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(res.body[3..].to_vec()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<(String, String, String)> = reader.deserialize().map(|r| r.unwrap()).collect();
    let get = |section: &str, key: &str| {
        rows.iter()
            .find(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.clone())
            .unwrap_or_else(|| panic!("{section},{key}"))
    };
    assert_eq!(get("partners", "co_host"), "2");
    assert_eq!(get("partners", "lead_unit_id"), edu.to_string());
    assert_eq!(get("events.by_status", "cancelled"), "1");
    assert_eq!(get("participants.events", "headcount"), "15");
    assert_eq!(
        get("participants.by_category.returnee", "person_times"),
        "90"
    );
    assert_eq!(get("trainings", "employed_after"), "9");
    assert_eq!(get("media_reports.by_medium", "tv"), "2");
    assert_eq!(get("coverage", "ratio"), "0.333");
    let csv_etag = res.header("etag").unwrap();
    let again = app
        .get("/api/v1/campaigns/tiny-2024/summary")
        .header("Accept", "text/csv")
        .header("If-None-Match", &csv_etag)
        .send()
        .await;
    assert_eq!(again.status, 304);

    // Publishing the draft changes the figures (and the ETag).
    let json_etag = app
        .get("/api/v1/campaigns/tiny-2024/summary")
        .send()
        .await
        .header("etag")
        .unwrap();
    let res = app
        .patch(&format!("/api/v1/events/{draft}"))
        .bearer(&app.admin)
        .json(json!({"status": "published"}))
        .send()
        .await;
    assert_eq!(res.status, 200);
    let res = app
        .get("/api/v1/campaigns/tiny-2024/summary")
        .header("If-None-Match", &json_etag)
        .send()
        .await;
    assert_eq!(res.status, 200);
    let s = res.json();
    assert_eq!(s["participants"]["events"]["headcount"], 115);
    assert_eq!(s["coverage"]["reached"], 2);
    app.get("/api/v1/campaigns/nowhere-2024/summary")
        .send()
        .await
        .problem(404);
}
