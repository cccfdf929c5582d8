//! What several resources share: the publication status and visibility of events and
//! trainings, a venue, the reference checks that tie a row to its campaign, and the steps
//! every merge-patch write takes.

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Authorized, Principal, Subject, authorize};
use crate::error::{AppError, AppResult};
use crate::http::{IfMatch, merge_patch};
use crate::journal::{self, Entry, Journaled};
use crate::schema::{campaigns, events};
use crate::state::AppState;
use crate::validate::Checks;

pub use crate::vocabulary::{Status, Visibility};

/// The query both calendar lists (events and trainings, `$table`, rows read as `$row`) start
/// from: the page in order of start time; for anonymous callers, no drafts and nothing
/// internal; and the filters both have (campaign, status, visibility, time window, changes
/// since, words of the title). `$request` is the [`crate::api::crud::ListRequest`].
#[macro_export]
macro_rules! calendar_page {
    ($request:ident, $filter:ident, $table:ident, $row:ident) => {{
        let q = $crate::validate::search_term($filter.q.as_deref())?;
        let selected = $table::table.select($row::as_select());
        let mut query =
            $crate::keyset_page!(selected, $request.page, $table::starts_at, $table::id);
        if !$request.caller.sees_everything() {
            query = query
                .filter($table::status.ne($crate::api::shared::Status::Draft))
                .filter($table::visibility.eq($crate::api::shared::Visibility::Public));
        }
        $crate::filter_by!(query,
            $filter.campaign_id => $table::campaign_id,
            $filter.status => $table::status,
            $filter.visibility => $table::visibility,
            $filter.from => $table::ends_at: ge,
            $filter.to => $table::starts_at: lt,
            $filter.updated_since => $table::updated_at: ge,
            q => $table::title: ilike,
        );
        query
    }};
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Venue {
    #[schema(example = "康泰华都小区")]
    pub name: String,
    #[schema(example = "高州市潘州街道康泰华都小区广场")]
    pub address: Option<String>,
}

/// The values of a venue's two columns in an insert or an update.
pub type VenueColumnValues<'a, Name, Address> = (
    diesel::dsl::Eq<Name, Option<&'a str>>,
    diesel::dsl::Eq<Address, Option<&'a str>>,
);

/// A venue as stored: the `venue_name` and `venue_address` columns, read straight into the
/// `venue` of an event or a training (no venue without a name).
#[derive(Queryable)]
pub struct VenueColumns(Option<String>, Option<String>);

impl From<VenueColumns> for Option<Venue> {
    fn from(VenueColumns(name, address): VenueColumns) -> Self {
        name.map(|name| Venue { name, address })
    }
}

impl Venue {
    /// The values of a venue's two columns (`name`, `address`) in an insert or an update.
    pub fn columns<Name, Address>(
        venue: Option<&Venue>,
        name: Name,
        address: Address,
    ) -> VenueColumnValues<'_, Name, Address>
    where
        Name: ExpressionMethods + Expression<SqlType = Nullable<Text>>,
        Address: ExpressionMethods + Expression<SqlType = Nullable<Text>>,
    {
        let (n, a) = match venue {
            Some(v) => (Some(v.name.as_str()), v.address.as_deref()),
            None => (None, None),
        };
        (name.eq(n), address.eq(a))
    }

    pub fn check(venue: Option<&Venue>, c: &mut Checks) {
        if let Some(v) = venue {
            c.text("venue.name", &v.name, 200);
            c.opt_text("venue.address", v.address.as_deref(), 300);
        }
    }
}

pub fn default_status() -> Status {
    Status::Draft
}

pub fn default_visibility() -> Visibility {
    Visibility::Public
}

/// The campaign a path names, by its id or by its slug.
pub fn campaign_named(
    id_or_slug: &str,
) -> Box<dyn BoxableExpression<campaigns::table, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>>
{
    match Uuid::parse_str(id_or_slug) {
        Ok(id) => Box::new(campaigns::id.eq(id)),
        Err(_) => Box::new(campaigns::slug.eq(id_or_slug.to_owned())),
    }
}

/// The id of the campaign a path names by its id or slug (404 if there is none).
pub async fn campaign_id(conn: &mut AsyncPgConnection, id_or_slug: &str) -> AppResult<Uuid> {
    Ok(campaigns::table
        .select(campaigns::id)
        .filter(campaign_named(id_or_slug))
        .first(conn)
        .await?)
}

