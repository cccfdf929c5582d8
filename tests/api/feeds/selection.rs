//! Which events a feed shows: public ones that are not drafts, of its own campaign, and the
//! slices its filters select.

use uuid::Uuid;

use super::*;
use crate::common::qs;

#[actix_web::test]
async fn only_public_events_that_are_not_drafts_appear_in_every_format() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let published = create(&app, event(&campaign, host, "终身学习讲座")).await;
    let cancelled = event(&campaign, host, "低碳生活进家庭")
        .status("cancelled")
        .starts_at("2014-10-18T09:00:00+08:00");
    let cancelled = create(&app, cancelled).await;
    let completed = event(&campaign, host, "全民终身学习活动周开幕式")
        .status("completed")
        .kind("opening_ceremony")
        .at("2014-10-20T09:00:00+08:00", "2014-10-20T11:00:00+08:00");
    let completed = create(&app, completed).await;
    create(&app, event(&campaign, host, "草稿").status("draft")).await;
    let internal = event(&campaign, host, "内部会议").visibility("internal");
    create(&app, internal.kind("meeting")).await;
    let other = app.campaign("maoming-2014").await;
    let elsewhere = event(other["id"].as_str().unwrap(), host, "另一个活动周的讲座");
    create(&app, elsewhere).await;
    let expected = [cancelled, published, completed];

    let (_, calendar) = ics(&app, "").await;
    let name = format!("{SLUG} 全民终身学习活动周");
    assert_eq!(calendar.get_name(), Some(name.as_str()));
    assert_eq!(calendar.property_value("X-WR-CALNAME"), Some(name.as_str()));
    assert!(calendar.property_value("PRODID").is_some());
    assert_eq!(calendar.property_value("VERSION"), Some("2.0"));
    assert_eq!(ids_in_every_format(&app, "").await, spelled(&expected));
    let status = |id| vevent(&calendar, id).get_status();
    assert_eq!(status(cancelled), Some(icalendar::EventStatus::Cancelled));
    for id in [published, completed] {
        assert_eq!(status(id), Some(icalendar::EventStatus::Confirmed));
    }

    let feed = atom(&app, "").await;
    assert_eq!(feed.title().as_str(), name);
    let cancelled_urn = format!("urn:uuid:{cancelled}");
    let entries = feed.entries();
    let cancelled_entry = entries.iter().find(|e| e.id() == cancelled_urn).unwrap();
    assert!(
        cancelled_entry
            .categories()
            .iter()
            .any(|c| c.term() == "cancelled" && c.scheme() == Some("urn:learnweek:event-status"))
    );

    // Ordered by start time, with the event's specifics in `_learnweek`.
    let feed = json_feed(&app, "").await;
    let in_order: Vec<String> = expected.iter().map(Uuid::to_string).collect();
    assert_eq!(json_ids(&feed), in_order);
    let item = &feed["items"][0];
    assert_eq!(item["title"], "低碳生活进家庭");
    let text = item["content_text"].as_str().unwrap();
    assert!(text.contains("【已取消】"), "{text}");
    let when = "时间：2014-10-18 09:00–2014-10-19 11:30 (Asia/Shanghai)";
    assert!(text.contains(when), "{text}");
    let ext = &item["_learnweek"];
    assert_eq!(ext["status"], "cancelled");
    assert_eq!(ext["kind"], "lecture");
    assert_eq!(ext["starts_at"], "2014-10-18T01:00:00Z");
    assert_eq!(ext["ends_at"], "2014-10-19T03:30:00Z");
    assert!(ext.get("area").is_some() && ext.get("venue").is_some());

    // A token changes nothing (feeds are public); an invalid one is still refused.
    let path = format!("/api/v1/feeds/{SLUG}/events.json");
    assert_eq!(json_ids(&app.admin_read(&path).await).len(), 3);
    let path = format!("/api/v1/feeds/{SLUG}/events.ics");
    let res = app.get(&path).bearer("not-a-token").send().await;
    res.problem(401);
    assert!(res.header("www-authenticate").is_some());
}

#[actix_web::test]
async fn filters_select_a_slice_and_bad_values_are_400() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let library = app.unit("高州市图书馆").await;
    let lecture = event(&campaign, host, "讲座").area("潘州街道");
    let lecture = create(&app, lecture.co_organizers([library])).await;
    let exhibition = event(&campaign, library, "展览").kind("exhibition");
    let exhibition = create(&app, exhibition.area("长坡镇")).await;
    let other = create(&app, event(&campaign, host, "比赛").kind("competition")).await;

    let cases: Vec<(String, Vec<Uuid>)> = vec![
        ("?kind=exhibition".into(), vec![exhibition]),
        // A unit's slice holds what it hosts, not what another unit lists it as co-organizing
        // (found by the security review: anyone could push events into a unit's channel).
        (format!("?unit_id={library}"), vec![exhibition]),
        (format!("?unit_id={host}"), vec![lecture, other]),
        (format!("?{}", qs(&[("area", "潘州街道")])), vec![lecture]),
        (format!("?kind=lecture&unit_id={library}"), vec![]),
        (format!("?kind=lecture&unit_id={host}"), vec![lecture]),
        (format!("?unit_id={}", Uuid::new_v4()), vec![]),
    ];
    for (query, expected) in cases {
        let shown = ids_in_every_format(&app, &query).await;
        assert_eq!(shown, spelled(&expected), "{query}");
    }

    for query in ["?kind=seminar", "?unit_id=not-a-uuid"] {
        for file in FILES {
            let path = format!("/api/v1/feeds/{SLUG}/{file}{query}");
            app.get(&path).send().await.problem(400);
        }
    }
}

#[actix_web::test]
async fn unknown_campaign_is_404() {
    let app = TestApp::spawn().await;
    for file in FILES {
        let path = format!("/api/v1/feeds/no-such-week/{file}");
        app.get(&path).send().await.problem(404);
    }
}
