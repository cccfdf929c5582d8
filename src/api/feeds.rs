//! `/feeds/{campaign_slug}/events.{ics,atom,json}`: a campaign's public events as iCalendar
//! (calendar apps), Atom and JSON Feed (the city TV station and feed readers).
//!
//! The feeds are polled, so conditional GET must be cheap: the validators come from the change
//! log (every write to an event or the campaign adds a `changes` row in its own transaction),
//! and a 304 is answered after two small queries, without loading or rendering a single event.
//! Each representation is a pure function of the rows behind that change-log position, so the
//! `ETag` is strong even though no body is hashed.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use actix_web::http::header::{self, HttpDate};
use actix_web::{HttpRequest, HttpResponse, get, web};
use atom_syndication as atom;
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use icalendar::{Calendar, Component, EventLike, EventStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::campaigns::{self, Campaign};
use crate::api::events::{Event, EventKind, EventRow, Status, Venue, Visibility};
use crate::app::AppState;
use crate::auth::MaybePrincipal;
use crate::error::{AppError, AppResult};
use crate::http::conditional::{etag_of_bytes, none_match};
use crate::schema::{event_tombstones, events};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(ical_feed).service(atom_feed).service(json_feed);
}

/// Deleted events stay in the Atom feed as `at:deleted-entry` this long.
const TOMBSTONE_DAYS: i32 = 30;
/// RFC 6721.
const TOMBSTONES_NS: &str = "http://purl.org/atompub/tombstones/1.0";
const CACHE_CONTROL: &str = "public, max-age=60";
/// RFC 5545 3.1: content lines are at most 75 octets, excluding the line break.
const MAX_LINE_OCTETS: usize = 75;
/// How long after a change `Last-Modified` may name its second; see [`last_modified`].
const SETTLE_SECS: i64 = 5;
/// Bumped whenever the rendering changes, so that caches holding the old rendering refetch.
const RENDERING: &str = concat!(env!("CARGO_PKG_VERSION"), "/feeds-1");

/// The slice of the feed a channel subscribes to; the same filters as the event list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedFilter {
    pub kind: Option<EventKind>,
    /// Events this unit hosts or co-organizes.
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

/// Where the change log stands for one campaign.
#[derive(Debug, QueryableByName)]
struct LogPosition {
    /// The last change to the campaign or one of its events (commit order).
    #[diesel(sql_type = Nullable<BigInt>)]
    seq: Option<i64>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    at: Option<DateTime<Utc>>,
    /// The newest tombstone that has aged out of the Atom feed.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    expired: Option<DateTime<Utc>>,
    /// The database's clock (the one `at` and `deleted_at` come from).
    #[diesel(sql_type = Timestamptz)]
    now: DateTime<Utc>,
}

/// Two `LIMIT 1` index scans on `changes (campaign_id, type, seq)` and one on
/// `event_tombstones (campaign_id, deleted_at)`: no scan grows with the campaign's history.
/// `at` is the newer of the two latest rows' times; see [`Validators::compute`] for why that
/// is enough.
async fn log_position(conn: &mut AsyncPgConnection, campaign_id: Uuid) -> AppResult<LogPosition> {
    Ok(diesel::sql_query(
        "WITH latest AS (
             (SELECT seq, at FROM changes WHERE campaign_id = $1 AND type = 'event'
              ORDER BY seq DESC LIMIT 1)
             UNION ALL
             (SELECT seq, at FROM changes WHERE campaign_id = $1 AND type = 'campaign'
              ORDER BY seq DESC LIMIT 1))
         SELECT (SELECT max(seq) FROM latest) AS seq,
                (SELECT max(at) FROM latest) AS at,
                (SELECT max(deleted_at) FROM event_tombstones
                  WHERE campaign_id = $1 AND was_public
                    AND deleted_at <= now() - make_interval(days => $2)) AS expired,
                now() AS now",
    )
    .bind::<SqlUuid, _>(campaign_id)
    .bind::<diesel::sql_types::Integer, _>(TOMBSTONE_DAYS)
    .get_result(conn)
    .await?)
}

/// `ETag` and `Last-Modified` of one feed.
#[derive(Clone)]
struct Validators {
    etag: String,
    /// When the feed last changed (also Atom's and JSON Feed's own "updated").
    changed_at: DateTime<Utc>,
    now: DateTime<Utc>,
}

