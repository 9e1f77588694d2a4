//! Responding with a tenant-bound value.

use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tenancy_core::{AccessError, AuditEvent, AuditKind, Outcome, Scoped, TenantContext};

use crate::layer::AuditOnResponse;
use crate::problem::Problem;

/// A JSON response of a [`Scoped`] value: the value is serialised only after
/// it is checked to belong to the request's tenant, and the owning tenant's
/// id is never written. A value of another tenant answers 404, as if it did
/// not exist.
///
/// That 404 is a cross-tenant attempt: the [`TenancyLayer`](crate::TenancyLayer)
/// in front of the route records it in its audit sink, as an
/// [`AuditKind::CrossTenantAttempt`] in the request's own tenant's log, with
/// nothing of the tenant that owns the value.
///
/// ```
/// use tenancy_axum::ScopedJson;
/// use tenancy_core::*;
///
/// let member = |tenant| TenantContext::tenant(TenantId::from_u128(tenant), SubjectId::from_u128(1), RoleName::member(), PermissionSet::empty());
/// let (ctx, theirs) = (member(1), member(2));
/// let other = Scoped::new(&theirs, "theirs")?;
/// let response = axum::response::IntoResponse::into_response(ScopedJson::new(&ctx, other));
/// assert_eq!(response.status(), 404);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ScopedJson<T>(Result<T, AuditEvent>);

impl<T> ScopedJson<T> {
    /// Opens `value` under `ctx`.
    pub fn new(ctx: &TenantContext, value: Scoped<T>) -> Self {
        ScopedJson(value.into_inner(ctx).map_err(|e| refusal(ctx, &e)))
    }
}

/// The audit event of a refused [`ScopedJson`]: filed in `ctx`'s own log
/// (a platform event for a context bound to no tenant), naming neither the
/// owner of the value nor anything of it.
fn refusal(ctx: &TenantContext, error: &AccessError) -> AuditEvent {
    let kind = match error {
        AccessError::CrossTenant => AuditKind::CrossTenantAttempt,
        _ => AuditKind::Denied,
    };
    let event = AuditEvent::new(kind, "response.scoped_json", Outcome::Denied)
        .with_subject(ctx.subject())
        .with_reason(error.to_string());
    match ctx.tenant_id() {
        Some(tenant) => event.with_tenant(tenant),
        None => event,
    }
}

impl<T: Serialize> IntoResponse for ScopedJson<T> {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(value) => axum::Json(value).into_response(),
            Err(event) => {
                let mut response = Problem::not_found("not found in this tenant").into_response();
                // The layer records it; response extensions never reach the
                // client.
                response.extensions_mut().insert(AuditOnResponse(event));
                response
            }
        }
    }
}
