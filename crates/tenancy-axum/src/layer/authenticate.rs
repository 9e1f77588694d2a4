//! One request's way through the layer: token, tenant, resolution, limits.

use std::sync::Arc;

use axum::RequestExt;
use axum::body::{Body, HttpBody};
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, Request, header};
use tenancy_auth::{AuthError, VerifiedToken};
use tenancy_core::{
    AuditEvent, AuditKind, ConcurrencyPermit, LimitError, Outcome, Scope, SubjectId, TenantId,
    TenantSlug, TenantStatus,
};

use super::resolve::{Resolved, host_agrees_with_target};
use super::{
    ACT_FOR_HEADER, ACT_REASON_HEADER, ACT_SUSPENDED_HEADER, ActingRequest, AuthState,
    Authenticated, BodyLimit, MAX_ACT_REASON_BYTES, Shared,
};
use crate::directory::TenantRecord;
use crate::rejection::TenancyRejection;

/// The bearer token, if the request carries exactly one `Authorization:
/// Bearer` header. `Err` for a header that is there but unusable.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, TenancyRejection> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let malformed = || TenancyRejection::InvalidAuthorization;
    if values.next().is_some() {
        return Err(malformed());
    }
    let value = value.to_str().map_err(|_| malformed())?;
    // The scheme is everything before the first space: `Bearer` in any
    // case, so the first space is the seventh byte.
    let token = match value.split_at_checked(7) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer ") => token,
        _ => return Err(malformed()),
    };
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Ok(None);
    }
    Ok(Some(token))
}

fn denied(kind: AuditKind, action: &str, reason: &str) -> AuditEvent {
    AuditEvent::new(kind, action, Outcome::Denied).with_reason(reason)
}

/// The operator's reason for acting: UTF-8, trimmed, not empty, at most
/// [`MAX_ACT_REASON_BYTES`], and without control characters (Unicode `Cc`:
/// tab, CR, LF, DEL, the C1 controls) or line and paragraph separators, so
/// it cannot fill the audit log or forge lines in it.
fn acting_reason(value: Option<&HeaderValue>) -> Result<String, TenancyRejection> {
    let reason = value
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or(TenancyRejection::ActingRefused("a reason"))?;
    if reason.len() > MAX_ACT_REASON_BYTES {
        return Err(TenancyRejection::ActingReasonTooLong {
            limit: MAX_ACT_REASON_BYTES,
        });
    }
    if reason
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        return Err(TenancyRejection::ActingRefused(
            "a reason without control characters",
        ));
    }
    Ok(reason.to_owned())
}

/// Who asks to be admitted to a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Requester {
    /// A tenant-scope token of that tenant.
    Tenant,
    /// A platform operator acting for the tenant; `suspended`: the operator
    /// named the intent to act for a suspended tenant
    /// ([`ACT_SUSPENDED_HEADER`]).
    Operator { suspended: bool },
}

/// How far [`Shared::authenticate_now`] got without waiting.
pub(crate) enum Step {
    /// Finished: the permit (for tenant requests) or the rejection.
    Done(Result<Option<ConcurrencyPermit>, TenancyRejection>),
    /// Needs to wait (a key refresh, a directory read, a shared limit
    /// store, or a system token): continue with [`Shared::authenticate`],
    /// from the verified token when there is one.
    Slow(Option<Arc<VerifiedToken>>),
}

