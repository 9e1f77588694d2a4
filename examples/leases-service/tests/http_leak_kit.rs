//! The service's routes under the SDK's HTTP leak check: every tenant route
//! called as tenant `a` with `b`'s property and lease ids (in paths and in
//! bodies), with ids that never existed, with narrowed tokens and with each
//! token attack of the kit, in-process on SQLite; no body or header `a`
//! receives may hold `b`'s ids, tenant id or marker.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use axum::body::Body;
use axum::http::Request;
use leases_service::Config;
use serde_json::{Value, json};
use tenancy_auth::testing::TokenKit;
use tenancy_axum::testing::{HttpLeakCheck, Route};
use tenancy_core::{PermissionSet, RoleName, SubjectId, TenantContext, TenantId};
use tower::ServiceExt;

const SECRET: &str = "a leak-check secret, at least 32 bytes long";

/// `POST path` as `token`, the answer's JSON.
async fn post(router: &axum::Router, token: &str, path: &str, body: Value) -> Value {
    let request = Request::post(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn no_route_lets_one_tenant_reach_another() {
    let mut config = Config::new("sqlite::memory:");
    config.jwt_secret = Some(SECRET.to_owned());
    let app = leases_service::app(&config).await.unwrap();
    let kit = TokenKit::hs256(SECRET.as_bytes(), &config.issuer, &config.audience)
        .unwrap()
        .with_max_lifetime(config.max_token_lifetime);
    let operator = kit.token(&TenantContext::system(
        SubjectId::from_u128(9),
        RoleName::platform_admin(),
        PermissionSet::all(),
    ));
    let lease = json!({"property_id": "{property}", "lessee": "Ann", "start_date": "2025-01-01",
        "end_date": "2026-01-01", "rent_cents": 120_000});
    let report = HttpLeakCheck::new(app.router.clone(), &kit, async |t| {
        let body = json!({"slug": t.slug.as_str(), "name": "Leak check", "plan": "pro"});
        let created = post(&app.router, &operator, "/system/tenants", body).await;
        created["id"].as_str().unwrap().parse::<TenantId>().unwrap()
    })
    .resources(async |c| {
        // The tenant's marker in what it creates: a list or a search that
        // hands b's properties or leases to a is caught whatever the ids.
        let property = json!({"name": c.marker(), "address": "1 Quay"});
        let property = c.post("/properties", property).await.json["id"].clone();
        let mut body = lease.clone();
        body["property_id"] = property.clone();
        body["lessee"] = json!(c.marker());
        let lease = c.post("/leases", body).await.json["id"].clone();
        // A property without leases, which its owner may delete.
        let spare = json!({"name": c.marker(), "address": "2 Quay"});
        let spare = c.post("/properties", spare).await.json["id"].clone();
        [("property", property), ("lease", lease), ("spare", spare)]
    })
    .routes([
        Route::get("/properties/{property}").requires("properties:read"),
        Route::patch("/properties/{property}")
            .json(json!({"name": "Mine now"}))
            .requires("properties:write"),
        Route::get("/leases/{lease}").requires("leases:read"),
        Route::patch("/leases/{lease}")
            .json(json!({"lessee": "Mine now"}))
            .requires("leases:write"),
        Route::patch("/leases/{lease}")
            .json(json!({"property_id": "{property}"}))
            .requires("leases:write"),
        Route::post("/leases/{lease}/reminders")
            .json(json!({}))
            .requires("leases:write"),
        Route::post("/leases")
            .json(lease.clone())
            .requires("leases:write"),
        Route::delete("/leases/{lease}").requires("leases:write"),
        Route::get("/properties/{spare}").requires("properties:read"),
        Route::delete("/properties/{spare}").requires("properties:write"),
        Route::get("/properties").requires("properties:read"),
        Route::get("/leases").requires("leases:read"),
        Route::get("/audit").requires("audit:read"),
    ])
    .run()
    .await;
    assert!(report.failures().is_empty());
    // b's marker shows in its read-backs, so no id goes unsearched.
    assert!(report.notes().is_empty(), "{report}");
}
