//! The leak-test kit (`tenancy_sql::testing::LeakCheck`) against planted
//! leaks: code that goes around the SDK through a pool of its own (built
//! from the database URL), reading, writing, copying another tenant's rows
//! or answering a foreign id differently from a missing one. Each must be
//! caught and named; code that uses only scoped statements must pass, on
//! every backend configured here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;
mod kit;

use kit::{kinds, on_every_backend, own_pool, q, rt};
use tenancy_sql::testing::{Case, LeakCheck, LeakKind, Probe};
use tenancy_sql::{Backend, Insert, Order, Select, TenantTx, Update, col, val};

/// The kit on SQLite and on every server configured here, with the test
/// schema's own migration.
fn every_backend() -> Vec<LeakCheck> {
    on_every_backend(&common::schema())
        .into_iter()
        .map(|c| {
            let schema = common::schema();
            c.migration(move |b| common::migration(&schema, b))
                .fuzz_cases(60)
        })
        .collect()
}

/// Data-access code written only with the SDK: a lease with its property's
/// name, a rent change and a lease pointing at a given property.
async fn scoped_code(probe: &Probe<'_>, tx: &mut TenantTx) -> Vec<String> {
    let lease = probe.id("leases").as_i64().unwrap();
    let property = probe.id("properties").as_i64().unwrap();
    let mut out = Vec::new();
    let rows = tx
        .fetch_all(
            Select::from("leases")
                .column_of("leases", "lessee")
                .column_of("properties", "name")
                .inner_join(
                    "properties",
                    col("properties", "id").eq(col("leases", "property_id")),
                )
                .filter(col("leases", "id").eq(val(lease)))
                .order_by(col("leases", "id"), Order::Asc),
        )
        .await;
    match rows {
        Ok(rows) => out.extend(rows.iter().map(|r| {
            format!(
                "{} at {}",
                r.try_get::<String, _>("lessee").unwrap(),
                r.try_get::<String, _>("name").unwrap()
            )
        })),
        Err(e) => out.push(e.to_string()),
    }
    let changed = tx
        .execute(
            Update::table("leases")
                .set("rent_cents", 1)
                .filter(col("leases", "id").eq(val(lease))),
        )
        .await;
    out.push(format!("{changed:?}"));
    let own = probe.own_id("leases", 1).as_i64().unwrap() + 1_000;
    let created = tx
        .execute(
            Insert::into("leases")
                .columns(["id", "property_id", "lessee", "rent_cents"])
                .exprs([val(own), val(property), val("new"), val(1)]),
        )
        .await;
    out.push(format!("{created:?}"));
    out
}

#[test]
fn code_that_uses_only_scoped_statements_passes_on_every_backend() {
    let rt = rt();
    for check in every_backend() {
        let report = rt.block_on(check.run(scoped_code));
        println!("{report}");
        assert!(report.is_clean(), "{report}");
        // Three tenants, four cases each and their foreign-vs-missing
        // comparison, then every fuzz case.
        assert_eq!(report.attempts().len(), 3 * (4 + 1) + 60, "{report}");
    }
}

#[test]
fn the_generated_migration_serves_a_schema_without_one() {
    let schema = tenancy_sql::Schema::builder()
        .global("plans")
        .columns(["name"])
        .tenant("notes")
        .columns(["body"])
        .tenant("comments")
        .references("note_id", "notes")
        .columns(["text"])
        .build()
        .unwrap();
    let report = rt().block_on(LeakCheck::new(&schema).tenants(4).rows(3).run(
        async |probe, tx| {
            let id = probe.id("notes").as_i64().unwrap();
            tx.fetch_all(
                Select::from("comments")
                    .all()
                    .filter(col("comments", "note_id").eq(val(id))),
            )
            .await
            .map(|rows| rows.len())
        },
    ));
    assert!(report.is_clean(), "{report}");
    assert!(report.to_string().contains("4 tenants"), "{report}");
}

fn planted_backends() -> Vec<LeakCheck> {
    every_backend()
        .into_iter()
        .map(|c| c.fuzz_cases(0))
        .collect()
}

