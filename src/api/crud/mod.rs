//! The standard endpoints of a resource, written once: list, create, get, change (merge
//! patch) and delete. A resource states what is particular to it through the traits below
//! (its subject, what names a row, who may see it, how a page is queried, how an input is
//! stored) and declares its endpoints with [`crate::resource_handlers!`]: each keeps its own
//! operation id, path, doc comment (the operation's summary and description) and responses.
//!
//! The write steps themselves (lock, authorize, merge, `If-Match`, validate, store, journal)
//! are [`patch_row`] and [`remove_row`] in `shared.rs`.

use actix_web::{HttpRequest, HttpResponse};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::api::shared::{Changes, Lockable, Owned, Removable, patch_row, remove_row};
use crate::auth::policy::require_admin;
use crate::auth::{Authorized, MaybePrincipal, Principal, Subject, authorize};
use crate::error::{AppError, AppResult};
use crate::http::{Cursor, IfMatch, Page, PageParams, PageRequest, created, json_ok};
use crate::journal::{self, Entry, Journaled};
use crate::state::AppState;

mod macros;

/// A resource the standard endpoints serve.
pub trait Resource: Journaled + Send + Sync + Sized {
    /// What the policy decides its writes by.
    const SUBJECT: Subject;

    /// Only the admin writes it: other roles are refused before the row is even read.
    const ADMIN_ONLY: bool = false;

    /// The row's URL (the `Location` of a 201).
    fn location(&self) -> String;

    /// Whether the caller may read these rows at all (checked before any is read).
    fn may_read(_caller: &MaybePrincipal) -> AppResult<()> {
        Ok(())
    }

    /// Whether anonymous callers may see the row (default: every row).
    fn is_public(&self) -> bool {
        true
    }

    /// What a caller gets to see of the row: all of it (the default: token holders see every
    /// row, anonymous callers the public ones; the others are not found), or part of it.
    fn seen_by(self, caller: &MaybePrincipal) -> AppResult<Self> {
        if caller.sees_everything() || self.is_public() {
            Ok(self)
        } else {
            Err(AppError::not_found())
        }
    }

    /// The subject a merge patch is authorized as (some roles may change some fields only).
    fn patch_subject(_patch: &serde_json::Value) -> Subject {
        Self::SUBJECT
    }
}

/// Whether a read locks the row for the rest of its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    No,
    ForUpdate,
}

/// A row found by what names it in the path (an id; a campaign and an id): the one way to
/// read a row for showing it, and to lock it for a write.
pub trait Stored: Resource {
    type Key: Send;

    fn read(
        conn: &mut AsyncPgConnection,
        key: Self::Key,
        lock: Lock,
    ) -> impl Future<Output = AppResult<Self>> + Send;
}

impl<R: Stored> Lockable for R {
    type Key = <R as Stored>::Key;

    fn lock(
        conn: &mut AsyncPgConnection,
        key: Self::Key,
    ) -> impl Future<Output = AppResult<Self>> + Send {
        R::read(conn, key, Lock::ForUpdate)
    }
}

/// What a client sends to create a row: who will own it, and how it is validated and stored.
pub trait NewRow: Owned + DeserializeOwned + Send {
    type Row: Resource;

    /// Completes the input from the caller (defaults), before it is authorized.
    fn prepare(self, _principal: &Principal) -> Self {
        self
    }

    /// Slow work done once authorized, outside the transaction and holding no connection
    /// while it runs (default: none), e.g. hashing a password.
    fn ready(self, _state: &AppState) -> impl Future<Output = AppResult<Self>> + Send {
        async { Ok(self) }
    }

    /// Validates and inserts the row (not journaled: [`insert`] is).
    fn store(
        self,
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> impl Future<Output = AppResult<Self::Row>> + Send;
}

/// Validates and inserts a row, journaled (POST and the seed loader).
pub async fn insert<I: NewRow>(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    id: Uuid,
    input: I,
) -> AppResult<I::Row> {
    let row = input.store(conn, id).await?;
    journal::record(conn, auth, &[Entry::create_of(&row)?]).await?;
    Ok(row)
}

/// What a client sends to create a row in a campaign (`POST /campaigns/{id}/...`).
pub trait NewInCampaign: Owned + DeserializeOwned + Send + Sync {
    type Row: Resource;

    /// All the owning units, once the campaign is known (default: [`Self::owners`]).
    fn owners_in(
        &self,
        _conn: &mut AsyncPgConnection,
        _campaign_id: Uuid,
    ) -> impl Future<Output = AppResult<Vec<Option<Uuid>>>> + Send {
        async { Ok(self.owners()) }
    }

    /// Validates and inserts the row (not journaled: [`insert_in_campaign`] is).
    fn store(
        self,
        conn: &mut AsyncPgConnection,
        campaign_id: Uuid,
        id: Uuid,
    ) -> impl Future<Output = AppResult<Self::Row>> + Send;
}

/// Validates and inserts a row of a campaign, journaled (POST and the seed loader).
pub async fn insert_in_campaign<I: NewInCampaign>(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    campaign_id: Uuid,
    id: Uuid,
    input: I,
) -> AppResult<I::Row> {
    let row = input.store(conn, campaign_id, id).await?;
    journal::record(conn, auth, &[Entry::create_of(&row)?]).await?;
    Ok(row)
}

/// What every list query is given: the page asked for, and who asks.
pub struct ListRequest<'a> {
    pub state: &'a AppState,
    pub page: &'a PageRequest,
    pub caller: &'a MaybePrincipal,
}

