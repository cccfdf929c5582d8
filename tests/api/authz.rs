//! The authorization matrix: every write operation of the API × every kind of caller → the
//! status it must get. The expectations follow `src/auth/policy.rs` and each handler's
//! "Roles:" line. `every_write_operation_is_in_the_matrix` checks the table against the
//! OpenAPI document, so a new write endpoint fails until it gets a row here.
//!
//! Adding an endpoint: write a `fn` that prepares a fresh target owned by unit A (rows, path,
//! body) and add a `case!` line to [`matrix`] with the status for each of the eight callers.

use std::collections::BTreeSet;

use actix_web::http::Method;
use chrono::{Duration, Utc};
use futures_util::future::LocalBoxFuture;
use futures_util::stream::{self, StreamExt};
use learnweek::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{Resp, TestApp};

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

/// One write operation (or one variant of it) and what each caller gets.
struct Case {
    method: Method,
    /// The path as the OpenAPI document spells it.
    path: &'static str,
    /// The fixture's name, for messages.
    name: &'static str,
    /// Makes a fresh target (called once per caller, so deletes do not interfere).
    prep: Prep,
    /// One status per caller, in [`ACTORS`] order.
    expect: [u16; 8],
}

type Prep = for<'a> fn(&'a World) -> LocalBoxFuture<'a, Target>;

macro_rules! case {
    ($method:ident $path:literal $prep:ident $expect:expr) => {
        Case {
            method: Method::$method,
            path: $path,
            name: stringify!($prep),
            prep: $prep,
            expect: $expect,
        }
    };
}

