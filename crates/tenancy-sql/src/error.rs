//! The crate's error type.
//!
//! A message says what failed here; the cause of a driver or builder
//! failure is its [`source`](std::error::Error::source), never repeated in
//! the message.

use std::fmt;

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
    #[error("table `{table}` is not registered in the schema")]
    UnknownTable {
        /// The table, as given.
        table: String,
    },
    /// A schema declaration that cannot be honoured: a name declared twice
    /// or not a plain identifier, a key or reference the tenant column does
    /// not lead.
    #[error("invalid schema: {0}")]
    InvalidSchema(SchemaProblem),
    /// A scoped statement may not write this global or system table.
    #[error("table `{table}` is global and cannot be written by a tenant statement")]
    GlobalTableWrite {
        /// The table.
        table: String,
    },
    /// A scoped statement may not read a system table; use the audited escape hatch.
    #[error("table `{table}` is reachable only through `unscoped_for_system`")]
    SystemTable {
        /// The table.
        table: String,
    },
    /// The escape hatch was asked to touch a tenant table.
    #[error("table `{table}` is tenant-owned; act for the tenant and begin a tenant transaction")]
    TenantTableInSystemStatement {
        /// The table.
        table: String,
    },
    /// A statement tried to set, change or supply a foreign value for the tenant column.
    #[error("the tenant column `{column}` is managed by the scope and cannot be written")]
    TenantColumnWrite {
        /// The tenant column.
        column: String,
    },
    /// A referenced row does not exist for this tenant (or belongs to another one).
    #[error("referenced `{table}` row not found")]
    NotFound {
        /// The referenced table.
        table: String,
    },
    /// A name is not a plain identifier once folded to lowercase.
    #[error("`{name}` is not a valid name")]
    InvalidName {
        /// The name, as given.
        name: String,
    },
    /// A statement names a column the table does not declare.
    #[error("column `{column}` is not declared in table `{table}`")]
    UnknownColumn {
        /// The table (empty for an unqualified name).
        table: String,
        /// The column, as given.
        column: String,
    },
    /// A qualified name refers to no table, alias or CTE of the statement.
    #[error("`{name}` is not a table or alias of this statement")]
    UnknownSource {
        /// The qualifier, as given.
        name: String,
    },
    /// A name is used twice where it must be unique (an alias in one
    /// SELECT level, a CTE, a column of a write), or a CTE takes the name of
    /// a registered table.
    #[error("`{name}` is used twice or shadows a registered table")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// A value equals the placeholder the crate uses for the tenant.
    #[error("a value equals the tenant placeholder")]
    InvalidValue,
    /// The backend does not run this function in a scoped statement.
    #[error("function `{0:?}` is not allowed on this backend")]
    FunctionNotAllowed(crate::query::Function),
    /// A MySQL/MariaDB upsert on a table with a unique key across tenants:
    /// `ON DUPLICATE KEY UPDATE` would fire on another tenant's row.
    #[error("upsert on `{table}` is refused: a unique key of the table spans tenants")]
    UnsafeUpsert {
        /// The table.
        table: String,
    },
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
    /// The statement uses a shape this crate cannot scope safely, or one
    /// the backend cannot run as written.
    #[error("unsupported statement shape: {0}")]
    Unsupported(UnsupportedShape),
    /// A value type the runtime cannot bind.
    #[error("value of type `{0}` cannot be bound")]
    UnsupportedValue(UnbindableValue),
    /// A prepared statement was run under a context of another tenant.
    #[error("prepared statement belongs to another scope; rebind it first")]
    ScopeMismatch,
    /// A returned row carried a tenant other than the context's: nothing was handed out.
    #[error("a returned row did not belong to the current tenant; the result was withheld")]
    LeakPrevented,
    /// The database URL names no backend this build supports.
    #[error("unsupported database url scheme `{scheme}`")]
    UnsupportedBackend {
        /// The URL's scheme.
        scheme: String,
    },
    /// The start-up isolation audit found problems.
    #[error("isolation check failed:\n{0}")]
    Isolation(crate::verify::IsolationReport),
    /// sea-query refused to build the statement.
    #[error("statement could not be built")]
    Build(#[source] sea_query::error::Error),
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
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// What is wrong with a schema declaration ([`Error::InvalidSchema`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaProblem {
    /// A table or column name that is not a lowercase SQL identifier.
    NotIdentifier {
        /// The name, as given.
        name: String,
    },
    /// A builder call that describes a table (`columns`, `references`, …)
    /// came before any table was declared.
    NoTable {
        /// The builder method.
        call: &'static str,
    },
    /// Two tables of one name.
    DuplicateTable {
        /// The table.
        table: String,
    },
    /// A foreign key to a table the schema does not declare.
    UnknownParent {
        /// The referencing table.
        table: String,
        /// The referenced table.
        parent: String,
    },
    /// A foreign key whose columns do not pair with the parent's.
    ForeignKeyColumns {
        /// The referencing table.
        table: String,
        /// The referenced table.
        parent: String,
    },
    /// A global or system table referencing a tenant table.
    GlobalReferencesTenant {
        /// The global or system table.
        table: String,
        /// The tenant table.
        parent: String,
    },
    /// A table definition declares the tenant column, which the DDL adds.
    TenantColumnDeclared {
        /// The table.
        table: String,
        /// The tenant column.
        column: String,
    },
    /// A primary key the tenant column does not lead.
    PrimaryKeyWithoutTenant {
        /// The table.
        table: String,
        /// The primary key's column.
        column: String,
    },
    /// A column unique across tenants, not declared per tenant or global.
    UniqueAcrossTenants {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A unique index the tenant column does not lead.
    UniqueIndexWithoutTenant {
        /// The table.
        table: String,
        /// The index's columns.
        columns: Vec<String>,
    },
    /// A registered table the migration did not create (feature `testing`).
    NotCreated {
        /// The table.
        table: String,
    },
    /// A tenant setting name that is not `namespace.name`.
    SettingName {
        /// The name, as given.
        name: String,
    },
}

impl fmt::Display for SchemaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaProblem::NotIdentifier { name } => {
                write!(f, "`{name}` is not a lowercase identifier")
            }
            SchemaProblem::NoTable { call } => {
                write!(f, "`{call}` needs a table declared before it")
            }
            SchemaProblem::DuplicateTable { table } => {
                write!(f, "table `{table}` is declared twice")
            }
            SchemaProblem::UnknownParent { table, parent } => {
                write!(f, "`{table}` references unknown table `{parent}`")
            }
            SchemaProblem::ForeignKeyColumns { table, parent } => write!(
                f,
                "foreign key from `{table}` to `{parent}` has mismatched columns"
            ),
            SchemaProblem::GlobalReferencesTenant { table, parent } => write!(
                f,
                "global table `{table}` cannot reference tenant table `{parent}`"
            ),
            SchemaProblem::TenantColumnDeclared { table, column } => write!(
                f,
                "`{table}`: the tenant column `{column}` is added by the ddl"
            ),
            SchemaProblem::PrimaryKeyWithoutTenant { table, column } => write!(
                f,
                "`{table}`: primary key `{column}` must be composite with the tenant column"
            ),
            SchemaProblem::UniqueAcrossTenants { table, column } => write!(
                f,
                "`{table}`: unique column `{column}` is unique across tenants; declare it per tenant or global"
            ),
            SchemaProblem::UniqueIndexWithoutTenant { table, columns } => write!(
                f,
                "`{table}`: unique index on ({}) does not start with the tenant column",
                columns.join(", ")
            ),
            SchemaProblem::NotCreated { table } => write!(
                f,
                "`{table}` is registered but the migration did not create it"
            ),
            SchemaProblem::SettingName { name } => {
                write!(f, "`{name}` is not a `namespace.name` setting")
            }
        }
    }
}

