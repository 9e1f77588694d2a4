//! Why the service could not start or keep running.
//!
//! A message says what the service was doing; the cause is the error's
//! [`source`](std::error::Error::source), never repeated in the message.
//! [`Report`](tenancy_core::Report) prints the whole chain, each message
//! once.

use std::fmt;

use axum::http::StatusCode;

/// A start-up or background failure. A request's failure is rendered as a
/// problem document instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A setting is missing or unusable.
    #[error("invalid `{var}`: {problem}")]
    Config {
        /// The environment variable (`argv` for the command line).
        var: &'static str,
        /// What is wrong with it.
        problem: ConfigProblem,
    },
    /// The database refused or failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The scoped-SQL layer refused (schema, statement or database).
    #[error("scoped sql failed")]
    Sql(#[from] tenancy_sql::Error),
    /// The PostgreSQL isolation audit failed; the service refuses to start.
    #[error("isolation check failed: {0}")]
    Isolation(tenancy_sql::IsolationReport),
    /// The address could not be bound (in use, or not this machine's).
    #[error("could not listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be reached at start-up (within the pool's
    /// acquire timeout, 5 s by default).
    #[error("could not reach the database at {target}")]
    Unreachable {
        /// Where the URL points, without credentials: `host:port` of a
        /// server, the file of an SQLite database.
        target: String,
        /// Why the connection failed.
        #[source]
        source: tenancy_sql::Error,
    },
    /// Listening or serving failed.
    #[error("listening or serving failed")]
    Io(#[from] std::io::Error),
    /// The token validator or issuer refused its configuration.
    #[error("the token validator or issuer refused its configuration")]
    Auth(#[from] tenancy_auth::AuthError),
    /// The tenancy layer refused its configuration.
    #[error("the tenancy layer refused its configuration")]
    Layer(#[from] tenancy_axum::Error),
    /// The schema lacks the tenant directory's table or columns.
    #[error("the schema does not fit the tenant directory")]
    Directory(#[source] tenancy_axum::sql::DirectorySchemaError),
    /// The operating system's random source failed.
    #[error("no secure random numbers available")]
    Random,
    /// The server's task panicked or was cancelled.
    #[error("the server task failed")]
    Task(#[source] tokio::task::JoinError),
    /// A value could not be built (an invariant of the service broke).
    #[error("internal error")]
    Internal(#[from] tenancy_core::Error),
    /// The service refused a request of the demo seeding.
    #[error("demo seeding refused: {status}")]
    DemoRefused {
        /// The status the service answered.
        status: StatusCode,
    },
    /// A demo tenant exists but does not serve requests.
    #[error("the demo tenant `{slug}` exists but is not active")]
    DemoTenantInactive {
        /// The tenant's slug.
        slug: &'static str,
    },
}

/// What is wrong with a setting ([`ServiceError::Config`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// A command-line argument the service does not take.
    UnknownArgument {
        /// The argument.
        argument: String,
    },
    /// Not a socket address.
    NotSocketAddress {
        /// The value given.
        value: String,
    },
    /// Not an IP address.
    NotIpAddress {
        /// The value given.
        value: String,
    },
    /// Not a number of milliseconds.
    NotMilliseconds,
    /// Not a number of seconds.
    NotSeconds,
    /// Not a positive number of attempts.
    NotPositiveCount,
    /// A secret shorter than the service accepts.
    TooShort {
        /// The least length, in bytes.
        min_bytes: usize,
    },
    /// A lifetime under one second.
    UnderOneSecond,
    /// Not a role name PostgreSQL takes unquoted.
    NotRoleName,
    /// A database URL of no backend the service runs on.
    UnknownDatabase,
    /// A PostgreSQL URL without a user, host or database.
    NotPostgresUrl,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigProblem::UnknownArgument { argument } => {
                write!(f, "unknown argument `{argument}` (try --help)")
            }
            ConfigProblem::NotSocketAddress { value } => {
                write!(f, "`{value}` is not a socket address")
            }
            ConfigProblem::NotIpAddress { value } => write!(f, "`{value}` is not an IP address"),
            ConfigProblem::NotMilliseconds => f.write_str("not a number of milliseconds"),
            ConfigProblem::NotSeconds => f.write_str("not a number of seconds"),
            ConfigProblem::NotPositiveCount => f.write_str("not a positive number of attempts"),
            ConfigProblem::TooShort { min_bytes } => {
                write!(f, "must be at least {min_bytes} bytes")
            }
            ConfigProblem::UnderOneSecond => f.write_str("must be at least one second"),
            ConfigProblem::NotRoleName => {
                f.write_str("must be 1 to 63 characters of `[a-z0-9_]`, not starting with a digit")
            }
            ConfigProblem::UnknownDatabase => {
                f.write_str("must start with `sqlite:` or `postgres:`")
            }
            ConfigProblem::NotPostgresUrl => {
                f.write_str("not a URL of the form postgres://user@host/db")
            }
        }
    }
}

/// Shorthand for results of start-up and background work.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use tenancy_core::Report;

    use super::*;

    #[test]
    fn no_message_repeats_its_source() {
        let errors = [
            ServiceError::Io(std::io::Error::other("address in use")),
            ServiceError::Database(sqlx::Error::PoolTimedOut),
            ServiceError::Sql(tenancy_sql::Error::Database(sqlx::Error::PoolClosed)),
            ServiceError::Auth(tenancy_auth::ConfigError::NoKeys.into()),
            ServiceError::Layer(tenancy_axum::Error::Config(
                tenancy_axum::ConfigProblem::NoVerifier,
            )),
            ServiceError::Directory(tenancy_axum::sql::DirectorySchemaError::UndeclaredTable {
                table: "tenants".to_owned(),
            }),
            ServiceError::Config {
                var: "LEASES_ADDR",
                problem: ConfigProblem::NotSocketAddress {
                    value: "nowhere".to_owned(),
                },
            },
        ];
        for error in errors {
            assert!(Report::new(&error).repeated().is_none(), "{error:?}");
        }
    }

    #[test]
    fn a_report_tells_every_cause_once() {
        let error = ServiceError::Auth(tenancy_auth::ConfigError::NoKeys.into());
        assert_eq!(
            Report::new(&error).to_string(),
            "the token validator or issuer refused its configuration: \
             auth configuration error: at least one key is required"
        );
    }
}
