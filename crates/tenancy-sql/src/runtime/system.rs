//! The audited escape hatch for global and system tables.

use std::fmt;

use sea_query::Values;
use sqlx::any::{Any, AnyRow};
use sqlx::{FromRow, Transaction};

use super::bind::bind_raw;
use super::pool::TenantPool;
use super::state::TxState;
use crate::error::{Error, Result};
use crate::query::sealed::Sealed;

/// A statement the escape hatch accepts: this crate's [`Select`],
/// [`Insert`], [`Update`] and [`Delete`], under the same structural rules as
/// a tenant statement (typed expressions, declared names, no SQL text). Every
/// table it names, in subqueries too, must be registered as global or
/// system; a tenant table is [`Error::TenantTableInSystemStatement`].
///
/// [`Select`]: crate::Select
/// [`Insert`]: crate::Insert
/// [`Update`]: crate::Update
/// [`Delete`]: crate::Delete
pub trait SystemStatement: Sealed {}

impl SystemStatement for crate::Select {}
impl SystemStatement for crate::Insert {}
impl SystemStatement for crate::Update {}
impl SystemStatement for crate::Delete {}
impl<T: SystemStatement + ?Sized> SystemStatement for &T {}

/// A platform operator's transaction over global and system tables, opened
/// by [`TenantPool::unscoped_for_system`] and recorded in the audit sink.
pub struct SystemTx {
    tx: Transaction<'static, Any>,
    pool: TenantPool,
    state: TxState,
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
        SystemTx {
            tx,
            pool,
            state: TxState::default(),
        }
    }

    fn render(&self, stmt: &impl SystemStatement) -> Result<(String, Values)> {
        stmt.render_system(&self.pool.schema, self.pool.backend)
    }

    /// Runs `stmt` and returns every row.
    pub async fn fetch_all(&mut self, stmt: impl SystemStatement) -> Result<Vec<AnyRow>> {
        let (sql, Values(values)) = self.render(&stmt)?;
        let query = bind_raw(&sql, &values)?;
        self.state.start();
        let rows = query.fetch_all(&mut *self.tx).await;
        self.state.finish(rows)
    }

    /// Runs `stmt` and maps every row to `T`.
    pub async fn fetch_all_as<T>(&mut self, stmt: impl SystemStatement) -> Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, AnyRow>,
    {
        let rows = self.fetch_all(stmt).await?;
        rows.iter()
            .map(|r| T::from_row(r).map_err(Error::from))
            .collect()
    }

    /// Runs a write and returns the number of rows it affected.
    pub async fn execute(&mut self, stmt: impl SystemStatement) -> Result<u64> {
        let (sql, Values(values)) = self.render(&stmt)?;
        let query = bind_raw(&sql, &values)?;
        self.state.start();
        let done = query.execute(&mut *self.tx).await;
        Ok(self.state.finish(done)?.rows_affected())
    }

    /// Commits; like [`TenantTx::commit`](crate::TenantTx::commit), a
    /// transaction in which a statement failed is rolled back and reported
    /// as [`Error::TransactionAborted`].
    pub async fn commit(self) -> Result<()> {
        if self.state.is_aborted() {
            self.tx.rollback().await?;
            return Err(Error::TransactionAborted);
        }
        self.tx.commit().await?;
        Ok(())
    }

    /// Rolls back (dropping the transaction does the same).
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}
