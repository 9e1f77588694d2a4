//! The database: a `tenancy-sql` [`TenantPool`] on SQLite or PostgreSQL.
//!
//! Every statement on a tenant table is a scoped `tenancy-sql` statement run
//! in a [`TenantTx`] bound to the request's context: the tenant predicate is
//! added by the library, never written by hand, and on PostgreSQL the tenant
//! is also bound per transaction so Row-Level Security refuses anything a
//! statement could miss. Platform metadata (`tenants`, `redeem_codes`) is
//! reached only through the audited escape hatch: by operators as themselves
//! ([`Db::system`]), and by the service itself (status checks, redeeming a
//! code) as its own system subject ([`Db::platform`]); the SDK's
//! `SqlDirectory` reads `tenants` the same way. Neither can name a tenant
//! table.
//!
//! The service holds no raw pool and writes no SQL of its own beyond its
//! schema's indexes: the tables, their Row-Level Security and the
//! application role come from `tenancy-sql`'s DDL, applied at start-up
//! through an audited `OwnerPool` (see `setup`), which is closed (or, on
//! SQLite, handed over as the tenant pool) before the first request.

pub mod schema;
mod setup;

use std::sync::Arc;

use tenancy_core::{AuditEvent, AuditSink, PermissionSet, RoleName, SubjectId, TenantContext};
use tenancy_sql::PoolSettings;
use tenancy_sql::{Backend, OwnerPool, TenantPool};
pub(crate) use tenancy_sql::{SystemTx, TenantTx};

use crate::error::{ConfigProblem, ServiceError};
use crate::http::ApiError;
use crate::infra::config::Config;

/// The subject the service itself acts as on platform metadata (status
/// checks, redeeming a code); never a tenant's subject.
const SERVICE: SubjectId = SubjectId::from_u128(0x0073_6572_7669_6365); // "service"

/// Where the SQL layer's own events go (a use of the escape hatch or of the
/// owner's pool, a prevented leak): standard error, as platform-level audit
/// lines.
#[derive(Debug)]
struct LogAuditSink;

impl AuditSink for LogAuditSink {
    fn record(&self, event: AuditEvent) {
        let by = match event.subject {
            Some(SERVICE) => " by the service".to_owned(),
            // The SDK's tenant directory acts as the nil subject.
            Some(subject) if subject == SubjectId::from_u128(0) => {
                " by the tenant directory".to_owned()
            }
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

/// The pool requests run on: only scoped statements and the audited escape
/// hatch reach the database through it.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    pool: TenantPool,
    /// The service's own system context, for [`Db::platform`].
    service: TenantContext,
}

impl Db {
    /// Connects, creates what is missing of the schema, and on PostgreSQL
    /// of the application role, and there refuses to go on unless isolation
    /// verifies.
    pub(crate) async fn connect(config: &Config) -> Result<Db, ServiceError> {
        let url = config.database_url.as_str();
        let audit: Arc<dyn AuditSink> = Arc::new(LogAuditSink);
        let pool = if url.starts_with("sqlite:") {
            // One connection: SQLite serialises writers anyway, and this way a
            // write never fails on a lock held by another request. The service
            // owns its embedded database, so the tenant pool shares the
            // owner's connection; the owner's handle is dropped here.
            let owner = OwnerPool::connect_with(url, &PoolSettings::default().max_connections(1))
                .await
                .map_err(unreachable(url))?
                .with_audit_sink(Arc::clone(&audit));
            setup::migrate(&owner, config).await?;
            owner.tenant_pool(schema::schema()?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let app_url = setup::prepare(config, &audit).await?;
            let pool = TenantPool::connect_with(
                &app_url,
                schema::schema()?,
                &PoolSettings::default().max_connections(8),
            )
            .await?;
            // Fails closed: RLS enabled and forced with USING and WITH CHECK
            // on every tenant table, a role that is not superuser, BYPASSRLS
            // or owner…
            pool.verify_isolation().await.map_err(|e| match e {
                tenancy_sql::Error::Isolation(report) => ServiceError::Isolation(report),
                other => ServiceError::Sql(other),
            })?;
            pool
        } else {
            return Err(ServiceError::Config {
                var: "DATABASE_URL",
                problem: ConfigProblem::UnknownDatabase,
            });
        };
        Ok(Db {
            pool: pool.with_audit_sink(audit),
            service: TenantContext::system(
                SERVICE,
                RoleName::platform_admin(),
                PermissionSet::parse(["system:tenants"]).map_err(tenancy_core::Error::from)?,
            ),
        })
    }

    /// The backend.
    pub(crate) fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// The tenant pool, for the SDK's tenant directory.
    pub(crate) fn pool(&self) -> &TenantPool {
        &self.pool
    }

    /// A transaction that reaches `ctx`'s tenant only.
    pub(crate) async fn tenant(&self, ctx: &TenantContext) -> Result<TenantTx, ApiError> {
        Ok(self.pool.begin(ctx).await?)
    }

    /// The audited escape hatch for a platform operator: a transaction over
    /// `tenants` and `redeem_codes` only (tenant tables are refused), which
    /// records a system-access event with `reason`.
    pub(crate) async fn system(
        &self,
        operator: &TenantContext,
        reason: &str,
    ) -> Result<SystemTx, ApiError> {
        Ok(self.pool.unscoped_for_system(reason, operator).await?)
    }

    /// The same escape hatch for the service's own work on platform
    /// metadata, as its own system subject: tenant tables stay out of
    /// reach, and every use is recorded with `reason`.
    pub(crate) async fn platform(&self, reason: &str) -> tenancy_sql::Result<SystemTx> {
        self.pool.unscoped_for_system(reason, &self.service).await
    }
}

/// Where `url` points, without its credentials or options: `host:port` of
/// a server, the file of an SQLite database.
fn target(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once(':') else {
        return String::new();
    };
    let rest = rest.trim_start_matches("//");
    if scheme == "sqlite" {
        return rest.split('?').next().unwrap_or(rest).to_owned();
    }
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = host.split(['/', '?']).next().unwrap_or(host);
    let default_port = match scheme {
        "mysql" | "mariadb" => 3306,
        _ => 5432,
    };
    if host
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        host.to_owned()
    } else {
        format!("{host}:{default_port}")
    }
}

/// The error of a first connection that failed, naming where it went.
fn unreachable(url: &str) -> impl FnOnce(tenancy_sql::Error) -> ServiceError + '_ {
    move |source| ServiceError::Unreachable {
        target: target(url),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::target;

    #[test]
    fn a_target_names_host_and_port_and_never_the_credentials() {
        assert_eq!(
            target("postgres://app:secret@db.internal/leases?sslmode=require"),
            "db.internal:5432"
        );
        assert_eq!(target("mysql://root@127.0.0.1:3307/test"), "127.0.0.1:3307");
        assert_eq!(target("sqlite://leases.db?mode=rwc"), "leases.db");
        assert_eq!(target("sqlite::memory:"), ":memory:");
    }
}
