//! `POST /tallies/import`: CSV in UTF-8 (with or without a BOM) or GBK, Chinese headers and
//! values, errors that name the line.

use serde_json::json;

use super::*;
use crate::common::{Method, Resp};

fn csv_body(w: &Week) -> String {
    format!(
        "活动,类别,口径,人数,日期,填报单位,备注\n\
         {e},学生,人数,120,2014-10-19,市妇联,开幕式\n\
         {e},retiree,headcount,\"1,050\",2014/10/20,{u},\n\
         {e},外来务工人员,人次,300,2014-10-21,高州市妇女联合会,\"含\"\"送教下乡\"\"\"\n",
        e = w.event,
        u = w.unit
    )
}

/// Imports `body` (sent as `content_type`) with `token`.
async fn import(app: &TestApp, token: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Resp {
    let req = app.post("/api/v1/tallies/import").bearer(token);
    req.body(content_type, body).send().await
}

#[actix_web::test]
async fn csv_import_in_utf8_with_and_without_bom_and_in_gbk() {
    let w = week().await;
    let app = &w.app;
    let path = format!("/api/v1/units/{}", w.unit);
    app.call(
        Method::PATCH,
        &path,
        &app.admin,
        json!({"short_name": "市妇联"}),
    )
    .await;
    let text = csv_body(&w);

    let res = import(app, &w.reporter, "text/csv", text.clone()).await;
    assert_eq!(res.ok(200)["created"], 3);
    let listed = app.admin_read("/api/v1/tallies?limit=10").await;
    let mut counts: Vec<i64> = items(&listed)
        .iter()
        .map(|t| t["count"].as_i64().unwrap())
        .collect();
    counts.sort();
    assert_eq!(counts, [120, 300, 1050]);
    assert!(items(&listed).iter().all(|t| t["source"] == "import"));
    assert!(listed.to_string().contains("含\\\"送教下乡\\\""));

    // The same file with a BOM, then as Excel on Chinese Windows saves it (GBK): unchanged.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.as_bytes());
    let res = import(app, &w.reporter, "text/csv", bom).await;
    assert_eq!(res.json()["unchanged"], 3, "{}", res.text());
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "really not UTF-8");
    let changed = text.replace(",120,", ",125,");
    let (gbk_changed, _, _) = encoding_rs::GBK.encode(&changed);
    let res = import(app, &w.reporter, "text/csv", gbk_changed.into_owned()).await;
    let body = res.ok(200);
    let outcome = (body["updated"].as_u64(), body["unchanged"].as_u64());
    assert_eq!(outcome, (Some(1), Some(2)));
}

#[actix_web::test]
async fn csv_errors_name_the_line_and_nothing_is_stored() {
    let w = week().await;
    let app = &w.app;
    let text = format!(
        "event_id,category,measure,count,tally_date\n\
         {e},student,headcount,10,2014-10-19\n\
         \n\
         {e},student,headcount,ten,2014-10-19\n\
         {e},wizard,人次,5,2014-10-40\n",
        e = w.event
    );
    let mut fields = import(app, &w.reporter, "text/csv", text)
        .await
        .error_fields();
    fields.sort();
    let lines = ["line[4].count", "line[5].category", "line[5].tally_date"];
    assert_eq!(fields, lines);
    assert_eq!(count_tallies(app).await, 0);

    let unknown = "活动,人数,颜色\nx,1,red\n";
    let fields = import(app, &w.reporter, "text/csv", unknown)
        .await
        .error_fields();
    assert!(fields.contains(&"header[2]".to_string()), "{fields:?}");
    assert!(fields.contains(&"header".to_string()), "{fields:?}");

    // An unknown column does not hide the rows' problems: one answer names them all, and a
    // line of the wrong length is one error, not one per cell it lacks.
    let text = format!(
        "event_id,category,measure,count,tally_date,颜色\n\
         {e},student,headcount,-5,2014-10-19,red\n\
         {e},alien,headcount,5,2014-10-19,red\n\
         {e},student,headcount,5,2014-10-19,red,extra\n",
        e = w.event
    );
    let fields = import(app, &w.reporter, "text/csv", text)
        .await
        .error_fields();
    let all = ["header[5]", "line[2].count", "line[3].category", "line[4]"];
    assert_eq!(fields, all);
    assert_eq!(count_tallies(app).await, 0);

    let json = import(app, &w.reporter, "application/json", "{}").await;
    json.problem(415);
    let huge = format!(
        "event_id,category,measure,count,tally_date\n{}",
        "x".repeat(11 << 20)
    );
    import(app, &w.reporter, "text/csv", huge)
        .await
        .problem(413);
}

#[actix_web::test]
async fn the_shipped_sample_csv_imports_into_the_demo_week() {
    let app = TestApp::spawn().await;
    app.load_demo_week().await;
    let women = app
        .read(
            "/api/v1/units?q=%E5%A6%87%E5%A5%B3%E8%81%94%E5%90%88%E4%BC%9A",
            None,
        )
        .await;
    let unit = women["items"][0]["id"].as_str().unwrap().parse().unwrap();
    let reporter = app.token(Role::Reporter, Some(unit)).await;
    for file in ["examples/tallies.csv", "examples/tallies-gbk.csv"] {
        let bytes = std::fs::read(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let res = import(&app, &reporter, "text/csv", bytes).await;
        assert_eq!(res.status, 200, "{file}: {}", res.text());
    }
}
