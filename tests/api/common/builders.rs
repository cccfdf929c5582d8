//! Builders for the request bodies of the API's resources, in the manner of crates.io's
//! test builders: `EventBuilder::new(campaign, host).kind("exhibition").insert(&app)`.
//!
//! Each starts from a valid body with sensible defaults, has setters for what tests vary
//! (`set` for anything else, `without` to drop a field), and ends in one of
//! - `.json()`: the body, for tests that send it themselves or mutate it;
//! - `.create(&app, token)`: POST, assert 201, return the created JSON;
//! - `.insert(&app)`: `create` as the admin;
//! - `.send(&app, token)`: POST and return the response, whatever it is.

use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::app::{Resp, TestApp};

/// A body with its defaults and the collection it is posted to.
struct Fixture {
    path: String,
    body: Value,
}

/// The shared half of every builder.
macro_rules! builder {
    ($(#[$doc:meta])* $name:ident { $($setter:ident => $field:literal),* $(,)? }) => {
        $(#[$doc])*
        #[must_use]
        pub struct $name(Fixture);

        impl $name {
            fn with_body(path: impl Into<String>, body: Value) -> Self {
                $name(Fixture { path: path.into(), body })
            }

            /// Sets any field (`null` sends an explicit null).
            pub fn set(mut self, field: &str, value: impl Serialize) -> Self {
                self.0.body[field] = serde_json::to_value(value).unwrap();
                self
            }

            /// Leaves `field` out of the body.
            pub fn without(mut self, field: &str) -> Self {
                self.0.body.as_object_mut().unwrap().remove(field);
                self
            }

            $(
                pub fn $setter(self, value: impl Serialize) -> Self {
                    self.set($field, value)
                }
            )*

            /// The request body.
            pub fn json(self) -> Value {
                self.0.body
            }

            /// Where the body is posted, and the body.
            pub fn request(self) -> (String, Value) {
                (self.0.path, self.0.body)
            }

            /// POSTs the body with `token` and returns the response.
            pub async fn send(self, app: &TestApp, token: &str) -> Resp {
                app.post(&self.0.path).bearer(token).json(self.0.body).send().await
            }

            /// POSTs the body with `token`; asserts 201 and returns what was created.
            pub async fn create(self, app: &TestApp, token: &str) -> Value {
                app.create(&self.0.path, token, self.0.body).await
            }

            /// [`Self::create`] as the admin.
            pub async fn insert(self, app: &TestApp) -> Value {
                app.create(&self.0.path, &app.admin, self.0.body).await
            }
        }
    };
}

builder!(
    /// A campaign (活动周) of the week of 19 October 2014 in three areas.
    CampaignBuilder {
        name => "name", theme => "theme", starts_on => "starts_on", ends_on => "ends_on",
        areas => "areas",
    }
);

impl CampaignBuilder {
    pub fn new(slug: &str) -> Self {
        Self::with_body(
            "/api/v1/campaigns",
            json!({
                "slug": slug,
                "name": format!("{slug} 全民终身学习活动周"),
                "starts_on": "2014-10-19",
                "ends_on": "2014-10-25",
                "areas": ["潘州街道", "石仔岭街道", "长坡镇"]
            }),
        )
    }
}

builder!(
    /// A member unit (a government department unless `kind` says otherwise).
    UnitBuilder { kind => "kind", short_name => "short_name" }
);

impl UnitBuilder {
    pub fn new(name: &str) -> Self {
        Self::with_body(
            "/api/v1/units",
            json!({"name": name, "kind": "government_department"}),
        )
    }
}

builder!(
    /// An event of the week: by default a published public lecture on 19 October 2014.
    EventBuilder {
        title => "title", kind => "kind", starts_at => "starts_at", ends_at => "ends_at",
        status => "status", visibility => "visibility", area => "area", venue => "venue",
        summary => "summary", description => "description", tags => "tags",
        co_organizers => "co_organizer_unit_ids", expected_participants => "expected_participants",
    }
);

impl EventBuilder {
    /// Creates the event as the admin and returns its id, as the API spells it.
    pub async fn insert_id(self, app: &TestApp) -> String {
        super::id_of(&self.insert(app).await).to_string()
    }

    pub fn new(campaign: impl ToString, host: Uuid) -> Self {
        Self::with_body(
            "/api/v1/events",
            json!({
                "campaign_id": campaign.to_string(),
                "title": "终身学习讲座",
                "kind": "lecture",
                "starts_at": "2014-10-19T09:00:00+08:00",
                "ends_at": "2014-10-19T11:30:00+08:00",
                "host_unit_id": host,
                "status": "published"
            }),
        )
    }

    /// The week's 低碳生活进家庭 day in 康泰华都小区, every field filled in.
    pub fn low_carbon(campaign: impl ToString, host: Uuid) -> Self {
        Self::new(campaign, host)
            .title("低碳生活进家庭")
            .kind("community_activity")
            .summary("倡导家庭低碳生活，现场发放购物竹篮，减少塑料袋使用。")
            .description(
                "市妇联在康泰华都小区组织“低碳生活进家庭”活动，倡导广大市民的家庭低碳生活。",
            )
            .venue(json!({"name": "康泰华都小区", "address": "高州市潘州街道康泰华都小区广场"}))
            .area("潘州街道")
            .set("audience", "社区居民、家庭妇女")
            .visibility("public")
            .expected_participants(300)
            .tags(["低碳生活", "社区教育"])
    }

    /// Starts and ends at the given times.
    pub fn at(self, starts_at: &str, ends_at: &str) -> Self {
        self.starts_at(starts_at).ends_at(ends_at)
    }
}

builder!(
    /// A training course: by default 市人社局's published computer course of October 2014.
    TrainingBuilder {
        title => "title", subject => "subject", starts_at => "starts_at", ends_at => "ends_at",
        status => "status", visibility => "visibility", event => "event_id",
        capacity => "capacity", enrolled => "enrolled", completed => "completed",
        employed_after => "employed_after", target_groups => "target_groups", venue => "venue",
        fee_cents => "fee_cents",
    }
);

impl TrainingBuilder {
    pub fn new(campaign: impl ToString, provider: Uuid) -> Self {
        Self::with_body(
            "/api/v1/trainings",
            json!({
                "campaign_id": campaign.to_string(),
                "title": "免费电脑操作与办公应用培训班",
                "subject": "computer",
                "provider_unit_id": provider,
                "starts_at": "2014-10-20T08:30:00+08:00",
                "ends_at": "2014-10-25T18:00:00+08:00",
                "status": "published"
            }),
        )
    }

    /// The free computer course of 市人社局 (电脑培训), with its outcome counts.
    pub fn computer_course(campaign: impl ToString, provider: Uuid) -> Self {
        Self::new(campaign, provider)
            .target_groups(["returnee", "unemployed", "veteran"])
            .ends_at("2014-10-24T17:30:00+08:00")
            .venue(json!({"name": "高州市职业技术学校", "address": "高州市潘州街道"}))
            .capacity(100)
            .fee_cents(0)
            .outcomes(92, 86, 52)
            .visibility("public")
    }

    /// Sets the outcome counts: enrolled, completed, employed after.
    pub fn outcomes(self, enrolled: i64, completed: i64, employed_after: i64) -> Self {
        self.enrolled(enrolled)
            .completed(completed)
            .employed_after(employed_after)
    }
}

builder!(
    /// A tally: by default 120 students (headcount) on 19 October 2014.
    TallyBuilder {
        category => "category", measure => "measure", count => "count", date => "tally_date",
        unit => "reporting_unit_id",
    }
);

impl TallyBuilder {
    /// A tally of an event, reported by `unit`.
    pub fn event(event: impl ToString, unit: Uuid) -> Self {
        Self::subject("event_id", event.to_string()).unit(unit)
    }

    /// A tally of a training, reported by `unit`.
    pub fn training(training: impl ToString, unit: Uuid) -> Self {
        Self::subject("training_id", training.to_string()).unit(unit)
    }

    /// A tally of an event with no reporting unit (the caller's unit reports it).
    pub fn unreported(event: impl ToString) -> Self {
        Self::subject("event_id", event.to_string())
    }

    fn subject(key: &str, id: String) -> Self {
        let mut body = json!({
            "category": "student",
            "measure": "headcount",
            "count": 120,
            "tally_date": "2014-10-19"
        });
        body[key] = json!(id);
        Self::with_body("/api/v1/tallies", body)
    }
}

builder!(
    /// A media report: by default 茂名日报's newspaper report of the opening, 20 October 2014.
    MediaReportBuilder {
        title => "title", medium => "medium", url => "url", published_at => "published_at",
        outlet_unit => "outlet_unit_id", outlet_name => "outlet_name",
        reporting_unit => "reporting_unit_id", event => "event_id",
    }
);

impl MediaReportBuilder {
    /// A report by an outlet that is not a unit (茂名日报).
    pub fn new(campaign: impl ToString) -> Self {
        Self::with_body(
            "/api/v1/media-reports",
            json!({
                "campaign_id": campaign.to_string(),
                "outlet_name": "茂名日报",
                "medium": "newspaper",
                "title": "我市全民终身学习活动周隆重开幕",
                "published_at": "2014-10-20T00:00:00Z"
            }),
        )
    }

    /// The TV station's report on the opening ceremony: the outlet is the unit `tv`.
    pub fn tv(campaign: impl ToString, tv: Uuid) -> Self {
        Self::new(campaign)
            .without("outlet_name")
            .outlet_unit(tv)
            .medium("tv")
            .url("https://www.gaozhou.gov.cn/news/2014/10/19/lifelong-learning-week")
            .published_at("2014-10-19T20:00:00+08:00")
    }
}

builder!(
    /// A body of a campaign's organizing committee.
    CommitteeBodyBuilder { unit => "unit_id", parent => "parent_id" }
);

impl CommitteeBodyBuilder {
    pub fn new(campaign: impl std::fmt::Display, name: &str, kind: &str) -> Self {
        Self::with_body(
            format!("/api/v1/campaigns/{campaign}/committee/bodies"),
            json!({"name": name, "kind": kind}),
        )
    }
}

builder!(
    /// A member of a committee body: by default a plain member.
    MemberBuilder {
        position => "position", role => "committee_role", unit => "unit_id", phone => "phone",
        email => "email", body => "body_id",
    }
);

impl MemberBuilder {
    pub fn new(campaign: impl std::fmt::Display, body: impl Serialize, name: &str) -> Self {
        Self::with_body(
            format!("/api/v1/campaigns/{campaign}/committee/members"),
            json!({"name": name, "committee_role": "member"}),
        )
        .body(body)
    }
}

impl TestApp {
    /// Creates a unit as admin and returns its id.
    pub async fn unit(&self, name: &str) -> Uuid {
        super::uuid(&UnitBuilder::new(name).insert(self).await)
    }

    /// Creates a campaign as admin and returns it.
    pub async fn campaign(&self, slug: &str) -> Value {
        CampaignBuilder::new(slug).insert(self).await
    }
}
