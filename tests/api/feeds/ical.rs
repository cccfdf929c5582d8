//! The iCalendar wire format: folding, CRLF, UTC, SEQUENCE and UID across edits, text that
//! could break a line, and calendar names that could forge one.

use icalendar::EventLike;
use serde_json::json;

use super::*;

#[actix_web::test]
async fn ics_lines_are_crlf_folded_at_75_octets_and_chinese_text_survives() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    // Long enough to fold several times, with 3-octet characters and a 4-octet one.
    let title = "高州市全民终身学习活动周：“学习让生活更美好”社区教育系列讲座之低碳生活、\
                 家庭教育与老年人智能手机应用培训（第一期）😀暨市民摄影大赛颁奖仪式";
    let description = "倡导家庭低碳生活; 现场发放购物竹篮, 减少塑料袋使用。\n\
                       第二行：反斜杠 \\ 与冒号: 都要原样保留。";
    let long = event(&campaign, host, title)
        .summary("市妇联在康泰华都小区组织活动")
        .description(description)
        .venue(json!({"name": "康泰华都小区", "address": "高州市潘州街道康泰华都小区广场"}))
        .area("潘州街道")
        .tags(["低碳生活", "社区教育, 家庭"]);
    let id = create(&app, long).await;
    // `SUMMARY:` plus 142 octets: a 150-octet line, where icalendar 0.17's own folding leaves a
    // 76-octet continuation line.
    let boundary = format!("2{}开幕", "全民终身学习活动周".repeat(5));
    assert_eq!(format!("SUMMARY:{boundary}").len(), 150);
    let boundary_id = create(&app, event(&campaign, host, &boundary)).await;
    let (res, calendar) = ics(&app, "").await;

    let body = res.text();
    assert!(body.ends_with("END:VCALENDAR\r\n"));
    let lines: Vec<&str> = body.strip_suffix("\r\n").unwrap().split("\r\n").collect();
    for line in &lines {
        let bare = line.contains('\n') || line.contains('\r');
        assert!(!bare, "bare line break: {line:?}");
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    let folded = lines.iter().filter(|l| l.starts_with(' ')).count();
    assert!(folded >= 3, "the long title should fold");

    // Unfolding gives back one logical line per property, the Chinese intact.
    let unfolded = icalendar::parser::unfold(&body);
    let mut logical = unfolded.split("\r\n");
    let summary_line = logical.find(|l| l.starts_with("SUMMARY:")).unwrap();
    assert_eq!(summary_line, format!("SUMMARY:{title}"));

    let boundary_summary = vevent(&calendar, boundary_id).get_summary();
    assert_eq!(boundary_summary, Some(boundary.as_str()));
    let e = vevent(&calendar, id);
    assert_eq!(e.get_summary(), Some(title));
    let full = format!("市妇联在康泰华都小区组织活动\n\n{description}");
    assert_eq!(e.get_description(), Some(full.as_str()));
    let location = "康泰华都小区, 高州市潘州街道康泰华都小区广场";
    assert_eq!(e.get_location(), Some(location));
    let categories = vec!["低碳生活".to_string(), "社区教育, 家庭".to_string()];
    assert_eq!(e.get_categories(), Some(categories));
    // UTC times.
    assert_eq!(e.property_value("DTSTART"), Some("20141019T010000Z"));
    assert_eq!(e.property_value("DTEND"), Some("20141019T033000Z"));
    assert!(e.property_value("DTSTAMP").unwrap().ends_with('Z'));
    assert!(e.property_value("LAST-MODIFIED").unwrap().ends_with('Z'));
}

