//! HTTP: every route behind one `TenancyLayer`, and what handlers share.

pub(crate) mod client_limit;
pub(crate) mod cursor;
pub(crate) mod error;
pub(crate) mod page;
pub(crate) mod permissions;
pub(crate) mod state;

use axum::Router;
use axum::routing::{delete, get, post};
use tenancy_axum::TenancyLayer;
use tenancy_axum::fallback::ProblemFallbacks;
use tenancy_axum::input::BodyLimitLayer;

use crate::domain::{audit, leases, properties};
use crate::platform::{decommission, redeem, tenants};

pub(crate) use error::ApiError;
pub(crate) use state::AppState;

/// The most a request body may hold.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every route: public ones (`/healthz`, and `/auth/redeem`, limited per
/// client address, so serve the router with connect info as
/// [`crate::start`] does), then the ones behind the tenancy layer (tenant
/// scope and system scope; the extractors in each handler's signature say
/// which scope and permission it needs).
pub(crate) fn router(state: AppState, tenancy: TenancyLayer) -> Router {
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
        .route("/system/tenants", get(tenants::list).post(tenants::create))
        .route("/system/tenants/{id}", delete(decommission::route))
        .route("/system/tenants/{id}/suspend", post(tenants::suspend))
        .route("/system/tenants/{id}/activate", post(tenants::activate))
        .route("/system/redeem-codes", post(redeem::create_code))
        .route_layer(tenancy);
    Router::new()
        .route("/healthz", get(healthz))
        // Public and writing: limited per client address before the
        // handler reads the body or the database.
        .route(
            "/auth/redeem",
            post(redeem::redeem).route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                client_limit::per_client,
            )),
        )
        .merge(protected)
        .problem_fallbacks()
        // The tenancy layer sets the same limit on its routes; this one
        // covers the public routes, so a 413 reads the same everywhere.
        .layer(BodyLimitLayer::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}
