//! Scoped INSERT, UPDATE and DELETE.

use sea_query::{
    DeleteStatement, DynIden, Expr as SqExpr, InsertStatement, OnConflict, Query, ReturningClause,
    UpdateStatement, Value,
};
use tenancy_core::{TenantContext, TenantId};

use super::expr::{Expr, Node, val};
use super::prepared::{Prepared, ReferenceCheck};
use super::resolve::{Access, BuildCx, Mode, canonical, conjoin, declared_column};
use super::select::Select;
use super::{Rendered, Statement, col, exists, not_exists, tenant_predicate};
use crate::backend::Backend;
use crate::error::{Error, Result, UnsupportedShape};
use crate::schema::{Schema, TableDef};

#[derive(Debug, Clone)]
enum Conflict {
    DoNothing(Vec<String>),
    Update {
        target: Vec<String>,
        update: Vec<String>,
    },
}

/// An INSERT that stamps the tenant column from the context.
///
/// The tenant column cannot be named, under any spelling: the stamp is the
/// only writer ([`Error::TenantColumnWrite`]). An upsert's conflict target
/// always starts with the tenant column; on MySQL/MariaDB, where
/// `ON DUPLICATE KEY UPDATE` fires on any unique key, every assignment is
/// guarded so a row of another tenant is left unchanged, and an upsert on a
/// table with a declared cross-tenant unique key is refused
/// ([`Error::UnsafeUpsert`]). `INSERT … SELECT` sources are scoped like any
/// [`Select`]. References to other tenant tables given as plain values are
/// checked by the executor before the write: a row of another tenant is
/// "not found".
#[derive(Debug, Clone)]
#[must_use]
pub struct Insert {
    table: String,
    columns: Vec<String>,
    rows: Vec<Vec<Expr>>,
    source: Option<Select>,
    conflict: Option<Conflict>,
    returning: Vec<String>,
}

/// What one rendered write carries besides its text.
struct Built<S> {
    statement: S,
    checks: Vec<ReferenceCheck>,
}

/// The declared columns `names` name in `table`, each once; in a tenant
/// statement the tenant column is refused under any spelling.
fn write_columns(
    cx: &BuildCx<'_>,
    table: &TableDef,
    names: &[String],
) -> Result<Vec<&'static str>> {
    let mut out: Vec<&'static str> = Vec::with_capacity(names.len() + 1);
    for name in names {
        let c = declared_column(table, &canonical(name)?)?;
        // INVARIANT: the tenant column is written only by the stamp.
        if cx.mode == Mode::Tenant && table.is_tenant() && c == table.static_tenant_column() {
            return Err(Error::TenantColumnWrite {
                column: c.to_owned(),
            });
        }
        if out.contains(&c) {
            return Err(Error::DuplicateName { name: c.to_owned() });
        }
        out.push(c);
    }
    Ok(out)
}

