// A SET value with SQL text in it (a subquery over every tenant's leases):
// `Update::set` takes a typed `tenancy_sql::Expr`, so this does not compile.
use tenancy_sql::Update;
use tenancy_sql::sea_query::Expr;

fn main() {
    let _ = Update::table("leases").set("rent_cents", Expr::cust("(SELECT max(rent_cents) FROM leases)"));
}
