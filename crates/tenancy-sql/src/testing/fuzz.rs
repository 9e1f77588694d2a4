//! Random statements over the user's own tables, built with the public
//! builders, that try to reach another tenant: foreign ids in filters,
//! conditions widened with `OR 1 = 1`, joins along the declared
//! references, subqueries, CTEs, set operations, counts, and writes that
//! aim at or point to another tenant's rows.
//!
//! The generator knows only the schema and the seeded ids; whether a case
//! leaked is decided by the markers and the snapshots, never by the SQL.

use proptest::prelude::Rng;
use proptest::test_runner::{RngAlgorithm, TestRng};
use sea_query::Value;

use super::columns::Kind;
use super::marker::{self, SeedId};
use super::seed::{Seed, Table};
use crate::{
    Delete, Expr, Insert, Select, SqlType, TableKind, Update, col, count_all, scalar, val,
};

/// A statement of any kind.
#[derive(Debug, Clone)]
pub(crate) enum Stmt {
    Select(Select),
    Insert(Insert),
    Update(Update),
    Delete(Delete),
}

/// One generated case.
#[derive(Debug, Clone)]
pub(crate) struct FuzzCase {
    pub(crate) shape: &'static str,
    pub(crate) stmt: Stmt,
    /// The count the statement must return (the acting tenant's rows),
    /// when it is a count over a whole table.
    pub(crate) expect_count: Option<i64>,
}

/// Draws cases for `actor` against `victim`.
pub(crate) struct Gen<'a> {
    seed: &'a Seed,
    rng: TestRng,
    pub(crate) actor: usize,
    pub(crate) victim: usize,
}

fn to_expr(id: &SeedId) -> Expr {
    match id {
        SeedId::Int(n) => val(*n),
        SeedId::Text(s) => val(s.as_str()),
    }
}

fn always() -> Expr {
    val(1).eq(val(1))
}

impl<'a> Gen<'a> {
    pub(crate) fn new(seed: &'a Seed, fuzz_seed: u64) -> Gen<'a> {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&fuzz_seed.to_le_bytes());
        Gen {
            seed,
            rng: TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
            actor: 0,
            victim: 1,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n.max(1) as u64) as usize
    }

    fn coin(&mut self) -> bool {
        self.rng.next_u64().is_multiple_of(2)
    }

