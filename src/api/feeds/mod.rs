//! `/feeds/{campaign_slug}/events.{ics,atom,json}`: a campaign's public events as iCalendar
//! (calendar apps), Atom and JSON Feed (the city TV station and feed readers).
//!
//! Feeds are public: a token changes nothing in them, so one rendering serves every caller.
//! The feeds are polled, so conditional GET must be cheap: while the campaign is unchanged
//! (the change signal says so), the validators and the body come from memory ([`cache`]),
//! and a 304 costs no query at all. The validators are made only of what the public can see
//! (see [`cache`]), so they cannot tell anyone that something non-public changed.
//!
//! A feed is rendered in a task of its own, inside one read-only `REPEATABLE READ`
//! transaction: the campaign, the validators, every page of events ([`PAGE_ROWS`] at a time, by
//! `(starts_at, id)`) and the tombstones come from one snapshot, so the body is exactly the
//! feed its `ETag` names, and an event moved during a long download is neither missed nor
//! sent twice. The task hands the output on in pieces through a bounded channel: bodies up to
//! [`stream::MAX_CACHED_BODY`] are collected (and kept), larger ones are streamed as they are
//! rendered, so memory does not grow with the campaign.

mod atom;
mod cache;
mod ics;
mod json;
mod stream;

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::campaigns::{Campaign, CampaignIndex};
use crate::api::events::{Event, EventKind};
use crate::api::shared::{Status, Venue, Visibility};
use crate::auth::MaybePrincipal;
use crate::error::AppResult;
use crate::schema::{event_tombstones, events};
use crate::state::AppState;

pub use cache::FeedCache;
use cache::{Rendered, Validators};
pub use json::{JsonFeed, JsonFeedAuthor, JsonFeedEvent, JsonFeedItem};
use stream::{Collected, collect, start};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(ical_feed).service(atom_feed).service(json_feed);
}

/// Deleted events stay in the Atom feed as `at:deleted-entry` this long.
const TOMBSTONE_DAYS: i32 = 30;
const CACHE_CONTROL: &str = "public, max-age=60";
/// Bumped whenever the rendering changes, so that caches holding the old rendering refetch.
const RENDERING: &str = concat!(env!("CARGO_PKG_VERSION"), "/feeds-2");
/// Events read per query while rendering.
const PAGE_ROWS: i64 = 500;
/// The slice of the feed a channel subscribes to; the same filters as the event list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedFilter {
    pub kind: Option<EventKind>,
    /// Events this unit hosts. (Not those it co-organizes: any editor may list any unit as a
    /// co-organizer, which must not put events into that unit's channel.)
    pub unit_id: Option<Uuid>,
    /// One of the campaign's areas, e.g. 潘州街道.
    pub area: Option<String>,
}

