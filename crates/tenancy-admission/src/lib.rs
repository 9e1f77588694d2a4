//! The admission decision of a multi-tenant service, written once for
//! every transport: may this credential act for this tenant now?
//!
//! An [`Admission`] takes a bearer token (or, for a job, the context stored
//! with it), verifies it, loads the tenant through a bounded
//! [`TenantCache`] in front of a [`TenantDirectory`], refuses a tenant that
//! does not serve, builds the context with the tenant's roles as they are
//! today, checks that what the transport says about the tenant (a host, a
//! path) agrees, and applies the tenant's rate and concurrency limits
//! ([`TenantLimits`]). It answers [`Admitted`] (the context, the tenant's
//! record and a concurrency slot) or a [`Refusal`], audited. tenancy-axum's
//! layer reads headers, calls it and renders the refusal as problem+json; a
//! job worker calls the same function and drops the job.
//!
//! ```
//! use std::{sync::Arc, time::Duration};
//! use tenancy_admission::{Admission, AdmissionRequest, MemoryDirectory, Refusal, TenantRecord};
//! use tenancy_auth::{CachedValidator, Issuer, Validator};
//! use tenancy_core::*;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let secret = b"an hs256 secret of at least 32 bytes!";
//! let validator = Validator::builder().issuer("https://id.example").audience("leases")
//!     .hs256_secret(secret).build()?;
//! let directory = Arc::new(MemoryDirectory::new());
//! let acme = TenantId::from_u128(1);
//! let plan = Plan::new("free", RateQuota::per_second(10, 20), 4);
//! directory.insert(TenantRecord::new(acme, "acme".parse()?, TenantStatus::Active, plan.entitlements(&PlanOverrides::default())));
//! let admission = Admission::builder()
//!     .validator(Arc::new(CachedValidator::new(Arc::new(validator), 10_000)))
//!     .directory(directory.clone())
//!     .audit(Arc::new(MemoryAuditSink::default()))
//!     .build()?;
//!
//! // A request with a token of acme's.
//! let member = TenantContext::tenant(acme, SubjectId::from_u128(7), RoleName::member(), PermissionSet::all());
//! let token = Issuer::hs256(secret, "https://id.example", "leases")?.issue(&member, Duration::from_secs(300))?;
//! let admitted = admission.admit(AdmissionRequest::bearer(&token)).await?;
//! assert_eq!(admitted.context().tenant_id(), Some(acme));
//! drop(admitted); // frees acme's concurrency slot
//!
//! // acme is suspended: its requests and its queued jobs meet the same refusal.
//! directory.set_status(acme, TenantStatus::Suspended);
//! admission.cache().invalidate(acme);
//! for refused in [
//!     admission.admit(AdmissionRequest::bearer(&token)).await,
//!     admission.admit(AdmissionRequest::job(&member)).await,
//! ] {
//!     assert!(matches!(refused, Err(Refusal::TenantUnavailable(Some(TenantStatus::Suspended)))));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What this crate does not do
//!
//! - It speaks no transport: no headers, no status codes, no bodies.
//!   Reading a token from a request, and rendering a [`Refusal`], are the
//!   transport's (tenancy-axum for HTTP).
//! - It does not validate tokens itself: tenancy-auth does; this crate
//!   decides what a verified token may do now.
//! - It does not decide permissions of a route or handler: it hands out the
//!   context they check.
//! - It stores no tenants: a [`TenantDirectory`] is the service's (a
//!   table, a control plane); [`MemoryDirectory`] is for tests and demos.
//! - It does not limit the platform's own requests (system tokens), only
//!   an operator's acting for a tenant, which counts against that tenant.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---------|--------------|
//! | `redis` | `RedisRateStore`: the GCRA rate limit in Redis, shared by every instance |
//! | `metrics` | the `tenancy_limit_store_failures_total{mode="open\|closed"}` counter through the `metrics` facade |

#![forbid(unsafe_code)]

mod admission;
mod directory;
mod error;
mod limits;
mod refusal;

pub use admission::{Admission, AdmissionBuilder, AdmissionRequest, Admitted, Pass, TenantHint};
pub use directory::{MemoryDirectory, TenantCache, TenantDirectory, TenantRecord};
pub use error::{BoxError, ConfigProblem, Error, Result};
#[cfg(feature = "redis")]
pub use limits::RedisRateStore;
pub use limits::{FailMode, RateCheck, RateStore, TenantLimits};
pub use refusal::Refusal;
