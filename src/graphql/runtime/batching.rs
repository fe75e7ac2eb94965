//! Batches the loads of one request's resolvers into one database statement per kind of key,
//! without waiting on a timer.
//!
//! async-graphql resolves sibling fields, and the items of a list, by polling their futures one
//! after another inside the request's task. A load registers its keys on its first poll. The
//! first load of a batch (its leader) then yields with [`tokio::task::yield_now`], which wakes it
//! only after the request's task has finished its current poll. Siblings that were woken in that
//! same poll (typically by the batch the leader's parent came from) run in the task's next poll,
//! so the leader yields a second time, and again for as long as keys keep arriving. Then it runs
//! the batch itself, inside the request's task, and hands the result to the others.
//!
//! A workaround: it replaces async-graphql's own `DataLoader`
//! (<https://github.com/async-graphql/async-graphql/blob/v7.2.1/src/dataloader/mod.rs>), which
//! waits a fixed delay (1 ms by default) and then runs the batch on a spawned task. Every level
//! of a query pays that delay (a profile page has three levels), and a shorter delay lets the
//! batch start on another worker thread while siblings are still registering, so one level's
//! keys arrive in several batches. Here a level costs no waiting and no extra task, and its keys
//! form one batch however busy the machine is. (The [`Loader`] trait is still upstream's.) The
//! test `upstream_dataloader_still_waits_and_loads_on_another_task` fails once upstream's
//! loader batches without a timer in the caller's task, when this module may go.
//!
//! Values are not cached: after a mutation in the same request, reads see the new state. A
//! query's resolver may prime the values a statement of its own already read
//! ([`Batcher::prime`]); queries write nothing, so those stay true for the request.

use std::{
    any::{Any, TypeId},
    collections::{HashMap, HashSet},
    hash::Hash,
    sync::{Arc, Mutex, MutexGuard},
};

use async_graphql::dataloader::Loader;

use crate::sync::lock;
use futures_channel::oneshot;
use futures_util::future::{FutureExt, Shared};

/// What a batch's load gave: every value found, shared by all who asked.
type Outcome<K, V, E> = Result<Arc<HashMap<K, V>>, E>;

/// Keys gathered for one load, and where its outcome will appear.
struct Batch<K, V, E> {
    keys: Mutex<HashSet<K>>,
    done: Shared<oneshot::Receiver<Outcome<K, V, E>>>,
}

/// Most times a leader yields waiting for keys (a bound on the wait, never reached by the
/// query shapes of this schema: they settle in two or three).
const MAX_YIELDS: usize = 8;

/// Loads keys in batches for one request. Several kinds of key (one per [`Loader`] impl of `L`)
/// batch independently.
pub struct Batcher<L> {
    loader: L,
    max_batch: usize,
    /// The batch each kind of key is gathering, as `Arc<Batch<K, ..>>` by `TypeId::of::<K>()`.
    open: Mutex<OpenBatches>,
    /// Primed values, as `HashMap<K, V>` by `TypeId::of::<K>()`.
    primed: Mutex<HashMap<TypeId, Box<dyn Any + Send>>>,
}

/// How a load takes part in a batch.
enum Role<K, V, E> {
    /// It opened the batch: it runs the load and sends the outcome.
    Leader(Arc<Batch<K, V, E>>, oneshot::Sender<Outcome<K, V, E>>),
    /// It joined a batch someone else runs.
    Follower(Shared<oneshot::Receiver<Outcome<K, V, E>>>),
}

/// The open batches, by kind of key.
type OpenBatches = HashMap<TypeId, Box<dyn Any + Send>>;

/// The batch `K` is gathering, if any.
fn open_batch<K: 'static, V: 'static, E: 'static>(
    open: &OpenBatches,
) -> Option<&Arc<Batch<K, V, E>>> {
    open.get(&TypeId::of::<K>())?.downcast_ref()
}

impl<L> Batcher<L> {
    fn open_batches(&self) -> MutexGuard<'_, OpenBatches> {
        lock(&self.open)
    }
}

