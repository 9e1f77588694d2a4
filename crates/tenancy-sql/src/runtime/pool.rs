//! The tenant pool.

use std::fmt;
use std::sync::Arc;

use tenancy_core::{
    AccessError, AuditEvent, AuditKind, AuditSink, DiscardAuditSink, Outcome, Scope, TenantContext,
};

use super::db::{DbPool, PoolSettings};
use super::system::SystemTx;
use super::tx::TenantTx;
use crate::backend::Backend;
use crate::error::{Error, Result, SchemaProblem};
use crate::schema::Schema;
use crate::verify::IsolationReport;

use crate::DEFAULT_TENANT_SETTING;

/// A sqlx pool that hands out tenant-bound transactions only.
///
/// `Clone` is cheap (reference counts). It runs over sqlx's native pools
/// (`PgPool`, `MySqlPool`, `SqlitePool`, as a [`DbPool`]): the same code
/// runs on PostgreSQL, MySQL/MariaDB and SQLite, and rows come back as the
/// driver's own ([`DbRow`](crate::DbRow)) or as your types through
/// `#[derive(sqlx::FromRow)]`, with the driver's native types.
#[derive(Clone)]
pub struct TenantPool {
    pub(crate) pool: DbPool,
    pub(crate) backend: Backend,
    pub(crate) schema: Schema,
    pub(crate) audit: Arc<dyn AuditSink>,
    pub(crate) setting: Arc<str>,
    pub(crate) tripwire: bool,
}

impl fmt::Debug for TenantPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantPool")
            .field("backend", &self.backend)
            .field("setting", &self.setting)
            .field("tripwire", &self.tripwire)
            .finish_non_exhaustive()
    }
}

