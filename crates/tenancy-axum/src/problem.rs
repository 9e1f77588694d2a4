//! RFC 9457 problem details, the body of every refusal.

use std::borrow::Cow;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The media type of a problem body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Stable `type` URIs, one per kind of refusal. Clients may match on them;
/// they never change meaning.
pub mod types {
    /// 401: no bearer token in the `Authorization` header.
    pub const MISSING_TOKEN: &str = "urn:tenancy:problem:missing-token";
    /// 401: a bearer token that is not acceptable, whatever the reason.
    pub const INVALID_TOKEN: &str = "urn:tenancy:problem:invalid-token";
    /// 403: the context lacks a permission.
    pub const MISSING_PERMISSION: &str = "urn:tenancy:problem:missing-permission";
    /// 403: a tenant route called with a system token, or the reverse.
    pub const WRONG_SCOPE: &str = "urn:tenancy:problem:wrong-scope";
    /// 403: the tenant is suspended, being removed, or not serving.
    pub const TENANT_UNAVAILABLE: &str = "urn:tenancy:problem:tenant-unavailable";
    /// 403: the host or path names a tenant other than the token's.
    pub const TENANT_MISMATCH: &str = "urn:tenancy:problem:tenant-mismatch";
    /// 400: the request target's host (an absolute-form target, or HTTP/2's
    /// `:authority`) disagrees with the `Host` header.
    pub const CONFLICTING_HOST: &str = "urn:tenancy:problem:conflicting-host";
    /// 400: acting for a tenant without a usable tenant or reason.
    pub const ACTING_REFUSED: &str = "urn:tenancy:problem:acting-refused";
    /// 404: nothing of that name in this tenant (including other tenants' things).
    pub const NOT_FOUND: &str = "urn:tenancy:problem:not-found";
    /// 409: the request conflicts with the resource's state.
    pub const CONFLICT: &str = "urn:tenancy:problem:conflict";
    /// 405: the path exists, the method does not.
    pub const METHOD_NOT_ALLOWED: &str = "urn:tenancy:problem:method-not-allowed";
    /// 400: the request could not be read (syntax, content type, path, query).
    pub const BAD_REQUEST: &str = "urn:tenancy:problem:bad-request";
    /// 422: the body is well-formed but a field is invalid.
    pub const UNPROCESSABLE: &str = "urn:tenancy:problem:unprocessable";
    /// 413: the body is larger than allowed.
    pub const PAYLOAD_TOO_LARGE: &str = "urn:tenancy:problem:payload-too-large";
    /// 415: the body is not `application/json`.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "urn:tenancy:problem:unsupported-media-type";
    /// 429: the tenant's request rate is spent.
    pub const RATE_LIMITED: &str = "urn:tenancy:problem:rate-limited";
    /// 429: the tenant has too many requests in flight.
    pub const TOO_MANY_CONCURRENT: &str = "urn:tenancy:problem:too-many-concurrent";
    /// 503: a dependency (tenant directory, key source, limit store) is down.
    pub const UNAVAILABLE: &str = "urn:tenancy:problem:unavailable";
    /// 500: the service is wired wrongly or failed unexpectedly.
    pub const INTERNAL: &str = "urn:tenancy:problem:internal";
}

/// An `application/problem+json` response (RFC 9457).
///
/// Every rejection of this crate renders as one, and services reuse it for
/// their own errors so clients see one format:
///
/// ```
/// use axum::http::StatusCode;
/// use tenancy_axum::Problem;
///
/// let p = Problem::not_found("no lease `l-17` in this tenant");
/// assert_eq!(p.status(), StatusCode::NOT_FOUND);
/// assert_eq!(p.type_uri(), tenancy_axum::problem::types::NOT_FOUND);
/// let p = Problem::new(StatusCode::CONFLICT, "urn:leases:problem:overlap", "lease overlaps another")
///     .with_detail("unit 4B is let from 2026-01-01")
///     .with_extension("unit", "4B");
/// assert_eq!(serde_json::to_value(&p)?["unit"], "4B");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A problem never carries a tenant id: none of this crate's constructors
/// put one in, and a service should not either.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    type_uri: Cow<'static, str>,
    title: Cow<'static, str>,
    #[serde(serialize_with = "serialize_status")]
    status: StatusCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(flatten)]
    extensions: serde_json::Map<String, serde_json::Value>,
    #[serde(skip)]
    headers: HeaderMap,
}

