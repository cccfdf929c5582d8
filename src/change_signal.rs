//! In-process knowledge of "something changed", from PostgreSQL's `NOTIFY` (sent by every
//! write, see `journal.rs`), so caches can be trusted without asking the database each time.
//!
//! While the listener is connected, [`ChangeSignal::epoch`] gives a number that moves on every
//! committed change, on any replica. When it is not connected (startup, a database outage, or
//! no listener at all, as in tests), it gives `None` and caches must not be used.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::StreamExt;
use tokio::sync::watch;

use crate::journal::CHANGES_CHANNEL;

#[derive(Debug, Default)]
pub struct ChangeSignal {
    epoch: AtomicU64,
    live: AtomicBool,
}

impl ChangeSignal {
    /// The current epoch, or `None` while changes might go unnoticed.
    pub fn epoch(&self) -> Option<u64> {
        self.live
            .load(Ordering::Acquire)
            .then(|| self.epoch.load(Ordering::Acquire))
    }

    fn bump(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    fn set_live(&self, live: bool) {
        // Whatever happened while not listening is unknown: move the epoch either way.
        self.bump();
        self.live.store(live, Ordering::Release);
    }
}

/// Listens until `stop` turns true; reconnects (and stays "not live" meanwhile) on errors.
pub async fn listen(
    signal: Arc<ChangeSignal>,
    database_url: String,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match AsyncPgConnection::establish(&database_url).await {
            Ok(mut conn) => {
                if conn
                    .batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))
                    .await
                    .is_ok()
                {
                    signal.set_live(true);
                    let mut notifications = std::pin::pin!(conn.notifications_stream());
                    loop {
                        tokio::select! {
                            _ = stop.changed() => {
                                signal.set_live(false);
                                return;
                            }
                            next = notifications.next() => match next {
                                Some(Ok(_)) => signal.bump(),
                                _ => break,
                            },
                        }
                    }
                }
                signal.set_live(false);
                log::warn!("lost the change notifications; reconnecting");
            }
            Err(e) => log::debug!("change listener cannot connect: {e}"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = actix_web::rt::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
