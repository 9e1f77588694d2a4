//! Refusals, one enum per place that refuses; each knows its status and
//! renders as a [`Problem`].
//!
//! Wiring bugs (an extractor without the layer in front of it) are 500s, not
//! 401s: a missing layer must never look like an authentication problem the
//! client could fix, nor let a request through.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tenancy_auth::{AuthError, AuthErrorKind, Claim};
use tenancy_core::{LimitError, Permission, TenantStatus};

use crate::problem::{Problem, types};

/// Refusals of the [`TenancyLayer`](crate::TenancyLayer), before any handler runs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenancyRejection {
    /// No `Authorization: Bearer` header (401).
    #[error("a bearer token is required")]
    MissingToken,
    /// The `Authorization` header is not one `Bearer` credential (401).
    #[error("the authorization header is not a single bearer token")]
    InvalidAuthorization,
    /// The token is not acceptable, whatever the reason (401). The body
    /// names a claim by what it carries (`tenant claim is missing`), never
    /// by its name in the token.
    #[error(transparent)]
    InvalidToken(AuthError),
    /// Validation could not run: key source down (503) or misconfigured (500).
    #[error("token validation is unavailable")]
    AuthUnavailable(#[source] AuthError),
    /// The token's tenant does not serve requests (403). `None`: it is not
    /// known to the directory.
    #[error("{}", tenant_unavailable_detail(*.0))]
    TenantUnavailable(Option<TenantStatus>),
    /// The request target is absolute (or HTTP/2's `:authority` is set) and
    /// a `Host` header names another host (400).
    #[error("the request target's host disagrees with the `Host` header")]
    ConflictingHost,
    /// The host or path names a tenant other than the token's (403).
    #[error("the request addresses a tenant other than the token's")]
    TenantMismatch,
    /// A rate or concurrency limit was reached (429), or the limit store is
    /// down and the limiter fails closed (503).
    #[error(transparent)]
    Limited(LimitError),
    /// The declared body is larger than the layer admits (413).
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The tenant directory could not answer (503).
    #[error("tenant directory unavailable")]
    DirectoryUnavailable,
    /// An operator asked to act for a tenant without a valid tenant or
    /// reason (400).
    #[error("acting for a tenant needs {0}")]
    ActingRefused(ActingRequirement),
    /// An operator's reason for acting for a tenant is longer than `limit`
    /// bytes (400).
    #[error("the reason for acting for a tenant is longer than {limit} bytes")]
    ActingReasonTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// An operator asked to act for a tenant the directory does not know (404).
    #[error("no such tenant")]
    ActingTenantNotFound,
}

/// What an operator's request to act for a tenant lacks
/// ([`TenancyRejection::ActingRefused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ActingRequirement {
    /// No reason, or an empty one.
    Reason,
    /// A reason with control characters or line separators.
    ReasonWithoutControls,
    /// A tenant token, or a system context the admission refused to let act.
    SystemTokenAndReason,
    /// `tenancy-act-suspended` with a value other than `true`.
    SuspendedFlag,
    /// A tenant id header that is not a tenant id.
    TenantId,
    /// No tenant, or more than one (a host, a path and a header that
    /// disagree).
    OneTenant,
}

impl std::fmt::Display for ActingRequirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ActingRequirement::Reason => "a reason",
            ActingRequirement::ReasonWithoutControls => "a reason without control characters",
            ActingRequirement::SystemTokenAndReason => "a system token and a reason",
            ActingRequirement::SuspendedFlag => "`tenancy-act-suspended` to be `true` when present",
            ActingRequirement::TenantId => "a valid tenant id",
            ActingRequirement::OneTenant => "exactly one tenant",
        })
    }
}

fn tenant_unavailable_detail(status: Option<TenantStatus>) -> String {
    match status {
        Some(TenantStatus::Suspended) => "tenant is suspended".to_owned(),
        Some(status) => format!("tenant is {status}"),
        None => "tenant is unavailable".to_owned(),
    }
}

