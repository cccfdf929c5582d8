//! `/api/v1/media-reports`: coverage of the week by the TV station, radio, papers and sites.
//! Create, validate, merge-patch and who may ([`writes`]); list filters and pages ([`lists`]).
//! Location, ETag, If-Match and 404s are checked for every resource in `conventions`.

mod lists;
mod writes;

use uuid::Uuid;

use crate::common::{EventBuilder, MediaReportBuilder, TestApp, id_of};

/// The TV station's report on the opening ceremony.
fn opening_report(campaign: &str, tv: Uuid) -> MediaReportBuilder {
    MediaReportBuilder::tv(campaign, tv)
}

/// A report by an outlet that is not a unit (茂名日报).
fn paper_report(campaign: &str, title: &str, published_at: &str) -> MediaReportBuilder {
    MediaReportBuilder::new(campaign)
        .title(title)
        .published_at(published_at)
}

async fn list(app: &TestApp, pairs: &[(&str, &str)]) -> Vec<String> {
    app.list_titles("/api/v1/media-reports", Some(&app.admin), pairs)
        .await
}

/// The published opening ceremony `title` of `campaign`, hosted by `host`; returns its id.
async fn event(app: &TestApp, campaign: &str, host: Uuid, title: &str) -> String {
    let opening = EventBuilder::new(campaign, host).kind("opening_ceremony");
    let opening = opening.at("2014-10-19T08:30:00+08:00", "2014-10-19T11:00:00+08:00");
    opening.title(title).insert_id(app).await
}
