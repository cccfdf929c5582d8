//! Idempotency-Key on POST: replay, mismatch, in-flight duplicates, scope per token, expiry.

use futures_util::future::join_all;
use serde_json::json;

use crate::common::{Role, TestApp};

async fn unit_count(app: &TestApp) -> usize {
    app.get("/api/v1/units?limit=200").send().await.json()["items"]
        .as_array()
        .unwrap()
        .len()
}

#[actix_web::test]
async fn the_same_key_and_body_replays_the_first_response() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "高州市总工会", "kind": "mass_organization"});
    let first = app
        .post("/api/v1/units")
        .admin()
        .header("Idempotency-Key", "k-1")
        .json(body.clone())
        .send()
        .await;
    assert_eq!(first.status, 201);
    assert!(first.header("idempotent-replayed").is_none());
    let again = app
        .post("/api/v1/units")
        .admin()
        .header("Idempotency-Key", "k-1")
        .json(body.clone())
        .send()
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(unit_count(&app).await, 1);

    // Same key, different body: refused, nothing created.
    let other = json!({"name": "团市委", "kind": "mass_organization"});
    let res = app
        .post("/api/v1/units")
        .admin()
        .header("Idempotency-Key", "k-1")
        .json(other.clone())
        .send()
        .await;
    assert_eq!(res.error_fields(), ["Idempotency-Key"]);
    assert_eq!(unit_count(&app).await, 1);

    // Keys belong to the token that sent them.
    let other_admin = app.token(Role::Admin, None).await;
    let res = app
        .post("/api/v1/units")
        .bearer(&other_admin)
        .header("Idempotency-Key", "k-1")
        .json(other)
        .send()
        .await;
    assert_eq!(res.status, 201);
    assert!(res.header("idempotent-replayed").is_none());
    assert_eq!(unit_count(&app).await, 2);

    // Errors replay too (the same request would fail the same way).
    let bad = json!({"name": "", "kind": "school"});
    let res = app
        .post("/api/v1/units")
        .admin()
        .header("Idempotency-Key", "k-2")
        .json(bad.clone())
        .send()
        .await;
    res.problem(422);
    let res = app
        .post("/api/v1/units")
        .admin()
        .header("Idempotency-Key", "k-2")
        .json(bad)
        .send()
        .await;
    res.problem(422);
    assert_eq!(res.header("idempotent-replayed").as_deref(), Some("true"));

    let res = app
        .post("/api/v1/units")
        .admin()
        .header("Idempotency-Key", &"x".repeat(300))
        .json(body)
        .send()
        .await;
    res.problem(400);
}

#[actix_web::test]
async fn twenty_concurrent_identical_requests_create_one_row() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "高州市教育学会", "kind": "association"});
    let requests = (0..20).map(|_| {
        app.post("/api/v1/units")
            .admin()
            .header("Idempotency-Key", "burst")
            .json(body.clone())
            .send()
    });
    let responses = join_all(requests).await;
    for r in &responses {
        assert!(
            r.status == 201 || r.status == 409,
            "{} {}",
            r.status,
            r.text()
        );
    }
    let first = responses
        .iter()
        .filter(|r| r.status == 201 && r.header("idempotent-replayed").is_none())
        .count();
    assert_eq!(first, 1, "exactly one request did the work");
    assert!(responses.iter().filter(|r| r.status == 409).all(|r| {
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("still being processed")
    }));
    assert_eq!(unit_count(&app).await, 1);
    // Once it is done, a retry replays.
    let res = app
        .post("/api/v1/units")
        .admin()
        .header("Idempotency-Key", "burst")
        .json(body)
        .send()
        .await;
    assert_eq!(res.status, 201);
    assert_eq!(res.header("idempotent-replayed").as_deref(), Some("true"));
}

#[actix_web::test]
async fn keys_expire_after_a_day() {
    use crate::common::schema::idempotency_keys;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;

    let app = TestApp::spawn().await;
    let body = json!({"name": "高州市体育局", "kind": "government_department"});
    app.post("/api/v1/units")
        .admin()
        .header("Idempotency-Key", "old")
        .json(body.clone())
        .send()
        .await;
    let mut conn = app.conn().await;
    diesel::update(idempotency_keys::table)
        .set(idempotency_keys::created_at.eq(chrono::Utc::now() - chrono::Duration::hours(25)))
        .execute(&mut conn)
        .await
        .unwrap();
    // An expired key is a new key: the request runs again (and clashes on the unique name).
    let res = app
        .post("/api/v1/units")
        .admin()
        .header("Idempotency-Key", "old")
        .json(body)
        .send()
        .await;
    res.problem(409);
    assert!(res.header("idempotent-replayed").is_none());
    // A conflict wrote nothing and is not kept: a key is taken by writes (and refusals).
    let res = app
        .post("/api/v1/units")
        .admin()
        .header("Idempotency-Key", "old")
        .json(json!({"name": "高州市文化局", "kind": "government_department"}))
        .send()
        .await;
    assert_eq!(res.status, 201);
    diesel::update(idempotency_keys::table)
        .set(idempotency_keys::created_at.eq(chrono::Utc::now() - chrono::Duration::hours(25)))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        crate::common::purge_expired(&mut *app.conn().await)
            .await
            .unwrap(),
        1
    );
}
