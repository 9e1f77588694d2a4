//! `LeakCheck` against the leaks and schemas an adversarial review found it
//! missed or choked on: code mixing the SDK's transaction with a
//! connection of its own, a join that loses its tenant predicate only for
//! ids other tenants share, existence told through the tenant's own rows,
//! writes to system tables, tenant rows pointing at global rows, text and
//! enum columns on MySQL, and PostgreSQL's richer types.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;
mod kit;

use kit::{kinds, on_every_backend, own_pool, q, rt, text};
use tenancy_sql::sea_query::{Alias, ColumnDef, ExprTrait};
use tenancy_sql::testing::{LeakCheck, LeakKind};
use tenancy_sql::{Backend, Schema, Select, col, ddl::Ddl, val};

fn schema() -> Schema {
    Schema::builder()
        .system("tenants")
        .columns(["slug"])
        .global("plans")
        .columns(["name"])
        .tenant("notes")
        .references("plan_id", "plans")
        .columns(["body"])
        .tenant("comments")
        .references("note_id", "notes")
        .columns(["text"])
        .tenant("audit")
        .columns(["action"])
        .build()
        .unwrap()
}

/// The check of [`schema`] with the kit's own migration, on SQLite and on
/// every server configured here.
fn every_backend() -> Vec<LeakCheck> {
    on_every_backend(&schema())
        .into_iter()
        .map(|c| c.fuzz_cases(0))
        .collect()
}

#[test]
fn the_generated_migration_seeds_text_and_global_references_on_every_backend() {
    let rt = rt();
    for check in every_backend() {
        let report = rt
            .block_on(check.fuzz_cases(60).try_run(async |probe, tx| {
                let id = probe.id("notes").as_i64().unwrap();
                tx.fetch_all(
                    Select::from("comments")
                        .all()
                        .filter(col("comments", "note_id").eq(val(id))),
                )
                .await
                .map(|rows| rows.len())
            }))
            .unwrap();
        assert!(report.is_clean(), "{report}");
    }
}

