//! `/api/v1/feeds/{slug}/events.{ics,atom,json}`: which events, the iCalendar wire format
//! (folding, CRLF, UTC), SEQUENCE and UID across edits, filters, conditional GET from the change
//! log, and tombstones for deleted events. Every feed is read with a real parser.

use std::collections::BTreeSet;

use diesel_async::RunQueryDsl;
use icalendar::{Component, EventLike};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Resp, TestApp, with};

const TOMBSTONES_NS: &str = "http://purl.org/atompub/tombstones/1.0";
const SLUG: &str = "gaozhou-2014";

/// A published public lecture of `campaign` hosted by `host`, on 19 October 2014.
fn event(campaign: &str, host: Uuid, title: &str) -> Value {
    json!({
        "campaign_id": campaign,
        "title": title,
        "kind": "lecture",
        "starts_at": "2014-10-19T09:00:00+08:00",
        "ends_at": "2014-10-19T11:30:00+08:00",
        "host_unit_id": host,
        "status": "published"
    })
}

/// Creates an event as admin; returns its id.
async fn create(app: &TestApp, body: Value) -> Uuid {
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.id()
}

async fn patch(app: &TestApp, id: Uuid, body: Value) {
    let res = app
        .patch(&format!("/api/v1/events/{id}"))
        .bearer(&app.admin)
        .json(body)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

async fn delete(app: &TestApp, id: Uuid) {
    let res = app
        .delete(&format!("/api/v1/events/{id}"))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
}

/// A campaign with one host unit: (campaign id, unit id).
async fn setup(app: &TestApp) -> (String, Uuid) {
    let campaign = app.campaign(SLUG).await;
    let host = app.unit("高州市妇女联合会").await;
    (campaign["id"].as_str().unwrap().to_string(), host)
}

async fn fetch(app: &TestApp, file: &str, query: &str) -> Resp {
    let res = app
        .get(&format!("/api/v1/feeds/{SLUG}/{file}{query}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res
}

async fn ics(app: &TestApp, query: &str) -> (Resp, icalendar::Calendar) {
    let res = fetch(app, "events.ics", query).await;
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/calendar; charset=utf-8")
    );
    let calendar: icalendar::Calendar = res.text().parse().expect("parse the iCalendar feed");
    (res, calendar)
}

async fn atom(app: &TestApp, query: &str) -> atom_syndication::Feed {
    let res = fetch(app, "events.atom", query).await;
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/atom+xml")
    );
    atom_syndication::Feed::read_from(&res.body[..]).expect("parse the Atom feed")
}

async fn json_feed(app: &TestApp, query: &str) -> Value {
    let res = fetch(app, "events.json", query).await;
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/feed+json")
    );
    let feed = res.json();
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    feed
}

fn vevents(calendar: &icalendar::Calendar) -> Vec<&icalendar::Event> {
    calendar.events().collect()
}

fn uid(id: Uuid) -> String {
    format!("{id}@learnweek")
}

fn ics_ids(calendar: &icalendar::Calendar) -> BTreeSet<String> {
    vevents(calendar)
        .iter()
        .map(|e| e.get_uid().unwrap().to_string())
        .collect()
}

fn vevent(calendar: &icalendar::Calendar, id: Uuid) -> &icalendar::Event {
    calendar
        .events()
        .find(|e| e.get_uid() == Some(uid(id).as_str()))
        .unwrap_or_else(|| panic!("no VEVENT {id}"))
}

fn atom_ids(feed: &atom_syndication::Feed) -> BTreeSet<String> {
    feed.entries().iter().map(|e| e.id().to_string()).collect()
}

