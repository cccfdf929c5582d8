use super::*;

fn has_cjk(text: &str) -> bool {
    text.chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3000}'..='\u{303f}').contains(&c))
}

fn zh(text: &str) -> String {
    to_chinese(text).into_owned()
}

#[test]
fn every_entry_is_well_formed() {
    let mut seen = std::collections::HashSet::new();
    let mut count = 0;
    for &(english, chinese) in entries() {
        count += 1;
        assert!(seen.insert(english), "listed twice: {english:?}");
        assert!(has_cjk(chinese), "no Chinese in {chinese:?}");
        let en = parse_template(english).unwrap_or_else(|| panic!("bad template {english:?}"));
        let cn = parse_template(chinese).unwrap_or_else(|| panic!("bad template {chinese:?}"));
        let holes: Vec<Hole> = en
            .iter()
            .filter_map(|p| match p {
                Part::Hole(h) => Some(*h),
                Part::Index(_) => panic!("{english:?}: positions belong in the Chinese text"),
                Part::Literal(_) => None,
            })
            .collect();
        for pair in en.windows(2) {
            assert!(
                matches!(pair[0], Part::Literal(_)) || matches!(pair[1], Part::Literal(_)),
                "{english:?}: two placeholders side by side cannot be told apart"
            );
        }
        // Every capture is put back exactly once: a translation never drops text.
        let mut used = vec![0; holes.len()];
        let mut next = 0;
        for part in &cn {
            let i = match part {
                Part::Hole(_) => {
                    next += 1;
                    next - 1
                }
                Part::Index(i) => *i,
                Part::Literal(_) => continue,
            };
            assert!(
                i < holes.len(),
                "{chinese:?} uses a capture {english:?} lacks"
            );
            used[i] += 1;
        }
        assert!(
            used.iter().all(|n| *n == 1),
            "{chinese:?} must use each capture of {english:?} once"
        );
    }
    // Every pattern made it into the catalog.
    let built = catalog();
    assert_eq!(built.exact.len() + built.patterns.len(), count);
}

#[test]
fn exact_texts() {
    assert_eq!(zh("must not be blank"), "不能为空");
    assert_eq!(zh("no such unit"), "单位不存在");
    assert_eq!(zh("Not Found"), "资源不存在");
    assert_eq!(zh("Unprocessable Content"), "校验未通过");
    assert_eq!(zh("expected `,` or `}`"), "此处应为 `,` 或 `}`");
    assert_eq!(
        zh("text must not contain NUL (\\u0000) characters"),
        "文本不能包含 NUL（\\u0000）字符"
    );
}

#[test]
fn dynamic_parts_are_put_back() {
    let cases = [
        ("must be at most 200 characters", "不能超过 200 个字符"),
        ("must be between 1 and 200", "须在 1 至 200 之间"),
        ("must be between 0 and enrolled", "须在 0 至 enrolled 之间"),
        ("must not be before starts_on", "不能早于 starts_on"),
        ("line 4: `abc` is not an id", "第 4 行：`abc` 不是有效的 ID"),
        (
            "line 7: unknown category `robot`",
            "第 7 行：未知类别 `robot`",
        ),
        ("line 3: count is required", "第 3 行：count 为必填项"),
        (
            "line 5: `某某局` no such unit",
            "第 5 行：单位 `某某局` 不存在",
        ),
        ("at most 5000 tallies per batch", "每批最多 5000 条人数统计"),
        (
            "invalid type: integer `5`, expected a string",
            "类型错误：收到整数 `5`，应为字符串",
        ),
        (
            "invalid type: null, expected i32",
            "类型错误：收到空值（null），应为整数",
        ),
        (
            "unknown field `x`, expected one of `name`, `short_name`, `kind`",
            "未知字段 `x`，应为以下之一：`name`, `short_name`, `kind`",
        ),
        (
            "unknown field `x`, expected `a` or `b`",
            "未知字段 `x`，应为`a` 或 `b`",
        ),
        (
            "unknown variant `robot`, expected one of `school`, `other`",
            "未知取值 `robot`，应为以下之一：`school`, `other`",
        ),
        ("missing field `kind`", "缺少字段 `kind`"),
        (
            "must be a whole number, not a string",
            "须为整数，而不是字符串",
        ),
        (
            "must be an id (a UUID string), not a number",
            "须为ID（UUID 字符串），而不是数字",
        ),
        (
            "must be a tally object, not null",
            "须为人数统计对象，而不是空值（null）",
        ),
        (
            "the reporter role may not write events",
            "填报员（reporter）角色无权写入活动",
        ),
        (
            "committee members of other units are not yours to write",
            "无权写入其他单位的组委会成员",
        ),
        (
            "same subject, category, measure, date and unit as items[2]",
            "与 items[2] 的活动或培训、类别、口径、日期和填报单位均相同",
        ),
        (
            "malformed query string: invalid digit found in string",
            "查询字符串格式错误：含有无效的数字字符",
        ),
        (
            "UUID parsing failed: invalid character: found `x` at 1",
            "UUID 解析失败：位置 1 处的字符 `x` 无效",
        ),
        (
            "this resource answers GET, POST",
            "该资源仅支持以下请求方法：GET, POST",
        ),
        (
            "host `example.invalid` does not resolve",
            "无法解析主机 `example.invalid`",
        ),
        (
            "invalid type: integer `5`, expected an object {\"items\": [...]}",
            "类型错误：收到整数 `5`，应为对象 {\"items\": [...]}",
        ),
    ];
    for (english, chinese) in cases {
        assert_eq!(zh(english), chinese, "{english}");
    }
}

