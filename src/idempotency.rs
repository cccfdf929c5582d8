//! Idempotency keys as the write path sees them: a request's key travels on its `Principal`
//! as a [`Ticket`], and the journal takes it in the write's own transaction ([`claim`]), so a
//! key row exists exactly when its write committed. The HTTP side (looking keys up, storing
//! and replaying answers) is `crate::middleware::idempotency`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{Duration, Utc};
use diesel::dsl::Eq;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::{AppError, AppResult};
use crate::schema::idempotency_keys;

/// How long keys are kept (API.md: at least 24 h).
pub const TTL: Duration = Duration::hours(24);

/// The values [`Ticket::key_columns`] gives an `idempotency_keys` row.
pub type KeyColumns<'a> = (
    Eq<idempotency_keys::scope, &'a String>,
    Eq<idempotency_keys::key, &'a String>,
    Eq<idempotency_keys::method, &'a String>,
    Eq<idempotency_keys::path, &'a String>,
    Eq<idempotency_keys::request_hash, &'a Vec<u8>>,
);

/// A request's key, on its way to the write's transaction (see [`claim`]).
#[derive(Debug)]
pub struct Ticket {
    pub scope: String,
    pub key: String,
    pub method: String,
    pub path: String,
    pub fingerprint: Vec<u8>,
    claimed: AtomicBool,
}

impl Ticket {
    pub fn new(
        scope: String,
        key: String,
        method: String,
        path: String,
        fingerprint: Vec<u8>,
    ) -> Self {
        Ticket {
            scope,
            key,
            method,
            path,
            fingerprint,
            claimed: AtomicBool::new(false),
        }
    }

    /// The key's row as [`claim`] inserts it: what names the key, and the request it came
    /// with.
    pub fn key_columns(&self) -> KeyColumns<'_> {
        (
            idempotency_keys::scope.eq(&self.scope),
            idempotency_keys::key.eq(&self.key),
            idempotency_keys::method.eq(&self.method),
            idempotency_keys::path.eq(&self.path),
            idempotency_keys::request_hash.eq(&self.fingerprint),
        )
    }

    /// Whether a write took the key (its transaction may still have rolled back).
    pub fn claimed(&self) -> bool {
        AtomicBool::load(&self.claimed, Ordering::Acquire)
    }
}

/// Takes the request's key in the write's transaction (called by the journal). A second
/// call in the same transaction is a no-op; a key another request took is a 409 once that
/// request commits (PostgreSQL makes this insert wait for it).
pub async fn claim(conn: &mut AsyncPgConnection, ticket: &Ticket) -> AppResult<()> {
    use diesel::sql_types::{Bool, Text};
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values(ticket.key_columns())
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        ticket.claimed.store(true, Ordering::Release);
        return Ok(());
    }
    #[derive(QueryableByName)]
    struct Ours {
        #[diesel(sql_type = Bool)]
        ours: bool,
    }
    let row: Option<Ours> = diesel::sql_query(
        "SELECT xmin = pg_current_xact_id()::xid AS ours FROM idempotency_keys \
         WHERE scope = $1 AND key = $2",
    )
    .bind::<Text, _>(&ticket.scope)
    .bind::<Text, _>(&ticket.key)
    .get_result(conn)
    .await
    .optional()?;
    if row.is_some_and(|r| r.ours) {
        return Ok(());
    }
    Err(in_progress())
}

/// The answer to a request whose key is taken but whose answer is not stored yet.
pub fn in_progress() -> AppError {
    AppError::conflict(
        "a request with this Idempotency-Key is still being processed; retry shortly",
    )
    .retry_after(1)
}

/// Deletes keys past their lifetime; run periodically by `serve`.
pub async fn purge_expired(conn: &mut AsyncPgConnection) -> AppResult<usize> {
    Ok(diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::created_at.lt(Utc::now() - TTL)),
    )
    .execute(conn)
    .await?)
}

/// The keys (with their credentials' scope) of the requests this process is running: a
/// duplicate of one is refused at once rather than queued behind it.
#[derive(Debug, Default)]
pub struct KeysInFlight(Arc<Mutex<HashSet<(String, String)>>>);

impl KeysInFlight {
    /// Marks the ticket's key as running, unless it already is.
    pub fn enter(&self, ticket: &Ticket) -> Option<Running> {
        let id = (ticket.scope.clone(), ticket.key.clone());
        let mut running = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        running.insert(id.clone()).then(|| Running {
            keys: self.0.clone(),
            id,
        })
    }
}

/// A key marked running; unmarked when dropped.
pub struct Running {
    keys: Arc<Mutex<HashSet<(String, String)>>>,
    id: (String, String),
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.remove(&self.id);
    }
}
