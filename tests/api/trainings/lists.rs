//! Lists of trainings: filters, pages, and what anonymous callers see.

use std::collections::HashMap;

use serde_json::json;

use super::*;
use crate::common::{ListCase, Role, gaozhou_week};

#[actix_web::test]
async fn list_filters_by_campaign_event_subject_status_unit_time_window_and_title() {
    let units = ["高州市人力资源和社会保障局", "高州市妇女联合会"];
    let (app, cid, [renshe, fulian]) = gaozhou_week(units).await;
    let cid = cid.as_str();
    let oid = id_of(&app.campaign("gaozhou-2015").await).to_string();
    let eid = event(&app, cid, renshe, "免费教育培训活动").await;

    computer_course(cid, renshe).event(&eid).insert(&app).await;
    let english = training(
        cid,
        renshe,
        "英语口语培训班",
        "english",
        "2014-10-21T19:00:00+08:00",
    );
    english.insert(&app).await;
    let housekeeping = (
        "家政服务技能培训",
        "housekeeping",
        "2014-10-19T14:00:00+08:00",
    );
    training(cid, fulian, housekeeping.0, housekeeping.1, housekeeping.2)
        .ends_at("2014-10-19T17:00:00+08:00")
        .status("completed")
        .insert(&app)
        .await;
    let etiquette = training(
        cid,
        fulian,
        "商务礼仪培训",
        "etiquette",
        "2014-10-22T09:00:00+08:00",
    );
    etiquette.status("draft").insert(&app).await;
    let migrants = (
        "进城务工人员就业培训",
        "employment",
        "2015-10-19T09:00:00+08:00",
    );
    training(&oid, renshe, migrants.0, migrants.1, migrants.2)
        .ends_at("2015-10-19T17:00:00+08:00")
        .insert(&app)
        .await;

    let (fulian, renshe) = (fulian.to_string(), renshe.to_string());
    let computer = "免费电脑操作与办公应用培训班";
    let cases: Vec<ListCase> = vec![
        (
            vec![],
            vec![
                "家政服务技能培训",
                computer,
                "英语口语培训班",
                "商务礼仪培训",
                "进城务工人员就业培训",
            ],
        ),
        (vec![("campaign_id", &oid)], vec!["进城务工人员就业培训"]),
        (vec![("event_id", &eid)], vec![computer]),
        (vec![("subject", "english")], vec!["英语口语培训班"]),
        (vec![("status", "completed")], vec!["家政服务技能培训"]),
        (vec![("status", "draft")], vec!["商务礼仪培训"]),
        (
            vec![("unit_id", &fulian)],
            vec!["家政服务技能培训", "商务礼仪培训"],
        ),
        (
            vec![("unit_id", &renshe), ("campaign_id", cid)],
            vec![computer, "英语口语培训班"],
        ),
        // from: ends at or after (exact bound); to: starts before (exact bound).
        (
            vec![
                ("from", "2014-10-19T17:00:00+08:00"),
                ("to", "2014-10-21T19:00:00+08:00"),
            ],
            vec!["家政服务技能培训", computer],
        ),
        (
            vec![
                ("from", "2014-10-19T17:00:01+08:00"),
                ("to", "2014-10-21T19:00:01+08:00"),
            ],
            vec![computer, "英语口语培训班"],
        ),
        (vec![("q", "培训班")], vec![computer, "英语口语培训班"]),
        (vec![("q", "务工")], vec!["进城务工人员就业培训"]),
        (vec![("q", "_")], vec![]),
    ];
    let admin = Some(app.admin.as_str());
    assert_eq!(list(&app, admin, &[("campaign_id", cid)]).await.len(), 4);
    app.assert_lists("/api/v1/trainings", cases).await;
    let patch = json!({"capacity": 40});
    app.assert_updated_since("/api/v1/trainings", "英语", patch)
        .await;

    // Pages follow the same order.
    let (seen, _) = app.all_pages("/api/v1/trainings?limit=2", admin).await;
    assert_eq!(seen, list(&app, admin, &[]).await);

    for bad in ["subject=cooking", "to=tomorrow"] {
        app.get_problem(&format!("/api/v1/trainings?{bad}"), 400)
            .await;
    }
}

#[actix_web::test]
async fn anonymous_callers_see_no_drafts_or_internal_trainings() {
    let (app, cid, [renshe]) = gaozhou_week(["高州市人力资源和社会保障局"]).await;
    let hidden = [
        ("草稿培训", "draft", "public"),
        ("内部培训", "published", "internal"),
    ];
    let shown = [
        ("公开培训", "published", "public"),
        ("已取消培训", "cancelled", "public"),
        ("已结束培训", "completed", "public"),
    ];
    let mut ids = HashMap::new();
    for (title, status, visibility) in hidden.into_iter().chain(shown) {
        let t = training(&cid, renshe, title, "other", "2014-10-20T09:00:00+08:00");
        let t = t.status(status).visibility(visibility).insert(&app).await;
        ids.insert(title, id_of(&t).to_string());
    }
    let viewer = app.token(Role::Viewer, Some(renshe)).await;
    let public = shown.map(|(title, _, _)| title);
    app.assert_only_public_for_anonymous("/api/v1/trainings", &ids, &public, &viewer)
        .await;
    let internal = list(&app, Some(&viewer), &[("visibility", "internal")]).await;
    assert_eq!(internal, ["内部培训"]);
}
