//! The database: a `tenancy-sql` [`TenantPool`] on SQLite or PostgreSQL.
//!
//! Every statement on a tenant table is a scoped `tenancy-sql` statement run
//! in a [`TenantTx`] bound to the request's context: the tenant predicate is
//! added by the library, never written by hand, and on PostgreSQL the tenant
//! is also bound per transaction so Row-Level Security refuses anything a
//! statement could miss. Platform metadata (`tenants`, `redeem_codes`) is
//! reached only through the audited escape hatch: by operators as themselves
//! ([`Db::system`]), and by the service itself (the tenant directory, status
//! checks, redeeming a code) as its own system subject ([`Db::platform`]).
//! Neither can name a tenant table.
//!
//! No SQL text runs on the request path. Migrations, grants and the
//! start-up probes go through a `tenancy-sql` [`OwnerPool`], audited, which
//! [`Db::connect`] drops (or, on SQLite, hands over as the tenant pool)
//! before the first request.

mod postgres;
pub mod schema;

use std::sync::Arc;

use sqlx::any::AnyPoolOptions;
use tenancy_core::{AuditEvent, AuditSink, PermissionSet, RoleName, SubjectId, TenantContext};
pub use tenancy_sql::{Backend, SystemTx, TenantTx};
use tenancy_sql::{OwnerPool, TenantPool};

use crate::config::Config;
use crate::error::ServiceError;
use crate::problem::ApiError;

/// The subject the service itself acts as on platform metadata (the tenant
/// directory, status checks, redeeming a code); never a tenant's subject.
pub const SERVICE: SubjectId = SubjectId::from_u128(0x0073_6572_7669_6365); // "service"

/// Where the SQL layer's own events go (a use of the escape hatch or of the
/// owner's pool, a prevented leak): standard error, as platform-level audit
/// lines.
#[derive(Debug)]
struct LogAuditSink;

impl AuditSink for LogAuditSink {
    fn record(&self, event: AuditEvent) {
        let by = match event.subject {
            Some(SERVICE) => " by the service".to_owned(),
            Some(subject) => format!(" by {subject}"),
            None => String::new(),
        };
        eprintln!(
            "leases-service: audit: {} {}{by} ({})",
            event.action,
            event.outcome.as_str(),
            event.reason.as_deref().unwrap_or_default()
        );
    }
}

/// The pool requests run on. It holds no raw SQL pool: only scoped
/// statements and the audited escape hatch reach the database through it.
#[derive(Debug, Clone)]
pub struct Db {
    pool: TenantPool,
    /// The service's own system context, for [`Db::platform`].
    service: TenantContext,
}

/// Creates the SQLite schema unless it exists, in one transaction.
async fn migrate_sqlite(owner: &OwnerPool) -> Result<(), ServiceError> {
    let exists = sqlx::query(
        "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name = 'tenants'",
    )
    .fetch_optional(owner.sqlx_pool("check whether the schema exists")?)
    .await?
    .is_some();
    if !exists {
        let statements = schema::migration(&schema::schema()?, Backend::Sqlite)?;
        owner.apply("create the schema", statements).await?;
    }
    Ok(())
}

impl Db {
    /// Connects, creates the schema if needed, and on PostgreSQL sets up the
    /// application role and refuses to go on unless isolation verifies.
    pub async fn connect(config: &Config) -> Result<Db, ServiceError> {
        let url = config.database_url.as_str();
        let audit: Arc<dyn AuditSink> = Arc::new(LogAuditSink);
        let pool = if url.starts_with("sqlite:") {
            // One connection: SQLite serialises writers anyway, and this way a
            // write never fails on a lock held by another request. The service
            // owns its embedded database, so the tenant pool shares the
            // owner's connection; the owner's handle is dropped here.
            let owner = OwnerPool::connect_with(url, AnyPoolOptions::new().max_connections(1))
                .await?
                .with_audit_sink(Arc::clone(&audit));
            migrate_sqlite(&owner).await?;
            owner.tenant_pool(schema::schema()?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let app_url = postgres::prepare(config, &audit).await?;
            let pool = TenantPool::connect_with(
                &app_url,
                schema::schema()?,
                AnyPoolOptions::new().max_connections(8),
            )
            .await?;
            // Fails closed: RLS enabled and forced with USING and WITH CHECK,
            // a role that is not superuser, BYPASSRLS or owner…
            pool.verify_isolation().await.map_err(|e| match e {
                tenancy_sql::Error::Isolation(report) => {
                    ServiceError::Isolation(vec![report.to_string()])
                }
                other => ServiceError::Sql(other),
            })?;
            // …and a live probe, as the application role on connections of
            // its own, that one tenant cannot see or write another's rows.
            postgres::probe(&app_url, &audit).await?;
            pool
        } else {
            return Err(ServiceError::Config {
                var: "DATABASE_URL",
                reason: "must start with `sqlite:` or `postgres:`".into(),
            });
        };
        Ok(Db {
            pool: pool.with_audit_sink(audit),
            service: TenantContext::system(
                SERVICE,
                RoleName::platform_admin(),
                PermissionSet::parse(["system:tenants"])
                    .map_err(|e| ServiceError::Internal(e.to_string()))?,
            ),
        })
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

    /// The same escape hatch for the service's own work on platform
    /// metadata, as [`SERVICE`]: tenant tables stay out of reach, and every
    /// use is recorded with `reason`.
    pub async fn platform(&self, reason: &str) -> tenancy_sql::Result<SystemTx> {
        self.pool.unscoped_for_system(reason, &self.service).await
    }
}
