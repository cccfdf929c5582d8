//! `/webhooks`: push instead of poll. A subscription gets every committed change of the types
//! it names, at least once and in commit order, signed as the Standard Webhooks spec says.
//! The delivery worker is in `delivery.rs`.

pub mod delivery;
mod ssrf;

use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::changes::{latest_seq, visible_types};
use crate::api::crud::prelude::*;
use crate::api::crud::{ListRequest, Listed, Lock, NoFilter, Resource, Stored};
use crate::api::shared::{Lockable, authorize_merged, merge_authorized};
use crate::auth::{Authorized, Role, Subject, authorize};
use crate::error::AppError;
use crate::http::{Cursor, created, json_ok};
use crate::journal::{self, Entity, Entry, Journaled, RowKey};
use crate::schema::{webhook_deliveries, webhook_subscriptions};
use crate::validate::Checks;

pub use delivery::{Worker, sign};

const SECRET_PREFIX: &str = "whsec_";

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// http(s) only; loopback and private addresses are refused (unless the server runs with
    /// `LEARNWEEK_WEBHOOK_ALLOW_PRIVATE=1`).
    #[schema(example = "https://tv.example.org/hooks/learnweek")]
    pub url: String,
    /// Change types to deliver, e.g. `["event", "training"]`.
    #[schema(example = json!(["event", "training"]))]
    pub types: Vec<String>,
    /// `whsec_` + base64 of 24 to 64 random bytes; generated when absent. Shown only in the
    /// creation response.
    #[serde(default)]
    #[schema(write_only, pattern = "^whsec_[A-Za-z0-9+/]{32,88}={0,2}$")]
    pub secret: Option<String>,
    /// The owning unit: defaults to the caller's; admins may leave it null.
    pub unit_id: Option<Uuid>,
    /// Set `true` to re-enable a disabled subscription: it resumes with the change it stopped at.
    #[serde(default = "active_default")]
    pub active: bool,
}

fn active_default() -> bool {
    true
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Serialize, ToSchema)]
#[diesel(table_name = webhook_subscriptions)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub types: Vec<String>,
    #[serde(skip)]
    pub secret: String,
    pub unit_id: Option<Uuid>,
    pub active: bool,
    /// Why it was disabled (a `410 Gone`, or failing for 3 days).
    pub disabled_reason: Option<String>,
    /// The cursor (change-feed position) of the last delivered change.
    #[serde(skip)]
    pub cursor: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub failing_since: Option<DateTime<Utc>>,
    /// Failed attempts at the current change.
    pub attempts: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Webhook> for WebhookInput {
    fn from(w: &Webhook) -> Self {
        WebhookInput {
            url: w.url.clone(),
            types: w.types.clone(),
            secret: None,
            unit_id: w.unit_id,
            active: w.active,
        }
    }
}

/// The creation answer: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

impl WebhookInput {
    /// Every check, the DNS lookup of the URL's host included. That lookup can take as long as
    /// the resolver's timeout, so this runs before the request takes a pooled connection or
    /// locks a row.
    async fn validate(&self, principal: &Principal, allow_private: bool) -> AppResult<()> {
        let mut c = Checks::new();
        match ssrf::parse_url(&self.url) {
            Err(message) => c.fail("url", message),
            Ok(target) if !allow_private => {
                if let Err(message) = ssrf::check_resolves_publicly(&target).await {
                    c.fail("url", message);
                }
            }
            Ok(_) => {}
        }
        self.check_fields(principal, &mut c);
        c.finish()
    }

    /// The checks that need no network, for inside a transaction. Not `async` on purpose: it
    /// cannot wait on DNS while a connection and a row lock are held.
    fn validate_offline(&self, principal: &Principal) -> AppResult<()> {
        let mut c = Checks::new();
        if let Err(message) = ssrf::parse_url(&self.url) {
            c.fail("url", message);
        }
        self.check_fields(principal, &mut c);
        c.finish()
    }

