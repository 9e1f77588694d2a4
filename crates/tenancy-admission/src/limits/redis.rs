//! The GCRA rate limit in Redis, shared by every instance of a service.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tenancy_core::{RateDecision, RateQuota, TenantId};
use tokio::sync::OnceCell;

use super::SharedRateStore;
use crate::error::Error;

/// One GCRA step, atomically, on Redis's own clock (so instances with skewed
/// clocks still share one budget). Times are microseconds: Lua numbers are
/// doubles, exact only up to 2^53.
///
/// KEYS[1]: the tenant's key. ARGV[1]: interval (µs). ARGV[2]: tolerance (µs).
/// Returns `{1, 0}` when allowed, `{0, retry_after_us}` when limited.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local ahead = tat - now
if ahead > tolerance then
  return {0, ahead - tolerance}
end
local new_tat = tat + interval
local ttl_ms = math.ceil((new_tat - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
return {1, 0}
";

/// A [`SharedRateStore`] in Redis, running GCRA as a Lua script.
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
            script: redis::Script::new(GCRA),
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

    async fn step(&self, tenant: TenantId, quota: &RateQuota) -> Result<RateDecision, Error> {
        let mut connection = self.connection().await?;
        let interval = u64::try_from(quota.interval().as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let tolerance = interval.saturating_mul(u64::from(quota.burst().saturating_sub(1)));
        let (allowed, retry_us): (i64, i64) = self
            .script
            .key(self.key(tenant))
            .arg(interval)
            .arg(tolerance)
            .invoke_async(&mut connection)
            .await
            .map_err(|e| Error::LimitStore(Box::new(e)))?;
        if allowed == 1 {
            Ok(RateDecision::Allowed)
        } else {
            let micros = u64::try_from(retry_us).unwrap_or(0);
            Ok(RateDecision::Limited {
                retry_after: Duration::from_micros(micros),
            })
        }
    }
}

#[async_trait::async_trait]
impl SharedRateStore for RedisRateStore {
    async fn check(&self, tenant: TenantId, quota: &RateQuota) -> Result<RateDecision, Error> {
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
}
