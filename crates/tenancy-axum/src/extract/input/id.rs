//! An id in the path, which names nothing when it is not an id.

use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::rejection::InputRejection;

/// The route's one path parameter, parsed with [`FromStr`]. Anything that
/// does not parse (including a segment that does not percent-decode) names
/// nothing, so it is refused with 404 ([`InputRejection::NotFound`]), as a
/// handler answers for an id that is not in the tenant: a client learns
/// nothing from the shape of what it sends. A route with more than one
/// parameter is a wiring bug (500).
///
/// ```
/// use tenancy_axum::input::PathId;
/// use tenancy_core::TenantId;
///
/// async fn suspend(PathId(tenant): PathId<TenantId>) -> String {
///     format!("suspending {tenant}")
/// }
/// # let _ = axum::Router::<()>::new().route("/tenants/{id}/suspend", axum::routing::post(suspend));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathId<T>(pub T);

impl<T: FromStr + Send, S: Send + Sync> FromRequestParts<S> for PathId<T> {
    type Rejection = InputRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let text = match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(text)) => text,
            Err(e) if e.status().is_server_error() => {
                return Err(InputRejection::Path {
                    detail: e.body_text(),
                    server_error: true,
                });
            }
            Err(_) => return Err(InputRejection::NotFound),
        };
        text.parse()
            .map(PathId)
            .map_err(|_| InputRejection::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tenancy_core::TenantId;
    use tower::ServiceExt;

    use super::*;

    async fn status(path: &str) -> StatusCode {
        async fn show(PathId(id): PathId<TenantId>) -> String {
            id.to_string()
        }
        async fn two(_: PathId<TenantId>) {}
        let app = Router::new()
            .route("/things/{id}", get(show))
            .route("/pairs/{a}/{b}", get(two));
        let request = Request::get(path).body(Body::empty()).unwrap();
        app.oneshot(request).await.unwrap().status()
    }

    #[tokio::test]
    async fn anything_but_an_id_is_not_found() {
        let id = TenantId::from_u128(7).to_string();
        assert_eq!(status(&format!("/things/{id}")).await, StatusCode::OK);
        assert_eq!(
            status(&format!("/things/{}", id.to_uppercase())).await,
            StatusCode::OK
        );
        for path in [
            "/things/7",
            "/things/not-an-id",
            "/things/%FF",
            "/things/%FF%FE",
        ] {
            assert_eq!(status(path).await, StatusCode::NOT_FOUND, "{path}");
        }
        assert_eq!(
            status(&format!("/pairs/{id}/{id}")).await,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
