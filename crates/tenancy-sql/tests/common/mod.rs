//! Shared set-up for the tests against real databases: each call creates its
//! own database (and, on PostgreSQL, its own application role) and drops it
//! in `cleanup`.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers; each test binary uses a part of them"
)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use tenancy_core::{PermissionSet, RoleName, SubjectId, TenantContext, TenantId};
use tenancy_sql::sea_query::ColumnDef;
use tenancy_sql::{Backend, OwnerPool, Schema, TenantPool, ddl::Ddl};

pub fn schema() -> Schema {
    Schema::builder()
        .system("tenants")
        .columns(["slug", "name", "plan", "status"])
        .global("plans")
        .id(["code"])
        .columns(["max_properties"])
        .tenant("properties")
        .unique(["name"])
        .columns(["address"])
        .tenant("leases")
        .references("property_id", "properties")
        .columns(["lessee", "rent_cents"])
        .tenant("payments")
        .references("lease_id", "leases")
        .columns(["amount_cents"])
        .tenant("audit_events")
        .columns(["action", "outcome"])
        .build()
        .unwrap()
}

/// The migration for [`schema`] on `backend`.
pub fn migration(schema: &Schema, backend: Backend) -> Vec<String> {
    let ddl = Ddl::new(schema, backend);
    let mut out = Vec::new();
    out.extend(
        ddl.create_table("tenants", |t| {
            t.col(ColumnDef::new("id").string_len(36).not_null().primary_key())
                .col(
                    ColumnDef::new("slug")
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new("name").string_len(200).not_null())
                .col(ColumnDef::new("plan").string_len(32).not_null())
                .col(ColumnDef::new("status").string_len(32).not_null());
        })
        .unwrap(),
    );
    out.extend(
        ddl.create_table("plans", |t| {
            t.col(
                ColumnDef::new("code")
                    .string_len(32)
                    .not_null()
                    .primary_key(),
            )
            .col(ColumnDef::new("max_properties").big_integer().not_null());
        })
        .unwrap(),
    );
    out.extend(
        ddl.create_table("properties", |t| {
            t.col(ColumnDef::new("id").big_integer().not_null())
                .col(ColumnDef::new("name").string_len(200).not_null())
                .col(ColumnDef::new("address").string_len(200).not_null());
        })
        .unwrap(),
    );
    out.extend(
        ddl.create_table("leases", |t| {
            t.col(ColumnDef::new("id").big_integer().not_null())
                .col(ColumnDef::new("property_id").big_integer().not_null())
                .col(ColumnDef::new("lessee").string_len(200).not_null())
                .col(ColumnDef::new("rent_cents").big_integer().not_null());
        })
        .unwrap(),
    );
    out.extend(
        ddl.create_table("payments", |t| {
            t.col(ColumnDef::new("id").big_integer().not_null())
                .col(ColumnDef::new("lease_id").big_integer().not_null())
                .col(ColumnDef::new("amount_cents").big_integer().not_null());
        })
        .unwrap(),
    );
    out.extend(
        ddl.create_table("audit_events", |t| {
            t.col(ColumnDef::new("id").big_integer().not_null())
                .col(ColumnDef::new("action").string_len(100).not_null())
                .col(ColumnDef::new("outcome").string_len(20).not_null());
        })
        .unwrap(),
    );
    out
}

pub fn ctx(tenant: u128) -> TenantContext {
    TenantContext::tenant(
        TenantId::from_u128(tenant),
        SubjectId::from_u128(1000 + tenant),
        RoleName::member(),
        PermissionSet::all(),
    )
}

pub fn operator() -> TenantContext {
    TenantContext::system(
        SubjectId::from_u128(99),
        RoleName::platform_admin(),
        PermissionSet::all(),
    )
}

fn unique_name(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn require_services() -> bool {
    std::env::var("TENANCY_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// The URL in `var`, or `None` after printing why the test is skipped
/// (a panic when services are required).
pub fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !require_services(),
                "{var} is not set but TENANCY_TEST_REQUIRE_SERVICES=1"
            );
            println!("skipped: {var} is not set");
            None
        }
    }
}

/// `scheme://user@host:port/db` with the user and database replaced.
fn with_user_and_db(url: &str, user: Option<&str>, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth, hostpath) = match rest.split_once('@') {
        Some((auth, hostpath)) => (Some(auth), hostpath),
        None => (None, rest),
    };
    let host = hostpath.split(['/', '?']).next().unwrap();
    let auth = match (user, auth) {
        (Some(u), _) => format!("{u}@"),
        (None, Some(a)) => format!("{a}@"),
        (None, None) => String::new(),
    };
    format!("{scheme}://{auth}{host}/{db}")
}

