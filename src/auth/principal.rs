//! Who is calling: the `Principal` and `MaybePrincipal` extractors. A token is checked against
//! the token table on every request (so a revoked token fails on the very next request, on
//! every replica).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use super::jwt::Claims;
use crate::error::{AppError, AppResult};
use crate::schema::{accounts, api_tokens};
use crate::state::AppState;
use crate::vocabulary::Role;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's id (its `jti`).
    pub token_id: Uuid,
    /// `token:<name>` or `account:<username>`: who is recorded as having made a change.
    pub subject: String,
    /// The token's `sub` claim, exactly as signed.
    pub sub: String,
    /// The account's username, or the named token's name.
    pub name: String,
    pub role: Role,
    pub unit_id: Option<Uuid>,
    pub request_id: Option<String>,
    /// The request's `Idempotency-Key`, which its write takes in its own transaction (set
    /// by the idempotency middleware on the routes that replay).
    pub idempotency: Option<std::sync::Arc<crate::idempotency::Ticket>>,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A caller that may be anonymous: `None` only when no `Authorization` header was sent.
/// A header that is present but invalid is a 401, never a silent downgrade to anonymous.
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Principal>);

impl MaybePrincipal {
    /// Anyone with a valid token reads everything, including drafts and internal items.
    pub fn sees_everything(&self) -> bool {
        self.0.is_some()
    }
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Authenticated already by a middleware (one token lookup per request).
        if let Some(principal) = req.extensions().get::<Principal>().cloned() {
            return Box::pin(async { Ok(principal) });
        }
        let bearer = bearer_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let request_id = crate::middleware::request_id::of(req);
        // The rate limiter has verified this request's token already, when it is on.
        let verified = req.extensions().get::<Claims>().cloned();
        Box::pin(async move {
            let token = bearer?.ok_or_else(AppError::unauthenticated)?;
            let state = state.ok_or_else(|| AppError::internal("app state missing"))?;
            let claims = match verified {
                Some(claims) => claims,
                None => state.jwt.verify(&token)?,
            };
            let mut principal = authenticate(&state, claims).await?;
            principal.request_id = request_id;
            Ok(principal)
        })
    }
}

impl FromRequest for MaybePrincipal {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !req.headers().contains_key(header::AUTHORIZATION) {
            return Box::pin(async { Ok(MaybePrincipal(None)) });
        }
        let principal = Principal::from_request(req, payload);
        Box::pin(async move { principal.await.map(|p| MaybePrincipal(Some(p))) })
    }
}

/// `Ok(None)` without a header; 401 for a header that is not `Bearer <token>`.
pub(crate) fn bearer_token(req: &HttpRequest) -> AppResult<Option<String>> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| AppError::invalid_token("the Authorization header is malformed"))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| AppError::invalid_token("expected `Authorization: Bearer <token>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AppError::invalid_token(
            "expected `Authorization: Bearer <token>`",
        ));
    }
    Ok(Some(token.trim().to_string()))
}

#[derive(Queryable)]
struct LiveToken {
    name: String,
    role: Role,
    unit_id: Option<Uuid>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    username: Option<String>,
    account_disabled: Option<bool>,
}

/// Checks that a verified JWT's `jti` names a live token whose role and unit match.
async fn authenticate(state: &AppState, claims: Claims) -> AppResult<Principal> {
    let mut conn = state.conn().await?;
    let row: Option<LiveToken> = api_tokens::table
        .left_join(accounts::table)
        .filter(api_tokens::id.eq(claims.jti))
        .select((
            api_tokens::name,
            api_tokens::role,
            api_tokens::unit_id,
            api_tokens::expires_at,
            api_tokens::revoked_at,
            api_tokens::last_used_at,
            accounts::username.nullable(),
            accounts::disabled.nullable(),
        ))
        .first(&mut conn)
        .await
        .optional()?;
    let row = row.ok_or_else(|| AppError::invalid_token("the token is unknown"))?;
    let now = Utc::now();
    if row.revoked_at.is_some() {
        return Err(AppError::invalid_token("the token has been revoked"));
    }
    if row.expires_at <= now {
        return Err(AppError::invalid_token("the token has expired"));
    }
    if row.account_disabled == Some(true) {
        return Err(AppError::invalid_token("the account is disabled"));
    }
    if row.role != claims.role || row.unit_id != claims.unit_id {
        return Err(AppError::invalid_token(
            "the token does not match its record",
        ));
    }
    if row
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::minutes(1))
    {
        touch_last_used(state.pool.clone(), claims.jti);
    }
    let (subject, name) = match row.username {
        Some(username) => (format!("account:{username}"), username),
        None => (format!("token:{}", row.name), row.name),
    };
    Ok(Principal {
        token_id: claims.jti,
        subject,
        sub: claims.sub,
        name,
        role: row.role,
        unit_id: row.unit_id,
        request_id: None,
        idempotency: None,
    })
}

/// At most one write a minute per token, off the request's path.
fn touch_last_used(pool: crate::db::DbPool, token_id: Uuid) {
    actix_web::rt::spawn(async move {
        let Ok(mut conn) = pool.get().await else {
            return;
        };
        let cutoff = Utc::now() - chrono::Duration::minutes(1);
        let _ = diesel::update(api_tokens::table)
            .filter(api_tokens::id.eq(token_id))
            .filter(
                api_tokens::last_used_at
                    .is_null()
                    .or(api_tokens::last_used_at.lt(cutoff)),
            )
            .set(api_tokens::last_used_at.eq(diesel::dsl::now))
            .execute(&mut conn)
            .await;
    });
}
