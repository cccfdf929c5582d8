//! Authorization: the matrix of every write operation × every kind of caller ([`matrix`], with
//! the targets it writes to in [`fixtures`]), row-by-row checks of batches and CSV files
//! ([`batches`]), and tokens that lose their power ([`revocation`]).

mod batches;
mod fixtures;
mod matrix;
mod revocation;

use actix_web::http::Method;
use chrono::{Duration, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::common::{
    CampaignBuilder, EventBuilder, Resp, Role, TallyBuilder, TestApp, TrainingBuilder, UnitBuilder,
    uuid,
};

/// The callers, in the order of the matrix's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Admin,
    /// Editor of unit A, which owns every target row.
    EditorA,
    /// Editor of unit B, which owns nothing here.
    EditorB,
    ReporterA,
    ViewerA,
    /// No `Authorization` header.
    Anonymous,
    /// An admin token, revoked with `DELETE /tokens/{id}`.
    Revoked,
    /// An admin token past its `exp`.
    Expired,
}

const ACTORS: [Actor; 8] = [
    Actor::Admin,
    Actor::EditorA,
    Actor::EditorB,
    Actor::ReporterA,
    Actor::ViewerA,
    Actor::Anonymous,
    Actor::Revoked,
    Actor::Expired,
];

/// What a request sends.
enum Payload {
    Empty,
    Json(Value),
    Csv(String),
}

/// The shared world: units A and B, a campaign, and a token for each caller.
struct World {
    app: TestApp,
    a: Uuid,
    b: Uuid,
    /// A campaign shared by the fixtures that do not need their own.
    campaign: Uuid,
    tokens: Vec<Option<String>>,
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &Uuid::new_v4().simple().to_string()[..12])
}

/// The published event of `campaign` hosted by `host` that the matrix writes to.
fn event_input(campaign: Uuid, host: Uuid) -> EventBuilder {
    EventBuilder::new(campaign, host)
        .title("低碳生活进家庭")
        .kind("community_activity")
        .at("2014-10-19T01:00:00Z", "2014-10-19T03:00:00Z")
}

/// The published training of `campaign` given by `provider` that the matrix writes to.
fn training_input(campaign: Uuid, provider: Uuid) -> TrainingBuilder {
    TrainingBuilder::new(campaign, provider)
        .starts_at("2014-10-20T01:00:00Z")
        .ends_at("2014-10-20T08:00:00Z")
        .capacity(100)
}

/// 120 students at the event or training `subject` (`("event_id", id)`), reported by `unit`.
fn tally_input(subject: (&str, Uuid), unit: Uuid, category: &str) -> Value {
    match subject {
        ("training_id", id) => TallyBuilder::training(id, unit),
        (_, id) => TallyBuilder::event(id, unit),
    }
    .category(category)
    .json()
}

impl World {
    async fn new() -> World {
        let app = TestApp::spawn().await;
        let a = app.unit("甲单位：高州市教育局").await;
        let b = app.unit("乙单位：高州市妇女联合会").await;
        let campaign = uuid(&app.campaign("authz-2014").await);

        let revoked = app.token(Role::Admin, None).await;
        let me = app.read("/api/v1/auth/me", Some(&revoked)).await;
        let token_id = me["token_id"].as_str().unwrap();
        let path = format!("/api/v1/tokens/{token_id}");
        app.expect(204, &app.admin, vec![(Method::DELETE, &path, Value::Null)])
            .await;
        let expired = app
            .token_expiring(Role::Admin, None, Utc::now() - Duration::seconds(5))
            .await;

        let mut tokens = Vec::new();
        for actor in ACTORS {
            tokens.push(match actor {
                Actor::Admin => Some(app.admin.clone()),
                Actor::EditorA => Some(app.token(Role::Editor, Some(a)).await),
                Actor::EditorB => Some(app.token(Role::Editor, Some(b)).await),
                Actor::ReporterA => Some(app.token(Role::Reporter, Some(a)).await),
                Actor::ViewerA => Some(app.token(Role::Viewer, Some(a)).await),
                Actor::Anonymous => None,
                Actor::Revoked => Some(revoked.clone()),
                Actor::Expired => Some(expired.clone()),
            });
        }
        World {
            app,
            a,
            b,
            campaign,
            tokens,
        }
    }

    fn token(&self, actor: Actor) -> Option<&str> {
        let i = ACTORS.iter().position(|x| *x == actor).unwrap();
        self.tokens[i].as_deref()
    }

    async fn send(&self, actor: Actor, method: Method, path: &str, body: &Payload) -> Resp {
        let mut req = self.app.req(method, path);
        if let Some(token) = self.token(actor) {
            req = req.bearer(token);
        }
        match body {
            Payload::Empty => req,
            Payload::Json(v) => req.json(v.clone()),
            Payload::Csv(text) => req.body("text/csv", text.clone()),
        }
        .send()
        .await
    }

    async fn admin_get(&self, path: &str) -> Value {
        self.app.admin_read(path).await
    }

    /// Creates `body` at `path` as admin; returns the new row's id.
    async fn admin_create(&self, (path, body): (String, Value)) -> Uuid {
        uuid(&self.app.create(&path, &self.app.admin, body).await)
    }

    /// The audit entries of one row, newest first.
    async fn audit(&self, id: Uuid) -> Vec<Value> {
        self.admin_get(&format!("/api/v1/audit?id={id}&limit=100"))
            .await["items"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn new_campaign(&self) -> Uuid {
        self.admin_create(CampaignBuilder::new(&unique("authz")).request())
            .await
    }

    async fn new_unit(&self) -> Uuid {
        self.admin_create(UnitBuilder::new(&unique("单位")).request())
            .await
    }

    async fn new_event(&self, host: Uuid) -> Uuid {
        self.admin_create(event_input(self.campaign, host).request())
            .await
    }

    async fn new_training(&self, provider: Uuid) -> Uuid {
        self.admin_create(training_input(self.campaign, provider).request())
            .await
    }

    async fn new_tally(&self, subject: (&str, Uuid), unit: Uuid) -> Uuid {
        let body = tally_input(subject, unit, "student");
        self.admin_create(("/api/v1/tallies".into(), body)).await
    }
}
