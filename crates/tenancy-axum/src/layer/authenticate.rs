//! One request's way through the layer: what HTTP decides (the host, the
//! `Authorization` header, the body size, an operator's act-for headers)
//! around the admission's decision.

use std::sync::Arc;

use axum::RequestExt;
use axum::body::{Body, HttpBody};
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, Request, Uri, header};
use tenancy_admission::{AdmissionRequest, Refusal, TenantHint};
use tenancy_core::{
    AuditEvent, AuditKind, ConcurrencyPermit, Outcome, Scope, TenantId, TenantSlug,
};

use super::resolve::{Resolved, host_agrees_with_target};
use super::unread_body::drain_when_dropped;
use super::{
    ACT_FOR_HEADER, ACT_REASON_HEADER, ACT_SUSPENDED_HEADER, ActingRequest, Authenticated,
    BodyLimit, MAX_ACT_REASON_BYTES, Shared,
};
use crate::rejection::{ActingRequirement, TenancyRejection};

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
        .ok_or(TenancyRejection::ActingRefused(ActingRequirement::Reason))?;
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
            ActingRequirement::ReasonWithoutControls,
        ));
    }
    Ok(reason.to_owned())
}

impl From<Refusal> for TenancyRejection {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Credential(e) => TenancyRejection::InvalidToken(e),
            Refusal::AuthUnavailable(e) => TenancyRejection::AuthUnavailable(e),
            Refusal::TenantUnavailable(status) => TenancyRejection::TenantUnavailable(status),
            Refusal::TenantMismatch => TenancyRejection::TenantMismatch,
            Refusal::Limited(e) => TenancyRejection::Limited(e),
            Refusal::DirectoryUnavailable(_) => TenancyRejection::DirectoryUnavailable,
            Refusal::ActingRefused => {
                TenancyRejection::ActingRefused(ActingRequirement::SystemTokenAndReason)
            }
        }
    }
}

impl Shared {
    /// Authenticates `request` and inserts what the admission handed out
    /// into its extensions. The permit (for tenant requests) holds a
    /// concurrency slot.
    // INVARIANT: the one way through the layer; the admission it asks is
    // the one decision, for requests and jobs alike.
    pub(crate) async fn authenticate(
        self: &Arc<Self>,
        request: &mut Request<Body>,
    ) -> Result<Option<ConcurrencyPermit>, TenancyRejection> {
        // INVARIANT: every request passes here first, so no resolver, no
        // operator and no handler sees a Host that disagrees with the target.
        self.check_host(request)?;
        let token = self.token(request.headers())?;
        let verified = self.admission.verify(token).await?;
        self.check_body(request)?;
        let scope = verified.scope();
        let mut admission = AdmissionRequest::verified(verified);
        if scope == Scope::Tenant && !self.resolvers.is_empty() {
            let resolved = self.resolve(request.uri(), request.headers());
            admission = admission.hints(
                resolved
                    .into_iter()
                    .map(|slug| slug.map_or(TenantHint::Unreadable, TenantHint::Slug)),
            );
        }
        let (pass, permit) = self.admission.admit(admission).await?.into_parts();
        if scope == Scope::System {
            let acting = Box::pin(self.acting_request(request.uri(), request.headers())).await?;
            if let Some(acting) = acting {
                request.extensions_mut().insert(acting);
            }
        }
        request.extensions_mut().insert(Authenticated(pass));
        Ok(permit)
    }

    /// The bearer token; a malformed header is audited.
    fn token<'r>(&self, headers: &'r HeaderMap) -> Result<&'r str, TenancyRejection> {
        match bearer(headers) {
            Ok(Some(token)) => Ok(token),
            Ok(None) => Err(TenancyRejection::MissingToken),
            Err(rejection) => {
                self.admission.audit().record(denied(
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
        self.admission.audit().record(denied(
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
    /// limit for the crate's extractors. A body a handler drops unread is
    /// drained in the background, within bounds, so the connection stays
    /// usable (see [`drain_when_dropped`]).
    pub(crate) fn limit_body(&self, request: Request<Body>) -> Request<Body> {
        // The limit wraps the drain, so its error reaches the extractors
        // as axum's length-limit error (a 413).
        self.limit_body_only(drain_when_dropped(request, self.max_body_bytes))
    }

    fn limit_body_only(&self, mut request: Request<Body>) -> Request<Body> {
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

    /// The slugs named by the resolvers that name one (`None`: invalid).
    fn resolve(&self, uri: &Uri, headers: &HeaderMap) -> Vec<Option<TenantSlug>> {
        self.resolvers
            .iter()
            .filter_map(|r| match r.resolve(uri, headers) {
                Resolved::Nothing => None,
                Resolved::Slug(slug) => Some(Some(slug)),
                Resolved::Invalid => Some(None),
            })
            .collect()
    }

    /// An operator's request to act for a tenant: the tenant from a resolver
    /// or the act-for header, and a reason. Honoured later, on routes that
    /// opt in.
    async fn acting_request(
        &self,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Result<Option<ActingRequest>, TenancyRejection> {
        let resolved = self.resolve(uri, headers);
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
                    ActingRequirement::SuspendedFlag,
                ));
            }
        };
        let cache = self.admission.cache();
        let record = match (resolved.first(), named_id) {
            (Some(Some(slug)), None) if resolved.iter().all(|s| s.as_ref() == Some(slug)) => {
                cache.by_slug(slug).await
            }
            (None, Some(id)) => {
                let id = id
                    .to_str()
                    .ok()
                    .and_then(|t| TenantId::parse(t).ok())
                    .ok_or(TenancyRejection::ActingRefused(ActingRequirement::TenantId))?;
                cache.get(id).await
            }
            _ => {
                return Err(TenancyRejection::ActingRefused(
                    ActingRequirement::OneTenant,
                ));
            }
        }
        .map_err(|_| TenancyRejection::DirectoryUnavailable)?
        .ok_or(TenancyRejection::ActingTenantNotFound)?;
        Ok(Some(ActingRequest {
            record,
            reason,
            suspended,
            admission: Arc::clone(&self.admission),
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
