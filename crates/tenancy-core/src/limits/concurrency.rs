//! At most N requests in flight per tenant.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::LimitError;
use crate::id::TenantId;
use crate::shard::ShardedMap;

/// Counts requests in flight per tenant, each tenant with its own ceiling.
///
/// ```
/// use tenancy_core::{ConcurrencyLimiter, TenantId};
///
/// let limiter = ConcurrencyLimiter::default();
/// let t = TenantId::from_u128(1);
/// let first = limiter.try_acquire(t, 1)?;
/// assert!(limiter.try_acquire(t, 1).is_err());
/// drop(first);
/// assert!(limiter.try_acquire(t, 1).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct ConcurrencyLimiter {
    counts: ShardedMap<TenantId, Arc<AtomicU32>>,
}

/// One request in flight; dropping it frees the slot.
#[derive(Debug)]
#[must_use = "the slot is released as soon as the permit is dropped"]
pub struct ConcurrencyPermit {
    count: Arc<AtomicU32>,
}

impl Drop for ConcurrencyPermit {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ConcurrencyLimiter {
    /// Takes a slot for `tenant` if fewer than `limit` are taken.
    pub fn try_acquire(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<ConcurrencyPermit, LimitError> {
        let count = Arc::clone(self.counts.write(&tenant).entry(tenant).or_default());
        let taken = count.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < limit).then_some(n + 1)
        });
        match taken {
            Ok(_) => Ok(ConcurrencyPermit { count }),
            Err(_) => Err(LimitError::TooManyConcurrent { limit }),
        }
    }

    /// How many requests of `tenant` are in flight.
    pub fn in_flight(&self, tenant: TenantId) -> u32 {
        self.counts
            .read(&tenant)
            .get(&tenant)
            .map_or(0, |c| c.load(Ordering::Acquire))
    }

    /// Forgets tenants with nothing in flight; returns how many.
    pub fn evict_idle(&self) -> usize {
        self.counts
            .retain(|_, c| Arc::strong_count(c) > 1 || c.load(Ordering::Acquire) > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tenant_has_its_own_ceiling() {
        let limiter = ConcurrencyLimiter::default();
        let (a, b) = (TenantId::from_u128(1), TenantId::from_u128(2));
        let held: Vec<_> = (0..4).map(|_| limiter.try_acquire(a, 4).unwrap()).collect();
        assert_eq!(
            limiter.try_acquire(a, 4).unwrap_err(),
            LimitError::TooManyConcurrent { limit: 4 }
        );
        let _b = limiter.try_acquire(b, 1).unwrap();
        assert_eq!(limiter.in_flight(a), 4);
        drop(held);
        assert_eq!(limiter.in_flight(a), 0);
        assert_eq!(limiter.evict_idle(), 1);
        assert_eq!(limiter.in_flight(b), 1);
    }

    #[test]
    fn permits_release_across_threads() {
        let limiter = Arc::new(ConcurrencyLimiter::default());
        let t = TenantId::from_u128(7);
        std::thread::scope(|s| {
            for _ in 0..8 {
                let limiter = Arc::clone(&limiter);
                s.spawn(move || {
                    for _ in 0..1000 {
                        if let Ok(p) = limiter.try_acquire(t, 3) {
                            assert!(limiter.in_flight(t) <= 3);
                            drop(p);
                        }
                    }
                });
            }
        });
        assert_eq!(limiter.in_flight(t), 0);
    }
}
