//! The first wall, attacked: each test is an attack an adversarial review
//! ran against the public builders, named after it, run on SQLite, MariaDB
//! and PostgreSQL (with Row-Level Security and without it, so the statement
//! is tested as the only wall). Every attack must either be refused with a
//! typed error or touch nothing of tenants B and C, which the owner checks
//! afterwards.
//!
//! Attacks that the typed surface makes unwritable (custom SQL text, raw
//! subqueries, free function names, raw statements in the escape hatch) are
//! proven by the compile-fail cases in `tests/ui/fail/attack_*.rs`; here
//! their closest expressible forms are run.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions"
)]

mod common;
mod oracle;

use common::{A, B, C, TestDb, ctx, foreign_state, operator};
use sqlx::Row;
use tenancy_sql::sea_query::Value;
use tenancy_sql::{
    Delete, Error, Insert, Order, Schema, Select, TenantPool, Update, col, count_all, exists,
    scalar, val,
};

/// Runs `attack` as tenant A on every backend and checks that B and C are
/// exactly as they were; `attack` returns what it saw, for its own asserts.
macro_rules! attack_on_every_backend {
    (|$label:ident, $db:ident| $body:block) => {{
        let schema = common::schema();
        for ($label, $db) in common::every_backend_seeded(&schema).await {
            let before = foreign_state(&$db).await;
            assert!(!before.is_empty(), "{}: nothing seeded", $label);
            $body
            assert_eq!(
                foreign_state(&$db).await,
                before,
                "{}: another tenant's rows changed",
                $label
            );
            $db.cleanup().await;
        }
    }};
}

/// Every text of every row, for "did a foreign marker come back" checks.
fn texts(rows: &[tenancy_sql::DbRow]) -> Vec<String> {
    let mut out = Vec::new();
    for r in rows {
        for i in 0..r.len() {
            if let Some(s) = r.text(i) {
                out.push(s);
            }
        }
    }
    out
}

fn assert_no_foreign_marker(label: &str, seen: &[String]) {
    for s in seen {
        assert!(
            !s.contains(&format!("t{B}")) && !s.contains(&format!("t{C}")),
            "{label}: a foreign marker came back: {s}"
        );
    }
}

/// The error of a statement that must be refused.
fn refused<T>(outcome: Result<T, Error>) -> Error {
    match outcome {
        Ok(_) => panic!("the attack was accepted"),
        Err(e) => e,
    }
}

/// Every statement an attack gets accepted is also checked by the
/// independent oracle (a real SQL parser) before it runs.
fn oracle_checks(pool: &TenantPool, prepared: &tenancy_sql::Prepared) {
    if let Err(v) = oracle::Oracle::new(pool.schema()).check(prepared) {
        panic!(
            "the oracle refuses an accepted statement: {v:?}\n{}",
            prepared.sql()
        );
    }
}

async fn read(pool: &TenantPool, q: Select) -> Result<Vec<tenancy_sql::DbRow>, Error> {
    let mut tx = pool.begin(&ctx(A)).await?;
    let prepared = tx.prepare(q)?;
    oracle_checks(pool, &prepared);
    tx.fetch_all(prepared).await
}

async fn write(pool: &TenantPool, stmt: impl tenancy_sql::Statement) -> Result<u64, Error> {
    let mut tx = pool.begin(&ctx(A)).await?;
    let prepared = tx.prepare(stmt)?;
    oracle_checks(pool, &prepared);
    let n = tx.execute(prepared).await?;
    tx.commit().await?;
    Ok(n)
}

/// A condition that is always true, OR-ed the way attack 1 tried with text.
fn always_true() -> tenancy_sql::Expr {
    val(1).eq(1).or(val(1).eq(1))
}

// Attack 1: a condition that escapes the AND.

