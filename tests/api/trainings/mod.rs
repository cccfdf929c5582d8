//! `/api/v1/trainings`: create, validate, merge-patch and delete, and who may ([`writes`]);
//! list filters, pages and what anonymous callers see ([`lists`]); outcome counts and the
//! reporters who may fill them in ([`outcomes`]). Location, ETag, If-Match and 404s are checked
//! for every resource in `conventions`.

mod lists;
mod outcomes;
mod writes;

use serde_json::Value;
use uuid::Uuid;

use crate::common::{EventBuilder, TestApp, TrainingBuilder, id_of};

/// The free computer course of 市人社局 (电脑培训), with its outcome counts.
fn computer_course(campaign: &str, provider: Uuid) -> TrainingBuilder {
    TrainingBuilder::computer_course(campaign, provider)
}

/// A minimal published training.
fn training(
    campaign: &str,
    provider: Uuid,
    title: &str,
    subject: &str,
    starts_at: &str,
) -> TrainingBuilder {
    TrainingBuilder::new(campaign, provider)
        .title(title)
        .subject(subject)
        .starts_at(starts_at)
}

async fn list(app: &TestApp, token: Option<&str>, pairs: &[(&str, &str)]) -> Vec<String> {
    app.list_titles("/api/v1/trainings", token, pairs).await
}

/// A published training event of `campaign` hosted by `host`; returns its id.
async fn event(app: &TestApp, campaign: &str, host: Uuid, title: &str) -> String {
    let e = EventBuilder::new(campaign, host)
        .title(title)
        .kind("training")
        .at("2014-10-20T08:00:00+08:00", "2014-10-24T18:00:00+08:00");
    id_of(&e.insert(app).await).to_string()
}

/// `(enrolled, completed, employed_after)` of a training.
fn outcomes(t: &Value) -> (Value, Value, Value) {
    (
        t["enrolled"].clone(),
        t["completed"].clone(),
        t["employed_after"].clone(),
    )
}
