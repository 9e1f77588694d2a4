//! The tenant context of a request.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tenancy_core::{Entitlements, Scope, TenantContext, TenantId};

use crate::directory::TenantRecord;
use crate::layer::{AuthState, Authenticated};
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
#[derive(Clone)]
pub struct Tenant {
    // The layer's state for this request: shared, not copied, so extracting
    // costs two reference counts.
    state: Arc<AuthState>,
    tenant: TenantId,
    record: Arc<TenantRecord>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("ctx", &self.state.ctx)
            .field("tenant", &self.tenant)
            .field("record", &self.record)
            .finish()
    }
}

impl Tenant {
    /// The tenant.
    pub fn id(&self) -> TenantId {
        self.tenant
    }

    /// The context.
    pub fn context(&self) -> &TenantContext {
        &self.state.ctx
    }

    /// The context, by value.
    pub fn into_context(self) -> TenantContext {
        Arc::try_unwrap(self.state).map_or_else(|shared| shared.ctx.clone(), |own| own.ctx)
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
        &self.state.ctx
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
                state: Arc::clone(state),
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