#[tokio::test]
async fn an_or_condition_cannot_escape_the_tenant_predicate_of_a_select() {
    attack_on_every_backend!(|label, db| {
        let rows = read(
            &db.pool,
            Select::from("leases")
                .columns(["lessee"])
                .filter(always_true())
                .filter(col("leases", "lessee").eq("1=1) OR (1=1").or(always_true())),
        )
        .await
        .unwrap();
        let seen = texts(&rows);
        assert_eq!(seen.len(), 2, "{label}: {seen:?}");
        assert_no_foreign_marker(&label, &seen);
    });
}

#[tokio::test]
async fn an_or_condition_cannot_escape_the_tenant_predicate_of_an_update_or_delete() {
    attack_on_every_backend!(|label, db| {
        let changed = write(
            &db.pool,
            Update::table("leases")
                .set("lessee", "hijacked")
                .filter(always_true()),
        )
        .await
        .unwrap();
        assert_eq!(changed, 2, "{label}");
        let deleted = write(&db.pool, Delete::from("payments").filter(always_true()))
            .await
            .unwrap();
        assert_eq!(deleted, 1, "{label}");
    });
}

#[tokio::test]
async fn sql_text_as_a_value_stays_a_bound_value() {
    attack_on_every_backend!(|label, db| {
        for hostile in [
            "1=1) OR (1=1",
            "x' OR '1'='1",
            "x\\' OR 1=1 -- ",
            "$$ OR true $$",
            "*/ OR 1=1 /*",
            "'; DELETE FROM leases; --",
        ] {
            let rows = read(
                &db.pool,
                Select::from("leases")
                    .column("lessee")
                    .filter(col("leases", "lessee").eq(hostile)),
            )
            .await
            .unwrap();
            assert!(rows.is_empty(), "{label}: {hostile}");
            let n = write(
                &db.pool,
                Update::table("leases")
                    .set("lessee", hostile)
                    .filter(col("leases", "id").eq(1)),
            )
            .await
            .unwrap();
            assert_eq!(n, 1, "{label}");
        }
    });
}

// Attack 2: a raw subquery hidden in the select list. The typed surface has
// no raw subquery; a scoped one in the same place stays scoped.

#[tokio::test]
async fn a_subquery_in_the_select_list_is_scoped_too() {
    attack_on_every_backend!(|label, db| {
        let rows = read(
            &db.pool,
            Select::new()
                .expr_as(scalar(Select::from("leases").expr(count_all())), "n")
                .expr_as(
                    scalar(
                        Select::from("leases")
                            .column("lessee")
                            .order_by(col("leases", "lessee"), Order::Desc)
                            .limit(1),
                    ),
                    "last",
                ),
        )
        .await
        .unwrap();
        let n: i64 = rows[0].try_get("n").unwrap();
        assert_eq!(n, 2, "{label}");
        assert_no_foreign_marker(&label, &texts(&rows));
    });
}

// Attack 3: the tenant column in another letter case.

#[tokio::test]
async fn update_setting_the_tenant_column_in_another_case_is_refused() {
    attack_on_every_backend!(|label, db| {
        let b = tenancy_core::TenantId::from_u128(B).to_string();
        for spelling in ["TENANT_ID", "Tenant_Id", "tenant_id", "tEnAnT_iD"] {
            let err = write(
                &db.pool,
                Update::table("properties")
                    .set(spelling, b.as_str())
                    .filter(col("properties", "id").eq(1)),
            )
            .await
            .unwrap_err();
            assert!(
                matches!(err, Error::TenantColumnWrite { .. }),
                "{label}: {err}"
            );
        }
        for spelling in [
            "tenant_id ",
            " tenant_id",
            "tenant\u{131}d",
            "tenant_id\"",
            "tenant_id`",
        ] {
            let err = write(
                &db.pool,
                Update::table("properties").set(spelling, b.as_str()),
            )
            .await
            .unwrap_err();
            assert!(
                matches!(err, Error::InvalidName { .. } | Error::UnknownColumn { .. }),
                "{label}: {spelling:?}: {err}"
            );
        }
    });
}

