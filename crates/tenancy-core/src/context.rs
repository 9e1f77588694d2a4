//! Who is acting, for which tenant, with which permissions.

use std::sync::Arc;

use crate::audit::{AuditEvent, AuditKind, Outcome};
use crate::error::AccessError;
use crate::id::{SubjectId, TenantId};
use crate::permission::{Permission, PermissionSet, platform_permissions};
use crate::role::RoleName;

/// Whether a context acts inside one tenant or on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Scope {
    /// Inside exactly one tenant.
    Tenant,
    /// A platform operator, reaching tenant data only by acting for a tenant.
    System,
}

impl Scope {
    /// `tenant` or `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Tenant => "tenant",
            Scope::System => "system",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Binding {
    Tenant(TenantId),
    System,
    SystemActing { tenant: TenantId, reason: Arc<str> },
}

/// Who is acting (subject), for which tenant, in which scope, with which role
/// and effective permissions.
///
/// A tenant context always has exactly one tenant and never holds a platform
/// (`system:*`) permission. A system context has no tenant until it calls
/// [`act_for_tenant`] with a reason, which returns the audit event to record.
///
/// ```
/// use tenancy_core::*;
///
/// let acme = TenantId::from_u128(1);
/// let alice = SubjectId::from_u128(10);
/// let ctx = TenantContext::tenant(acme, alice, RoleName::member(), PermissionSet::parse(["leases:*", "system:*"])?);
/// assert_eq!(ctx.tenant_id(), Some(acme));
/// assert!(ctx.allows(&"leases:read".parse()?));
/// assert!(!ctx.allows(&"system:tenants".parse()?)); // clamped away
///
/// let operator = TenantContext::system(SubjectId::from_u128(99), RoleName::platform_admin(), PermissionSet::all());
/// assert_eq!(operator.tenant_id(), None);
/// let (acting, event) = operator.act_for_tenant(acme, "ticket 4711: restore a lease")?;
/// assert_eq!(acting.tenant_id(), Some(acme));
/// assert_eq!(event.kind, AuditKind::SystemAccess);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`act_for_tenant`]: TenantContext::act_for_tenant
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantContext {
    binding: Binding,
    subject: SubjectId,
    role: RoleName,
    permissions: Arc<PermissionSet>,
}

impl TenantContext {
    /// A context inside `tenant`. Platform permissions are removed from
    /// `permissions`, whatever the caller passed.
    pub fn tenant(
        tenant: TenantId,
        subject: SubjectId,
        role: RoleName,
        permissions: PermissionSet,
    ) -> Self {
        let permissions = if permissions.touches_platform() {
            permissions.difference(&platform_permissions())
        } else {
            permissions
        };
        TenantContext {
            binding: Binding::Tenant(tenant),
            subject,
            role,
            permissions: Arc::new(permissions),
        }
    }

    /// A platform operator's context, bound to no tenant.
    pub fn system(subject: SubjectId, role: RoleName, permissions: PermissionSet) -> Self {
        TenantContext {
            binding: Binding::System,
            subject,
            role,
            permissions: Arc::new(permissions),
        }
    }

    /// A system context acting for `tenant`, and the audit event recording it.
    ///
    /// Refused for a tenant context (it cannot widen itself to another tenant)
    /// and for an empty reason.
    pub fn act_for_tenant(
        &self,
        tenant: TenantId,
        reason: &str,
    ) -> Result<(TenantContext, AuditEvent), AccessError> {
        if self.binding != Binding::System {
            return Err(AccessError::SystemScopeRequired);
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AccessError::ReasonRequired);
        }
        let acting = TenantContext {
            binding: Binding::SystemActing {
                tenant,
                reason: reason.into(),
            },
            ..self.clone()
        };
        let event = AuditEvent::new(
            AuditKind::SystemAccess,
            "system.act_for_tenant",
            Outcome::Allowed,
        )
        .with_tenant(tenant)
        .with_subject(self.subject)
        .with_reason(reason);
        Ok((acting, event))
    }

    /// The tenant whose data this context may reach, if any.
    pub fn tenant_id(&self) -> Option<TenantId> {
        match self.binding {
            Binding::Tenant(t) | Binding::SystemActing { tenant: t, .. } => Some(t),
            Binding::System => None,
        }
    }

