//! The conventions of API.md, exercised through campaigns and units.

use serde_json::json;

use crate::common::TestApp;

#[actix_web::test]
async fn errors_are_problem_json() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/nowhere").send().await;
    res.problem(404);
    let res = app.get("/api/v1/units/not-a-uuid").send().await;
    res.problem(404);
    let res = app
        .get(&format!("/api/v1/units/{}", uuid::Uuid::now_v7()))
        .send()
        .await;
    res.problem(404);
}

#[actix_web::test]
async fn malformed_json_is_400_and_data_errors_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/v1/units")
        .bearer(&app.admin)
        .body("application/json", r#"{"name": "x", "#)
        .send()
        .await;
    res.problem(400);

    let res = app
        .post("/api/v1/units")
        .bearer(&app.admin)
        .json(json!({"name": "某单位", "kind": "school", "colour": "red"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["colour"]);

    let res = app
        .post("/api/v1/units")
        .bearer(&app.admin)
        .json(json!({"name": "某单位"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["kind"]);

    let res = app
        .post("/api/v1/units")
        .bearer(&app.admin)
        .json(json!({"name": "某单位", "kind": "castle"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["kind"]);

    let res = app
        .post("/api/v1/units")
        .bearer(&app.admin)
        .json(json!({"name": 42, "kind": "school"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["name"]);
}

#[actix_web::test]
async fn wrong_content_type_is_415_and_oversized_body_is_413() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/v1/units")
        .bearer(&app.admin)
        .body("text/plain", r#"{"name": "x", "kind": "school"}"#)
        .send()
        .await;
    res.problem(415);
    let res = app
        .post("/api/v1/units")
        .bearer(&app.admin)
        .body(
            "application/json",
            r#"{"name": "x", "kind": "school"}"#.to_string().into_bytes(),
        )
        .header("Content-Type", "application/json")
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());

    let huge = format!(
        r#"{{"name": "{}", "kind": "school"}}"#,
        "长".repeat(400_000)
    );
    let res = app
        .post("/api/v1/units")
        .bearer(&app.admin)
        .body("application/json", huge)
        .send()
        .await;
    res.problem(413);
}

#[actix_web::test]
async fn missing_or_bad_tokens_are_401_with_a_challenge_and_wrong_roles_403() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "高州市文化局", "kind": "government_department"});
    let res = app.post("/api/v1/units").json(body.clone()).send().await;
    res.problem(401);
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );

    let res = app
        .post("/api/v1/units")
        .bearer("not.a.jwt")
        .json(body.clone())
        .send()
        .await;
    res.problem(401);
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );

    let unit = app.unit("高州市电视台").await;
    let viewer = app.token(learnweek::auth::Role::Viewer, Some(unit)).await;
    let res = app
        .post("/api/v1/units")
        .bearer(&viewer)
        .json(body.clone())
        .send()
        .await;
    res.problem(403);

    // A bad token on a public read is refused too, not silently treated as anonymous.
    let res = app.get("/api/v1/units").bearer("not.a.jwt").send().await;
    res.problem(401);
}

#[actix_web::test]
async fn lists_page_with_keyset_cursors_and_link_headers() {
    let app = TestApp::spawn().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(app.unit(&format!("成员单位{i}")).await);
    }
    let first = app.get("/api/v1/units?limit=2").send().await;
    assert_eq!(first.status, 200);
    let page = first.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let link = first.header("link").unwrap();
    assert!(
        link.contains("rel=\"next\"") && link.contains("limit=2") && link.contains(&cursor),
        "{link}"
    );

    // A row inserted while paging does not shift the pages (keyset, not offset).
    app.unit("后来的单位").await;

    let mut seen: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().into())
        .collect();
    let mut next = Some(cursor);
    while let Some(c) = next {
        let res = app
            .get(&format!("/api/v1/units?limit=2&cursor={c}"))
            .send()
            .await;
        assert_eq!(res.status, 200);
        let page = res.json();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["name"].as_str().unwrap().to_string()),
        );
        next = page["next_cursor"].as_str().map(str::to_string);
        if next.is_none() {
            assert!(res.header("link").is_none());
        }
    }
    let mut expected: Vec<String> = (0..5).map(|i| format!("成员单位{i}")).collect();
    expected.push("后来的单位".into());
    assert_eq!(seen, expected);
}

