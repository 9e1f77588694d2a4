//! Scoped SELECT.

use std::borrow::Cow;

use sea_query::{
    Asterisk, CommonTableExpression, DynIden, Expr as SqExpr, JoinType, LockType, LogicalChainOper,
    Order as SqOrder, Query, SelectStatement, UnionType, WithClause,
};
use tenancy_core::TenantContext;

use super::expr::{Expr, Node, Order};
use super::prepared::Prepared;
use super::resolve::{BuildCx, Mode, Output, conjoin};
use super::{Statement, exists, not_exists};
use crate::backend::Backend;
use crate::error::{Error, Result, UnsupportedShape};
use crate::schema::Schema;

#[derive(Debug, Clone)]
enum Source {
    Table { name: String, alias: Option<String> },
    Sub { select: Box<Select>, alias: String },
}

#[derive(Debug, Clone)]
enum Item {
    Expr(Expr, Option<String>),
    All,
    AllOf(String),
    /// The tenant, stamped into the rows of `INSERT … SELECT`.
    TenantSlot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JoinKind {
    Inner,
    Left,
}

#[derive(Debug, Clone)]
struct Join {
    kind: JoinKind,
    source: Source,
    on: Expr,
}

/// A SELECT whose every tenant table, wherever it stands, is filtered by the
/// context's tenant when the statement is prepared.
///
/// - `FROM` and inner joins: the predicate joins the `WHERE` clause or the
///   `ON` clause;
/// - `LEFT JOIN`: the predicate goes into the `ON` clause, so the join stays
///   a left join and another tenant's rows never match;
/// - subqueries (in `FROM`, joins, the select list and filters), CTEs and
///   `UNION`/`INTERSECT`/`EXCEPT` arms are scoped the same way, recursively.
///
/// Caller conditions are typed [`Expr`]s, each parenthesised and combined
/// with `AND` under the tenant predicate; no condition can loosen it. Right
/// and full outer joins cannot be written (the preserved side would escape
/// an `ON` filter).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Select {
    distinct: bool,
    items: Vec<Item>,
    from: Vec<Source>,
    joins: Vec<Join>,
    filters: Vec<Expr>,
    /// The clauses most statements never use, boxed so the builder that is
    /// moved through every call stays small.
    rest: Option<Box<Rest>>,
}

#[derive(Debug, Clone, Default)]
struct Rest {
    groups: Vec<Expr>,
    having: Vec<Expr>,
    orders: Vec<(Expr, Order)>,
    limit: Option<u64>,
    offset: Option<u64>,
    unions: Vec<(UnionType, Select)>,
    ctes: Vec<(String, Select)>,
    for_update: bool,
}

impl Select {
    /// A SELECT with no FROM clause yet.
    pub fn new() -> Self {
        // Typical statements have a handful of items, joins and filters;
        // sizing once avoids regrowing while the description is built.
        Select {
            items: Vec::with_capacity(8),
            from: Vec::with_capacity(1),
            joins: Vec::with_capacity(4),
            filters: Vec::with_capacity(4),
            ..Select::default()
        }
    }

    /// `SELECT … FROM table`.
    pub fn from(table: &str) -> Self {
        Select::new().and_from(table)
    }

    /// `SELECT … FROM table AS alias`.
    pub fn from_as(table: &str, alias: &str) -> Self {
        Select::new().and_from_as(table, alias)
    }

    /// `SELECT … FROM (subquery) AS alias`; the subquery is scoped too.
    pub fn from_subquery(sub: Select, alias: &str) -> Self {
        let mut s = Select::new();
        s.from.push(Source::Sub {
            select: Box::new(sub),
            alias: alias.to_owned(),
        });
        s
    }

    /// Adds a table to the FROM list (a cross join).
    pub fn and_from(mut self, table: &str) -> Self {
        self.from.push(Source::Table {
            name: table.to_owned(),
            alias: None,
        });
        self
    }

    /// Adds an aliased table to the FROM list.
    pub fn and_from_as(mut self, table: &str, alias: &str) -> Self {
        self.from.push(Source::Table {
            name: table.to_owned(),
            alias: Some(alias.to_owned()),
        });
        self
    }

