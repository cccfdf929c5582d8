//! Editions and regions: `/campaigns/{id}/trends` beside the summaries of the earlier
//! editions, and `/regions/{code}/summary` as sums of the summaries of its campaigns.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{
    CampaignBuilder, EventBuilder, MediaReportBuilder, Method, Role, SyntheticParams, TestApp,
    TrainingBuilder, eventually,
};

/// Seeded, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A campaign of `year` in `region_code` with a few rows of everything the figures count.
async fn campaign(app: &TestApp, slug: &str, year: i32, code: &str, rng: &mut Rng) -> Value {
    let c = CampaignBuilder::new(slug)
        .name(format!("{slug} 活动周"))
        .set("region_code", code)
        .starts_on(format!("{year}-10-19"))
        .ends_on(format!("{year}-10-25"))
        .areas(["甲镇", "乙镇", "丙镇"])
        .insert(app)
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    let unit = app.unit(&format!("{slug} 教育局")).await;
    let request = (
        Method::PUT,
        &*format!("/api/v1/campaigns/{id}/partners/{unit}"),
        json!({"role": "co_host", "lead": true}),
    );
    app.expect(201, &app.admin, vec![request]).await;
    let statuses = ["draft", "published", "completed", "cancelled"];
    let areas = ["甲镇", "乙镇", "丙镇"];
    let mut events = Vec::new();
    for i in 0..(1 + rng.below(5)) {
        let e = EventBuilder::new(&id, unit)
            .title(format!("活动{i}"))
            .area(areas[rng.below(3) as usize])
            .at(
                &format!("{year}-10-20T01:00:00Z"),
                &format!("{year}-10-20T02:00:00Z"),
            )
            .status(statuses[rng.below(4) as usize])
            .visibility(if rng.below(4) == 0 {
                "internal"
            } else {
                "public"
            })
            .insert(app)
            .await;
        events.push(e["id"].as_str().unwrap().to_string());
    }
    let reporter = app.token(Role::Reporter, Some(unit)).await;
    let items: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({"event_id": e, "category": "student", "measure": "headcount",
                   "count": rng.below(500), "tally_date": format!("{year}-10-20")})
        })
        .collect();
    let request = (
        Method::POST,
        "/api/v1/tallies/batch",
        json!({"items": items}),
    );
    app.expect(200, &reporter, vec![request]).await;
    TrainingBuilder::new(&id, unit)
        .title("电脑培训")
        .starts_at(format!("{year}-10-21T01:00:00Z"))
        .ends_at(format!("{year}-10-21T05:00:00Z"))
        .enrolled(30 + rng.below(10))
        .completed(20)
        .employed_after(rng.below(20))
        .status("completed")
        .insert(app)
        .await;
    MediaReportBuilder::new(&id)
        .medium("tv")
        .outlet_name("市电视台")
        .title("活动周报道")
        .published_at(format!("{year}-10-22T10:00:00Z"))
        .reporting_unit(unit)
        .insert(app)
        .await;
    c
}

async fn get(app: &TestApp, path: &str) -> Value {
    let res = app.get(path).send().await;
    assert_eq!(res.status, 200, "{path}: {}", res.text());
    res.json()
}

/// The summary's figures, as a region sums them (no campaign-only fields).
fn figures_of(summary: &Value) -> Value {
    let mut f = summary.clone();
    let f = f.as_object_mut().unwrap();
    for key in [
        "campaign_id",
        "slug",
        "region_code",
        "year",
        "children",
        "campaigns",
    ] {
        f.remove(key);
    }
    f["partners"]
        .as_object_mut()
        .unwrap()
        .remove("lead_unit_id");
    Value::Object(f.clone())
}

/// Adds the numbers of `b` into `a`, key by key (coverage's ratio recomputed afterwards).
fn add(a: &mut Value, b: &Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                let empty = if v.is_object() { json!({}) } else { json!(0) };
                add(a.entry(k.clone()).or_insert(empty), v);
            }
        }
        (a @ Value::Number(_), Value::Number(b)) if a.is_i64() => {
            *a = json!(a.as_i64().unwrap() + b.as_i64().unwrap_or_default());
        }
        _ => {}
    }
}

