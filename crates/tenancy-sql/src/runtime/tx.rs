//! A transaction bound to one tenant.

use std::fmt;

use tenancy_core::{AccessError, AuditEvent, AuditKind, Outcome, TenantContext, TenantId};

#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(unused_imports, reason = "used in the arms of the backends")
)]
use super::db::{DbTx, arguments, on_conn, text};
use super::pool::TenantPool;
use super::row::{DbRow, FromDbRow};
use super::state::TxState;
use crate::error::{Error, Result};
use crate::query::{Prepared, Statement};

/// A transaction bound to one tenant; it runs scoped statements only.
///
/// Every method takes a [`Statement`]: this crate's [`Select`], [`Insert`],
/// [`Update`], [`Delete`] or a [`Prepared`] one. A raw sea-query statement or
/// a SQL string does not compile here. Dropped without [`commit`], the
/// transaction rolls back.
///
/// [`Select`]: crate::Select
/// [`Insert`]: crate::Insert
/// [`Update`]: crate::Update
/// [`Delete`]: crate::Delete
/// [`commit`]: TenantTx::commit
pub struct TenantTx {
    tx: DbTx,
    ctx: TenantContext,
    tenant: TenantId,
    tenant_text: String,
    pool: TenantPool,
    state: TxState,
}

impl fmt::Debug for TenantTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantTx")
            .field("tenant", &self.tenant)
            .field("backend", &self.pool.backend)
            .finish_non_exhaustive()
    }
}

impl TenantTx {
    pub(crate) fn new(
        tx: DbTx,
        ctx: TenantContext,
        tenant: TenantId,
        pool: TenantPool,
    ) -> TenantTx {
        TenantTx {
            tx,
            ctx,
            tenant,
            tenant_text: tenant.to_string(),
            pool,
            state: TxState::default(),
        }
    }

    /// The context the transaction acts under.
    pub fn context(&self) -> &TenantContext {
        &self.ctx
    }

    /// The tenant it is bound to.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// Renders `stmt` for this transaction's backend and tenant (to inspect
    /// it, or to keep and re-run it cheaply).
    ///
    /// A statement refused because it reaches past the tenant (it writes
    /// the tenant column, or is a prepared statement of another scope) is
    /// recorded in the pool's audit sink as a cross-tenant attempt.
    pub fn prepare(&self, stmt: impl Statement) -> Result<Prepared> {
        stmt.prepare_owned(&self.pool.schema, self.pool.backend, &self.ctx)
            .inspect_err(|e| self.audit_refusal(e))
    }

    async fn check_references(&mut self, prepared: &Prepared) -> Result<()> {
        for check in prepared.checks() {
            let found = self.run_fetch_optional(&check.probe).await?;
            if found.is_none() {
                let refused = Error::NotFound {
                    table: check.table.clone(),
                };
                self.audit_refusal(&refused);
                return Err(refused);
            }
        }
        Ok(())
    }

    /// Records `error` in the pool's audit sink when it refused an attempt
    /// to reach past this tenant.
    ///
    /// A reference that finds no row of this tenant may point at another
    /// tenant's row (the check cannot and must not tell), so it counts as an
    /// attempt. The event goes to this tenant's log and names the table
    /// only: never the value, nor anything of another tenant.
    fn audit_refusal(&self, error: &Error) {
        let (action, reason) = match error {
            Error::NotFound { table } => {
                ("sql.reference", format!("reference not found in `{table}`"))
            }
            Error::TenantColumnWrite { column } => (
                "sql.tenant_column_write",
                format!("the tenant column `{column}` cannot be written"),
            ),
            Error::Access(AccessError::CrossTenant) => {
                ("sql.cross_tenant", "not found in this tenant".to_owned())
            }
            Error::ScopeMismatch => (
                "sql.scope_mismatch",
                "a prepared statement of another scope".to_owned(),
            ),
            _ => return,
        };
        self.pool.audit.record(
            AuditEvent::new(AuditKind::CrossTenantAttempt, action, Outcome::Denied)
                .with_tenant(self.tenant)
                .with_subject(self.ctx.subject())
                .with_reason(reason),
        );
    }

