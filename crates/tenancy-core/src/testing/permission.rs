//! Permissions, patterns and sets.

use proptest::prelude::*;

use crate::permission::{Permission, PermissionSet};

/// Resources drawn often, so that drawn permissions and patterns meet.
const RESOURCES: &[&str] = &["leases", "users", "billing", "audit", "reports", "system"];
/// Actions drawn often, for the same reason.
const ACTIONS: &[&str] = &["read", "write", "delete", "export"];

/// A part of a permission: mostly a common name, sometimes any valid one
/// (up to the longest allowed).
fn part(common: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        6 => prop::sample::select(common).prop_map(str::to_owned),
        2 => "[a-z0-9][a-z0-9_.-]{0,15}",
        1 => "[a-z0-9][a-z0-9_.-]{63}",
    ]
}

/// A part that is `*` one time in four.
fn part_or_any(common: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop_oneof![1 => Just("*".to_owned()), 3 => part(common)]
}

fn parsed(resource: String, action: String) -> Option<Permission> {
    Permission::parse(&format!("{resource}:{action}")).ok()
}

/// A concrete permission (`resource:action`, no `*`), the platform's
/// (`system:…`) included.
pub fn permission() -> impl Strategy<Value = Permission> + Clone {
    (part(RESOURCES), part(ACTIONS)).prop_filter_map("a valid permission", |(r, a)| parsed(r, a))
}

/// A permission or a pattern: either part may be `*` (`*:read`,
/// `leases:*`, `*:*`), as [`Permission::parse`] accepts them.
pub fn permission_pattern() -> impl Strategy<Value = Permission> + Clone {
    (part_or_any(RESOURCES), part_or_any(ACTIONS))
        .prop_filter_map("a valid permission", |(r, a)| parsed(r, a))
}

/// A set of up to five grants (patterns included, possibly none), or such
/// a set minus another one, so that some sets carry exceptions the way
/// the built-in roles do (`*:read` minus `audit:*`).
pub fn permission_set() -> impl Strategy<Value = PermissionSet> + Clone {
    let grants =
        prop::collection::vec(permission_pattern(), 0..6).prop_map(PermissionSet::from_grants);
    prop_oneof![
        3 => grants.clone(),
        1 => (grants.clone(), grants).prop_map(|(granted, denied)| granted.difference(&denied)),
    ]
}