/// The matrix. Columns: admin, editor of A, editor of B, reporter of A, viewer of A,
/// anonymous, revoked token, expired token. Targets belong to unit A and (unless the name
/// says otherwise) stay in unit A.
#[rustfmt::skip]
fn matrix() -> Vec<Case> {
    vec![
        // Admin only: campaigns, units, partners, committee bodies, tokens, accounts.
        //    method OpenAPI path                                           fixture                            admin edA  edB  repA view anon rev  exp
        case!(POST   "/api/v1/campaigns"                                    create_campaign                   [201, 403, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/campaigns/{id}"                               patch_campaign                    [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/campaigns/{id}"                               delete_campaign                   [204, 403, 403, 403, 403, 401, 401, 401]),
        case!(POST   "/api/v1/units"                                        create_unit                       [201, 403, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/units/{id}"                                   patch_unit                        [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/units/{id}"                                   delete_unit                       [204, 403, 403, 403, 403, 401, 401, 401]),
        case!(PUT    "/api/v1/campaigns/{id}/partners/{unit_id}"            put_partner_a                     [201, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/campaigns/{id}/partners/{unit_id}"            delete_partner_a                  [204, 403, 403, 403, 403, 401, 401, 401]),
        case!(POST   "/api/v1/campaigns/{id}/committee/bodies"              create_body_of_a                  [201, 403, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/campaigns/{id}/committee/bodies/{body_id}"    patch_body_of_a                   [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/campaigns/{id}/committee/bodies/{body_id}"    delete_body_of_a                  [204, 403, 403, 403, 403, 401, 401, 401]),
        case!(POST   "/api/v1/tokens"                                       create_token_for_a                [201, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/tokens/{id}"                                  revoke_token_of_a                 [204, 403, 403, 403, 403, 401, 401, 401]),
        case!(POST   "/api/v1/accounts"                                     create_account_in_a               [201, 403, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/accounts/{id}"                                disable_account_in_a              [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/accounts/{id}"                                delete_account_in_a               [204, 403, 403, 403, 403, 401, 401, 401]),
        // Committee members: admin; editor of the member's unit.
        case!(POST   "/api/v1/campaigns/{id}/committee/members"             create_member_of_a                [201, 201, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/campaigns/{id}/committee/members/{member_id}" patch_member_of_a                 [200, 200, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/campaigns/{id}/committee/members/{member_id}" move_member_to_b                  [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/campaigns/{id}/committee/members/{member_id}" delete_member_of_a                [204, 204, 403, 403, 403, 401, 401, 401]),
        // Events: admin; editor of the host unit (and of every row a delete touches).
        case!(POST   "/api/v1/events"                                       create_event_of_a                 [201, 201, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/events/{id}"                                  patch_event_of_a                  [200, 200, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/events/{id}"                                  move_event_to_b                   [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/events/{id}"                                  delete_event_of_a                 [204, 204, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/events/{id}"                                  delete_event_with_tally_of_b      [204, 403, 403, 403, 403, 401, 401, 401]),
        // Trainings: admin; editor of the provider unit; its reporter for outcome counts only.
        case!(POST   "/api/v1/trainings"                                    create_training_of_a              [201, 201, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/trainings/{id}"                               patch_training_outcomes           [200, 200, 403, 200, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/trainings/{id}"                               patch_training_title              [200, 200, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/trainings/{id}"                               patch_training_outcomes_and_title [200, 200, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/trainings/{id}"                               move_training_to_b                [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/trainings/{id}"                               delete_training_of_a              [204, 204, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/trainings/{id}"                               delete_training_with_tally_of_b   [204, 403, 403, 403, 403, 401, 401, 401]),
        // Tallies: admin; editor or reporter of the reporting unit, every row of a batch too.
        case!(POST   "/api/v1/tallies"                                      create_tally_of_a                 [201, 201, 403, 201, 403, 401, 401, 401]),
        case!(PUT    "/api/v1/tallies"                                      put_new_tally_of_a                [201, 201, 403, 201, 403, 401, 401, 401]),
        case!(PUT    "/api/v1/tallies"                                      put_existing_tally_of_a           [200, 200, 403, 200, 403, 401, 401, 401]),
        case!(POST   "/api/v1/tallies/batch"                                batch_of_a                        [200, 200, 403, 200, 403, 401, 401, 401]),
        case!(POST   "/api/v1/tallies/import"                               csv_of_a                          [200, 200, 403, 200, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/tallies/{id}"                                 patch_tally_of_a                  [200, 200, 403, 200, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/tallies/{id}"                                 move_tally_to_b                   [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/tallies/{id}"                                 delete_tally_of_a                 [204, 204, 403, 204, 403, 401, 401, 401]),
        // Media reports: admin; editor or reporter of the outlet unit or the reporting unit.
        case!(POST   "/api/v1/media-reports"                                create_report_by_a                [201, 201, 403, 201, 403, 401, 401, 401]),
        case!(POST   "/api/v1/media-reports"                                create_report_of_outlet_a         [201, 201, 403, 201, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/media-reports/{id}"                           patch_report_of_a                 [200, 200, 403, 200, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/media-reports/{id}"                           move_report_to_b                  [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/media-reports/{id}"                           delete_report_of_a                [204, 204, 403, 204, 403, 401, 401, 401]),
        // Webhooks: admin; editor or viewer of the subscription's unit. Another unit's
        // subscription is hidden from its reads (404) but writes to it are a 403, as everywhere.
        case!(POST   "/api/v1/webhooks"                                     create_webhook_of_a               [201, 201, 403, 403, 201, 401, 401, 401]),
        case!(PATCH  "/api/v1/webhooks/{id}"                                patch_webhook_of_a                [200, 200, 403, 403, 200, 401, 401, 401]),
        case!(DELETE "/api/v1/webhooks/{id}"                                delete_webhook_of_a               [204, 204, 403, 403, 204, 401, 401, 401]),
        // Login: anyone; the Authorization header is ignored.
        case!(POST   "/api/v1/auth/token"                                   login                             [200, 200, 200, 200, 200, 200, 200, 200]),
        case!(POST   "/api/v1/auth/refresh"                                 refresh_session                   [200, 200, 200, 200, 200, 200, 200, 200]),
    ]
}

/// What a case sends, prepared fresh for one caller.
struct Target {
    path: String,
    body: Payload,
    /// The existing row the request would change: the admin's `GET` path and its id. A
    /// refused request must leave it as it was, with no audit entry but its creation.
    row: Option<(String, Uuid)>,
}

enum Payload {
    Empty,
    Json(Value),
    Csv(String),
}

impl Target {
    fn new(path: String, body: Payload) -> Self {
        Target {
            path,
            body,
            row: None,
        }
    }

    /// A request on the row at `path` itself (`PATCH`, `DELETE`).
    fn on_row(path: String, id: Uuid, body: Payload) -> Self {
        Target {
            row: Some((path.clone(), id)),
            path,
            body,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The shared world: units A and B, a campaign, and a token for each caller.

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

fn id_of(v: &Value) -> Uuid {
    v["id"].as_str().unwrap().parse().unwrap()
}

impl World {
    async fn new() -> World {
        let app = TestApp::spawn().await;
        let a = app.unit("甲单位：高州市教育局").await;
        let b = app.unit("乙单位：高州市妇女联合会").await;
        let campaign = id_of(&app.campaign("authz-2014").await);

        let revoked = app.token(Role::Admin, None).await;
        let me = app.get("/api/v1/auth/me").bearer(&revoked).send().await;
        assert_eq!(me.status, 200, "{}", me.text());
        let token_id = me.json()["token_id"].as_str().unwrap().to_string();
        let res = app
            .delete(&format!("/api/v1/tokens/{token_id}"))
            .bearer(&app.admin)
            .send()
            .await;
        assert_eq!(res.status, 204, "{}", res.text());
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
        let res = self.app.get(path).bearer(&self.app.admin).send().await;
        assert_eq!(res.status, 200, "GET {path}: {}", res.text());
        res.json()
    }

    /// Writes as admin, expecting `status`; returns the answer.
    async fn admin_write(&self, method: Method, path: &str, body: Value, status: u16) -> Value {
        let res = self
            .app
            .req(method.clone(), path)
            .bearer(&self.app.admin)
            .json(body)
            .send()
            .await;
        assert_eq!(res.status, status, "{method} {path}: {}", res.text());
        res.json()
    }

    async fn admin_create(&self, path: &str, body: Value) -> Uuid {
        id_of(&self.admin_write(Method::POST, path, body, 201).await)
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
        id_of(&self.app.campaign(&unique("authz")).await)
    }

    async fn new_unit(&self) -> Uuid {
        self.app.unit(&unique("单位")).await
    }

    /// Unit A as a partner of a fresh campaign: (campaign, partner row id).
    async fn new_partner_a(&self) -> (Uuid, Uuid) {
        let campaign = self.new_campaign().await;
        let partner = self
            .admin_write(
                Method::PUT,
                &format!("/api/v1/campaigns/{campaign}/partners/{}", self.a),
                json!({"role": "co_host", "lead": true}),
                201,
            )
            .await;
        (campaign, id_of(&partner))
    }

    async fn new_body_of_a(&self) -> Uuid {
        self.admin_create(
            &format!("/api/v1/campaigns/{}/committee/bodies", self.campaign),
            body_input(self.a),
        )
        .await
    }

    async fn new_member_of_a(&self) -> Uuid {
        let body = self.new_body_of_a().await;
        self.admin_create(
            &format!("/api/v1/campaigns/{}/committee/members", self.campaign),
            member_input(body, self.a),
        )
        .await
    }

    async fn new_event(&self, host: Uuid) -> Uuid {
        self.admin_create("/api/v1/events", event_input(self.campaign, host))
            .await
    }

    async fn new_training(&self, provider: Uuid) -> Uuid {
        self.admin_create("/api/v1/trainings", training_input(self.campaign, provider))
            .await
    }

    async fn new_tally(&self, subject: Value, unit: Uuid) -> Uuid {
        self.admin_create("/api/v1/tallies", tally_input(subject, unit, "student"))
            .await
    }

    async fn new_report_by_a(&self) -> Uuid {
        self.admin_create("/api/v1/media-reports", report_input(self.campaign, self.a))
            .await
    }

    async fn new_token_of_a(&self) -> Uuid {
        self.admin_create("/api/v1/tokens", token_input(self.a))
            .await
    }

    /// An editor account of unit A: (id, username, password).
    async fn new_account_in_a(&self) -> (Uuid, String, String) {
        let input = account_input(self.a);
        let username = input["username"].as_str().unwrap().to_string();
        let password = input["password"].as_str().unwrap().to_string();
        (
            self.admin_create("/api/v1/accounts", input).await,
            username,
            password,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Valid request bodies.

fn body_input(unit: Uuid) -> Value {
    json!({"name": unique("市教育局活动周工作小组"), "kind": "unit_working_group", "unit_id": unit})
}

fn member_input(body: Uuid, unit: Uuid) -> Value {
    json!({
        "body_id": body,
        "name": "梁志宏",
        "position": "市教育局局长",
        "committee_role": "member",
        "unit_id": unit,
        "phone": "0668-6213610"
    })
}

fn event_input(campaign: Uuid, host: Uuid) -> Value {
    json!({
        "campaign_id": campaign,
        "title": "低碳生活进家庭",
        "kind": "community_activity",
        "starts_at": "2014-10-19T01:00:00Z",
        "ends_at": "2014-10-19T03:00:00Z",
        "host_unit_id": host,
        "status": "published"
    })
}

fn training_input(campaign: Uuid, provider: Uuid) -> Value {
    json!({
        "campaign_id": campaign,
        "title": "免费电脑操作与办公应用培训班",
        "subject": "computer",
        "provider_unit_id": provider,
        "starts_at": "2014-10-20T01:00:00Z",
        "ends_at": "2014-10-20T08:00:00Z",
        "capacity": 100,
        "status": "published"
    })
}

/// `subject`: `{"event_id": ..}` or `{"training_id": ..}`.
fn tally_input(subject: Value, unit: Uuid, category: &str) -> Value {
    let mut v = json!({
        "category": category,
        "measure": "headcount",
        "count": 120,
        "tally_date": "2014-10-19",
        "reporting_unit_id": unit
    });
    v.as_object_mut()
        .unwrap()
        .extend(subject.as_object().unwrap().clone());
    v
}

fn report_input(campaign: Uuid, reporting_unit: Uuid) -> Value {
    json!({
        "campaign_id": campaign,
        "outlet_name": "茂名日报",
        "reporting_unit_id": reporting_unit,
        "medium": "newspaper",
        "title": "我市全民终身学习活动周隆重开幕",
        "published_at": "2014-10-20T00:00:00Z"
    })
}

fn token_input(unit: Uuid) -> Value {
    json!({"name": unique("script"), "role": "reporter", "unit_id": unit})
}

fn account_input(unit: Uuid) -> Value {
    json!({
        "username": unique("user"),
        "password": "correct horse battery",
        "role": "editor",
        "unit_id": unit
    })
}

fn json_body(v: Value) -> Payload {
    Payload::Json(v)
}

// ---------------------------------------------------------------------------------------------
// Fixtures: one per matrix row, each making a fresh target.

fn create_campaign(_: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        Target::new(
            "/api/v1/campaigns".into(),
            json_body(json!({
                "slug": unique("new"),
                "name": "高州市2015年全民终身学习活动周",
                "starts_on": "2015-10-18",
                "ends_on": "2015-10-24"
            })),
        )
    })
}

fn patch_campaign(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_campaign().await;
        Target::on_row(
            format!("/api/v1/campaigns/{id}"),
            id,
            json_body(json!({"theme": "全民终身学习　创造出彩人生"})),
        )
    })
}

fn delete_campaign(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_campaign().await;
        Target::on_row(format!("/api/v1/campaigns/{id}"), id, Payload::Empty)
    })
}

fn create_unit(_: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        Target::new(
            "/api/v1/units".into(),
            json_body(json!({"name": unique("高州市图书馆"), "kind": "other"})),
        )
    })
}

/// A fresh unit: unit A itself is referred to by tokens and rows, and shared by all cases.
fn patch_unit(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_unit().await;
        Target::on_row(
            format!("/api/v1/units/{id}"),
            id,
            json_body(json!({"short_name": "市图书馆"})),
        )
    })
}

fn delete_unit(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_unit().await;
        Target::on_row(format!("/api/v1/units/{id}"), id, Payload::Empty)
    })
}

fn put_partner_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let campaign = w.new_campaign().await;
        Target::new(
            format!("/api/v1/campaigns/{campaign}/partners/{}", w.a),
            json_body(json!({"role": "co_host", "lead": true})),
        )
    })
}

fn delete_partner_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let (campaign, id) = w.new_partner_a().await;
        Target::on_row(
            format!("/api/v1/campaigns/{campaign}/partners/{}", w.a),
            id,
            Payload::Empty,
        )
    })
}

fn create_body_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        Target::new(
            format!("/api/v1/campaigns/{}/committee/bodies", w.campaign),
            json_body(body_input(w.a)),
        )
    })
}

fn patch_body_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_body_of_a().await;
        Target::on_row(
            format!("/api/v1/campaigns/{}/committee/bodies/{id}", w.campaign),
            id,
            json_body(json!({"name": unique("活动周工作联络小组")})),
        )
    })
}

fn delete_body_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_body_of_a().await;
        Target::on_row(
            format!("/api/v1/campaigns/{}/committee/bodies/{id}", w.campaign),
            id,
            Payload::Empty,
        )
    })
}

fn create_member_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let body = w.new_body_of_a().await;
        Target::new(
            format!("/api/v1/campaigns/{}/committee/members", w.campaign),
            json_body(member_input(body, w.a)),
        )
    })
}

