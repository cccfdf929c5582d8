//! Conditional GET: ETag and Last-Modified from what the public can see, 304s until a public
//! change, and the rendered feeds and validators kept in memory until a change is notified.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::common::{change_signal, eventually};

const CACHE_CONTROL: Option<&str> = Some("public, max-age=60");

/// The status of `GET file` with each conditional header given.
async fn statuses(app: &TestApp, file: &str, headers: &[(&str, &str)]) -> Vec<u16> {
    let mut all = Vec::new();
    for (name, value) in headers {
        all.push(conditional(app, file, name, value).await.status);
    }
    all
}

/// Each format answers 304 to its own validators (in every spelling), 200 to stale ones, and
/// has one tag per format and per filter.
async fn every_format_answers_its_validators(app: &TestApp) {
    let mut etags = BTreeSet::new();
    for file in FILES {
        let res = fetch(app, file, "").await;
        let etag = res.header("etag").expect("ETag");
        let last_modified = res.header("last-modified").expect("Last-Modified");
        assert_eq!(res.header("cache-control").as_deref(), CACHE_CONTROL);
        etags.insert(etag.clone());

        for (name, value) in [
            ("If-None-Match", etag.clone()),
            ("If-None-Match", format!("W/{etag}")),
            ("If-None-Match", format!("\"other\", {etag}")),
            ("If-Modified-Since", last_modified.clone()),
        ] {
            let res = conditional(app, file, name, &value).await;
            assert_eq!(res.status, 304, "{file} {name}: {value}");
            assert!(res.body.is_empty());
            assert_eq!(res.header("etag").as_deref(), Some(etag.as_str()));
            assert_eq!(res.header("cache-control").as_deref(), CACHE_CONTROL);
        }
        // A stale tag, an earlier date, or a date in the future: the full feed.
        let stale = [
            ("If-None-Match", "\"stale\""),
            ("If-Modified-Since", "Sat, 18 Oct 2014 00:00:00 GMT"),
            ("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"),
        ];
        assert_eq!(statuses(app, file, &stale).await, [200, 200, 200], "{file}");
        // If-None-Match decides when both are sent (RFC 9110 13.2.2).
        let res = app
            .get(&format!("/api/v1/feeds/{SLUG}/{file}"))
            .header("If-None-Match", "\"stale\"")
            .header("If-Modified-Since", &last_modified)
            .send()
            .await;
        assert_eq!(res.status, 200);
        // Each filter is its own feed with its own tag.
        let sliced = fetch(app, file, "?kind=lecture").await;
        assert_ne!(sliced.header("etag"), Some(etag.clone()));
    }
    assert_eq!(etags.len(), 3, "one tag per format");
}

#[actix_web::test]
async fn conditional_get_answers_304_until_an_event_changes() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let id = create(&app, event(&campaign, host, "老年人智能手机培训")).await;
    age_the_change_log(&app).await;
    every_format_answers_its_validators(&app).await;

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
    let fresh_date = fresh.header("last-modified").unwrap();
    let res = conditional(&app, "events.ics", "If-Modified-Since", &fresh_date).await;
    // (Held back for 5 seconds; a machine that stalled that long proves nothing here.)
    if changed.elapsed() < Duration::from_secs(4) {
        assert_eq!(res.status, 200);
    }
    // The new ETag answers 304 at once.
    let fresh_tag = fresh.header("etag").unwrap();
    let res = conditional(&app, "events.ics", "If-None-Match", &fresh_tag).await;
    assert_eq!(res.status, 304);

    // A change to the campaign (its name is the calendar's name) changes the tag too.
    let rename = json!({"name": "高州市2014年全民终身学习活动周"});
    let path = format!("/api/v1/campaigns/{campaign}");
    app.expect(200, &app.admin, vec![(Method::PATCH, &path, rename)])
        .await;
    let (renamed, calendar) = ics(&app, "").await;
    assert_ne!(renamed.header("etag"), fresh.header("etag"));
    assert_eq!(calendar.get_name(), Some("高州市2014年全民终身学习活动周"));
}

