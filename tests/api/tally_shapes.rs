//! Property-style tests of the bulk paths' promise: a 2xx answer accounts for every row it was
//! sent (one `items` entry per input row, each stored), otherwise the request is refused and
//! stores nothing, and a refusal names the rows that are wrong. Every field is fed values of
//! every JSON kind (batch) or every kind of cell text (CSV).

use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{EventBuilder, Role, TestApp, id_of};

struct Setup {
    app: TestApp,
    event: Uuid,
    reporter: String,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("shapes-2014").await;
    let unit = app.unit("高州市妇女联合会").await;
    let event = EventBuilder::new(id_of(&campaign), unit)
        .title("家庭教育讲座")
        .at("2014-10-20T01:00:00Z", "2014-10-20T03:00:00Z")
        .insert(&app)
        .await;
    let reporter = app.token(Role::Reporter, Some(unit)).await;
    Setup {
        event: event["id"].as_str().unwrap().parse().unwrap(),
        app,
        reporter,
    }
}

/// A valid tally whose natural key is unique by `day`.
fn valid(event: Uuid, day: u32) -> Value {
    json!({"event_id": event, "category": "student", "measure": "headcount",
           "count": 10 + day, "tally_date": format!("2014-10-{:02}", day + 1)})
}

/// Values of every JSON kind, and strings that look almost right.
fn odd_values(event: Uuid) -> Vec<Value> {
    vec![
        json!({}),
        json!({"a": 1}),
        json!([]),
        json!([1, 2]),
        json!(0),
        json!(5),
        json!(-3),
        json!(1.5),
        json!(1e20),
        json!(true),
        json!(false),
        Value::Null,
        json!(""),
        json!("x"),
        json!("robot"),
        json!("student"),
        json!("2014-02-30"),
        json!("2014-10-21"),
        json!(event.to_string()),
        json!(Uuid::now_v7().to_string()),
        json!("\u{0}"),
    ]
}

const FIELDS: &[&str] = &[
    "campaign_id",
    "event_id",
    "training_id",
    "category",
    "measure",
    "count",
    "tally_date",
    "reporting_unit_id",
    "source",
    "note",
    "no_such_field",
];

/// Checks one answer against the promise; returns whether it was accepted.
async fn check_answer(
    app: &TestApp,
    res: &crate::common::Resp,
    sent: usize,
    bad_rows: &[String],
) -> bool {
    match res.status {
        200 => {
            let body = res.json();
            let items = body["items"].as_array().unwrap();
            assert_eq!(items.len(), sent, "a 200 lists every row: {}", res.text());
            for (i, item) in items.iter().enumerate() {
                assert_eq!(item["index"], i);
                let id = item["id"].as_str().unwrap();
                let stored = app
                    .get(&format!("/api/v1/tallies/{id}"))
                    .admin()
                    .send()
                    .await;
                assert_eq!(
                    stored.status, 200,
                    "row {i} was acknowledged but not stored"
                );
            }
            true
        }
        422 => {
            let fields = res.error_fields();
            assert!(!fields.is_empty());
            for field in &fields {
                assert!(
                    bad_rows
                        .iter()
                        .any(|row| field == row || field.starts_with(&format!("{row}."))),
                    "{field} is not one of the altered rows {bad_rows:?}"
                );
            }
            false
        }
        other => panic!("neither 200 nor 422 but {other}: {}", res.text()),
    }
}

async fn stored(app: &TestApp) -> usize {
    let mut conn = app.conn().await;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SELECT count(*) AS n FROM tallies"),
        &mut conn,
    )
    .await
    .unwrap();
    n.n as usize
}

#[actix_web::test]
async fn the_reported_drops_are_refused_by_name() {
    let s = setup().await;
    let app = &s.app;
    let mut item = valid(s.event, 0);
    item["source"] = json!({});
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&s.reporter)
        .json(json!({"items": [item]}))
        .send()
        .await;
    assert_eq!(res.error_fields(), ["items[0].source"]);

    let mut second = valid(s.event, 1);
    second["category"] = json!(5);
    let mut third = valid(s.event, 2);
    third["category"] = Value::Null;
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&s.reporter)
        .json(json!({"items": [valid(s.event, 0), second, third]}))
        .send()
        .await;
    assert_eq!(
        res.error_fields(),
        ["items[1].category", "items[2].category"]
    );

    // Every bad field of a row, not only its first.
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&s.reporter)
        .json(json!({"items": [
            {"event_id": s.event, "category": "robot", "measure": 7, "count": -3, "tally_date": "soon", "extra": 1},
            valid(s.event, 1),
            {"event_id": s.event, "category": "student", "measure": "headcount", "count": -3, "tally_date": "2014-10-25"},
        ]}))
        .send()
        .await;
    assert_eq!(
        res.error_fields(),
        [
            "items[0].extra",
            "items[0].category",
            "items[0].measure",
            "items[0].tally_date",
            "items[0].count",
            "items[2].count"
        ]
    );
    assert_eq!(stored(app).await, 0);
}

