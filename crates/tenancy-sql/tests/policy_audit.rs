//! Attack 7: `verify_isolation` must not be fooled. Each PostgreSQL attack
//! first proves itself (tenant A reads B's rows as the application role
//! through the deviating object), then the audit must refuse with the
//! finding that names it. MySQL/MariaDB and SQLite get the catalogue checks
//! their single wall relies on.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions"
)]

mod common;

use common::{A, B, TestDb, ctx};
use sqlx::{Executor, Row};
use tenancy_core::TenantId;
use tenancy_sql::{Error, Finding, Insert, IsolationReport, Schema, TenantPool, ddl::Ddl, val};

/// The report of an audit that must refuse.
async fn refused(pool: &TenantPool) -> IsolationReport {
    match pool.verify_isolation().await {
        Err(Error::Isolation(report)) => {
            // The report names objects, never another tenant's data.
            let text = report.to_string();
            assert!(
                !text.contains("-t2") && !text.contains(&TenantId::from_u128(B).to_string()),
                "{text}"
            );
            report
        }
        other => panic!("expected the audit to refuse, got {other:?}"),
    }
}

async fn clean(pool: &TenantPool) -> IsolationReport {
    match pool.verify_isolation().await {
        Ok(report) => {
            assert!(report.is_clean(), "{report}");
            report
        }
        Err(e) => panic!("expected a clean audit, got {e}"),
    }
}

/// Runs owner DDL.
async fn owner(db: &TestDb, sql: &str) {
    db.admin.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
}

/// Runs `sql` (one number) as the application role, on its own raw
/// connections, in a transaction bound to `tenant` exactly as the pool
/// binds it: what RLS alone lets through.
async fn as_app(db: &TestDb, tenant: u128, sql: &str) -> i64 {
    as_app_after(db, tenant, &[], sql).await
}

/// [`as_app`], with `setup` run first in the same transaction.
async fn as_app_after(db: &TestDb, tenant: u128, setup: &[&str], sql: &str) -> i64 {
    let app = db.app_raw();
    let mut tx = app.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT set_config('tenancy.tenant_id', '{}', true)",
        TenantId::from_u128(tenant)
    )))
    .execute(&mut *tx)
    .await
    .unwrap();
    for statement in setup {
        (&mut *tx)
            .execute(sqlx::AssertSqlSafe(*statement))
            .await
            .unwrap();
    }
    let n: i64 = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get(0);
    tx.rollback().await.unwrap();
    n
}

/// How many of other tenants' leases tenant A reads as the application role.
async fn foreign_leases_a_reads(db: &TestDb, from: &str) -> i64 {
    let sql = format!(
        "SELECT count(*) FROM {from} WHERE tenant_id <> '{}'",
        TenantId::from_u128(A)
    );
    as_app(db, A, &sql).await
}

async fn seeded_postgres() -> Option<(Schema, TestDb)> {
    let schema = common::schema();
    let db = common::postgres(&schema).await?;
    common::seed_markers(&db.pool).await;
    clean(&db.pool).await;
    assert_eq!(foreign_leases_a_reads(&db, "leases").await, 0);
    Some((schema, db))
}

fn leases(finding: fn(String, String) -> Finding, policy: &str) -> Finding {
    finding("leases".into(), policy.into())
}

fn using(table: String, policy: String) -> Finding {
    Finding::PermissivePolicyUsing { table, policy }
}

fn with_check(table: String, policy: String) -> Finding {
    Finding::PermissivePolicyWithCheck { table, policy }
}

fn no_tenant_policy() -> Finding {
    Finding::NoTenantPolicy {
        table: "leases".into(),
    }
}

