//! `/api/v1/media-reports`: coverage of the week by the TV station, radio, papers and sites.

use learnweek::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{TestApp, id_of, qs, titles, with};

/// The TV station's report on the opening ceremony.
fn opening_report(campaign: &str, tv: Uuid) -> Value {
    json!({
        "campaign_id": campaign,
        "outlet_unit_id": tv,
        "medium": "tv",
        "title": "我市全民终身学习活动周隆重开幕",
        "url": "https://www.gaozhou.gov.cn/news/2014/10/19/lifelong-learning-week",
        "published_at": "2014-10-19T20:00:00+08:00"
    })
}

/// A report by an outlet that is not a unit.
fn paper_report(campaign: &str, title: &str, published_at: &str) -> Value {
    json!({
        "campaign_id": campaign,
        "outlet_name": "茂名日报",
        "medium": "newspaper",
        "title": title,
        "published_at": published_at
    })
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    app.create("/api/v1/media-reports", token, body).await
}

async fn list(app: &TestApp, pairs: &[(&str, &str)]) -> Vec<String> {
    app.list_titles("/api/v1/media-reports", Some(&app.admin), pairs)
        .await
}

async fn event(app: &TestApp, campaign: &str, host: Uuid, title: &str) -> String {
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(json!({
            "campaign_id": campaign, "title": title, "kind": "opening_ceremony",
            "starts_at": "2014-10-19T08:30:00+08:00", "ends_at": "2014-10-19T11:00:00+08:00",
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
    let tv = app.unit("高州市电视台").await;
    let jiaoyu = app.unit("高州市教育局").await;
    let eid = event(&app, cid, jiaoyu, "高州市2014年全民终身学习活动周开幕式").await;

    let res = app
        .post("/api/v1/media-reports")
        .bearer(&app.admin)
        .json(with(opening_report(cid, tv), json!({"event_id": eid})))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let m = res.json();
    let location = res.header("location").unwrap();
    assert_eq!(location, format!("/api/v1/media-reports/{}", id_of(&m)));
    let etag = res.header("etag").unwrap();
    assert_eq!(m["title"], "我市全民终身学习活动周隆重开幕");
    assert_eq!(m["medium"], "tv");
    assert_eq!(m["campaign_id"], c["id"]);
    assert_eq!(m["event_id"], eid);
    assert_eq!(m["outlet_unit_id"], tv.to_string());
    assert_eq!(m["outlet_name"], Value::Null);
    assert_eq!(
        m["reporting_unit_id"],
        tv.to_string(),
        "an outlet unit owns its report"
    );
    assert_eq!(
        m["url"],
        "https://www.gaozhou.gov.cn/news/2014/10/19/lifelong-learning-week"
    );
    assert_eq!(m["published_at"], "2014-10-19T12:00:00Z");

    let fetched = app.get(&location).bearer(&app.admin).send().await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), m);
    assert_eq!(fetched.header("etag").unwrap(), etag);
    assert!(fetched.text().contains("我市全民终身学习活动周隆重开幕"));
    let res = app
        .get(&location)
        .bearer(&app.admin)
        .header("If-None-Match", &etag)
        .send()
        .await;
    assert_eq!(res.status, 304);

    // Media reports are for token holders.
    app.get(&location).send().await.problem(401);
    app.get("/api/v1/media-reports").send().await.problem(401);
    app.get(&format!("/api/v1/media-reports/{}", Uuid::now_v7()))
        .bearer(&app.admin)
        .send()
        .await
        .problem(404);

    // An outlet that is not a unit: the report belongs to the caller's unit.
    let editor = app.token(Role::Editor, Some(jiaoyu)).await;
    let m = create(
        &app,
        &editor,
        paper_report(cid, "高州举办社区教育成果展示", "2014-10-21T06:00:00+08:00"),
    )
    .await;
    assert_eq!(m["outlet_name"], "茂名日报");
    assert_eq!(m["outlet_unit_id"], Value::Null);
    assert_eq!(m["reporting_unit_id"], jiaoyu.to_string());
    assert_eq!(m["url"], Value::Null);
    assert_eq!(m["event_id"], Value::Null);
}

#[actix_web::test]
async fn validation_names_every_bad_field() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let other = app.campaign("gaozhou-2015").await;
    let tv = app.unit("高州市电视台").await;
    let jiaoyu = app.unit("高州市教育局").await;
    let foreign_event = event(&app, other["id"].as_str().unwrap(), jiaoyu, "2015年开幕式").await;

    // Neither outlet_unit_id nor outlet_name.
    let mut no_outlet = opening_report(cid, tv);
    no_outlet.as_object_mut().unwrap().remove("outlet_unit_id");
    let res = app
        .post("/api/v1/media-reports")
        .bearer(&app.admin)
        .json(no_outlet)
        .send()
        .await;
    assert_eq!(res.error_fields(), ["outlet_name"]);

    let bad = with(
        opening_report(cid, tv),
        json!({
            "title": " ",
            "url": "ftp://www.gaozhou.gov.cn/news.txt",
            "event_id": foreign_event
        }),
    );
    let res = app
        .post("/api/v1/media-reports")
        .bearer(&app.admin)
        .json(bad)
        .send()
        .await;
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, ["event_id", "title", "url"]);

    for url in ["javascript:alert(1)", "www.gaozhou.gov.cn", "/news/1"] {
        let res = app
            .post("/api/v1/media-reports")
            .bearer(&app.admin)
            .json(with(opening_report(cid, tv), json!({"url": url})))
            .send()
            .await;
        assert_eq!(res.error_fields(), ["url"], "{url}");
    }
    let res = app
        .post("/api/v1/media-reports")
        .bearer(&app.admin)
        .json(with(
            opening_report(cid, Uuid::now_v7()),
            json!({"event_id": Uuid::now_v7()}),
        ))
        .send()
        .await;
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, ["event_id", "outlet_unit_id"]);
    let res = app
        .post("/api/v1/media-reports")
        .bearer(&app.admin)
        .json(with(
            opening_report(cid, tv),
            json!({"medium": "carrier_pigeon"}),
        ))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["medium"]);
    let res = app
        .post("/api/v1/media-reports")
        .bearer(&app.admin)
        .json(with(opening_report(cid, tv), json!({"reporter": "记者"})))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["reporter"]);
    let res = app
        .post("/api/v1/media-reports")
        .bearer(&app.admin)
        .json(opening_report(&Uuid::now_v7().to_string(), tv))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["campaign_id"]);
    assert!(list(&app, &[]).await.is_empty());

    // http is accepted as well as https.
    let m = create(
        &app,
        &app.admin,
        with(
            opening_report(cid, tv),
            json!({"url": "http://www.gdmm.gov.cn/news/1"}),
        ),
    )
    .await;
    assert_eq!(m["url"], "http://www.gdmm.gov.cn/news/1");
}

