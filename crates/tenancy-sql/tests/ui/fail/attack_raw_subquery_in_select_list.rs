// Attack 2: a raw subquery hidden in a select-list expression.
use tenancy_sql::Select;
use tenancy_sql::sea_query::Expr;

fn main() {
    let _ = Select::new().expr_as(
        Expr::cust("/*'*/ (SELECT group_concat(lessee) FROM leases) /*'*/"),
        "x",
    );
}
