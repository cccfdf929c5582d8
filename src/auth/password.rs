//! argon2id password hashes. Hashing is deliberately slow and memory-hungry (19 MiB each), so
//! it runs off the async executor, on a few threads of its own, one hash per core at a time: a
//! flood of logins queues briefly and is then turned away (503), instead of taking the
//! process's memory with it.
//!
//! Why threads of its own rather than `spawn_blocking`: each new thread gets its own malloc
//! arena, and an arena keeps a freed 19 MiB block for reuse. Blocking-pool threads come and go
//! under load, so a flood left a block behind in arena after arena (1.4 GB measured after 1,000
//! logins); long-lived threads reuse theirs.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use std::cell::RefCell;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// How long a hash may wait for its turn before the request is turned away.
const WAIT: Duration = Duration::from_secs(2);

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads and a turn for each.
struct Hashers {
    turns: Semaphore,
    jobs: SyncSender<Job>,
}

static HASHERS: LazyLock<Hashers> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (jobs, queue) = sync_channel::<Job>(threads);
    let queue = Arc::new(Mutex::new(queue));
    for i in 0..threads {
        let queue = queue.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("password-{i}"))
            .spawn(move || run_jobs(&queue));
        if let Err(e) = spawned {
            log::error!("cannot start a password thread: {e}");
        }
    }
    Hashers {
        turns: Semaphore::new(threads),
        jobs,
    }
});

fn run_jobs(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// A turn at the hashing threads, held by one login (or password change) from its first
/// database query to its answer: so at most one login per core uses pooled connections at a
/// time, and a login flood cannot take the pool from everyone else.
pub struct Turn {
    _permit: tokio::sync::SemaphorePermit<'static>,
}

/// Waits for a turn (503 after [`WAIT`]).
pub async fn turn() -> AppResult<Turn> {
    let permit = tokio::time::timeout(WAIT, HASHERS.turns.acquire())
        .await
        .map_err(|_| AppError::busy("the server is busy checking other passwords; retry shortly"))?
        .map_err(AppError::internal)?;
    Ok(Turn { _permit: permit })
}

/// Runs `work` on a hashing thread (the caller holds a [`Turn`]).
async fn in_turn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let hashers = &*HASHERS;
    let (done, result) = tokio::sync::oneshot::channel();
    // With a turn held there is room in the queue: one slot per thread, one job per turn.
    hashers
        .jobs
        .try_send(Box::new(move || {
            let _ = done.send(work());
        }))
        .map_err(|e| AppError::internal(format!("password queue: {e}")))?;
    result.await.map_err(AppError::internal)
}

thread_local! {
    /// Argon2's working memory, allocated once per hashing thread and reused by every hash.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// `argon2` with its blocks in this thread's reused memory (the crate's own entry points
/// allocate 19 MiB per call, which malloc then keeps).
fn argon2_into(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < params.block_count() {
            memory.resize(params.block_count(), Block::new());
        }
        argon.hash_password_into_with_memory(
            password,
            salt,
            out,
            &mut memory[..params.block_count()],
        )
    })
}

/// A new argon2id hash of `password` in the PHC string format, with the crate's default
/// (OWASP) parameters.
pub async fn hash(password: String) -> AppResult<String> {
    let _turn = turn().await?;
    in_turn(move || {
        let params = Params::default();
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(AppError::internal)?;
        let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        argon2_into(&argon, &params, password.as_bytes(), &salt, &mut out)
            .map_err(AppError::internal)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(AppError::internal)?,
            salt: Some(Salt::try_from(&salt[..]).map_err(AppError::internal)?),
            hash: Some(Output::new(&out).map_err(AppError::internal)?),
        };
        Ok(phc.to_string())
    })
    .await?
}

/// Checks `password` against `stored`; with no stored hash (unknown user) it still spends the
/// same time on a hash, so response times do not reveal which usernames exist.
pub async fn verify(_turn: &Turn, password: String, stored: Option<String>) -> AppResult<bool> {
    in_turn(move || match stored.as_deref().map(PasswordHash::new) {
        Some(Ok(parsed)) => matches(password.as_bytes(), &parsed),
        _ => {
            let params = Params::default();
            let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
            let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
            let _ = argon2_into(
                &argon,
                &params,
                password.as_bytes(),
                b"not a real salt",
                &mut out,
            );
            false
        }
    })
    .await
}

/// Recomputes the stored hash's function with its own parameters and salt.
fn matches(password: &[u8], stored: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(stored) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm.as_str()) else {
        return false;
    };
    let version = match stored.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    argon2_into(&argon, &params, password, salt.as_ref(), &mut out).is_ok()
        // `Output` compares in constant time.
        && Output::new(&out).is_ok_and(|computed| &computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn hashes_verify_and_the_crates_own_hashes_too() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        let t = turn().await.unwrap();
        let check = |password: &str, stored: Option<&str>| {
            verify(&t, password.into(), stored.map(str::to_owned))
        };
        assert!(check("correct horse battery", Some(&stored)).await.unwrap());
        assert!(!check("wrong", Some(&stored)).await.unwrap());
        assert!(!check("x", None).await.unwrap());
        assert!(!check("x", Some("not a hash")).await.unwrap());
        // Hashes made by the crate's own `hash_password` (stored before this code) still verify.
        use argon2::PasswordHasher;
        let theirs = Argon2::default()
            .hash_password(b"hunter42")
            .unwrap()
            .to_string();
        assert!(check("hunter42", Some(&theirs)).await.unwrap());
        assert!(!check("hunter43", Some(&theirs)).await.unwrap());
    }
}
