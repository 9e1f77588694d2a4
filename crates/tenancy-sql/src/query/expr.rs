//! The typed expression surface: what a scoped statement may say.
//!
//! An [`Expr`] is a tree of nodes the scoper understands: columns (resolved
//! against the schema when the statement is prepared), bound values,
//! operators, a closed set of [`Function`]s, `CASE`, casts to a few
//! [`SqlType`]s, and subqueries built as scoped [`Select`]s. There is no node
//! for SQL text, no free function name and no raw sea-query statement, so a
//! condition that escapes the tenant predicate, a subquery that skips it or a
//! function that runs SQL from a string cannot be written.
//!
//! ```
//! use tenancy_sql::{col, count_all, exists, val, Select};
//!
//! let late = col("leases", "rent_cents").gt(100_000).and(col("leases", "lessee").like("A%"));
//! let with_payments = exists(Select::from("payments").column("id").filter(col("payments", "lease_id").eq(col("leases", "id"))));
//! let q = Select::from("leases").expr(count_all()).filter(late.or(with_payments)).filter(val(1).eq(1));
//! # let _ = q;
//! ```

use sea_query::Value;

use super::select::Select;

/// A typed expression. Build it with [`col`], [`column()`], [`val`], the
/// subquery functions ([`exists`], [`scalar`]) and the methods below.
#[derive(Debug, Clone)]
#[must_use]
pub struct Expr {
    pub(crate) node: Node,
}

/// The closed set of functions a scoped statement may call. None of them
/// reads or changes session state (`set_config`, `current_setting`), reaches
/// outside the query (`dblink`, `pg_read_file`, `lo_*`) or runs SQL given as
/// a string (`query_to_xml`); a function outside this set cannot be named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Function {
    /// `COUNT(x)`.
    Count,
    /// `COUNT(DISTINCT x)`.
    CountDistinct,
    /// `SUM(x)`.
    Sum,
    /// `MIN(x)`.
    Min,
    /// `MAX(x)`.
    Max,
    /// `AVG(x)`.
    Avg,
    /// `LOWER(x)`.
    Lower,
    /// `UPPER(x)`.
    Upper,
    /// `ABS(x)`.
    Abs,
    /// `CHAR_LENGTH(x)` (`LENGTH` on SQLite).
    CharLength,
    /// `COALESCE(x, y, …)`.
    Coalesce,
    /// `ROUND(x)`.
    Round,
}

/// The types an expression may be cast to, spelled per backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SqlType {
    /// Text (`text`, `CHAR`, `TEXT`).
    Text,
    /// A 64-bit integer (`bigint`, `SIGNED`, `INTEGER`).
    BigInt,
    /// A double (`double precision`, `DOUBLE`, `REAL`).
    Double,
}

/// Sort direction of an `ORDER BY` term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Like,
    NotLike,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubKind {
    Exists,
    NotExists,
    In,
    NotIn,
    Scalar,
}

/// A column as the caller named it, `table.column` or `column`, kept in
/// one allocation (a statement names many columns; each is resolved
/// against the schema only when the statement is prepared).
#[derive(Debug, Clone)]
pub(crate) struct ColumnName {
    /// The qualifier followed by the column, without a separator.
    text: String,
    /// How many bytes of `text` the qualifier takes; `None` when unqualified.
    table_len: Option<usize>,
}

impl ColumnName {
    fn new(table: Option<&str>, column: &str) -> Self {
        let table_len = table.map(str::len);
        let mut text = String::with_capacity(table_len.unwrap_or(0) + column.len());
        if let Some(table) = table {
            text.push_str(table);
        }
        text.push_str(column);
        ColumnName { text, table_len }
    }

    /// The qualifier, as the caller wrote it.
    pub(crate) fn table(&self) -> Option<&str> {
        // `table_len` is the length of a whole `&str` pushed first, so it
        // falls on a character boundary.
        self.table_len.and_then(|n| self.text.get(..n))
    }

