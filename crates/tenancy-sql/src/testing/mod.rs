//! The leak-test kit (feature `testing`): prove that *your* data-access code
//! never reads, writes or moves another tenant's rows.
//!
//! [`LeakCheck`] creates your schema in a scratch database (SQLite in
//! memory by default; PostgreSQL or MySQL/MariaDB given a server URL),
//! seeds several tenants with marker rows generated from the columns the
//! database reports and the references the schema declares, and then:
//!
//! 1. runs your code once per tenant and per [`Case`]: with the tenant's own
//!    ids, with the id of its own row that every other tenant's rows share
//!    (as per-tenant sequences give), with another tenant's ids, and with
//!    ids no row has. Your code gets a [`Probe`] (the context, the ids and
//!    other column values of the case's row) and a [`TenantTx`] bound to the
//!    tenant; the kit commits it afterwards;
//! 2. runs random statements over your tables, built with the public
//!    builders: foreign ids in filters, conditions widened with `OR 1 = 1`,
//!    joins along your references, subqueries, CTEs, set operations,
//!    counts, and writes aimed at or pointing to another tenant's rows.
//!
//! After each run it checks, with the owner's connection:
//!
//! - the output (your result's `Debug` text, or the rows) holds no other
//!   tenant's marker, id or tenant id ([`LeakKind::Read`]);
//! - every other tenant's rows, the global tables and the system tables are
//!   exactly as they were ([`LeakKind::Written`]);
//! - the acting tenant's rows hold no other tenant's values
//!   ([`LeakKind::Moved`]);
//! - your answer for another tenant's id equals your answer for an id that
//!   does not exist, once the id itself is masked, and so do the tenant's own
//!   rows after each (numbers and UUIDs aside, so timestamps and fresh ids
//!   do not count) ([`LeakKind::Distinguishable`]);
//! - the leak tripwire never had to withhold a result
//!   ([`LeakKind::Tripwire`]).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! use tenancy_sql::testing::LeakCheck;
//! use tenancy_sql::{Schema, Select, TenantTx, col, val};
//!
//! let schema = Schema::builder().tenant("notes").columns(["body"]).build()?;
//!
//! // The code under test: one note by id.
//! async fn note(tx: &mut TenantTx, id: i64) -> tenancy_sql::Result<Option<String>> {
//!     let row = tx.fetch_optional(Select::from("notes").column("body").filter(col("notes", "id").eq(val(id)))).await?;
//!     row.map(|r| r.try_get("body")).transpose()
//! }
//!
//! let report = LeakCheck::new(&schema)
//!     .tenants(3)
//!     .run(async |probe, tx| note(tx, probe.id("notes").as_i64().unwrap_or_default()).await)
//!     .await;
//! assert!(report.is_clean());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Without [`LeakCheck::migration`] the kit creates each table itself: id
//! and reference columns as `BIGINT`, every other declared column as
//! nullable text. Give your own migration when your code decodes other
//! types.
//!
//! # What this does not do
//!
//! - It sees what your code returns through `Debug`, and the rows in the
//!   database: a value your code sends elsewhere (a log, a queue, an HTTP
//!   call) is not checked.
//! - Only text, integer, UUID, JSON and byte columns carry markers. Floats,
//!   numerics, booleans, dates, times, small integers and short text hold
//!   the same values for every tenant, so a leak of only those, a count or
//!   a sum over all tenants, or a marker hashed, truncated or reformatted
//!   passes, except where the foreign answer then differs from the missing
//!   one. The kit's own count statements do check counts.
//! - Your output must be deterministic: a timestamp or a random id in what
//!   your code returns makes the foreign and missing answers differ.
//! - It seeds every column it can type: enums get their first label, a
//!   nullable column of a type it does not know (arrays, network
//!   addresses, ranges) NULL, dates grow with the column's position so
//!   `ends > starts` holds. Other `CHECK` constraints, a non-nullable
//!   column of an unknown type or MariaDB's `JSON` (stored as checked text)
//!   make set-up fail with [`Error::Scratch`](crate::Error::Scratch),
//!   naming the table. A table without ids gets one row per tenant.
//! - It is for tests: it creates and drops databases, roles and, for
//!   SQLite, a file in the temporary directory.

mod cell;
mod check;
mod columns;
mod fuzz;
mod marker;
mod probe;
mod report;
mod scratch;
mod seed;

use std::fmt;

use tenancy_core::{PermissionSet, RoleName, SubjectId, TenantContext, TenantId};

pub use marker::SeedId;
pub use probe::{Case, Probe};
pub use report::{Attempt, Leak, LeakKind, LeakReport};

use crate::error::Result;
use crate::sea_query::{Alias, ColumnDef, Index};
use crate::{Backend, Schema, TableKind, TenantTx, ddl::Ddl};

/// The migration a check runs in its scratch database.
type Migration = Box<dyn Fn(Backend) -> Vec<String> + Send + Sync>;

/// A leak check over one schema: see the [module docs](self).
pub struct LeakCheck {
    schema: Schema,
    tenants: usize,
    rows: usize,
    url: Option<String>,
    migration: Option<Migration>,
    role: RoleName,
    permissions: PermissionSet,
    fuzz_cases: u32,
    fuzz_seed: u64,
}

impl fmt::Debug for LeakCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeakCheck")
            .field("tenants", &self.tenants)
            .field("rows", &self.rows)
            .field("server", &self.url.as_ref().map(|u| u.split(':').next()))
            .field("fuzz_cases", &self.fuzz_cases)
            .field("fuzz_seed", &self.fuzz_seed)
            .finish_non_exhaustive()
    }
}

