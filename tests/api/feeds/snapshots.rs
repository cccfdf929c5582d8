//! The three feeds of a small fixed campaign, whole, against committed snapshots
//! (`tests/api/snapshots/feed_*.snap`): ids and clock times redacted, the rest as rendered.

use super::*;
use crate::common::assert_redacted_snapshot;

/// Three public events (one completed, one cancelled) and a draft the feeds leave out.
async fn small_campaign(app: &TestApp) {
    let (campaign, host) = setup(app).await;
    let opening = event(&campaign, host, "全民终身学习活动周开幕式")
        .kind("opening_ceremony")
        .status("completed")
        .at("2014-10-18T09:00:00+08:00", "2014-10-18T11:00:00+08:00");
    create(app, opening).await;
    create(app, EventBuilder::low_carbon(&campaign, host)).await;
    let fire = event(&campaign, host, "消防安全、牢记心间")
        .status("cancelled")
        .area("石仔岭街道")
        .at("2014-10-21T15:00:00+08:00", "2014-10-21T17:00:00+08:00");
    create(app, fire).await;
    create(app, event(&campaign, host, "草稿").status("draft")).await;
}

/// The feed `file`, its base URL (with the test server's port) replaced.
async fn rendered(app: &TestApp, file: &str) -> String {
    let res = fetch(app, file, "").await;
    let text = match file {
        "events.json" => serde_json::to_string_pretty(&res.json()).unwrap(),
        _ => res.text(),
    };
    text.replace(&app.base, "[base]")
}

#[actix_web::test]
async fn the_ics_feed_of_a_small_campaign() {
    let app = TestApp::spawn().await;
    small_campaign(&app).await;
    assert_redacted_snapshot("feed_ics", &rendered(&app, "events.ics").await);
}

#[actix_web::test]
async fn the_atom_feed_of_a_small_campaign() {
    let app = TestApp::spawn().await;
    small_campaign(&app).await;
    assert_redacted_snapshot("feed_atom", &rendered(&app, "events.atom").await);
}

#[actix_web::test]
async fn the_json_feed_of_a_small_campaign() {
    let app = TestApp::spawn().await;
    small_campaign(&app).await;
    assert_redacted_snapshot("feed_json", &rendered(&app, "events.json").await);
}
