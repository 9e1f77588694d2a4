//! Marker rows for every tenant (and the global tables), written and read
//! back by the owner, outside any tenant scope.

use std::collections::BTreeMap;

use crate::DbPool;
use sea_query::{Alias, Query, Value};
use tenancy_core::TenantId;

use super::cell;
use super::columns::{self, Column, Kind};
use super::marker::{self, SeedId};
use super::scratch::Scratch;
use crate::error::{Error, Result, SchemaProblem};
use crate::{Backend, Schema, TableKind};

/// The tenant number global rows are marked with: no tenant has it.
const GLOBAL: usize = 98;
/// The tenant number of the ids every tenant's first row shares: a join or
/// a subquery that loses its tenant predicate then meets other tenants'
/// rows with the same id, as it would with per-tenant sequences.
const SHARED: usize = 97;
/// The snapshot key of the global tables' rows.
pub(crate) const GLOBAL_KEY: &str = "(global)";
/// The snapshot key of the system tables' rows.
pub(crate) const SYSTEM_KEY: &str = "(system)";

/// One seeded table.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub(crate) name: String,
    /// Its number in the markers.
    pub(crate) number: usize,
    pub(crate) kind: TableKind,
    pub(crate) tenant_column: String,
    pub(crate) columns: Vec<Column>,
    pub(crate) id_columns: Vec<String>,
    /// `(column, parent table, parent column)`.
    pub(crate) references: Vec<(String, String, String)>,
}

impl Table {
    pub(crate) fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    fn is_reference(&self, column: &str) -> bool {
        self.references.iter().any(|(c, ..)| c == column)
    }

    /// Columns that are neither the tenant column, ids, references nor
    /// generated.
    pub(crate) fn data_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| {
            !c.generated
                && !c.name.eq_ignore_ascii_case(&self.tenant_column)
                && !self
                    .id_columns
                    .iter()
                    .any(|i| i.eq_ignore_ascii_case(&c.name))
                && !self.is_reference(&c.name)
        })
    }
}

/// The rows of one table and tenant, as `(column, value)` pairs.
type Rows = Vec<Vec<(String, Value)>>;

/// Every table's marker rows, per tenant.
pub(crate) struct Seed {
    pub(crate) tables: Vec<Table>,
    pub(crate) tenants: Vec<TenantId>,
    pub(crate) rows: usize,
    /// `(table, tenant number)` → rows of `(column, value)`.
    values: BTreeMap<(String, usize), Rows>,
}

/// Every row of every seeded table, as text, grouped by tenant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Snapshot {
    pub(crate) by_tenant: BTreeMap<String, Vec<String>>,
}

