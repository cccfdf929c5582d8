//! The targets of the matrix: one fixture per row, each preparing a fresh target owned by
//! unit A (rows, path, body) for one caller, so deletes do not interfere.

use actix_web::http::Method;
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Payload, World, event_input, tally_input, training_input, unique};
use crate::common::{CampaignBuilder, CommitteeBodyBuilder, MediaReportBuilder, MemberBuilder};

/// What a case sends, prepared fresh for one caller.
pub(super) struct Target {
    pub(super) path: String,
    pub(super) body: Payload,
    /// The existing row the request would change: the admin's `GET` path and its id. A
    /// refused request must leave it as it was, with no audit entry but its creation.
    pub(super) row: Option<(String, Uuid)>,
}

impl Target {
    fn new(path: impl Into<String>, body: Value) -> Self {
        Target {
            path: path.into(),
            body: Payload::Json(body),
            row: None,
        }
    }

    /// A request on the row at `path` itself (`PATCH`, `DELETE`); `Value::Null`: no body.
    fn on_row(path: String, id: Uuid, body: Value) -> Self {
        let body = match body {
            Value::Null => Payload::Empty,
            body => Payload::Json(body),
        };
        Target {
            row: Some((path.clone(), id)),
            path,
            body,
        }
    }
}

pub(super) type Prep = for<'a> fn(&'a World) -> LocalBoxFuture<'a, Target>;

