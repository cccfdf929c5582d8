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
use crate::auth::{Principal, Role, password};
use crate::error::{AppError, AppResult};
use crate::http::{JsonBody, json_ok};
use crate::schema::{accounts, api_tokens, login_failures};
use crate::state::AppState;
use crate::validate::Checks;

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
/// Longest username or password accepted (accounts allow no longer ones).
pub const MAX_CREDENTIAL_CHARS: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    #[schema(example = "wang.fang", min_length = 1, max_length = 200)]
    pub username: String,
    #[schema(example = "correct horse battery", min_length = 1, max_length = 200)]
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
    let mut checks = Checks::new();
    for (field, value) in [("username", &username), ("password", &password)] {
        checks.check(
            (1..=MAX_CREDENTIAL_CHARS).contains(&value.chars().count()),
            field,
            format!("must be 1 to {MAX_CREDENTIAL_CHARS} characters"),
        );
    }
    checks.finish()?;
    let key = username.trim().to_lowercase();
    // Held to the end: logins take pooled connections one per core at most (see `Turn`).
    let turn = password::turn().await?;
    let mut conn = state.conn().await?;
    reserve_attempt(&mut conn, &key).await?;

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
    state.metrics.password_checked();
    let password_ok = password::verify(&turn, password, stored_hash).await?;
    let account = match account {
        Some(a) if password_ok && !a.4 => a,
        // The reserved attempt stays counted as a failure.
        _ => return Err(AppError::invalid_credentials()),
    };
    let mut conn = state.conn().await?;
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

/// Counts this attempt as a failure before the password is checked (a success clears the
/// count), in one statement: of any number of parallel guesses for one username, at most
/// [`MAX_FAILURES`] in the window reach the password check; the next locks the username for
/// [`LOCKOUT`]. 429 while it is locked.
async fn reserve_attempt(conn: &mut AsyncPgConnection, username: &str) -> AppResult<()> {
    use diesel::sql_types::{Double, Integer, Nullable, Text, Timestamptz};
    #[derive(QueryableByName)]
    struct Reserved {
        #[diesel(sql_type = Nullable<Timestamptz>)]
        locked_until: Option<DateTime<Utc>>,
    }
    let reserved: Reserved = diesel::sql_query(
        "INSERT INTO login_failures AS f (username, failures, first_failed) VALUES ($1, 1, now()) \
         ON CONFLICT (username) DO UPDATE SET \
           failures = CASE WHEN f.locked_until > now() THEN f.failures \
                           WHEN f.first_failed < now() - make_interval(secs => $2) THEN 1 \
                           ELSE f.failures + 1 END, \
           first_failed = CASE WHEN f.locked_until > now() THEN f.first_failed \
                               WHEN f.first_failed < now() - make_interval(secs => $2) THEN now() \
                               ELSE f.first_failed END, \
           locked_until = CASE WHEN f.locked_until > now() THEN f.locked_until \
                               WHEN f.first_failed >= now() - make_interval(secs => $2) \
                                    AND f.failures + 1 > $3 \
                               THEN now() + make_interval(secs => $4) END \
         RETURNING f.locked_until",
    )
    .bind::<Text, _>(username)
    .bind::<Double, _>(FAILURE_WINDOW.num_seconds() as f64)
    .bind::<Integer, _>(MAX_FAILURES)
    .bind::<Double, _>(LOCKOUT.num_seconds() as f64)
    .get_result(conn)
    .await?;
    match reserved.locked_until {
        Some(until) if until > Utc::now() => Err(AppError::too_many_requests(
            (until - Utc::now()).num_seconds().max(1) as u64,
            "too many failed logins for this username; try again later",
        )),
        _ => Ok(()),
    }
}

/// Forgets failures older than the window and expired locks (housekeeping), so unknown
/// usernames tried once do not pile up.
pub async fn purge_login_failures(conn: &mut AsyncPgConnection) -> AppResult<usize> {
    Ok(diesel::delete(
        login_failures::table
            .filter(login_failures::first_failed.lt(Utc::now() - FAILURE_WINDOW))
            .filter(
                login_failures::locked_until
                    .is_null()
                    .or(login_failures::locked_until.lt(Utc::now())),
            ),
    )
    .execute(conn)
    .await?)
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