fn patch_member_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_member_of_a().await;
        Target::on_row(
            format!("/api/v1/campaigns/{}/committee/members/{id}", w.campaign),
            id,
            json_body(json!({"phone": "0668-6213611"})),
        )
    })
}

fn move_member_to_b(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_member_of_a().await;
        Target::on_row(
            format!("/api/v1/campaigns/{}/committee/members/{id}", w.campaign),
            id,
            json_body(json!({"unit_id": w.b})),
        )
    })
}

fn delete_member_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_member_of_a().await;
        Target::on_row(
            format!("/api/v1/campaigns/{}/committee/members/{id}", w.campaign),
            id,
            Payload::Empty,
        )
    })
}

fn create_event_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        Target::new(
            "/api/v1/events".into(),
            json_body(event_input(w.campaign, w.a)),
        )
    })
}

fn patch_event_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_event(w.a).await;
        Target::on_row(
            format!("/api/v1/events/{id}"),
            id,
            json_body(json!({"title": "低碳生活进家庭（改期）"})),
        )
    })
}

fn move_event_to_b(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_event(w.a).await;
        Target::on_row(
            format!("/api/v1/events/{id}"),
            id,
            json_body(json!({"host_unit_id": w.b})),
        )
    })
}

fn delete_event_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_event(w.a).await;
        w.new_tally(json!({"event_id": id}), w.a).await;
        Target::on_row(format!("/api/v1/events/{id}"), id, Payload::Empty)
    })
}

