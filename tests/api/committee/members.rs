//! Members: validated and merge-patched; editors seat and manage their own unit's staff in
//! their unit's own bodies, and only the admin shapes the bodies.

use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::common::{Method, Role, gaozhou_week, id_of, with};

#[actix_web::test]
async fn members_are_validated_and_patched() {
    let (app, cid, []) = gaozhou_week([]).await;
    let oid = id_of(&app.campaign("gaozhou-2015").await).to_string();
    let k = gaozhou_committee(&app, &cid).await;
    let foreign = CommitteeBodyBuilder::new(&oid, "2015年领导小组", "leading_group");
    let foreign = foreign.insert(&app).await;

    let good = MemberBuilder::new(&cid, &k.liaison["id"], "张伟")
        .position("团市委干部")
        .role("liaison")
        .json();
    let bad = |fields: Value| with(good.clone(), fields);
    let unknown_unit = json!({"name": "", "email": "zhang wei@example", "unit_id": Uuid::now_v7()});
    let cases = vec![
        (bad(json!({"body_id": foreign["id"]})), "body_id"),
        (bad(json!({"body_id": Uuid::now_v7()})), "body_id"),
        (bad(unknown_unit), "email name unit_id"),
        (
            bad(json!({"committee_role": "secretary"})),
            "committee_role",
        ),
        (bad(json!({"wechat": "zhangwei"})), "wechat"),
    ];
    let members = format!("/api/v1/campaigns/{cid}/committee/members");
    app.expect_invalid(Method::POST, &members, &app.admin, cases)
        .await;
    let liaison_members = |t: &Value| names(&t["bodies"][0]["children"][1]["members"]).join(",");
    let t = tree(&app, &cid, Some(&app.admin)).await;
    assert_eq!(liaison_members(&t), "王芳");

    // A valid one, then merge patches.
    let res = app.post(&members).admin().json(good).send().await;
    let m = res.ok(201);
    let location = res.header("location").unwrap();
    let etag = res.header("etag").unwrap();
    let merge = json!({"body_id": id_of(&k.leading), "committee_role": "member",
                       "phone": "0668-6200002", "position": null});
    let (updated, _) = app
        .patch_if_match(&location, &app.admin, &etag, merge)
        .await;
    assert_eq!(updated["body_id"], k.leading["id"]);
    assert_eq!(updated["committee_role"], "member");
    assert_eq!(updated["phone"], "0668-6200002");
    assert_eq!(updated["position"], Value::Null);
    assert_eq!(updated["name"], "张伟");
    let t = tree(&app, &cid, Some(&app.admin)).await;
    assert_eq!(
        names(&t["bodies"][0]["members"]),
        ["梁志宏", "陈国强", "张伟"]
    );
    assert_eq!(liaison_members(&t), "王芳");

    let rename = json!({"name": "张三"});
    app.patch_stale(&location, &app.admin, &etag, rename).await;
    let cases = vec![
        (json!({"body_id": foreign["id"]}), "body_id"),
        (json!({"email": "not-an-email"}), "email"),
        (json!({"campaign_id": oid}), "campaign_id"),
    ];
    app.expect_invalid(Method::PATCH, &location, &app.admin, cases)
        .await;
    assert_eq!(app.admin_read(&location).await, updated);
    let elsewhere = path(&oid, "members", &m);
    app.expect(
        404,
        &app.admin,
        vec![(Method::PATCH, &elsewhere, json!({"name": "张三"}))],
    )
    .await;

    app.expect(
        204,
        &app.admin,
        vec![(Method::DELETE, &location, Value::Null)],
    )
    .await;
    app.get(&location).send().await.problem(404);
    let t = tree(&app, &cid, Some(&app.admin)).await;
    assert_eq!(names(&t["bodies"][0]["members"]), ["梁志宏", "陈国强"]);
}