fn is_setting_name(name: &str) -> bool {
    let mut parts = name.split('.');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

impl TenantPool {
    /// Connects to `url`; the backend comes from its scheme. An in-memory
    /// SQLite URL gets a single, long-lived connection so the database lives
    /// as long as the pool.
    pub async fn connect(url: &str, schema: Schema) -> Result<TenantPool> {
        Self::connect_with(url, schema, &PoolSettings::default()).await
    }

    /// Connects to `url` with your pool settings (size, timeouts).
    pub async fn connect_with(
        url: &str,
        schema: Schema,
        settings: &PoolSettings,
    ) -> Result<TenantPool> {
        Ok(Self::new(DbPool::connect(url, settings).await?, schema))
    }

    /// Wraps your own native pool (`PgPool`, `MySqlPool`, `SqlitePool` or a
    /// [`DbPool`]). The pool is taken, not shared: keep no other handle to it
    /// on the request path.
    pub fn new(pool: impl Into<DbPool>, schema: Schema) -> TenantPool {
        let pool = pool.into();
        TenantPool {
            backend: pool.backend(),
            pool,
            schema,
            audit: Arc::new(DiscardAuditSink),
            setting: DEFAULT_TENANT_SETTING.into(),
            tripwire: true,
        }
    }

    /// Where escape-hatch uses and prevented leaks are recorded.
    #[must_use]
    pub fn with_audit_sink(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = sink;
        self
    }

    /// The PostgreSQL setting that carries the tenant (`namespace.name`,
    /// lowercase); the RLS policies of [`crate::ddl`] must read the same one.
    pub fn with_tenant_setting(mut self, name: &str) -> Result<Self> {
        if !is_setting_name(name) {
            return Err(Error::InvalidSchema(SchemaProblem::SettingName {
                name: name.to_owned(),
            }));
        }
        self.setting = name.into();
        Ok(self)
    }

    /// Turns the leak tripwire on or off. It is on by default, in release
    /// builds too: every returned column named like a tenant column, or
    /// carrying a declared tenant column under another name, must hold the
    /// context's tenant (a value that does not decode as text
    /// counts as foreign), or the result is withheld, the statement fails
    /// with [`Error::LeakPrevented`] and an [`AuditKind::LeakPrevented`]
    /// event is recorded.
    ///
    /// Its cost, measured by the `sql_tripwire` bench (`benches/`; SQLite in
    /// memory, a scoped read of 50 rows of three tenants' 150): about 1% of
    /// the read's instructions when the result carries the tenant column
    /// (0.96% with `BEGIN` and `COMMIT`, 0.85% for the `SELECT` alone), where
    /// it checks that column in every row, and nothing measurable when it
    /// does not, where it only compares column names once per result.
    /// Interleaved timings on a loaded machine agree within their noise
    /// (1.015–1.024× with the tenant column, 1.00–1.01× without). Turning it
    /// off saves that and leaves a leak past the statement and RLS unseen.
    #[must_use]
    pub fn with_tripwire(mut self, on: bool) -> Self {
        self.tripwire = on;
        self
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The schema registry.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The PostgreSQL setting that carries the tenant.
    pub fn tenant_setting(&self) -> &str {
        &self.setting
    }

    /// A transaction bound to `ctx`'s tenant that runs scoped statements only.
    ///
    /// On PostgreSQL the tenant is set with `set_config(setting, tenant,
    /// true)` in the same round trip as `BEGIN`: it lives exactly as long as
    /// the transaction, so a pooled connection never carries it further.
    /// Dropping the transaction without [`TenantTx::commit`] rolls it back.
    pub async fn begin(&self, ctx: &TenantContext) -> Result<TenantTx> {
        let tenant = ctx.require_tenant()?;
        let tx = match self.backend.begin_tenant(&self.setting, tenant) {
            Some(begin) => self.pool.begin_with(begin).await?,
            None => self.pool.begin().await?,
        };
        Ok(TenantTx::new(tx, ctx.clone(), tenant, self.clone()))
    }

    /// The audited escape hatch: a transaction for a platform operator over
    /// global and system tables (`tenants`), taking this crate's typed
    /// builders under the same structural rules as a tenant statement (see
    /// [`SystemStatement`](crate::SystemStatement)). Needs a system context
    /// bound to no tenant and a reason; records an
    /// [`AuditKind::SystemAccess`] event. Tenant tables stay out of reach:
    /// statements naming one anywhere (subqueries, CTEs, joins, set
    /// operations) are refused, and on PostgreSQL RLS
    /// shows no tenant rows without a tenant binding. To work on one
    /// tenant's data, use [`TenantContext::act_for_tenant`] and [`begin`].
    ///
    /// [`begin`]: TenantPool::begin
    pub async fn unscoped_for_system(&self, reason: &str, ctx: &TenantContext) -> Result<SystemTx> {
        if ctx.scope() != Scope::System || ctx.tenant_id().is_some() {
            return Err(AccessError::SystemScopeRequired.into());
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AccessError::ReasonRequired.into());
        }
        let tx = self.pool.begin().await?;
        self.audit.record(
            AuditEvent::new(
                AuditKind::SystemAccess,
                "sql.unscoped_for_system",
                Outcome::Allowed,
            )
            .with_subject(ctx.subject())
            .with_reason(reason),
        );
        Ok(SystemTx::new(tx, self.clone()))
    }

    /// Audits the live catalogue, through this pool's own connections (so
    /// as the application role), and fails closed with [`Error::Isolation`]
    /// carrying the report when anything is found; only a failure to read
    /// the catalogue is another error. Run it at start-up and refuse to
    /// serve on an error.
    ///
    /// **PostgreSQL** (in a read-only transaction, with `search_path` set
    /// to `pg_catalog` so that a look-alike function or operator in another
    /// schema prints schema-qualified):
    /// - the role is not a superuser, has no BYPASSRLS, and is no member of
    ///   a role that is one, has it, or owns a tenant table (`SET ROLE`
    ///   would take it past the policies);
    /// - every tenant table exists (resolved through the role's
    ///   `search_path`), has RLS enabled and forced, and is not owned by
    ///   the role;
    /// - every tenant table has exactly one PERMISSIVE policy, for ALL
    ///   commands, applying to PUBLIC or the role, whose USING and WITH
    ///   CHECK are both exactly the predicate of
    ///   [`Ddl::row_level_security`](crate::ddl::Ddl::row_level_security),
    ///   compared as the server stores it (`pg_get_expr`), never by
    ///   substring; every other permissive policy is a finding (permissive
    ///   policies are OR-ed); restrictive policies are allowed, they only
    ///   narrow;
    /// - no view names a tenant table without `security_invoker` (a view
    ///   that reaches it only through a `security_invoker` view reads it as
    ///   the querying role), and no materialized view reads one, directly
    ///   or through views;
    /// - no `SECURITY DEFINER` function, in any schema, runs as a
    ///   superuser, a role with BYPASSRLS, or a tenant table's owner (or a
    ///   member of the owner's role) while the role holds EXECUTE on it and
    ///   USAGE on its schema; trigger functions count whatever the
    ///   privileges, as they fire without them;
    /// - every unique index of a tenant table leads with the whole tenant
    ///   column, unless its columns were declared with
    ///   [`global_unique`](crate::SchemaBuilder::global_unique).
    ///
    /// **MySQL/MariaDB**: no RLS, the scoped statement is the only wall
    /// (a note says so); `@@lower_case_table_names` is read and reported
    /// in a note; every tenant table exists under its declared name (by
    /// that setting's case rule); every unique index of a tenant table
    /// leads with the whole tenant column (not a prefix of it) unless
    /// declared global, since `ON DUPLICATE KEY UPDATE` fires on any
    /// unique key.
    ///
    /// **SQLite**: no RLS (a note says so); every tenant table exists
    /// (names compared ignoring ASCII case, as SQLite does); every unique
    /// index (`pragma_index_list`, `pragma_index_info`) and an `INTEGER
    /// PRIMARY KEY` (the rowid) lead with the tenant column unless declared
    /// global.
    pub async fn verify_isolation(&self) -> Result<IsolationReport> {
        let report = super::verify::run(self).await?;
        if report.is_clean() {
            Ok(report)
        } else {
            Err(Error::Isolation(report))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_names_are_namespaced_identifiers() {
        assert!(is_setting_name("tenancy.tenant_id"));
        assert!(!is_setting_name("tenant_id"));
        assert!(!is_setting_name("a.b.c"));
        assert!(!is_setting_name("x.y'; drop"));
    }
}
