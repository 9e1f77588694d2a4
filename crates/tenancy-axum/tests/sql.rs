//! The `sql` feature: the directory over a `tenants` table and the
//! per-request transaction, on SQLite (always) and PostgreSQL (when
//! `TENANCY_TEST_POSTGRES_URL` is set).

#![cfg(feature = "sql")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers fail the test loudly"
)]

mod common;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use common::*;
use tenancy_axum::input::{Path, Query};
use tenancy_axum::problem::types;
use tenancy_axum::sql::{SqlDirectory, Tx, TxLayer};
use tenancy_axum::{Problem, Require, TenancyLayer, Tenant, TenantRecord};
use tenancy_core::*;
use tenancy_sql::sea_query::{ColumnDef, Value};
use tenancy_sql::{
    Backend, Insert, OwnerPool, Schema, Select, TenantPool, Update, column, ddl::Ddl,
};

#[derive(serde::Deserialize)]
struct Fail {
    #[serde(default)]
    fail: bool,
}

async fn create(
    mut tx: Tx,
    _: Require<LeasesWrite>,
    Path(id): Path<i64>,
    Query(q): Query<Fail>,
) -> Result<axum::http::StatusCode, Problem> {
    tx.execute(
        Insert::into("leases")
            .columns(["id", "rent_cents"])
            .values([Value::from(id), Value::from(1000_i64)]),
    )
    .await?;
    if q.fail {
        return Err(Problem::conflict("the handler changed its mind"));
    }
    Ok(axum::http::StatusCode::CREATED)
}

/// Inserts lease `id` twice, swallows the second (duplicate key) failure
/// and answers 201 anyway: the transaction must not be committed.
async fn create_twice(
    mut tx: Tx,
    _: Require<LeasesWrite>,
    Path(id): Path<i64>,
) -> Result<axum::http::StatusCode, Problem> {
    let insert = Insert::into("leases")
        .columns(["id", "rent_cents"])
        .values([Value::from(id), Value::from(1000_i64)]);
    tx.execute(&insert).await?;
    assert!(tx.execute(&insert).await.is_err());
    Ok(axum::http::StatusCode::CREATED)
}

async fn count(mut tx: Tx, _: Require<LeasesRead>) -> Result<String, Problem> {
    Ok(tx
        .fetch_all(Select::from("leases").all())
        .await?
        .len()
        .to_string())
}

async fn me(t: Tenant) -> String {
    t.record().slug.to_string()
}

/// The owner's pool (DDL, clean-up) and the tenant pool over the same
/// connections.
struct Db {
    owner: OwnerPool,
    pool: TenantPool,
    cleanup: Option<std::path::PathBuf>,
}

fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}_{}_{nanos}", std::process::id())
}

/// The system `tenants` table and one tenant table.
fn schema() -> Schema {
    Schema::builder()
        .system("tenants")
        .columns(SqlDirectory::COLUMNS)
        .tenant("leases")
        .columns(["rent_cents"])
        .build()
        .unwrap()
}

/// The operator the tests seed and change the `tenants` table as.
fn operator() -> TenantContext {
    TenantContext::system(
        SubjectId::from_u128(7),
        RoleName::platform_admin(),
        PermissionSet::all(),
    )
}

async fn connect(url: &str) -> (OwnerPool, TenantPool) {
    let owner = OwnerPool::connect(url).await.unwrap();
    let pool = owner.tenant_pool(schema());
    (owner, pool)
}

async fn sqlite() -> Db {
    let path = std::env::temp_dir().join(format!("{}.db", unique("tenancy_axum")));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let (owner, pool) = connect(&url).await;
    Db {
        owner,
        pool,
        cleanup: Some(path),
    }
}

async fn setup(db: &Db, table: &str) -> (Router, World, SqlDirectory) {
    let pool = &db.pool;
    let directory = SqlDirectory::new(
        pool.clone(),
        [
            Plan::new("standard", RateQuota::per_second(1000, 1000), 100),
            Plan::new("tiny", RateQuota::per_second(1000, 1000), 100),
        ],
    )
    .with_table(table)
    .unwrap();
    let ddl = Ddl::new(pool.schema(), pool.backend());
    let mut statements = vec![directory.create_table(pool.backend())];
    statements.extend(
        ddl.create_table("leases", |t| {
            t.col(ColumnDef::new("id").big_integer().not_null())
                .col(ColumnDef::new("rent_cents").big_integer().not_null());
        })
        .unwrap(),
    );
    db.owner
        .apply("create the test tables", statements)
        .await
        .unwrap();
    let rows = [
        (1, "active", "standard", None),
        (2, "active", "standard", None),
        (3, "suspended", "standard", None),
        (4, "active", "tiny", Some(1_i64)),
    ];
    let mut seed = Insert::into(table).columns(SqlDirectory::COLUMNS);
    for (i, status, plan, rate) in rows {
        seed = seed.values([
            Value::from(tenant_id(i).to_string()),
            Value::from(slug(i).to_string()),
            Value::from(status),
            Value::from(plan),
            Value::from(rate),
            Value::from(rate),
            Value::from(None::<i64>),
        ]);
    }
    let mut system = pool
        .unscoped_for_system("seed the test tenants", &operator())
        .await
        .unwrap();
    system.execute(seed).await.unwrap();
    system.commit().await.unwrap();
    let sink = Arc::new(MemoryAuditSink::default());
    let second = SqlDirectory::new(
        pool.clone(),
        [Plan::new("standard", RateQuota::per_second(1, 1), 1)],
    )
    .with_table(table)
    .unwrap();
    let dir: Arc<dyn tenancy_axum::TenantDirectory> = Arc::new(directory);
    let layer = TenancyLayer::builder()
        .validator(validator())
        .directory(dir)
        .audit(sink.clone())
        .build()
        .unwrap();
    let w = World {
        dir: Arc::new(tenancy_axum::MemoryDirectory::new()),
        audit: sink,
        issuer: tenancy_auth::Issuer::hs256(SECRET, ISSUER, AUDIENCE).unwrap(),
        layer: layer.clone(),
    };
    let app = Router::new()
        .route("/leases/{id}", post(create))
        .route("/leases/{id}/twice", post(create_twice))
        .route("/count", get(count))
        .route("/me", get(me))
        .layer(TxLayer::new(pool.clone()))
        .layer(layer);
    (app, w, second)
}

