//! Statements that carry the tenant predicate wherever a tenant table appears.
//!
//! The builders here ([`Select`], [`Insert`], [`Update`], [`Delete`]) are
//! descriptions: they hold table names and caller expressions and produce
//! nothing executable until [`Statement::prepare`] renders them for one
//! backend under one [`TenantContext`]. Rendering is where the tenant
//! predicate is written, so a description cannot be run without it.

mod guard;
mod prepared;
mod select;
mod write;

use sea_query::{DynIden, Expr, ExprTrait};
use tenancy_core::TenantContext;

pub use prepared::Prepared;
pub(crate) use prepared::is_tenant_slot;
pub use select::Select;
pub use write::{Delete, Insert, Update};

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::schema::{Schema, TableDef, TableKind};

/// Stands in for the tenant while a statement is built; every occurrence
/// among the bound values is a tenant slot. It cannot reach a database: a NUL
/// byte is not valid text in PostgreSQL, and slots are always replaced.
pub(crate) const TENANT_SENTINEL: &str = "\u{0}tenancy:tenant\u{0}";

/// A column of a table or alias, for names known only at run time.
///
/// ```
/// use tenancy_sql::col;
/// use tenancy_sql::sea_query::ExprTrait;
///
/// let cheap = col("leases", "rent_cents").lt(100_000);
/// # let _ = cheap;
/// ```
pub fn col(table: &str, column: &str) -> Expr {
    // An owned `String` becomes a sea-query identifier as it is; going
    // through `Alias` would copy each name once more.
    Expr::col((table.to_owned(), column.to_owned()))
}

/// `table.tenant_column = <tenant slot>`; `table` is the table's interned
/// name or the caller's alias for it.
pub(crate) fn tenant_predicate(table: DynIden, tenant_column: &'static str) -> Expr {
    Expr::col((table, tenant_column)).eq(TENANT_SENTINEL)
}

/// What a statement does with a table.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// State shared while one statement is rendered.
pub(crate) struct BuildCx<'a> {
    pub(crate) schema: &'a Schema,
    pub(crate) backend: Backend,
    pub(crate) ctes: Vec<String>,
    pub(crate) selects: usize,
}

impl<'a> BuildCx<'a> {
    pub(crate) fn new(schema: &'a Schema, backend: Backend) -> Self {
        BuildCx {
            schema,
            backend,
            ctes: Vec::new(),
            selects: 0,
        }
    }

    /// `None` for a CTE name in scope; the table otherwise, refused when a
    /// tenant statement may not touch it this way.
    pub(crate) fn resolve(&self, name: &str, access: Access) -> Result<Option<&'a TableDef>> {
        if access == Access::Read && self.ctes.iter().any(|c| c == name) {
            return Ok(None);
        }
        let table = self.schema.table(name)?;
        match (table.kind(), access) {
            (TableKind::Tenant, _) | (TableKind::Global, Access::Read) => Ok(Some(table)),
            (TableKind::Global, Access::Write) => Err(Error::GlobalTableWrite(name.to_owned())),
            (TableKind::System, _) => Err(Error::SystemTable(name.to_owned())),
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Select {}
    impl Sealed for super::Insert {}
    impl Sealed for super::Update {}
    impl Sealed for super::Delete {}
    impl Sealed for super::Prepared {}
    impl<T: Sealed + ?Sized> Sealed for &T {}
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
