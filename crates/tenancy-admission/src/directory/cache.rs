//! A bounded, invalidatable cache in front of a tenant directory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tenancy_core::shard::{SHARDS, ShardedMap};
use tenancy_core::{MonotonicClock, SystemClock, TenantId, TenantSlug};

use super::{TenantDirectory, TenantRecord};
use crate::error::Error;

#[derive(Debug)]
struct Entry {
    // `None` caches "no such tenant", so tokens of a removed tenant do not
    // reach the directory on every request.
    record: Option<Arc<TenantRecord>>,
    fetched_at: Duration,
    // Asked for since the last sweep of its shard (see `store`).
    used: AtomicBool,
}

impl Entry {
    fn mark_used(&self) {
        // Read first: a tenant asked for again and again does not write.
        if !self.used.load(Ordering::Relaxed) {
            self.used.store(true, Ordering::Relaxed);
        }
    }
}

/// Caches directory lookups by tenant id for at most `ttl`, holding at most
/// `capacity` tenants.
///
/// A status change in the directory takes effect within `ttl`; call
/// [`invalidate`](TenantCache::invalidate) to make it take effect at once
/// in this process. Lookups by slug are not cached (only operators acting
/// for a tenant make them).
///
/// When the cache is full, a new tenant takes the place of one that has
/// expired or has not been asked for since the last sweep; a tenant that
/// is asked for in between is never dropped to make room. When every
/// cached tenant is in use, the new tenant's answer is returned but not
/// cached. A lookup costs the same whatever the cache holds.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tenancy_admission::{MemoryDirectory, TenantCache, TenantRecord};
/// use tenancy_core::*;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let dir = Arc::new(MemoryDirectory::new());
/// let acme = TenantId::from_u128(1);
/// let plan = Plan::new("free", RateQuota::per_second(10, 20), 4);
/// dir.insert(TenantRecord::new(acme, "acme".parse()?, TenantStatus::Active, plan.entitlements(&PlanOverrides::default())));
/// let cache = TenantCache::new(dir.clone(), 10_000, Duration::from_secs(30));
/// assert_eq!(cache.get(acme).await?.map(|r| r.status), Some(TenantStatus::Active));
///
/// dir.set_status(acme, TenantStatus::Suspended);
/// assert_eq!(cache.get(acme).await?.map(|r| r.status), Some(TenantStatus::Active)); // cached
/// cache.invalidate(acme);
/// assert_eq!(cache.get(acme).await?.map(|r| r.status), Some(TenantStatus::Suspended));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TenantCache {
    directory: Arc<dyn TenantDirectory>,
    entries: ShardedMap<TenantId, Entry>,
    // INVARIANT: one a shard, bumped under that shard's write lock by every
    // `invalidate` or `clear` that touches it. A load stores its answer
    // only if the generation it read before asking the directory is still
    // current, so an invalidation always wins over a load in flight.
    generations: [AtomicU64; SHARDS],
    ttl: Duration,
    clock: Arc<dyn MonotonicClock>,
}

