//! The app under test: [`TestApp`] serves the real app over real HTTP on a free port, over its
//! own database; [`Req`] and [`Resp`] are its requests and responses.
//!
//! Every path into the `learnweek` crate that the tests use is named in this file (the
//! re-exports below and the few calls in `impl TestApp`), so a move in `src/` is mended here.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::http::header::HeaderMap;
use actix_web::{HttpServer, web};
use chrono::Utc;
use learnweek::api::tokens::{self, TokenKind, TokenSpec};
use learnweek::auth::policy::Authorized;
use learnweek::router::{AppData, build_app};
use learnweek::state::AppState;
use serde_json::Value;
use uuid::Uuid;

pub use learnweek::api::health::exposition as metrics_exposition;
pub use learnweek::api::webhooks::Worker;
pub use learnweek::api::webhooks::delivery::MAX_IN_FLIGHT_PER_UNIT;
pub use learnweek::auth::Role;
pub use learnweek::change_signal;
pub use learnweek::config::Config;
pub use learnweek::db::{DbConn, ensure_database, migrate};
pub use learnweek::embedded::EmbeddedCluster;
pub use learnweek::idempotency::purge_expired;
pub use learnweek::replica::{ProbeHandle, spawn_probe};
pub use learnweek::schema;
pub use learnweek::seed::synthetic::Params as SyntheticParams;

use super::db::{TestDb, fresh_database};

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// The OpenAPI document the app serves, as text.
pub fn openapi_json() -> &'static str {
    learnweek::openapi::json()
}

pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: Some(database_url.to_string()),
        database_read_url: None,
        read_max_lag_ms: 5000,
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

    /// Serves `config` (over `db`) with an admin token in `admin`.
    pub async fn serve(db: TestDb, config: Config) -> TestApp {
        let mut app = Self::serve_without_token(db, config).await;
        app.admin = app.token(Role::Admin, None).await;
        app
    }

    /// Serves `config` without minting a token, so its database may be down or unmigrated.
    pub async fn serve_without_token(db: TestDb, config: Config) -> TestApp {
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
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            state,
            admin: String::new(),
            server: handle,
            client,
            db,
        }
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

    /// Runs SQL against the app's database (for assertions on what was stored).
    pub async fn conn(&self) -> DbConn {
        self.state.conn().await.unwrap()
    }

    /// Loads the Gaozhou 2014 demo week; returns the loader's report.
    pub async fn load_demo_week(&self) -> String {
        learnweek::seed::gaozhou::load(&self.state).await.unwrap()
    }

    /// Loads a synthetic campaign.
    pub async fn load_synthetic(&self, params: SyntheticParams) {
        learnweek::seed::synthetic::load(&self.state, params)
            .await
            .unwrap();
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

    /// `method path` with `token` and `body` as JSON (`Value::Null`: no body at all).
    pub async fn call(&self, method: Method, path: &str, token: &str, body: Value) -> Resp {
        let req = self.req(method, path).bearer(token);
        match body {
            Value::Null => req.send().await,
            body => req.json(body).send().await,
        }
    }

    /// `GET path` with `token` (or none); asserts 200 and returns the JSON.
    pub async fn read(&self, path: &str, token: Option<&str>) -> Value {
        let mut req = self.get(path);
        if let Some(token) = token {
            req = req.bearer(token);
        }
        let res = req.send().await;
        assert_eq!(res.status, 200, "GET {path}: {}", res.text());
        res.json()
    }

    /// `GET path` as the admin; asserts 200 and returns the JSON.
    pub async fn admin_read(&self, path: &str) -> Value {
        self.read(path, Some(&self.admin)).await
    }

    /// POSTs `body` to `path` with `token`; asserts 201 and returns the created resource.
    pub async fn create(&self, path: &str, token: &str, body: Value) -> Value {
        let res = self.post(path).bearer(token).json(body).send().await;
        assert_eq!(res.status, 201, "POST {path}: {}", res.text());
        res.json()
    }

    /// `GET path` without a token; asserts a problem+json answer with `status`.
    pub async fn get_problem(&self, path: &str, status: u16) -> Value {
        self.get(path).send().await.problem(status)
    }

    /// A merge patch of `path` with `token` and `If-Match: etag`: asserts 200 and a new tag;
    /// returns the patched resource and its tag.
    pub async fn patch_if_match(
        &self,
        path: &str,
        token: &str,
        etag: &str,
        merge: Value,
    ) -> (Value, String) {
        let req = self.patch(path).bearer(token).header("If-Match", etag);
        let res = req.merge_patch(merge).send().await;
        let patched = res.ok(200);
        let new_etag = res.header("etag").unwrap();
        assert_ne!(new_etag, etag, "PATCH {path} keeps its tag");
        (patched, new_etag)
    }

    /// A PATCH of `path` with `token` and a stale `If-Match` tag: asserts 412.
    pub async fn patch_stale(&self, path: &str, token: &str, etag: &str, body: Value) {
        let req = self.patch(path).bearer(token).header("If-Match", etag);
        req.json(body).send().await.problem(412);
    }

    /// Sends each `(method, path, body)` with `token` and asserts `status` for every one (a
    /// problem+json answer where `status` is an error).
    pub async fn expect(&self, status: u16, token: &str, requests: Vec<(Method, &str, Value)>) {
        for (method, path, body) in requests {
            let what = format!("{method} {path} {body}");
            let res = self.call(method, path, token, body).await;
            if status >= 400 {
                let p = res.problem(status);
                assert_eq!(p["status"], status, "{what}");
            } else {
                assert_eq!(res.status, status, "{what}: {}", res.text());
            }
        }
    }

    /// Sends each body as `method path` with `token` and asserts a 422 naming exactly the
    /// fields given (space-separated, in any order).
    pub async fn expect_invalid(
        &self,
        method: Method,
        path: &str,
        token: &str,
        cases: Vec<(Value, &str)>,
    ) {
        for (body, fields) in cases {
            let what = format!("{method} {path} {body}");
            let mut got = self
                .call(method.clone(), path, token, body)
                .await
                .error_fields();
            got.sort();
            let mut want: Vec<&str> = fields.split_whitespace().collect();
            want.sort();
            assert_eq!(got, want, "{what}");
        }
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

    /// With the admin's token.
    pub fn admin(self) -> Self {
        let token = self.app.admin.clone();
        self.bearer(&token)
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

    /// A JSON merge patch (`application/merge-patch+json`).
    pub fn merge_patch(self, value: Value) -> Self {
        self.body("application/merge-patch+json", value.to_string())
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

    /// Asserts `status` (for a 2xx) and returns the JSON body.
    #[track_caller]
    pub fn ok(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        self.json()
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
