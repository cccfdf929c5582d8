//! Tallies: upserts with history, batches (all or nothing), CSV import (UTF-8, BOM, GBK).

use futures_util::future::join_all;
use learnweek::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::TestApp;

struct Week {
    app: TestApp,
    campaign: Uuid,
    unit: Uuid,
    other_unit: Uuid,
    event: Uuid,
    reporter: String,
}

async fn week() -> Week {
    let app = TestApp::spawn().await;
    let campaign: Uuid = app.campaign("gaozhou-2014").await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let unit = app.unit("高州市妇女联合会").await;
    let other_unit = app.unit("高州市文化局").await;
    let res = app
        .post("/api/v1/events")
        .bearer(&app.admin)
        .json(json!({
            "campaign_id": campaign, "title": "低碳生活进家庭", "kind": "community_activity",
            "area": "潘州街道", "starts_at": "2014-10-20T01:00:00Z", "ends_at": "2014-10-20T04:00:00Z",
            "host_unit_id": unit, "status": "published"
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let event = res.id();
    let reporter = app.token(Role::Reporter, Some(unit)).await;
    Week {
        app,
        campaign,
        unit,
        other_unit,
        event,
        reporter,
    }
}

fn tally(event: Uuid, category: &str, count: i32, date: &str) -> Value {
    json!({"event_id": event, "category": category, "measure": "headcount", "count": count, "tally_date": date})
}

#[actix_web::test]
async fn post_and_patch_refuse_bad_counts() {
    let w = week().await;
    let app = &w.app;
    let bad = tally(w.event, "nobody", 5, "2014-10-20");
    let res = app
        .post("/api/v1/tallies")
        .bearer(&w.reporter)
        .json(
            json!({"event_id": w.event, "category": "homemaker", "measure": "headcount",
                     "count": -1, "tally_date": "2014-10-20"}),
        )
        .send()
        .await;
    assert_eq!(res.error_fields(), ["count"]);
    let res = app
        .post("/api/v1/tallies")
        .bearer(&w.reporter)
        .json(bad)
        .send()
        .await;
    assert_eq!(res.error_fields(), ["category"]);
    assert_eq!(count_tallies(app).await, 0);

    let res = app
        .post("/api/v1/tallies")
        .bearer(&w.reporter)
        .json(tally(w.event, "homemaker", 120, "2014-10-20"))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.id();
    for (patch, field) in [
        (json!({"count": -5}), "count"),
        (json!({"tally_date": "20 October"}), "tally_date"),
        (json!({"count": null}), "count"),
    ] {
        let res = app
            .patch(&format!("/api/v1/tallies/{id}"))
            .bearer(&w.reporter)
            .json(patch.clone())
            .send()
            .await;
        assert_eq!(res.error_fields(), [field], "{patch}");
    }
    assert_eq!(history(app, &id.to_string()).await, [120]);
}

async fn count_tallies(app: &TestApp) -> usize {
    app.get("/api/v1/tallies?limit=200")
        .bearer(&app.admin)
        .send()
        .await
        .json()["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn history(app: &TestApp, id: &str) -> Vec<i64> {
    let res = app
        .get(&format!("/api/v1/tallies/{id}/history?limit=200"))
        .bearer(&app.admin)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["count"].as_i64().unwrap())
        .collect()
}

#[actix_web::test]
async fn put_upserts_on_the_natural_key_and_keeps_history() {
    let w = week().await;
    let app = &w.app;
    let res = app
        .put("/api/v1/tallies")
        .bearer(&w.reporter)
        .json(tally(w.event, "homemaker", 120, "2014-10-20"))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let t = res.json();
    let id = t["id"].as_str().unwrap().to_string();
    assert_eq!(
        res.header("location").unwrap(),
        format!("/api/v1/tallies/{id}")
    );
    assert_eq!(
        t["campaign_id"],
        w.campaign.to_string(),
        "campaign taken from the event"
    );
    assert_eq!(
        t["reporting_unit_id"],
        w.unit.to_string(),
        "defaults to the caller's unit"
    );
    assert_eq!(t["source"], "manual");

    // The script re-sends yesterday's file: nothing changes.
    let res = app
        .put("/api/v1/tallies")
        .bearer(&w.reporter)
        .json(tally(w.event, "homemaker", 120, "2014-10-20"))
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), t);
    assert_eq!(history(app, &id).await, [120]);

    let res = app
        .put("/api/v1/tallies")
        .bearer(&w.reporter)
        .json(tally(w.event, "homemaker", 135, "2014-10-20"))
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["id"], t["id"]);
    assert_eq!(res.json()["count"], 135);
    assert_eq!(history(app, &id).await, [120, 135]);
    let h = app
        .get(&format!("/api/v1/tallies/{id}/history"))
        .bearer(&w.reporter)
        .send()
        .await
        .json();
    assert!(
        h["items"][0]["changed_by"]
            .as_str()
            .unwrap()
            .starts_with("token:")
    );
    assert!(h["items"][0]["changed_at"].is_string());

    // Another date or category is another tally.
    let res = app
        .put("/api/v1/tallies")
        .bearer(&w.reporter)
        .json(tally(w.event, "homemaker", 90, "2014-10-21"))
        .send()
        .await;
    assert_eq!(res.status, 201);
    assert_eq!(count_tallies(app).await, 2);

    // POST refuses to create a second tally with the key.
    let res = app
        .post("/api/v1/tallies")
        .bearer(&w.reporter)
        .json(tally(w.event, "homemaker", 1, "2014-10-20"))
        .send()
        .await;
    res.problem(409);

    // PATCH changes the count and adds history; DELETE removes it and its history.
    let res = app
        .patch(&format!("/api/v1/tallies/{id}"))
        .bearer(&w.reporter)
        .json(json!({"count": 140, "note": "补录"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(history(app, &id).await, [120, 135, 140]);
    assert_eq!(
        app.delete(&format!("/api/v1/tallies/{id}"))
            .bearer(&w.reporter)
            .send()
            .await
            .status,
        204
    );
    app.get(&format!("/api/v1/tallies/{id}/history"))
        .bearer(&app.admin)
        .send()
        .await
        .problem(404);
    assert_eq!(count_tallies(app).await, 1);
}

#[actix_web::test]
async fn tally_validation_names_the_fields() {
    let w = week().await;
    let app = &w.app;
    let other = app.campaign("maoming-2015").await;
    let mut both = tally(w.event, "student", 1, "2014-10-20");
    both["training_id"] = json!(Uuid::now_v7());
    let mut neither = tally(w.event, "student", 1, "2014-10-20");
    neither.as_object_mut().unwrap().remove("event_id");
    let mut disagree = tally(w.event, "student", 1, "2014-10-20");
    disagree["campaign_id"] = other["id"].clone();
    for (body, field) in [
        (tally(w.event, "student", -1, "2014-10-20"), "count"),
        (
            tally(Uuid::now_v7(), "student", 1, "2014-10-20"),
            "event_id",
        ),
        (tally(w.event, "alien", 1, "2014-10-20"), "category"),
        (tally(w.event, "student", 1, "1800-10-20"), "tally_date"),
        (both, "event_id"),
        (neither, "event_id"),
        (disagree, "campaign_id"),
    ] {
        let res = app
            .put("/api/v1/tallies")
            .bearer(&w.reporter)
            .json(body.clone())
            .send()
            .await;
        assert_eq!(res.error_fields(), [field], "{body}");
    }
    // Admin tokens have no unit, so they must name the reporting unit.
    let res = app
        .put("/api/v1/tallies")
        .bearer(&app.admin)
        .json(tally(w.event, "student", 1, "2014-10-20"))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["reporting_unit_id"]);
    let mut explicit = tally(w.event, "student", 1, "2014-10-20");
    explicit["reporting_unit_id"] = json!(w.other_unit);
    assert_eq!(
        app.put("/api/v1/tallies")
            .bearer(&app.admin)
            .json(explicit)
            .send()
            .await
            .status,
        201
    );
}

#[actix_web::test]
async fn batches_are_all_or_nothing_and_name_every_bad_row() {
    let w = week().await;
    let app = &w.app;
    let categories = ["student", "retiree", "homemaker", "general"];
    let start = chrono::NaiveDate::from_ymd_opt(2014, 1, 1).unwrap();
    // 5,000 distinct natural keys: category x measure x day.
    let items: Vec<Value> = (0..5000)
        .map(|i| {
            json!({
                "event_id": w.event,
                "category": categories[i % 4],
                "measure": if (i / 4) % 2 == 0 { "headcount" } else { "person_times" },
                "count": (i % 97) as i32,
                "tally_date": (start + chrono::Duration::days((i / 8) as i64)).to_string(),
                "note": format!("第{i}行"),
            })
        })
        .collect();
    let mut bad = items.clone();
    bad[4999]["count"] = json!(-5);
    bad[17]["category"] = json!("nobody");
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&w.reporter)
        .json(json!({"items": bad}))
        .send()
        .await;
    let fields = res.error_fields();
    assert_eq!(
        fields,
        ["items[17].category", "items[4999].count"],
        "type and validation errors are reported together"
    );
    bad[17]["category"] = items[17]["category"].clone();
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&w.reporter)
        .json(json!({"items": bad}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["items[4999].count"]);
    assert_eq!(count_tallies(app).await, 0, "a failed batch leaves nothing");

    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&w.reporter)
        .json(json!({"items": items}))
        .send()
        .await;
    assert_eq!(
        res.status,
        200,
        "{}",
        &res.text()[..500.min(res.text().len())]
    );
    let body = res.json();
    assert_eq!(
        (
            body["created"].as_u64(),
            body["updated"].as_u64(),
            body["unchanged"].as_u64()
        ),
        (Some(5000), Some(0), Some(0))
    );
    assert_eq!(body["items"][4999]["index"], 4999);
    assert_eq!(body["items"][4999]["outcome"], "created");
    assert_eq!(body["items"].as_array().unwrap().len(), 5000);
    {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        let n: i64 = learnweek::schema::tallies::table
            .count()
            .get_result(&mut app.conn().await)
            .await
            .unwrap();
        assert_eq!(n, 5000);
        let sources: Vec<String> = learnweek::schema::tallies::table
            .select(learnweek::schema::tallies::source)
            .distinct()
            .load(&mut app.conn().await)
            .await
            .unwrap();
        assert_eq!(sources, ["script"]);
    }

    // Re-sending is a no-op; changing one row updates exactly that one.
    let mut again = items.clone();
    again[42]["count"] = json!(1000);
    let body = app
        .post("/api/v1/tallies/batch")
        .bearer(&w.reporter)
        .json(json!({"items": again}))
        .send()
        .await
        .json();
    assert_eq!(
        (
            body["created"].as_u64(),
            body["updated"].as_u64(),
            body["unchanged"].as_u64()
        ),
        (Some(0), Some(1), Some(4999))
    );
    assert_eq!(body["items"][42]["outcome"], "updated");

    let dup = json!({"items": [items[0].clone(), items[1].clone(), items[0].clone()]});
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&w.reporter)
        .json(dup)
        .send()
        .await;
    assert_eq!(res.error_fields(), ["items[2].category"]);

    let mut too_many = items.clone();
    too_many.push(items[0].clone());
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&w.reporter)
        .json(json!({"items": too_many}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["items"]);
}

