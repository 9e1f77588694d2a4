//! DDL for tenant tables: the tenant column, composite keys led by it,
//! tenant-led indexes, PostgreSQL Row-Level Security, the application role,
//! and the statements that distribute the schema on Citus.
//!
//! Every function returns SQL text, one statement per string, for
//! [`OwnerPool::apply`](crate::OwnerPool::apply) or your migration tool to
//! run as the *owner* role (never as the application role the service
//! connects with). The columns a table gets here are the ones its schema
//! entry declares, so statements can name them.
//!
//! ```
//! use tenancy_sql::{Backend, Schema, ddl::Ddl};
//! use tenancy_sql::sea_query::ColumnDef;
//!
//! let schema = Schema::builder()
//!     .tenant("properties")
//!     .tenant("leases").references("property_id", "properties").columns(["lessee"])
//!     .build()?;
//! let ddl = Ddl::new(&schema, Backend::Postgres);
//! let sql = ddl.create_table("leases", |t| {
//!     t.col(ColumnDef::new("id").big_integer().not_null())
//!         .col(ColumnDef::new("property_id").big_integer().not_null())
//!         .col(ColumnDef::new("lessee").text().not_null());
//! })?;
//! assert!(sql[0].contains(r#"PRIMARY KEY ("tenant_id", "id")"#));
//! assert!(sql[0].contains(r#"FOREIGN KEY ("tenant_id", "property_id") REFERENCES "properties" ("tenant_id", "id")"#));
//! assert!(sql.iter().any(|s| s == r#"ALTER TABLE "leases" FORCE ROW LEVEL SECURITY"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Running it on every start
//!
//! [`Ddl::repeatable`] makes every statement safe to run again, so a
//! service can apply its whole schema at each start, in one transaction
//! that [`Ddl::migration_lock`] opens. A table is created only when it does
//! not exist, and on PostgreSQL a tenant table's indexes and Row-Level
//! Security come with it (one `DO` block), so a table that exists is left
//! exactly as it is: the start-up audit
//! ([`TenantPool::verify_isolation`](crate::TenantPool::verify_isolation))
//! is what refuses a database that drifted from the schema, never a
//! migration that quietly repairs it. The application role is created when
//! missing and granted again.
//!
//! ```
//! use tenancy_sql::{Backend, Schema, ddl::Ddl};
//! use tenancy_sql::sea_query::ColumnDef;
//!
//! let schema = Schema::builder().tenant("notes").columns(["body"]).build()?;
//! let ddl = Ddl::new(&schema, Backend::Postgres).repeatable();
//! let mut setup = ddl.migration_lock();
//! setup.extend(ddl.create_table("notes", |t| {
//!     t.col(ColumnDef::new("id").big_integer().not_null())
//!         .col(ColumnDef::new("body").text().not_null());
//! })?);
//! setup.extend(ddl.app_role("notes_app", None, "public"));
//! assert!(setup[1].starts_with(r#"DO $tenancy$ BEGIN IF to_regclass('"notes"') IS NULL THEN"#));
//! assert!(setup.iter().any(|s| s.starts_with("DO ") && s.contains("CREATE ROLE")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Scaling out with Citus
//!
//! Because every tenant table's keys start with the tenant column, the same
//! schema distributes by tenant without changes: [`Ddl::citus`] emits
//! `create_reference_table` for global and system tables and
//! `create_distributed_table(table, tenant column)` for tenant tables,
//! co-located with the first one, so joins and foreign keys within a tenant
//! stay on one node. Run them once after the tables exist; the RLS policies
//! and the scoped statements keep working unchanged.

use sea_query::{Alias, ColumnDef, ForeignKey as SqForeignKey, Index, Table, TableCreateStatement};

use crate::backend::Backend;
use crate::error::{Error, Result, SchemaProblem};
use crate::schema::{Schema, TableKind};

