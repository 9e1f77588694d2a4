//! The differential leak fuzzer's parts, shared by `tests/leak_fuzzer.rs`
//! (the real scoper) and `tests/mutants.rs` (deliberately broken ones):
//!
//! - [`Tape`] and [`Gen`]: random statements from the whole public builder
//!   surface, driven by a tape of numbers that proptest generates and
//!   shrinks (a zero always picks the simplest option, so a shrunk tape is a
//!   small statement). Some cases carry one *poison*, a thing that must be
//!   refused (a hostile name, the tenant column as a write target, a CTE
//!   shadowing a table, a duplicate alias, …), injected anywhere in an
//!   otherwise valid statement.
//! - [`Harness`]: every backend of `common::every_backend_seeded`, seeded
//!   once; a case is prepared under tenant A on each, checked by the oracle,
//!   and run. Reads run in a transaction that is rolled back. Writes are
//!   committed, because the owner checks the other tenants' rows from its
//!   own connection and sees only committed rows; tenant A's rows are put
//!   back afterwards whenever the write changed them.
//! - [`Stats`]: how many cases exercised each construct, and the outcomes
//!   per backend.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support; each test binary uses a part of it"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use tenancy_core::TenantId;
use tenancy_sql::{
    Backend, Delete, Error, Expr, Function, Insert, Order, Prepared, Select, SqlType, Statement,
    TenantPool, UnsupportedShape, Update, call, case, col, column, count_all, current_timestamp,
    exists, not_exists, scalar, val,
};

use crate::common::{self, A, B, C, TestDb};
use crate::oracle::Oracle;

/// Every construct the generator can exercise; each must be counted at
/// least once in a run, so a generator that stopped producing one fails.
pub const CONSTRUCTS: &[&str] = &[
    "select",
    "insert values",
    "insert select",
    "update",
    "delete",
    "filter",
    "write filter",
    "alias",
    "case variant name",
    "second from table",
    "inner join",
    "left join",
    "join subquery",
    "from subquery",
    "global table",
    "exists",
    "not exists",
    "in subquery",
    "not in subquery",
    "scalar subquery",
    "correlated subquery",
    "cte",
    "union",
    "union all",
    "intersect",
    "except",
    "upsert do nothing",
    "upsert update",
    "returning",
    "group by",
    "having",
    "order by",
    "limit",
    "offset",
    "distinct",
    "for update",
    "select *",
    "select t.*",
    "unqualified column",
    "tenant column read",
    "output alias",
    "fn count",
    "fn count distinct",
    "fn sum",
    "fn min",
    "fn max",
    "fn avg",
    "fn lower",
    "fn upper",
    "fn abs",
    "fn char_length",
    "fn coalesce",
    "fn round",
    "count(*)",
    "cast text",
    "cast bigint",
    "cast double",
    "case",
    "current_timestamp",
    "like",
    "not like",
    "in list",
    "not in list",
    "between",
    "is null",
    "is not null",
    "and",
    "or",
    "not",
    "neg",
    "arithmetic",
    "comparison",
    "always true",
    "hostile string",
    "refused: hostile name",
    "refused: tenant column write",
    "refused: cte shadowing a table",
    "refused: duplicate alias",
    "refused: system table",
    "refused: global table write",
    "refused: unknown column",
    "refused: unknown table",
    "refused: tenant placeholder value",
];

/// Reads the numbers a case is made of; past the end, every choice is the
/// first (simplest) one.
pub struct Tape {
    data: Vec<u32>,
    pos: usize,
}

impl Tape {
    pub fn new(data: Vec<u32>) -> Tape {
        Tape { data, pos: 0 }
    }

    fn next(&mut self) -> u32 {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }

    /// `0..n`.
    fn pick(&mut self, n: usize) -> usize {
        self.next() as usize % n.max(1)
    }

    /// True `percent` times in a hundred (never for a zero).
    fn chance(&mut self, percent: u32) -> bool {
        self.next() % 100 >= 100 - percent
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Int,
    Text,
}

struct TableSpec {
    name: &'static str,
    tenant: bool,
    cols: &'static [(&'static str, Ty)],
}

const PROPERTIES: TableSpec = TableSpec {
    name: "properties",
    tenant: true,
    cols: &[("id", Ty::Int), ("name", Ty::Text), ("address", Ty::Text)],
};
const LEASES: TableSpec = TableSpec {
    name: "leases",
    tenant: true,
    cols: &[
        ("id", Ty::Int),
        ("property_id", Ty::Int),
        ("lessee", Ty::Text),
        ("rent_cents", Ty::Int),
    ],
};
const PAYMENTS: TableSpec = TableSpec {
    name: "payments",
    tenant: true,
    cols: &[
        ("id", Ty::Int),
        ("lease_id", Ty::Int),
        ("amount_cents", Ty::Int),
    ],
};
const PLANS: TableSpec = TableSpec {
    name: "plans",
    tenant: false,
    cols: &[("code", Ty::Text), ("max_properties", Ty::Int)],
};
const TENANT_TABLES: [&TableSpec; 3] = [&PROPERTIES, &LEASES, &PAYMENTS];

/// Values that try to end the string, the statement or the comment they
/// might be pasted into. None carries a foreign marker or a NUL.
const HOSTILE: &[&str] = &[
    "x' OR '1'='1",
    "1=1) OR (1=1",
    "x\\' OR 1=1 -- ",
    "$$ OR true $$",
    "$tag$ OR true $tag$",
    "*/ OR 1=1 /*",
    "'; DELETE FROM leases; --",
    "\"; DROP TABLE leases; --",
    "` OR 1=1 #",
    "\\",
    "\\\\'",
    "it's",
    "O'Brien",
    "ümlaut ☃ ı",
    "",
    " ",
    "lessee-1-t1",
    "p1-t1",
    "$1",
    "?",
    ":name",
    "@var",
    "\\N",
    "NULL",
    "tenant_id",
    "\t\n\r",
    "'' OR ''=''",
    "%",
    "_",
];

/// LIKE patterns: hostile, but none ends in a lone backslash (an escape
/// with nothing to escape is a server error, not a leak).
const PATTERNS: &[&str] = &[
    "%",
    "%t1",
    "p%",
    "_%",
    "x' OR '1'='1%",
    "%--%",
    "%$$%",
    "%\\%%",
    "%'%",
    "l%",
    "%-t_",
];

/// Names that are not plain identifiers once folded to lowercase.
const HOSTILE_NAMES: &[&str] = &[
    "leases\"",
    "\"leases\"",
    "`leases`",
    "[leases]",
    "leases --",
    "leases/*x*/",
    "lessee; DROP TABLE leases",
    "l x",
    "tenant_id\"",
    "a.b",
    "tenant\u{131}d",
    " leases",
    "leases\n",
    "1abc",
    "",
    "lessee`",
    "na'me",
];

/// What a poisoned case must be refused with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poison {
    HostileName,
    TenantColumnWrite,
    CteShadow,
    DuplicateAlias,
    SystemTable,
    GlobalWrite,
    UnknownColumn,
    UnknownTable,
    PlaceholderValue,
}

const POISONS: [Poison; 9] = [
    Poison::HostileName,
    Poison::TenantColumnWrite,
    Poison::CteShadow,
    Poison::DuplicateAlias,
    Poison::SystemTable,
    Poison::GlobalWrite,
    Poison::UnknownColumn,
    Poison::UnknownTable,
    Poison::PlaceholderValue,
];

