//! API tokens: minted by admins for a role and unit, listed without their text, revoked.

use serde_json::{Value, json};

use crate::common::{Method, Role, TestApp, eventually};

#[actix_web::test]
async fn admins_mint_list_and_revoke_named_tokens() {
    let app = TestApp::spawn().await;
    let tv = app.unit("高州市电视台").await;
    let res = app
        .post("/api/v1/tokens")
        .admin()
        .json(json!({"name": "tv-feed", "role": "viewer", "unit_id": tv}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let minted = res.json();
    let token = minted["token"].as_str().unwrap().to_string();
    assert_eq!(minted["role"], "viewer");
    assert_eq!(minted["unit_id"], tv.to_string());

    let me = app.get("/api/v1/auth/me").bearer(&token).send().await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["sub"], "token:tv-feed");
    assert_eq!(me.json()["sub"], crate::common::jwt_claims(&token)["sub"]);
    assert_eq!(me.json()["name"], "tv-feed");
    assert_eq!(me.json()["role"], "viewer");
    assert_eq!(me.json()["unit_id"], tv.to_string());

    let list = app.get("/api/v1/tokens").admin().send().await;
    assert_eq!(list.status, 200);
    assert!(
        !list.text().contains(&token),
        "the token text is shown once only"
    );
    let items = list.json()["items"].as_array().unwrap().clone();
    let listed: Vec<&Value> = items.iter().filter(|t| t["name"] == "tv-feed").collect();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].get("token").is_none());

    // last_used_at is recorded (off the request path).
    let id = minted["id"].as_str().unwrap().to_string();
    eventually(
        std::time::Duration::from_secs(5),
        "last_used_at is set",
        || async {
            let t = app.admin_read(&format!("/api/v1/tokens/{id}")).await;
            !t["last_used_at"].is_null()
        },
    )
    .await;

    let request = (
        Method::DELETE,
        &*format!("/api/v1/tokens/{id}"),
        serde_json::Value::Null,
    );
    app.expect(204, &app.admin, vec![request]).await;
    let res = app.get("/api/v1/auth/me").bearer(&token).send().await;
    let p = res.problem(401);
    assert!(p["detail"].as_str().unwrap().contains("revoked"));
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    // Revoking again is fine; revoked tokens leave the default listing.
    assert_eq!(
        app.delete(&format!("/api/v1/tokens/{id}"))
            .admin()
            .send()
            .await
            .status,
        204
    );
    let list = app.get("/api/v1/tokens").admin().send().await.json();
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["name"] != "tv-feed")
    );
    let list = app.admin_read("/api/v1/tokens?include_inactive=true").await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "tv-feed" && !t["revoked_at"].is_null())
    );
}

#[actix_web::test]
async fn token_roles_need_a_real_unit_and_admins_none() {
    let app = TestApp::spawn().await;
    let unit = app.unit("高州市文化局").await;
    let cases = [
        (json!({"name": "x", "role": "editor"}), "unit_id"),
        (
            json!({"name": "x", "role": "reporter", "unit_id": uuid::Uuid::now_v7()}),
            "unit_id",
        ),
        (
            json!({"name": "x", "role": "admin", "unit_id": unit}),
            "unit_id",
        ),
        (
            json!({"name": "x", "role": "viewer", "unit_id": unit, "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"name": "", "role": "viewer", "unit_id": unit}),
            "name",
        ),
        (
            json!({"name": "x", "role": "superuser", "unit_id": unit}),
            "role",
        ),
    ];
    for (body, field) in cases {
        let res = app
            .post("/api/v1/tokens")
            .admin()
            .json(body.clone())
            .send()
            .await;
        assert_eq!(res.error_fields(), [field], "{body}");
    }
    let editor = app.token(Role::Editor, Some(unit)).await;
    let request = (
        Method::POST,
        "/api/v1/tokens",
        json!({"name": "x", "role": "viewer", "unit_id": unit}),
    );
    app.expect(403, &editor, vec![request]).await;
    app.get("/api/v1/tokens")
        .bearer(&editor)
        .send()
        .await
        .problem(403);
}
