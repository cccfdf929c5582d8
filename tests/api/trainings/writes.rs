//! Creating, validating, merge-patching and deleting trainings, and who may.

use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::common::{Method, Role, TallyBuilder, assert_fields, gaozhou_week, items, pluck};

#[actix_web::test]
async fn create_round_trips_and_fills_in_defaults() {
    let (app, cid, [renshe]) = gaozhou_week(["高州市人力资源和社会保障局"]).await;
    let eid = event(&app, &cid, renshe, "免费教育培训活动").await;
    let t = computer_course(&cid, renshe).event(&eid).insert(&app).await;
    let expected = json!({
        "title": "免费电脑操作与办公应用培训班", "subject": "computer", "event_id": eid,
        "campaign_id": cid, "provider_unit_id": renshe,
        "target_groups": ["returnee", "unemployed", "veteran"],
        "venue": {"name": "高州市职业技术学校", "address": "高州市潘州街道"},
        "starts_at": "2014-10-20T00:30:00Z", "capacity": 100, "fee_cents": 0,
        "enrolled": 92, "completed": 86, "employed_after": 52
    });
    assert_fields(&t, expected);
    let fetched = app
        .get(&format!("/api/v1/trainings/{}", id_of(&t)))
        .send()
        .await;
    assert_eq!(fetched.ok(200), t);
    assert!(fetched.text().contains("免费电脑操作与办公应用培训班"));

    // Defaults: a free public draft with no counts yet.
    let minimal = training(
        &cid,
        renshe,
        "英语口语培训",
        "english",
        "2014-10-21T19:00:00+08:00",
    )
    .ends_at("2014-10-21T21:00:00+08:00")
    .without("status");
    let t = minimal.insert(&app).await;
    assert_eq!(t["status"], "draft");
    assert_eq!(t["visibility"], "public");
    assert_eq!(t["fee_cents"], 0);
    assert_eq!(outcomes(&t), (json!(0), json!(0), json!(0)));
    assert_eq!(t["event_id"], Value::Null);
    assert_eq!(t["capacity"], Value::Null);
    assert_eq!(t["target_groups"], json!([]));
}

#[actix_web::test]
async fn validation_names_every_bad_field() {
    let (app, cid, [renshe]) = gaozhou_week(["高州市人力资源和社会保障局"]).await;
    let other = app.campaign("gaozhou-2015").await;
    let foreign_event = event(&app, id_of(&other), renshe, "2015年开幕式").await;
    let course = || computer_course(&cid, renshe);
    let bad = course()
        .title("")
        .event(foreign_event)
        .starts_at("2014-10-24T17:30:00+08:00")
        .ends_at("2014-10-20T08:30:00+08:00")
        .fee_cents(-100)
        .target_groups(["returnee", "veteran", "returnee"])
        .venue(json!({"name": " "}));
    let unknown = computer_course(&cid, Uuid::now_v7()).event(Uuid::now_v7());
    let cases = vec![
        (
            bad.json(),
            "ends_at event_id fee_cents target_groups[2] title venue.name",
        ),
        (unknown.json(), "event_id provider_unit_id"),
        (
            course().target_groups(["farmer"]).json(),
            "target_groups[0]",
        ),
        (course().set("teacher", "李老师").json(), "teacher"),
        (
            computer_course(&Uuid::now_v7().to_string(), renshe).json(),
            "campaign_id",
        ),
    ];
    app.expect_invalid(Method::POST, "/api/v1/trainings", &app.admin, cases)
        .await;
    assert!(list(&app, Some(&app.admin), &[]).await.is_empty());
}

#[actix_web::test]
async fn patch_merges_honours_if_match_and_cannot_change_the_campaign() {
    let (app, cid, [renshe]) = gaozhou_week(["高州市人力资源和社会保障局"]).await;
    let other = app.campaign("gaozhou-2015").await;
    let eid = event(&app, &cid, renshe, "免费教育培训活动").await;
    let created = computer_course(&cid, renshe).event(&eid).insert(&app).await;
    let path = format!("/api/v1/trainings/{}", id_of(&created));
    let etag = app.get(&path).send().await.header("etag").unwrap();

    let merge = json!({"event_id": null, "venue": null, "status": "completed", "fee_cents": 0});
    let (updated, new_etag) = app.patch_if_match(&path, &app.admin, &etag, merge).await;
    assert_eq!(updated["event_id"], Value::Null);
    assert_eq!(updated["venue"], Value::Null);
    assert_eq!(updated["status"], "completed");
    assert_eq!(updated["title"], created["title"]);
    assert_eq!(updated["enrolled"], 92);
    assert_eq!(app.get(&path).send().await.json(), updated);

    let cases = vec![
        (json!({"campaign_id": other["id"]}), "campaign_id"),
        (json!({"ends_at": "2014-10-01T00:00:00+08:00"}), "ends_at"),
        (json!({"subject": "cooking"}), "subject"),
    ];
    app.expect_invalid(Method::PATCH, &path, &app.admin, cases)
        .await;
    let after = app.get(&path).send().await;
    assert_eq!(after.json(), updated);
    assert_eq!(after.header("etag").unwrap(), new_etag);

    // With the matching tag the change lands.
    let res = app
        .patch(&path)
        .admin()
        .header("If-Match", &new_etag)
        .json(json!({"event_id": eid}))
        .send()
        .await;
    assert_eq!(res.ok(200)["event_id"], eid);
}