#[actix_web::test]
async fn list_filters_by_campaign_event_medium_unit_time_window_and_title() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let other = app.campaign("gaozhou-2015").await;
    let oid = other["id"].as_str().unwrap();
    let tv = app.unit("高州市电视台").await;
    let jiaoyu = app.unit("高州市教育局").await;
    let fulian = app.unit("高州市妇女联合会").await;
    let eid = event(&app, cid, jiaoyu, "开幕式").await;

    create(
        &app,
        &app.admin,
        with(opening_report(cid, tv), json!({"event_id": eid})),
    )
    .await;
    create(
        &app,
        &app.admin,
        with(
            paper_report(cid, "市妇联低碳生活进家庭", "2014-10-20T07:00:00+08:00"),
            json!({"reporting_unit_id": fulian}),
        ),
    )
    .await;
    create(
        &app,
        &app.admin,
        with(
            paper_report(cid, "开幕式侧记", "2014-10-19T22:00:00+08:00"),
            json!({"reporting_unit_id": jiaoyu, "event_id": eid, "medium": "online"}),
        ),
    )
    .await;
    create(
        &app,
        &app.admin,
        with(
            opening_report(cid, tv),
            json!({"title": "消防安全、牢记心间讲座", "medium": "radio",
                   "published_at": "2014-10-22T12:00:00+08:00"}),
        ),
    )
    .await;
    create(
        &app,
        &app.admin,
        with(
            opening_report(oid, tv),
            json!({"title": "2015年活动周开幕", "published_at": "2015-10-18T20:00:00+08:00"}),
        ),
    )
    .await;

    // In order of publication.
    assert_eq!(
        list(&app, &[]).await,
        [
            "我市全民终身学习活动周隆重开幕",
            "开幕式侧记",
            "市妇联低碳生活进家庭",
            "消防安全、牢记心间讲座",
            "2015年活动周开幕"
        ]
    );
    assert_eq!(
        list(&app, &[("campaign_id", oid)]).await,
        ["2015年活动周开幕"]
    );
    assert_eq!(list(&app, &[("campaign_id", cid)]).await.len(), 4);
    assert_eq!(
        list(&app, &[("event_id", &eid)]).await,
        ["我市全民终身学习活动周隆重开幕", "开幕式侧记"]
    );
    assert_eq!(
        list(&app, &[("medium", "radio")]).await,
        ["消防安全、牢记心间讲座"]
    );
    assert_eq!(
        list(&app, &[("medium", "newspaper")]).await,
        ["市妇联低碳生活进家庭"]
    );
    // unit_id: the outlet unit or the reporting unit.
    let fulian_s = fulian.to_string();
    assert_eq!(
        list(&app, &[("unit_id", &fulian_s)]).await,
        ["市妇联低碳生活进家庭"]
    );
    let tv_s = tv.to_string();
    assert_eq!(
        list(&app, &[("unit_id", &tv_s), ("campaign_id", cid)]).await,
        ["我市全民终身学习活动周隆重开幕", "消防安全、牢记心间讲座"]
    );
    // from: published at or after; to: published before.
    assert_eq!(
        list(
            &app,
            &[
                ("from", "2014-10-19T22:00:00+08:00"),
                ("to", "2014-10-22T12:00:00+08:00")
            ]
        )
        .await,
        ["开幕式侧记", "市妇联低碳生活进家庭"]
    );
    assert_eq!(
        list(&app, &[("to", "2014-10-19T22:00:00+08:00")]).await,
        ["我市全民终身学习活动周隆重开幕"]
    );
    assert_eq!(
        list(&app, &[("q", "开幕")]).await,
        [
            "我市全民终身学习活动周隆重开幕",
            "开幕式侧记",
            "2015年活动周开幕"
        ]
    );
    assert_eq!(
        list(&app, &[("q", "低碳生活")]).await,
        ["市妇联低碳生活进家庭"]
    );

    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let side = app
        .get(&format!("/api/v1/media-reports?{}", qs(&[("q", "侧记")])))
        .bearer(&app.admin)
        .send()
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .patch(&format!("/api/v1/media-reports/{side}"))
        .bearer(&app.admin)
        .json(json!({"url": "https://www.gdmm.gov.cn/news/2014/1019"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        list(&app, &[("updated_since", &since)]).await,
        ["开幕式侧记"]
    );

    // Pages follow the same order.
    let mut seen = Vec::new();
    let mut path = "/api/v1/media-reports?limit=2".to_string();
    loop {
        let res = app.get(&path).bearer(&app.admin).send().await;
        assert_eq!(res.status, 200, "{}", res.text());
        let page = res.json();
        assert!(page["items"].as_array().unwrap().len() <= 2);
        seen.extend(titles(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/media-reports?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, list(&app, &[]).await);

    app.get("/api/v1/media-reports?medium=telegraph")
        .bearer(&app.admin)
        .send()
        .await
        .problem(400);
}

#[actix_web::test]
async fn patch_merges_honours_if_match_and_keeps_rules() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let other = app.campaign("gaozhou-2015").await;
    let tv = app.unit("高州市电视台").await;
    let jiaoyu = app.unit("高州市教育局").await;
    let editor = app.token(Role::Editor, Some(jiaoyu)).await;
    let created = create(
        &app,
        &editor,
        paper_report(cid, "高州举办社区教育成果展示", "2014-10-21T06:00:00+08:00"),
    )
    .await;
    let path = format!("/api/v1/media-reports/{}", id_of(&created));
    let etag = app
        .get(&path)
        .bearer(&editor)
        .send()
        .await
        .header("etag")
        .unwrap();

    let res = app
        .patch(&path)
        .bearer(&editor)
        .header("If-Match", &etag)
        .body(
            "application/merge-patch+json",
            r#"{"url": "https://www.gdmm.gov.cn/news/2014/1021", "medium": "online"}"#,
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let updated = res.json();
    let new_etag = res.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    assert_eq!(updated["url"], "https://www.gdmm.gov.cn/news/2014/1021");
    assert_eq!(updated["medium"], "online");
    assert_eq!(updated["title"], created["title"]);
    assert_eq!(updated["reporting_unit_id"], jiaoyu.to_string());

    app.patch(&path)
        .bearer(&editor)
        .header("If-Match", &etag)
        .json(json!({"title": "改过的标题"}))
        .send()
        .await
        .problem(412);
    let res = app
        .patch(&path)
        .bearer(&editor)
        .json(json!({"campaign_id": other["id"]}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["campaign_id"]);
    let res = app
        .patch(&path)
        .bearer(&editor)
        .json(json!({"outlet_name": null}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["outlet_name"]);
    let res = app
        .patch(&path)
        .bearer(&editor)
        .json(json!({"url": "mailto:news@example.org"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["url"]);
    let after = app.get(&path).bearer(&editor).send().await;
    assert_eq!(after.json(), updated);
    assert_eq!(after.header("etag").unwrap(), new_etag);

    // Removing the url with null.
    let res = app
        .patch(&path)
        .bearer(&editor)
        .header("If-Match", &new_etag)
        .json(json!({"url": null}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["url"], Value::Null);

    // The TV station's report: the admin may switch it to a named outlet, keeping the owner.
    let tv_report = create(&app, &app.admin, opening_report(cid, tv)).await;
    let res = app
        .patch(&format!("/api/v1/media-reports/{}", id_of(&tv_report)))
        .bearer(&app.admin)
        .json(json!({"outlet_unit_id": null, "outlet_name": "高州电视台"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let m = res.json();
    assert_eq!(m["outlet_unit_id"], Value::Null);
    assert_eq!(m["outlet_name"], "高州电视台");
    assert_eq!(m["reporting_unit_id"], tv.to_string());
}

#[actix_web::test]
async fn units_write_only_their_own_reports() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let tv = app.unit("高州市电视台").await;
    let jiaoyu = app.unit("高州市教育局").await;
    let tv_editor = app.token(Role::Editor, Some(tv)).await;
    let tv_reporter = app.token(Role::Reporter, Some(tv)).await;
    let jiaoyu_editor = app.token(Role::Editor, Some(jiaoyu)).await;

    let m = create(&app, &tv_editor, opening_report(cid, tv)).await;
    // A reporter (a department's script) may log its unit's coverage too.
    let by_script = create(
        &app,
        &tv_reporter,
        with(
            opening_report(cid, tv),
            json!({"title": "社区教育成果展示见闻", "medium": "online"}),
        ),
    )
    .await;
    assert_eq!(by_script["reporting_unit_id"], tv.to_string());

    // Another unit cannot log coverage for the TV station, nor name another reporting unit.
    app.post("/api/v1/media-reports")
        .bearer(&jiaoyu_editor)
        .json(opening_report(cid, tv))
        .send()
        .await
        .problem(403);
    app.post("/api/v1/media-reports")
        .bearer(&jiaoyu_editor)
        .json(with(
            paper_report(cid, "报道", "2014-10-21T06:00:00+08:00"),
            json!({"reporting_unit_id": tv}),
        ))
        .send()
        .await
        .problem(403);
    app.post("/api/v1/media-reports")
        .bearer(&app.token(Role::Viewer, Some(tv)).await)
        .json(opening_report(cid, tv))
        .send()
        .await
        .problem(403);
    app.post("/api/v1/media-reports")
        .json(opening_report(cid, tv))
        .send()
        .await
        .problem(401);

    let path = format!("/api/v1/media-reports/{}", id_of(&m));
    app.patch(&path)
        .bearer(&jiaoyu_editor)
        .json(json!({"title": "教育局改的标题"}))
        .send()
        .await
        .problem(403);
    app.delete(&path)
        .bearer(&jiaoyu_editor)
        .send()
        .await
        .problem(403);
    // The owner cannot hand the report to another outlet unit.
    app.patch(&path)
        .bearer(&tv_editor)
        .json(json!({"outlet_unit_id": jiaoyu}))
        .send()
        .await
        .problem(403);
    assert_eq!(app.get(&path).bearer(&jiaoyu_editor).send().await.json(), m);

    let res = app
        .patch(&path)
        .bearer(&tv_reporter)
        .json(json!({"url": "https://tv.gaozhou.example/2014/1019"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app.delete(&path).bearer(&tv_editor).send().await;
    assert_eq!(res.status, 204);
    assert!(res.body.is_empty());
    app.get(&path).bearer(&tv_editor).send().await.problem(404);
    app.delete(&path)
        .bearer(&tv_editor)
        .send()
        .await
        .problem(404);
    assert_eq!(list(&app, &[]).await, ["社区教育成果展示见闻"]);

    // Stale If-Match on delete: 412 and the report stays.
    let other_path = format!("/api/v1/media-reports/{}", id_of(&by_script));
    app.delete(&other_path)
        .bearer(&tv_reporter)
        .header("If-Match", "\"stale\"")
        .send()
        .await
        .problem(412);
    assert_eq!(
        app.delete(&other_path)
            .bearer(&tv_reporter)
            .send()
            .await
            .status,
        204
    );
    assert!(list(&app, &[]).await.is_empty());
}
