//! A tenant directory held in memory.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use tenancy_core::{TenantId, TenantSlug, TenantStatus};

use super::{TenantDirectory, TenantRecord};
use crate::error::Error;

/// Tenants held in memory: for tests, demos and services whose tenants come
/// from configuration.
///
/// ```
/// use tenancy_admission::{MemoryDirectory, TenantRecord};
/// use tenancy_core::*;
///
/// let dir = MemoryDirectory::new();
/// let plan = Plan::new("free", RateQuota::per_second(10, 20), 4);
/// let acme = TenantId::from_u128(1);
/// dir.insert(TenantRecord::new(acme, "acme".parse()?, TenantStatus::Active, plan.entitlements(&PlanOverrides::default())));
/// dir.set_status(acme, TenantStatus::Suspended);
/// assert_eq!(dir.get(acme).map(|r| r.status), Some(TenantStatus::Suspended));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    tenants: RwLock<HashMap<TenantId, Arc<TenantRecord>>>,
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        MemoryDirectory::default()
    }

    /// Adds or replaces a tenant.
    pub fn insert(&self, record: TenantRecord) {
        self.tenants
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(record.id, Arc::new(record));
    }

    /// Changes a tenant's status; returns false when there is no such tenant.
    pub fn set_status(&self, id: TenantId, status: TenantStatus) -> bool {
        let mut tenants = self.tenants.write().unwrap_or_else(PoisonError::into_inner);
        match tenants.get_mut(&id) {
            Some(record) => {
                Arc::make_mut(record).status = status;
                true
            }
            None => false,
        }
    }

    /// Removes a tenant.
    pub fn remove(&self, id: TenantId) -> Option<Arc<TenantRecord>> {
        self.tenants
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id)
    }

    /// The tenant with this id.
    pub fn get(&self, id: TenantId) -> Option<Arc<TenantRecord>> {
        self.tenants
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }
}

#[async_trait::async_trait]
impl TenantDirectory for MemoryDirectory {
    async fn by_id(&self, id: TenantId) -> Result<Option<Arc<TenantRecord>>, Error> {
        Ok(self.get(id))
    }

    async fn by_slug(&self, slug: &TenantSlug) -> Result<Option<Arc<TenantRecord>>, Error> {
        Ok(self
            .tenants
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .find(|r| &r.slug == slug)
            .cloned())
    }
}

/// Not used by the admission, but handy for callers that seed a directory.
impl FromIterator<TenantRecord> for MemoryDirectory {
    fn from_iter<I: IntoIterator<Item = TenantRecord>>(iter: I) -> Self {
        let dir = MemoryDirectory::new();
        for record in iter {
            dir.insert(record);
        }
        dir
    }
}

impl MemoryDirectory {
    /// How many tenants have this status.
    pub fn count_with_status(&self, status: TenantStatus) -> usize {
        self.tenants
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|r| r.status == status)
            .count()
    }
}
