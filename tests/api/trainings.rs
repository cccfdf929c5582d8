//! `/api/v1/trainings`: create, read, list filters, outcome counts, merge-patch updates,
//! deletes, visibility for anonymous callers, and who may write what.

use learnweek::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{TestApp, id_of, qs, titles, with};

/// The free computer course of 市人社局 (电脑培训), with its outcome counts.
fn computer_course(campaign: &str, provider: Uuid) -> Value {
    json!({
        "campaign_id": campaign,
        "title": "免费电脑操作与办公应用培训班",
        "subject": "computer",
        "provider_unit_id": provider,
        "target_groups": ["returnee", "unemployed", "veteran"],
        "starts_at": "2014-10-20T08:30:00+08:00",
        "ends_at": "2014-10-24T17:30:00+08:00",
        "venue": {"name": "高州市职业技术学校", "address": "高州市潘州街道"},
        "capacity": 100,
        "fee_cents": 0,
        "enrolled": 92,
        "completed": 86,
        "employed_after": 52,
        "status": "published",
        "visibility": "public"
    })
}

/// A minimal published training.
fn training(campaign: &str, provider: Uuid, title: &str, subject: &str, starts_at: &str) -> Value {
    json!({
        "campaign_id": campaign,
        "title": title,
        "subject": subject,
        "provider_unit_id": provider,
        "starts_at": starts_at,
        "ends_at": "2014-10-25T18:00:00+08:00",
        "status": "published"
    })
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    app.create("/api/v1/trainings", token, body).await
}

async fn list(app: &TestApp, token: Option<&str>, pairs: &[(&str, &str)]) -> Vec<String> {
    app.list_titles("/api/v1/trainings", token, pairs).await
}