/// What a client is told about an unacceptable token: the validator's
/// message, except that a claim is named by what it carries, never by its
/// name in the token (`tenant_id` and its like stay out of every body).
fn invalid_token_detail(error: &AuthError) -> String {
    match error {
        AuthError::MissingClaim(claim) => format!("{} claim is missing", claim_role(*claim)),
        AuthError::InvalidClaim(claim) => format!("{} claim is invalid", claim_role(*claim)),
        other => other.to_string(),
    }
}

/// A claim by what it carries.
fn claim_role(claim: Claim) -> &'static str {
    match claim {
        Claim::Subject => "subject",
        Claim::TenantId => "tenant",
        Claim::Scope => "scope",
        Claim::Role => "role",
        Claim::Permissions => "permissions",
        Claim::IssuedAt => "issued-at",
        Claim::ExpiresAt => "expiry",
        Claim::NotBefore => "not-before",
        Claim::Issuer => "issuer",
        Claim::Audience => "audience",
        Claim::TokenId => "token id",
        _ => "token",
    }
}

fn invalid_token(detail: String) -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        types::INVALID_TOKEN,
        "invalid token",
    )
    .with_detail(detail)
    .with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer error="invalid_token""#),
    )
}

fn wrong_scope(detail: &str) -> Problem {
    Problem::new(StatusCode::FORBIDDEN, types::WRONG_SCOPE, "wrong scope").with_detail(detail)
}

fn missing_layer() -> Problem {
    // The wiring bug is the operator's to fix; the client learns nothing more.
    Problem::internal()
}

impl TenancyRejection {
    /// The problem this refusal renders as.
    pub fn to_problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            TenancyRejection::MissingToken => Problem::new(
                StatusCode::UNAUTHORIZED,
                types::MISSING_TOKEN,
                "authentication required",
            )
            .with_detail(detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")),
            TenancyRejection::InvalidToken(error) => invalid_token(invalid_token_detail(error)),
            TenancyRejection::InvalidAuthorization => invalid_token(detail),
            TenancyRejection::AuthUnavailable(error) => match error.kind() {
                AuthErrorKind::Unavailable => Problem::unavailable(Duration::from_secs(1)),
                // A token or tenant refusal reaches here only through a
                // wiring bug; like a misconfiguration, it is the operator's.
                AuthErrorKind::Misconfigured
                | AuthErrorKind::InvalidToken
                | AuthErrorKind::TenantRefused => Problem::internal(),
            },
            TenancyRejection::TenantUnavailable(_) => Problem::new(
                StatusCode::FORBIDDEN,
                types::TENANT_UNAVAILABLE,
                "tenant unavailable",
            )
            .with_detail(detail),
            TenancyRejection::ConflictingHost => Problem::new(
                StatusCode::BAD_REQUEST,
                types::CONFLICTING_HOST,
                "conflicting host",
            )
            .with_detail(detail),
            TenancyRejection::TenantMismatch => Problem::new(
                StatusCode::FORBIDDEN,
                types::TENANT_MISMATCH,
                "tenant mismatch",
            )
            .with_detail(detail),
            TenancyRejection::Limited(LimitError::RateLimited { retry_after }) => {
                Problem::rate_limited(*retry_after)
                    .with_detail("the tenant's request rate is spent")
            }
            TenancyRejection::Limited(LimitError::TooManyConcurrent { .. }) => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                types::TOO_MANY_CONCURRENT,
                "too many concurrent requests",
            )
            .with_detail(detail)
            .with_retry_after(Duration::from_secs(1)),
            TenancyRejection::Limited(_) | TenancyRejection::DirectoryUnavailable => {
                Problem::unavailable(Duration::from_secs(1))
            }
            TenancyRejection::PayloadTooLarge { .. } => payload_too_large(detail),
            TenancyRejection::ActingRefused(_) | TenancyRejection::ActingReasonTooLong { .. } => {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    types::ACTING_REFUSED,
                    "acting refused",
                )
                .with_detail(detail)
            }
            TenancyRejection::ActingTenantNotFound => Problem::not_found(detail),
        }
    }
}

