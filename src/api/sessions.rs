//! Login sessions for frontends: a short-lived access token (an `api_tokens` row of kind
//! `session`) plus an opaque refresh token, stored only as its SHA-256.
//!
//! Refreshing rotates: the presented refresh token is spent and a new pair is issued in the
//! same family. Presenting a spent (or revoked) refresh token again means it leaked or a
//! client is confused; as the OAuth 2.0 Security BCP recommends, the whole family and its
//! access tokens are revoked. The check and the spending happen under a row lock, so of two
//! refreshes racing with one token exactly one wins.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::api::tokens::{self, TokenKind, TokenSpec};
use crate::auth::{Authorized, JwtKeys, Role};
use crate::error::{AppError, AppResult};
use crate::schema::{accounts, api_tokens, refresh_tokens};

/// Lifetime of a login's access token.
pub const ACCESS_TTL: Duration = Duration::hours(1);
/// Lifetime of a refresh token (API.md v1.1: 30 days).
pub const REFRESH_TTL: Duration = Duration::days(30);
/// Refresh tokens start with this, so a leaked one is recognisable (secret scanners).
const PREFIX: &str = "lwr_";

/// Who a session is for.
#[derive(Debug, Clone)]
pub struct SessionAccount {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub unit_id: Option<Uuid>,
}

/// A freshly issued pair. The refresh token's text exists only here.
#[derive(Debug)]
pub struct IssuedSession {
    pub access_token: String,
    pub refresh_token: String,
    pub account: SessionAccount,
}

/// Starts a new family (a login), or continues `family` (a refresh). Call inside a transaction.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    keys: &JwtKeys,
    account: SessionAccount,
    family: Option<Uuid>,
) -> AppResult<IssuedSession> {
    let spec = TokenSpec {
        name: format!("login:{}", account.username),
        kind: TokenKind::Session,
        role: account.role,
        unit_id: account.unit_id,
        account_id: Some(account.id),
        created_by: format!("account:{}", account.username),
        expires_at: Utc::now() + ACCESS_TTL,
    };
    let (info, access_token) =
        tokens::mint(conn, keys, &Authorized::system("login"), &spec).await?;
    let refresh_token = new_secret()?;
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(Uuid::now_v7()),
            refresh_tokens::family_id.eq(family.unwrap_or_else(Uuid::now_v7)),
            refresh_tokens::account_id.eq(account.id),
            refresh_tokens::token_hash.eq(digest(&refresh_token)),
            refresh_tokens::access_token_id.eq(info.id),
            refresh_tokens::expires_at.eq(Utc::now() + REFRESH_TTL),
        ))
        .execute(conn)
        .await?;
    Ok(IssuedSession {
        access_token,
        refresh_token,
        account,
    })
}

#[derive(Queryable)]
struct Presented {
    family_id: Uuid,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    account_id: Uuid,
    username: String,
    role: Role,
    unit_id: Option<Uuid>,
    disabled: bool,
}

/// What presenting a refresh token led to.
pub enum Refreshed {
    Issued(IssuedSession),
    /// The token had been spent or revoked: its family is now revoked (commit this!).
    Reused,
}

/// Spends `refresh_token` and issues the next pair of its family. Call inside a transaction;
/// on [`Refreshed::Reused`] the transaction must still commit, to keep the revocation.
pub async fn refresh(
    conn: &mut AsyncPgConnection,
    keys: &JwtKeys,
    refresh_token: &str,
) -> AppResult<Refreshed> {
    let invalid = || AppError::invalid_token("the refresh token is unknown, expired or revoked");
    if !refresh_token.starts_with(PREFIX) || refresh_token.len() > 100 {
        return Err(invalid());
    }
    let presented: Option<(Uuid, Presented)> = refresh_tokens::table
        .inner_join(accounts::table)
        .filter(refresh_tokens::token_hash.eq(digest(refresh_token)))
        .select((
            refresh_tokens::id,
            (
                refresh_tokens::family_id,
                refresh_tokens::expires_at,
                refresh_tokens::used_at,
                refresh_tokens::revoked_at,
                accounts::id,
                accounts::username,
                accounts::role,
                accounts::unit_id,
                accounts::disabled,
            ),
        ))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some((id, p)) = presented else {
        return Err(invalid());
    };
    if p.used_at.is_some() || p.revoked_at.is_some() {
        revoke_family(conn, p.family_id).await?;
        return Ok(Refreshed::Reused);
    }
    if p.expires_at <= Utc::now() || p.disabled {
        return Err(invalid());
    }
    diesel::update(refresh_tokens::table.find(id))
        .set(refresh_tokens::used_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    let account = SessionAccount {
        id: p.account_id,
        username: p.username,
        role: p.role,
        unit_id: p.unit_id,
    };
    Ok(Refreshed::Issued(
        issue(conn, keys, account, Some(p.family_id)).await?,
    ))
}

/// Logout: revokes the family the access token `access_token_id` belongs to, and the token
/// itself (also when it has no family, e.g. a named token).
pub async fn end(conn: &mut AsyncPgConnection, access_token_id: Uuid) -> AppResult<()> {
    let family: Option<Uuid> = refresh_tokens::table
        .filter(refresh_tokens::access_token_id.eq(access_token_id))
        .select(refresh_tokens::family_id)
        .first(conn)
        .await
        .optional()?;
    if let Some(family) = family {
        revoke_family(conn, family).await?;
    }
    revoke_access_tokens(conn, &[access_token_id]).await
}

/// Every refresh token of `family` and every access token issued with one of them.
async fn revoke_family(conn: &mut AsyncPgConnection, family: Uuid) -> AppResult<()> {
    let access_tokens: Vec<Uuid> = diesel::update(refresh_tokens::table)
        .filter(refresh_tokens::family_id.eq(family))
        .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
        .returning(refresh_tokens::access_token_id)
        .get_results(conn)
        .await?;
    revoke_access_tokens(conn, &access_tokens).await
}

/// Disabling an account, or changing its password, role or unit, ends all of its sessions.
pub async fn end_all_of_account(conn: &mut AsyncPgConnection, account_id: Uuid) -> AppResult<()> {
    diesel::update(refresh_tokens::table)
        .filter(refresh_tokens::account_id.eq(account_id))
        .filter(refresh_tokens::revoked_at.is_null())
        .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    diesel::update(api_tokens::table)
        .filter(api_tokens::account_id.eq(account_id))
        .filter(api_tokens::revoked_at.is_null())
        .set(api_tokens::revoked_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

async fn revoke_access_tokens(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> AppResult<()> {
    diesel::update(api_tokens::table)
        .filter(api_tokens::id.eq_any(ids))
        .filter(api_tokens::revoked_at.is_null())
        .set(api_tokens::revoked_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes refresh tokens that expired more than a day ago (housekeeping).
pub async fn purge_expired(conn: &mut AsyncPgConnection) -> AppResult<usize> {
    Ok(diesel::delete(
        refresh_tokens::table.filter(refresh_tokens::expires_at.lt(Utc::now() - Duration::days(1))),
    )
    .execute(conn)
    .await?)
}

fn new_secret() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(AppError::internal)?;
    Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
