//! Per-tenant rate and concurrency limits: tenancy-admission's, which the
//! layer's admission applies.

#[cfg(feature = "redis")]
pub use tenancy_admission::RedisRateStore;
pub use tenancy_admission::{FailMode, RateStore, TenantLimits};