/// A resource listed a page at a time, in the order of its keyset.
pub trait Listed: Resource {
    /// The list's query parameters besides the page.
    type Filter;

    /// The sort key of a row: the next page starts after the last row's (default: its id).
    fn cursor(&self) -> Cursor {
        Cursor::by_id(self.row_key().id)
    }

    /// Up to `page.fetch()` rows after the page's cursor that the filter keeps and the
    /// caller may see.
    fn page(
        list: ListRequest<'_>,
        filter: &Self::Filter,
    ) -> impl Future<Output = AppResult<Vec<Self>>>;
}

/// The filter of a list that takes none besides the page.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct NoFilter {}

/// The filter of a list nested in a campaign (`/campaigns/{id}/...`): the campaign's id or
/// slug, and the list's own query parameters.
pub struct InCampaign<F> {
    pub campaign: String,
    pub filter: F,
}

/// `GET /things`: a page of rows, with a `Link` to the next one.
pub async fn list<R: Listed>(
    req: &HttpRequest,
    state: &AppState,
    caller: &MaybePrincipal,
    page: &PageParams,
    filter: &R::Filter,
) -> AppResult<HttpResponse> {
    R::may_read(caller)?;
    let page = page.validate()?;
    let list = ListRequest {
        state,
        page: &page,
        caller,
    };
    let rows = R::page(list, filter).await?;
    Page::from_rows(rows, &page, R::cursor).respond(req)
}

/// `POST /things`: authorize the new row's owners, insert it and journal it, 201.
pub async fn create<I: NewRow>(
    req: &HttpRequest,
    state: &AppState,
    principal: &Principal,
    input: I,
) -> AppResult<HttpResponse> {
    let input = input.prepare(principal);
    let auth = authorize(principal, I::Row::SUBJECT, &input.owners())?;
    let input = input.ready(state).await?;
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            insert(conn, &auth, Uuid::now_v7(), input).await
        })
        .await?;
    created(req, row.location(), &row)
}

/// `POST /campaigns/{id}/things`: as [`create`], authorizing again once the campaign is known.
pub async fn create_in_campaign<I: NewInCampaign>(
    req: &HttpRequest,
    state: &AppState,
    principal: &Principal,
    campaign: &str,
    input: I,
) -> AppResult<HttpResponse> {
    authorize(principal, I::Row::SUBJECT, &input.owners())?;
    let mut conn = state.conn().await?;
    let campaign = crate::api::shared::campaign_id(&mut conn, campaign).await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            let owners = input.owners_in(conn, campaign).await?;
            let auth = authorize(principal, I::Row::SUBJECT, &owners)?;
            insert_in_campaign(conn, &auth, campaign, Uuid::now_v7(), input).await
        })
        .await?;
    created(req, row.location(), &row)
}

/// `GET /things/{id}`: the row as the caller may see it.
pub async fn show<R: Stored>(
    req: &HttpRequest,
    state: &AppState,
    caller: &MaybePrincipal,
    key: R::Key,
) -> AppResult<HttpResponse> {
    R::may_read(caller)?;
    let mut conn = state.conn().await?;
    let row = R::read(&mut conn, key, Lock::No).await?;
    json_ok(req, &row.seen_by(caller)?)
}

/// What a handler's caller is, for reads: anyone, or any valid token.
pub trait Caller {
    fn sight(self) -> MaybePrincipal;
}

impl Caller for MaybePrincipal {
    fn sight(self) -> MaybePrincipal {
        self
    }
}

impl Caller for Principal {
    fn sight(self) -> MaybePrincipal {
        MaybePrincipal(Some(self))
    }
}

/// [`Resource::may_read`] of what only the committee office reads.
pub fn admin_reads(caller: &MaybePrincipal) -> AppResult<()> {
    match &caller.0 {
        Some(principal) => require_admin(principal),
        None => Err(AppError::unauthenticated()),
    }
}

/// The role check of an admin-only resource, made before its row is read.
fn check_admin_only<R: Resource>(principal: &Principal) -> AppResult<()> {
    if R::ADMIN_ONLY {
        authorize(principal, R::SUBJECT, &[])?;
    }
    Ok(())
}

/// `PATCH /things/{id}`: [`patch_row`], answered with the changed row.
pub async fn update<R: Lockable + Resource, I: Changes<R>>(
    req: &HttpRequest,
    state: &AppState,
    principal: &Principal,
    key: <R as Lockable>::Key,
    if_match: &IfMatch,
    patch: &serde_json::Value,
) -> AppResult<HttpResponse> {
    check_admin_only::<R>(principal)?;
    let subject = R::patch_subject(patch);
    let row = patch_row::<R, I>(state, principal, subject, key, if_match, patch).await?;
    json_ok(req, &row)
}

/// `DELETE /things/{id}`: [`remove_row`], 204.
pub async fn remove<R: Removable + Resource>(
    state: &AppState,
    principal: &Principal,
    key: <R as Lockable>::Key,
    if_match: &IfMatch,
) -> AppResult<HttpResponse> {
    check_admin_only::<R>(principal)?;
    remove_row::<R>(state, principal, R::SUBJECT, key, if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What the handlers [`crate::resource_handlers!`] declares name: import it where it is used.
pub mod prelude {
    pub use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
    pub use uuid::Uuid;

    pub use crate::auth::{MaybePrincipal, Principal};
    pub use crate::error::AppResult;
    pub use crate::http::{IfMatch, JsonBody, Page, PageParams};
    pub use crate::state::AppState;
}
