//! The decision "may this credential act for this tenant now", written once
//! for every transport.

mod contexts;
mod request;

use std::sync::Arc;
use std::time::Duration;

use tenancy_auth::{AuthError, AuthErrorKind, CachedValidator, TokenVerifier, VerifiedToken};
use tenancy_core::{
    AuditEvent, AuditKind, AuditSink, ConcurrencyPermit, DiscardAuditSink, MonotonicClock, Outcome,
    RoleRegistry, Scope, SubjectId, SystemClock, TenantContext, TenantId, TenantStatus,
};

use crate::directory::{TenantCache, TenantDirectory, TenantRecord};
use crate::error::{ConfigProblem, Error};
use crate::limits::TenantLimits;
use crate::refusal::Refusal;

use self::contexts::ContextCache;
use self::request::Credential;
pub use self::request::{AdmissionRequest, Admitted, Pass, TenantHint};

/// The admission decision: token → context → tenant record → tenant status
/// → hints → limits, for HTTP requests, jobs and any other transport alike.
///
/// Every refusal of a tenant's own work is recorded in the audit sink, in
/// the tenant's log, naming the subject. The crate docs show one at work.
pub struct Admission {
    verifier: Arc<dyn TokenVerifier>,
    cache: Arc<TenantCache>,
    limits: Arc<TenantLimits>,
    audit: Arc<dyn AuditSink>,
    platform_roles: Arc<RoleRegistry>,
    contexts: ContextCache,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("cache", &self.cache)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Who asks to be admitted to a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Requester {
    /// The tenant's own: a tenant-scope token or job.
    Tenant,
    /// A platform operator acting for the tenant; `suspended`: the operator
    /// named the intent to act for a suspended tenant.
    Operator { suspended: bool },
}

fn denied(kind: AuditKind, action: &str, reason: &str) -> AuditEvent {
    AuditEvent::new(kind, action, Outcome::Denied).with_reason(reason)
}

impl Admission {
    /// Starts a configuration; a validator and a directory (or a cache) are
    /// required.
    pub fn builder() -> AdmissionBuilder {
        AdmissionBuilder::default()
    }

    /// The tenant cache: call [`TenantCache::invalidate`] after changing a
    /// tenant's status, plan or roles so it takes effect at once.
    pub fn cache(&self) -> &Arc<TenantCache> {
        &self.cache
    }

    /// The per-tenant limits.
    pub fn limits(&self) -> &Arc<TenantLimits> {
        &self.limits
    }

    /// Where refusals and operator access are recorded.
    pub fn audit(&self) -> &Arc<dyn AuditSink> {
        &self.audit
    }

    /// Verifies a bearer token, refreshing the key source on an unknown
    /// key. An invalid token is audited. A token's own verdict on its
    /// tenant (a status hook) is a [`Refusal::TenantUnavailable`].
    pub async fn verify(&self, token: &str) -> Result<Arc<VerifiedToken>, Refusal> {
        let verified = match self.verifier.verify(token) {
            // A key the verifier does not know yet: refresh the key source.
            Err(AuthError::UnknownKey) => self.verifier.verify_async(token).await,
            other => other,
        };
        verified.map_err(|e| self.token_refused(e))
    }

    /// Admits `request`, or says why not. On hits of every cache and with
    /// limits kept in this process it completes without waiting.
    ///
    /// In order, each step audited when it refuses: the credential (a
    /// token is verified, a stored context taken as it is), the tenant from
    /// the cached directory, its status, the context with the tenant's
    /// roles as they are today, the transport's hints, and the tenant's
    /// rate and concurrency limits. A system token gets the platform's
    /// roles and no limits. An operator acting for a tenant passes the
    /// tenant's status and limits before the access is recorded.
    pub async fn admit(&self, request: AdmissionRequest<'_>) -> Result<Admitted, Refusal> {
        let AdmissionRequest {
            credential,
            hints,
            metered,
        } = request;
        match credential {
            Credential::Bearer(token) => {
                let verified = self.verify(token).await?;
                self.admit_token(&verified, &hints, metered).await
            }
            Credential::Verified(verified) => self.admit_token(&verified, &hints, metered).await,
            Credential::Job(stored) => self.admit_job(stored, &hints, metered).await,
            Credential::Acting {
                operator,
                record,
                reason,
                suspended,
            } => {
                self.admit_acting(operator, record, reason, suspended, metered)
                    .await
            }
        }
    }

