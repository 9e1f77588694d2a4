use tenancy_sql::TenantTx;
use tenancy_sql::sea_query::{Alias, Query};

async fn handler(tx: &mut TenantTx) {
    let raw = Query::select().column(Alias::new("id")).from(Alias::new("leases")).to_owned();
    let _ = tx.fetch_all(raw).await;
}

fn main() {
    let _ = handler;
}