impl Poison {
    fn construct(self) -> &'static str {
        match self {
            Poison::HostileName => "refused: hostile name",
            Poison::TenantColumnWrite => "refused: tenant column write",
            Poison::CteShadow => "refused: cte shadowing a table",
            Poison::DuplicateAlias => "refused: duplicate alias",
            Poison::SystemTable => "refused: system table",
            Poison::GlobalWrite => "refused: global table write",
            Poison::UnknownColumn => "refused: unknown column",
            Poison::UnknownTable => "refused: unknown table",
            Poison::PlaceholderValue => "refused: tenant placeholder value",
        }
    }

    /// True for the typed error this poison must produce.
    pub fn expects(self, e: &Error) -> bool {
        match self {
            Poison::HostileName => matches!(e, Error::InvalidName { .. }),
            Poison::TenantColumnWrite => matches!(e, Error::TenantColumnWrite { .. }),
            Poison::CteShadow | Poison::DuplicateAlias => matches!(e, Error::DuplicateName { .. }),
            Poison::SystemTable => matches!(e, Error::SystemTable { .. }),
            Poison::GlobalWrite => matches!(e, Error::GlobalTableWrite { .. }),
            Poison::UnknownColumn => matches!(e, Error::UnknownColumn { .. }),
            Poison::UnknownTable => matches!(e, Error::UnknownTable { .. }),
            Poison::PlaceholderValue => matches!(e, Error::InvalidValue),
        }
    }
}

/// A statement of one case.
#[derive(Debug, Clone)]
pub enum Stmt {
    Select(Select),
    /// An insert; `true` when it has a RETURNING clause (run as a fetch).
    Insert(Insert, bool),
    Update(Update),
    Delete(Delete),
}

impl Stmt {
    pub fn prepare(
        &self,
        schema: &tenancy_sql::Schema,
        backend: Backend,
    ) -> Result<Prepared, Error> {
        let ctx = common::ctx(A);
        match self {
            Stmt::Select(s) => s.prepare(schema, backend, &ctx),
            Stmt::Insert(s, _) => s.prepare(schema, backend, &ctx),
            Stmt::Update(s) => s.prepare(schema, backend, &ctx),
            Stmt::Delete(s) => s.prepare(schema, backend, &ctx),
        }
    }

    fn is_write(&self) -> bool {
        !matches!(self, Stmt::Select(_))
    }

    fn fetches(&self) -> bool {
        matches!(self, Stmt::Select(_) | Stmt::Insert(_, true))
    }
}

/// One generated case.
#[derive(Debug, Clone)]
pub struct Case {
    pub stmt: Stmt,
    /// The poison injected, if any: the case must be refused with it.
    pub poison: Option<Poison>,
    pub constructs: BTreeSet<&'static str>,
}

#[derive(Debug, Clone)]
struct Source {
    /// How the statement refers to it (table name or alias), lowercase.
    name: String,
    cols: Vec<(String, Ty)>,
    /// A registered table (its columns are checked by the resolver).
    table: bool,
    tenant: bool,
}

#[derive(Debug, Default)]
struct Level {
    sources: Vec<Source>,
    /// Sources before this index stand before a comma in FROM: a join's ON
    /// cannot see them (MariaDB 10.11 crashes on such an ON inside an
    /// unused CTE of a subquery, instead of refusing it).
    on_visible_from: usize,
}

/// Options of one SELECT.
#[derive(Debug, Clone, Copy, Default)]
struct Opts {
    /// At most one row (a scalar subquery).
    single_row: bool,
    /// Every output named, so a CTE or derived table can expose it.
    named: bool,
    /// No LIMIT (MariaDB refuses LIMIT in an IN subquery).
    no_limit: bool,
    /// The statement's own SELECT.
    top: bool,
    /// A set-operation arm: no CTE, ORDER BY or LIMIT of its own (SQLite
    /// and MariaDB take the arm's text as it is, unparenthesised).
    arm: bool,
    /// The item at this position gets a large offset added (the id of an
    /// INSERT … SELECT, so it rarely collides with an existing key).
    offset_item: Option<usize>,
    /// The item at this position is a parent id of the tenant (the foreign
    /// key of an INSERT … SELECT, so the row can be written).
    parent_item: Option<usize>,
}

/// Builds random statements from a [`Tape`].
pub struct Gen {
    tape: Tape,
    levels: Vec<Level>,
    /// CTEs in scope: name and columns.
    ctes: Vec<(String, Vec<(String, Ty)>)>,
    constructs: BTreeSet<&'static str>,
    pending: Option<Poison>,
    injected: Option<Poison>,
    fresh: usize,
    /// Expression nesting, bounded.
    depth: u32,
    /// SELECT nesting, bounded.
    nesting: u32,
    /// The level whose join's ON clause is being built.
    on_level: Option<usize>,
}

impl Gen {
    /// The case a tape describes.
    pub fn case(data: Vec<u32>) -> Case {
        let mut g = Gen {
            tape: Tape::new(data),
            levels: Vec::new(),
            ctes: Vec::new(),
            constructs: BTreeSet::new(),
            pending: None,
            injected: None,
            fresh: 0,
            depth: 0,
            nesting: 0,
            on_level: None,
        };
        if g.tape.chance(20) {
            g.pending = Some(POISONS[g.tape.pick(POISONS.len())]);
        }
        let stmt = match g.tape.pick(20) {
            0..=10 => {
                g.record("select");
                let (s, _) = g.select(
                    None,
                    Opts {
                        top: true,
                        ..Opts::default()
                    },
                );
                Stmt::Select(s)
            }
            11..=14 => g.insert(),
            15..=17 => g.update(),
            _ => g.delete(),
        };
        if let Some(p) = g.injected {
            g.record(p.construct());
        }
        Case {
            stmt,
            poison: g.injected,
            constructs: g.constructs,
        }
    }

    fn record(&mut self, construct: &'static str) {
        debug_assert!(CONSTRUCTS.contains(&construct), "{construct}");
        self.constructs.insert(construct);
    }

