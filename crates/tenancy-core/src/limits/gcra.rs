//! The generic cell rate algorithm, with a quota per tenant.

use std::time::Duration;

use super::store::MemoryLimitStore;
use crate::clock::{MonotonicClock, duration_to_nanos};
use crate::error::LimitError;
use crate::id::TenantId;

/// A rate: `burst` requests at once, refilling one every `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateQuota {
    interval_nanos: u64,
    burst: u32,
}

impl RateQuota {
    /// `per_second` requests a second on average, up to `burst` at once.
    /// A zero rate or burst is raised to one.
    pub fn per_second(per_second: u32, burst: u32) -> Self {
        let per_second = u64::from(per_second.max(1));
        RateQuota {
            interval_nanos: 1_000_000_000 / per_second,
            burst: burst.max(1),
        }
    }

    /// One request every `interval`, up to `burst` at once.
    pub fn every(interval: Duration, burst: u32) -> Self {
        RateQuota {
            interval_nanos: duration_to_nanos(interval).max(1),
            burst: burst.max(1),
        }
    }

    /// The time between two requests at the sustained rate.
    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval_nanos)
    }

    /// How many requests may come at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    pub(crate) fn interval_nanos(&self) -> u64 {
        self.interval_nanos
    }

    /// How far ahead of now the theoretical arrival time may run.
    pub(crate) fn tolerance_nanos(&self) -> u64 {
        self.interval_nanos
            .saturating_mul(u64::from(self.burst - 1))
    }
}

/// What the limiter decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Go ahead.
    Allowed,
    /// Refused; the next request would be admitted after this long.
    Limited {
        /// How long to wait.
        retry_after: Duration,
    },
}

/// One GCRA step. `tat` is the stored theoretical arrival time (nanoseconds on
/// the limiter's clock; `None` when nothing is stored). Returns the decision
/// and the new value to store (unchanged when refused).
// INVARIANT: this is the whole algorithm, written once; every store (in
// memory here, Redis in tenancy-admission) only makes it atomic per key.
pub fn gcra_step(tat: Option<u64>, quota: &RateQuota, now: u64) -> (RateDecision, u64) {
    let tat = tat.unwrap_or(now).max(now);
    let ahead = tat - now;
    let tolerance = quota.tolerance_nanos();
    if ahead > tolerance {
        let retry_after = Duration::from_nanos(ahead - tolerance);
        return (RateDecision::Limited { retry_after }, tat);
    }
    (
        RateDecision::Allowed,
        tat.saturating_add(quota.interval_nanos()),
    )
}

/// A GCRA rate limiter keyed by tenant, each tenant with its own quota, in
/// this process.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tenancy_core::*;
///
/// let clock = Arc::new(ManualClock::default());
/// let limiter = RateLimiter::new(MemoryLimitStore::default(), clock.clone());
/// let tenant = TenantId::from_u128(1);
/// let quota = RateQuota::per_second(10, 2);
/// assert!(limiter.check(tenant, &quota).is_ok());
/// assert!(limiter.check(tenant, &quota).is_ok());
/// assert!(limiter.check(tenant, &quota).is_err()); // burst spent
/// clock.advance(Duration::from_millis(100));
/// assert!(limiter.check(tenant, &quota).is_ok()); // one refilled
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RateLimiter<C> {
    store: MemoryLimitStore,
    clock: C,
}

impl<C: MonotonicClock> RateLimiter<C> {
    /// A limiter over a store and a clock.
    pub fn new(store: MemoryLimitStore, clock: C) -> Self {
        RateLimiter { store, clock }
    }

    /// Admits one request of `tenant` under `quota`, or says how long to wait.
    pub fn check(&self, tenant: TenantId, quota: &RateQuota) -> Result<(), LimitError> {
        self.check_at(tenant, quota, self.clock.now())
    }

