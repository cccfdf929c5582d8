//! Template databases: a migrated template made once per schema (its name carries a hash of
//! the migrations), cloned for each test and dropped when the test ends.

use std::sync::OnceLock;

use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::app::{EmbeddedCluster, migrate};

/// The database a [`database_url`] names (in either of its forms: a URL, or the embedded
/// cluster's `key=value` string).
pub fn dbname_of(url: &str) -> &str {
    match url
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("dbname="))
    {
        Some(name) => name,
        None => {
            let path = url.split('?').next().unwrap_or(url);
            path.rsplit('/').next().unwrap_or(path)
        }
    }
}

/// Connection string of a database on the test server.
pub fn database_url(dbname: &str) -> String {
    let admin = admin_url();
    if admin.starts_with("postgres://") || admin.starts_with("postgresql://") {
        let (base, query) = match admin.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin, String::new()),
        };
        let scheme_end = base.find("://").unwrap() + 3;
        let host_part = match base[scheme_end..].find('/') {
            Some(i) => &base[..scheme_end + i],
            None => base,
        };
        format!("{host_part}/{dbname}{query}")
    } else {
        let rest: Vec<&str> = admin
            .split_whitespace()
            .filter(|kv| !kv.starts_with("dbname="))
            .collect();
        format!("{} dbname={dbname}", rest.join(" "))
    }
}

/// The maintenance database of the test server.
pub fn admin_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("TEST_DATABASE_URL")
            && !url.trim().is_empty()
        {
            return url;
        }
        static CLUSTER: OnceLock<EmbeddedCluster> = OnceLock::new();
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            std::path::PathBuf::from("/dev/shm/learnweek-test-pg")
        } else {
            std::env::temp_dir().join("learnweek-test-pg")
        };
        let cluster = CLUSTER.get_or_init(|| {
            EmbeddedCluster::start(&base).expect("start the embedded test cluster")
        });
        cluster.url("postgres")
    })
}

async fn admin_conn() -> AsyncPgConnection {
    AsyncPgConnection::establish(admin_url())
        .await
        .expect("connect to the test server")
}

#[derive(diesel::QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

/// A migrated template database, made once per schema (its name carries a hash of the migrations).
async fn template() -> &'static str {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("lw_tmpl_{}", migrations_hash());
            let mut conn = admin_conn().await;
            diesel::sql_query("SELECT pg_advisory_lock(7426513)").execute(&mut conn).await.unwrap();
            let ready: Flag = diesel::sql_query(
                "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate) AS flag",
            )
            .bind::<Text, _>(&name)
            .get_result(&mut conn)
            .await
            .unwrap();
            if !ready.flag {
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
                migrate(&database_url(&name)).await.expect("migrate the template");
                diesel::sql_query(format!("ALTER DATABASE {name} WITH IS_TEMPLATE true"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            diesel::sql_query("SELECT pg_advisory_unlock(7426513)").execute(&mut conn).await.unwrap();
            name
        })
        .await
}

fn migrations_hash() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut hasher = Sha256::new();
    for entry in entries {
        hasher.update(entry.file_name().unwrap().to_string_lossy().as_bytes());
        hasher.update(std::fs::read(entry.join("up.sql")).unwrap_or_default());
    }
    hasher.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh database cloned from the template.
pub async fn fresh_database() -> TestDb {
    let template = template().await;
    create_database(&format!("TEMPLATE {template}")).await
}

/// An empty database (no schema), for migration tests.
pub async fn empty_database() -> TestDb {
    create_database("").await
}

async fn create_database(options: &str) -> TestDb {
    let name = format!("lwt_{}", Uuid::new_v4().simple());
    let mut conn = admin_conn().await;
    let create = format!("CREATE DATABASE {name} {options}");
    diesel::sql_query(create).execute(&mut conn).await.unwrap();
    TestDb { name }
}

/// A per-test database, dropped when the test ends.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub fn url(&self) -> String {
        database_url(&self.name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; use a thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = AsyncPgConnection::establish(admin_url()).await {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn)
                            .await;
                }
            });
        })
        .join();
    }
}