    fn check_fields(&self, principal: &Principal, c: &mut Checks) {
        let allowed = visible_types(principal);
        c.check(!self.types.is_empty(), "types", "name at least one type");
        for (i, t) in self.types.iter().enumerate() {
            c.check(
                allowed.contains(&t.as_str()),
                &format!("types[{i}]"),
                format!("one of {}", allowed.join(", ")),
            );
            c.check(
                !self.types[..i].contains(t),
                &format!("types[{i}]"),
                "is listed twice",
            );
        }
        if let Some(secret) = &self.secret {
            c.check(
                decode_secret(secret).is_some(),
                "secret",
                "must be whsec_ followed by base64 of 24 to 64 bytes",
            );
        }
    }
}

/// Subscriptions one unit may own; admin-owned ones (no unit) share one such allowance. Every
/// subscription is polled and delivered to, so this bounds what one owner can ask of the
/// delivery worker.
pub const MAX_PER_UNIT: i64 = 20;
/// The first key of the advisory locks that serialize counting a unit's subscriptions.
const UNIT_LOCK_CLASS: i32 = 0x7768_6b73;

/// Refuses one more subscription for `unit` when it has [`MAX_PER_UNIT`]. Concurrent creations
/// would all count 19 and all insert; the transaction-scoped advisory lock keyed by the unit
/// makes them count one after another, each seeing the rows committed before it (a unit row
/// lock would not do: admin-owned subscriptions have no unit row).
async fn ensure_room(conn: &mut AsyncPgConnection, unit: Option<Uuid>) -> AppResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext(coalesce($2::text, '')))")
        .bind::<diesel::sql_types::Integer, _>(UNIT_LOCK_CLASS)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(unit)
        .execute(conn)
        .await?;
    let owned = webhook_subscriptions::table.count().into_boxed();
    let owned = match unit {
        Some(unit) => owned.filter(webhook_subscriptions::unit_id.eq(unit)),
        None => owned.filter(webhook_subscriptions::unit_id.is_null()),
    };
    let n: i64 = owned.get_result(conn).await?;
    if n >= MAX_PER_UNIT {
        return Err(AppError::invalid_field(
            "unit_id",
            format!("a unit may have at most {MAX_PER_UNIT} webhooks"),
        ));
    }
    Ok(())
}

/// The HMAC key of a `whsec_...` secret.
pub fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX)?)
        .ok()?;
    (24..=64).contains(&key.len()).then_some(key)
}

fn new_secret() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(AppError::internal)?;
    Ok(format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

impl Journaled for Webhook {
    const ENTITY: Entity = Entity::Webhook;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, None, self.unit_id)
    }
}

// Writes find the row as it is: the policy decides (403 for other units' subscriptions, as
// on every write path). Reads go through `load_visible`.
crate::stored_by_id!(Webhook, webhook_subscriptions);
crate::removable_by_id!(Webhook, webhook_subscriptions);

impl Resource for Webhook {
    const SUBJECT: Subject = Subject::Webhook;

    fn location(&self) -> String {
        format!("/api/v1/webhooks/{}", self.id)
    }
}

/// Non-admins see their unit's subscriptions only; others' are "not found".
fn visible_to(w: &Webhook, principal: &Principal) -> bool {
    principal.is_admin() || (w.unit_id.is_some() && w.unit_id == principal.unit_id)
}

/// Reads: other units' subscriptions are "not found".
async fn load_visible(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    principal: &Principal,
) -> AppResult<Webhook> {
    let w = Webhook::read(conn, id, Lock::No).await?;
    if visible_to(&w, principal) {
        Ok(w)
    } else {
        Err(AppError::not_found())
    }
}

/// A merge patch applied to `current`, with the caller's right to change it before and after.
fn merge(
    principal: &Principal,
    current: &Webhook,
    patch: &serde_json::Value,
    if_match: &IfMatch,
) -> AppResult<(WebhookInput, Authorized)> {
    let input: WebhookInput = merge_authorized(principal, Subject::Webhook, current, patch)?;
    let owners = vec![input.unit_id];
    let auth = authorize_merged(principal, Subject::Webhook, current, owners, if_match)?;
    Ok((input, auth))
}

impl Listed for Webhook {
    type Filter = NoFilter;

