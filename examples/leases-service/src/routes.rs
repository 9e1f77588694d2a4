//! The HTTP routes, in one place.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::input::MAX_BODY_BYTES;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::{audit, client_limit, leases, properties, tenants};
use axum::response::IntoResponse;

/// Every route: public ones (`/healthz`, and `/auth/redeem`, limited per
/// client address, so serve the router with connect info as
/// [`crate::start`] does), then the ones behind the tenancy layer (tenant
/// scope and system scope; the extractors in each handler's signature say
/// which scope and permission it needs).
pub fn router(state: AppState, tenancy: tenancy_axum::TenancyLayer) -> Router {
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
        .route_layer(tenancy)
        .layer(axum::middleware::map_response(no_claim_names));
    Router::new()
        .route("/healthz", get(healthz))
        // Public and writing: limited per client address before the
        // handler reads the body or the database.
        .route(
            "/auth/redeem",
            post(tenants::redeem_route).route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                client_limit::per_client,
            )),
        )
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
    ApiError::Absent("no such path")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The contract promises that no response body contains a `tenant_id`; a
/// token refusal that names the claim (`token claim `tenant_id` is
/// missing`) is reworded to say "tenant claim" instead.
async fn no_claim_names(response: axum::response::Response) -> axum::response::Response {
    use axum::body::Body;
    const CLAIM: &str = "`tenant_id`";
    if response.status() != axum::http::StatusCode::UNAUTHORIZED {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024).await else {
        return ApiError::Unauthorized("the token is not acceptable").into_response();
    };
    let text = String::from_utf8_lossy(&bytes);
    if !text.contains(CLAIM) {
        return axum::response::Response::from_parts(parts, Body::from(bytes));
    }
    let text = text
        .replace(&format!("token claim {CLAIM}"), "tenant claim")
        .replace(CLAIM, "tenant claim");
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    axum::response::Response::from_parts(parts, Body::from(text))
}
