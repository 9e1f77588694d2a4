//! The SQL each backend receives, checked as text: the tenant predicate
//! stands where it must, the tenant is always a bound parameter, and every
//! name is the one the schema declares.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use tenancy_core::{PermissionSet, RoleName, SubjectId, TenantContext, TenantId};
use tenancy_sql::{
    Backend, Delete, Error, Insert, Order, Schema, Select, Statement, Update, all, any, col,
    column, val,
};

fn schema() -> Schema {
    Schema::builder()
        .global("plans")
        .tenant("properties")
        .columns(["name"])
        .tenant("leases")
        .references("property_id", "properties")
        .columns(["lessee"])
        .tenant("notes")
        .tenant_column("org_id")
        .columns(["lease_id", "body"])
        .build()
        .unwrap()
}

fn ctx() -> TenantContext {
    TenantContext::tenant(
        TenantId::from_u128(7),
        SubjectId::from_u128(1),
        RoleName::member(),
        PermissionSet::all(),
    )
}

/// Renders `stmt` for `backend`, checks the text, and checks that every
/// tenant slot carries the context's tenant while the text never does.
fn check(stmt: impl Statement, backend: Backend, expected: &str, tenant_slots: usize) {
    let p = stmt.prepare(&schema(), backend, &ctx()).unwrap();
    assert_eq!(p.sql(), expected, "{backend}");
    let tenant = TenantId::from_u128(7).to_string();
    assert!(!p.sql().contains(&tenant));
    let values = p.values();
    let n = values
        .iter()
        .filter(|v| **v == tenant.clone().into())
        .count();
    assert_eq!(n, tenant_slots, "{backend}: {values:?}");
    assert_eq!(p.tenant_slots(), tenant_slots);
}

