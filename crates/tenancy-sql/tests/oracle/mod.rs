//! An independent oracle for rendered statements: a real SQL parser
//! (`sqlparser`, in the backend's own dialect) reads what the crate sends to
//! the database, and the checks below decide, from the parse tree alone,
//! whether every tenant table is confined to the statement's tenant.
//!
//! It shares nothing with the scoper but the schema: not its names, not its
//! builders, not its idea of where a predicate goes. It checks that
//!
//! - every reference to a tenant table (FROM, joins, subqueries anywhere in
//!   expressions, CTE bodies, set-operation arms, INSERT … SELECT sources,
//!   UPDATE and DELETE targets) is constrained by
//!   `<name-or-alias>.<tenant column> = <placeholder>` at the top level of
//!   the AND-conjunction of its SELECT's WHERE (FROM tables, write targets)
//!   or of its own JOIN's ON (joined tables), and that placeholder is bound
//!   to the tenant;
//! - a tenant table is never joined in a way an ON clause cannot confine
//!   (RIGHT, FULL, CROSS, NATURAL, USING), and no name is used twice in one
//!   SELECT level, so a predicate binds to exactly one source;
//! - no write sets the tenant column (UPDATE SET, upsert SET), an INSERT
//!   into a tenant table lists the tenant column exactly once with the
//!   tenant's placeholder as its value (or select item, for INSERT …
//!   SELECT), an upsert's conflict target includes the tenant column, and a
//!   MySQL `ON DUPLICATE KEY UPDATE` assignment is guarded by the tenant;
//! - only allowlisted functions are called, no CTE takes a tenant table's
//!   name, and the text is one statement.
//!
//! Every table reference the parser's visitor finds must be one the checks
//! above accounted for, so a tenant table in a place the oracle does not
//! understand is a violation, never a pass.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "test support; each test binary uses a part of it"
)]

use std::fmt;
use std::ops::ControlFlow;

use sqlparser::ast::{
    AssignmentTarget, BinaryOperator, ConflictTarget, Delete, Expr, FromTable, Ident, Insert,
    JoinConstraint, JoinOperator, ObjectName, ObjectNamePart, OnConflictAction, OnInsert, Query,
    Select, SelectItem, SetExpr, Statement, TableFactor, TableObject, TableWithJoins, Update,
    Value, Visit, Visitor,
};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use tenancy_sql::sea_query::Value as SqValue;
use tenancy_sql::{Backend, Prepared, Schema};

/// Why the oracle refused a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn violation<T>(msg: impl Into<String>) -> Result<T, Violation> {
    Err(Violation(msg.into()))
}

/// What the oracle found in an accepted statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Tenant table references, each confined by a checked predicate (or,
    /// for an INSERT target, by a checked stamp).
    pub tenant_references: usize,
}

/// Functions a scoped statement may call, by lowercase name.
const ALLOWED_FUNCTIONS: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "lower",
    "upper",
    "abs",
    "char_length",
    "length",
    "coalesce",
    "round",
    "current_timestamp",
];

/// Columns the servers keep for themselves: read through any source they
/// tell about rows of every tenant (how many, in which order), so no
/// statement may name them.
const SYSTEM_COLUMNS: &[&str] = &[
    "rowid", "_rowid_", "oid", "ctid", "xmin", "xmax", "cmin", "cmax", "tableoid",
];

/// The oracle for one schema.
#[derive(Debug, Clone)]
pub struct Oracle {
    /// Tenant tables and their tenant columns, lowercase.
    tenant_tables: Vec<(String, String)>,
}

impl Oracle {
    pub fn new(schema: &Schema) -> Oracle {
        Oracle {
            tenant_tables: schema
                .tables()
                .filter(|t| t.is_tenant())
                .map(|t| {
                    (
                        t.name().to_ascii_lowercase(),
                        t.tenant_column().to_ascii_lowercase(),
                    )
                })
                .collect(),
        }
    }

    /// Checks a prepared statement: its text, in its backend's dialect,
    /// against its bound values and tenant.
    pub fn check(&self, prepared: &Prepared) -> Result<Verdict, Violation> {
        self.check_sql(
            prepared.backend(),
            prepared.sql(),
            &prepared.values(),
            &prepared.tenant().to_string(),
        )
    }

