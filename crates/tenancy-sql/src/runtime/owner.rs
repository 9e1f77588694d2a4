//! The owner's connection: raw SQL for migrations and DDL, audited, and
//! apart from the request path.

use std::fmt;
use std::sync::Arc;

use tenancy_core::{AccessError, AuditEvent, AuditKind, AuditSink, DiscardAuditSink, Outcome};

use super::db::{DbPool, PoolSettings};
use super::pool::TenantPool;
use crate::backend::Backend;
use crate::error::Result;
use crate::schema::Schema;

/// The database owner's pool: the only way this crate runs SQL text.
///
/// It exists for what the scoped surface cannot say (migrations, DDL, the
/// grants of [`crate::ddl`]). A [`TenantPool`] never hands it out: a service
/// creates it at start-up, runs its migrations, and passes only the tenant
/// pool to the request path, which therefore cannot reach raw SQL. Every
/// use names a reason and is recorded as an [`AuditKind::SystemAccess`]
/// event (`sql.owner`).
///
/// On PostgreSQL connect it as the owner role and the tenant pool as the
/// application role. For an embedded SQLite database the two share
/// connections: [`OwnerPool::tenant_pool`].
#[derive(Clone)]
pub struct OwnerPool {
    pool: DbPool,
    backend: Backend,
    audit: Arc<dyn AuditSink>,
}

impl fmt::Debug for OwnerPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnerPool")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl OwnerPool {
    /// Connects to `url` with at most two connections (an in-memory SQLite
    /// database gets one long-lived connection, so it lives as long as the
    /// pool).
    pub async fn connect(url: &str) -> Result<OwnerPool> {
        Self::connect_with(url, &PoolSettings::default().max_connections(2)).await
    }

    /// Connects to `url` with your pool settings.
    pub async fn connect_with(url: &str, settings: &PoolSettings) -> Result<OwnerPool> {
        Ok(Self::new(DbPool::connect(url, settings).await?))
    }

    /// Wraps your own native pool, connected as the database owner.
    pub fn new(pool: impl Into<DbPool>) -> OwnerPool {
        let pool = pool.into();
        OwnerPool {
            backend: pool.backend(),
            pool,
            audit: Arc::new(DiscardAuditSink),
        }
    }

    /// Where uses of the owner pool are recorded.
    #[must_use]
    pub fn with_audit_sink(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = sink;
        self
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A tenant pool over the same connections, for a database the service
    /// both owns and serves (embedded SQLite, single-role set-ups). On
    /// PostgreSQL prefer a separate application role, so Row-Level Security
    /// applies.
    pub fn tenant_pool(&self, schema: Schema) -> TenantPool {
        TenantPool::new(self.pool.clone(), schema)
    }

    fn record(&self, reason: &str) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AccessError::ReasonRequired.into());
        }
        self.audit.record(
            AuditEvent::new(AuditKind::SystemAccess, "sql.owner", Outcome::Allowed)
                .with_reason(reason),
        );
        Ok(())
    }

    /// Runs `statements` in order in one transaction (DDL is transactional
    /// on PostgreSQL and SQLite; MySQL commits each DDL statement itself).
    pub async fn apply<S: AsRef<str>>(
        &self,
        reason: &str,
        statements: impl IntoIterator<Item = S>,
    ) -> Result<()> {
        self.record(reason)?;
        let mut tx = self.pool.begin().await?;
        for s in statements {
            tx.execute_text(s.as_ref()).await?;
        }
        tx.commit().await
    }

    /// The native sqlx pool, for anything else the owner must do. Recorded
    /// with `reason`.
    pub fn sqlx_pool(&self, reason: &str) -> Result<&DbPool> {
        self.record(reason)?;
        Ok(&self.pool)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
