use tenancy_sql::SystemTx;

async fn handler(sys: &mut SystemTx) {
    let _ = sys.execute(&"DELETE FROM leases").await;
}

fn main() {
    let _ = handler;
}
