//! `Idempotency-Key` on the POSTs that replay (the routes whose OpenAPI operation takes the
//! header), kept in PostgreSQL so it holds across replicas and restarts.
//!
//! A key is taken by the write itself: the request carries a [`Ticket`] on its `Principal`,
//! and the journal inserts the key's row in the write's own transaction. So a key exists
//! exactly when its write committed: a request that fails (a 5xx, the database gone midway)
//! leaves nothing behind, and its retry simply runs again. After the write, this middleware
//! stores the answer on the row; the same key and body from the same token then replays it
//! (`Idempotent-Replayed: true`), another body is a 422, and a duplicate that arrives while
//! the first has committed but not yet stored its answer is a 409. So is a duplicate that
//! arrives while the first is still running in this process
//! ([`KeysInFlight`](crate::idempotency::KeysInFlight)): it is refused
//! at once rather than queued behind it. A duplicate sent to another process meanwhile waits
//! on the key's row inside its own transaction, fails once the first commits, and is answered
//! from the first one's row.
//!
//! Requests that wrote nothing but were refused (a 4xx other than 401/409/429) are stored too,
//! after the fact: the same request would be refused the same way. Keys live 24 hours.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpResponse, ResponseError, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use sha2::{Digest, Sha256};

use super::route_info::RouteTable;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::http::body::{BODY_DEADLINE, read_body_within};
use crate::http::conditional::{etag_of_bytes, hex};
use crate::idempotency::{TTL, Ticket, in_progress};
use crate::schema::idempotency_keys;
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The largest body any POST accepts (CSV import).
const MAX_BODY: usize = 10 << 20;

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let replayable = req
        .app_data::<web::Data<RouteTable>>()
        .and_then(|routes| routes.lookup(&req))
        .is_some_and(|route| route.replayable);
    let key = req.headers().get(&IDEMPOTENCY_KEY).cloned();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    // Keys belong to credentials: without any there is nothing to scope them to (and nothing
    // an anonymous caller may create).
    let (Some(key), Some(state), true) = (key, state, replayable) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if !req.headers().contains_key(header::AUTHORIZATION) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(key) = key.to_str().ok().filter(|k| is_sane(k)).map(str::to_owned) else {
        let e =
            AppError::bad_request("Idempotency-Key must be 1 to 255 printable ASCII characters");
        return Ok(req.into_response(e.error_response()));
    };
    // Only a caller whose token holds may have a key looked up or stored.
    let mut principal = match Principal::from_request(req.request(), &mut Payload::None).await {
        Ok(p) => p,
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    let body = match read_body_within(req.take_payload(), MAX_BODY, BODY_DEADLINE).await {
        Ok(body) => body.freeze(),
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    let ticket = Arc::new(Ticket::new(
        scope_of(&req),
        key,
        req.method().to_string(),
        req.path().to_owned(),
        fingerprint(&req, &body),
    ));
    req.set_payload(Payload::from(body));

    match earlier_answer(&state, &ticket).await {
        Ok(None) => {}
        Ok(Some(answer)) => return Ok(req.into_response(answer)),
        Err(e) => return Ok(req.into_response(e.error_response())),
    }
    // Held until the answer is stored (or the request is dropped).
    let Some(_running) = state.keys_in_flight.enter(&ticket) else {
        return Ok(req.into_response(in_progress().error_response()));
    };
    principal.idempotency = Some(ticket.clone());
    req.extensions_mut().insert(principal);

    let res = next.call(req).await?;
    let status = res.status();
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body).await else {
        let e = AppError::internal("could not read the response body");
        return Ok(ServiceResponse::new(req, e.error_response()));
    };
    let header = |name| {
        head.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let answer = Stored {
        status: status.as_u16() as i16,
        body: bytes.to_vec(),
        location: header(header::LOCATION),
        content_type: header(header::CONTENT_TYPE),
    };
    if ticket.claimed() {
        // The write committed with the key: its answer is what a retry must get. If storing
        // fails, the client has this answer and a retry is told the key is still in use.
        if let Err(e) = store_answer(&state, &ticket, &answer).await {
            log::warn!("could not store the answer of an idempotency key: {e}");
        }
    } else if status == StatusCode::CONFLICT {
        // Perhaps a duplicate of a request that committed meanwhile: answer as it did.
        if let Ok(Some(earlier)) = earlier_answer(&state, &ticket).await {
            return Ok(ServiceResponse::new(req, earlier));
        }
    } else if status.is_client_error()
        && !matches!(status.as_u16(), 401 | 408 | 413 | 429)
        && let Err(e) = store_refusal(&state, &ticket, &answer).await
    {
        log::warn!("could not store the answer of an idempotency key: {e}");
    }
    Ok(ServiceResponse::new(
        req,
        head.set_body(BoxBody::new(bytes)),
    ))
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
}

/// The answer to give instead of running the request: a replay, a 422 for another body under
/// the same key, or a 409 while the first request's answer is not stored yet.
async fn earlier_answer(state: &AppState, ticket: &Ticket) -> AppResult<Option<HttpResponse>> {
    let mut conn = state.conn().await?;
    let row: Option<KeyRow> = idempotency_keys::table
        .find((&ticket.scope, &ticket.key))
        .select((
            idempotency_keys::path,
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::response_body,
            idempotency_keys::location,
            idempotency_keys::content_type,
            idempotency_keys::created_at,
        ))
        .first(&mut conn)
        .await
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    if row.created_at < Utc::now() - TTL {
        // Expired: the key is new again.
        diesel::delete(idempotency_keys::table.find((&ticket.scope, &ticket.key)))
            .filter(idempotency_keys::created_at.eq(row.created_at))
            .execute(&mut conn)
            .await?;
        return Ok(None);
    }
    if row.request_hash != ticket.fingerprint || row.path != ticket.path {
        let e = AppError::invalid_field(
            "Idempotency-Key",
            "was already used with a different request; use a new key for a new request",
        );
        return Ok(Some(e.error_response()));
    }
    Ok(Some(match (row.status, row.response_body) {
        (Some(status), Some(body)) => Stored {
            status,
            body,
            location: row.location,
            content_type: row.content_type,
        }
        .replay(),
        _ => in_progress().error_response(),
    }))
}

async fn store_answer(state: &AppState, ticket: &Ticket, answer: &Stored) -> AppResult<()> {
    let mut conn = state.conn().await?;
    diesel::update(idempotency_keys::table.find((&ticket.scope, &ticket.key)))
        .filter(idempotency_keys::status.is_null())
        .set((
            idempotency_keys::status.eq(answer.status),
            idempotency_keys::response_body.eq(&answer.body),
            idempotency_keys::location.eq(&answer.location),
            idempotency_keys::content_type.eq(&answer.content_type),
        ))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// A refusal that wrote nothing: stored whole, unless the key was taken meanwhile.
async fn store_refusal(state: &AppState, ticket: &Ticket, answer: &Stored) -> AppResult<()> {
    let mut conn = state.conn().await?;
    diesel::insert_into(idempotency_keys::table)
        .values((
            ticket.key_columns(),
            idempotency_keys::status.eq(answer.status),
            idempotency_keys::response_body.eq(&answer.body),
            idempotency_keys::location.eq(&answer.location),
            idempotency_keys::content_type.eq(&answer.content_type),
        ))
        .on_conflict_do_nothing()
        .execute(&mut conn)
        .await?;
    Ok(())
}
