//! Snapshots of the demo's public report as Markdown and HTML: the whole text a committee
//! office reads, so any change to wording, order, figures or the page's markup shows in review.

use crate::common::{TestApp, assert_redacted_snapshot};

async fn public_report(format: &str) -> String {
    let app = TestApp::spawn().await;
    learnweek::seed::gaozhou::load(&app.state).await.unwrap();
    let res = app
        .get(&format!("/api/v1/campaigns/gaozhou-2014/report.{format}"))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.text()
}

#[actix_web::test]
async fn the_markdown_report_is_stable() {
    assert_redacted_snapshot("report_md", &public_report("md").await);
}

#[actix_web::test]
async fn the_html_report_is_stable() {
    assert_redacted_snapshot("report_html", &public_report("html").await);
}
