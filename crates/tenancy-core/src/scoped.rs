//! Values bound to the tenant that owns them.

use std::collections::BTreeMap;
use std::fmt;

use crate::context::TenantContext;
use crate::error::AccessError;
use crate::id::TenantId;

/// A value bound to the tenant that owns it.
///
/// There is no `Deref` and no public field: the value comes out only through
/// [`open`] or [`into_inner`] under a context of the same tenant (or a system
/// context that acts for it). Derived values keep the tenant ([`map`]), and
/// combining values of two tenants ([`zip`], [`merge`]) is an error, so an
/// output can never mix tenants.
///
/// ```
/// use tenancy_core::*;
///
/// let acme = TenantContext::tenant(TenantId::from_u128(1), SubjectId::from_u128(1), RoleName::member(), PermissionSet::empty());
/// let globex = TenantContext::tenant(TenantId::from_u128(2), SubjectId::from_u128(2), RoleName::member(), PermissionSet::empty());
///
/// let rent = Scoped::new(&acme, 1200_u32)?;
/// assert_eq!(rent.open(&acme)?, &1200);
/// assert_eq!(rent.open(&globex), Err(AccessError::CrossTenant));
/// let doubled = rent.map(|r| r * 2);
/// assert_eq!(doubled.into_inner(&acme)?, 2400);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`open`]: Scoped::open
/// [`into_inner`]: Scoped::into_inner
/// [`map`]: Scoped::map
/// [`zip`]: Scoped::zip
/// [`merge`]: Scoped::merge
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Scoped<T> {
    tenant: TenantId,
    value: T,
}

impl<T> Scoped<T> {
    /// Binds `value` to the context's tenant.
    pub fn new(ctx: &TenantContext, value: T) -> Result<Self, AccessError> {
        Ok(Scoped {
            tenant: ctx.require_tenant()?,
            value,
        })
    }

    /// Binds `value`, read from storage or a queue where its owner is
    /// recorded next to it, to that owner: only under a context of the same
    /// tenant (or a system context acting for it). A value recorded for
    /// another tenant is [`AccessError::CrossTenant`], so a `Scoped` value
    /// is only ever created from a context that may open it.
    ///
    /// ```
    /// use tenancy_core::*;
    ///
    /// let acme = TenantContext::tenant(TenantId::from_u128(1), SubjectId::from_u128(1), RoleName::member(), PermissionSet::empty());
    /// let stored_owner = TenantId::from_u128(1);
    /// let lease = Scoped::restore(&acme, stored_owner, "Unit 4B")?;
    /// assert_eq!(lease.tenant(), stored_owner);
    /// assert_eq!(Scoped::restore(&acme, TenantId::from_u128(2), "theirs").unwrap_err(), AccessError::CrossTenant);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restore(ctx: &TenantContext, owner: TenantId, value: T) -> Result<Self, AccessError> {
        let scoped = Scoped {
            tenant: owner,
            value,
        };
        scoped.check(ctx)?;
        Ok(scoped)
    }

    /// The owning tenant.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    fn check(&self, ctx: &TenantContext) -> Result<(), AccessError> {
        match ctx.tenant_id() {
            Some(t) if t == self.tenant => Ok(()),
            Some(_) => Err(AccessError::CrossTenant),
            None => Err(AccessError::NoTenant),
        }
    }

    /// Borrows the value under a context of the owning tenant.
    pub fn open(&self, ctx: &TenantContext) -> Result<&T, AccessError> {
        self.check(ctx)?;
        Ok(&self.value)
    }

    /// Mutably borrows the value under a context of the owning tenant.
    pub fn open_mut(&mut self, ctx: &TenantContext) -> Result<&mut T, AccessError> {
        self.check(ctx)?;
        Ok(&mut self.value)
    }

    /// Takes the value out under a context of the owning tenant.
    pub fn into_inner(self, ctx: &TenantContext) -> Result<T, AccessError> {
        self.check(ctx)?;
        Ok(self.value)
    }

    /// Derives a value that stays bound to the same tenant.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Scoped<U> {
        Scoped {
            tenant: self.tenant,
            value: f(self.value),
        }
    }

    /// Like [`map`](Self::map), for a fallible derivation.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Scoped<U>, E> {
        Ok(Scoped {
            tenant: self.tenant,
            value: f(self.value)?,
        })
    }

    /// Borrows the value, still bound.
    pub fn as_ref(&self) -> Scoped<&T> {
        Scoped {
            tenant: self.tenant,
            value: &self.value,
        }
    }

    /// Pairs two values of the same tenant; errs across tenants.
    pub fn zip<U>(self, other: Scoped<U>) -> Result<Scoped<(T, U)>, AccessError> {
        self.merge(other, |a, b| (a, b))
    }

    /// Combines two values of the same tenant; errs across tenants.
    pub fn merge<U, V>(
        self,
        other: Scoped<U>,
        f: impl FnOnce(T, U) -> V,
    ) -> Result<Scoped<V>, AccessError> {
        if self.tenant != other.tenant {
            return Err(AccessError::CrossTenant);
        }
        Ok(Scoped {
            tenant: self.tenant,
            value: f(self.value, other.value),
        })
    }
}