async fn event(app: &TestApp, campaign: &str, host: Uuid, title: &str) -> String {
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(json!({
            "campaign_id": campaign, "title": title, "kind": "training",
            "starts_at": "2014-10-20T08:00:00+08:00", "ends_at": "2014-10-24T18:00:00+08:00",
            "host_unit_id": host, "status": "published"
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn create_returns_201_with_location_and_etag_and_round_trips() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let renshe = app.unit("高州市人力资源和社会保障局").await;
    let eid = event(&app, cid, renshe, "免费教育培训活动").await;
    let body = with(computer_course(cid, renshe), json!({"event_id": eid}));
    let res = app
        .post("/api/v1/trainings")
        .bearer(&app.admin)
        .json(body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let t = res.json();
    let location = res.header("location").unwrap();
    assert_eq!(location, format!("/api/v1/trainings/{}", id_of(&t)));
    let etag = res.header("etag").unwrap();
    assert_eq!(t["title"], "免费电脑操作与办公应用培训班");
    assert_eq!(t["subject"], "computer");
    assert_eq!(t["event_id"], eid);
    assert_eq!(t["campaign_id"], c["id"]);
    assert_eq!(t["provider_unit_id"], renshe.to_string());
    assert_eq!(
        t["target_groups"],
        json!(["returnee", "unemployed", "veteran"])
    );
    assert_eq!(
        t["venue"],
        json!({"name": "高州市职业技术学校", "address": "高州市潘州街道"})
    );
    assert_eq!(t["starts_at"], "2014-10-20T00:30:00Z");
    assert_eq!(
        (t["capacity"].as_i64(), t["fee_cents"].as_i64()),
        (Some(100), Some(0))
    );
    assert_eq!(
        (
            t["enrolled"].as_i64(),
            t["completed"].as_i64(),
            t["employed_after"].as_i64()
        ),
        (Some(92), Some(86), Some(52))
    );

    let fetched = app.get(&location).send().await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), t);
    assert_eq!(fetched.header("etag").unwrap(), etag);
    assert!(fetched.text().contains("免费电脑操作与办公应用培训班"));

    // Defaults: a free public draft with no counts yet.
    let minimal = json!({
        "campaign_id": cid, "title": "英语口语培训", "subject": "english",
        "provider_unit_id": renshe, "starts_at": "2014-10-21T19:00:00+08:00",
        "ends_at": "2014-10-21T21:00:00+08:00"
    });
    let t = create(&app, &app.admin, minimal).await;
    assert_eq!(t["status"], "draft");
    assert_eq!(t["visibility"], "public");
    assert_eq!(t["fee_cents"], 0);
    assert_eq!(
        (&t["enrolled"], &t["completed"], &t["employed_after"]),
        (&json!(0), &json!(0), &json!(0))
    );
    assert_eq!(t["event_id"], Value::Null);
    assert_eq!(t["capacity"], Value::Null);
    assert_eq!(t["target_groups"], json!([]));

    app.get(&format!("/api/v1/trainings/{}", Uuid::now_v7()))
        .bearer(&app.admin)
        .send()
        .await
        .problem(404);
}

#[actix_web::test]
async fn list_filters_by_campaign_event_subject_status_unit_time_window_and_title() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let other = app.campaign("gaozhou-2015").await;
    let oid = other["id"].as_str().unwrap();
    let renshe = app.unit("高州市人力资源和社会保障局").await;
    let fulian = app.unit("高州市妇女联合会").await;
    let eid = event(&app, cid, renshe, "免费教育培训活动").await;

    create(
        &app,
        &app.admin,
        with(computer_course(cid, renshe), json!({"event_id": eid})),
    )
    .await;
    create(
        &app,
        &app.admin,
        training(
            cid,
            renshe,
            "英语口语培训班",
            "english",
            "2014-10-21T19:00:00+08:00",
        ),
    )
    .await;
    create(
        &app,
        &app.admin,
        with(
            training(
                cid,
                fulian,
                "家政服务技能培训",
                "housekeeping",
                "2014-10-19T14:00:00+08:00",
            ),
            json!({"ends_at": "2014-10-19T17:00:00+08:00", "status": "completed"}),
        ),
    )
    .await;
    create(
        &app,
        &app.admin,
        with(
            training(
                cid,
                fulian,
                "商务礼仪培训",
                "etiquette",
                "2014-10-22T09:00:00+08:00",
            ),
            json!({"status": "draft"}),
        ),
    )
    .await;
    create(
        &app,
        &app.admin,
        with(
            training(
                oid,
                renshe,
                "进城务工人员就业培训",
                "employment",
                "2015-10-19T09:00:00+08:00",
            ),
            json!({"ends_at": "2015-10-19T17:00:00+08:00"}),
        ),
    )
    .await;

    let admin = Some(app.admin.as_str());
    assert_eq!(
        list(&app, admin, &[]).await,
        [
            "家政服务技能培训",
            "免费电脑操作与办公应用培训班",
            "英语口语培训班",
            "商务礼仪培训",
            "进城务工人员就业培训"
        ]
    );
    assert_eq!(
        list(&app, admin, &[("campaign_id", oid)]).await,
        ["进城务工人员就业培训"]
    );
    assert_eq!(list(&app, admin, &[("campaign_id", cid)]).await.len(), 4);
    assert_eq!(
        list(&app, admin, &[("event_id", &eid)]).await,
        ["免费电脑操作与办公应用培训班"]
    );
    assert_eq!(
        list(&app, admin, &[("subject", "english")]).await,
        ["英语口语培训班"]
    );
    assert_eq!(
        list(&app, admin, &[("status", "completed")]).await,
        ["家政服务技能培训"]
    );
    assert_eq!(
        list(&app, admin, &[("status", "draft")]).await,
        ["商务礼仪培训"]
    );
    let fulian_s = fulian.to_string();
    assert_eq!(
        list(&app, admin, &[("unit_id", &fulian_s)]).await,
        ["家政服务技能培训", "商务礼仪培训"]
    );
    let renshe_s = renshe.to_string();
    assert_eq!(
        list(&app, admin, &[("unit_id", &renshe_s), ("campaign_id", cid)]).await,
        ["免费电脑操作与办公应用培训班", "英语口语培训班"]
    );
    // from: ends at or after (exact bound); to: starts before (exact bound).
    assert_eq!(
        list(
            &app,
            admin,
            &[
                ("from", "2014-10-19T17:00:00+08:00"),
                ("to", "2014-10-21T19:00:00+08:00")
            ]
        )
        .await,
        ["家政服务技能培训", "免费电脑操作与办公应用培训班"]
    );
    assert_eq!(
        list(
            &app,
            admin,
            &[
                ("from", "2014-10-19T17:00:01+08:00"),
                ("to", "2014-10-21T19:00:01+08:00")
            ]
        )
        .await,
        ["免费电脑操作与办公应用培训班", "英语口语培训班"]
    );
    assert_eq!(
        list(&app, admin, &[("q", "培训班")]).await,
        ["免费电脑操作与办公应用培训班", "英语口语培训班"]
    );
    assert_eq!(
        list(&app, admin, &[("q", "务工")]).await,
        ["进城务工人员就业培训"]
    );
    assert!(list(&app, admin, &[("q", "_")]).await.is_empty());

    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let english = app
        .get(&format!("/api/v1/trainings?{}", qs(&[("q", "英语")])))
        .send()
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .patch(&format!("/api/v1/trainings/{english}"))
        .bearer(&app.admin)
        .json(json!({"capacity": 40}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        list(&app, admin, &[("updated_since", &since)]).await,
        ["英语口语培训班"]
    );

    // Pages follow the same order.
    let mut seen = Vec::new();
    let mut path = "/api/v1/trainings?limit=2".to_string();
    loop {
        let res = app.get(&path).bearer(&app.admin).send().await;
        assert_eq!(res.status, 200, "{}", res.text());
        let page = res.json();
        seen.extend(titles(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/trainings?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, list(&app, admin, &[]).await);

    app.get("/api/v1/trainings?subject=cooking")
        .send()
        .await
        .problem(400);
    app.get("/api/v1/trainings?to=tomorrow")
        .send()
        .await
        .problem(400);
}

#[actix_web::test]
async fn anonymous_callers_see_no_drafts_or_internal_trainings() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let renshe = app.unit("高州市人力资源和社会保障局").await;
    let mut ids = std::collections::HashMap::new();
    for (title, status, visibility) in [
        ("公开培训", "published", "public"),
        ("草稿培训", "draft", "public"),
        ("内部培训", "published", "internal"),
        ("已取消培训", "cancelled", "public"),
        ("已结束培训", "completed", "public"),
    ] {
        let body = with(
            training(cid, renshe, title, "other", "2014-10-20T09:00:00+08:00"),
            json!({"status": status, "visibility": visibility}),
        );
        ids.insert(title, create(&app, &app.admin, body).await["id"].clone());
    }
    let mut anonymous = list(&app, None, &[]).await;
    anonymous.sort();
    let mut expected = vec!["公开培训", "已取消培训", "已结束培训"];
    expected.sort();
    assert_eq!(anonymous, expected);
    assert!(list(&app, None, &[("status", "draft")]).await.is_empty());

    let viewer = app.token(Role::Viewer, Some(renshe)).await;
    assert_eq!(list(&app, Some(&viewer), &[]).await.len(), 5);
    assert_eq!(
        list(&app, Some(&viewer), &[("visibility", "internal")]).await,
        ["内部培训"]
    );
    assert!(
        list(&app, None, &[("visibility", "internal")])
            .await
            .is_empty()
    );
    for hidden in ["草稿培训", "内部培训"] {
        let path = format!("/api/v1/trainings/{}", ids[hidden].as_str().unwrap());
        app.get(&path).send().await.problem(404);
        let res = app.get(&path).bearer(&viewer).send().await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json()["title"], hidden);
    }
    let path = format!("/api/v1/trainings/{}", ids["公开培训"].as_str().unwrap());
    assert_eq!(app.get(&path).send().await.status, 200);
}

#[actix_web::test]
async fn counts_must_satisfy_employed_after_le_completed_le_enrolled_le_capacity() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let renshe = app.unit("高州市人力资源和社会保障局").await;
    let post = |body: Value| {
        let app = &app;
        async move {
            app.post("/api/v1/trainings")
                .bearer(&app.admin)
                .json(body)
                .send()
                .await
        }
    };
    let counts = |capacity: Value, enrolled: i64, completed: i64, employed: i64| {
        with(
            computer_course(cid, renshe),
            json!({"capacity": capacity, "enrolled": enrolled, "completed": completed,
                   "employed_after": employed}),
        )
    };
    let mut fields = post(counts(json!(50), 60, 70, 80)).await.error_fields();
    fields.sort();
    assert_eq!(fields, ["completed", "employed_after", "enrolled"]);
    assert_eq!(
        post(counts(json!(100), 90, 80, 81)).await.error_fields(),
        ["employed_after"]
    );
    assert_eq!(
        post(counts(json!(100), 90, 91, 0)).await.error_fields(),
        ["completed"]
    );
    assert_eq!(
        post(counts(json!(100), 101, 0, 0)).await.error_fields(),
        ["enrolled"]
    );
    let mut fields = post(counts(json!(-1), -1, 0, 0)).await.error_fields();
    fields.sort();
    assert_eq!(fields, ["capacity", "enrolled"]);
    assert!(list(&app, Some(&app.admin), &[]).await.is_empty());

    // Equal counts are fine, and without a capacity enrolled is unbounded.
    let t = create(&app, &app.admin, counts(json!(100), 100, 100, 100)).await;
    assert_eq!(t["employed_after"], 100);
    let t = create(&app, &app.admin, counts(Value::Null, 560, 520, 300)).await;
    assert_eq!(t["enrolled"], 560);
    assert_eq!(t["capacity"], Value::Null);

    // A patch is checked against the merged counts.
    let path = format!("/api/v1/trainings/{}", id_of(&t));
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"employed_after": 521}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["employed_after"]);
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"capacity": 500}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["enrolled"]);
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"enrolled": 519}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["completed"]);
    let now = app.get(&path).send().await.json();
    assert_eq!(
        (&now["enrolled"], &now["completed"], &now["employed_after"]),
        (&json!(560), &json!(520), &json!(300))
    );
}

