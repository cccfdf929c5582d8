//! `/auth`: password login for people (short-lived tokens) and "who am I".

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::sessions;
use crate::api::tokens::TokenKind;
use crate::app::AppState;
use crate::auth::{Principal, Role, password};
use crate::error::{AppError, AppResult};
use crate::http::{JsonBody, json_ok};
use crate::schema::{accounts, api_tokens, login_failures};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(me);
}
/// Failed logins allowed per username within [`FAILURE_WINDOW`] before it is locked.
pub const MAX_FAILURES: i32 = 5;
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
pub const LOCKOUT: Duration = Duration::minutes(15);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    #[schema(example = "wang.fang")]
    pub username: String,
    #[schema(example = "correct horse battery")]
    pub password: String,
}

/// A session's tokens: a short-lived bearer token and the refresh token that renews it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessToken {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    #[schema(example = 3600)]
    pub expires_in: i64,
    /// Opaque; exchange it at `POST /auth/refresh` for a new pair. Shown only here; it works
    /// once (a second use revokes the whole session).
    #[schema(example = "lwr_3q2-Vb4...")]
    pub refresh_token: String,
    /// Seconds until `refresh_token` expires (30 days).
    #[schema(example = 2592000)]
    pub refresh_expires_in: i64,
    pub role: Role,
    pub unit_id: Option<Uuid>,
}

impl From<sessions::IssuedSession> for AccessToken {
    fn from(s: sessions::IssuedSession) -> Self {
        AccessToken {
            access_token: s.access_token,
            token_type: "Bearer",
            expires_in: sessions::ACCESS_TTL.num_seconds(),
            refresh_token: s.refresh_token,
            refresh_expires_in: sessions::REFRESH_TTL.num_seconds(),
            role: s.account.role,
            unit_id: s.account.unit_id,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshInput {
    /// The `refresh_token` of the last login or refresh.
    #[schema(min_length = 1, max_length = 100)]
    pub refresh_token: String,
}

/// Exchange a username and password for a session: a short-lived access token (1 hour) and
/// a refresh token (30 days).
///
/// Roles: anyone. Wrong credentials get the same 401 whether the user exists or not; after
/// 5 failures for one username within 15 minutes, it is locked for 15 minutes (429).
#[utoipa::path(
    tag = "auth",
    operation_id = "createAccessToken",
    request_body = LoginInput,
    security(()),
    responses(
        (status = 200, description = "The session's tokens", body = AccessToken),
    )
)]
#[post("/auth/token")]
pub async fn login(
    state: web::Data<AppState>,
    body: JsonBody<LoginInput>,
) -> AppResult<HttpResponse> {
    let LoginInput { username, password } = body.0;
    let key = username.trim().to_lowercase();
    let mut conn = state.conn().await?;

    let locked_until: Option<Option<DateTime<Utc>>> = login_failures::table
        .find(&key)
        .select(login_failures::locked_until)
        .first(&mut conn)
        .await
        .optional()?;
    if let Some(Some(until)) = locked_until {
        let wait = (until - Utc::now()).num_seconds();
        if wait > 0 {
            return Err(AppError::too_many_requests(
                wait as u64,
                "too many failed logins for this username; try again later",
            ));
        }
    }

    let account: Option<(Uuid, String, Role, Option<Uuid>, bool)> = accounts::table
        .filter(accounts::username.eq(&key))
        .select((
            accounts::id,
            accounts::password_hash,
            accounts::role,
            accounts::unit_id,
            accounts::disabled,
        ))
        .first(&mut conn)
        .await
        .optional()?;
    let stored_hash = account.as_ref().map(|a| a.1.clone());
    // Hashing takes tens of milliseconds: no pooled connection waits for it.
    drop(conn);
    let password_ok = password::verify(password, stored_hash).await?;
    let mut conn = state.conn().await?;
    let account = match account {
        Some(a) if password_ok && !a.4 => a,
        _ => {
            record_failure(&mut conn, &key).await?;
            return Err(AppError::invalid_credentials());
        }
    };
    diesel::delete(login_failures::table.find(&key))
        .execute(&mut conn)
        .await?;

    let (id, _, role, unit_id, _) = account;
    let account = sessions::SessionAccount {
        id,
        username: key,
        role,
        unit_id,
    };
    let session = conn
        .transaction::<_, AppError, _>(async |conn| {
            sessions::issue(conn, &state.jwt, account, None).await
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(AccessToken::from(session)))
}

/// Exchange a refresh token for a new access token and a new refresh token (rotation): the
/// presented one stops working. Presenting a refresh token that was already used revokes its
/// whole session (every token issued from that login) and is a 401.
///
/// Roles: anyone holding a refresh token (no bearer token needed).
#[utoipa::path(
    tag = "auth",
    operation_id = "refreshAccessToken",
    request_body = RefreshInput,
    security(()),
    responses((status = 200, description = "The session's new tokens", body = AccessToken))
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: JsonBody<RefreshInput>,
) -> AppResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let refreshed = conn
        .transaction::<_, AppError, _>(async |conn| {
            sessions::refresh(conn, &state.jwt, &body.0.refresh_token).await
        })
        .await?;
    match refreshed {
        sessions::Refreshed::Issued(session) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(AccessToken::from(session))),
        sessions::Refreshed::Reused => Err(AppError::invalid_token(
            "this refresh token was already used; its session has been revoked, log in again",
        )),
    }
}

