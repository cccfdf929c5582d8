//! The rows, inputs and queries of this resource (its handlers are in `mod.rs`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::crud::{NewRow, Resource};
use crate::api::shared::{
    Changes, Owned, check_campaign_area, check_event_campaign, keep_campaign,
};
use crate::auth::{Principal, Subject};
use crate::error::AppResult;
use crate::journal::{Entity, Journaled, RowKey};
use crate::schema::media_reports;
use crate::validate::Checks;

pub use crate::vocabulary::Medium;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Insertable, AsChangeset)]
#[diesel(table_name = media_reports, treat_none_as_null = true)]
#[serde(deny_unknown_fields)]
pub struct MediaReportInput {
    /// Cannot be changed later.
    pub campaign_id: Uuid,
    /// The event covered, if any (same campaign).
    pub event_id: Option<Uuid>,
    /// The outlet, when it is a unit (e.g. the city TV station). This or `outlet_name` is required.
    pub outlet_unit_id: Option<Uuid>,
    /// The outlet's name, when it is not a unit.
    #[schema(example = "茂名日报")]
    pub outlet_name: Option<String>,
    /// The unit that logs the report, for outlets that are not units; defaults to the caller's
    /// unit. When `outlet_unit_id` is set it must be that unit.
    pub reporting_unit_id: Option<Uuid>,
    pub medium: Medium,
    #[schema(
        example = "我市全民终身学习活动周隆重开幕",
        min_length = 1,
        max_length = 300
    )]
    pub title: String,
    #[schema(
        example = "https://www.gaozhou.gov.cn/news/2014/10/19/lifelong-learning-week",
        max_length = 2000,
        pattern = "^https?://"
    )]
    pub url: Option<String>,
    pub published_at: DateTime<Utc>,
}

impl MediaReportInput {
    /// The unit this report will belong to.
    pub fn owner_unit_id(&self) -> Option<Uuid> {
        self.outlet_unit_id.or(self.reporting_unit_id)
    }

    /// Fills `reporting_unit_id` from the caller's unit when the outlet is not a unit.
    fn with_defaults(mut self, principal: &Principal) -> Self {
        if self.reporting_unit_id.is_none() {
            self.reporting_unit_id = self.outlet_unit_id.or(principal.unit_id);
        }
        self
    }

    pub(super) async fn validate(self, conn: &mut AsyncPgConnection) -> AppResult<Self> {
        let mut c = Checks::new();
        c.time("published_at", &self.published_at);
        c.text("title", &self.title, 300);
        c.opt_text("outlet_name", self.outlet_name.as_deref(), 200);
        c.check(
            self.outlet_unit_id.is_some() || self.outlet_name.is_some(),
            "outlet_name",
            "either outlet_unit_id or outlet_name is required",
        );
        if let (Some(outlet), Some(reporter)) = (self.outlet_unit_id, self.reporting_unit_id) {
            c.check(
                outlet == reporter,
                "reporting_unit_id",
                "must be the outlet unit when the outlet is a unit",
            );
        }
        if let Some(url) = &self.url {
            let ok =
                (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 2000;
            c.check(
                ok,
                "url",
                "must be an http(s) URL of at most 2000 characters",
            );
        }
        check_campaign_area(conn, self.campaign_id, None, &mut c).await?;
        check_event_campaign(conn, self.event_id, self.campaign_id, &mut c).await?;
        let mut refs = Vec::new();
        if let Some(u) = self.outlet_unit_id {
            refs.push(("outlet_unit_id".to_string(), u));
        }
        if let Some(u) = self
            .reporting_unit_id
            .filter(|u| Some(*u) != self.outlet_unit_id)
        {
            refs.push(("reporting_unit_id".to_string(), u));
        }
        crate::validate::check_units_exist(conn, &refs, &mut c).await?;
        c.finish()?;
        Ok(self)
    }
}

impl Owned for MediaReportInput {
    fn owners(&self) -> Vec<Option<Uuid>> {
        vec![self.owner_unit_id()]
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = media_reports)]
pub struct MediaReport {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub event_id: Option<Uuid>,
    pub outlet_unit_id: Option<Uuid>,
    #[schema(example = "茂名日报")]
    pub outlet_name: Option<String>,
    pub reporting_unit_id: Option<Uuid>,
    pub medium: Medium,
    #[schema(example = "我市全民终身学习活动周隆重开幕")]
    pub title: String,
    pub url: Option<String>,
    #[serde(serialize_with = "crate::http::timestamp::serialize")]
    pub published_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::http::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::http::timestamp::serialize")]
    pub updated_at: DateTime<Utc>,
}

impl MediaReport {
    pub fn owner_unit_id(&self) -> Option<Uuid> {
        self.outlet_unit_id.or(self.reporting_unit_id)
    }
}

impl From<&MediaReport> for MediaReportInput {
    fn from(m: &MediaReport) -> Self {
        MediaReportInput {
            campaign_id: m.campaign_id,
            event_id: m.event_id,
            outlet_unit_id: m.outlet_unit_id,
            outlet_name: m.outlet_name.clone(),
            reporting_unit_id: m.reporting_unit_id,
            medium: m.medium,
            title: m.title.clone(),
            url: m.url.clone(),
            published_at: m.published_at,
        }
    }
}

impl Journaled for MediaReport {
    const ENTITY: Entity = Entity::MediaReport;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, Some(self.campaign_id), self.owner_unit_id())
    }
}

crate::stored_by_id!(MediaReport, media_reports);
crate::removable_by_id!(MediaReport, media_reports);

impl Resource for MediaReport {
    const SUBJECT: Subject = Subject::MediaReport;

    fn location(&self) -> String {
        format!("/api/v1/media-reports/{}", self.id)
    }
}

impl Changes<MediaReport> for MediaReportInput {
    /// A new outlet unit brings its own reporting unit, unless the patch names one.
    fn complete(&mut self, patch: &serde_json::Value) {
        let names_reporter = patch.get("reporting_unit_id").is_some();
        if self.outlet_unit_id.is_some() && !names_reporter {
            self.reporting_unit_id = self.outlet_unit_id;
        }
    }

    async fn update(
        self,
        conn: &mut AsyncPgConnection,
        before: &MediaReport,
    ) -> AppResult<MediaReport> {
        keep_campaign(before.campaign_id, self.campaign_id)?;
        let input = self.validate(conn).await?;
        Ok(diesel::update(media_reports::table.find(before.id))
            .set((&input, media_reports::updated_at.eq(diesel::dsl::now)))
            .returning(MediaReport::as_returning())
            .get_result(conn)
            .await?)
    }
}

impl NewRow for MediaReportInput {
    type Row = MediaReport;

    fn prepare(self, principal: &Principal) -> Self {
        self.with_defaults(principal)
    }

    async fn store(self, conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<MediaReport> {
        let input = self.validate(conn).await?;
        Ok(diesel::insert_into(media_reports::table)
            .values((media_reports::id.eq(id), &input))
            .returning(MediaReport::as_returning())
            .get_result(conn)
            .await?)
    }
}

pub use crate::api::crud::insert;
