//! Counts that are too slow to compute on every request, kept for a few seconds.
//!
//! Counting is a scan: Unassigned on a roster of 1,000,000 is an anti-join over the whole roster
//! (about half a second), and the member count of a segment holding a quarter of the roster
//! counts hundreds of thousands of index entries. A count that took at least `SLOW` is kept and
//! served for `FRESH_FOR`; after that the first request to ask gets the kept value too and starts
//! a recount in the background, so no request waits for a kept count to be made again, and a
//! count is at most `FRESH_FOR` plus one recount old. Fast counts (every count on small rosters)
//! are never kept, so they are always exact.
//!
//! Every write forgets its workspace's kept counts when it commits, and a count that was started
//! before a write committed is not kept (each workspace has an epoch that moves at every
//! forget), so a kept count never lags a write this instance knows of. Only counts made outside a
//! transaction are kept.
//!
//! The cache belongs to one application: [`Events`](super::events::Events), the hub of one
//! server's database, holds it, its writes forget through it (`service::commit`) and its readers
//! look in it, so two applications in one process never share counts.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::DbErr;

use super::influencer_set::InfluencerSet;
use crate::sync::lock;

/// Counts that took at least this long are kept.
pub const SLOW: Duration = Duration::from_millis(20);
/// How long a kept count is served before it is recounted.
pub const FRESH_FOR: Duration = Duration::from_secs(10);
/// Beyond this many kept counts (many distinct searches), the cache starts over.
const MAX_ENTRIES: usize = 10_000;

/// What was counted: the workspace, and the set.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Influencers(i64, InfluencerSet),
    Members(i64, i64),
}

impl Key {
    fn workspace(&self) -> i64 {
        match self {
            Key::Influencers(ws, _) | Key::Members(ws, _) => *ws,
        }
    }
}

struct Kept {
    value: i64,
    at: Instant,
    recounting: bool,
}

/// The last count made of a key, kept or not: what requests that waited for it take.
struct Counted {
    value: i64,
    /// When it was made.
    at: Instant,
    /// The workspace's epoch when it started.
    since: u64,
}

#[derive(Default)]
struct State {
    kept: HashMap<Key, Kept>,
    last: HashMap<Key, Counted>,
    /// Each workspace's epoch: the one handed out at its last forget (0: none seen).
    epochs: HashMap<i64, u64>,
}

/// The counts one application keeps. Clones share them.
#[derive(Clone, Default)]
pub struct CountCache {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    /// The lock that requests counting a key take turns on, by key.
    gates: Mutex<HashMap<Key, Arc<futures_util::lock::Mutex<()>>>>,
    /// The last epoch handed out. Epochs come from one counter that only grows, so an epoch is
    /// never reused, even when the map of epochs is started over.
    last_epoch: AtomicU64,
}

/// What the cache holds for a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A kept count to serve: fresh, or already being recounted.
    Kept(i64),
    /// A kept count to serve, past `FRESH_FOR`: the caller is now the one to recount it (in the
    /// background), and others get `Kept` meanwhile.
    Stale(i64),
    /// Nothing kept: count it now.
    Missing,
}

impl CountCache {
    /// What the cache holds for `key`; a stale count is handed to one caller to recount.
    pub fn lookup(&self, key: &Key) -> Lookup {
        let mut state = lock(&self.inner.state);
        let Some(entry) = state.kept.get_mut(key) else {
            return Lookup::Missing;
        };
        if entry.at.elapsed() < FRESH_FOR || entry.recounting {
            return Lookup::Kept(entry.value);
        }
        entry.recounting = true;
        Lookup::Stale(entry.value)
    }

    /// The kept count if it is fresh, without taking on a recount.
    pub fn fresh(&self, key: &Key) -> Option<i64> {
        let state = lock(&self.inner.state);
        state
            .kept
            .get(key)
            .filter(|entry| entry.at.elapsed() < FRESH_FOR)
            .map(|entry| entry.value)
    }

    /// The last count of `key` if it was made after `waiting_since` and no write this instance
    /// knows of committed since it started: a request that waited for another's count of the
    /// same key takes it, as it would take a kept one, instead of counting again after it. Fast
    /// counts are never kept, so without this, requests arriving together for one would count
    /// one after the other.
    pub fn counted_since(&self, key: &Key, waiting_since: Instant) -> Option<i64> {
        let state = lock(&self.inner.state);
        let counted = state.last.get(key)?;
        let current = state.epochs.get(&key.workspace()).copied().unwrap_or(0);
        (counted.at >= waiting_since && counted.since == current).then_some(counted.value)
    }

