//! The opt-in that lets a platform operator act for a tenant on some routes.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::Request;
use tower::{Layer, Service};

use super::{AuthState, Authenticated};

/// A route layer under which a system-scope token that named a tenant and a
/// reason (the [`ACT_FOR_HEADER`](super::ACT_FOR_HEADER) header or a
/// [`TenantResolver`](super::TenantResolver), plus
/// [`ACT_REASON_HEADER`](super::ACT_REASON_HEADER)) acts for that tenant.
///
/// Each such request records a [`SystemAccess`](tenancy_core::AuditKind::SystemAccess)
/// audit event in the tenant's log, with the operator and the reason. Routes
/// without this layer refuse system tokens in [`Tenant`](crate::Tenant).
///
/// ```
/// use axum::{Router, routing::get};
/// use tenancy_axum::{OperatorActingLayer, Tenant};
///
/// async fn show_lease(t: Tenant) -> String {
///     // `t.acting_reason()` is `Some` when an operator acts for the tenant.
///     t.acting_reason().unwrap_or("tenant user").to_owned()
/// }
///
/// // Only the support routes let an operator in; add the TenancyLayer
/// // around the whole router as usual.
/// let support: Router = Router::new()
///     .route("/support/leases/{id}", get(show_lease))
///     .route_layer(OperatorActingLayer::new());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct OperatorActingLayer;

impl OperatorActingLayer {
    /// The layer.
    pub fn new() -> Self {
        OperatorActingLayer
    }
}

impl<S> Layer<S> for OperatorActingLayer {
    type Service = OperatorActingService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OperatorActingService { inner }
    }
}

/// The [`OperatorActingLayer`]'s service.
#[derive(Debug, Clone)]
pub struct OperatorActingService<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for OperatorActingService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let acting = request
            .extensions()
            .get::<Authenticated>()
            .and_then(|auth| {
                let state = &auth.0;
                let wanted = state.acting.as_ref()?;
                let ctx = state
                    .ctx
                    .act_for_tenant(wanted.record.id, &wanted.reason, state.audit.as_ref())
                    .ok()?;
                Some(Authenticated(Arc::new(AuthState {
                    ctx,
                    record: Some(Arc::clone(&wanted.record)),
                    audit: Arc::clone(&state.audit),
                    acting: None,
                })))
            });
        if let Some(acting) = acting {
            request.extensions_mut().insert(acting);
        }
        self.inner.call(request)
    }
}
