//! Why a request or a job is not admitted, with no transport in it.

use tenancy_auth::AuthError;
use tenancy_core::{LimitError, TenantStatus};

use crate::error::Error;

/// Why [`Admission::admit`](crate::Admission::admit) refused.
///
/// Each transport renders these its own way (tenancy-axum as problem+json:
/// 401, 403, 429 or 503); a job worker drops or retries the job. The enum
/// is exhaustive on purpose: a new kind of refusal must be rendered by every
/// transport, so adding one is a breaking change.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The credential is not acceptable: a token that does not verify, or
    /// a token or stored context whose role or scope the tenant no longer
    /// has.
    #[error(transparent)]
    Credential(AuthError),
    /// The token could not be checked: a key source down, or a validator
    /// misconfigured.
    #[error("token validation is unavailable")]
    AuthUnavailable(#[source] AuthError),
    /// The tenant does not serve requests. `None`: the directory does not
    /// know it.
    #[error("tenant is {}", .0.map_or("unavailable", TenantStatus::as_str))]
    TenantUnavailable(Option<TenantStatus>),
    /// The transport names a tenant (a host, a path) other than the
    /// credential's.
    #[error("the request names a tenant other than its credential's")]
    TenantMismatch,
    /// A rate or concurrency limit was reached, or the limit store cannot
    /// answer and the limits fail closed.
    #[error(transparent)]
    Limited(LimitError),
    /// The tenant directory could not answer.
    #[error(transparent)]
    DirectoryUnavailable(Error),
    /// An operator's acting for a tenant without a system context or a
    /// reason.
    #[error("acting for a tenant needs a system token and a reason")]
    ActingRefused,
}
