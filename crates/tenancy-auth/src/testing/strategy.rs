//! proptest strategies over a kit: valid tokens and attacks.

use std::collections::BTreeSet;

use proptest::prelude::*;
use tenancy_core::testing::{permission, subject_id, tenant_id};
use tenancy_core::{Permission, PermissionSet, RoleName, RoleRegistry, Scope, TenantContext};

use super::attack::{CATALOGUE, TokenAttack};
use super::kit::TokenKit;

/// Contexts that survive a token: each one, issued by a [`TokenKit`] with
/// these `roles`, verified and mapped through `roles`, comes back equal.
///
/// The role is any role of `roles`, and the scope is the role's; the
/// tenant and subject are any identifiers
/// ([`tenant_id`], [`subject_id`]); the permissions are either
/// everything the role grants or a list of concrete permissions it grants
/// (possibly none), which the token carries in its `permissions` claim.
///
/// # Panics
///
/// When `roles` holds no role.
pub fn issuable_context(
    roles: &RoleRegistry,
) -> impl Strategy<Value = TenantContext> + Clone + use<> {
    let resolved: Vec<(RoleName, Scope, PermissionSet)> = roles
        .roles()
        .filter_map(|role| {
            let granted = roles.permissions(role.name()).ok()?;
            Some((role.name().clone(), role.scope(), granted.clone()))
        })
        .collect();
    let asked = prop_oneof![3 => concrete_permission(roles), 1 => permission()];
    let narrowed = prop::option::of(prop::collection::vec(asked, 0..6));
    (
        prop::sample::select(resolved),
        tenant_id(),
        subject_id(),
        narrowed,
    )
        .prop_map(|((role, scope, granted), tenant, subject, narrowed)| {
            let permissions = match narrowed {
                None => granted,
                Some(asked) => PermissionSet::from_grants(asked).intersection(&granted),
            };
            match scope {
                Scope::Tenant => TenantContext::tenant(tenant, subject, role, permissions),
                Scope::System => TenantContext::system(subject, role, permissions),
            }
        })
}

/// Concrete permissions over the names `roles` mention plus a few common
/// ones, so that a role's grants and a drawn permission often meet
/// (`tenancy_core::testing::permission` draws mostly other names).
fn concrete_permission(roles: &RoleRegistry) -> impl Strategy<Value = Permission> + Clone + use<> {
    let mut resources: BTreeSet<String> = ["leases", "users", "billing", "audit", "system"]
        .map(str::to_owned)
        .into();
    let mut actions: BTreeSet<String> = ["read", "write", "delete"].map(str::to_owned).into();
    for role in roles.roles() {
        for grant in role.grants().grants() {
            if grant.resource() != "*" {
                resources.insert(grant.resource().to_owned());
            }
            if grant.action() != "*" {
                actions.insert(grant.action().to_owned());
            }
        }
    }
    let resources: Vec<String> = resources.into_iter().collect();
    let actions: Vec<String> = actions.into_iter().collect();
    (
        prop::sample::select(resources),
        prop::sample::select(actions),
    )
        .prop_filter_map("a permission", |(resource, action)| {
            Permission::parse(&format!("{resource}:{action}")).ok()
        })
}

/// A context drawn by [`issuable_context`] over the kit's roles and the
/// kit's valid [`token`](TokenKit::token) for it:
/// [`kit.context(&token)`](TokenKit::context) is exactly that context.
///
/// # Panics
///
/// When the kit's roles hold no role.
pub fn valid_token(kit: TokenKit) -> impl Strategy<Value = (TenantContext, String)> + Clone {
    issuable_context(kit.roles()).prop_map(move |ctx| {
        let token = kit.token(&ctx);
        (ctx, token)
    })
}

/// Any attack of the catalogue (see [`TokenAttack`]) aimed at a context
/// drawn by [`issuable_context`] over the kit's roles. Shrinks towards the
/// first attacks of the catalogue.
///
/// To aim every attack at one context of your own, use
/// [`TokenKit::attacks`].
///
/// # Panics
///
/// When the kit's roles hold no role.
pub fn attack_token(kit: TokenKit) -> impl Strategy<Value = TokenAttack> + Clone {
    (issuable_context(kit.roles()), 0..CATALOGUE.len())
        .prop_map(move |(ctx, index)| kit.attack(&ctx, index))
}