impl<T> Scoped<Vec<T>> {
    /// Collects values of one tenant; errs if any belongs to another tenant
    /// than `tenant`.
    pub fn collect_for(
        tenant: TenantId,
        items: impl IntoIterator<Item = Scoped<T>>,
    ) -> Result<Self, AccessError> {
        let mut values = Vec::new();
        for item in items {
            if item.tenant != tenant {
                return Err(AccessError::CrossTenant);
            }
            values.push(item.value);
        }
        Ok(Scoped {
            tenant,
            value: values,
        })
    }
}

/// Groups bound values by tenant: one `Scoped<Vec<T>>` per tenant, in tenant
/// order, so per-tenant outputs can be derived without ever mixing tenants.
///
/// ```
/// use tenancy_core::*;
///
/// let ctx = |t| TenantContext::tenant(TenantId::from_u128(t), SubjectId::from_u128(1), RoleName::member(), PermissionSet::empty());
/// let (a, b) = (ctx(1), ctx(2));
/// let groups = group_by_tenant([Scoped::new(&a, 1)?, Scoped::new(&b, 5)?, Scoped::new(&a, 2)?]);
/// let totals: Vec<_> = groups.into_iter().map(|g| g.map(|v| v.iter().sum::<i32>())).collect();
/// assert_eq!(totals.len(), 2);
/// assert_eq!(totals[0].tenant(), TenantId::from_u128(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn group_by_tenant<T>(items: impl IntoIterator<Item = Scoped<T>>) -> Vec<Scoped<Vec<T>>> {
    let mut groups: BTreeMap<TenantId, Vec<T>> = BTreeMap::new();
    for item in items {
        groups.entry(item.tenant).or_default().push(item.value);
    }
    groups
        .into_iter()
        .map(|(tenant, value)| Scoped { tenant, value })
        .collect()
}

impl<T> fmt::Debug for Scoped<T> {
    /// Shows the owner, never the value: debug output ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoped")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DiscardAuditSink, PermissionSet, RoleName, SubjectId};
    use proptest::prelude::*;

    fn ctx(tenant: u128) -> TenantContext {
        TenantContext::tenant(
            TenantId::from_u128(tenant),
            SubjectId::from_u128(1),
            RoleName::member(),
            PermissionSet::empty(),
        )
    }