/// The campaign must exist, and an area must be one of its areas when it lists any.
pub async fn check_campaign_area(
    conn: &mut AsyncPgConnection,
    campaign_id: Uuid,
    area: Option<&str>,
    c: &mut Checks,
) -> AppResult<()> {
    let areas: Option<Vec<String>> = campaigns::table
        .find(campaign_id)
        .select(campaigns::areas)
        .first(conn)
        .await
        .optional()?;
    match (areas, area) {
        (None, _) => c.fail("campaign_id", "no such campaign"),
        (Some(areas), Some(area)) if !areas.is_empty() && !areas.iter().any(|a| a == area) => {
            c.fail("area", "is not one of the campaign's areas")
        }
        _ => {}
    }
    Ok(())
}

/// An optional `event_id` must name an event of the same campaign.
pub async fn check_event_campaign(
    conn: &mut AsyncPgConnection,
    event_id: Option<Uuid>,
    campaign_id: Uuid,
    c: &mut Checks,
) -> AppResult<()> {
    let Some(event_id) = event_id else {
        return Ok(());
    };
    let event_campaign: Option<Uuid> = events::table
        .find(event_id)
        .select(events::campaign_id)
        .first(conn)
        .await
        .optional()?;
    match event_campaign {
        None => c.fail("event_id", "no such event"),
        Some(campaign) if campaign != campaign_id => {
            c.fail("event_id", "belongs to another campaign")
        }
        _ => {}
    }
    Ok(())
}

/// The checks every merge-patch write makes between locking its row and validating, in this
/// order: the caller must own the row as it is, before its patch is even read ([`merge_authorized`]:
/// and the patch is merged into the row's input); the caller must own the row as it is and as it
/// will be, and `If-Match` must hold ([`authorize_merged`]).
pub fn merge_authorized<R, I>(
    principal: &Principal,
    subject: Subject,
    before: &R,
    patch: &serde_json::Value,
) -> AppResult<I>
where
    R: Journaled,
    I: for<'a> From<&'a R> + Serialize + DeserializeOwned,
{
    authorize(principal, subject, &[before.owner()])?;
    merge_patch::merged(&I::from(before), patch)
}

/// The last steps of a merge-patch write (see [`merge_authorized`]): the caller must own the
/// row as it is and as it will be (`owners`); `If-Match` must hold.
pub fn authorize_merged<R: Journaled>(
    principal: &Principal,
    subject: Subject,
    before: &R,
    owners: Vec<Option<Uuid>>,
    if_match: &IfMatch,
) -> AppResult<Authorized> {
    let mut all = vec![before.owner()];
    all.extend(owners);
    let auth = authorize(principal, subject, &all)?;
    if_match.check(before)?;
    Ok(auth)
}

/// A row stays in the campaign it was made for.
pub fn keep_campaign(before: Uuid, after: Uuid) -> AppResult<()> {
    if before == after {
        Ok(())
    } else {
        Err(AppError::invalid_field("campaign_id", "cannot be changed"))
    }
}

/// A row the write path can find and lock by what names it in the path.
pub trait Lockable: Journaled + Send + Sync + Sized {
    /// What names the row in the path (an id; a campaign and an id).
    type Key: Send;

    /// Reads the row, locked for the rest of the transaction.
    fn lock(
        conn: &mut AsyncPgConnection,
        key: Self::Key,
    ) -> impl Future<Output = AppResult<Self>> + Send;
}

/// An input (a row as a client sends it) that names the units the row will belong to.
pub trait Owned {
    /// Default: none, the row is the committee office's own.
    fn owners(&self) -> Vec<Option<Uuid>> {
        Vec::new()
    }
}

/// What a JSON merge patch is merged into through [`patch_row`]: the row as a client would
/// send it, stored over the row once patched.
pub trait Changes<R>: Owned + Serialize + DeserializeOwned + for<'a> From<&'a R> + Send {
    /// Completes the patched input where a field follows another the patch changed (default:
    /// nothing follows), before its owners are authorized.
    fn complete(&mut self, _patch: &serde_json::Value) {}