#[actix_web::test]
async fn limit_outside_the_range_is_422_and_garbage_is_400() {
    let app = TestApp::spawn().await;
    for bad in ["0", "201", "-1"] {
        let res = app.get(&format!("/api/v1/units?limit={bad}")).send().await;
        assert_eq!(res.error_fields(), ["limit"], "limit={bad}");
    }
    app.get("/api/v1/units?limit=abc").send().await.problem(400);
    app.get("/api/v1/units?cursor=garbage")
        .send()
        .await
        .problem(400);
    app.get("/api/v1/units?updated_since=yesterday")
        .send()
        .await
        .problem(400);
    assert_eq!(app.get("/api/v1/units?limit=200").send().await.status, 200);
    assert_eq!(app.get("/api/v1/units?limit=1").send().await.status, 200);
}

#[actix_web::test]
async fn etags_give_304_and_stale_if_match_gives_412() {
    let app = TestApp::spawn().await;
    let id = app.unit("高州市体育局").await;
    let path = format!("/api/v1/units/{id}");
    let res = app.get(&path).send().await;
    let etag = res.header("etag").unwrap();
    assert!(etag.starts_with('"'));

    let res = app.get(&path).header("If-None-Match", &etag).send().await;
    assert_eq!(res.status, 304);
    assert!(res.body.is_empty());
    let res = app
        .get(&path)
        .header("If-None-Match", "\"something-else\"")
        .send()
        .await;
    assert_eq!(res.status, 200);

    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .header("If-Match", &etag)
        .body(
            "application/merge-patch+json",
            r#"{"short_name": "市体育局"}"#,
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let new_etag = res.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    assert_eq!(res.json()["short_name"], "市体育局");

    // The old tag is stale now: nothing changes.
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .header("If-Match", &etag)
        .json(json!({"short_name": "体育局"}))
        .send()
        .await;
    res.problem(412);
    let res = app
        .delete(&path)
        .bearer(&app.admin)
        .header("If-Match", &etag)
        .send()
        .await;
    res.problem(412);
    assert_eq!(app.get(&path).send().await.json()["short_name"], "市体育局");

    let res = app
        .delete(&path)
        .bearer(&app.admin)
        .header("If-Match", &new_etag)
        .send()
        .await;
    assert_eq!(res.status, 204);
    app.get(&path).send().await.problem(404);
}

#[actix_web::test]
async fn merge_patch_null_removes_and_invalid_patches_change_nothing() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/v1/units")
        .bearer(&app.admin)
        .json(json!({"name": "共青团高州市委员会", "short_name": "团市委", "kind": "mass_organization"}))
        .send()
        .await;
    let path = format!("/api/v1/units/{}", res.id());

    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"short_name": null}))
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["short_name"], serde_json::Value::Null);
    assert_eq!(res.json()["name"], "共青团高州市委员会");

    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"name": null}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["name"]);
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"id": "x"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["id"]);
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!(["not", "an", "object"]))
        .send()
        .await;
    res.problem(422);
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"name": "   "}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["name"]);
    assert_eq!(
        app.get(&path).send().await.json()["name"],
        "共青团高州市委员会"
    );
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let res = app
        .get("/api/v1/units")
        .header("X-Request-Id", "abc-123")
        .send()
        .await;
    assert_eq!(res.header("x-request-id").as_deref(), Some("abc-123"));
    let first = app
        .get("/api/v1/units")
        .send()
        .await
        .header("x-request-id")
        .unwrap();
    let second = app
        .get("/api/v1/units")
        .send()
        .await
        .header("x-request-id")
        .unwrap();
    assert!(first.len() >= 16 && second.len() >= 16);
    assert_ne!(first, second);
    // Ids that could forge log lines are replaced.
    let res = app
        .get("/api/v1/units")
        .header("X-Request-Id", "a b\tc")
        .send()
        .await;
    assert_ne!(res.header("x-request-id").as_deref(), Some("a b\tc"));
    // Problems carry it too.
    let res = app
        .get("/api/v1/nowhere")
        .header("X-Request-Id", "trace-9")
        .send()
        .await;
    assert_eq!(res.header("x-request-id").as_deref(), Some("trace-9"));
}

