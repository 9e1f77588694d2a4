//! Scoped SELECT.

use sea_query::{
    Alias, Asterisk, CommonTableExpression, Condition, DynIden, Expr, ExprTrait, IntoCondition,
    JoinType, MysqlQueryBuilder, Order, PostgresQueryBuilder, Query, SelectStatement,
    SqliteQueryBuilder, UnionType, WithClause,
};
use tenancy_core::TenantContext;

use super::prepared::Prepared;
use super::{Access, BuildCx, Statement, tenant_predicate};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::schema::Schema;

#[derive(Debug, Clone)]
enum Source {
    Table { name: String, alias: Option<String> },
    Sub { select: Box<Select>, alias: String },
}

#[derive(Debug, Clone)]
enum Item {
    Expr(Expr, Option<String>),
    Sub(Box<Select>, String),
    All,
    AllOf(String),
}

#[derive(Debug, Clone)]
enum Filter {
    Cond(Condition),
    Exists {
        negate: bool,
        sub: Box<Select>,
    },
    In {
        negate: bool,
        expr: Expr,
        sub: Box<Select>,
    },
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
    on: Condition,
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
/// Caller conditions are always combined with `AND` under the tenant
/// predicate; they cannot loosen it with `OR`. Right and full outer joins are
/// refused (the preserved side would escape an `ON` filter).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Select {
    distinct: bool,
    items: Vec<Item>,
    from: Vec<Source>,
    joins: Vec<Join>,
    filters: Vec<Filter>,
    /// The clauses most statements never use, boxed so the builder that is
    /// moved through every call stays small.
    rest: Option<Box<Rest>>,
}

#[derive(Debug, Clone, Default)]
struct Rest {
    groups: Vec<Expr>,
    having: Vec<Condition>,
    orders: Vec<(Expr, Order)>,
    limit: Option<u64>,
    offset: Option<u64>,
    unions: Vec<(UnionType, Select)>,
    ctes: Vec<(String, Select)>,
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
        self.items
            .push(Item::Expr(Expr::col(Alias::new(column)), None));
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

    /// Selects an expression under a name.
    pub fn expr_as(mut self, expr: impl Into<Expr>, alias: &str) -> Self {
        self.items
            .push(Item::Expr(expr.into(), Some(alias.to_owned())));
        self
    }

