//! The tower layer that authenticates each request and binds it to one tenant.

mod acting;
mod authenticate;
mod contexts;
mod held_body;
mod resolve;
mod service;

use std::sync::Arc;
use std::time::Duration;

use tenancy_auth::CachedValidator;
use tenancy_core::{AuditSink, Clock, DiscardAuditSink, RoleRegistry, SystemClock, TenantContext};
use tower::Layer;

use crate::directory::{TenantCache, TenantDirectory, TenantRecord};
use crate::error::Error;
use crate::limits::TenantLimits;

pub use acting::{OperatorActingLayer, OperatorActingService};
pub use resolve::TenantResolver;
pub use service::TenancyService;

/// The header in which an operator names the tenant to act for (its id),
/// when no [`TenantResolver`] names it. Read for system-scope tokens only.
pub const ACT_FOR_HEADER: &str = "tenancy-act-for";
/// The header in which an operator gives the reason for acting for a tenant
/// (UTF-8, at most [`MAX_ACT_REASON_BYTES`] once trimmed, without control
/// characters).
pub const ACT_REASON_HEADER: &str = "tenancy-act-reason";
/// The longest reason for acting for a tenant, in bytes of UTF-8 once
/// trimmed; a longer one is refused (400), as is one holding control
/// characters or line separators.
pub const MAX_ACT_REASON_BYTES: usize = 512;
/// The header in which an operator names the intent to act for a
/// suspended tenant: `tenancy-act-suspended: true`. Without it, acting for a
/// suspended tenant is refused like the tenant's own requests; with it, it
/// is admitted and recorded as a `system.act_for_suspended_tenant` event.
/// Any other value is refused (400). It admits no other status.
pub const ACT_SUSPENDED_HEADER: &str = "tenancy-act-suspended";

/// The layer's body limit, left in each request for the crate's body
/// extractors ([`input::Json`](crate::input::Json)); the body itself is
/// already wrapped to fail past it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit(pub(crate) usize);

/// What the layer leaves in the request for the extractors.
#[derive(Clone)]
pub(crate) struct Authenticated(pub(crate) Arc<AuthState>);

pub(crate) struct AuthState {
    pub(crate) ctx: TenantContext,
    /// The tenant's record, for tenant contexts and operators acting for one.
    pub(crate) record: Option<Arc<TenantRecord>>,
    pub(crate) audit: Arc<dyn AuditSink>,
    /// An operator's request to act for a tenant, honoured only on routes
    /// behind [`OperatorActingLayer`].
    pub(crate) acting: Option<ActingRequest>,
}

/// An audit event a response carries out of the handler (response
/// extensions never reach the client): the [`TenancyService`] removes it and
/// records it in the layer's sink. For refusals decided where no sink is at
/// hand, such as [`ScopedJson`](crate::ScopedJson)'s 404.
#[derive(Clone)]
pub(crate) struct AuditOnResponse(pub(crate) tenancy_core::AuditEvent);

#[derive(Clone)]
pub(crate) struct ActingRequest {
    pub(crate) record: Arc<TenantRecord>,
    pub(crate) reason: String,
    /// The operator named the intent to act for a suspended tenant.
    pub(crate) suspended: bool,
    /// The layer that read the request, whose admission the
    /// [`OperatorActingLayer`] applies.
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) validator: Arc<CachedValidator>,
    pub(crate) cache: Arc<TenantCache>,
    pub(crate) limits: Arc<TenantLimits>,
    pub(crate) audit: Arc<dyn AuditSink>,
    pub(crate) platform_roles: Arc<RoleRegistry>,
    pub(crate) resolvers: Vec<TenantResolver>,
    pub(crate) max_body_bytes: Option<u64>,
    pub(crate) contexts: contexts::ContextCache,
}

/// Authenticates every request and puts it inside exactly one tenant.
///
/// Per request: read the bearer token from `Authorization` (no other header
/// is trusted for identity), validate it, and then
/// - for a tenant token: load the tenant (through a bounded cache), refuse a
///   tenant that is not active, build the context with the tenant's own
///   roles, check any [`TenantResolver`] agrees, and apply the tenant's rate
///   and concurrency limits;
/// - for a system token: build the context with the platform roles, and note
///   an operator's request to act for a tenant (see [`OperatorActingLayer`]).
///
/// Denials are recorded in the audit sink. See the crate docs for a service.
#[derive(Clone)]
pub struct TenancyLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for TenancyLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenancyLayer")
            .field("cache", &self.shared.cache)
            .field("limits", &self.shared.limits)
            .field("resolvers", &self.shared.resolvers)
            .finish_non_exhaustive()
    }
}

impl TenancyLayer {
    /// Starts a configuration; a validator and a directory are required.
    pub fn builder() -> TenancyLayerBuilder {
        TenancyLayerBuilder::default()
    }

    /// The tenant cache: call [`TenantCache::invalidate`] after changing a
    /// tenant's status, plan or roles so it takes effect at once.
    pub fn cache(&self) -> &Arc<TenantCache> {
        &self.shared.cache
    }

