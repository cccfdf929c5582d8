//! `/tokens`: long-lived named tokens for scripts and the TV station. The JWT text is shown
//! once, at creation; only its id (the `jti`) is stored, so revocation is a row update.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::crud::prelude::*;
use crate::api::crud::{ListRequest, Listed, Lock, Resource, Stored, admin_reads};
use crate::api::shared::Lockable;
use crate::auth::policy::{check_role_unit, require_admin};
use crate::auth::{Authorized, Claims, ISSUER, JwtKeys, Role, Subject, authorize};
use crate::error::AppError;
use crate::http::created;
use crate::journal::{self, Entity, Entry, Journaled, RowKey};
use crate::schema::api_tokens;
use crate::validate::Checks;

pub use crate::vocabulary::TokenKind;

/// A token's record; never the token itself.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = api_tokens)]
pub struct TokenInfo {
    pub id: Uuid,
    #[schema(example = "tv-station-feed")]
    pub name: String,
    pub kind: TokenKind,
    pub role: Role,
    pub unit_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub created_by: String,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What a new token is for.
#[derive(Insertable)]
#[diesel(table_name = api_tokens)]
pub struct TokenSpec {
    pub name: String,
    pub kind: TokenKind,
    pub role: Role,
    pub unit_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub created_by: String,
    pub expires_at: DateTime<Utc>,
}

/// Records a token (audited, like every write) and signs its JWT. Role/unit rules are
/// checked by the caller.
pub async fn mint(
    conn: &mut AsyncPgConnection,
    keys: &JwtKeys,
    auth: &Authorized,
    spec: &TokenSpec,
) -> AppResult<(TokenInfo, String)> {
    let id = Uuid::now_v7();
    let info = conn
        .transaction::<_, AppError, _>(async |conn| {
            let info: TokenInfo = diesel::insert_into(api_tokens::table)
                .values((api_tokens::id.eq(id), spec))
                .returning(TokenInfo::as_returning())
                .get_result(conn)
                .await?;
            journal::record(conn, auth, &[Entry::create_of(&info)?]).await?;
            Ok(info)
        })
        .await?;
    let claims = Claims {
        sub: match spec.account_id {
            Some(account) => format!("account:{account}"),
            None => format!("token:{}", spec.name),
        },
        role: spec.role,
        unit_id: spec.unit_id,
        jti: id,
        iat: info.created_at.timestamp(),
        exp: spec.expires_at.timestamp(),
        iss: ISSUER.into(),
    };
    let token = keys.sign(&claims)?;
    Ok((info, token))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    #[schema(example = "tv-station-feed", min_length = 1, max_length = 100)]
    pub name: String,
    pub role: Role,
    /// Required for every role but admin.
    pub unit_id: Option<Uuid>,
    /// Defaults to one year from now; at most five years.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The new token: the only time `token` is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct MintedToken {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub unit_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
    /// The bearer token. Store it now: it is not shown again.
    pub token: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenFilter {
    /// `api` (default) or `session`.
    pub kind: Option<TokenKind>,
    pub unit_id: Option<Uuid>,
    /// Include revoked and expired tokens (default false).
    pub include_inactive: Option<bool>,
}

/// Mint a named token.
///
/// Roles: admin. The `token` is in this response only. Not idempotent by `Idempotency-Key`:
/// a replay would have to store the secret.
#[utoipa::path(
    tag = "tokens",
    operation_id = "createToken",
    request_body = TokenInput,
    security(("bearer" = [])),
    responses((status = 201, description = "Created: the new token", body = MintedToken, headers(("Location" = String))))
)]
#[post("/tokens")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<TokenInput>,
) -> AppResult<HttpResponse> {
    let auth = authorize(&principal, Subject::Token, &[])?;
    let input = body.0;
    let mut conn = state.conn().await?;
    let now = Utc::now();
    let expires_at = input.expires_at.unwrap_or(now + Duration::days(365));
    let mut checks = Checks::new();
    checks.text("name", &input.name, 100);
    checks.check(expires_at > now, "expires_at", "must be in the future");
    checks.check(
        expires_at <= now + Duration::days(5 * 366),
        "expires_at",
        "must be within five years",
    );
    check_role_unit(&mut conn, input.role, input.unit_id, &mut checks).await?;
    checks.finish()?;
    let spec = TokenSpec {
        name: input.name,
        kind: TokenKind::Api,
        role: input.role,
        unit_id: input.unit_id,
        account_id: None,
        created_by: principal.subject.clone(),
        expires_at,
    };
    let (info, token) = mint(&mut conn, &state.jwt, &auth, &spec).await?;
    let minted = MintedToken {
        id: info.id,
        name: info.name,
        role: info.role,
        unit_id: info.unit_id,
        expires_at: info.expires_at,
        token,
    };
    created(&req, format!("/api/v1/tokens/{}", minted.id), &minted)
}

