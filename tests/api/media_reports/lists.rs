//! Lists of media reports: filters and pages, in order of publication.

use serde_json::json;

use super::*;
use crate::common::{ListCase, gaozhou_week};

#[actix_web::test]
async fn list_filters_by_campaign_event_medium_unit_time_window_and_title() {
    let units = ["高州市电视台", "高州市教育局", "高州市妇女联合会"];
    let (app, cid, [tv, jiaoyu, fulian]) = gaozhou_week(units).await;
    let cid = cid.as_str();
    let oid = id_of(&app.campaign("gaozhou-2015").await).to_string();
    let eid = event(&app, cid, jiaoyu, "开幕式").await;

    opening_report(cid, tv).event(&eid).insert(&app).await;
    let low_carbon = paper_report(cid, "市妇联低碳生活进家庭", "2014-10-20T07:00:00+08:00");
    low_carbon.reporting_unit(fulian).insert(&app).await;
    paper_report(cid, "开幕式侧记", "2014-10-19T22:00:00+08:00")
        .reporting_unit(jiaoyu)
        .event(&eid)
        .medium("online")
        .insert(&app)
        .await;
    opening_report(cid, tv)
        .title("消防安全、牢记心间讲座")
        .medium("radio")
        .published_at("2014-10-22T12:00:00+08:00")
        .insert(&app)
        .await;
    opening_report(&oid, tv)
        .title("2015年活动周开幕")
        .published_at("2015-10-18T20:00:00+08:00")
        .insert(&app)
        .await;

    let opening = "我市全民终身学习活动周隆重开幕";
    // In order of publication.
    let all = [
        opening,
        "开幕式侧记",
        "市妇联低碳生活进家庭",
        "消防安全、牢记心间讲座",
        "2015年活动周开幕",
    ];
    assert_eq!(list(&app, &[]).await, all);
    let (fulian, tv) = (fulian.to_string(), tv.to_string());
    let cases: Vec<ListCase> = vec![
        (vec![("campaign_id", &oid)], vec!["2015年活动周开幕"]),
        (vec![("event_id", &eid)], vec![opening, "开幕式侧记"]),
        (vec![("medium", "radio")], vec!["消防安全、牢记心间讲座"]),
        (vec![("medium", "newspaper")], vec!["市妇联低碳生活进家庭"]),
        // unit_id: the outlet unit or the reporting unit.
        (vec![("unit_id", &fulian)], vec!["市妇联低碳生活进家庭"]),
        (
            vec![("unit_id", &tv), ("campaign_id", cid)],
            vec![opening, "消防安全、牢记心间讲座"],
        ),
        // from: published at or after; to: published before.
        (
            vec![
                ("from", "2014-10-19T22:00:00+08:00"),
                ("to", "2014-10-22T12:00:00+08:00"),
            ],
            vec!["开幕式侧记", "市妇联低碳生活进家庭"],
        ),
        (vec![("to", "2014-10-19T22:00:00+08:00")], vec![opening]),
        (
            vec![("q", "开幕")],
            vec![opening, "开幕式侧记", "2015年活动周开幕"],
        ),
        (vec![("q", "低碳生活")], vec!["市妇联低碳生活进家庭"]),
    ];
    app.assert_lists("/api/v1/media-reports", cases).await;
    assert_eq!(list(&app, &[("campaign_id", cid)]).await.len(), 4);
    let url = json!({"url": "https://www.gdmm.gov.cn/news/2014/1019"});
    app.assert_updated_since("/api/v1/media-reports", "侧记", url)
        .await;

    // Pages follow the same order.
    let (seen, _) = app
        .all_pages("/api/v1/media-reports?limit=2", Some(&app.admin))
        .await;
    assert_eq!(seen, list(&app, &[]).await);

    let bad = app.get("/api/v1/media-reports?medium=telegraph").admin();
    bad.send().await.problem(400);
}