    async fn admit_token(
        &self,
        verified: &Arc<VerifiedToken>,
        hints: &[TenantHint],
        metered: bool,
    ) -> Result<Admitted, Refusal> {
        let subject = verified.subject();
        let tenant = match (verified.scope(), verified.tenant_id()) {
            (Scope::Tenant, Some(tenant)) => tenant,
            (Scope::System, _) => {
                let pass = self
                    .contexts
                    .pass(verified, None, &self.platform_roles, &self.audit)
                    .map_err(|e| {
                        self.audit.record(
                            denied(AuditKind::Denied, "auth.token", &e.to_string())
                                .with_subject(subject),
                        );
                        Refusal::Credential(e)
                    })?;
                return Ok(Admitted { pass, permit: None });
            }
            (Scope::Tenant, None) => return Err(Refusal::Credential(AuthError::ScopeMismatch)),
        };
        let now = self.cache.clock().now();
        let record = self.known(self.cache.get_at(tenant, now).await, tenant, subject)?;
        self.admit_status(&record, subject, Requester::Tenant)?;
        // Roles are the tenant's own, as of now: a token never grants more
        // than the role grants today.
        let pass = self
            .contexts
            .pass(verified, Some(&record), &record.roles, &self.audit)
            .map_err(|e| self.credential_refused(&record, subject, "auth.token", e))?;
        self.agree(&record, subject, hints)?;
        let permit = self.meter(&record, subject, metered, Some(now)).await?;
        Ok(Admitted { pass, permit })
    }

    async fn admit_job(
        &self,
        stored: &TenantContext,
        hints: &[TenantHint],
        metered: bool,
    ) -> Result<Admitted, Refusal> {
        let subject = stored.subject();
        let tenant = match (stored.scope(), stored.tenant_id()) {
            (Scope::Tenant, Some(tenant)) => tenant,
            _ => return Err(Refusal::Credential(AuthError::ScopeMismatch)),
        };
        let now = self.cache.clock().now();
        let record = self.known(self.cache.get_at(tenant, now).await, tenant, subject)?;
        self.admit_status(&record, subject, Requester::Tenant)?;
        let ctx = job_context(stored, tenant, &record.roles)
            .map_err(|e| self.credential_refused(&record, subject, "job.context", e))?;
        self.agree(&record, subject, hints)?;
        let permit = self.meter(&record, subject, metered, Some(now)).await?;
        Ok(self.admitted(ctx, record, permit))
    }

    /// An operator acting for a tenant passes the tenant's own admission
    /// (its status, a suspended tenant only with the intent named, then its
    /// limits); only then is the access recorded and the acting context
    /// built.
    async fn admit_acting(
        &self,
        operator: &TenantContext,
        record: Arc<TenantRecord>,
        reason: &str,
        suspended: bool,
        metered: bool,
    ) -> Result<Admitted, Refusal> {
        let subject = operator.subject();
        self.admit_status(&record, subject, Requester::Operator { suspended })?;
        let permit = self.meter(&record, subject, metered, None).await?;
        if record.status == TenantStatus::Suspended {
            self.audit.record(
                AuditEvent::new(
                    AuditKind::SystemAccess,
                    "system.act_for_suspended_tenant",
                    Outcome::Allowed,
                )
                .with_tenant(record.id)
                .with_subject(subject)
                .with_reason(reason),
            );
        }
        // Records the `SystemAccess` event (or the refusal) itself.
        let ctx = operator
            .act_for_tenant(record.id, reason, self.audit.as_ref())
            .map_err(|_| Refusal::ActingRefused)?;
        Ok(self.admitted(ctx, record, permit))
    }

    /// A pass of its own (not from the context cache) for `ctx` in the
    /// tenant of `record`.
    fn admitted(
        &self,
        ctx: TenantContext,
        record: Arc<TenantRecord>,
        permit: Option<ConcurrencyPermit>,
    ) -> Admitted {
        let pass = Arc::new(Pass {
            ctx,
            record: Some(record),
            audit: Arc::clone(&self.audit),
        });
        Admitted { pass, permit }
    }

    /// The record the cache or the directory found for `tenant`; an
    /// unknown tenant is audited.
    fn known(
        &self,
        found: Result<Option<Arc<TenantRecord>>, Error>,
        tenant: TenantId,
        subject: SubjectId,
    ) -> Result<Arc<TenantRecord>, Refusal> {
        match found {
            Ok(Some(record)) => Ok(record),
            Ok(None) => {
                self.audit_tenant(
                    subject,
                    tenant,
                    AuditKind::Denied,
                    "tenant.status",
                    "tenant is unknown",
                );
                Err(Refusal::TenantUnavailable(None))
            }
            Err(e) => Err(Refusal::DirectoryUnavailable(e)),
        }
    }

