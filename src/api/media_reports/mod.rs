//! `/media-reports`: press, TV and online coverage of the week. Owned by the outlet unit when
//! the outlet is a unit (the TV station), else by the unit that logged it.

pub mod model;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::crud::prelude::*;
use crate::api::crud::{ListRequest, Listed};
use crate::http::Cursor;
use crate::schema::media_reports;
use crate::validate::search_term;

pub use model::*;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MediaReportFilter {
    pub campaign_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub medium: Option<Medium>,
    /// The outlet or reporting unit.
    pub unit_id: Option<Uuid>,
    /// Published at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Published before this time.
    pub to: Option<DateTime<Utc>>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Substring of the title (Chinese included).
    pub q: Option<String>,
}

impl Listed for MediaReport {
    type Filter = MediaReportFilter;

    fn cursor(&self) -> Cursor {
        Cursor::by_time(self.published_at, self.id)
    }

    async fn page(request: ListRequest<'_>, filter: &MediaReportFilter) -> AppResult<Vec<Self>> {
        let q = search_term(filter.q.as_deref())?;
        let mut query = crate::keyset_page!(
            media_reports::table.select(MediaReport::as_select()),
            request.page,
            media_reports::published_at,
            media_reports::id
        );
        crate::filter_by!(query,
            filter.campaign_id => media_reports::campaign_id,
            filter.event_id => media_reports::event_id,
            filter.medium => media_reports::medium,
            filter.from => media_reports::published_at: ge,
            filter.to => media_reports::published_at: lt,
            filter.updated_since => media_reports::updated_at: ge,
            q => media_reports::title: ilike,
        );
        if let Some(v) = filter.unit_id {
            query = query.filter(
                media_reports::outlet_unit_id
                    .eq(v)
                    .or(media_reports::reporting_unit_id.eq(v)),
            );
        }
        Ok(query.load(&mut request.state.conn().await?).await?)
    }
}

crate::resource_handlers! {
    #[resource(MediaReport, tag = "media-reports", key id: Uuid = (("id" = Uuid, Path)))]

    #[list("listMediaReports", "/media-reports", token, MediaReportFilter,
        "A page of media reports")]
    /// List media reports, in order of publication.
    ///
    /// Roles: any valid token.
    fn list;

    #[create("createMediaReport", "/media-reports", MediaReportInput,
        "Created: the new media report")]
    /// Log a media report.
    ///
    /// Roles: admin; editor or reporter of the owning unit (the outlet unit, or the reporting unit
    /// for outlets that are not units).
    fn create;

    #[show("getMediaReport", "/media-reports/{id}", token, "The media report")]
    /// Get a media report.
    ///
    /// Roles: any valid token.
    fn show;

    #[update("updateMediaReport", "/media-reports/{id}",
        MediaReportInput, "RFC 7396 merge patch of a MediaReportInput",
        json!({"url": "https://example.org/news/1"}), "The changed media report")]
    /// Change a media report (JSON merge patch). `campaign_id` cannot change.
    ///
    /// Roles: admin; editor or reporter of the owning unit (which it cannot change).
    fn update;

    #[delete("deleteMediaReport", "/media-reports/{id}", "Deleted")]
    /// Delete a media report.
    ///
    /// Roles: admin; editor or reporter of the owning unit.
    fn remove;
}
