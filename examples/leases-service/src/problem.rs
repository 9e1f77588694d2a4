//! Request failures as `application/problem+json` (RFC 9457).
//!
//! Every refusal the service gives goes through [`ApiError`]. Bodies never
//! carry a tenant id, and a resource of another tenant is indistinguishable
//! from one that does not exist.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tenancy_axum::Problem;

use crate::input::MAX_BODY_BYTES;

/// Every problem `type` is this prefix and a kebab-case name, the tenancy
/// layer's namespace (`urn:tenancy:problem:not-found`).
pub const PROBLEM_TYPE_PREFIX: &str = "urn:tenancy:problem:";
use tenancy_core::AccessError;

/// One field that failed to parse or validate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field, as a JSON path (`rent_cents`, `permissions[0]`).
    pub field: String,
    /// What is wrong with it.
    pub detail: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            detail: detail.into(),
        }
    }
}

/// Why a request was refused.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the body or query could not be read.
    BadRequest {
        /// What went wrong.
        detail: String,
        /// The fields concerned, when known.
        errors: Vec<FieldError>,
    },
    /// 401: no token, or a token that is not acceptable.
    Unauthorized(&'static str),
    /// 403: a permission, the scope or the tenant's status refuses it.
    Forbidden(String),
    /// 404: nothing with that id in this tenant.
    NotFound,
    /// 404 outside a tenant (an unknown path, tenant or redeem code), saying
    /// what was not found.
    Absent(&'static str),
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 409: the request conflicts with the current state.
    Conflict(String),
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 422: fields that parsed but are not valid.
    Unprocessable(Vec<FieldError>),
    /// 429: too many attempts from this client; retry after the delay.
    RateLimited {
        /// How long until the next attempt is admitted.
        retry_after: std::time::Duration,
    },
    /// 500: a failure inside the service; details go to the log only.
    Internal,
    /// 503: a dependency is down.
    Unavailable,
}

impl ApiError {
    /// A 422 for one field.
    pub fn field(field: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError::Unprocessable(vec![FieldError::new(field, detail)])
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::Absent(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `type` suffix and the title, in the tenancy layer's namespace and
    /// wording, so a client sees one vocabulary whichever part refused.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest { .. } => ("bad-request", "bad request"),
            ApiError::Unauthorized(_) => ("invalid-token", "invalid token"),
            ApiError::Forbidden(_) => ("missing-permission", "forbidden"),
            ApiError::NotFound | ApiError::Absent(_) => ("not-found", "not found"),
            ApiError::MethodNotAllowed => ("method-not-allowed", "method not allowed"),
            ApiError::Conflict(_) => ("conflict", "conflict"),
            ApiError::PayloadTooLarge => ("payload-too-large", "payload too large"),
            ApiError::Unprocessable(_) => ("unprocessable", "invalid field"),
            ApiError::RateLimited { .. } => ("rate-limited", "rate limit reached"),
            ApiError::Internal => ("internal", "internal error"),
            ApiError::Unavailable => ("unavailable", "service unavailable"),
        }
    }

    fn detail(&self) -> String {
        let fields = |errors: &[FieldError]| {
            errors
                .iter()
                .map(|e| format!("`{}`: {}", e.field, e.detail))
                .collect::<Vec<_>>()
                .join("; ")
        };
        match self {
            ApiError::BadRequest { detail, .. } => detail.clone(),
            ApiError::Unauthorized(detail) => (*detail).into(),
            ApiError::Forbidden(detail) | ApiError::Conflict(detail) => detail.clone(),
            ApiError::NotFound => "no such resource in this tenant".into(),
            ApiError::Absent(detail) => (*detail).into(),
            ApiError::MethodNotAllowed => "this method is not allowed here".into(),
            // Word for word what the tenancy layer says for a declared length.
            ApiError::PayloadTooLarge => {
                format!("request body is larger than {MAX_BODY_BYTES} bytes")
            }
            ApiError::Unprocessable(errors) => fields(errors),
            ApiError::RateLimited { .. } => "too many attempts from this address".into(),
            ApiError::Internal => "the service failed; the request changed nothing".into(),
            ApiError::Unavailable => "a dependency is unavailable; try again".into(),
        }
    }
}

impl ApiError {
    /// The problem document, in the tenancy SDK's format and `type` URIs.
    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let (kind, title) = self.kind();
        let type_uri = format!("{PROBLEM_TYPE_PREFIX}{kind}");
        let mut problem = Problem::new(status, type_uri, title).with_detail(self.detail());
        match self {
            ApiError::BadRequest { errors, .. } | ApiError::Unprocessable(errors)
                if !errors.is_empty() =>
            {
                let errors = serde_json::to_value(errors).unwrap_or_default();
                problem = problem.with_extension("errors", errors);
            }
            ApiError::RateLimited { retry_after } => {
                problem = problem.with_retry_after(*retry_after);
            }
            ApiError::Unauthorized(_) => {
                problem = problem.with_header(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            _ => {}
        }
        problem
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.to_problem().into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        eprintln!("leases-service: database error: {error}");
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => ApiError::Unavailable,
            _ => ApiError::Internal,
        }
    }
}

impl From<tenancy_sql::Error> for ApiError {
    fn from(error: tenancy_sql::Error) -> Self {
        match error {
            // A reference to a row this tenant does not have (another
            // tenant's, or none): "not found", revealing nothing.
            tenancy_sql::Error::NotFound { .. } => ApiError::NotFound,
            tenancy_sql::Error::Access(e) => e.into(),
            tenancy_sql::Error::Database(e) => e.into(),
            // A statement failed earlier in the transaction, so it was rolled
            // back: nothing was written, which the 500's detail says.
            tenancy_sql::Error::TransactionAborted => {
                eprintln!("leases-service: sql error: {error}");
                ApiError::Internal
            }
            // A statement the service built was refused before it ran (a
            // name the schema does not declare, a value or function it may
            // not use…): a bug here, never the client's. The message goes to
            // the log only; the body says nothing of it, nor of any tenant.
            other => {
                eprintln!("leases-service: sql error: {other}");
                ApiError::Internal
            }
        }
    }
}

impl From<crate::error::ServiceError> for ApiError {
    fn from(error: crate::error::ServiceError) -> Self {
        eprintln!("leases-service: {error}");
        ApiError::Internal
    }
}

impl From<AccessError> for ApiError {
    fn from(error: AccessError) -> Self {
        match error {
            AccessError::CrossTenant => ApiError::NotFound,
            other => ApiError::Forbidden(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenancy_axum::problem::types;

    #[test]
    fn every_type_is_the_tenancy_layers_own() {
        let cases = [
            (
                ApiError::BadRequest {
                    detail: String::new(),
                    errors: Vec::new(),
                },
                types::BAD_REQUEST,
            ),
            (ApiError::Unauthorized("no"), types::INVALID_TOKEN),
            (
                ApiError::Forbidden(String::new()),
                types::MISSING_PERMISSION,
            ),
            (ApiError::NotFound, types::NOT_FOUND),
            (ApiError::Absent("no such path"), types::NOT_FOUND),
            (ApiError::Conflict(String::new()), types::CONFLICT),
            (ApiError::PayloadTooLarge, types::PAYLOAD_TOO_LARGE),
            (ApiError::Unprocessable(Vec::new()), types::UNPROCESSABLE),
            (
                ApiError::RateLimited {
                    retry_after: std::time::Duration::from_secs(1),
                },
                types::RATE_LIMITED,
            ),
            (ApiError::Internal, types::INTERNAL),
            (ApiError::Unavailable, types::UNAVAILABLE),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_problem().type_uri(), expected, "{error:?}");
        }
        let method = ApiError::MethodNotAllowed.to_problem();
        assert!(method.type_uri().starts_with(PROBLEM_TYPE_PREFIX));
    }
}