    /// True when the pending poison `p` is injected here.
    fn poison(&mut self, p: Poison) -> bool {
        if self.pending == Some(p) && self.injected.is_none() && self.tape.chance(50) {
            self.injected = Some(p);
            true
        } else {
            false
        }
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    /// `name` in another letter case, now and then.
    fn variant(&mut self, name: &str) -> String {
        let out = match self.tape.pick(6) {
            0..=2 => return name.to_owned(),
            3 => name.to_ascii_uppercase(),
            4 => {
                let mut c = name.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            }
            _ => name
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect(),
        };
        if out != name {
            self.record("case variant name");
        }
        out
    }

    fn hostile_name(&mut self) -> String {
        HOSTILE_NAMES[self.tape.pick(HOSTILE_NAMES.len())].to_owned()
    }

    /// A name for a table, alias, column or CTE: `name` in some case, or a
    /// hostile one when the poison lands here.
    fn name(&mut self, name: &str) -> String {
        if self.poison(Poison::HostileName) {
            return self.hostile_name();
        }
        self.variant(name)
    }

    fn text_value(&mut self) -> Expr {
        if self.poison(Poison::PlaceholderValue) {
            return val("\u{0}tenancy:tenant\u{0}");
        }
        if self.tape.chance(60) {
            self.record("hostile string");
            val(HOSTILE[self.tape.pick(HOSTILE.len())])
        } else {
            val(format!("v{}", self.tape.pick(50)))
        }
    }

    fn int_value(&mut self) -> Expr {
        let n = match self.tape.pick(4) {
            0 => self.tape.pick(3) as i64,
            1 => 1000 + self.tape.pick(3) as i64,
            2 => -(self.tape.pick(5) as i64),
            _ => self.tape.pick(4000) as i64,
        };
        if self.tape.chance(50) {
            val(n as i32)
        } else {
            val(n)
        }
    }

    // Sources and scopes.

    fn level(&mut self) -> &mut Level {
        if self.levels.is_empty() {
            self.levels.push(Level::default());
        }
        let last = self.levels.len() - 1;
        &mut self.levels[last]
    }

    fn used(&self, name: &str) -> bool {
        self.levels
            .last()
            .is_some_and(|l| l.sources.iter().any(|s| s.name == name))
    }

    /// An alias: fresh, or (poisoned) one the level already uses.
    fn alias(&mut self) -> String {
        let taken = self
            .levels
            .last()
            .and_then(|l| l.sources.first())
            .map(|s| s.name.clone());
        if let Some(n) = taken
            && self.poison(Poison::DuplicateAlias)
        {
            return self.variant(&n);
        }
        let a = self.fresh("s");
        self.record("alias");
        self.name(&a)
    }

    /// A registered table for FROM or a join: `(rendered name, alias)`.
    fn table_source(&mut self) -> (String, Option<String>) {
        if self.poison(Poison::SystemTable) {
            let n = self.variant("tenants");
            return (n, None);
        }
        if self.poison(Poison::UnknownTable) {
            return ("lease".to_owned(), None);
        }
        let spec: &TableSpec = if self.tape.chance(10) {
            self.record("global table");
            &PLANS
        } else {
            TENANT_TABLES[self.tape.pick(3)]
        };
        // A table already in this level needs an alias.
        let alias = if self.used(spec.name) || self.tape.chance(35) {
            Some(self.alias())
        } else {
            None
        };
        let name = self.name(spec.name);
        let refer = alias
            .clone()
            .unwrap_or_else(|| spec.name.to_owned())
            .to_ascii_lowercase();
        let source = Source {
            name: refer,
            cols: spec
                .cols
                .iter()
                .map(|(c, t)| ((*c).to_owned(), *t))
                .collect(),
            table: true,
            tenant: spec.tenant,
        };
        self.level().sources.push(source);
        (name, alias)
    }

    /// A CTE in scope as a source, if any.
    fn cte_source(&mut self) -> Option<(String, Option<String>)> {
        if self.ctes.is_empty() {
            return None;
        }
        let (name, cols) = self.ctes[self.tape.pick(self.ctes.len())].clone();
        let alias = if self.used(&name) || self.tape.chance(30) {
            Some(self.alias())
        } else {
            None
        };
        let refer = alias
            .clone()
            .unwrap_or_else(|| name.clone())
            .to_ascii_lowercase();
        self.level().sources.push(Source {
            name: refer,
            cols,
            table: false,
            tenant: false,
        });
        let rendered = self.variant(&name);
        Some((rendered, alias))
    }

    /// A derived table: its select (in a fresh scope) and alias.
    fn derived_source(&mut self) -> (Select, String) {
        let saved = std::mem::take(&mut self.levels);
        let (sub, cols) = self.select(
            None,
            Opts {
                named: true,
                ..Opts::default()
            },
        );
        self.levels = saved;
        let alias = self.fresh("d");
        let refer = alias.clone();
        let alias = self.name(&alias);
        self.level().sources.push(Source {
            name: refer,
            cols,
            table: false,
            tenant: false,
        });
        (sub, alias)
    }

    /// A column of type `ty` from the sources in scope, innermost first.
    fn column_ref(&mut self, ty: Ty) -> Option<Expr> {
        self.column_ref_in(ty, 0)
    }

    /// A column of the innermost level only.
    fn own_column_ref(&mut self, ty: Ty) -> Option<Expr> {
        self.column_ref_in(ty, self.levels.len().saturating_sub(1))
    }

    fn column_ref_in(&mut self, ty: Ty, from_level: usize) -> Option<Expr> {
        let mut candidates: Vec<(usize, String, String, bool)> = Vec::new();
        for (li, level) in self.levels.iter().enumerate().skip(from_level) {
            let skip = if self.on_level == Some(li) {
                level.on_visible_from
            } else {
                0
            };
            for s in level.sources.iter().skip(skip) {
                for (c, t) in &s.cols {
                    if *t == ty {
                        candidates.push((li, s.name.clone(), c.clone(), s.table));
                    }
                }
                if ty == Ty::Text && s.tenant {
                    candidates.push((li, s.name.clone(), "tenant_id".to_owned(), true));
                }
            }
        }
        if candidates.is_empty() {
            return None;
        }
        let innermost = self.levels.len().saturating_sub(1);
        let inner: Vec<_> = candidates
            .iter()
            .filter(|c| c.0 == innermost)
            .cloned()
            .collect();
        let pool = if !inner.is_empty() && self.tape.chance(80) {
            inner
        } else {
            candidates
        };
        let (li, source, column, table) = pool[self.tape.pick(pool.len())].clone();
        if li != innermost {
            self.record("correlated subquery");
        }
        if column == "tenant_id" {
            self.record("tenant column read");
        }
        // Derived tables and CTEs expose only their outputs, so an unknown
        // name is refused on them too (a system column such as `rowid` or
        // `ctid` read through one would count another tenant's rows).
        let _ = table;
        if self.poison(Poison::UnknownColumn) {
            let s = self.variant(&source);
            let name = ["nope", "rowid", "ctid", "xmin", "oid", "_rowid_"][self.tape.pick(6)];
            if self.tape.chance(30) {
                return Some(tenancy_sql::column(name));
            }
            return Some(col(&s, name));
        }
        let single = self.levels[innermost].sources.len() == 1;
        let column = self.name(&column);
        if li == innermost && single && self.tape.chance(25) {
            self.record("unqualified column");
            return Some(tenancy_sql::column(&column));
        }
        let source = self.variant(&source);
        Some(col(&source, &column))
    }

    // Expressions.

    fn expr(&mut self, ty: Ty) -> Expr {
        self.depth += 1;
        let e = if self.depth > 3 {
            self.leaf(ty)
        } else {
            match ty {
                Ty::Int => self.int_expr(),
                Ty::Text => self.text_expr(),
            }
        };
        self.depth -= 1;
        e
    }

    fn leaf(&mut self, ty: Ty) -> Expr {
        if self.tape.chance(60)
            && let Some(c) = self.column_ref(ty)
        {
            return c;
        }
        match ty {
            Ty::Int => self.int_value(),
            Ty::Text => self.text_value(),
        }
    }

    fn int_expr(&mut self) -> Expr {
        match self.tape.pick(16) {
            0..=5 => self.leaf(Ty::Int),
            6 => {
                self.record("arithmetic");
                let l = self.expr(Ty::Int);
                let r = self.expr(Ty::Int);
                match self.tape.pick(3) {
                    0 => l.add(r),
                    1 => l.sub(r),
                    _ => l.mul(val(self.tape.pick(3) as i32 + 1)),
                }
            }
            7 => {
                self.record("arithmetic");
                let l = self.expr(Ty::Int);
                let d = self.tape.pick(5) as i32 + 1;
                if self.tape.chance(50) {
                    l.modulo(d)
                } else {
                    // Integer division is DECIMAL on MySQL; kept whole.
                    self.record("cast bigint");
                    l.div(d).cast(SqlType::BigInt)
                }
            }
            8 => {
                self.record("fn abs");
                self.expr(Ty::Int).abs()
            }
            9 => {
                self.record("neg");
                self.expr(Ty::Int).neg()
            }
            10 => {
                self.record("fn char_length");
                self.expr(Ty::Text).char_length()
            }
            11 => {
                self.record("fn coalesce");
                let a = self.expr(Ty::Int);
                let b = self.expr(Ty::Int);
                if self.tape.chance(50) {
                    a.if_null(b)
                } else {
                    let c = self.expr(Ty::Int);
                    call(Function::Coalesce, [a, b, c])
                }
            }
            12 => self.case_expr(Ty::Int),
            13 => {
                self.record("cast double");
                self.record("fn round");
                self.record("cast bigint");
                self.expr(Ty::Int)
                    .cast(SqlType::Double)
                    .round()
                    .cast(SqlType::BigInt)
            }
            14 => {
                self.record("cast bigint");
                self.expr(Ty::Int).cast(SqlType::BigInt)
            }
            _ => self.scalar_sub(Ty::Int),
        }
    }

    fn text_expr(&mut self) -> Expr {
        match self.tape.pick(12) {
            0..=5 => self.leaf(Ty::Text),
            6 => {
                self.record("fn lower");
                self.expr(Ty::Text).lower()
            }
            7 => {
                self.record("fn upper");
                self.expr(Ty::Text).upper()
            }
            8 => {
                self.record("fn coalesce");
                let a = self.expr(Ty::Text);
                let b = self.expr(Ty::Text);
                a.if_null(b)
            }
            9 => self.case_expr(Ty::Text),
            10 => {
                self.record("cast text");
                if self.tape.chance(20) {
                    self.record("current_timestamp");
                    current_timestamp().cast(SqlType::Text)
                } else {
                    self.expr(Ty::Int).cast(SqlType::Text)
                }
            }
            _ => self.scalar_sub(Ty::Text),
        }
    }

    fn case_expr(&mut self, ty: Ty) -> Expr {
        self.record("case");
        let n = 1 + self.tape.pick(2);
        let mut whens = Vec::new();
        for _ in 0..n {
            let c = self.cond();
            let v = self.expr(ty);
            whens.push((c, v));
        }
        let otherwise = if self.tape.chance(70) {
            Some(self.expr(ty))
        } else {
            None
        };
        case(whens, otherwise)
    }

    fn scalar_sub(&mut self, ty: Ty) -> Expr {
        if self.nesting >= 3 {
            return self.leaf(ty);
        }
        self.record("scalar subquery");
        let (s, _) = self.nested(
            &[ty],
            Opts {
                single_row: true,
                ..Opts::default()
            },
        );
        scalar(s)
    }

    /// A nested select that may refer to the sources around it.
    fn nested(&mut self, want: &[Ty], opts: Opts) -> (Select, Vec<(String, Ty)>) {
        let depth = std::mem::replace(&mut self.depth, 0);
        let out = self.select(Some(want), opts);
        self.depth = depth;
        out
    }

    fn cond(&mut self) -> Expr {
        self.depth += 1;
        let deep = self.depth > 3;
        let e = match self.tape.pick(if deep { 6 } else { 13 }) {
            0 => {
                self.record("comparison");
                let ty = if self.tape.chance(50) {
                    Ty::Int
                } else {
                    Ty::Text
                };
                let l = self.expr(ty);
                let r = self.expr(ty);
                match self.tape.pick(6) {
                    0 => l.eq(r),
                    1 => l.ne(r),
                    2 => l.lt(r),
                    3 => l.lte(r),
                    4 => l.gt(r),
                    _ => l.gte(r),
                }
            }
            1 => {
                let p = PATTERNS[self.tape.pick(PATTERNS.len())];
                let t = self.expr(Ty::Text);
                if self.tape.chance(70) {
                    self.record("like");
                    t.like(p)
                } else {
                    self.record("not like");
                    t.not_like(p)
                }
            }
            2 => {
                let ty = if self.tape.chance(50) {
                    Ty::Int
                } else {
                    Ty::Text
                };
                let e = self.expr(ty);
                if self.tape.chance(50) {
                    self.record("is null");
                    e.is_null()
                } else {
                    self.record("is not null");
                    e.is_not_null()
                }
            }
            3 => {
                let negate = self.tape.chance(40);
                self.record(if negate { "not in list" } else { "in list" });
                if self.tape.chance(50) {
                    let e = self.expr(Ty::Int);
                    let list: Vec<i64> = (0..1 + self.tape.pick(3))
                        .map(|_| self.tape.pick(4) as i64)
                        .collect();
                    if negate {
                        e.is_not_in(list)
                    } else {
                        e.is_in(list)
                    }
                } else {
                    let e = self.expr(Ty::Text);
                    let list: Vec<String> = (0..1 + self.tape.pick(3))
                        .map(|_| HOSTILE[self.tape.pick(HOSTILE.len())].to_owned())
                        .collect();
                    if negate {
                        e.is_not_in(list)
                    } else {
                        e.is_in(list)
                    }
                }
            }
            4 => {
                self.record("between");
                let e = self.expr(Ty::Int);
                let lo = self.expr(Ty::Int);
                let hi = self.expr(Ty::Int);
                e.between(lo, hi)
            }
            5 => {
                // The attack-1 shape: an always-true OR.
                self.record("always true");
                self.record("or");
                val(1).eq(1).or(val(1).eq(1))
            }
            6 | 7 => {
                let l = self.cond();
                let r = self.cond();
                if self.tape.chance(50) {
                    self.record("and");
                    l.and(r)
                } else {
                    self.record("or");
                    l.or(r)
                }
            }
            8 => {
                self.record("not");
                self.cond().not()
            }
            9 | 10 if self.nesting < 3 => {
                let (s, _) = self.nested(&[Ty::Int], Opts::default());
                if self.tape.chance(60) {
                    self.record("exists");
                    exists(s)
                } else {
                    self.record("not exists");
                    not_exists(s)
                }
            }
            11 | 12 if self.nesting < 3 => {
                let ty = if self.tape.chance(60) {
                    Ty::Int
                } else {
                    Ty::Text
                };
                let e = self.expr(ty);
                let (s, _) = self.nested(
                    &[ty],
                    Opts {
                        no_limit: true,
                        ..Opts::default()
                    },
                );
                if self.tape.chance(60) {
                    self.record("in subquery");
                    e.in_subquery(s)
                } else {
                    self.record("not in subquery");
                    e.not_in_subquery(s)
                }
            }
            _ => {
                self.record("always true");
                val(true)
            }
        };
        self.depth -= 1;
        e
    }

    /// An aggregate of type `ty` over the innermost sources.
    fn aggregate(&mut self, ty: Ty) -> Expr {
        let pick = self.tape.pick(6);
        // Only asked for when it is used: a poisoned name must end up in
        // the statement.
        let c = if ty == Ty::Int && pick > 0 {
            self.column_ref(Ty::Int)
        } else {
            None
        };
        match (ty, pick, c) {
            (Ty::Int, 1, Some(c)) => {
                self.record("fn count");
                c.count()
            }
            (Ty::Int, 2, Some(c)) => {
                self.record("fn count distinct");
                c.count_distinct()
            }
            (Ty::Int, 3, Some(c)) => {
                self.record("fn sum");
                self.record("cast bigint");
                c.sum().cast(SqlType::BigInt)
            }
            (Ty::Int, 4, Some(c)) => {
                self.record("fn avg");
                self.record("cast double");
                self.record("fn round");
                self.record("cast bigint");
                c.avg().cast(SqlType::Double).round().cast(SqlType::BigInt)
            }
            (Ty::Int, 5, Some(c)) => {
                self.record("fn max");
                c.max()
            }
            (Ty::Text, 1..=3, _) => match self.column_ref(Ty::Text) {
                Some(t) => {
                    if self.tape.chance(50) {
                        self.record("fn min");
                        t.min()
                    } else {
                        self.record("fn max");
                        t.max()
                    }
                }
                None => {
                    self.record("count(*)");
                    self.record("cast text");
                    count_all().cast(SqlType::Text)
                }
            },
            (Ty::Text, _, _) => {
                self.record("fn upper");
                self.record("fn min");
                let e = self.expr(Ty::Text);
                e.min().upper()
            }
            (Ty::Int, _, _) => {
                self.record("count(*)");
                count_all()
            }
        }
    }

    // Statements.

    /// A SELECT; `want` fixes the types of its outputs.
    fn select(&mut self, want: Option<&[Ty]>, opts: Opts) -> (Select, Vec<(String, Ty)>) {
        self.nesting += 1;
        self.levels.push(Level::default());
        let ctes_before = self.ctes.len();
        let mut q_ctes: Vec<(String, Select)> = Vec::new();
        let shadow = self.pending == Some(Poison::CteShadow) && self.injected.is_none();
        if !opts.arm && self.nesting <= 2 && (self.tape.chance(15) || shadow) {
            for _ in 0..1 + self.tape.pick(2) {
                self.record("cte");
                let saved = std::mem::take(&mut self.levels);
                let (body, cols) = self.select(
                    None,
                    Opts {
                        named: true,
                        ..Opts::default()
                    },
                );
                self.levels = saved;
                let name = if self.poison(Poison::CteShadow) {
                    let t =
                        ["leases", "properties", "payments", "plans", "tenants"][self.tape.pick(5)];
                    self.variant(t)
                } else {
                    let n = self.fresh("c");
                    self.ctes.push((n.clone(), cols));
                    self.name(&n)
                };
                q_ctes.push((name, body));
            }
        }
        // FROM: a table mostly, else a CTE or a derived table.
        let mut q = match self.tape.pick(10) {
            0..=5 => self.table_select(),
            6 | 7 => match self.cte_source() {
                Some((name, alias)) => from(name, alias),
                None => self.table_select(),
            },
            _ if self.nesting <= 2 => {
                self.record("from subquery");
                let (sub, alias) = self.derived_source();
                Select::from_subquery(sub, &alias)
            }
            _ => self.table_select(),
        };
        for (name, body) in q_ctes {
            q = q.with_cte(&name, body);
        }
        if self.tape.chance(8) {
            self.record("second from table");
            let level = self.level();
            level.on_visible_from = level.sources.len();
            let (name, alias) = self.table_source();
            q = match alias {
                Some(a) => q.and_from_as(&name, &a),
                None => q.and_from(&name),
            };
        }
        let joins = match self.tape.pick(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        };
        let mut left = false;
        for _ in 0..joins {
            let is_left = self.tape.chance(45);
            left |= is_left;
            self.record(if is_left { "left join" } else { "inner join" });
            if self.nesting <= 2 && self.tape.chance(20) {
                self.record("join subquery");
                let (sub, alias) = self.derived_source();
                let on = self.join_condition();
                q = if is_left {
                    q.left_join_subquery(sub, &alias, on)
                } else {
                    q.inner_join_subquery(sub, &alias, on)
                };
            } else {
                let (name, alias) = self.table_source();
                let on = self.join_condition();
                q = match (is_left, alias) {
                    (false, None) => q.inner_join(&name, on),
                    (false, Some(a)) => q.inner_join_as(&name, &a, on),
                    (true, None) => q.left_join(&name, on),
                    (true, Some(a)) => q.left_join_as(&name, &a, on),
                };
            }
        }
        // The select list.
        let aggregate = self.tape.chance(12) || (opts.single_row && self.tape.chance(50));
        let mut outputs: Vec<(String, Ty)> = Vec::new();
        let mut item_types: Vec<Ty> = Vec::new();
        let mut star = false;
        let types: Vec<Ty> = match want {
            Some(w) => w.to_vec(),
            None => (0..1 + self.tape.pick(3))
                .map(|_| {
                    if self.tape.chance(60) {
                        Ty::Text
                    } else {
                        Ty::Int
                    }
                })
                .collect(),
        };
        if want.is_none() && !opts.named && !aggregate && self.tape.chance(12) {
            star = true;
            let sourceless = self.levels.last().is_none_or(|l| l.sources.is_empty());
            if sourceless || self.tape.chance(50) {
                self.record("select *");
                q = q.all();
            } else {
                self.record("select t.*");
                let sources = &self.levels[self.levels.len() - 1].sources;
                let s = sources[self.tape.pick(sources.len())].name.clone();
                let s = self.variant(&s);
                q = q.all_of(&s);
            }
        } else {
            for (i, ty) in types.into_iter().enumerate() {
                item_types.push(ty);
                let e = if opts.parent_item == Some(i) {
                    self.fk_value()
                } else if aggregate {
                    self.aggregate(ty)
                } else {
                    self.expr(ty)
                };
                let e = if opts.offset_item == Some(i) {
                    self.record("arithmetic");
                    e.add(val(100 + self.tape.pick(100_000) as i64))
                } else {
                    e
                };
                if opts.named || self.tape.chance(30) {
                    self.record("output alias");
                    let alias = self.fresh("o");
                    outputs.push((alias.clone(), ty));
                    let alias = self.name(&alias);
                    q = q.expr_as(e, &alias);
                } else {
                    q = q.expr(e);
                }
            }
        }
        let filters = match self.tape.pick(10) {
            0..=2 => 0,
            3..=7 => 1,
            _ => 2,
        };
        for _ in 0..filters {
            self.record("filter");
            let c = self.cond();
            q = q.filter(c);
        }
        if aggregate && (!opts.single_row) && self.tape.chance(50) {
            self.record("group by");
            let ty = if self.tape.chance(50) {
                Ty::Int
            } else {
                Ty::Text
            };
            if let Some(g) = self.column_ref(ty) {
                q = q.group_by(g);
            }
            if self.tape.chance(50) {
                self.record("having");
                self.record("count(*)");
                q = q.having(count_all().gt(val(self.tape.pick(2) as i32)));
            }
        }
        let distinct = !aggregate && self.tape.chance(8);
        if distinct {
            self.record("distinct");
            q = q.distinct();
        }
        // Set operations: arms of the same types, each in a scope of its own.
        let arms = !star
            && !opts.single_row
            && self.nesting <= 2
            && self.tape.chance(if opts.top { 25 } else { 10 });
        if arms {
            let types = item_types.clone();
            if !types.is_empty() {
                for _ in 0..1 + self.tape.pick(2) {
                    let current = self.levels.pop();
                    let (arm, _) = self.select(
                        Some(&types),
                        Opts {
                            offset_item: opts.offset_item,
                            parent_item: opts.parent_item,
                            ..Opts::default_arm()
                        },
                    );
                    if let Some(c) = current {
                        self.levels.push(c);
                    }
                    q = match self.tape.pick(4) {
                        0 => {
                            self.record("union");
                            q.union(arm)
                        }
                        1 => {
                            self.record("union all");
                            q.union_all(arm)
                        }
                        2 => {
                            self.record("intersect");
                            q.intersect(arm)
                        }
                        _ => {
                            self.record("except");
                            q.except(arm)
                        }
                    };
                }
            }
        }
        let ordered = !opts.arm && !aggregate && !distinct && !arms && self.tape.chance(20);
        if ordered {
            self.record("order by");
            let ty = if self.tape.chance(50) {
                Ty::Int
            } else {
                Ty::Text
            };
            let order = if self.tape.chance(50) {
                Order::Asc
            } else {
                Order::Desc
            };
            match outputs.first() {
                Some((o, _)) if self.tape.chance(30) => {
                    let o = self.variant(o);
                    q = q.order_by(column(&o), order);
                }
                _ => {
                    if let Some(e) = self.own_column_ref(ty) {
                        q = q.order_by(e, order);
                    }
                }
            }
        }
        let single_needs_limit = opts.single_row && !aggregate;
        if !opts.no_limit && !arms && (single_needs_limit || self.tape.chance(12)) {
            self.record("limit");
            let n = if opts.single_row {
                1
            } else {
                self.tape.pick(4) as u64
            };
            q = q.limit(n);
            if !opts.single_row && self.tape.chance(30) {
                self.record("offset");
                q = q.offset(self.tape.pick(3) as u64);
            }
        }
        let plain_tenant_tables = self
            .levels
            .last()
            .is_some_and(|l| l.sources.iter().all(|s| s.tenant));
        if opts.top
            && !aggregate
            && !distinct
            && !arms
            && !left
            && plain_tenant_tables
            && self.tape.chance(20)
        {
            self.record("for update");
            q = q.for_update();
        }
        self.levels.pop();
        self.ctes.truncate(ctes_before);
        self.nesting -= 1;
        (q, outputs)
    }

    fn table_select(&mut self) -> Select {
        let (name, alias) = self.table_source();
        from(name, alias)
    }

    /// An ON condition over the sources joined so far.
    fn join_condition(&mut self) -> Expr {
        let outer = self.on_level.replace(self.levels.len() - 1);
        let on = self.join_condition_inner();
        self.on_level = outer;
        on
    }

    fn join_condition_inner(&mut self) -> Expr {
        let level = &self.levels[self.levels.len() - 1];
        let sources = &level.sources;
        let joined = sources[sources.len() - 1].clone();
        let others: Vec<Source> = sources[level.on_visible_from..sources.len() - 1].to_vec();
        // The natural key pairs first: they make joins that find rows.
        for o in &others {
            for (a, b) in [
                ("property_id", "id"),
                ("lease_id", "id"),
                ("id", "property_id"),
                ("id", "lease_id"),
            ] {
                let has = |s: &Source, c: &str| s.table && s.cols.iter().any(|(x, _)| x == c);
                if has(&joined, a) && has(o, b) && self.tape.chance(70) {
                    let j = self.variant(&joined.name);
                    let other = self.variant(&o.name);
                    return col(&j, a).eq(col(&other, b));
                }
            }
        }
        match self.tape.pick(4) {
            0 => val(true),
            1 => {
                let int = |s: &Source| s.cols.iter().find(|(_, t)| *t == Ty::Int).cloned();
                match (int(&joined), others.first().and_then(int)) {
                    (Some((a, _)), Some((b, _))) => {
                        let j = self.variant(&joined.name);
                        let o = self.variant(&others[0].name);
                        col(&j, &a).eq(col(&o, &b))
                    }
                    _ => val(true),
                }
            }
            _ => self.cond(),
        }
    }

    fn write_table(&mut self) -> &'static TableSpec {
        TENANT_TABLES[self.tape.pick(3)]
    }