#[actix_web::test]
async fn every_json_kind_in_every_field_is_stored_or_refused_by_name() {
    let s = setup().await;
    let app = &s.app;
    let mut accepted = 0;
    for field in FIELDS {
        for value in odd_values(s.event) {
            let before = stored(app).await;
            let mut altered = valid(s.event, 1);
            altered[*field] = value.clone();
            let items = vec![valid(s.event, 0), altered, valid(s.event, 2)];
            let res = app
                .post("/api/v1/tallies/batch")
                .bearer(&s.reporter)
                .json(json!({"items": items}))
                .send()
                .await;
            let ok = check_answer(app, &res, 3, &["items[1]".into()]).await;
            if ok {
                accepted += 1;
            } else {
                assert_eq!(
                    stored(app).await,
                    before,
                    "{field} = {value}: a refused batch stored rows"
                );
            }
        }
    }
    assert!(
        accepted > 0,
        "some odd values are valid (a note of \"x\", a count of 5)"
    );
}

/// Seeded, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[actix_web::test]
async fn random_batches_keep_the_promise() {
    let s = setup().await;
    let app = &s.app;
    let values = odd_values(s.event);
    let mut rng = Rng(0x2014_1019);
    for round in 0..60 {
        let n = 1 + rng.below(8);
        let mut items: Vec<Value> = (0..n)
            .map(|i| valid(s.event, (round * 8 + i) as u32 % 27))
            .collect();
        for _ in 0..rng.below(4) {
            let row = rng.below(n);
            items[row][FIELDS[rng.below(FIELDS.len())]] = values[rng.below(values.len())].clone();
        }
        // An altered row may now share its natural key with an unaltered one, which is then
        // the row named: any row may be.
        let before = stored(app).await;
        let res = app
            .post("/api/v1/tallies/batch")
            .bearer(&s.reporter)
            .json(json!({"items": items}))
            .send()
            .await;
        if !check_answer(
            app,
            &res,
            n,
            &(0..n).map(|i| format!("items[{i}]")).collect::<Vec<_>>(),
        )
        .await
        {
            assert_eq!(
                stored(app).await,
                before,
                "round {round}: a refused batch stored rows"
            );
        }
    }
}

/// Cell texts of every kind a spreadsheet may hold.
fn odd_cells(event: Uuid) -> Vec<String> {
    [
        "",
        "x",
        "robot",
        "-3",
        "0",
        "1.5",
        "1,234",
        "99999999999",
        "{}",
        "[]",
        "null",
        "true",
        "学生",
        "人次",
        "2014-02-30",
        "2014/10/21",
        "\"quoted, with comma\"",
        "市妇联",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([event.to_string(), Uuid::now_v7().to_string()])
    .collect()
}

#[actix_web::test]
async fn every_cell_text_in_every_column_is_stored_or_refused_by_line() {
    let s = setup().await;
    let app = &s.app;
    let header = [
        "event_id",
        "category",
        "measure",
        "count",
        "tally_date",
        "note",
    ];
    let row = |day: u32| {
        vec![
            s.event.to_string(),
            "student".to_string(),
            "headcount".to_string(),
            (10 + day).to_string(),
            format!("2014-10-{:02}", day + 1),
            String::new(),
        ]
    };
    let mut accepted = 0;
    for column in 0..header.len() {
        for cell in odd_cells(s.event) {
            let mut rows = vec![row(0), row(1), row(2)];
            rows[1][column] = cell.clone();
            let mut csv = header.join(",") + "\n";
            for r in &rows {
                let cells: Vec<String> = r
                    .iter()
                    .map(|c| {
                        if c.contains(',') || c.contains('"') {
                            format!("\"{}\"", c.replace('"', "\"\""))
                        } else {
                            c.clone()
                        }
                    })
                    .collect();
                csv += &(cells.join(",") + "\n");
            }
            let before = stored(app).await;
            let res = app
                .post("/api/v1/tallies/import")
                .bearer(&s.reporter)
                .body("text/csv", csv.clone())
                .send()
                .await;
            // Line 1 is the header: the altered row is line 3.
            if check_answer(app, &res, 3, &["line[3]".into()]).await {
                accepted += 1;
                assert_eq!(res.json()["items"][1]["line"], 3);
            } else {
                assert_eq!(
                    stored(app).await,
                    before,
                    "{}={cell:?}: a refused file stored rows",
                    header[column]
                );
            }
        }
    }
    assert!(accepted > 0);
}

#[actix_web::test]
async fn errors_are_capped_at_100_and_say_so() {
    let s = setup().await;
    let app = &s.app;
    let items: Vec<Value> = (0..300)
        .map(|i| json!({"category": i, "count": "many"}))
        .collect();
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&s.reporter)
        .json(json!({"items": items}))
        .send()
        .await;
    let problem = res.problem(422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 100);
    assert_eq!(problem["errors_truncated"], true);

    let mut csv = String::from("活动,类别,口径,人数,日期\n");
    for _ in 0..300 {
        csv += "not-an-id,robot,人数,many,someday\n";
    }
    let res = app
        .post("/api/v1/tallies/import")
        .bearer(&s.reporter)
        .body("text/csv", csv)
        .send()
        .await;
    let problem = res.problem(422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 100);
    assert_eq!(problem["errors_truncated"], true);

    // Fewer than 100: all listed, no flag.
    let res = app
        .post("/api/v1/tallies/batch")
        .bearer(&s.reporter)
        .json(json!({"items": [{"category": 1}]}))
        .send()
        .await;
    let problem = res.problem(422);
    assert!(problem.get("errors_truncated").is_none());
    assert_eq!(stored(app).await, 0);
}
