//! The admission decision of a multi-tenant service, for any transport: the
//! tenant directory and its cache, and each tenant's rate and concurrency
//! limits.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---------|--------------|
//! | `redis` | `RedisRateStore`: the GCRA rate limit in Redis, shared by every instance |
//! | `metrics` | the `tenancy_limit_store_failures_total{mode="open\|closed"}` counter through the `metrics` facade |

#![forbid(unsafe_code)]

mod directory;
mod error;
mod limits;

pub use directory::{MemoryDirectory, TenantCache, TenantDirectory, TenantRecord};
pub use error::{BoxError, Error, Result};
#[cfg(feature = "redis")]
pub use limits::RedisRateStore;
pub use limits::{FailMode, SharedRateStore, TenantLimits};