/// `fn name(w) { .. }`: an async fixture that makes a [`Target`] from the [`World`].
macro_rules! fixtures {
    ($($(#[$doc:meta])* fn $name:ident($w:ident) $body:block)*) => {
        $(
            $(#[$doc])*
            pub(super) fn $name($w: &World) -> LocalBoxFuture<'_, Target> {
                Box::pin(async move $body)
            }
        )*
    };
}

// Valid request bodies of the admin-only resources.

fn body_input(w: &World) -> CommitteeBodyBuilder {
    CommitteeBodyBuilder::new(
        w.campaign,
        &unique("市教育局活动周工作小组"),
        "unit_working_group",
    )
    .unit(w.a)
}

fn member_input(w: &World, body: Uuid) -> MemberBuilder {
    MemberBuilder::new(w.campaign, body, "梁志宏")
        .position("市教育局局长")
        .unit(w.a)
        .phone("0668-6213610")
}

fn report_input(w: &World) -> MediaReportBuilder {
    MediaReportBuilder::new(w.campaign).reporting_unit(w.a)
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

fn webhook_input(unit: Uuid) -> Value {
    // Private addresses are allowed in tests; no delivery worker runs.
    json!({"url": "http://127.0.0.1:9/learnweek", "types": ["event", "tally"], "unit_id": unit})
}

pub(super) const CSV_HEADER: &str = "event_id,category,measure,count,tally_date,reporting_unit_id";

impl World {
    /// Unit A as a partner of a fresh campaign: (campaign, partner row id).
    async fn new_partner_a(&self) -> (Uuid, Uuid) {
        let campaign = self.new_campaign().await;
        let path = format!("/api/v1/campaigns/{campaign}/partners/{}", self.a);
        let res = self
            .app
            .call(
                Method::PUT,
                &path,
                &self.app.admin,
                json!({"role": "co_host", "lead": true}),
            )
            .await;
        (
            campaign,
            res.ok(201)["id"].as_str().unwrap().parse().unwrap(),
        )
    }

    async fn new_body_of_a(&self) -> Uuid {
        self.admin_create(body_input(self).request()).await
    }

    async fn new_member_of_a(&self) -> Uuid {
        let body = self.new_body_of_a().await;
        self.admin_create(member_input(self, body).request()).await
    }

    async fn new_report_by_a(&self) -> Uuid {
        self.admin_create(report_input(self).request()).await
    }

    async fn new_token_of_a(&self) -> Uuid {
        self.admin_create(("/api/v1/tokens".into(), token_input(self.a)))
            .await
    }

    async fn new_webhook_of_a(&self) -> Uuid {
        self.admin_create(("/api/v1/webhooks".into(), webhook_input(self.a)))
            .await
    }

    /// An editor account of unit A: (id, username, password).
    async fn new_account_in_a(&self) -> (Uuid, String, String) {
        let input = account_input(self.a);
        let username = input["username"].as_str().unwrap().to_string();
        let password = input["password"].as_str().unwrap().to_string();
        let id = self.admin_create(("/api/v1/accounts".into(), input)).await;
        (id, username, password)
    }

    fn body_path(&self, id: Uuid) -> String {
        format!("/api/v1/campaigns/{}/committee/bodies/{id}", self.campaign)
    }

    fn member_path(&self, id: Uuid) -> String {
        format!("/api/v1/campaigns/{}/committee/members/{id}", self.campaign)
    }
}

/// A request with `body` on the row `id` of the collection at `path`.
fn row(id: Uuid, path: &str, body: Value) -> Target {
    Target::on_row(format!("{path}/{id}"), id, body)
}

fixtures! {
    // Admin only: campaigns, units, partners, committee bodies, tokens, accounts.
    fn create_campaign(_w) {
        let (path, body) = CampaignBuilder::new(&unique("new"))
            .name("高州市2015年全民终身学习活动周")
            .starts_on("2015-10-18")
            .ends_on("2015-10-24")
            .without("areas")
            .request();
        Target::new(path, body)
    }
    fn patch_campaign(w) {
        let theme = json!({"theme": "全民终身学习　创造出彩人生"});
        row(w.new_campaign().await, "/api/v1/campaigns", theme)
    }
    fn delete_campaign(w) {
        row(w.new_campaign().await, "/api/v1/campaigns", Value::Null)
    }
    fn create_unit(_w) {
        Target::new("/api/v1/units", json!({"name": unique("高州市图书馆"), "kind": "other"}))
    }
    /// A fresh unit: unit A itself is referred to by tokens and rows, and shared by all cases.
    fn patch_unit(w) {
        row(w.new_unit().await, "/api/v1/units", json!({"short_name": "市图书馆"}))
    }
    fn delete_unit(w) {
        row(w.new_unit().await, "/api/v1/units", Value::Null)
    }
    fn put_partner_a(w) {
        let campaign = w.new_campaign().await;
        let path = format!("/api/v1/campaigns/{campaign}/partners/{}", w.a);
        Target::new(path, json!({"role": "co_host", "lead": true}))
    }
    fn delete_partner_a(w) {
        let (campaign, id) = w.new_partner_a().await;
        let path = format!("/api/v1/campaigns/{campaign}/partners/{}", w.a);
        Target::on_row(path, id, Value::Null)
    }
    fn create_body_of_a(w) {
        let (path, body) = body_input(w).request();
        Target::new(path, body)
    }
    fn patch_body_of_a(w) {
        let id = w.new_body_of_a().await;
        Target::on_row(w.body_path(id), id, json!({"name": unique("活动周工作联络小组")}))
    }
    fn delete_body_of_a(w) {
        let id = w.new_body_of_a().await;
        Target::on_row(w.body_path(id), id, Value::Null)
    }
    fn create_token_for_a(w) {
        Target::new("/api/v1/tokens", token_input(w.a))
    }
    fn revoke_token_of_a(w) {
        row(w.new_token_of_a().await, "/api/v1/tokens", Value::Null)
    }
    fn create_account_in_a(w) {
        Target::new("/api/v1/accounts", account_input(w.a))
    }
    fn disable_account_in_a(w) {
        let (id, _, _) = w.new_account_in_a().await;
        row(id, "/api/v1/accounts", json!({"disabled": true}))
    }
    fn delete_account_in_a(w) {
        let (id, _, _) = w.new_account_in_a().await;
        row(id, "/api/v1/accounts", Value::Null)
    }

    // Committee members: admin; editor of the member's unit.
    fn create_member_of_a(w) {
        let body = w.new_body_of_a().await;
        let (path, body) = member_input(w, body).request();
        Target::new(path, body)
    }
    fn patch_member_of_a(w) {
        let id = w.new_member_of_a().await;
        Target::on_row(w.member_path(id), id, json!({"phone": "0668-6213611"}))
    }
    fn move_member_to_b(w) {
        let id = w.new_member_of_a().await;
        Target::on_row(w.member_path(id), id, json!({"unit_id": w.b}))
    }
    fn delete_member_of_a(w) {
        let id = w.new_member_of_a().await;
        Target::on_row(w.member_path(id), id, Value::Null)
    }

    // Events: admin; editor of the host unit (and of every row a delete touches).
    fn create_event_of_a(w) {
        let (path, body) = event_input(w.campaign, w.a).request();
        Target::new(path, body)
    }
    fn patch_event_of_a(w) {
        let title = json!({"title": "低碳生活进家庭（改期）"});
        row(w.new_event(w.a).await, "/api/v1/events", title)
    }
    fn move_event_to_b(w) {
        row(w.new_event(w.a).await, "/api/v1/events", json!({"host_unit_id": w.b}))
    }
    fn delete_event_of_a(w) {
        let id = w.new_event(w.a).await;
        w.new_tally(("event_id", id), w.a).await;
        row(id, "/api/v1/events", Value::Null)
    }
    fn delete_event_with_tally_of_b(w) {
        let id = w.new_event(w.a).await;
        w.new_tally(("event_id", id), w.b).await;
        row(id, "/api/v1/events", Value::Null)
    }

    // Trainings: admin; editor of the provider unit; its reporter for outcome counts only.
    fn create_training_of_a(w) {
        let (path, body) = training_input(w.campaign, w.a).request();
        Target::new(path, body)
    }
    fn patch_training_outcomes(w) {
        let outcomes = json!({"enrolled": 92, "completed": 86, "employed_after": 52});
        row(w.new_training(w.a).await, "/api/v1/trainings", outcomes)
    }
    fn patch_training_title(w) {
        let title = json!({"title": "免费英语口语培训班"});
        row(w.new_training(w.a).await, "/api/v1/trainings", title)
    }
    fn patch_training_outcomes_and_title(w) {
        let both = json!({"enrolled": 92, "title": "免费英语口语培训班"});
        row(w.new_training(w.a).await, "/api/v1/trainings", both)
    }
    fn move_training_to_b(w) {
        let to_b = json!({"provider_unit_id": w.b});
        row(w.new_training(w.a).await, "/api/v1/trainings", to_b)
    }
    fn delete_training_of_a(w) {
        let id = w.new_training(w.a).await;
        w.new_tally(("training_id", id), w.a).await;
        row(id, "/api/v1/trainings", Value::Null)
    }
    fn delete_training_with_tally_of_b(w) {
        let id = w.new_training(w.a).await;
        w.new_tally(("training_id", id), w.b).await;
        row(id, "/api/v1/trainings", Value::Null)
    }

    // Tallies: admin; editor or reporter of the reporting unit, every row of a batch too.
    fn create_tally_of_a(w) {
        let event = w.new_event(w.a).await;
        Target::new("/api/v1/tallies", tally_input(("event_id", event), w.a, "student"))
    }
    fn put_new_tally_of_a(w) {
        let event = w.new_event(w.a).await;
        Target::new("/api/v1/tallies", tally_input(("event_id", event), w.a, "student"))
    }
    /// Replaces the count of an existing tally (same natural key).
    fn put_existing_tally_of_a(w) {
        let event = w.new_event(w.a).await;
        let id = w.new_tally(("event_id", event), w.a).await;
        let mut body = tally_input(("event_id", event), w.a, "student");
        body["count"] = json!(135);
        Target {
            row: Some((format!("/api/v1/tallies/{id}"), id)),
            ..Target::new("/api/v1/tallies", body)
        }
    }
    fn batch_of_a(w) {
        let event = w.new_event(w.a).await;
        let items = ["student", "retiree"].map(|c| tally_input(("event_id", event), w.a, c));
        Target::new("/api/v1/tallies/batch", json!({"items": items}))
    }
    fn csv_of_a(w) {
        let event = w.new_event(w.a).await;
        let a = w.a;
        Target {
            body: Payload::Csv(format!(
                "{CSV_HEADER}\n{event},student,headcount,120,2014-10-19,{a}\n\
                 {event},retiree,headcount,30,2014-10-19,{a}\n"
            )),
            ..Target::new("/api/v1/tallies/import", Value::Null)
        }
    }
    fn patch_tally_of_a(w) {
        let event = w.new_event(w.a).await;
        let id = w.new_tally(("event_id", event), w.a).await;
        row(id, "/api/v1/tallies", json!({"count": 350}))
    }
    fn move_tally_to_b(w) {
        let event = w.new_event(w.a).await;
        let id = w.new_tally(("event_id", event), w.a).await;
        row(id, "/api/v1/tallies", json!({"reporting_unit_id": w.b}))
    }
    fn delete_tally_of_a(w) {
        let event = w.new_event(w.a).await;
        let id = w.new_tally(("event_id", event), w.a).await;
        row(id, "/api/v1/tallies", Value::Null)
    }

    // Media reports: admin; editor or reporter of the outlet unit or the reporting unit.
    fn create_report_by_a(w) {
        let (path, body) = report_input(w).request();
        Target::new(path, body)
    }
    /// The outlet is unit A itself (say, the TV station), which owns the report.
    fn create_report_of_outlet_a(w) {
        let (path, body) = MediaReportBuilder::new(w.campaign)
            .without("outlet_name")
            .outlet_unit(w.a)
            .medium("tv")
            .title("全民终身学习活动周专题报道")
            .published_at("2014-10-21T12:00:00Z")
            .request();
        Target::new(path, body)
    }
    fn patch_report_of_a(w) {
        let url = json!({"url": "https://example.org/news/1"});
        row(w.new_report_by_a().await, "/api/v1/media-reports", url)
    }
    fn move_report_to_b(w) {
        let to_b = json!({"reporting_unit_id": w.b});
        row(w.new_report_by_a().await, "/api/v1/media-reports", to_b)
    }
    fn delete_report_of_a(w) {
        row(w.new_report_by_a().await, "/api/v1/media-reports", Value::Null)
    }

    // Webhooks: admin; editor or viewer of the subscription's unit.
    fn create_webhook_of_a(w) {
        Target::new("/api/v1/webhooks", webhook_input(w.a))
    }
    fn patch_webhook_of_a(w) {
        let types = json!({"types": ["event", "training"]});
        row(w.new_webhook_of_a().await, "/api/v1/webhooks", types)
    }
    fn delete_webhook_of_a(w) {
        row(w.new_webhook_of_a().await, "/api/v1/webhooks", Value::Null)
    }

    // Login: anyone; the Authorization header is ignored.
    fn login(w) {
        let (_, username, password) = w.new_account_in_a().await;
        Target::new("/api/v1/auth/token", json!({"username": username, "password": password}))
    }
    fn refresh_session(w) {
        let (_, username, password) = w.new_account_in_a().await;
        let res = w
            .app
            .post("/api/v1/auth/token")
            .json(json!({"username": username, "password": password}))
            .send()
            .await;
        let refresh = res.ok(200)["refresh_token"].clone();
        Target::new("/api/v1/auth/refresh", json!({"refresh_token": refresh}))
    }
}