#[test]
fn unknown_texts_stay_english() {
    assert_eq!(zh("something new"), "something new");
    assert_eq!(zh(""), "");
    // A known frame with an unknown inside: the frame is translated, the rest kept.
    assert_eq!(zh("line 2: it is odd"), "第 2 行：it is odd");
    // A number placeholder takes numbers only.
    assert_eq!(zh("at most many units"), "at most many units");
}

#[test]
fn client_values_are_not_translated() {
    // The value a client sent stays as sent, even when it reads like a known text.
    assert_eq!(zh("unknown category `events`"), "未知类别 `events`");
    assert_eq!(
        zh("line 1: `no such unit` is not an id"),
        "第 1 行：`no such unit` 不是有效的 ID"
    );
}

#[test]
fn long_hostile_values_are_cheap() {
    let value = ", expected ".repeat(20_000);
    let text = format!("invalid type: string \"{value}\", expected i32");
    let started = std::time::Instant::now();
    let out = zh(&text);
    assert!(out.starts_with("类型错误："), "{}", &out[..40]);
    let text = format!("line 1: {}", "line 1: ".repeat(20_000));
    let _ = zh(&text);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn accept_language() {
    for chinese in [
        "zh-CN",
        "zh",
        "zh-Hans",
        // Traditional Chinese readers get Simplified: the catalog has no other Chinese.
        "zh-TW",
        "ZH-cn",
        "zh-CN,zh;q=0.9,en;q=0.8",
        "en;q=0.5, zh",
        "fr, zh;q=0.3",
        "zh, en",
        "zh;q=0.500,en;q=0.5,de",
    ] {
        assert!(prefers_chinese(chinese), "{chinese}");
    }
    for english in [
        "",
        "en",
        "en-US,zh;q=0.5",
        "en, zh",
        "*",
        "fr",
        "zh;q=0",
        "zh;q=0.000",
        "zh;q=2",
        "zh;q=abc",
        "zhx",
        "en-GB;q=0.9, zh-CN;q=0.9",
        "en;q=0.5,zh;q=0.500,de",
    ] {
        assert!(!prefers_chinese(english), "{english}");
    }
}

/// The texts serde, serde_json, uuid, chrono and std produce with the versions in Cargo.lock,
/// as clients get them (through the JSON body reader and the query string extractor): each
/// translates entirely, no English frame left.
#[test]
fn what_the_libraries_say_is_translated() {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        n: Option<i32>,
        flag: Option<bool>,
        id: Option<uuid::Uuid>,
        day: Option<chrono::NaiveDate>,
        at: Option<chrono::DateTime<chrono::Utc>>,
        kind: Option<crate::api::units::UnitKind>,
        items: Option<Vec<i32>>,
        name: Option<String>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Required {
        name: String,
    }
    let mut texts = Vec::new();
    let mut collect = |e: crate::error::AppError| {
        let problem = e.problem();
        texts.push(problem.detail);
        texts.extend(problem.errors.into_iter().map(|e| e.message));
    };
    for body in [
        r#"{"n": "x"}"#,
        r#"{"n": 1.5}"#,
        r#"{"n": 3000000000}"#,
        r#"{"n": null, "flag": "yes"}"#,
        r#"{"id": "abc"}"#,
        r#"{"id": "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"}"#,
        r#"{"id": "0193c0de-0000-7000-8000-00000000000"}"#,
        r#"{"day": "2014-02-30"}"#,
        r#"{"day": "x"}"#,
        r#"{"day": 20141019}"#,
        r#"{"at": "2014-10-19"}"#,
        r#"{"at": "2014-10-19T08:00:00Zx"}"#,
        r#"{"kind": "robot"}"#,
        r#"{"kind": 5}"#,
        r#"{"items": {}}"#,
        r#"{"items": [true]}"#,
        r#"{"name": ["a"]}"#,
        r#"{"x": 1}"#,
        r#"{"n": 1"#,
        r#"{"n": 1} x"#,
        r#"{"n": tru}"#,
        r#"{"n": 1,}"#,
        r#"{"n" 1}"#,
        "{\"name\": \"a\u{1}b\"}",
        r#"{"name": "\x"}"#,
        r#"{"n": 1e999}"#,
        r#"[1, 2"#,
        "",
    ] {
        if let Err(e) = crate::http::body::parse_json::<Body>(body.as_bytes()) {
            collect(e);
        }
    }
    if let Err(e) = crate::http::body::parse_json::<Required>(b"{}") {
        collect(e);
    }
    for query in [
        "n=abc",
        "n=",
        "n=99999999999",
        "flag=maybe",
        "kind=robot",
        "id=1",
    ] {
        if let Err(e) = serde_urlencoded::from_str::<Body>(query) {
            texts.push(format!("malformed query string: {e}"));
        }
    }
    assert!(texts.len() > 30, "{texts:?}");
    let english = [
        "expected", "invalid", "unknown", "missing", "while", "input", "parsing",
    ];
    for text in texts {
        let zh = zh(&text);
        assert!(
            has_cjk(&zh) && !english.iter().any(|w| zh.contains(w)),
            "{text:?} became {zh:?}"
        );
    }
}
