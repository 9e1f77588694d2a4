//! The service the layer wraps around a router.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tenancy_core::AuditSink;
use tower::Service;

use super::held_body::hold_until_sent;
use super::unread_body::settle_unread_body;
use super::{AuditOnResponse, Shared};

/// The [`TenancyLayer`](super::TenancyLayer)'s service.
#[derive(Clone)]
pub struct TenancyService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for TenancyService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenancyService").finish_non_exhaustive()
    }
}

impl<S> TenancyService<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        TenancyService { inner, shared }
    }
}

impl<S> Service<Request<Body>> for TenancyService<S>
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

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let mut request = self.shared.limit_body(request);
        // The clone is not ready yet; the ready one goes into the future.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        // INVARIANT: one way for every request; on hits of every cache it
        // completes without waiting, inside the one boxed future.
        Box::pin(async move {
            match shared.authenticate(&mut request).await {
                Ok(permit) => {
                    let response = inner.call(request).await;
                    let audit = shared.admission.audit();
                    let response = response.map(|r| record_carried(&**audit, r));
                    // INVARIANT: the concurrency slot is held until the
                    // response body has been sent or dropped.
                    hold_until_sent(response, permit)
                }
                // INVARIANT: a refusal leaves the connection usable, or
                // says it is closing. Boxed: refusals are rare, and the
                // future of every request stays small.
                Err(rejection) => {
                    let settled = settle_unread_body(request, rejection.into_response());
                    Ok(Box::pin(settled).await)
                }
            }
        })
    }
}

/// Records the audit event a handler's response carries, if any, and takes
/// it off the response.
fn record_carried(audit: &dyn AuditSink, mut response: Response) -> Response {
    if let Some(AuditOnResponse(event)) = response.extensions_mut().remove::<AuditOnResponse>() {
        audit.record(event);
    }
    response
}