    /// Selects a scalar subquery under a name; the subquery is scoped too.
    pub fn subquery_as(mut self, sub: Select, alias: &str) -> Self {
        self.items.push(Item::Sub(Box::new(sub), alias.to_owned()));
        self
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    fn join(mut self, kind: JoinKind, source: Source, on: impl IntoCondition) -> Self {
        self.joins.push(Join {
            kind,
            source,
            on: on.into_condition(),
        });
        self
    }

    /// `INNER JOIN table ON …`.
    pub fn inner_join(self, table: &str, on: impl IntoCondition) -> Self {
        let source = Source::Table {
            name: table.to_owned(),
            alias: None,
        };
        self.join(JoinKind::Inner, source, on)
    }

    /// `INNER JOIN table AS alias ON …`.
    pub fn inner_join_as(self, table: &str, alias: &str, on: impl IntoCondition) -> Self {
        let source = Source::Table {
            name: table.to_owned(),
            alias: Some(alias.to_owned()),
        };
        self.join(JoinKind::Inner, source, on)
    }

    /// `LEFT JOIN table ON …`; the tenant predicate goes into the ON clause.
    pub fn left_join(self, table: &str, on: impl IntoCondition) -> Self {
        let source = Source::Table {
            name: table.to_owned(),
            alias: None,
        };
        self.join(JoinKind::Left, source, on)
    }

    /// `LEFT JOIN table AS alias ON …`.
    pub fn left_join_as(self, table: &str, alias: &str, on: impl IntoCondition) -> Self {
        let source = Source::Table {
            name: table.to_owned(),
            alias: Some(alias.to_owned()),
        };
        self.join(JoinKind::Left, source, on)
    }

    /// `INNER JOIN (subquery) AS alias ON …`.
    pub fn inner_join_subquery(self, sub: Select, alias: &str, on: impl IntoCondition) -> Self {
        let source = Source::Sub {
            select: Box::new(sub),
            alias: alias.to_owned(),
        };
        self.join(JoinKind::Inner, source, on)
    }

    /// `LEFT JOIN (subquery) AS alias ON …`.
    pub fn left_join_subquery(self, sub: Select, alias: &str, on: impl IntoCondition) -> Self {
        let source = Source::Sub {
            select: Box::new(sub),
            alias: alias.to_owned(),
        };
        self.join(JoinKind::Left, source, on)
    }

    /// Adds a condition, combined with `AND`.
    pub fn filter(mut self, cond: impl IntoCondition) -> Self {
        self.filters.push(Filter::Cond(cond.into_condition()));
        self
    }

    /// `AND EXISTS (subquery)`.
    pub fn filter_exists(mut self, sub: Select) -> Self {
        self.filters.push(Filter::Exists {
            negate: false,
            sub: Box::new(sub),
        });
        self
    }

    /// `AND NOT EXISTS (subquery)`.
    pub fn filter_not_exists(mut self, sub: Select) -> Self {
        self.filters.push(Filter::Exists {
            negate: true,
            sub: Box::new(sub),
        });
        self
    }

    /// `AND expr IN (subquery)`.
    pub fn filter_in(mut self, expr: impl Into<Expr>, sub: Select) -> Self {
        self.filters.push(Filter::In {
            negate: false,
            expr: expr.into(),
            sub: Box::new(sub),
        });
        self
    }

    /// `AND expr NOT IN (subquery)`.
    pub fn filter_not_in(mut self, expr: impl Into<Expr>, sub: Select) -> Self {
        self.filters.push(Filter::In {
            negate: true,
            expr: expr.into(),
            sub: Box::new(sub),
        });
        self
    }

    /// `GROUP BY expr`.
    pub fn group_by(mut self, expr: impl Into<Expr>) -> Self {
        self.rest().groups.push(expr.into());
        self
    }

    /// `HAVING cond`, combined with `AND`.
    pub fn having(mut self, cond: impl IntoCondition) -> Self {
        self.rest().having.push(cond.into_condition());
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
    /// nested statements. The CTE body is scoped too.
    pub fn with_cte(mut self, name: &str, sub: Select) -> Self {
        self.rest().ctes.push((name.to_owned(), sub));
        self
    }

    fn rest(&mut self) -> &mut Rest {
        self.rest.get_or_insert_with(Box::default)
    }

    /// Appends `expr` to this select's items and to every set-operation arm
    /// (INSERT … SELECT stamps the tenant this way).
    pub(crate) fn push_item_everywhere(&mut self, expr: Expr) {
        self.items.push(Item::Expr(expr.clone(), None));
        if let Some(rest) = &mut self.rest {
            for (_, arm) in &mut rest.unions {
                arm.push_item_everywhere(expr.clone());
            }
        }
    }

    fn build_source(src: Source, cx: &mut BuildCx<'_>) -> Result<(SourceRef, Option<Expr>)> {
        match src {
            Source::Table { name, alias } => {
                let table = cx.resolve(&name, Access::Read)?;
                // A registered table is written under the schema's interned
                // name (nothing copied); a CTE under the caller's.
                let iden = match table {
                    Some(t) => DynIden::from(t.static_name()),
                    None => DynIden::from(name),
                };
                let alias = alias.map(DynIden::from);
                let predicate = match table {
                    Some(t) if t.is_tenant() => Some(tenant_predicate(
                        alias.as_ref().unwrap_or(&iden).clone(),
                        t.static_tenant_column(),
                    )),
                    _ => None,
                };
                Ok((SourceRef::Table(iden, alias), predicate))
            }
            Source::Sub { select, alias } => {
                let sub = select.build_owned(cx)?;
                Ok((SourceRef::Sub(Box::new(sub), DynIden::from(alias)), None))
            }
        }
    }

    pub(crate) fn build(&self, cx: &mut BuildCx<'_>) -> Result<SelectStatement> {
        self.clone().build_owned(cx)
    }

    /// Renders the description, consuming it so no expression is copied.
    pub(crate) fn build_owned(self, cx: &mut BuildCx<'_>) -> Result<SelectStatement> {
        cx.selects += 1;
        let Rest {
            groups,
            having,
            orders,
            limit,
            offset,
            unions,
            ctes,
        } = self.rest.map(|r| *r).unwrap_or_default();
        let mut q = Query::select();
        let ctes_before = cx.ctes.len();
        if !ctes.is_empty() {
            let mut with = WithClause::new();
            for (name, sub) in ctes {
                let body = sub.build_owned(cx)?;
                with.cte(
                    CommonTableExpression::new()
                        .query(body)
                        .table_name(Alias::new(&name))
                        .to_owned(),
                );
                cx.ctes.push(name);
            }
            q.with_cte(with);
        }
        if self.items.is_empty() {
            return Err(Error::Unsupported("a select needs at least one column"));
        }
        for item in self.items {
            match item {
                Item::Expr(e, None) => {
                    q.expr(e);
                }
                Item::Expr(e, Some(alias)) => {
                    q.expr_as(e, Alias::new(alias));
                }
                Item::Sub(sub, alias) => {
                    let sub = sub.build_owned(cx)?;
                    q.expr_as(
                        Expr::SubQuery(None, Box::new(sub.into())),
                        Alias::new(alias),
                    );
                }
                Item::All => {
                    q.column(Asterisk);
                }
                Item::AllOf(t) => {
                    q.column((Alias::new(t), Asterisk));
                }
            }
        }
        if self.distinct {
            q.distinct();
        }
        let mut cond = Condition::all();
        for src in self.from {
            let (r, predicate) = Self::build_source(src, cx)?;
            match r {
                SourceRef::Table(name, None) => q.from(name),
                SourceRef::Table(name, Some(alias)) => q.from_as(name, alias),
                SourceRef::Sub(sub, alias) => q.from_subquery(*sub, alias),
            };
            if let Some(p) = predicate {
                cond = cond.add(p);
            }
        }
        for join in self.joins {
            let (r, predicate) = Self::build_source(join.source, cx)?;
            let kind = match join.kind {
                JoinKind::Inner => JoinType::InnerJoin,
                JoinKind::Left => JoinType::LeftJoin,
            };
            // INVARIANT: the tenant predicate of a joined table lives in its ON
            // clause, so a LEFT JOIN keeps its meaning and never matches
            // another tenant's row.
            let mut on = Condition::all();
            if let Some(p) = predicate {
                on = on.add(p);
            }
            on = on.add(join.on);
            match r {
                SourceRef::Table(name, None) => q.join(kind, name, on),
                SourceRef::Table(name, Some(alias)) => q.join_as(kind, name, alias, on),
                SourceRef::Sub(sub, alias) => q.join_subquery(kind, *sub, alias, on),
            };
        }
        // INVARIANT: caller filters are ANDed under the tenant predicates in one
        // `Condition::all`, never chained where an OR could reach them.
        for f in self.filters {
            cond = cond.add(match f {
                Filter::Cond(c) => c,
                Filter::Exists { negate, sub } => {
                    let sub = sub.build_owned(cx)?;
                    if negate {
                        Expr::not_exists(sub).into_condition()
                    } else {
                        Expr::exists(sub).into_condition()
                    }
                }
                Filter::In { negate, expr, sub } => {
                    let sub = sub.build_owned(cx)?;
                    if negate {
                        expr.not_in_subquery(sub).into_condition()
                    } else {
                        expr.in_subquery(sub).into_condition()
                    }
                }
            });
        }
        if !cond.is_empty() {
            q.cond_where(cond);
        }
        if !groups.is_empty() {
            q.add_group_by(groups);
        }
        if !having.is_empty() {
            let mut h = Condition::all();
            for c in having {
                h = h.add(c);
            }
            q.cond_having(h);
        }
        for (e, o) in orders {
            q.order_by_expr(e, o);
        }
        if let Some(l) = limit {
            q.limit(l);
        }
        if let Some(o) = offset {
            q.offset(o);
        }
        for (ty, arm) in unions {
            let arm = arm.build_owned(cx)?;
            q.union(ty, arm);
        }
        cx.ctes.truncate(ctes_before);
        Ok(q)
    }
}

/// A FROM or JOIN source ready for sea-query: the table (or subquery) and
/// its alias.
enum SourceRef {
    Table(DynIden, Option<DynIden>),
    Sub(Box<SelectStatement>, DynIden),
}

pub(crate) fn render_select(q: &SelectStatement, backend: Backend) -> (String, sea_query::Values) {
    match backend {
        Backend::Postgres => q.build(PostgresQueryBuilder),
        Backend::MySql => q.build(MysqlQueryBuilder),
        Backend::Sqlite => q.build(SqliteQueryBuilder),
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
        let mut cx = BuildCx::new(schema, backend);
        let q = self.build_owned(&mut cx)?;
        Prepared::finish(
            render_select(&q, backend),
            backend,
            cx.selects,
            tenant,
            false,
            Vec::new(),
        )
    }
}
