//! Test harness: a real PostgreSQL (TEST_DATABASE_URL, or the same embedded cluster `serve`
//! uses), a migrated template database cloned per test ([`db`]), the real app served over
//! real HTTP on a free port ([`app`]), and builders for the request bodies ([`builders`]).
//! Tokens are minted through the real token table.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

mod app;
mod builders;
mod db;
pub mod replica;
mod snapshot;

use std::collections::HashMap;
use std::time::Duration;

pub use actix_web::http::Method;
use serde_json::Value;
use uuid::Uuid;

pub use app::*;
pub use builders::*;
pub use db::{database_url, dbname_of, empty_database, fresh_database};
pub use snapshot::assert_redacted_snapshot;

/// Merges `fields` into `base` (a fixture with a few changes).
pub fn with(mut base: Value, fields: Value) -> Value {
    for (k, v) in fields.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// `pairs` as a URL query string.
pub fn qs(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

pub fn id_of(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

/// The `id` of a resource, as a UUID.
pub fn uuid(v: &Value) -> Uuid {
    id_of(v).parse().unwrap()
}

/// The items of a list page.
pub fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap()
}

/// The `field` of every item of a list page.
pub fn pluck(page: &Value, field: &str) -> Vec<String> {
    items(page)
        .iter()
        .map(|e| e[field].as_str().unwrap().to_string())
        .collect()
}

/// The `title` of every item of a list page.
pub fn titles(page: &Value) -> Vec<String> {
    pluck(page, "title")
}

/// A query of a list (`(name, value)` pairs) and the titles it must list, in order.
pub type ListCase<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>);

/// Asserts that `actual` has every field of `expected` with the value given there.
#[track_caller]
pub fn assert_fields(actual: &Value, expected: Value) {
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&actual[field], value, "{field} of {actual}");
    }
}

impl TestApp {
    /// Asserts what anonymous callers see of the items `ids` (title → id) of `collection`:
    /// only those titled in `public`, in lists (even when filtering for drafts or internal
    /// ones) and one by one; a token of the unit (`token`) sees them all.
    pub async fn assert_only_public_for_anonymous(
        &self,
        collection: &str,
        ids: &HashMap<&str, String>,
        public: &[&str],
        token: &str,
    ) {
        let mut anonymous = self.list_titles(collection, None, &[]).await;
        anonymous.sort();
        let mut expected = public.to_vec();
        expected.sort();
        assert_eq!(anonymous, expected);
        for hidden in [("status", "draft"), ("visibility", "internal")] {
            let titles = self.list_titles(collection, None, &[hidden]).await;
            assert!(titles.is_empty(), "{hidden:?}: {titles:?}");
        }
        let all = self.list_titles(collection, Some(token), &[]).await;
        assert_eq!(all.len(), ids.len());
        for (title, id) in ids {
            let path = format!("{collection}/{id}");
            if public.contains(title) {
                assert_eq!(self.get(&path).send().await.status, 200, "{title}");
            } else {
                self.get_problem(&path, 404).await;
                assert_eq!(self.read(&path, Some(token)).await["title"], *title);
            }
        }
    }

    /// Asserts, for each case, the titles `GET collection?<pairs>` lists for the admin.
    pub async fn assert_lists(&self, collection: &str, cases: Vec<ListCase<'_>>) {
        for (pairs, expected) in cases {
            let titles = self
                .list_titles(collection, Some(&self.admin), &pairs)
                .await;
            assert_eq!(titles, expected, "{collection} {pairs:?}");
        }
    }

    /// Changes the item found with `?q=<q>` by `patch`; asserts that `updated_since` a moment
    /// before lists only that item.
    pub async fn assert_updated_since(&self, collection: &str, q: &str, patch: Value) {
        let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let found = self
            .admin_read(&format!("{collection}?{}", qs(&[("q", q)])))
            .await;
        let item = &items(&found)[0];
        let path = format!("{collection}/{}", id_of(item));
        self.expect(200, &self.admin, vec![(Method::PATCH, &path, patch)])
            .await;
        let changed = [("updated_since", since.as_str())];
        let titles = self
            .list_titles(collection, Some(&self.admin), &changed)
            .await;
        assert_eq!(titles, [item["title"].as_str().unwrap()]);
    }

    /// The titles of `GET <path>?<pairs>`, with a token or anonymously; asserts 200.
    pub async fn list_titles(
        &self,
        path: &str,
        token: Option<&str>,
        pairs: &[(&str, &str)],
    ) -> Vec<String> {
        titles(&self.read(&format!("{path}?{}", qs(pairs)), token).await)
    }

    /// Follows `next_cursor` from `path` (which has a `limit`), asserting the `Link` header on
    /// every page but the last; returns the titles of all pages and how many pages there were.
    pub async fn all_pages(&self, path: &str, token: Option<&str>) -> (Vec<String>, usize) {
        let (mut seen, mut pages, mut next) = (Vec::new(), 0, path.to_string());
        loop {
            let mut req = self.get(&next);
            if let Some(token) = token {
                req = req.bearer(token);
            }
            let res = req.send().await;
            let page = res.ok(200);
            seen.extend(titles(&page));
            pages += 1;
            let Some(cursor) = page["next_cursor"].as_str() else {
                assert!(res.header("link").is_none(), "{next}");
                return (seen, pages);
            };
            assert!(res.header("link").unwrap().contains("rel=\"next\""));
            next = format!("{path}&cursor={cursor}");
        }
    }
}

/// A fresh app with the campaign `gaozhou-2014` and a unit for each name: (app, campaign id,
/// unit ids).
pub async fn gaozhou_week<const N: usize>(units: [&str; N]) -> (TestApp, String, [Uuid; N]) {
    let app = TestApp::spawn().await;
    let campaign = id_of(&app.campaign("gaozhou-2014").await).to_string();
    let mut ids = [Uuid::nil(); N];
    for (id, name) in ids.iter_mut().zip(units) {
        *id = app.unit(name).await;
    }
    (app, campaign, ids)
}

/// Polls `check` until it returns true or `timeout` passes (for effects that happen in the
/// background, like webhook deliveries). Fails the test on timeout.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The claims of a JWT, read without checking it (to compare with what the API says).
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
