//! `/api/v1/campaigns/{id}/partners`: co-hosts (主办), the undertaker (承办), member units
//! (成员单位) and the one lead co-host (牵头).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Role, TestApp};

async fn put(app: &TestApp, campaign: &str, unit: Uuid, body: Value) -> crate::common::Resp {
    app.put(&format!("/api/v1/campaigns/{campaign}/partners/{unit}"))
        .admin()
        .json(body)
        .send()
        .await
}

/// `(unit_name, role, lead)` of each partner listed at `path`, in list order.
async fn partners(app: &TestApp, path: &str) -> Vec<(String, String, bool)> {
    let res = app.get(path).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["unit_name"].as_str().unwrap().to_string(),
                p["role"].as_str().unwrap().to_string(),
                p["lead"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn row(name: &str, role: &str, lead: bool) -> (String, String, bool) {
    (name.to_string(), role.to_string(), lead)
}

#[actix_web::test]
async fn put_creates_with_201_then_changes_with_200_and_reads_back() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let jiaoyu = app.unit("高州市教育局").await;

    let res = put(
        &app,
        "gaozhou-2014",
        jiaoyu,
        json!({"role": "co_host", "lead": true}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let p = res.json();
    let location = res.header("location").unwrap();
    assert_eq!(
        location,
        format!("/api/v1/campaigns/{cid}/partners/{jiaoyu}")
    );
    let etag = res.header("etag").unwrap();
    assert_eq!(p["unit_name"], "高州市教育局");
    assert_eq!(p["unit_id"], jiaoyu.to_string());
    assert_eq!(p["campaign_id"], cid);
    assert_eq!(p["role"], "co_host");
    assert_eq!(p["lead"], true);

    // Anyone may read it, by campaign id or slug.
    let fetched = app.get(&location).send().await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), p);
    assert_eq!(fetched.header("etag").unwrap(), etag);
    assert!(fetched.text().contains("高州市教育局"));
    let by_slug = app
        .get(&format!("/api/v1/campaigns/gaozhou-2014/partners/{jiaoyu}"))
        .send()
        .await;
    assert_eq!(by_slug.json(), p);

    // The same again: 200, nothing changes.
    let res = put(&app, cid, jiaoyu, json!({"role": "co_host", "lead": true})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.header("location").is_none());
    assert_eq!(res.json(), p);
    assert_eq!(res.header("etag").unwrap(), etag);

    // A change: 200 with the new state; lead defaults to false.
    let res = put(&app, cid, jiaoyu, json!({"role": "member"})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let changed = res.json();
    assert_eq!(changed["role"], "member");
    assert_eq!(changed["lead"], false);
    assert_eq!(changed["id"], p["id"]);
    assert_ne!(res.header("etag").unwrap(), etag);
    assert_eq!(app.get(&location).send().await.json(), changed);

    // Unknown campaign or unit: 404; a unit that is not a partner: 404.
    let res = put(&app, "nowhere-2014", jiaoyu, json!({"role": "member"})).await;
    res.problem(404);
    let res = put(&app, cid, Uuid::now_v7(), json!({"role": "member"})).await;
    res.problem(404);
    let wenhua = app.unit("高州市文化局").await;
    app.get_problem(&format!("/api/v1/campaigns/{cid}/partners/{wenhua}"), 404)
        .await;
    app.get_problem("/api/v1/campaigns/nowhere-2014/partners", 404)
        .await;
}

#[actix_web::test]
async fn lead_is_only_for_a_co_host_and_setting_it_moves_it() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let jiaoyu = app.unit("高州市教育局").await;
    let renshe = app.unit("高州市人力资源和社会保障局").await;
    let zhixiao = app.unit("高州市职业技术学校").await;
    let list = format!("/api/v1/campaigns/{cid}/partners");

    for role in ["undertaker", "member"] {
        let res = put(&app, cid, zhixiao, json!({"role": role, "lead": true})).await;
        assert_eq!(res.error_fields(), ["lead"], "{role}");
    }
    assert!(partners(&app, &list).await.is_empty(), "nothing stored");

    assert_eq!(
        put(&app, cid, jiaoyu, json!({"role": "co_host", "lead": true}))
            .await
            .status,
        201
    );
    assert_eq!(
        put(&app, cid, renshe, json!({"role": "co_host"}))
            .await
            .status,
        201
    );
    assert_eq!(
        put(&app, cid, zhixiao, json!({"role": "undertaker"}))
            .await
            .status,
        201
    );
    assert_eq!(
        partners(&app, &list).await,
        [
            row("高州市教育局", "co_host", true),
            row("高州市人力资源和社会保障局", "co_host", false),
            row("高州市职业技术学校", "undertaker", false)
        ]
    );

    // 人社局 takes the lead: 教育局 stays a co-host without it.
    let res = put(&app, cid, renshe, json!({"role": "co_host", "lead": true})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["lead"], true);
    assert_eq!(
        partners(&app, &list).await,
        [
            row("高州市教育局", "co_host", false),
            row("高州市人力资源和社会保障局", "co_host", true),
            row("高州市职业技术学校", "undertaker", false)
        ]
    );
    let old = app
        .read(&format!("/api/v1/campaigns/{cid}/partners/{jiaoyu}"), None)
        .await;
    assert_eq!(
        (old["role"].as_str(), old["lead"].as_bool()),
        (Some("co_host"), Some(false))
    );

    // A new partner can take the lead directly too.
    let wenhua = app.unit("高州市文化局").await;
    let res = put(&app, cid, wenhua, json!({"role": "co_host", "lead": true})).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let leads: Vec<String> = partners(&app, &list)
        .await
        .into_iter()
        .filter(|p| p.2)
        .map(|p| p.0)
        .collect();
    assert_eq!(leads, ["高州市文化局"]);

    // Demoting the lead to a member is refused with lead, fine without.
    let res = put(&app, cid, wenhua, json!({"role": "member", "lead": true})).await;
    assert_eq!(res.error_fields(), ["lead"]);
    let res = put(&app, cid, wenhua, json!({"role": "member"})).await;
    assert_eq!(res.status, 200);
    assert!(partners(&app, &list).await.iter().all(|p| !p.2));

    // Leads are per campaign.
    let other = app.campaign("gaozhou-2015").await;
    let oid = other["id"].as_str().unwrap();
    assert_eq!(
        put(&app, oid, jiaoyu, json!({"role": "co_host", "lead": true}))
            .await
            .status,
        201
    );
    assert_eq!(
        put(&app, cid, renshe, json!({"role": "co_host", "lead": true}))
            .await
            .status,
        200
    );
    let lead_of = |campaign: String| {
        let app = &app;
        async move {
            partners(app, &format!("/api/v1/campaigns/{campaign}/partners"))
                .await
                .into_iter()
                .filter(|p| p.2)
                .map(|p| p.0)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        lead_of(cid.to_string()).await,
        ["高州市人力资源和社会保障局"]
    );
    assert_eq!(lead_of(oid.to_string()).await, ["高州市教育局"]);
}

#[actix_web::test]
async fn list_filters_by_role_and_pages() {
    let app = TestApp::spawn().await;
    app.campaign("gaozhou-2014").await;
    let co_hosts = [
        "高州市教育局",
        "高州市人力资源和社会保障局",
        "高州市文化局",
        "高州市体育局",
        "高州市总工会",
    ];
    for name in co_hosts {
        let unit = app.unit(name).await;
        let res = put(&app, "gaozhou-2014", unit, json!({"role": "co_host"})).await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let zhixiao = app.unit("高州市职业技术学校").await;
    put(&app, "gaozhou-2014", zhixiao, json!({"role": "undertaker"})).await;
    let member = app.unit("高州市潘州街道社区教育中心").await;
    put(&app, "gaozhou-2014", member, json!({"role": "member"})).await;

    let names = |rows: Vec<(String, String, bool)>| -> Vec<String> {
        rows.into_iter().map(|r| r.0).collect()
    };
    assert_eq!(
        names(partners(&app, "/api/v1/campaigns/gaozhou-2014/partners?role=co_host").await),
        co_hosts
    );
    assert_eq!(
        names(
            partners(
                &app,
                "/api/v1/campaigns/gaozhou-2014/partners?role=undertaker"
            )
            .await
        ),
        ["高州市职业技术学校"]
    );
    assert_eq!(
        names(partners(&app, "/api/v1/campaigns/gaozhou-2014/partners?role=member").await),
        ["高州市潘州街道社区教育中心"]
    );
    app.get_problem("/api/v1/campaigns/gaozhou-2014/partners?role=sponsor", 400)
        .await;

    let mut seen = Vec::new();
    let mut path = "/api/v1/campaigns/gaozhou-2014/partners?limit=3".to_string();
    let mut pages = 0;
    loop {
        let res = app.get(&path).send().await;
        assert_eq!(res.status, 200, "{}", res.text());
        let page = res.json();
        pages += 1;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["unit_name"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/v1/campaigns/gaozhou-2014/partners?limit=3&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut expected: Vec<String> = co_hosts.iter().map(|s| s.to_string()).collect();
    expected.push("高州市职业技术学校".into());
    expected.push("高州市潘州街道社区教育中心".into());
    assert_eq!(seen, expected);
    // Another campaign has none of them.
    app.campaign("gaozhou-2015").await;
    assert!(
        partners(&app, "/api/v1/campaigns/gaozhou-2015/partners")
            .await
            .is_empty()
    );
}

#[actix_web::test]
async fn validation_if_match_and_delete() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let jiaoyu = app.unit("高州市教育局").await;
    let tiyu = app.unit("高州市体育局").await;
    let path = format!("/api/v1/campaigns/{cid}/partners/{jiaoyu}");
    let list = format!("/api/v1/campaigns/{cid}/partners");

    let res = put(&app, cid, jiaoyu, json!({"role": "sponsor"})).await;
    assert_eq!(res.error_fields(), ["role"]);
    let res = put(
        &app,
        cid,
        jiaoyu,
        json!({"role": "member", "since": "2014"}),
    )
    .await;
    assert_eq!(res.error_fields(), ["since"]);
    let res = put(&app, cid, jiaoyu, json!({"lead": false})).await;
    assert_eq!(res.error_fields(), ["role"]);
    // If-Match on a unit that is not a partner yet cannot match.
    let res = app
        .put(&path)
        .admin()
        .header("If-Match", "\"anything\"")
        .json(json!({"role": "co_host"}))
        .send()
        .await;
    res.problem(412);
    assert!(partners(&app, &list).await.is_empty());

    let res = put(&app, cid, jiaoyu, json!({"role": "co_host"})).await;
    assert_eq!(res.status, 201);
    let etag = res.header("etag").unwrap();
    let res = app
        .put(&path)
        .admin()
        .header("If-Match", &etag)
        .json(json!({"role": "co_host", "lead": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let new_etag = res.header("etag").unwrap();
    let res = app
        .put(&path)
        .admin()
        .header("If-Match", &etag)
        .json(json!({"role": "member"}))
        .send()
        .await;
    res.problem(412);
    app.delete(&path)
        .admin()
        .header("If-Match", &etag)
        .send()
        .await
        .problem(412);
    let now = app.get(&path).send().await.json();
    assert_eq!(
        (now["role"].as_str(), now["lead"].as_bool()),
        (Some("co_host"), Some(true))
    );

    put(&app, cid, tiyu, json!({"role": "co_host"})).await;
    let res = app
        .delete(&path)
        .admin()
        .header("If-Match", &new_etag)
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert!(res.body.is_empty());
    app.get(&path).send().await.problem(404);
    app.delete(&path).admin().send().await.problem(404);
    assert_eq!(
        partners(&app, &list).await,
        [row("高州市体育局", "co_host", false)]
    );
    // The unit itself is untouched, and can join again (as new).
    assert_eq!(
        app.get(&format!("/api/v1/units/{jiaoyu}"))
            .send()
            .await
            .status,
        200
    );
    assert_eq!(
        put(&app, cid, jiaoyu, json!({"role": "member"}))
            .await
            .status,
        201
    );
}

#[actix_web::test]
async fn only_the_admin_sets_partners() {
    let app = TestApp::spawn().await;
    let c = app.campaign("gaozhou-2014").await;
    let cid = c["id"].as_str().unwrap();
    let jiaoyu = app.unit("高州市教育局").await;
    let path = format!("/api/v1/campaigns/{cid}/partners/{jiaoyu}");
    put(&app, cid, jiaoyu, json!({"role": "co_host", "lead": true})).await;
    for role in [Role::Editor, Role::Reporter, Role::Viewer] {
        let token = app.token(role, Some(jiaoyu)).await;
        app.put(&path)
            .bearer(&token)
            .json(json!({"role": "member"}))
            .send()
            .await
            .problem(403);
        app.delete(&path).bearer(&token).send().await.problem(403);
        // Reading is open to all.
        assert_eq!(app.get(&path).bearer(&token).send().await.status, 200);
    }
    app.put(&path)
        .json(json!({"role": "member"}))
        .send()
        .await
        .problem(401);
    app.delete(&path).send().await.problem(401);
    let now = app.get(&path).send().await.json();
    assert_eq!(
        (now["role"].as_str(), now["lead"].as_bool()),
        (Some("co_host"), Some(true))
    );
}