/// A statement shape the crate refuses ([`Error::Unsupported`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnsupportedShape {
    /// A column name resolved outside any statement level.
    NameOutsideStatement,
    /// A `CASE` without a `WHEN` arm.
    CaseWithoutWhen,
    /// An `IN` without a left-hand side.
    InWithoutLeftHandSide,
    /// A one-argument function called with another number of arguments.
    OneArgument,
    /// `COALESCE` with fewer than two arguments.
    CoalesceArguments,
    /// A select without a column.
    SelectWithoutColumns,
    /// A join without a `FROM` table to attach to.
    JoinWithoutFrom,
    /// A tenant stamp in a statement that runs for no tenant.
    TenantStampOutsideTenantStatement,
    /// `OFFSET` without `LIMIT`, on a backend that cannot run it.
    OffsetWithoutLimit,
    /// A set-operation arm with its own `ORDER BY`, `LIMIT`, `OFFSET` or
    /// CTE, on a backend that cannot run it.
    SetOperationArmClauses,
    /// An insert with both rows and a select source.
    RowsAndSelectSource,
    /// An insert with neither rows nor a select source.
    InsertWithoutRows,
    /// An insert whose select source is not as wide as its columns.
    SelectSourceWidth,
    /// An insert row not as long as its columns.
    RowLength,
    /// `RETURNING` on MySQL or MariaDB.
    ReturningOnMySql,
    /// An upsert with a select source, on a backend that cannot run it.
    UpsertWithSelectSource,
    /// An upsert without a conflict target.
    UpsertWithoutConflictTarget,
    /// An upsert that updates no column.
    UpsertWithoutUpdate,
    /// An update without `SET`.
    UpdateWithoutSet,
}

