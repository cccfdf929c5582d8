//! Creating, validating and merge-patching media reports, and which units may.

use serde_json::{Value, json};

use super::*;
use crate::common::{Method, Role, assert_fields, gaozhou_week};

#[actix_web::test]
async fn create_round_trips_and_an_outlet_that_is_no_unit_belongs_to_the_caller() {
    let (app, cid, [tv, jiaoyu]) = gaozhou_week(["高州市电视台", "高州市教育局"]).await;
    let eid = event(&app, &cid, jiaoyu, "高州市2014年全民终身学习活动周开幕式").await;

    let m = opening_report(&cid, tv).event(&eid).insert(&app).await;
    let url = "https://www.gaozhou.gov.cn/news/2014/10/19/lifelong-learning-week";
    let expected = json!({
        "title": "我市全民终身学习活动周隆重开幕", "medium": "tv", "campaign_id": cid,
        "event_id": eid, "outlet_unit_id": tv, "outlet_name": null, "url": url,
        "published_at": "2014-10-19T12:00:00Z"
    });
    assert_fields(&m, expected);
    let owner = &m["reporting_unit_id"];
    assert_eq!(owner, &tv.to_string(), "an outlet unit owns its report");
    let path = format!("/api/v1/media-reports/{}", id_of(&m));
    let fetched = app.get(&path).admin().send().await;
    assert_eq!(fetched.ok(200), m);
    assert!(fetched.text().contains("我市全民终身学习活动周隆重开幕"));

    // Media reports are for token holders.
    app.get(&path).send().await.problem(401);
    app.get("/api/v1/media-reports").send().await.problem(401);

    // An outlet that is not a unit: the report belongs to the caller's unit.
    let editor = app.token(Role::Editor, Some(jiaoyu)).await;
    let paper = paper_report(
        &cid,
        "高州举办社区教育成果展示",
        "2014-10-21T06:00:00+08:00",
    );
    let m = paper.create(&app, &editor).await;
    assert_eq!(m["outlet_name"], "茂名日报");
    assert_eq!(m["outlet_unit_id"], Value::Null);
    assert_eq!(m["reporting_unit_id"], jiaoyu.to_string());
    assert_eq!(m["url"], Value::Null);
    assert_eq!(m["event_id"], Value::Null);
}

#[actix_web::test]
async fn validation_names_every_bad_field() {
    let (app, cid, [tv, jiaoyu]) = gaozhou_week(["高州市电视台", "高州市教育局"]).await;
    let other = app.campaign("gaozhou-2015").await;
    let foreign_event = event(&app, id_of(&other), jiaoyu, "2015年开幕式").await;
    let report = || opening_report(&cid, tv);
    let bad = report()
        .title(" ")
        .url("ftp://www.gaozhou.gov.cn/news.txt")
        .event(foreign_event);
    let unknown = opening_report(&cid, uuid::Uuid::now_v7()).event(uuid::Uuid::now_v7());
    let mut cases = vec![
        // Neither outlet_unit_id nor outlet_name.
        (report().without("outlet_unit_id").json(), "outlet_name"),
        (bad.json(), "event_id title url"),
        (unknown.json(), "event_id outlet_unit_id"),
        (report().medium("carrier_pigeon").json(), "medium"),
        (report().set("reporter", "记者").json(), "reporter"),
        (
            opening_report(&uuid::Uuid::now_v7().to_string(), tv).json(),
            "campaign_id",
        ),
    ];
    for url in ["javascript:alert(1)", "www.gaozhou.gov.cn", "/news/1"] {
        cases.push((report().url(url).json(), "url"));
    }
    app.expect_invalid(Method::POST, "/api/v1/media-reports", &app.admin, cases)
        .await;
    assert!(list(&app, &[]).await.is_empty());

    // http is accepted as well as https.
    let m = report()
        .url("http://www.gdmm.gov.cn/news/1")
        .insert(&app)
        .await;
    assert_eq!(m["url"], "http://www.gdmm.gov.cn/news/1");
}