impl Shared {
    /// The synchronous pass: the whole request path when the token, the
    /// tenant and the limits are all answered in this process. Nothing it
    /// does before returning [`Step::Slow`] is repeated by
    /// [`authenticate`](Self::authenticate) except side-effect-free lookups.
    pub(crate) fn authenticate_now(&self, request: &mut Request<Body>) -> Step {
        // INVARIANT: every request passes here first, so no resolver, no
        // operator and no handler sees a Host that disagrees with the target.
        if let Err(rejection) = self.check_host(request) {
            return Step::Done(Err(rejection));
        }
        let token = match self.token(request) {
            Ok(token) => token,
            Err(rejection) => return Step::Done(Err(rejection)),
        };
        let verified = match self.validator.verify(token) {
            // A key the validator does not know yet: refresh the key source.
            Err(AuthError::UnknownKey) => return Step::Slow(None),
            Err(e) => return Step::Done(Err(self.token_refused(e))),
            Ok(verified) => verified,
        };
        if let Err(rejection) = self.check_body(request) {
            return Step::Done(Err(rejection));
        }
        let Some(tenant) = verified
            .tenant_id()
            .filter(|_| verified.scope() == Scope::Tenant)
        else {
            return Step::Slow(Some(verified));
        };
        // One clock read for the tenant cache and the limits when they
        // share a clock (the layer's defaults do).
        let now = self.cache.clock().now();
        let Some(cached) = self.cache.cached_at(tenant, now) else {
            return Step::Slow(Some(verified));
        };
        let (state, record) = match self.tenant_state(&verified, tenant, Ok(cached), request) {
            Ok(found) => found,
            Err(rejection) => return Step::Done(Err(rejection)),
        };
        let limits_now = if Arc::ptr_eq(self.cache.clock(), self.limits.clock()) {
            now
        } else {
            self.limits.clock().now()
        };
        let Some(admitted) = self
            .limits
            .admit_local_at(tenant, &record.entitlements, limits_now)
        else {
            return Step::Slow(Some(verified));
        };
        Step::Done(
            self.admitted(verified.subject(), tenant, admitted)
                .map(|permit| {
                    request.extensions_mut().insert(Authenticated(state));
                    Some(permit)
                }),
        )
    }

    /// Authenticates `request` and inserts the context into its extensions,
    /// waiting where needed; `verified` is the token when the synchronous
    /// pass got that far. The permit (for tenant requests) holds a
    /// concurrency slot.
    pub(crate) async fn authenticate(
        self: &Arc<Self>,
        request: &mut Request<Body>,
        verified: Option<Arc<VerifiedToken>>,
    ) -> Result<Option<ConcurrencyPermit>, TenancyRejection> {
        let verified = match verified {
            Some(verified) => verified,
            None => {
                let token = self.token(request)?;
                let verified = match self.validator.verify(token) {
                    Err(AuthError::UnknownKey) => {
                        Box::pin(self.validator.verify_async(token)).await
                    }
                    other => other,
                }
                .map_err(|e| self.token_refused(e))?;
                self.check_body(request)?;
                verified
            }
        };
        match verified.scope() {
            Scope::Tenant => self.tenant_request(&verified, request).await,
            Scope::System => {
                Box::pin(self.system_request(&verified, request)).await?;
                Ok(None)
            }
        }
    }