#[tokio::test]
async fn insert_naming_the_tenant_column_in_another_case_is_refused() {
    attack_on_every_backend!(|label, db| {
        let b = tenancy_core::TenantId::from_u128(B).to_string();
        let own = tenancy_core::TenantId::from_u128(A).to_string();
        for (spelling, tenant) in [("Tenant_Id", &b), ("TENANT_ID", &b), ("tenant_id", &own)] {
            let err = write(
                &db.pool,
                Insert::into("properties")
                    .columns(["id", "name", "address", spelling])
                    .exprs([val(9), val("planted"), val("x"), val(tenant.as_str())]),
            )
            .await
            .unwrap_err();
            assert!(
                matches!(err, Error::TenantColumnWrite { .. }),
                "{label}: {err}"
            );
        }
    });
}

#[tokio::test]
async fn upsert_updating_the_tenant_column_in_another_case_is_refused() {
    attack_on_every_backend!(|label, db| {
        let err = write(
            &db.pool,
            Insert::into("properties")
                .columns(["id", "name", "address"])
                .exprs([val(1), val("p1"), val("x")])
                .on_conflict_update(["id"], ["address", "TENANT_ID"]),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, Error::TenantColumnWrite { .. }),
            "{label}: {err}"
        );
    });
}

#[tokio::test]
async fn a_column_in_another_case_resolves_to_the_declared_column() {
    attack_on_every_backend!(|label, db| {
        let rows = read(
            &db.pool,
            Select::from("LEASES")
                .column("LESSEE")
                .filter(col("Leases", "Rent_Cents").gt(0))
                .order_by(col("leases", "ID"), Order::Asc),
        )
        .await
        .unwrap();
        assert_eq!(texts(&rows), ["lessee-1-t1", "lessee-2-t1"], "{label}");
    });
}

// Attack 4: a MySQL upsert firing on a unique key that spans tenants.

/// A table whose `code` is unique across tenants: declared so in the first
/// schema, and present in the database but undeclared in the second.
fn codes_schema(declared: bool) -> Schema {
    let b = Schema::builder().tenant("codes").columns(["code", "label"]);
    let b = if declared {
        b.global_unique(["code"])
    } else {
        b
    };
    b.build().unwrap()
}

async fn codes_table(db: &TestDb) {
    let text = match db.backend {
        tenancy_sql::Backend::Postgres => "TEXT",
        _ => "VARCHAR(64)",
    };
    let sql = format!(
        "CREATE TABLE codes (tenant_id VARCHAR(36) NOT NULL, id BIGINT NOT NULL, \
         code VARCHAR(64) NOT NULL, label {text} NOT NULL, PRIMARY KEY (tenant_id, id), \
         UNIQUE (code))"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .execute(&db.admin)
        .await
        .unwrap();
    if db.backend == tenancy_sql::Backend::Postgres {
        let role = db.role.as_deref().unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "GRANT ALL ON codes TO \"{role}\""
        )))
        .execute(&db.admin)
        .await
        .unwrap();
    }
    let b = tenancy_core::TenantId::from_u128(B);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO codes (tenant_id, id, code, label) VALUES ('{b}', 1, 'SHARED', 'label-t{B}')"
    )))
    .execute(&db.admin)
    .await
    .unwrap();
}

async fn codes_of_b(db: &TestDb) -> Vec<String> {
    let b = tenancy_core::TenantId::from_u128(B);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT label FROM codes WHERE tenant_id = '{b}'"
    )))
    .fetch_all(&db.admin)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect()
}

fn upsert_shared_code() -> Insert {
    Insert::into("codes")
        .columns(["id", "code", "label"])
        .exprs([val(7), val("SHARED"), val("label-of-attacker")])
        .on_conflict_update(["id"], ["code", "label"])
}

