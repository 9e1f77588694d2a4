//! The tower layer, extractors and rejections that put every axum request
//! inside exactly one tenant.
//!
//! Add one [`TenancyLayer`] and name what a handler needs in its signature:
//! [`Tenant`] for the tenant context, [`Require<P>`](Require) for a
//! permission declared with [`permission!`], [`SystemAdmin`] for platform
//! routes. Every refusal is an `application/problem+json` [`Problem`].
//!
//! ```
//! use std::{sync::Arc, time::Duration};
//! use axum::{Router, routing::get};
//! use tenancy_auth::{CachedValidator, Issuer, Validator};
//! use tenancy_axum::{MemoryDirectory, Require, Tenant, TenancyLayer, TenantRecord, permission};
//! use tenancy_core::*;
//!
//! permission!(pub LeasesRead = "leases:read");
//!
//! async fn leases(t: Tenant, _: Require<LeasesRead>) -> String {
//!     format!("leases visible to {}", t.subject())
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let secret = b"an hs256 secret of at least 32 bytes!";
//! let validator = Validator::builder().issuer("https://id.example").audience("leases")
//!     .hs256_secret(secret).build()?;
//! let directory = Arc::new(MemoryDirectory::new());
//! let acme = TenantId::from_u128(1);
//! let plan = Plan::new("free", RateQuota::per_second(10, 20), 4);
//! directory.insert(TenantRecord::new(acme, "acme".parse()?, TenantStatus::Active, plan.entitlements(&PlanOverrides::default())));
//!
//! let layer = TenancyLayer::builder()
//!     .validator(Arc::new(CachedValidator::new(Arc::new(validator), 10_000)))
//!     .directory(directory)
//!     .audit(Arc::new(MemoryAuditSink::default()))
//!     .build()?;
//! let app = Router::new().route("/leases", get(leases)).layer(layer);
//!
//! // A viewer of acme calls it.
//! let viewer = TenantContext::tenant(acme, SubjectId::from_u128(7), RoleName::viewer(), PermissionSet::empty());
//! let token = Issuer::hs256(secret, "https://id.example", "leases")?.issue(&viewer, Duration::from_secs(300))?;
//! let request = axum::http::Request::get("/leases")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(axum::body::Body::empty())?;
//! let response = tower::ServiceExt::oneshot(app, request).await?;
//! assert_eq!(response.status(), 200);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What a request goes through
//!
//! Steps 1 to 5 are one call to the layer's
//! [`Admission`](tenancy_admission::Admission) (see
//! [`TenancyLayer::admission`]), the decision a job worker asks too; the
//! layer reads the request's headers for it and renders its refusals.
//!
//! 1. The bearer token from `Authorization` (and nothing else: no tenant
//!    header is trusted) is validated through a token cache.
//! 2. A tenant token's tenant is loaded through a bounded cache whose TTL
//!    bounds how long a suspension takes to bite ([`TenantCache::invalidate`]
//!    makes it immediate). A tenant that is not active is refused (403).
//! 3. The context is built with the tenant's own roles today: a token never
//!    grants more than its role does now.
//! 4. Optional [`TenantResolver`]s (subdomain, `/t/{slug}/…`) must agree with
//!    the token, else 403 and a cross-tenant audit event. The host is the
//!    request target's authority when the target is absolute
//!    (`GET http://acme.example.com/leases`, or HTTP/2's `:authority`), as
//!    RFC 9112 §3.2.2 requires; a `Host` header that disagrees with it is
//!    refused with 400 (audited) before the token is read.
//! 5. The tenant's GCRA rate and concurrency limits apply (429 with
//!    `Retry-After`); one tenant's flood does not spend another's budget. A
//!    request holds its concurrency slot until its response body has been
//!    sent or dropped, so a streamed response counts for as long as it
//!    streams.
//! 6. Extractors refuse what the route does not allow: a system token on a
//!    tenant route, a tenant token on a system route, a missing permission.
//!
//! # Platform operators
//!
//! A system-scope token reaches platform routes ([`SystemAdmin`], and
//! [`Require`] of a `system:…` permission) and is refused on tenant routes.
//! On the routes wrapped in [`OperatorActingLayer`] an operator may act for
//! one tenant, naming it (the [`ACT_FOR_HEADER`] header, or the host or path
//! through a [`TenantResolver`]) and giving a reason ([`ACT_REASON_HEADER`]:
//! UTF-8, at most [`MAX_ACT_REASON_BYTES`] (512) once trimmed, without
//! control characters or line separators; anything else is refused with 400
//! `acting-refused` before any audit event is written); each such request records a `SystemAccess` audit event in that tenant's
//! log, and [`Tenant`] then carries the acting context.
//!
//! Acting passes the same admission as the tenant's own requests (one code
//! path):
//! - a tenant that does not serve requests (deleted, decommissioning,
//!   provisioning) is refused with 403 `tenant-unavailable`, exactly as its
//!   own users are;
//! - a suspended tenant is refused the same way, unless the operator names
//!   the intent with `tenancy-act-suspended: true` ([`ACT_SUSPENDED_HEADER`]);
//!   then the request is admitted and audited as such (a
//!   `system.act_for_suspended_tenant` event besides the `SystemAccess`
//!   one), while the tenant's own users stay refused;
//! - the tenant's rate and concurrency limits apply (429 with
//!   `Retry-After`), and the request holds one of the tenant's concurrency
//!   slots until its response body is sent, so a decommission drain that
//!   waits for the tenant's requests in flight
//!   ([`TenantLimits::in_flight`]) waits for operators too.
//!
//! Every refusal is audited in the tenant's log, naming the operator.
//!
//! # Statuses
//!
//! | status | when | `type` |
//! |--------|------|--------|
//! | 400 | a `Host` header disagreeing with an absolute request target; an operator's unusable act-for request | [`problem::types::CONFLICTING_HOST`], [`problem::types::ACTING_REFUSED`] |
//! | 401 | no token, or an invalid one (`WWW-Authenticate: Bearer error="invalid_token"`) | [`problem::types::INVALID_TOKEN`] |
//! | 403 | missing permission (named), wrong scope, tenant not active, host/path of another tenant | [`problem::types::MISSING_PERMISSION`] … |
//! | 404 | a value of another tenant ([`ScopedJson`], [`Problem::not_found`]); a path no route has ([`fallback::not_found`]) | [`problem::types::NOT_FOUND`] |
//! | 405 | a method the path does not have ([`fallback::method_not_allowed`]) | [`problem::types::METHOD_NOT_ALLOWED`] |
//! | 413 | body over the limit ([`TenancyLayerBuilder::max_body_bytes`]: declared, or counted as read, chunked bodies included) | [`problem::types::PAYLOAD_TOO_LARGE`] |
//! | 429 | rate or concurrency limit, with `Retry-After` | [`problem::types::RATE_LIMITED`] |
//! | 500 | an extractor without the layer (a wiring bug) | [`problem::types::INTERNAL`] |
//!
//! # What this crate does not do
//!
//! - It does not issue tokens or fetch keys: that is `tenancy-auth`.
//! - It does not scope SQL: that is `tenancy-sql`; this crate only hands
//!   handlers the context to scope with.
//! - It does not trust any tenant header, cookie or query parameter for
//!   identity; an operator's act-for header is read only for system tokens,
//!   and only honoured on routes behind [`OperatorActingLayer`].
//! - It does not limit system-scope requests, except an operator's acting
//!   for a tenant, which counts against that tenant's limits.
//! - It does not count an upgraded connection (a WebSocket) against the
//!   concurrency limit after its `101` response.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---------|--------------|
//! | `redis` | `RedisRateStore` (tenancy-admission's): the GCRA rate limit in Redis, shared by every instance |
//! | `sql` | `sql::SqlDirectory` over a system `tenants` table and `sql::Tx`, a tenant-bound transaction per request (committed on success), through `tenancy-sql` |
//! | `testing` | `testing::HttpLeakCheck`, for a service's own tests: calls every route as tenant `a` with tenant `b`'s ids, missing ids, narrowed tokens and `tenancy_auth::testing` token attacks, checks 404/403/401, bodies and `b`'s data, and prints a table of every attempt |

#![forbid(unsafe_code)]

mod directory;
mod error;
pub mod extract;
pub mod fallback;
mod layer;
mod limits;
pub mod permission;
pub mod problem;
pub mod rejection;
#[cfg(feature = "sql")]
pub mod sql;
#[cfg(feature = "testing")]
pub mod testing;

pub use directory::{MemoryDirectory, TenantCache, TenantDirectory, TenantRecord};
pub use error::{BoxError, ConfigProblem, Error, Result};
pub use extract::{Require, ScopedJson, SystemAdmin, Tenant, context_from, input};
pub use layer::{
    ACT_FOR_HEADER, ACT_REASON_HEADER, ACT_SUSPENDED_HEADER, MAX_ACT_REASON_BYTES,
    OperatorActingLayer, OperatorActingService, TenancyLayer, TenancyLayerBuilder, TenancyService,
    TenantResolver,
};
#[cfg(feature = "redis")]
pub use limits::RedisRateStore;
pub use limits::{FailMode, RateStore, TenantLimits};
pub use permission::PermissionName;
pub use problem::Problem;

#[doc(hidden)]
pub mod __private {
    pub use tenancy_core::Permission;
}