    /// The column, as the caller wrote it.
    pub(crate) fn column(&self) -> &str {
        self.text
            .get(self.table_len.unwrap_or(0)..)
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Column(ColumnName),
    Value(Value),
    Not(Box<Node>),
    Neg(Box<Node>),
    /// Both operands in one allocation.
    Binary(BinOp, Box<(Node, Node)>),
    IsNull {
        expr: Box<Node>,
        negate: bool,
    },
    InList {
        expr: Box<Node>,
        list: Vec<Value>,
        negate: bool,
    },
    Between {
        expr: Box<Node>,
        low: Box<Node>,
        high: Box<Node>,
    },
    Call(Function, Vec<Node>),
    CountAll,
    Cast(Box<Node>, SqlType),
    Case {
        whens: Vec<(Node, Node)>,
        otherwise: Option<Box<Node>>,
    },
    CurrentTimestamp,
    /// A subquery built through the scoped API; scoped when prepared.
    Sub {
        kind: SubKind,
        lhs: Option<Box<Node>>,
        select: Box<Select>,
    },
}

/// `table.column`, where `table` is a table of the statement or its alias.
/// Names are resolved against the schema when the statement is prepared.
pub fn col(table: &str, column: &str) -> Expr {
    Expr {
        node: Node::Column(ColumnName::new(Some(table), column)),
    }
}

/// An unqualified column (or an output alias, in `ORDER BY` and `HAVING`).
pub fn column(name: &str) -> Expr {
    Expr {
        node: Node::Column(ColumnName::new(None, name)),
    }
}

/// A value, always sent as a bound parameter.
pub fn val(value: impl Into<Value>) -> Expr {
    Expr {
        node: Node::Value(value.into()),
    }
}

/// `EXISTS (sub)`; `sub` is scoped too.
pub fn exists(sub: Select) -> Expr {
    Expr::subquery(SubKind::Exists, None, sub)
}

/// `NOT EXISTS (sub)`; `sub` is scoped too.
pub fn not_exists(sub: Select) -> Expr {
    Expr::subquery(SubKind::NotExists, None, sub)
}

/// `(sub)` as a scalar value; `sub` is scoped too.
pub fn scalar(sub: Select) -> Expr {
    Expr::subquery(SubKind::Scalar, None, sub)
}

/// `COUNT(*)`.
pub fn count_all() -> Expr {
    Expr {
        node: Node::CountAll,
    }
}

/// `CURRENT_TIMESTAMP`.
pub fn current_timestamp() -> Expr {
    Expr {
        node: Node::CurrentTimestamp,
    }
}

/// `f(args…)` for a function of the closed [`Function`] set.
pub fn call(function: Function, args: impl IntoIterator<Item = Expr>) -> Expr {
    Expr {
        node: Node::Call(function, args.into_iter().map(|a| a.node).collect()),
    }
}

/// `CASE WHEN c1 THEN v1 … ELSE otherwise END`.
pub fn case(
    whens: impl IntoIterator<Item = (Expr, Expr)>,
    otherwise: impl Into<Option<Expr>>,
) -> Expr {
    Expr {
        node: Node::Case {
            whens: whens.into_iter().map(|(c, v)| (c.node, v.node)).collect(),
            otherwise: otherwise.into().map(|e| Box::new(e.node)),
        },
    }
}

/// Every condition holds (`TRUE` when there are none). The conditions are
/// combined as a balanced tree, so a long list stays shallow.
pub fn all(conditions: impl IntoIterator<Item = Expr>) -> Expr {
    balanced(conditions.into_iter().collect(), BinOp::And).unwrap_or_else(|| val(true))
}

/// At least one condition holds (`FALSE` when there are none), combined as
/// a balanced tree like [`all`].
pub fn any(conditions: impl IntoIterator<Item = Expr>) -> Expr {
    balanced(conditions.into_iter().collect(), BinOp::Or).unwrap_or_else(|| val(false))
}

/// `a op b op c …` as a tree of depth log2(n), not n.
fn balanced(mut items: Vec<Expr>, op: BinOp) -> Option<Expr> {
    while items.len() > 1 {
        let mut next = Vec::with_capacity(items.len().div_ceil(2));
        let mut it = items.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => a.binary(op, b),
                None => a,
            });
        }
        items = next;
    }
    items.pop()
}

macro_rules! binary {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(self, rhs: impl Into<Expr>) -> Expr {
                self.binary(BinOp::$op, rhs.into())
            }
        )*
    };
}