#[test]
fn a_read_through_a_pool_built_from_the_url_is_caught() {
    let rt = rt();
    for check in planted_backends() {
        let report = rt
            .block_on(check.try_run(async |probe, _tx| {
                let pool = own_pool(probe).await;
                let sql = format!("SELECT name FROM properties WHERE id = {}", q(probe, 1));
                let name: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(probe.id("properties").as_i64().unwrap())
                    .fetch_optional(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                name
            }))
            .unwrap();
        assert_eq!(
            kinds(&report),
            [LeakKind::Read, LeakKind::Distinguishable],
            "{report}"
        );
        let read = report
            .leaks()
            .iter()
            .find(|l| l.kind == LeakKind::Read)
            .unwrap();
        assert!(read.attempt.contains("foreign ids"), "{read}");
        // The evidence names the foreign marker it saw.
        assert!(read.detail.contains("lk"), "{read}");
        assert!(report.to_string().contains("LEAK"), "{report}");
    }
}

#[test]
fn a_write_to_another_tenants_row_is_caught() {
    let rt = rt();
    for check in planted_backends() {
        let report = rt
            .block_on(check.try_run(async |probe, _tx| {
                let pool = own_pool(probe).await;
                let sql = format!(
                    "UPDATE leases SET lessee = 'mine' WHERE id = {}",
                    q(probe, 1)
                );
                let done = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(probe.id("leases").as_i64().unwrap())
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                // The same answer in every case: only the write gives it away.
                let _ = done;
            }))
            .unwrap();
        assert_eq!(kinds(&report), [LeakKind::Written], "{report}");
        // Caught with foreign ids, and with shared ids (every tenant's row
        // with that id changes); never with the tenant's own.
        for case in ["foreign ids", "shared ids"] {
            let leak = report
                .leaks()
                .iter()
                .find(|l| l.attempt.contains(case))
                .unwrap();
            assert!(leak.detail.contains("lessee=mine"), "{leak}");
        }
        assert!(
            report
                .leaks()
                .iter()
                .all(|l| !l.attempt.contains("own ids")),
            "{report}"
        );
    }
}

#[test]
fn a_row_copied_from_another_tenant_is_caught() {
    let rt = rt();
    for check in planted_backends() {
        let report = rt
            .block_on(check.try_run(async |probe, tx| {
                let pool = own_pool(probe).await;
                let (p, second) = (q(probe, 1), q(probe, 2));
                let sql = format!(
                    "INSERT INTO properties (tenant_id, id, name, address) \
                     SELECT {p}, id + 7, address, address FROM properties WHERE id = {second}"
                );
                // With a shared id every tenant's row is copied, and the copies
                // collide: that case fails and changes nothing.
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(tx.tenant().to_string())
                    .bind(probe.id("properties").as_i64().unwrap())
                    .execute(&pool)
                    .await;
                pool.close().await;
            }))
            .unwrap();
        // The own case copies its own row: only the foreign case leaks, and
        // the copy tells the foreign id from a missing one.
        assert_eq!(
            kinds(&report),
            [LeakKind::Moved, LeakKind::Distinguishable],
            "{report}"
        );
        assert!(
            report.leaks().iter().all(|l| l.attempt.contains("foreign")),
            "{report}"
        );
    }
}

#[test]
fn an_answer_that_tells_a_foreign_id_from_a_missing_one_is_caught() {
    let rt = rt();
    for check in planted_backends() {
        let report = rt
            .block_on(check.try_run(async |probe, tx| {
                let id = probe.id("properties").as_i64().unwrap();
                let mine = tx
                    .fetch_optional(
                        Select::from("properties")
                            .column("name")
                            .filter(col("properties", "id").eq(val(id))),
                    )
                    .await
                    .unwrap();
                if mine.is_some() {
                    return Ok("found");
                }
                // Asks around the SDK whether the row exists at all.
                let pool = own_pool(probe).await;
                let sql = format!("SELECT COUNT(*) FROM properties WHERE id = {}", q(probe, 1));
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(id)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                Err(if n > 0 { "forbidden" } else { "not found" })
            }))
            .unwrap();
        assert_eq!(kinds(&report), [LeakKind::Distinguishable], "{report}");
        let leak = &report.leaks()[0];
        assert!(
            leak.detail.contains("forbidden") && leak.detail.contains("not found"),
            "{leak}"
        );
    }
}

#[test]
fn each_case_gets_its_own_kind_of_id() {
    let seen = std::sync::Mutex::new(Vec::new());
    let schema = common::schema();
    let report = rt().block_on(
        LeakCheck::new(&schema)
            .migration(move |b| common::migration(&schema, b))
            .tenants(2)
            .fuzz_cases(0)
            .run(async |probe, tx| {
                let id = probe.id("leases").as_i64().unwrap();
                let found = tx
                    .fetch_optional(
                        Select::from("leases")
                            .column("id")
                            .filter(col("leases", "id").eq(val(id))),
                    )
                    .await
                    .unwrap()
                    .is_some();
                seen.lock().unwrap().push((
                    probe.case(),
                    found,
                    id == probe.own_id("leases", 0).as_i64().unwrap(),
                ));
            }),
    );
    assert!(report.is_clean(), "{report}");
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 8);
    for (case, found, own) in seen {
        // A shared id finds the tenant's own row (the first one, not `own_id`'s).
        let expected = (matches!(case, Case::Own | Case::Shared), case == Case::Own);
        assert_eq!((found, own), expected, "{case}");
    }
}

#[test]
fn the_fuzzer_tries_every_shape_over_the_users_schema() {
    let schema = common::schema();
    let report = rt().block_on(
        LeakCheck::new(&schema)
            .migration(move |b| common::migration(&schema, b))
            .fuzz_cases(300)
            .run(async |_, _| ()),
    );
    let table = report.to_string();
    for shape in [
        "select with a hostile filter",
        "join along a reference",
        "cross join",
        "exists over another table",
        "in a subquery",
        "count over a widened filter",
        "a cte over the table",
        "a set operation",
        "update with a hostile filter",
        "delete with a hostile filter",
        "insert pointing at another tenant's row",
        "update pointing at another tenant's row",
        "insert … select copying rows",
        "a scalar subquery",
        "a derived table",
    ] {
        assert!(table.contains(shape), "{shape} never ran:\n{table}");
    }
    // Most cases run: a generator whose statements are all refused proves nothing.
    let ok = report
        .attempts()
        .iter()
        .filter(|a| a.outcome == "ok")
        .count();
    assert!(ok * 2 > report.attempts().len(), "{table}");
    assert_eq!(report.backend(), Backend::Sqlite);
}

#[test]
fn a_migration_that_fails_is_a_typed_set_up_error() {
    let rt = rt();
    for check in every_backend() {
        let result = rt.block_on(
            check
                .migration(|_| vec!["CREATE TABLE broken (".to_owned()])
                .try_run(async |_, _| ()),
        );
        match result {
            Err(tenancy_sql::Error::Scratch { table, .. }) => assert_eq!(table, "migration"),
            other => panic!("expected a scratch error, got {other:?}"),
        }
    }
}