impl Validators {
    /// The `ETag` hashes what the representation is a function of: the rendering, the format,
    /// the campaign, the normalized filters and the change-log position (plus, for Atom, which
    /// tombstones have aged out, since that changes the feed without a write).
    fn compute(
        format: Format,
        campaign: &Campaign,
        filter: &FeedFilter,
        log: &LogPosition,
    ) -> AppResult<Self> {
        let expired = if format == Format::Atom {
            log.expired
        } else {
            None
        };
        let key = serde_json::json!([
            RENDERING,
            format.file(),
            campaign.id,
            campaign.slug,
            filter.normalized(),
            log.seq.unwrap_or(0),
            expired,
        ]);
        let etag = etag_of_bytes(&serde_json::to_vec(&key).map_err(AppError::internal)?);
        let mut changed_at = log.at.unwrap_or(campaign.updated_at);
        if let Some(expired) = expired {
            changed_at = changed_at.max(expired + chrono::Duration::days(TOMBSTONE_DAYS.into()));
        }
        Ok(Validators {
            etag,
            changed_at,
            now: log.now,
        })
    }

    /// RFC 9110 13.2.2: `If-None-Match` (weak comparison) decides when present; otherwise
    /// `If-Modified-Since`, unless it is not a date or lies in the future (a client's clock).
    fn not_modified(&self, req: &HttpRequest) -> bool {
        if req.headers().contains_key(header::IF_NONE_MATCH) {
            return none_match(req, &self.etag);
        }
        req.headers()
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<HttpDate>().ok())
            .is_some_and(|since| unmodified_since(self.changed_at, self.now, since.into()))
    }

    fn headers(&self, res: &mut actix_web::HttpResponseBuilder) {
        let last_modified = HttpDate::from(last_modified(self.changed_at, self.now));
        res.insert_header((header::ETAG, self.etag.as_str()))
            .insert_header((header::LAST_MODIFIED, last_modified))
            .insert_header((header::CACHE_CONTROL, CACHE_CONTROL));
    }
}

/// The `Last-Modified` to send for a feed that changed at `changed_at`.
///
/// HTTP dates have one-second resolution, and `changes.at` is taken just before the writing
/// transaction commits, not at the commit itself. Naming the second of a recent change would
/// let a later change in the same second (or one committing a moment after its time was taken)
/// hide behind the date the client holds, and its `If-Modified-Since` would get a 304 over new
/// content. So
/// until `SETTLE_SECS` have passed the date is held back to `now - SETTLE_SECS`: a client
/// polling right after a change gets a few extra 200s, never a wrong 304 (as long as write
/// transactions take less than `SETTLE_SECS - 1` seconds).
fn last_modified(changed_at: DateTime<Utc>, now: DateTime<Utc>) -> SystemTime {
    let settled = now - chrono::Duration::seconds(SETTLE_SECS);
    whole_seconds(changed_at.min(settled))
}

/// `If-Modified-Since` holds when the feed's true change time (not the held-back date sent)
/// falls within or before the second named, and that second is not in the future.
fn unmodified_since(changed_at: DateTime<Utc>, now: DateTime<Utc>, since: SystemTime) -> bool {
    since <= SystemTime::from(now) && whole_seconds(changed_at) <= since
}

fn whole_seconds(t: DateTime<Utc>) -> SystemTime {
    let secs = u64::try_from(t.timestamp()).unwrap_or(0);
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// The campaign's public events that anonymous callers may see, in order of start time.
async fn load_events(
    conn: &mut AsyncPgConnection,
    campaign_id: Uuid,
    filter: &FeedFilter,
) -> AppResult<Vec<Event>> {
    let mut query = events::table
        .select(EventRow::as_select())
        .filter(events::campaign_id.eq(campaign_id))
        .filter(events::visibility.eq(Visibility::Public))
        .filter(events::status.eq_any([Status::Published, Status::Cancelled, Status::Completed]))
        .order((events::starts_at, events::id))
        .into_boxed();
    if let Some(kind) = filter.kind {
        query = query.filter(events::kind.eq(kind));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(
            events::host_unit_id
                .eq(unit)
                .or(events::co_organizer_unit_ids.contains(vec![unit])),
        );
    }
    if let Some(area) = &filter.area {
        query = query.filter(events::area.eq(area.clone()));
    }
    let rows: Vec<EventRow> = query.load(conn).await?;
    Ok(rows.into_iter().map(Event::from).collect())
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
        query = query.filter(
            event_tombstones::host_unit_id
                .eq(unit)
                .or(event_tombstones::co_organizer_unit_ids.contains(vec![unit])),
        );
    }
    if let Some(area) = &filter.area {
        query = query.filter(event_tombstones::area.eq(area.clone()));
    }
    Ok(query.load(conn).await?)
}

