//! Scratch databases for the tests: each call creates its own database
//! (and, on PostgreSQL, its own application role) and drops it in
//! `cleanup`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use tenancy_core::TenantId;
use tenancy_sql::{Backend, OwnerPool, PoolSettings, Schema, TenantPool, ddl::Ddl};

use super::{A, B, C, ctx, migration, service_url};

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
    /// The application's connections, raw (the same as `pool`'s).
    app_raw: AnyPool,
    /// The URL `app_raw` and `pool` connect to.
    app_url: String,
    admin_root: Option<AnyPool>,
    pub name: String,
    pub role: Option<String>,
}

impl TestDb {
    pub async fn cleanup(self) {
        self.pool.close().await;
        self.app_raw.close().await;
        self.admin.close().await;
        if let Some(root) = self.admin_root {
            match self.backend {
                Backend::Postgres => {
                    root.execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                        self.name
                    )))
                    .await
                    .unwrap();
                    if let Some(role) = &self.role {
                        root.execute(sqlx::AssertSqlSafe(format!(
                            "DROP ROLE IF EXISTS \"{role}\""
                        )))
                        .await
                        .unwrap();
                    }
                }
                Backend::MySql => {
                    root.execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS `{}`",
                        self.name
                    )))
                    .await
                    .unwrap();
                }
                _ => {}
            }
            root.close().await;
        } else if self.backend == Backend::Sqlite {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.name));
            }
        }
    }
}