/// Length of the tenant column: a UUID in its canonical text form.
pub const TENANT_COLUMN_LEN: u32 = 36;

/// Generates DDL for the tables of a [`Schema`] on one backend.
#[derive(Debug, Clone)]
pub struct Ddl<'a> {
    schema: &'a Schema,
    backend: Backend,
    setting: String,
    repeatable: bool,
}

/// The advisory lock [`Ddl::migration_lock`] takes on PostgreSQL.
pub const MIGRATION_LOCK: i64 = 0x0074_656e_616e_6379; // "tenancy"

use crate::backend::postgres::ddl as pg;

impl<'a> Ddl<'a> {
    /// DDL for `schema` on `backend`, with the default tenant setting.
    pub fn new(schema: &'a Schema, backend: Backend) -> Self {
        Ddl {
            schema,
            backend,
            setting: crate::DEFAULT_TENANT_SETTING.to_owned(),
            repeatable: false,
        }
    }

    /// Every statement safe to run again, so the schema can be applied at
    /// each start. [`create_table`](Ddl::create_table) creates a table only
    /// when it does not exist: `CREATE TABLE IF NOT EXISTS`, and on
    /// PostgreSQL a tenant table with its indexes and Row-Level Security in
    /// one `DO` block that does nothing when the table exists (on SQLite
    /// and MySQL, where a table has no policy, its indexes are created
    /// `IF NOT EXISTS`, or declared inside the table on MySQL, which has no
    /// such index statement). [`app_role`](Ddl::app_role) creates the role
    /// only when missing, sets its password again when one is given, and
    /// grants again. Apply it after [`Ddl::migration_lock`], in one
    /// transaction.
    #[must_use]
    pub fn repeatable(mut self) -> Self {
        self.repeatable = true;
        self
    }

