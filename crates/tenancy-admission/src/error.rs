//! The errors of tenancy-admission that are not refusals: configuration and
//! dependencies (tenant directory, rate store).
//!
//! Refusals of a request or a job are [`Refusal`](crate::Refusal)s.
//!
//! A message says what failed here; a dependency's own error is the
//! [`source`](std::error::Error::source), never repeated in the message.

use std::fmt;

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
    Config(ConfigProblem),
}

/// What is inconsistent in a configuration ([`Error::Config`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// An admission was built without a token verifier.
    NoVerifier,
    /// An admission was built without a tenant directory (or a tenant
    /// cache over one).
    NoDirectory,
    /// A layer was given both an admission and the parts of one.
    AdmissionAndParts,
    /// A directory table name that is not a lowercase identifier.
    DirectoryTableName,
    /// A tenant record names a plan the service does not know.
    UnknownPlan,
    /// A rate check was awaited again after it answered.
    RateCheckReused,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigProblem::NoVerifier => "a token validator is required",
            ConfigProblem::NoDirectory => "a tenant directory is required",
            ConfigProblem::AdmissionAndParts => "an admission, or the parts of one, but not both",
            ConfigProblem::DirectoryTableName => {
                "the tenants table name must be a lowercase identifier"
            }
            ConfigProblem::UnknownPlan => "a tenant names a plan the service does not know",
            ConfigProblem::RateCheckReused => "a rate check was awaited twice",
        })
    }
}

impl Error {
    /// Wraps a directory backend's error.
    pub fn directory(source: impl Into<BoxError>) -> Self {
        Error::Directory(source.into())
    }
}

#[cfg(test)]
mod tests {
    use tenancy_auth::{AuthError, ConfigError};
    use tenancy_core::{LimitError, Report};

    use super::*;
    use crate::Refusal;

    #[test]
    fn no_message_repeats_its_source() {
        let down = || std::io::Error::other("connection refused");
        let errors = [
            Refusal::Credential(AuthError::Expired),
            Refusal::AuthUnavailable(AuthError::key_source(down())),
            Refusal::AuthUnavailable(AuthError::Config(ConfigError::NoKeys)),
            Refusal::Limited(LimitError::StoreUnavailable),
            Refusal::DirectoryUnavailable(Error::directory(down())),
            Refusal::DirectoryUnavailable(Error::Config(ConfigProblem::UnknownPlan)),
        ];
        for error in errors {
            assert!(Report::new(&error).repeated().is_none(), "{error:?}");
        }
        let store = Error::LimitStore(Box::new(down()));
        assert_eq!(
            Report::new(&store).to_string(),
            "limit store unavailable: connection refused"
        );
    }
}
