//! `/accounts`: people who log in (`POST /auth/token`) to get short-lived tokens.
//! Passwords are stored as argon2id hashes and never returned.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::shared::{Lockable, Removable, remove_row};
use crate::auth::policy::{check_role_unit, require_admin};
use crate::auth::{Principal, Role, Subject, authorize, password};
use crate::error::{AppError, AppResult};
use crate::http::{Cursor, IfMatch, JsonBody, Page, PageParams, created, json_ok, merge_patch};
use crate::journal::{self, Entity, Entry, Journaled, RowKey};
use crate::schema::accounts;
use crate::state::AppState;
use crate::validate::Checks;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(show)
        .service(update)
        .service(remove);
}

pub const MIN_PASSWORD_CHARS: usize = 10;

/// An account as sent by clients. `password` is write-only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    /// 3 to 64 characters: lowercase letters, digits, `.`, `_`, `-`.
    #[schema(example = "wang.fang", pattern = "^[a-z0-9._-]{3,64}$")]
    pub username: String,
    /// At least 10 characters. Required on create; on PATCH, setting it changes the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        example = "correct horse battery",
        min_length = 10,
        max_length = 200,
        write_only
    )]
    pub password: Option<String>,
    pub role: Role,
    /// Required for every role but admin.
    pub unit_id: Option<Uuid>,
    /// A disabled account cannot log in, and its tokens stop working.
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: Uuid,
    #[schema(example = "wang.fang")]
    pub username: String,
    pub role: Role,
    pub unit_id: Option<Uuid>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Journaled for Account {
    const ENTITY: Entity = Entity::Account;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, None, self.unit_id)
    }
}

impl Lockable for Account {
    type Key = Uuid;

    async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Account> {
        load(conn, id, true).await
    }
}

impl Removable for Account {
    async fn delete(conn: &mut AsyncPgConnection, account: &Account) -> AppResult<()> {
        diesel::delete(accounts::table.find(account.id))
            .execute(conn)
            .await?;
        Ok(())
    }
}

impl From<&Account> for AccountInput {
    fn from(a: &Account) -> Self {
        AccountInput {
            username: a.username.clone(),
            password: None,
            role: a.role,
            unit_id: a.unit_id,
            disabled: a.disabled,
        }
    }
}

fn is_username(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

impl AccountInput {
    async fn validate(&self, conn: &mut AsyncPgConnection, creating: bool) -> AppResult<()> {
        let mut c = Checks::new();
        c.check(
            is_username(&self.username),
            "username",
            "3 to 64 lowercase letters, digits, '.', '_' or '-'",
        );
        match &self.password {
            None if creating => c.fail("password", "is required"),
            Some(p) if p.chars().count() < MIN_PASSWORD_CHARS => c.fail(
                "password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            ),
            Some(p) if p.chars().count() > 200 => {
                c.fail("password", "must be at most 200 characters")
            }
            _ => {}
        }
        check_role_unit(conn, self.role, self.unit_id, &mut c).await?;
        c.finish()
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = accounts, treat_none_as_null = true)]
struct AccountValues {
    username: String,
    role: Role,
    unit_id: Option<Uuid>,
    disabled: bool,
}

impl From<&AccountInput> for AccountValues {
    fn from(a: &AccountInput) -> Self {
        AccountValues {
            username: a.username.clone(),
            role: a.role,
            unit_id: a.unit_id,
            disabled: a.disabled,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilter {
    pub role: Option<Role>,
    pub unit_id: Option<Uuid>,
}

/// List accounts.
///
/// Roles: admin.
#[utoipa::path(
    tag = "accounts",
    operation_id = "listAccounts",
    params(PageParams, AccountFilter),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of accounts", body = Page<Account>))
)]
#[get("/accounts")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageParams>,
    filter: web::Query<AccountFilter>,
) -> AppResult<HttpResponse> {
    require_admin(&principal)?;
    let page = page.validate()?;
    let mut query = crate::keyset_page!(
        accounts::table.select(Account::as_select()),
        page,
        accounts::id
    );
    crate::filter_by!(query,
        filter.role => accounts::role,
        filter.unit_id => accounts::unit_id,
    );
    let rows = query.load(&mut state.conn().await?).await?;
    Page::from_rows(rows, &page, |a: &Account| Cursor::by_id(a.id)).respond(&req)
}

/// Create an account.
///
/// Roles: admin.
#[utoipa::path(
    tag = "accounts",
    operation_id = "createAccount",
    request_body = AccountInput,
    security(("bearer" = [])),
    responses((status = 201, description = "Created: the new account", body = Account, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/accounts")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<AccountInput>,
) -> AppResult<HttpResponse> {
    let auth = authorize(&principal, Subject::Account, &[])?;
    let mut input = body.0;
    input.validate(&mut *state.conn().await?, true).await?;
    // Hashing takes tens of milliseconds: no pooled connection waits for it.
    let hash = password::hash(input.password.take().unwrap_or_default()).await?;
    let account = state
        .conn()
        .await?
        .transaction::<_, AppError, _>(async move |conn| {
            let account: Account = diesel::insert_into(accounts::table)
                .values((
                    accounts::id.eq(Uuid::now_v7()),
                    accounts::password_hash.eq(hash),
                    AccountValues::from(&input),
                ))
                .returning(Account::as_returning())
                .get_result(conn)
                .await?;
            journal::record(conn, &auth, &[Entry::create_of(&account)?]).await?;
            Ok(account)
        })
        .await?;
    created(&req, format!("/api/v1/accounts/{}", account.id), &account)
}

/// Get an account.
///
/// Roles: admin.
#[utoipa::path(
    tag = "accounts",
    operation_id = "getAccount",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The account", body = Account, headers(("ETag" = String))))
)]
#[get("/accounts/{id}")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    require_admin(&principal)?;
    json_ok(&req, &load(&mut *state.conn().await?, *id, false).await?)
}