    fn tenant_tables(&self) -> Vec<&'a Table> {
        let seed: &'a Seed = self.seed;
        seed.tables
            .iter()
            .filter(|t| t.kind == TableKind::Tenant && !t.id_columns.is_empty())
            .collect()
    }

    fn pick(&mut self) -> Option<&'a Table> {
        let tables = self.tenant_tables();
        if tables.is_empty() {
            return None;
        }
        let i = self.below(tables.len());
        Some(tables[i])
    }

    fn id_column(table: &Table) -> &str {
        table.id_columns.first().map_or("id", String::as_str)
    }

    /// A row with an id of the tenant's own (row 0's id is shared).
    fn row(&mut self) -> usize {
        1 + self.below(self.seed.rows - 1)
    }

    fn foreign_id(&mut self, table: &Table) -> Expr {
        let row = self.row();
        self.seed
            .id(&table.name, self.victim, row)
            .map_or_else(|| val(0), |id| to_expr(&id))
    }

    fn own_id(&mut self, table: &Table) -> Expr {
        let row = self.row();
        self.seed
            .id(&table.name, self.actor, row)
            .map_or_else(|| val(0), |id| to_expr(&id))
    }

    /// Every column of `table`, those that are not integers or text cast
    /// to text, so each value can be searched for markers.
    fn select_columns(&mut self, select: Select, table: &Table, alias: &str) -> Select {
        let mut select = select;
        for (i, c) in table.columns.iter().enumerate() {
            let plain = matches!(c.kind, Kind::Int | Kind::SmallInt | Kind::Text(_));
            let expr = col(alias, &c.name);
            select = if plain && self.coin() {
                select.column_of(alias, &c.name)
            } else {
                select.expr_as(expr.cast(SqlType::Text), &format!("{alias}_{i}"))
            };
        }
        select
    }

    /// A condition on `table` that tries to take in other tenants' rows.
    fn hostile_filter(&mut self, table: &Table, alias: &str) -> Expr {
        let id = col(alias, Self::id_column(table));
        match self.below(4) {
            0 => id.eq(self.foreign_id(table)),
            1 => id.eq(self.own_id(table)).or(always()),
            2 => {
                let (foreign, own) = (self.foreign_id(table), self.own_id(table));
                id.clone().eq(foreign).or(id.eq(own))
            }
            _ => always().or(val(0).eq(val(1))),
        }
    }

    /// The next case.
    pub(crate) fn case(&mut self) -> Option<FuzzCase> {
        let table = self.pick()?;
        let shape = self.below(15);
        Some(match shape {
            13 => self.scalar(table),
            14 => self.derived(table),
            0 => self.filter(table),
            1 => self.join(table),
            2 => self.cross(table),
            3 => self.exists(table),
            4 => self.in_subquery(table),
            5 => self.count(table),
            6 => self.cte(table),
            7 => self.union(table),
            8 => self.update(table),
            9 => self.delete(table),
            10 => self.insert_reference(table),
            11 => self.update_reference(table),
            _ => self.copy(table),
        })
    }

    fn read(shape: &'static str, select: Select) -> FuzzCase {
        FuzzCase {
            shape,
            stmt: Stmt::Select(select),
            expect_count: None,
        }
    }

    fn filter(&mut self, t: &Table) -> FuzzCase {
        let select = self.select_columns(Select::from(&t.name), t, &t.name);
        let filter = self.hostile_filter(t, &t.name);
        Self::read("select with a hostile filter", select.filter(filter))
    }

    fn join(&mut self, t: &Table) -> FuzzCase {
        let Some((c, parent, p)) = t.references.first().cloned() else {
            return self.filter(t);
        };
        let Some(ptable) = self.seed.table(&parent) else {
            return self.filter(t);
        };
        let alias = "lk_parent";
        let select = self.select_columns(Select::from(&t.name), t, &t.name);
        let select = self.select_columns(select, ptable, alias);
        let on = col(alias, &p).eq(col(&t.name, &c));
        let select = if self.coin() {
            select.inner_join_as(&parent, alias, on)
        } else {
            select.left_join_as(&parent, alias, on)
        };
        let filter = self.hostile_filter(ptable, alias);
        Self::read("join along a reference", select.filter(filter))
    }

    fn cross(&mut self, t: &Table) -> FuzzCase {
        let other = self.pick().unwrap_or(t);
        let alias = "lk_other";
        let select = self.select_columns(Select::from(&t.name), t, &t.name);
        let select = self.select_columns(select.and_from_as(&other.name, alias), other, alias);
        let filter = self.hostile_filter(other, alias);
        Self::read("cross join", select.filter(filter))
    }

    fn exists(&mut self, t: &Table) -> FuzzCase {
        let other = self.pick().unwrap_or(t);
        let alias = "lk_sub";
        let filter = self.hostile_filter(other, alias);
        let sub = Select::from_as(&other.name, alias)
            .column_of(alias, Self::id_column(other))
            .filter(filter);
        let select = self.select_columns(Select::from(&t.name), t, &t.name);
        let select = if self.coin() {
            select.filter_exists(sub)
        } else {
            select.filter_not_exists(sub)
        };
        Self::read("exists over another table", select)
    }

    fn in_subquery(&mut self, t: &Table) -> FuzzCase {
        let alias = "lk_sub";
        let filter = self.hostile_filter(t, alias);
        let id = Self::id_column(t);
        let sub = Select::from_as(&t.name, alias)
            .column_of(alias, id)
            .filter(filter);
        let select = self.select_columns(Select::from(&t.name), t, &t.name);
        Self::read("in a subquery", select.filter_in(col(&t.name, id), sub))
    }

    /// A value of another table's row, as a column of each row.
    fn scalar(&mut self, t: &Table) -> FuzzCase {
        let other = self.pick().unwrap_or(t);
        let alias = "lk_sub";
        let filter = self.hostile_filter(other, alias);
        let shown = other
            .data_columns()
            .next()
            .map_or_else(|| Self::id_column(other).to_owned(), |c| c.name.clone());
        let sub = Select::from_as(&other.name, alias)
            .expr(col(alias, &shown).cast(SqlType::Text))
            .filter(filter)
            .limit(1);
        let select = self.select_columns(Select::from(&t.name), t, &t.name);
        Self::read(
            "a scalar subquery",
            select.expr_as(scalar(sub), "lk_scalar"),
        )
    }

    /// The table read through a derived table.
    fn derived(&mut self, t: &Table) -> FuzzCase {
        let alias = "lk_derived";
        let filter = self.hostile_filter(t, &t.name);
        let inner = self
            .select_columns(Select::from(&t.name), t, &t.name)
            .filter(filter);
        Self::read("a derived table", Select::from_subquery(inner, alias).all())
    }

    fn count(&mut self, t: &Table) -> FuzzCase {
        let id = col(&t.name, Self::id_column(t));
        let filter = id.eq(self.foreign_id(t)).or(always());
        FuzzCase {
            shape: "count over a widened filter",
            stmt: Stmt::Select(
                Select::from(&t.name)
                    .expr_as(count_all().cast(SqlType::BigInt), "lk_n")
                    .filter(filter),
            ),
            expect_count: Some(self.seed.rows as i64),
        }
    }

    fn cte(&mut self, t: &Table) -> FuzzCase {
        let filter = self.hostile_filter(t, &t.name);
        let body = self
            .select_columns(Select::from(&t.name), t, &t.name)
            .filter(filter);
        Self::read(
            "a cte over the table",
            Select::from("lk_cte").all().with_cte("lk_cte", body),
        )
    }

    fn union(&mut self, t: &Table) -> FuzzCase {
        let other = self.pick().unwrap_or(t);
        let arm = |g: &mut Self, table: &Table| {
            let filter = g.hostile_filter(table, &table.name);
            Select::from(&table.name)
                .expr_as(
                    col(&table.name, Self::id_column(table)).cast(SqlType::Text),
                    "lk_id",
                )
                .filter(filter)
        };
        let first = arm(self, t);
        let second = arm(self, other);
        let select = if self.coin() {
            first.union(second)
        } else {
            first.union_all(second)
        };
        Self::read("a set operation", select)
    }

    /// A value of the acting tenant for `column`, or `None` when none fits.
    fn own_value(&mut self, table: &Table, kind: &Kind) -> Option<Expr> {
        let row = 900 + self.below(50);
        match kind {
            Kind::Int => Some(val(marker::int_value(self.actor, table.number, row, 0))),
            Kind::Text(_) if kind.holds_marker() => {
                Some(val(marker::text(self.actor, table.number, row, 0)))
            }
            _ => None,
        }
    }

    fn writable(&mut self, t: &Table) -> Option<(String, Expr)> {
        let columns: Vec<(String, Kind)> = t
            .data_columns()
            .map(|c| (c.name.clone(), c.kind.clone()))
            .collect();
        if columns.is_empty() {
            return None;
        }
        let (name, kind) = columns[self.below(columns.len())].clone();
        Some((name, self.own_value(t, &kind)?))
    }

    fn update(&mut self, t: &Table) -> FuzzCase {
        let Some((column, value)) = self.writable(t) else {
            return self.delete(t);
        };
        let filter = self.hostile_filter(t, &t.name);
        FuzzCase {
            shape: "update with a hostile filter",
            stmt: Stmt::Update(Update::table(&t.name).set(&column, value).filter(filter)),
            expect_count: None,
        }
    }

    fn delete(&mut self, t: &Table) -> FuzzCase {
        let filter = self.hostile_filter(t, &t.name);
        FuzzCase {
            shape: "delete with a hostile filter",
            stmt: Stmt::Delete(Delete::from(&t.name).filter(filter)),
            expect_count: None,
        }
    }

    /// A new row of `t` with every reference pointing at the victim.
    fn insert_reference(&mut self, t: &Table) -> FuzzCase {
        if t.references.is_empty() {
            return self.update(t);
        }
        let mut columns = Vec::new();
        let mut values = Vec::new();
        for c in t.columns.iter().filter(|c| !c.generated) {
            if c.name.eq_ignore_ascii_case(&t.tenant_column) {
                continue;
            }
            let value =
                if let Some((_, parent, _)) = t.references.iter().find(|(r, ..)| *r == c.name) {
                    match self.seed.table(parent) {
                        Some(p) => self.foreign_id(p),
                        None => continue,
                    }
                } else if t.id_columns.contains(&c.name) {
                    match &c.kind {
                        Kind::Int => val(marker::int_id(
                            self.actor,
                            t.number,
                            5_000 + self.below(4_000),
                        )),
                        k if k.holds_uuid() => val(marker::uuid_id(
                            self.actor,
                            t.number,
                            5_000 + self.below(4_000),
                        )),
                        _ => val(marker::text(
                            self.actor,
                            t.number,
                            5_000 + self.below(4_000),
                            0,
                        )),
                    }
                } else {
                    match self.own_value(t, &c.kind) {
                        Some(v) => v,
                        None => seeded_like(&c.kind),
                    }
                };
            columns.push(c.name.as_str());
            values.push(value);
        }
        FuzzCase {
            shape: "insert pointing at another tenant's row",
            stmt: Stmt::Insert(Insert::into(&t.name).columns(columns).exprs(values)),
            expect_count: None,
        }
    }

    fn update_reference(&mut self, t: &Table) -> FuzzCase {
        let Some((c, parent, _)) = t.references.first().cloned() else {
            return self.update(t);
        };
        let Some(p) = self.seed.table(&parent) else {
            return self.update(t);
        };
        let target = self.foreign_id(p);
        let own = self.own_id(t);
        FuzzCase {
            shape: "update pointing at another tenant's row",
            stmt: Stmt::Update(
                Update::table(&t.name)
                    .set(&c, target)
                    .filter(col(&t.name, Self::id_column(t)).eq(own)),
            ),
            expect_count: None,
        }
    }

    /// `INSERT … SELECT` from the same table with new integer ids: copies
    /// whatever the source can see.
    fn copy(&mut self, t: &Table) -> FuzzCase {
        let id = Self::id_column(t).to_owned();
        let int_id = t.column(&id).is_some_and(|c| c.kind == Kind::Int);
        if !int_id || t.id_columns.len() != 1 {
            return self.filter(t);
        }
        let names: Vec<&str> = t
            .columns
            .iter()
            .filter(|c| !c.generated && !c.name.eq_ignore_ascii_case(&t.tenant_column))
            .map(|c| c.name.as_str())
            .collect();
        let mut source = Select::from(&t.name);
        for name in &names {
            source = if **name == id {
                source.expr(col(&t.name, name).add(val(500_000)))
            } else {
                source.column_of(&t.name, name)
            };
        }
        let filter = self.hostile_filter(t, &t.name);
        FuzzCase {
            shape: "insert … select copying rows",
            stmt: Stmt::Insert(
                Insert::into(&t.name)
                    .columns(names)
                    .select_from(source.filter(filter)),
            ),
            expect_count: None,
        }
    }
}

/// A value of `kind` like the seeded ones, for columns that hold no marker.
fn seeded_like(kind: &Kind) -> Expr {
    match kind {
        Kind::SmallInt => val(1),
        Kind::Bool => val(true),
        Kind::Float => val(2.5),
        Kind::Date => val("2024-02-03"),
        Kind::Time => val("04:05:06"),
        Kind::Timestamp => val("2024-02-03 04:05:06"),
        Kind::Json => val("\"lk_none\""),
        Kind::Enum(label) => val(label.as_str()),
        Kind::Other => Expr::from(Value::String(None)),
        _ => Expr::from(Value::String(Some("x".to_owned()))),
    }
}
