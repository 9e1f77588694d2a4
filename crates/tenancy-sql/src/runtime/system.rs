//! The audited escape hatch for global and system tables.

use std::fmt;

use sea_query::Values;

#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(unused_imports, reason = "used in the arms of the backends")
)]
use super::db::{DbTx, arguments, on_conn, text};
use super::pool::TenantPool;
use super::row::{DbRow, FromDbRow};
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
    tx: DbTx,
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
    pub(crate) fn new(tx: DbTx, pool: TenantPool) -> SystemTx {
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
    pub async fn fetch_all(&mut self, stmt: impl SystemStatement) -> Result<Vec<DbRow>> {
        let (sql, Values(values)) = self.render(&stmt)?;
        let args = arguments(&values, None)?;
        self.state.start();
        let rows = on_conn!(&mut self.tx, t => sqlx::query_with(text(&sql), args)
            .fetch_all(&mut **t)
            .await
            .map(|rows| rows.into_iter().map(DbRow::from).collect::<Vec<_>>()));
        self.state.finish(rows)
    }

    /// Runs `stmt` and decodes every row as `T`.
    pub async fn fetch_all_as<T: FromDbRow>(
        &mut self,
        stmt: impl SystemStatement,
    ) -> Result<Vec<T>> {
        let rows = self.fetch_all(stmt).await?;
        rows.iter().map(T::from_db_row).collect()
    }

    /// Runs a write and returns the number of rows it affected.
    pub async fn execute(&mut self, stmt: impl SystemStatement) -> Result<u64> {
        let (sql, Values(values)) = self.render(&stmt)?;
        let args = arguments(&values, None)?;
        self.state.start();
        let done = on_conn!(&mut self.tx, t => sqlx::query_with(text(&sql), args)
            .execute(&mut **t)
            .await
            .map(|done| done.rows_affected()));
        self.state.finish(done)
    }

    /// Commits; like [`TenantTx::commit`](crate::TenantTx::commit), a
    /// transaction in which a statement failed is rolled back and reported
    /// as [`Error::TransactionAborted`].
    pub async fn commit(self) -> Result<()> {
        if self.state.is_aborted() {
            self.tx.rollback().await?;
            return Err(Error::TransactionAborted);
        }
        self.tx.commit().await
    }

    /// Rolls back (dropping the transaction does the same).
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await
    }
}
