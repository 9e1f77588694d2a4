//! Every cross-tenant attempt the runtime refuses reaches the audit sink, in
//! the attacker's own log, and says nothing of the tenant it tried to reach.
//! Run on SQLite, on PostgreSQL with and without RLS, and on MariaDB.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

mod common;

use std::sync::Arc;

use common::{A, B, ctx, every_backend_seeded};
use tenancy_core::{AuditEvent, AuditKind, MemoryAuditSink, Outcome, TenantId};
use tenancy_sql::{Error, Insert, TenantPool, Update, col, val};

/// A property only tenant B has: the target of A's references. Values keep
/// the Rust types `seed_markers` binds for the same columns (ids of leases
/// as `i64`, of properties as `i32`), since PostgreSQL connections reuse a
/// statement prepared with the first types bound.
const B_ONLY_PROPERTY: i32 = 9;

async fn seed_b_only_property(pool: &TenantPool) {
    let mut tx = pool.begin(&ctx(B)).await.unwrap();
    tx.execute(
        Insert::into("properties")
            .columns(["id", "name", "address"])
            .exprs([val(B_ONLY_PROPERTY), val("b-only-t2"), val("far road, t2")]),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// Asserts that `sink` holds exactly one event, a refused cross-tenant
/// attempt in A's log by A's subject, naming `table` but neither the
/// referenced value nor tenant B, and returns it.
fn one_attempt_in_a_log(label: &str, sink: &MemoryAuditSink, action: &str) -> AuditEvent {
    let events = sink.events();
    assert_eq!(events.len(), 1, "{label}: {events:?}");
    let event = events.into_iter().next().unwrap();
    assert_eq!(event.kind, AuditKind::CrossTenantAttempt, "{label}");
    assert_eq!(event.outcome, Outcome::Denied, "{label}");
    assert_eq!(event.action, action, "{label}");
    assert_eq!(event.tenant, Some(TenantId::from_u128(A)), "{label}");
    assert_eq!(event.subject, Some(ctx(A).subject()), "{label}");
    assert!(
        sink.for_tenant(TenantId::from_u128(B)).is_empty(),
        "{label}: nothing goes to the target's log"
    );
    let shown = format!(
        "{} {:?} {:?} {:?}",
        event.action, event.reason, event.resource_type, event.resource_id
    );
    assert!(
        !shown.contains(&TenantId::from_u128(B).to_string())
            && !shown.contains(&B_ONLY_PROPERTY.to_string())
            && !shown.contains("t2"),
        "{label}: the event shows something of tenant B: {shown}"
    );
    event
}

#[tokio::test]
async fn a_foreign_key_to_another_tenants_row_is_audited() {
    for (label, db) in every_backend_seeded(&common::schema()).await {
        seed_b_only_property(&db.pool).await;
        let sink = Arc::new(MemoryAuditSink::default());
        let pool = db.pool.clone().with_audit_sink(sink.clone());

        // An INSERT whose foreign key names B's property.
        let mut tx = pool.begin(&ctx(A)).await.unwrap();
        let err = tx
            .execute(
                Insert::into("leases")
                    .columns(["id", "property_id", "lessee", "rent_cents"])
                    .exprs([val(7_i64), val(B_ONLY_PROPERTY), val("mallory"), val(1_i64)]),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NotFound { ref table } if table == "properties"),
            "{label}: {err}"
        );
        let event = one_attempt_in_a_log(&label, &sink, "sql.reference");
        let reason = event.reason.unwrap_or_default();
        assert!(
            reason.contains("reference not found") && reason.contains("properties"),
            "{label}: {reason}"
        );
        drop(tx);

        // An UPDATE that moves A's lease onto B's property: recorded too.
        let mut tx = pool.begin(&ctx(A)).await.unwrap();
        let err = tx
            .execute(
                Update::table("leases")
                    .set("property_id", B_ONLY_PROPERTY)
                    .filter(col("leases", "id").eq(1_i64)),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{label}: {err}");
        assert_eq!(sink.events().len(), 2, "{label}");
        drop(tx);

        // A reference to A's own row is no attempt.
        let mut tx = pool.begin(&ctx(A)).await.unwrap();
        tx.execute(
            Insert::into("leases")
                .columns(["id", "property_id", "lessee", "rent_cents"])
                .exprs([val(7_i64), val(1_i32), val("tenant"), val(1_i64)]),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(sink.events().len(), 2, "{label}");

        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_write_to_the_tenant_column_is_audited() {
    for (label, db) in every_backend_seeded(&common::schema()).await {
        let sink = Arc::new(MemoryAuditSink::default());
        let pool = db.pool.clone().with_audit_sink(sink.clone());
        let mut tx = pool.begin(&ctx(A)).await.unwrap();
        let err = tx
            .execute(
                Insert::into("properties")
                    .columns(["id", "name", "address", "Tenant_Id"])
                    .exprs([
                        val(8_i32),
                        val("planted"),
                        val("nowhere"),
                        val(TenantId::from_u128(B).to_string()),
                    ]),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::TenantColumnWrite { .. }),
            "{label}: {err}"
        );
        one_attempt_in_a_log(&label, &sink, "sql.tenant_column_write");
        drop(tx);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_prepared_statement_of_another_tenant_is_audited() {
    for (label, db) in every_backend_seeded(&common::schema()).await {
        let sink = Arc::new(MemoryAuditSink::default());
        let pool = db.pool.clone().with_audit_sink(sink.clone());
        let theirs = pool
            .begin(&ctx(B))
            .await
            .unwrap()
            .prepare(
                Update::table("leases")
                    .set("lessee", "x")
                    .filter(col("leases", "id").eq(1_i64)),
            )
            .unwrap();
        let mut tx = pool.begin(&ctx(A)).await.unwrap();
        let err = tx.execute(&theirs).await.unwrap_err();
        assert!(matches!(err, Error::ScopeMismatch), "{label}: {err}");
        one_attempt_in_a_log(&label, &sink, "sql.scope_mismatch");
        drop(tx);
        db.cleanup().await;
    }
}

/// A view over a tenant table registered as global data: the statement
/// cannot see through it, so only the tripwire stands between its rows and
/// the caller. `odd_leases` returns a tenant column that is no text at all.
async fn misregistered_views(db: &common::TestDb) -> TenantPool {
    use sqlx::Executor;
    for view in [
        "CREATE VIEW all_leases AS SELECT * FROM leases",
        "CREATE VIEW odd_leases AS SELECT id, 42 AS tenant_id FROM leases",
    ] {
        db.admin.execute(view).await.unwrap();
    }
    let schema = tenancy_sql::Schema::builder()
        .global("all_leases")
        .global("odd_leases")
        .tenant("leases")
        .build()
        .unwrap();
    db.pool_for_schema(schema).await
}

// Before the tripwire was on by default this failed under
// `cargo test --release` (it was on in debug builds only).
#[tokio::test]
async fn a_leak_past_the_statement_is_withheld_by_default_in_every_build() {
    let db = common::sqlite(&common::schema()).await;
    common::seed_markers(&db.pool).await;
    let sink = Arc::new(MemoryAuditSink::default());
    // No `with_tripwire`: the default must hold in release builds too.
    let pool = misregistered_views(&db).await.with_audit_sink(sink.clone());
    let mut tx = pool.begin(&ctx(A)).await.unwrap();
    let err = tx
        .fetch_all(tenancy_sql::Select::from("all_leases").all())
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::LeakPrevented), "{err}");
    drop(tx);
    // A tenant column that does not decode as text proves no tenant: it
    // counts as a leak too.
    let mut tx = pool.begin(&ctx(A)).await.unwrap();
    let err = tx
        .fetch_all(tenancy_sql::Select::from("odd_leases").all())
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::LeakPrevented), "{err}");
    drop(tx);
    let events = sink.for_tenant(TenantId::from_u128(A));
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e.kind == AuditKind::LeakPrevented));
    db.cleanup().await;
}
