//! What every handler shares.

use std::ops::Deref;
use std::sync::Arc;

use tenancy_axum::{TenantCache, TenantLimits};
use tenancy_core::RoleRegistry;

use super::client_limit::ClientLimit;
use super::cursor::CursorKey;
use crate::infra::config::Config;
use crate::infra::db::Db;
use crate::infra::jobs::JobQueue;
use crate::infra::tokens::Tokens;

/// Shared state; cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
pub(crate) struct Inner {
    /// The database.
    pub(crate) db: Db,
    /// The tenancy layer's tenant cache: invalidated on every status change,
    /// so a suspension or decommissioning bites at once.
    pub(crate) tenants: Arc<TenantCache>,
    /// The tenancy layer's per-tenant limits; also tells how many requests
    /// of a tenant are in flight.
    pub(crate) limits: Arc<TenantLimits>,
    /// Token verification and issuing.
    pub(crate) tokens: Tokens,
    /// The built-in roles every tenant knows.
    pub(crate) roles: RoleRegistry,
    /// The background job queue.
    pub(crate) jobs: JobQueue,
    /// The settings it started with.
    pub(crate) config: Config,
    /// Seals list cursors.
    pub(crate) cursors: CursorKey,
    /// The per-client-address limit of the public `POST /auth/redeem`.
    pub(crate) client_limit: ClientLimit,
}

impl AppState {
    /// Wraps the parts.
    pub(crate) fn new(inner: Inner) -> Self {
        AppState(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
