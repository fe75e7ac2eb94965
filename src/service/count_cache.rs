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
//! transaction are kept: the cache is keyed by the pool, the workspace and what is counted.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{DatabaseConnection, DbBackend, DbErr};

use super::reads::InfluencerSet;
use crate::sync::lock;

/// Counts that took at least this long are kept.
pub const SLOW: Duration = Duration::from_millis(20);
/// How long a kept count is served before it is recounted.
pub const FRESH_FOR: Duration = Duration::from_secs(10);
/// Beyond this many kept counts (many distinct searches), the cache starts over.
const MAX_ENTRIES: usize = 10_000;

/// What was counted: the pool (two databases in one process never share counts), the
/// workspace, and the set.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Influencers(usize, i64, InfluencerSet),
    Members(usize, i64, i64),
}

impl Key {
    fn workspace(&self) -> i64 {
        match self {
            Key::Influencers(_, ws, _) | Key::Members(_, ws, _) => *ws,
        }
    }
}

struct Kept {
    value: i64,
    at: Instant,
    recounting: bool,
}

#[derive(Default)]
struct State {
    kept: HashMap<Key, Kept>,
    /// Each workspace's epoch: the value of `NEXT_EPOCH` at its last forget (0: none seen).
    epochs: HashMap<i64, u64>,
}

/// Epochs come from one counter that only grows, so an epoch is never reused, even when the
/// map is started over.
static NEXT_EPOCH: AtomicU64 = AtomicU64::new(1);

fn state() -> &'static Mutex<State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    STATE.get_or_init(Default::default)
}

/// Tells pools apart: the address of the pool's shared options, stable while the pool lives.
pub fn pool_id(db: &DatabaseConnection) -> usize {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            std::ptr::from_ref(db.get_postgres_connection_pool().options()) as usize
        }
        DbBackend::Sqlite => std::ptr::from_ref(db.get_sqlite_connection_pool().options()) as usize,
        _ => 0,
    }
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

/// What the cache holds for `key`; a stale count is handed to one caller to recount.
pub fn lookup(key: &Key) -> Lookup {
    let mut state = lock(state());
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
pub fn fresh(key: &Key) -> Option<i64> {
    let state = lock(state());
    state
        .kept
        .get(key)
        .filter(|entry| entry.at.elapsed() < FRESH_FOR)
        .map(|entry| entry.value)
}

/// The workspace's epoch now: read it before a count starts, and give it to [`put`].
fn epoch(ws: i64) -> u64 {
    lock(state()).epochs.get(&ws).copied().unwrap_or(0)
}

/// Makes counts of workspace `ws` with `count` and records what it found (see [`put`]):
/// `outcome` keys each count, `None` for each when the count failed.
pub async fn make<T>(
    ws: i64,
    count: impl Future<Output = Result<T, DbErr>>,
    outcome: impl FnOnce(Option<&T>) -> Vec<(Key, Option<i64>)>,
) -> Result<T, DbErr> {
    let since = epoch(ws);
    let started = Instant::now();
    let counted = count.await;
    put(&outcome(counted.as_ref().ok()), started.elapsed(), since);
    counted
}

/// [`make`] on a task of its own, for stale counts that are served meanwhile: no request waits
/// for a kept count to be made again.
pub fn remake_in_background<T: Send + 'static>(
    ws: i64,
    count: impl Future<Output = Result<T, DbErr>> + Send + 'static,
    outcome: impl FnOnce(Option<&T>) -> Vec<(Key, Option<i64>)> + Send + 'static,
) {
    tokio::spawn(async move {
        if let Err(error) = make(ws, count, outcome).await {
            tracing::warn!(%error, "recounting kept counts failed; the next request retries");
        }
    });
}

/// The lock that requests counting `key` take turns on.
pub fn gate(key: &Key) -> Arc<futures_util::lock::Mutex<()>> {
    static GATES: OnceLock<Mutex<HashMap<Key, Arc<futures_util::lock::Mutex<()>>>>> =
        OnceLock::new();
    let mut gates = lock(GATES.get_or_init(Default::default));
    if gates.len() >= MAX_ENTRIES {
        gates.clear();
    }
    gates.entry(key.clone()).or_default().clone()
}

