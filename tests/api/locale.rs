//! Localized problem details: `Accept-Language: zh*` gives `title`, `detail` and
//! `errors[].message` in Simplified Chinese with `Content-Language: zh-CN`; everything else
//! in a problem stays as it is in English.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{EventBuilder, Req, Resp, Role, TestApp, id_of};

fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Sends `req` once in English (no `Accept-Language`) and once asking for `language`.
async fn both<'a>(make: impl Fn() -> Req<'a>, language: &str) -> (Resp, Resp) {
    let english = make().send().await;
    let chinese = make().header("Accept-Language", language).send().await;
    (english, chinese)
}

/// Asserts that `zh` is the Chinese version of the problem `en`: same status, type, fields
/// and truncation; every text translated; the headers say so.
#[track_caller]
fn assert_translated(en: &Resp, zh: &Resp, status: u16) -> (Value, Value) {
    let e = en.problem(status);
    let z = zh.problem(status);
    assert_eq!(en.header("content-language").as_deref(), Some("en"));
    assert_eq!(zh.header("content-language").as_deref(), Some("zh-CN"));
    for res in [en, zh] {
        let vary = res.header("vary").unwrap_or_default();
        assert!(vary.ends_with(", Accept-Language"), "{vary}");
    }
    assert_eq!(z["type"], e["type"]);
    assert_eq!(z["status"], e["status"]);
    assert_eq!(z["errors_truncated"], e["errors_truncated"]);
    assert!(!has_cjk(e["title"].as_str().unwrap()), "{e}");
    assert!(!has_cjk(e["detail"].as_str().unwrap()), "{e}");
    assert!(has_cjk(z["title"].as_str().unwrap()), "{z}");
    assert!(has_cjk(z["detail"].as_str().unwrap()), "{z}");
    let fields = |p: &Value| -> Vec<Value> {
        p["errors"]
            .as_array()
            .map(|errors| errors.iter().map(|x| x["field"].clone()).collect())
            .unwrap_or_default()
    };
    assert_eq!(fields(&z), fields(&e));
    for error in z["errors"].as_array().into_iter().flatten() {
        let message = error["message"].as_str().unwrap();
        assert!(has_cjk(message), "untranslated: {error}");
    }
    (e, z)
}

