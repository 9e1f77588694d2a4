//! A rendered, scoped statement whose tenant is always a bound parameter.

use std::sync::Arc;

use sea_query::{Value, Values};

use tenancy_core::{TenantContext, TenantId};

use super::{Rendered, Statement, TENANT_SENTINEL};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::schema::Schema;

/// A reference the executor checks before a write: the referenced row must
/// exist in the same tenant, or the write is [`Error::NotFound`].
#[derive(Debug, Clone)]
pub(crate) struct ReferenceCheck {
    pub(crate) table: String,
    pub(crate) probe: Prepared,
}

/// A statement rendered for one backend and bound to one tenant.
///
/// The tenant is never part of the SQL text, only of the bound values, so the
/// same text serves every tenant: [`Prepared::rebind`] moves it to another
/// tenant's context without rendering again.
///
/// ```
/// use tenancy_core::*;
/// use tenancy_sql::{Backend, Schema, Select, Statement, col};
///
/// let schema = Schema::builder().tenant("leases").columns(["lessee", "rent_cents"]).build()?;
/// let acme = TenantContext::tenant(TenantId::from_u128(1), SubjectId::from_u128(1), RoleName::member(), PermissionSet::all());
/// let q = Select::from("leases").columns(["id", "lessee"]).filter(col("leases", "rent_cents").gt(1000));
/// let prepared = q.prepare(&schema, Backend::Postgres, &acme)?;
/// assert_eq!(
///     prepared.sql(),
///     r#"SELECT "id", "lessee" FROM "leases" WHERE "leases"."tenant_id" = $1 AND "leases"."rent_cents" > $2"#
/// );
/// let globex = TenantContext::tenant(TenantId::from_u128(2), SubjectId::from_u128(1), RoleName::member(), PermissionSet::all());
/// let again = prepared.rebind(&globex)?;
/// assert_eq!(again.sql(), prepared.sql());
/// assert_eq!(again.values()[0], TenantId::from_u128(2).to_string().into());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Prepared {
    pub(crate) body: Arc<Body>,
    /// The schema its names were resolved against: it runs only where the
    /// same schema holds, so a statement prepared under a schema that called
    /// a tenant table global cannot run unscoped on the real one.
    pub(crate) schema: Schema,
    pub(crate) tenant: TenantId,
    pub(crate) backend: Backend,
    pub(crate) writes: bool,
    /// `None` when there is nothing to check, so most statements allocate
    /// nothing for it.
    pub(crate) checks: Option<Arc<[ReferenceCheck]>>,
}

/// The tenant-independent part of a [`Prepared`] statement, shared by every
/// rebinding: the text and the values, each tenant slot holding the sentinel.
#[derive(Debug)]
pub(crate) struct Body {
    pub(crate) sql: String,
    pub(crate) values: Vec<Value>,
    /// Result columns that carry a tenant column under another name (an
    /// alias, a derived table's output): the tripwire checks them too.
    pub(crate) watched: Vec<String>,
}

/// True for a bound value that stands for the tenant.
pub(crate) fn is_tenant_slot(v: &Value) -> bool {
    matches!(v, Value::String(Some(s)) if s == TENANT_SENTINEL)
}

impl Prepared {
    pub(crate) fn finish(
        (sql, Values(values)): Rendered,
        schema: &Schema,
        backend: Backend,
        tenant: TenantId,
        writes: bool,
        checks: Vec<ReferenceCheck>,
    ) -> Result<Prepared> {
        Ok(Prepared {
            // One allocation holds the text and the values; neither is copied.
            body: Arc::new(Body {
                sql,
                values,
                watched: Vec::new(),
            }),
            schema: schema.clone(),
            tenant,
            backend,
            writes,
            checks: (!checks.is_empty()).then(|| checks.into()),
        })
    }

    /// Marks result columns, by name, that carry a tenant column.
    pub(crate) fn watching(mut self, names: Vec<String>) -> Prepared {
        if !names.is_empty()
            && let Some(body) = Arc::get_mut(&mut self.body)
        {
            body.watched = names;
        }
        self
    }

    /// The rows a write needs to find first, in the same tenant.
    #[cfg(feature = "sqlx")]
    pub(crate) fn checks(&self) -> &[ReferenceCheck] {
        self.checks.as_deref().unwrap_or_default()
    }

    /// The SQL text, with placeholders for every value.
    pub fn sql(&self) -> &str {
        &self.body.sql
    }

    /// The bound values in placeholder order, the tenant filled in.
    pub fn values(&self) -> Vec<Value> {
        let tenant = self.tenant.to_string();
        self.body
            .values
            .iter()
            .map(|v| {
                if is_tenant_slot(v) {
                    Value::String(Some(tenant.clone()))
                } else {
                    v.clone()
                }
            })
            .collect()
    }

    /// How many bound values are the tenant.
    pub fn tenant_slots(&self) -> usize {
        self.body
            .values
            .iter()
            .filter(|v| is_tenant_slot(v))
            .count()
    }

    /// The tenant this statement is bound to.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The backend it was rendered for.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// True for INSERT, UPDATE and DELETE.
    pub fn is_write(&self) -> bool {
        self.writes
    }

    /// The same statement bound to `ctx`'s tenant; no rendering, no
    /// allocation of SQL text.
    pub fn rebind(&self, ctx: &TenantContext) -> Result<Prepared> {
        let tenant = ctx.require_tenant()?;
        let mut out = self.clone();
        out.tenant = tenant;
        if let Some(checks) = &self.checks {
            let checks: Result<Vec<ReferenceCheck>> = checks
                .iter()
                .map(|c| {
                    Ok(ReferenceCheck {
                        table: c.table.clone(),
                        probe: c.probe.rebind(ctx)?,
                    })
                })
                .collect();
            out.checks = Some(checks?.into());
        }
        Ok(out)
    }
}

impl super::sealed::Sealed for Prepared {
    fn render_system(&self, _schema: &Schema, _backend: Backend) -> Result<Rendered> {
        // A prepared statement is bound to a tenant; it has no system form.
        Err(Error::ScopeMismatch)
    }
}

impl Statement for Prepared {
    fn prepare(&self, schema: &Schema, backend: Backend, ctx: &TenantContext) -> Result<Prepared> {
        if backend != self.backend
            || ctx.tenant_id() != Some(self.tenant)
            || !self.schema.same_as(schema)
        {
            return Err(Error::ScopeMismatch);
        }
        Ok(self.clone())
    }
}