    /// The target of a write: the table's name, or a poisoned one.
    fn write_target(&mut self, spec: &TableSpec) -> String {
        if self.poison(Poison::GlobalWrite) {
            return self.variant("plans");
        }
        if self.poison(Poison::SystemTable) {
            return self.variant("tenants");
        }
        self.name(spec.name)
    }

    /// A column name of a write: in some case, or poisoned.
    fn write_column(&mut self, name: &str) -> String {
        if self.poison(Poison::TenantColumnWrite) {
            return self.variant("tenant_id");
        }
        if self.poison(Poison::UnknownColumn) {
            return "nope".to_owned();
        }
        self.name(name)
    }

    fn fk_value(&mut self) -> Expr {
        // Mostly the tenant's own parents (1, 2); now and then one that only
        // other tenants have (3 is nobody's) : "not found".
        val(match self.tape.pick(10) {
            0 => 3,
            1 => 2 + self.tape.pick(2) as i32,
            _ => 1 + self.tape.pick(2) as i32,
        })
    }

    fn value_for(&mut self, column: &str, ty: Ty) -> Expr {
        if column == "property_id" || column == "lease_id" {
            return self.fk_value();
        }
        if column == "id" {
            return val(10 + self.tape.pick(100) as i64);
        }
        if self.tape.chance(25) {
            self.expr(ty)
        } else {
            match ty {
                Ty::Int => self.int_value(),
                Ty::Text => self.text_value(),
            }
        }
    }

