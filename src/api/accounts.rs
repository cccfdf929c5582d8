//! `/accounts`: people who log in (`POST /auth/token`) to get short-lived tokens.
//! Passwords are stored as argon2id hashes and never returned.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::crud::prelude::*;
use crate::api::crud::{ListRequest, Listed, Lock, NewRow, Resource, Stored, admin_reads};
use crate::api::shared::Lockable;
use crate::api::shared::Owned;
use crate::auth::policy::check_role_unit;
use crate::auth::{Role, Subject, authorize, password};
use crate::error::AppError;
use crate::http::{json_ok, merge_patch};
use crate::journal::{self, Entity, Entry, Journaled, RowKey};
use crate::schema::accounts;
use crate::validate::Checks;

pub const MIN_PASSWORD_CHARS: usize = 10;

/// An account as sent by clients. `password` is write-only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Insertable, AsChangeset)]
#[diesel(table_name = accounts, treat_none_as_null = true)]
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
    #[diesel(skip_insertion, skip_update)]
    pub password: Option<String>,
    pub role: Role,
    /// Required for every role but admin.
    pub unit_id: Option<Uuid>,
    /// A disabled account cannot log in, and its tokens stop working.
    #[serde(default)]
    pub disabled: bool,
    /// The new password's hash, once [`NewRow::ready`] has made it.
    #[serde(skip)]
    #[diesel(skip_update)]
    password_hash: Option<String>,
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

crate::stored_by_id!(Account, accounts);
crate::removable_by_id!(Account, accounts);

impl Resource for Account {
    const SUBJECT: Subject = Subject::Account;
    const ADMIN_ONLY: bool = true;

    fn location(&self) -> String {
        format!("/api/v1/accounts/{}", self.id)
    }

    fn may_read(caller: &MaybePrincipal) -> AppResult<()> {
        admin_reads(caller)
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
            password_hash: None,
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilter {
    pub role: Option<Role>,
    pub unit_id: Option<Uuid>,
}

impl Listed for Account {
    type Filter = AccountFilter;

    async fn page(request: ListRequest<'_>, filter: &AccountFilter) -> AppResult<Vec<Self>> {
        let selected = accounts::table.select(Account::as_select());
        let mut query = crate::keyset_page!(selected, request.page, accounts::id);
        crate::filter_by!(query,
            filter.role => accounts::role,
            filter.unit_id => accounts::unit_id,
        );
        Ok(query.load(&mut request.state.conn().await?).await?)
    }
}

crate::resource_handlers! {
    #[resource(Account, tag = "accounts", key id: Uuid = (("id" = Uuid, Path)))]

    #[list("listAccounts", "/accounts", token, AccountFilter, "A page of accounts")]
    /// List accounts.
    ///
    /// Roles: admin.
    fn list;

    #[create("createAccount", "/accounts", AccountInput, "Created: the new account")]
    /// Create an account.
    ///
    /// Roles: admin.
    fn create;

    #[show("getAccount", "/accounts/{id}", token, "The account")]
    /// Get an account.
    ///
    /// Roles: admin.
    fn show;

    #[custom]
    fn update;

    #[delete("deleteAccount", "/accounts/{id}", "Deleted")]
    /// Delete an account; its tokens stop working at once.
    ///
    /// Roles: admin.
    fn remove;
}

impl Owned for AccountInput {}

impl NewRow for AccountInput {
    type Row = Account;

    /// Validates, then hashes the password (tens of milliseconds) holding no connection.
    async fn ready(mut self, state: &AppState) -> AppResult<Self> {
        self.validate(&mut *state.conn().await?, true).await?;
        let password = self.password.take().unwrap_or_default();
        self.password_hash = Some(password::hash(password).await?);
        Ok(self)
    }

    async fn store(self, conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Account> {
        Ok(diesel::insert_into(accounts::table)
            .values((accounts::id.eq(id), &self))
            .returning(Account::as_returning())
            .get_result(conn)
            .await?)
    }
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
    let current = Account::read(&mut *state.conn().await?, *id, Lock::No).await?;
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
            let before = Account::lock(conn, current.id).await?;
            if_match.check(&before)?;
            if before.updated_at != current.updated_at {
                // Changed meanwhile: apply the patch to what is there now.
                input = merge_patch::merged(&AccountInput::from(&before), &patch.0)?;
                input.password = None;
                input.validate(conn, false).await?;
            }
            let after: Account = diesel::update(accounts::table.find(before.id))
                .set((
                    &input,
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
