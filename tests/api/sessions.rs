//! Sessions for frontends: refresh tokens with rotation, reuse detection, logout, and
//! revocation when an account is disabled or its password changes.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::common::{Method, Resp, TestApp};

const PASSWORD: &str = "correct horse battery";

async fn account(app: &TestApp, username: &str) -> String {
    let unit = app.unit("高州市妇女联合会").await;
    let created = app
        .create(
            "/api/v1/accounts",
            &app.admin,
            json!({"username": username, "password": PASSWORD, "role": "editor", "unit_id": unit}),
        )
        .await;
    created["id"].as_str().unwrap().to_string()
}

async fn login(app: &TestApp, username: &str) -> Value {
    let res = app
        .post("/api/v1/auth/token")
        .json(json!({"username": username, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    res.json()
}

async fn refresh(app: &TestApp, refresh_token: &Value) -> Resp {
    app.post("/api/v1/auth/refresh")
        .json(json!({"refresh_token": refresh_token}))
        .send()
        .await
}

async fn me_status(app: &TestApp, session: &Value) -> u16 {
    app.get("/api/v1/auth/me")
        .bearer(session["access_token"].as_str().unwrap())
        .send()
        .await
        .status
}

#[actix_web::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_family() {
    let app = TestApp::spawn().await;
    account(&app, "li.na").await;
    let first = login(&app, "li.na").await;
    assert_eq!(first["refresh_expires_in"], 30 * 24 * 3600);
    assert!(first["refresh_token"].as_str().unwrap().starts_with("lwr_"));

    let res = refresh(&app, &first["refresh_token"]).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let second = res.json();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["role"], "editor");
    assert_eq!(me_status(&app, &second).await, 200);

    // The first refresh token is spent: presenting it again is a reuse.
    let res = refresh(&app, &first["refresh_token"]).await;
    let problem = res.problem(401);
    assert!(problem["detail"].as_str().unwrap().contains("already used"));
    // ... which revoked the whole family: the second pair is dead too.
    assert_eq!(me_status(&app, &second).await, 401);
    assert_eq!(refresh(&app, &second["refresh_token"]).await.status, 401);
    assert_eq!(me_status(&app, &first).await, 401);

    // Another login is another family, untouched.
    let other = login(&app, "li.na").await;
    assert_eq!(me_status(&app, &other).await, 200);
    assert_eq!(refresh(&app, &other["refresh_token"]).await.status, 200);

    // Only its SHA-256 is stored, and the secret appears nowhere else.
    let secret = other["refresh_token"].as_str().unwrap();
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        hashed: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        in_audit: i64,
    }
    let found: Found = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT (SELECT count(*) FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))) AS hashed, \
                    (SELECT count(*) FROM audit_log WHERE audit_log::text LIKE '%' || $1 || '%') AS in_audit",
        )
        .bind::<diesel::sql_types::Text, _>(secret),
        &mut app.conn().await,
    )
    .await
    .unwrap();
    assert_eq!((found.hashed, found.in_audit), (1, 0));
}

#[actix_web::test]
async fn two_refreshes_racing_with_one_token_exactly_one_wins() {
    let app = TestApp::spawn().await;
    account(&app, "race").await;
    for _ in 0..5 {
        let session = login(&app, "race").await;
        let answers: Vec<Resp> =
            join_all((0..2).map(|_| refresh(&app, &session["refresh_token"]))).await;
        let mut statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 401],
            "{:?}",
            answers.iter().map(Resp::text).collect::<Vec<_>>()
        );
    }
}

#[actix_web::test]
async fn bad_refresh_tokens_are_401_and_the_body_is_checked() {
    let app = TestApp::spawn().await;
    for token in [
        json!("lwr_nope"),
        json!("garbage"),
        json!("lwr_".repeat(50)),
    ] {
        refresh(&app, &token).await.problem(401);
    }
    let res = app
        .post("/api/v1/auth/refresh")
        .json(json!({"refresh_token": 5}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["refresh_token"]);
    let res = app
        .post("/api/v1/auth/refresh")
        .json(json!({}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["refresh_token"]);
}

#[actix_web::test]
async fn logout_ends_the_session_and_its_refresh_tokens() {
    let app = TestApp::spawn().await;
    account(&app, "zhao.lei").await;
    let session = login(&app, "zhao.lei").await;
    let kept = login(&app, "zhao.lei").await;
    let res = app
        .post("/api/v1/auth/logout")
        .bearer(session["access_token"].as_str().unwrap())
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(me_status(&app, &session).await, 401);
    assert_eq!(refresh(&app, &session["refresh_token"]).await.status, 401);
    assert_eq!(me_status(&app, &kept).await, 200, "other sessions stay");
    app.post("/api/v1/auth/logout").send().await.problem(401);
}

#[actix_web::test]
async fn disabling_an_account_or_changing_its_password_ends_its_sessions() {
    let app = TestApp::spawn().await;
    let id = account(&app, "chen.jing").await;
    let session = login(&app, "chen.jing").await;
    let request = (
        Method::PATCH,
        &*format!("/api/v1/accounts/{id}"),
        json!({"password": "another long passphrase"}),
    );
    app.expect(200, &app.admin, vec![request]).await;
    assert_eq!(me_status(&app, &session).await, 401);
    assert_eq!(refresh(&app, &session["refresh_token"]).await.status, 401);

    let res = app
        .post("/api/v1/auth/token")
        .json(json!({"username": "chen.jing", "password": "another long passphrase"}))
        .send()
        .await;
    let session = res.json();
    let request = (
        Method::PATCH,
        &*format!("/api/v1/accounts/{id}"),
        json!({"disabled": true}),
    );
    app.expect(200, &app.admin, vec![request]).await;
    assert_eq!(refresh(&app, &session["refresh_token"]).await.status, 401);
    assert_eq!(me_status(&app, &session).await, 401);
}

#[actix_web::test]
async fn every_caller_may_log_out_only_itself() {
    use crate::common::Role;
    let app = TestApp::spawn().await;
    let unit = app.unit("高州市文化局").await;
    for (role, unit) in [
        (Role::Admin, None),
        (Role::Editor, Some(unit)),
        (Role::Reporter, Some(unit)),
        (Role::Viewer, Some(unit)),
    ] {
        let mine = app.token(role, unit).await;
        let other = app.token(role, unit).await;
        let res = app.post("/api/v1/auth/logout").bearer(&mine).send().await;
        assert_eq!(res.status, 204, "{role}: {}", res.text());
        app.get("/api/v1/auth/me")
            .bearer(&mine)
            .send()
            .await
            .problem(401);
        assert_eq!(
            app.get("/api/v1/auth/me")
                .bearer(&other)
                .send()
                .await
                .status,
            200
        );
        // Logging out twice: the token is already revoked.
        app.post("/api/v1/auth/logout")
            .bearer(&mine)
            .send()
            .await
            .problem(401);
    }
    let expired = app
        .token_expiring(
            Role::Admin,
            None,
            chrono::Utc::now() - chrono::Duration::seconds(5),
        )
        .await;
    app.post("/api/v1/auth/logout")
        .bearer(&expired)
        .send()
        .await
        .problem(401);
}