#[actix_web::test]
async fn not_found_in_chinese_or_english() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/units/{}", Uuid::now_v7());
    let (en, zh) = both(|| app.get(&path), "zh-CN").await;
    let (e, z) = assert_translated(&en, &zh, 404);
    assert_eq!(e["title"], "Not Found");
    assert_eq!(e["detail"], "no such resource");
    assert_eq!(z["title"], "资源不存在");
    assert_eq!(z["detail"], "资源不存在");
    assert_eq!(z["type"], "urn:learnweek:problem:not-found");
    // Other problem members and headers are untouched.
    assert!(zh.header("x-request-id").is_some());
    assert_eq!(
        zh.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

#[actix_web::test]
async fn validation_messages_are_translated_field_by_field() {
    let app = TestApp::spawn().await;
    let (en, zh) = both(
        || {
            app.post("/api/v1/units")
                .admin()
                .json(json!({"name": "", "kind": "robot"}))
        },
        "zh-CN",
    )
    .await;
    let (_, z) = assert_translated(&en, &zh, 422);
    assert_eq!(z["title"], "校验未通过");
    let message = z["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("未知取值 `robot`"), "{message}");

    // Field checks (not serde): blank name.
    let (en, zh) = both(
        || {
            app.post("/api/v1/units")
                .admin()
                .json(json!({"name": " ", "kind": "school"}))
        },
        "zh",
    )
    .await;
    let (_, z) = assert_translated(&en, &zh, 422);
    assert_eq!(
        z["errors"],
        json!([{"field": "name", "message": "不能为空"}])
    );
}

#[actix_web::test]
async fn a_bad_tally_batch_is_explained_in_chinese_row_by_row() {
    let app = TestApp::spawn().await;
    let campaign = app.campaign("locale-2014").await;
    let unit = app.unit("高州市教育局").await;
    let event = EventBuilder::new(id_of(&campaign), unit)
        .title("全民终身学习活动周开幕式")
        .kind("opening_ceremony")
        .at("2014-10-19T01:00:00Z", "2014-10-19T03:00:00Z")
        .insert(&app)
        .await;
    let reporter = app.token(Role::Reporter, Some(unit)).await;
    let items = json!([
        {"event_id": event["id"], "category": "robot", "measure": "headcount", "count": -1,
         "tally_date": "2014-10-19"},
        {"event_id": "not-an-id", "category": "student", "measure": "headcount", "count": "x",
         "tally_date": "2014-02-30", "extra": 1},
        {"category": "student"},
        5,
        {"event_id": event["id"], "category": "student", "measure": "person_times",
         "count": 12, "tally_date": "2014-10-20", "note": null, "source": 3},
        {"event_id": event["id"], "category": "student", "measure": "headcount", "count": 3,
         "tally_date": "2014-10-21"},
        {"event_id": event["id"], "category": "student", "measure": "headcount", "count": 4,
         "tally_date": "2014-10-21"},
    ]);
    let (en, zh) = both(
        || {
            app.post("/api/v1/tallies/batch")
                .bearer(&reporter)
                .json(json!({"items": items}))
        },
        "zh-CN",
    )
    .await;
    let (e, z) = assert_translated(&en, &zh, 422);
    let errors = z["errors"].as_array().unwrap();
    assert!(errors.len() >= 10, "{e}");
    let message = |field: &str| -> String {
        errors
            .iter()
            .find(|x| x["field"] == field)
            .unwrap_or_else(|| panic!("no {field} in {z}"))["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(message("items[0].count"), "不能为负数");
    assert!(message("items[0].category").starts_with("未知取值 `robot`"));
    assert_eq!(
        message("items[1].event_id"),
        "`not-an-id` 不是有效的 ID（UUID）"
    );
    assert_eq!(message("items[1].count"), "须为整数，而不是字符串");
    assert_eq!(
        message("items[1].tally_date"),
        "`2014-02-30` 不是有效日期（格式如 2014-10-19）"
    );
    assert_eq!(message("items[1].extra"), "未知字段");
    assert_eq!(message("items[2].measure"), "为必填项");
    assert_eq!(message("items[3]"), "须为人数统计对象，而不是数字");
    assert_eq!(message("items[4].source"), "须为字符串，而不是数字");
    assert_eq!(
        message("items[6].category"),
        "与 items[5] 的活动或培训、类别、口径、日期和填报单位均相同"
    );
}

#[actix_web::test]
async fn auth_role_method_and_rate_limit_problems_are_translated() {
    let app = TestApp::spawn_with(|c| c.login_rate_per_minute = 1).await;

    // 401 without a token.
    let (en, zh) = both(
        || {
            app.post("/api/v1/units")
                .json(json!({"name": "高州市图书馆", "kind": "other"}))
        },
        "zh-CN",
    )
    .await;
    let (_, z) = assert_translated(&en, &zh, 401);
    assert_eq!(z["title"], "未认证");
    assert_eq!(z["detail"], "此操作需要提供 Bearer 令牌");
    assert!(zh.header("www-authenticate").unwrap().starts_with("Bearer"));

    // 403 for a role that may not write units: role and noun translated too.
    let unit = app.unit("高州市妇女联合会").await;
    let reporter = app.token(Role::Reporter, Some(unit)).await;
    let (en, zh) = both(
        || {
            app.post("/api/v1/units")
                .bearer(&reporter)
                .json(json!({"name": "高州市图书馆", "kind": "other"}))
        },
        "zh-CN",
    )
    .await;
    let (_, z) = assert_translated(&en, &zh, 403);
    assert_eq!(z["title"], "无权执行此操作");
    assert_eq!(z["detail"], "填报员（reporter）角色无权写入单位");

    // 405 on a known path.
    let (en, zh) = both(
        || app.req(actix_web::http::Method::PUT, "/api/v1/units"),
        "zh-CN",
    )
    .await;
    let (_, z) = assert_translated(&en, &zh, 405);
    assert_eq!(z["title"], "不支持该请求方法");
    assert_eq!(zh.header("allow"), en.header("allow"));

    // 429 from the rate limiter (a middleware, not a handler): one login a minute.
    let login = || {
        app.post("/api/v1/auth/token")
            .json(json!({"username": "nobody", "password": "not-a-password"}))
    };
    login().send().await.problem(401);
    let (en, zh) = both(login, "zh-CN").await;
    let (_, z) = assert_translated(&en, &zh, 429);
    assert_eq!(z["title"], "请求过于频繁");
    assert!(zh.header("retry-after").is_some());
}

#[actix_web::test]
async fn the_preferred_language_decides() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/units/{}", Uuid::now_v7());
    let title = |res: &Resp| res.problem(404)["title"].as_str().unwrap().to_string();
    for (accept, chinese) in [
        ("en-US,zh;q=0.5", false),
        ("zh-CN,zh;q=0.9,en;q=0.8", true),
        ("fr", false),
        ("zh;q=0", false),
        // Traditional Chinese readers get Simplified Chinese: it is the only Chinese we have.
        ("zh-TW", true),
        ("zh-Hans", true),
    ] {
        let res = app
            .get(&path)
            .header("Accept-Language", accept)
            .send()
            .await;
        let (language, expected) = if chinese {
            ("zh-CN", "资源不存在")
        } else {
            ("en", "Not Found")
        };
        assert_eq!(title(&res), expected, "{accept}");
        assert_eq!(res.header("content-language").as_deref(), Some(language));
    }
}

#[actix_web::test]
async fn other_responses_are_left_alone() {
    let app = TestApp::spawn().await;
    let res = app
        .get("/api/v1/units")
        .header("Accept-Language", "zh-CN")
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-language"), None);
    assert!(
        !res.header("vary")
            .unwrap_or_default()
            .contains("Accept-Language")
    );
    // A problem keeps the `Vary` of CORS beside ours.
    let res = app
        .get(&format!("/api/v1/units/{}", Uuid::now_v7()))
        .header("Origin", "https://frontend.example")
        .header("Accept-Language", "zh-CN")
        .send()
        .await;
    res.problem(404);
    assert_eq!(
        res.header("vary").as_deref(),
        Some(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Accept-Language"
        )
    );
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("https://frontend.example")
    );
}

#[actix_web::test]
async fn a_stored_refusal_replays_in_the_language_asked_for() {
    let app = TestApp::spawn().await;
    let send = |language: Option<&str>| {
        let req = app
            .post("/api/v1/units")
            .admin()
            .header("Idempotency-Key", "bad-unit-1")
            .json(json!({"name": "", "kind": "school"}));
        match language {
            Some(language) => req.header("Accept-Language", language),
            None => req,
        }
    };
    // Kept in English (the language is chosen on the way out), replayed in either.
    let first = send(Some("zh-CN")).send().await;
    assert_eq!(first.problem(422)["errors"][0]["message"], "不能为空");
    let en = send(None).send().await;
    let zh = send(Some("zh-CN")).send().await;
    for res in [&en, &zh] {
        assert_eq!(res.header("idempotent-replayed").as_deref(), Some("true"));
    }
    let (e, z) = assert_translated(&en, &zh, 422);
    assert_eq!(e["errors"][0]["message"], "must not be blank");
    assert_eq!(z["errors"][0]["message"], "不能为空");
}
