//! `/auth`: password login for people (short-lived tokens) and "who am I".

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::tokens::{self, TokenKind, TokenSpec};
use crate::app::AppState;
use crate::auth::policy::Authorized;
use crate::auth::{Principal, Role, password};
use crate::error::{AppError, AppResult};
use crate::http::{JsonBody, json_ok};
use crate::schema::{accounts, api_tokens, login_failures};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(login).service(me);
}

/// Lifetime of a login token.
pub const SESSION_TTL: Duration = Duration::hours(1);
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

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessToken {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until it expires.
    #[schema(example = 3600)]
    pub expires_in: i64,
    pub role: Role,
    pub unit_id: Option<Uuid>,
}

/// Exchange a username and password for a short-lived token (1 hour).
///
/// Roles: anyone. Wrong credentials get the same 401 whether the user exists or not; after
/// 5 failures for one username within 15 minutes, it is locked for 15 minutes (429).
#[utoipa::path(
    tag = "auth",
    request_body = LoginInput,
    security(()),
    responses(
        (status = 200, body = AccessToken),
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
    let spec = TokenSpec {
        name: format!("login:{key}"),
        kind: TokenKind::Session,
        role,
        unit_id,
        account_id: Some(id),
        created_by: format!("account:{key}"),
        expires_at: Utc::now() + SESSION_TTL,
    };
    let (_, token) =
        tokens::mint(&mut conn, &state.jwt, &Authorized::system("login"), &spec).await?;
    Ok(HttpResponse::Ok().json(AccessToken {
        access_token: token,
        token_type: "Bearer",
        expires_in: SESSION_TTL.num_seconds(),
        role,
        unit_id,
    }))
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
    /// `token:<name>` for named tokens, `account:<username>` for logins.
    #[schema(example = "account:wang.fang")]
    pub sub: String,
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
    security(("bearer" = [])),
    responses((status = 200, body = Me))
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
            sub: principal.subject,
            role: principal.role,
            unit_id: principal.unit_id,
            token_id: principal.token_id,
            token_kind: kind,
            expires_at,
        },
    )
}
