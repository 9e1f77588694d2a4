//! Names resolved by the schema, and typed expressions lowered to sea-query.
//!
//! Every name a caller gives (table, alias, column, CTE) is folded to ASCII
//! lowercase and must then be a plain identifier; tables must be registered
//! and columns declared. The statement is rendered with the *declared*
//! spelling, never the caller's, so the server's own case rules (SQLite and
//! MySQL compare column names case-insensitively, MariaDB's table names
//! follow `lower_case_table_names`) cannot make a name reach anything the
//! resolver did not check.

use std::borrow::Cow;

use sea_query::{
    Alias, Asterisk, BinOper, CaseStatement, DynIden, Expr as SqExpr, ExprTrait, Func,
    SelectStatement, SubQueryStatement, UnOper, Value,
};

use super::expr::{BinOp, ColumnName, Expr, Function, Node, SubKind};
use super::prepared::is_tenant_slot;
use super::select::Select;
use super::{TENANT_SENTINEL, tenant_predicate};
use crate::backend::Backend;
use crate::error::{Error, Result, UnsupportedShape};
use crate::schema::{Schema, TableDef, TableKind, is_identifier};

/// Who a statement is prepared for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A tenant's statement: tenant tables are filtered and stamped, global
    /// tables are read-only, system tables are out of reach.
    Tenant,
    /// The audited system escape hatch: global and system tables only.
    System,
}

/// What a statement does with a table.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// A name a statement may use as a source in one SELECT level.
struct Source<'a> {
    /// The name it is referred to by (alias or table name); a registered
    /// table without an alias keeps its interned name.
    name: Cow<'static, str>,
    /// `name` as rendered, made once: for an interned name, qualifying a
    /// column with it copies a pointer instead of making the identifier
    /// (and sea-query checking its characters) again.
    iden: DynIden,
    /// The registered table, or `None` for a CTE or a derived table.
    table: Option<&'a TableDef>,
    /// For a CTE or a derived table: the names its select list produces,
    /// the only columns a statement may name through it.
    outputs: Vec<Output<'a>>,
}

/// A name a select list produces, and whether it carries a tenant column
/// (for the leak tripwire, which checks such columns whatever their name).
#[derive(Debug, Clone)]
pub(crate) struct Output<'a> {
    /// Borrowed from the schema when it is a declared column's name, so
    /// the usual select list costs no copy of its names.
    pub(crate) name: Cow<'a, str>,
    pub(crate) tenant: bool,
}

impl<'a> Source<'a> {
    /// The column `name` of this source, as rendered.
    fn column(&self, name: &str) -> Option<DynIden> {
        match self.table {
            Some(t) => t.column(name).map(DynIden::from),
            None => self
                .has_output(name)
                .then(|| DynIden::from(name.to_owned())),
        }
    }

    /// True when this source has a column `name` (as [`Source::column`]
    /// finds it, without rendering it).
    fn has_column(&self, name: &str) -> bool {
        match self.table {
            Some(t) => t.column(name).is_some(),
            None => self.has_output(name),
        }
    }

    fn has_output(&self, name: &str) -> bool {
        self.outputs.iter().any(|o| o.name == name)
    }

    /// True when the column `name` of this source is a tenant column.
    fn carries_tenant(&self, name: &str) -> bool {
        match self.table {
            Some(t) => t.is_tenant() && t.tenant_column().eq_ignore_ascii_case(name),
            None => self.outputs.iter().any(|o| o.tenant && o.name == name),
        }
    }

    /// Appends every column `*` reaches through this source, as far as the
    /// schema knows them.
    fn all_columns(&self, outputs: &mut Vec<Output<'a>>) {
        match self.table {
            Some(t) => outputs.extend(t.columns().map(|c| Output {
                name: Cow::Borrowed(c),
                tenant: self.carries_tenant(c),
            })),
            None => outputs.extend_from_slice(&self.outputs),
        }
    }
}

