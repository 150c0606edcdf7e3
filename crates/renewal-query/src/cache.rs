//! The engine's aggregate cache: bounded by bytes, stale versions evicted first, and each
//! missing entry built once however many requests ask for it at the same moment.
//!
//! Why single-flight: after a refresh every dashboard asks for the new version at once; without
//! it each request would read the same Parquet and sum the same figures, multiplying memory and
//! CPU by the number of callers exactly when the service is busiest.
//!
//! Each key has a slot with an async mutex. The first caller to find no value takes the mutex
//! and builds ([`Claim::Build`]); callers arriving meanwhile wait on that mutex and, once the
//! builder has published, take its value ([`Claim::Hit`]). A builder that fails (its
//! [`Flight`] is dropped unpublished) caches nothing: the slot is removed and the next waiter
//! builds in its turn.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::OwnedMutexGuard;

use crate::aggregate::Aggregate;

/// (indicator, ward vintage, bridge weights, every dataset version read).
pub(crate) type CacheKey = (
    String,
    Option<String>,
    Option<String>,
    BTreeMap<String, u64>,
);

/// Default bound of the aggregate cache: 256 MiB.
pub const DEFAULT_CACHE_BYTES: usize = 256 * 1024 * 1024;

/// A per-key build lock; holds the value once built, so that waiters get it even when the
/// entry was too large to keep or was evicted before they woke.
type Cell<V> = Arc<tokio::sync::Mutex<Option<V>>>;

struct Slot<V> {
    /// `None` while being built.
    value: Option<V>,
    bytes: usize,
    last_used: u64,
    cell: Cell<V>,
}

struct Inner<V> {
    slots: HashMap<CacheKey, Slot<V>>,
    /// Bytes of the built entries.
    bytes: usize,
    /// Logical clock for least-recently-used order.
    tick: u64,
    /// The newest version of each dataset any key has named: an entry built from an older
    /// version is no longer current (versions only grow).
    newest: HashMap<String, u64>,
}

/// A byte-bounded, single-flight cache (values are cheap to clone, e.g. `Arc`).
pub(crate) struct Cache<V> {
    inner: Mutex<Inner<V>>,
    budget: usize,
    builds: AtomicU64,
}

/// What [`Cache::claim`] found.
pub(crate) enum Claim<'a, V: Clone> {
    /// Built already (or by the caller this one waited for).
    Hit(V),
    /// Missing: this caller builds it and calls [`Flight::publish`]; others wait meanwhile.
    Build(Flight<'a, V>),
}

/// The right to build one key. Dropping it unpublished (a failed build) caches nothing.
pub(crate) struct Flight<'a, V: Clone> {
    cache: &'a Cache<V>,
    key: CacheKey,
    guard: Option<OwnedMutexGuard<Option<V>>>,
}

