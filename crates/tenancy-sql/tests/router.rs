//! The hybrid model: a large tenant in a database of its own, behind the same
//! API and the same scoping.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

mod common;

use common::ctx;
use sqlx::{Executor, Row};
use tenancy_core::TenantId;
use tenancy_sql::sea_query::Value;
use tenancy_sql::{Insert, Select, TenantRouter};

#[tokio::test]
async fn dedicated_tenant_lives_in_its_own_database_behind_the_same_api() {
    let schema = common::schema();
    let shared = common::sqlite(&schema).await;
    let big = common::sqlite(&schema).await;
    let router = TenantRouter::new(shared.pool.clone())
        .with_dedicated(TenantId::from_u128(2), big.pool.clone());
    for t in [1, 2, 3] {
        let mut tx = router.begin(&ctx(t)).await.unwrap();
        tx.execute(
            Insert::into("properties")
                .columns(["id", "name", "address"])
                .values([Value::from(1), format!("p-{t}").into(), "x".into()]),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let count = |db: &sqlx::AnyPool| {
        let db = db.clone();
        async move {
            db.fetch_one("SELECT count(*) FROM properties")
                .await
                .unwrap()
                .get::<i64, _>(0)
        }
    };
    assert_eq!(count(&shared.admin).await, 2);
    assert_eq!(count(&big.admin).await, 1);
    for t in [1, 2, 3] {
        let mut tx = router.begin(&ctx(t)).await.unwrap();
        let rows = tx
            .fetch_all(Select::from("properties").column("name"))
            .await
            .unwrap();
        let names: Vec<String> = rows.iter().map(|r| r.try_get(0).unwrap()).collect();
        assert_eq!(names, [format!("p-{t}")]);
    }
    let report = router.verify_isolation().await.unwrap();
    assert_eq!(report.notes.len(), 2);
    shared.cleanup().await;
    big.cleanup().await;
}