/// One SELECT level (or the target of a write): its sources, the output
/// aliases of its select list, and, while a join's ON clause is lowered,
/// the sources that clause may see.
#[derive(Default)]
struct Frame<'a> {
    sources: Vec<Source<'a>>,
    aliases: Vec<String>,
    on_window: Option<(usize, usize)>,
}

impl<'a> Frame<'a> {
    /// The sources a name may refer to now.
    fn visible(&self) -> impl Iterator<Item = &Source<'a>> {
        let (from, to) = self.on_window.unwrap_or((0, usize::MAX));
        self.sources
            .iter()
            .enumerate()
            .filter(move |(i, _)| *i >= from && *i <= to)
            .map(|(_, s)| s)
    }
}

/// How deep expressions and nested selects may go, counted together: deep
/// enough for any statement written by hand, shallow enough that resolving
/// and rendering stay far inside a 2 MiB thread stack (tokio's default) in
/// a debug build. A deeper statement is refused, never a stack overflow.
pub(crate) const MAX_DEPTH: usize = 40;

/// What one nested select level counts against [`MAX_DEPTH`]: a select
/// costs several expression levels of stack when it is rendered.
const SELECT_DEPTH: usize = 4;

/// State while one statement is resolved and rendered.
pub(crate) struct BuildCx<'a> {
    pub(crate) schema: &'a Schema,
    pub(crate) backend: Backend,
    pub(crate) mode: Mode,
    frames: Vec<Frame<'a>>,
    /// CTEs in scope, with the names each produces.
    ctes: Vec<(String, Vec<Output<'a>>)>,
    /// The output names of the select built last (see [`BuildCx::subquery_with_outputs`]).
    last_outputs: Vec<Output<'a>>,
    depth: usize,
    /// Frames below this index are out of sight: a CTE body or a derived
    /// table is resolved on its own, never against the enclosing query.
    barrier: usize,
}

/// `name` folded to lowercase, or [`Error::InvalidName`] unless it is then
/// a plain identifier. A name that is one already is borrowed, not copied.
pub(crate) fn canonical(name: &str) -> Result<Cow<'_, str>> {
    if is_identifier(name) {
        return Ok(Cow::Borrowed(name));
    }
    let folded = name.to_ascii_lowercase();
    if is_identifier(&folded) {
        Ok(Cow::Owned(folded))
    } else {
        Err(Error::InvalidName {
            name: name.to_owned(),
        })
    }
}

/// [`canonical`] for a name the caller handed over: one that is canonical
/// already is kept as it is, not copied.
fn canonical_owned(name: String) -> Result<String> {
    let folded = match canonical(&name)? {
        Cow::Borrowed(_) => None,
        Cow::Owned(folded) => Some(folded),
    };
    Ok(folded.unwrap_or(name))
}

/// `acc AND e`: a clause is built as one expression, ANDed left to right,
/// which renders exactly as a sea-query `Condition::all` of the same terms
/// (each operand parenthesised by precedence). A `Condition` would cost
/// more: sea-query wraps every term added to it in a condition of its own,
/// and copies the whole tree each time it renders one.
pub(crate) fn conjoin(acc: Option<SqExpr>, e: SqExpr) -> SqExpr {
    match acc {
        Some(acc) => acc.and(e),
        None => e,
    }
}

/// The identifier a source is rendered by, without a copy for an interned name.
#[expect(
    clippy::ptr_arg,
    reason = "whether the name is borrowed decides whether rendering copies it"
)]
fn iden(name: &Cow<'static, str>) -> DynIden {
    match name {
        Cow::Borrowed(s) => DynIden::from(*s),
        Cow::Owned(s) => DynIden::from(s.clone()),
    }
}

/// The declared column of `table` that `name` names.
pub(crate) fn declared_column(table: &TableDef, name: &str) -> Result<&'static str> {
    table.column(name).ok_or_else(|| Error::UnknownColumn {
        table: table.name().to_owned(),
        column: name.to_owned(),
    })
}

