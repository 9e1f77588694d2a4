//! The independent oracle (`tests/oracle`), checked both ways: it refuses
//! hand-written SQL that leaks (an OR around the predicate, a subquery
//! without one, a predicate inside a nested OR, a literal or foreign tenant,
//! a write of the tenant column, …), and it accepts what the crate renders,
//! on every backend, for the first-wall attacks and a broad set of
//! statements.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions"
)]

mod common;
mod oracle;

use oracle::Oracle;
use tenancy_core::TenantId;
use tenancy_sql::sea_query::Value;
use tenancy_sql::{
    Backend, Delete, Error, Function, Insert, Order, Schema, Select, SqlType, Statement, Update,
    all, any, call, case, col, column, count_all, current_timestamp, scalar, val,
};

const BACKENDS: [Backend; 3] = [Backend::Postgres, Backend::MySql, Backend::Sqlite];

fn tenant() -> String {
    TenantId::from_u128(common::A).to_string()
}

fn foreign() -> String {
    TenantId::from_u128(common::B).to_string()
}

/// Hand-written SQL for `backend` with `values` bound in order: the oracle
/// accepts it (`Ok`) or refuses it with a message containing `expected`.
fn check_sql(backend: Backend, sql: &str, values: &[Value], expected: Result<usize, &str>) {
    let oracle = Oracle::new(&common::schema());
    let outcome = oracle.check_sql(backend, sql, values, &tenant());
    match (outcome, expected) {
        (Ok(v), Ok(n)) => assert_eq!(v.tenant_references, n, "{backend}: {sql}"),
        (Err(v), Err(msg)) => assert!(v.0.contains(msg), "{backend}: {sql}: {v}"),
        (outcome, expected) => panic!("{backend}: {sql}: {outcome:?}, expected {expected:?}"),
    }
}

fn t() -> Value {
    tenant().into()
}

fn pg(sql: &str, values: &[Value], expected: Result<usize, &str>) {
    check_sql(Backend::Postgres, sql, values, expected);
}

#[test]
fn accepts_a_predicate_at_the_top_of_the_where_conjunction() {
    pg(
        r#"SELECT "l"."lessee" FROM "leases" AS "l" WHERE "l"."tenant_id" = $1 AND ("l"."id" = $2 OR "l"."id" = $3)"#,
        &[t(), 1.into(), 2.into()],
        Ok(1),
    );
    pg(
        "SELECT lessee FROM leases WHERE ((leases.id = $2) AND (leases.tenant_id = $1))",
        &[t(), 1.into()],
        Ok(1),
    );
}

#[test]
fn refuses_a_predicate_ored_with_anything() {
    pg(
        "SELECT lessee FROM leases AS t WHERE t.tenant_id = $1 OR 1=1",
        &[t()],
        Err("not confined"),
    );
}

#[test]
fn refuses_a_predicate_inside_a_nested_or() {
    pg(
        "SELECT lessee FROM leases WHERE (leases.tenant_id = $1 OR leases.id = $2) AND leases.id = $3",
        &[t(), 1.into(), 2.into()],
        Err("not confined"),
    );
    pg(
        "SELECT lessee FROM leases WHERE NOT (NOT (leases.tenant_id = $1))",
        &[t()],
        Err("not confined"),
    );
}

#[test]
fn refuses_a_subquery_without_its_own_predicate() {
    pg(
        "SELECT id FROM leases WHERE leases.tenant_id = $1 AND EXISTS (SELECT 1 FROM payments WHERE payments.lease_id = leases.id)",
        &[t()],
        Err("`payments` is not confined"),
    );
    // The outer table's predicate does not confine the inner one.
    pg(
        "SELECT (SELECT max(p.amount_cents) FROM payments AS p WHERE leases.tenant_id = $1) FROM leases WHERE leases.tenant_id = $2",
        &[t(), t()],
        Err("`p` is not confined"),
    );
    pg(
        "SELECT x.lessee FROM (SELECT lessee FROM leases) AS x",
        &[],
        Err("`leases` is not confined"),
    );
}

