//! Tallies: upserts on the natural key with history, validation and list filters
//! ([`upserts`]); batches, all or nothing ([`batches`]); CSV import in UTF-8, with a BOM and in
//! GBK ([`csv`]).

mod batches;
mod csv;
mod upserts;

use serde_json::Value;
use uuid::Uuid;

use crate::common::{EventBuilder, Role, TallyBuilder, TestApp, items, uuid};

/// The week of one event: 市妇联's low-carbon day, with a reporter of 市妇联.
struct Week {
    app: TestApp,
    campaign: Uuid,
    unit: Uuid,
    other_unit: Uuid,
    event: Uuid,
    reporter: String,
}

async fn week() -> Week {
    let app = TestApp::spawn().await;
    let campaign = uuid(&app.campaign("gaozhou-2014").await);
    let unit = app.unit("高州市妇女联合会").await;
    let other_unit = app.unit("高州市文化局").await;
    let event = EventBuilder::new(campaign, unit)
        .title("低碳生活进家庭")
        .kind("community_activity")
        .area("潘州街道")
        .at("2014-10-20T01:00:00Z", "2014-10-20T04:00:00Z");
    let event = uuid(&event.insert(&app).await);
    let reporter = app.token(Role::Reporter, Some(unit)).await;
    Week {
        app,
        campaign,
        unit,
        other_unit,
        event,
        reporter,
    }
}

/// `count` people of `category` at `event` on `date`, reported by the caller's unit.
fn tally(event: Uuid, category: &str, count: i32, date: &str) -> Value {
    TallyBuilder::unreported(event)
        .category(category)
        .count(count)
        .date(date)
        .json()
}

async fn count_tallies(app: &TestApp) -> usize {
    items(&app.admin_read("/api/v1/tallies?limit=200").await).len()
}

async fn history(app: &TestApp, id: &str) -> Vec<i64> {
    let path = format!("/api/v1/tallies/{id}/history?limit=200");
    items(&app.admin_read(&path).await)
        .iter()
        .map(|h| h["count"].as_i64().unwrap())
        .collect()
}
