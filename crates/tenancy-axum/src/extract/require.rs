//! `Require<P>`: the handler runs only if the context holds permission `P`.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::layer::Authenticated;
use crate::permission::PermissionName;
use crate::rejection::PermissionRejection;

/// Admits the request only if its context holds the permission `P`
/// (declared with [`permission!`](crate::permission!)); otherwise 403 naming
/// the permission, recorded in the audit sink.
///
/// A platform permission (`system:…`) needs a system-scope context; any
/// other needs a tenant (a tenant token, or an operator acting for one), so
/// a platform operator's all-powerful role does not reach tenant routes by
/// accident.
///
/// ```
/// use tenancy_axum::{Require, Tenant, permission};
///
/// permission!(pub LeasesRead = "leases:read");
///
/// async fn list(t: Tenant, _: Require<LeasesRead>) -> String {
///     format!("leases of {}", t.subject())
/// }
/// # let _ = axum::Router::<()>::new().route("/leases", axum::routing::get(list));
/// ```
pub struct Require<P>(PhantomData<fn() -> P>);

impl<P> std::fmt::Debug for Require<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Require").finish()
    }
}

impl<P> Clone for Require<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P> Copy for Require<P> {}

impl<S: Send + Sync, P: PermissionName> FromRequestParts<S> for Require<P> {
    type Rejection = PermissionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = parts
            .extensions
            .get::<Authenticated>()
            .ok_or(PermissionRejection::MissingLayer)?;
        let state = &auth.0;
        let permission = P::permission().ok_or(PermissionRejection::InvalidDeclaration)?;
        let platform = permission.touches_platform();
        let bound = state.ctx.tenant_id().is_some();
        if platform == bound {
            super::audit_denied(
                state,
                "route.scope",
                "token scope does not fit the permission",
            );
            return Err(PermissionRejection::SystemScope);
        }
        if !state.ctx.allows(permission) {
            super::audit_denied(
                state,
                "route.permission",
                &format!("missing permission `{permission}`"),
            );
            return Err(PermissionRejection::Missing(permission.clone()));
        }
        Ok(Require(PhantomData))
    }
}
