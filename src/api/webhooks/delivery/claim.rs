//! Which subscriptions get a delivery next, and how many changes wait.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Double, Nullable, Timestamptz};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::{LEASE, MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_UNIT};
use crate::api::webhooks::{MAX_PER_UNIT, Webhook};
use crate::error::AppResult;
use crate::state::AppState;

/// A subscription leased to this worker for one delivery.
#[derive(QueryableByName)]
pub struct Claimed {
    #[diesel(embed)]
    pub webhook: Webhook,
    /// The lease, and its token: the outcome is recorded only while it is unchanged.
    #[diesel(sql_type = Timestamptz)]
    pub leased_until: DateTime<Utc>,
}

/// Subscriptions looked at per claim: enough that, with every unit at its cap of
/// subscriptions, the window still spans units to fill every slot.
const CANDIDATES: i64 = MAX_IN_FLIGHT.div_ceil(MAX_IN_FLIGHT_PER_UNIT) as i64 * MAX_PER_UNIT;

/// Leases up to `free` due subscriptions with a change waiting, those due longest first, at
/// most [`MAX_IN_FLIGHT_PER_UNIT`] per unit counting `busy` (this worker's deliveries in
/// flight, per unit). Rows another worker is claiming right now are skipped, not waited for.
pub async fn due(
    state: &AppState,
    free: usize,
    busy: &HashMap<Option<Uuid>, usize>,
) -> AppResult<Vec<Claimed>> {
    let (units, counts): (Vec<Option<Uuid>>, Vec<i64>) = busy
        .iter()
        .map(|(unit, n)| (*unit, i64::try_from(*n).unwrap_or(i64::MAX)))
        .unzip();
    let claimed = diesel::sql_query(
        "WITH busy (unit_id, n) AS (SELECT * FROM unnest($2::uuid[], $3::bigint[])), \
         due AS MATERIALIZED ( \
           SELECT s.id, s.unit_id, s.next_attempt_at FROM webhook_subscriptions s \
           WHERE s.active AND s.next_attempt_at <= now() \
             AND (s.leased_until IS NULL OR s.leased_until <= now()) \
             AND NOT EXISTS (SELECT 1 FROM busy b \
                             WHERE b.unit_id IS NOT DISTINCT FROM s.unit_id AND b.n >= $4) \
             AND EXISTS (SELECT 1 FROM changes c WHERE c.seq > s.cursor AND c.type = ANY (s.types)) \
           ORDER BY s.next_attempt_at LIMIT $5 \
           FOR UPDATE OF s SKIP LOCKED), \
         picked AS ( \
           SELECT r.id FROM ( \
             SELECT d.id, d.next_attempt_at, \
                    row_number() OVER (PARTITION BY d.unit_id ORDER BY d.next_attempt_at) \
                    + coalesce((SELECT b.n FROM busy b WHERE b.unit_id IS NOT DISTINCT FROM d.unit_id), 0) \
                    AS load \
             FROM due d) r \
           WHERE r.load <= $4 ORDER BY r.next_attempt_at LIMIT $1) \
         UPDATE webhook_subscriptions s SET leased_until = now() + make_interval(secs => $6) \
         FROM picked WHERE s.id = picked.id \
         RETURNING s.id, s.url, s.types, s.secret, s.unit_id, s.active, s.disabled_reason, \
                   s.cursor, s.next_attempt_at, s.failing_since, s.attempts, s.created_by, \
                   s.created_at, s.updated_at, s.leased_until",
    )
    .bind::<BigInt, _>(i64::try_from(free).unwrap_or(i64::MAX))
    .bind::<Array<Nullable<diesel::sql_types::Uuid>>, _>(units)
    .bind::<Array<BigInt>, _>(counts)
    .bind::<BigInt, _>(MAX_IN_FLIGHT_PER_UNIT as i64)
    .bind::<BigInt, _>(CANDIDATES)
    .bind::<Double, _>(LEASE.num_seconds() as f64)
    .load(&mut state.conn().await?)
    .await?;
    Ok(claimed)
}

/// The backlog is counted up to this many changes per subscription and in all: it says how
/// far behind deliveries are, and past these numbers the answer is "far", which is not worth
/// reading more of the change log every few seconds.
const BACKLOG_CAP_PER_WEBHOOK: i64 = 10_000;
const BACKLOG_CAP: i64 = 100_000;

/// Changes waiting for active subscriptions, within [`BACKLOG_CAP_PER_WEBHOOK`] and
/// [`BACKLOG_CAP`]. The row comparison and its order fit `changes_type_seq` alone, so each
/// subscription's count is one ordered index range read that stops at the cap, rather than a
/// walk of the whole log filtered by type.
pub async fn backlog(state: &AppState) -> AppResult<i64> {
    #[derive(QueryableByName)]
    struct Backlog {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let row: Backlog = diesel::sql_query(
        "SELECT count(*) AS n FROM ( \
           SELECT 1 FROM webhook_subscriptions s \
           CROSS JOIN LATERAL unnest(s.types) t (type) \
           CROSS JOIN LATERAL ( \
             SELECT 1 FROM changes c \
             WHERE c.type = t.type AND (c.type, c.seq) > (t.type, s.cursor) \
             ORDER BY c.type, c.seq LIMIT $1) c \
           WHERE s.active LIMIT $2) w",
    )
    .bind::<BigInt, _>(BACKLOG_CAP_PER_WEBHOOK)
    .bind::<BigInt, _>(BACKLOG_CAP)
    .get_result(&mut state.conn().await?)
    .await?;
    Ok(row.n)
}
