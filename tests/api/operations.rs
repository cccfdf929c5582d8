//! Health, readiness, the OpenAPI document and Swagger UI.

use actix_web::http::Method;

use crate::common::TestApp;

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz").send().await;
    assert_eq!(res.status, 200);
    let res = app.get("/readyz").send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let ready = res.json();
    assert_eq!(ready["primary"], "ok");
    assert_eq!(ready["replica"], "none", "no DATABASE_READ_URL");
}

#[actix_web::test]
async fn readiness_needs_the_migrations() {
    let db = crate::common::empty_database().await;
    let config = crate::common::test_config(&db.url());
    let url = db.url();
    let app = TestApp::serve_without_token(db, config).await;
    assert_eq!(app.get("/readyz").send().await.status, 503);
    crate::common::migrate(&url).await.unwrap();
    // Readiness is checked at most once a second, however often it is polled.
    crate::common::eventually(
        std::time::Duration::from_secs(5),
        "ready once migrated",
        || async { app.get("/readyz").send().await.status == 200 },
    )
    .await;
}

#[actix_web::test]
async fn the_committed_spec_is_the_generated_one() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed");
    let generated = crate::common::openapi_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
    let app = TestApp::spawn().await;
    let served = app.get("/api-docs/openapi.json").send().await;
    assert_eq!(served.status, 200);
    assert_eq!(served.text(), generated);
    let doc = served.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[actix_web::test]
async fn every_operation_documents_its_errors_and_who_may_call_it() {
    let doc: serde_json::Value = serde_json::from_str(crate::common::openapi_json()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("503"), "{method} {path}: no 503");
            assert!(op["security"].is_array(), "{method} {path}: no security");
            if path.starts_with("/api/v1") {
                let description = op["description"].as_str().unwrap_or_default();
                assert!(
                    description.contains("Roles:"),
                    "{method} {path}: says nothing about roles"
                );
            }
            if method != "get" {
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
            }
        }
    }
}

#[actix_web::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let res = app.get("/swagger-ui/").send().await;
    assert_eq!(res.status, 200);
    assert!(res.text().contains("swagger"), "{}", res.text());
    let res = app.get("/swagger-ui/swagger-initializer.js").send().await;
    assert_eq!(res.status, 200);
    assert!(res.text().contains("/api-docs/openapi.json"));
}

#[actix_web::test]
async fn security_headers_on_every_response_and_a_csp_on_swagger_ui() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/units", "/api/v1/nowhere", "/healthz"] {
        let res = app.get(path).send().await;
        assert_eq!(
            res.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            res.header("referrer-policy").as_deref(),
            Some("no-referrer"),
            "{path}"
        );
        assert!(
            res.header("content-security-policy")
                .unwrap()
                .contains("default-src 'none'"),
            "{path}"
        );
    }
    let res = app.get("/swagger-ui/").send().await;
    assert_eq!(res.status, 200);
    let csp = res.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
}

