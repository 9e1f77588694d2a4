//! The schema registry: which tables belong to a tenant and which are global.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, Result, SchemaProblem};

/// The default name of the tenant column.
pub const DEFAULT_TENANT_COLUMN: &str = "tenant_id";
/// The default name of a table's own id column.
pub const DEFAULT_ID_COLUMN: &str = "id";

/// How a table relates to tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableKind {
    /// Every row belongs to exactly one tenant, named by the tenant column.
    Tenant,
    /// Shared reference data (plans, currencies): tenant statements may read
    /// it, never write it.
    Global,
    /// Platform metadata (`tenants`): reachable only through the audited
    /// escape hatch.
    System,
}

/// A composite foreign key between two tenant tables: `(tenant, column)`
/// references `(tenant, parent id)`, so a row can only point into its own
/// tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// The referencing columns, without the tenant column.
    pub columns: Vec<String>,
    /// The referenced table.
    pub parent: String,
    /// The referenced columns, without the tenant column.
    pub parent_columns: Vec<String>,
}

/// One registered table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    /// Interned (see [`intern`]), so statements name the table without
    /// copying it.
    name: &'static str,
    kind: TableKind,
    /// Interned like `name`.
    tenant_column: &'static str,
    /// Every column a statement may name, interned: the tenant column, the
    /// id columns, the columns of keys and constraints, and those declared
    /// with [`SchemaBuilder::columns`].
    columns: Vec<&'static str>,
    id_columns: Vec<String>,
    foreign_keys: Vec<ForeignKey>,
    unique: Vec<Vec<String>>,
    global_unique: Vec<Vec<String>>,
}

impl TableDef {
    /// The table's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The name as statements render it, shared rather than copied.
    pub(crate) fn static_name(&self) -> &'static str {
        self.name
    }

    /// Tenant, global or system.
    pub fn kind(&self) -> TableKind {
        self.kind
    }

    /// True for a tenant-owned table.
    pub fn is_tenant(&self) -> bool {
        self.kind == TableKind::Tenant
    }

    /// The tenant column (meaningful for tenant tables only).
    pub fn tenant_column(&self) -> &str {
        self.tenant_column
    }

    /// The tenant column as statements render it, shared rather than copied.
    pub(crate) fn static_tenant_column(&self) -> &'static str {
        self.tenant_column
    }

    /// Every declared column, in declaration order.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().copied()
    }

    /// The declared column `name` matches, as statements render it.
    ///
    /// Names match when they are equal ignoring ASCII case: SQLite and
    /// MySQL/MariaDB compare column names that way, so a name that differs
    /// only in case must resolve to the same column here, or a write could
    /// reach the tenant column under another spelling. PostgreSQL compares
    /// quoted names exactly; statements always render the declared spelling,
    /// so the rule is safe there too.
    pub fn column(&self, name: &str) -> Option<&'static str> {
        self.columns
            .iter()
            .copied()
            .find(|c| c.eq_ignore_ascii_case(name))
    }

    /// The id columns; the primary key of a tenant table is the tenant column
    /// followed by these.
    pub fn id_columns(&self) -> &[String] {
        &self.id_columns
    }

    /// Foreign keys to other tenant tables.
    pub fn foreign_keys(&self) -> &[ForeignKey] {
        &self.foreign_keys
    }

    /// Unique constraints that hold within a tenant (the tenant column leads them).
    pub fn unique(&self) -> &[Vec<String>] {
        &self.unique
    }

    /// Unique constraints declared to hold across all tenants.
    pub fn global_unique(&self) -> &[Vec<String>] {
        &self.global_unique
    }
}

/// The registry of tables, shared cheaply (`Clone` is a reference count).
///
/// ```
/// use tenancy_sql::{Schema, TableKind};
///
/// let schema = Schema::builder()
///     .system("tenants")
///     .global("plans")
///     .tenant("properties").unique(["name"])
///     .tenant("leases").references("property_id", "properties")
///     .tenant("audit_events")
///     .build()?;
/// assert_eq!(schema.table("leases")?.kind(), TableKind::Tenant);
/// assert!(schema.table("nope").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Schema {
    inner: Arc<SchemaInner>,
}

#[derive(PartialEq, Eq)]
struct SchemaInner {
    tables: BTreeMap<&'static str, TableDef>,
    tenant_columns: Vec<String>,
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.inner.tables.values()).finish()
    }
}

impl Schema {
    /// Starts a registry.
    pub fn builder() -> SchemaBuilder {
        SchemaBuilder::default()
    }

    /// The table called `name`, or [`Error::UnknownTable`].
    pub fn table(&self, name: &str) -> Result<&TableDef> {
        self.inner
            .tables
            .get(name)
            .ok_or_else(|| Error::UnknownTable {
                table: name.to_owned(),
            })
    }

