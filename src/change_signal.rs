//! In-process knowledge of "something changed", from PostgreSQL's `NOTIFY` (sent by every
//! write, see `journal.rs`), so caches can be trusted without asking the database each time.
//!
//! While the listener is connected, [`ChangeSignal::epoch`] gives a number that moves on every
//! committed change, on any replica, and [`ChangeSignal::campaign_stamp`] one that moves on
//! every change of one campaign (and on every change that belongs to no campaign, like a
//! unit's name, which any campaign may show). When it is not connected (startup, a database
//! outage, or no listener at all), both give `None` and caches must not be used.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::StreamExt;
use tokio::sync::watch;
use uuid::Uuid;

/// The channel every write notifies at commit (see `journal.rs`), naming the campaigns it
/// touched.
pub const CHANGES_CHANNEL: &str = "learnweek_changes";

/// The notification payload of a change that concerns every campaign.
pub const EVERY_CAMPAIGN: &str = "*";

#[derive(Debug, Default)]
pub struct ChangeSignal {
    epoch: AtomicU64,
    /// Moves on changes that belong to no campaign (or to too many to list).
    shared: AtomicU64,
    campaigns: Mutex<HashMap<Uuid, u64>>,
    live: AtomicBool,
}

/// What a cached value of one campaign was computed at: valid while both are unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    shared: u64,
    campaign: u64,
}

impl ChangeSignal {
    /// The current epoch, or `None` while changes might go unnoticed.
    pub fn epoch(&self) -> Option<u64> {
        self.live
            .load(Ordering::Acquire)
            .then(|| self.epoch.load(Ordering::Acquire))
    }

    /// The state of `campaign`'s data now, or `None` while changes might go unnoticed. The
    /// nil id stands for every campaign (a value summed over many, like a region's figures).
    pub fn campaign_stamp(&self, campaign: Uuid) -> Option<Stamp> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let shared = self.shared.load(Ordering::Acquire);
        let campaign = if campaign.is_nil() {
            self.epoch.load(Ordering::Acquire)
        } else {
            self.campaigns
                .lock()
                .map_or(u64::MAX, |m| m.get(&campaign).copied().unwrap_or(0))
        };
        Some(Stamp { shared, campaign })
    }

    fn bump(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// A notification: its payload lists the campaigns the change touched.
    fn changed(&self, payload: &str) {
        let ids: Option<Vec<Uuid>> = payload
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().ok())
            .collect();
        match ids {
            Some(ids) if !ids.is_empty() => {
                if let Ok(mut campaigns) = self.campaigns.lock() {
                    for id in ids {
                        *campaigns.entry(id).or_default() += 1;
                    }
                }
            }
            // "*", empty, or not understood: it may concern anyone.
            _ => {
                self.shared.fetch_add(1, Ordering::AcqRel);
            }
        }
        self.bump();
    }

    fn set_live(&self, live: bool) {
        // Whatever happened while not listening is unknown: move the epochs either way.
        self.shared.fetch_add(1, Ordering::AcqRel);
        self.bump();
        self.live.store(live, Ordering::Release);
    }
}

/// Listens until `stop` turns true; reconnects (and stays "not live" meanwhile) on errors.
/// Starts listening on a task of its own; the listener ends when the returned sender is
/// dropped or set.
pub fn spawn_listener(signal: Arc<ChangeSignal>, database_url: String) -> watch::Sender<bool> {
    let (stop, stopped) = watch::channel(false);
    actix_web::rt::spawn(listen(signal, database_url, stopped));
    stop
}

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
                                Some(Ok(n)) => signal.changed(&n.payload),
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
