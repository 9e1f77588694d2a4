//! Why a request was refused, in the service's own terms, each rendered as
//! the SDK's `Problem` (so one vocabulary of `type`s, titles and headers
//! serves the tenancy layer, the SDK's extractors and the handlers).
//!
//! Bodies never carry a tenant id, and a resource of another tenant is
//! indistinguishable from one that does not exist.

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use tenancy_axum::Problem;
use tenancy_axum::input::FieldError;
use tenancy_axum::rejection::InputRejection;
use tenancy_core::{AccessError, Report};

use crate::error::ServiceError;

/// Why a request was refused.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 404: nothing with that id in this tenant (another tenant's, or none).
    NotFound,
    /// 404 outside a tenant (an unknown tenant or redeem code), saying what
    /// was not found.
    Absent(&'static str),
    /// 409: the request conflicts with the current state.
    Conflict(String),
    /// 422: fields that each read well but are not valid together.
    Invalid(Vec<FieldError>),
    /// 400: query parameters that are not valid.
    BadQuery(Vec<FieldError>),
    /// An input the SDK's extractors refused, as they render it.
    Input(InputRejection),
    /// 429: too many attempts from this client; retry after the delay.
    RateLimited {
        /// How long until the next attempt is admitted.
        retry_after: Duration,
    },
    /// 500: a failure inside the service; its cause was logged where it
    /// arose, and the body says nothing of it.
    Internal,
    /// 503: a dependency is down.
    Unavailable,
}

impl ApiError {
    /// A 422 for one field.
    pub(crate) fn field(field: &str, detail: &str) -> Self {
        ApiError::Invalid(vec![FieldError::new(field, detail)])
    }
}

impl From<ApiError> for Problem {
    fn from(error: ApiError) -> Problem {
        match error {
            ApiError::NotFound => Problem::not_found("no such resource in this tenant"),
            ApiError::Absent(detail) => Problem::not_found(detail),
            ApiError::Conflict(detail) => Problem::conflict(detail),
            ApiError::Invalid(errors) => InputRejection::Fields(errors).to_problem(),
            ApiError::BadQuery(errors) => InputRejection::Params(errors).to_problem(),
            ApiError::Input(rejection) => rejection.to_problem(),
            ApiError::RateLimited { retry_after } => Problem::rate_limited(retry_after)
                .with_detail("too many attempts from this address"),
            ApiError::Internal => {
                Problem::internal().with_detail("the service failed; the request changed nothing")
            }
            ApiError::Unavailable => Problem::unavailable(Duration::from_secs(1))
                .with_detail("a dependency is unavailable; try again"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        Problem::from(self).into_response()
    }
}

impl From<InputRejection> for ApiError {
    fn from(rejection: InputRejection) -> Self {
        ApiError::Input(rejection)
    }
}

impl From<tenancy_sql::Error> for ApiError {
    fn from(error: tenancy_sql::Error) -> Self {
        match error {
            // A reference to a row this tenant does not have (another
            // tenant's, or none): "not found", revealing nothing.
            tenancy_sql::Error::NotFound { .. }
            | tenancy_sql::Error::Access(AccessError::CrossTenant) => ApiError::NotFound,
            tenancy_sql::Error::Database(
                ref e @ (sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed),
            ) => {
                eprintln!("leases-service: database unavailable: {e}");
                ApiError::Unavailable
            }
            // A statement failed or was refused before it ran (a name the
            // schema does not declare, a value or function it may not use,
            // an earlier failure in the transaction): a bug or an outage
            // here, never the client's. The message goes to the log only.
            other => {
                eprintln!("leases-service: sql error: {}", Report::new(&other));
                ApiError::Internal
            }
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        tenancy_sql::Error::Database(error).into()
    }
}

impl From<AccessError> for ApiError {
    fn from(error: AccessError) -> Self {
        match error {
            AccessError::CrossTenant => ApiError::NotFound,
            // The routes' extractors checked scope and permissions already:
            // a refusal here is the service's bug.
            other => {
                eprintln!("leases-service: access refused: {other}");
                ApiError::Internal
            }
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        eprintln!("leases-service: {}", Report::new(&error));
        ApiError::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenancy_axum::problem::types;

    #[test]
    fn every_refusal_is_in_the_sdks_vocabulary() {
        let cases = [
            (ApiError::NotFound, types::NOT_FOUND),
            (ApiError::Absent("no such tenant"), types::NOT_FOUND),
            (ApiError::Conflict(String::new()), types::CONFLICT),
            (ApiError::field("end_date", "x"), types::UNPROCESSABLE),
            (ApiError::BadQuery(Vec::new()), types::BAD_REQUEST),
            (
                ApiError::RateLimited {
                    retry_after: Duration::from_secs(1),
                },
                types::RATE_LIMITED,
            ),
            (ApiError::Internal, types::INTERNAL),
            (ApiError::Unavailable, types::UNAVAILABLE),
        ];
        for (error, expected) in cases {
            let text = format!("{error:?}");
            assert_eq!(Problem::from(error).type_uri(), expected, "{text}");
        }
    }
}
