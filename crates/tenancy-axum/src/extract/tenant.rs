//! The tenant context of a request.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tenancy_core::{Entitlements, Scope, TenantContext, TenantId};

use crate::directory::TenantRecord;
use crate::layer::Authenticated;
use crate::rejection::TenantRejection;

/// The request's tenant context: a tenant-scope token's, or an operator's
/// acting for a tenant on a route that allows it.
///
/// A system-scope token that is not acting for a tenant is refused (403).
/// Derefs to [`TenantContext`].
///
/// ```
/// use tenancy_axum::Tenant;
///
/// async fn whoami(t: Tenant) -> String {
///     format!("{} as {}", t.subject(), t.role())
/// }
/// # let _ = axum::Router::<()>::new().route("/me", axum::routing::get(whoami));
/// ```
#[derive(Debug, Clone)]
pub struct Tenant {
    ctx: TenantContext,
    tenant: TenantId,
    record: Arc<TenantRecord>,
}

impl Tenant {
    /// The tenant.
    pub fn id(&self) -> TenantId {
        self.tenant
    }

    /// The context.
    pub fn context(&self) -> &TenantContext {
        &self.ctx
    }

    /// The context, by value.
    pub fn into_context(self) -> TenantContext {
        self.ctx
    }

    /// The tenant's plan after overrides.
    pub fn entitlements(&self) -> &Entitlements {
        &self.record.entitlements
    }

    /// The tenant's directory record.
    pub fn record(&self) -> &TenantRecord {
        &self.record
    }
}

impl Deref for Tenant {
    type Target = TenantContext;

    fn deref(&self) -> &TenantContext {
        &self.ctx
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = TenantRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = parts
            .extensions
            .get::<Authenticated>()
            .ok_or(TenantRejection::MissingLayer)?;
        let state = &auth.0;
        match (state.ctx.tenant_id(), &state.record) {
            // INVARIANT: the record is the context's own tenant's.
            (Some(tenant), Some(record)) if record.id == tenant => Ok(Tenant {
                ctx: state.ctx.clone(),
                tenant,
                record: Arc::clone(record),
            }),
            _ => {
                if state.ctx.scope() == Scope::System {
                    super::audit_denied(state, "route.scope", "system token on a tenant route");
                }
                Err(TenantRejection::SystemScope)
            }
        }
    }
}
