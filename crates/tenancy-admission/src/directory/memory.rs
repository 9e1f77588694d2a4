//! A tenant directory held in memory.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use tenancy_core::{TenantId, TenantSlug, TenantStatus};

use super::{TenantDirectory, TenantRecord};
use crate::error::Error;

/// Tenants held in memory: for tests, demos and services whose tenants come
/// from configuration. Finding a tenant by id or by slug takes the same time
/// however many tenants it holds.
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
    tenants: RwLock<Tenants>,
}

#[derive(Debug, Default)]
struct Tenants {
    by_id: HashMap<TenantId, Arc<TenantRecord>>,
    // INVARIANT: a slug is here exactly when a record of `by_id` has it,
    // with one of those records and how many there are (a directory should
    // not give two tenants one slug, but this one does not refuse it).
    by_slug: HashMap<TenantSlug, (TenantId, usize)>,
}

impl Tenants {
    fn insert(&mut self, record: Arc<TenantRecord>) {
        let (id, slug) = (record.id, record.slug.clone());
        if let Some(previous) = self.by_id.insert(id, record) {
            self.unindex(&previous.slug, id);
        }
        self.by_slug
            .entry(slug)
            .and_modify(|(holder, count)| {
                *holder = id;
                *count += 1;
            })
            .or_insert((id, 1));
    }

    fn remove(&mut self, id: TenantId) -> Option<Arc<TenantRecord>> {
        let removed = self.by_id.remove(&id)?;
        self.unindex(&removed.slug, id);
        Some(removed)
    }

    /// Forgets that `id` (no longer in `by_id` under `slug`) had `slug`.
    fn unindex(&mut self, slug: &TenantSlug, id: TenantId) {
        let Some((holder, count)) = self.by_slug.get_mut(slug) else {
            return;
        };
        *count -= 1;
        if *count == 0 {
            self.by_slug.remove(slug);
        } else if *holder == id {
            // Another tenant has the slug too: only then is it looked for.
            if let Some(other) = self.by_id.values().find(|r| &r.slug == slug) {
                *holder = other.id;
            }
        }
    }
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        MemoryDirectory::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Tenants> {
        self.tenants.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Tenants> {
        self.tenants.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds or replaces a tenant.
    pub fn insert(&self, record: TenantRecord) {
        self.write().insert(Arc::new(record));
    }

    /// Changes a tenant's status; returns false when there is no such tenant.
    pub fn set_status(&self, id: TenantId, status: TenantStatus) -> bool {
        match self.write().by_id.get_mut(&id) {
            Some(record) => {
                Arc::make_mut(record).status = status;
                true
            }
            None => false,
        }
    }

    /// Removes a tenant.
    pub fn remove(&self, id: TenantId) -> Option<Arc<TenantRecord>> {
        self.write().remove(id)
    }

    /// The tenant with this id.
    pub fn get(&self, id: TenantId) -> Option<Arc<TenantRecord>> {
        self.read().by_id.get(&id).cloned()
    }

    /// The tenant with this slug.
    fn get_by_slug(&self, slug: &TenantSlug) -> Option<Arc<TenantRecord>> {
        let tenants = self.read();
        let (id, _) = tenants.by_slug.get(slug)?;
        tenants.by_id.get(id).cloned()
    }
}

#[async_trait::async_trait]
impl TenantDirectory for MemoryDirectory {
    async fn by_id(&self, id: TenantId) -> Result<Option<Arc<TenantRecord>>, Error> {
        Ok(self.get(id))
    }

    async fn by_slug(&self, slug: &TenantSlug) -> Result<Option<Arc<TenantRecord>>, Error> {
        Ok(self.get_by_slug(slug))
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
        self.read()
            .by_id
            .values()
            .filter(|r| r.status == status)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenancy_core::{Plan, PlanOverrides, RateQuota};

    fn record(i: u128, slug: &str) -> TenantRecord {
        let plan = Plan::new("free", RateQuota::per_second(10, 10), 2);
        TenantRecord::new(
            TenantId::from_u128(i),
            slug.parse().unwrap(),
            TenantStatus::Active,
            plan.entitlements(&PlanOverrides::default()),
        )
    }

    fn by_slug(dir: &MemoryDirectory, slug: &str) -> Option<u128> {
        dir.get_by_slug(&slug.parse().unwrap())
            .map(|r| r.id.as_u128())
    }

    #[test]
    fn a_slug_finds_its_tenant_through_inserts_renames_and_removals() {
        let dir = MemoryDirectory::new();
        dir.insert(record(1, "acme"));
        dir.insert(record(2, "globex"));
        assert_eq!(by_slug(&dir, "acme"), Some(1));
        // A new slug for tenant 1 frees the old one.
        dir.insert(record(1, "acme-corp"));
        assert_eq!(by_slug(&dir, "acme"), None);
        assert_eq!(by_slug(&dir, "acme-corp"), Some(1));
        dir.set_status(TenantId::from_u128(1), TenantStatus::Suspended);
        assert_eq!(by_slug(&dir, "acme-corp"), Some(1));
        dir.remove(TenantId::from_u128(1));
        assert_eq!(by_slug(&dir, "acme-corp"), None);
        assert_eq!(by_slug(&dir, "globex"), Some(2));
    }

    #[test]
    fn a_slug_two_tenants_share_finds_one_of_them_until_both_are_gone() {
        let dir = MemoryDirectory::new();
        dir.insert(record(1, "acme"));
        dir.insert(record(2, "acme"));
        assert!(matches!(by_slug(&dir, "acme"), Some(1 | 2)));
        dir.remove(TenantId::from_u128(2));
        assert_eq!(by_slug(&dir, "acme"), Some(1));
        dir.insert(record(2, "acme"));
        dir.remove(TenantId::from_u128(1));
        assert_eq!(by_slug(&dir, "acme"), Some(2));
        dir.remove(TenantId::from_u128(2));
        assert_eq!(by_slug(&dir, "acme"), None);
    }
}