impl<V: Clone> Cache<V> {
    pub(crate) fn new(budget: usize) -> Cache<V> {
        Cache {
            inner: Mutex::new(Inner {
                slots: HashMap::new(),
                bytes: 0,
                tick: 0,
                newest: HashMap::new(),
            }),
            budget,
            builds: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<V>> {
        // A panic while holding the lock leaves the map consistent (every update is a few
        // plain assignments), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn budget(&self) -> usize {
        self.budget
    }

    /// Builds started so far.
    pub(crate) fn builds(&self) -> u64 {
        self.builds.load(Ordering::Relaxed)
    }

    /// Bytes held by built entries.
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Built entries held.
    pub(crate) fn len(&self) -> usize {
        self.lock()
            .slots
            .values()
            .filter(|s| s.value.is_some())
            .count()
    }

    /// Whether `key` is held, built.
    #[cfg(test)]
    pub(crate) fn contains(&self, key: &CacheKey) -> bool {
        self.lock()
            .slots
            .get(key)
            .is_some_and(|s| s.value.is_some())
    }

    /// Callers currently building or waiting for `key` (tests make callers meet with it).
    #[cfg(test)]
    pub(crate) fn callers(&self, key: &CacheKey) -> usize {
        self.lock()
            .slots
            .get(key)
            .map(|s| Arc::strong_count(&s.cell) - 1)
            .unwrap_or(0)
    }

    /// The value for `key`, or the right to build it; waits while another caller builds it.
    pub(crate) async fn claim(&self, key: &CacheKey) -> Claim<'_, V> {
        loop {
            let cell = {
                let mut inner = self.lock();
                inner.tick += 1;
                let tick = inner.tick;
                for (d, v) in &key.3 {
                    let n = inner.newest.entry(d.clone()).or_insert(*v);
                    *n = (*n).max(*v);
                }
                match inner.slots.get_mut(key) {
                    Some(slot) => {
                        if let Some(v) = &slot.value {
                            slot.last_used = tick;
                            return Claim::Hit(v.clone());
                        }
                        slot.cell.clone()
                    }
                    None => {
                        let cell: Cell<V> = Arc::new(tokio::sync::Mutex::new(None));
                        inner.slots.insert(
                            key.clone(),
                            Slot {
                                value: None,
                                bytes: 0,
                                last_used: tick,
                                cell: cell.clone(),
                            },
                        );
                        cell
                    }
                }
            };
            // The guard holds the only reference this caller keeps, so `callers` counts it once.
            let guard = cell.lock_owned().await;
            if let Some(v) = guard.as_ref() {
                return Claim::Hit(v.clone());
            }
            let ours = self.lock().slots.get(key).is_some_and(|s| {
                s.value.is_none() && Arc::ptr_eq(&s.cell, OwnedMutexGuard::mutex(&guard))
            });
            if ours {
                self.builds.fetch_add(1, Ordering::Relaxed);
                return Claim::Build(Flight {
                    cache: self,
                    key: key.clone(),
                    guard: Some(guard),
                });
            }
            // The builder we waited for failed and a newer slot replaced ours: start again.
        }
    }

    /// Drops entries until the built ones fit the budget: first those built from a dataset
    /// version that is no longer the newest, then the least recently used; never `keep`.
    fn evict(&self, inner: &mut Inner<V>, keep: &CacheKey) {
        while inner.bytes > self.budget {
            let victim = inner
                .slots
                .iter()
                .filter(|(k, s)| s.value.is_some() && *k != keep)
                .min_by_key(|(k, s)| (!stale(&inner.newest, k), s.last_used))
                .map(|(k, _)| k.clone());
            let Some(victim) = victim else { break };
            if let Some(s) = inner.slots.remove(&victim) {
                inner.bytes -= s.bytes;
                tracing::debug!(indicator = %victim.0, bytes = s.bytes, "aggregate evicted");
            }
        }
    }
}

/// Built from an older version of some dataset than the newest one seen.
fn stale(newest: &HashMap<String, u64>, key: &CacheKey) -> bool {
    key.3
        .iter()
        .any(|(d, v)| newest.get(d).is_some_and(|n| n > v))
}

impl<V: Clone> Flight<'_, V> {
    /// Stores the built value (`bytes` its estimated size) and hands it to the waiters. A
    /// value larger than the whole budget is handed on but not kept.
    pub(crate) fn publish(mut self, value: V, bytes: usize) {
        if let Some(mut guard) = self.guard.take() {
            *guard = Some(value.clone());
            let mut inner = self.cache.lock();
            inner.tick += 1;
            let tick = inner.tick;
            if bytes > self.cache.budget {
                inner.slots.remove(&self.key);
            } else if let Some(slot) = inner.slots.get_mut(&self.key) {
                slot.value = Some(value);
                slot.bytes = bytes;
                slot.last_used = tick;
                inner.bytes += bytes;
                self.cache.evict(&mut inner, &self.key);
            }
            // Waiters wake when the guard drops, after the map is updated.
            drop(inner);
            drop(guard);
        }
    }
}

impl<V: Clone> Drop for Flight<'_, V> {
    fn drop(&mut self) {
        if let Some(guard) = self.guard.take() {
            // Unpublished: the build failed. Forget the slot so nothing is cached; waiters
            // find it gone and the first of them builds again.
            let mut inner = self.cache.lock();
            if inner
                .slots
                .get(&self.key)
                .is_some_and(|s| s.value.is_none())
            {
                inner.slots.remove(&self.key);
            }
            drop(inner);
            drop(guard);
        }
    }
}