#[actix_web::test]
async fn patch_merges_honours_if_match_and_keeps_rules() {
    let (app, cid, [tv, jiaoyu]) = gaozhou_week(["高州市电视台", "高州市教育局"]).await;
    let other = app.campaign("gaozhou-2015").await;
    let editor = app.token(Role::Editor, Some(jiaoyu)).await;
    let paper = paper_report(
        &cid,
        "高州举办社区教育成果展示",
        "2014-10-21T06:00:00+08:00",
    );
    let created = paper.create(&app, &editor).await;
    let path = format!("/api/v1/media-reports/{}", id_of(&created));
    let etag = app
        .get(&path)
        .bearer(&editor)
        .send()
        .await
        .header("etag")
        .unwrap();

    let merge = json!({"url": "https://www.gdmm.gov.cn/news/2014/1021", "medium": "online"});
    let (updated, new_etag) = app.patch_if_match(&path, &editor, &etag, merge).await;
    assert_eq!(updated["url"], "https://www.gdmm.gov.cn/news/2014/1021");
    assert_eq!(updated["medium"], "online");
    assert_eq!(updated["title"], created["title"]);
    assert_eq!(updated["reporting_unit_id"], jiaoyu.to_string());

    let retitle = json!({"title": "改过的标题"});
    app.patch_stale(&path, &editor, &etag, retitle).await;
    let cases = vec![
        (json!({"campaign_id": other["id"]}), "campaign_id"),
        (json!({"outlet_name": null}), "outlet_name"),
        (json!({"url": "mailto:news@example.org"}), "url"),
    ];
    app.expect_invalid(Method::PATCH, &path, &editor, cases)
        .await;
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
    assert_eq!(res.ok(200)["url"], Value::Null);

    // The TV station's report: the admin may switch it to a named outlet, keeping the owner.
    let tv_report = opening_report(&cid, tv).insert(&app).await;
    let path = format!("/api/v1/media-reports/{}", id_of(&tv_report));
    let renamed = json!({"outlet_unit_id": null, "outlet_name": "高州电视台"});
    let m = app
        .call(Method::PATCH, &path, &app.admin, renamed)
        .await
        .ok(200);
    assert_eq!(m["outlet_unit_id"], Value::Null);
    assert_eq!(m["outlet_name"], "高州电视台");
    assert_eq!(m["reporting_unit_id"], tv.to_string());
}

#[actix_web::test]
async fn units_write_only_their_own_reports() {
    let (app, cid, [tv, jiaoyu]) = gaozhou_week(["高州市电视台", "高州市教育局"]).await;
    let tv_editor = app.token(Role::Editor, Some(tv)).await;
    let tv_reporter = app.token(Role::Reporter, Some(tv)).await;
    let jiaoyu_editor = app.token(Role::Editor, Some(jiaoyu)).await;
    let viewer = app.token(Role::Viewer, Some(tv)).await;

    let m = opening_report(&cid, tv).create(&app, &tv_editor).await;
    // A reporter (a department's script) may log its unit's coverage too.
    let by_script = opening_report(&cid, tv)
        .title("社区教育成果展示见闻")
        .medium("online")
        .create(&app, &tv_reporter)
        .await;
    assert_eq!(by_script["reporting_unit_id"], tv.to_string());

    // Another unit cannot log coverage for the TV station, nor name another reporting unit.
    let reports = "/api/v1/media-reports";
    let for_tv = paper_report(&cid, "报道", "2014-10-21T06:00:00+08:00").reporting_unit(tv);
    let refused = vec![
        (Method::POST, reports, opening_report(&cid, tv).json()),
        (Method::POST, reports, for_tv.json()),
    ];
    app.expect(403, &jiaoyu_editor, refused).await;
    let tv_report = || (Method::POST, reports, opening_report(&cid, tv).json());
    app.expect(403, &viewer, vec![tv_report()]).await;
    let anonymous = app.post(reports).json(opening_report(&cid, tv).json());
    anonymous.send().await.problem(401);

    let path = format!("/api/v1/media-reports/{}", id_of(&m));
    let theirs = vec![
        (
            Method::PATCH,
            path.as_str(),
            json!({"title": "教育局改的标题"}),
        ),
        (Method::DELETE, path.as_str(), Value::Null),
    ];
    app.expect(403, &jiaoyu_editor, theirs).await;
    // The owner cannot hand the report to another outlet unit.
    let hand_over = (
        Method::PATCH,
        path.as_str(),
        json!({"outlet_unit_id": jiaoyu}),
    );
    app.expect(403, &tv_editor, vec![hand_over]).await;
    assert_eq!(app.read(&path, Some(&jiaoyu_editor)).await, m);

    let url = json!({"url": "https://tv.gaozhou.example/2014/1019"});
    app.expect(200, &tv_reporter, vec![(Method::PATCH, &path, url)])
        .await;
    fn delete(path: &str) -> Vec<(Method, &str, Value)> {
        vec![(Method::DELETE, path, Value::Null)]
    }
    let res = app.delete(&path).bearer(&tv_editor).send().await;
    assert_eq!(res.status, 204);
    assert!(res.body.is_empty());
    app.get(&path).bearer(&tv_editor).send().await.problem(404);
    app.expect(404, &tv_editor, delete(&path)).await;
    assert_eq!(list(&app, &[]).await, ["社区教育成果展示见闻"]);

    // Stale If-Match on delete: 412 and the report stays.
    let other_path = format!("/api/v1/media-reports/{}", id_of(&by_script));
    let stale = app
        .delete(&other_path)
        .bearer(&tv_reporter)
        .header("If-Match", "\"stale\"");
    stale.send().await.problem(412);
    app.expect(204, &tv_reporter, delete(&other_path)).await;
    assert!(list(&app, &[]).await.is_empty());
}