/// A SQLite database in a file of its own (so the raw `admin` connections
/// and the tenant pool's native ones see the same data), removed in
/// `cleanup`.
pub async fn sqlite(schema: &Schema) -> TestDb {
    sqlx::any::install_default_drivers();
    let name = unique_name("tenancy_sql");
    let file = std::env::temp_dir().join(format!("{name}.db"));
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let owner = OwnerPool::connect(&url).await.unwrap();
    owner
        .apply("test migration", migration(schema, Backend::Sqlite))
        .await
        .unwrap();
    let pool = owner.tenant_pool(schema.clone());
    let admin = AnyPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .unwrap();
    TestDb {
        backend: Backend::Sqlite,
        pool,
        app_raw: admin.clone(),
        app_url: url,
        admin,
        admin_root: None,
        name: file.display().to_string(),
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
    root.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
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
        admin
            .execute(sqlx::AssertSqlSafe(s.as_str()))
            .await
            .unwrap();
    }
    for s in ddl.app_role(&role, None, "public") {
        admin
            .execute(sqlx::AssertSqlSafe(s.as_str()))
            .await
            .unwrap();
    }
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "GRANT CONNECT ON DATABASE \"{name}\" TO \"{role}\""
        )))
        .await
        .unwrap();
    let app_url = with_user_and_db(&url, Some(&role), &name);
    let app_raw = AnyPoolOptions::new()
        .max_connections(max)
        .connect(&app_url)
        .await
        .unwrap();
    let pool = TenantPool::connect_with(
        &app_url,
        schema.clone(),
        &PoolSettings::default().max_connections(max),
    )
    .await
    .unwrap();
    Some(TestDb {
        backend: Backend::Postgres,
        pool,
        app_raw,
        app_url,
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
    root.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{name}`")))
        .await
        .unwrap();
    let db_url = with_user_and_db(&url, None, &name);
    let owner = OwnerPool::connect(&db_url).await.unwrap();
    owner
        .apply("test migration", migration(schema, Backend::MySql))
        .await
        .unwrap();
    owner.close().await;
    let admin = AnyPoolOptions::new()
        .max_connections(2)
        .connect(&db_url)
        .await
        .unwrap();
    let app_raw = AnyPoolOptions::new()
        .max_connections(4)
        .connect(&db_url)
        .await
        .unwrap();
    let pool = TenantPool::connect_with(
        &db_url,
        schema.clone(),
        &PoolSettings::default().max_connections(4),
    )
    .await
    .unwrap();
    Some(TestDb {
        backend: Backend::MySql,
        pool,
        app_raw,
        app_url: db_url,
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

/// Seeds each of `A`, `B` and `C` with marker rows whose ids overlap across
/// tenants on purpose (properties 1 and 2, leases 1 and 2, a payment), so a
/// missing tenant predicate anywhere shows up as a foreign marker. Every
/// text value carries its tenant's marker (`t1`, `t2`, `t3`).
pub async fn seed_markers(pool: &TenantPool) {
    use tenancy_sql::{Insert, val};
    for t in [A, B, C] {
        let mut tx = pool.begin(&ctx(t)).await.unwrap();
        tx.execute(
            Insert::into("properties")
                .columns(["id", "name", "address"])
                .exprs([val(1), val(format!("p1-t{t}")), val(format!("addr-t{t}"))])
                .exprs([val(2), val(format!("p2-t{t}")), val(format!("addr-t{t}"))]),
        )
        .await
        .unwrap();
        for (id, property) in [(1, 1), (2, 2)] {
            tx.execute(
                Insert::into("leases")
                    .columns(["id", "property_id", "lessee", "rent_cents"])
                    .exprs([
                        val(id),
                        val(property),
                        val(format!("lessee-{id}-t{t}")),
                        val(1000 * t as i64 + id),
                    ]),
            )
            .await
            .unwrap();
        }
        tx.execute(
            Insert::into("payments")
                .columns(["id", "lease_id", "amount_cents"])
                .values([1, 1, 500]),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

/// Every row of `tenant` in the marker tables, read as the owner, as text:
/// the state another tenant's statements must leave exactly as it was.
pub async fn snapshot(db: &TestDb, tenant: u128) -> Vec<String> {
    use sqlx::Row;
    let t = TenantId::from_u128(tenant);
    let text = match db.backend {
        Backend::Postgres => "VARCHAR(40)",
        Backend::MySql => "CHAR",
        _ => "TEXT",
    };
    let mut out = Vec::new();
    for (table, cols) in [
        ("properties", "id, name, address"),
        ("leases", "id, property_id, lessee, rent_cents"),
        ("payments", "id, lease_id, amount_cents"),
    ] {
        let cols: Vec<String> = cols
            .split(", ")
            .map(|c| format!("CAST({c} AS {text})"))
            .collect();
        let sql = format!(
            "SELECT {} FROM {table} WHERE tenant_id = '{t}' ORDER BY id",
            cols.join(", ")
        );
        for r in db
            .admin
            .fetch_all(sqlx::AssertSqlSafe(sql.as_str()))
            .await
            .unwrap()
        {
            let cells: Vec<String> = (0..r.len()).map(|i| r.get::<String, _>(i)).collect();
            out.push(format!("{table}:{}", cells.join("|")));
        }
    }
    out
}

/// The snapshots of every tenant but the attacker.
pub async fn foreign_state(db: &TestDb) -> Vec<String> {
    let mut out = snapshot(db, B).await;
    out.extend(snapshot(db, C).await);
    out
}

/// Every backend, with PostgreSQL twice: under Row-Level Security, and with
/// RLS left out of the migration, so the statement is tested as the only
/// wall there too. Each database comes seeded with [`seed_markers`].
pub async fn every_backend_seeded(schema: &Schema) -> Vec<(String, TestDb)> {
    let mut out = vec![("sqlite".to_owned(), sqlite(schema).await)];
    if let Some(db) = postgres_with(schema, 4, false).await {
        out.push(("postgres without rls".to_owned(), db));
    }
    if let Some(db) = postgres(schema).await {
        out.push(("postgres with rls".to_owned(), db));
    }
    if let Some(db) = mysql(schema).await {
        out.push(("mysql".to_owned(), db));
    }
    for (_, db) in &out {
        seed_markers(&db.pool).await;
    }
    out
}

impl TestDb {
    /// A raw pool of the application's connections (on PostgreSQL: the
    /// application role), to build a tenant pool over another schema.
    /// The application's raw connections.
    pub fn app_raw(&self) -> &AnyPool {
        &self.app_raw
    }

    /// The URL of the application's connections.
    pub fn app_url(&self) -> &str {
        &self.app_url
    }

    /// A tenant pool over the application's connections with another
    /// schema registry.
    pub async fn pool_for_schema(&self, schema: Schema) -> TenantPool {
        TenantPool::connect_with(
            &self.app_url,
            schema,
            &PoolSettings::default().max_connections(2),
        )
        .await
        .unwrap()
    }
}
