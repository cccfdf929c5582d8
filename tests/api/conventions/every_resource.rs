//! Table-driven: each convention checked for every resource that has it.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{
    CampaignBuilder, CommitteeBodyBuilder, EventBuilder, MediaReportBuilder, MemberBuilder,
    TallyBuilder, TestApp, TrainingBuilder, UnitBuilder, uuid,
};

/// What the bodies of the table refer to: a campaign, a unit, an event and a committee body.
struct Week {
    app: TestApp,
    campaign: Uuid,
    unit: Uuid,
    event: Uuid,
    body: Uuid,
}

impl Week {
    async fn new() -> Week {
        let app = TestApp::spawn().await;
        let campaign = uuid(&app.campaign("gaozhou-2014").await);
        let unit = app.unit("高州市教育局").await;
        let event = uuid(&EventBuilder::new(campaign, unit).insert(&app).await);
        let body = CommitteeBodyBuilder::new(campaign, "领导小组", "leading_group");
        let body = uuid(&body.insert(&app).await);
        Week {
            app,
            campaign,
            unit,
            event,
            body,
        }
    }
}

/// One resource: a name for messages, its collection, and the `n`th distinct valid body.
struct Resource {
    name: &'static str,
    make: fn(&Week, usize) -> (String, Value),
    /// A valid merge patch.
    patch: Value,
}

fn resources() -> Vec<Resource> {
    vec![
        Resource {
            name: "unit",
            make: |_, n| UnitBuilder::new(&format!("成员单位{n}")).request(),
            patch: json!({"short_name": "简称"}),
        },
        Resource {
            name: "campaign",
            make: |_, n| CampaignBuilder::new(&format!("week-{n}")).request(),
            patch: json!({"theme": "全民终身学习　创造出彩人生"}),
        },
        Resource {
            name: "event",
            make: |w, _| EventBuilder::low_carbon(w.campaign, w.unit).request(),
            patch: json!({"title": "低碳生活进万家"}),
        },
        Resource {
            name: "training",
            make: |w, _| TrainingBuilder::computer_course(w.campaign, w.unit).request(),
            patch: json!({"title": "电脑培训"}),
        },
        Resource {
            name: "tally",
            make: |w, n| {
                let date = format!("2014-10-{}", 19 + n % 7);
                TallyBuilder::event(w.event, w.unit).date(date).request()
            },
            patch: json!({"count": 135}),
        },
        Resource {
            name: "media report",
            make: |w, _| MediaReportBuilder::tv(w.campaign, w.unit).request(),
            patch: json!({"url": "https://example.org/news/1"}),
        },
        Resource {
            name: "committee body",
            make: |w, n| {
                let name = format!("工作小组{n}");
                CommitteeBodyBuilder::new(w.campaign, &name, "office")
                    .parent(w.body)
                    .request()
            },
            patch: json!({"name": "办公室"}),
        },
        Resource {
            name: "committee member",
            make: |w, n| MemberBuilder::new(w.campaign, w.body, &format!("成员{n}")).request(),
            patch: json!({"phone": "0668-6200002"}),
        },
    ]
}

/// Creates the `n`th body of `r` as admin: (its path, the created JSON, its ETag).
async fn create(w: &Week, r: &Resource, n: usize) -> (String, Value, String) {
    let (collection, body) = (r.make)(w, n);
    let res = w.app.post(&collection).admin().json(body).send().await;
    assert_eq!(res.status, 201, "{}: {}", r.name, res.text());
    let created = res.json();
    let location = res.header("location").unwrap();
    let path = format!("{collection}/{}", created["id"].as_str().unwrap());
    assert_eq!(location, path, "{}", r.name);
    (location, created, res.header("etag").unwrap())
}