    /// Checks SQL text rendered for `backend`, with the values bound to its
    /// placeholders in order, for `tenant`.
    pub fn check_sql(
        &self,
        backend: Backend,
        sql: &str,
        values: &[SqValue],
        tenant: &str,
    ) -> Result<Verdict, Violation> {
        let statements = parse(backend, sql)?;
        let [statement] = statements.as_slice() else {
            return violation(format!("{} statements, expected one", statements.len()));
        };
        let mut walk = Walk {
            oracle: self,
            backend,
            values,
            tenant,
            relations: 0,
            confined: 0,
            error: None,
        };
        // The visitor reaches every query, statement, relation and
        // expression, however deeply nested; the checks run on each.
        let _ = statement.visit(&mut walk);
        if let Some(v) = walk.error {
            return Err(v);
        }
        if walk.relations != walk.confined {
            return violation(format!(
                "{} tenant table references, {} of them confined: one stands where no \
                 predicate was found for it",
                walk.relations, walk.confined
            ));
        }
        Ok(Verdict {
            tenant_references: walk.confined,
        })
    }

    /// The tenant column of `name` when it names a tenant table (compared
    /// without case, so every spelling a server might fold counts).
    fn tenant_column(&self, name: &ObjectName) -> Option<&str> {
        let last = last_part(name)?;
        self.tenant_tables
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(&last.value))
            .map(|(_, c)| c.as_str())
    }
}

fn dialect(backend: Backend) -> Result<Box<dyn Dialect>, Violation> {
    match backend {
        Backend::Postgres => Ok(Box::new(PostgreSqlDialect {})),
        Backend::MySql => Ok(Box::new(MySqlDialect {})),
        Backend::Sqlite => Ok(Box::new(SQLiteDialect {})),
        other => violation(format!("no dialect for {other:?}")),
    }
}

/// Parses `sql`; positional `?` placeholders are numbered `?1`, `?2`, … in
/// text order first, so each maps to its bound value.
fn parse(backend: Backend, sql: &str) -> Result<Vec<Statement>, Violation> {
    let dialect = dialect(backend)?;
    let mut tokens = Tokenizer::new(&*dialect, sql)
        .tokenize()
        .map_err(|e| Violation(format!("does not tokenize: {e}: {sql}")))?;
    if backend != Backend::Postgres {
        let mut n = 0;
        for token in &mut tokens {
            if let Token::Placeholder(p) = token {
                if p == "?" {
                    n += 1;
                    *p = format!("?{n}");
                } else {
                    return violation(format!("unexpected placeholder `{p}`"));
                }
            }
        }
    }
    Parser::new(&*dialect)
        .with_tokens(tokens)
        .parse_statements()
        .map_err(|e| Violation(format!("does not parse: {e}: {sql}")))
}

fn last_part(name: &ObjectName) -> Option<&Ident> {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(i)) => Some(i),
        _ => None,
    }
}

struct Walk<'a> {
    oracle: &'a Oracle,
    backend: Backend,
    values: &'a [SqValue],
    tenant: &'a str,
    /// Tenant table references the visitor met.
    relations: usize,
    /// Tenant table references the checks confined.
    confined: usize,
    error: Option<Violation>,
}

impl Visitor for Walk<'_> {
    type Break = ();

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<()> {
        let outcome = match statement {
            Statement::Query(_) => Ok(()),
            Statement::Insert(insert) => self.insert(insert),
            Statement::Update(update) => self.update(update),
            Statement::Delete(delete) => self.delete(delete),
            other => violation(format!("not a scoped statement: {other}")),
        };
        self.outcome(outcome)
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let outcome = self.query(query);
        self.outcome(outcome)
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        if self.oracle.tenant_column(relation).is_some() {
            self.relations += 1;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        let outcome = match expr {
            Expr::Identifier(i) if is_system_column(i) => violation(format!("system column `{i}`")),
            Expr::CompoundIdentifier(parts) if parts.last().is_some_and(is_system_column) => {
                violation(format!(
                    "system column `{}`",
                    Expr::CompoundIdentifier(parts.clone())
                ))
            }
            Expr::Function(f) => {
                let name = last_part(&f.name)
                    .map(|i| i.value.to_ascii_lowercase())
                    .unwrap_or_default();
                let mysql_values = self.backend == Backend::MySql && name == "values";
                if ALLOWED_FUNCTIONS.contains(&name.as_str()) || mysql_values {
                    Ok(())
                } else {
                    violation(format!("function `{}` is not allowlisted", f.name))
                }
            }
            _ => Ok(()),
        };
        self.outcome(outcome)
    }
}

