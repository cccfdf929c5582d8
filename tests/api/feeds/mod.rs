//! `/api/v1/feeds/{slug}/events.{ics,atom,json}`: which events ([`selection`]), the iCalendar
//! wire format ([`ical`]), tombstones in Atom ([`atom`]), conditional GET and the cache
//! ([`validators`]), big feeds ([`streaming`]) and snapshots of a small campaign's three feeds
//! ([`snapshots`]). Every feed is read with a real parser.

mod atom;
mod ical;
mod selection;
mod snapshots;
mod streaming;
mod validators;

use std::collections::BTreeSet;

use actix_web::http::Method;
use diesel_async::RunQueryDsl;
use icalendar::Component;
use serde_json::Value;
use uuid::Uuid;

use crate::common::{EventBuilder, Resp, TestApp, pluck, uuid};

const SLUG: &str = "gaozhou-2014";
const FILES: [&str; 3] = ["events.ics", "events.atom", "events.json"];

/// A published public lecture of `campaign` hosted by `host`, on 19 October 2014.
fn event(campaign: &str, host: Uuid, title: &str) -> EventBuilder {
    EventBuilder::new(campaign, host).title(title)
}

/// Creates an event as admin; returns its id.
async fn create(app: &TestApp, event: EventBuilder) -> Uuid {
    uuid(&event.insert(app).await)
}

async fn patch(app: &TestApp, id: Uuid, body: Value) {
    let path = format!("/api/v1/events/{id}");
    app.expect(200, &app.admin, vec![(Method::PATCH, &path, body)])
        .await;
}

async fn delete(app: &TestApp, id: Uuid) {
    let path = format!("/api/v1/events/{id}");
    app.expect(204, &app.admin, vec![(Method::DELETE, &path, Value::Null)])
        .await;
}

/// A campaign with one host unit: (campaign id, unit id).
async fn setup(app: &TestApp) -> (String, Uuid) {
    let campaign = app.campaign(SLUG).await;
    let host = app.unit("高州市妇女联合会").await;
    (campaign["id"].as_str().unwrap().to_string(), host)
}

async fn fetch(app: &TestApp, file: &str, query: &str) -> Resp {
    let res = app
        .get(&format!("/api/v1/feeds/{SLUG}/{file}{query}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res
}

async fn ics(app: &TestApp, query: &str) -> (Resp, icalendar::Calendar) {
    let res = fetch(app, "events.ics", query).await;
    let content_type = res.header("content-type");
    assert_eq!(
        content_type.as_deref(),
        Some("text/calendar; charset=utf-8")
    );
    let calendar: icalendar::Calendar = res.text().parse().expect("parse the iCalendar feed");
    (res, calendar)
}

fn content_type_is(res: &Resp, prefix: &str) {
    assert!(res.header("content-type").unwrap().starts_with(prefix));
}

async fn atom(app: &TestApp, query: &str) -> atom_syndication::Feed {
    let res = fetch(app, "events.atom", query).await;
    content_type_is(&res, "application/atom+xml");
    atom_syndication::Feed::read_from(&res.body[..]).expect("parse the Atom feed")
}

async fn json_feed(app: &TestApp, query: &str) -> Value {
    let res = fetch(app, "events.json", query).await;
    content_type_is(&res, "application/feed+json");
    let feed = res.json();
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    feed
}

fn vevents(calendar: &icalendar::Calendar) -> Vec<&icalendar::Event> {
    calendar.events().collect()
}

fn uid(id: Uuid) -> String {
    format!("{id}@learnweek")
}

fn ics_ids(calendar: &icalendar::Calendar) -> BTreeSet<String> {
    vevents(calendar)
        .iter()
        .map(|e| e.get_uid().unwrap().to_string())
        .collect()
}

fn vevent(calendar: &icalendar::Calendar, id: Uuid) -> &icalendar::Event {
    calendar
        .events()
        .find(|e| e.get_uid() == Some(uid(id).as_str()))
        .unwrap_or_else(|| panic!("no VEVENT {id}"))
}

fn atom_ids(feed: &atom_syndication::Feed) -> BTreeSet<String> {
    feed.entries().iter().map(|e| e.id().to_string()).collect()
}

fn json_ids(feed: &Value) -> Vec<String> {
    pluck(feed, "id")
}

/// The same ids as each format spells them: iCalendar UIDs, Atom URNs, JSON Feed ids (sorted).
fn spelled(ids: &[Uuid]) -> (BTreeSet<String>, BTreeSet<String>, Vec<String>) {
    let mut json: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    json.sort();
    (
        ids.iter().map(|id| uid(*id)).collect(),
        ids.iter().map(|id| format!("urn:uuid:{id}")).collect(),
        json,
    )
}

/// The ids each format shows for `query`, spelled as [`spelled`] does.
async fn ids_in_every_format(
    app: &TestApp,
    query: &str,
) -> (BTreeSet<String>, BTreeSet<String>, Vec<String>) {
    let (_, calendar) = ics(app, query).await;
    let mut json = json_ids(&json_feed(app, query).await);
    json.sort();
    (ics_ids(&calendar), atom_ids(&atom(app, query).await), json)
}

/// (ref, when) of each `at:deleted-entry`.
fn tombstones(feed: &atom_syndication::Feed) -> Vec<(String, String)> {
    feed.extensions()
        .get("at")
        .and_then(|m| m.get("deleted-entry"))
        .map(|entries| {
            entries
                .iter()
                .map(|e| (e.attrs()["ref"].clone(), e.attrs()["when"].clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Moves every time the feeds' validators come from (and the change log) an hour into the
/// past, as if the last write were long settled.
async fn age_the_change_log(app: &TestApp) {
    let mut conn = app.conn().await;
    for sql in [
        "UPDATE changes SET at = at - interval '1 hour'",
        "UPDATE campaigns SET updated_at = updated_at - interval '1 hour'",
        "UPDATE events SET updated_at = updated_at - interval '1 hour', \
                           left_public_at = left_public_at - interval '1 hour'",
        "UPDATE event_tombstones SET deleted_at = deleted_at - interval '1 hour'",
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
}

/// Runs SQL against the app's database, behind the API's back.
async fn sql(app: &TestApp, sql: &str) {
    let mut conn = app.conn().await;
    diesel::sql_query(sql).execute(&mut conn).await.unwrap();
}

async fn conditional(app: &TestApp, file: &str, name: &str, value: &str) -> Resp {
    app.get(&format!("/api/v1/feeds/{SLUG}/{file}"))
        .header(name, value)
        .send()
        .await
}

/// (ETag, Last-Modified) of each format.
async fn validators(app: &TestApp) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for file in FILES {
        let res = fetch(app, file, "").await;
        all.push((
            res.header("etag").unwrap(),
            res.header("last-modified").unwrap(),
        ));
    }
    all
}