/// Every create answers 201 with the new resource, its Location and ETag; reading it back
/// gives the same representation and tag, and the tag answers 304.
#[actix_web::test]
async fn every_create_returns_location_and_an_etag_that_reads_back() {
    let w = Week::new().await;
    for r in resources() {
        let (location, created, etag) = create(&w, &r, 0).await;
        assert!(etag.starts_with('"'), "{}: {etag}", r.name);
        let fetched = w.app.get(&location).admin().send().await;
        assert_eq!(fetched.ok(200), created, "{}", r.name);
        assert_eq!(
            fetched.header("etag").as_deref(),
            Some(etag.as_str()),
            "{}",
            r.name
        );
        let res = w
            .app
            .get(&location)
            .admin()
            .header("If-None-Match", &etag)
            .send()
            .await;
        assert_eq!(res.status, 304, "{}", r.name);
        assert!(res.body.is_empty());
    }
}

/// Every PATCH honours If-Match: the current tag lets a merge patch through and moves the
/// tag; the old tag is then refused with 412 and changes nothing; the new one works.
#[actix_web::test]
async fn every_patch_honours_if_match() {
    let w = Week::new().await;
    for r in resources() {
        let (path, _, etag) = create(&w, &r, 1).await;
        let patch = |tag: &str| {
            w.app
                .patch(&path)
                .admin()
                .header("If-Match", tag)
                .merge_patch(r.patch.clone())
        };
        let res = patch(&etag).send().await;
        let updated = res.ok(200);
        let new_etag = res.header("etag").unwrap();
        assert_ne!(new_etag, etag, "{}", r.name);
        patch(&etag).send().await.problem(412);
        let after = w.app.get(&path).admin().send().await;
        assert_eq!(after.ok(200), updated, "{}", r.name);
        assert_eq!(after.header("etag").unwrap(), new_etag, "{}", r.name);
        assert_eq!(patch(&new_etag).send().await.status, 200, "{}", r.name);
    }
}

/// Every DELETE honours If-Match, answers 204 with no body, and the resource is gone after:
/// reading or deleting it again is a 404.
#[actix_web::test]
async fn every_delete_honours_if_match_and_leaves_a_404() {
    let w = Week::new().await;
    for r in resources() {
        let (path, _, _) = create(&w, &r, 2).await;
        let delete = || w.app.delete(&path).admin();
        delete()
            .header("If-Match", "\"stale\"")
            .send()
            .await
            .problem(412);
        assert_eq!(
            w.app.get(&path).admin().send().await.status,
            200,
            "{}",
            r.name
        );
        let res = delete().send().await;
        assert_eq!(res.status, 204, "{}: {}", r.name, res.text());
        assert!(res.body.is_empty());
        w.app.get(&path).admin().send().await.problem(404);
        delete().send().await.problem(404);
    }
}

/// An id nobody has is a 404 for every read and write of every resource.
#[actix_web::test]
async fn every_unknown_id_is_a_404() {
    let w = Week::new().await;
    for r in resources() {
        let (collection, _) = (r.make)(&w, 3);
        let path = format!("{collection}/{}", Uuid::now_v7());
        w.app.get(&path).admin().send().await.problem(404);
        let patch = w.app.patch(&path).admin().json(r.patch.clone());
        patch.send().await.problem(404);
        w.app.delete(&path).admin().send().await.problem(404);
    }
}

/// Every list takes a `limit` from 1 to 200: outside that range is a 422 naming `limit`, and
/// what is not a number (or not a cursor) is a 400.
#[actix_web::test]
async fn every_list_refuses_a_limit_out_of_range() {
    let w = Week::new().await;
    let mut lists: Vec<String> = resources().iter().map(|r| (r.make)(&w, 4).0).collect();
    lists.extend(["/api/v1/audit", "/api/v1/webhooks"].map(String::from));
    for list in lists {
        let get = |query: &str| w.app.get(&format!("{list}?{query}")).admin().send();
        for bad in ["0", "201", "-1"] {
            let res = get(&format!("limit={bad}")).await;
            assert_eq!(res.error_fields(), ["limit"], "{list}?limit={bad}");
        }
        get("limit=abc").await.problem(400);
        get("cursor=garbage").await.problem(400);
        for good in ["limit=200", "limit=1"] {
            assert_eq!(get(good).await.status, 200, "{list}?{good}");
        }
    }
}
