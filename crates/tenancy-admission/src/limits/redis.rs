//! The GCRA rate limit in Redis, shared by every instance of a service.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tenancy_core::{RateDecision, RateQuota, TenantId, gcra_step};
use tokio::sync::OnceCell;

use super::{RateCheck, RateStore};
use crate::error::Error;

/// Sets a key to a new value, with an expiry, only if it still holds the
/// value read before (`''` for none): a compare-and-set, so the GCRA step
/// itself runs once, in Rust ([`gcra_step`]), on Redis's own clock.
///
/// KEYS[1]: the tenant's key. ARGV[1]: the value read. ARGV[2]: the new
/// value. ARGV[3]: its time to live (ms). Returns 1 when set, 0 when the
/// key changed meanwhile.
const COMPARE_AND_SET: &str = r"
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
";

/// How many times a step is tried again when another instance changed the
/// tenant's key between the read and the write; past that, the check is a
/// store failure.
const ATTEMPTS: usize = 8;

/// A [`RateStore`] in Redis, shared by every instance of a service.
///
/// Each check reads the tenant's state and Redis's clock (so instances with
/// skewed clocks still share one budget), applies [`gcra_step`], and writes
/// the new state back with a compare-and-set, trying again if another
/// instance wrote in between: two round trips for an admitted request, one
/// for a refused one. Times are nanoseconds on Redis's clock.
///
/// It connects lazily, so a service starts while Redis is down; each check
/// is bounded by a timeout (250 ms by default), and after a failure checks
/// fail at once for a backoff (1 s by default); then the
/// [`FailMode`](crate::FailMode) given to
/// [`TenantLimits::shared`](crate::TenantLimits::shared) decides, and every
/// failure is counted, logged and (at most once per period) audited, as
/// [`FailMode`](crate::FailMode) describes. Keys expire once a tenant is
/// back at full burst, so idle tenants cost no memory.
///
/// ```no_run
/// use std::sync::Arc;
/// use tenancy_admission::{FailMode, RedisRateStore, TenantLimits};
///
/// # let audit: Arc<dyn tenancy_core::AuditSink> = Arc::new(tenancy_core::MemoryAuditSink::default());
/// let store = RedisRateStore::new("redis://127.0.0.1:6379")?.with_prefix("leases:rate");
/// // Store failures go to the admission's audit sink, at most once a minute.
/// let limits = TenantLimits::shared(Arc::new(store), FailMode::Open).audit(Arc::clone(&audit));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RedisRateStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    /// After a failure, checks fail at once until this many nanoseconds past
    /// `epoch`, so a down store costs one timeout per `backoff`, not one per
    /// request.
    down_until: AtomicU64,
    backoff: Duration,
    epoch: Instant,
}

impl std::fmt::Debug for RedisRateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisRateStore {
    /// A store at `url` (`redis://host:port/db`); nothing is contacted yet.
    pub fn new(url: &str) -> Result<Self, Error> {
        let client = redis::Client::open(url).map_err(|e| Error::LimitStore(Box::new(e)))?;
        Ok(RedisRateStore {
            client,
            connection: OnceCell::new(),
            script: redis::Script::new(COMPARE_AND_SET),
            prefix: "tenancy:rate".to_owned(),
            timeout: Duration::from_millis(250),
            down_until: AtomicU64::new(0),
            backoff: Duration::from_secs(1),
            epoch: Instant::now(),
        })
    }

    /// The prefix of every key (`{prefix}:{tenant id}`); default `tenancy:rate`.
    #[must_use]
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        prefix.clone_into(&mut self.prefix);
        self
    }

    /// The longest a check may take before it counts as a store failure.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long checks fail at once after the store failed (default 1 s).
    #[must_use]
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    fn elapsed_nanos(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The key holding `tenant`'s state.
    pub fn key(&self, tenant: TenantId) -> String {
        format!("{}:{tenant}", self.prefix)
    }

    async fn connection(&self) -> Result<ConnectionManager, Error> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        self.connection
            .get_or_try_init(|| self.client.get_connection_manager_with_config(config))
            .await
            .cloned()
            .map_err(|e| Error::LimitStore(Box::new(e)))
    }

    /// One step, within the timeout, failing at once during a backoff.
    async fn check_bounded(
        &self,
        tenant: TenantId,
        quota: &RateQuota,
    ) -> Result<RateDecision, Error> {
        if self.elapsed_nanos() < self.down_until.load(Ordering::Relaxed) {
            return Err(Error::LimitStore(
                "limit store marked down after a failure".into(),
            ));
        }
        let result = tokio::time::timeout(self.timeout, self.step(tenant, quota))
            .await
            .map_err(|e| Error::LimitStore(Box::new(e)))
            .and_then(|r| r);
        if result.is_err() {
            let backoff = u64::try_from(self.backoff.as_nanos()).unwrap_or(u64::MAX);
            self.down_until.store(
                self.elapsed_nanos().saturating_add(backoff),
                Ordering::Relaxed,
            );
        }
        result
    }

    async fn step(&self, tenant: TenantId, quota: &RateQuota) -> Result<RateDecision, Error> {
        let failed = |e: redis::RedisError| Error::LimitStore(Box::new(e));
        let mut connection = self.connection().await?;
        let key = self.key(tenant);
        for _ in 0..ATTEMPTS {
            let ((seconds, micros), stored): ((u64, u64), Option<String>) = redis::pipe()
                .cmd("TIME")
                .cmd("GET")
                .arg(&key)
                .query_async(&mut connection)
                .await
                .map_err(failed)?;
            let now = seconds
                .saturating_mul(1_000_000_000)
                .saturating_add(micros.saturating_mul(1_000));
            let tat = match stored.as_deref().map(str::parse::<u64>) {
                None => None,
                Some(Ok(tat)) => Some(tat),
                Some(Err(e)) => return Err(Error::LimitStore(Box::new(e))),
            };
            let (decision, next) = gcra_step(tat, quota, now);
            if decision != RateDecision::Allowed {
                return Ok(decision);
            }
            // The key lives until the tenant is back at full burst.
            let ttl_ms = (next - now).div_ceil(1_000_000) + 1;
            let set: i64 = self
                .script
                .key(&key)
                .arg(stored.unwrap_or_default())
                .arg(next)
                .arg(ttl_ms)
                .invoke_async(&mut connection)
                .await
                .map_err(failed)?;
            if set == 1 {
                return Ok(decision);
            }
        }
        Err(Error::LimitStore(
            "the tenant's key kept changing under the compare-and-set".into(),
        ))
    }
}

impl RateStore for RedisRateStore {
    /// One step on Redis's clock; `now` is not used.
    fn check<'a>(
        &'a self,
        tenant: TenantId,
        quota: &'a RateQuota,
        _now: Duration,
    ) -> RateCheck<'a> {
        RateCheck::later(self.check_bounded(tenant, quota))
    }
}
