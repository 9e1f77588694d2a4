//! A small world of tenants, tokens and routes shared by the integration tests.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test file uses a different part"
)]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tenancy_auth::{CachedValidator, Issuer, UnixClock, Validator};
use tenancy_axum::input::Json;
use tenancy_axum::{
    MemoryDirectory, OperatorActingLayer, Problem, Require, ScopedJson, SystemAdmin, TenancyLayer,
    TenancyLayerBuilder, Tenant, TenantRecord, permission,
};
use tenancy_core::*;
use tower::ServiceExt;

pub const SECRET: &[u8] = b"tenancy-axum integration test secret!!";
pub const ISSUER: &str = "https://id.test";
pub const AUDIENCE: &str = "leases";

permission! {
    pub LeasesRead = "leases:read";
    pub LeasesWrite = "leases:write";
    pub LeasesDelete = "leases:delete";
    pub AuditRead = "audit:read";
    pub SystemTenants = "system:tenants";
}

pub fn tenant_id(i: u128) -> TenantId {
    // Far from small integers, so a body mentioning `1` proves nothing.
    TenantId::from_u128(0x5eed_0000_0000_0000_0000_0000_0000_0000 | i)
}

pub fn slug(i: u128) -> TenantSlug {
    format!("tenant-{i}").parse().unwrap()
}

pub fn plan(per_second: u32, burst: u32, concurrent: u32) -> Entitlements {
    Plan::new("test", RateQuota::per_second(per_second, burst), concurrent)
        .entitlements(&PlanOverrides::default())
}

pub struct World {
    pub dir: Arc<MemoryDirectory>,
    pub audit: Arc<MemoryAuditSink>,
    pub issuer: Issuer,
    pub layer: TenancyLayer,
}

pub fn validator() -> Arc<CachedValidator> {
    let v = Validator::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .hs256_secret(SECRET)
        .build()
        .unwrap();
    Arc::new(CachedValidator::new(Arc::new(v), 10_000))
}

impl World {
    /// Tenants 1..=3 active with a generous plan.
    pub fn new() -> Self {
        World::with(|b| b)
    }

    pub fn with(configure: impl FnOnce(TenancyLayerBuilder) -> TenancyLayerBuilder) -> Self {
        let dir = Arc::new(MemoryDirectory::new());
        for i in 1..=3 {
            dir.insert(TenantRecord::new(
                tenant_id(i),
                slug(i),
                TenantStatus::Active,
                plan(10_000, 10_000, 1_000),
            ));
        }
        let audit = Arc::new(MemoryAuditSink::default());
        let builder = TenancyLayer::builder()
            .validator(validator())
            .directory(dir.clone())
            .audit(audit.clone());
        let layer = configure(builder).build().unwrap();
        World {
            dir,
            audit,
            issuer: Issuer::hs256(SECRET, ISSUER, AUDIENCE).unwrap(),
            layer,
        }
    }

    pub fn add_tenant(&self, i: u128, status: TenantStatus, entitlements: Entitlements) {
        self.dir.insert(TenantRecord::new(
            tenant_id(i),
            slug(i),
            status,
            entitlements,
        ));
        self.layer.cache().invalidate(tenant_id(i));
    }

    pub fn token(&self, tenant: u128, role: RoleName) -> String {
        let ctx = TenantContext::tenant(
            tenant_id(tenant),
            SubjectId::from_u128(1000 + tenant),
            role,
            PermissionSet::empty(),
        );
        self.issuer.issue(&ctx, Duration::from_secs(600)).unwrap()
    }

    pub fn system_token(&self) -> String {
        let ctx = TenantContext::system(
            SubjectId::from_u128(9),
            RoleName::platform_admin(),
            PermissionSet::all(),
        );
        self.issuer.issue(&ctx, Duration::from_secs(600)).unwrap()
    }

    pub fn app(&self) -> Router {
        routes().layer(self.layer.clone())
    }
}

#[derive(Deserialize)]
pub struct NewLease {
    pub unit: String,
    pub rent: u32,
}

async fn me(t: Tenant) -> axum::Json<Value> {
    axum::Json(json!({
        "slug": t.record().slug.as_str(),
        "subject": t.subject().to_string(),
        "role": t.role().as_str(),
        "acting": t.acting_reason().is_some(),
    }))
}

async fn list(t: Tenant, _: Require<LeasesRead>) -> axum::Json<Value> {
    axum::Json(json!({ "slug": t.record().slug.as_str(), "leases": [] }))
}

