//! `GET /campaigns/{id}/report.{docx,xlsx,html,md}`: the year's 工作总结, written from the
//! data in the seed's structure. The figures are the `/summary` and `/trends` values
//! themselves; the names behind them come from one snapshot ([`model::gather`]).
//!
//! A rendered report is kept per (campaign, format, audience) while neither the campaign nor
//! any of the earlier editions it compares itself with changed, so a popular download costs
//! one rendering per change, and its `ETag` answers `If-None-Match` with 304.

mod block;
mod charts;
mod comparison;
mod document;
mod docx;
mod html;
mod md;
mod model;
mod xlsx;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::campaigns::Campaign;
use crate::api::summary::{CampaignRead, summary_for, trends};
use crate::error::{AppError, AppResult};
use crate::http::conditional::tagged_response;
use crate::read_cache::ReadCache;
use model::{Audience, Report};

/// Rendered reports kept at once: 4 formats x 2 editions per campaign, tens of kilobytes each.
const CACHED_REPORTS: usize = 512;

/// Rendered reports, while their campaign and its earlier editions are unchanged.
pub struct ReportCache(ReadCache<Vec<u8>>);

impl Default for ReportCache {
    fn default() -> Self {
        ReportCache(ReadCache::new(CACHED_REPORTS))
    }
}

/// The page may use its own inline `<style>`; everything else stays forbidden (the charts are
/// inline SVG markup, not loaded resources).
const HTML_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(report_docx)
        .service(report_xlsx)
        .service(report_html)
        .service(report_markdown);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Docx,
    Xlsx,
    Html,
    Markdown,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Html => "html",
            Format::Markdown => "md",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Html => "text/html; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
        }
    }

    /// Office files are saved; a page and a text are shown where they are opened.
    fn disposition(self) -> &'static str {
        match self {
            Format::Docx | Format::Xlsx => "attachment",
            Format::Html | Format::Markdown => "inline",
        }
    }
}