#[actix_web::test]
async fn trends_show_five_earlier_editions_of_the_same_place() {
    let app = TestApp::spawn().await;
    let mut rng = Rng(2014);
    let mut editions = Vec::new();
    for year in 2008..=2014 {
        editions.push(campaign(&app, &format!("gz-{year}"), year, "440981", &mut rng).await);
    }
    // Another place, and a later edition: neither is shown.
    campaign(&app, "hz-2013", 2013, "440982", &mut rng).await;
    campaign(&app, "gz-2015", 2015, "440981", &mut rng).await;

    let t = get(&app, "/api/v1/campaigns/gz-2014/trends").await;
    assert_eq!(t["region_code"], "440981");
    let years: Vec<i64> = t["editions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["year"].as_i64().unwrap())
        .collect();
    assert_eq!(
        years,
        [2009, 2010, 2011, 2012, 2013, 2014],
        "five earlier, oldest first"
    );
    for edition in t["editions"].as_array().unwrap() {
        let s = get(
            &app,
            &format!(
                "/api/v1/campaigns/{}/summary",
                edition["slug"].as_str().unwrap()
            ),
        )
        .await;
        let f = &edition["figures"];
        let partners = s["partners"]["co_host"].as_i64().unwrap()
            + s["partners"]["undertaker"].as_i64().unwrap()
            + s["partners"]["member"].as_i64().unwrap();
        assert_eq!(f["partners"], partners);
        assert_eq!(f["events"], s["events"]["total"]);
        assert_eq!(
            f["event_headcount"],
            s["participants"]["events"]["headcount"]
        );
        assert_eq!(
            f["training_person_times"],
            s["participants"]["trainings"]["person_times"]
        );
        assert_eq!(f["trained"], s["trainings"]["completed"]);
        assert_eq!(f["employed_after"], s["trainings"]["employed_after"]);
        assert_eq!(f["media_reports"], s["media_reports"]["total"]);
        assert_eq!(f["coverage_ratio"], s["coverage"]["ratio"]);
    }
    let (prev, cur) = (&t["editions"][4]["figures"], &t["editions"][5]["figures"]);
    for name in [
        "partners",
        "events",
        "event_headcount",
        "trained",
        "media_reports",
    ] {
        let c = &t["changes"][name];
        assert_eq!(c["previous"], prev[name]);
        assert_eq!(c["current"], cur[name]);
        assert_eq!(
            c["delta"].as_i64().unwrap(),
            cur[name].as_i64().unwrap() - prev[name].as_i64().unwrap()
        );
        match prev[name].as_i64().unwrap() {
            0 => assert!(c["ratio"].is_null()),
            p => assert!(
                (c["ratio"].as_f64().unwrap() - cur[name].as_f64().unwrap() / p as f64).abs()
                    < 1e-9
            ),
        }
    }
    // A campaign without a region_code, or the first edition: itself, no changes.
    let t = get(&app, "/api/v1/campaigns/gz-2008/trends").await;
    assert_eq!(t["editions"].as_array().unwrap().len(), 1);
    assert_eq!(t["changes"], json!({}));
    app.get_problem("/api/v1/campaigns/nowhere/trends", 404)
        .await;
}

#[actix_web::test]
async fn a_region_sums_its_campaigns_summaries_and_nothing_else() {
    let app = TestApp::spawn().await;
    let mut rng = Rng(440900);
    // 440900 and 440000: weeks of a prefecture and of the province themselves.
    let codes = [
        "440981", "440982", "440902", "440103", "440104", "450102", "440900", "440000",
    ];
    let mut made: Vec<(String, i32, String)> = Vec::new();
    for n in 0..12 {
        // Every code once in 2014, then at random (some of 2015, which never count).
        let (code, year) = match codes.get(n) {
            Some(code) => (*code, 2014),
            None => (
                codes[rng.below(codes.len() as u64) as usize],
                if rng.below(3) == 0 { 2015 } else { 2014 },
            ),
        };
        let slug = format!("c{n}-{year}");
        campaign(&app, &slug, year, code, &mut rng).await;
        made.push((slug, year, code.to_string()));
    }
    for (region, prefix_len) in [("440000", 2), ("440900", 4), ("440981", 6)] {
        let prefix = &region[..prefix_len];
        let r = get(&app, &format!("/api/v1/regions/{region}/summary?year=2014")).await;
        let mut expected = json!({});
        let mut count = 0;
        let mut children: std::collections::BTreeMap<String, (i64, Value)> = Default::default();
        for (slug, year, code) in &made {
            if *year != 2014 || !code.starts_with(prefix) {
                continue;
            }
            count += 1;
            let s = figures_of(&get(&app, &format!("/api/v1/campaigns/{slug}/summary")).await);
            add(&mut expected, &s);
            let child = match prefix_len {
                2 => format!("{}00", &code[..4]),
                _ => code.clone(),
            };
            // The region's own weeks are in its total, under no child.
            if child != region {
                let entry = children.entry(child).or_insert((0, json!({})));
                entry.0 += 1;
                add(&mut entry.1, &s);
            }
        }
        assert_eq!(r["campaigns"], count, "{region}");
        assert_eq!(r["year"], 2014);
        let mut got = figures_of(&r);
        // Coverage is recomputed from the sums, never averaged.
        let (areas, reached) = (
            expected["coverage"]["areas"].as_i64().unwrap(),
            expected["coverage"]["reached"].as_i64().unwrap(),
        );
        let ratio = if areas == 0 {
            0.0
        } else {
            (reached as f64 / areas as f64 * 1000.0).round() / 1000.0
        };
        assert_eq!(
            got["coverage"]["ratio"].as_f64().unwrap(),
            ratio,
            "{region}"
        );
        for v in [&mut got, &mut expected] {
            v["coverage"].as_object_mut().unwrap().remove("ratio");
        }
        assert_eq!(
            got, expected,
            "{region}: the sums of its campaigns' summaries"
        );
        let listed: Vec<String> = r["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["region_code"].as_str().unwrap().to_string())
            .collect();
        if prefix_len == 6 {
            assert!(listed.is_empty(), "a county has no children");
        } else {
            assert_eq!(
                listed,
                children.keys().cloned().collect::<Vec<_>>(),
                "{region}"
            );
            for c in r["children"].as_array().unwrap() {
                let (n, sums) = &children[c["region_code"].as_str().unwrap()];
                assert_eq!(c["campaigns"], *n);
                assert_eq!(c["events"]["total"], sums["events"]["total"]);
                assert_eq!(c["participants"], sums["participants"]);
            }
        }
    }
    let empty = get(&app, "/api/v1/regions/110000/summary?year=2014").await;
    assert_eq!(empty["campaigns"], 0);
    assert_eq!(empty["children"], json!([]));
    app.get_problem("/api/v1/regions/4409/summary?year=2014", 404)
        .await;
    app.get_problem("/api/v1/regions/440900/summary", 400).await;
    let res = app
        .get("/api/v1/regions/440900/summary?year=1800")
        .send()
        .await;
    assert_eq!(res.error_fields(), ["year"]);
}

#[actix_web::test]
async fn region_codes_are_six_digits() {
    let app = TestApp::spawn().await;
    for bad in ["4409", "44098a", "4409811", ""] {
        let res = app
            .post("/api/v1/campaigns")
            .admin()
            .json(json!({"slug": "bad-code", "name": "x", "region_code": bad,
                         "starts_on": "2014-10-19", "ends_on": "2014-10-25"}))
            .send()
            .await;
        assert_eq!(res.error_fields(), ["region_code"], "{bad:?}");
    }
    let listed = app.get("/api/v1/campaigns?region_code=440900").send().await;
    assert_eq!(listed.status, 200);
    app.get_problem("/api/v1/campaigns?region_code=44", 422)
        .await;
}

/// `seed synthetic --year` (the national-scale benchmark's data) puts every campaign in one
/// year under Guangdong, each in a county of its own, so the province's summary sums them all.
#[actix_web::test]
async fn a_synthetic_national_year_lies_under_one_province() {
    let app = TestApp::spawn().await;
    let params = SyntheticParams {
        events: 240,
        tallies: 2400,
        campaigns: 120,
        year: Some(2031),
        seed: 11,
    };
    app.load_synthetic(params).await;
    let province = get(&app, "/api/v1/regions/440000/summary?year=2031").await;
    assert_eq!(province["campaigns"], 120);
    let children = province["children"].as_array().unwrap();
    assert_eq!(children.len(), 99, "one prefecture per code 4401..4499");
    let summed: u64 = children
        .iter()
        .map(|c| c["campaigns"].as_u64().unwrap())
        .sum();
    assert_eq!(summed, 120);
    let other_year = get(&app, "/api/v1/regions/440000/summary?year=2030").await;
    assert_eq!(other_year["campaigns"], 0);
}

/// Regions are summed from each campaign's figures, kept while that campaign is unchanged: a
/// tally added to one county's week shows in the province's sum (only that week is computed
/// again), and the sum still equals the county summaries.
#[actix_web::test]
async fn a_change_in_one_week_shows_in_its_region() {
    let app = TestApp::spawn().await;
    learnweek::seed::gaozhou::load(&app.state).await.unwrap();
    let _listener =
        learnweek::change_signal::spawn_listener(app.state.change_signal.clone(), app.db.url());
    eventually(Duration::from_secs(10), "listening", || async {
        app.state.change_signal.epoch().is_some()
    })
    .await;
    let path = "/api/v1/regions/440900/summary?year=2014";
    let headcount = |r: &Value| r["participants"]["events"]["headcount"].as_i64().unwrap();
    let before = headcount(&get(&app, path).await);
    assert_eq!(
        before,
        headcount(&get(&app, path).await),
        "kept while unchanged"
    );

    let campaign = get(&app, "/api/v1/campaigns/gaozhou-2014").await;
    let page = get(
        &app,
        &format!(
            "/api/v1/events?campaign_id={}&status=completed&limit=1",
            campaign["id"].as_str().unwrap()
        ),
    )
    .await;
    let event = &page["items"][0];
    let res = app
        .put("/api/v1/tallies")
        .admin()
        .json(json!({
            "event_id": event["id"], "category": "general", "measure": "headcount",
            "count": 1234, "tally_date": "2014-10-26", "reporting_unit_id": event["host_unit_id"],
        }))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    eventually(Duration::from_secs(10), "the region's new sum", || async {
        headcount(&get(&app, path).await) == before + 1234
    })
    .await;
}