/// What every feed handler does; `format` picks the rendering.
async fn respond(
    req: &HttpRequest,
    state: &AppState,
    slug: &str,
    filter: &FeedFilter,
    format: Format,
) -> AppResult<HttpResponse> {
    // A poller asking "anything new?" is answered from memory while nothing has changed.
    let key = format!("{}|{slug}|{}", format.file(), filter.normalized());
    let epoch = state.change_signal.epoch();
    if let Some(validators) = epoch.and_then(|e| state.feed_validators.get(&key, e))
        && validators.not_modified(req)
    {
        let mut res = HttpResponse::NotModified();
        validators.headers(&mut res);
        return Ok(res.finish());
    }
    let mut conn = state.conn().await?;
    let campaign = campaigns::find(&mut conn, slug).await?;
    // The validators are read before the rows (each statement sees its own snapshot): the body
    // can only be newer than its validators, which costs at worst one extra 200 later.
    let log = log_position(&mut conn, campaign.id).await?;
    let validators = Validators::compute(format, &campaign, filter, &log)?;
    if let Some(epoch) = epoch {
        state.feed_validators.put(key, epoch, &validators);
    }
    if validators.not_modified(req) {
        let mut res = HttpResponse::NotModified();
        validators.headers(&mut res);
        return Ok(res.finish());
    }
    let events = load_events(&mut conn, campaign.id, filter).await?;
    let feed = Feed {
        campaign: &campaign,
        filter,
        changed_at: validators.changed_at,
        tz: campaign.timezone.parse().unwrap_or(Tz::UTC),
        events: &events,
    };
    let body = match format {
        Format::Ics => feed.ics().into_bytes(),
        Format::Atom => {
            let tombstones =
                load_tombstones(&mut conn, campaign.id, filter, validators.now).await?;
            feed.atom(&tombstones)?
        }
        Format::Json => serde_json::to_vec(&feed.json()).map_err(AppError::internal)?,
    };
    let mut res = HttpResponse::Ok();
    validators.headers(&mut res);
    Ok(res
        .insert_header((header::CONTENT_TYPE, format.content_type()))
        .body(body))
}

/// Feed validators computed recently, valid while the change epoch they were computed in
/// lasts (no write anywhere since). They are refreshed every [`VALIDATOR_TTL`] anyway
/// (tombstones age out of the Atom feed without a write): by one request, while the others
/// go on answering from the entry, so a popular feed's pollers never all queue for the
/// database at once.
#[derive(Default)]
pub struct ValidatorCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedValidators>>,
}

struct CachedValidators {
    epoch: u64,
    filled: std::time::Instant,
    /// Since when one request has been refreshing this entry.
    refreshing: Option<std::time::Instant>,
    validators: Validators,
}

const VALIDATOR_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// A refresh that has not arrived after this long (its request failed) is handed to the next
/// request; an entry older than this plus the TTL is not used at all.
const VALIDATOR_REFRESH_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// Distinct feeds (format x campaign x filters) remembered at once.
const MAX_CACHED_FEEDS: usize = 1000;

impl ValidatorCache {
    /// The cached validators, or `None`: then the caller computes and [`put`](Self::put)s them.
    fn get(&self, key: &str, epoch: u64) -> Option<Validators> {
        let mut entries = self.entries.lock().ok()?;
        let cached = entries.get_mut(key)?;
        if cached.epoch != epoch {
            return None;
        }
        let elapsed = cached.filled.elapsed();
        if elapsed >= VALIDATOR_TTL {
            let refresh_pending = cached
                .refreshing
                .is_some_and(|since| since.elapsed() < VALIDATOR_REFRESH_GRACE);
            if !refresh_pending || elapsed >= VALIDATOR_TTL + VALIDATOR_REFRESH_GRACE {
                cached.refreshing = Some(std::time::Instant::now());
                return None;
            }
        }
        let mut validators = cached.validators.clone();
        validators.now += chrono::Duration::from_std(elapsed).unwrap_or_default();
        Some(validators)
    }