fn idens<'a>(columns: &'a [&'static str]) -> impl Iterator<Item = DynIden> + 'a {
    columns.iter().map(|c| DynIden::from(*c))
}

impl Insert {
    /// `INSERT INTO table`.
    pub fn into(table: &str) -> Self {
        Insert {
            table: table.to_owned(),
            columns: Vec::new(),
            rows: Vec::new(),
            source: None,
            conflict: None,
            returning: Vec::new(),
        }
    }

    /// The columns the rows give values for (never the tenant column).
    pub fn columns<'a>(mut self, columns: impl IntoIterator<Item = &'a str>) -> Self {
        self.columns = columns.into_iter().map(str::to_owned).collect();
        self
    }

    /// One row of values (bound as parameters).
    pub fn values<I, V>(mut self, row: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<Value>,
    {
        self.rows.push(row.into_iter().map(val).collect());
        self
    }

    /// One row of typed expressions (`current_timestamp()`, arithmetic, a
    /// scoped scalar subquery); plain values are still bound as parameters.
    pub fn exprs<I, E>(mut self, row: I) -> Self
    where
        I: IntoIterator<Item = E>,
        E: Into<Expr>,
    {
        self.rows.push(row.into_iter().map(Into::into).collect());
        self
    }

    /// `INSERT … SELECT`: the source is scoped, the tenant column stamped.
    pub fn select_from(mut self, source: Select) -> Self {
        self.source = Some(source);
        self
    }

    /// `ON CONFLICT (tenant, target…) DO NOTHING`.
    pub fn on_conflict_do_nothing<'a>(mut self, target: impl IntoIterator<Item = &'a str>) -> Self {
        self.conflict = Some(Conflict::DoNothing(
            target.into_iter().map(str::to_owned).collect(),
        ));
        self
    }

    /// `ON CONFLICT (tenant, target…) DO UPDATE SET col = excluded.col…`
    /// (`ON DUPLICATE KEY UPDATE` on MySQL, each assignment guarded by the
    /// tenant of the row it found).
    pub fn on_conflict_update<'a, 'b>(
        mut self,
        target: impl IntoIterator<Item = &'a str>,
        update: impl IntoIterator<Item = &'b str>,
    ) -> Self {
        self.conflict = Some(Conflict::Update {
            target: target.into_iter().map(str::to_owned).collect(),
            update: update.into_iter().map(str::to_owned).collect(),
        });
        self
    }

    /// `RETURNING columns` (PostgreSQL, SQLite, MariaDB).
    pub fn returning<'a>(mut self, columns: impl IntoIterator<Item = &'a str>) -> Self {
        self.returning = columns.into_iter().map(str::to_owned).collect();
        self
    }

    fn build(
        &self,
        cx: &mut BuildCx<'_>,
        tenant: Option<TenantId>,
    ) -> Result<Built<InsertStatement>> {
        cx.push_frame()?;
        let out = self.build_in_frame(cx, tenant);
        cx.pop_frame();
        out
    }

    fn build_in_frame(
        &self,
        cx: &mut BuildCx<'_>,
        tenant: Option<TenantId>,
    ) -> Result<Built<InsertStatement>> {
        let table = cx.table(&self.table, Access::Write)?;
        let stamp = cx.mode == Mode::Tenant && table.is_tenant();
        let given = write_columns(cx, table, &self.columns)?;
        let mut columns = given.clone();
        if stamp {
            columns.push(table.static_tenant_column());
        }
        let mut q = Query::insert();
        q.into_table(table.static_name()).columns(idens(&columns));
        let mut checks = Vec::new();
        match (&self.source, self.rows.is_empty()) {
            (Some(_), false) => {
                return Err(Error::Unsupported(UnsupportedShape::RowsAndSelectSource));
            }
            (None, true) => return Err(Error::Unsupported(UnsupportedShape::InsertWithoutRows)),
            (Some(source), true) => {
                if source.width() != given.len() {
                    return Err(Error::Unsupported(UnsupportedShape::SelectSourceWidth));
                }
                let mut source = source.clone();
                if stamp {
                    source.push_tenant_everywhere();
                }
                #[cfg(feature = "mutation-testing")]
                super::mutant::mark(super::mutant::Mutant::InsertSource);
                let s = cx.subquery(source)?;
                q.select_from(s).map_err(Error::Build)?;
            }
            (None, false) => {
                for row in &self.rows {
                    if row.len() != given.len() {
                        return Err(Error::Unsupported(UnsupportedShape::RowLength));
                    }
                    if let Some(tenant) = tenant {
                        checks.extend(reference_checks(cx, table, &given, row, tenant)?);
                    }
                    let mut lowered = row
                        .iter()
                        .map(|e| cx.lower(e.clone()))
                        .collect::<Result<Vec<SqExpr>>>()?;
                    if stamp {
                        let slot = BuildCx::tenant_slot();
                        #[cfg(feature = "mutation-testing")]
                        let slot = super::mutant::stamp(slot);
                        lowered.push(slot);
                    }
                    q.values(lowered).map_err(Error::Build)?;
                }
            }
        }
        if let Some(conflict) = &self.conflict {
            q.on_conflict(self.conflict_clause(cx, table, conflict)?);
        }
        if !self.returning.is_empty() {
            let mut returning = Vec::with_capacity(self.returning.len());
            for name in &self.returning {
                returning.push(declared_column(table, &canonical(name)?)?);
            }
            if cx.backend == Backend::MySql {
                // MySQL has no RETURNING, and MariaDB's returns the row an
                // `ON DUPLICATE KEY` clause found, which may be another
                // tenant's: refused rather than dropped in silence.
                return Err(Error::Unsupported(UnsupportedShape::ReturningOnMySql));
            }
            q.returning(ReturningClause::Columns(
                returning.into_iter().map(|c| c.into()).collect(),
            ));
        }
        Ok(Built {
            statement: q,
            checks,
        })
    }

    fn conflict_clause(
        &self,
        cx: &BuildCx<'_>,
        table: &TableDef,
        conflict: &Conflict,
    ) -> Result<OnConflict> {
        let (target, update) = match conflict {
            Conflict::DoNothing(target) => (target, None),
            Conflict::Update { target, update } => (target, Some(update)),
        };
        if self.source.is_some() && cx.backend != Backend::Postgres {
            // MySQL finds the unqualified columns of `ON DUPLICATE KEY`
            // ambiguous next to a SELECT (and MariaDB 10.11 crashed on one
            // such statement with a UNION); SQLite cannot parse it without a
            // WHERE. Refused before the server sees it.
            return Err(Error::Unsupported(UnsupportedShape::UpsertWithSelectSource));
        }
        let scoped = cx.mode == Mode::Tenant && table.is_tenant();
        let tc = table.static_tenant_column();
        // The tenant column may be named in the target (it is not written
        // there); it always leads it.
        let mut cols: Vec<&'static str> = Vec::with_capacity(target.len() + 1);
        if scoped {
            cols.push(tc);
        }
        for name in target {
            let c = declared_column(table, &canonical(name)?)?;
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
        if cols.is_empty() {
            return Err(Error::Unsupported(
                UnsupportedShape::UpsertWithoutConflictTarget,
            ));
        }
        let update = update.map(|u| write_columns(cx, table, u)).transpose()?;
        if update.as_ref().is_some_and(Vec::is_empty) {
            return Err(Error::Unsupported(UnsupportedShape::UpsertWithoutUpdate));
        }
        if scoped
            && update.is_some()
            && cx.backend == Backend::MySql
            && !table.global_unique().is_empty()
        {
            return Err(Error::UnsafeUpsert {
                table: table.name().to_owned(),
            });
        }
        let tenant = scoped.then(|| (tc, BuildCx::tenant_slot()));
        Ok(cx.backend.upsert(&cols, update.as_deref(), tenant))
    }
}