#[tokio::test]
async fn upsert_on_a_declared_cross_tenant_unique_key_never_overwrites_another_tenant() {
    attack_on_every_backend!(|label, db| {
        codes_table(&db).await;
        let pool = db.pool_for_schema(codes_schema(true)).await;
        let outcome = write(&pool, upsert_shared_code()).await;
        match db.backend {
            // ON DUPLICATE KEY fires on any unique key: refused outright.
            tenancy_sql::Backend::MySql => {
                assert!(
                    matches!(outcome, Err(Error::UnsafeUpsert { .. })),
                    "{label}: {outcome:?}"
                )
            }
            // ON CONFLICT (tenant_id, id) does not cover `code`: the server
            // refuses the duplicate instead of updating anything.
            _ => assert!(outcome.is_err(), "{label}: {outcome:?}"),
        }
        assert_eq!(codes_of_b(&db).await, [format!("label-t{B}")], "{label}");
    });
}

#[tokio::test]
async fn upsert_on_an_undeclared_cross_tenant_unique_key_leaves_the_other_row_unchanged() {
    attack_on_every_backend!(|label, db| {
        codes_table(&db).await;
        let pool = db.pool_for_schema(codes_schema(false)).await;
        let outcome = write(&pool, upsert_shared_code()).await;
        if db.backend == tenancy_sql::Backend::MySql {
            // The guarded assignments leave the foreign row as it was (the
            // driver counts it as found, not as changed) and insert nothing.
            assert!(outcome.unwrap() <= 1, "{label}");
            let mine = read(&pool, Select::from("codes").column("label"))
                .await
                .unwrap();
            assert!(mine.is_empty(), "{label}");
        } else {
            assert!(outcome.is_err(), "{label}: {outcome:?}");
        }
        assert_eq!(codes_of_b(&db).await, [format!("label-t{B}")], "{label}");
    });
}

// Attack 6: the system escape hatch reaching a tenant table from inside an
// expression.

#[tokio::test]
async fn the_system_escape_hatch_refuses_a_tenant_table_in_a_subquery() {
    attack_on_every_backend!(|label, db| {
        let attempts = [
            Select::from("plans").expr_as(scalar(Select::from("leases").expr(count_all())), "n"),
            Select::from("plans")
                .column("code")
                .filter(exists(Select::from("leases").column("id"))),
            Select::from("plans")
                .column("code")
                .filter(col("plans", "code").in_subquery(Select::from("leases").column("lessee"))),
            Select::from("plans")
                .column("code")
                .with_cte("x", Select::from("leases").column("lessee")),
            Select::from("plans")
                .column("code")
                .union(Select::from("leases").column("lessee")),
            Select::from("plans").column("code").inner_join_subquery(
                Select::from("leases").column("lessee"),
                "l",
                val(true),
            ),
        ];
        for q in attempts {
            let mut sys = db
                .pool
                .unscoped_for_system("attack test", &operator())
                .await
                .unwrap();
            let err = refused(sys.fetch_all(q).await);
            assert!(
                matches!(err, Error::TenantTableInSystemStatement { table: ref t } if t == "leases"),
                "{label}: {err}"
            );
        }
        let mut sys = db
            .pool
            .unscoped_for_system("attack test", &operator())
            .await
            .unwrap();
        let err = sys
            .execute(Update::table("plans").set(
                "max_properties",
                scalar(Select::from("leases").expr(count_all())),
            ))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::TenantTableInSystemStatement { .. }),
            "{label}: {err}"
        );
        let err = sys.execute(Delete::from("leases")).await.unwrap_err();
        assert!(
            matches!(err, Error::TenantTableInSystemStatement { .. }),
            "{label}: {err}"
        );
    });
}

// Attack 8: a commit that reports success for an aborted transaction.