    fn tripwire(&mut self, prepared: &Prepared, rows: &[DbRow]) -> Result<()> {
        if !self.pool.tripwire {
            return Ok(());
        }
        let Some(first) = rows.first() else {
            return Ok(());
        };
        // Every row of a result has the same columns: find the tenant
        // columns once per result (no allocation when there are none), by
        // the schema's tenant column names and
        // the names under which this statement returns a tenant column
        // otherwise (an alias, a derived table's output).
        let names = self.pool.schema.tenant_columns();
        let aliases = &prepared.body.watched;
        let watched: Vec<usize> = (0..first.len())
            .filter(|&i| {
                first
                    .column_name(i)
                    .is_some_and(|c| names.iter().chain(aliases).any(|n| n == c))
            })
            .collect();
        if watched.is_empty() {
            return Ok(());
        }
        for row in rows {
            for &ordinal in &watched {
                if !holds_tenant(row, ordinal, &self.tenant_text) {
                    self.state.fail();
                    // INVARIANT: the offending rows are dropped here, never returned.
                    self.pool.audit.record(
                        AuditEvent::new(AuditKind::LeakPrevented, "sql.tripwire", Outcome::Denied)
                            .with_tenant(self.tenant)
                            .with_subject(self.ctx.subject()),
                    );
                    return Err(Error::LeakPrevented);
                }
            }
        }
        Ok(())
    }

    async fn run_fetch_all(&mut self, prepared: &Prepared) -> Result<Vec<DbRow>> {
        let args = arguments(&prepared.body.values, Some(&self.tenant_text))?;
        self.state.start();
        let rows = on_conn!(&mut self.tx, t => sqlx::query_with(text(prepared.sql()), args)
            .fetch_all(&mut **t)
            .await
            .map(|rows| rows.into_iter().map(DbRow::from).collect::<Vec<_>>()));
        self.state.finish(rows)
    }

    async fn run_fetch_optional(&mut self, prepared: &Prepared) -> Result<Option<DbRow>> {
        let args = arguments(&prepared.body.values, Some(&self.tenant_text))?;
        self.state.start();
        let row = on_conn!(&mut self.tx, t => sqlx::query_with(text(prepared.sql()), args)
            .fetch_optional(&mut **t)
            .await
            .map(|row| row.map(DbRow::from)));
        self.state.finish(row)
    }

    /// Runs `stmt` and returns every row, as the backend's driver returned it.
    pub async fn fetch_all(&mut self, stmt: impl Statement) -> Result<Vec<DbRow>> {
        let prepared = self.prepare(stmt)?;
        self.check_references(&prepared).await?;
        let rows = self.run_fetch_all(&prepared).await?;
        self.tripwire(&prepared, &rows)?;
        Ok(rows)
    }

    /// Runs `stmt` and returns the first row, if any.
    pub async fn fetch_optional(&mut self, stmt: impl Statement) -> Result<Option<DbRow>> {
        let prepared = self.prepare(stmt)?;
        self.check_references(&prepared).await?;
        let row = self.run_fetch_optional(&prepared).await?;
        if let Some(row) = &row {
            self.tripwire(&prepared, std::slice::from_ref(row))?;
        }
        Ok(row)
    }

    /// Runs `stmt` and decodes every row as `T` (for example a
    /// `#[derive(sqlx::FromRow)]` struct, with the driver's native types).
    pub async fn fetch_all_as<T: FromDbRow>(&mut self, stmt: impl Statement) -> Result<Vec<T>> {
        let rows = self.fetch_all(stmt).await?;
        rows.iter().map(T::from_db_row).collect()
    }

    /// Runs `stmt` and decodes the first row as `T`, if any.
    pub async fn fetch_optional_as<T: FromDbRow>(
        &mut self,
        stmt: impl Statement,
    ) -> Result<Option<T>> {
        match self.fetch_optional(stmt).await? {
            Some(row) => Ok(Some(T::from_db_row(&row)?)),
            None => Ok(None),
        }
    }

    /// Runs a write and returns the number of rows it affected.
    pub async fn execute(&mut self, stmt: impl Statement) -> Result<u64> {
        let prepared = self.prepare(stmt)?;
        self.check_references(&prepared).await?;
        let args = arguments(&prepared.body.values, Some(&self.tenant_text))?;
        self.state.start();
        let done = on_conn!(&mut self.tx, t => sqlx::query_with(text(prepared.sql()), args)
            .execute(&mut **t)
            .await
            .map(|done| done.rows_affected()));
        self.state.finish(done)
    }

    /// Commits, and reports what the server did: if any statement of the
    /// transaction failed (or was cancelled before it finished), nothing is
    /// committed and the result is [`Error::TransactionAborted`].
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

/// True when column `ordinal` of `row` holds `tenant`. A value that does
/// not decode as text is no proof of the tenant: it fails like a foreign
/// one. NULL (an outer join that matched nothing) carries no row of anyone.
/// Borrowed, so checking a row allocates nothing.
fn holds_tenant(row: &DbRow, ordinal: usize, tenant: &str) -> bool {
    super::row::on_row!(row, r => match sqlx::Row::try_get::<Option<&str>, _>(r, ordinal) {
        Ok(None) => true,
        Ok(Some(v)) => v == tenant,
        Err(_) => false,
    })
}
