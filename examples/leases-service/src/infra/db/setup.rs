//! Start-up, as the account that owns the schema: the schema and, on
//! PostgreSQL, the application role requests run as, both from
//! `tenancy-sql`'s repeatable DDL, applied at every start through an
//! audited `OwnerPool` (on PostgreSQL closed again before the first
//! request). A table that exists is left as it is: drift is for the
//! start-up audit to find, not for a migration to repair.

use std::sync::Arc;

use tenancy_core::AuditSink;
use tenancy_sql::OwnerPool;
use tenancy_sql::PoolSettings;
use tenancy_sql::ddl::Ddl;

use super::schema;
use crate::error::{ConfigProblem, ServiceError};
use crate::infra::config::Config;

/// The PostgreSQL schema the application role is granted.
const PG_SCHEMA: &str = "public";

/// Creates what is missing of the schema and, on PostgreSQL, of the
/// application role (its password set again when given) and its grants, in
/// one transaction that concurrent starts take in turn.
pub(super) async fn migrate(owner: &OwnerPool, config: &Config) -> Result<(), ServiceError> {
    let schema = schema::schema()?;
    let ddl = Ddl::new(&schema, owner.backend()).repeatable();
    let mut statements = ddl.migration_lock();
    statements.extend(schema::migration(&schema, owner.backend())?);
    statements.extend(ddl.app_role(
        &config.db_app_role,
        config.db_app_password.as_deref(),
        PG_SCHEMA,
    ));
    let reason = "create what is missing of the schema and the application role";
    owner.apply(reason, statements).await?;
    Ok(())
}

/// Runs [`migrate`] as the `DATABASE_URL` account (closing its pool before
/// returning), and returns the URL requests connect with as the
/// application role.
pub(super) async fn prepare(
    config: &Config,
    audit: &Arc<dyn AuditSink>,
) -> Result<String, ServiceError> {
    let owner = OwnerPool::connect_with(
        &config.database_url,
        &PoolSettings::default().max_connections(1),
    )
    .await
    .map_err(super::unreachable(&config.database_url))?
    .with_audit_sink(Arc::clone(audit));
    let result = migrate(&owner, config).await;
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
            problem: ConfigProblem::NotPostgresUrl,
        }),
    }
}

/// The same URL, connecting as `user` (with `password`, if any).
fn with_user(url: &str, user: &str, password: Option<&str>) -> Option<String> {
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