    /// Owners only the database knows (e.g. the unit of a committee member's body): the
    /// caller must own them too (default: none).
    fn owners_found(
        &self,
        _conn: &mut AsyncPgConnection,
        _before: &R,
    ) -> impl Future<Output = AppResult<Vec<Option<Uuid>>>> + Send {
        async { Ok(Vec::new()) }
    }

    /// Validates the input and updates the row.
    fn update(
        self,
        conn: &mut AsyncPgConnection,
        before: &R,
    ) -> impl Future<Output = AppResult<R>> + Send;
}

/// A row deleted through [`remove_row`]: on its own (nothing refers to it, or the database
/// cascades), or with the rows that refer to it.
pub trait Removable: Lockable {
    /// What goes or changes with the row (default: nothing). Their owners must be the
    /// caller's too, and each of their changes is journaled.
    fn dependents(
        _conn: &mut AsyncPgConnection,
        _row: &Self,
    ) -> impl Future<Output = AppResult<Option<Box<dyn DependentRows>>>> + Send {
        async { Ok(None) }
    }

    /// Deletes the row itself (after its dependents); returns the journal entries of what the
    /// database deletes with it (journaled before the row's own).
    fn delete(
        conn: &mut AsyncPgConnection,
        row: &Self,
    ) -> impl Future<Output = AppResult<Vec<Entry>>> + Send;
}

/// Every PATCH, in one transaction: lock the row, [`merge_authorized`] (authorize, merge),
/// [`authorize_merged`] (old and new owners and those only the database knows, `If-Match`),
/// validate and update, journal.
pub async fn patch_row<R: Lockable, I: Changes<R>>(
    state: &AppState,
    principal: &Principal,
    subject: Subject,
    key: R::Key,
    if_match: &IfMatch,
    patch: &serde_json::Value,
) -> AppResult<R> {
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let before = R::lock(conn, key).await?;
        let mut input: I = merge_authorized(principal, subject, &before, patch)?;
        input.complete(patch);
        let mut owners = input.owners();
        owners.extend(input.owners_found(conn, &before).await?);
        let auth = authorize_merged(principal, subject, &before, owners, if_match)?;
        let after = input.update(conn, &before).await?;
        journal::record(conn, &auth, &[Entry::update_of(&before, &after)?]).await?;
        Ok(after)
    })
    .await
}

/// Rows that go or change with a deleted row (an event's tallies, trainings and media
/// reports: `api/cascade.rs`).
pub trait DependentRows: Send {
    /// The owning unit of each: the caller must own them too.
    fn owners(&self) -> Vec<Option<Uuid>>;

    /// Deletes or detaches them; the journal entry of each change.
    fn detach_and_delete<'a>(
        self: Box<Self>,
        conn: &'a mut AsyncPgConnection,
    ) -> BoxFuture<'a, AppResult<Vec<Entry>>>;
}

/// Every DELETE, in one transaction: lock the row, authorize its owner and its dependents',
/// `If-Match`, delete or detach the dependents, delete the row, journal.
pub async fn remove_row<R: Removable>(
    state: &AppState,
    principal: &Principal,
    subject: Subject,
    key: R::Key,
    if_match: &IfMatch,
) -> AppResult<()> {
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let before = R::lock(conn, key).await?;
        let dependents = R::dependents(conn, &before).await?;
        let mut owners = vec![before.owner()];
        owners.extend(dependents.iter().flat_map(|rows| rows.owners()));
        let auth = authorize(principal, subject, &owners)?;
        if_match.check(&before)?;
        let mut entries = match dependents {
            Some(dependents) => dependents.detach_and_delete(conn).await?,
            None => Vec::new(),
        };
        entries.extend(R::delete(conn, &before).await?);
        entries.push(Entry::delete_of(&before)?);
        journal::record(conn, &auth, &entries).await
    })
    .await
}

/// The part of a division code its subdivisions share: `440000` (a province) → `44`,
/// `440900` (a prefecture) → `4409`, `440981` (a county) → itself. `None` if not a code.
pub fn region_prefix(code: &str) -> Option<&str> {
    if !is_region_code(code) {
        return None;
    }
    Some(if code.ends_with("0000") {
        &code[..2]
    } else if code.ends_with("00") {
        &code[..4]
    } else {
        code
    })
}

/// A six-digit division code (GB/T 2260).
pub fn is_region_code(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}