fn delete_event_with_tally_of_b(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_event(w.a).await;
        w.new_tally(json!({"event_id": id}), w.b).await;
        Target::on_row(format!("/api/v1/events/{id}"), id, Payload::Empty)
    })
}

fn create_training_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        Target::new(
            "/api/v1/trainings".into(),
            json_body(training_input(w.campaign, w.a)),
        )
    })
}

fn patch_training(w: &World, patch: Value) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_training(w.a).await;
        Target::on_row(format!("/api/v1/trainings/{id}"), id, json_body(patch))
    })
}

fn patch_training_outcomes(w: &World) -> LocalBoxFuture<'_, Target> {
    patch_training(
        w,
        json!({"enrolled": 92, "completed": 86, "employed_after": 52}),
    )
}

fn patch_training_title(w: &World) -> LocalBoxFuture<'_, Target> {
    patch_training(w, json!({"title": "免费英语口语培训班"}))
}

fn patch_training_outcomes_and_title(w: &World) -> LocalBoxFuture<'_, Target> {
    patch_training(w, json!({"enrolled": 92, "title": "免费英语口语培训班"}))
}

fn move_training_to_b(w: &World) -> LocalBoxFuture<'_, Target> {
    patch_training(w, json!({"provider_unit_id": w.b}))
}

