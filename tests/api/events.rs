//! `/api/v1/events`: create, read, list filters, merge-patch updates, deletes with their
//! dependents, visibility for anonymous callers and unit ownership.

use learnweek::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{TestApp, id_of, qs, titles, with};

/// The week's 低碳生活进家庭 day in 康泰华都小区, hosted by 市妇联.
fn low_carbon(campaign: &str, host: Uuid) -> Value {
    json!({
        "campaign_id": campaign,
        "title": "低碳生活进家庭",
        "kind": "community_activity",
        "summary": "倡导家庭低碳生活，现场发放购物竹篮，减少塑料袋使用。",
        "description": "市妇联在康泰华都小区组织“低碳生活进家庭”活动，倡导广大市民的家庭低碳生活。",
        "venue": {"name": "康泰华都小区", "address": "高州市潘州街道康泰华都小区广场"},
        "area": "潘州街道",
        "starts_at": "2014-10-19T09:00:00+08:00",
        "ends_at": "2014-10-19T11:30:00+08:00",
        "host_unit_id": host,
        "audience": "社区居民、家庭妇女",
        "status": "published",
        "visibility": "public",
        "expected_participants": 300,
        "tags": ["低碳生活", "社区教育"]
    })
}

/// A minimal event of `campaign` hosted by `host`.
fn event(campaign: &str, host: Uuid, title: &str, starts_at: &str, ends_at: &str) -> Value {
    json!({
        "campaign_id": campaign,
        "title": title,
        "kind": "lecture",
        "starts_at": starts_at,
        "ends_at": ends_at,
        "host_unit_id": host,
        "status": "published"
    })
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    app.create("/api/v1/events", token, body).await
}

async fn list(app: &TestApp, token: Option<&str>, pairs: &[(&str, &str)]) -> Vec<String> {
    app.list_titles("/api/v1/events", token, pairs).await
}

#[actix_web::test]
async fn create_returns_201_with_location_and_etag_and_round_trips_chinese_text() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let fulian = app.unit("高州市妇女联合会").await;
    let wenhua = app.unit("高州市文化局").await;
    let mut body = low_carbon(c["id"].as_str().unwrap(), fulian);
    body["co_organizer_unit_ids"] = json!([wenhua]);
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let e = res.json();
    let location = res.header("location").unwrap();
    assert_eq!(location, format!("/api/v1/events/{}", id_of(&e)));
    let etag = res.header("etag").unwrap();
    assert_eq!(e["title"], "低碳生活进家庭");
    assert_eq!(
        e["summary"],
        "倡导家庭低碳生活，现场发放购物竹篮，减少塑料袋使用。"
    );
    assert_eq!(
        e["venue"],
        json!({"name": "康泰华都小区", "address": "高州市潘州街道康泰华都小区广场"})
    );
    assert_eq!(e["area"], "潘州街道");
    assert_eq!(e["audience"], "社区居民、家庭妇女");
    assert_eq!(e["tags"], json!(["低碳生活", "社区教育"]));
    assert_eq!(e["host_unit_id"], fulian.to_string());
    assert_eq!(e["co_organizer_unit_ids"], json!([wenhua]));
    assert_eq!(e["campaign_id"], c["id"]);
    assert_eq!(e["starts_at"], "2014-10-19T01:00:00Z");
    assert_eq!(e["ends_at"], "2014-10-19T03:30:00Z");
    assert_eq!(e["expected_participants"], 300);

    // Anyone may read a published public event; the representation and its tag are the same.
    let fetched = app.get(&location).send().await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), e);
    assert_eq!(fetched.header("etag").unwrap(), etag);
    assert!(fetched.text().contains("康泰华都小区"), "not escaped");
    let res = app
        .get(&location)
        .header("If-None-Match", &etag)
        .send()
        .await;
    assert_eq!(res.status, 304);

    // Defaults: a new event is a public draft with no co-organizers or tags.
    let minimal = json!({
        "campaign_id": c["id"],
        "title": "消防安全、牢记心间",
        "kind": "lecture",
        "starts_at": "2014-10-21T15:00:00+08:00",
        "ends_at": "2014-10-21T17:00:00+08:00",
        "host_unit_id": wenhua
    });
    let e = create(&app, &app.admin, minimal).await;
    assert_eq!(e["status"], "draft");
    assert_eq!(e["visibility"], "public");
    assert_eq!(e["co_organizer_unit_ids"], json!([]));
    assert_eq!(e["tags"], json!([]));
    assert_eq!(e["venue"], Value::Null);

    app.get(&format!("/api/v1/events/{}", Uuid::now_v7()))
        .bearer(&app.admin)
        .send()
        .await
        .problem(404);
}

