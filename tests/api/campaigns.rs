//! `/api/v1/campaigns`: the weeks themselves. Location, ETag, If-Match and 404s are checked for
//! every resource in `conventions`.

use serde_json::{Value, json};

use crate::common::{CampaignBuilder, Method, TestApp, pluck};

/// The Gaozhou 2014 week with every field filled in.
fn gaozhou() -> CampaignBuilder {
    CampaignBuilder::new("gaozhou-2014")
        .name("高州市2014年全民终身学习活动周")
        .theme("全民终身学习　创造出彩人生")
        .set("region", "广东省茂名市高州市")
        .set("notice_ref", "教职成厅函[2014]23号")
        .set("status", "active")
}

#[actix_web::test]
async fn create_round_trips_chinese_text_and_fills_defaults() {
    let app = TestApp::spawn().await;
    let c = gaozhou().insert(&app).await;
    assert_eq!(c["theme"], "全民终身学习　创造出彩人生");
    assert_eq!(c["notice_ref"], "教职成厅函[2014]23号");
    assert_eq!(c["year"], 2014, "year defaults to that of starts_on");
    assert_eq!(c["timezone"], "Asia/Shanghai");
    assert_eq!(c["areas"], json!(["潘州街道", "石仔岭街道", "长坡镇"]));

    let fetched = app.get(&format!("/api/v1/campaigns/{}", c["id"].as_str().unwrap()));
    let fetched = fetched.send().await;
    assert_eq!(fetched.json(), c);
    // The raw bytes carry the Chinese text as sent (no escaping).
    assert!(fetched.text().contains("全民终身学习　创造出彩人生"));
    // By slug too.
    assert_eq!(app.read("/api/v1/campaigns/gaozhou-2014", None).await, c);
}

#[actix_web::test]
async fn validation_reports_every_bad_field() {
    let app = TestApp::spawn().await;
    let bad = CampaignBuilder::new("Gaozhou 2014")
        .name(" ")
        .set("year", 14)
        .starts_on("2014-10-25")
        .ends_on("2014-10-19")
        .set("timezone", "China/Gaozhou")
        .areas(["潘州街道", "潘州街道", ""]);
    let x = || {
        CampaignBuilder::new("x-2014")
            .name("x")
            .ends_on("2014-10-19")
    };
    let cases = vec![
        (
            bad.json(),
            "areas[1] areas[2] ends_on name slug timezone year",
        ),
        (x().starts_on("2014-13-01").json(), "starts_on"),
        (
            x().starts_on("2014-10-01").set("status", "finished").json(),
            "status",
        ),
    ];
    app.expect_invalid(Method::POST, "/api/v1/campaigns", &app.admin, cases)
        .await;
    let list = app.read("/api/v1/campaigns", None).await;
    assert_eq!(list["items"], json!([]), "nothing was stored");
}

#[actix_web::test]
async fn filters_by_status_year_search_and_updated_since() {
    let app = TestApp::spawn().await;
    gaozhou().insert(&app).await;
    let before_second = chrono::Utc::now();
    CampaignBuilder::new("maoming-2015")
        .name("茂名市2015年全民终身学习活动周")
        .starts_on("2015-10-18")
        .ends_on("2015-10-24")
        .without("areas")
        .insert(&app)
        .await;

    let since = before_second.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    for (query, expected) in [
        ("status=active".to_string(), vec!["gaozhou-2014"]),
        ("status=planning".into(), vec!["maoming-2015"]),
        ("year=2015".into(), vec!["maoming-2015"]),
        ("q=%E9%AB%98%E5%B7%9E".into(), vec!["gaozhou-2014"]), // 高州
        ("q=%25".into(), vec![]),                              // % is literal
        (format!("updated_since={since}"), vec!["maoming-2015"]),
    ] {
        let page = app.read(&format!("/api/v1/campaigns?{query}"), None).await;
        assert_eq!(pluck(&page, "slug"), expected, "{query}");
    }
    app.get_problem("/api/v1/campaigns?status=finished", 400)
        .await;
}

#[actix_web::test]
async fn patch_validates_the_merged_result_and_delete_removes() {
    let app = TestApp::spawn().await;
    let c = gaozhou().insert(&app).await;
    let path = format!("/api/v1/campaigns/{}", c["id"].as_str().unwrap());
    let too_early = vec![(json!({"ends_on": "2014-10-01"}), "ends_on")];
    app.expect_invalid(Method::PATCH, &path, &app.admin, too_early)
        .await;
    let closed = json!({"status": "closed", "theme": null});
    let updated = app
        .call(Method::PATCH, &path, &app.admin, closed)
        .await
        .ok(200);
    assert_eq!(updated["status"], "closed");
    assert_eq!(updated["theme"], Value::Null);
    assert_eq!(updated["name"], c["name"]);
    assert_ne!(updated["updated_at"], c["updated_at"]);

    // By slug.
    let by_slug = (
        Method::DELETE,
        "/api/v1/campaigns/gaozhou-2014",
        Value::Null,
    );
    app.expect(204, &app.admin, vec![by_slug]).await;
    app.get_problem(&path, 404).await;
}

/// One-line fields end up as one line elsewhere (the name is the calendar feed's NAME): a line
/// break or other control character is refused, on create and on change.
#[actix_web::test]
async fn one_line_fields_refuse_line_breaks() {
    let app = TestApp::spawn().await;
    let mut cases = Vec::new();
    for field in ["name", "theme", "region", "notice_ref"] {
        for bad in ["高州\nBEGIN:VEVENT", "高州\r\n", "高州\t活动周"] {
            cases.push((gaozhou().set(field, bad).json(), field));
        }
    }
    app.expect_invalid(Method::POST, "/api/v1/campaigns", &app.admin, cases)
        .await;
    gaozhou().insert(&app).await;
    let forged = json!({"name": "x\r\nBEGIN:VEVENT\r\nSUMMARY:forged\r\nEND:VEVENT"});
    let path = "/api/v1/campaigns/gaozhou-2014";
    app.expect_invalid(Method::PATCH, path, &app.admin, vec![(forged, "name")])
        .await;
}
