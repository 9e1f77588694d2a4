//! proptest strategies for the vocabulary of this crate (feature
//! `testing`), to property-test a service's own permission checks, roles
//! and tenant isolation.
//!
//! Every strategy draws valid values only, through the public constructors
//! and parsers: identifiers ([`tenant_id`], [`subject_id`]), role names
//! ([`role_name`], [`custom_role_name`]), permissions ([`permission`] for
//! concrete ones, [`permission_pattern`] with wildcards, [`permission_set`]),
//! contexts ([`tenant_context`], [`system_context`], [`acting_context`],
//! [`context`]) and role registries with inheritance ([`role_registry`]).
//! [`invalid_tenant_id_text`] draws the opposite: text an identifier parser
//! must refuse. Drawn names favour a small vocabulary (`leases`, `users`,
//! `audit`, `read`, `write`, ...), so that permissions, patterns and roles
//! often meet.
//!
//! Add `proptest` to your dev-dependencies to use them.
//!
//! ```
//! use proptest::prelude::*;
//! use tenancy_core::testing::{permission, role_registry, tenant_context, tenant_id};
//! use tenancy_core::*;
//!
//! // Data of one tenant never opens under another tenant's context.
//! proptest!(|(ctx in tenant_context(), other in tenant_id(), rent in any::<u32>())| {
//!     prop_assume!(ctx.tenant_id() != Some(other));
//!     let lease = Scoped::new(&ctx, rent)?;
//!     let intruder = TenantContext::tenant(other, ctx.subject(), ctx.role().clone(), PermissionSet::all());
//!     prop_assert_eq!(lease.open(&intruder), Err(AccessError::CrossTenant));
//! });
//!
//! // A role allows whatever any role it inherits allows.
//! proptest!(|(roles in role_registry(), wanted in permission())| {
//!     for role in roles.roles() {
//!         for parent in role.inherits() {
//!             if roles.permissions(parent)?.allows(&wanted) {
//!                 prop_assert!(roles.permissions(role.name())?.allows(&wanted));
//!             }
//!         }
//!     }
//! });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod context;
mod id;
mod permission;
mod role;

pub use context::{acting_context, context, system_context, tenant_context};
pub use id::{invalid_tenant_id_text, subject_id, tenant_id};
pub use permission::{permission, permission_pattern, permission_set};
pub use role::{custom_role_name, role_name, role_registry};