    /// Every table, by name.
    pub fn tables(&self) -> impl Iterator<Item = &TableDef> {
        self.inner.tables.values()
    }

    /// The tenant tables, parents before the tables that reference them.
    pub fn tenant_tables(&self) -> Vec<&TableDef> {
        let mut out: Vec<&TableDef> = Vec::new();
        let mut pending: Vec<&TableDef> = self.tables().filter(|t| t.is_tenant()).collect();
        while !pending.is_empty() {
            let before = pending.len();
            pending.retain(|t| {
                let ready = t.foreign_keys.iter().all(|fk| {
                    // A global parent is no tenant table: nothing to wait for.
                    let tenant_parent = self.table(&fk.parent).is_ok_and(TableDef::is_tenant);
                    fk.parent == t.name
                        || !tenant_parent
                        || out.iter().any(|done| done.name == fk.parent)
                });
                if ready {
                    out.push(t);
                }
                !ready
            });
            if pending.len() == before {
                // A cycle: keep the remaining order; DDL for cycles needs ALTER TABLE anyway.
                out.append(&mut pending);
            }
        }
        out
    }

    /// True for the same registry, or one that declares exactly the same
    /// tables (cheap when it is the same one).
    pub(crate) fn same_as(&self, other: &Schema) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.inner == other.inner
    }

    /// The distinct tenant column names (for the leak tripwire).
    pub fn tenant_columns(&self) -> &[String] {
        &self.inner.tenant_columns
    }
}

/// Builds a [`Schema`]. Calls that configure a table (`references`,
/// `unique`, `tenant_column`, `id`) apply to the table added last.
///
/// Table and tenant column names are kept once for the life of the process
/// (shared by every schema and statement that uses them, never freed): a
/// few bytes per distinct name. A service declares a fixed set of tables;
/// a program that builds schemas from ever-new generated names keeps each
/// of them.
#[derive(Debug, Default)]
#[must_use]
pub struct SchemaBuilder {
    tables: Vec<TableDef>,
    default_tenant_column: Option<&'static str>,
    error: Option<Error>,
}

/// Every name [`intern`] kept.
static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// The one copy of `name` kept for the life of the process.
///
/// Table and tenant column names are rendered into every statement; sea-query
/// keeps a `&'static str` identifier without copying it and, when it is a
/// plain identifier (every name the builder accepts is), writes it quoted
/// but without escaping it character by character, where an owned one is
/// copied into each statement and escaped on every render.
/// A program registers a fixed, small set of names (and [`SchemaBuilder`]
/// refuses anything but short lowercase identifiers), so keeping each
/// distinct name once costs a few bytes per name, not per schema or per
/// statement.
fn intern(name: &str) -> &'static str {
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return known;
    }
    let kept: &'static str = String::leak(name.to_owned());
    names.insert(kept);
    kept
}

pub(crate) fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

impl SchemaBuilder {
    /// The tenant column of tables added after this call (default `tenant_id`).
    pub fn default_tenant_column(mut self, column: &str) -> Self {
        if self.check_ident(column) {
            self.default_tenant_column = Some(intern(column));
        }
        self
    }

    /// True for a valid identifier; records the first invalid one, which
    /// [`SchemaBuilder::build`] reports.
    fn check_ident(&mut self, name: &str) -> bool {
        let valid = is_identifier(name);
        if !valid && self.error.is_none() {
            self.error = Some(Error::InvalidSchema(SchemaProblem::NotIdentifier {
                name: name.to_owned(),
            }));
        }
        valid
    }