#[test]
fn refuses_a_tenant_bound_as_a_literal_or_as_another_tenant() {
    pg(
        &format!(
            "SELECT lessee FROM leases WHERE leases.tenant_id = '{}'",
            tenant()
        ),
        &[],
        Err("not confined"),
    );
    pg(
        "SELECT lessee FROM leases WHERE leases.tenant_id = $1",
        &[foreign().into()],
        Err("not the tenant"),
    );
    pg(
        "SELECT lessee FROM leases WHERE leases.tenant_id = leases.lessee",
        &[],
        Err("not confined"),
    );
}

#[test]
fn refuses_joins_that_the_on_clause_does_not_confine() {
    pg(
        "SELECT 1 FROM leases JOIN properties ON properties.id = leases.property_id WHERE leases.tenant_id = $1 AND properties.tenant_id = $1",
        &[t()],
        Err("joined `properties` is not confined"),
    );
    pg(
        "SELECT 1 FROM leases LEFT JOIN properties ON properties.tenant_id = $1 OR properties.id = leases.property_id WHERE leases.tenant_id = $1",
        &[t()],
        Err("joined `properties` is not confined"),
    );
    pg(
        "SELECT 1 FROM leases RIGHT JOIN properties ON properties.tenant_id = $1 WHERE leases.tenant_id = $1",
        &[t()],
        Err("without an ON clause"),
    );
    pg(
        "SELECT 1 FROM leases CROSS JOIN properties WHERE leases.tenant_id = $1 AND properties.tenant_id = $1",
        &[t()],
        Err("without an ON clause"),
    );
    pg(
        "SELECT 1 FROM leases JOIN properties ON properties.tenant_id = $1 WHERE leases.tenant_id = $1",
        &[t()],
        Ok(2),
    );
}

#[test]
fn refuses_a_name_that_binds_two_sources() {
    pg(
        "SELECT 1 FROM leases AS properties JOIN properties ON properties.tenant_id = $1 WHERE properties.tenant_id = $1",
        &[t()],
        Err("names two sources"),
    );
}

#[test]
fn refuses_an_unconfined_cte_body_or_set_operation_arm() {
    pg(
        "WITH x AS (SELECT lessee FROM leases) SELECT lessee FROM x",
        &[],
        Err("`leases` is not confined"),
    );
    pg(
        "WITH leases AS (SELECT 1) SELECT 1 FROM leases WHERE leases.tenant_id = $1",
        &[t()],
        Err("shadows a tenant table"),
    );
    pg(
        "SELECT lessee FROM leases WHERE leases.tenant_id = $1 UNION SELECT name FROM properties",
        &[t()],
        Err("`properties` is not confined"),
    );
    pg(
        "SELECT lessee FROM leases WHERE leases.tenant_id = $1 EXCEPT (SELECT name FROM properties WHERE properties.tenant_id = $1)",
        &[t()],
        Ok(2),
    );
}

#[test]
fn refuses_unconfined_updates_and_deletes() {
    pg(
        "UPDATE leases SET lessee = $1 WHERE leases.id = $2",
        &["x".into(), 1.into()],
        Err("UPDATE of `leases` is not confined"),
    );
    pg(
        "UPDATE leases SET tenant_id = $2 WHERE leases.tenant_id = $1",
        &[t(), foreign().into()],
        Err("sets the tenant column"),
    );
    pg(
        "DELETE FROM payments WHERE payments.tenant_id = $1 OR payments.id = $2",
        &[t(), 1.into()],
        Err("DELETE from `payments` is not confined"),
    );
    pg(
        "DELETE FROM payments WHERE payments.tenant_id = $1 AND payments.id IN (SELECT id FROM leases)",
        &[t()],
        Err("`leases` is not confined"),
    );
}

