//! The HTTP routes, in one place.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};

use crate::guard::authenticate;
use crate::input::MAX_BODY_BYTES;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::{audit, leases, properties, tenants};

/// Every route: public ones (`/healthz`, `/auth/redeem`), then the ones
/// behind the token middleware (tenant scope and system scope).
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route(
            "/properties",
            get(properties::list).post(properties::create),
        )
        .route(
            "/properties/{id}",
            get(properties::get)
                .patch(properties::update)
                .delete(properties::delete),
        )
        .route("/leases", get(leases::list).post(leases::create))
        .route(
            "/leases/{id}",
            get(leases::get)
                .patch(leases::update)
                .delete(leases::delete),
        )
        .route("/leases/{id}/reminders", post(leases::remind))
        .route("/audit", get(audit::list))
        .route(
            "/system/tenants",
            get(tenants::list_route).post(tenants::create_route),
        )
        .route(
            "/system/tenants/{id}",
            axum::routing::delete(tenants::delete_route),
        )
        .route("/system/tenants/{id}/suspend", post(tenants::suspend_route))
        .route(
            "/system/tenants/{id}/activate",
            post(tenants::activate_route),
        )
        .route("/system/redeem-codes", post(tenants::create_code_route))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/auth/redeem", post(tenants::redeem_route))
        .merge(protected)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