/// One handler per format: the same steps, its own operation in the spec (each format has its
/// own media type and headers to document). `download` adds the `Content-Disposition` header
/// of the formats saved as files.
macro_rules! report_handler {
    ($(#[$doc:meta])* $name:ident, $path:tt, $operation_id:tt, $format:expr,
        $description:tt, $content_type:tt, download) => {
        report_handler!($(#[$doc])* $name, $path, $operation_id, $format, $description,
            $content_type, ("Content-Disposition" = String,
                description = "`attachment` with the title as `filename*`"));
    };
    ($(#[$doc:meta])* $name:ident, $path:tt, $operation_id:tt, $format:expr,
        $description:tt, $content_type:tt $(, $header:tt)?) => {
        $(#[$doc])*
        #[utoipa::path(
            tag = "campaigns",
            operation_id = $operation_id,
            params(("id" = String, Path, description = "Campaign id or slug")),
            security((), ("bearer" = [])),
            responses(
                (status = 200, description = $description, content_type = $content_type,
                    body = String, headers(
                        ("ETag" = String, description = "Changes whenever the report's content does")
                        $(, $header)?)),
                (status = 304, description = "Not modified: `If-None-Match` matches the `ETag`")
            )
        )]
        #[get($path)]
        pub async fn $name(
            req: HttpRequest,
            read: CampaignRead,
            reports: web::Data<ReportCache>,
        ) -> AppResult<HttpResponse> {
            respond(&req, &read, &reports, $format).await
        }
    };
}

report_handler! {
    /// The report as a Word document (docx): headings, paragraphs and tables, with Chinese fonts
    /// named for Word and WPS (宋体 for the text, 黑体 for headings).
    ///
    /// Anonymous callers get the public edition: only public items are named, and no one on the
    /// committee by name; any valid token gets every item that is not a draft, and the committee's
    /// members (never their phone or email). The figures are the same in both: those of
    /// `/summary` and `/trends` at the same moment.
    ///
    /// Roles: anyone, including anonymous callers (who get the public edition).
    report_docx, "/campaigns/{id}/report.docx", "getCampaignReportDocx", Format::Docx,
    "The report, as a download named after its title",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", download
}

report_handler! {
    /// The report as an Excel workbook (xlsx): one sheet per section, figures as numbers, and
    /// native charts (events by kind and by day, participants by category, the training funnel,
    /// media by medium, the editions year by year).
    ///
    /// Anonymous callers get the public edition (public items only; see the docx report).
    ///
    /// Roles: anyone, including anonymous callers (who get the public edition).
    report_xlsx, "/campaigns/{id}/report.xlsx", "getCampaignReportXlsx", Format::Xlsx,
    "The figures and lists, as a download named after the title",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", download
}

report_handler! {
    /// The report as one self-contained, print-ready (A4) page: charts as inline SVG, no external
    /// resources of any kind, so it renders offline and prints as it shows.
    ///
    /// Anonymous callers get the public edition (public items only; see the docx report).
    ///
    /// Roles: anyone, including anonymous callers (who get the public edition).
    report_html, "/campaigns/{id}/report.html", "getCampaignReportHtml", Format::Html,
    "The report as an HTML page", "text/html",
    ("Content-Security-Policy" = String, description = "Allows the page's inline style, nothing else")
}

report_handler! {
    /// The report as Markdown (tables as GitHub-flavoured tables), for wikis and messaging.
    ///
    /// Anonymous callers get the public edition (public items only; see the docx report).
    ///
    /// Roles: anyone, including anonymous callers (who get the public edition).
    report_markdown, "/campaigns/{id}/report.md", "getCampaignReportMarkdown", Format::Markdown,
    "The report as Markdown", "text/markdown"
}

async fn respond(
    req: &HttpRequest,
    read: &CampaignRead,
    reports: &ReportCache,
    format: Format,
) -> AppResult<HttpResponse> {
    let (state, campaign) = (&read.state, &read.campaign);
    let audience = if read.caller.sees_everything() {
        Audience::Full
    } else {
        Audience::Public
    };
    // The report shows its earlier editions too (section 五), so it is valid while none of
    // them changed either: the stamp covers every campaign shown, and the list itself (a new
    // edition in the same place changes the list, and so the stamp). A token holder's full
    // edition is kept the same way: their own write shows once its notification arrives, which
    // is as it commits in practice (`/summary` they read fresh).
    let earlier = trends::earlier_editions(state, campaign).await?;
    let mut shown: Vec<Uuid> = earlier.iter().map(|c| c.id).collect();
    shown.push(campaign.id);
    let stamp = state.change_signal.campaigns_stamp(&shown);
    let key = format!("report.{}.{}", format.extension(), audience.key());
    let rendered = reports
        .0
        .get_or_compute_at(stamp, campaign.id, &key, async {
            let report = build(read, &earlier, audience).await?;
            web::block(move || render(&report, format))
                .await
                .map_err(AppError::internal)?
        })
        .await?;
    let content_type = HeaderValue::from_static(format.content_type());
    let mut res = tagged_response(req, StatusCode::OK, content_type, rendered.to_vec());
    let headers = res.headers_mut();
    // Token holders get another edition than the public: caches must keep them apart, and
    // revalidate (the ETag makes that cheap) so a download never lags the summary.
    headers.insert(header::VARY, HeaderValue::from_static("Authorization"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(match audience {
            Audience::Public => "no-cache",
            Audience::Full => "private, no-cache",
        }),
    );
    if format == Format::Html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(HTML_CSP),
        );
    }
    if res.status() == StatusCode::OK {
        let disposition = content_disposition(campaign, format);
        let value = HeaderValue::try_from(disposition).map_err(AppError::internal)?;
        res.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(res)
}

/// The report's figures and names: the summary once, the trends built on that same summary,
/// and the names in their own snapshot.
async fn build(read: &CampaignRead, earlier: &[Campaign], audience: Audience) -> AppResult<Report> {
    let (state, summaries, caller, campaign) =
        (&read.state, &read.summaries, &read.caller, &read.campaign);
    let summary = summary_for(state, summaries, caller, campaign).await?;
    let trends = trends::of_editions(state, summaries, caller, campaign, earlier, &summary).await?;
    let names = model::gather(state, campaign, audience).await?;
    Ok(Report {
        audience,
        campaign: campaign.clone(),
        summary,
        trends,
        names,
    })
}

fn render(report: &Report, format: Format) -> AppResult<Vec<u8>> {
    match format {
        Format::Docx => docx::render(report),
        Format::Xlsx => xlsx::render(report),
        Format::Html => Ok(html::render(report).into_bytes()),
        Format::Markdown => Ok(md::render(report).into_bytes()),
    }
}

/// RFC 6266: an ASCII `filename` for old clients, and the Chinese title as `filename*`
/// (RFC 8187 / 5987 encoding) for the rest.
fn content_disposition(campaign: &Campaign, format: Format) -> String {
    let ext = format.extension();
    let ascii: String = campaign
        .slug
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let title = format!(
        "{}年{}全民终身学习活动周工作总结.{ext}",
        campaign.year,
        campaign.region.as_deref().unwrap_or_default()
    );
    format!(
        "{}; filename=\"{ascii}-report.{ext}\"; filename*=UTF-8''{}",
        format.disposition(),
        rfc5987(&title)
    )
}

/// Percent-encodes everything but RFC 5987's `attr-char`.
fn rfc5987(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_encoded_as_rfc_5987_says() {
        assert_eq!(rfc5987("2014年.docx"), "2014%E5%B9%B4.docx");
        assert_eq!(rfc5987("a b\"c'd%"), "a%20b%22c%27d%25");
    }
}
