//! What every handler shares.

use std::ops::Deref;
use std::sync::Arc;

use tenancy_axum::{TenantCache, TenantLimits};
use tenancy_core::RoleRegistry;

use crate::auth::Tokens;
use crate::client_limit::ClientLimit;
use crate::config::Config;
use crate::db::Db;
use crate::jobs::JobQueue;
use crate::page::CursorKey;

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
pub struct Inner {
    /// The database.
    pub db: Db,
    /// The tenancy layer's tenant cache: invalidated on every status change,
    /// so a suspension or decommissioning bites at once.
    pub tenants: Arc<TenantCache>,
    /// The tenancy layer's per-tenant limits; also tells how many requests
    /// of a tenant are in flight.
    pub limits: Arc<TenantLimits>,
    /// Token verification and issuing.
    pub tokens: Tokens,
    /// The built-in roles every tenant knows.
    pub roles: RoleRegistry,
    /// The background job queue.
    pub jobs: JobQueue,
    /// The settings it started with.
    pub config: Config,
    /// Seals list cursors.
    pub cursors: CursorKey,
    /// The per-client-address limit of the public `POST /auth/redeem`.
    pub client_limit: ClientLimit,
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
