//! The opt-in that lets a platform operator act for a tenant on some routes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tenancy_admission::AdmissionRequest;
use tower::{Layer, Service};

use super::held_body::hold_until_sent;
use super::unread_body::settle_unread_body;
use super::{ActingRequest, Authenticated};
use crate::rejection::TenancyRejection;

/// A route layer under which a system-scope token that named a tenant and a
/// reason (the [`ACT_FOR_HEADER`](super::ACT_FOR_HEADER) header or a
/// [`TenantResolver`](super::TenantResolver), plus
/// [`ACT_REASON_HEADER`](super::ACT_REASON_HEADER)) acts for that tenant.
///
/// An acting request passes the tenant's own admission, the very code its
/// own requests pass:
/// - a tenant that is deleted, decommissioning or provisioning is refused
///   (403, `tenant-unavailable`), exactly like its own requests;
/// - a suspended tenant is refused the same way unless the operator names
///   that intent with [`ACT_SUSPENDED_HEADER`](super::ACT_SUSPENDED_HEADER)
///   (`tenancy-act-suspended: true`); then it is admitted and a
///   `system.act_for_suspended_tenant` event is recorded besides the usual
///   one;
/// - the tenant's rate and concurrency limits apply (429 with
///   `Retry-After`), and the request holds one of the tenant's concurrency
///   slots until its response body is sent, so a drain that waits for the
///   tenant's requests in flight waits for it too.
///
/// Each refusal is audited in the tenant's log, naming the operator. Each
/// admitted request records a [`SystemAccess`](tenancy_core::AuditKind::SystemAccess)
/// audit event in the tenant's log, with the operator and the reason (at
/// most [`MAX_ACT_REASON_BYTES`](super::MAX_ACT_REASON_BYTES) of UTF-8 once
/// trimmed, without control characters; anything else is refused with 400
/// before any event is written). Routes
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

impl<S> Service<Request<Body>> for OperatorActingService<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let acting = request
            .extensions()
            .get::<Authenticated>()
            .zip(request.extensions().get::<ActingRequest>())
            .map(|(auth, wanted)| (Arc::clone(&auth.0), wanted.clone()));
        let Some((operator, wanted)) = acting else {
            // Not an operator acting for a tenant: nothing to admit here.
            return Box::pin(self.inner.call(request));
        };
        // The clone is not ready yet; the ready one goes into the future.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let asked =
                AdmissionRequest::acting(&operator.ctx, Arc::clone(&wanted.record), &wanted.reason)
                    .acting_for_suspended(wanted.suspended);
            match wanted.admission.admit(asked).await {
                Ok(admitted) => {
                    let (pass, permit) = admitted.into_parts();
                    request.extensions_mut().insert(Authenticated(pass));
                    // INVARIANT: the tenant's concurrency slot is held until
                    // the response body has been sent or dropped.
                    hold_until_sent(inner.call(request).await, permit)
                }
                Err(refusal) => {
                    let refused = TenancyRejection::from(refusal).into_response();
                    Ok(settle_unread_body(request, refused).await)
                }
            }
        })
    }
}
