//! The database: a `tenancy-sql` [`TenantPool`] on SQLite or PostgreSQL.
//!
//! Every statement on a tenant table is a scoped `tenancy-sql` statement run
//! in a [`TenantTx`] bound to the request's context: the tenant predicate is
//! added by the library, never written by hand, and on PostgreSQL the tenant
//! is also bound per transaction so Row-Level Security refuses anything a
//! statement could miss. Platform metadata (`tenants`, `redeem_codes`) is
//! reached by operators through the audited escape hatch ([`Db::system`]),
//! and by the service itself (token checks, redeeming a code, the job
//! worker) with plain SQL on the same pool, which never touches a tenant
//! table.

mod postgres;
pub mod schema;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use std::sync::Arc;

use tenancy_core::{AuditEvent, AuditSink, TenantContext};
use tenancy_sql::TenantPool;
pub use tenancy_sql::{Backend, SystemTx, TenantTx};

use crate::config::Config;
use crate::error::ServiceError;
use crate::problem::ApiError;

/// Where the SQL layer's own events go (an operator's use of the escape
/// hatch, a prevented leak): standard error, as platform-level audit lines.
#[derive(Debug)]
struct LogAuditSink;

impl AuditSink for LogAuditSink {
    fn record(&self, event: AuditEvent) {
        eprintln!(
            "leases-service: audit: {} {} by {} ({})",
            event.action,
            event.outcome.as_str(),
            event.subject.map(|s| s.to_string()).unwrap_or_default(),
            event.reason.as_deref().unwrap_or_default()
        );
    }
}

/// The pool requests run on.
#[derive(Debug, Clone)]
pub struct Db {
    pool: TenantPool,
}

/// True when the schema exists already.
async fn has_schema(pool: &AnyPool, backend: Backend) -> Result<bool, sqlx::Error> {
    let probe = match backend {
        Backend::Postgres => "SELECT to_regclass('tenants')::text AS t",
        _ => "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name = 'tenants'",
    };
    let row: Option<sqlx::any::AnyRow> = sqlx::query(probe).fetch_optional(pool).await?;
    Ok(match row {
        Some(row) => sqlx::Row::try_get::<Option<String>, _>(&row, "t")?.is_some(),
        None => false,
    })
}

/// Creates the schema unless it exists, in one transaction.
async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), ServiceError> {
    if has_schema(pool, backend).await? {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    for statement in schema::migration(&schema::schema()?, backend)? {
        sqlx::query(&statement).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

impl Db {
    /// Connects, creates the schema if needed, and on PostgreSQL sets up the
    /// application role and refuses to go on unless isolation verifies.
    pub async fn connect(config: &Config) -> Result<Db, ServiceError> {
        sqlx::any::install_default_drivers();
        let url = config.database_url.as_str();
        if url.starts_with("sqlite:") {
            // One connection: SQLite serialises writers anyway, and this way a
            // write never fails on a lock held by another request.
            let pool = AnyPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await?;
            migrate(&pool, Backend::Sqlite).await?;
            Ok(Db {
                pool: TenantPool::from_pool(pool, schema::schema()?)?
                    .with_audit_sink(Arc::new(LogAuditSink)),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = postgres::prepare(config).await?;
            let pool = TenantPool::from_pool(pool, schema::schema()?)?
                .with_audit_sink(Arc::new(LogAuditSink));
            // Fails closed: RLS enabled and forced with USING and WITH CHECK,
            // a role that is not superuser, BYPASSRLS or owner…
            pool.verify_isolation().await.map_err(|e| match e {
                tenancy_sql::Error::Isolation(report) => {
                    ServiceError::Isolation(vec![report.to_string()])
                }
                other => ServiceError::Sql(other),
            })?;
            // …and a live probe that one tenant cannot see or write another's rows.
            postgres::probe(pool.sqlx_pool()).await?;
            Ok(Db { pool })
        } else {
            Err(ServiceError::Config {
                var: "DATABASE_URL",
                reason: "must start with `sqlite:` or `postgres:`".into(),
            })
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// A transaction that reaches `ctx`'s tenant only.
    pub async fn tenant(&self, ctx: &TenantContext) -> Result<TenantTx, ApiError> {
        Ok(self.pool.begin(ctx).await?)
    }

    /// The audited escape hatch for a platform operator: a transaction over
    /// `tenants` and `redeem_codes` only (tenant tables are refused), which
    /// records a system-access event with `reason`.
    pub async fn system(
        &self,
        operator: &TenantContext,
        reason: &str,
    ) -> Result<SystemTx, ApiError> {
        Ok(self.pool.unscoped_for_system(reason, operator).await?)
    }

    /// Plain SQL for platform metadata (`tenants`, `redeem_codes`) only.
    pub fn platform(&self) -> &AnyPool {
        self.pool.sqlx_pool()
    }
}
