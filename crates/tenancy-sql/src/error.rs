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
    /// A name is not a plain identifier once folded to lowercase.
    #[error("`{0}` is not a valid name")]
    InvalidName(String),
    /// A statement names a column the table does not declare.
    #[error("column `{column}` is not declared in table `{table}`")]
    UnknownColumn {
        /// The table (empty for an unqualified name).
        table: String,
        /// The column, as given.
        column: String,
    },
    /// A qualified name refers to no table, alias or CTE of the statement.
    #[error("`{0}` is not a table or alias of this statement")]
    UnknownSource(String),
    /// A name is used twice where it must be unique (an alias in one
    /// SELECT level, a CTE, a column of a write), or a CTE takes the name of
    /// a registered table.
    #[error("`{0}` is used twice or shadows a registered table")]
    DuplicateName(String),
    /// A value equals the placeholder the crate uses for the tenant.
    #[error("a value equals the tenant placeholder")]
    InvalidValue,
    /// The backend does not run this function in a scoped statement.
    #[error("function `{0:?}` is not allowed on this backend")]
    FunctionNotAllowed(crate::query::Function),
    /// A MySQL/MariaDB upsert on a table with a unique key across tenants:
    /// `ON DUPLICATE KEY UPDATE` would fire on another tenant's row.
    #[error("upsert on `{0}` is refused: a unique key of the table spans tenants")]
    UnsafeUpsert(String),
    /// An expression or a nesting of selects is deeper than a statement
    /// may be (a bound that keeps resolving and rendering off the stack's
    /// edge).
    #[error("the statement is nested too deeply")]
    TooDeep,
    /// A statement of the transaction failed (or was cancelled), so the
    /// server has aborted or may have lost part of it: nothing was
    /// committed.
    #[error("the transaction was rolled back: an earlier statement in it failed")]
    TransactionAborted,
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
    /// The leak-test kit could not set up its scratch database: the
    /// migration or the marker rows of `table` failed (feature `testing`).
    #[cfg(feature = "testing")]
    #[error("the leak check could not set up `{table}`")]
    Scratch {
        /// The table (or `migration`).
        table: String,
        /// What the database said.
        #[source]
        source: sqlx::Error,
    },
    /// The database driver failed.
    #[cfg(feature = "sqlx")]
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}