fn payload_too_large(detail: String) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        types::PAYLOAD_TOO_LARGE,
        "payload too large",
    )
    .with_detail(detail)
}

impl IntoResponse for TenancyRejection {
    fn into_response(self) -> Response {
        self.to_problem().into_response()
    }
}

/// Refusals of the [`Tenant`](crate::Tenant) extractor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TenantRejection {
    /// The route is not behind the [`TenancyLayer`](crate::TenancyLayer) (500).
    #[error("the tenancy layer is not installed on this route")]
    MissingLayer,
    /// A system token on a tenant route, not acting for a tenant (403).
    #[error("this route needs a tenant-scope token")]
    SystemScope,
}

impl TenantRejection {
    /// The problem this refusal renders as.
    pub fn to_problem(&self) -> Problem {
        match self {
            TenantRejection::MissingLayer => missing_layer(),
            TenantRejection::SystemScope => wrong_scope(&self.to_string()),
        }
    }
}

impl IntoResponse for TenantRejection {
    fn into_response(self) -> Response {
        self.to_problem().into_response()
    }
}

/// Refusals of the [`Require`](crate::Require) extractor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PermissionRejection {
    /// The route is not behind the layer (500).
    #[error("the tenancy layer is not installed on this route")]
    MissingLayer,
    /// A system token on a tenant route, not acting for a tenant (403).
    #[error("this route needs a tenant-scope token")]
    SystemScope,
    /// The context lacks the permission (403); names it.
    #[error("missing permission `{0}`")]
    Missing(Permission),
    /// The declared permission text is not a permission (500, a bug).
    #[error("declared permission is invalid")]
    InvalidDeclaration,
}

impl PermissionRejection {
    /// The problem this refusal renders as.
    pub fn to_problem(&self) -> Problem {
        match self {
            PermissionRejection::MissingLayer | PermissionRejection::InvalidDeclaration => {
                missing_layer()
            }
            PermissionRejection::SystemScope => wrong_scope(&self.to_string()),
            PermissionRejection::Missing(p) => Problem::new(
                StatusCode::FORBIDDEN,
                types::MISSING_PERMISSION,
                "missing permission",
            )
            .with_detail(self.to_string())
            .with_extension("permission", p.to_string()),
        }
    }
}

impl IntoResponse for PermissionRejection {
    fn into_response(self) -> Response {
        self.to_problem().into_response()
    }
}

/// Refusals of the [`SystemAdmin`](crate::SystemAdmin) extractor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SystemRejection {
    /// The route is not behind the layer (500).
    #[error("the tenancy layer is not installed on this route")]
    MissingLayer,
    /// A tenant token, or an operator acting for a tenant, on a system
    /// route (403).
    #[error("this route needs a system-scope token")]
    NotSystem,
}

impl SystemRejection {
    /// The problem this refusal renders as.
    pub fn to_problem(&self) -> Problem {
        match self {
            SystemRejection::MissingLayer => missing_layer(),
            SystemRejection::NotSystem => wrong_scope(&self.to_string()),
        }
    }
}

impl IntoResponse for SystemRejection {
    fn into_response(self) -> Response {
        self.to_problem().into_response()
    }
}

/// One field of a body or query that failed to read or validate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct FieldError {
    /// The field's name (`rent_cents`), or [`BODY_FIELD`](crate::input::BODY_FIELD)
    /// for the body as a whole.
    pub field: String,
    /// What is wrong with it, in JSON's terms (`must be an integer`).
    pub detail: String,
}

impl FieldError {
    /// A failure of `field`.
    pub fn new(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            detail: detail.into(),
        }
    }
}

fn too_large_detail(limit: Option<u64>) -> String {
    match limit {
        // Word for word the layer's own (`TenancyRejection::PayloadTooLarge`).
        Some(limit) => format!("request body is larger than {limit} bytes"),
        None => "request body is too large".to_owned(),
    }
}

/// `` `a`: must be a string; `b`: is required ``.
struct FieldList<'a>(&'a [FieldError]);