/// Prepares `stmt` on every backend and returns the refusal, the same on all.
fn refused(stmt: impl Statement) -> Error {
    let errors: Vec<Error> = [Backend::Postgres, Backend::MySql, Backend::Sqlite]
        .into_iter()
        .map(|b| stmt.prepare(&schema(), b, &ctx()).unwrap_err())
        .collect();
    let first = errors[0].to_string();
    assert!(errors.iter().all(|e| e.to_string() == first), "{errors:?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn left_join_predicate_goes_into_the_on_clause() {
    let q = Select::from("properties")
        .column_of("properties", "name")
        .column_of("leases", "lessee")
        .left_join(
            "leases",
            col("leases", "property_id").eq(col("properties", "id")),
        );
    check(
        q,
        Backend::Postgres,
        r#"SELECT "properties"."name", "leases"."lessee" FROM "properties" LEFT JOIN "leases" ON "leases"."tenant_id" = $1 AND "leases"."property_id" = "properties"."id" WHERE "properties"."tenant_id" = $2"#,
        2,
    );
}

#[test]
fn aliases_and_custom_tenant_columns_are_used_in_predicates() {
    let q = Select::from_as("notes", "n")
        .column_of("n", "body")
        .inner_join_as("leases", "l", col("l", "id").eq(col("n", "lease_id")))
        .inner_join("plans", val(1).eq(1));
    check(
        q,
        Backend::MySql,
        "SELECT `n`.`body` FROM `notes` AS `n` INNER JOIN `leases` AS `l` ON `l`.`tenant_id` = ? AND `l`.`id` = `n`.`lease_id` INNER JOIN `plans` ON ? = ? WHERE `n`.`org_id` = ?",
        2,
    );
}

#[test]
fn subqueries_ctes_and_unions_each_carry_the_predicate() {
    let q = Select::from("own")
        .column("name")
        .with_cte("own", Select::from("properties").column("name"))
        .filter_in(col("own", "name"), Select::from("leases").column("lessee"))
        .union_all(Select::from("notes").column("body"))
        .order_by(column("name"), Order::Asc)
        .limit(5);
    check(
        q,
        Backend::Sqlite,
        r#"WITH "own" AS (SELECT "name" FROM "properties" WHERE "properties"."tenant_id" = ?) SELECT "name" FROM "own" WHERE "own"."name" IN (SELECT "lessee" FROM "leases" WHERE "leases"."tenant_id" = ?) UNION ALL SELECT "body" FROM "notes" WHERE "notes"."org_id" = ? ORDER BY "name" ASC LIMIT ?"#,
        3,
    );
}

#[test]
fn insert_stamps_the_tenant_and_upsert_keeps_it_in_the_target() {
    let q = Insert::into("properties")
        .columns(["id", "name"])
        .exprs([val(1), val("a")])
        .on_conflict_update(["id"], ["name"]);
    check(
        q.clone(),
        Backend::Postgres,
        r#"INSERT INTO "properties" ("id", "name", "tenant_id") VALUES ($1, $2, $3) ON CONFLICT ("tenant_id", "id") DO UPDATE SET "name" = "excluded"."name""#,
        1,
    );
    check(
        q,
        Backend::MySql,
        // ON DUPLICATE KEY UPDATE fires on any unique key: each assignment
        // is guarded by the tenant of the row found, a second tenant slot.
        "INSERT INTO `properties` (`id`, `name`, `tenant_id`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE `name` = (CASE WHEN (`tenant_id` = ?) THEN VALUES(`name`) ELSE `name` END)",
        2,
    );
}

#[test]
fn insert_select_stamps_the_tenant_in_the_source() {
    let q = Insert::into("notes")
        .columns(["id", "body"])
        .select_from(Select::from("leases").column("id").column("lessee"));
    check(
        q,
        Backend::Postgres,
        r#"INSERT INTO "notes" ("id", "body", "org_id") SELECT "id", "lessee", $1 FROM "leases" WHERE "leases"."tenant_id" = $2"#,
        2,
    );
}

#[test]
fn update_and_delete_are_restricted_to_the_tenant() {
    check(
        Update::table("leases")
            .set("lessee", "x")
            .filter(col("leases", "id").eq(3)),
        Backend::Postgres,
        r#"UPDATE "leases" SET "lessee" = $1 WHERE "leases"."tenant_id" = $2 AND "leases"."id" = $3"#,
        1,
    );
    check(
        Delete::from("notes").filter_exists(Select::from("leases").expr(val(1))),
        Backend::Sqlite,
        r#"DELETE FROM "notes" WHERE "notes"."org_id" = ? AND EXISTS(SELECT ? FROM "leases" WHERE "leases"."tenant_id" = ?)"#,
        2,
    );
}

#[test]
fn prepared_statement_rebinds_to_another_tenant_without_rendering() {
    let p = Select::from("leases")
        .all()
        .prepare(&schema(), Backend::Postgres, &ctx())
        .unwrap();
    let other = TenantContext::tenant(
        TenantId::from_u128(8),
        SubjectId::from_u128(1),
        RoleName::member(),
        PermissionSet::all(),
    );
    let q = p.rebind(&other).unwrap();
    assert_eq!(q.sql(), p.sql());
    assert_eq!(q.values(), [TenantId::from_u128(8).to_string().into()]);
    // Run under the first context it is refused: it belongs to the other scope.
    assert!(q.prepare(&schema(), Backend::Postgres, &ctx()).is_err());
    assert!(q.prepare(&schema(), Backend::Sqlite, &other).is_err());
}

#[test]
fn a_system_context_without_a_tenant_cannot_scope_anything() {
    let op = TenantContext::system(
        SubjectId::from_u128(1),
        RoleName::platform_admin(),
        PermissionSet::all(),
    );
    assert!(
        Select::from("leases")
            .all()
            .prepare(&schema(), Backend::Postgres, &op)
            .is_err()
    );
}

#[test]
fn upsert_do_nothing_keeps_the_tenant_in_the_target() {
    let q = Insert::into("properties")
        .columns(["id", "name"])
        .exprs([val(1), val("a")])
        .on_conflict_do_nothing(["id"]);
    check(
        q.clone(),
        Backend::Sqlite,
        r#"INSERT INTO "properties" ("id", "name", "tenant_id") VALUES (?, ?, ?) ON CONFLICT ("tenant_id", "id") DO NOTHING"#,
        1,
    );
    check(
        q,
        Backend::MySql,
        "INSERT INTO `properties` (`id`, `name`, `tenant_id`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE `tenant_id` = `tenant_id`",
        1,
    );
}

#[test]
fn or_in_a_join_condition_stays_inside_the_tenant_predicate() {
    let widen = any([
        col("leases", "property_id").eq(col("properties", "id")),
        val(1).eq(1),
    ]);
    let q = Select::from("properties")
        .column_of("leases", "lessee")
        .left_join("leases", widen);
    check(
        q,
        Backend::Postgres,
        r#"SELECT "leases"."lessee" FROM "properties" LEFT JOIN "leases" ON "leases"."tenant_id" = $1 AND (("leases"."property_id" = "properties"."id") OR ($2 = $3)) WHERE "properties"."tenant_id" = $4"#,
        2,
    );
}

#[test]
fn names_fold_to_lowercase_and_render_as_declared() {
    let q = Select::from_as("LEASES", "L")
        .column_of("l", "LESSEE")
        .filter(col("L", "Property_Id").eq(1))
        .order_by(column("Lessee"), Order::Desc);
    check(
        q,
        Backend::Postgres,
        r#"SELECT "l"."lessee" FROM "leases" AS "l" WHERE "l"."tenant_id" = $1 AND "l"."property_id" = $2 ORDER BY "lessee" DESC"#,
        1,
    );
}

#[test]
fn every_operand_of_a_caller_condition_is_parenthesised() {
    let q = Select::from("leases").column("id").filter(
        col("leases", "lessee")
            .eq("a")
            .or(col("leases", "lessee").eq("b"))
            .and(
                col("leases", "id")
                    .add(1)
                    .gt(col("leases", "property_id").mul(2)),
            ),
    );
    check(
        q,
        Backend::Sqlite,
        r#"SELECT "id" FROM "leases" WHERE "leases"."tenant_id" = ? AND ((("leases"."lessee" = ?) OR ("leases"."lessee" = ?)) AND (("leases"."id" + ?) > ("leases"."property_id" * ?)))"#,
        1,
    );
}

#[test]
fn the_operand_of_not_is_parenthesised_whatever_the_dialects_precedence() {
    // MySQL's HIGH_NOT_PRECEDENCE mode binds NOT tighter than IN, LIKE, IS
    // and comparisons: without its own parentheses `NOT x IN (…)` would mean
    // `(NOT x) IN (…)` there.
    let id = || col("leases", "id");
    let q = Select::from("leases").column("id").filter(all([
        id().is_in([1, 2]).not(),
        col("leases", "lessee").like("a%").not(),
        id().is_null().not(),
        id().add(1).gt(2).not(),
        id().neg().lt(0),
    ]));
    check(
        q,
        Backend::MySql,
        "SELECT `id` FROM `leases` WHERE `leases`.`tenant_id` = ? AND ((((NOT (`leases`.`id` IN (?, ?))) AND (NOT (`leases`.`lessee` LIKE ?))) AND ((NOT (`leases`.`id` IS NULL)) AND (NOT ((`leases`.`id` + ?) > ?)))) AND ((? - `leases`.`id`) < ?))",
        1,
    );
}

#[test]
fn for_update_locks_on_the_servers_and_renders_nothing_on_sqlite() {
    let q = || {
        Select::from("leases")
            .column("id")
            .filter(col("leases", "id").eq(1))
            .for_update()
    };
    check(
        q(),
        Backend::Postgres,
        r#"SELECT "id" FROM "leases" WHERE "leases"."tenant_id" = $1 AND "leases"."id" = $2 FOR UPDATE"#,
        1,
    );
    check(
        q(),
        Backend::MySql,
        "SELECT `id` FROM `leases` WHERE `leases`.`tenant_id` = ? AND `leases`.`id` = ? FOR UPDATE",
        1,
    );
    check(
        q(),
        Backend::Sqlite,
        // sea-query leaves the separator of the empty lock clause.
        r#"SELECT "id" FROM "leases" WHERE "leases"."tenant_id" = ? AND "leases"."id" = ? "#,
        1,
    );
}

#[test]
fn undeclared_columns_are_refused_wherever_they_stand() {
    for err in [
        refused(Select::from("leases").column("secret")),
        refused(Select::from("leases").column_of("leases", "secret")),
        refused(Select::from("leases").all().filter(column("secret").eq(1))),
        refused(
            Select::from("properties")
                .all()
                .filter_exists(Select::from("leases").column_of("leases", "secret")),
        ),
        refused(Update::table("leases").set("secret", 1)),
        refused(Insert::into("leases").columns(["secret"]).exprs([val(1)])),
        refused(
            Insert::into("leases")
                .columns(["id"])
                .exprs([val(1)])
                .returning(["secret"]),
        ),
    ] {
        assert!(
            matches!(&err, Error::UnknownColumn { column, .. } if column == "secret"),
            "{err}"
        );
    }
}

#[test]
fn a_name_that_is_not_an_identifier_is_refused() {
    let err = refused(Select::from("leases").column_of("leases", r#"lessee" OR 1=1 --"#));
    assert!(matches!(err, Error::InvalidName { .. }), "{err}");
    let err = refused(Select::from_as("leases", "l; DROP TABLE leases").all());
    assert!(matches!(err, Error::InvalidName { .. }), "{err}");
}

#[test]
fn a_name_used_twice_in_one_level_is_refused() {
    // Two sources under one name: a predicate written for one could bind to
    // the other.
    let err = refused(
        Select::from_as("leases", "x")
            .column_of("x", "id")
            .inner_join_as("properties", "X", val(1).eq(1)),
    );
    assert!(
        matches!(&err, Error::DuplicateName { name: n } if n == "x"),
        "{err}"
    );
    let err = refused(Select::from("leases").and_from("LEASES").all());
    assert!(
        matches!(&err, Error::DuplicateName { name: n } if n == "leases"),
        "{err}"
    );
    // The same name in a nested level is another scope.
    check(
        Select::from_as("leases", "x")
            .column_of("x", "id")
            .filter_exists(Select::from_as("properties", "x").expr(val(1))),
        Backend::Sqlite,
        r#"SELECT "x"."id" FROM "leases" AS "x" WHERE "x"."tenant_id" = ? AND EXISTS(SELECT ? FROM "properties" AS "x" WHERE "x"."tenant_id" = ?)"#,
        2,
    );
    // A column written twice.
    let err = refused(
        Update::table("leases")
            .set("lessee", "a")
            .set("LESSEE", "b"),
    );
    assert!(matches!(err, Error::DuplicateName { .. }), "{err}");
}

#[test]
fn a_cte_may_not_shadow_a_registered_table() {
    let err = refused(
        Select::from("leases")
            .column("id")
            .with_cte("Leases", Select::from("properties").column("id")),
    );
    assert!(
        matches!(&err, Error::DuplicateName { name: n } if n == "leases"),
        "{err}"
    );
}

#[test]
fn the_tenant_column_is_written_only_by_the_stamp_under_any_spelling() {
    for column in ["tenant_id", "TENANT_ID", "Tenant_Id"] {
        let err = refused(
            Insert::into("leases")
                .columns([column, "id", "property_id", "lessee"])
                .exprs([
                    val(TenantId::from_u128(7).to_string()),
                    val(1),
                    val(1),
                    val("x"),
                ]),
        );
        assert!(matches!(err, Error::TenantColumnWrite { .. }), "{err}");
        let err = refused(Update::table("leases").set(column, "x"));
        assert!(matches!(err, Error::TenantColumnWrite { .. }), "{err}");
        let err = refused(
            Insert::into("leases")
                .columns(["id", "property_id", "lessee"])
                .exprs([val(1), val(1), val("x")])
                .on_conflict_update(["id"], [column]),
        );
        assert!(matches!(err, Error::TenantColumnWrite { .. }), "{err}");
    }
    // A table with its own tenant column.
    let err = refused(Update::table("notes").set("ORG_ID", "x"));
    assert!(
        matches!(&err, Error::TenantColumnWrite { column: c } if c == "org_id"),
        "{err}"
    );
}
