//! Per-tenant limits as pure algorithms over an injectable
//! [`MonotonicClock`](crate::MonotonicClock).
//!
//! - [`gcra_step`]: the generic cell rate algorithm, written once; stores
//!   only make it atomic per tenant.
//! - [`RateLimiter`]: GCRA, each tenant with its own [`RateQuota`], state in
//!   a bounded [`MemoryLimitStore`] (in this process; tenancy-admission's
//!   `RedisRateStore` runs the same step for several instances).
//! - [`ConcurrencyLimiter`]: at most N requests in flight per tenant; the
//!   permit releases on drop.
//! - [`QuotaCounter`]: counters with ceilings (storage, AI usage).

mod concurrency;
mod gcra;
mod quota;
mod store;

pub use concurrency::{ConcurrencyLimiter, ConcurrencyPermit};
pub use gcra::{RateDecision, RateLimiter, RateQuota, gcra_step};
pub use quota::QuotaCounter;
pub use store::MemoryLimitStore;
