//! What several resources share: the publication status and visibility of events and
//! trainings, a venue, and the reference checks that tie a row to its campaign.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::AppResult;
use crate::schema::{campaigns, events};
use crate::validate::Checks;

crate::text_enum! {
    /// Drafts are seen by token holders only and never counted.
    pub enum Status {
        Draft = "draft",
        Published = "published",
        Cancelled = "cancelled",
        Completed = "completed",
    }
}

crate::text_enum! {
    /// `internal` items are seen by token holders only (but counted in the summary).
    pub enum Visibility {
        Public = "public",
        Internal = "internal",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Venue {
    #[schema(example = "康泰华都小区")]
    pub name: String,
    #[schema(example = "高州市潘州街道康泰华都小区广场")]
    pub address: Option<String>,
}

impl Venue {
    pub fn from_columns(name: Option<String>, address: Option<String>) -> Option<Venue> {
        name.map(|name| Venue { name, address })
    }

    pub fn check(venue: Option<&Venue>, c: &mut Checks) {
        if let Some(v) = venue {
            c.text("venue.name", &v.name, 200);
            c.opt_text("venue.address", v.address.as_deref(), 300);
        }
    }
}

pub fn default_status() -> Status {
    Status::Draft
}

pub fn default_visibility() -> Visibility {
    Visibility::Public
}

/// The campaign must exist, and an area must be one of its areas when it lists any.
pub async fn check_campaign_area(
    conn: &mut AsyncPgConnection,
    campaign_id: Uuid,
    area: Option<&str>,
    c: &mut Checks,
) -> AppResult<()> {
    let areas: Option<Vec<String>> = campaigns::table
        .find(campaign_id)
        .select(campaigns::areas)
        .first(conn)
        .await
        .optional()?;
    match (areas, area) {
        (None, _) => c.fail("campaign_id", "no such campaign"),
        (Some(areas), Some(area)) if !areas.is_empty() && !areas.iter().any(|a| a == area) => {
            c.fail("area", "is not one of the campaign's areas")
        }
        _ => {}
    }
    Ok(())
}

/// An optional `event_id` must name an event of the same campaign.
pub async fn check_event_campaign(
    conn: &mut AsyncPgConnection,
    event_id: Option<Uuid>,
    campaign_id: Uuid,
    c: &mut Checks,
) -> AppResult<()> {
    let Some(event_id) = event_id else {
        return Ok(());
    };
    let event_campaign: Option<Uuid> = events::table
        .find(event_id)
        .select(events::campaign_id)
        .first(conn)
        .await
        .optional()?;
    match event_campaign {
        None => c.fail("event_id", "no such event"),
        Some(campaign) if campaign != campaign_id => {
            c.fail("event_id", "belongs to another campaign")
        }
        _ => {}
    }
    Ok(())
}