#[test]
fn refuses_inserts_without_the_tenant_stamp() {
    pg(
        "INSERT INTO properties (id, name) VALUES ($1, $2)",
        &[1.into(), "x".into()],
        Err("lists the tenant column 0 times"),
    );
    pg(
        "INSERT INTO properties (id, tenant_id, TENANT_ID) VALUES ($1, $2, $2)",
        &[1.into(), t()],
        Err("lists the tenant column 2 times"),
    );
    pg(
        "INSERT INTO properties (id, tenant_id) VALUES ($1, $2), ($1, $3)",
        &[1.into(), t(), foreign().into()],
        Err("not the tenant"),
    );
    pg(
        &format!(
            "INSERT INTO properties (id, tenant_id) VALUES ($1, '{}')",
            tenant()
        ),
        &[1.into()],
        Err("not the tenant"),
    );
    pg(
        "INSERT INTO leases (id, tenant_id) SELECT leases.id, leases.tenant_id FROM leases WHERE leases.tenant_id = $1",
        &[t()],
        Err("not the tenant"),
    );
    pg(
        "INSERT INTO leases (id, tenant_id) SELECT id, $1 FROM leases WHERE leases.tenant_id = $1 UNION SELECT id, $1 FROM leases",
        &[t()],
        Err("`leases` is not confined"),
    );
    pg(
        "INSERT INTO leases (id, tenant_id) SELECT id, $1 FROM leases WHERE leases.tenant_id = $1",
        &[t()],
        Ok(2),
    );
}

#[test]
fn refuses_upserts_that_can_reach_another_tenants_row() {
    pg(
        "INSERT INTO properties (id, tenant_id) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        &[1.into(), t()],
        Err("conflict target omits the tenant column"),
    );
    pg(
        "INSERT INTO properties (id, tenant_id) VALUES ($1, $2) ON CONFLICT (tenant_id, id) DO UPDATE SET tenant_id = excluded.tenant_id",
        &[1.into(), t()],
        Err("sets the tenant column"),
    );
    check_sql(
        Backend::MySql,
        "INSERT INTO `properties` (`id`, `tenant_id`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)",
        &[1.into(), t()],
        Err("not guarded"),
    );
    check_sql(
        Backend::MySql,
        "INSERT INTO `properties` (`id`, `tenant_id`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `name` = CASE WHEN `tenant_id` = ? THEN VALUES(`name`) ELSE `name` END",
        &[1.into(), t(), t()],
        Ok(1),
    );
}

#[test]
fn refuses_system_columns_that_count_every_tenants_rows() {
    pg(
        "SELECT max(d.n) FROM (SELECT leases.ctid AS n FROM leases WHERE leases.tenant_id = $1) AS d",
        &[t()],
        Err("system column"),
    );
    check_sql(
        Backend::Sqlite,
        r#"SELECT max("rowid") FROM "leases" WHERE "leases"."tenant_id" = ?"#,
        &[t()],
        Err("system column"),
    );
}

#[test]
fn positional_placeholders_map_to_their_own_values() {
    let sql = "SELECT `lessee` FROM `leases` WHERE `leases`.`id` = ? AND `leases`.`tenant_id` = ?";
    check_sql(Backend::MySql, sql, &[1.into(), t()], Ok(1));
    check_sql(Backend::MySql, sql, &[t(), 1.into()], Err("not the tenant"));
    let sql =
        r#"SELECT "lessee" FROM "leases" WHERE "leases"."id" = ? AND "leases"."tenant_id" = ?"#;
    check_sql(Backend::Sqlite, sql, &[1.into(), t()], Ok(1));
    check_sql(
        Backend::Sqlite,
        sql,
        &[t(), 1.into()],
        Err("not the tenant"),
    );
}

#[test]
fn refuses_what_it_does_not_understand() {
    pg(
        "SELECT 1; SELECT lessee FROM leases",
        &[],
        Err("2 statements"),
    );
    pg(
        "SELECT pg_read_file('/etc/passwd')",
        &[],
        Err("not allowlisted"),
    );
    pg(
        "SELECT query_to_xml('select * from leases', true, true, '')",
        &[],
        Err("not allowlisted"),
    );
    pg(
        "SELECT 1 FROM (leases JOIN properties ON properties.tenant_id = $1) WHERE leases.tenant_id = $1",
        &[t()],
        Err("unexpected table factor"),
    );
    pg("TABLE leases", &[], Err("does not parse"));
    pg(
        "SET tenancy.tenant_id = 'x'",
        &[],
        Err("not a scoped statement"),
    );
    pg(
        "SELECT lessee FROM leases WHERE leases.tenant_id = $1 --",
        &[t()],
        Ok(1),
    );
}