impl FeedFilter {
    /// The filters in a fixed order, as a query string (for validators, ids and links).
    fn normalized(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(kind) = self.kind {
            pairs.push(("kind", kind.as_str().to_string()));
        }
        if let Some(unit) = self.unit_id {
            pairs.push(("unit_id", unit.to_string()));
        }
        if let Some(area) = &self.area {
            pairs.push(("area", area.clone()));
        }
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Ics,
    Atom,
    Json,
}

impl Format {
    fn file(self) -> &'static str {
        match self {
            Format::Ics => "events.ics",
            Format::Atom => "events.atom",
            Format::Json => "events.json",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Ics => "text/calendar; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// The feed's URL path (relative: the API does not know the host clients reach it by).
fn feed_path(slug: &str, format: Format, filter: &FeedFilter) -> String {
    let query = filter.normalized();
    let path = format!("/api/v1/feeds/{slug}/{}", format.file());
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

/// One handler per format: the same steps and headers, its own operation in the spec (each
/// format has its own media type and body to document).
macro_rules! feed_handler {
    ($(#[$doc:meta])* $name:ident, $path:tt, $operation_id:tt, $format:expr,
        $content_type:tt, $body:ty, $description:tt) => {
        $(#[$doc])*
        #[utoipa::path(
            tag = "feeds",
            operation_id = $operation_id,
            params(("campaign_slug" = String, Path, example = "gaozhou-2014"), FeedFilter),
            security((), ("bearer" = [])),
            responses(
                (status = 200, content_type = $content_type, body = $body,
                    description = $description, headers(
                    ("ETag" = String, description = "Changes whenever the feed's content does"),
                    ("Last-Modified" = String, description = "Held back a few seconds after a change"),
                    ("Cache-Control" = String, description = "`public, max-age=60`"))),
                (status = 304, description = "Not modified: `If-None-Match` matches the `ETag`, or \
                    nothing changed since `If-Modified-Since`")
            )
        )]
        #[get($path)]
        pub async fn $name(
            req: HttpRequest,
            state: web::Data<AppState>,
            cache: web::Data<FeedCache>,
            campaigns: web::Data<CampaignIndex>,
            _caller: MaybePrincipal,
            slug: web::Path<String>,
            filter: web::Query<FeedFilter>,
        ) -> AppResult<HttpResponse> {
            let feeds = Feeds {
                state: &state,
                cache: &cache,
                campaigns: &campaigns,
            };
            respond(&req, &feeds, &slug, &filter, $format).await
        }
    };
}

feed_handler! {
    /// The campaign's public events as an iCalendar feed (RFC 5545).
    ///
    /// One `VEVENT` per published, cancelled or completed public event: `UID` `<event id>@learnweek`
    /// stays the same across edits, `SEQUENCE` rises with every change, cancelled events have
    /// `STATUS:CANCELLED`, times are UTC. A deleted event leaves the feed. Filters select a slice.
    /// Conditional GET: `If-None-Match` or `If-Modified-Since` give 304.
    ///
    /// Roles: anyone, including anonymous callers.
    ical_feed, "/feeds/{campaign_slug}/events.ics", "getEventsIcal", Format::Ics,
    "text/calendar", String, "iCalendar (`text/calendar; charset=utf-8`)"
}

feed_handler! {
    /// The campaign's public events as an Atom feed (RFC 4287).
    ///
    /// One entry per published, cancelled or completed public event (`id` `urn:uuid:<event id>`,
    /// categories for kind, status and area). Events deleted in the last 30 days appear as
    /// RFC 6721 `at:deleted-entry` tombstones. Filters select a slice. Conditional GET:
    /// `If-None-Match` or `If-Modified-Since` give 304.
    ///
    /// Roles: anyone, including anonymous callers.
    atom_feed, "/feeds/{campaign_slug}/events.atom", "getEventsAtom", Format::Atom,
    "application/atom+xml", String, "Atom feed"
}

feed_handler! {
    /// The campaign's public events as a JSON Feed 1.1.
    ///
    /// One item per published, cancelled or completed public event; the event's times, status,
    /// kind, area and venue are in each item's `_learnweek` object. Filters select a slice.
    /// Conditional GET: `If-None-Match` or `If-Modified-Since` give 304.
    ///
    /// Roles: anyone, including anonymous callers.
    json_feed, "/feeds/{campaign_slug}/events.json", "getEventsJsonFeed", Format::Json,
    "application/feed+json", JsonFeed, "JSON Feed 1.1"
}

/// What a feed request works with.
struct Feeds<'a> {
    state: &'a AppState,
    cache: &'a FeedCache,
    campaigns: &'a CampaignIndex,
}

/// What every feed handler does; `format` picks the rendering.
async fn respond(
    req: &HttpRequest,
    feeds: &Feeds<'_>,
    slug: &str,
    filter: &FeedFilter,
    format: Format,
) -> AppResult<HttpResponse> {
    let Feeds {
        state,
        cache,
        campaigns,
    } = *feeds;
    let campaign = campaigns.find_cached(state, slug).await?;
    let signal = &state.change_signal;
    if signal.campaign_stamp(campaign.id).is_none() {
        return respond_fresh(req, state, cache, campaign.id, filter, format).await;
    }
    // The request that renders for the cache keeps its own output: it may be the beginning of
    // a feed too big to keep, which only this request can go on streaming.
    let mut own = None;
    let key = format!("{}?{}", format.file(), filter.normalized());
    let rendered = cache
        .rendered
        .get_or_compute_while(signal, campaign.id, &key, Rendered::fresh, async {
            let (validators, pieces) = start(state, cache, campaign.id, filter, format).await?;
            let collected = collect(pieces).await?;
            let body = match &collected {
                Collected::Whole(body) => cache.hold(body),
                Collected::Partial(..) => None,
            };
            own = Some(collected);
            Ok(Rendered::new(validators, body))
        })
        .await?;
    let validators = rendered.validators();
    if validators.not_modified(req) {
        return Ok(not_modified(&validators));
    }
    if let Some(collected) = own {
        return Ok(collected.respond(&validators, format));
    }
    if let Some(held) = &rendered.body {
        return Ok(ok(&validators, format).body(held.body.clone()));
    }
    respond_fresh(req, state, cache, campaign.id, filter, format).await
}

/// Without the cache: validators from a new snapshot, then (unless they match) its feed.
async fn respond_fresh(
    req: &HttpRequest,
    state: &AppState,
    cache: &FeedCache,
    campaign: Uuid,
    filter: &FeedFilter,
    format: Format,
) -> AppResult<HttpResponse> {
    let (validators, pieces) = start(state, cache, campaign, filter, format).await?;
    if validators.not_modified(req) {
        // Dropping `pieces` stops the rendering.
        return Ok(not_modified(&validators));
    }
    Ok(collect(pieces).await?.respond(&validators, format))
}

fn not_modified(validators: &Validators) -> HttpResponse {
    let mut res = HttpResponse::NotModified();
    validators.headers(&mut res);
    res.finish()
}

fn ok(validators: &Validators, format: Format) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::Ok();
    validators.headers(&mut res);
    res.insert_header((header::CONTENT_TYPE, format.content_type()));
    res
}

/// Everything a rendering needs besides the rows.
struct Feed {
    campaign: Arc<Campaign>,
    filter: FeedFilter,
    format: Format,
    /// Atom's `<updated>`.
    updated: DateTime<Utc>,
    /// For the human-readable times in Atom and JSON Feed text.
    tz: Tz,
}

impl Feed {
    fn head(&self, out: &mut Vec<u8>) -> AppResult<()> {
        match self.format {
            Format::Ics => ics::head(self, out),
            Format::Atom => {
                let mut xml = String::new();
                atom::head(self, &mut xml);
                out.extend_from_slice(xml.as_bytes());
            }
            Format::Json => json::head(self, out)?,
        }
        Ok(())
    }

