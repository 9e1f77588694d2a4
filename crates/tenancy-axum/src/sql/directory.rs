//! A tenant directory over a system `tenants` table.

use std::collections::BTreeMap;
use std::sync::Arc;

use tenancy_core::{
    PermissionSet, Plan, PlanOverrides, RateQuota, RoleName, RoleRegistry, SubjectId,
    TenantContext, TenantId, TenantSlug, TenantStatus,
};
use tenancy_sql::{Backend, Expr, Select, TenantPool, column};

use crate::directory::{TenantDirectory, TenantRecord};
use crate::error::{ConfigProblem, Error};

/// Tenants read from a system table, through `tenancy-sql`'s audited system
/// transaction. Declare the table and its [`COLUMNS`](SqlDirectory::COLUMNS)
/// in the schema, and call [`check`](SqlDirectory::check) at start-up: a
/// table or column the schema does not declare is then an error naming it
/// when the service starts, not a 503 on every request:
///
/// ```
/// use tenancy_axum::sql::SqlDirectory;
/// use tenancy_sql::{Schema, TenantPool};
///
/// let schema = Schema::builder()
///     .system("tenants").columns(SqlDirectory::COLUMNS)
///     .build()?;
/// # let _ = schema;
/// # fn start(pool: TenantPool, plans: Vec<tenancy_core::Plan>) -> Result<(), Box<dyn std::error::Error>> {
/// let directory = SqlDirectory::new(pool, plans);
/// directory.check()?;
/// # Ok(()) }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The table (see [`SqlDirectory::create_table`]) holds each tenant's id
/// (UUID text), slug, status, plan name and optional overrides of the
/// plan's rate and concurrency; plans themselves are the service's
/// configuration, given to [`SqlDirectory::new`]. Every tenant gets the same
/// role registry ([`RoleRegistry::with_builtins`] unless
/// [`with_roles`](SqlDirectory::with_roles) says otherwise).
///
/// Lookups run only on a [`TenantCache`](crate::TenantCache) miss. A row
/// naming an unknown plan or status is a directory error (503), never a
/// silent default.
pub struct SqlDirectory {
    pool: TenantPool,
    operator: TenantContext,
    plans: BTreeMap<String, Plan>,
    roles: Arc<RoleRegistry>,
    table: String,
}

impl std::fmt::Debug for SqlDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlDirectory")
            .field("table", &self.table)
            .field("plans", &self.plans.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn valid_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && name.len() <= 63
}

impl SqlDirectory {
    /// The columns the directory reads, to declare on its table with
    /// `SchemaBuilder::columns`.
    pub const COLUMNS: [&'static str; 7] = [
        "id",
        "slug",
        "status",
        "plan",
        "rate_per_second",
        "rate_burst",
        "max_concurrent",
    ];

    /// A directory over the `tenants` table of `pool`, with these plans.
    pub fn new(pool: TenantPool, plans: impl IntoIterator<Item = Plan>) -> Self {
        let operator = TenantContext::system(
            SubjectId::from_u128(0),
            RoleName::platform_admin(),
            PermissionSet::parse(["system:tenants"]).unwrap_or_default(),
        );
        SqlDirectory {
            pool,
            operator,
            plans: plans
                .into_iter()
                .map(|p| (p.name().to_owned(), p))
                .collect(),
            roles: Arc::new(RoleRegistry::with_builtins()),
            table: "tenants".to_owned(),
        }
    }

    /// Reads another table than `tenants` (a lowercase SQL identifier,
    /// declared as a system table with [`COLUMNS`](SqlDirectory::COLUMNS)).
    pub fn with_table(mut self, table: &str) -> Result<Self, Error> {
        if !valid_identifier(table) {
            return Err(Error::Config(ConfigProblem::DirectoryTableName));
        }
        table.clone_into(&mut self.table);
        Ok(self)
    }

    /// Whether the pool's schema declares the directory's table and every
    /// one of its [`COLUMNS`](SqlDirectory::COLUMNS); call it at start-up.
    /// Without them every lookup fails, and every request is answered 503.
    pub fn check(&self) -> Result<(), DirectorySchemaError> {
        let Ok(table) = self.pool.schema().table(&self.table) else {
            return Err(DirectorySchemaError::UndeclaredTable {
                table: self.table.clone(),
            });
        };
        let columns: Vec<_> = Self::COLUMNS
            .into_iter()
            .filter(|c| table.column(c).is_none())
            .collect();
        if columns.is_empty() {
            Ok(())
        } else {
            Err(DirectorySchemaError::UndeclaredColumns {
                table: self.table.clone(),
                columns,
            })
        }
    }