    /// `name` interned when it is a valid identifier; an invalid one is
    /// recorded by [`SchemaBuilder::check_ident`] and never kept, since
    /// `build` fails anyway.
    fn checked_name(&mut self, name: &str) -> &'static str {
        if self.check_ident(name) {
            intern(name)
        } else {
            ""
        }
    }

    fn push(mut self, name: &str, kind: TableKind) -> Self {
        let name = self.checked_name(name);
        let tenant_column = self.default_tenant_column.unwrap_or(DEFAULT_TENANT_COLUMN);
        self.tables.push(TableDef {
            name,
            kind,
            tenant_column,
            columns: Vec::new(),
            id_columns: vec![DEFAULT_ID_COLUMN.to_owned()],
            foreign_keys: Vec::new(),
            unique: Vec::new(),
            global_unique: Vec::new(),
        });
        self
    }

    fn last(&mut self, call: &'static str) -> Option<&mut TableDef> {
        if self.tables.is_empty() && self.error.is_none() {
            self.error = Some(Error::InvalidSchema(SchemaProblem::NoTable { call }));
        }
        self.tables.last_mut()
    }

    /// A tenant-owned table.
    pub fn tenant(self, name: &str) -> Self {
        self.push(name, TableKind::Tenant)
    }

    /// Several tenant-owned tables with the defaults (`tenant_id`, `id`).
    pub fn tenants<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        for name in names {
            self = self.tenant(name);
        }
        self
    }

    /// A global table of shared reference data: readable by tenant
    /// statements, never writable by them.
    pub fn global(self, name: &str) -> Self {
        self.push(name, TableKind::Global)
    }

    /// A system table (`tenants`): reachable only through
    /// `unscoped_for_system`.
    pub fn system(self, name: &str) -> Self {
        self.push(name, TableKind::System)
    }

    /// Overrides the last table's tenant column.
    pub fn tenant_column(mut self, column: &str) -> Self {
        let column = self.checked_name(column);
        if let Some(t) = self.last("tenant_column") {
            t.tenant_column = column;
        }
        self
    }

    /// Overrides the last table's id columns (default `id`).
    pub fn id<'a>(mut self, columns: impl IntoIterator<Item = &'a str>) -> Self {
        let columns: Vec<String> = columns.into_iter().map(str::to_owned).collect();
        for c in &columns {
            self.check_ident(c);
        }
        if let Some(t) = self.last("id") {
            t.id_columns = columns;
        }
        self
    }

    /// Declares the last table's columns. The tenant column, the id columns
    /// and the columns of its keys and constraints are declared already;
    /// a statement that names any other column is refused.
    pub fn columns<'a>(mut self, columns: impl IntoIterator<Item = &'a str>) -> Self {
        let columns: Vec<&'static str> =
            columns.into_iter().map(|c| self.checked_name(c)).collect();
        if let Some(t) = self.last("columns") {
            t.columns.extend(columns);
        }
        self
    }

    /// The last table's `column` references `parent`'s id (within the tenant).
    pub fn references(self, column: &str, parent: &str) -> Self {
        self.references_columns([column], parent, [DEFAULT_ID_COLUMN])
    }

    /// The last table's `columns` reference `parent`'s `parent_columns`
    /// (within the tenant).
    pub fn references_columns<'a, 'b>(
        mut self,
        columns: impl IntoIterator<Item = &'a str>,
        parent: &str,
        parent_columns: impl IntoIterator<Item = &'b str>,
    ) -> Self {
        let columns: Vec<String> = columns.into_iter().map(str::to_owned).collect();
        let parent_columns: Vec<String> = parent_columns.into_iter().map(str::to_owned).collect();
        for c in columns.iter().chain(&parent_columns) {
            self.check_ident(c);
        }
        self.check_ident(parent);
        if let Some(t) = self.last("references") {
            t.foreign_keys.push(ForeignKey {
                columns,
                parent: parent.to_owned(),
                parent_columns,
            });
        }
        self
    }

    /// A unique constraint on the last table that holds within each tenant.
    pub fn unique<'a>(mut self, columns: impl IntoIterator<Item = &'a str>) -> Self {
        let columns: Vec<String> = columns.into_iter().map(str::to_owned).collect();
        for c in &columns {
            self.check_ident(c);
        }
        if let Some(t) = self.last("unique") {
            t.unique.push(columns);
        }
        self
    }

    /// A unique constraint on the last table that holds across all tenants
    /// (declared on purpose: it reveals whether a value exists elsewhere).
    pub fn global_unique<'a>(mut self, columns: impl IntoIterator<Item = &'a str>) -> Self {
        let columns: Vec<String> = columns.into_iter().map(str::to_owned).collect();
        for c in &columns {
            self.check_ident(c);
        }
        if let Some(t) = self.last("global_unique") {
            t.global_unique.push(columns);
        }
        self
    }

    /// Checks the declarations and freezes the registry.
    pub fn build(self) -> Result<Schema> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut tables = BTreeMap::new();
        for mut t in self.tables {
            t.columns = declared_columns(&t);
            if tables.contains_key(t.name) {
                return Err(Error::InvalidSchema(SchemaProblem::DuplicateTable {
                    table: t.name.to_owned(),
                }));
            }
            tables.insert(t.name, t);
        }
        // The columns a foreign key names in its parent are the parent's.
        let referenced: Vec<(String, Vec<String>)> = tables
            .values()
            .flat_map(|t| t.foreign_keys.iter())
            .map(|fk| (fk.parent.clone(), fk.parent_columns.clone()))
            .collect();
        for (parent, columns) in referenced {
            if let Some(p) = tables.get_mut(parent.as_str()) {
                for c in columns {
                    if p.column(&c).is_none() {
                        p.columns.push(intern(&c));
                    }
                }
            }
        }
        for t in tables.values() {
            for fk in &t.foreign_keys {
                let Some(parent) = tables.get(fk.parent.as_str()) else {
                    return Err(Error::InvalidSchema(SchemaProblem::UnknownParent {
                        table: t.name.to_owned(),
                        parent: fk.parent.clone(),
                    }));
                };
                if t.kind == TableKind::Tenant && parent.kind != TableKind::Tenant {
                    // A tenant row may point at shared data; that key is not composite.
                    continue;
                }
                if fk.columns.len() != fk.parent_columns.len() || fk.columns.is_empty() {
                    return Err(Error::InvalidSchema(SchemaProblem::ForeignKeyColumns {
                        table: t.name.to_owned(),
                        parent: fk.parent.clone(),
                    }));
                }
                if t.kind != TableKind::Tenant {
                    return Err(Error::InvalidSchema(
                        SchemaProblem::GlobalReferencesTenant {
                            table: t.name.to_owned(),
                            parent: fk.parent.clone(),
                        },
                    ));
                }
            }
        }
        let mut tenant_columns: Vec<String> = tables
            .values()
            .filter(|t| t.kind == TableKind::Tenant)
            .map(|t| t.tenant_column.to_owned())
            .collect();
        tenant_columns.sort();
        tenant_columns.dedup();
        Ok(Schema {
            inner: Arc::new(SchemaInner {
                tables,
                tenant_columns,
            }),
        })
    }
}

