// Attack 6: the system escape hatch took raw sea-query statements, whose
// custom expressions its table check could not see into.
use tenancy_sql::SystemTx;
use tenancy_sql::sea_query::{Alias, Expr, Query};

async fn operator(sys: &mut SystemTx) {
    let raw = Query::select()
        .expr(Expr::cust("(SELECT count(*) FROM leases)"))
        .from(Alias::new("plans"))
        .to_owned();
    let _ = sys.fetch_all(raw).await;
}

fn main() {
    let _ = operator;
}