fn json_ids(feed: &Value) -> Vec<String> {
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// (ref, when) of each `at:deleted-entry`.
fn tombstones(feed: &atom_syndication::Feed) -> Vec<(String, String)> {
    feed.extensions()
        .get("at")
        .and_then(|m| m.get("deleted-entry"))
        .map(|entries| {
            entries
                .iter()
                .map(|e| (e.attrs()["ref"].clone(), e.attrs()["when"].clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn only_public_events_that_are_not_drafts_appear_in_every_format() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let published = create(&app, event(&campaign, host, "终身学习讲座")).await;
    let cancelled = create(
        &app,
        with(
            event(&campaign, host, "低碳生活进家庭"),
            json!({"status": "cancelled", "starts_at": "2014-10-18T09:00:00+08:00"}),
        ),
    )
    .await;
    let completed = create(
        &app,
        with(
            event(&campaign, host, "全民终身学习活动周开幕式"),
            json!({"status": "completed", "kind": "opening_ceremony",
                   "starts_at": "2014-10-20T09:00:00+08:00", "ends_at": "2014-10-20T11:00:00+08:00"}),
        ),
    )
    .await;
    create(
        &app,
        with(event(&campaign, host, "草稿"), json!({"status": "draft"})),
    )
    .await;
    create(
        &app,
        with(
            event(&campaign, host, "内部会议"),
            json!({"visibility": "internal", "kind": "meeting"}),
        ),
    )
    .await;
    let other = app.campaign("maoming-2014").await;
    create(
        &app,
        event(other["id"].as_str().unwrap(), host, "另一个活动周的讲座"),
    )
    .await;
    let expected = [cancelled, published, completed];

    let (_, calendar) = ics(&app, "").await;
    assert_eq!(
        calendar.get_name(),
        Some(format!("{SLUG} 全民终身学习活动周").as_str())
    );
    assert_eq!(
        calendar.property_value("X-WR-CALNAME"),
        Some(format!("{SLUG} 全民终身学习活动周").as_str())
    );
    assert!(calendar.property_value("PRODID").is_some());
    assert_eq!(calendar.property_value("VERSION"), Some("2.0"));
    assert_eq!(
        ics_ids(&calendar),
        expected.iter().map(|id| uid(*id)).collect()
    );
    assert_eq!(
        vevent(&calendar, cancelled).get_status(),
        Some(icalendar::EventStatus::Cancelled)
    );
    for id in [published, completed] {
        assert_eq!(
            vevent(&calendar, id).get_status(),
            Some(icalendar::EventStatus::Confirmed)
        );
    }

    let feed = atom(&app, "").await;
    assert_eq!(
        atom_ids(&feed),
        expected.iter().map(|id| format!("urn:uuid:{id}")).collect()
    );
    assert_eq!(feed.title().as_str(), format!("{SLUG} 全民终身学习活动周"));
    let cancelled_entry = feed
        .entries()
        .iter()
        .find(|e| e.id() == format!("urn:uuid:{cancelled}"))
        .unwrap();
    assert!(
        cancelled_entry
            .categories()
            .iter()
            .any(|c| c.term() == "cancelled" && c.scheme() == Some("urn:learnweek:event-status"))
    );

    // Ordered by start time, with the event's specifics in `_learnweek`.
    let feed = json_feed(&app, "").await;
    assert_eq!(
        json_ids(&feed),
        expected.iter().map(Uuid::to_string).collect::<Vec<_>>()
    );
    let item = &feed["items"][0];
    assert_eq!(item["title"], "低碳生活进家庭");
    let text = item["content_text"].as_str().unwrap();
    assert!(text.contains("【已取消】"), "{text}");
    assert!(
        text.contains("时间：2014-10-18 09:00–2014-10-19 11:30 (Asia/Shanghai)"),
        "{text}"
    );
    let ext = &item["_learnweek"];
    assert_eq!(ext["status"], "cancelled");
    assert_eq!(ext["kind"], "lecture");
    assert_eq!(ext["starts_at"], "2014-10-18T01:00:00Z");
    assert_eq!(ext["ends_at"], "2014-10-19T03:30:00Z");
    assert!(ext.get("area").is_some() && ext.get("venue").is_some());

    // A token changes nothing (feeds are public); an invalid one is still refused.
    let res = app
        .get(&format!("/api/v1/feeds/{SLUG}/events.json"))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(json_ids(&res.json()).len(), 3);
    let res = app
        .get(&format!("/api/v1/feeds/{SLUG}/events.ics"))
        .bearer("not-a-token")
        .send()
        .await;
    res.problem(401);
    assert!(res.header("www-authenticate").is_some());
}

#[actix_web::test]
async fn ics_lines_are_crlf_folded_at_75_octets_and_chinese_text_survives() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    // Long enough to fold several times, with 3-octet characters and a 4-octet one.
    let title = "高州市全民终身学习活动周：“学习让生活更美好”社区教育系列讲座之低碳生活、\
                 家庭教育与老年人智能手机应用培训（第一期）😀暨市民摄影大赛颁奖仪式";
    let description = "倡导家庭低碳生活; 现场发放购物竹篮, 减少塑料袋使用。\n\
                       第二行：反斜杠 \\ 与冒号: 都要原样保留。";
    let id = create(
        &app,
        with(
            event(&campaign, host, title),
            json!({
                "summary": "市妇联在康泰华都小区组织活动",
                "description": description,
                "venue": {"name": "康泰华都小区", "address": "高州市潘州街道康泰华都小区广场"},
                "area": "潘州街道",
                "tags": ["低碳生活", "社区教育, 家庭"]
            }),
        ),
    )
    .await;
    // `SUMMARY:` plus 142 octets: a 150-octet line, where icalendar 0.17's own folding leaves a
    // 76-octet continuation line.
    let boundary = format!("2{}开幕", "全民终身学习活动周".repeat(5));
    assert_eq!(format!("SUMMARY:{boundary}").len(), 150);
    let boundary_id = create(&app, event(&campaign, host, &boundary)).await;
    let (res, calendar) = ics(&app, "").await;

    let body = res.text();
    assert!(body.ends_with("END:VCALENDAR\r\n"));
    let lines: Vec<&str> = body.strip_suffix("\r\n").unwrap().split("\r\n").collect();
    for line in &lines {
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "bare line break: {line:?}"
        );
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    assert!(
        lines.iter().filter(|l| l.starts_with(' ')).count() >= 3,
        "the long title should fold"
    );

    // Unfolding gives back one logical line per property, the Chinese intact.
    let unfolded = icalendar::parser::unfold(&body);
    let summary_line = unfolded
        .split("\r\n")
        .find(|l| l.starts_with("SUMMARY:"))
        .unwrap();
    assert_eq!(summary_line, format!("SUMMARY:{title}"));

    assert_eq!(
        vevent(&calendar, boundary_id).get_summary(),
        Some(boundary.as_str())
    );
    let e = vevent(&calendar, id);
    assert_eq!(e.get_summary(), Some(title));
    assert_eq!(
        e.get_description(),
        Some(format!("市妇联在康泰华都小区组织活动\n\n{description}").as_str())
    );
    assert_eq!(
        e.get_location(),
        Some("康泰华都小区, 高州市潘州街道康泰华都小区广场")
    );
    assert_eq!(
        e.get_categories(),
        Some(vec!["低碳生活".to_string(), "社区教育, 家庭".to_string()])
    );
    // UTC times.
    assert_eq!(e.property_value("DTSTART"), Some("20141019T010000Z"));
    assert_eq!(e.property_value("DTEND"), Some("20141019T033000Z"));
    assert!(e.property_value("DTSTAMP").unwrap().ends_with('Z'));
    assert!(e.property_value("LAST-MODIFIED").unwrap().ends_with('Z'));
}

#[actix_web::test]
async fn sequence_rises_with_each_edit_and_uid_stays() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let id = create(&app, event(&campaign, host, "家庭教育讲座")).await;
    let (_, before) = ics(&app, "").await;
    let seq0 = vevent(&before, id).get_sequence().unwrap();
    let modified0 = vevent(&before, id).get_last_modified().unwrap();

    patch(&app, id, json!({"title": "家庭教育讲座（改期）"})).await;
    patch(
        &app,
        id,
        json!({"starts_at": "2014-10-21T09:00:00+08:00",
                           "ends_at": "2014-10-21T11:00:00+08:00"}),
    )
    .await;
    let (_, after) = ics(&app, "").await;
    assert_eq!(ics_ids(&after), BTreeSet::from([uid(id)]));
    let e = vevent(&after, id);
    assert_eq!(e.get_sequence(), Some(seq0 + 2));
    assert!(e.get_last_modified().unwrap() >= modified0);
    assert_eq!(e.get_summary(), Some("家庭教育讲座（改期）"));
    assert_eq!(e.property_value("DTSTART"), Some("20141021T010000Z"));

    // Cancelling keeps the event (same UID) with STATUS:CANCELLED and a higher SEQUENCE.
    patch(&app, id, json!({"status": "cancelled"})).await;
    let (_, cancelled) = ics(&app, "").await;
    let e = vevent(&cancelled, id);
    assert_eq!(e.get_status(), Some(icalendar::EventStatus::Cancelled));
    assert_eq!(e.get_sequence(), Some(seq0 + 3));

    // Atom and JSON Feed keep the same ids too.
    assert_eq!(
        atom_ids(&atom(&app, "").await),
        BTreeSet::from([format!("urn:uuid:{id}")])
    );
    let feed = json_feed(&app, "").await;
    assert_eq!(json_ids(&feed), vec![id.to_string()]);
    assert_eq!(feed["items"][0]["_learnweek"]["sequence"], seq0 + 3);
}

#[actix_web::test]
async fn filters_select_a_slice_and_bad_values_are_400() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let library = app.unit("高州市图书馆").await;
    let lecture = create(
        &app,
        with(
            event(&campaign, host, "讲座"),
            json!({"area": "潘州街道", "co_organizer_unit_ids": [library]}),
        ),
    )
    .await;
    let exhibition = create(
        &app,
        with(
            event(&campaign, library, "展览"),
            json!({"kind": "exhibition", "area": "长坡镇"}),
        ),
    )
    .await;
    let other = create(
        &app,
        with(
            event(&campaign, host, "比赛"),
            json!({"kind": "competition"}),
        ),
    )
    .await;

    let cases: Vec<(String, Vec<Uuid>)> = vec![
        ("?kind=exhibition".into(), vec![exhibition]),
        // A unit's slice holds what it hosts, not what another unit lists it as co-organizing
        // (found by the security review: anyone could push events into a unit's channel).
        (format!("?unit_id={library}"), vec![exhibition]),
        (format!("?unit_id={host}"), vec![lecture, other]),
        (
            format!(
                "?{}",
                serde_urlencoded::to_string([("area", "潘州街道")]).unwrap()
            ),
            vec![lecture],
        ),
        (format!("?kind=lecture&unit_id={library}"), vec![]),
        (format!("?kind=lecture&unit_id={host}"), vec![lecture]),
        (format!("?unit_id={}", Uuid::new_v4()), vec![]),
    ];
    for (query, expected) in cases {
        let (_, calendar) = ics(&app, &query).await;
        assert_eq!(
            ics_ids(&calendar),
            expected.iter().map(|id| uid(*id)).collect(),
            "{query}"
        );
        assert_eq!(
            atom_ids(&atom(&app, &query).await),
            expected.iter().map(|id| format!("urn:uuid:{id}")).collect(),
            "{query}"
        );
        let mut ids = json_ids(&json_feed(&app, &query).await);
        ids.sort();
        let mut want: Vec<String> = expected.iter().map(Uuid::to_string).collect();
        want.sort();
        assert_eq!(ids, want, "{query}");
    }

    for query in ["?kind=seminar", "?unit_id=not-a-uuid"] {
        for file in ["events.ics", "events.atom", "events.json"] {
            app.get(&format!("/api/v1/feeds/{SLUG}/{file}{query}"))
                .send()
                .await
                .problem(400);
        }
    }
}

#[actix_web::test]
async fn unknown_campaign_is_404() {
    let app = TestApp::spawn().await;
    for file in ["events.ics", "events.atom", "events.json"] {
        app.get(&format!("/api/v1/feeds/no-such-week/{file}"))
            .send()
            .await
            .problem(404);
    }
}

/// Moves every time the feeds' validators come from (and the change log) an hour into the
/// past, as if the last write were long settled.
async fn age_the_change_log(app: &TestApp) {
    let mut conn = app.conn().await;
    for sql in [
        "UPDATE changes SET at = at - interval '1 hour'",
        "UPDATE campaigns SET updated_at = updated_at - interval '1 hour'",
        "UPDATE events SET updated_at = updated_at - interval '1 hour', \
                           left_public_at = left_public_at - interval '1 hour'",
        "UPDATE event_tombstones SET deleted_at = deleted_at - interval '1 hour'",
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
}

async fn conditional(app: &TestApp, file: &str, name: &str, value: &str) -> Resp {
    app.get(&format!("/api/v1/feeds/{SLUG}/{file}"))
        .header(name, value)
        .send()
        .await
}

#[actix_web::test]
async fn conditional_get_answers_304_until_an_event_changes() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let id = create(&app, event(&campaign, host, "老年人智能手机培训")).await;
    age_the_change_log(&app).await;

    let mut etags = BTreeSet::new();
    for file in ["events.ics", "events.atom", "events.json"] {
        let res = fetch(&app, file, "").await;
        let etag = res.header("etag").expect("ETag");
        let last_modified = res.header("last-modified").expect("Last-Modified");
        assert_eq!(
            res.header("cache-control").as_deref(),
            Some("public, max-age=60")
        );
        etags.insert(etag.clone());

        for (name, value) in [
            ("If-None-Match", etag.clone()),
            ("If-None-Match", format!("W/{etag}")),
            ("If-None-Match", format!("\"other\", {etag}")),
            ("If-Modified-Since", last_modified.clone()),
        ] {
            let res = conditional(&app, file, name, &value).await;
            assert_eq!(res.status, 304, "{file} {name}: {value}");
            assert!(res.body.is_empty());
            assert_eq!(res.header("etag").as_deref(), Some(etag.as_str()));
            assert_eq!(
                res.header("cache-control").as_deref(),
                Some("public, max-age=60")
            );
        }
        // A stale tag, an earlier date, or a date in the future: the full feed.
        assert_eq!(
            conditional(&app, file, "If-None-Match", "\"stale\"")
                .await
                .status,
            200
        );
        assert_eq!(
            conditional(
                &app,
                file,
                "If-Modified-Since",
                "Sat, 18 Oct 2014 00:00:00 GMT"
            )
            .await
            .status,
            200
        );
        assert_eq!(
            conditional(
                &app,
                file,
                "If-Modified-Since",
                "Fri, 01 Jan 2100 00:00:00 GMT"
            )
            .await
            .status,
            200
        );
        // If-None-Match decides when both are sent (RFC 9110 13.2.2).
        let res = app
            .get(&format!("/api/v1/feeds/{SLUG}/{file}"))
            .header("If-None-Match", "\"stale\"")
            .header("If-Modified-Since", &last_modified)
            .send()
            .await;
        assert_eq!(res.status, 200);
        // Each filter is its own feed with its own tag.
        let sliced = fetch(&app, file, "?kind=lecture").await;
        assert_ne!(sliced.header("etag"), Some(etag.clone()));
    }
    assert_eq!(etags.len(), 3, "one tag per format");

    let before = fetch(&app, "events.ics", "").await;
    let etag = before.header("etag").unwrap();
    let last_modified = before.header("last-modified").unwrap();
    patch(&app, id, json!({"title": "老年人智能手机培训（加场）"})).await;
    let changed = std::time::Instant::now();
    for (name, value) in [
        ("If-None-Match", etag.clone()),
        ("If-Modified-Since", last_modified),
    ] {
        let res = conditional(&app, "events.ics", name, &value).await;
        assert_eq!(res.status, 200, "{name}");
        assert_ne!(res.header("etag"), Some(etag.clone()));
        assert!(res.text().contains("加场"));
    }

    // Right after a change Last-Modified is held back, so it cannot yet give a 304: a second
    // change within the same second would otherwise hide behind it.
    let fresh = fetch(&app, "events.ics", "").await;
    let res = conditional(
        &app,
        "events.ics",
        "If-Modified-Since",
        &fresh.header("last-modified").unwrap(),
    )
    .await;
    // (Held back for 5 seconds; a machine that stalled that long proves nothing here.)
    if changed.elapsed() < std::time::Duration::from_secs(4) {
        assert_eq!(res.status, 200);
    }
    // The new ETag answers 304 at once.
    let res = conditional(
        &app,
        "events.ics",
        "If-None-Match",
        &fresh.header("etag").unwrap(),
    )
    .await;
    assert_eq!(res.status, 304);

    // A change to the campaign (its name is the calendar's name) changes the tag too.
    let res = app
        .patch(&format!("/api/v1/campaigns/{campaign}"))
        .bearer(&app.admin)
        .json(json!({"name": "高州市2014年全民终身学习活动周"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let (renamed, calendar) = ics(&app, "").await;
    assert_ne!(renamed.header("etag"), fresh.header("etag"));
    assert_eq!(calendar.get_name(), Some("高州市2014年全民终身学习活动周"));
}

#[actix_web::test]
async fn a_deleted_event_leaves_the_calendar_and_is_a_tombstone_in_atom() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let library = app.unit("高州市图书馆").await;
    let kept = create(&app, event(&campaign, host, "读书分享会")).await;
    let gone = create(
        &app,
        with(
            event(&campaign, host, "取消的讲座"),
            json!({"kind": "exhibition", "area": "长坡镇", "co_organizer_unit_ids": [library]}),
        ),
    )
    .await;
    let draft = create(
        &app,
        with(event(&campaign, host, "草稿"), json!({"status": "draft"})),
    )
    .await;
    let before = fetch(&app, "events.atom", "").await;
    delete(&app, gone).await;
    delete(&app, draft).await;

    let (_, calendar) = ics(&app, "").await;
    assert_eq!(ics_ids(&calendar), BTreeSet::from([uid(kept)]));
    assert_eq!(json_ids(&json_feed(&app, "").await), vec![kept.to_string()]);

    let feed = atom(&app, "").await;
    assert_eq!(
        feed.namespaces().get("at").map(String::as_str),
        Some(TOMBSTONES_NS)
    );
    assert_eq!(
        atom_ids(&feed),
        BTreeSet::from([format!("urn:uuid:{kept}")])
    );
    // Only the event that was public leaves a tombstone; the draft never was in the feed.
    let stones = tombstones(&feed);
    assert_eq!(stones.len(), 1, "{stones:?}");
    assert_eq!(stones[0].0, format!("urn:uuid:{gone}"));
    let when: chrono::DateTime<chrono::FixedOffset> = stones[0].1.parse().unwrap();
    assert!((chrono::Utc::now() - when.to_utc()).num_minutes().abs() < 5);
    // The deletion is a change: the old tag no longer matches.
    let res = conditional(
        &app,
        "events.atom",
        "If-None-Match",
        &before.header("etag").unwrap(),
    )
    .await;
    assert_eq!(res.status, 200);

    // Slices keep the tombstones of their events: by kind, area or host (a co-organizer's
    // slice never held the event).
    assert!(tombstones(&atom(&app, &format!("?unit_id={library}")).await).is_empty());
    for query in [
        "?kind=exhibition".to_string(),
        format!("?unit_id={host}"),
        format!(
            "?{}",
            serde_urlencoded::to_string([("area", "长坡镇")]).unwrap()
        ),
    ] {
        let stones = tombstones(&atom(&app, &query).await);
        assert_eq!(stones.len(), 1, "{query}");
    }
    for query in [
        "?kind=lecture".to_string(),
        format!("?unit_id={}", Uuid::new_v4()),
    ] {
        assert!(tombstones(&atom(&app, &query).await).is_empty(), "{query}");
    }

    // After 30 days the tombstone goes, and the Atom feed's tag changes with it.
    let current = fetch(&app, "events.atom", "").await;
    let mut conn = app.conn().await;
    diesel::sql_query("UPDATE event_tombstones SET deleted_at = now() - interval '31 days'")
        .execute(&mut conn)
        .await
        .unwrap();
    let res = conditional(
        &app,
        "events.atom",
        "If-None-Match",
        &current.header("etag").unwrap(),
    )
    .await;
    assert_eq!(res.status, 200);
    let feed = atom_syndication::Feed::read_from(&res.body[..]).unwrap();
    assert!(tombstones(&feed).is_empty());
    assert_eq!(atom_ids(&feed).len(), 1);
}

#[actix_web::test]
async fn control_characters_are_refused_and_markup_and_instant_events_make_valid_feeds() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    // Control characters (pasted from Excel) are refused: XML 1.0 and RFC 5545 cannot carry them.
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(event(&campaign, host, "开幕\u{0b}式"))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["title"]);
    let id = create(
        &app,
        with(
            event(&campaign, host, "开幕式 <直播> & 录播"),
            json!({
                "description": "第一行\r\n第二行",
                "ends_at": "2014-10-19T09:00:00+08:00"
            }),
        ),
    )
    .await;
    let (_, calendar) = ics(&app, "").await;
    let e = vevent(&calendar, id);
    assert_eq!(e.get_summary(), Some("开幕式 <直播> & 录播"));
    assert_eq!(e.get_description(), Some("第一行\n第二行"));
    // DTEND must be later than DTSTART (RFC 5545 3.8.2.2): an instant has none.
    assert_eq!(e.property_value("DTSTART"), Some("20141019T010000Z"));
    assert_eq!(e.property_value("DTEND"), None);

    let feed = atom(&app, "").await;
    assert_eq!(feed.entries()[0].title().as_str(), "开幕式 <直播> & 录播");
    let feed = json_feed(&app, "").await;
    assert_eq!(feed["items"][0]["title"], "开幕式 <直播> & 录播");
}

#[actix_web::test]
async fn cached_validators_are_dropped_as_soon_as_anything_changes() {
    use std::time::Duration;
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let id = create(&app, event(&campaign, host, "社区广场舞展示")).await;
    // The listener `serve` runs: validators are then answered from memory.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let listener = actix_web::rt::spawn(learnweek::change_signal::listen(
        app.state.change_signal.clone(),
        app.db.url(),
        stopped,
    ));
    crate::common::eventually(Duration::from_secs(10), "listening", || async {
        app.state.change_signal.epoch().is_some()
    })
    .await;
    let path = "/api/v1/feeds/gaozhou-2014/events.ics";
    let etag = app.get(path).send().await.header("etag").unwrap();
    for _ in 0..3 {
        assert_eq!(
            app.get(path)
                .header("If-None-Match", &etag)
                .send()
                .await
                .status,
            304
        );
    }
    let res = app
        .patch(&format!("/api/v1/events/{id}"))
        .bearer(&app.admin)
        .json(json!({"title": "太极拳表演"}))
        .send()
        .await;
    assert_eq!(res.status, 200);
    // The change's NOTIFY reaches the cache within moments, and the old ETag stops matching.
    crate::common::eventually(
        Duration::from_secs(2),
        "a 200 with the new title",
        || async {
            let res = app.get(path).header("If-None-Match", &etag).send().await;
            res.status == 200 && res.text().contains("太极拳表演")
        },
    )
    .await;
    let _ = stop.send(true);
    let _ = listener.await;
    assert!(
        app.state.change_signal.epoch().is_none(),
        "no listener, no cache"
    );
}