impl std::fmt::Debug for TenantCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantCache")
            .field("len", &self.len())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl TenantCache {
    /// A cache of at most `capacity` tenants, each kept for `ttl`.
    pub fn new(directory: Arc<dyn TenantDirectory>, capacity: usize, ttl: Duration) -> Self {
        TenantCache::with_clock(directory, capacity, ttl, Arc::new(SystemClock::new()))
    }

    /// The same, with an injected clock (for tests).
    pub fn with_clock(
        directory: Arc<dyn TenantDirectory>,
        capacity: usize,
        ttl: Duration,
        clock: Arc<dyn MonotonicClock>,
    ) -> Self {
        TenantCache {
            directory,
            entries: ShardedMap::with_capacity(capacity),
            generations: std::array::from_fn(|_| AtomicU64::new(0)),
            ttl,
            clock,
        }
    }

    /// The cached answer for `id`, if fresh: `Some(None)` is a cached "no
    /// such tenant". Never calls the directory.
    pub fn cached(&self, id: TenantId) -> Option<Option<Arc<TenantRecord>>> {
        self.lookup(id, self.clock.now()).ok()
    }

    /// The fresh cached answer for `id`, or the shard's generation to pass
    /// to [`store`](Self::store) after a load.
    fn lookup(&self, id: TenantId, now: Duration) -> Result<Option<Arc<TenantRecord>>, u64> {
        let shard = self.entries.read(&id);
        match shard.get(&id) {
            Some(entry) if now.saturating_sub(entry.fetched_at) < self.ttl => {
                entry.mark_used();
                Ok(entry.record.clone())
            }
            _ => Err(self.generation(id).load(Ordering::Acquire)),
        }
    }

    /// The clock the cache reads.
    pub(crate) fn clock(&self) -> &Arc<dyn MonotonicClock> {
        &self.clock
    }

    /// The tenant with this id, from the cache or the directory.
    pub async fn get(&self, id: TenantId) -> Result<Option<Arc<TenantRecord>>, Error> {
        self.get_at(id, self.clock.now()).await
    }

    /// [`get`](Self::get) at `now`, read from this cache's clock by a
    /// caller that reads it once per request. A hit completes without
    /// waiting.
    pub(crate) async fn get_at(
        &self,
        id: TenantId,
        now: Duration,
    ) -> Result<Option<Arc<TenantRecord>>, Error> {
        let generation = match self.lookup(id, now) {
            Ok(hit) => return Ok(hit),
            Err(generation) => generation,
        };
        let record = self.directory.by_id(id).await?;
        self.store(id, record.clone(), generation);
        Ok(record)
    }

    /// The tenant with this slug, straight from the directory.
    pub async fn by_slug(&self, slug: &TenantSlug) -> Result<Option<Arc<TenantRecord>>, Error> {
        self.directory.by_slug(slug).await
    }

    /// Keeps `record` unless the shard was invalidated since `generation`
    /// was read: the answer is then returned to its caller but not cached,
    /// since it may predate the change the invalidation announced.
    fn store(&self, id: TenantId, record: Option<Arc<TenantRecord>>, generation: u64) {
        let now = self.clock.now();
        let mut shard = self.entries.write(&id);
        if self.generation(id).load(Ordering::Acquire) != generation {
            return;
        }
        let ttl = self.ttl;
        // Expired entries go, and those not asked for since the last sweep;
        // the others are kept and must be asked for again to stay.
        let keep = |_: &TenantId, e: &mut Entry| {
            now.saturating_sub(e.fetched_at) < ttl && std::mem::take(e.used.get_mut())
        };
        if !self.entries.may_cache(&mut shard, &id, keep) {
            // Full of tenants in use: answered, not cached.
            return;
        }
        shard.insert(
            id,
            Entry {
                record,
                fetched_at: now,
                used: AtomicBool::new(true),
            },
        );
    }

    /// The generation of the shard holding `id`.
    fn generation(&self, id: TenantId) -> &AtomicU64 {
        &self.generations[self.entries.index(&id)]
    }

    /// Forgets `id`, so the next request reads the directory.
    ///
    /// A load of `id` already in flight is not cached when it completes: it
    /// may have read the directory before the change being announced.
    pub fn invalidate(&self, id: TenantId) {
        let mut shard = self.entries.write(&id);
        self.generation(id).fetch_add(1, Ordering::AcqRel);
        shard.remove(&id);
    }

    /// Forgets every tenant, including loads in flight.
    pub fn clear(&self) {
        self.entries.for_each_shard(|i, shard| {
            self.generations[i].fetch_add(1, Ordering::AcqRel);
            shard.clear();
        });
    }

    /// How many tenants are cached (fresh or not).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// How many tenants the cache may hold.
    pub fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How long an answer is trusted.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::MemoryDirectory;
    use tenancy_core::{ManualClock, Plan, PlanOverrides, RateQuota, TenantStatus};

    fn record(i: u128) -> TenantRecord {
        let plan = Plan::new("free", RateQuota::per_second(10, 10), 2);
        TenantRecord::new(
            TenantId::from_u128(i),
            format!("tenant-{i}").parse().unwrap(),
            TenantStatus::Active,
            plan.entitlements(&PlanOverrides::default()),
        )
    }

    #[tokio::test]
    async fn suspension_takes_effect_within_ttl() {
        let dir = Arc::new(MemoryDirectory::new());
        dir.insert(record(1));
        let clock = Arc::new(ManualClock::default());
        let cache =
            TenantCache::with_clock(dir.clone(), 100, Duration::from_secs(5), clock.clone());
        let id = TenantId::from_u128(1);
        assert_eq!(
            cache.get(id).await.unwrap().unwrap().status,
            TenantStatus::Active
        );
        dir.set_status(id, TenantStatus::Suspended);
        clock.advance(Duration::from_secs(4));
        assert_eq!(
            cache.get(id).await.unwrap().unwrap().status,
            TenantStatus::Active
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            cache.get(id).await.unwrap().unwrap().status,
            TenantStatus::Suspended
        );
    }

    /// Where a [`GatedDirectory`] load waits for the test.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Pause {
        BeforeRead,
        AfterRead,
    }

    /// A directory whose `by_id` stops at `pause` and tells the test so,
    /// then waits until the test lets it go.
    struct GatedDirectory {
        inner: Arc<MemoryDirectory>,
        pause: Pause,
        paused: tokio::sync::Notify,
        release: tokio::sync::Notify,
    }

    impl GatedDirectory {
        async fn gate(&self) {
            self.paused.notify_one();
            self.release.notified().await;
        }
    }

    #[async_trait::async_trait]
    impl TenantDirectory for GatedDirectory {
        async fn by_id(&self, id: TenantId) -> Result<Option<Arc<TenantRecord>>, Error> {
            if self.pause == Pause::BeforeRead {
                self.gate().await;
            }
            let record = self.inner.by_id(id).await?;
            if self.pause == Pause::AfterRead {
                self.gate().await;
            }
            Ok(record)
        }

        async fn by_slug(&self, slug: &TenantSlug) -> Result<Option<Arc<TenantRecord>>, Error> {
            self.inner.by_slug(slug).await
        }
    }

    fn gated(pause: Pause) -> (Arc<MemoryDirectory>, Arc<GatedDirectory>, Arc<TenantCache>) {
        let inner = Arc::new(MemoryDirectory::new());
        inner.insert(record(1));
        let gated = Arc::new(GatedDirectory {
            inner: inner.clone(),
            pause,
            paused: tokio::sync::Notify::new(),
            release: tokio::sync::Notify::new(),
        });
        let cache = Arc::new(TenantCache::new(
            gated.clone(),
            100,
            Duration::from_secs(3600),
        ));
        (inner, gated, cache)
    }

    fn status(record: Option<Arc<TenantRecord>>) -> Option<TenantStatus> {
        record.map(|r| r.status)
    }

    #[tokio::test]
    async fn attack_9_a_stale_cache_entry_after_invalidate() {
        // The load reads the directory (the tenant is still active), then
        // stalls; meanwhile the operator suspends the tenant and invalidates.
        let (dir, gate, cache) = gated(Pause::AfterRead);
        let id = TenantId::from_u128(1);
        let in_flight = tokio::spawn({
            let cache = cache.clone();
            async move { cache.get(id).await }
        });
        gate.paused.notified().await;
        dir.set_status(id, TenantStatus::Suspended);
        cache.invalidate(id);
        gate.release.notify_one();
        // The load in flight answers what it read, but must not cache it.
        assert_eq!(
            status(in_flight.await.unwrap().unwrap()),
            Some(TenantStatus::Active)
        );
        assert!(cache.cached(id).is_none(), "the stale load was cached");

        let next = tokio::spawn({
            let cache = cache.clone();
            async move { cache.get(id).await }
        });
        gate.paused.notified().await;
        gate.release.notify_one();
        assert_eq!(
            status(next.await.unwrap().unwrap()),
            Some(TenantStatus::Suspended)
        );
        assert_eq!(
            status(cache.cached(id).unwrap()),
            Some(TenantStatus::Suspended)
        );
    }

    /// Where, relative to one `get`, the suspension and its invalidation land.
    #[derive(Debug, Clone, Copy)]
    enum Interleaving {
        BeforeGet,
        WhileLoadingBeforeRead,
        WhileLoadingAfterRead,
        AfterGet,
        // `clear` instead of `invalidate`, while the load is stalled after
        // reading the directory.
        ClearWhileLoading,
    }

    #[tokio::test]
    async fn invalidation_wins_over_a_load_in_every_interleaving() {
        use Interleaving::*;
        for case in [
            BeforeGet,
            WhileLoadingBeforeRead,
            WhileLoadingAfterRead,
            AfterGet,
            ClearWhileLoading,
        ] {
            let pause = match case {
                WhileLoadingBeforeRead => Pause::BeforeRead,
                _ => Pause::AfterRead,
            };
            let (dir, gate, cache) = gated(pause);
            let id = TenantId::from_u128(1);
            let suspend = || {
                dir.set_status(id, TenantStatus::Suspended);
                match case {
                    ClearWhileLoading => cache.clear(),
                    _ => cache.invalidate(id),
                }
            };
            if matches!(case, BeforeGet) {
                suspend();
            }
            let load = tokio::spawn({
                let cache = cache.clone();
                async move { cache.get(id).await }
            });
            gate.paused.notified().await;
            if matches!(
                case,
                WhileLoadingBeforeRead | WhileLoadingAfterRead | ClearWhileLoading
            ) {
                suspend();
            }
            gate.release.notify_one();
            load.await.unwrap().unwrap();
            if matches!(case, AfterGet) {
                suspend();
            }

            // Whatever the order, the cache now holds nothing older than
            // the suspension, and the next read sees it.
            if let Some(cached) = cache.cached(id) {
                assert_eq!(
                    status(cached),
                    Some(TenantStatus::Suspended),
                    "{case:?}: a stale entry is cached"
                );
                continue;
            }
            let next = tokio::spawn({
                let cache = cache.clone();
                async move { cache.get(id).await }
            });
            gate.paused.notified().await;
            gate.release.notify_one();
            assert_eq!(
                status(next.await.unwrap().unwrap()),
                Some(TenantStatus::Suspended),
                "{case:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_clear_during_a_load_only_skips_caching_that_load() {
        let (dir, gate, cache) = gated(Pause::AfterRead);
        dir.insert(record(2));
        let id = TenantId::from_u128(1);
        let load = tokio::spawn({
            let cache = cache.clone();
            async move { cache.get(id).await }
        });
        gate.paused.notified().await;
        cache.clear();
        gate.release.notify_one();
        assert_eq!(
            status(load.await.unwrap().unwrap()),
            Some(TenantStatus::Active)
        );
        assert!(cache.cached(id).is_none());
        // With nothing in between, the next load is cached as before.
        let load = tokio::spawn({
            let cache = cache.clone();
            async move { cache.get(id).await }
        });
        gate.paused.notified().await;
        gate.release.notify_one();
        load.await.unwrap().unwrap();
        assert_eq!(
            status(cache.cached(id).unwrap()),
            Some(TenantStatus::Active)
        );
    }

    #[tokio::test]
    async fn unknown_tenants_are_cached_as_absent_and_memory_stays_bounded() {
        let dir = Arc::new(MemoryDirectory::new());
        let cache = TenantCache::new(dir.clone(), 32, Duration::from_secs(60));
        for i in 0..1000 {
            assert!(
                cache
                    .get(TenantId::from_u128(i << 70 | i))
                    .await
                    .unwrap()
                    .is_none()
            );
        }
        assert!(cache.len() <= 32, "{}", cache.len());
        let five = TenantId::from_u128(5);
        assert!(cache.get(five).await.unwrap().is_none());
        dir.insert(record(5));
        assert!(
            matches!(cache.cached(five), Some(None)),
            "absence is cached"
        );
        cache.invalidate(five);
        assert!(cache.get(five).await.unwrap().is_some());
    }

    /// A directory that counts its reads of each tenant.
    #[derive(Default)]
    struct CountingDirectory {
        inner: MemoryDirectory,
        reads: std::sync::Mutex<std::collections::HashMap<TenantId, usize>>,
    }

    impl CountingDirectory {
        fn reads(&self, id: TenantId) -> usize {
            self.reads.lock().unwrap().get(&id).copied().unwrap_or(0)
        }
    }

    #[async_trait::async_trait]
    impl TenantDirectory for CountingDirectory {
        async fn by_id(&self, id: TenantId) -> Result<Option<Arc<TenantRecord>>, Error> {
            *self.reads.lock().unwrap().entry(id).or_default() += 1;
            self.inner.by_id(id).await
        }

        async fn by_slug(&self, slug: &TenantSlug) -> Result<Option<Arc<TenantRecord>>, Error> {
            self.inner.by_slug(slug).await
        }
    }

    #[tokio::test]
    async fn idle_tenants_make_room_and_an_active_one_is_never_evicted() {
        const CAPACITY: u128 = 64;
        const IDLE: u128 = 10 * CAPACITY;
        let dir = Arc::new(CountingDirectory::default());
        for i in 0..=IDLE {
            dir.inner.insert(record(i));
        }
        let clock = Arc::new(ManualClock::default());
        let cache = TenantCache::with_clock(
            dir.clone(),
            CAPACITY as usize,
            Duration::from_secs(60),
            clock.clone(),
        );
        let active = TenantId::from_u128(0);
        assert!(cache.get(active).await.unwrap().is_some());
        for i in 1..=IDLE {
            // An idle tenant, asked for once, and the active one, asked for
            // between any two others; nothing expires (6.4 s of 60).
            assert!(cache.get(TenantId::from_u128(i)).await.unwrap().is_some());
            clock.advance(Duration::from_millis(10));
            assert!(cache.get(active).await.unwrap().is_some());
            assert!(cache.len() <= CAPACITY as usize, "{} cached", cache.len());
        }
        assert_eq!(dir.reads(active), 1, "the active tenant was evicted");
        let cached = |range: std::ops::RangeInclusive<u128>| {
            range
                .filter(|i| cache.cached(TenantId::from_u128(*i)).is_some())
                .count()
        };
        assert_eq!(cached(1..=CAPACITY), 0, "the first idle tenants stayed");
        assert!(
            cached(IDLE - CAPACITY + 1..=IDLE) > 0,
            "no recent tenant was cached"
        );
    }
}