#[actix_web::test]
async fn cors_allows_the_configured_origins_only() {
    let app = TestApp::spawn().await; // test config allows https://frontend.example
    let res = app
        .req(actix_web::http::Method::OPTIONS, "/api/v1/events")
        .header("Origin", "https://frontend.example")
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization, if-match, idempotency-key",
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("https://frontend.example")
    );
    let methods = res.header("access-control-allow-methods").unwrap();
    assert!(methods.contains("PATCH"), "{methods}");
    let headers = res
        .header("access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    assert!(
        headers.contains("if-match") && headers.contains("idempotency-key"),
        "{headers}"
    );

    let res = app
        .get("/api/v1/units")
        .header("Origin", "https://frontend.example")
        .send()
        .await;
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("https://frontend.example")
    );
    assert!(
        res.header("access-control-expose-headers")
            .unwrap()
            .to_lowercase()
            .contains("etag")
    );

    let res = app
        .get("/api/v1/units")
        .header("Origin", "https://evil.example")
        .send()
        .await;
    assert!(res.header("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn rate_limits_per_token_with_headers_and_429() {
    let app = TestApp::spawn_with(|c| c.rate_limit_per_minute = 5).await;
    let other = app.token(crate::common::Role::Admin, None).await;
    for i in 0..5 {
        let res = app.get("/api/v1/units").admin().send().await;
        assert_eq!(res.status, 200, "request {i}");
        assert_eq!(res.header("ratelimit-limit").as_deref(), Some("5"));
        assert_eq!(
            res.header("ratelimit-remaining").unwrap(),
            (4 - i).to_string()
        );
    }
    let res = app.get("/api/v1/units").admin().send().await;
    res.problem(429);
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(res.header("ratelimit-remaining").as_deref(), Some("0"));
    // Another token has its own budget; health checks are never limited.
    assert_eq!(
        app.get("/api/v1/units").bearer(&other).send().await.status,
        200
    );
    assert_eq!(app.get("/readyz").admin().send().await.status, 200);
    // Anonymous callers are limited per client address.
    for _ in 0..5 {
        assert_eq!(app.get("/api/v1/campaigns").send().await.status, 200);
    }
    app.get("/api/v1/campaigns").send().await.problem(429);
}

#[actix_web::test]
async fn metrics_in_prometheus_text() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/units").send().await;
    app.get(&format!("/api/v1/units/{}", uuid::Uuid::now_v7()))
        .send()
        .await;
    // Only for token holders (or on LEARNWEEK_METRICS_BIND, see program.rs).
    app.get("/metrics").send().await.problem(401);
    let res = app.get("/metrics").admin().send().await;
    assert_eq!(res.status, 200);
    let text = res.text();
    assert!(
        text.contains(
            r#"learnweek_http_requests_total{method="GET",route="/api/v1/units",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/units/{id}",status="404""#),
        "{text}"
    );
    assert!(text.contains("learnweek_http_request_duration_seconds_bucket"));
    assert!(
        text.contains(r#"learnweek_db_pool_connections{state="max"} 8"#),
        "{text}"
    );
    assert!(text.contains("learnweek_webhook_backlog 0"), "{text}");
}

/// The middlewares (idempotency, rate limits, metrics) find a request's route by its path
/// alone: every operation must be found as itself, not as another pattern registered earlier
/// that also fits its path (`/tallies/{id}` before `/tallies/batch`).
#[actix_web::test]
async fn every_operation_is_found_by_its_own_route() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = serde_json::from_str(crate::common::openapi_json()).unwrap();
    let mut expected = Vec::new();
    for (pattern, item) in doc["paths"].as_object().unwrap() {
        let path: Vec<String> = pattern
            .split('/')
            .map(|segment| match segment.starts_with('{') {
                true => uuid::Uuid::now_v7().to_string(),
                false => segment.to_string(),
            })
            .collect();
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            app.req(method.clone(), &path.join("/")).send().await;
            expected.push(format!(r#"method="{method}",route="{pattern}""#));
        }
    }
    let metrics = app.get("/metrics").admin().send().await.text();
    for label in expected {
        assert!(metrics.contains(&label), "not counted as {label}");
    }
}

#[actix_web::test]
async fn made_up_tokens_do_not_buy_fresh_rate_limit_budgets() {
    let app = TestApp::spawn_with(|c| c.rate_limit_per_minute = 5).await;
    for i in 0..5 {
        let res = app
            .get("/api/v1/units")
            .bearer(&format!("made.up.token{i}"))
            .send()
            .await;
        assert_eq!(res.status, 401);
    }
    let res = app
        .get("/api/v1/units")
        .bearer("made.up.token-6")
        .send()
        .await;
    res.problem(429);
    // A genuine token has its own budget.
    assert_eq!(app.get("/api/v1/units").admin().send().await.status, 200);
}

/// What client generators need (API.md v1.1): unique camelCase operationIds, a description
/// on every response, an SPDX license, no unused components, and request schemas that say
/// what they can. (CI also runs redocly's recommended rules and openapi-typescript + tsc.)
#[test]
fn the_spec_is_fit_for_client_generators() {
    let text = crate::common::openapi_json();
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(doc["info"]["license"]["identifier"], "MIT");
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            let verb = [
                "list",
                "get",
                "create",
                "update",
                "delete",
                "upsert",
                "import",
                "batchUpsert",
                "put",
                "refresh",
                "revoke",
            ]
            .iter()
            .find(|v| {
                id.starts_with(*v) && id[v.len()..].starts_with(|c: char| c.is_ascii_uppercase())
            });
            assert!(
                verb.is_some() && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{method} {path}: `{id}` is not a camelCase verb + resource"
            );
            assert!(ids.insert(id.to_string()), "operationId `{id}` repeats");
            for (status, response) in op["responses"].as_object().unwrap() {
                let described = response.get("$ref").is_some()
                    || response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty());
                assert!(described, "{method} {path} {status}: no description");
            }
        }
    }
    for expected in [
        "listEvents",
        "getEvent",
        "createEvent",
        "updateEvent",
        "deleteEvent",
        "upsertTally",
        "importTallies",
        "getCampaignSummary",
        "listCommitteeMembers",
        "listCommitteeBodies",
        "refreshAccessToken",
    ] {
        assert!(ids.contains(expected), "no operation `{expected}`");
    }
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        let reference = format!("\"#/components/schemas/{name}\"");
        assert!(text.contains(&reference), "component {name} is never used");
    }
    for name in doc["components"]["responses"].as_object().unwrap().keys() {
        let reference = format!("\"#/components/responses/{name}\"");
        assert!(text.contains(&reference), "response {name} is never used");
    }
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["TallyInput"]["oneOf"].as_array().unwrap().len(), 4);
    assert!(schemas["CampaignInput"]["properties"]["slug"]["pattern"].is_string());
    assert!(schemas["EventInput"]["properties"]["title"]["pattern"].is_string());
    assert_eq!(schemas["EventInput"]["properties"]["title"]["minLength"], 1);
    assert_eq!(
        schemas["Page_Event"]["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/Event"
    );
}