#[actix_web::test]
async fn list_filters_by_campaign_kind_status_unit_area_time_window_and_chinese_title() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let other = app.campaign("gaozhou-2015").await;
    let oid = other["id"].as_str().unwrap();
    let fulian = app.unit("高州市妇女联合会").await;
    let wenhua = app.unit("高州市文化局").await;
    let zonggonghui = app.unit("高州市总工会").await;
    let laoganju = app.unit("高州市老干局老年大学").await;

    create(&app, &app.admin, low_carbon(cid, fulian)).await;
    let mut fire = event(
        cid,
        zonggonghui,
        "消防安全、牢记心间",
        "2014-10-21T15:00:00+08:00",
        "2014-10-21T17:00:00+08:00",
    );
    fire["co_organizer_unit_ids"] = json!([wenhua]);
    fire["area"] = json!("石仔岭街道");
    create(&app, &app.admin, fire).await;
    let festival = with(
        event(
            cid,
            laoganju,
            "2014年老年文化艺术节",
            "2014-10-23T09:00:00+08:00",
            "2014-10-23T12:00:00+08:00",
        ),
        json!({"kind": "performance", "status": "completed", "area": "潘州街道",
               "venue": {"name": "潘州公园", "address": null}}),
    );
    create(&app, &app.admin, festival).await;
    let draft = with(
        event(
            cid,
            fulian,
            "社区教育成果巡回展",
            "2014-10-20T09:00:00+08:00",
            "2014-10-25T17:00:00+08:00",
        ),
        json!({"kind": "exhibition", "status": "draft", "area": "潘州街道"}),
    );
    create(&app, &app.admin, draft).await;
    let books = with(
        event(
            oid,
            wenhua,
            "南国书香节高州巡回活动",
            "2015-10-18T09:00:00+08:00",
            "2015-10-18T17:00:00+08:00",
        ),
        json!({"kind": "reading_promotion"}),
    );
    create(&app, &app.admin, books).await;

    let admin = Some(app.admin.as_str());
    // Everything, in order of start time.
    assert_eq!(
        list(&app, admin, &[]).await,
        [
            "低碳生活进家庭",
            "社区教育成果巡回展",
            "消防安全、牢记心间",
            "2014年老年文化艺术节",
            "南国书香节高州巡回活动"
        ]
    );
    assert_eq!(
        list(&app, admin, &[("campaign_id", oid)]).await,
        ["南国书香节高州巡回活动"]
    );
    assert_eq!(list(&app, admin, &[("campaign_id", cid)]).await.len(), 4);
    assert_eq!(
        list(&app, admin, &[("kind", "lecture")]).await,
        ["消防安全、牢记心间"]
    );
    assert_eq!(
        list(&app, admin, &[("kind", "performance")]).await,
        ["2014年老年文化艺术节"]
    );
    assert_eq!(
        list(&app, admin, &[("status", "completed")]).await,
        ["2014年老年文化艺术节"]
    );
    assert_eq!(
        list(&app, admin, &[("status", "draft")]).await,
        ["社区教育成果巡回展"]
    );
    // unit_id: the host or a co-organizer.
    let wenhua_s = wenhua.to_string();
    assert_eq!(
        list(&app, admin, &[("unit_id", &wenhua_s)]).await,
        ["消防安全、牢记心间", "南国书香节高州巡回活动"]
    );
    let fulian_s = fulian.to_string();
    assert_eq!(
        list(&app, admin, &[("unit_id", &fulian_s)]).await,
        ["低碳生活进家庭", "社区教育成果巡回展"]
    );
    assert_eq!(
        list(&app, admin, &[("area", "潘州街道")]).await,
        [
            "低碳生活进家庭",
            "社区教育成果巡回展",
            "2014年老年文化艺术节"
        ]
    );
    assert_eq!(
        list(&app, admin, &[("area", "石仔岭街道"), ("campaign_id", cid)]).await,
        ["消防安全、牢记心间"]
    );
    // from: ends at or after; to: starts before (both bounds are exact).
    assert_eq!(
        list(
            &app,
            admin,
            &[
                ("from", "2014-10-19T11:30:00+08:00"),
                ("to", "2014-10-23T09:00:00+08:00")
            ]
        )
        .await,
        ["低碳生活进家庭", "社区教育成果巡回展", "消防安全、牢记心间"]
    );
    assert_eq!(
        list(
            &app,
            admin,
            &[
                ("from", "2014-10-19T11:30:01+08:00"),
                ("to", "2014-10-23T09:00:01+08:00")
            ]
        )
        .await,
        [
            "社区教育成果巡回展",
            "消防安全、牢记心间",
            "2014年老年文化艺术节"
        ]
    );
    assert_eq!(
        list(&app, admin, &[("from", "2014-10-26T00:00:00+08:00")]).await,
        ["南国书香节高州巡回活动"]
    );
    // q: a Chinese substring of the title, case-insensitive, wildcards literal.
    assert_eq!(
        list(&app, admin, &[("q", "消防")]).await,
        ["消防安全、牢记心间"]
    );
    assert_eq!(
        list(&app, admin, &[("q", "文化")]).await,
        ["2014年老年文化艺术节"]
    );
    assert_eq!(
        list(&app, admin, &[("q", "巡回")]).await,
        ["社区教育成果巡回展", "南国书香节高州巡回活动"]
    );
    assert!(list(&app, admin, &[("q", "%")]).await.is_empty());
    // Filters combine.
    assert_eq!(
        list(
            &app,
            admin,
            &[("area", "潘州街道"), ("status", "published"), ("q", "低碳")]
        )
        .await,
        ["低碳生活进家庭"]
    );

    // updated_since: only what changed at or after the instant.
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let fire_id = app
        .get(&format!("/api/v1/events?{}", qs(&[("q", "消防")])))
        .send()
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .patch(&format!("/api/v1/events/{fire_id}"))
        .bearer(&app.admin)
        .json(json!({"expected_participants": 120}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        list(&app, admin, &[("updated_since", &since)]).await,
        ["消防安全、牢记心间"]
    );

    // Bad filter values are refused, not ignored.
    app.get("/api/v1/events?kind=picnic")
        .send()
        .await
        .problem(400);
    app.get("/api/v1/events?status=finished")
        .send()
        .await
        .problem(400);
    app.get("/api/v1/events?from=yesterday")
        .send()
        .await
        .problem(400);
    app.get("/api/v1/events?campaign_id=gaozhou")
        .send()
        .await
        .problem(400);
}

