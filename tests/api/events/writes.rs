//! Creating, validating, merge-patching and deleting events.

use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::common::{
    MediaReportBuilder, Method, TrainingBuilder, assert_fields, gaozhou_week, id_of, items,
};

#[actix_web::test]
async fn create_round_trips_chinese_text_and_fills_in_defaults() {
    let (app, cid, [fulian, wenhua]) = gaozhou_week(["高州市妇女联合会", "高州市文化局"]).await;
    let e = EventBuilder::low_carbon(&cid, fulian)
        .co_organizers([wenhua])
        .insert(&app)
        .await;
    let venue = json!({"name": "康泰华都小区", "address": "高州市潘州街道康泰华都小区广场"});
    let expected = json!({
        "title": "低碳生活进家庭",
        "summary": "倡导家庭低碳生活，现场发放购物竹篮，减少塑料袋使用。",
        "venue": venue, "area": "潘州街道", "audience": "社区居民、家庭妇女",
        "tags": ["低碳生活", "社区教育"], "host_unit_id": fulian, "co_organizer_unit_ids": [wenhua],
        "campaign_id": cid, "starts_at": "2014-10-19T01:00:00Z", "ends_at": "2014-10-19T03:30:00Z",
        "expected_participants": 300
    });
    assert_fields(&e, expected);

    // Anyone may read a published public event; the representation is the same.
    let path = format!("/api/v1/events/{}", id_of(&e));
    let fetched = app.get(&path).send().await;
    assert_eq!(fetched.ok(200), e);
    assert!(fetched.text().contains("康泰华都小区"), "not escaped");

    // Defaults: a new event is a public draft with no co-organizers or tags.
    let minimal = EventBuilder::new(&cid, wenhua)
        .title("消防安全、牢记心间")
        .at("2014-10-21T15:00:00+08:00", "2014-10-21T17:00:00+08:00")
        .without("status");
    let e = minimal.insert(&app).await;
    assert_eq!(e["status"], "draft");
    assert_eq!(e["visibility"], "public");
    assert_eq!(e["co_organizer_unit_ids"], json!([]));
    assert_eq!(e["tags"], json!([]));
    assert_eq!(e["venue"], Value::Null);
}

#[actix_web::test]
async fn validation_names_every_bad_field_and_stores_nothing() {
    let (app, cid, [fulian, wenhua]) = gaozhou_week(["高州市妇女联合会", "高州市文化局"]).await;
    let nowhere = Uuid::now_v7();
    let valid = || EventBuilder::low_carbon(&cid, fulian);
    let bad = valid()
        .title("  ")
        .at("2014-10-19T11:00:00+08:00", "2014-10-19T09:00:00+08:00")
        .area("北京市")
        .co_organizers([fulian, wenhua, wenhua, nowhere])
        .expected_participants(-1);
    let every = "area co_organizer_unit_ids[0] co_organizer_unit_ids[2] co_organizer_unit_ids[3] \
                 ends_at expected_participants title";
    let cases = vec![
        (bad.json(), every),
        // An unknown host unit, an unknown campaign.
        (
            EventBuilder::low_carbon(&cid, nowhere).json(),
            "host_unit_id",
        ),
        (
            EventBuilder::low_carbon(Uuid::now_v7(), fulian).json(),
            "campaign_id",
        ),
        // Enum values, unknown fields, missing fields.
        (valid().kind("picnic").json(), "kind"),
        (valid().set("organizer", "市妇联").json(), "organizer"),
        (valid().without("starts_at").json(), "starts_at"),
    ];
    app.expect_invalid(Method::POST, "/api/v1/events", &app.admin, cases)
        .await;

    // An event that ends when it starts is fine; an area is optional.
    let ok = valid()
        .ends_at("2014-10-19T09:00:00+08:00")
        .area(Value::Null);
    ok.insert(&app).await;
    let stored = list(&app, Some(&app.admin), &[]).await;
    assert_eq!(
        stored,
        ["低碳生活进家庭"],
        "only the valid event was stored"
    );
}

