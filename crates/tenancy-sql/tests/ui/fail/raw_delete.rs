use tenancy_sql::TenantTx;
use tenancy_sql::sea_query::{Alias, Query};

async fn handler(tx: &mut TenantTx) {
    let raw = Query::delete().from_table(Alias::new("leases")).to_owned();
    let _ = tx.execute(&raw).await;
}

fn main() {
    let _ = handler;
}