async fn create(
    _t: Tenant,
    _: Require<LeasesWrite>,
    Json(lease): Json<NewLease>,
) -> (StatusCode, axum::Json<Value>) {
    (
        StatusCode::CREATED,
        axum::Json(json!({ "unit": lease.unit, "rent": lease.rent })),
    )
}

async fn remove(_t: Tenant, _: Require<LeasesDelete>) -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn audit_log(_t: Tenant, _: Require<AuditRead>) -> StatusCode {
    StatusCode::OK
}

async fn tenants(op: SystemAdmin, _: Require<SystemTenants>) -> axum::Json<Value> {
    axum::Json(json!({ "operator": op.subject().to_string() }))
}

/// A value owned by the tenant named in the path (created under that
/// tenant's context), answered through `ScopedJson`.
async fn scoped(
    t: Tenant,
    tenancy_axum::input::Path(owner): tenancy_axum::input::Path<u128>,
) -> ScopedJson<Value> {
    let owner_ctx = TenantContext::tenant(
        tenant_id(owner),
        SubjectId::from_u128(1000 + owner),
        RoleName::member(),
        PermissionSet::empty(),
    );
    let value = Scoped::new(&owner_ctx, json!({ "secret": format!("data of {owner}") })).unwrap();
    ScopedJson::new(t.context(), value)
}

async fn conflict(_t: Tenant) -> Problem {
    Problem::conflict("unit 4B is let")
}

async fn slow(_t: Tenant) -> StatusCode {
    tokio::time::sleep(Duration::from_millis(300)).await;
    StatusCode::OK
}

pub fn routes() -> Router {
    let support = Router::new()
        .route("/support/me", get(me))
        .route_layer(OperatorActingLayer::new());
    Router::new()
        .route("/me", get(me))
        .route("/t/{slug}/me", get(me))
        .route("/leases", get(list).post(create))
        .route("/leases/{id}", delete(remove))
        .route("/audit", get(audit_log))
        .route("/system/tenants", get(tenants))
        .route("/scoped/{owner}", get(scoped))
        .route("/conflict", post(conflict))
        .route("/slow", get(slow))
        .merge(support)
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// Asserts a problem+json body of this `type`.
    pub fn problem(&self, status: u16, type_uri: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.headers["content-type"], "application/problem+json",
            "{}",
            self.text
        );
        let v = self.json();
        assert_eq!(v["type"], type_uri, "{}", self.text);
        assert_eq!(v["status"], status);
        assert!(v["title"].is_string());
        v
    }
}

pub fn request(method: &str, uri: &str, token: Option<&str>) -> axum::http::request::Builder {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    // INVARIANT under test everywhere: no response names a tenant id.
    for i in 0..64 {
        assert!(
            !text.contains(&tenant_id(i).to_string()),
            "a response names tenant {i}: {text}"
        );
    }
    Reply {
        status,
        headers,
        text,
    }
}

pub async fn get_as(app: &Router, uri: &str, token: Option<&str>) -> Reply {
    send(app, request("GET", uri, token).body(Body::empty()).unwrap()).await
}

/// Unix time now, for tokens minted with a shifted clock.
pub fn unix_now() -> Duration {
    UnixClock.unix_time()
}

/// Serves `app` on a fresh loopback port, for tests over a real socket.
pub async fn serve(app: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

/// The URL in `var`, or `None` after saying that the test skips what needs
/// it; a failure instead when `TENANCY_TEST_REQUIRE_SERVICES=1`.
pub fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("TENANCY_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "{var} is not set but TENANCY_TEST_REQUIRE_SERVICES=1"
            );
            skipped(&format!("{var} is not set"));
            None
        }
    }
}

/// Says that the running test skips a part, and why: on stdout, which
/// `cargo test` shows only for a failing test, and as a line appended to
/// the file named by `TENANCY_TEST_SKIP_LOG` when it is set, so a run can
/// list every skip (`.ci/run` does).
pub fn skipped(reason: &str) {
    use std::io::Write as _;
    println!("skipped: {reason}");
    if let Some(path) = std::env::var_os("TENANCY_TEST_SKIP_LOG") {
        let test = std::thread::current().name().unwrap_or("?").to_owned();
        let line = format!(
            "{} {}::{test}: {reason}\n",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_CRATE_NAME")
        );
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut log| log.write_all(line.as_bytes()))
            .unwrap_or_else(|e| panic!("TENANCY_TEST_SKIP_LOG is not writable: {e}"));
    }
}
