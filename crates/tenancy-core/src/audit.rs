//! Audit events and where they go.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use crate::id::{SubjectId, TenantId};

/// What an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum AuditKind {
    /// An ordinary action inside a tenant (created, updated, deleted, ran).
    Action,
    /// An access refused for lack of a permission, scope or status.
    Denied,
    /// An attempt to reach another tenant's data or to act for another tenant.
    CrossTenantAttempt,
    /// A platform operator reached a tenant's data.
    SystemAccess,
    /// A request or job refused by a rate, concurrency or quota limit.
    Limited,
    /// Data that should have belonged to the context's tenant did not.
    LeakPrevented,
}

impl AuditKind {
    /// A stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Action => "action",
            AuditKind::Denied => "denied",
            AuditKind::CrossTenantAttempt => "cross_tenant_attempt",
            AuditKind::SystemAccess => "system_access",
            AuditKind::Limited => "limited",
            AuditKind::LeakPrevented => "leak_prevented",
        }
    }
}

/// Whether the audited action went ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Outcome {
    /// It went ahead.
    Allowed,
    /// It was refused.
    Denied,
}

impl Outcome {
    /// `allowed` or `denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        }
    }
}

/// One audited fact.
///
/// `tenant` is the tenant whose log holds the event: the acting context's
/// tenant, never the one an attacker tried to reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// When it happened.
    pub at: SystemTime,
    /// What kind of fact it is.
    pub kind: AuditKind,
    /// The tenant whose log holds it; `None` for platform events.
    pub tenant: Option<TenantId>,
    /// Who acted, when known.
    pub subject: Option<SubjectId>,
    /// A stable, dotted action name (`lease.create`).
    pub action: String,
    /// The kind of resource acted on (`lease`).
    pub resource_type: Option<String>,
    /// The resource's id within the tenant.
    pub resource_id: Option<String>,
    /// Whether it went ahead.
    pub outcome: Outcome,
    /// Why: the reason a system operator gave, or why it was refused.
    pub reason: Option<String>,
}

impl AuditEvent {
    /// An event happening now.
    pub fn new(kind: AuditKind, action: impl Into<String>, outcome: Outcome) -> Self {
        AuditEvent {
            at: SystemTime::now(),
            kind,
            tenant: None,
            subject: None,
            action: action.into(),
            resource_type: None,
            resource_id: None,
            outcome,
            reason: None,
        }
    }

    /// Files the event in `tenant`'s log.
    #[must_use]
    pub fn with_tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = Some(tenant);
        self
    }

    /// Records who acted.
    #[must_use]
    pub fn with_subject(mut self, subject: SubjectId) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Records the resource acted on.
    #[must_use]
    pub fn with_resource(
        mut self,
        resource_type: impl Into<String>,
        id: impl Into<String>,
    ) -> Self {
        self.resource_type = Some(resource_type.into());
        self.resource_id = Some(id.into());
        self
    }

    /// Records why.
    #[must_use]
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the time (for replay and tests).
    #[must_use]
    pub fn at(mut self, at: SystemTime) -> Self {
        self.at = at;
        self
    }
}

/// Where audit events go. Implementations must not block for long: hand the
/// event to a queue when the destination is remote.
pub trait AuditSink: Send + Sync {
    /// Records one event.
    fn record(&self, event: AuditEvent);
}

impl<S: AuditSink + ?Sized> AuditSink for Arc<S> {
    fn record(&self, event: AuditEvent) {
        (**self).record(event);
    }
}

impl<S: AuditSink + ?Sized> AuditSink for &S {
    fn record(&self, event: AuditEvent) {
        (**self).record(event);
    }
}

/// Keeps events in memory: for tests and small services.
///
/// ```
/// use tenancy_core::*;
///
/// let sink = MemoryAuditSink::default();
/// sink.record(AuditEvent::new(AuditKind::Denied, "lease.read", Outcome::Denied).with_tenant(TenantId::from_u128(1)));
/// assert_eq!(sink.for_tenant(TenantId::from_u128(1)).len(), 1);
/// assert!(sink.for_tenant(TenantId::from_u128(2)).is_empty());
/// ```
#[derive(Debug, Default)]
pub struct MemoryAuditSink {
    events: Mutex<Vec<AuditEvent>>,
}

impl MemoryAuditSink {
    /// Every event, oldest first.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The events in one tenant's log, oldest first.
    pub fn for_tenant(&self, tenant: TenantId) -> Vec<AuditEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|e| e.tenant == Some(tenant))
            .cloned()
            .collect()
    }
}

impl AuditSink for MemoryAuditSink {
    fn record(&self, event: AuditEvent) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
    }
}

/// Drops every event: for benches and services that audit elsewhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiscardAuditSink;

impl AuditSink for DiscardAuditSink {
    fn record(&self, _event: AuditEvent) {}
}