    #[test]
    fn unbound_system_context_cannot_open() {
        let op = TenantContext::system(
            SubjectId::from_u128(9),
            RoleName::platform_admin(),
            PermissionSet::all(),
        );
        let v = Scoped::new(&ctx(1), 5).unwrap();
        assert_eq!(v.open(&op), Err(AccessError::NoTenant));
        assert_eq!(
            Scoped::restore(&op, TenantId::from_u128(1), 5),
            Err(AccessError::NoTenant)
        );
        assert!(Scoped::new(&op, 5).is_err());
        let acting = op
            .act_for_tenant(TenantId::from_u128(1), "support", &DiscardAuditSink)
            .unwrap();
        assert_eq!(v.open(&acting), Ok(&5));
    }

    #[test]
    fn restoring_a_value_recorded_for_another_tenant_is_refused() {
        let theirs = TenantId::from_u128(2);
        assert_eq!(
            Scoped::restore(&ctx(1), theirs, "their lease"),
            Err(AccessError::CrossTenant)
        );
        let ours = Scoped::restore(&ctx(2), theirs, "their lease").unwrap();
        assert_eq!(ours.open(&ctx(2)), Ok(&"their lease"));
    }

    #[test]
    fn debug_output_hides_the_value() {
        let v = Scoped::new(&ctx(1), "secret lease terms").unwrap();
        assert!(!format!("{v:?}").contains("secret"));
    }

    #[test]
    fn collect_for_refuses_a_foreign_item() {
        let a = TenantId::from_u128(1);
        let items = vec![
            Scoped::new(&ctx(1), 1).unwrap(),
            Scoped::new(&ctx(2), 2).unwrap(),
        ];
        assert_eq!(
            Scoped::collect_for(a, items).unwrap_err(),
            AccessError::CrossTenant
        );
    }

    /// An operation on bound values; the tenant of each is drawn from 1..=4.
    #[derive(Debug, Clone)]
    enum Op {
        Map,
        Zip(usize, usize),
        Group,
    }

    proptest! {
        #[test]
        fn open_under_other_tenant_fails(owner in 1u128..50, other in 1u128..50, value: u64) {
            let v = Scoped::new(&ctx(owner), value).unwrap();
            if owner == other {
                prop_assert_eq!(v.open(&ctx(other)), Ok(&value));
            } else {
                prop_assert_eq!(v.open(&ctx(other)), Err(AccessError::CrossTenant));
                prop_assert_eq!(v.into_inner(&ctx(other)), Err(AccessError::CrossTenant));
            }
        }

        /// Values carry the set of tenants they were derived from; no sequence
        /// of map, zip and group yields a value derived from two tenants.
        #[test]
        fn derived_values_never_mix_tenants(
            owners in prop::collection::vec(1u128..=4, 1..8),
            ops in prop::collection::vec(
                prop_oneof![Just(Op::Map), (0usize..16, 0usize..16).prop_map(|(a, b)| Op::Zip(a, b)), Just(Op::Group)],
                0..20,
            ),
        ) {
            let mut pool: Vec<Scoped<Vec<u128>>> =
                owners.iter().map(|&o| Scoped::new(&ctx(o), vec![o]).unwrap()).collect();
            for op in ops {
                match op {
                    Op::Map => pool = pool.into_iter().map(|s| s.map(|mut v| { v.push(v[0]); v })).collect(),
                    Op::Zip(i, j) => {
                        let (i, j) = (i % pool.len(), j % pool.len());
                        let zipped = pool[i].clone().merge(pool[j].clone(), |mut a, b| { a.extend(b); a });
                        match zipped {
                            Ok(z) => pool.push(z),
                            Err(e) => prop_assert_eq!(e, AccessError::CrossTenant),
                        }
                    }
                    Op::Group => {
                        pool = group_by_tenant(pool)
                            .into_iter()
                            .map(|g| g.map(|vs| vs.into_iter().flatten().collect()))
                            .collect();
                    }
                }
            }
            for s in pool {
                let t = s.tenant();
                let origins = s.into_inner(&ctx(t.as_u128())).unwrap();
                prop_assert!(origins.iter().all(|&o| o == t.as_u128()));
            }
        }
    }
}