/// Estimated heap bytes of an aggregate: its maps' entries (at their capacity) and strings.
/// An estimate, not an exact count (allocator overhead and tree nodes are approximated), but
/// proportional to what the aggregate holds, which is what bounding the cache needs.
pub(crate) fn aggregate_bytes(a: &Aggregate) -> usize {
    use std::mem::size_of;
    // Per-entry overhead of a BTreeMap node or a hash table's control byte, rounded up.
    const ENTRY: usize = 16;
    let text = |s: &String| s.capacity();
    let opt = |s: &Option<String>| s.as_ref().map(String::capacity).unwrap_or(0);
    let members: usize = a.members.capacity()
        * (size_of::<(crate::AreaLevel, String)>() + size_of::<Vec<String>>() + 1)
        + a.members
            .iter()
            .map(|(k, v)| {
                text(&k.1) + v.capacity() * size_of::<String>() + v.iter().map(text).sum::<usize>()
            })
            .sum::<usize>();
    let figures: usize = a.figures.capacity()
        * (size_of::<(crate::AreaLevel, String, String)>()
            + size_of::<crate::aggregate::Figure>()
            + 1)
        + a.figures
            .keys()
            .map(|k| text(&k.1) + text(&k.2))
            .sum::<usize>();
    let areas: usize = a
        .areas
        .iter()
        .map(|(k, v)| {
            size_of::<(crate::AreaLevel, String)>()
                + size_of::<crate::Area>()
                + ENTRY
                + text(&k.1)
                + text(&v.code)
                + text(&v.name)
                + opt(&v.parent)
        })
        .sum();
    let strings = |v: &[String]| {
        v.iter()
            .map(|s| size_of::<String>() + text(s))
            .sum::<usize>()
    };
    let basis: usize = a
        .basis
        .datasets
        .keys()
        .map(|d| size_of::<(String, u64)>() + ENTRY + text(d))
        .sum::<usize>()
        + text(&a.basis.method)
        + a.basis.bridges.len() * size_of::<crate::BridgeUse>();
    size_of::<Aggregate>()
        + members
        + figures
        + areas
        + strings(&a.periods)
        + strings(&a.notes)
        + basis
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is the failure report

    use super::*;

    fn key(indicator: &str, versions: &[(&str, u64)]) -> CacheKey {
        (
            indicator.to_owned(),
            None,
            None,
            versions.iter().map(|(d, v)| (d.to_string(), *v)).collect(),
        )
    }

    /// Claims `k` and, if it must be built, publishes `value` of `bytes`.
    async fn put(cache: &Cache<&'static str>, k: &CacheKey, value: &'static str, bytes: usize) {
        match cache.claim(k).await {
            Claim::Build(f) => f.publish(value, bytes),
            Claim::Hit(_) => panic!("{k:?} was already cached"),
        }
    }

    async fn get(cache: &Cache<&'static str>, k: &CacheKey) -> Option<&'static str> {
        match cache.claim(k).await {
            Claim::Hit(v) => Some(v),
            Claim::Build(_) => None, // dropped unpublished: nothing cached
        }
    }

    /// Many callers asking for one missing key at once: one build, every caller gets its value.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_build() {
        const CALLERS: usize = 16;
        let cache: Arc<Cache<Arc<String>>> = Arc::new(Cache::new(1 << 20));
        let k = key("crime-all", &[("crime-street", 1)]);
        let barrier = Arc::new(tokio::sync::Barrier::new(CALLERS));
        let tasks: Vec<_> = (0..CALLERS)
            .map(|_| {
                let (cache, k, barrier) = (cache.clone(), k.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    match cache.claim(&k).await {
                        Claim::Hit(v) => v,
                        Claim::Build(f) => {
                            // Hold the build until every caller is waiting on it, so none can
                            // have arrived after it finished.
                            while cache.callers(&k) < CALLERS {
                                tokio::task::yield_now().await;
                            }
                            let v = Arc::new("built".to_owned());
                            f.publish(v.clone(), 10);
                            v
                        }
                    }
                })
            })
            .collect();
        let mut values = Vec::new();
        for t in tasks {
            values.push(t.await.unwrap());
        }
        assert_eq!(cache.builds(), 1, "one build for {CALLERS} callers");
        assert!(values.iter().all(|v| Arc::ptr_eq(v, &values[0])));
        assert_eq!((cache.len(), cache.bytes()), (1, 10));
    }

    /// A failed build caches nothing; the next caller builds again and succeeds.
    #[tokio::test]
    async fn failed_build_is_not_cached() {
        let cache: Cache<&'static str> = Cache::new(100);
        let k = key("a", &[("d", 1)]);
        assert_eq!(get(&cache, &k).await, None, "first build fails (dropped)");
        assert_eq!((cache.len(), cache.bytes(), cache.callers(&k)), (0, 0, 0));
        put(&cache, &k, "v", 10).await;
        assert_eq!(get(&cache, &k).await, Some("v"));
        assert_eq!(cache.builds(), 2);
    }

    /// A waiter behind a builder that fails becomes the builder; nothing is lost or stuck.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiter_builds_after_a_failed_build() {
        let cache: Arc<Cache<&'static str>> = Arc::new(Cache::new(100));
        let k = key("a", &[("d", 1)]);
        let Claim::Build(first) = cache.claim(&k).await else {
            panic!("empty cache")
        };
        let waiter = {
            let (cache, k) = (cache.clone(), k.clone());
            tokio::spawn(async move {
                match cache.claim(&k).await {
                    Claim::Build(f) => {
                        f.publish("second", 10);
                        "built"
                    }
                    Claim::Hit(_) => "hit",
                }
            })
        };
        while cache.callers(&k) < 2 {
            tokio::task::yield_now().await;
        }
        drop(first);
        assert_eq!(waiter.await.unwrap(), "built");
        assert_eq!(get(&cache, &k).await, Some("second"));
        assert_eq!(cache.builds(), 2);
    }

    /// Inserting more than fits keeps the total within the budget, dropping the least
    /// recently used first.
    #[tokio::test]
    async fn byte_bound_holds_least_recently_used_goes() {
        let cache: Cache<&'static str> = Cache::new(100);
        let (a, b, c, d) = (
            key("a", &[("x", 1)]),
            key("b", &[("y", 1)]),
            key("c", &[("z", 1)]),
            key("d", &[("w", 1)]),
        );
        put(&cache, &a, "a", 40).await;
        put(&cache, &b, "b", 40).await;
        assert_eq!(get(&cache, &a).await, Some("a")); // b is now least recently used
        put(&cache, &c, "c", 40).await; // 120 > 100: b goes
        assert_eq!(cache.bytes(), 80);
        assert!(cache.contains(&a) && !cache.contains(&b) && cache.contains(&c));
        put(&cache, &d, "d", 90).await; // only d fits
        assert_eq!((cache.bytes(), cache.len()), (90, 1));
        assert!(cache.contains(&d));
        // Larger than the whole budget: handed to the caller, not kept.
        let e = key("e", &[("v", 1)]);
        put(&cache, &e, "e", 101).await;
        assert!(!cache.contains(&e) && cache.contains(&d));
        assert_eq!(cache.bytes(), 90);
    }

    /// A refresh (a newer version of a dataset) makes entries built from the older one go
    /// first, even when they were used more recently than current ones.
    #[tokio::test]
    async fn stale_versions_go_before_least_recently_used() {
        let cache: Cache<&'static str> = Cache::new(100);
        let old = key("crime-all", &[("crime-street", 1), ("lookup", 1)]);
        let other = key("bv-homes-01", &[("services", 3), ("lookup", 1)]);
        put(&cache, &old, "old", 40).await;
        put(&cache, &other, "other", 40).await;
        assert_eq!(get(&cache, &old).await, Some("old")); // `other` is least recently used
        let new = key("crime-all", &[("crime-street", 2), ("lookup", 1)]);
        put(&cache, &new, "new", 40).await; // 120 > 100
        assert!(!cache.contains(&old), "the superseded version goes first");
        assert!(cache.contains(&other) && cache.contains(&new));
        assert_eq!(cache.bytes(), 80);
    }
}
