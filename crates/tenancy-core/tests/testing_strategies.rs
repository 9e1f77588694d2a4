//! The `testing` strategies draw valid values of every shape, and text
//! that must be refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::collections::{BTreeSet, HashSet};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use tenancy_core::testing::*;
use tenancy_core::*;

fn builtin(name: &RoleName) -> bool {
    [
        RoleName::platform_admin(),
        RoleName::admin(),
        RoleName::member(),
        RoleName::viewer(),
    ]
    .contains(name)
}

proptest! {
    #[test]
    fn generated_ids_round_trip_through_their_text(tenant in tenant_id(), subject in subject_id()) {
        prop_assert_eq!(TenantId::parse(&tenant.to_string()), Ok(tenant));
        prop_assert_eq!(SubjectId::parse(&subject.to_string()), Ok(subject));
    }

    #[test]
    fn invalid_tenant_id_text_is_refused_by_parsing(text in invalid_tenant_id_text()) {
        let refused = TenantId::parse(&text);
        prop_assert!(refused.is_err(), "{:?} parsed as {:?}", text, refused);
        prop_assert_eq!(refused.unwrap_err().kind(), ParseKind::TenantId);
        prop_assert!(SubjectId::parse(&text).is_err());
    }

    #[test]
    fn generated_role_names_parse_back_to_themselves(name in role_name()) {
        prop_assert_eq!(RoleName::parse(name.as_str()), Ok(name));
    }

    #[test]
    fn custom_role_names_are_never_builtins(name in custom_role_name()) {
        prop_assert!(!builtin(&name), "{:?}", name);
        prop_assert_eq!(RoleName::parse(name.as_str()), Ok(name));
    }

    #[test]
    fn generated_permissions_are_concrete_and_parse_back(p in permission()) {
        prop_assert!(p.is_concrete(), "{}", p);
        prop_assert_eq!(Permission::parse(&p.to_string()), Ok(p));
    }

    #[test]
    fn generated_patterns_parse_back_and_cover_themselves(p in permission_pattern()) {
        prop_assert_eq!(Permission::parse(&p.to_string()), Ok(p.clone()));
        prop_assert!(p.covers(&p));
        prop_assert!(PermissionSet::from_grants([p.clone()]).allows(&p));
    }

    #[test]
    fn generated_sets_hold_only_valid_grants(set in permission_set()) {
        for grant in set.grants() {
            prop_assert_eq!(Permission::parse(&grant.to_string()), Ok(grant.clone()));
        }
        // What a set admits, its listed grants admit too: exceptions only narrow.
        let listed = PermissionSet::from_grants(set.grants().cloned());
        prop_assert!(set.is_subset(&listed));
    }

    #[test]
    fn tenant_contexts_report_their_tenant_and_hold_no_platform_permission(ctx in tenant_context()) {
        prop_assert_eq!(ctx.scope(), Scope::Tenant);
        let tenant = ctx.tenant_id().expect("a tenant context has a tenant");
        prop_assert!(ctx.is_for(tenant));
        prop_assert_eq!(ctx.require_tenant(), Ok(tenant));
        prop_assert!(!ctx.permissions().touches_platform());
        prop_assert_eq!(ctx.acting_reason(), None);
    }

    #[test]
    fn system_contexts_report_no_tenant(ctx in system_context(), tenant in tenant_id()) {
        prop_assert_eq!(ctx.scope(), Scope::System);
        prop_assert_eq!(ctx.tenant_id(), None);
        prop_assert!(!ctx.is_for(tenant));
    }

    #[test]
    fn acting_contexts_report_the_tenant_they_act_for(ctx in acting_context()) {
        prop_assert_eq!(ctx.scope(), Scope::System);
        let tenant = ctx.tenant_id().expect("an acting context has a tenant");
        prop_assert!(ctx.is_for(tenant));
        prop_assert!(!ctx.acting_reason().unwrap_or_default().trim().is_empty());
    }

    #[test]
    fn a_context_has_a_tenant_exactly_when_it_is_of_tenant_scope(ctx in context()) {
        prop_assert_eq!(ctx.tenant_id().is_some(), ctx.scope() == Scope::Tenant);
    }

    #[test]
    fn generated_registries_resolve_every_role(roles in role_registry()) {
        prop_assert!(roles.roles().next().is_some(), "a registry without roles");
        for role in roles.roles() {
            prop_assert!(roles.permissions(role.name()).is_ok(), "{:?}", role.name());
            for parent in role.inherits() {
                prop_assert!(roles.get(parent).is_some(), "{:?} has an unknown parent", role.name());
            }
        }
    }

    #[test]
    fn inherited_permissions_are_a_superset_of_each_parents(roles in role_registry()) {
        for role in roles.roles() {
            let effective = roles.permissions(role.name()).unwrap();
            prop_assert!(role.grants().is_subset(effective));
            for parent in role.inherits() {
                let inherited = roles.permissions(parent).unwrap();
                prop_assert!(
                    inherited.is_subset(effective),
                    "{:?} lost permissions of {:?}", role.name(), parent
                );
            }
        }
    }

    #[test]
    fn a_role_allows_its_own_grants(roles in role_registry(), p in permission()) {
        for role in roles.roles() {
            if role.grants().allows(&p) {
                prop_assert!(roles.permissions(role.name()).unwrap().allows(&p));
            }
        }
    }

    #[test]
    fn tenant_roles_never_reach_the_platform(roles in role_registry()) {
        for role in roles.roles().filter(|r| r.scope() == Scope::Tenant) {
            prop_assert!(!roles.permissions(role.name()).unwrap().touches_platform(), "{:?}", role.name());
        }
    }

    #[test]
    fn generated_registries_can_be_rebuilt_role_by_role(roles in role_registry()) {
        // Parents first: every role's parents are defined before it.
        let mut rebuilt = RoleRegistry::empty();
        let mut pending: Vec<&Role> = roles.roles().collect();
        while !pending.is_empty() {
            let before = pending.len();
            pending.retain(|role| {
                let ready = role.inherits().iter().all(|p| rebuilt.get(p).is_some());
                !(ready && rebuilt.define((*role).clone()).is_ok())
            });
            prop_assert!(pending.len() < before, "a cycle or an invalid role among {:?}", pending);
        }
        for role in roles.roles() {
            prop_assert_eq!(rebuilt.permissions(role.name()), roles.permissions(role.name()));
        }
    }
}

