//! Lists of events: filters, pages in start-time order, and what anonymous callers see.

use std::collections::HashMap;

use serde_json::json;

use super::*;
use crate::common::{ListCase, Role, gaozhou_week, uuid};

#[actix_web::test]
async fn list_filters_by_campaign_kind_status_unit_area_time_window_and_chinese_title() {
    let units = [
        "高州市妇女联合会",
        "高州市文化局",
        "高州市总工会",
        "高州市老干局老年大学",
    ];
    let (app, cid, [fulian, wenhua, zonggonghui, laoganju]) = gaozhou_week(units).await;
    let oid = id_of_campaign(&app, "gaozhou-2015").await;
    let cid = cid.as_str();

    EventBuilder::low_carbon(cid, fulian).insert(&app).await;
    let fire = (
        "消防安全、牢记心间",
        "2014-10-21T15:00:00+08:00",
        "2014-10-21T17:00:00+08:00",
    );
    let fire = event(cid, zonggonghui, fire.0, fire.1, fire.2);
    fire.co_organizers([wenhua])
        .area("石仔岭街道")
        .insert(&app)
        .await;
    let festival = (
        "2014年老年文化艺术节",
        "2014-10-23T09:00:00+08:00",
        "2014-10-23T12:00:00+08:00",
    );
    event(cid, laoganju, festival.0, festival.1, festival.2)
        .kind("performance")
        .status("completed")
        .area("潘州街道")
        .venue(json!({"name": "潘州公园", "address": null}))
        .insert(&app)
        .await;
    let draft = (
        "社区教育成果巡回展",
        "2014-10-20T09:00:00+08:00",
        "2014-10-25T17:00:00+08:00",
    );
    let draft = event(cid, fulian, draft.0, draft.1, draft.2).kind("exhibition");
    draft.status("draft").area("潘州街道").insert(&app).await;
    let books = (
        "南国书香节高州巡回活动",
        "2015-10-18T09:00:00+08:00",
        "2015-10-18T17:00:00+08:00",
    );
    let books = event(&oid, wenhua, books.0, books.1, books.2);
    books.kind("reading_promotion").insert(&app).await;

    let (wenhua, fulian) = (wenhua.to_string(), fulian.to_string());
    let cases: Vec<ListCase> = vec![
        // Everything, in order of start time.
        (
            vec![],
            vec![
                "低碳生活进家庭",
                "社区教育成果巡回展",
                "消防安全、牢记心间",
                "2014年老年文化艺术节",
                "南国书香节高州巡回活动",
            ],
        ),
        (vec![("campaign_id", &oid)], vec!["南国书香节高州巡回活动"]),
        (vec![("kind", "lecture")], vec!["消防安全、牢记心间"]),
        (vec![("kind", "performance")], vec!["2014年老年文化艺术节"]),
        (vec![("status", "completed")], vec!["2014年老年文化艺术节"]),
        (vec![("status", "draft")], vec!["社区教育成果巡回展"]),
        // unit_id: the host or a co-organizer.
        (
            vec![("unit_id", &wenhua)],
            vec!["消防安全、牢记心间", "南国书香节高州巡回活动"],
        ),
        (
            vec![("unit_id", &fulian)],
            vec!["低碳生活进家庭", "社区教育成果巡回展"],
        ),
        (
            vec![("area", "潘州街道")],
            vec![
                "低碳生活进家庭",
                "社区教育成果巡回展",
                "2014年老年文化艺术节",
            ],
        ),
        (
            vec![("area", "石仔岭街道"), ("campaign_id", cid)],
            vec!["消防安全、牢记心间"],
        ),
        // from: ends at or after; to: starts before (both bounds are exact).
        (
            vec![
                ("from", "2014-10-19T11:30:00+08:00"),
                ("to", "2014-10-23T09:00:00+08:00"),
            ],
            vec!["低碳生活进家庭", "社区教育成果巡回展", "消防安全、牢记心间"],
        ),
        (
            vec![
                ("from", "2014-10-19T11:30:01+08:00"),
                ("to", "2014-10-23T09:00:01+08:00"),
            ],
            vec![
                "社区教育成果巡回展",
                "消防安全、牢记心间",
                "2014年老年文化艺术节",
            ],
        ),
        (
            vec![("from", "2014-10-26T00:00:00+08:00")],
            vec!["南国书香节高州巡回活动"],
        ),
        // q: a Chinese substring of the title, case-insensitive, wildcards literal.
        (vec![("q", "消防")], vec!["消防安全、牢记心间"]),
        (vec![("q", "文化")], vec!["2014年老年文化艺术节"]),
        (
            vec![("q", "巡回")],
            vec!["社区教育成果巡回展", "南国书香节高州巡回活动"],
        ),
        (vec![("q", "%")], vec![]),
        // Filters combine.
        (
            vec![("area", "潘州街道"), ("status", "published"), ("q", "低碳")],
            vec!["低碳生活进家庭"],
        ),
    ];
    app.assert_lists("/api/v1/events", cases).await;
    let admin = Some(app.admin.as_str());
    assert_eq!(list(&app, admin, &[("campaign_id", cid)]).await.len(), 4);

    // updated_since: only what changed at or after the instant.
    let patch = json!({"expected_participants": 120});
    app.assert_updated_since("/api/v1/events", "消防", patch)
        .await;

    // Bad filter values are refused, not ignored.
    for bad in [
        "kind=picnic",
        "status=finished",
        "from=yesterday",
        "campaign_id=gaozhou",
    ] {
        app.get_problem(&format!("/api/v1/events?{bad}"), 400).await;
    }
}

