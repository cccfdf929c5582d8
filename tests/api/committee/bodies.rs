//! Where a body may hang (a parent of its own campaign, no cycles) and when it may go (a leaf,
//! with its members).

use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::common::{Method, gaozhou_week, id_of};

#[actix_web::test]
async fn bodies_need_a_parent_in_the_same_campaign_and_no_cycles() {
    let (app, cid, []) = gaozhou_week([]).await;
    let oid = id_of(&app.campaign("gaozhou-2015").await).to_string();
    let k = gaozhou_committee(&app, &cid).await;

    // Validation of new bodies.
    let new = |campaign: &str| format!("/api/v1/campaigns/{campaign}/committee/bodies");
    let foreign_parent = json!({"name": "2015年领导小组办公室", "kind": "office",
                                "parent_id": k.leading["id"]});
    app.expect_invalid(
        Method::POST,
        &new(&oid),
        &app.admin,
        vec![(foreign_parent, "parent_id")],
    )
    .await;
    let cases = vec![
        (
            json!({"name": "某小组", "kind": "office", "parent_id": Uuid::now_v7()}),
            "parent_id",
        ),
        (
            json!({"name": " ", "kind": "unit_working_group", "unit_id": Uuid::now_v7()}),
            "name unit_id",
        ),
        (json!({"name": "某小组", "kind": "task_force"}), "kind"),
        (
            json!({"name": "某小组", "kind": "office", "chair": "x"}),
            "chair",
        ),
    ];
    app.expect_invalid(Method::POST, &new(&cid), &app.admin, cases)
        .await;
    let nowhere = json!({"name": "某小组", "kind": "office"});
    app.expect(
        404,
        &app.admin,
        vec![(Method::POST, &new("nowhere"), nowhere)],
    )
    .await;
    assert_eq!(tree(&app, &oid, None).await["bodies"], json!([]));

    // No cycles: leading > office > 宣传组; nor a parent from another campaign.
    let leading_path = path(&cid, "bodies", &k.leading);
    let office_path = path(&cid, "bodies", &k.office);
    let before = tree(&app, &cid, Some(&app.admin)).await;
    let foreign = CommitteeBodyBuilder::new(&oid, "2015年领导小组", "leading_group");
    let foreign = foreign.insert(&app).await;
    for (path, parent) in [
        (&leading_path, &k.publicity),
        (&leading_path, &k.leading),
        (&leading_path, &k.office),
        (&office_path, &k.publicity),
        (&office_path, &k.office),
        (&office_path, &foreign),
    ] {
        let cycle = vec![(json!({"parent_id": parent["id"]}), "parent_id")];
        app.expect_invalid(Method::PATCH, path, &app.admin, cycle)
            .await;
    }
    assert_eq!(tree(&app, &cid, Some(&app.admin)).await, before);

    // A legal move: 宣传组 goes up under the leading group; the office loses its child.
    let etag = app.get(&office_path).send().await.header("etag").unwrap();
    let up = json!({"parent_id": k.leading["id"], "name": "宣传报道组"});
    let publicity = app
        .patch(&path(&cid, "bodies", &k.publicity))
        .admin()
        .merge_patch(up);
    assert_eq!(publicity.send().await.ok(200)["parent_id"], k.leading["id"]);
    let t = tree(&app, &cid, None).await;
    let children = [
        "领导小组办公室",
        "活动周工作联络小组",
        "市妇联活动周工作领导小组",
        "宣传报道组",
    ];
    assert_eq!(names(&t["bodies"][0]["children"]), children);
    assert_eq!(t["bodies"][0]["children"][0]["children"], json!([]));
    // Making a body top-level with null; the office's tag is still current.
    let top = |tag: &str, body: Value| {
        app.patch(&office_path)
            .admin()
            .header("If-Match", tag)
            .json(body)
            .send()
    };
    top(&etag, json!({"parent_id": null})).await.ok(200);
    let t = tree(&app, &cid, None).await;
    let tops = [
        "2014年高州市全民终身学习活动周工作领导小组",
        "领导小组办公室",
    ];
    assert_eq!(names(&t["bodies"]), tops);
    assert_eq!(names(&t["bodies"][1]["members"]), ["李明"]);
    // Now the tag is stale.
    top(&etag, json!({"name": "办公室"})).await.problem(412);
    let office = app.get(&office_path).send().await.json();
    assert_eq!(office["name"], "领导小组办公室");
    // Bodies are reached through their own campaign only.
    let elsewhere = path(&oid, "bodies", &k.office);
    app.expect(
        404,
        &app.admin,
        vec![(Method::PATCH, &elsewhere, json!({"name": "办公室"}))],
    )
    .await;
}

#[actix_web::test]
async fn deleting_a_body_with_children_is_409_and_a_leaf_goes_with_its_members() {
    let (app, cid, []) = gaozhou_week([]).await;
    let k = gaozhou_committee(&app, &cid).await;
    let body_path = |b: &Value| path(&cid, "bodies", b);
    let member_path = |m: &Value| path(&cid, "members", m);
    let delete = |b: &Value| (Method::DELETE, body_path(b), Value::Null);
    let expect = |status: u16, requests: Vec<(Method, String, Value)>| {
        let app = &app;
        async move {
            let requests = requests
                .iter()
                .map(|(m, p, b)| (m.clone(), p.as_str(), b.clone()));
            app.expect(status, &app.admin, requests.collect()).await
        }
    };
    let before = tree(&app, &cid, Some(&app.admin)).await;

    expect(409, vec![delete(&k.leading), delete(&k.office)]).await;
    let after = tree(&app, &cid, Some(&app.admin)).await;
    assert_eq!(after, before, "nothing was deleted, members included");
    assert_eq!(app.get(&member_path(&k.director)).send().await.status, 200);

    // Leaves can go; their members go with them.
    expect(204, vec![delete(&k.publicity), delete(&k.office)]).await;
    for gone in [
        body_path(&k.publicity),
        body_path(&k.office),
        member_path(&k.director),
    ] {
        app.get(&gone).send().await.problem(404);
    }
    let t = tree(&app, &cid, Some(&app.admin)).await;
    let children = ["活动周工作联络小组", "市妇联活动周工作领导小组"];
    assert_eq!(names(&t["bodies"][0]["children"]), children);
    assert_eq!(names(&t["bodies"][0]["members"]), ["梁志宏", "陈国强"]);

    // Now the leading group is a leaf too.
    expect(
        204,
        vec![delete(&k.liaison), delete(&k.working), delete(&k.leading)],
    )
    .await;
    app.get(&member_path(&k.chair)).send().await.problem(404);
    assert_eq!(tree(&app, &cid, None).await["bodies"], json!([]));
}
