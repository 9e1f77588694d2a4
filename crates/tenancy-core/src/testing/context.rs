//! Contexts of either scope.

use proptest::prelude::*;

use crate::audit::DiscardAuditSink;
use crate::context::TenantContext;

use super::{permission_set, role_name, subject_id, tenant_id};

/// A context inside one tenant, with any role and any permission set
/// (platform permissions removed, as [`TenantContext::tenant`] does).
pub fn tenant_context() -> impl Strategy<Value = TenantContext> + Clone {
    (tenant_id(), subject_id(), role_name(), permission_set()).prop_map(
        |(tenant, subject, role, permissions)| {
            TenantContext::tenant(tenant, subject, role, permissions)
        },
    )
}

/// A platform operator's context, bound to no tenant, with any role and
/// any permission set.
pub fn system_context() -> impl Strategy<Value = TenantContext> + Clone {
    (subject_id(), role_name(), permission_set())
        .prop_map(|(subject, role, permissions)| TenantContext::system(subject, role, permissions))
}

/// A [`system_context`] acting for any tenant with a reason
/// ([`TenantContext::act_for_tenant`], its audit event discarded).
pub fn acting_context() -> impl Strategy<Value = TenantContext> + Clone {
    (system_context(), tenant_id(), "[a-z][a-z0-9 ]{0,40}").prop_map(|(ctx, tenant, reason)| {
        ctx.act_for_tenant(tenant, &reason, &DiscardAuditSink)
            .unwrap_or_else(|e| unreachable!("an unbound system context acts with a reason: {e}"))
    })
}

/// A [`tenant_context`] or a [`system_context`] (never an acting one).
pub fn context() -> impl Strategy<Value = TenantContext> + Clone {
    prop_oneof![tenant_context(), system_context()]
}
