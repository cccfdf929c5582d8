//! The `learnweek` binary itself: embedded default, replicas migrating together, the CLI.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, TestApp};

const BIN: &str = env!("CARGO_BIN_EXE_learnweek");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn learnweek() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("DATABASE_URL")
        .env_remove("LEARNWEEK_JWT_SECRET")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    cmd
}

pub async fn wait_ready(port: u16, child: &mut Child) {
    let client = awc::Client::default();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let res = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await;
        if res.is_ok_and(|r| r.status() == 200) {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("learnweek exited early: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "learnweek on port {port} never became ready"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "learnweek did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[actix_web::test]
async fn serve_runs_on_an_embedded_cluster_and_stops_it() {
    let data_dir = std::env::temp_dir().join(format!(
        "learnweek-embedded-{}",
        uuid::Uuid::new_v4().simple()
    ));
    for round in 0..2 {
        let port = free_port();
        let mut child = learnweek()
            .arg("serve")
            .env("LEARNWEEK_DATA_DIR", &data_dir)
            .env("LEARNWEEK_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_ready(port, &mut child).await;
        let res = awc::Client::default()
            .get(format!("http://127.0.0.1:{port}/swagger-ui/"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(data_dir.join("pg/PG_VERSION").exists(), "round {round}");
        assert!(
            data_dir.join("jwt-secret").exists(),
            "a dev signing key is kept in the data dir"
        );
        let status = terminate(&mut child);
        assert!(status.success(), "exit status {status}");
        assert!(
            !data_dir.join("pg/postmaster.pid").exists(),
            "the embedded PostgreSQL was stopped (round {round})"
        );
    }
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[actix_web::test]
async fn two_replicas_start_together_on_an_empty_database() {
    use diesel::prelude::*;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

    let db = common::empty_database().await;
    let ports = [free_port(), free_port()];
    let mut children: Vec<Child> = ports
        .iter()
        .map(|port| {
            learnweek()
                .arg("serve")
                .env("DATABASE_URL", db.url())
                .env("LEARNWEEK_JWT_SECRET", common::JWT_SECRET)
                .env("LEARNWEEK_BIND", format!("127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (port, child) in ports.iter().zip(children.iter_mut()) {
        wait_ready(*port, child).await;
    }

    // Idempotency keys live in PostgreSQL: a retry that lands on the other replica replays.
    let out = learnweek()
        .args(["token", "issue", "--role", "admin", "--name", "replicas"])
        .env("DATABASE_URL", db.url())
        .env("LEARNWEEK_JWT_SECRET", common::JWT_SECRET)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let client = awc::Client::default();
    let mut answers = Vec::new();
    for port in ports {
        let mut res = client
            .post(format!("http://127.0.0.1:{port}/api/v1/units"))
            .bearer_auth(&token)
            .insert_header(("Idempotency-Key", "replica-retry"))
            .send_json(&serde_json::json!({"name": "高州市电视台", "kind": "media"}))
            .await
            .unwrap();
        let replayed = res.headers().contains_key("idempotent-replayed");
        answers.push((res.status().as_u16(), replayed, res.body().await.unwrap()));
    }
    assert_eq!((answers[0].0, answers[0].1), (201, false));
    assert_eq!((answers[1].0, answers[1].1), (201, true));
    assert_eq!(answers[0].2, answers[1].2);

    let mut logs = Vec::new();
    for child in &mut children {
        assert!(terminate(child).success());
        let mut text = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut text).unwrap();
        logs.push(text);
    }
    let runs = logs
        .iter()
        .filter(|log| log.contains("applied migrations"))
        .count();
    assert_eq!(
        runs,
        1,
        "exactly one replica applied the migrations:\n{}",
        logs.join("\n---\n")
    );

    let mut conn = AsyncPgConnection::establish(&db.url()).await.unwrap();
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count: Count = diesel::sql_query("SELECT count(*) AS n FROM __diesel_schema_migrations")
        .get_result(&mut conn)
        .await
        .unwrap();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .count();
    assert_eq!(count.n as usize, migrations);
}

#[actix_web::test]
async fn concurrent_migrations_serialize_on_the_advisory_lock() {
    let db = common::empty_database().await;
    let url = db.url();
    let runs = futures_util::future::join_all((0..4).map(|_| crate::common::migrate(&url))).await;
    let applied: Vec<usize> = runs
        .into_iter()
        .map(|r| r.expect("every run succeeds").len())
        .collect();
    assert_eq!(applied.iter().filter(|n| **n > 0).count(), 1, "{applied:?}");
}

#[actix_web::test]
async fn token_issue_prints_only_a_working_token() {
    let app = TestApp::spawn().await;
    let out = learnweek()
        .args(["token", "issue", "--role", "admin", "--name", "bootstrap"])
        .env("DATABASE_URL", app.db.url())
        .env("LEARNWEEK_JWT_SECRET", common::JWT_SECRET)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.trim();
    assert_eq!(stdout.lines().count(), 1);
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let res = app.get("/api/v1/tokens").bearer(token).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.text().contains("bootstrap"));

    let out = learnweek()
        .args(["token", "issue", "--role", "editor", "--name", "no-unit"])
        .env("DATABASE_URL", app.db.url())
        .env("LEARNWEEK_JWT_SECRET", common::JWT_SECRET)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--unit"));
}

#[actix_web::test]
async fn a_short_or_missing_secret_is_refused_with_a_database_url() {
    let out = learnweek()
        .arg("serve")
        .env("DATABASE_URL", common::database_url("postgres"))
        .env("LEARNWEEK_JWT_SECRET", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));
    let out = learnweek()
        .args(["token", "issue", "--role", "admin", "--name", "x"])
        .env("DATABASE_URL", common::database_url("postgres"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("LEARNWEEK_JWT_SECRET"));
}
