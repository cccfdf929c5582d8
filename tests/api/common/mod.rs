//! Test harness: a real PostgreSQL (TEST_DATABASE_URL, or the same embedded cluster `serve`
//! uses), a migrated template database cloned per test, and the real app served over real
//! HTTP on a free port. Tokens are minted through the real token table.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::http::header::HeaderMap;
use actix_web::{HttpServer, web};
use chrono::Utc;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use learnweek::api::tokens::{self, TokenKind, TokenSpec};
use learnweek::auth::Role;
use learnweek::auth::policy::Authorized;
use learnweek::config::Config;
use learnweek::embedded::EmbeddedCluster;
use learnweek::router::{AppData, build_app};
use learnweek::state::AppState;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// Connection string of a database on the test server.
pub fn database_url(dbname: &str) -> String {
    let admin = admin_url();
    if admin.starts_with("postgres://") || admin.starts_with("postgresql://") {
        let (base, query) = match admin.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin, String::new()),
        };
        let scheme_end = base.find("://").unwrap() + 3;
        let host_part = match base[scheme_end..].find('/') {
            Some(i) => &base[..scheme_end + i],
            None => base,
        };
        format!("{host_part}/{dbname}{query}")
    } else {
        let rest: Vec<&str> = admin
            .split_whitespace()
            .filter(|kv| !kv.starts_with("dbname="))
            .collect();
        format!("{} dbname={dbname}", rest.join(" "))
    }
}

/// The maintenance database of the test server.
pub fn admin_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("TEST_DATABASE_URL")
            && !url.trim().is_empty()
        {
            return url;
        }
        static CLUSTER: OnceLock<EmbeddedCluster> = OnceLock::new();
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            std::path::PathBuf::from("/dev/shm/learnweek-test-pg")
        } else {
            std::env::temp_dir().join("learnweek-test-pg")
        };
        let cluster = CLUSTER.get_or_init(|| {
            EmbeddedCluster::start(&base).expect("start the embedded test cluster")
        });
        cluster.url("postgres")
    })
}

async fn admin_conn() -> AsyncPgConnection {
    AsyncPgConnection::establish(admin_url())
        .await
        .expect("connect to the test server")
}

#[derive(diesel::QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

/// A migrated template database, made once per schema (its name carries a hash of the migrations).
async fn template() -> &'static str {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("lw_tmpl_{}", migrations_hash());
            let mut conn = admin_conn().await;
            diesel::sql_query("SELECT pg_advisory_lock(7426513)").execute(&mut conn).await.unwrap();
            let ready: Flag = diesel::sql_query(
                "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate) AS flag",
            )
            .bind::<Text, _>(&name)
            .get_result(&mut conn)
            .await
            .unwrap();
            if !ready.flag {
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
                learnweek::db::migrate(&database_url(&name)).await.expect("migrate the template");
                diesel::sql_query(format!("ALTER DATABASE {name} WITH IS_TEMPLATE true"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            diesel::sql_query("SELECT pg_advisory_unlock(7426513)").execute(&mut conn).await.unwrap();
            name
        })
        .await
}

fn migrations_hash() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut hasher = Sha256::new();
    for entry in entries {
        hasher.update(entry.file_name().unwrap().to_string_lossy().as_bytes());
        hasher.update(std::fs::read(entry.join("up.sql")).unwrap_or_default());
    }
    hasher.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh database cloned from the template.
pub async fn fresh_database() -> TestDb {
    let template = template().await;
    let name = format!("lwt_{}", Uuid::new_v4().simple());
    let mut conn = admin_conn().await;
    diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .execute(&mut conn)
        .await
        .unwrap();
    TestDb { name }
}

/// An empty database (no schema), for migration tests.
pub async fn empty_database() -> TestDb {
    let name = format!("lwt_{}", Uuid::new_v4().simple());
    let mut conn = admin_conn().await;
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    TestDb { name }
}

/// A per-test database, dropped when the test ends.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub fn url(&self) -> String {
        database_url(&self.name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; use a thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = AsyncPgConnection::establish(admin_url()).await {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn)
                            .await;
                }
            });
        })
        .join();
    }
}

pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: Some(database_url.to_string()),
        data_dir: std::env::temp_dir(),
        bind: "127.0.0.1:0".into(),
        jwt_secret: Some(JWT_SECRET.into()),
        cors_origins: vec!["https://frontend.example".into()],
        webhook_allow_private: true,
        pool_size: 8,
        rate_limit_per_minute: 0,
        login_rate_per_minute: 0,
        metrics_bind: None,
        webhook_retry_base_ms: 200,
        webhook_poll_ms: 50,
    }
}

