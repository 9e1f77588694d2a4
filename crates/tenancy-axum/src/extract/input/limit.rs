//! The body limit of routes outside the tenancy layer.

use std::task::{Context, Poll};

use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use tower::{Layer, Service};

use crate::layer::BodyLimit;

/// Limits the bodies of the routes it wraps, like axum's
/// `DefaultBodyLimit`, and tells this crate's body extractors
/// ([`Json`](super::Json), [`Valid`](super::Valid)) the limit, so a 413 on
/// a public route reads word for word like the
/// [`TenancyLayer`](crate::TenancyLayer)'s. Where the layer sets its own
/// limit ([`max_body_bytes`](crate::TenancyLayerBuilder::max_body_bytes)),
/// the layer's wins.
///
/// ```
/// use axum::{Router, routing::post};
/// use tenancy_axum::input::BodyLimitLayer;
///
/// async fn redeem(body: String) -> String { body }
///
/// let app: Router = Router::new()
///     .route("/redeem", post(redeem))
///     .layer(BodyLimitLayer::max(64 * 1024));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BodyLimitLayer {
    limit: usize,
}

impl BodyLimitLayer {
    /// At most `limit` bytes per body.
    pub fn max(limit: usize) -> Self {
        BodyLimitLayer { limit }
    }
}

impl<S> Layer<S> for BodyLimitLayer {
    type Service = BodyLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyLimitService {
            inner,
            limit: self.limit,
        }
    }
}

/// The [`BodyLimitLayer`]'s service.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimitService<S> {
    inner: S,
    limit: usize,
}

impl<S, B> Service<Request<B>> for BodyLimitService<S>
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
        if request.extensions().get::<BodyLimit>().is_none() {
            request.extensions_mut().insert(BodyLimit(self.limit));
            DefaultBodyLimit::max(self.limit).apply(&mut request);
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;
    use crate::input::{Valid, read};

    #[tokio::test]
    async fn a_public_413_names_the_limit() {
        async fn echo(Valid(()): Valid<()>) {}
        let app = Router::new()
            .route("/echo", post(echo))
            .layer(BodyLimitLayer::max(16));
        let call = |body: &'static str| {
            let app = app.clone();
            async move {
                let request = Request::post("/echo").body(Body::from(body)).unwrap();
                let response = app.oneshot(request).await.unwrap();
                let status = response.status();
                let bytes = axum::body::to_bytes(response.into_body(), 4096)
                    .await
                    .unwrap();
                (
                    status.as_u16(),
                    serde_json::from_slice::<serde_json::Value>(&bytes).ok(),
                )
            }
        };
        assert_eq!(call("{}").await.0, 200);
        let (status, body) = call(r#"{"a": "longer than sixteen bytes"}"#).await;
        assert_eq!(status, 413);
        let body = body.unwrap_or_default();
        assert_eq!(body["detail"], "request body is larger than 16 bytes");
        assert!(read::<()>(b"{}").is_ok());
    }
}
