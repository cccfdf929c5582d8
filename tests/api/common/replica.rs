//! A real streaming replica of the test server, one per test binary: `pg_basebackup -R` into a
//! directory under /dev/shm, then `postgres` on a free port. Tests that use it hold
//! [`exclusive`] (they pause, stop and restart it). It is stopped (fast shutdown) when this
//! process exits, even by SIGKILL: it is started with a parent-death signal, by a thread that
//! lives as long as the server.
//!
//! Replication must be allowed by the server's `pg_hba.conf`. The machine's cluster allows
//! `all` databases from 127.0.0.1, which does not cover replication connections; when it is
//! refused, the line is added (idempotently, `.ci/run` does the same) and the server reloads.
#![allow(unsafe_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::db::admin_url;

const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Replica {
    dir: PathBuf,
    port: u16,
    run_as: Option<(u32, u32)>,
    server: Mutex<Option<Server>>,
}

struct Server {
    pid: i32,
    keeper: JoinHandle<()>,
}

/// Held by each test that uses the replica: they change its state.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// The replica, started on first use, running and replaying.
pub async fn shared() -> &'static Replica {
    static REPLICA: tokio::sync::OnceCell<Replica> = tokio::sync::OnceCell::const_new();
    let replica = REPLICA
        .get_or_init(|| async {
            let settings = settings_of_primary().await;
            tokio::task::spawn_blocking(move || Replica::create(&settings))
                .await
                .unwrap()
        })
        .await;
    // A test that failed half-way may have left it stopped or paused.
    replica.start().await;
    replica
        .exec("postgres", "SELECT pg_wal_replay_resume()")
        .await;
    replica
}

/// The settings a hot standby must have at least as high as its primary's (the embedded test
/// cluster runs with `max_connections = 200`; a standby with the default 100 refuses to start),
/// as configuration lines.
async fn settings_of_primary() -> String {
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        setting: String,
    }
    let mut conn = AsyncPgConnection::establish(admin_url()).await.unwrap();
    let settings: Vec<Setting> = diesel::sql_query(
        "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', \
         'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', \
         'max_locks_per_transaction')",
    )
    .load(&mut conn)
    .await
    .unwrap();
    settings
        .iter()
        .map(|s| format!("{} = {}\n", s.name, s.setting))
        .collect()
}

