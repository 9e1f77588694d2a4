//! Statements that carry the tenant predicate wherever a tenant table appears.
//!
//! The builders here ([`Select`], [`Insert`], [`Update`], [`Delete`]) are
//! descriptions: they hold table names and typed [`Expr`]essions and produce
//! nothing executable until [`Statement::prepare`] resolves every name
//! against the schema and renders them for one backend under one
//! [`TenantContext`]. Rendering is where the tenant predicate is written, so
//! a description cannot be run without it. There is no way to put SQL text
//! into a description: the expression surface has no node for it.

mod expr;
#[cfg(feature = "mutation-testing")]
pub mod mutant;
mod prepared;
mod resolve;
mod select;
mod write;

use sea_query::{DynIden, Expr as SqExpr, ExprTrait, Values};
use tenancy_core::TenantContext;

pub use expr::{
    Expr, Function, Order, SqlType, all, any, call, case, col, column, count_all,
    current_timestamp, exists, not_exists, scalar, val,
};
pub use prepared::Prepared;
#[cfg(feature = "sqlx")]
pub(crate) use prepared::is_tenant_slot;
pub use select::Select;
pub use write::{Delete, Insert, Update};

use crate::backend::Backend;
use crate::error::Result;
use crate::schema::Schema;

/// Stands in for the tenant while a statement is built; every occurrence
/// among the bound values is a tenant slot. It cannot reach a database: a NUL
/// byte is not valid text in PostgreSQL, a caller's value equal to it is
/// refused, and slots are always replaced.
pub(crate) const TENANT_SENTINEL: &str = "\u{0}tenancy:tenant\u{0}";

/// SQL text and its bound values.
pub(crate) type Rendered = (String, Values);

/// `table.tenant_column = <tenant slot>`; `table` is the table's interned
/// name or the caller's alias for it.
pub(crate) fn tenant_predicate(table: DynIden, tenant_column: &'static str) -> SqExpr {
    SqExpr::col((table, tenant_column)).eq(TENANT_SENTINEL)
}

pub(crate) mod sealed {
    use super::{Backend, Rendered, Result, Schema};

    /// Only this crate's statements implement [`super::Statement`] and
    /// [`crate::SystemStatement`].
    pub trait Sealed {
        /// Renders the statement for the audited system escape hatch: global
        /// and system tables only, under the same structural rules.
        fn render_system(&self, schema: &Schema, backend: Backend) -> Result<Rendered>;
    }

    impl<T: Sealed + ?Sized> Sealed for &T {
        fn render_system(&self, schema: &Schema, backend: Backend) -> Result<Rendered> {
            (**self).render_system(schema, backend)
        }
    }
}

/// A statement the executor accepts: only this crate's scoped builders and
/// [`Prepared`] statements implement it (the trait is sealed), so a raw
/// sea-query statement or a SQL string cannot be handed to a tenant
/// transaction.
pub trait Statement: sealed::Sealed {
    /// Renders the statement for `backend` with every tenant table filtered
    /// (or stamped) with `ctx`'s tenant.
    fn prepare(&self, schema: &Schema, backend: Backend, ctx: &TenantContext) -> Result<Prepared>;

    /// Like [`Statement::prepare`], consuming the statement so nothing is
    /// copied; the executor calls this for statements passed by value.
    fn prepare_owned(
        self,
        schema: &Schema,
        backend: Backend,
        ctx: &TenantContext,
    ) -> Result<Prepared>
    where
        Self: Sized,
    {
        self.prepare(schema, backend, ctx)
    }
}

impl<T: Statement + ?Sized> Statement for &T {
    fn prepare(&self, schema: &Schema, backend: Backend, ctx: &TenantContext) -> Result<Prepared> {
        (**self).prepare(schema, backend, ctx)
    }
}