    /// The bearer token; a malformed header is audited.
    fn token<'r>(&self, request: &'r Request<Body>) -> Result<&'r str, TenancyRejection> {
        match bearer(request.headers()) {
            Ok(Some(token)) => Ok(token),
            Ok(None) => Err(TenancyRejection::MissingToken),
            Err(rejection) => {
                self.audit.record(denied(
                    AuditKind::Denied,
                    "auth.token",
                    "malformed authorization header",
                ));
                Err(rejection)
            }
        }
    }

    /// Refuses a `Host` header that disagrees with an absolute-form request
    /// target (RFC 9112 §3.2.2), audited: someone built a request to be
    /// read as addressing two hosts.
    fn check_host(&self, request: &Request<Body>) -> Result<(), TenancyRejection> {
        if host_agrees_with_target(request.uri(), request.headers()) {
            return Ok(());
        }
        self.audit.record(denied(
            AuditKind::Denied,
            "request.host",
            "the request target's host disagrees with the host header",
        ));
        Err(TenancyRejection::ConflictingHost)
    }

    /// `request` with its body limited to the layer's limit, if any,
    /// whether or not it declares a length: reading past the limit fails
    /// with axum's length-limit error, which axum's extractors and
    /// [`input::Json`](crate::input::Json) answer with 413. Also leaves the
    /// limit for the crate's extractors.
    pub(crate) fn limit_body(&self, mut request: Request<Body>) -> Request<Body> {
        let Some(limit) = self.max_body_bytes else {
            return request;
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        request.extensions_mut().insert(BodyLimit(limit));
        if request.body().is_end_stream() {
            return request;
        }
        // axum's own wrapping (`http_body_util::Limited`), applied on a
        // request of its own so the service's `DefaultBodyLimit`, if any,
        // stays as it was for axum's extractors.
        let (parts, body) = request.into_parts();
        let mut limited = Request::new(body);
        DefaultBodyLimit::max(limit).apply(&mut limited);
        Request::from_parts(parts, limited.with_limited_body().into_body())
    }

    /// Refuses a declared body larger than the configured limit.
    fn check_body(&self, request: &Request<Body>) -> Result<(), TenancyRejection> {
        if let Some(limit) = self.max_body_bytes {
            let declared = request
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > limit) {
                return Err(TenancyRejection::PayloadTooLarge { limit });
            }
        }
        Ok(())
    }

    fn token_refused(&self, error: AuthError) -> TenancyRejection {
        match error {
            AuthError::TenantSuspended => {
                TenancyRejection::TenantUnavailable(Some(tenancy_core::TenantStatus::Suspended))
            }
            AuthError::TenantUnavailable => TenancyRejection::TenantUnavailable(None),
            e if e.is_invalid_token() => {
                self.audit
                    .record(denied(AuditKind::Denied, "auth.token", &e.to_string()));
                TenancyRejection::InvalidToken(e)
            }
            e => TenancyRejection::AuthUnavailable(e),
        }
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

    /// Whether the tenant's status admits a request of `requester`: an
    /// active tenant admits everyone; a suspended one only an operator who
    /// named that intent; no other status admits anyone. Refusals are
    /// audited in the tenant's log, naming the requester.
    // INVARIANT: the one place where a tenant's status admits or refuses a
    // request, whether the tenant's own or an operator's acting for it.
    fn admit_status(
        &self,
        record: &TenantRecord,
        subject: SubjectId,
        requester: Requester,
    ) -> Result<(), TenancyRejection> {
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
        Err(TenancyRejection::TenantUnavailable(Some(record.status)))
    }

    /// The tenant's rate and concurrency limits, waiting for a shared store
    /// if there is one; the permit holds a concurrency slot.
    async fn admit_limits(
        &self,
        record: &TenantRecord,
        subject: SubjectId,
    ) -> Result<ConcurrencyPermit, TenancyRejection> {
        let admitted = match self.limits.admit_local(record.id, &record.entitlements) {
            Some(local) => local,
            None => Box::pin(self.limits.admit(record.id, &record.entitlements)).await,
        };
        self.admitted(subject, record.id, admitted)
    }

    /// Admits an operator's request to act for a tenant (on a route behind
    /// [`OperatorActingLayer`](super::OperatorActingLayer)) through the
    /// tenant's own admission: its status (a suspended tenant only with the
    /// intent named), then its rate and concurrency limits. Only then is the
    /// access recorded and the acting context built. The permit holds a
    /// concurrency slot of the tenant.
    pub(crate) async fn admit_acting(
        &self,
        operator: &AuthState,
        wanted: &ActingRequest,
    ) -> Result<(Arc<AuthState>, ConcurrencyPermit), TenancyRejection> {
        let record = &wanted.record;
        let subject = operator.ctx.subject();
        let requester = Requester::Operator {
            suspended: wanted.suspended,
        };
        self.admit_status(record, subject, requester)?;
        let permit = self.admit_limits(record, subject).await?;
        if record.status == TenantStatus::Suspended {
            self.audit.record(
                AuditEvent::new(
                    AuditKind::SystemAccess,
                    "system.act_for_suspended_tenant",
                    Outcome::Allowed,
                )
                .with_tenant(record.id)
                .with_subject(subject)
                .with_reason(wanted.reason.as_str()),
            );
        }
        // Records the `SystemAccess` event (or the refusal) itself.
        let ctx = operator
            .ctx
            .act_for_tenant(record.id, &wanted.reason, self.audit.as_ref())
            .map_err(|_| TenancyRejection::ActingRefused("a system token and a reason"))?;
        let state = Arc::new(AuthState {
            ctx,
            record: Some(Arc::clone(record)),
            audit: Arc::clone(&self.audit),
            acting: None,
        });
        Ok((state, permit))
    }

    async fn tenant_request(
        &self,
        verified: &Arc<VerifiedToken>,
        request: &mut Request<Body>,
    ) -> Result<Option<ConcurrencyPermit>, TenancyRejection> {
        let Some(tenant) = verified.tenant_id() else {
            return Err(TenancyRejection::InvalidToken(AuthError::ScopeMismatch));
        };
        let cached = match self.cache.cached(tenant) {
            Some(hit) => Ok(hit),
            None => Box::pin(self.cache.get(tenant)).await,
        };
        let (state, record) = self.tenant_state(verified, tenant, cached, request)?;
        let permit = self.admit_limits(&record, verified.subject()).await?;
        request.extensions_mut().insert(Authenticated(state));
        Ok(Some(permit))
    }

    /// The request state of a tenant token once its tenant is looked up:
    /// the tenant serves requests, the context is built with the tenant's
    /// own roles, and every resolver agrees. Audits each refusal; nothing
    /// else has side effects.
    fn tenant_state(
        &self,
        verified: &Arc<VerifiedToken>,
        tenant: TenantId,
        cached: Result<Option<Arc<TenantRecord>>, crate::error::Error>,
        request: &Request<Body>,
    ) -> Result<(Arc<AuthState>, Arc<TenantRecord>), TenancyRejection> {
        let record = match cached {
            Ok(Some(record)) => record,
            Ok(None) => {
                self.audit_tenant(
                    verified.subject(),
                    tenant,
                    AuditKind::Denied,
                    "tenant.status",
                    "tenant is unknown",
                );
                return Err(TenancyRejection::TenantUnavailable(None));
            }
            Err(_) => return Err(TenancyRejection::DirectoryUnavailable),
        };
        self.admit_status(&record, verified.subject(), Requester::Tenant)?;
        // Roles are the tenant's own, as of now: a token never grants more
        // than the role grants today.
        let state = self
            .contexts
            .state(verified, Some(&record), &record.roles, &self.audit)
            .map_err(|e| {
                self.audit_tenant(
                    verified.subject(),
                    tenant,
                    AuditKind::Denied,
                    "auth.token",
                    &e.to_string(),
                );
                TenancyRejection::InvalidToken(e)
            })?;
        if !self.resolvers.is_empty() {
            for slug in self.resolve(request) {
                match slug {
                    Some(slug) if slug == record.slug => {}
                    _ => {
                        self.audit_tenant(
                            verified.subject(),
                            tenant,
                            AuditKind::CrossTenantAttempt,
                            "tenant.resolve",
                            "the host or path names another tenant",
                        );
                        return Err(TenancyRejection::TenantMismatch);
                    }
                }
            }
        }
        Ok((state, record))
    }

    /// The outcome of the limits, with limit refusals audited.
    fn admitted(
        &self,
        subject: SubjectId,
        tenant: TenantId,
        admitted: Result<ConcurrencyPermit, LimitError>,
    ) -> Result<ConcurrencyPermit, TenancyRejection> {
        admitted.map_err(|e| {
            if !matches!(e, LimitError::StoreUnavailable) {
                self.audit_tenant(
                    subject,
                    tenant,
                    AuditKind::Limited,
                    "tenant.limit",
                    &e.to_string(),
                );
            }
            TenancyRejection::Limited(e)
        })
    }

    /// The slugs named by the resolvers that name one (`None`: invalid).
    fn resolve(&self, request: &Request<Body>) -> Vec<Option<TenantSlug>> {
        self.resolvers
            .iter()
            .filter_map(|r| match r.resolve(request.uri(), request.headers()) {
                Resolved::Nothing => None,
                Resolved::Slug(slug) => Some(Some(slug)),
                Resolved::Invalid => Some(None),
            })
            .collect()
    }

    async fn system_request(
        self: &Arc<Self>,
        verified: &Arc<VerifiedToken>,
        request: &mut Request<Body>,
    ) -> Result<(), TenancyRejection> {
        let ctx = self
            .contexts
            .state(verified, None, &self.platform_roles, &self.audit)
            .map(|state| state.ctx.clone())
            .map_err(|e| {
                self.audit.record(
                    denied(AuditKind::Denied, "auth.token", &e.to_string())
                        .with_subject(verified.subject()),
                );
                TenancyRejection::InvalidToken(e)
            })?;
        let acting = self.acting_request(request).await?;
        request
            .extensions_mut()
            .insert(Authenticated(Arc::new(AuthState {
                ctx,
                record: acting.as_ref().map(|a| Arc::clone(&a.record)),
                audit: Arc::clone(&self.audit),
                acting,
            })));
        Ok(())
    }

    /// An operator's request to act for a tenant: the tenant from a resolver
    /// or the act-for header, and a reason. Honoured later, on routes that
    /// opt in.
    async fn acting_request(
        self: &Arc<Self>,
        request: &mut Request<Body>,
    ) -> Result<Option<ActingRequest>, TenancyRejection> {
        let resolved = self.resolve(request);
        let headers = request.headers();
        let named_id = headers.get(ACT_FOR_HEADER);
        if resolved.is_empty() && named_id.is_none() {
            return Ok(None);
        }
        let reason = acting_reason(headers.get(ACT_REASON_HEADER))?;
        let suspended = match headers.get(ACT_SUSPENDED_HEADER) {
            None => false,
            Some(v) if v.as_bytes().eq_ignore_ascii_case(b"true") => true,
            Some(_) => {
                return Err(TenancyRejection::ActingRefused(
                    "`tenancy-act-suspended` to be `true` when present",
                ));
            }
        };
        let record = match (resolved.first(), named_id) {
            (Some(Some(slug)), None) if resolved.iter().all(|s| s.as_ref() == Some(slug)) => {
                self.cache.by_slug(slug).await
            }
            (None, Some(id)) => {
                let id = id
                    .to_str()
                    .ok()
                    .and_then(|t| TenantId::parse(t).ok())
                    .ok_or(TenancyRejection::ActingRefused("a valid tenant id"))?;
                self.cache.get(id).await
            }
            _ => return Err(TenancyRejection::ActingRefused("exactly one tenant")),
        }
        .map_err(|_| TenancyRejection::DirectoryUnavailable)?
        .ok_or(TenancyRejection::ActingTenantNotFound)?;
        Ok(Some(ActingRequest {
            record,
            reason,
            suspended,
            shared: Arc::clone(self),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::AUTHORIZATION, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn acting_reasons() {
        let check = |raw: &[u8], expected: Option<&str>| {
            let value = HeaderValue::from_bytes(raw).unwrap();
            assert_eq!(
                acting_reason(Some(&value)).ok().as_deref(),
                expected,
                "{raw:?}"
            );
        };
        check(b" ticket 4711 ", Some("ticket 4711"));
        check("Rückerstattung".as_bytes(), Some("Rückerstattung"));
        check(&[b'r'; 512], Some(&"r".repeat(512)));
        check(&[b'r'; 513], None);
        check(b"a\tb", None);
        check("a\u{85}b".as_bytes(), None);
        check("a\u{2028}b".as_bytes(), None);
        check(b"\xff", None);
        check(b"   ", None);
        assert!(acting_reason(None).is_err());
    }

    #[test]
    fn bearer_reads_only_one_authorization_header() {
        assert_eq!(bearer(&headers(&[])).unwrap(), None);
        assert_eq!(bearer(&headers(&["Bearer abc"])).unwrap(), Some("abc"));
        assert_eq!(bearer(&headers(&["bearer  abc"])).unwrap(), Some("abc"));
        assert_eq!(bearer(&headers(&["Bearer "])).unwrap(), None);
        assert!(bearer(&headers(&["Basic abc"])).is_err());
        assert!(bearer(&headers(&["Bearerabc"])).is_err());
        assert!(bearer(&headers(&["Bearer"])).is_err());
        assert!(bearer(&headers(&["Bearer\tabc"])).is_err());
        assert!(bearer(&headers(&["Bear abc"])).is_err());
        assert_eq!(bearer(&headers(&["BEARER abc"])).unwrap(), Some("abc"));
        assert!(bearer(&headers(&["Bearer a", "Bearer b"])).is_err());
    }
}