    fn put(&self, key: String, epoch: u64, v: &Validators) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_CACHED_FEEDS {
                entries.clear();
            }
            entries.insert(
                key,
                CachedValidators {
                    epoch,
                    filled: std::time::Instant::now(),
                    refreshing: None,
                    validators: v.clone(),
                },
            );
        }
    }
}

/// The campaign's public events as an iCalendar feed (RFC 5545).
///
/// One `VEVENT` per published, cancelled or completed public event: `UID` `<event id>@learnweek`
/// stays the same across edits, `SEQUENCE` rises with every change, cancelled events have
/// `STATUS:CANCELLED`, times are UTC. A deleted event leaves the feed. Filters select a slice.
/// Conditional GET: `If-None-Match` or `If-Modified-Since` give 304.
///
/// Roles: anyone, including anonymous callers.
#[utoipa::path(
    tag = "feeds",
    operation_id = "getEventsIcal",
    params(("campaign_slug" = String, Path, example = "gaozhou-2014"), FeedFilter),
    security((), ("bearer" = [])),
    responses(
        (status = 200, content_type = "text/calendar", body = String,
            description = "iCalendar (`text/calendar; charset=utf-8`)", headers(
            ("ETag" = String, description = "Changes whenever the feed's content does"),
            ("Last-Modified" = String, description = "Held back a few seconds after a change"),
            ("Cache-Control" = String, description = "`public, max-age=60`"))),
        (status = 304, description = "Not modified: `If-None-Match` matches the `ETag`, or \
            nothing changed since `If-Modified-Since`")
    )
)]
#[get("/feeds/{campaign_slug}/events.ics")]
pub async fn ical_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: MaybePrincipal,
    slug: web::Path<String>,
    filter: web::Query<FeedFilter>,
) -> AppResult<HttpResponse> {
    respond(&req, &state, &slug, &filter, Format::Ics).await
}

/// The campaign's public events as an Atom feed (RFC 4287).
///
/// One entry per published, cancelled or completed public event (`id` `urn:uuid:<event id>`,
/// categories for kind, status and area). Events deleted in the last 30 days appear as
/// RFC 6721 `at:deleted-entry` tombstones. Filters select a slice. Conditional GET:
/// `If-None-Match` or `If-Modified-Since` give 304.
///
/// Roles: anyone, including anonymous callers.
#[utoipa::path(
    tag = "feeds",
    operation_id = "getEventsAtom",
    params(("campaign_slug" = String, Path, example = "gaozhou-2014"), FeedFilter),
    security((), ("bearer" = [])),
    responses(
        (status = 200, content_type = "application/atom+xml", body = String,
            description = "Atom feed", headers(
            ("ETag" = String, description = "Changes whenever the feed's content does"),
            ("Last-Modified" = String, description = "Held back a few seconds after a change"),
            ("Cache-Control" = String, description = "`public, max-age=60`"))),
        (status = 304, description = "Not modified: `If-None-Match` matches the `ETag`, or \
            nothing changed since `If-Modified-Since`")
    )
)]
#[get("/feeds/{campaign_slug}/events.atom")]
pub async fn atom_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: MaybePrincipal,
    slug: web::Path<String>,
    filter: web::Query<FeedFilter>,
) -> AppResult<HttpResponse> {
    respond(&req, &state, &slug, &filter, Format::Atom).await
}

/// The campaign's public events as a JSON Feed 1.1.
///
/// One item per published, cancelled or completed public event; the event's times, status,
/// kind, area and venue are in each item's `_learnweek` object. Filters select a slice.
/// Conditional GET: `If-None-Match` or `If-Modified-Since` give 304.
///
/// Roles: anyone, including anonymous callers.
#[utoipa::path(
    tag = "feeds",
    operation_id = "getEventsJsonFeed",
    params(("campaign_slug" = String, Path, example = "gaozhou-2014"), FeedFilter),
    security((), ("bearer" = [])),
    responses(
        (status = 200, content_type = "application/feed+json", body = JsonFeed,
            description = "JSON Feed 1.1", headers(
            ("ETag" = String, description = "Changes whenever the feed's content does"),
            ("Last-Modified" = String, description = "Held back a few seconds after a change"),
            ("Cache-Control" = String, description = "`public, max-age=60`"))),
        (status = 304, description = "Not modified: `If-None-Match` matches the `ETag`, or \
            nothing changed since `If-Modified-Since`")
    )
)]
#[get("/feeds/{campaign_slug}/events.json")]
pub async fn json_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    _caller: MaybePrincipal,
    slug: web::Path<String>,
    filter: web::Query<FeedFilter>,
) -> AppResult<HttpResponse> {
    respond(&req, &state, &slug, &filter, Format::Json).await
}

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

