//! JSON Feed 1.1, written item by item: the head up to `"items":[`, each item, then `]}`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Feed;
use crate::api::events::{Event, EventKind};
use crate::api::shared::{Status, Venue};
use crate::error::{AppError, AppResult};

/// A JSON Feed 1.1 document (<https://www.jsonfeed.org/version/1.1/>).
#[derive(Debug, Serialize, ToSchema)]
pub struct JsonFeed {
    #[schema(example = "https://jsonfeed.org/version/1.1")]
    pub version: &'static str,
    #[schema(example = "高州市2014年全民终身学习活动周")]
    pub title: String,
    /// The campaign's theme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub authors: Vec<JsonFeedAuthor>,
    pub items: Vec<JsonFeedItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JsonFeedAuthor {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JsonFeedItem {
    /// The event's id.
    pub id: String,
    pub title: String,
    /// Summary, description, time and place, as plain text.
    pub content_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub date_published: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(rename = "_learnweek")]
    pub learnweek: JsonFeedEvent,
}

/// The event's specifics (a JSON Feed extension object).
#[derive(Debug, Serialize, ToSchema)]
pub struct JsonFeedEvent {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `published`, `cancelled` or `completed`.
    pub status: Status,
    pub kind: EventKind,
    pub area: Option<String>,
    pub venue: Option<Venue>,
    pub host_unit_id: Uuid,
    pub co_organizer_unit_ids: Vec<Uuid>,
    pub audience: Option<String>,
    /// Rises with every change (as the iCalendar `SEQUENCE`).
    pub sequence: i32,
}

/// `items` is the document's last member, so the head is the document without items, cut
/// before its closing `]}`: the streamed feed is byte for byte what serializing it whole gives.
pub(super) fn head(feed: &Feed, out: &mut Vec<u8>) -> AppResult<()> {
    let empty = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: feed.campaign.name.clone(),
        description: feed.campaign.theme.clone(),
        authors: vec![JsonFeedAuthor {
            name: feed.campaign.name.clone(),
        }],
        items: Vec::new(),
    };
    let whole = serde_json::to_vec(&empty).map_err(AppError::internal)?;
    let open = whole
        .strip_suffix(TAIL)
        .ok_or_else(|| AppError::internal("a JSON Feed does not end with its items"))?;
    out.extend_from_slice(open);
    Ok(())
}

/// `first`: no comma before it.
pub(super) fn item(feed: &Feed, e: &Event, first: bool, out: &mut Vec<u8>) -> AppResult<()> {
    if !first {
        out.push(b',');
    }
    let item = JsonFeedItem {
        id: e.id.to_string(),
        title: e.title.clone(),
        content_text: feed.details(e),
        summary: e.summary.clone(),
        date_published: e.created_at,
        date_modified: e.updated_at,
        tags: e.tags.clone(),
        learnweek: JsonFeedEvent {
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            status: e.status,
            kind: e.kind,
            area: e.area.clone(),
            venue: e.venue.clone(),
            host_unit_id: e.host_unit_id,
            co_organizer_unit_ids: e.co_organizer_unit_ids.clone(),
            audience: e.audience.clone(),
            sequence: e.sequence,
        },
    };
    serde_json::to_writer(out, &item).map_err(AppError::internal)
}

pub(super) const TAIL: &[u8] = b"]}";