impl<'a> BuildCx<'a> {
    pub(crate) fn new(schema: &'a Schema, backend: Backend, mode: Mode) -> Self {
        BuildCx {
            schema,
            backend,
            mode,
            frames: Vec::new(),
            ctes: Vec::new(),
            last_outputs: Vec::new(),
            depth: 0,
            barrier: 0,
        }
    }

    /// The registered table `name`, refused when a statement of this mode
    /// may not touch it this way.
    pub(crate) fn table(&self, name: &str, access: Access) -> Result<&'a TableDef> {
        self.registered(&canonical(name)?, access)
    }

    /// [`BuildCx::table`] for a name that is canonical already.
    fn registered(&self, canon: &str, access: Access) -> Result<&'a TableDef> {
        let table = self.schema.table(canon)?;
        match (self.mode, table.kind(), access) {
            (Mode::Tenant, TableKind::Tenant, _)
            | (Mode::Tenant, TableKind::Global, Access::Read)
            | (Mode::System, TableKind::Global | TableKind::System, _) => Ok(table),
            (Mode::Tenant, TableKind::Global, Access::Write) => Err(Error::GlobalTableWrite {
                table: table.name().to_owned(),
            }),
            (Mode::Tenant, TableKind::System, _) => Err(Error::SystemTable {
                table: table.name().to_owned(),
            }),
            (Mode::System, TableKind::Tenant, _) => Err(Error::TenantTableInSystemStatement {
                table: table.name().to_owned(),
            }),
        }
    }

    /// Opens a SELECT level; names of enclosing levels stay visible
    /// (correlated subqueries).
    pub(crate) fn push_frame(&mut self) -> Result<()> {
        self.enter(SELECT_DEPTH)?;
        self.frames.push(Frame::default());
        Ok(())
    }

    pub(crate) fn pop_frame(&mut self) {
        self.frames.pop();
        self.leave(SELECT_DEPTH);
    }

    fn enter(&mut self, cost: usize) -> Result<()> {
        self.depth += cost;
        if self.depth > MAX_DEPTH {
            self.depth -= cost;
            return Err(Error::TooDeep);
        }
        Ok(())
    }

    fn leave(&mut self, cost: usize) {
        self.depth -= cost;
    }

    /// While the ON clause of the join just added is lowered, the current
    /// level shows only the sources SQL puts in its scope: the last FROM
    /// item and the joins up to this one. (A name beyond them is refused
    /// here instead of being bound by the server to something else.)
    pub(crate) fn open_on_window(&mut self, last_from: usize) -> Result<()> {
        let frame = self.frame()?;
        let to = frame.sources.len().saturating_sub(1);
        frame.on_window = Some((last_from, to));
        Ok(())
    }

    pub(crate) fn close_on_window(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.on_window = None;
        }
    }

    /// How many sources the current level has so far.
    pub(crate) fn source_count(&self) -> usize {
        self.frames.last().map_or(0, |f| f.sources.len())
    }

    /// Records the output names of the select just built in this level.
    pub(crate) fn set_outputs(&mut self, outputs: Vec<Output<'a>>) {
        self.last_outputs = outputs;
    }

    /// The output names of the select built last that carry a tenant
    /// column (for the tripwire of a top-level statement).
    pub(crate) fn tenant_outputs(&self) -> Vec<String> {
        // Names the tripwire watches anyway (the schema's tenant columns)
        // are left out, so the usual statement allocates nothing here.
        let known = self.schema.tenant_columns();
        self.last_outputs
            .iter()
            .filter(|o| o.tenant && !known.iter().any(|k| *k == o.name))
            .map(|o| o.name.clone().into_owned())
            .collect()
    }

    /// What a select item naming the column `c` produces: its name (the
    /// item's `alias`, canonical already, when it has one) and whether it
    /// is a tenant column of a source in sight (`false` for anything
    /// unresolved, which lowering the item then refuses).
    pub(crate) fn column_output(&self, c: &ColumnName, alias: Option<&str>) -> Result<Output<'a>> {
        let column = canonical(c.column())?;
        let source = match c.table() {
            Some(table) => {
                let qualifier = canonical(table)?;
                self.frames_in_sight()
                    .flat_map(Frame::visible)
                    .find(|s| s.name == qualifier)
            }
            None => self
                .frames_in_sight()
                .flat_map(Frame::visible)
                .find(|s| s.has_column(&column)),
        };
        let tenant = source.is_some_and(|s| s.carries_tenant(&column));
        // A declared column's name is the canonical one (the schema holds
        // lowercase identifiers only), borrowed rather than copied.
        let declared = source.and_then(|s| s.table).and_then(|t| t.column(&column));
        let name = match (alias, declared) {
            (Some(alias), _) => Cow::Owned(alias.to_owned()),
            (None, Some(declared)) => Cow::Borrowed(declared),
            (None, None) => Cow::Owned(column.into_owned()),
        };
        Ok(Output { name, tenant })
    }

    /// Appends the columns `*` reaches in the current level.
    pub(crate) fn star_outputs(&self, outputs: &mut Vec<Output<'a>>) {
        for s in self.frames.last().into_iter().flat_map(|f| &f.sources) {
            s.all_columns(outputs);
        }
    }

    pub(crate) fn cte_count(&self) -> usize {
        self.ctes.len()
    }

    pub(crate) fn truncate_ctes(&mut self, len: usize) {
        self.ctes.truncate(len);
    }

    /// The body of a CTE or derived table: a nested select and the names
    /// it produces.
    pub(crate) fn subquery_with_outputs(
        &mut self,
        select: Select,
    ) -> Result<(SelectStatement, Vec<Output<'a>>)> {
        // INVARIANT: a CTE body or derived table sees no name of the query
        // around it. Outer references there are legal in some dialects and
        // not in others, and MariaDB 10.11 crashed on one; a name that does
        // not resolve inside is refused instead.
        let barrier = std::mem::replace(&mut self.barrier, self.frames.len());
        let q = select.build_owned(self);
        self.barrier = barrier;
        Ok((q?, std::mem::take(&mut self.last_outputs)))
    }

    /// The frames a name may be resolved in, innermost first.
    fn frames_in_sight(&self) -> impl Iterator<Item = &Frame<'a>> {
        self.frames.iter().skip(self.barrier).rev()
    }

    /// Declares a CTE for the rest of the statement. A CTE may not shadow a
    /// registered table (SQLite treats a CTE that names itself as recursive,
    /// so the body would read the CTE where the scoper saw the table).
    pub(crate) fn add_cte(&mut self, name: &str, outputs: Vec<Output<'a>>) -> Result<String> {
        let canon = canonical(name)?;
        if self.schema.table(&canon).is_ok() || self.ctes.iter().any(|(c, _)| *c == *canon) {
            return Err(Error::DuplicateName {
                name: canon.into_owned(),
            });
        }
        let canon = canon.into_owned();
        self.ctes.push((canon.clone(), outputs));
        Ok(canon)
    }

    fn frame(&mut self) -> Result<&mut Frame<'a>> {
        self.frames
            .last_mut()
            .ok_or(Error::Unsupported(UnsupportedShape::NameOutsideStatement))
    }

    /// Adds a source to the current level; returns the identifier it is
    /// rendered by.
    fn add_source(
        &mut self,
        name: Cow<'static, str>,
        table: Option<&'a TableDef>,
        outputs: Vec<Output<'a>>,
    ) -> Result<DynIden> {
        let frame = self.frame()?;
        // INVARIANT: names are unique within one level, so a tenant
        // predicate written against a name binds to the source it was
        // written for and no other.
        if frame.sources.iter().any(|s| s.name == name) {
            return Err(Error::DuplicateName {
                name: name.into_owned(),
            });
        }
        let iden = iden(&name);
        frame.sources.push(Source {
            name,
            iden: iden.clone(),
            table,
            outputs,
        });
        Ok(iden)
    }

    /// Adds `table AS alias` to the current level. Returns the rendered
    /// table name, the rendered alias, and the tenant predicate it needs
    /// (a tenant table in tenant mode), or `None` for a CTE.
    pub(crate) fn add_table_source(
        &mut self,
        name: &str,
        alias: Option<&str>,
    ) -> Result<(DynIden, Option<DynIden>, Option<SqExpr>)> {
        let canon = canonical(name)?;
        let alias: Option<String> = alias
            .map(|a| canonical(a).map(Cow::into_owned))
            .transpose()?;
        if let Some((_, outputs)) = self.ctes.iter().find(|(c, _)| *c == *canon) {
            let outputs = outputs.clone();
            let canon = canon.into_owned();
            let refer = alias.clone().unwrap_or_else(|| canon.clone());
            self.add_source(Cow::Owned(refer), None, outputs)?;
            return Ok((DynIden::from(canon), alias.map(DynIden::from), None));
        }
        let table = self.registered(&canon, Access::Read)?;
        let aliased = alias.is_some();
        let refer = match alias {
            Some(a) => Cow::Owned(a),
            None => Cow::Borrowed(table.static_name()),
        };
        let refer = self.add_source(refer, Some(table), Vec::new())?;
        let predicate = (self.mode == Mode::Tenant && table.is_tenant())
            .then(|| tenant_predicate(refer.clone(), table.static_tenant_column()));
        if aliased {
            Ok((DynIden::from(table.static_name()), Some(refer), predicate))
        } else {
            Ok((refer, None, predicate))
        }
    }

    /// Adds the target table of a write as the current level's only source.
    pub(crate) fn add_write_target(&mut self, table: &'a TableDef) -> Result<()> {
        self.add_source(Cow::Borrowed(table.static_name()), Some(table), Vec::new())
            .map(drop)
    }

    /// Adds a derived table (a subquery in FROM or a join) under `alias`.
    pub(crate) fn add_derived_source(
        &mut self,
        alias: &str,
        outputs: Vec<Output<'a>>,
    ) -> Result<DynIden> {
        let canon = canonical(alias)?.into_owned();
        self.add_source(Cow::Owned(canon), None, outputs)
    }

    /// Records an output name of the current select list (for `ORDER BY`)
    /// and returns it canonical.
    pub(crate) fn add_output(&mut self, name: String) -> Result<String> {
        let canon = canonical_owned(name)?;
        let frame = self.frame()?;
        if frame.aliases.contains(&canon) {
            return Err(Error::DuplicateName { name: canon });
        }
        frame.aliases.push(canon.clone());
        Ok(canon)
    }

    /// `table.*`: `table` must be a source of this level. Appends the
    /// columns it reaches to `outputs`.
    pub(crate) fn star_of(&self, table: &str, outputs: &mut Vec<Output<'a>>) -> Result<DynIden> {
        let canon = canonical(table)?;
        let source = self
            .frames
            .last()
            .into_iter()
            .flat_map(|f| f.sources.iter())
            .find(|s| s.name == canon)
            .ok_or_else(|| Error::UnknownSource {
                name: canon.into_owned(),
            })?;
        source.all_columns(outputs);
        Ok(source.iden.clone())
    }

    fn resolve_column(&self, table: Option<&str>, column: &str) -> Result<SqExpr> {
        let column = canonical(column)?;
        let unknown = |table: &str| Error::UnknownColumn {
            table: table.to_owned(),
            column: column.to_string(),
        };
        match table {
            Some(table) => {
                let qualifier = canonical(table)?;
                let source = self
                    .frames_in_sight()
                    .flat_map(Frame::visible)
                    .find(|s| s.name == qualifier)
                    .ok_or_else(|| Error::UnknownSource {
                        name: qualifier.to_string(),
                    })?;
                // INVARIANT: only declared columns (or the outputs of a
                // scoped derived table) are ever named, so no system column
                // (`rowid`, `ctid`, `xmin`) and no undeclared one is read.
                let column = source.column(&column).ok_or_else(|| unknown(&qualifier))?;
                Ok(SqExpr::col((source.iden.clone(), column)))
            }
            None => {
                for frame in self.frames_in_sight() {
                    if frame.aliases.iter().any(|o| *o == *column) {
                        return Ok(SqExpr::col(DynIden::from(column.into_owned())));
                    }
                    if let Some(c) = frame.visible().find_map(|s| s.column(&column)) {
                        return Ok(SqExpr::col(c));
                    }
                }
                Err(unknown(""))
            }
        }
    }

    /// A caller's value: bound, and never the tenant placeholder.
    fn value(v: Value) -> Result<SqExpr> {
        if is_tenant_slot(&v) {
            return Err(Error::InvalidValue);
        }
        Ok(SqExpr::Value(v))
    }

    /// The bound value that stands for the tenant.
    pub(crate) fn tenant_slot() -> SqExpr {
        SqExpr::val(TENANT_SENTINEL)
    }

    pub(crate) fn lower(&mut self, expr: Expr) -> Result<SqExpr> {
        self.lower_node(expr.node)
    }

    fn lower_node(&mut self, node: Node) -> Result<SqExpr> {
        self.enter(1)?;
        let out = self.lower_node_in(node);
        self.leave(1);
        out
    }

    fn lower_node_in(&mut self, node: Node) -> Result<SqExpr> {
        Ok(match node {
            Node::Column(c) => self.resolve_column(c.table(), c.column())?,
            Node::Value(v) => Self::value(v)?,
            Node::Not(e) => {
                // NOT binds differently across dialects and modes (MySQL's
                // HIGH_NOT_PRECEDENCE): its operand is always parenthesised.
                SqExpr::Unary(UnOper::Not, Box::new(paren(self.lower_node(*e)?)))
            }
            Node::Neg(e) => SqExpr::Binary(
                Box::new(SqExpr::val(0)),
                BinOper::Sub,
                Box::new(paren(self.lower_node(*e)?)),
            ),
            Node::Binary(op, operands) => {
                let (l, r) = *operands;
                let op = match op {
                    BinOp::And => BinOper::And,
                    BinOp::Or => BinOper::Or,
                    BinOp::Eq => BinOper::Equal,
                    BinOp::Ne => BinOper::NotEqual,
                    BinOp::Lt => BinOper::SmallerThan,
                    BinOp::Lte => BinOper::SmallerThanOrEqual,
                    BinOp::Gt => BinOper::GreaterThan,
                    BinOp::Gte => BinOper::GreaterThanOrEqual,
                    BinOp::Add => BinOper::Add,
                    BinOp::Sub => BinOper::Sub,
                    BinOp::Mul => BinOper::Mul,
                    BinOp::Div => BinOper::Div,
                    BinOp::Mod => BinOper::Mod,
                    BinOp::Like => BinOper::Like,
                    BinOp::NotLike => BinOper::NotLike,
                };
                // Each operand is parenthesised on its own, whatever the
                // operator precedence, so no operand can re-associate with
                // its neighbours.
                SqExpr::Binary(
                    Box::new(paren(self.lower_node(l)?)),
                    op,
                    Box::new(paren(self.lower_node(r)?)),
                )
            }
            Node::IsNull { expr, negate } => {
                let e = self.lower_node(*expr)?;
                if negate { e.is_not_null() } else { e.is_null() }
            }
            Node::InList { expr, list, negate } => {
                let e = self.lower_node(*expr)?;
                let list = list
                    .into_iter()
                    .map(|v| {
                        if is_tenant_slot(&v) {
                            Err(Error::InvalidValue)
                        } else {
                            Ok(v)
                        }
                    })
                    .collect::<Result<Vec<Value>>>()?;
                if negate {
                    e.is_not_in(list)
                } else {
                    e.is_in(list)
                }
            }
            Node::Between { expr, low, high } => {
                let e = self.lower_node(*expr)?;
                let low = self.lower_node(*low)?;
                let high = self.lower_node(*high)?;
                e.between(low, high)
            }
            Node::Call(function, args) => self.call(function, args)?,
            Node::CountAll => Func::count(SqExpr::col(Asterisk)).into(),
            Node::Cast(e, ty) => {
                let e = self.lower_node(*e)?;
                Func::cast_as(e, Alias::new(self.backend.type_name(ty))).into()
            }
            Node::Case { whens, otherwise } => {
                if whens.is_empty() {
                    return Err(Error::Unsupported(UnsupportedShape::CaseWithoutWhen));
                }
                let mut case = CaseStatement::new();
                for (cond, then) in whens {
                    let cond = self.lower_node(cond)?;
                    let then = self.lower_node(then)?;
                    case = case.case(cond, then);
                }
                if let Some(e) = otherwise {
                    let e = self.lower_node(*e)?;
                    case = case.finally(e);
                }
                SqExpr::Case(Box::new(case))
            }
            Node::CurrentTimestamp => SqExpr::current_timestamp(),
            Node::Sub { kind, lhs, select } => {
                let sub = self.subquery(*select)?;
                match kind {
                    SubKind::Exists => SqExpr::exists(sub),
                    SubKind::NotExists => SqExpr::not_exists(sub),
                    SubKind::Scalar => {
                        SqExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(sub)))
                    }
                    SubKind::In | SubKind::NotIn => {
                        let Some(lhs) = lhs else {
                            return Err(Error::Unsupported(
                                UnsupportedShape::InWithoutLeftHandSide,
                            ));
                        };
                        let lhs = self.lower_node(*lhs)?;
                        if kind == SubKind::In {
                            lhs.in_subquery(sub)
                        } else {
                            lhs.not_in_subquery(sub)
                        }
                    }
                }
            }
        })
    }

    /// A nested select, scoped like the outer one; the outer names stay
    /// visible to it.
    pub(crate) fn subquery(&mut self, select: Select) -> Result<SelectStatement> {
        select.build_owned(self)
    }

    fn call(&mut self, function: Function, args: Vec<Node>) -> Result<SqExpr> {
        if !self.backend.allows(function) {
            return Err(Error::FunctionNotAllowed(function));
        }
        let mut args = args
            .into_iter()
            .map(|a| self.lower_node(a))
            .collect::<Result<Vec<SqExpr>>>()?;
        let one = |args: &mut Vec<SqExpr>| -> Result<SqExpr> {
            match (args.pop(), args.is_empty()) {
                (Some(a), true) => Ok(a),
                _ => Err(Error::Unsupported(UnsupportedShape::OneArgument)),
            }
        };
        let call = match function {
            Function::Count => Func::count(one(&mut args)?),
            Function::CountDistinct => Func::count_distinct(one(&mut args)?),
            Function::Sum => Func::sum(one(&mut args)?),
            Function::Min => Func::min(one(&mut args)?),
            Function::Max => Func::max(one(&mut args)?),
            Function::Avg => Func::avg(one(&mut args)?),
            Function::Lower => Func::lower(one(&mut args)?),
            Function::Upper => Func::upper(one(&mut args)?),
            Function::Abs => Func::abs(one(&mut args)?),
            Function::CharLength => Func::char_length(one(&mut args)?),
            Function::Round => Func::round(one(&mut args)?),
            Function::Coalesce => {
                if args.len() < 2 {
                    return Err(Error::Unsupported(UnsupportedShape::CoalesceArguments));
                }
                Func::coalesce(args)
            }
        };
        Ok(call.into())
    }
}

/// `e` in parentheses unless it is atomic (a column, a value, a call).
fn paren(e: SqExpr) -> SqExpr {
    match e {
        SqExpr::Binary(..) | SqExpr::Unary(..) => SqExpr::Tuple(vec![e]),
        other => other,
    }
}
