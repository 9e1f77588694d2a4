//! Per-tenant rate and concurrency limits, each tenant with its own quota.

mod failures;
#[cfg(feature = "redis")]
mod redis;
mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tenancy_core::{
    AuditSink, ConcurrencyLimiter, ConcurrencyPermit, Entitlements, LimitError, MemoryLimitStore,
    MonotonicClock, RateDecision, SystemClock, TenantId,
};

use self::failures::StoreFailures;

#[cfg(feature = "redis")]
pub use self::redis::RedisRateStore;
pub use self::store::{RateCheck, RateStore};

/// What to do when the limit store cannot answer.
///
/// Either way the failure is never silent: each one is counted
/// ([`TenantLimits::store_failures`], and the
/// `tenancy_limit_store_failures_total{mode="open|closed"}` counter with
/// the `metrics` feature) and logged with its cause through `tracing`; the
/// first failure of each period (one minute by default, see
/// [`TenantLimits::report_failures_every`]) per mode is logged at `warn`
/// (open) or `error` (closed) with the number of failures since the last
/// report, and audited in the sink given to [`TenantLimits::audit`] as a
/// platform event (`AuditKind::Limited`, action
/// `tenant.limit.store_unavailable`, outcome allowed or denied). The
/// others of the period are logged at `debug`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// Admit the request: availability over strictness. No tenant's rate
    /// limit holds while the store is down.
    Open,
    /// Refuse the request with 503: strictness over availability.
    Closed,
}

impl FailMode {
    /// `open` or `closed`: the `mode` label of the failure counter.
    pub fn as_str(self) -> &'static str {
        match self {
            FailMode::Open => "open",
            FailMode::Closed => "closed",
        }
    }
}

/// The admission's per-tenant limits: a GCRA rate and a concurrency ceiling from
/// each tenant's [`Entitlements`], with bounded memory.
///
/// Each tenant has its own budget, so a flood from one tenant is refused
/// without touching another's; idle tenants are forgotten every
/// `evict_every` (one minute by default), and the in-memory rate store holds
/// at most `capacity` tenants.
///
/// A store that cannot answer (a shared store down, or the in-memory store
/// full) is handled by the [`FailMode`], and counted, logged and audited as
/// it describes, in the sink given to [`audit`](Self::audit), or else the
/// admission's.
///
/// ```
/// use tenancy_admission::TenantLimits;
/// use tenancy_core::*;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let limits = TenantLimits::in_memory(100_000);
/// let plan = Plan::new("tiny", RateQuota::per_second(1, 1), 8).entitlements(&PlanOverrides::default());
/// let acme = TenantId::from_u128(1);
/// let permit = limits.admit(acme, &plan).await?;
/// assert!(matches!(limits.admit(acme, &plan).await, Err(LimitError::RateLimited { .. })));
/// assert!(limits.admit(TenantId::from_u128(2), &plan).await.is_ok());
/// drop(permit);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TenantLimits {
    store: Arc<dyn RateStore>,
    concurrency: ConcurrencyLimiter,
    fail_mode: FailMode,
    failures: StoreFailures,
    clock: Arc<dyn MonotonicClock>,
    evict_every_nanos: u64,
    last_evict_nanos: AtomicU64,
}

