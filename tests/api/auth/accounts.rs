//! Accounts: login for short-lived tokens, lockout after failures, sessions that end with a
//! change to the account, validation.

use serde_json::json;

use super::{login, make_account};
use crate::common::{Method, TestApp};

#[actix_web::test]
async fn accounts_log_in_for_short_lived_tokens() {
    let app = TestApp::spawn().await;
    let unit = app.unit("高州市妇女联合会").await;
    make_account(&app, "wang.fang", "editor", Some(unit)).await;
    let res = login(&app, "wang.fang", "correct horse battery").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["role"], "editor");
    assert_eq!(body["unit_id"], unit.to_string());
    let token = body["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/auth/me").bearer(token).send().await.json();
    assert_eq!(
        me["sub"],
        crate::common::jwt_claims(token)["sub"],
        "sub is the claim"
    );
    assert!(me["sub"].as_str().unwrap().starts_with("account:"));
    assert_eq!(me["name"], "wang.fang");
    assert_eq!(me["token_kind"], "session");
    // Every minted token is audited, sessions too.
    let audit = app
        .get(&format!(
            "/api/v1/audit?type=token&id={}",
            me["token_id"].as_str().unwrap()
        ))
        .admin()
        .send()
        .await
        .json();
    assert_eq!(audit["items"][0]["actor"], "system:login", "{audit}");
    assert_eq!(audit["items"][0]["op"], "create", "{audit}");

    let wrong = login(&app, "wang.fang", "wrong password!").await;
    let unknown = login(&app, "nobody", "wrong password!").await;
    assert_eq!(wrong.problem(401)["detail"], unknown.problem(401)["detail"]);

    let res = app.get("/api/v1/accounts").admin().send().await;
    assert!(!res.text().contains("password"));
}

#[actix_web::test]
async fn repeated_login_failures_lock_the_username() {
    let app = TestApp::spawn().await;
    make_account(&app, "li.ming", "admin", None).await;
    for _ in 0..5 {
        login(&app, "li.ming", "not the password")
            .await
            .problem(401);
    }
    let res = login(&app, "li.ming", "correct horse battery").await;
    res.problem(429);
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 60 && retry <= 900, "{retry}");
    // Unknown usernames are throttled the same way (no enumeration by behaviour).
    for _ in 0..5 {
        login(&app, "ghost", "whatever-whatever").await.problem(401);
    }
    login(&app, "ghost", "whatever-whatever").await.problem(429);
    // Other usernames are unaffected.
    make_account(&app, "zhao.lei", "admin", None).await;
    assert_eq!(
        login(&app, "zhao.lei", "correct horse battery")
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn disabling_or_changing_an_account_ends_its_sessions() {
    let app = TestApp::spawn().await;
    let unit = app.unit("高州市体育局").await;
    let id = make_account(&app, "chen.jie", "editor", Some(unit)).await;
    let token = login(&app, "chen.jie", "correct horse battery")
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get("/api/v1/auth/me")
            .bearer(&token)
            .send()
            .await
            .status,
        200
    );

    let request = (
        Method::PATCH,
        &*format!("/api/v1/accounts/{id}"),
        json!({"password": "a brand new password"}),
    );
    app.expect(200, &app.admin, vec![request]).await;
    app.get("/api/v1/auth/me")
        .bearer(&token)
        .send()
        .await
        .problem(401);
    login(&app, "chen.jie", "correct horse battery")
        .await
        .problem(401);
    let token = login(&app, "chen.jie", "a brand new password").await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    app.patch(&format!("/api/v1/accounts/{id}"))
        .admin()
        .json(json!({"disabled": true}))
        .send()
        .await;
    app.get("/api/v1/auth/me")
        .bearer(&token)
        .send()
        .await
        .problem(401);
    login(&app, "chen.jie", "a brand new password")
        .await
        .problem(401);

    let request = (
        Method::DELETE,
        &*format!("/api/v1/accounts/{id}"),
        serde_json::Value::Null,
    );
    app.expect(204, &app.admin, vec![request]).await;
    app.get(&format!("/api/v1/accounts/{id}"))
        .admin()
        .send()
        .await
        .problem(404);
}

#[actix_web::test]
async fn account_validation() {
    let app = TestApp::spawn().await;
    let unit = app.unit("团市委").await;
    for (body, field) in [
        (
            json!({"username": "X Y", "password": "long enough pass", "role": "admin"}),
            "username",
        ),
        (
            json!({"username": "ab.cd", "password": "short", "role": "admin"}),
            "password",
        ),
        (json!({"username": "ab.cd", "role": "admin"}), "password"),
        (
            json!({"username": "ab.cd", "password": "long enough pass", "role": "viewer"}),
            "unit_id",
        ),
        (
            json!({"username": "ab.cd", "password": "long enough pass", "role": "admin", "unit_id": unit}),
            "unit_id",
        ),
    ] {
        let res = app
            .post("/api/v1/accounts")
            .admin()
            .json(body.clone())
            .send()
            .await;
        assert_eq!(res.error_fields(), [field], "{body}");
    }
    make_account(&app, "dup.user", "viewer", Some(unit)).await;
    let res = app
        .post("/api/v1/accounts")
        .admin()
        .json(json!({"username": "dup.user", "password": "long enough pass", "role": "admin"}))
        .send()
        .await;
    assert_eq!(res.problem(409)["errors"][0]["field"], "username");

    // A patch is checked like a create, and a refused one changes nothing.
    let id = make_account(&app, "patch.me", "viewer", Some(unit)).await;
    for (patch, field) in [
        (json!({"password": "short"}), "password"),
        (json!({"username": "Not Valid"}), "username"),
        (json!({"unit_id": null}), "unit_id"),
        (json!({"role": "admin"}), "unit_id"),
        (json!({"role": "chief"}), "role"),
    ] {
        let res = app
            .patch(&format!("/api/v1/accounts/{id}"))
            .admin()
            .json(patch.clone())
            .send()
            .await;
        assert_eq!(res.error_fields(), [field], "{patch}");
    }
    assert_eq!(
        login(&app, "patch.me", "correct horse battery")
            .await
            .status,
        200
    );

    // Login names what is missing.
    for (body, field) in [
        (json!({"username": "patch.me"}), "password"),
        (json!({"password": "correct horse battery"}), "username"),
    ] {
        let res = app
            .post("/api/v1/auth/token")
            .json(body.clone())
            .send()
            .await;
        assert_eq!(res.error_fields(), [field], "{body}");
    }
}
