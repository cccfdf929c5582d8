//! Webhooks under load and abuse: concurrent delivery with one change in flight per
//! subscription, a unit's share of the worker, the cap on subscriptions, DNS outside
//! transactions, the backlog gauge.

use std::time::Duration;

use base64::Engine;
use diesel_async::RunQueryDsl;
use serde_json::json;

use super::{Receiver, WAIT, event, subscribe, verify};
use crate::common::{Method, Role, TestApp, Worker, eventually};

/// The `webhook-id`s as change-feed positions (`msg_<seq>`).
fn seqs(ids: &[String]) -> Vec<i64> {
    ids.iter()
        .map(|id| id.trim_start_matches("msg_").parse().unwrap())
        .collect()
}

fn strictly_rising(seqs: &[i64]) -> bool {
    seqs.windows(2).all(|w| w[0] < w[1])
}

#[actix_web::test]
async fn a_slow_receiver_delays_only_itself() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("gaozhou-2014").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let host = app.unit("高州市图书馆").await;
    let slow = Receiver::slow(vec![], Duration::from_secs(8));
    let fast = Receiver::start(vec![]);
    // Subscribed first, so a single queue would serve it first.
    let (slow_hook, _) = subscribe(&app, &slow.url, json!(["event"])).await;
    subscribe(&app, &fast.url, json!(["event"])).await;
    let worker = Worker::start(app.state.clone());
    for i in 0..3 {
        event(&app, &campaign, host, &format!("读书分享会{i}")).await;
    }
    eventually(
        Duration::from_secs(3),
        "the fast receiver has all three while the slow one still works on its first",
        || async { fast.received().len() >= 3 },
    )
    .await;
    assert!(
        slow.received().len() <= 1,
        "the next change waits for the answer to the previous one"
    );
    let fast_seqs = seqs(&fast.ids());
    assert_eq!(fast_seqs.len(), 3);
    assert!(strictly_rising(&fast_seqs), "{fast_seqs:?}");

    eventually(
        Duration::from_secs(45),
        "the slow receiver has all three",
        || async { slow.received().len() >= 3 },
    )
    .await;
    worker.stop().await;
    assert_eq!(
        seqs(&slow.ids()),
        fast_seqs,
        "the same changes, in commit order"
    );
    assert_eq!(
        slow.max_concurrency(),
        1,
        "one delivery at a time per subscription"
    );
    let log = app
        .admin_read(&format!("/api/v1/webhooks/{slow_hook}/deliveries"))
        .await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{log}");
    assert!(items.iter().all(|d| d["succeeded"] == true), "{log}");
}

#[actix_web::test]
async fn a_change_in_flight_is_never_sent_twice_at_once() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("gaozhou-2014").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let host = app.unit("高州市老年大学").await;
    let receiver = Receiver::slow(vec![], Duration::from_secs(2));
    let (hook, _) = subscribe(&app, &receiver.url, json!(["event"])).await;
    // Two replicas.
    let (a, b) = (
        Worker::start(app.state.clone()),
        Worker::start(app.state.clone()),
    );
    event(&app, &campaign, host, "太极拳培训").await;
    event(&app, &campaign, host, "广场舞比赛").await;
    eventually(WAIT, "the first change in flight", || async {
        !receiver.received().is_empty()
    })
    .await;
    // A new secret (like re-enabling) makes the subscription due at once: that must not let
    // the other worker start on the change still in flight.
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    );
    let request = (
        Method::PATCH,
        &*format!("/api/v1/webhooks/{hook}"),
        json!({"secret": secret}),
    );
    app.expect(200, &app.admin, vec![request]).await;
    eventually(WAIT, "both changes delivered", || async {
        receiver.received().len() >= 2
    })
    .await;
    a.stop().await;
    b.stop().await;
    let got = seqs(&receiver.ids());
    assert_eq!(receiver.max_concurrency(), 1, "{got:?}");
    assert_eq!(got.len(), 2, "each change once: {got:?}");
    assert!(strictly_rising(&got), "{got:?}");
    assert!(verify(&secret, &receiver.received()[1]));
}