/// End the session of this access token: the token and every refresh token of its login stop
/// working. For a named token, revokes that token.
///
/// Roles: any valid token.
#[utoipa::path(
    tag = "auth",
    operation_id = "revokeSession",
    security(("bearer" = [])),
    responses((status = 204, description = "Logged out"))
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, principal: Principal) -> AppResult<HttpResponse> {
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async |conn| sessions::end(conn, principal.token_id).await)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Counts a failure; the fifth within the window locks the username. One statement, so
/// concurrent failures (on any replica) all count.
async fn record_failure(conn: &mut AsyncPgConnection, username: &str) -> AppResult<()> {
    use diesel::sql_types::{Double, Integer, Text};
    diesel::sql_query(
        "INSERT INTO login_failures (username, failures, first_failed) VALUES ($1, 1, now()) \
         ON CONFLICT (username) DO UPDATE SET \
           failures = CASE WHEN login_failures.first_failed < now() - make_interval(secs => $2) \
                      THEN 1 ELSE login_failures.failures + 1 END, \
           first_failed = CASE WHEN login_failures.first_failed < now() - make_interval(secs => $2) \
                          THEN now() ELSE login_failures.first_failed END, \
           locked_until = CASE WHEN login_failures.first_failed >= now() - make_interval(secs => $2) \
                               AND login_failures.failures + 1 >= $3 \
                          THEN now() + make_interval(secs => $4) END",
    )
    .bind::<Text, _>(username)
    .bind::<Double, _>(FAILURE_WINDOW.num_seconds() as f64)
    .bind::<Integer, _>(MAX_FAILURES)
    .bind::<Double, _>(LOCKOUT.num_seconds() as f64)
    .execute(conn)
    .await?;
    Ok(())
}

/// Who the token is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The token's `sub` claim, exactly: `token:<name>` for named tokens,
    /// `account:<account id>` for logins.
    #[schema(example = "account:0193c0de-0000-7000-8000-000000000001")]
    pub sub: String,
    /// The account's username, or the named token's name.
    #[schema(example = "wang.fang")]
    pub name: String,
    pub role: Role,
    pub unit_id: Option<Uuid>,
    pub token_id: Uuid,
    pub token_kind: TokenKind,
    pub expires_at: DateTime<Utc>,
}

/// Who the token is.
///
/// Roles: any valid token.
#[utoipa::path(
    tag = "auth",
    operation_id = "getMe",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = Me))
)]
#[get("/auth/me")]
pub async fn me(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
) -> AppResult<HttpResponse> {
    let (kind, expires_at): (TokenKind, DateTime<Utc>) = api_tokens::table
        .find(principal.token_id)
        .select((api_tokens::kind, api_tokens::expires_at))
        .first(&mut state.conn().await?)
        .await?;
    json_ok(
        &req,
        &Me {
            sub: principal.sub,
            name: principal.name,
            role: principal.role,
            unit_id: principal.unit_id,
            token_id: principal.token_id,
            token_kind: kind,
            expires_at,
        },
    )
}
