//! Errors are problem details (RFC 9457) with the right status: 400, 401, 403, 404, 405, 409,
//! 413, 415, 422 naming the fields, 503 with Retry-After.

use serde_json::json;

use crate::common::{Method, Role, TestApp, test_config};

#[actix_web::test]
async fn errors_are_problem_json() {
    let app = TestApp::spawn().await;
    let unknown = format!("/api/v1/units/{}", uuid::Uuid::now_v7());
    for path in ["/api/v1/nowhere", "/api/v1/units/not-a-uuid", &unknown] {
        app.get(path).send().await.problem(404);
    }
}

#[actix_web::test]
async fn malformed_json_is_400_and_data_errors_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let truncated = app
        .post("/api/v1/units")
        .admin()
        .body("application/json", r#"{"name": "x", "#);
    truncated.send().await.problem(400);
    let cases = vec![
        (
            json!({"name": "某单位", "kind": "school", "colour": "red"}),
            "colour",
        ),
        (json!({"name": "某单位"}), "kind"),
        (json!({"name": "某单位", "kind": "castle"}), "kind"),
        (json!({"name": 42, "kind": "school"}), "name"),
    ];
    app.expect_invalid(Method::POST, "/api/v1/units", &app.admin, cases)
        .await;
}

#[actix_web::test]
async fn wrong_content_type_is_415_and_oversized_body_is_413() {
    let app = TestApp::spawn().await;
    let post = |content_type: &str, body: String| {
        app.post("/api/v1/units")
            .admin()
            .body(content_type, body)
            .send()
    };
    let unit = r#"{"name": "x", "kind": "school"}"#.to_string();
    post("text/plain", unit.clone()).await.problem(415);
    let res = app
        .post("/api/v1/units")
        .admin()
        .body("application/json", unit.into_bytes())
        .header("Content-Type", "application/json")
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let name = "长".repeat(400_000);
    let huge = format!(r#"{{"name": "{name}", "kind": "school"}}"#);
    post("application/json", huge).await.problem(413);
}

#[actix_web::test]
async fn missing_or_bad_tokens_are_401_with_a_challenge_and_wrong_roles_403() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "高州市文化局", "kind": "government_department"});
    let res = app.post("/api/v1/units").json(body.clone()).send().await;
    res.problem(401);
    let challenge = res.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer"));

    let res = app
        .call(Method::POST, "/api/v1/units", "not.a.jwt", body.clone())
        .await;
    res.problem(401);
    let challenge = res.header("www-authenticate").unwrap();
    assert!(challenge.contains("invalid_token"));

    let unit = app.unit("高州市电视台").await;
    let viewer = app.token(Role::Viewer, Some(unit)).await;
    app.expect(403, &viewer, vec![(Method::POST, "/api/v1/units", body)])
        .await;

    // A bad token on a public read is refused too, not silently treated as anonymous.
    let res = app.get("/api/v1/units").bearer("not.a.jwt").send().await;
    res.problem(401);
}

#[actix_web::test]
async fn unique_clashes_are_409_naming_the_field() {
    let app = TestApp::spawn().await;
    app.unit("高州市妇女联合会").await;
    let clash = json!({"name": "高州市妇女联合会", "kind": "mass_organization"});
    let res = app
        .call(Method::POST, "/api/v1/units", &app.admin, clash)
        .await;
    assert_eq!(res.problem(409)["errors"][0]["field"], "name");

    app.campaign("gaozhou-2014").await;
    let clash = json!({"slug": "gaozhou-2014", "name": "又一个", "starts_on": "2015-10-19",
                       "ends_on": "2015-10-25"});
    let res = app
        .call(Method::POST, "/api/v1/campaigns", &app.admin, clash)
        .await;
    assert_eq!(res.problem(409)["errors"][0]["field"], "slug");
}

#[actix_web::test]
async fn database_outage_is_503_with_retry_after() {
    // A pool pointing at a port where nothing listens stands in for a database that is down.
    let db = crate::common::fresh_database().await;
    let mut config = test_config("postgres://postgres@127.0.0.1:1/nothing");
    config.pool_size = 2;
    let app = TestApp::serve_without_token(db, config).await;
    for path in ["/readyz", "/api/v1/units", "/api/v1/campaigns"] {
        let res = app.get(path).send().await;
        assert_eq!(res.status, 503, "{path}");
        assert!(res.header("retry-after").is_some());
        let content_type = res.header("content-type");
        assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    }
}

#[actix_web::test]
async fn other_methods_on_known_paths_are_405_with_allow() {
    let app = TestApp::spawn().await;
    let res = app.req(Method::PUT, "/api/v1/units").admin().send().await;
    res.problem(405);
    assert_eq!(res.header("allow").as_deref(), Some("GET, POST"));
    let unit = format!("/api/v1/units/{}", uuid::Uuid::now_v7());
    let res = app.req(Method::POST, &unit).send().await;
    res.problem(405);
    assert_eq!(res.header("allow").as_deref(), Some("GET, PATCH, DELETE"));
    let nowhere = app.req(Method::POST, "/api/v1/nowhere").send().await;
    nowhere.problem(404);
}

#[actix_web::test]
async fn nul_characters_are_a_422_not_a_500() {
    let app = TestApp::spawn().await;
    let login = json!({"username": "a\u{0}b", "password": "whatever-whatever"});
    let res = app.post("/api/v1/auth/token").json(login).send().await;
    res.problem(422);
    let res = app.get("/api/v1/units?q=%00").send().await;
    res.problem(422);
}

#[actix_web::test]
async fn dates_the_database_cannot_hold_are_422_not_500() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let host = app.unit("高州市教育局").await;
    let far = json!({"campaign_id": c["id"], "title": "开幕式", "kind": "opening_ceremony",
                     "host_unit_id": host, "starts_at": "9999-10-19T01:00:00Z",
                     "ends_at": "9999-10-19T02:00:00Z"});
    let far = vec![(far, "ends_at starts_at")];
    app.expect_invalid(Method::POST, "/api/v1/events", &app.admin, far)
        .await;
    let res = app
        .get("/api/v1/units?updated_since=-10000-01-01T00:00:00Z")
        .send()
        .await;
    let refused = res.status == 400 || res.status == 422;
    assert!(refused, "{} {}", res.status, res.text());
}
