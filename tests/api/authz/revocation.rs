//! Tokens that lose their power: revoked or expired.

use chrono::{Duration, Utc};
use serde_json::json;

use super::event_input;
use crate::common::{Role, TestApp, eventually, uuid};

/// A revoked or expired token gets 401 on its next request, whatever it is: also when it
/// repeats a write it made with an `Idempotency-Key` (the stored answer is not replayed).
#[actix_web::test]
async fn revoked_and_expired_tokens_cannot_replay_their_writes() {
    let app = TestApp::spawn().await;
    let a = app.unit("甲单位：高州市教育局").await;
    let campaign = uuid(&app.campaign("authz-replay").await);
    let token = json!({"name": "editor-script", "role": "editor", "unit_id": a});
    let minted = app.create("/api/v1/tokens", &app.admin, token).await;
    let (revoked_id, revoked) = (uuid(&minted), minted["token"].as_str().unwrap().to_string());
    let expiring = app
        .token_expiring(Role::Editor, Some(a), Utc::now() + Duration::seconds(2))
        .await;
    let post = |token: &str, key: &str| {
        app.post("/api/v1/events")
            .bearer(token)
            .header("Idempotency-Key", key)
            .json(event_input(campaign, a).json())
            .send()
    };
    for (token, key) in [(&revoked, "replay-revoked"), (&expiring, "replay-expired")] {
        assert_eq!(post(token, key).await.status, 201);
        let replay = post(token, key).await;
        assert_eq!(replay.status, 201, "{}", replay.text());
        let replayed = replay.header("idempotent-replayed");
        assert_eq!(replayed.as_deref(), Some("true"));
    }

    let path = format!("/api/v1/tokens/{revoked_id}");
    assert_eq!(app.delete(&path).admin().send().await.status, 204);
    // Revocation holds at once; expiry comes with the clock.
    let me = || async { app.get("/api/v1/auth/me").bearer(&expiring).send().await };
    let five_seconds = std::time::Duration::from_secs(5);
    eventually(five_seconds, "the token expires", || async {
        me().await.status == 401
    })
    .await;

    for (token, key, why) in [
        (&revoked, "replay-revoked", "revoked"),
        (&expiring, "replay-expired", "expired"),
    ] {
        let res = post(token, key).await;
        let p = res.problem(401);
        assert!(p["detail"].as_str().unwrap().contains(why), "{p}");
        assert!(res.header("idempotent-replayed").is_none());
    }
}
