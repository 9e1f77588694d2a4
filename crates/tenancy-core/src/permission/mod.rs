//! The permission algebra.
//!
//! A [`Permission`] is `resource:action`; either part may be `*`, which makes
//! it a pattern. A [`PermissionSet`] means the set of *concrete* permissions
//! (no `*`) that it admits: union, intersection and difference act on that
//! meaning, and two sets are equal when they admit the same permissions,
//! however they were written. A [`PermissionCatalog`] compiles a set into a
//! bitmask, so a check in a hot path is one AND.

mod catalog;
mod pattern;
mod set;

pub use catalog::{CompiledPermissions, PermissionBit, PermissionCatalog};
pub use pattern::Permission;
pub use set::PermissionSet;

/// The resource reserved for platform operations (`system:*`).
///
/// Tenant-scope roles and tokens can never hold a permission on it.
pub const PLATFORM_RESOURCE: &str = "system";

/// The set of every platform permission (`system:*`).
pub(crate) fn platform_permissions() -> PermissionSet {
    PermissionSet::from_grants([Permission::from_parts(
        pattern::Part::Name(PLATFORM_RESOURCE.into()),
        pattern::Part::Any,
    )])
}
