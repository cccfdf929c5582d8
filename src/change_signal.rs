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

    /// The state of several campaigns' data at once, for a value that shows them all (a report
    /// beside its earlier editions). The counters are hashed with their ids rather than
    /// summed, so the stamp also moves when the set itself does (an edition added or taken
    /// out of the list), which a sum of counters could not tell.
    pub fn campaigns_stamp(&self, ids: &[Uuid]) -> Option<Stamp> {
        use std::hash::{DefaultHasher, Hash, Hasher};
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let shared = self.shared.load(Ordering::Acquire);
        let campaigns = self.campaigns.lock().ok()?;
        let mut state = DefaultHasher::new();
        for id in ids {
            id.hash(&mut state);
            campaigns.get(id).copied().unwrap_or(0).hash(&mut state);
        }
        Some(Stamp {
            shared,
            campaign: state.finish(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_over_several_campaigns_moves_with_each_of_them_and_with_the_set() {
        let s = ChangeSignal::default();
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        assert!(s.campaigns_stamp(&[a, b]).is_none(), "not listening");
        s.set_live(true);
        let ab = s.campaigns_stamp(&[a, b]);
        assert!(ab.is_some());
        assert_eq!(s.campaigns_stamp(&[a, b]), ab);
        assert_ne!(s.campaigns_stamp(&[a, c]), ab, "another set of editions");
        s.changed(&c.to_string());
        assert_eq!(s.campaigns_stamp(&[a, b]), ab, "a campaign not shown");
        s.changed(&format!("{c},{b}"));
        let moved = s.campaigns_stamp(&[a, b]);
        assert_ne!(moved, ab, "an edition shown");
        s.changed(EVERY_CAMPAIGN);
        assert_ne!(s.campaigns_stamp(&[a, b]), moved, "a change of shared data");
    }
}
