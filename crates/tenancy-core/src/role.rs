//! Roles: named permission sets with inheritance, kept per tenant.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::context::Scope;
use crate::error::{ParseError, ParseKind, ParseReason, RoleError};
use crate::permission::{PermissionSet, platform_permissions};

/// A role's name: 1 to 64 characters of `[a-z0-9_-]`, starting with a letter
/// or digit.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleName(Box<str>);

impl RoleName {
    /// The longest name allowed.
    pub const MAX_LEN: usize = 64;

    /// Validates a role name.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let fail = |reason| Err(ParseError::new(ParseKind::RoleName, reason));
        if text.is_empty() {
            return fail(ParseReason::TooShort);
        }
        if text.len() > Self::MAX_LEN {
            return fail(ParseReason::TooLong);
        }
        let valid =
            |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-');
        if !text.bytes().all(valid) {
            return fail(ParseReason::InvalidCharacter);
        }
        if !text.as_bytes()[0].is_ascii_alphanumeric() {
            return fail(ParseReason::InvalidFormat);
        }
        Ok(RoleName(text.into()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The built-in platform operator role (system scope).
    pub fn platform_admin() -> Self {
        RoleName("platform-admin".into())
    }

    /// The built-in tenant administrator role.
    pub fn admin() -> Self {
        RoleName("admin".into())
    }

    /// The built-in tenant member role.
    pub fn member() -> Self {
        RoleName("member".into())
    }

    /// The built-in read-only role.
    pub fn viewer() -> Self {
        RoleName("viewer".into())
    }
}

impl FromStr for RoleName {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoleName({})", self.0)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for RoleName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for RoleName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        RoleName::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A named set of granted permissions, optionally inheriting other roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    name: RoleName,
    scope: Scope,
    grants: PermissionSet,
    inherits: Vec<RoleName>,
}

impl Role {
    /// A tenant-scope role granting `grants`.
    pub fn tenant(name: RoleName, grants: PermissionSet) -> Self {
        Role {
            name,
            scope: Scope::Tenant,
            grants,
            inherits: Vec::new(),
        }
    }

    /// A system-scope (platform operator) role granting `grants`.
    pub fn system(name: RoleName, grants: PermissionSet) -> Self {
        Role {
            name,
            scope: Scope::System,
            grants,
            inherits: Vec::new(),
        }
    }

    /// Adds a role whose permissions this role inherits.
    pub fn inherit(mut self, parent: RoleName) -> Self {
        self.inherits.push(parent);
        self
    }

    /// The role's name.
    pub fn name(&self) -> &RoleName {
        &self.name
    }

    /// Whether the role acts inside one tenant or on the platform.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// What the role grants by itself, without inheritance.
    pub fn grants(&self) -> &PermissionSet {
        &self.grants
    }

    /// The roles this role inherits from.
    pub fn inherits(&self) -> &[RoleName] {
        &self.inherits
    }
}

/// The roles one tenant (or the platform) knows, with their effective
/// permissions resolved through inheritance.
///
/// Starts with the built-ins: `platform-admin` (system scope, everything),
/// `admin` (everything in the tenant), `member` (read and write everything in
/// the tenant except `audit:*`) and `viewer` (read everything in the tenant
/// except `audit:*`). A tenant adds custom roles with [`define`].
///
/// ```
/// use tenancy_core::{PermissionSet, Role, RoleName, RoleRegistry};
///
/// let mut roles = RoleRegistry::with_builtins();
/// let auditor = Role::tenant(RoleName::parse("auditor")?, PermissionSet::parse(["audit:read"])?)
///     .inherit(RoleName::viewer());
/// roles.define(auditor)?;
/// let effective = roles.permissions(&RoleName::parse("auditor")?)?;
/// assert!(effective.allows(&"audit:read".parse()?));
/// assert!(effective.allows(&"leases:read".parse()?));
/// assert!(!effective.allows(&"leases:write".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`define`]: RoleRegistry::define
#[derive(Debug, Clone, Default)]
pub struct RoleRegistry {
    roles: BTreeMap<RoleName, Role>,
    // INVARIANT: holds the resolved permissions of every role in `roles`.
    resolved: BTreeMap<RoleName, PermissionSet>,
}

const MAX_DEPTH: usize = 32;

fn grants(texts: &[&str]) -> PermissionSet {
    PermissionSet::parse(texts).unwrap_or_else(|_| unreachable!("built-in grants are valid"))
}

impl RoleRegistry {
    /// A registry without any role.
    pub fn empty() -> Self {
        RoleRegistry::default()
    }

    /// A registry holding the four built-in roles.
    pub fn with_builtins() -> Self {
        // Tenant roles never reach the platform; only admins read the audit log.
        let audit = grants(&["audit:*"]).union(&platform_permissions());
        let builtins = [
            Role::system(RoleName::platform_admin(), PermissionSet::all()),
            Role::tenant(
                RoleName::admin(),
                PermissionSet::all().difference(&platform_permissions()),
            ),
            Role::tenant(
                RoleName::member(),
                grants(&["*:read", "*:write"]).difference(&audit),
            ),
            Role::tenant(RoleName::viewer(), grants(&["*:read"]).difference(&audit)),
        ];
        let mut registry = RoleRegistry::empty();
        for role in builtins {
            let name = role.name.clone();
            registry.roles.insert(name, role);
        }
        registry
            .resolve_all()
            .unwrap_or_else(|_| unreachable!("built-ins resolve"));
        registry
    }

    /// Adds a role. Its parents must exist already; a tenant role may not
    /// grant or inherit platform permissions.
    pub fn define(&mut self, role: Role) -> Result<(), RoleError> {
        if self.roles.contains_key(&role.name) {
            return Err(RoleError::AlreadyDefined(role.name));
        }
        self.put(role, None)
    }

    /// Replaces a role's definition; refused (and nothing changes) when that
    /// would make a cycle or leave a role unresolvable.
    pub fn replace(&mut self, role: Role) -> Result<(), RoleError> {
        let previous = self.roles.get(&role.name).cloned();
        if previous.is_none() {
            return Err(RoleError::Unknown(role.name));
        }
        self.put(role, previous)
    }

    fn put(&mut self, role: Role, previous: Option<Role>) -> Result<(), RoleError> {
        let name = role.name.clone();
        self.roles.insert(name.clone(), role);
        // Resolving the new role first names it in any cycle it closes.
        let checked = self
            .resolve(&name, &mut Vec::new())
            .and_then(|_| self.resolve_all());
        if let Err(e) = checked {
            match previous {
                Some(p) => self.roles.insert(name, p),
                None => self.roles.remove(&name),
            };
            self.resolve_all()
                .unwrap_or_else(|_| unreachable!("the previous state resolved"));
            return Err(e);
        }
        Ok(())
    }

    fn resolve_all(&mut self) -> Result<(), RoleError> {
        let mut resolved = BTreeMap::new();
        for name in self.roles.keys() {
            let mut path = Vec::new();
            let set = self.resolve(name, &mut path)?;
            resolved.insert(name.clone(), set);
        }
        self.resolved = resolved;
        Ok(())
    }

    fn resolve(
        &self,
        name: &RoleName,
        path: &mut Vec<RoleName>,
    ) -> Result<PermissionSet, RoleError> {
        if path.contains(name) {
            return Err(RoleError::Cycle(name.clone()));
        }
        if path.len() >= MAX_DEPTH {
            return Err(RoleError::TooDeep(name.clone()));
        }
        let role = self
            .roles
            .get(name)
            .ok_or_else(|| RoleError::Unknown(name.clone()))?;
        path.push(name.clone());
        let mut set = role.grants.clone();
        for parent in &role.inherits {
            set = set.union(&self.resolve(parent, path)?);
        }
        path.pop();
        if role.scope == Scope::Tenant && set.touches_platform() {
            return Err(RoleError::PlatformPermission(name.clone()));
        }
        Ok(set)
    }

    /// A role's effective permissions (its grants and everything inherited).
    pub fn permissions(&self, name: &RoleName) -> Result<&PermissionSet, RoleError> {
        self.resolved
            .get(name)
            .ok_or_else(|| RoleError::Unknown(name.clone()))
    }

    /// A role's definition.
    pub fn get(&self, name: &RoleName) -> Option<&Role> {
        self.roles.get(name)
    }

    /// Every role, by name.
    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Permission;

    fn name(text: &str) -> RoleName {
        RoleName::parse(text).unwrap()
    }

    fn perm(text: &str) -> Permission {
        Permission::parse(text).unwrap()
    }

    /// A tenant's own ladder (guest, basic, advanced, company, admin), each
    /// role inheriting the one before it, in a registry without built-ins.
    fn ladder() -> RoleRegistry {
        let mut roles = RoleRegistry::empty();
        let steps = [
            ("guest", &["catalog:read"][..]),
            ("basic", &["orders:read", "orders:write"][..]),
            ("advanced", &["reports:read"][..]),
            ("company", &["users:read", "users:write"][..]),
            ("admin", &["billing:*"][..]),
        ];
        let mut previous: Option<RoleName> = None;
        for (role, grants) in steps {
            let mut r = Role::tenant(name(role), PermissionSet::parse(grants).unwrap());
            if let Some(p) = previous.take() {
                r = r.inherit(p);
            }
            roles.define(r).unwrap();
            previous = Some(name(role));
        }
        roles
    }

    #[test]
    fn custom_roles_inherit_down_the_ladder() {
        let roles = ladder();
        let company = roles.permissions(&name("company")).unwrap();
        assert!(company.allows(&perm("catalog:read")));
        assert!(company.allows(&perm("users:write")));
        assert!(!company.allows(&perm("billing:pay")));
        let guest = roles.permissions(&name("guest")).unwrap();
        assert!(!guest.allows(&perm("orders:read")));
        assert!(
            roles
                .permissions(&name("admin"))
                .unwrap()
                .allows(&perm("billing:pay"))
        );
    }

    #[test]
    fn inheritance_cycle_is_a_typed_error() {
        let mut roles = ladder();
        let cyclic = Role::tenant(name("guest"), PermissionSet::empty()).inherit(name("company"));
        assert_eq!(roles.replace(cyclic), Err(RoleError::Cycle(name("guest"))));
        // Nothing changed.
        assert!(
            roles
                .permissions(&name("guest"))
                .unwrap()
                .allows(&perm("catalog:read"))
        );
        let self_loop = Role::tenant(name("basic"), PermissionSet::empty()).inherit(name("basic"));
        assert_eq!(
            roles.replace(self_loop),
            Err(RoleError::Cycle(name("basic")))
        );
    }

    #[test]
    fn unknown_parent_is_refused() {
        let mut roles = RoleRegistry::with_builtins();
        let orphan = Role::tenant(name("orphan"), PermissionSet::empty()).inherit(name("ghost"));
        assert_eq!(roles.define(orphan), Err(RoleError::Unknown(name("ghost"))));
        assert!(roles.get(&name("orphan")).is_none());
    }

    #[test]
    fn tenant_roles_cannot_reach_the_platform() {
        let mut roles = RoleRegistry::with_builtins();
        let sneaky = Role::tenant(name("sneaky"), PermissionSet::empty())
            .inherit(RoleName::platform_admin());
        assert_eq!(
            roles.define(sneaky),
            Err(RoleError::PlatformPermission(name("sneaky")))
        );
        let direct = Role::tenant(
            name("direct"),
            PermissionSet::parse(["system:tenants"]).unwrap(),
        );
        assert_eq!(
            roles.define(direct),
            Err(RoleError::PlatformPermission(name("direct")))
        );
    }

    #[test]
    fn builtins_have_the_documented_meaning() {
        let mut roles = RoleRegistry::with_builtins();
        let admin = roles.permissions(&RoleName::admin()).unwrap();
        let member = roles.permissions(&RoleName::member()).unwrap();
        let viewer = roles.permissions(&RoleName::viewer()).unwrap();
        assert!(admin.allows(&perm("audit:read")) && !admin.touches_platform());
        assert!(member.allows(&perm("leases:write")) && !member.allows(&perm("audit:read")));
        assert!(viewer.allows(&perm("leases:read")) && !viewer.allows(&perm("leases:write")));
        assert!(viewer.is_subset(member) && member.is_subset(admin));
        assert_eq!(
            roles.get(&RoleName::platform_admin()).unwrap().scope(),
            Scope::System
        );
        let (admin, member, viewer) = (admin.clone(), member.clone(), viewer.clone());
        assert!(
            roles
                .define(Role::tenant(RoleName::admin(), PermissionSet::empty()))
                .is_err()
        );
        assert_eq!(roles.permissions(&RoleName::admin()).unwrap(), &admin);
        assert!(viewer.is_subset(&member));
    }
}