impl Replica {
    fn create(primary_settings: &str) -> Replica {
        let run_as = unprivileged_user();
        remove_stale_dirs();
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("lw-test-replica-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        set_permissions(&dir, run_as);
        let pgdata = dir.join("pg");
        let backup = || {
            let out = command("pg_basebackup", run_as)
                .arg("-D")
                .arg(&pgdata)
                .args(["-R", "-X", "stream", "-c", "fast", "-d", admin_url()])
                .output()
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let (mut ok, mut err) = backup();
        if !ok && err.contains("pg_hba.conf") {
            allow_replication();
            let _ = std::fs::remove_dir_all(&pgdata);
            (ok, err) = backup();
        }
        assert!(ok, "pg_basebackup failed: {err}");
        // The machine's cluster keeps its configuration in /etc: the copy needs its own.
        let config = format!("hot_standby = on\n{primary_settings}");
        for (file, text) in [
            ("postgresql.conf", config.as_str()),
            (
                "pg_hba.conf",
                "local all all trust\nhost all all 127.0.0.1/32 trust\n",
            ),
            ("pg_ident.conf", ""),
        ] {
            let path = pgdata.join(file);
            std::fs::write(&path, text).unwrap();
            if let Some((uid, gid)) = run_as {
                std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Replica {
            dir,
            port,
            run_as,
            server: Mutex::new(None),
        }
    }

    /// The connection string of `dbname` on the replica.
    pub fn url(&self, dbname: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{dbname}", self.port)
    }

    /// Starts the server if it is not running, and waits until it accepts connections.
    pub async fn start(&self) {
        {
            let mut server = self.server.lock().unwrap();
            if server.is_none() {
                *server = Some(self.spawn());
            }
        }
        let deadline = Instant::now() + READY_TIMEOUT;
        while AsyncPgConnection::establish(&self.url("postgres"))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "the replica did not start; see {}/log",
                self.dir.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fast shutdown, waiting for it.
    pub async fn stop(&self) {
        let server = self.server.lock().unwrap().take();
        if let Some(server) = server {
            // SAFETY: kill(2) on the pid of a child we spawned; no memory is touched.
            unsafe {
                libc::kill(server.pid, libc::SIGINT);
            }
            tokio::task::spawn_blocking(move || server.keeper.join())
                .await
                .unwrap()
                .unwrap();
        }
    }

    fn spawn(&self) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("log"))
            .unwrap();
        let mut cmd = command("postgres", self.run_as);
        cmd.arg("-D")
            .arg(self.dir.join("pg"))
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", self.dir.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0);
        // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGINT as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        // The parent-death signal follows the thread that forked: a keeper thread that waits
        // for the server, so it fires when the server is stopped or this process exits.
        let (tx, rx) = mpsc::channel();
        let keeper = std::thread::spawn(move || {
            let mut child = cmd.spawn().expect("start the replica's postgres");
            tx.send(child.id() as i32).unwrap();
            let _ = child.wait();
        });
        Server {
            pid: rx.recv().unwrap(),
            keeper,
        }
    }

    /// Runs `sql` on the replica's `dbname` (as the superuser).
    pub async fn exec(&self, dbname: &str, sql: &str) {
        let mut conn = AsyncPgConnection::establish(&self.url(dbname))
            .await
            .unwrap();
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }

    /// Pauses replay and waits until it has paused.
    pub async fn pause(&self) {
        #[derive(diesel::QueryableByName)]
        struct State {
            #[diesel(sql_type = Text)]
            state: String,
        }
        let mut conn = AsyncPgConnection::establish(&self.url("postgres"))
            .await
            .unwrap();
        diesel::sql_query("SELECT pg_wal_replay_pause()")
            .execute(&mut conn)
            .await
            .unwrap();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let state: State = diesel::sql_query("SELECT pg_get_wal_replay_pause_state() AS state")
                .get_result(&mut conn)
                .await
                .unwrap();
            if state.state == "paused" {
                return;
            }
            assert!(Instant::now() < deadline, "replay does not pause");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn resume(&self) {
        self.exec("postgres", "SELECT pg_wal_replay_resume()").await;
    }

    /// How many sessions the replica has on `dbname`.
    pub async fn sessions(&self, dbname: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = AsyncPgConnection::establish(&self.url("postgres"))
            .await
            .unwrap();
        let count: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind::<Text, _>(dbname)
        .get_result(&mut conn)
        .await
        .unwrap();
        count.n
    }

    /// Waits until the replica has replayed everything the primary has written so far.
    pub async fn catch_up(&self) {
        #[derive(diesel::QueryableByName)]
        struct Lsn {
            #[diesel(sql_type = BigInt)]
            lsn: i64,
        }
        let mut primary = AsyncPgConnection::establish(admin_url()).await.unwrap();
        let target: Lsn =
            diesel::sql_query("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS lsn")
                .get_result(&mut primary)
                .await
                .unwrap();
        let mut replica = AsyncPgConnection::establish(&self.url("postgres"))
            .await
            .unwrap();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let replayed: Lsn = diesel::sql_query(
                "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS lsn",
            )
            .get_result(&mut replica)
            .await
            .unwrap();
            if replayed.lsn >= target.lsn {
                return;
            }
            assert!(Instant::now() < deadline, "the replica does not catch up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The newest server binaries installed (Debian's layout), as the embedded cluster finds them.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server binaries in /usr/lib/postgresql")
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a PostgreSQL version in /usr/lib/postgresql")
        .1
}

fn command(program: &str, run_as: Option<(u32, u32)>) -> Command {
    let mut cmd = Command::new(bin_dir().join(program));
    if let Some((uid, gid)) = run_as {
        cmd.uid(uid).gid(gid);
    }
    // Not root's home: libpq would look for a password file there.
    cmd.env("HOME", "/tmp");
    cmd
}

/// As root, the `postgres` user (PostgreSQL refuses to run as root).
fn unprivileged_user() -> Option<(u32, u32)> {
    let euid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&euid.stdout).trim() != "0" {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    Some((id("-u"), id("-g")))
}

fn set_permissions(dir: &Path, run_as: Option<(u32, u32)>) {
    use std::os::unix::fs::PermissionsExt;
    if let Some((uid, gid)) = run_as {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).unwrap();
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// Directories of earlier runs whose process is gone.
fn remove_stale_dirs() {
    for base in [PathBuf::from("/dev/shm"), std::env::temp_dir()] {
        let Ok(entries) = std::fs::read_dir(&base) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("lw-test-replica-")
                && !Path::new("/proc").join(pid).exists()
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Adds replication lines to the test server's `pg_hba.conf` (a local server: the tests run
/// on its machine) and reloads it.
fn allow_replication() {
    let admin = admin_url().to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            #[derive(diesel::QueryableByName)]
            struct HbaFile {
                #[diesel(sql_type = Text)]
                hba_file: String,
            }
            let mut conn = AsyncPgConnection::establish(&admin).await.unwrap();
            let file: HbaFile = diesel::sql_query("SHOW hba_file")
                .get_result(&mut conn)
                .await
                .unwrap();
            let mut text = std::fs::read_to_string(&file.hba_file).unwrap();
            for line in [
                "local replication all trust",
                "host replication all 127.0.0.1/32 trust",
            ] {
                if !text
                    .lines()
                    .any(|l| l.split_whitespace().eq(line.split_whitespace()))
                {
                    text.push_str(line);
                    text.push('\n');
                }
            }
            std::fs::write(&file.hba_file, text).unwrap();
            diesel::sql_query("SELECT pg_reload_conf()")
                .execute(&mut conn)
                .await
                .unwrap();
        });
    })
    .join()
    .unwrap();
}