    /// Like [`check`](Self::check), at a time the caller already read from
    /// the same clock (a request handler reads it once for every limit).
    pub fn check_at(
        &self,
        tenant: TenantId,
        quota: &RateQuota,
        now: Duration,
    ) -> Result<(), LimitError> {
        match self.store.rate(tenant, quota, duration_to_nanos(now))? {
            RateDecision::Allowed => Ok(()),
            RateDecision::Limited { retry_after } => Err(LimitError::RateLimited { retry_after }),
        }
    }

    /// The limiter's clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Forgets tenants that have been idle long enough to be at full burst.
    pub fn evict_idle(&self) -> usize {
        self.store.evict_idle(duration_to_nanos(self.clock.now()))
    }

    /// The store behind the limiter.
    pub fn store(&self) -> &MemoryLimitStore {
        &self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use proptest::prelude::*;
    use std::sync::Arc;

    #[test]
    fn retry_after_is_the_time_to_the_next_admission() {
        let quota = RateQuota::per_second(2, 1);
        let (d, tat) = gcra_step(None, &quota, 0);
        assert_eq!(d, RateDecision::Allowed);
        let (d, _) = gcra_step(Some(tat), &quota, 100_000_000);
        assert_eq!(
            d,
            RateDecision::Limited {
                retry_after: Duration::from_millis(400)
            }
        );
        let (d, _) = gcra_step(Some(tat), &quota, 500_000_000);
        assert_eq!(d, RateDecision::Allowed);
    }

    proptest! {
        /// In any window of length W, admissions never exceed burst + W / interval.
        #[test]
        fn admissions_never_exceed_burst_plus_rate(
            per_second in 1u32..50,
            burst in 1u32..20,
            gaps in prop::collection::vec(0u64..200_000_000, 1..300),
        ) {
            let quota = RateQuota::per_second(per_second, burst);
            let mut tat = None;
            let mut now = 0u64;
            let mut admitted = Vec::new();
            for gap in gaps {
                now += gap;
                let (d, next) = gcra_step(tat, &quota, now);
                tat = Some(next);
                if d == RateDecision::Allowed {
                    admitted.push(now);
                }
            }
            for (i, &start) in admitted.iter().enumerate() {
                for (j, &end) in admitted.iter().enumerate().skip(i) {
                    let window = end - start;
                    let bound = u64::from(burst) + window / quota.interval_nanos();
                    prop_assert!((j - i + 1) as u64 <= bound, "{} admissions in {} ns", j - i + 1, window);
                }
            }
        }

        /// One tenant's traffic never changes another tenant's decisions.
        #[test]
        fn tenants_do_not_share_budgets(
            arrivals in prop::collection::vec((0u8..2, 0u64..50_000_000), 1..200),
        ) {
            let quota_a = RateQuota::per_second(5, 3);
            let quota_b = RateQuota::per_second(20, 2);
            let (a, b) = (TenantId::from_u128(1), TenantId::from_u128(2));
            let clock = Arc::new(ManualClock::default());
            let shared = RateLimiter::new(MemoryLimitStore::default(), clock.clone());
            let alone_clock = Arc::new(ManualClock::default());
            let alone = RateLimiter::new(MemoryLimitStore::default(), alone_clock.clone());
            for (who, gap) in arrivals {
                clock.advance(Duration::from_nanos(gap));
                alone_clock.advance(Duration::from_nanos(gap));
                if who == 0 {
                    shared.check(a, &quota_a).ok();
                } else {
                    let together = shared.check(b, &quota_b);
                    let by_itself = alone.check(b, &quota_b);
                    prop_assert_eq!(together, by_itself);
                }
            }
        }
    }

    #[test]
    fn idle_tenants_are_evicted() {
        let clock = Arc::new(ManualClock::default());
        let limiter = RateLimiter::new(MemoryLimitStore::default(), clock.clone());
        for i in 0..100 {
            limiter
                .check(TenantId::from_u128(i), &RateQuota::per_second(10, 1))
                .unwrap();
        }
        assert_eq!(limiter.store().len(), 100);
        clock.advance(Duration::from_secs(1));
        assert_eq!(limiter.evict_idle(), 100);
        assert_eq!(limiter.store().len(), 0);
    }
}
