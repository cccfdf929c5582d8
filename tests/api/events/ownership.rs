//! Who may write an event: the admin, and the editor of its host unit (of every row a delete
//! touches, too).

use serde_json::{Value, json};

use super::*;
use crate::common::{Method, Role, gaozhou_week, id_of};

#[actix_web::test]
async fn editors_write_only_their_own_units_events() {
    let (app, cid, [fulian, wenhua]) = gaozhou_week(["高州市妇女联合会", "高州市文化局"]).await;
    let fulian_editor = app.token(Role::Editor, Some(fulian)).await;
    let wenhua_editor = app.token(Role::Editor, Some(wenhua)).await;
    let low_carbon = || EventBuilder::low_carbon(&cid, fulian).json();

    // Create: only for its own unit.
    let e = EventBuilder::low_carbon(&cid, fulian)
        .create(&app, &fulian_editor)
        .await;
    let events = "/api/v1/events";
    app.expect(
        403,
        &wenhua_editor,
        vec![(Method::POST, events, low_carbon())],
    )
    .await;
    for role in [Role::Reporter, Role::Viewer] {
        let token = app.token(role, Some(fulian)).await;
        app.expect(403, &token, vec![(Method::POST, events, low_carbon())])
            .await;
    }
    app.post(events)
        .json(low_carbon())
        .send()
        .await
        .problem(401);

    let path = format!("/api/v1/events/{}", id_of(&e));
    let rename = || (Method::PATCH, path.as_str(), json!({"title": "南国书香节"}));
    // Another unit's editor may neither change nor delete it.
    let delete = (Method::DELETE, path.as_str(), Value::Null);
    app.expect(403, &wenhua_editor, vec![rename(), delete.clone()])
        .await;
    // Being a co-organizer does not make it yours.
    let co_organizer = json!({"co_organizer_unit_ids": [wenhua]});
    let add = (Method::PATCH, path.as_str(), co_organizer);
    app.expect(200, &fulian_editor, vec![add]).await;
    app.expect(403, &wenhua_editor, vec![rename()]).await;
    // The owner cannot hand it to another unit.
    let hand_over = (
        Method::PATCH,
        path.as_str(),
        json!({"host_unit_id": wenhua}),
    );
    app.expect(403, &fulian_editor, vec![hand_over]).await;
    let viewer = app.token(Role::Viewer, Some(fulian)).await;
    let retitle = (Method::PATCH, path.as_str(), json!({"title": "x"}));
    app.expect(403, &viewer, vec![retitle]).await;
    let now = app.get(&path).send().await.json();
    assert_eq!(now["title"], "低碳生活进家庭");
    assert_eq!(now["host_unit_id"], fulian.to_string());
    let sequence = |e: &Value| e["sequence"].as_i64().unwrap();
    assert_eq!(
        sequence(&now),
        sequence(&e) + 1,
        "only the owner's change landed"
    );

    // The owner may change and delete it; the admin may move it.
    let more = (
        Method::PATCH,
        path.as_str(),
        json!({"expected_participants": 350}),
    );
    app.expect(200, &fulian_editor, vec![more]).await;
    let moved = json!({"host_unit_id": wenhua, "co_organizer_unit_ids": [fulian]});
    app.expect(200, &app.admin, vec![(Method::PATCH, &path, moved)])
        .await;
    app.expect(403, &fulian_editor, vec![delete.clone()]).await;
    app.expect(204, &wenhua_editor, vec![delete]).await;
    app.get(&path).send().await.problem(404);
}

#[actix_web::test]
async fn host_editor_cannot_delete_an_event_another_units_tally_refers_to() {
    let (app, cid, [fulian, zonggonghui]) =
        gaozhou_week(["高州市妇女联合会", "高州市总工会"]).await;
    let editor = app.token(Role::Editor, Some(fulian)).await;

    let shared = EventBuilder::low_carbon(&cid, fulian)
        .create(&app, &editor)
        .await;
    let theirs = tally(&app, id_of(&shared), zonggonghui, 45).await;
    let path = format!("/api/v1/events/{}", id_of(&shared));
    let theirs = format!("/api/v1/tallies/{}", id_of(&theirs));
    app.expect(403, &editor, vec![(Method::DELETE, &path, Value::Null)])
        .await;
    assert_eq!(app.get(&path).send().await.status, 200);
    assert_eq!(app.admin_read(&theirs).await["count"], 45);

    // With only its own unit's tallies, the host editor may delete (and the tallies go too).
    let own = (
        "家庭教育讲座",
        "2014-10-20T09:00:00+08:00",
        "2014-10-20T10:00:00+08:00",
    );
    let own = event(&cid, fulian, own.0, own.1, own.2)
        .create(&app, &editor)
        .await;
    let mine = tally(&app, id_of(&own), fulian, 60).await;
    let own = format!("/api/v1/events/{}", id_of(&own));
    app.expect(204, &editor, vec![(Method::DELETE, &own, Value::Null)])
        .await;
    let mine = format!("/api/v1/tallies/{}", id_of(&mine));
    app.get(&mine).admin().send().await.problem(404);

    // The admin may delete the shared one.
    app.expect(204, &app.admin, vec![(Method::DELETE, &path, Value::Null)])
        .await;
    app.get(&theirs).admin().send().await.problem(404);
}