/// Starts the change listener `serve` runs and waits until it listens: validators are then
/// answered from memory.
async fn listening(app: &TestApp) -> tokio::sync::watch::Sender<bool> {
    let signal = app.state.change_signal.clone();
    let listener = change_signal::spawn_listener(signal, app.db.url());
    let epoch = || async { app.state.change_signal.epoch().is_some() };
    eventually(Duration::from_secs(10), "listening", epoch).await;
    listener
}

#[actix_web::test]
async fn cached_validators_are_dropped_as_soon_as_anything_changes() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let id = create(&app, event(&campaign, host, "社区广场舞展示")).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let signal = app.state.change_signal.clone();
    let listener = actix_web::rt::spawn(change_signal::listen(signal, app.db.url(), stopped));
    let epoch = || async { app.state.change_signal.epoch().is_some() };
    eventually(Duration::from_secs(10), "listening", epoch).await;
    let etag = fetch(&app, "events.ics", "").await.header("etag").unwrap();
    for _ in 0..3 {
        let res = conditional(&app, "events.ics", "If-None-Match", &etag).await;
        assert_eq!(res.status, 304);
    }
    patch(&app, id, json!({"title": "太极拳表演"})).await;
    // The change's NOTIFY reaches the cache within moments, and the old ETag stops matching.
    let new_title = || async {
        let res = conditional(&app, "events.ics", "If-None-Match", &etag).await;
        res.status == 200 && res.text().contains("太极拳表演")
    };
    eventually(
        Duration::from_secs(2),
        "a 200 with the new title",
        new_title,
    )
    .await;
    let _ = stop.send(true);
    let _ = listener.await;
    let cache = app.state.change_signal.epoch();
    assert!(cache.is_none(), "no listener, no cache");
}

/// The feeds' validators are made of what the feeds show: a change to an internal or draft
/// event (or its deletion) must not move them, or a poller would learn that it happened.
#[actix_web::test]
async fn validators_move_only_with_what_the_public_can_see() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let public = create(&app, event(&campaign, host, "家庭教育讲座")).await;
    let other = create(&app, event(&campaign, host, "书画展").kind("exhibition")).await;
    let internal = || {
        event(&campaign, host, "内部会议")
            .visibility("internal")
            .kind("meeting")
    };
    let draft = || event(&campaign, host, "草稿").status("draft");
    let internal_id = create(&app, internal()).await;
    let draft_id = create(&app, draft()).await;
    let doomed = create(&app, internal()).await;
    age_the_change_log(&app).await;
    let before = validators(&app).await;
    let updated_before = *atom(&app, "").await.updated();

    patch(&app, internal_id, json!({"title": "内部会议（改期）"})).await;
    let hidden = json!({"title": "草稿二", "visibility": "internal"});
    patch(&app, draft_id, hidden).await;
    delete(&app, doomed).await;
    create(&app, internal()).await;
    create(&app, draft()).await;
    assert_eq!(validators(&app).await, before);
    for (file, (etag, last_modified)) in FILES.into_iter().zip(&before) {
        let headers = [
            ("If-None-Match", &etag[..]),
            ("If-Modified-Since", last_modified),
        ];
        assert_eq!(statuses(&app, file, &headers).await, [304, 304], "{file}");
    }
    let updated = *atom(&app, "").await.updated();
    assert_eq!(
        updated, updated_before,
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
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let id = create(&app, event(&campaign, host, "社区广场舞展示")).await;
    let _listener = listening(&app).await;
    let mut first = Vec::new();
    for file in FILES {
        first.push(fetch(&app, file, "").await);
    }

    // A write behind the API's back notifies nobody: what was rendered is what is served.
    let behind =
        "UPDATE events SET title = '幕后改动', sequence = sequence + 1, updated_at = now()";
    sql(&app, behind).await;
    for (file, first) in FILES.into_iter().zip(&first) {
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
    let renewed = || async {
        let res = conditional(&app, "events.ics", "If-None-Match", &etag).await;
        res.status == 200 && res.text().contains("太极拳表演")
    };
    eventually(Duration::from_secs(5), "the change in the feed", renewed).await;
}
