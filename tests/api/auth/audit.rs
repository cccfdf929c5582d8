//! The audit log: for admins only, filterable.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::common::{Role, TestApp};

#[actix_web::test]
async fn the_audit_log_is_admin_only_and_filterable() {
    let app = TestApp::spawn().await;
    let unit = app.unit("高州市人力资源和社会保障局").await;
    app.patch(&format!("/api/v1/units/{unit}"))
        .admin()
        .json(json!({"short_name": "市人社局"}))
        .send()
        .await;
    app.campaign("gaozhou-2014").await;

    let res = app
        .get(&format!("/api/v1/audit?id={unit}"))
        .admin()
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

    let res = app.admin_read("/api/v1/audit?type=campaign").await;
    assert_eq!(res["items"].as_array().unwrap().len(), 1);
    let res = app.admin_read("/api/v1/audit?type=unit&limit=1").await;
    assert!(res["next_cursor"].is_string());
    let future =
        (Utc::now() + Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let res = app
        .admin_read(&format!("/api/v1/audit?from={future}"))
        .await;
    assert_eq!(res["items"], json!([]));

    let viewer = app.token(Role::Viewer, Some(unit)).await;
    app.get("/api/v1/audit")
        .bearer(&viewer)
        .send()
        .await
        .problem(403);
    app.get("/api/v1/audit").send().await.problem(401);
}