#[actix_web::test]
async fn a_batch_with_another_units_rows_is_403_naming_them() {
    let w = week().await;
    let app = &w.app;
    let mut foreign = tally(w.event, "student", 3, "2014-10-20");
    foreign["reporting_unit_id"] = json!(w.other_unit);
    let items = json!({"items": [tally(w.event, "general", 5, "2014-10-20"), foreign]});
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&w.reporter)
        .json(items)
        .send()
        .await;
    let p = res.problem(403);
    assert_eq!(p["errors"][0]["field"], "items[1].reporting_unit_id");
    assert_eq!(p["errors"].as_array().unwrap().len(), 1);
    assert_eq!(count_tallies(app).await, 0);
}

#[actix_web::test]
async fn concurrent_upserts_of_one_key_make_one_row_with_a_complete_history() {
    let w = week().await;
    let app = &w.app;
    let requests = (1..=50).map(|n| {
        app.put("/api/v1/tallies")
            .bearer(&w.reporter)
            .json(tally(w.event, "child", n, "2014-10-22"))
            .send()
    });
    let responses = join_all(requests).await;
    let created = responses.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1, "exactly one request created the row");
    assert!(responses.iter().all(|r| r.status == 201 || r.status == 200));
    let ids: std::collections::HashSet<String> = responses
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1);
    let id = ids.into_iter().next().unwrap();
    let mut counts = history(app, &id).await;
    counts.sort();
    assert_eq!(
        counts,
        (1..=50).collect::<Vec<i64>>(),
        "every value is in the history"
    );
    assert_eq!(count_tallies(app).await, 1);
}