/// The real app on a free port, over its own database.
pub struct TestApp {
    pub base: String,
    pub state: web::Data<AppState>,
    pub admin: String,
    server: actix_web::dev::ServerHandle,
    client: awc::Client,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let db = fresh_database().await;
        let mut config = test_config(&db.url());
        adjust(&mut config);
        Self::serve(db, config).await
    }

    pub async fn serve(db: TestDb, config: Config) -> TestApp {
        let url = config.database_url.clone().unwrap();
        let pool = learnweek::db::build_pool(&url, config.pool_size).unwrap();
        let data = AppData::new(AppState::new(pool, JWT_SECRET, config).unwrap());
        let state = data.state.clone();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let app_data = data.clone();
        let server = HttpServer::new(move || build_app(app_data.clone()))
            .workers(2)
            .disable_signals()
            .shutdown_timeout(1)
            .listen(listener)
            .unwrap()
            .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(120))
            .disable_redirects()
            .finish();
        let mut app = TestApp {
            base: format!("http://127.0.0.1:{port}"),
            state,
            admin: String::new(),
            server: handle,
            client,
            db,
        };
        app.admin = app.token(Role::Admin, None).await;
        app
    }

    /// Mints a real token for `role` (and unit), as `POST /tokens` would.
    pub async fn token(&self, role: Role, unit: Option<Uuid>) -> String {
        self.token_expiring(role, unit, Utc::now() + chrono::Duration::hours(1))
            .await
    }

    pub async fn token_expiring(
        &self,
        role: Role,
        unit: Option<Uuid>,
        expires_at: chrono::DateTime<Utc>,
    ) -> String {
        let mut conn = self.state.conn().await.unwrap();
        let spec = TokenSpec {
            name: format!("test-{role}-{}", Uuid::new_v4().simple()),
            kind: TokenKind::Api,
            role,
            unit_id: unit,
            account_id: None,
            created_by: "test".into(),
            expires_at,
        };
        tokens::mint(
            &mut conn,
            &self.state.jwt,
            &Authorized::system("test"),
            &spec,
        )
        .await
        .unwrap()
        .1
    }

    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            app: self,
            method,
            path: path.to_string(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> Req<'_> {
        self.req(Method::PUT, path)
    }

    pub fn patch(&self, path: &str) -> Req<'_> {
        self.req(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> Req<'_> {
        self.req(Method::DELETE, path)
    }

    /// Creates a unit as admin and returns its id.
    pub async fn unit(&self, name: &str) -> Uuid {
        let res = self
            .post("/api/v1/units")
            .bearer(&self.admin)
            .json(json!({"name": name, "kind": "government_department"}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        res.id()
    }

    /// Creates a campaign as admin and returns it.
    pub async fn campaign(&self, slug: &str) -> Value {
        let res = self
            .post("/api/v1/campaigns")
            .bearer(&self.admin)
            .json(json!({
                "slug": slug,
                "name": format!("{slug} 全民终身学习活动周"),
                "starts_on": "2014-10-19",
                "ends_on": "2014-10-25",
                "areas": ["潘州街道", "石仔岭街道", "长坡镇"]
            }))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        res.json()
    }

    /// Runs SQL against the app's database (for assertions on what was stored).
    pub async fn conn(&self) -> learnweek::db::DbConn {
        self.state.conn().await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the completion future is not needed.
        drop(self.server.stop(false));
    }
}

pub struct Req<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
}

impl Req<'_> {
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn json(mut self, value: Value) -> Self {
        self.body = Some((
            "application/json".into(),
            serde_json::to_vec(&value).unwrap(),
        ));
        self
    }

    pub fn body(mut self, content_type: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Some((content_type.into(), bytes.into()));
        self
    }

    pub async fn send(self) -> Resp {
        let url = format!("{}{}", self.app.base, self.path);
        let mut req = self.app.client.request(self.method, url);
        for (name, value) in &self.headers {
            req = req.insert_header((name.as_str(), value.as_str()));
        }
        let mut res = match self.body {
            Some((content_type, bytes)) => req
                .insert_header(("Content-Type", content_type))
                .send_body(bytes)
                .await
                .expect("request failed"),
            None => req.send().await.expect("request failed"),
        };
        let body = res
            .body()
            .limit(64 << 20)
            .await
            .expect("read body")
            .to_vec();
        Resp {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body,
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    pub fn id(&self) -> Uuid {
        self.json()["id"].as_str().unwrap().parse().unwrap()
    }

    /// Asserts a problem+json answer with `status`; returns the problem.
    #[track_caller]
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{}",
            self.text()
        );
        let p = self.json();
        assert_eq!(p["status"], status);
        assert!(p["type"].is_string() && p["title"].is_string() && p["detail"].is_string());
        p
    }

    /// The field names a 422 complains about.
    #[track_caller]
    pub fn error_fields(&self) -> Vec<String> {
        let p = self.problem(422);
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Merges `fields` into `base` (a fixture with a few changes).
pub fn with(mut base: Value, fields: Value) -> Value {
    for (k, v) in fields.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// `pairs` as a URL query string.
pub fn qs(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

pub fn id_of(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

impl TestApp {
    /// POSTs `body` to `path` with `token`; asserts 201 and returns the created resource.
    pub async fn create(&self, path: &str, token: &str, body: Value) -> Value {
        let res = self.post(path).bearer(token).json(body).send().await;
        assert_eq!(res.status, 201, "{}", res.text());
        res.json()
    }

    /// The titles of `GET <path>?<pairs>`, with a token or anonymously; asserts 200.
    pub async fn list_titles(
        &self,
        path: &str,
        token: Option<&str>,
        pairs: &[(&str, &str)],
    ) -> Vec<String> {
        let mut req = self.get(&format!("{path}?{}", qs(pairs)));
        if let Some(t) = token {
            req = req.bearer(t);
        }
        let res = req.send().await;
        assert_eq!(res.status, 200, "{}", res.text());
        titles(&res.json())
    }
}

/// The `title` of every item of a list page.
pub fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_string())
        .collect()
}

/// Polls `check` until it returns true or `timeout` passes (for effects that happen in the
/// background, like webhook deliveries). Fails the test on timeout.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The claims of a JWT, read without checking it (to compare with what the API says).
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
