//! Health, readiness, the OpenAPI document and Swagger UI.

use crate::common::TestApp;

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz").send().await;
    assert_eq!(res.status, 200);
    let res = app.get("/readyz").send().await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[actix_web::test]
async fn readiness_needs_the_migrations() {
    let db = crate::common::empty_database().await;
    let config = crate::common::test_config(&db.url());
    let pool = learnweek::db::build_pool(&db.url(), 2).unwrap();
    let state = actix_web::web::Data::new(
        learnweek::app::AppState::new(pool, crate::common::JWT_SECRET, config).unwrap(),
    );
    let app = actix_web::test::init_service(learnweek::app::build_app(state)).await;
    let req = actix_web::test::TestRequest::get()
        .uri("/readyz")
        .to_request();
    assert_eq!(
        actix_web::test::call_service(&app, req)
            .await
            .status()
            .as_u16(),
        503
    );
    learnweek::db::migrate(&db.url()).await.unwrap();
    let req = actix_web::test::TestRequest::get()
        .uri("/readyz")
        .to_request();
    assert_eq!(
        actix_web::test::call_service(&app, req)
            .await
            .status()
            .as_u16(),
        200
    );
}

#[actix_web::test]
async fn the_committed_spec_is_the_generated_one() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed");
    let generated = learnweek::openapi::json();
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
    let doc: serde_json::Value = serde_json::from_str(learnweek::openapi::json()).unwrap();
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