#[actix_web::test]
async fn editors_write_only_their_own_units_trainings() {
    let units = ["高州市人力资源和社会保障局", "高州市妇女联合会"];
    let (app, cid, [renshe, fulian]) = gaozhou_week(units).await;
    let editor = app.token(Role::Editor, Some(renshe)).await;
    let other_editor = app.token(Role::Editor, Some(fulian)).await;
    let viewer = app.token(Role::Viewer, Some(renshe)).await;

    let t = computer_course(&cid, renshe).create(&app, &editor).await;
    let create = || {
        (
            Method::POST,
            "/api/v1/trainings",
            computer_course(&cid, renshe).json(),
        )
    };
    app.expect(403, &other_editor, vec![create()]).await;
    app.expect(403, &viewer, vec![create()]).await;

    let path = format!("/api/v1/trainings/{}", id_of(&t));
    let patch = |body: Value| (Method::PATCH, path.as_str(), body);
    let theirs = vec![
        patch(json!({"title": "家政培训"})),
        patch(json!({"enrolled": 1})),
        (Method::DELETE, path.as_str(), Value::Null),
    ];
    app.expect(403, &other_editor, theirs).await;
    let hand_over = patch(json!({"provider_unit_id": fulian}));
    app.expect(403, &editor, vec![hand_over]).await;
    assert_eq!(app.get(&path).send().await.json(), t, "nothing changed");

    let mine = json!({"title": "电脑操作培训班", "enrolled": 95});
    let res = app.call(Method::PATCH, &path, &editor, mine).await;
    assert_eq!(res.ok(200)["title"], "电脑操作培训班");
    app.expect(204, &editor, vec![(Method::DELETE, &path, Value::Null)])
        .await;
    app.get(&path).bearer(&editor).send().await.problem(404);
}

#[actix_web::test]
async fn delete_removes_the_training_and_its_tallies() {
    let units = ["高州市人力资源和社会保障局", "高州市人才交流中心"];
    let (app, cid, [renshe, rencai]) = gaozhou_week(units).await;
    let editor = app.token(Role::Editor, Some(renshe)).await;
    let gone = computer_course(&cid, renshe).create(&app, &editor).await;
    let english = training(
        &cid,
        renshe,
        "英语口语培训班",
        "english",
        "2014-10-21T19:00:00+08:00",
    );
    let kept = english.create(&app, &editor).await;
    let put_tally = |training: &Value, unit: Uuid, count: i64| {
        let tally = TallyBuilder::training(id_of(training), unit)
            .category("unemployed")
            .count(count)
            .date("2014-10-24");
        let app = &app;
        async move {
            let put = app.call(Method::PUT, "/api/v1/tallies", &app.admin, tally.json());
            put.await.ok(201)["id"].as_str().unwrap().to_string()
        }
    };
    let tally = put_tally(&gone, renshe, 86).await;
    let kept_tally = put_tally(&kept, renshe, 30).await;
    let path = format!("/api/v1/trainings/{}", id_of(&gone));

    // Another unit's tally on it keeps the provider's editor from deleting it.
    let theirs = put_tally(&gone, rencai, 52).await;
    let delete = vec![(Method::DELETE, path.as_str(), Value::Null)];
    app.expect(403, &editor, delete.clone()).await;
    assert_eq!(app.get(&path).send().await.status, 200);

    app.expect(204, &app.admin, delete).await;
    assert_eq!(list(&app, None, &[]).await, ["英语口语培训班"]);
    assert_eq!(list(&app, Some(&app.admin), &[]).await, ["英语口语培训班"]);
    for id in [&tally, &theirs] {
        let path = format!("/api/v1/tallies/{id}");
        app.get(&path).admin().send().await.problem(404);
    }
    let tallies = app.admin_read("/api/v1/tallies").await;
    assert_eq!(items(&tallies).len(), 1);
    assert_eq!(pluck(&tallies, "id"), [kept_tally]);
}