    /// The tenant, or [`AccessError::NoTenant`] for an unbound system context.
    pub fn require_tenant(&self) -> Result<TenantId, AccessError> {
        self.tenant_id().ok_or(AccessError::NoTenant)
    }

    /// True when this context may reach `tenant`'s data.
    pub fn is_for(&self, tenant: TenantId) -> bool {
        self.tenant_id() == Some(tenant)
    }

    /// Tenant or system.
    pub fn scope(&self) -> Scope {
        match self.binding {
            Binding::Tenant(_) => Scope::Tenant,
            Binding::System | Binding::SystemActing { .. } => Scope::System,
        }
    }

    /// The reason a system context gave for acting for a tenant.
    pub fn acting_reason(&self) -> Option<&str> {
        match &self.binding {
            Binding::SystemActing { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// Who acts.
    pub fn subject(&self) -> SubjectId {
        self.subject
    }

    /// The role the subject acts in.
    pub fn role(&self) -> &RoleName {
        &self.role
    }

    /// The effective permissions.
    pub fn permissions(&self) -> &PermissionSet {
        &self.permissions
    }

    /// True when `permission` is among the effective permissions.
    pub fn allows(&self, permission: &Permission) -> bool {
        self.permissions.allows(permission)
    }

    /// `Ok` when `permission` is among the effective permissions.
    pub fn require(&self, permission: &Permission) -> Result<(), AccessError> {
        if self.allows(permission) {
            Ok(())
        } else {
            Err(AccessError::MissingPermission(permission.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(texts: &[&str]) -> PermissionSet {
        PermissionSet::parse(texts).unwrap()
    }

    #[test]
    fn tenant_context_never_holds_platform_permissions() {
        let ctx = TenantContext::tenant(
            TenantId::from_u128(1),
            SubjectId::from_u128(1),
            RoleName::admin(),
            PermissionSet::all(),
        );
        assert!(!ctx.permissions().touches_platform());
        assert!(ctx.allows(&"leases:read".parse().unwrap()));
        assert_eq!(ctx.scope(), Scope::Tenant);
    }

    #[test]
    fn tenant_context_cannot_act_for_another_tenant() {
        let ctx = TenantContext::tenant(
            TenantId::from_u128(1),
            SubjectId::from_u128(1),
            RoleName::admin(),
            perms(&["*:*"]),
        );
        assert_eq!(
            ctx.act_for_tenant(TenantId::from_u128(2), "because")
                .unwrap_err(),
            AccessError::SystemScopeRequired
        );
    }

    #[test]
    fn acting_needs_a_reason_and_cannot_be_chained() {
        let op = TenantContext::system(
            SubjectId::from_u128(9),
            RoleName::platform_admin(),
            PermissionSet::all(),
        );
        assert_eq!(op.require_tenant(), Err(AccessError::NoTenant));
        assert_eq!(
            op.act_for_tenant(TenantId::from_u128(1), "  ").unwrap_err(),
            AccessError::ReasonRequired
        );
        let (acting, event) = op
            .act_for_tenant(TenantId::from_u128(1), "support case")
            .unwrap();
        assert_eq!(acting.acting_reason(), Some("support case"));
        assert_eq!(event.tenant, Some(TenantId::from_u128(1)));
        assert_eq!(event.reason.as_deref(), Some("support case"));
        assert_eq!(
            acting
                .act_for_tenant(TenantId::from_u128(2), "hop")
                .unwrap_err(),
            AccessError::SystemScopeRequired
        );
    }

    #[test]
    fn require_names_the_missing_permission() {
        let ctx = TenantContext::tenant(
            TenantId::from_u128(1),
            SubjectId::from_u128(1),
            RoleName::viewer(),
            perms(&["leases:read"]),
        );
        let write: Permission = "leases:write".parse().unwrap();
        assert_eq!(
            ctx.require(&write),
            Err(AccessError::MissingPermission(write.clone()))
        );
        assert_eq!(
            AccessError::MissingPermission(write).to_string(),
            "missing permission `leases:write`"
        );
    }
}