impl Walk<'_> {
    fn outcome(&mut self, outcome: Result<(), Violation>) -> ControlFlow<()> {
        match outcome {
            Ok(()) => ControlFlow::Continue(()),
            Err(v) => {
                self.error = Some(v);
                ControlFlow::Break(())
            }
        }
    }

    /// Two identifiers name the same thing (PostgreSQL keeps the case of a
    /// quoted name; the others compare without case).
    fn same(&self, a: &Ident, b: &Ident) -> bool {
        match (self.backend, a.quote_style, b.quote_style) {
            (Backend::Postgres, Some(_), Some(_)) => a.value == b.value,
            _ => a.value.eq_ignore_ascii_case(&b.value),
        }
    }

    /// True when the placeholder `p` is bound to the tenant.
    fn bound_to_tenant(&self, p: &str) -> Result<(), Violation> {
        let index: usize = p
            .trim_start_matches(['$', '?'])
            .parse()
            .map_err(|_| Violation(format!("placeholder `{p}` has no position")))?;
        match index.checked_sub(1).and_then(|i| self.values.get(i)) {
            Some(SqValue::String(Some(s))) if s == self.tenant => Ok(()),
            Some(other) => violation(format!(
                "placeholder `{p}`, where the tenant belongs, is bound to {other:?}, not the tenant"
            )),
            None => violation(format!("placeholder `{p}` has no bound value")),
        }
    }

    fn placeholder<'e>(&self, e: &'e Expr) -> Option<&'e str> {
        match strip(e) {
            Expr::Value(v) => match &v.value {
                Value::Placeholder(p) => Some(p),
                _ => None,
            },
            _ => None,
        }
    }

    /// True when `e` is `<qualifier>.<column> = <tenant placeholder>` (either
    /// way round); a predicate bound to another value is a violation.
    fn is_predicate(
        &self,
        e: &Expr,
        qualifier: Option<&Ident>,
        column: &str,
    ) -> Result<bool, Violation> {
        let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = strip(e)
        else {
            return Ok(false);
        };
        for (c, p) in [(left, right), (right, left)] {
            let names_column = match (strip(c), qualifier) {
                (Expr::CompoundIdentifier(parts), Some(q)) => {
                    parts.len() == 2
                        && self.same(&parts[0], q)
                        && parts[1].value.eq_ignore_ascii_case(column)
                }
                (Expr::Identifier(i), None) => i.value.eq_ignore_ascii_case(column),
                _ => false,
            };
            if let (true, Some(p)) = (names_column, self.placeholder(p)) {
                self.bound_to_tenant(p)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// True when the top-level AND-conjunction of `cond` holds the tenant
    /// predicate of the source named `name`.
    fn confined_by(
        &self,
        cond: Option<&Expr>,
        name: &Ident,
        column: &str,
    ) -> Result<bool, Violation> {
        let mut conjuncts = Vec::new();
        if let Some(c) = cond {
            conjunction(c, &mut conjuncts);
        }
        for c in conjuncts {
            if self.is_predicate(c, Some(name), column)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn query(&mut self, query: &Query) -> Result<(), Violation> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let name = ObjectName::from(cte.alias.name.clone());
                if self.oracle.tenant_column(&name).is_some() {
                    return violation(format!("CTE `{}` shadows a tenant table", cte.alias.name));
                }
            }
        }
        self.set_expr(&query.body)
    }

    fn set_expr(&mut self, body: &SetExpr) -> Result<(), Violation> {
        match body {
            SetExpr::Select(select) => self.select(select),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left)?;
                self.set_expr(right)
            }
            // Visited as queries and statements of their own.
            SetExpr::Query(_)
            | SetExpr::Values(_)
            | SetExpr::Insert(_)
            | SetExpr::Update(_)
            | SetExpr::Delete(_) => Ok(()),
            other => violation(format!("unexpected query body: {other}")),
        }
    }

    /// A source of one SELECT level: the name predicates refer to it by,
    /// and its tenant column when it is a tenant table.
    fn source<'t>(
        &self,
        factor: &'t TableFactor,
    ) -> Result<(&'t Ident, Option<String>), Violation> {
        match factor {
            TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                let refer = match alias {
                    Some(a) => &a.name,
                    None => last_part(name)
                        .ok_or_else(|| Violation(format!("table `{name}` has no name")))?,
                };
                Ok((refer, self.oracle.tenant_column(name).map(str::to_owned)))
            }
            TableFactor::Derived {
                alias: Some(alias), ..
            } => Ok((&alias.name, None)),
            other => violation(format!("unexpected table factor: {other}")),
        }
    }

    /// Each name refers to one source of a SELECT level, so a predicate
    /// written against it confines exactly that source.
    fn unique<'s>(&self, names: &mut Vec<&'s Ident>, name: &'s Ident) -> Result<(), Violation> {
        if names.iter().any(|n| self.same(n, name)) {
            return violation(format!("`{name}` names two sources of one SELECT"));
        }
        names.push(name);
        Ok(())
    }

    fn select(&mut self, select: &Select) -> Result<(), Violation> {
        if select.into.is_some() {
            return violation("SELECT INTO");
        }
        let mut names: Vec<&Ident> = Vec::new();
        for TableWithJoins { relation, joins } in &select.from {
            let (name, tenant) = self.source(relation)?;
            self.unique(&mut names, name)?;
            if let Some(column) = tenant {
                if !self.confined_by(select.selection.as_ref(), name, &column)? {
                    return violation(format!(
                        "`{name}` is not confined by `{name}.{column} = <tenant>` at the top \
                         level of the WHERE conjunction"
                    ));
                }
                self.confined += 1;
            }
            for join in joins {
                let (name, tenant) = self.source(&join.relation)?;
                self.unique(&mut names, name)?;
                let Some(column) = tenant else { continue };
                let on = match &join.join_operator {
                    JoinOperator::Join(c)
                    | JoinOperator::Inner(c)
                    | JoinOperator::Left(c)
                    | JoinOperator::LeftOuter(c) => match c {
                        JoinConstraint::On(on) => Some(on),
                        _ => None,
                    },
                    _ => None,
                };
                let Some(on) = on else {
                    return violation(format!(
                        "tenant table `{name}` joined without an ON clause that can confine it"
                    ));
                };
                if !self.confined_by(Some(on), name, &column)? {
                    return violation(format!(
                        "joined `{name}` is not confined by `{name}.{column} = <tenant>` at the \
                         top level of its ON conjunction"
                    ));
                }
                self.confined += 1;
            }
        }
        Ok(())
    }

    fn no_tenant_assignment(
        &self,
        assignments: &[sqlparser::ast::Assignment],
        column: &str,
    ) -> Result<(), Violation> {
        for a in assignments {
            let targets: Vec<&ObjectName> = match &a.target {
                AssignmentTarget::ColumnName(c) => vec![c],
                AssignmentTarget::Tuple(cs) => cs.iter().collect(),
            };
            // `c = c` writes nothing (MySQL's "do nothing" upsert says so).
            if is_self_assignment(a) {
                continue;
            }
            for t in targets {
                if last_part(t).is_some_and(|i| i.value.eq_ignore_ascii_case(column)) {
                    return violation(format!("a write sets the tenant column `{t}`"));
                }
            }
        }
        Ok(())
    }

    /// The single target of an UPDATE or DELETE, and its tenant column.
    fn write_target<'t>(
        &self,
        target: &'t TableWithJoins,
    ) -> Result<(&'t Ident, Option<String>), Violation> {
        if !target.joins.is_empty() {
            return violation("a write with joined tables");
        }
        self.source(&target.relation)
    }

    fn update(&mut self, update: &Update) -> Result<(), Violation> {
        if update.from.is_some() {
            return violation("UPDATE … FROM");
        }
        let (name, tenant) = self.write_target(&update.table)?;
        if let Some(column) = tenant {
            self.no_tenant_assignment(&update.assignments, &column)?;
            if !self.confined_by(update.selection.as_ref(), name, &column)? {
                return violation(format!(
                    "UPDATE of `{name}` is not confined by `{name}.{column} = <tenant>` at the top \
                     level of its WHERE conjunction"
                ));
            }
            self.confined += 1;
        }
        Ok(())
    }

    fn delete(&mut self, delete: &Delete) -> Result<(), Violation> {
        if !delete.tables.is_empty() || delete.using.is_some() {
            return violation("a multi-table DELETE");
        }
        let targets = match &delete.from {
            FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
        };
        let [target] = targets.as_slice() else {
            return violation("a DELETE with several targets");
        };
        let (name, tenant) = self.write_target(target)?;
        if let Some(column) = tenant {
            if !self.confined_by(delete.selection.as_ref(), name, &column)? {
                return violation(format!(
                    "DELETE from `{name}` is not confined by `{name}.{column} = <tenant>` at the \
                     top level of its WHERE conjunction"
                ));
            }
            self.confined += 1;
        }
        Ok(())
    }

    fn insert(&mut self, insert: &Insert) -> Result<(), Violation> {
        let TableObject::TableName(table) = &insert.table else {
            return violation("INSERT into a table function");
        };
        let Some(column) = self.oracle.tenant_column(table).map(str::to_owned) else {
            return Ok(());
        };
        if !insert.assignments.is_empty() {
            return violation("INSERT … SET");
        }
        let positions: Vec<usize> = insert
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| last_part(c).is_some_and(|i| i.value.eq_ignore_ascii_case(&column)))
            .map(|(i, _)| i)
            .collect();
        let [at] = positions.as_slice() else {
            return violation(format!(
                "INSERT into `{table}` lists the tenant column {} times",
                positions.len()
            ));
        };
        let Some(source) = &insert.source else {
            return violation("INSERT without a source");
        };
        self.stamped(&source.body, *at)?;
        match &insert.on {
            None => {}
            Some(OnInsert::OnConflict(oc)) => {
                let led = match &oc.conflict_target {
                    Some(ConflictTarget::Columns { columns, .. }) => columns
                        .iter()
                        .any(|c| c.value.eq_ignore_ascii_case(&column)),
                    _ => false,
                };
                if !led {
                    return violation("an upsert whose conflict target omits the tenant column");
                }
                if let OnConflictAction::DoUpdate(update) = &oc.action {
                    self.no_tenant_assignment(&update.assignments, &column)?;
                }
            }
            Some(OnInsert::DuplicateKeyUpdate(assignments)) => {
                self.no_tenant_assignment(assignments, &column)?;
                for a in assignments {
                    if !is_self_assignment(a) && !self.guarded(&a.value, &column)? {
                        return violation(format!(
                            "`ON DUPLICATE KEY UPDATE {}` is not guarded by the tenant",
                            a.target
                        ));
                    }
                }
            }
            Some(other) => return violation(format!("unexpected upsert clause: {other}")),
        }
        self.confined += 1;
        Ok(())
    }

    /// `CASE WHEN <tenant column> = <tenant> THEN … ELSE … END`: the found
    /// row is changed only when it is the tenant's own.
    fn guarded(&self, value: &Expr, column: &str) -> Result<bool, Violation> {
        let Expr::Case {
            operand: None,
            conditions,
            ..
        } = strip(value)
        else {
            return Ok(false);
        };
        let [when] = conditions.as_slice() else {
            return Ok(false);
        };
        self.is_predicate(&when.condition, None, column)
    }

    /// Each row (or select item) at `at` is the tenant's placeholder.
    fn stamped(&self, body: &SetExpr, at: usize) -> Result<(), Violation> {
        let stamp = |e: Option<&Expr>| -> Result<(), Violation> {
            match e.and_then(|e| self.placeholder(e)) {
                Some(p) => self.bound_to_tenant(p),
                None => violation(format!(
                    "the tenant column's value is {e:?}, not the tenant"
                )),
            }
        };
        match body {
            SetExpr::Values(values) => {
                for row in &values.rows {
                    stamp(row.content.get(at))?;
                }
                Ok(())
            }
            SetExpr::Select(select) => match select.projection.get(at) {
                Some(SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) => {
                    stamp(Some(e))
                }
                other => violation(format!("the tenant column's select item is {other:?}")),
            },
            SetExpr::SetOperation { left, right, .. } => {
                self.stamped(left, at)?;
                self.stamped(right, at)
            }
            SetExpr::Query(q) => self.stamped(&q.body, at),
            other => violation(format!("unexpected INSERT source: {other}")),
        }
    }
}

fn is_system_column(i: &Ident) -> bool {
    SYSTEM_COLUMNS
        .iter()
        .any(|c| i.value.eq_ignore_ascii_case(c))
}

/// `c = c`: an assignment that leaves the row as it was.
fn is_self_assignment(a: &sqlparser::ast::Assignment) -> bool {
    let AssignmentTarget::ColumnName(target) = &a.target else {
        return false;
    };
    match (last_part(target), strip(&a.value)) {
        (Some(t), Expr::Identifier(v)) => t.value.eq_ignore_ascii_case(&v.value),
        _ => false,
    }
}

/// `e` without enclosing parentheses.
fn strip(mut e: &Expr) -> &Expr {
    while let Expr::Nested(inner) = e {
        e = inner;
    }
    e
}

/// The terms of the top-level AND-conjunction of `e` (parentheses around an
/// AND are looked through; an OR, a NOT or anything else is one term).
fn conjunction<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match strip(e) {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conjunction(left, out);
            conjunction(right, out);
        }
        other => out.push(other),
    }
}
