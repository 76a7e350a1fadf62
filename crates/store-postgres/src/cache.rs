//! Per-process id caches, safe beside other processes that prune.
//!
//! Ingest looks up the same packages, sets and OS releases again and again;
//! remembering their ids saves round trips. Another server process may
//! prune, deleting rows whose ids are cached here. Package ids are not
//! protected by foreign keys (sets store them encoded), so a stale id would
//! silently corrupt a set. Hence:
//!
//! - every ingest runs under a shared advisory lock that prune takes
//!   exclusively, so no prune commits while an ingest is using ids;
//! - prune increments `store_state.prune_epoch`, which ingest reads right
//!   after taking the lock; entries belong to one epoch and a new epoch
//!   empties the caches;
//! - ids learnt inside a transaction are only published after it commits
//!   ([`Pending`]), so a rolled-back insert is never remembered.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use patchwatch_store::{PackageKey, SetHash};

#[derive(Default)]
pub(crate) struct Caches {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The prune epoch the entries are valid in; `None` before first use.
    epoch: Option<i64>,
    packages: HashMap<PackageKey, i64>,
    /// Set hash -> (set id, package count).
    sets: HashMap<SetHash, (i64, i64)>,
    os_releases: HashMap<(String, String), i64>,
}

impl State {
    fn clear(&mut self) {
        self.packages.clear();
        self.sets.clear();
        self.os_releases.clear();
    }
}

/// Bounded so a long-running server doesn't grow without limit.
const MAX_PACKAGES: usize = 4_000_000;
const MAX_SETS: usize = 1_000_000;

/// Ids an ingest attempt learnt, published only once it has committed.
#[derive(Default)]
pub(crate) struct Pending {
    pub packages: Vec<(PackageKey, i64)>,
    pub sets: Vec<(SetHash, (i64, i64))>,
    pub os_releases: Vec<((String, String), i64)>,
}

/// The caches as seen from one transaction, in one prune epoch.
pub(crate) struct View<'a> {
    caches: &'a Caches,
    epoch: i64,
}

impl Caches {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock can only leave a partly filled
        // map, whose entries are still valid.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets everything: after a prune, or when a cached id turned out
    /// to name a deleted row.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.clear();
        state.epoch = None;
    }

    /// The caches for a transaction that read `epoch` under the shared
    /// lock; entries from another epoch are dropped.
    pub fn view(&self, epoch: i64) -> View<'_> {
        let mut state = self.lock();
        if state.epoch != Some(epoch) {
            state.clear();
            state.epoch = Some(epoch);
        }
        View {
            caches: self,
            epoch,
        }
    }

    /// Publishes what a committed transaction learnt in `epoch`. If the
    /// epoch has moved on since (a prune committed after it), the ids may
    /// already be stale and are dropped.
    pub fn publish(&self, epoch: i64, pending: Pending) {
        let mut state = self.lock();
        if state.epoch != Some(epoch) {
            return;
        }
        if state.packages.len() + pending.packages.len() > MAX_PACKAGES {
            state.packages.clear();
        }
        if state.sets.len() + pending.sets.len() > MAX_SETS {
            state.sets.clear();
        }
        state.packages.extend(pending.packages);
        state.sets.extend(pending.sets);
        state.os_releases.extend(pending.os_releases);
    }
}

impl View<'_> {
    /// Runs `f` on the state if it still belongs to this view's epoch (it
    /// can't change while the ingest holds the shared lock, unless this
    /// process cleared it after a foreign-key violation).
    fn with<T>(&self, f: impl FnOnce(&State) -> Option<T>) -> Option<T> {
        let state = self.caches.lock();
        if state.epoch == Some(self.epoch) {
            f(&state)
        } else {
            None
        }
    }

    pub fn os_release(&self, key: &(String, String)) -> Option<i64> {
        self.with(|s| s.os_releases.get(key).copied())
    }

    pub fn set(&self, hash: &SetHash) -> Option<(i64, i64)> {
        self.with(|s| s.sets.get(hash).copied())
    }

    /// Fills `ids[i]` for every `keys[i]` that is cached.
    pub fn packages(&self, keys: &[PackageKey], ids: &mut [Option<i64>]) {
        self.with(|s| {
            for (key, id) in keys.iter().zip(ids.iter_mut()) {
                *id = s.packages.get(key).copied();
            }
            Some(())
        });
    }
}
