//! The HTTP details every resource shares, exercised through units: keyset pages with Link
//! headers, the range of `limit`, ETags with If-None-Match and If-Match, merge patches, and
//! request ids.

use serde_json::{Value, json};

use crate::common::{Method, TestApp, pluck};

#[actix_web::test]
async fn lists_page_with_keyset_cursors_and_link_headers() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.unit(&format!("成员单位{i}")).await;
    }
    let first = app.get("/api/v1/units?limit=2").send().await;
    let page = first.ok(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let link = first.header("link").unwrap();
    let names_the_next_page =
        link.contains("rel=\"next\"") && link.contains("limit=2") && link.contains(&cursor);
    assert!(names_the_next_page, "{link}");

    // A row inserted while paging does not shift the pages (keyset, not offset).
    app.unit("后来的单位").await;

    let mut seen = pluck(&page, "name");
    let mut next = Some(cursor);
    while let Some(c) = next {
        let res = app
            .get(&format!("/api/v1/units?limit=2&cursor={c}"))
            .send()
            .await;
        let page = res.ok(200);
        seen.extend(pluck(&page, "name"));
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
    for garbage in ["limit=abc", "cursor=garbage", "updated_since=yesterday"] {
        let res = app.get(&format!("/api/v1/units?{garbage}")).send().await;
        res.problem(400);
    }
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

    let if_none_match = |tag: &str| app.get(&path).header("If-None-Match", tag).send();
    let res = if_none_match(&etag).await;
    assert_eq!(res.status, 304);
    assert!(res.body.is_empty());
    assert_eq!(if_none_match("\"something-else\"").await.status, 200);

    let patch = |tag: &str, body: Value| {
        let req = app.patch(&path).admin().header("If-Match", tag);
        req.merge_patch(body).send()
    };
    let res = patch(&etag, json!({"short_name": "市体育局"})).await;
    assert_eq!(res.ok(200)["short_name"], "市体育局");
    let new_etag = res.header("etag").unwrap();
    assert_ne!(new_etag, etag);

    // The old tag is stale now: nothing changes.
    patch(&etag, json!({"short_name": "体育局"}))
        .await
        .problem(412);
    let delete = |tag: &str| app.delete(&path).admin().header("If-Match", tag).send();
    delete(&etag).await.problem(412);
    assert_eq!(app.get(&path).send().await.json()["short_name"], "市体育局");

    assert_eq!(delete(&new_etag).await.status, 204);
    app.get(&path).send().await.problem(404);
}

#[actix_web::test]
async fn merge_patch_null_removes_and_invalid_patches_change_nothing() {
    let app = TestApp::spawn().await;
    let unit =
        json!({"name": "共青团高州市委员会", "short_name": "团市委", "kind": "mass_organization"});
    let created = app.create("/api/v1/units", &app.admin, unit).await;
    let path = format!("/api/v1/units/{}", created["id"].as_str().unwrap());

    let res = app
        .call(
            Method::PATCH,
            &path,
            &app.admin,
            json!({"short_name": null}),
        )
        .await;
    let unit = res.ok(200);
    assert_eq!(unit["short_name"], Value::Null);
    assert_eq!(unit["name"], "共青团高州市委员会");

    let cases = vec![
        (json!({"name": null}), "name"),
        (json!({"id": "x"}), "id"),
        (json!({"name": "   "}), "name"),
    ];
    app.expect_invalid(Method::PATCH, &path, &app.admin, cases)
        .await;
    let not_an_object = json!(["not", "an", "object"]);
    let res = app
        .call(Method::PATCH, &path, &app.admin, not_an_object)
        .await;
    res.problem(422);
    let name = app.get(&path).send().await.json()["name"].clone();
    assert_eq!(name, "共青团高州市委员会");
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let request_id = |path: &'static str, sent: Option<&'static str>| {
        let mut req = app.get(path);
        if let Some(id) = sent {
            req = req.header("X-Request-Id", id);
        }
        async move { req.send().await.header("x-request-id") }
    };
    let echoed = request_id("/api/v1/units", Some("abc-123")).await;
    assert_eq!(echoed.as_deref(), Some("abc-123"));
    let first = request_id("/api/v1/units", None).await.unwrap();
    let second = request_id("/api/v1/units", None).await.unwrap();
    assert!(first.len() >= 16 && second.len() >= 16);
    assert_ne!(first, second);
    // Ids that could forge log lines are replaced.
    let forged = request_id("/api/v1/units", Some("a b\tc")).await;
    assert_ne!(forged.as_deref(), Some("a b\tc"));
    // Problems carry it too.
    let problem = request_id("/api/v1/nowhere", Some("trace-9")).await;
    assert_eq!(problem.as_deref(), Some("trace-9"));
}
