//! The errors of tenancy-admission that are not refusals: configuration and
//! dependencies (tenant directory, rate store).
//!
//! Refusals of a request or a job are [`Refusal`](crate::Refusal)s.

/// A convenient alias for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error from a dependency (database driver, Redis client).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Any error of the admission's dependencies or configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The tenant directory could not answer.
    #[error("tenant directory unavailable")]
    Directory(#[source] BoxError),
    /// The shared limit store could not answer.
    #[error("limit store unavailable")]
    LimitStore(#[source] BoxError),
    /// The in-memory limit store holds as many tenants as it may, none of
    /// them idle.
    #[error("limit store is full")]
    LimitStoreFull,
    /// The admission, a layer or a store was configured inconsistently.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
}

impl Error {
    /// Wraps a directory backend's error.
    pub fn directory(source: impl Into<BoxError>) -> Self {
        Error::Directory(source.into())
    }
}
