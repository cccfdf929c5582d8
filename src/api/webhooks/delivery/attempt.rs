//! One delivery attempt: sign, POST, record the outcome (cursor moved on, retry scheduled by
//! backoff, or disabled).

use std::time::Instant;

use actix_web::web;
use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use hmac::{KeyInit, Mac};
use serde::Serialize;

use super::HTTP_TIMEOUT;
use super::claim::Claimed;
use crate::api::changes::ChangeRow;
use crate::api::crud::{Lock, Stored};
use crate::api::webhooks::ssrf::GuardedResolver;
use crate::api::webhooks::{Webhook, decode_secret};
use crate::auth::policy::Authorized;
use crate::error::{AppError, AppResult};
use crate::http::Cursor;
use crate::journal::{self, Entry};
use crate::schema::{changes, webhook_deliveries, webhook_subscriptions};
use crate::state::AppState;

/// Retries stop (and the subscription is disabled) after failing this long.
pub const RETRY_WINDOW: chrono::Duration = chrono::Duration::days(3);
const MAX_BACKOFF: chrono::Duration = chrono::Duration::hours(6);

pub fn client(allow_private: bool) -> awc::Client {
    // rustls needs a process-wide crypto provider; installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let resolver = actix_tls::connect::Resolver::custom(GuardedResolver { allow_private });
    let connector = awc::Connector::new()
        .connector(actix_tls::connect::Connector::new(resolver).service())
        .timeout(HTTP_TIMEOUT);
    awc::Client::builder()
        .connector(connector)
        .timeout(HTTP_TIMEOUT)
        .disable_redirects()
        .add_default_header((
            "User-Agent",
            concat!("learnweek-webhooks/", env!("CARGO_PKG_VERSION")),
        ))
        .finish()
}

/// The JSON body of a delivery: ids, not payloads.
#[derive(Serialize)]
struct Message<'a> {
    #[serde(rename = "type")]
    entity_type: &'a str,
    id: uuid::Uuid,
    op: &'a str,
    at: DateTime<Utc>,
    cursor: String,
}

/// Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
pub fn sign(key: &[u8], message_id: &str, timestamp: i64, body: &[u8]) -> AppResult<String> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).map_err(AppError::internal)?;
    mac.update(format!("{message_id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Delivers the next change of a subscription this worker has leased.
pub async fn deliver(
    state: web::Data<AppState>,
    client: awc::Client,
    claimed: Claimed,
) -> AppResult<()> {
    let Claimed {
        webhook: sub,
        leased_until: lease,
    } = claimed;
    let change: ChangeRow = changes::table
        .select(ChangeRow::as_select())
        .filter(changes::seq.gt(sub.cursor))
        .filter(changes::type_.eq_any(&sub.types))
        .order(changes::seq)
        .first(&mut state.conn().await?)
        .await?;

    let message_id = format!("msg_{}", change.seq);
    let body = serde_json::to_vec(&Message {
        entity_type: &change.type_,
        id: change.entity_id,
        op: &change.op,
        at: change.at,
        cursor: Cursor::by_seq(change.seq).encode(),
    })
    .map_err(AppError::internal)?;
    let key = decode_secret(&sub.secret)
        .ok_or_else(|| AppError::internal("stored webhook secret is malformed"))?;
    let timestamp = Utc::now().timestamp();
    let signature = sign(&key, &message_id, timestamp, &body)?;

    let started = Instant::now();
    let answer = client
        .post(&sub.url)
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("webhook-id", message_id.as_str()))
        .insert_header(("webhook-timestamp", timestamp.to_string()))
        .insert_header(("webhook-signature", signature))
        .send_body(body)
        .await;
    let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let (status, error) = match answer {
        Ok(res) => (Some(res.status().as_u16()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let outcome = Outcome {
        message_id,
        status,
        error,
        duration_ms,
    };
    record(&state, &sub, lease, &change, outcome).await
}

/// What one attempt got.
struct Outcome {
    message_id: String,
    status: Option<u16>,
    error: Option<String>,
    duration_ms: i32,
}

/// Writes the attempt and moves the subscription on: next change, retry later, or disabled.
/// The lease ends with it, in the same statement.
async fn record(
    state: &AppState,
    sub: &Webhook,
    lease: DateTime<Utc>,
    change: &ChangeRow,
    outcome: Outcome,
) -> AppResult<()> {
    let Outcome {
        message_id,
        status,
        error,
        duration_ms,
    } = outcome;
    let succeeded = status.is_some_and(|s| (200..300).contains(&s));
    let gone = status == Some(410);
    let attempt = sub.attempts + 1;
    let now = Utc::now();
    let mut conn = state.conn().await?;
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::subscription_id.eq(sub.id),
            webhook_deliveries::change_seq.eq(change.seq),
            webhook_deliveries::message_id.eq(&message_id),
            webhook_deliveries::attempt.eq(attempt),
            webhook_deliveries::status_code.eq(status.map(i32::from)),
            webhook_deliveries::error.eq(&error),
            webhook_deliveries::duration_ms.eq(duration_ms),
            webhook_deliveries::succeeded.eq(succeeded),
        ))
        .execute(&mut conn)
        .await?;
    // Only while the lease is still this worker's: had it expired and another worker claimed
    // the subscription, that one records (and may deliver this change again: at least once).
    let target = webhook_subscriptions::table
        .find(sub.id)
        .filter(webhook_subscriptions::cursor.eq(sub.cursor))
        .filter(webhook_subscriptions::leased_until.eq(lease));
    if succeeded {
        diesel::update(target)
            .set((
                webhook_subscriptions::cursor.eq(change.seq),
                webhook_subscriptions::attempts.eq(0),
                webhook_subscriptions::failing_since.eq(None::<DateTime<Utc>>),
                webhook_subscriptions::next_attempt_at.eq(now),
                webhook_subscriptions::leased_until.eq(None::<DateTime<Utc>>),
            ))
            .execute(&mut conn)
            .await?;
        return Ok(());
    }
    let failing_since = sub.failing_since.unwrap_or(now);
    let disabled_reason = if gone {
        Some("the endpoint answered 410 Gone".to_string())
    } else if now - failing_since >= RETRY_WINDOW {
        Some("deliveries failed for 3 days".to_string())
    } else {
        None
    };
    let base = chrono::Duration::milliseconds(
        i64::try_from(state.config.webhook_retry_base_ms).unwrap_or(5000),
    );
    let backoff = base
        .checked_mul(1 << (attempt - 1).clamp(0, 20))
        .map_or(MAX_BACKOFF, |d| d.min(MAX_BACKOFF));
    diesel::update(target)
        .set((
            webhook_subscriptions::attempts.eq(attempt),
            webhook_subscriptions::failing_since.eq(Some(failing_since)),
            webhook_subscriptions::next_attempt_at.eq(now + backoff),
            webhook_subscriptions::leased_until.eq(None::<DateTime<Utc>>),
        ))
        .execute(&mut conn)
        .await?;
    // The worker only ever disables: enabling is the owner's decision (PATCH), which a
    // delivery finishing late must not undo.
    if let Some(reason) = disabled_reason {
        disable(&mut conn, sub.id, &reason).await?;
        log::warn!("webhook {} disabled: {reason}", sub.id);
    }
    Ok(())
}

/// Disabling changes the subscription as its owner's `PATCH` would: audited and in the change
/// feed, by the system.
async fn disable(conn: &mut AsyncPgConnection, id: uuid::Uuid, reason: &str) -> AppResult<()> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let before = Webhook::read(conn, id, Lock::ForUpdate).await?;
        let after: Webhook = diesel::update(webhook_subscriptions::table.find(id))
            .set((
                webhook_subscriptions::active.eq(false),
                webhook_subscriptions::disabled_reason.eq(reason),
                webhook_subscriptions::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Webhook::as_returning())
            .get_result(conn)
            .await?;
        let change = Entry::update_of(&before, &after)?;
        journal::record(conn, &Authorized::system("webhook-delivery"), &[change]).await
    })
    .await
}
