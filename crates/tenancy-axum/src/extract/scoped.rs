//! Responding with a tenant-bound value.

use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tenancy_core::{AccessError, Scoped, TenantContext};

use crate::problem::Problem;

/// A JSON response of a [`Scoped`] value: the value is serialised only after
/// it is checked to belong to the request's tenant, and the owning tenant's
/// id is never written. A value of another tenant answers 404, as if it did
/// not exist.
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
pub struct ScopedJson<T>(Result<T, AccessError>);

impl<T> ScopedJson<T> {
    /// Opens `value` under `ctx`.
    pub fn new(ctx: &TenantContext, value: Scoped<T>) -> Self {
        ScopedJson(value.into_inner(ctx))
    }
}

impl<T: Serialize> IntoResponse for ScopedJson<T> {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(value) => axum::Json(value).into_response(),
            Err(_) => Problem::not_found("not found in this tenant").into_response(),
        }
    }
}
