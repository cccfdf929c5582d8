//! Validators (`ETag`, `Last-Modified`, Atom's `<updated>`) and the rendered feeds kept in
//! memory.
//!
//! The validators are a function of what the public can see, never of the change log: a
//! feed's tag must not move when an internal or draft event (or anything else in the campaign
//! that the feed does not show) changes, or polling the feed would tell that it happened. So
//! the `ETag` hashes the feed's own rows (id, sequence and change time of each event shown;
//! for Atom also the tombstones shown), the campaign fields the feed shows, the filters and
//! the rendering; and `Last-Modified` is the latest of the times the public can see: the
//! campaign's and its public events' `updated_at` (all of them, not only the slice's: an
//! event whose kind changes leaves the `?kind=` slice, and the slice's own rows would not
//! say when), the deletion of a public event, and the moment an event stopped being public
//! (`events.left_public_at`, set by a trigger on that transition only, so later edits of the
//! now internal event leave it alone). One aggregate query computes them, in the snapshot
//! the body is rendered from, so a tag always describes exactly the body sent with it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use actix_web::HttpRequest;
use actix_web::http::header::{self, HttpDate};
use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{CACHE_CONTROL, FeedFilter, Format, RENDERING, TOMBSTONE_DAYS};
use crate::api::campaigns::Campaign;
use crate::error::{AppError, AppResult};
use crate::http::conditional::{etag_of_bytes, none_match};
use crate::read_cache::ReadCache;

/// How long after a change `Last-Modified` may name its second; see [`last_modified`].
const SETTLE_SECS: i64 = 5;
/// Distinct feeds (campaign x format x filters) remembered at once.
const MAX_CACHED_FEEDS: usize = 4096;
/// Bytes of rendered bodies held at once; past it, feeds are remembered by their validators
/// only (and rendered again for each 200).
const MAX_HELD_BYTES: usize = 64 << 20;
/// How long a request waits for its turn to render before a 503.
const RENDER_WAIT: Duration = Duration::from_secs(30);

/// Rendered feeds by campaign, format and filters, kept while their campaign is unchanged.
pub struct FeedCache {
    /// Served while the campaign is unchanged and the feed [`fresh`](Rendered::fresh).
    pub(super) rendered: ReadCache<Rendered>,
    /// Renderings in progress, each holding a pooled connection and a snapshot for as long
    /// as its client takes to read the feed: at most half the pool, so that downloads of big
    /// feeds cannot starve the rest of the API.
    renders: Arc<Semaphore>,
    held: Arc<AtomicUsize>,
}

impl FeedCache {
    pub fn new(pool_size: usize) -> Self {
        FeedCache {
            rendered: ReadCache::new(MAX_CACHED_FEEDS),
            renders: Arc::new(Semaphore::new((pool_size / 2).max(1))),
            held: Arc::default(),
        }
    }

    /// A turn to render; waits while the others' are all taken.
    pub(super) async fn turn(&self) -> AppResult<OwnedSemaphorePermit> {
        match tokio::time::timeout(RENDER_WAIT, self.renders.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError::busy(
                "too many feeds are being downloaded at once; retry shortly",
            )),
        }
    }

    /// `body` accounted for while it is kept, or `None` when the budget is spent.
    pub(super) fn hold(&self, body: &Bytes) -> Option<Held> {
        let len = body.len();
        let before = self.held.fetch_add(len, Ordering::AcqRel);
        let held = Held {
            body: body.clone(),
            counter: self.held.clone(),
        };
        (before + len <= MAX_HELD_BYTES).then_some(held)
    }
}

/// A body counted against [`MAX_HELD_BYTES`] until the last holder lets it go.
pub(super) struct Held {
    pub(super) body: Bytes,
    counter: Arc<AtomicUsize>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.counter.fetch_sub(self.body.len(), Ordering::AcqRel);
    }
}

