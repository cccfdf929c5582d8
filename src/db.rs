//! Connection pool, embedded migrations (applied under an advisory lock) and readiness.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{AppError, AppResult};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Key of the session-level advisory lock that serializes migration runs across replicas.
const MIGRATION_LOCK_KEY: i64 = 0x6c65_6172_6e77_6b01;

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn = Object<AsyncPgConnection>;

/// How long a request waits for a pooled connection before it gets a 503.
pub const POOL_WAIT: Duration = Duration::from_secs(2);

pub fn build_pool(database_url: &str, max_size: usize) -> Result<DbPool, String> {
    let mut config = ManagerConfig::default();
    // Broken connections are detected (and dropped) by diesel-async itself; a test query on
    // every checkout would cost a round trip per request.
    config.recycling_method = RecyclingMethod::Fast;
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(POOL_WAIT))
        .recycle_timeout(Some(POOL_WAIT))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| format!("cannot build the connection pool: {e}"))
}

pub async fn conn(pool: &DbPool) -> AppResult<DbConn> {
    Ok(pool.get().await?)
}

/// Pools of their own for the server's worker threads ("lanes"): a connection's I/O is driven
/// by the runtime of the thread that opened it, so a connection shared between workers wakes
/// the other thread for every query it sends and answer it reads (two context switches per
/// round trip; a third of a cached read's cost on 2 cores). Each worker claims a lane when it
/// builds its app and then only uses connections its own thread opened.
pub struct Lanes {
    pools: Vec<DbPool>,
}

std::thread_local! {
    static LANE: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}
static NEXT_LANE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Lanes {
    /// `lanes` pools sharing `max_size` connections (at least 2 each); none for `lanes == 0`.
    /// Pools open connections when first asked, so an unused lane costs nothing.
    pub fn build(database_url: &str, lanes: usize, max_size: usize) -> Result<Lanes, String> {
        let each = max_size.div_ceil(lanes.max(1)).max(2);
        let pools = (0..lanes)
            .map(|_| build_pool(database_url, each))
            .collect::<Result<_, _>>()?;
        Ok(Lanes { pools })
    }

    pub fn none() -> Lanes {
        Lanes { pools: Vec::new() }
    }

    /// Called on a worker thread: from now on it uses a lane of its own (while there is one).
    pub fn claim_for_this_thread() {
        LANE.with(|lane| {
            if lane.get().is_none() {
                let next = NEXT_LANE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                lane.set(Some(next));
            }
        });
    }

    /// The current thread's own pool, if it claimed one.
    pub fn for_this_thread(&self) -> Option<&DbPool> {
        LANE.with(std::cell::Cell::get)
            .and_then(|i| self.pools.get(i))
    }

    pub fn pools(&self) -> &[DbPool] {
        &self.pools
    }
}

/// Applies pending migrations. Replicas starting together serialize on a PostgreSQL advisory
/// lock: the first applies, the others then find nothing pending.
pub async fn migrate(database_url: &str) -> Result<Vec<String>, String> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn =
            <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
                .map_err(|e| format!("cannot connect to the database: {e}"))?;
        conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
            .map_err(|e| format!("cannot take the migration lock: {e}"))?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>())
            .map_err(|e| format!("migration failed: {e}"));
        let unlocked =
            conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"));
        let applied = applied?;
        unlocked.map_err(|e| format!("cannot release the migration lock: {e}"))?;
        Ok(applied)
    })
    .await
    .map_err(|e| format!("migration task failed: {e}"))?
}

/// The newest migration version compiled into this binary.
pub fn latest_migration_version() -> String {
    MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .ok()
        .and_then(|ms| ms.iter().map(|m| m.name().version().to_string()).max())
        .unwrap_or_default()
}

/// Ready means: a connection can be had and the schema is at this binary's version.
pub async fn check_ready(pool: &DbPool, expected_version: &str) -> AppResult<()> {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        version: Option<String>,
    }
    let mut conn = conn(pool).await?;
    let row: Version =
        diesel::sql_query("SELECT max(version) AS version FROM __diesel_schema_migrations")
            .get_result(&mut conn)
            .await
            .map_err(|e| AppError::unavailable(format!("readiness query: {e}")))?;
    match row.version {
        Some(v) if v.as_str() >= expected_version => Ok(()),
        _ => Err(AppError::unavailable("migrations are not applied yet")),
    }
}

/// `/readyz` answered from a check at most a second old: load balancers and monitors may poll
/// it as often as they like without each poll taking a pooled connection.
#[derive(Debug, Default)]
pub struct ReadinessProbe {
    last: tokio::sync::Mutex<Option<(std::time::Instant, Result<(), String>)>>,
}

const READINESS_TTL: std::time::Duration = std::time::Duration::from_secs(1);

impl ReadinessProbe {
    pub async fn check(&self, pool: &DbPool, expected_version: &str) -> AppResult<()> {
        // Concurrent polls wait for one check rather than each running their own.
        let mut last = self.last.lock().await;
        let fresh = last
            .as_ref()
            .filter(|(at, _)| at.elapsed() < READINESS_TTL)
            .map(|(_, result)| result.clone());
        let result = match fresh {
            Some(result) => result,
            None => {
                let result = check_ready(pool, expected_version)
                    .await
                    .map_err(|e| e.to_string());
                *last = Some((std::time::Instant::now(), result.clone()));
                result
            }
        };
        result.map_err(AppError::unavailable)
    }
}

/// Creates `name` if it does not exist (used for the embedded cluster and the test harness).
pub async fn ensure_database(admin_url: &str, name: &str) -> Result<(), String> {
    use diesel::sql_types::Text;
    use diesel_async::{AsyncConnection, RunQueryDsl};

    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let mut conn = AsyncPgConnection::establish(admin_url)
        .await
        .map_err(|e| format!("cannot connect to the database server: {e}"))?;
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(name)
            .get_result(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
    if !found.exists {
        // Identifiers cannot be bound; `name` comes from our own code, never from a request.
        diesel::sql_query(format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
            .execute(&mut conn)
            .await
            .or_else(|e| match e.to_string().contains("already exists") {
                // Another process won the race; that is fine.
                true => Ok(0),
                false => Err(format!("cannot create database {name}: {e}")),
            })?;
    }
    Ok(())
}