impl Journaled for TokenInfo {
    const ENTITY: Entity = Entity::Token;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, None, self.unit_id)
    }
}

crate::stored_by_id!(TokenInfo, api_tokens);

impl Resource for TokenInfo {
    const SUBJECT: Subject = Subject::Token;
    const ADMIN_ONLY: bool = true;

    fn location(&self) -> String {
        format!("/api/v1/tokens/{}", self.id)
    }

    fn may_read(caller: &MaybePrincipal) -> AppResult<()> {
        admin_reads(caller)
    }
}

impl Listed for TokenInfo {
    type Filter = TokenFilter;

    async fn page(request: ListRequest<'_>, filter: &TokenFilter) -> AppResult<Vec<Self>> {
        let of_kind =
            api_tokens::table.filter(api_tokens::kind.eq(filter.kind.unwrap_or(TokenKind::Api)));
        let mut query = crate::keyset_page!(
            of_kind.select(TokenInfo::as_select()),
            request.page,
            api_tokens::id
        );
        crate::filter_by!(query, filter.unit_id => api_tokens::unit_id);
        if !filter.include_inactive.unwrap_or(false) {
            query = query
                .filter(api_tokens::revoked_at.is_null())
                .filter(api_tokens::expires_at.gt(Utc::now()));
        }
        Ok(query.load(&mut request.state.conn().await?).await?)
    }
}

crate::resource_handlers! {
    #[resource(TokenInfo, tag = "tokens", key id: Uuid = (("id" = Uuid, Path)))]

    #[list("listTokens", "/tokens", token, TokenFilter, "A page of tokens")]
    /// List tokens (no secrets).
    ///
    /// Roles: admin.
    fn list;

    #[custom]
    fn create;
    #[custom]
    fn show;
    #[custom]
    fn revoke;
}

/// Get a token's record.
///
/// Roles: admin.
#[utoipa::path(
    tag = "tokens",
    operation_id = "getToken",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The token", body = TokenInfo))
)]
#[get("/tokens/{id}")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    require_admin(&principal)?;
    let info = TokenInfo::read(&mut *state.conn().await?, *id, Lock::No).await?;
    crate::http::json_ok(&req, &info)
}

/// Revoke a token: the next request that uses it gets 401. Revoking twice is not an error.
///
/// Roles: admin.
#[utoipa::path(
    tag = "tokens",
    operation_id = "revokeToken",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Revoked"))
)]
#[delete("/tokens/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let auth = authorize(&principal, Subject::Token, &[])?;
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let before = TokenInfo::lock(conn, *id).await?;
        if_match.check(&before)?;
        if before.revoked_at.is_some() {
            return Ok(());
        }
        let after: TokenInfo = diesel::update(api_tokens::table.find(before.id))
            .set(api_tokens::revoked_at.eq(diesel::dsl::now))
            .returning(TokenInfo::as_returning())
            .get_result(conn)
            .await?;
        journal::record(conn, &auth, &[Entry::update_of(&before, &after)?]).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