    fn insert(&mut self) -> Stmt {
        let spec = self.write_table();
        let target = self.write_target(spec);
        let mut order: Vec<(&'static str, Ty)> = spec.cols.to_vec();
        // Columns in any order.
        for i in (1..order.len()).rev() {
            let j = self.tape.pick(i + 1);
            order.swap(i, j);
        }
        let mut names: Vec<String> = order.iter().map(|(c, _)| self.write_column(c)).collect();
        if self.pending == Some(Poison::TenantColumnWrite) && self.injected.is_none() {
            // The tenant column as an extra column, value and all.
            if self.tape.chance(50) {
                self.injected = Some(Poison::TenantColumnWrite);
                names.push(self.variant("tenant_id"));
                order.push(("tenant_id", Ty::Text));
            }
        }
        let mut q = Insert::into(&target).columns(names.iter().map(String::as_str));
        let from_select = self.tape.chance(40);
        if from_select {
            self.record("insert select");
            let types: Vec<Ty> = order.iter().map(|(_, t)| *t).collect();
            // Keys that rarely collide: the generated id is offset.
            let offset_item = order.iter().position(|(c, _)| *c == "id");
            let parent_item = order.iter().position(|(c, _)| c.ends_with("_id"));
            // One row half of the time (an aggregate or LIMIT 1): several
            // rows often share a generated key.
            let single_row = self.tape.chance(50);
            let (source, _) = self.select(
                Some(&types),
                Opts {
                    offset_item,
                    parent_item,
                    single_row,
                    ..Opts::default()
                },
            );
            q = q.select_from(source);
        } else {
            self.record("insert values");
            for _ in 0..1 + self.tape.pick(2) {
                let row: Vec<Expr> = order
                    .iter()
                    .map(|(c, t)| {
                        if *c == "tenant_id" {
                            val(TenantId::from_u128(B).to_string())
                        } else {
                            self.value_for(c, *t)
                        }
                    })
                    .collect();
                q = q.exprs(row);
            }
        }
        // No upsert on INSERT … SELECT: MariaDB 10.11 crashes (signal 11)
        // on `INSERT … SELECT … LEFT JOIN … UNION (…) ON DUPLICATE KEY
        // UPDATE tenant_id = tenant_id`, the crate's "do nothing", and
        // refuses the rest as ambiguous; SQLite cannot parse it.
        match if from_select { 9 } else { self.tape.pick(10) } {
            0 | 1 => {
                self.record("upsert do nothing");
                let target = if spec.name == "properties" && self.tape.chance(30) {
                    "name"
                } else {
                    "id"
                };
                let t = self.variant(target);
                q = q.on_conflict_do_nothing([t.as_str()]);
            }
            2 | 3 => {
                self.record("upsert update");
                let updatable: Vec<&str> = spec
                    .cols
                    .iter()
                    .map(|(c, _)| *c)
                    .filter(|c| *c != "id")
                    .collect();
                let n = 1 + self.tape.pick(updatable.len());
                let mut cols: Vec<String> = Vec::new();
                for c in updatable.iter().take(n) {
                    cols.push(self.write_column(c));
                }
                let t = self.variant("id");
                q = q.on_conflict_update([t.as_str()], cols.iter().map(String::as_str));
            }
            _ => {}
        }
        let returning = self.tape.chance(20);
        if returning {
            self.record("returning");
            let mut cols: Vec<String> = Vec::new();
            for (c, _) in spec.cols.iter().take(1 + self.tape.pick(spec.cols.len())) {
                cols.push(self.variant(c));
            }
            if self.tape.chance(30) {
                cols.push(self.variant("tenant_id"));
            }
            q = q.returning(cols.iter().map(String::as_str));
        }
        Stmt::Insert(q, returning)
    }

    /// The target of an UPDATE or DELETE as the only source in scope.
    fn target_scope(&mut self, spec: &TableSpec) {
        self.levels.push(Level {
            sources: vec![Source {
                name: spec.name.to_owned(),
                cols: spec
                    .cols
                    .iter()
                    .map(|(c, t)| ((*c).to_owned(), *t))
                    .collect(),
                table: true,
                tenant: true,
            }],
            ..Level::default()
        });
    }

    fn write_filters<F>(&mut self, mut add: F)
    where
        F: FnMut(Expr),
    {
        let n = match self.tape.pick(10) {
            0..=2 => 0,
            3..=7 => 1,
            _ => 2,
        };
        for _ in 0..n {
            self.record("write filter");
            let c = self.cond();
            add(c);
        }
    }

    fn update(&mut self) -> Stmt {
        self.record("update");
        let spec = self.write_table();
        let target = self.write_target(spec);
        self.target_scope(spec);
        let settable: Vec<(&str, Ty)> = spec
            .cols
            .iter()
            .copied()
            .filter(|(c, _)| *c != "id")
            .collect();
        let start = self.tape.pick(settable.len());
        let n = 1 + self.tape.pick(settable.len());
        let mut q = Update::table(&target);
        for k in 0..n {
            let (c, t) = settable[(start + k) % settable.len()];
            let name = self.write_column(c);
            let value = if c.ends_with("_id") {
                self.fk_value()
            } else {
                self.expr(t)
            };
            q = q.set(&name, value);
        }
        let mut filters = Vec::new();
        self.write_filters(|c| filters.push(c));
        for f in filters {
            q = q.filter(f);
        }
        self.levels.pop();
        Stmt::Update(q)
    }

    fn delete(&mut self) -> Stmt {
        self.record("delete");
        let spec = self.write_table();
        let target = self.write_target(spec);
        self.target_scope(spec);
        let mut q = Delete::from(&target);
        let mut filters = Vec::new();
        self.write_filters(|c| filters.push(c));
        for f in filters {
            q = q.filter(f);
        }
        self.levels.pop();
        Stmt::Delete(q)
    }
}

impl Opts {
    fn default_arm() -> Opts {
        Opts {
            no_limit: true,
            arm: true,
            ..Opts::default()
        }
    }
}

fn from(name: String, alias: Option<String>) -> Select {
    match alias {
        Some(a) => Select::from_as(&name, &a),
        None => Select::from(&name),
    }
}

// Running cases.

/// True for text that belongs to tenant B or C.
pub fn foreign_text(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.contains(&format!("-t{B}"))
        || lower.contains(&format!("-t{C}"))
        || lower.contains(&TenantId::from_u128(B).to_string())
        || lower.contains(&TenantId::from_u128(C).to_string())
}

/// Every text cell of `rows` that carries a foreign marker.
fn foreign_cells(rows: &[tenancy_sql::DbRow]) -> Vec<String> {
    let mut out = Vec::new();
    for r in rows {
        for i in 0..r.len() {
            if let Some(s) = r.text(i)
                && foreign_text(&s)
            {
                out.push(s);
            }
        }
    }
    out
}

/// How a case went on one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Refused while preparing, with this typed error.
    Refused(String),
    /// Ran and committed (writes) or returned rows (reads).
    Ran,
    /// A typed error while running: a reference "not found", a server
    /// error, an aborted commit.
    Failed(String),
}

