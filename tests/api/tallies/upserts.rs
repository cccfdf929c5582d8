//! One tally at a time: PUT upserts on the natural key and keeps the history, POST refuses a
//! second tally with the key, and what is refused names its fields.

use std::collections::HashSet;

use futures_util::future::join_all;
use serde_json::json;

use super::*;
use crate::common::Method;

#[actix_web::test]
async fn post_and_patch_refuse_bad_counts() {
    let w = week().await;
    let app = &w.app;
    let cases = vec![
        (tally(w.event, "homemaker", -1, "2014-10-20"), "count"),
        (tally(w.event, "nobody", 5, "2014-10-20"), "category"),
    ];
    app.expect_invalid(Method::POST, "/api/v1/tallies", &w.reporter, cases)
        .await;
    assert_eq!(count_tallies(app).await, 0);

    let ok = tally(w.event, "homemaker", 120, "2014-10-20");
    let id = uuid(&app.create("/api/v1/tallies", &w.reporter, ok).await);
    let cases = vec![
        (json!({"count": -5}), "count"),
        (json!({"tally_date": "20 October"}), "tally_date"),
        (json!({"count": null}), "count"),
    ];
    let path = format!("/api/v1/tallies/{id}");
    app.expect_invalid(Method::PATCH, &path, &w.reporter, cases)
        .await;
    assert_eq!(history(app, &id.to_string()).await, [120]);
}

#[actix_web::test]
async fn put_upserts_on_the_natural_key_and_keeps_history() {
    let w = week().await;
    let app = &w.app;
    let put = |count: i32, date: &str| {
        let body = tally(w.event, "homemaker", count, date);
        app.put("/api/v1/tallies")
            .bearer(&w.reporter)
            .json(body)
            .send()
    };
    let res = put(120, "2014-10-20").await;
    let t = res.ok(201);
    let id = t["id"].as_str().unwrap().to_string();
    assert_eq!(
        res.header("location").unwrap(),
        format!("/api/v1/tallies/{id}")
    );
    let campaign = &t["campaign_id"];
    assert_eq!(
        campaign,
        &w.campaign.to_string(),
        "campaign taken from the event"
    );
    let unit = &t["reporting_unit_id"];
    assert_eq!(unit, &w.unit.to_string(), "defaults to the caller's unit");
    assert_eq!(t["source"], "manual");

    // The script re-sends yesterday's file: nothing changes.
    assert_eq!(put(120, "2014-10-20").await.ok(200), t);
    assert_eq!(history(app, &id).await, [120]);

    let changed = put(135, "2014-10-20").await.ok(200);
    assert_eq!(changed["id"], t["id"]);
    assert_eq!(changed["count"], 135);
    assert_eq!(history(app, &id).await, [120, 135]);
    let h = format!("/api/v1/tallies/{id}/history");
    let h = app.read(&h, Some(&w.reporter)).await;
    let changed_by = h["items"][0]["changed_by"].as_str().unwrap();
    assert!(changed_by.starts_with("token:"));
    assert!(h["items"][0]["changed_at"].is_string());

    // Another date or category is another tally.
    assert_eq!(put(90, "2014-10-21").await.status, 201);
    assert_eq!(count_tallies(app).await, 2);

    // POST refuses to create a second tally with the key.
    let again = tally(w.event, "homemaker", 1, "2014-10-20");
    app.expect(
        409,
        &w.reporter,
        vec![(Method::POST, "/api/v1/tallies", again)],
    )
    .await;

    // PATCH changes the count and adds history; DELETE removes it and its history.
    let path = format!("/api/v1/tallies/{id}");
    let note = json!({"count": 140, "note": "补录"});
    app.expect(200, &w.reporter, vec![(Method::PATCH, &path, note)])
        .await;
    assert_eq!(history(app, &id).await, [120, 135, 140]);
    let delete = vec![(Method::DELETE, path.as_str(), serde_json::Value::Null)];
    app.expect(204, &w.reporter, delete).await;
    let gone = format!("/api/v1/tallies/{id}/history");
    app.get(&gone).admin().send().await.problem(404);
    assert_eq!(count_tallies(app).await, 1);
}

