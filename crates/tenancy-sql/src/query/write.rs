//! Scoped INSERT, UPDATE and DELETE.

use sea_query::{
    Alias, Condition, DeleteStatement, Expr, ExprTrait, InsertStatement, IntoCondition,
    MysqlQueryBuilder, OnConflict, PostgresQueryBuilder, Query, SqliteQueryBuilder,
    UpdateStatement, Value,
};
use tenancy_core::{AccessError, TenantContext, TenantId};

use super::prepared::{Prepared, ReferenceCheck};
use super::select::Select;
use super::{Access, BuildCx, Statement, TENANT_SENTINEL, col, tenant_predicate};
use crate::backend::Backend;
use crate::error::{Error, Result};
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
/// A caller may name the tenant column only with the context's own tenant
/// (anything else is refused as [`AccessError::CrossTenant`]); an upsert's
/// conflict target always starts with the tenant column; `INSERT … SELECT`
/// sources are scoped like any [`Select`]. References to other tenant tables
/// given as plain values are checked by the executor before the write: a row
/// of another tenant is "not found".
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

    /// The columns the rows give values for (without the tenant column).
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
        self.rows
            .push(row.into_iter().map(|v| Expr::Value(v.into())).collect());
        self
    }

    /// One row of expressions (`CURRENT_TIMESTAMP`, arithmetic); plain
    /// values are still bound as parameters.
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
    /// (`ON DUPLICATE KEY UPDATE` on MySQL, where the tenant-led unique keys
    /// of the DDL play the target's part).
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
        tenant: TenantId,
    ) -> Result<(InsertStatement, Vec<ReferenceCheck>)> {
        let Some(table) = cx.resolve(&self.table, Access::Write)? else {
            return Err(Error::GlobalTableWrite(self.table.clone()));
        };
        let tc = table.tenant_column();
        let tenant_at = self.columns.iter().position(|c| c == tc);
        let mut columns = self.columns.clone();
        if tenant_at.is_none() {
            columns.push(tc.to_owned());
        }
        let mut q = Query::insert();
        q.into_table(Alias::new(&self.table))
            .columns(columns.iter().map(Alias::new));
        let mut checks = Vec::new();
        match (&self.source, self.rows.is_empty()) {
            (Some(_), false) => return Err(Error::Unsupported("both rows and a select source")),
            (None, true) => return Err(Error::Unsupported("an insert without rows")),
            (Some(source), true) => {
                if tenant_at.is_some() {
                    return Err(Error::TenantColumnWrite(tc.to_owned()));
                }
                let mut source = source.clone();
                source.push_item_everywhere(Expr::val(TENANT_SENTINEL));
                let s = source.build(cx)?;
                q.select_from(s).map_err(|e| Error::Build(e.to_string()))?;
            }
            (None, false) => {
                let own = tenant.to_string();
                for row in &self.rows {
                    if row.len() != self.columns.len() {
                        return Err(Error::Build(
                            "a row's length differs from the columns".into(),
                        ));
                    }
                    let mut row = row.clone();
                    match tenant_at {
                        Some(i) => {
                            // INVARIANT: a caller-given tenant must be the context's own.
                            match &row[i] {
                                Expr::Value(Value::String(Some(s))) if *s == own => {}
                                _ => return Err(AccessError::CrossTenant.into()),
                            }
                            row[i] = Expr::val(TENANT_SENTINEL);
                        }
                        None => row.push(Expr::val(TENANT_SENTINEL)),
                    }
                    checks.extend(reference_checks(cx, table, &self.columns, &row, tenant)?);
                    q.values(row).map_err(|e| Error::Build(e.to_string()))?;
                }
            }
        }
        if let Some(conflict) = &self.conflict {
            let (target, on) = match conflict {
                Conflict::DoNothing(target) => (target, None),
                Conflict::Update { target, update } => (target, Some(update)),
            };
            let mut cols = vec![tc.to_owned()];
            cols.extend(target.iter().filter(|c| *c != tc).cloned());
            let mut oc = OnConflict::columns(cols.iter().map(Alias::new));
            match on {
                None => {
                    if cx.backend == crate::Backend::MySql {
                        oc.do_nothing_on([Alias::new(tc)]);
                    } else {
                        oc.do_nothing();
                    }
                }
                Some(update) => {
                    if update.iter().any(|c| c == tc) {
                        return Err(Error::TenantColumnWrite(tc.to_owned()));
                    }
                    oc.update_columns(update.iter().map(Alias::new));
                }
            }
            q.on_conflict(oc);
        }
        if !self.returning.is_empty() {
            q.returning(Query::returning().columns(self.returning.iter().map(Alias::new)));
        }
        Ok((q, checks))
    }
}