/// What one case found.
#[derive(Debug, Default)]
pub struct Report {
    /// Leaks seen by running the statement: `backend: what`.
    pub leaks: Vec<String>,
    /// Statements the oracle refused: `backend: why`.
    pub oracle: Vec<String>,
    /// Problems with the refusals (a poison accepted or refused with
    /// another error, backends that disagree).
    pub refusals: Vec<String>,
    /// Statements without poison that were refused all the same (safe, but
    /// coverage lost): `backend: error`.
    pub surprises: Vec<String>,
    pub outcomes: Vec<(String, Outcome)>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.leaks.is_empty() && self.oracle.is_empty() && self.refusals.is_empty()
    }
}

/// Counts per construct and outcomes per backend.
#[derive(Debug, Default)]
pub struct Stats {
    pub cases: usize,
    /// Cases without poison that some backend refused, by error.
    pub surprises: BTreeMap<String, usize>,
    pub surprising_cases: usize,
    pub constructs: BTreeMap<&'static str, usize>,
    pub outcomes: BTreeMap<(String, &'static str), usize>,
}

impl Stats {
    pub fn add(&mut self, case: &Case, report: &Report) {
        self.cases += 1;
        if !report.surprises.is_empty() {
            self.surprising_cases += 1;
        }
        for s in &report.surprises {
            let error = s.split_once(": ").map_or(s.as_str(), |(_, e)| e);
            *self.surprises.entry(error.to_owned()).or_default() += 1;
        }
        for c in &case.constructs {
            *self.constructs.entry(c).or_default() += 1;
        }
        for (label, outcome) in &report.outcomes {
            let kind = match outcome {
                Outcome::Refused(_) => "refused (typed, before sending)",
                Outcome::Ran => "ran",
                Outcome::Failed(_) => "failed (typed, while running)",
            };
            *self.outcomes.entry((label.clone(), kind)).or_default() += 1;
        }
    }