async fn post_lease(app: &Router, token: &str, uri: &str) -> Reply {
    send(
        app,
        request("POST", uri, Some(token))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn exercise(db: Db, table: &str) {
    let (app, w, second) = setup(&db, table).await;
    let (t1, t2) = (
        w.token(1, RoleName::member()),
        w.token(2, RoleName::member()),
    );

    // Commit on success.
    assert_eq!(post_lease(&app, &t1, "/leases/1").await.status, 201);
    assert_eq!(get_as(&app, "/count", Some(&t1)).await.text, "1");
    // Roll back on an error response, after the insert ran.
    post_lease(&app, &t1, "/leases/2?fail=true")
        .await
        .problem(409, types::CONFLICT);
    assert_eq!(get_as(&app, "/count", Some(&t1)).await.text, "1");
    // Roll back on a refusal by a later extractor too (bad query string).
    post_lease(&app, &t1, "/leases/3?fail=maybe")
        .await
        .problem(400, types::BAD_REQUEST);
    assert_eq!(get_as(&app, "/count", Some(&t1)).await.text, "1");
    // The other tenant sees none of it, and has its own rows.
    assert_eq!(get_as(&app, "/count", Some(&t2)).await.text, "0");
    assert_eq!(post_lease(&app, &t2, "/leases/1").await.status, 201);
    assert_eq!(get_as(&app, "/count", Some(&t1)).await.text, "1");
    assert_eq!(get_as(&app, "/count", Some(&t2)).await.text, "1");
    // A 2xx answer after a failed statement does not commit the rest.
    post_lease(&app, &t1, "/leases/5/twice")
        .await
        .problem(500, types::INTERNAL);
    assert_eq!(get_as(&app, "/count", Some(&t1)).await.text, "1");

    // Directory: suspended, unknown, per-tenant overrides from the row.
    get_as(&app, "/me", Some(&w.token(3, RoleName::member())))
        .await
        .problem(403, types::TENANT_UNAVAILABLE);
    get_as(&app, "/me", Some(&w.token(9, RoleName::member())))
        .await
        .problem(403, types::TENANT_UNAVAILABLE);
    let t4 = w.token(4, RoleName::viewer());
    assert_eq!(get_as(&app, "/me", Some(&t4)).await.text, "tenant-4");
    get_as(&app, "/me", Some(&t4))
        .await
        .problem(429, types::RATE_LIMITED);

    // A suspension in the table bites once the cache forgets the tenant.
    let mut system = db
        .pool
        .unscoped_for_system("suspend a test tenant", &operator())
        .await
        .unwrap();
    let suspend = Update::table(table)
        .set("status", "suspended")
        .filter(column("id").eq(tenant_id(2).to_string()));
    assert_eq!(system.execute(suspend).await.unwrap(), 1);
    system.commit().await.unwrap();
    w.layer.cache().invalidate(tenant_id(2));
    get_as(&app, "/count", Some(&t2))
        .await
        .problem(403, types::TENANT_UNAVAILABLE);

    // A system token gets no tenant transaction.
    get_as(&app, "/count", Some(&w.system_token()))
        .await
        .problem(403, types::WRONG_SCOPE);

    // A row naming a plan the service does not know is a directory error.
    use tenancy_axum::TenantDirectory;
    assert!(second.by_id(tenant_id(4)).await.is_err());
    let record: Option<Arc<TenantRecord>> = second.by_id(tenant_id(1)).await.unwrap();
    assert_eq!(record.unwrap().entitlements.max_concurrent(), 1);
    let by_slug = second.by_slug(&slug(1)).await.unwrap().unwrap();
    assert_eq!(by_slug.id, tenant_id(1));

    if let Some(path) = db.cleanup {
        db.owner.close().await;
        let _ = std::fs::remove_file(path);
    } else {
        let _ = db
            .owner
            .apply(
                "drop the test tables",
                [
                    format!("DROP TABLE {table}"),
                    "DROP TABLE leases".to_owned(),
                ],
            )
            .await;
    }
}

#[tokio::test]
async fn sqlite_directory_and_transactions() {
    exercise(sqlite().await, "tenants").await;
}

#[tokio::test]
async fn postgres_directory_and_transactions() {
    let Some(base) = service_url("TENANCY_TEST_POSTGRES_URL") else {
        return;
    };
    // A database of its own, so runs repeat and run in parallel.
    let name = unique("tenancy_axum");
    let admin = sqlx::PgPool::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("postgres unreachable: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("TENANCY_TEST_POSTGRES_URL has no database"),
    };
    let (owner, pool) = connect(&url).await;
    assert_eq!(pool.backend(), Backend::Postgres);
    exercise(
        Db {
            owner: owner.clone(),
            pool,
            cleanup: None,
        },
        "tenants",
    )
    .await;
    owner.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
}
