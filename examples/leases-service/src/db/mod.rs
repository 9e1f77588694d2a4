//! The database: one pool, SQLite or PostgreSQL, and transactions bound to
//! one tenant.
//!
//! Every statement on a tenant table names `tenant_id = $1` with the tenant
//! taken from the [`TenantTx`], never from the request. On PostgreSQL the
//! tenant is also bound per transaction (`set_config(…, true)`), so Row-Level
//! Security refuses anything the statement forgot; it is never bound per
//! connection, so a pooled connection cannot carry it into the next request.

mod postgres;
pub mod schema;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row, Transaction};
use tenancy_core::{TenantContext, TenantId, TenantStatus};

use crate::config::Config;
use crate::error::ServiceError;
use crate::problem::ApiError;

/// Which database the service runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded, one file.
    Sqlite,
    /// With Row-Level Security forced.
    Postgres,
}

/// The pool requests run on.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects, creates the schema, and on PostgreSQL sets up the
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
            for statement in schema::SQLITE {
                sqlx::query(statement).execute(&pool).await?;
            }
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&pool)
                .await?;
            Ok(Db {
                pool,
                backend: Backend::Sqlite,
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = postgres::prepare(config).await?;
            let db = Db {
                pool,
                backend: Backend::Postgres,
            };
            postgres::verify_isolation(&db.pool).await?;
            Ok(db)
        } else {
            Err(ServiceError::Config {
                var: "DATABASE_URL",
                reason: "must start with `sqlite:` or `postgres:`".into(),
            })
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction on platform metadata (`tenants`, `redeem_codes`) only.
    pub async fn global(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        self.pool.begin().await
    }

    /// A transaction that reaches `ctx`'s tenant only.
    pub async fn tenant(&self, ctx: &TenantContext) -> Result<TenantTx, ApiError> {
        let tenant = ctx.require_tenant()?;
        self.bound(tenant).await.map_err(ApiError::from)
    }

    /// Like [`tenant`](Self::tenant), for a write: also locks the tenant's
    /// row and checks, inside the transaction, that the tenant still serves,
    /// so a write cannot land after the tenant was decommissioned.
    pub async fn tenant_write(&self, ctx: &TenantContext) -> Result<TenantTx, ApiError> {
        let mut tx = self.tenant(ctx).await?;
        let status = tx.tenant_status().await?;
        if !status.is_some_and(TenantStatus::serves_requests) {
            return Err(ApiError::Unauthorized(
                "the token's tenant is not available",
            ));
        }
        Ok(tx)
    }

    pub(crate) async fn bound(&self, tenant: TenantId) -> Result<TenantTx, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT set_config($1, $2, true)")
                .bind(schema::TENANT_SETTING)
                .bind(tenant.to_string())
                .execute(&mut *tx)
                .await?;
        }
        Ok(TenantTx {
            tx,
            tenant,
            tenant_text: tenant.to_string(),
            backend: self.backend,
        })
    }
}

/// A transaction bound to one tenant.
pub struct TenantTx {
    tx: Transaction<'static, Any>,
    tenant: TenantId,
    tenant_text: String,
    backend: Backend,
}

impl TenantTx {
    /// The tenant, as bound into every tenant-table statement.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The tenant id in its text form, for binding as `$1`.
    pub fn tenant_param(&self) -> String {
        self.tenant_text.clone()
    }

    /// The connection, to run statements on.
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The tenant's status, read under a share lock on PostgreSQL so a
    /// concurrent decommissioning waits for this transaction (or this one
    /// sees its result).
    pub async fn tenant_status(&mut self) -> Result<Option<TenantStatus>, sqlx::Error> {
        let lock = match self.backend {
            Backend::Postgres => " FOR SHARE",
            Backend::Sqlite => "",
        };
        let row: Option<AnyRow> =
            sqlx::query(&format!("SELECT status FROM tenants WHERE id = $1{lock}"))
                .bind(self.tenant_param())
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(match row {
            Some(row) => row.try_get::<String, _>("status")?.parse().ok(),
            None => None,
        })
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}