    /// Constructs no case exercised.
    pub fn missing(&self) -> Vec<&'static str> {
        CONSTRUCTS
            .iter()
            .copied()
            .filter(|c| self.constructs.get(c).copied().unwrap_or(0) == 0)
            .collect()
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} cases", self.cases);
        let _ = writeln!(out, "{:<36} {:>6}", "construct", "cases");
        for c in CONSTRUCTS {
            let n = self.constructs.get(c).copied().unwrap_or(0);
            let _ = writeln!(out, "{c:<36} {n:>6}");
        }
        let _ = writeln!(
            out,
            "{} cases without poison refused all the same",
            self.surprising_cases
        );
        for (e, n) in &self.surprises {
            let _ = writeln!(out, "  {n:>6} × {e}");
        }
        let _ = writeln!(out, "{:<22} {:<34} {:>6}", "backend", "outcome", "cases");
        for ((label, kind), n) in &self.outcomes {
            let _ = writeln!(out, "{label:<22} {kind:<34} {n:>6}");
        }
        out
    }
}

/// Every backend, seeded, with the state the checks compare against.
pub struct Harness {
    pub dbs: Vec<(String, TestDb)>,
    /// A tenant pool per backend with the leak tripwire off: the fuzzer
    /// judges the rows the statement returns, not the tripwire's verdict
    /// (which also trips on a caller's value in a column named like the
    /// tenant column, as a set-operation arm can put there).
    pools: Vec<TenantPool>,
    baseline: Vec<Vec<String>>,
    a_seed: Vec<Vec<String>>,
    pub oracle: Oracle,
}

impl Harness {
    pub async fn new() -> Harness {
        let schema = common::schema();
        let dbs = common::every_backend_seeded(&schema).await;
        let mut baseline = Vec::new();
        let mut a_seed = Vec::new();
        let mut pools = Vec::new();
        for (_, db) in &dbs {
            pools.push(
                db.pool_for_schema(schema.clone())
                    .await
                    .with_tripwire(false),
            );
            baseline.push(common::foreign_state(db).await);
            a_seed.push(common::snapshot(db, A).await);
        }
        Harness {
            dbs,
            pools,
            baseline,
            a_seed,
            oracle: Oracle::new(&schema),
        }
    }

    pub async fn cleanup(self) {
        for pool in &self.pools {
            pool.close().await;
        }
        for (_, db) in self.dbs {
            db.cleanup().await;
        }
    }

    /// Puts every tenant's rows back as seeded (after a leak changed them).
    pub async fn reset(&self) {
        for (_, db) in &self.dbs {
            restore(db, &[A, B, C]).await;
        }
    }

    /// Prepares `case` under tenant A on every backend, checks it with the
    /// oracle, runs it, and checks what it read and what it left.
    pub async fn run(&self, case: &Case) -> Report {
        let mut report = Report::default();
        for (i, (label, db)) in self.dbs.iter().enumerate() {
            let outcome = self.run_on(i, label, db, case, &mut report).await;
            report.outcomes.push((label.clone(), outcome));
        }
        // The scoper decides before any backend-specific work: every
        // backend must agree on accepting or refusing.
        let verdicts: BTreeSet<String> = report
            .outcomes
            .iter()
            .filter(|(label, o)| !matches!(o, Outcome::Refused(e) if e.ends_with(&format!(" on {label}"))))
            .map(|(_, o)| match o {
                Outcome::Refused(e) => e.clone(),
                _ => "accepted".to_owned(),
            })
            .collect();
        if verdicts.len() > 1 {
            report
                .refusals
                .push(format!("backends disagree: {:?}", report.outcomes));
        }
        report
    }