impl<L: Send + Sync + 'static> Batcher<L> {
    /// A batcher that sends at most `max_batch` keys per load (one call's keys are never split).
    pub fn new(loader: L, max_batch: usize) -> Self {
        Self {
            loader,
            max_batch,
            open: Mutex::new(HashMap::new()),
            primed: Mutex::new(HashMap::new()),
        }
    }

    /// The loader that runs the batches.
    pub fn loader(&self) -> &L {
        &self.loader
    }

    /// Gives `key` a value read by another statement: loads of it return this value, without a
    /// batch. For queries only (a mutation must see its own writes).
    pub fn prime<K>(&self, key: K, value: L::Value)
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        L: Loader<K>,
    {
        let mut primed = lock(&self.primed);
        let values = primed
            .entry(TypeId::of::<K>())
            .or_insert_with(|| Box::new(HashMap::<K, L::Value>::new()));
        if let Some(values) = values.downcast_mut::<HashMap<K, L::Value>>() {
            values.insert(key, value);
        }
    }

    /// Takes the keys that have primed values out of `wanted`, with their values.
    fn take_primed<K>(&self, wanted: &mut HashSet<K>) -> HashMap<K, L::Value>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        L: Loader<K>,
    {
        let primed = lock(&self.primed);
        let Some(values) = primed
            .get(&TypeId::of::<K>())
            .and_then(|values| values.downcast_ref::<HashMap<K, L::Value>>())
        else {
            return HashMap::new();
        };
        let mut found = HashMap::new();
        wanted.retain(|key| match values.get(key) {
            Some(value) => {
                found.insert(key.clone(), value.clone());
                false
            }
            None => true,
        });
        found
    }

    /// The value of one key, `None` when the loader found nothing for it.
    pub async fn load_one<K>(&self, key: K) -> Result<Option<L::Value>, L::Error>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        L: Loader<K>,
        L::Error: Sync,
    {
        let mut found = self.load_many(std::iter::once(key.clone())).await?;
        Ok(found.remove(&key))
    }

    /// The values of the keys the loader found.
    pub async fn load_many<K, I>(&self, keys: I) -> Result<HashMap<K, L::Value>, L::Error>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        I: IntoIterator<Item = K>,
        L: Loader<K>,
        L::Error: Sync,
    {
        let mut wanted: HashSet<K> = keys.into_iter().collect();
        let mut values = self.take_primed(&mut wanted);
        if wanted.is_empty() {
            return Ok(values);
        }
        let found = loop {
            match self.join(&wanted) {
                Role::Leader(batch, sender) => break self.lead(batch, sender).await?,
                Role::Follower(done) => match done.await {
                    Ok(outcome) => break outcome?,
                    // The leader was dropped before it finished (its part of the query was
                    // cancelled); this load still wants its keys, so it joins a new batch.
                    Err(oneshot::Canceled) => continue,
                },
            }
        };
        values.extend(
            wanted
                .into_iter()
                .filter_map(|key| found.get(&key).cloned().map(|value| (key, value))),
        );
        Ok(values)
    }

    /// Adds `keys` to the open batch of their kind, or opens one.
    fn join<K>(&self, keys: &HashSet<K>) -> Role<K, L::Value, L::Error>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        L: Loader<K>,
        L::Error: Sync,
    {
        let mut open = self.open_batches();
        if let Some(batch) = open_batch::<K, L::Value, L::Error>(&open) {
            let mut gathered = lock(&batch.keys);
            if gathered.len() + keys.len() <= self.max_batch {
                gathered.extend(keys.iter().cloned());
                return Role::Follower(batch.done.clone());
            }
        }
        // No open batch, or it is full: this load opens the next one (a full batch stays with
        // its leader, which runs it as it is).
        let (sender, receiver) = oneshot::channel();
        let batch = Arc::new(Batch {
            keys: Mutex::new(keys.clone()),
            done: receiver.shared(),
        });
        open.insert(TypeId::of::<K>(), Box::new(batch.clone()));
        Role::Leader(batch, sender)
    }

    /// Runs a batch this load opened, once every sibling has had its chance to join.
    async fn lead<K>(
        &self,
        batch: Arc<Batch<K, L::Value, L::Error>>,
        sender: oneshot::Sender<Outcome<K, L::Value, L::Error>>,
    ) -> Outcome<K, L::Value, L::Error>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        L: Loader<K>,
        L::Error: Sync,
    {
        let closer = CloseOnDrop {
            batcher: self,
            batch: &batch,
        };
        let mut gathered = 0;
        for round in 0..MAX_YIELDS {
            tokio::task::yield_now().await;
            let now = lock(&batch.keys).len();
            if round > 0 && now == gathered {
                break;
            }
            gathered = now;
        }
        let keys: Vec<K> = {
            closer.close();
            lock(&batch.keys).drain().collect()
        };
        let outcome = self.loader.load(&keys).await.map(Arc::new);
        // Followers that are gone (their part of the query was dropped) do not matter.
        let _ = sender.send(outcome.clone());
        outcome
    }
}

