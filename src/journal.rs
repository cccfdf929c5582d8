//! Every write leaves two records in its own transaction: an audit row (who, what, before,
//! after) and a change-feed row (the outbox the change feed and webhooks read).
//!
//! Change rows must become visible in `seq` order, or a reader polling `seq > cursor` could
//! pass over a row whose transaction commits late. So writers take a transaction-scoped
//! advisory lock right before inserting their change rows and hold it until commit: the
//! sequence values are then handed out in commit order. [`record`] is therefore the last
//! statement of every write transaction, which keeps the serialized section short.

use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::{Authorized, Subject};
use crate::change_signal::{CHANGES_CHANNEL, EVERY_CAMPAIGN};
use crate::error::{AppError, AppResult};

pub use crate::vocabulary::Entity;

const CHANGE_ORDER_LOCK_KEY: i64 = 0x6c65_6172_6e77_6b02;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
}

impl Op {
    fn audit_op(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }

    fn change_op(self) -> &'static str {
        match self {
            Op::Create | Op::Update => "upsert",
            Op::Delete => "delete",
        }
    }
}

impl Entity {
    /// What a write of `subject` is recorded as.
    pub fn of(subject: Subject) -> Entity {
        match subject {
            Subject::Campaign => Entity::Campaign,
            Subject::Unit => Entity::Unit,
            Subject::Partner => Entity::Partner,
            Subject::CommitteeBody => Entity::CommitteeBody,
            Subject::CommitteeMember => Entity::CommitteeMember,
            Subject::Event => Entity::Event,
            Subject::Training | Subject::TrainingOutcome => Entity::Training,
            Subject::Tally => Entity::Tally,
            Subject::MediaReport => Entity::MediaReport,
            Subject::Token => Entity::Token,
            Subject::Account => Entity::Account,
            Subject::Webhook => Entity::Webhook,
        }
    }

    /// Who holds which credentials: followed by the committee office only.
    pub fn admin_only(self) -> bool {
        matches!(self, Entity::Account | Entity::Token)
    }
}

/// A row the journal records: a resource states its entity, and which campaign and unit a
/// row belongs to; the journal builds every entry about such a row the same way.
pub trait Journaled: Serialize {
    const ENTITY: Entity;

    fn row_key(&self) -> RowKey;

    /// The unit that owns the row (`None`: the committee office's own).
    fn owner(&self) -> Option<Uuid> {
        self.row_key().owner
    }
}

/// Which row an entry is about: its id, the campaign it belongs to (`None` for a unit or an
/// account) and its owning unit.
#[derive(Debug, Clone, Copy)]
pub struct RowKey {
    pub id: Uuid,
    pub campaign: Option<Uuid>,
    pub owner: Option<Uuid>,
}

impl RowKey {
    pub fn new(id: Uuid, campaign: Option<Uuid>, owner: Option<Uuid>) -> Self {
        RowKey {
            id,
            campaign,
            owner,
        }
    }
}

/// One changed row.
#[derive(Debug, Clone)]
pub struct Entry {
    pub entity: Entity,
    pub id: Uuid,
    pub op: Op,
    pub campaign_id: Option<Uuid>,
    pub owner_unit_id: Option<Uuid>,
    /// JSON text.
    pub before: Option<String>,
    /// JSON text.
    pub after: Option<String>,
}

impl Entry {
    pub fn new(entity: Entity, id: Uuid, op: Op) -> Self {
        Entry {
            entity,
            id,
            op,
            campaign_id: None,
            owner_unit_id: None,
            before: None,
            after: None,
        }
    }

    pub fn created(entity: Entity, id: Uuid, after: &impl Serialize) -> AppResult<Self> {
        Ok(Entry {
            after: Some(to_json(after)?),
            ..Entry::new(entity, id, Op::Create)
        })
    }

    pub fn updated(
        entity: Entity,
        id: Uuid,
        before: &impl Serialize,
        after: &impl Serialize,
    ) -> AppResult<Self> {
        Ok(Entry {
            before: Some(to_json(before)?),
            after: Some(to_json(after)?),
            ..Entry::new(entity, id, Op::Update)
        })
    }

    pub fn deleted(entity: Entity, id: Uuid, before: &impl Serialize) -> AppResult<Self> {
        Ok(Entry {
            before: Some(to_json(before)?),
            ..Entry::new(entity, id, Op::Delete)
        })
    }

    /// `row` was inserted.
    pub fn create_of<R: Journaled>(row: &R) -> AppResult<Self> {
        Ok(Entry::created(R::ENTITY, row.row_key().id, row)?.about(row))
    }

    /// `before` became `after` (filed under the row as it is now).
    pub fn update_of<R: Journaled>(before: &R, after: &R) -> AppResult<Self> {
        Ok(Entry::updated(R::ENTITY, after.row_key().id, before, after)?.about(after))
    }

    /// `row` was deleted.
    pub fn delete_of<R: Journaled>(row: &R) -> AppResult<Self> {
        Ok(Entry::deleted(R::ENTITY, row.row_key().id, row)?.about(row))
    }

    fn about(mut self, row: &impl Journaled) -> Self {
        let key = row.row_key();
        self.campaign_id = key.campaign;
        self.owner_unit_id = key.owner;
        self
    }

    pub fn campaign(mut self, campaign_id: Uuid) -> Self {
        self.campaign_id = Some(campaign_id);
        self
    }

    pub fn owner(mut self, unit_id: Option<Uuid>) -> Self {
        self.owner_unit_id = unit_id;
        self
    }
}