#[actix_web::test]
async fn patch_merges_honours_if_match_and_cannot_change_the_campaign() {
    let (app, cid, [fulian]) = gaozhou_week(["高州市妇女联合会"]).await;
    let other = app.campaign("gaozhou-2015").await;
    let created = EventBuilder::low_carbon(&cid, fulian).insert(&app).await;
    let path = format!("/api/v1/events/{}", id_of(&created));
    let etag = app.get(&path).send().await.header("etag").unwrap();

    let merge = json!({"status": "completed", "summary": null, "venue": {"address": null},
                       "tags": ["低碳"]});
    let (updated, new_etag) = app.patch_if_match(&path, &app.admin, &etag, merge).await;
    assert_eq!(updated["status"], "completed");
    assert_eq!(updated["summary"], Value::Null);
    let venue = json!({"name": "康泰华都小区", "address": null});
    assert_eq!(updated["venue"], venue);
    assert_eq!(updated["tags"], json!(["低碳"]));
    assert_eq!(updated["title"], "低碳生活进家庭");
    assert_eq!(updated["description"], created["description"]);
    let sequence = |e: &Value| e["sequence"].as_i64().unwrap();
    assert_eq!(sequence(&updated), sequence(&created) + 1);
    assert_ne!(updated["updated_at"], created["updated_at"]);
    assert_eq!(app.get(&path).send().await.json(), updated);

    // Invalid results of a merge are 422 and change nothing.
    let cases = vec![
        (json!({"campaign_id": other["id"]}), "campaign_id"),
        (json!({"ends_at": "2014-10-18T09:00:00+08:00"}), "ends_at"),
        (json!({"area": "茂南区"}), "area"),
        (
            json!({"co_organizer_unit_ids": [fulian]}),
            "co_organizer_unit_ids[0]",
        ),
        (json!({"title": null}), "title"),
        (json!({"id": Uuid::now_v7()}), "id"),
    ];
    app.expect_invalid(Method::PATCH, &path, &app.admin, cases)
        .await;
    let after = app.get(&path).send().await;
    assert_eq!(after.json(), updated);
    assert_eq!(after.header("etag").unwrap(), new_etag);
}

#[actix_web::test]
async fn delete_removes_tallies_detaches_trainings_and_media_reports() {
    let units = [
        "高州市妇女联合会",
        "高州市人力资源和社会保障局",
        "高州市电视台",
    ];
    let (app, cid, [fulian, renshe, tv]) = gaozhou_week(units).await;
    let e = EventBuilder::low_carbon(&cid, fulian).insert(&app).await;
    let eid = id_of(&e).to_string();
    let keep = (
        "家庭教育讲座",
        "2014-10-20T09:00:00+08:00",
        "2014-10-20T10:00:00+08:00",
    );
    let keep = event(&cid, fulian, keep.0, keep.1, keep.2)
        .insert(&app)
        .await;

    let gone_tally = tally(&app, &eid, fulian, 320).await;
    let kept_tally = tally(&app, id_of(&keep), fulian, 80).await;
    let training = TrainingBuilder::new(&cid, renshe)
        .event(&eid)
        .title("家政服务培训班")
        .subject("housekeeping")
        .starts_at("2014-10-19T14:00:00+08:00")
        .ends_at("2014-10-19T17:00:00+08:00")
        .insert(&app)
        .await;
    let report = MediaReportBuilder::tv(&cid, tv)
        .without("url")
        .event(&eid)
        .title("市妇联开展低碳生活进家庭活动")
        .insert(&app)
        .await;

    let path = format!("/api/v1/events/{eid}");
    app.expect(204, &app.admin, vec![(Method::DELETE, &path, Value::Null)])
        .await;
    assert_eq!(list(&app, Some(&app.admin), &[]).await, ["家庭教育讲座"]);
    assert_eq!(list(&app, None, &[]).await, ["家庭教育讲座"]);

    // Its tally is gone, by id and from the list; the other event's tally stays.
    let gone_tally = format!("/api/v1/tallies/{}", id_of(&gone_tally));
    app.get(&gone_tally).admin().send().await.problem(404);
    let tallies = app.admin_read("/api/v1/tallies").await;
    let tally_ids: Vec<&Value> = items(&tallies).iter().map(|t| &t["id"]).collect();
    assert_eq!(tally_ids, [&kept_tally["id"]]);
    // The training and the media report stay, detached.
    let t = app
        .admin_read(&format!("/api/v1/trainings/{}", id_of(&training)))
        .await;
    assert_eq!(t["event_id"], Value::Null);
    assert_eq!(t["title"], "家政服务培训班");
    let m = app
        .admin_read(&format!("/api/v1/media-reports/{}", id_of(&report)))
        .await;
    assert_eq!(m["event_id"], Value::Null);
    for dependents in ["tallies", "trainings", "media-reports"] {
        let page = app
            .admin_read(&format!("/api/v1/{dependents}?event_id={eid}"))
            .await;
        assert_eq!(page["items"], json!([]), "{dependents}");
    }
}