    /// Selects an unqualified column.
    pub fn column(mut self, column: &str) -> Self {
        self.items.push(Item::Expr(super::column(column), None));
        self
    }

    /// Selects unqualified columns.
    pub fn columns<'a>(mut self, columns: impl IntoIterator<Item = &'a str>) -> Self {
        for c in columns {
            self = self.column(c);
        }
        self
    }

    /// Selects `table.column`.
    pub fn column_of(mut self, table: &str, column: &str) -> Self {
        self.items.push(Item::Expr(super::col(table, column), None));
        self
    }

    /// `SELECT *`.
    pub fn all(mut self) -> Self {
        self.items.push(Item::All);
        self
    }

    /// `SELECT table.*`.
    pub fn all_of(mut self, table: &str) -> Self {
        self.items.push(Item::AllOf(table.to_owned()));
        self
    }

    /// Selects an expression.
    pub fn expr(mut self, expr: impl Into<Expr>) -> Self {
        self.items.push(Item::Expr(expr.into(), None));
        self
    }

    /// Selects an expression under a name (folded to lowercase).
    pub fn expr_as(mut self, expr: impl Into<Expr>, alias: &str) -> Self {
        self.items
            .push(Item::Expr(expr.into(), Some(alias.to_owned())));
        self
    }

    /// Selects a scalar subquery under a name; the subquery is scoped too.
    pub fn subquery_as(self, sub: Select, alias: &str) -> Self {
        self.expr_as(super::scalar(sub), alias)
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    fn join(mut self, kind: JoinKind, source: Source, on: Expr) -> Self {
        self.joins.push(Join { kind, source, on });
        self
    }

    fn table(name: &str, alias: Option<&str>) -> Source {
        Source::Table {
            name: name.to_owned(),
            alias: alias.map(str::to_owned),
        }
    }

    /// `INNER JOIN table ON …`.
    pub fn inner_join(self, table: &str, on: impl Into<Expr>) -> Self {
        self.join(JoinKind::Inner, Self::table(table, None), on.into())
    }

    /// `INNER JOIN table AS alias ON …`.
    pub fn inner_join_as(self, table: &str, alias: &str, on: impl Into<Expr>) -> Self {
        self.join(JoinKind::Inner, Self::table(table, Some(alias)), on.into())
    }

    /// `LEFT JOIN table ON …`; the tenant predicate goes into the ON clause.
    pub fn left_join(self, table: &str, on: impl Into<Expr>) -> Self {
        self.join(JoinKind::Left, Self::table(table, None), on.into())
    }

    /// `LEFT JOIN table AS alias ON …`.
    pub fn left_join_as(self, table: &str, alias: &str, on: impl Into<Expr>) -> Self {
        self.join(JoinKind::Left, Self::table(table, Some(alias)), on.into())
    }

    /// `INNER JOIN (subquery) AS alias ON …`.
    pub fn inner_join_subquery(self, sub: Select, alias: &str, on: impl Into<Expr>) -> Self {
        let source = Source::Sub {
            select: Box::new(sub),
            alias: alias.to_owned(),
        };
        self.join(JoinKind::Inner, source, on.into())
    }

    /// `LEFT JOIN (subquery) AS alias ON …`.
    pub fn left_join_subquery(self, sub: Select, alias: &str, on: impl Into<Expr>) -> Self {
        let source = Source::Sub {
            select: Box::new(sub),
            alias: alias.to_owned(),
        };
        self.join(JoinKind::Left, source, on.into())
    }

    /// Adds a condition, combined with `AND`.
    pub fn filter(mut self, cond: impl Into<Expr>) -> Self {
        self.filters.push(cond.into());
        self
    }

    /// `AND EXISTS (subquery)`.
    pub fn filter_exists(self, sub: Select) -> Self {
        self.filter(exists(sub))
    }

    /// `AND NOT EXISTS (subquery)`.
    pub fn filter_not_exists(self, sub: Select) -> Self {
        self.filter(not_exists(sub))
    }

    /// `AND expr IN (subquery)`.
    pub fn filter_in(self, expr: impl Into<Expr>, sub: Select) -> Self {
        self.filter(expr.into().in_subquery(sub))
    }

    /// `AND expr NOT IN (subquery)`.
    pub fn filter_not_in(self, expr: impl Into<Expr>, sub: Select) -> Self {
        self.filter(expr.into().not_in_subquery(sub))
    }

    /// `GROUP BY expr`.
    pub fn group_by(mut self, expr: impl Into<Expr>) -> Self {
        self.rest().groups.push(expr.into());
        self
    }

    /// `HAVING cond`, combined with `AND`.
    pub fn having(mut self, cond: impl Into<Expr>) -> Self {
        self.rest().having.push(cond.into());
        self
    }

    /// `ORDER BY expr`.
    pub fn order_by(mut self, expr: impl Into<Expr>, order: Order) -> Self {
        self.rest().orders.push((expr.into(), order));
        self
    }

    /// `LIMIT n`.
    pub fn limit(mut self, n: u64) -> Self {
        self.rest().limit = Some(n);
        self
    }

    /// `OFFSET n`.
    pub fn offset(mut self, n: u64) -> Self {
        self.rest().offset = Some(n);
        self
    }

    /// `FOR UPDATE`: lock the rows read until the transaction ends
    /// (PostgreSQL and MySQL; SQLite locks the whole database on write and
    /// renders nothing).
    pub fn for_update(mut self) -> Self {
        self.rest().for_update = true;
        self
    }

    /// `UNION other` (distinct rows); `other` is scoped too.
    pub fn union(mut self, other: Select) -> Self {
        self.rest().unions.push((UnionType::Distinct, other));
        self
    }

    /// `UNION ALL other`.
    pub fn union_all(mut self, other: Select) -> Self {
        self.rest().unions.push((UnionType::All, other));
        self
    }

    /// `INTERSECT other`.
    pub fn intersect(mut self, other: Select) -> Self {
        self.rest().unions.push((UnionType::Intersect, other));
        self
    }

    /// `EXCEPT other`.
    pub fn except(mut self, other: Select) -> Self {
        self.rest().unions.push((UnionType::Except, other));
        self
    }

    /// `WITH name AS (sub)`: `name` may then be used as a table here and in
    /// nested statements. The CTE body is scoped too. A CTE may not take the
    /// name of a registered table.
    pub fn with_cte(mut self, name: &str, sub: Select) -> Self {
        self.rest().ctes.push((name.to_owned(), sub));
        self
    }

    fn rest(&mut self) -> &mut Rest {
        self.rest.get_or_insert_with(Box::default)
    }

    /// Appends the tenant to this select's items and to every set-operation
    /// arm (INSERT … SELECT stamps the tenant this way).
    pub(crate) fn push_tenant_everywhere(&mut self) {
        self.items.push(Item::TenantSlot);
        if let Some(rest) = &mut self.rest {
            for (_, arm) in &mut rest.unions {
                arm.push_tenant_everywhere();
            }
        }
    }

    /// True when the select has clauses that belong to it alone as a
    /// set-operation arm (ORDER BY, LIMIT, OFFSET, a CTE, its own arms).
    fn has_own_tail(&self) -> bool {
        self.rest.as_ref().is_some_and(|r| {
            !r.orders.is_empty()
                || r.limit.is_some()
                || r.offset.is_some()
                || !r.ctes.is_empty()
                || !r.unions.is_empty()
        })
    }

    /// How many items the select list has (for INSERT … SELECT).
    pub(crate) fn width(&self) -> usize {
        self.items.len()
    }

    /// Renders the description, consuming it so no expression is copied.
    pub(crate) fn build_owned(self, cx: &mut BuildCx<'_>) -> Result<SelectStatement> {
        cx.push_frame()?;
        let ctes_before = cx.cte_count();
        let out = self.build_in_frame(cx);
        cx.truncate_ctes(ctes_before);
        cx.pop_frame();
        out
    }

    fn build_in_frame(self, cx: &mut BuildCx<'_>) -> Result<SelectStatement> {
        #[cfg(feature = "mutation-testing")]
        let part = super::mutant::take_part();
        let Rest {
            groups,
            having,
            orders,
            limit,
            offset,
            unions,
            ctes,
            for_update,
        } = self.rest.map(|r| *r).unwrap_or_default();
        let mut q = Query::select();
        if !ctes.is_empty() {
            let mut with = WithClause::new();
            for (name, sub) in ctes {
                #[cfg(feature = "mutation-testing")]
                super::mutant::mark(super::mutant::Mutant::Cte);
                let (body, outputs) = cx.subquery_with_outputs(sub)?;
                let name = cx.add_cte(&name, outputs)?;
                with.cte(
                    CommonTableExpression::new()
                        .query(body)
                        .table_name(DynIden::from(name))
                        .to_owned(),
                );
            }
            q.with_cte(with);
        }
        if self.items.is_empty() {
            return Err(Error::Unsupported(UnsupportedShape::SelectWithoutColumns));
        }
        // Sources first, so the select list and conditions resolve against them.
        let mut cond: Option<SqExpr> = None;
        for src in self.from {
            match src {
                Source::Table { name, alias } => {
                    let (table, alias, predicate) = cx.add_table_source(&name, alias.as_deref())?;
                    match alias {
                        None => q.from(table),
                        Some(alias) => q.from_as(table, alias),
                    };
                    if let Some(p) = predicate {
                        #[cfg(feature = "mutation-testing")]
                        if super::mutant::drops(part) {
                            continue;
                        }
                        cond = Some(conjoin(cond, p));
                    }
                }
                Source::Sub { select, alias } => {
                    let (sub, outputs) = cx.subquery_with_outputs(*select)?;
                    let alias = cx.add_derived_source(&alias, outputs)?;
                    q.from_subquery(sub, alias);
                }
            }
        }
        if !self.joins.is_empty() && cx.source_count() == 0 {
            return Err(Error::Unsupported(UnsupportedShape::JoinWithoutFrom));
        }
        // A join attaches to the last FROM item: its ON sees that item and
        // the joins up to itself, nothing listed before it with a comma.
        let last_from = cx.source_count().saturating_sub(1);
        for join in self.joins {
            let kind = match join.kind {
                JoinKind::Inner => JoinType::InnerJoin,
                JoinKind::Left => JoinType::LeftJoin,
            };
            match join.source {
                Source::Table { name, alias } => {
                    let (table, alias, predicate) = cx.add_table_source(&name, alias.as_deref())?;
                    #[cfg(feature = "mutation-testing")]
                    let predicate =
                        predicate.filter(|_| !super::mutant::drops(super::mutant::Mutant::JoinOn));
                    let on = Self::join_condition(cx, last_from, predicate, join.on)?;
                    match alias {
                        None => q.join(kind, table, on),
                        Some(alias) => q.join_as(kind, table, alias, on),
                    };
                }
                Source::Sub { select, alias } => {
                    let (sub, outputs) = cx.subquery_with_outputs(*select)?;
                    let alias = cx.add_derived_source(&alias, outputs)?;
                    let on = Self::join_condition(cx, last_from, None, join.on)?;
                    q.join_subquery(kind, sub, alias, on);
                }
            }
        }
        let mut items = self.items;
        for item in &mut items {
            if let Item::Expr(_, Some(alias)) = item {
                // Canonical from here on: recorded for ORDER BY, then
                // rendered and named in the outputs as it is.
                *alias = cx.add_output(std::mem::take(alias))?;
            }
        }
        let mut outputs = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Item::Expr(e, alias) => {
                    match (&e.node, &alias) {
                        (Node::Column(c), _) => {
                            outputs.push(cx.column_output(c, alias.as_deref())?)
                        }
                        (_, Some(alias)) => outputs.push(Output {
                            name: Cow::Owned(alias.clone()),
                            tenant: false,
                        }),
                        (_, None) => {}
                    }
                    let e = cx.lower(e)?;
                    match alias {
                        None => q.expr(e),
                        Some(alias) => q.expr_as(e, DynIden::from(alias)),
                    };
                }
                Item::All => {
                    cx.star_outputs(&mut outputs);
                    q.column(Asterisk);
                }
                Item::AllOf(t) => {
                    let source = cx.star_of(&t, &mut outputs)?;
                    q.column((source, Asterisk));
                }
                Item::TenantSlot => {
                    if cx.mode != Mode::Tenant {
                        return Err(Error::Unsupported(
                            UnsupportedShape::TenantStampOutsideTenantStatement,
                        ));
                    }
                    let stamp = BuildCx::tenant_slot();
                    #[cfg(feature = "mutation-testing")]
                    let stamp = super::mutant::stamp(stamp);
                    q.expr(stamp);
                }
            }
        }
        if self.distinct {
            q.distinct();
        }
        // INVARIANT: caller filters are typed expressions, each ANDed under
        // the tenant predicates in one expression (see `conjoin`); none
        // carries SQL text, so none can close the parenthesis it is written
        // in.
        for f in self.filters {
            cond = Some(conjoin(cond, cx.lower(f)?));
        }
        if let Some(cond) = cond {
            // One term, so sea-query writes it as it is (no copy of the tree).
            q.and_or_where(LogicalChainOper::And(cond));
        }
        if !groups.is_empty() {
            let groups = groups
                .into_iter()
                .map(|g| cx.lower(g))
                .collect::<Result<Vec<SqExpr>>>()?;
            q.add_group_by(groups);
        }
        let mut h = None;
        for c in having {
            h = Some(conjoin(h, cx.lower(c)?));
        }
        if let Some(h) = h {
            q.and_having(h);
        }
        for (e, o) in orders {
            let o = match o {
                Order::Asc => SqOrder::Asc,
                Order::Desc => SqOrder::Desc,
            };
            q.order_by_expr(cx.lower(e)?, o);
        }
        if let Some(l) = limit {
            q.limit(l);
        }
        if let Some(o) = offset {
            if limit.is_none() && cx.backend != Backend::Postgres {
                return Err(Error::Unsupported(UnsupportedShape::OffsetWithoutLimit));
            }
            q.offset(o);
        }
        if for_update {
            q.lock(LockType::Update);
        }
        for (ty, arm) in unions {
            if cx.backend != Backend::Postgres && arm.has_own_tail() {
                // SQLite and MySQL take a set-operation arm without
                // parentheses, so its own ORDER BY, LIMIT or CTE would apply
                // to the whole statement or not parse.
                return Err(Error::Unsupported(UnsupportedShape::SetOperationArmClauses));
            }
            #[cfg(feature = "mutation-testing")]
            super::mutant::mark(super::mutant::Mutant::SetArm);
            let arm = cx.subquery(arm)?;
            q.union(ty, arm);
        }
        // Set last, after every nested select, so the caller of this level
        // reads this select's own output names.
        cx.set_outputs(outputs);
        Ok(q)
    }

    /// The ON clause of the join just added: its tenant predicate first,
    /// the caller's condition ANDed under it, resolved against only the
    /// sources SQL puts in the join's scope.
    fn join_condition(
        cx: &mut BuildCx<'_>,
        last_from: usize,
        predicate: Option<SqExpr>,
        on: Expr,
    ) -> Result<SqExpr> {
        // INVARIANT: the tenant predicate of a joined table lives in its ON
        // clause, so a LEFT JOIN keeps its meaning and never matches
        // another tenant's row; the caller's ON is ANDed under it.
        cx.open_on_window(last_from)?;
        let on = cx.lower(on);
        cx.close_on_window();
        Ok(conjoin(predicate, on?))
    }
}

impl Statement for Select {
    fn prepare(&self, schema: &Schema, backend: Backend, ctx: &TenantContext) -> Result<Prepared> {
        self.clone().prepare_owned(schema, backend, ctx)
    }

    fn prepare_owned(
        self,
        schema: &Schema,
        backend: Backend,
        ctx: &TenantContext,
    ) -> Result<Prepared> {
        let tenant = ctx.require_tenant()?;
        let mut cx = BuildCx::new(schema, backend, Mode::Tenant);
        #[cfg(feature = "mutation-testing")]
        super::mutant::mark(super::mutant::Mutant::Where);
        let q = self.build_owned(&mut cx)?;
        let watched = cx.tenant_outputs();
        Ok(Prepared::finish(
            backend.render(&q),
            schema,
            backend,
            tenant,
            false,
            Vec::new(),
        )?
        .watching(watched))
    }
}

impl super::sealed::Sealed for Select {
    fn render_system(&self, schema: &Schema, backend: Backend) -> Result<super::Rendered> {
        let mut cx = BuildCx::new(schema, backend, Mode::System);
        let q = self.clone().build_owned(&mut cx)?;
        Ok(backend.render(&q))
    }
}