#[actix_web::test]
async fn a_unit_may_have_at_most_twenty_webhooks() {
    let app = TestApp::spawn().await;
    let unit = app.unit("高州市广播电视台").await;
    let viewer = app.token(Role::Viewer, Some(unit)).await;
    let receiver = Receiver::start(vec![]);
    let statuses: Vec<(u16, Vec<String>)> =
        futures_util::future::join_all((0..25).map(|_| async {
            let res = app
                .post("/api/v1/webhooks")
                .bearer(&viewer)
                .json(json!({"url": receiver.url, "types": ["event"]}))
                .send()
                .await;
            let fields = if res.status == 422 {
                res.error_fields()
            } else {
                vec![]
            };
            (res.status, fields)
        }))
        .await;
    let created = statuses.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 20, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|(s, f)| *s == 201 || (*s == 422 && f == &["unit_id"])),
        "{statuses:?}"
    );
    let res = app
        .post("/api/v1/webhooks")
        .bearer(&viewer)
        .json(json!({"url": receiver.url, "types": ["event"]}))
        .send()
        .await;
    let problem = res.problem(422);
    assert_eq!(
        problem["errors"][0]["message"],
        "a unit may have at most 20 webhooks"
    );
    let listed = app.read("/api/v1/webhooks?limit=100", Some(&viewer)).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 20);

    // Admin-owned ones (no unit) are counted together, and moving one into a full unit is
    // creating one there.
    let mut admin_owned = Vec::new();
    for _ in 0..20 {
        admin_owned.push(subscribe(&app, &receiver.url, json!(["event"])).await.0);
    }
    let res = app
        .post("/api/v1/webhooks")
        .admin()
        .json(json!({"url": receiver.url, "types": ["event"]}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["unit_id"]);
    let path = format!("/api/v1/webhooks/{}", admin_owned[0]);
    let res = app
        .patch(&path)
        .admin()
        .json(json!({"unit_id": unit}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["unit_id"]);
    // Other changes to a subscription of a full unit are fine; a deletion makes room.
    let request = (
        Method::PATCH,
        &*path,
        json!({"types": ["event", "training"]}),
    );
    app.expect(200, &app.admin, vec![request]).await;
    assert_eq!(app.delete(&path).admin().send().await.status, 204);
    subscribe(&app, &receiver.url, json!(["event"])).await;
}

#[actix_web::test]
async fn unresolvable_hosts_are_refused_on_create_and_change() {
    let app = TestApp::spawn_with(|c| c.webhook_allow_private = false).await;
    let res = app
        .post("/api/v1/webhooks")
        .admin()
        .json(json!({"url": "https://nonexistent.invalid/hook", "types": ["event"]}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["url"]);
    let (id, _) = subscribe(&app, "https://8.8.8.8/hook", json!(["event"])).await;
    let path = format!("/api/v1/webhooks/{id}");
    let res = app
        .patch(&path)
        .admin()
        .json(json!({"url": "https://nonexistent.invalid/hook", "types": ["nonsense"]}))
        .send()
        .await;
    assert_eq!(
        res.error_fields(),
        ["url", "types[0]"],
        "every problem at once"
    );
    let res = app.get(&path).admin().send().await;
    assert_eq!(res.json()["url"], "https://8.8.8.8/hook");

    // The host is looked up before the row is locked (and with no pooled connection held):
    // while another transaction holds the row, the refusal still comes at once.
    let mut holder = app.conn().await;
    diesel::sql_query("BEGIN")
        .execute(&mut holder)
        .await
        .unwrap();
    diesel::sql_query("SELECT 1 FROM webhook_subscriptions WHERE id = $1::uuid FOR UPDATE")
        .bind::<diesel::sql_types::Text, _>(&id)
        .execute(&mut holder)
        .await
        .unwrap();
    let res = tokio::time::timeout(
        Duration::from_secs(5),
        app.patch(&path)
            .admin()
            .json(json!({"url": "https://nonexistent.invalid/other"}))
            .send(),
    )
    .await
    .expect("the lookup waited for the row lock");
    assert_eq!(res.error_fields(), ["url"]);
    diesel::sql_query("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
}

/// `learnweek_webhook_backlog` as scraped.
async fn backlog_gauge(app: &TestApp) -> Option<i64> {
    let text = app.get("/metrics").admin().send().await.text();
    text.lines()
        .find_map(|l| l.strip_prefix("learnweek_webhook_backlog "))
        .and_then(|n| n.trim().parse().ok())
}

#[actix_web::test]
async fn the_backlog_gauge_comes_from_the_worker_not_from_each_scrape() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("gaozhou-2014").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let host = app.unit("高州市科协").await;
    // Keeps failing, so nothing leaves the backlog.
    let receiver = Receiver::start(vec![503; 10_000]);
    subscribe(&app, &receiver.url, json!(["event"])).await;
    for i in 0..3 {
        event(&app, &campaign, host, &format!("科普讲座{i}")).await;
    }
    let worker = Worker::start(app.state.clone());
    eventually(WAIT, "the worker published a backlog of 3", || async {
        backlog_gauge(&app).await == Some(3)
    })
    .await;
    worker.stop().await;
    event(&app, &campaign, host, "科普讲座3").await;
    // A scrape (of the LEARNWEEK_METRICS_BIND listener, which needs no token) does no
    // database work: with every pooled connection taken it still answers at once, with the
    // number the worker last published.
    let mut held = Vec::new();
    for _ in 0..app.state.config.pool_size {
        held.push(app.conn().await);
    }
    let started = std::time::Instant::now();
    let res = crate::common::metrics_exposition(&app.state).await;
    let took = started.elapsed();
    drop(held);
    assert_eq!(res.status(), 200);
    assert!(took < Duration::from_secs(1), "a scrape took {took:?}");
    let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("learnweek_webhook_backlog 3"), "{text}");
}

#[actix_web::test]
async fn one_unit_gets_at_most_its_share_of_the_deliveries_in_flight() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("gaozhou-2014").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let host = app.unit("高州市文化馆").await;
    let unit = app.unit("高州市融媒体中心").await;
    let editor = app.token(Role::Editor, Some(unit)).await;
    // Five subscriptions of one unit, all to one slow receiver.
    let slow = Receiver::slow(vec![], Duration::from_secs(1));
    for _ in 0..5 {
        let request = (
            Method::POST,
            "/api/v1/webhooks",
            json!({"url": slow.url, "types": ["event"]}),
        );
        app.expect(201, &editor, vec![request]).await;
    }
    let worker = Worker::start(app.state.clone());
    event(&app, &campaign, host, "非遗展演").await;
    eventually(WAIT, "each subscription got the change", || async {
        slow.received().len() >= 5
    })
    .await;
    worker.stop().await;
    assert_eq!(
        slow.max_concurrency(),
        crate::common::MAX_IN_FLIGHT_PER_UNIT
    );
}

#[actix_web::test]
async fn stopping_lets_the_deliveries_in_flight_finish() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("gaozhou-2014").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let host = app.unit("高州市博物馆").await;
    let slow = Receiver::slow(vec![], Duration::from_secs(2));
    let (hook, _) = subscribe(&app, &slow.url, json!(["event"])).await;
    let worker = Worker::start(app.state.clone());
    event(&app, &campaign, host, "文物知识讲座").await;
    eventually(WAIT, "a delivery in flight", || async {
        !slow.received().is_empty()
    })
    .await;
    worker.stop().await;
    // Answered and recorded before `stop` returned: nothing is sent again after a restart.
    let log = app
        .admin_read(&format!("/api/v1/webhooks/{hook}/deliveries"))
        .await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{log}");
    assert_eq!(items[0]["succeeded"], true, "{log}");
}
