//! `POST /tallies/batch`: all or nothing, every bad row named.

use serde_json::{Value, json};

use super::*;
use crate::common::{Method, schema};

/// (created, updated, unchanged) of a batch's answer.
fn outcome(body: &Value) -> (Option<u64>, Option<u64>, Option<u64>) {
    let n = |key: &str| body[key].as_u64();
    (n("created"), n("updated"), n("unchanged"))
}

/// How many tallies are stored, and from which sources.
async fn stored(app: &TestApp) -> (i64, Vec<String>) {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let n: i64 = schema::tallies::table
        .count()
        .get_result(&mut app.conn().await)
        .await
        .unwrap();
    let sources: Vec<String> = schema::tallies::table
        .select(schema::tallies::source)
        .distinct()
        .load(&mut app.conn().await)
        .await
        .unwrap();
    (n, sources)
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
    let batch = |items: &[Value]| {
        let body = json!({"items": items});
        app.post("/api/v1/tallies/batch")
            .bearer(&w.reporter)
            .json(body)
            .send()
    };
    let mut bad = items.clone();
    bad[4999]["count"] = json!(-5);
    bad[17]["category"] = json!("nobody");
    let fields = batch(&bad).await.error_fields();
    let both = ["items[17].category", "items[4999].count"];
    assert_eq!(
        fields, both,
        "type and validation errors are reported together"
    );
    // A key beside `items` is named with the bad rows, and a row that is no object is one
    // error, not one per field it lacks.
    bad[3] = json!("notanobject");
    let body = json!({"items": &bad, "source": "script"});
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&w.reporter)
        .json(body)
        .send()
        .await;
    let all = [
        "source",
        "items[3]",
        "items[17].category",
        "items[4999].count",
    ];
    assert_eq!(res.error_fields(), all);
    // A misspelt `items` is named beside the missing one.
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&w.reporter)
        .json(json!({"item": &bad[..2]}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["item", "items"]);
    bad[3] = items[3].clone();
    bad[17]["category"] = items[17]["category"].clone();
    assert_eq!(batch(&bad).await.error_fields(), ["items[4999].count"]);
    assert_eq!(count_tallies(app).await, 0, "a failed batch leaves nothing");

    let res = batch(&items).await;
    let text = res.text();
    assert_eq!(res.status, 200, "{}", &text[..500.min(text.len())]);
    let body = res.json();
    assert_eq!(outcome(&body), (Some(5000), Some(0), Some(0)));
    assert_eq!(body["items"][4999]["index"], 4999);
    assert_eq!(body["items"][4999]["outcome"], "created");
    assert_eq!(body["items"].as_array().unwrap().len(), 5000);
    assert_eq!(stored(app).await, (5000, vec!["script".to_string()]));

    // Re-sending is a no-op; changing one row updates exactly that one.
    let mut again = items.clone();
    again[42]["count"] = json!(1000);
    let body = batch(&again).await.json();
    assert_eq!(outcome(&body), (Some(0), Some(1), Some(4999)));
    assert_eq!(body["items"][42]["outcome"], "updated");

    let dup = [items[0].clone(), items[1].clone(), items[0].clone()];
    assert_eq!(batch(&dup).await.error_fields(), ["items[2].category"]);

    let mut too_many = items.clone();
    too_many.push(items[0].clone());
    assert_eq!(batch(&too_many).await.error_fields(), ["items"]);
}

#[actix_web::test]
async fn a_batch_with_another_units_rows_is_403_naming_them() {
    let w = week().await;
    let app = &w.app;
    let mut foreign = tally(w.event, "student", 3, "2014-10-20");
    foreign["reporting_unit_id"] = json!(w.other_unit);
    let items = json!({"items": [tally(w.event, "general", 5, "2014-10-20"), foreign]});
    let res = app
        .call(Method::POST, "/api/v1/tallies/batch", &w.reporter, items)
        .await;
    let p = res.problem(403);
    assert_eq!(p["errors"][0]["field"], "items[1].reporting_unit_id");
    assert_eq!(p["errors"].as_array().unwrap().len(), 1);
    assert_eq!(count_tallies(app).await, 0);
}