fn delete_training_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_training(w.a).await;
        w.new_tally(json!({"training_id": id}), w.a).await;
        Target::on_row(format!("/api/v1/trainings/{id}"), id, Payload::Empty)
    })
}

fn delete_training_with_tally_of_b(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_training(w.a).await;
        w.new_tally(json!({"training_id": id}), w.b).await;
        Target::on_row(format!("/api/v1/trainings/{id}"), id, Payload::Empty)
    })
}

fn create_tally_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let event = w.new_event(w.a).await;
        Target::new(
            "/api/v1/tallies".into(),
            json_body(tally_input(json!({"event_id": event}), w.a, "student")),
        )
    })
}

fn put_new_tally_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let event = w.new_event(w.a).await;
        Target::new(
            "/api/v1/tallies".into(),
            json_body(tally_input(json!({"event_id": event}), w.a, "student")),
        )
    })
}

/// Replaces the count of an existing tally (same natural key).
fn put_existing_tally_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let event = w.new_event(w.a).await;
        let id = w.new_tally(json!({"event_id": event}), w.a).await;
        let mut body = tally_input(json!({"event_id": event}), w.a, "student");
        body["count"] = json!(135);
        Target {
            path: "/api/v1/tallies".into(),
            body: json_body(body),
            row: Some((format!("/api/v1/tallies/{id}"), id)),
        }
    })
}

fn batch_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let event = w.new_event(w.a).await;
        let subject = json!({"event_id": event});
        Target::new(
            "/api/v1/tallies/batch".into(),
            json_body(json!({"items": [
                tally_input(subject.clone(), w.a, "student"),
                tally_input(subject, w.a, "retiree"),
            ]})),
        )
    })
}

fn csv_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let event = w.new_event(w.a).await;
        let a = w.a;
        Target::new(
            "/api/v1/tallies/import".into(),
            Payload::Csv(format!(
                "{CSV_HEADER}\n{event},student,headcount,120,2014-10-19,{a}\n\
                 {event},retiree,headcount,30,2014-10-19,{a}\n"
            )),
        )
    })
}

const CSV_HEADER: &str = "event_id,category,measure,count,tally_date,reporting_unit_id";

fn patch_tally(w: &World, patch: Value) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let event = w.new_event(w.a).await;
        let id = w.new_tally(json!({"event_id": event}), w.a).await;
        Target::on_row(format!("/api/v1/tallies/{id}"), id, json_body(patch))
    })
}

fn patch_tally_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    patch_tally(w, json!({"count": 350}))
}

fn move_tally_to_b(w: &World) -> LocalBoxFuture<'_, Target> {
    patch_tally(w, json!({"reporting_unit_id": w.b}))
}

fn delete_tally_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let event = w.new_event(w.a).await;
        let id = w.new_tally(json!({"event_id": event}), w.a).await;
        Target::on_row(format!("/api/v1/tallies/{id}"), id, Payload::Empty)
    })
}

fn create_report_by_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        Target::new(
            "/api/v1/media-reports".into(),
            json_body(report_input(w.campaign, w.a)),
        )
    })
}