#[tokio::test]
async fn commit_after_a_failed_statement_reports_the_abort_and_writes_nothing() {
    attack_on_every_backend!(|label, db| {
        let mut tx = db.pool.begin(&ctx(A)).await.unwrap();
        tx.execute(
            Insert::into("properties")
                .columns(["id", "name", "address"])
                .exprs([val(50), val("before the failure"), val("x")]),
        )
        .await
        .unwrap();
        // Property 1 exists already: the primary key refuses it.
        let dup = tx
            .execute(
                Insert::into("properties")
                    .columns(["id", "name", "address"])
                    .exprs([val(1), val("dup"), val("x")]),
            )
            .await;
        assert!(matches!(dup, Err(Error::Database(_))), "{label}: {dup:?}");
        // On PostgreSQL this one fails too (the transaction is aborted); on
        // the others it succeeds. Either way nothing may be committed.
        let _ = tx
            .execute(
                Insert::into("properties")
                    .columns(["id", "name", "address"])
                    .exprs([val(51), val("after the failure"), val("x")]),
            )
            .await;
        let err = tx.commit().await.unwrap_err();
        assert!(matches!(err, Error::TransactionAborted), "{label}: {err}");
        let rows = read(
            &db.pool,
            Select::from("properties")
                .column("name")
                .filter(col("properties", "id").gte(50)),
        )
        .await
        .unwrap();
        assert!(rows.is_empty(), "{label}: {:?}", texts(&rows));
    });
}

#[tokio::test]
async fn commit_after_a_clean_transaction_still_commits() {
    attack_on_every_backend!(|label, db| {
        let mut tx = db.pool.begin(&ctx(A)).await.unwrap();
        // A reference to B's property is "not found" before anything is sent:
        // the transaction is still sound.
        let stolen = tx
            .execute(
                Insert::into("leases")
                    .columns(["id", "property_id", "lessee", "rent_cents"])
                    .exprs([val(60), val(3), val("x"), val(1)]),
            )
            .await;
        assert!(
            matches!(stolen, Err(Error::NotFound { .. })),
            "{label}: {stolen:?}"
        );
        tx.execute(
            Insert::into("properties")
                .columns(["id", "name", "address"])
                .exprs([val(60), val("kept"), val("x")]),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let rows = read(
            &db.pool,
            Select::from("properties")
                .column("name")
                .filter(col("properties", "id").eq(60)),
        )
        .await
        .unwrap();
        assert_eq!(texts(&rows), ["kept"], "{label}");
    });
}

// Hand-tried attacks on the name resolution.

#[tokio::test]
async fn an_alias_that_shadows_another_source_is_refused() {
    attack_on_every_backend!(|label, db| {
        let attempts = [
            // The predicate written for "properties" must not bind to leases.
            Select::from_as("leases", "properties")
                .column_of("properties", "lessee")
                .inner_join("properties", val(true)),
            // SQLite and MySQL fold alias case: "a" and "A" are one name.
            Select::from_as("leases", "a")
                .and_from_as("leases", "A")
                .column_of("a", "lessee"),
            Select::from("leases").column("lessee").and_from("leases"),
        ];
        for q in attempts {
            let err = refused(read(&db.pool, q).await);
            assert!(matches!(err, Error::DuplicateName { .. }), "{label}: {err}");
        }
    });
}

#[tokio::test]
async fn a_cte_named_like_a_tenant_table_is_refused() {
    attack_on_every_backend!(|label, db| {
        let err = refused(
            read(
                &db.pool,
                Select::from("leases")
                    .column("lessee")
                    .with_cte("leases", Select::from("leases").column("lessee")),
            )
            .await,
        );
        assert!(matches!(err, Error::DuplicateName { .. }), "{label}: {err}");
    });
}

#[tokio::test]
async fn hostile_names_are_refused_before_any_sql_is_sent() {
    attack_on_every_backend!(|label, db| {
        let attempts = [
            Select::from("leases").column("lessee\" FROM leases --"),
            Select::from("leases; DROP TABLE leases").column("id"),
            Select::from_as("leases", "l\" ON 1=1 --").column("id"),
            Select::from("leases").column_of("leases", "x` OR 1=1"),
            Select::from("leases").expr_as(val(1), "a\"b"),
        ];
        for q in attempts {
            let err = refused(read(&db.pool, q).await);
            assert!(matches!(err, Error::InvalidName { .. }), "{label}: {err}");
        }
        let err = refused(read(&db.pool, Select::from("leases").column("not_declared")).await);
        assert!(matches!(err, Error::UnknownColumn { .. }), "{label}: {err}");
        let err = refused(
            read(
                &db.pool,
                Select::from("leases").column_of("properties", "name"),
            )
            .await,
        );
        assert!(matches!(err, Error::UnknownSource { .. }), "{label}: {err}");
    });
}

#[tokio::test]
async fn a_value_equal_to_the_tenant_placeholder_is_refused() {
    attack_on_every_backend!(|label, db| {
        let placeholder = "\u{0}tenancy:tenant\u{0}";
        let err = refused(
            read(
                &db.pool,
                Select::from("leases")
                    .column("lessee")
                    .filter(col("leases", "lessee").eq(placeholder)),
            )
            .await,
        );
        assert!(matches!(err, Error::InvalidValue), "{label}: {err}");
        let err = write(
            &db.pool,
            Insert::into("properties")
                .columns(["id", "name", "address"])
                .values([Value::from(70), placeholder.into(), "x".into()]),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::InvalidValue), "{label}: {err}");
    });
}