// The crate's own output: accepted on every backend.

fn a() -> tenancy_core::TenantContext {
    common::ctx(common::A)
}

/// Prepares `stmt` on every backend under tenant A and checks it with the
/// oracle; returns how many tenant references it confined on each.
fn accepted(schema: &Schema, stmt: &dyn Statement) -> Vec<usize> {
    let oracle = Oracle::new(schema);
    BACKENDS
        .into_iter()
        .map(|b| {
            let p = stmt.prepare(schema, b, &a()).unwrap();
            match oracle.check(&p) {
                Ok(v) => v.tenant_references,
                Err(v) => panic!(
                    "{b}: the oracle refused the crate's own output: {v}\n{}",
                    p.sql()
                ),
            }
        })
        .collect()
}

/// Prepares `stmt` on every backend and expects a typed refusal there.
fn refused_everywhere(schema: &Schema, stmt: &dyn Statement) -> Vec<Error> {
    BACKENDS
        .into_iter()
        .map(|b| match stmt.prepare(schema, b, &a()) {
            Ok(p) => panic!("{b}: accepted: {}", p.sql()),
            Err(e) => e,
        })
        .collect()
}

fn always_true() -> tenancy_sql::Expr {
    val(1).eq(1).or(val(1).eq(1))
}

#[test]
fn the_first_wall_attacks_render_sql_the_oracle_accepts() {
    let schema = common::schema();
    let accepted_attacks: Vec<(Box<dyn Statement>, usize)> = vec![
        // Attack 1: a condition that escapes the AND.
        (
            Box::new(
                Select::from("leases")
                    .columns(["lessee"])
                    .filter(always_true())
                    .filter(col("leases", "lessee").eq("1=1) OR (1=1").or(always_true())),
            ),
            1,
        ),
        (
            Box::new(
                Update::table("leases")
                    .set("lessee", "hijacked")
                    .filter(always_true()),
            ),
            1,
        ),
        (Box::new(Delete::from("payments").filter(always_true())), 1),
        // Attack 2: a subquery in the select list.
        (
            Box::new(
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
            ),
            2,
        ),
        // Attack 3: names in another case resolve to the declared ones.
        (
            Box::new(
                Select::from("LEASES")
                    .column("LESSEE")
                    .filter(col("Leases", "Rent_Cents").gt(0))
                    .order_by(col("leases", "ID"), Order::Asc),
            ),
            1,
        ),
        // Attack 8: the inserts of the aborted and the clean transaction.
        (
            Box::new(
                Insert::into("properties")
                    .columns(["id", "name", "address"])
                    .exprs([val(50), val("before the failure"), val("x")]),
            ),
            1,
        ),
        (
            Box::new(
                Insert::into("leases")
                    .columns(["id", "property_id", "lessee", "rent_cents"])
                    .exprs([val(60), val(3), val("x"), val(1)]),
            ),
            1,
        ),
    ];
    for (stmt, n) in &accepted_attacks {
        assert_eq!(accepted(&schema, &**stmt), vec![*n; 3]);
    }
    for hostile in [
        "1=1) OR (1=1",
        "x' OR '1'='1",
        "x\\' OR 1=1 -- ",
        "$$ OR true $$",
        "*/ OR 1=1 /*",
        "'; DELETE FROM leases; --",
    ] {
        let q = Select::from("leases")
            .column("lessee")
            .filter(col("leases", "lessee").eq(hostile));
        assert_eq!(accepted(&schema, &q), [1, 1, 1]);
        let u = Update::table("leases")
            .set("lessee", hostile)
            .filter(col("leases", "id").eq(1));
        assert_eq!(accepted(&schema, &u), [1, 1, 1]);
    }
    // Attack 4: the upsert on a cross-tenant unique key; refused on MySQL
    // when declared, guarded there when not.
    for declared in [true, false] {
        let b = Schema::builder().tenant("codes").columns(["code", "label"]);
        let codes = if declared {
            b.global_unique(["code"])
        } else {
            b
        }
        .build()
        .unwrap();
        let upsert = Insert::into("codes")
            .columns(["id", "code", "label"])
            .exprs([val(7), val("SHARED"), val("label-of-attacker")])
            .on_conflict_update(["id"], ["code", "label"]);
        let oracle = Oracle::new(&codes);
        for b in BACKENDS {
            match upsert.prepare(&codes, b, &a()) {
                Ok(p) => assert_eq!(oracle.check(&p).unwrap().tenant_references, 1, "{b}"),
                Err(e) => assert!(
                    declared && b == Backend::MySql && matches!(e, Error::UnsafeUpsert { .. }),
                    "{b}: {e}"
                ),
            }
        }
    }
}

