//! Start-up: the schema survives a restart, and the service refuses to
//! start when isolation cannot be guaranteed.

#![expect(clippy::panic, reason = "tests: any failure should stop them")]

mod support;

use leases_service::{ServiceError, start};
use reqwest::StatusCode;
use serde_json::json;
use support::{Db, Scratch, Service, token};

on_every_database! {
    a_restart_keeps_tenants_and_data => restart;
}

async fn restart(db: Db) {
    let Some((config, scratch)) = Scratch::create(db).await else {
        return;
    };
    let s = Service::on(db, config.clone(), scratch).await;
    let acme = s.tenant("acme", "pro").await;
    let admin = token(&acme, "admin");
    let r = s
        .post(
            "/properties",
            &admin,
            json!({"name": "HQ", "address": "1 Main St"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let scratch = s.stop_keeping_data().await;

    let s = Service::on(db, config, scratch).await;
    let r = s.get("/properties", &admin).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["items"][0]["name"], "HQ");
    s.stop().await;
}

async fn refused(config: leases_service::Config) -> ServiceError {
    match start(config).await {
        Ok(_) => panic!("the service started"),
        Err(e) => e,
    }
}

/// Starts the service once (so its schema and role exist), runs `sabotage`
/// as the database owner, and returns why the next start is refused.
async fn refused_after(
    config: leases_service::Config,
    scratch: Scratch,
    sabotage: &str,
) -> (ServiceError, Scratch) {
    let s = Service::on(Db::Postgres, config.clone(), scratch).await;
    let scratch = s.stop_keeping_data().await;
    let url = scratch
        .owner_url()
        .unwrap_or_else(|| panic!("PostgreSQL has an owner URL"));
    let owner = sqlx::AnyPool::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connecting as the owner: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(sabotage))
        .execute(&owner)
        .await
        .unwrap_or_else(|e| panic!("{sabotage}: {e}"));
    owner.close().await;
    (refused(config).await, scratch)
}

#[tokio::test]
async fn a_secret_under_32_bytes_is_refused() {
    let (mut config, scratch) = Scratch::create(Db::Sqlite).await.unwrap();
    config.jwt_secret = Some("too short".into());
    let e = refused(config).await;
    assert!(
        matches!(
            e,
            ServiceError::Config {
                var: "TENANCY_JWT_SECRET",
                ..
            }
        ),
        "{e}"
    );
    scratch.drop_all().await;
}

#[tokio::test]
async fn postgres_refuses_to_run_requests_as_a_superuser() {
    let Some((mut config, scratch)) = Scratch::create(Db::Postgres).await else {
        return;
    };
    // Requests as the owner (a superuser here): RLS would not bind them.
    config.db_app_url = scratch.owner_url();
    let e = refused(config).await;
    assert!(matches!(e, ServiceError::Isolation(_)), "{e}");
    assert!(e.to_string().contains("superuser"), "{e}");
    scratch.drop_all().await;
}

#[tokio::test]
async fn postgres_refuses_a_role_that_bypasses_rls() {
    let Some((config, scratch)) = Scratch::create(Db::Postgres).await else {
        return;
    };
    let role = config.db_app_role.clone();
    let (e, scratch) =
        refused_after(config, scratch, &format!("ALTER ROLE {role} BYPASSRLS")).await;
    assert!(matches!(e, ServiceError::Isolation(_)), "{e}");
    scratch.drop_all().await;
}

#[tokio::test]
async fn postgres_refuses_a_tenant_table_without_forced_rls() {
    let Some((config, scratch)) = Scratch::create(Db::Postgres).await else {
        return;
    };
    let (e, scratch) = refused_after(
        config,
        scratch,
        "ALTER TABLE leases NO FORCE ROW LEVEL SECURITY",
    )
    .await;
    assert!(matches!(e, ServiceError::Isolation(_)), "{e}");
    assert!(e.to_string().contains("leases"), "{e}");
    scratch.drop_all().await;
}

/// A database nobody listens for is reported within the pool's acquire
/// timeout (5 s), naming the host and port and never the password.
#[tokio::test]
async fn an_unreachable_database_is_named_within_seconds() {
    // A port of this machine with nothing behind it: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
        .port();
    let mut config =
        leases_service::Config::new(format!("postgres://app:secret@127.0.0.1:{port}/leases"));
    config.addr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
    let error = tokio::time::timeout(std::time::Duration::from_secs(15), refused(config))
        .await
        .unwrap_or_else(|_| panic!("no answer within 15 s"));
    let ServiceError::Unreachable { target, .. } = &error else {
        panic!("not an unreachable database: {error:?}");
    };
    assert_eq!(*target, format!("127.0.0.1:{port}"));
    let said = tenancy_core::Report::new(&error).to_string();
    assert!(said.contains(&format!("127.0.0.1:{port}")), "{said}");
    assert!(!said.contains("secret"), "{said}");
}

/// A port already in use is refused at once, naming the address.
#[tokio::test]
async fn a_busy_port_names_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = taken.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let mut config = leases_service::Config::new("sqlite::memory:");
    config.addr = addr;
    let error = refused(config).await;
    let ServiceError::Bind { addr: named, .. } = &error else {
        panic!("not a bind error: {error:?}");
    };
    assert_eq!(*named, addr);
    assert!(error.to_string().contains(&addr.to_string()));
}