#[actix_web::test]
async fn list_pages_in_start_time_order_with_cursors() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let host = app.unit("高州市教育局").await;
    // Created out of order; two share a start time (the id breaks the tie).
    let starts = [
        ("书画大赛", "2014-10-22T09:00:00+08:00"),
        ("开幕式", "2014-10-19T08:30:00+08:00"),
        ("摄影大赛", "2014-10-22T09:00:00+08:00"),
        ("木刻画大赛", "2014-10-24T09:00:00+08:00"),
        ("迎国庆歌唱比赛", "2014-10-20T19:30:00+08:00"),
    ];
    for (title, at) in starts {
        create(
            &app,
            &app.admin,
            event(cid, host, title, at, "2014-10-25T18:00:00+08:00"),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/events?limit=2".to_string();
    let mut pages = 0;
    loop {
        let res = app.get(&path).send().await;
        assert_eq!(res.status, 200, "{}", res.text());
        let page = res.json();
        assert!(page["items"].as_array().unwrap().len() <= 2);
        seen.extend(titles(&page));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                assert!(res.header("link").unwrap().contains("rel=\"next\""));
                path = format!("/api/v1/events?limit=2&cursor={cursor}");
            }
            None => {
                assert!(res.header("link").is_none());
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        [
            "开幕式",
            "迎国庆歌唱比赛",
            "书画大赛",
            "摄影大赛",
            "木刻画大赛"
        ]
    );
}

#[actix_web::test]
async fn anonymous_callers_see_no_drafts_or_internal_events_and_tokens_see_all() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let host = app.unit("高州市教育局").await;
    let mut ids = std::collections::HashMap::new();
    for (title, status, visibility) in [
        ("公开活动", "published", "public"),
        ("草稿活动", "draft", "public"),
        ("内部协调会", "published", "internal"),
        ("取消的活动", "cancelled", "public"),
        ("已结束的活动", "completed", "public"),
        ("内部草稿", "draft", "internal"),
    ] {
        let body = with(
            event(
                cid,
                host,
                title,
                "2014-10-20T09:00:00+08:00",
                "2014-10-20T10:00:00+08:00",
            ),
            json!({"status": status, "visibility": visibility}),
        );
        ids.insert(title, create(&app, &app.admin, body).await["id"].clone());
    }
    let mut anonymous = list(&app, None, &[]).await;
    anonymous.sort();
    let mut expected = vec!["公开活动", "取消的活动", "已结束的活动"];
    expected.sort();
    assert_eq!(anonymous, expected);
    // Filtering for drafts does not reveal them either.
    assert!(list(&app, None, &[("status", "draft")]).await.is_empty());
    assert!(
        list(&app, None, &[("visibility", "internal")])
            .await
            .is_empty()
    );

    let viewer = app.token(Role::Viewer, Some(host)).await;
    assert_eq!(list(&app, Some(&viewer), &[]).await.len(), 6);
    assert_eq!(
        list(&app, Some(&viewer), &[("visibility", "internal")])
            .await
            .len(),
        2
    );

    for hidden in ["草稿活动", "内部协调会", "内部草稿"] {
        let path = format!("/api/v1/events/{}", ids[hidden].as_str().unwrap());
        app.get(&path).send().await.problem(404);
        let res = app.get(&path).bearer(&viewer).send().await;
        assert_eq!(res.status, 200, "{hidden}: {}", res.text());
        assert_eq!(res.json()["title"], hidden);
    }
    for shown in ["公开活动", "取消的活动", "已结束的活动"] {
        let path = format!("/api/v1/events/{}", ids[shown].as_str().unwrap());
        assert_eq!(app.get(&path).send().await.status, 200, "{shown}");
    }
}