/// Draws `n` values of `strategy` with a fixed seed.
fn sample<S: Strategy>(strategy: S, n: usize) -> Vec<S::Value> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// The longest chain of custom roles inheriting custom roles, in roles.
fn custom_chain(roles: &RoleRegistry, name: &RoleName) -> usize {
    if builtin(name) {
        return 0;
    }
    let parents = roles.get(name).map(Role::inherits).unwrap_or_default();
    1 + parents
        .iter()
        .map(|p| custom_chain(roles, p))
        .max()
        .unwrap_or(0)
}

#[test]
fn the_strategies_reach_every_shape() {
    let contexts = sample(context(), 200);
    assert!(contexts.iter().any(|c| c.scope() == Scope::Tenant));
    assert!(contexts.iter().any(|c| c.scope() == Scope::System));

    let patterns = sample(permission_pattern(), 300);
    assert!(
        patterns
            .iter()
            .any(|p| p.resource() == "*" && p.action() != "*")
    );
    assert!(
        patterns
            .iter()
            .any(|p| p.resource() != "*" && p.action() == "*")
    );
    assert!(patterns.iter().any(Permission::is_concrete));
    assert!(
        sample(permission(), 300)
            .iter()
            .any(|p| p.resource() == PLATFORM_RESOURCE)
    );

    let sets = sample(permission_set(), 300);
    assert!(sets.iter().any(PermissionSet::is_empty));
    let with_exceptions = |s: &PermissionSet| PermissionSet::from_grants(s.grants().cloned()) != *s;
    assert!(sets.iter().any(with_exceptions));

    let registries = sample(role_registry(), 200);
    assert!(
        registries
            .iter()
            .any(|r| r.get(&RoleName::admin()).is_none())
    );
    let customs = |r: &RoleRegistry| -> Vec<Role> {
        r.roles()
            .filter(|role| !builtin(role.name()))
            .cloned()
            .collect()
    };
    assert!(registries.iter().any(|r| {
        customs(r)
            .iter()
            .any(|role| role.inherits().iter().any(builtin))
    }));
    assert!(registries.iter().any(|r| {
        customs(r)
            .iter()
            .any(|role| custom_chain(r, role.name()) >= 3)
    }));
    assert!(
        registries
            .iter()
            .any(|r| { customs(r).iter().any(|role| role.scope() == Scope::System) })
    );

    let names: BTreeSet<String> = sample(role_name(), 200)
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert!(names.contains("viewer") && names.iter().any(|n| n.len() == RoleName::MAX_LEN));

    let reasons: HashSet<ParseReason> = sample(invalid_tenant_id_text(), 300)
        .iter()
        .filter_map(|t| TenantId::parse(t).err())
        .map(|e| e.reason())
        .collect();
    assert_eq!(
        reasons,
        HashSet::from([
            ParseReason::TooShort,
            ParseReason::TooLong,
            ParseReason::InvalidFormat,
            ParseReason::InvalidCharacter,
        ])
    );
}
