//! A bounded, invalidatable cache in front of a tenant directory.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tenancy_core::{Clock, SystemClock, TenantId, TenantSlug};

use super::{TenantDirectory, TenantRecord};
use crate::error::Error;

const SHARDS: usize = 16;

#[derive(Debug, Clone)]
struct Entry {
    // `None` caches "no such tenant", so tokens of a removed tenant do not
    // reach the directory on every request.
    record: Option<Arc<TenantRecord>>,
    fetched_at: Duration,
}

type Shard = RwLock<HashMap<TenantId, Entry, IdHashing>>;

/// A keyed hash of 128-bit tenant ids: one folded multiply with per-cache
/// random keys, instead of SipHash on every lookup.
#[derive(Clone)]
struct IdHashing {
    k0: u64,
    k1: u64,
}

impl IdHashing {
    fn new() -> Self {
        let seed = RandomState::new();
        IdHashing {
            k0: seed.hash_one(0x243f_6a88_85a3_08d3_u64),
            k1: seed.hash_one(0x1319_8a2e_0370_7344_u64) | 1,
        }
    }
}

impl BuildHasher for IdHashing {
    type Hasher = IdHasher;

    fn build_hasher(&self) -> IdHasher {
        IdHasher {
            h: self.k0,
            k: self.k1,
        }
    }
}

struct IdHasher {
    h: u64,
    k: u64,
}

fn fold_mul(a: u64, b: u64) -> u64 {
    let full = u128::from(a).wrapping_mul(u128::from(b));
    (full as u64) ^ ((full >> 64) as u64)
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        fold_mul(self.h, self.k)
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.h = fold_mul(self.h ^ n, self.k);
    }

    fn write_u128(&mut self, n: u128) {
        self.h = fold_mul(self.h ^ (n as u64), self.k ^ ((n >> 64) as u64));
    }
}

/// Caches directory lookups by tenant id for at most `ttl`, holding at most
/// about `capacity` tenants.
///
/// A status change in the directory takes effect within `ttl`; call
/// [`invalidate`](TenantCache::invalidate) to make it take effect at once
/// in this process. Lookups by slug are not cached (only operators acting
/// for a tenant make them).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tenancy_axum::{MemoryDirectory, TenantCache, TenantRecord};
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
    shards: [Shard; SHARDS],
    shard_capacity: usize,
    ttl: Duration,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TenantCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantCache")
            .field("len", &self.len())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn shard_of(id: TenantId) -> usize {
    let v = id.as_u128();
    let folded = (v as u64) ^ ((v >> 64) as u64);
    (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 60) as usize % SHARDS
}

impl TenantCache {
    /// A cache of about `capacity` tenants, each kept for `ttl`.
    pub fn new(directory: Arc<dyn TenantDirectory>, capacity: usize, ttl: Duration) -> Self {
        TenantCache::with_clock(directory, capacity, ttl, Arc::new(SystemClock::new()))
    }

    /// The same, with an injected clock (for tests).
    pub fn with_clock(
        directory: Arc<dyn TenantDirectory>,
        capacity: usize,
        ttl: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        TenantCache {
            directory,
            shards: {
                let hashing = IdHashing::new();
                std::array::from_fn(|_| RwLock::new(HashMap::with_hasher(hashing.clone())))
            },
            shard_capacity: capacity.div_ceil(SHARDS).max(1),
            ttl,
            clock,
        }
    }

    /// The cached answer for `id`, if fresh: `Some(None)` is a cached "no
    /// such tenant". Never calls the directory.
    pub fn cached(&self, id: TenantId) -> Option<Option<Arc<TenantRecord>>> {
        self.cached_at(id, self.clock.now())
    }

    /// [`cached`](Self::cached) at `now`, read from this cache's clock by a
    /// caller that reads it once per request.
    pub(crate) fn cached_at(
        &self,
        id: TenantId,
        now: Duration,
    ) -> Option<Option<Arc<TenantRecord>>> {
        let shard = self.shards[shard_of(id)]
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = shard.get(&id)?;
        (now.saturating_sub(entry.fetched_at) < self.ttl).then(|| entry.record.clone())
    }

    /// The clock the cache reads.
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The tenant with this id, from the cache or the directory.
    pub async fn get(&self, id: TenantId) -> Result<Option<Arc<TenantRecord>>, Error> {
        if let Some(hit) = self.cached(id) {
            return Ok(hit);
        }
        let record = self.directory.by_id(id).await?;
        self.store(id, record.clone());
        Ok(record)
    }

    /// The tenant with this slug, straight from the directory.
    pub async fn by_slug(&self, slug: &TenantSlug) -> Result<Option<Arc<TenantRecord>>, Error> {
        self.directory.by_slug(slug).await
    }

    fn store(&self, id: TenantId, record: Option<Arc<TenantRecord>>) {
        let now = self.clock.now();
        let mut shard = self.shards[shard_of(id)]
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if shard.len() >= self.shard_capacity && !shard.contains_key(&id) {
            let ttl = self.ttl;
            shard.retain(|_, e| now.saturating_sub(e.fetched_at) < ttl);
            if shard.len() >= self.shard_capacity {
                // Still full of fresh entries: drop the oldest one.
                let oldest = shard
                    .iter()
                    .min_by_key(|(_, e)| e.fetched_at)
                    .map(|(k, _)| *k);
                if let Some(oldest) = oldest {
                    shard.remove(&oldest);
                }
            }
        }
        shard.insert(
            id,
            Entry {
                record,
                fetched_at: now,
            },
        );
    }

    /// Forgets `id`, so the next request reads the directory.
    pub fn invalidate(&self, id: TenantId) {
        self.shards[shard_of(id)]
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    /// Forgets every tenant.
    pub fn clear(&self) {
        for shard in &self.shards {
            shard
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
        }
    }

    /// How many tenants are cached (fresh or not).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
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
}