    /// Admins see every subscription; others their unit's.
    async fn page(request: ListRequest<'_>, _: &NoFilter) -> AppResult<Vec<Self>> {
        let selected = webhook_subscriptions::table.select(Webhook::as_select());
        let mut query = crate::keyset_page!(selected, request.page, webhook_subscriptions::id);
        let principal = request
            .caller
            .0
            .as_ref()
            .ok_or_else(AppError::unauthenticated)?;
        if !principal.is_admin() {
            match principal.unit_id {
                Some(unit) => query = query.filter(webhook_subscriptions::unit_id.eq(unit)),
                None => return Err(AppError::forbidden("no unit")),
            }
        }
        Ok(query.load(&mut request.state.conn().await?).await?)
    }
}

/// Subscribe a URL to changes. Delivery starts with the next change committed.
///
/// A unit may have at most 20 webhooks (admins' own, without a unit, count together): one
/// more is a 422 on `unit_id`.
///
/// Roles: admin; editor or viewer, for its own unit.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "createWebhook",
    request_body = WebhookInput,
    security(("bearer" = [])),
    responses((status = 201, description = "Created: the new webhook", body = CreatedWebhook, headers(("Location" = String))))
)]
#[post("/webhooks")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<WebhookInput>,
) -> AppResult<HttpResponse> {
    let mut input = body.0;
    if input.unit_id.is_none() && principal.role != Role::Admin {
        input.unit_id = principal.unit_id;
    }
    let auth = authorize(&principal, Subject::Webhook, &[input.unit_id])?;
    input
        .validate(&principal, state.config.webhook_allow_private)
        .await?;
    let secret = match input.secret.clone() {
        Some(s) => s,
        None => new_secret()?,
    };
    let mut conn = state.conn().await?;
    let webhook = conn
        .transaction::<_, AppError, _>(async move |conn| {
            ensure_room(conn, input.unit_id).await?;
            let cursor = latest_seq(conn).await?;
            let w: Webhook = diesel::insert_into(webhook_subscriptions::table)
                .values((
                    webhook_subscriptions::id.eq(Uuid::now_v7()),
                    webhook_subscriptions::url.eq(&input.url),
                    webhook_subscriptions::types.eq(&input.types),
                    webhook_subscriptions::secret.eq(&secret),
                    webhook_subscriptions::unit_id.eq(input.unit_id),
                    webhook_subscriptions::active.eq(input.active),
                    webhook_subscriptions::cursor.eq(cursor),
                    webhook_subscriptions::created_by.eq(&auth.actor().subject),
                ))
                .returning(Webhook::as_returning())
                .get_result(conn)
                .await?;
            journal::record(conn, &auth, &[Entry::create_of(&w)?]).await?;
            Ok(w)
        })
        .await?;
    let secret = webhook.secret.clone();
    created(
        &req,
        format!("/api/v1/webhooks/{}", webhook.id),
        &CreatedWebhook { webhook, secret },
    )
}

/// A webhook subscription (without its secret).
///
/// Roles: admin; editor or viewer of its unit.
#[utoipa::path(tag = "webhooks", operation_id = "getWebhook", params(("id" = Uuid, Path)), security(("bearer" = [])), responses((status = 200, description = "The webhook", body = Webhook)))]
#[get("/webhooks/{id}")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let mut conn = state.conn().await?;
    let w = load_visible(&mut conn, *id, &principal).await?;
    json_ok(&req, &w)
}

