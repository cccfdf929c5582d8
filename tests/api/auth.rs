//! Tokens, accounts, login, JWT hardening, the audit log.

use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use learnweek::auth::Role;
use serde_json::{Value, json};

use crate::common::{JWT_SECRET, TestApp, eventually};

#[actix_web::test]
async fn admins_mint_list_and_revoke_named_tokens() {
    let app = TestApp::spawn().await;
    let tv = app.unit("高州市电视台").await;
    let res = app
        .post("/api/v1/tokens")
        .bearer(&app.admin)
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

    let list = app.get("/api/v1/tokens").bearer(&app.admin).send().await;
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
            let t = app
                .get(&format!("/api/v1/tokens/{id}"))
                .bearer(&app.admin)
                .send()
                .await
                .json();
            !t["last_used_at"].is_null()
        },
    )
    .await;

    let res = app
        .delete(&format!("/api/v1/tokens/{id}"))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.status, 204);
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
            .bearer(&app.admin)
            .send()
            .await
            .status,
        204
    );
    let list = app
        .get("/api/v1/tokens")
        .bearer(&app.admin)
        .send()
        .await
        .json();
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["name"] != "tv-feed")
    );
    let list = app
        .get("/api/v1/tokens?include_inactive=true")
        .bearer(&app.admin)
        .send()
        .await
        .json();
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
            .bearer(&app.admin)
            .json(body.clone())
            .send()
            .await;
        assert_eq!(res.error_fields(), [field], "{body}");
    }
    let editor = app.token(Role::Editor, Some(unit)).await;
    let res = app
        .post("/api/v1/tokens")
        .bearer(&editor)
        .json(json!({"name": "x", "role": "viewer", "unit_id": unit}))
        .send()
        .await;
    res.problem(403);
    app.get("/api/v1/tokens")
        .bearer(&editor)
        .send()
        .await
        .problem(403);
}

fn sign(header: Header, claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret).unwrap()).unwrap()
}

#[actix_web::test]
async fn forged_expired_and_malformed_tokens_are_401() {
    use base64::Engine;
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };

    let app = TestApp::spawn().await;
    let unit = app.unit("高州市教育学会").await;
    let editor = app.token(Role::Editor, Some(unit)).await;
    let parts: Vec<&str> = editor.split('.').collect();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();

    // Escalating the role in the payload breaks the signature.
    let mut admin_claims = claims.clone();
    admin_claims["role"] = json!("admin");
    admin_claims["unit_id"] = Value::Null;
    let tampered = format!("{}.{}.{}", parts[0], b64(&admin_claims), parts[2]);
    // alg none.
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&admin_claims)
    );
    // Same secret, another algorithm.
    let hs512 = sign(
        Header::new(Algorithm::HS512),
        &claims,
        JWT_SECRET.as_bytes(),
    );
    // Signed with another key.
    let other_key = sign(
        Header::new(Algorithm::HS256),
        &claims,
        b"another-secret-another-secret-0123456789",
    );
    // A proper signature but a jti the token table never issued.
    let mut unknown = claims.clone();
    unknown["jti"] = json!(uuid::Uuid::now_v7());
    let unknown_jti = sign(
        Header::new(Algorithm::HS256),
        &unknown,
        JWT_SECRET.as_bytes(),
    );
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("someone-else");
    let wrong_iss = sign(
        Header::new(Algorithm::HS256),
        &wrong_iss,
        JWT_SECRET.as_bytes(),
    );
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let no_exp = sign(
        Header::new(Algorithm::HS256),
        &no_exp,
        JWT_SECRET.as_bytes(),
    );
    // A token whose role no longer matches its record.
    let mut other_role = claims.clone();
    other_role["role"] = json!("admin");
    other_role["unit_id"] = Value::Null;
    let other_role = sign(
        Header::new(Algorithm::HS256),
        &other_role,
        JWT_SECRET.as_bytes(),
    );
    let expired = app
        .token_expiring(Role::Editor, Some(unit), Utc::now() - Duration::seconds(5))
        .await;

    for (what, token) in [
        ("tampered", tampered.as_str()),
        ("alg none", none.as_str()),
        ("HS512", hs512.as_str()),
        ("other key", other_key.as_str()),
        ("unknown jti", unknown_jti.as_str()),
        ("wrong iss", wrong_iss.as_str()),
        ("no exp", no_exp.as_str()),
        ("role not on record", other_role.as_str()),
        ("expired", expired.as_str()),
        ("garbage", "a.b.c"),
        ("empty", ""),
    ] {
        let res = app
            .get("/api/v1/auth/me")
            .header("Authorization", &format!("Bearer {token}"))
            .send()
            .await;
        res.problem(401);
        let challenge = res.header("www-authenticate").unwrap_or_default();
        assert!(challenge.contains("Bearer"), "{what}: {challenge}");
        // Writes too.
        let res = app
            .post("/api/v1/units")
            .header("Authorization", &format!("Bearer {token}"))
            .json(json!({"name": format!("单位-{what}"), "kind": "other"}))
            .send()
            .await;
        assert_eq!(res.status, 401, "{what}");
    }
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Token abc", &editor] {
        let res = app
            .get("/api/v1/auth/me")
            .header("Authorization", header)
            .send()
            .await;
        res.problem(401);
        assert!(
            res.header("www-authenticate")
                .unwrap()
                .contains("invalid_token"),
            "{header}"
        );
    }
    // The genuine token still works.
    assert_eq!(
        app.get("/api/v1/auth/me")
            .bearer(&editor)
            .send()
            .await
            .status,
        200
    );
}

