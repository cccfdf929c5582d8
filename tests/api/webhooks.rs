//! Webhooks: Standard Webhooks signatures, order, retries, 410, restarts, SSRF, ownership.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use crate::common::{EventBuilder, Method, Role, TestApp, Worker, eventually};

mod hardening;

#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

/// A local receiver: records every request; answers with `statuses` in turn, then 200.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    /// Requests being answered now, and the most there ever were at once.
    concurrency: Arc<Mutex<(usize, usize)>>,
    _server: actix_web::dev::ServerHandle,
}

impl Receiver {
    fn start(statuses: Vec<u16>) -> Receiver {
        Receiver::slow(statuses, Duration::ZERO)
    }

    /// Takes `delay` before answering each request (recorded on arrival).
    fn slow(statuses: Vec<u16>, delay: Duration) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let concurrency = Arc::new(Mutex::new((0, 0)));
        let script = Arc::new(Mutex::new(statuses.into_iter()));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let r = received.clone();
        let c = concurrency.clone();
        let server = HttpServer::new(move || {
            let r = r.clone();
            let c = c.clone();
            let script = script.clone();
            App::new().route(
                "/hook",
                web::post().to(move |req: HttpRequest, body: web::Bytes| {
                    let r = r.clone();
                    let c = c.clone();
                    let script = script.clone();
                    async move {
                        {
                            let mut c = c.lock().unwrap();
                            c.0 += 1;
                            c.1 = c.1.max(c.0);
                        }
                        let h = |n: &str| {
                            req.headers()
                                .get(n)
                                .map(|v| v.to_str().unwrap().to_string())
                                .unwrap_or_default()
                        };
                        r.lock().unwrap().push(Received {
                            id: h("webhook-id"),
                            timestamp: h("webhook-timestamp"),
                            signature: h("webhook-signature"),
                            body: body.to_vec(),
                        });
                        let status = script.lock().unwrap().next().unwrap_or(200);
                        if !delay.is_zero() {
                            actix_web::rt::time::sleep(delay).await;
                        }
                        c.lock().unwrap().0 -= 1;
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                            .finish()
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            received,
            concurrency,
            _server: handle,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The most requests this receiver was ever answering at once.
    fn max_concurrency(&self) -> usize {
        self.concurrency.lock().unwrap().1
    }

    /// The `webhook-id`s received, in arrival order.
    fn ids(&self) -> Vec<String> {
        self.received().into_iter().map(|r| r.id).collect()
    }
}

/// Verifies a Standard Webhooks signature independently of the server's code.
fn verify(secret: &str, r: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
    mac.update(&r.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    r.signature
        .split(' ')
        .any(|s| s == format!("v1,{expected}"))
}

async fn subscribe(app: &TestApp, url: &str, types: Value) -> (String, String) {
    let res = app
        .post("/api/v1/webhooks")
        .admin()
        .json(json!({"url": url, "types": types}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let w = res.json();
    (
        w["id"].as_str().unwrap().to_string(),
        w["secret"].as_str().unwrap().to_string(),
    )
}

async fn event(app: &TestApp, campaign: &str, host: uuid::Uuid, title: &str) -> String {
    // A draft (no status given), as the hooks see every change.
    let event = EventBuilder::new(campaign, host)
        .title(title)
        .without("status");
    let event = event.at("2014-10-21T01:00:00Z", "2014-10-21T02:00:00Z");
    event.insert_id(app).await
}

fn bodies(r: &Receiver) -> Vec<Value> {
    r.received()
        .iter()
        .map(|x| serde_json::from_slice(&x.body).unwrap())
        .collect()
}

const WAIT: Duration = Duration::from_secs(20);

#[actix_web::test]
async fn signed_deliveries_in_commit_order() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("gaozhou-2014").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let host = app.unit("高州市总工会").await;
    let receiver = Receiver::start(vec![]);
    let (hook, secret) = subscribe(&app, &receiver.url, json!(["event"])).await;
    assert!(secret.starts_with("whsec_"));
    let shown = app
        .get(&format!("/api/v1/webhooks/{hook}"))
        .admin()
        .send()
        .await;
    assert!(!shown.text().contains(&secret), "the secret is shown once");

    let worker = Worker::start(app.state.clone());
    let id = event(&app, &campaign, host, "消防安全、牢记心间").await;
    app.patch(&format!("/api/v1/events/{id}"))
        .admin()
        .json(json!({"status": "published"}))
        .send()
        .await;
    app.unit("不相关的单位").await; // not an event: not delivered
    app.delete(&format!("/api/v1/events/{id}"))
        .admin()
        .send()
        .await;
    eventually(WAIT, "three deliveries", || async {
        receiver.received().len() >= 3
    })
    .await;
    worker.stop().await;

    let got = bodies(&receiver);
    let ops: Vec<&str> = got.iter().map(|b| b["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["upsert", "upsert", "delete"]);
    assert!(
        got.iter()
            .all(|b| b["type"] == "event" && b["id"] == id.as_str())
    );
    assert!(
        got.iter()
            .all(|b| b["cursor"].is_string() && b["at"].is_string())
    );
    for r in receiver.received() {
        assert!(verify(&secret, &r), "bad signature on {}", r.id);
        assert!(r.id.starts_with("msg_"));
    }
    // The cursors match the change feed's.
    let feed = app.admin_read("/api/v1/changes?type=event").await;
    let feed_cursors: Vec<&Value> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["cursor"])
        .collect();
    let hook_cursors: Vec<&Value> = got.iter().map(|b| &b["cursor"]).collect();
    assert_eq!(hook_cursors, feed_cursors);

    let log = app
        .admin_read(&format!("/api/v1/webhooks/{hook}/deliveries"))
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 3);
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["succeeded"] == true && d["status_code"] == 200)
    );
}

#[actix_web::test]
async fn a_failed_delivery_is_retried_with_the_same_message_id() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("gaozhou-2014").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let host = app.unit("团市委").await;
    let receiver = Receiver::start(vec![500, 503]);
    let (hook, secret) = subscribe(&app, &receiver.url, json!(["event"])).await;
    let worker = Worker::start(app.state.clone());
    event(&app, &campaign, host, "书画大赛").await;
    event(&app, &campaign, host, "摄影大赛").await;
    eventually(WAIT, "both events delivered after retries", || async {
        receiver.received().len() >= 4
    })
    .await;
    worker.stop().await;

    let got = receiver.received();
    assert_eq!(got[0].id, got[1].id);
    assert_eq!(got[1].id, got[2].id, "retried until it succeeded");
    assert_ne!(got[2].id, got[3].id, "and only then the next change");
    assert!(got.iter().all(|r| verify(&secret, r)));
    let titles: Vec<Value> = bodies(&receiver).iter().map(|b| b["id"].clone()).collect();
    assert_eq!(titles[0], titles[2]);
    let log = app
        .get(&format!(
            "/api/v1/webhooks/{hook}/deliveries?succeeded=false"
        ))
        .admin()
        .send()
        .await
        .json();
    let failed: Vec<i64> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(failed, [503, 500]);
    let w = app.admin_read(&format!("/api/v1/webhooks/{hook}")).await;
    assert_eq!(w["attempts"], 0);
    assert!(w["failing_since"].is_null());
}

#[actix_web::test]
async fn gone_disables_the_subscription_until_it_is_enabled_again() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("gaozhou-2014").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let host = app.unit("市妇联").await;
    let receiver = Receiver::start(vec![410]);
    let (hook, _) = subscribe(&app, &receiver.url, json!(["event"])).await;
    let worker = Worker::start(app.state.clone());
    event(&app, &campaign, host, "木刻画大赛").await;
    eventually(WAIT, "disabled after 410", || async {
        app.get(&format!("/api/v1/webhooks/{hook}"))
            .admin()
            .send()
            .await
            .json()["active"]
            == false
    })
    .await;
    let w = app.admin_read(&format!("/api/v1/webhooks/{hook}")).await;
    assert!(w["disabled_reason"].as_str().unwrap().contains("410"));
    // Disabling is a change like any other: audited, by the system.
    let audit = app
        .admin_read(&format!("/api/v1/audit?type=webhook&id={hook}"))
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| { a["actor"] == "system:webhook-delivery" && a["after"]["active"] == false }),
        "{audit}"
    );
    event(&app, &campaign, host, "歌唱比赛").await;
    // Re-enabled, it resumes with the change it stopped at.
    let request = (
        Method::PATCH,
        &*format!("/api/v1/webhooks/{hook}"),
        json!({"active": true}),
    );
    app.expect(200, &app.admin, vec![request]).await;
    eventually(WAIT, "resumed deliveries", || async {
        receiver.received().len() >= 3
    })
    .await;
    worker.stop().await;
    let got = receiver.received();
    assert_eq!(
        got[0].id, got[1].id,
        "the change refused with 410 comes again first"
    );
}

#[actix_web::test]
async fn deliveries_resume_after_a_restart() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("gaozhou-2014").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let host = app.unit("市教育学会").await;
    let receiver = Receiver::start(vec![]);
    subscribe(&app, &receiver.url, json!(["event", "training"])).await;
    // Changes committed while no worker runs (the server is down)...
    event(&app, &campaign, host, "人生健康").await;
    event(&app, &campaign, host, "残疾人权益保障").await;
    assert!(receiver.received().is_empty());
    // ... are delivered when one starts again, in order.
    let worker = Worker::start(app.state.clone());
    eventually(WAIT, "backlog delivered", || async {
        receiver.received().len() >= 2
    })
    .await;
    worker.stop().await;
    let ids: Vec<String> = receiver.received().iter().map(|r| r.id.clone()).collect();
    let mut sorted = ids.clone();
    sorted.sort_by_key(|id| id.trim_start_matches("msg_").parse::<i64>().unwrap());
    assert_eq!(ids, sorted);
    // Two workers (two replicas) on one backlog deliver each change once.
    for i in 0..6 {
        event(&app, &campaign, host, &format!("讲座{i}")).await;
    }
    let (a, b) = (
        Worker::start(app.state.clone()),
        Worker::start(app.state.clone()),
    );
    eventually(WAIT, "all delivered", || async {
        receiver.received().len() >= 8
    })
    .await;
    // Stopping lets each worker finish what it claimed: a double delivery would be in by now.
    a.stop().await;
    b.stop().await;
    let ids: Vec<String> = receiver.received().iter().map(|r| r.id.clone()).collect();
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "no change delivered twice: {ids:?}"
    );
}