#[actix_web::test]
async fn editors_manage_their_own_units_members_and_only_the_admin_bodies() {
    let (app, cid, []) = gaozhou_week([]).await;
    let k = gaozhou_committee(&app, &cid).await;
    let editor = app.token(Role::Editor, Some(k.fulian)).await;
    let other_editor = app.token(Role::Editor, Some(k.jiaoyu)).await;
    let input = MemberBuilder::new(&cid, &k.working["id"], "黄丽")
        .position("市妇联主席")
        .role("chair")
        .unit(k.fulian)
        .json();
    let members = format!("/api/v1/campaigns/{cid}/committee/members");

    let mine = app.create(&members, &editor, input.clone()).await;
    let mine_path = path(&cid, "members", &mine);
    let seat = |body: Value| vec![(Method::POST, members.as_str(), body)];
    app.expect(403, &other_editor, seat(input.clone())).await;
    let mut no_unit = input.clone();
    no_unit.as_object_mut().unwrap().remove("unit_id");
    app.expect(403, &editor, seat(no_unit)).await;
    for role in [Role::Reporter, Role::Viewer] {
        let token = app.token(role, Some(k.fulian)).await;
        app.expect(403, &token, seat(input.clone())).await;
    }
    app.post(&members)
        .json(input.clone())
        .send()
        .await
        .problem(401);

    // Another unit's member: neither change nor delete. Members without a unit belong to the
    // admin. Its own member cannot be handed to another unit.
    let theirs = path(&cid, "members", &k.director);
    let chair = path(&cid, "members", &k.chair);
    let refused = vec![
        (Method::PATCH, theirs.as_str(), json!({"phone": "110"})),
        (Method::DELETE, theirs.as_str(), Value::Null),
        (Method::PATCH, chair.as_str(), json!({"unit_id": k.fulian})),
        (
            Method::PATCH,
            mine_path.as_str(),
            json!({"unit_id": k.jiaoyu}),
        ),
    ];
    app.expect(403, &editor, refused).await;
    assert_eq!(app.admin_read(&theirs).await, k.director);
    assert_eq!(app.admin_read(&chair).await, k.chair);
    assert_eq!(app.admin_read(&mine_path).await, mine);

    let contact = json!({"phone": "0668-6222222", "email": "huang.li@example.org"});
    let res = app.call(Method::PATCH, &mine_path, &editor, contact).await;
    assert_eq!(res.ok(200)["phone"], "0668-6222222");

    // Bodies are the admin's alone, even the unit's own working group.
    let working = path(&cid, "bodies", &k.working);
    let bodies = format!("/api/v1/campaigns/{cid}/committee/bodies");
    let group = json!({"name": "市妇联宣传组", "kind": "unit_working_group", "unit_id": k.fulian});
    let refused = vec![
        (Method::POST, bodies.as_str(), group),
        (
            Method::PATCH,
            working.as_str(),
            json!({"name": "市妇联工作组"}),
        ),
        (Method::DELETE, working.as_str(), Value::Null),
    ];
    app.expect(403, &editor, refused).await;
    assert_eq!(app.get(&working).send().await.json(), k.working);

    app.expect(
        204,
        &editor,
        vec![(Method::DELETE, &mine_path, Value::Null)],
    )
    .await;
    app.get(&mine_path).send().await.problem(404);
    let t = tree(&app, &cid, None).await;
    assert_eq!(t["bodies"][0]["children"][2]["members"], json!([]));
}

/// An editor seats its unit's staff in its unit's own working group only: not as chair of the
/// leading group, not in another unit's group (found by the security review).
#[actix_web::test]
async fn editors_seat_members_only_in_their_units_bodies() {
    let (app, slug) = (TestApp::spawn().await, "seats-2014");
    let campaign = app.campaign(slug).await;
    let mine = app.unit("高州市文化局").await;
    let theirs = app.unit("高州市体育局").await;
    let body = |name: &str, kind: &str| CommitteeBodyBuilder::new(slug, name, kind);
    let leading = body("领导小组", "leading_group").insert(&app).await;
    let own_group = body("文化局工作小组", "unit_working_group").unit(mine);
    let own_group = own_group.insert(&app).await;
    let their_group = body("体育局工作小组", "unit_working_group").unit(theirs);
    let their_group = their_group.insert(&app).await;
    let editor = app.token(Role::Editor, Some(mine)).await;
    let seat = |body: &Value, role: &str| {
        MemberBuilder::new(slug, id_of(body), "李明")
            .role(role)
            .unit(mine)
    };
    for target in [&leading, &their_group] {
        seat(target, "chair").send(&app, &editor).await.problem(403);
    }
    let seated = seat(&own_group, "member").create(&app, &editor).await;
    // Nor can a seat be moved out of the unit's group afterwards.
    let moved = json!({"body_id": id_of(&leading), "committee_role": "chair"});
    let seat_path = path(id_of(&campaign), "members", &seated);
    app.expect(
        403,
        &editor,
        vec![(Method::PATCH, &seat_path, moved.clone())],
    )
    .await;
    // Refused for the body before its If-Match is even looked at.
    let stale = app
        .patch(&seat_path)
        .bearer(&editor)
        .header("If-Match", "\"stale\"");
    stale.json(moved).send().await.problem(403);
    // The committee office seats anyone anywhere.
    seat(&leading, "chair").insert(&app).await;
}
