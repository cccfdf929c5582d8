//! Authentication: API tokens minted, listed and revoked ([`tokens`]), JWTs that are forged,
//! expired or malformed ([`jwt`]), accounts that log in for short-lived tokens ([`accounts`]),
//! and the audit log ([`audit`]).

mod accounts;
mod audit;
mod jwt;
mod tokens;

use serde_json::json;

use crate::common::{Resp, TestApp};

async fn make_account(
    app: &TestApp,
    username: &str,
    role: &str,
    unit: Option<uuid::Uuid>,
) -> String {
    let res = app
        .post("/api/v1/accounts")
        .admin()
        .json(json!({"username": username, "password": "correct horse battery", "role": role, "unit_id": unit}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert!(
        !res.text().contains("correct horse"),
        "passwords are never returned"
    );
    assert!(!res.text().contains("argon2"), "hashes are never returned");
    res.json()["id"].as_str().unwrap().to_string()
}

async fn login(app: &TestApp, username: &str, password: &str) -> Resp {
    app.post("/api/v1/auth/token")
        .json(json!({"username": username, "password": password}))
        .send()
        .await
}