/// Forgets every kept count of a workspace and moves its epoch: called after each of its writes
/// commits (and, on PostgreSQL, when another instance's membership change arrives).
pub fn forget_workspace(ws: i64) {
    let mut state = lock(state());
    state.kept.retain(|key, _| key.workspace() != ws);
    if state.epochs.len() >= MAX_ENTRIES {
        state.epochs.clear();
    }
    state
        .epochs
        .insert(ws, NEXT_EPOCH.fetch_add(1, Ordering::Relaxed));
}

/// Records counts made together in `took`, started at their workspaces' epoch `since`: kept
/// when slow, forgotten when fast. A failed count (`None`), or one that a write may have
/// overtaken (its workspace's epoch moved), is not kept and lets the next request try again.
fn put(counts: &[(Key, Option<i64>)], took: Duration, since: u64) {
    let mut state = lock(state());
    if state.kept.len() >= MAX_ENTRIES {
        state.kept.clear();
    }
    let at = Instant::now();
    for (key, value) in counts {
        let current = state.epochs.get(&key.workspace()).copied().unwrap_or(0);
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

#[cfg(test)]
mod tests {
    use super::*;

    const SLOWER: Duration = Duration::from_millis(21);

    /// Makes a kept count older than `FRESH_FOR`.
    fn age(key: &Key) {
        let mut state = lock(state());
        let entry = state.kept.get_mut(key).expect("kept");
        entry.at = Instant::now()
            .checked_sub(FRESH_FOR + Duration::from_secs(1))
            .expect("the clock is past FRESH_FOR");
    }

    // Workspace ids no other test uses: the cache is shared by the process.

    #[test]
    fn a_write_forgets_its_workspaces_kept_counts_only() {
        let (ws, other) = (-7_001, -7_002);
        let unassigned = |w| Key::Influencers(1, w, InfluencerSet::Unassigned);
        let members = |w| Key::Members(1, w, 42);
        put(
            &[(unassigned(ws), Some(10)), (members(ws), Some(3))],
            SLOWER,
            epoch(ws),
        );
        put(&[(unassigned(other), Some(20))], SLOWER, epoch(other));
        assert_eq!(fresh(&unassigned(ws)), Some(10));
        assert_eq!(fresh(&members(ws)), Some(3));

        forget_workspace(ws);
        assert_eq!(fresh(&unassigned(ws)), None);
        assert_eq!(fresh(&members(ws)), None);
        assert_eq!(fresh(&unassigned(other)), Some(20));

        // A fast count is never kept.
        put(&[(members(ws), Some(4))], Duration::ZERO, epoch(ws));
        assert_eq!(fresh(&members(ws)), None);
    }

    #[test]
    fn a_count_started_before_a_write_is_not_kept() {
        let ws = -7_003;
        let key = Key::Members(1, ws, 1);
        let since = epoch(ws);
        forget_workspace(ws);
        put(&[(key.clone(), Some(5))], SLOWER, since);
        assert_eq!(lookup(&key), Lookup::Missing);
        put(&[(key.clone(), Some(6))], SLOWER, epoch(ws));
        assert_eq!(lookup(&key), Lookup::Kept(6));
    }

    #[test]
    fn a_stale_count_is_served_while_one_caller_recounts_it() {
        let ws = -7_004;
        let key = Key::Influencers(1, ws, InfluencerSet::Unassigned);
        put(&[(key.clone(), Some(7))], SLOWER, epoch(ws));
        age(&key);
        assert_eq!(lookup(&key), Lookup::Stale(7));
        // Everyone else keeps getting the kept value while the recount runs.
        assert_eq!(lookup(&key), Lookup::Kept(7));
        assert_eq!(fresh(&key), None);
        put(&[(key.clone(), Some(8))], SLOWER, epoch(ws));
        assert_eq!(lookup(&key), Lookup::Kept(8));
        // A recount that failed lets the next caller try again.
        age(&key);
        assert_eq!(lookup(&key), Lookup::Stale(8));
        put(&[(key.clone(), None)], SLOWER, epoch(ws));
        assert_eq!(lookup(&key), Lookup::Stale(8));
    }
}
