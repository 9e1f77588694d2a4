use tenancy_sql::sea_query::{Alias, ExprTrait, Query};
use tenancy_sql::{Delete, Insert, Select, SystemTx, TenantTx, Update, col};

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
    // The audited escape hatch takes raw sea-query statements.
    sys.fetch_all(&Query::select().column(Alias::new("id")).from(Alias::new("tenants")).to_owned())
        .await?;
    Ok(())
}

fn main() {
    let _ = handler;
}