    /// On PostgreSQL, `SELECT pg_advisory_xact_lock(..)` on
    /// [`MIGRATION_LOCK`]: run it first in the transaction that applies a
    /// repeatable schema, so services starting at once take turns instead
    /// of racing on `CREATE … IF NOT EXISTS`. Empty elsewhere (SQLite
    /// serialises writers; MySQL commits each DDL statement itself).
    pub fn migration_lock(&self) -> Vec<String> {
        if self.backend != Backend::Postgres {
            return Vec::new();
        }
        vec![format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")]
    }

    /// The PostgreSQL setting the policies read (must match the pool's).
    #[must_use]
    pub fn with_tenant_setting(mut self, setting: &str) -> Self {
        setting.clone_into(&mut self.setting);
        self
    }

    fn build_table(&self, t: &TableCreateStatement) -> String {
        self.backend.render_schema(t)
    }

    /// `CREATE TABLE` for `name` with the columns `columns` adds, plus, for a
    /// tenant table: the tenant column (NOT NULL), the primary key
    /// `(tenant, id…)`, per-tenant unique constraints, composite foreign keys
    /// `(tenant, col) → parent (tenant, id)`, an index led by the tenant
    /// column for every foreign key, and on PostgreSQL the RLS statements of
    /// [`Ddl::row_level_security`].
    ///
    /// For a tenant table, `columns` must not add the tenant column or a
    /// primary key, and any unique column or index it adds must either start
    /// with the tenant column or be declared with
    /// [`global_unique`](crate::SchemaBuilder::global_unique): a unique index
    /// across tenants tells one tenant which values another one uses.
    pub fn create_table(
        &self,
        name: &str,
        columns: impl FnOnce(&mut TableCreateStatement),
    ) -> Result<Vec<String>> {
        let table = self.schema.table(name)?;
        if self.repeatable && self.backend == Backend::Postgres && table.is_tenant() {
            let once = Ddl {
                repeatable: false,
                ..self.clone()
            };
            return Ok(vec![unless_table_exists(
                name,
                &once.create_table(name, columns)?,
            )]);
        }
        let mut t = Table::create();
        t.table(Alias::new(name));
        columns(&mut t);
        if self.repeatable {
            t.if_not_exists();
        }
        if table.kind() != TableKind::Tenant {
            return Ok(vec![self.build_table(&t)]);
        }
        let tc = table.tenant_column();
        for c in t.get_columns() {
            let cname = c.get_column_name();
            if cname == tc {
                return Err(Error::InvalidSchema(SchemaProblem::TenantColumnDeclared {
                    table: name.to_owned(),
                    column: tc.to_owned(),
                }));
            }
            let spec = c.get_column_spec();
            if spec.primary_key {
                return Err(Error::InvalidSchema(
                    SchemaProblem::PrimaryKeyWithoutTenant {
                        table: name.to_owned(),
                        column: cname,
                    },
                ));
            }
            if spec.unique && !table.global_unique().contains(&vec![cname.clone()]) {
                return Err(Error::InvalidSchema(SchemaProblem::UniqueAcrossTenants {
                    table: name.to_owned(),
                    column: cname,
                }));
            }
        }
        for ix in t.get_indexes() {
            let cols = ix.get_index_spec().get_column_names();
            if (ix.is_unique_key() || ix.is_primary_key())
                && cols.first().map(String::as_str) != Some(tc)
                && !table.global_unique().contains(&cols)
            {
                return Err(Error::InvalidSchema(
                    SchemaProblem::UniqueIndexWithoutTenant {
                        table: name.to_owned(),
                        columns: cols,
                    },
                ));
            }
        }
        t.col(
            ColumnDef::new(Alias::new(tc))
                .string_len(TENANT_COLUMN_LEN)
                .not_null(),
        );
        let mut pk = Index::create();
        pk.col(Alias::new(tc));
        for id in table.id_columns() {
            pk.col(Alias::new(id));
        }
        t.primary_key(&mut pk);
        for unique in table.unique() {
            let mut ix = Index::create();
            ix.name(format!("{name}_{}_key", unique.join("_")))
                .unique()
                .col(Alias::new(tc));
            for c in unique {
                ix.col(Alias::new(c));
            }
            t.index(&mut ix);
        }
        for fk in table.foreign_keys() {
            let parent = self.schema.table(&fk.parent)?;
            let mut f = SqForeignKey::create();
            f.name(format!("{name}_{}_fkey", fk.columns.join("_")))
                .from_tbl(Alias::new(name))
                .to_tbl(Alias::new(&fk.parent));
            if parent.is_tenant() {
                f.from_col(Alias::new(tc))
                    .to_col(Alias::new(parent.tenant_column()));
            }
            for (c, pc) in fk.columns.iter().zip(&fk.parent_columns) {
                f.from_col(Alias::new(c)).to_col(Alias::new(pc));
            }
            t.foreign_key(&mut f);
        }
        let mut indexes = Vec::new();
        for fk in table.foreign_keys() {
            let mut ix = Index::create();
            ix.name(format!("{name}_{}_idx", fk.columns.join("_")))
                .col(Alias::new(tc));
            for c in &fk.columns {
                ix.col(Alias::new(c));
            }
            if self.repeatable && self.backend == Backend::MySql {
                t.index(&mut ix);
            } else {
                if self.repeatable {
                    ix.if_not_exists();
                }
                indexes.push(self.backend.render_schema(ix.table(Alias::new(name))));
            }
        }
        let mut out = vec![self.build_table(&t)];
        out.extend(indexes);
        out.extend(self.row_level_security(name)?);
        Ok(out)
    }

    /// PostgreSQL Row-Level Security for a tenant table: ENABLE, FORCE (so
    /// the owner is bound too) and one policy whose USING and WITH CHECK both
    /// compare the tenant column with `current_setting(setting, true)`.
    /// Without a tenant bound the setting is NULL or empty and no row
    /// matches. Empty on other backends and for non-tenant tables.
    pub fn row_level_security(&self, name: &str) -> Result<Vec<String>> {
        let table = self.schema.table(name)?;
        if self.backend != Backend::Postgres || !table.is_tenant() {
            return Ok(Vec::new());
        }
        let mut statements = pg::row_level_security(table, &self.setting);
        if self.repeatable {
            // ENABLE and FORCE are no-ops when already set; the policy is not.
            for s in &mut statements {
                if s.starts_with("CREATE ") {
                    *s = unless_exists(s);
                }
            }
        }
        Ok(statements)
    }

    /// The PostgreSQL application role the service should connect as: it
    /// can log in and read and write the registered tables, but it is not a
    /// superuser, has no BYPASSRLS, creates nothing and owns nothing, so the
    /// policies bind it. `password` is optional (trust or certificate auth).
    /// Empty on other backends.
    pub fn app_role(&self, role: &str, password: Option<&str>, schema: &str) -> Vec<String> {
        if self.backend != Backend::Postgres {
            return Vec::new();
        }
        if !self.repeatable {
            return pg::app_role(self.schema, role, password, schema);
        }
        let mut statements = pg::app_role(self.schema, role, None, schema);
        if let Some(create) = statements.first_mut() {
            *create = unless_exists(create);
        }
        if let Some(password) = password {
            let alter = format!(
                "ALTER ROLE {} PASSWORD {}",
                pg::ident(role),
                pg::literal(password)
            );
            statements.insert(1, alter);
        }
        statements
    }

    /// Statements that distribute the schema on Citus: reference tables for
    /// global and system tables, tenant tables distributed by their tenant
    /// column and co-located with the first tenant table.
    pub fn citus(&self) -> Vec<String> {
        pg::citus(self.schema)
    }
}

/// A dollar-quote tag none of `statements` contains.
fn dollar_tag(statements: &[&str]) -> String {
    let mut tag = "$tenancy$".to_owned();
    while statements.iter().any(|s| s.contains(&tag)) {
        tag.insert(tag.len() - 1, '_');
    }
    tag
}

/// PostgreSQL: `statement` in a `DO` block that skips it when what it
/// creates exists already (`duplicate_object`: a policy or a role).
fn unless_exists(statement: &str) -> String {
    let tag = dollar_tag(&[statement]);
    format!(
        "DO {tag} BEGIN EXECUTE {}; EXCEPTION WHEN duplicate_object THEN NULL; END {tag}",
        pg::literal(statement)
    )
}

/// PostgreSQL: `statements` in one `DO` block that runs them only when no
/// table `table` is visible (as the search path resolves it).
fn unless_table_exists(table: &str, statements: &[String]) -> String {
    let texts: Vec<&str> = statements.iter().map(String::as_str).collect();
    let tag = dollar_tag(&texts);
    let mut body = String::new();
    for statement in statements {
        body.push_str(&format!("EXECUTE {}; ", pg::literal(statement)));
    }
    format!(
        "DO {tag} BEGIN IF to_regclass({}) IS NULL THEN {body}END IF; END {tag}",
        pg::literal(&pg::ident(table))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::builder()
            .system("tenants")
            .tenant("properties")
            .unique(["name"])
            .tenant("leases")
            .references("property_id", "properties")
            .build()
            .unwrap()
    }

    #[test]
    fn citus_distributes_tenant_tables_by_tenant_and_colocates_them() {
        let s = schema();
        assert_eq!(
            Ddl::new(&s, Backend::Postgres).citus(),
            [
                "SELECT create_reference_table('tenants')",
                "SELECT create_distributed_table('properties', 'tenant_id')",
                "SELECT create_distributed_table('leases', 'tenant_id', colocate_with => 'properties')",
            ]
        );
    }

    #[test]
    fn rls_policy_has_using_and_with_check_on_the_setting() {
        let s = schema();
        let rls = Ddl::new(&s, Backend::Postgres)
            .row_level_security("leases")
            .unwrap();
        assert_eq!(rls[0], r#"ALTER TABLE "leases" ENABLE ROW LEVEL SECURITY"#);
        assert_eq!(rls[1], r#"ALTER TABLE "leases" FORCE ROW LEVEL SECURITY"#);
        assert_eq!(
            rls[2],
            r#"CREATE POLICY "leases_tenant_isolation" ON "leases" AS PERMISSIVE FOR ALL USING ("tenant_id" = current_setting('tenancy.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('tenancy.tenant_id', true))"#
        );
        assert!(
            Ddl::new(&s, Backend::Sqlite)
                .row_level_security("leases")
                .unwrap()
                .is_empty()
        );
        assert!(
            Ddl::new(&s, Backend::Postgres)
                .row_level_security("tenants")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn app_role_cannot_bypass_rls() {
        let s = schema();
        let role = Ddl::new(&s, Backend::Postgres).app_role("app", None, "public");
        assert!(role[0].contains("NOSUPERUSER NOBYPASSRLS"));
        assert!(role.iter().all(|s| !s.contains("OWNER")));
    }

    #[test]
    fn tenant_table_gets_composite_keys_and_tenant_led_indexes() {
        let s = schema();
        let sql = Ddl::new(&s, Backend::Sqlite)
            .create_table("properties", |t| {
                t.col(ColumnDef::new("id").big_integer().not_null())
                    .col(ColumnDef::new("name").text().not_null());
            })
            .unwrap();
        assert_eq!(
            sql,
            [
                r#"CREATE TABLE "properties" ( "id" integer NOT NULL, "name" text NOT NULL, "tenant_id" varchar(36) NOT NULL, PRIMARY KEY ("tenant_id", "id"), CONSTRAINT "properties_name_key" UNIQUE ("tenant_id", "name") )"#
            ]
        );
    }

    #[test]
    fn global_unique_column_on_a_tenant_table_is_flagged() {
        let s = schema();
        let ddl = Ddl::new(&s, Backend::Postgres);
        let err = ddl
            .create_table("properties", |t| {
                t.col(ColumnDef::new("id").big_integer().not_null())
                    .col(ColumnDef::new("email").text().unique_key());
            })
            .unwrap_err();
        assert!(err.to_string().contains("unique across tenants"));
        assert!(
            ddl.create_table("properties", |t| {
                t.col(ColumnDef::new("tenant_id").text());
            })
            .is_err()
        );
        assert!(
            ddl.create_table("properties", |t| {
                t.col(ColumnDef::new("id").big_integer().primary_key());
            })
            .is_err()
        );
    }

    fn leases(ddl: &Ddl<'_>) -> Vec<String> {
        ddl.create_table("leases", |t| {
            t.col(ColumnDef::new("id").big_integer().not_null())
                .col(ColumnDef::new("property_id").big_integer().not_null());
        })
        .unwrap()
    }

    #[test]
    fn repeatable_postgres_creates_only_what_is_missing() {
        let s = schema();
        let ddl = Ddl::new(&s, Backend::Postgres).repeatable();
        assert_eq!(
            ddl.migration_lock(),
            [format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")]
        );
        let sql = leases(&ddl);
        assert_eq!(sql.len(), 1, "{sql:?}");
        let once = leases(&Ddl::new(&s, Backend::Postgres));
        let mut expected =
            r#"DO $tenancy$ BEGIN IF to_regclass('"leases"') IS NULL THEN "#.to_owned();
        for statement in &once {
            expected.push_str(&format!("EXECUTE '{}'; ", statement.replace('\'', "''")));
        }
        expected.push_str("END IF; END $tenancy$");
        assert_eq!(sql[0], expected);
        assert!(once.iter().any(|s| s.starts_with("CREATE POLICY")));
        // A system table has nothing but itself to create.
        let tenants = ddl
            .create_table("tenants", |t| {
                t.col(ColumnDef::new("id").text().not_null().primary_key());
            })
            .unwrap();
        assert!(tenants[0].starts_with(r#"CREATE TABLE IF NOT EXISTS "tenants""#));
        // The policy alone, for callers of `row_level_security`.
        let sql = ddl.row_level_security("leases").unwrap();
        assert_eq!(
            sql[2],
            r#"DO $tenancy$ BEGIN EXECUTE 'CREATE POLICY "leases_tenant_isolation" ON "leases" AS PERMISSIVE FOR ALL USING ("tenant_id" = current_setting(''tenancy.tenant_id'', true)) WITH CHECK ("tenant_id" = current_setting(''tenancy.tenant_id'', true))'; EXCEPTION WHEN duplicate_object THEN NULL; END $tenancy$"#
        );
        let role = ddl.app_role("app", Some("it's"), "public");
        assert!(
            role[0].starts_with(
                "DO $tenancy$ BEGIN EXECUTE 'CREATE ROLE \"app\" LOGIN NOSUPERUSER NOBYPASSRLS"
            ),
            "{}",
            role[0]
        );
        assert!(!role[0].contains("PASSWORD"));
        assert_eq!(role[1], r#"ALTER ROLE "app" PASSWORD 'it''s'"#);
        assert!(role[2..].iter().all(|s| s.starts_with("GRANT ")));
        let once = Ddl::new(&s, Backend::Postgres);
        assert!(once.app_role("app", Some("p"), "public")[0].contains("PASSWORD 'p'"));
        assert!(Ddl::new(&s, Backend::Sqlite).migration_lock().is_empty());
    }

    #[test]
    fn a_statement_holding_the_dollar_tag_gets_another() {
        let wrapped = unless_exists("CREATE ROLE \"$tenancy$\"");
        assert!(wrapped.starts_with("DO $tenancy_$ BEGIN"), "{wrapped}");
        assert!(wrapped.ends_with("END $tenancy_$"), "{wrapped}");
    }

    #[test]
    fn repeatable_sqlite_and_mysql_tables_and_indexes_use_if_not_exists() {
        let s = schema();
        let sqlite = leases(&Ddl::new(&s, Backend::Sqlite).repeatable());
        assert!(sqlite[0].starts_with(r#"CREATE TABLE IF NOT EXISTS "leases""#));
        assert!(sqlite[1].starts_with(r#"CREATE INDEX IF NOT EXISTS "leases_property_id_idx""#));
        assert_eq!(sqlite.len(), 2);
        let mysql = leases(&Ddl::new(&s, Backend::MySql).repeatable());
        assert_eq!(mysql.len(), 1, "{mysql:?}");
        assert!(
            mysql[0].starts_with("CREATE TABLE IF NOT EXISTS `leases`"),
            "{}",
            mysql[0]
        );
        assert!(
            mysql[0].contains("KEY `leases_property_id_idx` (`tenant_id`, `property_id`)"),
            "{}",
            mysql[0]
        );
        // Without `repeatable`, the statements are unchanged.
        let once = leases(&Ddl::new(&s, Backend::MySql));
        assert!(once[0].starts_with("CREATE TABLE `leases`") && once.len() == 2);
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn a_repeatable_schema_applies_twice() {
        let s = schema();
        let ddl = Ddl::new(&s, Backend::Sqlite).repeatable();
        let mut setup = ddl.migration_lock();
        setup.extend(
            ddl.create_table("properties", |t| {
                t.col(ColumnDef::new("id").big_integer().not_null())
                    .col(ColumnDef::new("name").text().not_null());
            })
            .unwrap(),
        );
        setup.extend(leases(&ddl));
        let owner = crate::OwnerPool::connect("sqlite::memory:").await.unwrap();
        owner.apply("create", &setup).await.unwrap();
        owner.apply("create again", &setup).await.unwrap();
    }
}
