//! SQLite: `?` placeholders, no Row-Level Security: the scoped statements
//! are the only wall. Column and table names compare case-insensitively
//! (ASCII), which the name resolution of `crate::query` follows.

#[cfg(feature = "sqlite")]
mod audit;

#[cfg(feature = "sqlite")]
pub(super) use audit::audit;

use sea_query::{QueryStatementWriter, SqliteQueryBuilder, Values};

use crate::query::SqlType;

pub(super) fn render(statement: &impl QueryStatementWriter) -> (String, Values) {
    statement.build(SqliteQueryBuilder)
}

pub(super) fn type_name(ty: SqlType) -> &'static str {
    match ty {
        SqlType::Text => "TEXT",
        SqlType::BigInt => "INTEGER",
        SqlType::Double => "REAL",
    }
}
