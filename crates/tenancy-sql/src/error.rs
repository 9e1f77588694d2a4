//! The crate's error type.

use tenancy_core::AccessError;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while scoping or running a statement.
///
/// No message names another tenant or shows its data: a reference to another
/// tenant's row is [`Error::NotFound`], exactly like a row that never existed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The context may not do this (no tenant, wrong scope, missing reason).
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The statement names a table the schema registry does not know.
    #[error("table `{0}` is not registered in the schema")]
    UnknownTable(String),
    /// A table or column name was declared twice or is not a plain identifier.
    #[error("invalid schema: {0}")]
    InvalidSchema(String),
    /// A scoped statement may not write this global or system table.
    #[error("table `{0}` is global and cannot be written by a tenant statement")]
    GlobalTableWrite(String),
    /// A scoped statement may not read a system table; use the audited escape hatch.
    #[error("table `{0}` is reachable only through `unscoped_for_system`")]
    SystemTable(String),
    /// The escape hatch was asked to touch a tenant table.
    #[error("table `{0}` is tenant-owned; act for the tenant and begin a tenant transaction")]
    TenantTableInSystemStatement(String),
    /// A statement tried to set, change or supply a foreign value for the tenant column.
    #[error("the tenant column `{0}` is managed by the scope and cannot be written")]
    TenantColumnWrite(String),
    /// A referenced row does not exist for this tenant (or belongs to another one).
    #[error("referenced `{table}` row not found")]
    NotFound {
        /// The referenced table.
        table: String,
    },
    /// An expression carried its own SQL (a raw subquery or custom text) around the scoping.
    #[error(
        "expressions may not carry raw subqueries or SQL text; use the scoped subquery methods"
    )]
    RawSql,
    /// The statement uses a shape this crate cannot scope safely.
    #[error("unsupported statement shape: {0}")]
    Unsupported(&'static str),
    /// A value type the runtime cannot bind.
    #[error("value of type `{0}` cannot be bound")]
    UnsupportedValue(&'static str),
    /// A prepared statement was run under a context of another tenant.
    #[error("prepared statement belongs to another scope; rebind it first")]
    ScopeMismatch,
    /// A returned row carried a tenant other than the context's: nothing was handed out.
    #[error("a returned row did not belong to the current tenant; the result was withheld")]
    LeakPrevented,
    /// The database URL names no backend this build supports.
    #[error("unsupported database url scheme `{0}`")]
    UnsupportedBackend(String),
    /// The start-up isolation audit found problems.
    #[error("isolation check failed:\n{0}")]
    Isolation(crate::verify::IsolationReport),
    /// sea-query refused to build the statement.
    #[error("statement could not be built: {0}")]
    Build(String),
    /// The database driver failed.
    #[cfg(feature = "sqlx")]
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}
