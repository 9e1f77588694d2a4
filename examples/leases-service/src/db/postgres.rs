//! PostgreSQL: schema and application role set up as the owner, then every
//! request runs as the application role, with Row-Level Security forced.

use std::sync::Arc;

use sqlx::Row;
use sqlx::any::AnyPoolOptions;
use tenancy_core::{AuditSink, TenantId};

use super::schema::{TENANT_TABLES, migration, schema};
use crate::config::Config;
use crate::error::ServiceError;
use tenancy_sql::{Backend, DEFAULT_TENANT_SETTING as TENANT_SETTING, OwnerPool};

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Runs the migrations and grants as the `DATABASE_URL` account (through an
/// [`OwnerPool`], audited, closed before returning), and returns the URL
/// requests connect with as the application role.
pub(super) async fn prepare(
    config: &Config,
    audit: &Arc<dyn AuditSink>,
) -> Result<String, ServiceError> {
    let owner = OwnerPool::connect_with(
        &config.database_url,
        AnyPoolOptions::new().max_connections(1),
    )
    .await?
    .with_audit_sink(Arc::clone(audit));
    let result = migrate_and_grant(config, &owner).await;
    owner.close().await;
    result?;
    match &config.db_app_url {
        Some(url) => Ok(url.clone()),
        None => with_user(
            &config.database_url,
            &config.db_app_role,
            config.db_app_password.as_deref(),
        )
        .ok_or_else(|| ServiceError::Config {
            var: "DATABASE_URL",
            reason: "not a URL of the form postgres://user@host/db".into(),
        }),
    }
}

/// Creates the schema unless it exists, and the application role with its
/// grants, in one transaction of the owner.
async fn migrate_and_grant(config: &Config, owner: &OwnerPool) -> Result<(), ServiceError> {
    let role = &config.db_app_role;
    let mut tx = owner
        .sqlx_pool("migrate the schema and grant the application role")?
        .begin()
        .await?;
    // Concurrent first starts would race on CREATE … IF NOT EXISTS.
    sqlx::query("SELECT pg_advisory_xact_lock(7305767)")
        .execute(&mut *tx)
        .await?;
    let exists = sqlx::query("SELECT to_regclass('tenants')::text AS t")
        .fetch_one(&mut *tx)
        .await?
        .try_get::<Option<String>, _>("t")?
        .is_some();
    if !exists {
        for statement in migration(&schema()?, Backend::Postgres)? {
            sqlx::query(&statement).execute(&mut *tx).await?;
        }
    }
    let exists = sqlx::query("SELECT 1 AS one FROM pg_roles WHERE rolname = $1")
        .bind(role)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    if !exists {
        sqlx::query(&format!(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
            quote_ident(role)
        ))
        .execute(&mut *tx)
        .await?;
    }
    if let Some(password) = &config.db_app_password {
        sqlx::query(&format!(
            "ALTER ROLE {} PASSWORD {}",
            quote_ident(role),
            quote_literal(password)
        ))
        .execute(&mut *tx)
        .await?;
    }
    let row =
        sqlx::query("SELECT current_database()::text AS db, current_schema()::text AS schema")
            .fetch_one(&mut *tx)
            .await?;
    let (db, schema): (String, String) = (row.try_get("db")?, row.try_get("schema")?);
    let tables = TENANT_TABLES
        .iter()
        .chain(["tenants", "redeem_codes"].iter())
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let role_q = quote_ident(role);
    for grant in [
        format!("GRANT CONNECT ON DATABASE {} TO {role_q}", quote_ident(&db)),
        format!("GRANT USAGE ON SCHEMA {} TO {role_q}", quote_ident(&schema)),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO {role_q}"),
        format!(
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {role_q}",
            quote_ident(&schema)
        ),
    ] {
        sqlx::query(&grant).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The same URL, connecting as `user` (with `password`, if any).
pub(crate) fn with_user(url: &str, user: &str, password: Option<&str>) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.is_empty() {
        return None;
    }
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let userinfo = match password {
        Some(p) => format!("{}:{}", encode(user), encode(p)),
        None => encode(user),
    };
    Some(format!("{scheme}://{userinfo}@{host}{tail}"))
}

/// Connects as the application role (`app_url`) on connections of its own,
/// closed before returning, and runs [`probe_with`] there.
pub(super) async fn probe(app_url: &str, audit: &Arc<dyn AuditSink>) -> Result<(), ServiceError> {
    // SQL text as the application role, once at start-up: an audited raw
    // pool that never reaches the request path.
    let app = OwnerPool::connect_with(app_url, AnyPoolOptions::new().max_connections(1))
        .await?
        .with_audit_sink(Arc::clone(audit));
    let result = probe_with(app.sqlx_pool("probe tenant isolation as the application role")?).await;
    app.close().await;
    result
}

/// Writes a row as one tenant, then tries to see and write it as another,
/// and rolls everything back.
async fn probe_with(pool: &sqlx::AnyPool) -> Result<(), ServiceError> {
    let (a, b) = (
        TenantId::from_random_bytes(crate::clock::random_bytes()?).to_string(),
        TenantId::from_random_bytes(crate::clock::random_bytes()?).to_string(),
    );
    let insert = "INSERT INTO audit_events (tenant_id, id, seq, at, action, outcome) \
                  VALUES ($1, 'probe', 0, '', 'isolation.probe', 'allowed')";
    let count = "SELECT count(*) AS n FROM audit_events WHERE action = 'isolation.probe'";
    let bind = "SELECT set_config($1, $2, true)";
    let mut problems = Vec::new();
    let mut tx = pool.begin().await?;
    sqlx::query(bind)
        .bind(TENANT_SETTING)
        .bind(&a)
        .execute(&mut *tx)
        .await?;
    sqlx::query(insert).bind(&a).execute(&mut *tx).await?;
    sqlx::query(bind)
        .bind(TENANT_SETTING)
        .bind(&b)
        .execute(&mut *tx)
        .await?;
    if sqlx::query(count)
        .fetch_one(&mut *tx)
        .await?
        .try_get::<i64, _>("n")?
        != 0
    {
        problems.push("one tenant sees another tenant's rows".into());
    }
    sqlx::query(bind)
        .bind(TENANT_SETTING)
        .bind("")
        .execute(&mut *tx)
        .await?;
    if sqlx::query(count)
        .fetch_one(&mut *tx)
        .await?
        .try_get::<i64, _>("n")?
        != 0
    {
        problems.push("a transaction without a tenant sees tenant rows".into());
    }
    sqlx::query(bind)
        .bind(TENANT_SETTING)
        .bind(&b)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SAVEPOINT probe").execute(&mut *tx).await?;
    if sqlx::query(insert).bind(&a).execute(&mut *tx).await.is_ok() {
        problems.push("one tenant can write a row of another tenant".into());
    }
    tx.rollback().await?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Isolation(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_user_replaces_only_the_user() {
        let check = |url: &str, expected: Option<&str>| {
            assert_eq!(
                with_user(url, "leases_app", None).as_deref(),
                expected,
                "{url}"
            );
        };
        check(
            "postgres://postgres@127.0.0.1:5432/test",
            Some("postgres://leases_app@127.0.0.1:5432/test"),
        );
        check(
            "postgres://u:p%40ss@db.example:5432/x?sslmode=disable",
            Some("postgres://leases_app@db.example:5432/x?sslmode=disable"),
        );
        check(
            "postgres://localhost/db",
            Some("postgres://leases_app@localhost/db"),
        );
        check("postgres:///db", None);
        check("not a url", None);
        assert_eq!(
            with_user("postgres://h/d", "r", Some("p@ss word")).as_deref(),
            Some("postgres://r:p%40ss%20word@h/d")
        );
    }
}