/// One feed's validators and, when small enough, its body.
pub(super) struct Rendered {
    validators: Validators,
    pub(super) body: Option<Held>,
    at: Instant,
}

impl Rendered {
    pub(super) fn new(validators: Validators, body: Option<Held>) -> Self {
        Rendered {
            validators,
            body,
            at: Instant::now(),
        }
    }

    /// The validators, with the database's clock as it is now (for the held-back date).
    pub(super) fn validators(&self) -> Validators {
        let mut v = self.validators.clone();
        v.now += chrono::Duration::from_std(self.at.elapsed()).unwrap_or_default();
        v
    }

    /// Not past the moment a tombstone it shows ages out.
    pub(super) fn fresh(&self) -> bool {
        let v = self.validators();
        v.expires.is_none_or(|expires| v.now < expires)
    }
}

/// `ETag` and `Last-Modified` of one feed.
#[derive(Debug, Clone)]
pub(super) struct Validators {
    pub(super) etag: String,
    /// When the feed last changed, as far as the public can tell.
    changed_at: DateTime<Utc>,
    /// The latest change among the feed's own rows and campaign (Atom's `<updated>`).
    pub(super) updated: DateTime<Utc>,
    /// The database's clock (the one the times above come from).
    pub(super) now: DateTime<Utc>,
    /// When the feed changes without a write: the oldest tombstone it shows ages out.
    expires: Option<DateTime<Utc>>,
}

/// Aggregates over the campaign's events and public tombstones.
#[derive(Debug, diesel::QueryableByName)]
struct Aggregate {
    /// md5 of the (id, sequence, updated_at) of every event the feed shows.
    #[diesel(sql_type = Nullable<Text>)]
    rows: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    rows_updated: Option<DateTime<Utc>>,
    /// Of every public event of the campaign, in the slice or not.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    public_updated: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    left_public: Option<DateTime<Utc>>,
    /// md5 of the (id, deleted_at) of the tombstones an Atom feed of the slice shows.
    #[diesel(sql_type = Nullable<Text>)]
    stones: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    stones_newest: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    stones_oldest: Option<DateTime<Utc>>,
    /// The newest tombstone of the slice that has aged out, and of the whole campaign.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    expired_in_slice: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    expired: Option<DateTime<Utc>>,
    /// The last deletion of a public event.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    deleted: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    now: DateTime<Utc>,
}

/// One pass over the campaign's events (index `events_campaign_starts`) and one over its
/// tombstones. Times are hashed as integer microseconds, independent of the session's zone.
const AGGREGATE: &str = "
    WITH e AS (
        SELECT id, sequence, updated_at, left_public_at,
               visibility = 'public' AND status IN ('published', 'cancelled', 'completed')
                   AS public,
               ($2::text IS NULL OR kind = $2)
                   AND ($3::uuid IS NULL OR host_unit_id = $3)
                   AND ($4::text IS NULL OR area = $4) AS in_slice
          FROM events WHERE campaign_id = $1),
    t AS (
        SELECT id, deleted_at, deleted_at > now() - make_interval(days => $5) AS live,
               ($2::text IS NULL OR kind = $2)
                   AND ($3::uuid IS NULL OR host_unit_id = $3)
                   AND ($4::text IS NULL OR area = $4) AS in_slice
          FROM event_tombstones WHERE campaign_id = $1 AND was_public)
    SELECT ev.*, ts.*, now() AS now
      FROM (SELECT md5(string_agg(id::text || ':' || sequence || ':'
                           || (extract(epoch FROM updated_at) * 1000000)::bigint, ',' ORDER BY id)
                       FILTER (WHERE public AND in_slice)) AS rows,
                   max(updated_at) FILTER (WHERE public AND in_slice) AS rows_updated,
                   max(updated_at) FILTER (WHERE public) AS public_updated,
                   max(left_public_at) AS left_public
              FROM e) AS ev,
           (SELECT md5(string_agg(id::text || ':'
                           || (extract(epoch FROM deleted_at) * 1000000)::bigint, ',' ORDER BY id)
                       FILTER (WHERE live AND in_slice)) AS stones,
                   max(deleted_at) FILTER (WHERE live AND in_slice) AS stones_newest,
                   min(deleted_at) FILTER (WHERE live AND in_slice) AS stones_oldest,
                   max(deleted_at) FILTER (WHERE NOT live AND in_slice) AS expired_in_slice,
                   max(deleted_at) FILTER (WHERE NOT live) AS expired,
                   max(deleted_at) AS deleted
              FROM t) AS ts";

