//! `SystemAdmin`: the request comes from a platform operator.

use std::ops::Deref;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tenancy_core::{Scope, TenantContext};

use crate::layer::Authenticated;
use crate::rejection::SystemRejection;

/// A system-scope context, not acting for any tenant: for platform routes
/// (tenant provisioning, plans, suspensions). A tenant token is refused
/// (403). Combine with [`Require`](crate::Require) and a `system:…`
/// permission to narrow further.
#[derive(Debug, Clone)]
pub struct SystemAdmin(TenantContext);

impl SystemAdmin {
    /// The operator's context.
    pub fn context(&self) -> &TenantContext {
        &self.0
    }
}

impl Deref for SystemAdmin {
    type Target = TenantContext;

    fn deref(&self) -> &TenantContext {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SystemAdmin {
    type Rejection = SystemRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = parts
            .extensions
            .get::<Authenticated>()
            .ok_or(SystemRejection::MissingLayer)?;
        let state = &auth.0;
        if state.ctx.scope() == Scope::System && state.ctx.tenant_id().is_none() {
            Ok(SystemAdmin(state.ctx.clone()))
        } else {
            super::audit_denied(state, "route.scope", "tenant token on a system route");
            Err(SystemRejection::NotSystem)
        }
    }
}