/// (ETag, Last-Modified) of each format.
async fn validators(app: &TestApp) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for file in ["events.ics", "events.atom", "events.json"] {
        let res = fetch(app, file, "").await;
        all.push((
            res.header("etag").unwrap(),
            res.header("last-modified").unwrap(),
        ));
    }
    all
}

/// The feeds' validators are made of what the feeds show: a change to an internal or draft
/// event (or its deletion) must not move them, or a poller would learn that it happened.
#[actix_web::test]
async fn validators_move_only_with_what_the_public_can_see() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let public = create(&app, event(&campaign, host, "家庭教育讲座")).await;
    let other = create(
        &app,
        with(
            event(&campaign, host, "书画展"),
            json!({"kind": "exhibition"}),
        ),
    )
    .await;
    let internal = with(
        event(&campaign, host, "内部会议"),
        json!({"visibility": "internal", "kind": "meeting"}),
    );
    let draft = with(event(&campaign, host, "草稿"), json!({"status": "draft"}));
    let internal_id = create(&app, internal.clone()).await;
    let draft_id = create(&app, draft.clone()).await;
    let doomed = create(&app, internal.clone()).await;
    age_the_change_log(&app).await;
    let before = validators(&app).await;
    let updated_before = *atom(&app, "").await.updated();

    patch(&app, internal_id, json!({"title": "内部会议（改期）"})).await;
    patch(
        &app,
        draft_id,
        json!({"title": "草稿二", "visibility": "internal"}),
    )
    .await;
    delete(&app, doomed).await;
    create(&app, internal).await;
    create(&app, draft).await;
    assert_eq!(validators(&app).await, before);
    for (file, (etag, last_modified)) in ["events.ics", "events.atom", "events.json"]
        .into_iter()
        .zip(&before)
    {
        for (name, value) in [
            ("If-None-Match", etag),
            ("If-Modified-Since", last_modified),
        ] {
            let res = conditional(&app, file, name, value).await;
            assert_eq!(res.status, 304, "{file} {name}");
        }
    }
    assert_eq!(
        *atom(&app, "").await.updated(),
        updated_before,
        "Atom's <updated> is the feed's own latest change"
    );

    // A public change moves every tag and date.
    patch(&app, public, json!({"title": "家庭教育讲座（加场）"})).await;
    let changed = validators(&app).await;
    for (old, new) in before.iter().zip(&changed) {
        assert_ne!(old.0, new.0);
        assert_ne!(old.1, new.1);
    }

    // So does a public event leaving the public: its row is gone from the feed, and the date
    // of that is public knowledge; later edits of the now internal event are not.
    age_the_change_log(&app).await;
    let before = validators(&app).await;
    patch(&app, public, json!({"visibility": "internal"})).await;
    let left = validators(&app).await;
    for (old, new) in before.iter().zip(&left) {
        assert_ne!(old.0, new.0);
        assert_ne!(old.1, new.1);
    }
    let res = conditional(&app, "events.ics", "If-Modified-Since", &before[0].1).await;
    assert_eq!(res.status, 200);
    age_the_change_log(&app).await;
    let settled = validators(&app).await;
    patch(&app, public, json!({"title": "内部讲座"})).await;
    assert_eq!(validators(&app).await, settled);

    // An event leaving a slice (its kind changed) moves the slice's date too.
    let sliced = fetch(&app, "events.ics", "?kind=exhibition").await;
    patch(&app, other, json!({"kind": "lecture"})).await;
    let res = app
        .get(&format!("/api/v1/feeds/{SLUG}/events.ics?kind=exhibition"))
        .header(
            "If-Modified-Since",
            &sliced.header("last-modified").unwrap(),
        )
        .send()
        .await;
    assert_eq!(res.status, 200);
}

