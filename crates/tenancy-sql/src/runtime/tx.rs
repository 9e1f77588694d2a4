//! A transaction bound to one tenant.

use std::fmt;

use sqlx::any::{Any, AnyRow};
use sqlx::{Column, FromRow, Row, Transaction};
use tenancy_core::{AuditEvent, AuditKind, Outcome, TenantContext, TenantId};

use super::bind::bind;
use super::pool::TenantPool;
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
    tx: Transaction<'static, Any>,
    ctx: TenantContext,
    tenant: TenantId,
    tenant_text: String,
    pool: TenantPool,
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
        tx: Transaction<'static, Any>,
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
    pub fn prepare(&self, stmt: impl Statement) -> Result<Prepared> {
        stmt.prepare_owned(&self.pool.schema, self.pool.backend, &self.ctx)
    }

    async fn check_references(&mut self, prepared: &Prepared) -> Result<()> {
        for check in prepared.checks() {
            let found = bind(&check.probe, &self.tenant_text)?
                .fetch_optional(&mut *self.tx)
                .await?;
            if found.is_none() {
                return Err(Error::NotFound {
                    table: check.table.clone(),
                });
            }
        }
        Ok(())
    }

    fn tripwire(&self, rows: &[AnyRow]) -> Result<()> {
        if !self.pool.tripwire {
            return Ok(());
        }
        let names = self.pool.schema.tenant_columns();
        for row in rows {
            for column in row.columns() {
                if !names.iter().any(|n| n == column.name()) {
                    continue;
                }
                let value: Option<String> = row.try_get(column.ordinal()).unwrap_or(None);
                if let Some(v) = value
                    && v != self.tenant_text
                {
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

    /// Runs `stmt` and returns every row.
    pub async fn fetch_all(&mut self, stmt: impl Statement) -> Result<Vec<AnyRow>> {
        let prepared = self.prepare(stmt)?;
        self.check_references(&prepared).await?;
        let rows = bind(&prepared, &self.tenant_text)?
            .fetch_all(&mut *self.tx)
            .await?;
        self.tripwire(&rows)?;
        Ok(rows)
    }

    /// Runs `stmt` and returns the first row, if any.
    pub async fn fetch_optional(&mut self, stmt: impl Statement) -> Result<Option<AnyRow>> {
        let prepared = self.prepare(stmt)?;
        self.check_references(&prepared).await?;
        let row = bind(&prepared, &self.tenant_text)?
            .fetch_optional(&mut *self.tx)
            .await?;
        if let Some(row) = &row {
            self.tripwire(std::slice::from_ref(row))?;
        }
        Ok(row)
    }

    /// Runs `stmt` and maps every row to `T`.
    pub async fn fetch_all_as<T>(&mut self, stmt: impl Statement) -> Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, AnyRow>,
    {
        let rows = self.fetch_all(stmt).await?;
        rows.iter()
            .map(|r| T::from_row(r).map_err(Error::from))
            .collect()
    }

    /// Runs `stmt` and maps the first row to `T`, if any.
    pub async fn fetch_optional_as<T>(&mut self, stmt: impl Statement) -> Result<Option<T>>
    where
        T: for<'r> FromRow<'r, AnyRow>,
    {
        match self.fetch_optional(stmt).await? {
            Some(row) => Ok(Some(T::from_row(&row)?)),
            None => Ok(None),
        }
    }

    /// Runs a write and returns the number of rows it affected.
    pub async fn execute(&mut self, stmt: impl Statement) -> Result<u64> {
        let prepared = self.prepare(stmt)?;
        self.check_references(&prepared).await?;
        let done = bind(&prepared, &self.tenant_text)?
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
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