#[tokio::test]
async fn a_statement_prepared_under_a_schema_that_calls_a_tenant_table_global_does_not_run() {
    attack_on_every_backend!(|label, db| {
        use tenancy_sql::Statement;
        let forged = Schema::builder()
            .global("leases")
            .columns(["lessee"])
            .build()
            .unwrap();
        let unscoped = Select::from("leases")
            .column("lessee")
            .prepare(&forged, db.backend, &ctx(A))
            .unwrap();
        assert_eq!(unscoped.tenant_slots(), 0, "{label}");
        let mut tx = db.pool.begin(&ctx(A)).await.unwrap();
        let err = refused(tx.fetch_all(&unscoped).await);
        assert!(matches!(err, Error::ScopeMismatch), "{label}: {err}");
    });
}

#[tokio::test]
async fn an_output_alias_used_twice_is_refused() {
    attack_on_every_backend!(|label, db| {
        let err = refused(
            read(
                &db.pool,
                Select::from("leases")
                    .expr_as(col("leases", "lessee"), "x")
                    .expr_as(val(2), "X")
                    .order_by(tenancy_sql::column("x"), Order::Asc),
            )
            .await,
        );
        assert!(matches!(err, Error::DuplicateName { .. }), "{label}: {err}");
    });
}

// Found by the independent review of the rebuilt surface.

#[tokio::test]
async fn an_on_clause_naming_a_table_outside_its_join_is_refused() {
    use tenancy_sql::not_exists;
    attack_on_every_backend!(|label, db| {
        // The shape that crashed MariaDB 10.11 (signal 11): the ON clause
        // names `payments`, which a comma separates from the join, so the
        // server bound it to the outer `payments`.
        let crash = || {
            not_exists(
                Select::from("properties").expr(val(1)).with_cte(
                    "c",
                    Select::from("payments")
                        .and_from("plans")
                        .left_join(
                            "properties",
                            col("properties", "id").eq(col("payments", "id")),
                        )
                        .expr(val(1)),
                ),
            )
        };
        let err = refused(
            read(
                &db.pool,
                Select::from("payments").column("id").filter(crash()),
            )
            .await,
        );
        assert!(matches!(err, Error::UnknownSource { .. }), "{label}: {err}");
        let err = refused(
            write(
                &db.pool,
                Update::table("payments")
                    .set("amount_cents", 1)
                    .filter(crash()),
            )
            .await,
        );
        assert!(matches!(err, Error::UnknownSource { .. }), "{label}: {err}");
        // A join's ON may not name a table joined after it either.
        let err = refused(
            read(
                &db.pool,
                Select::from("leases")
                    .column_of("leases", "lessee")
                    .inner_join(
                        "properties",
                        col("payments", "lease_id").eq(col("leases", "id")),
                    )
                    .inner_join(
                        "payments",
                        col("payments", "lease_id").eq(col("leases", "id")),
                    ),
            )
            .await,
        );
        assert!(matches!(err, Error::UnknownSource { .. }), "{label}: {err}");
        // Joins without FROM are refused before the server sees them.
        let err = refused(
            read(
                &db.pool,
                Select::new().expr(val(1)).inner_join("leases", val(true)),
            )
            .await,
        );
        assert!(matches!(err, Error::Unsupported(_)), "{label}: {err}");
    });
}

