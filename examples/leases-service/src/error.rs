//! Why the service could not start or keep running.

/// A start-up or background failure. A request's failure is rendered as a
/// problem document instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A setting is missing or unusable.
    #[error("invalid `{var}`: {reason}")]
    Config {
        /// The environment variable.
        var: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The scoped-SQL layer refused (schema, statement or database).
    #[error("sql error: {0}")]
    Sql(#[from] tenancy_sql::Error),
    /// The PostgreSQL isolation audit failed; the service refuses to start.
    #[error("isolation check failed: {}", .0.join("; "))]
    Isolation(Vec<String>),
    /// Listening or serving failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The token validator or issuer refused its configuration.
    #[error("token configuration: {0}")]
    Auth(#[from] tenancy_auth::AuthError),
    /// The tenancy layer refused its configuration.
    #[error("tenancy layer: {0}")]
    Layer(#[from] tenancy_axum::Error),
    /// The schema lacks the tenant directory's table or columns.
    #[error("tenant directory: {0}")]
    Directory(tenancy_axum::sql::DirectorySchemaError),
    /// The operating system's random source failed.
    #[error("no secure random numbers available")]
    Random,
    /// A value could not be built (an invariant of the service broke).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Shorthand for results of start-up and background work.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