/// Everything a rendering needs.
struct Feed<'a> {
    campaign: &'a Campaign,
    filter: &'a FeedFilter,
    changed_at: DateTime<Utc>,
    /// For the human-readable times in Atom and JSON Feed text.
    tz: Tz,
    events: &'a [Event],
}

impl Feed<'_> {
    fn ics(&self) -> String {
        let mut cal = Calendar::empty();
        cal.append_property(("VERSION", "2.0"))
            .append_property((
                "PRODID",
                "-//learnweek//Lifelong Learning Activity Week//ZH",
            ))
            .append_property(("CALSCALE", "GREGORIAN"))
            .name(&ical_text(&self.campaign.name))
            .ttl(&chrono::Duration::hours(1));
        for e in self.events {
            let mut ve = icalendar::Event::new();
            ve.uid(&format!("{}@learnweek", e.id))
                .timestamp(e.updated_at)
                .created(e.created_at)
                .last_modified(e.updated_at)
                .sequence(u32::try_from(e.sequence).unwrap_or(0))
                .status(if e.status == Status::Cancelled {
                    EventStatus::Cancelled
                } else {
                    EventStatus::Confirmed
                })
                .summary(&ical_text(&e.title))
                .starts(e.starts_at);
            // RFC 5545 3.8.2.2: DTEND must be later than DTSTART; an instant has none.
            if e.ends_at > e.starts_at {
                ve.ends(e.ends_at);
            }
            if let Some(location) = location(e) {
                ve.location(&ical_text(&location));
            }
            let description = [e.summary.as_deref(), e.description.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n\n");
            if !description.is_empty() {
                ve.description(&ical_text(&description));
            }
            if !e.tags.is_empty() {
                ve.categories(e.tags.iter().map(|t| ical_text(t)));
            }
            cal.push(ve.done());
        }
        fix_overlong_lines(cal.done().to_string())
    }

    fn atom(&self, tombstones: &[Tombstone]) -> AppResult<Vec<u8>> {
        let slug = &self.campaign.slug;
        let mut tombstone_elements = Vec::with_capacity(tombstones.len());
        for t in tombstones {
            let attrs = BTreeMap::from([
                ("ref".to_string(), format!("urn:uuid:{}", t.id)),
                ("when".to_string(), rfc3339(t.deleted_at)),
            ]);
            tombstone_elements.push(atom::extension::Extension {
                name: "at:deleted-entry".into(),
                attrs,
                ..Default::default()
            });
        }
        let mut extensions = atom::extension::ExtensionMap::new();
        if !tombstone_elements.is_empty() {
            extensions.insert(
                "at".into(),
                BTreeMap::from([("deleted-entry".to_string(), tombstone_elements)]),
            );
        }
        let link = |rel: &str, format: Format, mime: &str| atom::Link {
            href: feed_path(slug, format, self.filter),
            rel: rel.into(),
            mime_type: Some(mime.into()),
            ..Default::default()
        };
        let feed = atom::Feed {
            title: atom::Text::plain(xml_text(&self.campaign.name)),
            subtitle: self
                .campaign
                .theme
                .as_deref()
                .map(|t| atom::Text::plain(xml_text(t))),
            id: format!(
                "urn:uuid:{}",
                Uuid::new_v5(
                    &self.campaign.id,
                    format!("events.atom?{}", self.filter.normalized()).as_bytes()
                )
            ),
            updated: fixed(self.changed_at),
            authors: vec![atom::Person {
                name: xml_text(&self.campaign.name).into_owned(),
                ..Default::default()
            }],
            generator: Some(atom::Generator {
                value: "learnweek".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
                ..Default::default()
            }),
            links: vec![
                link("self", Format::Atom, "application/atom+xml"),
                link("alternate", Format::Ics, "text/calendar"),
                link("alternate", Format::Json, "application/feed+json"),
            ],
            entries: self.events.iter().map(|e| self.atom_entry(e)).collect(),
            extensions,
            namespaces: BTreeMap::from([("at".to_string(), TOMBSTONES_NS.to_string())]),
            ..Default::default()
        };
        let config = atom::WriteConfig {
            write_document_declaration: true,
            indent_size: Some(2),
        };
        feed.write_with_config(Vec::new(), config)
            .map_err(AppError::internal)
    }

    fn atom_entry(&self, e: &Event) -> atom::Entry {
        let category = |scheme: &str, term: &str| atom::Category {
            term: xml_text(term).into_owned(),
            scheme: Some(scheme.into()),
            label: None,
        };
        let mut categories = vec![
            category("urn:learnweek:event-kind", e.kind.as_str()),
            category("urn:learnweek:event-status", e.status.as_str()),
        ];
        if let Some(area) = &e.area {
            categories.push(category("urn:learnweek:area", area));
        }
        categories.extend(e.tags.iter().map(|t| category("urn:learnweek:tag", t)));
        atom::Entry {
            title: atom::Text::plain(xml_text(&e.title)),
            id: format!("urn:uuid:{}", e.id),
            updated: fixed(e.updated_at),
            published: Some(fixed(e.created_at)),
            categories,
            links: vec![atom::Link {
                href: format!("/api/v1/events/{}", e.id),
                rel: "alternate".into(),
                mime_type: Some("application/json".into()),
                ..Default::default()
            }],
            summary: e.summary.as_deref().map(|s| atom::Text::plain(xml_text(s))),
            content: Some(atom::Content {
                value: Some(xml_text(&self.details(e)).into_owned()),
                content_type: Some("text".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn json(&self) -> JsonFeed {
        JsonFeed {
            version: "https://jsonfeed.org/version/1.1",
            title: self.campaign.name.clone(),
            description: self.campaign.theme.clone(),
            authors: vec![JsonFeedAuthor {
                name: self.campaign.name.clone(),
            }],
            items: self
                .events
                .iter()
                .map(|e| JsonFeedItem {
                    id: e.id.to_string(),
                    title: e.title.clone(),
                    content_text: self.details(e),
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
                })
                .collect(),
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

fn fixed(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.fixed_offset()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
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

fn ical_text(text: &str) -> String {
    without_controls(text).into_owned()
}

fn xml_text(text: &str) -> Cow<'_, str> {
    without_controls(text)
}

/// icalendar 0.17 folds content lines on character boundaries, but its loop stops while up to
/// 75 octets remain and then writes them after the continuation's leading space: the last
/// continuation of a long line can be 76 octets. Re-fold only the lines that are too long
/// (at a character boundary, so UTF-8 sequences are never split).
fn fix_overlong_lines(ics: String) -> String {
    if ics.split("\r\n").all(|line| line.len() <= MAX_LINE_OCTETS) {
        return ics;
    }
    let mut out = String::with_capacity(ics.len() + 64);
    for line in ics.split_inclusive("\r\n") {
        let (mut rest, eol) = match line.strip_suffix("\r\n") {
            Some(content) => (content, "\r\n"),
            None => (line, ""),
        };
        let mut limit = MAX_LINE_OCTETS;
        while rest.len() > limit {
            let mut cut = limit;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            out.push_str(&rest[..cut]);
            out.push_str("\r\n ");
            rest = &rest[cut..];
            limit = MAX_LINE_OCTETS - 1;
        }
        out.push_str(rest);
        out.push_str(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validators(etag: &str) -> Validators {
        Validators {
            etag: etag.into(),
            changed_at: Utc::now(),
            now: Utc::now(),
        }
    }

    fn age(cache: &ValidatorCache, key: &str, by: std::time::Duration) {
        let mut entries = cache.entries.lock().unwrap();
        let entry = entries.get_mut(key).unwrap();
        entry.filled = entry.filled.checked_sub(by).unwrap();
    }

    #[test]
    fn validators_are_used_only_within_their_change_epoch() {
        let cache = ValidatorCache::default();
        cache.put("k".into(), 7, &validators("a"));
        assert_eq!(cache.get("k", 7).unwrap().etag, "a");
        assert!(cache.get("k", 8).is_none(), "a change since");
        assert!(cache.get("other", 7).is_none());
    }

    #[test]
    fn one_request_refreshes_expired_validators_while_the_others_use_them() {
        let cache = ValidatorCache::default();
        cache.put("k".into(), 1, &validators("a"));
        age(&cache, "k", VALIDATOR_TTL);
        assert!(cache.get("k", 1).is_none(), "the first caller refreshes");
        assert_eq!(
            cache.get("k", 1).unwrap().etag,
            "a",
            "the others answer meanwhile"
        );
        cache.put("k".into(), 1, &validators("b"));
        assert_eq!(cache.get("k", 1).unwrap().etag, "b");

        // A refresh that never arrives is handed on, and an entry is never used for long.
        age(&cache, "k", VALIDATOR_TTL + VALIDATOR_REFRESH_GRACE);
        assert!(cache.get("k", 1).is_none());
        assert!(cache.get("k", 1).is_none(), "too old for anyone");
    }

    fn calendar_with_summary(summary: &str) -> String {
        let mut cal = Calendar::empty();
        cal.push(icalendar::Event::new().uid("u").summary(summary).done());
        cal.done().to_string()
    }

    /// The crate's own folding, on a line of exactly 150 octets, leaves a 76-octet line.
    #[test]
    fn icalendar_folding_overruns_and_is_fixed() {
        let summary = "x".repeat(150 - "SUMMARY:".len());
        let raw = calendar_with_summary(&summary);
        assert!(raw.split("\r\n").any(|l| l.len() > MAX_LINE_OCTETS));
        let fixed = fix_overlong_lines(raw);
        assert!(fixed.split("\r\n").all(|l| l.len() <= MAX_LINE_OCTETS));
        assert!(icalendar::parser::unfold(&fixed).contains(&format!("SUMMARY:{summary}\r\n")));
    }

    #[test]
    fn folding_keeps_characters_whole_at_every_length() {
        for alphabet in ["x", "高", "😀", "高 州", "é a"] {
            for n in 0..200 {
                for pad in 0..4 {
                    let summary: String =
                        "a".repeat(pad) + &alphabet.chars().cycle().take(n).collect::<String>();
                    let ics = fix_overlong_lines(calendar_with_summary(&summary));
                    assert!(ics.split("\r\n").all(|l| l.len() <= MAX_LINE_OCTETS));
                    let unfolded = icalendar::parser::unfold(&ics);
                    let expected = format!("SUMMARY:{}\r\n", summary);
                    assert!(unfolded.contains(&expected), "{alphabet} {n} {pad}");
                }
            }
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// A client that read the feed right after one change must not get a 304 after a second
    /// change in the same second.
    #[test]
    fn a_second_change_in_the_same_second_is_not_hidden() {
        let first = at("2026-11-29T10:00:00.100Z");
        let read_at = at("2026-11-29T10:00:00.300Z");
        let sent = last_modified(first, read_at);
        assert!(sent < whole_seconds(first));
        // Unchanged: no 304 until the change has settled, then 304 for the date then sent.
        assert!(!unmodified_since(first, at("2026-11-29T10:00:01Z"), sent));
        let later = at("2026-11-29T10:01:00Z");
        let settled = last_modified(first, later);
        assert_eq!(settled, whole_seconds(first));
        assert!(unmodified_since(first, later, settled));
        // A second change within the same second: the date held is older than it.
        let second = at("2026-11-29T10:00:00.800Z");
        assert!(!unmodified_since(second, later, sent));
    }

    #[test]
    fn if_modified_since_in_the_future_is_ignored() {
        let changed = at("2026-11-29T10:00:00Z");
        let now = at("2026-11-29T11:00:00Z");
        assert!(unmodified_since(changed, now, whole_seconds(now)));
        assert!(!unmodified_since(
            changed,
            now,
            whole_seconds(at("2026-11-29T12:00:00Z"))
        ));
        assert!(!unmodified_since(
            changed,
            now,
            whole_seconds(at("2026-11-29T09:59:59Z"))
        ));
    }

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(without_controls("a\r\nb\rc\u{0b}d\te"), "a\nb\ncd\te");
        assert!(matches!(without_controls("高州 a\nb"), Cow::Borrowed(_)));
    }
}