/// The outlet is unit A itself (say, the TV station), which owns the report.
fn create_report_of_outlet_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        Target::new(
            "/api/v1/media-reports".into(),
            json_body(json!({
                "campaign_id": w.campaign,
                "outlet_unit_id": w.a,
                "medium": "tv",
                "title": "全民终身学习活动周专题报道",
                "published_at": "2014-10-21T12:00:00Z"
            })),
        )
    })
}

fn patch_report(w: &World, patch: Value) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_report_by_a().await;
        Target::on_row(format!("/api/v1/media-reports/{id}"), id, json_body(patch))
    })
}

fn patch_report_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    patch_report(w, json!({"url": "https://example.org/news/1"}))
}

fn move_report_to_b(w: &World) -> LocalBoxFuture<'_, Target> {
    patch_report(w, json!({"reporting_unit_id": w.b}))
}

fn delete_report_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_report_by_a().await;
        Target::on_row(format!("/api/v1/media-reports/{id}"), id, Payload::Empty)
    })
}

fn create_token_for_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move { Target::new("/api/v1/tokens".into(), json_body(token_input(w.a))) })
}

fn revoke_token_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.new_token_of_a().await;
        Target::on_row(format!("/api/v1/tokens/{id}"), id, Payload::Empty)
    })
}

fn create_account_in_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move { Target::new("/api/v1/accounts".into(), json_body(account_input(w.a))) })
}

fn disable_account_in_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let (id, _, _) = w.new_account_in_a().await;
        Target::on_row(
            format!("/api/v1/accounts/{id}"),
            id,
            json_body(json!({"disabled": true})),
        )
    })
}

fn delete_account_in_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let (id, _, _) = w.new_account_in_a().await;
        Target::on_row(format!("/api/v1/accounts/{id}"), id, Payload::Empty)
    })
}

fn webhook_input(unit: Uuid) -> Value {
    // Private addresses are allowed in tests; no delivery worker runs.
    json!({"url": "http://127.0.0.1:9/learnweek", "types": ["event", "tally"], "unit_id": unit})
}

fn create_webhook_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move { Target::new("/api/v1/webhooks".into(), json_body(webhook_input(w.a))) })
}

fn patch_webhook_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.admin_create("/api/v1/webhooks", webhook_input(w.a)).await;
        Target::on_row(
            format!("/api/v1/webhooks/{id}"),
            id,
            json_body(json!({"types": ["event", "training"]})),
        )
    })
}

fn delete_webhook_of_a(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let id = w.admin_create("/api/v1/webhooks", webhook_input(w.a)).await;
        Target::on_row(format!("/api/v1/webhooks/{id}"), id, Payload::Empty)
    })
}

fn login(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let (_, username, password) = w.new_account_in_a().await;
        Target::new(
            "/api/v1/auth/token".into(),
            json_body(json!({"username": username, "password": password})),
        )
    })
}

fn refresh_session(w: &World) -> LocalBoxFuture<'_, Target> {
    Box::pin(async move {
        let (_, username, password) = w.new_account_in_a().await;
        let res = w
            .app
            .post("/api/v1/auth/token")
            .json(json!({"username": username, "password": password}))
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        Target::new(
            "/api/v1/auth/refresh".into(),
            json_body(json!({"refresh_token": res.json()["refresh_token"]})),
        )
    })
}

/// Writes that act on the caller's own token, so they cannot run with the matrix's shared
/// tokens; `sessions::every_caller_may_log_out_only_itself` covers them.
const SELF_SERVICE: &[(&str, &str)] = &[("POST", "/api/v1/auth/logout")];

// ---------------------------------------------------------------------------------------------
// The runner.