/// Probes for the rows a new or changed row references; each must exist in
/// the same tenant.
fn reference_checks(
    cx: &BuildCx<'_>,
    table: &TableDef,
    columns: &[&'static str],
    row: &[Expr],
    tenant: TenantId,
) -> Result<Vec<ReferenceCheck>> {
    let mut out = Vec::new();
    for fk in table.foreign_keys() {
        let parent = cx.schema.table(&fk.parent)?;
        if !parent.is_tenant() {
            continue;
        }
        let mut probe = Select::from(&fk.parent).expr(val(1)).limit(1);
        let mut complete = true;
        for (c, pc) in fk.columns.iter().zip(&fk.parent_columns) {
            match columns.iter().position(|x| x == c).map(|i| &row[i].node) {
                // A NULL reference points nowhere; nothing to check.
                Some(Node::Value(v)) if is_null(v) => complete = false,
                Some(Node::Value(v)) => probe = probe.filter(col(&fk.parent, pc).eq(v.clone())),
                // An expression (or a column left out) is held by the
                // composite foreign key of the DDL instead.
                _ => complete = false,
            }
        }
        if complete {
            let mut pcx = BuildCx::new(cx.schema, cx.backend, Mode::Tenant);
            #[cfg(feature = "mutation-testing")]
            super::mutant::mark(super::mutant::Mutant::Where);
            let q = probe.build_owned(&mut pcx)?;
            let probe = Prepared::finish(
                cx.backend.render(&q),
                cx.schema,
                cx.backend,
                tenant,
                false,
                Vec::new(),
            )?;
            out.push(ReferenceCheck {
                table: fk.parent.clone(),
                probe,
            });
        }
    }
    Ok(out)
}

fn is_null(v: &Value) -> bool {
    matches!(
        v,
        Value::Bool(None)
            | Value::TinyInt(None)
            | Value::SmallInt(None)
            | Value::Int(None)
            | Value::BigInt(None)
            | Value::TinyUnsigned(None)
            | Value::SmallUnsigned(None)
            | Value::Unsigned(None)
            | Value::BigUnsigned(None)
            | Value::Float(None)
            | Value::Double(None)
            | Value::String(None)
            | Value::Char(None)
            | Value::Bytes(None)
    )
}

/// Renders a write in tenant mode and wraps it as a [`Prepared`] statement.
fn prepare_write<S: sea_query::QueryStatementWriter>(
    schema: &Schema,
    backend: Backend,
    ctx: &TenantContext,
    build: impl FnOnce(&mut BuildCx<'_>, TenantId) -> Result<Built<S>>,
) -> Result<Prepared> {
    let tenant = ctx.require_tenant()?;
    let mut cx = BuildCx::new(schema, backend, Mode::Tenant);
    let built = build(&mut cx, tenant)?;
    Prepared::finish(
        backend.render(&built.statement),
        schema,
        backend,
        tenant,
        true,
        built.checks,
    )
}

/// Renders a write for the system escape hatch.
fn render_system_write<S: sea_query::QueryStatementWriter>(
    schema: &Schema,
    backend: Backend,
    build: impl FnOnce(&mut BuildCx<'_>) -> Result<Built<S>>,
) -> Result<Rendered> {
    let mut cx = BuildCx::new(schema, backend, Mode::System);
    let built = build(&mut cx)?;
    Ok(backend.render(&built.statement))
}

impl Statement for Insert {
    fn prepare(&self, schema: &Schema, backend: Backend, ctx: &TenantContext) -> Result<Prepared> {
        prepare_write(schema, backend, ctx, |cx, t| self.build(cx, Some(t)))
    }
}

impl super::sealed::Sealed for Insert {
    fn render_system(&self, schema: &Schema, backend: Backend) -> Result<Rendered> {
        render_system_write(schema, backend, |cx| self.build(cx, None))
    }
}

/// An UPDATE restricted to the context's tenant; the tenant column cannot be
/// set under any spelling, and references set to plain values are checked
/// like an insert's.
#[derive(Debug, Clone)]
#[must_use]
pub struct Update {
    table: String,
    sets: Vec<(String, Expr)>,
    filters: Vec<Expr>,
}

/// The WHERE clause of a write: the tenant predicate (tenant tables in a
/// tenant statement), then every caller condition ANDed under it.
fn write_condition(
    cx: &mut BuildCx<'_>,
    table: &TableDef,
    filters: &[Expr],
) -> Result<sea_query::Condition> {
    #[cfg(feature = "mutation-testing")]
    let part = super::mutant::take_part();
    let mut cond = None;
    if cx.mode == Mode::Tenant && table.is_tenant() {
        cond = Some(tenant_predicate(
            table.static_name().into(),
            table.static_tenant_column(),
        ));
    }
    #[cfg(feature = "mutation-testing")]
    if super::mutant::drops(part) {
        cond = None;
    }
    for f in filters {
        cond = Some(conjoin(cond, cx.lower(f.clone())?));
    }
    // One term (see `conjoin`); with none, the empty condition renders
    // `WHERE TRUE`, as it always has.
    Ok(cond.map_or_else(sea_query::Condition::all, sea_query::Condition::from))
}

macro_rules! filter_methods {
    () => {
        /// Adds a condition, combined with `AND` under the tenant predicate.
        pub fn filter(mut self, cond: impl Into<Expr>) -> Self {
            self.filters.push(cond.into());
            self
        }

        /// `AND expr IN (subquery)`; the subquery is scoped too.
        pub fn filter_in(self, expr: impl Into<Expr>, sub: Select) -> Self {
            self.filter(expr.into().in_subquery(sub))
        }

        /// `AND expr NOT IN (subquery)`; the subquery is scoped too.
        pub fn filter_not_in(self, expr: impl Into<Expr>, sub: Select) -> Self {
            self.filter(expr.into().not_in_subquery(sub))
        }

        /// `AND EXISTS (subquery)`; the subquery is scoped too.
        pub fn filter_exists(self, sub: Select) -> Self {
            self.filter(exists(sub))
        }

        /// `AND NOT EXISTS (subquery)`; the subquery is scoped too.
        pub fn filter_not_exists(self, sub: Select) -> Self {
            self.filter(not_exists(sub))
        }
    };
}

impl Update {
    /// `UPDATE table`.
    pub fn table(table: &str) -> Self {
        Update {
            table: table.to_owned(),
            sets: Vec::new(),
            filters: Vec::new(),
        }
    }

    /// `SET column = value`.
    pub fn set(mut self, column: &str, value: impl Into<Expr>) -> Self {
        self.sets.push((column.to_owned(), value.into()));
        self
    }

    filter_methods!();

    fn build(
        &self,
        cx: &mut BuildCx<'_>,
        tenant: Option<TenantId>,
    ) -> Result<Built<UpdateStatement>> {
        cx.push_frame()?;
        let out = self.build_in_frame(cx, tenant);
        cx.pop_frame();
        out
    }

    fn build_in_frame(
        &self,
        cx: &mut BuildCx<'_>,
        tenant: Option<TenantId>,
    ) -> Result<Built<UpdateStatement>> {
        let table = cx.table(&self.table, Access::Write)?;
        cx.add_write_target(table)?;
        if self.sets.is_empty() {
            return Err(Error::Unsupported(UnsupportedShape::UpdateWithoutSet));
        }
        let names: Vec<String> = self.sets.iter().map(|(c, _)| c.clone()).collect();
        let columns = write_columns(cx, table, &names)?;
        let row: Vec<Expr> = self.sets.iter().map(|(_, e)| e.clone()).collect();
        let checks = match tenant {
            Some(tenant) => reference_checks(cx, table, &columns, &row, tenant)?,
            None => Vec::new(),
        };
        let mut q = Query::update();
        q.table(table.static_name());
        for (c, e) in columns.iter().zip(row) {
            let e = cx.lower(e)?;
            q.value(*c, e);
        }
        #[cfg(feature = "mutation-testing")]
        super::mutant::mark(super::mutant::Mutant::UpdateWhere);
        q.cond_where(write_condition(cx, table, &self.filters)?);
        Ok(Built {
            statement: q,
            checks,
        })
    }
}

impl Statement for Update {
    fn prepare(&self, schema: &Schema, backend: Backend, ctx: &TenantContext) -> Result<Prepared> {
        prepare_write(schema, backend, ctx, |cx, t| self.build(cx, Some(t)))
    }
}

impl super::sealed::Sealed for Update {
    fn render_system(&self, schema: &Schema, backend: Backend) -> Result<Rendered> {
        render_system_write(schema, backend, |cx| self.build(cx, None))
    }
}

/// A DELETE restricted to the context's tenant.
#[derive(Debug, Clone)]
#[must_use]
pub struct Delete {
    table: String,
    filters: Vec<Expr>,
}

impl Delete {
    /// `DELETE FROM table`.
    pub fn from(table: &str) -> Self {
        Delete {
            table: table.to_owned(),
            filters: Vec::new(),
        }
    }

    filter_methods!();

    fn build(&self, cx: &mut BuildCx<'_>) -> Result<Built<DeleteStatement>> {
        cx.push_frame()?;
        let out = self.build_in_frame(cx);
        cx.pop_frame();
        out
    }

    fn build_in_frame(&self, cx: &mut BuildCx<'_>) -> Result<Built<DeleteStatement>> {
        let table = cx.table(&self.table, Access::Write)?;
        cx.add_write_target(table)?;
        let mut q = Query::delete();
        q.from_table(table.static_name());
        #[cfg(feature = "mutation-testing")]
        super::mutant::mark(super::mutant::Mutant::DeleteWhere);
        q.cond_where(write_condition(cx, table, &self.filters)?);
        Ok(Built {
            statement: q,
            checks: Vec::new(),
        })
    }
}

impl Statement for Delete {
    fn prepare(&self, schema: &Schema, backend: Backend, ctx: &TenantContext) -> Result<Prepared> {
        prepare_write(schema, backend, ctx, |cx, _| self.build(cx))
    }
}

impl super::sealed::Sealed for Delete {
    fn render_system(&self, schema: &Schema, backend: Backend) -> Result<Rendered> {
        render_system_write(schema, backend, |cx| self.build(cx))
    }
}