impl std::fmt::Display for FieldList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "`{}`: {}", e.field, e.detail)?;
        }
        Ok(())
    }
}

/// Refusals of the input extractors of [`input`](crate::input): [`Json`],
/// [`Valid`], [`Path`], [`PathId`] and [`Query`].
///
/// [`Json`]: crate::input::Json
/// [`Valid`]: crate::input::Valid
/// [`Path`]: crate::input::Path
/// [`PathId`]: crate::input::PathId
/// [`Query`]: crate::input::Query
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputRejection {
    /// The body is not `application/json` (415).
    #[error("expected a body of type `application/json`")]
    UnsupportedMediaType,
    /// The body is larger than the route admits (413). With the limit
    /// known (the [`TenancyLayer`](crate::TenancyLayer)'s, or a
    /// [`BodyLimitLayer`](crate::input::BodyLimitLayer)'s), the body reads
    /// word for word like the layer's own 413.
    #[error("{}", too_large_detail(*.limit))]
    PayloadTooLarge {
        /// The limit, in bytes, when known.
        limit: Option<u64>,
    },
    /// The body could not be read (400).
    #[error("request body could not be read")]
    Unreadable,
    /// The body is not valid JSON (400).
    #[error("body is not valid JSON: {detail}")]
    Syntax {
        /// Where and why parsing stopped.
        detail: String,
    },
    /// A field is missing or has the wrong type or value (422).
    #[error("field `{field}`: {detail}")]
    Field {
        /// The field's path (`lease.rent`, `items[2].id`; `.` for the root).
        field: String,
        /// What is wrong with it.
        detail: String,
    },
    /// Every field of a body that is missing, mistyped or invalid, or the
    /// body as a whole when it is not a JSON object (422); listed in the
    /// problem's `errors`.
    #[error("{}", FieldList(.0))]
    Fields(Vec<FieldError>),
    /// Every query parameter that is invalid (400); listed in the problem's
    /// `errors`.
    #[error("{}", FieldList(.0))]
    Params(Vec<FieldError>),
    /// A path parameter could not be read (400, or 500 for a route whose
    /// declared parameters do not match the extractor).
    #[error("invalid path parameter: {detail}")]
    Path {
        /// Why.
        detail: String,
        /// The status axum chose.
        server_error: bool,
    },
    /// A path id that is not an id names nothing (404), like an id that is
    /// not in the tenant.
    #[error("no such resource")]
    NotFound,
    /// The query string could not be read (400).
    #[error("invalid query string: {detail}")]
    Query {
        /// Why.
        detail: String,
    },
}

fn with_errors(problem: Problem, errors: &[FieldError]) -> Problem {
    match serde_json::to_value(errors) {
        Ok(errors) => problem.with_extension("errors", errors),
        Err(_) => problem,
    }
}

impl InputRejection {
    /// The problem this refusal renders as.
    pub fn to_problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            InputRejection::UnsupportedMediaType => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                types::UNSUPPORTED_MEDIA_TYPE,
                "unsupported media type",
            )
            .with_detail(detail),
            InputRejection::PayloadTooLarge { .. } => payload_too_large(detail),
            InputRejection::Unreadable | InputRejection::Syntax { .. } => {
                Problem::bad_request(detail)
            }
            InputRejection::Field { field, detail } => {
                Problem::unprocessable(field, detail.clone())
            }
            InputRejection::Fields(errors) => with_errors(
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    types::UNPROCESSABLE,
                    "invalid field",
                )
                .with_detail(detail),
                errors,
            ),
            InputRejection::Params(errors) => with_errors(Problem::bad_request(detail), errors),
            InputRejection::Path {
                server_error: true, ..
            } => Problem::internal(),
            InputRejection::Path { .. } | InputRejection::Query { .. } => {
                Problem::bad_request(detail)
            }
            InputRejection::NotFound => Problem::not_found(detail),
        }
    }
}

impl IntoResponse for InputRejection {
    fn into_response(self) -> Response {
        self.to_problem().into_response()
    }
}

#[cfg(test)]
mod tests {
    use tenancy_core::Report;