/// Does `path` fit the OpenAPI template (`{x}` matches one segment)?
fn fits(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// Runs one (case, caller) pair; returns what went wrong, if anything.
async fn run_pair(w: &World, case: &Case, i: usize) -> Vec<String> {
    let actor = ACTORS[i];
    let expected = case.expect[i];
    let what = format!("{} {} [{}] as {actor:?}", case.method, case.path, case.name);
    let target = (case.prep)(w).await;
    let mut problems = Vec::new();
    if !fits(case.path, &target.path) {
        problems.push(format!(
            "{what}: the fixture sends {} (not {})",
            target.path, case.path
        ));
    }
    if matches!(case.method, Method::PATCH | Method::DELETE) && target.row.is_none() {
        problems.push(format!(
            "{what}: the fixture must name the row it changes (Target::on_row)"
        ));
    }
    let before = match &target.row {
        Some((path, id)) => Some((w.admin_get(path).await, w.audit(*id).await)),
        None => None,
    };

    let res = w
        .send(actor, case.method.clone(), &target.path, &target.body)
        .await;
    if res.status != expected {
        problems.push(format!(
            "{what}: expected {expected}, got {}: {}",
            res.status,
            res.text()
        ));
        return problems;
    }
    if res.status >= 400 {
        if res.header("content-type").as_deref() != Some("application/problem+json") {
            problems.push(format!("{what}: {} is not problem+json", res.status));
        }
        if res.status == 401 && res.header("www-authenticate").is_none() {
            problems.push(format!("{what}: 401 without WWW-Authenticate"));
        }
        let detail = res.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let why = match actor {
            Actor::Revoked => Some("revoked"),
            Actor::Expired => Some("expired"),
            _ => None,
        };
        if let Some(why) = why.filter(|_| res.status == 401)
            && !detail.contains(why)
        {
            problems.push(format!("{what}: the 401 does not say `{why}`: {detail}"));
        }
    }
    if let (Some((path, id)), Some((row_before, audit_before))) = (&target.row, before) {
        let audit_after = w.audit(*id).await;
        if res.status >= 400 {
            // Refused: the row reads the same and its audit trail is only its creation.
            let after = w.app.get(path).bearer(&w.app.admin).send().await;
            if after.status != 200 {
                problems.push(format!(
                    "{what}: refused, yet GET {path} now gives {}",
                    after.status
                ));
            } else if after.json() != row_before {
                problems.push(format!(
                    "{what}: refused, yet the row changed:\n  before {row_before}\n  after  {}",
                    after.json()
                ));
            }
            let ops: Vec<&str> = audit_after
                .iter()
                .map(|e| e["op"].as_str().unwrap_or_default())
                .collect();
            if ops != ["create"] || audit_after != audit_before {
                problems.push(format!(
                    "{what}: refused, yet the audit log has {ops:?} for the row"
                ));
            }
        } else if audit_after.len() <= audit_before.len() {
            problems.push(format!("{what}: the write left no audit entry"));
        }
    }
    problems
}

/// Every write operation × every caller, each on a fresh target. Refusals (401, 403) must
/// leave the target row unchanged with no audit entry but its creation; successes must be
/// audited.
#[actix_web::test]
async fn authorization_matrix() {
    let w = World::new().await;
    let cases = matrix();
    let pairs: Vec<(&Case, usize)> = cases
        .iter()
        .flat_map(|case| (0..ACTORS.len()).map(move |i| (case, i)))
        .collect();
    let mut problems: Vec<String> = stream::iter(pairs)
        .map(|(case, i)| run_pair(&w, case, i))
        .buffer_unordered(12)
        .flat_map(stream::iter)
        .collect()
        .await;
    problems.sort();
    assert!(
        problems.is_empty(),
        "{} of {} checks failed:\n{}",
        problems.len(),
        cases.len() * ACTORS.len(),
        problems.join("\n")
    );
}

/// The write operations of the OpenAPI document: (METHOD, path).
fn documented_writes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut writes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["put", "post", "delete", "patch", "trace"] {
            if item.get(method).is_some() {
                writes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    writes
}

/// A write endpoint without a matrix row (or a row for one that is gone) fails here.
#[test]
fn every_write_operation_is_in_the_matrix() {
    let doc: Value = serde_json::from_str(learnweek::openapi::json()).unwrap();
    let mut documented = documented_writes(&doc);
    for (method, path) in SELF_SERVICE {
        assert!(
            documented.remove(&(method.to_string(), path.to_string())),
            "{path} is gone"
        );
    }
    let cases = matrix();
    let covered: BTreeSet<(String, String)> = cases
        .iter()
        .map(|c| (c.method.to_string(), c.path.to_string()))
        .collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    let stale: Vec<_> = covered.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "write operations without a row in the authorization matrix (tests/api/authz.rs): {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "matrix rows for operations the API does not have: {stale:?}"
    );
    // Every status the matrix expects is one the operation documents.
    for case in &cases {
        let op = &doc["paths"][case.path][case.method.as_str().to_lowercase()];
        for status in BTreeSet::from(case.expect) {
            assert!(
                op["responses"].get(status.to_string()).is_some(),
                "{} {} does not document {status}",
                case.method,
                case.path
            );
        }
    }
}

/// The field names of a problem's `errors`.
fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A batch or CSV file with one row of another unit is refused whole: 403 naming that row,
/// nothing stored. The same rows from the admin are fine (so validity was not the issue).
#[actix_web::test]
async fn batches_and_csv_files_are_authorized_row_by_row() {
    let w = World::new().await;
    let (a, b) = (w.a, w.b);
    let event = w.new_event(a).await;
    let subject = json!({"event_id": event});
    let mixed = Payload::Json(json!({"items": [
        tally_input(subject.clone(), a, "student"),
        tally_input(subject.clone(), b, "retiree"),
    ]}));
    let mixed_csv = Payload::Csv(format!(
        "{CSV_HEADER}\n{event},student,headcount,120,2014-10-19,{a}\n\
         {event},retiree,headcount,120,2014-10-19,{b}\n"
    ));
    let stored = || async {
        w.admin_get(&format!("/api/v1/tallies?event_id={event}"))
            .await["items"]
            .as_array()
            .unwrap()
            .len()
    };

    for actor in [Actor::EditorA, Actor::ReporterA] {
        let res = w
            .send(actor, Method::POST, "/api/v1/tallies/batch", &mixed)
            .await;
        let p = res.problem(403);
        assert_eq!(
            error_fields(&p),
            ["items[1].reporting_unit_id"],
            "{actor:?}: {p}"
        );
        let res = w
            .send(actor, Method::POST, "/api/v1/tallies/import", &mixed_csv)
            .await;
        let p = res.problem(403);
        // Line 1 is the header.
        assert_eq!(
            error_fields(&p),
            ["line[3].reporting_unit_id"],
            "{actor:?}: {p}"
        );
    }
    // Editor of B: both rows of the all-A file are named.
    let all_a = Payload::Json(json!({"items": [
        tally_input(subject.clone(), a, "student"),
        tally_input(subject.clone(), a, "retiree"),
    ]}));
    let p = w
        .send(
            Actor::EditorB,
            Method::POST,
            "/api/v1/tallies/batch",
            &all_a,
        )
        .await
        .problem(403);
    assert_eq!(
        error_fields(&p),
        ["items[0].reporting_unit_id", "items[1].reporting_unit_id"]
    );
    assert_eq!(stored().await, 0, "a refused batch stores nothing");
    let audit = w
        .admin_get(&format!("/api/v1/audit?type=tally&unit_id={b}"))
        .await;
    assert_eq!(audit["items"], json!([]), "a refused batch audits nothing");

    // The admin may mix units.
    let res = w
        .send(Actor::Admin, Method::POST, "/api/v1/tallies/batch", &mixed)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["created"], 2);
    let res = w
        .send(
            Actor::Admin,
            Method::POST,
            "/api/v1/tallies/import",
            &mixed_csv,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["unchanged"], 2);
    assert_eq!(stored().await, 2);
}