#[actix_web::test]
async fn validation_names_every_bad_field_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let fulian = app.unit("高州市妇女联合会").await;
    let wenhua = app.unit("高州市文化局").await;
    let nowhere = Uuid::now_v7();

    let bad = with(
        low_carbon(cid, fulian),
        json!({
            "title": "  ",
            "starts_at": "2014-10-19T11:00:00+08:00",
            "ends_at": "2014-10-19T09:00:00+08:00",
            "area": "北京市",
            "co_organizer_unit_ids": [fulian, wenhua, wenhua, nowhere],
            "expected_participants": -1
        }),
    );
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(bad)
        .send()
        .await;
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "area",
            "co_organizer_unit_ids[0]",
            "co_organizer_unit_ids[2]",
            "co_organizer_unit_ids[3]",
            "ends_at",
            "expected_participants",
            "title"
        ]
    );

    // An unknown host unit, an unknown campaign.
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(low_carbon(cid, nowhere))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["host_unit_id"]);
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(low_carbon(&Uuid::now_v7().to_string(), fulian))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["campaign_id"]);

    // Enum values, unknown fields, missing fields.
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(with(low_carbon(cid, fulian), json!({"kind": "picnic"})))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["kind"]);
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(with(
            low_carbon(cid, fulian),
            json!({"organizer": "市妇联"}),
        ))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["organizer"]);
    let mut missing = low_carbon(cid, fulian);
    missing.as_object_mut().unwrap().remove("starts_at");
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(missing)
        .send()
        .await;
    assert_eq!(res.error_fields(), ["starts_at"]);

    // An event that ends when it starts is fine; an area is optional.
    let ok = with(
        low_carbon(cid, fulian),
        json!({"ends_at": "2014-10-19T09:00:00+08:00", "area": null}),
    );
    create(&app, &app.admin, ok).await;
    assert_eq!(
        list(&app, Some(&app.admin), &[]).await,
        ["低碳生活进家庭"],
        "only the valid event was stored"
    );
}

