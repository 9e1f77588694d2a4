use tenancy_sql::{
    Delete, Insert, Order, Select, SystemTx, TenantTx, Update, col, count_all, exists, val,
};

fn assert_send<T: Send>(_: &T) {}

async fn handler(tx: &mut TenantTx, sys: &mut SystemTx) -> tenancy_sql::Result<()> {
    let q = Select::from("leases").all().filter(col("leases", "id").eq(1));
    assert_send(&q);
    let fut = tx.fetch_all(q);
    assert_send(&fut);
    fut.await?;
    tx.execute(Insert::into("leases").columns(["id"]).values([1])).await?;
    tx.execute(Update::table("leases").set("lessee", "x")).await?;
    tx.execute(Delete::from("leases")).await?;
    let prepared = tx.prepare(Select::from("leases").all())?;
    tx.fetch_all(&prepared).await?;
    // Conditions, subqueries and values are typed: columns, bound values,
    // operators and scoped selects.
    let paid = exists(
        Select::from("payments")
            .expr(val(1))
            .filter(col("payments", "lease_id").eq(col("leases", "id"))),
    );
    tx.fetch_all(
        Select::from("leases")
            .column("lessee")
            .expr_as(count_all(), "n")
            .filter(col("leases", "rent_cents").gt(1000).or(paid))
            .group_by(col("leases", "lessee"))
            .order_by(col("leases", "lessee"), Order::Asc)
            .for_update(),
    )
    .await?;
    // The audited escape hatch takes the same builders.
    sys.fetch_all(Select::from("tenants").column("id")).await?;
    sys.execute(Update::table("tenants").set("status", "suspended")).await?;
    Ok(())
}

fn main() {
    let _ = handler;
}
