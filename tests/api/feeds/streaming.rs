//! Feeds too big to render in memory are streamed from one snapshot.

use diesel::sql_types::BigInt;

use super::*;
use crate::common::SyntheticParams;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A campaign big enough that its feeds are streamed (over 1 MiB each): every public event
/// comes once, in order, in documents that parse; the validators still answer 304.
#[actix_web::test]
async fn big_feeds_are_streamed_whole() {
    let app = TestApp::spawn().await;
    let params = SyntheticParams {
        events: 5000,
        tallies: 0,
        campaigns: 1,
        year: None,
        seed: 7,
    };
    app.load_synthetic(params).await;
    age_the_change_log(&app).await;
    let slug = "synthetic-7-1";
    let mut conn = app.conn().await;
    let public =
        "SELECT count(*) AS n FROM events WHERE visibility = 'public' AND status <> 'draft'";
    let count = diesel::sql_query(public)
        .get_result::<Count>(&mut conn)
        .await;
    let expected = count.unwrap().n as usize;
    assert!(expected > 4000, "{expected}");

    let get = |file: &str| app.get(&format!("/api/v1/feeds/{slug}/{file}")).send();
    let res = get("events.ics").await;
    assert_eq!(res.status, 200);
    assert!(res.body.len() > 1 << 20, "{}", res.body.len());
    assert_eq!(res.header("content-length"), None, "streamed");
    let calendar: icalendar::Calendar = res.text().parse().expect("parse the iCalendar feed");
    assert_eq!(vevents(&calendar).len(), expected);
    assert_eq!(ics_ids(&calendar).len(), expected);
    assert!(res.text().ends_with("END:VCALENDAR\r\n"));
    for (name, value) in [
        ("If-None-Match", res.header("etag").unwrap()),
        ("If-Modified-Since", res.header("last-modified").unwrap()),
    ] {
        let path = format!("/api/v1/feeds/{slug}/events.ics");
        let again = app.get(&path).header(name, &value).send().await;
        assert_eq!(again.status, 304, "{name}");
    }

    let res = get("events.json").await;
    assert_eq!(res.header("content-length"), None, "streamed");
    let items = res.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), expected);
    let starts: Vec<&str> = items
        .iter()
        .map(|i| i["_learnweek"]["starts_at"].as_str().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "in start order");
    let ids: BTreeSet<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), expected);

    let res = get("events.atom").await;
    assert_eq!(res.header("content-length"), None, "streamed");
    let feed = atom_syndication::Feed::read_from(&res.body[..]).expect("parse the Atom feed");
    assert_eq!(atom_ids(&feed).len(), expected);

    // A slice small enough is sent whole.
    let res = get("events.ics?kind=meeting").await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-length").is_some());
}