    fn item(&self, e: &Event, first: bool, out: &mut Vec<u8>) -> AppResult<()> {
        match self.format {
            Format::Ics => ics::event(e, out),
            Format::Atom => {
                let mut xml = String::new();
                atom::entry(self, e, &mut xml);
                out.extend_from_slice(xml.as_bytes());
            }
            Format::Json => json::item(self, e, first, out)?,
        }
        Ok(())
    }

    fn tail(&self, tombstones: &[Tombstone], out: &mut Vec<u8>) {
        match self.format {
            Format::Ics => out.extend_from_slice(ics::TAIL),
            Format::Atom => {
                let mut xml = String::new();
                atom::tail(tombstones, &mut xml);
                out.extend_from_slice(xml.as_bytes());
            }
            Format::Json => out.extend_from_slice(json::TAIL),
        }
    }

    /// The event as text for a feed reader, which knows no event times or places: summary,
    /// description, then time (in the campaign's time zone) and place.
    fn details(&self, e: &Event) -> String {
        let mut parts: Vec<String> = Vec::new();
        if e.status == Status::Cancelled {
            parts.push("【已取消】".into());
        }
        parts.extend(e.summary.iter().cloned());
        parts.extend(e.description.iter().cloned());
        let mut facts = vec![format!("时间：{}", self.when(e))];
        if let Some(place) = location(e) {
            facts.push(format!("地点：{place}"));
        }
        parts.push(facts.join("\n"));
        parts.join("\n\n")
    }

