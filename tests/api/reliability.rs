//! Faults and load: a database outage under writes, SIGTERM under load, competing If-Match.

use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;

use crate::common::{self, EmbeddedCluster, TestApp};
use crate::program::{free_port, learnweek, terminate, wait_ready};

struct Outcome {
    name: String,
    status: u16,
    retry_after: bool,
    problem_json: bool,
    took: Duration,
    at: Instant,
}

/// One attempt to create the unit `name`, under an Idempotency-Key of its own (a retry of a
/// name sends the same key and body, as a careful script does).
async fn create_unit(client: &awc::Client, base: &str, token: &str, name: String) -> Outcome {
    let started = Instant::now();
    let res = client
        .post(format!("{base}/api/v1/units"))
        .bearer_auth(token)
        .insert_header((
            "Idempotency-Key",
            format!("create-{}", name.replace("单位", "unit")),
        ))
        .timeout(Duration::from_secs(30))
        .send_json(&json!({"name": name, "kind": "other"}))
        .await;
    let (status, retry_after, problem_json) = match &res {
        Ok(r) => (
            r.status().as_u16(),
            r.headers().contains_key("retry-after"),
            r.headers()
                .get("content-type")
                .is_some_and(|v| v == "application/problem+json"),
        ),
        Err(_) => (0, false, false),
    };
    Outcome {
        name,
        status,
        retry_after,
        problem_json,
        took: started.elapsed(),
        at: Instant::now(),
    }
}