    /// The role registry every tenant gets.
    #[must_use]
    pub fn with_roles(mut self, roles: Arc<RoleRegistry>) -> Self {
        self.roles = roles;
        self
    }

    /// The `CREATE TABLE` statement of the directory's table (the same text
    /// on PostgreSQL, MySQL/MariaDB and SQLite).
    pub fn create_table(&self, _backend: Backend) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\
             id VARCHAR(36) NOT NULL PRIMARY KEY, \
             slug VARCHAR(63) NOT NULL UNIQUE, \
             status VARCHAR(16) NOT NULL, \
             plan VARCHAR(64) NOT NULL, \
             rate_per_second BIGINT NULL, \
             rate_burst BIGINT NULL, \
             max_concurrent BIGINT NULL)",
            self.table
        )
    }

    /// The row whose `key` column equals `value`.
    async fn fetch(&self, key: &str, value: Expr) -> Result<Option<Arc<TenantRecord>>, Error> {
        let stmt = Select::from(&self.table)
            .columns(Self::COLUMNS)
            .filter(column(key).eq(value))
            .limit(1);
        let mut tx = self
            .pool
            .unscoped_for_system("tenant directory lookup", &self.operator)
            .await
            .map_err(Error::directory)?;
        let rows = tx.fetch_all(stmt).await.map_err(Error::directory)?;
        tx.commit().await.map_err(Error::directory)?;
        match rows.first() {
            Some(row) => self.record(row).map(|r| Some(Arc::new(r))),
            None => Ok(None),
        }
    }

    fn record(&self, row: &tenancy_sql::DbRow) -> Result<TenantRecord, Error> {
        let text = |name: &str| row.try_get::<String, _>(name).map_err(Error::directory);
        let number = |name: &str| {
            row.try_get::<Option<i64>, _>(name)
                .map_err(Error::directory)
                .map(|v| v.and_then(|n| u32::try_from(n).ok()))
        };
        let id = TenantId::parse(&text("id")?).map_err(Error::directory)?;
        let slug = TenantSlug::parse(&text("slug")?).map_err(Error::directory)?;
        let status: TenantStatus = text("status")?.parse().map_err(Error::directory)?;
        let plan_name = text("plan")?;
        let plan = self
            .plans
            .get(&plan_name)
            .ok_or(Error::Config(ConfigProblem::UnknownPlan))?;
        let mut overrides = PlanOverrides::default();
        let base = plan.entitlements(&PlanOverrides::default());
        match (number("rate_per_second")?, number("rate_burst")?) {
            (Some(rate), burst) => {
                let burst = burst.unwrap_or(base.rate().burst());
                overrides = overrides.rate(RateQuota::per_second(rate, burst));
            }
            (None, Some(burst)) => {
                overrides = overrides.rate(RateQuota::every(base.rate().interval(), burst));
            }
            (None, None) => {}
        }
        if let Some(max) = number("max_concurrent")? {
            overrides = overrides.max_concurrent(max);
        }
        Ok(
            TenantRecord::new(id, slug, status, plan.entitlements(&overrides))
                .with_roles(Arc::clone(&self.roles)),
        )
    }
}

/// What [`SqlDirectory::check`] finds missing from the schema: a wiring
/// mistake, to report when the service starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirectorySchemaError {
    /// The schema declares no table of the directory's name.
    #[error(
        "the schema does not declare the tenant directory's table `{table}` (declare it with `.system(\"{table}\").columns(SqlDirectory::COLUMNS)`)"
    )]
    UndeclaredTable {
        /// The directory's table.
        table: String,
    },
    /// The schema declares the table without some of the columns the
    /// directory reads.
    #[error(
        "the schema's `{table}` table does not declare the tenant directory's columns {} (declare them with `.columns(SqlDirectory::COLUMNS)`)",
        quoted(columns)
    )]
    UndeclaredColumns {
        /// The directory's table.
        table: String,
        /// The columns it reads that the schema does not declare.
        columns: Vec<&'static str>,
    },
}

fn quoted(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait::async_trait]
impl TenantDirectory for SqlDirectory {
    async fn by_id(&self, id: TenantId) -> Result<Option<Arc<TenantRecord>>, Error> {
        self.fetch("id", id.to_string().into()).await
    }

    async fn by_slug(&self, slug: &TenantSlug) -> Result<Option<Arc<TenantRecord>>, Error> {
        self.fetch("slug", slug.as_str().into()).await
    }
}
