//! Where each tenant's rate-limit state lives: one async trait, whatever
//! the store.

use std::time::Duration;

use tenancy_core::{MemoryLimitStore, RateDecision, RateQuota, TenantId};

use crate::error::Error;

/// Holds each tenant's GCRA state and applies one
/// [`gcra_step`](tenancy_core::gcra_step) atomically per tenant.
///
/// [`MemoryLimitStore`] serves one process; `RedisRateStore` (feature
/// `redis`) makes a limit hold across every instance of a service. A store
/// that cannot answer returns an error; the [`FailMode`](crate::FailMode)
/// of the [`TenantLimits`](crate::TenantLimits) decides what then happens.
///
/// ```
/// use std::time::Duration;
/// use tenancy_admission::RateStore;
/// use tenancy_core::{MemoryLimitStore, RateDecision, RateQuota, TenantId};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let store = MemoryLimitStore::with_capacity(1_000);
/// let quota = RateQuota::per_second(1, 1);
/// let acme = TenantId::from_u128(1);
/// assert_eq!(store.check(acme, &quota, Duration::ZERO).await?, RateDecision::Allowed);
/// assert!(matches!(store.check(acme, &quota, Duration::ZERO).await?, RateDecision::Limited { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[async_trait::async_trait]
pub trait RateStore: Send + Sync {
    /// Applies one GCRA step for `tenant` under `quota`, atomically for
    /// everything that shares the store. `now` is the caller's reading of
    /// the limits' monotonic clock; a store that keeps its own time (Redis,
    /// shared by instances whose clocks differ) uses that instead.
    async fn check(
        &self,
        tenant: TenantId,
        quota: &RateQuota,
        now: Duration,
    ) -> Result<RateDecision, Error>;

    /// Forgets the tenants that are back at full burst at `now`; returns
    /// how many. A store whose entries expire by themselves keeps the
    /// default, which forgets nothing.
    fn evict_idle(&self, now: Duration) -> usize {
        let _ = now;
        0
    }

    /// How many tenants the store holds in this process (0, the default,
    /// for a store elsewhere).
    fn tracked_tenants(&self) -> usize {
        0
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The store of one process, bounded: a new tenant in a full store is a
/// failure ([`Error::LimitStoreFull`]), for the fail mode to answer.
#[async_trait::async_trait]
impl RateStore for MemoryLimitStore {
    async fn check(
        &self,
        tenant: TenantId,
        quota: &RateQuota,
        now: Duration,
    ) -> Result<RateDecision, Error> {
        self.rate(tenant, quota, nanos(now))
            .map_err(|_| Error::LimitStoreFull)
    }

    fn evict_idle(&self, now: Duration) -> usize {
        MemoryLimitStore::evict_idle(self, nanos(now))
    }

    fn tracked_tenants(&self) -> usize {
        self.len()
    }
}