#[test]
fn the_first_wall_attacks_that_are_refused_stay_refused() {
    let schema = common::schema();
    let b = foreign();
    type Expected = fn(&Error) -> bool;
    let statements: Vec<(Box<dyn Statement>, Expected)> = vec![
        (
            Box::new(Update::table("properties").set("tEnAnT_iD", b.as_str())),
            |e| matches!(e, Error::TenantColumnWrite { .. }),
        ),
        (
            Box::new(
                Insert::into("properties")
                    .columns(["id", "name", "address", "Tenant_Id"])
                    .exprs([val(9), val("planted"), val("x"), val(b.as_str())]),
            ),
            |e| matches!(e, Error::TenantColumnWrite { .. }),
        ),
        (
            Box::new(
                Insert::into("properties")
                    .columns(["id", "name", "address"])
                    .exprs([val(1), val("p1"), val("x")])
                    .on_conflict_update(["id"], ["address", "TENANT_ID"]),
            ),
            |e| matches!(e, Error::TenantColumnWrite { .. }),
        ),
        (
            Box::new(
                Select::from_as("leases", "properties")
                    .column_of("properties", "lessee")
                    .inner_join("properties", val(true)),
            ),
            |e| matches!(e, Error::DuplicateName { .. }),
        ),
        (
            Box::new(
                Select::from("leases")
                    .column("lessee")
                    .with_cte("leases", Select::from("leases").column("lessee")),
            ),
            |e| matches!(e, Error::DuplicateName { .. }),
        ),
        (
            Box::new(Select::from("leases").column("lessee\" FROM leases --")),
            |e| matches!(e, Error::InvalidName { .. }),
        ),
        (
            Box::new(
                Select::from("leases")
                    .column("lessee")
                    .filter(col("leases", "lessee").eq("\u{0}tenancy:tenant\u{0}")),
            ),
            |e| matches!(e, Error::InvalidValue),
        ),
    ];
    for (stmt, expected) in &statements {
        for e in refused_everywhere(&schema, &**stmt) {
            assert!(expected(&e), "{e}");
        }
    }
}

#[test]
fn a_statement_prepared_under_a_forged_schema_is_refused_by_the_oracle() {
    // The crate refuses to run it (ScopeMismatch); the oracle, reading only
    // the text and the real schema, refuses it too.
    let forged = Schema::builder()
        .global("leases")
        .columns(["lessee"])
        .build()
        .unwrap();
    let oracle = Oracle::new(&common::schema());
    for b in BACKENDS {
        let p = Select::from("leases")
            .column("lessee")
            .prepare(&forged, b, &a())
            .unwrap();
        let v = oracle.check(&p).unwrap_err();
        assert!(v.0.contains("is not confined"), "{b}: {v}");
    }
}