/// Rendered feeds are kept while their campaign is unchanged, for every caller (feeds are the
/// same with and without a token), and dropped when its change is notified.
#[actix_web::test]
async fn rendered_feeds_are_kept_until_their_campaign_changes() {
    use std::time::Duration;
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let id = create(&app, event(&campaign, host, "社区广场舞展示")).await;
    let _listener =
        learnweek::change_signal::spawn_listener(app.state.change_signal.clone(), app.db.url());
    crate::common::eventually(Duration::from_secs(10), "listening", || async {
        app.state.change_signal.epoch().is_some()
    })
    .await;
    let mut first = Vec::new();
    for file in ["events.ics", "events.atom", "events.json"] {
        first.push(fetch(&app, file, "").await);
    }

    // A write behind the API's back notifies nobody: what was rendered is what is served.
    let mut conn = app.conn().await;
    diesel::sql_query(
        "UPDATE events SET title = '幕后改动', sequence = sequence + 1, updated_at = now()",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    for (file, first) in ["events.ics", "events.atom", "events.json"]
        .into_iter()
        .zip(&first)
    {
        let etag = first.header("etag").unwrap();
        for token in [None, Some(app.admin.as_str())] {
            let mut req = app.get(&format!("/api/v1/feeds/{SLUG}/{file}"));
            if let Some(token) = token {
                req = req.bearer(token);
            }
            let res = req.send().await;
            assert_eq!(res.status, 200);
            assert_eq!(res.body, first.body, "{file}");
            assert_eq!(res.header("etag").as_deref(), Some(etag.as_str()));
        }
        let res = conditional(&app, file, "If-None-Match", &etag).await;
        assert_eq!(res.status, 304, "{file}");
    }

    // A change made through the API is notified, and the next request renders anew.
    patch(&app, id, json!({"title": "太极拳表演"})).await;
    let etag = first[0].header("etag").unwrap();
    crate::common::eventually(Duration::from_secs(5), "the change in the feed", || async {
        let res = conditional(&app, "events.ics", "If-None-Match", &etag).await;
        res.status == 200 && res.text().contains("太极拳表演")
    })
    .await;
}

/// A campaign big enough that its feeds are streamed (over 1 MiB each): every public event
/// comes once, in order, in documents that parse; the validators still answer 304.
#[actix_web::test]
async fn big_feeds_are_streamed_whole() {
    use diesel::sql_types::BigInt;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let app = TestApp::spawn().await;
    let params = learnweek::seed::synthetic::Params {
        events: 5000,
        tallies: 0,
        campaigns: 1,
        seed: 7,
    };
    learnweek::seed::synthetic::load(&app.state, params)
        .await
        .unwrap();
    age_the_change_log(&app).await;
    let slug = "synthetic-7-1";
    let mut conn = app.conn().await;
    let expected = diesel::sql_query(
        "SELECT count(*) AS n FROM events \
         WHERE visibility = 'public' AND status <> 'draft'",
    )
    .get_result::<Count>(&mut conn)
    .await
    .unwrap()
    .n as usize;
    assert!(expected > 4000, "{expected}");

    let get = |file: &str| app.get(&format!("/api/v1/feeds/{slug}/{file}")).send();
    let res = get("events.ics").await;
    assert_eq!(res.status, 200);
    assert!(res.body.len() > 1 << 20, "{}", res.body.len());
    assert_eq!(res.header("content-length"), None, "streamed");
    let calendar: icalendar::Calendar = res.text().parse().expect("parse the iCalendar feed");
    assert_eq!(vevents(&calendar).len(), expected);
    assert_eq!(ics_ids(&calendar).len(), expected);
    assert!(res.text().ends_with("END:VCALENDAR\r\n"));
    for (name, value) in [
        ("If-None-Match", res.header("etag").unwrap()),
        ("If-Modified-Since", res.header("last-modified").unwrap()),
    ] {
        let again = app
            .get(&format!("/api/v1/feeds/{slug}/events.ics"))
            .header(name, &value)
            .send()
            .await;
        assert_eq!(again.status, 304, "{name}");
    }

    let res = get("events.json").await;
    assert_eq!(res.header("content-length"), None, "streamed");
    let items = res.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), expected);
    let starts: Vec<&str> = items
        .iter()
        .map(|i| i["_learnweek"]["starts_at"].as_str().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "in start order");
    let ids: BTreeSet<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), expected);

    let res = get("events.atom").await;
    assert_eq!(res.header("content-length"), None, "streamed");
    let feed = atom_syndication::Feed::read_from(&res.body[..]).expect("parse the Atom feed");
    assert_eq!(atom_ids(&feed).len(), expected);

    // A slice small enough is sent whole.
    let res = app
        .get(&format!("/api/v1/feeds/{slug}/events.ics?kind=meeting"))
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-length").is_some());
}

