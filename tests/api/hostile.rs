//! Hostile callers (the security review's findings, each reproduced): floods of anonymous
//! logins, encoded paths, parallel password guesses, files built to blow up error answers,
//! trickled bodies, and oversized batches. Against 127.0.0.1 only, and bounded.

use std::process::Stdio;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::common::{self, EventBuilder, Role, TestApp, id_of};
use crate::program::{free_port, learnweek, terminate, wait_ready};

/// Sends SIGTERM to a server process when dropped (a failed assertion must not leave it running).
struct StopOnDrop(u32);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.0.to_string())
            .status();
    }
}

/// Peak resident memory of a process (kB), as the kernel counts it.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// 1,000 concurrent logins with unknown usernames (no per-address quota, as from many
/// addresses): password hashing runs one per core, the rest wait briefly and get a 503, the
/// process stays small, and readers keep being answered throughout.
#[actix_web::test]
async fn a_login_flood_neither_exhausts_memory_nor_starves_readers() {
    let db = common::fresh_database().await;
    let port = free_port();
    let metrics_port = free_port();
    let mut server = learnweek()
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("LEARNWEEK_JWT_SECRET", common::JWT_SECRET)
        .env("LEARNWEEK_BIND", format!("127.0.0.1:{port}"))
        .env("LEARNWEEK_RATE_LIMIT_PER_MINUTE", "0")
        .env("LEARNWEEK_LOGIN_RATE_PER_MINUTE", "0")
        .env(
            "LEARNWEEK_METRICS_BIND",
            format!("127.0.0.1:{metrics_port}"),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(port, &mut server).await;
    // Stopped even when an assertion fails below.
    let _stop = StopOnDrop(server.id());
    let base = format!("http://127.0.0.1:{port}");
    let connector = awc::Connector::new().limit(1100);
    let client = awc::Client::builder()
        .connector(connector)
        .timeout(Duration::from_secs(60))
        .finish();

    let flooding = std::cell::Cell::new(true);
    let logins = (0..1000).map(|i| {
        let (client, base) = (&client, &base);
        async move {
            let res = client
                .post(format!("{base}/api/v1/auth/token"))
                .send_json(&json!({"username": format!("nobody-{i}"), "password": "guess-guess"}))
                .await;
            res.map_or(0, |r| r.status().as_u16())
        }
    });
    let reader = async {
        let mut answers = Vec::new();
        while flooding.get() {
            for path in ["/readyz", "/api/v1/events"] {
                let res = client.get(format!("{base}{path}")).send().await;
                answers.push((path, res.map_or(0, |r| r.status().as_u16())));
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        answers
    };
    let flood = async {
        let statuses = join_all(logins).await;
        flooding.set(false);
        statuses
    };
    let (statuses, answers) = futures_util::future::join(flood, reader).await;

    let peak_mb = peak_rss_kb(server.id()) / 1024;
    let count = |s: u16| statuses.iter().filter(|x| **x == s).count();
    println!(
        "login flood: {} x 401, {} x 503, {} other; peak RSS {peak_mb} MB; {} reads",
        count(401),
        count(503),
        statuses.len() - count(401) - count(503),
        answers.len()
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 503),
        "{statuses:?}"
    );
    assert!(count(401) > 0, "some logins were checked");
    assert!(peak_mb < 150, "peak RSS {peak_mb} MB");
    assert!(!answers.is_empty());
    assert!(
        answers.iter().all(|(_, s)| *s == 200),
        "readers answered throughout: {answers:?}"
    );
    // The metrics listener answers without a token; the API's /metrics does not.
    let mut res = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = String::from_utf8(res.body().await.unwrap().to_vec()).unwrap();
    assert!(text.contains("learnweek_password_checks_total"), "{text}");
    let res = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(terminate(&mut server).success());
}

/// 200 parallel wrong guesses for one account: the attempt is reserved before the password
/// is checked, so at most 5 reach argon2 and the rest are locked out (429).
#[actix_web::test]
async fn parallel_guesses_get_five_password_checks_at_most() {
    let app = TestApp::spawn().await;
    let unit = app.unit("高州市妇女联合会").await;
    app.create(
        "/api/v1/accounts",
        &app.admin,
        json!({"username": "target", "password": "correct horse battery", "role": "editor", "unit_id": unit}),
    )
    .await;
    let before = app.state.metrics.password_checks();
    let guesses = (0..200).map(|i| {
        app.post("/api/v1/auth/token")
            .json(json!({"username": "target", "password": format!("wrong-{i}")}))
            .send()
    });
    let answers = join_all(guesses).await;
    let checked = app.state.metrics.password_checks() - before;
    let locked = answers.iter().filter(|r| r.status == 429).count();
    let refused = answers.iter().filter(|r| r.status == 401).count();
    println!("200 guesses: {refused} x 401, {locked} x 429, {checked} password checks");
    assert!(checked <= 5, "{checked} guesses reached the password check");
    assert_eq!(refused as u64, checked);
    assert_eq!(refused + locked, 200);
    // The right password is locked out too, for now.
    let res = app
        .post("/api/v1/auth/token")
        .json(json!({"username": "target", "password": "correct horse battery"}))
        .send()
        .await;
    res.problem(429);
}

/// Usernames longer than any account may have are refused before any work (they used to be a
/// 500 from the database at about 2.7 KB).
#[actix_web::test]
async fn overlong_credentials_are_refused_by_name() {
    let app = TestApp::spawn().await;
    let before = app.state.metrics.password_checks();
    let res = app
        .post("/api/v1/auth/token")
        .json(json!({"username": "x".repeat(3000), "password": "y".repeat(3000)}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["username", "password"]);
    assert_eq!(app.state.metrics.password_checks(), before);
}

/// `POST /api/v1/%74okens` reaches token creation: it must be treated as that route. Its
/// answer (a secret) is never stored for an Idempotency-Key, and login quotas hold whatever
/// spelling of the path.
#[actix_web::test]
async fn an_encoded_path_is_the_route_it_reaches() {
    use crate::common::schema::idempotency_keys;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;

    let app = TestApp::spawn_with(|c| c.login_rate_per_minute = 3).await;
    let res = app
        .post("/api/v1/%74okens")
        .admin()
        .header("Idempotency-Key", "mint-1")
        .json(json!({"name": "encoded", "role": "admin"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let token = res.json()["token"].as_str().unwrap().to_string();
    let stored: Vec<Option<Vec<u8>>> = idempotency_keys::table
        .select(idempotency_keys::response_body)
        .load(&mut app.conn().await)
        .await
        .unwrap();
    assert!(
        stored
            .iter()
            .flatten()
            .all(|body| !String::from_utf8_lossy(body).contains(&token)),
        "a minted secret was stored"
    );
    assert!(
        stored.is_empty(),
        "no key is kept for a route that does not replay"
    );

    // The login quota (3 a minute here) counts every spelling of the login path.
    let mut statuses = Vec::new();
    for path in [
        "/api/v1/auth/token",
        "/api/v1/auth/%74oken",
        "/api/v1/%61uth/token",
        "/api/v1/auth/token",
    ] {
        let res = app
            .post(path)
            .json(json!({"username": "nobody", "password": "guess"}))
            .send()
            .await;
        statuses.push(res.status);
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
}

/// An 8 MB file of one-cell rows used to become a 306 MB answer: rows of the wrong width
/// count against the row limit, and errors stop at 100.
#[actix_web::test]
async fn a_malformed_csv_gets_a_small_answer() {
    let app = TestApp::spawn().await;
    let unit = app.unit("高州市妇女联合会").await;
    let reporter = app.token(Role::Reporter, Some(unit)).await;
    let mut csv = String::from("活动,类别,口径,人数,日期\n");
    while csv.len() < 8 << 20 {
        csv.push_str("x\n");
    }
    let res = app
        .post("/api/v1/tallies/import")
        .bearer(&reporter)
        .body("text/csv", csv)
        .send()
        .await;
    let problem = res.problem(422);
    assert!(
        res.body.len() < 64 << 10,
        "a {} byte answer",
        res.body.len()
    );
    assert!(problem["errors"].as_array().unwrap().len() <= 100);
}

/// Who may not send tallies is refused before the body is read; a batch stops being read at
/// item 5,001.
#[actix_web::test]
async fn bulk_ingestion_checks_the_caller_first_and_counts_items_while_reading() {
    let app = TestApp::spawn().await;
    let unit = app.unit("高州市电视台").await;
    let viewer = app.token(Role::Viewer, Some(unit)).await;
    for (path, content_type, body) in [
        (
            "/api/v1/tallies/batch",
            "application/json",
            "{\"items\": [".to_string(),
        ),
        (
            "/api/v1/tallies/import",
            "text/csv",
            "活动,类别\n".to_string(),
        ),
    ] {
        // A body that is cut short: refused for the role, not for the body.
        let res = app
            .post(path)
            .bearer(&viewer)
            .body(content_type, body)
            .send()
            .await;
        res.problem(403);
    }
    let reporter = app.token(Role::Reporter, Some(unit)).await;
    let ones = format!("{{\"items\": [{}]}}", vec!["1"; 2_000_000].join(","));
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&reporter)
        .body("application/json", ones)
        .send()
        .await;
    let problem = res.problem(422);
    assert_eq!(problem["errors"][0]["field"], "items");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("5000")
    );
}

/// A body trickled in by one caller holds its connection, not the bulk-ingestion turn: another
/// unit's batch goes through meanwhile.
#[actix_web::test]
async fn a_trickled_body_does_not_block_other_batches() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("trickle-2014").await;
    let unit = app.unit("高州市妇女联合会").await;
    let event = EventBuilder::new(id_of(&campaign), unit)
        .title("讲座")
        .at("2014-10-20T01:00:00Z", "2014-10-20T02:00:00Z")
        .insert(&app)
        .await;
    let slow = app.token(Role::Reporter, Some(unit)).await;
    let fast = app.token(Role::Reporter, Some(unit)).await;

    let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/tallies/batch HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {slow}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{{\"items\": ["
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();

    let item = json!({"event_id": event["id"], "category": "student", "measure": "headcount",
                      "count": 5, "tally_date": "2014-10-20"});
    let res = tokio::time::timeout(
        Duration::from_secs(20),
        app.post("/api/v1/tallies/batch")
            .bearer(&fast)
            .json(json!({"items": [item]}))
            .send(),
    )
    .await
    .expect("the batch waited for the trickled one");
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["items"].as_array().unwrap().len(), 1);
    drop(stream);
}