/// The campaigns `entries` touch, comma-separated, or `*` when a change belongs to no campaign
/// (a unit, an account) or to too many to list (a payload holds at most 8,000 bytes).
fn notification_payload(entries: &[Entry]) -> String {
    let mut campaigns: Vec<Uuid> = Vec::new();
    for e in entries {
        match e.campaign_id {
            None => return EVERY_CAMPAIGN.into(),
            Some(c) if !campaigns.contains(&c) => campaigns.push(c),
            Some(_) => {}
        }
        if campaigns.len() > 100 {
            return EVERY_CAMPAIGN.into();
        }
    }
    campaigns
        .iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Serialized once, straight to text: PostgreSQL parses it into `jsonb` (cheaper than building
/// a `serde_json::Value` per row for batches of thousands).
fn to_json(value: &impl Serialize) -> AppResult<String> {
    serde_json::to_string(value).map_err(AppError::internal)
}

/// Records `entries` (audit + change feed). Call it last in the write's transaction.
///
/// Each table gets one statement however many rows there are: the rows travel as arrays
/// (`unnest`), so a 5,000-row batch binds a dozen parameters, not tens of thousands.
pub async fn record(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    entries: &[Entry],
) -> AppResult<()> {
    use diesel::sql_types::{Array, Nullable, Text, Uuid as SqlUuid};
    let actor = auth.actor();
    // The request's Idempotency-Key is taken with its write, so it exists exactly when the
    // write committed (before the change-order lock: a duplicate may wait here).
    if let Some(ticket) = &actor.idempotency {
        crate::idempotency::claim(conn, ticket).await?;
    }
    if entries.is_empty() {
        return Ok(());
    }
    let token_id = (!actor.token_id.is_nil()).then_some(actor.token_id);
    let types: Vec<&str> = entries.iter().map(|e| e.entity.as_str()).collect();
    let ids: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
    let audit_ops: Vec<&str> = entries.iter().map(|e| e.op.audit_op()).collect();
    let owners: Vec<Option<Uuid>> = entries.iter().map(|e| e.owner_unit_id).collect();
    let befores: Vec<Option<&str>> = entries.iter().map(|e| e.before.as_deref()).collect();
    let afters: Vec<Option<&str>> = entries.iter().map(|e| e.after.as_deref()).collect();
    diesel::sql_query(
        "INSERT INTO audit_log (actor, actor_token_id, actor_role, actor_unit_id, type, entity_id, op, \
                                owner_unit_id, before, after, request_id) \
         SELECT $1, $2, $3, $4, t.type, t.entity_id, t.op, t.owner, t.before::jsonb, t.after::jsonb, $5 \
         FROM unnest($6::text[], $7::uuid[], $8::text[], $9::uuid[], $10::text[], $11::text[]) \
           AS t(type, entity_id, op, owner, before, after)",
    )
    .bind::<Text, _>(&actor.subject)
    .bind::<Nullable<SqlUuid>, _>(token_id)
    .bind::<Text, _>(actor.role.as_str())
    .bind::<Nullable<SqlUuid>, _>(actor.unit_id)
    .bind::<Nullable<Text>, _>(actor.request_id.as_deref())
    .bind::<Array<Text>, _>(&types)
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Text>, _>(&audit_ops)
    .bind::<Array<Nullable<SqlUuid>>, _>(&owners)
    .bind::<Array<Nullable<Text>>, _>(&befores)
    .bind::<Array<Nullable<Text>>, _>(&afters)
    .execute(conn)
    .await?;
    record_changes(conn, entries).await
}

/// Records `entries` whose audit rows the writer inserted itself, as a set operation in its
/// own statement (the bulk tally upsert): the Idempotency-Key and the change feed, as
/// [`record`] does. Call it last in the write's transaction.
pub async fn record_audited(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    entries: &[Entry],
) -> AppResult<()> {
    if let Some(ticket) = &auth.actor().idempotency {
        crate::idempotency::claim(conn, ticket).await?;
    }
    if entries.is_empty() {
        return Ok(());
    }
    record_changes(conn, entries).await
}

/// The change-feed rows of `entries`, in commit order.
async fn record_changes(conn: &mut AsyncPgConnection, entries: &[Entry]) -> AppResult<()> {
    use diesel::sql_types::{Array, Nullable, Text, Uuid as SqlUuid};
    let types: Vec<&str> = entries.iter().map(|e| e.entity.as_str()).collect();
    let ids: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
    // The lock (held to commit) makes sequence order commit order; the notification, like
    // `NOTIFY`, is only delivered at commit, and names the campaigns touched so caches of
    // other campaigns stay. One round trip for both.
    diesel::sql_query("SELECT pg_advisory_xact_lock($1), pg_notify($2, $3)")
        .bind::<diesel::sql_types::BigInt, _>(CHANGE_ORDER_LOCK_KEY)
        .bind::<Text, _>(CHANGES_CHANNEL)
        .bind::<Text, _>(notification_payload(entries))
        .execute(conn)
        .await?;
    let change_ops: Vec<&str> = entries.iter().map(|e| e.op.change_op()).collect();
    let campaigns: Vec<Option<Uuid>> = entries.iter().map(|e| e.campaign_id).collect();
    diesel::sql_query(
        "INSERT INTO changes (type, entity_id, op, campaign_id) \
         SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::uuid[])",
    )
    .bind::<Array<Text>, _>(&types)
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Text>, _>(&change_ops)
    .bind::<Array<Nullable<SqlUuid>>, _>(&campaigns)
    .execute(conn)
    .await?;
    Ok(())
}
