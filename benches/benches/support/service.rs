//! The service the HTTP and admission benches run: one issuer and audience,
//! an HS256 secret, tenants with their own plans in a `MemoryDirectory`,
//! and a JSON handler behind `Require<LeasesRead>`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::routing::get;
use serde_json::{Value, json};
use tenancy_auth::{Issuer, Validator};
use tenancy_axum::{Require, Tenant, TenantRecord, permission};
use tenancy_core::{
    PermissionSet, Plan, PlanOverrides, RateQuota, RoleName, SubjectId, TenantContext, TenantId,
    TenantStatus,
};

pub(crate) const ISS: &str = "https://id.example.com";
pub(crate) const AUD: &str = "leases-api";
pub(crate) const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

permission!(pub(crate) LeasesRead = "leases:read");

/// The handler without tenancy.
pub(crate) async fn bare_handler() -> axum::Json<Value> {
    axum::Json(json!({ "leases": [], "page": 1 }))
}

/// The same handler for a tenant's member who may read leases.
pub(crate) async fn tenant_handler(t: Tenant, _: Require<LeasesRead>) -> axum::Json<Value> {
    std::hint::black_box(t.subject());
    axum::Json(json!({ "leases": [], "page": 1 }))
}

/// `GET /leases` served by [`tenant_handler`], for a tenancy layer to wrap.
pub(crate) fn tenant_routes() -> Router {
    Router::new().route("/leases", get(tenant_handler))
}

/// `GET /leases` with the bearer `token`.
pub(crate) fn request(token: &str) -> Request {
    Request::get("/leases")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap_or_default()
}

/// The validator of the service's tokens.
pub(crate) fn validator() -> Arc<Validator> {
    tenancy_auth::install_default_crypto_provider();
    Validator::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .build()
        .map(Arc::new)
        .expect("the bench's validator")
}

/// The issuer of the service's tokens.
pub(crate) fn issuer() -> Issuer {
    Issuer::hs256(SECRET, ISS, AUD).expect("the bench's issuer")
}

/// The id of the `i`-th tenant: spread over the whole range, as random ids are.
pub(crate) fn tenant_id(i: usize) -> TenantId {
    let i = i as u128;
    TenantId::from_u128(
        i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) ^ 0x0b6d_2f4e_8c1a_4b7e,
    )
}

/// An hour-long token of the `i`-th tenant's member `i`.
pub(crate) fn member_token(issuer: &Issuer, i: usize) -> String {
    let ctx = TenantContext::tenant(
        tenant_id(i),
        SubjectId::from_u128(i as u128 + 1),
        RoleName::member(),
        PermissionSet::empty(),
    );
    issuer
        .issue(&ctx, Duration::from_secs(3600))
        .expect("a member's token")
}

/// The `i`-th tenant, active, on a plan of its own that the benches never
/// exhaust (the limiters run but always admit).
pub(crate) fn record(i: usize) -> TenantRecord {
    let plan = Plan::new(
        "bench",
        RateQuota::per_second(1_000_000_000 - (i % 1000) as u32, 1_000_000_000),
        1 << 20,
    );
    TenantRecord::new(
        tenant_id(i),
        format!("tenant-{i}").parse().expect("a slug"),
        TenantStatus::Active,
        plan.entitlements(&PlanOverrides::default()),
    )
}