impl Snapshot {
    /// The rows of `tenant` (or [`GLOBAL_KEY`]).
    pub(crate) fn rows(&self, key: &str) -> &[String] {
        self.by_tenant
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

impl Seed {
    /// Reads the scratch database's columns and plans `rows` marker rows per
    /// tenant and table.
    pub(crate) async fn plan(
        schema: &Schema,
        scratch: &Scratch,
        tenants: Vec<TenantId>,
        rows: usize,
    ) -> Result<Seed> {
        let mut tables = Vec::new();
        let ordered = schema
            .tables()
            .filter(|t| t.kind() == TableKind::Global)
            .chain(schema.tenant_tables())
            .chain(schema.tables().filter(|t| t.kind() == TableKind::System));
        for (number, def) in ordered.enumerate() {
            let columns = columns::read(&scratch.owner, scratch.backend, def.name()).await?;
            if columns.is_empty() && def.kind() == TableKind::System {
                // Never seeded; the migration may leave it to another service.
                continue;
            }
            if columns.is_empty() {
                return Err(Error::InvalidSchema(SchemaProblem::NotCreated {
                    table: def.name().to_owned(),
                }));
            }
            let references = def
                .foreign_keys()
                .iter()
                .flat_map(|fk| {
                    fk.columns
                        .iter()
                        .zip(&fk.parent_columns)
                        .map(|(c, p)| (c.clone(), fk.parent.clone(), p.clone()))
                })
                .collect();
            tables.push(Table {
                name: def.name().to_owned(),
                number,
                kind: def.kind(),
                tenant_column: def.tenant_column().to_owned(),
                columns,
                id_columns: def.id_columns().to_vec(),
                references,
            });
        }
        let mut seed = Seed {
            tables,
            tenants,
            rows,
            values: BTreeMap::new(),
        };
        seed.plan_values();
        Ok(seed)
    }

    /// Whose rows `table` gets: every tenant's, the global marker's, or
    /// none (system tables are only watched).
    fn owners(&self, table: &Table) -> Vec<usize> {
        match table.kind {
            TableKind::Tenant => (0..self.tenants.len()).collect(),
            TableKind::Global => vec![GLOBAL],
            _ => Vec::new(),
        }
    }

    /// How many rows each owner gets: one where the table has no id to
    /// tell rows apart (its key is the tenant column alone).
    fn rows_of(&self, table: &Table) -> usize {
        if table.id_columns.is_empty() {
            1
        } else {
            self.rows
        }
    }

    fn plan_values(&mut self) {
        for table in self.tables.clone() {
            for t in self.owners(&table) {
                let count = self.rows_of(&table);
                let mut rows = Vec::with_capacity(count);
                for r in 0..count {
                    // Without ids, the one row is the tenant's own, not a shared one.
                    let r = if table.id_columns.is_empty() { 1 } else { r };
                    let mut row = Vec::new();
                    for (c, column) in table.columns.iter().enumerate() {
                        if column.generated {
                            continue;
                        }
                        let value = if table.kind == TableKind::Tenant
                            && column.name.eq_ignore_ascii_case(&table.tenant_column)
                        {
                            Value::from(self.tenants[t].to_string())
                        } else if let Some((_, parent, pcol)) =
                            table.references.iter().find(|(rc, ..)| *rc == column.name)
                        {
                            self.parent_value(&table, &row, t, r, parent, pcol)
                        } else if table.id_columns.contains(&column.name) {
                            id_value(column, t, table.number, r, c)
                        } else {
                            data_value(column, t, table.number, r, c)
                        };
                        row.push((column.name.clone(), value));
                    }
                    rows.push(row);
                }
                self.values.insert((table.name.clone(), t), rows);
            }
        }
    }

    /// The value a reference column takes: the same tenant's parent row
    /// (this very row when a table references itself).
    fn parent_value(
        &self,
        table: &Table,
        row: &[(String, Value)],
        t: usize,
        r: usize,
        parent: &str,
        pcol: &str,
    ) -> Value {
        if parent == table.name {
            if let Some((_, v)) = row.iter().find(|(c, _)| c == pcol) {
                return v.clone();
            }
            return match table.column(pcol) {
                Some(column) => id_value(column, t, table.number, r, 0),
                None => Value::String(None),
            };
        }
        let owner = match self.table(parent).map(|p| p.kind) {
            Some(TableKind::Tenant) => t,
            _ => GLOBAL,
        };
        self.values
            .get(&(parent.to_owned(), owner))
            .and_then(|rows| rows.get(r % rows.len().max(1)))
            .and_then(|row| row.iter().find(|(c, _)| c == pcol))
            .map_or(Value::String(None), |(_, v)| v.clone())
    }

    pub(crate) fn table(&self, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// The first id of row `row` of `table`, tenant `t` (row 0's id is
    /// shared by every tenant; the others are the tenant's own).
    pub(crate) fn id(&self, table: &str, t: usize, row: usize) -> Option<SeedId> {
        let def = self.table(table)?;
        let id = def.id_columns.first()?;
        let rows = self.values.get(&(def.name.clone(), t))?;
        let (_, value) = rows.get(row)?.iter().find(|(c, _)| c == id)?;
        match value {
            Value::BigInt(Some(n)) => Some(SeedId::Int(*n)),
            Value::String(Some(s)) => Some(SeedId::Text(s.clone())),
            _ => None,
        }
    }

    /// The seeded value of `column` in row `row` of `table`, tenant `t`,
    /// as text.
    pub(crate) fn value(&self, table: &str, t: usize, row: usize, column: &str) -> Option<String> {
        let def = self.table(table)?;
        let rows = self.values.get(&(def.name.clone(), t))?;
        let (_, value) = rows
            .get(row)?
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(column))?;
        match value {
            Value::BigInt(Some(n)) => Some(n.to_string()),
            Value::String(Some(s)) => Some(s.clone()),
            Value::Bool(Some(b)) => Some(b.to_string()),
            Value::Double(Some(f)) => Some(f.to_string()),
            _ => None,
        }
    }

    /// An id of `table`'s shape that no row has.
    pub(crate) fn missing_id(&self, table: &str) -> Option<SeedId> {
        let def = self.table(table)?;
        let id = def.column(def.id_columns.first()?)?;
        Some(match &id.kind {
            Kind::Int => SeedId::Int(marker::missing_int_id(def.number)),
            Kind::SmallInt => SeedId::Int(9_999),
            k if k.holds_uuid() => SeedId::Text(marker::missing_uuid_id(def.number)),
            _ => SeedId::Text(marker::missing_text_id(def.number)),
        })
    }

    /// Deletes every row of the seeded tables and writes the marker rows.
    pub(crate) async fn reset(&self, scratch: &Scratch) -> Result<()> {
        let pool = &scratch.owner;
        for table in self.tables.iter().rev() {
            if table.kind == TableKind::System {
                continue;
            }
            let sql = Query::delete()
                .from_table(Alias::new(&table.name))
                .to_owned();
            run(pool, &table.name, &render(&sql, scratch.backend)).await?;
        }
        for table in &self.tables {
            for t in self.owners(table) {
                let Some(rows) = self.values.get(&(table.name.clone(), t)) else {
                    continue;
                };
                let Some(first) = rows.first() else { continue };
                let mut insert = Query::insert();
                insert
                    .into_table(Alias::new(&table.name))
                    .columns(first.iter().map(|(c, _)| Alias::new(c)));
                for row in rows {
                    insert
                        .values(row.iter().map(|(_, v)| v.clone().into()))
                        .map_err(Error::Build)?;
                }
                let mut sql = render(&insert, scratch.backend);
                if table.columns.iter().any(|c| c.identity_always) {
                    sql = sql.replacen(" VALUES ", " OVERRIDING SYSTEM VALUE VALUES ", 1);
                }
                run(pool, &table.name, &sql).await?;
            }
        }
        Ok(())
    }

    /// Every row of the seeded tables, read as the owner.
    pub(crate) async fn snapshot(&self, scratch: &Scratch) -> Result<Snapshot> {
        let mut out = Snapshot::default();
        let cast = match scratch.backend {
            Backend::MySql => "CHAR",
            _ => "TEXT",
        };
        let quote = |c: &str| match scratch.backend {
            Backend::MySql => format!("`{c}`"),
            _ => format!("\"{c}\""),
        };
        for table in &self.tables {
            let cells: Vec<String> = table
                .columns
                .iter()
                .map(|c| format!("CAST({} AS {cast})", quote(&c.name)))
                .collect();
            let sql = format!("SELECT {} FROM {}", cells.join(", "), quote(&table.name));
            let rows = scratch
                .owner
                .fetch_text(&sql, &[])
                .await
                .map_err(|source| Error::Scratch {
                    table: table.name.clone(),
                    source,
                })?;
            let tenant_at = table
                .columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(&table.tenant_column));
            for row in rows {
                let mut text = format!("{}:", table.name);
                let mut key = match table.kind {
                    TableKind::System => SYSTEM_KEY.to_owned(),
                    _ => GLOBAL_KEY.to_owned(),
                };
                for (i, column) in table.columns.iter().enumerate() {
                    let v = cell::text(&row, i).unwrap_or_else(|| "NULL".to_owned());
                    if table.kind == TableKind::Tenant && Some(i) == tenant_at {
                        key.clone_from(&v);
                    }
                    text.push_str(&format!(" {}={v}", column.name));
                }
                out.by_tenant.entry(key).or_default().push(text);
            }
        }
        for rows in out.by_tenant.values_mut() {
            rows.sort();
        }
        Ok(out)
    }
}

fn id_value(column: &Column, t: usize, table: usize, r: usize, c: usize) -> Value {
    let t = if r == 0 { SHARED } else { t };
    match &column.kind {
        Kind::Int => Value::from(marker::int_id(t, table, r)),
        // Unique per tenant and row, though too small to mark anyone.
        Kind::SmallInt => Value::from((1_000 + (t % 100) * 100 + r % 100) as i64),
        k if k.holds_uuid() => Value::from(marker::uuid_id(t, table, r)),
        _ => data_value(column, t, table, r, c),
    }
}

/// A value of `column`'s kind for row `r` of tenant `t`: a marker where
/// one fits. Dates and times grow with the column's position, so a check
/// such as `ends > starts` holds when the later column is declared later.
fn data_value(column: &Column, t: usize, table: usize, r: usize, c: usize) -> Value {
    let month = 1 + c % 12;
    match &column.kind {
        Kind::Int => Value::from(marker::int_value(t, table, r, c)),
        Kind::SmallInt => Value::from((r % 100) as i64),
        Kind::Bool => Value::from(r.is_multiple_of(2)),
        Kind::Float => Value::from(1.5 + r as f64),
        Kind::Uuid => Value::from(marker::uuid_id(t, table, 1_000 + c * 100 + r % 100)),
        Kind::Date => Value::from(format!("2024-{month:02}-{:02}", 1 + r % 28)),
        Kind::Time => Value::from(format!("{:02}:04:{:02}", c % 24, r % 60)),
        Kind::Timestamp => Value::from(format!("2024-{month:02}-02 03:04:{:02}", r % 60)),
        Kind::Json => Value::from(format!("\"{}\"", marker::text(t, table, r, c))),
        Kind::Bytes => Value::from(marker::text(t, table, r, c)),
        Kind::Enum(label) => Value::from(label.clone()),
        Kind::Other if column.nullable => Value::String(None),
        Kind::Other => Value::from("1"),
        k @ Kind::Text(max) => {
            if k.holds_marker() {
                Value::from(marker::text(t, table, r, c))
            } else {
                let short: String = format!("{r}{c}{t}");
                let len = max.map_or(short.len(), |m| m as usize);
                Value::from(short.chars().take(len).collect::<String>())
            }
        }
    }
}

fn render(stmt: &impl sea_query::QueryStatementWriter, backend: Backend) -> String {
    match backend {
        Backend::Postgres => stmt.to_string(sea_query::PostgresQueryBuilder),
        Backend::MySql => stmt.to_string(sea_query::MysqlQueryBuilder),
        Backend::Sqlite => stmt.to_string(sea_query::SqliteQueryBuilder),
    }
}

async fn run(pool: &DbPool, table: &str, sql: &str) -> Result<()> {
    pool.execute_text(sql)
        .await
        .map_err(|source| Error::Scratch {
            table: table.to_owned(),
            source,
        })?;
    Ok(())
}