/// Probes for the rows a new or changed row references; each must exist in
/// the same tenant.
fn reference_checks(
    cx: &mut BuildCx<'_>,
    table: &TableDef,
    columns: &[String],
    row: &[Expr],
    tenant: TenantId,
) -> Result<Vec<ReferenceCheck>> {
    let mut out = Vec::new();
    for fk in table.foreign_keys() {
        let parent = cx.schema.table(&fk.parent)?;
        if !parent.is_tenant() {
            continue;
        }
        let mut probe = Select::from(&fk.parent).expr(Expr::val(1)).limit(1);
        let mut complete = true;
        for (c, pc) in fk.columns.iter().zip(&fk.parent_columns) {
            match columns.iter().position(|x| x == c).map(|i| &row[i]) {
                // A NULL reference points nowhere; nothing to check.
                Some(Expr::Value(v)) if is_null(v) => complete = false,
                Some(Expr::Value(v)) => probe = probe.filter(col(&fk.parent, pc).eq(v.clone())),
                _ => complete = false,
            }
        }
        if complete {
            let mut pcx = BuildCx::new(cx.schema, cx.backend);
            let q = probe.build(&mut pcx)?;
            let probe = Prepared::finish(
                super::select::render_select(&q, cx.backend),
                cx.backend,
                pcx.selects,
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

impl Statement for Insert {
    fn prepare(&self, schema: &Schema, backend: Backend, ctx: &TenantContext) -> Result<Prepared> {
        let tenant = ctx.require_tenant()?;
        let mut cx = BuildCx::new(schema, backend);
        let (q, checks) = self.build(&mut cx, tenant)?;
        let out = match backend {
            Backend::Postgres => q.build(PostgresQueryBuilder),
            Backend::MySql => q.build(MysqlQueryBuilder),
            Backend::Sqlite => q.build(SqliteQueryBuilder),
        };
        Prepared::finish(out, backend, cx.selects, tenant, true, checks)
    }
}

/// An UPDATE restricted to the context's tenant; the tenant column cannot be
/// set, and references set to plain values are checked like an insert's.
#[derive(Debug, Clone)]
#[must_use]
pub struct Update {
    table: String,
    sets: Vec<(String, Expr)>,
    filters: Vec<UpdateFilter>,
}

#[derive(Debug, Clone)]
enum UpdateFilter {
    Cond(Condition),
    In {
        negate: bool,
        expr: Expr,
        sub: Box<Select>,
    },
    Exists {
        negate: bool,
        sub: Box<Select>,
    },
}

fn build_filters(
    filters: &[UpdateFilter],
    cx: &mut BuildCx<'_>,
    mut cond: Condition,
) -> Result<Condition> {
    for f in filters {
        cond = cond.add(match f {
            UpdateFilter::Cond(c) => c.clone(),
            UpdateFilter::In { negate, expr, sub } => {
                let sub = sub.build(cx)?;
                if *negate {
                    expr.clone().not_in_subquery(sub).into_condition()
                } else {
                    expr.clone().in_subquery(sub).into_condition()
                }
            }
            UpdateFilter::Exists { negate, sub } => {
                let sub = sub.build(cx)?;
                if *negate {
                    Expr::not_exists(sub).into_condition()
                } else {
                    Expr::exists(sub).into_condition()
                }
            }
        });
    }
    Ok(cond)
}

macro_rules! filter_methods {
    () => {
        /// Adds a condition, combined with `AND` under the tenant predicate.
        pub fn filter(mut self, cond: impl IntoCondition) -> Self {
            self.filters.push(UpdateFilter::Cond(cond.into_condition()));
            self
        }

        /// `AND expr IN (subquery)`; the subquery is scoped too.
        pub fn filter_in(mut self, expr: impl Into<Expr>, sub: Select) -> Self {
            self.filters.push(UpdateFilter::In {
                negate: false,
                expr: expr.into(),
                sub: Box::new(sub),
            });
            self
        }

        /// `AND expr NOT IN (subquery)`; the subquery is scoped too.
        pub fn filter_not_in(mut self, expr: impl Into<Expr>, sub: Select) -> Self {
            self.filters.push(UpdateFilter::In {
                negate: true,
                expr: expr.into(),
                sub: Box::new(sub),
            });
            self
        }

        /// `AND EXISTS (subquery)`; the subquery is scoped too.
        pub fn filter_exists(mut self, sub: Select) -> Self {
            self.filters.push(UpdateFilter::Exists {
                negate: false,
                sub: Box::new(sub),
            });
            self
        }

        /// `AND NOT EXISTS (subquery)`; the subquery is scoped too.
        pub fn filter_not_exists(mut self, sub: Select) -> Self {
            self.filters.push(UpdateFilter::Exists {
                negate: true,
                sub: Box::new(sub),
            });
            self
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
        tenant: TenantId,
    ) -> Result<(UpdateStatement, Vec<ReferenceCheck>)> {
        let Some(table) = cx.resolve(&self.table, Access::Write)? else {
            return Err(Error::GlobalTableWrite(self.table.clone()));
        };
        let tc = table.tenant_column();
        if self.sets.is_empty() {
            return Err(Error::Unsupported("an update without SET"));
        }
        if self.sets.iter().any(|(c, _)| c == tc) {
            return Err(Error::TenantColumnWrite(tc.to_owned()));
        }
        let columns: Vec<String> = self.sets.iter().map(|(c, _)| c.clone()).collect();
        let row: Vec<Expr> = self.sets.iter().map(|(_, e)| e.clone()).collect();
        let checks = reference_checks(cx, table, &columns, &row, tenant)?;
        let mut q = Query::update();
        q.table(table.static_name());
        for (c, e) in &self.sets {
            q.value(Alias::new(c), e.clone());
        }
        let cond = Condition::all().add(tenant_predicate(
            table.static_name().into(),
            table.static_tenant_column(),
        ));
        q.cond_where(build_filters(&self.filters, cx, cond)?);
        Ok((q, checks))
    }
}

impl Statement for Update {
    fn prepare(&self, schema: &Schema, backend: Backend, ctx: &TenantContext) -> Result<Prepared> {
        let tenant = ctx.require_tenant()?;
        let mut cx = BuildCx::new(schema, backend);
        let (q, checks) = self.build(&mut cx, tenant)?;
        let out = match backend {
            Backend::Postgres => q.build(PostgresQueryBuilder),
            Backend::MySql => q.build(MysqlQueryBuilder),
            Backend::Sqlite => q.build(SqliteQueryBuilder),
        };
        Prepared::finish(out, backend, cx.selects, tenant, true, checks)
    }
}

/// A DELETE restricted to the context's tenant.
#[derive(Debug, Clone)]
#[must_use]
pub struct Delete {
    table: String,
    filters: Vec<UpdateFilter>,
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

    fn build(&self, cx: &mut BuildCx<'_>) -> Result<DeleteStatement> {
        let Some(table) = cx.resolve(&self.table, Access::Write)? else {
            return Err(Error::GlobalTableWrite(self.table.clone()));
        };
        let mut q = Query::delete();
        q.from_table(table.static_name());
        let cond = Condition::all().add(tenant_predicate(
            table.static_name().into(),
            table.static_tenant_column(),
        ));
        q.cond_where(build_filters(&self.filters, cx, cond)?);
        Ok(q)
    }
}

impl Statement for Delete {
    fn prepare(&self, schema: &Schema, backend: Backend, ctx: &TenantContext) -> Result<Prepared> {
        let tenant = ctx.require_tenant()?;
        let mut cx = BuildCx::new(schema, backend);
        let q = self.build(&mut cx)?;
        let out = match backend {
            Backend::Postgres => q.build(PostgresQueryBuilder),
            Backend::MySql => q.build(MysqlQueryBuilder),
            Backend::Sqlite => q.build(SqliteQueryBuilder),
        };
        Prepared::finish(out, backend, cx.selects, tenant, true, Vec::new())
    }
}
