//! `/api/v1/events`: create, read and merge-patch ([`writes`]), list filters, pages and what
//! anonymous callers see ([`lists`]), and who may change or delete what, with the rows that
//! depend on an event ([`ownership`]). Location, ETag, If-Match and 404s are checked for
//! every resource in `conventions`.

mod lists;
mod ownership;
mod writes;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{EventBuilder, TestApp};

async fn list(app: &TestApp, token: Option<&str>, pairs: &[(&str, &str)]) -> Vec<String> {
    app.list_titles("/api/v1/events", token, pairs).await
}

/// A published lecture of `campaign` hosted by `host`, from `starts_at` to `ends_at`.
fn event(campaign: &str, host: Uuid, title: &str, starts_at: &str, ends_at: &str) -> EventBuilder {
    EventBuilder::new(campaign, host)
        .title(title)
        .at(starts_at, ends_at)
}

/// Puts a tally of `count` people at the event `event` reported by `unit`, as admin.
async fn tally(app: &TestApp, event: &str, unit: Uuid, count: i64) -> Value {
    let body = json!({
        "event_id": event,
        "category": "general",
        "measure": "headcount",
        "count": count,
        "tally_date": "2014-10-19",
        "reporting_unit_id": unit
    });
    app.put("/api/v1/tallies")
        .admin()
        .json(body)
        .send()
        .await
        .ok(201)
}