#[actix_web::test]
async fn sequence_rises_with_each_edit_and_uid_stays() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    let id = create(&app, event(&campaign, host, "家庭教育讲座")).await;
    let (_, before) = ics(&app, "").await;
    let seq0 = vevent(&before, id).get_sequence().unwrap();
    let modified0 = vevent(&before, id).get_last_modified().unwrap();

    patch(&app, id, json!({"title": "家庭教育讲座（改期）"})).await;
    let moved = json!({"starts_at": "2014-10-21T09:00:00+08:00",
                       "ends_at": "2014-10-21T11:00:00+08:00"});
    patch(&app, id, moved).await;
    let (_, after) = ics(&app, "").await;
    assert_eq!(ics_ids(&after), BTreeSet::from([uid(id)]));
    let e = vevent(&after, id);
    assert_eq!(e.get_sequence(), Some(seq0 + 2));
    assert!(e.get_last_modified().unwrap() >= modified0);
    assert_eq!(e.get_summary(), Some("家庭教育讲座（改期）"));
    assert_eq!(e.property_value("DTSTART"), Some("20141021T010000Z"));

    // Cancelling keeps the event (same UID) with STATUS:CANCELLED and a higher SEQUENCE.
    patch(&app, id, json!({"status": "cancelled"})).await;
    let (_, cancelled) = ics(&app, "").await;
    let e = vevent(&cancelled, id);
    assert_eq!(e.get_status(), Some(icalendar::EventStatus::Cancelled));
    assert_eq!(e.get_sequence(), Some(seq0 + 3));

    // Atom and JSON Feed keep the same ids too.
    assert_eq!(ids_in_every_format(&app, "").await, spelled(&[id]));
    let feed = json_feed(&app, "").await;
    assert_eq!(feed["items"][0]["_learnweek"]["sequence"], seq0 + 3);
}

#[actix_web::test]
async fn control_characters_are_refused_and_markup_and_instant_events_make_valid_feeds() {
    let app = TestApp::spawn().await;
    let (campaign, host) = setup(&app).await;
    // Control characters (pasted from Excel) are refused: XML 1.0 and RFC 5545 cannot carry them.
    let res = event(&campaign, host, "开幕\u{0b}式")
        .send(&app, &app.admin)
        .await;
    assert_eq!(res.error_fields(), ["title"]);
    let markup = event(&campaign, host, "开幕式 <直播> & 录播")
        .description("第一行\r\n第二行")
        .ends_at("2014-10-19T09:00:00+08:00");
    let id = create(&app, markup).await;
    let (_, calendar) = ics(&app, "").await;
    let e = vevent(&calendar, id);
    assert_eq!(e.get_summary(), Some("开幕式 <直播> & 录播"));
    assert_eq!(e.get_description(), Some("第一行\n第二行"));
    // DTEND must be later than DTSTART (RFC 5545 3.8.2.2): an instant has none.
    assert_eq!(e.property_value("DTSTART"), Some("20141019T010000Z"));
    assert_eq!(e.property_value("DTEND"), None);

    let feed = atom(&app, "").await;
    assert_eq!(feed.entries()[0].title().as_str(), "开幕式 <直播> & 录播");
    let feed = json_feed(&app, "").await;
    assert_eq!(feed["items"][0]["title"], "开幕式 <直播> & 录播");
}

/// A campaign name stored before one-line fields refused line breaks cannot forge calendar
/// lines: it is escaped as TEXT.
#[actix_web::test]
async fn a_campaign_name_cannot_inject_calendar_lines() {
    let app = TestApp::spawn().await;
    let (campaign, _) = setup(&app).await;
    let name = "高州; 活动周, \\ x\nBEGIN:VEVENT\nUID:forged@learnweek\nSUMMARY:伪造\nEND:VEVENT";
    let mut conn = app.conn().await;
    diesel::sql_query("UPDATE campaigns SET name = $1 WHERE id = $2::uuid")
        .bind::<diesel::sql_types::Text, _>(name.replace('\n', "\r\n"))
        .bind::<diesel::sql_types::Text, _>(&campaign)
        .execute(&mut conn)
        .await
        .unwrap();
    let (res, calendar) = ics(&app, "").await;
    let text = res.text();
    assert_eq!(vevents(&calendar).len(), 0, "{text}");
    let forged = text.split("\r\n").any(|l| l.starts_with("BEGIN:VEVENT"));
    assert!(!forged, "{text}");
    assert_eq!(calendar.property_value("X-WR-CALNAME"), Some(name));
    let escaped = calendar.property_value("NAME").unwrap();
    assert!(escaped.starts_with("高州\\; 活动周\\, \\\\ x\\nBEGIN:VEVENT"));
}