/// One writer of the load: creates `单位-{w}-{i}` for i = 0, 1, … until the phase is 3,
/// retrying a refused name (same key, same body) until it is created; then makes sure the
/// last name comes through. Returns every attempt.
async fn writer(
    client: &awc::Client,
    base: &str,
    token: &str,
    phase: &std::cell::Cell<u8>,
    w: usize,
) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut i = 0;
    while phase.get() < 3 {
        // Retry a refused name (same key, same body) until it is created.
        let name = format!("单位-{w}-{i}");
        let outcome = create_unit(client, base, token, name).await;
        let created = outcome.status == 201;
        outcomes.push(outcome);
        if created {
            i += 1;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    // The last name may still be failing when the load stops: it must come through.
    let name = format!("单位-{w}-{i}");
    if outcomes
        .last()
        .is_some_and(|o| o.status != 201 && o.name == name)
    {
        for attempt in 0.. {
            let outcome = create_unit(client, base, token, name.clone()).await;
            let status = outcome.status;
            outcomes.push(outcome);
            if status == 201 {
                break;
            }
            assert!(
                attempt < 50,
                "{name} still refused ({status}) after {attempt} retries"
            );
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }
    outcomes
}

/// Checks the attempts of an outage from `stopped_at` to `back`: only 201s and fast 503s, a
/// quick recovery, and every refused name created by a retry soon after. Returns the 201s.
fn assert_fast_503s_and_recovery(
    outcomes: &[Outcome],
    readyz_during_outage: u16,
    stopped_at: Instant,
    back: Instant,
) -> Vec<&Outcome> {
    let ok: Vec<&Outcome> = outcomes.iter().filter(|o| o.status == 201).collect();
    let unavailable: Vec<&Outcome> = outcomes.iter().filter(|o| o.status == 503).collect();
    let other: Vec<(u16, &str)> = outcomes
        .iter()
        .filter(|o| o.status != 201 && o.status != 503)
        .map(|o| (o.status, o.name.as_str()))
        .collect();
    println!(
        "outage: {} requests, {} x 2xx, {} x 503, {} other",
        outcomes.len(),
        ok.len(),
        unavailable.len(),
        other.len()
    );
    assert!(
        other.is_empty(),
        "only 201 or 503, never a 500 or a hang: {:?}",
        &other[..other.len().min(10)]
    );
    assert_eq!(readyz_during_outage, 503);
    assert!(unavailable.len() >= 10, "the outage was seen");
    assert!(unavailable.iter().all(|o| o.retry_after && o.problem_json));
    let slowest = unavailable.iter().map(|o| o.took).max().unwrap();
    assert!(
        slowest < Duration::from_millis(3000),
        "503s come fast (bounded pool wait): {slowest:?}"
    );
    let first_ok_after = ok
        .iter()
        .filter(|o| o.at > back)
        .map(|o| o.at)
        .min()
        .expect("writes succeed again");
    let recovery = first_ok_after - back;
    println!("recovered {recovery:?} after the database came back");
    assert!(
        recovery < Duration::from_millis(2500),
        "recovery took {recovery:?}"
    );
    assert!(ok.iter().any(|o| o.at < stopped_at));
    // Every name refused with a 503 was created by a retry of its key, soon after recovery.
    for refused in &unavailable {
        let created = ok
            .iter()
            .find(|o| o.name == refused.name)
            .unwrap_or_else(|| panic!("{} was never created", refused.name));
        assert!(
            created.at < back + Duration::from_secs(5),
            "{} was created {:?} after the database came back",
            refused.name,
            created.at - back
        );
    }

    ok
}

/// The names of all units, page by page.
async fn all_unit_names(client: &awc::Client, base: &str, token: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut next = Some(format!("{base}/api/v1/units?limit=200"));
    while let Some(url) = next {
        let mut res = client.get(url).bearer_auth(token).send().await.unwrap();
        let page: serde_json::Value = res.json().limit(1 << 24).await.unwrap();
        names.extend(crate::common::pluck(&page, "name"));
        next = page["next_cursor"]
            .as_str()
            .map(|c| format!("{base}/api/v1/units?limit=200&cursor={c}"));
    }
    names
}

/// Writes with Idempotency-Keys through a stop and start of PostgreSQL: every answer is a 2xx
/// or a fast 503, and a key that got a 503 is retried until it succeeds, which it does within
/// seconds of the database coming back (a 5xx never leaves a claim behind that blocks it).
#[actix_web::test]
async fn a_database_outage_gives_fast_503s_and_loses_no_acknowledged_write() {
    // A PostgreSQL of this test's own, so it can be stopped and started.
    let dir = std::path::Path::new("/dev/shm")
        .join(format!("lw-outage-{}", uuid::Uuid::new_v4().simple()));
    let mut cluster = EmbeddedCluster::start(&dir).unwrap();
    crate::common::ensure_database(&cluster.url("postgres"), "learnweek")
        .await
        .unwrap();
    let url = cluster.url("learnweek");
    crate::common::migrate(&url).await.unwrap();
    let port = free_port();
    let mut server = learnweek()
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("LEARNWEEK_JWT_SECRET", common::JWT_SECRET)
        .env("LEARNWEEK_BIND", format!("127.0.0.1:{port}"))
        .env("LEARNWEEK_RATE_LIMIT_PER_MINUTE", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(port, &mut server).await;
    let out = learnweek()
        .args(["token", "issue", "--role", "admin", "--name", "load"])
        .env("DATABASE_URL", &url)
        .env("LEARNWEEK_JWT_SECRET", common::JWT_SECRET)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let base = format!("http://127.0.0.1:{port}");
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();

    let phase = std::cell::Cell::new(0u8); // 0 before, 1 down, 2 back, 3 stop
    let stopped_at = std::cell::Cell::new(None::<Instant>);
    let restarted_at = std::cell::Cell::new(None::<Instant>);
    let readyz_during_outage = std::cell::Cell::new(0u16);
    let writers = (0..4).map(|w| writer(&client, &base, &token, &phase, w));
    let conductor = async {
        actix_web::rt::time::sleep(Duration::from_secs(3)).await;
        cluster.stop();
        stopped_at.set(Some(Instant::now()));
        phase.set(1);
        actix_web::rt::time::sleep(Duration::from_secs(2)).await;
        let res = client.get(format!("{base}/readyz")).send().await.unwrap();
        readyz_during_outage.set(res.status().as_u16());
        actix_web::rt::time::sleep(Duration::from_secs(8)).await;
        let restarted = EmbeddedCluster::start(&dir).unwrap();
        restarted_at.set(Some(Instant::now()));
        phase.set(2);
        actix_web::rt::time::sleep(Duration::from_secs(4)).await;
        phase.set(3);
        restarted
    };
    let (outcomes, restarted) = futures_util::future::join(join_all(writers), conductor).await;
    cluster = restarted;
    let outcomes: Vec<Outcome> = outcomes.into_iter().flatten().collect();

    let ok = assert_fast_503s_and_recovery(
        &outcomes,
        readyz_during_outage.get(),
        stopped_at.get().unwrap(),
        restarted_at.get().unwrap(),
    );

    // Every acknowledged write is in the database.
    let names = all_unit_names(&client, &base, &token).await;
    let lost: Vec<&str> = ok
        .iter()
        .map(|o| o.name.as_str())
        .filter(|n| !names.iter().any(|x| x == n))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(terminate(&mut server).success());
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_web::test]
async fn sigterm_under_load_drains_without_errors() {
    let db = common::fresh_database().await;
    let port = free_port();
    let mut server = learnweek()
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("LEARNWEEK_JWT_SECRET", common::JWT_SECRET)
        .env("LEARNWEEK_BIND", format!("127.0.0.1:{port}"))
        .env("LEARNWEEK_RATE_LIMIT_PER_MINUTE", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(port, &mut server).await;
    let out = learnweek()
        .args(["token", "issue", "--role", "admin", "--name", "load"])
        .env("DATABASE_URL", db.url())
        .env("LEARNWEEK_JWT_SECRET", common::JWT_SECRET)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let base = format!("http://127.0.0.1:{port}");
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let pid = server.id();
    let loops = (0..16).map(|w| {
        let (client, base, token) = (&client, &base, &token);
        async move {
            let mut statuses = Vec::new();
            for i in 0.. {
                let o = create_unit(client, base, token, format!("drain-{w}-{i}")).await;
                if o.status == 0 {
                    break; // the server stopped accepting
                }
                statuses.push(o.status);
            }
            statuses
        }
    });
    let killer = async {
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .unwrap();
    };
    let (statuses, ()) = futures_util::future::join(join_all(loops), killer).await;
    let statuses: Vec<u16> = statuses.into_iter().flatten().collect();
    println!(
        "shutdown: {} requests answered before the server closed",
        statuses.len()
    );
    assert!(statuses.len() > 16);
    assert!(
        statuses.iter().all(|s| *s == 201),
        "every accepted request was answered: {statuses:?}"
    );
    let status = terminate(&mut server);
    assert!(status.success(), "{status}");
}

#[actix_web::test]
async fn concurrent_conditional_updates_let_exactly_one_win() {
    let app = TestApp::spawn().await;
    let id = app.unit("高州市文化局").await;
    let path = format!("/api/v1/units/{id}");
    let etag = app.get(&path).send().await.header("etag").unwrap();
    let attempts = (0..10).map(|i| {
        app.patch(&path)
            .admin()
            .header("If-Match", &etag)
            .json(json!({"short_name": format!("第{i}版")}))
            .send()
    });
    let results = join_all(attempts).await;
    let won = results.iter().filter(|r| r.status == 200).count();
    let lost = results.iter().filter(|r| r.status == 412).count();
    assert_eq!(
        (won, lost),
        (1, 9),
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let winner = results.iter().find(|r| r.status == 200).unwrap().json()["short_name"].clone();
    assert_eq!(app.get(&path).send().await.json()["short_name"], winner);
}
