//! Reading from a real streaming replica (`DATABASE_READ_URL`): anonymous reads are served by
//! it, token holders read their writes from the primary, and reads fall back to the primary
//! when the replica is down or lagging, without serving stale cached values.

use std::time::Duration;

use uuid::Uuid;

use crate::common::replica::{self, Replica};
use crate::common::{
    EventBuilder, ProbeHandle, TestApp, change_signal, id_of, spawn_probe, titles,
};

const STATUS_TIMEOUT: Duration = Duration::from_secs(20);

/// An app over a fresh database whose replica is `replica`, its probe running, the replica
/// caught up and reported `ok`; with a campaign and a host unit.
async fn app_on(replica: &Replica, max_lag_ms: u64) -> (TestApp, ProbeHandle, String, Uuid) {
    let app = TestApp::spawn_with(|config| {
        let primary = config.database_url.clone().unwrap();
        config.database_read_url = Some(replica.url(crate::common::dbname_of(&primary)));
        config.read_max_lag_ms = max_lag_ms;
    })
    .await;
    let probe = spawn_probe(
        app.state.reads.clone(),
        app.state.change_signal.clone(),
        app.db.url(),
    );
    let campaign = id_of(&app.campaign("gaozhou-2014").await).to_string();
    let host = app.unit("高州市教育局").await;
    // The database was created on the primary (from a template): the replica must have
    // replayed it before it can serve it.
    replica.catch_up().await;
    wait_for_status(&app, "ok").await;
    (app, probe, campaign, host)
}

/// `/readyz`'s replica field; asserts the primary is ok.
async fn replica_status(app: &TestApp) -> String {
    let ready = app.read("/readyz", None).await;
    assert_eq!(ready["primary"], "ok");
    ready["replica"].as_str().unwrap().to_string()
}

async fn wait_for_status(app: &TestApp, status: &str) {
    crate::common::eventually(STATUS_TIMEOUT, &format!("replica {status}"), || async {
        replica_status(app).await == status
    })
    .await;
}

fn replica_reads(app: &TestApp) -> u64 {
    app.state.metrics.checkouts("replica")
}

fn events_of(campaign: &str) -> String {
    format!("/api/v1/events?campaign_id={campaign}")
}

#[actix_web::test]
async fn anonymous_reads_come_from_the_replica_and_token_holders_read_their_writes() {
    let _serial = replica::exclusive().await;
    let replica = replica::shared().await;
    let (app, _probe, campaign, host) = app_on(replica, 1000).await;

    // A write, then the writer's read: from the primary, at once.
    let event = EventBuilder::new(&campaign, host)
        .title("回放的讲座")
        .visibility("public")
        .insert(&app)
        .await;
    let path = format!("/api/v1/events/{}", id_of(&event));
    let before = replica_reads(&app);
    assert_eq!(
        app.read(&path, Some(&app.admin)).await["title"],
        "回放的讲座"
    );
    let list = app.read(&events_of(&campaign), Some(&app.admin)).await;
    assert_eq!(titles(&list), ["回放的讲座"]);
    assert_eq!(
        replica_reads(&app),
        before,
        "token holders never read the replica"
    );

    // Anonymous reads: from the replica, once it has replayed the write.
    replica.catch_up().await;
    let list = app.read(&events_of(&campaign), None).await;
    assert_eq!(titles(&list), ["回放的讲座"]);
    assert_eq!(app.read(&path, None).await["title"], "回放的讲座");
    assert_eq!(
        app.get("/api/v1/campaigns/gaozhou-2014/summary")
            .send()
            .await
            .status,
        200
    );
    assert!(
        replica_reads(&app) >= before + 2,
        "anonymous reads use the replica"
    );
    assert!(
        replica.sessions(&app.db.name).await > 0,
        "the replica pool is connected to the replica"
    );
}