fn serialize_status<S: serde::Serializer>(status: &StatusCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u16(status.as_u16())
}

/// Extension members that would shadow the standard ones are refused.
const RESERVED_MEMBERS: [&str; 5] = ["type", "title", "status", "detail", "instance"];

impl Problem {
    /// A problem with a status, a stable `type` URI and a short title.
    pub fn new(
        status: StatusCode,
        type_uri: impl Into<Cow<'static, str>>,
        title: impl Into<Cow<'static, str>>,
    ) -> Self {
        Problem {
            type_uri: type_uri.into(),
            title: title.into(),
            status,
            detail: None,
            extensions: serde_json::Map::new(),
            headers: HeaderMap::new(),
        }
    }

    /// 404 for anything that is not in the caller's tenant, whether or not
    /// it exists elsewhere.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, types::NOT_FOUND, "not found").with_detail(detail)
    }

    /// 409 for a request that conflicts with the resource's state.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::CONFLICT, types::CONFLICT, "conflict").with_detail(detail)
    }

    /// 422 for a well-formed body with an invalid field.
    pub fn unprocessable(field: &str, detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            types::UNPROCESSABLE,
            "invalid field",
        )
        .with_detail(detail)
        .with_extension("field", field)
    }

    /// 400 for a request that cannot be read.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, types::BAD_REQUEST, "bad request").with_detail(detail)
    }

    /// 405 for a method the path does not have, for a router's
    /// `method_not_allowed_fallback`.
    pub fn method_not_allowed() -> Self {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            types::METHOD_NOT_ALLOWED,
            "method not allowed",
        )
        .with_detail("this method is not allowed here")
    }

    /// 429 for a rate that is spent; clients may retry after `retry_after`.
    /// Say whose rate it is with [`with_detail`](Problem::with_detail).
    pub fn rate_limited(retry_after: Duration) -> Self {
        Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            types::RATE_LIMITED,
            "rate limit reached",
        )
        .with_retry_after(retry_after)
    }

    /// 500 without details: the cause goes to the logs, not to the client.
    pub fn internal() -> Self {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            types::INTERNAL,
            "internal error",
        )
    }

    /// 503 for a dependency that is down; clients may retry after `retry_after`.
    pub fn unavailable(retry_after: Duration) -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            types::UNAVAILABLE,
            "service unavailable",
        )
        .with_retry_after(retry_after)
    }

    /// Adds a human-readable explanation of this occurrence.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds an extension member. Names of the standard members are ignored.
    #[must_use]
    pub fn with_extension(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        if !RESERVED_MEMBERS.contains(&name) {
            self.extensions.insert(name.to_owned(), value.into());
        }
        self
    }

    /// Adds a `Retry-After` header, in whole seconds rounded up (at least 1).
    #[must_use]
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        let secs = after
            .as_secs()
            .saturating_add(u64::from(after.subsec_nanos() > 0))
            .max(1);
        self.headers
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        self
    }

    /// Adds a response header.
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `type` URI.
    pub fn type_uri(&self) -> &str {
        &self.type_uri
    }

    /// The title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The detail, if any.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The response headers this problem adds.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.title)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = match serde_json::to_vec(&self) {
            Ok(body) => body,
            // Unreachable in practice (a map of JSON values always serialises);
            // fall back to the bare members rather than panic.
            Err(_) => format!(
                r#"{{"type":"{}","title":"internal error","status":500}}"#,
                types::INTERNAL
            )
            .into_bytes(),
        };
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.extend(self.headers);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_cannot_shadow_standard_members() {
        let p = Problem::not_found("x").with_extension("status", 200);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["status"], 404);
        assert_eq!(v["type"], types::NOT_FOUND);
        assert_eq!(v["detail"], "x");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let p = Problem::unavailable(Duration::from_millis(1200));
        assert_eq!(p.headers()[header::RETRY_AFTER], "2");
        let p = Problem::unavailable(Duration::ZERO);
        assert_eq!(p.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn rate_limited_says_when_to_retry() {
        let p = Problem::rate_limited(Duration::from_millis(100)).with_detail("slow down");
        assert_eq!(p.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(p.type_uri(), types::RATE_LIMITED);
        assert_eq!(p.headers()[header::RETRY_AFTER], "1");
        let p = Problem::method_not_allowed();
        assert_eq!(p.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(p.type_uri(), types::METHOD_NOT_ALLOWED);
    }

    #[test]
    fn response_has_problem_media_type() {
        let r = Problem::internal().into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