    /// The workspace's epoch now: read it before a count starts, and give it to [`Self::put`].
    fn epoch(&self, ws: i64) -> u64 {
        lock(&self.inner.state)
            .epochs
            .get(&ws)
            .copied()
            .unwrap_or(0)
    }

    /// Makes counts of workspace `ws` with `count` and records what it found (see `put`):
    /// `outcome` keys each count, `None` for each when the count failed.
    pub async fn make<T>(
        &self,
        ws: i64,
        count: impl Future<Output = Result<T, DbErr>>,
        outcome: impl FnOnce(Option<&T>) -> Vec<(Key, Option<i64>)>,
    ) -> Result<T, DbErr> {
        let since = self.epoch(ws);
        let started = Instant::now();
        let counted = count.await;
        self.put(&outcome(counted.as_ref().ok()), started.elapsed(), since);
        counted
    }

    /// [`Self::make`] on a task of its own, for stale counts that are served meanwhile: no
    /// request waits for a kept count to be made again.
    pub fn remake_in_background<T: Send + 'static>(
        &self,
        ws: i64,
        count: impl Future<Output = Result<T, DbErr>> + Send + 'static,
        outcome: impl FnOnce(Option<&T>) -> Vec<(Key, Option<i64>)> + Send + 'static,
    ) {
        let cache = self.clone();
        tokio::spawn(async move {
            if let Err(error) = cache.make(ws, count, outcome).await {
                tracing::warn!(%error, "recounting kept counts failed; the next request retries");
            }
        });
    }

    /// The lock that requests counting `key` take turns on.
    pub fn gate(&self, key: &Key) -> Arc<futures_util::lock::Mutex<()>> {
        let mut gates = lock(&self.inner.gates);
        if gates.len() >= MAX_ENTRIES {
            gates.clear();
        }
        gates.entry(key.clone()).or_default().clone()
    }

    /// Forgets every kept count of a workspace and moves its epoch: called after each of its writes
    /// commits (and, on PostgreSQL, when another instance's membership change arrives).
    pub fn forget_workspace(&self, ws: i64) {
        let mut state = lock(&self.inner.state);
        state.kept.retain(|key, _| key.workspace() != ws);
        if state.epochs.len() >= MAX_ENTRIES {
            state.epochs.clear();
        }
        state.epochs.insert(
            ws,
            self.inner.last_epoch.fetch_add(1, Ordering::Relaxed) + 1,
        );
    }

    /// Records counts made together in `took`, started at their workspaces' epoch `since`: kept
    /// when slow, forgotten when fast. A failed count (`None`), or one that a write may have
    /// overtaken (its workspace's epoch moved), is not kept and lets the next request try again.
    fn put(&self, counts: &[(Key, Option<i64>)], took: Duration, since: u64) {
        let mut state = lock(&self.inner.state);
        if state.kept.len() >= MAX_ENTRIES {
            state.kept.clear();
        }
        if state.last.len() >= MAX_ENTRIES {
            state.last.clear();
        }
        let at = Instant::now();
        for (key, value) in counts {
            let current = state.epochs.get(&key.workspace()).copied().unwrap_or(0);
            if let Some(value) = value {
                state.last.insert(
                    key.clone(),
                    Counted {
                        value: *value,
                        at,
                        since,
                    },
                );
            }
            match value {
                Some(value) if took >= SLOW && current == since => {
                    state.kept.insert(
                        key.clone(),
                        Kept {
                            value: *value,
                            at,
                            recounting: false,
                        },
                    );
                }
                Some(_) if current == since => {
                    state.kept.remove(key);
                }
                _ => {
                    if let Some(entry) = state.kept.get_mut(key) {
                        entry.recounting = false;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOWER: Duration = Duration::from_millis(21);

    /// Makes a kept count older than `FRESH_FOR`.
    fn age(cache: &CountCache, key: &Key) {
        let mut state = lock(&cache.inner.state);
        let entry = state.kept.get_mut(key).expect("kept");
        entry.at = Instant::now()
            .checked_sub(FRESH_FOR + Duration::from_secs(1))
            .expect("the clock is past FRESH_FOR");
    }

    #[test]
    fn a_request_that_waited_takes_a_count_made_meanwhile_unless_a_write_came_between() {
        let cache = CountCache::default();
        let ws = -7_101;
        let key = Key::Influencers(ws, InfluencerSet::Unassigned);
        let waiting = Instant::now();
        assert_eq!(
            cache.counted_since(&key, waiting),
            None,
            "nothing counted yet"
        );
        // A fast count: not kept, but taken by those that waited for it.
        cache.put(&[(key.clone(), Some(5))], Duration::ZERO, cache.epoch(ws));
        assert_eq!(cache.lookup(&key), Lookup::Missing);
        assert_eq!(cache.counted_since(&key, waiting), Some(5));
        // Not by a request that started waiting after it was made.
        assert_eq!(cache.counted_since(&key, Instant::now()), None);
        // Nor once a write committed.
        cache.forget_workspace(ws);
        assert_eq!(cache.counted_since(&key, waiting), None);
        // A count that started before a write and ended after it is not taken either.
        let before = cache.epoch(ws);
        cache.forget_workspace(ws);
        cache.put(&[(key.clone(), Some(6))], Duration::ZERO, before);
        assert_eq!(cache.counted_since(&key, waiting), None);
    }

    #[test]
    fn a_write_forgets_its_workspaces_kept_counts_only() {
        let cache = CountCache::default();
        let (ws, other) = (-7_001, -7_002);
        let unassigned = |w| Key::Influencers(w, InfluencerSet::Unassigned);
        let members = |w| Key::Members(w, 42);
        cache.put(
            &[(unassigned(ws), Some(10)), (members(ws), Some(3))],
            SLOWER,
            cache.epoch(ws),
        );
        cache.put(&[(unassigned(other), Some(20))], SLOWER, cache.epoch(other));
        assert_eq!(cache.fresh(&unassigned(ws)), Some(10));
        assert_eq!(cache.fresh(&members(ws)), Some(3));

        cache.forget_workspace(ws);
        assert_eq!(cache.fresh(&unassigned(ws)), None);
        assert_eq!(cache.fresh(&members(ws)), None);
        assert_eq!(cache.fresh(&unassigned(other)), Some(20));

        // A fast count is never kept.
        cache.put(&[(members(ws), Some(4))], Duration::ZERO, cache.epoch(ws));
        assert_eq!(cache.fresh(&members(ws)), None);
    }

    #[test]
    fn a_count_started_before_a_write_is_not_kept() {
        let cache = CountCache::default();
        let ws = -7_003;
        let key = Key::Members(ws, 1);
        let since = cache.epoch(ws);
        cache.forget_workspace(ws);
        cache.put(&[(key.clone(), Some(5))], SLOWER, since);
        assert_eq!(cache.lookup(&key), Lookup::Missing);
        cache.put(&[(key.clone(), Some(6))], SLOWER, cache.epoch(ws));
        assert_eq!(cache.lookup(&key), Lookup::Kept(6));
    }

    #[test]
    fn a_stale_count_is_served_while_one_caller_recounts_it() {
        let cache = CountCache::default();
        let ws = -7_004;
        let key = Key::Influencers(ws, InfluencerSet::Unassigned);
        cache.put(&[(key.clone(), Some(7))], SLOWER, cache.epoch(ws));
        age(&cache, &key);
        assert_eq!(cache.lookup(&key), Lookup::Stale(7));
        // Everyone else keeps getting the kept value while the recount runs.
        assert_eq!(cache.lookup(&key), Lookup::Kept(7));
        assert_eq!(cache.fresh(&key), None);
        cache.put(&[(key.clone(), Some(8))], SLOWER, cache.epoch(ws));
        assert_eq!(cache.lookup(&key), Lookup::Kept(8));
        // A recount that failed lets the next caller try again.
        age(&cache, &key);
        assert_eq!(cache.lookup(&key), Lookup::Stale(8));
        cache.put(&[(key.clone(), None)], SLOWER, cache.epoch(ws));
        assert_eq!(cache.lookup(&key), Lookup::Stale(8));
    }

    #[test]
    fn two_caches_share_nothing() {
        let (one, two) = (CountCache::default(), CountCache::default());
        let key = Key::Members(1, 2);
        one.put(&[(key.clone(), Some(9))], SLOWER, one.epoch(1));
        assert_eq!(one.fresh(&key), Some(9));
        assert_eq!(two.fresh(&key), None);
        two.forget_workspace(1);
        assert_eq!(one.fresh(&key), Some(9));
    }
}