#[actix_web::test]
async fn put_with_if_match_replaces_only_the_tally_as_last_read() {
    let w = week().await;
    let app = &w.app;
    let put = |count: i32, if_match: &str| {
        let body = tally(w.event, "student", count, "2014-10-22");
        app.put("/api/v1/tallies")
            .bearer(&w.reporter)
            .header("If-Match", if_match)
            .json(body)
            .send()
    };
    // Nothing has this natural key yet: a conditional PUT creates nothing, even with `*`.
    put(10, "*").await.problem(412);
    assert_eq!(count_tallies(app).await, 0);

    let created = app
        .put("/api/v1/tallies")
        .bearer(&w.reporter)
        .json(tally(w.event, "student", 10, "2014-10-22"))
        .send()
        .await;
    let first = created.ok(201);
    let id = first["id"].as_str().unwrap().to_string();
    let read = app
        .get(&format!("/api/v1/tallies/{id}"))
        .bearer(&w.reporter)
        .send()
        .await;
    let etag = read.header("etag").unwrap();

    let replaced = put(11, &etag).await;
    assert_eq!(replaced.ok(200)["count"], 11);
    // The tag read before that change is stale now: refused, and nothing changes.
    put(12, &etag).await.problem(412);
    assert_eq!(history(app, &id).await, [10, 11]);
    // `*` replaces whatever is there.
    assert_eq!(put(13, "*").await.ok(200)["count"], 13);
    assert_eq!(history(app, &id).await, [10, 11, 13]);
    assert_eq!(count_tallies(app).await, 1);
}

#[actix_web::test]
async fn tally_validation_names_the_fields() {
    let w = week().await;
    let app = &w.app;
    let other = app.campaign("maoming-2015").await;
    let valid = || tally(w.event, "student", 1, "2014-10-20");
    let mut both = valid();
    both["training_id"] = json!(uuid::Uuid::now_v7());
    let mut neither = valid();
    neither.as_object_mut().unwrap().remove("event_id");
    let mut disagree = valid();
    disagree["campaign_id"] = other["id"].clone();
    let cases = vec![
        (tally(w.event, "student", -1, "2014-10-20"), "count"),
        (
            tally(uuid::Uuid::now_v7(), "student", 1, "2014-10-20"),
            "event_id",
        ),
        (tally(w.event, "alien", 1, "2014-10-20"), "category"),
        (tally(w.event, "student", 1, "1800-10-20"), "tally_date"),
        (both, "event_id"),
        (neither, "event_id"),
        (disagree, "campaign_id"),
    ];
    app.expect_invalid(Method::PUT, "/api/v1/tallies", &w.reporter, cases)
        .await;
    // Admin tokens have no unit, so they must name the reporting unit.
    let unnamed = vec![(valid(), "reporting_unit_id")];
    app.expect_invalid(Method::PUT, "/api/v1/tallies", &app.admin, unnamed)
        .await;
    let mut explicit = valid();
    explicit["reporting_unit_id"] = json!(w.other_unit);
    app.expect(
        201,
        &app.admin,
        vec![(Method::PUT, "/api/v1/tallies", explicit)],
    )
    .await;
}

#[actix_web::test]
async fn concurrent_upserts_of_one_key_make_one_row_with_a_complete_history() {
    let w = week().await;
    let app = &w.app;
    let requests = (1..=50).map(|n| {
        let body = tally(w.event, "child", n, "2014-10-22");
        app.put("/api/v1/tallies")
            .bearer(&w.reporter)
            .json(body)
            .send()
    });
    let responses = join_all(requests).await;
    let created = responses.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1, "exactly one request created the row");
    assert!(responses.iter().all(|r| r.status == 201 || r.status == 200));
    let ids: HashSet<String> = responses
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1);
    let id = ids.into_iter().next().unwrap();
    let mut counts = history(app, &id).await;
    counts.sort();
    let every = (1..=50).collect::<Vec<i64>>();
    assert_eq!(counts, every, "every value is in the history");
    assert_eq!(count_tallies(app).await, 1);
}

#[actix_web::test]
async fn list_filters() {
    let w = week().await;
    let app = &w.app;
    let puts = [
        ("student", "2014-10-19"),
        ("retiree", "2014-10-20"),
        ("student", "2014-10-21"),
    ]
    .map(|(category, date)| {
        let body = tally(w.event, category, 10, date);
        (Method::PUT, "/api/v1/tallies", body)
    });
    app.expect(201, &w.reporter, puts.into()).await;
    for (query, expected) in [
        ("category=student".to_string(), 2),
        (format!("event_id={}", w.event), 3),
        (format!("unit_id={}", w.other_unit), 0),
        ("from=2014-10-20&to=2014-10-20".to_string(), 1),
        ("measure=person_times".to_string(), 0),
    ] {
        let page = format!("/api/v1/tallies?{query}");
        let page = app.read(&page, Some(&w.reporter)).await;
        assert_eq!(items(&page).len(), expected, "{query}");
    }
    app.get("/api/v1/tallies").send().await.problem(401);
}