/// Change a subscription (JSON merge patch). `{"active": true}` re-enables a disabled one.
///
/// Roles: admin; editor or viewer of its unit.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "updateWebhook",
    params(("id" = Uuid, Path)),
    request_body(content = serde_json::Value, description = "RFC 7396 merge patch of a WebhookInput",
        content_type = "application/merge-patch+json", example = json!({"active": true})),
    security(("bearer" = [])),
    responses((status = 200, description = "The changed webhook", body = Webhook))
)]
#[patch("/webhooks/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: JsonBody<serde_json::Value>,
) -> AppResult<HttpResponse> {
    // The merged URL is resolved first, against the row as read now, holding no connection
    // and no lock. Inside the transaction only the offline checks run again, against the
    // row as locked. The URL they see differs from the one resolved only if a concurrent
    // PATCH changed it in between (this patch does not set it): then the answer is 409 and
    // the client retries, rather than this request resolving while it holds the lock.
    let snapshot = {
        let mut conn = state.conn().await?;
        Webhook::read(&mut conn, *id, Lock::No).await?
    };
    let (checked, _) = merge(&principal, &snapshot, &patch.0, &if_match)?;
    checked
        .validate(&principal, state.config.webhook_allow_private)
        .await?;
    let mut conn = state.conn().await?;
    let w = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let before = Webhook::lock(conn, *id).await?;
            // Merged against the row as locked: the worker may have just disabled it.
            let (input, auth) = merge(&principal, &before, &patch.0, &if_match)?;
            if input.url != checked.url {
                return Err(AppError::conflict(
                    "the webhook's URL changed meanwhile; retry",
                ));
            }
            input.validate_offline(&principal)?;
            if input.unit_id != before.unit_id {
                ensure_room(conn, input.unit_id).await?;
            }
            let reenabled = input.active && !before.active;
            let after: Webhook = diesel::update(webhook_subscriptions::table.find(before.id))
                .set((
                    webhook_subscriptions::url.eq(&input.url),
                    webhook_subscriptions::types.eq(&input.types),
                    webhook_subscriptions::unit_id.eq(input.unit_id),
                    webhook_subscriptions::active.eq(input.active),
                    webhook_subscriptions::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Webhook::as_returning())
                .get_result(conn)
                .await?;
            let after = match (reenabled, input.secret.as_ref()) {
                (true, _) | (_, Some(_)) => {
                    diesel::update(webhook_subscriptions::table.find(before.id))
                        .set((
                            webhook_subscriptions::disabled_reason.eq(None::<String>),
                            webhook_subscriptions::failing_since.eq(None::<DateTime<Utc>>),
                            webhook_subscriptions::attempts.eq(0),
                            webhook_subscriptions::next_attempt_at.eq(diesel::dsl::now),
                            webhook_subscriptions::secret
                                .eq(input.secret.as_ref().unwrap_or(&after.secret)),
                        ))
                        .returning(Webhook::as_returning())
                        .get_result(conn)
                        .await?
                }
                _ => after,
            };
            journal::record(conn, &auth, &[Entry::update_of(&before, &after)?]).await?;
            Ok(after)
        })
        .await?;
    json_ok(&req, &w)
}

crate::resource_handlers! {
    #[resource(Webhook, tag = "webhooks", key id: Uuid = (("id" = Uuid, Path)))]

    #[list("listWebhooks", "/webhooks", token, NoFilter, "A page of webhooks")]
    /// List webhook subscriptions.
    ///
    /// Roles: admin (all); editor or viewer (its unit's).
    fn list;
    #[custom]
    fn create;
    #[custom]
    fn show;
    #[custom]
    fn update;

    #[delete("deleteWebhook", "/webhooks/{id}", "Deleted")]
    /// Unsubscribe.
    ///
    /// Roles: admin; editor or viewer of its unit.
    fn remove;

    #[custom]
    fn deliveries;
}

#[derive(Debug, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: i64,
    /// The change-feed position of the change delivered.
    #[serde(skip)]
    pub change_seq: i64,
    /// The `webhook-id` header (the same for every attempt at one change).
    pub message_id: String,
    /// 1 for the first attempt at this change.
    pub attempt: i32,
    pub status_code: Option<i32>,
    /// Why the attempt failed without an HTTP answer (timeout, refused, ...).
    pub error: Option<String>,
    pub duration_ms: i32,
    pub succeeded: bool,
    pub attempted_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    pub succeeded: Option<bool>,
}

/// Delivery attempts, newest first.
///
/// Roles: admin; editor or viewer of its unit.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "listWebhookDeliveries",
    params(("id" = Uuid, Path), PageParams, DeliveryFilter),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of deliveries", body = Page<Delivery>))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    page: web::Query<PageParams>,
    filter: web::Query<DeliveryFilter>,
) -> AppResult<HttpResponse> {
    let page = page.validate()?;
    let mut conn = state.conn().await?;
    let w = load_visible(&mut conn, *id, &principal).await?;
    let selected = webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(w.id))
        .select(Delivery::as_select());
    let mut query = crate::keyset_page!(selected, page, newest first webhook_deliveries::id);
    crate::filter_by!(query, filter.succeeded => webhook_deliveries::succeeded);
    let rows = query.load(&mut conn).await?;
    Page::from_rows(rows, &page, |d: &Delivery| Cursor::by_seq(d.id)).respond(&req)
}