    /// The per-tenant limits.
    pub fn limits(&self) -> &Arc<TenantLimits> {
        &self.shared.limits
    }

    /// The route layer that lets operators act for a tenant on the routes it
    /// wraps (see [`OperatorActingLayer`]).
    pub fn allow_operator_acting(&self) -> OperatorActingLayer {
        OperatorActingLayer::new()
    }
}

impl<S> Layer<S> for TenancyLayer {
    type Service = TenancyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TenancyService::new(inner, Arc::clone(&self.shared))
    }
}

/// Configures a [`TenancyLayer`].
#[derive(Default)]
#[must_use]
pub struct TenancyLayerBuilder {
    validator: Option<Arc<CachedValidator>>,
    directory: Option<Arc<dyn TenantDirectory>>,
    cache: Option<Arc<TenantCache>>,
    cache_capacity: Option<usize>,
    cache_ttl: Option<Duration>,
    limits: Option<Arc<TenantLimits>>,
    audit: Option<Arc<dyn AuditSink>>,
    platform_roles: Option<Arc<RoleRegistry>>,
    resolvers: Vec<TenantResolver>,
    max_body_bytes: Option<u64>,
}

impl TenancyLayerBuilder {
    /// The token validator (required).
    pub fn validator(mut self, validator: Arc<CachedValidator>) -> Self {
        self.validator = Some(validator);
        self
    }

    /// The tenant directory (required unless [`cache`](Self::cache) is given).
    pub fn directory(mut self, directory: Arc<dyn TenantDirectory>) -> Self {
        self.directory = Some(directory);
        self
    }

    /// How many tenants to cache (default 10,000) and for how long (default
    /// 30 s: the longest a suspension takes to bite without an invalidation).
    pub fn cache_settings(mut self, capacity: usize, ttl: Duration) -> Self {
        self.cache_capacity = Some(capacity);
        self.cache_ttl = Some(ttl);
        self
    }

    /// A ready-made tenant cache, for sharing one between layers.
    pub fn cache(mut self, cache: Arc<TenantCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The per-tenant limits (default: in memory, for up to 100,000 tenants).
    pub fn limits(mut self, limits: Arc<TenantLimits>) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Where denials and operator access are recorded (default: discarded).
    pub fn audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(sink);
        self
    }

    /// The roles of system-scope tokens (default: the built-ins).
    pub fn platform_roles(mut self, roles: Arc<RoleRegistry>) -> Self {
        self.platform_roles = Some(roles);
        self
    }

    /// Adds a tenant resolver; every resolver that names a tenant must agree
    /// with the token.
    pub fn resolver(mut self, resolver: TenantResolver) -> Self {
        self.resolvers.push(resolver);
        self
    }

    /// Limits every request body to `limit` bytes, counted on the bytes
    /// actually read, with or without `Content-Length`:
    /// - a declared `Content-Length` over the limit is refused with 413
    ///   problem+json before the handler runs;
    /// - every other body (chunked, or of unknown length) is wrapped so that
    ///   reading past the limit fails: [`input::Json`](crate::input::Json)
    ///   answers 413 problem+json, axum's own body extractors (`Bytes`,
    ///   `String`, `axum::Json`, …) their own 413, and a handler reading the
    ///   raw [`Body`](axum::body::Body) gets an error instead of the excess.
    ///
    /// [`input::Json`](crate::input::Json) admits bodies up to this limit,
    /// in place of axum's `DefaultBodyLimit` (2 MB unless changed); axum's
    /// extractors keep their own limit too, so they admit the smaller of the
    /// two.
    pub fn max_body_bytes(mut self, limit: u64) -> Self {
        self.max_body_bytes = Some(limit);
        self
    }

    /// Builds the layer.
    pub fn build(self) -> Result<TenancyLayer, Error> {
        let validator = self
            .validator
            .ok_or(Error::Config("a token validator is required"))?;
        // The default cache and limits share one clock, so a request reads
        // it once for both.
        let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
        let cache = match (self.cache, self.directory) {
            (Some(cache), _) => cache,
            (None, Some(directory)) => Arc::new(TenantCache::with_clock(
                directory,
                self.cache_capacity.unwrap_or(10_000),
                self.cache_ttl.unwrap_or(Duration::from_secs(30)),
                Arc::clone(&clock),
            )),
            (None, None) => return Err(Error::Config("a tenant directory is required")),
        };
        let limits = self
            .limits
            .unwrap_or_else(|| Arc::new(TenantLimits::in_memory_with_clock(100_000, clock)));
        let audit = self.audit.unwrap_or_else(|| Arc::new(DiscardAuditSink));
        // A limit store failure reaches the layer's sink unless the limits
        // were given one of their own.
        limits.audit_unless_set(&audit);
        Ok(TenancyLayer {
            shared: Arc::new(Shared {
                validator,
                cache,
                limits,
                audit,
                platform_roles: self
                    .platform_roles
                    .unwrap_or_else(|| Arc::new(RoleRegistry::with_builtins())),
                resolvers: self.resolvers,
                max_body_bytes: self.max_body_bytes,
                contexts: contexts::ContextCache::new(10_000),
            }),
        })
    }
}
