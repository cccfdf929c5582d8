//! `Idempotency-Key` on every `POST`, kept in PostgreSQL so it holds across replicas and
//! restarts.
//!
//! The first request with a key claims it (a row with no response yet, locked for a minute);
//! its response is stored when it completes. The same key and body from the same token then
//! replays that response with `Idempotent-Replayed: true`; a different body is a 422; a
//! duplicate while the first is still running is a 409. Server errors (5xx) and 429s release
//! the key so the client can retry. Keys live 24 hours. A crash between the write committing
//! and the response being stored leaves the claim to expire after its lock (10 min); a retry
//! after that runs again — the one window this design does not close.

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpResponse, ResponseError, web};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::http::body::read_body;
use crate::http::conditional::{etag_of_bytes, hex};
use crate::schema::idempotency_keys;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a claimed key is held for its first request: longer than any request may take
/// (a batch can queue for its turn), so a retry never runs it a second time alongside.
const CLAIM: Duration = Duration::minutes(10);
/// How long keys are kept (API.md: at least 24 h).
pub const TTL: Duration = Duration::hours(24);
/// The largest body any POST accepts (CSV import).
const MAX_BODY: usize = 10 << 20;
/// Responses that hold a secret shown once are not stored, so these do not replay.
const NOT_REPLAYED: &[&str] = &[
    "/api/v1/auth/token",
    "/api/v1/auth/refresh",
    "/api/v1/tokens",
    "/api/v1/webhooks",
];

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let key = req.headers().get(&IDEMPOTENCY_KEY).cloned();
    let Some(key) =
        key.filter(|_| req.method() == Method::POST && !NOT_REPLAYED.contains(&req.path()))
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match key.to_str().ok().filter(|k| is_sane(k)) {
        Some(k) => k.to_owned(),
        None => {
            let e = AppError::bad_request(
                "Idempotency-Key must be 1 to 255 printable ASCII characters",
            );
            return Ok(req.into_response(e.error_response()));
        }
    };
    // Keys belong to credentials: without any, there is nothing to scope them to (and nothing
    // an anonymous caller may create).
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let Some(state) = state.filter(|_| req.headers().contains_key(header::AUTHORIZATION)) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let scope = scope_of(&req);
    let body = match read_body(req.take_payload(), MAX_BODY).await {
        Ok(body) => body.freeze(),
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    let fingerprint = fingerprint(&req, &body);
    req.set_payload(Payload::from(body));

    let claim = match claim(&state, &scope, &key, &req, &fingerprint).await {
        Ok(claim) => claim,
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    match claim {
        Claim::Replay(stored) => {
            // Only for credentials that still hold: a token revoked or expired since gets its
            // 401 (API.md: "the next request with it gets 401"), not the stored answer.
            if req.headers().contains_key(header::AUTHORIZATION)
                && let Err(e) = Principal::from_request(req.request(), &mut Payload::None).await
            {
                return Ok(req.into_response(e.error_response()));
            }
            Ok(req.into_response(stored.replay()))
        }
        Claim::Refused(e) => Ok(req.into_response(e.error_response())),
        Claim::Claimed(stamp) => {
            let res = next.call(req).await?;
            let status = res.status();
            let (req, res) = res.into_parts();
            let (head, body) = res.into_parts();
            let bytes = match to_bytes(body).await {
                Ok(bytes) => bytes,
                Err(_) => {
                    release(&state, &scope, &key, stamp).await;
                    let e = AppError::internal("could not read the response body");
                    return Ok(ServiceResponse::new(req, e.error_response()));
                }
            };
            // Not a result to keep: the client should retry (or was not who it claimed to be).
            if status.is_server_error()
                || status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::UNAUTHORIZED
            {
                release(&state, &scope, &key, stamp).await;
            } else {
                let header = |name| {
                    head.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let stored = Stored {
                    status: status.as_u16() as i16,
                    body: bytes.to_vec(),
                    location: header(header::LOCATION),
                    content_type: header(header::CONTENT_TYPE),
                };
                if let Err(e) = store(&state, &scope, &key, stamp, &stored).await {
                    log::warn!("could not store the response of idempotency key: {e}");
                }
            }
            Ok(ServiceResponse::new(
                req,
                head.set_body(BoxBody::new(bytes)),
            ))
        }
    }
}

fn is_sane(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
}

/// Keys belong to the credentials that sent them (a hash, never the token itself).
fn scope_of(req: &ServiceRequest) -> String {
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    hex(&Sha256::digest(auth.unwrap_or_default()))
}

/// What makes two requests "the same": method, path, query, content type and body.
fn fingerprint(req: &ServiceRequest, body: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    for part in [
        req.method().as_str().as_bytes(),
        req.path().as_bytes(),
        req.query_string().as_bytes(),
        req.headers()
            .get(header::CONTENT_TYPE)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default(),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.update(body);
    h.finalize().to_vec()
}

enum Claim {
    /// Ours, identified by the `locked_until` we wrote (only our run may finish it).
    Claimed(DateTime<Utc>),
    Replay(Stored),
    Refused(AppError),
}

struct Stored {
    status: i16,
    body: Vec<u8>,
    location: Option<String>,
    content_type: Option<String>,
}

impl Stored {
    fn replay(self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status as u16).unwrap_or(StatusCode::OK);
        let mut res = HttpResponse::build(status);
        res.insert_header((REPLAYED, "true"));
        if let Some(location) = self.location {
            res.insert_header((header::LOCATION, location));
        }
        if let Some(content_type) = &self.content_type {
            res.insert_header((header::CONTENT_TYPE, content_type.as_str()));
            if content_type.starts_with("application/json") {
                res.insert_header((header::ETAG, etag_of_bytes(&self.body)));
            }
        }
        res.body(self.body)
    }
}

#[derive(Queryable)]
struct KeyRow {
    path: String,
    request_hash: Vec<u8>,
    status: Option<i16>,
    response_body: Option<Vec<u8>>,
    location: Option<String>,
    content_type: Option<String>,
    created_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

async fn claim(
    state: &AppState,
    scope: &str,
    key: &str,
    req: &ServiceRequest,
    fingerprint: &[u8],
) -> AppResult<Claim> {
    let mut conn = state.conn().await?;
    let now = Utc::now();
    // Microseconds, as PostgreSQL keeps it, so the stamp compares equal when read back.
    let stamp =
        DateTime::from_timestamp_micros((now + CLAIM).timestamp_micros()).unwrap_or(now + CLAIM);
    // Two attempts: the second after clearing an expired key or a claim whose holder died.
    for _ in 0..2 {
        let inserted = diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::scope.eq(scope),
                idempotency_keys::key.eq(key),
                idempotency_keys::method.eq(req.method().as_str()),
                idempotency_keys::path.eq(req.path()),
                idempotency_keys::request_hash.eq(fingerprint),
                idempotency_keys::locked_until.eq(stamp),
            ))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .await?;
        if inserted == 1 {
            return Ok(Claim::Claimed(stamp));
        }
        let row: Option<KeyRow> = idempotency_keys::table
            .find((scope, key))
            .select((
                idempotency_keys::path,
                idempotency_keys::request_hash,
                idempotency_keys::status,
                idempotency_keys::response_body,
                idempotency_keys::location,
                idempotency_keys::content_type,
                idempotency_keys::created_at,
                idempotency_keys::locked_until,
            ))
            .first(&mut conn)
            .await
            .optional()?;
        let Some(row) = row else { continue };
        let expired = row.created_at < now - TTL;
        let abandoned = row.status.is_none() && row.locked_until.is_some_and(|t| t < now);
        if expired || abandoned {
            diesel::delete(idempotency_keys::table.find((scope, key)))
                .filter(idempotency_keys::created_at.eq(row.created_at))
                .execute(&mut conn)
                .await?;
            continue;
        }
        if row.request_hash != fingerprint || row.path != req.path() {
            return Ok(Claim::Refused(AppError::invalid_field(
                "Idempotency-Key",
                "was already used with a different request; use a new key for a new request",
            )));
        }
        return Ok(match (row.status, row.response_body) {
            (Some(status), Some(body)) => Claim::Replay(Stored {
                status,
                body,
                location: row.location,
                content_type: row.content_type,
            }),
            _ => Claim::Refused(AppError::conflict(
                "a request with this Idempotency-Key is still being processed; retry shortly",
            )),
        });
    }
    Err(AppError::conflict(
        "the Idempotency-Key is contended; retry shortly",
    ))
}

async fn store(
    state: &AppState,
    scope: &str,
    key: &str,
    stamp: DateTime<Utc>,
    stored: &Stored,
) -> AppResult<()> {
    let mut conn = state.conn().await?;
    diesel::update(idempotency_keys::table.find((scope, key)))
        .filter(idempotency_keys::locked_until.eq(stamp))
        .set((
            idempotency_keys::status.eq(stored.status),
            idempotency_keys::response_body.eq(&stored.body),
            idempotency_keys::location.eq(&stored.location),
            idempotency_keys::content_type.eq(&stored.content_type),
            idempotency_keys::locked_until.eq(None::<DateTime<Utc>>),
        ))
        .execute(&mut conn)
        .await?;
    Ok(())
}

async fn release(state: &AppState, scope: &str, key: &str, stamp: DateTime<Utc>) {
    if let Ok(mut conn) = state.conn().await {
        let _ = diesel::delete(idempotency_keys::table.find((scope, key)))
            .filter(idempotency_keys::locked_until.eq(stamp))
            .execute(&mut conn)
            .await;
    }
}

/// Deletes keys past their lifetime; run periodically by `serve`.
pub async fn purge_expired(state: &AppState) -> AppResult<usize> {
    let mut conn = state.conn().await?;
    Ok(diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::created_at.lt(Utc::now() - TTL)),
    )
    .execute(&mut conn)
    .await?)
}
