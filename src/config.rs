//! Configuration from the environment (see the table in README.md).

use std::path::{Path, PathBuf};

use base64::Engine;

#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: run the embedded cluster under `data_dir`.
    pub database_url: Option<String>,
    /// A streaming replica of `database_url` for anonymous reads (see `replica.rs`).
    pub database_read_url: Option<String>,
    /// Beyond this lag the replica is not read from.
    pub read_max_lag_ms: u64,
    pub data_dir: PathBuf,
    pub bind: String,
    pub jwt_secret: Option<String>,
    pub cors_origins: Vec<String>,
    pub webhook_allow_private: bool,
    pub pool_size: usize,
    /// Requests per minute per token (or per client IP when anonymous); 0 disables.
    pub rate_limit_per_minute: u32,
    /// Where to serve `/metrics` without a token (unset: only on the API, with a token).
    pub metrics_bind: Option<String>,
    /// Login and refresh attempts per minute per client IP; 0 disables.
    pub login_rate_per_minute: u32,
    /// First webhook retry delay; it doubles with each failure (capped at 6 hours).
    pub webhook_retry_base_ms: u64,
    /// How often the webhook worker looks for due deliveries.
    pub webhook_poll_ms: u64,
}

pub const MIN_SECRET_BYTES: usize = 32;

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Ok(Config {
            database_url: var("DATABASE_URL"),
            database_read_url: var("DATABASE_READ_URL"),
            read_max_lag_ms: parse_var("LEARNWEEK_READ_MAX_LAG_MS", 5000)?,
            data_dir: PathBuf::from(var("LEARNWEEK_DATA_DIR").unwrap_or_else(|| "./data".into())),
            bind: var("LEARNWEEK_BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            jwt_secret: var("LEARNWEEK_JWT_SECRET"),
            cors_origins: var("LEARNWEEK_CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().to_string())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            webhook_allow_private: var("LEARNWEEK_WEBHOOK_ALLOW_PRIVATE")
                .is_some_and(|v| v == "1" || v == "true"),
            pool_size: parse_var("LEARNWEEK_DB_POOL_SIZE", 8)?,
            rate_limit_per_minute: parse_var("LEARNWEEK_RATE_LIMIT_PER_MINUTE", 1200)?,
            login_rate_per_minute: parse_var("LEARNWEEK_LOGIN_RATE_PER_MINUTE", 20)?,
            metrics_bind: var("LEARNWEEK_METRICS_BIND"),
            webhook_retry_base_ms: parse_var("LEARNWEEK_WEBHOOK_RETRY_BASE_MS", 5000)?,
            webhook_poll_ms: parse_var("LEARNWEEK_WEBHOOK_POLL_MS", 1000)?,
        })
    }

    /// The signing secret: from the environment, or (embedded default only) generated once
    /// and kept in the data dir.
    pub fn resolve_jwt_secret(&self) -> Result<String, String> {
        if let Some(secret) = &self.jwt_secret {
            if secret.len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "LEARNWEEK_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long"
                ));
            }
            return Ok(secret.clone());
        }
        if self.database_url.is_some() {
            return Err("LEARNWEEK_JWT_SECRET is required when DATABASE_URL is set \
                        (at least 32 bytes, e.g. `openssl rand -base64 48`)"
                .into());
        }
        dev_secret(&self.data_dir)
    }
}

fn parse_var<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a number")),
        _ => Ok(default),
    }
}

fn dev_secret(data_dir: &Path) -> Result<String, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let path = data_dir.join("jwt-secret");
    if let Ok(secret) = std::fs::read_to_string(&path) {
        let secret = secret.trim().to_string();
        if secret.len() >= MIN_SECRET_BYTES {
            return Ok(secret);
        }
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.write_all(secret.as_bytes())
        .map_err(|e| e.to_string())?;
    log::warn!(
        "LEARNWEEK_JWT_SECRET is unset: generated a development signing key in {}; set the variable in production",
        path.display()
    );
    Ok(secret)
}