/// A database of its own, migrated, with a pool for the application.
pub struct TestDb {
    pub backend: Backend,
    /// The application's pool (on PostgreSQL: a non-owner role under RLS).
    pub pool: TenantPool,
    /// The owner's pool on the same database, for set-up and raw checks.
    pub admin: AnyPool,
    admin_root: Option<AnyPool>,
    pub name: String,
    pub role: Option<String>,
}

impl TestDb {
    pub async fn cleanup(self) {
        self.pool.close().await;
        self.admin.close().await;
        if let Some(root) = self.admin_root {
            match self.backend {
                Backend::Postgres => {
                    root.execute(
                        format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name).as_str(),
                    )
                    .await
                    .unwrap();
                    if let Some(role) = &self.role {
                        root.execute(format!("DROP ROLE IF EXISTS \"{role}\"").as_str())
                            .await
                            .unwrap();
                    }
                }
                Backend::MySql => {
                    root.execute(format!("DROP DATABASE IF EXISTS `{}`", self.name).as_str())
                        .await
                        .unwrap();
                }
                _ => {}
            }
            root.close().await;
        }
    }
}

pub async fn sqlite(schema: &Schema) -> TestDb {
    let owner = OwnerPool::connect("sqlite::memory:").await.unwrap();
    owner
        .apply("test migration", migration(schema, Backend::Sqlite))
        .await
        .unwrap();
    let pool = owner.tenant_pool(schema.clone());
    let admin = owner.sqlx_pool("test set-up and checks").unwrap().clone();
    TestDb {
        backend: Backend::Sqlite,
        pool,
        admin,
        admin_root: None,
        name: "memory".into(),
        role: None,
    }
}

/// A PostgreSQL database with the schema, RLS and an application role of
/// its own; `max` connections in the application's pool.
pub async fn postgres_with(schema: &Schema, max: u32, rls: bool) -> Option<TestDb> {
    let url = service_url("TENANCY_TEST_POSTGRES_URL")?;
    sqlx::any::install_default_drivers();
    let root = AnyPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("PostgreSQL is unreachable");
    let name = unique_name("tenancy_sql");
    let role = unique_name("tenancy_app");
    root.execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .unwrap();
    let admin = AnyPoolOptions::new()
        .max_connections(2)
        .connect(&with_user_and_db(&url, None, &name))
        .await
        .unwrap();
    let ddl = Ddl::new(schema, Backend::Postgres);
    for s in migration(schema, Backend::Postgres) {
        if !rls && (s.contains("ROW LEVEL SECURITY") || s.starts_with("CREATE POLICY")) {
            continue;
        }
        admin.execute(s.as_str()).await.unwrap();
    }
    for s in ddl.app_role(&role, None, "public") {
        admin.execute(s.as_str()).await.unwrap();
    }
    admin
        .execute(format!("GRANT CONNECT ON DATABASE \"{name}\" TO \"{role}\"").as_str())
        .await
        .unwrap();
    let pool = TenantPool::connect_with(
        &with_user_and_db(&url, Some(&role), &name),
        schema.clone(),
        AnyPoolOptions::new().max_connections(max),
    )
    .await
    .unwrap();
    Some(TestDb {
        backend: Backend::Postgres,
        pool,
        admin,
        admin_root: Some(root),
        name,
        role: Some(role),
    })
}

pub async fn postgres(schema: &Schema) -> Option<TestDb> {
    postgres_with(schema, 4, true).await
}

pub async fn mysql(schema: &Schema) -> Option<TestDb> {
    let url = service_url("TENANCY_TEST_MYSQL_URL")?;
    sqlx::any::install_default_drivers();
    let root = AnyPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("MySQL/MariaDB is unreachable");
    let name = unique_name("tenancy_sql");
    root.execute(format!("CREATE DATABASE `{name}`").as_str())
        .await
        .unwrap();
    let db_url = with_user_and_db(&url, None, &name);
    let owner = OwnerPool::connect(&db_url).await.unwrap();
    owner
        .apply("test migration", migration(schema, Backend::MySql))
        .await
        .unwrap();
    let admin = owner.sqlx_pool("test set-up and checks").unwrap().clone();
    let pool = TenantPool::connect_with(
        &db_url,
        schema.clone(),
        AnyPoolOptions::new().max_connections(4),
    )
    .await
    .unwrap();
    Some(TestDb {
        backend: Backend::MySql,
        pool,
        admin,
        admin_root: Some(root),
        name,
        role: None,
    })
}

/// Every backend available here: SQLite always, the servers when configured.
pub async fn all(schema: &Schema) -> Vec<TestDb> {
    let mut out = vec![sqlite(schema).await];
    if let Some(db) = postgres(schema).await {
        out.push(db);
    }
    if let Some(db) = mysql(schema).await {
        out.push(db);
    }
    out
}