#[tokio::test]
async fn an_extra_permissive_policy_that_only_checks_the_setting_is_set_is_a_finding() {
    let Some((_, db)) = seeded_postgres().await else {
        return;
    };
    owner(
        &db,
        "CREATE POLICY setting_is_set ON leases \
         USING (current_setting('tenancy.tenant_id', true) IS NOT NULL)",
    )
    .await;
    // The attack is real: permissive policies are OR-ed, so A reads B's
    // and C's leases.
    assert_eq!(foreign_leases_a_reads(&db, "leases").await, 4);

    let report = refused(&db.pool).await;
    assert_eq!(
        report.findings,
        [
            leases(using, "setting_is_set"),
            leases(with_check, "setting_is_set")
        ],
        "{report}"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn the_tenant_policy_with_or_true_is_a_finding() {
    let Some((schema, db)) = seeded_postgres().await else {
        return;
    };
    // The DDL's own policy, with `OR true` after each predicate.
    let policy = Ddl::new(&schema, tenancy_sql::Backend::Postgres)
        .row_level_security("leases")
        .unwrap()
        .pop()
        .unwrap()
        .replace(
            "current_setting('tenancy.tenant_id', true)",
            "current_setting('tenancy.tenant_id', true) OR true",
        );
    assert_eq!(policy.matches("OR true").count(), 2, "{policy}");
    owner(
        &db,
        &format!("DROP POLICY leases_tenant_isolation ON leases; {policy}"),
    )
    .await;
    assert_eq!(foreign_leases_a_reads(&db, "leases").await, 4);

    let report = refused(&db.pool).await;
    assert_eq!(
        report.findings,
        [
            no_tenant_policy(),
            leases(using, "leases_tenant_isolation"),
            leases(with_check, "leases_tenant_isolation"),
        ],
        "{report}"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn a_restrictive_extra_policy_stays_clean() {
    let Some((_, db)) = seeded_postgres().await else {
        return;
    };
    // Restrictive policies are AND-ed with the tenant policy: they narrow.
    owner(
        &db,
        "CREATE POLICY modest_rents ON leases AS RESTRICTIVE FOR SELECT USING (rent_cents < 1000000); \
         CREATE POLICY anything ON leases AS RESTRICTIVE USING (true) WITH CHECK (true)",
    )
    .await;
    assert_eq!(foreign_leases_a_reads(&db, "leases").await, 0);
    clean(&db.pool).await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_tenant_policy_for_select_only_is_a_finding() {
    let Some((_, db)) = seeded_postgres().await else {
        return;
    };
    owner(
        &db,
        "DROP POLICY leases_tenant_isolation ON leases; \
         CREATE POLICY leases_read ON leases FOR SELECT \
         USING (tenant_id = current_setting('tenancy.tenant_id', true))",
    )
    .await;
    let report = refused(&db.pool).await;
    assert_eq!(
        report.findings,
        [
            no_tenant_policy(),
            Finding::PermissivePolicyCommand {
                table: "leases".into(),
                policy: "leases_read".into(),
                command: "SELECT".into()
            },
            leases(with_check, "leases_read"),
        ],
        "{report}"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn a_permissive_policy_for_another_role_is_a_finding() {
    let Some((_, db)) = seeded_postgres().await else {
        return;
    };
    let owner_role: String = db
        .admin
        .fetch_one("SELECT current_user::text")
        .await
        .unwrap()
        .get(0);
    owner(
        &db,
        &format!("CREATE POLICY owner_reads_all ON leases TO \"{owner_role}\" USING (true)"),
    )
    .await;
    let report = refused(&db.pool).await;
    assert_eq!(
        report.findings,
        [
            Finding::PermissivePolicyRoles {
                table: "leases".into(),
                policy: "owner_reads_all".into(),
                roles: vec![owner_role],
            },
            leases(using, "owner_reads_all"),
            leases(with_check, "owner_reads_all"),
        ],
        "{report}"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn a_look_alike_current_setting_earlier_on_the_search_path_is_a_finding() {
    let Some((_, db)) = seeded_postgres().await else {
        return;
    };
    let role = db.role.clone().unwrap();
    // A `current_setting(text, boolean)` of its own in `public`, which the
    // role's search_path puts before pg_catalog: printed under that path,
    // the policy reads exactly like the tenant policy.
    owner(
        &db,
        &format!(
            "CREATE FUNCTION public.current_setting(text, boolean) RETURNS text \
               LANGUAGE sql STABLE AS $$ SELECT '{b}'::text $$; \
             ALTER ROLE \"{role}\" SET search_path = public, pg_catalog; \
             DROP POLICY leases_tenant_isolation ON leases; \
             CREATE POLICY leases_tenant_isolation ON leases \
               USING (tenant_id = public.current_setting('tenancy.tenant_id', true)) \
               WITH CHECK (tenant_id = public.current_setting('tenancy.tenant_id', true))",
            b = TenantId::from_u128(B)
        ),
    )
    .await;
    assert_eq!(foreign_leases_a_reads(&db, "leases").await, 2);

    // New connections of the application role, which take the search_path.
    let fresh = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(db.app_url())
        .await
        .unwrap();
    let path: String = fresh
        .fetch_one("SELECT current_setting('search_path')")
        .await
        .unwrap()
        .get(0);
    assert_eq!(path, "public, pg_catalog");
    let pool = TenantPool::connect_with(
        db.app_url(),
        common::schema(),
        &tenancy_sql::PoolSettings::default().max_connections(1),
    )
    .await
    .unwrap();
    let report = refused(&pool).await;
    assert_eq!(
        report.findings,
        [
            no_tenant_policy(),
            leases(using, "leases_tenant_isolation"),
            leases(with_check, "leases_tenant_isolation"),
        ],
        "{report}"
    );
    pool.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_security_definer_function_reading_a_tenant_table_is_a_finding() {
    let Some((_, db)) = seeded_postgres().await else {
        return;
    };
    let owner_role: String = db
        .admin
        .fetch_one("SELECT current_user::text")
        .await
        .unwrap()
        .get(0);
    // Owned by the migration's owner, a superuser here: RLS does not bind it.
    owner(
        &db,
        "CREATE FUNCTION lease_count_everywhere() RETURNS bigint \
         LANGUAGE sql SECURITY DEFINER AS $$ SELECT count(*) FROM leases $$",
    )
    .await;
    assert_eq!(as_app(&db, A, "SELECT lease_count_everywhere()").await, 6);

    let report = refused(&db.pool).await;
    assert_eq!(
        report.findings,
        [Finding::SecurityDefinerFunction {
            function: "public.lease_count_everywhere()".into(),
            owner: owner_role,
        }],
        "{report}"
    );
    // Out of the application role's reach, it is no finding.
    owner(
        &db,
        "REVOKE EXECUTE ON FUNCTION lease_count_everywhere() FROM PUBLIC",
    )
    .await;
    clean(&db.pool).await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_security_definer_trigger_is_a_finding_without_the_execute_privilege() {
    let Some((_, db)) = seeded_postgres().await else {
        return;
    };
    // A trigger fires on the application role's own insert, needs no
    // EXECUTE, and runs as its superuser owner: it copies every tenant's
    // lessees into the new row.
    owner(
        &db,
        "CREATE FUNCTION gather_lessees() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$ \
         BEGIN NEW.lessee := (SELECT string_agg(lessee, ',') FROM leases); RETURN NEW; END $$; \
         REVOKE EXECUTE ON FUNCTION gather_lessees() FROM PUBLIC; \
         CREATE TRIGGER gather BEFORE INSERT ON leases FOR EACH ROW EXECUTE FUNCTION gather_lessees()",
    )
    .await;
    let a = TenantId::from_u128(A);
    let insert = format!(
        "INSERT INTO leases (tenant_id, id, property_id, lessee, rent_cents) \
         VALUES ('{a}', 9, 1, 'x', 1)"
    );
    let read_back = format!(
        "SELECT count(*) FROM leases WHERE tenant_id = '{a}' AND id = 9 AND lessee LIKE '%-t2%'"
    );
    assert_eq!(as_app_after(&db, A, &[&insert], &read_back).await, 1);

    let report = refused(&db.pool).await;
    assert!(
        matches!(&report.findings[..], [Finding::SecurityDefinerFunction { function, .. }]
            if function == "public.gather_lessees()"),
        "{report}"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn a_security_definer_function_of_the_table_owner_is_a_finding() {
    let Some((_, db)) = seeded_postgres().await else {
        return;
    };
    // A plain (non-superuser) role owns the table; RLS is forced, so the
    // owner is bound too, until the function lifts it.
    let table_owner = format!("{}_owner", db.role.clone().unwrap());
    owner(
        &db,
        &format!(
            "CREATE ROLE \"{table_owner}\" NOLOGIN NOSUPERUSER NOBYPASSRLS; \
             ALTER TABLE leases OWNER TO \"{table_owner}\"; \
             CREATE FUNCTION lift_and_count() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$ \
             BEGIN \
               ALTER TABLE leases NO FORCE ROW LEVEL SECURITY; \
               RETURN (SELECT count(*) FROM leases); \
             END $$; \
             ALTER FUNCTION lift_and_count() OWNER TO \"{table_owner}\""
        ),
    )
    .await;
    assert_eq!(foreign_leases_a_reads(&db, "leases").await, 0);
    assert_eq!(as_app(&db, A, "SELECT lift_and_count()").await, 6);

    let report = refused(&db.pool).await;
    assert_eq!(
        report.findings,
        [Finding::SecurityDefinerFunction {
            function: "public.lift_and_count()".into(),
            owner: table_owner.clone(),
        }],
        "{report}"
    );
    owner(
        &db,
        &format!(
            "REASSIGN OWNED BY \"{table_owner}\" TO current_user; \
             DROP OWNED BY \"{table_owner}\"; DROP ROLE \"{table_owner}\""
        ),
    )
    .await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_view_without_security_invoker_is_a_finding_and_one_over_an_invoker_view_is_not() {
    let Some((_, db)) = seeded_postgres().await else {
        return;
    };
    let role = db.role.clone().unwrap();
    owner(
        &db,
        &format!(
            "CREATE VIEW inner_leases WITH (security_invoker = on) AS SELECT * FROM leases; \
             CREATE VIEW outer_leases AS SELECT * FROM inner_leases; \
             GRANT SELECT ON inner_leases, outer_leases TO \"{role}\""
        ),
    )
    .await;
    // The invoker view checks as the querying role even under a view
    // without the option: RLS holds, and the audit stays quiet.
    assert_eq!(foreign_leases_a_reads(&db, "outer_leases").await, 0);
    clean(&db.pool).await;

    owner(
        &db,
        &format!(
            "CREATE VIEW owner_leases AS SELECT * FROM leases; \
             GRANT SELECT ON owner_leases TO \"{role}\""
        ),
    )
    .await;
    assert_eq!(foreign_leases_a_reads(&db, "owner_leases").await, 4);
    let report = refused(&db.pool).await;
    assert_eq!(
        report.findings,
        [Finding::ViewWithoutSecurityInvoker {
            view: "owner_leases".into(),
            table: "leases".into()
        }],
        "{report}"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn a_materialized_view_over_a_tenant_table_is_a_finding() {
    let Some((_, db)) = seeded_postgres().await else {
        return;
    };
    let role = db.role.clone().unwrap();
    // Even through an invoker view: it was filled as its owner.
    owner(
        &db,
        &format!(
            "CREATE VIEW inner_leases WITH (security_invoker = on) AS SELECT * FROM leases; \
             CREATE MATERIALIZED VIEW all_leases AS SELECT * FROM inner_leases; \
             GRANT SELECT ON all_leases TO \"{role}\""
        ),
    )
    .await;
    assert_eq!(foreign_leases_a_reads(&db, "all_leases").await, 4);
    let report = refused(&db.pool).await;
    assert_eq!(
        report.findings,
        [Finding::MaterializedView {
            view: "all_leases".into(),
            table: "leases".into()
        }],
        "{report}"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn an_application_role_that_can_set_role_to_a_superuser_is_a_finding() {
    let Some((_, db)) = seeded_postgres().await else {
        return;
    };
    let role = db.role.clone().unwrap();
    let owner_role: String = db
        .admin
        .fetch_one("SELECT current_user::text")
        .await
        .unwrap()
        .get(0);
    owner(&db, &format!("GRANT \"{owner_role}\" TO \"{role}\"")).await;
    let set_role = format!("SET LOCAL ROLE \"{owner_role}\"");
    let sql = format!(
        "SELECT count(*) FROM leases WHERE tenant_id <> '{}'",
        TenantId::from_u128(A)
    );
    assert_eq!(as_app_after(&db, A, &[&set_role], &sql).await, 4);
    let report = refused(&db.pool).await;
    assert_eq!(
        report.findings,
        [Finding::RoleCanBecome {
            role,
            target: owner_role
        }],
        "{report}"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn a_clean_migration_is_clean_on_every_backend() {
    let schema = common::schema();
    for db in common::all(&schema).await {
        let report = clean(&db.pool).await;
        assert_eq!(report.tables_checked, 4, "{}", db.backend);
        match db.backend {
            tenancy_sql::Backend::Postgres => {
                assert_eq!(Some(&report.role), db.role.as_ref());
                assert!(report.notes.is_empty(), "{report}");
            }
            tenancy_sql::Backend::MySql => {
                assert!(report.notes[0].contains("no row-level security"));
                assert!(
                    report.notes[1].contains("lower_case_table_names"),
                    "{report}"
                );
            }
            _ => {
                assert_eq!(report.notes.len(), 1, "{report}");
                assert!(report.notes[0].contains("no row-level security"));
            }
        }
        db.cleanup().await;
    }
}

/// On the backends without RLS: a unique index across tenants lets tenant A
/// learn which values B uses (its insert collides), and on MySQL/MariaDB
/// `ON DUPLICATE KEY` fires on it. The audit must report it.
async fn unique_index_across_tenants(db: TestDb) {
    common::seed_markers(&db.pool).await;
    owner(
        &db,
        "CREATE UNIQUE INDEX leases_lessee_everywhere ON leases (lessee)",
    )
    .await;
    let insert = |id: i64, lessee: &str| {
        Insert::into("leases")
            .columns(["id", "property_id", "lessee", "rent_cents"])
            .exprs([val(id), val(1), val(lessee.to_owned()), val(1)])
    };
    // The attack is real: A's insert of a value B holds collides.
    let mut tx = db.pool.begin(&ctx(A)).await.unwrap();
    assert!(tx.execute(insert(3, "lessee-1-t2")).await.is_err());
    drop(tx);
    let mut tx = db.pool.begin(&ctx(A)).await.unwrap();
    tx.execute(insert(3, "a fresh name")).await.unwrap();
    drop(tx);

    let report = refused(&db.pool).await;
    assert_eq!(
        report.findings,
        [Finding::GlobalUniqueIndex {
            table: "leases".into(),
            index: "leases_lessee_everywhere".into()
        }],
        "{report}"
    );
    assert!(report.notes[0].contains("no row-level security"));
    db.cleanup().await;
}

#[tokio::test]
async fn a_unique_index_not_led_by_the_tenant_column_is_a_finding_on_mysql() {
    let Some(db) = common::mysql(&common::schema()).await else {
        return;
    };
    unique_index_across_tenants(db).await;
}

#[tokio::test]
async fn a_unique_index_not_led_by_the_tenant_column_is_a_finding_on_sqlite() {
    let db = common::sqlite(&common::schema()).await;
    unique_index_across_tenants(db).await;
}

#[tokio::test]
async fn a_unique_index_led_by_a_prefix_of_the_tenant_column_is_a_finding_on_mysql() {
    let Some(db) = common::mysql(&common::schema()).await else {
        return;
    };
    owner(
        &db,
        "CREATE UNIQUE INDEX leases_prefix ON leases (tenant_id(8), lessee)",
    )
    .await;
    let report = refused(&db.pool).await;
    assert_eq!(
        report.findings,
        [Finding::GlobalUniqueIndex {
            table: "leases".into(),
            index: "leases_prefix".into()
        }],
        "{report}"
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("lower_case_table_names")),
        "{report}"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn a_missing_tenant_table_is_a_finding_on_every_backend() {
    let schema = common::schema();
    let ghosts = Schema::builder().tenant("ghosts").build().unwrap();
    for db in common::all(&schema).await {
        let pool = db.pool_for_schema(ghosts.clone()).await;
        let report = refused(&pool).await;
        assert_eq!(
            report.findings,
            [Finding::MissingTable {
                table: "ghosts".into()
            }],
            "{}",
            db.backend
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_declared_global_unique_index_is_clean_on_sqlite() {
    let db = common::sqlite(&common::schema()).await;
    owner(
        &db,
        "CREATE TABLE badges (code TEXT NOT NULL, tenant_id TEXT NOT NULL, PRIMARY KEY (tenant_id, code)); \
         CREATE UNIQUE INDEX badges_code_everywhere ON badges (code)",
    )
    .await;
    let undeclared = Schema::builder()
        .tenant("badges")
        .id(["code"])
        .build()
        .unwrap();
    let pool = db.pool_for_schema(undeclared).await;
    let report = refused(&pool).await;
    assert_eq!(
        report.findings,
        [Finding::GlobalUniqueIndex {
            table: "badges".into(),
            index: "badges_code_everywhere".into()
        }]
    );
    let declared = Schema::builder()
        .tenant("badges")
        .id(["code"])
        .global_unique(["code"])
        .build()
        .unwrap();
    let pool = db.pool_for_schema(declared).await;
    clean(&pool).await;
    db.cleanup().await;
}

#[tokio::test]
async fn an_integer_primary_key_is_a_unique_key_across_tenants_on_sqlite() {
    let db = common::sqlite(&common::schema()).await;
    owner(
        &db,
        "CREATE TABLE badges (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL)",
    )
    .await;
    let schema = Schema::builder().tenant("badges").build().unwrap();
    let pool = db.pool_for_schema(schema).await;
    let report = refused(&pool).await;
    assert_eq!(
        report.findings,
        [Finding::GlobalUniqueIndex {
            table: "badges".into(),
            index: "INTEGER PRIMARY KEY".into()
        }]
    );
    db.cleanup().await;
}
