//! Every write leaves two records in its own transaction: an audit row (who, what, before,
//! after) and a change-feed row (the outbox the change feed and webhooks read).
//!
//! Change rows must become visible in `seq` order, or a reader polling `seq > cursor` could
//! pass over a row whose transaction commits late. So writers take a transaction-scoped
//! advisory lock right before inserting their change rows and hold it until commit: the
//! sequence values are then handed out in commit order. [`record`] is therefore the last
//! statement of every write transaction, which keeps the serialized section short.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Authorized;
use crate::error::{AppError, AppResult};
use crate::schema::{audit_log, changes};

const CHANGE_ORDER_LOCK_KEY: i64 = 0x6c65_6172_6e77_6b02;
/// PostgreSQL allows 65535 bind parameters per statement.
const ROWS_PER_INSERT: usize = 4000;
/// Channel notified after each batch of changes (webhook worker, feed caches).
pub const CHANGES_CHANNEL: &str = "learnweek_changes";

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

/// One changed row.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The change feed's `type`: `event`, `training`, `tally`, `unit`, ...
    pub entity: &'static str,
    pub id: Uuid,
    pub op: Op,
    pub campaign_id: Option<Uuid>,
    pub owner_unit_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Entry {
    pub fn new(entity: &'static str, id: Uuid, op: Op) -> Self {
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

    pub fn created(entity: &'static str, id: Uuid, after: &impl Serialize) -> AppResult<Self> {
        Ok(Entry {
            after: Some(to_json(after)?),
            ..Entry::new(entity, id, Op::Create)
        })
    }

    pub fn updated(
        entity: &'static str,
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

    pub fn deleted(entity: &'static str, id: Uuid, before: &impl Serialize) -> AppResult<Self> {
        Ok(Entry {
            before: Some(to_json(before)?),
            ..Entry::new(entity, id, Op::Delete)
        })
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

fn to_json(value: &impl Serialize) -> AppResult<Value> {
    serde_json::to_value(value).map_err(AppError::internal)
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct NewAuditRow<'a> {
    actor: &'a str,
    actor_token_id: Option<Uuid>,
    actor_role: &'a str,
    actor_unit_id: Option<Uuid>,
    type_: &'a str,
    entity_id: Uuid,
    op: &'a str,
    owner_unit_id: Option<Uuid>,
    before: Option<&'a Value>,
    after: Option<&'a Value>,
    request_id: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = changes)]
struct NewChangeRow<'a> {
    type_: &'a str,
    entity_id: Uuid,
    op: &'a str,
    campaign_id: Option<Uuid>,
}

/// Records `entries` (audit + change feed). Call it last in the write's transaction.
pub async fn record(
    conn: &mut AsyncPgConnection,
    auth: &Authorized,
    entries: &[Entry],
) -> AppResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let actor = auth.actor();
    let token_id = (!actor.token_id.is_nil()).then_some(actor.token_id);
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        let rows: Vec<NewAuditRow> = chunk
            .iter()
            .map(|e| NewAuditRow {
                actor: &actor.subject,
                actor_token_id: token_id,
                actor_role: actor.role.as_str(),
                actor_unit_id: actor.unit_id,
                type_: e.entity,
                entity_id: e.id,
                op: e.op.audit_op(),
                owner_unit_id: e.owner_unit_id,
                before: e.before.as_ref(),
                after: e.after.as_ref(),
                request_id: actor.request_id.as_deref(),
            })
            .collect();
        diesel::insert_into(audit_log::table)
            .values(&rows)
            .execute(conn)
            .await?;
    }

    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<diesel::sql_types::BigInt, _>(CHANGE_ORDER_LOCK_KEY)
        .execute(conn)
        .await?;
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        let rows: Vec<NewChangeRow> = chunk
            .iter()
            .map(|e| NewChangeRow {
                type_: e.entity,
                entity_id: e.id,
                op: e.op.change_op(),
                campaign_id: e.campaign_id,
            })
            .collect();
        diesel::insert_into(changes::table)
            .values(&rows)
            .execute(conn)
            .await?;
    }
    diesel::sql_query(format!("NOTIFY {CHANGES_CHANNEL}"))
        .execute(conn)
        .await?;
    Ok(())
}
