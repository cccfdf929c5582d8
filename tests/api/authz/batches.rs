//! Batches and CSV files are authorized row by row.

use actix_web::http::Method;
use serde_json::{Value, json};

use super::fixtures::CSV_HEADER;
use super::{Actor, Payload, World, tally_input};

/// The field names of a problem's `errors`.
fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A batch or CSV file with one row of another unit is refused whole: 403 naming that row,
/// nothing stored. The same rows from the admin are fine (so validity was not the issue).
#[actix_web::test]
async fn batches_and_csv_files_are_authorized_row_by_row() {
    let w = World::new().await;
    let (a, b) = (w.a, w.b);
    let event = w.new_event(a).await;
    let subject = ("event_id", event);
    let mixed = Payload::Json(json!({"items": [
        tally_input(subject, a, "student"),
        tally_input(subject, b, "retiree"),
    ]}));
    let mixed_csv = Payload::Csv(format!(
        "{CSV_HEADER}\n{event},student,headcount,120,2014-10-19,{a}\n\
         {event},retiree,headcount,120,2014-10-19,{b}\n"
    ));
    let stored = || async {
        w.admin_get(&format!("/api/v1/tallies?event_id={event}"))
            .await["items"]
            .as_array()
            .unwrap()
            .len()
    };

    for actor in [Actor::EditorA, Actor::ReporterA] {
        let res = w
            .send(actor, Method::POST, "/api/v1/tallies/batch", &mixed)
            .await;
        let p = res.problem(403);
        let fields = error_fields(&p);
        assert_eq!(fields, ["items[1].reporting_unit_id"], "{actor:?}: {p}");
        let res = w
            .send(actor, Method::POST, "/api/v1/tallies/import", &mixed_csv)
            .await;
        let p = res.problem(403);
        // Line 1 is the header.
        assert_eq!(
            error_fields(&p),
            ["line[3].reporting_unit_id"],
            "{actor:?}: {p}"
        );
    }
    // Editor of B: both rows of the all-A file are named.
    let all_a = Payload::Json(json!({"items": [
        tally_input(subject, a, "student"),
        tally_input(subject, a, "retiree"),
    ]}));
    let batch = "/api/v1/tallies/batch";
    let p = w
        .send(Actor::EditorB, Method::POST, batch, &all_a)
        .await
        .problem(403);
    let both = ["items[0].reporting_unit_id", "items[1].reporting_unit_id"];
    assert_eq!(error_fields(&p), both);
    assert_eq!(stored().await, 0, "a refused batch stores nothing");
    let audit = w
        .admin_get(&format!("/api/v1/audit?type=tally&unit_id={b}"))
        .await;
    assert_eq!(audit["items"], json!([]), "a refused batch audits nothing");

    // The admin may mix units.
    let res = w.send(Actor::Admin, Method::POST, batch, &mixed).await;
    assert_eq!(res.ok(200)["created"], 2);
    let import = "/api/v1/tallies/import";
    let res = w.send(Actor::Admin, Method::POST, import, &mixed_csv).await;
    assert_eq!(res.ok(200)["unchanged"], 2);
    assert_eq!(stored().await, 2);
}