    fn when(&self, e: &Event) -> String {
        let start = e.starts_at.with_timezone(&self.tz);
        let end = e.ends_at.with_timezone(&self.tz);
        let end = if start.date_naive() == end.date_naive() {
            end.format("%H:%M").to_string()
        } else {
            end.format("%Y-%m-%d %H:%M").to_string()
        };
        format!("{}–{end} ({})", start.format("%Y-%m-%d %H:%M"), self.tz)
    }
}

/// One page of the public events the feed shows, in order of start time, after `after`.
async fn load_page(
    conn: &mut AsyncPgConnection,
    feed: &Feed,
    after: Option<(DateTime<Utc>, Uuid)>,
) -> AppResult<Vec<Event>> {
    let mut query = events::table
        .select(Event::as_select())
        .filter(events::campaign_id.eq(feed.campaign.id))
        .filter(events::visibility.eq(Visibility::Public))
        .filter(events::status.eq_any([Status::Published, Status::Cancelled, Status::Completed]))
        .order((events::starts_at, events::id))
        .limit(PAGE_ROWS)
        .into_boxed();
    if let Some((starts_at, id)) = after {
        // A row comparison, which the (campaign_id, starts_at, id) index answers directly.
        query = query.filter(
            diesel::dsl::sql::<Bool>("(events.starts_at, events.id) > (")
                .bind::<Timestamptz, _>(starts_at)
                .sql(", ")
                .bind::<SqlUuid, _>(id)
                .sql(")"),
        );
    }
    let filter = &feed.filter;
    if let Some(kind) = filter.kind {
        query = query.filter(events::kind.eq(kind));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(events::host_unit_id.eq(unit));
    }
    if let Some(area) = &filter.area {
        query = query.filter(events::area.eq(area.clone()));
    }
    Ok(query.load(conn).await?)
}

/// An event deleted while public, within the last `TOMBSTONE_DAYS`.
#[derive(Debug, Queryable)]
struct Tombstone {
    id: Uuid,
    deleted_at: DateTime<Utc>,
}

/// The tombstones in the feed's slice (a tombstone keeps what the filters look at).
async fn load_tombstones(
    conn: &mut AsyncPgConnection,
    campaign_id: Uuid,
    filter: &FeedFilter,
    now: DateTime<Utc>,
) -> AppResult<Vec<Tombstone>> {
    let cutoff = now - chrono::Duration::days(TOMBSTONE_DAYS.into());
    let mut query = event_tombstones::table
        .select((event_tombstones::id, event_tombstones::deleted_at))
        .filter(event_tombstones::campaign_id.eq(campaign_id))
        .filter(event_tombstones::was_public.eq(true))
        .filter(event_tombstones::deleted_at.gt(cutoff))
        .order((event_tombstones::deleted_at.desc(), event_tombstones::id))
        .into_boxed();
    if let Some(kind) = filter.kind {
        query = query.filter(event_tombstones::kind.eq(kind.as_str()));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(event_tombstones::host_unit_id.eq(unit));
    }
    if let Some(area) = &filter.area {
        query = query.filter(event_tombstones::area.eq(area.clone()));
    }
    Ok(query.load(conn).await?)
}

/// The venue's name and address, or else the area.
fn location(e: &Event) -> Option<String> {
    match &e.venue {
        Some(Venue {
            name,
            address: Some(address),
        }) => Some(format!("{name}, {address}")),
        Some(Venue {
            name,
            address: None,
        }) => Some(name.clone()),
        None => e.area.clone(),
    }
}

/// Free text accepts control characters, which RFC 5545 excludes from TEXT values and XML 1.0
/// from documents: line breaks become `\n`, tabs stay, the rest goes (for XML, U+FFFE and
/// U+FFFF too).
fn without_controls(text: &str) -> Cow<'_, str> {
    let bad =
        |c: char| (c.is_control() && c != '\n' && c != '\t') || c == '\u{FFFE}' || c == '\u{FFFF}';
    if !text.contains(bad) {
        return Cow::Borrowed(text);
    }
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    Cow::Owned(text.chars().filter(|c| !bad(*c)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::campaigns::CampaignStatus;

    pub(super) fn campaign(name: &str) -> Campaign {
        Campaign {
            id: Uuid::from_u128(1),
            slug: "gaozhou-2014".into(),
            name: name.into(),
            theme: None,
            region: None,
            region_code: None,
            year: 2014,
            starts_on: "2014-10-19".parse().unwrap(),
            ends_on: "2014-10-25".parse().unwrap(),
            timezone: "Asia/Shanghai".into(),
            notice_ref: None,
            areas: Vec::new(),
            status: CampaignStatus::Active,
            created_at: "2026-11-01T00:00:00Z".parse().unwrap(),
            updated_at: "2026-11-01T00:00:00Z".parse().unwrap(),
        }
    }

    pub(super) fn feed(campaign: Campaign) -> Feed {
        Feed {
            campaign: Arc::new(campaign),
            filter: FeedFilter::default(),
            format: Format::Atom,
            updated: "2026-11-29T10:00:00.25Z".parse().unwrap(),
            tz: Tz::Asia__Shanghai,
        }
    }

    pub(super) fn event(title: &str) -> Event {
        Event {
            id: Uuid::from_u128(2),
            campaign_id: Uuid::from_u128(1),
            title: title.into(),
            kind: EventKind::Lecture,
            summary: None,
            description: Some("第一行\n第二行".into()),
            venue: Some(Venue {
                name: "康泰华都小区".into(),
                address: None,
            }),
            area: None,
            starts_at: "2014-10-19T01:00:00Z".parse().unwrap(),
            ends_at: "2014-10-19T03:30:00Z".parse().unwrap(),
            host_unit_id: Uuid::from_u128(3),
            co_organizer_unit_ids: Vec::new(),
            audience: None,
            status: Status::Cancelled,
            visibility: Visibility::Public,
            expected_participants: None,
            tags: Vec::new(),
            highlight: false,
            sequence: 2,
            created_at: "2026-11-01T00:00:00Z".parse().unwrap(),
            updated_at: "2026-11-02T00:00:00.123456Z".parse().unwrap(),
        }
    }

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(without_controls("a\r\nb\rc\u{0b}d\te"), "a\nb\ncd\te");
        assert!(matches!(without_controls("高州 a\nb"), Cow::Borrowed(_)));
    }

    /// Streamed JSON Feed is the document serde would write whole.
    #[test]
    fn a_json_feed_written_in_pieces_is_one_document() {
        let mut f = feed(campaign("高州"));
        f.format = Format::Json;
        for n in 0..3 {
            let mut out = Vec::new();
            f.head(&mut out).unwrap();
            for i in 0..n {
                f.item(&event("讲座"), i == 0, &mut out).unwrap();
            }
            f.tail(&[], &mut out);
            let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(doc["items"].as_array().unwrap().len(), n);
            assert_eq!(doc["title"], "高州");
        }
    }
}