/// A broad set of the crate's shapes, each accepted on every backend with
/// the number of tenant references it confines.
#[test]
fn the_crates_statements_pass_the_oracle() {
    let schema = common::schema();
    let lease_of_property = col("leases", "property_id").eq(col("properties", "id"));
    let cases: Vec<(Box<dyn Statement>, usize)> = vec![
        (Box::new(Select::from("leases").all()), 1),
        (
            Box::new(
                Select::from_as("leases", "l")
                    .column_of("l", "lessee")
                    .column_of("p", "name")
                    .inner_join_as(
                        "properties",
                        "p",
                        col("p", "id").eq(col("l", "property_id")),
                    )
                    .left_join("payments", col("payments", "lease_id").eq(col("l", "id")))
                    .left_join("plans", val(false)),
            ),
            3,
        ),
        (
            Box::new(
                Select::from("properties")
                    .and_from("leases")
                    .column_of("properties", "name")
                    .filter(lease_of_property.clone()),
            ),
            2,
        ),
        (
            Box::new(
                Select::from("properties")
                    .column("name")
                    .filter_exists(
                        Select::from("leases")
                            .expr(val(1))
                            .filter(lease_of_property.clone()),
                    )
                    .filter_not_exists(Select::from("payments").expr(val(1)))
                    .filter_in(
                        col("properties", "id"),
                        Select::from("leases").column("property_id"),
                    )
                    .filter_not_in(
                        col("properties", "id"),
                        Select::from("leases")
                            .column("id")
                            .filter(col("leases", "rent_cents").lt(0)),
                    ),
            ),
            5,
        ),
        (
            Box::new(
                Select::from_subquery(
                    Select::from("leases").column("lessee").column("rent_cents"),
                    "x",
                )
                .column_of("x", "lessee")
                .inner_join_subquery(
                    Select::from("properties").expr_as(col("properties", "name"), "n"),
                    "y",
                    val(true),
                ),
            ),
            2,
        ),
        (
            Box::new(
                Select::from("c")
                    .column("lessee")
                    .with_cte("c", Select::from("leases").column("lessee"))
                    .with_cte(
                        "d",
                        Select::from("c")
                            .column("lessee")
                            .union_all(Select::from("properties").column("name")),
                    ),
            ),
            2,
        ),
        (
            Box::new(
                Select::from("leases")
                    .column("lessee")
                    .union(Select::from("properties").column("name"))
                    .union_all(Select::from("properties").column("address"))
                    .intersect(Select::from("leases").column("lessee"))
                    .except(
                        Select::from("payments")
                            .expr(call(Function::Coalesce, [val("x"), val("y")])),
                    ),
            ),
            5,
        ),
        (
            Box::new(
                Select::from("leases")
                    .column("property_id")
                    .expr_as(col("leases", "rent_cents").sum().cast(SqlType::BigInt), "s")
                    .expr_as(col("leases", "rent_cents").avg().cast(SqlType::Double), "m")
                    .expr_as(col("leases", "lessee").max().upper(), "u")
                    .expr_as(col("leases", "id").count_distinct(), "c")
                    .group_by(col("leases", "property_id"))
                    .having(count_all().gt(0))
                    .order_by(column("s"), Order::Desc)
                    .limit(5)
                    .offset(1),
            ),
            1,
        ),
        (
            Box::new(
                Select::from("leases")
                    .distinct()
                    .expr(case(
                        [(col("leases", "rent_cents").gt(1000), val("high"))],
                        val("low"),
                    ))
                    .expr(col("leases", "lessee").lower().char_length().abs())
                    .expr(col("leases", "rent_cents").cast(SqlType::Double).round())
                    .expr(col("leases", "rent_cents").neg().modulo(7))
                    .expr(current_timestamp())
                    .filter(all([
                        col("leases", "lessee").like("%a%"),
                        col("leases", "lessee").not_like("b%"),
                        col("leases", "id").between(1, 9),
                        col("leases", "id").is_in([1, 2]),
                        col("leases", "id").is_not_in([3]),
                        col("leases", "lessee").is_not_null(),
                        any([col("leases", "id").is_null(), val(true)]).not(),
                    ]))
                    .for_update(),
            ),
            1,
        ),
        (
            Box::new(
                Insert::into("properties")
                    .columns(["id", "name", "address"])
                    .values([Value::from(7), "a".into(), "b".into()])
                    .values([Value::from(8), "c".into(), "d".into()]),
            ),
            1,
        ),
        (
            Box::new(
                Insert::into("properties")
                    .columns(["id", "name", "address"])
                    .values([Value::from(7), "a".into(), "b".into()])
                    .on_conflict_do_nothing(["id"]),
            ),
            1,
        ),
        (
            Box::new(
                Insert::into("properties")
                    .columns(["id", "name", "address"])
                    .values([Value::from(7), "a".into(), "b".into()])
                    .on_conflict_update(["id"], ["name", "address"]),
            ),
            1,
        ),
        (
            Box::new(
                Insert::into("leases")
                    .columns(["id", "property_id", "lessee", "rent_cents"])
                    .exprs([
                        val(9),
                        val(1),
                        scalar(Select::from("properties").column("name").limit(1)),
                        val(5),
                    ]),
            ),
            2,
        ),
        (
            Box::new(
                Insert::into("leases")
                    .columns(["id", "property_id", "lessee", "rent_cents"])
                    .select_from(
                        Select::from("leases")
                            .expr(col("leases", "id").add(100))
                            .column("property_id")
                            .column("lessee")
                            .column("rent_cents")
                            .union_all(
                                Select::from("leases")
                                    .expr(col("leases", "id").add(200))
                                    .column("property_id")
                                    .column("lessee")
                                    .column("rent_cents"),
                            ),
                    ),
            ),
            3,
        ),
        (
            Box::new(
                Update::table("leases")
                    .set("rent_cents", col("leases", "rent_cents").mul(2))
                    .set(
                        "lessee",
                        scalar(Select::from("properties").column("name").limit(1)),
                    )
                    .filter_in(
                        col("leases", "property_id"),
                        Select::from("properties").column("id"),
                    )
                    .filter_exists(
                        Select::from("payments")
                            .expr(val(1))
                            .filter(col("payments", "lease_id").eq(col("leases", "id"))),
                    ),
            ),
            4,
        ),
        (
            Box::new(
                Delete::from("payments")
                    .filter(col("payments", "amount_cents").gt(0))
                    .filter_not_exists(Select::from("leases").expr(val(1)))
                    .filter_not_in(
                        col("payments", "lease_id"),
                        Select::from("leases").column("id"),
                    ),
            ),
            3,
        ),
        (Box::new(Select::from("plans").column("code")), 0),
    ];
    for (stmt, n) in &cases {
        assert_eq!(accepted(&schema, &**stmt), vec![*n; 3]);
    }
}