    /// Whether the tenant's status admits a request of `requester`: an
    /// active tenant admits everyone; a suspended one only an operator who
    /// named that intent; no other status admits anyone. Refusals are
    /// audited in the tenant's log, naming the requester.
    // INVARIANT: the one place where a tenant's status admits or refuses
    // work, whether the tenant's own (a request, a job) or an operator's
    // acting for it.
    fn admit_status(
        &self,
        record: &TenantRecord,
        subject: SubjectId,
        requester: Requester,
    ) -> Result<(), Refusal> {
        let admitted = record.status.serves_requests()
            || (record.status == TenantStatus::Suspended
                && requester == Requester::Operator { suspended: true });
        if admitted {
            return Ok(());
        }
        self.audit_tenant(
            subject,
            record.id,
            AuditKind::Denied,
            "tenant.status",
            &format!("tenant is {}", record.status),
        );
        Err(Refusal::TenantUnavailable(Some(record.status)))
    }

    /// Every hint names the tenant's own slug.
    fn agree(
        &self,
        record: &TenantRecord,
        subject: SubjectId,
        hints: &[TenantHint],
    ) -> Result<(), Refusal> {
        let agrees =
            |hint: &TenantHint| matches!(hint, TenantHint::Slug(slug) if *slug == record.slug);
        if hints.iter().all(agrees) {
            return Ok(());
        }
        self.audit_tenant(
            subject,
            record.id,
            AuditKind::CrossTenantAttempt,
            "tenant.resolve",
            "the host or path names another tenant",
        );
        Err(Refusal::TenantMismatch)
    }

    /// The tenant's rate and concurrency limits when `metered`, at `now` on
    /// the cache's clock when the caller read it; the permit holds a
    /// concurrency slot. Limit refusals are audited.
    async fn meter(
        &self,
        record: &TenantRecord,
        subject: SubjectId,
        metered: bool,
        cache_now: Option<Duration>,
    ) -> Result<Option<ConcurrencyPermit>, Refusal> {
        if !metered {
            return Ok(None);
        }
        // One clock read for the tenant cache and the limits when they
        // share a clock (the defaults do).
        let now = match cache_now {
            Some(now) if Arc::ptr_eq(self.cache.clock(), self.limits.clock()) => now,
            _ => self.limits.clock().now(),
        };
        let admitted = self
            .limits
            .admit_at(record.id, &record.entitlements, now)
            .await;
        admitted.map(Some).map_err(|e| {
            if e.is_tenant_limit() {
                self.audit_tenant(
                    subject,
                    record.id,
                    AuditKind::Limited,
                    "tenant.limit",
                    &e.to_string(),
                );
            }
            Refusal::Limited(e)
        })
    }

    fn token_refused(&self, error: AuthError) -> Refusal {
        match error.kind() {
            AuthErrorKind::InvalidToken => {
                self.audit
                    .record(denied(AuditKind::Denied, "auth.token", &error.to_string()));
                Refusal::Credential(error)
            }
            AuthErrorKind::TenantRefused => Refusal::TenantUnavailable(match error {
                AuthError::TenantSuspended => Some(TenantStatus::Suspended),
                _ => None,
            }),
            AuthErrorKind::Misconfigured | AuthErrorKind::Unavailable => {
                Refusal::AuthUnavailable(error)
            }
        }
    }

    fn credential_refused(
        &self,
        record: &TenantRecord,
        subject: SubjectId,
        action: &str,
        error: AuthError,
    ) -> Refusal {
        self.audit_tenant(
            subject,
            record.id,
            AuditKind::Denied,
            action,
            &error.to_string(),
        );
        Refusal::Credential(error)
    }