impl LeakCheck {
    /// A check of `schema`: three tenants with three rows per table each
    /// (see [`LeakCheck::rows`]), on SQLite in memory, 200 random statements.
    ///
    /// `TENANCY_FUZZ_SEED` and `TENANCY_FUZZ_CASES`, when set, override the
    /// fuzzer's seed and case count (to replay or to run longer).
    pub fn new(schema: &Schema) -> LeakCheck {
        fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
            std::env::var(name).ok().and_then(|v| v.parse().ok())
        }
        LeakCheck {
            schema: schema.clone(),
            tenants: 3,
            rows: 2,
            url: None,
            migration: None,
            role: RoleName::member(),
            permissions: PermissionSet::all(),
            fuzz_cases: env("TENANCY_FUZZ_CASES").unwrap_or(200),
            fuzz_seed: env("TENANCY_FUZZ_SEED").unwrap_or(0x7e4a_4c5e),
        }
    }

    /// How many tenants to seed (2 to 20).
    #[must_use]
    pub fn tenants(mut self, n: usize) -> Self {
        self.tenants = n.clamp(2, 20);
        self
    }

    /// How many marker rows per tenant and table have ids of the tenant's
    /// own (1 to 100; default 2). Every tenant also gets one more row whose
    /// id all tenants share, so a lost tenant predicate in a join or a
    /// subquery meets other tenants' rows.
    #[must_use]
    pub fn rows(mut self, n: usize) -> Self {
        self.rows = n.clamp(1, 100);
        self
    }

    /// Runs on a server instead of SQLite: a `postgres://` or `mysql://` URL
    /// of a user that may create databases (and, on PostgreSQL, roles). The
    /// check creates a database of its own there and drops it at the end.
    #[must_use]
    pub fn database(mut self, url: &str) -> Self {
        self.url = (!url.starts_with("sqlite")).then(|| url.to_owned());
        self
    }

    /// Your own migration, for the backend the check runs on.
    #[must_use]
    pub fn migration(mut self, f: impl Fn(Backend) -> Vec<String> + Send + Sync + 'static) -> Self {
        self.migration = Some(Box::new(f));
        self
    }

    /// The role and permissions your code runs with (default: member, all
    /// permissions).
    #[must_use]
    pub fn acting_as(mut self, role: RoleName, permissions: PermissionSet) -> Self {
        self.role = role;
        self.permissions = permissions;
        self
    }

    /// How many random statements to run (0 turns the fuzzer off).
    #[must_use]
    pub fn fuzz_cases(mut self, n: u32) -> Self {
        self.fuzz_cases = n;
        self
    }

    /// The fuzzer's seed (the report names it, to replay a failure).
    #[must_use]
    pub fn fuzz_seed(mut self, seed: u64) -> Self {
        self.fuzz_seed = seed;
        self
    }

    fn context(&self, tenant: TenantId, n: usize) -> TenantContext {
        TenantContext::tenant(
            tenant,
            SubjectId::from_u128(0x5eed_0000 + n as u128),
            self.role.clone(),
            self.permissions.clone(),
        )
    }

    fn migration_for(&self, backend: Backend) -> Vec<String> {
        match &self.migration {
            Some(f) => f(backend),
            None => generated_migration(&self.schema, backend),
        }
    }

    /// Runs the check and returns what it tried and found; an `Err` is a
    /// set-up failure (server unreachable, migration or seeding failed).
    pub async fn try_run<F, T>(self, code: F) -> Result<LeakReport>
    where
        F: AsyncFnMut(&Probe<'_>, &mut TenantTx) -> T,
        T: fmt::Debug,
    {
        check::run(&self, code).await
    }

    /// Runs the check and panics with the whole report when anything leaked
    /// or the set-up failed: the one call a test makes.
    #[allow(clippy::panic, reason = "a test helper: failing the test is its job")]
    pub async fn run<F, T>(self, code: F) -> LeakReport
    where
        F: AsyncFnMut(&Probe<'_>, &mut TenantTx) -> T,
        T: fmt::Debug,
    {
        match self.try_run(code).await {
            Ok(report) if report.is_clean() => report,
            Ok(report) => panic!("{report}"),
            Err(e) => panic!("leak check set-up failed: {e} ({e:?})"),
        }
    }
}

/// A migration made from the schema alone: ids and references `BIGINT`,
/// other declared columns nullable text.
fn generated_migration(schema: &Schema, backend: Backend) -> Vec<String> {
    let ddl = Ddl::new(schema, backend);
    let mut out = Vec::new();
    let ordered = schema
        .tables()
        .filter(|t| !t.is_tenant())
        .chain(schema.tenant_tables());
    for table in ordered {
        let tenant = table.kind() == TableKind::Tenant;
        let created = ddl.create_table(table.name(), |t| {
            let referencing: Vec<&String> = table
                .foreign_keys()
                .iter()
                .flat_map(|fk| &fk.columns)
                .collect();
            for column in table.columns() {
                if tenant && column == table.tenant_column() {
                    continue;
                }
                let mut def = ColumnDef::new(Alias::new(column));
                if table.id_columns().iter().any(|c| c == column)
                    || referencing.iter().any(|c| *c == column)
                {
                    def.big_integer().not_null();
                } else {
                    def.text().null();
                }
                t.col(def);
            }
            if !tenant && !table.id_columns().is_empty() {
                let mut pk = Index::create();
                for id in table.id_columns() {
                    pk.col(Alias::new(id));
                }
                t.primary_key(&mut pk);
            }
        });
        // The schema registered every table, so only a column the DDL
        // itself refuses fails here; the database then reports it.
        if let Ok(statements) = created {
            out.extend(statements);
        }
    }
    out
}
