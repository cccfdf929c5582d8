//! The committee as a tree, what anonymous callers see of it, and the lists of bodies and
//! members.

use serde_json::{Value, json};

use super::*;
use crate::common::{Role, gaozhou_week, id_of, items};

#[actix_web::test]
async fn the_committee_is_a_tree_of_bodies_with_members_and_children() {
    let (app, cid, []) = gaozhou_week([]).await;
    let k = gaozhou_committee(&app, &cid).await;
    let viewer = app.token(Role::Viewer, Some(k.fulian)).await;

    let t = tree(&app, "gaozhou-2014", Some(&viewer)).await;
    assert_eq!(t["campaign_id"], cid);
    let leading = "2014年高州市全民终身学习活动周工作领导小组";
    assert_eq!(names(&t["bodies"]), [leading]);
    let top = &t["bodies"][0];
    assert_eq!(top["id"], k.leading["id"]);
    assert_eq!(top["kind"], "leading_group");
    assert_eq!(top["parent_id"], Value::Null);
    assert_eq!(names(&top["members"]), ["梁志宏", "陈国强"]);
    assert_eq!(top["members"][1]["committee_role"], "vice_chair");
    assert_eq!(top["members"][1]["position"], "市教育局局长");
    assert_eq!(top["members"][1]["unit_id"], k.jiaoyu.to_string());
    let children = [
        "领导小组办公室",
        "活动周工作联络小组",
        "市妇联活动周工作领导小组",
    ];
    assert_eq!(names(&top["children"]), children);
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

    // Bodies and members read back one by one.
    let body = CommitteeBodyBuilder::new(&cid, "市文化局活动周工作小组", "unit_working_group");
    let created = body.parent(&k.leading["id"]).insert(&app).await;
    assert_eq!(created["campaign_id"], cid);
    let fetched = app.get(&path(&cid, "bodies", &created)).send().await;
    assert_eq!(fetched.ok(200), created);
    assert!(fetched.text().contains("市文化局活动周工作小组"));
    let director = path("gaozhou-2014", "members", &k.director);
    assert_eq!(app.read(&director, Some(&viewer)).await, k.director);
    assert_eq!(k.director["body_id"], k.office["id"]);
    assert_eq!(k.director["campaign_id"], cid);

    // Another campaign has its own (empty) committee; unknown campaigns are 404.
    let other = app.campaign("gaozhou-2015").await;
    assert_eq!(tree(&app, id_of(&other), None).await["bodies"], json!([]));
    app.get_problem("/api/v1/campaigns/nowhere/committee", 404)
        .await;
    // A body or member is only found under its own campaign.
    let elsewhere = [
        path("gaozhou-2015", "bodies", &k.leading),
        path("gaozhou-2015", "members", &k.chair),
    ];
    for path in elsewhere {
        app.get(&path).send().await.problem(404);
    }
}

/// Every member of every body below `nodes`.
fn all_members(nodes: &Value, out: &mut Vec<Value>) {
    for n in nodes.as_array().unwrap() {
        out.extend(n["members"].as_array().unwrap().iter().cloned());
        all_members(&n["children"], out);
    }
}

#[actix_web::test]
async fn contacts_are_omitted_for_anonymous_callers() {
    let (app, cid, []) = gaozhou_week([]).await;
    let k = gaozhou_committee(&app, &cid).await;

    let mut anonymous = Vec::new();
    all_members(&tree(&app, &cid, None).await["bodies"], &mut anonymous);
    assert_eq!(anonymous.len(), 4);
    for m in &anonymous {
        let fields = m.as_object().unwrap();
        let contact = fields.contains_key("phone") || fields.contains_key("email");
        assert!(!contact, "{m}");
        assert!(fields.contains_key("name") && fields.contains_key("position"));
    }
    let vice_chair = path(&cid, "members", &k.vice_chair);
    let res = app.get(&vice_chair).send().await;
    let m = res.ok(200);
    assert_eq!(m["name"], "陈国强");
    assert!(m.get("phone").is_none() && m.get("email").is_none());
    assert!(!res.text().contains("0668-6213610"));

    // Any token sees them.
    for role in [Role::Viewer, Role::Reporter, Role::Editor] {
        let token = app.token(role, Some(k.fulian)).await;
        let mut seen = Vec::new();
        all_members(&tree(&app, &cid, Some(&token)).await["bodies"], &mut seen);
        let vice = seen.iter().find(|m| m["name"] == "陈国强").unwrap();
        assert_eq!(vice["phone"], "0668-6213610");
        assert_eq!(vice["email"], "chen.guoqiang@example.org");
        assert_eq!(
            app.read(&vice_chair, Some(&token)).await["phone"],
            "0668-6213610"
        );
    }
}

#[actix_web::test]
async fn bodies_and_members_are_listed_with_filters_and_pages() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("lists-2014").await;
    let slug = "lists-2014";
    let fulian = app.unit("高州市妇女联合会").await;
    let leading = CommitteeBodyBuilder::new(slug, "领导小组", "leading_group");
    let leading = leading.insert(&app).await;
    let group = CommitteeBodyBuilder::new(slug, "市妇联工作小组", "unit_working_group");
    let group = group
        .unit(fulian)
        .parent(id_of(&leading))
        .insert(&app)
        .await;
    for i in 0..3 {
        MemberBuilder::new(slug, id_of(&leading), &format!("成员{i}"))
            .phone("0668-6213610")
            .email("office@example.org")
            .insert(&app)
            .await;
    }
    let liaison = MemberBuilder::new(slug, id_of(&group), "联络员").role("liaison");
    liaison
        .unit(fulian)
        .phone("0668-0000000")
        .insert(&app)
        .await;

    let base = format!("/api/v1/campaigns/{}/committee", id_of(&campaign));
    let get = |query: String| {
        let app = &app;
        let path = format!("{base}/{query}");
        async move { app.read(&path, None).await }
    };
    assert_eq!(names(&get("bodies".into()).await["items"]).len(), 2);
    let bodies = get(format!("bodies?unit_id={fulian}")).await;
    assert_eq!(names(&bodies["items"]), ["市妇联工作小组"]);

    // Pages of two, anonymous: no contacts.
    let first = get("members?limit=2".into()).await;
    assert_eq!(items(&first).len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get(format!("members?limit=2&cursor={cursor}")).await;
    assert_eq!(items(&second).len(), 2);
    assert!(second["next_cursor"].is_null());
    for m in items(&first).iter().chain(items(&second)) {
        assert!(m.get("phone").is_none() && m.get("email").is_none(), "{m}");
    }
    let by_body = get(format!("members?body_id={}", id_of(&group))).await;
    assert_eq!(names(&by_body["items"]), ["联络员"]);
    let viewer = app.token(Role::Viewer, Some(fulian)).await;
    let by_unit = format!("{base}/members?unit_id={fulian}");
    let by_unit = app.read(&by_unit, Some(&viewer)).await;
    let phone = &by_unit["items"][0]["phone"];
    assert_eq!(phone, "0668-0000000", "token holders see contacts");
    // The slug works as the campaign id too; an unknown campaign is a 404.
    app.read(&format!("/api/v1/campaigns/{slug}/committee/members"), None)
        .await;
    let unknown = app.get("/api/v1/campaigns/no-such/committee/bodies");
    unknown.send().await.problem(404);
}
