//! The vocabulary of the tenancy SDK: who acts, for which tenant, with which
//! permissions, and values that cannot leave their tenant.
//!
//! Every other tenancy crate builds on these types. The central promise starts
//! here: a [`Scoped<T>`] owned by one tenant cannot be opened under another
//! tenant's [`TenantContext`], and nothing derived from it can mix tenants.
//! Its parsers of untrusted text (ids, slugs, role names, permissions) are
//! fuzzed; see [`fuzzing`].
//!
//! ```
//! use tenancy_core::*;
//!
//! // Roles per tenant: built-ins plus the tenant's own.
//! let roles = RoleRegistry::with_builtins();
//! let member = roles.permissions(&RoleName::member())?.clone();
//!
//! // A request's context, as the auth layer would build it from a token.
//! let acme: TenantId = "0b6d2f4e-8c1a-4b7e-9f3d-2a5c6e7f8a9b".parse()?;
//! let ctx = TenantContext::tenant(acme, SubjectId::from_u128(42), RoleName::member(), member);
//! ctx.require(&"leases:write".parse()?)?;
//! assert!(ctx.require(&"audit:read".parse()?).is_err());
//!
//! // Data bound to its tenant opens only under that tenant.
//! let lease = Scoped::new(&ctx, "Unit 4B, 1200/month")?;
//! assert_eq!(lease.open(&ctx)?, &"Unit 4B, 1200/month");
//! let globex = TenantContext::tenant(TenantId::from_u128(7), SubjectId::from_u128(1), RoleName::admin(), PermissionSet::all());
//! assert_eq!(lease.open(&globex), Err(AccessError::CrossTenant));
//!
//! // Per-tenant limits, with an injectable monotonic clock.
//! let limiter = RateLimiter::new(MemoryLimitStore::default(), SystemClock::new());
//! limiter.check(acme, &RateQuota::per_second(10, 20))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What this crate does not do
//!
//! - It knows nothing of SQL, HTTP, async runtimes or tokens: those live in
//!   `tenancy-sql`, `tenancy-axum` and `tenancy-auth`.
//! - It has no dependencies (serde and proptest only behind features) and
//!   generates no random numbers: identifiers come from the caller
//!   ([`TenantId::from_random_bytes`]).
//! - It stores nothing durably: [`AuditSink`] is a trait for adapters to
//!   implement, and limit state shared between processes is an adapter's
//!   (tenancy-admission's `RateStore`).
//!
//! # Features
//!
//! | feature | what it adds |
//! |---------|--------------|
//! | `serde` | `Serialize`/`Deserialize` for identifiers, slugs, permissions, roles, scopes, statuses and audit kinds, as their text forms |
//! | `testing` | the `testing` module: proptest strategies for identifiers, role names, permissions and sets, tenant and system contexts, and role registries with inheritance, for a service's own property tests |
//!
//! # Errors
//!
//! No error here names another tenant or shows its data: a value of another
//! tenant is [`AccessError::CrossTenant`], whose message reads like "not
//! found", so callers can answer 404 without revealing that it exists.

#![forbid(unsafe_code)]

mod audit;
mod clock;
mod context;
mod error;
mod id;
mod key;
mod lifecycle;
mod limits;
mod permission;
mod role;
mod scoped;
pub mod shard;
mod slug;
#[cfg(feature = "testing")]
pub mod testing;

#[doc = include_str!("../docs/fuzzing.md")]
pub mod fuzzing {}

pub use audit::{AuditEvent, AuditKind, AuditSink, DiscardAuditSink, MemoryAuditSink, Outcome};
pub use clock::{ManualClock, ManualWallClock, MonotonicClock, SystemClock, UnixClock, WallClock};
pub use context::{Scope, TenantContext};
pub use error::{
    AccessError, Error, InvalidTransition, LimitError, ParseError, ParseKind, ParseReason, Report,
    Result, RoleError,
};
pub use id::{SubjectId, TenantId};
pub use key::TenantKey;
pub use lifecycle::{
    Entitlements, Plan, PlanOverrides, SubscriptionEvent, SubscriptionState, TenantEvent,
    TenantStatus,
};
pub use limits::{
    ConcurrencyLimiter, ConcurrencyPermit, MemoryLimitStore, QuotaCounter, RateDecision,
    RateLimiter, RateQuota, gcra_step,
};
pub use permission::{
    CompiledPermissions, PLATFORM_RESOURCE, Permission, PermissionBit, PermissionCatalog,
    PermissionSet,
};
pub use role::{Role, RoleName, RoleRegistry};
pub use scoped::{Scoped, group_by_tenant};
pub use slug::{RESERVED_SLUGS, TenantSlug};

/// Keeps the README's example compiling and true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