/// Change an account (JSON merge patch; `password` sets a new one). Changing the role, unit,
/// password or disabling the account revokes its current sessions.
///
/// Roles: admin.
#[utoipa::path(
    tag = "accounts",
    operation_id = "updateAccount",
    params(("id" = Uuid, Path)),
    request_body(content = serde_json::Value, description = "RFC 7396 merge patch of an AccountInput",
        content_type = "application/merge-patch+json", example = json!({"disabled": true})),
    security(("bearer" = [])),
    responses((status = 200, description = "The changed account", body = Account, headers(("ETag" = String))))
)]
#[patch("/accounts/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: JsonBody<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let auth = authorize(&principal, Subject::Account, &[])?;
    let current = load(&mut *state.conn().await?, *id, false).await?;
    let mut input: AccountInput = merge_patch::merged(&AccountInput::from(&current), &patch.0)?;
    input.validate(&mut *state.conn().await?, false).await?;
    // Hashing takes tens of milliseconds: no pooled connection waits for it.
    let password_changed = input.password.is_some();
    let new_hash = match input.password.take() {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    let account = state
        .conn()
        .await?
        .transaction::<_, AppError, _>(async move |conn| {
            let before = load(conn, current.id, true).await?;
            if_match.check(&before)?;
            if before.updated_at != current.updated_at {
                // Changed meanwhile: apply the patch to what is there now.
                input = merge_patch::merged(&AccountInput::from(&before), &patch.0)?;
                input.password = None;
                input.validate(conn, false).await?;
            }
            let after: Account = diesel::update(accounts::table.find(before.id))
                .set((
                    AccountValues::from(&input),
                    new_hash.map(|hash| accounts::password_hash.eq(hash)),
                    accounts::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Account::as_returning())
                .get_result(conn)
                .await?;
            let credentials_changed = password_changed
                || after.disabled
                || after.role != before.role
                || after.unit_id != before.unit_id;
            if credentials_changed {
                crate::api::sessions::end_all_of_account(conn, after.id).await?;
            }
            journal::record(conn, &auth, &[Entry::update_of(&before, &after)?]).await?;
            Ok(after)
        })
        .await?;
    json_ok(&req, &account)
}

async fn load(conn: &mut AsyncPgConnection, id: Uuid, lock: bool) -> AppResult<Account> {
    let query = accounts::table.find(id).select(Account::as_select());
    Ok(if lock {
        query.for_update().first(conn).await?
    } else {
        query.first(conn).await?
    })
}

/// Delete an account; its tokens stop working at once.
///
/// Roles: admin.
#[utoipa::path(
    tag = "accounts",
    operation_id = "deleteAccount",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/accounts/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    authorize(&principal, Subject::Account, &[])?;
    remove_row::<Account>(&state, &principal, Subject::Account, *id, &if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}
