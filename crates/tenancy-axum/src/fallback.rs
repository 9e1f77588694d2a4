//! Fallbacks that answer an unknown path (404) and a method the path does
//! not have (405) with problem+json, like every other refusal of the SDK,
//! instead of axum's empty bodies.
//!
//! ```
//! use axum::{Router, routing::get};
//! use tenancy_axum::fallback::ProblemFallbacks;
//!
//! let app: Router = Router::new()
//!     .route("/notes", get(|| async { "[]" }))
//!     .problem_fallbacks();
//! # let _ = app;
//! ```
//!
//! Or one at a time: `.fallback(fallback::not_found)` and
//! `.method_not_allowed_fallback(fallback::method_not_allowed)`. axum still
//! sets the `Allow` header of a 405.

use axum::Router;

use crate::problem::Problem;

/// 404 problem+json for a path no route has, for `Router::fallback`.
pub async fn not_found() -> Problem {
    Problem::not_found("no such path")
}

/// 405 problem+json for a method the path does not have, for
/// `Router::method_not_allowed_fallback`.
pub async fn method_not_allowed() -> Problem {
    Problem::method_not_allowed()
}

/// Installs [`not_found`] and [`method_not_allowed`] on a [`Router`] in one
/// call.
pub trait ProblemFallbacks {
    /// The router with both fallbacks.
    #[must_use]
    fn problem_fallbacks(self) -> Self;
}

impl<S: Clone + Send + Sync + 'static> ProblemFallbacks for Router<S> {
    fn problem_fallbacks(self) -> Self {
        self.fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;
    use crate::problem::types;

    async fn check(app: Router, method: &str, uri: &str, status: StatusCode, type_uri: &str) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), status, "{method} {uri}");
        let headers = response.headers().clone();
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{method} {uri}"
        );
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert_eq!(headers[header::ALLOW], "GET,HEAD", "{method} {uri}");
        }
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["type"], type_uri, "{method} {uri}");
        assert_eq!(body["status"], status.as_u16(), "{method} {uri}");
    }

    fn app() -> Router {
        Router::new()
            .route("/notes", get(|| async { "[]" }))
            .problem_fallbacks()
    }

    #[tokio::test]
    async fn unknown_path_is_not_an_empty_404() {
        check(
            app(),
            "GET",
            "/nope",
            StatusCode::NOT_FOUND,
            types::NOT_FOUND,
        )
        .await;
        check(
            app(),
            "POST",
            "/notes/1",
            StatusCode::NOT_FOUND,
            types::NOT_FOUND,
        )
        .await;
    }

    #[tokio::test]
    async fn wrong_method_is_not_an_empty_405() {
        check(
            app(),
            "DELETE",
            "/notes",
            StatusCode::METHOD_NOT_ALLOWED,
            types::METHOD_NOT_ALLOWED,
        )
        .await;
    }

    #[tokio::test]
    async fn the_handlers_serve_on_their_own() {
        let app = Router::new()
            .route("/notes", get(|| async { "[]" }))
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed);
        check(
            app.clone(),
            "GET",
            "/x",
            StatusCode::NOT_FOUND,
            types::NOT_FOUND,
        )
        .await;
        check(
            app,
            "PUT",
            "/notes",
            StatusCode::METHOD_NOT_ALLOWED,
            types::METHOD_NOT_ALLOWED,
        )
        .await;
    }
}