impl fmt::Display for UnsupportedShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnsupportedShape::NameOutsideStatement => "a name outside a statement",
            UnsupportedShape::CaseWithoutWhen => "a CASE without WHEN",
            UnsupportedShape::InWithoutLeftHandSide => "IN without a left-hand side",
            UnsupportedShape::OneArgument => "this function takes one argument",
            UnsupportedShape::CoalesceArguments => "COALESCE needs two arguments or more",
            UnsupportedShape::SelectWithoutColumns => "a select needs at least one column",
            UnsupportedShape::JoinWithoutFrom => "a join needs a FROM table",
            UnsupportedShape::TenantStampOutsideTenantStatement => {
                "a tenant stamp outside a tenant statement"
            }
            UnsupportedShape::OffsetWithoutLimit => "OFFSET without LIMIT on this backend",
            UnsupportedShape::SetOperationArmClauses => {
                "a set-operation arm with its own ORDER BY, LIMIT, OFFSET or CTE on this backend"
            }
            UnsupportedShape::RowsAndSelectSource => "both rows and a select source",
            UnsupportedShape::InsertWithoutRows => "an insert without rows",
            UnsupportedShape::SelectSourceWidth => {
                "the select source's width differs from the columns"
            }
            UnsupportedShape::RowLength => "a row's length differs from the columns",
            UnsupportedShape::ReturningOnMySql => "RETURNING on MySQL/MariaDB",
            UnsupportedShape::UpsertWithSelectSource => {
                "an upsert with a select source on this backend"
            }
            UnsupportedShape::UpsertWithoutConflictTarget => "an upsert needs a conflict target",
            UnsupportedShape::UpsertWithoutUpdate => "an upsert that updates no column",
            UnsupportedShape::UpdateWithoutSet => "an update without SET",
        })
    }
}

/// A value the runtime cannot bind ([`Error::UnsupportedValue`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnbindableValue {
    /// An unsigned 64-bit integer above `i64::MAX`: no backend binds it
    /// as the same number.
    U64AboveI64Max,
    /// Any other sea-query value kind than booleans, integers, floats,
    /// text and bytes.
    OtherKind,
    /// Text or bytes longer than a bound value may be (`i32::MAX` bytes,
    /// PostgreSQL's limit): refused here rather than dropped by the driver,
    /// which would shift every later value one place.
    TooLong,
}

impl fmt::Display for UnbindableValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnbindableValue::U64AboveI64Max => "u64 above i64::MAX",
            UnbindableValue::OtherKind => "sea-query value",
            UnbindableValue::TooLong => "text or bytes longer than i32::MAX bytes",
        })
    }
}

#[cfg(test)]
mod tests {
    use tenancy_core::Report;

    use super::*;

    #[test]
    fn no_message_repeats_its_source() {
        let errors = [
            Error::Access(AccessError::CrossTenant),
            Error::Build(sea_query::error::Error::ColValNumMismatch {
                col_len: 2,
                val_len: 3,
            }),
            Error::InvalidSchema(SchemaProblem::DuplicateTable {
                table: "leases".to_owned(),
            }),
            Error::Unsupported(UnsupportedShape::UpdateWithoutSet),
            #[cfg(feature = "sqlx")]
            Error::Database(sqlx::Error::Protocol("unexpected message".to_owned())),
            #[cfg(feature = "testing")]
            Error::Scratch {
                table: "leases".to_owned(),
                source: sqlx::Error::PoolTimedOut,
            },
        ];
        for error in errors {
            assert!(Report::new(&error).repeated().is_none(), "{error:?}");
        }
    }

    #[test]
    fn a_driver_or_builder_failure_is_the_source() {
        let build = Error::Build(sea_query::error::Error::ColValNumMismatch {
            col_len: 2,
            val_len: 3,
        });
        assert_eq!(
            Report::new(&build).to_string(),
            "statement could not be built: Columns and values length mismatch: 2 != 3"
        );
    }
}