/// The id of a new campaign `slug`.
async fn id_of_campaign(app: &TestApp, slug: &str) -> String {
    uuid(&app.campaign(slug).await).to_string()
}

#[actix_web::test]
async fn list_pages_in_start_time_order_with_cursors() {
    let (app, cid, [host]) = gaozhou_week(["高州市教育局"]).await;
    // Created out of order; two share a start time (the id breaks the tie).
    let starts = [
        ("书画大赛", "2014-10-22T09:00:00+08:00"),
        ("开幕式", "2014-10-19T08:30:00+08:00"),
        ("摄影大赛", "2014-10-22T09:00:00+08:00"),
        ("木刻画大赛", "2014-10-24T09:00:00+08:00"),
        ("迎国庆歌唱比赛", "2014-10-20T19:30:00+08:00"),
    ];
    for (title, at) in starts {
        let e = event(&cid, host, title, at, "2014-10-25T18:00:00+08:00");
        e.insert(&app).await;
    }
    let (seen, pages) = app.all_pages("/api/v1/events?limit=2", None).await;
    assert_eq!(pages, 3);
    let expected = [
        "开幕式",
        "迎国庆歌唱比赛",
        "书画大赛",
        "摄影大赛",
        "木刻画大赛",
    ];
    assert_eq!(seen, expected);
}

#[actix_web::test]
async fn anonymous_callers_see_no_drafts_or_internal_events_and_tokens_see_all() {
    let (app, cid, [host]) = gaozhou_week(["高州市教育局"]).await;
    let hidden = [
        ("草稿活动", "draft", "public"),
        ("内部协调会", "published", "internal"),
        ("内部草稿", "draft", "internal"),
    ];
    let shown = [
        ("公开活动", "published", "public"),
        ("取消的活动", "cancelled", "public"),
        ("已结束的活动", "completed", "public"),
    ];
    let mut ids = HashMap::new();
    for (title, status, visibility) in hidden.into_iter().chain(shown) {
        let e = event(
            &cid,
            host,
            title,
            "2014-10-20T09:00:00+08:00",
            "2014-10-20T10:00:00+08:00",
        );
        let e = e.status(status).visibility(visibility).insert(&app).await;
        ids.insert(title, uuid(&e).to_string());
    }
    let viewer = app.token(Role::Viewer, Some(host)).await;
    let public = shown.map(|(title, _, _)| title);
    app.assert_only_public_for_anonymous("/api/v1/events", &ids, &public, &viewer)
        .await;
    let internal = list(&app, Some(&viewer), &[("visibility", "internal")]).await;
    assert_eq!(internal.len(), 2);
}