#[tokio::test]
async fn a_system_or_undeclared_column_cannot_be_read_through_a_derived_table() {
    attack_on_every_backend!(|label, db| {
        // rowid (SQLite) and ctid/xmin (PostgreSQL) count every tenant's
        // inserts; an undeclared column is as unchecked as they are.
        for hidden in [
            "rowid",
            "_rowid_",
            "oid",
            "ctid",
            "xmin",
            "tableoid",
            "not_declared",
        ] {
            let unqualified = Select::from_subquery(Select::new().expr_as(val(1), "one"), "d")
                .inner_join_subquery(
                    Select::from("properties").expr_as(
                        tenancy_sql::column(hidden).cast(tenancy_sql::SqlType::Text),
                        "phys",
                    ),
                    "p",
                    val(true),
                )
                .all_of("p");
            let err = refused(read(&db.pool, unqualified).await);
            assert!(
                matches!(err, Error::UnknownColumn { .. }),
                "{label}: {hidden}: {err}"
            );
            let through_derived =
                Select::from_subquery(Select::from("properties").all(), "p").column_of("p", hidden);
            let err = refused(read(&db.pool, through_derived).await);
            assert!(
                matches!(err, Error::UnknownColumn { .. }),
                "{label}: {hidden}: {err}"
            );
        }
        // The outputs of a derived table stay readable by name.
        let rows = read(
            &db.pool,
            Select::from_subquery(Select::from("leases").all(), "l")
                .column_of("l", "lessee")
                .column("rent_cents")
                .order_by(col("l", "id"), Order::Asc),
        )
        .await
        .unwrap();
        assert_eq!(texts(&rows)[0], "lessee-1-t1", "{label}");
    });
}