#[actix_web::test]
async fn patch_merges_honours_if_match_and_cannot_change_the_campaign() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let other = app.campaign("gaozhou-2015").await;
    let fulian = app.unit("高州市妇女联合会").await;
    let created = create(&app, &app.admin, low_carbon(cid, fulian)).await;
    let path = format!("/api/v1/events/{}", id_of(&created));
    let etag = app.get(&path).send().await.header("etag").unwrap();

    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .header("If-Match", &etag)
        .body(
            "application/merge-patch+json",
            r#"{"status": "completed", "summary": null, "venue": {"address": null}, "tags": ["低碳"]}"#,
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let updated = res.json();
    let new_etag = res.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    assert_eq!(updated["status"], "completed");
    assert_eq!(updated["summary"], Value::Null);
    assert_eq!(
        updated["venue"],
        json!({"name": "康泰华都小区", "address": null})
    );
    assert_eq!(updated["tags"], json!(["低碳"]));
    assert_eq!(updated["title"], "低碳生活进家庭");
    assert_eq!(updated["description"], created["description"]);
    assert_eq!(
        updated["sequence"].as_i64().unwrap(),
        created["sequence"].as_i64().unwrap() + 1
    );
    assert_ne!(updated["updated_at"], created["updated_at"]);
    assert_eq!(app.get(&path).send().await.json(), updated);

    // The old tag is stale now: 412 and nothing changes.
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .header("If-Match", &etag)
        .json(json!({"title": "低碳生活进万家"}))
        .send()
        .await;
    res.problem(412);

    // Invalid results of a merge are 422 and change nothing.
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"campaign_id": other["id"]}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["campaign_id"]);
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"ends_at": "2014-10-18T09:00:00+08:00"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["ends_at"]);
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"area": "茂南区"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["area"]);
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"co_organizer_unit_ids": [fulian]}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["co_organizer_unit_ids[0]"]);
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"title": null}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["title"]);
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"id": Uuid::now_v7()}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["id"]);
    let after = app.get(&path).send().await;
    assert_eq!(after.json(), updated);
    assert_eq!(after.header("etag").unwrap(), new_etag);

    app.patch(&format!("/api/v1/events/{}", Uuid::now_v7()))
        .bearer(&app.admin)
        .json(json!({"title": "x"}))
        .send()
        .await
        .problem(404);
}