#[actix_web::test]
async fn a_stopped_replica_is_down_and_reads_fall_back_to_the_primary() {
    let _serial = replica::exclusive().await;
    let replica = replica::shared().await;
    let (app, _probe, campaign, host) = app_on(replica, 1000).await;
    EventBuilder::new(&campaign, host)
        .title("停机时的讲座")
        .visibility("public")
        .insert(&app)
        .await;

    replica.stop().await;
    wait_for_status(&app, "down").await;
    let before = replica_reads(&app);
    for _ in 0..3 {
        let res = app.get(&events_of(&campaign)).send().await;
        assert_eq!(titles(&res.ok(200)), ["停机时的讲座"]);
    }
    assert_eq!(replica_reads(&app), before, "the primary answered");

    replica.start().await;
    wait_for_status(&app, "ok").await;
    replica.catch_up().await;
    let list = app.read(&events_of(&campaign), None).await;
    assert_eq!(titles(&list), ["停机时的讲座"]);
    assert!(replica_reads(&app) > before, "back on the replica");
}

#[actix_web::test]
async fn a_paused_replica_is_lagging_after_the_bound_and_reads_see_new_data() {
    let _serial = replica::exclusive().await;
    let replica = replica::shared().await;
    let (app, _probe, campaign, host) = app_on(replica, 300).await;

    replica.pause().await;
    EventBuilder::new(&campaign, host)
        .title("暂停后的讲座")
        .visibility("public")
        .insert(&app)
        .await;
    wait_for_status(&app, "lagging").await;
    let before = replica_reads(&app);
    let list = app.read(&events_of(&campaign), None).await;
    assert_eq!(titles(&list), ["暂停后的讲座"], "from the primary");
    assert_eq!(replica_reads(&app), before);

    replica.resume().await;
    wait_for_status(&app, "ok").await;
    let list = app.read(&events_of(&campaign), None).await;
    assert_eq!(titles(&list), ["暂停后的讲座"]);
    assert!(replica_reads(&app) > before);
}

#[actix_web::test]
async fn an_idle_caught_up_replica_stays_ok_longer_than_the_bound() {
    let _serial = replica::exclusive().await;
    let replica = replica::shared().await;
    let max_lag = Duration::from_millis(300);
    let (app, _probe, _, _) = app_on(replica, 300).await;
    // Nothing is written here: however long ago the replica's last replayed commit was, it
    // is not behind. Watched for several times the bound (and the probe's interval).
    let until = std::time::Instant::now() + max_lag * 4;
    while std::time::Instant::now() < until {
        assert_eq!(replica_status(&app).await, "ok");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_cached_answer_is_not_computed_from_a_replica_behind_the_change_signal() {
    let _serial = replica::exclusive().await;
    let replica = replica::shared().await;
    // A bound far above the pause: the replica stays `ok`, yet it misses the change.
    let (app, _probe, campaign, host) = app_on(replica, 600_000).await;
    let _listener = change_signal::spawn_listener(app.state.change_signal.clone(), app.db.url());
    let signal = app.state.change_signal.clone();
    crate::common::eventually(STATUS_TIMEOUT, "the change signal", || async {
        signal.epoch().is_some()
    })
    .await;
    let summary = "/api/v1/campaigns/gaozhou-2014/summary";
    EventBuilder::new(&campaign, host)
        .title("第一场")
        .visibility("public")
        .insert(&app)
        .await;
    replica.catch_up().await;
    crate::common::eventually(STATUS_TIMEOUT, "the first event in the summary", || async {
        app.read(summary, None).await["events"]["total"] == 1
    })
    .await;

    replica.pause().await;
    let epoch = signal.epoch();
    EventBuilder::new(&campaign, host)
        .title("第二场")
        .visibility("public")
        .insert(&app)
        .await;
    crate::common::eventually(STATUS_TIMEOUT, "the change notified", || async {
        signal.epoch() != epoch
    })
    .await;
    // Uncached reads come from the replica, which has not replayed the second event...
    let before = replica_reads(&app);
    let list = app.read(&events_of(&campaign), None).await;
    assert_eq!(titles(&list), ["第一场"], "the replica is paused");
    assert!(replica_reads(&app) > before);
    // ...but the summary, kept until the next change, is computed from the primary.
    assert_eq!(app.read(summary, None).await["events"]["total"], 2);
    replica.resume().await;
    assert_eq!(app.read(summary, None).await["events"]["total"], 2);
}
