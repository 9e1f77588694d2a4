//! Shared fixtures for the tenancy benches: the RBAC-with-domains workload the
//! decision benches run on, built once so every contender sees the same data.

use tenancy_core::{
    CompiledPermissions, Permission, PermissionBit, PermissionCatalog, PermissionSet, RoleName,
    SubjectId, TenantContext, TenantId,
};

/// Tenants in the workload.
pub const TENANTS: usize = 10;
/// Roles per tenant.
pub const ROLES: usize = 5;
/// Permissions each role grants.
pub const PERMISSIONS_PER_ROLE: usize = 20;
/// Users, spread over tenants and roles.
pub const USERS: usize = 100;
/// Distinct concrete permissions in the catalogue.
pub const CATALOG: usize = 40;

/// The `i`-th catalogued permission as `(resource, action)`.
pub fn permission_parts(i: usize) -> (String, String) {
    (format!("res{}", i / 4), format!("act{}", i % 4))
}

/// The catalogue indices role `r` grants (the same in every tenant).
pub fn role_grants(r: usize) -> impl Iterator<Item = usize> {
    (0..PERMISSIONS_PER_ROLE).map(move |k| (r * 5 + k) % CATALOG)
}

/// The tenant and role of user `u`.
pub fn user_assignment(u: usize) -> (usize, usize) {
    (u % TENANTS, (u / TENANTS) % ROLES)
}

/// One authorization question: may `user` do `permission` on a resource of `tenant`?
#[derive(Debug, Clone, Copy)]
pub struct Query {
    /// Index of the user.
    pub user: usize,
    /// Index of the tenant owning the resource.
    pub tenant: usize,
    /// Index of the permission in the catalogue.
    pub permission: usize,
}

/// A deterministic mix of allowed, denied and cross-tenant questions.
pub fn queries(n: usize) -> Vec<Query> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let user = (next() % USERS as u64) as usize;
            // One question in five asks about another tenant's resource.
            let own = user_assignment(user).0;
            let tenant = if next() % 5 == 0 {
                (own + 1) % TENANTS
            } else {
                own
            };
            let permission = (next() % CATALOG as u64) as usize;
            Query {
                user,
                tenant,
                permission,
            }
        })
        .collect()
}

/// A user as the tenancy SDK sees one after authentication.
#[derive(Debug)]
pub struct User {
    /// The request context.
    pub ctx: TenantContext,
    /// The role's permissions compiled against the catalogue.
    pub compiled: CompiledPermissions,
}

/// The workload in tenancy-core's terms.
#[derive(Debug)]
pub struct Workload {
    /// Tenant ids by index.
    pub tenants: Vec<TenantId>,
    /// Users by index.
    pub users: Vec<User>,
    /// Catalogue bits by permission index.
    pub bits: Vec<PermissionBit>,
    /// Permissions by index.
    pub permissions: Vec<Permission>,
}

/// Builds the workload; the fixture is fixed, so failures are bugs in it.
pub fn workload() -> Result<Workload, Box<dyn std::error::Error>> {
    let permissions: Vec<Permission> = (0..CATALOG)
        .map(|i| {
            let (r, a) = permission_parts(i);
            Permission::parse(&format!("{r}:{a}"))
        })
        .collect::<Result<_, _>>()?;
    let catalog = PermissionCatalog::new(permissions.iter().cloned())?;
    let bits = permissions
        .iter()
        .map(|p| catalog.bit(p).ok_or("uncatalogued permission"))
        .collect::<Result<_, _>>()?;
    let tenants: Vec<TenantId> = (0..TENANTS)
        .map(|t| TenantId::from_u128(0x1000 + t as u128))
        .collect();
    let role_sets: Vec<PermissionSet> = (0..ROLES)
        .map(|r| PermissionSet::from_grants(role_grants(r).map(|i| permissions[i].clone())))
        .collect();
    let users = (0..USERS)
        .map(|u| {
            let (t, r) = user_assignment(u);
            let set = role_sets[r].clone();
            let compiled = catalog.compile(&set);
            let role = RoleName::parse(&format!("role{r}"))?;
            let ctx = TenantContext::tenant(tenants[t], SubjectId::from_u128(u as u128), role, set);
            Ok(User { ctx, compiled })
        })
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    Ok(Workload {
        tenants,
        users,
        bits,
        permissions,
    })
}

/// The full decision: the context's tenant owns the resource and the
/// compiled role grants the permission.
#[inline]
pub fn decide(w: &Workload, q: Query) -> bool {
    let user = &w.users[q.user];
    user.ctx.is_for(w.tenants[q.tenant]) && user.compiled.allows(w.bits[q.permission])
}

/// What the decision should be, computed the slow, obvious way.
pub fn expected(q: Query) -> bool {
    let (t, r) = user_assignment(q.user);
    t == q.tenant && role_grants(r).any(|i| i == q.permission)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_decisions_match_the_obvious_model() {
        let w = workload().unwrap();
        let qs = queries(2000);
        assert!(qs.iter().any(|&q| decide(&w, q)));
        assert!(qs.iter().any(|&q| !decide(&w, q)));
        for q in qs {
            assert_eq!(decide(&w, q), expected(q), "{q:?}");
            let slow = w.users[q.user].ctx.is_for(w.tenants[q.tenant])
                && w.users[q.user].ctx.allows(&w.permissions[q.permission]);
            assert_eq!(slow, expected(q));
        }
    }
}
