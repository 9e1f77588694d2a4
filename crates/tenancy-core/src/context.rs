//! Who is acting, for which tenant, with which permissions.

use std::sync::Arc;

use crate::audit::{AuditEvent, AuditKind, AuditSink, Outcome};
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
/// [`act_for_tenant`] with a reason, which records the step in an audit sink
/// before it hands out the acting context.
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
/// let audit = MemoryAuditSink::default();
/// let acting = operator.act_for_tenant(acme, "ticket 4711: restore a lease", &audit)?;
/// assert_eq!(acting.tenant_id(), Some(acme));
/// assert_eq!(audit.for_tenant(acme)[0].kind, AuditKind::SystemAccess);
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

    /// A system context acting for `tenant`, after recording the step in
    /// `sink` (a [`AuditKind::SystemAccess`] event in `tenant`'s log, with
    /// the operator and the reason).
    ///
    /// Refused for a tenant context (it cannot widen itself to another
    /// tenant), for a context already acting for a tenant (no chains) and
    /// for an empty reason. A refusal is recorded too: an attempt from a
    /// context bound to a tenant as a [`AuditKind::CrossTenantAttempt`] in
    /// that tenant's own log, never in the log of the tenant it tried to
    /// reach, and one from an unbound operator as a platform
    /// [`AuditKind::Denied`] event.
    ///
    /// The sink is a parameter, not something the caller records afterwards,
    /// so that no operator reaches a tenant's data without a trace.
    pub fn act_for_tenant(
        &self,
        tenant: TenantId,
        reason: &str,
        sink: &dyn AuditSink,
    ) -> Result<TenantContext, AccessError> {
        let reason = reason.trim();
        let refused = if self.binding != Binding::System {
            Some(AccessError::SystemScopeRequired)
        } else if reason.is_empty() {
            Some(AccessError::ReasonRequired)
        } else {
            None
        };
        if let Some(error) = refused {
            sink.record(self.refused_acting(tenant, &error));
            return Err(error);
        }
        // INVARIANT: the event is recorded before the acting context exists.
        sink.record(
            AuditEvent::new(
                AuditKind::SystemAccess,
                "system.act_for_tenant",
                Outcome::Allowed,
            )
            .with_tenant(tenant)
            .with_subject(self.subject)
            .with_reason(reason),
        );
        Ok(TenantContext {
            binding: Binding::SystemActing {
                tenant,
                reason: reason.into(),
            },
            ..self.clone()
        })
    }

    /// The event for a refused [`act_for_tenant`](Self::act_for_tenant). It
    /// goes to the log of the tenant this context is bound to (or to the
    /// platform's), and names neither the tenant it asked for nor, when that
    /// is another tenant, anything of it.
    fn refused_acting(&self, wanted: TenantId, error: &AccessError) -> AuditEvent {
        let kind = match self.tenant_id() {
            Some(own) if own != wanted => AuditKind::CrossTenantAttempt,
            _ => AuditKind::Denied,
        };
        let event = AuditEvent::new(kind, "system.act_for_tenant", Outcome::Denied)
            .with_subject(self.subject)
            .with_reason(error.to_string());
        match self.tenant_id() {
            Some(own) => event.with_tenant(own),
            None => event,
        }
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
    use crate::audit::MemoryAuditSink;

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
        let sink = MemoryAuditSink::default();
        assert_eq!(
            ctx.act_for_tenant(TenantId::from_u128(2), "because", &sink)
                .unwrap_err(),
            AccessError::SystemScopeRequired
        );
        // The attempt is in the attacker's own log, not in its target's.
        let events = sink.events();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, AuditKind::CrossTenantAttempt);
        assert_eq!(events[0].outcome, Outcome::Denied);
        assert_eq!(events[0].tenant, Some(TenantId::from_u128(1)));
        assert!(sink.for_tenant(TenantId::from_u128(2)).is_empty());
    }

    #[test]
    fn acting_needs_a_reason_and_cannot_be_chained() {
        let op = TenantContext::system(
            SubjectId::from_u128(9),
            RoleName::platform_admin(),
            PermissionSet::all(),
        );
        assert_eq!(op.require_tenant(), Err(AccessError::NoTenant));
        let sink = MemoryAuditSink::default();
        assert_eq!(
            op.act_for_tenant(TenantId::from_u128(1), "  ", &sink)
                .unwrap_err(),
            AccessError::ReasonRequired
        );
        let refused = sink.events();
        assert_eq!(refused.len(), 1);
        assert_eq!(
            (refused[0].kind, refused[0].outcome, refused[0].tenant),
            (AuditKind::Denied, Outcome::Denied, None)
        );
        let acting = op
            .act_for_tenant(TenantId::from_u128(1), "support case", &sink)
            .unwrap();
        assert_eq!(acting.acting_reason(), Some("support case"));
        assert_eq!(
            acting
                .act_for_tenant(TenantId::from_u128(2), "hop", &sink)
                .unwrap_err(),
            AccessError::SystemScopeRequired
        );
        // The hop is recorded in the log of the tenant it was acting for.
        let hop = sink.events().pop().unwrap();
        assert_eq!(
            (hop.kind, hop.tenant),
            (AuditKind::CrossTenantAttempt, Some(TenantId::from_u128(1)))
        );
        assert!(sink.for_tenant(TenantId::from_u128(2)).is_empty());
    }

    #[test]
    fn acting_for_a_tenant_is_recorded_without_the_callers_help() {
        let op = TenantContext::system(
            SubjectId::from_u128(9),
            RoleName::platform_admin(),
            PermissionSet::all(),
        );
        let sink = MemoryAuditSink::default();
        let acme = TenantId::from_u128(1);
        // The caller does nothing with an event: the step records itself.
        let acting = op.act_for_tenant(acme, "  support case ", &sink).unwrap();
        assert_eq!(acting.tenant_id(), Some(acme));
        let events = sink.for_tenant(acme);
        assert_eq!(events.len(), 1, "{events:?}");
        let event = &events[0];
        assert_eq!(event.kind, AuditKind::SystemAccess);
        assert_eq!(event.outcome, Outcome::Allowed);
        assert_eq!(event.action, "system.act_for_tenant");
        assert_eq!(event.subject, Some(SubjectId::from_u128(9)));
        assert_eq!(event.reason.as_deref(), Some("support case"));
        assert_eq!(sink.events().len(), 1);
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
