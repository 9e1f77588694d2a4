use tenancy_sql::TenantTx;

async fn handler(tx: &mut TenantTx) {
    let _ = tx.execute("DELETE FROM leases").await;
}

fn main() {
    let _ = handler;
}
