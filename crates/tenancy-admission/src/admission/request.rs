//! What is asked of the admission, and what it hands out.

use std::sync::Arc;

use tenancy_auth::VerifiedToken;
use tenancy_core::{AuditSink, ConcurrencyPermit, TenantContext, TenantSlug};

use crate::directory::TenantRecord;

/// One request or job asking to be admitted: its credential, what the
/// transport says about the tenant besides it, and whether the tenant's
/// limits apply.
///
/// ```
/// use tenancy_admission::{AdmissionRequest, TenantHint};
///
/// // An HTTP request whose host names `acme`.
/// let request = AdmissionRequest::bearer("eyJ…").hint(TenantHint::Slug("acme".parse()?));
/// # let _ = request;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct AdmissionRequest<'a> {
    pub(crate) credential: Credential<'a>,
    pub(crate) hints: Vec<TenantHint>,
    pub(crate) metered: bool,
}

#[derive(Debug)]
pub(crate) enum Credential<'a> {
    Bearer(&'a str),
    Verified(Arc<VerifiedToken>),
    Job(&'a TenantContext),
    Acting {
        operator: &'a TenantContext,
        record: Arc<TenantRecord>,
        reason: &'a str,
        suspended: bool,
    },
}

/// What a transport says about the tenant apart from the credential: a
/// subdomain, a `/t/{slug}/…` path. Every hint must name the credential's
/// own tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantHint {
    /// The transport names this tenant.
    Slug(TenantSlug),
    /// The transport names a tenant in a form that is not a slug; it never
    /// agrees with any tenant.
    Unreadable,
}

impl<'a> AdmissionRequest<'a> {
    fn new(credential: Credential<'a>, metered: bool) -> Self {
        AdmissionRequest {
            credential,
            hints: Vec::new(),
            metered,
        }
    }

    /// A request with a bearer token, verified by the admission. The
    /// tenant's limits apply.
    pub fn bearer(token: &'a str) -> Self {
        AdmissionRequest::new(Credential::Bearer(token), true)
    }

    /// A request whose token the caller verified already with
    /// [`Admission::verify`](crate::Admission::verify) (a transport that
    /// checks something between the token and the tenant, such as a body
    /// size). The tenant's limits apply.
    pub fn verified(token: Arc<VerifiedToken>) -> Self {
        AdmissionRequest::new(Credential::Verified(token), true)
    }

    /// A job, with the tenant-scope context stored when it was queued. The
    /// admission checks the tenant as it does a request's, and hands out
    /// the context again with the permissions its role grants today (never
    /// more than it held). The tenant's limits do not apply unless
    /// [`metered`](Self::metered) says so.
    pub fn job(stored: &'a TenantContext) -> Self {
        AdmissionRequest::new(Credential::Job(stored), false)
    }

    /// A platform operator (a system-scope context) acting for the tenant
    /// of `record`, giving `reason`. Admitted as the tenant's own requests
    /// are, except that a suspended tenant admits an operator who
    /// [`names that intent`](Self::acting_for_suspended); the tenant's
    /// limits apply, and the access is recorded in the tenant's audit log.
    pub fn acting(operator: &'a TenantContext, record: Arc<TenantRecord>, reason: &'a str) -> Self {
        let credential = Credential::Acting {
            operator,
            record,
            reason,
            suspended: false,
        };
        AdmissionRequest::new(credential, true)
    }

    /// For [`acting`](Self::acting): the operator names the intent to act
    /// for a suspended tenant. It admits no other status.
    pub fn acting_for_suspended(mut self, intent: bool) -> Self {
        if let Credential::Acting { suspended, .. } = &mut self.credential {
            *suspended = intent;
        }
        self
    }

    /// Adds a hint the tenant must agree with.
    pub fn hint(mut self, hint: TenantHint) -> Self {
        self.hints.push(hint);
        self
    }

    /// Adds hints the tenant must agree with.
    pub fn hints(mut self, hints: impl IntoIterator<Item = TenantHint>) -> Self {
        self.hints.extend(hints);
        self
    }

    /// Whether the tenant's rate and concurrency limits apply.
    pub fn metered(mut self, metered: bool) -> Self {
        self.metered = metered;
        self
    }
}

/// Work admitted into one tenant, or onto the platform: what a handler or a
/// worker acts with.
///
/// Fields are public to read; only the admission builds one.
#[non_exhaustive]
pub struct Pass {
    /// The context, with the permissions its role grants today.
    pub ctx: TenantContext,
    /// The tenant's record, for tenant contexts and operators acting for
    /// one; `None` for the platform.
    pub record: Option<Arc<TenantRecord>>,
    /// Where to record what the admitted work is refused later (a missing
    /// permission, a foreign id).
    pub audit: Arc<dyn AuditSink>,
}

impl std::fmt::Debug for Pass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pass")
            .field("ctx", &self.ctx)
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// What [`Admission::admit`](crate::Admission::admit) hands out: the pass,
/// and the tenant's concurrency slot when its limits apply, held until this
/// (or the permit taken from it) is dropped.
#[derive(Debug)]
#[must_use = "the concurrency slot is released as soon as this is dropped"]
pub struct Admitted {
    pub(crate) pass: Arc<Pass>,
    pub(crate) permit: Option<ConcurrencyPermit>,
}

impl Admitted {
    /// The context to act with.
    pub fn context(&self) -> &TenantContext {
        &self.pass.ctx
    }

    /// The tenant's record (`None` for the platform).
    pub fn record(&self) -> Option<&Arc<TenantRecord>> {
        self.pass.record.as_ref()
    }

    /// The pass.
    pub fn pass(&self) -> &Arc<Pass> {
        &self.pass
    }

    /// The pass and the concurrency slot, apart.
    pub fn into_parts(self) -> (Arc<Pass>, Option<ConcurrencyPermit>) {
        (self.pass, self.permit)
    }
}