impl std::fmt::Debug for TenantLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantLimits")
            .field("tracked_tenants", &self.tracked_tenants())
            .field("fail_mode", &self.fail_mode)
            .finish_non_exhaustive()
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl TenantLimits {
    /// Limits kept in this process, for at most about `capacity` tenants at once.
    pub fn in_memory(capacity: usize) -> Self {
        TenantLimits::in_memory_with_clock(capacity, Arc::new(SystemClock::new()))
    }

    /// The same, with an injected clock (for tests).
    pub fn in_memory_with_clock(capacity: usize, clock: Arc<dyn MonotonicClock>) -> Self {
        let store = Arc::new(MemoryLimitStore::with_capacity(capacity));
        // A full in-memory store means more live tenants than configured:
        // refusing is the safe answer.
        TenantLimits::shared_with_clock(store, FailMode::Closed, clock)
    }

    /// Rate limits in `store` (shared by every instance, like
    /// `RedisRateStore`, or one of your own); concurrency stays per
    /// instance.
    pub fn shared(store: Arc<dyn RateStore>, fail_mode: FailMode) -> Self {
        TenantLimits::shared_with_clock(store, fail_mode, Arc::new(SystemClock::new()))
    }

    /// The same, with an injected clock for eviction, failure reports and
    /// the `now` handed to the store (for tests); a shared store keeps its
    /// own time.
    pub fn shared_with_clock(
        store: Arc<dyn RateStore>,
        fail_mode: FailMode,
        clock: Arc<dyn MonotonicClock>,
    ) -> Self {
        TenantLimits {
            store,
            concurrency: ConcurrencyLimiter::default(),
            fail_mode,
            failures: StoreFailures::new(),
            clock,
            evict_every_nanos: nanos(Duration::from_secs(60)),
            last_evict_nanos: AtomicU64::new(0),
        }
    }

    /// What to do when the store cannot answer.
    #[must_use]
    pub fn fail_mode(mut self, mode: FailMode) -> Self {
        self.fail_mode = mode;
        self
    }

    /// How often idle tenants are forgotten.
    #[must_use]
    pub fn evict_every(mut self, every: Duration) -> Self {
        self.evict_every_nanos = nanos(every);
        self
    }

    /// Where store failures are audited (see [`FailMode`]). Without it the
    /// admission's own audit sink is used; they are always counted and logged.
    #[must_use]
    pub fn audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.failures.set_audit(sink);
        self
    }

    /// The period of store failure reports (default one minute): per fail
    /// mode, at most one `warn` or `error` log line and one audit event per
    /// period, whatever the number of failures.
    #[must_use]
    pub fn report_failures_every(mut self, every: Duration) -> Self {
        self.failures.set_report_every(every);
        self
    }

    /// Audits store failures to the admission's `sink` unless
    /// [`audit`](Self::audit) named one: for the admission to call when it
    /// is built.
    pub(crate) fn audit_unless_set(&self, sink: &Arc<dyn AuditSink>) {
        self.failures.audit_unless_set(sink);
    }

    /// How many times the store could not answer while failing `mode`
    /// (since these limits were built).
    pub fn store_failures(&self, mode: FailMode) -> u64 {
        self.failures.total(mode)
    }

    /// Admits one request of `tenant` under its entitlements; the permit
    /// holds a concurrency slot until dropped.
    pub async fn admit(
        &self,
        tenant: TenantId,
        entitlements: &Entitlements,
    ) -> Result<ConcurrencyPermit, LimitError> {
        self.admit_at(tenant, entitlements, self.clock.now()).await
    }

    /// [`admit`](Self::admit) at `now`, read from [`clock`](Self::clock) by
    /// a caller that reads it once per request. Concurrency first (a
    /// refusal there spends no rate), then the rate; limits kept in this
    /// process complete without waiting.
    pub(crate) async fn admit_at(
        &self,
        tenant: TenantId,
        entitlements: &Entitlements,
        now: Duration,
    ) -> Result<ConcurrencyPermit, LimitError> {
        self.maybe_evict(now);
        let permit = self
            .concurrency
            .try_acquire(tenant, entitlements.max_concurrent())?;
        let failure = match self.store.check(tenant, &entitlements.rate(), now).await {
            Ok(RateDecision::Allowed) => return Ok(permit),
            Ok(RateDecision::Limited { retry_after }) => {
                return Err(LimitError::RateLimited { retry_after });
            }
            Err(failure) => failure,
        };
        self.failures.record(self.fail_mode, &failure, now);
        match self.fail_mode {
            FailMode::Open => Ok(permit),
            FailMode::Closed => Err(LimitError::StoreUnavailable),
        }
    }

    /// The clock the limits read.
    pub(crate) fn clock(&self) -> &Arc<dyn MonotonicClock> {
        &self.clock
    }

    /// How many requests of `tenant` are in flight in this instance.
    pub fn in_flight(&self, tenant: TenantId) -> u32 {
        self.concurrency.in_flight(tenant)
    }

    /// How many tenants the in-memory rate store holds (0 for a shared store).
    pub fn tracked_tenants(&self) -> usize {
        self.store.tracked_tenants()
    }

    /// Forgets idle tenants now; returns how many rate entries were dropped.
    pub fn evict_idle(&self) -> usize {
        self.evict_idle_at(self.clock.now())
    }

    fn evict_idle_at(&self, now: Duration) -> usize {
        self.concurrency.evict_idle();
        self.store.evict_idle(now)
    }

    fn maybe_evict(&self, now: Duration) {
        let at = nanos(now);
        let last = self.last_evict_nanos.load(Ordering::Relaxed);
        if at.saturating_sub(last) < self.evict_every_nanos {
            return;
        }
        // INVARIANT: one request per period does the sweep; the others go on.
        if self
            .last_evict_nanos
            .compare_exchange(last, at, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            self.evict_idle_at(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use tenancy_core::{ManualClock, Plan, PlanOverrides, RateQuota};

    fn plan(per_second: u32, burst: u32, concurrent: u32) -> Entitlements {
        Plan::new("p", RateQuota::per_second(per_second, burst), concurrent)
            .entitlements(&PlanOverrides::default())
    }

    #[tokio::test]
    async fn idle_tenants_are_evicted_on_the_next_request_after_the_period() {
        let clock = Arc::new(ManualClock::default());
        let limits = TenantLimits::in_memory_with_clock(10_000, clock.clone())
            .evict_every(Duration::from_secs(10));
        clock.advance(Duration::from_secs(1));
        for i in 0..50 {
            drop(
                limits
                    .admit(TenantId::from_u128(i), &plan(10, 1, 1))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(limits.tracked_tenants(), 50);
        clock.advance(Duration::from_secs(11));
        drop(
            limits
                .admit(TenantId::from_u128(999), &plan(10, 1, 1))
                .await
                .unwrap(),
        );
        assert_eq!(limits.tracked_tenants(), 1);
    }

    #[tokio::test]
    async fn idle_tenants_make_room_and_an_active_tenants_limit_is_never_reset() {
        // A flood of new tenants must not push out the state of a tenant
        // that has spent its burst: that would hand it a fresh one.
        const CAPACITY: u128 = 64;
        let clock = Arc::new(ManualClock::default());
        let limits = TenantLimits::in_memory_with_clock(CAPACITY as usize, clock.clone());
        let (active, spent) = (TenantId::from_u128(0), plan(1, 1, 100));
        drop(limits.admit(active, &spent).await.unwrap());
        for i in 1..=10 * CAPACITY {
            // 640 ms in all: the active tenant's second never comes, while
            // each other tenant is idle again a millisecond after its request.
            clock.advance(Duration::from_millis(1));
            let idle = limits
                .admit(TenantId::from_u128(i), &plan(1000, 1, 100))
                .await;
            assert!(idle.is_ok(), "tenant {i}: {idle:?}");
            drop(idle);
            assert!(
                limits.tracked_tenants() <= CAPACITY as usize,
                "{} tracked",
                limits.tracked_tenants()
            );
            assert!(
                matches!(
                    limits.admit(active, &spent).await,
                    Err(LimitError::RateLimited { .. })
                ),
                "the active tenant's state was dropped after {i} others"
            );
        }
    }

    #[tokio::test]
    async fn concurrency_ceiling_is_per_tenant_and_released_on_drop() {
        let limits = TenantLimits::in_memory(100);
        let e = plan(1000, 1000, 2);
        let (a, b) = (TenantId::from_u128(1), TenantId::from_u128(2));
        let p1 = limits.admit(a, &e).await.unwrap();
        let _p2 = limits.admit(a, &e).await.unwrap();
        assert_eq!(
            limits.admit(a, &e).await.unwrap_err(),
            LimitError::TooManyConcurrent { limit: 2 }
        );
        assert!(limits.admit(b, &e).await.is_ok());
        drop(p1);
        assert!(limits.admit(a, &e).await.is_ok());
    }

    struct DownStore;

    impl RateStore for DownStore {
        fn check<'a>(&'a self, _: TenantId, _: &'a RateQuota, _: Duration) -> RateCheck<'a> {
            RateCheck::ready(Err(Error::LimitStore("connection refused".into())))
        }
    }

    #[tokio::test]
    async fn store_down_fails_open_or_closed_as_configured() {
        let e = plan(1, 1, 10);
        let t = TenantId::from_u128(1);
        let open = TenantLimits::shared(Arc::new(DownStore), FailMode::Open);
        assert!(open.admit(t, &e).await.is_ok());
        let closed = TenantLimits::shared(Arc::new(DownStore), FailMode::Closed);
        assert_eq!(
            closed.admit(t, &e).await.unwrap_err(),
            LimitError::StoreUnavailable
        );
    }
}