/// A campaign name stored before one-line fields refused line breaks cannot forge calendar
/// lines: it is escaped as TEXT.
#[actix_web::test]
async fn a_campaign_name_cannot_inject_calendar_lines() {
    let app = TestApp::spawn().await;
    let (campaign, _) = setup(&app).await;
    let name = "高州; 活动周, \\ x\nBEGIN:VEVENT\nUID:forged@learnweek\nSUMMARY:伪造\nEND:VEVENT";
    let mut conn = app.conn().await;
    diesel::sql_query("UPDATE campaigns SET name = $1 WHERE id = $2::uuid")
        .bind::<diesel::sql_types::Text, _>(name.replace('\n', "\r\n"))
        .bind::<diesel::sql_types::Text, _>(&campaign)
        .execute(&mut conn)
        .await
        .unwrap();
    let (res, calendar) = ics(&app, "").await;
    assert_eq!(vevents(&calendar).len(), 0, "{}", res.text());
    assert!(
        !res.text()
            .split("\r\n")
            .any(|l| l.starts_with("BEGIN:VEVENT")),
        "{}",
        res.text()
    );
    assert_eq!(calendar.property_value("X-WR-CALNAME"), Some(name));
    assert!(
        calendar
            .property_value("NAME")
            .unwrap()
            .starts_with("高州\\; 活动周\\, \\\\ x\\nBEGIN:VEVENT")
    );
}