/// Creates a tally as admin and returns it.
async fn tally(app: &TestApp, subject: (&str, &str), unit: Uuid, count: i64) -> Value {
    let res = app
        .put("/api/v1/tallies")
        .bearer(&app.admin)
        .json(json!({
            subject.0: subject.1,
            "category": "general",
            "measure": "headcount",
            "count": count,
            "tally_date": "2014-10-19",
            "reporting_unit_id": unit
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

#[actix_web::test]
async fn delete_removes_tallies_detaches_trainings_and_media_reports() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let fulian = app.unit("高州市妇女联合会").await;
    let renshe = app.unit("高州市人力资源和社会保障局").await;
    let tv = app.unit("高州市电视台").await;
    let e = create(&app, &app.admin, low_carbon(cid, fulian)).await;
    let eid = id_of(&e).to_string();
    let keep = create(
        &app,
        &app.admin,
        event(
            cid,
            fulian,
            "家庭教育讲座",
            "2014-10-20T09:00:00+08:00",
            "2014-10-20T10:00:00+08:00",
        ),
    )
    .await;
    let keep_id = id_of(&keep).to_string();

    let t = tally(&app, ("event_id", &eid), fulian, 320).await;
    let kept_tally = tally(&app, ("event_id", &keep_id), fulian, 80).await;
    let res = app
        .post("/api/v1/trainings")
        .bearer(&app.admin)
        .json(json!({
            "campaign_id": cid, "event_id": eid, "title": "家政服务培训班", "subject": "housekeeping",
            "provider_unit_id": renshe, "starts_at": "2014-10-19T14:00:00+08:00",
            "ends_at": "2014-10-19T17:00:00+08:00", "status": "published"
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let training = res.json();
    let res = app
        .post("/api/v1/media-reports")
        .bearer(&app.admin)
        .json(json!({
            "campaign_id": cid, "event_id": eid, "outlet_unit_id": tv, "medium": "tv",
            "title": "市妇联开展低碳生活进家庭活动", "published_at": "2014-10-19T20:00:00+08:00"
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let report = res.json();

    let path = format!("/api/v1/events/{eid}");
    // A stale If-Match refuses the delete and keeps everything.
    app.delete(&path)
        .bearer(&app.admin)
        .header("If-Match", "\"stale\"")
        .send()
        .await
        .problem(412);
    assert_eq!(app.get(&path).send().await.status, 200);

    let res = app.delete(&path).bearer(&app.admin).send().await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert!(res.body.is_empty());
    app.get(&path).bearer(&app.admin).send().await.problem(404);
    app.delete(&path)
        .bearer(&app.admin)
        .send()
        .await
        .problem(404);
    assert_eq!(list(&app, Some(&app.admin), &[]).await, ["家庭教育讲座"]);
    assert_eq!(list(&app, None, &[]).await, ["家庭教育讲座"]);

    // Its tally is gone, from the list and by id; the other event's tally stays.
    app.get(&format!("/api/v1/tallies/{}", id_of(&t)))
        .bearer(&app.admin)
        .send()
        .await
        .problem(404);
    let tallies = app
        .get("/api/v1/tallies")
        .bearer(&app.admin)
        .send()
        .await
        .json();
    let tally_ids: Vec<&Value> = tallies["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["id"])
        .collect();
    assert_eq!(tally_ids, [&kept_tally["id"]]);
    let res = app
        .get(&format!("/api/v1/tallies?event_id={eid}"))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.json()["items"], json!([]));

    // The training and the media report stay, detached.
    let t = app
        .get(&format!("/api/v1/trainings/{}", id_of(&training)))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(t.status, 200);
    assert_eq!(t.json()["event_id"], Value::Null);
    assert_eq!(t.json()["title"], "家政服务培训班");
    let m = app
        .get(&format!("/api/v1/media-reports/{}", id_of(&report)))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(m.status, 200);
    assert_eq!(m.json()["event_id"], Value::Null);
    let res = app
        .get(&format!("/api/v1/trainings?event_id={eid}"))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.json()["items"], json!([]));
    let res = app
        .get(&format!("/api/v1/media-reports?event_id={eid}"))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.json()["items"], json!([]));
}

#[actix_web::test]
async fn editors_write_only_their_own_units_events() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let fulian = app.unit("高州市妇女联合会").await;
    let wenhua = app.unit("高州市文化局").await;
    let fulian_editor = app.token(Role::Editor, Some(fulian)).await;
    let wenhua_editor = app.token(Role::Editor, Some(wenhua)).await;

    // Create: only for its own unit.
    let e = create(&app, &fulian_editor, low_carbon(cid, fulian)).await;
    app.post("/api/v1/events")
        .bearer(&wenhua_editor)
        .json(low_carbon(cid, fulian))
        .send()
        .await
        .problem(403);
    for role in [Role::Reporter, Role::Viewer] {
        let token = app.token(role, Some(fulian)).await;
        app.post("/api/v1/events")
            .bearer(&token)
            .json(low_carbon(cid, fulian))
            .send()
            .await
            .problem(403);
    }
    app.post("/api/v1/events")
        .json(low_carbon(cid, fulian))
        .send()
        .await
        .problem(401);

    let path = format!("/api/v1/events/{}", id_of(&e));
    // Another unit's editor may neither change nor delete it.
    app.patch(&path)
        .bearer(&wenhua_editor)
        .json(json!({"title": "南国书香节"}))
        .send()
        .await
        .problem(403);
    app.delete(&path)
        .bearer(&wenhua_editor)
        .send()
        .await
        .problem(403);
    // Being a co-organizer does not make it yours.
    let res = app
        .patch(&path)
        .bearer(&fulian_editor)
        .json(json!({"co_organizer_unit_ids": [wenhua]}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    app.patch(&path)
        .bearer(&wenhua_editor)
        .json(json!({"title": "南国书香节"}))
        .send()
        .await
        .problem(403);
    // The owner cannot hand it to another unit.
    app.patch(&path)
        .bearer(&fulian_editor)
        .json(json!({"host_unit_id": wenhua}))
        .send()
        .await
        .problem(403);
    let viewer = app.token(Role::Viewer, Some(fulian)).await;
    app.patch(&path)
        .bearer(&viewer)
        .json(json!({"title": "x"}))
        .send()
        .await
        .problem(403);
    let now = app.get(&path).send().await.json();
    assert_eq!(now["title"], "低碳生活进家庭");
    assert_eq!(now["host_unit_id"], fulian.to_string());
    assert_eq!(
        now["sequence"].as_i64().unwrap(),
        e["sequence"].as_i64().unwrap() + 1,
        "only the owner's change landed"
    );

    // The owner may change and delete it; the admin may move it.
    let res = app
        .patch(&path)
        .bearer(&fulian_editor)
        .json(json!({"expected_participants": 350}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"host_unit_id": wenhua, "co_organizer_unit_ids": [fulian]}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    app.delete(&path)
        .bearer(&fulian_editor)
        .send()
        .await
        .problem(403);
    assert_eq!(
        app.delete(&path).bearer(&wenhua_editor).send().await.status,
        204
    );
    app.get(&path).send().await.problem(404);
}

#[actix_web::test]
async fn host_editor_cannot_delete_an_event_another_units_tally_refers_to() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let fulian = app.unit("高州市妇女联合会").await;
    let zonggonghui = app.unit("高州市总工会").await;
    let editor = app.token(Role::Editor, Some(fulian)).await;

    let shared = create(&app, &editor, low_carbon(cid, fulian)).await;
    let shared_id = id_of(&shared).to_string();
    let theirs = tally(&app, ("event_id", &shared_id), zonggonghui, 45).await;
    let path = format!("/api/v1/events/{shared_id}");
    app.delete(&path).bearer(&editor).send().await.problem(403);
    assert_eq!(app.get(&path).send().await.status, 200);
    let res = app
        .get(&format!("/api/v1/tallies/{}", id_of(&theirs)))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["count"], 45);

    // With only its own unit's tallies, the host editor may delete (and the tallies go too).
    let own = create(
        &app,
        &editor,
        event(
            cid,
            fulian,
            "家庭教育讲座",
            "2014-10-20T09:00:00+08:00",
            "2014-10-20T10:00:00+08:00",
        ),
    )
    .await;
    let own_id = id_of(&own).to_string();
    let mine = tally(&app, ("event_id", &own_id), fulian, 60).await;
    let res = app
        .delete(&format!("/api/v1/events/{own_id}"))
        .bearer(&editor)
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.get(&format!("/api/v1/tallies/{}", id_of(&mine)))
        .bearer(&app.admin)
        .send()
        .await
        .problem(404);

    // The admin may delete the shared one.
    assert_eq!(
        app.delete(&path).bearer(&app.admin).send().await.status,
        204
    );
    app.get(&format!("/api/v1/tallies/{}", id_of(&theirs)))
        .bearer(&app.admin)
        .send()
        .await
        .problem(404);
}