#[actix_web::test]
async fn urls_are_checked_against_ssrf() {
    let app = TestApp::spawn_with(|c| c.webhook_allow_private = false).await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.7/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "ftp://example.org/hook",
        "http://user:pass@8.8.8.8/hook",
        "not a url",
    ] {
        let res = app
            .post("/api/v1/webhooks")
            .admin()
            .json(json!({"url": url, "types": ["event"]}))
            .send()
            .await;
        assert_eq!(res.error_fields(), ["url"], "{url}");
    }
    let res = app
        .post("/api/v1/webhooks")
        .admin()
        .json(json!({"url": "https://8.8.8.8/hook", "types": ["event", "nonsense"], "secret": "short"}))
        .send()
        .await;
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(fields, ["secret", "types[1]"]);

    // Changes are checked like a new subscription, and a refused one changes nothing.
    let (id, _) = subscribe(&app, "https://8.8.8.8/hook", json!(["event"])).await;
    for (patch, field) in [
        (json!({"url": "http://127.0.0.1/hook"}), "url"),
        (json!({"types": ["nonsense"]}), "types[0]"),
        (json!({"active": "yes"}), "active"),
    ] {
        let res = app
            .patch(&format!("/api/v1/webhooks/{id}"))
            .admin()
            .json(patch.clone())
            .send()
            .await;
        assert_eq!(res.error_fields(), [field], "{patch}");
    }
    let res = app
        .get(&format!("/api/v1/webhooks/{id}"))
        .admin()
        .send()
        .await;
    assert_eq!(res.json()["url"], "https://8.8.8.8/hook");
    assert_eq!(res.json()["types"], json!(["event"]));
}

