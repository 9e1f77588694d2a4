//! Where the admission learns a tenant's status, plan and roles.

mod cache;
mod memory;

use std::sync::{Arc, LazyLock};

use tenancy_core::{Entitlements, RoleRegistry, TenantId, TenantSlug, TenantStatus};

use crate::error::Error;

pub use cache::TenantCache;
pub use memory::MemoryDirectory;

/// What the admission needs to know about one tenant.
#[derive(Debug, Clone)]
pub struct TenantRecord {
    /// The tenant.
    pub id: TenantId,
    /// Its slug, for host and path resolution.
    pub slug: TenantSlug,
    /// Where it is in its lifecycle; only active tenants are served.
    pub status: TenantStatus,
    /// Its plan after overrides: rate, concurrency, features, quotas.
    pub entitlements: Entitlements,
    /// Its roles: the built-ins plus its own.
    pub roles: Arc<RoleRegistry>,
}

/// The built-in roles, built once for the process and shared by every
/// record that has no roles of its own: a registry takes about 5 KB, and a
/// service may know a million tenants.
fn builtin_roles() -> Arc<RoleRegistry> {
    static BUILTINS: LazyLock<Arc<RoleRegistry>> =
        LazyLock::new(|| Arc::new(RoleRegistry::with_builtins()));
    Arc::clone(&BUILTINS)
}

impl TenantRecord {
    /// A record with the built-in roles (one registry shared by all such
    /// records; a registry is never changed behind its `Arc`).
    pub fn new(
        id: TenantId,
        slug: TenantSlug,
        status: TenantStatus,
        entitlements: Entitlements,
    ) -> Self {
        TenantRecord {
            id,
            slug,
            status,
            entitlements,
            roles: builtin_roles(),
        }
    }

    /// Replaces the role registry.
    #[must_use]
    pub fn with_roles(mut self, roles: Arc<RoleRegistry>) -> Self {
        self.roles = roles;
        self
    }
}

/// The source of truth for tenants: a table, a control-plane API, a file.
///
/// The admission calls it only on a cache miss (see [`TenantCache`]); an
/// implementation may be slow but must not block the thread.
#[async_trait::async_trait]
pub trait TenantDirectory: Send + Sync {
    /// The tenant with this id, or `None` when there is none.
    async fn by_id(&self, id: TenantId) -> Result<Option<Arc<TenantRecord>>, Error>;

    /// The tenant with this slug, or `None` when there is none.
    async fn by_slug(&self, slug: &TenantSlug) -> Result<Option<Arc<TenantRecord>>, Error>;
}

#[async_trait::async_trait]
impl<D: TenantDirectory + ?Sized> TenantDirectory for Arc<D> {
    async fn by_id(&self, id: TenantId) -> Result<Option<Arc<TenantRecord>>, Error> {
        (**self).by_id(id).await
    }

    async fn by_slug(&self, slug: &TenantSlug) -> Result<Option<Arc<TenantRecord>>, Error> {
        (**self).by_slug(slug).await
    }
}
