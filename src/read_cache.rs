//! Computed answers of one campaign (its summary, a rendered feed, a report), kept until the
//! campaign changes. Validity comes from the change signal ([`ChangeSignal::campaign_stamp`]):
//! an entry computed at a stamp is served while the stamp is unchanged, so a change is visible
//! at the next request after its commit is notified. While the signal is not live, nothing is
//! cached.
//!
//! One computation per key at a time: concurrent misses wait for the first instead of all
//! asking the database (a herd of pollers would otherwise take every pooled connection).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::change_signal::{ChangeSignal, Stamp};
use crate::error::AppResult;

type Slot<V> = Arc<SlotState<V>>;

/// One key's value, read without waiting while it is current; `computing` lets one request
/// at a time compute a new value while the others wait for it.
struct SlotState<V> {
    latest: Mutex<Option<(Stamp, Arc<V>)>>,
    computing: tokio::sync::Mutex<()>,
}

impl<V> Default for SlotState<V> {
    fn default() -> Self {
        SlotState {
            latest: Mutex::new(None),
            computing: tokio::sync::Mutex::new(()),
        }
    }
}

impl<V> SlotState<V> {
    fn current(&self, stamp: Stamp, fresh: &impl Fn(&V) -> bool) -> Option<Arc<V>> {
        let latest = self.latest.lock().ok()?;
        let (at, value) = latest.as_ref()?;
        (*at == stamp && fresh(value)).then(|| value.clone())
    }

    fn keep(&self, stamp: Stamp, value: Arc<V>) {
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some((stamp, value));
        }
    }
}

pub struct ReadCache<V> {
    slots: Mutex<HashMap<(Uuid, String), Slot<V>>>,
    /// At most this many keys; beyond it the whole map is dropped (a crude but bounded LRU:
    /// keys are few per campaign, and a refill costs one computation each).
    max_keys: usize,
}

impl<V> ReadCache<V> {
    pub fn new(max_keys: usize) -> Self {
        ReadCache {
            slots: Mutex::new(HashMap::new()),
            max_keys,
        }
    }

    /// The value of `key` for `campaign`, from the cache while the campaign is unchanged,
    /// else from `compute`.
    pub async fn get_or_compute(
        &self,
        signal: &ChangeSignal,
        campaign: Uuid,
        key: &str,
        compute: impl Future<Output = AppResult<V>>,
    ) -> AppResult<Arc<V>> {
        self.get_or_compute_while(signal, campaign, key, |_| true, compute)
            .await
    }

    /// [`get_or_compute`](Self::get_or_compute) for values that also go stale with time (a
    /// feed whose deleted entries age out): a cached value is served only while `fresh`.
    pub async fn get_or_compute_while(
        &self,
        signal: &ChangeSignal,
        campaign: Uuid,
        key: &str,
        fresh: impl Fn(&V) -> bool,
        compute: impl Future<Output = AppResult<V>>,
    ) -> AppResult<Arc<V>> {
        // Read before computing: a change during the computation leaves the entry stale.
        let stamp = signal.campaign_stamp(campaign);
        self.at_stamp(stamp, campaign, key, fresh, compute).await
    }

    /// The same, valid while `stamp` holds: for a value that depends on more than its own
    /// campaign ([`ChangeSignal::campaigns_stamp`]). Read the stamp before computing.
    pub async fn get_or_compute_at(
        &self,
        stamp: Option<Stamp>,
        campaign: Uuid,
        key: &str,
        compute: impl Future<Output = AppResult<V>>,
    ) -> AppResult<Arc<V>> {
        self.at_stamp(stamp, campaign, key, |_| true, compute).await
    }

    async fn at_stamp<F>(
        &self,
        stamp: Option<Stamp>,
        campaign: Uuid,
        key: &str,
        fresh: impl Fn(&V) -> bool,
        compute: F,
    ) -> AppResult<Arc<V>>
    where
        F: Future<Output = AppResult<V>>,
    {
        let Some(stamp) = stamp else {
            return compute.await.map(Arc::new);
        };
        let slot = self.slot(campaign, key);
        // The hot path: a current value is served under a short lock, no queue.
        if let Some(value) = slot.current(stamp, &fresh) {
            return Ok(value);
        }
        let _turn = slot.computing.lock().await;
        if let Some(value) = slot.current(stamp, &fresh) {
            return Ok(value);
        }
        // Read from the primary, or from a replica verified to hold every change the stamp
        // counts: a lagging replica's value would be kept as fresh (see `replica.rs`).
        let value = Arc::new(crate::replica::for_cache(compute).await?);
        slot.keep(stamp, value.clone());
        Ok(value)
    }

    fn slot(&self, campaign: Uuid, key: &str) -> Slot<V> {
        let Ok(mut slots) = self.slots.lock() else {
            return Arc::default();
        };
        let wanted = (campaign, key.to_owned());
        if let Some(slot) = slots.get(&wanted) {
            return slot.clone();
        }
        if slots.len() >= self.max_keys {
            slots.clear();
        }
        slots.entry(wanted).or_default().clone()
    }
}

/// Values found by a key that is not their campaign's id (a campaign by its slug), kept
/// while that campaign is unchanged.
/// A value, its campaign, and the campaign's stamp when it was read.
type Indexed<V> = (Uuid, Stamp, Arc<V>);

pub struct KeyIndex<V> {
    entries: Mutex<HashMap<String, Indexed<V>>>,
    max_keys: usize,
}

impl<V> KeyIndex<V> {
    pub fn new(max_keys: usize) -> Self {
        KeyIndex {
            entries: Mutex::new(HashMap::new()),
            max_keys,
        }
    }

    pub fn get(&self, signal: &ChangeSignal, key: &str) -> Option<Arc<V>> {
        let entries = self.entries.lock().ok()?;
        let (campaign, stamp, value) = entries.get(key)?;
        (signal.campaign_stamp(*campaign) == Some(*stamp)).then(|| value.clone())
    }

    /// Keeps `value` of `campaign` under `key`; `stamp` must have been read before `value`
    /// was, so a change in between leaves the entry stale rather than wrong.
    pub fn put(&self, key: &str, campaign: Uuid, stamp: Stamp, value: Arc<V>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.max_keys {
                entries.clear();
            }
            entries.insert(key.to_owned(), (campaign, stamp, value));
        }
    }
}