    use super::*;

    #[test]
    fn token_refusals_name_no_claim() {
        for claim in Claim::ALL {
            for error in [
                AuthError::MissingClaim(claim),
                AuthError::InvalidClaim(claim),
            ] {
                let problem = TenancyRejection::InvalidToken(error.clone()).to_problem();
                let detail = problem.detail().unwrap_or_default();
                let quoted = format!("`{}`", claim.default_name());
                assert!(
                    !detail.contains(&quoted) && !detail.contains("tenant_id"),
                    "{error:?}: {detail}"
                );
                assert!(
                    detail.ends_with(" claim is missing") || detail.ends_with(" claim is invalid")
                );
            }
        }
        let problem = TenancyRejection::InvalidToken(AuthError::MissingClaim(Claim::TenantId));
        assert_eq!(
            problem.to_problem().detail(),
            Some("tenant claim is missing")
        );
        let other = TenancyRejection::InvalidToken(AuthError::Expired).to_problem();
        assert_eq!(other.detail(), Some("token has expired"));
    }

    #[test]
    fn no_message_repeats_its_source() {
        let down = || std::io::Error::other("connection refused");
        let errors: Vec<Box<dyn std::error::Error>> = vec![
            Box::new(TenancyRejection::InvalidToken(AuthError::Expired)),
            Box::new(TenancyRejection::AuthUnavailable(AuthError::key_source(
                down(),
            ))),
            Box::new(TenancyRejection::Limited(LimitError::TooManyConcurrent {
                limit: 4,
            })),
            Box::new(TenancyRejection::ActingRefused(ActingRequirement::Reason)),
            #[cfg(feature = "sql")]
            Box::new(crate::sql::TxRejection::Unavailable(
                tenancy_sql::Error::Database(sqlx::Error::PoolTimedOut),
            )),
        ];
        for error in errors {
            assert!(
                Report::new(error.as_ref()).repeated().is_none(),
                "{error:?}"
            );
        }
        let unavailable = TenancyRejection::AuthUnavailable(AuthError::key_source(down()));
        assert_eq!(
            Report::new(&unavailable).to_string(),
            "token validation is unavailable: key source failed: connection refused"
        );
    }

    #[test]
    fn a_key_source_failure_is_a_503_and_a_misconfiguration_a_500() {
        let down = std::io::Error::other("connection refused");
        let problem = TenancyRejection::AuthUnavailable(AuthError::key_source(down)).to_problem();
        assert_eq!(problem.status(), StatusCode::SERVICE_UNAVAILABLE);
        let config = tenancy_auth::ConfigError::NoKeys;
        let problem = TenancyRejection::AuthUnavailable(AuthError::Config(config)).to_problem();
        assert_eq!(problem.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_413_reads_the_same_from_the_layer_and_the_extractors() {
        let layer = TenancyRejection::PayloadTooLarge { limit: 1024 }.to_problem();
        let input = InputRejection::PayloadTooLarge { limit: Some(1024) }.to_problem();
        assert_eq!(
            (layer.type_uri(), layer.title(), layer.detail()),
            (input.type_uri(), input.title(), input.detail())
        );
    }

    #[test]
    fn field_lists_name_every_field() {
        let errors = vec![
            FieldError::new("lessee", "must be a string"),
            FieldError::new("rent_cents", "is required"),
        ];
        let problem = InputRejection::Fields(errors.clone()).to_problem();
        assert_eq!(problem.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            problem.detail(),
            Some("`lessee`: must be a string; `rent_cents`: is required")
        );
        let body = serde_json::to_value(&problem).unwrap_or_default();
        assert_eq!(body["errors"][1]["field"], "rent_cents");
        let problem = InputRejection::Params(errors).to_problem();
        assert_eq!(problem.status(), StatusCode::BAD_REQUEST);
        assert_eq!(problem.type_uri(), types::BAD_REQUEST);
        let body = serde_json::to_value(&problem).unwrap_or_default();
        assert_eq!(body["errors"][0]["detail"], "must be a string");
    }
}
