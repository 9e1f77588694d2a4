//! The SQL each backend receives, checked as text: the tenant predicate
//! stands where it must, and the tenant is always a bound parameter.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use tenancy_core::{PermissionSet, RoleName, SubjectId, TenantContext, TenantId};
use tenancy_sql::sea_query::{Alias, Expr, ExprTrait, Order};
use tenancy_sql::{Backend, Delete, Insert, Schema, Select, Statement, Update, col};

fn schema() -> Schema {
    Schema::builder()
        .global("plans")
        .tenant("properties")
        .tenant("leases")
        .references("property_id", "properties")
        .tenant("notes")
        .tenant_column("org_id")
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

#[test]
fn left_join_predicate_goes_into_the_on_clause() {
    let q = Select::from("properties")
        .column_of("properties", "name")
        .column_of("leases", "lessee")
        .left_join(
            "leases",
            col("leases", "property_id").equals(("properties", "id")),
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
        .inner_join_as("leases", "l", col("l", "id").equals(("n", "lease_id")))
        .inner_join("plans", Expr::val(1).eq(1));
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
        .order_by(Expr::col(Alias::new("name")), Order::Asc)
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
        .values([tenancy_sql::sea_query::Value::from(1), "a".into()])
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
        "INSERT INTO `properties` (`id`, `name`, `tenant_id`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)",
        1,
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
        Delete::from("notes").filter_exists(Select::from("leases").expr(Expr::val(1))),
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
        .values([tenancy_sql::sea_query::Value::from(1), "a".into()])
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
    use tenancy_sql::sea_query::Condition;
    let widen = Condition::any()
        .add(col("leases", "property_id").equals(("properties", "id")))
        .add(Expr::val(1).eq(1));
    let q = Select::from("properties")
        .column_of("leases", "lessee")
        .left_join("leases", widen);
    check(
        q,
        Backend::Postgres,
        r#"SELECT "leases"."lessee" FROM "properties" LEFT JOIN "leases" ON "leases"."tenant_id" = $1 AND ("leases"."property_id" = "properties"."id" OR $2 = $3) WHERE "properties"."tenant_id" = $4"#,
        2,
    );
}