/// Like `binary!`, for the names `std::ops` also uses: builder methods
/// chain like sea-query's, where an operator would read as Rust arithmetic.
macro_rules! arithmetic {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {
        $(
            $(#[$doc])*
            #[expect(clippy::should_implement_trait, reason = "a builder method, not arithmetic")]
            pub fn $name(self, rhs: impl Into<Expr>) -> Expr {
                self.binary(BinOp::$op, rhs.into())
            }
        )*
    };
}

macro_rules! unary_call {
    ($($(#[$doc:meta])* $name:ident => $function:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(self) -> Expr {
                Expr { node: Node::Call(Function::$function, vec![self.node]) }
            }
        )*
    };
}

impl Expr {
    fn binary(self, op: BinOp, rhs: Expr) -> Expr {
        Expr {
            node: Node::Binary(op, Box::new((self.node, rhs.node))),
        }
    }

    fn subquery(kind: SubKind, lhs: Option<Expr>, select: Select) -> Expr {
        Expr {
            node: Node::Sub {
                kind,
                lhs: lhs.map(|e| Box::new(e.node)),
                select: Box::new(select),
            },
        }
    }

    arithmetic! {
        /// `self + rhs`.
        add => Add;
        /// `self - rhs`.
        sub => Sub;
        /// `self * rhs`.
        mul => Mul;
        /// `self / rhs`.
        div => Div;
    }

    binary! {
        /// `self % rhs`.
        modulo => Mod;
        /// `self AND rhs`.
        and => And;
        /// `self OR rhs`; the whole condition stays under the tenant predicate.
        or => Or;
        /// `self = rhs`.
        eq => Eq;
        /// `self <> rhs`.
        ne => Ne;
        /// `self < rhs`.
        lt => Lt;
        /// `self <= rhs`.
        lte => Lte;
        /// `self > rhs`.
        gt => Gt;
        /// `self >= rhs`.
        gte => Gte;
    }

    /// `self LIKE pattern`; the pattern is a bound value.
    pub fn like(self, pattern: impl Into<String>) -> Expr {
        self.binary(BinOp::Like, val(pattern.into()))
    }

    /// `self NOT LIKE pattern`; the pattern is a bound value.
    pub fn not_like(self, pattern: impl Into<String>) -> Expr {
        self.binary(BinOp::NotLike, val(pattern.into()))
    }

    /// `NOT self`.
    #[expect(
        clippy::should_implement_trait,
        reason = "builder methods chain like sea-query's"
    )]
    pub fn not(self) -> Expr {
        Expr {
            node: Node::Not(Box::new(self.node)),
        }
    }

    /// `-self`.
    #[expect(
        clippy::should_implement_trait,
        reason = "builder methods chain like sea-query's"
    )]
    pub fn neg(self) -> Expr {
        Expr {
            node: Node::Neg(Box::new(self.node)),
        }
    }

    /// `self IS NULL`.
    pub fn is_null(self) -> Expr {
        Expr {
            node: Node::IsNull {
                expr: Box::new(self.node),
                negate: false,
            },
        }
    }

    /// `self IS NOT NULL`.
    pub fn is_not_null(self) -> Expr {
        Expr {
            node: Node::IsNull {
                expr: Box::new(self.node),
                negate: true,
            },
        }
    }

    /// `self IN (v1, v2, …)`, every value bound.
    pub fn is_in<V: Into<Value>>(self, values: impl IntoIterator<Item = V>) -> Expr {
        self.in_list(values, false)
    }

    /// `self NOT IN (v1, v2, …)`, every value bound.
    pub fn is_not_in<V: Into<Value>>(self, values: impl IntoIterator<Item = V>) -> Expr {
        self.in_list(values, true)
    }

    fn in_list<V: Into<Value>>(self, values: impl IntoIterator<Item = V>, negate: bool) -> Expr {
        Expr {
            node: Node::InList {
                expr: Box::new(self.node),
                list: values.into_iter().map(Into::into).collect(),
                negate,
            },
        }
    }

    /// `self IN (sub)`; `sub` is scoped too.
    pub fn in_subquery(self, sub: Select) -> Expr {
        Expr::subquery(SubKind::In, Some(self), sub)
    }

    /// `self NOT IN (sub)`; `sub` is scoped too.
    pub fn not_in_subquery(self, sub: Select) -> Expr {
        Expr::subquery(SubKind::NotIn, Some(self), sub)
    }

    /// `self BETWEEN low AND high`.
    pub fn between(self, low: impl Into<Expr>, high: impl Into<Expr>) -> Expr {
        Expr {
            node: Node::Between {
                expr: Box::new(self.node),
                low: Box::new(low.into().node),
                high: Box::new(high.into().node),
            },
        }
    }

    /// `CAST(self AS ty)`, the type spelled for the backend.
    pub fn cast(self, ty: SqlType) -> Expr {
        Expr {
            node: Node::Cast(Box::new(self.node), ty),
        }
    }

    /// `COALESCE(self, other)`.
    pub fn if_null(self, other: impl Into<Expr>) -> Expr {
        call(Function::Coalesce, [self, other.into()])
    }

    unary_call! {
        /// `COUNT(self)`.
        count => Count;
        /// `COUNT(DISTINCT self)`.
        count_distinct => CountDistinct;
        /// `SUM(self)`.
        sum => Sum;
        /// `MIN(self)`.
        min => Min;
        /// `MAX(self)`.
        max => Max;
        /// `AVG(self)`.
        avg => Avg;
        /// `LOWER(self)`.
        lower => Lower;
        /// `UPPER(self)`.
        upper => Upper;
        /// `ABS(self)`.
        abs => Abs;
        /// `CHAR_LENGTH(self)`.
        char_length => CharLength;
        /// `ROUND(self)`.
        round => Round;
    }
}

macro_rules! from_value {
    ($($ty:ty),*) => {
        $(
            impl From<$ty> for Expr {
                fn from(v: $ty) -> Expr {
                    val(v)
                }
            }
            impl From<Option<$ty>> for Expr {
                fn from(v: Option<$ty>) -> Expr {
                    val(v)
                }
            }
        )*
    };
}

from_value!(
    bool, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, String, char
);

impl From<&str> for Expr {
    fn from(v: &str) -> Expr {
        val(v)
    }
}

impl From<&String> for Expr {
    fn from(v: &String) -> Expr {
        val(v.as_str())
    }
}

impl From<Option<&str>> for Expr {
    fn from(v: Option<&str>) -> Expr {
        val(v)
    }
}

impl From<Vec<u8>> for Expr {
    fn from(v: Vec<u8>) -> Expr {
        val(v)
    }
}

impl From<Value> for Expr {
    fn from(v: Value) -> Expr {
        Expr {
            node: Node::Value(v),
        }
    }
}
