//! Outcome counts: employed after ≤ completed ≤ enrolled ≤ capacity, and reporters who may
//! fill in the counts of their own unit's trainings and nothing else.

use serde_json::{Value, json};

use super::*;
use crate::common::{Method, Role, gaozhou_week};

#[actix_web::test]
async fn counts_must_satisfy_employed_after_le_completed_le_enrolled_le_capacity() {
    let (app, cid, [renshe]) = gaozhou_week(["高州市人力资源和社会保障局"]).await;
    let counts = |capacity: Value, enrolled: i64, completed: i64, employed: i64| {
        computer_course(&cid, renshe)
            .capacity(capacity)
            .outcomes(enrolled, completed, employed)
    };
    let cases = vec![
        (
            counts(json!(50), 60, 70, 80).json(),
            "completed employed_after enrolled",
        ),
        (counts(json!(100), 90, 80, 81).json(), "employed_after"),
        (counts(json!(100), 90, 91, 0).json(), "completed"),
        (counts(json!(100), 101, 0, 0).json(), "enrolled"),
        (counts(json!(-1), -1, 0, 0).json(), "capacity enrolled"),
    ];
    app.expect_invalid(Method::POST, "/api/v1/trainings", &app.admin, cases)
        .await;
    assert!(list(&app, Some(&app.admin), &[]).await.is_empty());

    // Equal counts are fine, and without a capacity enrolled is unbounded.
    let t = counts(json!(100), 100, 100, 100).insert(&app).await;
    assert_eq!(t["employed_after"], 100);
    let t = counts(Value::Null, 560, 520, 300).insert(&app).await;
    assert_eq!(t["enrolled"], 560);
    assert_eq!(t["capacity"], Value::Null);

    // A patch is checked against the merged counts.
    let path = format!("/api/v1/trainings/{}", id_of(&t));
    let cases = vec![
        (json!({"employed_after": 521}), "employed_after"),
        (json!({"capacity": 500}), "enrolled"),
        (json!({"enrolled": 519}), "completed"),
    ];
    app.expect_invalid(Method::PATCH, &path, &app.admin, cases)
        .await;
    let now = app.get(&path).send().await.json();
    assert_eq!(outcomes(&now), (json!(560), json!(520), json!(300)));
}

#[actix_web::test]
async fn reporters_may_patch_only_outcome_counts_of_their_unit() {
    let units = ["高州市人力资源和社会保障局", "高州市妇女联合会"];
    let (app, cid, [renshe, fulian]) = gaozhou_week(units).await;
    let t = computer_course(&cid, renshe).outcomes(0, 0, 0);
    let path = format!("/api/v1/trainings/{}", id_of(&t.insert(&app).await));
    let reporter = app.token(Role::Reporter, Some(renshe)).await;

    let counts = json!({"enrolled": 92, "completed": 86, "employed_after": 52});
    let res = app.call(Method::PATCH, &path, &reporter, counts).await;
    assert_eq!(res.ok(200)["employed_after"], 52);
    // The counts are still checked for a reporter.
    let too_many = vec![(json!({"completed": 93}), "completed")];
    app.expect_invalid(Method::PATCH, &path, &reporter, too_many)
        .await;

    // Any other field, even alongside the counts, is not the reporter's to change; nor may a
    // reporter create or delete trainings.
    let patch = |body: Value| (Method::PATCH, path.as_str(), body);
    let refused = vec![
        patch(json!({"title": "电脑培训"})),
        patch(json!({"enrolled": 95, "capacity": 120})),
        patch(json!({"status": "completed"})),
        patch(json!({"provider_unit_id": fulian})),
        (
            Method::POST,
            "/api/v1/trainings",
            computer_course(&cid, renshe).json(),
        ),
        (Method::DELETE, path.as_str(), Value::Null),
    ];
    app.expect(403, &reporter, refused).await;
    // Nor touch another unit's counts, nor may a viewer.
    let other_reporter = app.token(Role::Reporter, Some(fulian)).await;
    let viewer = app.token(Role::Viewer, Some(renshe)).await;
    for token in [&other_reporter, &viewer] {
        app.expect(403, token, vec![patch(json!({"enrolled": 99}))])
            .await;
    }

    let now = app.get(&path).send().await.json();
    assert_eq!(now["title"], "免费电脑操作与办公应用培训班");
    assert_eq!(now["capacity"], 100);
    assert_eq!(now["status"], "published");
    assert_eq!(now["provider_unit_id"], renshe.to_string());
    assert_eq!(outcomes(&now), (json!(92), json!(86), json!(52)));
}
