//! PostgreSQL only: Row-Level Security as the second wall, pool hygiene
//! under load, and `verify_isolation` catching each misconfiguration.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions"
)]

mod common;

use std::collections::BTreeSet;

use common::{TestDb, ctx};
use sqlx::postgres::PgPoolOptions as AnyPoolOptions;
use sqlx::{Executor, PgPool as AnyPool, Row};
use tenancy_core::TenantId;
use tenancy_sql::sea_query::Value;
use tenancy_sql::{Error, Finding, Insert, Schema, Select, TenantPool, ddl::Ddl};

async fn seed_tenants(pool: &TenantPool, tenants: impl IntoIterator<Item = u128>) {
    for t in tenants {
        let mut tx = pool.begin(&ctx(t)).await.unwrap();
        tx.execute(
            Insert::into("properties")
                .columns(["id", "name", "address"])
                .values([
                    Value::from(1),
                    TenantId::from_u128(t).to_string().into(),
                    "x".into(),
                ]),
        )
        .await
        .unwrap();
        tx.execute(
            Insert::into("leases")
                .columns(["id", "property_id", "lessee", "rent_cents"])
                .values([Value::from(1), Value::from(1), "l".into(), Value::from(1)]),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

/// A raw pool of `max` connections as the application role of `db` (the
/// tenant pool no longer hands out its own): what SQL that bypasses the
/// scoped statements could do with the application's credentials.
async fn app_connections(db: &TestDb, max: u32) -> AnyPool {
    let url = std::env::var("TENANCY_TEST_POSTGRES_URL").unwrap();
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host = host.split(['/', '?']).next().unwrap();
    let role = db.role.as_deref().unwrap();
    AnyPoolOptions::new()
        .max_connections(max)
        .connect(&format!("{scheme}://{role}@{host}/{}", db.name))
        .await
        .unwrap()
}

async fn raw_count(conn: &mut sqlx::PgConnection, table: &str) -> i64 {
    let row = conn
        .fetch_one(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .await
        .unwrap();
    row.try_get::<i64, _>(0).unwrap()
}

#[tokio::test]
async fn rls_is_a_second_wall_for_raw_sql_as_the_application_role() {
    let schema = common::schema();
    let Some(db) = common::postgres(&schema).await else {
        return;
    };
    seed_tenants(&db.pool, [1, 2, 3]).await;
    let a = TenantId::from_u128(1);
    let b = TenantId::from_u128(2);
    let app = app_connections(&db, 1).await;
    let mut conn = app.acquire().await.unwrap();

    // Outside any binding the application role sees nothing at all.
    assert_eq!(raw_count(&mut conn, "leases").await, 0);
    assert_eq!(raw_count(&mut conn, "properties").await, 0);

    // Inside a transaction bound to A, an unscoped SELECT sees only A.
    conn.execute("BEGIN").await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!(
        "SELECT set_config('tenancy.tenant_id', '{a}', true)"
    )))
    .await
    .unwrap();
    assert_eq!(raw_count(&mut conn, "leases").await, 1);
    let name: String = conn
        .fetch_one("SELECT name FROM properties")
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, a.to_string());

    // A raw INSERT naming another tenant is refused by WITH CHECK.
    let err = conn
        .execute(sqlx::AssertSqlSafe(format!(
            "INSERT INTO audit_events (tenant_id, id, action, outcome) VALUES ('{b}', 1, 'x', 'y')"
        )))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("row-level security"),
        "unexpected error: {err}"
    );
    conn.execute("ROLLBACK").await.unwrap();

    // A raw UPDATE moving A's row to B is refused too.
    conn.execute("BEGIN").await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!(
        "SELECT set_config('tenancy.tenant_id', '{a}', true)"
    )))
    .await
    .unwrap();
    let err = conn
        .execute(sqlx::AssertSqlSafe(format!(
            "UPDATE leases SET tenant_id = '{b}'"
        )))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    conn.execute("ROLLBACK").await.unwrap();

    // The binding ended with the transaction.
    assert_eq!(raw_count(&mut conn, "leases").await, 0);
    drop(conn);
    app.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn pooled_connection_forgets_previous_tenant() {
    let schema = common::schema();
    let Some(db) = common::postgres(&schema).await else {
        return;
    };
    // One connection, shared by the tenant pool and a raw handle kept to
    // look at it afterwards: every transaction reuses it.
    let app = app_connections(&db, 1).await;
    let pool = TenantPool::new(app.clone(), schema.clone());
    seed_tenants(&pool, [1, 2]).await;
    let mut tx = pool.begin(&ctx(1)).await.unwrap();
    assert_eq!(
        tx.fetch_all(Select::from("leases").all())
            .await
            .unwrap()
            .len(),
        1
    );
    tx.commit().await.unwrap();
    {
        let mut tx = pool.begin(&ctx(2)).await.unwrap();
        tx.fetch_all(Select::from("leases").all()).await.unwrap();
        // dropped: rolled back
    }
    {
        let mut tx = pool.begin(&ctx(2)).await.unwrap();
        // Refused before the server sees them.
        assert!(tx.fetch_all(Select::from("nope").all()).await.is_err());
        assert!(
            tx.fetch_all(Select::from("leases").column("no_such_column"))
                .await
                .is_err()
        );
        // Refused by the server: the transaction is aborted, then dropped.
        let dup = Insert::into("properties")
            .columns(["id", "name", "address"])
            .values([Value::from(1), "dup".into(), "x".into()]);
        assert!(matches!(
            tx.execute(dup).await.unwrap_err(),
            Error::Database(_)
        ));
    }
    {
        let mut tx = pool.begin(&ctx(1)).await.unwrap();
        let dup = Insert::into("properties")
            .columns(["id", "name", "address"])
            .values([Value::from(1), "dup".into(), "x".into()]);
        assert!(tx.execute(dup).await.is_err());
        // The commit rolls back and says so.
        assert!(matches!(
            tx.commit().await.unwrap_err(),
            Error::TransactionAborted
        ));
    }
    let mut conn = app.acquire().await.unwrap();
    let setting: Option<String> = conn
        .fetch_one("SELECT current_setting('tenancy.tenant_id', true)")
        .await
        .unwrap()
        .get(0);
    assert!(setting.unwrap_or_default().is_empty());
    assert_eq!(raw_count(&mut conn, "leases").await, 0);
    drop(conn);
    pool.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_thousand_interleaved_transactions_on_two_connections_each_see_only_their_tenant() {
    let schema = common::schema();
    let Some(db) = common::postgres_with(&schema, 2, true).await else {
        return;
    };
    let tenants: Vec<u128> = (1..=20).collect();
    seed_tenants(&db.pool, tenants.clone()).await;
    let mut tasks = Vec::new();
    for i in 0..1000u32 {
        let pool = db.pool.clone();
        let t = tenants[i as usize % tenants.len()];
        tasks.push(tokio::spawn(async move {
            let mut tx = pool.begin(&ctx(t)).await.unwrap();
            tokio::task::yield_now().await;
            let rows = tx
                .fetch_all(Select::from("properties").column("name"))
                .await
                .unwrap();
            let names: Vec<String> = rows.iter().map(|r| r.try_get(0).unwrap()).collect();
            // Scoped predicate AND the RLS policy: a stale or foreign binding
            // would return nothing here, not just other rows.
            assert_eq!(names, [TenantId::from_u128(t).to_string()]);
            tokio::task::yield_now().await;
            let write = Insert::into("audit_events")
                .columns(["id", "action", "outcome"])
                .values([Value::from(i64::from(i)), "tick".into(), "ok".into()]);
            match i % 5 {
                0 => {
                    tx.execute(write).await.unwrap();
                    tx.commit().await.unwrap();
                    Some((t, i64::from(i)))
                }
                1 => {
                    tx.execute(write).await.unwrap();
                    drop(tx); // dropped mid-way
                    None
                }
                2 => {
                    tx.execute(write.clone()).await.unwrap();
                    // fails mid-way on the server (the same id twice): the
                    // transaction is aborted, then dropped
                    assert!(matches!(
                        tx.execute(write).await.unwrap_err(),
                        Error::Database(_)
                    ));
                    None
                }
                3 => {
                    tx.execute(write).await.unwrap();
                    tx.rollback().await.unwrap();
                    None
                }
                _ => {
                    tx.commit().await.unwrap();
                    None
                }
            }
        }));
    }
    let mut committed: BTreeSet<(u128, i64)> = BTreeSet::new();
    for task in tasks {
        if let Some(c) = task.await.unwrap() {
            committed.insert(c);
        }
    }
    let mut found = BTreeSet::new();
    for &t in &tenants {
        let mut tx = db.pool.begin(&ctx(t)).await.unwrap();
        for r in tx
            .fetch_all(Select::from("audit_events").column("id"))
            .await
            .unwrap()
        {
            found.insert((t, r.try_get::<i64, _>(0).unwrap()));
        }
    }
    assert_eq!(found, committed);
    assert_eq!(committed.len(), 200);
    db.cleanup().await;
}

/// Recognises the finding a misconfiguration must produce.
type Want = Box<dyn Fn(&Finding) -> bool>;

async fn expect_finding(db: &TestDb, want: impl Fn(&Finding) -> bool, what: &str) {
    match db.pool.verify_isolation().await {
        Err(Error::Isolation(report)) => {
            assert!(
                report.findings.iter().any(&want),
                "{what}: not reported in\n{report}"
            );
            let text = Error::Isolation(report).to_string();
            assert!(text.starts_with("isolation check failed"), "{text}");
        }
        other => panic!("{what}: expected a failed audit, got {other:?}"),
    }
}

async fn run(db: &TestDb, sql: &str) {
    db.admin.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
}

#[tokio::test]
async fn verify_isolation_catches_each_misconfiguration() {
    let schema = common::schema();
    let Some(db) = common::postgres(&schema).await else {
        return;
    };
    let role = db.role.clone().unwrap();
    let report = db.pool.verify_isolation().await.unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.tables_checked, 4);
    assert_eq!(report.role, role);

    let policy = Ddl::new(&schema, tenancy_sql::Backend::Postgres)
        .row_level_security("leases")
        .unwrap()
        .pop()
        .unwrap();
    let owner: String = db
        .admin
        .fetch_one("SELECT current_user::text")
        .await
        .unwrap()
        .get(0);
    let cases: Vec<(String, String, Want, &str)> = vec![
        (
            "ALTER TABLE leases DISABLE ROW LEVEL SECURITY".into(),
            "ALTER TABLE leases ENABLE ROW LEVEL SECURITY".into(),
            Box::new(|f| matches!(f, Finding::RlsDisabled { table } if table == "leases")),
            "rls disabled",
        ),
        (
            "ALTER TABLE leases NO FORCE ROW LEVEL SECURITY".into(),
            "ALTER TABLE leases FORCE ROW LEVEL SECURITY".into(),
            Box::new(|f| matches!(f, Finding::RlsNotForced { table } if table == "leases")),
            "rls not forced",
        ),
        (
            "DROP POLICY leases_tenant_isolation ON leases; CREATE POLICY using_only ON leases USING (tenant_id = current_setting('tenancy.tenant_id', true))".into(),
            format!("DROP POLICY using_only ON leases; {policy}"),
            Box::new(|f| matches!(f, Finding::NoTenantPolicy { table } if table == "leases")),
            "policy without WITH CHECK",
        ),
        (
            "CREATE POLICY wide_open ON leases USING (true) WITH CHECK (true)".into(),
            "DROP POLICY wide_open ON leases".into(),
            Box::new(|f| matches!(f, Finding::PermissivePolicyUsing { policy, .. } if policy == "wide_open")),
            "an extra permissive policy",
        ),
        (
            format!("ALTER TABLE leases OWNER TO \"{role}\""),
            format!("ALTER TABLE leases OWNER TO \"{owner}\""),
            Box::new(|f| matches!(f, Finding::RoleOwnsTable { table, .. } if table == "leases")),
            "application role owns the table",
        ),
        (
            format!("ALTER ROLE \"{role}\" BYPASSRLS"),
            format!("ALTER ROLE \"{role}\" NOBYPASSRLS"),
            Box::new(|f| matches!(f, Finding::BypassRls { .. })),
            "bypassrls",
        ),
        (
            format!("ALTER ROLE \"{role}\" SUPERUSER"),
            format!("ALTER ROLE \"{role}\" NOSUPERUSER"),
            Box::new(|f| matches!(f, Finding::Superuser { .. })),
            "superuser",
        ),
        (
            "CREATE VIEW lease_view AS SELECT * FROM leases".into(),
            "ALTER VIEW lease_view SET (security_invoker = true)".into(),
            Box::new(|f| matches!(f, Finding::ViewWithoutSecurityInvoker { view, .. } if view == "lease_view")),
            "view without security_invoker",
        ),
        (
            "CREATE UNIQUE INDEX leases_lessee_everywhere ON leases (lessee)".into(),
            "DROP INDEX leases_lessee_everywhere".into(),
            Box::new(|f| matches!(f, Finding::GlobalUniqueIndex { index, .. } if index == "leases_lessee_everywhere")),
            "global unique index",
        ),
    ];
    for (breaking, fixing, want, what) in cases {
        run(&db, &breaking).await;
        expect_finding(&db, want, what).await;
        run(&db, &fixing).await;
        let report = db.pool.verify_isolation().await;
        assert!(
            report.is_ok(),
            "{what}: still failing after the fix: {report:?}"
        );
    }

    // A registered tenant table that does not exist is reported as well.
    let ghost = Schema::builder().tenant("ghosts").build().unwrap();
    let pool = TenantPool::new(app_connections(&db, 1).await, ghost);
    match pool.verify_isolation().await {
        Err(Error::Isolation(r)) => {
            assert!(
                matches!(&r.findings[..], [Finding::MissingTable { table }] if table == "ghosts")
            );
        }
        other => panic!("expected a missing table, got {other:?}"),
    }
    pool.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn verify_isolation_notes_that_sqlite_has_no_rls() {
    let schema = common::schema();
    let db = common::sqlite(&schema).await;
    let report = db.pool.verify_isolation().await.unwrap();
    assert!(report.is_clean());
    assert!(report.notes[0].contains("no row-level security"));
    db.cleanup().await;
}
