//! Tenant-scoped SQL for the tenancy SDK: every statement this crate executes
//! carries the tenant predicate, and PostgreSQL Row-Level Security stands
//! behind it as a second wall.
//!
//! The path from schema to query:
//!
//! 1. declare the tables in a [`Schema`] (tenant, global or system tables,
//!    foreign keys between tenant tables);
//! 2. create them with [`ddl::Ddl`] (tenant column, composite keys led by it,
//!    RLS on PostgreSQL) and check the database with
//!    [`TenantPool::verify_isolation`] at start-up;
//! 3. build statements with [`Select`], [`Insert`], [`Update`] and
//!    [`Delete`] (sea-query underneath, values always bound);
//! 4. run them in a [`TenantTx`] from [`TenantPool::begin`], which scopes
//!    them to the context's tenant. The same code runs on SQLite, PostgreSQL
//!    and MySQL/MariaDB.
//!
//! ```
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! use tenancy_core::*;
//! use tenancy_sql::sea_query::{ColumnDef, ExprTrait, Order, Value};
//! use tenancy_sql::{Backend, Error, Insert, Schema, Select, TenantPool, Update, col, ddl::Ddl};
//!
//! let schema = Schema::builder()
//!     .system("tenants")
//!     .tenant("properties")
//!     .tenant("leases").references("property_id", "properties")
//!     .build()?;
//!
//! let pool = TenantPool::connect("sqlite::memory:", schema.clone()).await?;
//! let ddl = Ddl::new(&schema, Backend::Sqlite);
//! let mut migration = ddl.create_table("properties", |t| {
//!     t.col(ColumnDef::new("id").big_integer().not_null()).col(ColumnDef::new("name").text().not_null());
//! })?;
//! migration.extend(ddl.create_table("leases", |t| {
//!     t.col(ColumnDef::new("id").big_integer().not_null())
//!         .col(ColumnDef::new("property_id").big_integer().not_null())
//!         .col(ColumnDef::new("rent_cents").big_integer().not_null());
//! })?);
//! for statement in migration {
//!     sqlx::query(&statement).execute(pool.sqlx_pool()).await?;
//! }
//!
//! let member = |tenant| TenantContext::tenant(tenant, SubjectId::from_u128(1), RoleName::member(), PermissionSet::all());
//! let (acme, globex) = (member(TenantId::from_u128(1)), member(TenantId::from_u128(2)));
//!
//! // Inserts stamp the tenant; nobody writes the tenant column by hand.
//! let mut tx = pool.begin(&acme).await?;
//! tx.execute(Insert::into("properties").columns(["id", "name"]).values([Value::from(1), "Elm St 4".into()])).await?;
//! tx.execute(Insert::into("leases").columns(["id", "property_id", "rent_cents"]).values([10, 1, 120_000])).await?;
//! tx.commit().await?;
//!
//! // Another tenant sees nothing and cannot point at acme's property.
//! let mut tx = pool.begin(&globex).await?;
//! let rows = tx.fetch_all(Select::from("leases").all()).await?;
//! assert!(rows.is_empty());
//! let stolen = tx.execute(Insert::into("leases").columns(["id", "property_id", "rent_cents"]).values([11, 1, 1])).await;
//! assert!(matches!(stolen, Err(Error::NotFound { .. })));
//! let touched = tx.execute(Update::table("leases").set("rent_cents", 0)).await?;
//! assert_eq!(touched, 0);
//! drop(tx); // rolled back
//!
//! // Joins are scoped on both sides; rows map to your types with FromRow.
//! #[derive(sqlx::FromRow)]
//! struct Row { name: String, rent_cents: i64 }
//! let mut tx = pool.begin(&acme).await?;
//! let rows: Vec<Row> = tx.fetch_all_as(
//!     Select::from("leases")
//!         .column_of("properties", "name")
//!         .column_of("leases", "rent_cents")
//!         .inner_join("properties", col("properties", "id").equals(("leases", "property_id")))
//!         .filter(col("leases", "rent_cents").gt(1000))
//!         .order_by(col("leases", "id"), Order::Asc),
//! ).await?;
//! assert_eq!((rows[0].name.as_str(), rows[0].rent_cents), ("Elm St 4", 120_000));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The walls
//!
//! - **Scoped statements.** Every tenant table a statement names (FROM,
//!   inner and left joins, subqueries, CTEs, set-operation arms, INSERT …
//!   SELECT sources) gets `table.tenant = $n`, the tenant always a bound
//!   parameter. Caller conditions are ANDed under it. INSERT stamps the
//!   tenant; UPDATE cannot set it; upserts keep it in the conflict target.
//!   Expressions carrying raw subqueries or SQL text are refused.
//! - **Only scoped statements run.** [`TenantTx`] takes [`Statement`]s, a
//!   sealed trait: a raw sea-query statement or a SQL string does not
//!   compile. The escape hatch, [`TenantPool::unscoped_for_system`], needs a
//!   system context and a reason and records an audit event.
//! - **References stay inside the tenant.** A foreign key value naming
//!   another tenant's row is [`Error::NotFound`], checked in code before the
//!   write and by the composite foreign keys of the DDL.
//! - **Row-Level Security (PostgreSQL).** The tenant is bound per
//!   transaction with `set_config(…, true)` in the `BEGIN` round trip, never
//!   per connection; policies with USING and WITH CHECK filter every query
//!   of the application role. MySQL/MariaDB and SQLite have no RLS: there
//!   isolation rests on the scoped statements and the composite keys.
//! - **Leak tripwire.** In debug builds (and in release with
//!   [`TenantPool::with_tripwire`]) every returned column named like a tenant
//!   column must hold the context's tenant, or the result is withheld and an
//!   audit event recorded.
//!
//! # Costs and known limits
//!
//! - A tenant-bound PostgreSQL transaction costs one round trip for `BEGIN`
//!   and the tenant binding together, one per statement, one for `COMMIT`.
//!   Dropping a read-only transaction instead of committing defers its
//!   `ROLLBACK` to the pool's release check. sqlx has no pipeline mode, so
//!   the binding cannot share the statement's round trip.
//! - The tripwire sees only columns named like a tenant column: a result
//!   without one cannot be checked (register views as tenant tables, or make
//!   them `security_invoker` so RLS applies; `verify_isolation` flags them).
//! - The raw-SQL guard counts the `SELECT`s in the rendered text. It stops a
//!   raw sea-query subquery or `Expr::cust` text from slipping a table past
//!   the scoping by mistake; it is not a parser for hostile SQL written by
//!   the developer.
//! - Rows come back as sqlx `AnyRow`, so column types are those the `Any`
//!   driver decodes (integers, floats, text, booleans, bytes): keep
//!   timestamps as text or integers, and cast `SUM` over integers on
//!   PostgreSQL (it returns `numeric`).
//!
//! # What this crate does not do
//!
//! - It does not parse SQL: raw SQL runs only on [`TenantPool::sqlx_pool`],
//!   which is for migrations and administration.
//! - It does not scope RIGHT or FULL OUTER joins (refused) nor lateral joins.
//! - It does not run migrations or create databases; [`ddl`] returns text.
//! - It does not decide who may act: permissions are checked by the caller
//!   with `tenancy-core` before a statement is built.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---------|--------------|
//! | `sqlx` | the runtime: [`TenantPool`], [`TenantTx`], [`SystemTx`], [`TenantRouter`] |
//! | `sqlite` (default) | the SQLite driver (bundled libsqlite3) and `sqlx` |
//! | `postgres` | the PostgreSQL driver and `sqlx` |
//! | `mysql` | the MySQL/MariaDB driver and `sqlx` |
//!
//! The tenant column holds the tenant's UUID as text (`VARCHAR(36)`) on
//! every backend, so the same rows, statements and tests serve all three.

mod backend;
pub mod ddl;
mod error;
mod query;
mod schema;
mod verify;

#[cfg(feature = "sqlx")]
mod runtime;

pub use backend::Backend;
pub use error::{Error, Result};
pub use query::{
    Delete, Expr, Function, Insert, Order, Prepared, Select, SqlType, Statement, Update, all, any,
    call, case, col, column, count_all, current_timestamp, exists, not_exists, scalar, val,
};
pub use schema::{
    DEFAULT_ID_COLUMN, DEFAULT_TENANT_COLUMN, ForeignKey, Schema, SchemaBuilder, TableDef,
    TableKind,
};
pub use verify::{Finding, IsolationReport};

/// The PostgreSQL setting that carries the tenant of a transaction (the RLS
/// policies read it with `current_setting('tenancy.tenant_id', true)`).
pub const DEFAULT_TENANT_SETTING: &str = "tenancy.tenant_id";

/// The sea-query this crate builds on, re-exported so expressions and values
/// come from the same version.
pub use sea_query;

#[cfg(feature = "sqlx")]
pub use runtime::{OwnerPool, SystemStatement, SystemTx, TenantPool, TenantRouter, TenantTx};