impl Validators {
    /// The validators of the feed as the connection's snapshot has it.
    pub(super) async fn compute(
        conn: &mut AsyncPgConnection,
        campaign: &Campaign,
        filter: &FeedFilter,
        format: Format,
    ) -> AppResult<Self> {
        let a: Aggregate = diesel::sql_query(AGGREGATE)
            .bind::<SqlUuid, _>(campaign.id)
            .bind::<Nullable<Text>, _>(filter.kind.map(|k| k.as_str()))
            .bind::<Nullable<SqlUuid>, _>(filter.unit_id)
            .bind::<Nullable<Text>, _>(filter.area.as_deref())
            .bind::<Integer, _>(TOMBSTONE_DAYS)
            .get_result(conn)
            .await?;
        Self::from_aggregate(campaign, filter, format, &a)
    }

    fn from_aggregate(
        campaign: &Campaign,
        filter: &FeedFilter,
        format: Format,
        a: &Aggregate,
    ) -> AppResult<Self> {
        let atom = format == Format::Atom;
        let aged =
            |t: Option<DateTime<Utc>>| t.map(|t| t + chrono::Duration::days(TOMBSTONE_DAYS.into()));
        let latest = |base: DateTime<Utc>, times: &[Option<DateTime<Utc>>]| {
            times.iter().flatten().fold(base, |a, b| a.max(*b))
        };
        let mut updated = latest(campaign.updated_at, &[a.rows_updated]);
        let mut changed_at = latest(updated, &[a.public_updated, a.left_public, a.deleted]);
        if atom {
            updated = latest(updated, &[a.stones_newest, aged(a.expired_in_slice)]);
            changed_at = latest(changed_at, &[Some(updated), aged(a.expired)]);
        }
        let key = serde_json::json!([
            RENDERING,
            format.file(),
            campaign.id,
            campaign.slug,
            campaign.name,
            campaign.theme,
            campaign.timezone,
            filter.normalized(),
            a.rows,
            if atom { a.stones.as_deref() } else { None },
            updated,
        ]);
        Ok(Validators {
            etag: etag_of_bytes(&serde_json::to_vec(&key).map_err(AppError::internal)?),
            changed_at,
            updated,
            now: a.now,
            expires: if atom { aged(a.stones_oldest) } else { None },
        })
    }

    /// RFC 9110 13.2.2: `If-None-Match` (weak comparison) decides when present; otherwise
    /// `If-Modified-Since`, unless it is not a date or lies in the future (a client's clock).
    pub(super) fn not_modified(&self, req: &HttpRequest) -> bool {
        if req.headers().contains_key(header::IF_NONE_MATCH) {
            return none_match(req, &self.etag);
        }
        req.headers()
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<HttpDate>().ok())
            .is_some_and(|since| unmodified_since(self.changed_at, self.now, since.into()))
    }

    pub(super) fn headers(&self, res: &mut actix_web::HttpResponseBuilder) {
        let last_modified = HttpDate::from(last_modified(self.changed_at, self.now));
        res.insert_header((header::ETAG, self.etag.as_str()))
            .insert_header((header::LAST_MODIFIED, last_modified))
            .insert_header((header::CACHE_CONTROL, CACHE_CONTROL));
    }
}