#[actix_web::test]
async fn list_filters() {
    let w = week().await;
    let app = &w.app;
    for (cat, date) in [
        ("student", "2014-10-19"),
        ("retiree", "2014-10-20"),
        ("student", "2014-10-21"),
    ] {
        assert_eq!(
            app.put("/api/v1/tallies")
                .bearer(&w.reporter)
                .json(tally(w.event, cat, 10, date))
                .send()
                .await
                .status,
            201
        );
    }
    for (path, expected) in [
        ("/api/v1/tallies?category=student".to_string(), 2),
        (format!("/api/v1/tallies?event_id={}", w.event), 3),
        (format!("/api/v1/tallies?unit_id={}", w.other_unit), 0),
        (
            "/api/v1/tallies?from=2014-10-20&to=2014-10-20".to_string(),
            1,
        ),
        ("/api/v1/tallies?measure=person_times".to_string(), 0),
    ] {
        let res = app.get(&path).bearer(&w.reporter).send().await;
        assert_eq!(
            res.json()["items"].as_array().unwrap().len(),
            expected,
            "{path}"
        );
    }
    app.get("/api/v1/tallies").send().await.problem(401);
}

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

#[actix_web::test]
async fn csv_import_in_utf8_with_and_without_bom_and_in_gbk() {
    let w = week().await;
    let app = &w.app;
    app.patch(&format!("/api/v1/units/{}", w.unit))
        .bearer(&app.admin)
        .json(json!({"short_name": "市妇联"}))
        .send()
        .await;
    let text = csv_body(&w);

    let res = app
        .post("/api/v1/tallies/import")
        .bearer(&w.reporter)
        .body("text/csv", text.clone())
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["created"], 3);
    let listed = app
        .get("/api/v1/tallies?limit=10")
        .bearer(&app.admin)
        .send()
        .await
        .json();
    let mut counts: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["count"].as_i64().unwrap())
        .collect();
    counts.sort();
    assert_eq!(counts, [120, 300, 1050]);
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["source"] == "import")
    );
    assert!(listed.to_string().contains("含\\\"送教下乡\\\""));

    // The same file with a BOM, then as Excel on Chinese Windows saves it (GBK): unchanged.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.as_bytes());
    let res = app
        .post("/api/v1/tallies/import")
        .bearer(&w.reporter)
        .body("text/csv", bom)
        .send()
        .await;
    assert_eq!(res.json()["unchanged"], 3, "{}", res.text());
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "really not UTF-8");
    let changed = text.replace(",120,", ",125,");
    let (gbk_changed, _, _) = encoding_rs::GBK.encode(&changed);
    let res = app
        .post("/api/v1/tallies/import")
        .bearer(&w.reporter)
        .body("text/csv", gbk_changed.into_owned())
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        (
            res.json()["updated"].as_u64(),
            res.json()["unchanged"].as_u64()
        ),
        (Some(1), Some(2))
    );
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
    let res = app
        .post("/api/v1/tallies/import")
        .bearer(&w.reporter)
        .body("text/csv", text)
        .send()
        .await;
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["line[4].count", "line[5].category", "line[5].tally_date"]
    );
    assert_eq!(count_tallies(app).await, 0);

    let res = app
        .post("/api/v1/tallies/import")
        .bearer(&w.reporter)
        .body("text/csv", "活动,人数,颜色\nx,1,red\n")
        .send()
        .await;
    let fields = res.error_fields();
    assert!(fields.contains(&"header[2]".to_string()), "{fields:?}");
    assert!(fields.contains(&"header".to_string()), "{fields:?}");

    app.post("/api/v1/tallies/import")
        .bearer(&w.reporter)
        .body("application/json", "{}")
        .send()
        .await
        .problem(415);
    let huge = format!(
        "event_id,category,measure,count,tally_date\n{}",
        "x".repeat(11 << 20)
    );
    app.post("/api/v1/tallies/import")
        .bearer(&w.reporter)
        .body("text/csv", huge)
        .send()
        .await
        .problem(413);
}

#[actix_web::test]
async fn the_shipped_sample_csv_imports_into_the_demo_week() {
    let app = TestApp::spawn().await;
    learnweek::seed::gaozhou::load(&app.state).await.unwrap();
    let women: Value = app
        .get("/api/v1/units?q=%E5%A6%87%E5%A5%B3%E8%81%94%E5%90%88%E4%BC%9A")
        .send()
        .await
        .json();
    let unit: Uuid = women["items"][0]["id"].as_str().unwrap().parse().unwrap();
    let reporter = app.token(Role::Reporter, Some(unit)).await;
    for file in ["examples/tallies.csv", "examples/tallies-gbk.csv"] {
        let bytes = std::fs::read(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let res = app
            .post("/api/v1/tallies/import")
            .bearer(&reporter)
            .body("text/csv", bytes)
            .send()
            .await;
        assert_eq!(res.status, 200, "{file}: {}", res.text());
    }
}