#[actix_web::test]
async fn validation_names_every_bad_field() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let other = app.campaign("gaozhou-2015").await;
    let renshe = app.unit("高州市人力资源和社会保障局").await;
    let foreign_event = event(&app, other["id"].as_str().unwrap(), renshe, "2015年开幕式").await;
    let bad = with(
        computer_course(cid, renshe),
        json!({
            "title": "",
            "event_id": foreign_event,
            "starts_at": "2014-10-24T17:30:00+08:00",
            "ends_at": "2014-10-20T08:30:00+08:00",
            "fee_cents": -100,
            "target_groups": ["returnee", "veteran", "returnee"],
            "venue": {"name": " "}
        }),
    );
    let res = app
        .post("/api/v1/trainings")
        .bearer(&app.admin)
        .json(bad)
        .send()
        .await;
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "ends_at",
            "event_id",
            "fee_cents",
            "target_groups[2]",
            "title",
            "venue.name"
        ]
    );
    let res = app
        .post("/api/v1/trainings")
        .bearer(&app.admin)
        .json(with(
            computer_course(cid, Uuid::now_v7()),
            json!({"event_id": Uuid::now_v7()}),
        ))
        .send()
        .await;
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, ["event_id", "provider_unit_id"]);
    let res = app
        .post("/api/v1/trainings")
        .bearer(&app.admin)
        .json(with(
            computer_course(cid, renshe),
            json!({"target_groups": ["farmer"]}),
        ))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["target_groups[0]"]);
    let res = app
        .post("/api/v1/trainings")
        .bearer(&app.admin)
        .json(with(
            computer_course(cid, renshe),
            json!({"teacher": "李老师"}),
        ))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["teacher"]);
    let res = app
        .post("/api/v1/trainings")
        .bearer(&app.admin)
        .json(computer_course(&Uuid::now_v7().to_string(), renshe))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["campaign_id"]);
    assert!(list(&app, Some(&app.admin), &[]).await.is_empty());
}

