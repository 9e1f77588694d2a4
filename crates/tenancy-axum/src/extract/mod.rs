//! Extractors: the tenant context, permissions, the system scope, and input
//! wrappers whose refusals are problem+json.

pub mod input;
mod require;
mod scoped;
mod system;
mod tenant;

pub use require::Require;
pub use scoped::ScopedJson;
pub use system::SystemAdmin;
pub use tenant::Tenant;

use axum::http::Extensions;
use tenancy_core::{AuditEvent, AuditKind, Outcome, TenantContext};

use crate::layer::{AuthState, Authenticated};

/// The context the [`TenancyLayer`](crate::TenancyLayer) left in a request's
/// extensions, for middleware that runs after it (handlers use [`Tenant`],
/// [`SystemAdmin`] or [`Require`]). `None` when the layer is not in front.
///
/// This is the context as authenticated: a system token acting for a
/// tenant shows as acting only on routes behind
/// [`OperatorActingLayer`](crate::OperatorActingLayer).
pub fn context_from(extensions: &Extensions) -> Option<&TenantContext> {
    extensions.get::<Authenticated>().map(|a| &a.0.ctx)
}

/// Records a refusal by an extractor in the audit sink.
pub(crate) fn audit_denied(state: &AuthState, action: &str, reason: &str) {
    let mut event = AuditEvent::new(AuditKind::Denied, action, Outcome::Denied)
        .with_subject(state.ctx.subject())
        .with_reason(reason);
    if let Some(tenant) = state.ctx.tenant_id() {
        event = event.with_tenant(tenant);
    }
    state.audit.record(event);
}
