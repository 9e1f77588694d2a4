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

use tenancy_core::{AuditEvent, AuditKind, Outcome};

use crate::layer::AuthState;

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
