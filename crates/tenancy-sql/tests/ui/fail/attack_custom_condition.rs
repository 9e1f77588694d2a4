// Attack 1: a custom condition that closes the parenthesis it is written in.
// The typed surface has no node for SQL text: this does not compile.
use tenancy_sql::Select;
use tenancy_sql::sea_query::Expr;

fn main() {
    let _ = Select::from("leases").column("lessee").filter(Expr::cust("1=1) OR (1=1"));
}