/// The columns of `t`, each once: the tenant column (tenant tables), the
/// id columns, the columns of keys and constraints, then the declared ones.
fn declared_columns(t: &TableDef) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    let mut add = |c: &str| {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(c)) {
            out.push(intern(c));
        }
    };
    if t.kind == TableKind::Tenant {
        add(t.tenant_column);
    }
    t.id_columns.iter().for_each(|c| add(c));
    for fk in &t.foreign_keys {
        fk.columns.iter().for_each(|c| add(c));
    }
    for key in t.unique.iter().chain(&t.global_unique) {
        key.iter().for_each(|c| add(c));
    }
    t.columns.iter().for_each(|c| add(c));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_applies_settings_to_the_last_table() {
        let s = Schema::builder()
            .tenant("properties")
            .tenant("leases")
            .references("property_id", "properties")
            .tenant_column("org")
            .build()
            .unwrap();
        let leases = s.table("leases").unwrap();
        assert_eq!(leases.tenant_column(), "org");
        assert_eq!(leases.foreign_keys()[0].parent, "properties");
        assert_eq!(s.table("properties").unwrap().tenant_column(), "tenant_id");
        assert_eq!(s.tenant_columns(), ["org", "tenant_id"]);
    }

    #[test]
    fn unknown_parent_and_duplicates_are_refused() {
        assert!(
            Schema::builder()
                .tenant("a")
                .references("b_id", "b")
                .build()
                .is_err()
        );
        assert!(Schema::builder().tenant("a").tenant("a").build().is_err());
        assert!(Schema::builder().tenant("Robert'); drop").build().is_err());
        assert!(Schema::builder().unique(["x"]).build().is_err());
    }

    #[test]
    fn names_are_kept_once_and_invalid_ones_never() {
        let a = Schema::builder().tenant("kept_once").build().unwrap();
        let b = Schema::builder().tenant("kept_once").build().unwrap();
        let name = |s: &Schema| s.table("kept_once").unwrap().static_name();
        assert!(std::ptr::eq(name(&a), name(&b)));
        assert!(
            Schema::builder()
                .tenant("Never Kept")
                .tenant_column("never'kept")
                .build()
                .is_err()
        );
        let names = NAMES.lock().unwrap();
        assert!(names.contains("kept_once"));
        assert!(!names.contains("Never Kept") && !names.contains("never'kept"));
    }

    #[test]
    fn tenant_tables_come_parents_first() {
        let s = Schema::builder()
            .tenant("c")
            .references("b_id", "b")
            .tenant("b")
            .references("a_id", "a")
            .tenant("a")
            .global("g")
            .build()
            .unwrap();
        let order: Vec<&str> = s.tenant_tables().iter().map(|t| t.name()).collect();
        assert_eq!(order, ["a", "b", "c"]);
    }

    #[test]
    fn a_reference_to_a_global_table_does_not_reorder_tenant_tables() {
        let s = Schema::builder()
            .global("plans")
            .tenant("notes")
            .references("plan_id", "plans")
            .tenant("comments")
            .references("note_id", "notes")
            .tenant("audit")
            .build()
            .unwrap();
        let order: Vec<&str> = s.tenant_tables().iter().map(|t| t.name()).collect();
        let at = |name| order.iter().position(|t| *t == name).unwrap();
        assert!(at("notes") < at("comments"), "{order:?}");
    }
}
