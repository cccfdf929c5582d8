use serde_json::{Value, json};

use crate::common::TestApp;

fn gaozhou() -> Value {
    json!({
        "slug": "gaozhou-2014",
        "name": "高州市2014年全民终身学习活动周",
        "theme": "全民终身学习　创造出彩人生",
        "region": "广东省茂名市高州市",
        "starts_on": "2014-10-19",
        "ends_on": "2014-10-25",
        "notice_ref": "教职成厅函[2014]23号",
        "areas": ["潘州街道", "石仔岭街道", "长坡镇"],
        "status": "active"
    })
}

#[actix_web::test]
async fn create_round_trips_chinese_text_and_fills_defaults() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/v1/campaigns")
        .bearer(&app.admin)
        .json(gaozhou())
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let c = res.json();
    let location = res.header("location").unwrap();
    assert_eq!(
        location,
        format!("/api/v1/campaigns/{}", c["id"].as_str().unwrap())
    );
    assert!(res.header("etag").is_some());
    assert_eq!(c["theme"], "全民终身学习　创造出彩人生");
    assert_eq!(c["notice_ref"], "教职成厅函[2014]23号");
    assert_eq!(c["year"], 2014, "year defaults to that of starts_on");
    assert_eq!(c["timezone"], "Asia/Shanghai");
    assert_eq!(c["areas"], json!(["潘州街道", "石仔岭街道", "长坡镇"]));

    let fetched = app.get(&location).send().await;
    assert_eq!(fetched.json(), c);
    // The raw bytes carry the Chinese text as sent (no escaping).
    assert!(fetched.text().contains("全民终身学习　创造出彩人生"));
    // By slug too.
    assert_eq!(
        app.get("/api/v1/campaigns/gaozhou-2014")
            .send()
            .await
            .json(),
        c
    );
}

#[actix_web::test]
async fn validation_reports_every_bad_field() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/v1/campaigns")
        .bearer(&app.admin)
        .json(json!({
            "slug": "Gaozhou 2014",
            "name": " ",
            "year": 14,
            "starts_on": "2014-10-25",
            "ends_on": "2014-10-19",
            "timezone": "China/Gaozhou",
            "areas": ["潘州街道", "潘州街道", ""]
        }))
        .send()
        .await;
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "areas[1]", "areas[2]", "ends_on", "name", "slug", "timezone", "year"
        ]
    );
    let res = app
        .post("/api/v1/campaigns")
        .bearer(&app.admin)
        .json(json!({"slug": "x-2014", "name": "x", "starts_on": "2014-13-01", "ends_on": "2014-10-19"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["starts_on"]);
    let res = app
        .post("/api/v1/campaigns")
        .bearer(&app.admin)
        .json(json!({"slug": "x-2014", "name": "x", "starts_on": "2014-10-01", "ends_on": "2014-10-19", "status": "finished"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["status"]);
    let list = app.get("/api/v1/campaigns").send().await.json();
    assert_eq!(list["items"], json!([]), "nothing was stored");
}

#[actix_web::test]
async fn filters_by_status_year_search_and_updated_since() {
    let app = TestApp::spawn().await;
    app.post("/api/v1/campaigns")
        .bearer(&app.admin)
        .json(gaozhou())
        .send()
        .await;
    let before_second = chrono::Utc::now();
    let res = app
        .post("/api/v1/campaigns")
        .bearer(&app.admin)
        .json(json!({"slug": "maoming-2015", "name": "茂名市2015年全民终身学习活动周", "starts_on": "2015-10-18", "ends_on": "2015-10-24"}))
        .send()
        .await;
    assert_eq!(res.status, 201);

    let names = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["slug"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(
            app.get("/api/v1/campaigns?status=active")
                .send()
                .await
                .json()
        ),
        ["gaozhou-2014"]
    );
    assert_eq!(
        names(
            app.get("/api/v1/campaigns?status=planning")
                .send()
                .await
                .json()
        ),
        ["maoming-2015"]
    );
    assert_eq!(
        names(app.get("/api/v1/campaigns?year=2015").send().await.json()),
        ["maoming-2015"]
    );
    let q = "/api/v1/campaigns?q=%E9%AB%98%E5%B7%9E"; // 高州
    assert_eq!(names(app.get(q).send().await.json()), ["gaozhou-2014"]);
    assert_eq!(
        names(app.get("/api/v1/campaigns?q=%25").send().await.json()),
        Vec::<String>::new(),
        "% is literal"
    );
    let since = before_second.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert_eq!(
        names(
            app.get(&format!("/api/v1/campaigns?updated_since={since}"))
                .send()
                .await
                .json()
        ),
        ["maoming-2015"]
    );
    app.get("/api/v1/campaigns?status=finished")
        .send()
        .await
        .problem(400);
}

#[actix_web::test]
async fn patch_validates_the_merged_result_and_delete_removes() {
    let app = TestApp::spawn().await;
    let c = app
        .post("/api/v1/campaigns")
        .bearer(&app.admin)
        .json(gaozhou())
        .send()
        .await
        .json();
    let path = format!("/api/v1/campaigns/{}", c["id"].as_str().unwrap());
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"ends_on": "2014-10-01"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["ends_on"]);
    let res = app
        .patch(&path)
        .bearer(&app.admin)
        .json(json!({"status": "closed", "theme": null}))
        .send()
        .await;
    assert_eq!(res.status, 200);
    let updated = res.json();
    assert_eq!(updated["status"], "closed");
    assert_eq!(updated["theme"], Value::Null);
    assert_eq!(updated["name"], c["name"]);
    assert_ne!(updated["updated_at"], c["updated_at"]);

    let res = app
        .delete("/api/v1/campaigns/gaozhou-2014")
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.status, 204);
    app.get(&path).send().await.problem(404);
    app.delete(&path)
        .bearer(&app.admin)
        .send()
        .await
        .problem(404);
}

/// One-line fields end up as one line elsewhere (the name is the calendar feed's NAME): a line
/// break or other control character is refused, on create and on change.
#[actix_web::test]
async fn one_line_fields_refuse_line_breaks() {
    let app = TestApp::spawn().await;
    for field in ["name", "theme", "region", "notice_ref"] {
        for bad in ["高州\nBEGIN:VEVENT", "高州\r\n", "高州\t活动周"] {
            let mut body = gaozhou();
            body[field] = json!(bad);
            let res = app
                .post("/api/v1/campaigns")
                .bearer(&app.admin)
                .json(body)
                .send()
                .await;
            assert_eq!(res.error_fields(), [field], "{field}: {bad:?}");
        }
    }
    let res = app
        .post("/api/v1/campaigns")
        .bearer(&app.admin)
        .json(gaozhou())
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app
        .patch("/api/v1/campaigns/gaozhou-2014")
        .bearer(&app.admin)
        .json(json!({"name": "x\r\nBEGIN:VEVENT\r\nSUMMARY:forged\r\nEND:VEVENT"}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["name"]);
}