/// Prepares `stmt` on a thread with tokio's default worker stack (2 MiB).
fn prepare_on_a_small_stack(stmt: Select) -> Result<tenancy_sql::Prepared, Error> {
    use tenancy_sql::Statement;
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let schema = common::schema();
            let out = stmt.prepare(&schema, tenancy_sql::Backend::Postgres, &ctx(A));
            drop(stmt);
            out
        })
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn a_deep_expression_is_refused_instead_of_overflowing_the_stack() {
    let mut chain = col("leases", "id").eq(0);
    for i in 1..500 {
        chain = chain.or(col("leases", "id").eq(i));
    }
    let err = refused(prepare_on_a_small_stack(
        Select::from("leases").column("id").filter(chain),
    ));
    assert!(matches!(err, Error::TooDeep), "{err}");

    let mut nested = Select::from("leases").column("id");
    for _ in 0..20 {
        nested = Select::from_subquery(nested, "n").column("id");
    }
    let err = refused(prepare_on_a_small_stack(nested));
    assert!(matches!(err, Error::TooDeep), "{err}");

    // Up to the bound, the deepest statements still prepare on the same
    // small stack (an overflow would abort this test): ORs chained ever
    // deeper inside selects nested in selects, until the bound refuses.
    for levels in [0, 2, 4, 6] {
        let mut accepted = 0;
        for n in 1.. {
            let mut chain = col("leases", "id").eq(0);
            for i in 1..n {
                chain = chain.or(col("leases", "id").eq(i));
            }
            let mut q = Select::from("leases").column("id").filter(chain);
            for _ in 0..levels {
                q = Select::from("leases")
                    .column("id")
                    .filter(col("leases", "id").in_subquery(q));
            }
            match prepare_on_a_small_stack(q) {
                Ok(_) => accepted = n,
                Err(Error::TooDeep) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(accepted >= 1, "{levels} levels: nothing accepted");
    }

    // `any` and `all` build balanced trees: ten thousand terms stay shallow.
    let wide = tenancy_sql::any((0..10_000).map(|i| col("leases", "id").eq(i)));
    assert!(prepare_on_a_small_stack(Select::from("leases").column("id").filter(wide)).is_ok());
}

#[tokio::test]
async fn a_long_any_list_reads_only_the_tenants_rows() {
    attack_on_every_backend!(|label, db| {
        let rows = read(
            &db.pool,
            Select::from("leases")
                .column("lessee")
                .filter(tenancy_sql::any(
                    (0..300).map(|i| col("leases", "id").eq(i)),
                )),
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), 2, "{label}");
        assert_no_foreign_marker(&label, &texts(&rows));
    });
}

#[tokio::test]
async fn returning_from_an_upsert_on_mysql_is_refused_not_dropped() {
    attack_on_every_backend!(|label, db| {
        let outcome = write(
            &db.pool,
            Insert::into("properties")
                .columns(["id", "name", "address"])
                .exprs([val(80), val("p80"), val("x")])
                .on_conflict_do_nothing(["id"])
                .returning(["id", "name"]),
        )
        .await;
        if db.backend == tenancy_sql::Backend::MySql {
            assert!(
                matches!(outcome, Err(Error::Unsupported(_))),
                "{label}: {outcome:?}"
            );
        } else {
            assert!(outcome.is_ok(), "{label}: {outcome:?}");
        }
    });
}

#[tokio::test]
async fn an_upsert_with_a_select_source_is_refused_where_the_server_cannot_run_it() {
    attack_on_every_backend!(|label, db| {
        // The second shape that crashed MariaDB 10.11: INSERT … SELECT with
        // a UNION and the "do nothing" upsert.
        let outcome = write(
            &db.pool,
            Insert::into("payments")
                .columns(["id", "lease_id", "amount_cents"])
                .select_from(
                    Select::from_as("leases", "s1")
                        .expr(val(90))
                        .column_of("s1", "id")
                        .expr(val(1))
                        .left_join_as(
                            "properties",
                            "s3",
                            col("s3", "id").eq(col("s1", "property_id")),
                        )
                        .union(
                            Select::from("properties")
                                .expr(val(91))
                                .expr(val(1))
                                .expr(val(1)),
                        ),
                )
                .on_conflict_do_nothing(["id"]),
        )
        .await;
        // On PostgreSQL it runs (B and C are checked by the macro).
        if db.backend != tenancy_sql::Backend::Postgres {
            assert!(
                matches!(outcome, Err(Error::Unsupported(_))),
                "{label}: {outcome:?}"
            );
        }
    });
}

#[tokio::test]
async fn the_same_statement_text_runs_with_any_integer_width() {
    attack_on_every_backend!(|label, db| {
        // The driver caches a statement per text with its first parameter
        // types; the runtime binds every integer as 64 bits so an i32 run
        // and an i64 run of one text agree (one transaction: one connection).
        let mut tx = db.pool.begin(&ctx(A)).await.unwrap();
        for (id, wide) in [(100_i64, false), (101, true)] {
            let row: Vec<Value> = if wide {
                vec![Value::from(id), Value::from(1_i64), Value::from(5_i64)]
            } else {
                vec![
                    Value::from(id as i32),
                    Value::from(1_i32),
                    Value::from(5_i32),
                ]
            };
            tx.execute(
                Insert::into("payments")
                    .columns(["id", "lease_id", "amount_cents"])
                    .values(row),
            )
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        }
        tx.commit().await.unwrap();
    });
}
