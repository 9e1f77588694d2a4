//! Role names and registries of roles that inherit from each other.

use proptest::prelude::*;
use proptest::sample::Index;

use crate::permission::{PermissionSet, platform_permissions};
use crate::role::{Role, RoleName, RoleRegistry};

/// The names of the built-in roles.
fn builtins() -> Vec<RoleName> {
    vec![
        RoleName::platform_admin(),
        RoleName::admin(),
        RoleName::member(),
        RoleName::viewer(),
    ]
}

/// A valid role name that is not a built-in one (up to the longest
/// allowed).
pub fn custom_role_name() -> impl Strategy<Value = RoleName> + Clone {
    prop_oneof![
        4 => "[a-z0-9][a-z0-9_-]{0,15}",
        1 => "[a-z0-9][a-z0-9_-]{63}",
    ]
    .prop_filter_map("a role name other than a built-in one", |text| {
        RoleName::parse(&text)
            .ok()
            .filter(|name| !builtins().contains(name))
    })
}

/// A built-in role name or a custom one.
pub fn role_name() -> impl Strategy<Value = RoleName> + Clone {
    prop_oneof![
        1 => prop::sample::select(builtins()),
        2 => custom_role_name(),
    ]
}

/// What one custom role will be: name, tenant scope or not, grants, and
/// picks among the roles defined before it for its parents.
type Spec = (RoleName, bool, PermissionSet, Vec<Index>);

fn spec() -> impl Strategy<Value = Spec> + Clone {
    (
        custom_role_name(),
        prop::bool::weighted(0.8),
        super::permission_set(),
        prop::collection::vec(any::<Index>(), 0..3),
    )
}

/// A registry that [`RoleRegistry::define`] accepted role by role: usually
/// the built-ins plus up to five custom roles, sometimes one to five
/// custom roles alone (never no role at all).
///
/// Each custom role is of tenant scope (four times in five) or of system
/// scope, grants a [`permission_set`](super::permission_set) and inherits
/// up to two roles defined before it, built-in or custom, so inheritance
/// is acyclic and chains form. A tenant role neither grants nor inherits
/// a platform (`system:*`) permission: its grants have them removed and
/// its parents are roles without them.
pub fn role_registry() -> impl Strategy<Value = RoleRegistry> + Clone {
    prop_oneof![
        4 => (Just(true), prop::collection::vec(spec(), 0..6)),
        1 => (Just(false), prop::collection::vec(spec(), 1..6)),
    ]
    .prop_map(|(with_builtins, specs)| build(with_builtins, specs))
}

fn build(with_builtins: bool, specs: Vec<Spec>) -> RoleRegistry {
    let mut roles = if with_builtins {
        RoleRegistry::with_builtins()
    } else {
        RoleRegistry::empty()
    };
    for (name, tenant, grants, picks) in specs {
        if roles.get(&name).is_some() {
            continue;
        }
        let parents: Vec<RoleName> = roles
            .roles()
            .map(Role::name)
            .filter(|parent| {
                !tenant
                    || roles
                        .permissions(parent)
                        .is_ok_and(|p| !p.touches_platform())
            })
            .cloned()
            .collect();
        let mut role = if tenant {
            Role::tenant(name, grants.difference(&platform_permissions()))
        } else {
            Role::system(name, grants)
        };
        let mut inherited: Vec<&RoleName> = Vec::new();
        for pick in &picks {
            if parents.is_empty() {
                break;
            }
            let parent = pick.get(&parents);
            if !inherited.contains(&parent) {
                inherited.push(parent);
                role = role.inherit(parent.clone());
            }
        }
        roles
            .define(role)
            .unwrap_or_else(|e| unreachable!("a generated role is valid: {e}"));
    }
    roles
}
