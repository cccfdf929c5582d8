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

/// How many of the database's sessions are waiting for a lock another one holds.
async fn sessions_waiting_on_a_lock(conn: &mut crate::common::DbConn) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = "SELECT count(*) AS n FROM pg_stat_activity \
               WHERE datname = current_database() AND wait_event_type = 'Lock'";
    let n: N = diesel_async::RunQueryDsl::get_result(diesel::sql_query(sql), conn)
        .await
        .unwrap();
    n.n
}

#[actix_web::test]
async fn a_duplicate_of_a_request_still_running_is_a_409_at_once() {
    use diesel_async::RunQueryDsl;

    let app = TestApp::spawn().await;
    let body = json!({"name": "高州市老年大学", "kind": "school"});
    // Another session inserts the same name and keeps its transaction open, so the first
    // request's insert waits on it (a unique name) and the request stays running.
    let mut holder = app.conn().await;
    for sql in [
        "BEGIN",
        "INSERT INTO units (id, name, kind) VALUES (gen_random_uuid(), '高州市老年大学', 'school')",
    ] {
        diesel::sql_query(sql).execute(&mut holder).await.unwrap();
    }
    let send = || {
        app.post("/api/v1/units")
            .admin()
            .header("Idempotency-Key", "slow")
            .json(body.clone())
            .send()
    };
    let duplicate = async {
        let mut watcher = app.conn().await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while sessions_waiting_on_a_lock(&mut watcher).await == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the first request never blocked"
            );
            actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // Were the duplicate queued behind the first, it would wait on the held row too.
        let res = actix_web::rt::time::timeout(std::time::Duration::from_secs(10), send())
            .await
            .expect("the duplicate was answered at once");
        diesel::sql_query("ROLLBACK")
            .execute(&mut holder)
            .await
            .unwrap();
        res
    };
    let (first, duplicate) = futures_util::future::join(send(), duplicate).await;
    // Refused while the first was running, not queued behind it.
    duplicate.problem(409);
    assert!(duplicate.header("idempotent-replayed").is_none());
    assert!(
        duplicate.json()["detail"]
            .as_str()
            .unwrap()
            .contains("still being processed")
    );
    assert_eq!(duplicate.header("retry-after").as_deref(), Some("1"));
    assert_eq!(first.status, 201, "{}", first.text());
    // Once it is done, the same request replays its answer.
    let replay = send().await;
    assert_eq!(replay.status, 201);
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(replay.json()["id"], first.json()["id"]);
    assert_eq!(unit_count(&app).await, 1);
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
