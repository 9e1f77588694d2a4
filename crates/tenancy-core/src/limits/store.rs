//! Where rate-limit state lives in this process.

use super::gcra::{RateDecision, RateQuota, gcra_step};
use crate::error::LimitError;
use crate::id::TenantId;
use crate::shard::ShardedMap;

/// Each tenant's GCRA state in this process, applying one [`gcra_step`] at a
/// time per tenant. Sharded to keep contention low, and bounded: once the
/// store holds `capacity` tenants, idle ones are evicted before a new one
/// is added, and if none is idle the request is refused
/// ([`LimitError::StoreUnavailable`]), so memory never grows without bound.
///
/// A [`RateLimiter`](super::RateLimiter) keeps its state here; so does
/// tenancy-admission's in-memory rate store, whose Redis store makes a
/// limit hold across many instances with the same step.
#[derive(Debug)]
pub struct MemoryLimitStore {
    // Each tenant's theoretical arrival time.
    tats: ShardedMap<TenantId, u64>,
}

impl MemoryLimitStore {
    /// A store holding at most about `capacity` tenants.
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryLimitStore {
            tats: ShardedMap::with_capacity(capacity),
        }
    }

    /// How many tenants have state.
    pub fn len(&self) -> usize {
        self.tats.len()
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
        let mut shard = self.tats.write(&tenant);
        if let Some(tat) = shard.get_mut(&tenant) {
            let (decision, next) = gcra_step(Some(*tat), quota, now);
            *tat = next;
            return Ok(decision);
        }
        // A TAT at or before now admits a full burst: the same as no state.
        if !self.tats.has_room(&mut shard, &tenant, |_, tat| *tat > now) {
            return Err(LimitError::StoreUnavailable);
        }
        let (decision, next) = gcra_step(None, quota, now);
        shard.insert(tenant, next);
        Ok(decision)
    }

    /// Forgets every tenant whose state equals "never seen" at `now`;
    /// returns how many were forgotten.
    pub fn evict_idle(&self, now: u64) -> usize {
        self.tats.retain(|_, tat| *tat > now)
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
