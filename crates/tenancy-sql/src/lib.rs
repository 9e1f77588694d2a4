//! Tenant-scoped SQL for the tenancy SDK: every statement this crate executes
//! carries the tenant predicate, and PostgreSQL Row-Level Security stands
//! behind it as a second wall.
//!
//! The path from schema to query:
//!
//! 1. declare the tables in a [`Schema`] (tenant, global or system tables,
//!    their columns, foreign keys between tenant tables);
//! 2. create them with [`ddl::Ddl`] (tenant column, composite keys led by it,
//!    RLS on PostgreSQL), run as the owner through [`OwnerPool::apply`], and
//!    check the database with [`TenantPool::verify_isolation`] at start-up;
//! 3. build statements with [`Select`], [`Insert`], [`Update`] and
//!    [`Delete`] from typed expressions ([`col`], [`val`], [`exists`], …):
//!    names are resolved against the schema, values are always bound;
//! 4. run them in a [`TenantTx`] from [`TenantPool::begin`], which scopes
//!    them to the context's tenant. The same code runs on SQLite, PostgreSQL
//!    and MySQL/MariaDB, over sqlx's native pools: [`TenantPool::connect`]
//!    opens one from a URL, and `TenantPool::new(pg_pool, schema)` takes a
//!    `PgPool`, `MySqlPool` or `SqlitePool` you built yourself.
//!
//! ```
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! use tenancy_core::*;
//! use tenancy_sql::sea_query::ColumnDef;
//! use tenancy_sql::{Backend, Error, Insert, Order, OwnerPool, Schema, Select, Update, col, ddl::Ddl, val};
//!
//! let schema = Schema::builder()
//!     .system("tenants")
//!     .tenant("properties").columns(["name"])
//!     .tenant("leases").references("property_id", "properties").columns(["rent_cents"])
//!     .build()?;
//!
//! // The owner migrates; the request path gets only the tenant pool.
//! let owner = OwnerPool::connect("sqlite::memory:").await?;
//! let ddl = Ddl::new(&schema, Backend::Sqlite);
//! let mut migration = ddl.create_table("properties", |t| {
//!     t.col(ColumnDef::new("id").big_integer().not_null()).col(ColumnDef::new("name").text().not_null());
//! })?;
//! migration.extend(ddl.create_table("leases", |t| {
//!     t.col(ColumnDef::new("id").big_integer().not_null())
//!         .col(ColumnDef::new("property_id").big_integer().not_null())
//!         .col(ColumnDef::new("rent_cents").big_integer().not_null());
//! })?);
//! owner.apply("create the schema", migration).await?;
//! let pool = owner.tenant_pool(schema.clone());
//!
//! let member = |tenant| TenantContext::tenant(tenant, SubjectId::from_u128(1), RoleName::member(), PermissionSet::all());
//! let (acme, globex) = (member(TenantId::from_u128(1)), member(TenantId::from_u128(2)));
//!
//! // Inserts stamp the tenant; nobody writes the tenant column by hand.
//! let mut tx = pool.begin(&acme).await?;
//! tx.execute(Insert::into("properties").columns(["id", "name"]).exprs([val(1), val("Elm St 4")])).await?;
//! tx.execute(Insert::into("leases").columns(["id", "property_id", "rent_cents"]).values([10, 1, 120_000])).await?;
//! let forged = Insert::into("leases").columns(["tenant_id", "id", "property_id", "rent_cents"]);
//! let forged = tx.execute(forged.exprs([val(TenantId::from_u128(1).to_string()), val(11), val(1), val(1)])).await;
//! assert!(matches!(forged, Err(Error::TenantColumnWrite { .. })));
//! tx.commit().await?;
//!
//! // Another tenant sees nothing and cannot point at acme's property.
//! let mut tx = pool.begin(&globex).await?;
//! let rows = tx.fetch_all(Select::from("leases").all()).await?;
//! assert!(rows.is_empty());
//! let stolen = tx.execute(Insert::into("leases").columns(["id", "property_id", "rent_cents"]).values([11, 1, 1])).await;
//! assert!(matches!(stolen, Err(Error::NotFound { .. })));
//! let widened = col("leases", "rent_cents").gt(0).or(val(1).eq(1));
//! let touched = tx.execute(Update::table("leases").set("rent_cents", 0).filter(widened)).await?;
//! assert_eq!(touched, 0);
//! drop(tx); // rolled back
//!
//! // Names are checked against the schema before anything is sent.
//! let mut tx = pool.begin(&acme).await?;
//! let unknown = tx.fetch_all(Select::from("leases").column("secret")).await;
//! assert!(matches!(unknown, Err(Error::UnknownColumn { .. })));
//!
//! // Joins are scoped on both sides; rows map to your types with FromRow.
//! #[derive(sqlx::FromRow)]
//! struct Row { name: String, rent_cents: i64 }
//! let rows: Vec<Row> = tx.fetch_all_as(
//!     Select::from("leases")
//!         .column_of("properties", "name")
//!         .column_of("leases", "rent_cents")
//!         .inner_join("properties", col("properties", "id").eq(col("leases", "property_id")))
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
//!   parameter. Caller conditions are typed [`Expr`]s, ANDed under it.
//!   INSERT stamps the tenant and is the only writer of the tenant column:
//!   naming it, even with the context's own tenant, is
//!   [`Error::TenantColumnWrite`]; UPDATE cannot set it; upserts keep it in
//!   the conflict target, and on MySQL/MariaDB guard every assignment by
//!   the tenant of the row found.
//! - **A typed expression surface.** An [`Expr`] is columns, bound values,
//!   operators, a closed set of [`Function`]s, `CASE`, casts to a few
//!   [`SqlType`]s and subqueries built as scoped [`Select`]s. It has no node
//!   for SQL text, a function named by a string or a raw sea-query
//!   statement, so a condition that closes its own parenthesis or a
//!   subquery that skips the scoping cannot be written (compile-fail tests
//!   prove it); each operand of an operator is parenthesised on its own.
//! - **Names resolved by the schema.** Every table, alias, CTE and column is
//!   folded to lowercase and resolved before anything is rendered: tables
//!   must be registered ([`Error::UnknownTable`]), columns declared
//!   ([`Error::UnknownColumn`]); a name is used once per SELECT level and a
//!   CTE may not take a registered table's name ([`Error::DuplicateName`]).
//!   The SQL carries the declared spelling, so the server's own case rules
//!   cannot lead a name to anything the resolver did not check.
//! - **Only scoped statements run.** [`TenantTx`] takes [`Statement`]s, a
//!   sealed trait: a raw sea-query statement or a SQL string does not
//!   compile. A statement that fails on the server makes
//!   [`TenantTx::commit`] roll back and report
//!   [`Error::TransactionAborted`], on every backend. The escape hatch,
//!   [`TenantPool::unscoped_for_system`], needs a system context and a
//!   reason, records an audit event and takes the same builders; a tenant
//!   table anywhere in its statements, subqueries included, is
//!   [`Error::TenantTableInSystemStatement`].
//! - **References stay inside the tenant.** A foreign key value naming
//!   another tenant's row is [`Error::NotFound`], checked in code before the
//!   write and by the composite foreign keys of the DDL.
//! - **Row-Level Security (PostgreSQL).** The tenant is bound per
//!   transaction with `set_config(…, true)` in the `BEGIN` round trip, never
//!   per connection; policies with USING and WITH CHECK filter every query
//!   of the application role. MySQL/MariaDB and SQLite have no RLS: there
//!   the scoped statement is the only wall (the composite keys keep
//!   references inside the tenant), so isolation rests entirely on what the
//!   typed surface can express.
//! - **Leak tripwire.** On by default, in release builds too
//!   ([`TenantPool::with_tripwire`] turns it off): every returned column
//!   named like a tenant column, and every declared tenant column the
//!   statement returns under another name (an alias, a derived table's
//!   output), must hold the context's tenant, or the result
//!   is withheld and an audit event recorded; a value that does not decode
//!   as text counts as foreign.
//!
//! # Costs and known limits
//!
//! - A tenant-bound PostgreSQL transaction costs one round trip for `BEGIN`
//!   and the tenant binding together, one per statement, one for `COMMIT`.
//!   Dropping a read-only transaction instead of committing defers its
//!   `ROLLBACK` to the pool's release check. sqlx has no pipeline mode, so
//!   the binding cannot share the statement's round trip.
//! - The tripwire sees only tenant columns the statement returns (by name,
//!   or under an alias of a declared tenant column): a result without one
//!   cannot be checked (register views as tenant tables, or make
//!   them `security_invoker` so RLS applies; `verify_isolation` flags them).
//!   It costs about 1% of the instructions of a scoped read of 50 rows that
//!   returns the tenant column (1.5–2.4% in interleaved timings on a loaded
//!   machine; SQLite in memory, the `sql_tripwire` bench), and nothing
//!   measurable when the result has no tenant column.
//! - A statement says only what [`Expr`] can: the functions of [`Function`],
//!   three cast types, no window functions, no vendor operators. What it
//!   cannot say belongs in a view (registered in the schema) or a migration
//!   run by the owner; the surface grows by new typed nodes, never by text.
//! - Every column a statement names must be declared with
//!   [`SchemaBuilder::columns`] (the tenant column, id columns and key
//!   columns are declared already). `SELECT *` still returns every column
//!   the table has.
//! - Rows come back as the native driver's own (`DbRow` wraps `PgRow`,
//!   `MySqlRow` or `SqliteRow`), so every type the driver decodes decodes
//!   here (uuid, time or chrono, JSON, numeric, with sqlx's features for
//!   them). A `FromDbRow` type must decode on every backend the build
//!   compiles in; a `SUM` over integers is `numeric` on PostgreSQL.
//!
//! # What this crate does not do
//!
//! - It does not parse SQL, and the request path cannot run SQL text: the
//!   only way to is [`OwnerPool`], the owner's audited connection for
//!   migrations and administration, which a [`TenantPool`] never hands out.
//! - It does not scope RIGHT or FULL OUTER joins (they cannot be written)
//!   nor lateral joins.
//! - It does not run migrations or create databases; [`ddl`] returns text
//!   for [`OwnerPool::apply`] or your migration tool.
//! - It does not decide who may act: permissions are checked by the caller
//!   with `tenancy-core` before a statement is built.
//!
//! # Features
//!
//! No feature is on by default: without one this crate builds and renders
//! scoped statements and DDL; name the backends you run on for the runtime.
//!
//! | feature | what it adds |
//! |---------|--------------|
//! | `sqlx` | the runtime over sqlx 0.9's native pools: [`TenantPool`], [`TenantTx`], [`SystemTx`], [`OwnerPool`], [`TenantRouter`], `DbPool`, `DbRow`; it connects only with a backend below |
//! | `sqlite` | the SQLite driver (bundled libsqlite3) and `sqlx` |
//! | `postgres` | the PostgreSQL driver and `sqlx` |
//! | `mysql` | the MySQL/MariaDB driver and `sqlx` |
//! | `testing` | `testing::LeakCheck`: your data-access code and random statements over your schema, run against marker rows of several tenants; turns on `sqlite`, where it runs unless given a server's URL |
//! | `mutation-testing` | test-only, never for production: deliberate isolation bugs for `tests/mutants.rs` |
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
#[cfg(feature = "testing")]
pub mod testing;

pub use backend::Backend;
pub use error::{Error, Result, SchemaProblem, UnbindableValue, UnsupportedShape};
/// Deliberate isolation bugs for the mutation checks (feature
/// `mutation-testing`: test-only, never for production).
#[cfg(feature = "mutation-testing")]
#[doc(hidden)]
pub use query::mutant as mutation;
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

/// The sea-query this crate builds on, re-exported so values and the column
/// definitions of [`ddl`] come from the same version. Its expressions and
/// statements are not accepted by the scoped builders: use [`Expr`].
pub use sea_query;

#[cfg(feature = "sqlx")]
pub use runtime::{
    ColumnIndex, ColumnValue, DbPool, DbRow, FromDbRow, OwnerPool, PoolSettings, SystemStatement,
    SystemTx, TenantPool, TenantRouter, TenantTx, bounds,
};