/// Takes a leader's batch out of the open ones when the leader starts its load, or when it is
/// dropped before that: then the batch's sender is dropped too and its followers join a new
/// batch, and the next load of that kind must not join the dead one.
struct CloseOnDrop<'a, L, K: 'static, V: 'static, E: 'static> {
    batcher: &'a Batcher<L>,
    batch: &'a Arc<Batch<K, V, E>>,
}

impl<L, K: 'static, V: 'static, E: 'static> CloseOnDrop<'_, L, K, V, E> {
    fn close(&self) {
        let mut open = self.batcher.open_batches();
        let ours = open_batch::<K, V, E>(&open).is_some_and(|open| Arc::ptr_eq(open, self.batch));
        if ours {
            open.remove(&TypeId::of::<K>());
        }
    }
}

impl<L, K: 'static, V: 'static, E: 'static> Drop for CloseOnDrop<'_, L, K, V, E> {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures_util::{StreamExt, future::join_all, stream::FuturesUnordered};

    use super::*;

    /// Doubles numbers and records every batch it was asked for.
    #[derive(Default)]
    struct Doubler {
        batches: Mutex<Vec<Vec<u32>>>,
        calls: AtomicUsize,
    }

    impl Loader<u32> for Doubler {
        type Value = u64;
        type Error = String;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u64>, String> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let mut sorted = keys.to_vec();
            sorted.sort_unstable();
            self.batches.lock().unwrap().push(sorted);
            tokio::task::yield_now().await;
            if keys.contains(&13) {
                return Err("13 is unlucky".into());
            }
            Ok(keys
                .iter()
                .filter(|k| **k != 0)
                .map(|k| (*k, u64::from(*k) * 2))
                .collect())
        }
    }

    fn batches(batcher: &Batcher<Doubler>) -> Vec<Vec<u32>> {
        batcher.loader.batches.lock().unwrap().clone()
    }

    /// Records the task each load runs in.
    #[derive(Default)]
    struct TaskRecorder {
        tasks: Mutex<Vec<Option<tokio::task::Id>>>,
    }

    impl Loader<u32> for TaskRecorder {
        type Value = u32;
        type Error = String;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, String> {
            self.tasks.lock().unwrap().push(tokio::task::try_id());
            Ok(keys.iter().map(|k| (*k, *k)).collect())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn upstream_dataloader_still_waits_and_loads_on_another_task() {
        use async_graphql::dataloader::DataLoader;

        let loader = Arc::new(DataLoader::new(TaskRecorder::default(), tokio::spawn));
        let (caller, waited) = tokio::spawn({
            let loader = loader.clone();
            async move {
                let started = std::time::Instant::now();
                assert_eq!(loader.load_one(7).await, Ok(Some(7)));
                (tokio::task::id(), started.elapsed())
            }
        })
        .await
        .unwrap();
        let tasks = loader.loader().tasks.lock().unwrap().clone();
        assert!(
            waited >= std::time::Duration::from_millis(1),
            "async-graphql's DataLoader no longer waits before a batch ({waited:?})"
        );
        assert!(
            tasks.len() == 1 && tasks[0] != Some(caller),
            "async-graphql's DataLoader now loads in the caller's task"
        );
        // Ours loads in the caller's task, without a timer.
        let batcher = Arc::new(Batcher::new(TaskRecorder::default(), 100));
        let caller = tokio::spawn({
            let batcher = batcher.clone();
            async move {
                assert_eq!(batcher.load_one(7).await, Ok(Some(7)));
                tokio::task::id()
            }
        })
        .await
        .unwrap();
        assert_eq!(*batcher.loader.tasks.lock().unwrap(), vec![Some(caller)]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn siblings_polled_together_share_one_load() {
        let batcher = Batcher::new(Doubler::default(), 100);
        let values = join_all((1..=50).map(|k| batcher.load_one(k % 12 + 1))).await;
        assert!(values.iter().all(Result::is_ok));
        assert_eq!(values[0], Ok(Some(4)));
        assert_eq!(batches(&batcher), vec![(1..=12).collect::<Vec<_>>()]);
    }

    #[tokio::test]
    async fn primed_keys_are_answered_without_a_load() {
        let batcher = Batcher::new(Doubler::default(), 100);
        batcher.prime(7, 1000);
        assert_eq!(batcher.load_one(7).await, Ok(Some(1000)));
        assert_eq!(batcher.load_one(7).await, Ok(Some(1000)));
        assert!(batches(&batcher).is_empty());
        // With other keys, only those are loaded.
        let values = batcher.load_many([7, 8]).await.unwrap();
        assert_eq!(values, HashMap::from([(7, 1000), (8, 16)]));
        assert_eq!(batches(&batcher), vec![vec![8]]);
    }

    #[tokio::test]
    async fn nested_levels_load_once_per_level() {
        let batcher = Batcher::new(Doubler::default(), 100);
        // Ten parents, each loading itself, then (after that) a child of its own.
        join_all((1..=10).map(|k| {
            let batcher = &batcher;
            async move {
                let parent = batcher.load_one(k).await.unwrap().unwrap();
                batcher.load_one(parent as u32 + 100).await.unwrap()
            }
        }))
        .await;
        assert_eq!(
            batches(&batcher),
            vec![
                (1..=10).collect::<Vec<_>>(),
                (1..=10).map(|k| k * 2 + 100).collect()
            ]
        );
    }

    #[tokio::test]
    async fn a_level_woken_across_nested_groups_still_loads_once() {
        // As async-graphql nests them: a list of groups (each a FuturesUnordered), each loading
        // parents, then a child per parent; the children's loads start when the parents' batch
        // completes inside the first group. (The case of siblings woken but not yet polled when
        // the next leader yields arose only under real database I/O; the PostgreSQL run of
        // tests/statements.rs is what caught it.)
        let batcher = Batcher::new(Doubler::default(), 1000);
        let groups: FuturesUnordered<_> = (0..3u32)
            .map(|group| {
                let batcher = &batcher;
                (0..10u32)
                    .map(move |i| async move {
                        let parent = batcher
                            .load_one(group * 10 + i + 20)
                            .await
                            .unwrap()
                            .unwrap();
                        batcher.load_one(parent as u32 + 100).await.unwrap()
                    })
                    .collect::<FuturesUnordered<_>>()
                    .collect::<Vec<_>>()
            })
            .collect();
        let done: Vec<Vec<_>> = groups.collect().await;
        assert_eq!(done.concat().len(), 30);
        assert_eq!(batches(&batcher).len(), 2, "{:?}", batches(&batcher));
    }

    #[tokio::test]
    async fn missing_keys_are_absent_and_errors_reach_every_caller() {
        let batcher = Batcher::new(Doubler::default(), 100);
        assert_eq!(batcher.load_one(0).await, Ok(None));
        let (unlucky, sibling) = tokio::join!(batcher.load_one(13), batcher.load_one(14));
        assert_eq!(unlucky, Err("13 is unlucky".to_string()));
        assert_eq!(sibling, Err("13 is unlucky".to_string()));
        assert_eq!(
            batcher.load_many(Vec::<u32>::new()).await,
            Ok(HashMap::new())
        );
        assert_eq!(batcher.loader.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_full_batch_runs_as_it_is_and_the_rest_form_the_next() {
        let batcher = Batcher::new(Doubler::default(), 4);
        let found = join_all((1..=10).map(|k| batcher.load_one(k))).await;
        assert!(found.iter().all(|v| matches!(v, Ok(Some(_)))));
        assert_eq!(
            batches(&batcher),
            vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8], vec![9, 10]]
        );
    }

    #[tokio::test]
    async fn followers_of_a_dropped_leader_load_in_a_new_batch() {
        let batcher = Batcher::new(Doubler::default(), 100);
        let mut leader = Box::pin(batcher.load_one(1));
        let mut follower = Box::pin(batcher.load_one(2));
        // Both register; neither has loaded.
        assert!(futures_util::poll!(leader.as_mut()).is_pending());
        assert!(futures_util::poll!(follower.as_mut()).is_pending());
        drop(leader);
        assert_eq!(follower.await, Ok(Some(4)));
        assert_eq!(batches(&batcher), vec![vec![2]]);
        // The dropped batch is not left open: a later load is not stuck behind it.
        assert_eq!(batcher.load_one(3).await, Ok(Some(6)));
    }
}