async fn make_account(
    app: &TestApp,
    username: &str,
    role: &str,
    unit: Option<uuid::Uuid>,
) -> String {
    let res = app
        .post("/api/v1/accounts")
        .bearer(&app.admin)
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

async fn login(app: &TestApp, username: &str, password: &str) -> crate::common::Resp {
    app.post("/api/v1/auth/token")
        .json(json!({"username": username, "password": password}))
        .send()
        .await
}

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
        .bearer(&app.admin)
        .send()
        .await
        .json();
    assert_eq!(audit["items"][0]["actor"], "system:login", "{audit}");
    assert_eq!(audit["items"][0]["op"], "create", "{audit}");

    let wrong = login(&app, "wang.fang", "wrong password!").await;
    let unknown = login(&app, "nobody", "wrong password!").await;
    assert_eq!(wrong.problem(401)["detail"], unknown.problem(401)["detail"]);

    let res = app.get("/api/v1/accounts").bearer(&app.admin).send().await;
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

    let res = app
        .patch(&format!("/api/v1/accounts/{id}"))
        .bearer(&app.admin)
        .json(json!({"password": "a brand new password"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
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
        .bearer(&app.admin)
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

    let res = app
        .delete(&format!("/api/v1/accounts/{id}"))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.status, 204);
    app.get(&format!("/api/v1/accounts/{id}"))
        .bearer(&app.admin)
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
            .bearer(&app.admin)
            .json(body.clone())
            .send()
            .await;
        assert_eq!(res.error_fields(), [field], "{body}");
    }
    make_account(&app, "dup.user", "viewer", Some(unit)).await;
    let res = app
        .post("/api/v1/accounts")
        .bearer(&app.admin)
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
            .bearer(&app.admin)
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

#[actix_web::test]
async fn the_audit_log_is_admin_only_and_filterable() {
    let app = TestApp::spawn().await;
    let unit = app.unit("高州市人力资源和社会保障局").await;
    app.patch(&format!("/api/v1/units/{unit}"))
        .bearer(&app.admin)
        .json(json!({"short_name": "市人社局"}))
        .send()
        .await;
    app.campaign("gaozhou-2014").await;

    let res = app
        .get(&format!("/api/v1/audit?id={unit}"))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.status, 200);
    let items = res.json()["items"].as_array().unwrap().clone();
    let ops: Vec<&str> = items.iter().map(|e| e["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["update", "create"], "newest first");
    assert_eq!(items[0]["type"], "unit");
    assert_eq!(items[0]["before"]["short_name"], Value::Null);
    assert_eq!(items[0]["after"]["short_name"], "市人社局");
    assert!(items[0]["actor"].as_str().unwrap().starts_with("token:"));
    assert!(items[0]["request_id"].is_string());

    let res = app
        .get("/api/v1/audit?type=campaign")
        .bearer(&app.admin)
        .send()
        .await
        .json();
    assert_eq!(res["items"].as_array().unwrap().len(), 1);
    let res = app
        .get("/api/v1/audit?type=unit&limit=1")
        .bearer(&app.admin)
        .send()
        .await
        .json();
    assert!(res["next_cursor"].is_string());
    let future =
        (Utc::now() + Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let res = app
        .get(&format!("/api/v1/audit?from={future}"))
        .bearer(&app.admin)
        .send()
        .await
        .json();
    assert_eq!(res["items"], json!([]));

    let viewer = app.token(Role::Viewer, Some(unit)).await;
    app.get("/api/v1/audit")
        .bearer(&viewer)
        .send()
        .await
        .problem(403);
    app.get("/api/v1/audit").send().await.problem(401);
}