    fn audit_tenant(
        &self,
        subject: SubjectId,
        tenant: TenantId,
        kind: AuditKind,
        action: &str,
        reason: &str,
    ) {
        self.audit.record(
            denied(kind, action, reason)
                .with_tenant(tenant)
                .with_subject(subject),
        );
    }
}

/// A job's stored context with the permissions its role grants today:
/// narrowed, never widened, like a token's.
fn job_context(
    stored: &TenantContext,
    tenant: TenantId,
    roles: &RoleRegistry,
) -> Result<TenantContext, AuthError> {
    match roles.get(stored.role()) {
        Some(role) if role.scope() == Scope::Tenant => {}
        Some(_) => return Err(AuthError::ScopeMismatch),
        None => return Err(AuthError::UnknownRole),
    }
    let granted = roles
        .permissions(stored.role())
        .map_err(|_| AuthError::UnknownRole)?;
    Ok(TenantContext::tenant(
        tenant,
        stored.subject(),
        stored.role().clone(),
        stored.permissions().intersection(granted),
    ))
}

/// Configures an [`Admission`].
#[derive(Default)]
#[must_use]
pub struct AdmissionBuilder {
    verifier: Option<Arc<dyn TokenVerifier>>,
    directory: Option<Arc<dyn TenantDirectory>>,
    cache: Option<Arc<TenantCache>>,
    cache_capacity: Option<usize>,
    cache_ttl: Option<Duration>,
    limits: Option<Arc<TenantLimits>>,
    audit: Option<Arc<dyn AuditSink>>,
    platform_roles: Option<Arc<RoleRegistry>>,
}

impl std::fmt::Debug for AdmissionBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdmissionBuilder").finish_non_exhaustive()
    }
}

impl AdmissionBuilder {
    /// What verifies bearer tokens (required): a [`CachedValidator`], a
    /// plain `Validator`, an `IssuerRouter` for per-tenant issuers, or your
    /// own [`TokenVerifier`].
    pub fn verifier(mut self, verifier: Arc<dyn TokenVerifier>) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// The token validator, behind its cache: the same as
    /// [`verifier`](Self::verifier).
    pub fn validator(self, validator: Arc<CachedValidator>) -> Self {
        self.verifier(validator)
    }

    /// The tenant directory (required unless [`cache`](Self::cache) is given).
    pub fn directory(mut self, directory: Arc<dyn TenantDirectory>) -> Self {
        self.directory = Some(directory);
        self
    }

    /// How many tenants to cache (default 10,000) and for how long (default
    /// 30 s: the longest a suspension takes to bite without an invalidation).
    /// The cache of built contexts holds as many (at least 10,000).
    pub fn cache_settings(mut self, capacity: usize, ttl: Duration) -> Self {
        self.cache_capacity = Some(capacity);
        self.cache_ttl = Some(ttl);
        self
    }

    /// A ready-made tenant cache, for sharing one between admissions.
    pub fn cache(mut self, cache: Arc<TenantCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The per-tenant limits (default: in memory, for up to 100,000 tenants).
    pub fn limits(mut self, limits: Arc<TenantLimits>) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Where refusals and operator access are recorded (default: discarded).
    /// Limit store failures are recorded here too, unless the limits were
    /// given a sink of their own.
    pub fn audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(sink);
        self
    }

    /// The roles of system-scope tokens (default: the built-ins).
    pub fn platform_roles(mut self, roles: Arc<RoleRegistry>) -> Self {
        self.platform_roles = Some(roles);
        self
    }

    /// Builds the admission.
    pub fn build(self) -> Result<Admission, Error> {
        let verifier = self
            .verifier
            .ok_or(Error::Config(ConfigProblem::NoVerifier))?;
        // The default cache and limits share one clock, so a request reads
        // it once for both.
        let clock: Arc<dyn MonotonicClock> = Arc::new(SystemClock::new());
        let cache = match (self.cache, self.directory) {
            (Some(cache), _) => cache,
            (None, Some(directory)) => Arc::new(TenantCache::with_clock(
                directory,
                self.cache_capacity.unwrap_or(10_000),
                self.cache_ttl.unwrap_or(Duration::from_secs(30)),
                Arc::clone(&clock),
            )),
            (None, None) => return Err(Error::Config(ConfigProblem::NoDirectory)),
        };
        let limits = self
            .limits
            .unwrap_or_else(|| Arc::new(TenantLimits::in_memory_with_clock(100_000, clock)));
        let audit = self.audit.unwrap_or_else(|| Arc::new(DiscardAuditSink));
        // A context for each token of a cached tenant: sized like the tenant
        // cache, so each tenant it holds has room for one at least.
        let contexts = ContextCache::new(cache.capacity().max(10_000));
        limits.audit_unless_set(&audit);
        Ok(Admission {
            verifier,
            cache,
            limits,
            audit,
            platform_roles: self
                .platform_roles
                .unwrap_or_else(|| Arc::new(RoleRegistry::with_builtins())),
            contexts,
        })
    }
}