/// A revoked or expired token gets 401 on its next request, whatever it is: also when it
/// repeats a write it made with an `Idempotency-Key` (the stored answer is not replayed).
#[actix_web::test]
async fn revoked_and_expired_tokens_cannot_replay_their_writes() {
    let app = TestApp::spawn().await;
    let a = app.unit("甲单位：高州市教育局").await;
    let campaign = id_of(&app.campaign("authz-replay").await);
    let minted = app
        .post("/api/v1/tokens")
        .bearer(&app.admin)
        .json(json!({"name": "editor-script", "role": "editor", "unit_id": a}))
        .send()
        .await;
    assert_eq!(minted.status, 201, "{}", minted.text());
    let (revoked_id, revoked) = (
        id_of(&minted.json()),
        minted.json()["token"].as_str().unwrap().to_string(),
    );
    let expiring = app
        .token_expiring(Role::Editor, Some(a), Utc::now() + Duration::seconds(2))
        .await;
    let post = |token: &str, key: &str| {
        app.post("/api/v1/events")
            .bearer(token)
            .header("Idempotency-Key", key)
            .json(event_input(campaign, a))
            .send()
    };
    for (token, key) in [(&revoked, "replay-revoked"), (&expiring, "replay-expired")] {
        assert_eq!(post(token, key).await.status, 201);
        let replay = post(token, key).await;
        assert_eq!(replay.status, 201, "{}", replay.text());
        assert_eq!(
            replay.header("idempotent-replayed").as_deref(),
            Some("true")
        );
    }

    let res = app
        .delete(&format!("/api/v1/tokens/{revoked_id}"))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.status, 204);
    // Revocation holds at once; expiry comes with the clock.
    crate::common::eventually(
        std::time::Duration::from_secs(5),
        "the token expires",
        || async {
            app.get("/api/v1/auth/me")
                .bearer(&expiring)
                .send()
                .await
                .status
                == 401
        },
    )
    .await;

    for (token, key, why) in [
        (&revoked, "replay-revoked", "revoked"),
        (&expiring, "replay-expired", "expired"),
    ] {
        let res = post(token, key).await;
        let p = res.problem(401);
        assert!(p["detail"].as_str().unwrap().contains(why), "{p}");
        assert!(res.header("idempotent-replayed").is_none());
    }
}
