use serde_json::{Value, json};

use crate::common::TestApp;

#[actix_web::test]
async fn units_crud_with_filters() {
    let app = TestApp::spawn().await;
    for (name, short, kind) in [
        ("高州市教育局", "市教育局", "government_department"),
        ("高州市妇女联合会", "市妇联", "mass_organization"),
        ("高州市电视台", "市电视台", "media"),
        ("高州市职业技术学校", "职校", "school"),
    ] {
        let res = app
            .post("/api/v1/units")
            .bearer(&app.admin)
            .json(json!({"name": name, "short_name": short, "kind": kind}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        assert_eq!(res.json()["name"], name);
    }
    let names = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(app.get("/api/v1/units?kind=media").send().await.json()),
        ["高州市电视台"]
    );
    // 妇联 matches the short name.
    assert_eq!(
        names(
            app.get("/api/v1/units?q=%E5%A6%87%E8%81%94")
                .send()
                .await
                .json()
        ),
        ["高州市妇女联合会"]
    );
    assert_eq!(
        names(app.get("/api/v1/units?limit=200").send().await.json()).len(),
        4
    );
    app.get("/api/v1/units?kind=castle")
        .send()
        .await
        .problem(400);
}

#[actix_web::test]
async fn every_write_is_audited_with_before_and_after() {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use learnweek::schema::{audit_log, changes};

    let app = TestApp::spawn().await;
    let id = app.unit("高州市总工会").await;
    let path = format!("/api/v1/units/{id}");
    app.patch(&path)
        .bearer(&app.admin)
        .json(json!({"short_name": "市总工会"}))
        .send()
        .await;
    app.delete(&path).bearer(&app.admin).send().await;
    // A failed write leaves no trace.
    app.patch(&path)
        .bearer(&app.admin)
        .json(json!({"short_name": "x"}))
        .send()
        .await
        .problem(404);

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