#[test]
fn an_insert_returning_rows_passes_the_oracle_where_it_is_allowed() {
    let schema = common::schema();
    let oracle = Oracle::new(&schema);
    let insert = Insert::into("properties")
        .columns(["id", "name", "address"])
        .values([Value::from(7), "a".into(), "b".into()])
        .returning(["id", "name"]);
    for b in [Backend::Postgres, Backend::Sqlite] {
        let p = insert.prepare(&schema, b, &a()).unwrap();
        assert_eq!(oracle.check(&p).unwrap().tenant_references, 1, "{b}");
    }
}

#[test]
fn another_tenant_column_name_is_checked_too() {
    let schema = Schema::builder()
        .tenant("notes")
        .tenant_column("org_id")
        .columns(["body"])
        .build()
        .unwrap();
    let q = Select::from("notes")
        .column("body")
        .filter_exists(Select::from_as("notes", "n").expr(val(1)));
    assert_eq!(accepted(&schema, &q), [2, 2, 2]);
    let oracle = Oracle::new(&schema);
    let v = oracle
        .check_sql(
            Backend::Postgres,
            "SELECT body FROM notes WHERE notes.tenant_id = $1",
            &[t()],
            &tenant(),
        )
        .unwrap_err();
    assert!(v.0.contains("not confined"), "{v}");
}
