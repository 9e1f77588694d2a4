//! The SQL dialects a statement can be rendered for.
//!
//! Each backend's folder owns what is particular to its dialect: how a
//! statement is rendered, how a tenant transaction begins, which functions a
//! scoped statement may call, and how an upsert is written so that it can
//! never touch another tenant's row, and how the catalogue is audited
//! for `verify_isolation`. The rest of the crate asks the [`Backend`] and
//! never matches on it.

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod audit;
mod mysql;
pub(crate) mod postgres;
mod sqlite;

use std::fmt;

use sea_query::{OnConflict, QueryStatementWriter, Values};

use crate::error::{Error, Result};
use crate::query::{Function, SqlType};
#[cfg(feature = "sqlx")]
use crate::{schema::Schema, verify::IsolationReport};

/// A database backend (dialect and runtime behaviour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// PostgreSQL: `$1` placeholders, Row-Level Security as a second wall.
    Postgres,
    /// MySQL and MariaDB: `?` placeholders, no Row-Level Security.
    MySql,
    /// SQLite: `?` placeholders, no Row-Level Security; the embedded default.
    Sqlite,
}

impl Backend {
    /// The backend a database URL names (`postgres://`, `postgresql://`,
    /// `mysql://`, `mariadb://`, `sqlite:`).
    pub fn from_url(url: &str) -> Result<Backend> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            "mysql" | "mariadb" => Ok(Backend::MySql),
            "sqlite" => Ok(Backend::Sqlite),
            other => Err(Error::UnsupportedBackend {
                scheme: other.to_owned(),
            }),
        }
    }

    /// `postgres`, `mysql` or `sqlite`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
            Backend::Sqlite => "sqlite",
        }
    }

    /// True when the backend has Row-Level Security, a second wall behind
    /// the scoped statements.
    pub fn has_row_level_security(self) -> bool {
        self == Backend::Postgres
    }

    /// Renders any sea-query statement in this dialect, values bound.
    pub(crate) fn render(self, statement: &impl QueryStatementWriter) -> (String, Values) {
        match self {
            Backend::Postgres => postgres::render(statement),
            Backend::MySql => mysql::render(statement),
            Backend::Sqlite => sqlite::render(statement),
        }
    }

    /// Renders a schema statement (DDL) in this dialect.
    pub(crate) fn render_schema(
        self,
        statement: &impl sea_query::SchemaStatementBuilder,
    ) -> String {
        match self {
            Backend::Postgres => statement.build(sea_query::PostgresQueryBuilder),
            Backend::MySql => statement.build(sea_query::MysqlQueryBuilder),
            Backend::Sqlite => statement.build(sea_query::SqliteQueryBuilder),
        }
    }

    /// The statement that begins a transaction bound to `tenant`, when the
    /// backend binds the tenant on the server (`None`: a plain `BEGIN`).
    #[cfg(feature = "sqlx")]
    #[cfg_attr(
        not(feature = "postgres"),
        allow(unused_variables, reason = "only PostgreSQL binds the tenant at BEGIN")
    )]
    pub(crate) fn begin_tenant(
        self,
        setting: &str,
        tenant: tenancy_core::TenantId,
    ) -> Option<String> {
        match self {
            #[cfg(feature = "postgres")]
            Backend::Postgres => Some(postgres::begin_tenant(setting, tenant)),
            _ => None,
        }
    }

    /// True when the backend can run `function` in a scoped statement.
    ///
    /// The closed [`Function`] set holds no function that reads or changes
    /// session state, reaches outside the query or runs SQL from a string,
    /// and each of its functions runs on all three backends; a function
    /// added later that one backend cannot run is refused here for it.
    pub fn allows(self, function: Function) -> bool {
        match function {
            Function::Count
            | Function::CountDistinct
            | Function::Sum
            | Function::Min
            | Function::Max
            | Function::Avg
            | Function::Lower
            | Function::Upper
            | Function::Abs
            | Function::CharLength
            | Function::Coalesce
            | Function::Round => true,
        }
    }

    /// The type name `CAST(… AS type)` uses here.
    pub(crate) fn type_name(self, ty: SqlType) -> &'static str {
        match self {
            Backend::Postgres => postgres::type_name(ty),
            Backend::MySql => mysql::type_name(ty),
            Backend::Sqlite => sqlite::type_name(ty),
        }
    }

    /// The `ON CONFLICT` / `ON DUPLICATE KEY` clause of an upsert. In a
    /// tenant statement `tenant` holds the tenant column and the bound value
    /// standing for the tenant; `target` then leads with that column and
    /// `update` never contains it.
    pub(crate) fn upsert(
        self,
        target: &[&'static str],
        update: Option<&[&'static str]>,
        tenant: Option<(&'static str, sea_query::Expr)>,
    ) -> OnConflict {
        match self {
            Backend::MySql => mysql::upsert(target, update, tenant),
            Backend::Postgres | Backend::Sqlite => {
                postgres::upsert_with_conflict_target(target, update)
            }
        }
    }

    /// Audits the live catalogue behind `db`, connected as the application
    /// role, against `schema`; `setting` is the PostgreSQL setting that
    /// carries the tenant. Findings go in the report; only a failure to
    /// read the catalogue is an error.
    #[cfg(feature = "sqlx")]
    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
        allow(unused_variables, reason = "no backend to audit")
    )]
    pub(crate) async fn audit(
        db: &crate::runtime::DbPool,
        schema: &Schema,
        #[cfg_attr(
            not(feature = "postgres"),
            allow(unused_variables, reason = "only PostgreSQL audits the setting")
        )]
        setting: &str,
    ) -> Result<IsolationReport> {
        use crate::runtime::DbPool;
        match db {
            #[cfg(feature = "postgres")]
            DbPool::Postgres(p) => postgres::audit(p, schema, setting).await,
            #[cfg(feature = "mysql")]
            DbPool::MySql(p) => mysql::audit(p, schema).await,
            #[cfg(feature = "sqlite")]
            DbPool::Sqlite(p) => sqlite::audit(p, schema).await,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            DbPool::None(never) => crate::runtime::db::absurd(never),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_their_backend() {
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://h").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("mysql://root@h/test").unwrap(),
            Backend::MySql
        );
        assert_eq!(
            Backend::from_url("sqlite::memory:").unwrap(),
            Backend::Sqlite
        );
        assert!(Backend::from_url("oracle://x").is_err());
    }
}
