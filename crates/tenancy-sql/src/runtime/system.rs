//! The audited escape hatch for global and system tables.

use std::fmt;

use sea_query::audit::AuditTrait;
use sea_query::{
    DeleteStatement, InsertStatement, MysqlQueryBuilder, PostgresQueryBuilder, SelectStatement,
    SqliteQueryBuilder, UpdateStatement, Values,
};
use sqlx::any::{Any, AnyRow};
use sqlx::{FromRow, Transaction};

use super::bind::bind_raw;
use super::pool::TenantPool;
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::schema::TableKind;

mod sealed {
    pub trait Sealed {}
    impl Sealed for sea_query::SelectStatement {}
    impl Sealed for sea_query::InsertStatement {}
    impl Sealed for sea_query::UpdateStatement {}
    impl Sealed for sea_query::DeleteStatement {}
}

/// A raw sea-query statement the escape hatch accepts. Every table it names
/// must be registered as global or system.
pub trait SystemStatement: sealed::Sealed {
    /// Renders it for `backend` after checking the tables it touches.
    #[doc(hidden)]
    fn render(&self, pool: &TenantPool) -> Result<(String, Values)>;
}

fn check_tables(pool: &TenantPool, audit: sea_query::audit::QueryAccessAudit) -> Result<()> {
    for request in audit.requests {
        let name = request.schema_table.1.to_string();
        let table = pool.schema.table(&name)?;
        if table.kind() == TableKind::Tenant {
            return Err(Error::TenantTableInSystemStatement(name));
        }
    }
    Ok(())
}

macro_rules! system_statement {
    ($ty:ty) => {
        impl SystemStatement for $ty {
            fn render(&self, pool: &TenantPool) -> Result<(String, Values)> {
                let audit = self.audit().map_err(|e| Error::Build(e.to_string()))?;
                check_tables(pool, audit)?;
                Ok(match pool.backend {
                    Backend::Postgres => self.build(PostgresQueryBuilder),
                    Backend::MySql => self.build(MysqlQueryBuilder),
                    Backend::Sqlite => self.build(SqliteQueryBuilder),
                })
            }
        }
    };
}

system_statement!(SelectStatement);
system_statement!(InsertStatement);
system_statement!(UpdateStatement);
system_statement!(DeleteStatement);

/// A platform operator's transaction over global and system tables, opened
/// by [`TenantPool::unscoped_for_system`] and recorded in the audit sink.
pub struct SystemTx {
    tx: Transaction<'static, Any>,
    pool: TenantPool,
}

impl fmt::Debug for SystemTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemTx")
            .field("backend", &self.pool.backend)
            .finish_non_exhaustive()
    }
}

impl SystemTx {
    pub(crate) fn new(tx: Transaction<'static, Any>, pool: TenantPool) -> SystemTx {
        SystemTx { tx, pool }
    }

    /// Runs `stmt` and returns every row.
    pub async fn fetch_all(&mut self, stmt: &impl SystemStatement) -> Result<Vec<AnyRow>> {
        let (sql, Values(values)) = stmt.render(&self.pool)?;
        Ok(bind_raw(&sql, &values)?.fetch_all(&mut *self.tx).await?)
    }

    /// Runs `stmt` and maps every row to `T`.
    pub async fn fetch_all_as<T>(&mut self, stmt: &impl SystemStatement) -> Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, AnyRow>,
    {
        let rows = self.fetch_all(stmt).await?;
        rows.iter()
            .map(|r| T::from_row(r).map_err(Error::from))
            .collect()
    }

    /// Runs a write and returns the number of rows it affected.
    pub async fn execute(&mut self, stmt: &impl SystemStatement) -> Result<u64> {
        let (sql, Values(values)) = stmt.render(&self.pool)?;
        Ok(bind_raw(&sql, &values)?
            .execute(&mut *self.tx)
            .await?
            .rows_affected())
    }

    /// Commits.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Rolls back (dropping the transaction does the same).
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}