#[actix_web::test]
async fn patch_merges_honours_if_match_and_cannot_change_the_campaign() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let other = app.campaign("gaozhou-2015").await;
    let renshe = app.unit("高州市人力资源和社会保障局").await;
    let eid = event(&app, cid, renshe, "免费教育培训活动").await;
    let created = create(
        &app,
        &app.admin,
        with(computer_course(cid, renshe), json!({"event_id": eid})),
    )
    .await;
    let path = format!("/api/v1/trainings/{}", id_of(&created));
    let etag = app.get(&path).send().await.header("etag").unwrap();

    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .header("If-Match", &etag)
        .body(
            "application/merge-patch+json",
            r#"{"event_id": null, "venue": null, "status": "completed", "fee_cents": 0}"#,
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let updated = res.json();
    let new_etag = res.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    assert_eq!(updated["event_id"], Value::Null);
    assert_eq!(updated["venue"], Value::Null);
    assert_eq!(updated["status"], "completed");
    assert_eq!(updated["title"], created["title"]);
    assert_eq!(updated["enrolled"], 92);
    assert_eq!(app.get(&path).send().await.json(), updated);

    app.patch(&path)
        .bearer(&app.admin)
        .header("If-Match", &etag)
        .json(json!({"title": "电脑培训"}))
        .send()
        .await
        .problem(412);
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
        .json(json!({"ends_at": "2014-10-01T00:00:00+08:00"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["ends_at"]);
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"subject": "cooking"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["subject"]);
    let after = app.get(&path).send().await;
    assert_eq!(after.json(), updated);
    assert_eq!(after.header("etag").unwrap(), new_etag);

    // With the matching tag the change lands.
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .header("If-Match", &new_etag)
        .json(json!({"event_id": eid}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["event_id"], eid);
}

#[actix_web::test]
async fn reporters_may_patch_only_outcome_counts_of_their_unit() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let renshe = app.unit("高州市人力资源和社会保障局").await;
    let fulian = app.unit("高州市妇女联合会").await;
    let t = create(
        &app,
        &app.admin,
        with(
            computer_course(cid, renshe),
            json!({"enrolled": 0, "completed": 0, "employed_after": 0}),
        ),
    )
    .await;
    let path = format!("/api/v1/trainings/{}", id_of(&t));
    let reporter = app.token(Role::Reporter, Some(renshe)).await;

    let res = app
        .patch(&path)
        .bearer(&reporter)
        .json(json!({"enrolled": 92, "completed": 86, "employed_after": 52}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["employed_after"], 52);
    // The counts are still checked for a reporter.
    let res = app
        .patch(&path)
        .bearer(&reporter)
        .json(json!({"completed": 93}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["completed"]);

    // Any other field, even alongside the counts, is not the reporter's to change.
    for patch in [
        json!({"title": "电脑培训"}),
        json!({"enrolled": 95, "capacity": 120}),
        json!({"status": "completed"}),
        json!({"provider_unit_id": fulian}),
    ] {
        app.patch(&path)
            .bearer(&reporter)
            .json(patch.clone())
            .send()
            .await
            .problem(403);
    }
    // Nor may a reporter create or delete trainings, or touch another unit's counts.
    app.post("/api/v1/trainings")
        .bearer(&reporter)
        .json(computer_course(cid, renshe))
        .send()
        .await
        .problem(403);
    app.delete(&path)
        .bearer(&reporter)
        .send()
        .await
        .problem(403);
    let other_reporter = app.token(Role::Reporter, Some(fulian)).await;
    app.patch(&path)
        .bearer(&other_reporter)
        .json(json!({"enrolled": 99}))
        .send()
        .await
        .problem(403);
    let viewer = app.token(Role::Viewer, Some(renshe)).await;
    app.patch(&path)
        .bearer(&viewer)
        .json(json!({"enrolled": 99}))
        .send()
        .await
        .problem(403);

    let now = app.get(&path).send().await.json();
    assert_eq!(now["title"], "免费电脑操作与办公应用培训班");
    assert_eq!(now["capacity"], 100);
    assert_eq!(now["status"], "published");
    assert_eq!(now["provider_unit_id"], renshe.to_string());
    assert_eq!(
        (&now["enrolled"], &now["completed"], &now["employed_after"]),
        (&json!(92), &json!(86), &json!(52))
    );
}

#[actix_web::test]
async fn editors_write_only_their_own_units_trainings() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let renshe = app.unit("高州市人力资源和社会保障局").await;
    let fulian = app.unit("高州市妇女联合会").await;
    let editor = app.token(Role::Editor, Some(renshe)).await;
    let other_editor = app.token(Role::Editor, Some(fulian)).await;

    let t = create(&app, &editor, computer_course(cid, renshe)).await;
    app.post("/api/v1/trainings")
        .bearer(&other_editor)
        .json(computer_course(cid, renshe))
        .send()
        .await
        .problem(403);
    app.post("/api/v1/trainings")
        .bearer(&app.token(Role::Viewer, Some(renshe)).await)
        .json(computer_course(cid, renshe))
        .send()
        .await
        .problem(403);

    let path = format!("/api/v1/trainings/{}", id_of(&t));
    app.patch(&path)
        .bearer(&other_editor)
        .json(json!({"title": "家政培训"}))
        .send()
        .await
        .problem(403);
    app.patch(&path)
        .bearer(&other_editor)
        .json(json!({"enrolled": 1}))
        .send()
        .await
        .problem(403);
    app.delete(&path)
        .bearer(&other_editor)
        .send()
        .await
        .problem(403);
    app.patch(&path)
        .bearer(&editor)
        .json(json!({"provider_unit_id": fulian}))
        .send()
        .await
        .problem(403);
    let now = app.get(&path).send().await.json();
    assert_eq!(now, t, "nothing changed");

    let res = app
        .patch(&path)
        .bearer(&editor)
        .json(json!({"title": "电脑操作培训班", "enrolled": 95}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["title"], "电脑操作培训班");
    let res = app.delete(&path).bearer(&editor).send().await;
    assert_eq!(res.status, 204);
    app.get(&path).bearer(&editor).send().await.problem(404);
}

#[actix_web::test]
async fn delete_removes_the_training_and_its_tallies() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let renshe = app.unit("高州市人力资源和社会保障局").await;
    let rencai = app.unit("高州市人才交流中心").await;
    let editor = app.token(Role::Editor, Some(renshe)).await;
    let gone = create(&app, &editor, computer_course(cid, renshe)).await;
    let kept = create(
        &app,
        &editor,
        training(
            cid,
            renshe,
            "英语口语培训班",
            "english",
            "2014-10-21T19:00:00+08:00",
        ),
    )
    .await;
    let put_tally = |training: String, unit: Uuid, count: i64| {
        let app = &app;
        async move {
            let res = app
                .put("/api/v1/tallies")
                .bearer(&app.admin)
                .json(json!({
                    "training_id": training, "category": "unemployed", "measure": "headcount",
                    "count": count, "tally_date": "2014-10-24", "reporting_unit_id": unit
                }))
                .send()
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
            res.json()["id"].as_str().unwrap().to_string()
        }
    };
    let tally = put_tally(id_of(&gone).to_string(), renshe, 86).await;
    let kept_tally = put_tally(id_of(&kept).to_string(), renshe, 30).await;
    let path = format!("/api/v1/trainings/{}", id_of(&gone));

    // Another unit's tally on it keeps the provider's editor from deleting it.
    let theirs = put_tally(id_of(&gone).to_string(), rencai, 52).await;
    app.delete(&path).bearer(&editor).send().await.problem(403);
    assert_eq!(app.get(&path).send().await.status, 200);

    app.delete(&path)
        .bearer(&app.admin)
        .header("If-Match", "\"stale\"")
        .send()
        .await
        .problem(412);
    let res = app.delete(&path).bearer(&app.admin).send().await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.get(&path).bearer(&app.admin).send().await.problem(404);
    app.delete(&path)
        .bearer(&app.admin)
        .send()
        .await
        .problem(404);
    assert_eq!(list(&app, None, &[]).await, ["英语口语培训班"]);
    assert_eq!(list(&app, Some(&app.admin), &[]).await, ["英语口语培训班"]);
    for id in [&tally, &theirs] {
        app.get(&format!("/api/v1/tallies/{id}"))
            .bearer(&app.admin)
            .send()
            .await
            .problem(404);
    }
    let tallies = app
        .get("/api/v1/tallies")
        .bearer(&app.admin)
        .send()
        .await
        .json();
    let ids: Vec<&str> = tallies["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [kept_tally.as_str()]);
}
