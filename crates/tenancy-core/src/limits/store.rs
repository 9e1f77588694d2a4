//! Where rate-limit state lives in this process.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::gcra::{RateDecision, RateQuota, gcra_step};
use super::hash::{IdBuildHasher, shard_of};
use crate::error::LimitError;
use crate::id::TenantId;

const SHARDS: usize = 16;

/// Each tenant's GCRA state in this process, applying one [`gcra_step`] at a
/// time per tenant. Sharded to keep contention low, and bounded: once a
/// shard holds `capacity / 16` tenants, idle ones are evicted before a new
/// one is added, and if none is idle the request is refused
/// ([`LimitError::StoreUnavailable`]), so memory never grows without bound.
///
/// A [`RateLimiter`](super::RateLimiter) keeps its state here; so does
/// tenancy-admission's in-memory rate store, whose Redis store makes a
/// limit hold across many instances with the same step.
#[derive(Debug)]
pub struct MemoryLimitStore {
    shards: [Mutex<HashMap<TenantId, u64, IdBuildHasher>>; SHARDS],
    shard_capacity: usize,
}

impl MemoryLimitStore {
    /// A store holding at most about `capacity` tenants.
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryLimitStore {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::default())),
            shard_capacity: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// How many tenants have state.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// True when no tenant has state.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies one GCRA step for `tenant` at `now` (nanoseconds on the
    /// caller's monotonic clock).
    pub fn rate(
        &self,
        tenant: TenantId,
        quota: &RateQuota,
        now: u64,
    ) -> Result<RateDecision, LimitError> {
        let mut shard = self.shards[shard_of(tenant, SHARDS)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(tat) = shard.get_mut(&tenant) {
            let (decision, next) = gcra_step(Some(*tat), quota, now);
            *tat = next;
            return Ok(decision);
        }
        if shard.len() >= self.shard_capacity {
            shard.retain(|_, tat| *tat > now);
            if shard.len() >= self.shard_capacity {
                return Err(LimitError::StoreUnavailable);
            }
        }
        let (decision, next) = gcra_step(None, quota, now);
        shard.insert(tenant, next);
        Ok(decision)
    }

    /// Forgets every tenant whose state equals "never seen" at `now`;
    /// returns how many were forgotten.
    pub fn evict_idle(&self, now: u64) -> usize {
        let mut evicted = 0;
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            let before = shard.len();
            // A TAT at or before now admits a full burst: the same as no state.
            shard.retain(|_, tat| *tat > now);
            evicted += before - shard.len();
        }
        evicted
    }
}

impl Default for MemoryLimitStore {
    /// Room for 1,000,000 tenants.
    fn default() -> Self {
        MemoryLimitStore::with_capacity(1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_store_refuses_new_tenants_instead_of_growing() {
        let store = MemoryLimitStore::with_capacity(16);
        let quota = RateQuota::per_second(1, 1);
        let mut refused = 0;
        for i in 0..200u128 {
            if store
                .rate(TenantId::from_u128(i << 64 | i), &quota, 0)
                .is_err()
            {
                refused += 1;
            }
        }
        assert!(store.len() <= 16, "{}", store.len());
        assert!(refused > 0);
        // Once time passes, idle tenants make room again.
        assert!(
            store
                .rate(TenantId::from_u128(999), &quota, 10_000_000_000)
                .is_ok()
        );
    }
}
