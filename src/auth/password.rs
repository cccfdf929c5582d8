//! argon2id password hashes. Hashing is deliberately slow and memory-hungry (19 MiB each), so
//! it runs off the async executor, at most one per core at a time: a flood of logins queues
//! briefly and is then turned away (503), instead of taking the process's memory with it.

use std::sync::LazyLock;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// How long a hash may wait for its turn before the request is turned away.
const WAIT: Duration = Duration::from_secs(2);

static TURNS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Semaphore::new(cores)
});

/// Runs `work` on a blocking thread once a turn is free (503 after [`WAIT`]).
async fn in_turn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let _turn = tokio::time::timeout(WAIT, TURNS.acquire())
        .await
        .map_err(|_| AppError::busy("the server is busy checking other passwords; retry shortly"))?
        .map_err(AppError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AppError::internal)
}

pub async fn hash(password: String) -> AppResult<String> {
    in_turn(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(AppError::internal)
    })
    .await?
}

/// Checks `password` against `stored`; with no stored hash (unknown user) it still spends the
/// same time on a dummy hash, so response times do not reveal which usernames exist.
pub async fn verify(password: String, stored: Option<String>) -> AppResult<bool> {
    in_turn(move || {
        let argon = Argon2::default();
        match stored.as_deref().map(PasswordHash::new) {
            Some(Ok(parsed)) => argon.verify_password(password.as_bytes(), &parsed).is_ok(),
            _ => {
                let _ = argon.hash_password(password.as_bytes());
                false
            }
        }
    })
    .await
}
