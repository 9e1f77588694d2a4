//! The tower layer that authenticates each request and binds it to one tenant.

mod acting;
mod authenticate;
mod held_body;
mod resolve;
mod service;
mod unread_body;

use std::sync::Arc;
use std::time::Duration;

use tenancy_admission::{Admission, AdmissionBuilder, TenantCache, TenantDirectory, TenantLimits};
use tenancy_auth::{CachedValidator, TokenVerifier};
use tenancy_core::{AuditSink, RoleRegistry};
use tower::Layer;

use crate::directory::TenantRecord;
use crate::error::{ConfigProblem, Error};

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

/// What the admission handed out for the request (the context, the
/// tenant's record and the audit sink), left in the request for the
/// extractors.
pub(crate) use tenancy_admission::Pass as AuthState;

/// What the layer leaves in the request for the extractors.
#[derive(Clone)]
pub(crate) struct Authenticated(pub(crate) Arc<AuthState>);

/// An audit event a response carries out of the handler (response
/// extensions never reach the client): the [`TenancyService`] removes it and
/// records it in the layer's sink. For refusals decided where no sink is at
/// hand, such as [`ScopedJson`](crate::ScopedJson)'s 404.
#[derive(Clone)]
pub(crate) struct AuditOnResponse(pub(crate) tenancy_core::AuditEvent);

/// An operator's request to act for a tenant, left in the request beside
/// the operator's [`Authenticated`]; honoured only on routes behind
/// [`OperatorActingLayer`].
#[derive(Clone)]
pub(crate) struct ActingRequest {
    pub(crate) record: Arc<TenantRecord>,
    pub(crate) reason: String,
    /// The operator named the intent to act for a suspended tenant.
    pub(crate) suspended: bool,
    /// The admission of the layer that read the request, which the
    /// [`OperatorActingLayer`] asks.
    pub(crate) admission: Arc<Admission>,
}

pub(crate) struct Shared {
    pub(crate) admission: Arc<Admission>,
    pub(crate) resolvers: Vec<TenantResolver>,
    pub(crate) max_body_bytes: Option<u64>,
}

/// Authenticates every request and puts it inside exactly one tenant.
///
/// Per request: read the bearer token from `Authorization` (no other header
/// is trusted for identity) and ask the [`Admission`], the decision job
/// workers ask too, which verifies it, and then
/// - for a tenant token: loads the tenant (through a bounded cache), refuses
///   a tenant that is not active, builds the context with the tenant's own
///   roles, checks that every [`TenantResolver`] agrees, and applies the
///   tenant's rate and concurrency limits;
/// - for a system token: builds the context with the platform roles; the
///   layer notes an operator's request to act for a tenant (see
///   [`OperatorActingLayer`]).
///
/// Refusals render as problem+json and are recorded in the audit sink. See
/// the crate docs for a service.
#[derive(Clone)]
pub struct TenancyLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for TenancyLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenancyLayer")
            .field("admission", &self.shared.admission)
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
        self.shared.admission.cache()
    }

    /// The per-tenant limits.
    pub fn limits(&self) -> &Arc<TenantLimits> {
        self.shared.admission.limits()
    }

    /// The admission decision the layer asks for every request, to share
    /// with job workers and other transports.
    pub fn admission(&self) -> &Arc<Admission> {
        &self.shared.admission
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

/// Configures a [`TenancyLayer`]: either a ready [`Admission`] or its
/// parts (validator, directory or cache, limits, audit sink, platform
/// roles), which the layer then builds into one.
#[derive(Default)]
#[must_use]
pub struct TenancyLayerBuilder {
    admission: Option<Arc<Admission>>,
    parts: Option<AdmissionBuilder>,
    resolvers: Vec<TenantResolver>,
    max_body_bytes: Option<u64>,
}

impl TenancyLayerBuilder {
    fn part(mut self, set: impl FnOnce(AdmissionBuilder) -> AdmissionBuilder) -> Self {
        self.parts = Some(set(self.parts.take().unwrap_or_default()));
        self
    }

    /// The admission to ask, for sharing one with job workers; instead of
    /// its parts.
    pub fn admission(mut self, admission: Arc<Admission>) -> Self {
        self.admission = Some(admission);
        self
    }

    /// What verifies bearer tokens (required unless an
    /// [`admission`](Self::admission) is given): a [`CachedValidator`], an
    /// [`IssuerRouter`](tenancy_auth::IssuerRouter) for per-tenant issuers,
    /// or any [`TokenVerifier`].
    pub fn verifier(self, verifier: Arc<dyn TokenVerifier>) -> Self {
        self.part(|b| b.verifier(verifier))
    }

    /// The token validator, behind its cache: the same as
    /// [`verifier`](Self::verifier).
    pub fn validator(self, validator: Arc<CachedValidator>) -> Self {
        self.part(|b| b.validator(validator))
    }

    /// The tenant directory (required unless [`cache`](Self::cache) or an
    /// [`admission`](Self::admission) is given).
    pub fn directory(self, directory: Arc<dyn TenantDirectory>) -> Self {
        self.part(|b| b.directory(directory))
    }

    /// How many tenants to cache (default 10,000) and for how long (default
    /// 30 s: the longest a suspension takes to bite without an invalidation).
    pub fn cache_settings(self, capacity: usize, ttl: Duration) -> Self {
        self.part(|b| b.cache_settings(capacity, ttl))
    }

    /// A ready-made tenant cache, for sharing one between layers.
    pub fn cache(self, cache: Arc<TenantCache>) -> Self {
        self.part(|b| b.cache(cache))
    }

    /// The per-tenant limits (default: in memory, for up to 100,000 tenants).
    pub fn limits(self, limits: Arc<TenantLimits>) -> Self {
        self.part(|b| b.limits(limits))
    }

    /// Where denials and operator access are recorded (default: discarded).
    pub fn audit(self, sink: Arc<dyn AuditSink>) -> Self {
        self.part(|b| b.audit(sink))
    }

    /// The roles of system-scope tokens (default: the built-ins).
    pub fn platform_roles(self, roles: Arc<RoleRegistry>) -> Self {
        self.part(|b| b.platform_roles(roles))
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
        let admission = match (self.admission, self.parts) {
            (Some(admission), None) => admission,
            (None, parts) => Arc::new(parts.unwrap_or_default().build()?),
            (Some(_), Some(_)) => {
                return Err(Error::Config(ConfigProblem::AdmissionAndParts));
            }
        };
        Ok(TenancyLayer {
            shared: Arc::new(Shared {
                admission,
                resolvers: self.resolvers,
                max_body_bytes: self.max_body_bytes,
            }),
        })
    }
}