    async fn run_on(
        &self,
        i: usize,
        label: &str,
        db: &TestDb,
        case: &Case,
        report: &mut Report,
    ) -> Outcome {
        let prepared = match case.stmt.prepare(self.pools[i].schema(), db.backend) {
            Ok(p) => p,
            Err(e) if case.poison.is_none() && backend_refuses(&case.stmt, db.backend, &e) => {
                return Outcome::Refused(format!("{} on {label}", variant(&e)));
            }
            Err(e) => {
                match case.poison {
                    Some(p) if p.expects(&e) => {}
                    Some(p) => report
                        .refusals
                        .push(format!("{label}: {p:?} refused with another error: {e}")),
                    // A typed refusal keeps the tenant safe; it is counted,
                    // and the run fails only if they crowd out the cases.
                    None => report.surprises.push(format!("{label}: {e}")),
                }
                return Outcome::Refused(variant(&e));
            }
        };
        if let Some(p) = case.poison {
            report
                .refusals
                .push(format!("{label}: {p:?} was accepted: {}", prepared.sql()));
        }
        if let Err(v) = self.oracle.check(&prepared) {
            report
                .oracle
                .push(format!("{label}: {v}\n    {}", prepared.sql()));
        }
        let ran = self
            .execute(label, &self.pools[i], &case.stmt, &prepared, report)
            .await;
        if case.stmt.is_write() {
            let after = common::foreign_state(db).await;
            if after != self.baseline[i] {
                report.leaks.push(format!(
                    "{label}: another tenant's rows changed\n    {}",
                    prepared.sql()
                ));
                restore(db, &[B, C]).await;
            }
            let mine = common::snapshot(db, A).await;
            if let Some(s) = mine.iter().find(|s| foreign_text(s)) {
                report.leaks.push(format!(
                    "{label}: a foreign marker was written into tenant A's rows: {s}\n    {}",
                    prepared.sql()
                ));
            }
            if mine != self.a_seed[i] {
                restore(db, &[A]).await;
            }
        }
        ran
    }

    async fn execute(
        &self,
        label: &str,
        pool: &TenantPool,
        stmt: &Stmt,
        prepared: &Prepared,
        report: &mut Report,
    ) -> Outcome {
        let mut tx = match pool.begin(&common::ctx(A)).await {
            Ok(tx) => tx,
            Err(e) => return Outcome::Failed(format!("begin: {e}")),
        };
        let result = if stmt.fetches() {
            tx.fetch_all(prepared).await.map(Some)
        } else {
            tx.execute(prepared).await.map(|_| None)
        };
        // INVARIANT: a transaction is finished here, never dropped: a
        // dropped one rolls back only when its connection is used again,
        // and until then its locks stall the owner's checks.
        // INVARIANT: every transaction is finished here, never dropped: a
        // dropped one rolls back only when its connection is used again,
        // and until then its locks stall the owner's checks.
        let rows = match result {
            Ok(rows) => rows,
            Err(e) => {
                let _ = tx.rollback().await;
                return self.failed(label, prepared, e, report);
            }
        };
        if let Some(rows) = &rows {
            let foreign = foreign_cells(rows);
            if !foreign.is_empty() {
                report.leaks.push(format!(
                    "{label}: read another tenant's rows: {foreign:?}\n    {}",
                    prepared.sql()
                ));
            }
        }
        if !stmt.is_write() {
            let _ = tx.rollback().await;
        } else if let Err(e) = tx.commit().await {
            return Outcome::Failed(variant(&e));
        }
        Outcome::Ran
    }

    fn failed(&self, label: &str, prepared: &Prepared, e: Error, report: &mut Report) -> Outcome {
        match e {
            Error::LeakPrevented => {
                report.leaks.push(format!(
                    "{label}: the tripwire saw another tenant's row\n    {}",
                    prepared.sql()
                ));
                Outcome::Failed("LeakPrevented".to_owned())
            }
            e => {
                if std::env::var("TENANCY_FUZZ_VERBOSE").is_ok() {
                    println!(
                        "{label}: {e}\n    {}\n    {:?}",
                        prepared.sql(),
                        prepared.values()
                    );
                }
                Outcome::Failed(variant(&e))
            }
        }
    }
}

/// A refusal particular to one backend, documented by the crate: MySQL and
/// MariaDB have no safe RETURNING, and SQLite and MySQL refuse the shapes
/// they cannot run as written (an upsert with a select source, a
/// set-operation arm with its own ORDER BY/LIMIT/CTE, OFFSET without LIMIT).
fn backend_refuses(stmt: &Stmt, backend: Backend, e: &Error) -> bool {
    let Error::Unsupported(reason) = e else {
        return false;
    };
    match backend {
        Backend::Postgres => false,
        Backend::MySql if matches!(stmt, Stmt::Insert(_, true)) => true,
        _ => matches!(
            reason,
            UnsupportedShape::OffsetWithoutLimit
                | UnsupportedShape::SetOperationArmClauses
                | UnsupportedShape::UpsertWithSelectSource
        ),
    }
}

/// The variant of a typed error, for comparing backends.
fn variant(e: &Error) -> String {
    let debug = format!("{e:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Deletes `tenants`' rows and inserts their seed again, as the owner and in
/// raw SQL, so a broken scoper cannot take part in it.
pub async fn restore(db: &TestDb, tenants: &[u128]) {
    for t in tenants {
        let id = TenantId::from_u128(*t);
        for table in ["payments", "leases", "properties"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE tenant_id = '{id}'"
            )))
            .execute(&db.admin)
            .await
            .unwrap();
        }
        let statements = [
            format!(
                "INSERT INTO properties (tenant_id, id, name, address) VALUES \
                 ('{id}', 1, 'p1-t{t}', 'addr-t{t}'), ('{id}', 2, 'p2-t{t}', 'addr-t{t}')"
            ),
            format!(
                "INSERT INTO leases (tenant_id, id, property_id, lessee, rent_cents) VALUES \
                 ('{id}', 1, 1, 'lessee-1-t{t}', {}), ('{id}', 2, 2, 'lessee-2-t{t}', {})",
                1000 * t + 1,
                1000 * t + 2
            ),
            format!(
                "INSERT INTO payments (tenant_id, id, lease_id, amount_cents) VALUES \
                 ('{id}', 1, 1, 500)"
            ),
        ];
        for s in statements {
            sqlx::query(sqlx::AssertSqlSafe(s.as_str()))
                .execute(&db.admin)
                .await
                .unwrap();
        }
    }
}

/// `TENANCY_FUZZ_CASES`, default 1,000.
pub fn cases_from_env() -> u32 {
    std::env::var("TENANCY_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// `TENANCY_FUZZ_SEED`, default a fixed seed (so CI is repeatable); a
/// longer run should vary it.
pub fn seed_from_env() -> u64 {
    std::env::var("TENANCY_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x7e4a_4c1e)
}

/// A deterministic proptest runner for `cases` cases from `seed`.
pub fn runner(cases: u32, seed: u64) -> proptest::test_runner::TestRunner {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 400,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// The tapes cases are made of.
pub fn tapes() -> impl proptest::strategy::Strategy<Value = Vec<u32>> {
    proptest::collection::vec(proptest::prelude::any::<u32>(), 0..300)
}

/// Values bound to a statement, for failure messages.
pub fn describe(case: &Case) -> String {
    format!("{:?}", case.stmt)
}