#[test]
fn code_mixing_the_transaction_and_its_own_connection_finishes_and_is_caught() {
    let rt = rt();
    for check in every_backend() {
        let report = rt
            .block_on(check.try_run(async |probe, tx| {
                let id = probe.id("notes").as_i64().unwrap();
                let seen = tx
                    .fetch_optional(
                        Select::from("notes")
                            .column("body")
                            .filter(col("notes", "id").eq(val(id))),
                    )
                    .await
                    .unwrap()
                    .is_some();
                let pool = own_pool(probe).await;
                let sql = format!("UPDATE notes SET body = 'mine' WHERE id = {}", q(probe, 1));
                sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(id)
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                seen
            }))
            .unwrap();
        // The write reaches every tenant's row with a shared id, and the foreign one.
        assert_eq!(kinds(&report), [LeakKind::Written], "{report}");
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
fn a_join_that_loses_its_tenant_predicate_is_caught_through_a_shared_id() {
    let rt = rt();
    for check in every_backend() {
        let report = rt
            .block_on(check.try_run(async |probe, tx| {
                let pool = own_pool(probe).await;
                let sql = format!(
                    "SELECT c.text FROM notes n JOIN comments c ON c.note_id = n.id \
                     WHERE n.tenant_id = {} AND n.id = {}",
                    q(probe, 1),
                    q(probe, 2)
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(tx.tenant().to_string())
                    .bind(probe.id("notes").as_i64().unwrap())
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                rows.iter().map(text).collect::<Vec<_>>()
            }))
            .unwrap();
        assert_eq!(kinds(&report), [LeakKind::Read], "{report}");
        assert!(
            report
                .leaks()
                .iter()
                .all(|l| l.attempt.contains("shared ids")),
            "{report}"
        );
    }
}

#[test]
fn existence_told_through_the_tenants_own_rows_is_caught() {
    let rt = rt();
    for check in every_backend() {
        let report = rt
            .block_on(check.try_run(async |probe, tx| {
                let id = probe.id("notes").as_i64().unwrap();
                let pool = own_pool(probe).await;
                let sql = format!("SELECT COUNT(*) FROM notes WHERE id = {}", q(probe, 1));
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(id)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                // The answer is the same; the audit row is not.
                let action = if n > 0 { "denied" } else { "not-found" };
                tx.execute(
                    tenancy_sql::Insert::into("audit")
                        .columns(["id", "action"])
                        .exprs([val(id % 1_000_000 + 7), val(action)]),
                )
                .await
                .map(|_| ())
            }))
            .unwrap();
        assert_eq!(kinds(&report), [LeakKind::Distinguishable], "{report}");
        assert!(
            report.leaks().iter().any(|l| l.detail.contains("own rows")),
            "{report}"
        );
    }
}

#[test]
fn a_write_to_a_system_table_is_caught() {
    let rt = rt();
    for check in every_backend() {
        let report = rt
            .block_on(check.try_run(async |probe, _tx| {
                let pool = own_pool(probe).await;
                static NEXT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1);
                let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let sql = format!(
                    "INSERT INTO tenants (id, slug) VALUES ({}, 'x')",
                    q(probe, 1)
                );
                sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(id)
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
            }))
            .unwrap();
        assert_eq!(kinds(&report), [LeakKind::Written], "{report}");
        assert!(
            report.leaks()[0].detail.contains("the system tables"),
            "{report}"
        );
    }
}

#[test]
fn lookups_by_another_column_get_the_cases_value() {
    let rt = rt();
    for check in every_backend() {
        let report = rt
            .block_on(check.try_run(async |probe, tx| {
                let body = probe.value("notes", "body");
                tx.fetch_optional(
                    Select::from("notes")
                        .column("id")
                        .filter(col("notes", "body").eq(val(body.as_str()))),
                )
                .await
                .unwrap()
                .is_some()
            }))
            .unwrap();
        assert!(report.is_clean(), "{report}");
    }
    // And a lookup that ignores the tenant is caught through it.
    let report = rt
        .block_on(
            LeakCheck::new(&schema())
                .fuzz_cases(0)
                .try_run(async |probe, _tx| {
                    let pool = own_pool(probe).await;
                    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM notes WHERE body = ?")
                        .bind(probe.value("notes", "body"))
                        .fetch_optional(&pool)
                        .await
                        .unwrap();
                    pool.close().await;
                    id
                }),
        )
        .unwrap();
    assert!(kinds(&report).contains(&LeakKind::Read), "{report}");
}

/// PostgreSQL types beyond text and integers, an enum, a date check, an
/// identity id and a table without an id.
fn rich_migration(backend: Backend) -> Vec<String> {
    let s = rich_schema();
    let d = Ddl::new(&s, backend);
    let mut out = vec!["CREATE TYPE lease_state AS ENUM ('active', 'ended')".to_owned()];
    out.extend(
        d.create_table("leases", |t| {
            t.col(ColumnDef::new("id").uuid().not_null())
                .col(
                    ColumnDef::new("state")
                        .custom(Alias::new("lease_state"))
                        .not_null(),
                )
                .col(ColumnDef::new("starts").date().not_null())
                .col(ColumnDef::new("ends").date().not_null())
                .col(ColumnDef::new("meta").json_binary().not_null())
                .col(ColumnDef::new("rent").decimal_len(12, 2).not_null())
                .col(ColumnDef::new("at").timestamp_with_time_zone().not_null())
                .col(ColumnDef::new("term").custom(Alias::new("interval")))
                .col(ColumnDef::new("tags").custom(Alias::new("text[]")))
                .col(ColumnDef::new("ip").custom(Alias::new("inet")))
                .check(
                    tenancy_sql::sea_query::Expr::col(Alias::new("ends"))
                        .gt(tenancy_sql::sea_query::Expr::col(Alias::new("starts"))),
                );
        })
        .unwrap(),
    );
    out.extend(
        d.create_table("events", |t| {
            t.col(
                ColumnDef::new("id")
                    .big_integer()
                    .not_null()
                    .extra("GENERATED ALWAYS AS IDENTITY"),
            )
            .col(ColumnDef::new("what").text().not_null());
        })
        .unwrap(),
    );
    out.extend(
        d.create_table("settings", |t| {
            t.col(ColumnDef::new("theme").text().not_null());
        })
        .unwrap(),
    );
    out
}

fn rich_schema() -> Schema {
    Schema::builder()
        .tenant("leases")
        .columns([
            "state", "starts", "ends", "meta", "rent", "at", "term", "tags", "ip",
        ])
        .tenant("events")
        .columns(["what"])
        .tenant("settings")
        .id([])
        .columns(["theme"])
        .build()
        .unwrap()
}

#[test]
fn postgres_types_enums_checks_identities_and_id_less_tables_are_seeded() {
    let Some(url) = common::service_url("TENANCY_TEST_POSTGRES_URL") else {
        return;
    };
    let report = rt().block_on(
        LeakCheck::new(&rich_schema())
            .database(&url)
            .migration(rich_migration)
            .fuzz_cases(40)
            .try_run(async |probe, tx| {
                let id = probe.id("events").as_i64().unwrap();
                tx.fetch_optional(
                    Select::from("events")
                        .column("what")
                        .filter(col("events", "id").eq(val(id))),
                )
                .await
                .map(|row| row.is_some())
            }),
    );
    let report = report.unwrap();
    assert!(report.is_clean(), "{report}");
}

#[test]
fn mysql_enum_and_text_columns_are_seeded() {
    let Some(url) = common::service_url("TENANCY_TEST_MYSQL_URL") else {
        return;
    };
    let schema = Schema::builder()
        .tenant("notes")
        .columns(["state", "body"])
        .build()
        .unwrap();
    let migration = move |b| {
        let s = Schema::builder()
            .tenant("notes")
            .columns(["state", "body"])
            .build()
            .unwrap();
        Ddl::new(&s, b)
            .create_table("notes", |t| {
                t.col(ColumnDef::new("id").big_integer().not_null())
                    .col(
                        ColumnDef::new("state")
                            .custom(Alias::new("ENUM('active','ended')"))
                            .not_null(),
                    )
                    .col(ColumnDef::new("body").text().not_null());
            })
            .unwrap()
    };
    let report = rt()
        .block_on(
            LeakCheck::new(&schema)
                .database(&url)
                .migration(migration)
                .fuzz_cases(40)
                .try_run(async |_, _| ()),
        )
        .unwrap();
    assert!(report.is_clean(), "{report}");
}
