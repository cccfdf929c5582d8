//! `/api/v1/units`: the member units, and the audit trail every write leaves.

use serde_json::{Value, json};

use crate::common::{Method, TestApp, UnitBuilder, pluck};

#[actix_web::test]
async fn units_crud_with_filters() {
    let app = TestApp::spawn().await;
    for (name, short, kind) in [
        ("高州市教育局", "市教育局", "government_department"),
        ("高州市妇女联合会", "市妇联", "mass_organization"),
        ("高州市电视台", "市电视台", "media"),
        ("高州市职业技术学校", "职校", "school"),
    ] {
        let unit = UnitBuilder::new(name).short_name(short).kind(kind);
        assert_eq!(unit.insert(&app).await["name"], name);
    }
    let app = &app;
    let names = |query: &'static str| async move {
        pluck(
            &app.read(&format!("/api/v1/units?{query}"), None).await,
            "name",
        )
    };
    assert_eq!(names("kind=media").await, ["高州市电视台"]);
    // 妇联 matches the short name.
    assert_eq!(names("q=%E5%A6%87%E8%81%94").await, ["高州市妇女联合会"]);
    assert_eq!(names("limit=200").await.len(), 4);
    app.get_problem("/api/v1/units?kind=castle", 400).await;
}

#[actix_web::test]
async fn every_write_is_audited_with_before_and_after() {
    use crate::common::schema::{audit_log, changes};
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;

    let app = TestApp::spawn().await;
    let id = app.unit("高州市总工会").await;
    let path = format!("/api/v1/units/{id}");
    let short_name = json!({"short_name": "市总工会"});
    app.expect(200, &app.admin, vec![(Method::PATCH, &path, short_name)])
        .await;
    app.expect(204, &app.admin, vec![(Method::DELETE, &path, Value::Null)])
        .await;
    // A failed write leaves no trace.
    let failed = (Method::PATCH, path.as_str(), json!({"short_name": "x"}));
    app.expect(404, &app.admin, vec![failed]).await;

    let mut conn = app.conn().await;
    let rows: Vec<(String, String, Option<Value>, Option<Value>)> = audit_log::table
        .filter(audit_log::entity_id.eq(id))
        .order(audit_log::id)
        .select((
            audit_log::op,
            audit_log::actor_role,
            audit_log::before,
            audit_log::after,
        ))
        .load(&mut conn)
        .await
        .unwrap();
    let ops: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(ops, ["create", "update", "delete"]);
    assert!(rows.iter().all(|r| r.1 == "admin"));
    assert_eq!(rows[1].2.as_ref().unwrap()["short_name"], Value::Null);
    assert_eq!(rows[1].3.as_ref().unwrap()["short_name"], "市总工会");
    assert!(rows[2].3.is_none());

    let feed: Vec<(String, String)> = changes::table
        .filter(changes::entity_id.eq(id))
        .order(changes::seq)
        .select((changes::type_, changes::op))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        feed,
        [
            ("unit".to_string(), "upsert".to_string()),
            ("unit".into(), "upsert".into()),
            ("unit".into(), "delete".into())
        ]
    );
}
