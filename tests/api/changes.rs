//! The change feed: commit order, deletions, nothing skipped under concurrent writers.

use std::cell::RefCell;
use std::collections::HashSet;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::common::{Method, Role, TestApp};

async fn page(app: &TestApp, token: &str, since: Option<&str>) -> Value {
    let path = match since {
        Some(c) => format!("/api/v1/changes?limit=200&since={c}"),
        None => "/api/v1/changes?limit=200".to_string(),
    };
    let res = app.get(&path).bearer(token).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

#[actix_web::test]
async fn changes_list_upserts_and_deletes_in_order() {
    let app = TestApp::spawn().await;
    let viewer_unit = app.unit("高州市电视台").await;
    let viewer = app.token(Role::Viewer, Some(viewer_unit)).await;
    let start = page(&app, &viewer, None).await["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();

    let id = app.unit("高州市文化局").await;
    app.patch(&format!("/api/v1/units/{id}"))
        .admin()
        .json(json!({"short_name": "市文化局"}))
        .send()
        .await;
    app.delete(&format!("/api/v1/units/{id}"))
        .admin()
        .send()
        .await;

    let p = page(&app, &viewer, Some(&start)).await;
    let items = p["items"].as_array().unwrap();
    let ops: Vec<(&str, &str)> = items
        .iter()
        .map(|c| (c["type"].as_str().unwrap(), c["op"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ops,
        [("unit", "upsert"), ("unit", "upsert"), ("unit", "delete")]
    );
    assert!(items.iter().all(|c| c["id"] == id.to_string()));
    assert_eq!(p["next_cursor"], items[2]["cursor"]);

    // A full page links to the next one, with the same query and `since` moved on; the last
    // page has no link.
    let path = format!("/api/v1/changes?since={start}&limit=2");
    let first = app.get(&path).bearer(&viewer).send().await;
    let next = format!(
        "</api/v1/changes?limit=2&since={}>; rel=\"next\"",
        first.json()["next_cursor"].as_str().unwrap()
    );
    assert_eq!(first.header("link"), Some(next));
    let path = format!("/api/v1/changes?since={start}&limit=3");
    let whole = app.get(&path).bearer(&viewer).send().await;
    assert_eq!(whole.json()["items"].as_array().unwrap().len(), 3);
    assert_eq!(whole.header("link"), None);

    // Nothing new: an empty page that keeps the position.
    let again = page(&app, &viewer, p["next_cursor"].as_str()).await;
    assert_eq!(again["items"], json!([]));
    assert_eq!(again["next_cursor"], p["next_cursor"]);

    // Filters and errors.
    let res = app
        .get(&format!("/api/v1/changes?since={start}&type=campaign"))
        .bearer(&viewer)
        .send()
        .await;
    assert_eq!(res.json()["items"], json!([]));
    let res = app
        .get("/api/v1/changes?type=token")
        .bearer(&viewer)
        .send()
        .await;
    assert_eq!(
        res.error_fields(),
        ["type"],
        "credential changes are for admins"
    );
    assert_eq!(
        app.get("/api/v1/changes?type=token")
            .admin()
            .send()
            .await
            .status,
        200
    );
    app.get("/api/v1/changes?since=nonsense")
        .bearer(&viewer)
        .send()
        .await
        .problem(400);
    app.get("/api/v1/changes").send().await.problem(401);
}

#[actix_web::test]
async fn a_reader_polling_during_concurrent_writes_sees_every_change_once_in_order() {
    let app = TestApp::spawn_with(|c| c.pool_size = 16).await;
    let reader_token = app
        .token(Role::Viewer, Some(app.unit("读者单位").await))
        .await;
    let start = page(&app, &reader_token, None).await["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();

    let done = RefCell::new(false);
    let writers = async {
        // 8 writers, each creating and updating units as fast as it can, all at once.
        let writer = |w: usize| {
            let app = &app;
            async move {
                for i in 0..15 {
                    let id = app.unit(&format!("并发单位{w}-{i}")).await;
                    let request = (
                        Method::PATCH,
                        &*format!("/api/v1/units/{id}"),
                        json!({"short_name": format!("{w}-{i}")}),
                    );
                    app.expect(200, &app.admin, vec![request]).await;
                }
            }
        };
        join_all((0..8).map(writer)).await;
        *done.borrow_mut() = true;
    };
    let reader = async {
        let mut seen: Vec<Value> = Vec::new();
        let mut cursor = start.clone();
        loop {
            let finished = *done.borrow();
            let p = page(&app, &reader_token, Some(&cursor)).await;
            seen.extend(p["items"].as_array().unwrap().iter().cloned());
            cursor = p["next_cursor"].as_str().unwrap().to_string();
            if finished && p["items"].as_array().unwrap().is_empty() {
                return seen;
            }
        }
    };
    let ((), seen) = futures_util::future::join(writers, reader).await;

    // What the reader saw while polling is exactly what a reader sees afterwards, in one go.
    let mut all = Vec::new();
    let mut cursor = start;
    loop {
        let p = page(&app, &reader_token, Some(&cursor)).await;
        let items = p["items"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        cursor = p["next_cursor"].as_str().unwrap().to_string();
        all.extend(items);
    }
    assert_eq!(all.len(), 8 * 15 * 2);
    assert_eq!(
        seen, all,
        "the polling reader missed, repeated or reordered changes"
    );
    let cursors: HashSet<&str> = seen.iter().map(|c| c["cursor"].as_str().unwrap()).collect();
    assert_eq!(cursors.len(), seen.len());
    // Per unit: created before updated.
    let mut created = HashSet::new();
    for c in &seen {
        let id = c["id"].as_str().unwrap();
        if !created.insert(id) {
            continue;
        }
        let first = seen.iter().find(|x| x["id"] == c["id"]).unwrap();
        assert_eq!(first, c);
    }
}
