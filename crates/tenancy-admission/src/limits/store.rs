//! Where each tenant's rate-limit state lives: one async trait, whatever
//! the store.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
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
pub trait RateStore: Send + Sync {
    /// Applies one GCRA step for `tenant` under `quota`, atomically for
    /// everything that shares the store; await the answer. `now` is the
    /// caller's reading of the limits' monotonic clock; a store that keeps
    /// its own time (Redis, shared by instances whose clocks differ) uses
    /// that instead.
    fn check<'a>(&'a self, tenant: TenantId, quota: &'a RateQuota, now: Duration) -> RateCheck<'a>;

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

/// The answer of a [`RateStore`], to await: a store in this process has it
/// at once, with nothing allocated; a store elsewhere hands a future.
///
/// ```
/// use std::time::Duration;
/// use tenancy_admission::{Error, RateCheck, RateStore};
/// use tenancy_core::{RateDecision, RateQuota, TenantId};
///
/// /// A store that admits everything, after a round trip.
/// struct Remote;
///
/// impl RateStore for Remote {
///     fn check<'a>(&'a self, _: TenantId, _: &'a RateQuota, _: Duration) -> RateCheck<'a> {
///         RateCheck::later(async { Ok::<_, Error>(RateDecision::Allowed) })
///     }
/// }
/// ```
#[must_use = "a rate check does nothing unless awaited"]
pub struct RateCheck<'a>(Answer<'a>);

type Later<'a> = Pin<Box<dyn Future<Output = Result<RateDecision, Error>> + Send + 'a>>;

enum Answer<'a> {
    /// `None` once it was taken.
    Now(Option<Result<RateDecision, Error>>),
    Later(Later<'a>),
}

impl<'a> RateCheck<'a> {
    /// An answer at hand.
    pub fn ready(answer: Result<RateDecision, Error>) -> Self {
        RateCheck(Answer::Now(Some(answer)))
    }

    /// An answer `future` will give.
    pub fn later(future: impl Future<Output = Result<RateDecision, Error>> + Send + 'a) -> Self {
        RateCheck(Answer::Later(Box::pin(future)))
    }
}

impl std::fmt::Debug for RateCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateCheck").finish_non_exhaustive()
    }
}

impl Future for RateCheck<'_> {
    type Output = Result<RateDecision, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            Answer::Now(answer) => Poll::Ready(
                answer
                    .take()
                    .unwrap_or(Err(Error::Config(crate::ConfigProblem::RateCheckReused))),
            ),
            Answer::Later(future) => future.as_mut().poll(cx),
        }
    }
}

/// The store of one process, bounded: a new tenant in a full store is a
/// failure ([`Error::LimitStoreFull`]), for the fail mode to answer.
impl RateStore for MemoryLimitStore {
    fn check<'a>(&'a self, tenant: TenantId, quota: &'a RateQuota, now: Duration) -> RateCheck<'a> {
        let answer = self.rate(tenant, quota, nanos(now));
        RateCheck::ready(answer.map_err(|_| Error::LimitStoreFull))
    }

    fn evict_idle(&self, now: Duration) -> usize {
        MemoryLimitStore::evict_idle(self, nanos(now))
    }

    fn tracked_tenants(&self) -> usize {
        self.len()
    }
}
