//! What every handler shares.

use std::ops::Deref;
use std::sync::Arc;

use tenancy_core::{ConcurrencyLimiter, MemoryLimitStore, RateLimiter, RoleRegistry, SystemClock};

use crate::auth::Tokens;
use crate::config::Config;
use crate::db::Db;
use crate::jobs::JobQueue;
use crate::tenants::Directory;

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
pub struct Inner {
    /// The database.
    pub db: Db,
    /// Tenants, their status and plan, cached briefly.
    pub directory: Directory,
    /// Token verification and issuing.
    pub tokens: Tokens,
    /// The roles every tenant knows (the built-ins) and the platform's.
    pub roles: RoleRegistry,
    /// Requests per second, per tenant, from its plan.
    pub rate: RateLimiter<MemoryLimitStore, SystemClock>,
    /// Requests in flight, per tenant, from its plan.
    pub concurrency: ConcurrencyLimiter,
    /// The background job queue.
    pub jobs: JobQueue,
    /// The settings it started with.
    pub config: Config,
}

impl AppState {
    /// Wraps the parts.
    pub fn new(inner: Inner) -> Self {
        AppState(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