#[actix_web::test]
async fn unique_clashes_are_409_naming_the_field() {
    let app = TestApp::spawn().await;
    app.unit("高州市妇女联合会").await;
    let res = app
        .post("/api/v1/units")
        .bearer(&app.admin)
        .json(json!({"name": "高州市妇女联合会", "kind": "mass_organization"}))
        .send()
        .await;
    let p = res.problem(409);
    assert_eq!(p["errors"][0]["field"], "name");

    app.campaign("gaozhou-2014").await;
    let res = app
        .post("/api/v1/campaigns")
        .bearer(&app.admin)
        .json(json!({"slug": "gaozhou-2014", "name": "又一个", "starts_on": "2015-10-19", "ends_on": "2015-10-25"}))
        .send()
        .await;
    assert_eq!(res.problem(409)["errors"][0]["field"], "slug");
}

#[actix_web::test]
async fn database_outage_is_503_with_retry_after() {
    // A pool pointing at a port where nothing listens stands in for a database that is down.
    let db = crate::common::fresh_database().await;
    let mut config = crate::common::test_config("postgres://postgres@127.0.0.1:1/nothing");
    config.pool_size = 2;
    let url = config.database_url.clone().unwrap();
    let pool = learnweek::db::build_pool(&url, 2).unwrap();
    let data = learnweek::router::AppData::new(
        learnweek::state::AppState::new(pool, crate::common::JWT_SECRET, config).unwrap(),
    );
    let app = actix_web::test::init_service(learnweek::router::build_app(data)).await;
    for path in ["/readyz", "/api/v1/units", "/api/v1/campaigns"] {
        let res = actix_web::test::call_service(
            &app,
            actix_web::test::TestRequest::get().uri(path).to_request(),
        )
        .await;
        assert_eq!(res.status().as_u16(), 503, "{path}");
        assert!(res.headers().contains_key("retry-after"));
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/problem+json"
        );
    }
    drop(db);
}

#[actix_web::test]
async fn other_methods_on_known_paths_are_405_with_allow() {
    let app = TestApp::spawn().await;
    let res = app
        .req(actix_web::http::Method::PUT, "/api/v1/units")
        .bearer(&app.admin)
        .send()
        .await;
    res.problem(405);
    assert_eq!(res.header("allow").as_deref(), Some("GET, POST"));
    let res = app
        .req(
            actix_web::http::Method::POST,
            &format!("/api/v1/units/{}", uuid::Uuid::now_v7()),
        )
        .send()
        .await;
    res.problem(405);
    assert_eq!(res.header("allow").as_deref(), Some("GET, PATCH, DELETE"));
    app.req(actix_web::http::Method::POST, "/api/v1/nowhere")
        .send()
        .await
        .problem(404);
}

#[actix_web::test]
async fn nul_characters_are_a_422_not_a_500() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/v1/auth/token")
        .json(json!({"username": "a\u{0}b", "password": "whatever-whatever"}))
        .send()
        .await;
    res.problem(422);
    let res = app.get("/api/v1/units?q=%00").send().await;
    res.problem(422);
}

#[actix_web::test]
async fn dates_the_database_cannot_hold_are_422_not_500() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let host = app.unit("高州市教育局").await;
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(json!({"campaign_id": c["id"], "title": "开幕式", "kind": "opening_ceremony", "host_unit_id": host,
                     "starts_at": "9999-10-19T01:00:00Z", "ends_at": "9999-10-19T02:00:00Z"}))
        .send()
        .await;
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, ["ends_at", "starts_at"]);
    let res = app
        .get("/api/v1/units?updated_since=-10000-01-01T00:00:00Z")
        .send()
        .await;
    assert!(
        res.status == 400 || res.status == 422,
        "{} {}",
        res.status,
        res.text()
    );
}