/// The `Last-Modified` to send for a feed that changed at `changed_at`.
///
/// HTTP dates have one-second resolution, and `updated_at` is the writing transaction's start,
/// not its commit. Naming the second of a recent change would let a later change in the same
/// second (or one committing a moment after its time was taken) hide behind the date the
/// client holds, and its `If-Modified-Since` would get a 304 over new content. So until
/// `SETTLE_SECS` have passed the date is held back to `now - SETTLE_SECS`: a client polling
/// right after a change gets a few extra 200s, never a wrong 304 (as long as write
/// transactions take less than `SETTLE_SECS - 1` seconds; the `ETag` has no such limit).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::feeds::tests::campaign;

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

    fn aggregate() -> Aggregate {
        Aggregate {
            rows: Some("rows".into()),
            rows_updated: Some(at("2026-11-01T00:00:00Z")),
            public_updated: Some(at("2026-11-02T00:00:00Z")),
            left_public: None,
            stones: Some("stones".into()),
            stones_newest: Some(at("2026-11-20T00:00:00Z")),
            stones_oldest: Some(at("2026-11-10T00:00:00Z")),
            expired_in_slice: None,
            expired: None,
            deleted: Some(at("2026-11-20T00:00:00Z")),
            now: at("2026-11-25T00:00:00Z"),
        }
    }

    fn validators(format: Format, a: &Aggregate) -> Validators {
        let mut c = campaign("高州");
        c.updated_at = at("2026-10-01T00:00:00Z");
        Validators::from_aggregate(&c, &FeedFilter::default(), format, a).unwrap()
    }

    #[test]
    fn what_each_format_is_a_function_of() {
        let a = aggregate();
        let ics = validators(Format::Ics, &a);
        assert_eq!(ics.updated, at("2026-11-01T00:00:00Z"));
        // Another slice's event, or a deletion, moves Last-Modified only.
        assert_eq!(ics.changed_at, at("2026-11-20T00:00:00Z"));
        assert_eq!(ics.expires, None);
        let atom = validators(Format::Atom, &a);
        assert_eq!(atom.updated, at("2026-11-20T00:00:00Z"));
        assert_eq!(atom.expires, Some(at("2026-12-10T00:00:00Z")));

        let tombstones_changed = Aggregate {
            stones: Some("other".into()),
            ..aggregate()
        };
        assert_eq!(validators(Format::Ics, &tombstones_changed).etag, ics.etag);
        assert_ne!(
            validators(Format::Atom, &tombstones_changed).etag,
            atom.etag
        );
        let rows_changed = Aggregate {
            rows: Some("other".into()),
            ..aggregate()
        };
        assert_ne!(validators(Format::Ics, &rows_changed).etag, ics.etag);
        let left = Aggregate {
            left_public: Some(at("2026-11-24T00:00:00Z")),
            ..aggregate()
        };
        assert_eq!(
            validators(Format::Json, &left).changed_at,
            at("2026-11-24T00:00:00Z")
        );
    }

    #[test]
    fn a_feed_showing_a_tombstone_goes_stale_when_it_ages_out() {
        let v = validators(Format::Atom, &aggregate());
        let mut r = Rendered::new(v.clone(), None);
        assert!(r.fresh());
        r.validators.now = at("2026-12-10T00:00:00Z");
        assert!(!r.fresh());
        assert!(Rendered::new(validators(Format::Ics, &aggregate()), None).fresh());
    }

    #[test]
    fn held_bodies_are_counted_until_dropped() {
        let cache = FeedCache::new(8);
        let big = Bytes::from(vec![0u8; MAX_HELD_BYTES / 2 + 1]);
        let first = cache.hold(&big).unwrap();
        assert!(cache.hold(&big).is_none(), "over budget");
        drop(first);
        assert!(cache.hold(&big).is_some());
        assert_eq!(AtomicUsize::load(&cache.held, Ordering::Acquire), 0);
    }
}
