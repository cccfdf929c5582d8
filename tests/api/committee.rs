//! `/api/v1/campaigns/{id}/committee`: the organizing committee as a tree of bodies with
//! their members; contacts only for token holders.

use learnweek::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Resp, TestApp, id_of};

async fn post_body(app: &TestApp, campaign: &str, body: Value) -> Resp {
    app.post(&format!("/api/v1/campaigns/{campaign}/committee/bodies"))
        .bearer(&app.admin)
        .json(body)
        .send()
        .await
}

async fn body(app: &TestApp, campaign: &str, input: Value) -> Value {
    let res = post_body(app, campaign, input).await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

async fn post_member(app: &TestApp, token: &str, campaign: &str, input: Value) -> Resp {
    app.post(&format!("/api/v1/campaigns/{campaign}/committee/members"))
        .bearer(token)
        .json(input)
        .send()
        .await
}

async fn member(app: &TestApp, campaign: &str, input: Value) -> Value {
    let res = post_member(app, &app.admin, campaign, input).await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

fn names(nodes: &Value) -> Vec<&str> {
    nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect()
}

async fn tree(app: &TestApp, campaign: &str, token: Option<&str>) -> Value {
    let mut req = app.get(&format!("/api/v1/campaigns/{campaign}/committee"));
    if let Some(t) = token {
        req = req.bearer(t);
    }
    let res = req.send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

/// The Gaozhou committee: the leading group with its office, liaison group and the
/// 市妇联 working group; the office has a publicity team below it.
struct Committee {
    jiaoyu: Uuid,
    fulian: Uuid,
    leading: Value,
    office: Value,
    liaison: Value,
    working: Value,
    publicity: Value,
    chair: Value,
    vice_chair: Value,
    director: Value,
}

async fn gaozhou_committee(app: &TestApp, campaign: &str) -> Committee {
    let jiaoyu = app.unit("高州市教育局").await;
    let fulian = app.unit("高州市妇女联合会").await;
    let leading = body(
        app,
        campaign,
        json!({"name": "2014年高州市全民终身学习活动周工作领导小组", "kind": "leading_group"}),
    )
    .await;
    let office = body(
        app,
        campaign,
        json!({"name": "领导小组办公室", "kind": "office", "unit_id": jiaoyu,
               "parent_id": leading["id"]}),
    )
    .await;
    let liaison = body(
        app,
        campaign,
        json!({"name": "活动周工作联络小组", "kind": "liaison_group", "parent_id": leading["id"]}),
    )
    .await;
    let working = body(
        app,
        campaign,
        json!({"name": "市妇联活动周工作领导小组", "kind": "unit_working_group",
               "unit_id": fulian, "parent_id": leading["id"]}),
    )
    .await;
    let publicity = body(
        app,
        campaign,
        json!({"name": "宣传组", "kind": "office", "parent_id": office["id"]}),
    )
    .await;
    let chair = member(
        app,
        campaign,
        json!({"body_id": leading["id"], "name": "梁志宏", "position": "副市长",
               "committee_role": "chair", "phone": "0668-6200001"}),
    )
    .await;
    let vice_chair = member(
        app,
        campaign,
        json!({"body_id": leading["id"], "name": "陈国强", "position": "市教育局局长",
               "committee_role": "vice_chair", "unit_id": jiaoyu,
               "phone": "0668-6213610", "email": "chen.guoqiang@example.org"}),
    )
    .await;
    let director = member(
        app,
        campaign,
        json!({"body_id": office["id"], "name": "李明", "position": "市教育局职成股股长",
               "committee_role": "director", "unit_id": jiaoyu,
               "phone": "0668-6213611", "email": "li.ming@example.org"}),
    )
    .await;
    member(
        app,
        campaign,
        json!({"body_id": liaison["id"], "name": "王芳", "position": "市妇联干部",
               "committee_role": "liaison", "unit_id": fulian, "phone": "13800000000"}),
    )
    .await;
    Committee {
        jiaoyu,
        fulian,
        leading,
        office,
        liaison,
        working,
        publicity,
        chair,
        vice_chair,
        director,
    }
}

#[actix_web::test]
async fn the_committee_is_a_tree_of_bodies_with_members_and_children() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let k = gaozhou_committee(&app, cid).await;
    let viewer = app.token(Role::Viewer, Some(k.fulian)).await;

    let t = tree(&app, "gaozhou-2014", Some(&viewer)).await;
    assert_eq!(t["campaign_id"], cid);
    assert_eq!(
        names(&t["bodies"]),
        ["2014年高州市全民终身学习活动周工作领导小组"]
    );
    let top = &t["bodies"][0];
    assert_eq!(top["id"], k.leading["id"]);
    assert_eq!(top["kind"], "leading_group");
    assert_eq!(top["parent_id"], Value::Null);
    assert_eq!(names(&top["members"]), ["梁志宏", "陈国强"]);
    assert_eq!(top["members"][1]["committee_role"], "vice_chair");
    assert_eq!(top["members"][1]["position"], "市教育局局长");
    assert_eq!(top["members"][1]["unit_id"], k.jiaoyu.to_string());
    assert_eq!(
        names(&top["children"]),
        [
            "领导小组办公室",
            "活动周工作联络小组",
            "市妇联活动周工作领导小组"
        ]
    );
    let office = &top["children"][0];
    assert_eq!(office["id"], k.office["id"]);
    assert_eq!(office["kind"], "office");
    assert_eq!(office["unit_id"], k.jiaoyu.to_string());
    assert_eq!(office["parent_id"], k.leading["id"]);
    assert_eq!(names(&office["members"]), ["李明"]);
    assert_eq!(names(&office["children"]), ["宣传组"]);
    assert_eq!(office["children"][0]["children"], json!([]));
    assert_eq!(office["children"][0]["members"], json!([]));
    assert_eq!(names(&top["children"][1]["members"]), ["王芳"]);
    let working = &top["children"][2];
    assert_eq!(working["kind"], "unit_working_group");
    assert_eq!(working["unit_id"], k.fulian.to_string());
    assert_eq!(working["members"], json!([]));
    assert_eq!(working["children"], json!([]));

    // Bodies and members read back one by one, with Location and ETag.
    let res = post_body(
        &app,
        cid,
        json!({"name": "市文化局活动周工作小组", "kind": "unit_working_group",
               "parent_id": k.leading["id"]}),
    )
    .await;
    assert_eq!(res.status, 201);
    let location = res.header("location").unwrap();
    let created = res.json();
    assert_eq!(
        location,
        format!(
            "/api/v1/campaigns/{cid}/committee/bodies/{}",
            id_of(&created)
        )
    );
    let etag = res.header("etag").unwrap();
    let fetched = app.get(&location).send().await;
    assert_eq!(fetched.json(), created);
    assert_eq!(fetched.header("etag").unwrap(), etag);
    assert_eq!(created["campaign_id"], cid);
    assert!(fetched.text().contains("市文化局活动周工作小组"));
    let res = app
        .get(&format!(
            "/api/v1/campaigns/gaozhou-2014/committee/members/{}",
            id_of(&k.director)
        ))
        .bearer(&viewer)
        .send()
        .await;
    assert_eq!(res.json(), k.director);
    assert_eq!(k.director["body_id"], k.office["id"]);
    assert_eq!(k.director["campaign_id"], cid);

    // Another campaign has its own (empty) committee; unknown campaigns are 404.
    let other = app.campaign("gaozhou-2015").await;
    let t = tree(&app, other["id"].as_str().unwrap(), None).await;
    assert_eq!(t["bodies"], json!([]));
    app.get("/api/v1/campaigns/nowhere/committee")
        .send()
        .await
        .problem(404);
    // A body or member is only found under its own campaign.
    app.get(&format!(
        "/api/v1/campaigns/gaozhou-2015/committee/bodies/{}",
        id_of(&k.leading)
    ))
    .send()
    .await
    .problem(404);
    app.get(&format!(
        "/api/v1/campaigns/gaozhou-2015/committee/members/{}",
        id_of(&k.chair)
    ))
    .send()
    .await
    .problem(404);
}

#[actix_web::test]
async fn contacts_are_omitted_for_anonymous_callers() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let k = gaozhou_committee(&app, cid).await;

    fn all_members(nodes: &Value, out: &mut Vec<Value>) {
        for n in nodes.as_array().unwrap() {
            out.extend(n["members"].as_array().unwrap().iter().cloned());
            all_members(&n["children"], out);
        }
    }
    let mut anonymous = Vec::new();
    all_members(&tree(&app, cid, None).await["bodies"], &mut anonymous);
    assert_eq!(anonymous.len(), 4);
    for m in &anonymous {
        let fields = m.as_object().unwrap();
        assert!(
            !fields.contains_key("phone") && !fields.contains_key("email"),
            "{m}"
        );
        assert!(fields.contains_key("name") && fields.contains_key("position"));
    }
    let res = app
        .get(&format!(
            "/api/v1/campaigns/{cid}/committee/members/{}",
            id_of(&k.vice_chair)
        ))
        .send()
        .await;
    assert_eq!(res.status, 200);
    let m = res.json();
    assert_eq!(m["name"], "陈国强");
    assert!(m.get("phone").is_none() && m.get("email").is_none());
    assert!(!res.text().contains("0668-6213610"));

    // Any token sees them.
    for role in [Role::Viewer, Role::Reporter, Role::Editor] {
        let token = app.token(role, Some(k.fulian)).await;
        let mut seen = Vec::new();
        all_members(&tree(&app, cid, Some(&token)).await["bodies"], &mut seen);
        let vice = seen.iter().find(|m| m["name"] == "陈国强").unwrap();
        assert_eq!(vice["phone"], "0668-6213610");
        assert_eq!(vice["email"], "chen.guoqiang@example.org");
        let res = app
            .get(&format!(
                "/api/v1/campaigns/{cid}/committee/members/{}",
                id_of(&k.vice_chair)
            ))
            .bearer(&token)
            .send()
            .await;
        assert_eq!(res.json()["phone"], "0668-6213610");
    }
}

#[actix_web::test]
async fn bodies_need_a_parent_in_the_same_campaign_and_no_cycles() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let other = app.campaign("gaozhou-2015").await;
    let oid = other["id"].as_str().unwrap();
    let k = gaozhou_committee(&app, cid).await;

    // Validation of new bodies.
    let res = post_body(
        &app,
        oid,
        json!({"name": "2015年领导小组办公室", "kind": "office", "parent_id": k.leading["id"]}),
    )
    .await;
    assert_eq!(res.error_fields(), ["parent_id"]);
    let res = post_body(
        &app,
        cid,
        json!({"name": "某小组", "kind": "office", "parent_id": Uuid::now_v7()}),
    )
    .await;
    assert_eq!(res.error_fields(), ["parent_id"]);
    let res = post_body(
        &app,
        cid,
        json!({"name": " ", "kind": "unit_working_group", "unit_id": Uuid::now_v7()}),
    )
    .await;
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, ["name", "unit_id"]);
    let res = post_body(&app, cid, json!({"name": "某小组", "kind": "task_force"})).await;
    assert_eq!(res.error_fields(), ["kind"]);
    let res = post_body(
        &app,
        cid,
        json!({"name": "某小组", "kind": "office", "chair": "x"}),
    )
    .await;
    assert_eq!(res.error_fields(), ["chair"]);
    let res = post_body(&app, "nowhere", json!({"name": "某小组", "kind": "office"})).await;
    res.problem(404);
    assert_eq!(tree(&app, oid, None).await["bodies"], json!([]));

    // No cycles: leading > office > 宣传组.
    let leading_path = format!(
        "/api/v1/campaigns/{cid}/committee/bodies/{}",
        id_of(&k.leading)
    );
    let office_path = format!(
        "/api/v1/campaigns/{cid}/committee/bodies/{}",
        id_of(&k.office)
    );
    let before = tree(&app, cid, Some(&app.admin)).await;
    for (path, parent) in [
        (&leading_path, &k.publicity["id"]),
        (&leading_path, &k.leading["id"]),
        (&leading_path, &k.office["id"]),
        (&office_path, &k.publicity["id"]),
        (&office_path, &k.office["id"]),
    ] {
        let res = app
            .patch(path)
            .bearer(&app.admin)
            .json(json!({"parent_id": parent}))
            .send()
            .await;
        assert_eq!(res.error_fields(), ["parent_id"], "{path} under {parent}");
    }
    // Nor a parent from another campaign.
    let foreign = body(
        &app,
        oid,
        json!({"name": "2015年领导小组", "kind": "leading_group"}),
    )
    .await;
    let res = app
        .patch(&office_path)
        .bearer(&app.admin)
        .json(json!({"parent_id": foreign["id"]}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["parent_id"]);
    assert_eq!(tree(&app, cid, Some(&app.admin)).await, before);

    // A legal move: 宣传组 goes up under the leading group; the office loses its child.
    let etag = app.get(&office_path).send().await.header("etag").unwrap();
    let publicity_path = format!(
        "/api/v1/campaigns/{cid}/committee/bodies/{}",
        id_of(&k.publicity)
    );
    let res = app
        .patch(&publicity_path)
        .bearer(&app.admin)
        .body(
            "application/merge-patch+json",
            format!(
                r#"{{"parent_id": "{}", "name": "宣传报道组"}}"#,
                id_of(&k.leading)
            ),
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["parent_id"], k.leading["id"]);
    let t = tree(&app, cid, None).await;
    assert_eq!(
        names(&t["bodies"][0]["children"]),
        [
            "领导小组办公室",
            "活动周工作联络小组",
            "市妇联活动周工作领导小组",
            "宣传报道组"
        ]
    );
    assert_eq!(t["bodies"][0]["children"][0]["children"], json!([]));
    // Making a body top-level with null; the office's tag is still current.
    let res = app
        .patch(&office_path)
        .bearer(&app.admin)
        .header("If-Match", &etag)
        .json(json!({"parent_id": null}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let t = tree(&app, cid, None).await;
    assert_eq!(
        names(&t["bodies"]),
        [
            "2014年高州市全民终身学习活动周工作领导小组",
            "领导小组办公室"
        ]
    );
    assert_eq!(names(&t["bodies"][1]["members"]), ["李明"]);
    // Now the tag is stale.
    app.patch(&office_path)
        .bearer(&app.admin)
        .header("If-Match", &etag)
        .json(json!({"name": "办公室"}))
        .send()
        .await
        .problem(412);
    assert_eq!(
        app.get(&office_path).send().await.json()["name"],
        "领导小组办公室"
    );
    // Bodies are reached through their own campaign only.
    app.patch(&format!(
        "/api/v1/campaigns/{oid}/committee/bodies/{}",
        id_of(&k.office)
    ))
    .bearer(&app.admin)
    .json(json!({"name": "办公室"}))
    .send()
    .await
    .problem(404);
}

#[actix_web::test]
async fn deleting_a_body_with_children_is_409_and_a_leaf_goes_with_its_members() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let k = gaozhou_committee(&app, cid).await;
    let body_path = |b: &Value| format!("/api/v1/campaigns/{cid}/committee/bodies/{}", id_of(b));
    let member_path = |m: &Value| format!("/api/v1/campaigns/{cid}/committee/members/{}", id_of(m));
    let before = tree(&app, cid, Some(&app.admin)).await;

    for parent in [&k.leading, &k.office] {
        app.delete(&body_path(parent))
            .bearer(&app.admin)
            .send()
            .await
            .problem(409);
    }
    assert_eq!(
        tree(&app, cid, Some(&app.admin)).await,
        before,
        "nothing was deleted, members included"
    );
    assert_eq!(app.get(&member_path(&k.director)).send().await.status, 200);

    // Leaves can go; their members go with them.
    app.delete(&body_path(&k.publicity))
        .bearer(&app.admin)
        .header("If-Match", "\"stale\"")
        .send()
        .await
        .problem(412);
    let res = app
        .delete(&body_path(&k.publicity))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.get(&body_path(&k.publicity)).send().await.problem(404);
    let res = app
        .delete(&body_path(&k.office))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.get(&body_path(&k.office)).send().await.problem(404);
    app.get(&member_path(&k.director)).send().await.problem(404);
    app.delete(&body_path(&k.office))
        .bearer(&app.admin)
        .send()
        .await
        .problem(404);
    let t = tree(&app, cid, Some(&app.admin)).await;
    assert_eq!(
        names(&t["bodies"][0]["children"]),
        ["活动周工作联络小组", "市妇联活动周工作领导小组"]
    );
    assert_eq!(names(&t["bodies"][0]["members"]), ["梁志宏", "陈国强"]);

    for leaf in [&k.liaison, &k.working] {
        assert_eq!(
            app.delete(&body_path(leaf))
                .bearer(&app.admin)
                .send()
                .await
                .status,
            204
        );
    }
    // Now the leading group is a leaf too.
    assert_eq!(
        app.delete(&body_path(&k.leading))
            .bearer(&app.admin)
            .send()
            .await
            .status,
        204
    );
    app.get(&member_path(&k.chair)).send().await.problem(404);
    assert_eq!(tree(&app, cid, None).await["bodies"], json!([]));
}

#[actix_web::test]
async fn members_are_validated_and_patched() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let other = app.campaign("gaozhou-2015").await;
    let oid = other["id"].as_str().unwrap();
    let k = gaozhou_committee(&app, cid).await;
    let foreign = body(
        &app,
        oid,
        json!({"name": "2015年领导小组", "kind": "leading_group"}),
    )
    .await;

    let good = json!({"body_id": k.liaison["id"], "name": "张伟", "position": "团市委干部",
                      "committee_role": "liaison"});
    let with = |fields: Value| {
        let mut v = good.clone();
        for (key, value) in fields.as_object().unwrap() {
            v[key] = value.clone();
        }
        v
    };
    let res = post_member(
        &app,
        &app.admin,
        cid,
        with(json!({"body_id": foreign["id"]})),
    )
    .await;
    assert_eq!(res.error_fields(), ["body_id"]);
    let res = post_member(
        &app,
        &app.admin,
        cid,
        with(json!({"body_id": Uuid::now_v7()})),
    )
    .await;
    assert_eq!(res.error_fields(), ["body_id"]);
    let res = post_member(
        &app,
        &app.admin,
        cid,
        with(json!({"name": "", "email": "zhang wei@example", "unit_id": Uuid::now_v7()})),
    )
    .await;
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, ["email", "name", "unit_id"]);
    let res = post_member(
        &app,
        &app.admin,
        cid,
        with(json!({"committee_role": "secretary"})),
    )
    .await;
    assert_eq!(res.error_fields(), ["committee_role"]);
    let res = post_member(&app, &app.admin, cid, with(json!({"wechat": "zhangwei"}))).await;
    assert_eq!(res.error_fields(), ["wechat"]);
    let t = tree(&app, cid, Some(&app.admin)).await;
    assert_eq!(names(&t["bodies"][0]["children"][1]["members"]), ["王芳"]);

    // A valid one, then merge patches.
    let res = post_member(&app, &app.admin, cid, good.clone()).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let location = res.header("location").unwrap();
    let m = res.json();
    assert_eq!(
        location,
        format!("/api/v1/campaigns/{cid}/committee/members/{}", id_of(&m))
    );
    let etag = res.header("etag").unwrap();
    let res = app
        .patch(&location)
        .bearer(&app.admin)
        .header("If-Match", &etag)
        .body(
            "application/merge-patch+json",
            format!(
                r#"{{"body_id": "{}", "committee_role": "member", "phone": "0668-6200002", "position": null}}"#,
                id_of(&k.leading)
            ),
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let updated = res.json();
    assert_eq!(updated["body_id"], k.leading["id"]);
    assert_eq!(updated["committee_role"], "member");
    assert_eq!(updated["phone"], "0668-6200002");
    assert_eq!(updated["position"], Value::Null);
    assert_eq!(updated["name"], "张伟");
    let t = tree(&app, cid, Some(&app.admin)).await;
    assert_eq!(
        names(&t["bodies"][0]["members"]),
        ["梁志宏", "陈国强", "张伟"]
    );
    assert_eq!(names(&t["bodies"][0]["children"][1]["members"]), ["王芳"]);

    app.patch(&location)
        .bearer(&app.admin)
        .header("If-Match", &etag)
        .json(json!({"name": "张三"}))
        .send()
        .await
        .problem(412);
    let res = app
        .patch(&location)
        .bearer(&app.admin)
        .json(json!({"body_id": foreign["id"]}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["body_id"]);
    let res = app
        .patch(&location)
        .bearer(&app.admin)
        .json(json!({"email": "not-an-email"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["email"]);
    let res = app
        .patch(&location)
        .bearer(&app.admin)
        .json(json!({"campaign_id": oid}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["campaign_id"]);
    assert_eq!(
        app.get(&location).bearer(&app.admin).send().await.json(),
        updated
    );
    app.patch(&format!(
        "/api/v1/campaigns/{oid}/committee/members/{}",
        id_of(&m)
    ))
    .bearer(&app.admin)
    .json(json!({"name": "张三"}))
    .send()
    .await
    .problem(404);

    let res = app.delete(&location).bearer(&app.admin).send().await;
    assert_eq!(res.status, 204);
    app.get(&location).send().await.problem(404);
    let t = tree(&app, cid, Some(&app.admin)).await;
    assert_eq!(names(&t["bodies"][0]["members"]), ["梁志宏", "陈国强"]);
}

#[actix_web::test]
async fn editors_manage_their_own_units_members_and_only_the_admin_bodies() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let k = gaozhou_committee(&app, cid).await;
    let editor = app.token(Role::Editor, Some(k.fulian)).await;
    let other_editor = app.token(Role::Editor, Some(k.jiaoyu)).await;
    let input = json!({"body_id": k.working["id"], "name": "黄丽", "position": "市妇联主席",
                       "committee_role": "chair", "unit_id": k.fulian});

    let res = post_member(&app, &editor, cid, input.clone()).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let mine = res.json();
    let mine_path = format!("/api/v1/campaigns/{cid}/committee/members/{}", id_of(&mine));
    post_member(&app, &other_editor, cid, input.clone())
        .await
        .problem(403);
    let mut no_unit = input.clone();
    no_unit.as_object_mut().unwrap().remove("unit_id");
    post_member(&app, &editor, cid, no_unit).await.problem(403);
    for role in [Role::Reporter, Role::Viewer] {
        let token = app.token(role, Some(k.fulian)).await;
        post_member(&app, &token, cid, input.clone())
            .await
            .problem(403);
    }
    app.post(&format!("/api/v1/campaigns/{cid}/committee/members"))
        .json(input.clone())
        .send()
        .await
        .problem(401);

    // Another unit's member: neither change nor delete.
    let theirs = format!(
        "/api/v1/campaigns/{cid}/committee/members/{}",
        id_of(&k.director)
    );
    app.patch(&theirs)
        .bearer(&editor)
        .json(json!({"phone": "110"}))
        .send()
        .await
        .problem(403);
    app.delete(&theirs)
        .bearer(&editor)
        .send()
        .await
        .problem(403);
    // Members without a unit belong to the admin.
    let chair = format!(
        "/api/v1/campaigns/{cid}/committee/members/{}",
        id_of(&k.chair)
    );
    app.patch(&chair)
        .bearer(&editor)
        .json(json!({"unit_id": k.fulian}))
        .send()
        .await
        .problem(403);
    // Its own member cannot be handed to another unit.
    app.patch(&mine_path)
        .bearer(&editor)
        .json(json!({"unit_id": k.jiaoyu}))
        .send()
        .await
        .problem(403);
    assert_eq!(
        app.get(&theirs).bearer(&app.admin).send().await.json(),
        k.director
    );
    assert_eq!(
        app.get(&chair).bearer(&app.admin).send().await.json(),
        k.chair
    );
    assert_eq!(
        app.get(&mine_path).bearer(&app.admin).send().await.json(),
        mine
    );

    let res = app
        .patch(&mine_path)
        .bearer(&editor)
        .json(json!({"phone": "0668-6222222", "email": "huang.li@example.org"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["phone"], "0668-6222222");

    // Bodies are the admin's alone, even the unit's own working group.
    let working = format!(
        "/api/v1/campaigns/{cid}/committee/bodies/{}",
        id_of(&k.working)
    );
    app.post(&format!("/api/v1/campaigns/{cid}/committee/bodies"))
        .bearer(&editor)
        .json(json!({"name": "市妇联宣传组", "kind": "unit_working_group", "unit_id": k.fulian}))
        .send()
        .await
        .problem(403);
    app.patch(&working)
        .bearer(&editor)
        .json(json!({"name": "市妇联工作组"}))
        .send()
        .await
        .problem(403);
    app.delete(&working)
        .bearer(&editor)
        .send()
        .await
        .problem(403);
    assert_eq!(app.get(&working).send().await.json(), k.working);

    assert_eq!(
        app.delete(&mine_path).bearer(&editor).send().await.status,
        204
    );
    app.get(&mine_path).send().await.problem(404);
    let t = tree(&app, cid, None).await;
    assert_eq!(t["bodies"][0]["children"][2]["members"], json!([]));
}

#[actix_web::test]
async fn bodies_and_members_are_listed_with_filters_and_pages() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("lists-2014").await;
    let slug = "lists-2014";
    let fulian = app.unit("高州市妇女联合会").await;
    let leading = body(
        &app,
        slug,
        json!({"name": "领导小组", "kind": "leading_group"}),
    )
    .await;
    let group = body(
        &app,
        slug,
        json!({"name": "市妇联工作小组", "kind": "unit_working_group", "unit_id": fulian, "parent_id": id_of(&leading)}),
    )
    .await;
    for i in 0..3 {
        member(
            &app,
            slug,
            json!({"body_id": id_of(&leading), "name": format!("成员{i}"), "committee_role": "member",
                   "phone": "0668-6213610", "email": "office@example.org"}),
        )
        .await;
    }
    member(
        &app,
        slug,
        json!({"body_id": id_of(&group), "name": "联络员", "committee_role": "liaison",
               "unit_id": fulian, "phone": "0668-0000000"}),
    )
    .await;

    let get = |path: String, token: Option<String>| {
        let app = &app;
        async move {
            let mut req = app.get(&path);
            if let Some(t) = &token {
                req = req.bearer(t);
            }
            let res = req.send().await;
            assert_eq!(res.status, 200, "{path}: {}", res.text());
            res.json()
        }
    };
    let base = format!(
        "/api/v1/campaigns/{}/committee",
        campaign["id"].as_str().unwrap()
    );
    let bodies = get(format!("{base}/bodies"), None).await;
    assert_eq!(names(&bodies["items"]).len(), 2);
    let bodies = get(format!("{base}/bodies?unit_id={fulian}"), None).await;
    assert_eq!(names(&bodies["items"]), ["市妇联工作小组"]);

    // Pages of two, anonymous: no contacts.
    let first = get(format!("{base}/members?limit=2"), None).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get(format!("{base}/members?limit=2&cursor={cursor}"), None).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 2);
    assert!(second["next_cursor"].is_null());
    for m in first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
    {
        assert!(m.get("phone").is_none() && m.get("email").is_none(), "{m}");
    }
    let by_body = get(format!("{base}/members?body_id={}", id_of(&group)), None).await;
    assert_eq!(names(&by_body["items"]), ["联络员"]);
    let viewer = app.token(Role::Viewer, Some(fulian)).await;
    let by_unit = get(format!("{base}/members?unit_id={fulian}"), Some(viewer)).await;
    assert_eq!(
        by_unit["items"][0]["phone"], "0668-0000000",
        "token holders see contacts"
    );
    // The slug works as the campaign id too; an unknown campaign is a 404.
    get(format!("/api/v1/campaigns/{slug}/committee/members"), None).await;
    let res = app
        .get("/api/v1/campaigns/no-such/committee/bodies")
        .send()
        .await;
    res.problem(404);
}

/// An editor seats its unit's staff in its unit's own working group only: not as chair of the
/// leading group, not in another unit's group (found by the security review).
#[actix_web::test]
async fn editors_seat_members_only_in_their_units_bodies() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("seats-2014").await;
    let slug = "seats-2014";
    let mine = app.unit("高州市文化局").await;
    let theirs = app.unit("高州市体育局").await;
    let leading = body(
        &app,
        slug,
        json!({"name": "领导小组", "kind": "leading_group"}),
    )
    .await;
    let own_group = body(
        &app,
        slug,
        json!({"name": "文化局工作小组", "kind": "unit_working_group", "unit_id": mine}),
    )
    .await;
    let their_group = body(
        &app,
        slug,
        json!({"name": "体育局工作小组", "kind": "unit_working_group", "unit_id": theirs}),
    )
    .await;
    let editor = app.token(Role::Editor, Some(mine)).await;
    let seat = |body: &Value, role: &str| json!({"body_id": id_of(body), "name": "李明", "committee_role": role, "unit_id": mine});
    for target in [&leading, &their_group] {
        let res = post_member(&app, &editor, slug, seat(target, "chair")).await;
        res.problem(403);
    }
    let res = post_member(&app, &editor, slug, seat(&own_group, "member")).await;
    assert_eq!(res.status, 201, "{}", res.text());
    // Nor can a seat be moved out of the unit's group afterwards.
    let id = id_of(&res.json()).to_string();
    let res = app
        .patch(&format!(
            "/api/v1/campaigns/{}/committee/members/{id}",
            campaign["id"].as_str().unwrap()
        ))
        .bearer(&editor)
        .json(json!({"body_id": id_of(&leading), "committee_role": "chair"}))
        .send()
        .await;
    res.problem(403);
    // The committee office seats anyone anywhere.
    let res = post_member(&app, &app.admin, slug, seat(&leading, "chair")).await;
    assert_eq!(res.status, 201, "{}", res.text());
}
