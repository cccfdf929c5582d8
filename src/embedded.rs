//! A private PostgreSQL cluster for when `DATABASE_URL` is unset.
//!
//! The cluster lives under `<data dir>/pg`, listens only on a unix socket in `<data dir>/run`,
//! and is a child of this process: it is stopped (fast shutdown) when the owner stops it or
//! when this process dies, even by SIGKILL (the child is started with a parent-death signal).
//! PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
#![allow(unsafe_code)]

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const PORT: u16 = 5432;
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct EmbeddedCluster {
    pgdata: PathBuf,
    socket_dir: PathBuf,
    /// Set when this process started the server (and so must stop it).
    owned: Option<OwnedServer>,
}

struct OwnedServer {
    pid: i32,
    keeper: Option<JoinHandle<()>>,
}

impl EmbeddedCluster {
    /// Initializes (first time) and starts the cluster under `base`, or attaches to one that
    /// another learnweek process already runs there.
    pub fn start(base: &Path) -> Result<Self, String> {
        fs::create_dir_all(base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
        let base = base
            .canonicalize()
            .map_err(|e| format!("cannot resolve {}: {e}", base.display()))?;
        let pgdata = base.join("pg");
        let socket_dir = base.join("run");
        let bin = find_bin_dir().ok_or_else(|| {
            "no PostgreSQL server binaries found (looked on PATH and in /usr/lib/postgresql/*/bin). \
             Install PostgreSQL, or set DATABASE_URL to an existing server, or run `docker compose up`."
                .to_string()
        })?;
        let run_as = unprivileged_user()?;

        let mut cluster = EmbeddedCluster {
            pgdata,
            socket_dir,
            owned: None,
        };
        if cluster.is_running() {
            log::info!(
                "using the embedded PostgreSQL already running in {}",
                base.display()
            );
            return Ok(cluster);
        }
        fs::create_dir_all(&cluster.socket_dir).map_err(|e| e.to_string())?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&cluster.socket_dir, Some(uid), Some(gid))
                .map_err(|e| e.to_string())?;
        }
        if !cluster.pgdata.join("PG_VERSION").exists() {
            init_cluster(&bin, &cluster.pgdata, run_as)?;
        }
        let log_path = base.join("postgres.log");
        cluster.owned = Some(spawn_server(
            &bin,
            &cluster.pgdata,
            &cluster.socket_dir,
            &log_path,
            run_as,
        )?);
        cluster.wait_ready(&log_path)?;
        log::info!("embedded PostgreSQL started in {}", base.display());
        Ok(cluster)
    }

    /// A libpq-style connection string for `dbname` over the unix socket.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "host='{}' port={PORT} user=postgres dbname={dbname}",
            self.socket_dir.display()
        )
    }

    fn is_running(&self) -> bool {
        postmaster_ready(&self.pgdata) && self.socket_dir.join(format!(".s.PGSQL.{PORT}")).exists()
    }

    fn wait_ready(&mut self, log_path: &Path) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.is_running() {
                return Ok(());
            }
            let exited = self
                .owned
                .as_ref()
                .and_then(|o| o.keeper.as_ref())
                .is_some_and(JoinHandle::is_finished);
            if exited || Instant::now() > deadline {
                return Err(format!(
                    "embedded PostgreSQL did not start; its log ({}) ends with:\n{}",
                    log_path.display(),
                    tail(log_path, 8).join("\n")
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Fast shutdown (rolls back open transactions, closes connections) and waits for it.
    pub fn stop(&mut self) {
        let Some(mut server) = self.owned.take() else {
            return;
        };
        // SAFETY: kill(2) with a pid we spawned; no memory is touched.
        unsafe {
            libc::kill(server.pid, libc::SIGINT);
        }
        if let Some(keeper) = server.keeper.take() {
            let _ = keeper.join();
        }
        log::info!("embedded PostgreSQL stopped");
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn postmaster_ready(pgdata: &Path) -> bool {
    // Since PostgreSQL 10 the 8th line of postmaster.pid is the server status.
    fs::read_to_string(pgdata.join("postmaster.pid"))
        .map(|s| s.lines().nth(7).is_some_and(|l| l.trim() == "ready"))
        .unwrap_or(false)
}

fn find_bin_dir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("postgres").is_file() && dir.join("initdb").is_file();
    if let Some(dir) = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).find(|d| has_server(d)))
    {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_server(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

/// `Some((uid, gid))` of the user to run PostgreSQL as when we are root, else `None`.
fn unprivileged_user() -> Result<Option<(u32, u32)>, String> {
    let euid = fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX);
    if euid != 0 {
        return Ok(None);
    }
    let passwd =
        fs::read_to_string("/etc/passwd").map_err(|e| format!("cannot read /etc/passwd: {e}"))?;
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&"postgres") && fields.len() > 3)
        .and_then(|fields| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
        .map(Some)
        .ok_or_else(|| {
            "running as root, but PostgreSQL refuses to run as root and there is no `postgres` user to \
             run it as; create one or set DATABASE_URL"
                .to_string()
        })
}

fn command(bin: &Path, program: &str, run_as: Option<(u32, u32)>) -> Command {
    let mut cmd = Command::new(bin.join(program));
    if let Some((uid, gid)) = run_as {
        cmd.uid(uid).gid(gid);
        cmd.env("HOME", "/tmp");
    }
    cmd
}

fn init_cluster(bin: &Path, pgdata: &Path, run_as: Option<(u32, u32)>) -> Result<(), String> {
    fs::create_dir_all(pgdata).map_err(|e| e.to_string())?;
    if let Some((uid, gid)) = run_as {
        std::os::unix::fs::chown(pgdata, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
    }
    log::info!(
        "initializing an embedded PostgreSQL cluster in {}",
        pgdata.display()
    );
    // C.UTF-8 makes pg_trgm treat Chinese characters as word characters; fall back to the
    // platform default where that locale does not exist.
    let attempts: [&[&str]; 2] = [&["--locale=C.UTF-8"], &[]];
    let mut last_error = String::new();
    for extra in attempts {
        let out = command(bin, "initdb", run_as)
            .arg("-D")
            .arg(pgdata)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ])
            .args(extra)
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        last_error = String::from_utf8_lossy(&out.stderr).into_owned();
        let _ = fs::remove_dir_all(pgdata);
        fs::create_dir_all(pgdata).map_err(|e| e.to_string())?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(pgdata, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
        }
    }
    Err(format!(
        "initdb failed (the server runs as an unprivileged user: {} and every directory above it must be accessible to it, e.g. chmod o+x): {last_error}",
        pgdata.display()
    ))
}

fn spawn_server(
    bin: &Path,
    pgdata: &Path,
    socket_dir: &Path,
    log_path: &Path,
    run_as: Option<(u32, u32)>,
) -> Result<OwnedServer, String> {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = command(bin, "postgres", run_as);
    cmd.arg("-D")
        .arg(pgdata)
        .args(["-c", "listen_addresses="])
        .arg("-c")
        .arg(format!("unix_socket_directories={}", socket_dir.display()))
        .args(["-c", &format!("port={PORT}")])
        .args(["-c", "max_connections=200"])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        // Its own process group: a Ctrl-C in the terminal reaches us, and we shut the server
        // down after the HTTP server has drained, not before.
        .process_group(0);
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of the parent.
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

    // The parent-death signal fires when the *thread* that forked the child exits, so the
    // child is spawned by a keeper thread that lives exactly as long as the server.
    let (tx, rx) = mpsc::channel();
    let keeper = std::thread::Builder::new()
        .name("embedded-postgres".into())
        .spawn(move || match cmd.spawn() {
            Ok(mut child) => {
                let _ = tx.send(Ok(child.id() as i32));
                let _ = child.wait();
            }
            Err(e) => {
                let _ = tx.send(Err(format!("cannot start postgres: {e}")));
            }
        })
        .map_err(|e| e.to_string())?;
    let pid = rx.recv().map_err(|e| e.to_string())??;
    Ok(OwnedServer {
        pid,
        keeper: Some(keeper),
    })
}

/// The last `n` lines of a file (for error messages).
fn tail(path: &Path, n: usize) -> Vec<String> {
    let Ok(file) = fs::File::open(path) else {
        return Vec::new();
    };
    let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}