#[actix_web::test]
async fn units_manage_their_own_subscriptions() {
    let app = TestApp::spawn().await;
    let tv = app.unit("高州市电视台").await;
    let other = app.unit("高州市文化局").await;
    let viewer = app.token(Role::Viewer, Some(tv)).await;
    let receiver = Receiver::start(vec![]);
    let res = app
        .post("/api/v1/webhooks")
        .bearer(&viewer)
        .json(json!({"url": receiver.url, "types": ["event"]}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let hook = res.json();
    assert_eq!(
        hook["unit_id"],
        tv.to_string(),
        "defaults to the caller's unit"
    );
    let path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());

    let other_viewer = app.token(Role::Viewer, Some(other)).await;
    app.get(&path)
        .bearer(&other_viewer)
        .send()
        .await
        .problem(404);
    app.delete(&path)
        .bearer(&other_viewer)
        .send()
        .await
        .problem(403);
    assert_eq!(
        app.get("/api/v1/webhooks")
            .bearer(&other_viewer)
            .send()
            .await
            .json()["items"],
        json!([])
    );
    let request = (
        Method::POST,
        "/api/v1/webhooks",
        json!({"url": receiver.url, "types": ["event"], "unit_id": other}),
    );
    app.expect(403, &viewer, vec![request]).await;
    let reporter = app.token(Role::Reporter, Some(tv)).await;
    app.post("/api/v1/webhooks")
        .bearer(&reporter)
        .json(json!({"url": receiver.url, "types": ["event"]}))
        .send()
        .await
        .problem(403);
    let res = app
        .post("/api/v1/webhooks")
        .bearer(&viewer)
        .json(json!({"url": receiver.url, "types": ["account"]}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["types[0]"]);
    assert_eq!(app.delete(&path).bearer(&viewer).send().await.status, 204);
}
