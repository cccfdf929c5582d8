//! Deleted events: gone from the calendar and JSON Feed, a tombstone (RFC 6721) in Atom for 30
//! days.

use super::*;
use crate::common::qs;

const TOMBSTONES_NS: &str = "http://purl.org/atompub/tombstones/1.0";

#[actix_web::test]
async fn a_deleted_event_leaves_the_calendar_and_is_a_tombstone_in_atom() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let library = app.unit("高州市图书馆").await;
    let kept = create(&app, event(&campaign, host, "读书分享会")).await;
    let gone = event(&campaign, host, "取消的讲座")
        .kind("exhibition")
        .area("长坡镇")
        .co_organizers([library]);
    let gone = create(&app, gone).await;
    let draft = create(&app, event(&campaign, host, "草稿").status("draft")).await;
    let before = fetch(&app, "events.atom", "").await;
    delete(&app, gone).await;
    delete(&app, draft).await;

    assert_eq!(ids_in_every_format(&app, "").await, spelled(&[kept]));
    let feed = atom(&app, "").await;
    let namespace = feed.namespaces().get("at").map(String::as_str);
    assert_eq!(namespace, Some(TOMBSTONES_NS));
    // Only the event that was public leaves a tombstone; the draft never was in the feed.
    let stones = tombstones(&feed);
    assert_eq!(stones.len(), 1, "{stones:?}");
    assert_eq!(stones[0].0, format!("urn:uuid:{gone}"));
    let when: chrono::DateTime<chrono::FixedOffset> = stones[0].1.parse().unwrap();
    assert!((chrono::Utc::now() - when.to_utc()).num_minutes().abs() < 5);
    // The deletion is a change: the old tag no longer matches.
    let etag = before.header("etag").unwrap();
    let res = conditional(&app, "events.atom", "If-None-Match", &etag).await;
    assert_eq!(res.status, 200);

    // Slices keep the tombstones of their events: by kind, area or host (a co-organizer's
    // slice never held the event).
    assert!(tombstones(&atom(&app, &format!("?unit_id={library}")).await).is_empty());
    for query in [
        "?kind=exhibition".to_string(),
        format!("?unit_id={host}"),
        format!("?{}", qs(&[("area", "长坡镇")])),
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
    sql(
        &app,
        "UPDATE event_tombstones SET deleted_at = now() - interval '31 days'",
    )
    .await;
    let etag = current.header("etag").unwrap();
    let res = conditional(&app, "events.atom", "If-None-Match", &etag).await;
    assert_eq!(res.status, 200);
    let feed = atom_syndication::Feed::read_from(&res.body[..]).unwrap();
    assert!(tombstones(&feed).is_empty());
    assert_eq!(atom_ids(&feed).len(), 1);
}
